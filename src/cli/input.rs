//! The one way the CLI reads an input file (a flowsheet, an included file, a result JSON):
//! regular files only, never more bytes than a limit, and never a blocking open.
//!
//! A file's reported size is not trusted: `/dev/zero` and `/proc` files report 0 bytes, a
//! file can grow while it is read. So the type is checked from the metadata before opening
//! (a directory, FIFO, device or socket is refused by name), the open itself is non-blocking
//! (a FIFO swapped in between the check and the open cannot block it), the opened handle's
//! type is checked again, and the read stops at `limit + 1` bytes whatever the file claims.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::Path;

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
