//! Run budgets: the iteration and wall-time limits of one simulation run ([`Budget`]), and the
//! point in time every long loop checks ([`Deadline`]). The CLI's `simulate` applies them to
//! the run; `optimize` the deadline to the whole run and the iterations to each simulation;
//! `design` the deadline to the whole search and the iterations to its simulated candidates.
//!
//! The library never reads a clock itself: the caller (the CLI) passes a clock function into
//! [`Budget::start`], and a [`Deadline`] without a clock never passes. One deadline is made per
//! run and handed down (simulator -> chains), so nested work shares the budget.

/// Limits of one run.
///
/// | field | TOML (`[solver]`) | CLI | default |
/// |---|---|---|---|
/// | `time_limit_s` | `time_limit = "60 s"` | `--time-limit 60s` | 60 s |
/// | `max_iterations` | `max_iterations = 1000000` | `--max-iterations N` | 1,000,000 |
///
/// An iteration is a chain Newton iteration, continuation step or substitution pass, summed
/// over every chain solve of the run (recycle iterations repeat chain solves and so count
/// through them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Wall time, s (finite, > 0).
    pub time_limit_s: f64,
    /// Iterations (see the type's documentation), >= 1.
    pub max_iterations: usize,
}

impl Budget {
    /// Default wall time, s: fits a 5,000-stage plant comfortably on 2 cores (the 2,000-stage
    /// benchmarks simulate in well under a second per chain).
    pub const DEFAULT_TIME_LIMIT_S: f64 = 60.0;
    /// Default iteration budget.
    pub const DEFAULT_MAX_ITERATIONS: usize = 1_000_000;
    /// Largest accepted time limit, s (one week): a longer run is a mistake, and the limit must
    /// stay far from where `f64` seconds lose sub-second precision.
    pub const MAX_TIME_LIMIT_S: f64 = 604_800.0;

    /// The deadline of a run starting now by `clock` (seconds since any fixed instant);
    /// `None`: a deadline that never passes.
    pub fn start(&self, clock: Option<fn() -> f64>) -> Deadline {
        match clock {
            Some(c) => {
                let start = c();
                Deadline {
                    clock: Some(c),
                    start,
                    end: start + self.time_limit_s,
                }
            }
            None => Deadline::NONE,
        }
    }

    /// Why the values cannot be a budget, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.time_limit_s > 0.0 && self.time_limit_s <= Self::MAX_TIME_LIMIT_S) {
            return Err(format!(
                "time limit must be > 0 s and <= {} s, got {:e} s",
                Self::MAX_TIME_LIMIT_S,
                self.time_limit_s
            ));
        }
        if self.max_iterations == 0 {
            return Err("max iterations must be >= 1, got 0".to_string());
        }
        Ok(())
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            time_limit_s: Self::DEFAULT_TIME_LIMIT_S,
            max_iterations: Self::DEFAULT_MAX_ITERATIONS,
        }
    }
}

/// The end of a run's wall-time budget, read from the clock the caller passed in.
///
/// Cheap to copy and to check (one clock call), so loops check it every iteration.
#[derive(Clone, Copy)]
pub struct Deadline {
    clock: Option<fn() -> f64>,
    start: f64,
    end: f64,
}

impl Deadline {
    /// A deadline that never passes (no clock).
    pub const NONE: Deadline = Deadline {
        clock: None,
        start: 0.0,
        end: f64::INFINITY,
    };

    /// True once the time is spent.
    pub fn passed(&self) -> bool {
        match self.clock {
            Some(c) => c() >= self.end,
            None => false,
        }
    }

    /// Seconds since the run started (0 without a clock).
    pub fn elapsed_s(&self) -> f64 {
        self.clock.map_or(0.0, |c| (c() - self.start).max(0.0))
    }

    /// The time limit, s (infinite without a clock).
    pub fn limit_s(&self) -> f64 {
        self.end - self.start
    }

    /// True when the deadline reads a clock (timings can be reported).
    pub fn has_clock(&self) -> bool {
        self.clock.is_some()
    }

    /// The current time of the deadline's clock (0 without one).
    pub fn now(&self) -> f64 {
        self.clock.map_or(0.0, |c| c())
    }
}

impl Default for Deadline {
    fn default() -> Self {
        Deadline::NONE
    }
}

impl std::fmt::Debug for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadline")
            .field("clock", &self.clock.is_some())
            .field("limit_s", &self.limit_s())
            .finish()
    }
}

/// Deadlines compare by their limit only (a clock is a function pointer, which has no
/// meaningful equality).
impl PartialEq for Deadline {
    fn eq(&self, other: &Self) -> bool {
        self.clock.is_some() == other.clock.is_some() && self.limit_s() == other.limit_s()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frozen() -> f64 {
        100.0
    }

    #[test]
    fn no_clock_never_passes_and_a_zero_budget_has_passed() {
        assert!(!Deadline::NONE.passed());
        assert!(!Budget::default().start(None).passed());
        let d = Budget {
            time_limit_s: 1.0,
            max_iterations: 1,
        }
        .start(Some(frozen));
        assert!(!d.passed());
        assert_eq!(d.elapsed_s(), 0.0);
        assert_eq!(d.limit_s(), 1.0);
    }

    #[test]
    fn validation_names_the_value() {
        let b = Budget {
            time_limit_s: 0.0,
            max_iterations: 1,
        };
        assert!(b.validate().unwrap_err().contains("got 0e0 s"));
        let b = Budget {
            time_limit_s: 1.0,
            max_iterations: 0,
        };
        assert!(b.validate().is_err());
        assert!(Budget::default().validate().is_ok());
    }
}

/// The iterations a chain solve may still spend out of the run's budget, counted as they are
/// spent: every Newton iteration, continuation step and substitution pass of a chain (and of
/// the shortened chains it starts from, which share the count) adds one, and the solvers stop
/// once the allowance is used, as they stop at the [`Deadline`]. The default never runs out.
#[derive(Clone, Debug)]
pub struct IterationAllowance {
    used: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    cap: usize,
}

impl IterationAllowance {
    /// An allowance of `cap` iterations.
    pub fn new(cap: usize) -> IterationAllowance {
        IterationAllowance {
            used: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            cap,
        }
    }

    /// Counts one iteration.
    pub fn spend(&self) {
        self.used.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// True once the allowance is used.
    pub fn exhausted(&self) -> bool {
        self.used.load(std::sync::atomic::Ordering::Relaxed) >= self.cap
    }
}

impl Default for IterationAllowance {
    fn default() -> Self {
        IterationAllowance::new(usize::MAX)
    }
}
