//! `sxplan compare`: the simulated and the optimized pr-nd results side by side, with the
//! operating-point, product, cost and margin deltas, in text, Markdown and HTML.

use std::path::{Path, PathBuf};

use sxplan::cli::Exit;

mod common;
use common::cli;

fn tmpdir(name: &str) -> PathBuf {
    common::scratch("compare", name)
}

#[test]
fn compare_lists_operating_point_and_margin_deltas() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("flowsheets/pr-nd.toml");
    let f = f.to_str().unwrap();
    let dir = tmpdir("prnd");
    let (code, sim, err) = cli(&["simulate", f, "--format", "json"]);
    assert_eq!(code, Exit::Ok, "{err}");
    let (code, opt, err) = cli(&["optimize", f, "--format", "json"]);
    assert_eq!(code, Exit::Ok, "{err}");
    let a = dir.join("sim.json");
    let b = dir.join("opt.json");
    std::fs::write(&a, sim).unwrap();
    std::fs::write(&b, opt).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (code, text, err) = cli(&["compare", a, b]);
    assert_eq!(code, Exit::Ok, "{err}");
    for want in [
        "operating point  circuit PrNd organic flow",
        "spec margins     purity Nd_chloride Nd >= 99.9000 %",
        "costs            margin",
        "equipment        organic inventory",
    ] {
        assert!(text.contains(want), "{want}\n{text}");
    }
    // the organic flow moved: its row has a value in both cases and a signed delta
    let row = text
        .lines()
        .find(|l| l.contains("circuit PrNd organic flow"))
        .unwrap();
    assert!(row.contains("+") || row.contains(" -"), "{row}");
    let (code, md, _) = cli(&["compare", a, b, "--format", "markdown"]);
    assert_eq!(code, Exit::Ok);
    assert!(md.starts_with("# sxplan compare"), "{md}");
    assert!(
        md.contains("| operating point | circuit PrNd organic flow | m3/h |"),
        "{md}"
    );
    let (code, html, _) = cli(&["compare", a, b, "--format", "html"]);
    assert_eq!(code, Exit::Ok);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<table>"));
    // a design result has no plant to compare; one file is a usage error
    let (code, _, _) = cli(&["compare", a]);
    assert_eq!(code, Exit::Usage);
    let _ = std::fs::remove_dir_all(&dir);
}
