//! sxplan-model: the TOML flowsheet language: parse with spans, lower to a validated
//! [`Flowsheet`], and report every problem as a located [`Diagnostic`].
//!
//! No I/O: callers pass the source text and get data back.

pub mod flowsheet;

pub use flowsheet::*;
