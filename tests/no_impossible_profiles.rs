//! No output shows a state that is no state of a plant (issue 14): over every flowsheet in
//! `flowsheets/` and `tests/data/ok/`, the simulation result (the JSON's data) and its text
//! summary carry no pH outside [-1.5, 14.5] and no loading above the extractant's bound, whether
//! the run converged or not (a run that did not converge reports no stage profile and no
//! product purities). The counts are printed; the test does not require convergence (that is
//! the simulator's own tests' business), only that nothing impossible leaves the program.

use std::path::PathBuf;

use sxplan_sim::{simulate, SimOptions};

const PH_MIN: f64 = -1.5;
const PH_MAX: f64 = 14.5;

fn corpus() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["flowsheets", "tests/data/ok"] {
        let mut here: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        here.sort();
        files.extend(here);
    }
    files
}

/// The `(lo, hi)` pairs of every "pH lo..hi" in a text summary.
fn ph_ranges(text: &str) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(k) = rest.find("pH ") {
            rest = &rest[k + 3..];
            let word: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != ',')
                .collect();
            if let Some((a, b)) = word.split_once("..") {
                if let (Ok(a), Ok(b)) = (a.parse::<f64>(), b.parse::<f64>()) {
                    out.push((a, b));
                }
            }
        }
    }
    out
}

#[test]
fn no_ph_or_loading_outside_its_bounds_in_any_output() {
    let (mut simulated, mut converged, mut not_converged, mut skipped) = (0, 0, 0, 0);
    for path in corpus() {
        let name = path.display().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let Some(fs) = sxplan_model::check_str(&src).flowsheet else {
            // Flowsheets that need their includes are checked through the CLI's tests.
            skipped += 1;
            continue;
        };
        let Ok(result) = simulate(&fs, &SimOptions::default()) else {
            skipped += 1;
            continue;
        };
        simulated += 1;
        if result.status.is_converged() {
            converged += 1;
        } else {
            not_converged += 1;
            assert!(
                result
                    .circuits
                    .iter()
                    .all(|c| c.status.is_converged() || c.stages.is_empty()),
                "{name}: a circuit that did not converge reports a stage profile"
            );
        }
        for c in &result.circuits {
            for s in &c.stages {
                assert!(
                    s.ph.is_finite() && (PH_MIN..=PH_MAX).contains(&s.ph),
                    "{name}: circuit {} stage {}: pH {}",
                    c.name,
                    s.stage,
                    s.ph
                );
                if let Some(f) = s.loading_fraction {
                    assert!(
                        f.is_finite() && f <= 1.0 + 1e-9,
                        "{name}: circuit {} stage {}: loading {} of its bound",
                        c.name,
                        s.stage,
                        f
                    );
                }
            }
        }
        let text = sxplan_report::simulate::to_text(&result);
        for (lo, hi) in ph_ranges(&text) {
            assert!(
                (PH_MIN..=PH_MAX).contains(&lo) && (PH_MIN..=PH_MAX).contains(&hi),
                "{name}: the summary shows pH {lo}..{hi}"
            );
        }
        if !result.status.is_converged() {
            assert!(
                !text.contains("purity "),
                "{name}: the summary of a run that did not converge shows product purities"
            );
        }
    }
    eprintln!(
        "{simulated} flowsheets simulated ({converged} converged, {not_converged} not converged, \
         profiles withheld), {skipped} skipped (includes or refused)"
    );
    assert!(simulated >= 10, "only {simulated} flowsheets simulated");
}
