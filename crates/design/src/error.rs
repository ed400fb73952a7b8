//! The error type of sxplan-design: invalid design input or a broken simulator call.

/// Everything that can go wrong before a design can be computed.
///
/// Numeric outcomes (a reflux below the minimum, a stage limit reached) are not errors: they are
/// statuses in the result. `Err` means the input is invalid or the simulator rejected a spec
/// this crate built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// A scalar input is outside its valid range (NaN, infinite, negative, or a fraction outside 0..1).
    #[error("{name}: {value} is invalid, expected {expected}")]
    InvalidValue {
        /// The input's name, e.g. `purity_a`.
        name: String,
        /// The offending value.
        value: f64,
        /// What a valid value looks like, e.g. `a number in (0, 1)`.
        expected: &'static str,
    },
    /// The component list is empty, has fewer than two components, or a key is missing.
    #[error("components: {0}")]
    Components(String),
    /// The purities cannot be reached by any split of this feed (e.g. P_B below the feed's B fraction).
    #[error("purities: {0}")]
    Unreachable(String),
    /// The simulator rejected a cascade spec built by the design (a bug or an extreme input).
    #[error("cascade simulation n = {n_extraction}, m = {n_scrub}: {message}")]
    Simulation {
        /// Extraction stages of the rejected spec.
        n_extraction: usize,
        /// Scrub stages of the rejected spec.
        n_scrub: usize,
        /// The simulator's message.
        message: String,
    },
    /// The run's budget was spent (used inside the search, which turns it into
    /// [`crate::SearchStatus::BudgetSpent`]).
    #[error("the run's budget was spent")]
    BudgetSpent,
}

/// Checks that `value` is finite and strictly positive.
pub(crate) fn positive(name: &str, value: f64) -> Result<f64, DesignError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(DesignError::InvalidValue {
            name: name.to_string(),
            value,
            expected: "a finite number > 0",
        })
    }
}

/// Checks that `value` lies strictly between 0 and 1.
pub(crate) fn open_fraction(name: &str, value: f64) -> Result<f64, DesignError> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(DesignError::InvalidValue {
            name: name.to_string(),
            value,
            expected: "a number in (0, 1)",
        })
    }
}
