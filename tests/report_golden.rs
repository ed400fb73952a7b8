//! Golden tests of the Markdown reports: the simulation of `flowsheets/pr-nd.toml` and the binary
//! design example (beta 2, equimolar feed, 99.9 / 99.99 %, with its sensitivity curves). Update
//! the expected files with `UPDATE_EXPECT=1 cargo test --test report_golden`.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `got` with the golden file, or rewrites it with UPDATE_EXPECT=1.
fn expect(name: &str, got: &str) {
    let path = root().join("tests/data/report").join(name);
    if std::env::var("UPDATE_EXPECT").ok().as_deref() == Some("1") {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_EXPECT=1)", path.display()));
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .map_or(got.lines().count().min(want.lines().count()), |i| i);
        panic!(
            "report.md differs from {} at line {}:\n  got:  {}\n  want: {}\n(run with UPDATE_EXPECT=1 to accept)",
            path.display(),
            line + 1,
            got.lines().nth(line).unwrap_or("<end>"),
            want.lines().nth(line).unwrap_or("<end>")
        );
    }
}

#[test]
fn markdown_report_of_pr_nd_simulation() {
    let src = std::fs::read_to_string(root().join("flowsheets/pr-nd.toml")).unwrap();
    let fs = sxplan_model::check_str(&src).flowsheet.unwrap();
    let r = sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()).unwrap();
    let input = sxplan_report::ReportInput::from_sim(&r)
        .unwrap()
        .with_provenance(&fs.data_used)
        .with_summary(sxplan_report::overview::overview(&fs, &r, None));
    let md = sxplan_report::markdown_report(&input);
    // the top of the report whatever the golden holds: specs, annual figures, costs, equipment
    for want in [
        "## Summary",
        "Specs: **1 of 2 met**",
        "### The plant per year",
        "### Costs and margin",
        "### Equipment and organic inventory",
    ] {
        assert!(md.contains(want), "{want}\n{md}");
    }
    expect("pr-nd.simulate.md", &md);
}

#[test]
fn markdown_report_of_the_binary_design() {
    use sxplan_design::shortcut::{FeedPhase, Reflux};
    let spec = sxplan_design::binary_spec(
        2.0,
        0.5,
        0.999,
        0.9999,
        FeedPhase::Aqueous,
        Reflux::XuOptimum,
    );
    let options = sxplan_design::SearchOptions::default();
    let d = sxplan_design::design_cut(&spec, &options).unwrap();
    let sens = sxplan_design::sensitivity(&spec, &options).unwrap();
    let input = sxplan_report::ReportInput::from_design(&d, Some(&sens)).unwrap();
    let md = sxplan_report::markdown_report(&input);
    // what the report must say whatever the golden holds: the published example's shape
    assert!(md.starts_with("# sxplan report: cut A | B"), "{md}");
    assert!(md.contains("![mccabe_thiele.svg](mccabe_thiele.svg)"));
    assert!(md.contains("![sensitivity.svg](sensitivity.svg)"));
    expect("binary.design.md", &md);
}
