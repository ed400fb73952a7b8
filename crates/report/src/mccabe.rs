//! Data of a McCabe-Thiele-style diagram of a design (binary, or the key-group pseudo-binary): the stage-to-stage compositions of
//! the rigorous design cascade, the equilibrium curves and the operating lines.
//!
//! Coordinates are the mole fraction of the more extractable key A among the REE of each phase:
//! `x` in the aqueous, `y` in the organic. Within a stage of the constant-separation-factor
//! model the phases are at equilibrium, `y = beta x / (1 + (beta - 1) x)`; between stages `i` and
//! `i + 1` the organic leaving `i` meets the aqueous leaving `i + 1`, so the operating points are
//! `(x_{i+1}, y_i)`. The profile comes from [`sxplan_sim::cascade::solve_sf_cascade`] at the
//! design's S, W, n and m, the same model the design search used, so the steps are the rigorous
//! ones and not a graphical construction.

use sxplan_sim::cascade::{solve_sf_cascade, FeedPhase, SfCascadeSpec};

use crate::input::DesignView;

/// Everything the diagram draws.
#[derive(Debug, Clone, PartialEq)]
pub struct McCabeThiele {
    /// Separation factor in the extraction section.
    pub beta: f64,
    /// Separation factor in the scrub section.
    pub beta_scrub: f64,
    /// A fraction of the feed.
    pub x_feed: f64,
    /// Extraction stages.
    pub n: usize,
    /// Scrub stages.
    pub m: usize,
    /// Equilibrium points `(x_i, y_i)` of stages 1..=n+m.
    pub stages: Vec<(f64, f64)>,
    /// Operating points `(x_{i+1}, y_i)` between extraction stages (i < n).
    pub operating_extraction: Vec<(f64, f64)>,
    /// Operating points `(x_{i+1}, y_i)` between scrub stages (n < i < n + m) and across the
    /// feed stage (i = n).
    pub operating_scrub: Vec<(f64, f64)>,
    /// Status of the cascade solve (`converged`, ...).
    pub status: String,
    /// Number of components (more than 2: a key-group pseudo-binary).
    pub components: usize,
}

impl McCabeThiele {
    /// The staircase: equilibrium point, operating point, next equilibrium point, ...
    pub fn steps(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(2 * self.stages.len());
        for (i, &(x, y)) in self.stages.iter().enumerate() {
            out.push((x, y));
            if let Some(&(x_next, _)) = self.stages.get(i + 1) {
                out.push((x_next, y));
            }
        }
        out
    }
}

/// Equilibrium composition of the organic at aqueous A fraction `x` for separation factor `beta`.
pub fn equilibrium_y(beta: f64, x: f64) -> f64 {
    let d = 1.0 + (beta - 1.0) * x;
    if d > 0.0 {
        beta * x / d
    } else {
        0.0
    }
}

/// The diagram of a design with rigorous stage numbers; `None` when there are none or the
/// cascade cannot be solved. A multicomponent cut is drawn as the pseudo-binary of its key
/// groups (x, y = A-group fraction); its stage points then lie near, not on, the key pair's
/// equilibrium curve. A multicomponent cut with a different scrub-section separation factor is
/// not drawn (the per-component scrub factors are not in the result).
pub fn from_design(d: &DesignView) -> Option<McCabeThiele> {
    let (n, m) = (d.n?, d.m?);
    let good = |v: f64| v.is_finite() && v > 0.0;
    if !(good(d.sep_factor)
        && good(d.sep_factor_scrub)
        && good(d.s)
        && d.w.is_finite()
        && (0.0..=1.0).contains(&d.x_a))
    {
        return None;
    }
    // components: (beta, feed fraction, in group A)
    let comps: Vec<(f64, f64, bool)> = if d.distribution.len() > 2 {
        if d.sep_factor_scrub != d.sep_factor {
            return None;
        }
        d.distribution
            .iter()
            .map(|c| (c.sep_factor, c.x_feed, c.group.eq_ignore_ascii_case("a")))
            .collect()
    } else {
        vec![(d.sep_factor, d.x_a, true), (1.0, 1.0 - d.x_a, false)]
    };
    if comps
        .iter()
        .any(|c| !good(c.0) || !c.1.is_finite() || c.1 < 0.0)
    {
        return None;
    }
    let phase = if d.feed_phase == "organic" {
        FeedPhase::Organic
    } else {
        FeedPhase::Aqueous
    };
    cascade(
        &comps,
        phase,
        (n, m),
        (d.s, d.w),
        (d.sep_factor, d.sep_factor_scrub),
        d.x_a,
    )
}

/// The diagram of one cut sized by the synthesis shortcut (`sxplan synthesize`): the
/// pseudo-binary of its heavy side A (fraction `x_a` of the cut's feed) and light side B at the
/// key pair's separation factor `beta`, aqueous feed, at the shortcut's n, m, S and W. `None`
/// when the cascade cannot be solved.
pub fn from_cut(beta: f64, x_a: f64, n: usize, m: usize, s: f64, w: f64) -> Option<McCabeThiele> {
    let good = |v: f64| v.is_finite() && v > 0.0;
    if !(good(beta) && good(s) && w.is_finite() && (0.0..=1.0).contains(&x_a) && n > 0) {
        return None;
    }
    cascade(
        &[(beta, x_a, true), (1.0, 1.0 - x_a, false)],
        FeedPhase::Aqueous,
        (n, m),
        (s, w),
        (beta, beta),
        x_a,
    )
}

/// The rigorous constant-separation-factor cascade of `comps` (beta, feed fraction, in group
/// A) at stages (n, m) and flows (S, W), as the diagram's points.
fn cascade(
    comps: &[(f64, f64, bool)],
    feed_phase: FeedPhase,
    (n, m): (usize, usize),
    (s, w): (f64, f64),
    (beta, beta_scrub): (f64, f64),
    x_feed: f64,
) -> Option<McCabeThiele> {
    let spec = SfCascadeSpec {
        beta: comps.iter().map(|c| c.0).collect(),
        feed: comps.iter().map(|c| c.1).collect(),
        feed_phase,
        n_extraction: n,
        n_scrub: m,
        s,
        w,
        beta_scrub: if beta_scrub == beta {
            None
        } else {
            Some(vec![beta_scrub, 1.0])
        },
    };
    let r = solve_sf_cascade(&spec).ok()?;
    let frac = |v: &[f64]| -> f64 {
        let (mut a, mut total) = (0.0, 0.0);
        for (f, c) in v.iter().zip(comps) {
            total += f;
            if c.2 {
                a += f;
            }
        }
        if total > 0.0 {
            a / total
        } else {
            0.0
        }
    };
    let stages: Vec<(f64, f64)> = r
        .aq_profile
        .iter()
        .zip(&r.org_profile)
        .map(|(aq, org)| (frac(aq), frac(org)))
        .collect();
    let mut operating_extraction = Vec::new();
    let mut operating_scrub = Vec::new();
    for i in 0..stages.len().saturating_sub(1) {
        let p = (stages[i + 1].0, stages[i].1);
        // stage numbers are i + 1; stages 1..n are extraction
        if i + 1 < n {
            operating_extraction.push(p);
        } else {
            operating_scrub.push(p);
        }
    }
    Some(McCabeThiele {
        beta,
        beta_scrub,
        x_feed,
        n,
        m,
        stages,
        operating_extraction,
        operating_scrub,
        status: r.status.as_str().to_string(),
        components: comps.len(),
    })
}
