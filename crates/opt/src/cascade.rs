//! The cascade LP of one successive-LP pass, built from the stage graph at a simulated point.
//!
//! Variables: free operating variables `u`; per link and element the element flow; per circuit stage
//! and element the aqueous and organic outflows `a`, `o`; reagent flows. Every flow variable is
//! scaled by its simulated value with a floor (DESIGN.md section 6, "deviations scaled by the
//! simulated point"): the backend sees `a / max(a0, floor)`, so a minor element at 1e-40 mol/h at the
//! far end of a cascade and a major one at 1e2 mol/h are both O(1).
//!
//! Rows (all linear, exact unless noted):
//! - element balances at every stage, feed, unit, splitter and mixer (hard, exact);
//! - stage equilibrium `o = (1 - eta) o_in + eta E a` with the extraction factor `E = D O / A`
//!   linearized in the phase flows around the point (first order; exact for fixed `O`, `A`);
//! - purity `sum_(impurities) w p <= (1 - p_min) / p_min sum_(specified) w p` and recovery
//!   `p_e >= r feed_e(u)` (soft, exact);
//! - hydraulic capacity `A_j(u) + O_j(u) <= limit` per stage in scope (soft, exact: volumes are linear);
//! - organic loading `sum_i o_ji <= C_max O_j(u)` (soft, exact);
//! - reagent definitions (base for saponification, acid for scrub, strip and leach, oxalic acid
//!   1.5 mol per mol REY precipitated) (hard, exact);
//! - bounds of the operating variables and feed availability (soft only as rows, so they carry shadow
//!   prices); the trust region is the variable box.

// Index loops mirror the stage/element algebra.
#![allow(clippy::needless_range_loop)]

use sxplan_chem::Element;
use sxplan_model::{
    Equilibrium, FeedKind, Flowsheet, NodeRef, OperatingVar, PortKind, PurityBasis, Reagent,
    UnitKind,
};

use crate::error::OptError;
use crate::lp::{Direction, LpProblem, Relation, RowId, RowKind, VarId};
use crate::plant::{loading_limit, OperatingPoint, Plant, PlantPoint};
use sxplan_model::operating;

/// What a spec or limit row stands for, in user terms; used for shadow prices and diagnosis.
#[derive(Debug, Clone, PartialEq)]
pub enum Meaning {
    /// Purity spec of a product: `(product index, min purity, specified-element flow at the point)`.
    Purity(usize, f64, f64),
    /// Purity spec in logarithmic form (reduced-space LP): `(product index, min purity)`; the row's
    /// right-hand side is `ln((1 - p) / p)` plus constants.
    PurityLog(usize, f64),
    /// Recovery spec: `(product index, element, element flow in the feeds at the point)`.
    Recovery(usize, Element, f64),
    /// Capacity entry of the flowsheet (index into `Flowsheet::capacities`).
    Capacity(usize),
    /// Organic loading limit of a circuit stage: `(circuit index, organic flow L/h)`.
    Loading(usize, f64),
    /// Lower bound of a free operating variable (index into the free list).
    Lower(usize),
    /// Upper bound of a free operating variable (feed availability for feed rates).
    Upper(usize),
}

/// Priced reagent flows and product values used by the objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Economics {
    /// US$ per mol of each reagent (price x molar mass), for reagents with a price.
    pub reagent_usd_per_mol: Vec<(Reagent, f64)>,
    /// US$ per mol of each element delivered in a product (oxide price x oxide mass per mol).
    pub element_usd_per_mol: Vec<(Element, f64)>,
    /// Operating cost other than reagents, US$/h.
    pub operating_cost_per_h: f64,
}

/// Objective of the cascade LP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpObjective {
    /// Maximize the sum of the free feed rates.
    Throughput,
    /// Minimize the reagent cost, US$/h.
    ReagentCost,
    /// Maximize product value minus reagent and operating cost, US$/h.
    Margin,
}

/// The LP of one pass and the handles needed to read it.
#[derive(Debug, Clone)]
pub struct CascadeLp {
    /// The problem.
    pub lp: LpProblem,
    /// Operating variables, in the order of the free list.
    pub u: Vec<VarId>,
    /// Reagent flow variables (mol/h).
    pub reagents: Vec<(Reagent, VarId)>,
    /// Product element flow variables `[product][element]`.
    pub products: Vec<Vec<VarId>>,
    /// Spec and limit rows with their meaning.
    pub meanings: Vec<(RowId, Meaning)>,
}

/// Relative floor of the flow scales: a flow is scaled by max(value, FLOOR x element feed).
pub const SCALE_FLOOR: f64 = 1e-12;

/// Hydraulic Jacobian: per circuit, per stage, d(A, O)/du (exact: volumes are linear in u).
pub(crate) struct Hydraulics {
    pub aq0: Vec<Vec<f64>>,
    pub org0: Vec<Vec<f64>>,
    pub d_aq: Vec<Vec<Vec<f64>>>,
    pub d_org: Vec<Vec<Vec<f64>>>,
}

pub(crate) fn hydraulics(plant: &Plant, point: &OperatingPoint) -> Result<Hydraulics, OptError> {
    let base = plant.hydraulics(point)?;
    let nu = point.values.len();
    let mut d_aq: Vec<Vec<Vec<f64>>> = base
        .iter()
        .map(|(a, _)| vec![vec![0.0; nu]; a.len()])
        .collect();
    let mut d_org = d_aq.clone();
    for k in 0..nu {
        let mut p = point.clone();
        // Volumes are linear in the flows (a unit step is exact) but not in split fractions.
        let h = if p.values[k].0.is_volumetric_flow() {
            p.values[k].1.abs().max(1.0)
        } else {
            1e-6 * p.values[k].1.abs().max(1e-3)
        };
        p.values[k].1 += h;
        let pert = plant.hydraulics(&p)?;
        for (c, ((a0, o0), (a1, o1))) in base.iter().zip(&pert).enumerate() {
            for j in 0..a0.len() {
                d_aq[c][j][k] = (a1[j] - a0[j]) / h;
                d_org[c][j][k] = (o1[j] - o0[j]) / h;
            }
        }
    }
    Ok(Hydraulics {
        aq0: base.iter().map(|x| x.0.clone()).collect(),
        org0: base.iter().map(|x| x.1.clone()).collect(),
        d_aq,
        d_org,
    })
}

/// d(feed_in_i)/du_k.
pub(crate) fn feed_jacobian(fs: &Flowsheet, point: &OperatingPoint) -> Vec<Vec<f64>> {
    let m = fs.elements.len();
    point
        .values
        .iter()
        .map(|(v, _)| {
            let mut d = vec![0.0; m];
            if let OperatingVar::FeedRate(f) = v {
                if let Some(feed) = fs.feeds.get(f.0) {
                    for (i, e) in fs.elements.iter().enumerate() {
                        d[i] = match &feed.kind {
                            FeedKind::Aqueous(s) | FeedKind::Organic(s) => {
                                s.conc_mol.get(e).copied().unwrap_or(0.0)
                            }
                            FeedKind::Mud(mu) => crate::plant::mud_mol_per_t(mu, *e),
                        };
                    }
                }
            }
            d
        })
        .collect()
}

fn purity_weight(e: Element, basis: PurityBasis) -> f64 {
    match basis {
        PurityBasis::Mole => 1.0,
        PurityBasis::OxideMass => e.oxide_mass_per_mol_metal(),
    }
}

/// Relative margin by which the LP tightens every spec and limit (allowed impurity, recovery, capacity,
/// loading), so that the converged point meets the flowsheet's own numbers strictly in simulation
/// rather than to round-off.
pub const SPEC_MARGIN: f64 = 1e-8;

/// Stages whose organic loading at the point is below this fraction of the limit get no loading row.
pub const LOADING_SCREEN: f64 = 0.5;

/// Penalty of a soft row: `PENALTY x (objective scale) / (row scale)` per unit of violation.
pub const PENALTY: f64 = 1e4;

/// Builds the LP of one pass at `(point, sim)` with trust-region half-widths `radius[k]`, in the
/// full space (every link and stage flow a variable, balances exact, equilibria linearized).
#[allow(clippy::too_many_arguments)]
pub fn build(
    plant: &Plant,
    point: &OperatingPoint,
    sim: &PlantPoint,
    radius: &[f64],
    objective: LpObjective,
    econ: &Economics,
    objective_scale: f64,
) -> Result<CascadeLp, OptError> {
    build_with(
        plant,
        point,
        sim,
        radius,
        objective,
        econ,
        objective_scale,
        None,
    )
}

/// Sensitivities of the simulated plant to the operating variables, from the simulator's
/// implicit-function-theorem derivatives at the point ([`sxplan_sim::Simulator::sensitivities`]):
/// `[k]` is the derivative with respect to `u_k`.
#[derive(Debug, Clone)]
pub struct Responses {
    /// d(link element flow)/du_k, `[k][link][element]`.
    pub link: Vec<Vec<Vec<f64>>>,
    /// d(organic REY flow leaving each stage)/du_k, `[k][circuit][stage]`.
    pub loading: Vec<Vec<Vec<f64>>>,
    /// Directions differentiated (one per free variable).
    pub simulations: usize,
    /// The simulator's tangents, `[k]` along `u_k` (predictor of the next point's state).
    pub tangents: Vec<sxplan_sim::StateTangent>,
}

/// Relative step of the parameter differences inside [`responses`] (the residuals' own
/// dependence on a variable, at the converged state; central, so truncation O(step^2) and
/// round-off O(eps/step), balanced near eps^(1/3) = 6e-6). At 1e-6 the round-off left the
/// reflux split's sensitivities 1.5e-6 off (relative) the converged simulations' differences;
/// at 1e-5 1.7e-7, at 1e-4 3.5e-7 (`tests/sensitivities.rs`).
pub const FD_STEP: f64 = 1e-5;

/// The operating point moved by `+h` and `-h` in variable `k`, as flowsheets, with `h`.
pub(crate) fn direction(
    plant: &Plant,
    point: &OperatingPoint,
    k: usize,
) -> Result<(Flowsheet, Flowsheet, f64), OptError> {
    let f = &plant.free[k];
    let x0 = point.values[k].1;
    let h = FD_STEP * x0.abs().max(1e-3 * (f.upper - f.lower).abs()).max(1e-9);
    let mut pp = point.clone();
    pp.values[k].1 = x0 + h;
    let mut pm = point.clone();
    pm.values[k].1 = x0 - h;
    Ok((
        crate::plant::apply(&plant.fs, &pp)?,
        crate::plant::apply(&plant.fs, &pm)?,
        h,
    ))
}

/// Derivatives of the link element flows and of each stage's organic REY flow with respect to
/// every free operating variable, at the simulated point `sim`.
pub fn responses(
    plant: &Plant,
    point: &OperatingPoint,
    sim: &PlantPoint,
) -> Result<Responses, OptError> {
    let fs = crate::plant::apply(&plant.fs, point)?;
    let m = fs.elements.len();
    let rey: Vec<bool> = fs.elements.iter().map(|e| e.is_rey()).collect();
    let dirs = (0..plant.free.len())
        .map(|k| direction(plant, point, k))
        .collect::<Result<Vec<_>, _>>()?;
    let tangents = plant
        .simulator()
        .sensitivities(&fs, sim, &dirs)
        .map_err(|e| OptError::Simulation(e.to_string()))?;
    let mut link = Vec::with_capacity(tangents.len());
    let mut loading = Vec::with_capacity(tangents.len());
    for t in &tangents {
        loading.push(
            t.circuits
                .iter()
                .map(|c| {
                    c.o.iter()
                        .map(|o| (0..m).filter(|&i| rey[i]).map(|i| o[i]).sum())
                        .collect()
                })
                .collect(),
        );
        link.push(t.link_flow.clone());
    }
    Ok(Responses {
        link,
        loading,
        simulations: dirs.len(),
        tangents,
    })
}

/// Builds the LP of one pass in the reduced space: the operating variables, the link element flows
/// as first-order responses of the simulated plant (`x = x0 + J (u - u0)`, `J` from [`responses`]),
/// the specs, stage capacities and screened organic loading rows, reagents and the objective.
/// Exact to first order for any equilibrium model (the full-space LP holds each stage's apparent
/// extraction factors for the pass, which misses how a separation-factor cascade's cut moves with
/// its feed composition).
#[allow(clippy::too_many_arguments)]
pub fn build_reduced(
    plant: &Plant,
    point: &OperatingPoint,
    sim: &PlantPoint,
    radius: &[f64],
    objective: LpObjective,
    econ: &Economics,
    objective_scale: f64,
    resp: &Responses,
) -> Result<CascadeLp, OptError> {
    build_with(
        plant,
        point,
        sim,
        radius,
        objective,
        econ,
        objective_scale,
        Some(resp),
    )
}

#[allow(clippy::too_many_arguments)]
fn build_with(
    plant: &Plant,
    point: &OperatingPoint,
    sim: &PlantPoint,
    radius: &[f64],
    objective: LpObjective,
    econ: &Economics,
    objective_scale: f64,
    reduced: Option<&Responses>,
) -> Result<CascadeLp, OptError> {
    let fs = operating::apply(&plant.fs, &point.values)?;
    let m = fs.elements.len();
    let direction = match objective {
        LpObjective::ReagentCost => Direction::Minimize,
        _ => Direction::Maximize,
    };
    let mut lp = LpProblem::new(direction);
    let hyd = hydraulics(plant, point)?;
    let dfeed = feed_jacobian(&fs, point);
    let total_feed: f64 = sim.feed_in.iter().sum::<f64>().max(1e-300);
    let floor: Vec<f64> = sim
        .feed_in
        .iter()
        .map(|&f| SCALE_FLOOR * f.max(1e-6 * total_feed))
        .collect();
    let obj_scale = objective_scale.abs().max(1e-300);
    let mut meanings = Vec::new();

    // Operating variables: trust-region box as variable bounds, operating bounds as rows.
    let mut u = Vec::new();
    for (k, (v, x0)) in point.values.iter().enumerate() {
        let fv = &plant.free[k];
        let scale = x0.abs().max(1e-3 * (fv.upper - fv.lower).abs()).max(1e-12);
        let lo = x0 - radius[k];
        let hi = x0 + radius[k];
        let id = lp.add_scaled_var(operating::name(&fs, *v), lo.min(*x0), hi.max(*x0), scale);
        u.push(id);
        let name = operating::name(&fs, *v);
        let rlo = lp.add_row(
            format!("{name} >= lower bound"),
            RowKind::Other,
            vec![(id, 1.0)],
            Relation::Ge,
            fv.lower,
        );
        lp.soften(rlo, PENALTY * obj_scale / scale);
        meanings.push((rlo, Meaning::Lower(k)));
        let kind = if matches!(v, OperatingVar::FeedRate(_)) {
            RowKind::FeedAvailability
        } else {
            RowKind::Other
        };
        let rhi = lp.add_row(
            format!("{name} <= upper bound"),
            kind,
            vec![(id, 1.0)],
            Relation::Le,
            fv.upper,
        );
        lp.soften(rhi, PENALTY * obj_scale / scale);
        meanings.push((rhi, Meaning::Upper(k)));
    }
    let u_of = |var: OperatingVar| point.values.iter().position(|(v, _)| *v == var);

    // Link element flows.
    let link_vars: Vec<Vec<VarId>> = fs
        .links
        .iter()
        .enumerate()
        .map(|(li, l)| {
            (0..m)
                .map(|i| {
                    let x0 = sim.link_flow[li][i];
                    lp.add_scaled_var(
                        format!(
                            "{} -> {} {}",
                            fs.node_name(l.from.node),
                            fs.node_name(l.to.node),
                            fs.elements[i].symbol()
                        ),
                        0.0,
                        f64::INFINITY,
                        x0.max(floor[i]),
                    )
                })
                .collect()
        })
        .collect();
    let in_link = |node: NodeRef, k: usize| {
        fs.links
            .iter()
            .position(|l| l.to.node == node && l.to.kind == PortKind::Inlet(k))
    };

    let mut loading_rows = Vec::new();
    // Deviations of the operating variables, d_k = u_k - u0_k: the response rows are written in
    // them, so that a row's terms are as small as the change they describe (writing them in u
    // puts J u0 on both sides and the solver's round-off on the tails of the flows).
    let du: Vec<VarId> = if reduced.is_none() {
        Vec::new()
    } else {
        u.iter()
            .enumerate()
            .map(|(k, &uk)| {
                let (v, x0) = point.values[k];
                let d = lp.add_scaled_var(
                    format!("change of {}", operating::name(&fs, v)),
                    -radius[k].abs(),
                    radius[k].abs(),
                    radius[k].abs().max(1e-12 * x0.abs()).max(1e-300),
                );
                lp.add_row(
                    format!("definition change of {}", operating::name(&fs, v)),
                    RowKind::Other,
                    vec![(uk, 1.0), (d, -1.0)],
                    Relation::Eq,
                    x0,
                );
                d
            })
            .collect()
    };
    if let Some(resp) = reduced {
        // Link element flows as first-order responses of the simulated plant.
        for (li, l) in fs.links.iter().enumerate() {
            for i in 0..m {
                let mut terms = vec![(link_vars[li][i], 1.0)];
                let rhs = sim.link_flow[li][i];
                for (k, &dk) in du.iter().enumerate() {
                    let g = resp.link[k][li][i];
                    if g != 0.0 && g.is_finite() {
                        terms.push((dk, -g));
                    }
                }
                lp.add_row(
                    format!(
                        "response {} -> {} {}",
                        fs.node_name(l.from.node),
                        fs.node_name(l.to.node),
                        fs.elements[i].symbol()
                    ),
                    RowKind::Equilibrium,
                    terms,
                    Relation::Eq,
                    rhs,
                );
            }
        }
        // Organic loading of the screened stages: L_j(u) <= C O_j(u), both to first order.
        for (ci, c) in fs.circuits.iter().enumerate() {
            let cp = &sim.circuits[ci];
            for j in 0..cp.n_stages {
                let Some(cmax) =
                    loading_limit(&fs, ci, cp.section_of[j]).map(|x| x * (1.0 - SPEC_MARGIN))
                else {
                    continue;
                };
                let sf_capacity = matches!(&c.equilibrium, Equilibrium::SeparationFactor(sf)
                    if matches!(sf.loading.get(cp.section_of[j]), Some(Some(sxplan_model::SectionLoading::Capacity(_)))));
                let o0 = hyd.org0[ci][j];
                let l0: f64 = (0..m)
                    .filter(|&i| fs.elements[i].is_rey())
                    .map(|i| cp.o[j][i])
                    .sum();
                if sf_capacity || o0 <= 0.0 || l0 < LOADING_SCREEN * cmax * o0 {
                    continue;
                }
                let mut terms = Vec::new();
                let rhs = cmax * o0 - l0;
                for (k, &dk) in du.iter().enumerate() {
                    let g = resp.loading[k][ci][j] - cmax * hyd.d_org[ci][j][k];
                    if g != 0.0 && g.is_finite() {
                        terms.push((dk, g));
                    }
                }
                if terms.is_empty() {
                    continue;
                }
                let r = lp.add_row(
                    format!("loading {} stage {}", c.name, j + 1),
                    RowKind::Loading,
                    terms,
                    Relation::Le,
                    rhs,
                );
                loading_rows.push((r, ci, o0, cmax));
            }
        }
    } else {
        // Feeds, units, splitters, mixers.
        for (li, l) in fs.links.iter().enumerate() {
            let name = |i: usize| {
                format!(
                    "balance {} -> {} {}",
                    fs.node_name(l.from.node),
                    fs.node_name(l.to.node),
                    fs.elements[i].symbol()
                )
            };
            match l.from.node {
                NodeRef::Feed(f) => {
                    let feed = &fs.feeds[f.0];
                    let k = u_of(OperatingVar::FeedRate(f));
                    for (i, e) in fs.elements.iter().enumerate() {
                        let (rate, conc) = match &feed.kind {
                            FeedKind::Aqueous(s) | FeedKind::Organic(s) => {
                                (s.flow_vol, s.conc_mol.get(e).copied().unwrap_or(0.0))
                            }
                            FeedKind::Mud(mu) => {
                                (mu.flow_mass, crate::plant::mud_mol_per_t(mu, *e))
                            }
                        };
                        let mut terms = vec![(link_vars[li][i], 1.0)];
                        let rhs = match k {
                            Some(k) => {
                                terms.push((u[k], -conc));
                                0.0
                            }
                            None => rate * conc,
                        };
                        lp.add_row(name(i), RowKind::Balance, terms, Relation::Eq, rhs);
                    }
                }
                NodeRef::Unit(id) => {
                    let unit = &fs.units[id.0];
                    let Some(inl) = in_link(l.from.node, 0) else {
                        for i in 0..m {
                            lp.add_row(
                                name(i),
                                RowKind::Balance,
                                vec![(link_vars[li][i], 1.0)],
                                Relation::Eq,
                                0.0,
                            );
                        }
                        continue;
                    };
                    for (i, e) in fs.elements.iter().enumerate() {
                        let f = unit.fraction_to_outlet(*e);
                        let frac = if l.from.kind == PortKind::Residue {
                            1.0 - f
                        } else {
                            f
                        };
                        lp.add_row(
                            name(i),
                            RowKind::Balance,
                            vec![(link_vars[li][i], 1.0), (link_vars[inl][i], -frac)],
                            Relation::Eq,
                            0.0,
                        );
                    }
                }
                NodeRef::Splitter(id) => {
                    let s = &fs.splitters[id.0];
                    let k = match l.from.kind {
                        PortKind::Outlet(k) => k,
                        _ => 0,
                    };
                    let frac = s.outlets.get(k).map_or(0.0, |o| o.1);
                    let inl = in_link(l.from.node, 0);
                    for i in 0..m {
                        let mut terms = vec![(link_vars[li][i], 1.0)];
                        if let Some(inl) = inl {
                            terms.push((link_vars[inl][i], -frac));
                        }
                        lp.add_row(name(i), RowKind::Balance, terms, Relation::Eq, 0.0);
                    }
                }
                NodeRef::Mixer(id) => {
                    let mx = &fs.mixers[id.0];
                    for i in 0..m {
                        let mut terms = vec![(link_vars[li][i], 1.0)];
                        for k in 0..mx.n_inlets {
                            if let Some(inl) = in_link(l.from.node, k) {
                                terms.push((link_vars[inl][i], -1.0));
                            }
                        }
                        lp.add_row(name(i), RowKind::Balance, terms, Relation::Eq, 0.0);
                    }
                }
                NodeRef::Circuit(_) | NodeRef::Purge(_) | NodeRef::Product(_) => {}
            }
        }

        // Circuits.
        for (ci, c) in fs.circuits.iter().enumerate() {
            let cp = &sim.circuits[ci];
            let n = cp.n_stages;
            // (stage, link, phase) of every link entering the circuit.
            let inlets: Vec<(usize, usize, sxplan_model::Phase)> = (0..fs.links.len())
                .filter_map(|li| {
                    let p = plant.simulator().link_inlet(li)?;
                    (p.circuit == ci).then_some((p.stage, li, p.phase))
                })
                .collect();
            let a: Vec<Vec<VarId>> = (0..n)
                .map(|j| {
                    (0..m)
                        .map(|i| {
                            lp.add_scaled_var(
                                format!(
                                    "{} stage {} aq {}",
                                    c.name,
                                    j + 1,
                                    fs.elements[i].symbol()
                                ),
                                0.0,
                                f64::INFINITY,
                                cp.a[j][i].max(floor[i]),
                            )
                        })
                        .collect()
                })
                .collect();
            let o: Vec<Vec<VarId>> = (0..n)
                .map(|j| {
                    (0..m)
                        .map(|i| {
                            lp.add_scaled_var(
                                format!(
                                    "{} stage {} org {}",
                                    c.name,
                                    j + 1,
                                    fs.elements[i].symbol()
                                ),
                                0.0,
                                f64::INFINITY,
                                cp.o[j][i].max(floor[i]),
                            )
                        })
                        .collect()
                })
                .collect();
            for j in 0..n {
                let a0 = hyd.aq0[ci][j];
                let o0 = hyd.org0[ci][j];
                // Apparent equilibrium: D from the model at the point (exact for distribution).
                let e0 = extraction_factors(&fs, ci, cp.section_of[j], j, cp, a0, o0);
                let dlog = flow_exponents(&fs, ci, cp.section_of[j]);
                let eta = cp.murphree[j];
                for i in 0..m {
                    // Balance.
                    let mut terms = vec![(a[j][i], -1.0), (o[j][i], -1.0)];
                    if cp.aq_from_next[j] && j + 1 < n {
                        terms.push((a[j + 1][i], 1.0));
                    }
                    if j > 0 {
                        terms.push((o[j - 1][i], 1.0));
                    }
                    for &(st, li, _) in &inlets {
                        if st == j {
                            terms.push((link_vars[li][i], 1.0));
                        }
                    }
                    lp.add_row(
                        format!(
                            "balance {} stage {} {}",
                            c.name,
                            j + 1,
                            fs.elements[i].symbol()
                        ),
                        RowKind::Balance,
                        terms,
                        Relation::Eq,
                        0.0,
                    );
                    // Equilibrium: o = (1 - eta) o_in + eta E a, E = E0 (1 + dO/O0 - dA/A0).
                    let mut terms = vec![(o[j][i], 1.0), (a[j][i], -eta * e0[i])];
                    if eta < 1.0 {
                        if j > 0 {
                            terms.push((o[j - 1][i], -(1.0 - eta)));
                        }
                        for &(st, li, ph) in &inlets {
                            if st == j && ph == sxplan_model::Phase::Organic {
                                terms.push((link_vars[li][i], -(1.0 - eta)));
                            }
                        }
                    }
                    let mut rhs = 0.0;
                    let a_pt = cp.a[j][i];
                    if e0[i] > 0.0 && a_pt > 0.0 && a0 > 0.0 && o0 > 0.0 {
                        for (k, &uk) in u.iter().enumerate() {
                            let g = eta
                                * e0[i]
                                * a_pt
                                * (dlog.0 * hyd.d_org[ci][j][k] / o0
                                    - dlog.1 * hyd.d_aq[ci][j][k] / a0);
                            if g != 0.0 {
                                terms.push((uk, -g));
                                rhs -= g * point.values[k].1;
                            }
                        }
                    }
                    lp.add_row(
                        format!(
                            "equilibrium {} stage {} {}",
                            c.name,
                            j + 1,
                            fs.elements[i].symbol()
                        ),
                        RowKind::Equilibrium,
                        terms,
                        Relation::Eq,
                        rhs,
                    );
                }
                // Organic loading: sum_i o_ji <= C O_j(u).
                if let Some(cmax) =
                    loading_limit(&fs, ci, cp.section_of[j]).map(|c| c * (1.0 - SPEC_MARGIN))
                {
                    let sf_capacity = matches!(&c.equilibrium, Equilibrium::SeparationFactor(sf)
                        if matches!(sf.loading.get(cp.section_of[j]), Some(Some(sxplan_model::SectionLoading::Capacity(_)))));
                    let load0: f64 = (0..m)
                        .filter(|&i| fs.elements[i].is_rey())
                        .map(|i| cp.o[j][i])
                        .sum::<f64>()
                        / o0.max(1e-300);
                    // Screening: a loading row couples every element of its stage and widens the band
                    // of the KKT factor 2m-fold; only stages loaded to LOADING_SCREEN of the limit get one.
                    // Every stage is still checked in simulation before a point is accepted.
                    if !sf_capacity && o0 > 0.0 && load0 >= LOADING_SCREEN * cmax {
                        let mut terms: Vec<(VarId, f64)> = (0..m)
                            .filter(|&i| fs.elements[i].is_rey())
                            .map(|i| (o[j][i], 1.0))
                            .collect();
                        let mut rhs = cmax * o0;
                        for (k, &uk) in u.iter().enumerate() {
                            let g = cmax * hyd.d_org[ci][j][k];
                            if g != 0.0 {
                                terms.push((uk, -g));
                                rhs -= g * point.values[k].1;
                            }
                        }
                        let r = lp.add_row(
                            format!("loading {} stage {}", c.name, j + 1),
                            RowKind::Loading,
                            terms,
                            Relation::Le,
                            rhs,
                        );
                        loading_rows.push((r, ci, o0, cmax));
                    }
                }
            }
            // Circuit outlet links.
            for (li, l) in fs.links.iter().enumerate() {
                if l.from.node != NodeRef::Circuit(c.id) {
                    continue;
                }
                let src: Option<&Vec<VarId>> =
                    plant.simulator().link_outlet(li).map(|p| match p.phase {
                        sxplan_model::Phase::Organic => &o[p.stage],
                        _ => &a[p.stage],
                    });
                for i in 0..m {
                    let mut terms = vec![(link_vars[li][i], 1.0)];
                    if let Some(s) = src {
                        terms.push((s[i], -1.0));
                    }
                    lp.add_row(
                        format!(
                            "balance {} {}",
                            fs.node_name(l.from.node),
                            fs.elements[i].symbol()
                        ),
                        RowKind::Balance,
                        terms,
                        Relation::Eq,
                        0.0,
                    );
                }
            }
        }
    }
    // Loading rows: soft, scaled by the organic REE flow they limit.
    for (r, ci, o0, cmax) in loading_rows {
        lp.soften(r, PENALTY * obj_scale / (cmax * o0).max(1e-300));
        meanings.push((r, Meaning::Loading(ci, o0)));
    }

    // Products.
    let products: Vec<Vec<VarId>> = fs
        .products
        .iter()
        .map(|p| {
            let li = fs
                .links
                .iter()
                .position(|l| l.to.node == NodeRef::Product(p.id));
            (0..m)
                .map(|i| match li {
                    Some(li) => link_vars[li][i],
                    None => lp.add_var(
                        format!("product {} {} (unlinked)", p.name, fs.elements[i].symbol()),
                        0.0,
                        0.0,
                    ),
                })
                .collect()
        })
        .collect();
    for (pi, p) in fs.products.iter().enumerate() {
        let flows = &sim.products[pi];
        let product_link = fs
            .links
            .iter()
            .position(|l| l.to.node == NodeRef::Product(p.id));
        if let (Some(spec), Some(resp), Some(li)) = (&p.purity, reduced, product_link) {
            // Reduced space: the purity row in logarithmic form,
            // ln(impurities) - ln(specified) <= ln((1 - p) / p), linearized. Impurity flows along a
            // cascade change geometrically with its operating ratios, so the log form follows them
            // far beyond the point where the linear form is already wrong.
            let pmin = (spec.min + SPEC_MARGIN * (1.0 - spec.min)).clamp(1e-12, 1.0 - 1e-15);
            let (mut imp0, mut spec0) = (0.0, 0.0);
            for (i, e) in fs.elements.iter().enumerate() {
                if !e.is_rey() {
                    continue;
                }
                let w = purity_weight(*e, spec.basis);
                if spec.elements.contains(e) {
                    spec0 += w * flows[i];
                } else {
                    imp0 += w * flows[i];
                }
            }
            let names: Vec<&str> = spec.elements.iter().map(|e| e.symbol()).collect();
            let name = format!(
                "purity {} {} >= {:.4} %",
                p.name,
                names.join("+"),
                100.0 * spec.min
            );
            if spec0 > 0.0 && imp0 > 0.0 {
                let mut terms = Vec::new();
                let rhs = ((1.0 - pmin) / pmin * spec0 / imp0).ln();
                for (k, &dk) in du.iter().enumerate() {
                    let (mut di, mut ds) = (0.0, 0.0);
                    for (i, e) in fs.elements.iter().enumerate() {
                        if !e.is_rey() {
                            continue;
                        }
                        let w = purity_weight(*e, spec.basis);
                        if spec.elements.contains(e) {
                            ds += w * resp.link[k][li][i];
                        } else {
                            di += w * resp.link[k][li][i];
                        }
                    }
                    let g = di / imp0 - ds / spec0;
                    if g != 0.0 && g.is_finite() {
                        terms.push((dk, g));
                    }
                }
                if !terms.is_empty() && rhs.is_finite() {
                    let r = lp.add_row(name, RowKind::Purity, terms, Relation::Le, rhs);
                    // A violation of 1 in log units is the impurity e times its allowance.
                    lp.soften(r, PENALTY * obj_scale);
                    meanings.push((r, Meaning::PurityLog(pi, spec.min)));
                }
            }
        } else if let Some(spec) = &p.purity {
            let pmin = (spec.min + SPEC_MARGIN * (1.0 - spec.min)).clamp(1e-12, 1.0);
            let k = (1.0 - pmin) / pmin;
            let mut terms = Vec::new();
            let mut size = 0.0;
            let mut spec_flow = 0.0;
            for (i, e) in fs.elements.iter().enumerate() {
                if !e.is_rey() {
                    continue;
                }
                let w = purity_weight(*e, spec.basis);
                if spec.elements.contains(e) {
                    terms.push((products[pi][i], -k * w));
                    size += k * w * flows[i];
                    spec_flow += w * flows[i];
                } else {
                    terms.push((products[pi][i], w));
                }
            }
            let names: Vec<&str> = spec.elements.iter().map(|e| e.symbol()).collect();
            let r = lp.add_row(
                format!(
                    "purity {} {} >= {:.4} %",
                    p.name,
                    names.join("+"),
                    100.0 * spec.min
                ),
                RowKind::Purity,
                terms,
                Relation::Le,
                0.0,
            );
            lp.soften(r, PENALTY * obj_scale / size.max(1e-300));
            meanings.push((r, Meaning::Purity(pi, spec.min, spec_flow)));
        }
        for rec in &p.recovery {
            let Some(i) = fs.elements.iter().position(|e| *e == rec.element) else {
                continue;
            };
            let mut terms = vec![(products[pi][i], 1.0)];
            let rmin = (rec.min * (1.0 + SPEC_MARGIN)).min(1.0);
            let mut rhs = rmin * sim.feed_in[i];
            for (k, &uk) in u.iter().enumerate() {
                let g = rmin * dfeed[k][i];
                if g != 0.0 {
                    terms.push((uk, -g));
                    rhs -= g * point.values[k].1;
                }
            }
            let r = lp.add_row(
                format!(
                    "recovery {} {} >= {:.2} %",
                    p.name,
                    rec.element.symbol(),
                    100.0 * rec.min
                ),
                RowKind::Recovery,
                terms,
                Relation::Ge,
                rhs,
            );
            lp.soften(
                r,
                PENALTY * obj_scale / (rec.min * sim.feed_in[i]).max(1e-300),
            );
            meanings.push((r, Meaning::Recovery(pi, rec.element, sim.feed_in[i])));
        }
    }

    // Capacities: one row per distinct stage flow expression in scope.
    for (cap_i, cap) in fs.capacities.iter().enumerate() {
        let ci = cap.circuit.0;
        let Some(c) = fs.circuits.get(ci) else {
            continue;
        };
        let limit = cap.limit.max_flow_vol() * (1.0 - SPEC_MARGIN);
        if !limit.is_finite() {
            continue;
        }
        let mut seen: Vec<Vec<u64>> = Vec::new();
        for j in 0..c.n_stages() {
            if let Some(s) = cap.section {
                if sim.circuits[ci].section_of[j] != s {
                    continue;
                }
            }
            let base = hyd.aq0[ci][j] + hyd.org0[ci][j];
            let grads: Vec<f64> = (0..u.len())
                .map(|k| hyd.d_aq[ci][j][k] + hyd.d_org[ci][j][k])
                .collect();
            let mut key: Vec<u64> = grads.iter().map(|g| g.to_bits()).collect();
            key.push(base.to_bits());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let mut terms = Vec::new();
            let mut rhs = limit - base;
            for (k, &uk) in u.iter().enumerate() {
                if grads[k] != 0.0 {
                    terms.push((uk, grads[k]));
                    rhs += grads[k] * point.values[k].1;
                }
            }
            if terms.is_empty() {
                continue;
            }
            let sec = cap
                .section
                .and_then(|s| c.sections.get(s))
                .map_or(String::new(), |s| format!(" {}", s.name));
            let r = lp.add_row(
                format!("capacity {}{} stage {}", c.name, sec, j + 1),
                RowKind::Capacity,
                terms,
                Relation::Le,
                rhs,
            );
            lp.soften(r, PENALTY * obj_scale / limit.max(1e-300));
            meanings.push((r, Meaning::Capacity(cap_i)));
        }
    }

    // Reagents.
    let reagent_terms = reagent_terms(&fs, point, &u, &link_vars);
    let mut reagents = Vec::new();
    for (reagent, (terms, constant, scale)) in reagent_terms {
        let r = lp.add_scaled_var(
            format!("reagent {reagent:?} mol/h"),
            0.0,
            f64::INFINITY,
            scale.max(1e-9),
        );
        let mut t = vec![(r, 1.0)];
        t.extend(terms.iter().map(|&(v, c)| (v, -c)));
        lp.add_row(
            format!("reagent {reagent:?}"),
            RowKind::Reagent,
            t,
            Relation::Eq,
            constant,
        );
        reagents.push((reagent, r));
    }

    // Objective.
    match objective {
        LpObjective::Throughput => {
            for (k, (v, _)) in point.values.iter().enumerate() {
                if matches!(v, OperatingVar::FeedRate(_)) {
                    lp.add_objective(u[k], 1.0);
                }
            }
        }
        LpObjective::ReagentCost | LpObjective::Margin => {
            let sign = if objective == LpObjective::Margin {
                -1.0
            } else {
                1.0
            };
            for &(reagent, var) in &reagents {
                if let Some(&(_, usd)) =
                    econ.reagent_usd_per_mol.iter().find(|(r, _)| *r == reagent)
                {
                    lp.add_objective(var, sign * usd);
                }
            }
            if objective == LpObjective::Margin {
                lp.objective_constant = -econ.operating_cost_per_h;
                for (pi, _) in fs.products.iter().enumerate() {
                    for (i, e) in fs.elements.iter().enumerate() {
                        if let Some(&(_, usd)) =
                            econ.element_usd_per_mol.iter().find(|(x, _)| x == e)
                        {
                            lp.add_objective(products[pi][i], usd);
                        }
                    }
                }
            }
        }
    }
    Ok(CascadeLp {
        lp,
        u,
        reagents,
        products,
        meanings,
    })
}

/// How a stage's extraction factors scale with the phase flows, `(d ln E / d ln O, -d ln E / d ln A)`:
/// `E = D O / A` with constant `D` (distribution) gives (1, 1); Xu's model with the organic loaded
/// to a capacity (`sum o = L O`) gives (1, 0); with a fixed mixed extraction ratio
/// (`sum o = E_M sum a`) the flows do not enter at all, (0, 0).
fn flow_exponents(fs: &Flowsheet, ci: usize, section: usize) -> (f64, f64) {
    match &fs.circuits[ci].equilibrium {
        Equilibrium::SeparationFactor(sf) => match sf.loading.get(section).and_then(|l| l.as_ref())
        {
            Some(sxplan_model::SectionLoading::Capacity(_)) => (1.0, 0.0),
            _ => (0.0, 0.0),
        },
        _ => (1.0, 1.0),
    }
}

/// Extraction factors E_i = D_i O / A of stage `j` at the point.
fn extraction_factors(
    fs: &Flowsheet,
    ci: usize,
    section: usize,
    j: usize,
    cp: &crate::plant::CircuitPoint,
    aq: f64,
    org: f64,
) -> Vec<f64> {
    let c = &fs.circuits[ci];
    let m = fs.elements.len();
    if aq <= 0.0 || org <= 0.0 {
        return vec![0.0; m];
    }
    match &c.equilibrium {
        Equilibrium::Distribution(d) => fs
            .elements
            .iter()
            .map(|e| d.d_ratio.get(e).map_or(0.0, |v| v.at(section, j + 1)) * org / aq)
            .collect(),
        Equilibrium::SeparationFactor(sf) => {
            let betas = sf
                .beta_section
                .get(section)
                .and_then(|b| b.as_ref())
                .unwrap_or(&sf.beta);
            let beta: Vec<f64> = fs
                .elements
                .iter()
                .map(|e| betas.get(e).copied().unwrap_or(0.0))
                .collect();
            // Equilibrium organic at the point (undo the Murphree blend).
            let eta = cp.murphree[j].max(1e-12);
            let o_in: Vec<f64> = (0..m)
                .map(|i| if j > 0 { cp.o[j - 1][i] } else { 0.0 })
                .collect();
            let ostar: f64 = (0..m).map(|i| o_in[i] + (cp.o[j][i] - o_in[i]) / eta).sum();
            let ba: f64 = (0..m).map(|i| beta[i] * cp.a[j][i]).sum();
            if ba <= 0.0 {
                return vec![0.0; m];
            }
            beta.iter().map(|b| (b * ostar / ba).max(0.0)).collect()
        }
        _ => vec![0.0; m],
    }
}

type ReagentRow = (Vec<(VarId, f64)>, f64, f64);

/// Reagent flows as linear expressions: (terms, constant, typical magnitude) per reagent.
fn reagent_terms(
    fs: &Flowsheet,
    point: &OperatingPoint,
    u: &[VarId],
    link_vars: &[Vec<VarId>],
) -> Vec<(Reagent, ReagentRow)> {
    let mut out: Vec<(Reagent, ReagentRow)> = Vec::new();
    let mut add = |r: Reagent, var: Option<VarId>, coef: f64, constant: f64, typical: f64| {
        let idx = match out.iter().position(|(x, _)| *x == r) {
            Some(i) => i,
            None => {
                out.push((r, (Vec::new(), 0.0, 0.0)));
                out.len() - 1
            }
        };
        let e = &mut out[idx].1;
        if let Some(v) = var {
            e.0.push((v, coef));
        }
        e.1 += constant;
        e.2 += typical.abs();
    };
    let u_of = |var: OperatingVar| {
        point
            .values
            .iter()
            .position(|(v, _)| *v == var)
            .map(|k| u[k])
    };
    for c in &fs.circuits {
        if let Some(sap) = &c.organic.saponification {
            // mol base per L organic = fraction x extractant (monomer) concentration; with the
            // fraction free too, base = f C O is linearized: f0 C O + C O0 f - f0 C O0.
            let per_l = sap.fraction * c.organic.conc_mol;
            let var = u_of(OperatingVar::OrganicFlow(c.id));
            let cst = if var.is_some() {
                0.0
            } else {
                per_l * c.organic.flow_vol
            };
            add(
                sap.agent.into(),
                var,
                per_l,
                cst,
                per_l * c.organic.flow_vol,
            );
            if let Some(fv) = u_of(OperatingVar::Saponification(c.id)) {
                let g = c.organic.conc_mol * c.organic.flow_vol;
                add(sap.agent.into(), Some(fv), g, -g * sap.fraction, 0.0);
            }
        }
        for (si, s) in c.sections.iter().enumerate() {
            let Some(sol) = &s.solution else { continue };
            let Some(acid) = sol.acid else { continue };
            // The free flow and acid strength of this solution, if any (each variable sets the
            // solution of the first section of its kind only).
            let (flow_var, strength_var) = OperatingVar::of_solution(c, si);
            let var = flow_var.and_then(u_of);
            let per_l = sol.conc_mol;
            let cst = if var.is_some() {
                0.0
            } else {
                per_l * sol.flow_vol
            };
            add(acid.into(), var, per_l, cst, per_l * sol.flow_vol);
            // Free acid strength: acid = c V linearized, V0 c - V0 c0.
            let strength = strength_var.and_then(u_of);
            if let Some(cv) = strength {
                add(
                    acid.into(),
                    Some(cv),
                    sol.flow_vol,
                    -sol.flow_vol * per_l,
                    0.0,
                );
            }
        }
    }
    for unit in &fs.units {
        let node = NodeRef::Unit(unit.id);
        let inl = fs.links.iter().position(|l| l.to.node == node);
        if let UnitKind::Leach {
            acid,
            conc_mol,
            liquid_to_solid,
        } = &unit.kind
        {
            // mol acid/h = conc x L/kg x kg mud/h; the mud rate may be free.
            if let Some(li) = inl {
                if let NodeRef::Feed(f) = fs.links[li].from.node {
                    if let Some(FeedKind::Mud(mu)) = fs.feeds.get(f.0).map(|x| &x.kind) {
                        let per_t = conc_mol * liquid_to_solid * 1000.0;
                        let var = u_of(OperatingVar::FeedRate(f));
                        let cst = if var.is_some() {
                            0.0
                        } else {
                            per_t * mu.flow_mass
                        };
                        add((*acid).into(), var, per_t, cst, per_t * mu.flow_mass);
                    }
                }
            }
        }
        let mut uses = unit.reagents.clone();
        if matches!(unit.kind, UnitKind::Precipitation)
            && !uses.iter().any(|r| r.reagent == Reagent::OxalicAcid)
        {
            // RE2(C2O4)3: 3 oxalate per 2 REE = 1.5 mol oxalic acid per mol REE (stoichiometry [D]).
            uses.push(sxplan_model::ReagentUse {
                reagent: Reagent::OxalicAcid,
                mol_per_mol: 1.5,
                basis: sxplan_model::ReagentBasis::ReyIn,
            });
        }
        let Some(li) = inl else { continue };
        for ru in &uses {
            for (i, e) in fs.elements.iter().enumerate() {
                let counts = match &ru.basis {
                    sxplan_model::ReagentBasis::ReyIn => e.is_rey(),
                    sxplan_model::ReagentBasis::Element(x) => x == e,
                };
                if counts {
                    add(ru.reagent, Some(link_vars[li][i]), ru.mol_per_mol, 0.0, 0.0);
                }
            }
        }
    }
    for (_, e) in out.iter_mut() {
        if e.2 == 0.0 {
            e.2 = 1.0;
        }
    }
    out
}
