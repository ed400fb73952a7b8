//! The one way sxplan reads an input file (a flowsheet, an included file, a result JSON):
//! regular files only, never more bytes than a limit, and never a blocking open; and the
//! one reader of a flowsheet with the files it includes.
//!
//! A file's reported size is not trusted: `/dev/zero` and `/proc` files report 0 bytes, a
//! file can grow while it is read. So the type is checked from the metadata before opening
//! (a directory, FIFO, device or socket is refused by name), the open itself is non-blocking
//! (a FIFO swapped in between the check and the open cannot block it), the opened handle's
//! type is checked again, and the read stops at `limit + 1` bytes whatever the file claims.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use sxplan_model::{codes, include_entries, render_text, Severity};

/// Why a file is not a regular file, for messages: `it is a FIFO (named pipe)`.
fn not_regular(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("it is a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("it is a FIFO (named pipe), not a regular file");
        }
        if t.is_char_device() {
            return Some("it is a character device, not a regular file");
        }
        if t.is_block_device() {
            return Some("it is a block device, not a regular file");
        }
        if t.is_socket() {
            return Some("it is a socket, not a regular file");
        }
    }
    Some("it is not a regular file")
}

/// The reason an I/O operation failed, lowercase, for `cannot read `X`: REASON`.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string().to_lowercase(),
    }
}

fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // a FIFO opened for reading without O_NONBLOCK waits for a writer forever
        o.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    o.open(path)
}

/// Reads the regular file `path`, at most `limit` bytes; `what` names the kind of file in the
/// size message (`a flowsheet`). The error is one line: ``cannot read `PATH`: REASON``, with
/// control characters in the path escaped.
pub(crate) fn read_capped(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let shown = shown_path(path);
    let fail = |reason: String| format!("cannot read `{shown}`: {reason}");
    let meta = std::fs::metadata(path).map_err(|e| fail(io_reason(&e)))?;
    if let Some(why) = not_regular(&meta) {
        return Err(fail(why.to_string()));
    }
    let too_big = |n: String| {
        fail(format!(
            "{n} bytes is more than the {limit}-byte limit for {what}"
        ))
    };
    if meta.len() > limit {
        return Err(too_big(meta.len().to_string()));
    }
    let file = open_nonblocking(path).map_err(|e| fail(io_reason(&e)))?;
    let meta = file.metadata().map_err(|e| fail(io_reason(&e)))?;
    if let Some(why) = not_regular(&meta) {
        return Err(fail(why.to_string()));
    }
    let cap = usize::try_from(meta.len().min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(cap);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(io_reason(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(fail(format!(
            "it holds more than the {limit}-byte limit for {what}"
        )));
    }
    Ok(bytes)
}

/// A path for messages: as given, with quotes, backslashes and control characters (a
/// newline in a file name) escaped so one message stays one line.
pub(crate) fn shown_path(path: &Path) -> String {
    sxplan_model::diagnostic::escape_name(&path.display().to_string())
}

/// How included files may be named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadOptions {
    /// Read included files outside the main file's directory tree (the CLI's
    /// `--allow-outside-includes`).
    pub allow_outside_includes: bool,
}

/// Why a flowsheet file could not be turned into text.
///
/// The rule every command that reads a flowsheet follows (check, simulate, design, optimize,
/// report --flowsheet, scenarios): a file that cannot be read (missing, a directory, a FIFO, a
/// device, a socket, no permission, over the size limit) is an I/O failure ([`LoadError::Io`],
/// CLI exit 2); a file that was read but whose bytes are not UTF-8, and an include the
/// flowsheet may not name (outside the main file's directory tree), are errors in the input
/// ([`LoadError::Input`], exit 1), located like any other input error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read; a one-line message naming the file and the reason.
    #[error("{0}")]
    Io(String),
    /// The input itself is wrong: bytes that are not UTF-8, a refused include.
    #[error("{}", diagnostic.message)]
    Input {
        /// Where and what, as data.
        diagnostic: Box<super::Diagnostic>,
        /// The same rendered for a terminal (rustc style, with the source line and a caret).
        rendered: String,
    },
}

impl LoadError {
    fn included_by(self, main: &Path) -> LoadError {
        let main = shown_path(main);
        match self {
            LoadError::Io(msg) => LoadError::Io(format!("{msg} (included by `{main}`)")),
            LoadError::Input {
                diagnostic,
                rendered,
            } => LoadError::Input {
                diagnostic,
                rendered: format!(
                    "{}  = note: included by `{main}`\n\n",
                    rendered.trim_end_matches('\n')
                ),
            },
        }
    }
}

/// Reads a flowsheet and the files its `include` list names: (name, text) pairs, main file
/// first. Each include resolves relative to the directory of the including file (the main
/// file: included files cannot include) and must stay inside that directory tree, symbolic
/// links resolved, unless `options.allow_outside_includes`; a refused include is reported at
/// its entry in the main file and is never opened, so nothing of its content can appear in a
/// message.
pub(crate) fn read_with_includes(
    path: &Path,
    options: &LoadOptions,
) -> Result<Vec<(String, String)>, LoadError> {
    let main = read_source(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let root = std::fs::canonicalize(&dir).map_err(|e| {
        LoadError::Io(format!(
            "cannot read `{}`: {}",
            shown_path(&dir),
            io_reason(&e)
        ))
    })?;
    let entries = include_entries(&main);
    let mut out = vec![(path.display().to_string(), main)];
    for inc in entries {
        let p = path.parent().unwrap_or(Path::new("")).join(&inc.path);
        if !options.allow_outside_includes && !inside(&root, &dir.join(&inc.path)) {
            let shown = sxplan_model::diagnostic::escape_name(&inc.path);
            let mut d = sxplan_model::Diagnostic::new(
                Severity::Error,
                codes::INCLUDE_REFUSED,
                format!(
                    "include \"{shown}\" is outside the directory of `{}` (not read)",
                    shown_path(path)
                ),
                inc.span.clone(),
                &out[0].1,
            );
            d.help = Some(
                "move the file under the main file's directory, or pass --allow-outside-includes"
                    .into(),
            );
            let name = path.display().to_string();
            let rendered = render_text(&name, &out[0].1, std::slice::from_ref(&d));
            return Err(LoadError::Input {
                diagnostic: Box::new(super::Diagnostic::of(&d, &name)),
                rendered,
            });
        }
        let text = read_source(&p).map_err(|e| e.included_by(path))?;
        out.push((p.display().to_string(), text));
    }
    Ok(out)
}

/// True when `p` lies inside the directory `root` (canonical): the nearest existing ancestor
/// of `p` is resolved (symbolic links, `..`) and the remaining components may not climb.
fn inside(root: &Path, p: &Path) -> bool {
    let mut existing = p.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let resolved = loop {
        match std::fs::canonicalize(&existing) {
            Ok(c) => break c,
            Err(_) => {
                let Some(name) = existing.file_name() else {
                    return false;
                };
                rest.push(name.to_os_string());
                if !existing.pop() {
                    return false;
                }
                if existing.as_os_str().is_empty() {
                    existing = PathBuf::from(".");
                }
            }
        }
    };
    // `file_name` is None for `..`, so what remains holds plain names only
    let mut full = resolved;
    for name in rest.iter().rev() {
        full.push(name);
    }
    full.starts_with(root)
}

/// Largest flowsheet file read, in bytes.
const MAX_FILE_BYTES: u64 = sxplan_model::MAX_SOURCE_BYTES as u64;

/// Reads a flowsheet file as UTF-8 text, with a clean message for every failure: only a
/// regular file is read, and never more than [`MAX_FILE_BYTES`] (see [`read_capped`]).
pub(crate) fn read_source(path: &Path) -> Result<String, LoadError> {
    let bytes = read_capped(path, MAX_FILE_BYTES, "a flowsheet").map_err(LoadError::Io)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        utf8_error(&shown_path(path), e.as_bytes(), at)
    })
}

/// The error of a file whose byte `at` starts an invalid UTF-8 sequence; rendered in the
/// layout of the model's diagnostics: message, `--> file:line:column`, the line (invalid bytes
/// shown as U+FFFD) and a caret under the bad byte.
pub(crate) fn utf8_error(shown: &str, bytes: &[u8], at: usize) -> LoadError {
    let at = at.min(bytes.len());
    let line_start = bytes[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| at + i);
    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let before: String = String::from_utf8_lossy(&bytes[line_start..at]).into_owned();
    let col = before.chars().count() + 1;
    let clean = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    // long lines are shown as a window around the bad byte
    let before_chars: Vec<char> = clean(&before).chars().collect();
    let (lead, shown_before) = if before_chars.len() > 60 {
        let tail: String = before_chars[before_chars.len() - 60..].iter().collect();
        (63, format!("...{tail}"))
    } else {
        (before_chars.len(), before_chars.iter().collect())
    };
    let after: String = clean(&String::from_utf8_lossy(&bytes[at..line_end]))
        .trim_end()
        .chars()
        .take(60)
        .collect();
    let gutter = " ".repeat(line.to_string().len());
    let message = format!(
        "`{shown}` is not valid UTF-8 (invalid byte at offset {at}); save the flowsheet as UTF-8 text"
    );
    let rendered = format!(
        "error: {message}\n\
         {gutter}--> {shown}:{line}:{col}\n\
         {gutter} |\n\
         {line} | {shown_before}{after}\n\
         {gutter} | {}^\n\n",
        " ".repeat(lead)
    );
    LoadError::Input {
        diagnostic: Box::new(super::Diagnostic {
            file: shown.to_string(),
            line,
            column: col,
            severity: Severity::Error,
            code: codes::SYNTAX.to_string(),
            message,
            help: Some("save the flowsheet as UTF-8 text".to_string()),
        }),
        rendered,
    }
}
