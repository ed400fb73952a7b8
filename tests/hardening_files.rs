//! Hardening round 2 (issue 15), files and outputs: only regular files are read, includes stay
//! in the main file's directory tree, a refused include shows nothing of the file, `--out` is
//! all or nothing also into an existing directory, stale temporary directories are removed,
//! and `report` reads result documents through the same bounded reader.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use sxplan::cli::Exit;

mod common;
use common::{cli, root};

/// Runs the CLI on another thread and fails instead of hanging when it does not return within
/// 60 s (a FIFO opened for a blocking read never returns).
fn cli_bounded(args: Vec<String>) -> (Exit, String, String) {
    let (tx, rx) = mpsc::channel();
    let shown = args.join(" ");
    std::thread::spawn(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = tx.send(cli(&a));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("`sxplan {shown}` did not return within 60 s"))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn base_flowsheet() -> String {
    std::fs::read_to_string(root().join("tests/data/ok/base.toml")).unwrap()
}

/// A main flowsheet in `dir` that includes `inc`.
fn with_include(dir: &Path, inc: &str) -> PathBuf {
    let main = dir.join("main.toml");
    let text = format!("include = [\"{inc}\"]\n{}", base_flowsheet());
    std::fs::write(&main, text).unwrap();
    main
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

#[cfg(unix)]
#[test]
fn devices_fifos_and_directories_are_refused_at_once_as_main_file_and_as_include() {
    let dir = common::scratch("harden", "special");
    let fifo = dir.join("pipe.toml");
    mkfifo(&fifo);
    let sub = dir.join("sub.toml");
    std::fs::create_dir(&sub).unwrap();
    let cases: [(&str, String, &str); 4] = [
        ("/dev/zero", "/dev/zero".into(), "character device"),
        ("/dev/urandom", "/dev/urandom".into(), "character device"),
        ("a FIFO", s(&fifo), "FIFO"),
        ("a directory", s(&sub), "directory"),
    ];
    for (what, path, reason) in &cases {
        for cmd in ["check", "simulate", "optimize"] {
            let (exit, out, err) = cli_bounded(vec![cmd.into(), path.clone()]);
            assert_eq!(exit, Exit::Usage, "{cmd} {what}: {err}");
            assert!(out.is_empty(), "{cmd} {what}: {out}");
            assert!(
                err.starts_with(&format!("error: cannot read `{path}`: it is a"))
                    && err.contains(reason),
                "{cmd} {what}: {err}"
            );
        }
        // as an include: devices named by absolute path are refused as outside the tree
        // unread; with --allow-outside-includes they reach the reader, which refuses them
        let inc = if path.starts_with("/dev/") {
            path.clone()
        } else {
            Path::new(path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        let main = with_include(&dir, &inc);
        let (exit, _, err) = cli_bounded(vec![
            "check".into(),
            "--allow-outside-includes".into(),
            s(&main),
        ]);
        assert_eq!(exit, Exit::Usage, "include {what}: {err}");
        assert!(
            err.contains(reason) && err.contains("(included by `"),
            "include {what}: {err}"
        );
        let (exit, _, err) = cli_bounded(vec!["check".into(), s(&main)]);
        assert!(
            matches!(exit, Exit::Usage | Exit::Failure),
            "include {what}: {err}"
        );
    }
    // a FIFO handed to report, too
    let (exit, _, err) = cli_bounded(vec!["report".into(), s(&fifo)]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(err.contains("FIFO"), "{err}");
}

#[test]
fn files_over_the_limit_are_refused_before_reading() {
    let dir = common::scratch("harden", "big");
    let big = dir.join("big.toml");
    let f = std::fs::File::create(&big).unwrap();
    // sparse: 9 MiB claimed, nothing written
    f.set_len(9 * 1024 * 1024).unwrap();
    let (exit, _, err) = cli(&["check", &s(&big)]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(
        err.contains("9437184 bytes is more than the 8388608-byte limit for a flowsheet"),
        "{err}"
    );
    let json = dir.join("big.json");
    let f = std::fs::File::create(&json).unwrap();
    f.set_len(sxplan_report::MAX_RESULT_BYTES + 1).unwrap();
    let (exit, _, err) = cli(&["report", &s(&json)]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(err.contains("-byte limit for a result document"), "{err}");
}

const SECRET: &str = "secret-first-line-8c1f = do not echo me";

#[test]
fn includes_may_not_leave_the_main_files_tree_and_refusals_show_nothing_of_the_file() {
    let top = common::scratch("harden", "confine");
    let project = top.join("project");
    std::fs::create_dir_all(project.join("parts")).unwrap();
    let secret = top.join("secret.toml");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, project.join("parts/link.toml")).unwrap();
    let mut refused = vec![
        s(&secret),
        "../secret.toml".to_string(),
        "parts/../../secret.toml".into(),
    ];
    if cfg!(unix) {
        refused.push("parts/link.toml".into());
    }
    for inc in &refused {
        let main = with_include(&project, inc);
        for cmd in ["check", "simulate", "design", "optimize"] {
            let (exit, out, err) =
                cli(&[cmd, &s(&main), "--circuit", "PrNd"][..if cmd == "design" { 4 } else { 2 }]);
            assert_eq!(exit, Exit::Failure, "{cmd} {inc}: {err}");
            assert!(out.is_empty(), "{cmd} {inc}: {out}");
            assert!(
                err.contains("error[E0802]: include \""),
                "{cmd} {inc}: {err}"
            );
            assert!(
                err.contains("--allow-outside-includes"),
                "{cmd} {inc}: {err}"
            );
            assert!(!err.contains("secret-first-line"), "{cmd} {inc}: {err}");
            assert!(!err.contains("echo me"), "{cmd} {inc}: {err}");
        }
    }
    // allowed, the file is read; as it is not a list of tables, E0801 points at the entry in
    // the main file and shows nothing of the included file
    let main = with_include(&project, "../secret.toml");
    let (exit, _, err) = cli(&["check", "--allow-outside-includes", &s(&main)]);
    assert_eq!(exit, Exit::Failure, "{err}");
    assert!(err.contains("error[E0801]"), "{err}");
    assert!(err.contains("main.toml:1:12"), "{err}");
    assert!(!err.contains("secret-first-line"), "{err}");
    // a proper part outside the tree is read with the flag
    let part = top.join("circuit.toml");
    let base = base_flowsheet();
    let at = base.find("[[circuit]]").unwrap();
    let end = base[at..]
        .find("[[product]]")
        .map_or(base.len(), |i| at + i);
    std::fs::write(&part, &base[at..end]).unwrap();
    let main = project.join("split.toml");
    std::fs::write(
        &main,
        format!(
            "include = [\"../circuit.toml\"]\n{}{}",
            &base[..at],
            &base[end..]
        ),
    )
    .unwrap();
    let (exit, _, err) = cli(&["check", &s(&main)]);
    assert_eq!(exit, Exit::Failure, "{err}");
    let (exit, out, err) = cli(&["check", &s(&main), "--allow-outside-includes"]);
    assert_eq!(exit, Exit::Ok, "{err}");
    assert!(out.starts_with("ok: "), "{out}");
    // inside the tree, a subdirectory is fine
    std::fs::copy(&part, project.join("parts/circuit.toml")).unwrap();
    let main = project.join("inside.toml");
    std::fs::write(
        &main,
        format!(
            "include = [\"parts/circuit.toml\"]\n{}{}",
            &base[..at],
            &base[end..]
        ),
    )
    .unwrap();
    let (exit, _, err) = cli(&["check", &s(&main)]);
    assert_eq!(exit, Exit::Ok, "{err}");
}

/// Every entry under `dir` (relative path -> content, `<dir>` for directories).
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                out.insert(rel, "<dir>".into());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    out
}

const DESIGN: &[&str] = &[
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
];

fn design_into(out: &Path) -> (Exit, String, String) {
    let mut a: Vec<&str> = DESIGN.to_vec();
    let o = s(out);
    a.push(&o);
    cli(&a)
}

#[test]
fn out_into_an_existing_directory_with_a_blocked_name_leaves_it_exactly_as_it_was() {
    let top = common::scratch("harden", "blocked");
    let out = top.join("rep");
    let (exit, _, err) = design_into(&out);
    assert_eq!(exit, Exit::Ok, "{err}");
    let names: Vec<String> = snapshot(&out).into_keys().collect();
    assert!(names.len() >= 3, "{names:?}");
    // a previous report, a file of the user's, and a directory where a report file goes
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::remove_file(out.join("report.md")).unwrap();
    std::fs::create_dir(out.join("report.md")).unwrap();
    std::fs::write(out.join("report.md/inner.txt"), "inner").unwrap();
    let before = snapshot(&out);
    let parent_before = snapshot(&top);
    let (exit, _, err) = design_into(&out);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(
        err.contains("report.md: a directory, blocks a file of the report"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(snapshot(&out), before);
    assert_eq!(
        snapshot(&top),
        parent_before,
        "something was left beside the directory"
    );
    // unblocked, the new report replaces the old files and keeps the user's
    std::fs::remove_dir_all(out.join("report.md")).unwrap();
    std::fs::write(out.join("report.html"), "old").unwrap();
    let (exit, _, err) = design_into(&out);
    assert_eq!(exit, Exit::Ok, "{err}");
    let after = snapshot(&out);
    assert_eq!(after.get("notes.txt").map(String::as_str), Some("mine"));
    assert!(after["report.html"].len() > 100);
    assert!(after.contains_key("report.md"));
    let hidden: Vec<String> = snapshot(&top)
        .into_keys()
        .filter(|k| k.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    // --out a file, and --out the current directory, are refused before anything is written
    let file = top.join("file");
    std::fs::write(&file, "x").unwrap();
    let (exit, _, err) = design_into(&file);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(err.contains("exists and is not a directory"), "{err}");
    let (exit, _, err) = design_into(&root());
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(err.contains("current directory"), "{err}");
}

#[test]
fn stale_temporary_directories_of_dead_runs_are_removed() {
    let top = common::scratch("harden", "stale");
    // no process has this id (above any pid_max)
    let dead = 2_147_483_000u32;
    let stale = top.join(format!(".rep.report-tmp-{dead}"));
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("report.md"), "half").unwrap();
    // a run that died between its two renames: the previous report waits under -old-
    let old = top.join(format!(".back.report-old-{dead}"));
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("notes.txt"), "mine").unwrap();
    // a live process's directory is left alone (this test's own parent, pid 1)
    let live = top.join(".rep.report-tmp-1");
    std::fs::create_dir_all(&live).unwrap();
    let (exit, _, err) = design_into(&top.join("rep"));
    assert_eq!(exit, Exit::Ok, "{err}");
    assert!(!stale.exists());
    assert!(live.exists());
    let (exit, _, err) = design_into(&top.join("back"));
    assert_eq!(exit, Exit::Ok, "{err}");
    assert!(!old.exists());
    assert_eq!(
        std::fs::read_to_string(top.join("back/notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn report_says_what_the_schema_version_is_when_it_is_missing_or_a_string() {
    let dir = common::scratch("harden", "schema");
    let cases = [
        (
            "{\"kind\": \"design\"}",
            "has no schema_version, this build reads schema_version 1",
        ),
        (
            "{\"kind\": \"design\", \"schema_version\": \"1\"}",
            "has schema_version \"1\" (a string, not a number)",
        ),
        (
            "{\"kind\": \"design\", \"schema_version\": null}",
            "has a schema_version that is null, not a number",
        ),
        (
            "{\"kind\": \"design\", \"schema_version\": 1.5}",
            "has schema_version 1.5, this build reads schema_version 1",
        ),
    ];
    for (i, (doc, expected)) in cases.iter().enumerate() {
        let f = dir.join(format!("doc{i}.json"));
        std::fs::write(&f, doc).unwrap();
        let (exit, _, err) = cli(&["report", &s(&f)]);
        assert_eq!(exit, Exit::Failure, "{doc}: {err}");
        assert!(err.contains(expected), "{doc}: {err}");
        assert!(!err.contains("schema_version 0"), "{doc}: {err}");
    }
}

/// Finding 14: `report` of a result whose stage loading was edited to 1.8e308 drew its charts
/// over f64's whole range and never finished; the reader now refuses a number beyond what any
/// result holds, naming its path.
#[test]
fn report_refuses_a_result_with_a_number_beyond_any_result_naming_its_path() {
    let dir = common::scratch("harden", "huge");
    let src = root().join("flowsheets/pr-nd.toml");
    let (exit, out, err) = cli(&["simulate", &s(&src), "--format", "json"]);
    assert_eq!(exit, Exit::Ok, "{err}");
    let mut doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cases = [
        (
            "loading_mol_per_l",
            serde_json::json!(1.7976931348623157e308),
            "is beyond any number an sxplan result holds",
        ),
        (
            "loading_mol_per_l",
            serde_json::json!(5.0),
            "is outside 0..4 mol/L",
        ),
        ("ph", serde_json::json!(95.1), "is outside -3..16"),
    ];
    for (i, (key, value, expected)) in cases.iter().enumerate() {
        doc["circuits"][0]["stages"][3][key] = value.clone();
        let f = dir.join(format!("huge{i}.json"));
        std::fs::write(&f, doc.to_string()).unwrap();
        let (exit, _, err) = cli(&["report", &s(&f), "--out", &s(&dir.join("rep"))]);
        assert_eq!(exit, Exit::Failure, "{key}: {err}");
        assert!(
            err.contains(&format!("circuits[0].stages[3].{key} = ")),
            "{err}"
        );
        assert!(err.contains(expected), "{err}");
        assert!(!dir.join("rep").exists());
        doc = serde_json::from_str(&out).unwrap();
    }
}

#[test]
fn names_with_newlines_or_quotes_are_escaped_in_messages() {
    let dir = common::scratch("harden", "names");
    let base = base_flowsheet();
    // a section name and the flowsheet name with a newline; a key with a quote
    let bad = base
        .replacen("name = \"base\"", "name = \"two\\nlines\"", 1)
        .replacen(
            "{ kind = \"scrub\", stages = 20 }",
            "{ kind = \"scrub\", stages = 20, name = \"sc\\\"rub\\nx\" }",
            1,
        );
    assert_ne!(bad, base);
    let f = dir.join("names.toml");
    std::fs::write(&f, &bad).unwrap();
    let (exit, _, err) = cli(&["check", &s(&f)]);
    assert_eq!(exit, Exit::Failure, "{err}");
    assert!(
        err.contains("\"two\\nlines\" holds a control character"),
        "{err}"
    );
    assert!(
        err.contains("section name \"sc\\\"rub\\nx\" is not a valid name"),
        "{err}"
    );
    // a raw newline would start a line with the name's second half
    assert!(
        !err.lines()
            .any(|l| l.starts_with("lines") || l.starts_with("x\"")),
        "{err}"
    );
    // a file name with a newline is printed escaped, on one line
    let odd = dir.join("odd\nname.toml");
    let (exit, _, err) = cli(&["check", &s(&odd)]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("odd\\nname.toml"), "{err}");
}
