//! The simulator's implicit-function-theorem sensitivities agree with central finite
//! differences of full (warm-started, converged) simulations, on every shipped flowsheet and
//! for every free operating variable.

use sxplan_opt::cascade::responses;
use sxplan_opt::plant::{OperatingPoint, Plant};

fn load(path: &str) -> sxplan_model::Flowsheet {
    let src = std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
        .expect("readable");
    sxplan_model::check_str(&src).flowsheet.expect("checks clean")
}

/// Largest disagreement, relative to the size of each link's derivative vector (with a floor
/// of 1e-9 of the link's flow per unit of the variable), over every link and element.
fn worst_disagreement(path: &str) -> Vec<(String, f64)> {
    let fs = load(path);
    let plant = Plant::new(&fs).expect("optimizable");
    let point = plant.base_point().unwrap();
    let sim = plant.simulate(&point).unwrap();
    assert!(sim.status.is_converged(), "{path}: {:?}", sim.status);
    let resp = responses(&plant, &point, &sim).expect("sensitivities");
    let mut out = Vec::new();
    for (k, f) in plant.free.iter().enumerate() {
        let x0 = point.values[k].1;
        let h = 1e-4 * x0.abs().max(1e-3 * (f.upper - f.lower).abs());
        let at = |x: f64| {
            let mut p: OperatingPoint = point.clone();
            p.values[k].1 = x;
            let s = plant.simulate_from(&p, Some(&sim)).unwrap();
            assert!(s.status.is_converged());
            s
        };
        let (sp, sm) = (at(x0 + h), at(x0 - h));
        let mut worst: f64 = 0.0;
        for li in 0..fs.links.len() {
            let fd: Vec<f64> = (0..fs.elements.len())
                .map(|i| (sp.link_flow[li][i] - sm.link_flow[li][i]) / (2.0 * h))
                .collect();
            let flow: f64 = sim.link_flow[li].iter().sum();
            let scale = fd.iter().map(|v| v.abs()).fold(0.0, f64::max)
                + 1e-9 * flow / x0.abs().max(1e-300);
            if scale == 0.0 {
                continue;
            }
            for i in 0..fs.elements.len() {
                worst = worst.max((resp.link[k][li][i] - fd[i]).abs() / scale);
            }
        }
        out.push((sxplan_opt::plant::var_name(&fs, f.var), worst));
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
        for (var, worst) in worst_disagreement(path) {
            println!("{path} {var}: {worst:.2e}");
            assert!(worst <= 1e-6, "{path} {var}: {worst:.3e}");
            n += 1;
        }
    }
    // Every shipped flowsheet frees at least one variable: 3 + 12 + ... compared.
    assert!(n >= 15, "only {n} variables compared");
}
