//! Renderers for `design` results: a text report, versioned JSON and Markdown (pure functions).
//!
//! Text and Markdown use fixed float formats so output is deterministic; JSON uses serde_json's
//! shortest round-trip representation, with `schema_version` first and the headline figures
//! (`f_a`, `control`, `e_m`, `e_prime_m`, `s`, `w`, `w_min`, `n_min_fenske`, `n_shortcut`,
//! `m_shortcut`, `n`, `m`, `purity_a`, `purity_b`) at the top level. Documented in docs/design.md.

use std::fmt::Write as _;

use serde_json::{json, Value};
use sxplan_design::flows::{Flows, UnitFlows};
use sxplan_design::search::StagePoint;
use sxplan_design::sensitivity::SensitivityPoint;
use sxplan_design::{CutDesign, SearchStatus, Sensitivity};

/// Version of the design JSON document; bump on any incompatible change.
pub const DESIGN_SCHEMA_VERSION: u32 = 1;

fn opt_f(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.prec$}"))
}

fn split_list(splits: &[(usize, usize)]) -> String {
    splits
        .iter()
        .map(|(n, m)| format!("{n}+{m}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn point_json(p: &StagePoint) -> Value {
    json!({
        "n": p.n,
        "m": p.m,
        "purity_a": p.purity_a,
        "purity_b": p.purity_b,
        "impurity_a": p.impurity_a,
        "impurity_b": p.impurity_b,
        "meets_spec": p.meets_spec,
        "sim_status": p.sim_status.as_str(),
        "max_residual": p.max_residual,
        "iterations": p.iterations,
    })
}

fn confirmation_json(c: &sxplan_design::search::Confirmation) -> Value {
    json!({
        "sim_status": c.sim_status.as_str(),
        "max_residual": c.max_residual,
        "purity_a": c.purity_a,
        "purity_b": c.purity_b,
        "agrees": c.agrees,
    })
}

fn unit_flows_json(u: &UnitFlows) -> Value {
    json!({
        "conc_org_loaded": u.conc_org_loaded,
        "flow_vol_org": u.flow_vol_org,
        "flow_vol_scrub": u.flow_vol_scrub,
        "flow_vol_strip": u.flow_vol_strip,
        "flow_vol_feed": u.flow_vol_feed,
        "base": u.base,
        "acid_scrub": u.acid_scrub,
        "acid_strip": u.acid_strip,
        "ratio_oa_extraction": u.ratio_oa_extraction,
        "ratio_oa_scrub": u.ratio_oa_scrub,
    })
}

fn flows_json(f: &Flows) -> Value {
    json!({
        "basis": {
            "extractant_conc_mol_per_l": f.basis.extractant_conc,
            "saponification": f.basis.saponification,
            "loading_capacity_mol_per_l": f.basis.loading_capacity,
            "scrub_acid_mol_per_l": f.basis.scrub_acid,
            "strip_acid_mol_per_l": f.basis.strip_acid,
            "acid_excess": f.basis.acid_excess,
            "feed_conc_mol_per_l": f.basis.feed_conc,
            "feed_rate_mol_per_h": f.basis.feed_rate,
        },
        "units": "per_mol_feed: L and mol per mol REE feed; per_hour: L/h and mol/h",
        "per_mol_feed": unit_flows_json(&f.per_mol_feed),
        "per_hour": f.per_hour.as_ref().map(unit_flows_json),
    })
}

fn sens_json(p: &SensitivityPoint) -> Value {
    json!({
        "purity_a": p.purity_a,
        "purity_b": p.purity_b,
        "w_over_w_min": p.w_over_w_min,
        "w": p.w,
        "n_min_fenske": p.n_min_fenske,
        "n_shortcut": p.n_shortcut,
        "m_shortcut": p.m_shortcut,
        "status": p.status,
        "n": p.n,
        "m": p.m,
    })
}

/// The versioned JSON document of a design (and its sensitivity curves, when computed).
pub fn to_json_value(d: &CutDesign, sensitivity: Option<&Sensitivity>) -> Value {
    let sc = &d.shortcut;
    let best = d.rigorous.best.as_ref();
    json!({
        "schema_version": DESIGN_SCHEMA_VERSION,
        "kind": "design",
        "key_a": d.key_a,
        "key_b": d.key_b,
        "feed_phase": sc.feed_phase.as_str(),
        "sep_factor": sc.sep_factor,
        "sep_factor_scrub": sc.sep_factor_scrub,
        "x_a": sc.x_a,
        "purity_a_spec": d.purity_a_spec,
        "purity_b_spec": d.purity_b_spec,
        "f_a": sc.outlet.f_a,
        "f_b": sc.outlet.f_b,
        "recovery_a": sc.outlet.recovery_a,
        "recovery_b": sc.outlet.recovery_b,
        "a": sc.a,
        "b": sc.b,
        "control": sc.control.as_str(),
        "e_m": sc.chosen.e_m,
        "e_prime_m": sc.chosen.e_prime_m,
        "s": sc.chosen.s,
        "w": sc.chosen.w,
        "w_min": sc.w_min,
        "s_min": sc.s_min,
        "w_over_w_min": sc.w_over_w_min,
        "optimum": {
            "e_m": sc.optimum.e_m,
            "e_prime_m": sc.optimum.e_prime_m,
            "s": sc.optimum.s,
            "w": sc.optimum.w,
        },
        "n_min_fenske": sc.n_min_fenske,
        "n_shortcut": sc.n_shortcut,
        "m_shortcut": sc.m_shortcut,
        "status": d.rigorous.status,
        "n": best.map(|b| b.n),
        "m": best.map(|b| b.m),
        "n_stages": best.map(|b| b.n + b.m),
        "purity_a": best.map(|b| b.purity_a),
        "purity_b": best.map(|b| b.purity_b),
        "rigorous": {
            "best": best.map(point_json),
            "feasible_splits": d.rigorous.feasible_splits,
            "one_fewer": d.rigorous.one_fewer.as_ref().map(point_json),
            "confirmation": d.rigorous.confirmation.as_ref().map(confirmation_json),
            "evaluations": d.rigorous.evaluations,
            "unconverged": d.rigorous.unconverged,
        },
        "distribution": d.distribution,
        "flows": d.flows.as_ref().map(flows_json),
        "sensitivity": sensitivity.map(|s| json!({
            "vs_reflux": s.vs_reflux.iter().map(sens_json).collect::<Vec<_>>(),
            "vs_purity": s.vs_purity.iter().map(sens_json).collect::<Vec<_>>(),
        })),
    })
}

/// The versioned JSON document, pretty-printed, with a trailing newline.
pub fn to_json(d: &CutDesign, sensitivity: Option<&Sensitivity>) -> String {
    let v = to_json_value(d, sensitivity);
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|e| {
        format!("{{\"schema_version\": {DESIGN_SCHEMA_VERSION}, \"error\": \"{e}\"}}")
    });
    s.push('\n');
    s
}

fn status_line(d: &CutDesign) -> String {
    match d.rigorous.status {
        SearchStatus::Found => "found".to_string(),
        SearchStatus::InfeasibleReflux => format!(
            "infeasible at this reflux (W/W_min = {:.4} < 1: no number of stages reaches the purities)",
            d.shortcut.w_over_w_min
        ),
        SearchStatus::StageLimit => {
            "stage limit: the purities were not reached within the stage limit".to_string()
        }
        SearchStatus::BudgetSpent => format!(
            "budget spent: the run's time or candidate budget ran out after {} simulated candidates (raise --time-limit or --max-iterations)",
            d.rigorous.evaluations
        ),
    }
}

/// A plain-text report of a design.
pub fn to_text(d: &CutDesign, sensitivity: Option<&Sensitivity>) -> String {
    let sc = &d.shortcut;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "design: cut {} | {} ({} feed), sep_factor {:.4} (scrub {:.4})",
        d.key_a,
        d.key_b,
        sc.feed_phase.as_str(),
        sc.sep_factor,
        sc.sep_factor_scrub
    );
    let _ = writeln!(
        o,
        "feed x_A {:.6}; specs P_A {:.6}, P_B {:.6}",
        sc.x_a, d.purity_a_spec, d.purity_b_spec
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "shortcut (Xu Guangxian, constant mixed extraction ratio):"
    );
    let _ = writeln!(
        o,
        "  outlet fractions      f'_A {:.6}  f'_B {:.6}",
        sc.outlet.f_a, sc.outlet.f_b
    );
    let _ = writeln!(
        o,
        "  recoveries            Y_A {:.6}  Y_B {:.6}",
        sc.outlet.recovery_a, sc.outlet.recovery_b
    );
    let _ = writeln!(o, "  purification factors  a {:.4}  b {:.4}", sc.a, sc.b);
    let _ = writeln!(
        o,
        "  control               {} section at Xu's optimum (E_M {:.6}, E'_M {:.6})",
        sc.control.as_str(),
        sc.optimum.e_m,
        sc.optimum.e_prime_m
    );
    let _ = writeln!(
        o,
        "  chosen ratios         E_M {:.6}  E'_M {:.6}",
        sc.chosen.e_m, sc.chosen.e_prime_m
    );
    let _ = writeln!(
        o,
        "  amounts (per mol feed) S {:.6}  W {:.6}",
        sc.chosen.s, sc.chosen.w
    );
    let _ = writeln!(
        o,
        "  minimum reflux        W_min {:.6}  S_min {:.6}  W/W_min {:.4}",
        sc.w_min, sc.s_min, sc.w_over_w_min
    );
    let _ = writeln!(o, "  Fenske N_min          {:.2}", sc.n_min_fenske);
    let _ = writeln!(
        o,
        "  Xu shortcut           n {}  m {}",
        opt_f(sc.n_shortcut, 2),
        opt_f(sc.m_shortcut, 2)
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "rigorous minimum (simulated stage by stage):");
    let _ = writeln!(o, "  status                {}", status_line(d));
    if let Some(b) = &d.rigorous.best {
        let _ = writeln!(
            o,
            "  stages                n {}  m {}  (total {})",
            b.n,
            b.m,
            b.n + b.m
        );
        let _ = writeln!(
            o,
            "  purities              P_A {:.8}  P_B {:.8}  (simulation {}, residual {:.1e})",
            b.purity_a,
            b.purity_b,
            b.sim_status.as_str(),
            b.max_residual
        );
        let _ = writeln!(
            o,
            "  impurities            1-P_A {:.4e}  1-P_B {:.4e}  (allowed {:.4e}, {:.4e})",
            b.impurity_a,
            b.impurity_b,
            1.0 - d.purity_a_spec,
            1.0 - d.purity_b_spec
        );
        let _ = writeln!(
            o,
            "  feasible splits       {}",
            split_list(&d.rigorous.feasible_splits)
        );
    }
    if let Some(c) = &d.rigorous.confirmation {
        let _ = writeln!(
            o,
            "  second solver         {} P_A {:.8}  P_B {:.8}  ({}, residual {:.1e})",
            if c.agrees { "agrees:" } else { "DISAGREES:" },
            c.purity_a,
            c.purity_b,
            c.sim_status.as_str(),
            c.max_residual
        );
    }
    if let Some(f) = &d.rigorous.one_fewer {
        let _ = writeln!(
            o,
            "  one stage fewer       best {}+{} gives P_A {:.8}  P_B {:.8} (misses the specs)",
            f.n, f.m, f.purity_a, f.purity_b
        );
    }
    let _ = writeln!(
        o,
        "  simulations           {} ({} not converged)",
        d.rigorous.evaluations, d.rigorous.unconverged
    );
    if !d.distribution.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "distribution at the rigorous design:");
        let _ = writeln!(
            o,
            "  {:<8} {:>5} {:>10} {:>10} {:>12} {:>12} {:>12} {:>12}",
            "comp",
            "group",
            "beta",
            "x_feed",
            "to_organic",
            "to_aqueous",
            "x_org_prod",
            "x_aq_prod"
        );
        for c in &d.distribution {
            let _ = writeln!(
                o,
                "  {:<8} {:>5} {:>10.4} {:>10.6} {:>12.6e} {:>12.6e} {:>12.6e} {:>12.6e}",
                c.name,
                match c.group {
                    sxplan_design::Group::A => "A",
                    sxplan_design::Group::B => "B",
                },
                c.sep_factor,
                c.x_feed,
                c.to_organic,
                c.to_aqueous,
                c.x_organic_product,
                c.x_aqueous_product
            );
        }
    }
    if let Some(f) = &d.flows {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "flows (stoichiometric: 3 mol base per mol REE loaded, 3 mol H+ per mol REE scrubbed or stripped):"
        );
        let mut rows = vec![("per mol REE feed", &f.per_mol_feed, "L", "mol")];
        if let Some(h) = &f.per_hour {
            rows.push(("per hour", h, "L/h", "mol/h"));
        }
        for (label, u, v, q) in rows {
            let _ = writeln!(o, "  {label}:");
            let _ = writeln!(
                o,
                "    loaded organic {:.4} mol/L; organic {:.6} {v}; scrub {:.6} {v}; strip {:.6} {v}{}",
                u.conc_org_loaded,
                u.flow_vol_org,
                u.flow_vol_scrub,
                u.flow_vol_strip,
                u.flow_vol_feed
                    .map_or(String::new(), |x| format!("; feed {x:.6} {v}"))
            );
            let _ = writeln!(
                o,
                "    base {:.6} {q}; scrub acid {:.6} {q} H+; strip acid {:.6} {q} H+",
                u.base, u.acid_scrub, u.acid_strip
            );
            let _ = writeln!(
                o,
                "    O/A extraction {}; O/A scrub {:.4}",
                opt_f(u.ratio_oa_extraction, 4),
                u.ratio_oa_scrub
            );
        }
    }
    if let Some(s) = sensitivity {
        let _ = writeln!(o);
        let _ = writeln!(o, "sensitivity: stages against W/W_min");
        sens_table_text(&mut o, &s.vs_reflux);
        let _ = writeln!(o, "sensitivity: stages against purity");
        sens_table_text(&mut o, &s.vs_purity);
    }
    o
}

fn sens_table_text(o: &mut String, pts: &[SensitivityPoint]) {
    let _ = writeln!(
        o,
        "  {:>10} {:>10} {:>8} {:>8} {:>7} {:>7} {:>5} {:>5} {:>6}  status",
        "P_A", "P_B", "W/W_min", "Fenske", "n_sc", "m_sc", "n", "m", "total"
    );
    for p in pts {
        let _ = writeln!(
            o,
            "  {:>10.6} {:>10.6} {:>8.3} {:>8.2} {:>7} {:>7} {:>5} {:>5} {:>6}  {}",
            p.purity_a,
            p.purity_b,
            p.w_over_w_min,
            p.n_min_fenske,
            opt_f(p.n_shortcut, 2),
            opt_f(p.m_shortcut, 2),
            p.n.map_or("-".to_string(), |v| v.to_string()),
            p.m.map_or("-".to_string(), |v| v.to_string()),
            match (p.n, p.m) {
                (Some(n), Some(m)) => (n + m).to_string(),
                _ => "-".to_string(),
            },
            p.status.as_str()
        );
    }
}

/// A Markdown report of a design.
pub fn to_markdown(d: &CutDesign, sensitivity: Option<&Sensitivity>) -> String {
    let sc = &d.shortcut;
    let mut o = String::new();
    let _ = writeln!(o, "# Design of the cut {} | {}\n", d.key_a, d.key_b);
    let _ = writeln!(
        o,
        "{} feed, separation factor {:.4} (scrub section {:.4}), A-group feed fraction {:.6}; \
         required purities P_A = {:.6} (organic product), P_B = {:.6} (aqueous product).\n",
        sc.feed_phase.as_str(),
        sc.sep_factor,
        sc.sep_factor_scrub,
        sc.x_a,
        d.purity_a_spec,
        d.purity_b_spec
    );
    let _ = writeln!(o, "## Shortcut (Xu Guangxian)\n");
    let _ = writeln!(o, "| quantity | value |\n|---|---|");
    let rows: Vec<(&str, String)> = vec![
        ("f'_A", format!("{:.6}", sc.outlet.f_a)),
        ("f'_B", format!("{:.6}", sc.outlet.f_b)),
        (
            "recovery of A, B",
            format!("{:.6}, {:.6}", sc.outlet.recovery_a, sc.outlet.recovery_b),
        ),
        (
            "purification factors a, b",
            format!("{:.4}, {:.4}", sc.a, sc.b),
        ),
        ("controlling section", sc.control.as_str().to_string()),
        ("E_M", format!("{:.6}", sc.chosen.e_m)),
        ("E'_M", format!("{:.6}", sc.chosen.e_prime_m)),
        ("S (mol/mol feed)", format!("{:.6}", sc.chosen.s)),
        ("W (mol/mol feed)", format!("{:.6}", sc.chosen.w)),
        ("W_min, S_min", format!("{:.6}, {:.6}", sc.w_min, sc.s_min)),
        ("W/W_min", format!("{:.4}", sc.w_over_w_min)),
        ("Fenske N_min", format!("{:.2}", sc.n_min_fenske)),
        (
            "Xu shortcut n, m",
            format!("{}, {}", opt_f(sc.n_shortcut, 2), opt_f(sc.m_shortcut, 2)),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "| {k} | {v} |");
    }
    let _ = writeln!(o, "\n## Rigorous minimum\n");
    let _ = writeln!(o, "Status: **{}**.\n", status_line(d));
    if let Some(b) = &d.rigorous.best {
        let _ = writeln!(
            o,
            "| n | m | total | P_A | P_B | simulation |\n|---|---|---|---|---|---|\n| {} | {} | {} | {:.8} | {:.8} | {} |\n",
            b.n,
            b.m,
            b.n + b.m,
            b.purity_a,
            b.purity_b,
            b.sim_status.as_str()
        );
        let _ = writeln!(
            o,
            "Feasible splits of {} stages: {}.",
            b.n + b.m,
            split_list(&d.rigorous.feasible_splits)
        );
    }
    if let Some(f) = &d.rigorous.one_fewer {
        let _ = writeln!(
            o,
            "One stage fewer: best split {}+{} gives P_A {:.8}, P_B {:.8} (misses the specs).",
            f.n, f.m, f.purity_a, f.purity_b
        );
    }
    if let Some(c) = &d.rigorous.confirmation {
        let _ = writeln!(
            o,
            "Re-solved by the simulator's default algorithm: {} (P_A {:.8}, P_B {:.8}, {}).",
            if c.agrees { "agrees" } else { "**disagrees**" },
            c.purity_a,
            c.purity_b,
            c.sim_status.as_str()
        );
    }
    let _ = writeln!(
        o,
        "Simulations: {} ({} not converged).",
        d.rigorous.evaluations, d.rigorous.unconverged
    );
    if !d.distribution.is_empty() {
        let _ = writeln!(o, "\n## Distribution\n");
        let _ = writeln!(
            o,
            "| component | group | beta | x feed | to organic | to aqueous |\n|---|---|---|---|---|---|"
        );
        for c in &d.distribution {
            let _ = writeln!(
                o,
                "| {} | {} | {:.4} | {:.6} | {:.6e} | {:.6e} |",
                c.name,
                match c.group {
                    sxplan_design::Group::A => "A",
                    sxplan_design::Group::B => "B",
                },
                c.sep_factor,
                c.x_feed,
                c.to_organic,
                c.to_aqueous
            );
        }
    }
    if let Some(f) = &d.flows {
        let _ = writeln!(o, "\n## Flows and reagents (stoichiometric)\n");
        let _ = writeln!(
            o,
            "| quantity | per mol REE feed | per hour |\n|---|---|---|"
        );
        let u = &f.per_mol_feed;
        let h = f.per_hour.as_ref();
        let row = |o: &mut String, k: &str, a: f64, b: Option<f64>| {
            let _ = writeln!(o, "| {k} | {a:.6} | {} |", opt_f(b, 6));
        };
        row(
            &mut o,
            "organic (L)",
            u.flow_vol_org,
            h.map(|x| x.flow_vol_org),
        );
        row(
            &mut o,
            "scrub liquor (L)",
            u.flow_vol_scrub,
            h.map(|x| x.flow_vol_scrub),
        );
        row(
            &mut o,
            "strip liquor (L)",
            u.flow_vol_strip,
            h.map(|x| x.flow_vol_strip),
        );
        row(
            &mut o,
            "saponification base (mol)",
            u.base,
            h.map(|x| x.base),
        );
        row(
            &mut o,
            "scrub acid (mol H+)",
            u.acid_scrub,
            h.map(|x| x.acid_scrub),
        );
        row(
            &mut o,
            "strip acid (mol H+)",
            u.acid_strip,
            h.map(|x| x.acid_strip),
        );
    }
    if let Some(s) = sensitivity {
        for (title, pts) in [
            ("Stages against W/W_min", &s.vs_reflux),
            ("Stages against purity", &s.vs_purity),
        ] {
            let _ = writeln!(o, "\n## {title}\n");
            let _ = writeln!(
                o,
                "| P_A | P_B | W/W_min | Fenske | n (Xu) | m (Xu) | n | m | status |\n|---|---|---|---|---|---|---|---|---|"
            );
            for p in pts.iter() {
                let _ = writeln!(
                    o,
                    "| {:.6} | {:.6} | {:.3} | {:.2} | {} | {} | {} | {} | {} |",
                    p.purity_a,
                    p.purity_b,
                    p.w_over_w_min,
                    p.n_min_fenske,
                    opt_f(p.n_shortcut, 2),
                    opt_f(p.m_shortcut, 2),
                    p.n.map_or("-".to_string(), |v| v.to_string()),
                    p.m.map_or("-".to_string(), |v| v.to_string()),
                    p.status.as_str()
                );
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use sxplan_design::shortcut::{FeedPhase, Reflux};
    use sxplan_design::{binary_spec, design_cut, SearchOptions};

    #[test]
    fn json_has_headline_fields_and_version() {
        let spec = binary_spec(3.0, 0.5, 0.99, 0.99, FeedPhase::Aqueous, Reflux::XuOptimum);
        let d = design_cut(&spec, &SearchOptions::default()).unwrap();
        let v = to_json_value(&d, None);
        assert_eq!(v["schema_version"], DESIGN_SCHEMA_VERSION);
        for k in [
            "f_a",
            "control",
            "e_m",
            "e_prime_m",
            "s",
            "w",
            "w_min",
            "n_min_fenske",
            "n_shortcut",
            "m_shortcut",
            "n",
            "m",
            "purity_a",
            "purity_b",
        ] {
            assert!(!v[k].is_null(), "{k} missing");
        }
        let text = to_text(&d, None);
        assert!(text.contains("status                found"));
        let md = to_markdown(&d, None);
        assert!(md.starts_with("# Design of the cut A | B"));
    }

    #[test]
    fn infeasible_renders_status_and_null_stages() {
        let spec = binary_spec(
            3.0,
            0.5,
            0.99,
            0.99,
            FeedPhase::Aqueous,
            Reflux::RatioToMinimum(0.9),
        );
        let d = design_cut(&spec, &SearchOptions::default()).unwrap();
        let v = to_json_value(&d, None);
        assert_eq!(v["status"], "infeasible_reflux");
        assert!(v["n"].is_null());
        assert!(to_text(&d, None).contains("infeasible at this reflux"));
    }
}
