//! Helpers shared by the root integration tests: the repository root, the in-process CLI, and
//! fresh scratch directories.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use sxplan::cli::{run, Exit};

/// The repository root (the facade package's manifest directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `sxplan ARGS...` in-process and returns the exit status, stdout and stderr.
pub fn cli(args: &[&str]) -> (Exit, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut all = vec!["sxplan"];
    all.extend_from_slice(args);
    let code = run(all, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// A fresh, empty directory `sxplan-<prefix>-<tag>-<pid>` under the system temporary directory.
pub fn scratch(prefix: &str, tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sxplan-{prefix}-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
