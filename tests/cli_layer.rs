//! src/cli holds argument parsing, files and the terminal only: every simulation, design,
//! optimization, graph expansion, flowsheet reading or TOML rewriting goes through the facade
//! (`src/api`). This test reads the CLI's source and fails when it calls a solver entry point
//! or a domain function directly, and checks that each of them is called by the facade, so the
//! list stays meaningful (a renamed entry point fails here instead of passing vacuously).

use std::path::Path;

/// Entry points and domain operations that belong to the facade, with what they do.
const FACADE_ONLY: &[(&str, &str)] = &[
    ("sxplan_sim::simulate(", "simulation"),
    ("sxplan_opt::optimize(", "optimization"),
    ("sxplan_design::design_cut(", "rigorous design"),
    ("stages_vs_reflux(", "design sensitivity"),
    ("stages_vs_purity(", "design sensitivity"),
    ("kremser_stages(", "Kremser calculation"),
    ("cut_from_circuit(", "specs from a flowsheet"),
    (
        "feed_from_simulation(",
        "a circuit's feed from a simulation",
    ),
    ("designed_circuit_toml(", "designed-circuit TOML"),
    ("purities_from_specs(", "purities from recoveries"),
    ("optimized_toml(", "optimized-TOML write-back"),
    ("plant_summary(", "plant summary (valued products)"),
    ("StageGraph::build(", "stage-graph expansion"),
    ("check_sources(", "flowsheet checking"),
    ("include_entries(", "include resolution"),
    ("flow_vol *=", "plant scaling"),
];

/// Names the CLI may not mention at all: no TOML, no LP, no graph library, no simulator type.
const NEVER_IN_CLI: &[&str] = &["toml::", "good_lp", "petgraph", "Simulator", "sxplan_graph"];

fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((p.display().to_string(), text));
        }
    }
    out
}

/// The code of a file without `//` comments (doc comments may name what moved where).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn cli_holds_no_simulation_optimization_or_toml_rewriting() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cli = rust_files(&root.join("src/cli"));
    let api = rust_files(&root.join("src/api"));
    assert!(cli.len() >= 8, "src/cli has {} files", cli.len());
    let api_code: String = api.iter().map(|(_, t)| code(t)).collect();
    let mut problems = Vec::new();
    for (pattern, what) in FACADE_ONLY {
        for (file, text) in &cli {
            if code(text).contains(pattern) {
                problems.push(format!(
                    "{file}: calls `{pattern}` ({what}): use sxplan::api"
                ));
            }
        }
        if !api_code.contains(pattern) {
            problems.push(format!(
                "src/api does not call `{pattern}` ({what}): update this list"
            ));
        }
    }
    for name in NEVER_IN_CLI {
        for (file, text) in &cli {
            if code(text).contains(name) {
                problems.push(format!("{file}: names `{name}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The facade reads files only through its one reader (`src/api/files.rs`), and the CLI
/// reads none itself: it writes outputs only.
#[test]
fn only_the_facade_reader_opens_input_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, text) in rust_files(&root.join("src/cli")) {
        let c = code(&text);
        for pattern in ["read_to_string(", "File::open(", "fs::read("] {
            assert!(
                !c.contains(pattern),
                "{file}: reads a file with `{pattern}`"
            );
        }
    }
}
