//! The facade (`sxplan::api`) as a plant-design tool calls it: diagnostics as located data,
//! includes read from a path, the same numbers as the CLI, the optimized flowsheet as TOML that
//! re-checks clean, plant scaling, and errors (never panics) on bad input.

use sxplan::{LoadOptions, OptimizeSettings, SimulateSettings};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn diagnostics_are_located_data() {
    let text = "schema = 1\nname = \"x\"\nproducts = 3\n";
    let loaded = sxplan::load_str("x.toml", text);
    let err = loaded.flowsheet().unwrap_err();
    let sxplan::Error::Invalid { name, diagnostics } = err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(name, "x.toml");
    let d = diagnostics.iter().find(|d| d.code == "E0101").unwrap();
    assert_eq!((d.file.as_str(), d.line, d.column), ("x.toml", 3, 1));
    assert!(d.message.contains("products"), "{}", d.message);
    assert!(loaded.render().contains("--> x.toml:3:1"));
}

#[test]
fn a_path_brings_its_includes_and_a_refused_include_is_located() {
    let loaded = sxplan::load_path(
        root().join("tests/data/ok/include_main.toml"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.sources.len(), 3);
    assert!(loaded.flowsheet().is_ok());

    let dir = std::env::temp_dir().join(format!("sxplan-facade-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let main = dir.join("main.toml");
    std::fs::write(
        &main,
        "schema = 1\nname = \"m\"\ninclude = [\"../outside.toml\"]\n",
    )
    .unwrap();
    let err = sxplan::load_path(&main, &LoadOptions::default()).unwrap_err();
    let sxplan::LoadError::Input { diagnostic, .. } = err else {
        panic!("expected a located error, got {err:?}");
    };
    assert_eq!((diagnostic.line, diagnostic.code.as_str()), (3, "E0802"));
    let missing = sxplan::load_path(dir.join("none.toml"), &LoadOptions::default()).unwrap_err();
    assert!(matches!(missing, sxplan::LoadError::Io(_)), "{missing:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simulate_gives_the_cli_json() {
    let path = root().join("flowsheets/pr-nd.toml");
    let loaded = sxplan::load_path(&path, &LoadOptions::default()).unwrap();
    let r = sxplan::simulate(loaded.flowsheet().unwrap(), &SimulateSettings::default()).unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = sxplan::cli::run(
        [
            "sxplan",
            "simulate",
            path.to_str().unwrap(),
            "--format",
            "json",
        ],
        &mut out,
        &mut err,
    );
    assert_eq!(exit, sxplan::cli::Exit::Ok);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        sxplan::simulation_json_with_summary(loaded.flowsheet().unwrap(), &r) + "\n"
    );
}

#[test]
fn optimize_returns_the_optimized_flowsheet_as_toml() {
    let loaded = sxplan::load_path(
        root().join("flowsheets/pr-nd.toml"),
        &LoadOptions::default(),
    )
    .unwrap();
    let fs = loaded.flowsheet().unwrap();
    let run = sxplan::optimize(fs, Some(loaded.main_text()), &OptimizeSettings::default()).unwrap();
    assert_eq!(run.result.status.as_str(), "optimal");
    let toml = run.optimized_toml.clone().unwrap().unwrap();
    let again = sxplan::load_str("optimized.toml", &toml);
    let fs2 = again.flowsheet().unwrap();
    // the written-back flowsheet simulates to the optimizer's point
    let sim = sxplan::simulate(fs2, &SimulateSettings::default()).unwrap();
    assert!(sim.status.is_converged());
    assert!(toml.contains("[optimize]"), "comments and tables are kept");
}

#[test]
fn scale_plant_scales_flows_and_keeps_ratios() {
    let loaded = sxplan::load_path(
        root().join("flowsheets/minamitorishima.toml"),
        &LoadOptions::default(),
    )
    .unwrap();
    let base = loaded.flowsheet().unwrap();
    let mud = sxplan::mud_feed(base).unwrap();
    let scaled = sxplan::scale_plant(
        base,
        &sxplan::Scenario {
            mud_t_per_h: 2.0 * mud.t_per_h,
            grade: mud.grade.clone(),
            prices: None,
        },
    );
    assert_eq!(
        sxplan::mud_feed(&scaled).unwrap().t_per_h,
        2.0 * mud.t_per_h
    );
    for (a, b) in base.circuits.iter().zip(&scaled.circuits) {
        assert_eq!(b.organic.flow_vol, 2.0 * a.organic.flow_vol);
        assert_eq!(a.n_stages(), b.n_stages());
    }
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    for text in [
        "",
        "\u{0}",
        "schema = 2",
        "[[circuit]]\nname = 3",
        "schema = 1\n[[feed]]",
    ] {
        let loaded = sxplan::load_str("t.toml", text);
        assert!(loaded.flowsheet().is_err(), "{text:?} loaded");
    }
    assert!(matches!(
        sxplan::kremser(10.0, 0.0001, 0.999),
        Err(sxplan::Error::Request(_)) | Err(sxplan::Error::Design(_))
    ));
    let k = sxplan::kremser(10.0, 1.0 / 3.0, 0.999).unwrap();
    assert!(k.n_stages > 1.0 && k.fraction_extracted_whole >= 0.999);
}
