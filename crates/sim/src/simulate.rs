//! Whole-flowsheet steady state on the stage graph: sequential-modular passes in the graph's
//! block order, circuits solved as chains, recycles converged on tear streams.
//!
//! Volumetric flows are solved first (they are linear in the tear volumes: one affine map,
//! solved exactly, or kept at their initial value for a closed loop). Element flows and
//! acidity of the tear streams are then converged by Newton's method with a finite-difference
//! Jacobian and Broyden updates ([`Algorithm::Newton`]), or by successive substitution
//! ([`Algorithm::Substitution`], the independent cross-check).

// Index loops mirror the stream/element algebra.
#![allow(clippy::needless_range_loop)]

use std::collections::BTreeMap;

use sxplan_chem::Element;
use sxplan_graph::{Block, NodeId, NodeKind, StageGraph, StreamId};
use sxplan_model::{
    Circuit, Equilibrium, FeedKind, Flowsheet, Phase, PortKind, PurityBasis, SectionLoading,
    UnitKind,
};

use crate::budget::Deadline;
use crate::chain::{Algorithm, Chain, ChainSolution, Linearized};
use crate::equilibrium::{proton_conc, SfLoading, StageModel};
use crate::linalg::dense_solve;
use crate::results::*;
use crate::{SimError, SolveStatus};
use sxplan_model::acid_budget::{AcidBudget, FindingKind};

/// State of one stream.
#[derive(Debug, Clone, PartialEq)]
struct St {
    vol: f64,
    mass: f64,
    acid: f64,
    mol: Vec<f64>,
}

impl St {
    fn zero(m: usize) -> St {
        St {
            vol: 0.0,
            mass: 0.0,
            acid: 0.0,
            mol: vec![0.0; m],
        }
    }

    fn add(&mut self, o: &St) {
        self.vol += o.vol;
        self.mass += o.mass;
        self.acid += o.acid;
        for (a, b) in self.mol.iter_mut().zip(&o.mol) {
            *a += b;
        }
    }

    fn scaled(&self, f: f64) -> St {
        St {
            vol: self.vol * f,
            mass: self.mass * f,
            acid: self.acid * f,
            mol: self.mol.iter().map(|v| v * f).collect(),
        }
    }
}

/// Static, flow-independent data of a circuit.
struct CircuitData {
    models: Vec<StageModel>,
    model_of_stage: Vec<usize>,
    murphree: Vec<f64>,
    z_exchange: Vec<f64>,
    /// Base per litre of organic entering stage 1, mol/L.
    base_per_l: f64,
    /// Total dimer (mass action) for loading fractions, mol/L.
    conc_dimer: Option<f64>,
    /// Loading capacity per stage (separation factor), mol/L.
    capacity: Vec<Option<f64>>,
}

/// Iterations a circuit whose inflows exclude an acidic steady state may spend inside a
/// recycle's iteration (`Engine::solve_chain`). With none, its outflows are its solver's
/// bounded start (the extractant free, [H+] from the acid, each element's linear chain for
/// those ratios with the loading capped), which conserves every element. Measured on
/// tests/data/ok/recycle_four_circuits_mass_action.toml: 0 iterations 0.24 s in 5 recycle
/// iterations, 60: 0.48 s, 200: 0.38 s (the last iterate of a march that cannot arrive),
/// 1,000: 1.04 s; on 64 generated mass-action recycles (tests/prop_recycle.rs, seed 14) 0
/// and 200 both converge 46, in 59 s and 122 s.
const EXCLUDED_CHAIN_ITERATIONS: usize = 0;

struct Engine<'a> {
    fs: &'a Flowsheet,
    g: &'a StageGraph,
    m: usize,
    elements: Vec<Element>,
    circuits: Vec<CircuitData>,
    algorithm: Algorithm,
    warnings: Vec<String>,
    /// Last chain solution per circuit: warm starts inside recycle iterations.
    warm: std::cell::RefCell<Vec<Option<ChainSolution>>>,
    /// Tangent passes: every chain is solved to first order from these linearizations (of the
    /// base point's chains) instead of by Newton.
    linear: Option<&'a [Option<Linearized>]>,
    /// Local evaluation ([`Simulator::evaluate_near`]): chains with a warm start take Newton
    /// from it only ([`Chain::solve_near`]), never the cold path.
    near: bool,
    /// When the run must end.
    deadline: Deadline,
    /// Chain iterations the run may spend.
    max_iterations: usize,
    /// The configured time limit, s (reported).
    time_limit_s: f64,
    /// Where the effort of this evaluation went.
    effort: std::cell::RefCell<Effort>,
}

/// Effort of one evaluation: chain solves, iterations and time per circuit, and which budget
/// ended it.
#[derive(Debug, Clone, Default)]
struct Effort {
    iterations: usize,
    solves: Vec<usize>,
    circuit_iterations: Vec<usize>,
    circuit_time: Vec<f64>,
    spent: Option<BudgetSpent>,
}

#[derive(PartialEq, Clone, Copy)]
enum Mode {
    Volumes,
    Full,
}

/// Aqueous and organic volumetric flow leaving each stage of one circuit, L/h.
pub type StageFlows = (Vec<f64>, Vec<f64>);

/// Output of one pass.
#[derive(Debug, Clone)]
struct Pass {
    states: Vec<St>,
    chains: Vec<Option<(Chain, ChainSolution)>>,
    /// Per circuit: aqueous and organic volumetric flow leaving each stage, L/h.
    flows: Vec<StageFlows>,
}

pub(crate) fn run(fs: &Flowsheet, opts: &SimOptions) -> Result<SimResult, SimError> {
    let sim = Simulator::new(fs, opts)?;
    let state = sim.evaluate(fs, None)?;
    sim.result(fs, &state)
}

/// The whole-flowsheet simulator, built once from a flowsheet's structure (stage graph, tear
/// streams, the stream of every link) and evaluated at any operating point of it.
///
/// An operating point is the same flowsheet with other operating values (flows, acid strengths,
/// saponification, split fractions, extraction ratios): [`Simulator::evaluate`] takes it whole,
/// so there is one reading of a flowsheet into the equations, the one `sxplan simulate` uses.
/// The optimizer evaluates every point through this type, warm-started from the previous state.
#[derive(Debug, Clone)]
pub struct Simulator {
    graph: StageGraph,
    options: SimOptions,
    /// Stream of each flowsheet link, by link index.
    link_stream: Vec<Option<StreamId>>,
    /// Node of each product, by product index.
    product_node: Vec<Option<NodeId>>,
    /// Topology fingerprint: a point must have the same circuits, stages and links.
    shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
struct Shape {
    stages: Vec<usize>,
    links: usize,
    elements: Vec<Element>,
    products: usize,
}

impl Shape {
    fn of(fs: &Flowsheet) -> Shape {
        Shape {
            stages: fs.circuits.iter().map(Circuit::n_stages).collect(),
            links: fs.links.len(),
            elements: fs.elements.clone(),
            products: fs.products.len(),
        }
    }
}

/// The simulated steady state of a whole plant at one operating point, indexed the way a
/// flowsheet is (links, products, circuits by index; elements in flowsheet order).
///
/// Units: L/h, mol/h. Produced by [`Simulator::evaluate`]; [`Simulator::result`] turns it into
/// the full [`SimResult`] (stage profiles with concentrations, pH, reagents, mass balance).
#[derive(Debug, Clone)]
pub struct PlantState {
    /// Worst of the chain and recycle statuses (a mass balance not closed to 1e-9 counts as
    /// not converged).
    pub status: SolveStatus,
    /// Recycle (tear-stream) iterations; 1 without recycles.
    pub recycle_iterations: usize,
    /// Largest relative change of the tear streams in the last recycle iteration.
    pub recycle_residual: f64,
    /// Chain iterations summed over every circuit solve of this evaluation.
    pub chain_iterations: usize,
    /// The budget of the evaluation and where its effort went.
    pub budget: BudgetReport,
    /// Element flows of every flowsheet link, `[link][element]`, mol/h.
    pub link_flow: Vec<Vec<f64>>,
    /// Volumetric flow of every flowsheet link, L/h (0 for solids).
    pub link_vol: Vec<f64>,
    /// Element flow into each product, `[product][element]`, mol/h.
    pub products: Vec<Vec<f64>>,
    /// Element flow brought in by the feeds, per element, mol/h.
    pub feed_in: Vec<f64>,
    /// Element flow leaving through products, purges and open outlets, per element, mol/h.
    pub out: Vec<f64>,
    /// Per circuit, in flowsheet order.
    pub circuits: Vec<CircuitState>,
    pass: Pass,
    tear_x: Vec<f64>,
    tears: Vec<StreamId>,
}

/// One circuit's simulated stages.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitState {
    /// The circuit.
    pub circuit: sxplan_model::CircuitId,
    /// Number of stages N.
    pub n_stages: usize,
    /// Aqueous volumetric flow leaving each stage, L/h.
    pub flow_vol_aq: Vec<f64>,
    /// Organic volumetric flow leaving each stage, L/h.
    pub flow_vol_org: Vec<f64>,
    /// Stage j receives the aqueous outflow of stage j + 1.
    pub aq_from_next: Vec<bool>,
    /// Section index of each stage.
    pub section_of: Vec<usize>,
    /// Aqueous element outflow per stage, `[stage][element]`, mol/h.
    pub a: Vec<Vec<f64>>,
    /// Organic element outflow per stage, `[stage][element]`, mol/h.
    pub o: Vec<Vec<f64>>,
    /// Net acidity (H+ minus OH-) of the aqueous leaving each stage, mol/h.
    pub h: Vec<f64>,
    /// Murphree efficiency per stage.
    pub murphree: Vec<f64>,
    /// Outcome of the circuit's chain solve.
    pub status: SolveStatus,
    /// Largest scaled stage residual.
    pub max_residual: f64,
}

/// Derivatives of a [`PlantState`] along one direction of the operating point (from
/// [`Simulator::sensitivities`]), per unit of the direction; the fields mirror the state's.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTangent {
    /// d(element flow of every link), `[link][element]`.
    pub link_flow: Vec<Vec<f64>>,
    /// d(volumetric flow of every link).
    pub link_vol: Vec<f64>,
    /// d(element flow into each product), `[product][element]`.
    pub products: Vec<Vec<f64>>,
    /// d(element flow brought in by the feeds).
    pub feed_in: Vec<f64>,
    /// Per circuit.
    pub circuits: Vec<CircuitTangent>,
}

/// Derivatives of one circuit's stages along a direction.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitTangent {
    /// d(aqueous flow leaving each stage).
    pub flow_vol_aq: Vec<f64>,
    /// d(organic flow leaving each stage).
    pub flow_vol_org: Vec<f64>,
    /// d(aqueous element outflow), `[stage][element]`.
    pub a: Vec<Vec<f64>>,
    /// d(organic element outflow), `[stage][element]`.
    pub o: Vec<Vec<f64>>,
    /// d(net acidity outflow of each stage).
    pub h: Vec<f64>,
}

impl StateTangent {
    /// `(plus - minus) / width`, field by field.
    fn between(plus: &PlantState, minus: &PlantState, width: f64) -> StateTangent {
        let d1 = |a: &[f64], b: &[f64]| -> Vec<f64> {
            a.iter().zip(b).map(|(x, y)| (x - y) / width).collect()
        };
        let d2 = |a: &[Vec<f64>], b: &[Vec<f64>]| -> Vec<Vec<f64>> {
            a.iter().zip(b).map(|(x, y)| d1(x, y)).collect()
        };
        StateTangent {
            link_flow: d2(&plus.link_flow, &minus.link_flow),
            link_vol: d1(&plus.link_vol, &minus.link_vol),
            products: d2(&plus.products, &minus.products),
            feed_in: d1(&plus.feed_in, &minus.feed_in),
            circuits: plus
                .circuits
                .iter()
                .zip(&minus.circuits)
                .map(|(p, m)| CircuitTangent {
                    flow_vol_aq: d1(&p.flow_vol_aq, &m.flow_vol_aq),
                    flow_vol_org: d1(&p.flow_vol_org, &m.flow_vol_org),
                    a: d2(&p.a, &m.a),
                    o: d2(&p.o, &m.o),
                    h: d1(&p.h, &m.h),
                })
                .collect(),
        }
    }
}

/// Where a flowsheet link meets a circuit's stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagePort {
    /// Circuit index.
    pub circuit: usize,
    /// Stage index, 0-based.
    pub stage: usize,
    /// Phase of the link.
    pub phase: Phase,
}

impl Simulator {
    /// Builds the simulator for the structure of `fs` (its circuits, stages and links).
    ///
    /// `Err` for options or a flowsheet that cannot be simulated (a stage graph that cannot be
    /// built); numeric outcomes come with each evaluation.
    pub fn new(fs: &Flowsheet, options: &SimOptions) -> Result<Simulator, SimError> {
        if !(options.recycle_tolerance > 0.0 && options.recycle_tolerance.is_finite()) {
            return Err(SimError::spec(
                "recycle_tolerance",
                format!("must be finite and > 0, got {}", options.recycle_tolerance),
            ));
        }
        let graph = StageGraph::build(fs).map_err(|e| SimError::Graph(e.to_string()))?;
        let link_stream = fs
            .links
            .iter()
            .map(|l| {
                graph
                    .streams()
                    .iter()
                    .find(|s| s.from_port == Some(l.from) && s.to_port == Some(l.to))
                    .map(|s| s.id)
            })
            .collect();
        let product_node = fs
            .products
            .iter()
            .map(|p| {
                graph
                    .nodes()
                    .iter()
                    .find(|n| matches!(n.kind, NodeKind::Product { product } if product == p.id))
                    .map(|n| n.id)
            })
            .collect();
        Ok(Simulator {
            graph,
            options: options.clone(),
            link_stream,
            product_node,
            shape: Shape::of(fs),
        })
    }

    /// The stage graph the simulator works on.
    pub fn graph(&self) -> &StageGraph {
        &self.graph
    }

    /// The options every evaluation uses.
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    fn engine_with_volumes<'a>(
        &'a self,
        fs: &'a Flowsheet,
        tears: &[StreamId],
    ) -> Result<(Engine<'a>, Vec<St>), SimError> {
        let e = self.engine(fs)?;
        let v = e.solve_volumes(tears)?;
        Ok((e, v))
    }

    fn engine<'a>(&'a self, fs: &'a Flowsheet) -> Result<Engine<'a>, SimError> {
        if Shape::of(fs) != self.shape {
            return Err(SimError::spec(
                "flowsheet",
                "the operating point has other circuits, stages, links or elements than the flowsheet the simulator was built for",
            ));
        }
        let m = fs.elements.len();
        let mut eng = Engine {
            fs,
            g: &self.graph,
            m,
            elements: fs.elements.clone(),
            circuits: Vec::new(),
            algorithm: self.options.algorithm,
            warnings: Vec::new(),
            warm: std::cell::RefCell::new(vec![None; fs.circuits.len()]),
            linear: None,
            near: false,
            deadline: self.options.deadline,
            max_iterations: self.options.budget.max_iterations,
            time_limit_s: self.options.budget.time_limit_s,
            effort: std::cell::RefCell::new(Effort {
                solves: vec![0; fs.circuits.len()],
                circuit_iterations: vec![0; fs.circuits.len()],
                circuit_time: vec![0.0; fs.circuits.len()],
                ..Effort::default()
            }),
        };
        for c in &fs.circuits {
            let data = eng.circuit_data(c)?;
            eng.circuits.push(data);
        }
        eng.check_outlets()?;
        Ok(eng)
    }

    /// Simulates the plant at the operating point `fs` (a flowsheet of the structure the
    /// simulator was built for). With `warm`, a state of the same plant (say the previous
    /// iterate of an optimizer), every chain and the recycles start from it.
    ///
    /// `Err` only for input that cannot be simulated; numeric outcomes are in
    /// [`PlantState::status`].
    pub fn evaluate(
        &self,
        fs: &Flowsheet,
        warm: Option<&PlantState>,
    ) -> Result<PlantState, SimError> {
        self.evaluate_with(fs, warm, false)
    }

    /// Simulates the plant at `fs` near the state `warm` (of a neighbouring operating point):
    /// every chain by Newton from its warm start only, within the direct budget, and no cold
    /// path or continuation. A chain that does not converge so leaves the state
    /// [`SolveStatus::IterationLimit`] quickly; the caller (an optimizer's trust region) takes
    /// a shorter step or falls back to [`Simulator::evaluate`].
    pub fn evaluate_near(&self, fs: &Flowsheet, warm: &PlantState) -> Result<PlantState, SimError> {
        self.evaluate_with(fs, Some(warm), true)
    }

    fn evaluate_with(
        &self,
        fs: &Flowsheet,
        warm: Option<&PlantState>,
        near: bool,
    ) -> Result<PlantState, SimError> {
        let mut eng = self.engine(fs)?;
        eng.near = near;
        let m = eng.m;
        if let Some(w) = warm {
            let mut slots = eng.warm.borrow_mut();
            for (ci, slot) in slots.iter_mut().enumerate() {
                *slot = w
                    .pass
                    .chains
                    .get(ci)
                    .and_then(|c| c.as_ref())
                    .filter(|(_, s)| s.status.is_converged())
                    .map(|(_, s)| s.clone());
            }
        }
        let tears: Vec<StreamId> = self.graph.tears().to_vec();
        let vols = eng.solve_volumes(&tears)?;
        eng.check_volumes(&vols)?;
        let n_x = tears.len() * (m + 1);
        let floor = eng.floors(&tears);
        let x0 = warm
            .map(|w| w.tear_x.as_slice())
            .filter(|x| x.len() == n_x && x.iter().all(|v| v.is_finite()));
        let (x, iterations, recycle_residual, status, mut chain_iterations) = if tears.is_empty() {
            (vec![0.0; n_x], 1, 0.0, SolveStatus::Converged, 0)
        } else {
            eng.converge_tears(&tears, &vols, &floor, &self.options, x0)
        };
        let pass = eng.pass(Mode::Full, &tears, &vols, &x);
        let mut status = status;
        for s in pass.chains.iter().flatten() {
            chain_iterations += s.1.iterations;
            status = worst(status, s.1.status);
        }
        Ok(self.state(
            &eng,
            pass,
            x,
            tears,
            (iterations, recycle_residual, status, chain_iterations),
        ))
    }

    fn state(
        &self,
        eng: &Engine<'_>,
        pass: Pass,
        tear_x: Vec<f64>,
        tears: Vec<StreamId>,
        (iterations, recycle_residual, status, chain_iterations): (usize, f64, SolveStatus, usize),
    ) -> PlantState {
        let m = eng.m;
        let g = &self.graph;
        let link_flow: Vec<Vec<f64>> = self
            .link_stream
            .iter()
            .map(|s| s.map_or_else(|| vec![0.0; m], |s| pass.states[s.0].mol.clone()))
            .collect();
        let link_vol: Vec<f64> = self
            .link_stream
            .iter()
            .map(|s| s.map_or(0.0, |s| pass.states[s.0].vol))
            .collect();
        let products: Vec<Vec<f64>> = self
            .product_node
            .iter()
            .map(|n| {
                let mut flow = vec![0.0; m];
                if let Some(n) = n {
                    for sid in g.inlets(*n) {
                        for i in 0..m {
                            flow[i] += pass.states[sid.0].mol[i];
                        }
                    }
                }
                flow
            })
            .collect();
        let (feed_in, out) = eng.balance(&pass);
        let mut circuits = Vec::with_capacity(eng.fs.circuits.len());
        for (ci, c) in eng.fs.circuits.iter().enumerate() {
            let ids = g.circuit_stages(sxplan_model::CircuitId(ci));
            let n = ids.len();
            let (qa, qo) = pass.flows[ci].clone();
            let split = |v: &[f64]| -> Vec<Vec<f64>> {
                (0..n).map(|j| v[j * m..(j + 1) * m].to_vec()).collect()
            };
            let (a, o, h, st, res) = match &pass.chains[ci] {
                Some((_, sol)) => (
                    split(&sol.a),
                    split(&sol.o),
                    sol.h.clone(),
                    sol.status,
                    sol.max_residual,
                ),
                None => (
                    vec![vec![0.0; m]; n],
                    vec![vec![0.0; m]; n],
                    vec![0.0; n],
                    SolveStatus::Converged,
                    0.0,
                ),
            };
            circuits.push(CircuitState {
                circuit: c.id,
                n_stages: n,
                flow_vol_aq: qa,
                flow_vol_org: qo,
                aq_from_next: ids.iter().map(|s| g.stage(*s).aqueous_from_next).collect(),
                section_of: ids.iter().map(|s| g.stage(*s).section).collect(),
                a,
                o,
                h,
                murphree: eng.circuits[ci].murphree.clone(),
                status: st,
                max_residual: res,
            });
        }
        let closure = closure_error(&feed_in, &out);
        let status = if closure > 1e-9 {
            worst(status, SolveStatus::IterationLimit)
        } else {
            status
        };
        PlantState {
            status,
            recycle_iterations: iterations,
            recycle_residual,
            chain_iterations,
            budget: eng.budget_report(iterations),
            link_flow,
            link_vol,
            products,
            feed_in,
            out,
            circuits,
            pass,
            tear_x,
            tears,
        }
    }

    /// The full result of a simulation at the operating point `fs` from its state: stage
    /// profiles, products, reagents, mass balance and diagnostics, exactly as
    /// [`crate::simulate`] reports them.
    pub fn result(&self, fs: &Flowsheet, state: &PlantState) -> Result<SimResult, SimError> {
        let eng = self.engine(fs)?;
        Ok(eng.results(state))
    }

    /// Volumetric flows only, without solving for elements: per circuit, the aqueous and
    /// organic flow leaving each stage, L/h. Volumes are affine in the flows of a flowsheet
    /// (additive volumes, fixed split fractions), so this is exact.
    pub fn volumes(&self, fs: &Flowsheet) -> Result<Vec<StageFlows>, SimError> {
        let eng = self.engine(fs)?;
        let tears: Vec<StreamId> = self.graph.tears().to_vec();
        let vols = eng.solve_volumes(&tears)?;
        Ok(eng.pass(Mode::Volumes, &tears, &vols, &[]).flows)
    }

    /// A starting estimate for a nearby operating point: `state` moved to first order along
    /// the tangents, `state + sum_k step[k] tangent[k]` (chains and tear streams), each flow
    /// kept at no less than a tenth of its value at `state`. Pass it to
    /// [`Simulator::evaluate`] as the warm start: from the prediction Newton needs a handful of
    /// iterations where the unmoved state, a whole trust-region step away, can need the cold
    /// path. Lengths that do not match leave the state as it is.
    pub fn predict(
        &self,
        state: &PlantState,
        tangents: &[StateTangent],
        step: &[f64],
    ) -> PlantState {
        let mut out = state.clone();
        if tangents.len() != step.len() {
            return out;
        }
        let moved = |x0: f64, d: f64| {
            let x = x0 + d;
            if x0 >= 0.0 {
                x.max(0.1 * x0)
            } else {
                x
            }
        };
        for (ci, c) in out.pass.chains.iter_mut().enumerate() {
            let Some((chain, sol)) = c else { continue };
            let (n, m) = (chain.n_stages, chain.n_elements);
            if sol.a.len() != n * m || sol.o.len() != n * m || sol.h.len() != n {
                continue;
            }
            for j in 0..n {
                for i in 0..m {
                    let (mut da, mut dor) = (0.0, 0.0);
                    for (t, s) in tangents.iter().zip(step) {
                        if let Some(ct) = t.circuits.get(ci) {
                            da += s * ct.a.get(j).and_then(|r| r.get(i)).copied().unwrap_or(0.0);
                            dor += s * ct.o.get(j).and_then(|r| r.get(i)).copied().unwrap_or(0.0);
                        }
                    }
                    sol.a[j * m + i] = moved(sol.a[j * m + i], da);
                    sol.o[j * m + i] = moved(sol.o[j * m + i], dor);
                }
                let dh: f64 = tangents
                    .iter()
                    .zip(step)
                    .map(|(t, s)| {
                        s * t
                            .circuits
                            .get(ci)
                            .and_then(|c| c.h.get(j))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .sum();
                sol.h[j] += dh;
            }
        }
        out
    }

    /// Derivatives of `state` (a converged state at the operating point `fs`) along each
    /// direction `(plus, minus, step)`: `plus` and `minus` are `fs` moved by `+step` and `-step`
    /// along the direction (an operating variable changed, say). The result is per unit of the
    /// direction.
    ///
    /// Implicit function theorem, not re-simulation: every chain is linearized once at its
    /// solution (the block-tridiagonal Jacobian of its stage residuals, factored once); along a
    /// direction each chain moves by one Newton step from the solution with the residuals of the
    /// moved chain, so the derivative comes from one block solve per chain and direction. The
    /// residuals' own dependence on the direction is taken by central differences (`step`,
    /// error O(step^2)). Recycles: the tear-stream Jacobian `dG/dx` is built once from
    /// linearized passes, and `(I - dG/dx) dx = dG/du` is solved per direction.
    pub fn sensitivities(
        &self,
        fs: &Flowsheet,
        state: &PlantState,
        directions: &[(Flowsheet, Flowsheet, f64)],
    ) -> Result<Vec<StateTangent>, SimError> {
        if !state.status.is_converged() {
            return Err(SimError::spec(
                "state",
                format!(
                    "sensitivities need a converged state, this one is {}",
                    state.status
                ),
            ));
        }
        let mut lins: Vec<Option<Linearized>> = Vec::with_capacity(fs.circuits.len());
        for (ci, c) in state.pass.chains.iter().enumerate() {
            let lin = match c {
                Some((chain, sol)) if chain.n_stages > 0 && chain.n_elements > 0 => {
                    Some(chain.linearize(sol).ok_or_else(|| {
                        SimError::spec(
                            format!("circuit \"{}\"", fs.circuits[ci].name),
                            "the stage equations are singular at the solution: no sensitivities",
                        )
                    })?)
                }
                _ => None,
            };
            lins.push(lin);
        }
        let tears = &state.tears;
        let x0 = &state.tear_x;
        let nx = x0.len();
        let tear_out = |p: &Pass| -> Vec<f64> {
            tears
                .iter()
                .flat_map(|sid| {
                    let s = &p.states[sid.0];
                    std::iter::once(s.acid).chain(s.mol.iter().copied())
                })
                .collect()
        };
        let linear_engine = |f| self.engine_with_volumes(f, tears);
        // The tear Jacobian: the linearized pass is affine in the tear values.
        let mut i_minus_gx = vec![0.0; nx * nx];
        if nx > 0 {
            let (mut e0, v0) = linear_engine(fs)?;
            e0.linear = Some(&lins);
            let floor = e0.floors(tears);
            let g0 = tear_out(&e0.pass(Mode::Full, tears, &v0, x0));
            for r in 0..nx {
                i_minus_gx[r * nx + r] = 1.0;
            }
            for r in 0..nx {
                let h = 1e-6 * x0[r].abs().max(floor[r] * 1e6).max(1e-300);
                let mut xp = x0.clone();
                xp[r] += h;
                let gp = tear_out(&e0.pass(Mode::Full, tears, &v0, &xp));
                for q in 0..nx {
                    i_minus_gx[q * nx + r] -= (gp[q] - g0[q]) / h;
                }
            }
        }
        let mut out = Vec::with_capacity(directions.len());
        for (plus, minus, step) in directions {
            let t = *step;
            if !(t > 0.0 && t.is_finite()) {
                return Err(SimError::spec(
                    "sensitivity step",
                    format!("must be finite and > 0, got {t}"),
                ));
            }
            let (mut ep, vp) = linear_engine(plus)?;
            let (mut em, vm) = linear_engine(minus)?;
            ep.linear = Some(&lins);
            em.linear = Some(&lins);
            let dx = if nx > 0 {
                let gp = tear_out(&ep.pass(Mode::Full, tears, &vp, x0));
                let gm = tear_out(&em.pass(Mode::Full, tears, &vm, x0));
                let gu: Vec<f64> = gp
                    .iter()
                    .zip(&gm)
                    .map(|(a, b)| (a - b) / (2.0 * t))
                    .collect();
                dense_solve(nx, &i_minus_gx, &gu).ok_or_else(|| {
                    SimError::spec(
                        "recycles",
                        "the tear-stream equations are singular at the solution: no sensitivities",
                    )
                })?
            } else {
                Vec::new()
            };
            let xp: Vec<f64> = x0.iter().zip(&dx).map(|(x, d)| x + t * d).collect();
            let xm: Vec<f64> = x0.iter().zip(&dx).map(|(x, d)| x - t * d).collect();
            let pp = ep.pass(Mode::Full, tears, &vp, &xp);
            let pm = em.pass(Mode::Full, tears, &vm, &xm);
            for (ci, c) in pp.chains.iter().chain(&pm.chains).enumerate() {
                if let Some((_, sol)) = c {
                    if !sol.status.is_converged() {
                        let name = &fs.circuits[ci % fs.circuits.len().max(1)].name;
                        return Err(SimError::spec(
                            format!("circuit \"{name}\""),
                            "the linearized stage equations could not be solved: no sensitivities",
                        ));
                    }
                }
            }
            let no_tears = (1, 0.0, SolveStatus::Converged, 0);
            let sp = self.state(&ep, pp, xp, tears.clone(), no_tears);
            let sm = self.state(&em, pm, xm, tears.clone(), no_tears);
            out.push(StateTangent::between(&sp, &sm, 2.0 * t));
        }
        Ok(out)
    }

    /// The stage a flowsheet link enters, when it enters a circuit.
    pub fn link_inlet(&self, link: usize) -> Option<StagePort> {
        let s = self
            .graph
            .stream(self.link_stream.get(link).copied().flatten()?);
        self.stage_port(s.to, s.phase)
    }

    /// The stage a flowsheet link leaves, when it leaves a circuit.
    pub fn link_outlet(&self, link: usize) -> Option<StagePort> {
        let s = self
            .graph
            .stream(self.link_stream.get(link).copied().flatten()?);
        self.stage_port(s.from, s.phase)
    }

    fn stage_port(&self, node: NodeId, phase: Phase) -> Option<StagePort> {
        match self.graph.node(node).kind {
            NodeKind::Stage { stage } => {
                let st = self.graph.stage(stage);
                Some(StagePort {
                    circuit: st.circuit.0,
                    stage: st.number - 1,
                    phase,
                })
            }
            _ => None,
        }
    }
}

/// Largest relative element error `|in - out| / in` (1 when something leaves that never
/// entered).
fn closure_error(fin: &[f64], fout: &[f64]) -> f64 {
    let mut max_rel: f64 = 0.0;
    for (a, b) in fin.iter().zip(fout) {
        let r = if *a > 0.0 {
            (a - b).abs() / a
        } else if *b == 0.0 {
            0.0
        } else {
            1.0
        };
        max_rel = max_rel.max(if r.is_finite() { r } else { 1.0 });
    }
    max_rel
}

fn worst(a: SolveStatus, b: SolveStatus) -> SolveStatus {
    use SolveStatus::*;
    match (a, b) {
        // no physical steady state explains whatever else the solve reports
        (Infeasible, _) | (_, Infeasible) => Infeasible,
        (Diverged, _) | (_, Diverged) => Diverged,
        (TimeLimit, _) | (_, TimeLimit) => TimeLimit,
        (IterationLimit, _) | (_, IterationLimit) => IterationLimit,
        _ => Converged,
    }
}

/// The status of a run whose budget `spent` ended it.
fn spent_status(spent: BudgetSpent) -> SolveStatus {
    match spent {
        BudgetSpent::TimeLimit => SolveStatus::TimeLimit,
        BudgetSpent::MaxIterations | BudgetSpent::None => SolveStatus::IterationLimit,
    }
}

impl Engine<'_> {
    fn elem_index(&self, e: Element) -> Option<usize> {
        self.elements.iter().position(|&x| x == e)
    }

    fn circuit_data(&mut self, c: &Circuit) -> Result<CircuitData, SimError> {
        let m = self.m;
        let n = c.n_stages();
        let mut models = Vec::with_capacity(n);
        let mut model_of_stage = Vec::with_capacity(n);
        let mut murphree = Vec::with_capacity(n);
        let mut capacity = vec![None; n];
        let mut conc_dimer = None;
        let z_charge: Vec<f64> = self
            .elements
            .iter()
            .map(|e| f64::from(e.charge().unsigned_abs()))
            .collect();
        let mut z_exchange = z_charge.clone();
        let missing: Vec<Element> = {
            let have = c.equilibrium.elements();
            self.elements
                .iter()
                .copied()
                .filter(|e| !have.contains(e))
                .collect()
        };
        if !missing.is_empty() {
            let list: Vec<&str> = missing.iter().map(|e| e.symbol()).collect();
            self.warnings.push(format!(
                "circuit \"{}\": {} model has no data for {}; they are not extracted",
                c.name,
                c.equilibrium.name(),
                list.join(", ")
            ));
        }
        for stage in 1..=n {
            let si = c.section_of_stage(stage).unwrap_or(0);
            let eta = c.murphree.get(si).copied().unwrap_or(1.0);
            if !(eta > 0.0 && eta <= 1.0) {
                return Err(SimError::spec(
                    format!("circuit \"{}\" section {}", c.name, si + 1),
                    format!("Murphree efficiency must be in (0, 1], got {eta}"),
                ));
            }
            murphree.push(eta);
            let model = match &c.equilibrium {
                Equilibrium::Distribution(d) => {
                    let mut v = vec![0.0; m];
                    for (e, vals) in &d.d_ratio {
                        if let Some(i) = self.elem_index(*e) {
                            let x = vals.at(si, stage);
                            if !(x >= 0.0 && x.is_finite()) {
                                return Err(SimError::spec(
                                    format!("circuit \"{}\" stage {stage} D({e})", c.name),
                                    format!("must be finite and >= 0, got {x}"),
                                ));
                            }
                            v[i] = x;
                        }
                    }
                    StageModel::Linear { d_ratio: v }
                }
                Equilibrium::SeparationFactor(sf) => {
                    let betas = sf
                        .beta_section
                        .get(si)
                        .and_then(Option::as_ref)
                        .unwrap_or(&sf.beta);
                    let mut beta = vec![0.0; m];
                    for (e, b) in betas {
                        if let Some(i) = self.elem_index(*e) {
                            if !(*b >= 0.0 && b.is_finite()) {
                                return Err(SimError::spec(
                                    format!("circuit \"{}\" beta({e})", c.name),
                                    format!("must be finite and >= 0, got {b}"),
                                ));
                            }
                            beta[i] = *b;
                        }
                    }
                    let loading = match sf.loading.get(si).cloned().flatten() {
                        Some(SectionLoading::ExtractionRatio(e)) => SfLoading::Ratio(e),
                        Some(SectionLoading::Capacity(l)) => {
                            capacity[stage - 1] = Some(l);
                            SfLoading::Capacity(l)
                        }
                        None => SfLoading::None,
                    };
                    StageModel::SeparationFactor { beta, loading }
                }
                Equilibrium::MassAction(ma) => {
                    let mut k_ex = vec![0.0; m];
                    let mut n_ex = vec![3.0; m];
                    let mut z = vec![3.0; m];
                    let mut n_max: f64 = 0.0;
                    for (e, p) in &ma.params {
                        if let Some(i) = self.elem_index(*e) {
                            k_ex[i] = p.k_ex;
                            n_ex[i] = p.n_extractant;
                            z[i] = p.z_proton;
                            z_exchange[i] = p.z_proton;
                            n_max = n_max.max(p.n_extractant);
                        }
                    }
                    let mut cd = 0.5 * c.organic.conc_mol;
                    if let Some(l) = ma.loading_capacity {
                        if n_max > 0.0 {
                            cd = cd.min(n_max * l);
                        }
                    }
                    conc_dimer = Some(cd);
                    StageModel::MassAction {
                        k_ex,
                        n_extractant: n_ex,
                        z_proton: z,
                        conc_dimer: cd,
                    }
                }
                Equilibrium::Empirical(em) => {
                    let mut log_d0 = vec![0.0; m];
                    let mut slope = vec![0.0; m];
                    let mut has = vec![false; m];
                    // x: the extractant amount the correlation was fitted against.
                    let x = match em.measure {
                        sxplan_model::ExtractantMeasure::MolPerL => c.organic.conc_mol,
                        sxplan_model::ExtractantMeasure::VolumePercent => {
                            em.volume_percent.unwrap_or(0.0)
                        }
                    };
                    for (e, k) in &em.coef {
                        if let Some(i) = self.elem_index(*e) {
                            let log_x = if k.c == 0.0 {
                                0.0
                            } else if x > 0.0 {
                                x.log10()
                            } else {
                                return Err(SimError::spec(
                                    format!("circuit \"{}\" empirical D({e})", c.name),
                                    format!("the correlation needs log10 of the extractant amount, which is {x}"),
                                ));
                            };
                            log_d0[i] = k.b + k.c * log_x;
                            slope[i] = k.a + k.a1 * x;
                            has[i] = true;
                        }
                    }
                    // Bounded by the extractant (docs/ph.md): the correlation is the D of a
                    // lightly loaded organic; the free extractant left scales it as mass action
                    // does, with one dimer per unit of charge bound, so the loading never
                    // exceeds the extractant's stoichiometric limit.
                    let cd = 0.5 * c.organic.conc_mol;
                    if cd > 0.0 && cd.is_finite() {
                        conc_dimer = Some(cd);
                        StageModel::empirical_bounded(&log_d0, &slope, &has, &z_charge, cd)
                    } else {
                        StageModel::Empirical { log_d0, slope, has }
                    }
                }
            };
            // Share a model between consecutive stages when identical.
            if models.last() == Some(&model) {
                model_of_stage.push(models.len() - 1);
            } else {
                models.push(model);
                model_of_stage.push(models.len() - 1);
            }
        }
        let base_per_l = c
            .organic
            .saponification
            .as_ref()
            .map_or(0.0, |s| s.fraction * c.organic.conc_mol);
        Ok(CircuitData {
            models,
            model_of_stage,
            murphree,
            z_exchange,
            base_per_l,
            conc_dimer,
            capacity,
        })
    }

    /// Every stage's aqueous and organic outflow must go to exactly one place.
    fn check_outlets(&self) -> Result<(), SimError> {
        for (ci, c) in self.fs.circuits.iter().enumerate() {
            let ids = self.g.circuit_stages(sxplan_model::CircuitId(ci));
            for (k, sid) in ids.iter().enumerate() {
                let st = self.g.stage(*sid);
                let outs = self.g.outlets(st.node);
                let ext_aq = outs
                    .iter()
                    .filter(|s| {
                        let s = self.g.stream(**s);
                        !s.internal && s.phase == Phase::Aqueous
                    })
                    .count();
                let ext_org = outs
                    .iter()
                    .filter(|s| {
                        let s = self.g.stream(**s);
                        !s.internal && s.phase == Phase::Organic
                    })
                    .count();
                let aq_internal = k > 0 && self.g.stage(ids[k - 1]).aqueous_from_next;
                let org_internal = k + 1 < ids.len();
                let aq = ext_aq + usize::from(aq_internal);
                let org = ext_org + usize::from(org_internal);
                if aq != 1 || org != 1 {
                    return Err(SimError::spec(
                        format!("circuit \"{}\" stage {}", c.name, st.number),
                        format!("the aqueous outflow goes to {aq} places and the organic to {org}; each must go to exactly one"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Floors for relative tear tolerances: per element 1e-14 of what the feeds bring.
    fn floors(&self, tears: &[StreamId]) -> Vec<f64> {
        let m = self.m;
        let mut feed = vec![0.0; m];
        let mut acid: f64 = 0.0;
        for n in self.g.nodes() {
            if let Some(s) = self.source_state(n.id) {
                for i in 0..m {
                    feed[i] += s.mol[i];
                }
                acid += s.acid.abs();
            }
        }
        let tot: f64 = feed.iter().sum();
        let mut f = Vec::with_capacity(tears.len() * (m + 1));
        for _ in tears {
            f.push(1e-14 * (acid + tot).max(1e-300));
            for i in 0..m {
                f.push(1e-14 * feed[i].max(tot * 1e-30).max(1e-300));
            }
        }
        f
    }

    /// State of a source node (feed, solution, fresh organic), or None.
    fn source_state(&self, node: NodeId) -> Option<St> {
        let m = self.m;
        match &self.g.node(node).kind {
            NodeKind::Feed { feed } => {
                let f = &self.fs.feeds[feed.0];
                let mut s = St::zero(m);
                match &f.kind {
                    FeedKind::Aqueous(sf) | FeedKind::Organic(sf) => {
                        s.vol = sf.flow_vol;
                        if matches!(f.kind, FeedKind::Aqueous(_)) {
                            s.acid = sf.conc_h * sf.flow_vol;
                        }
                        for (e, c) in &sf.conc_mol {
                            if let Some(i) = self.elem_index(*e) {
                                s.mol[i] = c * sf.flow_vol;
                            }
                        }
                    }
                    FeedKind::Mud(mud) => {
                        s.mass = mud.flow_mass;
                        if mud.content_mol_per_kg.is_empty() {
                            if let Some(grade) = sxplan_chem::mud::grade(&mud.grade) {
                                for (i, e) in self.elements.iter().enumerate() {
                                    s.mol[i] = grade.mol_per_t(*e).unwrap_or(0.0) * mud.flow_mass;
                                }
                            }
                        } else {
                            for (e, c) in &mud.content_mol_per_kg {
                                if let Some(i) = self.elem_index(*e) {
                                    s.mol[i] = c * mud.flow_mass * 1000.0;
                                }
                            }
                        }
                    }
                }
                Some(s)
            }
            NodeKind::Solution { circuit, section } => {
                let sol = self.fs.circuits[circuit.0].sections[*section]
                    .solution
                    .as_ref()?;
                let mut s = St::zero(m);
                s.vol = sol.flow_vol;
                s.acid = sol.conc_h() * sol.flow_vol;
                Some(s)
            }
            NodeKind::FreshOrganic { circuit } => {
                let mut s = St::zero(m);
                s.vol = self.fs.circuits[circuit.0].organic.flow_vol;
                Some(s)
            }
            _ => None,
        }
    }

    /// One sequential-modular pass. `vols` gives the tear volumes (and all volumes in Full
    /// mode are recomputed identically); `x` gives tear acid and element flows (Full mode).
    fn pass(&self, mode: Mode, tears: &[StreamId], vols: &[St], x: &[f64]) -> Pass {
        let m = self.m;
        let ns = self.g.n_streams();
        let mut states = vec![St::zero(m); ns];
        let mut guess: BTreeMap<StreamId, St> = BTreeMap::new();
        for (t, sid) in tears.iter().enumerate() {
            let mut s = St::zero(m);
            s.vol = vols[t].vol;
            s.mass = vols[t].mass;
            if mode == Mode::Full {
                s.acid = x[t * (m + 1)];
                for i in 0..m {
                    s.mol[i] = x[t * (m + 1) + 1 + i].max(0.0);
                }
            }
            guess.insert(*sid, s);
        }
        let mut chains: Vec<Option<(Chain, ChainSolution)>> = vec![None; self.fs.circuits.len()];
        let mut flows: Vec<StageFlows> = vec![(Vec::new(), Vec::new()); self.fs.circuits.len()];
        let read = |states: &Vec<St>, sid: StreamId| -> St {
            match guess.get(&sid) {
                Some(s) => s.clone(),
                None => states[sid.0].clone(),
            }
        };
        for b in self.g.order() {
            match &self.g.blocks()[b.0] {
                Block::Node { node } => {
                    let node = *node;
                    let mut inflow = St::zero(m);
                    for sid in self.g.inlets(node) {
                        inflow.add(&read(&states, sid));
                    }
                    for (sid, st) in self.node_outputs(node, &inflow, mode) {
                        states[sid.0] = st;
                    }
                }
                Block::Circuit { circuit, stages } => {
                    let ci = circuit.0;
                    let n = stages.len();
                    let mut ext_aq = vec![St::zero(m); n];
                    let mut ext_org = vec![St::zero(m); n];
                    for (k, sid) in stages.iter().enumerate() {
                        let node = self.g.stage(*sid).node;
                        for s in self.g.inlets(node) {
                            let stream = self.g.stream(s);
                            if stream.internal {
                                continue;
                            }
                            let st = read(&states, s);
                            match stream.phase {
                                Phase::Organic => ext_org[k].add(&st),
                                _ => ext_aq[k].add(&st),
                            }
                        }
                    }
                    let mut q_aq = vec![0.0; n];
                    let mut q_org = vec![0.0; n];
                    for k in (0..n).rev() {
                        q_aq[k] = ext_aq[k].vol
                            + if self.g.stage(stages[k]).aqueous_from_next && k + 1 < n {
                                q_aq[k + 1]
                            } else {
                                0.0
                            };
                    }
                    for k in 0..n {
                        q_org[k] = ext_org[k].vol + if k > 0 { q_org[k - 1] } else { 0.0 };
                    }
                    flows[ci] = (q_aq.clone(), q_org.clone());
                    let (a, o, h) = if mode == Mode::Full && n > 0 {
                        let data = &self.circuits[ci];
                        let mut chain = Chain {
                            n_stages: n,
                            n_elements: m,
                            flow_vol_aq: q_aq.clone(),
                            flow_vol_org: q_org.clone(),
                            aq_from_next: stages
                                .iter()
                                .map(|s| self.g.stage(*s).aqueous_from_next)
                                .collect(),
                            aq_ext: ext_aq.iter().flat_map(|s| s.mol.iter().copied()).collect(),
                            org_ext: ext_org.iter().flat_map(|s| s.mol.iter().copied()).collect(),
                            acid_ext: ext_aq.iter().map(|s| s.acid).collect(),
                            base_ext: vec![0.0; n],
                            murphree: data.murphree.clone(),
                            models: data.models.clone(),
                            model_of_stage: data.model_of_stage.clone(),
                            z_exchange: data.z_exchange.clone(),
                            deadline: self.deadline,
                            allowance: self.allowance(),
                        };
                        chain.base_ext[0] = data.base_per_l * ext_org[0].vol;
                        let sol = match self.linear {
                            Some(lins) => lins
                                .get(ci)
                                .and_then(Option::as_ref)
                                .and_then(|l| chain.linear_step(l))
                                .unwrap_or_else(|| {
                                    chain.finish_failed(vec![0.0; n * m], vec![0.0; n * m])
                                }),
                            None => self.solve_chain(ci, &chain),
                        };
                        let r = (sol.a.clone(), sol.o.clone(), sol.h.clone());
                        chains[ci] = Some((chain, sol));
                        r
                    } else {
                        (vec![0.0; n * m], vec![0.0; n * m], vec![0.0; n])
                    };
                    for (k, sid) in stages.iter().enumerate() {
                        let node = self.g.stage(*sid).node;
                        for s in self.g.outlets(node) {
                            let stream = self.g.stream(s);
                            if stream.internal {
                                continue;
                            }
                            let st = match stream.phase {
                                Phase::Organic => St {
                                    vol: q_org[k],
                                    mass: 0.0,
                                    acid: 0.0,
                                    mol: o[k * m..(k + 1) * m].to_vec(),
                                },
                                _ => St {
                                    vol: q_aq[k],
                                    mass: 0.0,
                                    acid: h[k],
                                    mol: a[k * m..(k + 1) * m].to_vec(),
                                },
                            };
                            states[s.0] = st;
                        }
                    }
                }
            }
        }
        Pass {
            states,
            chains,
            flows,
        }
    }

    /// Which budget is spent, if one is (and remembers it).
    /// What is left of the run's iteration budget for one chain solve.
    fn allowance(&self) -> crate::budget::IterationAllowance {
        let used = self.effort.borrow().iterations;
        crate::budget::IterationAllowance::new(self.max_iterations.saturating_sub(used))
    }

    fn spent(&self) -> Option<BudgetSpent> {
        let mut e = self.effort.borrow_mut();
        if e.spent.is_none() {
            if self.deadline.passed() {
                e.spent = Some(BudgetSpent::TimeLimit);
            } else if e.iterations >= self.max_iterations {
                e.spent = Some(BudgetSpent::MaxIterations);
            }
        }
        e.spent
    }

    /// Solves circuit `ci`'s chain within the run's budget, from its warm start when it has
    /// one, and books the effort. With the budget spent the chain is not solved: it keeps its
    /// warm start (or the zero state) with the status of the spent budget.
    fn solve_chain(&self, ci: usize, chain: &Chain) -> ChainSolution {
        let prev = self.warm.borrow()[ci].clone();
        if let Some(spent) = self.spent() {
            let (n, m) = (chain.n_stages, chain.n_elements);
            let mut sol = match &prev {
                Some(p) if p.a.len() == n * m && p.o.len() == n * m => {
                    chain.finish_failed(p.a.clone(), p.o.clone())
                }
                _ => chain.finish_failed(vec![0.0; n * m], vec![0.0; n * m]),
            };
            sol.status = spent_status(spent);
            sol.iterations = 0;
            return sol;
        }
        // A circuit whose inflows already exclude an acidic steady state (the base exceeds
        // all the acid fed and all the protons loading can release: budget (a), which rests on
        // the inflows alone) has no state to solve for, and the solvers would spend their whole
        // allowance on it (about 11,000 iterations, 1.1 s for a 46-stage circuit). Without tear
        // streams its inflows are final: it is not solved. Inside a recycle's iteration they
        // are one iterate's, and the tear map still needs the circuit's outflows there: it
        // gets EXCLUDED_CHAIN_ITERATIONS (on
        // tests/data/ok/recycle_four_circuits_mass_action.toml four finite-difference columns
        // of the tear Jacobian met such a circuit: 4.4 s of the 4.6 s run).
        let capped;
        let excluded = self.excludes_acidic_state(ci, chain);
        let chain = if excluded {
            if self.g.tears().is_empty() {
                let (n, m) = (chain.n_stages, chain.n_elements);
                let mut sol = chain.finish_failed(vec![0.0; n * m], vec![0.0; n * m]);
                sol.status = SolveStatus::Infeasible;
                sol.iterations = 0;
                self.effort.borrow_mut().solves[ci] += 1;
                return sol;
            }
            capped = Chain {
                allowance: crate::budget::IterationAllowance::new(EXCLUDED_CHAIN_ITERATIONS),
                ..chain.clone()
            };
            &capped
        } else {
            chain
        };
        let t0 = self.deadline.now();
        let mut sol = match &prev {
            Some(p) if self.near => chain.solve_near(self.algorithm, p),
            _ => {
                let mut sol = chain.solve_warm(self.algorithm, prev.as_ref());
                // Newton's warm solve already ends with the cold path when its start fails
                // (`Chain::solve_warm`): a second cold solve would repeat it exactly (on a
                // generated mass-action recycle, 5,500 iterations twice per failed column of
                // the tear Jacobian). Substitution from a warm start gets its cold solve here.
                if sol.status != SolveStatus::Converged
                    && prev.is_some()
                    && self.algorithm != Algorithm::Newton
                    && !self.deadline.passed()
                {
                    let spent = sol.iterations;
                    sol = chain.solve(self.algorithm);
                    sol.iterations += spent;
                }
                sol
            }
        };
        {
            let mut e = self.effort.borrow_mut();
            e.iterations += sol.iterations;
            e.solves[ci] += 1;
            e.circuit_iterations[ci] += sol.iterations;
            e.circuit_time[ci] += self.deadline.now() - t0;
        }
        if excluded && !sol.status.is_converged() {
            // what the budget proves for these inflows (final once the tears have converged)
            sol.status = SolveStatus::Infeasible;
        }
        if sol.status == SolveStatus::Converged {
            self.warm.borrow_mut()[ci] = Some(sol.clone());
        } else if let Some(spent) = self.spent() {
            if sol.status != SolveStatus::Diverged {
                sol.status = spent_status(spent);
            }
        }
        sol
    }

    /// True when circuit `ci`'s inflows to `chain` exclude an acidic steady state: a chain
    /// that carries acidity (mass action, empirical) whose acid/base budget from its inflows
    /// alone finds the base beyond the acid ([`FindingKind::BaseExceedsAcid`]).
    fn excludes_acidic_state(&self, ci: usize, chain: &Chain) -> bool {
        let Some(c) = self.fs.circuits.get(ci) else {
            return false;
        };
        if !chain.uses_acidity() {
            return false;
        }
        let have = c.equilibrium.elements();
        let extractable: Vec<bool> = self.elements.iter().map(|e| have.contains(e)).collect();
        // Budget (a) reads the inflows only: no state (and no residual check of one) needed.
        let unsolved = ChainSolution {
            status: SolveStatus::IterationLimit,
            iterations: 0,
            max_residual: f64::INFINITY,
            a: Vec::new(),
            o: Vec::new(),
            h: Vec::new(),
            free_dimer: Vec::new(),
        };
        crate::diagnose::circuit_budget(c, chain, &unsolved, &extractable)
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::BaseExceedsAcid)
    }

    /// The effort report of this evaluation.
    fn budget_report(&self, recycle_iterations: usize) -> BudgetReport {
        let e = self.effort.borrow();
        let spent = e.spent.unwrap_or(BudgetSpent::None);
        let timed = spent != BudgetSpent::None && self.deadline.has_clock();
        BudgetReport {
            time_limit_s: self.time_limit_s,
            max_iterations: self.max_iterations,
            iterations: e.iterations,
            spent,
            elapsed_s: timed.then(|| self.deadline.elapsed_s()),
            recycle_iterations,
            circuits: self
                .fs
                .circuits
                .iter()
                .enumerate()
                .map(|(ci, c)| CircuitEffort {
                    name: c.name.clone(),
                    solves: e.solves.get(ci).copied().unwrap_or(0),
                    iterations: e.circuit_iterations.get(ci).copied().unwrap_or(0),
                    time_s: timed.then(|| e.circuit_time.get(ci).copied().unwrap_or(0.0)),
                })
                .collect(),
        }
    }

    /// Outlet states of an auxiliary node from its total inflow.
    fn node_outputs(&self, node: NodeId, inflow: &St, mode: Mode) -> Vec<(StreamId, St)> {
        let m = self.m;
        let outs = self.g.outlets(node);
        let mut res = Vec::new();
        let kind = &self.g.node(node).kind;
        if let Some(src) = self.source_state(node) {
            let src = if mode == Mode::Volumes {
                let mut s = St::zero(m);
                s.vol = src.vol;
                s.mass = src.mass;
                s
            } else {
                src
            };
            // A source has one outlet stream (feeds could be linked once).
            for (k, sid) in outs.iter().enumerate() {
                res.push((*sid, if k == 0 { src.clone() } else { St::zero(m) }));
            }
            return res;
        }
        match kind {
            NodeKind::Splitter { splitter } => {
                let sp = &self.fs.splitters[splitter.0];
                for sid in outs {
                    let k = match self.g.stream(sid).from_port.map(|p| p.kind) {
                        Some(PortKind::Outlet(k)) => k,
                        _ => 0,
                    };
                    let f = sp.outlets.get(k).map_or(0.0, |o| o.1);
                    res.push((sid, inflow.scaled(f)));
                }
            }
            NodeKind::Mixer { .. } => {
                for (k, sid) in outs.iter().enumerate() {
                    res.push((*sid, if k == 0 { inflow.clone() } else { St::zero(m) }));
                }
            }
            NodeKind::Unit { unit } => {
                let u = &self.fs.units[unit.0];
                let frac: Vec<f64> = self
                    .elements
                    .iter()
                    .map(|e| u.fraction_to_outlet(*e))
                    .collect();
                let mut out = St::zero(m);
                let mut resid = St::zero(m);
                for i in 0..m {
                    out.mol[i] = frac[i] * inflow.mol[i];
                    resid.mol[i] = inflow.mol[i] - out.mol[i];
                }
                let out_aq = u.kind.outlet_phase() == Phase::Aqueous;
                let res_aq = u.kind.residue_phase() == Phase::Aqueous;
                match &u.kind {
                    UnitKind::Leach {
                        acid,
                        conc_mol,
                        liquid_to_solid,
                    } => {
                        out.vol = liquid_to_solid * inflow.mass * 1000.0;
                        out.acid = acid.protons() * conc_mol * out.vol + inflow.acid;
                        resid.mass = inflow.mass;
                    }
                    _ => {
                        if out_aq && res_aq {
                            let f = u.default_to_outlet;
                            out.vol = f * inflow.vol;
                            out.acid = f * inflow.acid;
                            resid.vol = inflow.vol - out.vol;
                            resid.acid = inflow.acid - out.acid;
                        } else if out_aq {
                            out.vol = inflow.vol;
                            out.acid = inflow.acid;
                            resid.mass = inflow.mass;
                        } else if res_aq {
                            resid.vol = inflow.vol;
                            resid.acid = inflow.acid;
                            out.mass = inflow.mass;
                        } else {
                            out.mass = inflow.mass;
                        }
                    }
                }
                for sid in outs {
                    let st = match self.g.stream(sid).from_port.map(|p| p.kind) {
                        Some(PortKind::Residue) => resid.clone(),
                        _ => out.clone(),
                    };
                    res.push((sid, st));
                }
            }
            _ => {
                for sid in outs {
                    res.push((sid, St::zero(m)));
                }
            }
        }
        if mode == Mode::Volumes {
            for (_, s) in res.iter_mut() {
                s.acid = 0.0;
                s.mol.iter_mut().for_each(|v| *v = 0.0);
            }
        }
        res
    }

    /// Tear volumes: the pass is affine in them; solve `(I - M) v = c`, or keep the initial
    /// guess for loops whose volume the balances leave free (closed recirculation).
    fn solve_volumes(&self, tears: &[StreamId]) -> Result<Vec<St>, SimError> {
        let m = self.m;
        let nt = tears.len();
        let initial: Vec<St> = tears
            .iter()
            .map(|sid| {
                let mut s = St::zero(m);
                let st = self.g.stream(*sid);
                if let Some(p) = st.to_port {
                    if let (sxplan_model::NodeRef::Circuit(c), PortKind::OrganicInlet) =
                        (p.node, p.kind)
                    {
                        s.vol = self.fs.circuits[c.0].organic.flow_vol;
                    }
                }
                // A tear into a splitter/mixer feeding an organic inlet: same default.
                if s.vol == 0.0 && st.phase == Phase::Organic {
                    s.vol = self.organic_loop_volume(*sid);
                }
                s
            })
            .collect();
        if nt == 0 {
            return Ok(initial);
        }
        let eval = |v: &[f64], w: &[f64]| -> Vec<f64> {
            let vs: Vec<St> = (0..nt)
                .map(|t| {
                    let mut s = St::zero(m);
                    s.vol = v[t];
                    s.mass = w[t];
                    s
                })
                .collect();
            let p = self.pass(Mode::Volumes, tears, &vs, &[]);
            tears
                .iter()
                .flat_map(|sid| [p.states[sid.0].vol, p.states[sid.0].mass])
                .collect()
        };
        let zeros = vec![0.0; nt];
        let c = eval(&zeros, &zeros);
        // Columns of M for volume and mass of each tear.
        let dim = 2 * nt;
        let mut a = vec![0.0; dim * dim];
        for k in 0..dim {
            let mut v = vec![0.0; nt];
            let mut w = vec![0.0; nt];
            if k % 2 == 0 {
                v[k / 2] = 1.0;
            } else {
                w[k / 2] = 1.0;
            }
            let col = eval(&v, &w);
            for r in 0..dim {
                let mrk = col[r] - c[r];
                a[r * dim + k] = if r == k { 1.0 } else { 0.0 } - mrk;
            }
        }
        let mut sol = dense_solve(dim, &a, &c);
        if let Some(s) = &sol {
            if s.iter().any(|v| *v < -1e-9 * (1.0 + v.abs())) {
                sol = None;
            }
        }
        let vals: Vec<f64> = match sol {
            Some(s) => s,
            None => {
                // Singular: a closed loop. Substitution from the initial guess keeps the loop's
                // volume and converges the rest. A loop that something enters and nothing
                // leaves grows by the same amount every pass: no steady state, said at once.
                let mut v: Vec<f64> = initial.iter().map(|s| s.vol).collect();
                let mut w: Vec<f64> = initial.iter().map(|s| s.mass).collect();
                let mut growth: Vec<f64> = Vec::new();
                for pass in 0..100_000 {
                    let out = eval(&v, &w);
                    let mut change: f64 = 0.0;
                    let mut grew = vec![0.0; nt];
                    for t in 0..nt {
                        change = change.max((out[2 * t] - v[t]).abs() / (1.0 + v[t].abs()));
                        change = change.max((out[2 * t + 1] - w[t]).abs() / (1.0 + w[t].abs()));
                        grew[t] = (out[2 * t] - v[t]).max(out[2 * t + 1] - w[t]);
                        v[t] = out[2 * t];
                        w[t] = out[2 * t + 1];
                    }
                    if change < 1e-15 {
                        break;
                    }
                    if pass % 50 == 0 {
                        if let Some(t) = (0..nt).find(|&t| {
                            growth.get(t).is_some_and(|g0| {
                                *g0 > 0.0 && grew[t] >= 0.999 * g0 && grew[t] > 1e-12
                            })
                        }) {
                            return Err(self.unbounded_loop(tears[t]));
                        }
                        growth = grew;
                    }
                    if self.deadline.passed() {
                        break;
                    }
                }
                (0..nt).flat_map(|t| [v[t], w[t]]).collect()
            }
        };
        Ok((0..nt)
            .map(|t| {
                let mut s = St::zero(m);
                s.vol = vals[2 * t].max(0.0);
                s.mass = vals[2 * t + 1].max(0.0);
                s
            })
            .collect())
    }

    /// The error of a recycle loop whose volume grows without bound.
    fn unbounded_loop(&self, tear: StreamId) -> SimError {
        let s = self.g.stream(tear);
        let phase = match s.phase {
            Phase::Organic => "organic",
            Phase::Aqueous => "aqueous",
            Phase::Solid => "solids",
        };
        SimError::spec(
            format!("recycle through \"{}\"", s.name),
            format!(
                "the {phase} entering the loop has no way out: its flow grows without bound and no steady state exists; give the loop an outlet (a splitter with a purge or a product draw)"
            ),
        )
    }

    /// Organic flow of the circuit whose organic inlet a stream eventually reaches.
    fn organic_loop_volume(&self, sid: StreamId) -> f64 {
        let mut cur = self.g.stream(sid).to;
        for _ in 0..self.g.n_streams() {
            for s in self.g.outlets(cur) {
                let st = self.g.stream(s);
                if let Some(p) = st.to_port {
                    if let (sxplan_model::NodeRef::Circuit(c), PortKind::OrganicInlet) =
                        (p.node, p.kind)
                    {
                        return self.fs.circuits[c.0].organic.flow_vol;
                    }
                }
            }
            match self.g.outlets(cur).first() {
                Some(s)
                    if matches!(
                        self.g.node(self.g.stream(*s).to).kind,
                        NodeKind::Mixer { .. } | NodeKind::Splitter { .. }
                    ) =>
                {
                    cur = self.g.stream(*s).to;
                }
                _ => break,
            }
        }
        0.0
    }

    fn check_volumes(&self, vols: &[St]) -> Result<(), SimError> {
        let tears = self.g.tears().to_vec();
        let p = self.pass(Mode::Volumes, &tears, vols, &[]);
        for (ci, c) in self.fs.circuits.iter().enumerate() {
            let ids = self.g.circuit_stages(sxplan_model::CircuitId(ci));
            let n = ids.len();
            let mut q = vec![0.0; n];
            for k in (0..n).rev() {
                let node = self.g.stage(ids[k]).node;
                let ext: f64 = self
                    .g
                    .inlets(node)
                    .iter()
                    .filter(|s| {
                        let s = self.g.stream(**s);
                        !s.internal && s.phase != Phase::Organic
                    })
                    .map(|s| p.states[s.0].vol)
                    .sum::<f64>()
                    + tears
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| {
                            self.g.stream(**t).to == node
                                && self.g.stream(**t).phase != Phase::Organic
                        })
                        .map(|(k2, _)| vols[k2].vol - p.states[tears[k2].0].vol)
                        .sum::<f64>();
                q[k] = ext
                    + if self.g.stage(ids[k]).aqueous_from_next && k + 1 < n {
                        q[k + 1]
                    } else {
                        0.0
                    };
                if q[k].is_nan() || q[k] <= 0.0 {
                    return Err(SimError::spec(
                        format!("circuit \"{}\" stage {}", c.name, k + 1),
                        "no aqueous flow reaches this stage (give its section a solution, a feed or a link)".to_string(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Converges tear acid and element flows. Returns (x, iterations, residual, status,
    /// chain iterations).
    fn converge_tears(
        &self,
        tears: &[StreamId],
        vols: &[St],
        floor: &[f64],
        opts: &SimOptions,
        x0: Option<&[f64]>,
    ) -> (Vec<f64>, usize, f64, SolveStatus, usize) {
        let m = self.m;
        let n_x = tears.len() * (m + 1);
        let mut chain_its = 0;
        let mut chain_status = SolveStatus::Converged;
        let mut g =
            |x: &[f64], chain_its: &mut usize, chain_status: &mut SolveStatus| -> Vec<f64> {
                let p = self.pass(Mode::Full, tears, vols, x);
                for c in p.chains.iter().flatten() {
                    *chain_its += c.1.iterations;
                    *chain_status = worst(*chain_status, c.1.status);
                }
                tears
                    .iter()
                    .flat_map(|sid| {
                        let s = &p.states[sid.0];
                        std::iter::once(s.acid).chain(s.mol.iter().copied())
                    })
                    .collect()
            };
        let rel = |f: &[f64], x: &[f64]| -> f64 {
            f.iter()
                .zip(x)
                .zip(floor)
                .map(|((fv, xv), fl)| fv.abs() / (xv.abs() + fl))
                .fold(0.0f64, f64::max)
        };
        let mut x = x0.map_or_else(|| vec![0.0; n_x], <[f64]>::to_vec);
        let mut gx = g(&x, &mut chain_its, &mut chain_status);
        let mut f: Vec<f64> = gx.iter().zip(&x).map(|(a, b)| a - b).collect();
        let mut res = rel(&f, &gx);
        let mut it = 0;
        let tol = opts.recycle_tolerance;
        match opts.algorithm {
            Algorithm::Substitution => {}
            Algorithm::Newton => {
                // Jacobian of F = G(x) - x by finite differences, then Broyden updates.
                let fd = |x: &[f64],
                          gx: &[f64],
                          chain_its: &mut usize,
                          chain_status: &mut SolveStatus,
                          g: &mut TearMap<'_>|
                 -> Vec<f64> {
                    let mut j = vec![0.0; n_x * n_x];
                    for k in 0..n_x {
                        if self.spent().is_some() {
                            break;
                        }
                        let h = 1e-7 * x[k].abs().max(floor[k] * 1e8).max(1e-12);
                        let mut xp = x.to_vec();
                        xp[k] += h;
                        let gp = g(&xp, chain_its, chain_status);
                        for r in 0..n_x {
                            let d = (gp[r] - gx[r]) / h;
                            j[r * n_x + k] = d - if r == k { 1.0 } else { 0.0 };
                        }
                    }
                    j
                };
                let mut jac = fd(&x, &gx, &mut chain_its, &mut chain_status, &mut g);
                let mut fresh = true;
                while it < opts.max_recycle_iterations && res > tol && self.spent().is_none() {
                    it += 1;
                    let rhs: Vec<f64> = f.iter().map(|v| -v).collect();
                    let Some(step) = dense_solve(n_x, &jac, &rhs) else {
                        if fresh {
                            break;
                        }
                        jac = fd(&x, &gx, &mut chain_its, &mut chain_status, &mut g);
                        fresh = true;
                        continue;
                    };
                    let norm = |f: &[f64], x: &[f64]| -> f64 {
                        f.iter()
                            .zip(x)
                            .zip(floor)
                            .map(|((a, b), c)| (a / (b.abs() + c)).powi(2))
                            .sum::<f64>()
                    };
                    let n0 = norm(&f, &x);
                    let mut lambda = 1.0;
                    let mut accepted = None;
                    for _ in 0..20 {
                        if self.spent().is_some() {
                            break;
                        }
                        let xt: Vec<f64> = x
                            .iter()
                            .zip(&step)
                            .enumerate()
                            .map(|(k, (a, s))| {
                                let v = a + lambda * s;
                                if k % (m + 1) == 0 {
                                    v
                                } else {
                                    v.max(0.0)
                                }
                            })
                            .collect();
                        let gt = g(&xt, &mut chain_its, &mut chain_status);
                        let ft: Vec<f64> = gt.iter().zip(&xt).map(|(a, b)| a - b).collect();
                        if ft.iter().all(|v| v.is_finite())
                            && (norm(&ft, &xt) < n0 || rel(&ft, &gt) <= tol)
                        {
                            accepted = Some((xt, gt, ft));
                            break;
                        }
                        lambda *= 0.5;
                    }
                    match accepted {
                        Some((xt, gt, ft)) => {
                            // Broyden's good update: J += (dF - J dx) dx^T / (dx^T dx).
                            let dx: Vec<f64> = xt.iter().zip(&x).map(|(a, b)| a - b).collect();
                            let df: Vec<f64> = ft.iter().zip(&f).map(|(a, b)| a - b).collect();
                            let dd: f64 = dx.iter().map(|v| v * v).sum();
                            if dd > 0.0 {
                                for r in 0..n_x {
                                    let jdx: f64 = (0..n_x).map(|c| jac[r * n_x + c] * dx[c]).sum();
                                    let u = (df[r] - jdx) / dd;
                                    for c in 0..n_x {
                                        jac[r * n_x + c] += u * dx[c];
                                    }
                                }
                            }
                            x = xt;
                            gx = gt;
                            f = ft;
                            res = rel(&f, &gx);
                            fresh = false;
                            self.report_progress(opts, it, res);
                        }
                        None => {
                            if fresh {
                                break;
                            }
                            jac = fd(&x, &gx, &mut chain_its, &mut chain_status, &mut g);
                            fresh = true;
                        }
                    }
                }
            }
        }
        // Successive substitution: the algorithm asked for, and where Newton on the tears
        // finds no descent (a tear map whose chains change branch between evaluations has no
        // useful finite-difference Jacobian; measured: a 4-circuit mass-action plant with a
        // 30 % raffinate recycle stopped after 5 Newton iterations at residual 3.5). A
        // recycle fraction below 1 makes it a contraction. Within the same count of recycle
        // iterations (substitution's own, cheaper ones: 50 times as many).
        let limit = match opts.algorithm {
            Algorithm::Substitution => opts.max_recycle_iterations.max(1) * 50,
            Algorithm::Newton => opts.max_recycle_iterations,
        };
        while it < limit && res > tol && res.is_finite() && self.spent().is_none() {
            it += 1;
            x = gx
                .iter()
                .enumerate()
                .map(|(k, v)| if k % (m + 1) == 0 { *v } else { v.max(0.0) })
                .collect();
            chain_status = SolveStatus::Converged;
            gx = g(&x, &mut chain_its, &mut chain_status);
            f = gx.iter().zip(&x).map(|(a, b)| a - b).collect();
            res = rel(&f, &gx);
            self.report_progress(opts, it, res);
        }
        // Final state must be the converged G(x): use G(x) as the tear values.
        let status = if !res.is_finite() {
            SolveStatus::Diverged
        } else if res <= tol {
            SolveStatus::Converged
        } else {
            spent_status(self.spent().unwrap_or(BudgetSpent::None))
        };
        let xs: Vec<f64> = gx
            .iter()
            .enumerate()
            .map(|(k, v)| if k % (m + 1) == 0 { *v } else { v.max(0.0) })
            .collect();
        (
            xs,
            it,
            if res.is_finite() { res } else { f64::MAX },
            status,
            chain_its,
        )
    }

    /// Tells the caller's progress display where the recycle convergence stands.
    fn report_progress(&self, opts: &SimOptions, iteration: usize, residual: f64) {
        if let Some(ProgressFn(p)) = opts.progress {
            p(&RecycleProgress {
                iteration,
                residual,
                elapsed_s: self.deadline.elapsed_s(),
            });
        }
    }

    /// Element flows entering with the sources and leaving through the sinks, per element.
    fn balance(&self, pass: &Pass) -> (Vec<f64>, Vec<f64>) {
        let m = self.m;
        let mut fin = vec![0.0; m];
        let mut fout = vec![0.0; m];
        for n in self.g.nodes() {
            if n.kind.is_source() {
                for sid in self.g.outlets(n.id) {
                    for i in 0..m {
                        fin[i] += pass.states[sid.0].mol[i];
                    }
                }
            } else if n.kind.is_sink() {
                for sid in self.g.inlets(n.id) {
                    for i in 0..m {
                        fout[i] += pass.states[sid.0].mol[i];
                    }
                }
            }
        }
        (fin, fout)
    }

    #[allow(clippy::too_many_lines)]
    fn results(&self, state: &PlantState) -> SimResult {
        let (pass, tears, iterations) = (&state.pass, &state.tears, state.recycle_iterations);
        let (recycle_status, recycle_residual) = (state.status, state.recycle_residual);
        let chain_iterations = state.chain_iterations;
        let m = self.m;
        let els = &self.elements;
        let emap = |v: &[f64]| -> BTreeMap<Element, f64> {
            els.iter()
                .zip(v)
                .map(|(e, x)| (*e, if x.is_finite() { *x } else { 0.0 }))
                .collect()
        };
        // Streams (non-internal).
        let mut streams = Vec::new();
        for s in self.g.streams() {
            if s.internal {
                continue;
            }
            let st = &pass.states[s.id.0];
            let conc: Vec<f64> = st
                .mol
                .iter()
                .map(|v| if st.vol > 0.0 { v / st.vol } else { 0.0 })
                .collect();
            streams.push(StreamResult {
                id: s.id.0,
                name: s.name.clone(),
                phase: s.phase,
                from: self.g.node(s.from).name.clone(),
                to: self.g.node(s.to).name.clone(),
                flow_vol_l_per_h: st.vol,
                flow_mass_t_per_h: st.mass,
                acid_mol_per_h: if s.phase == Phase::Aqueous {
                    st.acid
                } else {
                    0.0
                },
                conc_mol_per_l: emap(&conc),
                flow_mol_per_h: emap(&st.mol),
                tear: tears.contains(&s.id),
            });
        }
        // Mass balance: sources vs sinks.
        let (fin, fout) = self.balance(pass);
        let mut per_element = BTreeMap::new();
        let mut max_rel: f64 = 0.0;
        for i in 0..m {
            let r = if fin[i] > 0.0 {
                (fin[i] - fout[i]).abs() / fin[i]
            } else if fout[i] == 0.0 {
                0.0
            } else {
                1.0
            };
            let r = if r.is_finite() { r } else { 1.0 };
            max_rel = max_rel.max(r);
            per_element.insert(
                els[i],
                ElementBalance {
                    in_mol_per_h: fin[i],
                    out_mol_per_h: fout[i],
                    relative_error: r,
                },
            );
        }
        let tin: f64 = fin.iter().sum();
        let tout: f64 = fout.iter().sum();
        let overall = if tin > 0.0 {
            (tin - tout).abs() / tin
        } else {
            0.0
        };
        // Products.
        let mut products = Vec::new();
        let mut reo_total = 0.0;
        for p in &self.fs.products {
            let node = self
                .g
                .nodes()
                .iter()
                .find(|n| matches!(n.kind, NodeKind::Product { product } if product == p.id));
            let mut flow = vec![0.0; m];
            if let Some(n) = node {
                for sid in self.g.inlets(n.id) {
                    for i in 0..m {
                        flow[i] += pass.states[sid.0].mol[i];
                    }
                }
            }
            let rey: Vec<bool> = els.iter().map(|e| e.is_rey()).collect();
            let oxide: Vec<f64> = els
                .iter()
                .zip(&flow)
                .map(|(e, f)| e.oxide_mass_from_mol(*f))
                .collect();
            let tot_mol: f64 = (0..m).filter(|&i| rey[i]).map(|i| flow[i]).sum();
            let tot_ox: f64 = (0..m).filter(|&i| rey[i]).map(|i| oxide[i]).sum();
            let purity_elements: Vec<Element> = match &p.purity {
                Some(spec) => spec.elements.clone(),
                None => (0..m)
                    .filter(|&i| rey[i])
                    .max_by(|&a, &b| flow[a].total_cmp(&flow[b]))
                    .map(|i| vec![els[i]])
                    .unwrap_or_default(),
            };
            let sel = |v: &[f64]| -> f64 {
                (0..m)
                    .filter(|&i| rey[i] && purity_elements.contains(&els[i]))
                    .map(|i| v[i])
                    .sum()
            };
            let purity_mol = if tot_mol > 0.0 {
                sel(&flow) / tot_mol
            } else {
                0.0
            };
            let purity_reo_mass = if tot_ox > 0.0 {
                sel(&oxide) / tot_ox
            } else {
                0.0
            };
            let purity_spec = p.purity.as_ref().map(|s| {
                let (basis, val) = match s.basis {
                    PurityBasis::Mole => ("mole", purity_mol),
                    PurityBasis::OxideMass => ("oxide_mass", purity_reo_mass),
                };
                PuritySpecResult {
                    min: s.min,
                    basis: basis.to_string(),
                    met: val >= s.min,
                }
            });
            let recovery: BTreeMap<Element, f64> = (0..m)
                .filter(|&i| fin[i] > 0.0)
                .map(|i| (els[i], flow[i] / fin[i]))
                .collect();
            let reo = tot_ox / 1000.0;
            reo_total += reo;
            products.push(ProductResult {
                id: p.name.clone(),
                purity_elements,
                purity_mol,
                purity_reo_mass,
                purity_spec,
                recovery,
                reo_kg_per_h: reo,
                flow_mol_per_h: emap(&flow),
            });
        }
        // Circuits.
        let mut circuits = Vec::new();
        let mut acid_base = Vec::new();
        let mut warnings = self.warnings.clone();
        let mut max_stage: f64 = 0.0;
        let mut status = recycle_status;
        for (ci, c) in self.fs.circuits.iter().enumerate() {
            let Some((chain, sol)) = &pass.chains[ci] else {
                continue;
            };
            status = worst(status, sol.status);
            max_stage = max_stage.max(sol.max_residual);
            let data = &self.circuits[ci];
            // Acidity of models that do not depend on it: say when the acid and the base fed
            // do not match (the pH of such stages would be meaningless).
            let acid_free = !chain.uses_acidity();
            if acid_free && chain.n_stages > 0 {
                let sb = chain.soap_balance(&sol.o);
                let base: f64 = chain.base_ext.iter().sum();
                if base > 0.0 && sb.soap_out > 1e-6 * base {
                    warnings.push(format!(
                        "circuit \"{}\": {:.4e} mol/h of the saponification base ({:.1} %) leaves stage {} still on the organic: there is more base than acid and loading to meet it; lower the saponification",
                        c.name,
                        sb.soap_out,
                        100.0 * sb.soap_out / base,
                        chain.n_stages
                    ));
                }
                let scale: f64 = chain.acid_ext.iter().map(|v| v.abs()).sum::<f64>() + base;
                let short: Vec<usize> = (0..chain.n_stages)
                    .filter(|&j| sol.h[j] < -1e-9 * scale)
                    .collect();
                // Acid the circuit receives (feeds, scrub and strip solutions, released base).
                let acid_in: f64 = chain.acid_ext.iter().filter(|v| **v > 0.0).sum::<f64>() + base;
                let deficit = short.iter().map(|&j| -sol.h[j]).fold(0.0f64, f64::max);
                // Below 1 % of the acid received the deficit is design rounding (scrub acid
                // sized at exactly 3 H+ per ion scrubbed); such stages are near neutral.
                let significant = deficit > 0.01 * acid_in;
                if let (true, Some(first), Some(last)) = (significant, short.first(), short.last())
                {
                    let worst_acid = short
                        .iter()
                        .filter(|&&j| chain.flow_vol_aq[j] > 0.0)
                        .map(|&j| sol.h[j] / chain.flow_vol_aq[j])
                        .fold(0.0f64, f64::min);
                    warnings.push(format!(
                        "circuit \"{}\" stages {}..={}: the acid fed does not cover what scrubbing and stripping consume ({:.4e} mol/h short, {}; net acidity down to {:.3e} mol/L); raise the scrub or strip acid; pH is reported as 7 there",
                        c.name,
                        first + 1,
                        last + 1,
                        deficit,
                        if acid_in > 0.0 {
                            format!(
                                "{} % of the acid received",
                                sxplan_model::acid_budget::amount(100.0 * deficit / acid_in)
                            )
                        } else {
                            "and the circuit receives no acid".to_string()
                        },
                        worst_acid
                    ));
                }
            }
            let mut stages = Vec::with_capacity(chain.n_stages);
            for j in 0..chain.n_stages {
                let qa = chain.flow_vol_aq[j];
                let qo = chain.flow_vol_org[j];
                let x: Vec<f64> = (0..m).map(|i| sol.a[j * m + i] / qa).collect();
                let y: Vec<f64> = (0..m)
                    .map(|i| if qo > 0.0 { sol.o[j * m + i] / qo } else { 0.0 })
                    .collect();
                let acidity = sol.h[j] / qa;
                let (hp, _) = proton_conc(acidity);
                let loading: f64 = (0..m).filter(|&i| els[i].is_rey()).map(|i| y[i]).sum();
                let section = c
                    .section_of_stage(j + 1)
                    .map_or("unknown", |s| c.sections[s].kind.as_str());
                let (free, frac) = match data.conc_dimer {
                    Some(cd) if cd > 0.0 => {
                        (Some(sol.free_dimer[j]), Some(1.0 - sol.free_dimer[j] / cd))
                    }
                    _ => (
                        None,
                        data.capacity[j].filter(|l| *l > 0.0).map(|l| loading / l),
                    ),
                };
                stages.push(StageResult {
                    stage: j + 1,
                    section: section.to_string(),
                    flow_vol_aq: qa,
                    flow_vol_org: qo,
                    conc_aq: emap(&x),
                    conc_org: emap(&y),
                    acidity_mol_per_l: if acidity.is_finite() { acidity } else { 0.0 },
                    ph: if acid_free && acidity < 0.0 {
                        7.0
                    } else if hp > 0.0 && hp.is_finite() {
                        -hp.log10()
                    } else {
                        0.0
                    },
                    free_extractant: free,
                    loading_mol_per_l: loading,
                    loading_fraction: frac,
                });
            }
            let (mut circuit_status, acid_budget) =
                self.acid_base(c, chain, sol, &stages, &mut acid_base);
            if circuit_status.is_converged() {
                if let Some(why) = overloaded(c, &stages) {
                    acid_base.push(why);
                    circuit_status = SolveStatus::Infeasible;
                }
            }
            status = worst(status, circuit_status);
            // The last iterate of a solve that did not converge is not a state of the plant
            // (its pH and loading can lie anywhere): no profile leaves the program for it.
            if !circuit_status.is_converged() {
                stages.clear();
            }
            circuits.push(CircuitResult {
                name: c.name.clone(),
                model: c.equilibrium.name().to_string(),
                status: circuit_status,
                iterations: sol.iterations,
                max_residual: sol.max_residual,
                stages,
                acid_budget,
            });
        }
        // Reagents.
        let mut items = Vec::new();
        let mut push = |reagent: &str, formula: &str, use_: String, mol: f64| {
            if mol <= 0.0 {
                return;
            }
            let mw = sxplan_chem::formula::molar_mass(formula).unwrap_or(0.0);
            let kg = mol * mw / 1000.0;
            items.push(ReagentUseResult {
                reagent: reagent.to_string(),
                use_,
                mol_per_h: mol,
                kg_per_h: kg,
                t_per_t_reo: if reo_total > 0.0 {
                    Some(kg / reo_total)
                } else {
                    None
                },
            });
        };
        for n in self.g.nodes() {
            if let NodeKind::Solution { circuit, section } = n.kind {
                let c = &self.fs.circuits[circuit.0];
                let s = &c.sections[section];
                if let Some(sol) = &s.solution {
                    if let Some(acid) = sol.acid {
                        let (name, formula) = acid_names(acid);
                        push(
                            name,
                            formula,
                            format!("circuit {} {}", c.name, s.name),
                            sol.conc_mol * sol.flow_vol,
                        );
                    }
                }
            }
        }
        for (ci, c) in self.fs.circuits.iter().enumerate() {
            if let (Some(sap), Some((chain, _))) = (&c.organic.saponification, &pass.chains[ci]) {
                let base = chain.base_ext.first().copied().unwrap_or(0.0);
                let (name, formula) = match sap.agent {
                    sxplan_model::Base::NaOH => ("NaOH", "NaOH"),
                    sxplan_model::Base::NH3 => ("NH3", "NH3"),
                };
                push(
                    name,
                    formula,
                    format!("circuit {} saponification", c.name),
                    base,
                );
            }
        }
        for u in &self.fs.units {
            let node = self
                .g
                .nodes()
                .iter()
                .find(|n| matches!(n.kind, NodeKind::Unit { unit } if unit == u.id));
            let mut inflow = vec![0.0; m];
            let mut out_vol = 0.0;
            if let Some(n) = node {
                for sid in self.g.inlets(n.id) {
                    for i in 0..m {
                        inflow[i] += pass.states[sid.0].mol[i];
                    }
                }
                for sid in self.g.outlets(n.id) {
                    if !matches!(
                        self.g.stream(sid).from_port.map(|p| p.kind),
                        Some(PortKind::Residue)
                    ) {
                        out_vol = pass.states[sid.0].vol;
                    }
                }
            }
            if let UnitKind::Leach { acid, conc_mol, .. } = &u.kind {
                let (name, formula) = acid_names(*acid);
                push(
                    name,
                    formula,
                    format!("unit {} leach", u.name),
                    conc_mol * out_vol,
                );
            }
            for r in &u.reagents {
                let basis: f64 = match &r.basis {
                    sxplan_model::ReagentBasis::ReyIn => {
                        (0..m).filter(|&i| els[i].is_rey()).map(|i| inflow[i]).sum()
                    }
                    sxplan_model::ReagentBasis::Element(e) => {
                        self.elem_index(*e).map_or(0.0, |i| inflow[i])
                    }
                };
                let (name, formula) = reagent_names(r.reagent);
                push(
                    name,
                    formula,
                    format!("unit {}", u.name),
                    r.mol_per_mol * basis,
                );
            }
        }
        let status = if max_rel > 1e-9 {
            worst(status, SolveStatus::IterationLimit)
        } else {
            status
        };
        SimResult {
            schema_version: RESULT_SCHEMA_VERSION,
            flowsheet: self.fs.name.clone(),
            status,
            iterations,
            elements: els.clone(),
            mass_balance: MassBalance {
                max_relative_error: max_rel,
                overall_relative_error: overall,
                per_element,
            },
            streams,
            products,
            circuits,
            reagents: Reagents {
                items,
                reo_product_kg_per_h: reo_total,
            },
            diagnostics: Diagnostics {
                algorithm: match self.algorithm {
                    Algorithm::Newton => "newton".into(),
                    Algorithm::Substitution => "substitution".into(),
                },
                n_stages: self.g.n_stages(),
                n_streams: self.g.n_streams(),
                n_tears: tears.len(),
                max_stage_residual: max_stage,
                recycle_residual,
                chain_iterations,
                budget: state.budget.clone(),
                warnings,
                acid_base,
            },
        }
    }
}

impl Engine<'_> {
    /// The status of circuit `c` after the acid/base check, and its budget when diagnosed:
    /// a solve that did not converge, or a mass-action or empirical stage above the hydroxide
    /// pH, gets the budget from its section flows (lines with the numbers go to `lines`). A
    /// converged state above the hydroxide pH, or a failed solve the budget explains, is
    /// [`SolveStatus::Infeasible`].
    fn acid_base(
        &self,
        c: &Circuit,
        chain: &Chain,
        sol: &ChainSolution,
        stages: &[StageResult],
        lines: &mut Vec<String>,
    ) -> (SolveStatus, Option<AcidBudget>) {
        let ph: Vec<f64> = stages.iter().map(|s| s.ph).collect();
        let high = if chain.uses_acidity() {
            crate::diagnose::above_hydroxide(&ph)
        } else {
            None
        };
        if sol.status.is_converged() && high.is_none() {
            return (sol.status, None);
        }
        let have = c.equilibrium.elements();
        let extractable: Vec<bool> = self.elements.iter().map(|e| have.contains(e)).collect();
        let budget = crate::diagnose::circuit_budget(c, chain, sol, &extractable);
        let why = match high {
            Some((stage, ph)) if sol.status.is_converged() => format!(
                "stage {stage} ends {}, above the pH {} where rare-earth hydroxides precipitate: not a state the SX model describes",
                // beyond 14.5 (3 mol/L of hydroxide) a pH is no longer a number to show
                if ph <= 14.5 {
                    format!("at pH {ph:.2}")
                } else {
                    "beyond pH 14.5".to_string()
                },
                sxplan_model::acid_budget::HYDROXIDE_PH
            ),
            // not run at all, whichever the algorithm (Engine::excludes_acidic_state)
            _ if sol.status == SolveStatus::Infeasible => {
                "not solved: its inflows exclude an acidic steady state".to_string()
            }
            _ if self.algorithm == Algorithm::Substitution && chain.uses_acidity() => format!(
                "the substitution cross-check ended {} after {} passes: stage-by-stage substitution is not bounded on a circuit whose pH couples its stages (docs/ph.md, section 1a); the default Newton keeps every iterate a physical state",
                sol.status, sol.iterations
            ),
            _ => format!("the solve ended {}", sol.status),
        };
        lines.push(format!("circuit \"{}\": {why}", c.name));
        for f in &budget.findings {
            lines.push(format!("{} (help: {})", f.message, f.help));
        }
        if budget.findings.is_empty() {
            let amount = sxplan_model::acid_budget::amount;
            lines.push(format!(
                "circuit \"{}\": the acid/base budget does not exclude an acidic steady state (base {} mol/h against {} mol/h of feed and scrub acid and at most {} mol/h released by loading; strip acid {} mol/h for {} mol/h needed)",
                c.name,
                amount(budget.base_mol_per_h),
                amount(budget.h_feed_mol_per_h + budget.h_scrub_mol_per_h),
                amount(budget.released_max_mol_per_h),
                budget.h_strip_mol_per_h.map_or("none".to_string(), amount),
                amount(budget.strip_need_mol_per_h)
            ));
        }
        // Infeasible: the state is above the hydroxide pH, or no acidic state exists (a). A
        // short strip (b) explains a failure but does not exclude a state: what the acid
        // cannot strip may leave on the organic.
        let alkaline = budget
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::BaseExceedsAcid);
        // A failed solve keeps its own status (a spent run budget leaves the feeds of the
        // circuits downstream unknown, so their budget may be computed from flows that are not
        // the plant's); the diagnosis lines still explain it.
        let status = if (high.is_some() && sol.status.is_converged())
            || (alkaline && sol.status == SolveStatus::Diverged)
        {
            SolveStatus::Infeasible
        } else {
            sol.status
        };
        (status, Some(budget))
    }
}

/// Why a converged circuit's state loads the organic beyond what its extractant can hold, if it
/// does. Three extractant anions bind each trivalent ion (two for a divalent one), so with
/// every molecule deprotonated an organic of C mol/L extractant holds at most C / z mol/L of
/// ions (z the smallest charge extracted). The mass-action and empirical models bound their
/// loading below that; fixed distribution ratios and separation factors do not, and a state
/// beyond it is no state of a plant: the ratios cannot hold at that loading.
fn overloaded(c: &Circuit, stages: &[StageResult]) -> Option<String> {
    let conc = c.organic.conc_mol;
    let z = c
        .equilibrium
        .elements()
        .iter()
        .map(|e| f64::from(e.charge().unsigned_abs()))
        .filter(|z| *z > 0.0)
        .fold(f64::INFINITY, f64::min);
    if !(conc > 0.0 && z.is_finite()) {
        return None;
    }
    let bound = conc / z;
    let worst = stages
        .iter()
        .max_by(|a, b| a.loading_mol_per_l.total_cmp(&b.loading_mol_per_l))?;
    let over = worst.loading_mol_per_l;
    if over.is_finite() && over <= bound * (1.0 + 1e-9) {
        return None;
    }
    let amount = sxplan_model::acid_budget::amount;
    // stage flows are in L/h
    let carried = over * worst.flow_vol_org;
    let need = carried / bound / 1000.0;
    Some(format!(
        "circuit \"{}\": stage {} loads the organic to {} mol/L of ions, beyond the {} mol/L that {} mol/L of extractant can hold at {} extractant anions per ion: the {} model's ratios cannot hold at that loading (help: to carry the {} mol/h it loads there the organic flow would have to be at least {} m3/h, it is {}; or lower the distribution ratios, or describe the circuit with the mass_action model, which bounds the loading)",
        c.name,
        worst.stage,
        amount(over),
        amount(bound),
        amount(conc),
        z,
        c.equilibrium.name(),
        amount(carried),
        amount(need),
        amount(worst.flow_vol_org / 1000.0)
    ))
}

/// One recycle pass as a map from tear values to their recomputed values.
type TearMap<'a> = dyn FnMut(&[f64], &mut usize, &mut SolveStatus) -> Vec<f64> + 'a;

fn acid_names(a: sxplan_model::Acid) -> (&'static str, &'static str) {
    match a {
        sxplan_model::Acid::HCl => ("HCl", "HCl"),
        sxplan_model::Acid::H2SO4 => ("H2SO4", "H2SO4"),
        sxplan_model::Acid::HNO3 => ("HNO3", "HNO3"),
    }
}

fn reagent_names(r: sxplan_model::Reagent) -> (&'static str, &'static str) {
    use sxplan_model::Reagent as R;
    match r {
        R::HCl => ("HCl", "HCl"),
        R::H2SO4 => ("H2SO4", "H2SO4"),
        R::HNO3 => ("HNO3", "HNO3"),
        R::NaOH => ("NaOH", "NaOH"),
        R::NH3 => ("NH3", "NH3"),
        R::OxalicAcid => ("oxalic_acid", "H2C2O4.2H2O"),
        R::Extractant => ("extractant", ""),
    }
}
