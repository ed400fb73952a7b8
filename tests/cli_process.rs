//! Real-process smoke tests of the `sxplan` binary: exit codes and streams as a shell sees them.
//!
//! Most CLI behaviour is tested in-process through `sxplan::cli::run`; these few tests make sure
//! the binary wires that function to the process correctly.

use std::path::Path;
use std::process::Command;

fn sxplan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sxplan"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn help_exits_zero_and_lists_the_subcommands() {
    let out = sxplan().arg("--help").output().expect("binary runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["check", "simulate", "design", "optimize"] {
        assert!(text.contains(cmd), "--help does not mention {cmd}:\n{text}");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = sxplan().arg("frobnicate").output().expect("binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.is_empty());
}

#[test]
fn missing_file_is_an_io_error_with_exit_code_2() {
    let out = sxplan()
        .args(["check", "no/such/flowsheet.toml"])
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no/such/flowsheet.toml"), "stderr: {err}");
}

#[test]
fn every_shipped_flowsheet_checks_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("flowsheets");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("flowsheets/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "expected at least three shipped flowsheets"
    );
    let out = sxplan()
        .arg("check")
        .args(&files)
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn progress_is_silent_when_stderr_is_not_a_terminal() {
    let args = [
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
    ];
    let out = sxplan().args(args).output().expect("binary runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "stderr is a pipe, yet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --verbose writes plain lines, never the bar's terminal escapes
    let out = sxplan()
        .arg("--verbose")
        .args(args)
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rigorous search: found"), "{err}");
    assert!(err.contains("sensitivity: 7 + 5 points"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}
