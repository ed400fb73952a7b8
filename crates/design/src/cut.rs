//! The whole design of one cut: validated input, shortcut theory, rigorous stage search, where each
//! component goes, flows and reagents.
//!
//! A cut splits the feed components into an A group (extracted, organic product) and a B group
//! (raffinate). The heavy key A is the least extractable member of the A group, the light key B the
//! most extractable member of the B group; they must be neighbours in the order of extractability
//! (no component between them), and every component more extractable than A belongs to the A
//! group, every one less extractable than B to the B group. Purities are group purities: P_A is the
//! A-group fraction of the organic product, P_B the B-group fraction of the aqueous product. The
//! shortcut treats the cut as the pseudo-binary (x_A = A-group feed fraction, β = β_A/β_B); the
//! rigorous search simulates every component with its own β.

use serde::Serialize;

use crate::error::{open_fraction, positive, DesignError};
use crate::flows::{flows, Flows, ReagentBasis};
use crate::search::{minimum_stages, CascadeProblem, RigorousDesign, SearchOptions};
use crate::shortcut::{shortcut, FeedPhase, Reflux, Shortcut};

/// One feed component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// Name (an element symbol, or `A` / `B` for an abstract binary).
    pub name: String,
    /// Relative extractability in the extraction section (> 0, any common scale).
    pub sep_factor: f64,
    /// Relative extractability in the scrub section; `None` = same as `sep_factor`.
    pub sep_factor_scrub: Option<f64>,
    /// Feed amount (any unit; normalised to mole fractions).
    pub feed: f64,
}

/// Input of a cut design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CutSpec {
    /// Feed components, any order.
    pub components: Vec<Component>,
    /// Index of the heavy key A (organic product) in `components`.
    pub key_a: usize,
    /// Index of the light key B (aqueous product) in `components`.
    pub key_b: usize,
    /// Feed phase.
    pub feed_phase: FeedPhase,
    /// Required A-group purity of the organic product, in (0, 1).
    pub purity_a: f64,
    /// Required B-group purity of the aqueous product, in (0, 1).
    pub purity_b: f64,
    /// How W is chosen.
    pub reflux: Reflux,
    /// Extractant and acid data for flows and reagents; `None` skips them.
    pub reagents: Option<ReagentBasis>,
}

/// Group of a component in a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Extracted: leaves in the organic product.
    A,
    /// Not extracted: leaves in the raffinate.
    B,
}

/// Where one component goes in the rigorous design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentSplit {
    /// Component name.
    pub name: String,
    /// Its group.
    pub group: Group,
    /// Relative extractability (extraction section).
    pub sep_factor: f64,
    /// Mole fraction in the feed.
    pub x_feed: f64,
    /// Fraction of its feed leaving in the organic product.
    pub to_organic: f64,
    /// Fraction of its feed leaving in the aqueous product.
    pub to_aqueous: f64,
    /// Mole fraction in the organic product.
    pub x_organic_product: f64,
    /// Mole fraction in the aqueous product.
    pub x_aqueous_product: f64,
}

/// A complete cut design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CutDesign {
    /// Required purities.
    pub purity_a_spec: f64,
    /// Required purity of the aqueous product.
    pub purity_b_spec: f64,
    /// Heavy key name.
    pub key_a: String,
    /// Light key name.
    pub key_b: String,
    /// Shortcut theory of the pseudo-binary.
    pub shortcut: Shortcut,
    /// Rigorous stage search.
    pub rigorous: RigorousDesign,
    /// Per component distribution at the rigorous design, in input order (empty when not found).
    pub distribution: Vec<ComponentSplit>,
    /// Flows and reagents at the chosen S and W, when reagent data were given.
    pub flows: Option<Flows>,
}

/// Validated, normalised problem of a cut (shared by design and sensitivity).
pub(crate) struct Prepared {
    pub beta: Vec<f64>,
    pub beta_scrub: Vec<f64>,
    pub feed: Vec<f64>,
    pub in_group_a: Vec<bool>,
    pub x_a: f64,
    pub sep_factor: f64,
    pub sep_factor_scrub: f64,
}

pub(crate) fn prepare(spec: &CutSpec) -> Result<Prepared, DesignError> {
    let nc = spec.components.len();
    if nc < 2 {
        return Err(DesignError::Components(format!(
            "a cut needs at least two components, got {nc}"
        )));
    }
    for (name, k) in [("key_a", spec.key_a), ("key_b", spec.key_b)] {
        if k >= nc {
            return Err(DesignError::Components(format!(
                "{name} index {k} is outside 0..{nc}"
            )));
        }
    }
    let mut beta = Vec::with_capacity(nc);
    let mut beta_scrub = Vec::with_capacity(nc);
    let mut feed = Vec::with_capacity(nc);
    for c in &spec.components {
        beta.push(positive(
            &format!("component {} sep_factor", c.name),
            c.sep_factor,
        )?);
        beta_scrub.push(match c.sep_factor_scrub {
            Some(v) => positive(&format!("component {} sep_factor_scrub", c.name), v)?,
            None => c.sep_factor,
        });
        if !(c.feed.is_finite() && c.feed >= 0.0) {
            return Err(DesignError::InvalidValue {
                name: format!("component {} feed", c.name),
                value: c.feed,
                expected: "a finite number >= 0",
            });
        }
        feed.push(c.feed);
    }
    let total: f64 = feed.iter().sum();
    if total <= 0.0 {
        return Err(DesignError::Components("the feed is empty".to_string()));
    }
    for f in &mut feed {
        *f /= total;
    }
    let (ka, kb) = (spec.key_a, spec.key_b);
    let name = |i: usize| spec.components[i].name.as_str();
    if beta[ka] <= beta[kb] {
        return Err(DesignError::Components(format!(
            "key A {} (sep_factor {}) must be more extractable than key B {} (sep_factor {})",
            name(ka),
            beta[ka],
            name(kb),
            beta[kb]
        )));
    }
    if beta_scrub[ka] <= beta_scrub[kb] {
        return Err(DesignError::Components(format!(
            "key A {} must be more extractable than key B {} in the scrub section too",
            name(ka),
            name(kb)
        )));
    }
    let mut in_group_a = Vec::with_capacity(nc);
    for i in 0..nc {
        if i != ka && i != kb && beta[i] < beta[ka] && beta[i] > beta[kb] {
            return Err(DesignError::Components(format!(
                "{} (sep_factor {}) lies between the keys {} and {}; choose adjacent keys",
                name(i),
                beta[i],
                name(ka),
                name(kb)
            )));
        }
        in_group_a.push(i == ka || (i != kb && beta[i] >= beta[ka]));
    }
    if feed[ka] <= 0.0 || feed[kb] <= 0.0 {
        return Err(DesignError::Components(format!(
            "both keys must be in the feed ({} = {}, {} = {})",
            name(ka),
            sxplan_model::diagnostic::fmt_number(feed[ka]),
            name(kb),
            sxplan_model::diagnostic::fmt_number(feed[kb])
        )));
    }
    let x_a: f64 = feed
        .iter()
        .zip(&in_group_a)
        .filter(|(_, &a)| a)
        .map(|(f, _)| f)
        .sum();
    Ok(Prepared {
        sep_factor: beta[ka] / beta[kb],
        sep_factor_scrub: beta_scrub[ka] / beta_scrub[kb],
        beta,
        beta_scrub,
        feed,
        in_group_a,
        x_a,
    })
}

/// A-group mole fraction of the feed of `spec` (after validating components and keys).
pub fn group_fraction_a(spec: &CutSpec) -> Result<f64, DesignError> {
    Ok(prepare(spec)?.x_a)
}

/// Designs a cut: shortcut, rigorous minimum stages, distribution and flows.
pub fn design_cut(spec: &CutSpec, options: &SearchOptions) -> Result<CutDesign, DesignError> {
    open_fraction("purity_a", spec.purity_a)?;
    open_fraction("purity_b", spec.purity_b)?;
    let p = prepare(spec)?;
    let sc = shortcut(
        p.x_a,
        p.sep_factor,
        p.sep_factor_scrub,
        spec.purity_a,
        spec.purity_b,
        spec.feed_phase,
        spec.reflux,
    )?;
    let rigorous = rigorous_for(&p, spec, &sc, options)?;
    let distribution = match &rigorous.best {
        Some(best) => distribution(spec, &p, &best.organic_product, &best.aqueous_product),
        None => Vec::new(),
    };
    let flows = match &spec.reagents {
        Some(basis) => Some(flows(basis, &sc.chosen, sc.outlet.f_a, spec.feed_phase)?),
        None => None,
    };
    Ok(CutDesign {
        purity_a_spec: spec.purity_a,
        purity_b_spec: spec.purity_b,
        key_a: spec.components[spec.key_a].name.clone(),
        key_b: spec.components[spec.key_b].name.clone(),
        shortcut: sc,
        rigorous,
        distribution,
        flows,
    })
}

pub(crate) fn rigorous_for(
    p: &Prepared,
    spec: &CutSpec,
    sc: &Shortcut,
    options: &SearchOptions,
) -> Result<RigorousDesign, DesignError> {
    let problem = CascadeProblem {
        beta: p.beta.clone(),
        beta_scrub: p.beta_scrub.clone(),
        feed: p.feed.clone(),
        in_group_a: p.in_group_a.clone(),
        feed_phase: spec.feed_phase,
        s: sc.chosen.s,
        w: sc.chosen.w,
        purity_a: spec.purity_a,
        purity_b: spec.purity_b,
    };
    let start = match (sc.n_shortcut, sc.m_shortcut) {
        (Some(n), Some(m)) => Some((n.ceil() + m.ceil()) as usize),
        _ => None,
    };
    // Fenske bound is a strict lower bound on n + m; guard its conversion against huge values.
    let fenske = sc.n_min_fenske.ceil();
    let n_min = if fenske.is_finite() && fenske < options.max_stages as f64 {
        fenske.max(2.0) as usize
    } else {
        options.max_stages.saturating_add(1)
    };
    let ratio = match (sc.n_shortcut, sc.m_shortcut) {
        (Some(n), Some(m)) if n + m > 0.0 => Some(n / (n + m)),
        _ => None,
    };
    minimum_stages(&problem, sc.w_over_w_min, n_min, start, ratio, options)
}

fn distribution(
    spec: &CutSpec,
    p: &Prepared,
    organic: &[f64],
    aqueous: &[f64],
) -> Vec<ComponentSplit> {
    let org_total: f64 = organic.iter().sum();
    let aq_total: f64 = aqueous.iter().sum();
    let frac = |v: f64, t: f64| if t > 0.0 { v / t } else { 0.0 };
    spec.components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let o = organic.get(i).copied().unwrap_or(0.0);
            let a = aqueous.get(i).copied().unwrap_or(0.0);
            let out = o + a;
            ComponentSplit {
                name: c.name.clone(),
                group: if p.in_group_a[i] { Group::A } else { Group::B },
                sep_factor: p.beta[i],
                x_feed: p.feed[i],
                to_organic: frac(o, out),
                to_aqueous: frac(a, out),
                x_organic_product: frac(o, org_total),
                x_aqueous_product: frac(a, aq_total),
            }
        })
        .collect()
}

/// A binary cut A/B with separation factor `sep_factor` (A = `sep_factor`, B = 1).
pub fn binary_spec(
    sep_factor: f64,
    x_a: f64,
    purity_a: f64,
    purity_b: f64,
    feed_phase: FeedPhase,
    reflux: Reflux,
) -> CutSpec {
    CutSpec {
        components: vec![
            Component {
                name: "A".to_string(),
                sep_factor,
                sep_factor_scrub: None,
                feed: x_a,
            },
            Component {
                name: "B".to_string(),
                sep_factor: 1.0,
                sep_factor_scrub: None,
                feed: 1.0 - x_a,
            },
        ],
        key_a: 0,
        key_b: 1,
        feed_phase,
        purity_a,
        purity_b,
        reflux,
        reagents: None,
    }
}
