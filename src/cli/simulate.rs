//! `sxplan simulate FILE [--format text|json] [--out DIR]`: steady-state simulation of a flowsheet.
//!
//! Reads and checks the flowsheet (diagnostics go to stderr), simulates it, prints a text
//! summary or the versioned JSON result on stdout, and with `--out DIR` writes `result.json`
//! and one CSV stage profile per circuit into DIR (each written to a temporary name and renamed
//! when complete, so a file that exists is whole). Exit code 0 when converged, 1 when the
//! flowsheet has errors or the simulation did not converge, 2 on usage or I/O errors.

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_report::simulate as render;
use sxplan_sim::{SimOptions, SolveStatus};

use super::Exit;

/// Output format of `sxplan simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulateFormat {
    /// A readable summary.
    Text,
    /// The versioned JSON result (see docs/simulate-json.md).
    Json,
}

/// Arguments of `sxplan simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Flowsheet file.
    pub file: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SimulateFormat,
    /// Directory to write result.json and per-circuit CSV stage profiles into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Solve with the independent cross-check algorithm (successive substitution) instead of Newton.
    #[arg(long)]
    pub substitution: bool,
}

/// Runs `sxplan simulate`.
pub fn run(args: &SimulateArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let name = args.file.display().to_string();
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(stderr, "error: cannot read {name}: {e}");
            return Exit::Usage;
        }
    };
    let src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                stderr,
                "error: {name}: not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            );
            return Exit::Failure;
        }
    };
    let checked = sxplan_model::check_str(&src);
    if !checked.diagnostics.is_empty() {
        let _ = write!(
            stderr,
            "{}",
            sxplan_model::render_text(&name, &src, &checked.diagnostics)
        );
    }
    let Some(flowsheet) = checked.flowsheet else {
        let _ = writeln!(
            stderr,
            "error: {name}: {} error(s); not simulated",
            checked.error_count()
        );
        return Exit::Failure;
    };
    let options = SimOptions {
        algorithm: if args.substitution {
            sxplan_sim::Algorithm::Substitution
        } else {
            sxplan_sim::Algorithm::Newton
        },
        ..SimOptions::default()
    };
    let result = match sxplan_sim::simulate(&flowsheet, &options) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(stderr, "error: {name}: {e}");
            return Exit::Failure;
        }
    };
    let text = match args.format {
        SimulateFormat::Text => render::to_text(&result),
        SimulateFormat::Json => {
            let mut j = render::to_json(&result);
            j.push('\n');
            j
        }
    };
    if let Err(e) = stdout.write_all(text.as_bytes()) {
        let _ = writeln!(stderr, "error: writing the result: {e}");
        return Exit::Usage;
    }
    if let Some(dir) = &args.out {
        if let Err(e) = write_out(dir, &result) {
            let _ = writeln!(stderr, "error: {e}");
            return Exit::Usage;
        }
    }
    if result.status == SolveStatus::Converged {
        Exit::Ok
    } else {
        let _ = writeln!(
            stderr,
            "error: {name}: the simulation did not converge ({}; max stage residual {:.2e}, recycle residual {:.2e})",
            result.status, result.diagnostics.max_stage_residual, result.diagnostics.recycle_residual
        );
        Exit::Failure
    }
}

/// Writes result.json and the CSV profiles, each via a temporary file renamed when complete.
fn write_out(dir: &Path, result: &sxplan_sim::SimResult) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut files = vec![("result.json".to_string(), render::to_json(result) + "\n")];
    for c in &result.circuits {
        files.push((
            render::stage_profile_file_name(c),
            render::stage_profile_csv(result, c),
        ));
    }
    for (file, content) in files {
        let path = dir.join(&file);
        let tmp = dir.join(format!(".{file}.tmp-{}", std::process::id()));
        std::fs::write(&tmp, content.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot rename {} to {}: {e}", tmp.display(), path.display())
        })?;
    }
    Ok(())
}
