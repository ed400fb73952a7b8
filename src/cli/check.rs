//! `sxplan check`: validate flowsheets and report every problem at its line and column.

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_model::{check_sources, includes_of, render_sources, CheckOutput, Source};
use sxplan_report::check::{check_json, FlowsheetSummary};

use super::Exit;

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

/// One checked flowsheet: its name, its sources (name, text; main file first), the result.
type Checked = (String, Vec<(String, String)>, CheckOutput);

/// Reads a flowsheet and the files its `include` list names (relative to its directory).
pub(crate) fn read_with_includes(path: &Path) -> Result<Vec<(String, String)>, String> {
    let main = read_source(path)?;
    let dir = path.parent().unwrap_or_else(|| Path::new(""));
    let mut out = vec![(path.display().to_string(), main)];
    for inc in includes_of(&out[0].1) {
        let p = dir.join(&inc);
        let text =
            read_source(&p).map_err(|e| format!("{e} (included by `{}`)", path.display()))?;
        out.push((p.display().to_string(), text));
    }
    Ok(out)
}

/// Largest file `check` reads, in bytes.
const MAX_FILE_BYTES: u64 = sxplan_model::MAX_SOURCE_BYTES as u64;

/// Reads a flowsheet file as UTF-8 text, with a clean message for every failure.
pub(crate) fn read_source(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{shown}`: {}", io_reason(&e)))?;
    if meta.is_dir() {
        return Err(format!("cannot read `{shown}`: it is a directory"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "cannot read `{shown}`: {} bytes is more than the {MAX_FILE_BYTES}-byte limit for a flowsheet",
            meta.len()
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{shown}`: {}", io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        format!("`{shown}` is not valid UTF-8 (invalid byte at offset {at}); save the flowsheet as UTF-8 text")
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string().to_lowercase(),
    }
}

/// Runs `sxplan check`.
pub fn run(args: &CheckArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    if args.dot.is_some() && args.files.len() != 1 {
        let _ = writeln!(
            stderr,
            "error: --dot writes one graph; give exactly one flowsheet file"
        );
        return Exit::Usage;
    }
    let mut io_failed = false;
    let mut any_errors = false;
    let mut results: Vec<Checked> = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        match read_with_includes(path) {
            Ok(texts) => {
                let sources: Vec<Source<'_>> = texts
                    .iter()
                    .map(|(n, t)| Source { name: n, text: t })
                    .collect();
                let out = check_sources(&sources);
                any_errors |= out.error_count() > 0;
                results.push((name, texts, out));
            }
            Err(msg) => {
                let _ = writeln!(stderr, "error: {msg}");
                io_failed = true;
            }
        }
    }
    match args.format {
        CheckFormat::Json => {
            let files: Vec<(&str, &CheckOutput)> =
                results.iter().map(|(n, _, o)| (n.as_str(), o)).collect();
            let _ = writeln!(stdout, "{}", check_json(&files));
        }
        CheckFormat::Text => {
            for (name, texts, out) in &results {
                let sources: Vec<Source<'_>> = texts
                    .iter()
                    .map(|(n, t)| Source { name: n, text: t })
                    .collect();
                let _ = write!(stderr, "{}", render_sources(&sources, &out.diagnostics));
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
        for (name, _, out) in &results {
            let Some(fs) = &out.flowsheet else {
                continue;
            };
            match sxplan_graph::StageGraph::build(fs) {
                Ok(g) => {
                    if args.graph {
                        let _ = writeln!(
                            stdout,
                            "graph: {name}: {} stages, {} streams, {} recycle{}",
                            g.n_stages(),
                            g.n_streams(),
                            g.n_recycles(),
                            if g.n_recycles() == 1 { "" } else { "s" }
                        );
                    }
                    if let Some(dot) = &args.dot {
                        if let Err(e) = std::fs::write(dot, g.to_dot()) {
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
