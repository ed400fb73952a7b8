//! Developer tool: simulates flowsheet files and prints status, residuals and wall time per run
//! (`cargo run --release -p sxplan-sim --example simtime -- FILE... [--substitution]`).

use std::time::Instant;

use sxplan_sim::{simulate, Algorithm, SimOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let algorithm = if args.iter().any(|a| a == "--substitution") {
        Algorithm::Substitution
    } else {
        Algorithm::Newton
    };
    for path in args.iter().filter(|a| !a.starts_with("--")) {
        let src = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let out = sxplan_model::check_str(&src);
        let Some(fs) = out.flowsheet else {
            eprintln!("{path}: does not check: {:?}", out.diagnostics);
            continue;
        };
        let t0 = Instant::now();
        let r = simulate(
            &fs,
            &SimOptions {
                algorithm,
                ..SimOptions::default()
            },
        );
        let dt = t0.elapsed();
        match r {
            Ok(r) => {
                println!(
                    "{path}: {} in {:.3} s, {} stages, tears {}, recycle its {}, chain its {}, stage residual {:.2e}, recycle residual {:.2e}, closure {:.2e}",
                    r.status,
                    dt.as_secs_f64(),
                    r.diagnostics.n_stages,
                    r.diagnostics.n_tears,
                    r.iterations,
                    r.diagnostics.chain_iterations,
                    r.diagnostics.max_stage_residual,
                    r.diagnostics.recycle_residual,
                    r.mass_balance.max_relative_error
                );
                for w in &r.diagnostics.warnings {
                    println!("  warning: {w}");
                }
                for c in &r.circuits {
                    let ph_min = c.stages.iter().map(|s| s.ph).fold(f64::INFINITY, f64::min);
                    let ph_max = c
                        .stages
                        .iter()
                        .map(|s| s.ph)
                        .fold(f64::NEG_INFINITY, f64::max);
                    println!("  {:<10} pH {ph_min:.2}..{ph_max:.2}", c.name);
                    println!(
                        "  {:<10} {:<18} {:<16} its {:>6} residual {:.2e}",
                        c.name,
                        c.model,
                        c.status.as_str(),
                        c.iterations,
                        c.max_residual
                    );
                }
                for p in &r.products {
                    if let Some(s) = &p.purity_spec {
                        println!(
                            "  product {:<18} purity {:.6} (min {}, {}) met {}",
                            p.id,
                            if s.basis == "mole" {
                                p.purity_mol
                            } else {
                                p.purity_reo_mass
                            },
                            s.min,
                            s.basis,
                            s.met
                        );
                    }
                }
            }
            Err(e) => println!("{path}: error {e}"),
        }
    }
}
