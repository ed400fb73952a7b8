//! Criterion benchmarks of the optimizer on synthetic 15-element cascades of 100, 500 and 1,000
//! stages: one LP pass (build + solve) and a full successive-LP optimization of the
//! distribution-model cascade; for the separation-factor cascade (3 free variables) the
//! sensitivities of one pass (the simulator's implicit-function-theorem derivatives) and a full
//! optimization; the four-cut separation-factor train (12 free variables) and the saponified
//! mass-action cut (3 free).

use criterion::{criterion_group, criterion_main, Criterion};
use sxplan_opt::cascade::{build, responses, LpObjective};
use sxplan_opt::plant::Plant;
use sxplan_opt::{economics, optimize, solve, LpOptions, OptimizeOptions};

mod synthetic;

fn flowsheet(n: usize) -> sxplan_model::Flowsheet {
    let src = synthetic::cascade_toml(n, 15, 0.99);
    sxplan_model::check_str(&src)
        .flowsheet
        .expect("synthetic flowsheet checks clean")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("optimize");
    g.sample_size(10);
    for n in [100, 500, 1000] {
        let fs = flowsheet(n);
        let plant = Plant::new(&fs).expect("plant");
        let point = plant.base_point().expect("point");
        let sim = plant.simulate(&point).expect("sim");
        let econ = economics(&fs, sxplan_model::Objective::MaxThroughput)
            .expect("econ")
            .0;
        let clp = build(
            &plant,
            &point,
            &sim,
            &[500.0],
            LpObjective::Throughput,
            &econ,
            1000.0,
        )
        .expect("lp");
        let lp_opts = LpOptions {
            elastic: true,
            ..LpOptions::default()
        };
        eprintln!(
            "{n} stages: LP {} columns, {} rows, {} nonzeros",
            clp.lp.vars.len(),
            clp.lp.rows.len(),
            clp.lp.n_nonzeros()
        );
        g.bench_function(format!("lp_pass_solve_{n}_stages"), |b| {
            b.iter(|| solve(&clp.lp, &lp_opts).expect("solve"))
        });
        g.bench_function(format!("lp_pass_build_{n}_stages"), |b| {
            b.iter(|| {
                build(
                    &plant,
                    &point,
                    &sim,
                    &[500.0],
                    LpObjective::Throughput,
                    &econ,
                    1000.0,
                )
                .expect("lp")
            })
        });
        g.bench_function(format!("optimize_{n}_stages"), |b| {
            b.iter(|| optimize(&fs, &OptimizeOptions::default()).expect("optimize"))
        });
    }
    for n in [100, 500, 1000, 2000] {
        let src = synthetic::sf_cascade_toml(n, 0.99);
        let fs = sxplan_model::check_str(&src)
            .flowsheet
            .expect("synthetic flowsheet checks clean");
        let plant = Plant::new(&fs).expect("plant");
        let point = plant.base_point().expect("point");
        let sim = plant.simulate(&point).expect("sim");
        g.bench_function(format!("sf_sensitivities_{n}_stages_3_free"), |b| {
            b.iter(|| responses(&plant, &point, &sim).expect("sensitivities"))
        });
        g.bench_function(format!("sf_optimize_{n}_stages_3_free"), |b| {
            b.iter(|| optimize(&fs, &OptimizeOptions::default()).expect("optimize"))
        });
    }
    // the four-cut separation-factor train, 12 free variables (`optimal` at 100 to 400 stages a
    // circuit since the curvature term and the merit's multiplier penalty, the 500-stage one
    // at its 60 s budget: BENCHMARKS.md, "Curvature and the merit's penalty"; 100 stages a
    // circuit only here)
    whole_run(
        &mut g,
        "sf_train_optimize_100_stages_12_free",
        &synthetic::sf_train_toml(100, 0.95),
    );
    for n in [100, 500, 1000, 2000] {
        // the saponified P507 mass-action cut (saponification, organic flow and scrub acid free)
        let name = format!("ma_optimize_{n}_stages_3_free");
        whole_run(&mut g, &name, &synthetic::ma_cascade_toml(n));
        // two mass-action cuts in series, 12 free variables (flows, saponifications and acid
        // strengths of both cuts and the feed rate)
        let name = format!("ma_train_optimize_{n}_stages_12_free");
        whole_run(&mut g, &name, &synthetic::ma_train_toml(n));
    }
    g.finish();
}

/// One whole optimization of the flowsheet `src` as the bench `name`.
fn whole_run(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    src: &str,
) {
    let fs = sxplan_model::check_str(src)
        .flowsheet
        .expect("synthetic flowsheet checks clean");
    g.bench_function(name, |b| {
        b.iter(|| optimize(&fs, &OptimizeOptions::default()).expect("optimize"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
