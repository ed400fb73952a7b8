//! `sxplan check` (being written; see the open issue for its scope).

use std::io::Write;

use super::Exit;

/// Arguments of `sxplan check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Flowsheet file(s).
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `sxplan check`.
pub fn run(_args: &CheckArgs, _stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let _ = writeln!(
        stderr,
        "error: `sxplan check` is not available in this build yet"
    );
    Exit::Usage
}
