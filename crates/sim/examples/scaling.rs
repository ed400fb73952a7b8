//! Developer tool: one timed simulation of the benchmark circuit per model and size, with the
//! status and iterations (`cargo run --release -p sxplan-sim --example scaling -- MODEL N...`).
//! `mass_action_concentrated` is the concentrated, saponified circuit of the benchmark.
//! `--compare` also simulates with the independent substitution algorithm and prints the
//! largest relative difference of any stream's element flow between the two.
//! The criterion benchmark (`benches/simulate.rs`) gives the figures for BENCHMARKS.md.

#[allow(dead_code)]
#[path = "../benches/simulate.rs"]
mod bench;

use std::time::Instant;

use bench::common::stream_flow_difference;
use sxplan_sim::{simulate, Algorithm, SimOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let compare = args.iter().any(|a| a == "--compare");
    let Some(name) = args.first() else {
        eprintln!("usage: scaling MODEL N... [--compare]");
        return;
    };
    for n in args[1..].iter().filter_map(|a| a.parse::<usize>().ok()) {
        let fs = if name == "mass_action_concentrated" {
            bench::bench_concentrated(n)
        } else {
            bench::bench_flowsheet(n, bench::model(name))
        };
        let t0 = Instant::now();
        let r = simulate(&fs, &SimOptions::default());
        let dt = t0.elapsed().as_secs_f64();
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                println!("{name} {n}: error {e}");
                continue;
            }
        };
        println!(
            "{name} {n}: {} in {:.4} s, chain its {}, stage residual {:.2e}, closure {:.2e}, pH {:.2}..{:.2}",
            r.status,
            dt,
            r.diagnostics.chain_iterations,
            r.diagnostics.max_stage_residual,
            r.mass_balance.max_relative_error,
            r.circuits[0].stages.iter().map(|s| s.ph).fold(f64::INFINITY, f64::min),
            r.circuits[0].stages.iter().map(|s| s.ph).fold(f64::NEG_INFINITY, f64::max),
        );
        if compare {
            let opts = SimOptions {
                algorithm: Algorithm::Substitution,
                ..SimOptions::default()
            };
            let t0 = Instant::now();
            match simulate(&fs, &opts) {
                Ok(s) => println!(
                    "  substitution: {} in {:.4} s, chain its {}, stage residual {:.2e}, largest stream flow difference {:.2e}",
                    s.status,
                    t0.elapsed().as_secs_f64(),
                    s.diagnostics.chain_iterations,
                    s.diagnostics.max_stage_residual,
                    stream_flow_difference(&r, &s)
                ),
                Err(e) => println!("  substitution: error {e}"),
            }
        }
    }
}
