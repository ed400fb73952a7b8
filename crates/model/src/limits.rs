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

/// The plausible range of one kind of physical quantity, which `check` enforces on every
/// value of that kind: outside `error_min..=error_max` a located error (`E0208`), outside
/// `warn_min..=warn_max` but inside the error range a located warning (`W0209`). Zero is
/// judged by the value's own rule (a flow of 0 is allowed, a separation factor of 0 is not);
/// these ranges bound its magnitude otherwise. Bounds are in [`Plausible::unit`]; `scale`
/// converts the internal unit into it.
///
/// The error bounds are where a value stops being physics (more solute than the salt's
/// solubility, more extractant than the neat liquid, a flow beyond any river) or where the
/// simulator's arithmetic would leave f64 (a separation factor of 1e30 raised over a cascade);
/// the warning bounds enclose every plant and laboratory circuit we know of. docs/hardening.md
/// lists them with their basis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plausible {
    /// What the range is for, in messages: `a volumetric flow`.
    pub name: &'static str,
    /// Unit the bounds are written in.
    pub unit: &'static str,
    /// Internal-unit value per `unit` (1000 for m3/h over the internal L/h).
    pub scale: f64,
    /// Smallest non-zero magnitude accepted.
    pub error_min: f64,
    /// Smallest non-zero magnitude accepted without a warning.
    pub warn_min: f64,
    /// Largest magnitude accepted without a warning.
    pub warn_max: f64,
    /// Largest magnitude accepted.
    pub error_max: f64,
    /// Why the bounds are where they are (shown as the diagnostic's help).
    pub basis: &'static str,
}

/// The plausible ranges `check` applies, one per kind of quantity (see [`Plausible`]).
pub mod plausible {
    use super::Plausible;

    /// Volumetric flows: feeds, organic, scrub, strip and other solutions, capacities.
    pub const FLOW_VOL: Plausible = Plausible {
        name: "a volumetric flow",
        unit: "m3/h",
        scale: 1000.0,
        error_min: 1e-9,
        warn_min: 1e-6,
        warn_max: 1e4,
        error_max: 1e8,
        basis: "flows are 1 uL/h to 1e8 m3/h (a third of the Amazon's discharge); plants and laboratory circuits run 1 mL/h to 10,000 m3/h",
    };
    /// Mass flows: mud feeds, unit throughputs.
    pub const FLOW_MASS: Plausible = Plausible {
        name: "a mass flow",
        unit: "t/h",
        scale: 1000.0,
        error_min: 1e-12,
        warn_min: 1e-9,
        warn_max: 1e4,
        error_max: 1e6,
        basis: "mass flows are 1 mg/h to 1e6 t/h; the largest mines move about 1e4 t/h",
    };
    /// Any molar concentration (the ceiling of neat nitric acid, about 24 mol/L).
    pub const CONC_MOLAR: Plausible = Plausible {
        name: "a molar concentration",
        unit: "mol/L",
        scale: 1.0,
        error_min: 1e-20,
        warn_min: 1e-15,
        warn_max: 16.0,
        error_max: 24.0,
        basis: "no solution in solvent extraction is more concentrated than neat nitric acid (about 24 mol/L); below 1e-20 mol/L a litre holds fewer than 10,000 ions",
    };
    /// A rare earth's concentration in a feed solution, per element and in total.
    pub const CONC_REE: Plausible = Plausible {
        name: "a dissolved-metal concentration",
        unit: "mol/L",
        scale: 1.0,
        error_min: 1e-20,
        warn_min: 1e-15,
        warn_max: 2.5,
        error_max: 6.0,
        basis: "rare-earth chlorides and nitrates saturate at about 3.5 to 5 mol per kg of water at 25 C (CRC Handbook, aqueous solubility of inorganic compounds), so no feed holds more than 6 mol/L of rare earths; SX feeds carry 0.1 to 1.8 mol/L",
    };
    /// Acid strength of a scrub, strip or other solution and a feed's acidity.
    pub const CONC_ACID: Plausible = Plausible {
        name: "an acid concentration",
        unit: "mol/L",
        scale: 1.0,
        error_min: 1e-16,
        warn_min: 1e-16,
        warn_max: 12.5,
        error_max: 24.0,
        basis: "concentrated hydrochloric acid is about 12 mol/L, 98 % sulfuric acid 18.4 mol/L, neat nitric acid 24 mol/L; stripping heavy rare earths takes up to 6 mol/L",
    };
    /// Extractant concentration in the organic phase, and loading capacities.
    pub const CONC_EXTRACTANT: Plausible = Plausible {
        name: "an extractant concentration",
        unit: "mol/L",
        scale: 1.0,
        error_min: 1e-9,
        warn_min: 1e-3,
        warn_max: 2.0,
        error_max: 4.0,
        basis: "neat P507 and D2EHPA are about 3.1 mol/L (molar mass 306 and 322 g/mol, density 0.95 and 0.97 g/mL), so no organic holds more than 4 mol/L; circuits run 0.05 to 1.8 mol/L in kerosene",
    };
    /// Mass concentrations (g/L).
    pub const CONC_MASS: Plausible = Plausible {
        name: "a mass concentration",
        unit: "g/L",
        scale: 1.0,
        error_min: 1e-18,
        warn_min: 1e-12,
        warn_max: 500.0,
        error_max: 2000.0,
        basis: "no aqueous solution holds more than 2,000 g/L of solute (the densest brines are about 1,500 g/L); SX feeds carry 20 to 300 g/L REO",
    };
    /// Relative extractabilities (separation-factor model `beta`).
    pub const BETA: Plausible = Plausible {
        name: "a separation factor",
        unit: "",
        scale: 1.0,
        error_min: 1e-12,
        warn_min: 1e-6,
        warn_max: 1e6,
        error_max: 1e12,
        basis: "relative extractabilities of the rare earths with one extractant span about five decades (adjacent pairs 1.1 to 3, at most 2.9 on average: chemistry.md section 1.1); beyond 1e12 a cascade's powers of beta leave f64",
    };
    /// Distribution ratios D.
    pub const D_RATIO: Plausible = Plausible {
        name: "a distribution ratio",
        unit: "",
        scale: 1.0,
        error_min: 1e-20,
        warn_min: 1e-8,
        warn_max: 1e8,
        error_max: 1e20,
        basis: "measured distribution ratios lie between about 1e-4 and 1e4; beyond 1e20 (or under 1e-20, write 0 for an element that is not extracted) the stage arithmetic loses every digit",
    };
    /// Mass-action extraction constants K_ex.
    pub const K_EX: Plausible = Plausible {
        name: "an extraction constant",
        unit: "",
        scale: 1.0,
        error_min: 1e-30,
        warn_min: 1e-12,
        warn_max: 1e12,
        error_max: 1e30,
        basis: "log K_ex of acidic organophosphorus extractants lies between about -6 and +6 for the rare earths (chemistry.md section 1.1); beyond 1e30 the power law leaves f64 at ordinary acidities",
    };
    /// Xu's extraction ratios of a section.
    pub const EXTRACTION_RATIO: Plausible = Plausible {
        name: "an extraction ratio",
        unit: "",
        scale: 1.0,
        error_min: 1e-6,
        warn_min: 1e-2,
        warn_max: 100.0,
        error_max: 1e6,
        basis: "optimum extraction ratios are 1/sqrt(beta) and sqrt(beta), 0.3 to 3 for real pairs",
    };
    /// Protons released per ion extracted (mass action `z_proton`).
    pub const PROTONS_PER_ION: Plausible = Plausible {
        name: "a proton count per ion",
        unit: "",
        scale: 1.0,
        error_min: 0.5,
        warn_min: 1.0,
        warn_max: 4.0,
        error_max: 6.0,
        basis: "a cation exchanger releases one proton per unit of the ion's charge: 3 for the trivalent rare earths, 4 for Ce(IV), 2 for Eu(II) and Ca; fitted slopes of log D against pH lie between about 2 and 3.5",
    };
    /// Extractant dimers bound per ion (mass action `n_extractant`).
    pub const DIMERS_PER_ION: Plausible = Plausible {
        name: "a dimer count per ion",
        unit: "",
        scale: 1.0,
        error_min: 0.1,
        warn_min: 1.0,
        warn_max: 6.0,
        error_max: 12.0,
        basis: "acidic organophosphorus extractants bind a trivalent rare earth as M(HA2)3, three dimers per ion; fitted exponents lie between about 1.5 and 3.5",
    };
    /// Coefficients of the empirical model log10 D = a pH + b (+ c log10 extractant).
    pub const LOG_D_COEFFICIENT: Plausible = Plausible {
        name: "a log D coefficient",
        unit: "",
        scale: 1.0,
        error_min: 0.0,
        warn_min: 0.0,
        warn_max: 10.0,
        error_max: 50.0,
        basis: "published fits have slopes of 0.3 to 3.5 per pH and intercepts of -3 to +3 (chemistry.md section 1.4); beyond 50 log D leaves f64 over the pH range",
    };
    /// Oxide and reagent prices.
    pub const PRICE: Plausible = Plausible {
        name: "a price",
        unit: "US$/kg",
        scale: 1.0,
        error_min: 1e-9,
        warn_min: 1e-6,
        warn_max: 1e4,
        error_max: 1e7,
        basis: "the dearest rare-earth oxide ever quoted is Tb4O7 at about US$2,800/kg (2011, USGS MCS 2016); reagents cost cents to dollars per kg",
    };
    /// Bare numbers without a range of their own (operating cost, exponents, volume percent).
    pub const NUMBER: Plausible = Plausible {
        name: "a number",
        unit: "",
        scale: 1.0,
        error_min: 1e-30,
        warn_min: 1e-30,
        warn_max: 1e30,
        error_max: 1e30,
        basis: "a flowsheet number beyond 1e30 (or a non-zero one under 1e-30) is a typo or an attack, and its products leave f64",
    };
    /// Fractions (split, saponification, purity, Murphree efficiency): bounded by 0..=1
    /// already; a non-zero one under 1e-30 is refused as a subnormal-range typo, one under
    /// 1e-12 warned about (an optimizer's write-back can round a vanishing saponification to
    /// 1e-14: that is a plant, not a typo).
    pub const FRACTION: Plausible = Plausible {
        name: "a fraction",
        unit: "",
        scale: 1.0,
        error_min: 1e-30,
        warn_min: 1e-12,
        warn_max: 1.0,
        error_max: 1.0,
        basis: "write 0, or a fraction of at least 1e-30 (under 1e-12 is unusual)",
    };
    /// Volumes (mixer volumes), in m3.
    pub const VOLUME: Plausible = Plausible {
        name: "a volume",
        unit: "m3",
        scale: 1000.0,
        error_min: 1e-9,
        warn_min: 1e-6,
        warn_max: 1e4,
        error_max: 1e7,
        basis: "mixers hold 1 mL (laboratory) to a few hundred m3",
    };
    /// Times (residence times), in h.
    pub const TIME: Plausible = Plausible {
        name: "a time",
        unit: "h",
        scale: 1.0,
        error_min: 1e-9,
        warn_min: 1e-5,
        warn_max: 1e3,
        error_max: 1e6,
        basis: "mixer residence times are seconds to an hour",
    };
    /// The wall-time limit of a run (`[solver] time_limit`), in h internally, written in s.
    pub const RUN_TIME: Plausible = Plausible {
        name: "a run time limit",
        unit: "s",
        scale: 1.0 / 3600.0,
        error_min: 1e-3,
        warn_min: 0.1,
        warn_max: 86_400.0,
        error_max: 604_800.0,
        basis: "a run is budgeted from a fraction of a second (tests) to a day; a week or more is a mistake",
    };
    /// Every range, for docs and tests.
    pub const ALL: &[&Plausible] = &[
        &FLOW_VOL,
        &FLOW_MASS,
        &CONC_MOLAR,
        &CONC_REE,
        &CONC_ACID,
        &CONC_EXTRACTANT,
        &CONC_MASS,
        &BETA,
        &D_RATIO,
        &K_EX,
        &EXTRACTION_RATIO,
        &PROTONS_PER_ION,
        &DIMERS_PER_ION,
        &LOG_D_COEFFICIENT,
        &PRICE,
        &NUMBER,
        &FRACTION,
        &VOLUME,
        &TIME,
        &RUN_TIME,
    ];
}
