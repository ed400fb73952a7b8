//! Renderers for `simulate` results: versioned JSON and a text summary.
//!
//! Pure functions from [`SimResult`] to text; the CLI decides where the text goes. Floats in
//! text use fixed formats so output is deterministic; JSON uses serde_json's shortest
//! round-trip representation. The JSON fields are documented in `docs/simulate-json.md`. The
//! CSV stage profiles and stream table are in [`crate::csv`] (one implementation for reports
//! rendered in process and re-rendered from saved JSON).

use std::fmt::Write as _;

use sxplan_sim::SimResult;

/// The result as pretty-printed JSON (`schema_version` first, fields in declaration order).
pub fn to_json(result: &SimResult) -> String {
    // Serialization of plain data with string map keys cannot fail; fall back to an
    // explicit error object rather than panicking if it ever did.
    serde_json::to_string_pretty(result).unwrap_or_else(|e| {
        format!(
            "{{\"schema_version\": {}, \"error\": \"{}\"}}",
            result.schema_version, e
        )
    })
}

/// The result as pretty-printed JSON with the report's overview as its last field `summary`
/// (docs/simulate-json.md); without one, exactly [`to_json`].
pub fn to_json_with_summary(
    result: &SimResult,
    summary: Option<&crate::overview::Overview>,
) -> String {
    #[derive(serde::Serialize)]
    struct WithSummary<'a> {
        #[serde(flatten)]
        result: &'a SimResult,
        summary: &'a crate::overview::Overview,
    }
    match summary {
        None => to_json(result),
        Some(summary) => serde_json::to_string_pretty(&WithSummary { result, summary })
            .unwrap_or_else(|_| to_json(result)),
    }
}

/// A readable summary: status, mass balance, products, reagents, circuits, warnings.
pub fn to_text(result: &SimResult) -> String {
    let mut out = String::new();
    let d = &result.diagnostics;
    let _ = writeln!(out, "flowsheet {}: {}", result.flowsheet, result.status);
    let _ = writeln!(
        out,
        "  {} stages, {} streams, {} tear streams; {} recycle iterations, {} chain iterations ({})",
        d.n_stages, d.n_streams, d.n_tears, result.iterations, d.chain_iterations, d.algorithm
    );
    let _ = writeln!(
        out,
        "  max stage residual {:.2e}, recycle residual {:.2e}, mass balance max relative error {:.2e}",
        d.max_stage_residual, d.recycle_residual, result.mass_balance.max_relative_error
    );
    let b = &d.budget;
    if b.spent != sxplan_sim::BudgetSpent::None {
        let _ = writeln!(
            out,
            "  budget spent: {} (limit {} s, {} iterations; used {} iterations{})",
            b.spent.as_str(),
            b.time_limit_s,
            b.max_iterations,
            b.iterations,
            b.elapsed_s.map_or(String::new(), |t| format!(", {t:.2} s"))
        );
        for c in &b.circuits {
            let _ = writeln!(
                out,
                "    circuit {:<16} {} solve(s), {} iteration(s){}",
                c.name,
                c.solves,
                c.iterations,
                c.time_s.map_or(String::new(), |t| format!(", {t:.2} s"))
            );
        }
    }
    // A run that did not converge ends at an iterate, not at a state of the plant: its product
    // purities and stage profiles are not results and are not shown (the reagents are inputs).
    let steady = result.status.is_converged();
    if !steady && !result.products.is_empty() {
        let _ = writeln!(
            out,
            "\nproducts: not reported: the simulation ended at an iterate that is not a steady state"
        );
    }
    if steady && !result.products.is_empty() {
        let _ = writeln!(out, "\nproducts:");
        for p in &result.products {
            let els: Vec<&str> = p.purity_elements.iter().map(|e| e.symbol()).collect();
            let spec = p.purity_spec.as_ref().map_or(String::new(), |s| {
                format!(
                    " (spec >= {:.4} {}: {})",
                    s.min,
                    s.basis,
                    if s.met { "met" } else { "NOT met" }
                )
            });
            let _ = writeln!(
                out,
                "  {:<16} purity {} {:.6} mol, {:.6} REO mass{spec}; {:.4} kg/h REO",
                p.id,
                els.join("+"),
                p.purity_mol,
                p.purity_reo_mass,
                p.reo_kg_per_h
            );
            let rec: Vec<String> = p
                .recovery
                .iter()
                .filter(|(_, r)| **r >= 1e-4)
                .map(|(e, r)| format!("{e} {:.4}", r))
                .collect();
            if !rec.is_empty() {
                let _ = writeln!(out, "  {:<16} recovery {}", "", rec.join(", "));
            }
        }
    }
    if !result.reagents.items.is_empty() {
        let _ = writeln!(out, "\nreagents:");
        for r in &result.reagents.items {
            let per_t = r
                .t_per_t_reo
                .map_or(String::new(), |t| format!(", {t:.3} t/t REO"));
            let _ = writeln!(
                out,
                "  {:<8} {:<32} {:.4} mol/h, {:.4} kg/h{per_t}",
                r.reagent, r.use_, r.mol_per_h, r.kg_per_h
            );
        }
    }
    if !result.circuits.is_empty() {
        let _ = writeln!(out, "\ncircuits:");
        for c in &result.circuits {
            let ph: Vec<f64> = c.stages.iter().map(|s| s.ph).collect();
            let (lo, hi) = ph
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            let max_load = c
                .stages
                .iter()
                .map(|s| s.loading_mol_per_l)
                .fold(0.0f64, f64::max);
            if !c.status.is_converged() {
                let _ = writeln!(
                    out,
                    "  {:<16} {} model, {} after {} iterations, residual {} (no profile: not a steady state)",
                    c.name,
                    c.model,
                    c.status,
                    c.iterations,
                    // an iterate that diverged can reach any magnitude; not a figure to read
                    if c.max_residual.is_finite() && c.max_residual <= 1e100 {
                        format!("{:.2e}", c.max_residual)
                    } else {
                        "above 1e100".to_string()
                    }
                );
                continue;
            }
            let _ = writeln!(
                out,
                "  {:<16} {} stages, {} model, {} after {} iterations, residual {:.2e}, pH {:.2}..{:.2}, max loading {:.4} mol/L",
                c.name,
                c.stages.len(),
                c.model,
                c.status,
                c.iterations,
                c.max_residual,
                if lo.is_finite() { lo } else { 0.0 },
                if hi.is_finite() { hi } else { 0.0 },
                max_load
            );
        }
    }
    if !d.warnings.is_empty() {
        let _ = writeln!(out, "\nwarnings:");
        for w in &d.warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}
