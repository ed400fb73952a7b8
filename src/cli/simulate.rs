//! `sxplan simulate` (being written; see the open issue for its scope).

use std::io::Write;

use super::Exit;

/// Arguments of `sxplan simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Flowsheet file(s).
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `sxplan simulate`.
pub fn run(_args: &SimulateArgs, _stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let _ = writeln!(
        stderr,
        "error: `sxplan simulate` is not available in this build yet"
    );
    Exit::Usage
}
