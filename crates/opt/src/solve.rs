//! Solving an [`LpProblem`]: scaling, good_lp backends, real solver status, duals, residual checks,
//! elastic mode and infeasibility diagnosis.

use good_lp::{Expression, ProblemVariables, Solution, SolutionWithDual, SolverModel};

use crate::error::OptError;
use crate::lp::{Direction, LpProblem, Relation, RowId, RowKind, VarId};

/// A good_lp backend. Only backends compiled into this build can be used (see [`Backend::enabled`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Clarabel, a pure-Rust interior-point solver (default feature `clarabel`).
    Clarabel,
    /// HiGHS, a dual simplex / IPM in C++ (feature `highs`; needs cmake, a C++ compiler, libclang).
    Highs,
}

impl Backend {
    /// Every backend compiled into this build, default first.
    pub fn enabled() -> Vec<Backend> {
        let mut v = Vec::new();
        if cfg!(feature = "clarabel") {
            v.push(Backend::Clarabel);
        }
        if cfg!(feature = "highs") {
            v.push(Backend::Highs);
        }
        v
    }

    /// Lowercase name (the cargo feature).
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Clarabel => "clarabel",
            Backend::Highs => "highs",
        }
    }

    /// Parses a backend name.
    pub fn parse(name: &str) -> Option<Backend> {
        match name {
            "clarabel" => Some(Backend::Clarabel),
            "highs" => Some(Backend::Highs),
            _ => None,
        }
    }
}

/// Row and column scaling applied before the problem reaches the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// Pass coefficients as written.
    None,
    /// Column scales from [`crate::LpVar::scale`], then every row divided by its largest coefficient.
    Columns,
    /// As `Columns`, then alternating geometric-mean row and column passes, then row max-norm equilibration.
    Geometric,
}

/// How to solve.
#[derive(Debug, Clone, PartialEq)]
pub struct LpOptions {
    /// Backend to use.
    pub backend: Backend,
    /// Scaling mode.
    pub scaling: Scaling,
    /// Relax soft rows with penalized slacks (see [`crate::Soft`]).
    pub elastic: bool,
    /// Largest accepted scaled primal residual of any row or bound (see [`Residuals`]).
    pub residual_tol: f64,
    /// Backend iteration limit (clarabel); `0` keeps the backend default.
    pub max_iter: u32,
    /// Run HiGHS presolve (only used by the `highs` backend).
    pub highs_presolve: bool,
}

impl Default for LpOptions {
    fn default() -> Self {
        LpOptions {
            backend: Backend::enabled()
                .first()
                .copied()
                .unwrap_or(Backend::Clarabel),
            scaling: Scaling::Columns,
            elastic: false,
            residual_tol: 1e-6,
            max_iter: 0,
            highs_presolve: true,
        }
    }
}

/// Outcome of one LP solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LpStatus {
    /// Solved to the backend's full accuracy and the residual check passed.
    Optimal,
    /// The backend stopped at reduced accuracy (clarabel `AlmostSolved`) but the residual check passed.
    AlmostOptimal,
    /// The backend reported success but the residual check failed: do not use the point.
    Inaccurate,
    /// No point satisfies the (hard) rows and bounds.
    Infeasible,
    /// The objective can improve without limit.
    Unbounded,
    /// The backend hit its iteration or time limit.
    IterationLimit,
    /// The backend failed numerically (singular system, no progress).
    NumericalError,
}

impl LpStatus {
    /// True when the point may be used (Optimal or AlmostOptimal, residual check passed).
    pub fn is_usable(self) -> bool {
        matches!(self, LpStatus::Optimal | LpStatus::AlmostOptimal)
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            LpStatus::Optimal => "optimal",
            LpStatus::AlmostOptimal => "almost_optimal",
            LpStatus::Inaccurate => "inaccurate",
            LpStatus::Infeasible => "infeasible",
            LpStatus::Unbounded => "unbounded",
            LpStatus::IterationLimit => "iteration_limit",
            LpStatus::NumericalError => "numerical_error",
        }
    }
}

/// Primal residuals of a solution, in user units ("abs") and relative to the size of the row ("scaled":
/// violation / max(|rhs|, max_j |a_j| max(|x_j|, scale_j)), and for bounds violation / max(|bound|, scale)).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Residuals {
    /// Largest absolute row violation.
    pub max_abs_row: f64,
    /// Largest scaled row violation.
    pub max_scaled_row: f64,
    /// Row with the largest scaled violation.
    pub worst_row: Option<String>,
    /// Largest absolute bound violation.
    pub max_abs_bound: f64,
    /// Largest scaled bound violation.
    pub max_scaled_bound: f64,
    /// Variable with the largest scaled bound violation.
    pub worst_bound: Option<String>,
}

impl Residuals {
    /// Largest scaled violation of any row or bound.
    pub fn max_scaled(&self) -> f64 {
        self.max_scaled_row.max(self.max_scaled_bound)
    }
}

/// A soft row that the elastic solution violates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SoftViolation {
    /// The row.
    #[serde(skip)]
    pub row: RowId,
    /// Row name.
    pub name: String,
    /// Row kind.
    pub kind: RowKind,
    /// Violation in row units (>= 0).
    pub amount: f64,
    /// Violation relative to max(|rhs|, row activity scale).
    pub relative: f64,
}

/// A solved (or not) LP, in user units.
#[derive(Debug, Clone, PartialEq)]
pub struct LpSolution {
    /// Outcome; only [`LpStatus::is_usable`] points carry meaningful values.
    pub status: LpStatus,
    /// Backend used.
    pub backend: Backend,
    /// The backend's own status word (e.g. clarabel `AlmostSolved`).
    pub backend_status: String,
    /// Variable values (empty when the backend returned no point).
    pub x: Vec<f64>,
    /// Objective value `c x + constant` (without elastic penalties and without the curvature
    /// term; see [`LpProblem::curvature_value`]).
    pub objective: f64,
    /// Sum of elastic penalties at the solution (0 when not elastic).
    pub penalty: f64,
    /// Row activities `sum a_j x_j` (without elastic slacks).
    pub activity: Vec<f64>,
    /// Row duals = shadow prices `d objective* / d rhs` in objective units per row unit.
    pub duals: Vec<f64>,
    /// Reduced costs `c_j - sum_i dual_i a_ij` (with curvature, `c_j` is the objective's gradient
    /// at the solution).
    pub reduced_costs: Vec<f64>,
    /// Soft rows violated by more than the residual tolerance (elastic mode only).
    pub soft_violations: Vec<SoftViolation>,
    /// Primal residuals of the rows as solved (elastic slacks included) and of the bounds.
    pub residuals: Residuals,
    /// Backend iterations when the backend reports them.
    pub iterations: Option<u32>,
    /// Number of variables passed to the backend (elastic slacks included).
    pub n_cols: usize,
    /// Number of rows passed to the backend.
    pub n_rows: usize,
    /// Number of nonzeros passed to the backend.
    pub n_nonzeros: usize,
}

impl LpSolution {
    /// Value of a variable (0 when there is no point).
    pub fn value(&self, v: VarId) -> f64 {
        self.x.get(v.0).copied().unwrap_or(0.0)
    }

    /// Shadow price of a row (0 when there is no point).
    pub fn dual(&self, r: RowId) -> f64 {
        self.duals.get(r.0).copied().unwrap_or(0.0)
    }

    /// Reduced cost of a variable (0 when there is no point).
    pub fn reduced_cost(&self, v: VarId) -> f64 {
        self.reduced_costs.get(v.0).copied().unwrap_or(0.0)
    }
}

/// The scaled problem handed to a backend: `x_j = col_scale_j * z_j`, row i multiplied by `row_scale_i`,
/// objective divided by `obj_scale`. Rows are merged (duplicate entries summed).
struct Scaled {
    col: Vec<f64>,
    row: Vec<f64>,
    obj_scale: f64,
    /// Merged rows in user coefficients.
    rows: Vec<Vec<(usize, f64)>>,
    /// Merged objective in user coefficients.
    obj: Vec<f64>,
}

fn merge(terms: &[(VarId, f64)]) -> Vec<(usize, f64)> {
    let mut t: Vec<(usize, f64)> = terms.iter().map(|&(v, a)| (v.0, a)).collect();
    t.sort_by_key(|e| e.0);
    let mut out: Vec<(usize, f64)> = Vec::with_capacity(t.len());
    for (j, a) in t {
        match out.last_mut() {
            Some(last) if last.0 == j => last.1 += a,
            _ => out.push((j, a)),
        }
    }
    out.retain(|e| e.1 != 0.0);
    out
}

fn scale_problem(p: &LpProblem, mode: Scaling) -> Scaled {
    let n = p.vars.len();
    let rows: Vec<Vec<(usize, f64)>> = p.rows.iter().map(|r| merge(&r.terms)).collect();
    let mut obj = vec![0.0; n];
    for &(v, c) in &p.objective {
        obj[v.0] += c;
    }
    let mut col: Vec<f64> = match mode {
        Scaling::None => vec![1.0; n],
        _ => p.vars.iter().map(|v| v.scale).collect(),
    };
    let mut row = vec![1.0; rows.len()];
    if mode == Scaling::Geometric {
        for _ in 0..4 {
            for (i, r) in rows.iter().enumerate() {
                let (mut lo, mut hi) = (f64::INFINITY, 0.0_f64);
                for &(j, a) in r {
                    let m = (a * col[j]).abs();
                    lo = lo.min(m);
                    hi = hi.max(m);
                }
                if hi > 0.0 {
                    row[i] = 1.0 / (lo * hi).sqrt();
                }
            }
            let mut lo = vec![f64::INFINITY; n];
            let mut hi = vec![0.0_f64; n];
            for (i, r) in rows.iter().enumerate() {
                for &(j, a) in r {
                    let m = (a * row[i] * col[j]).abs();
                    lo[j] = lo[j].min(m);
                    hi[j] = hi[j].max(m);
                }
            }
            for j in 0..n {
                if hi[j] > 0.0 {
                    // Keep the user's magnitude hint but let the geometric pass balance coefficients,
                    // within four orders of magnitude of it.
                    let f = (1.0 / (lo[j] * hi[j]).sqrt()).clamp(1e-4, 1e4);
                    col[j] = p.vars[j].scale * f;
                }
            }
        }
    }
    if mode != Scaling::None {
        for (i, r) in rows.iter().enumerate() {
            let hi = r
                .iter()
                .map(|&(j, a)| (a * col[j]).abs())
                .fold(0.0_f64, f64::max);
            row[i] = if hi > 0.0 { 1.0 / hi } else { 1.0 };
        }
    }
    let obj_scale = if mode == Scaling::None {
        1.0
    } else {
        let m = obj
            .iter()
            .zip(&col)
            .map(|(c, s)| (c * s).abs())
            .fold(0.0_f64, f64::max);
        if m > 0.0 {
            m
        } else {
            1.0
        }
    };
    Scaled {
        col,
        row,
        obj_scale,
        rows,
        obj,
    }
}

/// What a backend returns: scaled primal values and scaled duals (good_lp convention: d obj / d rhs).
struct Raw {
    z: Vec<f64>,
    y: Vec<f64>,
    status: LpStatus,
    backend_status: String,
    iterations: Option<u32>,
}

/// Row of the scaled problem as handed to a backend.
struct BRow {
    terms: Vec<(usize, f64)>,
    relation: Relation,
    rhs: f64,
}

/// The scaled problem in backend-neutral form.
struct BProblem {
    lower: Vec<f64>,
    upper: Vec<f64>,
    obj: Vec<f64>,
    rows: Vec<BRow>,
    direction: Direction,
    /// Scaled curvature, upper triangle `(i, j, P_ij)`, `i <= j` (duplicates summed); empty
    /// for a linear program.
    curvature: Vec<(usize, usize, f64)>,
}

fn build_expr(vars: &[good_lp::Variable], terms: &[(usize, f64)]) -> Expression {
    let mut e = Expression::with_capacity(terms.len());
    for &(j, a) in terms {
        e.add_mul(a, vars[j]);
    }
    e
}

fn build_good_lp(b: &BProblem) -> (ProblemVariables, Vec<good_lp::Variable>, Expression) {
    let mut pv = ProblemVariables::new();
    let vars: Vec<good_lp::Variable> = b
        .lower
        .iter()
        .zip(&b.upper)
        .map(|(&l, &u)| {
            let mut d = good_lp::variable();
            if l > f64::NEG_INFINITY {
                d = d.min(l);
            }
            if u < f64::INFINITY {
                d = d.max(u);
            }
            pv.add(d)
        })
        .collect();
    let mut obj = Expression::with_capacity(b.obj.len());
    for (j, &c) in b.obj.iter().enumerate() {
        if c != 0.0 {
            obj.add_mul(c, vars[j]);
        }
    }
    (pv, vars, obj)
}

fn constraint(vars: &[good_lp::Variable], r: &BRow) -> good_lp::Constraint {
    let e = build_expr(vars, &r.terms);
    match r.relation {
        Relation::Le => e.leq(r.rhs),
        Relation::Ge => e.geq(r.rhs),
        Relation::Eq => e.eq(r.rhs),
    }
}

fn map_resolution_error(backend: Backend, e: good_lp::ResolutionError) -> Result<Raw, OptError> {
    let (status, word) = match &e {
        good_lp::ResolutionError::Infeasible => (LpStatus::Infeasible, "Infeasible".to_string()),
        good_lp::ResolutionError::Unbounded => (LpStatus::Unbounded, "Unbounded".to_string()),
        good_lp::ResolutionError::Other(s) => {
            let st = if s.contains("iterations") || s.contains("Time limit") {
                LpStatus::IterationLimit
            } else if s.contains("Numerical") || s.contains("progress") {
                LpStatus::NumericalError
            } else {
                return Err(OptError::Backend {
                    backend: backend.as_str().into(),
                    message: s.to_string(),
                });
            };
            (st, s.to_string())
        }
        good_lp::ResolutionError::Str(s) => {
            return Err(OptError::Backend {
                backend: backend.as_str().into(),
                message: s.clone(),
            })
        }
    };
    Ok(Raw {
        z: Vec::new(),
        y: Vec::new(),
        status,
        backend_status: word,
        iterations: None,
    })
}

#[cfg(feature = "clarabel")]
fn solve_clarabel(b: &BProblem, opts: &LpOptions) -> Result<Raw, OptError> {
    let (pv, vars, obj) = build_good_lp(b);
    let unsolved = match b.direction {
        Direction::Minimize => pv.minimise(obj),
        Direction::Maximize => pv.maximise(obj),
    };
    let mut model = good_lp::clarabel(unsolved);
    {
        let s = model.settings();
        s.verbose(false)
            .tol_feas(1e-12)
            .tol_gap_abs(1e-12)
            .tol_gap_rel(1e-12);
        if opts.max_iter > 0 {
            s.max_iter(opts.max_iter);
        }
    }
    let refs: Vec<_> = b
        .rows
        .iter()
        .map(|r| model.add_constraint(constraint(&vars, r)))
        .collect();
    let mut sol = match model.solve() {
        Ok(s) => s,
        Err(e) => return map_resolution_error(Backend::Clarabel, e),
    };
    // good_lp reports every clarabel "success-like" end as Optimal, including AlmostSolved and
    // DualInfeasible: read clarabel's own status word.
    let word = format!("{:?}", sol.inner().status);
    let iterations = Some(sol.inner().iterations);
    let status = clarabel_status(&word);
    if !matches!(status, LpStatus::Optimal | LpStatus::AlmostOptimal) {
        return Ok(Raw {
            z: Vec::new(),
            y: Vec::new(),
            status,
            backend_status: word,
            iterations,
        });
    }
    let z: Vec<f64> = vars.iter().map(|&v| sol.value(v)).collect();
    let duals = sol.compute_dual();
    let y: Vec<f64> = refs
        .iter()
        .map(|r| good_lp::solvers::DualValues::dual(&duals, r.clone()))
        .collect();
    Ok(Raw {
        z,
        y,
        status,
        backend_status: word,
        iterations,
    })
}

/// Our status for one of clarabel's status words.
#[cfg(feature = "clarabel")]
fn clarabel_status(word: &str) -> LpStatus {
    match word {
        "Solved" => LpStatus::Optimal,
        "AlmostSolved" => LpStatus::AlmostOptimal,
        "DualInfeasible" | "AlmostDualInfeasible" => LpStatus::Unbounded,
        "PrimalInfeasible" | "AlmostPrimalInfeasible" => LpStatus::Infeasible,
        "MaxIterations" | "MaxTime" => LpStatus::IterationLimit,
        _ => LpStatus::NumericalError,
    }
}

/// A problem with curvature, handed to clarabel directly (good_lp's clarabel model has no
/// quadratic objective). Clarabel's form is `min x'Px/2 + q'x` subject to `Ax + s = b`, `s` in
/// the cones: equality rows go to the zero cone, `<=` rows (and `>=` rows negated) and the
/// variable bounds to the nonnegative cone. Duals come back in the convention of
/// [`solve_clarabel`] (`d objective* / d rhs` of the scaled problem).
#[cfg(feature = "clarabel")]
fn solve_clarabel_qp(b: &BProblem, opts: &LpOptions) -> Result<Raw, OptError> {
    use clarabel::algebra::CscMatrix;
    use clarabel::solver::{DefaultSettingsBuilder, DefaultSolver, IPSolver, SupportedConeT};
    let n = b.lower.len();
    // Clarabel minimizes: a maximization is the minimization of -c x + x'Px/2.
    let objf = match b.direction {
        Direction::Minimize => 1.0,
        Direction::Maximize => -1.0,
    };
    let q: Vec<f64> = b.obj.iter().map(|c| objf * c).collect();
    let (mut pi, mut pj, mut pv) = (Vec::new(), Vec::new(), Vec::new());
    for &(i, j, h) in &b.curvature {
        pi.push(i);
        pj.push(j);
        pv.push(h);
    }
    let p = CscMatrix::new_from_triplets(n, n, pi, pj, pv);
    // Rows: equalities first (zero cone), then inequalities and bounds (nonnegative cone).
    let (mut ai, mut aj, mut av, mut rhs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // (position in clarabel's rows, sign of the row as written) per row of `b`.
    let mut place = vec![(0usize, 1.0f64); b.rows.len()];
    let mut push_row = |terms: &[(usize, f64)], sign: f64, r: f64, rhs: &mut Vec<f64>| {
        let at = rhs.len();
        for &(j, a) in terms {
            ai.push(at);
            aj.push(j);
            av.push(sign * a);
        }
        rhs.push(sign * r);
        at
    };
    for (k, r) in b.rows.iter().enumerate() {
        if r.relation == Relation::Eq {
            place[k] = (push_row(&r.terms, 1.0, r.rhs, &mut rhs), 1.0);
        }
    }
    let n_eq = rhs.len();
    for (k, r) in b.rows.iter().enumerate() {
        let sign = match r.relation {
            Relation::Eq => continue,
            Relation::Le => 1.0,
            Relation::Ge => -1.0,
        };
        place[k] = (push_row(&r.terms, sign, r.rhs, &mut rhs), sign);
    }
    for j in 0..n {
        if b.upper[j] < f64::INFINITY {
            push_row(&[(j, 1.0)], 1.0, b.upper[j], &mut rhs);
        }
        if b.lower[j] > f64::NEG_INFINITY {
            push_row(&[(j, 1.0)], -1.0, b.lower[j], &mut rhs);
        }
    }
    let m = rhs.len();
    let a = CscMatrix::new_from_triplets(m, n, ai, aj, av);
    let mut cones = Vec::new();
    if n_eq > 0 {
        cones.push(SupportedConeT::ZeroConeT(n_eq));
    }
    if m > n_eq {
        cones.push(SupportedConeT::NonnegativeConeT(m - n_eq));
    }
    let mut settings = DefaultSettingsBuilder::default();
    settings
        .verbose(false)
        .tol_feas(1e-12)
        .tol_gap_abs(1e-12)
        .tol_gap_rel(1e-12);
    if opts.max_iter > 0 {
        settings.max_iter(opts.max_iter);
    }
    let backend_error = |message: String| OptError::Backend {
        backend: Backend::Clarabel.as_str().into(),
        message,
    };
    let settings = settings
        .build()
        .map_err(|e| backend_error(format!("settings: {e}")))?;
    let mut solver = DefaultSolver::new(&p, &q, &a, &rhs, &cones, settings)
        .map_err(|e| backend_error(e.to_string()))?;
    solver.solve();
    let word = format!("{:?}", solver.solution.status);
    let iterations = Some(solver.solution.iterations);
    let status = clarabel_status(&word);
    if !matches!(status, LpStatus::Optimal | LpStatus::AlmostOptimal) {
        return Ok(Raw {
            z: Vec::new(),
            y: Vec::new(),
            status,
            backend_status: word,
            iterations,
        });
    }
    // The Lagrangian holds z'(Ax + s - b): d(min)/d b = -z, and a row negated on the way in
    // turns its right-hand side around once more.
    let y = place
        .iter()
        .map(|&(at, sign)| -objf * sign * solver.solution.z[at])
        .collect();
    Ok(Raw {
        z: solver.solution.x.clone(),
        y,
        status,
        backend_status: word,
        iterations,
    })
}

#[cfg(feature = "highs")]
fn solve_highs(b: &BProblem, opts: &LpOptions) -> Result<Raw, OptError> {
    let (pv, vars, obj) = build_good_lp(b);
    let unsolved = match b.direction {
        Direction::Minimize => pv.minimise(obj),
        Direction::Maximize => pv.maximise(obj),
    };
    let mut model = good_lp::highs(unsolved).set_threads(1);
    if !opts.highs_presolve {
        model = model.set_presolve(good_lp::solvers::highs::HighsPresolveType::Off);
    }
    let refs: Vec<_> = b
        .rows
        .iter()
        .map(|r| model.add_constraint(constraint(&vars, r)))
        .collect();
    let mut sol = match model.solve() {
        Ok(s) => s,
        Err(e) => return map_resolution_error(Backend::Highs, e),
    };
    let (status, word) = match sol.status() {
        good_lp::SolutionStatus::Optimal => (LpStatus::Optimal, "Optimal".to_string()),
        other => (LpStatus::IterationLimit, format!("{other:?}")),
    };
    if status != LpStatus::Optimal {
        return Ok(Raw {
            z: Vec::new(),
            y: Vec::new(),
            status,
            backend_status: word,
            iterations: None,
        });
    }
    let z: Vec<f64> = vars.iter().map(|&v| sol.value(v)).collect();
    let duals = sol.compute_dual();
    let y: Vec<f64> = refs
        .iter()
        .map(|r| good_lp::solvers::DualValues::dual(&duals, r.clone()))
        .collect();
    Ok(Raw {
        z,
        y,
        status,
        backend_status: word,
        iterations: None,
    })
}

fn run_backend(b: &BProblem, opts: &LpOptions) -> Result<Raw, OptError> {
    if !b.curvature.is_empty() {
        return match opts.backend {
            #[cfg(feature = "clarabel")]
            Backend::Clarabel => solve_clarabel_qp(b, opts),
            other => Err(OptError::Backend {
                backend: other.as_str().into(),
                message: "this backend solves no problem with curvature (quadratic objective); use clarabel".into(),
            }),
        };
    }
    match opts.backend {
        #[cfg(feature = "clarabel")]
        Backend::Clarabel => solve_clarabel(b, opts),
        #[cfg(feature = "highs")]
        Backend::Highs => solve_highs(b, opts),
        #[allow(unreachable_patterns)]
        other => Err(OptError::BackendUnavailable(other.as_str().into())),
    }
}

/// Elastic slack columns added for one soft row: (column index in the backend problem, sign in the row).
struct Elastic {
    row: usize,
    cols: Vec<(usize, f64)>,
}

/// Solves `p` with the given options. `Err` only for an ill-formed problem or a broken backend; numeric
/// outcomes are in [`LpSolution::status`]. Every returned point has had its residuals checked: a point
/// whose scaled residual exceeds [`LpOptions::residual_tol`] is returned with status
/// [`LpStatus::Inaccurate`].
pub fn solve(p: &LpProblem, opts: &LpOptions) -> Result<LpSolution, OptError> {
    p.validate()?;
    let sc = scale_problem(p, opts.scaling);
    let n = p.vars.len();
    let mut lower: Vec<f64> = p
        .vars
        .iter()
        .zip(&sc.col)
        .map(|(v, s)| v.lower / s)
        .collect();
    let mut upper: Vec<f64> = p
        .vars
        .iter()
        .zip(&sc.col)
        .map(|(v, s)| v.upper / s)
        .collect();
    let mut obj: Vec<f64> = sc
        .obj
        .iter()
        .zip(&sc.col)
        .map(|(c, s)| c * s / sc.obj_scale)
        .collect();
    let mut brows: Vec<BRow> = p
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| BRow {
            terms: sc.rows[i]
                .iter()
                .map(|&(j, a)| (j, a * sc.col[j] * sc.row[i]))
                .collect(),
            relation: r.relation,
            rhs: r.rhs * sc.row[i],
        })
        .collect();
    let mut elastic: Vec<Elastic> = Vec::new();
    if opts.elastic {
        let sign = match p.direction {
            Direction::Minimize => 1.0,
            Direction::Maximize => -1.0,
        };
        for (i, r) in p.rows.iter().enumerate() {
            let Some(soft) = r.soft else { continue };
            let signs: &[f64] = match r.relation {
                Relation::Le => &[-1.0],
                Relation::Ge => &[1.0],
                Relation::Eq => &[1.0, -1.0],
            };
            let mut cols = Vec::new();
            for &s in signs {
                let j = lower.len();
                lower.push(0.0);
                upper.push(f64::INFINITY);
                // slack in scaled row units: user violation = slack / row_scale.
                obj.push(sign * soft.penalty / (sc.row[i] * sc.obj_scale));
                brows[i].terms.push((j, s));
                cols.push((j, s));
            }
            elastic.push(Elastic { row: i, cols });
        }
    }
    let nnz = brows.iter().map(|r| r.terms.len()).sum();
    let curvature = p
        .curvature
        .iter()
        .map(|&(i, j, h)| (i.0, j.0, h * sc.col[i.0] * sc.col[j.0] / sc.obj_scale))
        .filter(|e| e.2 != 0.0)
        .collect();
    let b = BProblem {
        lower,
        upper,
        obj,
        rows: brows,
        direction: p.direction,
        curvature,
    };
    let raw = run_backend(&b, opts)?;
    let mut sol = LpSolution {
        status: raw.status,
        backend: opts.backend,
        backend_status: raw.backend_status,
        x: Vec::new(),
        objective: 0.0,
        penalty: 0.0,
        activity: Vec::new(),
        duals: Vec::new(),
        reduced_costs: Vec::new(),
        soft_violations: Vec::new(),
        residuals: Residuals::default(),
        iterations: raw.iterations,
        n_cols: b.lower.len(),
        n_rows: b.rows.len(),
        n_nonzeros: nnz,
    };
    if raw.z.len() != b.lower.len() || raw.y.len() != b.rows.len() {
        if sol.status.is_usable() {
            return Err(OptError::Backend {
                backend: opts.backend.as_str().into(),
                message: "solution has the wrong dimensions".into(),
            });
        }
        return Ok(sol);
    }
    let x: Vec<f64> = (0..n).map(|j| raw.z[j] * sc.col[j]).collect();
    // Slack values in user row units.
    let mut slack = vec![0.0; p.rows.len()];
    for e in &elastic {
        for &(j, s) in &e.cols {
            slack[e.row] += s * raw.z[j] / sc.row[e.row];
        }
    }
    let duals: Vec<f64> = (0..p.rows.len())
        .map(|i| raw.y[i] * sc.row[i] * sc.obj_scale)
        .collect();
    let mut reduced = sc.obj.clone();
    // With curvature the objective's gradient at x is c -/+ Hx (maximize / minimize).
    let against = match p.direction {
        Direction::Maximize => -1.0,
        Direction::Minimize => 1.0,
    };
    for &(a, b, h) in &p.curvature {
        reduced[a.0] += against * h * x[b.0];
        if a != b {
            reduced[b.0] += against * h * x[a.0];
        }
    }
    for (i, r) in sc.rows.iter().enumerate() {
        for &(j, a) in r {
            reduced[j] -= duals[i] * a;
        }
    }
    let mut res = Residuals::default();
    let mut activity = Vec::with_capacity(p.rows.len());
    for (i, r) in p.rows.iter().enumerate() {
        let mut act = 0.0;
        let mut size = r.rhs.abs();
        for &(j, a) in &sc.rows[i] {
            act += a * x[j];
            // A row is as large as its terms at the solution or at their declared magnitudes: flows
            // below their scale floor are measured against the floor, not against themselves.
            size = size.max((a * x[j].abs().max(p.vars[j].scale)).abs());
        }
        activity.push(act);
        let solved = act + slack[i];
        let viol = match r.relation {
            Relation::Le => (solved - r.rhs).max(0.0),
            Relation::Ge => (r.rhs - solved).max(0.0),
            Relation::Eq => (solved - r.rhs).abs(),
        };
        let scaled = if size > 0.0 { viol / size } else { viol };
        res.max_abs_row = res.max_abs_row.max(viol);
        if scaled > res.max_scaled_row || (!scaled.is_finite()) {
            res.max_scaled_row = if scaled.is_finite() { scaled } else { f64::MAX };
            res.worst_row = Some(r.name.clone());
        }
        if r.soft.is_some() && opts.elastic {
            let v = match r.relation {
                Relation::Le => (act - r.rhs).max(0.0),
                Relation::Ge => (r.rhs - act).max(0.0),
                Relation::Eq => (act - r.rhs).abs(),
            };
            let rel = if size > 0.0 { v / size } else { v };
            if rel > opts.residual_tol {
                sol.penalty += r.soft.map_or(0.0, |s| s.penalty) * v;
                sol.soft_violations.push(SoftViolation {
                    row: RowId(i),
                    name: r.name.clone(),
                    kind: r.kind,
                    amount: v,
                    relative: rel,
                });
            }
        }
    }
    for (j, v) in p.vars.iter().enumerate() {
        let viol = (v.lower - x[j]).max(x[j] - v.upper).max(0.0);
        let bound = if x[j] < v.lower { v.lower } else { v.upper };
        let denom = if bound.is_finite() {
            bound.abs().max(v.scale)
        } else {
            v.scale
        };
        let scaled = viol / denom;
        res.max_abs_bound = res.max_abs_bound.max(viol);
        if scaled > res.max_scaled_bound {
            res.max_scaled_bound = scaled;
            res.worst_bound = Some(v.name.clone());
        }
    }
    let finite = x
        .iter()
        .chain(&duals)
        .chain(&reduced)
        .all(|v| v.is_finite());
    if !finite {
        sol.status = LpStatus::NumericalError;
        return Ok(sol);
    }
    sol.objective = p.objective_value(&x);
    sol.x = x;
    sol.activity = activity;
    sol.duals = duals;
    sol.reduced_costs = reduced;
    if sol.status.is_usable() && res.max_scaled() > opts.residual_tol {
        sol.status = LpStatus::Inaccurate;
    }
    sol.residuals = res;
    Ok(sol)
}

/// A soft row that takes part in an infeasibility.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Conflict {
    /// Row name.
    pub name: String,
    /// Row kind.
    pub kind: RowKind,
    /// How much the row must be relaxed (row units, >= 0); 0 for rows that bind without being violated.
    pub violation: f64,
    /// Violation relative to the row's size.
    pub relative: f64,
    /// Decrease of the minimum weighted violation per unit of relaxation of this row (|elastic dual|).
    pub weight: f64,
}

/// Result of an infeasibility diagnosis.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// Status of the phase-1 elastic problem (minimize weighted soft violation subject to the hard rows).
    pub status: LpStatus,
    /// True when the soft rows can all be met (the hard rows alone are consistent and the original
    /// infeasibility, if any, is not caused by soft rows).
    pub soft_feasible: bool,
    /// Minimum total weighted violation.
    pub total_violation: f64,
    /// Soft rows that must be relaxed (violation > 0) or that bind the conflict (nonzero elastic dual),
    /// largest violation first.
    pub conflicts: Vec<Conflict>,
}

/// Finds which soft rows cannot be met together: minimizes the penalty-weighted sum of soft-row
/// violations subject to the hard rows and bounds (an elastic phase 1). Violated soft rows are the
/// ones to relax; soft rows with a nonzero elastic dual bind the conflict.
pub fn diagnose(p: &LpProblem, opts: &LpOptions) -> Result<Diagnosis, OptError> {
    let mut q = p.clone();
    q.objective.clear();
    q.objective_constant = 0.0;
    q.direction = Direction::Minimize;
    let mut o = opts.clone();
    o.elastic = true;
    let sol = solve(&q, &o)?;
    if !sol.status.is_usable() {
        return Ok(Diagnosis {
            status: sol.status,
            soft_feasible: false,
            total_violation: 0.0,
            conflicts: Vec::new(),
        });
    }
    let max_penalty = p
        .rows
        .iter()
        .filter_map(|r| r.soft.map(|s| s.penalty))
        .fold(0.0_f64, f64::max);
    let mut conflicts: Vec<Conflict> = Vec::new();
    for (i, r) in p.rows.iter().enumerate() {
        if r.soft.is_none() {
            continue;
        }
        let v = sol
            .soft_violations
            .iter()
            .find(|s| s.row.0 == i)
            .map_or((0.0, 0.0), |s| (s.amount, s.relative));
        let w = sol.duals[i].abs();
        if v.0 > 0.0 || w > 1e-6 * max_penalty {
            conflicts.push(Conflict {
                name: r.name.clone(),
                kind: r.kind,
                violation: v.0,
                relative: v.1,
                weight: w,
            });
        }
    }
    conflicts.sort_by(|a, b| {
        b.violation
            .partial_cmp(&a.violation)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(
                b.weight
                    .partial_cmp(&a.weight)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then(a.name.cmp(&b.name))
    });
    let soft_feasible = sol.soft_violations.is_empty();
    Ok(Diagnosis {
        status: sol.status,
        soft_feasible,
        total_violation: sol.penalty,
        conflicts,
    })
}
