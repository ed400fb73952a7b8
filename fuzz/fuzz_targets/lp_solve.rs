//! Fuzz target: LP building and solving through `sxplan_opt` (validate, solve, diagnose) on LPs
//! generated from the fuzzer input; never a panic, and a usable solution satisfies its rows.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sxplan_opt::{diagnose, solve, Direction, LpOptions, LpProblem, Relation, RowKind, Scaling};

#[derive(Arbitrary, Debug)]
struct GenLp {
    maximize: bool,
    vars: Vec<(i8, Option<i8>, i8)>,
    rows: Vec<(Vec<(u8, i16)>, u8, i16, u8)>,
    objective: Vec<(u8, i16)>,
    scaling: u8,
    raw: Option<(u8, u8, f64)>,
}

fn coef(c: i16, e: i8) -> f64 {
    // Coefficients spread over many decades, as in cascade LPs.
    f64::from(c) / 64.0 * 10f64.powi(i32::from(e % 13))
}

fuzz_target!(|g: GenLp| {
    let mut p = LpProblem::new(if g.maximize {
        Direction::Maximize
    } else {
        Direction::Minimize
    });
    let vars: Vec<_> = g
        .vars
        .iter()
        .take(40)
        .enumerate()
        .map(|(i, (lo, hi, sc))| {
            let lower = f64::from(*lo) / 8.0;
            let upper = hi.map_or(f64::INFINITY, |h| f64::from(h) / 8.0);
            let v = p.add_var(format!("x{i}"), lower, upper);
            if *sc != 0 {
                p.vars[v.index()].scale = 10f64.powi(i32::from(*sc % 7));
            }
            v
        })
        .collect();
    if vars.is_empty() {
        return;
    }
    for (k, (terms, rel, rhs, e)) in g.rows.iter().take(40).enumerate() {
        let terms: Vec<_> = terms
            .iter()
            .take(40)
            .map(|(i, c)| (vars[usize::from(*i) % vars.len()], coef(*c, *e as i8)))
            .collect();
        let relation = match rel % 3 {
            0 => Relation::Le,
            1 => Relation::Ge,
            _ => Relation::Eq,
        };
        let row = p.add_row(
            format!("r{k}"),
            RowKind::Other,
            terms,
            relation,
            f64::from(*rhs) / 16.0,
        );
        if rel & 0x80 != 0 {
            p.soften(row, 1.0 + f64::from(rel & 0x7f));
        }
    }
    for (i, c) in g.objective.iter().take(40) {
        p.add_objective(vars[usize::from(*i) % vars.len()], f64::from(*c) / 32.0);
    }
    // Occasionally an arbitrary (possibly non-finite) raw coefficient: must be refused, not solved.
    if let Some((r, v, x)) = g.raw {
        if !p.rows.is_empty() {
            let n = p.rows.len();
            let var = vars[usize::from(v) % vars.len()];
            p.rows[usize::from(r) % n].terms.push((var, x));
        }
    }
    let opts = LpOptions {
        scaling: match g.scaling % 3 {
            0 => Scaling::None,
            1 => Scaling::Columns,
            _ => Scaling::Geometric,
        },
        elastic: g.scaling & 0x80 != 0,
        ..LpOptions::default()
    };
    let valid = p.validate().is_ok();
    match solve(&p, &opts) {
        Ok(sol) => {
            assert!(valid, "an invalid LP was solved");
            if sol.status.is_usable() {
                assert!(
                    sol.objective.is_finite(),
                    "usable solution with objective {}",
                    sol.objective
                );
                assert_eq!(sol.x.len(), p.vars.len());
                for r in &p.rows {
                    if r.soft.is_some() && opts.elastic {
                        continue;
                    }
                    let act: f64 = r.terms.iter().map(|&(v, a)| a * sol.x[v.index()]).sum();
                    let size = r
                        .terms
                        .iter()
                        .map(|&(v, a)| (a * sol.x[v.index()]).abs())
                        .fold(r.rhs.abs().max(1.0), f64::max);
                    let viol = match r.relation {
                        Relation::Le => act - r.rhs,
                        Relation::Ge => r.rhs - act,
                        Relation::Eq => (act - r.rhs).abs(),
                    };
                    assert!(
                        viol <= 1e-4 * size,
                        "row {} violated by {viol} (size {size}), status {:?}",
                        r.name,
                        sol.status
                    );
                }
            }
            if sol.status == sxplan_opt::LpStatus::Infeasible {
                let _ = diagnose(&p, &opts);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
