//! `sxplan optimize FILE [--objective ...] [--format text|json] [--out DIR]`: successive-LP
//! optimization of a flowsheet's operating point; for a plant flowsheet (one with a mud feed) the
//! main job: check, simulate, optimize, plant summary, full report written to a folder it names.

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_model::{Flowsheet, Objective};
use sxplan_opt::{Backend, OptStatus};

use crate::api::{self, Optimization, OptimizeSettings};

use super::progress::{note_line, verbose_line, GlobalOpts, Progress};
use super::Exit;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable report.
    Text,
    /// Versioned JSON document.
    Json,
}

/// Objective named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "snake_case")]
pub enum ObjectiveArg {
    /// Maximize the free feed rates.
    MaxThroughput,
    /// Minimize reagent cost per hour.
    MinReagentCost,
    /// Maximize product value minus reagent and operating cost.
    MaxMargin,
}

/// Arguments of `sxplan optimize`.
#[derive(Debug, clap::Args)]
pub struct OptimizeArgs {
    /// Flowsheet file.
    pub file: PathBuf,
    /// Objective (overrides `[optimize] objective`).
    #[arg(long, value_enum)]
    pub objective: Option<ObjectiveArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Directory to write the full report into (optimized flowsheet `<name>.optimized.toml`,
    /// result.json, HTML/Markdown report, figures, and the plant summary for a plant flowsheet);
    /// default for a plant flowsheet (one with a mud feed): `reports/<name>/`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// LP backend (`clarabel`, or `highs` when built with the feature).
    #[arg(long, default_value = "clarabel")]
    pub backend: String,
    /// Maximum successive-LP passes (overrides `[optimize] max_passes`); at least 1.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_passes: Option<u64>,
    /// `--time-limit` (the whole run) / `--max-iterations` (chain iterations of each simulation).
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
    /// `--quiet` / `--verbose` (also accepted before the subcommand).
    #[command(flatten)]
    pub global: GlobalOpts,
}

use super::budget::clock;

/// Default report folder of a plant flowsheet (one with a mud feed): `reports/<stem>`.
fn default_report_dir(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or("flowsheet".into(), |s| s.to_string_lossy().into_owned());
    Path::new("reports").join(stem)
}

/// Runs `sxplan optimize`.
///
/// A plant flowsheet (one with a mud feed) is the main job: check, simulate the written point,
/// optimize, print the pass table and the plant summary, and write the full report to `--out DIR`
/// (default `reports/<stem>/`). Any other flowsheet writes its report only with `--out`.
pub fn run(args: &OptimizeArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let global = &args.global;
    let t_start = clock();
    let file = args.file.display().to_string();
    let Some(backend) = Backend::parse(&args.backend) else {
        let _ = writeln!(
            stderr,
            "error: unknown backend \"{}\" (clarabel, highs)",
            args.backend
        );
        return Exit::Usage;
    };
    let loaded = match super::check::load_flowsheet(&args.file, "optimize", global, stderr) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let Ok(fs) = loaded.flowsheet() else {
        return Exit::Failure;
    };
    let plant = api::is_plant(fs);
    let text = args.format == Format::Text;
    let stages: usize = fs.circuits.iter().map(|c| c.n_stages()).sum();
    if plant && text {
        let _ = writeln!(
            stdout,
            "check {file}: ok ({} circuits, {stages} stages, {} units, {} products)",
            fs.circuits.len(),
            fs.units.len(),
            fs.products.len()
        );
    }
    let dir = match (&args.out, plant) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => Some(default_report_dir(&args.file)),
        (None, false) => None,
    };
    let settings = OptimizeSettings {
        objective: args.objective.map(|o| match o {
            ObjectiveArg::MaxThroughput => Objective::MaxThroughput,
            ObjectiveArg::MinReagentCost => Objective::MinReagentCost,
            ObjectiveArg::MaxMargin => Objective::MaxMargin,
        }),
        max_passes: args.max_passes.and_then(|n| usize::try_from(n).ok()),
        backend,
        limits: args.budget.limits(),
        clock: Some(clock),
        // the written operating point, simulated by the product simulator
        simulate_written_point: plant && text,
        // the summary at the top of every report (specs, annual figures, costs, equipment),
        // the plant summary, and the report's profiles at the optimized point
        simulate_optimum: true,
    };
    let spinner = Progress::spinner(global, "optimize");
    spinner.message("successive LP");
    let run = api::optimize(fs, Some(loaded.main_text()), &settings);
    spinner.finish();
    let mut run = match run {
        Ok(r) => r,
        Err(api::Error::Optimization(e @ sxplan_opt::OptError::BackendUnavailable(_))) => {
            let _ = writeln!(stderr, "error: {e}");
            return Exit::Usage;
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: {file}: {e}");
            return Exit::Failure;
        }
    };
    match &run.written_point {
        Some(Ok(r)) => {
            let _ = writeln!(
                stdout,
                "simulate (written point): {}, mass balance closure {:.1e}",
                r.status.as_str(),
                r.mass_balance.max_relative_error
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(stdout, "simulate (written point): error: {e}");
        }
        None => {}
    }
    if let Some(t) = run.written_point_s {
        verbose_line(global, stderr, &format!("simulate: {t:.2} s"));
    }
    // a number that is not finite is not a result: an optimal point with one is not optimal
    if run.result.status == OptStatus::Optimal {
        let bad = super::guard::non_finite_paths_except(
            &sxplan_report::optimize::to_json(&fs.name, &run.result),
            super::guard::OPTIMIZE_MAY_BE_NULL,
        );
        let bad_text = super::guard::text_shows_non_finite(&sxplan_report::optimize::render_text(
            &fs.name,
            &run.result,
        ));
        if !bad.is_empty() || bad_text {
            run.result.status = OptStatus::SimulationFailed;
            let _ = writeln!(
                stderr,
                "error: {file}: the optimized point has numbers that are not finite ({}); status set to simulation_failed",
                if bad.is_empty() { "in the summary".to_string() } else { bad.join(", ") }
            );
        }
    }
    let result = &run.result;
    for p in &result.passes {
        verbose_line(
            global,
            stderr,
            &format!(
                "pass {}: objective {:.6}, step {:.2e}, max violation {:.2e}, optimality {:.2e}, {}, lp {} x {} {} in {}",
                p.pass,
                p.objective,
                p.step,
                p.max_violation,
                p.optimality,
                p.outcome.as_str(),
                p.lp_cols,
                p.lp_rows,
                p.lp_status.as_str(),
                p.lp_time_s.map_or("-".to_string(), |t| format!("{t:.3} s"))
            ),
        );
    }
    let out = match (args.format, &run.summary) {
        (Format::Text, Some(s)) => format!(
            "{}\n{}",
            sxplan_report::overview::render_text(s),
            sxplan_report::optimize::render_text(&fs.name, result)
        ),
        (Format::Text, None) => sxplan_report::optimize::render_text(&fs.name, result),
        (Format::Json, s) => {
            sxplan_report::optimize::render_json_with_summary(&fs.name, result, s.as_ref())
        }
    };
    let _ = write!(stdout, "{out}");
    let optimal = result.status == OptStatus::Optimal;
    if let Some(Err(e)) = &run.at_optimum {
        if plant || optimal {
            let _ = writeln!(stderr, "error: simulating the optimized point: {e}");
        }
    }
    if let (Some(s), true) = (&run.plant, text) {
        let _ = write!(stdout, "\n{}", sxplan_report::plant::render_text(s));
    }
    if let Some(dir) = dir {
        if !optimal {
            note_line(
                global,
                stderr,
                &format!(
                    "note: status {}: no optimized flowsheet written",
                    result.status.as_str()
                ),
            );
        } else {
            let written = write_report(dir.as_path(), args, fs, &run, stderr);
            match written {
                Ok(n) => {
                    let line = format!(
                        "report: wrote {n} files to {}/ (open {})",
                        dir.display(),
                        dir.join("report.html").display()
                    );
                    if text {
                        let _ = writeln!(stdout, "\n{line}");
                    } else {
                        let _ = writeln!(stderr, "{line}");
                    }
                }
                Err(e) => {
                    let _ = writeln!(stderr, "error: {e}");
                    return Exit::Usage;
                }
            }
        }
    }
    verbose_line(
        global,
        stderr,
        &format!("optimize: {:.2} s in total", clock() - t_start),
    );
    if optimal {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

/// Writes the full report of an optimal point into `dir` (through a temporary directory and a
/// rename): the optimized flowsheet `<stem>.optimized.toml`, `result.json` (the optimize JSON),
/// the report files of `sxplan_report` (HTML, Markdown, SVG figures, stage CSVs) and, for a plant,
/// `plant_summary.{txt,md,json}`. Returns the number of files.
fn write_report(
    dir: &Path,
    args: &OptimizeArgs,
    fs: &Flowsheet,
    run: &Optimization,
    stderr: &mut dyn Write,
) -> Result<usize, String> {
    let result = &run.result;
    let sim = run.at_optimum.as_ref().and_then(|r| r.as_ref().ok());
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "cannot create {}: it exists and is not a directory",
            dir.display()
        ));
    }
    let stem = args
        .file
        .file_stem()
        .map_or("flowsheet".into(), |s| s.to_string_lossy().into_owned());
    let mut files: Vec<(String, String)> = Vec::new();
    match &run.optimized_toml {
        Some(Ok(t)) => files.push((format!("{stem}.optimized.toml"), t.clone())),
        None => {}
        Some(Err(e)) => {
            let _ = writeln!(
                stderr,
                "warning: no {stem}.optimized.toml in the report: {e}"
            );
        }
    }
    files.push((
        "result.json".to_string(),
        sxplan_report::optimize::render_json_with_summary(&fs.name, result, run.summary.as_ref()),
    ));
    match sxplan_report::ReportInput::from_optimize(&fs.name, result, sim) {
        Ok(input) => {
            let mut input = input.with_provenance(&fs.data_used);
            if let Some(s) = &run.summary {
                input = input.with_summary(s.clone());
            }
            files.extend(sxplan_report::write_report_files(&input));
        }
        Err(e) => {
            let _ = writeln!(stderr, "warning: report pages not written: {e}");
        }
    }
    if let Some(s) = &run.plant {
        files.push((
            "plant_summary.txt".to_string(),
            sxplan_report::plant::render_text(s),
        ));
        files.push((
            "plant_summary.md".to_string(),
            sxplan_report::plant::render_markdown(s),
        ));
        files.push((
            "plant_summary.json".to_string(),
            serde_json::to_string_pretty(&sxplan_report::plant::to_json(s)).unwrap_or_default()
                + "\n",
        ));
    }
    super::output::write_report_dir(dir, &files)?;
    Ok(files.len())
}
