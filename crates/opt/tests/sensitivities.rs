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

/// Per free variable: the largest disagreement relative to the size of each link's derivative
/// vector (with a floor of 1e-9 of the link's flow per unit of the variable), and the largest
/// disagreement in elasticity (d ln flow / d ln u), over every link and element.
fn worst_disagreement(path: &str) -> Vec<(String, f64, f64)> {
    let fs = load(path);
    let plant = Plant::new(&fs).expect("optimizable");
    let point = plant.base_point().unwrap();
    let sim = plant.simulate(&point).unwrap();
    assert!(sim.status.is_converged(), "{path}: {:?}", sim.status);
    let resp = responses(&plant, &point, &sim).expect("sensitivities");
    let mut out = Vec::new();
    for (k, f) in plant.free.iter().enumerate() {
        let x0 = point.values[k].1;
        let h = 1e-5 * x0.abs().max(1e-3 * (f.upper - f.lower).abs());
        let at = |x: f64| {
            let mut p: OperatingPoint = point.clone();
            p.values[k].1 = x;
            let s = plant.simulate_from(&p, Some(&sim)).unwrap();
            assert!(s.status.is_converged());
            s
        };
        // Central differences at h and h/2, Richardson-extrapolated (error O(h^4)): some
        // responses are strongly curved (a ratio-loaded cascade at its breakthrough).
        let (sp, sm) = (at(x0 + h), at(x0 - h));
        let (sp2, sm2) = (at(x0 + 0.5 * h), at(x0 - 0.5 * h));
        let mut worst: f64 = 0.0;
        let mut worst_elasticity: f64 = 0.0;
        for li in 0..fs.links.len() {
            let fd: Vec<f64> = (0..fs.elements.len())
                .map(|i| {
                    let d1 = (sp.link_flow[li][i] - sm.link_flow[li][i]) / (2.0 * h);
                    let d2 = (sp2.link_flow[li][i] - sm2.link_flow[li][i]) / h;
                    (4.0 * d2 - d1) / 3.0
                })
                .collect();
            let flow: f64 = sim.link_flow[li].iter().sum();
            let scale =
                fd.iter().map(|v| v.abs()).fold(0.0, f64::max) + 1e-9 * flow / x0.abs().max(1e-300);
            if scale == 0.0 {
                continue;
            }
            for (t, d) in resp.link[k][li].iter().zip(&fd) {
                let e = (t - d).abs() / scale;
                // Elasticity d ln f / d ln u: the error relative to the link's flow per
                // relative change of the variable (the measure the LP's log-purity rows see).
                let el = (t - d).abs() * x0.abs() / flow.max(1e-300);
                worst_elasticity = worst_elasticity.max(el);
                worst = worst.max(e);
            }
        }
        out.push((
            sxplan_model::operating::name(&fs, f.var),
            worst,
            worst_elasticity,
        ));
    }
    out
}

#[test]
fn sensitivities_match_central_differences_on_every_shipped_flowsheet() {
    let mut n = 0;
    let mut strict = 0;
    for path in [
        "flowsheets/pr-nd.toml",
        "flowsheets/reflux.toml",
        "flowsheets/minamitorishima.toml",
    ] {
        for (var, worst, elasticity) in worst_disagreement(path) {
            println!("{path} {var}: relative {worst:.2e}, elasticity {elasticity:.2e}");
            // The reference itself is a difference of two converged simulations (tolerance
            // 1e-12): where a flow hardly moves (the reflux split, 1.8e-5 relative at h = 1e-5,
            // 1.7e-4 at h = 1e-4) the reference is noise-limited, so the relative bound is 1e-4
            // and the bound in elasticity, which the noise does not reach, is 1e-6.
            assert!(worst <= 1e-4, "{path} {var}: {worst:.3e}");
            assert!(
                elasticity <= 1e-6,
                "{path} {var}: elasticity {elasticity:.3e}"
            );
            if worst <= 1e-6 {
                strict += 1;
            }
            n += 1;
        }
    }
    // Every shipped flowsheet frees at least one variable: 3 + 12 + ... compared.
    assert!(n >= 15, "only {n} variables compared");
    println!("{strict} of {n} variables agree to 1e-6 relative");
    assert!(
        strict + 1 >= n,
        "only {strict} of {n} agree to 1e-6 relative"
    );
}
