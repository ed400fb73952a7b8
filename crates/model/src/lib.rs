//! sxplan-model: the TOML flowsheet language: parse with spans, lower to a validated
//! [`Flowsheet`], and report every problem as a located [`Diagnostic`].
//!
//! No I/O: callers pass the source text and get data back.
//!
//! ```
//! let src = r#"
//! schema = 1
//! name = "demo"
//!
//! [[feed]]
//! name = "liquor"
//! flow = "1 m3/h"
//! conc = { Pr = "0.25 mol/L", Nd = "0.75 mol/L" }
//! to = "PrNd.feed"
//!
//! [[circuit]]
//! name = "PrNd"
//! sections = [{ kind = "extraction", stages = 24 }, { kind = "scrub", stages = 21 }]
//! organic = { extractant = "P507", conc = "1.5 mol/L", flow = "3 m3/h" }
//! scrub = { acid = "HCl", conc = "4 mol/L", flow = "0.3 m3/h" }
//! equilibrium = { model = "distribution", d = { Pr = 0.8, Nd = 1.2 }, quality = "illustrative" }
//! "#;
//! let out = sxplan_model::check_str(src);
//! assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
//! let fs = out.flowsheet.unwrap();
//! assert_eq!(fs.circuits[0].n_stages(), 45);
//! assert_eq!(fs.circuits[0].feed_points[0].stage, 24); // default: last extraction stage
//! ```

pub mod diagnostic;
mod extractants;
pub mod flowsheet;
mod lower;
mod parse;
mod read;

pub use diagnostic::{codes, render_text, Diagnostic, Severity};
pub use flowsheet::*;

use serde::Serialize;

/// Largest flowsheet source accepted, in bytes (a flowsheet is a few kilobytes).
pub const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// What checking one flowsheet source produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutput {
    /// The lowered flowsheet, present exactly when there is no error (warnings allowed).
    pub flowsheet: Option<Flowsheet>,
    /// Every problem found, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckOutput {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Parses, validates and lowers a flowsheet written in TOML. Collects every problem.
pub fn check_str(src: &str) -> CheckOutput {
    let mut cx = read::Cx::new(src);
    let flowsheet = check_inner(&mut cx);
    let truncated = cx.truncated;
    let mut diagnostics = cx.diags;
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.severity, a.code, &a.message).cmp(&(
            b.span.start,
            b.severity,
            b.code,
            &b.message,
        ))
    });
    diagnostics.dedup();
    if truncated {
        diagnostics.push(Diagnostic::unplaced(
            Severity::Error,
            codes::TOO_LARGE,
            format!(
                "more than {} problems; only the first {} are listed",
                read::MAX_DIAGNOSTICS,
                read::MAX_DIAGNOSTICS
            ),
            src.len()..src.len(),
            Some("fix these and check again".into()),
        ));
    }
    diagnostic::fill_positions(src, &mut diagnostics);
    let flowsheet = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        flowsheet
    };
    CheckOutput {
        flowsheet,
        diagnostics,
    }
}

fn check_inner(cx: &mut read::Cx<'_>) -> Option<Flowsheet> {
    let src = cx.src;
    if src.len() > MAX_SOURCE_BYTES {
        cx.error(
            codes::TOO_LARGE,
            format!(
                "the file is {} bytes; flowsheets are limited to {MAX_SOURCE_BYTES} bytes",
                src.len()
            ),
            0..0,
            Some("split the plant into smaller flowsheets".into()),
        );
        return None;
    }
    let (root, errors) = toml::de::DeTable::parse_recoverable(src);
    if !errors.is_empty() {
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            let msg = e.message().trim().to_lowercase();
            let msg = msg.trim_end_matches('.').to_string();
            cx.error(
                codes::SYNTAX,
                format!("invalid TOML: {msg}"),
                span,
                Some("see https://toml.io for the syntax".into()),
            );
        }
        return None;
    }
    let root_tbl = read::Tbl::new(root.get_ref(), 0..0, "the flowsheet");
    let doc = parse::parse_doc(cx, &root_tbl)?;
    lower::lower(cx, &doc)
}
