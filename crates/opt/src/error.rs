//! The one error type of sxplan-opt: bad input (an ill-formed LP, an unusable flowsheet) or a broken backend.
//!
//! Numeric outcomes (infeasible, unbounded, iteration limit, stalled) are statuses in the results, not errors.

/// Errors of the optimization crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptError {
    /// A linear program refers to a variable that does not exist, or holds a non-finite coefficient,
    /// bound or right-hand side, or a lower bound above its upper bound.
    #[error("lp {what}: {message}")]
    InvalidLp {
        /// The offending row or variable (its name).
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// The requested solver backend is not compiled into this build.
    #[error("solver backend \"{0}\" is not enabled in this build (enable the cargo feature of the same name)")]
    BackendUnavailable(String),
    /// The solver backend failed for a reason that is not a numeric outcome (setup error, bad dimensions).
    #[error("solver backend \"{backend}\" failed: {message}")]
    Backend {
        /// Backend name.
        backend: String,
        /// The backend's message.
        message: String,
    },
    /// The flowsheet cannot be optimized as given (no free operating variable, an unknown name in the
    /// optimize settings, a spec that refers to nothing).
    #[error("{0}")]
    InvalidProblem(String),
    /// The simulator returned an error at a point the optimizer asked for.
    #[error("simulation failed: {0}")]
    Simulation(String),
}

impl From<sxplan_model::OperatingError> for OptError {
    /// An operating variable the flowsheet does not have (or cannot take) is an unusable problem.
    fn from(e: sxplan_model::OperatingError) -> Self {
        OptError::InvalidProblem(e.to_string())
    }
}
