//! The result of `sxplan fit` (a [`FitResult`] of sxplan-fit) as the versioned JSON document
//! `fit.json`, as text for the terminal, and as a report (parameters with their intervals,
//! separation factors, the parameter correlations, a parity plot and a residual plot).

use std::fmt::Write as _;

use sxplan_fit::{FitResult, FitStatus};

use crate::charts::{fit_parity_svg, fit_residual_svg, fmt_sig, FitPoint};
use crate::doc::{Block, Figure, Report};

/// `schema_version` of the fit document.
pub const SCHEMA_VERSION: u32 = 1;
/// `kind` of the fit document.
pub const KIND: &str = "fit";

/// The fit document: `schema_version`, `kind`, the data file as given, and the result.
/// Every number in a result is finite (sxplan-fit refuses a fit whose covariance is not).
pub fn to_json(r: &FitResult, data_name: &str) -> String {
    // one flat document, like simulate's: the envelope first, then the result's own fields
    let mut doc = serde_json::Map::new();
    doc.insert("schema_version".into(), SCHEMA_VERSION.into());
    doc.insert("kind".into(), KIND.into());
    doc.insert("data".into(), data_name.into());
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(r) {
        doc.extend(fields);
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(doc)).unwrap_or_default()
}

fn status(r: &FitResult) -> &'static str {
    match r.status {
        FitStatus::Converged => "converged",
        FitStatus::NotConverged => "not converged",
    }
}

fn summary_line(r: &FitResult) -> String {
    format!(
        "{} model, {} measurements of {} elements, {} parameters, {} degrees of freedom: {}; R^2 {:.5}, RMS residual {} in log10 D, reduced chi-square {}",
        r.model.as_str(),
        r.n_rows,
        r.elements.len(),
        r.params.len(),
        r.dof,
        status(r),
        r.r_squared,
        fmt_sig(r.rms),
        fmt_sig(r.reduced_chi_square),
    )
}

fn param_rows(r: &FitResult) -> Vec<Vec<String>> {
    r.params
        .iter()
        .map(|p| {
            vec![
                p.label(),
                format!("{:.6}", p.value),
                format!("{:.3e}", p.std_error),
                format!("{:.6}", p.ci_low),
                format!("{:.6}", p.ci_high),
            ]
        })
        .collect()
}

fn beta_rows(r: &FitResult) -> Vec<Vec<String>> {
    r.betas
        .iter()
        .map(|b| {
            vec![
                format!("{}/{}", b.heavier, b.lighter),
                format!("{:.4}", b.beta),
                format!("{:.4}", b.ci_low),
                format!("{:.4}", b.ci_high),
            ]
        })
        .collect()
}

const PARAM_HEAD: [&str; 5] = ["parameter", "value", "std. error", "95 % low", "95 % high"];
const BETA_HEAD: [&str; 4] = ["pair", "beta", "95 % low", "95 % high"];

/// The fit as text for the terminal: the summary, the parameters and the separation factors.
pub fn render_text(r: &FitResult, data_name: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "fit of {data_name}: {}", summary_line(r));
    let _ = writeln!(o, "method: {}", r.method);
    let _ = writeln!(o, "covariance: {}", r.covariance_basis.describe());
    let _ = writeln!(
        o,
        "condition number of the scaled Jacobian: {:.2e}",
        r.condition_number
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "  {:<14} {:>12} {:>11} {:>12} {:>12}",
        PARAM_HEAD[0], PARAM_HEAD[1], PARAM_HEAD[2], PARAM_HEAD[3], PARAM_HEAD[4]
    );
    for row in param_rows(r) {
        let _ = writeln!(
            o,
            "  {:<14} {:>12} {:>11} {:>12} {:>12}",
            row[0], row[1], row[2], row[3], row[4]
        );
    }
    for f in &r.fixed {
        let _ = writeln!(o, "  {:<14} {:>12} {}", f.name, fmt_sig(f.value), f.reason);
    }
    if !r.betas.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "adjacent separation factors at pH {} and extractant {} mol/L (95 % interval):",
            fmt_sig(r.ref_ph),
            fmt_sig(r.ref_extractant)
        );
        for row in beta_rows(r) {
            let _ = writeln!(o, "  {:<8} {:>9}  [{}, {}]", row[0], row[1], row[2], row[3]);
        }
    }
    let worst = r
        .residuals
        .iter()
        .max_by(|a, b| a.standardized.abs().total_cmp(&b.standardized.abs()));
    if let Some(w) = worst {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "largest standardized residual: {} at line {} ({} at pH {}: measured log10 D {}, fitted {})",
            fmt_sig(w.standardized),
            w.line,
            w.element,
            fmt_sig(w.ph),
            fmt_sig(w.log_d_measured),
            fmt_sig(w.log_d_fitted)
        );
    }
    for n in &r.notes {
        let _ = writeln!(o, "note: {n}");
    }
    o
}

/// Correlation matrix rows of the fitted parameters (from the covariance).
fn correlation_rows(r: &FitResult) -> Vec<Vec<String>> {
    let sd: Vec<f64> = (0..r.params.len())
        .map(|i| r.covariance[i][i].sqrt())
        .collect();
    r.params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut row = vec![p.label()];
            row.extend((0..r.params.len()).map(|j| {
                let c = r.covariance[i][j] / (sd[i] * sd[j]);
                if c.is_finite() {
                    format!("{c:.3}")
                } else {
                    "-".into()
                }
            }));
            row
        })
        .collect()
}

/// The report of a fit: summary, parameters, separation factors, correlations (up to 16
/// parameters), parity and residual plots, and the rows with the largest residuals.
pub fn fit_report(r: &FitResult, data_name: &str) -> Report {
    let mut blocks = vec![Block::Heading(
        1,
        format!("sxplan report: {} fit of {data_name}", r.model.as_str()),
    )];
    blocks.push(Block::Para(format!("{}.", summary_line(r))));
    blocks.push(Block::Para(format!(
        "Method: {}. Covariance {}. Condition number of the column-scaled Jacobian {:.2e}.",
        r.method,
        r.covariance_basis.describe(),
        r.condition_number
    )));
    blocks.push(Block::Heading(2, "Parameters".into()));
    blocks.push(Block::Table(
        PARAM_HEAD.iter().map(|h| h.to_string()).collect(),
        param_rows(r),
    ));
    if !r.fixed.is_empty() {
        blocks.push(Block::Table(
            vec!["held".into(), "value".into(), "why".into()],
            r.fixed
                .iter()
                .map(|f| vec![f.name.clone(), fmt_sig(f.value), f.reason.clone()])
                .collect(),
        ));
    }
    if !r.betas.is_empty() {
        blocks.push(Block::Heading(2, "Adjacent separation factors".into()));
        blocks.push(Block::Para(format!(
            "beta = D(heavier) / D(lighter) at pH {} and extractant {} mol/L; the interval is the delta method on the parameter covariance.",
            fmt_sig(r.ref_ph),
            fmt_sig(r.ref_extractant)
        )));
        blocks.push(Block::Table(
            BETA_HEAD.iter().map(|h| h.to_string()).collect(),
            beta_rows(r),
        ));
    }
    if r.params.len() <= 16 {
        blocks.push(Block::Heading(2, "Parameter correlations".into()));
        let mut head = vec![String::new()];
        head.extend(r.params.iter().map(|p| p.label()));
        blocks.push(Block::Table(head, correlation_rows(r)));
    }
    blocks.push(Block::Heading(2, "Fit quality".into()));
    let parity: Vec<FitPoint> = r
        .residuals
        .iter()
        .map(|x| (x.element.clone(), x.log_d_fitted, x.log_d_measured))
        .collect();
    let resid: Vec<FitPoint> = r
        .residuals
        .iter()
        .map(|x| (x.element.clone(), x.ph, x.standardized))
        .collect();
    let figures = vec![
        Figure {
            file: "fit_parity.svg".into(),
            caption: "Measured against fitted log10 D; points on the diagonal are fitted exactly"
                .into(),
            svg: fit_parity_svg(&parity),
        },
        Figure {
            file: "fit_residuals.svg".into(),
            caption: "Standardized residuals against pH; with a right model about 95 % lie inside +/- 2 and show no trend".into(),
            svg: fit_residual_svg(&resid),
        },
    ];
    blocks.push(Block::Figure(0));
    blocks.push(Block::Figure(1));
    let mut worst: Vec<_> = r.residuals.iter().collect();
    worst.sort_by(|a, b| b.standardized.abs().total_cmp(&a.standardized.abs()));
    blocks.push(Block::Para(
        "The rows with the largest standardized residuals (at most 10):".into(),
    ));
    blocks.push(Block::Table(
        [
            "line",
            "element",
            "pH",
            "extractant, mol/L",
            "log10 D measured",
            "log10 D fitted",
            "residual / sigma",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        worst
            .iter()
            .take(10)
            .map(|x| {
                vec![
                    x.line.to_string(),
                    x.element.clone(),
                    fmt_sig(x.ph),
                    fmt_sig(x.extractant),
                    format!("{:.4}", x.log_d_measured),
                    format!("{:.4}", x.log_d_fitted),
                    format!("{:.3}", x.standardized),
                ]
            })
            .collect(),
    ));
    if !r.notes.is_empty() {
        blocks.push(Block::Heading(2, "Notes".into()));
        for n in &r.notes {
            blocks.push(Block::Para(n.clone()));
        }
    }
    Report {
        title: format!("{} fit of {data_name}", r.model.as_str()),
        blocks,
        figures,
        dot: None,
    }
}
