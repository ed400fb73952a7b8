//! Fits of sxplan's equilibrium models to batch shake-out data (`sxplan fit`, docs/fit.md).
//!
//! Reads one measurement per CSV row ([`data::parse_csv`]) and fits, by weighted least
//! squares in log10 D, either the `empirical` model
//! `log10 D = (a + a1 x) pH + b + c log10 x` (per element; linear in its parameters, solved by
//! the SVD of nalgebra) or the `mass_action` model
//! `log10 D = log10 K + n log10 [(HA)2]_free - z log10 [H+]` (K per element, n and z shared and
//! fixed or fitted; nonlinear through the free dimer, solved by the `levenberg-marquardt`
//! crate). The result holds the parameters, their covariance from the Jacobian at the optimum,
//! residuals, R^2 and RMS, and the adjacent separation factors with confidence intervals; data
//! that cannot identify a parameter are refused with the parameter named.
//!
//! ```
//! use sxplan_fit::{fit, FitOptions, ModelKind};
//! let csv = "# synthetic\nelement,ph,extractant,d\n\
//!            Nd,1.5,1,0.50\nNd,2.0,1,1.6\nNd,2.5,1,5.2\n\
//!            Pr,1.5,1,0.25\nPr,2.0,1,0.78\nPr,2.5,1,2.6\n";
//! let rows = sxplan_fit::data::parse_csv(csv).unwrap();
//! let opts = FitOptions { fix_c: Some(0.0), ..FitOptions::new(ModelKind::Empirical) };
//! let r = fit(&rows, &opts).unwrap();
//! assert_eq!(r.betas[0].heavier, "Nd");
//! assert!((r.betas[0].beta - 2.0).abs() < 0.1);
//! ```

pub mod data;
mod fragment;
mod solve;

pub use data::{DataError, Measurement};
pub use fragment::fragment_toml;
pub use solve::fit;

use serde::Serialize;

/// Which equilibrium model to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// `log10 D = (a + a1 x) pH + b + c log10 x`.
    Empirical,
    /// `log10 D = log10 K + n log10 [(HA)2]_free - z log10 [H+]`.
    MassAction,
}

impl ModelKind {
    /// The flowsheet's name of the model (`[circuit.equilibrium] model`).
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Empirical => "empirical",
            ModelKind::MassAction => "mass_action",
        }
    }
}

/// What to fit and how to report it.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// The model.
    pub model: ModelKind,
    /// Empirical: fit `a1` (the change of the pH slope per mol/L of extractant) too.
    pub fit_a1: bool,
    /// Empirical: hold `c` at this value instead of fitting it (needed when every row has the
    /// same extractant concentration).
    pub fix_c: Option<f64>,
    /// Mass action: the free-dimer exponent n; fitted (one for all elements) when `fit_n`.
    pub n_extractant: f64,
    /// Mass action: fit n.
    pub fit_n: bool,
    /// Mass action: the [H+] exponent z; `None` is each element's ion charge (the flowsheet
    /// default); fitted (one for all elements) when `fit_z`.
    pub z_proton: Option<f64>,
    /// Mass action: fit z.
    pub fit_z: bool,
    /// The pH at which separation factors are stated; `None`: the median pH of the data.
    pub ref_ph: Option<f64>,
    /// The extractant concentration (mol/L) at which separation factors are stated; `None`:
    /// the median of the data.
    pub ref_extractant: Option<f64>,
}

impl FitOptions {
    /// Defaults: a, b, c per element (empirical), or K per element with n = 3 and z = the ion
    /// charge fixed (mass action, the flowsheet defaults).
    pub fn new(model: ModelKind) -> FitOptions {
        FitOptions {
            model,
            fit_a1: false,
            fix_c: None,
            n_extractant: 3.0,
            fit_n: false,
            z_proton: None,
            fit_z: false,
            ref_ph: None,
            ref_extractant: None,
        }
    }
}

/// How the parameter covariance was scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CovarianceBasis {
    /// Every row gave `sigma_log_d`: covariance `(J^T W J)^-1` with W = 1/sigma^2, unscaled;
    /// intervals use the normal quantile.
    GivenSigmas,
    /// No sigmas: unit weights, covariance scaled by the reduced chi-square (the pooled
    /// residual variance); intervals use Student's t with the residual degrees of freedom.
    ReducedChiSquare,
}

impl CovarianceBasis {
    /// A sentence for reports.
    pub fn describe(self) -> &'static str {
        match self {
            CovarianceBasis::GivenSigmas => "from the Jacobian at the optimum with the given sigma of log10 D as weights (not rescaled); intervals with the normal quantile",
            CovarianceBasis::ReducedChiSquare => "from the Jacobian at the optimum, scaled by the reduced chi-square (no sigmas given: the scatter is estimated from the residuals, pooled over all elements); intervals with Student's t",
        }
    }
}

/// One fitted parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    /// Name: `a`, `b`, `c`, `a1` (empirical), `log10_k`, `n`, `z` (mass action).
    pub name: String,
    /// The element it belongs to (`None` for the shared n and z).
    pub element: Option<String>,
    /// Value at the optimum.
    pub value: f64,
    /// Standard error.
    pub std_error: f64,
    /// Lower end of the 95 % confidence interval.
    pub ci_low: f64,
    /// Upper end of the 95 % confidence interval.
    pub ci_high: f64,
}

impl Param {
    /// `Nd.a`, or `n` for a shared parameter.
    pub fn label(&self) -> String {
        match &self.element {
            Some(e) => format!("{e}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A parameter held fixed (not fitted), stated in the output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedParam {
    /// Name (`c`, `n`, `z`).
    pub name: String,
    /// Its value (for z at the ion charge, the charge of the first element).
    pub value: f64,
    /// Why it has this value.
    pub reason: String,
}

/// One measurement with its fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Residual {
    /// Line in the CSV.
    pub line: usize,
    /// Element.
    pub element: String,
    /// Equilibrium pH.
    pub ph: f64,
    /// Total extractant, mol/L.
    pub extractant: f64,
    /// Measured log10 D.
    pub log_d_measured: f64,
    /// Fitted log10 D.
    pub log_d_fitted: f64,
    /// Measured minus fitted.
    pub residual: f64,
    /// Residual divided by its sigma (given, or the estimated scatter).
    pub standardized: f64,
}

/// An adjacent separation factor with its confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SepFactor {
    /// The heavier element (higher atomic number).
    pub heavier: String,
    /// The lighter element.
    pub lighter: String,
    /// beta = D_heavier / D_lighter at the reference conditions.
    pub beta: f64,
    /// Standard error of log10 beta (delta method on the covariance).
    pub log10_std_error: f64,
    /// Lower end of the 95 % interval.
    pub ci_low: f64,
    /// Upper end of the 95 % interval.
    pub ci_high: f64,
}

/// Whether the optimizer converged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FitStatus {
    /// Converged (linear models: solved exactly).
    Converged,
    /// Levenberg-Marquardt stopped without meeting its tolerances.
    NotConverged,
}

/// The result of a fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitResult {
    /// The model fitted.
    pub model: ModelKind,
    /// Converged or not.
    pub status: FitStatus,
    /// How the optimum was found.
    pub method: String,
    /// Elements, in atomic-number order.
    pub elements: Vec<String>,
    /// The fitted parameters.
    pub params: Vec<Param>,
    /// Parameters held fixed.
    pub fixed: Vec<FixedParam>,
    /// Covariance matrix of `params` (same order).
    pub covariance: Vec<Vec<f64>>,
    /// How the covariance was obtained.
    pub covariance_basis: CovarianceBasis,
    /// Condition number of the (weighted, column-scaled) Jacobian at the optimum.
    pub condition_number: f64,
    /// Number of measurements.
    pub n_rows: usize,
    /// Residual degrees of freedom (rows minus parameters).
    pub dof: usize,
    /// Weighted sum of squared residuals.
    pub chi_square: f64,
    /// chi-square / dof.
    pub reduced_chi_square: f64,
    /// Coefficient of determination of log10 D (weighted).
    pub r_squared: f64,
    /// Root-mean-square residual of log10 D (unweighted).
    pub rms: f64,
    /// Quantile used for the 95 % intervals (t or normal).
    pub quantile_95: f64,
    /// One entry per measurement.
    pub residuals: Vec<Residual>,
    /// pH at which separation factors are stated.
    pub ref_ph: f64,
    /// Extractant concentration (mol/L) at which separation factors are stated.
    pub ref_extractant: f64,
    /// Adjacent separation factors (pairs of consecutive atomic number among the elements).
    pub betas: Vec<SepFactor>,
    /// Approximations the fit made, for the report.
    pub notes: Vec<String>,
}

impl FitResult {
    /// The parameter `name` of `element`, if fitted.
    pub fn param(&self, element: Option<&str>, name: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.name == name && p.element.as_deref() == element)
    }
}

/// Why a fit was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// The data cannot identify a parameter (too few distinct pH values, one extractant
    /// concentration, rank-deficient or ill-conditioned design).
    #[error("{}{reason}, {parameter} cannot be identified", element.as_ref().map(|e| format!("element {e}: ")).unwrap_or_default())]
    NotIdentified {
        /// Element, when the parameter is an element's.
        element: Option<String>,
        /// The parameter, in words (`slope a`).
        parameter: String,
        /// What in the data prevents it.
        reason: String,
        /// What measurement would fix it.
        help: String,
    },
    /// A row is outside what the model can describe (free extractant <= 0).
    #[error("line {line}: {message}")]
    BadRow {
        /// Line in the CSV.
        line: usize,
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: String,
    },
    /// An option is out of range (a reference pH that is not finite, n <= 0).
    #[error("{0}")]
    Options(String),
}

impl FitError {
    /// The hint that goes with the error.
    pub fn help(&self) -> Option<&str> {
        match self {
            FitError::NotIdentified { help, .. } | FitError::BadRow { help, .. } => Some(help),
            FitError::Options(_) => None,
        }
    }
}
