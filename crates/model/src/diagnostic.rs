//! Diagnostics as data (severity, code, message, span, help) and a rustc-like text renderer.

use std::ops::Range;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The flowsheet cannot be used; `check` exits 1.
    Error,
    /// Suspicious but usable; `check` still exits 0.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a flowsheet, located in its source text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code such as `"E0203"` (see [`codes`]).
    pub code: &'static str,
    /// Lowercase message naming the thing and the value.
    pub message: String,
    /// Byte range in the source the diagnostic points at.
    pub span: Range<usize>,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column (in characters) of `span.start`.
    pub col: usize,
    /// How to fix it, if there is something useful to say.
    pub help: Option<String>,
    /// The included file the diagnostic is in (its name as given to
    /// [`crate::check_sources`]); `None` for the main file.
    pub file: Option<String>,
}

/// The diagnostic codes, one per class of problem. The reference page lists them.
pub mod codes {
    /// TOML syntax error.
    pub const SYNTAX: &str = "E0001";
    /// `schema` key missing.
    pub const SCHEMA_MISSING: &str = "E0002";
    /// Schema version this build does not know.
    pub const SCHEMA_UNKNOWN: &str = "E0003";
    /// Input too large to be a flowsheet, or too many problems to list.
    pub const TOO_LARGE: &str = "E0004";
    /// Unknown key.
    pub const UNKNOWN_KEY: &str = "E0101";
    /// Value of the wrong TOML type.
    pub const WRONG_TYPE: &str = "E0102";
    /// Required key missing.
    pub const MISSING_KEY: &str = "E0103";
    /// Keys that exclude each other given together.
    pub const CONFLICTING_KEYS: &str = "E0104";
    /// Quantity that is not a number followed by a unit.
    pub const BAD_QUANTITY: &str = "E0201";
    /// Unknown unit.
    pub const UNKNOWN_UNIT: &str = "E0202";
    /// Unit of the wrong dimension.
    pub const WRONG_DIMENSION: &str = "E0203";
    /// Negative value where only non-negative values make sense.
    pub const NEGATIVE: &str = "E0204";
    /// NaN or infinite value.
    pub const NOT_FINITE: &str = "E0205";
    /// Fraction outside 0..=1.
    pub const FRACTION_RANGE: &str = "E0206";
    /// Value out of its allowed range (zero flow, integer overflow, too many stages...).
    pub const OUT_OF_RANGE: &str = "E0207";
    /// Value outside the plausible physical range of its kind (`sxplan_model::plausible`).
    pub const IMPLAUSIBLE: &str = "E0208";
    /// Value inside the plausible range of its kind but unusual (warning).
    pub const UNUSUAL: &str = "W0209";
    /// Unknown element symbol.
    pub const UNKNOWN_ELEMENT: &str = "E0301";
    /// Unknown extractant system.
    pub const UNKNOWN_EXTRACTANT: &str = "E0302";
    /// Unknown keyword value (model, section kind, acid, phase...).
    pub const UNKNOWN_VALUE: &str = "E0303";
    /// Duplicate name.
    pub const DUPLICATE_NAME: &str = "E0401";
    /// Stage number outside its circuit.
    pub const STAGE_OUTSIDE: &str = "E0402";
    /// Circuit sections that do not make a valid cascade.
    pub const BAD_SECTIONS: &str = "E0403";
    /// Fractions that must sum to 1 do not.
    pub const SUM_NOT_ONE: &str = "E0404";
    /// Port names a node that does not exist.
    pub const UNKNOWN_NODE: &str = "E0501";
    /// Port that the node does not have.
    pub const UNKNOWN_PORT: &str = "E0502";
    /// Inlet used as a link source or outlet as a target.
    pub const PORT_DIRECTION: &str = "E0503";
    /// Port connected by more than one link.
    pub const PORT_TWICE: &str = "E0504";
    /// Link joins ports of different phases.
    pub const PHASE_MISMATCH: &str = "E0505";
    /// Port that must be connected is not.
    pub const DANGLING: &str = "E0506";
    /// Circuit stages that no aqueous flow reaches (the simulator cannot solve them).
    pub const DRY_STAGE: &str = "E0507";
    /// Recycle loop with no outlet for some species (warning).
    pub const RECYCLE_NO_OUTLET: &str = "W0601";
    /// Element reaching a circuit without data for its equilibrium model.
    pub const NO_MODEL_DATA: &str = "E0602";
    /// Circuit whose acid/base budget excludes an acidic steady state (warning; docs/ph.md).
    pub const ACID_BUDGET: &str = "W0603";
    /// Optimization setting that cannot be honoured (bounds, targets).
    pub const BAD_OPTIMIZE: &str = "E0701";
    /// Included file that is not a list of tables.
    pub const BAD_INCLUDE: &str = "E0801";
    /// Included file refused before it was read: outside the main file's directory tree
    /// (without `--allow-outside-includes`), or not a regular file.
    pub const INCLUDE_REFUSED: &str = "E0802";

    /// Every code with a one-line description, in code order (for docs and tests).
    pub const ALL: &[(&str, &str)] = &[
        (SYNTAX, "TOML syntax error"),
        (SCHEMA_MISSING, "`schema` key missing"),
        (SCHEMA_UNKNOWN, "schema version this build does not know"),
        (
            TOO_LARGE,
            "input too large to be a flowsheet, or too many problems to list",
        ),
        (UNKNOWN_KEY, "unknown key (with a suggestion)"),
        (WRONG_TYPE, "value of the wrong TOML type"),
        (MISSING_KEY, "required key missing"),
        (
            CONFLICTING_KEYS,
            "keys that exclude each other given together",
        ),
        (
            BAD_QUANTITY,
            "quantity that is not a number followed by a unit",
        ),
        (UNKNOWN_UNIT, "unknown unit"),
        (
            WRONG_DIMENSION,
            "unit of the wrong dimension, or a bare number where a unit is needed",
        ),
        (NEGATIVE, "negative value"),
        (NOT_FINITE, "NaN or infinite value"),
        (FRACTION_RANGE, "fraction outside 0..=1"),
        (
            OUT_OF_RANGE,
            "value out of its range (zero, integer overflow, too many stages)",
        ),
        (
            IMPLAUSIBLE,
            "value outside the plausible physical range of its kind",
        ),
        (
            UNUSUAL,
            "value unusual for its kind, inside the plausible range (warning)",
        ),
        (UNKNOWN_ELEMENT, "unknown element symbol"),
        (UNKNOWN_EXTRACTANT, "unknown extractant system"),
        (
            UNKNOWN_VALUE,
            "unknown keyword value (model, kind, acid, phase, grade, price set, name)",
        ),
        (DUPLICATE_NAME, "duplicate name"),
        (
            STAGE_OUTSIDE,
            "stage number or per-stage list outside its circuit",
        ),
        (BAD_SECTIONS, "sections that do not make a valid cascade"),
        (SUM_NOT_ONE, "fractions that must sum to 1 do not"),
        (UNKNOWN_NODE, "port names a node that does not exist"),
        (UNKNOWN_PORT, "port the node does not have"),
        (
            PORT_DIRECTION,
            "inlet used as a link source or outlet as a target",
        ),
        (PORT_TWICE, "port connected by more than one link"),
        (PHASE_MISMATCH, "link joins ports of different phases"),
        (DANGLING, "port that must be connected is not"),
        (DRY_STAGE, "circuit stages that no aqueous flow reaches"),
        (RECYCLE_NO_OUTLET, "recycle loop with no outlet (warning)"),
        (
            NO_MODEL_DATA,
            "element reaching a circuit or leach without model data",
        ),
        (
            ACID_BUDGET,
            "acid/base budget that excludes an acidic steady state (warning)",
        ),
        (BAD_OPTIMIZE, "optimization setting that cannot be honoured"),
        (
            BAD_INCLUDE,
            "included file that does not start with a table header",
        ),
        (
            INCLUDE_REFUSED,
            "included file outside the main file's directory tree (refused unread)",
        ),
    ];
}

/// A number for messages: without binary round-off noise (1.4, not 1.4000000000000001), and
/// in scientific notation when it is very large or small (`1e308`, `1e-320`, `2.5e-7`, not a
/// 330-digit decimal or `0`).
pub fn fmt_number(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() || (a != 0.0 && !(1e-4..1e6).contains(&a)) {
        // shortest round-trip form, cut to 10 significant digits when longer
        let e = format!("{x:e}");
        return match e.split_once('e') {
            Some((m, exp)) if m.len() > 12 => {
                let m: f64 = m.parse().unwrap_or(0.0);
                let m = format!("{m:.9}");
                format!("{}e{exp}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => e,
        };
    }
    let r = format!("{x:.9}");
    let r = r.trim_end_matches('0').trim_end_matches('.');
    if r.is_empty() || r == "-0" {
        format!("{x}")
    } else {
        r.to_string()
    }
}

/// `s` for a message: `"`, `\` and control characters escaped as in a TOML basic string
/// (`\"`, `\\`, `\n`, `\u{1b}`), other text unchanged.
pub fn escape_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// 1-based (line, column) of byte offset `pos` in `src`; columns count characters.
/// Offsets past the end or inside a character are clamped, so this never panics.
pub fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &src[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

impl Diagnostic {
    /// A diagnostic at `span` of `src` (line and column computed from `src`).
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        span: Range<usize>,
        src: &str,
    ) -> Diagnostic {
        let (line, col) = line_col(src, span.start);
        Diagnostic {
            severity,
            code,
            message: message.into(),
            span,
            line,
            col,
            help: None,
            file: None,
        }
    }

    /// A diagnostic whose line and column are filled in later by a sweep over the source.
    pub(crate) fn unplaced(
        severity: Severity,
        code: &'static str,
        message: String,
        span: Range<usize>,
        help: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            code,
            message,
            span,
            line: 0,
            col: 0,
            help,
            file: None,
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// One error at `span` of `src` (the file named `file`), rendered as [`render_text`] renders
/// it, without a code: for the inputs beside flowsheets (sweep manifests, shake-out data) that
/// share the flowsheet's located messages.
pub fn render_error(
    file: &str,
    src: &str,
    span: std::ops::Range<usize>,
    message: String,
    help: Option<String>,
) -> String {
    let mut d = Diagnostic::new(Severity::Error, "", message, span, src);
    d.help = help;
    render_text(file, src, &[d])
}

/// Renders diagnostics the way rustc does:
///
/// ```text
/// error[E0203]: expected a volumetric flow, found a molar concentration 'mol/L'
///  --> pr-nd.toml:12:12
///    |
/// 12 | flow = "3 mol/L"
///    |           ^^^^^
///    = help: a volumetric flow is written as a number and one of: m3/h, L/h, ...
/// ```
///
/// Pure function: `file` is only printed. Each diagnostic is followed by a blank line.
pub fn render_text(file: &str, src: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        render_one(&mut out, file, src, d);
    }
    out
}

/// Renders diagnostics of a flowsheet and its included files (see [`crate::check_sources`]):
/// each diagnostic is shown against the source named by [`Diagnostic::file`] (`sources[0]`,
/// the main file, when `None`).
pub fn render_sources(sources: &[crate::Source<'_>], diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let source = d
            .file
            .as_deref()
            .and_then(|f| sources.iter().find(|s| s.name == f))
            .or_else(|| sources.first());
        match source {
            Some(s) => render_one(&mut out, s.name, s.text, d),
            None => render_one(&mut out, "<unknown>", "", d),
        }
    }
    out
}

fn render_one(out: &mut String, file: &str, src: &str, d: &Diagnostic) {
    use std::fmt::Write;
    if d.code.is_empty() {
        // inputs other than flowsheets (a fit's CSV data) have no codes
        let _ = writeln!(out, "{}: {}", d.severity.as_str(), d.message);
    } else {
        let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
    }
    let gutter = d.line.to_string().len();
    let pad = " ".repeat(gutter);
    let _ = writeln!(out, "{pad}--> {file}:{}:{}", d.line, d.col);
    let _ = writeln!(out, "{pad} |");
    let pos = floor_boundary(src, d.span.start.min(src.len()));
    let line_start = src[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[pos..].find('\n').map_or(src.len(), |i| pos + i);
    let line_end = if src[..line_end].ends_with('\r') {
        line_end - 1
    } else {
        line_end
    }
    .max(pos);
    // Long lines are shown as a window around the column so the output stays small.
    let (win_start, cut_left) = if pos - line_start > 80 {
        (floor_boundary(src, pos - 60), true)
    } else {
        (line_start, false)
    };
    let (win_end, cut_right) = if line_end - pos > 100 {
        (floor_boundary(src, pos + 100), true)
    } else {
        (line_end, false)
    };
    let clean = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    let _ = writeln!(
        out,
        "{} | {}{}{}",
        d.line,
        if cut_left { "..." } else { "" },
        clean(&src[win_start..win_end]),
        if cut_right { "..." } else { "" }
    );
    let lead = src[win_start..pos].chars().count() + if cut_left { 3 } else { 0 };
    let span_end = floor_boundary(src, d.span.end.min(win_end).max(pos));
    let width = src[pos..span_end].chars().count().max(1);
    let _ = writeln!(out, "{pad} | {}{}", " ".repeat(lead), "^".repeat(width));
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{pad} = help: {help}");
    }
    out.push('\n');
}

/// Fills `line` and `col` of diagnostics sorted by `span.start` in one pass over `src`.
pub(crate) fn fill_positions(src: &str, diags: &mut [Diagnostic]) {
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut scanned = 0usize;
    for d in diags.iter_mut() {
        let pos = floor_boundary(src, d.span.start.min(src.len()));
        if pos < scanned {
            let (l, c) = line_col(src, pos);
            d.line = l;
            d.col = c;
            continue;
        }
        for (i, b) in src.as_bytes()[scanned..pos].iter().enumerate() {
            if *b == b'\n' {
                line += 1;
                line_start = scanned + i + 1;
            }
        }
        scanned = pos;
        d.line = line;
        d.col = src[line_start..pos].chars().count() + 1;
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Levenshtein distance over characters, ASCII-case-insensitive.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.chars().count() > 64 {
        return None;
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        let pos = src.find('"').unwrap_or(0);
        assert_eq!(line_col(src, pos), (2, 6));
        assert_eq!(line_col(src, 10_000), (3, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("extractnt", &["extractant", "conc"]),
            Some("extractant")
        );
        assert_eq!(did_you_mean("zzz", &["extractant", "conc"]), None);
        assert_eq!(did_you_mean("nd", &["Nd", "Pr"]), Some("Nd"));
    }

    #[test]
    fn renders_caret_under_span() {
        let src = "schema = 1\nflow = \"3 mol/L\"\n";
        let start = src.find("mol").unwrap_or(0);
        let mut d = Diagnostic::new(
            Severity::Error,
            codes::WRONG_DIMENSION,
            "bad",
            start..start + 5,
            src,
        );
        d.help = Some("use L/h".into());
        let text = render_text("x.toml", src, &[d]);
        assert_eq!(
            text,
            "error[E0203]: bad\n --> x.toml:2:11\n  |\n2 | flow = \"3 mol/L\"\n  |           ^^^^^\n  = help: use L/h\n\n"
        );
    }
}
