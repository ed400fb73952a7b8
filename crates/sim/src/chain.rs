//! Countercurrent chain of stages (one SX circuit) solved for given external inflows.
//!
//! Stages `0..n` (stage `j` here is circuit stage `j + 1`). The organic flows `0 -> n-1` through
//! every stage; stage `j` receives the aqueous outlet of stage `j + 1` when `aq_from_next[j]`
//! (inside a section and from a scrub into the extraction section below), otherwise its aqueous
//! comes only from external inflows.
//!
//! Unknowns per stage: aqueous element outflows `a_j` (mol/h), the organic outflows `o_j` when a
//! Murphree efficiency below 1 makes them independent of `a_j`, and the net acidity outflow `h_j`
//! (mol/h of H+) when the equilibrium depends on acidity. Equations per stage:
//! - element balance: `a_in + o_in - a_j - o_j = 0`, `a_in = A_j + [link] a_(j+1)`,
//!   `o_in = O_j + o_(j-1)`;
//! - Murphree (organic basis): `o_j = o_in + eta_j (o*_j(a_j, h_j) - o_in)`;
//! - proton balance: `h_j = H_j + [link] h_(j+1) - B_j + sum_i z_i (o_ji - o_in,i)` (every ion
//!   loaded releases z_i protons; base B_j from saponified organic neutralizes acid).
//!
//! Linear models (`distribution`) are solved directly per element (a conservative GTH-style
//! Thomas elimination, or 2 x 2 block Thomas with Murphree efficiency). Separation-factor chains
//! (Murphree 1) go to the reduced-space Newton of the `reduced` module. Other nonlinear models
//! use Newton's method on the
//! block-tridiagonal Jacobian with row/column scaling, damped log-space steps, and continuation in
//! the feed scale when Newton stalls. [`Algorithm::Substitution`] is an independent successive
//! substitution on stage distribution ratios (dense linear solves up to 400 stages, except on
//! pH-model chains, where dense LU loses the trace elements), used to cross-check.

// Index loops mirror the stage/element algebra.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use crate::bounded_ma::BoundedMa;
use crate::budget::Deadline;
use crate::equilibrium::{EqJac, SfLoading, StageModel};
use crate::linalg::{dense_solve, gth_chain_solve, thomas, BlockLu, BlockScratch, BlockTridiag};
use crate::reduced::Reduced;
use crate::SolveStatus;

/// Relative residual (per stage and element, over the stage throughput) that counts as converged.
pub const TOLERANCE: f64 = 1e-11;
/// Flows below this fraction of a stage's total throughput are measured against that floor.
const FLOOR: f64 = 1e-30;
/// Share of an element's total inflow to the chain below which residuals count as absolute.
const CHAIN_FLOOR: f64 = 1e-13;
const MAX_NEWTON: usize = 60;
const MAX_LOG_STEP: f64 = 5.0;
/// Largest stage ratio o*/a used by substitution (beyond it the element is all in the organic).
const MAX_RATIO: f64 = 1e30;
/// Largest chain the cross-check solves with dense reduced Newton (O(n^3) per iteration).
const DENSE_REDUCED_MAX: usize = 400;
/// Largest mass-action chain the general Newton retries when the reduced Newton fails (it
/// grows much worse than linearly with the stage count).
const GENERAL_MAX: usize = 60;
/// Stages kept at each end of a long section by the shorter chain that gives Newton its
/// starting estimate ([`Chain::coarsened`]). 5 rather than 10 (measured 2026-12-04: the
/// concentrated mass-action chain at 1,000 stages 292 iterations, 0.26 s, against 308, 0.30-0.36
/// s; the flagship optimization same objective and passes, 2.27-2.29 s against 2.34-2.52 s;
/// prop_ph counts unchanged).
const COARSE_KEEP: usize = 5;
/// Shortest chain that starts Newton from its shortened chain: shorter sections seldom reach
/// a pinch, and a flat start converges as fast.
const COARSE_MIN_STAGES: usize = 100;
/// For the chains the bounded mass-action solver takes ([`Chain::is_bounded_ma`]): stages
/// kept at each end of a long section, and the shortest shorter chain that is itself started
/// from a shorter one. Their cold solve marches in pseudo-time, about 50-260 iterations
/// whatever the length, so the shortest chain of the sequence sets its cost (measured
/// 2026-12-07 on the concentrated benchmark at 1,000 stages: with 5 and 100, as for the other
/// chains, the sequence ended at 70 stages, which took 263 of the 292 iterations and 0.13 s of
/// the 0.23 s; with 3 and 20 it ended at 24 stages, which marched 49 iterations, 11-18 ms;
/// with 1 and 10 it ends at 12 stages, 29 iterations, 7-11 ms, and the whole solve takes 53
/// iterations instead of 69, 1,088 -> 964 million instructions; tests/prop_ph.rs, 1,000
/// plants, the same counts in 65 s instead of 75 s). A chain shorter than
/// [`COARSE_MIN_STAGES`] still starts cold.
const MA_COARSE_KEEP: usize = 1;
const MA_STAND_IN_MIN_STAGES: usize = 10;

/// Stages from which a chain's residual check evaluates its stages in parallel, and the
/// fewest a task takes (as the bounded mass-action solver's stages: a stage's general
/// equilibrium costs some microseconds, a task's start some tens).
const CHECK_PARALLEL_MIN_STAGES: usize = 96;
const CHECK_STAGES_PER_TASK: usize = 32;
/// Newton iterations allowed from the shortened chain's solution before the usual start.
const COARSE_DIRECT_MAX: usize = 25;
/// Substitution passes before Newton takes over.
const WARM_PASSES: usize = 200;
/// Passes of the substitution cross-check (the run budget bounds them too).
const SUBSTITUTION_MAX_PASSES: usize = 20_000;
/// Lowest net acidity (mol/L) assumed when building the initial estimate.
const INITIAL_ACIDITY_FLOOR: f64 = 0.01;

/// Which algorithm solves a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Block-tridiagonal Newton (direct solve for linear models).
    Newton,
    /// Independent cross-check: successive substitution of stage distribution ratios, each
    /// pass a dense linear solve per element (above 400 stages, and for chains whose
    /// equilibrium depends on the acidity, the conservative per-element solve); for
    /// separation-factor chains of up to 400 stages, Newton on the stage loading states with a
    /// dense Jacobian from LU factors and classical Thomas solves for the element flows.
    Substitution,
}

/// `Ok(sol)` when the chain's own check found `sol` converged, else `Err(its iterations)`.
pub(crate) fn converged_or_spent(sol: ChainSolution) -> Result<ChainSolution, usize> {
    if sol.status == SolveStatus::Converged {
        Ok(sol)
    } else {
        Err(sol.iterations)
    }
}

/// Rows `idx[0], idx[1], ...` of `v`, a row-major table with `w` numbers per row.
fn gather_rows(v: &[f64], idx: &[usize], w: usize) -> Vec<f64> {
    idx.iter()
        .flat_map(|&q| v[q * w..(q + 1) * w].iter().copied())
        .collect()
}

/// A circuit reduced to numbers: flows, inflows, models.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Number of stages.
    pub n_stages: usize,
    /// Number of elements.
    pub n_elements: usize,
    /// Aqueous volumetric flow through each stage, L/h.
    pub flow_vol_aq: Vec<f64>,
    /// Organic volumetric flow through each stage, L/h.
    pub flow_vol_org: Vec<f64>,
    /// Stage j receives the aqueous outlet of stage j + 1.
    pub aq_from_next: Vec<bool>,
    /// External aqueous element inflow per stage, `n * m`, mol/h.
    pub aq_ext: Vec<f64>,
    /// External organic element inflow per stage, `n * m`, mol/h.
    pub org_ext: Vec<f64>,
    /// External acidity (H+) inflow per stage, mol/h (may be negative for a basic inflow).
    pub acid_ext: Vec<f64>,
    /// Base (saponification) inflow per stage, mol/h.
    pub base_ext: Vec<f64>,
    /// Murphree efficiency per stage, (0, 1].
    pub murphree: Vec<f64>,
    /// Distinct models.
    pub models: Vec<StageModel>,
    /// Model index per stage.
    pub model_of_stage: Vec<usize>,
    /// Protons released per ion loaded, per element.
    pub z_exchange: Vec<f64>,
    /// When the run must end: Newton iterations, continuation steps and substitution passes
    /// stop once it has passed (the solve then ends not converged; the simulator reports the
    /// spent budget). [`Deadline::NONE`] never passes.
    pub deadline: Deadline,
    /// The iterations left of the run's budget, checked where the deadline is.
    pub allowance: crate::budget::IterationAllowance,
}

/// Acidity of a chain whose equilibrium does not depend on it, with the saponification soap.
#[derive(Debug, Clone)]
pub(crate) struct SoapBalance {
    /// Net acidity outflow per stage, mol/h (negative only where the acid fed cannot cover
    /// what stripping consumes).
    pub h: Vec<f64>,
    /// Soap (base) still on the organic leaving the last stage, mol/h.
    pub soap_out: f64,
    /// Base released into the aqueous per stage, mol/h.
    #[allow(dead_code)]
    pub released: Vec<f64>,
}

/// Solution of a chain.
#[derive(Debug, Clone)]
pub struct ChainSolution {
    /// Outcome.
    pub status: SolveStatus,
    /// Newton iterations (or substitution passes), summed over continuation steps.
    pub iterations: usize,
    /// Maximum scaled residual.
    pub max_residual: f64,
    /// Aqueous outflow per stage and element, `n * m`, mol/h.
    pub a: Vec<f64>,
    /// Organic outflow per stage and element, `n * m`, mol/h.
    pub o: Vec<f64>,
    /// Net acidity outflow per stage, mol/h.
    pub h: Vec<f64>,
    /// Free dimer concentration per stage, mol/L (mass action; 0 otherwise).
    pub free_dimer: Vec<f64>,
}

#[derive(Debug, Clone)]
struct Layout {
    m: usize,
    has_o: bool,
    has_h: bool,
    /// Absolute floor per element for relative residuals: a 1e-12 share of what enters the
    /// chain, so stages the elements hardly reach are measured against the chain's throughput.
    floor: Vec<f64>,
    /// The same for the acidity rows.
    floor_h: f64,
}

impl Layout {
    fn block(&self) -> usize {
        self.m + if self.has_o { self.m } else { 0 } + usize::from(self.has_h)
    }
}

/// A converged chain linearized at its solution: the state in the general block layout and
/// the factored, scaled Jacobian of the stage residuals there (implicit function theorem: a
/// chain with other inputs or parameters is, to first order, one Newton step away).
#[derive(Debug, Clone)]
pub(crate) struct Linearized {
    lay: Layout,
    u0: Vec<f64>,
    lu: BlockLu,
    row: Vec<f64>,
    col: Vec<f64>,
}

impl Chain {
    /// True once the run's wall time or this solve's iteration allowance is spent.
    pub(crate) fn out_of_budget(&self) -> bool {
        self.deadline.passed() || self.allowance.exhausted()
    }

    /// Linearizes the chain at `sol` (a converged solution of it); `None` for an empty chain or
    /// a singular Jacobian.
    pub(crate) fn linearize(&self, sol: &ChainSolution) -> Option<Linearized> {
        let (n, m) = (self.n_stages, self.n_elements);
        if n == 0 || m == 0 || sol.a.len() != n * m {
            return None;
        }
        let lay = self.layout();
        let b = lay.block();
        let u0 = self.join_u(&lay, &sol.a, &sol.o, &sol.h);
        let mut o_eq = vec![0.0; n * m];
        let mut r = vec![0.0; n * b];
        self.residuals(&lay, &u0, &mut o_eq, &mut r);
        let mut jac = BlockTridiag::zeros(n, b);
        self.jacobian(&lay, &u0, &mut jac);
        let (mut row, mut col) = self.scales(&lay, &u0, &o_eq);
        // Element rows and columns are scaled alike, by the element's throughput of the stage
        // with a floor of 1e-30 of the stage's total: the diagonal blocks are then O(1) and no
        // coupling exceeds 1e30, so the elimination cannot overflow (the Newton scales let an
        // element that never enters reach 1e-308). Trace elements above the floor keep their
        // own scale, which the purity rows' relative derivatives need.
        for j in 0..n {
            let thr: Vec<f64> = (0..m)
                .map(|i| {
                    let o = self.org_out(&lay, &u0, &o_eq, j, i);
                    u0[j * b + i].abs() + o.abs() + self.aq_ext[j * m + i] + self.org_ext[j * m + i]
                })
                .collect();
            let tot: f64 = thr.iter().sum();
            let floor = (1e-30 * tot).max(1e-280);
            for i in 0..m {
                let s = thr[i].max(floor);
                row[j * b + i] = 1.0 / s;
                col[j * b + i] = s;
                if lay.has_o {
                    row[j * b + m + i] = 1.0 / s;
                    col[j * b + m + i] = s;
                }
            }
        }
        jac.scale(&row, &col);
        let lu = jac.factor()?;
        Some(Linearized {
            lay,
            u0,
            lu,
            row,
            col,
        })
    }

    /// This chain (the linearized one with other inputs or parameters) solved to first order:
    /// one Newton step from the linearization point, with the Jacobian factored there. The
    /// step is not clamped (a derivative must see negative increments too); `None` when the
    /// shapes differ or the solve fails.
    pub(crate) fn linear_step(&self, lin: &Linearized) -> Option<ChainSolution> {
        let (n, m) = (self.n_stages, self.n_elements);
        let lay = &lin.lay;
        let b = lay.block();
        if lin.u0.len() != n * b || lay.m != m {
            return None;
        }
        let mut o_eq = vec![0.0; n * m];
        let mut r = vec![0.0; n * b];
        self.residuals(lay, &lin.u0, &mut o_eq, &mut r);
        let rhs: Vec<f64> = r.iter().zip(&lin.row).map(|(v, s)| -v * s).collect();
        let step = lin.lu.solve(&rhs)?;
        let u: Vec<f64> = lin
            .u0
            .iter()
            .zip(step.iter().zip(&lin.col))
            .map(|(u0, (d, c))| u0 + d * c)
            .collect();
        self.residuals(lay, &u, &mut o_eq, &mut r);
        let mut a = vec![0.0; n * m];
        let mut o = vec![0.0; n * m];
        for j in 0..n {
            for i in 0..m {
                a[j * m + i] = u[j * b + i];
                o[j * m + i] = self.org_out(lay, &u, &o_eq, j, i);
            }
        }
        let h = if lay.has_h {
            (0..n).map(|j| u[j * b + b - 1]).collect()
        } else {
            self.acidity_profile(&a, &o)
        };
        Some(ChainSolution {
            status: SolveStatus::Converged,
            iterations: 0,
            max_residual: 0.0,
            a,
            o,
            h,
            free_dimer: vec![0.0; n],
        })
    }

    pub(crate) fn uses_acidity(&self) -> bool {
        self.models.iter().any(StageModel::uses_acidity)
    }

    fn all_linear(&self) -> bool {
        self.models.iter().all(StageModel::is_linear)
    }

    fn model(&self, j: usize) -> &StageModel {
        &self.models[self.model_of_stage[j]]
    }

    fn layout(&self) -> Layout {
        self.make_layout(self.murphree.iter().any(|&e| e < 1.0), self.uses_acidity())
    }

    fn make_layout(&self, has_o: bool, has_h: bool) -> Layout {
        let (n, m) = (self.n_stages, self.n_elements);
        let mut floor = vec![0.0; m];
        for j in 0..n {
            for i in 0..m {
                floor[i] += self.aq_ext[j * m + i] + self.org_ext[j * m + i];
            }
        }
        floor.iter_mut().for_each(|v| *v *= CHAIN_FLOOR);
        let h_tot: f64 =
            self.acid_ext.iter().map(|v| v.abs()).sum::<f64>() + self.base_ext.iter().sum::<f64>();
        Layout {
            m,
            has_o,
            has_h,
            floor,
            floor_h: CHAIN_FLOOR * h_tot,
        }
    }

    /// Runs `f` on a worker of the current rayon pool (the global one outside any pool) when
    /// the chain is long enough for the parallel parts of its solve
    /// ([`crate::linalg::parallel_pays`]; the block solves and the bounded solver's stage
    /// loops): they then hand work to the other threads without waking a blocked caller each
    /// time. Measured 2026-12-07: joined from a thread outside the pool, every small block
    /// solve of the flagship optimization paid a hand-off and the run took 2.65 s instead of
    /// 2.1 s; on a worker, the concentrated 1,000-stage benchmark 0.099 s -> 0.076 s.
    fn on_worker<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        if crate::linalg::parallel_pays(self.n_stages, self.n_elements + 1) {
            rayon::scope(|_| f())
        } else {
            f()
        }
    }

    /// Solves the chain with the chosen algorithm.
    pub fn solve(&self, algorithm: Algorithm) -> ChainSolution {
        self.solve_from(algorithm, None)
    }

    /// Solves the chain starting from a previous solution of a chain of the same shape (warm
    /// start inside recycle iterations); `None` or a shape mismatch starts from scratch.
    pub fn solve_from(&self, algorithm: Algorithm, start: Option<&ChainSolution>) -> ChainSolution {
        self.on_worker(|| self.solve_from_here(algorithm, start))
    }

    /// True when `sol` has this chain's shape and finite flows: a usable start.
    fn fits(&self, sol: &ChainSolution) -> bool {
        sol.a.len() == self.n_stages * self.n_elements
            && sol.h.len() == self.n_stages
            && sol
                .a
                .iter()
                .chain(&sol.o)
                .chain(&sol.h)
                .all(|v| v.is_finite())
    }

    /// [`Chain::solve_from`] on the calling thread.
    fn solve_from_here(
        &self,
        algorithm: Algorithm,
        start: Option<&ChainSolution>,
    ) -> ChainSolution {
        let start = start.filter(|s| self.fits(s));
        if self.n_stages == 0 || self.n_elements == 0 {
            let n = self.n_stages;
            let h = self.acidity_profile(&[], &[]);
            return ChainSolution {
                status: SolveStatus::Converged,
                iterations: 0,
                max_residual: 0.0,
                a: Vec::new(),
                o: Vec::new(),
                h,
                free_dimer: vec![0.0; n],
            };
        }
        match algorithm {
            Algorithm::Newton => {
                if self.all_linear() {
                    return self.solve_linear();
                }
                // Without a warm start, a long chain first tries Newton from the solution of
                // the chain with its long sections shortened (recursively): from a flat
                // profile Newton needs more iterations the longer the sections are. When that
                // attempt does not converge quickly, the usual path takes over.
                let mut spent = 0;
                let mut from_coarse = None;
                if start.is_none() {
                    match self.coarse_start() {
                        Ok(Some(coarse)) => match self.solve_newton_direct(&coarse) {
                            Ok(mut sol) => {
                                sol.iterations += coarse.iterations;
                                return sol;
                            }
                            Err(its) => {
                                spent = coarse.iterations + its;
                                from_coarse = Some(coarse);
                            }
                        },
                        Ok(None) => {}
                        Err(its) => spent = its,
                    }
                }
                // A mass-action chain goes on from the shortened chain's solution (its solver
                // tries its own cold start as well); the others from their own start.
                let start = match &from_coarse {
                    Some(c) if BoundedMa::new(self).is_some() => Some(c),
                    _ => start,
                };
                let mut sol = self.solve_newton_from(start);
                sol.iterations += spent;
                sol
            }
            Algorithm::Substitution => match Reduced::new(self, true) {
                Some(red) if self.n_stages <= DENSE_REDUCED_MAX => {
                    let sol = red.solve(start);
                    if sol.status == SolveStatus::Converged {
                        sol
                    } else {
                        self.solve_substitution(start)
                    }
                }
                _ => self.solve_substitution(start),
            },
        }
    }

    /// Solves the chain from a previous solution of a chain of the same shape (a recycle
    /// iteration, a neighbouring operating point): Newton directly from it, at most
    /// [`COARSE_DIRECT_MAX`] iterations; when that does not converge, the cold path
    /// ([`Chain::solve`], with its shortened-chain start), whose iterations are added to those
    /// spent. A far-away start otherwise sends Newton into continuation from scratch, slower
    /// than starting cold (measured: 701 iterations warm against 327 cold on the flagship with
    /// every organic flow 10 % up).
    pub fn solve_warm(&self, algorithm: Algorithm, start: Option<&ChainSolution>) -> ChainSolution {
        self.on_worker(|| self.solve_warm_here(algorithm, start))
    }

    /// [`Chain::solve_warm`] on the calling thread.
    fn solve_warm_here(
        &self,
        algorithm: Algorithm,
        start: Option<&ChainSolution>,
    ) -> ChainSolution {
        let usable = start.filter(|s| self.fits(s));
        match (algorithm, usable) {
            (Algorithm::Newton, Some(st)) if self.n_stages > 0 && !self.all_linear() => {
                match self.solve_newton_direct(st) {
                    Ok(sol) => sol,
                    Err(spent) => {
                        let mut sol = self.solve(algorithm);
                        sol.iterations += spent;
                        sol
                    }
                }
            }
            _ => self.solve_from(algorithm, usable),
        }
    }

    /// Newton from `start`, then from the shortened-chain start, and no continuation. This is
    /// the evaluation of an operating point near one already solved (an optimizer's candidate
    /// step): a chain that neither brings to the solution within the direct budget
    /// ([`COARSE_DIRECT_MAX`] iterations each for the reduced solvers) comes back
    /// [`SolveStatus::IterationLimit`] with its residual at the start, in a fraction of the
    /// time the cold path can take on a long chain near a pinch (measured: 25 iterations, 0.4
    /// s, instead of 2,184 iterations, 40 s, on a 1,000-stage, 15-element cascade with a
    /// trapped element).
    pub fn solve_near(&self, algorithm: Algorithm, start: &ChainSolution) -> ChainSolution {
        self.on_worker(|| self.solve_near_here(algorithm, start))
    }

    /// [`Chain::solve_near`] on the calling thread.
    fn solve_near_here(&self, algorithm: Algorithm, start: &ChainSolution) -> ChainSolution {
        let usable = self.fits(start);
        if algorithm != Algorithm::Newton || !usable || self.n_stages == 0 || self.all_linear() {
            return self.solve_warm(algorithm, Some(start));
        }
        let direct = match Reduced::new(self, false) {
            // In rounds that stop at a stall only where the shortened-chain start can follow;
            // a short chain's fallback is the cold path with its continuation, which costs more
            // than the rest of the direct budget (measured on the flagship optimization: 18 %
            // less linear-algebra work, same passes and optimum).
            Some(red) => {
                red.solve_direct_with(start, COARSE_DIRECT_MAX, self.n_stages >= COARSE_MIN_STAGES)
            }
            None => self.solve_newton_direct(start),
        };
        let spent = match direct {
            Ok(sol) => return sol,
            Err(spent) => spent,
        };
        // The shortened-chain start of the cold path, without its continuation; a short
        // chain (none to shorten) takes the whole cold path, which is cheap there.
        let spent = match self.coarse_start() {
            Ok(Some(coarse)) => match self.solve_newton_direct(&coarse) {
                Ok(mut sol) => {
                    sol.iterations += spent + coarse.iterations;
                    return sol;
                }
                Err(its) => spent + coarse.iterations + its,
            },
            Ok(None) => {
                let mut sol = self.solve(algorithm);
                sol.iterations += spent;
                return sol;
            }
            Err(its) => spent + its,
        };
        let mut sol = self.finish(
            spent,
            start.a.clone(),
            start.o.clone(),
            Some(start.h.clone()),
        );
        if sol.status == SolveStatus::Converged {
            sol.status = SolveStatus::IterationLimit;
        }
        sol
    }

    /// Newton on a nonlinear chain from `start` (or its own initial estimate).
    fn solve_newton_from(&self, start: Option<&ChainSolution>) -> ChainSolution {
        if let Some(red) = Reduced::new(self, false) {
            // Separation-factor chains: reduced Newton with its own continuation (the general
            // path below is orders of magnitude slower on them).
            red.solve(start)
        } else if let Some(red) = BoundedMa::new(self) {
            // Mass-action chains: Newton and pseudo-time marching in bounded variables (every
            // iterate a physical state); the general path only where that does not converge,
            // and its result only when converged (its iterates are not bounded).
            let sol = red.solve(start);
            if sol.status == SolveStatus::Converged || self.n_stages > GENERAL_MAX {
                sol
            } else {
                // Without the last resort (plain substitution to convergence): on a pH-coupled
                // chain its iterates are not bounded and it does not converge where the
                // bounded solver and Newton with continuation did not; measured on the two-cut
                // mass-action benchmark of 100 stages (`ma_train_toml`), two such fallbacks
                // cost 3.2 s of its 4.0 s optimization and both ended `iteration_limit`.
                let general = self.solve_newton_continuation(start, false);
                if general.status == SolveStatus::Converged {
                    general
                } else {
                    sol
                }
            }
        } else {
            self.solve_newton_continuation(start, true)
        }
    }

    /// Newton from `start` without continuation (at most [`COARSE_DIRECT_MAX`] iterations for
    /// the reduced solvers): the converged solution, else the iterations spent.
    pub(crate) fn solve_newton_direct(
        &self,
        start: &ChainSolution,
    ) -> Result<ChainSolution, usize> {
        if let Some(red) = Reduced::new(self, false) {
            red.solve_direct(start, COARSE_DIRECT_MAX)
        } else if let Some(red) = BoundedMa::new(self) {
            red.solve_direct(start, COARSE_DIRECT_MAX)
        } else {
            converged_or_spent(self.solve_newton_continuation(Some(start), true))
        }
    }

    /// Starting estimate from the shorter chain of [`Chain::coarsened`] (for chains of at
    /// least [`COARSE_MIN_STAGES`]): every stage takes the flows, acidity and free extractant
    /// of the stage standing for it. `Ok(None)` when the chain is too short or has no long
    /// section; `Err(iterations spent)` when the shorter chain did not converge. The start's
    /// `iterations` are the shorter chains' iterations.
    pub(crate) fn coarse_start(&self) -> Result<Option<ChainSolution>, usize> {
        self.coarse_start_from(COARSE_MIN_STAGES)
    }

    /// [`Chain::coarse_start`] for a chain of at least `min_stages`.
    fn coarse_start_from(&self, min_stages: usize) -> Result<Option<ChainSolution>, usize> {
        if self.n_stages < min_stages {
            return Ok(None);
        }
        let keep = if self.is_bounded_ma() {
            MA_COARSE_KEEP
        } else {
            COARSE_KEEP
        };
        let Some((coarse, map)) = self.coarsened(keep) else {
            return Ok(None);
        };
        let sol = coarse.solve_stand_in()?;
        let rows = |v: &[f64], w: usize| -> Vec<f64> {
            if v.len() != coarse.n_stages * w {
                return vec![0.0; self.n_stages * w];
            }
            gather_rows(v, &map, w)
        };
        let m = self.n_elements;
        Ok(Some(ChainSolution {
            status: sol.status,
            iterations: sol.iterations,
            max_residual: sol.max_residual,
            a: rows(&sol.a, m),
            o: rows(&sol.o, m),
            h: rows(&sol.h, 1),
            free_dimer: rows(&sol.free_dimer, 1),
        }))
    }

    /// Solves a shorter chain that stands in for a longer one: from its own shorter chain's
    /// solution (at most [`COARSE_DIRECT_MAX`] Newton iterations) when it has one, else Newton
    /// from the flat start with continuation. No other fallback: when a shorter chain fails,
    /// the whole attempt ends and the longest chain takes its usual path, so a chain that
    /// does not converge costs one failed solve per chain length, not a full solve each.
    fn solve_stand_in(&self) -> Result<ChainSolution, usize> {
        let min_stages = if self.is_bounded_ma() {
            MA_STAND_IN_MIN_STAGES
        } else {
            COARSE_MIN_STAGES
        };
        if let Some(start) = self.coarse_start_from(min_stages)? {
            // A mass-action chain here only starts a longer one: Newton to a looser tolerance.
            let direct = match BoundedMa::new(self) {
                Some(red) => red.solve_rough(&start, COARSE_DIRECT_MAX),
                _ => self.solve_newton_direct(&start),
            };
            let spent = match direct {
                Ok(mut sol) => {
                    sol.iterations += start.iterations;
                    return Ok(sol);
                }
                Err(its) => its + start.iterations,
            };
            // A mass-action chain's solver (Newton, then pseudo-time marching) goes on from
            // the shorter chain's solution.
            if BoundedMa::new(self).is_none() {
                return Err(spent);
            }
            let mut sol = converged_or_spent(self.solve_newton_from(Some(&start)))
                .map_err(|its| its + spent)?;
            sol.iterations += spent;
            return Ok(sol);
        }
        converged_or_spent(self.solve_newton_from(None))
    }

    /// True when the bounded mass-action solver takes this chain (mass-action or empirical
    /// stages, no separation-factor stage: its constructor refuses one at once, so this costs
    /// nothing on the separation-factor chains of an optimization).
    fn is_bounded_ma(&self) -> bool {
        BoundedMa::new(self).is_some()
    }

    /// Direct solve of a linear chain, then the acidity profile.
    fn solve_linear(&self) -> ChainSolution {
        let (n, m) = (self.n_stages, self.n_elements);
        let mut k = vec![0.0; n * m];
        let mut jac = EqJac::new(m);
        let mut scratch = vec![0.0; m];
        let zeros = vec![0.0; m];
        for j in 0..n {
            self.model(j).organic(
                &zeros,
                0.0,
                self.flow_vol_aq[j],
                self.flow_vol_org[j],
                &mut scratch,
                Some(&mut jac),
            );
            for i in 0..m {
                k[j * m + i] = jac.d_a[i * m + i];
            }
        }
        let mut a = vec![0.0; n * m];
        let mut o = vec![0.0; n * m];
        let ok = self.linear_pass(&k, &mut a, &mut o, false);
        self.finish(if ok { 0 } else { usize::MAX }, a, o, None)
    }

    /// Solves every element's linear chain for stage ratios `k` (o* = k a), Thomas or 2x2 blocks
    /// (dense solve when `dense`). Returns false when a solve fails.
    fn linear_pass(&self, k: &[f64], a: &mut [f64], o: &mut [f64], dense: bool) -> bool {
        let (n, m) = (self.n_stages, self.n_elements);
        let murphree = self.murphree.iter().any(|&e| e < 1.0);
        for i in 0..m {
            if !murphree {
                let mut lower = vec![0.0; n];
                let mut diag = vec![0.0; n];
                let mut upper = vec![0.0; n];
                let mut rhs = vec![0.0; n];
                for j in 0..n {
                    diag[j] = -(1.0 + k[j * m + i]);
                    if j > 0 {
                        lower[j] = k[(j - 1) * m + i];
                    }
                    upper[j] = if self.aq_from_next[j] { 1.0 } else { 0.0 };
                    rhs[j] = -(self.aq_ext[j * m + i] + self.org_ext[j * m + i]);
                }
                if !dense {
                    let kk: Vec<f64> = (0..n).map(|j| k[j * m + i]).collect();
                    let link: Vec<bool> =
                        (0..n).map(|j| self.aq_from_next[j] && j + 1 < n).collect();
                    let rhs: Vec<f64> = rhs.iter().map(|v| -v).collect();
                    let mut x = vec![0.0; n];
                    if gth_chain_solve(&kk, &link, &rhs, &mut x).is_none() {
                        return false;
                    }
                    for j in 0..n {
                        a[j * m + i] = x[j];
                        o[j * m + i] = kk[j] * x[j];
                    }
                    continue;
                }
                let x = if dense {
                    let mut mat = vec![0.0; n * n];
                    for j in 0..n {
                        mat[j * n + j] = diag[j];
                        if j > 0 {
                            mat[j * n + j - 1] = lower[j];
                        }
                        if j + 1 < n {
                            mat[j * n + j + 1] = upper[j];
                        }
                    }
                    dense_solve(n, &mat, &rhs)
                } else {
                    thomas(&lower, &diag, &upper, &rhs)
                };
                let Some(x) = x else { return false };
                for j in 0..n {
                    a[j * m + i] = x[j].max(0.0);
                    o[j * m + i] = k[j * m + i] * a[j * m + i];
                }
            } else {
                let mut bt = BlockTridiag::zeros(n, 2);
                let mut rhs = vec![0.0; 2 * n];
                for j in 0..n {
                    let eta = self.murphree[j];
                    let b = j * 4;
                    // row a: -a_j - o_j + [link] a_(j+1) + o_(j-1) = -(A + O)
                    bt.diag[b] = -1.0;
                    bt.diag[b + 1] = -1.0;
                    // row o: eta k a_j - o_j + (1 - eta) o_(j-1) = -(1 - eta) O
                    bt.diag[b + 2] = eta * k[j * m + i];
                    bt.diag[b + 3] = -1.0;
                    if j > 0 {
                        bt.lower[b + 1] = 1.0;
                        bt.lower[b + 3] = 1.0 - eta;
                    }
                    if self.aq_from_next[j] {
                        bt.upper[b] = 1.0;
                    }
                    rhs[2 * j] = -(self.aq_ext[j * m + i] + self.org_ext[j * m + i]);
                    rhs[2 * j + 1] = -(1.0 - eta) * self.org_ext[j * m + i];
                }
                let x = if dense {
                    dense_solve(2 * n, &bt.to_dense(), &rhs)
                } else {
                    bt.solve(&rhs)
                };
                let Some(x) = x else { return false };
                for j in 0..n {
                    a[j * m + i] = x[2 * j].max(0.0);
                    o[j * m + i] = x[2 * j + 1].max(0.0);
                }
            }
        }
        true
    }

    /// Acidity for models whose equilibrium does not depend on it (distribution, separation
    /// factor), with the saponification base carried by the organic as soap (Na or NH4 salt
    /// of the extractant) rather than released at once: in each stage the soap first takes up
    /// the protons that loading releases (the ion exchanges Na+/NH4+ instead of H+), whatever
    /// the aqueous brings, then the free acid left after what unloading in that stage
    /// consumes, down to neutral and no further; what is left goes on with the organic. Passes alternate until the released base stops changing (the soap moves one
    /// stage forward per pass at most).
    pub(crate) fn soap_balance(&self, o: &[f64]) -> SoapBalance {
        let (n, m) = (self.n_stages, self.n_elements);
        let mut load = vec![0.0; n];
        if m > 0 && !o.is_empty() {
            for j in 0..n {
                for i in 0..m {
                    let o_in =
                        self.org_ext[j * m + i] + if j > 0 { o[(j - 1) * m + i] } else { 0.0 };
                    load[j] += self.z_exchange[i] * (o[j * m + i] - o_in);
                }
            }
        }
        let base_tot: f64 = self.base_ext.iter().sum();
        let mut released = vec![0.0; n];
        let mut h = vec![0.0; n];
        let mut soap_out = 0.0;
        let backward = |released: &[f64], h: &mut [f64]| {
            for j in (0..n).rev() {
                let mut v = self.acid_ext[j] + load[j] - released[j];
                if self.aq_from_next[j] && j + 1 < n {
                    v += h[j + 1];
                }
                h[j] = v;
            }
        };
        backward(&released, &mut h);
        if base_tot > 0.0 {
            for _ in 0..n + 2 {
                let mut soap = 0.0;
                let mut change: f64 = 0.0;
                for j in 0..n {
                    soap += self.base_ext[j];
                    // The soap first exchanges for the ions loaded here (their protons never
                    // reach the aqueous), then neutralizes the free acid that arrives and is
                    // left after what unloading here consumes; a deficit from above does not
                    // stop the exchange.
                    let exchange = load[j].max(0.0);
                    let mut free = self.acid_ext[j] + load[j].min(0.0);
                    if self.aq_from_next[j] && j + 1 < n {
                        free += h[j + 1];
                    }
                    let r = soap.min(exchange + free.max(0.0));
                    change = change.max((r - released[j]).abs());
                    released[j] = r;
                    soap -= r;
                }
                soap_out = soap;
                backward(&released, &mut h);
                if change <= 1e-15 * base_tot {
                    break;
                }
            }
        }
        SoapBalance {
            h,
            soap_out,
            released,
        }
    }

    /// Net acidity outflow per stage from the proton balance, for given element flows.
    fn acidity_profile(&self, a: &[f64], o: &[f64]) -> Vec<f64> {
        let (n, m) = (self.n_stages, self.n_elements);
        let _ = a;
        let mut h = vec![0.0; n];
        for j in (0..n).rev() {
            let mut v = self.acid_ext[j] - self.base_ext[j];
            if self.aq_from_next[j] && j + 1 < n {
                v += h[j + 1];
            }
            if m > 0 && !o.is_empty() {
                for i in 0..m {
                    let o_in =
                        self.org_ext[j * m + i] + if j > 0 { o[(j - 1) * m + i] } else { 0.0 };
                    v += self.z_exchange[i] * (o[j * m + i] - o_in);
                }
            }
            h[j] = v;
        }
        h
    }

    /// Residuals and their maximum scaled value; `r` has the block layout.
    fn residuals(&self, lay: &Layout, u: &[f64], o_eq: &mut [f64], r: &mut [f64]) -> f64 {
        let (n, m) = (self.n_stages, self.n_elements);
        let b = lay.block();
        let mut worst: f64 = 0.0;
        for j in 0..n {
            let uj = &u[j * b..(j + 1) * b];
            let h = if lay.has_h { uj[b - 1] } else { 0.0 };
            self.model(j).organic(
                &uj[..m],
                h,
                self.flow_vol_aq[j],
                self.flow_vol_org[j],
                &mut o_eq[j * m..(j + 1) * m],
                None,
            );
        }
        for j in 0..n {
            let (rows, w) = self.stage_residual(lay, u, o_eq, j);
            r[j * b..(j + 1) * b].copy_from_slice(&rows);
            worst = worst.max(w);
        }
        worst
    }

    fn org_out(&self, lay: &Layout, u: &[f64], o_eq: &[f64], j: usize, i: usize) -> f64 {
        let (m, b) = (self.n_elements, lay.block());
        if lay.has_o {
            u[j * b + m + i]
        } else {
            o_eq[j * m + i]
        }
    }

    /// Residual rows of stage j and the largest scaled one.
    fn stage_residual(&self, lay: &Layout, u: &[f64], o_eq: &[f64], j: usize) -> (Vec<f64>, f64) {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let link = self.aq_from_next[j] && j + 1 < n;
        let mut rows = vec![0.0; b];
        let mut worst: f64 = 0.0;
        let mut stage_tot = 0.0;
        let mut thr = vec![0.0; m];
        let mut charge = 0.0;
        // Magnitude of the exchange terms, the scale of the proton balance's rounding: the
        // organic carries hundreds of mol/h of charge in and out of a stage while the net
        // acidity near neutral is 1e-3 mol/h.
        let mut exchanged = 0.0;
        for i in 0..m {
            let a_in = self.aq_ext[j * m + i] + if link { u[(j + 1) * b + i] } else { 0.0 };
            let o_in = self.org_ext[j * m + i]
                + if j > 0 {
                    self.org_out(lay, u, o_eq, j - 1, i)
                } else {
                    0.0
                };
            let a_out = u[j * b + i];
            let o_out = self.org_out(lay, u, o_eq, j, i);
            rows[i] = a_in + o_in - a_out - o_out;
            thr[i] = a_in + o_in + a_out + o_out;
            stage_tot += thr[i];
            if lay.has_o {
                let eta = self.murphree[j];
                rows[m + i] = o_in + eta * (o_eq[j * m + i] - o_in) - o_out;
            }
            charge += self.z_exchange[i] * (o_out - o_in);
            exchanged += self.z_exchange[i] * (o_out + o_in);
        }
        for i in 0..m {
            let scale = thr[i] + FLOOR * stage_tot + lay.floor[i];
            let rel = if scale > 0.0 {
                rows[i].abs() / scale
            } else {
                rows[i].abs()
            };
            worst = worst.max(rel);
            if lay.has_o {
                let rel = if scale > 0.0 {
                    rows[m + i].abs() / scale
                } else {
                    rows[m + i].abs()
                };
                worst = worst.max(rel);
            }
        }
        if lay.has_h {
            let h_in = self.acid_ext[j] + if link { u[(j + 1) * b + b - 1] } else { 0.0 };
            let h_out = u[j * b + b - 1];
            let v = h_in - self.base_ext[j] + charge - h_out;
            rows[b - 1] = v;
            let scale = h_in.abs()
                + self.base_ext[j]
                + h_out.abs()
                + exchanged
                + 1e-9 * self.flow_vol_aq[j]
                + lay.floor_h;
            worst = worst.max(v.abs() / scale);
        }
        if worst.is_nan() {
            worst = f64::INFINITY;
        }
        (rows, worst)
    }

    /// Block-tridiagonal Jacobian of the residuals at `u`.
    fn jacobian(&self, lay: &Layout, u: &[f64], jac: &mut BlockTridiag) {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let bb = b * b;
        jac.clear();
        let mut eq = vec![EqJac::new(m); n];
        let mut o_eq = vec![0.0; m];
        for j in 0..n {
            let uj = &u[j * b..(j + 1) * b];
            let h = if lay.has_h { uj[b - 1] } else { 0.0 };
            self.model(j).organic(
                &uj[..m],
                h,
                self.flow_vol_aq[j],
                self.flow_vol_org[j],
                &mut o_eq,
                Some(&mut eq[j]),
            );
        }
        let hc = b - 1;
        for j in 0..n {
            let link = self.aq_from_next[j] && j + 1 < n;
            let d = &mut jac.diag[j * bb..(j + 1) * bb];
            let e = &eq[j];
            if lay.has_o {
                let eta = self.murphree[j];
                for i in 0..m {
                    d[i * b + i] = -1.0; // d R_a / d a
                    d[i * b + m + i] = -1.0; // d R_a / d o
                    for k in 0..m {
                        d[(m + i) * b + k] = eta * e.d_a[i * m + k];
                    }
                    d[(m + i) * b + m + i] = -1.0;
                    if lay.has_h {
                        d[(m + i) * b + hc] = eta * e.d_h[i];
                        d[hc * b + m + i] = self.z_exchange[i];
                    }
                }
                if lay.has_h {
                    d[hc * b + hc] = -1.0;
                }
                if j > 0 {
                    let l = &mut jac.lower[j * bb..(j + 1) * bb];
                    for i in 0..m {
                        l[i * b + m + i] = 1.0;
                        l[(m + i) * b + m + i] = 1.0 - eta;
                        if lay.has_h {
                            l[hc * b + m + i] = -self.z_exchange[i];
                        }
                    }
                }
            } else {
                for i in 0..m {
                    for k in 0..m {
                        let delta = if i == k { 1.0 } else { 0.0 };
                        d[i * b + k] = -delta - e.d_a[i * m + k];
                    }
                    if lay.has_h {
                        d[i * b + hc] = -e.d_h[i];
                    }
                }
                if lay.has_h {
                    for k in 0..m {
                        let mut s = 0.0;
                        for i in 0..m {
                            s += self.z_exchange[i] * e.d_a[i * m + k];
                        }
                        d[hc * b + k] = s;
                    }
                    let mut s = 0.0;
                    for i in 0..m {
                        s += self.z_exchange[i] * e.d_h[i];
                    }
                    d[hc * b + hc] = s - 1.0;
                }
                if j > 0 {
                    let ep = &eq[j - 1];
                    let l = &mut jac.lower[j * bb..(j + 1) * bb];
                    for i in 0..m {
                        for k in 0..m {
                            l[i * b + k] = ep.d_a[i * m + k];
                        }
                        if lay.has_h {
                            l[i * b + hc] = ep.d_h[i];
                        }
                    }
                    if lay.has_h {
                        for k in 0..m {
                            let mut s = 0.0;
                            for i in 0..m {
                                s += self.z_exchange[i] * ep.d_a[i * m + k];
                            }
                            l[hc * b + k] = -s;
                        }
                        let mut s = 0.0;
                        for i in 0..m {
                            s += self.z_exchange[i] * ep.d_h[i];
                        }
                        l[hc * b + hc] = -s;
                    }
                }
            }
            if link {
                let up = &mut jac.upper[j * bb..(j + 1) * bb];
                for i in 0..m {
                    up[i * b + i] = 1.0;
                }
                if lay.has_h {
                    up[hc * b + hc] = 1.0;
                }
            }
        }
    }

    /// Linearized start: each stage's distribution ratio at the acidity of a chain without
    /// extraction and with free extractant, then a linear solve.
    fn initial_guess(&self, lay: &Layout, scale: f64) -> Vec<f64> {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        // Acidity without extraction, floored at 0.01 mol/L: saponification base meets the
        // protons that loading releases, so a "basic" start would put D at absurd values.
        let h0: Vec<f64> = self
            .acidity_profile(&[], &[])
            .iter()
            .zip(&self.flow_vol_aq)
            .map(|(h, q)| h.max(INITIAL_ACIDITY_FLOOR * q))
            .collect();
        // Feed-weighted mean extractability for the separation-factor model.
        let mut tot = vec![0.0; m];
        for j in 0..n {
            for i in 0..m {
                tot[i] += self.aq_ext[j * m + i] + self.org_ext[j * m + i];
            }
        }
        let mut k = vec![0.0; n * m];
        let mut jac = EqJac::new(m);
        let mut o = vec![0.0; m];
        for j in 0..n {
            let model = self.model(j);
            match model {
                StageModel::SeparationFactor { beta, loading } => {
                    let sum_t: f64 = (0..m).filter(|&i| beta[i] > 0.0).map(|i| tot[i]).sum();
                    let bbar: f64 = if sum_t > 0.0 {
                        (0..m).map(|i| beta[i] * tot[i]).sum::<f64>() / sum_t
                    } else {
                        1.0
                    };
                    let e = match *loading {
                        SfLoading::Ratio(e) => e,
                        SfLoading::Capacity(l) => {
                            if sum_t > 0.0 {
                                l * self.flow_vol_org[j] / (sum_t * scale)
                            } else {
                                0.0
                            }
                        }
                        SfLoading::None => 0.0,
                    };
                    for i in 0..m {
                        k[j * m + i] = if bbar > 0.0 { e * beta[i] / bbar } else { 0.0 };
                    }
                }
                _ => {
                    // Tiny aqueous flows: the ratio o*/a at infinite dilution.
                    let tiny: Vec<f64> = (0..m).map(|_| 1e-12 * self.flow_vol_aq[j]).collect();
                    model.organic(
                        &tiny,
                        h0[j],
                        self.flow_vol_aq[j],
                        self.flow_vol_org[j],
                        &mut o,
                        Some(&mut jac),
                    );
                    for i in 0..m {
                        k[j * m + i] = jac.d_a[i * m + i].clamp(0.0, 1e12);
                    }
                }
            }
        }
        let scaled = self.scaled(scale);
        let mut a = vec![0.0; n * m];
        let mut oo = vec![0.0; n * m];
        if !scaled.linear_pass(&k, &mut a, &mut oo, false) {
            a.iter_mut().for_each(|v| *v = 0.0);
        }
        let h = scaled.acidity_profile(&a, &oo);
        let mut u = vec![0.0; n * b];
        for j in 0..n {
            for i in 0..m {
                u[j * b + i] = a[j * m + i];
                if lay.has_o {
                    u[j * b + m + i] = oo[j * m + i];
                }
            }
            if lay.has_h {
                u[j * b + b - 1] = h[j];
            }
        }
        u
    }

    /// The same chain with its element inflows and its saponification base multiplied by
    /// `scale` (continuation: at a small scale the chain is dilute and acidic, nearly linear).
    fn scaled(&self, scale: f64) -> Chain {
        let mut c = self.clone();
        if scale != 1.0 {
            c.aq_ext.iter_mut().for_each(|v| *v *= scale);
            c.org_ext.iter_mut().for_each(|v| *v *= scale);
            c.base_ext.iter_mut().for_each(|v| *v *= scale);
        }
        c
    }

    /// The same chain with every stage's extractability multiplied by `t` (continuation):
    /// distribution ratios, extraction constants, empirical D and mixed extraction ratios.
    fn with_extractability(&self, t: f64) -> Chain {
        let mut c = self.clone();
        for model in &mut c.models {
            match model {
                StageModel::Linear { d_ratio } => d_ratio.iter_mut().for_each(|v| *v *= t),
                StageModel::SeparationFactor { loading, .. } => {
                    *loading = match *loading {
                        SfLoading::Ratio(e) => SfLoading::Ratio(e * t),
                        SfLoading::Capacity(l) => SfLoading::Capacity(l * t),
                        SfLoading::None => SfLoading::None,
                    }
                }
                StageModel::MassAction { k_ex, .. } => k_ex.iter_mut().for_each(|v| *v *= t),
                StageModel::Empirical { log_d0, .. } => {
                    let l = t.log10();
                    log_d0.iter_mut().for_each(|v| *v += l);
                }
            }
        }
        c
    }

    /// Newton from `u`; returns (converged?, iterations, residual).
    fn newton(&self, lay: &Layout, u: &mut Vec<f64>, max_iter: usize) -> (SolveStatus, usize, f64) {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let size = n * b;
        let mut o_eq = vec![0.0; n * m];
        let mut r = vec![0.0; size];
        let mut res = self.residuals(lay, u, &mut o_eq, &mut r);
        let mut jac = BlockTridiag::zeros(n, b);
        let mut scratch = BlockScratch::default();
        let mut step = Vec::new();
        let mut u_try = vec![0.0; size];
        let mut r_try = vec![0.0; size];
        let mut o_try = vec![0.0; n * m];
        let mut iterations = 0;
        while iterations < max_iter {
            if res <= TOLERANCE {
                return (SolveStatus::Converged, iterations, res);
            }
            if !res.is_finite() {
                return (SolveStatus::Diverged, iterations, res);
            }
            if self.out_of_budget() {
                return (SolveStatus::TimeLimit, iterations, res);
            }
            iterations += 1;
            self.allowance.spend();
            self.jacobian(lay, u, &mut jac);
            let (row, col) = self.scales(lay, u, &o_eq);
            jac.scale(&row, &col);
            let rhs: Vec<f64> = r.iter().zip(&row).map(|(v, s)| -v * s).collect();
            if !jac.solve_with(&rhs, &mut scratch, &mut step) {
                return (SolveStatus::Diverged, iterations, res);
            }
            step.iter_mut().zip(&col).for_each(|(v, c)| *v *= c);
            let mrow = self.merit_scales(lay, u, &o_eq);
            let merit0 = scaled_norm(&r, &mrow);
            let mut lambda = 1.0;
            let mut accepted = false;
            for _ in 0..30 {
                for j in 0..n {
                    for q in 0..b {
                        let k = j * b + q;
                        let is_h = lay.has_h && q == b - 1;
                        u_try[k] = if is_h {
                            u[k] + lambda * step[k]
                        } else if u[k] > 0.0 {
                            let du = (lambda * step[k] / u[k]).clamp(-MAX_LOG_STEP, MAX_LOG_STEP);
                            if du.abs() < 1e-3 {
                                (u[k] + lambda * step[k]).max(0.0)
                            } else {
                                u[k] * du.exp()
                            }
                        } else {
                            (lambda * step[k]).max(0.0)
                        };
                    }
                }
                let res_try = self.residuals(lay, &u_try, &mut o_try, &mut r_try);
                let merit = scaled_norm(&r_try, &mrow);
                if res_try.is_finite()
                    && merit.is_finite()
                    && (merit < merit0 || res_try <= TOLERANCE)
                {
                    std::mem::swap(u, &mut u_try);
                    std::mem::swap(&mut r, &mut r_try);
                    std::mem::swap(&mut o_eq, &mut o_try);
                    res = res_try;
                    accepted = true;
                    break;
                }
                lambda *= 0.5;
            }
            if !accepted {
                return (SolveStatus::Diverged, iterations, res);
            }
        }
        if res <= TOLERANCE {
            (SolveStatus::Converged, iterations, res)
        } else {
            (SolveStatus::IterationLimit, iterations, res)
        }
    }

    /// Merit-function row scales: element rows over the stage's total throughput (so trace
    /// elements do not dominate the line search), the acidity row over its own magnitude.
    fn merit_scales(&self, lay: &Layout, u: &[f64], o_eq: &[f64]) -> Vec<f64> {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let (mut row, _) = self.scales(lay, u, o_eq);
        for j in 0..n {
            let mut tot = 0.0;
            for i in 0..m {
                tot += 1.0 / row[j * b + i];
            }
            for q in 0..b {
                if !(lay.has_h && q == b - 1) {
                    row[j * b + q] = 1.0 / tot.max(f64::MIN_POSITIVE);
                }
            }
        }
        row
    }

    /// Row scales (1 / stage throughput per element) and column scales (current magnitudes).
    fn scales(&self, lay: &Layout, u: &[f64], o_eq: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let mut row = vec![1.0; n * b];
        let mut col = vec![1.0; n * b];
        for j in 0..n {
            let mut tot = 0.0;
            let mut thr = vec![0.0; m];
            for i in 0..m {
                let o_out = self.org_out(lay, u, o_eq, j, i);
                thr[i] = u[j * b + i] + o_out + self.aq_ext[j * m + i] + self.org_ext[j * m + i];
                tot += thr[i];
            }
            let floor = (FLOOR * tot).max(f64::MIN_POSITIVE);
            for i in 0..m {
                let s = thr[i] + floor + lay.floor[i];
                let cf = floor.max(1e-6 * lay.floor[i]);
                row[j * b + i] = 1.0 / s;
                col[j * b + i] = u[j * b + i].max(cf);
                if lay.has_o {
                    row[j * b + m + i] = 1.0 / s;
                    col[j * b + m + i] = u[j * b + m + i].max(cf);
                }
            }
            if lay.has_h {
                let hs = u[j * b + b - 1].abs()
                    + self.base_ext[j]
                    + self.acid_ext[j].abs()
                    + 1e-6 * self.flow_vol_aq[j]
                    + lay.floor_h;
                row[j * b + b - 1] = 1.0 / hs;
                col[j * b + b - 1] = hs;
            }
        }
        (row, col)
    }

    /// Substitution warm-up passes (cheap, robust far from the solution), then Newton.
    fn attempt(&self, lay: &Layout, u: &mut Vec<f64>) -> (SolveStatus, usize) {
        let mut iterations = 0;
        let (a, h) = self.split_u(lay, u);
        let mut o = vec![0.0; self.n_stages * self.n_elements];
        let budget = WARM_PASSES + 2 * self.n_stages;
        let (a, h, passes, ok) = self.substitution_passes(a, h, &mut o, budget, 1e-3, false);
        iterations += passes;
        if ok {
            *u = self.join_u(lay, &a, &o, &h);
        }
        let (status, it, _) = self.newton(lay, u, MAX_NEWTON);
        (status, iterations + it)
    }

    /// Newton (after substitution warm-up); when it stalls, continuation in the scale of the
    /// element inflows and the saponification base; as a last resort (when `last_resort`),
    /// plain substitution.
    fn solve_newton_continuation(
        &self,
        start: Option<&ChainSolution>,
        last_resort: bool,
    ) -> ChainSolution {
        let lay = self.layout();
        let mut u = match start {
            Some(s) => self.join_u(&lay, &s.a, &s.o, &s.h),
            None => self.initial_guess(&lay, 1.0),
        };
        let (status, mut iterations) = self.attempt(&lay, &mut u);
        if status == SolveStatus::Converged {
            return self.finish_u(&lay, iterations, u);
        }
        // Continuation in extractability: at t -> 0 nothing is extracted and the chain is
        // trivial; raise t geometrically to 1, each solve starting from the previous one. This
        // follows middle elements that a dilute linear start would trap between an extraction
        // section that pushes them up and a scrub section that pushes them down.
        let mut t = 1e-8;
        let easy = self.with_extractability(t);
        u = easy.initial_guess(&lay, 1.0);
        let (st, it) = easy.attempt(&lay, &mut u);
        iterations += it;
        if st == SolveStatus::Converged {
            let mut factor: f64 = 10.0;
            let mut steps = 0;
            while t < 1.0 && steps < 400 && !self.out_of_budget() {
                steps += 1;
                self.allowance.spend();
                let next = (t * factor).min(1.0);
                let mut trial = u.clone();
                let stepped = self.with_extractability(next);
                let (mut st, it, _) = stepped.newton(&lay, &mut trial, MAX_NEWTON);
                iterations += it;
                if st != SolveStatus::Converged {
                    // Past a fold of the solution branch Newton cannot follow; substitution
                    // (a relaxation in pseudo-time) settles on the branch beyond it.
                    trial = u.clone();
                    let (st2, it2) = stepped.attempt(&lay, &mut trial);
                    iterations += it2;
                    st = st2;
                }
                if st == SolveStatus::Converged {
                    u = trial;
                    t = next;
                    factor = (factor * factor).min(10.0);
                } else {
                    factor = factor.sqrt();
                    if factor < 1.0 + 1e-4 {
                        break;
                    }
                }
            }
            if t >= 1.0 {
                return self.finish_u(&lay, iterations, u);
            }
        }
        if !last_resort {
            return self.finish_u(&lay, iterations, u);
        }
        // Last resort: substitution to convergence (slow, but robust where Newton is not).
        let mut sol = self.solve_substitution(None);
        sol.iterations += iterations;
        sol
    }

    fn join_u(&self, lay: &Layout, a: &[f64], o: &[f64], h: &[f64]) -> Vec<f64> {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let mut u = vec![0.0; n * b];
        for j in 0..n {
            for i in 0..m {
                u[j * b + i] = a[j * m + i];
                if lay.has_o {
                    u[j * b + m + i] = o[j * m + i];
                }
            }
            if lay.has_h {
                u[j * b + b - 1] = h[j];
            }
        }
        u
    }

    fn finish_u(&self, lay: &Layout, iterations: usize, u: Vec<f64>) -> ChainSolution {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let mut a = vec![0.0; n * m];
        let mut o = vec![0.0; n * m];
        let mut h = vec![0.0; n];
        let mut o_eq = vec![0.0; n * m];
        let mut r = vec![0.0; n * b];
        self.residuals(lay, &u, &mut o_eq, &mut r);
        for j in 0..n {
            for i in 0..m {
                a[j * m + i] = u[j * b + i];
                o[j * m + i] = self.org_out(lay, &u, &o_eq, j, i);
            }
            if lay.has_h {
                h[j] = u[j * b + b - 1];
            }
        }
        self.finish(iterations, a, o, if lay.has_h { Some(h) } else { None })
    }

    /// [`Chain::finish`] for element flows without an acidity unknown.
    pub(crate) fn finish_public(
        &self,
        iterations: usize,
        a: Vec<f64>,
        o: Vec<f64>,
    ) -> ChainSolution {
        self.finish(iterations, a, o, None)
    }

    /// [`Chain::finish`] for element flows with their acidity profile.
    pub(crate) fn finish_with_h(
        &self,
        iterations: usize,
        a: Vec<f64>,
        o: Vec<f64>,
        h: Vec<f64>,
    ) -> ChainSolution {
        self.finish(iterations, a, o, Some(h))
    }

    /// A shorter chain with the same sections, for a starting estimate. Inside every run of
    /// plain stages (no external inflow, aqueous in from the next stage and out to the previous,
    /// the same model, flows and efficiency as both neighbours) of `len` stages with
    /// `len > 2 * max(keep, len / 4)`, only that many stages at each end are kept: long runs
    /// halve, short ones stay. Away from feed points and chain ends a long section sits at a
    /// pinch (its composition hardly changes from stage to stage), so the shorter chain has the
    /// same profile near every feed point and end. Returns the shorter chain and, for every
    /// stage of this chain, the stage of the shorter chain that stands for it (a removed stage
    /// takes the nearest kept stage of its run), or `None` when no run is long enough.
    pub(crate) fn coarsened(&self, keep: usize) -> Option<(Chain, Vec<usize>)> {
        let (n, m) = (self.n_stages, self.n_elements);
        let plain = |j: usize| -> bool {
            j > 0
                && j + 1 < n
                && self.aq_from_next[j]
                && self.aq_from_next[j - 1]
                && self.aq_ext[j * m..(j + 1) * m].iter().all(|&v| v == 0.0)
                && self.org_ext[j * m..(j + 1) * m].iter().all(|&v| v == 0.0)
                && self.acid_ext[j] == 0.0
                && self.base_ext[j] == 0.0
                && [j - 1, j + 1].iter().all(|&q| {
                    self.model_of_stage[q] == self.model_of_stage[j]
                        && self.flow_vol_aq[q] == self.flow_vol_aq[j]
                        && self.flow_vol_org[q] == self.flow_vol_org[j]
                        && self.murphree[q] == self.murphree[j]
                })
        };
        // stand_in[j]: the kept stage that stands for stage j (j itself when kept).
        let mut stand_in: Vec<usize> = (0..n).collect();
        let mut j = 0;
        while j < n {
            if !plain(j) {
                j += 1;
                continue;
            }
            let start = j;
            while j < n && plain(j) {
                j += 1;
            }
            let len = j - start;
            let keep = keep.max(len / 4);
            if len > 2 * keep {
                let mid = start + len / 2;
                stand_in[start + keep..mid].fill(start + keep - 1);
                stand_in[mid..j - keep].fill(j - keep);
            }
        }
        let kept: Vec<usize> = (0..n).filter(|&q| stand_in[q] == q).collect();
        if kept.len() == n {
            return None;
        }
        let mut index = vec![0usize; n];
        for (k, &q) in kept.iter().enumerate() {
            index[q] = k;
        }
        let map: Vec<usize> = stand_in.iter().map(|&q| index[q]).collect();
        let pick = |v: &[f64], w: usize| gather_rows(v, &kept, w);
        let coarse = Chain {
            n_stages: kept.len(),
            n_elements: m,
            flow_vol_aq: pick(&self.flow_vol_aq, 1),
            flow_vol_org: pick(&self.flow_vol_org, 1),
            aq_from_next: kept.iter().map(|&q| self.aq_from_next[q]).collect(),
            aq_ext: pick(&self.aq_ext, m),
            org_ext: pick(&self.org_ext, m),
            acid_ext: pick(&self.acid_ext, 1),
            base_ext: pick(&self.base_ext, 1),
            murphree: pick(&self.murphree, 1),
            models: self.models.clone(),
            model_of_stage: kept.iter().map(|&q| self.model_of_stage[q]).collect(),
            z_exchange: self.z_exchange.clone(),
            deadline: self.deadline,
            allowance: self.allowance.clone(),
        };
        Some((coarse, map))
    }

    /// [`Chain::finish`] for a solve that failed outright.
    pub(crate) fn finish_failed(&self, a: Vec<f64>, o: Vec<f64>) -> ChainSolution {
        self.finish(usize::MAX, a, o, None)
    }

    /// Final residual check (the only place a status is decided) and free extractant.
    fn finish(
        &self,
        iterations: usize,
        a: Vec<f64>,
        o: Vec<f64>,
        h: Option<Vec<f64>>,
    ) -> ChainSolution {
        let failed = iterations == usize::MAX;
        let h = h.unwrap_or_else(|| self.soap_balance(&o).h);
        // Check the balances in the full layout (a, o, and h when the equilibrium depends on
        // it) whatever the solver used. Models without acidity get theirs from the soap
        // balance, which holds by construction.
        let has_h = self.uses_acidity();
        let lay = self.make_layout(true, has_h);
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let mut u = vec![0.0; n * b];
        for j in 0..n {
            for i in 0..m {
                u[j * b + i] = a[j * m + i];
                u[j * b + m + i] = o[j * m + i];
            }
            if has_h {
                u[j * b + b - 1] = h[j];
            }
        }
        let mut o_eq = vec![0.0; n * m];
        let mut free_dimer = vec![0.0; n];
        // Every stage on its own (in parallel on a long chain; the largest residual does not
        // depend on the order).
        let equilibrium = |(j, (oj, fj)): (usize, (&mut [f64], &mut f64))| {
            *fj = self.model(j).organic(
                &a[j * m..(j + 1) * m],
                h[j],
                self.flow_vol_aq[j],
                self.flow_vol_org[j],
                oj,
                None,
            );
        };
        let parallel = n >= CHECK_PARALLEL_MIN_STAGES && m > 0;
        if parallel {
            o_eq.par_chunks_mut(m)
                .zip(free_dimer.par_iter_mut())
                .enumerate()
                .with_min_len(CHECK_STAGES_PER_TASK)
                .for_each(equilibrium);
        } else {
            for j in 0..n {
                equilibrium((j, (&mut o_eq[j * m..(j + 1) * m], &mut free_dimer[j])));
            }
        }
        let residual = |j: usize| self.stage_residual(&lay, &u, &o_eq, j).1;
        let worst = if parallel {
            (0..n)
                .into_par_iter()
                .with_min_len(CHECK_STAGES_PER_TASK)
                .map(residual)
                .reduce(|| 0.0, f64::max)
        } else {
            (0..n).map(residual).fold(0.0f64, f64::max)
        };
        let status = if failed || !worst.is_finite() {
            SolveStatus::Diverged
        } else if worst <= TOLERANCE * 10.0 {
            SolveStatus::Converged
        } else {
            SolveStatus::IterationLimit
        };
        let clean = |v: Vec<f64>| {
            v.into_iter()
                .map(|x| if x.is_finite() { x } else { 0.0 })
                .collect()
        };
        ChainSolution {
            status,
            iterations: if failed { 0 } else { iterations },
            max_residual: if worst.is_finite() { worst } else { f64::MAX },
            a: clean(a),
            o: clean(o),
            h: clean(h),
            free_dimer,
        }
    }

    /// Successive substitution of stage distribution ratios with dense linear solves.
    fn solve_substitution(&self, start: Option<&ChainSolution>) -> ChainSolution {
        let (n, m) = (self.n_stages, self.n_elements);
        let lay = self.make_layout(false, self.uses_acidity());
        let (a, h) = match start {
            Some(s) => (s.a.clone(), s.h.clone()),
            None => {
                let u0 = self.initial_guess(&lay, 1.0);
                self.split_u(&lay, &u0)
            }
        };
        let mut o = vec![0.0; n * m];
        // Dense LU loses the trace elements of long pH-model chains (stage residuals of 2e-8 at
        // 100 and 2e-2 at 200 stages on the benchmark circuit): those use the conservative
        // per-element solve; the algorithm stays independent of Newton in its iteration.
        let dense = n <= 400 && !lay.has_h;
        let (a, h, passes, ok) =
            self.substitution_passes(a, h, &mut o, SUBSTITUTION_MAX_PASSES, 0.0, dense);
        if !ok {
            // The passes spent are reported: "diverged after 0 iterations" read as if the
            // cross-check never ran.
            let mut sol = self.finish(passes, a, o, Some(h));
            sol.status = SolveStatus::Diverged;
            return sol;
        }
        let h = if lay.has_h {
            h
        } else {
            self.soap_balance(&o).h
        };
        self.finish(passes, a, o, Some(h))
    }

    fn split_u(&self, lay: &Layout, u: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, m, b) = (self.n_stages, self.n_elements, lay.block());
        let mut a = vec![0.0; n * m];
        let mut h = vec![0.0; n];
        for j in 0..n {
            for i in 0..m {
                a[j * m + i] = u[j * b + i];
            }
            if lay.has_h {
                h[j] = u[j * b + b - 1];
            }
        }
        (a, h)
    }

    /// Substitution passes from (a, h): effective ratios o*/a per stage (geometrically damped),
    /// one linear solve per element, acidity from the proton balance (damped by half). Stops
    /// when the ratios change by less than 1e-14, or when the stage balances with the
    /// equilibrium organic are within `stop_res`. Returns (a, h, passes, solves succeeded).
    fn substitution_passes(
        &self,
        mut a: Vec<f64>,
        mut h: Vec<f64>,
        o: &mut [f64],
        max_passes: usize,
        stop_res: f64,
        dense: bool,
    ) -> (Vec<f64>, Vec<f64>, usize, bool) {
        let (n, m) = (self.n_stages, self.n_elements);
        let has_h = self.uses_acidity();
        let mut k = vec![0.0; n * m];
        let mut k_new = vec![0.0; n * m];
        let mut first = true;
        let mut passes = 0;
        let mut jac = EqJac::new(m);
        let mut oj = vec![0.0; m];
        while passes < max_passes && !self.out_of_budget() {
            passes += 1;
            self.allowance.spend();
            let mut worst: f64 = 0.0;
            for j in 0..n {
                let aj = &a[j * m..(j + 1) * m];
                self.model(j).organic(
                    aj,
                    h[j],
                    self.flow_vol_aq[j],
                    self.flow_vol_org[j],
                    &mut oj,
                    Some(&mut jac),
                );
                for i in 0..m {
                    // Effective ratio o*/a; at zero flow the infinite-dilution slope.
                    let kn = if aj[i] > 0.0 {
                        oj[i] / aj[i]
                    } else {
                        jac.d_a[i * m + i].max(0.0)
                    };
                    // Only a non-finite ratio is replaced: clamping finite ratios would make the
                    // fixed point inconsistent with the equilibrium.
                    k_new[j * m + i] = if kn.is_finite() {
                        kn.max(0.0)
                    } else {
                        MAX_RATIO
                    };
                    if !first {
                        let scale = aj[i] + o[j * m + i] + oj[i];
                        if scale > 0.0 {
                            worst = worst.max((oj[i] - o[j * m + i]).abs() / scale);
                        }
                    }
                }
            }
            if !first && stop_res > 0.0 && worst < stop_res {
                break;
            }
            let mut change: f64 = 0.0;
            for q in 0..n * m {
                let kn = k_new[q];
                let next = if first || k[q] <= 0.0 || kn <= 0.0 {
                    kn
                } else {
                    (k[q] * kn).sqrt()
                };
                if k[q] > 0.0 || next > 0.0 {
                    change = change.max((next - k[q]).abs() / next.max(k[q]));
                }
                k[q] = next;
            }
            first = false;
            if !self.linear_pass(&k, &mut a, o, dense) {
                return (a, h, passes, false);
            }
            let h_new = self.acidity_profile(&a, o);
            for j in 0..n {
                h[j] = if has_h {
                    0.5 * (h[j] + h_new[j])
                } else {
                    h_new[j]
                };
            }
            if change < 1e-14 && passes > 2 {
                break;
            }
        }
        (a, h, passes, true)
    }
}

fn scaled_norm(r: &[f64], row: &[f64]) -> f64 {
    r.iter()
        .zip(row)
        .map(|(v, s)| (v * s) * (v * s))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kremser::raffinate_fraction;

    /// A single-section extraction chain: aqueous feed at stage n, fresh organic at stage 1.
    fn simple(n: usize, d: Vec<f64>, q_aq: f64, q_org: f64, feed: Vec<f64>) -> Chain {
        let m = d.len();
        let mut aq_ext = vec![0.0; n * m];
        aq_ext[(n - 1) * m..].copy_from_slice(&feed);
        Chain {
            n_stages: n,
            n_elements: m,
            flow_vol_aq: vec![q_aq; n],
            flow_vol_org: vec![q_org; n],
            aq_from_next: (0..n).map(|j| j + 1 < n).collect(),
            aq_ext,
            org_ext: vec![0.0; n * m],
            acid_ext: vec![0.0; n],
            base_ext: vec![0.0; n],
            murphree: vec![1.0; n],
            models: vec![StageModel::Linear { d_ratio: d }],
            model_of_stage: vec![0; n],
            z_exchange: vec![3.0; m],
            deadline: Deadline::NONE,
            allowance: Default::default(),
        }
    }

    #[test]
    fn kremser_e_below_at_and_above_one() {
        // D chosen so E = D Q_org / Q_aq = 0.5, 1, 2.5 for three elements at once.
        let n = 12;
        let chain = simple(n, vec![0.25, 0.5, 1.25], 10.0, 20.0, vec![1.0, 2.0, 0.5]);
        let sol = chain.solve(Algorithm::Newton);
        assert_eq!(sol.status, SolveStatus::Converged);
        for (i, (e, f)) in [(0.5, 1.0), (1.0, 2.0), (2.5, 0.5)].iter().enumerate() {
            let raff = sol.a[i];
            let exact = f * raffinate_fraction(*e, n);
            assert!(
                ((raff - exact) / exact).abs() <= 1e-10,
                "E = {e}: {raff} vs {exact}"
            );
        }
    }

    #[test]
    fn linear_newton_and_substitution_agree_with_murphree() {
        let mut chain = simple(20, vec![0.3, 1.0, 4.0], 10.0, 8.0, vec![1.0, 1.0, 1.0]);
        chain.murphree = vec![0.8; 20];
        let s1 = chain.solve(Algorithm::Newton);
        let s2 = chain.solve(Algorithm::Substitution);
        assert_eq!(s1.status, SolveStatus::Converged);
        assert_eq!(s2.status, SolveStatus::Converged);
        for (p, q) in s1.a.iter().zip(&s2.a) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1e-30), "{p} vs {q}");
        }
    }

    #[test]
    fn mass_action_converges_and_agrees() {
        let n = 10;
        let m = 3;
        let mut chain = simple(n, vec![0.0; m], 100.0, 100.0, vec![5.0, 5.0, 2.0]);
        chain.models = vec![StageModel::MassAction {
            k_ex: vec![0.5, 2.0, 8.0],
            n_extractant: vec![3.0; m],
            z_proton: vec![3.0; m],
            conc_dimer: 0.5,
        }];
        chain.acid_ext[n - 1] = 2.0; // feed acidity 0.02 mol/L
        chain.base_ext[0] = 10.0; // saponified organic
        let s2 = chain.solve(Algorithm::Substitution);
        let s1 = chain.solve(Algorithm::Newton);
        assert_eq!(s1.status, SolveStatus::Converged, "{:?}", s1.max_residual);
        assert_eq!(s2.status, SolveStatus::Converged, "{:?}", s2.max_residual);
        for (p, q) in s1.a.iter().zip(&s2.a) {
            assert!((p - q).abs() <= 1e-8 * p.abs().max(1e-20), "{p} vs {q}");
        }
        // Mass balance: feed = raffinate + loaded organic.
        for (i, f) in [5.0, 5.0, 2.0].iter().enumerate() {
            let out = s1.a[i] + s1.o[(n - 1) * m + i];
            assert!(((out - f) / f).abs() < 1e-9);
        }
    }
}

/// Test fixtures shared by the chain solvers' unit tests.
#[cfg(test)]
pub(crate) mod test_fixtures {
    use super::*;

    /// A five-stage, three-element mass-action chain (extraction, feed at stage 3, strip acid at
    /// stage 5, saponification base at stage 1) with Murphree efficiency `murphree`.
    pub(crate) fn mass_action_chain(murphree: f64) -> Chain {
        let n = 5;
        let m = 3;
        let mut aq_ext = vec![0.0; n * m];
        aq_ext[2 * m..3 * m].copy_from_slice(&[1.0, 2.0, 0.5]);
        Chain {
            n_stages: n,
            n_elements: m,
            flow_vol_aq: vec![10.0, 10.0, 10.0, 4.0, 4.0],
            flow_vol_org: vec![8.0; n],
            aq_from_next: vec![true, true, true, true, false],
            aq_ext,
            org_ext: vec![0.0; n * m],
            acid_ext: vec![0.0, 0.0, 0.5, 0.0, 1.0],
            base_ext: vec![0.3, 0.0, 0.0, 0.0, 0.0],
            murphree: vec![murphree; n],
            models: vec![StageModel::MassAction {
                k_ex: vec![0.1, 0.5, 2.0],
                n_extractant: vec![3.0, 3.0, 2.5],
                z_proton: vec![3.0, 3.0, 2.0],
                conc_dimer: 0.4,
            }],
            model_of_stage: vec![0; n],
            z_exchange: vec![3.0, 3.0, 2.0],
            deadline: Deadline::NONE,
            allowance: Default::default(),
        }
    }

    /// Largest relative difference of the element flows (aqueous and organic) of two
    /// solutions of one chain, with `floor` as the smallest flow measured against.
    pub(crate) fn flow_difference(x: &ChainSolution, y: &ChainSolution, floor: f64) -> f64 {
        x.a.iter()
            .zip(&y.a)
            .chain(x.o.iter().zip(&y.o))
            .map(|(p, q)| (p - q).abs() / p.abs().max(q.abs()).max(floor))
            .fold(0.0, f64::max)
    }

    /// A three-section mass-action circuit like the benchmark's, with four elements:
    /// `ne` extraction stages (100 L/h feed, 0.01 mol/L of each element and 0.05 mol/L acid, at
    /// stage `ne`), `ns` scrub stages (0.3 mol/L acid, 20 L/h, at the last scrub stage) and `nt`
    /// strip stages (6 mol/L acid, 10 L/h, at the last stage); 100 L/h organic, 0.75 mol/L
    /// dimer; extraction constants 0.5 x 1.15^(4 i) (illustrative test values).
    pub(crate) fn three_section_mass_action(ne: usize, ns: usize, nt: usize) -> Chain {
        let n = ne + ns + nt;
        let m = 4;
        let mut aq_ext = vec![0.0; n * m];
        aq_ext[(ne - 1) * m..ne * m].copy_from_slice(&[1.0; 4]);
        let mut acid_ext = vec![0.0; n];
        acid_ext[ne - 1] = 5.0;
        acid_ext[ne + ns - 1] = 6.0;
        acid_ext[n - 1] = 60.0;
        Chain {
            n_stages: n,
            n_elements: m,
            flow_vol_aq: (0..n)
                .map(|j| {
                    if j < ne {
                        120.0
                    } else if j < ne + ns {
                        20.0
                    } else {
                        10.0
                    }
                })
                .collect(),
            flow_vol_org: vec![100.0; n],
            aq_from_next: (0..n).map(|j| j + 1 != ne + ns).collect(),
            aq_ext,
            org_ext: vec![0.0; n * m],
            acid_ext,
            base_ext: vec![0.0; n],
            murphree: vec![1.0; n],
            models: vec![StageModel::MassAction {
                k_ex: (0..m).map(|i| 0.5 * 1.15f64.powi(4 * i as i32)).collect(),
                n_extractant: vec![3.0; m],
                z_proton: vec![3.0; m],
                conc_dimer: 0.75,
            }],
            model_of_stage: vec![0; n],
            z_exchange: vec![3.0; m],
            deadline: Deadline::NONE,
            allowance: Default::default(),
        }
    }
}

#[cfg(test)]
mod soap_tests {
    use super::*;

    /// Loading at stage 1 exchanges with the soap even when the aqueous arriving from the
    /// scrub above is short of acid: the soap is spent on the exchange and the deficit is
    /// reported, instead of the soap neutralizing the deficit and leaving on the organic.
    #[test]
    fn soap_exchanges_for_the_ions_loaded_whatever_arrives_from_above() {
        let c = Chain {
            n_stages: 2,
            n_elements: 1,
            flow_vol_aq: vec![1.0; 2],
            flow_vol_org: vec![1.0; 2],
            aq_from_next: vec![true, false],
            aq_ext: vec![0.0; 2],
            org_ext: vec![0.0; 2],
            // Scrub acid 1.0 mol/h at stage 2; unloading 0.8 mol/h there takes 2.4.
            acid_ext: vec![0.0, 1.0],
            // Soap for exactly the 1.0 mol/h loaded at stage 1 (3 protons each).
            base_ext: vec![3.0, 0.0],
            murphree: vec![1.0; 2],
            models: vec![StageModel::Linear { d_ratio: vec![1.0] }],
            model_of_stage: vec![0; 2],
            z_exchange: vec![3.0],
            deadline: Deadline::NONE,
            allowance: Default::default(),
        };
        let b = c.soap_balance(&[1.0, 0.2]);
        assert!((b.released[0] - 3.0).abs() < 1e-12, "{:?}", b.released);
        assert!(b.released[1].abs() < 1e-12);
        assert!(b.soap_out.abs() < 1e-12);
        assert!(
            (b.h[1] + 1.4).abs() < 1e-12 && (b.h[0] + 1.4).abs() < 1e-12,
            "{:?}",
            b.h
        );
    }
}

#[cfg(test)]
mod coarse_tests {
    use super::test_fixtures::{flow_difference, three_section_mass_action};
    use super::*;

    /// The shorter chain keeps every stage with an inflow and every section boundary, halves
    /// long sections only, and maps stages in order.
    #[test]
    fn coarsened_keeps_inflows_and_section_ends() {
        let c = three_section_mass_action(120, 60, 20);
        let (s, map) = c.coarsened(10).expect("long sections shorten");
        // Extraction: first and feed stage + 118 plain -> 2 x 29; scrub: its two end stages +
        // 58 plain -> 2 x 14; strip: 18 plain stages <= 2 x 10 stay.
        assert_eq!(s.n_stages, (2 + 58) + (2 + 28) + 20);
        assert_eq!(map.len(), c.n_stages);
        assert!(map.windows(2).all(|w| w[0] <= w[1] && w[1] - w[0] <= 1));
        assert_eq!(map[c.n_stages - 1], s.n_stages - 1);
        let m = c.n_elements;
        for j in 0..c.n_stages {
            let q = map[j];
            let has_inflow = c.acid_ext[j] != 0.0
                || c.aq_ext[j * m..(j + 1) * m].iter().any(|&v| v != 0.0)
                || !c.aq_from_next[j];
            if has_inflow {
                assert_eq!(c.acid_ext[j], s.acid_ext[q], "stage {j}");
                assert_eq!(c.aq_ext[j * m..(j + 1) * m], s.aq_ext[q * m..(q + 1) * m]);
                assert_eq!(c.aq_from_next[j], s.aq_from_next[q]);
            }
            assert_eq!(c.flow_vol_aq[j], s.flow_vol_aq[q]);
        }
        let total = |v: &[f64]| v.iter().sum::<f64>();
        assert_eq!(total(&c.acid_ext), total(&s.acid_ext));
        assert_eq!(total(&c.aq_ext), total(&s.aq_ext));
        // Nothing to shorten in a chain of short sections.
        assert!(three_section_mass_action(20, 10, 5).coarsened(10).is_none());
    }

    /// Newton from the shorter chain's solution reaches the solution Newton reaches from its
    /// own flat start (where that converges), and converges where the flat start does not.
    #[test]
    fn coarse_start_reaches_the_direct_solution() {
        let c = three_section_mass_action(60, 30, 10);
        let direct = c.solve_newton_from(None);
        let start = c
            .coarse_start()
            .ok()
            .flatten()
            .expect("the shortened chain converges");
        let coarse = c
            .solve_newton_direct(&start)
            .expect("Newton converges from the shortened chain's solution");
        assert_eq!(direct.status, SolveStatus::Converged);
        assert_eq!(coarse.status, SolveStatus::Converged);
        let scale: f64 = c.aq_ext.iter().sum();
        let d = flow_difference(&direct, &coarse, 1e-12 * scale);
        assert!(d <= 1e-9, "flows differ by {d:e}");
        let long = three_section_mass_action(600, 300, 100);
        let start = long
            .coarse_start()
            .ok()
            .flatten()
            .expect("the shortened chains converge");
        let sol = long.solve_newton_direct(&start).expect("converges");
        assert_eq!(sol.status, SolveStatus::Converged);
        assert!(sol.max_residual <= TOLERANCE);
    }
}

#[cfg(test)]
mod jacobian_tests {
    use super::*;

    use super::test_fixtures::mass_action_chain as chain;

    #[test]
    fn chain_jacobian_matches_finite_differences() {
        for eta in [1.0, 0.7] {
            let c = chain(eta);
            let lay = c.layout();
            let (n, m, b) = (c.n_stages, c.n_elements, lay.block());
            let size = n * b;
            let mut u: Vec<f64> = (0..size).map(|k| 0.05 + 0.01 * (k % 7) as f64).collect();
            for j in 0..n {
                u[j * b + b - 1] = 0.2 + 0.05 * j as f64;
            }
            let mut jac = BlockTridiag::zeros(n, b);
            c.jacobian(&lay, &u, &mut jac);
            let dense = jac.to_dense();
            let mut o_eq = vec![0.0; n * m];
            let mut rp = vec![0.0; size];
            let mut rm = vec![0.0; size];
            for k in 0..size {
                let h = 1e-7 * u[k].abs().max(1e-3);
                let mut up = u.clone();
                up[k] += h;
                let mut um = u.clone();
                um[k] -= h;
                c.residuals(&lay, &up, &mut o_eq, &mut rp);
                c.residuals(&lay, &um, &mut o_eq, &mut rm);
                for r in 0..size {
                    let fd = (rp[r] - rm[r]) / (2.0 * h);
                    let an = dense[r * size + k];
                    assert!(
                        (fd - an).abs() <= 1e-5 * (1.0 + fd.abs()),
                        "eta {eta} row {r} col {k}: fd {fd} vs {an}"
                    );
                }
            }
        }
    }
}
