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

pub mod acid_budget;
pub mod diagnostic;
mod extractants;
pub mod flowsheet;
pub mod keys;
mod limits;
mod lower;
pub mod operating;
mod parse;
mod reach;
mod read;
pub mod sweep;

pub use diagnostic::{codes, render_sources, render_text, Diagnostic, Severity};
pub use flowsheet::*;
pub use limits::{plausible, Limits, Plausible};
pub use operating::{OperatingError, OperatingVar, OperatingVarKind};

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
/// Applies the default [`Limits`].
pub fn check_str(src: &str) -> CheckOutput {
    check_str_with(src, &Limits::DEFAULT)
}

/// [`check_str`] with caller-chosen size [`Limits`] (a flowsheet over a limit gets `E0004`).
pub fn check_str_with(src: &str, limits: &Limits) -> CheckOutput {
    let mut cx = read::Cx::new(src);
    cx.limits = *limits;
    let flowsheet = check_inner(&mut cx);
    finish(cx, flowsheet, |diags| {
        diagnostic::fill_positions(src, diags)
    })
}

/// One source text: the main flowsheet or a file it includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a> {
    /// Name shown in diagnostics (usually the path).
    pub name: &'a str,
    /// The TOML text.
    pub text: &'a str,
}

/// The file names a flowsheet includes (`include = ["circuits.toml", ...]`), in order, so
/// the caller (the CLI) can read them; empty when there are none or the key is malformed
/// (then [`check_sources`] reports why).
pub fn includes_of(main: &str) -> Vec<String> {
    include_entries(main).into_iter().map(|e| e.path).collect()
}

/// One entry of a flowsheet's `include` list: the file name as written and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeEntry {
    /// The file name as written, relative to the directory of the including file.
    pub path: String,
    /// Byte range of the string literal in the main file.
    pub span: std::ops::Range<usize>,
}

/// [`includes_of`] with the place of each entry, so a caller that refuses one (a file outside
/// the project, a FIFO) can say where it is named.
pub fn include_entries(main: &str) -> Vec<IncludeEntry> {
    if main.len() > MAX_SOURCE_BYTES {
        return Vec::new();
    }
    let (root, _) = toml::de::DeTable::parse_recoverable(main);
    let Some(v) = root.get_ref().get("include") else {
        return Vec::new();
    };
    match v.get_ref() {
        toml::de::DeValue::Array(a) => a
            .iter()
            .filter_map(|x| {
                x.get_ref().as_str().map(|s| IncludeEntry {
                    path: s.to_string(),
                    span: x.span(),
                })
            })
            .take(parse::MAX_INCLUDES)
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks a flowsheet made of a main file (`sources[0]`) and the files it includes, in the
/// order of its `include` list. Included files hold tables only (`[[circuit]]`, `[[link]]`,
/// ...): they are read as if appended to the main file, and every diagnostic names the file
/// it is in ([`Diagnostic::file`]). Applies the default [`Limits`].
pub fn check_sources(sources: &[Source<'_>]) -> CheckOutput {
    check_sources_with(sources, &Limits::DEFAULT)
}

/// [`check_sources`] with caller-chosen size [`Limits`].
pub fn check_sources_with(sources: &[Source<'_>], limits: &Limits) -> CheckOutput {
    let Some(main) = sources.first() else {
        return check_str_with("", limits);
    };
    if sources.len() == 1 {
        return check_str_with(main.text, limits);
    }
    // Included files must hold tables only; others are reported and left out. The report
    // points at the file's entry in the main file when the entries match the sources (the
    // CLI's case), so that nothing of a file that is not a flowsheet (`/etc/passwd`) is shown.
    let entries = include_entries(main.text);
    let at_entry = entries.len() + 1 == sources.len();
    let mut bad: Vec<Diagnostic> = Vec::new();
    let mut left_out: Vec<usize> = Vec::new();
    for (k, s) in sources.iter().enumerate().skip(1) {
        let mut offset = 0;
        let mut first = None;
        for line in s.text.split_inclusive('\n') {
            let t = line.trim();
            if !t.is_empty() && !t.starts_with('#') {
                first = Some((offset + (line.len() - line.trim_start().len()), t));
                break;
            }
            offset += line.len();
        }
        if let Some((at, t)) = first {
            if !t.starts_with('[') {
                let msg = format!(
                    "included file `{}` does not start with a table header",
                    diagnostic::escape_name(s.name)
                );
                let mut d = if at_entry {
                    Diagnostic::new(
                        Severity::Error,
                        codes::BAD_INCLUDE,
                        msg,
                        entries[k - 1].span.clone(),
                        main.text,
                    )
                } else {
                    let mut d = Diagnostic::new(
                        Severity::Error,
                        codes::BAD_INCLUDE,
                        msg,
                        at..at + t.len().min(s.text.len() - at),
                        s.text,
                    );
                    d.file = Some(s.name.to_string());
                    d
                };
                d.help = Some("an included file holds tables such as [[circuit]] or [[link]] from its first line on; top-level keys belong in the main file".into());
                bad.push(d);
                left_out.push(k);
            }
        }
    }
    // One virtual text; offsets map back to the file each part came from.
    let mut text = String::new();
    let mut bases = Vec::with_capacity(sources.len());
    for (k, s) in sources.iter().enumerate() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        bases.push(text.len());
        if !left_out.contains(&k) {
            text.push_str(s.text);
        }
    }
    let mut cx = read::Cx::new(&text);
    cx.includes_given = true;
    cx.limits = *limits;
    let flowsheet = check_inner(&mut cx);
    finish(cx, flowsheet, |diags| {
        for d in diags.iter_mut() {
            let i = bases.iter().rposition(|b| *b <= d.span.start).unwrap_or(0);
            let len = sources[i].text.len();
            let local = |x: usize| x.saturating_sub(bases[i]).min(len);
            d.span = local(d.span.start)..local(d.span.end);
            if i > 0 {
                d.file = Some(sources[i].name.to_string());
            }
        }
        // positions per file, each in one sweep
        for (i, s) in sources.iter().enumerate() {
            let name = (i > 0).then_some(s.name);
            let mut part: Vec<Diagnostic> = Vec::new();
            let mut rest: Vec<Diagnostic> = Vec::new();
            for d in diags.drain(..) {
                if d.file.as_deref() == name {
                    part.push(d);
                } else {
                    rest.push(d);
                }
            }
            diagnostic::fill_positions(s.text, &mut part);
            part.extend(rest);
            *diags = part;
        }
        diags.extend(bad);
        diags.sort_by_key(|d| {
            let i = d
                .file
                .as_deref()
                .and_then(|f| sources.iter().position(|s| s.name == f))
                .unwrap_or(0);
            (i, d.span.start)
        });
    })
}

/// Sorts, deduplicates, caps and places the diagnostics; drops the flowsheet on errors.
fn finish(
    cx: read::Cx<'_>,
    flowsheet: Option<Flowsheet>,
    place: impl FnOnce(&mut Vec<Diagnostic>),
) -> CheckOutput {
    let truncated = cx.truncated;
    let end = cx.src.len();
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
            end..end,
            Some("fix these and check again".into()),
        ));
    }
    place(&mut diagnostics);
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
