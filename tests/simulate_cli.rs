//! `sxplan simulate` end to end, in-process: exit codes, JSON fields, `--out` files.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut full = vec!["sxplan"];
    full.extend_from_slice(args);
    let code = sxplan::cli::run(full, &mut out, &mut err).code();
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// The shipped flowsheets, the 700-stage Minamitorishima plant included (it simulates in about a
/// second in the test profile).
fn shipped() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("flowsheets"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn json_has_the_documented_fields() {
    for f in shipped() {
        let (code, out, err) = run(&["simulate", f.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 0, "{}: {err}", f.display());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["status"], "converged");
        assert!(v["iterations"].as_u64().unwrap() >= 1);
        assert!(v["mass_balance"]["max_relative_error"].as_f64().unwrap() <= 1e-9);
        let streams = v["streams"].as_array().unwrap();
        assert!(!streams.is_empty());
        for s in streams {
            for key in [
                "id",
                "phase",
                "flow_vol_l_per_h",
                "conc_mol_per_l",
                "flow_mol_per_h",
            ] {
                assert!(!s[key].is_null(), "stream field {key}");
            }
        }
        for p in v["products"].as_array().unwrap() {
            for key in [
                "id",
                "purity_mol",
                "purity_reo_mass",
                "recovery",
                "reo_kg_per_h",
            ] {
                assert!(!p[key].is_null(), "product field {key}");
            }
        }
        for c in v["circuits"].as_array().unwrap() {
            let stages = c["stages"].as_array().unwrap();
            assert!(!stages.is_empty());
            assert!(stages[0]["ph"].is_number());
        }
        assert!(!out.contains("NaN") && !out.contains("inf"));
    }
}

#[test]
fn text_summary_and_out_dir() {
    let f = shipped().into_iter().next().unwrap();
    let dir = std::env::temp_dir().join(format!("sxplan-simulate-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (code, out, err) = run(&[
        "simulate",
        f.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": converged"), "{out}");
    assert!(out.contains("mass balance max relative error"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.iter().any(|n| n == "result.json"));
    assert!(names
        .iter()
        .any(|n| n.starts_with("stages_") && n.ends_with(".csv")));
    assert!(names.iter().all(|n| !n.contains(".tmp")));
    let csv_name = names.iter().find(|n| n.ends_with(".csv")).unwrap();
    let csv = std::fs::read_to_string(dir.join(csv_name)).unwrap();
    assert!(csv.starts_with("stage,section,"));
    assert!(csv.lines().count() > 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_and_input_errors() {
    let (code, _, err) = run(&["simulate", "/nonexistent/flowsheet.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let dir = std::env::temp_dir().join(format!("sxplan-simulate-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "schema = 1\nname = \"x\"\n[[circuit]]\nname = 3\n").unwrap();
    let (code, out, err) = run(&["simulate", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("could not simulate"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Names of the files in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Parses an SVG (panics naming the file when it is not well-formed) and returns its texts.
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
fn out_writes_the_report_and_report_rerenders_it_identically() {
    let f = root().join("flowsheets/reflux.toml");
    let fs = f.to_str().unwrap();
    let base = std::env::temp_dir().join(format!("sxplan-simulate-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dir = base.join("rep");
    let (code, out, err) = run(&["simulate", fs, "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": converged"), "{out}");
    assert!(err.starts_with("note: wrote the report ("), "{err}");
    assert!(err.contains("report.html"), "{err}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    let names = names_in(&dir);
    let mut want = vec![
        "flowsheet.dot".to_string(),
        "flowsheet.svg".to_string(),
        "products.svg".to_string(),
        "reagents.svg".to_string(),
        "report.html".to_string(),
        "report.md".to_string(),
        "result.json".to_string(),
        "streams.csv".to_string(),
    ];
    let circuits = result["circuits"].as_array().unwrap();
    assert!(circuits.len() >= 2, "reflux.toml has several circuits");
    for c in circuits {
        let name = c["name"].as_str().unwrap();
        want.push(format!("profile_{name}.svg"));
        want.push(format!("ph_loading_{name}.svg"));
        want.push(format!("stages_{name}.csv"));
    }
    want.sort();
    assert_eq!(names, want);
    // every SVG is well-formed; each profile names every element its circuit carries
    for n in names.iter().filter(|n| n.ends_with(".svg")) {
        let texts = svg_texts(n, &std::fs::read_to_string(dir.join(n)).unwrap());
        if let Some(circuit) = n
            .strip_prefix("profile_")
            .and_then(|x| x.strip_suffix(".svg"))
        {
            let c = circuits.iter().find(|c| c["name"] == circuit).unwrap();
            for e in result["elements"].as_array().unwrap() {
                let e = e.as_str().unwrap();
                let present = c["stages"].as_array().unwrap().iter().any(|s| {
                    s["conc_aq"][e].as_f64().unwrap_or(0.0) > 0.0
                        || s["conc_org"][e].as_f64().unwrap_or(0.0) > 0.0
                });
                assert_eq!(
                    texts.iter().any(|t| t == e),
                    present,
                    "{n}: legend entry {e}"
                );
            }
        }
        if n == "flowsheet.svg" {
            for c in circuits {
                let name = c["name"].as_str().unwrap().to_string();
                assert!(texts.contains(&name), "flowsheet.svg lacks {name}");
            }
        }
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script") && !html.contains("<link"));
    let csv = std::fs::read_to_string(dir.join("streams.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        result["streams"].as_array().unwrap().len() + 1
    );
    // `sxplan report` on the saved result (with the flowsheet for provenance) gives the same files
    let again = base.join("again");
    let (code, _, err) = run(&[
        "report",
        dir.join("result.json").to_str().unwrap(),
        "--flowsheet",
        fs,
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let re = names_in(&again);
    assert_eq!(re.len(), names.len() - 1, "all but result.json: {re:?}");
    for n in &re {
        assert_eq!(
            std::fs::read_to_string(dir.join(n)).unwrap(),
            std::fs::read_to_string(again.join(n)).unwrap(),
            "{n} differs when re-rendered"
        );
    }
    // no temporary directory left beside the reports
    assert_eq!(names_in(&base), ["again", "rep"]);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_flowsheet_with_errors_writes_no_report() {
    let base = std::env::temp_dir().join(format!("sxplan-simulate-reject-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let bad = base.join("bad.toml");
    std::fs::write(&bad, "schema = 1\nname = \"x\"\n[[circuit]]\nname = 3\n").unwrap();
    let out = base.join("rep");
    let (code, stdout, err) = run(&[
        "simulate",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(stdout.is_empty());
    assert!(!out.exists(), "a flowsheet with errors writes no report");
    assert_eq!(names_in(&base), ["bad.toml"]);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_flowsheet_split_over_included_files_simulates() {
    let f = root().join("tests/data/ok/include_main.toml");
    let (code, out, err) = run(&["simulate", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("E0801"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["flowsheet"], "split-files");
    assert_eq!(v["status"], "converged");
    // the circuit and the products come from the included files
    assert_eq!(v["circuits"][0]["name"], "PrNd");
    assert!(!v["products"].as_array().unwrap().is_empty());
    // an error in an included file is reported against that file, exit 1
    let base = std::env::temp_dir().join(format!("sxplan-simulate-include-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("parts")).unwrap();
    std::fs::write(base.join("main.toml"), std::fs::read_to_string(&f).unwrap()).unwrap();
    let circuit = std::fs::read_to_string(root().join("tests/data/ok/parts/prnd_circuit.toml"))
        .unwrap()
        .replace(
            "stages = 20 }, { kind = \"scrub\"",
            "stages = -1 }, { kind = \"scrub\"",
        );
    std::fs::write(base.join("parts/prnd_circuit.toml"), circuit).unwrap();
    std::fs::copy(
        root().join("tests/data/ok/parts/prnd_products.toml"),
        base.join("parts/prnd_products.toml"),
    )
    .unwrap();
    let main = base.join("main.toml");
    let (code, out, err) = run(&["simulate", main.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("prnd_circuit.toml:"), "{err}");
    assert!(err.contains("could not simulate"), "{err}");
    // a missing included file is an I/O error, exit 2
    std::fs::remove_file(base.join("parts/prnd_products.toml")).unwrap();
    let (code, _, err) = run(&["simulate", main.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("prnd_products.toml") && err.contains("included by"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn verbose_adds_lines_quiet_removes_them_stdout_unchanged() {
    let f = root().join("flowsheets/pr-nd.toml");
    let fs = f.to_str().unwrap();
    let (code, plain, plain_err) = run(&["simulate", fs]);
    assert_eq!(code, 0);
    let (code, verbose, verbose_err) = run(&["--verbose", "simulate", fs]);
    assert_eq!(code, 0);
    let (code, quiet, quiet_err) = run(&["simulate", fs, "-q", "-v"]);
    assert_eq!(code, 0);
    assert_eq!(plain, verbose);
    assert_eq!(plain, quiet);
    assert!(plain_err.is_empty(), "{plain_err}");
    assert!(quiet_err.is_empty(), "{quiet_err}");
    assert!(
        verbose_err.contains("simulating pr-nd: 1 circuit(s), 51 stages"),
        "{verbose_err}"
    );
    assert!(verbose_err.contains("simulated in "), "{verbose_err}");
}

/// tests/data/ok/mass_action_model.toml converges to a state whose raffinate is neutral (pH
/// 7.68 at stage 1): the scrub acid returns all but 197 mol/h of the 500 mol/h fed, and their
/// 590 mol/h of released protons with the 1,810 mol/h of feed and scrub acid do not exceed the
/// 2,400 mol/h of base (docs/ph.md section 6). The diagnosis says so with the numbers and the
/// saponification that fixes it, and at that saponification the plant converges acidic.
#[test]
fn mass_action_fixture_is_diagnosed_with_its_reason_and_the_fix_converges() {
    let f = root().join("tests/data/ok/mass_action_model.toml");
    let (code, _, err) = run(&["simulate", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("stage 1 ends at pH 7.68"), "{err}");
    assert!(
        err.contains("only 197 mol/h of extractable ions (39.3 % of the 500 mol/h fed)"),
        "{err}"
    );
    assert!(err.contains("(1810 mol/h H+)"), "{err}");
    assert!(
        err.contains("lower organic.saponification to <= 30.1 %"),
        "{err}"
    );
    assert!(
        err.contains("no physical steady state (infeasible)"),
        "{err}"
    );
    let fixed = root().join("tests/data/ok/mass_action_model_30.toml");
    let (code, out, err) = run(&["simulate", fixed.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "converged", "{out}");
    for s in v["circuits"][0]["stages"].as_array().unwrap() {
        let ph = s["ph"].as_f64().unwrap();
        assert!((-1.5..=6.0).contains(&ph), "pH {ph}");
    }
}

/// A raffinate-to-feed recycle on a 4-circuit mass-action plant converges (issue 14): Newton on
/// the tear stops without descent, successive substitution finishes it.
#[test]
fn mass_action_recycle_on_four_circuits_converges() {
    let f = root().join("tests/data/ok/recycle_four_circuits_mass_action.toml");
    let (code, out, err) = run(&["simulate", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "converged", "{err}");
    let d = &v["diagnostics"];
    assert!(d["recycle_residual"].as_f64().unwrap() <= 1e-12, "{d}");
    assert!(v["mass_balance"]["max_relative_error"].as_f64().unwrap() <= 1e-9);
    assert_eq!(d["n_tears"], 1);
}

/// The separation-factor version of the same 4-circuit recycle converges.
#[test]
fn the_four_circuit_recycle_converges() {
    let f = root().join("tests/data/ok/recycle_four_circuits.toml");
    let (code, stdout, err) = run(&["simulate", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}\n{err}");
    assert!(stdout.contains("recycle4: converged"), "{stdout}");
}

/// Every flowsheet in tests/data/ok and flowsheets/ simulates `converged`, or this table names
/// why it cannot (issue 14): the status and the acid/base finding (docs/ph.md) or the message
/// that explains it.
#[test]
fn every_fixture_converges_or_its_reason_is_named() {
    let why: &[(&str, &str, &str)] = &[
        // (file, status, finding kind or message)
        // its inflows exclude an acidic state: not solved at all
        (
            "acid_budget_warning.toml",
            "infeasible",
            "base_exceeds_acid",
        ),
        (
            "acid_budget_strip_warning.toml",
            "infeasible",
            "loading_short",
        ),
        ("mass_action_model.toml", "infeasible", "loading_short"),
        (
            "organic_loop_makeup_purge.toml",
            "infeasible",
            "base_exceeds_acid",
        ),
        (
            "recycle_species_warning.toml",
            "refused",
            "the aqueous entering the loop has no way out",
        ),
    ];
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/data/ok"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files.extend(shipped());
    let (mut converged, mut named) = (0, 0);
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let (code, out, err) = run(&["simulate", f.to_str().unwrap(), "--format", "json"]);
        match why.iter().find(|w| w.0 == name) {
            None => {
                assert_eq!(code, 0, "{name}: {err}");
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["status"], "converged", "{name}");
                assert!(
                    v["mass_balance"]["max_relative_error"].as_f64().unwrap() <= 1e-9,
                    "{name}"
                );
                converged += 1;
            }
            Some((_, "refused", message)) => {
                assert_eq!(code, 1, "{name}: {err}");
                assert!(err.contains(message), "{name}: {err}");
                named += 1;
            }
            Some((_, status, kind)) => {
                assert_eq!(code, 1, "{name}: {err}");
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["status"], *status, "{name}");
                let kinds: Vec<String> = v["circuits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|c| c["acid_budget"]["findings"].as_array())
                    .flatten()
                    .map(|k| k["kind"].as_str().unwrap().to_string())
                    .collect();
                assert!(kinds.iter().any(|k| k == kind), "{name}: {kinds:?}");
                named += 1;
            }
        }
    }
    println!("{converged} flowsheets converged, {named} named why not");
    assert_eq!(named, why.len());
}

/// The substitution cross-check on a pH circuit either converges or says why it cannot
/// (issue 14, point 5): on the empirical fixture it fails and the diagnosis names the method.
#[test]
fn substitution_on_a_ph_circuit_says_why_it_fails() {
    let f = root().join("tests/data/ok/empirical_model.toml");
    let (code, _, err) = run(&["simulate", "--substitution", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the substitution cross-check ended") && err.contains("passes"),
        "{err}"
    );
    assert!(
        err.contains("not bounded on a circuit whose pH couples"),
        "{err}"
    );
    let (code, _, err) = run(&["simulate", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}
