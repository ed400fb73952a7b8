//! Failure semantics: every way check, simulate, design and optimize can fail returns a status
//! or an error whose message names the circuit, stage or element involved; the CLI exits 1 for a
//! bad flowsheet or a failed solve and 2 for usage or I/O; a failed run leaves no output file
//! behind that could pass for a finished one. docs/hardening.md lists each mode and message.

use std::path::{Path, PathBuf};

use sxplan::cli::Exit;
use sxplan_opt::{
    diagnose, solve, Direction, LpOptions, LpProblem, LpStatus, OptError, Relation, RowKind,
};
use sxplan_sim::{simulate, SimOptions, SolveStatus};

mod common;
use common::{cli, root};

/// A fresh scratch directory for one test.
fn scratch(tag: &str) -> PathBuf {
    common::scratch("fail", tag)
}

/// Every file under `dir` (recursively), sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_in(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

const BASE: &str = r#"schema = 1
name = "base"

[[feed]]
name = "liquor"
flow = "1 m3/h"
acid = "HCl"
ph = 2.0
conc = { Pr = "0.25 mol/L", Nd = "0.25 mol/L", quality = "illustrative" }
to = "PrNd.feed"

[[circuit]]
name = "PrNd"
sections = [
    { kind = "extraction", stages = 20 },
    { kind = "scrub", stages = 20 },
    { kind = "strip", stages = 5 },
]
feed_stage = 20
organic = { extractant = "P507", conc = "1.5 mol/L", saponification = "40 %", agent = "NH3", flow = "4 m3/h" }
scrub = { acid = "HCl", conc = "4 mol/L", flow = "0.45 m3/h" }
strip = { acid = "HCl", conc = "2 mol/L", flow = "0.6 m3/h" }

[circuit.equilibrium]
model = "separation_factor"
beta = { Pr = 1.0, Nd = 1.5, quality = "illustrative" }
extraction_ratio = { extraction = 0.8, scrub = 1.2 }

[[product]]
name = "Nd"
from = "PrNd.strip_liquor"
purity = { element = "Nd", min = "99.5 %" }

[[product]]
name = "Pr"
from = "PrNd.raffinate"
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ------------------------------------------------------------------------------------ check

#[test]
fn base_flowsheet_is_clean_so_each_case_below_isolates_one_fault() {
    let out = sxplan_model::check_str(BASE);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
}

#[test]
fn check_failures_name_the_place_and_exit_1() {
    let dir = scratch("check");
    // (case, source, code, words the message must contain)
    let cases: Vec<(&str, String, &str, Vec<&str>)> = vec![
        (
            "syntax",
            BASE.replace("name = \"base\"", "name = \"base"),
            "E0001",
            vec!["invalid TOML"],
        ),
        (
            "missing element data",
            BASE.replace(
                "beta = { Pr = 1.0, Nd = 1.5, quality",
                "beta = { Pr = 1.0, quality",
            ),
            "E0602",
            vec!["PrNd", "Nd"],
        ),
        (
            "feed stage outside",
            BASE.replace("feed_stage = 20", "feed_stage = 46"),
            "E0402",
            vec!["PrNd", "46"],
        ),
        (
            "negative flow",
            BASE.replace("flow = \"4 m3/h\"", "flow = \"-4 m3/h\""),
            "E0204",
            vec!["PrNd", "-4"],
        ),
        (
            "not finite",
            BASE.replace("Nd = 1.5, quality", "Nd = nan, quality"),
            "E0205",
            vec!["Nd"],
        ),
        (
            "absurd size",
            BASE.replace("stages = 5 }", "stages = 1000000 }"),
            "E0004",
            vec!["PrNd", "1000040", "max_stages_per_circuit"],
        ),
        (
            "unknown element",
            BASE.replace("Pr = \"0.25 mol/L\"", "Pm = \"0.25 mol/L\""),
            "E0301",
            vec!["Pm"],
        ),
    ];
    for (what, src, code, words) in cases {
        let out = sxplan_model::check_str(&src);
        assert!(out.flowsheet.is_none(), "{what}: accepted");
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{what}: no {code} in {:?}", out.diagnostics));
        for w in &words {
            assert!(d.message.contains(w), "{what}: `{}` lacks {w}", d.message);
        }
        assert!(d.line >= 1 && d.col >= 1, "{what}: not placed");
        // The same through every subcommand that reads a flowsheet: exit 1, the code on stderr,
        // nothing written to --out.
        let f = write(&dir, &format!("{}.toml", what.replace(' ', "_")), &src);
        let out_dir = dir.join(format!("out-{}", what.replace(' ', "_")));
        for sub in ["check", "simulate", "optimize"] {
            let mut args = vec![sub, f.to_str().unwrap()];
            if sub == "simulate" {
                args.extend_from_slice(&["--out", out_dir.to_str().unwrap()]);
            }
            let (exit, _, err) = cli(&args);
            assert_eq!(exit, Exit::Failure, "{what} via {sub}: {err}");
            assert!(err.contains(code), "{what} via {sub}: {err}");
            assert!(
                files_in(&out_dir).is_empty(),
                "{what} via {sub}: wrote {:?}",
                files_in(&out_dir)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_input_is_exit_2_and_invalid_utf8_is_refused() {
    let dir = scratch("io");
    for sub in ["check", "simulate", "optimize"] {
        let (exit, _, err) = cli(&[sub, "/nonexistent/plant.toml"]);
        assert_eq!(exit, Exit::Usage, "{sub}: {err}");
        assert!(err.contains("/nonexistent/plant.toml"), "{sub}: {err}");
    }
    let f = dir.join("latin1.toml");
    std::fs::write(&f, b"schema = 1\nname = \"caf\xe9\"\n").unwrap();
    // Refused by every reader, naming the encoding: an error in the input, exit 1 everywhere.
    for sub in ["check", "simulate", "optimize"] {
        let (exit, out, err) = cli(&[sub, f.to_str().unwrap()]);
        assert_eq!(exit, Exit::Failure, "{sub}: {err}");
        assert!(out.is_empty(), "{sub}: {out}");
        assert!(err.contains("UTF-8"), "{sub}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// --------------------------------------------------------------------------------- simulate

#[test]
fn recycle_iteration_limit_is_a_status_with_residuals_not_a_converged_result() {
    let src = std::fs::read_to_string(root().join("flowsheets/reflux.toml")).unwrap();
    let fs = sxplan_model::check_str(&src).flowsheet.unwrap();
    let opts = SimOptions {
        max_recycle_iterations: 1,
        ..SimOptions::default()
    };
    let r = simulate(&fs, &opts).unwrap();
    assert_eq!(r.status, SolveStatus::IterationLimit);
    assert!(r.diagnostics.recycle_residual > opts.recycle_tolerance);
    assert!(r.diagnostics.recycle_residual.is_finite());
    // Every number of the last iterate is still finite: it can be reported as is.
    for s in &r.streams {
        assert!(s.flow_vol_l_per_h.is_finite(), "stream {}", s.name);
        for v in s.flow_mol_per_h.values() {
            assert!(v.is_finite() && *v >= 0.0, "stream {}", s.name);
        }
    }
    // The default budget converges the same flowsheet.
    let ok = simulate(&fs, &SimOptions::default()).unwrap();
    assert_eq!(ok.status, SolveStatus::Converged);
}

#[test]
fn simulate_out_into_a_file_path_is_exit_2_and_leaves_no_temporary() {
    let dir = scratch("simout");
    let f = write(&dir, "base.toml", BASE);
    let blocker = write(&dir, "blocker", "not a directory");
    let (exit, _, err) = cli(&[
        "simulate",
        f.to_str().unwrap(),
        "--out",
        blocker.to_str().unwrap(),
    ]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(err.contains("blocker"), "{err}");
    assert_eq!(
        files_in(&dir),
        vec![f.clone(), blocker.clone()],
        "stray files"
    );
    // A writable --out holds complete files only: result.json parses, no temporaries remain.
    let out_dir = dir.join("out");
    let (exit, _, err) = cli(&[
        "simulate",
        f.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(exit, Exit::Ok, "{err}");
    let files = files_in(&out_dir);
    assert!(!files.is_empty());
    for p in &files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.') && !name.contains("tmp"),
            "temporary left: {name}"
        );
    }
    let json = std::fs::read_to_string(out_dir.join("result.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["status"], "converged");
    let _ = std::fs::remove_dir_all(&dir);
}

// ----------------------------------------------------------------------------------- design

#[test]
fn design_stage_budget_exceeded_is_a_status_and_exit_1() {
    let (exit, out, err) = cli(&[
        "design",
        "--beta",
        "1.2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.99999",
        "--purity-b",
        "0.99999",
        "--max-stages",
        "20",
    ]);
    assert_eq!(exit, Exit::Failure, "{out}{err}");
    assert!(err.starts_with("design: "), "{err}");
    assert!(!out.is_empty(), "the status is reported on stdout too");
}

#[test]
fn design_absurd_input_is_refused_naming_the_value() {
    for (args, needle) in [
        (
            vec![
                "--beta",
                "0.5",
                "--feed",
                "A=0.5,B=0.5",
                "--purity-a",
                "0.99",
                "--purity-b",
                "0.99",
            ],
            "0.5",
        ),
        (
            vec![
                "--beta",
                "2",
                "--feed",
                "A=0.5,B=0.5",
                "--purity-a",
                "1.5",
                "--purity-b",
                "0.99",
            ],
            "1.5",
        ),
        (
            vec![
                "--beta",
                "NaN",
                "--feed",
                "A=0.5,B=0.5",
                "--purity-a",
                "0.99",
                "--purity-b",
                "0.99",
            ],
            "NaN",
        ),
    ] {
        let mut all = vec!["design"];
        all.extend_from_slice(&args);
        let (exit, out, err) = cli(&all);
        assert_ne!(exit, Exit::Ok, "{args:?}: {out}");
        assert!(out.is_empty(), "{args:?}: output on failure: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

// --------------------------------------------------------------------------------- optimize

#[test]
fn optimize_with_a_backend_not_built_is_exit_2_naming_the_feature() {
    if sxplan_opt::Backend::enabled().contains(&sxplan_opt::Backend::Highs) {
        return; // built with highs: nothing to refuse
    }
    let f = root().join("crates/opt/tests/data/prnd_distribution.toml");
    let (exit, _, err) = cli(&["optimize", f.to_str().unwrap(), "--backend", "highs"]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(err.contains("\"highs\" is not enabled"), "{err}");
}

#[test]
fn optimize_flowsheet_without_free_variable_is_exit_1_naming_why() {
    let dir = scratch("nofree");
    let src = format!(
        "{BASE}\n[optimize]\nobjective = \"max_throughput\"\nfree = [{{ var = \"organic_flow\", of = \"PrNd\", min = \"2 m3/h\", max = \"8 m3/h\" }}]\n"
    );
    let f = write(&dir, "nofree.toml", &src);
    let out_dir = dir.join("out");
    let (exit, _, err) = cli(&[
        "optimize",
        f.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(exit, Exit::Failure, "{err}");
    assert!(err.contains("free feed rate"), "{err}");
    assert!(files_in(&out_dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

// --------------------------------------------------------------------------------------- LP

#[test]
fn lp_infeasible_unbounded_and_invalid_are_told_apart() {
    // Infeasible: statuses, and the diagnosis names both conflicting rows.
    let mut p = LpProblem::new(Direction::Maximize);
    let x = p.add_var("x", 0.0, f64::INFINITY);
    let lo = p.add_row(
        "purity Nd",
        RowKind::Purity,
        vec![(x, 1.0)],
        Relation::Ge,
        5.0,
    );
    let hi = p.add_row(
        "capacity PrNd",
        RowKind::Capacity,
        vec![(x, 1.0)],
        Relation::Le,
        3.0,
    );
    p.soften(lo, 1.0);
    p.soften(hi, 1.0);
    p.add_objective(x, 1.0);
    let s = solve(&p, &LpOptions::default()).unwrap();
    assert_eq!(s.status, LpStatus::Infeasible);
    assert!(s.x.is_empty(), "no point is offered for an infeasible LP");
    let d = diagnose(&p, &LpOptions::default()).unwrap();
    assert!(d.status.is_usable());
    assert!((d.total_violation - 2.0).abs() < 1e-5, "{d:?}");
    let names: Vec<&str> = d.conflicts.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"purity Nd") || names.contains(&"capacity PrNd"),
        "{names:?}"
    );

    // Unbounded.
    let mut u = LpProblem::new(Direction::Maximize);
    let x = u.add_var("x", 0.0, f64::INFINITY);
    u.add_objective(x, 1.0);
    let s = solve(&u, &LpOptions::default()).unwrap();
    assert_eq!(s.status, LpStatus::Unbounded);

    // Invalid input is an error naming the row and the variable.
    let mut bad = LpProblem::new(Direction::Minimize);
    let x = bad.add_var("flow Nd stage 3", 0.0, 1.0);
    bad.add_row(
        "balance Nd stage 3",
        RowKind::Other,
        vec![(x, f64::NAN)],
        Relation::Eq,
        0.0,
    );
    match solve(&bad, &LpOptions::default()) {
        Err(e @ OptError::InvalidLp { .. }) => {
            let m = e.to_string();
            assert!(
                m.contains("balance Nd stage 3") && m.contains("flow Nd stage 3"),
                "{m}"
            );
        }
        other => panic!("NaN coefficient accepted: {other:?}"),
    }
    let mut crossed = LpProblem::new(Direction::Minimize);
    crossed.add_var("organic_flow PrNd", 2.0, 1.0);
    let e = solve(&crossed, &LpOptions::default()).unwrap_err();
    assert!(e.to_string().contains("organic_flow PrNd"), "{e}");
    assert!(e.to_string().contains("lower bound 2"), "{e}");
}

// ------------------------------------------------------------- every failure mode, by table

/// One failure mode of the CLI: the arguments (`{dir}` is a scratch directory holding the
/// files below, `{out}` an output directory that must stay empty), the exit code, and words
/// stderr (or stdout) must contain.
struct Mode {
    what: &'static str,
    args: &'static [&'static str],
    exit: Exit,
    stderr: &'static [&'static str],
    stdout: &'static [&'static str],
}

/// Files every mode may use, written into the scratch directory.
fn mode_files(dir: &Path) {
    write(dir, "base.toml", BASE);
    std::fs::write(dir.join("latin1.toml"), b"schema = 1\nname = \"caf\xe9\"\n").unwrap();
    write(
        dir,
        "syntax.toml",
        &BASE.replace("name = \"base\"", "name = \"base"),
    );
    write(
        dir,
        "huge.toml",
        &BASE.replace("stages = 5 }", "stages = 1000000 }"),
    );
    write(
        dir,
        "dry.toml",
        &BASE
            .replace("feed_stage = 20", "feed_stage = 3")
            .replace(
                "    { kind = \"scrub\", stages = 20 },\n    { kind = \"strip\", stages = 5 },\n",
                "",
            )
            .replace(
                "scrub = { acid = \"HCl\", conc = \"4 mol/L\", flow = \"0.45 m3/h\" }\n",
                "",
            )
            .replace(
                "strip = { acid = \"HCl\", conc = \"2 mol/L\", flow = \"0.6 m3/h\" }\n",
                "",
            )
            .replace(
                "extraction_ratio = { extraction = 0.8, scrub = 1.2 }",
                "extraction_ratio = { extraction = 0.8 }",
            )
            .replace(
                "from = \"PrNd.strip_liquor\"",
                "from = \"PrNd.loaded_organic\"\nkind = \"organic\"",
            ),
    );
    write(
        dir,
        "nodata.toml",
        &BASE.replace(
            "beta = { Pr = 1.0, Nd = 1.5, quality",
            "beta = { Pr = 1.0, quality",
        ),
    );
    write(dir, "blocker", "a file where a directory is expected");
    let opt = std::fs::read_to_string(root().join("crates/opt/tests/data/prnd_distribution.toml"))
        .unwrap();
    write(dir, "opt.toml", &opt);
    write(
        dir,
        "tight.toml",
        &opt.replace("min = 0.9 }", "min = 0.9999 }"),
    );
    std::fs::write(
        dir.join("opt_latin1.toml"),
        [opt.as_bytes(), b"# caf\xe9\n"].concat(),
    )
    .unwrap();
}

const MODES: &[Mode] = &[
    // check
    Mode {
        what: "check: file missing",
        args: &["check", "{dir}/missing.toml"],
        exit: Exit::Usage,
        stderr: &["cannot read", "missing.toml", "no such file"],
        stdout: &[],
    },
    Mode {
        what: "check: a directory",
        args: &["check", "{dir}"],
        exit: Exit::Usage,
        stderr: &["it is a directory"],
        stdout: &[],
    },
    Mode {
        what: "check: no file given",
        args: &["check"],
        exit: Exit::Usage,
        stderr: &["FILES"],
        stdout: &[],
    },
    Mode {
        what: "check: not UTF-8",
        args: &["check", "{dir}/latin1.toml"],
        exit: Exit::Failure,
        stderr: &[
            "latin1.toml",
            "is not valid UTF-8 (invalid byte at offset 22)",
            ":2:12",
        ],
        stdout: &[],
    },
    Mode {
        what: "check: TOML syntax",
        args: &["check", "{dir}/syntax.toml"],
        exit: Exit::Failure,
        stderr: &["error[E0001]", "invalid TOML", "syntax.toml:2:"],
        stdout: &[],
    },
    Mode {
        what: "check: over a size limit",
        args: &["check", "{dir}/huge.toml"],
        exit: Exit::Failure,
        stderr: &[
            "error[E0004]",
            "circuit \"PrNd\" has 1000040 stages",
            "max_stages_per_circuit",
        ],
        stdout: &[],
    },
    Mode {
        what: "check: stages no aqueous reaches",
        args: &["check", "{dir}/dry.toml"],
        exit: Exit::Failure,
        stderr: &[
            "error[E0507]",
            "circuit \"PrNd\" stages 4..=20",
            "feed point \"feed\" enters at stage 3",
        ],
        stdout: &[],
    },
    Mode {
        what: "check: element without model data",
        args: &["check", "{dir}/nodata.toml"],
        exit: Exit::Failure,
        stderr: &["error[E0602]", "PrNd", "Nd"],
        stdout: &[],
    },
    // simulate
    Mode {
        what: "simulate: file missing",
        args: &["simulate", "{dir}/missing.toml", "--out", "{out}"],
        exit: Exit::Usage,
        stderr: &["missing.toml"],
        stdout: &[],
    },
    Mode {
        what: "simulate: not UTF-8",
        args: &["simulate", "{dir}/latin1.toml", "--out", "{out}"],
        exit: Exit::Failure,
        stderr: &["is not valid UTF-8", ":2:12"],
        stdout: &[],
    },
    Mode {
        what: "simulate: flowsheet errors",
        args: &["simulate", "{dir}/dry.toml", "--out", "{out}"],
        exit: Exit::Failure,
        stderr: &["error[E0507]", "circuit \"PrNd\" stages 4..=20"],
        stdout: &[],
    },
    Mode {
        what: "simulate: --out is a file",
        args: &["simulate", "{dir}/base.toml", "--out", "{dir}/blocker"],
        exit: Exit::Usage,
        stderr: &["blocker", "exists and is not a directory"],
        stdout: &[],
    },
    // design
    Mode {
        what: "design: flowsheet missing",
        args: &[
            "design",
            "{dir}/missing.toml",
            "--circuit",
            "PrNd",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["cannot read", "missing.toml"],
        stdout: &[],
    },
    Mode {
        what: "design: flowsheet errors",
        args: &[
            "design",
            "{dir}/dry.toml",
            "--circuit",
            "PrNd",
            "--out",
            "{out}",
        ],
        exit: Exit::Failure,
        stderr: &["error[E0507]"],
        stdout: &[],
    },
    Mode {
        what: "design: unknown circuit",
        args: &[
            "design",
            "{dir}/base.toml",
            "--circuit",
            "Nope",
            "--out",
            "{out}",
        ],
        exit: Exit::Failure,
        stderr: &["circuit \"Nope\" is not in flowsheet \"base\"", "PrNd"],
        stdout: &[],
    },
    Mode {
        what: "design: flowsheet without --circuit",
        args: &["design", "{dir}/base.toml", "--out", "{out}"],
        exit: Exit::Usage,
        stderr: &["--circuit"],
        stdout: &[],
    },
    Mode {
        what: "design: --beta missing",
        args: &[
            "design",
            "--feed",
            "A=0.5,B=0.5",
            "--purity-a",
            "0.99",
            "--purity-b",
            "0.99",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["--beta is required"],
        stdout: &[],
    },
    Mode {
        what: "design: one purity only",
        args: &[
            "design",
            "--beta",
            "2",
            "--feed",
            "A=0.5,B=0.5",
            "--purity-a",
            "0.99",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["give --purity-a and --purity-b"],
        stdout: &[],
    },
    Mode {
        what: "design: beta <= 1",
        args: &[
            "design",
            "--beta",
            "0.5",
            "--feed",
            "A=0.5,B=0.5",
            "--purity-a",
            "0.99",
            "--purity-b",
            "0.99",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["0.5"],
        stdout: &[],
    },
    Mode {
        what: "design: recovery outside (0, 1)",
        args: &[
            "design",
            "--beta",
            "2",
            "--feed",
            "A=0.5,B=0.5",
            "--purity-a",
            "0.99",
            "--recovery-a",
            "1.5",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["recovery_a: 1.5 is invalid"],
        stdout: &[],
    },
    Mode {
        what: "design: negative feed",
        args: &[
            "design",
            "--beta",
            "2",
            "--feed",
            "A=-1,B=2",
            "--purity-a",
            "0.99",
            "--purity-b",
            "0.99",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["A = -1 must be a finite number >= 0"],
        stdout: &[],
    },
    Mode {
        what: "design: key missing from the feed",
        args: &[
            "design",
            "--beta",
            "2",
            "--feed",
            "A=1,B=0",
            "--purity-a",
            "0.99",
            "--purity-b",
            "0.99",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["both keys must be in the feed (A = 1, B = 0)"],
        stdout: &[],
    },
    Mode {
        what: "design: Kremser input out of range",
        args: &["design", "--kremser", "10,0.3333,1.5", "--out", "{out}"],
        exit: Exit::Usage,
        stderr: &["needs D > 0, O/A > 0 and a fraction in (0, 1)"],
        stdout: &[],
    },
    Mode {
        what: "design: --out is a file",
        args: &[
            "design",
            "--beta",
            "2",
            "--feed",
            "A=0.5,B=0.5",
            "--purity-a",
            "0.999",
            "--purity-b",
            "0.9999",
            "--out",
            "{dir}/blocker",
        ],
        exit: Exit::Usage,
        stderr: &["blocker exists and is not a directory"],
        stdout: &[],
    },
    // optimize
    Mode {
        what: "optimize: file missing",
        args: &["optimize", "{dir}/missing.toml", "--out", "{out}"],
        exit: Exit::Usage,
        stderr: &["cannot read", "missing.toml"],
        stdout: &[],
    },
    Mode {
        what: "optimize: not UTF-8",
        args: &["optimize", "{dir}/latin1.toml", "--out", "{out}"],
        exit: Exit::Failure,
        stderr: &["is not valid UTF-8", ":2:12"],
        stdout: &[],
    },
    Mode {
        what: "optimize: flowsheet errors",
        args: &["optimize", "{dir}/dry.toml", "--out", "{out}"],
        exit: Exit::Failure,
        stderr: &["error[E0507]"],
        stdout: &[],
    },
    Mode {
        what: "optimize: no [optimize] table",
        args: &["optimize", "{dir}/base.toml", "--out", "{out}"],
        exit: Exit::Failure,
        stderr: &["the flowsheet has no [optimize] table"],
        stdout: &[],
    },
    Mode {
        what: "optimize: unknown backend",
        args: &[
            "optimize",
            "{dir}/opt.toml",
            "--backend",
            "simplex",
            "--out",
            "{out}",
        ],
        exit: Exit::Usage,
        stderr: &["unknown backend \"simplex\" (clarabel, highs)"],
        stdout: &[],
    },
    Mode {
        what: "optimize: infeasible specs",
        args: &["optimize", "{dir}/tight.toml", "--out", "{out}"],
        exit: Exit::Failure,
        stderr: &["status infeasible: no optimized flowsheet written"],
        stdout: &[": infeasible", "conflicting specs", "purity Nd_organic"],
    },
    Mode {
        what: "optimize: pass budget exhausted",
        args: &[
            "optimize",
            "{dir}/opt.toml",
            "--max-passes",
            "1",
            "--out",
            "{out}",
        ],
        exit: Exit::Failure,
        stderr: &["status iteration_limit: no optimized flowsheet written"],
        stdout: &[": iteration_limit"],
    },
    Mode {
        what: "optimize: --out is a file",
        args: &["optimize", "{dir}/opt.toml", "--out", "{dir}/blocker"],
        exit: Exit::Usage,
        stderr: &["cannot create", "blocker"],
        stdout: &[],
    },
];

/// Runs one mode; returns (exit, stdout, stderr) and the files left in its output directory.
fn run_mode(dir: &Path, k: usize, m: &Mode) -> (Exit, String, String, Vec<PathBuf>) {
    let out = dir.join(format!("out{k}"));
    let args: Vec<String> = m
        .args
        .iter()
        .map(|a| {
            a.replace("{dir}", dir.to_str().unwrap_or(""))
                .replace("{out}", out.to_str().unwrap_or(""))
        })
        .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (exit, stdout, stderr) = cli(&argv);
    let left = files_in(&out);
    (exit, stdout, stderr, left)
}

#[test]
fn every_cli_failure_mode_exits_as_documented_names_the_place_and_writes_nothing() {
    let dir = scratch("modes");
    mode_files(&dir);
    let before = files_in(&dir);
    let mut failures = Vec::new();
    let dump = std::env::var_os("SXPLAN_FAIL_DUMP").is_some();
    for (k, m) in MODES.iter().enumerate() {
        let (exit, stdout, stderr, left) = run_mode(&dir, k, m);
        if dump {
            let first = stderr
                .lines()
                .find(|l| {
                    l.starts_with("error") || l.starts_with("note") || l.starts_with("design")
                })
                .unwrap_or("");
            println!("| {} | {} | `{first}` |", m.what, exit.code());
        }
        if exit != m.exit {
            failures.push(format!(
                "{}: exit {exit:?}, expected {:?}\n{stderr}",
                m.what, m.exit
            ));
        }
        for w in m.stderr {
            if !stderr.contains(w) {
                failures.push(format!("{}: stderr lacks `{w}`:\n{stderr}", m.what));
            }
        }
        for w in m.stdout {
            if !stdout.contains(w) {
                failures.push(format!("{}: stdout lacks `{w}`:\n{stdout}", m.what));
            }
        }
        if !left.is_empty() {
            failures.push(format!("{}: output left behind: {left:?}", m.what));
        }
    }
    // No command wrote next to its inputs either (no stray temporaries in the scratch dir).
    let after: Vec<PathBuf> = files_in(&dir)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    if !after.is_empty() {
        failures.push(format!("files appeared beside the inputs: {after:?}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn simulate_non_convergence_is_exit_1_with_the_status_and_never_looks_converged() {
    // A stiff linear cascade (D 2.2e5 against 1 over 12 elements, organic 1.3e-3 m3/h against
    // 9.6 m3/h scrub): found by the property test ending `iteration_limit`. Whether today's
    // simulator converges it or not, the contract holds: exit 0 only with a converged result;
    // exit 1 with the status and both residuals on stderr, and nothing in --out that says
    // converged; never a temporary file.
    let dir = scratch("nonconv");
    let f = write(&dir, "stiff.toml", STIFF);
    let out = dir.join("out");
    let (exit, stdout, stderr) = cli(&[
        "simulate",
        f.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    match exit {
        Exit::Ok => assert_eq!(v["status"], "converged", "{stdout}"),
        Exit::Failure => {
            // not converged (with both residuals), or converged to a state no plant has (since
            // 2026-12-04 this cascade's steady state loads its 1.3e-3 m3/h organic to 6.3e17
            // mol/L: infeasible, with the loading and the bound named)
            assert!(
                (stderr.contains("the simulation did not converge (")
                    && stderr.contains("max stage residual")
                    && stderr.contains("recycle residual"))
                    || (stderr.contains("no physical steady state (infeasible)")
                        && stderr.contains("loads the organic to")),
                "{stderr}"
            );
            assert_ne!(v["status"], "converged", "{stdout}");
            if let Ok(j) = std::fs::read_to_string(out.join("result.json")) {
                assert!(!j.contains("\"status\": \"converged\""), "{j}");
            }
        }
        Exit::Usage => panic!("usage error on a valid flowsheet: {stderr}"),
    }
    for p in files_in(&dir) {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        assert!(!name.contains(".tmp"), "temporary left: {}", p.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const STIFF: &str = r#"schema = 1
name = "stiff"

[[feed]]
name = "liquor"
flow = "1e0 m3/h"
acid = "HCl"
ph = 2.0
conc = { La = "1 mol/L", Ce = "1 mol/L", Pr = "1 mol/L", Eu = "1 mol/L", Gd = "1 mol/L", Tb = "1 mol/L", Dy = "1 mol/L", Ho = "1 mol/L", Er = "1 mol/L", Tm = "1 mol/L", Yb = "1 mol/L", Lu = "0.3156282814391229 mol/L", quality = "illustrative" }
to = "C.feed"

[[circuit]]
name = "C"
sections = [{ kind = "extraction", stages = 10 }, { kind = "scrub", stages = 45 }]
feed_stage = 1
organic = { extractant = "P507", conc = "1.5 mol/L", flow = "1.3409777145760562e-3 m3/h" }
scrub = { acid = "HCl", conc = "1 mol/L", flow = "9.594972581633632 m3/h" }

[circuit.equilibrium]
model = "distribution"
quality = "illustrative"
d = { La = 1, Ce = 1, Pr = 1, Eu = 1, Gd = 1, Tb = 1, Dy = 1, Ho = { extraction = 2.2479398550523657e5, scrub = 1 }, Er = 1, Tm = 1, Yb = 1, Lu = 1 }

[[product]]
name = "raff"
from = "C.raffinate"

[[product]]
name = "org"
kind = "organic"
from = "C.loaded_organic"
"#;

// ------------------------------------------------ findings: modes that miss the bar today
// The ignored ones fail today because of code outside the hardening paths (docs/hardening.md,
// "Failures found"); run with `--ignored` to see them; remove the `ignore` once fixed. The two
// optimize tests were findings until df32414 (optimize reads through `load_flowsheet`).

#[test]
fn design_failure_leaves_no_report_directory() {
    let dir = scratch("designfail");
    let out = dir.join("out");
    let (exit, _, err) = cli(&[
        "design",
        "--beta",
        "1.2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.99999",
        "--purity-b",
        "0.99999",
        "--max-stages",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(exit, Exit::Failure, "{err}");
    let left = files_in(&out);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(left.is_empty(), "a failed design left {left:?}");
}

#[test]
fn kremser_target_out_of_reach_is_exit_1() {
    let (exit, out, err) = cli(&["design", "--kremser", "0.5,0.3333,0.999"]);
    assert!(err.contains("cannot reduce the solute"), "{err}");
    assert!(out.is_empty());
    assert_eq!(exit, Exit::Failure, "{err}");
}

#[test]
fn optimize_invalid_utf8_is_exit_1_located_like_the_other_commands() {
    let dir = scratch("optutf8");
    let f = dir.join("latin1.toml");
    std::fs::write(&f, b"schema = 1\nname = \"caf\xe9\"\n").unwrap();
    let (exit, _, err) = cli(&["optimize", f.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(exit, Exit::Failure, "{err}");
    assert!(err.contains(":2:12"), "{err}");
}

#[test]
fn optimize_reads_included_files_like_the_other_commands() {
    let f = root().join("tests/data/ok/include_main.toml");
    let (exit, _, err) = cli(&["optimize", f.to_str().unwrap()]);
    assert!(!err.contains("E0801"), "{err}");
    // the flowsheet has no [optimize] table: the reason must be that, not the includes
    assert_eq!(exit, Exit::Failure, "{err}");
    assert!(err.contains("no [optimize] table"), "{err}");
}

// ------------------------------------------------------------- fuzz-found regressions

/// Found by the `simulate_generated` fuzz target (2026-11-29, 20,321st input): a mass-action
/// cascade with a strong organic (1,000 m3/h against a 1e-4 m3/h feed) that ends `diverged`
/// (max stage residual 9e9); its last iterate reports a strip-liquor recovery of 1.0000004 for
/// every element.
const FUZZ_MASS_ACTION_DIVERGED: &str = r#"schema = 1
name = "fuzz"

[[feed]]
name = "liquor"
flow = "1e-4 m3/h"
acid = "HCl"
ph = 0.00
conc = { Sc = "4.5937277743867e-5 mol/L", Y = "4.5937277743867e-5 mol/L", Ce = "4.5937277743867e-5 mol/L", quality = "illustrative" }
to = "C0.feed"

[[circuit]]
name = "C0"
sections = [{ kind = "extraction", stages = 32 }, { kind = "scrub", stages = 18 }, { kind = "strip", stages = 18 }]
feed_stage = 19
organic = { extractant = "P507", conc = "1.5 mol/L", flow = "1e3 m3/h", saponification = "73 %", agent = "NH3" }
scrub = { acid = "HCl", conc = "1.1 mol/L", flow = "1e2 m3/h" }
strip = { acid = "HCl", conc = "2 mol/L", flow = "1e2 m3/h" }

[circuit.equilibrium]
quality = "illustrative"
model = "mass_action"
k_ex = { Sc = 4.593727774386705e-3, Y = 4.593727774386705e-3, Ce = 4.593727774386705e-3 }

[[product]]
name = "C0_liquor"
from = "C0.strip_liquor"

[[product]]
name = "C0_raff"
from = "C0.raffinate"
"#;

#[test]
fn fuzz_mass_action_diverged_says_so_with_finite_numbers() {
    let fs = sxplan_model::check_str(FUZZ_MASS_ACTION_DIVERGED)
        .flowsheet
        .expect("the fuzz input checks clean");
    let r = simulate(&fs, &SimOptions::default()).expect("check/simulate parity");
    // Converged: it must balance. Not converged: the status and residual say so.
    if r.status.is_converged() {
        assert!(
            r.mass_balance.max_relative_error < 1e-9,
            "{:?}",
            r.mass_balance
        );
    } else {
        assert!(
            r.diagnostics.max_stage_residual > 0.0,
            "{:?}",
            r.diagnostics
        );
    }
    for p in &r.products {
        for (e, v) in &p.recovery {
            assert!(
                v.is_finite() && *v >= 0.0,
                "product {:?} recovery {e} = {v}",
                p.id
            );
        }
    }
}

#[test]
fn fuzz_mass_action_diverged_recoveries_stay_within_0_and_1() {
    let fs = sxplan_model::check_str(FUZZ_MASS_ACTION_DIVERGED)
        .flowsheet
        .expect("the fuzz input checks clean");
    let r = simulate(&fs, &SimOptions::default()).expect("check/simulate parity");
    for p in &r.products {
        for (e, v) in &p.recovery {
            assert!(
                (0.0..=1.0).contains(v),
                "product {:?} recovery {e} = {v} ({})",
                p.id,
                r.status
            );
        }
    }
}
