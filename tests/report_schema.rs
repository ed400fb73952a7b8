//! The JSON reference (docs/json-schema.md) documents every field the commands emit: serializes
//! the results of the shipped flowsheets and of the design examples, walks every key and fails
//! on a path the page does not list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sxplan::cli::{run, Exit};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cli_json(args: &[&str]) -> serde_json::Value {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut all = vec!["sxplan"];
    all.extend_from_slice(args);
    let code = run(all, &mut out, &mut err);
    let text = String::from_utf8_lossy(&out);
    // infeasible or unconverged results (exit 1) are documents too
    assert!(
        code == Exit::Ok || code == Exit::Failure,
        "{args:?}: {code:?}\n{}",
        String::from_utf8_lossy(&err)
    );
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&err)
        )
    })
}

fn walk(v: &serde_json::Value, path: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let seg = if sxplan_chem::Element::from_symbol(k).is_some() {
                    "<element>"
                } else {
                    k.as_str()
                };
                let p = format!("{path}.{seg}");
                out.insert(p.clone());
                walk(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                walk(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// Paths documented: the first backticked token of each table row of the JSON sections.
fn documented() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs/json-schema.md")).unwrap();
    text.lines()
        .take_while(|l| !l.starts_with("## Report files"))
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(p, _)| p.to_string()))
        .collect()
}

fn flowsheets() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("flowsheets"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_emitted_field_is_documented() {
    let doc = documented();
    let mut emitted = BTreeSet::new();
    for f in flowsheets() {
        // every shipped flowsheet's simulate document, the 708-stage flagship included
        walk(
            &cli_json(&["simulate", s(&f), "--format", "json"]),
            "simulate",
            &mut emitted,
        );
    }
    walk(
        &cli_json(&[
            "design",
            "--beta",
            "2",
            "--feed",
            "A=0.5,B=0.5",
            "--purity-a",
            "0.999",
            "--purity-b",
            "0.9999",
            "--sensitivity",
            "--extractant-conc",
            "1.5",
            "--saponification",
            "0.36",
            "--scrub-acid",
            "4",
            "--strip-acid",
            "2",
            "--feed-conc",
            "0.5",
            "--feed-rate",
            "500",
            "--loading-capacity",
            "0.2",
            "--format",
            "json",
        ]),
        "design",
        &mut emitted,
    );
    let prnd = root().join("flowsheets/pr-nd.toml");
    walk(
        &cli_json(&["design", s(&prnd), "--circuit", "PrNd", "--format", "json"]),
        "design",
        &mut emitted,
    );
    let opt = root().join("crates/opt/tests/data/prnd_distribution.toml");
    walk(
        &cli_json(&["optimize", s(&opt), "--format", "json"]),
        "optimize",
        &mut emitted,
    );
    walk(
        &cli_json(&["optimize", s(&prnd), "--format", "json"]),
        "optimize",
        &mut emitted,
    );
    let fit_data = root().join("tests/data/fit/p507_synthetic.csv");
    for model in ["empirical", "mass-action"] {
        walk(
            &cli_json(&["fit", s(&fit_data), "--model", model, "--format", "json"]),
            "fit",
            &mut emitted,
        );
    }
    // a sweep of the Pr/Nd circuit whose Nd product meets its spec in some samples only, so
    // every figure has values
    let dir = std::env::temp_dir().join(format!("sxplan-schema-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("sweep.toml");
    std::fs::write(
        &manifest,
        format!(
            "flowsheet = \"{}\"\nsamples = 12\nseed = 3\n\n[[input]]\nname = \"beta Nd\"\ntarget = \"circuit.PrNd.beta.Nd\"\ndistribution = {{ kind = \"uniform\", low = 0.9, high = 1.1, relative = true }}\n",
            prnd.display()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    walk(
        &cli_json(&["sweep", s(&manifest), "--out", s(&out), "--format", "json"]),
        "sweep",
        &mut emitted,
    );
    for kind in ["simulate", "design", "optimize", "fit", "sweep"] {
        assert!(
            emitted.iter().any(|p| p.starts_with(kind)),
            "no {kind} document was walked"
        );
    }
    let missing: Vec<&String> = emitted.iter().filter(|p| !doc.contains(*p)).collect();
    assert!(
        missing.is_empty(),
        "fields emitted but not documented in docs/json-schema.md:\n{}",
        missing
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn documented_paths_are_well_formed() {
    let doc = documented();
    assert!(doc.len() > 150, "{} paths", doc.len());
    for p in &doc {
        let first = p.split('.').next().unwrap();
        assert!(
            ["simulate", "design", "optimize", "fit", "sweep"].contains(&first),
            "{p}: first segment must name the command"
        );
        assert!(!p.contains(' '), "{p}");
    }
}
