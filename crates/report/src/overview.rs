//! The top of every report: status, specs with pass/fail and margin, the plant in annual
//! figures, what limits it, costs at the flowsheet's prices with their sources, and the
//! mixer-settler sizing with the organic inventory.
//!
//! [`overview`] is a pure function of the flowsheet (at the operating point that was
//! simulated), its simulation and, when there is one, the optimization; its [`Overview`] is
//! written into the simulate and optimize JSON as `summary` (docs/simulate-json.md), read back
//! by `sxplan report`, and rendered as text ([`render_text`]) and as the first section of the
//! Markdown and HTML reports.
//!
//! Valuation: the one rule of [`crate::plant`] (a single-element product meeting its purity
//! specification is valued at that oxide's price; mixed and off-specification products are
//! listed as not valued). Prices come only from the flowsheet's `[prices]` and the built-in
//! dated price sets of `sxplan_chem::prices`, each with its source; a missing price is never
//! filled in.
//!
//! Sizing (per stage, from the simulated phase flows leaving it, aqueous `Q_aq` and organic
//! `Q_org`, both L/h):
//!
//! | quantity | equation | unit |
//! |---|---|---|
//! | mixer volume | `V_mix = (Q_aq + Q_org) t_mix` | m3 |
//! | settler area | `A_set = (Q_aq + Q_org) / q_set` | m2 |
//! | organic in the settler | `A_set h_org` | m3 |
//! | organic in the mixer | `V_mix Q_org / (Q_aq + Q_org)` | m3 |
//! | organic in launders, pipes, tanks | `f_pipe` times the two above | m3 |
//!
//! with `t_mix` the mixer residence time, `q_set` the specific settling rate (m3/(m2 h)),
//! `h_org` the organic depth in the settler and `f_pipe` the pipework allowance, from `[plant]`
//! or the defaults below (each with its source and quality tag, shown in every report).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sxplan_chem::prices::{price_set, PriceSet, Reagent as ChemReagent};
use sxplan_chem::Element;
use sxplan_model::{Flowsheet, Reagent};
use sxplan_opt::OptimizeResult;
use sxplan_sim::SimResult;

use crate::plant::{plant_summary, PlantOptions, DEFAULT_HOURS_PER_YEAR};

/// Default mixer residence time, h (3 min).
pub const DEFAULT_MIXER_RESIDENCE_H: f64 = 0.05;
/// Source of [`DEFAULT_MIXER_RESIDENCE_H`].
pub const MIXER_RESIDENCE_SOURCE: &str =
    "3 min, within 'mixing times of the order of a few minutes' \
     (tyextractor.com mixer-settler page, shared/reference/chemistry.md section 3, [S] L); no REE \
     plant figure found";
/// Default specific settling rate, m3 of both phases per m2 of settler and hour.
pub const DEFAULT_SETTLING_RATE: f64 = 3.0;
/// Source of [`DEFAULT_SETTLING_RATE`].
pub const SETTLING_RATE_SOURCE: &str = "no sourced settler specific flow for REE plants was found \
     (chemistry.md section 3 lists it as not found); 3 m3/(m2 h) is an assumption, override it";
/// Default organic depth in a settler, m.
pub const DEFAULT_SETTLER_ORGANIC_DEPTH: f64 = 0.3;
/// Source of [`DEFAULT_SETTLER_ORGANIC_DEPTH`].
pub const SETTLER_DEPTH_SOURCE: &str =
    "no sourced figure found; 0.3 m is an assumption, override it";
/// Default pipework allowance, fraction of the organic in mixers and settlers.
pub const DEFAULT_PIPEWORK_ALLOWANCE: f64 = 0.10;
/// Source of [`DEFAULT_PIPEWORK_ALLOWANCE`].
pub const PIPEWORK_SOURCE: &str = "no sourced figure found; 10 % is an assumption, override it";
/// Source of [`DEFAULT_HOURS_PER_YEAR`] as used here.
pub const HOURS_SOURCE: &str =
    "8,000 h/year (about 91 % availability); no availability figure for this plant was found";

/// A value the overview used, with where it comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Datum {
    /// What it is (`operating hours`, `mixer residence time`).
    pub name: String,
    /// Value in `unit`.
    pub value: f64,
    /// Unit (`h/year`, `min`, `m3/(m2 h)`, `m`, `fraction`).
    pub unit: String,
    /// `[plant] <key>` when the flowsheet gives it, else the default's source.
    pub source: String,
    /// `user`, or the default's quality tag (`estimated`, `illustrative`).
    pub quality: String,
}

/// A spec or limit at the reported point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecLine {
    /// What is checked (`purity Nd_chloride Nd >= 99.9 % mole`).
    pub name: String,
    /// Value reached.
    pub value: f64,
    /// The limit.
    pub limit: f64,
    /// Distance to the limit on the safe side (negative when violated), in the unit of value.
    pub margin: f64,
    /// Unit of value, limit and margin (`fraction`, `L/h`, `mol/L`).
    pub unit: String,
    /// Met.
    pub pass: bool,
}

/// One free operating variable of `[optimize] free` at the reported point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperatingLine {
    /// Name (`circuit PrNd organic flow`).
    pub name: String,
    /// Value in `unit`.
    pub value: f64,
    /// User unit (`m3/h`, `mol/L`, `-`).
    pub unit: String,
}

/// One product per year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductYear {
    /// Product name.
    pub name: String,
    /// Main element(s), `Nd` or `Pr+Nd`.
    pub main: String,
    /// Oxide (REO) output, t/year.
    pub reo_t_per_year: f64,
    /// Purity of `main` (REO-mass basis).
    pub purity_reo_mass: f64,
    /// Price used, US$/kg of oxide (only when valued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_kg: Option<f64>,
    /// Value, US$/year (only when valued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_usd_per_year: Option<f64>,
    /// Source of the price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_source: Option<String>,
}

/// One reagent per year (summed over its uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReagentYear {
    /// Reagent (`HCl`, `NaOH`, `NH3`, `oxalic_acid`, ...).
    pub reagent: String,
    /// t/year, 100 % basis (oxalic acid as the dihydrate).
    pub t_per_year: f64,
    /// t per t of REO in all products.
    pub t_per_t_reo: f64,
    /// Price, US$/kg on that basis, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_kg: Option<f64>,
    /// Cost, US$/year, when priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd_per_year: Option<f64>,
    /// Source of the price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_source: Option<String>,
}

/// Reagent cost of one circuit (or unit).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AreaCost {
    /// `circuit PrNd`, `unit leach`.
    pub area: String,
    /// Priced reagent cost, US$/year.
    pub cost_usd_per_year: f64,
    /// Reagents used there that have no price.
    pub unpriced: Vec<String>,
}

/// A binding limit of an optimization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    /// Rank (1 = limits the plant most).
    pub rank: usize,
    /// The limit.
    pub constraint: String,
    /// Shadow price.
    pub value: f64,
    /// Its unit.
    pub unit: String,
}

/// Something that has no price and is not in the totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotValued {
    /// What (`product Pr_raffinate`, `reagent H2SO4`, `organic inventory of PrNd`).
    pub item: String,
    /// Why.
    pub reason: String,
}

/// Costs and value per year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// The price set named by the flowsheet (id, name, date), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_set: Option<String>,
    /// Products valued, US$/year.
    pub product_value_usd_per_year: f64,
    /// Priced reagents, US$/year.
    pub reagent_cost_usd_per_year: f64,
    /// `[prices] operating_cost`, US$/year.
    pub operating_cost_usd_per_year: f64,
    /// Value minus costs, US$/year (no capital, labour, energy or tailings cost).
    pub margin_usd_per_year: f64,
    /// Reagent cost per circuit or unit.
    pub by_area: Vec<AreaCost>,
    /// Every price used, with its source.
    pub price_sources: Vec<String>,
    /// What is not valued and why.
    pub not_valued: Vec<NotValued>,
}

/// Sizing and organic inventory of one circuit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CircuitEquipment {
    /// Circuit name.
    pub circuit: String,
    /// Stages.
    pub stages: usize,
    /// Largest combined flow through one stage, m3/h.
    pub max_stage_flow_m3_per_h: f64,
    /// Mixer volume of that stage, m3.
    pub max_mixer_m3: f64,
    /// Settler area of that stage, m2.
    pub max_settler_m2: f64,
    /// Mixer volume of all stages, m3.
    pub mixer_m3: f64,
    /// Settler area of all stages, m2.
    pub settler_m2: f64,
    /// Organic in the settlers, m3.
    pub organic_settlers_m3: f64,
    /// Organic in the mixers, m3.
    pub organic_mixers_m3: f64,
    /// Organic in launders, pipes and tanks, m3.
    pub organic_pipework_m3: f64,
    /// Total organic inventory, m3.
    pub organic_m3: f64,
    /// Extractant id and concentration (mol/L) of the organic.
    pub extractant: String,
    /// Extractant concentration, mol/L.
    pub extractant_mol_per_l: f64,
    /// Value of the extractant in the inventory, US$ (when priced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extractant_value_usd: Option<f64>,
}

/// Sizing of the plant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Equipment {
    /// The basis: residence time, settling rate, organic depth, pipework allowance.
    pub basis: Vec<Datum>,
    /// Per circuit (converged circuits only).
    pub circuits: Vec<CircuitEquipment>,
    /// Mixer volume of the plant, m3.
    pub mixer_m3: f64,
    /// Settler area of the plant, m2.
    pub settler_m2: f64,
    /// Organic inventory of the plant, m3.
    pub organic_m3: f64,
    /// Value of the priced extractant inventory, US$.
    pub extractant_value_usd: f64,
    /// Source of the extractant prices used.
    pub price_sources: Vec<String>,
}

/// The top of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// `simulated` or `optimized (<status>)`.
    pub basis: String,
    /// Simulation status.
    pub status: String,
    /// Operating hours per year used for every annual figure.
    pub operating_hours: Datum,
    /// The free operating variables of `[optimize] free` at the reported point (empty
    /// without an `[optimize]` table).
    pub operating_point: Vec<OperatingLine>,
    /// Specs and limits with pass/fail and margin.
    pub specs: Vec<SpecLine>,
    /// Products per year.
    pub products: Vec<ProductYear>,
    /// REO in all products, t/year.
    pub reo_t_per_year: f64,
    /// Reagents per year.
    pub reagents: Vec<ReagentYear>,
    /// Binding limits of the optimization, ranked (empty when simulated only).
    pub binding: Vec<Binding>,
    /// Costs and value.
    pub costs: Costs,
    /// Equipment and organic inventory.
    pub equipment: Equipment,
    /// Warnings: product elements without a price in the chosen set, results that are not a
    /// steady state.
    pub warnings: Vec<String>,
}

fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// A default of the overview: name, value (in `unit` after `scale`), unit, `[plant]` key,
/// source and quality tag.
struct Default_ {
    name: &'static str,
    value: f64,
    unit: &'static str,
    key: &'static str,
    source: &'static str,
    quality: &'static str,
    /// Internal unit to `unit` (60 for h to min).
    scale: f64,
}

fn datum(d: &Default_, user: Option<f64>) -> Datum {
    let (value, source, quality) = match user {
        Some(v) => (
            v,
            format!("flowsheet [plant] {}", d.key),
            "user".to_string(),
        ),
        None => (d.value, d.source.to_string(), d.quality.to_string()),
    };
    Datum {
        name: d.name.into(),
        value: value * d.scale,
        unit: d.unit.into(),
        source,
        quality,
    }
}

/// Operating hours per year of a flowsheet: `[plant] operating_hours`, else the default.
pub fn operating_hours(fs: &Flowsheet) -> Datum {
    datum(
        &Default_ {
            name: "operating hours",
            value: DEFAULT_HOURS_PER_YEAR,
            unit: "h/year",
            key: "operating_hours",
            source: HOURS_SOURCE,
            quality: "illustrative",
            scale: 1.0,
        },
        fs.plant.operating_hours,
    )
}

/// The sizing basis of a flowsheet (user values from `[plant]`, else the defaults).
pub fn sizing_basis(fs: &Flowsheet) -> Vec<Datum> {
    let p = &fs.plant;
    let table = [
        (
            Default_ {
                name: "mixer residence time",
                value: DEFAULT_MIXER_RESIDENCE_H,
                unit: "min",
                key: "mixer_residence_time",
                source: MIXER_RESIDENCE_SOURCE,
                quality: "estimated",
                scale: 60.0,
            },
            p.mixer_residence_time,
        ),
        (
            Default_ {
                name: "specific settling rate",
                value: DEFAULT_SETTLING_RATE,
                unit: "m3/(m2 h)",
                key: "settling_rate",
                source: SETTLING_RATE_SOURCE,
                quality: "illustrative",
                scale: 1.0,
            },
            p.settling_rate,
        ),
        (
            Default_ {
                name: "organic depth in settler",
                value: DEFAULT_SETTLER_ORGANIC_DEPTH,
                unit: "m",
                key: "settler_organic_depth",
                source: SETTLER_DEPTH_SOURCE,
                quality: "illustrative",
                scale: 1.0,
            },
            p.settler_organic_depth,
        ),
        (
            Default_ {
                name: "pipework allowance",
                value: DEFAULT_PIPEWORK_ALLOWANCE,
                unit: "fraction",
                key: "pipework_allowance",
                source: PIPEWORK_SOURCE,
                quality: "illustrative",
                scale: 1.0,
            },
            p.pipework_allowance,
        ),
    ];
    table.iter().map(|(d, u)| datum(d, *u)).collect()
}

/// Sizing of one stage from its outlet flows (L/h): (mixer m3, settler m2, organic in the
/// settler m3, organic in the mixer m3). `residence_h` in h, `rate` in m3/(m2 h), `depth` in m.
pub fn size_stage(
    q_aq: f64,
    q_org: f64,
    residence_h: f64,
    rate: f64,
    depth: f64,
) -> (f64, f64, f64, f64) {
    let q = (finite(q_aq).max(0.0) + finite(q_org).max(0.0)) / 1000.0; // m3/h
    let mixer = q * residence_h;
    let area = if rate > 0.0 { q / rate } else { 0.0 };
    let org_frac = if q > 0.0 {
        finite(q_org).max(0.0) / 1000.0 / q
    } else {
        0.0
    };
    (mixer, area, area * depth, mixer * org_frac)
}

/// US$/kg of the extractant `id` and its source: the flowsheet's `[prices.reagent]
/// extractant`, else the set's price when the set prices that very extractant (D2EHPA only;
/// no price is applied to another extractant).
fn extractant_price(
    fs: &Flowsheet,
    set: Option<&PriceSet>,
    id: &str,
) -> Option<(f64, f64, String)> {
    // molar masses from the formulas: D2EHPA (HDEHP) C16H35O4P, P507 (HEH(EHP), PC88A)
    // C16H35O3P; other extractants have no formula here and their inventory is not valued
    let mm = match id {
        "d2ehpa" | "d2ehpa_lactic" => sxplan_chem::formula::molar_mass("C16H35O4P"),
        "p507" => sxplan_chem::formula::molar_mass("C16H35O3P"),
        _ => None,
    };
    if let Some(p) = fs
        .prices
        .as_ref()
        .and_then(|p| p.reagent.get(&Reagent::Extractant))
    {
        let mm = mm?;
        return Some((
            p.usd_per_kg,
            mm,
            format!(
                "extractant {id}: {} US$/kg ({}, {})",
                p.usd_per_kg,
                p.source.as_deref().unwrap_or("flowsheet, no source given"),
                p.date.as_deref().unwrap_or("undated")
            ),
        ));
    }
    if !matches!(id, "d2ehpa" | "d2ehpa_lactic") {
        return None;
    }
    let rp = set?.reagent(ChemReagent::D2ehpa)?;
    let usd = rp.usd_per_kg_active()?;
    Some((
        usd,
        mm?,
        format!(
            "extractant d2ehpa: {usd:.2} US$/kg of 100 % D2EHPA ({}; {}, {})",
            rp.product,
            rp.provenance.source,
            rp.provenance.quality.as_str()
        ),
    ))
}

fn equipment(
    fs: &Flowsheet,
    sim: &SimResult,
    set: Option<&PriceSet>,
) -> (Equipment, Vec<NotValued>) {
    let basis = sizing_basis(fs);
    let residence_h = basis[0].value / 60.0;
    let rate = basis[1].value;
    let depth = basis[2].value;
    let pipe = basis[3].value;
    let mut eq = Equipment {
        basis,
        ..Equipment::default()
    };
    let mut unpriced: Vec<(String, Vec<String>)> = Vec::new();
    for c in &sim.circuits {
        if !c.status.is_converged() {
            continue;
        }
        let Some(fc) = fs.circuits.iter().find(|x| x.name == c.name) else {
            continue;
        };
        let mut ce = CircuitEquipment {
            circuit: c.name.clone(),
            stages: c.stages.len(),
            extractant: fc.organic.extractant.clone(),
            extractant_mol_per_l: fc.organic.conc_mol,
            ..CircuitEquipment::default()
        };
        for s in &c.stages {
            let (m, a, os, om) =
                size_stage(s.flow_vol_aq, s.flow_vol_org, residence_h, rate, depth);
            let q = (finite(s.flow_vol_aq) + finite(s.flow_vol_org)) / 1000.0;
            if q > ce.max_stage_flow_m3_per_h {
                ce.max_stage_flow_m3_per_h = q;
                ce.max_mixer_m3 = m;
                ce.max_settler_m2 = a;
            }
            ce.mixer_m3 += m;
            ce.settler_m2 += a;
            ce.organic_settlers_m3 += os;
            ce.organic_mixers_m3 += om;
        }
        ce.organic_pipework_m3 = pipe * (ce.organic_settlers_m3 + ce.organic_mixers_m3);
        ce.organic_m3 = ce.organic_settlers_m3 + ce.organic_mixers_m3 + ce.organic_pipework_m3;
        match extractant_price(fs, set, &fc.organic.extractant) {
            Some((usd, mm, src)) => {
                // m3 * 1000 L/m3 * mol/L * g/mol / 1000 g/kg = kg
                let kg = ce.organic_m3 * 1000.0 * fc.organic.conc_mol * mm / 1000.0;
                ce.extractant_value_usd = Some(kg * usd);
                eq.extractant_value_usd += kg * usd;
                if !eq.price_sources.contains(&src) {
                    eq.price_sources.push(src);
                }
            }
            None => match unpriced
                .iter_mut()
                .find(|(x, _)| *x == fc.organic.extractant)
            {
                Some((_, cs)) => cs.push(c.name.clone()),
                None => unpriced.push((fc.organic.extractant.clone(), vec![c.name.clone()])),
            },
        }
        eq.mixer_m3 += ce.mixer_m3;
        eq.settler_m2 += ce.settler_m2;
        eq.organic_m3 += ce.organic_m3;
        eq.circuits.push(ce);
    }
    let not_valued = unpriced
        .into_iter()
        .map(|(x, cs)| NotValued {
            item: format!("organic inventory of {}", cs.join(", ")),
            reason: format!(
                "no price for extractant {x} in the flowsheet or the price set (give [prices.reagent] extractant)"
            ),
        })
        .collect();
    (eq, not_valued)
}

/// `circuit PrNd` from a reagent use `circuit PrNd scrub`; `unit leach` from `unit leach ...`.
fn area_of(use_: &str) -> String {
    let mut w = use_.split_whitespace();
    match (w.next(), w.next()) {
        (Some(k @ ("circuit" | "unit")), Some(n)) => format!("{k} {n}"),
        _ => use_.to_string(),
    }
}

fn specs_of(fs: &Flowsheet, sim: &SimResult, opt: Option<&OptimizeResult>) -> Vec<SpecLine> {
    if let Some(o) = opt {
        return o
            .checks
            .iter()
            .map(|c| {
                // The optimizer's own verdict: it meets specs strictly (`spec_tol` 0), so a
                // spec the returned point misses by any amount is not shown as met.
                let pass = c.violation <= 0.0;
                let gap = (finite(c.value) - finite(c.limit)).abs();
                SpecLine {
                    name: c.name.clone(),
                    value: finite(c.value),
                    limit: finite(c.limit),
                    margin: if pass { gap } else { -gap },
                    unit: match c.kind {
                        sxplan_opt::RowKind::Capacity => "m3/h".into(),
                        sxplan_opt::RowKind::Loading => "mol/L".into(),
                        _ => "fraction".into(),
                    },
                    pass,
                }
            })
            .collect();
    }
    let mut out = Vec::new();
    for p in &sim.products {
        if let Some(s) = &p.purity_spec {
            let els: Vec<&str> = p.purity_elements.iter().map(|e| e.symbol()).collect();
            let value = if s.basis == "mole" {
                p.purity_mol
            } else {
                p.purity_reo_mass
            };
            out.push(SpecLine {
                // named as the optimizer names its check, so `compare` lines them up
                name: format!(
                    "purity {} {} >= {:.4} %",
                    p.id,
                    els.join("+"),
                    s.min * 100.0
                ),
                value: finite(value),
                limit: s.min,
                margin: finite(value) - s.min,
                unit: "fraction".into(),
                pass: s.met,
            });
        }
        if let Some(fp) = fs.products.iter().find(|q| q.name == p.id) {
            for r in &fp.recovery {
                let v = finite(p.recovery.get(&r.element).copied().unwrap_or(0.0));
                out.push(SpecLine {
                    name: format!(
                        "recovery {} {} >= {:.2} %",
                        p.id,
                        r.element.symbol(),
                        r.min * 100.0
                    ),
                    value: v,
                    limit: r.min,
                    margin: v - r.min,
                    unit: "fraction".into(),
                    pass: v >= r.min * (1.0 - 1e-9),
                });
            }
        }
    }
    out
}

/// Price of an element's oxide and its source: the flowsheet's `[prices.oxide]`, else the set.
fn oxide_source(fs: &Flowsheet, set: Option<&PriceSet>, e: Element) -> Option<String> {
    if let Some(p) = fs.prices.as_ref().and_then(|p| p.oxide.get(&e)) {
        return Some(format!(
            "{} {} US$/kg: {} ({})",
            e.oxide().formula,
            p.usd_per_kg,
            p.source.as_deref().unwrap_or("flowsheet, no source given"),
            p.date.as_deref().unwrap_or("undated")
        ));
    }
    let s = set?;
    let p = s.oxide(e)?;
    Some(format!(
        "{} {} US$/kg: price set {} ({}; {})",
        e.oxide().formula,
        p.usd_per_kg,
        s.id,
        p.provenance.source,
        p.provenance.quality.as_str()
    ))
}

fn reagent_source(fs: &Flowsheet, set: Option<&PriceSet>, name: &str) -> Option<String> {
    let model = match name {
        "HCl" => Some(Reagent::HCl),
        "H2SO4" => Some(Reagent::H2SO4),
        "HNO3" => Some(Reagent::HNO3),
        "NaOH" => Some(Reagent::NaOH),
        "NH3" => Some(Reagent::NH3),
        "oxalic_acid" => Some(Reagent::OxalicAcid),
        _ => None,
    };
    if let Some(p) = model.and_then(|r| fs.prices.as_ref().and_then(|p| p.reagent.get(&r))) {
        return Some(format!(
            "{name} {} US$/kg: {} ({})",
            p.usd_per_kg,
            p.source.as_deref().unwrap_or("flowsheet, no source given"),
            p.date.as_deref().unwrap_or("undated")
        ));
    }
    let chem = match name {
        "HCl" => ChemReagent::HydrochloricAcid,
        "NaOH" => ChemReagent::SodiumHydroxide,
        "NH3" => ChemReagent::Ammonia,
        "oxalic_acid" => ChemReagent::OxalicAcid,
        _ => return None,
    };
    let s = set?;
    let p = s.reagent(chem)?;
    Some(format!(
        "{name}: price set {} ({}; {}; {})",
        s.id,
        p.product,
        p.provenance.source,
        p.provenance.quality.as_str()
    ))
}

/// The overview of a simulated (and possibly optimized) flowsheet. Pass the flowsheet at the
/// simulated operating point (for an optimization, `OptimizeResult::flowsheet`).
pub fn overview(fs: &Flowsheet, sim: &SimResult, opt: Option<&OptimizeResult>) -> Overview {
    let hours = operating_hours(fs);
    let h = hours.value;
    let set = fs
        .prices
        .as_ref()
        .and_then(|p| p.set.as_deref())
        .and_then(price_set);
    let plant = plant_summary(
        fs,
        sim,
        opt,
        &PlantOptions {
            hours_per_year: h,
            top_bottlenecks: 10,
        },
    );
    let steady = sim.status.is_converged();
    let mut warnings = Vec::new();
    if !steady {
        warnings.push(format!(
            "the simulation ended {} at an iterate that is not a steady state: products, specs, costs and sizing are not reported",
            sim.status
        ));
    }
    let basis = match opt {
        Some(o) => format!(
            "optimized ({}; objective {})",
            o.status.as_str(),
            objective_name(o)
        ),
        None => "simulated".to_string(),
    };
    let mut ov = Overview {
        basis,
        status: sim.status.to_string(),
        operating_hours: hours,
        ..Overview::default()
    };
    if !steady {
        ov.warnings = warnings;
        return ov;
    }
    ov.operating_point = fs
        .optimize
        .iter()
        .flat_map(|o| o.free.iter())
        .filter_map(|f| {
            let v = sxplan_model::operating::get(fs, f.var).ok()?;
            let (unit, fac) = sxplan_model::operating::unit(fs, f.var);
            Some(OperatingLine {
                name: sxplan_model::operating::name(fs, f.var),
                value: finite(v * fac),
                unit: unit.to_string(),
            })
        })
        .collect();
    ov.specs = specs_of(fs, sim, opt);
    let mut price_sources: Vec<String> = Vec::new();
    let mut not_valued = Vec::new();
    if let Some(s) = set {
        price_sources.push(format!(
            "price set {} ({}, {}): {}",
            s.id, s.name, s.date, s.notes
        ));
    }
    for p in &plant.products {
        let valued = p.price_usd_per_kg.is_some();
        let src = if valued {
            p.main.first().and_then(|e| oxide_source(fs, set, *e))
        } else {
            None
        };
        if let Some(s) = &src {
            if !price_sources.contains(s) {
                price_sources.push(s.clone());
            }
        }
        for e in &p.main {
            if oxide_source(fs, set, *e).is_none() {
                let mixed = set
                    .and_then(|s| s.mixed_oxides.iter().find(|m| m.elements.contains(e)))
                    .map_or(String::new(), |m| {
                        format!(" (the set prices it only within {}, which is not applied to a single oxide)", m.product)
                    });
                warnings.push(format!(
                    "product {}: element {} has no price in {}{mixed}; give [prices.oxide] {} to value it",
                    p.name,
                    e.symbol(),
                    set.map_or("the flowsheet (no price set named)".to_string(), |s| format!("price set {}", s.id)),
                    e.symbol()
                ));
            }
        }
        ov.products.push(ProductYear {
            name: p.name.clone(),
            main: p
                .main
                .iter()
                .map(|e| e.symbol())
                .collect::<Vec<_>>()
                .join("+"),
            reo_t_per_year: p.oxide_t_per_year,
            purity_reo_mass: p.purity_reo_mass,
            usd_per_kg: p.price_usd_per_kg,
            value_usd_per_year: valued.then_some(p.value_usd_per_year),
            price_source: src,
        });
    }
    for (name, why) in &plant.economics.unvalued_products {
        not_valued.push(NotValued {
            item: format!("product {name}"),
            reason: why.clone(),
        });
    }
    ov.reo_t_per_year = plant.reo_t_per_year;
    for r in &plant.reagents {
        let src = r
            .usd_per_kg
            .and_then(|_| reagent_source(fs, set, &r.reagent));
        if let Some(s) = &src {
            if !price_sources.contains(s) {
                price_sources.push(s.clone());
            }
        }
        if r.usd_per_kg.is_none() {
            not_valued.push(NotValued {
                item: format!("reagent {}", r.reagent),
                reason: "no price in the flowsheet or the price set".into(),
            });
        }
        ov.reagents.push(ReagentYear {
            reagent: r.reagent.clone(),
            t_per_year: r.t_per_h * h,
            t_per_t_reo: r.t_per_t_reo,
            usd_per_kg: r.usd_per_kg,
            cost_usd_per_year: r.usd_per_kg.map(|_| r.cost_usd_per_year),
            price_source: src,
        });
    }
    let mut by_area: Vec<AreaCost> = Vec::new();
    for item in &sim.reagents.items {
        let area = area_of(&item.use_);
        let price = plant
            .reagents
            .iter()
            .find(|r| r.reagent == item.reagent)
            .and_then(|r| r.usd_per_kg);
        let idx = match by_area.iter().position(|a| a.area == area) {
            Some(i) => i,
            None => {
                by_area.push(AreaCost {
                    area,
                    ..AreaCost::default()
                });
                by_area.len() - 1
            }
        };
        let a = &mut by_area[idx];
        match price {
            Some(p) => a.cost_usd_per_year += finite(item.kg_per_h) * p * h,
            None => {
                if !a.unpriced.contains(&item.reagent) {
                    a.unpriced.push(item.reagent.clone());
                }
            }
        }
    }
    ov.binding = plant
        .bottlenecks
        .iter()
        .map(|b| Binding {
            rank: b.rank,
            constraint: b.constraint.clone(),
            value: b.value,
            unit: b.unit.clone(),
        })
        .collect();
    let (eq, nv) = equipment(fs, sim, set);
    not_valued.extend(nv);
    for s in &eq.price_sources {
        if !price_sources.contains(s) {
            price_sources.push(s.clone());
        }
    }
    ov.equipment = eq;
    let e = &plant.economics;
    ov.costs = Costs {
        price_set: e.price_set.clone(),
        product_value_usd_per_year: e.revenue_usd_per_year,
        reagent_cost_usd_per_year: e.reagent_cost_usd_per_year,
        operating_cost_usd_per_year: e.operating_cost_usd_per_year,
        margin_usd_per_year: e.margin_usd_per_year,
        by_area,
        price_sources,
        not_valued,
    };
    ov.warnings = warnings;
    ov
}

fn objective_name(o: &OptimizeResult) -> &'static str {
    match o.objective {
        sxplan_model::Objective::MaxThroughput => "max_throughput",
        sxplan_model::Objective::MinReagentCost => "min_reagent_cost",
        sxplan_model::Objective::MaxMargin => "max_margin",
    }
}

/// Money with thousands separators, no decimals (`-1,234,567`).
pub fn usd(x: f64) -> String {
    let r = finite(x).round();
    let neg = r < 0.0;
    let digits = format!("{:.0}", r.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if neg && out != "0" {
        format!("-{out}")
    } else {
        out
    }
}

/// A value in US$, or `not valued`.
pub fn usd_or(x: Option<f64>) -> String {
    x.map_or("not valued".to_string(), usd)
}

/// A value in US$ with its unit, or `not valued`.
fn usd_unit(x: Option<f64>, unit: &str) -> String {
    x.map_or("not valued".to_string(), |v| format!("{} {unit}", usd(v)))
}

/// A fraction or a flow with the precision it needs.
pub fn spec_value(x: f64, unit: &str) -> String {
    if unit == "fraction" {
        format!("{:.4} %", x * 100.0)
    } else {
        format!("{x:.4} {unit}")
    }
}

/// The overview as text with fixed float formatting (the top of `simulate` and `optimize`).
pub fn render_text(ov: &Overview) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "summary: {}, simulation {}", ov.basis, ov.status);
    let hrs = &ov.operating_hours;
    let _ = writeln!(
        o,
        "  annual figures at {:.0} h/year ({}: {})",
        hrs.value, hrs.quality, hrs.source
    );
    for w in &ov.warnings {
        let _ = writeln!(o, "  warning: {w}");
    }
    if !ov.operating_point.is_empty() {
        let _ = writeln!(o, "\noperating point ([optimize] free):");
        for v in &ov.operating_point {
            let _ = writeln!(o, "  {:<48} {:>14.6} {}", v.name, v.value, v.unit);
        }
    }
    if !ov.specs.is_empty() {
        let passed = ov.specs.iter().filter(|s| s.pass).count();
        let _ = writeln!(o, "\nspecs: {passed} of {} met", ov.specs.len());
        for s in &ov.specs {
            let _ = writeln!(
                o,
                "  {:<4} {:<48} value {:>14}  limit {:>14}  margin {:>14}",
                if s.pass { "pass" } else { "FAIL" },
                s.name,
                spec_value(s.value, &s.unit),
                spec_value(s.limit, &s.unit),
                spec_value(s.margin, &s.unit)
            );
        }
    }
    if !ov.products.is_empty() {
        let _ = writeln!(o, "\nproducts ({:.3} t REO/year):", ov.reo_t_per_year);
        for p in &ov.products {
            let _ = writeln!(
                o,
                "  {:<18} {:<8} {:>12.3} t REO/year  purity {:>9.4} % REO mass  {:>8}  {:>25}",
                p.name,
                p.main,
                p.reo_t_per_year,
                p.purity_reo_mass * 100.0,
                p.usd_per_kg.map_or("-".into(), |x| format!("{x:.2}/kg")),
                usd_unit(p.value_usd_per_year, "US$/year")
            );
        }
    }
    if !ov.reagents.is_empty() {
        let _ = writeln!(o, "\nreagents:");
        for r in &ov.reagents {
            let _ = writeln!(
                o,
                "  {:<12} {:>12.3} t/year  {:>9.3} t/t REO  {:>9}  {:>25}",
                r.reagent,
                r.t_per_year,
                r.t_per_t_reo,
                r.usd_per_kg.map_or("-".into(), |x| format!("{x:.4}/kg")),
                usd_unit(r.cost_usd_per_year, "US$/year")
            );
        }
    }
    let _ = writeln!(o, "\nwhat limits it:");
    if ov.binding.is_empty() {
        let _ = writeln!(
            o,
            "  {}",
            if ov.basis == "simulated" {
                "not optimized: `sxplan optimize` ranks the binding limits by shadow price"
            } else {
                "no limit binds at the optimum"
            }
        );
    }
    for b in &ov.binding {
        let _ = writeln!(
            o,
            "  {:>2}. {:<48} {:>14.4} {}",
            b.rank, b.constraint, b.value, b.unit
        );
    }
    let c = &ov.costs;
    if !ov.products.is_empty() || !ov.reagents.is_empty() {
        let _ = writeln!(
            o,
            "\ncosts at {}:",
            c.price_set.as_deref().unwrap_or("the flowsheet's prices")
        );
        let _ = writeln!(
            o,
            "  product value        {:>16} US$/year",
            usd(c.product_value_usd_per_year)
        );
        let _ = writeln!(
            o,
            "  reagents             {:>16} US$/year",
            usd(-c.reagent_cost_usd_per_year)
        );
        if c.operating_cost_usd_per_year != 0.0 {
            let _ = writeln!(
                o,
                "  other operating      {:>16} US$/year",
                usd(-c.operating_cost_usd_per_year)
            );
        }
        let _ = writeln!(
            o,
            "  margin               {:>16} US$/year (no capital, labour, energy or tailings cost{})",
            usd(c.margin_usd_per_year),
            if c.not_valued.is_empty() {
                ""
            } else {
                "; incomplete: leaves out what is not valued below"
            }
        );
        for a in &c.by_area {
            let un = if a.unpriced.is_empty() {
                String::new()
            } else {
                format!(" (not valued: {})", a.unpriced.join(", "))
            };
            let _ = writeln!(
                o,
                "  reagents of {:<24} {:>16} US$/year{un}",
                a.area,
                usd(a.cost_usd_per_year)
            );
        }
        for n in &c.not_valued {
            let _ = writeln!(o, "  not valued: {} ({})", n.item, n.reason);
        }
        for s in &c.price_sources {
            let _ = writeln!(o, "  price: {s}");
        }
    }
    let e = &ov.equipment;
    if !e.circuits.is_empty() {
        let _ = writeln!(o, "\nequipment and organic inventory:");
        for b in &e.basis {
            let _ = writeln!(
                o,
                "  basis: {} {} {} ({}: {})",
                b.name,
                fmt_basis(b.value),
                b.unit,
                b.quality,
                b.source
            );
        }
        for c in &e.circuits {
            let _ = writeln!(
                o,
                "  {:<12} {:>4} stages  largest stage {:.3} m3/h: mixer {:.3} m3, settler {:.3} m2; all stages: mixers {:.3} m3, settlers {:.3} m2; organic {:.3} m3 (settlers {:.3}, mixers {:.3}, pipework {:.3}); extractant {} {:.3} mol/L: {}",
                c.circuit,
                c.stages,
                c.max_stage_flow_m3_per_h,
                c.max_mixer_m3,
                c.max_settler_m2,
                c.mixer_m3,
                c.settler_m2,
                c.organic_m3,
                c.organic_settlers_m3,
                c.organic_mixers_m3,
                c.organic_pipework_m3,
                c.extractant,
                c.extractant_mol_per_l,
                usd_unit(c.extractant_value_usd, "US$")
            );
        }
        let _ = writeln!(
            o,
            "  plant: mixers {:.3} m3, settlers {:.3} m2, organic inventory {:.3} m3, priced extractant inventory {} US$",
            e.mixer_m3,
            e.settler_m2,
            e.organic_m3,
            usd(e.extractant_value_usd)
        );
    }
    o
}

/// A basis value with the digits it needs.
pub fn fmt_basis(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_is_sized_by_hand() {
        // 1,450 L/h aqueous + 4,300 L/h organic = 5.75 m3/h; 3 min -> 0.2875 m3 mixer;
        // 3 m3/(m2 h) -> 1.9167 m2 settler; 0.3 m organic -> 0.575 m3; organic share of the
        // mixer 4.3/5.75 -> 0.215 m3.
        let (m, a, os, om) = size_stage(1450.0, 4300.0, 0.05, 3.0, 0.3);
        assert!((m - 0.2875).abs() < 1e-12, "{m}");
        assert!((a - 5.75 / 3.0).abs() < 1e-12, "{a}");
        assert!((os - 0.575).abs() < 1e-12, "{os}");
        assert!((om - 0.215).abs() < 1e-12, "{om}");
    }

    #[test]
    fn reagent_uses_name_their_area() {
        assert_eq!(area_of("circuit PrNd scrub"), "circuit PrNd");
        assert_eq!(area_of("unit leach1 leach acid"), "unit leach1");
        assert_eq!(area_of("other"), "other");
    }

    #[test]
    fn basis_values_print_without_trailing_zeros() {
        assert_eq!(fmt_basis(3.0), "3");
        assert_eq!(fmt_basis(0.1), "0.1");
        assert_eq!(usd(-1234.4), "-1,234");
    }
}
