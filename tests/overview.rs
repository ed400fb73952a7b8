//! The summary at the top of every report (`sxplan_report::overview`): the mixer-settler sizing
//! of flowsheets/pr-nd.toml reproduces a hand calculation, `[plant]` values replace the
//! defaults, a user extractant price values the organic inventory, and a product element
//! without a price in the chosen set is warned about.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn overview_of(src: &str) -> sxplan_report::overview::Overview {
    let fs = sxplan_model::check_str(src)
        .flowsheet
        .expect("checks clean");
    let r = sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()).unwrap();
    assert!(r.status.is_converged());
    sxplan_report::overview::overview(&fs, &r, None)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn pr_nd_sizing_reproduces_the_hand_calculation() {
    let mut src = std::fs::read_to_string(root().join("flowsheets/pr-nd.toml")).unwrap();
    // P507 at a user price (illustrative, for the test only)
    src = src.replace(
        "oxide = { Nd = \"56 USD/kg\" }",
        "oxide = { Nd = \"56 USD/kg\" }\nreagent = { extractant = \"20 USD/kg\" }",
    );
    src.push_str(
        "\n[plant]\noperating_hours = \"7500 h\"\nmixer_residence_time = \"2 min\"\nsettling_rate = 4.0\nsettler_organic_depth = 0.25\npipework_allowance = \"15 %\"\n",
    );
    let ov = overview_of(&src);
    assert_eq!(ov.operating_hours.value, 7500.0);
    assert_eq!(ov.operating_hours.quality, "user");
    // By hand: organic 4.3 m3/h through all 51 stages; aqueous 1.0 feed + 0.45 scrub = 1.45 m3/h
    // in the 24 extraction stages, 0.45 in the 21 scrub stages, 0.6 strip in the 6 strip stages.
    let q_sum = 24.0 * (1.45 + 4.3) + 21.0 * (0.45 + 4.3) + 6.0 * (0.6 + 4.3); // 267.15 m3/h
    let t = 2.0 / 60.0;
    let mixers = q_sum * t; // 8.905 m3
    let settlers = q_sum / 4.0; // 66.7875 m2
    let org_settlers = settlers * 0.25;
    let org_mixers = 51.0 * 4.3 * t; // the organic share of each mixer is Q_org t
    let org = (org_settlers + org_mixers) * 1.15;
    let c = &ov.equipment.circuits[0];
    assert_eq!(c.circuit, "PrNd");
    assert!(close(c.mixer_m3, mixers), "{} vs {mixers}", c.mixer_m3);
    assert!(
        close(c.settler_m2, settlers),
        "{} vs {settlers}",
        c.settler_m2
    );
    assert!(close(c.organic_settlers_m3, org_settlers));
    assert!(close(c.organic_mixers_m3, org_mixers));
    assert!(close(c.organic_m3, org), "{} vs {org}", c.organic_m3);
    assert!(close(c.max_stage_flow_m3_per_h, 5.75));
    assert!(close(c.max_mixer_m3, 5.75 * t));
    assert!(close(ov.equipment.organic_m3, org));
    // the extractant in it: m3 x 1000 L/m3 x 1.5 mol/L x 306.42 g/mol (C16H35O3P) x 20 US$/kg
    let kg = org * 1000.0 * 1.5 * 0.306_42;
    let v = c.extractant_value_usd.expect("valued at the user price");
    assert!((v - kg * 20.0).abs() <= 1e-3 * v, "{v} vs {}", kg * 20.0);
    // annual figures at the user's hours
    let nd = ov
        .products
        .iter()
        .find(|p| p.name == "Nd_chloride")
        .unwrap();
    assert!(nd.value_usd_per_year.is_some());
    assert!(close(
        ov.reo_t_per_year,
        ov.products.iter().map(|p| p.reo_t_per_year).sum::<f64>()
    ));
    // Pr has no price anywhere: warned, and the product is listed as not valued
    assert!(
        ov.warnings
            .iter()
            .any(|w| w.contains("element Pr has no price")),
        "{:?}",
        ov.warnings
    );
    assert!(ov
        .costs
        .not_valued
        .iter()
        .any(|n| n.item == "product Pr_raffinate"));
    // the specs: Nd met with a positive margin, Pr short of 99.99 % with a negative one
    assert_eq!(ov.specs.len(), 2);
    assert!(ov.specs[0].pass && ov.specs[0].margin > 0.0);
    assert!(!ov.specs[1].pass && ov.specs[1].margin < 0.0);
}

#[test]
fn the_flagship_summary_has_costs_by_circuit_and_an_organic_inventory() {
    let src = std::fs::read_to_string(root().join("flowsheets/minamitorishima.toml")).unwrap();
    let ov = overview_of(&src);
    assert_eq!(ov.operating_hours.value, 8000.0);
    assert_eq!(ov.operating_hours.quality, "illustrative");
    assert!(ov.specs.iter().all(|s| s.pass), "{:?}", ov.specs);
    assert!(ov.costs.reagent_cost_usd_per_year > 0.0);
    assert!(ov.costs.by_area.iter().any(|a| a.area == "circuit PrNd"));
    assert!(ov.costs.by_area.iter().any(|a| a.area == "unit leach"));
    let by_area: f64 = ov.costs.by_area.iter().map(|a| a.cost_usd_per_year).sum();
    assert!(close(by_area, ov.costs.reagent_cost_usd_per_year));
    assert_eq!(ov.equipment.circuits.len(), 11);
    assert!(ov.equipment.organic_m3 > 0.0);
    // usgs_2024 has no Pr, Sm, Gd, Y price: each such product is warned about
    for e in ["Pr", "Sm", "Gd", "Y"] {
        assert!(
            ov.warnings
                .iter()
                .any(|w| w.contains(&format!("element {e} has no price in price set usgs_2024"))),
            "{e}: {:?}",
            ov.warnings
        );
    }
    assert!(ov
        .costs
        .price_sources
        .iter()
        .any(|s| s.contains("usgs_2024")));
}
