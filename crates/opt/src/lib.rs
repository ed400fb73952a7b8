//! sxplan-opt: the linear-programming core of sxplan (good_lp backends, successive LP, sensitivity).
//!
//! Layers, bottom up:
//! - [`LpProblem`] / [`solve`]: a backend-neutral LP with scaling, real solver statuses, duals,
//!   reduced costs, residual checks, elastic mode and [`diagnose`] for infeasibility;
//!
//! ```
//! use sxplan_opt::{Direction, LpOptions, LpProblem, Relation, RowKind, solve};
//! // max 3x + 2y  s.t.  x + y <= 4,  x + 3y <= 7,  x <= 3
//! let mut p = LpProblem::new(Direction::Maximize);
//! let x = p.add_var("x", 0.0, 3.0);
//! let y = p.add_var("y", 0.0, f64::INFINITY);
//! let cap = p.add_row("cap", RowKind::Capacity, vec![(x, 1.0), (y, 1.0)], Relation::Le, 4.0);
//! p.add_row("other", RowKind::Other, vec![(x, 1.0), (y, 3.0)], Relation::Le, 7.0);
//! p.add_objective(x, 3.0);
//! p.add_objective(y, 2.0);
//! let sol = solve(&p, &LpOptions::default()).unwrap();
//! assert!(sol.status.is_usable());
//! assert!((sol.objective - 11.0).abs() < 1e-6);
//! assert!((sol.dual(cap) - 2.0).abs() < 1e-6); // one more unit of capacity is worth 2
//! ```

mod curvature;
mod error;
mod lp;
mod solve;

pub use error::OptError;
pub use lp::{Direction, LpProblem, LpRow, LpVar, Relation, RowId, RowKind, Soft, VarId};
pub use solve::{
    diagnose, solve, Backend, Conflict, Diagnosis, LpOptions, LpSolution, LpStatus, Residuals,
    Scaling, SoftViolation,
};
pub mod cascade;
pub mod plant;
mod slp;
pub use slp::{
    check_specs, economics, optimize, reagent_flows, Confirmation, ConflictReport, OperatingValue,
    OptStatus, OptimizeOptions, OptimizeResult, Pass, PassOutcome, ProductResult, ShadowPrice,
    SpecCheck, DEFAULT_MAX_PASSES,
};
