//! Renderers for `optimize` results: a text report and versioned JSON (pure functions, no I/O).

use std::fmt::Write as _;

use sxplan_opt::OptimizeResult;

/// Version of the optimize JSON document; bump on any incompatible change.
pub const OPTIMIZE_SCHEMA_VERSION: u32 = 1;

fn objective_name(r: &OptimizeResult) -> &'static str {
    match r.objective {
        sxplan_model::Objective::MaxThroughput => "max_throughput",
        sxplan_model::Objective::MinReagentCost => "min_reagent_cost",
        sxplan_model::Objective::MaxMargin => "max_margin",
    }
}

/// Finite number for JSON (NaN and infinities become null).
fn num(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The versioned JSON document of an optimization.
pub fn to_json(name: &str, r: &OptimizeResult) -> serde_json::Value {
    use serde_json::json;
    let passes: Vec<_> = r
        .passes
        .iter()
        .map(|p| {
            json!({
                "pass": p.pass,
                "objective": num(p.objective * if r.objective == sxplan_model::Objective::MaxThroughput { 1e-3 } else { 1.0 }),
                "step": num(p.step),
                "radius": num(p.radius),
                "max_violation": num(p.max_violation),
                "accepted": p.accepted,
                "outcome": p.outcome.as_str(),
                "lp_status": p.lp_status.as_str(),
                "lp_cols": p.lp_cols,
                "lp_rows": p.lp_rows,
                "lp_nonzeros": p.lp_nonzeros,
                "lp_time_s": p.lp_time_s.map_or(serde_json::Value::Null, num),
                "lp_iterations": p.lp_iterations,
                "optimality": num(p.optimality),
            })
        })
        .collect();
    let op: Vec<_> = r
        .operating_point
        .iter()
        .map(|v| {
            json!({
                "name": v.name,
                "value": num(v.value_user),
                "start": num(v.start_user),
                "unit": v.unit,
                "min": num(v.lower_user),
                "max": num(v.upper_user),
                "at_bound": v.at_bound,
                "reduced_cost": num(v.reduced_cost),
            })
        })
        .collect();
    let sp: Vec<_> = r
        .shadow_prices
        .iter()
        .map(|s| {
            json!({
                "rank": s.rank,
                "constraint": s.constraint,
                "kind": s.kind,
                "value": num(s.value),
                "unit": s.unit,
            })
        })
        .collect();
    let products: Vec<_> = r
        .products
        .iter()
        .map(|p| {
            let flows: serde_json::Map<String, serde_json::Value> = p
                .flow_mol
                .iter()
                .map(|(e, f)| (e.symbol().to_string(), num(*f)))
                .collect();
            json!({
                "name": p.name,
                "flow_mol_per_h": flows,
                "oxide_kg_per_h": num(p.oxide_kg_h),
                "purity": p.purity.map_or(serde_json::Value::Null, num),
                "purity_min": p.purity_min.map_or(serde_json::Value::Null, num),
                "recovery": p.recovery.iter().map(|(e, got, min)| json!({"element": e.symbol(), "value": num(*got), "min": num(*min)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let checks: Vec<_> = r
        .checks
        .iter()
        .map(|c| json!({"name": c.name, "kind": c.kind, "value": num(c.value), "limit": num(c.limit), "violation": num(c.violation)}))
        .collect();
    let conflicts: Vec<_> = r
        .conflicts
        .iter()
        .map(|c| json!({"constraint": c.constraint, "kind": c.kind, "relative_violation": num(c.relative_violation)}))
        .collect();
    json!({
        "schema_version": OPTIMIZE_SCHEMA_VERSION,
        "flowsheet": name,
        "status": r.status.as_str(),
        "reason": r.reason,
        "objective": {
            "kind": objective_name(r),
            "value": num(r.objective_value),
            "start": num(r.objective_start),
            "unit": r.objective_unit,
        },
        "backend": r.backend,
        "passes": passes,
        "operating_point": op,
        "shadow_prices": sp,
        "products": products,
        "checks": checks,
        "conflicts": conflicts,
        "lp_size": {"cols": r.lp_size.0, "rows": r.lp_size.1, "nonzeros": r.lp_size.2},
        "balance_closure": num(r.balance_closure),
        "confirmation": r.confirmation.as_ref().map_or(serde_json::Value::Null, |c| json!({
            "simulator": "sxplan_sim::Simulator",
            "status": c.status,
            "max_violation": num(c.max_violation),
            "mass_balance_error": num(c.mass_balance_error),
        })),
        "price_sources": r.price_sources,
    })
}

/// Pretty JSON text of [`to_json`], newline-terminated.
pub fn render_json(name: &str, r: &OptimizeResult) -> String {
    let mut s = serde_json::to_string_pretty(&to_json(name, r)).unwrap_or_default();
    s.push('\n');
    s
}

/// [`render_json`] with the report's overview as the last field `summary`.
pub fn render_json_with_summary(
    name: &str,
    r: &OptimizeResult,
    summary: Option<&crate::overview::Overview>,
) -> String {
    let mut v = to_json(name, r);
    if let (Some(o), serde_json::Value::Object(m)) = (summary, &mut v) {
        m.insert(
            "summary".into(),
            serde_json::to_value(o).unwrap_or(serde_json::Value::Null),
        );
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// A human-readable report.
pub fn render_text(name: &str, r: &OptimizeResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "optimize {name}: {} ({})",
        r.status.as_str(),
        objective_name(r)
    );
    if let Some(why) = &r.reason {
        let _ = writeln!(s, "why: {why}");
    }
    if r.objective_value.is_finite() && r.objective_start.is_finite() {
        let _ = writeln!(
            s,
            "objective: {:.6} {} (start {:.6} {}), backend {}, {} passes",
            r.objective_value,
            r.objective_unit,
            r.objective_start,
            r.objective_unit,
            r.backend,
            r.passes.len()
        );
    } else {
        // No number that is not a result: the plant was not simulated to a steady state.
        let _ = writeln!(
            s,
            "objective: not evaluated (the plant does not simulate to a steady state at the starting point; run `sxplan simulate` on it for the reason), backend {}, {} passes",
            r.backend,
            r.passes.len()
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "pass  objective        step       radius     max_viol   optimality outcome     lp(cols x rows, nnz)   lp_time"
    );
    let ofac = if r.objective == sxplan_model::Objective::MaxThroughput {
        1e-3
    } else {
        1.0
    };
    for p in &r.passes {
        let t = p
            .lp_time_s
            .map_or("-".to_string(), |t| format!("{:.3} s", t));
        let _ = writeln!(
            s,
            "{:>4}  {:<15.9} {:<10.3e} {:<10.3e} {:<10.3e} {:<10.3e} {:<11} {:>6} x {:<6} {:<8} {}",
            p.pass,
            p.objective * ofac,
            p.step,
            p.radius,
            p.max_violation,
            p.optimality,
            p.outcome.as_str(),
            p.lp_cols,
            p.lp_rows,
            p.lp_nonzeros,
            t
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "operating point:");
    for v in &r.operating_point {
        let _ = writeln!(
            s,
            "  {:<40} {:>12.6} {:<5} (start {:.6}, bounds {:.6}..{:.6}, {}{})",
            v.name,
            v.value_user,
            v.unit,
            v.start_user,
            v.lower_user,
            v.upper_user,
            v.at_bound,
            if v.at_bound != "between" && r.status == sxplan_opt::OptStatus::Optimal {
                format!(", reduced cost {:.6e}", v.reduced_cost)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "products (re-simulated):");
    for p in &r.products {
        let purity = match (p.purity, p.purity_min) {
            (Some(v), Some(m)) => format!(", purity {:.6} % (min {:.4} %)", 100.0 * v, 100.0 * m),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<24} {:.6} kg/h oxide{}",
            p.name, p.oxide_kg_h, purity
        );
        for (e, got, min) in &p.recovery {
            let _ = writeln!(
                s,
                "    recovery {} {:.4} % (min {:.2} %)",
                e.symbol(),
                100.0 * got,
                100.0 * min
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "specs and limits in simulation:");
    for c in &r.checks {
        let _ = writeln!(
            s,
            "  {:<44} value {:<14.8} limit {:<12.6} {}",
            c.name,
            c.value,
            c.limit,
            if c.violation > 0.0 {
                format!("VIOLATED by {:.3e}", c.violation)
            } else {
                "ok".into()
            }
        );
    }
    if !r.shadow_prices.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "what limits this plant (shadow prices, ranked):");
        for sp in &r.shadow_prices {
            let _ = writeln!(
                s,
                "  {:>2}. {:<44} {:>14.6e} {}",
                sp.rank, sp.constraint, sp.value, sp.unit
            );
        }
    }
    if !r.conflicts.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "conflicting specs (relax these together):");
        for c in &r.conflicts {
            if let Some(chk) = r.checks.iter().find(|k| k.name == c.constraint) {
                let _ = writeln!(
                    s,
                    "  {:<44} reaches {:.6}, needs {:.6} (relative violation {:.3e})",
                    c.constraint, chk.value, chk.limit, c.relative_violation
                );
                continue;
            }
            let _ = writeln!(
                s,
                "  {:<44} relative violation {:.6e}",
                c.constraint, c.relative_violation
            );
        }
    }
    if !r.price_sources.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "prices used:");
        for p in &r.price_sources {
            let _ = writeln!(s, "  {p}");
        }
    }
    if let Some(c) = &r.confirmation {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "simulated at the returned point (sxplan-sim, the simulator `sxplan simulate` runs): {}, largest spec violation {:.3e}, mass balance error {:.3e}",
            c.status, c.max_violation, c.mass_balance_error
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "lp size (last pass): {} columns, {} rows, {} nonzeros; mass balance closure {:.3e}",
        r.lp_size.0, r.lp_size.1, r.lp_size.2, r.balance_closure
    );
    s
}
