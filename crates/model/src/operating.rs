//! The operating variables `sxplan optimize` may move, all in this file: the kinds and their
//! table (TOML `var` name, what `of` names, measure and user unit, where the value is written
//! in the flowsheet's TOML), reading and writing a variable on a [`Flowsheet`], and writing an
//! optimized point back into the flowsheet's source text, comments kept.
//!
//! A new operating variable is added here only: a variant of [`OperatingVar`] and its arms in
//! [`OperatingVar::kind`], [`OperatingVar::target`] and [`OperatingVar::new`], a row in the
//! `kinds!` table below, and its arms in the value accessors (`value`, [`set`]). The compiler
//! points at each `match`; `[optimize] free = [...]` parses its name through the table, and the test `every_kind_round_trips_on_the_shipped_flowsheets`
//! fails until a shipped flowsheet has the variable and its write-back reads back the same value.
//!
//! ```
//! use sxplan_model::operating::{self, OperatingVarKind};
//! use sxplan_model::{CircuitId, OperatingVar};
//!
//! let kind: OperatingVarKind = "organic_flow".parse().unwrap();
//! assert_eq!(kind, OperatingVarKind::OrganicFlow);
//! assert!(OperatingVar::OrganicFlow(CircuitId(0)).is_volumetric_flow());
//! let src = r#"
//! schema = 1
//! name = "demo"
//!
//! [[feed]]
//! name = "liquor"
//! flow = "1 m3/h"
//! conc = { Pr = "0.25 mol/L", Nd = "0.75 mol/L" }
//! to = "PrNd.feed"
//!
//! [[circuit]]
//! name = "PrNd"
//! sections = [{ kind = "extraction", stages = 24 }, { kind = "scrub", stages = 21 }]
//! organic = { extractant = "P507", conc = "1.5 mol/L", flow = "3 m3/h" }  # illustrative
//! scrub = { acid = "HCl", conc = "4 mol/L", flow = "0.3 m3/h" }
//! equilibrium = { model = "distribution", d = { Pr = 0.8, Nd = 1.2 }, quality = "illustrative" }
//! "#;
//! let fs = sxplan_model::check_str(src).flowsheet.unwrap();
//! let v = OperatingVar::OrganicFlow(CircuitId(0));
//! assert_eq!(operating::name(&fs, v), "circuit PrNd organic flow");
//! assert_eq!(operating::get(&fs, v), Ok(3000.0)); // L/h
//! let values = [(v, 3500.0)];
//! let optimized = operating::apply(&fs, &values).unwrap();
//! let text = operating::optimized_toml(src, &optimized, &values).unwrap();
//! assert!(text.contains(r#"flow = "3.5 m3/h" }  # illustrative"#));
//! ```

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sxplan_chem::Dimension;

use crate::flowsheet::{
    AqueousSolution, Circuit, CircuitId, Equilibrium, Feed, FeedId, FeedKind, Flowsheet,
    SectionKind, SectionLoading, Splitter, SplitterId,
};

/// An operating variable the optimizer may move: a kind ([`OperatingVar::kind`]) at a target
/// ([`OperatingVar::target`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "var", content = "of", rename_all = "snake_case")]
pub enum OperatingVar {
    /// Feed rate (L/h for solution feeds, t/h for mud).
    FeedRate(FeedId),
    /// Organic flow of a circuit, L/h.
    OrganicFlow(CircuitId),
    /// Scrub solution flow, L/h.
    ScrubFlow(CircuitId),
    /// Strip solution flow, L/h.
    StripFlow(CircuitId),
    /// Fraction to one outlet of a splitter (the others scale proportionally).
    SplitFraction(SplitterId, usize),
    /// Saponification fraction of a circuit's organic.
    Saponification(CircuitId),
    /// Scrub acid concentration, mol/L.
    ScrubAcid(CircuitId),
    /// Strip acid concentration, mol/L.
    StripAcid(CircuitId),
    /// Mixed extraction ratio E (organic REE flow / aqueous REE flow) of one section of a
    /// separation-factor circuit: (circuit, section index).
    ExtractionRatio(CircuitId, usize),
}

/// What the `of` of an operating variable names, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// A feed (`of = "liquor"`).
    Feed,
    /// A circuit (`of = "PrNd"`).
    Circuit,
    /// One outlet of a splitter (`of = "reflux.to_scrub"`).
    SplitterOutlet,
    /// One section of a circuit (`of = "PrNd.scrub"`).
    CircuitSection,
}

impl TargetKind {
    /// The `[[array]]` of the flowsheet the target is an element of.
    pub fn array(self) -> &'static str {
        match self {
            TargetKind::Feed => "feed",
            TargetKind::Circuit | TargetKind::CircuitSection => "circuit",
            TargetKind::SplitterOutlet => "splitter",
        }
    }

    /// What `of` must name, in words (`"a splitter outlet (\"splitter.outlet\")"`).
    pub fn wants(self) -> &'static str {
        match self {
            TargetKind::Feed => "a feed",
            TargetKind::Circuit => "a circuit",
            TargetKind::SplitterOutlet => "a splitter outlet (\"splitter.outlet\")",
            TargetKind::CircuitSection => "a circuit section (\"circuit.section\")",
        }
    }
}

/// What the `of` of one operating variable names, resolved to ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A feed.
    Feed(FeedId),
    /// A circuit.
    Circuit(CircuitId),
    /// Outlet `.1` (index into [`Splitter::outlets`]) of a splitter.
    SplitterOutlet(SplitterId, usize),
    /// Section `.1` (index into [`Circuit::sections`]) of a circuit.
    CircuitSection(CircuitId, usize),
}

impl Target {
    /// The kind of target.
    pub fn kind(self) -> TargetKind {
        match self {
            Target::Feed(_) => TargetKind::Feed,
            Target::Circuit(_) => TargetKind::Circuit,
            Target::SplitterOutlet(..) => TargetKind::SplitterOutlet,
            Target::CircuitSection(..) => TargetKind::CircuitSection,
        }
    }
}

/// What an operating variable measures: its bounds' dimension, its user unit, and whether it is
/// a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// A flow: internal L/h, user m3/h; for a mud feed internal and user t/h. Bounds are a
    /// volumetric flow (a mass flow for a mud feed). Stage volumes are linear in it and it
    /// scales with the plant's throughput.
    Flow,
    /// A fraction 0..=1 (user unit `-`); bounds are fractions (`0.4`, `"40 %"`).
    Fraction,
    /// A molar concentration, mol/L.
    Concentration,
    /// A plain number (user unit `-`).
    Ratio,
}

impl Measure {
    /// Dimension of the `min`/`max` bounds; `None` for a flow (volumetric, or mass for mud).
    pub fn bound_dimension(self) -> Option<Dimension> {
        match self {
            Measure::Flow => None,
            Measure::Fraction => Some(Dimension::Fraction),
            Measure::Concentration => Some(Dimension::MolarConcentration),
            Measure::Ratio => Some(Dimension::Dimensionless),
        }
    }

    /// User unit label and internal units per user unit (`("m3/h", 1000.0)`); `mud`: the
    /// variable is the rate of a mud feed.
    fn user_unit(self, mud: bool) -> (&'static str, f64) {
        match self {
            Measure::Flow if mud => ("t/h", 1.0),
            Measure::Flow => ("m3/h", 1000.0),
            Measure::Concentration => ("mol/L", 1.0),
            Measure::Fraction | Measure::Ratio => ("-", 1.0),
        }
    }
}

/// One segment of the TOML key path an operating variable is written at, inside the
/// `[[array]]` element its target names (an inline table or a sub-table header alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A literal key (`"organic"`, `"flow"`).
    Lit(&'static str),
    /// The name of the target section ([`Target::CircuitSection`]).
    Section,
    /// The name of the first section of the kind's [`KindInfo::section`] kind: the table of
    /// the solution the variable sets (`scrub = { ... }`).
    Solution,
    /// Every outlet name of the target splitter, each written with its fraction in the
    /// optimized flowsheet (moving one outlet rescales the others).
    EveryOutlet,
}

/// How an operating variable's value is written in TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Text {
    /// A quoted quantity in the user unit (`"3.5 m3/h"`, `"12 t/h"`, `"2.25 mol/L"`).
    Unit,
    /// A quoted percentage (`"37.5 %"`).
    Percent,
    /// A bare number (`0.45`).
    Number,
}

/// One row of the operating-variable table ([`OperatingVarKind::info`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindInfo {
    /// TOML name in `[optimize] free = [{ var = "..." }]`.
    pub var: &'static str,
    /// What `of` must name.
    pub of: TargetKind,
    /// What the variable measures (bounds, user unit, flow or not).
    pub measure: Measure,
    /// The words after the target in the variable's name ("organic flow": "circuit PrNd
    /// organic flow").
    pub label: &'static str,
    /// What the target must have for the variable to exist, for diagnostics ("scrub solution").
    pub needs: &'static str,
    /// Help when it lacks it (`{section}` stands for the target section's name).
    pub needs_help: &'static str,
    /// For a variable of a section's solution: the kind of section (the first of that kind in
    /// the circuit holds the solution).
    pub section: Option<SectionKind>,
    /// Key path of the value inside the target's `[[array]]` element.
    pub key: &'static [Key],
    /// How the value is written.
    pub text: Text,
}

/// Help of a target lacking what a variable needs, unless its row says otherwise.
const FREE_ONLY_WHAT_IS_SET: &str = "free only variables the flowsheet sets";

/// Declares [`OperatingVarKind`], its `ALL` list and its table in one place.
macro_rules! kinds {
    ($($(#[$doc:meta])* $kind:ident { $($field:ident: $value:expr),* $(,)? })*) => {
        /// The kind of an operating variable, without its target: what `var = "..."` names in
        /// `[optimize] free` (parse one with [`str::parse`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum OperatingVarKind {
            $($(#[$doc])* $kind,)*
        }

        impl OperatingVarKind {
            /// Every kind, in the order of the reference page.
            pub const ALL: &'static [OperatingVarKind] = &[$(OperatingVarKind::$kind,)*];

            /// This kind's row of the table.
            pub const fn info(self) -> KindInfo {
                match self {
                    $(OperatingVarKind::$kind => KindInfo { $($field: $value,)* },)*
                }
            }
        }
    };
}

kinds! {
    /// `feed_rate`: the flow of a feed.
    FeedRate {
        var: "feed_rate",
        of: TargetKind::Feed,
        measure: Measure::Flow,
        label: "rate",
        needs: "flow",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: None,
        key: &[Key::Lit("flow")],
        text: Text::Unit,
    }
    /// `organic_flow`: the organic flow of a circuit.
    OrganicFlow {
        var: "organic_flow",
        of: TargetKind::Circuit,
        measure: Measure::Flow,
        label: "organic flow",
        needs: "organic flow",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: None,
        key: &[Key::Lit("organic"), Key::Lit("flow")],
        text: Text::Unit,
    }
    /// `scrub_flow`: the flow of a circuit's scrub solution.
    ScrubFlow {
        var: "scrub_flow",
        of: TargetKind::Circuit,
        measure: Measure::Flow,
        label: "scrub flow",
        needs: "scrub solution",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: Some(SectionKind::Scrub),
        key: &[Key::Solution, Key::Lit("flow")],
        text: Text::Unit,
    }
    /// `strip_flow`: the flow of a circuit's strip solution.
    StripFlow {
        var: "strip_flow",
        of: TargetKind::Circuit,
        measure: Measure::Flow,
        label: "strip flow",
        needs: "strip solution",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: Some(SectionKind::Strip),
        key: &[Key::Solution, Key::Lit("flow")],
        text: Text::Unit,
    }
    /// `split_fraction`: the fraction of a splitter's inlet sent to one outlet.
    SplitFraction {
        var: "split_fraction",
        of: TargetKind::SplitterOutlet,
        measure: Measure::Fraction,
        label: "fraction",
        needs: "outlet",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: None,
        key: &[Key::Lit("outlets"), Key::EveryOutlet],
        text: Text::Number,
    }
    /// `saponification`: the saponified fraction of a circuit's extractant.
    Saponification {
        var: "saponification",
        of: TargetKind::Circuit,
        measure: Measure::Fraction,
        label: "saponification",
        needs: "saponification",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: None,
        key: &[Key::Lit("organic"), Key::Lit("saponification")],
        text: Text::Percent,
    }
    /// `scrub_acid`: the acid concentration of a circuit's scrub solution.
    ScrubAcid {
        var: "scrub_acid",
        of: TargetKind::Circuit,
        measure: Measure::Concentration,
        label: "scrub acid",
        needs: "scrub solution",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: Some(SectionKind::Scrub),
        key: &[Key::Solution, Key::Lit("conc")],
        text: Text::Unit,
    }
    /// `strip_acid`: the acid concentration of a circuit's strip solution.
    StripAcid {
        var: "strip_acid",
        of: TargetKind::Circuit,
        measure: Measure::Concentration,
        label: "strip acid",
        needs: "strip solution",
        needs_help: FREE_ONLY_WHAT_IS_SET,
        section: Some(SectionKind::Strip),
        key: &[Key::Solution, Key::Lit("conc")],
        text: Text::Unit,
    }
    /// `extraction_ratio`: the mixed extraction ratio of one section of a separation-factor
    /// circuit.
    ExtractionRatio {
        var: "extraction_ratio",
        of: TargetKind::CircuitSection,
        measure: Measure::Ratio,
        label: "extraction ratio",
        needs: "mixed extraction ratio",
        needs_help: "only a separation-factor circuit whose `extraction_ratio` gives this section a number (e.g. `extraction_ratio = { {section} = 0.8 }`) has one",
        section: None,
        key: &[Key::Lit("equilibrium"), Key::Lit("extraction_ratio"), Key::Section],
        text: Text::Number,
    }
}

impl OperatingVarKind {
    /// The TOML `var` name (`"feed_rate"`).
    pub const fn as_str(self) -> &'static str {
        self.info().var
    }

    /// True for a flow (a feed rate or a phase flow): stage volumes are linear in it, and it
    /// scales with the plant's throughput. A mud feed's rate (t/h) counts: the leach liquor
    /// volume is proportional to it.
    pub fn is_volumetric_flow(self) -> bool {
        self.info().measure == Measure::Flow
    }

    /// The variable of this kind at `target`, or `None` when this kind has no such target
    /// (a feed rate of a circuit).
    pub fn at(self, target: Target) -> Option<OperatingVar> {
        OperatingVar::new(self, target)
    }

    /// Every variable of this kind that `fs` has (whose value [`get`] reads), in id order.
    pub fn instances(self, fs: &Flowsheet) -> Vec<OperatingVar> {
        let targets: Vec<Target> = match self.info().of {
            TargetKind::Feed => fs.feeds.iter().map(|f| Target::Feed(f.id)).collect(),
            TargetKind::Circuit => fs.circuits.iter().map(|c| Target::Circuit(c.id)).collect(),
            TargetKind::SplitterOutlet => fs
                .splitters
                .iter()
                .flat_map(|s| (0..s.outlets.len()).map(|k| Target::SplitterOutlet(s.id, k)))
                .collect(),
            TargetKind::CircuitSection => fs
                .circuits
                .iter()
                .flat_map(|c| (0..c.sections.len()).map(|k| Target::CircuitSection(c.id, k)))
                .collect(),
        };
        targets
            .into_iter()
            .filter_map(|t| self.at(t))
            .filter(|v| value(fs, *v).is_some())
            .collect()
    }
}

impl fmt::Display for OperatingVarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OperatingVarKind {
    type Err = OperatingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OperatingVarKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| OperatingError::UnknownKind(s.to_string()))
    }
}

impl OperatingVar {
    /// The kind of the variable.
    pub fn kind(self) -> OperatingVarKind {
        match self {
            OperatingVar::FeedRate(_) => OperatingVarKind::FeedRate,
            OperatingVar::OrganicFlow(_) => OperatingVarKind::OrganicFlow,
            OperatingVar::ScrubFlow(_) => OperatingVarKind::ScrubFlow,
            OperatingVar::StripFlow(_) => OperatingVarKind::StripFlow,
            OperatingVar::SplitFraction(..) => OperatingVarKind::SplitFraction,
            OperatingVar::Saponification(_) => OperatingVarKind::Saponification,
            OperatingVar::ScrubAcid(_) => OperatingVarKind::ScrubAcid,
            OperatingVar::StripAcid(_) => OperatingVarKind::StripAcid,
            OperatingVar::ExtractionRatio(..) => OperatingVarKind::ExtractionRatio,
        }
    }

    /// What the variable's `of` names.
    pub fn target(self) -> Target {
        match self {
            OperatingVar::FeedRate(f) => Target::Feed(f),
            OperatingVar::OrganicFlow(c)
            | OperatingVar::ScrubFlow(c)
            | OperatingVar::StripFlow(c)
            | OperatingVar::Saponification(c)
            | OperatingVar::ScrubAcid(c)
            | OperatingVar::StripAcid(c) => Target::Circuit(c),
            OperatingVar::SplitFraction(s, k) => Target::SplitterOutlet(s, k),
            OperatingVar::ExtractionRatio(c, k) => Target::CircuitSection(c, k),
        }
    }

    /// The variable of `kind` at `target`; `None` when the target is not of the kind's
    /// [`KindInfo::of`] kind.
    pub fn new(kind: OperatingVarKind, target: Target) -> Option<OperatingVar> {
        use OperatingVarKind as K;
        Some(match (kind, target) {
            (K::FeedRate, Target::Feed(f)) => OperatingVar::FeedRate(f),
            (K::OrganicFlow, Target::Circuit(c)) => OperatingVar::OrganicFlow(c),
            (K::ScrubFlow, Target::Circuit(c)) => OperatingVar::ScrubFlow(c),
            (K::StripFlow, Target::Circuit(c)) => OperatingVar::StripFlow(c),
            (K::SplitFraction, Target::SplitterOutlet(s, k)) => OperatingVar::SplitFraction(s, k),
            (K::Saponification, Target::Circuit(c)) => OperatingVar::Saponification(c),
            (K::ScrubAcid, Target::Circuit(c)) => OperatingVar::ScrubAcid(c),
            (K::StripAcid, Target::Circuit(c)) => OperatingVar::StripAcid(c),
            (K::ExtractionRatio, Target::CircuitSection(c, k)) => {
                OperatingVar::ExtractionRatio(c, k)
            }
            _ => return None,
        })
    }

    /// See [`OperatingVarKind::is_volumetric_flow`].
    pub fn is_volumetric_flow(self) -> bool {
        self.kind().is_volumetric_flow()
    }

    /// The variables that set the solution of section `section` of circuit `c`, as (its flow,
    /// its acid strength): each only when that section is the one the variable sets (the first
    /// of its kind in the circuit).
    pub fn of_solution(
        c: &Circuit,
        section: usize,
    ) -> (Option<OperatingVar>, Option<OperatingVar>) {
        let Some(kind) = c.sections.get(section).map(|s| s.kind) else {
            return (None, None);
        };
        if c.solution_section(kind) != Some(section) {
            return (None, None);
        }
        let find = |m: Measure| {
            OperatingVarKind::ALL
                .iter()
                .find(|k| k.info().section == Some(kind) && k.info().measure == m)
                .and_then(|k| k.at(Target::Circuit(c.id)))
        };
        (find(Measure::Flow), find(Measure::Concentration))
    }
}

/// Errors of reading, writing or writing back operating variables.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OperatingError {
    /// The flowsheet has no such variable (an id out of range, a circuit without that
    /// solution); holds the variable's name ([`name`]).
    #[error("{0} does not exist")]
    Missing(String),
    /// No operating-variable kind has this TOML name.
    #[error("unknown operating variable \"{0}\"")]
    UnknownKind(String),
    /// The key to rewrite was not found in the source text.
    #[error(
        "cannot locate {path} of {array} \"{element}\" in the source to write the optimized value"
    )]
    NotLocated {
        /// The `[[array]]` (`"circuit"`).
        array: &'static str,
        /// The element's name.
        element: String,
        /// Dotted key path (`"organic.flow"`).
        path: String,
    },
    /// The rewritten source does not check clean; holds the first error.
    #[error("the rewritten flowsheet does not check clean: {0}")]
    NotClean(String),
    /// The rewritten source reads back another value.
    #[error("the rewritten flowsheet holds {got} instead of {want} for {name}")]
    Mismatch {
        /// The variable's name.
        name: String,
        /// Value read back, internal units.
        got: f64,
        /// Value written, internal units.
        want: f64,
    },
}

/// Where a variable's value can be looked up: a [`Flowsheet`], or the parsed document while
/// lowering (so `[optimize] free` is checked with the same accessor).
pub(crate) trait Parts {
    /// The feed with this id.
    fn feed(&self, id: FeedId) -> Option<&Feed>;
    /// The circuit with this id.
    fn circuit(&self, id: CircuitId) -> Option<&Circuit>;
    /// The splitter with this id.
    fn splitter(&self, id: SplitterId) -> Option<&Splitter>;
}

impl Parts for Flowsheet {
    fn feed(&self, id: FeedId) -> Option<&Feed> {
        self.feeds.get(id.0)
    }
    fn circuit(&self, id: CircuitId) -> Option<&Circuit> {
        self.circuits.get(id.0)
    }
    fn splitter(&self, id: SplitterId) -> Option<&Splitter> {
        self.splitters.get(id.0)
    }
}

/// The section kind whose (first section's) solution `v` sets, if it sets one.
fn solution_kind(v: OperatingVar) -> Option<SectionKind> {
    v.kind().info().section
}

/// The solution of `kind` in `c` ([`Circuit::solution`]).
fn solution(c: &Circuit, kind: SectionKind) -> Option<&AqueousSolution> {
    c.solution(kind)
}

/// The current value of `v`, internal units; `None` when `p` has no such variable.
pub(crate) fn value<P: Parts + ?Sized>(p: &P, v: OperatingVar) -> Option<f64> {
    match v {
        OperatingVar::FeedRate(f) => match &p.feed(f)?.kind {
            FeedKind::Aqueous(s) | FeedKind::Organic(s) => Some(s.flow_vol),
            FeedKind::Mud(m) => Some(m.flow_mass),
        },
        OperatingVar::OrganicFlow(c) => Some(p.circuit(c)?.organic.flow_vol),
        OperatingVar::ScrubFlow(c) | OperatingVar::StripFlow(c) => {
            Some(solution(p.circuit(c)?, solution_kind(v)?)?.flow_vol)
        }
        OperatingVar::ScrubAcid(c) | OperatingVar::StripAcid(c) => {
            Some(solution(p.circuit(c)?, solution_kind(v)?)?.conc_mol)
        }
        OperatingVar::SplitFraction(s, k) => p.splitter(s)?.outlets.get(k).map(|o| o.1),
        OperatingVar::Saponification(c) => p
            .circuit(c)?
            .organic
            .saponification
            .as_ref()
            .map(|s| s.fraction),
        OperatingVar::ExtractionRatio(c, k) => match &p.circuit(c)?.equilibrium {
            Equilibrium::SeparationFactor(sf) => match sf.loading.get(k) {
                Some(Some(SectionLoading::ExtractionRatio(e))) => Some(*e),
                _ => None,
            },
            _ => None,
        },
    }
}

/// Human-readable name of an operating variable (`"feed liquor rate"`, `"circuit PrNd organic
/// flow"`, `"splitter reflux fraction 0"`, `"circuit PrNd scrub extraction ratio"`); ids the
/// flowsheet does not have show as `?` (`#3` for a circuit).
pub fn name(fs: &Flowsheet, v: OperatingVar) -> String {
    let label = v.kind().info().label;
    let circuit = |id: CircuitId| {
        fs.circuits
            .get(id.0)
            .map_or_else(|| format!("#{}", id.0), |c| c.name.clone())
    };
    match v.target() {
        Target::Feed(f) => format!(
            "feed {} {label}",
            fs.feeds.get(f.0).map_or("?", |f| f.name.as_str())
        ),
        Target::Circuit(c) => format!("circuit {} {label}", circuit(c)),
        Target::SplitterOutlet(s, k) => format!(
            "splitter {} {label} {k}",
            fs.splitters.get(s.0).map_or("?", |s| s.name.as_str())
        ),
        Target::CircuitSection(c, k) => format!(
            "circuit {} {} {label}",
            circuit(c),
            fs.circuits
                .get(c.0)
                .and_then(|c| c.sections.get(k))
                .map_or("?", |s| s.name.as_str())
        ),
    }
}

/// True when `v` is the rate of a mud feed (whose unit is t/h).
fn is_mud_rate(fs: &Flowsheet, v: OperatingVar) -> bool {
    match v.target() {
        Target::Feed(f) => fs
            .feeds
            .get(f.0)
            .is_some_and(|f| matches!(f.kind, FeedKind::Mud(_))),
        _ => false,
    }
}

/// Unit of an operating variable in user terms: (unit label, factor from internal units), e.g.
/// `("m3/h", 1e-3)` for a flow in L/h.
pub fn unit(fs: &Flowsheet, v: OperatingVar) -> (&'static str, f64) {
    let (label, per_user) = v.kind().info().measure.user_unit(is_mud_rate(fs, v));
    (label, 1.0 / per_user)
}

/// Reads the current value of an operating variable from the flowsheet, internal units.
pub fn get(fs: &Flowsheet, v: OperatingVar) -> Result<f64, OperatingError> {
    value(fs, v).ok_or_else(|| OperatingError::Missing(name(fs, v)))
}

/// Writes an operating variable into the flowsheet (internal units). A split fraction is
/// clamped to 0..=1 and the splitter's other outlets keep their proportions, so that the
/// fractions still sum to 1.
pub fn set(fs: &mut Flowsheet, v: OperatingVar, x: f64) -> Result<(), OperatingError> {
    let missing = OperatingError::Missing(name(fs, v));
    let slot: &mut f64 = match v {
        OperatingVar::FeedRate(f) => match fs.feeds.get_mut(f.0).map(|f| &mut f.kind) {
            Some(FeedKind::Aqueous(s) | FeedKind::Organic(s)) => &mut s.flow_vol,
            Some(FeedKind::Mud(m)) => &mut m.flow_mass,
            None => return Err(missing),
        },
        OperatingVar::OrganicFlow(c) => match fs.circuits.get_mut(c.0) {
            Some(c) => &mut c.organic.flow_vol,
            None => return Err(missing),
        },
        OperatingVar::ScrubFlow(c)
        | OperatingVar::StripFlow(c)
        | OperatingVar::ScrubAcid(c)
        | OperatingVar::StripAcid(c) => {
            let kind = solution_kind(v);
            let sol = fs.circuits.get_mut(c.0).and_then(|c| {
                let i = c.solution_section(kind?)?;
                c.sections[i].solution.as_mut()
            });
            match (sol, v.kind().info().measure) {
                (Some(s), Measure::Flow) => &mut s.flow_vol,
                (Some(s), _) => &mut s.conc_mol,
                (None, _) => return Err(missing),
            }
        }
        OperatingVar::SplitFraction(sp, k) => {
            let Some(s) = fs.splitters.get_mut(sp.0).filter(|s| k < s.outlets.len()) else {
                return Err(missing);
            };
            set_split_fraction(s, k, x);
            return Ok(());
        }
        OperatingVar::Saponification(c) => match fs
            .circuits
            .get_mut(c.0)
            .and_then(|c| c.organic.saponification.as_mut())
        {
            Some(s) => &mut s.fraction,
            None => return Err(missing),
        },
        OperatingVar::ExtractionRatio(c, k) => {
            match fs.circuits.get_mut(c.0).map(|c| &mut c.equilibrium) {
                Some(Equilibrium::SeparationFactor(sf)) => match sf.loading.get_mut(k) {
                    Some(Some(SectionLoading::ExtractionRatio(e))) => e,
                    _ => return Err(missing),
                },
                _ => return Err(missing),
            }
        }
    };
    *slot = x;
    Ok(())
}

/// Sets outlet `k` of `s` to `x` (clamped to 0..=1); the others keep their proportions.
fn set_split_fraction(s: &mut Splitter, k: usize, x: f64) {
    let x = x.clamp(0.0, 1.0);
    let rest: f64 = s
        .outlets
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != k)
        .map(|(_, o)| o.1)
        .sum();
    let others = s.outlets.len().saturating_sub(1);
    for (i, o) in s.outlets.iter_mut().enumerate() {
        if i == k {
            o.1 = x;
        } else if rest > 0.0 {
            o.1 *= (1.0 - x) / rest;
        } else if others > 0 {
            o.1 = (1.0 - x) / others as f64;
        }
    }
}

/// A copy of `fs` with every `(variable, value)` set, in order.
pub fn apply(fs: &Flowsheet, values: &[(OperatingVar, f64)]) -> Result<Flowsheet, OperatingError> {
    let mut out = fs.clone();
    for &(v, x) in values {
        set(&mut out, v, x)?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Write-back into the TOML source
// ---------------------------------------------------------------------------------------

/// One key to rewrite: in the `[[array]]` element named `element`, the value at `path`.
struct Edit {
    array: &'static str,
    element: String,
    path: Vec<String>,
    value: String,
}

/// The keys to rewrite for `v = x` (`fs`: the optimized flowsheet).
fn edits(fs: &Flowsheet, v: OperatingVar, x: f64) -> Result<Vec<Edit>, OperatingError> {
    let info = v.kind().info();
    let missing = || OperatingError::Missing(name(fs, v));
    let target = v.target();
    let circuit = |c: CircuitId| fs.circuits.get(c.0).ok_or_else(missing);
    let element = match target {
        Target::Feed(f) => fs.feeds.get(f.0).ok_or_else(missing)?.name.clone(),
        Target::Circuit(c) | Target::CircuitSection(c, _) => circuit(c)?.name.clone(),
        Target::SplitterOutlet(s, _) => fs.splitters.get(s.0).ok_or_else(missing)?.name.clone(),
    };
    let text = |x: f64| match info.text {
        Text::Unit => {
            let (label, per_user) = info.measure.user_unit(is_mud_rate(fs, v));
            if label == "-" {
                fmt_num(x / per_user)
            } else {
                format!("\"{} {label}\"", fmt_num(x / per_user))
            }
        }
        Text::Percent => format!("\"{} %\"", fmt_num(100.0 * x)),
        Text::Number => fmt_num(x),
    };
    // Every (path, value) to write; EveryOutlet multiplies the paths, one per outlet.
    let mut paths: Vec<(Vec<String>, String)> = vec![(Vec::new(), text(x))];
    for key in info.key {
        match key {
            Key::Lit(k) => paths.iter_mut().for_each(|(p, _)| p.push((*k).to_string())),
            Key::Section => {
                let Target::CircuitSection(c, k) = target else {
                    return Err(missing());
                };
                let s = circuit(c)?.sections.get(k).ok_or_else(missing)?;
                paths.iter_mut().for_each(|(p, _)| p.push(s.name.clone()));
            }
            Key::Solution => {
                let (Target::Circuit(c), Some(kind)) = (target, info.section) else {
                    return Err(missing());
                };
                let c = circuit(c)?;
                let s = c
                    .solution_section(kind)
                    .map(|i| &c.sections[i])
                    .ok_or_else(missing)?;
                paths.iter_mut().for_each(|(p, _)| p.push(s.name.clone()));
            }
            Key::EveryOutlet => {
                let Target::SplitterOutlet(s, _) = target else {
                    return Err(missing());
                };
                let s = fs.splitters.get(s.0).ok_or_else(missing)?;
                paths = paths
                    .iter()
                    .flat_map(|(p, _)| {
                        s.outlets.iter().map(move |(outlet, frac)| {
                            let mut p = p.clone();
                            p.push(outlet.clone());
                            (p, text(*frac))
                        })
                    })
                    .collect();
            }
        }
    }
    Ok(paths
        .into_iter()
        .map(|(path, value)| Edit {
            array: info.of.array(),
            element: element.clone(),
            path,
            value,
        })
        .collect())
}

/// The flowsheet source with every optimized operating variable rewritten where the table says
/// it is written ([`KindInfo::key`]), comments and layout kept, checked by re-reading it:
/// the rewritten text must check clean and hold every value. `fs` is the optimized flowsheet
/// (the point applied): split fractions are written for every outlet of the splitter, since
/// moving one rescales the others.
pub fn optimized_toml(
    src: &str,
    fs: &Flowsheet,
    values: &[(OperatingVar, f64)],
) -> Result<String, OperatingError> {
    let mut text = src.to_string();
    for &(var, x) in values {
        for e in edits(fs, var, x)? {
            let keys: Vec<&str> = e.path.iter().map(String::as_str).collect();
            text = patch(&text, e.array, &e.element, &keys, &e.value).ok_or_else(|| {
                OperatingError::NotLocated {
                    array: e.array,
                    element: e.element.clone(),
                    path: e.path.join("."),
                }
            })?;
        }
    }
    // Re-read: the written file must check clean and carry the optimized values.
    let back = crate::check_str(&text);
    let Some(fs2) = back.flowsheet else {
        let first = back
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map_or_else(String::new, |d| d.message.clone());
        return Err(OperatingError::NotClean(first));
    };
    for &(var, x) in values {
        let got = get(&fs2, var)?;
        if (got - x).abs() > 1e-9 * x.abs().max(1.0) {
            return Err(OperatingError::Mismatch {
                name: name(&fs2, var),
                got,
                want: x,
            });
        }
    }
    Ok(text)
}

/// A number with at most 12 decimals, trailing zeros dropped.
fn fmt_num(x: f64) -> String {
    let s = format!("{x:.12}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Rewrites the value at `path` inside the `[[array]]` element whose `name` is `name`.
/// Handles `key = ...` lines, inline tables (`organic = { ..., flow = "..." }`), sub-table
/// headers (`[circuit.organic]`), and for three-key paths an inline table inside a sub-table
/// (`[circuit.equilibrium]` `extraction_ratio = { scrub = 1.41 }`) or a sub-sub-table header.
fn patch(src: &str, array: &str, name: &str, path: &[&str], value: &str) -> Option<String> {
    let Element { starts, w, end } = element(src, array, name)?;
    // The byte range of table `name` ("organic", "equilibrium.extraction_ratio") inside
    // `lo..hi`: an inline table there, else a sub-table header of the element.
    let table = |lo: usize, hi: usize, key: &str, name: &str| -> Option<(usize, usize)> {
        inline_table(src, lo, hi, key).or_else(|| {
            (w + 1..end)
                .find(|&k| header_of(&src[starts[k]..starts[k + 1]]) == format!("[{array}.{name}]"))
                .map(|k| (starts[k], starts[k + 1]))
        })
    };
    let (lo, hi) = match path {
        [_] => (starts[w], starts[w + 1]),
        [t, _] => table(starts[w], starts[w + 1], t, t)?,
        [t, inner, _] => {
            let (lo, hi) = table(starts[w], starts[w + 1], t, t)?;
            table(lo, hi, inner, &format!("{t}.{inner}"))?
        }
        _ => return None,
    };
    replace_key(src, lo, hi, path[path.len() - 1], value)
}

/// The header line of a block, comment dropped.
fn header_of(s: &str) -> String {
    let l = s.lines().next().unwrap_or("").trim();
    l.split('#').next().unwrap_or("").trim().to_string()
}

/// An `[[array]]` element of a flowsheet source: the byte offsets of every table header
/// (and the end of the text), the index of the element's own header, and one past the index
/// of its last sub-table header.
struct Element {
    starts: Vec<usize>,
    w: usize,
    end: usize,
}

/// Finds the `[[array]]` element whose `name = "..."` is `name`, with its sub-tables
/// (`[array.x]`, `[[array.x]]`) up to the next unrelated header.
fn element(src: &str, array: &str, name: &str) -> Option<Element> {
    let mut starts: Vec<usize> = Vec::new();
    let mut pos = 0;
    for line in src.split_inclusive('\n') {
        if line.trim_start().starts_with('[') {
            starts.push(pos);
        }
        pos += line.len();
    }
    starts.push(src.len());
    let name_re = format!("name = \"{name}\"");
    for w in 0..starts.len().saturating_sub(1) {
        let block = &src[starts[w]..starts[w + 1]];
        if header_of(block) != format!("[[{array}]]") || !block.contains(&name_re) {
            continue;
        }
        let mut end = w + 1;
        while end + 1 < starts.len() {
            let h = header_of(&src[starts[end]..starts[end + 1]]);
            if h.starts_with(&format!("[{array}.")) || h.starts_with(&format!("[[{array}.")) {
                end += 1;
            } else {
                break;
            }
        }
        return Some(Element { starts, w, end });
    }
    None
}

/// The flowsheet source with the whole `[[array]]` element named `name` (its header, keys and
/// sub-tables, up to the next unrelated table header) replaced by `block`, the rest of the
/// text (comments, layout, other elements) kept byte for byte. `None` when the source has no
/// such element. The caller checks the result (`crate::check_str`).
pub fn replace_element(src: &str, array: &str, name: &str, block: &str) -> Option<String> {
    let Element { starts, w, end } = element(src, array, name)?;
    let (lo, hi) = (starts[w], starts[end]);
    let mut block = block.trim_end().to_string();
    block.push('\n');
    if hi < src.len() {
        block.push('\n');
    }
    Some(format!("{}{block}{}", &src[..lo], &src[hi..]))
}

/// The flowsheet source with the `[optimize] free` entry `{ var = "<var>", of = "<of>", ... }`
/// replaced by `entry` (an inline table), or removed with its comma when `entry` is `None`;
/// the rest of the text kept byte for byte. `None` when there is no such entry.
pub fn replace_free_entry(src: &str, var: &str, of: &str, entry: Option<&str>) -> Option<String> {
    let lo = src
        .match_indices("[optimize]")
        .map(|(i, _)| i)
        .find(|&i| src[..i].rfind('\n').map_or(0, |n| n + 1) == i)?;
    let hi = src[lo + 1..]
        .split_inclusive('\n')
        .scan(lo + 1, |pos, line| {
            let at = *pos;
            *pos += line.len();
            Some((at, line))
        })
        .skip(1)
        .find(|(_, line)| line.trim_start().starts_with('['))
        .map_or(src.len(), |(at, _)| at);
    let (flo, fhi) = {
        let i = find_key(&src[lo..hi], "free")? + lo;
        let open = src[i..hi].find('[')? + i;
        (open, hi)
    };
    let var_text = format!("var = \"{var}\"");
    let of_text = format!("of = \"{of}\"");
    let mut k = flo;
    while let Some(rel) = src[k..fhi].find('{') {
        let open = k + rel;
        let close = src[open..fhi].find('}')? + open + 1;
        let table = &src[open..close];
        if table.contains(&var_text) && table.contains(&of_text) {
            return Some(match entry {
                Some(e) => format!("{}{e}{}", &src[..open], &src[close..]),
                None => {
                    // drop the entry, the comma after it and, when the entry was alone on its
                    // line, the line
                    let mut end = close;
                    let rest = &src[end..fhi];
                    let t = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                    if rest[t..].starts_with(',') {
                        end += t + 1;
                    }
                    let line_start = src[..open].rfind('\n').map_or(0, |n| n + 1);
                    let alone = src[line_start..open].trim().is_empty()
                        && src[end..]
                            .split('\n')
                            .next()
                            .is_some_and(|l| l.trim().is_empty());
                    if alone {
                        let eol = src[end..].find('\n').map_or(src.len(), |n| end + n + 1);
                        format!("{}{}", &src[..line_start], &src[eol..])
                    } else {
                        format!("{}{}", &src[..open], &src[end..])
                    }
                }
            });
        }
        k = close;
    }
    None
}

/// The byte range `{ ... }` of the inline table `key = { ... }` inside `src[lo..hi]`.
fn inline_table(src: &str, lo: usize, hi: usize, key: &str) -> Option<(usize, usize)> {
    let i = find_key(&src[lo..hi], key)? + lo;
    let eq = src[i..hi].find('=')? + i;
    let rest = src[eq + 1..hi].trim_start();
    if !rest.starts_with('{') {
        return None;
    }
    let open = hi - rest.len();
    // The matching brace: inline tables nest (`equilibrium = { beta = { .. }, extraction_ratio
    // = { .. } }`), and braces inside strings do not count.
    let mut depth = 0usize;
    let mut in_string = false;
    for (k, ch) in src[open..hi].char_indices() {
        match ch {
            '"' => in_string = !in_string,
            '{' if !in_string => depth += 1,
            '}' if !in_string => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some((open, open + k + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// Position of `key =` at a word boundary in `text` (not inside a string).
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(key) {
        let at = from + i;
        let before = text[..at].chars().last();
        let after = text[at + key.len()..].trim_start();
        let boundary = before.is_none_or(|c| c == '{' || c == ',' || c.is_whitespace());
        let quotes_before = text[..at].matches('"').count();
        if boundary && after.starts_with('=') && quotes_before % 2 == 0 {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// Replaces the value of `key = ...` inside `src[lo..hi]`: a quoted string, or a bare token
/// (a number) up to the next `,`, `}`, `#` or line end.
fn replace_key(src: &str, lo: usize, hi: usize, key: &str, value: &str) -> Option<String> {
    let region = &src[lo..hi];
    let k = find_key(region, key)? + lo;
    let eq = src[k..hi].find('=')? + k;
    let after = &src[eq + 1..hi];
    let start = eq + 1 + (after.len() - after.trim_start().len());
    let end = if src[start..].starts_with('"') {
        src[start + 1..hi].find('"')? + start + 2
    } else {
        let tail = &src[start..hi];
        start + tail.find([',', '}', '#', '\n']).unwrap_or(tail.len())
    };
    let end = start + src[start..end].trim_end().len();
    if end > hi || end == start {
        return None;
    }
    let mut out = String::with_capacity(src.len() + 16);
    out.push_str(&src[..start]);
    out.push_str(value);
    out.push_str(&src[end..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CircuitId, SplitterId};

    fn root() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// The shipped flowsheets (`flowsheets/*.toml`) as (file name, source).
    fn shipped() -> Vec<(String, String)> {
        let dir = root().join("flowsheets");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        assert!(files.len() >= 3, "only {} shipped flowsheets", files.len());
        files
    }

    /// Writes `values` into the source of `file` and returns the rewritten text (which
    /// `optimized_toml` has already re-read and compared value by value).
    fn rewrite(file: &str, values: &[(OperatingVar, f64)]) -> String {
        let src = std::fs::read_to_string(root().join(file)).unwrap();
        let fs = crate::check_str(&src).flowsheet.unwrap();
        let optimized = apply(&fs, values).unwrap();
        optimized_toml(&src, &optimized, values).unwrap()
    }

    /// An extraction ratio inside an inline `equilibrium = { .. }` that holds other inline
    /// tables (`beta = { .. }`) before it: the table ends at its matching brace, not the first.
    #[test]
    fn extraction_ratio_in_a_nested_inline_equilibrium_is_written_back() {
        let src = r#"schema = 1
name = "nested"

[[feed]]
name = "liquor"
flow = "1 m3/h"
conc = { Pr = "0.1 mol/L", Nd = "0.1 mol/L" }
to = "C.feed"

[[circuit]]
name = "C"
sections = [{ kind = "extraction", stages = 5 }, { kind = "scrub", stages = 5 }]
organic = { extractant = "P507", conc = "1.5 mol/L", flow = "2 m3/h" }
scrub = { acid = "HCl", conc = "3 mol/L", flow = "0.3 m3/h" }
equilibrium = { model = "separation_factor", beta = { Pr = 1.0, Nd = 2.0 }, extraction_ratio = { extraction = 0.8, scrub = 1.3 }, quality = "illustrative" }

[[product]]
name = "Nd"
from = "C.loaded_organic"
kind = "organic"
"#;
        let fs = crate::check_str(src).flowsheet.unwrap();
        let values = [(OperatingVar::ExtractionRatio(crate::CircuitId(0), 1), 1.45)];
        let optimized = apply(&fs, &values).unwrap();
        let text = optimized_toml(src, &optimized, &values).unwrap();
        assert!(
            text.contains("beta = { Pr = 1.0, Nd = 2.0 }, extraction_ratio = { extraction = 0.8, scrub = 1.45 }"),
            "{text}"
        );
    }

    #[test]
    fn every_kind_of_operating_variable_is_written_back() {
        let text = rewrite(
            "flowsheets/reflux.toml",
            &[
                (OperatingVar::SplitFraction(SplitterId(0), 0), 0.45),
                (OperatingVar::Saponification(CircuitId(0)), 0.375),
                (OperatingVar::StripAcid(CircuitId(0)), 2.25),
                (OperatingVar::OrganicFlow(CircuitId(0)), 3500.0),
            ],
        );
        assert!(
            text.contains("outlets = { to_scrub = 0.45, forward = 0.55 }"),
            "{text}"
        );
        assert!(text.contains("saponification = \"37.5 %\""));
        assert!(text.contains("conc = \"2.25 mol/L\", flow = \"6 m3/h\""));
        assert!(text.contains("flow = \"3.5 m3/h\" }"));
        let text = rewrite(
            "flowsheets/pr-nd.toml",
            &[
                (OperatingVar::ExtractionRatio(CircuitId(0), 0), 0.8),
                (OperatingVar::ExtractionRatio(CircuitId(0), 1), 1.35),
                (OperatingVar::ScrubAcid(CircuitId(0)), 3.5),
            ],
        );
        assert!(text.contains("extraction_ratio = { extraction = 0.8, scrub = 1.35 }"));
        assert!(text.contains("conc = \"3.5 mol/L\""));
        // Comments after a value survive.
        assert!(text.contains("conc = \"3.5 mol/L\"            # illustrative"));
    }

    /// A value different from `x0` that the flowsheet accepts for a variable of `kind`.
    fn changed(kind: OperatingVarKind, x0: f64) -> f64 {
        match kind.info().measure {
            Measure::Fraction if x0 < 0.5 => x0 + 0.125,
            Measure::Fraction => x0 - 0.125,
            _ if x0 == 0.0 => 0.0625,
            _ => x0 * 1.0625,
        }
    }

    /// Adding a kind without its write-back (or without a shipped flowsheet that has it) fails
    /// here: every variable of every kind on every shipped flowsheet is set, written back into
    /// the TOML, re-read and read again.
    #[test]
    fn every_kind_round_trips_on_the_shipped_flowsheets() {
        let files = shipped();
        let sheets: Vec<(String, String, Flowsheet)> = files
            .into_iter()
            .map(|(file, src)| {
                let out = crate::check_str(&src);
                let fs = out
                    .flowsheet
                    .unwrap_or_else(|| panic!("{file}: {:?}", out.diagnostics));
                (file, src, fs)
            })
            .collect();
        for &kind in OperatingVarKind::ALL {
            let mut written = 0;
            for (file, src, fs) in &sheets {
                for v in kind.instances(fs) {
                    assert_eq!(v.kind(), kind);
                    let what = format!("{file}: {}", name(fs, v));
                    let x0 = get(fs, v).unwrap();
                    let x = changed(kind, x0);
                    assert!(x != x0, "{what}: {x0} unchanged");
                    let optimized = apply(fs, &[(v, x)]).unwrap();
                    let text = optimized_toml(src, &optimized, &[(v, x)])
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_ne!(&text, src, "{what}: nothing rewritten");
                    let back = crate::check_str(&text)
                        .flowsheet
                        .unwrap_or_else(|| panic!("{what}: the rewritten file does not check"));
                    let got = get(&back, v).unwrap();
                    assert!(
                        (got - x).abs() <= 1e-9 * x.abs().max(1.0),
                        "{what}: wrote {x}, read back {got}"
                    );
                    written += 1;
                }
            }
            assert!(
                written > 0,
                "no shipped flowsheet has a `{kind}` variable: give one in flowsheets/ so its write-back is tested"
            );
        }
    }

    /// A target of every kind (ids need not exist).
    fn any_target(t: TargetKind) -> Target {
        match t {
            TargetKind::Feed => Target::Feed(crate::FeedId(0)),
            TargetKind::Circuit => Target::Circuit(CircuitId(1)),
            TargetKind::SplitterOutlet => Target::SplitterOutlet(SplitterId(0), 1),
            TargetKind::CircuitSection => Target::CircuitSection(CircuitId(0), 2),
        }
    }

    #[test]
    fn kinds_names_targets_and_serde_agree() {
        let targets = [
            TargetKind::Feed,
            TargetKind::Circuit,
            TargetKind::SplitterOutlet,
            TargetKind::CircuitSection,
        ];
        for (i, &kind) in OperatingVarKind::ALL.iter().enumerate() {
            assert_eq!(kind as usize, i, "ALL is in declaration order");
            assert_eq!(kind.as_str().parse::<OperatingVarKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
            let info = kind.info();
            assert_eq!(info.section.is_some(), info.key.contains(&Key::Solution));
            for &t in &targets {
                let v = OperatingVar::new(kind, any_target(t));
                assert_eq!(v.is_some(), t == info.of, "{kind} at {t:?}");
                if let Some(v) = v {
                    assert_eq!(v.kind(), kind);
                    assert_eq!(v.target(), any_target(t));
                    let json = serde_json::to_value(v).unwrap();
                    assert_eq!(json["var"], kind.as_str(), "{json}");
                }
            }
        }
        assert_eq!(
            "feed_flow".parse::<OperatingVarKind>(),
            Err(OperatingError::UnknownKind("feed_flow".into()))
        );
        use OperatingVarKind as K;
        for &kind in OperatingVarKind::ALL {
            assert_eq!(
                kind.is_volumetric_flow(),
                matches!(
                    kind,
                    K::FeedRate | K::OrganicFlow | K::ScrubFlow | K::StripFlow
                ),
                "{kind}"
            );
        }
    }

    #[test]
    fn the_reference_page_lists_every_kind() {
        let doc = std::fs::read_to_string(root().join("docs/flowsheet-reference.md")).unwrap();
        let section = doc.split("## 10. `[optimize]`").nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        for &kind in OperatingVarKind::ALL {
            assert!(
                section.contains(&format!("`{kind}`")),
                "docs/flowsheet-reference.md section 10 does not list `{kind}`"
            );
        }
    }

    #[test]
    fn names_units_and_errors() {
        let src = std::fs::read_to_string(root().join("flowsheets/minamitorishima.toml")).unwrap();
        let fs = crate::check_str(&src).flowsheet.unwrap();
        let mud = OperatingVar::FeedRate(crate::FeedId(0));
        assert_eq!(unit(&fs, mud), ("t/h", 1.0));
        assert_eq!(
            unit(&fs, OperatingVar::OrganicFlow(CircuitId(0))),
            ("m3/h", 1e-3)
        );
        assert_eq!(
            unit(&fs, OperatingVar::StripAcid(CircuitId(0))),
            ("mol/L", 1.0)
        );
        let far = OperatingVar::ScrubFlow(CircuitId(99));
        assert_eq!(name(&fs, far), "circuit #99 scrub flow");
        assert_eq!(
            get(&fs, far).unwrap_err().to_string(),
            "circuit #99 scrub flow does not exist"
        );
        let mut fs2 = fs.clone();
        assert!(set(&mut fs2, far, 1.0).is_err());
        assert_eq!(fs2, fs);
        let section = OperatingVar::ExtractionRatio(CircuitId(0), 99);
        assert!(name(&fs, section).ends_with("? extraction ratio"));
    }

    #[test]
    fn solution_variables_belong_to_the_section_their_solution_enters() {
        let src = std::fs::read_to_string(root().join("flowsheets/minamitorishima.toml")).unwrap();
        let fs = crate::check_str(&src).flowsheet.unwrap();
        // LH: extraction, scrub (no solution), scrub_end (its solution), strip
        let lh = fs.circuits.iter().find(|c| c.name == "LH").unwrap();
        assert_eq!(lh.solution_section(SectionKind::Scrub), Some(2));
        assert_eq!(OperatingVar::of_solution(lh, 1), (None, None));
        assert_eq!(
            OperatingVar::of_solution(lh, 2),
            (
                Some(OperatingVar::ScrubFlow(lh.id)),
                Some(OperatingVar::ScrubAcid(lh.id))
            )
        );
        assert_eq!(
            OperatingVar::of_solution(lh, 3),
            (
                Some(OperatingVar::StripFlow(lh.id)),
                Some(OperatingVar::StripAcid(lh.id))
            )
        );
        assert_eq!(OperatingVar::of_solution(lh, 0), (None, None));
        // the scrub flow of LH is the flow of the solution scrub_end carries, read and written
        // there (the write-back names the `scrub_end` table)
        let sol = lh.sections[2].solution.as_ref().unwrap();
        assert_eq!(get(&fs, OperatingVar::ScrubFlow(lh.id)), Ok(sol.flow_vol));
        assert_eq!(get(&fs, OperatingVar::ScrubAcid(lh.id)), Ok(sol.conc_mol));
        let v = OperatingVar::ScrubFlow(lh.id);
        let values = [(v, sol.flow_vol * 1.25)];
        let moved = apply(&fs, &values).unwrap();
        let text = optimized_toml(&src, &moved, &values).unwrap();
        let back = crate::check_str(&text).flowsheet.unwrap();
        assert!((get(&back, v).unwrap() - sol.flow_vol * 1.25).abs() < 1e-9 * sol.flow_vol);
    }

    #[test]
    fn free_entries_are_replaced_and_removed_in_place() {
        let src = std::fs::read_to_string(root().join("flowsheets/pr-nd.toml")).unwrap();
        let gone = replace_free_entry(&src, "extraction_ratio", "PrNd.extraction", None).unwrap();
        assert!(!gone.contains(r#"of = "PrNd.extraction""#));
        assert!(gone.contains(r#"of = "PrNd.scrub""#));
        let fs = crate::check_str(&gone).flowsheet.unwrap();
        assert_eq!(fs.optimize.as_ref().unwrap().free.len(), 4);
        let new = r#"{ var = "strip_flow", of = "PrNd", min = "0.1 m3/h", max = "1 m3/h" }"#;
        let swapped =
            replace_free_entry(&src, "extraction_ratio", "PrNd.extraction", Some(new)).unwrap();
        assert!(swapped.contains(new));
        let fs = crate::check_str(&swapped).flowsheet.unwrap();
        assert_eq!(fs.optimize.as_ref().unwrap().free.len(), 5);
        assert!(replace_free_entry(&src, "extraction_ratio", "Nope.extraction", None).is_none());
    }
}
