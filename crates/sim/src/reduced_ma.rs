//! Reduced-space Newton for mass-action chains (Murphree efficiency 1): two unknowns per stage,
//! `phi_j = ln [(HA)2]_j` (free dimer, mol/L) and `psi_j = ln [H+]_j` (mol/L).
//!
//! For given states the stage distribution ratios `D_ji = K_i exp(n_i phi_j - z_i psi_j)` are
//! fixed, so the element balances decouple into one conservative tridiagonal solve per element
//! ([`gth_chain_solve`]), and the acidity profile follows from the proton balance in one
//! backward sweep. Two equations per stage remain: extractant conservation
//! `G1_j = ln([(HA)2]_j + sum_i n_i y_ji) - ln C_j` and the proton state
//! `G2_j = psi_j - ln [H+](h_j / Q_aq)`. As in the `reduced` module, the Newton step is the state
//! part of the full-space Newton step taken from this balanced point: one block-tridiagonal
//! solve with blocks of `m + 3` (element flows, `phi`, `psi`, acidity flow), linear in the
//! number of stages. Steps are damped by a backtracking line search on `sum G^2`; when the
//! direct attempt stalls, continuation in the extraction constants (`K t`, `t` from small to
//! 1) takes over. The chain's own residual check decides the status.

// Index loops mirror the stage/element algebra.
#![allow(clippy::needless_range_loop)]

use crate::chain::{Chain, ChainSolution};
use crate::equilibrium::{proton_conc, StageModel};
use crate::linalg::{gth_chain_solve, BlockTridiag};

/// Largest change of a log state in one step (the whole step is scaled to it).
const MAX_STEP: f64 = 2.0;
/// Log residual that ends the iteration.
const G_TOL: f64 = 1e-14;
/// Log residual below which a solve counts as converged (the chain's check decides the status).
const G_CONVERGED: f64 = 1e-11;
/// Iterations of the direct attempt.
const MAX_ITER_DIRECT: usize = 120;
/// Iterations per continuation step.
const MAX_ITER_STEP: usize = 40;
/// Iterations over all continuation steps.
const MAX_TOTAL: usize = 400;
/// Initial extraction-constant scale of the continuation.
const T_START: f64 = 1e-6;
/// Lowest [H+] (mol/L) of the initial estimate.
const INITIAL_ACIDITY_FLOOR: f64 = 0.01;

/// How a stage's ratios are fixed.
enum Kind {
    /// Constant ratios (a `distribution` stage).
    Fixed(Vec<f64>),
    /// Mass action: `k_i = K_i exp(n_i phi - z_i psi) Q_org / Q_aq`.
    Ma {
        k_ex: Vec<f64>,
        n_ext: Vec<f64>,
        z: Vec<f64>,
        conc: f64,
    },
}

struct Iterate {
    phi: Vec<f64>,
    psi: Vec<f64>,
    a: Vec<f64>,
    k: Vec<f64>,
    h: Vec<f64>,
    iterations: usize,
    converged: bool,
    failed: bool,
}

pub(crate) struct ReducedMa<'c> {
    chain: &'c Chain,
    kinds: Vec<Kind>,
    link: Vec<bool>,
    /// Extraction-constant scale (continuation).
    t: f64,
    /// Base (saponification) scale (continuation).
    base: f64,
}

impl<'c> ReducedMa<'c> {
    /// The reduced problem, or `None` unless every stage is mass action or constant D, at least
    /// one is mass action, and every Murphree efficiency is 1.
    pub(crate) fn new(chain: &'c Chain) -> Option<ReducedMa<'c>> {
        let n = chain.n_stages;
        if chain.murphree.iter().any(|&e| e < 1.0) || n == 0 || chain.n_elements == 0 {
            return None;
        }
        let mut any = false;
        let mut kinds = Vec::with_capacity(n);
        for j in 0..n {
            let ratio = chain.flow_vol_org[j] / chain.flow_vol_aq[j];
            kinds.push(match &chain.models[chain.model_of_stage[j]] {
                StageModel::Linear { d_ratio } => {
                    Kind::Fixed(d_ratio.iter().map(|d| d * ratio).collect())
                }
                StageModel::MassAction {
                    k_ex,
                    n_extractant,
                    z_proton,
                    conc_dimer,
                } => {
                    if conc_dimer.is_nan() || *conc_dimer <= 0.0 || !ratio.is_finite() {
                        return None;
                    }
                    any = true;
                    Kind::Ma {
                        k_ex: k_ex.clone(),
                        n_ext: n_extractant.clone(),
                        z: z_proton.clone(),
                        conc: *conc_dimer,
                    }
                }
                _ => return None,
            });
        }
        if !any {
            return None;
        }
        let link = (0..n).map(|j| chain.aq_from_next[j] && j + 1 < n).collect();
        Some(ReducedMa {
            chain,
            kinds,
            link,
            t: 1.0,
            base: 1.0,
        })
    }

    fn n(&self) -> usize {
        self.chain.n_stages
    }

    fn m(&self) -> usize {
        self.chain.n_elements
    }

    fn ratios(&self, phi: &[f64], psi: &[f64], k: &mut [f64]) {
        let m = self.m();
        for (j, kind) in self.kinds.iter().enumerate() {
            match kind {
                Kind::Fixed(v) => k[j * m..(j + 1) * m].copy_from_slice(v),
                Kind::Ma { k_ex, n_ext, z, .. } => {
                    let ratio = self.chain.flow_vol_org[j] / self.chain.flow_vol_aq[j];
                    for i in 0..m {
                        k[j * m + i] = if k_ex[i] > 0.0 {
                            self.t * k_ex[i] * (n_ext[i] * phi[j] - z[i] * psi[j]).exp() * ratio
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }

    /// Element flows and acidity profile for ratios `k`.
    fn flows(&self, k: &[f64], a: &mut [f64], h: &mut [f64]) -> bool {
        let (n, m) = (self.n(), self.m());
        if k.iter().any(|v| !v.is_finite()) {
            return false;
        }
        let ch = self.chain;
        let mut kk = vec![0.0; n];
        let mut rhs = vec![0.0; n];
        let mut x = vec![0.0; n];
        for i in 0..m {
            for j in 0..n {
                kk[j] = k[j * m + i];
                rhs[j] = ch.aq_ext[j * m + i] + ch.org_ext[j * m + i];
            }
            if gth_chain_solve(&kk, &self.link, &rhs, &mut x).is_none() {
                return false;
            }
            for j in 0..n {
                a[j * m + i] = x[j];
            }
        }
        for j in (0..n).rev() {
            let mut v = ch.acid_ext[j] - self.base * ch.base_ext[j];
            if self.link[j] {
                v += h[j + 1];
            }
            for i in 0..m {
                let o_in = ch.org_ext[j * m + i]
                    + if j > 0 {
                        k[(j - 1) * m + i] * a[(j - 1) * m + i]
                    } else {
                        0.0
                    };
                v += ch.z_exchange[i] * (k[j * m + i] * a[j * m + i] - o_in);
            }
            h[j] = v;
        }
        a.iter().chain(h.iter()).all(|v| v.is_finite())
    }

    /// State residuals `g` (2 per stage) and `sum g^2`.
    fn residuals(
        &self,
        phi: &[f64],
        psi: &[f64],
        a: &[f64],
        k: &[f64],
        h: &[f64],
        g: &mut [f64],
    ) -> f64 {
        let m = self.m();
        let mut s2 = 0.0;
        for (j, kind) in self.kinds.iter().enumerate() {
            match kind {
                Kind::Fixed(_) => {
                    g[2 * j] = 0.0;
                    g[2 * j + 1] = 0.0;
                }
                Kind::Ma { n_ext, conc, .. } => {
                    let q_org = self.chain.flow_vol_org[j];
                    let mut s = phi[j].exp();
                    for i in 0..m {
                        s += n_ext[i] * k[j * m + i] * a[j * m + i] / q_org;
                    }
                    g[2 * j] = s.ln() - conc.ln();
                    let (hp, _) = proton_conc(h[j] / self.chain.flow_vol_aq[j]);
                    g[2 * j + 1] = psi[j] - hp.ln();
                }
            }
            s2 += g[2 * j] * g[2 * j] + g[2 * j + 1] * g[2 * j + 1];
        }
        if s2.is_nan() {
            f64::INFINITY
        } else {
            s2
        }
    }

    /// Newton step for the states from the full-space linearization at a balanced point.
    fn newton_step(
        &self,
        a: &[f64],
        k: &[f64],
        h: &[f64],
        phi: &[f64],
        g: &[f64],
    ) -> Option<Vec<f64>> {
        let (n, m) = (self.n(), self.m());
        let b = m + 3;
        let (cp, cs, chh) = (m, m + 1, m + 2);
        let bb = b * b;
        let ch = self.chain;
        let mut jac = BlockTridiag::zeros(n, b);
        let mut rhs = vec![0.0; n * b];
        let floors: Vec<f64> = (0..n)
            .map(|j| {
                let tot: f64 = (0..m).map(|i| a[j * m + i] * (1.0 + k[j * m + i])).sum();
                (1e-30 * tot).max(1e-290)
            })
            .collect();
        let col = |q: usize| a[q].max(floors[q / m]);
        let hcol = |j: usize| h[j].abs() + 1e-12 * ch.flow_vol_aq[j];
        let zx = &ch.z_exchange;
        for j in 0..n {
            let floor = floors[j];
            // Element balances.
            let mut hthr = ch.acid_ext[j].abs() + self.base * ch.base_ext[j] + h[j].abs();
            if self.link[j] {
                hthr += h[j + 1].abs();
            }
            for i in 0..m {
                let q = j * m + i;
                let a_in = ch.aq_ext[q]
                    + ch.org_ext[q]
                    + if self.link[j] { a[q + m] } else { 0.0 }
                    + if j > 0 { k[q - m] * a[q - m] } else { 0.0 };
                let out = a[q] * (1.0 + k[q]);
                let rs = 1.0 / (a_in + out + floor);
                rhs[j * b + i] = -(a_in - out) * rs;
                hthr += zx[i] * (k[q] * a[q] + if j > 0 { k[q - m] * a[q - m] } else { 0.0 });
                let (nj, zj) = self.exps(j, i);
                let d = &mut jac.diag[j * bb..(j + 1) * bb];
                d[i * b + i] = -(1.0 + k[q]) * col(q) * rs;
                d[i * b + cp] = -k[q] * a[q] * nj * rs;
                d[i * b + cs] = k[q] * a[q] * zj * rs;
                if j > 0 {
                    let (np, zp) = self.exps(j - 1, i);
                    let l = &mut jac.lower[j * bb..(j + 1) * bb];
                    let ka = k[q - m] * a[q - m];
                    l[i * b + i] = k[q - m] * col(q - m) * rs;
                    l[i * b + cp] = ka * np * rs;
                    l[i * b + cs] = -ka * zp * rs;
                }
                if self.link[j] {
                    let u = &mut jac.upper[j * bb..(j + 1) * bb];
                    u[i * b + i] = col(q + m) * rs;
                }
            }
            // Proton balance.
            let hs = 1.0 / (hthr + 1e-12 * ch.flow_vol_aq[j]);
            {
                let mut p = ch.acid_ext[j] - self.base * ch.base_ext[j] - h[j];
                if self.link[j] {
                    p += h[j + 1];
                }
                let d = &mut jac.diag[j * bb..(j + 1) * bb];
                d[chh * b + chh] = -hcol(j) * hs;
                let (mut dp, mut ds) = (0.0, 0.0);
                for i in 0..m {
                    let q = j * m + i;
                    let o_in = ch.org_ext[q] + if j > 0 { k[q - m] * a[q - m] } else { 0.0 };
                    p += zx[i] * (k[q] * a[q] - o_in);
                    let (nj, zj) = self.exps(j, i);
                    d[chh * b + i] = zx[i] * k[q] * col(q) * hs;
                    dp += zx[i] * nj * k[q] * a[q];
                    ds -= zx[i] * zj * k[q] * a[q];
                }
                d[chh * b + cp] = dp * hs;
                d[chh * b + cs] = ds * hs;
                rhs[j * b + chh] = -p * hs;
                if j > 0 {
                    let l = &mut jac.lower[j * bb..(j + 1) * bb];
                    let (mut lp, mut ls) = (0.0, 0.0);
                    for i in 0..m {
                        let q = (j - 1) * m + i;
                        let (np, zp) = self.exps(j - 1, i);
                        l[chh * b + i] = -zx[i] * k[q] * col(q) * hs;
                        lp -= zx[i] * np * k[q] * a[q];
                        ls += zx[i] * zp * k[q] * a[q];
                    }
                    l[chh * b + cp] = lp * hs;
                    l[chh * b + cs] = ls * hs;
                }
                if self.link[j] {
                    let u = &mut jac.upper[j * bb..(j + 1) * bb];
                    u[chh * b + chh] = hcol(j + 1) * hs;
                }
            }
            // State equations.
            let d = &mut jac.diag[j * bb..(j + 1) * bb];
            match &self.kinds[j] {
                Kind::Fixed(_) => {
                    d[cp * b + cp] = 1.0;
                    d[cs * b + cs] = 1.0;
                }
                Kind::Ma { n_ext, z, .. } => {
                    let q_org = ch.flow_vol_org[j];
                    let f = phi[j].exp();
                    let mut s = f;
                    let (mut sp, mut ss) = (f, 0.0);
                    for i in 0..m {
                        let q = j * m + i;
                        let y = k[q] * a[q] / q_org;
                        s += n_ext[i] * y;
                        sp += n_ext[i] * n_ext[i] * y;
                        ss -= n_ext[i] * z[i] * y;
                    }
                    for i in 0..m {
                        let q = j * m + i;
                        d[cp * b + i] = n_ext[i] * k[q] / q_org * col(q) / s;
                    }
                    d[cp * b + cp] = sp / s;
                    d[cp * b + cs] = ss / s;
                    rhs[j * b + cp] = -g[2 * j];
                    let q_aq = ch.flow_vol_aq[j];
                    let (hp, dhp) = proton_conc(h[j] / q_aq);
                    d[cs * b + cs] = 1.0;
                    d[cs * b + chh] = -dhp / hp / q_aq * hcol(j);
                    rhs[j * b + cs] = -g[2 * j + 1];
                }
            }
        }
        let step = jac.solve(&rhs)?;
        let mut out = vec![0.0; 2 * n];
        for j in 0..n {
            out[2 * j] = step[j * b + cp];
            out[2 * j + 1] = step[j * b + cs];
        }
        if out.iter().all(|v| v.is_finite()) {
            Some(out)
        } else {
            None
        }
    }

    /// Exponents `(n_i, z_i)` of stage `j` (zero for constant-D stages).
    fn exps(&self, j: usize, i: usize) -> (f64, f64) {
        match &self.kinds[j] {
            Kind::Fixed(_) => (0.0, 0.0),
            Kind::Ma { k_ex, n_ext, z, .. } => {
                if k_ex[i] > 0.0 {
                    (n_ext[i], z[i])
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }

    /// Initial states: free dimer at its total, [H+] from the acidity without extraction.
    fn initial(&self, start: Option<&ChainSolution>) -> (Vec<f64>, Vec<f64>) {
        let n = self.n();
        let ch = self.chain;
        let mut phi = vec![0.0; n];
        let mut psi = vec![0.0; n];
        if let Some(s) = start {
            if s.free_dimer.len() == n && s.free_dimer.iter().all(|&f| f > 0.0 && f.is_finite()) {
                for j in 0..n {
                    phi[j] = s.free_dimer[j].ln();
                    psi[j] = proton_conc(s.h[j] / ch.flow_vol_aq[j]).0.ln();
                }
                return (phi, psi);
            }
        }
        let mut h = vec![0.0; n];
        for j in (0..n).rev() {
            h[j] = ch.acid_ext[j] - self.base * ch.base_ext[j]
                + if self.link[j] { h[j + 1] } else { 0.0 };
        }
        for j in 0..n {
            phi[j] = match &self.kinds[j] {
                Kind::Ma { conc, .. } => conc.ln(),
                Kind::Fixed(_) => 0.0,
            };
            let c = (h[j] / ch.flow_vol_aq[j]).max(INITIAL_ACIDITY_FLOOR);
            psi[j] = proton_conc(c).0.ln();
        }
        (phi, psi)
    }

    fn with_scale(&self, t: f64, base: f64) -> ReducedMa<'c> {
        ReducedMa {
            chain: self.chain,
            kinds: self
                .kinds
                .iter()
                .map(|kd| match kd {
                    Kind::Fixed(v) => Kind::Fixed(v.clone()),
                    Kind::Ma {
                        k_ex,
                        n_ext,
                        z,
                        conc,
                    } => Kind::Ma {
                        k_ex: k_ex.clone(),
                        n_ext: n_ext.clone(),
                        z: z.clone(),
                        conc: *conc,
                    },
                })
                .collect(),
            link: self.link.clone(),
            t,
            base,
        }
    }

    /// Newton with a backtracking line search on `sum G^2`.
    fn newton_from(&self, mut phi: Vec<f64>, mut psi: Vec<f64>, max_iter: usize) -> Iterate {
        let (n, m) = (self.n(), self.m());
        let mut k = vec![0.0; n * m];
        let mut a = vec![0.0; n * m];
        let mut h = vec![0.0; n];
        let mut g = vec![0.0; 2 * n];
        self.ratios(&phi, &psi, &mut k);
        let fail = |phi, psi, a, k, h| Iterate {
            phi,
            psi,
            a,
            k,
            h,
            iterations: 0,
            converged: false,
            failed: true,
        };
        if !self.flows(&k, &mut a, &mut h) {
            return fail(phi, psi, a, k, h);
        }
        let mut merit = self.residuals(&phi, &psi, &a, &k, &h, &mut g);
        let mut iterations = 0;
        let mut phi_t = vec![0.0; n];
        let mut psi_t = vec![0.0; n];
        let mut k_t = vec![0.0; n * m];
        let mut a_t = vec![0.0; n * m];
        let mut h_t = vec![0.0; n];
        let mut g_t = vec![0.0; 2 * n];
        while iterations < max_iter {
            let gmax = g.iter().fold(0.0f64, |w, v| w.max(v.abs()));
            if gmax <= G_TOL || !merit.is_finite() {
                break;
            }
            iterations += 1;
            let Some(step) = self.newton_step(&a, &k, &h, &phi, &g) else {
                break;
            };
            // Direction-preserving cap on the largest log change.
            let big = step.iter().fold(0.0f64, |w, v| w.max(v.abs()));
            let mut lambda = if big > MAX_STEP { MAX_STEP / big } else { 1.0 };
            let mut accepted = false;
            for _ in 0..30 {
                for j in 0..n {
                    phi_t[j] = phi[j] + lambda * step[2 * j];
                    psi_t[j] = psi[j] + lambda * step[2 * j + 1];
                }
                self.ratios(&phi_t, &psi_t, &mut k_t);
                if self.flows(&k_t, &mut a_t, &mut h_t) {
                    let mt = self.residuals(&phi_t, &psi_t, &a_t, &k_t, &h_t, &mut g_t);
                    if mt.is_finite() && mt < (1.0 - 1e-4 * lambda) * merit {
                        accepted = true;
                        break;
                    }
                }
                lambda *= 0.5;
            }
            if !accepted {
                break;
            }
            std::mem::swap(&mut phi, &mut phi_t);
            std::mem::swap(&mut psi, &mut psi_t);
            std::mem::swap(&mut k, &mut k_t);
            std::mem::swap(&mut a, &mut a_t);
            std::mem::swap(&mut h, &mut h_t);
            std::mem::swap(&mut g, &mut g_t);
            merit = self.residuals(&phi, &psi, &a, &k, &h, &mut g);
        }
        let gmax = g.iter().fold(0.0f64, |w, v| w.max(v.abs()));
        Iterate {
            phi,
            psi,
            a,
            k,
            h,
            iterations,
            converged: gmax <= G_CONVERGED,
            failed: false,
        }
    }

    /// Solves the chain: Newton from the initial states, else continuation in the extraction
    /// constants. The chain's residual check decides the status.
    pub(crate) fn solve(&self, start: Option<&ChainSolution>) -> ChainSolution {
        let (phi0, psi0) = self.initial(start);
        let mut its = 0;
        let first = self.newton_from(phi0, psi0, MAX_ITER_DIRECT);
        its += first.iterations;
        if first.converged {
            return self.finish(first, its);
        }
        // Continuation in the extraction constants, from nearly no extraction.
        let (phi0, psi0) = self.initial(None);
        let mut lt = T_START.ln();
        let mut cur = self
            .with_scale(T_START, 1.0)
            .newton_from(phi0, psi0, MAX_ITER_DIRECT);
        its += cur.iterations;
        if !cur.converged {
            return self.finish(first, its);
        }
        let mut dlt: f64 = 2.0;
        while lt < 0.0 && dlt > 1e-3 && its < MAX_TOTAL {
            let next = (lt + dlt).min(0.0);
            let trial = self.with_scale(next.exp(), 1.0).newton_from(
                cur.phi.clone(),
                cur.psi.clone(),
                MAX_ITER_STEP,
            );
            its += trial.iterations;
            if trial.converged {
                lt = next;
                cur = trial;
                dlt = (dlt * 1.5).min(6.0);
            } else {
                dlt *= 0.5;
            }
        }
        if lt >= 0.0 {
            self.finish(cur, its)
        } else {
            self.finish(first, its)
        }
    }

    /// Newton from the states a previous solution implies, at most `max_iter` iterations and
    /// no continuation: the solution when the chain's check accepts it, else the iterations
    /// spent.
    pub(crate) fn solve_direct(
        &self,
        start: &ChainSolution,
        max_iter: usize,
    ) -> Result<ChainSolution, usize> {
        let (phi, psi) = self.initial(Some(start));
        let it = self.newton_from(phi, psi, max_iter);
        if !it.converged || it.failed {
            return Err(it.iterations);
        }
        let spent = it.iterations;
        crate::chain::converged_or_spent(self.finish(it, spent))
    }

    fn finish(&self, it: Iterate, iterations: usize) -> ChainSolution {
        let o: Vec<f64> = it.a.iter().zip(&it.k).map(|(x, r)| x * r).collect();
        if it.failed {
            return self.chain.finish_failed(it.a, o);
        }
        self.chain.finish_with_h(iterations, it.a, o, it.h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Chain {
        crate::chain::test_fixtures::mass_action_chain(1.0)
    }

    /// The Newton step solves the linearized state equations: a finite-difference directional
    /// derivative along the step equals `-G`.
    #[test]
    fn newton_step_matches_finite_differences() {
        let ch = chain();
        let red = ReducedMa::new(&ch).expect("mass action chain");
        let (n, m) = (ch.n_stages, ch.n_elements);
        let phi: Vec<f64> = (0..n).map(|j| (0.1 + 0.02 * j as f64).ln()).collect();
        let psi: Vec<f64> = (0..n).map(|j| (0.05 + 0.01 * j as f64).ln()).collect();
        let eval = |phi: &[f64], psi: &[f64]| {
            let mut k = vec![0.0; n * m];
            let mut a = vec![0.0; n * m];
            let mut h = vec![0.0; n];
            let mut g = vec![0.0; 2 * n];
            red.ratios(phi, psi, &mut k);
            assert!(red.flows(&k, &mut a, &mut h));
            red.residuals(phi, psi, &a, &k, &h, &mut g);
            (k, a, h, g)
        };
        let (k, a, h, g) = eval(&phi, &psi);
        let step = red.newton_step(&a, &k, &h, &phi, &g).expect("step");
        let eps = 1e-7;
        let phi2: Vec<f64> = (0..n).map(|j| phi[j] + eps * step[2 * j]).collect();
        let psi2: Vec<f64> = (0..n).map(|j| psi[j] + eps * step[2 * j + 1]).collect();
        let (_, _, _, g2) = eval(&phi2, &psi2);
        for q in 0..2 * n {
            let d = (g2[q] - g[q]) / eps;
            assert!(
                (d + g[q]).abs() <= 1e-5 * (1.0 + g[q].abs()),
                "{q}: {d} vs {}",
                -g[q]
            );
        }
    }
}
