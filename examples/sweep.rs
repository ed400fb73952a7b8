//! A plant-tool style program on the facade: sweep one operating variable of a flowsheet over
//! its `[optimize] free` bounds and print a table of the products' purities and recoveries.
//!
//! ```text
//! cargo run --release --example sweep -- flowsheets/pr-nd.toml [VARIABLE_INDEX] [POINTS]
//! ```
//!
//! VARIABLE_INDEX picks the free variable (0 = the first of `[optimize] free`; default the
//! first that is not a flow, since at fixed extraction ratios flows do not move purities);
//! POINTS is the number of points from its lower to its upper bound (default 7).

use sxplan::model::operating;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or("flowsheets/pr-nd.toml", String::as_str);
    let points: usize = args.get(2).map_or(Ok(7), |s| s.parse())?;

    let loaded = sxplan::load_path(path, &sxplan::LoadOptions::default())?;
    let base = loaded.flowsheet()?;
    let all = base.optimize.as_ref().map_or(&[][..], |o| &o.free[..]);
    let index: usize = match args.get(1) {
        Some(s) => s.parse()?,
        None => all
            .iter()
            .position(|f| !f.var.is_volumetric_flow())
            .unwrap_or(0),
    };
    let free = all
        .get(index)
        .ok_or("the flowsheet has no such [optimize] free variable")?;
    let name = operating::name(base, free.var);
    let (unit, per_internal) = operating::unit(base, free.var);

    println!("{}: sweeping {name} ({unit})", base.name);
    print!("{:>14} {:<16}", name_head(unit), "status");
    for p in &base.products {
        print!(" {:>12} {:>12}", format!("{} pur.", p.name), "recovery");
    }
    println!();
    for i in 0..points.max(1) {
        let t = if points > 1 {
            i as f64 / (points - 1) as f64
        } else {
            0.0
        };
        let x = free.lower + t * (free.upper - free.lower);
        let fs = operating::apply(base, &[(free.var, x)])?;
        let result = sxplan::simulate(&fs, &sxplan::SimulateSettings::default())?;
        print!("{:>14.6} {:<16}", x * per_internal, result.status.as_str());
        for p in &result.products {
            let recovery = p
                .purity_elements
                .first()
                .and_then(|e| p.recovery.get(e))
                .copied()
                .unwrap_or(f64::NAN);
            print!(" {:>12.6} {:>12.6}", p.purity_mol, recovery);
        }
        println!();
    }
    Ok(())
}

fn name_head(unit: &str) -> String {
    format!("value [{unit}]")
}
