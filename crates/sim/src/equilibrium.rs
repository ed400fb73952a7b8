//! Stage equilibrium models (DESIGN.md section 4) evaluated on element flows, with Jacobians.
//!
//! Each model maps the aqueous outlet of a stage (element flows `a_i`, mol/h, and the net
//! acidity flow `h`, mol/h of H+) to the equilibrium organic outlet `o*_i` (mol/h), given the
//! stage's aqueous and organic volumetric flows `Q_aq`, `Q_org` (L/h).
//!
//! | symbol | identifier | unit | meaning |
//! |---|---|---|---|
//! | x_i = a_i / Q_aq | - | mol/L | aqueous concentration |
//! | y_i = o_i / Q_org | - | mol/L | organic concentration |
//! | D_i | `d_ratio` | - | distribution ratio y_i / x_i |
//! | c_H = h / Q_aq | - | mol/L | net acidity (free H+ minus free OH-) |
//! | [H+] | - | mol/L | `(c_H + sqrt(c_H^2 + 4 K_w)) / 2` (charge balance with water) |
//! | [(HA)2] | - | mol/L | free dimeric extractant |
//!
//! Models:
//! - `Linear`: `y_i = D_i x_i` (the `distribution` model);
//! - `SeparationFactor`: `y_i = Y beta_i x_i / sum_k beta_k x_k`, with the organic REE flow either
//!   `E * sum_k a_k` (mixed extraction ratio `E`) or fixed (loading capacity), or zero (complete
//!   transfer to the aqueous);
//! - `MassAction`: `y_i = K_i [(HA)2]^n_i x_i / [H+]^z_i` with extractant conservation
//!   `[(HA)2] + sum_i n_i y_i = C_(HA)2`, solved per stage for `[(HA)2]`;
//! - `Empirical`: `log10 D_i = a_i pH + b_i + c_i log10 C_ext`.

use serde::Serialize;

/// Ion product of water at 25 C, mol^2/L^2 (pK_w = 14.00; CRC Handbook of Chemistry and
/// Physics, "Ionization constant of water as a function of temperature", 25 C; quality: measured).
/// It only matters when the net acidity approaches zero or turns basic.
pub const K_W: f64 = 1.0e-14;

/// How the organic REE flow of a separation-factor stage is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SfLoading {
    /// Mixed extraction ratio E: organic REE flow = E x aqueous REE flow of the stage.
    Ratio(f64),
    /// Organic REE concentration fixed at this loading, mol/L.
    Capacity(f64),
    /// No extraction: everything goes to the aqueous (strip, wash).
    None,
}

/// An equilibrium model resolved to dense per-element vectors (index = position in the
/// simulation's element list). Elements without data have zero extractability.
#[derive(Debug, Clone, PartialEq)]
pub enum StageModel {
    /// Constant distribution ratios.
    Linear {
        /// D per element, >= 0.
        d_ratio: Vec<f64>,
    },
    /// Xu's constant-mixed-extraction-ratio model.
    SeparationFactor {
        /// Relative extractability per element, >= 0 (0: not extracted).
        beta: Vec<f64>,
        /// How the organic REE flow is fixed.
        loading: SfLoading,
    },
    /// Mass-action law of an acidic dimeric extractant.
    MassAction {
        /// Extraction constant per element (0: not extracted).
        k_ex: Vec<f64>,
        /// Exponent of the free dimer (= dimers bound per ion).
        n_extractant: Vec<f64>,
        /// Exponent of [H+] (= protons released per ion).
        z_proton: Vec<f64>,
        /// Total dimer available, mol/L (half the monomer concentration, or less when a
        /// loading capacity limits it).
        conc_dimer: f64,
    },
    /// Empirical log-D correlation in pH.
    Empirical {
        /// `b_i + c_i log10 C_ext` per element.
        log_d0: Vec<f64>,
        /// pH slope per element.
        slope: Vec<f64>,
        /// Whether the element has coefficients (false: not extracted).
        has: Vec<bool>,
    },
}

/// Derivatives of the equilibrium organic flows of one stage.
#[derive(Debug, Clone)]
pub(crate) struct EqJac {
    /// `d o*_i / d a_k`, row-major m x m.
    pub d_a: Vec<f64>,
    /// `d o*_i / d h`.
    pub d_h: Vec<f64>,
}

impl EqJac {
    pub(crate) fn new(m: usize) -> EqJac {
        EqJac {
            d_a: vec![0.0; m * m],
            d_h: vec![0.0; m],
        }
    }
}

/// [H+] (mol/L) from the net acidity concentration `c` (mol/L), and its derivative d[H+]/dc.
pub fn proton_conc(c: f64) -> (f64, f64) {
    let s = (c * c + 4.0 * K_W).sqrt();
    let h = if c >= 0.0 {
        0.5 * (c + s)
    } else {
        2.0 * K_W / (s - c)
    };
    (h, h / s)
}

impl StageModel {
    /// The empirical correlation `log10 D_i = slope_i pH + log_d0_i` bounded by the extractant:
    /// `D_i = 10^(log_d0_i) [H+]^(-slope_i) ([(HA)2] / C)^(n_i)`, with `n_i` dimers bound per
    /// ion and the free dimer `[(HA)2]` from extractant conservation. While the organic is
    /// lightly loaded (`[(HA)2]` near `C`) it is the correlation itself; as the extractant
    /// fills, the loading approaches `C / n_i` and never exceeds it. It is the mass-action law
    /// with `K_i = 10^(log_d0_i) / C^(n_i)` and `[H+]` exponent `slope_i`.
    pub fn empirical_bounded(
        log_d0: &[f64],
        slope: &[f64],
        has: &[bool],
        n_extractant: &[f64],
        conc_dimer: f64,
    ) -> StageModel {
        let k_ex = (0..log_d0.len())
            .map(|i| {
                if has[i] {
                    10f64.powf(log_d0[i] - n_extractant[i] * conc_dimer.log10())
                } else {
                    0.0
                }
            })
            .collect();
        StageModel::MassAction {
            k_ex,
            n_extractant: n_extractant.to_vec(),
            z_proton: slope.to_vec(),
            conc_dimer,
        }
    }

    /// True when the model depends on the acidity (mass action, empirical).
    pub fn uses_acidity(&self) -> bool {
        matches!(
            self,
            StageModel::MassAction { .. } | StageModel::Empirical { .. }
        )
    }

    /// True when `o*` is linear in the aqueous flows and independent of acidity.
    pub fn is_linear(&self) -> bool {
        matches!(self, StageModel::Linear { .. })
    }

    /// Equilibrium organic flows `o` for aqueous flows `a` and acidity flow `h`; fills `jac`
    /// when given. Returns the free-dimer concentration for mass action (else 0).
    pub(crate) fn organic(
        &self,
        a: &[f64],
        h: f64,
        q_aq: f64,
        q_org: f64,
        o: &mut [f64],
        mut jac: Option<&mut EqJac>,
    ) -> f64 {
        let m = a.len();
        if let Some(j) = jac.as_deref_mut() {
            j.d_a.iter_mut().for_each(|v| *v = 0.0);
            j.d_h.iter_mut().for_each(|v| *v = 0.0);
        }
        let ratio = q_org / q_aq;
        match self {
            StageModel::Linear { d_ratio } => {
                for i in 0..m {
                    o[i] = d_ratio[i] * ratio * a[i];
                    if let Some(j) = jac.as_deref_mut() {
                        j.d_a[i * m + i] = d_ratio[i] * ratio;
                    }
                }
                0.0
            }
            StageModel::SeparationFactor { beta, loading } => {
                let sigma: f64 = (0..m).map(|k| beta[k] * a[k]).sum();
                let total: f64 = (0..m).filter(|&k| beta[k] > 0.0).map(|k| a[k]).sum();
                let y_flow = match *loading {
                    SfLoading::Ratio(e) => e * total,
                    SfLoading::Capacity(l) => l * q_org,
                    SfLoading::None => 0.0,
                };
                if sigma <= 0.0 || y_flow <= 0.0 {
                    o.iter_mut().for_each(|v| *v = 0.0);
                    return 0.0;
                }
                for i in 0..m {
                    o[i] = y_flow * beta[i] * a[i] / sigma;
                }
                if let Some(j) = jac {
                    for i in 0..m {
                        if beta[i] == 0.0 {
                            continue;
                        }
                        for k in 0..m {
                            let delta = if i == k { 1.0 } else { 0.0 };
                            let mut v = y_flow * beta[i] / sigma * (delta - a[i] * beta[k] / sigma);
                            if let SfLoading::Ratio(e) = *loading {
                                if beta[k] > 0.0 {
                                    v += e * beta[i] * a[i] / sigma;
                                }
                            }
                            j.d_a[i * m + k] = v;
                        }
                    }
                }
                0.0
            }
            StageModel::MassAction {
                k_ex,
                n_extractant,
                z_proton,
                conc_dimer,
            } => {
                let (hp, dhp_dc) = proton_conc(h / q_aq);
                // d_i(F) = K_i F^n_i / H^z_i ; solve F + sum n_i d_i(F) x_i = C for F in (0, C].
                let x: Vec<f64> = a.iter().map(|v| v / q_aq).collect();
                let coef: Vec<f64> = (0..m)
                    .map(|i| {
                        if k_ex[i] > 0.0 {
                            k_ex[i] * (-z_proton[i] * hp.ln()).exp()
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let c = *conc_dimer;
                let f = solve_free_dimer(c, &coef, n_extractant, &x);
                let mut y = vec![0.0; m];
                let mut dgf = 1.0;
                for i in 0..m {
                    if coef[i] > 0.0 && x[i] > 0.0 {
                        y[i] = coef[i] * f.powf(n_extractant[i]) * x[i];
                        dgf += n_extractant[i] * n_extractant[i] * y[i] / f;
                    }
                    o[i] = y[i] * q_org;
                }
                if let Some(j) = jac {
                    // Implicit derivatives of F: g = F + sum n_k y_k - C = 0.
                    let mut dg_dh = 0.0;
                    for k in 0..m {
                        dg_dh -= n_extractant[k] * z_proton[k] * y[k] / hp;
                    }
                    let df_dh = -dg_dh / dgf;
                    for i in 0..m {
                        if coef[i] == 0.0 {
                            continue;
                        }
                        let d_i = coef[i] * f.powf(n_extractant[i]);
                        let ni_yi_f = n_extractant[i] * y[i] / f;
                        for k in 0..m {
                            if coef[k] == 0.0 {
                                continue;
                            }
                            let dg_dxk = n_extractant[k] * coef[k] * f.powf(n_extractant[k]);
                            let df_dxk = -dg_dxk / dgf;
                            let mut v = ni_yi_f * df_dxk;
                            if i == k {
                                v += d_i;
                            }
                            j.d_a[i * m + k] = v * ratio;
                        }
                        let dy_dhp = -z_proton[i] * y[i] / hp + ni_yi_f * df_dh;
                        j.d_h[i] = dy_dhp * dhp_dc * ratio;
                    }
                }
                f
            }
            StageModel::Empirical { log_d0, slope, has } => {
                let (hp, dhp_dc) = proton_conc(h / q_aq);
                let ph = -hp.log10();
                for i in 0..m {
                    if !has[i] {
                        o[i] = 0.0;
                        continue;
                    }
                    let d = 10f64.powf(slope[i] * ph + log_d0[i]);
                    o[i] = d * ratio * a[i];
                    if let Some(j) = jac.as_deref_mut() {
                        j.d_a[i * m + i] = d * ratio;
                        // d D / d[H+] = -slope D / [H+]
                        j.d_h[i] = -slope[i] * d / hp * ratio * a[i] * dhp_dc / q_aq;
                    }
                }
                0.0
            }
        }
    }
}

/// Free dimer F in (0, c] from `F + sum_i n_i coef_i F^n_i x_i = c` (monotone in F):
/// Newton safeguarded by bisection.
fn solve_free_dimer(c: f64, coef: &[f64], n: &[f64], x: &[f64]) -> f64 {
    if c <= 0.0 {
        return 0.0;
    }
    let g = |f: f64| -> (f64, f64) {
        let mut val = f - c;
        let mut der = 1.0;
        for i in 0..x.len() {
            if coef[i] > 0.0 && x[i] > 0.0 {
                let t = coef[i] * f.powf(n[i]) * x[i];
                val += n[i] * t;
                der += n[i] * n[i] * t / f;
            }
        }
        (val, der)
    };
    let (mut lo, mut hi) = (0.0f64, c);
    let (g_hi, _) = g(c);
    if g_hi <= 0.0 {
        return c;
    }
    let mut f = c;
    for _ in 0..200 {
        let (val, der) = g(f);
        if val > 0.0 {
            hi = f;
        } else {
            lo = f;
        }
        if val.abs() <= 1e-15 * c {
            return f;
        }
        let mut next = f - val / der;
        if !(next > lo && next < hi && next.is_finite()) {
            next = 0.5 * (lo + hi);
        }
        // Relative to F itself: near saturation F is orders of magnitude below c, and the
        // distribution ratios go with F^n.
        if (next - f).abs() <= 1e-16 * next.abs() || hi - lo <= 1e-16 * hi {
            return next;
        }
        f = next;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd_check(model: &StageModel, a: &[f64], h: f64, q_aq: f64, q_org: f64) {
        let m = a.len();
        let mut o = vec![0.0; m];
        let mut jac = EqJac::new(m);
        model.organic(a, h, q_aq, q_org, &mut o, Some(&mut jac));
        for k in 0..=m {
            let mut ap = a.to_vec();
            let mut am = a.to_vec();
            let (mut hp, mut hm) = (h, h);
            let step;
            if k < m {
                step = 1e-6 * a[k].abs().max(1e-8);
                ap[k] += step;
                am[k] -= step;
            } else {
                step = 1e-6 * h.abs().max(1e-8);
                hp += step;
                hm -= step;
            }
            let mut op = vec![0.0; m];
            let mut om = vec![0.0; m];
            model.organic(&ap, hp, q_aq, q_org, &mut op, None);
            model.organic(&am, hm, q_aq, q_org, &mut om, None);
            for i in 0..m {
                let fd = (op[i] - om[i]) / (2.0 * step);
                let an = if k < m {
                    jac.d_a[i * m + k]
                } else {
                    jac.d_h[i]
                };
                let scale = fd.abs().max(an.abs()).max(1e-12);
                assert!(
                    (fd - an).abs() / scale < 1e-5,
                    "d o{i}/d u{k}: fd {fd} vs {an}"
                );
            }
        }
    }

    #[test]
    fn jacobians_match_finite_differences() {
        let a = [0.3, 0.2, 0.05, 0.01];
        fd_check(
            &StageModel::Linear {
                d_ratio: vec![0.5, 2.0, 0.0, 9.0],
            },
            &a,
            1.0,
            10.0,
            5.0,
        );
        for loading in [SfLoading::Ratio(0.8), SfLoading::Capacity(0.02)] {
            let m = StageModel::SeparationFactor {
                beta: vec![1.0, 2.0, 0.0, 3.5],
                loading,
            };
            fd_check(&m, &a, 1.0, 10.0, 5.0);
        }
        let ma = StageModel::MassAction {
            k_ex: vec![0.05, 0.2, 0.0, 1.5],
            n_extractant: vec![3.0, 3.0, 3.0, 2.5],
            z_proton: vec![3.0, 3.0, 2.0, 3.0],
            conc_dimer: 0.5,
        };
        fd_check(&ma, &a, 1.0, 10.0, 5.0);
        fd_check(&ma, &a, 0.01, 10.0, 5.0);
        let em = StageModel::Empirical {
            log_d0: vec![-1.9, -1.6, 0.0, -2.4],
            slope: vec![0.54, 0.3, 0.0, 1.7],
            has: vec![true, true, false, true],
        };
        fd_check(&em, &a, 0.5, 10.0, 5.0);
    }

    #[test]
    fn mass_action_conserves_extractant_and_caps_loading() {
        let ma = StageModel::MassAction {
            k_ex: vec![1e6, 1e6],
            n_extractant: vec![3.0, 3.0],
            z_proton: vec![3.0, 3.0],
            conc_dimer: 0.3,
        };
        let mut o = [0.0; 2];
        // Huge D: loading approaches the capacity C / n = 0.1 mol/L.
        let f = ma.organic(&[10.0, 10.0], 1e-3, 1.0, 1.0, &mut o, None);
        assert!(f > 0.0 && f < 0.3);
        let load = o[0] + o[1];
        assert!((f + 3.0 * load - 0.3).abs() < 1e-12, "{f} {load}");
        assert!(load < 0.1);
    }

    #[test]
    fn proton_conc_limits() {
        let (h, _) = proton_conc(0.1);
        assert!((h - (0.1 + 1e-13)).abs() < 1e-16);
        let (h, _) = proton_conc(0.0);
        assert!((h - 1e-7).abs() < 1e-20);
        let (h, _) = proton_conc(-0.01);
        assert!((h - 1e-12).abs() < 1e-16);
    }
}
