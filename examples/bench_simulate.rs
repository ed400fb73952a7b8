//! The Rust half of the Python overhead benchmark: N facade calls that each load the flagship
//! flowsheet from its path and simulate it (what one `sxplan.simulate(path)` does in Python,
//! without the JSON), timed one by one; prints the median, min and max.
//!
//! ```text
//! cargo run --release --example bench_simulate -- flowsheets/minamitorishima.toml 100
//! ```
//! The Python half is crates/python/bench/bench_simulate.py.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .map_or("flowsheets/minamitorishima.toml", String::as_str);
    let n: usize = args.get(1).map_or(Ok(100), |s| s.parse())?;
    let with_json = args.iter().any(|a| a == "--json");
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let loaded = sxplan::load_path(path, &sxplan::LoadOptions::default())?;
        let r = sxplan::simulate(loaded.flowsheet()?, &sxplan::SimulateSettings::default())?;
        if with_json {
            std::hint::black_box(sxplan::simulation_json(&r));
        }
        std::hint::black_box(&r);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "rust facade{}: {n} calls, median {:.4} s, min {:.4} s, max {:.4} s, total {:.2} s",
        if with_json { " + JSON" } else { "" },
        median,
        times[0],
        times[times.len() - 1],
        times.iter().sum::<f64>()
    );
    Ok(())
}
