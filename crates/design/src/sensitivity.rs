//! Sensitivity of a cut design: stage numbers against product purity and against W/W_min, the
//! curves a designer reads before fixing a design.

use serde::Serialize;

use crate::cut::{prepare, rigorous_for, CutSpec};
use crate::error::DesignError;
use crate::search::{SearchOptions, SearchStatus};
use crate::shortcut::{shortcut, Reflux};

/// One point of a sensitivity curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensitivityPoint {
    /// Required purity of the organic product at this point.
    pub purity_a: f64,
    /// Required purity of the aqueous product at this point.
    pub purity_b: f64,
    /// W/W_min at this point.
    pub w_over_w_min: f64,
    /// W per unit feed.
    pub w: f64,
    /// Fenske minimum stages.
    pub n_min_fenske: f64,
    /// Xu's shortcut extraction stages.
    pub n_shortcut: Option<f64>,
    /// Xu's shortcut scrub stages.
    pub m_shortcut: Option<f64>,
    /// Rigorous search outcome.
    pub status: SearchStatus,
    /// Rigorous extraction stages (when found).
    pub n: Option<usize>,
    /// Rigorous scrub stages (when found).
    pub m: Option<usize>,
}

/// Stage numbers when W is set to each ratio × W_min (other inputs as in `spec`).
pub fn stages_vs_reflux(
    spec: &CutSpec,
    ratios: &[f64],
    options: &SearchOptions,
) -> Result<Vec<SensitivityPoint>, DesignError> {
    ratios
        .iter()
        .map(|&r| {
            let mut s = spec.clone();
            s.reflux = Reflux::RatioToMinimum(r);
            point(&s, options)
        })
        .collect()
}

/// Stage numbers when both impurity levels (1 − P_A, 1 − P_B) are multiplied by each factor.
pub fn stages_vs_purity(
    spec: &CutSpec,
    impurity_factors: &[f64],
    options: &SearchOptions,
) -> Result<Vec<SensitivityPoint>, DesignError> {
    impurity_factors
        .iter()
        .map(|&k| {
            let mut s = spec.clone();
            s.purity_a = 1.0 - (1.0 - spec.purity_a) * k;
            s.purity_b = 1.0 - (1.0 - spec.purity_b) * k;
            point(&s, options)
        })
        .collect()
}

fn point(spec: &CutSpec, options: &SearchOptions) -> Result<SensitivityPoint, DesignError> {
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
    let rig = rigorous_for(&p, spec, &sc, options)?;
    Ok(SensitivityPoint {
        purity_a: spec.purity_a,
        purity_b: spec.purity_b,
        w_over_w_min: sc.w_over_w_min,
        w: sc.chosen.w,
        n_min_fenske: sc.n_min_fenske,
        n_shortcut: sc.n_shortcut,
        m_shortcut: sc.m_shortcut,
        status: rig.status,
        n: rig.best.as_ref().map(|b| b.n),
        m: rig.best.as_ref().map(|b| b.m),
    })
}
