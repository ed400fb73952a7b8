//! A P507 mass-action circuit with saponification (acidity carried stage by stage) optimizes
//! with its saponification degree, organic flow and scrub acid strength free, and its optimum
//! agrees with a brute-force scan of the simulator on a grid.

use sxplan_model::{operating, Objective};
use sxplan_opt::plant::{OperatingPoint, Plant};
use sxplan_opt::{check_specs, economics, optimize, reagent_flows, OptStatus, OptimizeOptions};

fn fixture() -> sxplan_model::Flowsheet {
    let src = include_str!("data/mass_action_saponified.toml");
    let out = sxplan_model::check_str(src);
    out.flowsheet
        .unwrap_or_else(|| panic!("{:?}", out.diagnostics))
}

#[test]
fn saponified_mass_action_circuit_optimizes_to_the_grid_optimum() {
    let fs = fixture();
    let r = optimize(&fs, &OptimizeOptions::default()).unwrap();
    assert_eq!(r.status, OptStatus::Optimal, "{:?}", r.passes);
    assert!(r.passes.len() <= 15, "{} passes", r.passes.len());
    assert!(
        r.checks.iter().all(|c| c.violation == 0.0),
        "{:?}",
        r.checks
    );
    let best = r.objective_value;
    assert!(best.is_finite() && best > 0.0);

    // Brute force: every grid point the simulator converges at and that meets every spec.
    let plant = Plant::new(&fs).unwrap();
    let (econ, _) = economics(&fs, Objective::MinReagentCost).unwrap();
    let price = |rg| {
        econ.reagent_usd_per_mol
            .iter()
            .find(|(x, _)| *x == rg)
            .map_or(0.0, |p| p.1)
    };
    let mut grid_best = f64::INFINITY;
    let mut feasible = 0;
    let mut evaluated = 0;
    for sap in [0.0, 0.05, 0.1] {
        for org in [80.0, 100.0, 120.0] {
            // Along the acid sweep each simulation starts from the previous converged one.
            let mut warm: Option<sxplan_opt::plant::PlantPoint> = None;
            for k in 0..=40 {
                let acid = 0.2 + 0.01 * f64::from(k);
                let point = OperatingPoint {
                    values: vec![
                        (plant.free[0].var, sap),
                        (plant.free[1].var, org),
                        (plant.free[2].var, acid),
                    ],
                };
                let Ok(sim) = plant.simulate_from(&point, warm.as_ref()) else {
                    continue;
                };
                evaluated += 1;
                if !sim.status.is_converged() {
                    continue;
                }
                warm = Some(sim.clone());
                let at = operating::apply(&fs, &point.values).unwrap();
                if check_specs(&at, &sim).iter().any(|c| c.violation > 0.0) {
                    continue;
                }
                feasible += 1;
                let cost: f64 = reagent_flows(&at, &sim)
                    .iter()
                    .map(|(rg, mol)| price(*rg) * mol)
                    .sum();
                grid_best = grid_best.min(cost);
            }
        }
    }
    println!(
        "optimum {best:.6} US$/h; grid: {feasible} feasible of {evaluated}, best {grid_best:.6}"
    );
    assert!(feasible >= 10, "only {feasible} feasible grid points");
    // The optimizer is never beaten by the grid, and the grid comes within its resolution
    // (0.01 mol/L of scrub acid is about 1.5 % of the reagent cost here).
    assert!(
        best <= grid_best * (1.0 + 1e-9),
        "{best} > grid {grid_best}"
    );
    assert!(
        grid_best <= best * 1.02,
        "grid {grid_best} far above {best}"
    );
}
