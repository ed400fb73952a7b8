//! Stiff and degenerate cases: extreme distribution ratios and phase ratios, long cascades,
//! elements absent from the feed. Each must converge to the closure bar or report a
//! non-converged status, and never put NaN or infinity in a result.

mod common;

use common::*;
use sxplan_chem::Element;
use sxplan_model::*;
use sxplan_sim::{simulate, SimOptions, SimResult, SolveStatus};

const REY16: [Element; 16] = [
    Element::Sc,
    Element::Y,
    Element::La,
    Element::Ce,
    Element::Pr,
    Element::Nd,
    Element::Sm,
    Element::Eu,
    Element::Gd,
    Element::Tb,
    Element::Dy,
    Element::Ho,
    Element::Er,
    Element::Tm,
    Element::Yb,
    Element::Lu,
];

fn slow() -> bool {
    std::env::var("SXPLAN_SLOW").is_ok_and(|v| v == "1")
}

/// Every number finite; converged implies closure <= 1e-9.
fn check(r: &SimResult, what: &str) {
    for s in &r.streams {
        assert!(
            s.flow_vol_l_per_h.is_finite() && s.acid_mol_per_h.is_finite(),
            "{what}: {}",
            s.name
        );
        for v in s.flow_mol_per_h.values().chain(s.conc_mol_per_l.values()) {
            assert!(v.is_finite(), "{what}: {} has {v}", s.name);
        }
    }
    for p in &r.products {
        assert!(
            p.purity_mol.is_finite() && p.purity_reo_mass.is_finite() && p.reo_kg_per_h.is_finite(),
            "{what}"
        );
        assert!(p.recovery.values().all(|v| v.is_finite()), "{what}");
    }
    assert!(r.mass_balance.max_relative_error.is_finite(), "{what}");
    assert!(
        r.diagnostics.max_stage_residual.is_finite() && r.diagnostics.recycle_residual.is_finite(),
        "{what}"
    );
    for c in &r.circuits {
        for s in &c.stages {
            assert!(
                s.ph.is_finite() && s.acidity_mol_per_l.is_finite(),
                "{what}"
            );
            for v in s.conc_aq.values().chain(s.conc_org.values()) {
                assert!(v.is_finite() && *v >= 0.0, "{what}: {v}");
            }
        }
    }
    if r.status == SolveStatus::Converged {
        assert!(
            r.mass_balance.max_relative_error <= 1e-9,
            "{what}: closure {}",
            r.mass_balance.max_relative_error
        );
    }
}

/// One circuit of `n` stages (60 % extraction, 30 % scrub, 10 % strip), feed of the given elements.
fn one(
    n: usize,
    eq: Equilibrium,
    feed: &[(Element, f64)],
    elements: &[Element],
    oa: f64,
) -> Flowsheet {
    let n_strip = (n / 10).max(1);
    let n_scrub = (n * 3 / 10).max(1);
    let n_ext = n - n_strip - n_scrub;
    let mut fs = empty("stiff", elements.to_vec());
    fs.feeds.push(aq_feed(0, "liquor", 100.0, feed, 0.05));
    fs.circuits.push(circuit(
        0,
        "C",
        n_ext,
        n_scrub,
        n_strip,
        (0.3, 20.0),
        (4.0, 10.0),
        100.0 * oa,
        eq,
    ));
    feed_to_circuit(&mut fs, 0, 0);
    fs
}

fn d_spread(lo: f64, hi: f64, strip: f64) -> Equilibrium {
    let k = REY16.len();
    let d: Vec<(Element, StageValues)> = REY16
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let d = lo * (hi / lo).powf(i as f64 / (k - 1) as f64);
            (*e, StageValues::PerSection(vec![d, d, strip * d]))
        })
        .collect();
    distribution(&d)
}

fn feed16(skip: &[Element]) -> Vec<(Element, f64)> {
    REY16
        .iter()
        .filter(|e| !skip.contains(e))
        .map(|e| (*e, 0.01))
        .collect()
}

#[test]
fn distribution_ratios_from_1e_minus4_to_1e8() {
    let fs = one(60, d_spread(1e-4, 1e8, 1e-6), &feed16(&[]), &REY16, 1.0);
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    check(&r, "D 1e-4..1e8");
    assert_eq!(r.status, SolveStatus::Converged);
}

#[test]
fn phase_ratios_from_0_01_to_1000() {
    for oa in [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0] {
        let fs = one(40, d_spread(0.05, 20.0, 1e-3), &feed16(&[]), &REY16, oa);
        let r = simulate(&fs, &SimOptions::default()).unwrap();
        check(&r, &format!("O/A {oa}"));
        if oa < 0.1 {
            // 1 L/h of 1.5 mol/L P507 against 100 L/h of 0.16 mol/L: the state the ratios give
            // loads the organic to several mol/L, beyond the 0.5 mol/L it can hold
            assert_eq!(r.status, SolveStatus::Infeasible, "O/A {oa}");
            assert!(
                r.diagnostics
                    .acid_base
                    .iter()
                    .any(|l| l.contains("loads the organic to")),
                "O/A {oa}: {:?}",
                r.diagnostics.acid_base
            );
        } else {
            assert_eq!(r.status, SolveStatus::Converged, "O/A {oa}");
        }
    }
}

#[test]
fn two_thousand_stages_distribution_and_separation_factor() {
    let fs = one(2000, d_spread(0.5, 2.0, 1e-3), &feed16(&[]), &REY16, 1.0);
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    check(&r, "2000 stages distribution");
    assert_eq!(r.status, SolveStatus::Converged);
    let beta: std::collections::BTreeMap<Element, f64> = REY16
        .iter()
        .enumerate()
        .map(|(i, e)| (*e, 1.0 + 0.1 * i as f64))
        .collect();
    let sf = Equilibrium::SeparationFactor(SeparationFactorModel {
        beta,
        beta_section: vec![None, None, None],
        loading: vec![
            Some(SectionLoading::ExtractionRatio(0.8)),
            Some(SectionLoading::ExtractionRatio(1.2)),
            None,
        ],
    });
    let n = if slow() { 2000 } else { 200 };
    let fs = one(n, sf, &feed16(&[]), &REY16, 1.0);
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    check(&r, "separation factor long cascade");
    assert_eq!(r.status, SolveStatus::Converged, "{:?}", r.diagnostics);
}

#[test]
fn absent_elements_stay_zero() {
    // Tb, Dy and Ce are tracked but absent from the feed.
    let fs = one(
        30,
        d_spread(0.1, 10.0, 1e-3),
        &feed16(&[Element::Tb, Element::Dy, Element::Ce]),
        &REY16,
        1.0,
    );
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    check(&r, "absent elements");
    assert_eq!(r.status, SolveStatus::Converged);
    for s in &r.streams {
        assert_eq!(s.flow_mol_per_h[&Element::Tb], 0.0);
    }
    let ma = mass_action_ladder(&REY16, 0.01, 1.5);
    let fs = one(
        30,
        ma,
        &feed16(&[Element::Tb, Element::Dy, Element::Ce]),
        &REY16,
        1.0,
    );
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    check(&r, "absent elements, mass action");
    assert_eq!(r.status, SolveStatus::Converged, "{:?}", r.diagnostics);
}

#[test]
fn mass_action_long_cascade() {
    // 1,000 stages (16 species, 4 M strip acid, 20 % NH3 saponification): converges since
    // Newton starts long chains from their shortened chains (BENCHMARKS.md, Simulation).
    let n = 1000;
    let ma = mass_action_ladder(&REY16, 0.5, 1.15);
    let mut fs = one(n, ma, &feed16(&[]), &REY16, 1.0);
    fs.circuits[0].organic.saponification = Some(Saponification {
        fraction: 0.2,
        agent: Base::NH3,
    });
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    check(&r, "mass action long cascade");
    assert_eq!(r.status, SolveStatus::Converged, "{:?}", r.diagnostics);
}

#[test]
fn substitution_cross_check_converges_a_200_stage_mass_action_cascade() {
    // The independent algorithm (`sxplan simulate --substitution`) reaches the chain's own
    // residual bar on the 16-species cascade and agrees with Newton.
    let ma = mass_action_ladder(&REY16, 0.5, 1.15);
    let mut fs = one(200, ma, &feed16(&[]), &REY16, 1.0);
    // 6 M strip acid: 60 mol/h of H+ against the 48 mol/h that stripping the whole feed takes
    // (with the fixture's 4 M the strip runs short and no acidic steady state exists).
    for s in &mut fs.circuits[0].sections {
        if s.kind == SectionKind::Strip {
            if let Some(sol) = &mut s.solution {
                sol.conc_mol = 6.0;
            }
        }
    }
    let newton = simulate(&fs, &SimOptions::default()).unwrap();
    let opts = SimOptions {
        algorithm: sxplan_sim::Algorithm::Substitution,
        ..SimOptions::default()
    };
    let sub = simulate(&fs, &opts).unwrap();
    check(&sub, "substitution mass action");
    assert_eq!(newton.status, SolveStatus::Converged);
    assert_eq!(sub.status, SolveStatus::Converged, "{:?}", sub.diagnostics);
    let d = stream_flow_difference(&newton, &sub);
    assert!(d <= 1e-8, "stream flows differ by {d:e}");
}

#[test]
fn empirical_long_cascade() {
    // 40 stages in CI; 1,000 with SXPLAN_SLOW=1, where this fixture's 4 M strip acid is short
    // of what stripping the whole feed takes and the run may end with a non-converged status
    // (`diverged` after about 40 s on 2026-12-02) but never with a non-finite number.
    let n = if slow() { 1000 } else { 40 };
    let em = Equilibrium::Empirical(EmpiricalModel {
        coef: REY16
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    *e,
                    EmpiricalCoef {
                        a: 1.0 + 0.1 * i as f64,
                        a1: 0.0,
                        b: -1.5 + 0.05 * i as f64,
                        c: 0.0,
                    },
                )
            })
            .collect(),
        measure: ExtractantMeasure::MolPerL,
        volume_percent: None,
    });
    let fs = one(n, em, &feed16(&[]), &REY16, 1.0);
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    check(&r, "empirical long cascade");
    if n <= 40 {
        assert_eq!(r.status, SolveStatus::Converged, "{:?}", r.diagnostics);
    }
}

#[test]
fn murphree_efficiency_reduces_separation() {
    let eq = d_spread(0.3, 3.0, 1e-3);
    let fs = one(30, eq.clone(), &feed16(&[]), &REY16, 1.0);
    let full = simulate(&fs, &SimOptions::default()).unwrap();
    let mut fs2 = fs.clone();
    fs2.circuits[0].murphree = vec![0.7; 3];
    let part = simulate(&fs2, &SimOptions::default()).unwrap();
    check(&part, "murphree");
    assert_eq!(part.status, SolveStatus::Converged);
    // Lu (most extractable) escapes more to the raffinate with 70 % efficiency.
    let raff = |r: &SimResult| {
        r.streams
            .iter()
            .find(|s| s.name.contains("raffinate"))
            .unwrap()
            .flow_mol_per_h[&Element::Lu]
    };
    assert!(raff(&part) > raff(&full));
}

#[test]
fn zero_aqueous_stage_is_an_error_not_a_nan() {
    let mut fs = one(20, d_spread(0.3, 3.0, 1e-3), &feed16(&[]), &REY16, 1.0);
    fs.circuits[0].sections[2].solution = None; // strip without any aqueous
    let e = simulate(&fs, &SimOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no aqueous flow reaches this stage"), "{e}");
}

#[test]
fn trapped_middle_elements_report_a_status() {
    // Extraction pushes middle elements up, the more acidic scrub pushes them down: with a
    // loading capacity they accumulate at the feed stage by many orders of magnitude. The
    // solver must either converge to the closure bar or say it did not; never NaN.
    let sizes: &[usize] = if slow() { &[20, 100] } else { &[20] };
    for &n in sizes {
        let ma = mass_action(
            &REY16
                .iter()
                .enumerate()
                .map(|(i, e)| (*e, 0.002 * 1.4f64.powi(i as i32)))
                .collect::<Vec<_>>(),
            Some(0.3),
        );
        let fs = one(n, ma, &feed16(&[]), &REY16, 1.0);
        let r = simulate(&fs, &SimOptions::default()).unwrap();
        check(&r, &format!("trapped, {n} stages"));
        if n == 20 {
            assert_eq!(r.status, SolveStatus::Converged);
        }
    }
}
