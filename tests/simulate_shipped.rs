//! Every shipped flowsheet: converged, mass balance closed to 1e-9, and two independent
//! algorithms (block Newton + Newton-Broyden recycles vs substitution with dense solves +
//! successive-substitution recycles) agreeing to 1e-8.

use std::path::PathBuf;

use sxplan_sim::{simulate, Algorithm, SimOptions, SimResult, SolveStatus};

fn shipped() -> Vec<(String, sxplan_model::Flowsheet)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("flowsheets");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let src = std::fs::read_to_string(&f).unwrap();
            let out = sxplan_model::check_str(&src);
            let fs = out
                .flowsheet
                .unwrap_or_else(|| panic!("{} does not check clean", f.display()));
            (f.display().to_string(), fs)
        })
        .collect()
}

fn agree(name: &str, a: &SimResult, b: &SimResult) -> f64 {
    let mut worst: f64 = 0.0;
    for (s, t) in a.streams.iter().zip(&b.streams) {
        assert_eq!(s.id, t.id);
        for (e, v) in &s.flow_mol_per_h {
            let w = t.flow_mol_per_h[e];
            // Relative to the flow, with a floor of 1e-12 of what the feeds bring of the element.
            let floor = 1e-12 * a.mass_balance.per_element[e].in_mol_per_h;
            let d = (v - w).abs() / v.abs().max(w.abs()).max(floor).max(f64::MIN_POSITIVE);
            worst = worst.max(d);
            assert!(d <= 1e-8, "{name}: stream {} {e}: {v} vs {w}", s.name);
        }
    }
    for (c, d) in a.circuits.iter().zip(&b.circuits) {
        for (s, t) in c.stages.iter().zip(&d.stages) {
            assert!(
                (s.ph - t.ph).abs() <= 1e-8 * s.ph.abs().max(1.0),
                "{name}: {} stage {} pH",
                c.name,
                s.stage
            );
        }
    }
    worst
}

#[test]
fn shipped_flowsheets_converge_close_and_agree() {
    let all = shipped();
    assert!(!all.is_empty());
    for (name, fs) in all {
        let a = simulate(&fs, &SimOptions::default()).unwrap();
        assert_eq!(
            a.status,
            SolveStatus::Converged,
            "{name}: {:?}",
            a.diagnostics
        );
        assert!(
            a.mass_balance.max_relative_error <= 1e-9,
            "{name}: closure {}",
            a.mass_balance.max_relative_error
        );
        let b = simulate(
            &fs,
            &SimOptions {
                algorithm: Algorithm::Substitution,
                ..SimOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            b.status,
            SolveStatus::Converged,
            "{name} (substitution): {:?}",
            b.diagnostics
        );
        assert!(b.mass_balance.max_relative_error <= 1e-9);
        let worst = agree(&name, &a, &b);
        eprintln!(
            "{name}: closure {:.2e} / {:.2e}, algorithms agree to {worst:.2e}",
            a.mass_balance.max_relative_error, b.mass_balance.max_relative_error
        );
    }
}
