//! Shortcut cascade theory for a binary (or pseudo-binary) cut: Xu Guangxian's optimum extraction
//! ratios, minimum reflux, Fenske and Xu stage estimates, and the Kremser equation.
//!
//! # Configuration and conventions
//!
//! A two-section countercurrent cascade splits a feed into an organic product rich in A (the more
//! extractable component, or group of components) and an aqueous product (raffinate) rich in B.
//! Everything is per unit of REE feed (feed = 1 mol/time), as in Xu's theory. Stages 1..=n are the
//! extraction section, n+1..=n+m the scrub section; fresh (saponified, REE-free) organic enters
//! stage 1, REE-free scrub acid enters stage n+m (chemistry.md section 2.6).
//!
//! | symbol | identifier | unit | meaning |
//! |---|---|---|---|
//! | β, β' | `sep_factor`, `sep_factor_scrub` | - | D_A/D_B in the extraction and scrub sections |
//! | x_A, x_B | `x_a`, `x_b` | mol/mol | mole fractions of A and B in the REE feed |
//! | P_A, P_B | `purity_a`, `purity_b` | mol/mol | A fraction of the organic product, B fraction of the aqueous product |
//! | f'_A, f'_B | `f_a`, `f_b` | mol/mol feed | REE leaving in the organic / aqueous product |
//! | a, b | `a`, `b` | - | purification factors of the organic and aqueous outlets |
//! | S | `s` | mol/mol feed | organic REE flow in the extraction section ("extraction amount") |
//! | W | `w` | mol/mol feed | aqueous REE flow in the scrub section ("scrub amount") |
//! | E_M, E'_M | `e_m`, `e_prime_m` | - | mixed extraction ratios (organic REE / aqueous REE) per section |
//! | n, m | `n_shortcut`, `m_shortcut` | stages | extraction and scrub stages |
//!
//! # Equations
//!
//! - Outlet fractions (mass balance): f'_A = (P_B − x_B)/(P_A + P_B − 1), f'_B = 1 − f'_A.
//! - Purification factors: a = [P_A/(1 − P_A)]/(x_A/x_B), b = [P_B/(1 − P_B)]/(x_B/x_A).
//! - Section balances, aqueous feed: E_M = S/(W + 1), E'_M = S/W, S − W = f'_A;
//!   organic feed: E_M = S/W, E'_M = (S + 1)/W, S + 1 − W = f'_A.
//! - Xu's optimum (maximum output at fixed mixer volume, E_A·E_B = 1 in the controlling section):
//!   extraction-controlled E_M = 1/√β, or scrub-controlled E'_M = √β'. The section that controls is
//!   the one whose optimum leaves the other section at least its own optimum selectivity; with
//!   β' = β this is the published criterion f'_B > √β/(1 + √β) → extraction-controlled (aqueous
//!   feed). For an organic feed the same balance argument gives f'_A > √β/(1 + √β) →
//!   scrub-controlled; **that branch is derived here, not taken from a source** (chemistry.md 2.2).
//! - Minimum reflux (pinch at the feed, exact analogue of binary distillation with organic ↔
//!   vapour): aqueous feed W_min = f'_A (P_A − y*)/(y* − x_A), y* = βx_A/(1 + (β − 1)x_A),
//!   S_min = W_min + f'_A; organic feed W_min = f'_A (P_A − x_A)/(x_A − x*),
//!   x* = x_A/(β − (β − 1)x_A), S_min = W_min + f'_A − 1 (chemistry.md 2.5, derived and verified
//!   numerically there; β is the feed-stage section's: β for an aqueous feed, β' for an organic feed).
//! - Fenske (total reflux): N_min = ln(a·b)/ln β.
//! - Xu's shortcut (dilute-end extraction ratios E_B ≈ E_M, E'_A ≈ E'_M):
//!   n = ln b / ln(β E_M), m = ln a / ln(β'/E'_M); no "+1" feed-stage convention is applied.
//! - Kremser (single solute, constant extraction factor E = D·O/A, organic inlet concentration y_in):
//!   (x_in − y_in/D)/(x_out − y_in/D) = (E^(N+1) − 1)/(E − 1), so
//!   N = ln{[(x_in − y_in/D)/(x_out − y_in/D)](1 − 1/E) + 1/E}/ln E, and ratio = N + 1 at E = 1.
//!
//! # Validity
//!
//! Constant separation factor per section and constant mixed extraction ratio per section (Xu's
//! model); Murphree efficiency 1. The stage formulas use dilute-end ratios and under-count by a few
//! stages when compositions near the feed are far from dilute (β = 2, x_A = 0.5: 21.1 + 19.9 vs a
//! rigorous 24 + 22); [`crate::search`] corrects them with the rigorous simulator. For a
//! multicomponent feed the key pair's β and the A- and B-group fractions are used (pseudo-binary),
//! which makes W_min approximate.
//!
//! # Sources
//!
//! Xu Guangxian's theory of countercurrent extraction as given by Zhang, Zhao & Schreiner (2016),
//! *Separation Hydrometallurgy of Rare Earth Elements*, Springer, cascade chapter (via KitchinHUB
//! ree-book ch. 3) [S2]; Cheng et al., *Adv. Mater. Phys. Chem.* 4 (2014) 275 (minimum amounts);
//! derivations and numerical checks in shared/reference/chemistry.md sections 2.1-2.6 [D].

use serde::Serialize;

use crate::error::{open_fraction, positive, DesignError};

/// Which phase carries the feed into the cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedPhase {
    /// Aqueous feed entering the last extraction stage (stage n).
    Aqueous,
    /// Loaded organic feed entering the first scrub stage (stage n + 1).
    Organic,
}

impl FeedPhase {
    /// Lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedPhase::Aqueous => "aqueous",
            FeedPhase::Organic => "organic",
        }
    }
}

/// Which section limits the output at Xu's optimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Control {
    /// Extraction-controlled: E_M = 1/√β.
    Extraction,
    /// Scrub-controlled: E'_M = √β'.
    Scrub,
}

impl Control {
    /// Lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Control::Extraction => "extraction",
            Control::Scrub => "scrub",
        }
    }
}

/// Outlet fractions and recoveries of a binary cut.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OutletFractions {
    /// f'_A: REE leaving in the organic (A) product per unit feed.
    pub f_a: f64,
    /// f'_B = 1 − f'_A: REE leaving in the aqueous (B) product per unit feed.
    pub f_b: f64,
    /// Recovery of A into the organic product, Y_A = f'_A P_A / x_A.
    pub recovery_a: f64,
    /// Recovery of B into the aqueous product, Y_B = f'_B P_B / x_B.
    pub recovery_b: f64,
}

/// f'_A = (P_B − x_B)/(P_A + P_B − 1) and f'_B = 1 − f'_A, with the recoveries.
///
/// Requires 0 < x_A < 1, P_A > x_A and P_B > x_B (each product purer than the feed); then
/// 0 < f'_A < 1 follows.
pub fn outlet_fractions(
    x_a: f64,
    purity_a: f64,
    purity_b: f64,
) -> Result<OutletFractions, DesignError> {
    let x_a = open_fraction("x_a", x_a)?;
    let purity_a = open_fraction("purity_a", purity_a)?;
    let purity_b = open_fraction("purity_b", purity_b)?;
    let x_b = 1.0 - x_a;
    if purity_a <= x_a {
        return Err(DesignError::Unreachable(format!(
            "purity_a {purity_a} is not above the feed's A fraction {x_a}"
        )));
    }
    if purity_b <= x_b {
        return Err(DesignError::Unreachable(format!(
            "purity_b {purity_b} is not above the feed's B fraction {x_b}"
        )));
    }
    let f_a = (purity_b - x_b) / (purity_a + purity_b - 1.0);
    let f_b = 1.0 - f_a;
    Ok(OutletFractions {
        f_a,
        f_b,
        recovery_a: f_a * purity_a / x_a,
        recovery_b: f_b * purity_b / x_b,
    })
}

/// Product purities (P_A, P_B) from any two of P_A, P_B, Y_A, Y_B with at least one purity.
///
/// From the component balances with x_A + x_B = 1: given P_A and Y_A, f'_A = Y_A x_A / P_A and
/// P_B = (x_B − f'_A (1 − P_A))/(1 − f'_A); given P_A and Y_B, f'_A = x_B (1 − Y_B)/(1 − P_A) and
/// P_B = Y_B x_B/(1 − f'_A); symmetrically for P_B with Y_B or Y_A.
pub fn purities_from_specs(
    x_a: f64,
    purity_a: Option<f64>,
    purity_b: Option<f64>,
    recovery_a: Option<f64>,
    recovery_b: Option<f64>,
) -> Result<(f64, f64), DesignError> {
    let x_a = open_fraction("x_a", x_a)?;
    let x_b = 1.0 - x_a;
    let check = |name: &str, v: Option<f64>| v.map(|v| open_fraction(name, v)).transpose();
    let (pa, pb) = (check("purity_a", purity_a)?, check("purity_b", purity_b)?);
    let (ya, yb) = (
        check("recovery_a", recovery_a)?,
        check("recovery_b", recovery_b)?,
    );
    let given = [pa, pb, ya, yb].iter().filter(|v| v.is_some()).count();
    if given != 2 || (pa.is_none() && pb.is_none()) {
        return Err(DesignError::Unreachable(
            "give exactly two of purity_a, purity_b, recovery_a, recovery_b, at least one a purity"
                .to_string(),
        ));
    }
    let (p_a, p_b) = match (pa, pb, ya, yb) {
        (Some(p_a), Some(p_b), _, _) => (p_a, p_b),
        (Some(p_a), None, Some(y_a), None) => {
            let f_a = y_a * x_a / p_a;
            (p_a, (x_b - f_a * (1.0 - p_a)) / (1.0 - f_a))
        }
        (Some(p_a), None, None, Some(y_b)) => {
            let f_a = x_b * (1.0 - y_b) / (1.0 - p_a);
            (p_a, y_b * x_b / (1.0 - f_a))
        }
        (None, Some(p_b), None, Some(y_b)) => {
            let f_b = y_b * x_b / p_b;
            ((x_a - f_b * (1.0 - p_b)) / (1.0 - f_b), p_b)
        }
        (None, Some(p_b), Some(y_a), None) => {
            let f_b = x_a * (1.0 - y_a) / (1.0 - p_b);
            (y_a * x_a / (1.0 - f_b), p_b)
        }
        _ => return unreachable_pair(),
    };
    if !(p_a.is_finite() && p_a > x_a && p_a < 1.0 && p_b.is_finite() && p_b > x_b && p_b < 1.0) {
        return Err(DesignError::Unreachable(format!(
            "these specs give purity_a = {p_a} and purity_b = {p_b}; each must lie between its feed fraction ({x_a}, {x_b}) and 1"
        )));
    }
    Ok((p_a, p_b))
}

fn unreachable_pair() -> Result<(f64, f64), DesignError> {
    Err(DesignError::Unreachable(
        "give exactly two of purity_a, purity_b, recovery_a, recovery_b, at least one a purity"
            .to_string(),
    ))
}

/// Purification factors (a, b): a = [P_A/(1 − P_A)]/(x_A/x_B), b = [P_B/(1 − P_B)]/(x_B/x_A).
pub fn purification_factors(
    x_a: f64,
    purity_a: f64,
    purity_b: f64,
) -> Result<(f64, f64), DesignError> {
    let x_a = open_fraction("x_a", x_a)?;
    let purity_a = open_fraction("purity_a", purity_a)?;
    let purity_b = open_fraction("purity_b", purity_b)?;
    let x_b = 1.0 - x_a;
    let a = (purity_a / (1.0 - purity_a)) / (x_a / x_b);
    let b = (purity_b / (1.0 - purity_b)) / (x_b / x_a);
    Ok((a, b))
}

/// Operating point of the two sections: extraction and scrub amounts and mixed extraction ratios.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SectionRatios {
    /// S: organic REE flow in the extraction section, mol per mol feed.
    pub s: f64,
    /// W: aqueous REE flow in the scrub section, mol per mol feed.
    pub w: f64,
    /// E_M: mixed extraction ratio of the extraction section.
    pub e_m: f64,
    /// E'_M: mixed extraction ratio of the scrub section.
    pub e_prime_m: f64,
}

/// Section ratios for a given scrub amount W (per unit feed) from the section balances.
///
/// Aqueous feed: S = W + f'_A, E_M = S/(W + 1), E'_M = S/W. Organic feed: S = W + f'_A − 1,
/// E_M = S/W, E'_M = (S + 1)/W. Returns an error when W ≤ 0 or, for an organic feed, when W
/// is too small to give S > 0.
pub fn ratios_from_scrub(
    w: f64,
    f_a: f64,
    feed_phase: FeedPhase,
) -> Result<SectionRatios, DesignError> {
    let w = positive("w", w)?;
    let f_a = open_fraction("f_a", f_a)?;
    match feed_phase {
        FeedPhase::Aqueous => {
            let s = w + f_a;
            Ok(SectionRatios {
                s,
                w,
                e_m: s / (w + 1.0),
                e_prime_m: s / w,
            })
        }
        FeedPhase::Organic => {
            let s = w + f_a - 1.0;
            if s <= 0.0 {
                return Err(DesignError::InvalidValue {
                    name: "w".to_string(),
                    value: w,
                    expected:
                        "a scrub amount above f'_B for an organic feed (S = W + f'_A - 1 > 0)",
                });
            }
            Ok(SectionRatios {
                s,
                w,
                e_m: s / w,
                e_prime_m: (s + 1.0) / w,
            })
        }
    }
}

/// Xu's optimum extraction ratios: which section controls and the resulting S, W, E_M, E'_M.
///
/// Tries the extraction-controlled optimum E_M = 1/√β first; it holds when it leaves the scrub
/// section E'_M ≤ √β' (spare selectivity there). Otherwise the cascade is scrub-controlled with
/// E'_M = √β'. With β' = β this reproduces the boundary f'_B = √β/(1 + √β) (aqueous feed) and
/// f'_A = √β/(1 + √β) (organic feed, derived).
pub fn xu_optimum(
    sep_factor: f64,
    sep_factor_scrub: f64,
    f_a: f64,
    feed_phase: FeedPhase,
) -> Result<(Control, SectionRatios), DesignError> {
    let beta = greater_than_one("sep_factor", sep_factor)?;
    let beta_s = greater_than_one("sep_factor_scrub", sep_factor_scrub)?;
    let f_a = open_fraction("f_a", f_a)?;
    let f_b = 1.0 - f_a;
    let e_m = 1.0 / beta.sqrt();
    // Extraction-controlled candidate: W from the balance with E_M fixed.
    let w_ext = match feed_phase {
        // S = E_M (W + 1), S − W = f'_A  =>  W = (E_M − f'_A)/(1 − E_M)
        FeedPhase::Aqueous => (e_m - f_a) / (1.0 - e_m),
        // S = E_M W, S + 1 − W = f'_A  =>  W = f'_B/(1 − E_M)
        FeedPhase::Organic => f_b / (1.0 - e_m),
    };
    if w_ext > 0.0 {
        let r = ratios_from_scrub(w_ext, f_a, feed_phase)?;
        if r.e_prime_m <= beta_s.sqrt() {
            return Ok((Control::Extraction, r));
        }
    }
    let e_prime_m = beta_s.sqrt();
    let w = match feed_phase {
        // S = E'_M W, S − W = f'_A  =>  W = f'_A/(E'_M − 1)
        FeedPhase::Aqueous => f_a / (e_prime_m - 1.0),
        // S + 1 = E'_M W, S + 1 − W = f'_A  =>  W = f'_A/(E'_M − 1)
        FeedPhase::Organic => f_a / (e_prime_m - 1.0),
    };
    Ok((Control::Scrub, ratios_from_scrub(w, f_a, feed_phase)?))
}

/// Minimum scrub and extraction amounts (W_min, S_min) per unit feed from the pinch at the feed.
///
/// `sep_factor` is the β of the section the feed enters (extraction section for an aqueous feed,
/// scrub section for an organic feed). See the module docs for the equations.
pub fn minimum_reflux(
    sep_factor: f64,
    x_a: f64,
    purity_a: f64,
    f_a: f64,
    feed_phase: FeedPhase,
) -> Result<(f64, f64), DesignError> {
    let beta = greater_than_one("sep_factor", sep_factor)?;
    let x_a = open_fraction("x_a", x_a)?;
    let purity_a = open_fraction("purity_a", purity_a)?;
    let f_a = open_fraction("f_a", f_a)?;
    match feed_phase {
        FeedPhase::Aqueous => {
            let y_star = beta * x_a / (1.0 + (beta - 1.0) * x_a);
            let w_min = (f_a * (purity_a - y_star) / (y_star - x_a)).max(0.0);
            Ok((w_min, w_min + f_a))
        }
        FeedPhase::Organic => {
            let x_star = x_a / (beta - (beta - 1.0) * x_a);
            let w_min = (f_a * (purity_a - x_a) / (x_a - x_star)).max(0.0);
            // S must stay positive; the pinch value can only be below that for trivial cuts.
            let w_min = w_min.max(1.0 - f_a);
            Ok((w_min, w_min + f_a - 1.0))
        }
    }
}

/// Fenske minimum number of stages at total reflux, N_min = ln(a·b)/ln β.
pub fn fenske_min_stages(sep_factor: f64, a: f64, b: f64) -> Result<f64, DesignError> {
    let beta = greater_than_one("sep_factor", sep_factor)?;
    let a = positive("a", a)?;
    let b = positive("b", b)?;
    Ok((a * b).ln() / beta.ln())
}

/// Xu's shortcut stage numbers (n, m) = (ln b / ln(β E_M), ln a / ln(β'/E'_M)).
///
/// A section whose dilute-end selectivity does not exceed 1 (β E_M ≤ 1 or β'/E'_M ≤ 1) cannot
/// reach its purity at any number of stages; its entry is `None`.
pub fn xu_stages(
    sep_factor: f64,
    sep_factor_scrub: f64,
    ratios: &SectionRatios,
    a: f64,
    b: f64,
) -> Result<(Option<f64>, Option<f64>), DesignError> {
    let beta = greater_than_one("sep_factor", sep_factor)?;
    let beta_s = greater_than_one("sep_factor_scrub", sep_factor_scrub)?;
    let a = positive("a", a)?;
    let b = positive("b", b)?;
    let gain_n = beta * ratios.e_m;
    let gain_m = beta_s / ratios.e_prime_m;
    let n = (gain_n > 1.0 && b > 1.0).then(|| b.ln() / gain_n.ln());
    let m = (gain_m > 1.0 && a > 1.0).then(|| a.ln() / gain_m.ln());
    Ok((n, m))
}

/// Kremser number of theoretical stages for a single solute.
///
/// `extraction_factor` E = D·(O/A); `x_in`, `x_out` the aqueous inlet and outlet concentrations;
/// `y_in_over_d` the aqueous concentration in equilibrium with the inlet organic (y_in/D; 0 for
/// fresh organic). Any consistent concentration unit. Returns an error when the outlet is not
/// between the inlet and the equilibrium limit, or when E < 1 makes the target unreachable.
pub fn kremser_stages(
    extraction_factor: f64,
    x_in: f64,
    x_out: f64,
    y_in_over_d: f64,
) -> Result<f64, DesignError> {
    let e = positive("extraction_factor", extraction_factor)?;
    let x_in = positive("x_in", x_in)?;
    let x_out = positive("x_out", x_out)?;
    if !(y_in_over_d.is_finite() && y_in_over_d >= 0.0) {
        return Err(DesignError::InvalidValue {
            name: "y_in_over_d".to_string(),
            value: y_in_over_d,
            expected: "a finite number >= 0",
        });
    }
    if !(x_out > y_in_over_d && x_out < x_in) {
        return Err(DesignError::InvalidValue {
            name: "x_out".to_string(),
            value: x_out,
            expected: "a value between y_in/D and x_in",
        });
    }
    let ratio = (x_in - y_in_over_d) / (x_out - y_in_over_d);
    if (e - 1.0).abs() < 1e-12 {
        return Ok(ratio - 1.0);
    }
    let arg = ratio * (1.0 - 1.0 / e) + 1.0 / e;
    if arg <= 0.0 {
        return Err(DesignError::Unreachable(format!(
            "extraction factor {e} cannot reduce the solute by a factor {ratio} at any number of stages"
        )));
    }
    Ok(arg.ln() / e.ln())
}

/// Kremser forward form: fraction of the solute left in the raffinate after `n_stages` stages with
/// fresh organic, (E − 1)/(E^(N+1) − 1) (1/(N + 1) at E = 1).
pub fn kremser_fraction_unextracted(
    extraction_factor: f64,
    n_stages: f64,
) -> Result<f64, DesignError> {
    let e = positive("extraction_factor", extraction_factor)?;
    if !(n_stages.is_finite() && n_stages >= 0.0) {
        return Err(DesignError::InvalidValue {
            name: "n_stages".to_string(),
            value: n_stages,
            expected: "a finite number >= 0",
        });
    }
    if (e - 1.0).abs() < 1e-12 {
        return Ok(1.0 / (n_stages + 1.0));
    }
    Ok((e - 1.0) / (e.powf(n_stages + 1.0) - 1.0))
}

/// Everything the shortcut theory says about a binary or pseudo-binary cut.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shortcut {
    /// x_A: A (or A-group) fraction of the feed.
    pub x_a: f64,
    /// β of the extraction section.
    pub sep_factor: f64,
    /// β' of the scrub section.
    pub sep_factor_scrub: f64,
    /// Feed phase.
    pub feed_phase: FeedPhase,
    /// Outlet fractions and recoveries.
    pub outlet: OutletFractions,
    /// Purification factor a of the organic outlet.
    pub a: f64,
    /// Purification factor b of the aqueous outlet.
    pub b: f64,
    /// Which section controls at Xu's optimum.
    pub control: Control,
    /// Section ratios at Xu's optimum.
    pub optimum: SectionRatios,
    /// Section ratios actually chosen (equal to `optimum` unless a reflux was given).
    pub chosen: SectionRatios,
    /// W_min per unit feed (pinch at the feed).
    pub w_min: f64,
    /// S_min per unit feed.
    pub s_min: f64,
    /// W/W_min of the chosen point.
    pub w_over_w_min: f64,
    /// Fenske minimum stages at total reflux.
    pub n_min_fenske: f64,
    /// Xu's shortcut extraction stages at the chosen point (`None` when the section cannot reach
    /// its purity at this reflux, and below the minimum reflux).
    pub n_shortcut: Option<f64>,
    /// Xu's shortcut scrub stages at the chosen point.
    pub m_shortcut: Option<f64>,
}

/// How the reflux (scrub amount) of a design is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Reflux {
    /// Xu's optimum extraction ratios.
    XuOptimum,
    /// W = ratio × W_min.
    RatioToMinimum(f64),
    /// W given directly, mol REE per mol feed.
    ScrubAmount(f64),
}

/// Runs the whole shortcut for a cut: outlet fractions, factors, optimum, chosen point, minimum
/// reflux, Fenske and Xu stages.
pub fn shortcut(
    x_a: f64,
    sep_factor: f64,
    sep_factor_scrub: f64,
    purity_a: f64,
    purity_b: f64,
    feed_phase: FeedPhase,
    reflux: Reflux,
) -> Result<Shortcut, DesignError> {
    let outlet = outlet_fractions(x_a, purity_a, purity_b)?;
    let (a, b) = purification_factors(x_a, purity_a, purity_b)?;
    let (control, optimum) = xu_optimum(sep_factor, sep_factor_scrub, outlet.f_a, feed_phase)?;
    let beta_feed = match feed_phase {
        FeedPhase::Aqueous => sep_factor,
        FeedPhase::Organic => sep_factor_scrub,
    };
    let (w_min, s_min) = minimum_reflux(beta_feed, x_a, purity_a, outlet.f_a, feed_phase)?;
    let chosen = match reflux {
        Reflux::XuOptimum => optimum,
        Reflux::RatioToMinimum(r) => {
            let r = positive("w_over_w_min", r)?;
            ratios_from_scrub(r * w_min, outlet.f_a, feed_phase)?
        }
        Reflux::ScrubAmount(w) => ratios_from_scrub(w, outlet.f_a, feed_phase)?,
    };
    let n_min_fenske = fenske_min_stages(sep_factor.min(sep_factor_scrub), a, b)?;
    let (n_shortcut, m_shortcut) = xu_stages(sep_factor, sep_factor_scrub, &chosen, a, b)?;
    let w_over_w_min = if w_min > 0.0 {
        chosen.w / w_min
    } else {
        f64::INFINITY
    };
    // Below the minimum reflux the dilute-end formulas still return numbers, but no finite
    // cascade reaches the purities (pinch at the feed): report none.
    let (n_shortcut, m_shortcut) = if w_over_w_min < 1.0 {
        (None, None)
    } else {
        (n_shortcut, m_shortcut)
    };
    Ok(Shortcut {
        x_a,
        sep_factor,
        sep_factor_scrub,
        feed_phase,
        outlet,
        a,
        b,
        control,
        optimum,
        chosen,
        w_min,
        s_min,
        w_over_w_min: if w_over_w_min.is_finite() {
            w_over_w_min
        } else {
            f64::MAX
        },
        n_min_fenske,
        n_shortcut,
        m_shortcut,
    })
}

fn greater_than_one(name: &str, value: f64) -> Result<f64, DesignError> {
    if value.is_finite() && value > 1.0 {
        Ok(value)
    } else {
        Err(DesignError::InvalidValue {
            name: name.to_string(),
            value,
            expected: "a separation factor > 1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn zhang_example_shortcut() {
        // Zhang, Zhao & Schreiner 2016 via chemistry.md 2.6 Example A.
        let sc = shortcut(
            0.5,
            2.0,
            2.0,
            0.999,
            0.9999,
            FeedPhase::Aqueous,
            Reflux::XuOptimum,
        )
        .unwrap();
        assert_eq!(sc.control, Control::Scrub);
        assert!(close(sc.outlet.f_a, 0.500450, 1e-6));
        assert!(close(sc.chosen.e_prime_m, 1.414, 5e-4)); // published value
        assert!(close(sc.chosen.e_m, 0.773775, 1e-6));
        assert!(close(sc.chosen.w, 1.208194, 1e-6));
        assert!(close(sc.chosen.s, 1.708645, 1e-6));
        assert!(close(sc.a, 999.0, 1e-9));
        assert!(close(sc.b, 9999.0, 1e-7));
        assert!(close(sc.w_min, 0.99790, 1e-5));
        assert!(close(sc.s_min, 1.49835, 1e-5));
        assert!(close(sc.w_over_w_min, 1.211, 1e-3));
        assert!(close(sc.n_min_fenske, 23.25, 0.01));
        assert!(close(sc.n_shortcut.unwrap(), 21.09, 0.01));
        assert!(close(sc.m_shortcut.unwrap(), 19.93, 0.01));
    }

    #[test]
    fn organic_feed_minimum_reflux_matches_chemistry_note() {
        let f = outlet_fractions(0.5, 0.999, 0.9999).unwrap();
        let (w_min, s_min) = minimum_reflux(2.0, 0.5, 0.999, f.f_a, FeedPhase::Organic).unwrap();
        assert!(close(w_min, 1.49835, 1e-5));
        assert!(close(s_min, 0.99880, 1e-5));
    }

    #[test]
    fn control_boundary_aqueous_feed() {
        // At f'_B = √β/(1+√β) both optima hold at once.
        let beta: f64 = 2.0;
        let f_b_star = beta.sqrt() / (1.0 + beta.sqrt());
        let (c_lo, _) =
            xu_optimum(beta, beta, 1.0 - (f_b_star - 0.01), FeedPhase::Aqueous).unwrap();
        let (c_hi, r) =
            xu_optimum(beta, beta, 1.0 - (f_b_star + 0.01), FeedPhase::Aqueous).unwrap();
        assert_eq!(c_lo, Control::Scrub);
        assert_eq!(c_hi, Control::Extraction);
        assert!(close(r.e_m, 1.0 / beta.sqrt(), 1e-12));
        let (_, at) = xu_optimum(beta, beta, 1.0 - f_b_star, FeedPhase::Aqueous).unwrap();
        assert!(close(at.e_m * at.e_prime_m, 1.0, 1e-9));
    }

    #[test]
    fn control_boundary_organic_feed() {
        let beta: f64 = 3.0;
        let f_a_star = beta.sqrt() / (1.0 + beta.sqrt());
        let (c_hi, r) = xu_optimum(beta, beta, f_a_star + 0.01, FeedPhase::Organic).unwrap();
        let (c_lo, r2) = xu_optimum(beta, beta, f_a_star - 0.01, FeedPhase::Organic).unwrap();
        assert_eq!(c_hi, Control::Scrub);
        assert!(close(r.e_prime_m, beta.sqrt(), 1e-12));
        assert_eq!(c_lo, Control::Extraction);
        assert!(close(r2.e_m, 1.0 / beta.sqrt(), 1e-12));
        // balances hold: S + 1 − W = f'_A
        assert!(close(r2.s + 1.0 - r2.w, f_a_star - 0.01, 1e-12));
    }

    #[test]
    fn fenske_reference_numbers() {
        // chemistry.md 2.6 Example B.
        let (a, b) = purification_factors(0.5, 0.9999, 0.9999).unwrap();
        assert!(close(fenske_min_stages(1.5, a, b).unwrap(), 45.43, 0.01));
        let (a, b) = purification_factors(0.5, 0.999, 0.999).unwrap();
        assert!(close(fenske_min_stages(1.5, a, b).unwrap(), 34.07, 0.01));
        let (a, b) = purification_factors(0.5, 0.9999, 0.9999).unwrap();
        assert!(close(fenske_min_stages(3.0, a, b).unwrap(), 16.77, 0.01));
    }

    #[test]
    fn kremser_reference_and_round_trip() {
        let e = 10.0 / 3.0;
        let n = kremser_stages(e, 1.0, 0.001, 0.0).unwrap();
        assert!(close(n, 5.44, 0.005));
        let left = kremser_fraction_unextracted(e, n).unwrap();
        assert!(close(left, 0.001, 1e-12));
        // E = 1: ratio = N + 1.
        assert!(close(
            kremser_stages(1.0, 1.0, 0.1, 0.0).unwrap(),
            9.0,
            1e-12
        ));
        // single stage extracts E/(1+E)
        let one = kremser_fraction_unextracted(e, 1.0).unwrap();
        assert!(close(1.0 - one, e / (1.0 + e), 1e-12));
    }

    #[test]
    fn purity_and_recovery_round_trip() {
        let (x_a, p_a, p_b) = (0.3, 0.999, 0.9999);
        let f = outlet_fractions(x_a, p_a, p_b).unwrap();
        for (pa, pb, ya, yb) in [
            (Some(p_a), None, Some(f.recovery_a), None),
            (Some(p_a), None, None, Some(f.recovery_b)),
            (None, Some(p_b), None, Some(f.recovery_b)),
            (None, Some(p_b), Some(f.recovery_a), None),
        ] {
            let (a, b) = purities_from_specs(x_a, pa, pb, ya, yb).unwrap();
            assert!(close(a, p_a, 1e-9) && close(b, p_b, 1e-9), "{a} {b}");
        }
        assert!(purities_from_specs(x_a, None, None, Some(0.9), Some(0.9)).is_err());
        assert!(purities_from_specs(x_a, Some(0.99), Some(0.99), Some(0.9), None).is_err());
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(matches!(
            outlet_fractions(0.5, 0.4, 0.9),
            Err(DesignError::Unreachable(_))
        ));
        assert!(matches!(
            outlet_fractions(f64::NAN, 0.9, 0.9),
            Err(DesignError::InvalidValue { .. })
        ));
        assert!(xu_optimum(1.0, 1.0, 0.5, FeedPhase::Aqueous).is_err());
        assert!(kremser_stages(0.5, 1.0, 1e-6, 0.0).is_err());
    }

    #[test]
    fn shortcut_below_minimum_reflux_has_no_finite_stages() {
        let sc = shortcut(
            0.5,
            2.0,
            2.0,
            0.999,
            0.9999,
            FeedPhase::Aqueous,
            Reflux::RatioToMinimum(0.5),
        )
        .unwrap();
        assert!(sc.w_over_w_min < 1.0);
        assert!(close(sc.w_over_w_min, 0.5, 1e-12));
        assert_eq!(sc.n_shortcut, None);
        assert_eq!(sc.m_shortcut, None);
    }
}
