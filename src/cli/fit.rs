//! `sxplan fit DATA.csv`: parameters of the `empirical` or `mass_action` model from batch
//! shake-out data (sxplan-fit), with their covariance and intervals, the adjacent separation
//! factors, and with `--out DIR` the flowsheet fragment `fit.toml` (tagged `fitted`, the data
//! file as its source), `fit.json` and a report with parity and residual plots (docs/fit.md).
//! Exit codes: 0 fitted; 1 the data are malformed or cannot identify a parameter, or the
//! optimizer did not converge; 2 usage or I/O error.

use std::io::Write;
use std::path::PathBuf;

use sxplan_fit::{FitOptions, FitStatus, ModelKind};

use crate::api::{read_capped, shown_path};

use super::Exit;

/// Largest data file read, in bytes.
const MAX_DATA_BYTES: u64 = 16 << 20;

/// Model fitted by `sxplan fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FitModel {
    /// log10 D = (a + a1 x) pH + b + c log10 x, per element.
    Empirical,
    /// D = K [(HA)2]_free^n / [H+]^z: K per element, n and z shared.
    MassAction,
}

/// Output on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FitFormat {
    /// The parameters and separation factors as text.
    Text,
    /// The fit document (`fit.json`).
    Json,
    /// The flowsheet fragment (`fit.toml`).
    Toml,
}

/// Arguments of `sxplan fit`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    sxplan fit tests/data/fit/p507_synthetic.csv --model empirical --out fit-out\n  \
    sxplan fit tests/data/fit/p507_synthetic.csv --model mass-action --fit-n --format toml\n\n\
    The CSV format and the models: docs/fit.md.")]
pub struct FitArgs {
    /// Shake-out data, one measurement per row (docs/fit.md, "The CSV format").
    #[arg(value_name = "DATA.csv")]
    pub data: PathBuf,
    /// Model to fit.
    #[arg(long, value_enum, default_value_t = FitModel::Empirical)]
    pub model: FitModel,
    /// Empirical: also fit a1, the change of the pH slope per mol/L of extractant.
    #[arg(long)]
    pub fit_a1: bool,
    /// Empirical: hold c (the slope in log10 extractant) at this value, for data taken at one
    /// extractant concentration.
    #[arg(long, value_name = "C")]
    pub fix_c: Option<f64>,
    /// Mass action: the exponent n of the free dimer (held unless --fit-n).
    #[arg(long = "n", value_name = "N", default_value_t = 3.0)]
    pub n_extractant: f64,
    /// Mass action: fit n (one value for all elements).
    #[arg(long)]
    pub fit_n: bool,
    /// Mass action: the exponent z of [H+] (default: each element's ion charge).
    #[arg(long = "z", value_name = "Z")]
    pub z_proton: Option<f64>,
    /// Mass action: fit z (one value for all elements).
    #[arg(long)]
    pub fit_z: bool,
    /// pH at which the separation factors are stated (default: the median pH of the data).
    #[arg(long, value_name = "PH")]
    pub ref_ph: Option<f64>,
    /// Extractant concentration, mol/L, at which the separation factors are stated (default:
    /// the median of the data).
    #[arg(long, value_name = "MOL_PER_L")]
    pub ref_extractant: Option<f64>,
    /// Write fit.toml, fit.json and the report (report.md, report.html, SVG plots) here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = FitFormat::Text)]
    pub format: FitFormat,
}

impl FitArgs {
    fn options(&self) -> FitOptions {
        let model = match self.model {
            FitModel::Empirical => ModelKind::Empirical,
            FitModel::MassAction => ModelKind::MassAction,
        };
        FitOptions {
            fit_a1: self.fit_a1,
            fix_c: self.fix_c,
            n_extractant: self.n_extractant,
            fit_n: self.fit_n,
            z_proton: self.z_proton,
            fit_z: self.fit_z,
            ref_ph: self.ref_ph,
            ref_extractant: self.ref_extractant,
            ..FitOptions::new(model)
        }
    }
}

/// Runs `sxplan fit`.
pub fn run(args: &FitArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let shown = shown_path(&args.data);
    let bytes = match read_capped(&args.data, MAX_DATA_BYTES, "shake-out data") {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            return Exit::Usage;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(
                stderr,
                "error: `{shown}` is not valid UTF-8 (invalid byte at offset {}); save the data as UTF-8 CSV text",
                e.utf8_error().valid_up_to()
            );
            return Exit::Failure;
        }
    };
    let result = match crate::api::fit_data(&shown, &text, &args.options()) {
        Ok(r) => r,
        Err(e) => {
            let _ = write!(stderr, "{}", e.rendered);
            return Exit::Failure;
        }
    };
    let fragment = sxplan_fit::fragment_toml(&result, &shown);
    let json = crate::api::fit_json(&result, &shown);
    if let Some(dir) = &args.out {
        let report = sxplan_report::fit::fit_report(&result, &shown);
        let mut files = vec![
            ("fit.toml".to_string(), fragment.clone()),
            ("fit.json".to_string(), json.clone()),
            (
                "report.md".to_string(),
                sxplan_report::doc::to_markdown(&report),
            ),
            (
                "report.html".to_string(),
                sxplan_report::doc::to_html(&report),
            ),
        ];
        files.extend(
            report
                .figures
                .iter()
                .map(|f| (f.file.clone(), f.svg.clone())),
        );
        if let Err(e) = super::output::write_report_dir(dir, &files) {
            let _ = writeln!(stderr, "error: {e}");
            return Exit::Usage;
        }
    }
    let out = match args.format {
        FitFormat::Text => sxplan_report::fit::render_text(&result, &shown),
        FitFormat::Json => format!("{json}\n"),
        FitFormat::Toml => fragment,
    };
    if let Err(e) = stdout.write_all(out.as_bytes()) {
        let _ = writeln!(stderr, "error: writing the fit: {e}");
        return Exit::Usage;
    }
    if let Some(dir) = &args.out {
        let _ = writeln!(
            stderr,
            "wrote {} (the [circuit.equilibrium] keys), {} and the report (open {})",
            dir.join("fit.toml").display(),
            dir.join("fit.json").display(),
            dir.join("report.html").display()
        );
    }
    if result.status == FitStatus::NotConverged {
        let _ = writeln!(
            stderr,
            "error: the least-squares optimizer stopped before its tolerances were met; the parameters above are its last point, not an optimum"
        );
        return Exit::Failure;
    }
    Exit::Ok
}
