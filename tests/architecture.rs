//! Enforces the layering of the workspace: dependencies point down only (ARCHITECTURE.md).
//!
//! Reads `cargo metadata` and fails when a crate depends on a layer above it or on an
//! external crate that belongs to another layer (petgraph only in graph, good_lp and
//! clarabel only in opt, toml only in model).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Workspace crates from bottom to top. A crate may depend only on crates earlier in this list.
const LAYERS: &[&str] = &[
    "sxplan-chem",
    "sxplan-fit",
    "sxplan-model",
    "sxplan-graph",
    "sxplan-sim",
    "sxplan-design",
    "sxplan-opt",
    "sxplan-report",
    "sxplan",
];

/// External crates confined to one workspace crate (plus the facade, which wires features only).
const CONFINED: &[(&str, &[&str])] = &[
    ("petgraph", &["sxplan-graph"]),
    ("good_lp", &["sxplan-opt", "sxplan"]),
    ("clarabel", &["sxplan-opt"]),
    ("toml", &["sxplan-model"]),
    ("clap", &["sxplan"]),
    ("indicatif", &["sxplan"]),
];

/// Workspace crates that must not pull in an external crate even transitively.
const FORBIDDEN_TRANSITIVE: &[(&str, &str)] = &[
    ("sxplan-chem", "toml"),
    ("sxplan-chem", "petgraph"),
    ("sxplan-chem", "good_lp"),
    ("sxplan-model", "petgraph"),
    ("sxplan-model", "good_lp"),
    ("sxplan-graph", "good_lp"),
    ("sxplan-sim", "good_lp"),
    ("sxplan-design", "good_lp"),
    ("sxplan-sim", "clarabel"),
];

struct Meta {
    /// workspace package name -> names of its direct normal (non-dev, non-build) dependencies.
    direct: BTreeMap<String, BTreeSet<String>>,
}

fn metadata() -> Meta {
    // `--no-deps` lists the workspace members with their declared dependencies and needs no
    // network or registry: the checked crates (petgraph, good_lp, toml) are only ever pulled
    // in by a workspace crate declaring them, so the closure over workspace edges suffices.
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let mut direct = BTreeMap::new();
    for p in v["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("name").to_string();
        let deps: BTreeSet<String> = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("dep name").to_string())
            .collect();
        direct.insert(name, deps);
    }
    Meta { direct }
}

/// Everything `root` reaches through workspace crates, including their direct externals.
fn transitive(meta: &Meta, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_string()];
    while let Some(n) = stack.pop() {
        for d in meta.direct.get(&n).into_iter().flatten() {
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn workspace_crates_depend_only_downwards() {
    let meta = metadata();
    let mut violations = Vec::new();
    for (i, krate) in LAYERS.iter().enumerate() {
        let deps = meta
            .direct
            .get(*krate)
            .unwrap_or_else(|| panic!("{krate} is missing from the workspace"));
        for d in deps {
            if let Some(j) = LAYERS.iter().position(|l| l == d) {
                if j >= i {
                    violations.push(format!("{krate} depends on {d}, which is not below it"));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn external_crates_stay_in_their_layer() {
    let meta = metadata();
    let mut violations = Vec::new();
    for (ext, allowed) in CONFINED {
        for krate in LAYERS {
            let deps = &meta.direct[*krate];
            if deps.contains(*ext) && !allowed.contains(krate) {
                violations.push(format!("{krate} depends directly on {ext}"));
            }
        }
    }
    for (krate, ext) in FORBIDDEN_TRANSITIVE {
        if transitive(&meta, krate).contains(*ext) {
            violations.push(format!("{krate} pulls in {ext} (transitively)"));
        }
    }
    assert!(
        violations.is_empty(),
        "dependency violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_itself_sees_the_known_edges() {
    // Guards against the test passing vacuously on an empty or misread metadata graph.
    let meta = metadata();
    assert!(meta.direct["sxplan-opt"].contains("good_lp"));
    assert!(meta.direct["sxplan-opt"].contains("clarabel"));
    assert!(meta.direct["sxplan-graph"].contains("petgraph"));
    assert!(transitive(&meta, "sxplan-sim").contains("sxplan-chem"));
    assert!(transitive(&meta, "sxplan").contains("good_lp"));
}

/// What a plant simulator is made of: stage equilibria, chains, the network walk, its own
/// linear algebra. None of it may appear in the optimizer, which evaluates and differentiates
/// the plant through `sxplan_sim::Simulator` only (one simulator; ARCHITECTURE.md).
const SIMULATOR_PARTS: &[&str] = &[
    "sxplan_sim::chain",
    "sxplan_sim::equilibrium",
    "StageModel",
    "SfLoading",
    "Chain {",
    "ChainSolution",
    "sxplan_graph",
    "fn simulate_network",
    "fn eval_node",
    "fn eval_circuit",
    "fn solve_stage_scalar",
    "fn dense_lu",
    "fn chain_solve",
    "fn inflows",
    "fn layout",
];

#[test]
fn the_optimizer_has_no_simulator_of_its_own() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/opt/src");
    let mut files = 0;
    let mut evaluates = false;
    for entry in std::fs::read_dir(&dir).expect("crates/opt/src") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).expect("readable");
        for part in SIMULATOR_PARTS {
            assert!(
                !text.contains(part),
                "{} contains `{part}`: the optimizer must evaluate the plant through sxplan_sim::Simulator only",
                path.display()
            );
        }
        evaluates |= text.contains(".evaluate(") && text.contains("Simulator");
    }
    assert!(files >= 5, "read only {files} files of {}", dir.display());
    assert!(
        evaluates,
        "no evaluation through sxplan_sim::Simulator found in the optimizer"
    );
    // And opt reaches the simulator by a dependency edge, not a copy.
    assert!(metadata().direct["sxplan-opt"].contains("sxplan-sim"));
}
