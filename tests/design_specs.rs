//! Design from the product specs (issue 16, acceptance 1): a cut whose products carry
//! oxide-mass specs on their own elements (a single element or a group) of a four-element feed
//! is designed to the group purity each spec implies, and the designed circuit, simulated,
//! meets those specs on their own basis; a spec no cut at those keys can meet is refused with
//! the elements that stand in its way.

use sxplan::cli::Exit;

mod common;
use common::{cli, scratch};

/// A La/Ce/Pr/Nd liquor (shaped like flowsheets/reflux.toml's) into one circuit, its raffinate
/// product `b` and its strip-liquor product `a`, each with an oxide-mass purity.
fn flowsheet(b: (&str, &[&str], &str), a: (&str, &[&str], &str)) -> String {
    let q = |l: &[&str]| {
        l.iter()
            .map(|e| format!("\"{e}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        r#"schema = 1
name = "cut0"

[[feed]]
name = "liquor"
flow = "1 m3/h"
acid = "HCl"
ph = 2.0
conc = {{ La = "0.30 mol/L", Ce = "0.45 mol/L", Pr = "0.06 mol/L", Nd = "0.19 mol/L", quality = "illustrative" }}
to = "C.feed"

[[circuit]]
name = "C"
sections = [
    {{ kind = "extraction", stages = 20 }},
    {{ kind = "scrub", stages = 20 }},
    {{ kind = "strip", stages = 5 }},
]
feed_stage = 20
organic = {{ extractant = "P507", conc = "1.5 mol/L", saponification = "36 %", agent = "NaOH", flow = "4 m3/h" }}
scrub = {{ acid = "HCl", conc = "4 mol/L", flow = "0.45 m3/h" }}
strip = {{ acid = "HCl", conc = "5 mol/L", flow = "0.6 m3/h" }}

[circuit.equilibrium]
model = "separation_factor"
beta = {{ La = 1.0, Ce = 3.0, Pr = 5.52, Nd = 8.28, quality = "illustrative" }}
extraction_ratio = {{ extraction = 0.8, scrub = 1.2 }}

[[product]]
name = "{bn}"
from = "C.raffinate"
purity = {{ elements = [{be}], min = "{bm}", basis = "oxide_mass" }}

[[product]]
name = "{an}"
from = "C.strip_liquor"
purity = {{ elements = [{ae}], min = "{am}", basis = "oxide_mass" }}
"#,
        bn = b.0,
        be = q(b.1),
        bm = b.2,
        an = a.0,
        ae = q(a.1),
        am = a.2
    )
}

#[test]
fn three_cuts_with_oxide_mass_specs_meet_them_in_simulation() {
    let dir = scratch("design-specs", "three");
    let cases = [
        (
            ("La2O3", &["La"][..], "99.9 %"),
            ("CePrNd", &["Ce", "Pr", "Nd"][..], "99.5 %"),
        ),
        (
            ("LaCe", &["La", "Ce"][..], "99.5 %"),
            ("PrNd", &["Pr", "Nd"][..], "99.9 %"),
        ),
        (
            ("LaCePr", &["La", "Ce", "Pr"][..], "99.5 %"),
            ("Nd2O3", &["Nd"][..], "99.5 %"),
        ),
    ];
    for (k, (b, a)) in cases.iter().enumerate() {
        let f = dir.join(format!("cut{k}.toml"));
        std::fs::write(&f, flowsheet(*b, *a)).unwrap();
        let out = dir.join(format!("d{k}"));
        let (exit, _, err) = cli(&[
            "design",
            f.to_str().unwrap(),
            "--circuit",
            "C",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(exit, Exit::Ok, "cut {k}: {err}");
        // the derived group purities are said
        assert!(
            err.contains(&format!("product \"{}\" (oxide-mass purity >= ", a.0)),
            "{err}"
        );
        let designed = out.join("C.designed.toml");
        let text = std::fs::read_to_string(&designed).unwrap();
        assert!(text.contains("basis = \"oxide_mass\""), "{text}");
        let (exit, json, err) = cli(&["simulate", designed.to_str().unwrap(), "--format", "json"]);
        assert_eq!(exit, Exit::Ok, "cut {k}: {err}");
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["status"], "converged");
        for (name, _, spec) in [b, a] {
            let p = doc["products"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == *name)
                .unwrap_or_else(|| panic!("cut {k}: no product {name}"));
            assert_eq!(p["purity_spec"]["basis"], "oxide_mass", "{p}");
            assert_eq!(p["purity_spec"]["met"], true, "cut {k} {name}: {p}");
            let min: f64 = spec.trim_end_matches(" %").parse::<f64>().unwrap() / 100.0;
            let got = p["purity_reo_mass"].as_f64().unwrap();
            eprintln!("cut {k} {name}: oxide-mass purity {got:.6} against the spec {min}");
            assert!(got >= min, "{p}");
        }
    }
}

#[test]
fn a_spec_the_cut_cannot_meet_names_what_stands_in_its_way() {
    let dir = scratch("design-specs", "refused");
    // Pr from the raffinate of a Pr | Nd cut: La and Ce leave with it whatever the cut does
    let f = dir.join("prnd.toml");
    std::fs::write(
        &f,
        flowsheet(
            ("Pr", &["Pr"][..], "99 %"),
            ("Nd2O3", &["Nd"][..], "99.5 %"),
        ),
    )
    .unwrap();
    let (exit, _, err) = cli(&["design", f.to_str().unwrap(), "--circuit", "C"]);
    assert_eq!(exit, Exit::Failure, "{err}");
    assert!(
        err.contains("product \"Pr\" needs an oxide-mass purity of 0.99, but side B (raffinate) also carries La, Ce"),
        "{err}"
    );
    assert!(err.contains("draw it from a further cut"), "{err}");
}
