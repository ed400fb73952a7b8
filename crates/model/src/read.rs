//! Span-keeping readers over the TOML tree: typed getters that report wrong types, missing
//! keys, unknown keys, bad quantities and out-of-range numbers as diagnostics.

use std::collections::BTreeMap;
use std::ops::Range;

use sxplan_chem::units::{self, Dimension, UnitError};
use sxplan_chem::{Element, Quality};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::{codes, did_you_mean, Diagnostic, Severity};
use crate::limits::{plausible, Plausible};

/// A value with the byte range it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sp<T> {
    pub v: T,
    pub span: Range<usize>,
}

pub(crate) fn sp<T>(v: T, span: Range<usize>) -> Sp<T> {
    Sp { v, span }
}

pub(crate) type Val<'i> = Spanned<DeValue<'i>>;

/// Collects diagnostics against one source text.
pub(crate) struct Cx<'s> {
    pub src: &'s str,
    pub diags: Vec<Diagnostic>,
    /// Set while reading a circuit whose sections could not be read: references to
    /// section names are then not reported (they would only cascade).
    pub quiet_sections: bool,
    /// More than [`MAX_DIAGNOSTICS`] problems were found; the rest were dropped.
    pub truncated: bool,
    /// True when the caller supplied the included files (`check_sources`).
    pub includes_given: bool,
    /// Size limits to enforce.
    pub limits: crate::Limits,
}

/// Most diagnostics kept for one file; hostile input can otherwise produce millions.
pub(crate) const MAX_DIAGNOSTICS: usize = 500;

impl<'s> Cx<'s> {
    pub fn new(src: &'s str) -> Cx<'s> {
        Cx {
            src,
            diags: Vec::new(),
            quiet_sections: false,
            truncated: false,
            includes_given: false,
            limits: crate::Limits::DEFAULT,
        }
    }

    /// Errors reported so far.
    pub fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    pub fn error(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        span: Range<usize>,
        help: Option<String>,
    ) {
        self.push(Severity::Error, code, msg.into(), span, help);
    }

    pub fn warn(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        span: Range<usize>,
        help: Option<String>,
    ) {
        self.push(Severity::Warning, code, msg.into(), span, help);
    }

    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        msg: String,
        span: Range<usize>,
        help: Option<String>,
    ) {
        if self.diags.len() >= MAX_DIAGNOSTICS {
            self.truncated = true;
            return;
        }
        self.diags
            .push(Diagnostic::unplaced(severity, code, msg, span, help));
    }

    /// The span of the text inside a string literal if it maps one-to-one onto the value
    /// (no escapes), else the whole literal.
    pub fn string_content_span(&self, span: &Range<usize>, content: &str) -> Option<usize> {
        let raw = self.src.get(span.clone())?;
        for q in ["\"", "'"] {
            if raw.len() >= 2 && raw.starts_with(q) && !raw.starts_with(&q.repeat(3)) {
                let inner = raw.get(1..raw.len() - 1)?;
                if inner == content {
                    return Some(span.start + 1);
                }
            }
        }
        None
    }
}

/// TOML type name for messages.
pub(crate) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A table being read: remembers which keys were consumed so leftovers can be reported.
pub(crate) struct Tbl<'a, 'i> {
    pub t: &'a DeTable<'i>,
    pub span: Range<usize>,
    /// What the table is, for messages: `circuit "PrNd"`.
    pub what: String,
}

impl<'a, 'i> Tbl<'a, 'i> {
    pub fn new(t: &'a DeTable<'i>, span: Range<usize>, what: impl Into<String>) -> Self {
        Tbl {
            t,
            span,
            what: what.into(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Val<'i>> {
        self.t.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.t.get(key).is_some()
    }

    /// Entries in source order.
    pub fn entries(&self) -> Vec<(Sp<&'a str>, &'a Val<'i>)> {
        let mut v: Vec<_> = self
            .t
            .iter()
            .map(|(k, v)| (sp(k.get_ref().as_ref(), k.span()), v))
            .collect();
        v.sort_by_key(|(k, _)| k.span.start);
        v
    }

    /// The span of a key, for "conflicting keys" and similar messages.
    pub fn key_span(&self, key: &str) -> Range<usize> {
        self.t
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map_or(self.span.clone(), |(k, _)| k.span())
    }

    /// Reports every key not in `known` (with a suggestion).
    pub fn check_keys(&self, cx: &mut Cx<'_>, known: &[&str]) {
        for (k, _) in self.entries() {
            if !known.contains(&k.v) {
                let help = did_you_mean(k.v, known)
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("known keys here: {}", known.join(", "))));
                cx.error(
                    codes::UNKNOWN_KEY,
                    format!("unknown key `{}` in {}", truncate(k.v), self.what),
                    k.span,
                    help,
                );
            }
        }
    }

    pub fn missing(&self, cx: &mut Cx<'_>, key: &str, help: Option<String>) {
        // a misspelled key is reported as unknown with "did you mean"; do not repeat it
        if self
            .t
            .iter()
            .any(|(k, _)| k.get_ref() != key && did_you_mean(k.get_ref(), &[key]).is_some())
        {
            return;
        }
        cx.error(
            codes::MISSING_KEY,
            format!("{} is missing required key `{key}`", self.what),
            self.span.clone(),
            help,
        );
    }

    /// Reports `a` and `b` given together.
    pub fn exclusive(&self, cx: &mut Cx<'_>, a: &str, b: &str) -> bool {
        if self.has(a) && self.has(b) {
            cx.error(
                codes::CONFLICTING_KEYS,
                format!("{}: `{a}` and `{b}` cannot both be given", self.what),
                self.key_span(b),
                Some(format!("remove `{a}` or `{b}`")),
            );
            return true;
        }
        false
    }
}

/// A number for messages (see [`crate::diagnostic::fmt_number`]).
pub(crate) fn fmt_num(x: f64) -> String {
    crate::diagnostic::fmt_number(x)
}

/// User text for a message: cut after 40 characters, quotes, backslashes and control
/// characters escaped (`\"`, `\\`, `\n`), so the message stays one line and a quoted name
/// cannot end its quotes early.
pub(crate) fn truncate(s: &str) -> String {
    let long = s.chars().count() > 40;
    let mut out = crate::diagnostic::escape_name(&s.chars().take(40).collect::<String>());
    if long {
        out.push_str("...");
    }
    out
}

pub(crate) fn wrong_type(cx: &mut Cx<'_>, what: &str, expected: &str, v: &Val<'_>) {
    cx.error(
        codes::WRONG_TYPE,
        format!(
            "{what}: expected {expected}, found {}",
            type_name(v.get_ref())
        ),
        v.span(),
        None,
    );
}

pub(crate) fn as_table<'a, 'i>(cx: &mut Cx<'_>, v: &'a Val<'i>, what: &str) -> Option<Tbl<'a, 'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(Tbl::new(t, v.span(), what)),
        _ => {
            wrong_type(cx, what, "a table", v);
            None
        }
    }
}

/// A table or an array of tables (`[x]` or `[[x]]`), as a list.
pub(crate) fn tables<'a, 'i>(cx: &mut Cx<'_>, v: &'a Val<'i>, what: &str) -> Vec<Tbl<'a, 'i>> {
    match v.get_ref() {
        DeValue::Table(t) => vec![Tbl::new(t, v.span(), what)],
        DeValue::Array(a) => a.iter().filter_map(|x| as_table(cx, x, what)).collect(),
        _ => {
            wrong_type(cx, what, "a table or an array of tables", v);
            Vec::new()
        }
    }
}

pub(crate) fn string(cx: &mut Cx<'_>, v: &Val<'_>, what: &str) -> Option<Sp<String>> {
    match v.get_ref() {
        DeValue::String(s) => Some(sp(s.to_string(), v.span())),
        _ => {
            wrong_type(cx, what, "a string", v);
            None
        }
    }
}

pub(crate) fn opt_string(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, key: &str) -> Option<Sp<String>> {
    let v = t.get(key)?;
    string(cx, v, &format!("{} `{key}`", t.what))
}

pub(crate) fn req_string(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, key: &str) -> Option<Sp<String>> {
    if !t.has(key) {
        t.missing(cx, key, None);
        return None;
    }
    opt_string(cx, t, key)
}

/// An integer in `min..=max`.
pub(crate) fn int(cx: &mut Cx<'_>, v: &Val<'_>, what: &str, min: u64, max: u64) -> Option<usize> {
    match v.get_ref() {
        DeValue::Integer(i) => {
            let parsed = i64::from_str_radix(i.as_str(), i.radix()).ok();
            match parsed {
                Some(n) if n >= 0 && (n as u64) >= min && (n as u64) <= max => {
                    usize::try_from(n).ok()
                }
                _ => {
                    cx.error(
                        codes::OUT_OF_RANGE,
                        format!("{what}: {} is outside {min}..={max}", truncate(i.as_str())),
                        v.span(),
                        None,
                    );
                    None
                }
            }
        }
        _ => {
            wrong_type(cx, what, "an integer", v);
            None
        }
    }
}

/// A plain number (integer or float), finite.
pub(crate) fn number(cx: &mut Cx<'_>, v: &Val<'_>, what: &str) -> Option<f64> {
    let x = match v.get_ref() {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|n| n as f64)
            .or_else(|| i.as_str().parse::<f64>().ok()),
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
        _ => {
            wrong_type(cx, what, "a number", v);
            return None;
        }
    };
    match x {
        Some(x) if x.is_finite() => Some(x),
        _ => {
            cx.error(
                codes::NOT_FINITE,
                format!("{what}: value is not a finite number"),
                v.span(),
                Some("write a finite number".into()),
            );
            None
        }
    }
}

/// Range restriction for quantities.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Range01 {
    /// Any finite value.
    Any,
    /// >= 0.
    NonNeg,
    /// > 0.
    Pos,
    /// 0..=1.
    Fraction,
    /// 0 < x <= 1.
    PosFraction,
}

fn check_range(
    cx: &mut Cx<'_>,
    x: f64,
    shown: &str,
    r: Range01,
    what: &str,
    span: Range<usize>,
) -> bool {
    match r {
        Range01::Any => true,
        Range01::NonNeg | Range01::Pos if x < 0.0 => {
            cx.error(
                codes::NEGATIVE,
                format!("{what}: negative value {shown}"),
                span,
                Some("this quantity cannot be negative".into()),
            );
            false
        }
        Range01::Pos if x == 0.0 => {
            cx.error(
                codes::OUT_OF_RANGE,
                format!("{what}: must be greater than zero"),
                span,
                None,
            );
            false
        }
        Range01::Fraction | Range01::PosFraction if !(0.0..=1.0).contains(&x) => {
            cx.error(
                codes::FRACTION_RANGE,
                format!("{what}: fraction {shown} is outside 0..=1"),
                span,
                Some("write a fraction as 0.36 or \"36 %\"".into()),
            );
            false
        }
        Range01::PosFraction if x == 0.0 => {
            cx.error(
                codes::OUT_OF_RANGE,
                format!("{what}: must be greater than zero"),
                span,
                None,
            );
            false
        }
        _ => true,
    }
}

/// The plausible range `check` applies to a quantity of `dim` that has no narrower kind.
fn default_plausible(dim: Dimension) -> &'static Plausible {
    match dim {
        Dimension::VolumetricFlow => &plausible::FLOW_VOL,
        Dimension::MassFlow => &plausible::FLOW_MASS,
        Dimension::MolarConcentration => &plausible::CONC_MOLAR,
        Dimension::MassConcentration => &plausible::CONC_MASS,
        Dimension::Fraction => &plausible::FRACTION,
        Dimension::PricePerMass => &plausible::PRICE,
        Dimension::Volume => &plausible::VOLUME,
        Dimension::Time => &plausible::TIME,
        _ => &plausible::NUMBER,
    }
}

/// A number for messages in the range's unit: `1e+30 m3/h`, `0.25 mol/L`.
pub(crate) fn fmt_in(x: f64, unit: &str) -> String {
    let n = fmt_num(x);
    if unit.is_empty() {
        n
    } else {
        format!("{n} {unit}")
    }
}

/// Checks the magnitude of `x` (internal unit) against `p`: a located error outside the error
/// bounds (returns false), a located warning outside the warning bounds. Zero passes (its
/// own rule, [`Range01`], decides).
pub(crate) fn check_plausible(
    cx: &mut Cx<'_>,
    x: f64,
    p: &Plausible,
    what: &str,
    span: Range<usize>,
) -> bool {
    let m = (x / p.scale).abs();
    if x == 0.0 || !m.is_finite() {
        return true;
    }
    // a subnormal amount that vanishes in the range's unit (4.9e-324 L/h in m3/h) is below it
    let shown = if m == 0.0 {
        format!("{} (0 in {}: below the smallest f64)", fmt_num(x), p.unit)
    } else {
        fmt_in(x / p.scale, p.unit)
    };
    if m < p.error_min || m > p.error_max {
        let (rel, bound) = if m < p.error_min {
            ("below", p.error_min)
        } else {
            ("above", p.error_max)
        };
        cx.error(
            codes::IMPLAUSIBLE,
            format!(
                "{what}: {shown} is {rel} {}, outside the plausible range of {} ({} to {})",
                fmt_in(bound, p.unit),
                p.name,
                fmt_in(p.error_min, p.unit),
                fmt_in(p.error_max, p.unit),
            ),
            span,
            Some(p.basis.to_string()),
        );
        return false;
    }
    if m < p.warn_min || m > p.warn_max {
        cx.warn(
            codes::UNUSUAL,
            format!(
                "{what}: {shown} is unusual for {} (usually {} to {})",
                p.name,
                fmt_in(p.warn_min, p.unit),
                fmt_in(p.warn_max, p.unit),
            ),
            span,
            Some(p.basis.to_string()),
        );
    }
    true
}

/// A quantity of dimension `dim` in its internal unit, written as `"1.2 m3/h"` (or a bare
/// number for fractions and plain numbers), range-checked, its magnitude checked against the
/// plausible range of its dimension.
pub(crate) fn quantity(
    cx: &mut Cx<'_>,
    v: &Val<'_>,
    what: &str,
    dim: Dimension,
    range: Range01,
) -> Option<f64> {
    quantity_as(cx, v, what, dim, range, default_plausible(dim))
}

/// [`quantity`] with the plausible range of a narrower kind (a separation factor, an acid).
pub(crate) fn quantity_as(
    cx: &mut Cx<'_>,
    v: &Val<'_>,
    what: &str,
    dim: Dimension,
    range: Range01,
    p: &Plausible,
) -> Option<f64> {
    let x = match v.get_ref() {
        DeValue::String(s) => match units::expect(s, dim) {
            Ok(x) => x,
            Err(e) => {
                unit_error(cx, &e, v.span(), s, what);
                return None;
            }
        },
        DeValue::Integer(_) | DeValue::Float(_)
            if matches!(dim, Dimension::Fraction | Dimension::Dimensionless) =>
        {
            number(cx, v, what)?
        }
        DeValue::Integer(_) | DeValue::Float(_) => {
            cx.error(
                codes::WRONG_DIMENSION,
                format!(
                    "{what}: expected {}, found a number without unit",
                    dim.describe()
                ),
                v.span(),
                Some(format!(
                    "{} (in quotes, e.g. \"{}\")",
                    dim.help(),
                    example(dim)
                )),
            );
            return None;
        }
        _ => {
            wrong_type(
                cx,
                what,
                &format!("{} such as \"{}\"", dim.describe(), example(dim)),
                v,
            );
            return None;
        }
    };
    if !x.is_finite() {
        cx.error(
            codes::NOT_FINITE,
            format!("{what}: value is not a finite number"),
            v.span(),
            None,
        );
        return None;
    }
    let shown = match v.get_ref() {
        DeValue::String(s) => format!("\"{}\"", truncate(s.trim())),
        _ => fmt_num(x),
    };
    // a non-zero amount so small that its unit's conversion leaves 0 ("4.9e-324 L/h") is not
    // the zero its own rule allows
    let written_nonzero = match v.get_ref() {
        DeValue::String(s) => s
            .split_whitespace()
            .next()
            .and_then(|t| t.parse::<f64>().ok())
            .is_some_and(|n| n != 0.0),
        _ => false,
    };
    if x == 0.0 && written_nonzero {
        cx.error(
            codes::IMPLAUSIBLE,
            format!(
                "{what}: {shown} is below {}, outside the plausible range of {} ({} to {})",
                fmt_in(p.error_min, p.unit),
                p.name,
                fmt_in(p.error_min, p.unit),
                fmt_in(p.error_max, p.unit),
            ),
            v.span(),
            Some(p.basis.to_string()),
        );
        return None;
    }
    (check_range(cx, x, &shown, range, what, v.span()) && check_plausible(cx, x, p, what, v.span()))
        .then_some(x)
}

fn example(dim: Dimension) -> &'static str {
    match dim {
        Dimension::VolumetricFlow => "1.2 m3/h",
        Dimension::MolarConcentration => "0.5 mol/L",
        Dimension::MassConcentration => "4 g/L",
        Dimension::Fraction => "36 %",
        Dimension::MassFlow => "14.6 t/h",
        Dimension::MolarFlow => "10 mol/h",
        Dimension::Volume => "2 m3",
        Dimension::Time => "3 min",
        Dimension::Mass => "1 t",
        Dimension::PricePerMass => "56 USD/kg",
        _ => "1.0",
    }
}

fn unit_error(cx: &mut Cx<'_>, e: &UnitError, span: Range<usize>, s: &str, what: &str) {
    let code = match e {
        UnitError::UnknownUnit { .. } => codes::UNKNOWN_UNIT,
        UnitError::WrongDimension { .. } => codes::WRONG_DIMENSION,
        UnitError::NotFinite { .. } => codes::NOT_FINITE,
        _ => codes::BAD_QUANTITY,
    };
    let inner = e.span();
    let at = match cx.string_content_span(&span, s) {
        Some(start) if inner.end <= s.len() => {
            start + inner.start..start + inner.end.max(inner.start + 1)
        }
        _ => span,
    };
    cx.error(code, format!("{what}: {e}"), at, Some(e.help().to_string()));
}

pub(crate) fn opt_quantity(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    key: &str,
    dim: Dimension,
    range: Range01,
) -> Option<f64> {
    opt_quantity_as(cx, t, key, dim, range, default_plausible(dim))
}

/// [`opt_quantity`] with the plausible range of a narrower kind.
pub(crate) fn opt_quantity_as(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    key: &str,
    dim: Dimension,
    range: Range01,
    p: &Plausible,
) -> Option<f64> {
    let v = t.get(key)?;
    quantity_as(cx, v, &format!("{} `{key}`", t.what), dim, range, p)
}

/// Reads a required quantity; `Err(())` when missing or invalid (already reported).
pub(crate) fn req_quantity(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    key: &str,
    dim: Dimension,
    range: Range01,
) -> Option<f64> {
    req_quantity_as(cx, t, key, dim, range, default_plausible(dim))
}

/// [`req_quantity`] with the plausible range of a narrower kind.
pub(crate) fn req_quantity_as(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    key: &str,
    dim: Dimension,
    range: Range01,
    p: &Plausible,
) -> Option<f64> {
    if !t.has(key) {
        t.missing(cx, key, Some(format!("add `{key} = \"{}\"`", example(dim))));
        return None;
    }
    opt_quantity_as(cx, t, key, dim, range, p)
}

/// Parses a keyword value against a fixed list of spellings.
pub(crate) fn keyword<T: Copy>(
    cx: &mut Cx<'_>,
    v: &Val<'_>,
    what: &str,
    options: &[(&str, T)],
) -> Option<T> {
    let s = string(cx, v, what)?;
    if let Some((_, t)) = options.iter().find(|(n, _)| *n == s.v) {
        return Some(*t);
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let help = match did_you_mean(&s.v, &names) {
        Some(m) => format!("did you mean \"{m}\"?"),
        None => format!("expected one of: {}", names.join(", ")),
    };
    cx.error(
        codes::UNKNOWN_VALUE,
        format!("{what}: unknown value \"{}\"", truncate(&s.v)),
        s.span,
        Some(help),
    );
    None
}

pub(crate) fn opt_keyword<T: Copy>(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    key: &str,
    options: &[(&str, T)],
) -> Option<T> {
    let v = t.get(key)?;
    keyword(cx, v, &format!("{} `{key}`", t.what), options)
}

/// Resolves an element symbol, reporting unknown ones with a suggestion.
pub(crate) fn element(cx: &mut Cx<'_>, s: &str, span: Range<usize>, what: &str) -> Option<Element> {
    if let Some(e) = Element::from_symbol(s) {
        return Some(e);
    }
    let symbols: Vec<&str> = Element::ALL.iter().map(|e| e.symbol()).collect();
    let help = match Element::from_symbol_ignore_case(s) {
        Some(e) => format!(
            "did you mean `{}`? element symbols are case-sensitive",
            e.symbol()
        ),
        None => match did_you_mean(s, &symbols) {
            Some(m) => format!("did you mean `{m}`? known elements: {}", symbols.join(" ")),
            None => format!("known elements: {}", symbols.join(" ")),
        },
    };
    let msg = if s == "Pm" {
        format!("{what}: promethium (Pm) is not tracked by sxplan")
    } else {
        format!("{what}: unknown element `{}`", truncate(s))
    };
    cx.error(codes::UNKNOWN_ELEMENT, msg, span, Some(help));
    None
}

pub(crate) const QUALITIES: &[(&str, Quality)] = &[
    ("measured", Quality::Measured),
    ("fitted", Quality::Fitted),
    ("estimated", Quality::Estimated),
    ("illustrative", Quality::Illustrative),
];

/// Per-element values read from a table such as `{ Pr = 1.0, Nd = 1.5, quality = "...",
/// source = "..." }`, plus an optional `default` entry when `allow_default`.
pub(crate) struct ElementTable<T> {
    pub values: BTreeMap<Element, T>,
    pub spans: BTreeMap<Element, Range<usize>>,
    pub default: Option<T>,
    pub quality: Option<Quality>,
    pub source: Option<String>,
    pub span: Range<usize>,
}

pub(crate) fn element_table<T>(
    cx: &mut Cx<'_>,
    v: &Val<'_>,
    what: &str,
    allow_default: bool,
    mut read: impl FnMut(&mut Cx<'_>, &Val<'_>, &str) -> Option<T>,
) -> Option<ElementTable<T>> {
    let t = as_table(cx, v, what)?;
    let mut out = ElementTable {
        values: BTreeMap::new(),
        spans: BTreeMap::new(),
        default: None,
        quality: None,
        source: None,
        span: v.span(),
    };
    for (k, val) in t.entries() {
        match k.v {
            "quality" => out.quality = keyword(cx, val, &format!("{what} `quality`"), QUALITIES),
            "source" => out.source = string(cx, val, &format!("{what} `source`")).map(|s| s.v),
            "default" if allow_default => {
                out.default = read(cx, val, &format!("{what} `default`"));
            }
            sym => {
                if let Some(e) = element(cx, sym, k.span.clone(), what) {
                    if let Some(x) = read(cx, val, &format!("{what} `{sym}`")) {
                        out.values.insert(e, x);
                        out.spans.insert(e, k.span.clone());
                    }
                }
            }
        }
    }
    Some(out)
}
