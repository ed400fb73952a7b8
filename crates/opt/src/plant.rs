//! The flowsheet as the optimizer sees it: its operating variables and bounds, and the plant
//! evaluated at an operating point through the one simulator, [`sxplan_sim::Simulator`].
//!
//! The optimizer has no simulation of its own: every point, every finite-difference neighbour and
//! the hydraulics come from `sxplan-sim`, warm-started from the previous state, so the point it
//! reports is what `sxplan simulate` gives for the written-back flowsheet. Volumetric flows are
//! affine in the operating flows (additive volumes, fixed split fractions), so
//! [`Plant::hydraulics`] is exact and its differences are exact derivatives.

use sxplan_model::{
    CircuitId, Equilibrium, FeedKind, Flowsheet, OperatingVar, SectionKind, SectionLoading,
};
use sxplan_sim::{SimOptions, SimResult, Simulator};

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
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OperatingPoint {
    /// (variable, value) in the order of the flowsheet's `optimize.free` list.
    pub values: Vec<(OperatingVar, f64)>,
}

/// Human-readable name of an operating variable (`"feed liquor rate"`, `"circuit PrNd organic flow"`).
pub fn var_name(fs: &Flowsheet, v: OperatingVar) -> String {
    let c = |id: CircuitId| {
        fs.circuits
            .get(id.0)
            .map_or_else(|| format!("#{}", id.0), |c| c.name.clone())
    };
    match v {
        OperatingVar::FeedRate(f) => format!(
            "feed {} rate",
            fs.feeds.get(f.0).map_or("?", |f| f.name.as_str())
        ),
        OperatingVar::OrganicFlow(id) => format!("circuit {} organic flow", c(id)),
        OperatingVar::ScrubFlow(id) => format!("circuit {} scrub flow", c(id)),
        OperatingVar::StripFlow(id) => format!("circuit {} strip flow", c(id)),
        OperatingVar::SplitFraction(s, k) => format!(
            "splitter {} fraction {k}",
            fs.splitters.get(s.0).map_or("?", |s| s.name.as_str())
        ),
        OperatingVar::Saponification(id) => format!("circuit {} saponification", c(id)),
        OperatingVar::ScrubAcid(id) => format!("circuit {} scrub acid", c(id)),
        OperatingVar::StripAcid(id) => format!("circuit {} strip acid", c(id)),
        OperatingVar::ExtractionRatio(id, k) => format!(
            "circuit {} {} extraction ratio",
            c(id),
            fs.circuits
                .get(id.0)
                .and_then(|c| c.sections.get(k))
                .map_or("?", |s| s.name.as_str())
        ),
    }
}

/// Unit of an operating variable in user terms: (unit label, factor from internal units).
pub fn var_unit(fs: &Flowsheet, v: OperatingVar) -> (&'static str, f64) {
    match v {
        OperatingVar::FeedRate(f) => match fs.feeds.get(f.0).map(|f| &f.kind) {
            Some(FeedKind::Mud(_)) => ("t/h", 1.0),
            _ => ("m3/h", 1e-3),
        },
        OperatingVar::OrganicFlow(_) | OperatingVar::ScrubFlow(_) | OperatingVar::StripFlow(_) => {
            ("m3/h", 1e-3)
        }
        OperatingVar::ScrubAcid(_) | OperatingVar::StripAcid(_) => ("mol/L", 1.0),
        OperatingVar::SplitFraction(..)
        | OperatingVar::Saponification(_)
        | OperatingVar::ExtractionRatio(..) => ("-", 1.0),
    }
}

/// Reads the current value of an operating variable from the flowsheet.
pub fn get_var(fs: &Flowsheet, v: OperatingVar) -> Result<f64, OptError> {
    let missing = || OptError::InvalidProblem(format!("{} does not exist", var_name(fs, v)));
    match v {
        OperatingVar::FeedRate(f) => match &fs.feeds.get(f.0).ok_or_else(missing)?.kind {
            FeedKind::Aqueous(s) | FeedKind::Organic(s) => Ok(s.flow_vol),
            FeedKind::Mud(m) => Ok(m.flow_mass),
        },
        OperatingVar::OrganicFlow(c) => {
            Ok(fs.circuits.get(c.0).ok_or_else(missing)?.organic.flow_vol)
        }
        OperatingVar::ScrubFlow(c) => fs
            .circuits
            .get(c.0)
            .and_then(|c| c.scrub_solution())
            .map(|s| s.flow_vol)
            .ok_or_else(missing),
        OperatingVar::StripFlow(c) => fs
            .circuits
            .get(c.0)
            .and_then(|c| c.strip_solution())
            .map(|s| s.flow_vol)
            .ok_or_else(missing),
        OperatingVar::SplitFraction(sp, k) => fs
            .splitters
            .get(sp.0)
            .and_then(|s| s.outlets.get(k))
            .map(|o| o.1)
            .ok_or_else(missing),
        OperatingVar::Saponification(c) => fs
            .circuits
            .get(c.0)
            .and_then(|c| c.organic.saponification.as_ref())
            .map(|s| s.fraction)
            .ok_or_else(missing),
        OperatingVar::ScrubAcid(c) | OperatingVar::StripAcid(c) => {
            let kind = if matches!(v, OperatingVar::ScrubAcid(_)) {
                SectionKind::Scrub
            } else {
                SectionKind::Strip
            };
            fs.circuits
                .get(c.0)
                .and_then(|c| {
                    c.sections
                        .iter()
                        .filter(|s| s.kind == kind)
                        .find_map(|s| s.solution.as_ref())
                })
                .map(|s| s.conc_mol)
                .ok_or_else(missing)
        }
        OperatingVar::ExtractionRatio(c, k) => match fs.circuits.get(c.0).map(|c| &c.equilibrium) {
            Some(Equilibrium::SeparationFactor(sf)) => match sf.loading.get(k) {
                Some(Some(SectionLoading::ExtractionRatio(e))) => Ok(*e),
                _ => Err(missing()),
            },
            _ => Err(missing()),
        },
    }
}

/// Writes an operating variable into a copy of the flowsheet.
pub fn set_var(fs: &mut Flowsheet, v: OperatingVar, value: f64) -> Result<(), OptError> {
    let name = var_name(fs, v);
    let missing = || OptError::InvalidProblem(format!("{name} does not exist"));
    match v {
        OperatingVar::FeedRate(f) => match &mut fs.feeds.get_mut(f.0).ok_or_else(missing)?.kind {
            FeedKind::Aqueous(s) | FeedKind::Organic(s) => s.flow_vol = value,
            FeedKind::Mud(m) => m.flow_mass = value,
        },
        OperatingVar::OrganicFlow(c) => {
            fs.circuits
                .get_mut(c.0)
                .ok_or_else(missing)?
                .organic
                .flow_vol = value
        }
        OperatingVar::ScrubFlow(c) | OperatingVar::StripFlow(c) => {
            let kind = if matches!(v, OperatingVar::ScrubFlow(_)) {
                SectionKind::Scrub
            } else {
                SectionKind::Strip
            };
            let circuit = fs.circuits.get_mut(c.0).ok_or_else(missing)?;
            let sol = circuit
                .sections
                .iter_mut()
                .find(|s| s.kind == kind)
                .and_then(|s| s.solution.as_mut())
                .ok_or_else(missing)?;
            sol.flow_vol = value;
        }
        OperatingVar::SplitFraction(sp, k) => {
            // The other outlets keep their proportions so that the fractions still sum to 1.
            let s = fs.splitters.get_mut(sp.0).ok_or_else(missing)?;
            if k >= s.outlets.len() {
                return Err(missing());
            }
            let x = value.clamp(0.0, 1.0);
            let rest: f64 = s
                .outlets
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, o)| o.1)
                .sum();
            let others = s.outlets.len() - 1;
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
        OperatingVar::Saponification(c) => {
            fs.circuits
                .get_mut(c.0)
                .and_then(|c| c.organic.saponification.as_mut())
                .ok_or_else(missing)?
                .fraction = value
        }
        OperatingVar::ScrubAcid(c) | OperatingVar::StripAcid(c) => {
            let kind = if matches!(v, OperatingVar::ScrubAcid(_)) {
                SectionKind::Scrub
            } else {
                SectionKind::Strip
            };
            let circuit = fs.circuits.get_mut(c.0).ok_or_else(missing)?;
            let sol = circuit
                .sections
                .iter_mut()
                .filter(|s| s.kind == kind)
                .find_map(|s| s.solution.as_mut())
                .ok_or_else(missing)?;
            sol.conc_mol = value;
        }
        OperatingVar::ExtractionRatio(c, k) => {
            let circuit = fs.circuits.get_mut(c.0).ok_or_else(missing)?;
            match &mut circuit.equilibrium {
                Equilibrium::SeparationFactor(sf) => match sf.loading.get_mut(k) {
                    Some(Some(SectionLoading::ExtractionRatio(e))) => *e = value,
                    _ => return Err(missing()),
                },
                _ => return Err(missing()),
            }
        }
    }
    Ok(())
}

/// A copy of `fs` with the operating point applied.
pub fn apply(fs: &Flowsheet, point: &OperatingPoint) -> Result<Flowsheet, OptError> {
    let mut out = fs.clone();
    for &(v, x) in &point.values {
        set_var(&mut out, v, x)?;
    }
    Ok(out)
}

/// The simulated state of one circuit at an operating point (from the one simulator).
pub type CircuitPoint = sxplan_sim::CircuitState;

/// The simulated state of the whole plant at an operating point (from the one simulator).
pub type PlantPoint = sxplan_sim::PlantState;

/// The flowsheet resolved into what the optimizer needs, independent of the operating point.
#[derive(Debug, Clone)]
pub struct Plant {
    /// The flowsheet at the base operating point.
    pub fs: Flowsheet,
    /// Free operating variables with bounds.
    pub free: Vec<sxplan_model::FreeVar>,
    /// Elements in flowsheet order.
    pub elements: Vec<sxplan_chem::Element>,
    sim: Simulator,
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
        let sim = Simulator::new(fs, &SimOptions::default())
            .map_err(|e| OptError::Simulation(e.to_string()))?;
        Ok(Plant {
            fs: fs.clone(),
            free: settings.free.clone(),
            elements: fs.elements.clone(),
            sim,
        })
    }

    /// The simulator every point is evaluated with.
    pub fn simulator(&self) -> &Simulator {
        &self.sim
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

    /// Simulates the plant at `point`, every chain and the recycles starting from `warm` (a
    /// state of the same plant, e.g. the previous iterate) when given.
    pub fn simulate_from(
        &self,
        point: &OperatingPoint,
        warm: Option<&PlantPoint>,
    ) -> Result<PlantPoint, OptError> {
        let fs = apply(&self.fs, point)?;
        self.sim
            .evaluate(&fs, warm)
            .map_err(|e| OptError::Simulation(e.to_string()))
    }

    /// The full simulation result (stage profiles, reagents, mass balance) of a state at `point`.
    pub fn result(
        &self,
        point: &OperatingPoint,
        state: &PlantPoint,
    ) -> Result<SimResult, OptError> {
        let fs = apply(&self.fs, point)?;
        self.sim
            .result(&fs, state)
            .map_err(|e| OptError::Simulation(e.to_string()))
    }

    /// Volumetric flows only (no element solve): per circuit `(aq per stage, org per stage)`.
    pub fn hydraulics(&self, point: &OperatingPoint) -> Result<Vec<PhaseFlows>, OptError> {
        let fs = apply(&self.fs, point)?;
        self.sim
            .volumes(&fs)
            .map_err(|e| OptError::Simulation(e.to_string()))
    }

    /// Organic REE loading limit of a stage in section `section` of circuit `ci`, mol/L: the
    /// separation-factor section capacity when given, else the mass-action loading capacity,
    /// else the stoichiometric limit of an acidic extractant, C_HA / 6 (one Ln3+ binds three
    /// dimers (HA)2, chemistry.md 1.1 [S]; the division is ours [D]).
    pub fn loading_limit(&self, ci: usize, section: usize) -> Option<f64> {
        loading_limit(&self.fs, ci, section)
    }
}

/// Organic REE loading limit of a stage in section `section` of circuit `ci` of `fs`, mol/L
/// (see [`Plant::loading_limit`]).
pub fn loading_limit(fs: &Flowsheet, ci: usize, section: usize) -> Option<f64> {
    {
        let c = fs.circuits.get(ci)?;
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
}
