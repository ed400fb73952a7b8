//! `--time-limit` and `--max-iterations`: the run budget of `simulate`, `optimize` and `design`,
//! and the one clock of the CLI.
//!
//! A budget is taken from the command line first, then from the flowsheet's `[solver]` table,
//! then from the defaults of [`sxplan_sim::Budget`] (60 s, 1,000,000 iterations).

/// Budget flags shared by the commands that run solvers.
#[derive(Debug, Clone, Copy, Default, PartialEq, clap::Args)]
pub struct BudgetArgs {
    /// Wall-time budget of the run: `30s`, `2min`, `0.5h`, or a bare number of seconds
    /// (overrides `[solver] time_limit`; default 60 s). When spent, the run ends with status
    /// `time_limit` and exit code 1.
    #[arg(long, value_name = "TIME", value_parser = parse_time_limit)]
    pub time_limit: Option<f64>,
    /// Iteration budget of the run (chain iterations summed over the run, recycle iterations
    /// included); overrides `[solver] max_iterations`; default 1000000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000))]
    pub max_iterations: Option<u64>,
}

impl BudgetArgs {
    /// The limits the flags give (the facade fills the rest from `[solver]` and defaults).
    pub fn limits(&self) -> crate::api::RunLimits {
        crate::api::RunLimits {
            time_limit_s: self.time_limit,
            max_iterations: self.max_iterations.and_then(|n| usize::try_from(n).ok()),
        }
    }
}

/// Seconds since the first call (the CLI's one clock; the libraries never read one).
pub fn clock() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// `--time-limit`: a time with a unit (`30s`, `30 s`, `2min`, `1h`) or bare seconds, within
/// the plausible range of a run time limit.
fn parse_time_limit(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let seconds = match t.parse::<f64>() {
        Ok(v) => v,
        Err(_) => {
            // units::expect wants "30 s": put a space between the number and the unit
            let at = t
                .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
                .unwrap_or(t.len());
            let spaced = format!("{} {}", t[..at].trim(), t[at..].trim());
            let hours = sxplan_chem::units::expect(&spaced, sxplan_chem::units::Dimension::Time)
                .map_err(|e| format!("{e} (write e.g. 30s, 2min or 1h)"))?;
            hours * 3600.0
        }
    };
    let p = &sxplan_model::plausible::RUN_TIME;
    if !(seconds.is_finite() && seconds >= p.error_min && seconds <= p.error_max) {
        return Err(format!(
            "{seconds:e} s is outside {:e} s..={:e} s",
            p.error_min, p.error_max
        ));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_parse_with_and_without_units() {
        assert_eq!(parse_time_limit("30s"), Ok(30.0));
        assert_eq!(parse_time_limit("30 s"), Ok(30.0));
        assert_eq!(parse_time_limit("2min"), Ok(120.0));
        assert_eq!(parse_time_limit("1.5"), Ok(1.5));
        assert_eq!(parse_time_limit("1e1 s"), Ok(10.0));
        assert!(parse_time_limit("0").is_err());
        assert!(parse_time_limit("1e308").unwrap_err().contains("1e308 s"));
        assert!(parse_time_limit("3 m3").is_err());
        assert!(parse_time_limit("soon").is_err());
    }
}
