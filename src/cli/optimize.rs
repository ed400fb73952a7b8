//! `sxplan optimize` (being written; see the open issue for its scope).

use std::io::Write;

use super::Exit;

/// Arguments of `sxplan optimize`.
#[derive(Debug, clap::Args)]
pub struct OptimizeArgs {
    /// Flowsheet file(s).
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `sxplan optimize`.
pub fn run(_args: &OptimizeArgs, _stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let _ = writeln!(
        stderr,
        "error: `sxplan optimize` is not available in this build yet"
    );
    Exit::Usage
}
