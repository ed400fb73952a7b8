//! `sxplan check`: validate flowsheets and report every problem at its line and column.

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_model::CheckOutput;
use sxplan_report::check::{check_json, FlowsheetSummary};

use super::progress::{verbose_line, GlobalOpts};
use super::Exit;
use crate::api::{self, io_reason, LoadError, Loaded};

/// Output format of `sxplan check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// rustc-style diagnostics on stderr, one summary line per file on stdout.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Arguments of `sxplan check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Flowsheet file(s).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Also print the size of the stage graph (stages, streams, recycles) of each clean file.
    #[arg(long)]
    pub graph: bool,
    /// Write the stage graph as Graphviz DOT to this file (one flowsheet only).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
}

/// The exit status a load error leads to: 2 when a file cannot be read, 1 for an error in
/// the input (not UTF-8, a refused include).
pub(crate) fn load_exit(e: &LoadError) -> Exit {
    match e {
        LoadError::Input { .. } => Exit::Failure,
        _ => Exit::Usage,
    }
}

/// Writes a load error to `stderr`: one line for I/O, the located diagnostic for the input.
pub(crate) fn write_load_error(e: &LoadError, stderr: &mut dyn Write) {
    match e {
        LoadError::Input { rendered, .. } => {
            let _ = write!(stderr, "{rendered}");
        }
        _ => {
            let _ = writeln!(stderr, "error: {e}");
        }
    }
}

/// Reads `path` with its included files and checks them together, for `simulate`, `design`,
/// `optimize`, `report --flowsheet` and `scenarios`. Writes every diagnostic (warnings too) to
/// `stderr` and returns the checked flowsheet. On failure the message is already written and
/// the `Err` is the exit status: 2 when a file cannot be read, 1 when the input has errors
/// (`error: could not <verb> `FILE`: N errors`).
pub(crate) fn load_flowsheet(
    path: &Path,
    verb: &str,
    global: &GlobalOpts,
    stderr: &mut dyn Write,
) -> Result<Loaded, Exit> {
    let loaded = api::load_path(path, &global.include_policy()).map_err(|e| {
        write_load_error(&e, stderr);
        load_exit(&e)
    })?;
    let _ = write!(stderr, "{}", loaded.render());
    let name = path.display().to_string();
    verbose_line(
        global,
        stderr,
        &format!(
            "read {name}{}: {} error(s), {} warning(s)",
            match loaded.sources.len() {
                1 => String::new(),
                n => format!(" and {} included file(s)", n - 1),
            },
            loaded.error_count(),
            loaded.warning_count()
        ),
    );
    if loaded.flowsheet().is_ok() {
        Ok(loaded)
    } else {
        let e = loaded.error_count();
        let _ = writeln!(
            stderr,
            "error: could not {verb} `{name}`: {e} error{}",
            if e == 1 { "" } else { "s" }
        );
        Err(Exit::Failure)
    }
}

/// Runs `sxplan check`.
pub fn run(
    args: &CheckArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    if args.dot.is_some() && args.files.len() != 1 {
        let _ = writeln!(
            stderr,
            "error: --dot writes one graph; give exactly one flowsheet file"
        );
        return Exit::Usage;
    }
    let mut io_failed = false;
    let mut any_errors = false;
    let mut results: Vec<Loaded> = Vec::new();
    for path in &args.files {
        match api::load_path(path, &global.include_policy()) {
            Ok(loaded) => {
                any_errors |= loaded.error_count() > 0;
                results.push(loaded);
            }
            Err(e) => {
                write_load_error(&e, stderr);
                match load_exit(&e) {
                    Exit::Usage => io_failed = true,
                    _ => any_errors = true,
                }
            }
        }
    }
    match args.format {
        CheckFormat::Json => {
            let files: Vec<(&str, &CheckOutput)> = results
                .iter()
                .map(|l| (l.name.as_str(), &l.check))
                .collect();
            let _ = writeln!(stdout, "{}", check_json(&files));
        }
        CheckFormat::Text => {
            for loaded in &results {
                let (name, out) = (&loaded.name, &loaded.check);
                let _ = write!(stderr, "{}", loaded.render());
                match &out.flowsheet {
                    Some(fs) => {
                        let warn = match out.warning_count() {
                            0 => String::new(),
                            1 => ", 1 warning".to_string(),
                            n => format!(", {n} warnings"),
                        };
                        let _ = writeln!(
                            stdout,
                            "ok: {name}: {}{warn}",
                            FlowsheetSummary::of(fs).line()
                        );
                    }
                    None => {
                        let _ = writeln!(stderr, "{}", failure_line(name, out));
                    }
                }
            }
        }
    }
    if args.graph || args.dot.is_some() {
        for loaded in &results {
            let name = &loaded.name;
            let Some(fs) = &loaded.check.flowsheet else {
                continue;
            };
            match api::graph(fs) {
                Ok(g) => {
                    if args.graph {
                        let _ = writeln!(
                            stdout,
                            "graph: {name}: {} stages, {} streams, {} recycle{}",
                            g.stages,
                            g.streams,
                            g.recycles,
                            if g.recycles == 1 { "" } else { "s" }
                        );
                    }
                    if let Some(dot) = &args.dot {
                        if let Err(e) = std::fs::write(dot, &g.dot) {
                            let _ = writeln!(
                                stderr,
                                "error: cannot write `{}`: {}",
                                dot.display(),
                                io_reason(&e)
                            );
                            io_failed = true;
                        }
                    }
                }
                Err(e) => {
                    let _ = writeln!(stderr, "error: {name}: cannot build the stage graph: {e}");
                    any_errors = true;
                }
            }
        }
    }
    verbose_line(
        global,
        stderr,
        &format!("checked {} flowsheet(s)", args.files.len()),
    );
    if io_failed {
        Exit::Usage
    } else if any_errors {
        Exit::Failure
    } else {
        Exit::Ok
    }
}

/// `error: could not check `x.toml`: 3 errors, 1 warning`.
pub(crate) fn failure_line(name: &str, out: &CheckOutput) -> String {
    let e = out.error_count();
    let w = out.warning_count();
    let mut s = format!(
        "error: could not check `{name}`: {e} error{}",
        if e == 1 { "" } else { "s" }
    );
    if w > 0 {
        s.push_str(&format!(", {w} warning{}", if w == 1 { "" } else { "s" }));
    }
    s
}
