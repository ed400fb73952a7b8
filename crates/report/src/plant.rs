//! Plant summary of a whole flowsheet: what the main job (`sxplan optimize` on a plant such as
//! flowsheets/minamitorishima.toml) prints and writes. A pure function of the flowsheet, its
//! simulation and, when there is one, its optimization result.
//!
//! Figures: mud throughput (t/day), oxide output per product (t/year) with purity and recovery,
//! reagents per tonne of REO, stages per circuit, the binding limits with their shadow prices, the
//! margin at the flowsheet's dated prices, and the data provenance (which numbers are estimated or
//! illustrative).
//!
//! Valuation rule (conservative, stated in every rendering): a product is valued at the oxide
//! price of its purity element only when it has a purity specification that the simulation shows
//! met; mixed products and off-spec products are listed but not valued (no sourced payable for a
//! concentrate). The optimizer's own objective, which values every REY element delivered into any
//! product at its oxide price, is reported next to it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use sxplan_chem::prices::{price_set, PriceSet, PriceUnit, Reagent as ChemReagent};
use sxplan_chem::{Element, Quality};
use sxplan_model::{FeedKind, Flowsheet, Reagent};
use sxplan_opt::OptimizeResult;
use sxplan_sim::SimResult;

/// Settings of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantOptions {
    /// Operating hours per year used for annual figures.
    pub hours_per_year: f64,
    /// How many binding limits to list.
    pub top_bottlenecks: usize,
}

/// Operating hours per year of the default summary: 8,000 h (about 91 % availability).
/// Illustrative: no availability figure for this plant was found.
pub const DEFAULT_HOURS_PER_YEAR: f64 = 8000.0;

impl Default for PlantOptions {
    fn default() -> Self {
        PlantOptions {
            hours_per_year: DEFAULT_HOURS_PER_YEAR,
            top_bottlenecks: 5,
        }
    }
}

/// One mud feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MudLine {
    /// Feed name.
    pub feed: String,
    /// Grade id.
    pub grade: String,
    /// Dry mud, t/h.
    pub t_per_h: f64,
    /// Dry mud, t/day (24 h).
    pub t_per_day: f64,
}

/// One product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductLine {
    /// Product name.
    pub name: String,
    /// Element(s) of the purity specification, or the largest element of a mixed product.
    pub main: Vec<Element>,
    /// Oxide (REO) output, t/year.
    pub oxide_t_per_year: f64,
    /// Purity of `main` among the REY, oxide-mass basis.
    pub purity_reo_mass: f64,
    /// Minimum purity of the specification, if any.
    pub purity_min: Option<f64>,
    /// Source of the specification's grade, if given.
    pub purity_source: Option<String>,
    /// Whether the specification is met in simulation (None without a specification).
    pub spec_met: Option<bool>,
    /// Recovery of each `main` element from the plant feeds into this product.
    pub recovery: Vec<(Element, f64)>,
    /// Oxide price used, US$/kg (only for a single-element product on specification).
    pub price_usd_per_kg: Option<f64>,
    /// Value, US$/year (0 when not valued).
    pub value_usd_per_year: f64,
}

/// One reagent, summed over its uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReagentLine {
    /// Reagent name as the simulator reports it (`HCl`, `NaOH`, `NH3`, `oxalic_acid`, ...).
    pub reagent: String,
    /// Consumption, t/h (100 % basis; oxalic acid as the dihydrate).
    pub t_per_h: f64,
    /// Tonnes per tonne of REO in all products.
    pub t_per_t_reo: f64,
    /// Price used, US$ per kg on the basis above, if known.
    pub usd_per_kg: Option<f64>,
    /// Cost, US$/year (0 when unpriced).
    pub cost_usd_per_year: f64,
}

/// Stages of one circuit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitLine {
    /// Circuit name.
    pub name: String,
    /// Stages per section kind, in section order (sections of one kind summed).
    pub sections: Vec<(String, usize)>,
    /// Total stages.
    pub stages: usize,
}

/// A binding limit with its shadow price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bottleneck {
    /// Rank by magnitude (1 = largest).
    pub rank: usize,
    /// The limit.
    pub constraint: String,
    /// Value of the shadow price.
    pub value: f64,
    /// Unit of the shadow price.
    pub unit: String,
}

/// Economics at the flowsheet's prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantEconomics {
    /// Price set id and date, if the flowsheet names one.
    pub price_set: Option<String>,
    /// Value of the products on specification, US$/year.
    pub revenue_usd_per_year: f64,
    /// Reagent cost, US$/year.
    pub reagent_cost_usd_per_year: f64,
    /// Other operating cost of `[prices] operating_cost`, US$/year.
    pub operating_cost_usd_per_year: f64,
    /// Revenue minus costs, US$/year.
    pub margin_usd_per_year: f64,
    /// Margin per tonne of dry mud, US$/t (None without mud).
    pub margin_usd_per_t_mud: Option<f64>,
    /// The optimizer's objective value and unit, if optimized.
    pub optimizer_objective: Option<(f64, String)>,
    /// Reagents without a price.
    pub unpriced_reagents: Vec<String>,
    /// Products not valued, with the reason.
    pub unvalued_products: Vec<(String, String)>,
}

/// Data provenance of the flowsheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvenanceSummary {
    /// Number of data per quality tag (`measured`, `fitted`, `estimated`, `illustrative`,
    /// `untagged`).
    pub counts: BTreeMap<String, usize>,
    /// Estimated data: (item, source).
    pub estimated: Vec<(String, String)>,
    /// Illustrative data: (item, source).
    pub illustrative: Vec<(String, String)>,
    /// Data written without a quality tag.
    pub untagged: Vec<String>,
}

/// The plant summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantSummary {
    /// Flowsheet name.
    pub flowsheet: String,
    /// `optimized (<status>, <confirmation>)` or `simulated (no optimization)`.
    pub basis: String,
    /// Simulation status.
    pub sim_status: String,
    /// Mass balance: largest relative error over elements.
    pub balance_closure: f64,
    /// Mud feeds.
    pub mud: Vec<MudLine>,
    /// Total dry mud, t/day.
    pub mud_t_per_day: f64,
    /// Operating hours per year used.
    pub hours_per_year: f64,
    /// Products in flowsheet order.
    pub products: Vec<ProductLine>,
    /// Total oxide in all products, t/year.
    pub reo_t_per_year: f64,
    /// Reagents in first-use order.
    pub reagents: Vec<ReagentLine>,
    /// Stages per circuit.
    pub circuits: Vec<CircuitLine>,
    /// Stages in total.
    pub total_stages: usize,
    /// Binding limits (empty without an optimization).
    pub bottlenecks: Vec<Bottleneck>,
    /// Economics.
    pub economics: PlantEconomics,
    /// Data provenance.
    pub provenance: ProvenanceSummary,
}

fn chem_reagent(name: &str) -> Option<(ChemReagent, Option<Reagent>)> {
    match name {
        "HCl" => Some((ChemReagent::HydrochloricAcid, Some(Reagent::HCl))),
        "NaOH" => Some((ChemReagent::SodiumHydroxide, Some(Reagent::NaOH))),
        "NH3" => Some((ChemReagent::Ammonia, Some(Reagent::NH3))),
        "oxalic_acid" => Some((ChemReagent::OxalicAcid, Some(Reagent::OxalicAcid))),
        _ => None,
    }
}

fn model_reagent(name: &str) -> Option<Reagent> {
    match name {
        "H2SO4" => Some(Reagent::H2SO4),
        "HNO3" => Some(Reagent::HNO3),
        "extractant" => Some(Reagent::Extractant),
        other => chem_reagent(other).and_then(|(_, m)| m),
    }
}

/// US$/kg of a reagent on the simulator's basis: flowsheet price first, else the set's price per
/// kg of active chemical, else (grade not stated, per-kg quote) the quoted price.
fn reagent_price(fs: &Flowsheet, set: Option<&PriceSet>, name: &str) -> Option<f64> {
    if let (Some(p), Some(r)) = (fs.prices.as_ref(), model_reagent(name)) {
        if let Some(price) = p.reagent.get(&r) {
            return Some(price.usd_per_kg);
        }
    }
    let (cr, _) = chem_reagent(name)?;
    let rp = set?.reagent(cr)?;
    rp.usd_per_kg_active()
        .or(match (rp.unit, rp.active_mass_fraction) {
            (PriceUnit::UsdPerKg, None) => Some(rp.price),
            _ => None,
        })
}

fn oxide_price(fs: &Flowsheet, set: Option<&PriceSet>, e: Element) -> Option<f64> {
    if let Some(p) = fs.prices.as_ref().and_then(|p| p.oxide.get(&e)) {
        return Some(p.usd_per_kg);
    }
    set.and_then(|s| s.oxide(e)).map(|p| p.usd_per_kg)
}

fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Builds the plant summary from a flowsheet, its simulation and (optionally) the optimization
/// that produced the operating point. Pass the flowsheet at the operating point that was
/// simulated (for an optimization, `OptimizeResult::flowsheet`).
pub fn plant_summary(
    fs: &Flowsheet,
    sim: &SimResult,
    opt: Option<&OptimizeResult>,
    opts: &PlantOptions,
) -> PlantSummary {
    let hours = if opts.hours_per_year.is_finite() && opts.hours_per_year > 0.0 {
        opts.hours_per_year
    } else {
        DEFAULT_HOURS_PER_YEAR
    };
    let set = fs
        .prices
        .as_ref()
        .and_then(|p| p.set.as_deref())
        .and_then(price_set);

    let mud: Vec<MudLine> = fs
        .feeds
        .iter()
        .filter_map(|f| match &f.kind {
            FeedKind::Mud(m) => Some(MudLine {
                feed: f.name.clone(),
                grade: m.grade.clone(),
                t_per_h: finite(m.flow_mass),
                t_per_day: finite(m.flow_mass) * 24.0,
            }),
            _ => None,
        })
        .collect();
    let mud_t_per_day: f64 = mud.iter().map(|m| m.t_per_day).sum();

    let mut products = Vec::new();
    let mut unvalued = Vec::new();
    for p in &sim.products {
        let spec = fs.products.iter().find(|q| q.name == p.id);
        let purity = spec.and_then(|s| s.purity.as_ref());
        let main: Vec<Element> = if p.purity_elements.is_empty() {
            p.flow_mol_per_h
                .iter()
                .filter(|(e, _)| e.is_rey())
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(e, _)| vec![*e])
                .unwrap_or_default()
        } else {
            p.purity_elements.clone()
        };
        let spec_met = p.purity_spec.as_ref().map(|s| s.met);
        let recovery = main
            .iter()
            .map(|e| (*e, finite(p.recovery.get(e).copied().unwrap_or(0.0))))
            .collect();
        let oxide_t_per_year = finite(p.reo_kg_per_h) * hours / 1000.0;
        let mut price = None;
        let mut value = 0.0;
        match (purity, spec_met, main.as_slice()) {
            (Some(_), Some(true), [e]) => match oxide_price(fs, set, *e) {
                Some(pr) => {
                    price = Some(pr);
                    value = oxide_t_per_year * 1000.0 * pr;
                }
                None => {
                    unvalued.push((p.id.clone(), format!("no price for {}", e.oxide().formula)))
                }
            },
            (Some(_), Some(true), _) => {
                unvalued.push((p.id.clone(), "group product: no group price".to_string()))
            }
            (Some(_), _, _) => {
                unvalued.push((p.id.clone(), "purity specification not met".to_string()))
            }
            (None, _, _) => unvalued.push((
                p.id.clone(),
                "mixed product: no sourced concentrate payable".to_string(),
            )),
        }
        products.push(ProductLine {
            name: p.id.clone(),
            main,
            oxide_t_per_year,
            purity_reo_mass: finite(p.purity_reo_mass),
            purity_min: purity.map(|s| s.min),
            purity_source: purity.and_then(|s| s.source.clone()),
            spec_met,
            recovery,
            price_usd_per_kg: price,
            value_usd_per_year: value,
        });
    }
    let reo_t_per_year = finite(sim.reagents.reo_product_kg_per_h) * hours / 1000.0;

    let mut reagents: Vec<ReagentLine> = Vec::new();
    for r in &sim.reagents.items {
        let t = finite(r.kg_per_h) / 1000.0;
        match reagents.iter_mut().find(|x| x.reagent == r.reagent) {
            Some(x) => x.t_per_h += t,
            None => reagents.push(ReagentLine {
                reagent: r.reagent.clone(),
                t_per_h: t,
                t_per_t_reo: 0.0,
                usd_per_kg: reagent_price(fs, set, &r.reagent),
                cost_usd_per_year: 0.0,
            }),
        }
    }
    let reo_t_per_h = finite(sim.reagents.reo_product_kg_per_h) / 1000.0;
    let mut unpriced_reagents = Vec::new();
    for r in &mut reagents {
        r.t_per_t_reo = if reo_t_per_h > 0.0 {
            r.t_per_h / reo_t_per_h
        } else {
            0.0
        };
        match r.usd_per_kg {
            Some(p) => r.cost_usd_per_year = r.t_per_h * 1000.0 * p * hours,
            None => unpriced_reagents.push(r.reagent.clone()),
        }
    }

    let circuits: Vec<CircuitLine> = fs
        .circuits
        .iter()
        .map(|c| {
            let mut sections: Vec<(String, usize)> = Vec::new();
            for s in &c.sections {
                let k = s.kind.as_str().to_string();
                match sections.iter_mut().find(|(n, _)| *n == k) {
                    Some((_, n)) => *n += s.n_stages,
                    None => sections.push((k, s.n_stages)),
                }
            }
            CircuitLine {
                name: c.name.clone(),
                sections,
                stages: c.n_stages(),
            }
        })
        .collect();
    let total_stages = circuits.iter().map(|c| c.stages).sum();

    let mut bottlenecks: Vec<Bottleneck> = opt
        .map(|o| {
            o.shadow_prices
                .iter()
                .filter(|s| s.value.is_finite() && s.value != 0.0)
                .map(|s| Bottleneck {
                    rank: s.rank,
                    constraint: s.constraint.clone(),
                    value: s.value,
                    unit: s.unit.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    bottlenecks.sort_by_key(|b| b.rank);
    bottlenecks.truncate(opts.top_bottlenecks);

    let revenue: f64 = products.iter().map(|p| p.value_usd_per_year).sum();
    let reagent_cost: f64 = reagents.iter().map(|r| r.cost_usd_per_year).sum();
    let operating = fs
        .prices
        .as_ref()
        .and_then(|p| p.operating_cost_per_h)
        .map_or(0.0, |c| finite(c) * hours);
    let margin = revenue - reagent_cost - operating;
    let mud_t_per_year = mud_t_per_day / 24.0 * hours;
    let economics = PlantEconomics {
        price_set: set.map(|s| format!("{} ({}; {})", s.id, s.name, s.date)),
        revenue_usd_per_year: revenue,
        reagent_cost_usd_per_year: reagent_cost,
        operating_cost_usd_per_year: operating,
        margin_usd_per_year: margin,
        margin_usd_per_t_mud: (mud_t_per_year > 0.0).then(|| margin / mud_t_per_year),
        optimizer_objective: opt.map(|o| (finite(o.objective_value), o.objective_unit.clone())),
        unpriced_reagents,
        unvalued_products: unvalued,
    };

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut estimated = Vec::new();
    let mut illustrative = Vec::new();
    let mut untagged = Vec::new();
    for d in &fs.data_used {
        let tag = d.quality.map_or("untagged", Quality::as_str);
        *counts.entry(tag.to_string()).or_insert(0) += 1;
        match d.quality {
            Some(Quality::Estimated) => estimated.push((d.item.clone(), d.source.clone())),
            Some(Quality::Illustrative) => illustrative.push((d.item.clone(), d.source.clone())),
            None => untagged.push(d.item.clone()),
            _ => {}
        }
    }

    let basis = match opt {
        Some(o) => format!(
            "optimized ({}; {})",
            o.status.as_str(),
            o.confirmation
                .as_ref()
                .map_or("not simulated".to_string(), |c| format!(
                    "simulation: {}",
                    c.status
                ))
        ),
        None => "simulated (no optimization)".to_string(),
    };

    PlantSummary {
        flowsheet: fs.name.clone(),
        basis,
        sim_status: sim.status.as_str().to_string(),
        balance_closure: finite(sim.mass_balance.max_relative_error),
        mud,
        mud_t_per_day,
        hours_per_year: hours,
        products,
        reo_t_per_year,
        reagents,
        circuits,
        total_stages,
        bottlenecks,
        economics,
        provenance: ProvenanceSummary {
            counts,
            estimated,
            illustrative,
            untagged,
        },
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(3)).collect();
        t.push_str("...");
        t
    }
}

fn names(es: &[Element]) -> String {
    es.iter().map(|e| e.symbol()).collect::<Vec<_>>().join("+")
}

// money is formatted as in the report's summary (one implementation)
use crate::overview::usd;

/// The summary as plain text with fixed float formatting (what the main job prints).
pub fn render_text(s: &PlantSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "plant summary: {} — {}", s.flowsheet, s.basis);
    let _ = writeln!(
        o,
        "  simulation {}, mass balance closure {:.2e}; annual figures at {:.0} h/year (illustrative)",
        s.sim_status, s.balance_closure, s.hours_per_year
    );
    let _ = writeln!(o, "\nmud throughput: {:.1} t/day", s.mud_t_per_day);
    for m in &s.mud {
        let _ = writeln!(
            o,
            "  {:<16} grade {:<20} {:>8.3} t/h  {:>8.1} t/day",
            m.feed, m.grade, m.t_per_h, m.t_per_day
        );
    }
    let _ = writeln!(o, "\noxide products ({:.2} t REO/year):", s.reo_t_per_year);
    let _ = writeln!(
        o,
        "  {:<18} {:<8} {:>10} {:>10} {:>9} {:>5} {:>10} {:>9} {:>14}",
        "product",
        "main",
        "t/year",
        "purity %",
        "spec %",
        "met",
        "recovery %",
        "US$/kg",
        "US$/year"
    );
    for p in &s.products {
        let rec = p
            .recovery
            .first()
            .map_or("-".to_string(), |(_, r)| format!("{:.2}", r * 100.0));
        let _ = writeln!(
            o,
            "  {:<18} {:<8} {:>10.3} {:>10.4} {:>9} {:>5} {:>10} {:>9} {:>14}",
            p.name,
            names(&p.main),
            p.oxide_t_per_year,
            p.purity_reo_mass * 100.0,
            p.purity_min
                .map_or("-".to_string(), |m| format!("{:.3}", m * 100.0)),
            p.spec_met.map_or("-", |m| if m { "yes" } else { "NO" }),
            rec,
            p.price_usd_per_kg
                .map_or("-".to_string(), |x| format!("{x:.2}")),
            usd(p.value_usd_per_year)
        );
    }
    let _ = writeln!(o, "\nreagents:");
    let _ = writeln!(
        o,
        "  {:<12} {:>10} {:>12} {:>9} {:>14}",
        "reagent", "t/h", "t/t REO", "US$/kg", "US$/year"
    );
    for r in &s.reagents {
        let _ = writeln!(
            o,
            "  {:<12} {:>10.4} {:>12.3} {:>9} {:>14}",
            r.reagent,
            r.t_per_h,
            r.t_per_t_reo,
            r.usd_per_kg.map_or("-".to_string(), |x| format!("{x:.4}")),
            usd(r.cost_usd_per_year)
        );
    }
    let _ = writeln!(o, "\nstages: {} in total", s.total_stages);
    for c in &s.circuits {
        let secs: Vec<String> = c.sections.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(o, "  {:<10} {:>4}  ({})", c.name, c.stages, secs.join(", "));
    }
    let _ = writeln!(o, "\nbottlenecks (shadow prices at the optimum):");
    if s.bottlenecks.is_empty() {
        let _ = writeln!(o, "  none (not optimized, or no limit binds)");
    }
    for b in &s.bottlenecks {
        let _ = writeln!(
            o,
            "  {:>2}. {:<44} {:>14.4} {}",
            b.rank,
            short(&b.constraint, 44),
            b.value,
            b.unit
        );
    }
    let e = &s.economics;
    let _ = writeln!(
        o,
        "\nmargin at {}:",
        e.price_set.as_deref().unwrap_or("flowsheet prices")
    );
    let _ = writeln!(
        o,
        "  products on specification  {:>16} US$/year",
        usd(e.revenue_usd_per_year)
    );
    let _ = writeln!(
        o,
        "  reagents                   {:>16} US$/year",
        usd(-e.reagent_cost_usd_per_year)
    );
    if e.operating_cost_usd_per_year != 0.0 {
        let _ = writeln!(
            o,
            "  other operating cost       {:>16} US$/year",
            usd(-e.operating_cost_usd_per_year)
        );
    }
    let _ = writeln!(
        o,
        "  margin                     {:>16} US$/year{}",
        usd(e.margin_usd_per_year),
        e.margin_usd_per_t_mud
            .map_or(String::new(), |m| format!(" ({m:.2} US$/t mud)"))
    );
    let _ = writeln!(
        o,
        "  (valued: single-element products meeting their purity spec, at that oxide's price;"
    );
    let _ = writeln!(o, "   no capital, labour, energy or tailings cost)");
    if let Some((v, u)) = &e.optimizer_objective {
        let _ = writeln!(
            o,
            "  optimizer objective (every REY in any product at its oxide price): {v:.2} {u}"
        );
    }
    for (p, why) in &e.unvalued_products {
        let _ = writeln!(o, "  not valued: {p} ({why})");
    }
    if !e.unpriced_reagents.is_empty() {
        let _ = writeln!(o, "  unpriced reagents: {}", e.unpriced_reagents.join(", "));
    }
    let pv = &s.provenance;
    let counts: Vec<String> = pv.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(o, "\ndata provenance ({}):", counts.join(", "));
    for (item, src) in &pv.estimated {
        let _ = writeln!(
            o,
            "  estimated     {} — {}",
            short(item, 60),
            short(src, 90)
        );
    }
    for (item, src) in &pv.illustrative {
        let _ = writeln!(
            o,
            "  illustrative  {} — {}",
            short(item, 60),
            short(src, 90)
        );
    }
    for item in &pv.untagged {
        let _ = writeln!(o, "  untagged      {}", short(item, 60));
    }
    o
}

/// The summary as a versioned JSON document (`schema_version` 1, `kind` "plant_summary").
pub fn to_json(s: &PlantSummary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("schema_version".into(), 1.into());
        m.insert("kind".into(), "plant_summary".into());
    }
    v
}

/// The summary as Markdown (for the report folder).
pub fn render_markdown(s: &PlantSummary) -> String {
    format!(
        "# Plant summary: {}\n\n```text\n{}```\n",
        s.flowsheet,
        render_text(s)
    )
}

/// The price set the flowsheet names, if any.
fn flowsheet_set(fs: &Flowsheet) -> Option<&'static PriceSet> {
    fs.prices.as_ref()?.set.as_deref().and_then(price_set)
}

/// US$/kg of the oxide of `e` as the plant summary values it: the flowsheet's price, else its
/// price set's.
pub fn effective_oxide_price(fs: &Flowsheet, e: Element) -> Option<f64> {
    oxide_price(fs, flowsheet_set(fs), e)
}

/// US$/kg of reagent `name` (as the summary names reagents: `HCl`, `NaOH`, ...) as the plant
/// summary values it.
pub fn effective_reagent_price(fs: &Flowsheet, name: &str) -> Option<f64> {
    reagent_price(fs, flowsheet_set(fs), name)
}

/// The `[prices.reagent]` key of reagent `name`, when the flowsheet can price it.
pub fn reagent_key(name: &str) -> Option<Reagent> {
    model_reagent(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_thousands_separators_and_no_negative_zero() {
        assert_eq!(usd(0.0), "0");
        assert_eq!(usd(-0.4), "0");
        assert_eq!(usd(999.5), "1,000");
        assert_eq!(usd(-1_234_567.0), "-1,234,567");
        assert_eq!(usd(12_345.0), "12,345");
    }

    #[test]
    fn short_keeps_short_text_and_cuts_long_text() {
        assert_eq!(short("abc", 10), "abc");
        assert_eq!(short("abcdefghijkl", 8), "abcde...");
    }

    #[test]
    fn reagent_names_map_to_priced_reagents() {
        assert!(chem_reagent("HCl").is_some());
        assert!(chem_reagent("oxalic_acid").is_some());
        assert!(chem_reagent("kerosene").is_none());
        assert_eq!(model_reagent("H2SO4"), Some(Reagent::H2SO4));
    }
}
