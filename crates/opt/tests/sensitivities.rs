//! The simulator's implicit-function-theorem sensitivities agree with central finite
//! differences of full (warm-started, converged) simulations, Richardson-extrapolated, on every shipped flowsheet and
//! for every free operating variable.

use sxplan_opt::cascade::responses;
use sxplan_opt::plant::{OperatingPoint, Plant};

fn load(path: &str) -> sxplan_model::Flowsheet {
    let src = std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
        .expect("readable");
    sxplan_model::check_str(&src)
        .flowsheet
        .expect("checks clean")
}

/// Central differences of full (warm-started, converged) simulations at `h` and `h/2`,
/// Richardson-extrapolated (error O(h^4)): `[link][element]`.
fn richardson(
    fs: &sxplan_model::Flowsheet,
    tight: &sxplan_sim::Simulator,
    point: &OperatingPoint,
    sim: &sxplan_opt::plant::PlantPoint,
    k: usize,
    h: f64,
) -> Vec<Vec<f64>> {
    let x0 = point.values[k].1;
    let at = |x: f64| {
        let mut p: OperatingPoint = point.clone();
        p.values[k].1 = x;
        let fs = sxplan_model::operating::apply(fs, &p.values).unwrap();
        let s = tight.evaluate(&fs, Some(sim)).unwrap();
        assert!(s.status.is_converged());
        s
    };
    let (sp, sm) = (at(x0 + h), at(x0 - h));
    let (sp2, sm2) = (at(x0 + 0.5 * h), at(x0 - 0.5 * h));
    (0..sim.link_flow.len())
        .map(|li| {
            (0..sim.link_flow[li].len())
                .map(|i| {
                    let d1 = (sp.link_flow[li][i] - sm.link_flow[li][i]) / (2.0 * h);
                    let d2 = (sp2.link_flow[li][i] - sm2.link_flow[li][i]) / h;
                    (4.0 * d2 - d1) / 3.0
                })
                .collect()
        })
        .collect()
}

/// The largest disagreement of `t` from the reference `fd`, relative to the size of each link's
/// derivative vector (with a floor of 1e-9 of the link's flow per unit of the variable), and
/// the largest in elasticity (d ln flow / d ln u), over every link and element.
fn disagreement(
    t: &[Vec<f64>],
    fd: &[Vec<f64>],
    sim: &sxplan_opt::plant::PlantPoint,
    x0: f64,
) -> (f64, f64) {
    let mut worst: f64 = 0.0;
    let mut worst_elasticity: f64 = 0.0;
    for li in 0..fd.len() {
        let flow: f64 = sim.link_flow[li].iter().sum();
        let scale =
            fd[li].iter().map(|v| v.abs()).fold(0.0, f64::max) + 1e-9 * flow / x0.abs().max(1e-300);
        if scale == 0.0 {
            continue;
        }
        for (a, d) in t[li].iter().zip(&fd[li]) {
            worst = worst.max((a - d).abs() / scale);
            // Elasticity: the error relative to the link's flow per relative change of the
            // variable (the measure the LP's log-purity rows see).
            worst_elasticity = worst_elasticity.max((a - d).abs() * x0.abs() / flow.max(1e-300));
        }
    }
    (worst, worst_elasticity)
}

/// Per free variable: its name, the disagreement of the sensitivities from the reference
/// (relative, elasticity), the reference's relative step and its own uncertainty.
///
/// The reference is chosen per variable by its self-consistency, not by its agreement with
/// the sensitivities: Richardson differences at relative steps 1e-3, 1e-4 and 1e-5, and the
/// one of the neighbouring pair that agrees best with its neighbour. A large step is limited by
/// curvature (the extraction ratio of a ratio-loaded cascade at its breakthrough: 1e-1 off at
/// 1e-3), a small one by the simulations' convergence (the reflux split: 1.7e-5 at 1e-5).
fn worst_disagreement(path: &str) -> Vec<(String, f64, f64, f64, f64)> {
    let fs = load(path);
    let plant = Plant::new(&fs).expect("optimizable");
    let point = plant.base_point().unwrap();
    let sim = plant.simulate(&point).unwrap();
    assert!(sim.status.is_converged(), "{path}: {:?}", sim.status);
    let resp = responses(&plant, &point, &sim).expect("sensitivities");
    // The reference simulations converge the recycles to 1e-14 (the optimizer's to 1e-12): a
    // difference at a small step is otherwise limited by the convergence (the reflux split:
    // 1.4e-6 at 1e-4).
    let tight = sxplan_sim::Simulator::new(
        &fs,
        &sxplan_sim::SimOptions {
            recycle_tolerance: 1e-14,
            ..Default::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    for (k, f) in plant.free.iter().enumerate() {
        let x0 = point.values[k].1;
        let size = x0.abs().max(1e-3 * (f.upper - f.lower).abs());
        let steps = [1e-3, 1e-4, 1e-5];
        let est: Vec<_> = steps
            .iter()
            .map(|r| richardson(&fs, &tight, &point, &sim, k, r * size))
            .collect();
        // Each estimate's uncertainty: its largest disagreement with a neighbouring step's.
        let next: Vec<f64> = (0..steps.len() - 1)
            .map(|i| disagreement(&est[i + 1], &est[i], &sim, x0).0)
            .collect();
        let (pick, uncertainty) = (0..steps.len())
            .map(|i| {
                let below = if i + 1 < steps.len() { next[i] } else { 0.0 };
                let above = if i > 0 { next[i - 1] } else { 0.0 };
                (i, below.max(above))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let (worst, elasticity) = disagreement(&resp.link[k], &est[pick], &sim, x0);
        out.push((
            sxplan_model::operating::name(&fs, f.var),
            worst,
            elasticity,
            steps[pick],
            uncertainty,
        ));
    }
    out
}

#[test]
fn sensitivities_match_central_differences_on_every_shipped_flowsheet() {
    let mut n = 0;
    for path in [
        "flowsheets/pr-nd.toml",
        "flowsheets/reflux.toml",
        "flowsheets/minamitorishima.toml",
    ] {
        for (var, worst, elasticity, step, uncertainty) in worst_disagreement(path) {
            println!(
                "{path} {var}: relative {worst:.2e}, elasticity {elasticity:.2e} \
                 (reference at relative step {step:.0e}, its uncertainty {uncertainty:.1e})"
            );
            assert!(worst <= 1e-6, "{path} {var}: {worst:.3e}");
            assert!(
                elasticity <= 1e-6,
                "{path} {var}: elasticity {elasticity:.3e}"
            );
            n += 1;
        }
    }
    // Every shipped flowsheet frees at least one variable: 3 + 12 + ... compared.
    assert!(n >= 15, "only {n} variables compared");
    println!("{n} of {n} variables agree to 1e-6 relative");
}
