//! Reading batch shake-out equilibrium data from CSV text (docs/fit.md, "The CSV format").
//!
//! One row per measurement. Columns are found by their header name (case-insensitive, any
//! order); lines starting with `#` are comments (a data file can carry its citation). Every
//! problem is returned with its line and column and a hint, never a panic.

use std::ops::Range;

use sxplan_chem::Element;

/// The accepted column names with what they hold (docs/fit.md lists the same).
pub const COLUMNS: &[(&str, &str)] = &[
    ("element", "element symbol (Nd, Pr, Y, ...)"),
    ("ph", "equilibrium pH of the aqueous phase"),
    ("h_conc", "equilibrium acidity [H+], mol/L (instead of ph)"),
    (
        "extractant",
        "total extractant (monomer HA) in the organic, mol/L",
    ),
    (
        "saponification",
        "fraction of the extractant saponified, 0..1 (optional)",
    ),
    (
        "aq",
        "equilibrium aqueous concentration of the element, mol/L",
    ),
    (
        "org",
        "equilibrium organic concentration of the element, mol/L",
    ),
    (
        "d",
        "distribution ratio D = org / aq (instead of aq and org)",
    ),
    (
        "temperature",
        "temperature, degrees C (optional, reported only)",
    ),
    (
        "sigma_log_d",
        "standard deviation of log10 D (optional, all rows or none)",
    ),
    (
        "test",
        "shake-out test id: rows of one test share the organic loading (optional)",
    ),
];

/// One measurement (one row of the CSV).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// 1-based line of the row in the CSV text.
    pub line: usize,
    /// The element measured.
    pub element: Element,
    /// Equilibrium pH (`-log10 [H+]`, from `ph` or `h_conc`).
    pub ph: f64,
    /// Total extractant (monomer) concentration, mol/L.
    pub extractant: f64,
    /// Saponified fraction of the extractant, when given.
    pub saponification: Option<f64>,
    /// Equilibrium organic concentration of the element, mol/L, when given.
    pub org: Option<f64>,
    /// log10 of the distribution ratio.
    pub log_d: f64,
    /// Temperature, degrees C, when given.
    pub temperature: Option<f64>,
    /// Standard deviation of log10 D, when given.
    pub sigma_log_d: Option<f64>,
    /// Shake-out test id, when given.
    pub test: Option<String>,
}

/// A bad row or header, located in the CSV text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct DataError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte range in the text the problem is at.
    pub span: Range<usize>,
    /// Lowercase message naming the thing and the value.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// Start offsets (bytes, in `text`) of every line.
fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    v
}

/// Byte range of field `k` on the line starting at `start` (quotes respected).
fn field_span(text: &str, start: usize, k: usize) -> Range<usize> {
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[start..line_end];
    let (mut field, mut quoted, mut from) = (0usize, false, 0usize);
    for (i, ch) in line.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                if field == k {
                    return start + from..start + i;
                }
                field += 1;
                from = i + 1;
            }
            _ => {}
        }
    }
    if field == k {
        start + from..line_end
    } else {
        line_end..line_end
    }
}

struct Locator<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl Locator<'_> {
    fn at(
        &self,
        line: usize,
        field: Option<usize>,
        message: String,
        help: Option<String>,
    ) -> DataError {
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let span = match field {
            Some(k) => field_span(self.text, start, k),
            None => start..start,
        };
        let column = self.text[start..span.start.max(start)].chars().count() + 1;
        DataError {
            line,
            column,
            span,
            message,
            help,
        }
    }
}

/// Column positions found in the header.
#[derive(Default)]
struct Header {
    element: Option<usize>,
    ph: Option<usize>,
    h_conc: Option<usize>,
    extractant: Option<usize>,
    saponification: Option<usize>,
    aq: Option<usize>,
    org: Option<usize>,
    d: Option<usize>,
    temperature: Option<usize>,
    sigma: Option<usize>,
    test: Option<usize>,
}

/// Reads the measurements of a CSV text (docs/fit.md). Errors are located.
pub fn parse_csv(text: &str) -> Result<Vec<Measurement>, DataError> {
    let loc = Locator {
        text,
        starts: line_starts(text),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let (hline, head) = match records.next() {
        Some(Ok(r)) => (r.position().map_or(1, |p| p.line() as usize), r),
        Some(Err(e)) => return Err(csv_error(&loc, &e)),
        None => {
            return Err(loc.at(
                1,
                None,
                "the file holds no header and no data".into(),
                Some(header_help()),
            ))
        }
    };
    let mut h = Header::default();
    for (k, name) in head.iter().enumerate() {
        let slot = match name.to_ascii_lowercase().as_str() {
            "element" => &mut h.element,
            "ph" => &mut h.ph,
            "h_conc" => &mut h.h_conc,
            "extractant" => &mut h.extractant,
            "saponification" => &mut h.saponification,
            "aq" => &mut h.aq,
            "org" => &mut h.org,
            "d" => &mut h.d,
            "temperature" => &mut h.temperature,
            "sigma_log_d" => &mut h.sigma,
            "test" => &mut h.test,
            other => {
                return Err(loc.at(
                    hline,
                    Some(k),
                    format!("unknown column `{other}`"),
                    Some(header_help()),
                ))
            }
        };
        if slot.is_some() {
            return Err(loc.at(
                hline,
                Some(k),
                format!("column `{name}` appears twice"),
                None,
            ));
        }
        *slot = Some(k);
    }
    let missing = |what: &str, help: &str| {
        loc.at(
            hline,
            None,
            format!("missing column {what}"),
            Some(help.into()),
        )
    };
    if h.element.is_none() {
        return Err(missing(
            "`element`",
            "the header names the columns; `element` holds the symbol of the element measured",
        ));
    }
    if h.ph.is_none() && h.h_conc.is_none() {
        return Err(missing(
            "`ph` (or `h_conc`)",
            "give the equilibrium pH, or the equilibrium acidity [H+] in mol/L as `h_conc`",
        ));
    }
    if h.extractant.is_none() {
        return Err(missing(
            "`extractant`",
            "give the total extractant concentration of the organic in mol/L",
        ));
    }
    if h.d.is_none() && (h.aq.is_none() || h.org.is_none()) {
        return Err(missing(
            "`d` (or `aq` and `org`)",
            "give the distribution ratio D, or both equilibrium concentrations",
        ));
    }
    let mut rows = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_error(&loc, &e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        rows.push(parse_row(&loc, &h, &rec, line)?);
    }
    if rows.is_empty() {
        return Err(loc.at(
            hline,
            None,
            "the file holds a header but no data rows".into(),
            Some("add one row per measurement below the header".into()),
        ));
    }
    let with_sigma = rows.iter().filter(|r| r.sigma_log_d.is_some()).count();
    if with_sigma > 0 && with_sigma < rows.len() {
        if let Some(r) = rows.iter().find(|r| r.sigma_log_d.is_none()) {
            return Err(loc.at(
                r.line,
                h.sigma,
                "`sigma_log_d` is missing on this row but given on others".into(),
                Some("give the uncertainty on every row or on none (then it is estimated from the scatter)".into()),
            ));
        }
    }
    Ok(rows)
}

fn header_help() -> String {
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    format!(
        "the header names the columns; accepted: {}",
        names.join(", ")
    )
}

fn csv_error(loc: &Locator<'_>, e: &csv::Error) -> DataError {
    let line = e.position().map_or(1, |p| p.line() as usize);
    let msg = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the text is not valid UTF-8".to_string(),
        _ => format!("not readable as CSV: {e}"),
    };
    loc.at(
        line,
        None,
        msg,
        Some("one measurement per line, fields separated by commas".into()),
    )
}

fn parse_row(
    loc: &Locator<'_>,
    h: &Header,
    rec: &csv::StringRecord,
    line: usize,
) -> Result<Measurement, DataError> {
    let cell = |k: Option<usize>| k.and_then(|k| rec.get(k)).filter(|s| !s.is_empty());
    let num = |k: Option<usize>, name: &str, positive: bool| -> Result<Option<f64>, DataError> {
        let Some(s) = cell(k) else { return Ok(None) };
        let v: f64 = s.parse().map_err(|_| {
            loc.at(
                line,
                k,
                format!("`{name}` is `{s}`, not a number"),
                Some("write a plain decimal number such as 2.5 or 1e-3".into()),
            )
        })?;
        if !v.is_finite() {
            return Err(loc.at(
                line,
                k,
                format!("`{name}` is `{s}`, not a finite number"),
                Some("NaN and infinities are not measurements; leave the row out".into()),
            ));
        }
        if positive && v <= 0.0 {
            return Err(loc.at(line, k, format!("`{name}` is {v}, it must be > 0"), Some(format!("{name} enters through its logarithm; a row with {name} <= 0 carries no equilibrium information"))));
        }
        Ok(Some(v))
    };
    let sym = cell(h.element).ok_or_else(|| {
        loc.at(
            line,
            h.element,
            "`element` is empty".into(),
            Some("give the element symbol, e.g. Nd".into()),
        )
    })?;
    let element = Element::from_symbol(sym).ok_or_else(|| {
        let hint = Element::from_symbol_ignore_case(sym)
            .map(|e| {
                format!(
                    "element symbols are case-sensitive: did you mean {}?",
                    e.symbol()
                )
            })
            .unwrap_or_else(|| {
                "use a symbol such as La, Ce, Pr, Nd, Sm, Y (Pm is not tracked)".into()
            });
        loc.at(
            line,
            h.element,
            format!("unknown element `{sym}`"),
            Some(hint),
        )
    })?;
    let ph = match (num(h.ph, "ph", false)?, num(h.h_conc, "h_conc", true)?) {
        (Some(p), _) => p,
        (None, Some(c)) => -c.log10(),
        (None, None) => {
            return Err(loc.at(
                line,
                h.ph.or(h.h_conc),
                "the row gives neither `ph` nor `h_conc`".into(),
                Some("give the equilibrium pH or acidity".into()),
            ))
        }
    };
    let extractant = num(h.extractant, "extractant", true)?.ok_or_else(|| {
        loc.at(
            line,
            h.extractant,
            "`extractant` is empty".into(),
            Some("give the total extractant concentration, mol/L".into()),
        )
    })?;
    let saponification = num(h.saponification, "saponification", false)?;
    if let Some(s) = saponification {
        if !(0.0..1.0).contains(&s) {
            return Err(loc.at(
                line,
                h.saponification,
                format!("`saponification` is {s}, it must be a fraction in 0..1"),
                Some("write 40 % as 0.4".into()),
            ));
        }
    }
    let org = num(h.org, "org", false)?;
    let aq = num(h.aq, "aq", false)?;
    if let Some(o) = org {
        if o < 0.0 {
            return Err(loc.at(
                line,
                h.org,
                format!("`org` is {o}, a concentration cannot be negative"),
                None,
            ));
        }
    }
    let d = match num(h.d, "d", true)? {
        Some(d) => d,
        None => match (aq, org) {
            (Some(a), Some(o)) if a > 0.0 && o > 0.0 => o / a,
            (Some(a), Some(o)) => {
                let (k, name, v) = if a <= 0.0 {
                    (h.aq, "aq", a)
                } else {
                    (h.org, "org", o)
                };
                return Err(loc.at(line, k, format!("`{name}` is {v}, so D = org / aq is not > 0"), Some("a row with D <= 0 (below detection) carries no log D; leave it out or give a detection limit as D".into())));
            }
            _ => {
                return Err(loc.at(
                    line,
                    h.d.or(h.aq),
                    "the row gives neither `d` nor both `aq` and `org`".into(),
                    Some("give D, or both equilibrium concentrations".into()),
                ))
            }
        },
    };
    let log_d = d.log10();
    let temperature = num(h.temperature, "temperature", false)?;
    let sigma_log_d = num(h.sigma, "sigma_log_d", true)?;
    let test = cell(h.test).map(str::to_string);
    Ok(Measurement {
        line,
        element,
        ph,
        extractant,
        saponification,
        org,
        log_d,
        temperature,
        sigma_log_d,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_locates_errors() {
        let ok = "# synthetic\nelement,ph,extractant,d\nNd,2.0,1.0,3.5\nPr, 2.1 ,1.0,1.2\n";
        let rows = parse_csv(ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].line, 4);
        assert!((rows[1].ph - 2.1).abs() < 1e-15);
        let bad = "element,ph,extractant,d\nNd,2.0,1.0,3.5\nNd,nan,1.0,3\n";
        let e = parse_csv(bad).unwrap_err();
        assert_eq!((e.line, e.column), (3, 4), "{e}");
        assert!(e.message.contains("not a finite number"), "{e}");
        let e = parse_csv("element,ph,extractant,d\nXx,2,1,3\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        let e = parse_csv("element,ph,extractant,d\nNd,2,1,0\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 8));
        assert!(e.message.contains("must be > 0"));
        let e = parse_csv("element,ph,d\nNd,2,3\n").unwrap_err();
        assert!(e.message.contains("missing column `extractant`"), "{e}");
        let e = parse_csv("element,ph,extractant,aq,org\nnd,2,1,0.1,0.2\n").unwrap_err();
        assert!(e.help.unwrap().contains("did you mean Nd"));
    }
}
