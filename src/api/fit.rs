//! `fit`: shake-out data (CSV text) to a fitted equilibrium model, with every failure as the
//! located, rendered message the CLI prints and the Python package raises (docs/fit.md).

use sxplan_fit::{FitError, FitOptions, FitResult};

/// A fit that was refused: the data are malformed or cannot identify a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitRefused {
    /// The message, rendered like the flowsheet diagnostics (`error: ...`, `--> FILE:LINE:COL`,
    /// the line, a caret, `= help: ...`), ending in a newline.
    pub rendered: String,
    /// 1-based line of the data the problem is at, when it is at one.
    pub line: Option<usize>,
}

impl std::fmt::Display for FitRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.rendered.trim_end())
    }
}

impl std::error::Error for FitRefused {}

/// Byte offset of the start of 1-based `line` of `text`.
fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(text.len(), |(i, _)| i + 1)
}

fn located(
    name: &str,
    text: &str,
    span: std::ops::Range<usize>,
    message: String,
    help: Option<String>,
    line: usize,
) -> FitRefused {
    FitRefused {
        rendered: sxplan_model::diagnostic::render_error(name, text, span, message, help),
        line: Some(line),
    }
}

/// Reads the measurements of `text` (the CSV named `name` in messages) and fits them.
pub fn fit_data(name: &str, text: &str, options: &FitOptions) -> Result<FitResult, FitRefused> {
    let rows = sxplan_fit::data::parse_csv(text).map_err(|e| {
        let line = e.line;
        located(name, text, e.span, e.message, e.help, line)
    })?;
    sxplan_fit::fit(&rows, options).map_err(|e| {
        let help = e.help().map(str::to_string);
        match e {
            FitError::BadRow { line, message, .. } => {
                let at = line_start(text, line);
                located(name, text, at..at, message, help, line)
            }
            e => {
                let mut rendered = format!("error: {name}: {e}\n");
                if let Some(h) = help {
                    rendered.push_str(&format!("  = help: {h}\n"));
                }
                FitRefused {
                    rendered,
                    line: None,
                }
            }
        }
    })
}

/// The fit document (`fit.json`, `sxplan fit --format json`) of `result`, fitted from the data
/// named `name`.
pub fn fit_json(result: &FitResult, name: &str) -> String {
    sxplan_report::fit::to_json(result, name)
}
