//! The flagship plant, flowsheets/minamitorishima.toml: it checks clean with at least 500
//! stages and every datum tagged; it simulates with mass-balance closure <= 1e-9; its plant
//! summary is pinned by a golden (tests/data/plant/minamitorishima.summary.txt, fixed float
//! formatting; rewrite with UPDATE_EXPECT=1); and it optimizes to a point the simulator confirms.
//!
//! The main job runs here as the README gives it (`sxplan optimize` on the flagship, in-process,
//! report into a temporary folder): about 10 s with the optimized test profile.

use std::path::PathBuf;

use sxplan::cli::{run, Exit};
use sxplan_report::plant::{plant_summary, render_text, PlantOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn flagship() -> sxplan_model::Flowsheet {
    let src = std::fs::read_to_string(root().join("flowsheets/minamitorishima.toml"))
        .expect("flowsheets/minamitorishima.toml is readable");
    let out = sxplan_model::check_str(&src);
    assert!(
        out.diagnostics.is_empty(),
        "diagnostics: {:?}",
        out.diagnostics
    );
    out.flowsheet.expect("the flagship checks clean")
}

fn update() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

#[test]
fn flagship_checks_clean_through_the_cli() {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run(
        [
            "sxplan",
            "check",
            root()
                .join("flowsheets/minamitorishima.toml")
                .to_str()
                .expect("utf-8 path"),
        ],
        &mut out,
        &mut err,
    );
    assert_eq!(code, Exit::Ok, "stderr: {}", String::from_utf8_lossy(&err));
    assert!(String::from_utf8_lossy(&out).starts_with("ok: "));
}

#[test]
fn flagship_has_at_least_500_stages_and_the_whole_process() {
    let fs = flagship();
    let stages: usize = fs.circuits.iter().map(|c| c.n_stages()).sum();
    assert!(stages >= 500, "{stages} stages");
    let kinds: Vec<&str> = fs
        .units
        .iter()
        .map(|u| match u.kind {
            sxplan_model::UnitKind::Leach { .. } => "leach",
            sxplan_model::UnitKind::SolidLiquid => "solid_liquid",
            sxplan_model::UnitKind::ImpurityRemoval => "impurity_removal",
            sxplan_model::UnitKind::Precipitation => "precipitation",
            sxplan_model::UnitKind::Calcination => "calcination",
        })
        .collect();
    for k in [
        "leach",
        "solid_liquid",
        "impurity_removal",
        "precipitation",
        "calcination",
    ] {
        assert!(kinds.contains(&k), "no {k} unit in {kinds:?}");
    }
    assert_eq!(fs.feeds.len(), 1);
    assert!(matches!(fs.feeds[0].kind, sxplan_model::FeedKind::Mud(_)));
    // Market grades with their source on the four USGS-priced oxides.
    for (name, min) in [
        ("Dy2O3", 0.995),
        ("Nd2O3", 0.995),
        ("Tb4O7", 0.9999),
        ("Eu2O3", 0.9999),
    ] {
        let p = fs
            .products
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no product {name}"));
        let spec = p.purity.as_ref().expect("purity spec");
        assert!((spec.min - min).abs() < 1e-12, "{name}: {}", spec.min);
        assert!(spec.source.as_deref().is_some_and(|s| s.contains("USGS")));
    }
}

#[test]
fn every_datum_of_the_flagship_carries_a_quality_tag() {
    let fs = flagship();
    let untagged: Vec<&str> = fs
        .data_used
        .iter()
        .filter(|d| d.quality.is_none())
        .map(|d| d.item.as_str())
        .collect();
    assert!(untagged.is_empty(), "untagged: {untagged:?}");
}

#[test]
fn flagship_simulates_closed_and_its_summary_matches_the_golden() {
    let fs = flagship();
    let sim = sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default())
        .expect("the flagship simulates");
    assert_eq!(sim.status, sxplan_sim::SolveStatus::Converged);
    assert!(
        sim.mass_balance.max_relative_error <= 1e-9,
        "closure {:e}",
        sim.mass_balance.max_relative_error
    );
    let summary = plant_summary(&fs, &sim, None, &PlantOptions::default());
    assert!(summary.total_stages >= 500);
    assert!((summary.mud_t_per_day - 350.0).abs() < 1e-9);
    // The closure figure is rounding noise (asserted <= 1e-9 above); the golden holds a
    // placeholder for it so that a change of solver path does not read as a plant change.
    let closure = format!(
        "mass balance closure {:.2e}",
        sim.mass_balance.max_relative_error
    );
    let text = render_text(&summary).replacen(&closure, "mass balance closure <= 1e-9", 1);
    let golden = root().join("tests/data/plant/minamitorishima.summary.txt");
    if update() {
        std::fs::create_dir_all(golden.parent().expect("parent")).expect("golden dir");
        std::fs::write(&golden, &text).expect("golden written");
        return;
    }
    let expected = std::fs::read_to_string(&golden)
        .expect("golden exists (run with UPDATE_EXPECT=1 SXPLAN_SLOW=1 to create it)");
    assert_eq!(text, expected, "summary differs from {}", golden.display());
}

/// The main job: check, simulate, optimize, plant summary, report folder.
#[test]
fn main_job_optimizes_to_a_simulator_confirmed_point_and_writes_the_report() {
    let dir = std::env::temp_dir().join(format!("sxplan-main-job-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = root().join("flowsheets/minamitorishima.toml");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run(
        [
            "sxplan",
            "optimize",
            file.to_str().expect("utf-8 path"),
            "--out",
            dir.to_str().expect("utf-8 path"),
        ],
        &mut out,
        &mut err,
    );
    let out = String::from_utf8_lossy(&out).into_owned();
    let err = String::from_utf8_lossy(&err).into_owned();
    assert_eq!(code, Exit::Ok, "{out}{err}");
    for needle in [
        "check ",
        "simulate (written point): converged",
        ": optimal (max_margin)",
        "simulated at the returned point (sxplan-sim, the simulator `sxplan simulate` runs): converged",
        "plant summary: minamitorishima",
        "mud throughput:",
        "oxide products",
        "reagents:",
        "stages: 708 in total",
        "bottlenecks (shadow prices at the optimum):",
        "margin at usgs_2024",
        "report: wrote",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    for f in [
        "plant_summary.txt",
        "plant_summary.md",
        "plant_summary.json",
        "report.html",
        "report.md",
        "result.json",
        "minamitorishima.optimized.toml",
    ] {
        assert!(dir.join(f).is_file(), "{f} not written");
    }
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("result.json")).expect("result.json"),
    )
    .expect("json");
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["confirmation"]["status"], "converged");
    assert!(v["confirmation"]["max_violation"].as_f64().expect("number") <= 1e-6);
    assert!(
        v["confirmation"]["mass_balance_error"]
            .as_f64()
            .expect("number")
            <= 1e-9
    );
    // The optimized flowsheet checks clean and every product meets its spec in simulation.
    let text = std::fs::read_to_string(dir.join("minamitorishima.optimized.toml")).expect("toml");
    let fs2 = sxplan_model::check_str(&text)
        .flowsheet
        .expect("optimized flowsheet checks clean");
    let sim = sxplan_sim::simulate(&fs2, &sxplan_sim::SimOptions::default()).expect("simulates");
    assert_eq!(sim.status, sxplan_sim::SolveStatus::Converged);
    let summary = plant_summary(&fs2, &sim, None, &PlantOptions::default());
    assert!(summary.products.iter().all(|p| p.spec_met != Some(false)));
    let _ = std::fs::remove_dir_all(&dir);
}
