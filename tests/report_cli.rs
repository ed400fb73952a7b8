//! `sxplan report` end to end (in-process): re-renders saved results into a directory, prints
//! Markdown without --out, refuses documents that are not results, and leaves no partial report.

use std::path::PathBuf;

use sxplan::cli::Exit;

mod common;
use common::cli;

fn tmpdir(tag: &str) -> PathBuf {
    common::scratch("report", tag)
}

fn flowsheet(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("flowsheets")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn rerenders_a_saved_simulation_into_a_directory() {
    let dir = tmpdir("sim");
    let fs = flowsheet("pr-nd.toml");
    let (code, json, err) = cli(&["simulate", &fs, "--format", "json"]);
    assert_eq!(code, Exit::Ok, "{err}");
    let result = dir.join("result.json");
    std::fs::write(&result, &json).unwrap();
    let out = dir.join("rep");
    let (code, stdout, err) = cli(&[
        "report",
        result.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--flowsheet",
        &fs,
    ]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(stdout.contains("wrote 10 files"), "{stdout}");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "flowsheet.dot",
            "flowsheet.svg",
            "ph_loading_PrNd.svg",
            "products.svg",
            "profile_PrNd.svg",
            "reagents.svg",
            "report.html",
            "report.md",
            "stages_PrNd.csv",
            "streams.csv"
        ]
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Data provenance"));
    assert!(
        md.contains("Zhang, Zhao & Schreiner 2016"),
        "provenance from --flowsheet"
    );
    // no temporary directory left beside it
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("report-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // rendering again into the existing directory replaces the files
    let (code, _, err) = cli(&[
        "report",
        result.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Ok, "{err}");
    let md2 = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md2.contains("No provenance list was given"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn prints_markdown_without_out_and_combines_kinds() {
    let dir = tmpdir("md");
    let (code, json, err) = cli(&[
        "design",
        "--beta",
        "2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.999",
        "--purity-b",
        "0.9999",
        "--format",
        "json",
    ]);
    assert_eq!(code, Exit::Ok, "{err}");
    let design = dir.join("design.json");
    std::fs::write(&design, json).unwrap();
    let (code, md, err) = cli(&["report", design.to_str().unwrap()]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(md.starts_with("# sxplan report: cut A | B"), "{md}");
    assert!(md.contains("![mccabe_thiele.svg](mccabe_thiele.svg)"));
    let (code, _, err) = cli(&["report", design.to_str().unwrap(), design.to_str().unwrap()]);
    assert_eq!(code, Exit::Failure);
    assert!(err.contains("a second design result"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_fails_cleanly_and_writes_nothing() {
    let dir = tmpdir("bad");
    let not_json = dir.join("x.json");
    std::fs::write(&not_json, "{ not json").unwrap();
    let out = dir.join("rep");
    let (code, _, err) = cli(&[
        "report",
        not_json.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Failure);
    assert!(err.contains("not valid JSON"), "{err}");
    assert!(!out.exists());
    let other = dir.join("other.json");
    std::fs::write(&other, "{\"hello\": 1}").unwrap();
    let (code, _, err) = cli(&[
        "report",
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Failure);
    assert!(err.contains("other.json: not an sxplan result"), "{err}");
    assert!(!out.exists());
    let future = dir.join("future.json");
    std::fs::write(&future, "{\"schema_version\": 99, \"kind\": \"design\"}").unwrap();
    let (code, _, err) = cli(&["report", future.to_str().unwrap()]);
    assert_eq!(code, Exit::Failure);
    assert!(err.contains("schema_version 99"), "{err}");
    let missing = dir.join("missing.json");
    let (code, _, err) = cli(&["report", missing.to_str().unwrap()]);
    assert_eq!(code, Exit::Usage);
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, _) = cli(&["report"]);
    assert_eq!(code, Exit::Usage);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The rule for unreadable input, the same in every command that reads a file: a file that
/// cannot be read is exit 2; a file read whose bytes are not UTF-8 is an error in the input,
/// exit 1, located at its line and column.
#[test]
fn invalid_utf8_is_an_input_error_in_every_command() {
    let dir = tmpdir("utf8");
    let bad = dir.join("latin1.toml");
    std::fs::write(&bad, b"schema = 1\nname = \"caf\xe9\"\n").unwrap();
    let b = bad.to_str().unwrap();
    let design = dir.join("design.json");
    let (code, json, err) = cli(&[
        "design",
        "--beta",
        "2",
        "--feed",
        "A=0.5,B=0.5",
        "--purity-a",
        "0.999",
        "--purity-b",
        "0.9999",
        "--format",
        "json",
    ]);
    assert_eq!(code, Exit::Ok, "{err}");
    std::fs::write(&design, json).unwrap();
    let bad_json = dir.join("latin1.json");
    std::fs::write(&bad_json, b"{\"kind\": \"d\xe9sign\"}").unwrap();
    let located = format!("--> {b}:2:12");
    for args in [
        vec!["check", b],
        vec!["simulate", b],
        vec!["simulate", b, "--format", "json"],
        vec!["design", b, "--circuit", "PrNd"],
        vec!["report", design.to_str().unwrap(), "--flowsheet", b],
    ] {
        let (code, out, err) = cli(&args);
        assert_eq!(code, Exit::Failure, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(
            err.contains("is not valid UTF-8 (invalid byte at offset 22)"),
            "{args:?}: {err}"
        );
        assert!(err.contains(&located), "{args:?}: {err}");
        assert!(
            err.contains("2 | name = \"caf\u{fffd}\""),
            "{args:?}: {err}"
        );
    }
    let (code, _, err) = cli(&["report", bad_json.to_str().unwrap()]);
    assert_eq!(code, Exit::Failure, "{err}");
    assert!(err.contains(":1:12"), "{err}");
    // the same commands on a file that does not exist: exit 2
    let missing = dir.join("missing.toml");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["check", m],
        vec!["simulate", m],
        vec!["design", m, "--circuit", "PrNd"],
        vec!["report", design.to_str().unwrap(), "--flowsheet", m],
        vec!["report", m],
    ] {
        let (code, out, err) = cli(&args);
        assert_eq!(code, Exit::Usage, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains("missing.toml"), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_reads_a_flowsheet_split_over_files() {
    let dir = tmpdir("include");
    let fs = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ok/include_main.toml")
        .display()
        .to_string();
    let (code, json, err) = cli(&["simulate", &fs, "--format", "json"]);
    assert_eq!(code, Exit::Ok, "{err}");
    let result = dir.join("result.json");
    std::fs::write(&result, json).unwrap();
    let (code, md, err) = cli(&["report", result.to_str().unwrap(), "--flowsheet", &fs]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(md.contains("## Data provenance"), "{md}");
    assert!(!md.contains("No provenance list was given"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
