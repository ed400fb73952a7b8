//! Portable designs (issue 16, scope 2): every cut of a four-circuit plant is designed in turn,
//! each on the flowsheet the previous design wrote (`design --out` writes the whole flowsheet
//! with the circuit replaced, `flowsheet.designed.toml`). For every cut, the designed circuit
//! simulated (alone, `<circuit>.designed.toml`, and inside the whole flowsheet) reproduces the
//! design's group purities to 1e-6; the last flowsheet meets every product spec, and the
//! `[optimize]` free variables that named the designed circuits still apply (optimize runs
//! on it).

use std::path::Path;

use sxplan::cli::Exit;

mod common;
use common::{cli, root, scratch};

/// Group purities (A in the organic-side outlet, B in the raffinate) of circuit `circuit` in
/// the simulate document `doc`: its two aqueous outlets leaving the circuit, the raffinate at
/// stage 1 and the strip liquor further up.
fn group_purities(doc: &serde_json::Value, circuit: &str, group_a: &[String]) -> (f64, f64) {
    let prefix = format!("{circuit}/");
    let mut outs: Vec<(usize, f64)> = doc["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["phase"] == "aqueous"
                && s["from"].as_str().unwrap().starts_with(&prefix)
                && !s["to"].as_str().unwrap().starts_with(&prefix)
        })
        .map(|s| {
            let stage: usize = s["from"].as_str().unwrap()[prefix.len()..].parse().unwrap();
            let flows = s["flow_mol_per_h"].as_object().unwrap();
            let total: f64 = flows.values().map(|v| v.as_f64().unwrap()).sum();
            let a: f64 = flows
                .iter()
                .filter(|(e, _)| group_a.contains(e))
                .map(|(_, v)| v.as_f64().unwrap())
                .sum();
            (stage, a / total)
        })
        .collect();
    outs.sort_by_key(|o| o.0);
    assert_eq!(outs.len(), 2, "circuit {circuit}: outlets {outs:?}");
    (outs[1].1, 1.0 - outs[0].1)
}

fn simulate_json(file: &Path) -> serde_json::Value {
    let (exit, json, err) = cli(&["simulate", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(exit, Exit::Ok, "{}: {err}", file.display());
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["status"], "converged", "{}", file.display());
    doc
}

#[test]
fn every_cut_of_a_four_circuit_plant_round_trips_through_toml() {
    let dir = scratch("design-round-trip", "light4");
    let mut plant = root().join("tests/data/ok/light_ree_four_circuits.toml");
    // The two upstream cuts feed circuits, not products: their keys and purities are given.
    let cuts: [(&str, &[&str]); 4] = [
        ("NdSm", &["--purity-b", "0.9995"]),
        (
            "CePr",
            &[
                "--key-a",
                "Pr",
                "--key-b",
                "Ce",
                "--purity-a",
                "0.999",
                "--purity-b",
                "0.999",
            ],
        ),
        ("LaCe", &[]),
        ("PrNd", &[]),
    ];
    for (circuit, extra) in cuts {
        let out = dir.join(circuit);
        let mut args = vec![
            "design",
            plant.to_str().unwrap(),
            "--circuit",
            circuit,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (exit, _, err) = cli(&refs);
        assert_eq!(exit, Exit::Ok, "{circuit}: {err}");
        let result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap())
                .unwrap();
        let best = &result["rigorous"]["best"];
        let (pa, pb) = (
            best["purity_a"].as_f64().unwrap(),
            best["purity_b"].as_f64().unwrap(),
        );
        let group_a: Vec<String> = result["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["group"] == "a")
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        let whole = out.join("flowsheet.designed.toml");
        for file in [out.join(format!("{circuit}.designed.toml")), whole.clone()] {
            let doc = simulate_json(&file);
            let (sa, sb) = group_purities(&doc, circuit, &group_a);
            eprintln!(
                "{circuit} {}: design P_A {pa:.12} P_B {pb:.12}; simulated {sa:.12} {sb:.12}",
                file.file_name().unwrap().to_string_lossy()
            );
            assert!((sa - pa).abs() <= 1e-6, "{circuit}: P_A {sa} vs {pa}");
            assert!((sb - pb).abs() <= 1e-6, "{circuit}: P_B {sb} vs {pb}");
        }
        // the designed stage numbers are in the whole flowsheet
        let text = std::fs::read_to_string(&whole).unwrap();
        let n = best["n"].as_u64().unwrap();
        assert!(
            text.contains(&format!("{{ kind = \"extraction\", stages = {n} }}")),
            "{text}"
        );
        plant = whole;
    }
    // The last flowsheet: every product spec met.
    let doc = simulate_json(&plant);
    for p in doc["products"].as_array().unwrap() {
        assert_eq!(p["purity_spec"]["met"], true, "{p}");
    }
    // The free variables still apply: PrNd's extraction ratio became its organic flow (the
    // designed extraction section loads to capacity), its scrub ratio the last scrub stage's
    // ratio; the scrub flow stays.
    let text = std::fs::read_to_string(&plant).unwrap();
    assert!(!text.contains("of = \"PrNd.extraction\""), "{text}");
    assert!(
        text.contains("{ var = \"organic_flow\", of = \"PrNd\""),
        "{text}"
    );
    // the scrub stages load to capacity too; the last scrub stage's ratio carries W
    assert!(!text.contains("of = \"PrNd.scrub\""), "{text}");
    assert!(
        text.contains("{ var = \"extraction_ratio\", of = \"PrNd.scrub_end\""),
        "{text}"
    );
    assert!(
        text.contains("{ var = \"scrub_flow\", of = \"PrNd\""),
        "{text}"
    );
    let (exit, _, err) = cli(&["check", plant.to_str().unwrap()]);
    assert_eq!(exit, Exit::Ok, "{err}");
    let (_, json, err) = cli(&["optimize", plant.to_str().unwrap(), "--format", "json"]);
    let opt: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {err}"));
    let names: Vec<&str> = opt["operating_point"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        names.iter().any(|n| n.contains("PrNd organic flow")),
        "{names:?} {err}"
    );
}

/// Specs through units (issue 16, scope 1): circuit PrNd of the flagship feeds its Pr6O11 and
/// Nd2O3 products through precipitation and calcination; `design` reads their oxide-mass
/// specs there, and the whole flowsheet with PrNd designed simulates `converged` with every
/// spec met.
#[test]
fn a_flagship_circuit_is_designed_from_the_specs_of_products_behind_its_units() {
    let f = root().join("flowsheets/minamitorishima.toml");
    let dir = scratch("design-round-trip", "flagship-prnd");
    let (exit, _, err) = cli(&[
        "design",
        f.to_str().unwrap(),
        "--circuit",
        "PrNd",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(exit, Exit::Ok, "{err}");
    assert!(
        err.contains("product \"Nd2O3\" (oxide-mass purity >= 0.995 of Nd)"),
        "{err}"
    );
    assert!(
        err.contains("product \"Pr6O11\" (oxide-mass purity >= 0.99 of Pr)"),
        "{err}"
    );
    let doc = simulate_json(&dir.join("flowsheet.designed.toml"));
    let products = doc["products"].as_array().unwrap();
    assert!(products.len() >= 11);
    for p in products {
        if p["purity_spec"].is_object() {
            assert_eq!(p["purity_spec"]["met"], true, "{p}");
        }
    }
}
