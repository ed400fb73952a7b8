//! End-to-end tests of `sxplan optimize` through the in-process CLI: text and JSON reports, the
//! optimized flowsheet written with `--out`, and exit codes for infeasible plans and bad input.

use std::path::{Path, PathBuf};

use sxplan::cli::Exit;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/opt/tests/data")
        .join(name)
}

mod common;
use common::cli;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sxplan-opt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn text_report_shows_status_passes_point_and_limits() {
    let f = data("prnd_distribution.toml");
    let (code, out, err) = cli(&["optimize", f.to_str().unwrap()]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(out.contains(": optimal (max_throughput)"), "{out}");
    assert!(out.contains("feed liquor rate"), "{out}");
    assert!(out.contains("1.332066 m3/h"), "{out}");
    assert!(out.contains("what limits this plant"), "{out}");
    assert!(
        out.contains("1. purity Pr_raffinate Pr >= 90.0000 %"),
        "{out}"
    );
}

#[test]
fn json_report_is_versioned_and_complete() {
    let f = data("prnd_distribution.toml");
    let (code, out, err) = cli(&["optimize", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, Exit::Ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["objective"]["kind"], "max_throughput");
    let obj = v["objective"]["value"].as_f64().unwrap();
    assert!((obj - 1.332066).abs() < 1e-5, "{obj}");
    assert!(!v["passes"].as_array().unwrap().is_empty());
    assert!(v["passes"][0]["lp_time_s"].is_number());
    assert_eq!(v["operating_point"][0]["unit"], "m3/h");
    assert!(v["shadow_prices"][0]["value"].as_f64().unwrap() > 0.0);
    assert_eq!(v["products"].as_array().unwrap().len(), 2);
}

#[test]
fn out_writes_a_flowsheet_that_checks_and_is_already_optimal() {
    let f = data("prnd_distribution.toml");
    let dir = tmpdir("out");
    let (code, _, err) = cli(&[
        "optimize",
        f.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Ok, "{err}");
    let written = dir.join("prnd_distribution.optimized.toml");
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.contains("flow = \"1.332066"), "{text}");
    let checked = sxplan_model::check_str(&text);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
    // The full report is there and no temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for f in ["report.html", "report.md", "result.json"] {
        assert!(names.iter().any(|n| n == f), "{f} missing: {names:?}");
    }
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    // Optimizing the written flowsheet again finds the same optimum.
    let (code, out, err) = cli(&["optimize", written.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, Exit::Ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let obj = v["objective"]["value"].as_f64().unwrap();
    let start = v["objective"]["start"].as_f64().unwrap();
    assert!((obj - start).abs() < 1e-6 * obj, "{obj} {start}");
    // `sxplan simulate` accepts it (when the simulate command is built in).
    let (code, _, err) = cli(&["simulate", written.to_str().unwrap()]);
    if !err.contains("not available in this build") {
        assert_eq!(code, Exit::Ok, "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn infeasible_plan_exits_1_names_the_specs_and_writes_nothing() {
    let src = std::fs::read_to_string(data("prnd_distribution.toml"))
        .unwrap()
        .replace("min = 0.9 }", "min = 0.9999 }");
    let dir = tmpdir("infeasible");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("tight.toml");
    std::fs::write(&f, src).unwrap();
    let out_dir = dir.join("out");
    let (code, out, err) = cli(&[
        "optimize",
        f.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Failure, "{out}{err}");
    assert!(out.contains(": infeasible"), "{out}");
    assert!(out.contains("conflicting specs"), "{out}");
    assert!(
        out.contains("purity Pr_raffinate") && out.contains("purity Nd_organic"),
        "{out}"
    );
    assert!(!out_dir.join("tight.optimized.toml").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exit_codes() {
    let (code, _, err) = cli(&["optimize", "/nonexistent/plant.toml"]);
    assert_eq!(code, Exit::Usage);
    assert!(
        err.contains("cannot read") && err.contains("/nonexistent/plant.toml"),
        "{err}"
    );
    let f = data("prnd_distribution.toml");
    let (code, _, err) = cli(&["optimize", f.to_str().unwrap(), "--backend", "microlp"]);
    assert_eq!(code, Exit::Usage);
    assert!(err.contains("unknown backend \"microlp\""), "{err}");
    // A flowsheet without [optimize] is an error in the flowsheet: exit 1 with the reason.
    let src = std::fs::read_to_string(&f).unwrap();
    let cut = src.split("[optimize]").next().unwrap().to_string();
    let dir = tmpdir("noopt");
    std::fs::create_dir_all(&dir).unwrap();
    let g = dir.join("noopt.toml");
    std::fs::write(&g, cut).unwrap();
    let (code, _, err) = cli(&["optimize", g.to_str().unwrap()]);
    assert_eq!(code, Exit::Failure);
    assert!(err.contains("has no [optimize] table"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shipped Pr/Nd example: its published extraction ratios miss the 99.99 % Pr spec; with
/// the ratios free the optimizer meets both specs at the feed-rate bound, the simulator
/// confirms the point, and the optimized flowsheet carries the new ratios.
#[test]
fn shipped_pr_nd_meets_its_specs_by_moving_the_extraction_ratios() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("flowsheets/pr-nd.toml");
    let dir = tmpdir("prnd-ratios");
    let (code, out, err) = cli(&[
        "optimize",
        f.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Ok, "{out}\n{err}");
    assert!(
        out.contains("optimize pr-nd: optimal (max_throughput)"),
        "{out}"
    );
    assert!(
        out.contains("simulated at the returned point (sxplan-sim, the simulator `sxplan simulate` runs): converged"),
        "{out}"
    );
    // the summary opens the output: specs with margins, what limits the plant, costs
    assert!(out.starts_with("summary: optimized (optimal"), "{out}");
    for want in [
        "specs: ",
        "what limits it:",
        "costs at ",
        "equipment and organic inventory:",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    for spec in ["purity Nd_chloride Nd", "purity Pr_raffinate Pr"] {
        let line = out
            .lines()
            .skip_while(|l| !l.contains("optimize pr-nd:"))
            .find(|l| l.contains(spec))
            .unwrap();
        assert!(line.trim_end().ends_with("ok"), "{line}");
    }
    let text = std::fs::read_to_string(dir.join("pr-nd.optimized.toml")).unwrap();
    let fs = sxplan_model::check_str(&text)
        .flowsheet
        .expect("checks clean");
    let sxplan_model::Equilibrium::SeparationFactor(sf) = &fs.circuits[0].equilibrium else {
        panic!("separation factor model")
    };
    let e = |k: usize| match sf.loading[k] {
        Some(sxplan_model::SectionLoading::ExtractionRatio(e)) => e,
        _ => panic!("ratio"),
    };
    // Moved off the published E_M = 0.773775 and E'_M = sqrt(2).
    assert!((e(0) - 0.773775).abs() > 1e-3 && (e(1) - std::f64::consts::SQRT_2).abs() > 1e-3);
    let _ = std::fs::remove_dir_all(&dir);
}
