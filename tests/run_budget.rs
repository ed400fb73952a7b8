//! The run budget (issue 15, point 1): `--time-limit`, `--max-iterations` and the flowsheet's
//! `[solver]` table end a run of simulate, optimize or design with its status, exit 1, what the
//! effort went into, and no report directory; values out of range are refused, in the table
//! with their location. (One file: it replaces tests/budget_cli.rs.)

mod common;

use sxplan::cli::Exit;

use common::{cli, root, scratch};

fn flagship() -> String {
    root()
        .join("flowsheets/minamitorishima.toml")
        .display()
        .to_string()
}

#[test]
fn a_spent_time_limit_ends_the_run_with_its_status_and_writes_nothing() {
    let out = scratch("budget", "time");
    let dir = out.join("report");
    let (code, stdout, stderr) = cli(&[
        "simulate",
        &flagship(),
        "--time-limit",
        "0.001s",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_eq!(code, Exit::Failure, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(": time_limit"), "{stdout}");
    assert!(stdout.contains("budget spent: time_limit"), "{stdout}");
    assert!(stdout.contains("circuit REY"), "{stdout}");
    assert!(!stdout.contains("purity "), "{stdout}");
    assert!(
        !dir.exists(),
        "a report was written for a run that ran out of time"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_spent_iteration_budget_ends_the_run_and_the_flowsheet_can_set_it() {
    let (code, stdout, _) = cli(&["simulate", &flagship(), "--max-iterations", "5"]);
    assert_eq!(code, Exit::Failure);
    assert!(stdout.contains(": iteration_limit"), "{stdout}");
    assert!(stdout.contains("budget spent: max_iterations"), "{stdout}");

    let src = std::fs::read_to_string(root().join("flowsheets/minamitorishima.toml")).unwrap();
    let dir = scratch("budget", "toml");
    let file = dir.join("budgeted.toml");
    std::fs::write(&file, format!("{src}\n[solver]\nmax_iterations = 5\n")).unwrap();
    let (code, stdout, stderr) = cli(&["simulate", &file.display().to_string()]);
    assert_eq!(code, Exit::Failure, "{stdout}\n{stderr}");
    assert!(stdout.contains("budget spent: max_iterations"), "{stdout}");
    // The flag overrides the table.
    let (code, stdout, _) = cli(&[
        "simulate",
        &file.display().to_string(),
        "--max-iterations",
        "1000000",
    ]);
    assert_eq!(code, Exit::Ok, "{stdout}");
    assert!(stdout.contains(": converged"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// flowsheets/reflux.toml with every section 60 times longer (6,720 stages).
fn big_reflux(dir: &std::path::Path) -> std::path::PathBuf {
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
    let dir = scratch("budget", "big");
    let file = big_reflux(&dir);
    let out_dir = dir.join("report");
    let (code, stdout, stderr) = cli(&[
        "simulate",
        file.to_str().unwrap(),
        "--time-limit",
        "0.3s",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Failure, "{stdout}\n{stderr}");
    assert!(stdout.contains(": time_limit"), "{stdout}");
    assert!(stdout.contains("budget spent: time_limit"), "{stdout}");
    assert!(stdout.contains("circuit LaCe_PrNd"), "{stdout}");
    assert!(stderr.contains("did not converge (time_limit"), "{stderr}");
    assert!(!out_dir.exists(), "a report was written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_budget_outside_its_range_is_refused() {
    let (code, _, stderr) = cli(&["simulate", &flagship(), "--time-limit", "0s"]);
    assert_ne!(code, Exit::Ok, "{stderr}");
    let (code, _, stderr) = cli(&["simulate", &flagship(), "--max-iterations", "0"]);
    assert_ne!(code, Exit::Ok, "{stderr}");
    let (code, _, err) = cli(&["simulate", &flagship(), "--time-limit", "1e308"]);
    assert_eq!(code, Exit::Usage, "{err}");
    assert!(err.contains("1e308 s"), "{err}");
    // In the flowsheet: located errors naming the key.
    let dir = scratch("budget", "table");
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "schema = 1\nname = \"x\"\n[solver]\ntime_limit = \"0 s\"\nmax_iterations = 0\n",
    )
    .unwrap();
    let (code, _, err) = cli(&["check", p.to_str().unwrap()]);
    assert_eq!(code, Exit::Failure, "{err}");
    assert!(err.contains("solver.time_limit"), "{err}");
    assert!(err.contains("solver.max_iterations"), "{err}");
    assert!(err.contains(":4:"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn optimize_ends_at_its_time_limit_with_the_last_point_and_writes_no_flowsheet() {
    let out = scratch("budget", "optimize");
    let dir = out.join("report");
    let (code, stdout, stderr) = cli(&[
        "optimize",
        &flagship(),
        "--time-limit",
        "0.001s",
        "--format",
        "json",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_eq!(code, Exit::Failure, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(doc["status"], "time_limit", "{stdout}");
    assert!(
        stderr.contains("no optimized flowsheet written"),
        "{stderr}"
    );
    assert!(!dir.join("minamitorishima.optimized.toml").exists());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_design_search_ends_when_its_budget_is_spent() {
    let args = [
        "design",
        "--beta",
        "1.2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.9999",
        "--purity-b",
        "0.9999",
        "--format",
        "json",
    ];
    let mut with = args.to_vec();
    with.extend(["--max-iterations", "3"]);
    let (code, stdout, stderr) = cli(&with);
    assert_eq!(code, Exit::Failure, "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(doc["status"], "budget_spent", "{stdout}");
    // Within the default budget the same search finds its design.
    let (code, stdout, _) = cli(&args);
    assert_eq!(code, Exit::Ok, "{stdout}");
}

/// The iteration budget holds inside one chain solve, not only between them: the 30 %
/// mass-action fixture needs about 1,470 iterations in its one chain; with a budget of 50 it
/// stops at 50.
#[test]
fn the_iteration_budget_holds_inside_a_chain_solve() {
    let f = root()
        .join("tests/data/ok/mass_action_model_30.toml")
        .display()
        .to_string();
    let (code, stdout, _) = cli(&["simulate", &f, "--max-iterations", "50"]);
    assert_eq!(code, Exit::Failure, "{stdout}");
    assert!(stdout.contains(": iteration_limit"), "{stdout}");
    assert!(
        stdout.contains("used 50 iterations"),
        "the budget was overrun: {stdout}"
    );
    let (code, stdout, _) = cli(&["simulate", &f]);
    assert_eq!(code, Exit::Ok, "{stdout}");
}
