//! Tests of the LP layer: known optima, degenerate, infeasible and unbounded problems, duals against
//! finite differences, elastic mode and diagnosis, scaling, and agreement of every enabled backend.

use sxplan_opt::{
    diagnose, solve, Backend, Direction, LpOptions, LpProblem, LpStatus, OptError, Relation, RowId,
    RowKind, Scaling,
};

fn opts(backend: Backend) -> LpOptions {
    LpOptions {
        backend,
        ..LpOptions::default()
    }
}

/// max 3x + 2y s.t. x + y <= 4, x + 3y <= 7, 0 <= x <= 3, y >= 0. Optimum (3, 1), objective 11.
fn two_var() -> (LpProblem, RowId, RowId) {
    let mut p = LpProblem::new(Direction::Maximize);
    let x = p.add_var("x", 0.0, 3.0);
    let y = p.add_var("y", 0.0, f64::INFINITY);
    let cap = p.add_row(
        "cap",
        RowKind::Capacity,
        vec![(x, 1.0), (y, 1.0)],
        Relation::Le,
        4.0,
    );
    let other = p.add_row(
        "other",
        RowKind::Other,
        vec![(x, 1.0), (y, 3.0)],
        Relation::Le,
        7.0,
    );
    p.add_objective(x, 3.0);
    p.add_objective(y, 2.0);
    (p, cap, other)
}

/// A diet-style minimization with >= and == rows:
/// min 2a + 3b + 4c s.t. a + b + c == 10, a + 2b >= 8, b + 3c >= 9, a <= 6, all >= 0.
/// Optimum by hand: a = 6 (bound), then b + c = 4, 2b >= 2, b + 3c >= 9 -> c >= 2.5, cost 2*6 + 3b + 4c
/// with b = 4 - c: 12 + 12 + c -> c = 2.5, b = 1.5: objective 12 + 4.5 + 10 = 26.5.
fn diet() -> (LpProblem, Vec<RowId>) {
    let mut p = LpProblem::new(Direction::Minimize);
    let a = p.add_var("a", 0.0, 6.0);
    let b = p.add_var("b", 0.0, f64::INFINITY);
    let c = p.add_var("c", 0.0, f64::INFINITY);
    let r1 = p.add_row(
        "total",
        RowKind::Balance,
        vec![(a, 1.0), (b, 1.0), (c, 1.0)],
        Relation::Eq,
        10.0,
    );
    let r2 = p.add_row(
        "need1",
        RowKind::Other,
        vec![(a, 1.0), (b, 2.0)],
        Relation::Ge,
        8.0,
    );
    let r3 = p.add_row(
        "need2",
        RowKind::Other,
        vec![(b, 1.0), (c, 3.0)],
        Relation::Ge,
        9.0,
    );
    p.add_objective(a, 2.0);
    p.add_objective(b, 3.0);
    p.add_objective(c, 4.0);
    (p, vec![r1, r2, r3])
}

#[test]
fn known_optimum_with_duals_and_reduced_costs() {
    for backend in Backend::enabled() {
        let (p, cap, other) = two_var();
        let s = solve(&p, &opts(backend)).unwrap();
        assert_eq!(s.status, LpStatus::Optimal, "{backend:?}");
        assert!((s.objective - 11.0).abs() < 1e-7, "{}", s.objective);
        assert!((s.x[0] - 3.0).abs() < 1e-6 && (s.x[1] - 1.0).abs() < 1e-6);
        assert!((s.dual(cap) - 2.0).abs() < 1e-6, "dual cap {}", s.dual(cap));
        assert!(s.dual(other).abs() < 1e-6);
        // x sits at its upper bound 3: one more unit of that bound is worth 3 - 2 = 1.
        assert!((s.reduced_costs[0] - 1.0).abs() < 1e-6);
        assert!(s.reduced_costs[1].abs() < 1e-6);
        assert!(s.residuals.max_scaled() < 1e-8);
    }
}

#[test]
fn minimization_with_equalities_and_duals_match_finite_differences() {
    for backend in Backend::enabled() {
        let (p, rows) = diet();
        let s = solve(&p, &opts(backend)).unwrap();
        assert!(s.status.is_usable());
        assert!((s.objective - 26.5).abs() < 1e-6, "{}", s.objective);
        for &r in &rows {
            let h = 1e-3;
            let mut q = p.clone();
            q.rows[r.index()].rhs += h;
            let up = solve(&q, &opts(backend)).unwrap();
            let mut q = p.clone();
            q.rows[r.index()].rhs -= h;
            let dn = solve(&q, &opts(backend)).unwrap();
            let fd = (up.objective - dn.objective) / (2.0 * h);
            assert!(
                (fd - s.dual(r)).abs() < 1e-4 * (1.0 + fd.abs()),
                "row {} dual {} fd {}",
                p.rows[r.index()].name,
                s.dual(r),
                fd
            );
        }
        // a = 6 at its upper bound: the reduced cost is d objective / d upper(a), also by differences.
        let h = 1e-3;
        let mut q = p.clone();
        q.vars[0].upper += h;
        let up = solve(&q, &opts(backend)).unwrap();
        let fd = (up.objective - s.objective) / h;
        assert!(
            (fd - s.reduced_costs[0]).abs() < 1e-4,
            "{fd} {}",
            s.reduced_costs[0]
        );
    }
}

#[test]
fn degenerate_vertex_is_solved() {
    // max x + y s.t. x + y <= 2, x <= 1, y <= 1, x + 2y <= 3: four constraints meet at (1, 1).
    for backend in Backend::enabled() {
        let mut p = LpProblem::new(Direction::Maximize);
        let x = p.add_var("x", 0.0, f64::INFINITY);
        let y = p.add_var("y", 0.0, f64::INFINITY);
        p.add_row(
            "s",
            RowKind::Other,
            vec![(x, 1.0), (y, 1.0)],
            Relation::Le,
            2.0,
        );
        p.add_row("bx", RowKind::Other, vec![(x, 1.0)], Relation::Le, 1.0);
        p.add_row("by", RowKind::Other, vec![(y, 1.0)], Relation::Le, 1.0);
        p.add_row(
            "t",
            RowKind::Other,
            vec![(x, 1.0), (y, 2.0)],
            Relation::Le,
            3.0,
        );
        p.add_objective(x, 1.0);
        p.add_objective(y, 1.0);
        let s = solve(&p, &opts(backend)).unwrap();
        assert!(s.status.is_usable());
        assert!((s.objective - 2.0).abs() < 1e-7);
        assert!(s.residuals.max_scaled() < 1e-8);
    }
}

#[test]
fn infeasible_and_unbounded_are_statuses() {
    for backend in Backend::enabled() {
        let mut p = LpProblem::new(Direction::Maximize);
        let x = p.add_var("x", 0.0, f64::INFINITY);
        let y = p.add_var("y", 0.0, f64::INFINITY);
        p.add_row(
            "lo",
            RowKind::Purity,
            vec![(x, 1.0), (y, 1.0)],
            Relation::Ge,
            5.0,
        );
        p.add_row(
            "hi",
            RowKind::Capacity,
            vec![(x, 1.0), (y, 1.0)],
            Relation::Le,
            3.0,
        );
        p.add_objective(x, 1.0);
        let s = solve(&p, &opts(backend)).unwrap();
        assert_eq!(s.status, LpStatus::Infeasible, "{backend:?}");
        assert!(s.x.is_empty());

        let mut u = LpProblem::new(Direction::Maximize);
        let x = u.add_var("x", 0.0, f64::INFINITY);
        let y = u.add_var("y", 0.0, f64::INFINITY);
        u.add_row(
            "r",
            RowKind::Other,
            vec![(x, 1.0), (y, -1.0)],
            Relation::Le,
            1.0,
        );
        u.add_objective(x, 1.0);
        let s = solve(&u, &opts(backend)).unwrap();
        assert_eq!(s.status, LpStatus::Unbounded, "{backend:?}");
    }
}

#[test]
fn diagnosis_names_the_conflicting_soft_rows_and_amounts() {
    // Purity needs x + y >= 5, capacity allows x + y <= 3, an unrelated soft row is satisfiable.
    let mut p = LpProblem::new(Direction::Maximize);
    let x = p.add_var("x", 0.0, f64::INFINITY);
    let y = p.add_var("y", 0.0, f64::INFINITY);
    let lo = p.add_row(
        "purity Dy",
        RowKind::Purity,
        vec![(x, 1.0), (y, 1.0)],
        Relation::Ge,
        5.0,
    );
    let hi = p.add_row(
        "capacity PrNd",
        RowKind::Capacity,
        vec![(x, 1.0), (y, 1.0)],
        Relation::Le,
        3.0,
    );
    let free = p.add_row(
        "loading",
        RowKind::Loading,
        vec![(x, 1.0)],
        Relation::Le,
        100.0,
    );
    p.soften(lo, 1.0);
    p.soften(hi, 10.0);
    p.soften(free, 1.0);
    p.add_objective(x, 1.0);
    for backend in Backend::enabled() {
        let d = diagnose(&p, &opts(backend)).unwrap();
        assert!(d.status.is_usable());
        assert!(!d.soft_feasible);
        // The cheaper row to relax is the purity (penalty 1 vs 10): it gives up 2 units.
        let names: Vec<&str> = d.conflicts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["purity Dy", "capacity PrNd"], "{:?}", d.conflicts);
        assert!((d.conflicts[0].violation - 2.0).abs() < 1e-6);
        assert!(d.conflicts[1].violation < 1e-6 && d.conflicts[1].weight > 0.5);
        assert!((d.total_violation - 2.0).abs() < 1e-6);
    }
}

#[test]
fn elastic_mode_trades_violation_against_objective() {
    // max 10 x s.t. x <= 1 (soft, penalty 4 per unit), x <= 5 hard: violating pays 10 - 4 per unit.
    let mut p = LpProblem::new(Direction::Maximize);
    let x = p.add_var("x", 0.0, 5.0);
    let r = p.add_row(
        "capacity",
        RowKind::Capacity,
        vec![(x, 1.0)],
        Relation::Le,
        1.0,
    );
    p.soften(r, 4.0);
    p.add_objective(x, 10.0);
    for backend in Backend::enabled() {
        let mut o = opts(backend);
        o.elastic = true;
        let s = solve(&p, &o).unwrap();
        assert!(s.status.is_usable());
        assert!((s.x[0] - 5.0).abs() < 1e-6);
        assert_eq!(s.soft_violations.len(), 1);
        assert!((s.soft_violations[0].amount - 4.0).abs() < 1e-6);
        assert!((s.penalty - 16.0).abs() < 1e-5);
        // Hard mode respects the row.
        let s = solve(&p, &opts(backend)).unwrap();
        assert!((s.x[0] - 1.0).abs() < 1e-6);
    }
}

/// A chain of balances whose flows decay geometrically, as a minor element along a long cascade does:
/// x_{k+1} = r x_k, x_0 = 1, maximize the flow of a product x_n limited by a capacity on x_0 <= 1.
fn decaying_chain(n: usize, r: f64) -> LpProblem {
    let mut p = LpProblem::new(Direction::Maximize);
    let xs: Vec<_> = (0..=n)
        .map(|k| p.add_scaled_var(format!("x{k}"), 0.0, f64::INFINITY, r.powi(k as i32)))
        .collect();
    p.add_row(
        "cap",
        RowKind::Capacity,
        vec![(xs[0], 1.0)],
        Relation::Le,
        1.0,
    );
    for k in 0..n {
        p.add_row(
            format!("bal{k}"),
            RowKind::Balance,
            vec![(xs[k + 1], 1.0), (xs[k], -r)],
            Relation::Eq,
            0.0,
        );
    }
    p.add_objective(xs[n], 1.0);
    p
}

#[test]
fn scaling_keeps_tiny_flows_accurate() {
    // 60 stages at r = 0.2: the last flow is 1.15e-42. Without column scales the solver sees the
    // tail as zeros; with them every flow is relative to its own magnitude.
    let n = 60;
    let r: f64 = 0.2;
    let p = decaying_chain(n, r);
    for backend in Backend::enabled() {
        let s = solve(&p, &opts(backend)).unwrap();
        assert!(s.status.is_usable(), "{:?}", s.status);
        let want = r.powi(n as i32);
        assert!(
            ((s.objective - want) / want).abs() < 1e-6,
            "{} vs {want}",
            s.objective
        );
        let mut o = opts(backend);
        o.scaling = Scaling::Columns;
        let s = solve(&p, &o).unwrap();
        assert!(((s.objective - want) / want).abs() < 1e-6);
    }
}

#[test]
fn every_enabled_backend_agrees() {
    let problems: Vec<LpProblem> = vec![
        two_var().0,
        diet().0,
        decaying_chain(30, 0.5),
        decaying_chain(10, 3.0),
    ];
    let backends = Backend::enabled();
    assert!(!backends.is_empty());
    #[cfg(all(feature = "clarabel", feature = "highs"))]
    assert_eq!(backends, vec![Backend::Clarabel, Backend::Highs]);
    for p in &problems {
        let objs: Vec<f64> = backends
            .iter()
            .map(|&b| {
                let s = solve(p, &opts(b)).unwrap();
                assert!(s.status.is_usable(), "{b:?} {:?}", s.status);
                s.objective
            })
            .collect();
        for o in &objs {
            assert!(
                (o - objs[0]).abs() <= 1e-7 * (1.0 + objs[0].abs()),
                "{objs:?}"
            );
        }
    }
}

#[test]
fn ill_formed_problems_are_errors_naming_the_culprit() {
    let mut p = LpProblem::new(Direction::Minimize);
    let x = p.add_var("flow_vol_org", 2.0, 1.0);
    p.add_objective(x, 1.0);
    let e = solve(&p, &LpOptions::default()).unwrap_err();
    assert!(matches!(e, OptError::InvalidLp { .. }));
    assert_eq!(
        e.to_string(),
        "lp variable \"flow_vol_org\": lower bound 2 is above upper bound 1"
    );
    let mut p = LpProblem::new(Direction::Minimize);
    let x = p.add_var("x", 0.0, 1.0);
    p.add_row(
        "bal",
        RowKind::Balance,
        vec![(x, f64::NAN)],
        Relation::Eq,
        0.0,
    );
    let e = solve(&p, &LpOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "lp row \"bal\": coefficient of \"x\" is NaN");
}

/// The step subproblem with curvature (solved by clarabel directly): max x + y - (x² + y²)/2
/// with x + y <= 1.5 has its optimum at x = y = 0.75 inside the bounds, where the row's shadow
/// price is the gradient left over, 1 - 0.75 = 0.25; with the row at 3 the curvature alone stops
/// the step at (1, 1). A finite difference of the optimum confirms the dual.
#[cfg(feature = "clarabel")]
#[test]
fn curvature_gives_an_interior_optimum_and_its_duals() {
    let build = |cap: f64, direction: Direction| {
        let mut p = LpProblem::new(direction);
        let x = p.add_var("x", 0.0, 10.0);
        let y = p.add_var("y", 0.0, 10.0);
        let r = p.add_row(
            "cap",
            RowKind::Capacity,
            vec![(x, 1.0), (y, 1.0)],
            Relation::Le,
            cap,
        );
        let s = if direction == Direction::Maximize {
            1.0
        } else {
            -1.0
        };
        p.add_objective(x, s);
        p.add_objective(y, s);
        p.add_curvature(x, x, 1.0);
        p.add_curvature(y, y, 1.0);
        (p, x, y, r)
    };
    let o = opts(Backend::Clarabel);
    for direction in [Direction::Maximize, Direction::Minimize] {
        let (p, x, y, r) = build(1.5, direction);
        let sol = solve(&p, &o).unwrap();
        assert_eq!(sol.status, LpStatus::Optimal, "{direction:?}");
        assert!((sol.value(x) - 0.75).abs() < 1e-8, "{}", sol.value(x));
        assert!((sol.value(y) - 0.75).abs() < 1e-8, "{}", sol.value(y));
        let full = |s: &sxplan_opt::LpSolution, p: &LpProblem| {
            let sign = if direction == Direction::Maximize {
                -1.0
            } else {
                1.0
            };
            s.objective + sign * p.curvature_value(&s.x)
        };
        let h = 1e-4;
        let (pp, ..) = build(1.5 + h, direction);
        let up = solve(&pp, &o).unwrap();
        let fd = (full(&up, &pp) - full(&sol, &p)) / h;
        let want = if direction == Direction::Maximize {
            0.25
        } else {
            -0.25
        };
        assert!(
            (sol.dual(r) - want).abs() < 1e-7,
            "{direction:?} dual {}",
            sol.dual(r)
        );
        assert!(
            (fd - want).abs() < 1e-3,
            "{direction:?} finite difference {fd}"
        );
        // Stationarity with curvature: every column strictly between its bounds has a reduced
        // cost of zero.
        assert!(sol.reduced_cost(x).abs() < 1e-7, "{}", sol.reduced_cost(x));
        let (loose, x, ..) = build(3.0, direction);
        let sol = solve(&loose, &o).unwrap();
        assert!((sol.value(x) - 1.0).abs() < 1e-8, "{}", sol.value(x));
    }
}

/// A backend that solves no quadratic subproblem says so instead of dropping the curvature.
#[cfg(feature = "highs")]
#[test]
fn highs_refuses_curvature() {
    let mut p = LpProblem::new(Direction::Maximize);
    let x = p.add_var("x", 0.0, 3.0);
    p.add_objective(x, 1.0);
    p.add_curvature(x, x, 1.0);
    assert!(matches!(
        solve(&p, &opts(Backend::Highs)),
        Err(OptError::Backend { .. })
    ));
}
