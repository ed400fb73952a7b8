//! The static acid/base budget on the shipped fixtures: the worked example of docs/ph.md
//! computed by hand agrees with `acid_budget::static_budget`, and the budget warnings (W0603)
//! sit at the circuit's name with a hint.

use sxplan_model::acid_budget::{static_budget, FindingKind};
use sxplan_model::{check_str, CircuitId};

fn fixture(name: &str) -> String {
    let path = format!("{}/../../tests/data/ok/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn worked_example_by_hand_and_by_the_function() {
    let out = check_str(&fixture("mass_action_model.toml"));
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let fs = out.flowsheet.expect("checks clean");
    let b = static_budget(&fs, CircuitId(0)).expect("computable statically");
    // By hand (docs/ph.md): feed 1000 L/h x 10^-2 mol/L = 10 mol/h H+ and 1000 x 0.5 = 500
    // mol/h REE; scrub 4 mol/L x 450 L/h = 1800; strip 2 x 600 = 1200; base 1.5 mol/L x 0.40
    // x 4000 L/h = 2400; capacity 4000 L/h x min(1.5 / 6, 0.2) = 800 mol/h.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    assert!(close(b.h_feed_mol_per_h, 10.0), "{}", b.h_feed_mol_per_h);
    assert!(close(b.ree_feed_mol_per_h, 500.0));
    assert!(close(b.h_scrub_mol_per_h, 1800.0));
    assert!(close(b.base_mol_per_h, 2400.0));
    assert!(close(b.capacity_mol_per_h, 800.0));
    assert!(close(b.released_max_mol_per_h, 1500.0));
    assert_eq!(b.h_strip_mol_per_h.map(|h| close(h, 1200.0)), Some(true));
    // (a) 2400 <= 10 + 1800 + 1500 = 3310; (b) (2400 - 1810) / 3 = 196.7 ions, 590 H+ <= 1200
    assert!(close(b.loaded_mol_per_h, 590.0 / 3.0));
    assert!(close(b.strip_need_mol_per_h, 590.0));
    assert!(b.findings.is_empty(), "{:?}", b.findings);
}

#[test]
fn violated_budgets_are_warned_at_the_circuit() {
    for (file, kind) in [
        ("acid_budget_warning.toml", FindingKind::BaseExceedsAcid),
        (
            "acid_budget_strip_warning.toml",
            FindingKind::StripAcidShort,
        ),
    ] {
        let src = fixture(file);
        let out = check_str(&src);
        assert_eq!(out.error_count(), 0, "{file}: {:?}", out.diagnostics);
        let w: Vec<_> = out
            .diagnostics
            .iter()
            .filter(|d| d.code == "W0603")
            .collect();
        assert_eq!(w.len(), 1, "{file}: {:?}", out.diagnostics);
        assert_eq!(&src[w[0].span.clone()], "\"PrNd\"", "{file}");
        assert!(w[0].help.as_deref().is_some_and(|h| h.contains(">=")));
        let fs = out.flowsheet.expect("warnings only");
        let b = static_budget(&fs, CircuitId(0)).expect("static");
        assert_eq!(b.findings.len(), 1);
        assert_eq!(b.findings[0].kind, kind, "{file}");
    }
}

#[test]
fn feeds_from_another_circuit_are_not_budgeted_statically() {
    let out = check_str(&fixture("recycle_four_circuits.toml"));
    let fs = out.flowsheet.expect("checks");
    // the first circuit takes the plant feed; the others take raffinates or strip liquors
    let computable: Vec<bool> = (0..fs.circuits.len())
        .map(|k| static_budget(&fs, CircuitId(k)).is_some())
        .collect();
    assert!(computable.iter().any(|c| !c), "{computable:?}");
}
