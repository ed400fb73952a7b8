//! `sxplan report RESULT.json... [--out DIR] [--flowsheet FILE]`: re-render saved results as a
//! self-contained report.html, report.md, SVG figures, CSV tables and flowsheet.dot.
//!
//! Takes one or more JSON documents written by `simulate`, `design` or `optimize` (at most one of
//! each kind, recognised by their shape) and renders them into one report. Without `--out` the
//! Markdown report goes to stdout. With `--out DIR` the complete set is written beside DIR and
//! then swapped in as a whole directory (`output.rs`), so a failed run leaves DIR as it was. `--flowsheet FILE` adds the data provenance of the flowsheet.
//! Exit codes: 0 written; 1 a document is not a readable result (not UTF-8, not JSON, not an
//! sxplan result, a schema version this build does not read) or the flowsheet has errors;
//! 2 usage or I/O error.

use std::io::Write;
use std::path::PathBuf;

use sxplan_report::{write_report_files, ReportInput, MAX_RESULT_BYTES};

use crate::api::{read_capped, shown_path};

use super::progress::{verbose_line, GlobalOpts};
use super::Exit;

/// Arguments of `sxplan report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    sxplan simulate flowsheets/pr-nd.toml --format json > sim.json && sxplan report sim.json --out rep/\n  \
    sxplan report opt.json sim.json --flowsheet flowsheets/pr-nd.toml --out rep/")]
pub struct ReportArgs {
    /// Result JSON files (from simulate, design or optimize; at most one of each).
    #[arg(required = true, value_name = "RESULT.json")]
    pub files: Vec<PathBuf>,
    /// Directory to write report.html, report.md, SVGs, CSVs and flowsheet.dot into.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Flowsheet the results came from, to list the data it uses and their sources.
    #[arg(long, value_name = "FILE")]
    pub flowsheet: Option<PathBuf>,
}

/// Runs `sxplan report`.
pub fn run(
    args: &ReportArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    match run_inner(args, global, stdout, stderr) {
        Ok(()) => Exit::Ok,
        Err((exit, msg)) => {
            if !msg.is_empty() {
                let _ = writeln!(stderr, "error: {msg}");
            }
            exit
        }
    }
}

type CliResult<T> = Result<T, (Exit, String)>;

fn run_inner(
    args: &ReportArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> CliResult<()> {
    let mut docs = Vec::new();
    for f in &args.files {
        let bytes =
            read_capped(f, MAX_RESULT_BYTES, "a result document").map_err(|e| (Exit::Usage, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            super::check::write_load_error(
                &crate::api::utf8_error(&shown_path(f), e.as_bytes(), at),
                stderr,
            );
            (Exit::Failure, String::new())
        })?;
        verbose_line(global, stderr, &format!("read {}", f.display()));
        let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            (
                Exit::Failure,
                format!("{}: not valid JSON: {e}", shown_path(f)),
            )
        })?;
        docs.push(doc);
    }
    let mut input = ReportInput::from_documents(&docs).map_err(|e| {
        let msg = e.to_string();
        // name the file instead of its position
        let named = match msg.strip_prefix("document ") {
            Some(rest) => {
                let (num, tail) = rest.split_once(':').unwrap_or((rest, ""));
                let file = num
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| args.files.get(i.wrapping_sub(1)))
                    .map_or_else(|| format!("document {num}"), |p| p.display().to_string());
                format!("{file}:{tail}")
            }
            None => msg,
        };
        (Exit::Failure, named)
    })?;
    if let Some(fs) = &args.flowsheet {
        let flowsheet = super::check::load_flowsheet(fs, "read", global, stderr)
            .map_err(|exit| (exit, String::new()))?;
        if let Ok(fs) = flowsheet.flowsheet() {
            input = input.with_provenance(&fs.data_used);
        }
    }
    let files = write_report_files(&input);
    match &args.out {
        None => {
            let md = files
                .iter()
                .find(|(n, _)| n == "report.md")
                .map_or("", |(_, t)| t.as_str());
            stdout
                .write_all(md.as_bytes())
                .map_err(|e| (Exit::Usage, format!("writing the report: {e}")))?;
        }
        Some(dir) => {
            super::output::write_report_dir(dir, &files).map_err(|e| (Exit::Usage, e))?;
            let _ = writeln!(
                stdout,
                "wrote {} files to {} (open {})",
                files.len(),
                dir.display(),
                dir.join("report.html").display()
            );
        }
    }
    Ok(())
}
