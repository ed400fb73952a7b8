//! Resource limits: absurd flowsheet sizes are refused with `E0004` naming the count and the
//! limit, quickly and without allocating for them; callers can raise or lower every limit.

use sxplan_model::{check_str, check_str_with, Limits};

fn circuit(name: &str, stages: u64) -> String {
    format!(
        r#"
[[circuit]]
name = "{name}"
sections = [{{ kind = "extraction", stages = {stages} }}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "1 m3/h" }}
equilibrium = {{ model = "distribution", d = {{ Pr = 0.8, Nd = 1.2 }}, quality = "illustrative" }}
"#
    )
}

fn flowsheet(circuits: &[(String, u64)]) -> String {
    let mut s = String::from(
        "schema = 1\nname = \"limits\"\n\n[[feed]]\nname = \"liquor\"\nflow = \"1 m3/h\"\nconc = { Pr = \"0.25 mol/L\", Nd = \"0.25 mol/L\", quality = \"illustrative\" }\n",
    );
    s += &format!("to = \"{}.feed\"\n", circuits[0].0);
    for (k, (name, n)) in circuits.iter().enumerate() {
        s += &circuit(name, *n);
        if let Some((next, _)) = circuits.get(k + 1) {
            s += &format!("\n[[link]]\nfrom = \"{name}.raffinate\"\nto = \"{next}.feed\"\n");
        }
    }
    s
}

fn too_large(src: &str, limits: &Limits) -> Vec<String> {
    check_str_with(src, limits)
        .diagnostics
        .into_iter()
        .filter(|d| d.code == "E0004")
        .map(|d| d.message)
        .collect()
}

#[test]
fn million_stage_circuit_is_refused_by_default() {
    let src = flowsheet(&[("Big".into(), 1_000_000)]);
    let out = check_str(&src);
    assert!(out.flowsheet.is_none());
    let msgs = too_large(&src, &Limits::DEFAULT);
    assert_eq!(
        msgs,
        vec![
            "circuit \"Big\" has 1000000 stages; a circuit has at most 20000 (limit max_stages_per_circuit)"
                .to_string()
        ]
    );
}

#[test]
fn stage_count_beyond_u32_is_out_of_range_not_a_crash() {
    let src = flowsheet(&[("Big".into(), 1 << 40)]);
    let out = check_str(&src);
    assert!(out.flowsheet.is_none());
    assert!(out.diagnostics.iter().any(|d| d.code == "E0207"));
}

#[test]
fn total_stages_over_the_limit_are_refused() {
    // 6 circuits of 20,000 stages: each within the per-circuit limit, 120,000 in all.
    let cs: Vec<(String, u64)> = (0..6).map(|k| (format!("C{k}"), 20_000)).collect();
    let src = flowsheet(&cs);
    let msgs = too_large(&src, &Limits::DEFAULT);
    assert_eq!(
        msgs,
        vec!["the flowsheet has 120000 stages; at most 100000 are supported (limit max_total_stages)".to_string()]
    );
    // Raised limit: the same flowsheet checks clean.
    let big = Limits {
        max_total_stages: 200_000,
        ..Limits::DEFAULT
    };
    let out = check_str_with(&src, &big);
    assert_eq!(out.error_count(), 0, "{:?}", out.diagnostics);
}

#[test]
fn ten_thousand_circuits_are_refused_before_reading_them() {
    let cs: Vec<(String, u64)> = (0..10_000).map(|k| (format!("C{k}"), 1)).collect();
    let src = flowsheet(&cs);
    let out = check_str(&src);
    assert!(out.flowsheet.is_none());
    // Only the limit is reported: nothing else was read.
    assert_eq!(
        out.diagnostics.len(),
        1,
        "{:?}",
        &out.diagnostics[..3.min(out.diagnostics.len())]
    );
    let d = &out.diagnostics[0];
    assert_eq!(d.code, "E0004");
    assert_eq!(
        d.message,
        "the flowsheet has 10000 circuits; at most 1000 are supported (limit max_circuits)"
    );
    assert!(d.line >= 1, "the diagnostic points at the circuits");
}

#[test]
fn too_many_nodes_are_refused() {
    let mut src = flowsheet(&[("C0".into(), 5)]);
    for k in 0..20 {
        src += &format!("\n[[purge]]\nname = \"p{k}\"\nfrom = \"C0.loaded_organic\"\n");
    }
    let small = Limits {
        max_nodes: 10,
        ..Limits::DEFAULT
    };
    let msgs = too_large(&src, &small);
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].starts_with("the flowsheet has 21 feeds, units, splitters, mixers, purges, products and links; at most 10"), "{}", msgs[0]);
}

#[test]
fn lowered_limits_apply_and_defaults_accept_real_plants() {
    let src = flowsheet(&[("A".into(), 300), ("B".into(), 300)]);
    assert_eq!(check_str(&src).error_count(), 0);
    let tight = Limits {
        max_stages_per_circuit: 100,
        max_circuits: 1,
        ..Limits::DEFAULT
    };
    let msgs = too_large(&src, &tight);
    assert_eq!(
        msgs,
        vec![
            "the flowsheet has 2 circuits; at most 1 are supported (limit max_circuits)"
                .to_string()
        ]
    );
    let tight = Limits {
        max_stages_per_circuit: 100,
        ..Limits::DEFAULT
    };
    let msgs = too_large(&src, &tight);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("circuit \"A\" has 300 stages; a circuit has at most 100"));
}

#[test]
fn default_is_the_documented_constant() {
    assert_eq!(Limits::default(), Limits::DEFAULT);
    assert_eq!(Limits::DEFAULT.max_stages_per_circuit, 20_000);
    assert_eq!(Limits::DEFAULT.max_total_stages, 100_000);
    assert_eq!(Limits::DEFAULT.max_circuits, 1_000);
    assert_eq!(Limits::DEFAULT.max_nodes, 10_000);
}

/// `20000` -> `20,000`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn reference_page_states_the_real_limits() {
    let page =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/flowsheet-reference.md");
    let text = std::fs::read_to_string(page).unwrap_or_default();
    let d = Limits::DEFAULT;
    for (value, field) in [
        (d.max_stages_per_circuit, "max_stages_per_circuit"),
        (d.max_total_stages, "max_total_stages"),
        (d.max_circuits, "max_circuits"),
        (d.max_nodes, "max_nodes"),
    ] {
        let row = format!("| {} | `{field}` |", thousands(value));
        assert!(text.contains(&row), "reference page lacks the row `{row}`");
    }
    assert!(
        text.contains("check_str_with"),
        "how to configure the limits"
    );
}
