//! Case comparison (`sxplan compare A.json B.json ...`): a table of what changed between saved
//! simulate or optimize results, with the delta of every case against the first.
//!
//! Rows come from each document's `summary` (docs/simulate-json.md: annual products and
//! purities, specs met, reagents, costs, equipment and organic inventory) and, for optimize
//! documents, the objective and the operating point. A row a case lacks shows `-` and no delta.

use std::fmt::Write as _;

use serde_json::Value;

use crate::input::{ReportError, ReportInput};

/// One compared quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Group (`operating point`, `products`, `reagents`, `costs`, `equipment`, `status`).
    pub group: String,
    /// What (`organic_flow PrNd`, `Nd2O3 t REO/year`).
    pub item: String,
    /// Unit.
    pub unit: String,
    /// Value per case (text rows: `None`, see `text`).
    pub values: Vec<Option<f64>>,
    /// Text per case, for rows that are not numbers (status).
    pub text: Vec<Option<String>>,
}

/// The comparison of several cases.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// Case names (file names), the first being the base of the deltas.
    pub cases: Vec<String>,
    /// Rows in order of first appearance.
    pub rows: Vec<Row>,
}

struct Collector {
    n: usize,
    rows: Vec<Row>,
}

impl Collector {
    fn row(&mut self, group: &str, item: &str, unit: &str) -> &mut Row {
        let i = match self
            .rows
            .iter()
            .position(|r| r.group == group && r.item == item && r.unit == unit)
        {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    group: group.into(),
                    item: item.into(),
                    unit: unit.into(),
                    values: vec![None; self.n],
                    text: vec![None; self.n],
                });
                self.rows.len() - 1
            }
        };
        &mut self.rows[i]
    }
    fn num(&mut self, case: usize, group: &str, item: &str, unit: &str, v: Option<f64>) {
        if let Some(v) = v.filter(|x| x.is_finite()) {
            self.row(group, item, unit).values[case] = Some(v);
        }
    }
    fn text(&mut self, case: usize, group: &str, item: &str, v: String) {
        self.row(group, item, "").text[case] = Some(v);
    }
}

/// Compares result documents `(name, document)`; each must be a simulate or optimize result
/// (a design document has no plant to compare).
pub fn compare(cases: &[(String, Value)]) -> Result<Comparison, ReportError> {
    let mut c = Collector {
        n: cases.len(),
        rows: Vec::new(),
    };
    for (k, (_, doc)) in cases.iter().enumerate() {
        let input = ReportInput::from_documents(std::slice::from_ref(doc))
            .map_err(|e| renumber(e, k + 1))?;
        if let Some(o) = &input.opt {
            c.text(k, "status", "optimization", o.status.clone());
            c.num(
                k,
                "objective",
                &o.objective.kind,
                &o.objective.unit,
                o.objective.value,
            );
            if input.summary.is_none() {
                for v in &o.operating_point {
                    c.num(k, "operating point", &v.name, &v.unit, v.value);
                }
            }
        }
        if let Some(s) = &input.sim {
            c.text(k, "status", "simulation", s.status.clone());
        }
        let Some(ov) = &input.summary else {
            continue;
        };
        c.text(k, "status", "summary basis", ov.basis.clone());
        for v in &ov.operating_point {
            c.num(k, "operating point", &v.name, &v.unit, Some(v.value));
        }
        let met = ov.specs.iter().filter(|s| s.pass).count();
        c.text(k, "specs", "met", format!("{met} of {}", ov.specs.len()));
        for s in &ov.specs {
            let scale = if s.unit == "fraction" { 100.0 } else { 1.0 };
            let unit = if s.unit == "fraction" { "%" } else { &s.unit };
            c.num(k, "spec margins", &s.name, unit, Some(s.margin * scale));
        }
        c.num(
            k,
            "products",
            "all products",
            "t REO/year",
            Some(ov.reo_t_per_year),
        );
        for p in &ov.products {
            c.num(k, "products", &p.name, "t REO/year", Some(p.reo_t_per_year));
            c.num(
                k,
                "purities",
                &p.name,
                "% (REO mass)",
                Some(p.purity_reo_mass * 100.0),
            );
        }
        for r in &ov.reagents {
            c.num(k, "reagents", &r.reagent, "t/year", Some(r.t_per_year));
        }
        let co = &ov.costs;
        c.num(
            k,
            "costs",
            "product value",
            "US$/year",
            Some(co.product_value_usd_per_year),
        );
        c.num(
            k,
            "costs",
            "reagent cost",
            "US$/year",
            Some(co.reagent_cost_usd_per_year),
        );
        c.num(
            k,
            "costs",
            "margin",
            "US$/year",
            Some(co.margin_usd_per_year),
        );
        let e = &ov.equipment;
        c.num(k, "equipment", "mixers", "m3", Some(e.mixer_m3));
        c.num(k, "equipment", "settlers", "m2", Some(e.settler_m2));
        c.num(
            k,
            "equipment",
            "organic inventory",
            "m3",
            Some(e.organic_m3),
        );
        for ce in &e.circuits {
            c.num(
                k,
                "equipment",
                &format!("organic inventory {}", ce.circuit),
                "m3",
                Some(ce.organic_m3),
            );
        }
    }
    Ok(Comparison {
        cases: cases.iter().map(|(n, _)| n.clone()).collect(),
        rows: c.rows,
    })
}

fn renumber(e: ReportError, index: usize) -> ReportError {
    match e {
        ReportError::UnknownDocument { .. } => ReportError::UnknownDocument { index },
        ReportError::UnsupportedVersion {
            kind,
            found,
            supported,
            ..
        } => ReportError::UnsupportedVersion {
            index,
            kind,
            found,
            supported,
        },
        ReportError::Malformed { kind, message, .. } => ReportError::Malformed {
            index,
            kind,
            message,
        },
        ReportError::OutOfRange {
            kind,
            path,
            value,
            why,
            ..
        } => ReportError::OutOfRange {
            index,
            kind,
            path,
            value,
            why,
        },
        other => other,
    }
}

/// A number with four significant digits and thousands separators for large ones.
fn fmt(v: f64) -> String {
    if v.abs() >= 1e4 {
        crate::overview::usd(v)
    } else {
        crate::charts::fmt_sig(v)
    }
}

/// The header and the cells of every row: item, unit, then per case its value and (after the
/// first) its delta against the first.
fn cells(c: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let mut head = vec!["group".to_string(), "item".into(), "unit".into()];
    for (i, n) in c.cases.iter().enumerate() {
        head.push(n.clone());
        if i > 0 {
            head.push(format!("delta {}", i + 1));
        }
    }
    let rows = c
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.group.clone(), r.item.clone(), r.unit.clone()];
            for i in 0..c.cases.len() {
                let shown = match (&r.text[i], r.values[i]) {
                    (Some(t), _) => t.clone(),
                    (None, Some(v)) => fmt(v),
                    (None, None) => "-".into(),
                };
                row.push(shown);
                if i > 0 {
                    let delta = match (r.values[0], r.values[i], &r.text[0], &r.text[i]) {
                        (Some(a), Some(b), _, _) => {
                            let d = b - a;
                            if d == 0.0 {
                                "0".to_string()
                            } else if a != 0.0 {
                                format!(
                                    "{}{} ({:+.1} %)",
                                    if d > 0.0 { "+" } else { "" },
                                    fmt(d),
                                    100.0 * d / a.abs()
                                )
                            } else {
                                format!("{}{}", if d > 0.0 { "+" } else { "" }, fmt(d))
                            }
                        }
                        (_, _, Some(a), Some(b)) if a != b => "changed".into(),
                        (_, _, Some(_), Some(_)) => "same".into(),
                        _ => "-".into(),
                    };
                    row.push(delta);
                }
            }
            row
        })
        .collect();
    (head, rows)
}

/// The comparison as aligned text.
pub fn render_text(c: &Comparison) -> String {
    let (head, rows) = cells(c);
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, x) in r.iter().enumerate() {
            widths[i] = widths[i].max(x.chars().count());
        }
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "compare: {} cases, deltas against {}",
        c.cases.len(),
        c.cases.first().map_or("-", |s| s.as_str())
    );
    let line = |o: &mut String, r: &[String]| {
        let parts: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, x)| format!("{x:<w$}", w = widths[i]))
            .collect();
        let _ = writeln!(o, "  {}", parts.join("  ").trim_end());
    };
    line(&mut o, &head);
    for r in &rows {
        line(&mut o, r);
    }
    o
}

/// The comparison as a Markdown table.
pub fn render_markdown(c: &Comparison) -> String {
    let (head, rows) = cells(c);
    let mut o = String::from("# sxplan compare\n\n");
    let _ = writeln!(
        o,
        "Deltas against the first case, {}.\n",
        c.cases.first().map_or("-", |s| s.as_str())
    );
    let _ = writeln!(o, "| {} |", head.join(" | "));
    let _ = writeln!(o, "|{}", "---|".repeat(head.len()));
    for r in &rows {
        let cells: Vec<String> = r.iter().map(|x| x.replace('|', "\\|")).collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
    }
    o
}

/// The comparison as a self-contained HTML page.
pub fn render_html(c: &Comparison) -> String {
    let (head, rows) = cells(c);
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut o = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>sxplan compare</title>\n<style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;font-size:.86em}th,td{border:1px solid #d5d9e0;padding:3px 8px;text-align:left}th{background:#eef2f8}</style>\n</head>\n<body>\n<h1>sxplan compare</h1>\n");
    let _ = writeln!(
        o,
        "<p>Deltas against the first case, {}.</p>",
        esc(c.cases.first().map_or("-", |s| s.as_str()))
    );
    o.push_str("<table>\n<thead><tr>");
    for h in &head {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for r in &rows {
        o.push_str("<tr>");
        for x in r {
            let _ = write!(o, "<td>{}</td>", esc(x));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    o
}
