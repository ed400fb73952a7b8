//! Uncertainty sweeps (docs/sweep.md): a manifest of distributions over flowsheet data and
//! operating variables, a seeded sample design (Latin hypercube or plain random), and one
//! sample run as a [`SampleRecord`] through [`super::run_scenario`], the same plant run and
//! summary `sxplan scenarios` uses.
//!
//! Sample `i`'s values depend only on the manifest (seed, sizes, distributions) and the base
//! flowsheet, never on the thread that runs it or on the shard, so any split of the work gives
//! the same records; the aggregates are `sxplan_report::sweep::aggregate` of the records sorted
//! by index.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, LogNormal, Normal};
use sxplan_chem::Element;
use sxplan_model::operating::{self, Measure, OperatingVarKind, Target};
use sxplan_model::{Equilibrium, FeedKind, Flowsheet, OperatingVar, Price, StageValues};
use sxplan_report::plant::PlantOptions;
use sxplan_report::sweep::{ProductInfo, ProductOutcome, SampleRecord, SweepHeader};

pub use sxplan_model::sweep::{
    located, parse_manifest, Distribution, FitSpec, InputSpec, Manifest, Mode, Sampling,
    MAX_SAMPLES,
};

/// The value of `d` at cumulative probability `u` in (0, 1) (`statrs` for the normal
/// quantile).
pub fn quantile(d: Distribution, u: f64) -> f64 {
    match d {
        Distribution::Normal { mean, sd } => Normal::new(mean, sd)
            .map(|n| n.inverse_cdf(u))
            .unwrap_or(f64::NAN),
        Distribution::LogNormal { median, sigma_ln } => LogNormal::new(median.ln(), sigma_ln)
            .map(|n| n.inverse_cdf(u))
            .unwrap_or(f64::NAN),
        Distribution::Uniform { low, high } => low + u * (high - low),
        Distribution::Triangular { low, mode, high } => {
            let f = (mode - low) / (high - low);
            if u < f {
                low + (u * (high - low) * (mode - low)).sqrt()
            } else {
                high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
            }
        }
    }
}

/// A datum a sweep input varies, resolved to the flowsheet's ids.
#[derive(Debug, Clone, PartialEq)]
enum Datum {
    Beta(usize, Element),
    KEx(usize, Element),
    D(usize, Element),
    EmpiricalB(usize, Element),
    FeedFlow(usize),
    MudGrade(usize),
    MudContent(usize, Element),
    FeedConc(usize, Element),
    UnitRecovery(usize, Element),
    OxidePrice(Element),
    ReagentPrice(String),
    Operating(OperatingVar),
}

/// Physical range of a datum's value.
fn bounds(fs: &Flowsheet, d: &Datum) -> (f64, f64) {
    match d {
        Datum::EmpiricalB(..) => (f64::NEG_INFINITY, f64::INFINITY),
        Datum::UnitRecovery(..) => (0.0, 1.0),
        Datum::FeedFlow(_) | Datum::MudContent(..) | Datum::FeedConc(..) | Datum::MudGrade(_) => {
            (0.0, f64::INFINITY)
        }
        Datum::Operating(v) => match v.kind().info().measure {
            Measure::Fraction => (0.0, 1.0),
            _ => {
                let _ = fs;
                (0.0, f64::INFINITY)
            }
        },
        // strictly positive: a separation factor, constant, D or price of 0 is no plant
        _ => (f64::MIN_POSITIVE, f64::INFINITY),
    }
}

fn element(s: &str) -> Result<Element, String> {
    Element::from_symbol(s).ok_or_else(|| format!("\"{s}\" is not an element symbol"))
}

fn mud_content(
    fs: &Flowsheet,
    m: &sxplan_model::MudFeed,
) -> std::collections::BTreeMap<Element, f64> {
    if !m.content_mol_per_kg.is_empty() {
        return m.content_mol_per_kg.clone();
    }
    fs.elements
        .iter()
        .map(|e| (*e, sxplan_opt::plant::mud_mol_per_t(m, *e) / 1000.0))
        .collect()
}

/// The unit a manifest writes `d`'s values in (absolute distributions, and the recorded
/// values) and the internal units per user unit: a flow in m3/h (t/h for mud), a
/// concentration in mol/L, mud content in mol/kg, a price in US$/kg, an operating variable in
/// the unit `[optimize] free` bounds use.
fn user_unit(fs: &Flowsheet, d: &Datum) -> (&'static str, f64) {
    match d {
        Datum::FeedFlow(f) => match fs.feeds.get(*f).map(|f| &f.kind) {
            Some(FeedKind::Mud(_)) => ("t/h", 1.0),
            _ => ("m3/h", 1000.0),
        },
        Datum::MudGrade(_) => ("x grade", 1.0),
        Datum::MudContent(..) => ("mol/kg", 1.0),
        Datum::FeedConc(..) => ("mol/L", 1.0),
        Datum::OxidePrice(_) | Datum::ReagentPrice(_) => ("US$/kg", 1.0),
        Datum::Operating(v) => {
            let (label, per_internal) = operating::unit(fs, *v);
            (label, 1.0 / per_internal)
        }
        Datum::Beta(..) | Datum::KEx(..) | Datum::D(..) | Datum::EmpiricalB(..) => ("-", 1.0),
        Datum::UnitRecovery(..) => ("fraction", 1.0),
    }
}

/// The value of `d` in `fs` (for a mud grade, the multiplier 1).
fn get(fs: &Flowsheet, d: &Datum) -> Option<f64> {
    let circuit = |c: usize| fs.circuits.get(c).map(|c| &c.equilibrium);
    match d {
        Datum::Beta(c, e) => match circuit(*c)? {
            Equilibrium::SeparationFactor(m) => m.beta.get(e).copied(),
            _ => None,
        },
        Datum::KEx(c, e) => match circuit(*c)? {
            Equilibrium::MassAction(m) => m.params.get(e).map(|p| p.k_ex),
            _ => None,
        },
        Datum::D(c, e) => match circuit(*c)? {
            Equilibrium::Distribution(m) => m.d_ratio.get(e).map(|v| match v {
                StageValues::Uniform(x) => *x,
                StageValues::PerSection(v) | StageValues::PerStage(v) => {
                    v.first().copied().unwrap_or(f64::NAN)
                }
            }),
            _ => None,
        },
        Datum::EmpiricalB(c, e) => match circuit(*c)? {
            Equilibrium::Empirical(m) => m.coef.get(e).map(|k| k.b),
            _ => None,
        },
        Datum::FeedFlow(f) => match &fs.feeds.get(*f)?.kind {
            FeedKind::Mud(m) => Some(m.flow_mass),
            FeedKind::Aqueous(s) | FeedKind::Organic(s) => Some(s.flow_vol),
        },
        Datum::MudGrade(f) => match &fs.feeds.get(*f)?.kind {
            FeedKind::Mud(_) => Some(1.0),
            _ => None,
        },
        Datum::MudContent(f, e) => match &fs.feeds.get(*f)?.kind {
            FeedKind::Mud(m) => mud_content(fs, m).get(e).copied(),
            _ => None,
        },
        Datum::FeedConc(f, e) => match &fs.feeds.get(*f)?.kind {
            FeedKind::Aqueous(s) | FeedKind::Organic(s) => s.conc_mol.get(e).copied(),
            FeedKind::Mud(_) => None,
        },
        Datum::UnitRecovery(u, e) => fs.units.get(*u).map(|u| u.fraction_to_outlet(*e)),
        Datum::OxidePrice(e) => sxplan_report::plant::effective_oxide_price(fs, *e),
        Datum::ReagentPrice(r) => sxplan_report::plant::effective_reagent_price(fs, r),
        Datum::Operating(v) => operating::get(fs, *v).ok(),
    }
}

fn sample_price(x: f64) -> Price {
    Price {
        usd_per_kg: x,
        date: None,
        source: Some("sxplan sweep sample".into()),
        quality: None,
    }
}

/// Writes `x` as the value of `d` (whose value in `fs` is `base`).
fn set(fs: &mut Flowsheet, d: &Datum, base: f64, x: f64) {
    let factor = if base != 0.0 { x / base } else { 1.0 };
    let scale = |v: &mut StageValues| match v {
        StageValues::Uniform(y) => *y *= factor,
        StageValues::PerSection(ys) | StageValues::PerStage(ys) => {
            ys.iter_mut().for_each(|y| *y *= factor)
        }
    };
    match d {
        Datum::Beta(c, e) => {
            if let Some(Equilibrium::SeparationFactor(m)) =
                fs.circuits.get_mut(*c).map(|c| &mut c.equilibrium)
            {
                m.beta.insert(*e, x);
                for b in m.beta_section.iter_mut().flatten() {
                    if let Some(y) = b.get_mut(e) {
                        *y *= factor;
                    }
                }
            }
        }
        Datum::KEx(c, e) => {
            if let Some(Equilibrium::MassAction(m)) =
                fs.circuits.get_mut(*c).map(|c| &mut c.equilibrium)
            {
                if let Some(p) = m.params.get_mut(e) {
                    p.k_ex = x;
                }
            }
        }
        Datum::D(c, e) => {
            if let Some(Equilibrium::Distribution(m)) =
                fs.circuits.get_mut(*c).map(|c| &mut c.equilibrium)
            {
                if let Some(v) = m.d_ratio.get_mut(e) {
                    scale(v);
                }
            }
        }
        Datum::EmpiricalB(c, e) => {
            if let Some(Equilibrium::Empirical(m)) =
                fs.circuits.get_mut(*c).map(|c| &mut c.equilibrium)
            {
                if let Some(k) = m.coef.get_mut(e) {
                    k.b = x;
                }
            }
        }
        Datum::FeedFlow(f) => match fs.feeds.get_mut(*f).map(|f| &mut f.kind) {
            Some(FeedKind::Mud(m)) => m.flow_mass = x,
            Some(FeedKind::Aqueous(s) | FeedKind::Organic(s)) => s.flow_vol = x,
            None => {}
        },
        Datum::MudGrade(f) | Datum::MudContent(f, _) => {
            let content = match fs.feeds.get(*f).map(|f| &f.kind) {
                Some(FeedKind::Mud(m)) => mud_content(fs, m),
                _ => return,
            };
            if let Some(FeedKind::Mud(m)) = fs.feeds.get_mut(*f).map(|f| &mut f.kind) {
                m.content_mol_per_kg = content;
                match d {
                    Datum::MudContent(_, e) => {
                        m.content_mol_per_kg.insert(*e, x);
                    }
                    _ => m.content_mol_per_kg.values_mut().for_each(|c| *c *= x),
                }
            }
        }
        Datum::FeedConc(f, e) => {
            if let Some(FeedKind::Aqueous(s) | FeedKind::Organic(s)) =
                fs.feeds.get_mut(*f).map(|f| &mut f.kind)
            {
                s.conc_mol.insert(*e, x);
            }
        }
        Datum::UnitRecovery(u, e) => {
            if let Some(u) = fs.units.get_mut(*u) {
                u.to_outlet.insert(*e, x);
            }
        }
        Datum::OxidePrice(e) => {
            if let Some(p) = fs.prices.as_mut() {
                p.oxide.insert(*e, sample_price(x));
            }
        }
        Datum::ReagentPrice(r) => {
            if let (Some(p), Some(k)) = (fs.prices.as_mut(), sxplan_report::plant::reagent_key(r)) {
                p.reagent.insert(k, sample_price(x));
            }
        }
        Datum::Operating(v) => {
            let _ = operating::set(fs, *v, x);
        }
    }
}

/// The `of` name of an operating variable's target, as `[optimize] free` writes it.
fn of_name(fs: &Flowsheet, t: Target) -> String {
    match t {
        Target::Feed(f) => fs.feeds.get(f.0).map_or(String::new(), |f| f.name.clone()),
        Target::Circuit(c) => fs
            .circuits
            .get(c.0)
            .map_or(String::new(), |c| c.name.clone()),
        Target::SplitterOutlet(s, k) => fs.splitters.get(s.0).map_or(String::new(), |s| {
            format!(
                "{}.{}",
                s.name,
                s.outlets.get(k).map_or("?", |o| o.0.as_str())
            )
        }),
        Target::CircuitSection(c, k) => fs.circuits.get(c.0).map_or(String::new(), |c| {
            format!(
                "{}.{}",
                c.name,
                c.sections.get(k).map_or("?", |s| s.name.as_str())
            )
        }),
    }
}

const TARGETS_HELP: &str = "targets: circuit.<C>.beta.<El>, circuit.<C>.k_ex.<El>, circuit.<C>.d.<El>, circuit.<C>.b.<El>, feed.<F>.flow, feed.<F>.grade, feed.<F>.content.<El>, feed.<F>.conc.<El>, unit.<U>.recovery.<El>, price.oxide.<El>, price.reagent.<name>, operating.<var>.<of> (docs/sweep.md)";

/// Resolves `target` against `fs`; the error says what the flowsheet has instead.
fn resolve(fs: &Flowsheet, target: &str) -> Result<Datum, String> {
    let parts: Vec<&str> = target.split('.').collect();
    let circuit = |name: &str| {
        fs.circuits
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = fs.circuits.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "no circuit \"{name}\" (the flowsheet has: {})",
                    names.join(", ")
                )
            })
    };
    let feed = |name: &str| {
        fs.feeds.iter().position(|f| f.name == name).ok_or_else(|| {
            let names: Vec<&str> = fs.feeds.iter().map(|f| f.name.as_str()).collect();
            format!(
                "no feed \"{name}\" (the flowsheet has: {})",
                names.join(", ")
            )
        })
    };
    let d = match parts.as_slice() {
        ["circuit", c, key, e] => {
            let (c, e) = (circuit(c)?, element(e)?);
            match *key {
                "beta" => Datum::Beta(c, e),
                "k_ex" => Datum::KEx(c, e),
                "d" => Datum::D(c, e),
                "b" => Datum::EmpiricalB(c, e),
                other => {
                    return Err(format!(
                        "unknown circuit datum \"{other}\" (beta, k_ex, d or b)"
                    ))
                }
            }
        }
        ["feed", f, "flow"] => Datum::FeedFlow(feed(f)?),
        ["feed", f, "grade"] => Datum::MudGrade(feed(f)?),
        ["feed", f, "content", e] => Datum::MudContent(feed(f)?, element(e)?),
        ["feed", f, "conc", e] => Datum::FeedConc(feed(f)?, element(e)?),
        ["unit", u, "recovery", e] => {
            let u = fs.units.iter().position(|x| x.name == *u).ok_or_else(|| {
                let names: Vec<&str> = fs.units.iter().map(|u| u.name.as_str()).collect();
                format!("no unit \"{u}\" (the flowsheet has: {})", names.join(", "))
            })?;
            Datum::UnitRecovery(u, element(e)?)
        }
        ["price", "oxide", e] => Datum::OxidePrice(element(e)?),
        ["price", "reagent", r] => Datum::ReagentPrice(r.to_string()),
        ["operating", var, of @ ..] if !of.is_empty() => {
            let kind: OperatingVarKind = var.parse().map_err(|_| {
                let names: Vec<&str> = OperatingVarKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown operating variable \"{var}\" (one of: {})",
                    names.join(", ")
                )
            })?;
            let of = of.join(".");
            let all = kind.instances(fs);
            let v = all
                .iter()
                .copied()
                .find(|v| of_name(fs, v.target()) == of)
                .ok_or_else(|| {
                    let names: Vec<String> = all.iter().map(|v| of_name(fs, v.target())).collect();
                    format!(
                        "the flowsheet has no {var} of \"{of}\" (it has: {})",
                        if names.is_empty() {
                            "none".into()
                        } else {
                            names.join(", ")
                        }
                    )
                })?;
            Datum::Operating(v)
        }
        _ => return Err(format!("\"{target}\" is not a sweep target")),
    };
    if matches!(d, Datum::OxidePrice(_) | Datum::ReagentPrice(_)) && fs.prices.is_none() {
        return Err("the flowsheet has no [prices] table to vary".into());
    }
    if matches!(&d, Datum::ReagentPrice(r) if sxplan_report::plant::reagent_key(r).is_none()) {
        return Err(format!("reagent \"{}\" cannot be priced in a flowsheet (HCl, NaOH, NH3, H2SO4, HNO3, oxalic acid, extractant)", parts[2]));
    }
    if get(fs, &d).is_none_or(|v| !v.is_finite()) {
        return Err(format!("the flowsheet has no value for {target} (the model or the feed kind does not have it, or no price is set)"));
    }
    Ok(d)
}

struct Resolved {
    datum: Datum,
    /// The flowsheet's value, internal units.
    base: f64,
    /// User unit label and internal units per user unit.
    unit: (&'static str, f64),
    spec: InputSpec,
    range: (f64, f64),
}

/// One parameter of an `sxplan fit` result, as a `[[fit]]` sets it into its circuit.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FitParam {
    /// log10 K of an element (mass action): K = 10^x.
    LogK(Element),
    /// The shared exponent n of the free dimer (mass action).
    N,
    /// The shared exponent z of [H+] (mass action).
    Z,
    /// The pH slope a of an element (empirical).
    A(Element),
    /// The change of the slope per mol/L of extractant (empirical).
    A1(Element),
    /// The intercept b (empirical).
    B(Element),
    /// The slope c in log10 extractant (empirical).
    C(Element),
}

/// The parameters of one `[[fit]]`, drawn jointly: x = mean + T z with z standard normal and
/// T T' = the fit's covariance (T from its symmetric eigendecomposition, so a covariance that
/// is only semi-definite, as with a parameter pinned by the data, is drawn too).
struct FitGroup {
    circuit: usize,
    params: Vec<FitParam>,
    names: Vec<String>,
    mean: Vec<f64>,
    /// T, row-major p x p.
    t: Vec<f64>,
}

/// Reads an `sxplan fit` document for circuit `circuit` of `fs`: the parameters, their
/// estimate and the square root of their covariance. The error is one line.
fn fit_group(fs: &Flowsheet, spec: &FitSpec, text: &str) -> Result<FitGroup, (bool, String)> {
    // (true, msg): the document's fault; (false, msg): the circuit's
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        (
            true,
            format!("{} is not an sxplan fit document ({e})", spec.data),
        )
    })?;
    if doc["kind"] != "fit" {
        return Err((
            true,
            format!("{} is not an sxplan fit document (no kind = \"fit\"): write it with sxplan fit --format json or --out", spec.data),
        ));
    }
    let model = doc["model"].as_str().unwrap_or("");
    let c = fs
        .circuits
        .iter()
        .position(|c| c.name == spec.circuit)
        .ok_or_else(|| {
            let names: Vec<&str> = fs.circuits.iter().map(|c| c.name.as_str()).collect();
            (
                false,
                format!(
                    "no circuit \"{}\" (the flowsheet has: {})",
                    spec.circuit,
                    names.join(", ")
                ),
            )
        })?;
    let fits_model = matches!(
        (model, &fs.circuits[c].equilibrium),
        ("mass_action", Equilibrium::MassAction(_)) | ("empirical", Equilibrium::Empirical(_))
    );
    if !fits_model {
        return Err((
            false,
            format!(
                "{} fits the {model} model, but circuit \"{}\" has another equilibrium model: paste the fit's fragment (fit.toml) into the circuit first",
                spec.data, spec.circuit
            ),
        ));
    }
    let bad = |what: String| (true, format!("{}: {what}", spec.data));
    let list = doc["params"]
        .as_array()
        .ok_or_else(|| bad("no params".into()))?;
    let mut params = Vec::new();
    let mut names = Vec::new();
    let mut mean = Vec::new();
    for p in list {
        let name = p["name"].as_str().unwrap_or("");
        let el = p["element"]
            .as_str()
            .map(|e| element(e).map_err(bad))
            .transpose()?;
        let param = match (name, el) {
            ("log10_k", Some(e)) => FitParam::LogK(e),
            ("n", None) => FitParam::N,
            ("z", None) => FitParam::Z,
            ("a", Some(e)) => FitParam::A(e),
            ("a1", Some(e)) => FitParam::A1(e),
            ("b", Some(e)) => FitParam::B(e),
            ("c", Some(e)) => FitParam::C(e),
            _ => return Err(bad(format!("unknown parameter \"{name}\""))),
        };
        let v = p["value"]
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(format!("parameter {name} has no finite value")))?;
        params.push(param);
        names.push(match el {
            Some(e) => format!("{} {name} {}", spec.name, e.symbol()),
            None => format!("{} {name}", spec.name),
        });
        mean.push(v);
    }
    let n = params.len();
    let cov = doc["covariance"]
        .as_array()
        .filter(|rows| rows.len() == n)
        .ok_or_else(|| bad(format!("the covariance is not {n} x {n}")))?;
    let mut m = nalgebra::DMatrix::<f64>::zeros(n, n);
    for (i, row) in cov.iter().enumerate() {
        let row = row
            .as_array()
            .filter(|r| r.len() == n)
            .ok_or_else(|| bad(format!("the covariance is not {n} x {n}")))?;
        for (j, x) in row.iter().enumerate() {
            m[(i, j)] = x.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
                bad("the covariance has a value that is not a finite number".into())
            })?;
        }
    }
    let sym = (&m + m.transpose()) * 0.5;
    let scale = sym.diagonal().iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    if (&m - &sym).amax() > 1e-9 * scale.max(f64::MIN_POSITIVE) {
        return Err(bad("the covariance is not symmetric".into()));
    }
    let eig = nalgebra::SymmetricEigen::new(sym);
    if eig.eigenvalues.iter().any(|&l| l < -1e-9 * scale) {
        return Err(bad("the covariance is not positive semi-definite".into()));
    }
    let root = nalgebra::DMatrix::from_diagonal(&eig.eigenvalues.map(|l| l.max(0.0).sqrt()));
    let t = &eig.eigenvectors * root;
    Ok(FitGroup {
        circuit: c,
        params,
        names,
        mean,
        t: (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| t[(i, j)])
            .collect(),
    })
}

/// Writes fitted parameter `p` = `x` into circuit `c` (elements the circuit's model does not
/// list are left out: they do not enter its equilibrium).
fn set_fit(fs: &mut Flowsheet, c: usize, p: FitParam, x: f64) {
    let Some(eq) = fs.circuits.get_mut(c).map(|c| &mut c.equilibrium) else {
        return;
    };
    match (eq, p) {
        (Equilibrium::MassAction(m), FitParam::LogK(e)) => {
            if let Some(q) = m.params.get_mut(&e) {
                q.k_ex = 10f64.powf(x);
            }
        }
        (Equilibrium::MassAction(m), FitParam::N) => {
            m.params.values_mut().for_each(|q| q.n_extractant = x)
        }
        (Equilibrium::MassAction(m), FitParam::Z) => {
            m.params.values_mut().for_each(|q| q.z_proton = x)
        }
        (
            Equilibrium::Empirical(m),
            FitParam::A(e) | FitParam::A1(e) | FitParam::B(e) | FitParam::C(e),
        ) => {
            if let Some(k) = m.coef.get_mut(&e) {
                match p {
                    FitParam::A(_) => k.a = x,
                    FitParam::A1(_) => k.a1 = x,
                    FitParam::B(_) => k.b = x,
                    _ => k.c = x,
                }
            }
        }
        _ => {}
    }
}

/// A sweep ready to run: the base flowsheet, the resolved inputs and the sample design.
pub struct Sweep {
    base: Flowsheet,
    inputs: Vec<Resolved>,
    fits: Vec<FitGroup>,
    /// Unit-cube coordinates, `samples` x (inputs + fitted parameters), row-major.
    design: Vec<f64>,
    mode: Mode,
    plant: PlantOptions,
    header: SweepHeader,
}

/// The 64-bit FNV-1a hash of the texts, as 16 hex digits.
fn hash(texts: &[&str]) -> String {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    for t in texts {
        h.write(t.as_bytes());
        h.write(&[0xff]);
    }
    format!("{:016x}", h.finish())
}

/// The unit-cube design of `n` samples over `d` inputs (row-major), from `seed` alone.
pub fn unit_design(sampling: Sampling, n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut u = vec![0.0; n * d];
    match sampling {
        Sampling::LatinHypercube => {
            let mut perm: Vec<usize> = (0..n).collect();
            for j in 0..d {
                perm.shuffle(&mut rng);
                for (i, &stratum) in perm.iter().enumerate() {
                    let off: f64 = rng.random();
                    u[i * d + j] = (stratum as f64 + off) / n as f64;
                }
            }
        }
        Sampling::Random => {
            for x in &mut u {
                *x = rng.random();
            }
        }
    }
    // keep away from 0 and 1, where unbounded quantiles are infinite
    for x in &mut u {
        *x = x.clamp(1e-12, 1.0 - 1e-12);
    }
    u
}

impl Sweep {
    /// Resolves `manifest` (from the text `manifest_text`, named `manifest_name`) against the
    /// flowsheet `fs` (from the text `flowsheet_text`), with the text of each `[[fit]]`'s
    /// document in `fit_texts` (same order). Errors are rendered and located in the manifest.
    pub fn new(
        manifest_name: &str,
        manifest_text: &str,
        manifest: &Manifest,
        fs: &Flowsheet,
        flowsheet_text: &str,
        fit_texts: &[String],
    ) -> Result<Sweep, String> {
        let mut inputs = Vec::new();
        for spec in &manifest.inputs {
            let datum = resolve(fs, &spec.target).map_err(|m| {
                located(
                    manifest_name,
                    manifest_text,
                    spec.target_span.clone(),
                    m,
                    Some(TARGETS_HELP.into()),
                )
            })?;
            if matches!(datum, Datum::MudGrade(_)) && !spec.relative {
                return Err(located(
                    manifest_name,
                    manifest_text,
                    spec.target_span.clone(),
                    format!("{} is a multiplier of the mud's REY content: its distribution must be relative", spec.target),
                    Some("write relative = true in its distribution".into()),
                ));
            }
            let base = get(fs, &datum).unwrap_or(f64::NAN);
            inputs.push(Resolved {
                range: bounds(fs, &datum),
                unit: user_unit(fs, &datum),
                datum,
                base,
                spec: spec.clone(),
            });
        }
        let mut fits = Vec::new();
        for (k, spec) in manifest.fits.iter().enumerate() {
            let text = fit_texts.get(k).map_or("", String::as_str);
            let g = fit_group(fs, spec, text).map_err(|(doc, m)| {
                let span = if doc {
                    spec.data_span.clone()
                } else {
                    spec.circuit_span.clone()
                };
                located(manifest_name, manifest_text, span, m, None)
            })?;
            fits.push(g);
        }
        let mut texts = vec![manifest_text, flowsheet_text];
        texts.extend(fit_texts.iter().map(String::as_str));
        let mut names: Vec<String> = manifest.inputs.iter().map(|i| i.name.clone()).collect();
        let mut units: Vec<String> = inputs.iter().map(|r| r.unit.0.to_string()).collect();
        for g in &fits {
            names.extend(g.names.iter().cloned());
            units.extend(g.params.iter().map(|p| {
                match p {
                    FitParam::LogK(_) => "log10",
                    _ => "-",
                }
                .to_string()
            }));
        }
        let dim = names.len();
        if manifest.samples.saturating_mul(dim) > sxplan_model::sweep::MAX_DESIGN_CELLS {
            return Err(located(
                manifest_name,
                manifest_text,
                manifest.samples_span.clone(),
                format!(
                    "{} samples of {dim} uncertain numbers make a design of {} cells, more than the {} sxplan holds",
                    manifest.samples,
                    manifest.samples.saturating_mul(dim),
                    sxplan_model::sweep::MAX_DESIGN_CELLS
                ),
                Some(format!(
                    "use at most {} samples, or run the sweep as several manifests",
                    sxplan_model::sweep::MAX_DESIGN_CELLS / dim.max(1)
                )),
            ));
        }
        let header = SweepHeader {
            sxplan_sweep: sxplan_report::sweep::SCHEMA_VERSION,
            manifest_hash: hash(&texts),
            flowsheet: manifest.flowsheet.clone(),
            samples: manifest.samples,
            seed: manifest.seed,
            sampling: manifest.sampling.as_str().into(),
            mode: manifest.mode.as_str().into(),
            inputs: names,
            units,
            products: fs
                .products
                .iter()
                .map(|p| ProductInfo {
                    name: p.name.clone(),
                    purity_min: p.purity.as_ref().map(|s| s.min),
                })
                .collect(),
            shard: [0, 1],
        };
        Ok(Sweep {
            base: fs.clone(),
            design: unit_design(manifest.sampling, manifest.samples, dim, manifest.seed),
            inputs,
            fits,
            mode: manifest.mode,
            plant: PlantOptions::default(),
            header,
        })
    }

    /// The header of the sample files (shard `[0, 1]`).
    pub fn header(&self) -> &SweepHeader {
        &self.header
    }

    /// The values sample `i` applies (after clamping), in the inputs' user units, and the
    /// inputs that were clamped.
    pub fn values(&self, i: usize) -> (Vec<f64>, Vec<String>) {
        let d = self.header.inputs.len();
        let mut clamped = Vec::new();
        let mut values: Vec<f64> = self
            .inputs
            .iter()
            .enumerate()
            .map(|(j, r)| {
                let q = quantile(r.spec.distribution, self.design[i * d + j]);
                let base = r.base / r.unit.1;
                let x = if r.spec.relative { base * q } else { q };
                let y = x.clamp(r.range.0, r.range.1);
                if y != x || !x.is_finite() {
                    clamped.push(r.spec.name.clone());
                }
                if y.is_finite() {
                    y
                } else {
                    base
                }
            })
            .collect();
        let std_normal = Normal::new(0.0, 1.0).ok();
        for g in &self.fits {
            let off = values.len();
            let p = g.params.len();
            let z: Vec<f64> = (0..p)
                .map(|k| {
                    let u = self.design[i * d + off + k];
                    std_normal.as_ref().map_or(0.0, |n| n.inverse_cdf(u))
                })
                .collect();
            for k in 0..p {
                let x = g.mean[k] + (0..p).map(|j| g.t[k * p + j] * z[j]).sum::<f64>();
                // n and z are exponents of a stoichiometry: positive
                let y = match g.params[k] {
                    FitParam::N | FitParam::Z => x.max(f64::MIN_POSITIVE),
                    _ => x,
                };
                if y != x || !x.is_finite() {
                    clamped.push(g.names[k].clone());
                }
                values.push(if y.is_finite() { y } else { g.mean[k] });
            }
        }
        (values, clamped)
    }

    /// The base flowsheet with sample `i`'s values applied.
    pub fn flowsheet(&self, i: usize) -> Flowsheet {
        let (values, _) = self.values(i);
        let mut fs = self.base.clone();
        for (r, x) in self.inputs.iter().zip(&values) {
            set(&mut fs, &r.datum, r.base, x * r.unit.1);
        }
        let mut k = self.inputs.len();
        for g in &self.fits {
            for p in &g.params {
                set_fit(&mut fs, g.circuit, *p, values[k]);
                k += 1;
            }
        }
        fs
    }

    /// Runs sample `i` (simulated, or optimized and simulated) and records it.
    pub fn run(&self, i: usize) -> SampleRecord {
        let (values, clamped) = self.values(i);
        let fs = self.flowsheet(i);
        let fin = |x: f64| x.is_finite().then_some(x);
        match super::run_scenario(&fs, self.mode == Mode::Optimize, &self.plant) {
            Ok(out) => {
                let s = &out.summary;
                let good = out.status == "converged" || out.status == "optimal";
                let products = self
                    .header
                    .products
                    .iter()
                    .map(|p| {
                        let line = s.products.iter().find(|l| l.name == p.name);
                        ProductOutcome {
                            purity: line.map_or(f64::NAN, |l| l.purity_reo_mass),
                            recovery: line.and_then(|l| l.recovery.first()).and_then(|r| fin(r.1)),
                            spec_met: line.and_then(|l| l.spec_met).map(|m| m && good),
                        }
                    })
                    .map(|mut o| {
                        if !o.purity.is_finite() {
                            o.purity = 0.0;
                            o.spec_met = o.spec_met.map(|_| false);
                        }
                        o
                    })
                    .collect();
                let reagent: f64 = s.reagents.iter().map(|r| r.t_per_t_reo).sum();
                let cost = (s.reo_t_per_year > 0.0)
                    .then(|| s.economics.reagent_cost_usd_per_year / s.reo_t_per_year);
                // a run that did not reach a steady state has no plant figures: its last
                // iterate is not a state of the plant
                let plant = |x: Option<f64>| x.filter(|_| good);
                SampleRecord {
                    index: i,
                    values,
                    clamped,
                    reason: out.reason.clone(),
                    status: out.status,
                    products: if good { products } else { Vec::new() },
                    margin_usd_per_year: plant(fin(s.economics.margin_usd_per_year)),
                    reagent_t_per_t_reo: plant(fin(reagent)),
                    reagent_cost_usd_per_t_reo: plant(cost.and_then(fin)),
                }
            }
            Err(e) => SampleRecord {
                index: i,
                values,
                clamped,
                status: "error".into(),
                reason: Some(e.to_string()),
                products: Vec::new(),
                margin_usd_per_year: None,
                reagent_t_per_t_reo: None,
                reagent_cost_usd_per_t_reo: None,
            },
        }
    }
}

/// Largest manifest read, in bytes.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Largest fit document read, in bytes.
const MAX_FIT_BYTES: u64 = 16 << 20;

/// Why a sweep could not be set up from its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepSetupError {
    /// The manifest or its flowsheet could not be read (the CLI's exit 2): one line.
    Io(String),
    /// The manifest, a fit document or the flowsheet is wrong (exit 1): the rendered, located
    /// diagnostics.
    Invalid(String),
}

impl std::fmt::Display for SweepSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepSetupError::Io(m) | SweepSetupError::Invalid(m) => f.write_str(m.trim_end()),
        }
    }
}

/// A sweep read from its manifest, with the flowsheet it runs (whose warnings a caller shows).
pub struct SweepSetup {
    /// The sweep, ready to run.
    pub sweep: Sweep,
    /// The flowsheet as read and checked.
    pub flowsheet: super::Loaded,
}

/// Reads the manifest at `path`, its flowsheet (relative to the manifest's directory, with its
/// includes under `options`) and its fit documents, and resolves the sweep: the one setup
/// `sxplan sweep` and the Python package use.
pub fn load_sweep(
    path: &std::path::Path,
    options: &super::LoadOptions,
) -> Result<SweepSetup, SweepSetupError> {
    let shown = super::shown_path(path);
    let bytes = super::files::read_capped(path, MAX_MANIFEST_BYTES, "sweep manifest")
        .map_err(SweepSetupError::Io)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        SweepSetupError::Invalid(format!(
            "error: `{shown}` is not valid UTF-8 (invalid byte at offset {}); save the manifest as UTF-8 TOML\n",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let manifest = parse_manifest(&shown, &text).map_err(SweepSetupError::Invalid)?;
    let dir = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let fs_path = dir.join(&manifest.flowsheet);
    let loaded = super::load_path(&fs_path, options).map_err(|e| match e {
        super::LoadError::Input { rendered, .. } => SweepSetupError::Invalid(rendered),
        other => SweepSetupError::Io(other.to_string()),
    })?;
    let fs = match loaded.flowsheet() {
        Ok(fs) => fs.clone(),
        Err(_) => {
            let n = loaded.error_count();
            return Err(SweepSetupError::Invalid(format!(
                "{}error: could not sweep `{}`: {n} error{}\n",
                loaded.render(),
                super::shown_path(&fs_path),
                if n == 1 { "" } else { "s" }
            )));
        }
    };
    let mut fit_texts = Vec::new();
    for f in &manifest.fits {
        let p = dir.join(&f.data);
        let read = super::files::read_capped(&p, MAX_FIT_BYTES, "fit document").and_then(|b| {
            String::from_utf8(b).map_err(|_| format!("`{}` is not UTF-8", super::shown_path(&p)))
        });
        match read {
            Ok(t) => fit_texts.push(t),
            Err(e) => {
                return Err(SweepSetupError::Invalid(located(
                    &shown,
                    &text,
                    f.data_span.clone(),
                    e,
                    Some("data names the fit document (sxplan fit --format json, or DIR/fit.json of sxplan fit --out DIR), relative to the manifest".into()),
                )))
            }
        }
    }
    let fs_text: Vec<&str> = loaded.sources.iter().map(|s| s.text.as_str()).collect();
    let sweep = Sweep::new(
        &shown,
        &text,
        &manifest,
        &fs,
        &fs_text.join("\n"),
        &fit_texts,
    )
    .map_err(SweepSetupError::Invalid)?;
    Ok(SweepSetup {
        sweep,
        flowsheet: loaded,
    })
}

/// Runs the samples `indices` of `sweep` on `jobs` threads (0 = one per core) and returns
/// their records in the order of `indices` (the same records for any `jobs`).
pub fn run_samples(
    sweep: &Sweep,
    indices: &[usize],
    jobs: usize,
) -> Result<Vec<SampleRecord>, String> {
    let pool = super::parallel::pool(jobs)?;
    let mut out = Vec::with_capacity(indices.len());
    super::parallel::run_in_order(
        indices,
        &pool,
        |&i| sweep.run(i),
        |r| {
            out.push(r);
            Ok::<(), String>(())
        },
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_hypercube_hits_every_stratum_once_per_input() {
        let (n, d) = (50, 3);
        let u = unit_design(Sampling::LatinHypercube, n, d, 7);
        for j in 0..d {
            let mut hit = vec![0; n];
            for i in 0..n {
                hit[(u[i * d + j] * n as f64) as usize] += 1;
            }
            assert!(hit.iter().all(|&h| h == 1), "input {j}: {hit:?}");
        }
        assert_eq!(u, unit_design(Sampling::LatinHypercube, n, d, 7));
        assert_ne!(u, unit_design(Sampling::LatinHypercube, n, d, 8));
    }

    #[test]
    fn quantiles_of_the_distributions() {
        let t = Distribution::Triangular {
            low: 0.0,
            mode: 1.0,
            high: 2.0,
        };
        assert!((quantile(t, 0.5) - 1.0).abs() < 1e-12);
        assert!((quantile(t, 0.125) - 0.5).abs() < 1e-12);
        let n = Distribution::Normal { mean: 1.0, sd: 0.1 };
        assert!((quantile(n, 0.975) - 1.195_996_398).abs() < 1e-6);
        let l = Distribution::LogNormal {
            median: 2.0,
            sigma_ln: 0.5,
        };
        assert!((quantile(l, 0.5) - 2.0).abs() < 1e-9);
        let u = Distribution::Uniform {
            low: 0.9,
            high: 1.1,
        };
        assert!((quantile(u, 0.25) - 0.95).abs() < 1e-12);
    }
}
