//! `sxplan design` (being written; see the open issue for its scope).

use std::io::Write;

use super::Exit;

/// Arguments of `sxplan design`.
#[derive(Debug, clap::Args)]
pub struct DesignArgs {
    /// Flowsheet file(s).
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `sxplan design`.
pub fn run(_args: &DesignArgs, _stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let _ = writeln!(
        stderr,
        "error: `sxplan design` is not available in this build yet"
    );
    Exit::Usage
}
