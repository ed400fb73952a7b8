//! sxplan-sim: steady-state, stage-by-stage simulation of solvent-extraction flowsheets.
//!
//! Layers, bottom up:
//! - [`cascade`]: Xu's constant-separation-factor two-section cascade (the design shortcut's
//!   rigorous check), solved by block-tridiagonal Newton;
//! - [`kremser`]: the analytic Kremser solution of a constant-D countercurrent chain (test oracle
//!   and design formula);
//!
//! Numeric outcomes are statuses ([`SolveStatus`]), never errors: a solve that did not converge
//! returns its last iterate with its residuals and a status that says so. [`SimError`] is for
//! invalid input only.
//!
//! ```
//! use sxplan_sim::cascade::{solve_sf_cascade, FeedPhase, SfCascadeSpec};
//! use sxplan_sim::SolveStatus;
//! // Xu's example: beta = 2, equimolar aqueous feed, 24 extraction + 21 scrub stages.
//! let spec = SfCascadeSpec {
//!     beta: vec![2.0, 1.0],
//!     feed: vec![0.5, 0.5],
//!     feed_phase: FeedPhase::Aqueous,
//!     n_extraction: 24,
//!     n_scrub: 21,
//!     s: 1.708645,
//!     w: 1.208194,
//!     beta_scrub: None,
//! };
//! let r = solve_sf_cascade(&spec).unwrap();
//! assert_eq!(r.status, SolveStatus::Converged);
//! let p_a = r.organic_product[0] / r.organic_product.iter().sum::<f64>();
//! assert!((p_a - 0.9989927).abs() < 1e-6);
//! ```

pub mod budget;
pub mod cascade;
pub mod chain;
pub mod equilibrium;
pub mod kremser;
pub mod results;
mod simulate;

pub use budget::{Budget, Deadline};
pub use chain::Algorithm;
pub use results::{BudgetReport, BudgetSpent, ProgressFn, RecycleProgress, SimOptions, SimResult};
pub use simulate::{
    CircuitState, CircuitTangent, PlantState, Simulator, StageFlows, StagePort, StateTangent,
};
mod bounded_ma;
mod diagnose;
mod linalg;
mod reduced;

use serde::Serialize;

/// Outcome of an iterative solve.
///
/// `Converged` is reported only when the residuals are below the tolerance; any other outcome
/// carries the last iterate and its residuals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    /// Residuals are below the tolerance.
    Converged,
    /// The iteration budget ran out before the residuals fell below the tolerance.
    IterationLimit,
    /// The run's wall-time budget ran out before the residuals fell below the tolerance.
    TimeLimit,
    /// The iteration failed: a singular Jacobian, a non-finite value, or no descent possible.
    Diverged,
    /// No physical steady state: the model's state has a mass-action or empirical stage above
    /// the pH where rare-earth hydroxides precipitate, or a circuit that did not converge
    /// violates its acid/base budget (`sxplan_model::acid_budget`). The result's
    /// `diagnostics.acid_base` says why, with numbers.
    Infeasible,
}

impl SolveStatus {
    /// Lowercase name used in text and JSON output (`converged`, `iteration_limit`, `time_limit`, `diverged`,
    /// `infeasible`).
    pub fn as_str(self) -> &'static str {
        match self {
            SolveStatus::Converged => "converged",
            SolveStatus::IterationLimit => "iteration_limit",
            SolveStatus::TimeLimit => "time_limit",
            SolveStatus::Diverged => "diverged",
            SolveStatus::Infeasible => "infeasible",
        }
    }

    /// True only for [`SolveStatus::Converged`].
    pub fn is_converged(self) -> bool {
        self == SolveStatus::Converged
    }
}

impl std::fmt::Display for SolveStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the simulation crate: the input cannot be simulated as given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A specification field has an invalid value (wrong length, negative, non-finite,
    /// inconsistent flows); the message names the field and the value.
    #[error("{field}: {message}")]
    InvalidSpec {
        /// Name of the offending field (for example `beta[2]` or `circuit "PrNd" stage 3`).
        field: String,
        /// What is wrong with it, naming the value.
        message: String,
    },
    /// The flowsheet cannot be expanded into a stage graph (the message of the graph error).
    #[error("stage graph: {0}")]
    Graph(String),
}

/// Simulates a whole flowsheet at steady state: every stage of every circuit, recycles
/// converged, with products, reagents, mass balance and solver diagnostics.
///
/// `Err` only for input that cannot be simulated (invalid numbers, a stage no aqueous reaches,
/// a graph that cannot be built); numeric outcomes are in [`SimResult::status`].
pub fn simulate(
    flowsheet: &sxplan_model::Flowsheet,
    options: &SimOptions,
) -> Result<SimResult, SimError> {
    simulate::run(flowsheet, options)
}

impl SimError {
    pub(crate) fn spec(field: impl Into<String>, message: impl Into<String>) -> SimError {
        SimError::InvalidSpec {
            field: field.into(),
            message: message.into(),
        }
    }
}
