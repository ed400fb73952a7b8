//! The lowered, validated, span-free flowsheet: the domain types every later crate works on.
//!
//! A [`Flowsheet`] is what [`crate::check_str`] produces from TOML once every name is
//! resolved and every quantity converted to the internal units below. Nothing here carries
//! a source span or a string that still needs parsing.
//!
//! # Internal units
//!
//! | quantity | unit | example identifier |
//! |---|---|---|
//! | volumetric flow | L/h | `flow_vol` |
//! | concentration | mol/L | `conc_mol` |
//! | mass flow (solids) | t/h | `flow_mass` |
//! | volume | L | `volume` |
//! | time | h | `residence_time` |
//! | fractions (purity, recovery, saponification, split, efficiency) | 0..=1 | `fraction` |
//! | price | US$/kg | `usd_per_kg` |
//!
//! # Stage numbering
//!
//! The stages of a circuit are numbered 1..=N circuit-wide, sections in the order written
//! (typically extraction, scrub, strip). The organic phase flows from stage 1 to stage N
//! through every section. The aqueous phase flows from higher to lower stage numbers
//! *within a section*: each section with its own aqueous inlet receives it at its last
//! stage (or at the solution's `stage`) and the aqueous leaves at the section's first
//! stage. At a section boundary the aqueous passes down into the section below only when
//! [`Section::aqueous_to_previous`] is true (a scrub directly above an extraction section:
//! the scrub liquor joins the feed and leaves as raffinate); otherwise it leaves the circuit
//! through that section's outlet port (for example the strip liquor).

use std::collections::BTreeMap;

use serde::Serialize;
use sxplan_chem::{Element, Quality};

use crate::operating::OperatingVar;

/// Current version of the flowsheet language (`schema = 1`).
pub const SCHEMA_VERSION: u32 = 1;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub usize);

        impl $name {
            /// Position of the item in its vector on [`Flowsheet`].
            pub fn index(self) -> usize {
                self.0
            }
        }
    };
}

typed_id!(
    /// Index of a [`Circuit`] in [`Flowsheet::circuits`].
    CircuitId
);
typed_id!(
    /// Index of a [`Feed`] in [`Flowsheet::feeds`].
    FeedId
);
typed_id!(
    /// Index of a linear [`Unit`] in [`Flowsheet::units`].
    UnitId
);
typed_id!(
    /// Index of a [`Splitter`] in [`Flowsheet::splitters`].
    SplitterId
);
typed_id!(
    /// Index of a [`Mixer`] in [`Flowsheet::mixers`].
    MixerId
);
typed_id!(
    /// Index of a [`Purge`] in [`Flowsheet::purges`].
    PurgeId
);
typed_id!(
    /// Index of a [`Product`] in [`Flowsheet::products`].
    ProductId
);

/// A whole plant: feeds, SX circuits, linear units, stream connections, specs and economics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flowsheet {
    /// Flowsheet name (`name = "..."`).
    pub name: String,
    /// Language version the file was written for (currently always [`SCHEMA_VERSION`]).
    pub schema: u32,
    /// Free-text description, if given.
    pub description: Option<String>,
    /// Every species any feed carries, in canonical [`Element`] order. Per-element data of
    /// downstream crates can be dense vectors over this list.
    pub elements: Vec<Element>,
    /// Feeds (aqueous, organic, or mud solids).
    pub feeds: Vec<Feed>,
    /// Countercurrent SX circuits.
    pub circuits: Vec<Circuit>,
    /// Linear units upstream and downstream of SX (leach, solid-liquid separation,
    /// impurity removal, precipitation, calcination).
    pub units: Vec<Unit>,
    /// Stream splitters (reflux, recycle, side draws).
    pub splitters: Vec<Splitter>,
    /// Stream mixers.
    pub mixers: Vec<Mixer>,
    /// Purges (sinks that are not products).
    pub purges: Vec<Purge>,
    /// Products with their specifications.
    pub products: Vec<Product>,
    /// Directed stream connections between ports. Every port is used by at most one link.
    pub links: Vec<Link>,
    /// Hydraulic capacity limits.
    pub capacities: Vec<Capacity>,
    /// Prices for the economic objective, if given.
    pub prices: Option<Prices>,
    /// Optimization settings, if given.
    pub optimize: Option<OptimizeSettings>,
    /// The run budget of simulate, design and optimize (`[solver]`); unset values take the
    /// defaults of the run (or the command line's).
    pub solver: SolverSettings,
    /// Annual operating hours and the equipment-sizing basis of the reports (`[plant]`);
    /// unset values take the documented defaults of `sxplan_report::overview`.
    pub plant: PlantSettings,
    /// Every datum the flowsheet relies on, built-in or user-supplied, with its provenance.
    pub data_used: Vec<DataUse>,
    /// Overrides of built-in reference data (mud composition, leach recoveries...), applied
    /// by the crate that owns that datum.
    pub data_overrides: Vec<DataOverride>,
}

impl Flowsheet {
    /// The circuit with the given name, if any.
    pub fn circuit_by_name(&self, name: &str) -> Option<&Circuit> {
        self.circuits.iter().find(|c| c.name == name)
    }

    /// Total number of stages over all circuits.
    pub fn total_stages(&self) -> usize {
        self.circuits.iter().map(Circuit::n_stages).sum()
    }

    /// Human-readable name of a node (`"circuit PrNd"`, `"feed leach"`...).
    pub fn node_name(&self, node: NodeRef) -> String {
        let (kind, name) = match node {
            NodeRef::Circuit(id) => ("circuit", self.circuits.get(id.0).map(|c| &c.name)),
            NodeRef::Feed(id) => ("feed", self.feeds.get(id.0).map(|c| &c.name)),
            NodeRef::Unit(id) => ("unit", self.units.get(id.0).map(|c| &c.name)),
            NodeRef::Splitter(id) => ("splitter", self.splitters.get(id.0).map(|c| &c.name)),
            NodeRef::Mixer(id) => ("mixer", self.mixers.get(id.0).map(|c| &c.name)),
            NodeRef::Purge(id) => ("purge", self.purges.get(id.0).map(|c| &c.name)),
            NodeRef::Product(id) => ("product", self.products.get(id.0).map(|c| &c.name)),
        };
        match name {
            Some(n) => format!("{kind} {n}"),
            None => format!("{kind} #{}", node_index(node)),
        }
    }

    /// The link that leaves `port`, if any.
    pub fn link_from(&self, port: Port) -> Option<&Link> {
        self.links.iter().find(|l| l.from == port)
    }

    /// The link that enters `port`, if any.
    pub fn link_to(&self, port: Port) -> Option<&Link> {
        self.links.iter().find(|l| l.to == port)
    }
}

fn node_index(node: NodeRef) -> usize {
    match node {
        NodeRef::Circuit(i) => i.0,
        NodeRef::Feed(i) => i.0,
        NodeRef::Unit(i) => i.0,
        NodeRef::Splitter(i) => i.0,
        NodeRef::Mixer(i) => i.0,
        NodeRef::Purge(i) => i.0,
        NodeRef::Product(i) => i.0,
    }
}

// ---------------------------------------------------------------------------------------
// Phases, acids, bases, reagents
// ---------------------------------------------------------------------------------------

/// The phase a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Aqueous solution (feed liquor, scrub and strip solutions, raffinate).
    Aqueous,
    /// Organic solution (extractant in diluent).
    Organic,
    /// Solids or slurry (mud, precipitate, oxide).
    Solid,
}

/// Mineral acid of a feed, scrub, strip or leach solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Acid {
    /// Hydrochloric acid, 1 H+ per mol.
    HCl,
    /// Sulfuric acid, 2 H+ per mol.
    H2SO4,
    /// Nitric acid, 1 H+ per mol.
    HNO3,
}

impl Acid {
    /// Protons per mol of acid (full dissociation assumed).
    pub fn protons(self) -> f64 {
        match self {
            Acid::HCl | Acid::HNO3 => 1.0,
            Acid::H2SO4 => 2.0,
        }
    }
}

/// Base used to saponify (pre-neutralize) an acidic extractant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Base {
    /// Sodium hydroxide; Na+ is exchanged instead of H+.
    NaOH,
    /// Ammonia; NH4+ is exchanged instead of H+.
    NH3,
}

/// A priced reagent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reagent {
    /// Hydrochloric acid (100 % basis).
    HCl,
    /// Sulfuric acid (100 % basis).
    H2SO4,
    /// Nitric acid (100 % basis).
    HNO3,
    /// Sodium hydroxide (100 % basis).
    NaOH,
    /// Ammonia (100 % basis).
    NH3,
    /// Oxalic acid dihydrate H2C2O4.2H2O.
    OxalicAcid,
    /// Extractant make-up (losses).
    Extractant,
}

impl From<Acid> for Reagent {
    fn from(a: Acid) -> Reagent {
        match a {
            Acid::HCl => Reagent::HCl,
            Acid::H2SO4 => Reagent::H2SO4,
            Acid::HNO3 => Reagent::HNO3,
        }
    }
}

impl From<Base> for Reagent {
    fn from(b: Base) -> Reagent {
        match b {
            Base::NaOH => Reagent::NaOH,
            Base::NH3 => Reagent::NH3,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------------------

/// A stream entering the plant from outside.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feed {
    /// This feed's id.
    pub id: FeedId,
    /// Name used in links (`"feed.<name>"`).
    pub name: String,
    /// What the feed is.
    pub kind: FeedKind,
}

/// The three kinds of feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeedKind {
    /// An aqueous solution (leach liquor, pregnant solution).
    Aqueous(SolutionFeed),
    /// A loaded organic solution.
    Organic(SolutionFeed),
    /// Mud (solids) to be leached.
    Mud(MudFeed),
}

impl FeedKind {
    /// Phase of the stream this feed delivers.
    pub fn phase(&self) -> Phase {
        match self {
            FeedKind::Aqueous(_) => Phase::Aqueous,
            FeedKind::Organic(_) => Phase::Organic,
            FeedKind::Mud(_) => Phase::Solid,
        }
    }
}

/// An aqueous or organic solution feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolutionFeed {
    /// Volumetric flow, L/h.
    pub flow_vol: f64,
    /// Concentration per element, mol/L. Elements absent from the map are absent from the feed.
    pub conc_mol: BTreeMap<Element, f64>,
    /// Acid of the solution, if stated.
    pub acid: Option<Acid>,
    /// Free-acid proton concentration [H+], mol/L (0 when not stated).
    pub conc_h: f64,
}

/// A mud (solids) feed described by throughput and grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MudFeed {
    /// Dry mud throughput, t/h.
    pub flow_mass: f64,
    /// Grade id of the built-in mud composition (e.g. `"highly_rey_rich"`).
    pub grade: String,
    /// REY (and impurity) content per element in mol per kg of dry mud when the flowsheet
    /// gives it explicitly; empty means "use the built-in composition of `grade`".
    pub content_mol_per_kg: BTreeMap<Element, f64>,
}

// ---------------------------------------------------------------------------------------
// Circuits
// ---------------------------------------------------------------------------------------

/// A countercurrent bank of mixer-settlers made of consecutive sections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Circuit {
    /// This circuit's id.
    pub id: CircuitId,
    /// Name used in links (`"<name>.raffinate"`).
    pub name: String,
    /// Sections in stage order (organic flows through them in this order).
    pub sections: Vec<Section>,
    /// Where feeds enter the circuit.
    pub feed_points: Vec<FeedPoint>,
    /// The organic phase.
    pub organic: Organic,
    /// Equilibrium model of every stage.
    pub equilibrium: Equilibrium,
    /// Murphree stage efficiency per section (same length as `sections`), 0 < E <= 1.
    pub murphree: Vec<f64>,
}

impl Circuit {
    /// Total number of stages N.
    pub fn n_stages(&self) -> usize {
        self.sections.iter().map(|s| s.n_stages).sum()
    }

    /// Index into `sections` of the section that holds circuit-wide stage `stage` (1-based).
    pub fn section_of_stage(&self, stage: usize) -> Option<usize> {
        let holds = |s: &Section| stage >= s.first_stage && stage <= s.last_stage();
        // Sections are laid out in stage order: a binary search, checked (a hand-built circuit
        // with sections out of order falls back to a scan).
        let k = self.sections.partition_point(|s| s.last_stage() < stage);
        match self.sections.get(k) {
            Some(s) if holds(s) => Some(k),
            _ => self.sections.iter().position(holds),
        }
    }

    /// The first section of the given kind.
    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    /// Index of the section that carries the circuit's solution of `kind`: the first section
    /// of that kind with a solution, else the first of that kind. A scrub split over two
    /// sections (`sxplan design` writes `scrub` and a one-stage `scrub_end` that the scrub
    /// solution enters) has its solution on the second; the circuit's "scrub solution" (what
    /// `scrub_flow` and `scrub_acid` move) is that one.
    pub fn solution_section(&self, kind: SectionKind) -> Option<usize> {
        self.sections
            .iter()
            .position(|s| s.kind == kind && s.solution.is_some())
            .or_else(|| self.sections.iter().position(|s| s.kind == kind))
    }

    /// The circuit's solution of `kind` (see [`Circuit::solution_section`]), if any.
    pub fn solution(&self, kind: SectionKind) -> Option<&AqueousSolution> {
        self.solution_section(kind)
            .and_then(|i| self.sections[i].solution.as_ref())
    }

    /// The scrub solution ([`Circuit::solution`]), if any.
    pub fn scrub_solution(&self) -> Option<&AqueousSolution> {
        self.solution(SectionKind::Scrub)
    }

    /// The strip solution ([`Circuit::solution`]), if any.
    pub fn strip_solution(&self) -> Option<&AqueousSolution> {
        self.solution(SectionKind::Strip)
    }

    /// True when the circuit has a strip section (its organic outlet is stripped organic).
    pub fn has_strip(&self) -> bool {
        self.section(SectionKind::Strip).is_some()
    }

    /// Circuit-wide stage (1-based) at which a port of this circuit attaches: the raffinate
    /// and section outlets leave their section's first stage, solution inlets enter at the
    /// solution's stage (default the section's last stage), the organic enters stage 1 and
    /// leaves stage N. `None` for a port the circuit does not have (no such section or feed
    /// point, or a port kind of units and other nodes).
    pub fn port_stage(&self, kind: PortKind) -> Option<usize> {
        let inlet = |s: &Section| s.solution.as_ref().map_or(s.last_stage(), |sol| sol.stage);
        match kind {
            PortKind::Raffinate => self.section(SectionKind::Extraction).map(|s| s.first_stage),
            PortKind::ScrubInlet => self.section(SectionKind::Scrub).map(inlet),
            PortKind::StripInlet => self.section(SectionKind::Strip).map(inlet),
            PortKind::StripLiquor => self.section(SectionKind::Strip).map(|s| s.first_stage),
            PortKind::OrganicInlet => Some(1),
            PortKind::LoadedOrganic | PortKind::StrippedOrganic => Some(self.n_stages()),
            PortKind::FeedPoint(k) => self.feed_points.get(k).map(|f| f.stage),
            PortKind::SectionInlet(k) => self.sections.get(k).map(inlet),
            PortKind::SectionOutlet(k) => self.sections.get(k).map(|s| s.first_stage),
            PortKind::Inlet(_) | PortKind::Outlet(_) | PortKind::Residue => None,
        }
    }

    /// True when stage `stage` (1-based) receives the aqueous leaving stage `stage + 1`: the
    /// two are in the same section, or `stage` is the last stage of its section and the next
    /// section passes its aqueous down ([`Section::aqueous_to_previous`]).
    pub fn aqueous_from_next(&self, stage: usize) -> bool {
        let (Some(here), Some(next)) = (
            self.section_of_stage(stage),
            self.section_of_stage(stage.saturating_add(1)),
        ) else {
            return false;
        };
        here == next
            || (self.sections[here].last_stage() == stage
                && self.sections[next].aqueous_to_previous)
    }
}

/// Kind of a circuit section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionKind {
    /// Loads the more extractable elements into the organic; aqueous leaves as raffinate.
    Extraction,
    /// Washes the less extractable elements back out of the loaded organic; its aqueous
    /// passes into the extraction section below.
    Scrub,
    /// Strips the metals from the organic into a strong acid (strip liquor).
    Strip,
    /// Organic wash (water or dilute acid) with its own aqueous inlet and outlet.
    Wash,
    /// Any other section with its own aqueous inlet and outlet.
    Other,
}

impl SectionKind {
    /// Lowercase name used in TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Extraction => "extraction",
            SectionKind::Scrub => "scrub",
            SectionKind::Strip => "strip",
            SectionKind::Wash => "wash",
            SectionKind::Other => "other",
        }
    }
}

/// A run of consecutive stages with one role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Role of the section.
    pub kind: SectionKind,
    /// Name used in port names of `wash`/`other` sections (defaults to the kind).
    pub name: String,
    /// Number of stages, >= 1.
    pub n_stages: usize,
    /// Circuit-wide number of its first stage (1-based).
    pub first_stage: usize,
    /// True when the aqueous leaving this section's first stage flows into the last stage
    /// of the previous section (a scrub directly above an extraction or another scrub
    /// section). Otherwise it leaves the circuit through this section's aqueous outlet port.
    pub aqueous_to_previous: bool,
    /// Fresh aqueous solution entering this section, if any.
    pub solution: Option<AqueousSolution>,
}

impl Section {
    /// Circuit-wide number of its last stage.
    pub fn last_stage(&self) -> usize {
        self.first_stage + self.n_stages.saturating_sub(1)
    }
}

/// A fresh aqueous solution (scrub, strip, wash) fed to a section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AqueousSolution {
    /// The acid, or `None` for water.
    pub acid: Option<Acid>,
    /// Acid concentration, mol/L of acid (0 for water).
    pub conc_mol: f64,
    /// Volumetric flow, L/h.
    pub flow_vol: f64,
    /// Circuit-wide stage where it enters (defaults to the section's last stage).
    pub stage: usize,
}

impl AqueousSolution {
    /// Proton concentration of the solution, mol/L.
    pub fn conc_h(&self) -> f64 {
        self.acid.map_or(0.0, |a| a.protons() * self.conc_mol)
    }
}

/// A point where a feed stream enters a circuit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedPoint {
    /// Port name (`"feed"` for the default feed point).
    pub name: String,
    /// Circuit-wide stage number, 1..=N.
    pub stage: usize,
    /// Phase the feed enters with.
    pub phase: Phase,
}

/// The organic phase of a circuit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organic {
    /// Id of the built-in extractant system (`sxplan_chem::extractant::find`), e.g. `"p507"`,
    /// resolved from any alias (`"PC88A"`).
    pub extractant: String,
    /// Extractant concentration (monomer basis), mol/L.
    pub conc_mol: f64,
    /// Saponification (pre-neutralization), if any.
    pub saponification: Option<Saponification>,
    /// Organic volumetric flow through the circuit, L/h. When the organic inlet is linked
    /// (organic recirculation) this is the circulation rate and the link supplies the
    /// composition.
    pub flow_vol: f64,
}

/// Pre-neutralization of an acidic extractant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saponification {
    /// Fraction of the extractant neutralized, 0..=1.
    pub fraction: f64,
    /// Base used.
    pub agent: Base,
}

// ---------------------------------------------------------------------------------------
// Equilibrium models
// ---------------------------------------------------------------------------------------

/// Equilibrium model of a circuit (DESIGN.md section 4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Equilibrium {
    /// Given distribution ratios D = y/x.
    Distribution(DistributionModel),
    /// Xu's constant-mixed-extraction-ratio model with relative extractabilities.
    SeparationFactor(SeparationFactorModel),
    /// Mass-action law of an acidic extractant with proton balance.
    MassAction(MassActionModel),
    /// Empirical log10 D = (a + a1 x) pH + b + c log10 x, x the extractant amount.
    Empirical(EmpiricalModel),
}

impl Equilibrium {
    /// Lowercase model name used in TOML.
    pub fn name(&self) -> &'static str {
        match self {
            Equilibrium::Distribution(_) => "distribution",
            Equilibrium::SeparationFactor(_) => "separation_factor",
            Equilibrium::MassAction(_) => "mass_action",
            Equilibrium::Empirical(_) => "empirical",
        }
    }

    /// Elements the model has data for.
    pub fn elements(&self) -> Vec<Element> {
        match self {
            Equilibrium::Distribution(m) => m.d_ratio.keys().copied().collect(),
            Equilibrium::SeparationFactor(m) => m.beta.keys().copied().collect(),
            Equilibrium::MassAction(m) => m.params.keys().copied().collect(),
            Equilibrium::Empirical(m) => m.coef.keys().copied().collect(),
        }
    }
}

/// A value given for a whole circuit, per section, or per stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageValues {
    /// One value for every stage.
    Uniform(f64),
    /// One value per section (same length as `Circuit::sections`).
    PerSection(Vec<f64>),
    /// One value per stage (length N; index 0 is stage 1).
    PerStage(Vec<f64>),
}

impl StageValues {
    /// The value at circuit-wide `stage` (1-based) lying in section `section` (index).
    /// Out-of-range indices fall back to the last value, so this never panics.
    pub fn at(&self, section: usize, stage: usize) -> f64 {
        match self {
            StageValues::Uniform(v) => *v,
            StageValues::PerSection(v) => pick(v, section),
            StageValues::PerStage(v) => pick(v, stage.saturating_sub(1)),
        }
    }
}

fn pick(v: &[f64], i: usize) -> f64 {
    v.get(i).or_else(|| v.last()).copied().unwrap_or(0.0)
}

/// Distribution-ratio model: y_i = D_i x_i.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistributionModel {
    /// D per element (dimensionless, finite, >= 0).
    pub d_ratio: BTreeMap<Element, StageValues>,
}

/// How the organic REE loading of a section is fixed in the separation-factor model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionLoading {
    /// Mixed extraction ratio E = organic REE flow / aqueous REE flow in the section.
    ExtractionRatio(f64),
    /// The organic leaves the section loaded to this REE concentration, mol/L (the
    /// extractant's loading capacity).
    Capacity(f64),
}

/// Xu's constant-mixed-extraction-ratio model: y_i = Y beta_i x_i / sum_j beta_j x_j.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeparationFactorModel {
    /// Relative extractability per element (any scale; ratios are separation factors).
    pub beta: BTreeMap<Element, f64>,
    /// Optional section-specific betas (same length as `Circuit::sections`; `None` uses `beta`).
    pub beta_section: Vec<Option<BTreeMap<Element, f64>>>,
    /// Loading per section (same length as `Circuit::sections`). Required for extraction and
    /// scrub sections; `None` on a strip or wash section means complete transfer to the
    /// aqueous.
    pub loading: Vec<Option<SectionLoading>>,
}

/// Parameters of one element in the mass-action model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MassActionParams {
    /// Extraction constant K_ex (mixed units, as the source gives it), > 0.
    pub k_ex: f64,
    /// Exponent n of the free dimeric extractant [(HA)2]_free.
    pub n_extractant: f64,
    /// Exponent z of [H+] (protons released per ion extracted; 3 for Ln3+).
    pub z_proton: f64,
}

/// Mass-action model: D_i = K_i [(HA)2]_free^n / [H+]^z.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MassActionModel {
    /// Parameters per element.
    pub params: BTreeMap<Element, MassActionParams>,
    /// Maximum REE concentration in the organic, mol/L, if limited.
    pub loading_capacity: Option<f64>,
}

/// Coefficients of the empirical correlation log10 D = (a + a1 x) pH + b + c log10 x, with x
/// the extractant amount in [`EmpiricalModel::measure`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmpiricalCoef {
    /// Slope in pH (at x = 0).
    pub a: f64,
    /// Change of the pH slope per unit x (0 unless given; PrOMMiS-style dosage correlations).
    pub a1: f64,
    /// Intercept.
    pub b: f64,
    /// Slope in log10 x; 0 when not given.
    pub c: f64,
}

/// What the extractant amount x of an empirical correlation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractantMeasure {
    /// Extractant concentration of the organic, mol/L (`Organic::conc_mol`).
    MolPerL,
    /// Volume percent of extractant in the organic.
    VolumePercent,
}

/// Empirical log-D correlation model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmpiricalModel {
    /// Coefficients per element.
    pub coef: BTreeMap<Element, EmpiricalCoef>,
    /// What x is.
    pub measure: ExtractantMeasure,
    /// x for this circuit when `measure` is volume percent (the organic's `conc_mol` is used
    /// for mol/L).
    pub volume_percent: Option<f64>,
}

// ---------------------------------------------------------------------------------------
// Linear units, splitters, mixers, purges, products
// ---------------------------------------------------------------------------------------

/// A linear unit operation upstream or downstream of SX. Each element entering splits
/// into the outlet (fraction `to_outlet`) and the residue (the rest).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// This unit's id.
    pub id: UnitId,
    /// Name used in links (`"<name>.outlet"`).
    pub name: String,
    /// What the unit does.
    pub kind: UnitKind,
    /// Fraction of each element leaving through the outlet, 0..=1.
    pub to_outlet: BTreeMap<Element, f64>,
    /// Fraction for elements not listed in `to_outlet`.
    pub default_to_outlet: f64,
    /// Reagents consumed.
    pub reagents: Vec<ReagentUse>,
    /// Provenance of the split fractions, if stated.
    pub source: Option<String>,
    /// Quality tag of the split fractions, if stated.
    pub quality: Option<Quality>,
}

impl Unit {
    /// Fraction of `e` leaving through the outlet.
    pub fn fraction_to_outlet(&self, e: Element) -> f64 {
        self.to_outlet
            .get(&e)
            .copied()
            .unwrap_or(self.default_to_outlet)
    }
}

/// Kind of linear unit, with kind-specific settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnitKind {
    /// Acid leach of mud: solid inlet, aqueous (liquor) outlet, solid residue.
    Leach {
        /// Leach acid.
        acid: Acid,
        /// Acid concentration of the leach solution, mol/L.
        conc_mol: f64,
        /// Leach solution per dry mud, L/kg.
        liquid_to_solid: f64,
    },
    /// Solid-liquid separation: aqueous in, aqueous out, residue (entrained liquor) out.
    SolidLiquid,
    /// Impurity removal (precipitation or a first SX treated as a split).
    ImpurityRemoval,
    /// Oxalate precipitation: aqueous in, solid precipitate out, filtrate as residue.
    Precipitation,
    /// Calcination of oxalate to oxide: solid in, solid out.
    Calcination,
}

impl UnitKind {
    /// Phase of the main inlet.
    pub fn inlet_phase(&self) -> Phase {
        match self {
            UnitKind::Leach { .. } | UnitKind::Calcination => Phase::Solid,
            _ => Phase::Aqueous,
        }
    }

    /// Phase of the main outlet.
    pub fn outlet_phase(&self) -> Phase {
        match self {
            UnitKind::Precipitation | UnitKind::Calcination => Phase::Solid,
            _ => Phase::Aqueous,
        }
    }

    /// Phase of the residue.
    pub fn residue_phase(&self) -> Phase {
        match self {
            UnitKind::Leach { .. } | UnitKind::ImpurityRemoval => Phase::Solid,
            _ => Phase::Aqueous,
        }
    }
}

/// A reagent consumed by a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReagentUse {
    /// The reagent.
    pub reagent: Reagent,
    /// Amount, mol per mol of the basis.
    pub mol_per_mol: f64,
    /// What the amount is per.
    pub basis: ReagentBasis,
}

/// Basis of a reagent consumption.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReagentBasis {
    /// Per mol of REY entering the unit.
    ReyIn,
    /// Per mol of the given element entering the unit.
    Element(Element),
}

/// Splits one stream into several with fixed fractions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Splitter {
    /// This splitter's id.
    pub id: SplitterId,
    /// Name used in links (`"<name>.inlet"`, `"<name>.<outlet>"`).
    pub name: String,
    /// Outlet names and fractions (each 0..=1, sum 1).
    pub outlets: Vec<(String, f64)>,
}

/// Mixes several streams of one phase into one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mixer {
    /// This mixer's id.
    pub id: MixerId,
    /// Name used in links (`"<name>.inlet1"`..., `"<name>.outlet"`).
    pub name: String,
    /// Number of inlets, >= 1.
    pub n_inlets: usize,
}

/// A sink that is not a product (bleed, waste).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Purge {
    /// This purge's id.
    pub id: PurgeId,
    /// Name used in links (`"<name>.inlet"`).
    pub name: String,
}

/// A product with its specifications.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    /// This product's id.
    pub id: ProductId,
    /// Product name.
    pub name: String,
    /// The port the product is drawn from.
    pub from: Port,
    /// Form of the product.
    pub kind: ProductKind,
    /// Purity specification, if any.
    pub purity: Option<PuritySpec>,
    /// Recovery specifications.
    pub recovery: Vec<RecoverySpec>,
}

/// Form of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductKind {
    /// An aqueous solution (e.g. raffinate sold or fed on).
    Aqueous,
    /// A loaded organic.
    Organic,
    /// Calcined oxide.
    Oxide,
}

/// Basis of a purity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PurityBasis {
    /// Mole fraction among the REY in the product.
    Mole,
    /// Mass fraction of oxide among the rare-earth oxides (REO basis).
    OxideMass,
}

/// Minimum purity of one element (or a group such as NdPr) in a product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PuritySpec {
    /// Element(s) whose combined fraction is specified.
    pub elements: Vec<Element>,
    /// Minimum purity, 0..=1.
    pub min: f64,
    /// Basis.
    pub basis: PurityBasis,
    /// Where the grade comes from (e.g. a price series' grade), if stated.
    pub source: Option<String>,
}

/// Minimum recovery of an element into a product (of what the feeds bring in).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoverySpec {
    /// Element.
    pub element: Element,
    /// Minimum recovery, 0..=1.
    pub min: f64,
}

// ---------------------------------------------------------------------------------------
// Ports and links
// ---------------------------------------------------------------------------------------

/// A node of the flowsheet that ports belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "node", content = "id", rename_all = "snake_case")]
pub enum NodeRef {
    /// An SX circuit.
    Circuit(CircuitId),
    /// A feed (source).
    Feed(FeedId),
    /// A linear unit.
    Unit(UnitId),
    /// A splitter.
    Splitter(SplitterId),
    /// A mixer.
    Mixer(MixerId),
    /// A purge (sink).
    Purge(PurgeId),
    /// A product (sink).
    Product(ProductId),
}

/// Which port of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortKind {
    /// Circuit: aqueous leaving the first stage of the extraction section.
    Raffinate,
    /// Circuit: aqueous entering the scrub section (at its solution stage, default its last
    /// stage); where reflux of strip liquor enters. TOML `scrub_inlet` or `scrub_liquor`.
    ScrubInlet,
    /// Circuit: aqueous entering the strip section at its last stage.
    StripInlet,
    /// Circuit: aqueous leaving the first stage of the strip section.
    StripLiquor,
    /// Circuit: organic entering stage 1 (organic return). TOML `organic_inlet` or
    /// `organic_return`.
    OrganicInlet,
    /// Circuit without strip section: organic leaving stage N.
    LoadedOrganic,
    /// Circuit with strip section: organic leaving stage N.
    StrippedOrganic,
    /// Circuit: the feed point with this index in `Circuit::feed_points`.
    FeedPoint(usize),
    /// Circuit: aqueous entering the `wash`/`other` section with this index.
    SectionInlet(usize),
    /// Circuit: aqueous leaving the `wash`/`other` section with this index.
    SectionOutlet(usize),
    /// Unit, splitter, mixer, purge or product: inlet number (0-based; one inlet except
    /// on mixers).
    Inlet(usize),
    /// Feed, unit, splitter or mixer: outlet number (0-based; several only on splitters).
    Outlet(usize),
    /// Unit: the residue (everything not sent to the outlet).
    Residue,
}

/// One end of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Port {
    /// The node.
    pub node: NodeRef,
    /// Which port of it.
    pub kind: PortKind,
}

/// A stream from an outlet port to an inlet port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Outlet port the stream leaves.
    pub from: Port,
    /// Inlet port the stream enters.
    pub to: Port,
    /// Phase of the stream.
    pub phase: Phase,
}

// ---------------------------------------------------------------------------------------
// Capacities, prices, optimization, data
// ---------------------------------------------------------------------------------------

/// A hydraulic capacity limit of a circuit (or one of its sections).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    /// The circuit.
    pub circuit: CircuitId,
    /// Section index, or `None` for every stage of the circuit.
    pub section: Option<usize>,
    /// The limit, applied to each stage (aqueous + organic flow through its mixer).
    pub limit: CapacityLimit,
}

/// How the capacity of a stage is given.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityLimit {
    /// Maximum total (aqueous + organic) flow through each stage, L/h.
    MaxFlow {
        /// L/h.
        flow_vol: f64,
    },
    /// Mixer volume and the residence time it must give.
    MixerVolume {
        /// Mixer volume, L.
        volume: f64,
        /// Required mixer residence time, h.
        residence_time: f64,
    },
}

impl CapacityLimit {
    /// Maximum total flow through each stage, L/h.
    pub fn max_flow_vol(&self) -> f64 {
        match self {
            CapacityLimit::MaxFlow { flow_vol } => *flow_vol,
            CapacityLimit::MixerVolume {
                volume,
                residence_time,
            } => {
                if *residence_time > 0.0 {
                    volume / residence_time
                } else {
                    f64::INFINITY
                }
            }
        }
    }
}

/// One price with its date and source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    /// US$/kg (of oxide, or of 100 % reagent).
    pub usd_per_kg: f64,
    /// Date or period of the price.
    pub date: Option<String>,
    /// Source of the price.
    pub source: Option<String>,
    /// Quality tag.
    pub quality: Option<Quality>,
}

/// Prices for the economic objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prices {
    /// Id of a built-in price set (resolved by the crate that owns prices), if named.
    pub set: Option<String>,
    /// Explicit oxide prices per element (price of the element's oxide), overriding the set.
    pub oxide: BTreeMap<Element, Price>,
    /// Explicit reagent prices, overriding the set.
    pub reagent: BTreeMap<Reagent, Price>,
    /// Operating cost other than reagents, US$/h, if given.
    pub operating_cost_per_h: Option<f64>,
}

/// Objective of `sxplan optimize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Maximize the feed throughput.
    MaxThroughput,
    /// Minimize the reagent cost per hour at the fixed feed.
    MinReagentCost,
    /// Maximize product value minus reagent and operating cost.
    MaxMargin,
}

/// A free operating variable with bounds in internal units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FreeVar {
    /// The variable.
    pub var: OperatingVar,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound (>= lower).
    pub upper: f64,
}

/// Settings of `sxplan optimize`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizeSettings {
    /// Objective.
    pub objective: Objective,
    /// Free operating variables.
    pub free: Vec<FreeVar>,
    /// Maximum successive-LP passes, if set.
    pub max_passes: Option<usize>,
}

/// The `[solver]` table: the iteration and wall-time budget of every run on the flowsheet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SolverSettings {
    /// Wall-time limit, s (`time_limit = "60 s"`).
    pub time_limit_s: Option<f64>,
    /// Iteration budget (`max_iterations = 1000000`; see `sxplan_sim::Budget`).
    pub max_iterations: Option<usize>,
}

/// The `[plant]` table: operating hours per year (for annual figures) and the basis of the
/// mixer-settler sizing and organic inventory shown in every report. Each value is optional;
/// the report states the default it used instead, with its source and quality tag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PlantSettings {
    /// Operating hours per year, h (`operating_hours = "8000 h"`).
    pub operating_hours: Option<f64>,
    /// Mixer residence time of the combined phases, h (`mixer_residence_time = "3 min"`).
    pub mixer_residence_time: Option<f64>,
    /// Specific settling rate, m3 of combined phases per m2 of settler area per hour
    /// (`settling_rate = 3.0`).
    pub settling_rate: Option<f64>,
    /// Depth of the organic layer in a settler, m (`settler_organic_depth = 0.3`).
    pub settler_organic_depth: Option<f64>,
    /// Organic held in launders, pipework and tanks, as a fraction of the organic in the
    /// mixers and settlers (`pipework_allowance = "10 %"`).
    pub pipework_allowance: Option<f64>,
}

/// Provenance of one datum the flowsheet uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataUse {
    /// What the datum is (`"circuit PrNd: beta (separation_factor)"`).
    pub item: String,
    /// Where it comes from (citation or "user: <file's source text>").
    pub source: String,
    /// Quality tag; `None` when the flowsheet gives a number without tagging it.
    pub quality: Option<Quality>,
    /// True for data built into sxplan, false for numbers written in the flowsheet.
    pub built_in: bool,
}

/// A user override of a built-in datum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataOverride {
    /// Dotted key of the datum (e.g. `"mud.highly_rey_rich.Dy"`).
    pub key: String,
    /// The value in the datum's internal unit.
    pub value: f64,
    /// Source of the value, if stated.
    pub source: Option<String>,
    /// Quality tag, if stated.
    pub quality: Option<Quality>,
}
