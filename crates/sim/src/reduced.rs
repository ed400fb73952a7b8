//! Reduced-space Newton for chains whose stage equilibrium is a per-element ratio times one
//! scalar state per stage: the separation-factor model (`o_i = theta beta_i a_i`, with
//! `theta = Y / sum_k beta_k a_k`) next to constant-D stages, Murphree efficiency 1.
//!
//! For given stage states `theta_j` the element balances are linear and decouple: one
//! conservative tridiagonal solve per element ([`gth_chain_solve`]) gives flows that are
//! non-negative and balanced to rounding however stiff the chain. What remains is one equation
//! per stage, the loading `G_j = ln theta_j + ln sum_i beta_i a_ji - ln Y_j = 0` (the organic REE
//! flow the model fixes: `E_j` times the aqueous REE flow, or the capacity times the organic
//! flow). Its Newton step is the stage-state part of the full-space Newton step taken from a
//! balanced point, so it comes out of one block-tridiagonal solve (blocks of `m + 1`: element
//! flows and `ln theta`), linear in the number of stages. The line search works on
//! `sum_j G_j^2`; where it fails, the fixed-point step `ln theta <- ln theta - G` (Xu's
//! normalized substitution) is taken instead.

// Index loops mirror the stage/element algebra.
#![allow(clippy::needless_range_loop)]

use crate::chain::{Chain, ChainSolution};
use crate::equilibrium::{SfLoading, StageModel};
use crate::linalg::{dense_solve, gth_chain_solve, thomas, BlockScratch, BlockTridiag, Lu};

/// Largest change of `ln theta` in one step.
const MAX_STEP: f64 = 3.0;
/// Loading residual (log scale) that counts as solved; the chain's own check decides the status.
const G_TOL: f64 = 1e-13;
const MAX_ITER: usize = 200;
/// Iterations of the direct attempt before continuation takes over.
const MAX_ITER_DIRECT: usize = 60;
/// Iterations per round of a direct attempt (see [`Reduced::solve_direct`]).
const DIRECT_ROUND: usize = 6;
/// Iterations per continuation step.
const MAX_ITER_STEP: usize = 30;
/// Iterations over all continuation steps.
const MAX_TOTAL: usize = 4000;
/// Loading residual below which a continuation step counts as solved.
const G_CONVERGED: f64 = 1e-11;

/// State of a reduced Newton solve.
struct Iterate {
    phi: Vec<f64>,
    a: Vec<f64>,
    k: Vec<f64>,
    iterations: usize,
    converged: bool,
    failed: bool,
    /// Largest loading residual at the start and at the end.
    gmax_start: f64,
    gmax: f64,
}

/// Storage of the Newton step, kept between the iterations of one solve.
struct StepWork {
    jac: BlockTridiag,
    rhs: Vec<f64>,
    scratch: BlockScratch,
    x: Vec<f64>,
}

impl Default for StepWork {
    fn default() -> StepWork {
        StepWork {
            jac: BlockTridiag::zeros(0, 0),
            rhs: Vec::new(),
            scratch: BlockScratch::default(),
            x: Vec::new(),
        }
    }
}

/// How a stage's organic/aqueous ratios are fixed.
enum Kind {
    /// Fixed ratio per element (constant D, or a separation-factor stage without loading).
    Fixed(Vec<f64>),
    /// Separation factor: `k_i = theta beta_i`, `theta` from the loading equation.
    Sf {
        beta: Vec<f64>,
        /// `Some(E)`: organic REE flow = E x aqueous REE flow; `None`: fixed flow `y_fixed`.
        ratio: Option<f64>,
        y_fixed: f64,
    },
}

pub(crate) struct Reduced<'c> {
    chain: &'c Chain,
    kinds: Vec<Kind>,
    link: Vec<bool>,
    /// Independent cross-check: element flows by classical Thomas elimination and the Newton
    /// step from the dense reduced Jacobian (exact sensitivities from dense LU of each
    /// element's chain matrix), instead of conservative solves and the block-tridiagonal step.
    dense: bool,
}

impl<'c> Reduced<'c> {
    /// The reduced problem of a chain, or `None` when the chain has other models or a Murphree
    /// efficiency below 1.
    pub(crate) fn new(chain: &'c Chain, dense: bool) -> Option<Reduced<'c>> {
        let (n, m) = (chain.n_stages, chain.n_elements);
        if chain.murphree.iter().any(|&e| e < 1.0) {
            return None;
        }
        let mut kinds = Vec::with_capacity(n);
        let mut any_sf = false;
        for j in 0..n {
            let ratio_vol = chain.flow_vol_org[j] / chain.flow_vol_aq[j];
            let kind = match &chain.models[chain.model_of_stage[j]] {
                StageModel::Linear { d_ratio } => {
                    Kind::Fixed(d_ratio.iter().map(|d| d * ratio_vol).collect())
                }
                StageModel::SeparationFactor { beta, loading } => {
                    let (ratio, y_fixed) = match *loading {
                        SfLoading::Ratio(e) => (Some(e), 0.0),
                        SfLoading::Capacity(l) => (None, l * chain.flow_vol_org[j]),
                        SfLoading::None => (None, 0.0),
                    };
                    let active =
                        ratio.is_some_and(|e| e > 0.0) || (ratio.is_none() && y_fixed > 0.0);
                    if active && beta.iter().any(|&b| b > 0.0) {
                        any_sf = true;
                        Kind::Sf {
                            beta: beta.clone(),
                            ratio,
                            y_fixed,
                        }
                    } else {
                        Kind::Fixed(vec![0.0; m])
                    }
                }
                _ => return None,
            };
            kinds.push(kind);
        }
        if !any_sf {
            return None;
        }
        let link = (0..n).map(|j| chain.aq_from_next[j] && j + 1 < n).collect();
        Some(Reduced {
            chain,
            kinds,
            link,
            dense,
        })
    }

    fn n(&self) -> usize {
        self.chain.n_stages
    }

    fn m(&self) -> usize {
        self.chain.n_elements
    }

    /// Stage ratios `k` (n * m) for stage states `phi = ln theta`.
    fn ratios(&self, phi: &[f64], k: &mut [f64]) {
        let m = self.m();
        for (j, kind) in self.kinds.iter().enumerate() {
            match kind {
                Kind::Fixed(v) => k[j * m..(j + 1) * m].copy_from_slice(v),
                Kind::Sf { beta, .. } => {
                    let t = phi[j].exp();
                    for i in 0..m {
                        k[j * m + i] = t * beta[i];
                    }
                }
            }
        }
    }

    /// Dense matrix of element `i`'s chain for ratios `k` (row-major n x n).
    fn dense_matrix(&self, k: &[f64], i: usize) -> Vec<f64> {
        let (n, m) = (self.n(), self.m());
        let mut mat = vec![0.0; n * n];
        for j in 0..n {
            mat[j * n + j] = 1.0 + k[j * m + i];
            if j > 0 {
                mat[j * n + j - 1] = -k[(j - 1) * m + i];
            }
            if self.link[j] {
                mat[j * n + j + 1] = -1.0;
            }
        }
        mat
    }

    /// Element flows for stage ratios `k`: one conservative solve per element (dense LU in
    /// the cross-check).
    fn flows(&self, k: &[f64], a: &mut [f64]) -> bool {
        let (n, m) = (self.n(), self.m());
        if self.dense {
            // Classical Thomas elimination (pivots by subtraction): independent of the
            // conservative solve, and accurate wherever no element is trapped.
            let mut lower = vec![0.0; n];
            let mut diag = vec![0.0; n];
            let upper: Vec<f64> = (0..n)
                .map(|j| if self.link[j] { -1.0 } else { 0.0 })
                .collect();
            let mut rhs = vec![0.0; n];
            for i in 0..m {
                for j in 0..n {
                    diag[j] = 1.0 + k[j * m + i];
                    lower[j] = if j > 0 { -k[(j - 1) * m + i] } else { 0.0 };
                    rhs[j] = self.chain.aq_ext[j * m + i] + self.chain.org_ext[j * m + i];
                }
                let Some(x) = thomas(&lower, &diag, &upper, &rhs) else {
                    return false;
                };
                for j in 0..n {
                    a[j * m + i] = x[j].max(0.0);
                }
            }
            return true;
        }
        let mut kk = vec![0.0; n];
        let mut rhs = vec![0.0; n];
        let mut x = vec![0.0; n];
        for i in 0..m {
            for j in 0..n {
                kk[j] = k[j * m + i];
                rhs[j] = self.chain.aq_ext[j * m + i] + self.chain.org_ext[j * m + i];
            }
            if gth_chain_solve(&kk, &self.link, &rhs, &mut x).is_none() {
                return false;
            }
            for j in 0..n {
                a[j * m + i] = x[j];
            }
        }
        true
    }

    /// Loading residuals `G_j` (0 for stages without a state or without REE to load).
    fn loading_residuals(&self, phi: &[f64], a: &[f64], g: &mut [f64]) -> f64 {
        let m = self.m();
        let mut merit = 0.0;
        for (j, kind) in self.kinds.iter().enumerate() {
            g[j] = 0.0;
            if let Kind::Sf {
                beta,
                ratio,
                y_fixed,
            } = kind
            {
                let aj = &a[j * m..(j + 1) * m];
                let sigma: f64 = (0..m).map(|i| beta[i] * aj[i]).sum();
                let target = match ratio {
                    Some(e) => {
                        e * (0..m)
                            .filter(|&i| beta[i] > 0.0)
                            .map(|i| aj[i])
                            .sum::<f64>()
                    }
                    None => *y_fixed,
                };
                if sigma > 0.0 && target > 0.0 {
                    g[j] = phi[j] + sigma.ln() - target.ln();
                }
            }
            merit += g[j] * g[j];
        }
        merit
    }

    /// Initial stage states: the feed-weighted mean extractability in every stage, or the
    /// states implied by a previous solution of the same shape.
    fn initial(&self, start: Option<&ChainSolution>) -> Vec<f64> {
        let (n, m) = (self.n(), self.m());
        let mut tot = vec![0.0; m];
        for j in 0..n {
            for i in 0..m {
                tot[i] += self.chain.aq_ext[j * m + i] + self.chain.org_ext[j * m + i];
            }
        }
        let mut phi = vec![0.0; n];
        for (j, kind) in self.kinds.iter().enumerate() {
            let Kind::Sf {
                beta,
                ratio,
                y_fixed,
            } = kind
            else {
                continue;
            };
            if let Some(s) = start {
                let aj = &s.a[j * m..(j + 1) * m];
                let sigma: f64 = (0..m).map(|i| beta[i] * aj[i]).sum();
                let y: f64 = s.o[j * m..(j + 1) * m].iter().sum();
                if sigma > 0.0 && y > 0.0 && (y / sigma).is_finite() {
                    phi[j] = (y / sigma).ln();
                    continue;
                }
            }
            let sum_t: f64 = (0..m).filter(|&i| beta[i] > 0.0).map(|i| tot[i]).sum();
            let bbar = if sum_t > 0.0 {
                (0..m).map(|i| beta[i] * tot[i]).sum::<f64>() / sum_t
            } else {
                1.0
            };
            let theta = match ratio {
                Some(e) => e / bbar,
                None if sum_t > 0.0 => y_fixed / (bbar * sum_t),
                None => 1.0,
            };
            phi[j] = if theta > 0.0 && theta.is_finite() {
                theta.ln()
            } else {
                0.0
            };
        }
        phi
    }

    /// `d G_j / d a_ji` (zero where `G_j` is not an equation).
    fn loading_gradient(&self, a: &[f64], g: &[f64], j: usize) -> Vec<f64> {
        let m = self.m();
        let mut dg = vec![0.0; m];
        if let Kind::Sf { beta, ratio, .. } = &self.kinds[j] {
            if g[j] != 0.0 {
                let aj = &a[j * m..(j + 1) * m];
                let sigma: f64 = (0..m).map(|i| beta[i] * aj[i]).sum();
                let total: f64 = (0..m).filter(|&i| beta[i] > 0.0).map(|i| aj[i]).sum();
                for i in 0..m {
                    dg[i] = beta[i] / sigma;
                    if ratio.is_some() && beta[i] > 0.0 {
                        dg[i] -= 1.0 / total;
                    }
                }
            }
        }
        dg
    }

    /// Newton step from the dense reduced Jacobian `dG/dphi = I + dG/da da/dphi`, with
    /// `da_i/dphi_k = -o_ki M_i^-1 (e_k - e_(k+1))` (the organic of stage k leaves it and enters
    /// stage k + 1).
    fn dense_step(&self, a: &[f64], k: &[f64], g: &[f64]) -> Option<Vec<f64>> {
        let (n, m) = (self.n(), self.m());
        let mut jac = vec![0.0; n * n];
        let grads: Vec<Vec<f64>> = (0..n).map(|j| self.loading_gradient(a, g, j)).collect();
        for j in 0..n {
            jac[j * n + j] = 1.0;
        }
        let has_state: Vec<bool> = self
            .kinds
            .iter()
            .map(|kd| matches!(kd, Kind::Sf { .. }))
            .collect();
        let mut col = vec![0.0; n];
        for i in 0..m {
            let lu = Lu::factor(n, &self.dense_matrix(k, i))?;
            for q in 0..n {
                let o = k[q * m + i] * a[q * m + i];
                if !has_state[q] || o == 0.0 {
                    continue;
                }
                col.iter_mut().for_each(|v| *v = 0.0);
                col[q] = -o;
                if q + 1 < n {
                    col[q + 1] = o;
                }
                lu.solve_in_place(&mut col);
                for j in 0..n {
                    if g[j] != 0.0 {
                        jac[j * n + q] += grads[j][i] * col[j];
                    }
                }
            }
        }
        let rhs: Vec<f64> = g.iter().map(|v| -v).collect();
        dense_solve(n, &jac, &rhs)
    }

    /// Newton step in `phi` at a balanced point (a, k), or None when the linear solve fails.
    fn newton_step(&self, a: &[f64], k: &[f64], g: &[f64], ws: &mut StepWork) -> Option<Vec<f64>> {
        if self.dense {
            return self.dense_step(a, k, g);
        }
        let (n, m) = (self.n(), self.m());
        let b = m + 1;
        let bb = b * b;
        let StepWork {
            jac,
            rhs,
            scratch,
            x,
        } = ws;
        if jac.n != n || jac.m != b {
            *jac = BlockTridiag::zeros(n, b);
        } else {
            jac.clear();
        }
        rhs.clear();
        rhs.resize(n * b, 0.0);
        let ch = self.chain;
        // Flows below 1e-30 of the stage's total throughput are scaled against that floor (an
        // element that has decayed to underflow must not produce an infinite row scale).
        let floors: Vec<f64> = (0..n)
            .map(|j| {
                let tot: f64 = (0..m).map(|i| a[j * m + i] * (1.0 + k[j * m + i])).sum();
                (1e-30 * tot).max(1e-290)
            })
            .collect();
        let col = |q: usize| a[q].max(floors[q / m]);
        for j in 0..n {
            let floor = floors[j];
            let sf = matches!(self.kinds[j], Kind::Sf { .. });
            let sf_prev = j > 0 && matches!(self.kinds[j - 1], Kind::Sf { .. });
            for i in 0..m {
                let a_in = ch.aq_ext[j * m + i]
                    + ch.org_ext[j * m + i]
                    + if self.link[j] {
                        a[(j + 1) * m + i]
                    } else {
                        0.0
                    }
                    + if j > 0 {
                        k[(j - 1) * m + i] * a[(j - 1) * m + i]
                    } else {
                        0.0
                    };
                let out = a[j * m + i] * (1.0 + k[j * m + i]);
                let thr = a_in + out;
                let rs = 1.0 / (thr + floor);
                rhs[j * b + i] = -(a_in - out) * rs;
                let d = &mut jac.diag[j * bb..(j + 1) * bb];
                d[i * b + i] = -(1.0 + k[j * m + i]) * col(j * m + i) * rs;
                if sf {
                    d[i * b + m] = -k[j * m + i] * a[j * m + i] * rs;
                }
                if j > 0 {
                    let l = &mut jac.lower[j * bb..(j + 1) * bb];
                    l[i * b + i] = k[(j - 1) * m + i] * col((j - 1) * m + i) * rs;
                    if sf_prev {
                        l[i * b + m] = k[(j - 1) * m + i] * a[(j - 1) * m + i] * rs;
                    }
                }
                if self.link[j] {
                    let u = &mut jac.upper[j * bb..(j + 1) * bb];
                    u[i * b + i] = col((j + 1) * m + i) * rs;
                }
            }
            let d = &mut jac.diag[j * bb..(j + 1) * bb];
            d[m * b + m] = 1.0;
            if let Kind::Sf { beta, ratio, .. } = &self.kinds[j] {
                if g[j] != 0.0 {
                    let aj = &a[j * m..(j + 1) * m];
                    let sigma: f64 = (0..m).map(|i| beta[i] * aj[i]).sum();
                    let total: f64 = (0..m).filter(|&i| beta[i] > 0.0).map(|i| aj[i]).sum();
                    for i in 0..m {
                        let mut dg = beta[i] / sigma;
                        if ratio.is_some() && beta[i] > 0.0 {
                            dg -= 1.0 / total;
                        }
                        d[m * b + i] = dg * aj[i].max(floor);
                    }
                    rhs[j * b + m] = -g[j];
                }
            }
        }
        if !jac.solve_with(rhs, scratch, x) {
            return None;
        }
        Some((0..n).map(|j| x[j * b + m]).collect())
    }

    /// The same problem with every separation factor raised to the power `t` (continuation:
    /// at `t = 0` all elements load alike and the loading equations are solved by
    /// `theta = E` or `Y / A`).
    fn with_beta_power(&self, t: f64) -> Reduced<'c> {
        let kinds = self
            .kinds
            .iter()
            .map(|kd| match kd {
                Kind::Fixed(v) => Kind::Fixed(v.clone()),
                Kind::Sf {
                    beta,
                    ratio,
                    y_fixed,
                } => Kind::Sf {
                    beta: beta
                        .iter()
                        .map(|&b| if b > 0.0 { b.powf(t) } else { 0.0 })
                        .collect(),
                    ratio: *ratio,
                    y_fixed: *y_fixed,
                },
            })
            .collect();
        Reduced {
            chain: self.chain,
            kinds,
            link: self.link.clone(),
            dense: self.dense,
        }
    }

    /// Solves the chain; the status is decided by the chain's residual check. Newton from the
    /// initial states; when it does not converge, continuation in the separation factors
    /// (`beta^t`, `t` from 0 to 1), each step started from the previous solution.
    pub(crate) fn solve(&self, start: Option<&ChainSolution>) -> ChainSolution {
        let phi0 = self.initial(start);
        let mut its = 0;
        let first = self.newton_from(phi0, MAX_ITER_DIRECT);
        its += first.iterations;
        if first.converged {
            return self.finish(first, its);
        }
        let mut t: f64 = 0.0;
        let mut dt: f64 = 0.25;
        let mut cur = self
            .with_beta_power(0.0)
            .newton_from(self.initial(None), MAX_ITER);
        its += cur.iterations;
        if !cur.converged {
            return self.finish(first, its);
        }
        // Predictor-corrector: each step starts from the secant extrapolation of the last two
        // solutions along t (measured on a 75-stage flagship circuit at 0.82x its feed grade:
        // from the previous solution alone, steps of 0.002 in t failed where the secant start
        // converges), and a step that stops converging is abandoned after a round instead of
        // its whole allowance. A step size that failed caps the growth until steps of that
        // size have been passed again.
        let mut prev: Option<(f64, Vec<f64>)> = None;
        let mut cap = f64::INFINITY;
        while t < 1.0 && dt > 1e-4 && its < MAX_TOTAL && !self.chain.out_of_budget() {
            let next = (t + dt).min(1.0);
            let h = next - t;
            let start = match &prev {
                Some((tp, pp)) if t > *tp => {
                    let r = h / (t - tp);
                    cur.phi
                        .iter()
                        .zip(pp)
                        .map(|(c, p)| c + (r * (c - p)).clamp(-MAX_STEP, MAX_STEP))
                        .collect()
                }
                _ => cur.phi.clone(),
            };
            let trial = self
                .with_beta_power(next)
                .newton_rounds(start, MAX_ITER_STEP);
            its += trial.iterations;
            if trial.converged {
                prev = Some((t, std::mem::take(&mut cur.phi)));
                t = next;
                cur = trial;
                cap *= 1.25;
                dt = (dt * 2.0).min(0.5).min(cap);
            } else {
                cap = 0.75 * h;
                dt = 0.5 * h;
            }
        }
        if t >= 1.0 {
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
        self.solve_direct_with(start, max_iter, false)
    }

    /// [`Reduced::solve_direct`]; with `rounds`, an attempt that stops converging ends early
    /// (for starts that may lie outside Newton's basin, such as an optimizer's predicted state,
    /// where a cheaper fallback exists; a shortened chain's start converges slowly but surely,
    /// and gets the whole budget).
    pub(crate) fn solve_direct_with(
        &self,
        start: &ChainSolution,
        max_iter: usize,
        rounds: bool,
    ) -> Result<ChainSolution, usize> {
        // In rounds of DIRECT_ROUND iterations: a round that does not cut the largest residual
        // tenfold ends the attempt (Newton from a start in its basin of attraction does far
        // better; from outside it the remaining iterations are spent in vain: measured on a
        // 1,000-stage, 15-element cascade, failed warm attempts stalled at residuals of 1e-4
        // for all 25 iterations).
        let mut phi = self.initial(Some(start));
        let mut spent = 0;
        loop {
            let round = if rounds {
                DIRECT_ROUND.min(max_iter - spent)
            } else {
                max_iter - spent
            };
            let it = self.newton_from(phi, round);
            spent += it.iterations;
            if it.failed {
                return Err(spent);
            }
            if it.converged {
                return crate::chain::converged_or_spent(self.finish(it, spent));
            }
            // Near the rounding floor a tenfold cut is not to be had: that is not a stall.
            let stalled = it.gmax > 0.1 * it.gmax_start && it.gmax > 1e3 * G_CONVERGED;
            if spent >= max_iter || it.iterations < round || stalled {
                return Err(spent);
            }
            phi = it.phi;
        }
    }

    fn finish(&self, it: Iterate, iterations: usize) -> ChainSolution {
        if it.failed {
            return self.fail(it.a, it.k);
        }
        let o: Vec<f64> = it.a.iter().zip(&it.k).map(|(x, r)| x * r).collect();
        self.chain.finish_public(iterations, it.a, o)
    }

    /// [`Reduced::newton_from`] in rounds of [`DIRECT_ROUND`] iterations, at most `max_iter`
    /// in all: a round that does not cut the largest residual tenfold (away from the rounding
    /// floor) ends the attempt.
    fn newton_rounds(&self, phi: Vec<f64>, max_iter: usize) -> Iterate {
        let mut it = self.newton_from(phi, DIRECT_ROUND.min(max_iter));
        let (gmax_start, mut spent) = (it.gmax_start, it.iterations);
        while !it.converged && !it.failed && spent < max_iter && it.iterations == DIRECT_ROUND {
            let stalled = it.gmax > 0.1 * it.gmax_start && it.gmax > 1e3 * G_CONVERGED;
            if stalled {
                break;
            }
            it = self.newton_from(
                std::mem::take(&mut it.phi),
                DIRECT_ROUND.min(max_iter - spent),
            );
            spent += it.iterations;
        }
        it.iterations = spent;
        it.gmax_start = gmax_start;
        it
    }

    /// Newton with line search on `sum G^2` (fixed-point steps where it fails) from `phi`.
    fn newton_from(&self, mut phi: Vec<f64>, max_iter: usize) -> Iterate {
        let (n, m) = (self.n(), self.m());
        let mut k = vec![0.0; n * m];
        let mut a = vec![0.0; n * m];
        let mut g = vec![0.0; n];
        self.ratios(&phi, &mut k);
        if !self.flows(&k, &mut a) {
            return Iterate {
                phi,
                a,
                k,
                iterations: 0,
                converged: false,
                failed: true,
                gmax_start: f64::INFINITY,
                gmax: f64::INFINITY,
            };
        }
        let mut merit = self.loading_residuals(&phi, &a, &mut g);
        let gmax_start = g.iter().fold(0.0f64, |w, v| w.max(v.abs()));
        let mut iterations = 0;
        let mut phi_t = vec![0.0; n];
        let mut k_t = vec![0.0; n * m];
        let mut a_t = vec![0.0; n * m];
        let mut g_t = vec![0.0; n];
        let mut stall = 0;
        let mut ws = StepWork::default();
        while iterations < max_iter {
            let gmax = g.iter().fold(0.0f64, |w, v| w.max(v.abs()));
            if gmax <= G_TOL || !merit.is_finite() || self.chain.out_of_budget() {
                break;
            }
            iterations += 1;
            self.chain.allowance.spend();
            let mut accepted = false;
            let step_opt = self.newton_step(&a, &k, &g, &mut ws);
            if let Some(step) = step_opt {
                let mut lambda = 1.0;
                for _ in 0..12 {
                    for j in 0..n {
                        phi_t[j] = phi[j] + (lambda * step[j]).clamp(-MAX_STEP, MAX_STEP);
                    }
                    self.ratios(&phi_t, &mut k_t);
                    if self.flows(&k_t, &mut a_t) {
                        let mt = self.loading_residuals(&phi_t, &a_t, &mut g_t);
                        if mt.is_finite() && mt < (1.0 - 1e-4 * lambda) * merit {
                            accepted = true;
                            break;
                        }
                    }
                    lambda *= 0.5;
                }
            }
            if !accepted {
                // Fixed-point step: theta_j = Y_j / sigma_j at the current flows.
                for j in 0..n {
                    phi_t[j] = phi[j] - g[j].clamp(-MAX_STEP, MAX_STEP);
                }
                self.ratios(&phi_t, &mut k_t);
                if !self.flows(&k_t, &mut a_t) {
                    break;
                }
                let mt = self.loading_residuals(&phi_t, &a_t, &mut g_t);
                if mt >= merit || mt.is_nan() {
                    stall += 1;
                    if stall > 20 && gmax < 1e-9 {
                        // Rounding floor reached.
                        break;
                    }
                }
            }
            std::mem::swap(&mut phi, &mut phi_t);
            std::mem::swap(&mut k, &mut k_t);
            std::mem::swap(&mut a, &mut a_t);
            std::mem::swap(&mut g, &mut g_t);
            merit = self.loading_residuals(&phi, &a, &mut g);
        }
        let gmax = g.iter().fold(0.0f64, |w, v| w.max(v.abs()));
        Iterate {
            phi,
            a,
            k,
            iterations,
            converged: gmax <= G_CONVERGED,
            failed: false,
            gmax_start,
            gmax,
        }
    }

    fn fail(&self, a: Vec<f64>, k: Vec<f64>) -> ChainSolution {
        let o: Vec<f64> = a.iter().zip(&k).map(|(x, r)| x * r).collect();
        self.chain.finish_failed(a, o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-section chain: extraction (ratio), scrub (ratio), strip (no loading).
    fn chain(ne: usize, ns: usize, nt: usize, beta: Vec<f64>, feed: Vec<f64>) -> Chain {
        let n = ne + ns + nt;
        let m = beta.len();
        let mut aq_ext = vec![0.0; n * m];
        aq_ext[(ne - 1) * m..ne * m].copy_from_slice(&feed);
        let models = vec![
            StageModel::SeparationFactor {
                beta: beta.clone(),
                loading: SfLoading::Ratio(0.8),
            },
            StageModel::SeparationFactor {
                beta: beta.clone(),
                loading: SfLoading::Ratio(1.6),
            },
            StageModel::SeparationFactor {
                beta,
                loading: SfLoading::None,
            },
        ];
        let model_of_stage = (0..n)
            .map(|j| {
                if j < ne {
                    0
                } else if j < ne + ns {
                    1
                } else {
                    2
                }
            })
            .collect();
        Chain {
            n_stages: n,
            n_elements: m,
            flow_vol_aq: vec![1.0; n],
            flow_vol_org: vec![1.0; n],
            aq_from_next: (0..n).map(|j| j + 1 != ne + ns).collect(),
            aq_ext,
            org_ext: vec![0.0; n * m],
            acid_ext: vec![0.0; n],
            base_ext: vec![0.0; n],
            murphree: vec![1.0; n],
            models,
            model_of_stage,
            z_exchange: vec![3.0; m],
            deadline: crate::budget::Deadline::NONE,
            allowance: Default::default(),
        }
    }

    /// The chain solve (Newton from the solution of the chain with shortened sections) and the
    /// reduced Newton from its own flat start reach the same flows; the long chain converges.
    #[test]
    fn coarse_start_reaches_the_direct_solution() {
        let beta = vec![1.0, 1.3, 1.7, 2.2, 2.9];
        let feed = vec![0.2; 5];
        let c = chain(60, 30, 10, beta.clone(), feed.clone());
        let direct = Reduced::new(&c, false).unwrap().solve(None);
        let start = c
            .coarse_start()
            .ok()
            .flatten()
            .expect("the shortened chain converges");
        let coarse = c.solve_newton_direct(&start).expect("converges from it");
        assert_eq!(direct.status, crate::SolveStatus::Converged);
        assert_eq!(coarse.status, crate::SolveStatus::Converged);
        let d = crate::chain::test_fixtures::flow_difference(&direct, &coarse, 1e-12);
        assert!(d <= 1e-9, "flows differ by {d:e}");
        let long = chain(1200, 600, 200, beta, feed);
        let start = long
            .coarse_start()
            .ok()
            .flatten()
            .expect("the shortened chains converge");
        let sol = long
            .solve_newton_direct(&start)
            .expect("converges from them");
        assert_eq!(sol.status, crate::SolveStatus::Converged);
    }

    #[test]
    fn newton_step_matches_finite_differences() {
        let c = chain(6, 5, 3, vec![1.0, 2.0, 5.0], vec![0.3, 0.5, 0.2]);
        let r = Reduced::new(&c, false).unwrap();
        let n = c.n_stages;
        let m = c.n_elements;
        let phi: Vec<f64> = (0..n).map(|j| -0.5 + 0.05 * j as f64).collect();
        let eval = |phi: &[f64]| {
            let mut k = vec![0.0; n * m];
            let mut a = vec![0.0; n * m];
            let mut g = vec![0.0; n];
            r.ratios(phi, &mut k);
            assert!(r.flows(&k, &mut a));
            r.loading_residuals(phi, &a, &mut g);
            (k, a, g)
        };
        let (k, a, g) = eval(&phi);
        let step = r.newton_step(&a, &k, &g, &mut StepWork::default()).unwrap();
        let mut jac = vec![0.0; n * n];
        for q in 0..n {
            let mut p = phi.clone();
            p[q] += 1e-6;
            let (_, _, gp) = eval(&p);
            let mut p2 = phi.clone();
            p2[q] -= 1e-6;
            let (_, _, gm) = eval(&p2);
            for r in 0..n {
                jac[r * n + q] = (gp[r] - gm[r]) / 2e-6;
            }
        }
        // Stages without a state: identity rows (G = 0 there).
        for j in 11..n {
            jac[j * n + j] = 1.0;
        }
        let rhs: Vec<f64> = g.iter().map(|v| -v).collect();
        let fd = dense_solve(n, &jac, &rhs).unwrap();
        for (p, q) in step.iter().zip(&fd) {
            assert!((p - q).abs() < 1e-6 * (1.0 + q.abs()), "{p} vs {q}");
        }
    }
}
