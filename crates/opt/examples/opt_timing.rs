//! Prints a Markdown table of optimizer timings on the synthetic benchmark cascades, the
//! distribution-model one (1 free variable) and the separation-factor one (3 free variables)
//! (`cargo run --release -p sxplan-opt --example opt_timing -- 100 500 1000`).

#[path = "../benches/synthetic.rs"]
mod synthetic;

use std::time::Instant;

use sxplan_opt::{optimize, Backend, OptimizeOptions};

fn clock() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// CPU seconds (user + system) of this process, from /proc/self/stat (Linux; 0 elsewhere). Wall
/// times on a shared machine measure the other users too; CPU time does not.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 500, 1000]
    } else {
        sizes
    };
    println!("| backend | model | stages | elements | status | passes | LP cols x rows (nnz) | LP wall time per pass, median (max) | total wall | total CPU |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let cases: Vec<(&str, usize)> = ["distribution", "separation_factor"]
        .iter()
        .flat_map(|m| sizes.iter().map(move |n| (*m, *n)))
        .collect();
    for backend in Backend::enabled() {
        for &(model, n) in &cases {
            let src = if model == "distribution" {
                synthetic::cascade_toml(n, 15, 0.99)
            } else {
                synthetic::sf_cascade_toml(n, 0.99)
            };
            let fs = match sxplan_model::check_str(&src).flowsheet {
                Some(f) => f,
                None => {
                    eprintln!("synthetic flowsheet {n} does not check");
                    continue;
                }
            };
            let mut opts = OptimizeOptions {
                clock: Some(clock),
                ..OptimizeOptions::default()
            };
            opts.lp.backend = backend;
            let t0 = Instant::now();
            let c0 = cpu_seconds();
            let r = match optimize(&fs, &opts) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{n}: {e}");
                    continue;
                }
            };
            let total = t0.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - c0;
            let mut times: Vec<f64> = r.passes.iter().filter_map(|p| p.lp_time_s).collect();
            times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            let med = times.get(times.len() / 2).copied().unwrap_or(0.0);
            let max = times.last().copied().unwrap_or(0.0);
            println!(
                "| {} | {model} | {n} | 15 | {} | {} | {} x {} ({}) | {:.3} s ({:.3} s) | {:.2} s | {:.2} s |",
                backend.as_str(),
                r.status.as_str(),
                r.passes.len(),
                r.lp_size.0,
                r.lp_size.1,
                r.lp_size.2,
                med,
                max,
                total,
                cpu
            );
        }
    }
}
