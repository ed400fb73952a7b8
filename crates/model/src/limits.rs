//! Resource limits of a flowsheet: the largest plant `check` accepts, so that absurd sizes are
//! refused with a diagnostic before anything downstream allocates for them.

/// Size limits applied while checking a flowsheet ([`crate::check_str_with`]).
///
/// A flowsheet over a limit is refused with error `E0004` naming the count, the limit and the
/// field of this struct that sets it. The defaults ([`Limits::DEFAULT`]) are far above real
/// plants (a full rare-earth separation has a dozen or more circuits and one to two thousand
/// stages) and keep the simulator's memory bounded: it holds a few dense
/// `elements x elements` blocks per stage, about 10 kB per stage with 16 elements, so the
/// default total of 100,000 stages stays near 1 GB at worst. Callers that need more may raise
/// any limit; the CLI uses the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most stages in one circuit (all its sections together).
    pub max_stages_per_circuit: usize,
    /// Most stages over all circuits of the flowsheet.
    pub max_total_stages: usize,
    /// Most `[[circuit]]` entries.
    pub max_circuits: usize,
    /// Most other entries together: `[[feed]]`, `[[unit]]`, `[[splitter]]`, `[[mixer]]`,
    /// `[[purge]]`, `[[product]]` and `[[link]]`.
    pub max_nodes: usize,
}

impl Limits {
    /// The limits `check_str` and the CLI apply.
    pub const DEFAULT: Limits = Limits {
        max_stages_per_circuit: 20_000,
        max_total_stages: 100_000,
        max_circuits: 1_000,
        max_nodes: 10_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
