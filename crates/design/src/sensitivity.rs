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

/// W/W_min ratios of the default reflux curve.
pub const DEFAULT_REFLUX_RATIOS: [f64; 7] = [1.05, 1.1, 1.2, 1.3, 1.5, 2.0, 3.0];

/// Impurity multipliers of the default purity curve (10 = ten times the allowed impurity).
pub const DEFAULT_IMPURITY_FACTORS: [f64; 5] = [10.0, 3.0, 1.0, 0.3, 0.1];

/// Both default sensitivity curves of a cut.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// Stages against W/W_min ([`DEFAULT_REFLUX_RATIOS`]).
    pub vs_reflux: Vec<SensitivityPoint>,
    /// Stages against purity ([`DEFAULT_IMPURITY_FACTORS`]; points whose purities are not above
    /// the feed fractions are left out).
    pub vs_purity: Vec<SensitivityPoint>,
}

/// Computes both default curves.
pub fn sensitivity(spec: &CutSpec, options: &SearchOptions) -> Result<Sensitivity, DesignError> {
    Ok(Sensitivity {
        vs_reflux: stages_vs_reflux(spec, &DEFAULT_REFLUX_RATIOS, options)?,
        vs_purity: stages_vs_purity(spec, &DEFAULT_IMPURITY_FACTORS, options)?,
    })
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
    let mut out = Vec::with_capacity(impurity_factors.len());
    for &k in impurity_factors {
        let mut s = spec.clone();
        s.purity_a = 1.0 - (1.0 - spec.purity_a) * k;
        s.purity_b = 1.0 - (1.0 - spec.purity_b) * k;
        match point(&s, options) {
            Ok(p) => out.push(p),
            // A relaxed purity that is no longer above the feed fraction is not a design point.
            Err(DesignError::Unreachable(_)) | Err(DesignError::InvalidValue { .. }) if k > 1.0 => {
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
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
