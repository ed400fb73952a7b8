//! The flowsheet as the optimizer sees it: operating variables, stream network, hydraulics, and the
//! simulated operating point (per stage and element flows) that each LP pass linearizes around.
//!
//! The point is computed with the simulation crate's countercurrent chain solver
//! ([`sxplan_sim::chain::Chain`]) circuit by circuit, with successive substitution over the stream
//! network for recycles. Volumetric flows are linear in the operating variables (additive volumes,
//! fixed split fractions), so [`Plant::hydraulics`] is exact and its finite differences are exact
//! derivatives.

// Index loops mirror the stage/element algebra.
#![allow(clippy::needless_range_loop)]

use std::collections::BTreeMap;

use sxplan_model::operating;
use sxplan_model::{
    CircuitId, Equilibrium, FeedKind, Flowsheet, Link, NodeRef, OperatingVar, Phase, Port,
    PortKind, ProductId, SectionKind, SectionLoading, UnitKind,
};
use sxplan_sim::chain::{Algorithm, Chain};
use sxplan_sim::equilibrium::{SfLoading, StageModel};
use sxplan_sim::SolveStatus;

use crate::error::OptError;

/// REY content of a mud feed in mol per tonne of dry mud: the flowsheet's explicit content, else the
/// built-in grade (`sxplan_chem::mud::grade`), as `sxplan_sim::simulate` reads it.
pub fn mud_mol_per_t(mu: &sxplan_model::MudFeed, e: sxplan_chem::Element) -> f64 {
    if mu.content_mol_per_kg.is_empty() {
        sxplan_chem::mud::grade(&mu.grade)
            .and_then(|g| g.mol_per_t(e))
            .unwrap_or(0.0)
    } else {
        1000.0 * mu.content_mol_per_kg.get(&e).copied().unwrap_or(0.0)
    }
}

/// Aqueous and organic volumetric flow per stage of one circuit, L/h.
pub type PhaseFlows = (Vec<f64>, Vec<f64>);

/// Value of every free operating variable, in flowsheet internal units (L/h, t/h, fractions).
/// Read and written through [`sxplan_model::operating`] ([`operating::apply`] sets a point on a
/// flowsheet).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OperatingPoint {
    /// (variable, value) in the order of the flowsheet's `optimize.free` list.
    pub values: Vec<(OperatingVar, f64)>,
}

/// [`operating::get`] as an optimizer error (the simulation below reads the written point).
fn get_var(fs: &Flowsheet, v: OperatingVar) -> Result<f64, OptError> {
    Ok(operating::get(fs, v)?)
}

/// A copy of `fs` with `point` applied ([`operating::apply`]), as an optimizer error.
fn apply(fs: &Flowsheet, point: &OperatingPoint) -> Result<Flowsheet, OptError> {
    Ok(operating::apply(fs, &point.values)?)
}

/// Where the element flows of a circuit's stage come from, as the LP needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitPoint {
    /// The circuit.
    pub circuit: CircuitId,
    /// Number of stages N.
    pub n_stages: usize,
    /// Aqueous volumetric flow per stage, L/h.
    pub flow_vol_aq: Vec<f64>,
    /// Organic volumetric flow per stage, L/h.
    pub flow_vol_org: Vec<f64>,
    /// Stage j receives the aqueous outflow of stage j + 1.
    pub aq_from_next: Vec<bool>,
    /// Aqueous element outflow per stage, `[stage][element]`, mol/h.
    pub a: Vec<Vec<f64>>,
    /// Organic element outflow per stage, `[stage][element]`, mol/h.
    pub o: Vec<Vec<f64>>,
    /// Murphree efficiency per stage.
    pub murphree: Vec<f64>,
    /// Organic REE loading limit per stage, mol/L, where one applies.
    pub loading_limit: Vec<Option<f64>>,
    /// Simulation status of the chain.
    pub status: SolveStatus,
    /// Maximum scaled residual of the chain solve.
    pub max_residual: f64,
}

/// The simulated state of the whole plant at one operating point.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantPoint {
    /// Element flows of every link, `[link][element]`, mol/h.
    pub link_flow: Vec<Vec<f64>>,
    /// Volumetric flow of every link, L/h (0 for solids).
    pub link_vol: Vec<f64>,
    /// Per circuit.
    pub circuits: Vec<CircuitPoint>,
    /// Element flow into each product, `[product][element]`, mol/h.
    pub products: Vec<Vec<f64>>,
    /// Element flow brought in by the feeds, per element, mol/h.
    pub feed_in: Vec<f64>,
    /// Worst status over the circuits and the network iteration.
    pub status: SolveStatus,
    /// Network (recycle) iterations.
    pub network_iterations: usize,
}

/// The flowsheet resolved into what the optimizer needs, independent of the operating point.
#[derive(Debug, Clone)]
pub struct Plant {
    /// The flowsheet at the base operating point.
    pub fs: Flowsheet,
    /// Free operating variables with bounds.
    pub free: Vec<sxplan_model::FreeVar>,
    /// Elements in flowsheet order.
    pub elements: Vec<sxplan_chem::Element>,
    /// Node evaluation order for the network iteration.
    order: Vec<NodeRef>,
}

fn equilibrium_model(
    fs: &Flowsheet,
    ci: usize,
    section: usize,
    stage: usize,
) -> Result<StageModel, OptError> {
    let c = &fs.circuits[ci];
    let m = fs.elements.len();
    match &c.equilibrium {
        Equilibrium::Distribution(d) => {
            let mut d_ratio = vec![0.0; m];
            for (i, e) in fs.elements.iter().enumerate() {
                if let Some(v) = d.d_ratio.get(e) {
                    d_ratio[i] = v.at(section, stage);
                }
            }
            Ok(StageModel::Linear { d_ratio })
        }
        Equilibrium::SeparationFactor(sf) => {
            let betas = sf
                .beta_section
                .get(section)
                .and_then(|b| b.as_ref())
                .unwrap_or(&sf.beta);
            let beta = fs
                .elements
                .iter()
                .map(|e| betas.get(e).copied().unwrap_or(0.0))
                .collect();
            let loading = match sf.loading.get(section).and_then(|l| l.as_ref()) {
                Some(SectionLoading::ExtractionRatio(e)) => SfLoading::Ratio(*e),
                Some(SectionLoading::Capacity(cap)) => SfLoading::Capacity(*cap),
                None => SfLoading::None,
            };
            Ok(StageModel::SeparationFactor { beta, loading })
        }
        other => Err(OptError::InvalidProblem(format!(
            "circuit \"{}\": the {} equilibrium model is not supported by optimize yet (use distribution or separation_factor)",
            c.name,
            other.name()
        ))),
    }
}

/// Organic REE loading limit of a circuit stage, mol/L: the separation-factor section capacity when
/// given, else the stoichiometric limit of an acidic extractant, C_HA / 6 (one Ln3+ binds three
/// dimers (HA)2, chemistry.md 1.1 [S]; the division is ours [D]).
fn loading_limit(fs: &Flowsheet, ci: usize, section: usize) -> Option<f64> {
    let c = &fs.circuits[ci];
    if let Equilibrium::SeparationFactor(sf) = &c.equilibrium {
        if let Some(Some(SectionLoading::Capacity(cap))) = sf.loading.get(section) {
            return Some(*cap);
        }
    }
    if let Equilibrium::MassAction(ma) = &c.equilibrium {
        if let Some(cap) = ma.loading_capacity {
            return Some(cap);
        }
    }
    (c.organic.conc_mol > 0.0).then(|| c.organic.conc_mol / 6.0)
}

impl Plant {
    /// Resolves the flowsheet. Errors name what optimize cannot handle.
    pub fn new(fs: &Flowsheet) -> Result<Plant, OptError> {
        let settings = fs.optimize.as_ref().ok_or_else(|| {
            OptError::InvalidProblem(
                "the flowsheet has no [optimize] table: name the objective and the free operating variables".into(),
            )
        })?;
        if settings.free.is_empty() {
            return Err(OptError::InvalidProblem(
                "[optimize] lists no free operating variable".into(),
            ));
        }
        for f in &settings.free {
            get_var(fs, f.var)?;
        }
        for (ci, c) in fs.circuits.iter().enumerate() {
            for (si, s) in c.sections.iter().enumerate() {
                equilibrium_model(fs, ci, si, s.first_stage)?;
            }
        }
        for f in &fs.feeds {
            if let FeedKind::Mud(m) = &f.kind {
                if m.content_mol_per_kg.is_empty() && sxplan_chem::mud::grade(&m.grade).is_none() {
                    return Err(OptError::InvalidProblem(format!(
                        "feed \"{}\": unknown mud grade \"{}\" and no explicit content",
                        f.name, m.grade
                    )));
                }
            }
        }
        // Evaluation order: topological along links, cycles broken where met.
        let mut order: Vec<NodeRef> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        // Kahn-like: repeatedly take nodes whose inputs all come from seen nodes; fall back to any.
        let all: Vec<NodeRef> = all_nodes(fs);
        while order.len() < all.len() {
            let ready = all.iter().copied().find(|n| {
                !seen.contains(n)
                    && fs
                        .links
                        .iter()
                        .filter(|l| l.to.node == *n)
                        .all(|l| seen.contains(&l.from.node))
            });
            let next = ready.or_else(|| all.iter().copied().find(|n| !seen.contains(n)));
            match next {
                Some(n) => {
                    seen.insert(n);
                    order.push(n);
                }
                None => break,
            }
        }
        Ok(Plant {
            fs: fs.clone(),
            free: settings.free.clone(),
            elements: fs.elements.clone(),
            order,
        })
    }

    /// The operating point the flowsheet is written at.
    pub fn base_point(&self) -> Result<OperatingPoint, OptError> {
        Ok(OperatingPoint {
            values: self
                .free
                .iter()
                .map(|f| get_var(&self.fs, f.var).map(|x| (f.var, x)))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Simulates the plant at `point`.
    pub fn simulate(&self, point: &OperatingPoint) -> Result<PlantPoint, OptError> {
        self.simulate_from(point, None)
    }

    /// Simulates the plant at `point`, starting every circuit solve from `warm` (a point of the
    /// same plant, e.g. the previous iterate) when given.
    pub fn simulate_from(
        &self,
        point: &OperatingPoint,
        warm: Option<&PlantPoint>,
    ) -> Result<PlantPoint, OptError> {
        let fs = apply(&self.fs, point)?;
        simulate_network(&fs, &self.order, true, warm)
    }

    /// Volumetric flows only (no element solve): per circuit `(aq per stage, org per stage)`.
    pub fn hydraulics(&self, point: &OperatingPoint) -> Result<Vec<PhaseFlows>, OptError> {
        let fs = apply(&self.fs, point)?;
        let p = simulate_network(&fs, &self.order, false, None)?;
        Ok(p.circuits
            .into_iter()
            .map(|c| (c.flow_vol_aq, c.flow_vol_org))
            .collect())
    }
}

fn all_nodes(fs: &Flowsheet) -> Vec<NodeRef> {
    let mut v: Vec<NodeRef> = Vec::new();
    v.extend(fs.feeds.iter().map(|x| NodeRef::Feed(x.id)));
    v.extend(fs.units.iter().map(|x| NodeRef::Unit(x.id)));
    v.extend(fs.splitters.iter().map(|x| NodeRef::Splitter(x.id)));
    v.extend(fs.mixers.iter().map(|x| NodeRef::Mixer(x.id)));
    v.extend(fs.circuits.iter().map(|x| NodeRef::Circuit(x.id)));
    v.extend(fs.purges.iter().map(|x| NodeRef::Purge(x.id)));
    v.extend(fs.products.iter().map(|x| NodeRef::Product(x.id)));
    v
}

/// Structure of a circuit's stages: aqueous connectivity and outlet ports.
pub(crate) struct CircuitLayout {
    pub aq_from_next: Vec<bool>,
    /// Port kind of the aqueous leaving each stage that leaves the circuit (`None`: goes to stage j-1).
    pub aq_outlet: Vec<Option<PortKind>>,
    pub section_of: Vec<usize>,
}

pub(crate) fn layout(c: &sxplan_model::Circuit) -> CircuitLayout {
    let n = c.n_stages();
    let mut aq_from_next = vec![false; n];
    let mut aq_outlet = vec![None; n];
    let mut section_of = vec![0; n];
    for (si, s) in c.sections.iter().enumerate() {
        for st in s.first_stage..=s.last_stage() {
            if st >= 1 && st <= n {
                section_of[st - 1] = si;
            }
        }
        let first = s.first_stage.saturating_sub(1);
        if first < n {
            if s.aqueous_to_previous && first > 0 {
                aq_from_next[first - 1] = true;
            } else {
                aq_outlet[first] = Some(match (si, s.kind) {
                    (_, SectionKind::Extraction) => PortKind::Raffinate,
                    (_, SectionKind::Strip) => PortKind::StripLiquor,
                    _ => PortKind::SectionOutlet(si),
                });
            }
        }
        for st in s.first_stage..s.last_stage() {
            if st >= 1 && st < n {
                aq_from_next[st - 1] = true;
            }
        }
    }
    CircuitLayout {
        aq_from_next,
        aq_outlet,
        section_of,
    }
}

fn link_index(fs: &Flowsheet, to: Port) -> Option<usize> {
    fs.links.iter().position(|l| l.to == to)
}

fn out_links(fs: &Flowsheet, node: NodeRef) -> Vec<(usize, &Link)> {
    fs.links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.from.node == node)
        .collect()
}

/// Simulates the network; with `elements == false` only volumes are propagated (hydraulics).
fn simulate_network(
    fs: &Flowsheet,
    order: &[NodeRef],
    elements: bool,
    warm: Option<&PlantPoint>,
) -> Result<PlantPoint, OptError> {
    let m = fs.elements.len();
    let nl = fs.links.len();
    let mut flow = vec![vec![0.0; m]; nl];
    let mut vol = vec![0.0; nl];
    let mut circuits: Vec<Option<CircuitPoint>> = vec![None; fs.circuits.len()];
    let mut feed_in = vec![0.0; m];
    let has_cycle = order.iter().enumerate().any(|(k, n)| {
        fs.links.iter().filter(|l| l.to.node == *n).any(|l| {
            order
                .iter()
                .position(|x| *x == l.from.node)
                .is_none_or(|p| p >= k)
        })
    });
    let max_pass = if has_cycle { 500 } else { 1 };
    // A closed organic loop keeps the volume it starts with: start every recirculated organic inlet
    // at its circuit's organic flow (as sxplan_sim does for such tear streams).
    for (li, l) in fs.links.iter().enumerate() {
        if let (NodeRef::Circuit(c), PortKind::OrganicInlet) = (l.to.node, l.to.kind) {
            vol[li] = fs.circuits.get(c.0).map_or(0.0, |c| c.organic.flow_vol);
        }
    }
    let mut iterations = 0;
    let mut converged = !has_cycle;
    for pass in 0..max_pass {
        iterations = pass + 1;
        let before = flow.clone();
        let before_vol = vol.clone();
        for &node in order {
            eval_node(
                fs,
                node,
                elements,
                warm,
                &mut flow,
                &mut vol,
                &mut circuits,
                &mut feed_in,
            )?;
        }
        if has_cycle {
            let mut change: f64 = 0.0;
            for l in 0..nl {
                let s = vol[l].abs().max(1e-300);
                change = change.max((vol[l] - before_vol[l]).abs() / s);
                let tot: f64 = flow[l].iter().sum::<f64>().max(1e-300);
                for i in 0..m {
                    change = change.max((flow[l][i] - before[l][i]).abs() / tot);
                }
            }
            if change < 1e-12 {
                converged = true;
                break;
            }
        }
    }
    let mut products = vec![vec![0.0; m]; fs.products.len()];
    for (pi, p) in fs.products.iter().enumerate() {
        if let Some(li) = link_index(
            fs,
            Port {
                node: NodeRef::Product(ProductId(pi)),
                kind: PortKind::Inlet(0),
            },
        ) {
            products[pi] = flow[li].clone();
        } else if let Some(li) = fs
            .links
            .iter()
            .position(|l| l.to.node == NodeRef::Product(p.id))
        {
            products[pi] = flow[li].clone();
        }
    }
    let circuits: Vec<CircuitPoint> = circuits.into_iter().flatten().collect();
    let mut status = if converged {
        SolveStatus::Converged
    } else {
        SolveStatus::IterationLimit
    };
    for c in &circuits {
        if c.status != SolveStatus::Converged {
            status = c.status;
        }
    }
    Ok(PlantPoint {
        link_flow: flow,
        link_vol: vol,
        circuits,
        products,
        feed_in,
        status,
        network_iterations: iterations,
    })
}

#[allow(clippy::too_many_arguments)]
fn eval_node(
    fs: &Flowsheet,
    node: NodeRef,
    elements: bool,
    warm: Option<&PlantPoint>,
    flow: &mut [Vec<f64>],
    vol: &mut [f64],
    circuits: &mut [Option<CircuitPoint>],
    feed_in: &mut [f64],
) -> Result<(), OptError> {
    let m = fs.elements.len();
    let inlet = |k: usize| {
        link_index(
            fs,
            Port {
                node,
                kind: PortKind::Inlet(k),
            },
        )
    };
    match node {
        NodeRef::Feed(id) => {
            let f = &fs.feeds[id.0];
            let (v, el): (f64, Vec<f64>) = match &f.kind {
                FeedKind::Aqueous(s) | FeedKind::Organic(s) => (
                    s.flow_vol,
                    fs.elements
                        .iter()
                        .map(|e| s.flow_vol * s.conc_mol.get(e).copied().unwrap_or(0.0))
                        .collect(),
                ),
                FeedKind::Mud(mu) => (
                    0.0,
                    fs.elements
                        .iter()
                        .map(|e| mu.flow_mass * mud_mol_per_t(mu, *e))
                        .collect(),
                ),
            };
            // Total over every feed (each feed node recomputes it; the result is the same).
            let mut total = vec![0.0; m];
            for g in &fs.feeds {
                match &g.kind {
                    FeedKind::Aqueous(s) | FeedKind::Organic(s) => {
                        for (i, e) in fs.elements.iter().enumerate() {
                            total[i] += s.flow_vol * s.conc_mol.get(e).copied().unwrap_or(0.0);
                        }
                    }
                    FeedKind::Mud(mu) => {
                        for (i, e) in fs.elements.iter().enumerate() {
                            total[i] += mu.flow_mass * mud_mol_per_t(mu, *e);
                        }
                    }
                }
            }
            feed_in.copy_from_slice(&total);
            for (li, _) in out_links(fs, node) {
                vol[li] = v;
                flow[li] = el.clone();
            }
        }
        NodeRef::Unit(id) => {
            let u = &fs.units[id.0];
            let (iv, ie) = match inlet(0) {
                Some(li) => (vol[li], flow[li].clone()),
                None => (0.0, vec![0.0; m]),
            };
            let out_vol = match &u.kind {
                UnitKind::Leach {
                    liquid_to_solid, ..
                } => {
                    // Solid inlet: the liquor volume is set by the liquid-to-solid ratio per kg of mud.
                    let mass_kg_h: f64 = fs
                        .links
                        .iter()
                        .find(|l| l.to.node == node)
                        .and_then(|l| match l.from.node {
                            NodeRef::Feed(f) => match &fs.feeds[f.0].kind {
                                FeedKind::Mud(mu) => Some(mu.flow_mass * 1000.0),
                                _ => None,
                            },
                            _ => None,
                        })
                        .unwrap_or(0.0);
                    liquid_to_solid * mass_kg_h
                }
                // Both outlets aqueous (solid-liquid separation): the liquor divides like the
                // unit's default recovery; one aqueous outlet takes all of it (as sxplan_sim).
                k if k.outlet_phase() == Phase::Aqueous && k.residue_phase() == Phase::Aqueous => {
                    u.default_to_outlet * iv
                }
                k if k.outlet_phase() == Phase::Aqueous => iv,
                _ => 0.0,
            };
            let res_vol = match &u.kind {
                UnitKind::Leach { .. } => 0.0,
                k if k.residue_phase() == Phase::Aqueous => iv - out_vol,
                _ => 0.0,
            };
            for (li, l) in out_links(fs, node) {
                let to_out = l.from.kind != PortKind::Residue;
                for (i, e) in fs.elements.iter().enumerate() {
                    let f = u.fraction_to_outlet(*e);
                    flow[li][i] = ie[i] * if to_out { f } else { 1.0 - f };
                }
                vol[li] = if to_out { out_vol } else { res_vol };
            }
        }
        NodeRef::Splitter(id) => {
            let s = &fs.splitters[id.0];
            let (iv, ie) = match inlet(0) {
                Some(li) => (vol[li], flow[li].clone()),
                None => (0.0, vec![0.0; m]),
            };
            for (li, l) in out_links(fs, node) {
                let k = match l.from.kind {
                    PortKind::Outlet(k) => k,
                    _ => 0,
                };
                let frac = s.outlets.get(k).map_or(0.0, |o| o.1);
                vol[li] = iv * frac;
                for i in 0..m {
                    flow[li][i] = ie[i] * frac;
                }
            }
        }
        NodeRef::Mixer(id) => {
            let mx = &fs.mixers[id.0];
            let mut v = 0.0;
            let mut el = vec![0.0; m];
            for k in 0..mx.n_inlets {
                if let Some(li) = inlet(k) {
                    v += vol[li];
                    for i in 0..m {
                        el[i] += flow[li][i];
                    }
                }
            }
            for (li, _) in out_links(fs, node) {
                vol[li] = v;
                flow[li] = el.clone();
            }
        }
        NodeRef::Circuit(id) => {
            let cp = eval_circuit(
                fs,
                id.0,
                elements,
                flow,
                vol,
                circuits[id.0]
                    .as_ref()
                    .or(warm.and_then(|w| w.circuits.iter().find(|c| c.circuit == id))),
            )?;
            let lay = layout(&fs.circuits[id.0]);
            for (li, l) in out_links(fs, node) {
                match l.from.kind {
                    PortKind::LoadedOrganic | PortKind::StrippedOrganic => {
                        if let (Some(v), Some(o)) = (cp.flow_vol_org.last(), cp.o.last()) {
                            vol[li] = *v;
                            flow[li] = o.clone();
                        }
                    }
                    kind => {
                        if let Some(j) = lay.aq_outlet.iter().position(|p| *p == Some(kind)) {
                            vol[li] = cp.flow_vol_aq[j];
                            flow[li] = cp.a[j].clone();
                        }
                    }
                }
            }
            circuits[id.0] = Some(cp);
        }
        NodeRef::Purge(_) | NodeRef::Product(_) => {}
    }
    Ok(())
}

/// External inflows of a circuit: per stage, (aqueous volume, organic volume, aqueous elements,
/// organic elements).
pub(crate) struct Inflows {
    pub aq_vol: Vec<f64>,
    pub org_vol: Vec<f64>,
    pub aq_el: Vec<Vec<f64>>,
    pub org_el: Vec<Vec<f64>>,
    /// Link index entering each port at each stage: (stage, link, phase).
    pub links: Vec<(usize, usize, Phase)>,
}

pub(crate) fn inflows(fs: &Flowsheet, ci: usize, flow: &[Vec<f64>], vol: &[f64]) -> Inflows {
    let c = &fs.circuits[ci];
    let n = c.n_stages();
    let m = fs.elements.len();
    let mut r = Inflows {
        aq_vol: vec![0.0; n],
        org_vol: vec![0.0; n],
        aq_el: vec![vec![0.0; m]; n],
        org_el: vec![vec![0.0; m]; n],
        links: Vec::new(),
    };
    if n == 0 {
        return r;
    }
    // Fresh organic, unless the organic inlet is linked (recirculated organic from another circuit).
    let node = NodeRef::Circuit(c.id);
    let recirculated = fs
        .links
        .iter()
        .any(|l| l.to.node == node && l.to.kind == PortKind::OrganicInlet);
    if !recirculated {
        r.org_vol[0] += c.organic.flow_vol;
    }
    for s in &c.sections {
        if let Some(sol) = &s.solution {
            let st = sol.stage.clamp(1, n) - 1;
            r.aq_vol[st] += sol.flow_vol;
        }
    }
    for (li, l) in fs.links.iter().enumerate() {
        if l.to.node != node {
            continue;
        }
        let (stage, phase) = match l.to.kind {
            PortKind::OrganicInlet => (1, Phase::Organic),
            PortKind::FeedPoint(k) => match c.feed_points.get(k) {
                Some(fp) => (fp.stage, fp.phase),
                None => continue,
            },
            PortKind::ScrubInlet => match c.section(SectionKind::Scrub) {
                Some(s) => (
                    s.solution.as_ref().map_or(s.last_stage(), |x| x.stage),
                    Phase::Aqueous,
                ),
                None => continue,
            },
            PortKind::StripInlet => match c.section(SectionKind::Strip) {
                Some(s) => (s.last_stage(), Phase::Aqueous),
                None => continue,
            },
            PortKind::SectionInlet(k) => match c.sections.get(k) {
                Some(s) => (s.last_stage(), Phase::Aqueous),
                None => continue,
            },
            _ => continue,
        };
        let j = stage.clamp(1, n) - 1;
        r.links.push((j, li, phase));
        match phase {
            Phase::Organic => {
                r.org_vol[j] += vol[li];
                for i in 0..m {
                    r.org_el[j][i] += flow[li][i];
                }
            }
            _ => {
                r.aq_vol[j] += vol[li];
                for i in 0..m {
                    r.aq_el[j][i] += flow[li][i];
                }
            }
        }
    }
    r
}

fn eval_circuit(
    fs: &Flowsheet,
    ci: usize,
    elements: bool,
    flow: &[Vec<f64>],
    vol: &[f64],
    warm: Option<&CircuitPoint>,
) -> Result<CircuitPoint, OptError> {
    let c = &fs.circuits[ci];
    let n = c.n_stages();
    let m = fs.elements.len();
    let lay = layout(c);
    let inf = inflows(fs, ci, flow, vol);
    let mut aq = vec![0.0; n];
    for j in (0..n).rev() {
        aq[j] = inf.aq_vol[j]
            + if lay.aq_from_next[j] && j + 1 < n {
                aq[j + 1]
            } else {
                0.0
            };
    }
    let mut org = vec![0.0; n];
    let mut acc = 0.0;
    for j in 0..n {
        acc += inf.org_vol[j];
        org[j] = acc;
    }
    let murphree: Vec<f64> = (0..n)
        .map(|j| c.murphree.get(lay.section_of[j]).copied().unwrap_or(1.0))
        .collect();
    let loading: Vec<Option<f64>> = (0..n)
        .map(|j| loading_limit(fs, ci, lay.section_of[j]))
        .collect();
    if !elements {
        return Ok(CircuitPoint {
            circuit: c.id,
            n_stages: n,
            flow_vol_aq: aq,
            flow_vol_org: org,
            aq_from_next: lay.aq_from_next,
            a: vec![vec![0.0; m]; n],
            o: vec![vec![0.0; m]; n],
            murphree,
            loading_limit: loading,
            status: SolveStatus::Converged,
            max_residual: 0.0,
        });
    }
    // One model per (section, stage) value; keep them per stage for simplicity.
    let mut models = Vec::with_capacity(n);
    let mut model_of_stage = Vec::with_capacity(n);
    let mut key: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    for j in 0..n {
        let model = equilibrium_model(fs, ci, lay.section_of[j], j + 1)?;
        let k: Vec<u64> = match &model {
            StageModel::Linear { d_ratio } => d_ratio.iter().map(|v| v.to_bits()).collect(),
            other => vec![format!("{other:?}").len() as u64, j as u64],
        };
        let idx = *key.entry(k).or_insert_with(|| {
            models.push(model);
            models.len() - 1
        });
        model_of_stage.push(idx);
    }
    let chain = Chain {
        n_stages: n,
        n_elements: m,
        flow_vol_aq: aq.clone(),
        flow_vol_org: org.clone(),
        aq_from_next: lay.aq_from_next.clone(),
        aq_ext: inf.aq_el.iter().flatten().copied().collect(),
        org_ext: inf.org_el.iter().flatten().copied().collect(),
        acid_ext: vec![0.0; n],
        base_ext: vec![0.0; n],
        murphree: murphree.clone(),
        models,
        model_of_stage,
        z_exchange: fs.elements.iter().map(|e| f64::from(e.charge())).collect(),
    };
    // Warm start of the stage scalars from a previous point of the same circuit.
    let warm_s: Option<Vec<f64>> = warm.filter(|w| w.n_stages == n).map(|w| {
        (0..n)
            .map(|j| match &chain.models[chain.model_of_stage[j]] {
                StageModel::SeparationFactor { beta, .. } => {
                    let sigma: f64 = (0..m).map(|i| beta[i] * w.a[j][i]).sum();
                    let org: f64 = w.o[j].iter().sum();
                    if sigma > 0.0 && org > 0.0 {
                        org / sigma
                    } else {
                        f64::NAN
                    }
                }
                _ => f64::NAN,
            })
            .collect()
    });
    let scalar = solve_stage_scalar(&chain, warm_s.as_deref());
    let (status, max_residual, flat_a, flat_o) = match scalar {
        Some(s) if s.status == SolveStatus::Converged => (s.status, s.max_residual, s.a, s.o),
        other => {
            // Not covered by the stage-scalar method, or it failed: the simulation crate's chain
            // solver; keep whichever result has the smaller residual.
            let sol = chain.solve(Algorithm::Newton);
            match other {
                Some(s) if s.max_residual < sol.max_residual => {
                    (s.status, s.max_residual, s.a, s.o)
                }
                _ => (sol.status, sol.max_residual, sol.a, sol.o),
            }
        }
    };
    let a: Vec<Vec<f64>> = (0..n)
        .map(|j| flat_a[j * m..(j + 1) * m].to_vec())
        .collect();
    let o: Vec<Vec<f64>> = (0..n)
        .map(|j| flat_o[j * m..(j + 1) * m].to_vec())
        .collect();
    Ok(CircuitPoint {
        circuit: c.id,
        n_stages: n,
        flow_vol_aq: aq,
        flow_vol_org: org,
        aq_from_next: lay.aq_from_next,
        a,
        o,
        murphree,
        loading_limit: loading,
        status,
        max_residual,
    })
}

/// How the organic REE flow of one stage is determined in the stage-scalar solver.
enum ScalarStage {
    /// Partition coefficients `o_i = K_i a_i` fixed (distribution model, or a stage that loads nothing).
    Fixed(Vec<f64>),
    /// Separation factor: `o_i = beta_i s a_i` with the stage scalar `s` chosen so that the organic
    /// REE flow `s sigma` equals `E X` (ratio loading) or `L O` (capacity loading).
    Sf {
        beta: Vec<f64>,
        /// `Some(E)`: ratio loading; `None`: capacity loading with `target` mol/h.
        ratio: Option<f64>,
        target: f64,
    },
}

/// Result of [`solve_stage_scalar`].
pub(crate) struct ScalarSolution {
    pub status: SolveStatus,
    pub max_residual: f64,
    /// `n * m`, mol/h.
    pub a: Vec<f64>,
    /// `n * m`, mol/h.
    pub o: Vec<f64>,
}

/// Largest log-step of a stage scalar per Newton iteration.
const SCALAR_MAX_STEP: f64 = 5.0;
/// Convergence: every loading relation met to this relative error (ln units).
const SCALAR_TOL: f64 = 1e-12;
const SCALAR_MAX_ITER: usize = 40;

/// Partition coefficients of every stage for the scalars `t = ln s`.
fn scalar_k(stages: &[ScalarStage], t: &[f64], m: usize) -> Vec<f64> {
    let n = stages.len();
    let mut k = vec![0.0; n * m];
    for (j, st) in stages.iter().enumerate() {
        match st {
            ScalarStage::Fixed(kk) => k[j * m..(j + 1) * m].copy_from_slice(kk),
            ScalarStage::Sf { beta, .. } => {
                let s = t[j].exp();
                for i in 0..m {
                    k[j * m + i] = beta[i] * s;
                }
            }
        }
    }
    k
}

/// Thomas factors of one element's chain matrix, computed without subtraction:
/// `den_j = K_j + g_j` with `g_j = g_(j-1) / den_(j-1)` (`g_0 = 1`) when stage j - 1 receives the aqueous of j.
fn chain_factor(k: &[f64], m: usize, i: usize, aq_from_next: &[bool], den: &mut [f64]) {
    let n = den.len();
    let mut g = 1.0;
    for j in 0..n {
        if j > 0 {
            g = if aq_from_next[j - 1] {
                g / den[j - 1]
            } else {
                1.0
            };
        }
        den[j] = k[j * m + i] + g;
    }
}

/// Solves one element's balances for given partition coefficients (subtraction-free, so every
/// flow keeps full relative accuracy down to the tails of a long cascade).
fn chain_solve(
    k: &[f64],
    m: usize,
    i: usize,
    aq_from_next: &[bool],
    den: &[f64],
    b: &[f64],
    a: &mut [f64],
) {
    let n = den.len();
    let mut d = vec![0.0; n];
    for j in 0..n {
        let carry = if j > 0 {
            k[(j - 1) * m + i] * d[j - 1]
        } else {
            0.0
        };
        d[j] = (b[j * m + i] + carry) / den[j];
    }
    for j in (0..n).rev() {
        let up = if aq_from_next[j] && j + 1 < n {
            a[(j + 1) * m + i] / den[j]
        } else {
            0.0
        };
        a[j * m + i] = d[j] + up;
    }
}

/// The chain reduced to what the stage-scalar Newton needs.
struct ScalarChain<'a> {
    n: usize,
    m: usize,
    aq_from_next: &'a [bool],
    /// External inflow (aqueous + organic) per stage and element, `n * m`.
    inflow: Vec<f64>,
    stages: Vec<ScalarStage>,
    /// Stages whose scalar is unknown.
    unknown: Vec<usize>,
}

impl ScalarChain<'_> {
    /// Element flows for the scalars `t`, and the residuals `F_j = ln(s_j sigma_j / target_j)`.
    fn eval(&self, t: &[f64], a: &mut [f64], den: &mut [Vec<f64>]) -> Vec<f64> {
        let m = self.m;
        let k = scalar_k(&self.stages, t, m);
        for i in 0..m {
            chain_factor(&k, m, i, self.aq_from_next, &mut den[i]);
            chain_solve(&k, m, i, self.aq_from_next, &den[i], &self.inflow, a);
        }
        self.unknown
            .iter()
            .map(|&j| {
                let ScalarStage::Sf {
                    beta,
                    ratio,
                    target,
                } = &self.stages[j]
                else {
                    return 0.0;
                };
                let sigma: f64 = (0..m).map(|i| beta[i] * a[j * m + i]).sum();
                let goal = match ratio {
                    Some(e) => {
                        e * (0..m)
                            .filter(|&i| beta[i] > 0.0)
                            .map(|i| a[j * m + i])
                            .sum::<f64>()
                    }
                    None => *target,
                };
                if sigma <= 0.0 || goal <= 0.0 || !sigma.is_finite() {
                    0.0
                } else {
                    t[j] + sigma.ln() - goal.ln()
                }
            })
            .collect()
    }

    /// Newton with a backtracking line search from `t` (updated in place). Returns the status,
    /// the element flows, the residuals and the iterations.
    fn newton(&self, t: &mut [f64], max_iter: usize) -> (SolveStatus, Vec<f64>, Vec<f64>, usize) {
        let (n, m) = (self.n, self.m);
        let nu = self.unknown.len();
        let mut a = vec![0.0; n * m];
        let mut den = vec![vec![0.0; n]; m];
        let norm = |f: &[f64]| f.iter().map(|v| v * v).sum::<f64>();
        let fmax = |f: &[f64]| f.iter().fold(0.0_f64, |x, v| x.max(v.abs()));
        let mut f = self.eval(t, &mut a, &mut den);
        let mut iterations = 0;
        let mut w = vec![0.0; n];
        let mut d = vec![0.0; n];
        loop {
            let fm = fmax(&f);
            if !fm.is_finite() {
                return (SolveStatus::Diverged, a, f, iterations);
            }
            if fm <= SCALAR_TOL {
                return (SolveStatus::Converged, a, f, iterations);
            }
            if iterations >= max_iter {
                return (SolveStatus::IterationLimit, a, f, iterations);
            }
            iterations += 1;
            // Jacobian dF_j/dt_k = delta_jk + sum_i c_ji da_ji/dt_k, with
            // da_i/dt_k = -K_ki a_ki T_i^-1 (e_k - e_(k+1)).
            let k = scalar_k(&self.stages, t, m);
            let mut jac = vec![0.0; nu * nu];
            let mut coef = vec![0.0; nu * m];
            for (r, &j) in self.unknown.iter().enumerate() {
                jac[r * nu + r] = 1.0;
                if let ScalarStage::Sf { beta, ratio, .. } = &self.stages[j] {
                    let sigma: f64 = (0..m).map(|i| beta[i] * a[j * m + i]).sum();
                    let x: f64 = (0..m)
                        .filter(|&i| beta[i] > 0.0)
                        .map(|i| a[j * m + i])
                        .sum();
                    if sigma <= 0.0 {
                        continue;
                    }
                    for i in 0..m {
                        coef[r * m + i] = beta[i] / sigma
                            - if ratio.is_some() && beta[i] > 0.0 && x > 0.0 {
                                1.0 / x
                            } else {
                                0.0
                            };
                    }
                }
            }
            for i in 0..m {
                let dn = &den[i];
                for (c, &kk) in self.unknown.iter().enumerate() {
                    let g = k[kk * m + i] * a[kk * m + i];
                    if g == 0.0 || !g.is_finite() {
                        continue;
                    }
                    // w = T_i^-1 (e_kk - e_(kk+1)); forward sweep is zero above kk.
                    for v in d.iter_mut().take(kk) {
                        *v = 0.0;
                    }
                    for j in kk..n {
                        let src = if j == kk {
                            1.0
                        } else if j == kk + 1 {
                            -1.0
                        } else {
                            0.0
                        };
                        let carry = if j > kk {
                            k[(j - 1) * m + i] * d[j - 1]
                        } else {
                            0.0
                        };
                        d[j] = (src + carry) / dn[j];
                    }
                    for j in (0..n).rev() {
                        let up = if self.aq_from_next[j] && j + 1 < n {
                            w[j + 1] / dn[j]
                        } else {
                            0.0
                        };
                        w[j] = d[j] + up;
                    }
                    for (r, &j) in self.unknown.iter().enumerate() {
                        let cf = coef[r * m + i];
                        if cf != 0.0 {
                            jac[r * nu + c] -= cf * g * w[j];
                        }
                    }
                }
            }
            let rhs: Vec<f64> = f.iter().map(|v| -v).collect();
            let Some(mut step) = dense_lu_solve(nu, &mut jac, &rhs) else {
                return (SolveStatus::Diverged, a, f, iterations);
            };
            let big = fmax(&step);
            if !big.is_finite() {
                return (SolveStatus::Diverged, a, f, iterations);
            }
            if big > SCALAR_MAX_STEP {
                step.iter_mut().for_each(|v| *v *= SCALAR_MAX_STEP / big);
            }
            let f0 = norm(&f);
            let mut lambda = 1.0;
            let mut trial_t = t.to_vec();
            let mut trial_a = a.clone();
            let mut accepted = false;
            for _ in 0..12 {
                for (r, &j) in self.unknown.iter().enumerate() {
                    trial_t[j] = t[j] + lambda * step[r];
                }
                let ft = self.eval(&trial_t, &mut trial_a, &mut den);
                let fnew = norm(&ft);
                if fnew.is_finite() && fnew <= (1.0 - 1e-4 * lambda) * f0 {
                    t.copy_from_slice(&trial_t);
                    a.copy_from_slice(&trial_a);
                    f = ft;
                    accepted = true;
                    break;
                }
                lambda *= 0.5;
            }
            if !accepted {
                // No descent: a stationary point of the residual norm, not a solution.
                f = self.eval(t, &mut a, &mut den);
                let status = if fmax(&f) <= SCALAR_TOL {
                    SolveStatus::Converged
                } else {
                    SolveStatus::Diverged
                };
                return (status, a, f, iterations);
            }
        }
    }

    /// Starting scalars: the loading relation at the composition of everything entering the chain.
    fn initial(&self) -> Vec<f64> {
        let m = self.m;
        let mut z = vec![0.0; m];
        for j in 0..self.n {
            for i in 0..m {
                z[i] += self.inflow[j * m + i];
            }
        }
        let mut t = vec![0.0; self.n];
        for &j in &self.unknown {
            if let ScalarStage::Sf {
                beta,
                ratio,
                target,
            } = &self.stages[j]
            {
                let bz: f64 = (0..m).map(|i| beta[i] * z[i]).sum::<f64>().max(1e-300);
                let x: f64 = (0..m).filter(|&i| beta[i] > 0.0).map(|i| z[i]).sum();
                let s0 = match ratio {
                    Some(e) => e * x.max(1e-300) / bz,
                    None => target / bz,
                };
                t[j] = s0.max(1e-300).ln();
            }
        }
        t
    }
}

/// Solves a countercurrent chain whose stages are all linear or separation-factor models at full
/// Murphree efficiency by Newton on one unknown per loaded separation-factor stage, `t_j = ln s_j`
/// (`o_ji = beta_i s_j a_ji`). Given the scalars, each element's balances are one tridiagonal
/// solve; the Newton matrix (n x n) comes from the exact sensitivities of those solves. Starts from
/// the warm scalars or the feed composition; a chain it does not converge (a ratio-loaded cascade
/// near its breakthrough makes the Newton matrix nearly singular) is left to the caller. Returns
/// `None` when the chain has a model or efficiency this method does not cover.
pub(crate) fn solve_stage_scalar(chain: &Chain, warm: Option<&[f64]>) -> Option<ScalarSolution> {
    let (n, m) = (chain.n_stages, chain.n_elements);
    if n == 0 || m == 0 || chain.murphree.iter().any(|&e| e < 1.0) {
        return None;
    }
    let inflow: Vec<f64> = (0..n * m)
        .map(|q| chain.aq_ext[q] + chain.org_ext[q])
        .collect();
    let mut stages = Vec::with_capacity(n);
    for j in 0..n {
        let model = chain.models.get(*chain.model_of_stage.get(j)?)?;
        stages.push(match model {
            StageModel::Linear { d_ratio } => {
                let r = if chain.flow_vol_aq[j] > 0.0 {
                    chain.flow_vol_org[j] / chain.flow_vol_aq[j]
                } else {
                    0.0
                };
                ScalarStage::Fixed(d_ratio.iter().map(|d| d * r).collect())
            }
            StageModel::SeparationFactor { beta, loading } => match *loading {
                SfLoading::Ratio(e) if e > 0.0 => ScalarStage::Sf {
                    beta: beta.clone(),
                    ratio: Some(e),
                    target: 0.0,
                },
                SfLoading::Capacity(l) if l > 0.0 && chain.flow_vol_org[j] > 0.0 => {
                    ScalarStage::Sf {
                        beta: beta.clone(),
                        ratio: None,
                        target: l * chain.flow_vol_org[j],
                    }
                }
                _ => ScalarStage::Fixed(vec![0.0; m]),
            },
            _ => return None,
        });
    }
    let unknown: Vec<usize> = (0..n)
        .filter(|&j| matches!(stages[j], ScalarStage::Sf { .. }))
        .collect();
    let sc = ScalarChain {
        n,
        m,
        aq_from_next: &chain.aq_from_next,
        inflow,
        stages,
        unknown,
    };
    let mut t = sc.initial();
    if let Some(w) = warm {
        for &j in &sc.unknown {
            if let Some(s) = w.get(j).filter(|s| s.is_finite() && **s > 0.0) {
                t[j] = s.ln();
            }
        }
    }
    let (mut status, a, f, iterations) = sc.newton(&mut t, SCALAR_MAX_ITER);
    let k = scalar_k(&sc.stages, &t, m);
    let o: Vec<f64> = (0..n * m).map(|q| k[q] * a[q]).collect();
    // Balance residual of the returned flows, relative to what passes the stage (floor 1e-13 of
    // the chain's inflow of that element), and the loading relations.
    let mut z = vec![0.0; m];
    for j in 0..n {
        for i in 0..m {
            z[i] += sc.inflow[j * m + i];
        }
    }
    let mut res: f64 = f.iter().fold(0.0_f64, |x, v| x.max(v.abs()));
    for j in 0..n {
        for i in 0..m {
            let inn = sc.inflow[j * m + i]
                + if j > 0 { o[(j - 1) * m + i] } else { 0.0 }
                + if chain.aq_from_next[j] && j + 1 < n {
                    a[(j + 1) * m + i]
                } else {
                    0.0
                };
            let out = a[j * m + i] + o[j * m + i];
            let scale = inn.max(out).max(1e-13 * z[i]).max(1e-300);
            res = res.max((out - inn).abs() / scale);
        }
    }
    if !res.is_finite() {
        status = SolveStatus::Diverged;
        res = f64::MAX;
    }
    let _ = iterations;
    Some(ScalarSolution {
        status,
        max_residual: res,
        a,
        o,
    })
}

/// Dense LU solve with partial pivoting (`a` row-major `n x n`, overwritten).
fn dense_lu_solve(n: usize, a: &mut [f64], b: &[f64]) -> Option<Vec<f64>> {
    let mut x = b.to_vec();
    for c in 0..n {
        let mut p = c;
        for r in c + 1..n {
            if a[r * n + c].abs() > a[p * n + c].abs() {
                p = r;
            }
        }
        if a[p * n + c] == 0.0 || !a[p * n + c].is_finite() {
            return None;
        }
        if p != c {
            for q in 0..n {
                a.swap(c * n + q, p * n + q);
            }
            x.swap(c, p);
        }
        let piv = a[c * n + c];
        for r in c + 1..n {
            let l = a[r * n + c] / piv;
            if l == 0.0 {
                continue;
            }
            a[r * n + c] = 0.0;
            for q in c + 1..n {
                a[r * n + q] -= l * a[c * n + q];
            }
            x[r] -= l * x[c];
        }
    }
    for c in (0..n).rev() {
        let mut s = x[c];
        for q in c + 1..n {
            s -= a[c * n + q] * x[q];
        }
        x[c] = s / a[c * n + c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}
