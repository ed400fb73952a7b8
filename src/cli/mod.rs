//! The command-line interface: argument parsing and dispatch to one module per subcommand.
//!
//! Everything here is callable in-process through [`run`], so tests drive the CLI without
//! spawning a process. This is the only layer that touches files, the terminal, the
//! environment and the clock.

use std::io::Write;

use clap::{Parser, Subcommand};

mod budget;
mod check;
mod compare;
mod design;
mod fit;
pub mod guard;
mod optimize;
mod output;
pub mod progress;
mod report;
mod scenarios;
mod simulate;
mod sweep;
mod synthesize;

/// Process exit status, mapped to the exit codes documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything ran and the result is good.
    Ok,
    /// 1: the flowsheet has errors, the plan is infeasible, or a solve did not converge.
    Failure,
    /// 2: usage error or I/O failure.
    Usage,
}

impl Exit {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "sxplan",
    version,
    about = "Plan rare-earth solvent-extraction separation plants",
    long_about = "Check, simulate, design and optimize solvent-extraction flowsheets written in TOML."
)]
struct Cli {
    #[command(flatten)]
    global: progress::GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate flowsheets and report every problem at its line and column.
    Check(check::CheckArgs),
    /// Solve the steady state of a flowsheet stage by stage.
    Simulate(simulate::SimulateArgs),
    /// Size a split from cascade theory and confirm it with the rigorous simulator.
    Design(design::DesignArgs),
    /// Choose operating flows that maximize throughput or margin, or minimize reagent cost.
    Optimize(optimize::OptimizeArgs),
    /// Re-render a saved result (JSON) as HTML, Markdown, CSV and SVG.
    Report(report::ReportArgs),
    /// Run a plant flowsheet over mud rates, grades and price sets and compare the plant summaries.
    Scenarios(scenarios::ScenariosArgs),
    /// Choose the order of cuts that splits a mixed feed into its products, ranked by stages or reagent.
    Synthesize(synthesize::SynthesizeArgs),
    /// Compare saved simulate or optimize results: what changed, with deltas.
    Compare(compare::CompareArgs),
    /// Fit the empirical or mass-action model to batch shake-out data (D against pH).
    Fit(fit::FitArgs),
    /// Monte Carlo over uncertain data and prices: the odds that each product meets its spec.
    Sweep(sweep::SweepArgs),
    /// Combine the sample files of a sharded sweep into its aggregates and report.
    Merge(sweep::MergeArgs),
}

/// Runs the CLI with `args` (including the program name), writing to `stdout` and `stderr`.
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let is_info = matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            );
            let rendered = e.render().to_string();
            if is_info {
                let _ = write!(stdout, "{rendered}");
                return Exit::Ok;
            }
            let _ = write!(stderr, "{rendered}");
            return Exit::Usage;
        }
    };
    match cli.command {
        Command::Check(a) => check::run(&a, &cli.global, stdout, stderr),
        Command::Simulate(a) => simulate::run(&a, &cli.global, stdout, stderr),
        Command::Design(a) => design::run(&a, &cli.global, stdout, stderr),
        Command::Optimize(a) => optimize::run(&a, stdout, stderr),
        Command::Report(a) => report::run(&a, &cli.global, stdout, stderr),
        Command::Scenarios(a) => scenarios::run(&a, stdout, stderr),
        Command::Synthesize(a) => synthesize::run(&a, &cli.global, stdout, stderr),
        Command::Compare(a) => compare::run(&a, stdout, stderr),
        Command::Fit(a) => fit::run(&a, stdout, stderr),
        Command::Sweep(a) => sweep::run(&a, stdout, stderr),
        Command::Merge(a) => sweep::run_merge(&a, stdout, stderr),
    }
}
