//! Physics oracles through the whole-flowsheet API: the analytic Kremser solution for a
//! constant-D extraction circuit (E < 1, E = 1, E > 1), and Xu's published cascade example.

mod common;

use common::*;
use sxplan_chem::Element;
use sxplan_model::*;
use sxplan_sim::cascade::{solve_sf_cascade, FeedPhase, SfCascadeSpec};
use sxplan_sim::kremser::raffinate_fraction;
use sxplan_sim::{simulate, SimOptions, SolveStatus};

#[test]
fn kremser_through_the_flowsheet() {
    // Extraction only, 10 stages, aqueous 100 L/h, organic 50 L/h: E = D / 2.
    let n = 10;
    let cases = [(Element::La, 1.0), (Element::Pr, 2.0), (Element::Nd, 5.0)]; // E = 0.5, 1, 2.5
    let mut fs = empty("kremser", cases.iter().map(|c| c.0).collect());
    fs.feeds.push(aq_feed(
        0,
        "liquor",
        100.0,
        &[(Element::La, 0.1), (Element::Pr, 0.2), (Element::Nd, 0.05)],
        0.01,
    ));
    let d: Vec<(Element, StageValues)> = cases
        .iter()
        .map(|(e, d)| (*e, StageValues::Uniform(*d)))
        .collect();
    fs.circuits.push(circuit(
        0,
        "K",
        n,
        0,
        0,
        (0.0, 0.0),
        (0.0, 0.0),
        50.0,
        distribution(&d),
    ));
    // 35 mol/h of ions into 50 L/h of organic load it up to 0.7 mol/L: an organic of 3 mol/L
    // extractant holds 1 mol/L (C / 3), so the state is one a plant can have
    fs.circuits[0].organic.conc_mol = 3.0;
    feed_to_circuit(&mut fs, 0, 0);
    let r = simulate(&fs, &SimOptions::default()).unwrap();
    assert_eq!(
        r.status,
        SolveStatus::Converged,
        "{:?}",
        r.diagnostics.acid_base
    );
    let raff = r
        .streams
        .iter()
        .find(|s| s.name.contains("raffinate"))
        .unwrap();
    for ((e, d), feed) in cases.iter().zip([10.0, 20.0, 5.0]) {
        let exact = feed * raffinate_fraction(d * 50.0 / 100.0, n);
        let got = raff.flow_mol_per_h[e];
        eprintln!(
            "Kremser E = {}: raffinate {got:.15e} vs exact {exact:.15e}, relative error {:.1e}",
            d * 50.0 / 100.0,
            ((got - exact) / exact).abs()
        );
        assert!(
            ((got - exact) / exact).abs() <= 1e-10,
            "{e}: {got} vs {exact}"
        );
    }
}

#[test]
fn xu_published_example() {
    // Zhang, Zhao & Schreiner (2016) via chemistry.md 2.6 Example A: beta = 2, equimolar
    // aqueous feed, E'_M = sqrt(2), E_M = 0.773, 24 extraction + 21 scrub stages: purities
    // within 1e-3 of 99.9 % (organic product) and 99.99 % (aqueous product).
    let r = solve_sf_cascade(&SfCascadeSpec {
        beta: vec![2.0, 1.0],
        feed: vec![0.5, 0.5],
        feed_phase: FeedPhase::Aqueous,
        n_extraction: 24,
        n_scrub: 21,
        s: 1.708645,
        w: 1.208194,
        beta_scrub: None,
    })
    .unwrap();
    assert_eq!(r.status, SolveStatus::Converged);
    let p_a = r.organic_product[0] / r.organic_product.iter().sum::<f64>();
    let p_b = r.aqueous_product[1] / r.aqueous_product.iter().sum::<f64>();
    assert!(
        (p_a - 0.999).abs() <= 1e-3 && (p_b - 0.9999).abs() <= 1e-3,
        "{p_a} {p_b}"
    );
    // The rigorous figures of chemistry.md 2.6 to 1e-6.
    assert!((p_a - 0.9989927).abs() < 1e-6 && (p_b - 0.9998927).abs() < 1e-6);
}
