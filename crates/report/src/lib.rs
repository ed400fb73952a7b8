//! sxplan-report: renderers for sxplan results (versioned JSON, CSV, Markdown, HTML, SVG).
//!
//! One module per kind of result for its JSON and text ([`simulate`], [`design`], [`optimize`],
//! [`check`]); the report modules turn any mix of results into a self-contained `report.html`,
//! `report.md`, SVG figures, CSV tables and a Graphviz DOT flowsheet ([`write_report_files`]).
//! Renderers are pure functions from result data to text; the CLI decides where text goes.
//!
//! ```
//! use sxplan_report::{html_report, markdown_report, ReportInput};
//! let doc = serde_json::json!({
//!     "schema_version": 1, "kind": "design", "key_a": "A", "key_b": "B",
//!     "feed_phase": "aqueous", "sep_factor": 2.0, "sep_factor_scrub": 2.0, "x_a": 0.5,
//!     "purity_a_spec": 0.999, "purity_b_spec": 0.9999, "control": "scrub",
//!     "e_m": 0.773775, "e_prime_m": 1.414214, "s": 1.708645, "w": 1.208194,
//!     "w_min": 0.997898, "w_over_w_min": 1.2107, "n_min_fenske": 23.24,
//!     "status": "found", "n": 24, "m": 21
//! });
//! let input = ReportInput::from_documents(&[doc])?;
//! assert!(markdown_report(&input).contains("# sxplan report: cut A | B"));
//! assert!(html_report(&input).contains("<svg"));
//! # Ok::<(), sxplan_report::ReportError>(())
//! ```

pub mod charts;
pub mod check;
pub mod compare;
pub mod csv;
pub mod design;
pub mod doc;
pub mod fit;
pub mod flowdiagram;
pub mod input;
pub mod mccabe;
pub mod optimize;
pub mod overview;
pub mod plant;
pub mod simulate;
pub mod sweep;
pub mod synthesis;

pub use input::{ReportError, ReportInput, ResultKind, MAX_RESULT_BYTES};

/// The self-contained HTML report (inline CSS and SVG; opens offline).
pub fn html_report(input: &ReportInput) -> String {
    doc::to_html(&doc::build(input))
}

/// The Markdown report; its figures are linked as the SVG files [`write_report_files`] writes.
pub fn markdown_report(input: &ReportInput) -> String {
    doc::to_markdown(&doc::build(input))
}

/// Every file of a report directory as `(file name, contents)`, in a fixed order:
/// `report.html`, `report.md`, the SVG figures, `stages_<circuit>.csv` per circuit and
/// `streams.csv` (with a simulation), `flowsheet.dot` (with a simulation). File names are
/// plain (no directories). The caller writes them, e.g. to a temporary directory renamed when
/// complete.
pub fn write_report_files(input: &ReportInput) -> Vec<(String, String)> {
    let report = doc::build(input);
    let mut files = vec![
        ("report.html".to_string(), doc::to_html(&report)),
        ("report.md".to_string(), doc::to_markdown(&report)),
    ];
    for f in &report.figures {
        files.push((f.file.clone(), f.svg.clone()));
    }
    if let Some(sim) = &input.sim {
        for c in &sim.circuits {
            files.push((
                format!("stages_{}.csv", doc::safe_name(&c.name)),
                csv::stage_profile_csv(sim, c),
            ));
        }
        files.push(("streams.csv".to_string(), csv::streams_csv(sim)));
    }
    if let Some(dot) = report.dot {
        files.push(("flowsheet.dot".to_string(), dot));
    }
    files
}
