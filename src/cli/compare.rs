//! `sxplan compare A.json B.json [...] [--format text|markdown|html]`: what changed between
//! saved simulate or optimize results (operating point, products, purities, spec margins,
//! reagents, costs, equipment and organic inventory), with the delta of every case against
//! the first. Reads the documents the commands write (`--format json`, `DIR/result.json`);
//! the table is `sxplan_report::compare`. Exit codes: 0 printed; 1 a document is not a
//! readable simulate or optimize result; 2 usage or I/O error.

use std::io::Write;
use std::path::PathBuf;

use sxplan_report::MAX_RESULT_BYTES;

use crate::api::{read_capped, shown_path};

use super::Exit;

/// Output format of `sxplan compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// Aligned text.
    Text,
    /// A Markdown table.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

/// Arguments of `sxplan compare`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    sxplan simulate flowsheets/pr-nd.toml --format json > sim.json\n  \
    sxplan optimize flowsheets/pr-nd.toml --format json > opt.json\n  \
    sxplan compare sim.json opt.json --format markdown")]
pub struct CompareArgs {
    /// Result JSON files (simulate or optimize), the first being the base of the deltas.
    #[arg(required = true, num_args = 2.., value_name = "RESULT.json")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,
}

/// Runs `sxplan compare`.
pub fn run(args: &CompareArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let mut cases = Vec::new();
    for f in &args.files {
        let bytes = match read_capped(f, MAX_RESULT_BYTES, "a result document") {
            Ok(b) => b,
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return Exit::Usage;
            }
        };
        let doc: serde_json::Value = match String::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(stderr, "error: {}: not a JSON document: {e}", shown_path(f));
                return Exit::Failure;
            }
        };
        if doc.get("kind").and_then(|k| k.as_str()) == Some("design") {
            let _ = writeln!(
                stderr,
                "error: {}: a design result has no plant to compare (give simulate or optimize results)",
                shown_path(f)
            );
            return Exit::Failure;
        }
        cases.push((shown_path(f), doc));
    }
    let cmp = match sxplan_report::compare::compare(&cases) {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            // name the file instead of its position
            let named = msg
                .strip_prefix("document ")
                .and_then(|rest| rest.split_once(':'))
                .and_then(|(num, tail)| {
                    let i: usize = num.parse().ok()?;
                    Some(format!("{}:{tail}", cases.get(i.checked_sub(1)?)?.0))
                })
                .unwrap_or(msg);
            let _ = writeln!(stderr, "error: {named}");
            return Exit::Failure;
        }
    };
    let out = match args.format {
        CompareFormat::Text => sxplan_report::compare::render_text(&cmp),
        CompareFormat::Markdown => sxplan_report::compare::render_markdown(&cmp),
        CompareFormat::Html => sxplan_report::compare::render_html(&cmp),
    };
    if let Err(e) = stdout.write_all(out.as_bytes()) {
        let _ = writeln!(stderr, "error: writing the comparison: {e}");
        return Exit::Usage;
    }
    Exit::Ok
}
