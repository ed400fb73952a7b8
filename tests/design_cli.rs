//! `sxplan design` end to end, in process: calculator form, formats, exit codes, and the
//! flowsheet form that writes the designed circuit as TOML.

use sxplan::cli::{run, Exit};

fn design(args: &[&str]) -> (Exit, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut full = vec!["sxplan", "design"];
    full.extend_from_slice(args);
    let exit = run(full, &mut out, &mut err);
    (
        exit,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn json(args: &[&str]) -> (Exit, serde_json::Value) {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--format", "json"]);
    let (exit, out, err) = design(&a);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (exit, v)
}

const ZHANG: &[&str] = &[
    "--beta",
    "2",
    "--feed",
    "A=0.5,B=0.5",
    "--purity-a",
    "0.999",
    "--purity-b",
    "0.9999",
];

/// Zhang, Zhao & Schreiner (2016): scrub-controlled, E'_M 1.414, E_M 0.773, published 24 + 21.
#[test]
fn zhang_example_json() {
    let (exit, v) = json(ZHANG);
    assert_eq!(exit, Exit::Ok);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["control"], "scrub");
    assert!((v["e_prime_m"].as_f64().unwrap() - 1.414).abs() < 5e-4);
    assert!((v["e_m"].as_f64().unwrap() - 0.773).abs() < 1e-3);
    assert!((v["f_a"].as_f64().unwrap() - 0.500450).abs() < 1e-6);
    assert!((v["w_min"].as_f64().unwrap() - 0.9979).abs() < 1e-4);
    assert!((v["n_min_fenske"].as_f64().unwrap() - 23.25).abs() < 0.01);
    let n = v["n"].as_u64().unwrap();
    let m = v["m"].as_u64().unwrap();
    assert!(n.abs_diff(24) <= 2 && m.abs_diff(21) <= 2, "{n} + {m}");
    assert!(v["purity_a"].as_f64().unwrap() >= 0.999);
    assert!(v["purity_b"].as_f64().unwrap() >= 0.9999);
    assert_eq!(v["status"], "found");
}

#[test]
fn text_and_markdown_formats() {
    let (exit, out, _) = design(ZHANG);
    assert_eq!(exit, Exit::Ok);
    assert!(out.contains("control               scrub section"), "{out}");
    assert!(
        out.contains("feasible splits       24+22 25+21 26+20 27+19"),
        "{out}"
    );
    let mut md = ZHANG.to_vec();
    md.extend_from_slice(&["--format", "markdown"]);
    let (exit, out, _) = design(&md);
    assert_eq!(exit, Exit::Ok);
    assert!(out.starts_with("# Design of the cut A | B"), "{out}");
}

#[test]
fn below_minimum_reflux_exits_1_with_status() {
    let mut a = ZHANG.to_vec();
    a.extend_from_slice(&["--reflux-ratio", "0.9"]);
    let (exit, v) = json(&a);
    assert_eq!(exit, Exit::Failure);
    assert_eq!(v["status"], "infeasible_reflux");
    assert!(v["n"].is_null());
    let (exit, out, err) = design(&a);
    assert_eq!(exit, Exit::Failure);
    assert!(out.contains("infeasible at this reflux"), "{out}");
    assert!(err.contains("infeasible at this reflux"), "{err}");
}

#[test]
fn element_symbols_heavier_is_key_a() {
    let (exit, v) = json(&[
        "--beta",
        "2",
        "--feed",
        "pr=0.5,Nd=0.5",
        "--purity-a",
        "0.999",
        "--purity-b",
        "0.9999",
    ]);
    assert_eq!(exit, Exit::Ok);
    assert_eq!(v["key_a"], "Nd");
    assert_eq!(v["key_b"], "Pr");
}

#[test]
fn organic_feed_and_flows() {
    let (exit, v) = json(&[
        "--beta",
        "2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.999",
        "--purity-b",
        "0.9999",
        "--organic-feed",
        "--extractant-conc",
        "1.5",
        "--saponification",
        "0.4",
        "--scrub-acid",
        "4",
        "--strip-acid",
        "2",
        "--feed-rate",
        "500",
    ]);
    assert_eq!(exit, Exit::Ok);
    assert_eq!(v["feed_phase"], "organic");
    assert_eq!(v["control"], "extraction");
    let s = v["s"].as_f64().unwrap();
    let base = v["flows"]["per_mol_feed"]["base"].as_f64().unwrap();
    assert!((base - 3.0 * s).abs() < 1e-12);
    let base_h = v["flows"]["per_hour"]["base"].as_f64().unwrap();
    assert!((base_h - 500.0 * base).abs() < 1e-9);
}

#[test]
fn multicomponent_needs_keys() {
    let (exit, _, err) = design(&[
        "--beta",
        "La=1,Ce=2,Pr=4",
        "--feed",
        "La=1,Ce=1,Pr=1",
        "--purity-a",
        "0.99",
        "--purity-b",
        "0.99",
    ]);
    assert_eq!(exit, Exit::Usage);
    assert!(err.contains("--key-a"), "{err}");
    let (exit, v) = json(&[
        "--beta",
        "La=1,Ce=2,Pr=4",
        "--feed",
        "La=1,Ce=1,Pr=1",
        "--purity-a",
        "0.99",
        "--purity-b",
        "0.99",
        "--key-a",
        "Pr",
        "--key-b",
        "Ce",
    ]);
    assert_eq!(exit, Exit::Ok);
    assert_eq!(v["distribution"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_is_usage_error_without_output() {
    let (exit, out, err) = design(&[
        "--beta",
        "2",
        "--feed",
        "A=half,B=0.5",
        "--purity-a",
        "0.999",
        "--purity-b",
        "0.9999",
    ]);
    assert_eq!(exit, Exit::Usage);
    assert!(out.is_empty());
    assert!(err.contains("`half` for A is not a number"), "{err}");
    let (exit, _, err) = design(&[
        "--beta",
        "2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.3",
        "--purity-b",
        "0.9999",
    ]);
    assert_eq!(exit, Exit::Usage);
    assert!(err.contains("purity_a"), "{err}");
}

#[test]
fn flowsheet_circuit_writes_designed_toml() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/flowsheets/pr-nd.toml");
    let dir = std::env::temp_dir().join(format!("sxplan-design-cli-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    let (exit, out, err) = design(&[file, "--circuit", "PrNd", "--out", &dir_s]);
    assert_eq!(exit, Exit::Ok, "{out}\n{err}");
    assert!(out.contains("design.txt"), "{out}");
    let report = std::fs::read_to_string(dir.join("design.txt")).unwrap();
    assert!(report.contains("cut Nd | Pr"), "{report}");
    let toml = std::fs::read_to_string(dir.join("PrNd.designed.toml")).unwrap();
    let checked = sxplan_model::check_str(&toml);
    assert_eq!(
        checked.error_count(),
        0,
        "{toml}\n{:?}",
        checked.diagnostics
    );
    assert!(!dir.join("PrNd.designed.toml.tmp").exists());
    let _ = std::fs::remove_dir_all(&dir);
    // A circuit that does not exist is a flowsheet error (exit 1) naming the circuits.
    let (exit, _, err) = design(&[file, "--circuit", "Nope"]);
    assert_eq!(exit, Exit::Failure);
    assert!(err.contains("PrNd"), "{err}");
}

#[test]
fn purity_and_recovery_form() {
    // P_A 0.999 with the recovery of A that the Zhang specs imply gives back P_B = 0.9999.
    let (exit, v) = json(&[
        "--beta",
        "2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.999",
        "--recovery-a",
        "0.9999",
    ]);
    assert_eq!(exit, Exit::Ok);
    let p_b = v["purity_b_spec"].as_f64().unwrap();
    // f'_A = 0.9999 * 0.5 / 0.999; P_B = (0.5 - f'_A * 0.001) / (1 - f'_A)
    let f_a = 0.9999 * 0.5 / 0.999;
    assert!((p_b - (0.5 - f_a * 0.001) / (1.0 - f_a)).abs() < 1e-12);
    let (exit, _, err) = design(&[
        "--beta",
        "2",
        "--feed",
        "A=0.5,B=0.5",
        "--recovery-a",
        "0.9",
        "--recovery-b",
        "0.9",
    ]);
    assert_eq!(exit, Exit::Usage);
    assert!(err.contains("one purity"), "{err}");
}

/// Kremser: D = 10, O/A = 1/3, fresh organic, 99.9 % extraction needs 5.44 theoretical stages.
#[test]
fn kremser_calculator() {
    let (exit, out, _) = design(&["--kremser", "10,1/3,0.999"]);
    assert_eq!(exit, Exit::Ok);
    assert!(out.contains("5.44 theoretical stages"), "{out}");
    let (exit, v) = json(&["--kremser", "10,1/3,0.999"]);
    assert_eq!(exit, Exit::Ok);
    assert!((v["n_stages"].as_f64().unwrap() - 5.44).abs() < 0.005);
    assert_eq!(v["n_stages_whole"], 6.0);
    let (exit, _, err) = design(&["--kremser", "10,1/3"]);
    assert_eq!(exit, Exit::Usage);
    assert!(err.contains("D,OA,FRACTION"), "{err}");
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn svg_texts(name: &str, svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("{name}: not well-formed XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn out_writes_the_report_with_the_mccabe_thiele_diagram() {
    let base = std::env::temp_dir().join(format!("sxplan-design-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dir = base.join("rep");
    let mut args = ZHANG.to_vec();
    args.extend_from_slice(&["--sensitivity", "--out", dir.to_str().unwrap()]);
    let (exit, out, err) = design(&args);
    assert_eq!(exit, Exit::Ok, "{err}");
    assert!(out.contains("design.txt"), "{out}");
    assert!(out.contains("report.html"), "{out}");
    assert_eq!(
        names_in(&dir),
        [
            "design.txt",
            "mccabe_thiele.svg",
            "report.html",
            "report.md",
            "result.json",
            "sensitivity.svg"
        ]
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    let (n, m) = (v["n"].as_u64().unwrap(), v["m"].as_u64().unwrap());
    let texts = svg_texts(
        "mccabe_thiele.svg",
        &std::fs::read_to_string(dir.join("mccabe_thiele.svg")).unwrap(),
    );
    for series in [
        "equilibrium (beta 2.0000)".to_string(),
        "operating line, extraction".to_string(),
        "operating line, scrub".to_string(),
        format!("stage steps ({n} + {m} stages)"),
    ] {
        assert!(texts.contains(&series), "{series}: {texts:?}");
    }
    let texts = svg_texts(
        "sensitivity.svg",
        &std::fs::read_to_string(dir.join("sensitivity.svg")).unwrap(),
    );
    for series in ["rigorous n + m", "Xu shortcut n + m", "Fenske N_min"] {
        assert!(texts.iter().any(|t| t == series), "{series}: {texts:?}");
    }
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.starts_with("# sxplan report: cut A | B"), "{md}");
    // `sxplan report result.json` renders the same report
    let again = base.join("again");
    let mut all = vec!["sxplan", "report"];
    let result = dir.join("result.json");
    all.extend_from_slice(&[result.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    let mut o = Vec::new();
    let mut e = Vec::new();
    assert_eq!(run(all, &mut o, &mut e), Exit::Ok);
    for name in names_in(&again) {
        assert_eq!(
            std::fs::read_to_string(dir.join(&name)).unwrap(),
            std::fs::read_to_string(again.join(&name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(names_in(&base), ["again", "rep"], "no temporaries left");
    // --out on a path that is a file: exit 2, nothing left behind
    let blocker = base.join("blocker");
    std::fs::write(&blocker, "x").unwrap();
    let mut args = ZHANG.to_vec();
    args.extend_from_slice(&["--out", blocker.to_str().unwrap()]);
    let (exit, out, err) = design(&args);
    assert_eq!(exit, Exit::Usage, "{out}{err}");
    assert!(err.contains("blocker"), "{err}");
    assert_eq!(names_in(&base), ["again", "blocker", "rep"]);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_circuit_of_a_split_flowsheet_is_designed() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ok/include_main.toml"
    );
    // the circuit (its separation factors) comes from the included file
    let (exit, out, err) = design(&[
        file,
        "--circuit",
        "PrNd",
        "--key-a",
        "Nd",
        "--key-b",
        "Pr",
        "--purity-a",
        "0.99",
        "--purity-b",
        "0.99",
        "--format",
        "json",
    ]);
    assert_eq!(exit, Exit::Ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["key_a"], "Nd");
    assert!((v["sep_factor"].as_f64().unwrap() - 1.5).abs() < 1e-12);
}

/// Issue 19: a design report carries the summary a simulate report has (the designed circuit,
/// simulated, judged by the flowsheet's own specs, per year, with costs and equipment), on
/// stdout and in the report written with `--out`.
#[test]
fn a_design_report_carries_the_spec_summary_annual_figures_and_costs() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/flowsheets/pr-nd.toml");
    let (exit, out, err) = design(&[f, "--circuit", "PrNd"]);
    assert_eq!(exit, Exit::Ok, "{err}");
    assert!(
        out.starts_with("summary: simulated, simulation converged"),
        "{out}"
    );
    assert!(out.contains("specs: 2 of 2 met"), "{out}");
    assert!(out.contains("t REO/year"), "{out}");
    assert!(out.contains("costs at the flowsheet's prices"), "{out}");
    let dir = std::env::temp_dir().join(format!("sxplan-design-summary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rep = dir.join("rep");
    let (exit, _, err) = design(&[f, "--circuit", "PrNd", "--out", rep.to_str().unwrap()]);
    assert_eq!(exit, Exit::Ok, "{err}");
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    assert!(md.contains("Summary"), "{md}");
    assert!(md.contains("t REO/year") || md.contains("t/year"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
