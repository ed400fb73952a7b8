//! Golden test of the Markdown report of `flowsheets/pr-nd.toml` (simulate). Update the expected
//! file with `UPDATE_EXPECT=1 cargo test --test report_golden`.

use std::path::PathBuf;

#[test]
fn markdown_report_of_pr_nd_simulation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(root.join("flowsheets/pr-nd.toml")).unwrap();
    let fs = sxplan_model::check_str(&src).flowsheet.unwrap();
    let r = sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()).unwrap();
    let input = sxplan_report::ReportInput::from_sim(&r)
        .unwrap()
        .with_provenance(&fs.data_used);
    let got = sxplan_report::markdown_report(&input);
    let path = root.join("tests/data/report/pr-nd.simulate.md");
    if std::env::var("UPDATE_EXPECT").ok().as_deref() == Some("1") {
        std::fs::write(&path, &got).unwrap();
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
            "report.md of pr-nd differs from {} at line {}:\n  got:  {}\n  want: {}\n(run with UPDATE_EXPECT=1 to accept)",
            path.display(),
            line + 1,
            got.lines().nth(line).unwrap_or("<end>"),
            want.lines().nth(line).unwrap_or("<end>")
        );
    }
}
