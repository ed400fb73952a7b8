//! Data-driven corpus for `sxplan check` (rust-analyzer's test_data ok/err layout).
//!
//! Every `tests/data/ok/*.toml` checks clean (its warnings, if any, are pinned in `NAME.stderr`);
//! every `tests/data/err/*.toml` exits 1 with exactly the rendered diagnostics of `NAME.stderr`.
//! Run with `UPDATE_EXPECT=1` to rewrite the goldens after an intended change of messages.

use std::path::{Path, PathBuf};

use sxplan::cli::{run, Exit};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `sxplan check ARGS...` in-process from the package root (relative paths in output).
fn check(args: &[&str]) -> (Exit, String, String) {
    let mut argv = vec!["sxplan", "check"];
    argv.extend_from_slice(args);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = run(argv, &mut out, &mut err);
    (
        exit,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn toml_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join(dir))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".toml"))
                .map(|n| format!("{dir}/{n}"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn update() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// Compares `actual` with the golden file (or writes it under UPDATE_EXPECT=1).
fn expect_file(golden: &Path, actual: &str) -> Result<(), String> {
    if update() {
        std::fs::write(golden, actual).map_err(|e| format!("{}: {e}", golden.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(golden).map_err(|e| {
        format!(
            "{}: {e} (run with UPDATE_EXPECT=1 to create it)",
            golden.display()
        )
    })?;
    if expected != actual {
        return Err(format!(
            "{} differs (run with UPDATE_EXPECT=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}",
            golden.display()
        ));
    }
    Ok(())
}

fn in_root() {
    // Paths in the rendered output are relative to the package root.
    let _ = std::env::set_current_dir(root());
}

#[test]
fn err_corpus_matches_goldens() {
    in_root();
    let files = toml_files("tests/data/err");
    assert!(files.len() >= 40, "only {} err files", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let (exit, stdout, stderr) = check(&[f]);
        if exit != Exit::Failure {
            failures.push(format!("{f}: exit {exit:?}, expected 1\n{stderr}"));
            continue;
        }
        if !stdout.is_empty() {
            failures.push(format!("{f}: unexpected stdout {stdout:?}"));
        }
        if !stderr.contains("error[E") {
            failures.push(format!("{f}: no error diagnostic in\n{stderr}"));
        }
        let golden = root().join(f.replace(".toml", ".stderr"));
        if let Err(e) = expect_file(&golden, &stderr) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn ok_corpus_and_shipped_flowsheets_check_clean() {
    in_root();
    let mut files = toml_files("tests/data/ok");
    assert!(files.len() >= 5);
    let shipped = toml_files("flowsheets");
    assert!(shipped.len() >= 3, "flowsheets/: {shipped:?}");
    files.extend(shipped);
    let mut failures = Vec::new();
    for f in &files {
        let (exit, stdout, stderr) = check(&["--graph", f]);
        if exit != Exit::Ok {
            failures.push(format!("{f}: exit {exit:?}\n{stderr}"));
            continue;
        }
        // the stage graph accepts whatever check accepts
        if !stdout.starts_with(&format!("ok: {f}: "))
            || !stdout.contains(&format!("\ngraph: {f}: "))
        {
            failures.push(format!("{f}: stdout {stdout:?}"));
        }
        let golden = root().join(f.replace(".toml", ".stderr"));
        if golden.exists() || !stderr.is_empty() {
            if let Err(e) = expect_file(&golden, &stderr) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_diagnostic_code_is_exercised() {
    let mut seen = String::new();
    for dir in ["tests/data/err", "tests/data/ok"] {
        for f in toml_files(dir) {
            let golden = root().join(f.replace(".toml", ".stderr"));
            seen.push_str(&std::fs::read_to_string(golden).unwrap_or_default());
        }
    }
    let missing: Vec<&str> = sxplan_model::codes::ALL
        .iter()
        .map(|(code, _)| *code)
        // an 8 MiB file does not belong in the corpus; check_fuzz.rs covers it
        .filter(|code| *code != sxplan_model::codes::TOO_LARGE)
        .filter(|code| !seen.contains(&format!("[{code}]")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a corpus file: {missing:?}"
    );
}

#[test]
fn all_files_are_checked_in_one_run_and_errors_win() {
    in_root();
    let (exit, stdout, stderr) = check(&[
        "tests/data/ok/base.toml",
        "tests/data/err/unknown_port.toml",
    ]);
    assert_eq!(exit, Exit::Failure);
    assert!(stdout.starts_with("ok: tests/data/ok/base.toml: 1 circuit, 45 stages"));
    assert!(stderr.contains("error[E0502]"));
}

#[test]
fn json_format_carries_the_same_diagnostics() {
    in_root();
    let f = "tests/data/err/many_errors.toml";
    let (exit, stdout, _) = check(&["--format", "json", f]);
    assert_eq!(exit, Exit::Failure);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["ok"], false);
    let file = &v["files"][0];
    assert_eq!(file["file"], f);
    let codes: Vec<&str> = file["diagnostics"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["E0203", "E0402", "E0302", "E0206"]);
    assert_eq!(file["errors"], 4);
    let first = &file["diagnostics"][0];
    assert_eq!(first["line"], 7);
    assert_eq!(first["col"], 11);
    assert_eq!(first["severity"], "error");

    let (exit, stdout, _) = check(&["--format", "json", "flowsheets/minamitorishima.toml"]);
    assert_eq!(exit, Exit::Ok);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    let used = v["files"][0]["data_used"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(used
        .iter()
        .any(|d| d["built_in"] == true && d["quality"] == "estimated"));
    assert!(used
        .iter()
        .all(|d| d["source"].as_str().is_some_and(|s| !s.is_empty())));
}

#[test]
fn io_failures_exit_2_with_a_clean_message() {
    in_root();
    let (exit, _, stderr) = check(&["tests/data/no_such_file.toml"]);
    assert_eq!(exit, Exit::Usage);
    assert_eq!(
        stderr,
        "error: cannot read `tests/data/no_such_file.toml`: no such file\n"
    );

    let (exit, _, stderr) = check(&["tests/data"]);
    assert_eq!(exit, Exit::Usage);
    assert!(stderr.contains("it is a directory"), "{stderr}");

    let bad = std::env::temp_dir().join(format!("sxplan-invalid-utf8-{}.toml", std::process::id()));
    std::fs::write(&bad, b"schema = 1\nname = \"\xff\xfe\"\n").unwrap_or_default();
    let shown = bad.display().to_string();
    let (exit, _, stderr) = check(&[&shown]);
    let _ = std::fs::remove_file(&bad);
    // read but not UTF-8: an error in the input (exit 1), like simulate, design and optimize
    assert_eq!(exit, Exit::Failure);
    assert!(
        stderr.contains("is not valid UTF-8 (invalid byte at offset 19)"),
        "{stderr}"
    );

    // an included file that cannot be read is an I/O error of the including flowsheet
    let dir = std::env::temp_dir().join(format!("sxplan-include-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let main = dir.join("main.toml");
    let _ = std::fs::write(&main, "schema = 1\ninclude = [\"missing.toml\"]\n");
    let shown = main.display().to_string();
    let (exit, _, stderr) = check(&[&shown]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(exit, Exit::Usage);
    assert!(
        stderr.contains("missing.toml`: no such file (included by `"),
        "{stderr}"
    );

    // a missing file among good ones still exits 2, after checking the others
    let (exit, stdout, _) = check(&["tests/data/ok/base.toml", "tests/data/missing.toml"]);
    assert_eq!(exit, Exit::Usage);
    assert!(stdout.starts_with("ok: "));
}

#[test]
fn usage_errors_exit_2() {
    let (exit, _, stderr) = check(&[]);
    assert_eq!(exit, Exit::Usage);
    assert!(stderr.contains("FILES"), "{stderr}");
    let (exit, _, _) = check(&["--format", "yaml", "x.toml"]);
    assert_eq!(exit, Exit::Usage);
}

#[test]
fn graph_option_reports_the_stage_graph() {
    in_root();
    let (exit, stdout, _) = check(&["--graph", "flowsheets/reflux.toml"]);
    assert_eq!(exit, Exit::Ok);
    assert!(
        stdout.contains("graph: flowsheets/reflux.toml: 112 stages,"),
        "{stdout}"
    );
    assert!(stdout.contains("2 recycles"), "{stdout}");
}

#[test]
fn reference_page_examples_check_clean() {
    let text =
        std::fs::read_to_string(root().join("docs/flowsheet-reference.md")).unwrap_or_default();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(b), "```") => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    let complete: Vec<&String> = blocks
        .iter()
        .filter(|b| b.starts_with("schema = 1"))
        .collect();
    assert!(!complete.is_empty(), "no complete example found");
    for b in complete {
        let out = sxplan_model::check_str(b);
        assert!(
            out.diagnostics.is_empty(),
            "{}",
            sxplan_model::render_text("reference.md", b, &out.diagnostics)
        );
    }
    // every diagnostic code is documented
    for (code, _) in sxplan_model::codes::ALL {
        assert!(
            text.contains(&format!("| {code} |")),
            "{code} not in the reference page"
        );
    }
}

/// The reference page's sections (`## N. ...`) by number.
fn reference_sections(text: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for part in text.split("\n## ") {
        let num = part
            .split('.')
            .next()
            .and_then(|n| n.trim().parse::<u32>().ok());
        if let Some(n) = num {
            out.push((n, part.to_string()));
        }
    }
    out
}

/// The reference section that documents a table of `sxplan_model::keys::ALL`.
fn section_of_table(table: &str) -> u32 {
    let head = table.trim_start_matches('[').split([']', ' ', '.']).next();
    match head.unwrap_or("") {
        "top" => 2,
        "feed" => 3,
        "circuit" => 4,
        "unit" => 5,
        "splitter" | "mixer" | "purge" => 6,
        "link" => 7,
        "product" => 8,
        "prices" => 9,
        "optimize" | "solver" | "plant" => 10,
        _ => 11, // data
    }
}

#[test]
fn reference_page_documents_every_key_the_parser_accepts() {
    let text =
        std::fs::read_to_string(root().join("docs/flowsheet-reference.md")).unwrap_or_default();
    let sections = reference_sections(&text);
    assert!(sections.len() >= 12, "reference sections not found");
    let mut missing = Vec::new();
    for (table, keys) in sxplan_model::keys::ALL {
        let n = section_of_table(table);
        let body = sections
            .iter()
            .find(|(k, _)| *k == n)
            .map_or("", |(_, b)| b.as_str());
        // every word inside backticks in that section (`{ name, stage, phase }` names three)
        let words: std::collections::BTreeSet<&str> = body
            .split('`')
            .skip(1)
            .step_by(2)
            .flat_map(|code| code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
            .collect();
        for key in *keys {
            if !words.contains(key) {
                missing.push(format!("{table} `{key}` (section {n})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys the parser accepts but the reference page does not document: {missing:?}"
    );
}

#[test]
fn every_key_the_reference_page_tabulates_is_accepted() {
    // Rows of the `| key | ... |` tables: their first cell names keys.
    let text =
        std::fs::read_to_string(root().join("docs/flowsheet-reference.md")).unwrap_or_default();
    let accepted: std::collections::BTreeSet<&str> = sxplan_model::keys::ALL
        .iter()
        .flat_map(|(_, keys)| keys.iter().copied())
        .collect();
    let mut in_key_table = false;
    let mut unknown = Vec::new();
    let mut rows = 0;
    for line in text.lines() {
        if !line.starts_with('|') {
            in_key_table = false;
            continue;
        }
        let first = line.split('|').nth(1).unwrap_or("").trim();
        if first == "key" {
            in_key_table = true;
            continue;
        }
        if !in_key_table || first.starts_with("---") {
            continue;
        }
        // `a`, `b` or "mud only: `grade`": every backticked word is a key
        for (i, part) in first.split('`').enumerate() {
            if i % 2 == 1 {
                rows += 1;
                // `<section name>` stands for the solution tables named after sections
                if !part.starts_with('<') && !accepted.contains(part) {
                    unknown.push(part.to_string());
                }
            }
        }
    }
    assert!(rows >= 80, "only {rows} documented keys found");
    assert!(
        unknown.is_empty(),
        "keys the reference page documents but the parser rejects: {unknown:?}"
    );
}
