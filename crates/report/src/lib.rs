//! sxplan-report: renderers for sxplan results (versioned JSON, CSV, Markdown, SVG).
//!
//! One module per kind of result; renderers are pure functions from result data to text.

pub mod check;
pub mod design;
pub mod optimize;
pub mod simulate;
