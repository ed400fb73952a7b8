//! Developer tool: one timed simulation of the benchmark circuit per model and size, with the
//! status and iterations (`cargo run --release -p sxplan-sim --example scaling -- MODEL N...`).
//! The criterion benchmark (`benches/simulate.rs`) gives the figures for BENCHMARKS.md.

#[allow(dead_code)]
#[path = "../benches/simulate.rs"]
mod bench;

use std::time::Instant;

use sxplan_sim::{simulate, SimOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        eprintln!("usage: scaling MODEL N...");
        return;
    };
    for n in args[1..].iter().filter_map(|a| a.parse::<usize>().ok()) {
        let fs = bench::bench_flowsheet(n, bench::model(name));
        let t0 = Instant::now();
        let r = simulate(&fs, &SimOptions::default());
        let dt = t0.elapsed().as_secs_f64();
        match r {
            Ok(r) => println!(
                "{name} {n}: {} in {:.4} s, chain its {}, stage residual {:.2e}, closure {:.2e}, pH {:.2}..{:.2}",
                r.status,
                dt,
                r.diagnostics.chain_iterations,
                r.diagnostics.max_stage_residual,
                r.mass_balance.max_relative_error,
                r.circuits[0].stages.iter().map(|s| s.ph).fold(f64::INFINITY, f64::min),
                r.circuits[0].stages.iter().map(|s| s.ph).fold(f64::NEG_INFINITY, f64::max),
            ),
            Err(e) => println!("{name} {n}: error {e}"),
        }
    }
}
