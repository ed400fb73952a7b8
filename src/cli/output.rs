//! `--out DIR`: the one writer of report directories, all or nothing.
//!
//! The complete set of files is written into a fresh hidden directory beside DIR
//! (`.NAME.report-tmp-PID`); only then does it become DIR, by renaming whole directories:
//! - DIR missing: one rename;
//! - DIR existing: it may hold regular files only (they are carried over, hard-linked or
//!   copied, so files other than the report's stay), and is swapped with the new set in one
//!   atomic exchange (Linux `renameat2(RENAME_EXCHANGE)`), or elsewhere by two renames through
//!   `.NAME.report-old-PID`, undone when the second fails.
//!
//! Everything that could make the swap fail is checked before anything is written: DIR not a
//! directory, a subdirectory or other non-regular entry in DIR (a directory named
//! `streams.csv` blocks that file), DIR being the current directory or one holding it. A
//! failure at any step leaves DIR exactly as it was and removes the temporary directory.
//! Hidden directories of earlier runs whose process is gone (SIGKILL, power loss) are
//! removed first; an `-old-` one whose DIR is missing is renamed back to DIR.

use std::path::{Path, PathBuf};

use crate::api::shown_path;

const TMP_TAG: &str = ".report-tmp-";
const OLD_TAG: &str = ".report-old-";

/// Writes `files` (name, content) as the directory `dir`; see the module docs. The error is
/// one line.
pub(crate) fn write_report_dir(dir: &Path, files: &[(String, String)]) -> Result<(), String> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = match dir.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => {
            return Err(format!(
                "cannot write the report to `{}`: name a directory (not `.` or `..`)",
                shown_path(dir)
            ))
        }
    };
    if parent.is_dir() {
        remove_stale(&parent, &base, dir);
    }
    let existing = std::fs::symlink_metadata(dir).ok();
    let carried = match &existing {
        Some(meta) => preflight_existing(dir, meta, files)?,
        None => Vec::new(),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create {}: {e}", shown_path(&parent)))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{base}{TMP_TAG}{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| format!("cannot create {}: {e}", shown_path(&tmp)))?;
    let cleanup = |msg: String| {
        let _ = std::fs::remove_dir_all(&tmp);
        msg
    };
    for name in &carried {
        let (from, to) = (dir.join(name), tmp.join(name));
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(|e| {
                cleanup(format!(
                    "cannot copy {} into the new report: {e}",
                    shown_path(&from)
                ))
            })?;
        }
    }
    for (name, text) in files {
        let p = tmp.join(name);
        std::fs::write(&p, text)
            .map_err(|e| cleanup(format!("cannot write {}: {e}", shown_path(&p))))?;
    }
    if existing.is_none() {
        return std::fs::rename(&tmp, dir).map_err(|e| {
            cleanup(format!(
                "cannot rename {} to {}: {e}",
                shown_path(&tmp),
                shown_path(dir)
            ))
        });
    }
    let old = parent.join(format!(".{base}{OLD_TAG}{pid}"));
    swap(&tmp, dir, &old).map_err(cleanup)?;
    // `tmp` now holds the previous DIR (after an exchange) or is gone (after two renames)
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Checks an existing `dir` can be replaced and returns the names of its entries to carry
/// over (regular files the report does not write).
fn preflight_existing(
    dir: &Path,
    meta: &std::fs::Metadata,
    files: &[(String, String)],
) -> Result<Vec<std::ffi::OsString>, String> {
    let shown = shown_path(dir);
    if !meta.is_dir() {
        return Err(format!("{shown} exists and is not a directory"));
    }
    if let (Ok(d), Ok(cwd)) = (
        std::fs::canonicalize(dir),
        std::env::current_dir().and_then(std::fs::canonicalize),
    ) {
        if cwd.starts_with(&d) {
            return Err(format!(
                "cannot write the report to {shown}: it is the current directory or holds it; \
                 give a directory of its own"
            ));
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut carried = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {shown}: {e}"))?;
        let name = entry.file_name();
        let t = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", shown_path(&entry.path())))?;
        let ours = files.iter().any(|(n, _)| std::ffi::OsStr::new(n) == name);
        if !t.is_file() {
            let kind = if t.is_dir() {
                "a directory"
            } else if t.is_symlink() {
                "a symbolic link"
            } else {
                "not a regular file"
            };
            let why = if ours {
                "blocks a file of the report"
            } else {
                "would not be carried over"
            };
            return Err(format!(
                "{}: {kind}, {why}; the report replaces {shown} as a whole and nothing was written \
                 (remove it or give another --out)",
                shown_path(&entry.path())
            ));
        }
        if !ours {
            carried.push(name);
        }
    }
    Ok(carried)
}

/// Makes `new` be `dir`, and the previous `dir` be `new` or gone; `dir` stays as it was on
/// failure.
fn swap(new: &Path, dir: &Path, old: &Path) -> Result<(), String> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, new, CWD, dir, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            // file systems without RENAME_EXCHANGE fall back to two renames
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => {
                return Err(format!(
                    "cannot replace {} with the new report: {}",
                    shown_path(dir),
                    std::io::Error::from(e)
                ))
            }
        }
    }
    std::fs::rename(dir, old).map_err(|e| {
        format!(
            "cannot move {} aside to {}: {e}",
            shown_path(dir),
            shown_path(old)
        )
    })?;
    if let Err(e) = std::fs::rename(new, dir) {
        let _ = std::fs::rename(old, dir);
        return Err(format!(
            "cannot rename {} to {}: {e}",
            shown_path(new),
            shown_path(dir)
        ));
    }
    Ok(())
}

/// Removes `.BASE.report-tmp-PID` directories in `parent` whose process is gone, and puts back
/// a `.BASE.report-old-PID` whose run died between its two renames.
fn remove_stale(parent: &Path, base: &str, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".{base}");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let (is_old, pid) = if let Some(p) = rest.strip_prefix(TMP_TAG) {
            (false, p)
        } else if let Some(p) = rest.strip_prefix(OLD_TAG) {
            (true, p)
        } else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && process_alive(pid) {
            continue;
        }
        let path = entry.path();
        if is_old && std::fs::symlink_metadata(dir).is_err() {
            let _ = std::fs::rename(&path, dir);
        } else {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// True when a process `pid` exists (or cannot be told apart from one).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(p) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        match rustix::process::test_kill_process(p) {
            Ok(()) => true,
            Err(e) => e != rustix::io::Errno::SRCH,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}
