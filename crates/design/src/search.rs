//! Rigorous minimum stage search: the fewest total stages n + m, and their split, that meet both
//! product purities at fixed S and W, confirmed stage by stage by the simulator
//! (`sxplan_sim::cascade::solve_sf_cascade`, Xu's constant-mixed-extraction-ratio model).
//!
//! # Method
//!
//! At fixed S and W the outlet REE flows are fixed (organic product f'_A, aqueous product f'_B), so
//! the amount of A-group material in the organic product decides both purities at once: they rise
//! together with either n or m. For one total N = n + m the best split maximises the margin
//!
//! `margin(n, m) = min(ln[(1 − P_A,spec)/(1 − P_A)], ln[(1 − P_B,spec)/(1 − P_B)])`
//!
//! (computed from impurity flows, never from 1 − P, so it keeps its precision at 99.999 %); the
//! margin is unimodal in n at fixed N, so a hill climb from the last best split ratio (first: Xu's
//! n/(n + m)) finds the best split. The best margin rises with N, almost linearly (impurities
//! fall geometrically with stages), so the minimum N is bracketed upwards from the shortcut
//! estimate with secant steps and then narrowed by regula falsi (bisection as fallback), with the
//! Fenske number (total reflux) as a proven lower bound: N ≥ ⌈N_min⌉.
//! Every evaluation is a converged simulation; a point whose simulation did not converge counts as
//! not meeting the specs and is counted in `unconverged`.
//!
//! Below the minimum reflux (W < W_min) no stage count can reach the purities, so the search does
//! not run and reports [`SearchStatus::InfeasibleReflux`]. When the purities are still not reached
//! at `max_stages` total stages (W just above W_min), it reports [`SearchStatus::StageLimit`].

use std::collections::BTreeMap;

use serde::Serialize;
use sxplan_sim::cascade::{solve_sf_cascade, solve_sf_cascade_newton, SfCascadeSpec};

use crate::error::DesignError;
use crate::shortcut::FeedPhase;

/// Limits of the rigorous search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SearchOptions {
    /// Largest total number of stages n + m the search tries.
    pub max_stages: usize,
    /// When the search must end (the run's wall-time budget); [`sxplan_sim::Deadline::NONE`]
    /// never passes. Checked before every simulated candidate.
    #[serde(skip)]
    pub deadline: sxplan_sim::Deadline,
    /// Simulated candidates (n, m) the search may spend.
    pub max_evaluations: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            max_stages: 1000,
            deadline: sxplan_sim::Deadline::NONE,
            max_evaluations: sxplan_sim::Budget::DEFAULT_MAX_ITERATIONS,
        }
    }
}

/// The cascade the search explores: everything but the stage numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct CascadeProblem {
    /// Relative extractability per component in the extraction section.
    pub beta: Vec<f64>,
    /// Relative extractability per component in the scrub section.
    pub beta_scrub: Vec<f64>,
    /// Feed per component, normalised to a total of 1.
    pub feed: Vec<f64>,
    /// True for components of the A group (leave in the organic product).
    pub in_group_a: Vec<bool>,
    /// Feed phase.
    pub feed_phase: FeedPhase,
    /// Organic REE flow in the extraction section, per unit feed.
    pub s: f64,
    /// Aqueous REE flow in the scrub section, per unit feed.
    pub w: f64,
    /// Required purity of the organic (A) product.
    pub purity_a: f64,
    /// Required purity of the aqueous (B) product.
    pub purity_b: f64,
}

/// One simulated (n, m) point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagePoint {
    /// Extraction stages.
    pub n: usize,
    /// Scrub stages.
    pub m: usize,
    /// A-group fraction of the organic product.
    pub purity_a: f64,
    /// B-group fraction of the aqueous product.
    pub purity_b: f64,
    /// 1 − P_A, from the impurity flow.
    pub impurity_a: f64,
    /// 1 − P_B, from the impurity flow.
    pub impurity_b: f64,
    /// True when the simulation converged and both purities meet their specs.
    pub meets_spec: bool,
    /// Simulator status.
    pub sim_status: sxplan_sim::SolveStatus,
    /// Simulator's maximum relative balance residual.
    pub max_residual: f64,
    /// Simulator iterations.
    pub iterations: usize,
    /// Per component flow in the organic product (per unit feed).
    pub organic_product: Vec<f64>,
    /// Per component flow in the aqueous product (per unit feed).
    pub aqueous_product: Vec<f64>,
    #[serde(skip)]
    margin: f64,
}

/// The chosen point re-solved by a second algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Confirmation {
    /// Status of the second solve.
    pub sim_status: sxplan_sim::SolveStatus,
    /// Its maximum relative balance residual.
    pub max_residual: f64,
    /// P_A it gives.
    pub purity_a: f64,
    /// P_B it gives.
    pub purity_b: f64,
    /// True when it converged, meets both specs, and its impurities agree with the search's to
    /// 1e-6 (relative).
    pub agrees: bool,
}

/// Outcome of the rigorous search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchStatus {
    /// The minimum stage count was found and its purities confirmed by a converged simulation.
    Found,
    /// W < W_min: no number of stages reaches the purities at this reflux.
    InfeasibleReflux,
    /// The purities were not reached within the stage limit.
    StageLimit,
    /// The run's budget (wall time or simulated candidates) was spent before the search ended.
    BudgetSpent,
}

impl SearchStatus {
    /// Name used in output (`found`, `infeasible at this reflux`, `stage limit`, `budget spent`).
    pub fn as_str(self) -> &'static str {
        match self {
            SearchStatus::Found => "found",
            SearchStatus::InfeasibleReflux => "infeasible at this reflux",
            SearchStatus::StageLimit => "stage limit",
            SearchStatus::BudgetSpent => "budget spent",
        }
    }
}

/// Result of the rigorous search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RigorousDesign {
    /// Outcome.
    pub status: SearchStatus,
    /// The chosen point (fewest total stages, best margin among the splits of that total), when
    /// found.
    pub best: Option<StagePoint>,
    /// Every split (n, m) of the minimum total that meets the specs, ordered by n.
    pub feasible_splits: Vec<(usize, usize)>,
    /// The best split of one stage less (shows the specs are missed there), when it exists.
    pub one_fewer: Option<StagePoint>,
    /// The chosen point re-solved by the simulator's default algorithm (substitution, then
    /// Newton), independent of the Newton-first solves of the search, when found.
    pub confirmation: Option<Confirmation>,
    /// Simulations run.
    pub evaluations: usize,
    /// Simulations that did not converge.
    pub unconverged: usize,
}

/// Searches for the fewest total stages meeting both purities.
///
/// `w_over_w_min` < 1 returns [`SearchStatus::InfeasibleReflux`] without simulating; `n_min` is a
/// proven lower bound on n + m (Fenske), `start` a first guess (e.g. Xu's shortcut total) and
/// `start_ratio` a first guess of n / (n + m).
pub fn minimum_stages(
    problem: &CascadeProblem,
    w_over_w_min: f64,
    n_min: usize,
    start: Option<usize>,
    start_ratio: Option<f64>,
    options: &SearchOptions,
) -> Result<RigorousDesign, DesignError> {
    let mut ev = Evaluator {
        problem,
        memo: BTreeMap::new(),
        deadline: options.deadline,
        max_evaluations: options.max_evaluations.max(1),
        unconverged: 0,
        ratio: start_ratio
            .filter(|r| r.is_finite() && *r > 0.0 && *r < 1.0)
            .unwrap_or(0.5),
    };
    if w_over_w_min < 1.0 {
        return Ok(RigorousDesign {
            status: SearchStatus::InfeasibleReflux,
            best: None,
            feasible_splits: Vec::new(),
            one_fewer: None,
            confirmation: None,
            evaluations: 0,
            unconverged: 0,
        });
    }
    match search(&mut ev, n_min, start, options) {
        Err(DesignError::BudgetSpent) => Ok(ev.finish(SearchStatus::BudgetSpent, None)),
        r => r,
    }
}

/// The bracket-and-secant search of [`minimum_stages`].
fn search(
    ev: &mut Evaluator<'_>,
    n_min: usize,
    start: Option<usize>,
    options: &SearchOptions,
) -> Result<RigorousDesign, DesignError> {
    let max_total = options.max_stages.max(2);
    let lower = n_min.max(2);
    if lower > max_total {
        return Ok(ev.finish(SearchStatus::StageLimit, None));
    }
    // Bracket: `lo` is known infeasible (or below the Fenske bound), `hi` feasible. The best
    // margin is close to linear in N (impurities fall geometrically with stages), so the next
    // probe is the secant estimate of its zero, kept strictly inside the bracket.
    let mut lo = lower - 1;
    let mut g_lo: Option<f64> = None;
    let mut probe = start.unwrap_or(lower).clamp(lower, max_total);
    let mut step = (probe / 8).max(2);
    let (mut hi, mut g_hi) = loop {
        let best = ev.best_split(probe)?;
        if best.meets_spec {
            break (probe, best.margin);
        }
        if probe == max_total {
            return Ok(ev.finish(SearchStatus::StageLimit, None));
        }
        let next = match g_lo {
            Some(g0) if best.margin.is_finite() && g0.is_finite() && best.margin > g0 => {
                // Secant through the last two infeasible points, one stage beyond the zero.
                let slope = (best.margin - g0) / (probe - lo) as f64;
                let est = probe as f64 + (-best.margin / slope).ceil() + 1.0;
                est.min((probe + 4 * step) as f64) as usize
            }
            _ => probe + step,
        };
        lo = probe;
        g_lo = Some(best.margin);
        probe = next.max(probe + 1).min(max_total);
        step *= 2;
    };
    while hi - lo > 1 {
        let mid = match g_lo {
            Some(gl) if gl.is_finite() && g_hi.is_finite() && g_hi > gl => {
                let t = -gl / (g_hi - gl);
                let est = (lo as f64 + t * (hi - lo) as f64).round() as usize;
                est.clamp(lo + 1, hi - 1)
            }
            _ => lo + (hi - lo) / 2,
        };
        let best = ev.best_split(mid)?;
        if best.meets_spec {
            hi = mid;
            g_hi = best.margin;
        } else {
            lo = mid;
            g_lo = Some(best.margin);
        }
    }
    ev.finish(SearchStatus::Found, Some(hi)).with_splits(ev, hi)
}

impl RigorousDesign {
    fn with_splits(
        mut self,
        ev: &mut Evaluator<'_>,
        total: usize,
    ) -> Result<RigorousDesign, DesignError> {
        let best = ev.best_split(total)?;
        let mut splits = vec![(best.n, best.m)];
        let mut n = best.n;
        while n > 1 {
            n -= 1;
            if !ev.eval(n, total - n)?.meets_spec {
                break;
            }
            splits.push((n, total - n));
        }
        let mut n = best.n;
        while n + 1 < total {
            n += 1;
            if !ev.eval(n, total - n)?.meets_spec {
                break;
            }
            splits.push((n, total - n));
        }
        splits.sort_unstable();
        self.one_fewer = if total > 2 {
            Some(ev.best_split(total - 1)?)
        } else {
            None
        };
        let second = simulate_with(ev.problem, best.n, best.m, Solver::Default)?;
        let rel = |x: f64, y: f64| (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1e-300);
        self.confirmation = Some(Confirmation {
            sim_status: second.sim_status,
            max_residual: second.max_residual,
            purity_a: second.purity_a,
            purity_b: second.purity_b,
            agrees: second.meets_spec
                && rel(second.impurity_a, best.impurity_a)
                && rel(second.impurity_b, best.impurity_b),
        });
        self.best = Some(best);
        self.feasible_splits = splits;
        self.evaluations = ev.memo.len();
        self.unconverged = ev.unconverged;
        Ok(self)
    }
}

struct Evaluator<'a> {
    problem: &'a CascadeProblem,
    memo: BTreeMap<(usize, usize), StagePoint>,
    deadline: sxplan_sim::Deadline,
    max_evaluations: usize,
    unconverged: usize,
    /// n / (n + m) of the last best split, the hill climb's starting point.
    ratio: f64,
}

impl Evaluator<'_> {
    fn finish(&self, status: SearchStatus, _total: Option<usize>) -> RigorousDesign {
        RigorousDesign {
            status,
            best: None,
            feasible_splits: Vec::new(),
            one_fewer: None,
            confirmation: None,
            evaluations: self.memo.len(),
            unconverged: self.unconverged,
        }
    }

    fn eval(&mut self, n: usize, m: usize) -> Result<StagePoint, DesignError> {
        if let Some(p) = self.memo.get(&(n, m)) {
            return Ok(p.clone());
        }
        if self.deadline.passed() || self.memo.len() >= self.max_evaluations {
            return Err(DesignError::BudgetSpent);
        }
        let p = simulate_point(self.problem, n, m)?;
        if !p.sim_status.is_converged() {
            self.unconverged += 1;
        }
        self.memo.insert((n, m), p.clone());
        Ok(p)
    }

    /// Best split of `total` stages (largest margin). The margin is unimodal in n at fixed total,
    /// so a hill climb from the split ratio of the last best split (or the middle) finds it.
    fn best_split(&mut self, total: usize) -> Result<StagePoint, DesignError> {
        if total < 2 {
            return Err(DesignError::Components(format!(
                "no split of {total} stages"
            )));
        }
        let (n_max, ratio) = (total - 1, self.ratio);
        let mut n = ((ratio * total as f64).round() as usize).clamp(1, n_max);
        let mut here = self.eval(n, total - n)?;
        loop {
            let up = if n < n_max {
                Some(self.eval(n + 1, total - n - 1)?)
            } else {
                None
            };
            let down = if n > 1 {
                Some(self.eval(n - 1, total - n + 1)?)
            } else {
                None
            };
            let better = [up, down]
                .into_iter()
                .flatten()
                .filter(|p| p.margin > here.margin)
                .max_by(|a, b| a.margin.total_cmp(&b.margin));
            match better {
                Some(p) => {
                    n = p.n;
                    here = p;
                }
                None => break,
            }
        }
        if here.margin.is_finite() {
            self.ratio = here.n as f64 / total as f64;
        }
        Ok(here)
    }
}

/// Which cascade algorithm a point is solved with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Solver {
    /// Newton first, the default as fallback.
    NewtonFirst,
    /// The simulator's default (substitution, then Newton).
    Default,
}

/// Simulates one (n, m) point of the problem and measures it against the specs.
pub fn simulate_point(
    problem: &CascadeProblem,
    n: usize,
    m: usize,
) -> Result<StagePoint, DesignError> {
    simulate_with(problem, n, m, Solver::NewtonFirst)
}

fn simulate_with(
    problem: &CascadeProblem,
    n: usize,
    m: usize,
    solver: Solver,
) -> Result<StagePoint, DesignError> {
    let spec = SfCascadeSpec {
        beta: problem.beta.clone(),
        feed: problem.feed.clone(),
        feed_phase: match problem.feed_phase {
            FeedPhase::Aqueous => sxplan_sim::cascade::FeedPhase::Aqueous,
            FeedPhase::Organic => sxplan_sim::cascade::FeedPhase::Organic,
        },
        n_extraction: n,
        n_scrub: m,
        s: problem.s,
        w: problem.w,
        beta_scrub: if problem.beta_scrub == problem.beta {
            None
        } else {
            Some(problem.beta_scrub.clone())
        },
    };
    let sim_err = |e: sxplan_sim::SimError| DesignError::Simulation {
        n_extraction: n,
        n_scrub: m,
        message: e.to_string(),
    };
    // Newton from a few substitution sweeps is fast where it converges; the simulator's default
    // (substitution first, then Newton) is the robust fallback.
    let mut r = match solver {
        Solver::NewtonFirst => solve_sf_cascade_newton(&spec).map_err(sim_err)?,
        Solver::Default => solve_sf_cascade(&spec).map_err(sim_err)?,
    };
    if !r.status.is_converged() && solver == Solver::NewtonFirst {
        r = solve_sf_cascade(&spec).map_err(sim_err)?;
    }
    let mut a_in_org = 0.0;
    let mut b_in_org = 0.0;
    let mut a_in_aq = 0.0;
    let mut b_in_aq = 0.0;
    for (i, &is_a) in problem.in_group_a.iter().enumerate() {
        let org = r.organic_product.get(i).copied().unwrap_or(0.0);
        let aq = r.aqueous_product.get(i).copied().unwrap_or(0.0);
        if is_a {
            a_in_org += org;
            a_in_aq += aq;
        } else {
            b_in_org += org;
            b_in_aq += aq;
        }
    }
    let org_total = a_in_org + b_in_org;
    let aq_total = a_in_aq + b_in_aq;
    let impurity_a = if org_total > 0.0 {
        b_in_org / org_total
    } else {
        1.0
    };
    let impurity_b = if aq_total > 0.0 {
        a_in_aq / aq_total
    } else {
        1.0
    };
    let converged = r.status.is_converged() && impurity_a.is_finite() && impurity_b.is_finite();
    let tiny = f64::MIN_POSITIVE;
    let margin = if converged {
        let ma = ((1.0 - problem.purity_a) / impurity_a.max(tiny)).ln();
        let mb = ((1.0 - problem.purity_b) / impurity_b.max(tiny)).ln();
        ma.min(mb)
    } else {
        f64::NEG_INFINITY
    };
    let purity_a = if org_total > 0.0 {
        a_in_org / org_total
    } else {
        0.0
    };
    let purity_b = if aq_total > 0.0 {
        b_in_aq / aq_total
    } else {
        0.0
    };
    Ok(StagePoint {
        n,
        m,
        purity_a,
        purity_b,
        impurity_a: if converged { impurity_a } else { 1.0 },
        impurity_b: if converged { impurity_b } else { 1.0 },
        meets_spec: converged
            && impurity_a <= 1.0 - problem.purity_a
            && impurity_b <= 1.0 - problem.purity_b,
        sim_status: r.status,
        max_residual: if r.max_residual.is_finite() {
            r.max_residual
        } else {
            f64::MAX
        },
        iterations: r.iterations,
        organic_product: r
            .organic_product
            .iter()
            .map(|v| finite_or_zero(*v))
            .collect(),
        aqueous_product: r
            .aqueous_product
            .iter()
            .map(|v| finite_or_zero(*v))
            .collect(),
        margin,
    })
}

fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}
