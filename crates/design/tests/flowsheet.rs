//! Designing a circuit of a flowsheet and writing it back as TOML that checks clean.

use sxplan_design::flowsheet::{cut_from_circuit, designed_circuit_toml, CircuitOverrides};
use sxplan_design::search::SearchStatus;
use sxplan_design::shortcut::Control;
use sxplan_design::{design_cut, SearchOptions};

const PR_ND: &str = include_str!("../../../flowsheets/pr-nd.toml");

#[test]
fn pr_nd_circuit_designs_and_round_trips() {
    let out = sxplan_model::check_str(PR_ND);
    let fs = out.flowsheet.expect("pr-nd.toml checks clean");
    let cut = cut_from_circuit(&fs, "PrNd", &CircuitOverrides::default()).unwrap();
    assert_eq!(cut.spec.components.len(), 2);
    assert_eq!(cut.spec.components[cut.spec.key_a].name, "Nd");
    assert_eq!(cut.spec.components[cut.spec.key_b].name, "Pr");
    assert!((cut.spec.purity_a - 0.999).abs() < 1e-12);
    assert!((cut.spec.purity_b - 0.9999).abs() < 1e-12);
    // 1 m3/h at 0.25 + 0.25 mol/L
    assert!((cut.feed_rate - 500.0).abs() < 1e-9);
    let d = design_cut(&cut.spec, &SearchOptions::default()).unwrap();
    assert_eq!(d.shortcut.control, Control::Scrub);
    assert_eq!(d.rigorous.status, SearchStatus::Found);
    let toml = designed_circuit_toml(&fs, &cut, &d).unwrap();
    let checked = sxplan_model::check_str(&toml);
    assert_eq!(
        checked.error_count(),
        0,
        "{toml}\n{:?}",
        checked.diagnostics
    );
    let fs2 = checked.flowsheet.unwrap();
    let c2 = fs2.circuit_by_name("PrNd").unwrap();
    let best = d.rigorous.best.as_ref().unwrap();
    assert_eq!(c2.sections[0].n_stages, best.n);
    let scrub: usize = c2
        .sections
        .iter()
        .filter(|s| s.kind == sxplan_model::SectionKind::Scrub)
        .map(|s| s.n_stages)
        .sum();
    assert_eq!(scrub, best.m);
    assert_eq!(c2.feed_points[0].stage, best.n);
    // The designed flows follow the stoichiometry: scrub acid 3 W per mol feed.
    let scrub = c2
        .sections
        .iter()
        .filter(|s| s.kind == sxplan_model::SectionKind::Scrub)
        .find_map(|s| s.solution.as_ref())
        .unwrap();
    let w_mol_h = d.shortcut.chosen.w * cut.feed_rate;
    assert!((scrub.flow_vol * scrub.conc_h() - 3.0 * w_mol_h).abs() < 1e-6 * w_mol_h);
}

#[test]
fn unknown_circuit_is_error_listing_circuits() {
    let fs = sxplan_model::check_str(PR_ND).flowsheet.unwrap();
    let e = cut_from_circuit(&fs, "Nope", &CircuitOverrides::default()).unwrap_err();
    assert!(e.to_string().contains("PrNd"), "{e}");
}

/// Two simulators agreeing: the whole-flowsheet simulator run on the designed TOML (stage graph,
/// strip section, volumes) reproduces the purities of the design's cascade solve.
#[test]
fn designed_toml_simulates_to_the_designed_purities() {
    let fs = sxplan_model::check_str(PR_ND).flowsheet.unwrap();
    let cut = cut_from_circuit(&fs, "PrNd", &CircuitOverrides::default()).unwrap();
    let d = design_cut(&cut.spec, &SearchOptions::default()).unwrap();
    let best = d.rigorous.best.as_ref().unwrap();
    let toml = designed_circuit_toml(&fs, &cut, &d).unwrap();
    let fs2 = sxplan_model::check_str(&toml).flowsheet.unwrap();
    let r = sxplan_sim::simulate(&fs2, &sxplan_sim::SimOptions::default()).unwrap();
    let purity = |name: &str| {
        r.products
            .iter()
            .find(|p| p.id == name)
            .unwrap_or_else(|| panic!("no product {name}"))
            .purity_mol
    };
    // the designed TOML keeps the flowsheet's own products and specs
    let (pa, pb) = (purity("Nd_chloride"), purity("Pr_raffinate"));
    assert!(
        (pa - best.purity_a).abs() < 1e-7 && (pb - best.purity_b).abs() < 1e-7,
        "flowsheet {pa} {pb} vs cascade {} {} (status {:?})",
        best.purity_a,
        best.purity_b,
        r.status
    );
}

/// A circuit fed by another circuit: its feed comes from a simulation of the whole flowsheet.
#[test]
fn circuit_fed_by_a_circuit_uses_the_simulated_stream() {
    use sxplan_design::flowsheet::{feed_from_simulation, feed_needs_simulation};
    let src = include_str!("data/two-circuits.toml");
    let fs = sxplan_model::check_str(src).flowsheet.unwrap();
    assert!(feed_needs_simulation(&fs, "second"));
    assert!(!feed_needs_simulation(&fs, "first"));
    // Without the stream the circuit cannot be read.
    let e = cut_from_circuit(&fs, "second", &CircuitOverrides::default()).unwrap_err();
    assert!(e.to_string().contains("fed by circuit first"), "{e}");
    let r = sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()).unwrap();
    assert!(r.status.is_converged());
    let feed = feed_from_simulation(&fs, "second", &r).unwrap();
    let total: f64 = feed.flow_mol.values().sum();
    assert!(total > 0.0 && feed.flow_vol > 0.0);
    let overrides = CircuitOverrides {
        feed: Some(feed),
        ..CircuitOverrides::default()
    };
    let cut = cut_from_circuit(&fs, "second", &overrides).unwrap();
    assert_eq!(cut.spec.components[cut.spec.key_a].name, "Pr");
    assert_eq!(cut.spec.components[cut.spec.key_b].name, "Ce");
    assert!((cut.feed_rate - total).abs() < 1e-9 * total);
    let d = design_cut(&cut.spec, &SearchOptions::default()).unwrap();
    assert_eq!(d.rigorous.status, SearchStatus::Found);
    let toml = designed_circuit_toml(&fs, &cut, &d).unwrap();
    let checked = sxplan_model::check_str(&toml);
    assert_eq!(
        checked.error_count(),
        0,
        "{toml}\n{:?}",
        checked.diagnostics
    );
}
