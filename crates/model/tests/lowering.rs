//! Lowering semantics: stage numbering, unit conversion, ports and links, built-in data, and
//! that every problem is collected.

use sxplan_chem::{Element, Quality};
use sxplan_model::*;

const BASE: &str = r#"
schema = 1
name = "t"

[[feed]]
name = "liquor"
flow = "1 m3/h"
acid = "HCl"
ph = 2.0
conc = { Pr = "0.25 mol/L", Nd = "36 g/L", quality = "illustrative" }
to = "PrNd.feed"

[[circuit]]
name = "PrNd"
sections = [
    { kind = "extraction", stages = 20 },
    { kind = "scrub", stages = 15 },
    { kind = "strip", stages = 5 },
]
organic = { extractant = "PC-88A", conc = "1.5 M", saponification = "36 %", agent = "NaOH", flow = "4 m3/h" }
scrub = { acid = "HCl", conc = "4 mol/L", flow = "450 L/h" }
strip = { acid = "H2SO4", conc = "1 mol/L", flow = "10 L/min" }
murphree = { scrub = 0.9 }
capacity = { mixer_volume = "2 m3", residence_time = "3 min" }

[circuit.equilibrium]
model = "separation_factor"
beta = { Pr = 1.0, Nd = 1.5, quality = "illustrative", source = "test" }
extraction_ratio = { extraction = 0.8, scrub = "capacity" }
loading_capacity = "0.2 mol/L"

[[product]]
name = "Nd"
from = "PrNd.strip_liquor"
purity = { elements = ["Nd"], min = "99.5 %", basis = "oxide_mass" }
recovery = { Nd = 0.95 }

[[product]]
name = "Pr"
from = "PrNd.raffinate"
"#;

fn ok(src: &str) -> Flowsheet {
    let out = check_str(src);
    assert!(
        out.diagnostics.is_empty(),
        "{}",
        render_text("t.toml", src, &out.diagnostics)
    );
    out.flowsheet.unwrap_or_else(|| panic!("no flowsheet"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn sections_are_numbered_circuit_wide_and_scrub_flows_into_extraction() {
    let fs = ok(BASE);
    let c = &fs.circuits[0];
    assert_eq!(c.n_stages(), 40);
    let firsts: Vec<usize> = c.sections.iter().map(|s| s.first_stage).collect();
    assert_eq!(firsts, [1, 21, 36]);
    let to_prev: Vec<bool> = c.sections.iter().map(|s| s.aqueous_to_previous).collect();
    assert_eq!(to_prev, [false, true, false]);
    assert_eq!(c.section_of_stage(21), Some(1));
    assert_eq!(c.section_of_stage(41), None);
    // default feed point: aqueous, last extraction stage
    assert_eq!(
        c.feed_points,
        [FeedPoint {
            name: "feed".into(),
            stage: 20,
            phase: Phase::Aqueous
        }]
    );
    // solutions enter at the last stage of their section
    assert_eq!(c.scrub_solution().map(|s| s.stage), Some(35));
    assert_eq!(c.strip_solution().map(|s| s.stage), Some(40));
    assert_eq!(c.murphree, [1.0, 0.9, 1.0]);
    assert_eq!(c.organic.extractant, "p507");
}

#[test]
fn quantities_are_converted_to_internal_units() {
    let fs = ok(BASE);
    let FeedKind::Aqueous(f) = &fs.feeds[0].kind else {
        panic!("aqueous feed expected");
    };
    assert!(close(f.flow_vol, 1000.0));
    assert!(close(f.conc_h, 0.01));
    assert!(close(f.conc_mol[&Element::Pr], 0.25));
    assert!(close(
        f.conc_mol[&Element::Nd],
        36.0 / Element::Nd.molar_mass()
    ));
    let c = &fs.circuits[0];
    assert!(close(c.organic.flow_vol, 4000.0));
    assert_eq!(
        c.organic.saponification,
        Some(Saponification {
            fraction: 0.36,
            agent: Base::NaOH
        })
    );
    let strip = c
        .strip_solution()
        .cloned()
        .unwrap_or_else(|| panic!("strip"));
    assert!(close(strip.flow_vol, 600.0));
    assert!(close(strip.conc_h(), 2.0));
    assert!(close(fs.capacities[0].limit.max_flow_vol(), 2000.0 / 0.05));
    let Equilibrium::SeparationFactor(m) = &c.equilibrium else {
        panic!("sf model expected");
    };
    assert_eq!(
        m.loading,
        [
            Some(SectionLoading::ExtractionRatio(0.8)),
            Some(SectionLoading::Capacity(0.2)),
            None
        ]
    );
    let p = &fs.products[0];
    assert_eq!(
        p.purity.as_ref().map(|p| p.basis),
        Some(PurityBasis::OxideMass)
    );
    assert_eq!(p.recovery[0].min, 0.95);
}

#[test]
fn ports_become_links_with_phases() {
    let fs = ok(BASE);
    let c = NodeRef::Circuit(CircuitId(0));
    let feed_link = fs
        .link_from(Port {
            node: NodeRef::Feed(FeedId(0)),
            kind: PortKind::Outlet(0),
        })
        .copied();
    assert_eq!(
        feed_link,
        Some(Link {
            from: Port {
                node: NodeRef::Feed(FeedId(0)),
                kind: PortKind::Outlet(0)
            },
            to: Port {
                node: c,
                kind: PortKind::FeedPoint(0)
            },
            phase: Phase::Aqueous
        })
    );
    assert_eq!(
        fs.products[0].from,
        Port {
            node: c,
            kind: PortKind::StripLiquor
        }
    );
    assert_eq!(
        fs.products[1].from,
        Port {
            node: c,
            kind: PortKind::Raffinate
        }
    );
    assert_eq!(fs.links.len(), 3);
    assert_eq!(fs.elements, [Element::Pr, Element::Nd]);
}

#[test]
fn oxide_distribution_and_mud_feeds() {
    let src = BASE.replace(
        r#"conc = { Pr = "0.25 mol/L", Nd = "36 g/L", quality = "illustrative" }"#,
        r#"reo = "80 g/L"
oxide_fraction = { Pr = "25 %", Nd = "75 %" }"#,
    );
    let fs = ok(&src);
    let FeedKind::Aqueous(f) = &fs.feeds[0].kind else {
        panic!("aqueous feed expected");
    };
    assert!(close(
        f.conc_mol[&Element::Nd],
        60.0 / Element::Nd.oxide_mass_per_mol_metal()
    ));

    let mud = r#"
schema = 1
[[feed]]
name = "mud"
phase = "mud"
flow = "350 t/d"
grade = "extremely_rey_rich"
to = "leach.inlet"
[[unit]]
name = "leach"
kind = "leach"
acid = "HCl"
conc = "0.5 mol/L"
liquid_to_solid = 10
recovery = { Ca = 0.9, quality = "illustrative" }
[[purge]]
name = "out"
from = "leach.outlet"
"#;
    let fs = ok(mud);
    let FeedKind::Mud(m) = &fs.feeds[0].kind else {
        panic!("mud feed expected");
    };
    assert!(close(m.flow_mass, 350.0 / 24.0));
    let leach = &fs.units[0];
    // built-in recoveries (Takaya et al. 2015) fill what the flowsheet does not give
    assert_eq!(leach.fraction_to_outlet(Element::Dy), 0.951);
    assert_eq!(leach.fraction_to_outlet(Element::Ca), 0.9);
    assert!(fs.data_used.iter().any(|d| d.built_in
        && d.item.contains("leach recovery")
        && d.quality == Some(Quality::Estimated)));
    assert!(fs.elements.contains(&Element::Ca));
}

#[test]
fn separation_factors_come_from_the_extractant_when_absent() {
    let src = BASE
        .replace(
            r#"Pr = "0.25 mol/L", Nd = "36 g/L""#,
            r#"Pr = "0.25 mol/L", Ce = "0.1 mol/L""#,
        )
        .replace(
            r#"beta = { Pr = 1.0, Nd = 1.5, quality = "illustrative", source = "test" }"#,
            "",
        )
        .replace(
            r#"purity = { elements = ["Nd"], min = "99.5 %", basis = "oxide_mass" }"#,
            "",
        )
        .replace("recovery = { Nd = 0.95 }", "");
    let fs = ok(&src);
    let Equilibrium::SeparationFactor(m) = &fs.circuits[0].equilibrium else {
        panic!("sf model expected");
    };
    let ratio = m.beta[&Element::Pr] / m.beta[&Element::Ce];
    assert!(close(ratio, 2.28), "{ratio}");
    assert!(fs
        .data_used
        .iter()
        .any(|d| d.built_in && d.source.contains("Sciencepaper Online")));
}

#[test]
fn model_defaults() {
    let src = BASE.replace(
        "model = \"separation_factor\"\nbeta = { Pr = 1.0, Nd = 1.5, quality = \"illustrative\", source = \"test\" }\nextraction_ratio = { extraction = 0.8, scrub = \"capacity\" }\nloading_capacity = \"0.2 mol/L\"",
        "model = \"mass_action\"\nk_ex = { Pr = 0.01, Nd = 0.02 }\nz_proton = { Nd = 2.5 }",
    );
    let fs = ok(&src);
    let Equilibrium::MassAction(m) = &fs.circuits[0].equilibrium else {
        panic!("mass action expected");
    };
    assert_eq!(m.params[&Element::Pr].n_extractant, 3.0);
    assert_eq!(m.params[&Element::Pr].z_proton, 3.0); // the ion charge
    assert_eq!(m.params[&Element::Nd].z_proton, 2.5);

    let src = BASE.replace(
        "model = \"separation_factor\"\nbeta = { Pr = 1.0, Nd = 1.5, quality = \"illustrative\", source = \"test\" }\nextraction_ratio = { extraction = 0.8, scrub = \"capacity\" }\nloading_capacity = \"0.2 mol/L\"",
        "model = \"empirical\"\na = { Pr = 3.0, Nd = 3.1 }\nb = { Pr = -2.0, Nd = -1.5 }",
    );
    let fs = ok(&src);
    let Equilibrium::Empirical(m) = &fs.circuits[0].equilibrium else {
        panic!("empirical expected");
    };
    assert_eq!(
        m.coef[&Element::Nd],
        EmpiricalCoef {
            a: 3.1,
            a1: 0.0,
            b: -1.5,
            c: 0.0
        }
    );
    assert_eq!(m.measure, ExtractantMeasure::MolPerL);
}

#[test]
fn every_problem_is_collected_in_source_order_and_output_is_deterministic() {
    let src = BASE
        .replace("flow = \"1 m3/h\"", "flow = \"1 mol/L\"")
        .replace("\"PC-88A\"", "\"P057\"")
        .replace("stages = 15", "stages = 0")
        .replace("min = \"99.5 %\"", "min = \"199.5 %\"");
    let a = check_str(&src);
    let b = check_str(&src);
    assert_eq!(a, b);
    let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0203", "E0207", "E0302", "E0206"]);
    assert!(a.flowsheet.is_none());
    let lines: Vec<usize> = a.diagnostics.iter().map(|d| d.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
}

#[test]
fn serializes_to_json() {
    for f in ["pr-nd", "reflux", "minamitorishima"] {
        let path = format!("{}/../../flowsheets/{f}.toml", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(&path).unwrap_or_default();
        let fs = ok(&src);
        let v = serde_json::to_value(&fs).unwrap_or_default();
        assert_eq!(v["schema"], 1, "{f}");
        assert!(
            v["circuits"][0]["sections"][0]["kind"] == "extraction",
            "{f}"
        );
        assert!(v["links"].as_array().is_some_and(|l| !l.is_empty()), "{f}");
    }
}

#[test]
fn included_files_are_merged_and_located() {
    let main = "schema = 1\ninclude = [\"c.toml\"]\n[[feed]]\nname = \"f\"\nflow = \"1 m3/h\"\nconc = { Nd = \"1 M\" }\nto = \"C.feed\"\n";
    let inc = "# circuit\n[[circuit]]\nname = \"C\"\nsections = [{ kind = \"extraction\", stages = 3 }]\norganic = { extractant = \"P507\", conc = \"1 M\", flow = \"1 m3/h\" }\nequilibrium = { model = \"distribution\", d = { Nd = 2.0 } }\n";
    assert_eq!(includes_of(main), ["c.toml"]);
    let sources = [
        Source {
            name: "main.toml",
            text: main,
        },
        Source {
            name: "c.toml",
            text: inc,
        },
    ];
    let out = check_sources(&sources);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(out.flowsheet.map(|f| f.total_stages()), Some(3));

    // an error in the included file is located there
    let bad = inc.replace("stages = 3", "stages = -3");
    let sources = [
        sources[0],
        Source {
            name: "c.toml",
            text: &bad,
        },
    ];
    let out = check_sources(&sources);
    let d = &out.diagnostics[0];
    assert_eq!((d.file.as_deref(), d.line, d.col), (Some("c.toml"), 4, 45));
    assert_eq!(&bad[d.span.clone()], "-3");
    let text = render_sources(&sources, &out.diagnostics);
    assert!(text.contains(" --> c.toml:4:45\n"), "{text}");

    // check_str cannot read includes and says so
    let out = check_str(main);
    assert_eq!(out.diagnostics[0].code, codes::BAD_INCLUDE);
}
