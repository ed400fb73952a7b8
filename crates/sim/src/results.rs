//! Result types of a whole-flowsheet simulation (all `serde::Serialize`, deterministic order).
//!
//! Units: volumetric flows L/h, concentrations mol/L, molar flows mol/h, oxide flows kg/h,
//! fractions 0..=1. Element maps are ordered by the canonical element order.

use std::collections::BTreeMap;

use serde::Serialize;
use sxplan_chem::Element;
use sxplan_model::Phase;

use crate::budget::{Budget, Deadline};
use crate::chain::Algorithm;
use crate::SolveStatus;

/// Version of the result schema (JSON `schema_version`).
pub const RESULT_SCHEMA_VERSION: u32 = 1;

/// Settings of [`crate::simulate`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Chain and recycle algorithm: [`Algorithm::Newton`] (block Newton chains, Newton-Broyden
    /// on tear streams) or [`Algorithm::Substitution`] (independent cross-check: substitution
    /// chains with dense solves, successive substitution on tear streams).
    pub algorithm: Algorithm,
    /// Maximum recycle (tear-stream) iterations.
    pub max_recycle_iterations: usize,
    /// Relative tolerance on the tear streams.
    pub recycle_tolerance: f64,
    /// Iteration and wall-time budget of the run ([`Budget`]: chain iterations summed over the
    /// run; the time limit is enforced through `deadline`).
    pub budget: Budget,
    /// When the run must end ([`Budget::start`] with the caller's clock; [`Deadline::NONE`]
    /// never passes). Checked inside chain Newton iterations, continuation steps,
    /// substitution passes and tear iterations.
    pub deadline: Deadline,
    /// Called after every recycle (tear-stream) iteration (the CLI draws progress with it).
    pub progress: Option<ProgressFn>,
}

/// A progress hook ([`SimOptions::progress`]). All hooks compare equal: a display does not
/// change what is computed.
#[derive(Clone, Copy)]
pub struct ProgressFn(pub fn(&RecycleProgress));

impl PartialEq for ProgressFn {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

/// Where a recycle convergence stands, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecycleProgress {
    /// Recycle iterations so far.
    pub iteration: usize,
    /// Largest relative tear-stream residual.
    pub residual: f64,
    /// Seconds since the run started (0 without a clock).
    pub elapsed_s: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            algorithm: Algorithm::Newton,
            max_recycle_iterations: 200,
            recycle_tolerance: 1e-12,
            budget: Budget::default(),
            deadline: Deadline::NONE,
            progress: None,
        }
    }
}

/// Everything a simulation produces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimResult {
    /// Result schema version ([`RESULT_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Flowsheet name.
    pub flowsheet: String,
    /// Overall outcome: converged only when every circuit and the recycles converged.
    pub status: SolveStatus,
    /// Recycle (tear-stream) iterations; 1 for a flowsheet without recycles.
    pub iterations: usize,
    /// Elements simulated, canonical order.
    pub elements: Vec<Element>,
    /// Mass balance closure.
    pub mass_balance: MassBalance,
    /// Every stream between nodes (internal stage-to-stage streams are in the circuit profiles).
    pub streams: Vec<StreamResult>,
    /// Products.
    pub products: Vec<ProductResult>,
    /// Circuits with per-stage profiles.
    pub circuits: Vec<CircuitResult>,
    /// Reagent consumption.
    pub reagents: Reagents,
    /// Solver diagnostics.
    pub diagnostics: Diagnostics,
}

/// Mass balance over the plant: what the feeds bring against what products, purges and
/// unconnected outlets take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MassBalance {
    /// Largest relative error over elements: `|in - out| / in`.
    pub max_relative_error: f64,
    /// Relative error of the total over all elements.
    pub overall_relative_error: f64,
    /// Per element.
    pub per_element: BTreeMap<Element, ElementBalance>,
}

/// Balance of one element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementBalance {
    /// Entering with the feeds, mol/h.
    pub in_mol_per_h: f64,
    /// Leaving through products, purges and outlets, mol/h.
    pub out_mol_per_h: f64,
    /// `|in - out| / in` (0 when nothing enters and nothing leaves).
    pub relative_error: f64,
}

/// One stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamResult {
    /// Stream id in the stage graph.
    pub id: usize,
    /// Readable name (`from -> to`).
    pub name: String,
    /// Phase.
    pub phase: Phase,
    /// Node the stream leaves.
    pub from: String,
    /// Node the stream enters.
    pub to: String,
    /// Volumetric flow, L/h (0 for solids).
    pub flow_vol_l_per_h: f64,
    /// Solids mass flow, t/h (0 for solutions).
    pub flow_mass_t_per_h: f64,
    /// Net acidity (H+ minus OH-), mol/h; 0 for organic and solids.
    pub acid_mol_per_h: f64,
    /// Concentration per element, mol/L (0 when the stream has no volume).
    pub conc_mol_per_l: BTreeMap<Element, f64>,
    /// Molar flow per element, mol/h.
    pub flow_mol_per_h: BTreeMap<Element, f64>,
    /// True when the stream was a tear stream of a recycle.
    pub tear: bool,
}

/// One product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductResult {
    /// Product name.
    pub id: String,
    /// Elements whose combined fraction is the purity (the spec's, or the main element).
    pub purity_elements: Vec<Element>,
    /// Mole fraction of `purity_elements` among the REY of the product.
    pub purity_mol: f64,
    /// Oxide-mass fraction of `purity_elements` among the rare-earth oxides of the product.
    pub purity_reo_mass: f64,
    /// Minimum purity required by the flowsheet, if any, and its basis.
    pub purity_spec: Option<PuritySpecResult>,
    /// Recovery per element: product flow over feed flow (elements that the feeds bring).
    pub recovery: BTreeMap<Element, f64>,
    /// Rare-earth oxide equivalent of the product, kg/h.
    pub reo_kg_per_h: f64,
    /// Molar flow per element, mol/h.
    pub flow_mol_per_h: BTreeMap<Element, f64>,
}

/// A purity specification and whether the product meets it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PuritySpecResult {
    /// Minimum purity.
    pub min: f64,
    /// `mole` or `oxide_mass`.
    pub basis: String,
    /// True when the simulated purity on that basis reaches the minimum.
    pub met: bool,
}

/// A circuit with its stage profiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitResult {
    /// Circuit name.
    pub name: String,
    /// Equilibrium model name.
    pub model: String,
    /// Outcome of the last chain solve of this circuit.
    pub status: SolveStatus,
    /// Iterations of the last chain solve.
    pub iterations: usize,
    /// Largest relative stage balance residual.
    pub max_residual: f64,
    /// Stages, stage 1 first.
    pub stages: Vec<StageResult>,
    /// The acid/base budget of the circuit from its section flows, when the solve did not
    /// converge or a stage ended above the hydroxide pH (`None` otherwise; docs/ph.md).
    pub acid_budget: Option<sxplan_model::acid_budget::AcidBudget>,
}

/// One stage's steady state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageResult {
    /// Circuit-wide stage number, 1-based.
    pub stage: usize,
    /// Section kind (`extraction`, `scrub`, `strip`, ...).
    pub section: String,
    /// Aqueous flow leaving the stage, L/h.
    pub flow_vol_aq: f64,
    /// Organic flow leaving the stage, L/h.
    pub flow_vol_org: f64,
    /// Aqueous concentration per element, mol/L.
    pub conc_aq: BTreeMap<Element, f64>,
    /// Organic concentration per element, mol/L.
    pub conc_org: BTreeMap<Element, f64>,
    /// Net acidity of the aqueous leaving the stage, mol/L (H+ minus OH-).
    pub acidity_mol_per_l: f64,
    /// pH = -log10 [H+] from the net acidity with the water equilibrium.
    pub ph: f64,
    /// Free dimeric extractant, mol/L (mass-action model only).
    pub free_extractant: Option<f64>,
    /// Total REY concentration in the organic, mol/L.
    pub loading_mol_per_l: f64,
    /// Fraction of the extractant bound (mass action) or of the loading capacity (separation
    /// factor with a capacity), when defined.
    pub loading_fraction: Option<f64>,
}

/// Reagent consumption.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reagents {
    /// Per reagent.
    pub items: Vec<ReagentUseResult>,
    /// REO in all products, kg/h (the basis of the per-tonne figures).
    pub reo_product_kg_per_h: f64,
}

/// Consumption of one reagent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReagentUseResult {
    /// Reagent (`HCl`, `H2SO4`, `HNO3`, `NaOH`, `NH3`, `oxalic_acid`, ...).
    pub reagent: String,
    /// What it is used for (`circuit PrNd scrub`, `circuit PrNd saponification`, ...).
    #[serde(rename = "use")]
    pub use_: String,
    /// mol/h (of acid or base molecules).
    pub mol_per_h: f64,
    /// kg/h (100 % basis).
    pub kg_per_h: f64,
    /// t of reagent per t of REO product, when REO is produced.
    pub t_per_t_reo: Option<f64>,
}

/// Solver diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// Algorithm used (`newton` or `substitution`).
    pub algorithm: String,
    /// Number of stages.
    pub n_stages: usize,
    /// Number of streams in the stage graph (internal included).
    pub n_streams: usize,
    /// Number of tear streams.
    pub n_tears: usize,
    /// Largest relative stage balance residual over all circuits.
    pub max_stage_residual: f64,
    /// Largest relative change of the tear streams in the last recycle iteration.
    pub recycle_residual: f64,
    /// Chain iterations summed over all circuit solves.
    pub chain_iterations: usize,
    /// The run's budget and what it spent.
    pub budget: BudgetReport,
    /// Notes: elements without model data, stages without flow, ...
    pub warnings: Vec<String>,
    /// Why a circuit has no physical steady state, one line per circuit diagnosed and per
    /// violated budget, with numbers and what to change (empty when none is diagnosed).
    pub acid_base: Vec<String>,
}

/// Which budget ended a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetSpent {
    /// The run ended within its budget.
    None,
    /// The wall-time limit was reached.
    TimeLimit,
    /// The iteration budget was used up.
    MaxIterations,
}

impl BudgetSpent {
    /// Name in text and JSON (`none`, `time_limit`, `max_iterations`).
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetSpent::None => "none",
            BudgetSpent::TimeLimit => "time_limit",
            BudgetSpent::MaxIterations => "max_iterations",
        }
    }
}

/// A run's budget and where its effort went.
///
/// Times are reported only when a budget was spent (they differ between runs, and a result
/// within its budget is deterministic); iterations always.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetReport {
    /// Wall-time limit, s.
    pub time_limit_s: f64,
    /// Iteration budget (chain iterations summed over the run).
    pub max_iterations: usize,
    /// Chain iterations counted against the budget.
    pub iterations: usize,
    /// Which budget ended the run, if one did.
    pub spent: BudgetSpent,
    /// Seconds from the start of the run to the end of the simulation (only when spent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_s: Option<f64>,
    /// Recycle (tear-stream) iterations.
    pub recycle_iterations: usize,
    /// Per circuit, in flowsheet order.
    pub circuits: Vec<CircuitEffort>,
}

/// The effort spent on one circuit over a run (all its chain solves, recycle passes included).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitEffort {
    /// Circuit name.
    pub name: String,
    /// Chain solves.
    pub solves: usize,
    /// Chain iterations summed over them.
    pub iterations: usize,
    /// Seconds spent in them (only when a budget was spent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_s: Option<f64>,
}
