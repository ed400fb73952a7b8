//! `sxplan simulate FILE [--format text|json] [--out DIR]`: steady-state simulation of a flowsheet.
//!
//! Reads the flowsheet with the files it includes and checks them (diagnostics go to stderr),
//! simulates it, and prints a text summary or the versioned JSON result on stdout. With
//! `--out DIR` it also writes the report into DIR: `report.html` (self-contained), `report.md`,
//! SVG figures, `stages_<circuit>.csv`, `streams.csv`, `flowsheet.dot` and `result.json` (the
//! JSON result, which `sxplan report DIR/result.json` re-renders). The files are written into
//! a temporary directory first and moved into place when all are complete, so a failed run
//! leaves no half-written report. A simulation that did not converge writes no report (its text
//! or JSON result with the status and residuals is still printed), says so, and exits 1.
//!
//! Exit codes: 0 converged; 1 the flowsheet has errors (invalid UTF-8 included), the simulator
//! refused it, or the simulation did not converge; 2 usage or I/O errors (unreadable file,
//! unwritable `--out`).

use std::io::Write;
use std::path::PathBuf;

use sxplan_report::simulate as render;
use sxplan_sim::SolveStatus;

use crate::api::{self, SimulateSettings};

use super::progress::{note_line, verbose_line, GlobalOpts, Progress};
use super::Exit;

/// Output format of `sxplan simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulateFormat {
    /// A readable summary.
    Text,
    /// The versioned JSON result (see docs/simulate-json.md).
    Json,
}

/// Arguments of `sxplan simulate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    sxplan simulate flowsheets/pr-nd.toml\n  \
    sxplan simulate flowsheets/pr-nd.toml --format json > result.json\n  \
    sxplan simulate flowsheets/pr-nd.toml --out report/   (then open report/report.html)")]
pub struct SimulateArgs {
    /// Flowsheet file (files it names in `include = [...]` are read too).
    pub file: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SimulateFormat,
    /// Directory to write the report into: report.html, report.md, SVG figures, CSV stage
    /// profiles and stream table, flowsheet.dot and result.json (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Solve with the independent cross-check algorithm (successive substitution) instead of Newton.
    #[arg(long)]
    pub substitution: bool,
    /// `--time-limit`, `--max-iterations`.
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
}

/// Runs `sxplan simulate`.
pub fn run(
    args: &SimulateArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    let name = args.file.display().to_string();
    let loaded = match super::check::load_flowsheet(&args.file, "simulate", global, stderr) {
        Ok(l) => l,
        Err(exit) => return exit,
    };
    let Ok(flowsheet) = loaded.flowsheet() else {
        return Exit::Failure;
    };
    let mut settings = SimulateSettings {
        algorithm: if args.substitution {
            sxplan_sim::Algorithm::Substitution
        } else {
            sxplan_sim::Algorithm::Newton
        },
        limits: args.budget.limits(),
        clock: Some(super::budget::clock),
        progress: None,
    };
    let summary = format!(
        "{}: {} circuit(s), {} stages",
        flowsheet.name,
        flowsheet.circuits.len(),
        flowsheet.total_stages()
    );
    verbose_line(global, stderr, &format!("simulating {summary}"));
    // the simulator reports no intermediate progress: a spinner says what runs and since when
    let progress = Progress::spinner(global, "simulate");
    progress.message(summary);
    settings.progress = progress.recycle_hook();
    let started = std::time::Instant::now();
    let result = api::simulate(flowsheet, &settings);
    progress.finish();
    let mut result = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(stderr, "error: {name}: {e}");
            return Exit::Failure;
        }
    };
    // a number that is not finite is not a result: the run is diverged, whatever the solver said
    let bad = serde_json::to_value(&result)
        .map(|v| super::guard::non_finite_paths(&v))
        .unwrap_or_default();
    let bad_text = super::guard::text_shows_non_finite(&render::to_text(&result));
    if !bad.is_empty() || bad_text {
        result.status = SolveStatus::Diverged;
        let _ = writeln!(
            stderr,
            "error: {name}: the simulation produced numbers that are not finite ({}); status set to diverged",
            if bad.is_empty() { "in the summary".to_string() } else { bad.join(", ") }
        );
    }
    verbose_line(
        global,
        stderr,
        &format!(
            "simulated in {:.2} s: {}, {} recycle iteration(s), {} chain iteration(s) ({})",
            started.elapsed().as_secs_f64(),
            result.status,
            result.iterations,
            result.diagnostics.chain_iterations,
            result.diagnostics.algorithm
        ),
    );
    for c in &result.diagnostics.budget.circuits {
        verbose_line(
            global,
            stderr,
            &format!(
                "  circuit {}: {} solve(s), {} iteration(s)",
                c.name, c.solves, c.iterations
            ),
        );
    }
    // the top of every report: specs, annual figures, costs, equipment (docs/simulate-json.md)
    let summary = api::overview(flowsheet, &result, None);
    let text = match args.format {
        SimulateFormat::Text => format!(
            "{}\n{}",
            sxplan_report::overview::render_text(&summary),
            render::to_text(&result)
        ),
        SimulateFormat::Json => {
            let mut j = render::to_json_with_summary(&result, Some(&summary));
            j.push('\n');
            j
        }
    };
    if let Err(e) = stdout.write_all(text.as_bytes()) {
        let _ = writeln!(stderr, "error: writing the result: {e}");
        return Exit::Usage;
    }
    let converged = result.status == SolveStatus::Converged;
    if let (Some(dir), false) = (&args.out, converged) {
        let _ = writeln!(
            stderr,
            "note: no report written to {}: the simulation did not converge",
            dir.display()
        );
    }
    if let (Some(dir), true) = (&args.out, converged) {
        let input = match sxplan_report::ReportInput::from_sim(&result) {
            Ok(i) => i
                .with_provenance(&flowsheet.data_used)
                .with_summary(summary.clone()),
            Err(e) => {
                let _ = writeln!(stderr, "error: {name}: {e}");
                return Exit::Failure;
            }
        };
        let mut files = sxplan_report::write_report_files(&input);
        files.push((
            "result.json".to_string(),
            render::to_json_with_summary(&result, Some(&summary)) + "\n",
        ));
        if let Err(e) = super::output::write_report_dir(dir, &files) {
            let _ = writeln!(stderr, "error: {e}");
            return Exit::Usage;
        }
        // stdout holds the result (JSON must stay parseable): the note goes to stderr
        note_line(
            global,
            stderr,
            &format!(
                "note: wrote the report ({} files) to {}; open {}",
                files.len(),
                dir.display(),
                dir.join("report.html").display()
            ),
        );
    }
    // why a circuit has no physical steady state, with the budget's numbers (docs/ph.md)
    for line in &result.diagnostics.acid_base {
        let _ = writeln!(stderr, "error: {name}: {line}");
    }
    if converged {
        Exit::Ok
    } else if result.status == SolveStatus::Infeasible {
        let _ = writeln!(
            stderr,
            "error: {name}: no physical steady state (infeasible): see the diagnosis above (docs/ph.md)"
        );
        Exit::Failure
    } else {
        let _ = writeln!(
            stderr,
            "error: {name}: the simulation did not converge ({}; max stage residual {:.2e}, recycle residual {:.2e})",
            result.status, result.diagnostics.max_stage_residual, result.diagnostics.recycle_residual
        );
        Exit::Failure
    }
}
