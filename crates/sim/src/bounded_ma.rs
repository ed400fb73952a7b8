//! Mass-action chains solved in bounded variables (Murphree efficiency 1). See docs/ph.md.
//!
//! Unknowns per stage `j`: the element totals leaving the stage in both phases,
//! `T_ji = a_ji + o_ji` (mol/h, solved as `v_ji = ln(T_ji + tau_i)` with a tiny shift `tau_i`
//! so an absent element stays well posed), and the stage's proton invariant
//! `U_j = h_j - sum_i zx_i o_ji` (mol/h), which extraction inside the stage leaves unchanged
//! (one ion loaded moves `zx_i` protons into the aqueous).
//!
//! For given unknowns the stage equilibrium is a local problem with exactly one solution (the
//! "flash", [`BoundedMa::flash`]): the free dimer `f = [(HA)2]` in `(0, C]` from extractant
//! conservation `f + sum_i n_i y_i = C`, and `[H+] > 0` from the proton balance with water's ion
//! product, `Q_aq ([H+] - K_w / [H+]) = U + sum_i zx_i o_i`. The element splits
//! `o_i = T_i k_i / (1 + k_i)`, `k_i = K_i f^n_i [H+]^-z_i Q_org / Q_aq`, follow. So every iterate
//! is a state of a plant: the loading never exceeds `C / n_i` (nor a loading capacity folded
//! into `C`), the free extractant stays in `(0, C]`, and the pH is where the protons put it,
//! inside water's own range. The general Newton of the chain and the former reduced Newton in
//! `(ln f, ln [H+])` solved for unbounded stage states and, on concentrated saponified circuits,
//! walked to pH 18-95 and loadings of 1e3 mol/L before giving up.
//!
//! What is left are the balances between stages: element and proton-invariant balances,
//! `in - out = 0`, block tridiagonal in `(v, U)` with blocks of `m + 1`, linear in the number of
//! stages. They are solved by Newton with pseudo-transient continuation (Kelley and Keyes 1998,
//! "Convergence analysis of pseudo-transient continuation", SIAM J. Numer. Anal. 35(2)):
//! `(D / delta - J) dx = r`, where `D` is the stage inventory in the scaled variables, so a step
//! with `delta = 1` relaxes each stage by about one residence time, as the plant itself would on
//! its way to the steady state, and `delta -> infinity` is Newton. A direct Newton attempt comes
//! first; when it fails, `delta` starts at 1, one Newton step is taken per pseudo-time step, and
//! `delta` is multiplied by the ratio of the last two residual norms (switched evolution
//! relaxation, clamped to 1-10 per step) or quartered when the line search rejects the step,
//! back to Newton near the solution. The chain's own residual check decides the status.

// Index loops mirror the stage/element algebra.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use crate::chain::{Chain, ChainSolution};
use crate::equilibrium::{proton_conc, StageModel, K_W};
use crate::linalg::{gth_chain_solve, BlockScratch, BlockTridiag};

/// Lowest and highest `ln [H+]` the flash searches (pH 20 and -3): water's limit and beyond
/// any acid a flowsheet's plausible ranges admit.
const LN_H_MIN: f64 = -46.05;
const LN_H_MAX: f64 = 6.91;
/// Lowest `ln (f / C)` the flash searches (e^-700: the extractant is then fully loaded).
const LN_F_SPAN: f64 = 700.0;
/// Relative tolerance of the flash equations.
const FLASH_TOL: f64 = 1e-15;
/// Iterations of each one-dimensional flash search (bisection safeguards them).
const FLASH_MAX: usize = 200;
/// Iterations of the flash's joint Newton from a warm state, and the largest step in either
/// log it takes (beyond either, the nested searches take over).
const FLASH_JOINT_MAX: usize = 8;
const FLASH_JOINT_STEP: f64 = 2.0;
/// Scaled balance residual that ends the iteration.
const R_TOL: f64 = 1e-13;
/// Largest scaled balance residual that ends the solve of a shorter chain that only starts a
/// longer one, and the share of its start's residual that does ([`BoundedMa::solve_rough`]).
/// The longer chain's start is as far from its solution whether the shorter one was solved
/// to a tenth of its start's residual or to a thousandth: the stages the shorter chain leaves
/// out, not its own error, set it (measured 2026-12-07 on the concentrated benchmark at 1,000
/// stages: with 1e-3 and 1e-5 the 1,000-stage chain started at 8.1e-4 after 85 iterations in
/// all, with 0.1 and 1e-3 at 9.7e-4 after 69; 1,338 -> 1,088 million instructions).
const STAND_IN_TOL: f64 = 1e-3;
const ROUGH_SHARE: f64 = 0.1;
/// Scaled residual below which an iteration that hardly lowers it ends the solve.
const STALL_RMAX: f64 = 1e-12;
/// Largest change of a log total in one step (the step is scaled to it).
const MAX_LOG_STEP: f64 = 3.0;
/// Largest change of a proton invariant in one step, relative to its stage throughput.
const MAX_U_STEP: f64 = 1.0;
/// Iterations of a cold solve.
const MAX_ITER: usize = 1500;
/// Iterations of each continuation after marching stalls (prop_ph at 1,000 plants: 3
/// unexplained with 2,000, 4 with 6,000, the slow ones spending their time in a continuation
/// that did not arrive).
const MAX_CONT: usize = 2000;
/// Iterations of the direct attempt before continuation.
const MAX_DIRECT: usize = 60;
/// Smallest scaled inventory of a log total in the pseudo-time term.
const INV_FLOOR: f64 = 0.1;
/// First pseudo-time step (about one residence time of each stage).
const DELTA_FIRST: f64 = 1.0;
/// Residual tolerance of one implicit pseudo-time step.
const STEP_TOL: f64 = 1e-9;
/// Iterations marching may go without the merit falling by [`MARCH_PROGRESS`] before the
/// continuation is tried.
const MARCH_STALL: usize = 300;
/// Factor by which the merit must fall to count as progress.
const MARCH_PROGRESS: f64 = 0.1;
/// Pseudo-time step from which Newton on the steady balances is tried.
const DELTA_NEWTON: f64 = 1e6;
/// Longest pseudo-time step.
const DELTA_MAX: f64 = 1e15;
/// Bounds of the switched-evolution-relaxation factor of one step. The step is not shortened
/// when the steady residual rises: a plant filling from a cold start passes through states far
/// from steady (the residual of the concentrated benchmark's 24-stage chain rises from 1.4 to
/// 21 before it falls), every step accepted at full length, and shortening to the ratio took
/// that march from one residence time a step down to a quarter of one, 85 iterations instead
/// of 49 (2026-12-07). A rejected step still quarters it.
const SER_CLAMP: (f64, f64) = (1.0, 10.0);
/// Newton iterations on the steady balances once the pseudo-time step is long.
const STEADY_TRY: usize = 25;
/// Chord steps (Shamanskii's method): a full Newton step that lowers the scaled residual norm
/// by [`CHORD_KEEP`] or more is followed by steps with the same Jacobian factors, one
/// substitution sweep (some m^2 operations a stage) against a factorization (m^3), each kept
/// while it lowers the norm by [`CHORD_ACCEPT`]; one that does not is dropped and the Jacobian
/// rebuilt at the same point.
const CHORD_KEEP: f64 = 0.1;
const CHORD_ACCEPT: f64 = 0.5;
/// Most a steady Newton step's first trial length grows over the length the last step was
/// accepted at: a step cut to a thousandth by the proton invariants' limit (a cold start
/// filling with acid) is seldom accepted at full length the next iteration, and each halving
/// costs an evaluation of every stage (measured 2026-12-07: the concentrated benchmark at
/// 1,000 stages 778 -> 740 million instructions, its 12-stage cold chain 29 iterations either
/// way; tests/prop_ph.rs the same counts, 58.6 -> 55.7 s).
const LAMBDA_GROWTH: f64 = 4.0;
/// Halvings of a Newton step before pseudo-time stepping takes over.
const NEWTON_BACKTRACKS: usize = 8;
/// Smallest pseudo-time step before the solve gives up.
const DELTA_MIN: f64 = 1e-8;
/// Share of a stage's whole throughput below which an element's balance is measured against
/// that share (the chain check's floor).
const STAGE_FLOOR: f64 = 1e-30;
/// Relative shift of the log totals (of each element's total inflow).
const TAU: f64 = 1e-30;
/// Bounds of the distribution ratios of the cold start.
const START_K: (f64, f64) = (1e-6, 1e6);
/// Lowest [H+] (mol/L) of the cold start.
const START_ACIDITY_FLOOR: f64 = 0.01;
/// Largest stage flow of an element in the cold start, relative to its inflow.
const START_TRAP: f64 = 1e3;
/// Share of the extractant the cold start loads at most.
const START_LOAD: f64 = 0.9;
/// Chain solves of the cold start that scale ratios to the extractant's capacity.
const START_CAP_PASSES: usize = 6;
/// Attempts to bound a trapped element's cold start.
const START_TRAP_TRIES: usize = 8;
/// Shift of `ln K` where the continuation in the extraction constants starts (K x 1e-9).
const K_SHIFT0: f64 = -20.7;
/// Forward-difference step in `ln K` of the arclength continuation.
const ARC_FD: f64 = 1e-7;
/// First, smallest and largest arclength step.
const ARC_H0: f64 = 0.1;
const ARC_H_MIN: f64 = 1e-6;
const ARC_H_MAX: f64 = 8.0;
/// Corrector iterations of one arclength step.
const ARC_CORRECTOR: usize = 8;
/// Span of the shift of the saponification homotopy (base times `1 + sigma / BASE_SPAN`).
const BASE_SPAN: f64 = 10.0;
/// Newton iterations of one continuation step.
const K_STEP_ITER: usize = 12;
/// Smallest continuation step in `ln K`.
const K_STEP_MIN: f64 = 0.05;
/// An element bringing less than this share of a chain's element inflow is a trace
/// ([`BoundedMa::solve_without_traces`]): left out, it moves the other elements' steady state
/// by about its share, well inside Newton's reach from there.
const TRACE_SHARE: f64 = 1e-9;
/// Fewest stages one parallel task of the stage equilibria or the Jacobian takes (a stage is
/// about a microsecond of work; fewer per task would spend it on scheduling), and fewest
/// stages for which they run in parallel at all (below it a hand-off to the pool costs more
/// than the work).
const STAGES_PER_TASK: usize = 32;
const PARALLEL_MIN_STAGES: usize = 96;
/// Scaled residual at which a stalled march of a chain with traces gives way to the path
/// without them before it resumes ([`BoundedMa::solve`]).
const TRACES_FIRST_RMAX: f64 = 1e-3;
/// Substitution passes (stage ratios from the flash, balanced flows) of the cold start, and
/// of a start from another solution (a shorter chain's, a previous recycle iteration's): the
/// first pass balances the flows the start's ratios give, which the second seldom improves
/// (the concentrated benchmark at 1,000 stages: the same iterations with one pass as with
/// three, 45 million instructions fewer).
const START_PASSES: usize = 3;
const WARM_START_PASSES: usize = 1;

/// The parameter a continuation varies, as a shift `sigma` from `start()` to 0 (the
/// flowsheet's own problem).
#[derive(Clone, Copy, Debug)]
enum Homotopy {
    /// Every extraction constant times `e^sigma`: from nearly nothing loaded.
    K,
    /// The saponification base times `1 + sigma / BASE_SPAN`: from no soap.
    Base,
}

impl Homotopy {
    fn start(self) -> f64 {
        match self {
            Homotopy::K => K_SHIFT0,
            Homotopy::Base => -BASE_SPAN,
        }
    }
}

/// How a stage's split is fixed.
#[derive(Clone)]
enum Kind {
    /// Constant ratios `k_i = D_i Q_org / Q_aq` (a `distribution` stage).
    Fixed(Vec<f64>),
    /// Mass action: `ln k_i = ln_k0_i + n_i ln f - z_i ln [H+]` (`-inf`: not extracted).
    Ma {
        ln_k0: Vec<f64>,
        n_ext: Vec<f64>,
        z: Vec<f64>,
        conc: f64,
        /// `Some((e^ln_k0, n, z))` when every extracted element has the same `n` and `z` and
        /// every `e^ln_k0` lies within [`COMMON_K0`]: then `k_i = e^ln_k0_i e^(n ln f - z ln
        /// [H+])`, one exponential for the stage instead of one per element
        /// ([`BoundedMa::fractions`]).
        common: Option<(Vec<f64>, f64, f64)>,
    },
}

/// The range of `e^ln_k0` (and of the stage's common factor `e^(n ln f - z ln [H+])`) within
/// which [`BoundedMa::fractions`] multiplies the two: their product then stays a normal
/// number. Outside it, one exponential per element.
const COMMON_K0: (f64, f64) = (1e-150, 1e150);

/// Elements of a stage whose flash keeps its working values on the stack (every lanthanide,
/// Y and Sc, with room to spare); more go on the heap.
const FLASH_STACK: usize = 24;

impl Kind {
    /// A mass-action stage of these constants ([`Kind::Ma`]).
    fn ma(ln_k0: Vec<f64>, n_ext: Vec<f64>, z: Vec<f64>, conc: f64) -> Kind {
        let extracted: Vec<usize> = (0..ln_k0.len())
            .filter(|&i| ln_k0[i] > f64::NEG_INFINITY)
            .collect();
        let k0: Vec<f64> = ln_k0
            .iter()
            .map(|&l| if l > f64::NEG_INFINITY { l.exp() } else { 0.0 })
            .collect();
        let common = extracted.first().and_then(|&i0| {
            let (nc, zc) = (n_ext[i0], z[i0]);
            extracted
                .iter()
                .all(|&i| {
                    n_ext[i] == nc && z[i] == zc && (COMMON_K0.0..=COMMON_K0.1).contains(&k0[i])
                })
                .then_some((k0, nc, zc))
        });
        Kind::Ma {
            ln_k0,
            n_ext,
            z,
            conc,
            common,
        }
    }
}

/// The storage of a Newton iteration's linear algebra (Jacobian, its factors, the stages'
/// outflow derivatives), kept per thread between solves: some 12 MB for a 1,000-stage chain
/// of 15 elements, which the allocator otherwise hands back to the system after every solve
/// and then faults in again, page by page, in the first iteration of the next (measured
/// 2026-12-07 on the concentrated benchmark at 1,000 stages: that first iteration took 10.7
/// ms against 6.2 ms for the next, and 7.3 ms with the memory kept). Kept only up to
/// [`WORK_KEEP_MAX`] bytes.
struct Work {
    jac: BlockTridiag,
    scratch: BlockScratch,
    derivs: Vec<f64>,
}

impl Default for Work {
    fn default() -> Work {
        Work {
            jac: BlockTridiag::zeros(0, 0),
            scratch: BlockScratch::default(),
            derivs: Vec::new(),
        }
    }
}

/// Largest [`Work`] a thread keeps between solves (a 5,000-stage chain of 15 elements needs
/// about 60 MB).
const WORK_KEEP_MAX: usize = 64 << 20;

thread_local! {
    static WORK: std::cell::RefCell<Work> = std::cell::RefCell::new(Work::default());
}

impl Work {
    /// This thread's kept storage (empty when none is kept, or another solve on this thread
    /// holds it), with a Jacobian of `n` block rows of `b`.
    fn take(n: usize, b: usize) -> Work {
        let mut w = WORK.with(|c| std::mem::take(&mut *c.borrow_mut()));
        w.jac.reshape(n, b);
        // The diagonal blocks are diagonal: zero here, and [`BoundedMa::jacobian`] writes
        // only their diagonals (nothing else writes them).
        w.jac.diag.fill(0.0);
        w
    }

    /// Hands the storage back to this thread for the next solve.
    fn keep(self) {
        let bytes = 8 * (self.derivs.capacity() + self.jac.capacity()) + self.scratch.bytes();
        if bytes <= WORK_KEEP_MAX {
            WORK.with(|c| *c.borrow_mut() = self);
        }
    }
}

/// Per-task storage of [`BoundedMa::flash_derivatives`]: each column's total (1 for `U`),
/// `w_i = T_i s_i (1 - s_i)`, and the flash's sensitivities `d ln f`, `d ln [H+]` per column.
#[derive(Default)]
struct DerivTmp {
    col: Vec<f64>,
    w: Vec<f64>,
    dp: Vec<f64>,
    dq: Vec<f64>,
}

/// An evaluated iterate: unknowns, stage equilibria, flows and scaled residuals.
#[derive(Clone)]
struct State {
    /// `ln(T + tau)`, `n * m`.
    v: Vec<f64>,
    /// The totals `T` of `v` ([`BoundedMa::total_of`]), set by [`BoundedMa::evaluate`].
    t: Vec<f64>,
    /// Proton invariants, `n`.
    u: Vec<f64>,
    /// Flash solution per stage: `ln f` and `ln [H+]`.
    lf: Vec<f64>,
    lh: Vec<f64>,
    /// Fraction of each total in the organic, `n * m`.
    s: Vec<f64>,
    /// Organic and aqueous outflows `n * m`, net acidity outflow `n`.
    o: Vec<f64>,
    a: Vec<f64>,
    h: Vec<f64>,
    /// Scaled residuals `n * (m + 1)` and their row scales.
    r: Vec<f64>,
    sig: Vec<f64>,
    /// `sum r^2`.
    merit: f64,
    /// `max |r|`.
    rmax: f64,
    /// Every stage's flash converged.
    flashed: bool,
}

/// One stage's outputs of the flash: totals, organic fractions, organic and aqueous flows (`m`
/// each), `ln f`, `ln [H+]` and the net acidity.
type StageOut<'a> = (
    &'a mut [f64],
    &'a mut [f64],
    &'a mut [f64],
    &'a mut [f64],
    &'a mut f64,
    &'a mut f64,
    &'a mut f64,
);
/// One block row of the Jacobian: diagonal, lower and upper blocks.
type BlockRow<'a> = (&'a mut [f64], &'a mut [f64], &'a mut [f64]);

/// Outcome of one solve.
#[derive(Clone)]
struct Outcome {
    state: State,
    iterations: usize,
    /// Steps accepted by the line search.
    accepted: usize,
    converged: bool,
}

#[derive(Clone)]
pub(crate) struct BoundedMa<'c> {
    chain: &'c Chain,
    /// Saponification base entering each stage, mol/h (the chain's, or scaled by a homotopy).
    base: Vec<f64>,
    /// The distinct stage kinds, and the kind of each stage.
    kinds: Vec<Kind>,
    kind_of: Vec<usize>,
    link: Vec<bool>,
    tau: Vec<f64>,
    /// `ln tau`, the lowest shifted log total.
    ln_tau: Vec<f64>,
    /// Trace elements Newton balances exactly at every trial (empty but in
    /// [`BoundedMa::solve_without_traces`]).
    traces: Vec<usize>,
    /// Scaled balance residual that ends a steady Newton solve: [`R_TOL`], or up to
    /// [`STAND_IN_TOL`] for a shorter chain that only starts a longer one
    /// ([`BoundedMa::solve_rough`]).
    tol: f64,
}

/// Each element's inflow to the chain (aqueous and organic), mol/h.
fn element_inflow(chain: &Chain) -> Vec<f64> {
    let (n, m) = (chain.n_stages, chain.n_elements);
    (0..m)
        .map(|i| {
            (0..n)
                .map(|j| chain.aq_ext[j * m + i] + chain.org_ext[j * m + i])
                .sum()
        })
        .collect()
}

impl<'c> BoundedMa<'c> {
    /// The bounded problem, or `None` unless every stage is mass action or constant D, at least
    /// one is mass action, and every Murphree efficiency is 1.
    pub(crate) fn new(chain: &'c Chain) -> Option<BoundedMa<'c>> {
        let (n, m) = (chain.n_stages, chain.n_elements);
        if chain.murphree.iter().any(|&e| e < 1.0) || n == 0 || m == 0 {
            return None;
        }
        let mut any = false;
        let mut kinds = Vec::new();
        let mut kind_of = Vec::with_capacity(n);
        let mut last: Option<(usize, f64)> = None;
        for j in 0..n {
            let ratio = chain.flow_vol_org[j] / chain.flow_vol_aq[j];
            if !(ratio.is_finite() && ratio >= 0.0) || chain.flow_vol_aq[j] <= 0.0 {
                return None;
            }
            // The stages of a section share their model and phase ratio, and so their kind.
            let model = chain.model_of_stage[j];
            if last == Some((model, ratio)) {
                kind_of.push(kinds.len() - 1);
                continue;
            }
            last = Some((model, ratio));
            kind_of.push(kinds.len());
            kinds.push(match &chain.models[model] {
                StageModel::Linear { d_ratio } => {
                    Kind::Fixed(d_ratio.iter().map(|d| d * ratio).collect())
                }
                StageModel::MassAction {
                    k_ex,
                    n_extractant,
                    z_proton,
                    conc_dimer,
                } => {
                    if !(conc_dimer.is_finite() && *conc_dimer > 0.0 && ratio > 0.0) {
                        return None;
                    }
                    any = true;
                    Kind::ma(
                        k_ex.iter()
                            .map(|&k| {
                                if k > 0.0 {
                                    (k * ratio).ln()
                                } else {
                                    f64::NEG_INFINITY
                                }
                            })
                            .collect(),
                        n_extractant.clone(),
                        z_proton.clone(),
                        *conc_dimer,
                    )
                }
                _ => return None,
            });
        }
        if !any {
            return None;
        }
        let link = (0..n).map(|j| chain.aq_from_next[j] && j + 1 < n).collect();
        let tau: Vec<f64> = element_inflow(chain)
            .iter()
            .map(|tot| (TAU * tot).max(1e-300))
            .collect();
        Some(BoundedMa {
            chain,
            base: chain.base_ext.clone(),
            kinds,
            kind_of,
            link,
            ln_tau: tau.iter().map(|t| t.ln()).collect(),
            tau,
            traces: Vec::new(),
            tol: R_TOL,
        })
    }

    fn n(&self) -> usize {
        self.chain.n_stages
    }

    /// The kind of stage `j`.
    fn kind(&self, j: usize) -> &Kind {
        &self.kinds[self.kind_of[j]]
    }

    /// The problem at `sigma` of homotopy `h`: every mass-action constant times `e^sigma`
    /// ([`Homotopy::K`]), or the chain's base times `1 + sigma / BASE_SPAN`.
    fn at(&self, h: Homotopy, sigma: f64) -> BoundedMa<'c> {
        let mut kinds = self.kinds.clone();
        let mut base = self.base.clone();
        match h {
            Homotopy::K => {
                for k in &mut kinds {
                    if let Kind::Ma {
                        ln_k0,
                        n_ext,
                        z,
                        conc,
                        ..
                    } = k
                    {
                        let shifted = ln_k0.iter().map(|v| v + sigma).collect();
                        *k = Kind::ma(shifted, n_ext.clone(), z.clone(), *conc);
                    }
                }
            }
            Homotopy::Base => {
                let f = (1.0 + sigma / BASE_SPAN).clamp(0.0, 1.0);
                base = self.chain.base_ext.iter().map(|b| b * f).collect();
            }
        }
        BoundedMa {
            base,
            kinds,
            ..self.clone()
        }
    }

    /// Scaled residual `g` of `st` (its own row scales) and its derivative in the shift of
    /// `ln K` at fixed unknowns, by a forward difference (the flash is solved to 1e-15).
    fn shift_derivative(&self, hm: Homotopy, st: &State, shift: f64, gs: &mut Vec<f64>) -> bool {
        let bm = self.at(hm, shift + ARC_FD);
        let mut p = st.clone();
        bm.evaluate(&mut p);
        if !p.flashed {
            return false;
        }
        gs.clear();
        gs.extend(
            p.r.iter()
                .zip(&p.sig)
                .zip(st.r.iter().zip(&st.sig))
                .map(|((rp, sp), (r0, s0))| (rp / sp * s0 - r0) / ARC_FD),
        );
        gs.iter().all(|v| v.is_finite())
    }

    /// Pseudo-arclength continuation in the shift of `ln K` from a solution `st` at `shift`
    /// (Keller 1977; the bordered system solved by block elimination with the chain's block
    /// tridiagonal Jacobian): follows the branch of steady states through folds in `K`
    /// until it crosses `shift = 0`, where Newton at the given constants finishes.
    fn arclength(
        &self,
        hm: Homotopy,
        st: State,
        shift: f64,
        max_iter: usize,
    ) -> Result<Outcome, usize> {
        let (n, m) = (self.n(), self.m());
        let b = m + 1;
        let nb = n * b;
        // weights of the unknowns in the arclength: logs as they are, proton invariants
        // relative to their stage throughput; averaged so `ln K` counts as one unknown
        let weight = |x: &State, q: usize| -> f64 {
            if q % b == m {
                x.sig[q] / (nb as f64).sqrt()
            } else {
                1.0 / (nb as f64).sqrt()
            }
        };
        let get = |x: &State, q: usize| -> f64 {
            let (j, c) = (q / b, q % b);
            if c < m {
                x.v[j * m + c]
            } else {
                x.u[j]
            }
        };
        let mut jac = BlockTridiag::zeros(n, b);
        let mut scratch = BlockScratch::default();
        let (mut y1, mut y2, mut gs) = (Vec::new(), Vec::new(), Vec::new());
        let mut rhs = vec![0.0; nb];
        let mut derivs = Vec::new();
        let mut spent = 0;
        let (mut x0, mut s0) = (st, shift);
        // tangent: J t_x = -g_s t_s, oriented towards larger K
        let tangent = |bm: &BoundedMa,
                       x: &State,
                       s: f64,
                       jac: &mut BlockTridiag,
                       scratch: &mut BlockScratch,
                       gs: &mut Vec<f64>,
                       y2: &mut Vec<f64>,
                       rhs: &mut Vec<f64>,
                       derivs: &mut Vec<f64>|
         -> Option<(Vec<f64>, f64)> {
            bm.at(hm, s).jacobian(x, jac, derivs);
            if !bm.shift_derivative(hm, x, s, gs) {
                return None;
            }
            for (r, g) in rhs.iter_mut().zip(gs.iter()) {
                *r = -g;
            }
            if !jac.solve_with(rhs, scratch, y2) {
                return None;
            }
            let mut norm = 1.0;
            for q in 0..nb {
                norm += (weight(x, q) * y2[q]).powi(2);
            }
            let norm = norm.sqrt();
            Some((y2.iter().map(|v| v / norm).collect(), 1.0 / norm))
        };
        let (mut tx, mut ts) = tangent(
            self,
            &x0,
            s0,
            &mut jac,
            &mut scratch,
            &mut gs,
            &mut y2,
            &mut rhs,
            &mut derivs,
        )
        .ok_or(0usize)?;
        let mut h = ARC_H0;
        while spent < max_iter && !self.chain.out_of_budget() {
            if h < ARC_H_MIN || s0 < hm.start() - 1.0 {
                return Err(spent);
            }
            // the step would cross shift 0: Newton at the given constants from the predictor
            if ts > 0.0 && s0 + h * ts >= 0.0 {
                let t = -s0 / ts;
                let mut p = x0.clone();
                for q in 0..nb {
                    let (j, c) = (q / b, q % b);
                    if c < m {
                        p.v[j * m + c] = (p.v[j * m + c] + t * tx[q]).max(self.ln_tau[c]);
                    } else {
                        p.u[j] += t * tx[q];
                    }
                }
                self.evaluate(&mut p);
                let out = if p.flashed {
                    self.newton(p, None, K_STEP_ITER)
                } else {
                    self.newton(x0.clone(), None, 0)
                };
                spent += out.iterations;
                if out.converged {
                    return Ok(Outcome {
                        iterations: spent,
                        ..out
                    });
                }
                h = t.min(h) * 0.5;
                continue;
            }
            // predictor
            let mut x = x0.clone();
            let mut s = s0 + h * ts;
            for q in 0..nb {
                let (j, c) = (q / b, q % b);
                if c < m {
                    x.v[j * m + c] = (x.v[j * m + c] + h * tx[q]).max(self.ln_tau[c]);
                } else {
                    x.u[j] += h * tx[q];
                }
            }
            // corrector: Newton on g(x, s) = 0 and the arclength equation
            let mut ok = false;
            for _ in 0..ARC_CORRECTOR {
                if self.chain.out_of_budget() {
                    break;
                }
                let bm = self.at(hm, s);
                bm.evaluate(&mut x);
                if !x.flashed {
                    break;
                }
                if x.rmax <= R_TOL * 10.0 {
                    ok = true;
                    break;
                }
                spent += 1;
                self.chain.allowance.spend();
                bm.jacobian(&x, &mut jac, &mut derivs);
                if !self.shift_derivative(hm, &x, s, &mut gs) {
                    break;
                }
                for (r, g) in rhs.iter_mut().zip(&x.r) {
                    *r = -g;
                }
                if !jac.solve_with(&rhs, &mut scratch, &mut y1) {
                    break;
                }
                for (r, g) in rhs.iter_mut().zip(&gs) {
                    *r = -g;
                }
                if !jac.resolve(&rhs, &scratch, &mut y2) {
                    break;
                }
                let mut res = ts * (s - s0) - h;
                let (mut d1, mut d2) = (0.0, ts);
                for q in 0..nb {
                    let w2 = weight(&x0, q).powi(2);
                    res += w2 * tx[q] * (get(&x, q) - get(&x0, q));
                    d1 += w2 * tx[q] * y1[q];
                    d2 += w2 * tx[q] * y2[q];
                }
                if d2 == 0.0 || !d2.is_finite() {
                    break;
                }
                let ds = (-res - d1) / d2;
                let mut big: f64 = 0.0;
                for q in 0..nb {
                    let d = y1[q] + ds * y2[q];
                    big = big.max(if q % b == m {
                        (d * x.sig[q]).abs() / MAX_U_STEP
                    } else {
                        d.abs() / MAX_LOG_STEP
                    });
                }
                let lambda = if big > 1.0 { 1.0 / big } else { 1.0 };
                for q in 0..nb {
                    let (j, c) = (q / b, q % b);
                    let d = lambda * (y1[q] + ds * y2[q]);
                    if c < m {
                        x.v[j * m + c] = (x.v[j * m + c] + d).max(self.ln_tau[c]);
                    } else {
                        x.u[j] += d;
                    }
                }
                s += lambda * ds;
            }
            if !ok {
                h *= 0.5;
                continue;
            }
            let Some((nx, ns)) = tangent(
                self,
                &x,
                s,
                &mut jac,
                &mut scratch,
                &mut gs,
                &mut y2,
                &mut rhs,
                &mut derivs,
            ) else {
                h *= 0.5;
                continue;
            };
            // keep the direction of travel
            let mut dot = ns * ts;
            for q in 0..nb {
                dot += weight(&x, q).powi(2) * nx[q] * tx[q];
            }
            let sign = if dot < 0.0 { -1.0 } else { 1.0 };
            tx = nx.iter().map(|v| sign * v).collect();
            ts = sign * ns;
            x0 = x;
            s0 = s;
            h = (h * 1.5).min(ARC_H_MAX);
        }
        Err(spent)
    }

    /// Natural-parameter continuation in the extraction constants: from `K e^K_SHIFT0`,
    /// where little loads and Newton converges from the cold start, to `K`, each step a
    /// Newton solve from the last solution, the step in `ln K` doubled after a quick solve
    /// and halved after a failed one; when the step falls below [`K_STEP_MIN`] (a turn of the
    /// branch of steady states), pseudo-arclength takes over. `Err(iterations spent)` when the
    /// start does not converge, the arclength fails, or the budget is spent.
    fn continuation(&self, hm: Homotopy, max_iter: usize) -> Result<Outcome, usize> {
        let mut shift = hm.start();
        let bm0 = self.at(hm, shift);
        let first = bm0.newton(bm0.initial(None), None, MAX_DIRECT);
        let mut spent = first.iterations;
        if !first.converged {
            return Err(spent);
        }
        let mut at = first.state;
        let mut step = -hm.start() / 8.0;
        while spent < max_iter && !self.chain.out_of_budget() {
            let next = (shift + step).min(0.0);
            let bm = self.at(hm, next);
            let mut st = at.clone();
            bm.evaluate(&mut st);
            let out = bm.newton(st, None, K_STEP_ITER.min(max_iter - spent));
            spent += out.iterations;
            if out.converged {
                if next == 0.0 {
                    return Ok(Outcome {
                        iterations: spent,
                        ..out
                    });
                }
                shift = next;
                at = out.state;
                if out.iterations <= K_STEP_ITER / 3 {
                    step *= 2.0;
                }
            } else {
                step *= 0.5;
                if step < K_STEP_MIN {
                    return self
                        .arclength(hm, at, shift, max_iter - spent)
                        .map(|o| Outcome {
                            iterations: spent + o.iterations,
                            ..o
                        })
                        .map_err(|its| spent + its);
                }
            }
        }
        Err(spent)
    }

    fn m(&self) -> usize {
        self.chain.n_elements
    }

    /// Organic fractions `s_i = k_i / (1 + k_i)` of a mass-action stage at `ln f`, `ln [H+]`,
    /// with `w_i = T_i s_i (1 - s_i)`.
    fn fractions(kind: &Kind, lf: f64, lh: f64, t: &[f64], s: &mut [f64], w: &mut [f64]) {
        let Kind::Ma {
            ln_k0,
            n_ext,
            z,
            common,
            ..
        } = kind
        else {
            return;
        };
        if let Some((k0, nc, zc)) = common {
            let e = (nc * lf - zc * lh).exp();
            if (COMMON_K0.0..=COMMON_K0.1).contains(&e) {
                for i in 0..s.len() {
                    let k = k0[i] * e;
                    let c = 1.0 / (1.0 + k);
                    s[i] = k * c;
                    w[i] = t[i] * s[i] * c;
                }
                return;
            }
        }
        for i in 0..s.len() {
            let lk = ln_k0[i] + n_ext[i] * lf - z[i] * lh;
            if lk == f64::NEG_INFINITY || lk.is_nan() {
                s[i] = 0.0;
                w[i] = 0.0;
                continue;
            }
            // s = 1 / (1 + e^-lk), 1 - s = 1 / (1 + e^lk), without overflow.
            let (si, ci) = if lk >= 0.0 {
                let e = (-lk).exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            } else {
                let e = lk.exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            };
            s[i] = si;
            w[i] = t[i] * si * ci;
        }
    }

    /// Stage equilibrium of stage `j` for totals `t` and proton invariant `u`: the organic
    /// fractions `s`, with the flash state `(lf, lh)` updated in place from its warm value.
    /// False when the proton balance has no root in the searched pH range.
    fn flash(
        &self,
        j: usize,
        t: &[f64],
        u: f64,
        lf: &mut f64,
        lh: &mut f64,
        s: &mut [f64],
    ) -> bool {
        let m = self.m();
        let ch = self.chain;
        let (qa, qo) = (ch.flow_vol_aq[j], ch.flow_vol_org[j]);
        let zx = &ch.z_exchange;
        match self.kind(j) {
            Kind::Fixed(k) => {
                for i in 0..m {
                    s[i] = k[i] / (1.0 + k[i]);
                }
                *lf = 0.0;
                let h = u + (0..m).map(|i| zx[i] * t[i] * s[i]).sum::<f64>();
                *lh = proton_conc(h / qa).0.ln();
                true
            }
            kind @ Kind::Ma { n_ext, z, conc, .. } => {
                // Storage for w_i on the stack for up to FLASH_STACK elements.
                let mut on_stack = [0.0; FLASH_STACK];
                let mut on_heap = Vec::new();
                let w: &mut [f64] = if m <= FLASH_STACK {
                    &mut on_stack[..m]
                } else {
                    on_heap.resize(m, 0.0);
                    &mut on_heap
                };
                let lc = conc.ln();
                // Inner: free dimer for a given ln [H+] (G increasing in ln f).
                let inner = |lh: f64, lf0: f64, s: &mut [f64], w: &mut [f64]| -> f64 {
                    let (mut lo, mut hi) = (lc - LN_F_SPAN, lc);
                    let mut x = lf0.clamp(lo, hi);
                    for _ in 0..FLASH_MAX {
                        Self::fractions(kind, x, lh, t, s, w);
                        let f = x.exp();
                        let mut g = f - conc;
                        let mut dg = f;
                        for i in 0..m {
                            g += n_ext[i] * t[i] * s[i] / qo;
                            dg += n_ext[i] * n_ext[i] * w[i] / qo;
                        }
                        if g.abs() <= FLASH_TOL * conc {
                            return x;
                        }
                        if g > 0.0 {
                            hi = x;
                        } else {
                            lo = x;
                        }
                        let mut nx = x - g / dg;
                        if !(nx > lo && nx < hi && nx.is_finite()) {
                            nx = 0.5 * (lo + hi);
                        }
                        if (nx - x).abs() <= 1e-15 * (1.0 + x.abs())
                            || hi - lo <= 1e-15 * (1.0 + lo.abs())
                        {
                            x = nx;
                            break;
                        }
                        x = nx;
                    }
                    Self::fractions(kind, x, lh, t, s, w);
                    x
                };
                // From a warm state, Newton on both balances at once (measured on the
                // concentrated benchmark at 1,000 stages: 22,056 evaluations of the stage
                // fractions in the 24-stage chain's march with the nested searches alone,
                // against a few per stage with the joint step); the nested searches, which
                // always bracket the root, when it does not get there.
                if lf.is_finite() && lh.is_finite() {
                    let start = (lf.clamp(lc - LN_F_SPAN, lc), *lh);
                    if let Some((x, y)) = self.flash_joint(j, t, u, start, s, w) {
                        *lf = x;
                        *lh = y;
                        return true;
                    }
                }
                // Outer: ln [H+] from the proton balance (F increasing in ln [H+]).
                let (mut lo, mut hi) = (LN_H_MIN, LN_H_MAX);
                let mut y = if lh.is_finite() {
                    lh.clamp(lo, hi)
                } else {
                    0.0
                };
                let mut x = if lf.is_finite() { *lf } else { lc };
                let mut ok = false;
                let (mut lo_set, mut hi_set) = (false, false);
                for _ in 0..FLASH_MAX {
                    x = inner(y, x, s, w);
                    let hp = y.exp();
                    let f = x.exp();
                    let mut fq = qa * (hp - K_W / hp) - u;
                    let mut scale = qa * (hp + K_W / hp) + u.abs();
                    let (mut s_nz, mut s_nn) = (0.0, f);
                    let (mut s_xn, mut s_xz) = (0.0, 0.0);
                    for i in 0..m {
                        let tx = zx[i] * t[i] * s[i];
                        fq -= tx;
                        scale += tx.abs();
                        s_nz += n_ext[i] * z[i] * w[i] / qo;
                        s_nn += n_ext[i] * n_ext[i] * w[i] / qo;
                        s_xn += zx[i] * n_ext[i] * w[i];
                        s_xz += zx[i] * z[i] * w[i];
                    }
                    if fq.abs() <= FLASH_TOL * scale {
                        ok = true;
                        break;
                    }
                    if fq > 0.0 {
                        hi = y;
                        hi_set = true;
                    } else {
                        lo = y;
                        lo_set = true;
                    }
                    let dlf = s_nz / s_nn;
                    let dfq = qa * (hp + K_W / hp) - s_xn * dlf + s_xz;
                    let mut ny = y - fq / dfq;
                    if !(ny > lo && ny < hi && ny.is_finite()) {
                        ny = 0.5 * (lo + hi);
                    }
                    if hi - lo <= 1e-14 * (1.0 + lo.abs()) {
                        ok = lo_set && hi_set;
                        y = ny;
                        break;
                    }
                    y = ny;
                }
                if !ok {
                    x = inner(y, x, s, w);
                }
                *lf = x;
                *lh = y;
                ok
            }
        }
    }

    /// Newton on the extractant and proton balances of stage `j` together, in `(ln f, ln
    /// [H+])` from `start`, at most [`FLASH_JOINT_MAX`] iterations: the root, with `s` and `w`
    /// at it, when both balances meet the flash tolerance inside the searched ranges; `None`
    /// when a step leaves them, is longer than [`FLASH_JOINT_STEP`] or the iterations run out
    /// (the caller then runs the nested one-dimensional searches). The balances have one root
    /// (each is monotone in its own variable), so the two paths agree to the tolerance. The
    /// Jacobian is the matrix of [`BoundedMa::flash_derivatives`].
    fn flash_joint(
        &self,
        j: usize,
        t: &[f64],
        u: f64,
        start: (f64, f64),
        s: &mut [f64],
        w: &mut [f64],
    ) -> Option<(f64, f64)> {
        let kind = self.kind(j);
        let Kind::Ma { n_ext, conc, .. } = kind else {
            return None;
        };
        let ch = self.chain;
        let (qa, qo) = (ch.flow_vol_aq[j], ch.flow_vol_org[j]);
        let zx = &ch.z_exchange;
        let lc = conc.ln();
        let (mut x, mut y) = start;
        for _ in 0..FLASH_JOINT_MAX {
            Self::fractions(kind, x, y, t, s, w);
            let (f, hp) = (x.exp(), y.exp());
            // The extractant balance g and the proton balance fq, as the nested searches
            // measure them, and their derivatives in (ln f, ln [H+]).
            let mut g = f - conc;
            let mut fq = qa * (hp - K_W / hp) - u;
            let mut scale = qa * (hp + K_W / hp) + u.abs();
            for i in 0..t.len() {
                let load = t[i] * s[i];
                g += n_ext[i] * load / qo;
                fq -= zx[i] * load;
                scale += (zx[i] * load).abs();
            }
            let [a11, a12, a21, a22] = self.flash_matrix(j, f, hp, w);
            if !(g.is_finite() && fq.is_finite()) {
                return None;
            }
            if g.abs() <= FLASH_TOL * conc && fq.abs() <= FLASH_TOL * scale {
                return Some((x, y));
            }
            let det = a11 * a22 - a12 * a21;
            let dx = -(a22 * g - a12 * fq) / det;
            let dy = -(-a21 * g + a11 * fq) / det;
            if !(dx.is_finite() && dy.is_finite()) || dx.abs().max(dy.abs()) > FLASH_JOINT_STEP {
                return None;
            }
            x += dx;
            y += dy;
            if !(x >= lc - LN_F_SPAN && x <= lc && (LN_H_MIN..=LN_H_MAX).contains(&y)) {
                return None;
            }
        }
        None
    }

    /// The derivatives of mass-action stage `j`'s extractant and proton balances in `(ln f,
    /// ln [H+])` at free dimer `f` and `[H+]` `hp`, with `w_i = T_i s_i (1 - s_i)`, row-major
    /// (the Newton matrix of [`BoundedMa::flash_joint`] and the matrix whose inverse gives
    /// [`BoundedMa::flash_derivatives`]); zero for a fixed-ratio stage.
    fn flash_matrix(&self, j: usize, f: f64, hp: f64, w: &[f64]) -> [f64; 4] {
        let Kind::Ma { n_ext, z, .. } = self.kind(j) else {
            return [0.0; 4];
        };
        let ch = self.chain;
        let (qa, qo) = (ch.flow_vol_aq[j], ch.flow_vol_org[j]);
        let zx = &ch.z_exchange;
        let (mut a11, mut a12, mut a21, mut a22) = (f, 0.0, 0.0, qa * (hp + K_W / hp));
        for i in 0..w.len() {
            a11 += n_ext[i] * n_ext[i] * w[i] / qo;
            a12 -= n_ext[i] * z[i] * w[i] / qo;
            a21 -= zx[i] * n_ext[i] * w[i];
            a22 += zx[i] * z[i] * w[i];
        }
        [a11, a12, a21, a22]
    }

    /// Derivatives of the organic outflows of stage `j` at its flash solution: `dout` gets
    /// `d o_i / d v_l` in columns `0..m` and `d o_i / d U` in column `m` (row-major `m x (m+1)`).
    fn flash_derivatives(&self, st: &State, j: usize, dout: &mut [f64], tmp: &mut DerivTmp) {
        let m = self.m();
        let b = m + 1;
        let ch = self.chain;
        let qo = ch.flow_vol_org[j];
        let zx = &ch.z_exchange;
        let s = &st.s[j * m..(j + 1) * m];
        let DerivTmp { col, w, dp, dq } = tmp;
        // w holds the totals until the mass-action arm weighs them.
        w.clear();
        w.extend((0..m).map(|l| self.total(st, j, l)));
        col.clear();
        col.extend((0..m).map(|l| w[l] + self.tau[l]));
        col.push(1.0);
        match self.kind(j) {
            Kind::Fixed(_) => {
                dout.iter_mut().for_each(|v| *v = 0.0);
                for i in 0..m {
                    dout[i * b + i] = s[i] * col[i];
                }
            }
            Kind::Ma { n_ext, z, .. } => {
                let f = st.lf[j].exp();
                let hp = st.lh[j].exp();
                for i in 0..m {
                    w[i] = w[i] * s[i] * (1.0 - s[i]);
                }
                let [a11, a12, a21, a22] = self.flash_matrix(j, f, hp, w);
                let det = a11 * a22 - a12 * a21;
                // [dlf, dlh] = -A^-1 [b1, b2] for every column (a log total, then U).
                dp.clear();
                dq.clear();
                for l in 0..=m {
                    let (b1, b2) = if l < m {
                        (n_ext[l] * s[l] / qo, -zx[l] * s[l])
                    } else {
                        (0.0, -1.0)
                    };
                    dp.push(-(a22 * b1 - a12 * b2) / det);
                    dq.push(-(-a21 * b1 + a11 * b2) / det);
                }
                for i in 0..m {
                    let row = &mut dout[i * b..(i + 1) * b];
                    let (wi, ni, zi) = (w[i], n_ext[i], z[i]);
                    for l in 0..b {
                        row[l] = wi * (ni * dp[l] - zi * dq[l]) * col[l];
                    }
                    // The element's own column: w_i (n_i dp - z_i dq) + s_i, times T_i.
                    row[i] = (wi * (ni * dp[i] - zi * dq[i]) + s[i]) * col[i];
                }
            }
        }
    }

    /// The total of element `i` in stage `j` of an evaluated state.
    fn total(&self, st: &State, j: usize, i: usize) -> f64 {
        st.t[j * self.m() + i]
    }

    /// The total of element `i` whose shifted log is `v`.
    fn total_of(&self, v: f64, i: usize) -> f64 {
        if v <= self.ln_tau[i] {
            0.0
        } else {
            (v.exp() - self.tau[i]).max(0.0)
        }
    }

    /// Stage equilibria, flows and scaled residuals of the unknowns in `st` (flash warm
    /// starts from its `lf`, `lh`).
    fn evaluate(&self, st: &mut State) {
        let (n, m) = (self.n(), self.m());
        let b = m + 1;
        let ch = self.chain;
        let zx = &ch.z_exchange;
        // Every stage's flash on its own (in parallel: the stages do not interact here).
        let State {
            v,
            t,
            u,
            lf,
            lh,
            s,
            o,
            a,
            h,
            ..
        } = st;
        let (v, u) = (&*v, &*u);
        let stage = |(j, (t, s, o, a, lf, lh, h)): (usize, StageOut<'_>)| {
            for i in 0..m {
                t[i] = self.total_of(v[j * m + i], i);
            }
            let ok = self.flash(j, t, u[j], lf, lh, s);
            let mut hj = u[j];
            for i in 0..m {
                o[i] = t[i] * s[i];
                a[i] = t[i] - o[i];
                hj += zx[i] * o[i];
            }
            *h = hj;
            ok
        };
        st.flashed = if n < PARALLEL_MIN_STAGES {
            t.chunks_mut(m)
                .zip(s.chunks_mut(m))
                .zip(o.chunks_mut(m))
                .zip(a.chunks_mut(m))
                .zip(lf.iter_mut())
                .zip(lh.iter_mut())
                .zip(h.iter_mut())
                .enumerate()
                .map(|(j, ((((((t, s), o), a), lf), lh), h))| stage((j, (t, s, o, a, lf, lh, h))))
                .fold(true, |x, y| x & y)
        } else {
            (
                t.par_chunks_mut(m),
                s.par_chunks_mut(m),
                o.par_chunks_mut(m),
                a.par_chunks_mut(m),
                lf.par_iter_mut(),
                lh.par_iter_mut(),
                h.par_iter_mut(),
            )
                .into_par_iter()
                .enumerate()
                .with_min_len(STAGES_PER_TASK)
                .map(stage)
                .reduce(|| true, |x, y| x && y)
        };
        // Every stage's scaled balances (in parallel), then their sum in stage order.
        let State {
            t,
            u,
            o,
            a,
            h,
            r,
            sig,
            ..
        } = st;
        let (t, u, o, a, h) = (&*t, &*u, &*o, &*a, &*h);
        let row = |(j, (r, sig)): (usize, (&mut [f64], &mut [f64]))| {
            let link = self.link[j];
            // Each element's inflow (held in `r` until its residual replaces it).
            let mut stage_tot = 0.0;
            for i in 0..m {
                let q = j * m + i;
                r[i] = ch.aq_ext[q]
                    + ch.org_ext[q]
                    + if link { a[q + m] } else { 0.0 }
                    + if j > 0 { o[q - m] } else { 0.0 };
                stage_tot += r[i] + t[q];
            }
            // An element below STAGE_FLOOR of the stage's whole throughput (1e-81 mol/h of
            // Sm two circuits downstream of its removal) is measured against that floor, as
            // the chain's own check does: relative to its own flow it would hold the solve
            // at a residual no plant quantity carries.
            let floor = STAGE_FLOOR * stage_tot;
            for i in 0..m {
                let (fin, tt) = (r[i], t[j * m + i]);
                sig[i] = 1.0 / (fin + tt + self.tau[i] + floor);
                r[i] = (fin - tt) * sig[i];
            }
            let mut inu = ch.acid_ext[j] - self.base[j];
            let mut thr = ch.acid_ext[j].abs() + self.base[j] + u[j].abs();
            if link {
                inu += h[j + 1];
                thr += h[j + 1].abs();
            }
            for i in 0..m {
                let q = j * m + i;
                let oin = ch.org_ext[q] + if j > 0 { o[q - m] } else { 0.0 };
                inu -= zx[i] * oin;
                thr += zx[i] * oin;
            }
            sig[m] = 1.0 / (thr + 1e-14 * ch.flow_vol_aq[j]);
            r[m] = (inu - u[j]) * sig[m];
        };
        if n < PARALLEL_MIN_STAGES {
            r.chunks_mut(b)
                .zip(sig.chunks_mut(b))
                .enumerate()
                .for_each(row);
        } else {
            r.par_chunks_mut(b)
                .zip(sig.par_chunks_mut(b))
                .enumerate()
                .with_min_len(STAGES_PER_TASK)
                .for_each(row);
        }
        let mut merit = 0.0;
        let mut rmax: f64 = 0.0;
        for &r in &st.r {
            merit += r * r;
            rmax = rmax.max(r.abs());
        }
        let finite = st.o.iter().chain(&st.h).all(|v| v.is_finite());
        st.merit = if merit.is_finite() && finite {
            merit
        } else {
            f64::INFINITY
        };
        st.rmax = if st.merit.is_finite() {
            rmax
        } else {
            f64::INFINITY
        };
    }

    /// The scaled balance Jacobian `d r / d (v, U)` at `st`.
    /// `derivs` is storage for the stages' outflow derivatives, kept between calls.
    fn jacobian(&self, st: &State, jac: &mut BlockTridiag, derivs: &mut Vec<f64>) {
        let (n, m) = (self.n(), self.m());
        let b = m + 1;
        let bb = b * b;
        let zx = &self.chain.z_exchange;
        // Every lower block and every linked upper block is written whole below; the diagonal
        // blocks are diagonal, their other entries zero since [`Work::take`].
        for j in 0..n {
            if !self.link[j] {
                jac.upper[j * bb..(j + 1) * bb]
                    .iter_mut()
                    .for_each(|v| *v = 0.0);
            }
        }
        // Block row j from the outflow derivatives of stages j - 1 and j + 1, which `dv` holds
        // from stage `lo` on.
        let row = |j: usize, (d, l, u): BlockRow<'_>, dv: &[f64], lo: usize| {
            // Diagonal: -T (in v) and -1 (in U), scaled.
            for i in 0..m {
                d[i * b + i] = -(self.total(st, j, i) + self.tau[i]) * st.sig[j * b + i];
            }
            d[m * b + m] = -st.sig[j * b + m];
            // Row by row (contiguous); the acidity row accumulates sum_i zx_i d(.)_i column by
            // column in the order of the elements.
            if j > 0 {
                // Lower block of row j: organic from stage j - 1.
                let dout = &dv[(j - 1 - lo) * m * b..(j - lo) * m * b];
                let (rows, last) = l.split_at_mut(m * b);
                last[..b].fill(0.0);
                for i in 0..m {
                    let (dv, sig) = (&dout[i * b..(i + 1) * b], st.sig[j * b + i]);
                    let row = &mut rows[i * b..(i + 1) * b];
                    for c in 0..b {
                        row[c] = dv[c] * sig;
                        last[c] += zx[i] * dv[c];
                    }
                }
                let sig = st.sig[j * b + m];
                for v in &mut last[..b] {
                    *v = -*v * sig;
                }
            }
            if j + 1 < n && self.link[j] {
                // Upper block of row j: aqueous and acidity from stage j + 1.
                let dnext = &dv[(j + 1 - lo) * m * b..(j + 2 - lo) * m * b];
                let (rows, last) = u.split_at_mut(m * b);
                last[..b].fill(0.0);
                last[m] = 1.0;
                for i in 0..m {
                    let (dv, sig) = (&dnext[i * b..(i + 1) * b], st.sig[j * b + i]);
                    let row = &mut rows[i * b..(i + 1) * b];
                    for c in 0..b {
                        row[c] = (0.0 - dv[c]) * sig;
                        last[c] += zx[i] * dv[c];
                    }
                    row[i] = (self.total(st, j + 1, i) + self.tau[i] - dv[i]) * sig;
                }
                let sig = st.sig[j * b + m];
                for v in &mut last[..b] {
                    *v *= sig;
                }
            }
        };
        // The block rows from `j0` on that `d`, `l` and `u` hold, with the outflow
        // derivatives of their stages and of the stage on either side computed into `dv`
        // first (a task's rows in one pass: the derivatives of every stage in a pass of their
        // own cost one more parallel region and a round trip of n (m + 1)^2 values through
        // memory; here two stages a task are computed twice).
        let rows = |dv: &mut Vec<f64>, tmp: &mut DerivTmp, j0: usize, (d, l, u): BlockRow<'_>| {
            let len = d.len() / bb;
            let lo = j0.saturating_sub(1);
            let hi = (j0 + len + 1).min(n);
            dv.resize((hi - lo) * m * b, 0.0);
            for (k, dk) in dv.chunks_mut(m * b).enumerate() {
                self.flash_derivatives(st, lo + k, dk, tmp);
            }
            for t in 0..len {
                let blocks = (
                    &mut d[t * bb..(t + 1) * bb],
                    &mut l[t * bb..(t + 1) * bb],
                    &mut u[t * bb..(t + 1) * bb],
                );
                row(j0 + t, blocks, dv, lo);
            }
        };
        if n < PARALLEL_MIN_STAGES {
            let blocks = (&mut jac.diag[..], &mut jac.lower[..], &mut jac.upper[..]);
            rows(derivs, &mut DerivTmp::default(), 0, blocks);
        } else {
            let task = STAGES_PER_TASK * bb;
            (
                jac.diag.par_chunks_mut(task),
                jac.lower.par_chunks_mut(task),
                jac.upper.par_chunks_mut(task),
            )
                .into_par_iter()
                .enumerate()
                .for_each_init(
                    || (Vec::new(), DerivTmp::default()),
                    |(dv, tmp), (c, blocks)| rows(dv, tmp, c * STAGES_PER_TASK, blocks),
                );
        }
    }

    fn empty_state(&self) -> State {
        let (n, m) = (self.n(), self.m());
        State {
            v: vec![0.0; n * m],
            t: vec![0.0; n * m],
            u: vec![0.0; n],
            lf: vec![f64::NAN; n],
            lh: vec![f64::NAN; n],
            s: vec![0.0; n * m],
            o: vec![0.0; n * m],
            a: vec![0.0; n * m],
            h: vec![0.0; n],
            r: vec![0.0; n * (m + 1)],
            sig: vec![0.0; n * (m + 1)],
            merit: f64::INFINITY,
            rmax: f64::INFINITY,
            flashed: false,
        }
    }

    /// Unknowns from a previous solution's flows, or from a cold estimate: free dimer at its
    /// total, [H+] from the acidity without extraction, element flows of the chain with those
    /// ratios (bounded), and the proton invariants their balance gives.
    /// The evaluated state of a chain solution of the same shape; `None` for another shape.
    fn state_of(&self, sol: &ChainSolution) -> Option<State> {
        let (n, m) = (self.n(), self.m());
        let ch = self.chain;
        let zx = &ch.z_exchange;
        if sol.a.len() != n * m || sol.o.len() != n * m || sol.h.len() != n {
            return None;
        }
        let mut st = self.empty_state();
        for j in 0..n {
            let mut u = sol.h[j];
            for i in 0..m {
                let q = j * m + i;
                let t = (sol.a[q] + sol.o[q]).max(0.0);
                st.v[q] = (t + self.tau[i]).ln();
                u -= zx[i] * sol.o[q].max(0.0);
            }
            st.u[j] = u;
            if let Some(&f) = sol.free_dimer.get(j) {
                if f > 0.0 && f.is_finite() {
                    st.lf[j] = f.ln();
                }
            }
            st.lh[j] = proton_conc(sol.h[j] / ch.flow_vol_aq[j]).0.ln();
        }
        self.evaluate(&mut st);
        Some(st)
    }

    fn initial(&self, start: Option<&ChainSolution>) -> State {
        let (n, m) = (self.n(), self.m());
        let ch = self.chain;
        if let Some(st) = start.and_then(|sol| self.state_of(sol)) {
            return self.substitute(st, WARM_START_PASSES);
        }
        let mut st = self.empty_state();
        let mut h = vec![0.0; n];
        for j in (0..n).rev() {
            h[j] = ch.acid_ext[j] - self.base[j] + if self.link[j] { h[j + 1] } else { 0.0 };
        }
        let mut k = vec![0.0; n * m];
        for j in 0..n {
            let lh = proton_conc((h[j] / ch.flow_vol_aq[j]).max(START_ACIDITY_FLOOR))
                .0
                .ln();
            match self.kind(j) {
                Kind::Fixed(kf) => k[j * m..(j + 1) * m].copy_from_slice(kf),
                Kind::Ma {
                    ln_k0,
                    n_ext,
                    z,
                    conc,
                    ..
                } => {
                    for i in 0..m {
                        let lk = ln_k0[i] + n_ext[i] * conc.ln() - z[i] * lh;
                        k[j * m + i] = if lk == f64::NEG_INFINITY {
                            0.0
                        } else {
                            lk.exp().clamp(START_K.0, START_K.1)
                        };
                    }
                    st.lf[j] = conc.ln();
                }
            }
            st.lh[j] = lh;
        }
        self.balance(&k, &mut st);
        self.evaluate(&mut st);
        self.substitute(st, START_PASSES)
    }

    /// Up to `passes` substitution passes from `st` ([`START_PASSES`] cold, [`WARM_START_PASSES`]
    /// from another solution): stage ratios from its flash, flows balanced for them; each kept
    /// while it lowers the residual.
    fn substitute(&self, mut st: State, passes: usize) -> State {
        for _ in 0..passes {
            let mut next = st.clone();
            self.balance(&Self::ratios(&st.s), &mut next);
            self.evaluate(&mut next);
            if next.merit < st.merit {
                st = next;
            } else {
                break;
            }
        }
        st
    }

    /// Every element of `self.traces` balanced exactly for the stage ratios of `st`'s flash
    /// (one conservative linear solve each, no cap on its circulation), then `st` evaluated
    /// again. False (and `st` unchanged) when a trace has no way out.
    fn balance_traces(&self, st: &mut State) -> bool {
        self.balance_elements(st, &self.traces)
    }

    /// The elements `elems` balanced exactly for the stage ratios of `st`'s flash, then `st`
    /// evaluated again ([`BoundedMa::balance_traces`]).
    fn balance_elements(&self, st: &mut State, elems: &[usize]) -> bool {
        let (n, m) = (self.n(), self.m());
        let ch = self.chain;
        let k = Self::ratios(&st.s);
        let (mut kk, mut rhs, mut x) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut v = st.v.clone();
        for &i in elems {
            for j in 0..n {
                kk[j] = k[j * m + i];
                rhs[j] = ch.aq_ext[j * m + i] + ch.org_ext[j * m + i];
            }
            if gth_chain_solve(&kk, &self.link, &rhs, &mut x).is_none() {
                return false;
            }
            for j in 0..n {
                v[j * m + i] = (x[j] * (1.0 + kk[j]) + self.tau[i]).ln();
            }
        }
        if !v.iter().all(|x| x.is_finite()) {
            return false;
        }
        st.v = v;
        self.evaluate(st);
        true
    }

    /// Stage ratios `k = s / (1 - s)` of organic fractions.
    fn ratios(s: &[f64]) -> Vec<f64> {
        s.iter()
            .map(|&x| {
                if x < 1.0 {
                    (x / (1.0 - x)).min(1e300)
                } else {
                    1e300
                }
            })
            .collect()
    }

    /// Totals and proton invariants that satisfy every balance for the stage ratios `k`: the
    /// element flows of the linear chain (conservative solve) and the invariants, backwards
    /// from the last stage.
    fn balance(&self, k: &[f64], st: &mut State) {
        let (n, m) = (self.n(), self.m());
        let ch = self.chain;
        let zx = &ch.z_exchange;
        let mut kk = vec![0.0; n];
        let mut rhs = vec![0.0; n];
        let mut x = vec![0.0; n];
        let mut o = vec![0.0; n * m];
        let mut ratios = k.to_vec();
        // Ratios that ignore the loading can put more on the organic than the extractant
        // holds (a feed four times the capacity); the proton invariants would then carry
        // protons no state releases (a cold start at pH 16). So each stage's ratios are
        // scaled down until its loading stays within [`START_LOAD`] of what its extractant
        // holds, and the chains solved again, up to [`START_CAP_PASSES`] times; the last
        // pass caps the loading itself.
        for pass in 0..START_CAP_PASSES {
            for i in 0..m {
                for j in 0..n {
                    kk[j] = ratios[j * m + i];
                    rhs[j] = ch.aq_ext[j * m + i] + ch.org_ext[j * m + i];
                }
                // An element extracted in one section and scrubbed back in the next is
                // trapped between them: with ratios that ignore the loading its linear chain
                // builds up without bound (1e6^70 over a 70-stage section). Its ratios are
                // drawn towards 1 (halving their logs) until the largest stage flow stays
                // within [`START_TRAP`] times the element's inflow.
                let fed: f64 = rhs.iter().sum();
                for _ in 0..START_TRAP_TRIES {
                    let ok = gth_chain_solve(&kk, &self.link, &rhs, &mut x).is_some()
                        && x.iter()
                            .zip(&kk)
                            .all(|(a, kj)| a * (1.0 + kj) <= START_TRAP * fed);
                    if ok {
                        break;
                    }
                    kk.iter_mut().for_each(|v| *v = v.sqrt());
                }
                if !x.iter().all(|v| v.is_finite()) {
                    x.iter_mut().for_each(|v| *v = 0.0);
                }
                for j in 0..n {
                    let q = j * m + i;
                    o[q] = kk[j] * x[j];
                    st.v[q] = (x[j] + o[q] + self.tau[i]).ln();
                }
            }
            let last = pass + 1 == START_CAP_PASSES;
            let mut capped = false;
            for j in 0..n {
                if let Kind::Ma { n_ext, conc, .. } = self.kind(j) {
                    let cap = START_LOAD * conc * ch.flow_vol_org[j];
                    let held: f64 = (0..m).map(|i| n_ext[i] * o[j * m + i]).sum();
                    if held > cap && held > 0.0 {
                        let f = cap / held;
                        let row = if last { &mut o } else { &mut ratios };
                        row[j * m..(j + 1) * m].iter_mut().for_each(|v| *v *= f);
                        capped = true;
                    }
                }
            }
            if !capped {
                break;
            }
        }
        // Proton invariants from the balance, backwards from the last stage.
        let mut h_next = 0.0;
        for j in (0..n).rev() {
            let mut u = ch.acid_ext[j] - self.base[j] + if self.link[j] { h_next } else { 0.0 };
            for i in 0..m {
                let q = j * m + i;
                u -= zx[i] * (ch.org_ext[q] + if j > 0 { o[q - m] } else { 0.0 });
            }
            st.u[j] = u;
            h_next = u + (0..m).map(|i| zx[i] * o[j * m + i]).sum::<f64>();
        }
    }

    /// Newton from `st`, at most `max_iter` iterations, on the steady balances (`anchor`
    /// `None`) or on one implicit pseudo-time step of length `delta` from the anchor state:
    /// `r(x) - D (x - x_a) / delta = 0`, with the anchor's row scales and inventories `D`.
    /// Steps are scaled to [`MAX_LOG_STEP`] and backtracked on the squared residual (measured
    /// with the scales the step was computed with). `converged` is the steady solution's test
    /// without an anchor, the step's (`||g|| <= STEP_TOL`) with one.
    fn newton(&self, mut st: State, anchor: Option<(&State, f64)>, max_iter: usize) -> Outcome {
        let (n, m) = (self.n(), self.m());
        let b = m + 1;
        let mut work = Work::take(n, b);
        let Work {
            jac,
            scratch,
            derivs,
        } = &mut work;
        let mut step = Vec::new();
        let mut rhs = vec![0.0; n * b];
        let mut iterations = 0;
        let mut n_accepted = 0;
        let mut trial = st.clone();
        // Row scales, inventories and unknowns of the anchor.
        let (sig_a, inv_a, y_a, delta) = match anchor {
            Some((a, delta)) => {
                let mut inv = vec![0.0; n * b];
                let mut y = vec![0.0; n * b];
                for j in 0..n {
                    for i in 0..m {
                        // At least [`INV_FLOOR`] of the row's throughput: a trace element's
                        // own holdup (1e-26 of its inflow) would leave its row without
                        // pseudo-time damping, its log step clipped and no trial descending.
                        inv[j * b + i] =
                            ((self.total(a, j, i) + self.tau[i]) * a.sig[j * b + i]).max(INV_FLOOR);
                        y[j * b + i] = a.v[j * m + i];
                    }
                    inv[j * b + m] = a.sig[j * b + m];
                    y[j * b + m] = a.u[j];
                }
                (a.sig.clone(), inv, y, delta)
            }
            None => (Vec::new(), Vec::new(), Vec::new(), f64::INFINITY),
        };
        let timed = delta.is_finite();
        // The system's residual at `x` with row scales `sig` (the anchor's when timed).
        let system = |x: &State, sig: &[f64], g: &mut [f64]| -> f64 {
            let mut s2 = 0.0;
            for j in 0..n {
                for c in 0..b {
                    let q = j * b + c;
                    let y = if c < m { x.v[j * m + c] } else { x.u[j] };
                    let mut v = x.r[q] / x.sig[q] * sig[q];
                    if timed {
                        v -= inv_a[q] * (y - y_a[q]) / delta;
                    }
                    g[q] = v;
                    s2 += v * v;
                }
            }
            if s2.is_finite() && x.merit.is_finite() {
                s2
            } else {
                f64::INFINITY
            }
        };
        let mut g = vec![0.0; n * b];
        let mut g_t = vec![0.0; n * b];
        let mut clipped: Vec<usize> = Vec::new();
        // A chord step solves with the factors of the last Jacobian, its residual measured
        // with the row scales that Jacobian was built with.
        let mut sig_jac: Vec<f64> = Vec::new();
        let mut chord = false;
        let mut last_lambda = f64::INFINITY;
        loop {
            let sig: Vec<f64> = if timed {
                sig_a.clone()
            } else if chord {
                sig_jac.clone()
            } else {
                st.sig.clone()
            };
            let merit = system(&st, &sig, &mut g);
            let gmax = g.iter().fold(0.0f64, |w, v| w.max(v.abs()));
            let done = if timed {
                gmax <= STEP_TOL
            } else {
                st.rmax <= self.tol
            };
            if (done && st.flashed)
                || !merit.is_finite()
                || iterations >= max_iter
                || self.chain.out_of_budget()
            {
                break;
            }
            iterations += 1;
            self.chain.allowance.spend();
            if !chord {
                self.jacobian(&st, jac, derivs);
            }
            // A pseudo-time step measures every state with the anchor's row scales (the
            // steady solve with the state's own, which the Jacobian already has).
            if timed {
                for j in 0..n {
                    for r in 0..b {
                        let q = j * b + r;
                        let f = sig[q] / st.sig[q];
                        for c in 0..b {
                            let e = j * b * b + r * b + c;
                            jac.diag[e] *= f;
                            jac.lower[e] *= f;
                            jac.upper[e] *= f;
                        }
                        jac.diag[j * b * b + r * b + r] -= inv_a[q] / delta;
                    }
                }
            }
            for (x, v) in rhs.iter_mut().zip(&g) {
                *x = -v;
            }
            let solved = if chord {
                jac.resolve(&rhs, scratch, &mut step)
            } else {
                jac.solve_with(&rhs, scratch, &mut step)
            };
            if !solved {
                if chord {
                    chord = false;
                    continue;
                }
                break;
            }
            // Scale the whole step so no proton invariant moves by more than its stage
            // throughput, and clip each log total's change of the scaled trial to
            // MAX_LOG_STEP (a trace element's log can be asked to move by orders of magnitude
            // more than the rest: scaling the whole step to it would stall every other
            // unknown). Clipping after the line-search factor, not before, keeps the
            // direction of the unclipped components as the step is halved: measured on the
            // concentrated bench, 274 iterations at 1,000 stages against 386.
            let mut big: f64 = 0.0;
            for j in 0..n {
                big = big.max(step[j * b + m].abs() * st.sig[j * b + m] / MAX_U_STEP);
            }
            let mut lambda = if big > 1.0 { 1.0 / big } else { 1.0 };
            if !timed && !chord {
                lambda = lambda.min(LAMBDA_GROWTH * last_lambda);
            }
            let mut accepted = false;
            let mut trial_merit = merit;
            // A chord step is tried at full length only, and kept only when it contracts the
            // residual by CHORD_ACCEPT: else the Jacobian is rebuilt where the iteration is.
            let backtracks = if chord { 0 } else { NEWTON_BACKTRACKS };
            let wanted = if chord {
                CHORD_ACCEPT * CHORD_ACCEPT
            } else {
                1.0
            };
            for _ in 0..=backtracks {
                for j in 0..n {
                    for i in 0..m {
                        let q = j * m + i;
                        trial.v[q] = (st.v[q]
                            + (lambda * step[j * b + i]).clamp(-MAX_LOG_STEP, MAX_LOG_STEP))
                        .max(self.ln_tau[i]);
                    }
                    trial.u[j] = st.u[j] + lambda * step[j * b + m];
                }
                trial.lf.copy_from_slice(&st.lf);
                trial.lh.copy_from_slice(&st.lh);
                self.evaluate(&mut trial);
                if !timed && trial.flashed && !self.traces.is_empty() {
                    self.balance_traces(&mut trial);
                }
                // An element whose log total the step clips somewhere is far from what the
                // linearization can reach (a heavy element's tail at the raffinate end of a
                // section that just grew): balanced exactly for the trial's flash ratios, as
                // its balances are linear for given ratios. Measured on the concentrated
                // benchmark (2026-12-07): 0.117 -> 0.102 s at 1,000 stages, 0.080 -> 0.067 s at
                // 500, where the first step clipped 462 log totals.
                if !timed && trial.flashed {
                    clipped.clear();
                    clipped.extend((0..m).filter(|&i| {
                        (0..n).any(|j| (lambda * step[j * b + i]).abs() > MAX_LOG_STEP)
                    }));
                    if !clipped.is_empty() {
                        self.balance_elements(&mut trial, &clipped);
                    }
                }
                let mt = system(&trial, &sig, &mut g_t);
                if mt < (1.0 - 1e-4 * lambda) * wanted * merit && trial.flashed {
                    accepted = true;
                    trial_merit = mt;
                    break;
                }
                lambda *= 0.5;
            }
            if !accepted {
                if chord {
                    chord = false;
                    continue;
                }
                break;
            }
            n_accepted += 1;
            if !timed && !chord {
                last_lambda = lambda;
            }
            // At the rounding floor the residual stops falling: done.
            let stalled =
                !timed && !chord && trial.rmax <= STALL_RMAX && trial.merit > 0.25 * st.merit;
            // The next step reuses these factors when this full step contracted the residual
            // by CHORD_KEEP (Shamanskii's method).
            if !timed && !chord {
                sig_jac.clone_from(&sig);
            }
            chord = !timed && lambda == 1.0 && trial_merit <= CHORD_KEEP * CHORD_KEEP * merit;
            std::mem::swap(&mut st, &mut trial);
            if stalled && st.flashed {
                break;
            }
        }
        work.keep();
        let converged = if timed {
            let sig = sig_a.clone();
            let mt = system(&st, &sig, &mut g);
            mt.is_finite() && g.iter().all(|v| v.abs() <= STEP_TOL) && st.flashed
        } else {
            st.rmax <= self.tol * 10.0 && st.flashed
        };
        Outcome {
            state: st,
            iterations,
            accepted: n_accepted,
            converged,
        }
    }

    /// Pseudo-transient continuation from `st`: one Newton step of `(D / delta - J) dx = r`
    /// per pseudo-time step, `delta` set by switched evolution relaxation (multiplied by the
    /// ratio of the last two residual norms, within 1-10) and quartered when the line search
    /// rejects the step. Once a step needs no iteration or `delta` reaches [`DELTA_NEWTON`],
    /// Newton on the steady balances finishes. At most `max_iter` iterations in all, and with
    /// `stall = Some(w)` no more than `w` without the merit falling by [`MARCH_PROGRESS`].
    fn march(&self, st: State, max_iter: usize, stall: Option<usize>) -> Outcome {
        let mut x = st;
        let mut delta = DELTA_FIRST;
        let mut spent = 0;
        let mut prev = x.merit.sqrt();
        let (mut best, mut best_at) = (x.merit, 0);
        while spent < max_iter && !self.chain.out_of_budget() {
            if x.merit < MARCH_PROGRESS * best {
                (best, best_at) = (x.merit, spent);
            }
            if stall.is_some_and(|w| spent - best_at > w) {
                break;
            }
            if x.rmax <= R_TOL * 10.0 && x.flashed {
                break;
            }
            let sub = self.newton(x.clone(), Some((&x, delta)), 1);
            spent += sub.iterations.max(1);
            if sub.iterations == 0 || delta >= DELTA_NEWTON {
                // The pseudo-time step is already solved (or is Newton): Newton on the
                // steady balances finishes.
                let steady = self.newton(x.clone(), None, STEADY_TRY);
                spent += steady.iterations;
                if steady.converged {
                    return Outcome {
                        iterations: spent,
                        ..steady
                    };
                }
                if sub.iterations == 0 {
                    break;
                }
            }
            if sub.accepted == 0 {
                delta *= 0.25;
                if delta < DELTA_MIN {
                    break;
                }
                continue;
            }
            x = sub.state;
            let now = x.merit.sqrt();
            delta = (delta * (prev / now).clamp(SER_CLAMP.0, SER_CLAMP.1)).min(DELTA_MAX);
            prev = now;
        }
        let converged = x.rmax <= R_TOL * 10.0 && x.flashed;
        Outcome {
            state: x,
            iterations: spent,
            accepted: 0,
            converged,
        }
    }

    /// Solves the chain from `start` (a previous solution of the same shape) or a cold
    /// estimate: Newton for at most [`MAX_DIRECT`] iterations, then implicit pseudo-time
    /// marching from the better of the states reached ([`BoundedMa::march`]). The chain's
    /// residual check decides the status.
    pub(crate) fn solve(&self, start: Option<&ChainSolution>) -> ChainSolution {
        let first = self.newton(self.initial(start), None, MAX_DIRECT);
        if first.converged {
            return self.finish(first);
        }
        let mut spent = first.iterations;
        let mut from = first.state;
        if start.is_some() {
            let cold = self.newton(self.initial(None), None, MAX_DIRECT);
            spent += cold.iterations;
            if cold.converged {
                return self.finish(Outcome {
                    iterations: spent,
                    ..cold
                });
            }
            if cold.state.merit < from.merit {
                from = cold.state;
            }
        }
        // Marching that stalls for MARCH_STALL iterations gives way to the continuation, and
        // goes on from where it stopped when that fails.
        let budget = MAX_ITER.saturating_sub(spent);
        let out = self.march(from, budget, Some(MARCH_STALL));
        spent += out.iterations;
        let mut marched = self.finish(Outcome {
            iterations: spent,
            ..out.clone()
        });
        if marched.status.is_converged() || self.chain.out_of_budget() {
            return marched;
        }
        let resume = out;
        // Marching stalls where the steady states turn in K (a front of loading that travels
        // through a section at constant K as the trapped inventory grows): follow the branch
        // from where little loads.
        // A continuation's state is returned only when the chain's check accepts it.
        for hm in [Homotopy::K, Homotopy::Base] {
            match self.continuation(hm, MAX_CONT) {
                Err(its) => spent += its,
                Ok(cont) => {
                    spent += cont.iterations;
                    let sol = self.finish(Outcome {
                        iterations: spent,
                        ..cont
                    });
                    if sol.status.is_converged() {
                        return sol;
                    }
                }
            }
        }
        // A chain that carries traces and whose march stalled close to a solution tries the
        // path without them first: a trace's tail, not the plant, then holds the residual
        // (prop_ph, seed 14: a 147-stage empirical circuit stalled at 1.6e-5, its resumed
        // march spent 4,193 iterations in vain, and the chain without its traces converged by
        // the K continuation in 1,206; 6,844 iterations, 5.3 s, before this order). Farther
        // away ([`TRACES_FIRST_RMAX`]) the march goes on first: the tear Jacobian's columns of
        // the 4-circuit mass-action recycle, circuits fed a trace against all their base,
        // took 1,500 more iterations with the traces' path first.
        let traced_first =
            resume.state.rmax <= TRACES_FIRST_RMAX && !self.traces_of_chain().is_empty();
        if traced_first && !self.chain.out_of_budget() {
            if let Some(mut sol) = self.solve_without_traces() {
                sol.iterations += spent;
                return sol;
            }
        }
        // The resumed march gets what the continuations left of their allowance too: a march
        // that the stall rule stopped may still be converging, slowly (prop_ph, seed 14: one
        // of the three plants that spent their budget, a 185-stage empirical circuit, converges
        // so after 3,254 iterations, from a residual of 7.0e-3 at the stall; the continuations
        // there spent 987 iterations in vain).
        let left = (MAX_ITER + 2 * MAX_CONT).saturating_sub(spent);
        if left > 0 && !self.chain.out_of_budget() {
            let more = self.march(resume.state, left, None);
            spent += more.iterations;
            marched = self.finish(Outcome {
                iterations: spent,
                ..more
            });
        }
        ChainSolution {
            iterations: spent,
            ..marched
        }
    }

    /// The elements that bring less than [`TRACE_SHARE`] of the chain's element inflow (and
    /// some).
    fn traces_of_chain(&self) -> Vec<usize> {
        let inflow = element_inflow(self.chain);
        let total: f64 = inflow.iter().sum();
        (0..self.m())
            .filter(|&i| inflow[i] > 0.0 && inflow[i] < TRACE_SHARE * total)
            .collect()
    }

    /// For a chain that carries traces (elements bringing less than [`TRACE_SHARE`] of its
    /// element inflow), after every other path failed: the chain solved without them, then
    /// Newton on the whole chain from that solution, with the traces balanced exactly for the
    /// flash at the start and at every trial (their balances are linear there, and they do not
    /// move the free extractant or the acidity). The solution when the chain's check accepts
    /// it, else `None`. Measured on the two plants of tests/prop_ph.rs (seed 14) that ended
    /// `iteration_limit` unexplained: a 147-stage empirical circuit fed a La/Ce raffinate with
    /// 1e-11 of its inflow as Pr (along the K continuation's turn the arclength correctors
    /// stopped at a residual floor of 5e-13 to 3e-12, which the trace raises above the chain's
    /// tolerance), and a 243-stage one with Nd at 7.7e-18 and Sm at 1e-52 of its inflow; each
    /// now converges in one Newton iteration from the solution without its traces.
    fn solve_without_traces(&self) -> Option<ChainSolution> {
        let (n, m) = (self.n(), self.m());
        let ch = self.chain;
        let traces = self.traces_of_chain();
        if traces.is_empty() {
            return None;
        }
        let mut without = ch.clone();
        for j in 0..n {
            for &i in &traces {
                without.aq_ext[j * m + i] = 0.0;
                without.org_ext[j * m + i] = 0.0;
            }
        }
        let major = BoundedMa::new(&without)?.solve(None);
        if !major.status.is_converged() {
            return None;
        }
        // Each trace balanced exactly for the stage ratios of the major elements' flash, and
        // again at every Newton trial (their log totals would otherwise be clipped and spoil
        // the line search).
        let bm = BoundedMa {
            traces,
            ..self.clone()
        };
        let mut st = bm.state_of(&major)?;
        if !bm.balance_traces(&mut st) {
            return None;
        }
        let out = bm.newton(st, None, MAX_DIRECT);
        let iterations = major.iterations + out.iterations;
        if !out.converged {
            return None;
        }
        let mut sol = crate::chain::converged_or_spent(self.finish(out)).ok()?;
        sol.iterations = iterations;
        Some(sol)
    }

    /// At most `max_iter` iterations from the flows of `start`: the solution when the chain's
    /// check accepts it, else the iterations spent.
    pub(crate) fn solve_direct(
        &self,
        start: &ChainSolution,
        max_iter: usize,
    ) -> Result<ChainSolution, usize> {
        let out = self.newton(self.initial(Some(start)), None, max_iter);
        if !out.converged {
            return Err(out.iterations);
        }
        crate::chain::converged_or_spent(self.finish(out))
    }

    /// Newton from the flows of `start`, at most `max_iter` iterations, to a tolerance set by
    /// the start: [`ROUGH_SHARE`] of its scaled residual, within [`R_TOL`] and
    /// [`STAND_IN_TOL`]. The state reached (not checked by the chain:
    /// [`BoundedMa::finish_unchecked`]) when Newton got there, else the iterations spent. For
    /// a shorter chain whose solution only starts a longer one: the longer chain's start will
    /// be about as far from its solution as this one's was (the same halving of the same
    /// sections), so iterations below a share of that are lost (measured 2026-12-07 on the
    /// concentrated benchmark at 1,000 stages, every shorter chain starting at 6e-3 to 1.2e-2:
    /// with a share of 1e-3, 128 stages 5 -> 3 iterations, 252: 8 -> 6, 500: 6 -> 4 against a
    /// fixed 1e-5; with 0.1, [`ROUGH_SHARE`]'s note). A start already close (the dilute
    /// benchmark: 4.5e-9 at 500 stages) is still solved to a share of its own residual, so
    /// the longer chain starts close too (the dilute benchmark at 1,000 stages: 26 iterations,
    /// 261 million instructions, against 11 and 255 million with a share of 1e-3).
    pub(crate) fn solve_rough(
        &self,
        start: &ChainSolution,
        max_iter: usize,
    ) -> Result<ChainSolution, usize> {
        let first = self.initial(Some(start));
        let rough = BoundedMa {
            tol: (ROUGH_SHARE * first.rmax).clamp(R_TOL, STAND_IN_TOL),
            ..self.clone()
        };
        let out = rough.newton(first, None, max_iter);
        if !out.converged {
            return Err(out.iterations);
        }
        Ok(rough.finish_unchecked(out))
    }

    /// The flows, acidity and free extractant of `out` without the chain's residual check
    /// (status `IterationLimit` whatever the residual): for a shorter chain whose solution only
    /// starts a longer one, which is checked in its turn. The check evaluates every stage's
    /// equilibrium again through the general model (6 % of the instructions of the
    /// concentrated benchmark at 1,000 stages, 2026-12-07).
    fn finish_unchecked(&self, out: Outcome) -> ChainSolution {
        let free_dimer = out
            .state
            .lf
            .iter()
            .map(|v| if v.is_finite() { v.exp() } else { 0.0 })
            .collect();
        let max_residual = out.state.rmax;
        let (a, o, h) = Self::flows_of(out.state);
        ChainSolution {
            status: crate::SolveStatus::IterationLimit,
            iterations: out.iterations,
            max_residual,
            a,
            o,
            h,
            free_dimer,
        }
    }

    fn finish(&self, out: Outcome) -> ChainSolution {
        let (a, o, h) = Self::flows_of(out.state);
        self.chain.finish_with_h(out.iterations, a, o, h)
    }

    /// The aqueous and organic flows (non-negative) and net acidities of a state, non-finite
    /// values as 0.
    fn flows_of(st: State) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let bounded = |v: Vec<f64>| -> Vec<f64> {
            v.into_iter()
                .map(|x| if x.is_finite() { x.max(0.0) } else { 0.0 })
                .collect()
        };
        let h =
            st.h.into_iter()
                .map(|x| if x.is_finite() { x } else { 0.0 })
                .collect();
        (bounded(st.a), bounded(st.o), h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The assembled Jacobian equals finite differences of the scaled residuals.
    #[test]
    fn jacobian_matches_finite_differences() {
        let ch = crate::chain::test_fixtures::mass_action_chain(1.0);
        let bm = BoundedMa::new(&ch).expect("mass action chain");
        let (n, m) = (ch.n_stages, ch.n_elements);
        let b = m + 1;
        let mut st = bm.initial(None);
        // Move away from the start so every term is active.
        for q in 0..n * m {
            st.v[q] += 0.1 * ((q % 3) as f64 - 1.0);
        }
        bm.evaluate(&mut st);
        assert!(st.flashed);
        let mut jac = BlockTridiag::zeros(n, b);
        bm.jacobian(&st, &mut jac, &mut Vec::new());
        let dense = jac.to_dense();
        let nb = n * b;
        for c in 0..nb {
            let (j, k) = (c / b, c % b);
            let mut p = st.clone();
            let eps = 1e-6 * if k < m { 1.0 } else { 1.0 + st.u[j].abs() };
            if k < m {
                p.v[j * m + k] += eps;
            } else {
                p.u[j] += eps;
            }
            bm.evaluate(&mut p);
            // Row scales held fixed: compare unscaled differences.
            for r in 0..nb {
                let fd = (p.r[r] / p.sig[r] - st.r[r] / st.sig[r]) / eps * st.sig[r];
                let an = dense[r * nb + c];
                assert!(
                    (fd - an).abs() <= 1e-5 * (1.0 + an.abs()),
                    "row {r} col {c}: fd {fd} vs {an}"
                );
            }
        }
    }

    /// The bounded solve converges on the fixture chain to the chain's own tolerance.
    #[test]
    fn converges_on_the_fixture() {
        let ch = crate::chain::test_fixtures::mass_action_chain(1.0);
        let bm = BoundedMa::new(&ch).expect("mass action chain");
        let sol = bm.solve(None);
        assert_eq!(
            sol.status,
            crate::SolveStatus::Converged,
            "{}",
            sol.max_residual
        );
    }
}
