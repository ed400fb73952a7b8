//! The manifest of an uncertainty sweep (`sxplan sweep`, docs/sweep.md): the flowsheet, the
//! sample design and the uncertain inputs with their distributions, read from TOML with every
//! error located (file, line, column and a hint). Resolving the targets against a flowsheet,
//! sampling and running are the facade's (`sxplan::api::sweep`).

use std::ops::Range;

use serde::Deserialize;

use crate::diagnostic::render_error;

/// Most samples a manifest may ask for.
/// (Every record is held for the aggregates: about 0.5 kB each, so 1,000,000 samples are about
/// 0.5 GB; a million flagship simulations are about 50 core-hours.)
pub const MAX_SAMPLES: usize = 1_000_000;
/// Most cells (samples x uncertain numbers) of a design, which is held in memory (8 bytes each).
pub const MAX_DESIGN_CELLS: usize = 50_000_000;

/// How the unit hypercube is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// Latin hypercube: each input's range cut into `samples` equal-probability strata, each
    /// stratum drawn once, the strata paired at random across inputs.
    LatinHypercube,
    /// Independent uniform draws.
    Random,
}

impl Sampling {
    /// Name in the manifest and the sample files.
    pub fn as_str(self) -> &'static str {
        match self {
            Sampling::LatinHypercube => "latin_hypercube",
            Sampling::Random => "random",
        }
    }
}

/// What each sample runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Simulate the plant at its operating point.
    Simulate,
    /// Optimize it (its `[optimize]` table), then simulate the optimum.
    Optimize,
}

impl Mode {
    /// Name in the manifest and the sample files.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Simulate => "simulate",
            Mode::Optimize => "optimize",
        }
    }
}

/// A distribution of one input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// Normal with mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Lognormal with median and the standard deviation of ln x.
    LogNormal {
        /// Median.
        median: f64,
        /// Standard deviation of ln x.
        sigma_ln: f64,
    },
    /// Uniform on [low, high].
    Uniform {
        /// Lower end.
        low: f64,
        /// Upper end.
        high: f64,
    },
    /// Triangular on [low, high] with its peak at `mode`.
    Triangular {
        /// Lower end.
        low: f64,
        /// Peak.
        mode: f64,
        /// Upper end.
        high: f64,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistribution {
    kind: toml::Spanned<String>,
    mean: Option<f64>,
    sd: Option<f64>,
    median: Option<f64>,
    sigma_ln: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    mode: Option<f64>,
    #[serde(default)]
    relative: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    name: toml::Spanned<String>,
    target: toml::Spanned<String>,
    distribution: toml::Spanned<RawDistribution>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFit {
    name: toml::Spanned<String>,
    circuit: toml::Spanned<String>,
    data: toml::Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    flowsheet: toml::Spanned<String>,
    samples: toml::Spanned<i64>,
    seed: u64,
    #[serde(default = "default_sampling")]
    sampling: Sampling,
    #[serde(default = "default_mode")]
    mode: Mode,
    #[serde(default)]
    input: Vec<RawInput>,
    #[serde(default)]
    fit: Vec<RawFit>,
}

fn default_sampling() -> Sampling {
    Sampling::LatinHypercube
}

fn default_mode() -> Mode {
    Mode::Simulate
}

/// One uncertain input of a manifest, not yet resolved against a flowsheet.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// Its name in the results.
    pub name: String,
    /// What it varies (docs/sweep.md, "Targets").
    pub target: String,
    /// Where `target` is in the manifest text.
    pub target_span: Range<usize>,
    /// Its distribution.
    pub distribution: Distribution,
    /// The distribution is of a multiplier of the flowsheet's value.
    pub relative: bool,
}

/// A `[[fit]]` of a manifest: the parameters of an `sxplan fit` result, drawn jointly from
/// the normal distribution of their estimate and covariance, set into one circuit's
/// equilibrium model.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSpec {
    /// Prefix of the input names (`"<name> log10_k Nd"`).
    pub name: String,
    /// Where `name` is in the manifest text.
    pub name_span: Range<usize>,
    /// The circuit whose model the fit parameterizes.
    pub circuit: String,
    /// Where `circuit` is in the manifest text.
    pub circuit_span: Range<usize>,
    /// The fit document (`sxplan fit --format json`, `DIR/fit.json`), relative to the
    /// manifest's directory.
    pub data: String,
    /// Where `data` is in the manifest text.
    pub data_span: Range<usize>,
}

/// A parsed sweep manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The flowsheet, as written (relative to the manifest's directory).
    pub flowsheet: String,
    /// Samples in the design.
    pub samples: usize,
    /// Where `samples` is in the manifest text.
    pub samples_span: Range<usize>,
    /// Seed of the design.
    pub seed: u64,
    /// Sampling of the design.
    pub sampling: Sampling,
    /// What each sample runs.
    pub mode: Mode,
    /// The inputs.
    pub inputs: Vec<InputSpec>,
    /// The fitted parameter sets drawn jointly, after the inputs.
    pub fits: Vec<FitSpec>,
}

/// A manifest problem rendered with its file, line, column and hint.
pub fn located(
    name: &str,
    text: &str,
    span: Range<usize>,
    message: String,
    help: Option<String>,
) -> String {
    render_error(name, text, span, message, help)
}

/// Parses the manifest `text` (named `name` in messages). The error is rendered, located.
pub fn parse_manifest(name: &str, text: &str) -> Result<Manifest, String> {
    let raw: RawManifest = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        located(
            name,
            text,
            span,
            e.message().trim().to_string(),
            Some("the manifest keys are flowsheet, samples, seed, sampling, mode, [[input]] tables with name, target and distribution, and [[fit]] tables with name, circuit and data (docs/sweep.md)".into()),
        )
    })?;
    let n = *raw.samples.get_ref();
    if !(1..=MAX_SAMPLES as i64).contains(&n) {
        return Err(located(
            name,
            text,
            raw.samples.span(),
            format!("samples = {n}: expected 1 to {MAX_SAMPLES}"),
            None,
        ));
    }
    if raw.input.is_empty() && raw.fit.is_empty() {
        return Err(located(
            name,
            text,
            raw.flowsheet.span(),
            "the manifest has no [[input]] and no [[fit]]: nothing is uncertain".into(),
            Some("add [[input]] tables with name, target and distribution (docs/sweep.md)".into()),
        ));
    }
    let mut inputs = Vec::new();
    for inp in raw.input {
        if inputs
            .iter()
            .any(|i: &InputSpec| i.name == *inp.name.get_ref())
        {
            return Err(located(
                name,
                text,
                inp.name.span(),
                format!("input name \"{}\" is used twice", inp.name.get_ref()),
                Some("give every input its own name".into()),
            ));
        }
        let span = inp.distribution.span();
        let d = inp.distribution.into_inner();
        let need = |v: Option<f64>, key: &str| -> Result<f64, String> {
            match v {
                Some(x) if x.is_finite() => Ok(x),
                Some(_) => Err(located(name, text, span.clone(), format!("distribution {key} is not finite"), None)),
                None => Err(located(
                    name,
                    text,
                    span.clone(),
                    format!("a {} distribution needs `{key}`", d.kind.get_ref()),
                    Some("normal: mean, sd; lognormal: median, sigma_ln; uniform: low, high; triangular: low, mode, high".into()),
                )),
            }
        };
        let bad = |msg: String| located(name, text, span.clone(), msg, None);
        let dist = match d.kind.get_ref().as_str() {
            "normal" => {
                let (mean, sd) = (need(d.mean, "mean")?, need(d.sd, "sd")?);
                if sd <= 0.0 {
                    return Err(bad(format!("normal sd = {sd}: expected > 0")));
                }
                Distribution::Normal { mean, sd }
            }
            "lognormal" => {
                let (median, sigma_ln) = (need(d.median, "median")?, need(d.sigma_ln, "sigma_ln")?);
                if median <= 0.0 || sigma_ln <= 0.0 {
                    return Err(bad("lognormal median and sigma_ln must be > 0".into()));
                }
                Distribution::LogNormal { median, sigma_ln }
            }
            "uniform" => {
                let (low, high) = (need(d.low, "low")?, need(d.high, "high")?);
                if high <= low {
                    return Err(bad(format!(
                        "uniform low = {low}, high = {high}: expected low < high"
                    )));
                }
                Distribution::Uniform { low, high }
            }
            "triangular" => {
                let (low, mode, high) = (
                    need(d.low, "low")?,
                    need(d.mode, "mode")?,
                    need(d.high, "high")?,
                );
                if !(low <= mode && mode <= high && low < high) {
                    return Err(bad(format!("triangular low = {low}, mode = {mode}, high = {high}: expected low <= mode <= high, low < high")));
                }
                Distribution::Triangular { low, mode, high }
            }
            other => {
                return Err(located(
                    name,
                    text,
                    d.kind.span(),
                    format!("unknown distribution \"{other}\""),
                    Some("one of: normal, lognormal, uniform, triangular".into()),
                ))
            }
        };
        inputs.push(InputSpec {
            name: inp.name.into_inner(),
            target: inp.target.get_ref().clone(),
            target_span: inp.target.span(),
            distribution: dist,
            relative: d.relative,
        });
    }
    let mut fits: Vec<FitSpec> = Vec::new();
    for f in raw.fit {
        let taken = inputs
            .iter()
            .any(|i: &InputSpec| i.name == *f.name.get_ref())
            || fits.iter().any(|g| g.name == *f.name.get_ref());
        if taken {
            return Err(located(
                name,
                text,
                f.name.span(),
                format!("name \"{}\" is used twice", f.name.get_ref()),
                Some("give every [[input]] and [[fit]] its own name".into()),
            ));
        }
        fits.push(FitSpec {
            name_span: f.name.span(),
            name: f.name.into_inner(),
            circuit_span: f.circuit.span(),
            circuit: f.circuit.into_inner(),
            data_span: f.data.span(),
            data: f.data.into_inner(),
        });
    }
    Ok(Manifest {
        flowsheet: raw.flowsheet.into_inner(),
        samples: n as usize,
        samples_span: raw.samples.span(),
        seed: raw.seed,
        sampling: raw.sampling,
        mode: raw.mode,
        inputs,
        fits,
    })
}
