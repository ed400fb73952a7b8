//! A small, backend-neutral linear program: variables with bounds and scales, named rows, soft rows.
//!
//! [`LpProblem`] is plain data. [`solve`](crate::solve) scales it, hands it to a good_lp backend, reads
//! the backend's real status, recovers duals and reduced costs in user units and checks the primal
//! residual of every row and bound before the solution is returned.
//!
//! Conventions (all in the units the problem was written in):
//! - the dual of a row is the shadow price `d objective* / d rhs` (the objective including its direction:
//!   for a maximization a binding `<=` capacity row has a dual >= 0);
//! - the reduced cost of a variable is `c_j - sum_i dual_i a_ij`, i.e. `d objective* / d bound` of the
//!   bound the variable sits at (zero, up to solver tolerance, when it is strictly between its bounds).

use crate::error::OptError;

/// Index of a variable in an [`LpProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VarId(pub(crate) usize);

impl VarId {
    /// Position of the variable in [`LpProblem::vars`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// Index of a row (linear constraint) in an [`LpProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId(pub(crate) usize);

impl RowId {
    /// Position of the row in [`LpProblem::rows`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// Relation between a row's activity `sum a_j x_j` and its right-hand side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// `activity <= rhs`.
    Le,
    /// `activity >= rhs`.
    Ge,
    /// `activity == rhs`.
    Eq,
}

/// Optimization direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Minimize the objective.
    Minimize,
    /// Maximize the objective.
    Maximize,
}

/// What a row means to the planner; used to group and rank sensitivities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// Element (or phase-flow) balance at a node: always exact, never soft.
    Balance,
    /// Linearized equilibrium relation of a stage.
    Equilibrium,
    /// Product purity specification.
    Purity,
    /// Product recovery specification.
    Recovery,
    /// Hydraulic capacity of a stage or bank.
    Capacity,
    /// Organic loading limit.
    Loading,
    /// Reagent stoichiometry (definition of a reagent flow).
    Reagent,
    /// Feed availability.
    FeedAvailability,
    /// Trust region of a successive-LP pass.
    TrustRegion,
    /// Anything else (definitions, user rows in tests).
    Other,
}

/// One LP variable.
#[derive(Debug, Clone, PartialEq)]
pub struct LpVar {
    /// Name used in reports and error messages.
    pub name: String,
    /// Lower bound (may be `f64::NEG_INFINITY`).
    pub lower: f64,
    /// Upper bound (may be `f64::INFINITY`).
    pub upper: f64,
    /// Typical magnitude (> 0): the solver works with `x / scale`, so a variable whose natural values are
    /// 1e-9 and one whose values are 1e3 both look like O(1) to the backend.
    pub scale: f64,
}

/// Soft-row data: the row may be violated in elastic mode at `penalty` objective units per unit of violation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Soft {
    /// Objective units per unit of violation (row units), > 0.
    pub penalty: f64,
}

/// One linear constraint `sum a_j x_j (<=|>=|==) rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct LpRow {
    /// Name used in reports and diagnoses.
    pub name: String,
    /// What the row means.
    pub kind: RowKind,
    /// Coefficients; a variable may appear more than once (entries are summed).
    pub terms: Vec<(VarId, f64)>,
    /// Relation to the right-hand side.
    pub relation: Relation,
    /// Right-hand side.
    pub rhs: f64,
    /// `Some` when the row may be relaxed in elastic mode (specs, capacities).
    pub soft: Option<Soft>,
}

/// A linear program in user units.
#[derive(Debug, Clone, PartialEq)]
pub struct LpProblem {
    /// Variables, indexed by [`VarId`].
    pub vars: Vec<LpVar>,
    /// Rows, indexed by [`RowId`].
    pub rows: Vec<LpRow>,
    /// Objective coefficients (summed when a variable appears twice).
    pub objective: Vec<(VarId, f64)>,
    /// Constant added to the objective.
    pub objective_constant: f64,
    /// Minimize or maximize.
    pub direction: Direction,
    /// Curvature against the objective: a symmetric positive semidefinite matrix `H`, given by
    /// its upper triangle as `(i, j, H_ij)` with `i <= j` (by position), so that the problem
    /// maximizes `c x - x'Hx / 2` or minimizes `c x + x'Hx / 2`. Empty for a linear program.
    /// Only the clarabel backend solves problems with curvature.
    pub curvature: Vec<(VarId, VarId, f64)>,
}

impl LpProblem {
    /// An empty problem.
    pub fn new(direction: Direction) -> Self {
        LpProblem {
            vars: Vec::new(),
            rows: Vec::new(),
            objective: Vec::new(),
            objective_constant: 0.0,
            direction,
            curvature: Vec::new(),
        }
    }

    /// Adds a variable with bounds and scale 1.
    pub fn add_var(&mut self, name: impl Into<String>, lower: f64, upper: f64) -> VarId {
        self.vars.push(LpVar {
            name: name.into(),
            lower,
            upper,
            scale: 1.0,
        });
        VarId(self.vars.len() - 1)
    }

    /// Adds a variable with bounds and a typical magnitude (see [`LpVar::scale`]).
    pub fn add_scaled_var(
        &mut self,
        name: impl Into<String>,
        lower: f64,
        upper: f64,
        scale: f64,
    ) -> VarId {
        let v = self.add_var(name, lower, upper);
        self.vars[v.0].scale = scale;
        v
    }

    /// Adds a hard row.
    pub fn add_row(
        &mut self,
        name: impl Into<String>,
        kind: RowKind,
        terms: Vec<(VarId, f64)>,
        relation: Relation,
        rhs: f64,
    ) -> RowId {
        self.rows.push(LpRow {
            name: name.into(),
            kind,
            terms,
            relation,
            rhs,
            soft: None,
        });
        RowId(self.rows.len() - 1)
    }

    /// Marks a row as soft with a violation penalty (objective units per row unit).
    pub fn soften(&mut self, row: RowId, penalty: f64) {
        if let Some(r) = self.rows.get_mut(row.0) {
            r.soft = Some(Soft { penalty });
        }
    }

    /// Adds `coef * var` to the objective.
    pub fn add_objective(&mut self, var: VarId, coef: f64) {
        self.objective.push((var, coef));
    }

    /// Number of structural nonzeros (before merging duplicate entries).
    pub fn n_nonzeros(&self) -> usize {
        self.rows.iter().map(|r| r.terms.len()).sum()
    }

    /// Value of the objective (with its constant) at `x`.
    pub fn objective_value(&self, x: &[f64]) -> f64 {
        self.objective_constant
            + self
                .objective
                .iter()
                .map(|&(v, c)| c * x.get(v.0).copied().unwrap_or(0.0))
                .sum::<f64>()
    }

    /// Activity `sum a_j x_j` of a row at `x`.
    pub fn activity(&self, row: RowId, x: &[f64]) -> f64 {
        self.rows.get(row.0).map_or(0.0, |r| {
            r.terms
                .iter()
                .map(|&(v, a)| a * x.get(v.0).copied().unwrap_or(0.0))
                .sum()
        })
    }

    /// Checks ids, finiteness and bound order; the first problem found is returned.
    pub fn validate(&self) -> Result<(), OptError> {
        let n = self.vars.len();
        for v in &self.vars {
            let bad = |m: &str| OptError::InvalidLp {
                what: format!("variable \"{}\"", v.name),
                message: m.to_string(),
            };
            if v.lower.is_nan() || v.upper.is_nan() {
                return Err(bad("bound is NaN"));
            }
            if v.lower > v.upper {
                return Err(bad(&format!(
                    "lower bound {} is above upper bound {}",
                    v.lower, v.upper
                )));
            }
            if v.lower == f64::INFINITY || v.upper == f64::NEG_INFINITY {
                return Err(bad("bounds leave no finite value"));
            }
            if !(v.scale.is_finite() && v.scale > 0.0) {
                return Err(bad(&format!("scale {} is not a positive number", v.scale)));
            }
        }
        for r in &self.rows {
            let bad = |m: String| OptError::InvalidLp {
                what: format!("row \"{}\"", r.name),
                message: m,
            };
            if !r.rhs.is_finite() {
                return Err(bad(format!("right-hand side {} is not finite", r.rhs)));
            }
            for &(v, a) in &r.terms {
                if v.0 >= n {
                    return Err(bad(format!("refers to variable #{} of {n}", v.0)));
                }
                if !a.is_finite() {
                    return Err(bad(format!(
                        "coefficient of \"{}\" is {a}",
                        self.vars[v.0].name
                    )));
                }
            }
            if let Some(s) = r.soft {
                if !(s.penalty.is_finite() && s.penalty > 0.0) {
                    return Err(bad(format!(
                        "soft penalty {} is not a positive number",
                        s.penalty
                    )));
                }
            }
        }
        for &(v, c) in &self.objective {
            if v.0 >= n {
                return Err(OptError::InvalidLp {
                    what: "objective".into(),
                    message: format!("refers to variable #{} of {n}", v.0),
                });
            }
            if !c.is_finite() {
                return Err(OptError::InvalidLp {
                    what: "objective".into(),
                    message: format!("coefficient of \"{}\" is {c}", self.vars[v.0].name),
                });
            }
        }
        if !self.objective_constant.is_finite() {
            return Err(OptError::InvalidLp {
                what: "objective".into(),
                message: format!("constant {} is not finite", self.objective_constant),
            });
        }
        for &(a, b, h) in &self.curvature {
            if a.0 >= n || b.0 >= n || a.0 > b.0 || !h.is_finite() {
                return Err(OptError::InvalidLp {
                    what: "curvature".into(),
                    message: format!(
                        "entry ({}, {}) = {h} is not an upper-triangle entry of a finite matrix over {n} variables",
                        a.0, b.0
                    ),
                });
            }
            if a == b && h < 0.0 {
                return Err(OptError::InvalidLp {
                    what: "curvature".into(),
                    message: format!(
                        "diagonal entry of \"{}\" is {h}: the curvature must be positive semidefinite",
                        self.vars[a.0].name
                    ),
                });
            }
        }
        Ok(())
    }

    /// Adds `h` to the curvature entry of `(a, b)` (see [`LpProblem::curvature`]; the pair is
    /// ordered by position, so `(a, b)` and `(b, a)` name the same entry).
    pub fn add_curvature(&mut self, a: VarId, b: VarId, h: f64) {
        let (a, b) = if a.0 <= b.0 { (a, b) } else { (b, a) };
        self.curvature.push((a, b, h));
    }

    /// `x'Hx / 2` of the curvature at `x`.
    pub fn curvature_value(&self, x: &[f64]) -> f64 {
        let at = |v: VarId| x.get(v.0).copied().unwrap_or(0.0);
        self.curvature
            .iter()
            .map(|&(a, b, h)| {
                if a == b {
                    0.5 * h * at(a) * at(a)
                } else {
                    h * at(a) * at(b)
                }
            })
            .sum()
    }
}
