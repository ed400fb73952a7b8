//! Successive linear programming ("recursion") with a trust region: simulate, linearize, solve, step,
//! re-simulate; only points the simulator confirms are accepted.
//!
//! Each pass solves the elastic cascade LP (soft specs and limits with exact-penalty slacks), so every
//! LP is feasible and a step always exists. A step is accepted when the merit function
//! `objective - PENALTY x (scaled spec violation in simulation)` does not get worse; otherwise the trust
//! region shrinks. The recursion stops when the step and the LP-predicted improvement are below the
//! tolerances: [`OptStatus::Optimal`] if the simulated point meets every spec and limit, otherwise
//! [`OptStatus::Infeasible`] with a diagnosis naming the conflicting specs.

use sxplan_chem::Element;
use sxplan_model::{Flowsheet, Objective, OperatingVar, PurityBasis, Reagent};

use crate::cascade::{
    build, build_reduced, responses, CascadeLp, Economics, LpObjective, Meaning, PENALTY,
};
use crate::curvature::{common_duals, lagrangian_gradient, tangents, Curvature};
use crate::error::OptError;
use crate::lp::RowKind;
use crate::plant::{loading_limit, OperatingPoint, Plant, PlantPoint};
use crate::solve::{diagnose, solve, Backend, LpOptions, LpSolution, LpStatus};
use sxplan_model::operating;

/// Largest simulated relative violation accepted for a Newton-like step onto the active specs.
const NEWTON_VIOLATION: f64 = 1e-2;
/// Largest scaled LP residual at which a step LP whose residual check failed still proposes
/// its step (the simulation then decides); see [`crate::solve::LpOptions::residual_tol`].
const PROPOSAL_RESIDUAL: f64 = 1e-2;
/// LP-predicted merit gain (relative) below which a feasible point is first-order stationary.
const STATIONARY: f64 = 1e-9;
/// Candidates in a row whose local evaluation (Newton from the predicted state) did not
/// converge before the full simulation evaluates the next one.
const NEAR_FAILURES: usize = 6;

/// Relative step below which a failed near evaluation is taken for a plant Newton from the
/// prediction cannot follow, not for a step too long (see the candidate evaluation).
const NEAR_TINY_STEP: f64 = 1e-3;

/// After a candidate that simulated was rejected, the region grows back to at most this share of
/// the failed step, and the cap relaxes by GROW_CAP_RELAX per accepted pass that grew.
const GROW_CAP: f64 = 0.7;
const GROW_CAP_RELAX: f64 = 1.1;
/// The smallest trust region (scaled) over which a stagnating recursion's point must show no
/// first-order gain above `objective_tol` to be declared optimal.
const STAGNATION_REGION: f64 = 1e-2;
/// The cap is forgotten once the point is farther than CAP_REACH failed steps from where the
/// step failed.
const CAP_REACH: f64 = 2.0;

/// The merit's penalty in the optimality phase is MERIT_FACTOR times the sum of the specs'
/// multipliers (an exact penalty for the largest violation needs more than their sum), at least
/// MERIT_FLOOR and at most the elastic LP's PENALTY.
///
/// A fixed penalty of PENALTY (1e4) per unit of relative violation made a purity 1e-5 over its
/// allowance cost 10 % of the objective, where the spec's own multiplier valued it at about 1e-5:
/// the recursion then rejected every step whose second-order error showed, and crept.
const MERIT_FACTOR: f64 = 10.0;
const MERIT_FLOOR: f64 = 1.0;

/// Sum of the multipliers of the LP's spec and limit rows (purity, recovery, capacity, loading),
/// each per unit of relative violation, in merit units (the objective over its scale): a row's
/// elastic penalty is `PENALTY x (objective scale) / (row scale)`, so its dual `y` is worth
/// `|y| PENALTY / penalty` per relative unit.
fn spec_multipliers(clp: &CascadeLp, sol: &LpSolution) -> f64 {
    clp.lp
        .rows
        .iter()
        .zip(&sol.duals)
        .filter(|(r, _)| {
            matches!(
                r.kind,
                RowKind::Purity | RowKind::Recovery | RowKind::Capacity | RowKind::Loading
            )
        })
        .filter_map(|(r, y)| r.soft.map(|s| y.abs() * PENALTY / s.penalty))
        .filter(|v| v.is_finite())
        .sum()
}

/// Pass budget when neither the caller nor the flowsheet gives one. The run's wall-time budget
/// bounds it too. Measured: the 10-circuit plant `synthesize` writes for the flagship feed (11
/// free variables, starting at its cuts' breakthrough) reaches `optimal` in 39 passes; the
/// flagship in 10.
pub const DEFAULT_MAX_PASSES: usize = 100;

/// Share of the LP's predicted gain given up, per operating variable moved across its whole
/// trust region, for a step that moves only the variables the gain needs (see [`least_move`]).
const MOVE_PRICE: f64 = 1e-3;

/// A simulated candidate judged against the current point.
struct Judged {
    sim: PlantPoint,
    checks: Vec<SpecCheck>,
    obj: f64,
    viol: f64,
    merit: f64,
    actual: f64,
    /// A small violation the next linearization corrects (accepted though the merit fell).
    newton: bool,
    ok: bool,
}

/// The operating point an LP proposes from `from`: its operating columns, clamped into the
/// operating bounds (or as far as `from` already lies outside them).
fn lp_point(
    plant: &Plant,
    clp: &CascadeLp,
    sol: &LpSolution,
    from: &OperatingPoint,
) -> OperatingPoint {
    let mut p = from.clone();
    for (k, &v) in clp.u.iter().enumerate() {
        let f = &plant.free[k];
        let x0 = from.values[k].1;
        p.values[k].1 = sol.value(v).clamp(f.lower.min(x0), f.upper.max(x0));
    }
    p
}

/// The step LP again, with every operating variable's move priced at `MOVE_PRICE` of the
/// predicted gain per trust-region width: of the steps that give nearly the LP's gain (at most
/// `MOVE_PRICE` of it per variable is given up), the one that moves least.
///
/// A linear program puts a variable its objective is (nearly) indifferent to at a corner of
/// the trust region; in a cascade such a variable is typically an extraction ratio whose
/// linearized effect on the purities is small at the point but whose actual effect over the
/// whole region is not (the impurity of a long section is exponential in it). Those moves buy
/// nothing and cost the pass: the simulated candidate violates a purity spec, the pass is
/// rejected and the region shrinks. With the move priced, a variable moves only where its
/// marginal value exceeds the price. `gain` is the predicted gain in LP objective units (> 0).
/// Returns `None` when the re-solve is not usable; the first solution then stands.
///
/// With a curvature model (`curv`, see [`crate::curvature`]) the re-solve is the step QP: the
/// objective also gets the model's curvature about the point, so a step along a curved face of
/// the specs stops where the model's gain does. The returned flag says whether it did.
fn least_move(
    clp: &CascadeLp,
    point: &OperatingPoint,
    rad: &[f64],
    gain: f64,
    lp_opts: &LpOptions,
    curv: Option<&Curvature>,
) -> Result<Option<(LpSolution, bool)>, OptError> {
    let mut lp = clp.lp.clone();
    let u0: Vec<f64> = point.values.iter().map(|v| v.1).collect();
    let curved = curv.is_some_and(|c| c.add_to(&mut lp, &clp.u, &u0));
    let sign = match lp.direction {
        crate::lp::Direction::Maximize => -1.0,
        crate::lp::Direction::Minimize => 1.0,
    };
    for (k, &u) in clp.u.iter().enumerate() {
        let r = rad[k].abs();
        if r <= 0.0 || !r.is_finite() {
            continue;
        }
        let x0 = point.values[k].1;
        let t = lp.add_scaled_var(format!("move {k}"), 0.0, f64::INFINITY, r);
        lp.add_row(
            format!("move {k} up"),
            RowKind::Other,
            vec![(t, 1.0), (u, -1.0)],
            crate::lp::Relation::Ge,
            -x0,
        );
        lp.add_row(
            format!("move {k} down"),
            RowKind::Other,
            vec![(t, 1.0), (u, 1.0)],
            crate::lp::Relation::Ge,
            x0,
        );
        lp.add_objective(t, sign * MOVE_PRICE * gain / r);
    }
    let sol = solve(&lp, lp_opts)?;
    // As for the first solve: a narrowly inaccurate solution still proposes a step (the
    // simulation of the candidate decides), and never gives shadow prices.
    let proposal = sol.status.is_usable()
        || (sol.status == LpStatus::Inaccurate && sol.residuals.max_scaled() <= PROPOSAL_RESIDUAL);
    if !proposal {
        return Ok(None);
    }
    let n = clp.lp.vars.len();
    let mut out = sol;
    out.x.truncate(n);
    out.objective = clp.lp.objective_value(&out.x);
    Ok(Some((out, curved)))
}

/// Outcome of an optimization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OptStatus {
    /// Converged to a point the simulator confirms meets every spec and limit.
    Optimal,
    /// The trust region shrank below its floor without convergence; the last accepted point is returned.
    Stalled,
    /// No operating point within the bounds meets every spec and limit; see the diagnosis.
    Infeasible,
    /// The pass budget ran out; the last accepted point is returned.
    IterationLimit,
    /// The run's wall-time budget ran out (`--time-limit`, `[solver] time_limit`); the last
    /// accepted point is returned.
    TimeLimit,
    /// The simulator did not converge at the starting point.
    SimulationFailed,
}

impl OptStatus {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            OptStatus::Optimal => "optimal",
            OptStatus::Stalled => "stalled",
            OptStatus::Infeasible => "infeasible",
            OptStatus::IterationLimit => "iteration_limit",
            OptStatus::TimeLimit => "time_limit",
            OptStatus::SimulationFailed => "simulation_failed",
        }
    }
}

/// Options of [`optimize`].
#[derive(Debug, Clone)]
pub struct OptimizeOptions {
    /// Objective (overrides the flowsheet's `[optimize] objective` when set).
    pub objective: Option<Objective>,
    /// Maximum passes (overrides the flowsheet's `max_passes` when set; default
    /// [`DEFAULT_MAX_PASSES`]).
    pub max_passes: Option<usize>,
    /// LP options (backend, scaling).
    pub lp: LpOptions,
    /// Relative step below which the recursion counts as converged.
    pub step_tol: f64,
    /// Relative objective change over three accepted feasible passes below which the recursion
    /// counts as converged (default 1e-4).
    pub objective_tol: f64,
    /// Largest accepted relative spec violation in simulation (default 0: specs are met strictly;
    /// the LP aims [`crate::cascade::SPEC_MARGIN`] inside them).
    pub spec_tol: f64,
    /// Initial trust-region half-width, relative to each variable's magnitude.
    pub initial_radius: f64,
    /// Clock used to time LP solves (seconds since any fixed instant); `None`: times are not reported.
    /// The library never reads a clock itself.
    pub clock: Option<fn() -> f64>,
    /// When the run must end (the wall-time budget, [`sxplan_sim::Budget::start`]): checked
    /// before every pass and inside every simulation; [`sxplan_sim::Deadline::NONE`] never
    /// passes.
    pub deadline: sxplan_sim::Deadline,
    /// Chain iterations one simulation of the recursion may spend ([`sxplan_sim::Budget`]'s
    /// `max_iterations`, applied per simulation).
    pub max_sim_iterations: usize,
}

impl Default for OptimizeOptions {
    fn default() -> Self {
        OptimizeOptions {
            objective: None,
            max_passes: None,
            lp: LpOptions::default(),
            step_tol: 1e-7,
            objective_tol: 1e-4,
            spec_tol: 0.0,
            initial_radius: 0.5,
            clock: None,
            deadline: sxplan_sim::Deadline::NONE,
            max_sim_iterations: sxplan_sim::Budget::DEFAULT_MAX_ITERATIONS,
        }
    }
}

/// One pass of the recursion.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pass {
    /// Pass number, 1-based.
    pub pass: usize,
    /// Objective at the simulated point after the pass (accepted point).
    pub objective: f64,
    /// Largest relative change of an operating variable proposed by the LP.
    pub step: f64,
    /// Trust-region half-width used (relative).
    pub radius: f64,
    /// Largest relative spec or limit violation in simulation at the proposed point.
    pub max_violation: f64,
    /// Whether the proposed point was accepted.
    pub accepted: bool,
    /// LP status.
    pub lp_status: LpStatus,
    /// LP columns.
    pub lp_cols: usize,
    /// LP rows.
    pub lp_rows: usize,
    /// LP nonzeros.
    pub lp_nonzeros: usize,
    /// LP solve time in seconds (when a clock was given).
    pub lp_time_s: Option<f64>,
    /// LP solver iterations.
    pub lp_iterations: Option<u32>,
    /// First-order optimality measure of the pass: the merit improvement the LP predicts within
    /// the trust region, divided by the region's relative radius (the criticality measure of
    /// trust-region SLP; it goes to 0 at a KKT point of the linearized problem). 0 when the LP
    /// gave no usable step.
    pub optimality: f64,
    /// What the pass did with the LP's step.
    pub outcome: PassOutcome,
}

/// What a pass did with the LP's proposed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PassOutcome {
    /// The simulated candidate improved the merit (or is a small violation Newton corrects
    /// next pass) and became the current point.
    Accepted,
    /// The candidate was rejected for its violation, and the second-order correction from it
    /// (linearized at the candidate) was accepted instead.
    Corrected,
    /// The candidate simulated but made the merit worse; the trust region shrank.
    Rejected,
    /// Newton from the predicted state did not reach the candidate's steady state; the trust
    /// region shrank.
    NotSolved,
    /// The LP gave no usable step; the trust region shrank.
    NoStep,
    /// First-order stationary: the LP predicts no merit gain within the trust region at a
    /// feasible point, or the step fell below the step tolerance.
    Stationary,
}

impl PassOutcome {
    /// Lowercase name used in text and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            PassOutcome::Accepted => "accepted",
            PassOutcome::Corrected => "corrected",
            PassOutcome::Rejected => "rejected",
            PassOutcome::NotSolved => "not_solved",
            PassOutcome::NoStep => "no_step",
            PassOutcome::Stationary => "stationary",
        }
    }
}

/// An operating variable's optimized value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OperatingValue {
    /// The variable.
    pub var: OperatingVar,
    /// Human-readable name.
    pub name: String,
    /// Value in internal units (L/h, t/h).
    pub value: f64,
    /// Value in user units.
    pub value_user: f64,
    /// Starting value in user units.
    pub start_user: f64,
    /// User unit.
    pub unit: String,
    /// Lower bound in user units.
    pub lower_user: f64,
    /// Upper bound in user units.
    pub upper_user: f64,
    /// `"lower"`, `"upper"` or `"between"`.
    pub at_bound: String,
    /// Objective change per unit (user) increase of the bound it sits at (0 between bounds).
    pub reduced_cost: f64,
}

/// A binding constraint's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShadowPrice {
    /// What binds (`"capacity PrNd"`, `"purity Dy2O3 Dy >= 99.5 %"`).
    pub constraint: String,
    /// Row kind.
    pub kind: RowKind,
    /// Objective change per unit of relaxation, in `unit`.
    pub value: f64,
    /// E.g. `"m3/h feed per m3/h of capacity"`, `"US$/h per 0.1 % purity"`.
    pub unit: String,
    /// Rank by |value| among all shadow prices (1 = limits the plant most).
    pub rank: usize,
}

/// Per product: flows, purity, recovery, and whether the specs hold in simulation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProductResult {
    /// Product name.
    pub name: String,
    /// Element flows, mol/h.
    pub flow_mol: Vec<(Element, f64)>,
    /// Oxide mass flow of the REY, kg/h.
    pub oxide_kg_h: f64,
    /// Purity of the specified elements (basis of the spec) when a purity spec exists.
    pub purity: Option<f64>,
    /// Purity spec.
    pub purity_min: Option<f64>,
    /// Recovery per specified element: (element, achieved, min).
    pub recovery: Vec<(Element, f64, f64)>,
}

/// One spec or limit checked in simulation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpecCheck {
    /// What is checked.
    pub name: String,
    /// Kind.
    pub kind: RowKind,
    /// Value reached in simulation (purity or recovery fraction, flow L/h, loading mol/L).
    pub value: f64,
    /// The limit.
    pub limit: f64,
    /// Relative violation (0 when met).
    pub violation: f64,
}

/// A spec that takes part in an infeasibility.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConflictReport {
    /// The spec or limit.
    pub constraint: String,
    /// Kind.
    pub kind: RowKind,
    /// Relative violation needed (0 for specs that bind the conflict without being violated).
    pub relative_violation: f64,
}

/// The simulation at the returned point: the state the optimizer evaluated there with the one
/// simulator (`sxplan_sim::Simulator`), which is what `sxplan simulate` gives for the optimized
/// flowsheet.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Confirmation {
    /// The simulation's status.
    pub status: sxplan_sim::SolveStatus,
    /// Largest relative spec or limit violation in that simulation.
    pub max_violation: f64,
    /// Its largest relative element mass-balance error.
    pub mass_balance_error: f64,
}

/// Result of [`optimize`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OptimizeResult {
    /// Outcome.
    pub status: OptStatus,
    /// Objective used.
    pub objective: Objective,
    /// Objective value at the returned point.
    pub objective_value: f64,
    /// Objective at the starting point (as simulated; specs may not hold there).
    pub objective_start: f64,
    /// Unit of the objective (`"m3/h"`, `"US$/h"`).
    pub objective_unit: String,
    /// Per-pass convergence table.
    pub passes: Vec<Pass>,
    /// The returned operating point.
    pub operating_point: Vec<OperatingValue>,
    /// Shadow prices of the binding constraints, ranked.
    pub shadow_prices: Vec<ShadowPrice>,
    /// Products at the returned point.
    pub products: Vec<ProductResult>,
    /// Every spec and limit checked in simulation at the returned point.
    pub checks: Vec<SpecCheck>,
    /// Conflicting specs when infeasible.
    pub conflicts: Vec<ConflictReport>,
    /// The simulation at the returned point.
    pub confirmation: Option<Confirmation>,
    /// Backend used.
    pub backend: String,
    /// Data used for prices (source strings).
    pub price_sources: Vec<String>,
    /// Largest element mass-balance closure error (relative) of the returned point: feeds
    /// against every product, purge and open outlet.
    pub balance_closure: f64,
    /// LP size of the last pass: (columns, rows, nonzeros).
    pub lp_size: (usize, usize, usize),
    /// Why the run ended where it did, with the measured figures, when it did not end
    /// `optimal` (`None` when it did).
    pub reason: Option<String>,
    /// The optimized flowsheet (operating point applied), for re-simulation and TOML output.
    #[serde(skip)]
    pub flowsheet: Flowsheet,
    /// The optimized operating point.
    #[serde(skip)]
    pub point: OperatingPoint,
}

fn model_to_chem(r: Reagent) -> Option<sxplan_chem::prices::Reagent> {
    use sxplan_chem::prices::Reagent as C;
    match r {
        Reagent::HCl => Some(C::HydrochloricAcid),
        Reagent::NaOH => Some(C::SodiumHydroxide),
        Reagent::NH3 => Some(C::Ammonia),
        Reagent::OxalicAcid => Some(C::OxalicAcid),
        _ => None,
    }
}

fn reagent_formula(r: Reagent) -> &'static str {
    match r {
        Reagent::HCl => "HCl",
        Reagent::H2SO4 => "H2SO4",
        Reagent::HNO3 => "HNO3",
        Reagent::NaOH => "NaOH",
        Reagent::NH3 => "NH3",
        Reagent::OxalicAcid => "H2C2O4.2H2O",
        Reagent::Extractant => "",
    }
}

/// Resolves prices into US$ per mol: explicit flowsheet prices first, then the named price set.
pub fn economics(
    fs: &Flowsheet,
    objective: Objective,
) -> Result<(Economics, Vec<String>), OptError> {
    let mut sources = Vec::new();
    let mut econ = Economics {
        reagent_usd_per_mol: Vec::new(),
        element_usd_per_mol: Vec::new(),
        operating_cost_per_h: 0.0,
    };
    if objective == Objective::MaxThroughput {
        return Ok((econ, sources));
    }
    let prices = fs.prices.as_ref().ok_or_else(|| {
        OptError::InvalidProblem(format!(
            "objective {objective:?} needs [prices] (oxide and reagent prices or a price set)"
        ))
    })?;
    let set = match &prices.set {
        Some(id) => Some(sxplan_chem::prices::price_set(id).ok_or_else(|| {
            OptError::InvalidProblem(format!("prices: unknown price set \"{id}\""))
        })?),
        None => None,
    };
    if let Some(s) = set {
        sources.push(format!("price set {} ({}, {})", s.id, s.name, s.date));
    }
    econ.operating_cost_per_h = prices.operating_cost_per_h.unwrap_or(0.0);
    for r in [
        Reagent::HCl,
        Reagent::H2SO4,
        Reagent::HNO3,
        Reagent::NaOH,
        Reagent::NH3,
        Reagent::OxalicAcid,
    ] {
        let usd_per_kg = if let Some(p) = prices.reagent.get(&r) {
            sources.push(format!(
                "reagent {r:?}: {} US$/kg ({}, {})",
                p.usd_per_kg,
                p.source.as_deref().unwrap_or("user, no source given"),
                p.date.as_deref().unwrap_or("undated")
            ));
            Some(p.usd_per_kg)
        } else {
            set.and_then(|s| model_to_chem(r).and_then(|c| s.reagent(c)))
                .and_then(|p| {
                    let v = p.usd_per_kg_active();
                    if v.is_some() {
                        sources.push(format!(
                            "reagent {r:?}: {} ({})",
                            p.product, p.provenance.source
                        ));
                    }
                    v
                })
        };
        if let Some(v) = usd_per_kg {
            let mm = sxplan_chem::formula::molar_mass(reagent_formula(r)).ok_or_else(|| {
                OptError::InvalidProblem(format!(
                    "reagent {r:?}: no molar mass for formula {}",
                    reagent_formula(r)
                ))
            })?;
            econ.reagent_usd_per_mol.push((r, v * mm / 1000.0));
        }
    }
    if objective == Objective::MaxMargin {
        for e in &fs.elements {
            let p = if let Some(p) = prices.oxide.get(e) {
                sources.push(format!(
                    "oxide {}: {} US$/kg ({}, {})",
                    e.symbol(),
                    p.usd_per_kg,
                    p.source.as_deref().unwrap_or("user, no source given"),
                    p.date.as_deref().unwrap_or("undated")
                ));
                Some(p.usd_per_kg)
            } else {
                set.and_then(|s| s.oxide(*e)).map(|p| {
                    sources.push(format!(
                        "oxide {}: {} US$/kg ({})",
                        e.symbol(),
                        p.usd_per_kg,
                        p.provenance.source
                    ));
                    p.usd_per_kg
                })
            };
            if let Some(v) = p {
                econ.element_usd_per_mol
                    .push((*e, v * e.oxide_mass_per_mol_metal() / 1000.0));
            }
        }
    }
    Ok((econ, sources))
}

/// Objective value at a simulated point (internal units: L/h or US$/h).
fn objective_at(
    objective: Objective,
    point: &OperatingPoint,
    fs: &Flowsheet,
    sim: &PlantPoint,
    econ: &Economics,
) -> f64 {
    match objective {
        Objective::MaxThroughput => point
            .values
            .iter()
            .filter(|(v, _)| matches!(v, OperatingVar::FeedRate(_)))
            .map(|(_, x)| x)
            .sum(),
        _ => {
            let fsp = match operating::apply(fs, &point.values) {
                Ok(f) => f,
                Err(_) => return f64::NAN,
            };
            let cost: f64 = reagent_flows(&fsp, sim)
                .iter()
                .map(|(r, mol)| {
                    econ.reagent_usd_per_mol
                        .iter()
                        .find(|(x, _)| x == r)
                        .map_or(0.0, |(_, usd)| usd * mol)
                })
                .sum();
            if objective == Objective::MinReagentCost {
                cost
            } else {
                let value: f64 = sim
                    .products
                    .iter()
                    .flat_map(|p| p.iter().enumerate())
                    .map(|(i, f)| {
                        econ.element_usd_per_mol
                            .iter()
                            .find(|(e, _)| *e == fs.elements[i])
                            .map_or(0.0, |(_, usd)| usd * f)
                    })
                    .sum();
                value - cost - econ.operating_cost_per_h
            }
        }
    }
}

/// Reagent flows (mol/h) at a simulated point, from the same definitions as the LP.
pub fn reagent_flows(fs: &Flowsheet, sim: &PlantPoint) -> Vec<(Reagent, f64)> {
    let mut out: Vec<(Reagent, f64)> = Vec::new();
    let mut add = |r: Reagent, v: f64| match out.iter_mut().find(|(x, _)| *x == r) {
        Some(e) => e.1 += v,
        None => out.push((r, v)),
    };
    for c in &fs.circuits {
        if let Some(sap) = &c.organic.saponification {
            add(
                sap.agent.into(),
                sap.fraction * c.organic.conc_mol * c.organic.flow_vol,
            );
        }
        for s in &c.sections {
            if let Some(sol) = &s.solution {
                if let Some(acid) = sol.acid {
                    add(acid.into(), sol.conc_mol * sol.flow_vol);
                }
            }
        }
    }
    for unit in &fs.units {
        let node = sxplan_model::NodeRef::Unit(unit.id);
        let Some(li) = fs.links.iter().position(|l| l.to.node == node) else {
            continue;
        };
        if let sxplan_model::UnitKind::Leach {
            acid,
            conc_mol,
            liquid_to_solid,
        } = &unit.kind
        {
            if let sxplan_model::NodeRef::Feed(f) = fs.links[li].from.node {
                if let Some(sxplan_model::FeedKind::Mud(mu)) = fs.feeds.get(f.0).map(|x| &x.kind) {
                    add(
                        (*acid).into(),
                        conc_mol * liquid_to_solid * 1000.0 * mu.flow_mass,
                    );
                }
            }
        }
        let mut uses = unit.reagents.clone();
        if matches!(unit.kind, sxplan_model::UnitKind::Precipitation)
            && !uses.iter().any(|r| r.reagent == Reagent::OxalicAcid)
        {
            uses.push(sxplan_model::ReagentUse {
                reagent: Reagent::OxalicAcid,
                mol_per_mol: 1.5,
                basis: sxplan_model::ReagentBasis::ReyIn,
            });
        }
        for ru in &uses {
            let tot: f64 = fs
                .elements
                .iter()
                .enumerate()
                .filter(|(_, e)| match &ru.basis {
                    sxplan_model::ReagentBasis::ReyIn => e.is_rey(),
                    sxplan_model::ReagentBasis::Element(x) => x == *e,
                })
                .map(|(i, _)| sim.link_flow[li][i])
                .sum();
            add(ru.reagent, ru.mol_per_mol * tot);
        }
    }
    out
}

/// Checks every spec and limit at a simulated point.
pub fn check_specs(fs: &Flowsheet, sim: &PlantPoint) -> Vec<SpecCheck> {
    let mut out = Vec::new();
    for (pi, p) in fs.products.iter().enumerate() {
        let flows = &sim.products[pi];
        if let Some(spec) = &p.purity {
            let (mut num, mut den) = (0.0, 0.0);
            for (i, e) in fs.elements.iter().enumerate() {
                if !e.is_rey() {
                    continue;
                }
                let w = match spec.basis {
                    PurityBasis::Mole => 1.0,
                    PurityBasis::OxideMass => e.oxide_mass_per_mol_metal(),
                };
                den += w * flows[i];
                if spec.elements.contains(e) {
                    num += w * flows[i];
                }
            }
            let purity = if den > 0.0 { num / den } else { 0.0 };
            let names: Vec<&str> = spec.elements.iter().map(|e| e.symbol()).collect();
            out.push(SpecCheck {
                name: format!(
                    "purity {} {} >= {:.4} %",
                    p.name,
                    names.join("+"),
                    100.0 * spec.min
                ),
                kind: RowKind::Purity,
                value: purity,
                limit: spec.min,
                violation: ((spec.min - purity) / (1.0 - spec.min).max(1e-12)).max(0.0),
            });
        }
        for rec in &p.recovery {
            let Some(i) = fs.elements.iter().position(|e| *e == rec.element) else {
                continue;
            };
            let r = if sim.feed_in[i] > 0.0 {
                flows[i] / sim.feed_in[i]
            } else {
                0.0
            };
            out.push(SpecCheck {
                name: format!(
                    "recovery {} {} >= {:.2} %",
                    p.name,
                    rec.element.symbol(),
                    100.0 * rec.min
                ),
                kind: RowKind::Recovery,
                value: r,
                limit: rec.min,
                violation: ((rec.min - r) / rec.min.max(1e-12)).max(0.0),
            });
        }
    }
    for cap in &fs.capacities {
        let ci = cap.circuit.0;
        let (Some(c), Some(cp)) = (fs.circuits.get(ci), sim.circuits.get(ci)) else {
            continue;
        };
        let limit = cap.limit.max_flow_vol();
        let mut worst: f64 = 0.0;
        for j in 0..cp.n_stages {
            if cap.section.is_some_and(|s| cp.section_of[j] != s) {
                continue;
            }
            worst = worst.max(cp.flow_vol_aq[j] + cp.flow_vol_org[j]);
        }
        let sec = cap
            .section
            .and_then(|s| c.sections.get(s))
            .map_or(String::new(), |s| format!(" {}", s.name));
        // Reported in m3/h (internal L/h).
        out.push(SpecCheck {
            name: format!("capacity {}{} (m3/h per stage)", c.name, sec),
            kind: RowKind::Capacity,
            value: worst * 1e-3,
            limit: limit * 1e-3,
            violation: ((worst - limit) / limit.max(1e-300)).max(0.0),
        });
    }
    for (ci, cp) in sim.circuits.iter().enumerate() {
        let Some(c) = fs.circuits.get(ci) else {
            continue;
        };
        let mut worst: (f64, f64, f64) = (0.0, 0.0, 0.0);
        let mut any = false;
        for j in 0..cp.n_stages {
            let Some(cmax) = loading_limit(fs, ci, cp.section_of[j]) else {
                continue;
            };
            let sf_cap = matches!(&c.equilibrium, sxplan_model::Equilibrium::SeparationFactor(sf)
                if matches!(sf.loading.get(cp.section_of[j]), Some(Some(sxplan_model::SectionLoading::Capacity(_)))));
            if sf_cap || cp.flow_vol_org[j] <= 0.0 {
                continue;
            }
            any = true;
            let load: f64 = cp.o[j]
                .iter()
                .enumerate()
                .filter(|(i, _)| fs.elements[*i].is_rey())
                .map(|(_, v)| v)
                .sum::<f64>()
                / cp.flow_vol_org[j];
            let v = ((load - cmax) / cmax).max(0.0);
            if load / cmax > worst.0 / worst.1.max(1e-300) || worst.1 == 0.0 {
                worst = (load, cmax, v);
            }
        }
        if any {
            out.push(SpecCheck {
                name: format!("loading {}", c.name),
                kind: RowKind::Loading,
                value: worst.0,
                limit: worst.1,
                violation: worst.2,
            });
        }
    }
    out
}

fn max_violation(checks: &[SpecCheck]) -> f64 {
    checks.iter().map(|c| c.violation).fold(0.0, f64::max)
}

/// Largest relative violation of a soft row in an (elastic) LP solution.
fn lp_violation(sol: &LpSolution) -> f64 {
    sol.soft_violations
        .iter()
        .map(|v| v.relative)
        .fold(0.0, f64::max)
}

/// Largest relative element balance closure error of the plant: what the feeds bring against
/// what every product, purge and open outlet takes.
fn closure(sim: &PlantPoint) -> f64 {
    sim.feed_in
        .iter()
        .zip(&sim.out)
        .map(|(f, o)| if *f > 0.0 { ((o - f) / f).abs() } else { 0.0 })
        .fold(0.0, f64::max)
}

/// Optimizes the flowsheet's operating point.
pub fn optimize(fs: &Flowsheet, opts: &OptimizeOptions) -> Result<OptimizeResult, OptError> {
    let plant = Plant::with_budget(fs, opts.deadline, opts.max_sim_iterations)?;
    let settings = fs
        .optimize
        .as_ref()
        .ok_or_else(|| OptError::InvalidProblem("no [optimize] table".into()))?;
    let objective = opts.objective.unwrap_or(settings.objective);
    let max_passes = opts
        .max_passes
        .or(settings.max_passes)
        .unwrap_or(DEFAULT_MAX_PASSES)
        .max(1);
    let (econ, price_sources) = economics(fs, objective)?;
    if objective != Objective::MaxThroughput && econ.reagent_usd_per_mol.is_empty() {
        return Err(OptError::InvalidProblem(
            "no reagent has a price: give [prices.reagent] entries or a price set with reagent prices".into(),
        ));
    }
    if objective == Objective::MaxThroughput
        && !plant
            .free
            .iter()
            .any(|f| matches!(f.var, OperatingVar::FeedRate(_)))
    {
        return Err(OptError::InvalidProblem(
            "max_throughput needs a free feed rate in [optimize] free".into(),
        ));
    }
    let lp_obj = match objective {
        Objective::MaxThroughput => LpObjective::Throughput,
        Objective::MinReagentCost => LpObjective::ReagentCost,
        Objective::MaxMargin => LpObjective::Margin,
    };
    let sense = if objective == Objective::MinReagentCost {
        -1.0
    } else {
        1.0
    };
    let (unit, ufac) = match objective {
        Objective::MaxThroughput => ("m3/h".to_string(), 1e-3),
        _ => ("US$/h".to_string(), 1.0),
    };

    let mut point = plant.base_point()?;
    // Start inside the bounds.
    for (k, f) in plant.free.iter().enumerate() {
        point.values[k].1 = point.values[k].1.clamp(f.lower, f.upper);
    }
    let mut sim = plant.simulate(&point)?;
    let start_fs = operating::apply(fs, &point.values)?;
    if !sim.status.is_converged() {
        let status = if opts.deadline.passed() {
            OptStatus::TimeLimit
        } else {
            OptStatus::SimulationFailed
        };
        let mut r = finish(
            status,
            objective,
            f64::NAN,
            f64::NAN,
            unit,
            Vec::new(),
            &plant,
            &point,
            &sim,
            None,
            Vec::new(),
            opts,
            price_sources,
            &start_fs,
        );
        r.reason = end_reason(
            status,
            &[],
            max_passes,
            opts.step_tol.max(1e-12),
            sim.status,
            0.0,
        );
        return Ok(r);
    }
    let range: Vec<f64> = plant
        .free
        .iter()
        .zip(&point.values)
        .map(|(f, (_, x))| x.abs().max(1e-3 * (f.upper - f.lower).abs()).max(1e-9))
        .collect();
    let mut checks = check_specs(&start_fs, &sim);
    let mut obj = objective_at(objective, &point, fs, &sim, &econ);
    let objective_start = obj;
    let obj_scale = obj.abs().max(1e-6 * range.iter().sum::<f64>()).max(1e-9);
    // The merit's penalty per unit of the largest relative violation (see MERIT_FACTOR).
    let nu = std::cell::Cell::new(PENALTY);
    let merit = |o: f64, v: f64| sense * o / obj_scale - nu.get() * v;
    // Set at the start of every pass, with that pass's penalty.
    let mut cur_merit: f64;
    let mut radius = opts.initial_radius;
    let mut passes = Vec::new();
    let mut status = OptStatus::IterationLimit;
    let mut last_lp: Option<(CascadeLp, LpSolution)> = None;
    let mut newton_budget = f64::INFINITY;
    let mut viol_history: Vec<f64> = Vec::new();
    let mut feasible_history: Vec<f64> = Vec::new();
    let mut tiny_steps = 0usize;
    let mut near_failures = 0usize;
    let mut near_unreliable = false;
    let mut grow_cap = f64::INFINITY;
    // Where the step that set the cap failed, and its length: the cap holds near there only.
    let mut cap_from: Option<(OperatingPoint, f64)> = None;
    let mut best: Option<(OperatingPoint, PlantPoint, f64, Vec<SpecCheck>)> =
        (max_violation(&checks) <= opts.spec_tol)
            .then(|| (point.clone(), sim.clone(), obj, checks.clone()));
    let mut lp_opts = opts.lp.clone();
    lp_opts.elastic = true;
    // Separation-factor circuits respond to their feed composition in a way the full-space LP
    // (apparent extraction factors held for the pass) cannot see: use the reduced-space LP there.
    // So do free split fractions, saponification degrees and acid strengths, which enter the
    // full-space rows bilinearly: their effect comes from the simulated responses.
    // Mass-action and empirical circuits likewise: their extraction factors move with the acidity.
    let reduced = fs
        .circuits
        .iter()
        .any(|c| !matches!(c.equilibrium, sxplan_model::Equilibrium::Distribution(_)))
        || plant.free.iter().any(|f| {
            !matches!(
                f.var,
                OperatingVar::FeedRate(_)
                    | OperatingVar::OrganicFlow(_)
                    | OperatingVar::ScrubFlow(_)
                    | OperatingVar::StripFlow(_)
            )
        });
    let mut resp: Option<(OperatingPoint, crate::cascade::Responses)> = None;
    // The step's curvature (quasi-Newton, see crate::curvature): measured between the
    // linearizations at successive points of the reduced-space LP; the clarabel backend solves
    // the step QP.
    let curved = reduced && lp_opts.backend == Backend::Clarabel;
    let mut curv = Curvature::new(range.clone());
    let mut lin: Option<(OperatingPoint, CascadeLp, Vec<Vec<f64>>)> = None;
    for pass in 1..=max_passes {
        if opts.deadline.passed() {
            status = OptStatus::TimeLimit;
            break;
        }
        let rad: Vec<f64> = range.iter().map(|r| r * radius).collect();
        if reduced && resp.as_ref().is_none_or(|(p, _)| *p != point) {
            resp = Some((point.clone(), responses(&plant, &point, &sim)?));
        }
        let clp = match &resp {
            Some((_, r)) if reduced => {
                build_reduced(&plant, &point, &sim, &rad, lp_obj, &econ, obj_scale, r)?
            }
            _ => build(&plant, &point, &sim, &rad, lp_obj, &econ, obj_scale)?,
        };
        let t0 = opts.clock.map(|c| c());
        let sol = solve(&clp.lp, &lp_opts)?;
        let lp_time = match (opts.clock, t0) {
            (Some(c), Some(t0)) => Some((c() - t0).max(0.0)),
            _ => None,
        };
        let mut record = Pass {
            pass,
            objective: obj,
            step: 0.0,
            radius,
            max_violation: max_violation(&checks),
            accepted: false,
            lp_status: sol.status,
            lp_cols: sol.n_cols,
            lp_rows: sol.n_rows,
            lp_nonzeros: sol.n_nonzeros,
            lp_time_s: lp_time,
            lp_iterations: sol.iterations,
            optimality: 0.0,
            outcome: PassOutcome::NoStep,
        };
        // An LP whose residual check failed narrowly still proposes a step: the simulation
        // of the candidate, not the LP, decides whether it is taken. Such an LP never ends the
        // run (stationarity) nor gives the reported shadow prices.
        let trusted = sol.status.is_usable();
        let proposal = trusted
            || (sol.status == LpStatus::Inaccurate
                && sol.residuals.max_scaled() <= PROPOSAL_RESIDUAL);
        if !proposal {
            passes.push(record);
            radius *= 0.25;
            if radius < opts.step_tol.max(1e-12) {
                status = OptStatus::Stalled;
                break;
            }
            continue;
        }
        let lp_viol = lp_violation(&sol);
        // The curvature serves optimality, not restoration: it is measured and used only
        // between LPs that meet every linearized spec (an elastic LP's duals on the rows it
        // violates are its penalties, not multipliers, and a step back to feasibility should not
        // be shortened).
        let optimality_phase = trusted && lp_viol <= opts.spec_tol;
        // The merit's penalty: in the optimality phase a multiple of the multipliers (the
        // value, per unit of relative violation, of every spec and limit the LP holds), in the
        // restoration phase the LP's own elastic penalty.
        nu.set(if optimality_phase {
            (MERIT_FACTOR * spec_multipliers(&clp, &sol)).clamp(MERIT_FLOOR, PENALTY)
        } else {
            PENALTY
        });
        cur_merit = merit(obj, max_violation(&checks));
        if curved && !optimality_phase {
            lin = None;
        }
        // A new point: the curvature pair from the last linearization to this one, with this
        // LP's multipliers on both.
        if curved && optimality_phase && lin.as_ref().is_none_or(|(p, _, _)| *p != point) {
            if let Some(t) = tangents(&clp.lp, &clp.u) {
                if let Some((p0, clp0, t0)) = &lin {
                    let y = common_duals(&clp.lp, &sol.duals, &clp0.lp);
                    let g1 = lagrangian_gradient(&clp.lp, &t, &y);
                    let g0 = lagrangian_gradient(&clp0.lp, t0, &y);
                    let du: Vec<f64> = point
                        .values
                        .iter()
                        .zip(&p0.values)
                        .map(|(a, b)| a.1 - b.1)
                        .collect();
                    let dg: Vec<f64> = g1.iter().zip(&g0).map(|(a, b)| -sense * (a - b)).collect();
                    curv.update(&du, &dg);
                }
                lin = Some((point.clone(), clp.clone(), t));
            }
        }
        // Predicted gain of the LP's objective; when positive, the step that moves least
        // for (nearly) that gain, with the curvature model once there is one.
        let gain = sense * (sol.objective - obj);
        let step_of = |c: &OperatingPoint| {
            c.values
                .iter()
                .zip(&point.values)
                .zip(&range)
                .map(|((c, p), r)| (c.1 - p.1).abs() / r)
                .fold(0.0, f64::max)
        };
        let mut moved = if gain > 0.0 && gain.is_finite() {
            least_move(
                &clp,
                &point,
                &rad,
                gain,
                &lp_opts,
                (curved && optimality_phase).then_some(&curv),
            )?
        } else {
            None
        };
        // A model that stops the step where the LP, which predicts a gain, does not, has
        // measured curvature that is not there (a pair over a step at the noise level of the
        // sensitivities): it is dropped, and the step is taken without it.
        if let Some((m, true)) = &moved {
            let lp_step = step_of(&lp_point(&plant, &clp, &sol, &point));
            if step_of(&lp_point(&plant, &clp, m, &point)) < opts.step_tol
                && lp_step >= opts.step_tol
            {
                curv = Curvature::new(range.clone());
                lin = None;
                moved = least_move(&clp, &point, &rad, gain, &lp_opts, None)?;
            }
        }
        let step_sol = moved.as_ref().map_or(&sol, |m| &m.0);
        let mut cand = lp_point(&plant, &clp, step_sol, &point);
        let step = step_of(&cand);
        record.step = step;
        // LP-predicted merit change (objective part and violation part).
        let predicted = merit(sol.objective, lp_viol) - cur_merit;
        record.optimality = if predicted.is_finite() && radius > 0.0 {
            predicted.abs() / radius
        } else {
            0.0
        };
        // What the step's own model predicts (the QP's, curvature included), for the ratio
        // that sizes the trust region.
        let step_sol_objective = step_sol.objective;
        // The step's move in the operating variables, when its model carries curvature.
        let curved_du: Option<Vec<f64>> = matches!(&moved, Some((_, true))).then(|| {
            cand.values
                .iter()
                .zip(&point.values)
                .map(|(a, b)| a.1 - b.1)
                .collect()
        });
        let step_curvature = curved_du.as_ref().map_or(0.0, |du| curv.value(du));
        let step_predicted = match &moved {
            Some((m, true)) => {
                merit(m.objective, lp_violation(m)) - step_curvature / obj_scale - cur_merit
            }
            _ => predicted,
        };
        let small = step < opts.step_tol;
        // First-order stationarity at a feasible point: the LP finds no merit gain anywhere in
        // the trust region (a KKT point of the linearized problem). The LP's step may still be
        // large along a direction it is indifferent to (a degenerate vertex); simulating it
        // would only trade one optimal point for another.
        let stationary = trusted
            && max_violation(&checks) <= opts.spec_tol
            && lp_viol <= opts.spec_tol
            && predicted <= STATIONARY * (1.0 + cur_merit.abs());
        if stationary {
            record.outcome = PassOutcome::Stationary;
            passes.push(record);
            last_lp = Some((clp, sol));
            status = OptStatus::Optimal;
            break;
        }
        // A small step is a stationary point only when the LP chose it inside a region it did
        // not fill; a step small because the region collapsed is a stall (below).
        let small = small && step < 0.5 * radius;
        if trusted && small && (max_violation(&checks) <= opts.spec_tol || tiny_steps >= 2) {
            record.outcome = PassOutcome::Stationary;
            passes.push(record);
            last_lp = Some((clp, sol));
            status = if max_violation(&checks) <= opts.spec_tol {
                OptStatus::Optimal
            } else {
                OptStatus::Infeasible
            };
            break;
        }
        // A tiny step from a point that still violates a spec (by less than the LP's margin can
        // absorb in one linearization) is applied: it is the second-order correction.
        tiny_steps = if small { tiny_steps + 1 } else { 0 };
        // Candidates are evaluated by Newton from the predicted state only; after
        // NEAR_FAILURES such failures in a row (the trust region already shrunk each time) the
        // full simulation with its continuation decides.
        // A near evaluation that fails for a step below NEAR_TINY_STEP does not fail for the
        // step's size: Newton from the prediction cannot reach this plant's states (measured: a
        // ratio-loaded cut exactly at its breakthrough keeps its loading residual at 1e-6 for a
        // step of 1e-6). The full simulation evaluates this candidate and every later one.
        let cand_sim = match &resp {
            Some((at, r)) if *at == point && near_failures < NEAR_FAILURES && !near_unreliable => {
                let s = plant.simulate_predicted(&cand, &point, &sim, &r.tangents)?;
                if s.status.is_converged() {
                    near_failures = 0;
                    s
                } else if step < NEAR_TINY_STEP {
                    near_unreliable = true;
                    plant.simulate_from(&cand, Some(&sim))?
                } else {
                    near_failures += 1;
                    s
                }
            }
            _ => {
                near_failures = 0;
                plant.simulate_from(&cand, Some(&sim))?
            }
        };
        // Accept a better merit, or (Newton on the active specs) a small violation that the LP did not
        // foresee: the next linearization corrects it to second order. The best confirmed feasible point
        // is kept separately, so an infeasible iterate is never returned as optimal.
        let judge = |at: &OperatingPoint, s: PlantPoint| -> Result<Judged, OptError> {
            let at_fs = operating::apply(fs, &at.values)?;
            let checks = check_specs(&at_fs, &s);
            let obj = objective_at(objective, at, fs, &s, &econ);
            let viol = max_violation(&checks);
            let m = merit(obj, viol);
            let actual = m - cur_merit;
            let newton =
                viol <= NEWTON_VIOLATION && lp_viol <= opts.spec_tol && viol < 0.5 * newton_budget;
            let ok = s.status.is_converged()
                && obj.is_finite()
                && (actual >= -1e-12 * (1.0 + cur_merit.abs()) || newton);
            Ok(Judged {
                sim: s,
                checks,
                obj,
                viol,
                merit: m,
                actual,
                newton,
                ok,
            })
        };
        let mut j = judge(&cand, cand_sim)?;
        record.max_violation = j.viol;
        record.outcome = if j.ok {
            PassOutcome::Accepted
        } else if !j.sim.status.is_converged() {
            PassOutcome::NotSolved
        } else {
            PassOutcome::Rejected
        };
        // Second-order correction: a candidate that simulates but is rejected for the
        // violation it brings is linearized where it stands (its sensitivities), and the LP
        // from there moves it to the nearest point feasible to first order within the pass's
        // region. The corrected point is judged against the current one like any candidate:
        // one more LP and simulation instead of a shrink of the region and the passes to grow
        // it back.
        if !j.ok && j.sim.status.is_converged() && j.viol > opts.spec_tol {
            let cand_resp = if reduced {
                Some(responses(&plant, &cand, &j.sim)?)
            } else {
                None
            };
            let clp2 = match &cand_resp {
                Some(r) => build_reduced(&plant, &cand, &j.sim, &rad, lp_obj, &econ, obj_scale, r)?,
                None => build(&plant, &cand, &j.sim, &rad, lp_obj, &econ, obj_scale)?,
            };
            let sol2 = solve(&clp2.lp, &lp_opts)?;
            if sol2.status.is_usable() {
                let cand2 = lp_point(&plant, &clp2, &sol2, &cand);
                let sim2 = match &cand_resp {
                    Some(r) => plant.simulate_predicted(&cand2, &cand, &j.sim, &r.tangents)?,
                    None => plant.simulate_from(&cand2, Some(&j.sim))?,
                };
                let j2 = judge(&cand2, sim2)?;
                if j2.ok {
                    record.outcome = PassOutcome::Corrected;
                    record.max_violation = j2.viol;
                    cand = cand2;
                    j = j2;
                }
            }
        }
        let Judged {
            sim: cand_sim,
            checks: cand_checks,
            obj: cand_obj,
            viol: cand_viol,
            merit: cand_merit,
            actual,
            newton,
            ok,
        } = j;
        if ok && newton && actual < 0.0 {
            newton_budget = cand_viol;
        }
        if ok {
            // The objective's own gain against what the step's model predicted for it.
            let obj_rho = {
                let got = sense * (cand_obj - obj);
                let want = sense * (step_sol_objective - obj) - step_curvature;
                if want.abs() > 1e-300 {
                    got / want
                } else {
                    1.0
                }
            };
            record.accepted = true;
            record.objective = cand_obj;
            point = cand;
            sim = cand_sim;
            checks = cand_checks;
            obj = cand_obj;
            cur_merit = cand_merit;
            if cand_viol <= opts.spec_tol
                && best.as_ref().is_none_or(
                    |b: &(OperatingPoint, PlantPoint, f64, Vec<SpecCheck>)| {
                        sense * obj >= sense * b.2
                    },
                )
            {
                // A feasible point better than every earlier one ends the Newton excursion
                // it closes: the next one may start afresh (each excursion still halves its
                // violation from step to step, and only a new best feasible point resets it).
                if best.as_ref().is_some_and(|b| sense * obj > sense * b.2) {
                    newton_budget = f64::INFINITY;
                }
                best = Some((point.clone(), sim.clone(), obj, checks.clone()));
            }
            // A step accepted in the Newton band (a small violation the next linearization
            // corrects, the merit worse for its penalty) is judged by its objective: the
            // penalty of a violation of 1e-6 would otherwise halve the region on every such
            // pass along a curved spec.
            let rho = if newton && actual < 0.0 {
                obj_rho
            } else if step_predicted.abs() > 1e-300 {
                actual / step_predicted
            } else {
                1.0
            };
            if rho > 0.75 && step > 0.9 * radius {
                // The cap is what a failed step measured about the plant near where it
                // failed; once the recursion has moved farther from there than that step, it is
                // forgotten.
                if let Some((at, len)) = &cap_from {
                    let away = point
                        .values
                        .iter()
                        .zip(&at.values)
                        .zip(&range)
                        .map(|((a, b), r)| (a.1 - b.1).abs() / r)
                        .fold(0.0, f64::max);
                    if away > CAP_REACH * *len {
                        grow_cap = f64::INFINITY;
                        cap_from = None;
                    }
                }
                radius = (radius * 2.0).min(10.0).min(grow_cap.max(radius));
                grow_cap *= GROW_CAP_RELAX;
            } else if rho < 0.25 {
                radius *= 0.5;
            }
            let converged = actual.abs() <= 1e-9 * (1.0 + cur_merit.abs())
                && predicted.abs() <= 1e-9 * (1.0 + cur_merit.abs());
            passes.push(record);
            if trusted {
                last_lp = Some((clp, sol));
            }
            if trusted && converged && max_violation(&checks) <= opts.spec_tol {
                status = OptStatus::Optimal;
                break;
            }
            // Stagnation on a feasible path: the objective moved less than `objective_tol`
            // (relative) over the last three accepted feasible passes. Typical of a plant whose
            // optimum sits on a strongly curved spec (a ratio-loaded cascade at its breakthrough),
            // where the trust region keeps the steps tiny. It ends the run `optimal` only if the
            // LP at the point itself, over a region of at least STAGNATION_REGION, finds less
            // than `objective_tol` to gain (first-order stationarity that does not depend on how
            // far the region had shrunk); otherwise the recursion goes on. Until 2026-12-07 it
            // stopped on the stagnation alone: the four-cut train of 600 stages a circuit, at
            // its breakthrough, ended "optimal" at 1.00049 m3/h (the optimum is 2.0838) while
            // the LP still predicted a gain of 1.0 per unit step.
            if max_violation(&checks) <= opts.spec_tol {
                feasible_history.push(obj);
                let k = feasible_history.len();
                if k >= 4 {
                    let gain = sense * (feasible_history[k - 1] - feasible_history[k - 4]);
                    if gain.abs() <= opts.objective_tol * obj.abs().max(1e-300) {
                        // Sensitivities at the final point itself.
                        let rad: Vec<f64> = range
                            .iter()
                            .map(|r| r * radius.max(STAGNATION_REGION))
                            .collect();
                        let clp = if reduced {
                            let r = responses(&plant, &point, &sim)?;
                            build_reduced(&plant, &point, &sim, &rad, lp_obj, &econ, obj_scale, &r)?
                        } else {
                            build(&plant, &point, &sim, &rad, lp_obj, &econ, obj_scale)?
                        };
                        let sol = solve(&clp.lp, &lp_opts)?;
                        let left = sol
                            .status
                            .is_usable()
                            .then(|| merit(sol.objective, lp_violation(&sol)) - cur_merit);
                        let stationary =
                            left.is_some_and(|g| g <= opts.objective_tol * (1.0 + cur_merit.abs()));
                        if stationary {
                            last_lp = Some((clp, sol));
                            status = OptStatus::Optimal;
                            break;
                        }
                    }
                }
            }
            // Infeasible plants creep: the elastic LP keeps trading a little violation for a little
            // objective. Stop when three accepted passes in a row each left the violation where
            // it was (not only the last against the fourth before it: a Newton excursion that
            // starts from 6e-9 and falls 1.4e-3 -> 7.3e-6 -> 6.1e-8 is not stuck).
            viol_history.push(max_violation(&checks));
            let k = viol_history.len();
            if k >= 4 && viol_history[k - 1] > opts.spec_tol && lp_viol > opts.spec_tol {
                let stuck = viol_history[k - 4..]
                    .windows(2)
                    .all(|w| w[0] - w[1] <= 1e-3 * w[0]);
                if stuck {
                    status = OptStatus::Infeasible;
                    break;
                }
            }
        } else {
            passes.push(record);
            // The next region is a quarter of the step that failed (not of the region, which
            // the LP may not have used).
            radius = if step > 0.0 {
                0.25 * step.min(radius)
            } else {
                0.25 * radius
            };
            if step > 0.0 && cand_sim.status.is_converged() {
                grow_cap = GROW_CAP * step.min(4.0 * radius);
                cap_from = Some((point.clone(), step));
            }
            if radius < opts.step_tol.max(1e-12) {
                status = OptStatus::Stalled;
                break;
            }
        }
    }
    // Never return an unconfirmed point when a confirmed feasible one exists.
    if max_violation(&checks) > opts.spec_tol {
        if let Some((p, s, o, c)) = best.take() {
            point = p;
            sim = s;
            obj = o;
            checks = c;
            if status == OptStatus::Optimal || status == OptStatus::Infeasible {
                status = OptStatus::Stalled;
            }
        }
    }
    let final_fs = operating::apply(fs, &point.values)?;
    // Infeasible or not converged with violations: diagnose with the elastic phase 1 at the last point.
    let mut conflicts = Vec::new();
    if max_violation(&checks) > opts.spec_tol && status != OptStatus::SimulationFailed {
        if status == OptStatus::Optimal {
            status = OptStatus::Infeasible;
        }
        let wide: Vec<f64> = range.iter().map(|r| r * 1e3).collect();
        let clp = if reduced {
            let r = responses(&plant, &point, &sim)?;
            build_reduced(&plant, &point, &sim, &wide, lp_obj, &econ, obj_scale, &r)?
        } else {
            build(&plant, &point, &sim, &wide, lp_obj, &econ, obj_scale)?
        };
        let d = diagnose(&clp.lp, &opts.lp)?;
        for c in d.conflicts {
            if c.kind == RowKind::Other || c.kind == RowKind::FeedAvailability {
                // Operating bounds are part of the conflict too: name them.
            }
            conflicts.push(ConflictReport {
                constraint: c.name,
                kind: c.kind,
                relative_violation: c.relative,
            });
        }
        if status == OptStatus::Infeasible && conflicts.is_empty() {
            for c in checks.iter().filter(|c| c.violation > opts.spec_tol) {
                conflicts.push(ConflictReport {
                    constraint: c.name.clone(),
                    kind: c.kind,
                    relative_violation: c.violation,
                });
            }
        }
    }
    let mut result = finish(
        status,
        objective,
        obj * ufac,
        objective_start * ufac,
        unit,
        passes,
        &plant,
        &point,
        &sim,
        last_lp,
        conflicts,
        opts,
        price_sources,
        &final_fs,
    );
    // The returned point is the simulator's own state there: report it as such.
    result.confirmation = Some(Confirmation {
        status: sim.status,
        max_violation: max_violation(&checks),
        mass_balance_error: closure(&sim),
    });
    result.reason = end_reason(
        result.status,
        &result.passes,
        max_passes,
        opts.step_tol.max(1e-12),
        sim.status,
        max_violation(&checks),
    );
    Ok(result)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    status: OptStatus,
    objective: Objective,
    objective_value: f64,
    objective_start: f64,
    objective_unit: String,
    passes: Vec<Pass>,
    plant: &Plant,
    point: &OperatingPoint,
    sim: &PlantPoint,
    last_lp: Option<(CascadeLp, LpSolution)>,
    conflicts: Vec<ConflictReport>,
    opts: &OptimizeOptions,
    price_sources: Vec<String>,
    fs: &Flowsheet,
) -> OptimizeResult {
    // Sensitivities are only meaningful at an optimum: elsewhere the elastic penalties dominate duals.
    let last_lp = if status == OptStatus::Optimal {
        last_lp
    } else {
        None
    };
    let ofac = if objective == Objective::MaxThroughput {
        1e-3
    } else {
        1.0
    };
    let mut operating_point = Vec::new();
    for (k, (v, x)) in point.values.iter().enumerate() {
        let f = &plant.free[k];
        let (unit, fac) = operating::unit(fs, *v);
        let start = operating::get(&plant.fs, *v).unwrap_or(*x);
        let tol = 1e-6 * x.abs().max(1e-9);
        let at = if (x - f.upper).abs() <= tol {
            "upper"
        } else if (x - f.lower).abs() <= tol {
            "lower"
        } else {
            "between"
        };
        // Reduced cost: the dual of the bound row the variable sits at, per user unit.
        let rc = last_lp.as_ref().map_or(0.0, |(clp, sol)| {
            clp.meanings
                .iter()
                .filter(|(_, m)| match m {
                    Meaning::Lower(i) => *i == k && at == "lower",
                    Meaning::Upper(i) => *i == k && at == "upper",
                    _ => false,
                })
                .map(|(r, _)| sol.dual(*r))
                .sum::<f64>()
                * ofac
                / fac
        });
        operating_point.push(OperatingValue {
            var: *v,
            name: operating::name(fs, *v),
            value: *x,
            value_user: x * fac,
            start_user: start * fac,
            unit: unit.to_string(),
            lower_user: f.lower * fac,
            upper_user: f.upper * fac,
            at_bound: at.to_string(),
            reduced_cost: rc,
        });
    }
    let mut shadow_prices = Vec::new();
    if let Some((clp, sol)) = &last_lp {
        shadow_prices = shadow(fs, plant, clp, sol, objective, ofac);
    }
    let products = fs
        .products
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let flows = &sim.products[pi];
            let oxide: f64 = fs
                .elements
                .iter()
                .enumerate()
                .filter(|(_, e)| e.is_rey())
                .map(|(i, e)| flows[i] * e.oxide_mass_per_mol_metal() / 1000.0)
                .sum();
            let checks = check_specs(fs, sim);
            let purity = p.purity.as_ref().and_then(|_| {
                checks
                    .iter()
                    .find(|c| {
                        c.kind == RowKind::Purity
                            && c.name.starts_with(&format!("purity {} ", p.name))
                    })
                    .map(|c| c.value)
            });
            ProductResult {
                name: p.name.clone(),
                flow_mol: fs
                    .elements
                    .iter()
                    .copied()
                    .zip(flows.iter().copied())
                    .collect(),
                oxide_kg_h: oxide,
                purity,
                purity_min: p.purity.as_ref().map(|s| s.min),
                recovery: p
                    .recovery
                    .iter()
                    .filter_map(|r| {
                        let i = fs.elements.iter().position(|e| *e == r.element)?;
                        let got = if sim.feed_in[i] > 0.0 {
                            flows[i] / sim.feed_in[i]
                        } else {
                            0.0
                        };
                        Some((r.element, got, r.min))
                    })
                    .collect(),
            }
        })
        .collect();
    let lp_size = passes
        .last()
        .map_or((0, 0, 0), |p| (p.lp_cols, p.lp_rows, p.lp_nonzeros));
    OptimizeResult {
        status,
        objective,
        objective_value,
        objective_start,
        objective_unit,
        passes,
        operating_point,
        shadow_prices,
        products,
        checks: check_specs(fs, sim),
        conflicts,
        confirmation: None,
        backend: opts.lp.backend.as_str().to_string(),
        price_sources,
        balance_closure: closure(sim),
        lp_size,
        reason: None,
        flowsheet: fs.clone(),
        point: point.clone(),
    }
}

/// Why a run that did not end `optimal` ended, from its pass table: what the passes did with
/// their steps, the last trust region, the largest relative violation at the returned point,
/// and what to try.
fn end_reason(
    status: OptStatus,
    passes: &[Pass],
    max_passes: usize,
    step_tol: f64,
    start_status: sxplan_sim::SolveStatus,
    violation: f64,
) -> Option<String> {
    let count = |o: PassOutcome| passes.iter().filter(|p| p.outcome == o).count();
    let table = format!(
        "{} passes: {} accepted, {} corrected, {} rejected for a worse merit, {} not reached by Newton from the predicted state (not_solved), {} without a usable LP step",
        passes.len(),
        count(PassOutcome::Accepted),
        count(PassOutcome::Corrected),
        count(PassOutcome::Rejected),
        count(PassOutcome::NotSolved),
        count(PassOutcome::NoStep),
    );
    let radius = passes.last().map_or(0.0, |p| p.radius);
    let not_solved = count(PassOutcome::NotSolved);
    let hint = if not_solved * 2 >= passes.len() && not_solved > 0 {
        "; most candidates were not reached from the first-order prediction: the plant's steady state moves sharply with the free variables here (measured so on a ratio-loaded cut at its breakthrough); narrow the free extraction ratios' bounds or start from a point away from the cut"
    } else {
        ""
    };
    let at = if violation > 0.0 {
        format!("; the returned point violates a spec or limit by {violation:.3e} (relative)")
    } else {
        "; the returned point meets every spec and limit".to_string()
    };
    match status {
        OptStatus::Optimal => None,
        OptStatus::Stalled if radius < 4.0 * step_tol => Some(format!(
            "the trust region shrank below the step tolerance {step_tol:.1e} (last radius {radius:.3e}) after {table}{at}{hint}"
        )),
        OptStatus::Stalled => Some(format!(
            "the last iterate did not meet every spec, and the best point found that did is returned, after {table}{at}{hint}"
        )),
        OptStatus::IterationLimit => Some(format!(
            "the pass budget of {max_passes} ran out with the trust region at {radius:.3e}, after {table}{at}; raise --max-passes or [optimize] max_passes{hint}"
        )),
        OptStatus::TimeLimit => Some(format!(
            "the wall-time budget ran out after {table}; raise --time-limit or [solver] time_limit"
        )),
        OptStatus::Infeasible => Some(format!(
            "no point within the bounds met every spec to first order: the elastic LP kept a violation after {table}; see the conflicts"
        )),
        OptStatus::SimulationFailed => Some(format!(
            "the simulation at the starting point ended {}; run `sxplan simulate` on the flowsheet for its diagnosis",
            start_status.as_str()
        )),
    }
}

/// Shadow prices of binding spec/limit rows in user units, aggregated per flowsheet item and ranked.
fn shadow(
    fs: &Flowsheet,
    plant: &Plant,
    clp: &CascadeLp,
    sol: &LpSolution,
    objective: Objective,
    ofac: f64,
) -> Vec<ShadowPrice> {
    let ou = if objective == Objective::MaxThroughput {
        "m3/h feed"
    } else {
        "US$/h"
    };
    let mut acc: Vec<(String, RowKind, f64, String)> = Vec::new();
    let mut push = |name: String, kind: RowKind, v: f64, unit: String| match acc
        .iter_mut()
        .find(|a| a.0 == name)
    {
        Some(a) => a.2 += v,
        None => acc.push((name, kind, v, unit)),
    };
    for (r, meaning) in &clp.meanings {
        let y = sol.dual(*r);
        if !y.is_finite() || y.abs() < 1e-9 {
            continue;
        }
        let row = &clp.lp.rows[r.index()];
        // Only binding rows carry a shadow price; an interior-point dual of a slack row is noise.
        let act = sol.activity.get(r.index()).copied().unwrap_or(0.0);
        // Size of the row's terms at the solution or at their declared magnitudes (rows written
        // in deviations of the operating variables have a right-hand side near zero).
        let size = row
            .terms
            .iter()
            .map(|&(v, a)| {
                let scale = clp.lp.vars.get(v.index()).map_or(0.0, |x| x.scale);
                (a * sol.value(v).abs().max(scale)).abs()
            })
            .fold(row.rhs.abs(), f64::max);
        if (act - row.rhs).abs() > 1e-6 * size.max(1e-300) {
            continue;
        }
        match meaning {
            Meaning::Capacity(ci) => {
                let cap = &fs.capacities[*ci];
                let c = &fs.circuits[cap.circuit.0];
                let sec = cap
                    .section
                    .and_then(|s| c.sections.get(s))
                    .map_or(String::new(), |s| format!(" {}", s.name));
                push(
                    format!("capacity {}{}", c.name, sec),
                    row.kind,
                    y * ofac * 1e3,
                    format!("{ou} per m3/h of capacity"),
                );
            }
            Meaning::Purity(pi, pmin, spec_flow) => {
                // Relaxing the spec by dp moves the rhs by spec_flow dp / p^2.
                let v = y * spec_flow / (pmin * pmin) * 1e-3 * ofac;
                let _ = pi;
                push(
                    row.name.clone(),
                    row.kind,
                    v,
                    format!("{ou} per 0.1 % lower purity"),
                );
            }
            Meaning::PurityLog(_, pmin) => {
                // Relaxing the spec by dp raises the rhs ln((1 - p)/p) by dp / (p (1 - p)).
                let v = y / (pmin * (1.0 - pmin)).max(1e-300) * 1e-3 * ofac;
                push(
                    row.name.clone(),
                    row.kind,
                    v,
                    format!("{ou} per 0.1 % lower purity"),
                );
            }
            Meaning::Recovery(_, _, feed) => {
                // Relaxing the min recovery by dr moves the rhs by -feed dr.
                let v = -y * feed * 0.01 * ofac;
                push(
                    row.name.clone(),
                    row.kind,
                    v,
                    format!("{ou} per 1 % lower recovery"),
                );
            }
            Meaning::Loading(ci, o0) => {
                push(
                    format!("loading {}", fs.circuits[*ci].name),
                    row.kind,
                    y * o0 * ofac,
                    format!("{ou} per mol/L of loading limit"),
                );
            }
            Meaning::Upper(k) | Meaning::Lower(k) => {
                let v = plant.free[*k].var;
                let (unit, fac) = operating::unit(fs, v);
                let what = if matches!(meaning, Meaning::Upper(_)) {
                    "upper"
                } else {
                    "lower"
                };
                let label = if matches!(v, OperatingVar::FeedRate(_)) && what == "upper" {
                    format!("feed availability: {}", operating::name(fs, v))
                } else {
                    format!("{what} bound: {}", operating::name(fs, v))
                };
                push(label, row.kind, y * ofac / fac, format!("{ou} per {unit}"));
            }
        }
    }
    let mut out: Vec<ShadowPrice> = acc
        .into_iter()
        .map(|(constraint, kind, value, unit)| ShadowPrice {
            constraint,
            kind,
            value,
            unit,
            rank: 0,
        })
        .collect();
    out.sort_by(|a, b| {
        b.value
            .abs()
            .partial_cmp(&a.value.abs())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.constraint.cmp(&b.constraint))
    });
    for (i, s) in out.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    out
}
