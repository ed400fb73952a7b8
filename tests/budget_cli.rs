//! The run budget end to end: a big plant with a small `--time-limit` ends with status
//! `time_limit`, exit 1, the per-circuit effort, and no `--out` report; `[solver]` values out of
//! range are located errors. Times are asserted only loosely (benchmarks measure speed).

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = sxplan::cli::run(args.iter().copied(), &mut out, &mut err).code();
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// flowsheets/reflux.toml with every section 60 times longer (6,720 stages).
fn big_reflux(dir: &std::path::Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("flowsheets/reflux.toml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut l = line.to_string();
        for n in [6, 20, 30] {
            l = l.replace(
                &format!("stages = {n} }}"),
                &format!("stages = {} }}", n * 60),
            );
        }
        out += &l;
        out.push('\n');
    }
    let p = dir.join("big_reflux.toml");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn a_small_time_limit_ends_a_big_simulation_with_its_status_and_no_report() {
    let dir = std::env::temp_dir().join(format!("sxplan-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = big_reflux(&dir);
    let out_dir = dir.join("report");
    let t0 = std::time::Instant::now();
    let (code, stdout, stderr) = run(&[
        "sxplan",
        "simulate",
        file.to_str().unwrap(),
        "--time-limit",
        "0.3s",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains(": time_limit"), "{stdout}");
    assert!(stdout.contains("budget spent: time_limit"), "{stdout}");
    assert!(stdout.contains("circuit LaCe_PrNd"), "{stdout}");
    assert!(stderr.contains("did not converge (time_limit"), "{stderr}");
    assert!(!out_dir.exists(), "a report was written");
    // loose: the limit plus generous slack for a loaded machine
    assert!(secs < 15.0, "took {secs} s with a 0.3 s limit");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn budget_flags_and_solver_table_refuse_bad_values() {
    let (code, _, err) = run(&[
        "sxplan",
        "simulate",
        "flowsheets/pr-nd.toml",
        "--time-limit",
        "1e308",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("1e308 s"), "{err}");
    let dir = std::env::temp_dir().join(format!("sxplan-solver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "schema = 1\nname = \"x\"\n[solver]\ntime_limit = \"0 s\"\nmax_iterations = 0\n",
    )
    .unwrap();
    let (code, _, err) = run(&["sxplan", "check", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("solver.time_limit"), "{err}");
    assert!(err.contains("solver.max_iterations"), "{err}");
    assert!(err.contains(":4:"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_four_circuit_recycle_converges() {
    let (code, stdout, err) = run(&[
        "sxplan",
        "simulate",
        "tests/data/ok/recycle_four_circuits.toml",
    ]);
    assert_eq!(code, 0, "{stdout}\n{err}");
    assert!(
        stdout.contains("recycle_four") || stdout.contains(": converged"),
        "{stdout}"
    );
}
