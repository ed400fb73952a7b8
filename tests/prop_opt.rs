//! Property test of the optimizer through the public library API: on random binary cascades
//! (distribution ratios, stage counts, feed, purity and recovery specs, free variables), a point
//! the optimizer returns as optimal never violates a spec when `sxplan_sim::simulate` re-simulates
//! the optimized flowsheet independently.
//!
//! `SXPLAN_PROP_OPT_CASES=N` sets the number of cases (default 256; `SXPLAN_SLOW=1` runs 1,024).

use proptest::prelude::*;
use sxplan_opt::{optimize, OptStatus, OptimizeOptions};
use sxplan_sim::{simulate, SimOptions, SolveStatus};

fn cases() -> u32 {
    if let Some(n) = std::env::var("SXPLAN_PROP_OPT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var("SXPLAN_SLOW").is_ok_and(|v| v == "1") {
        1024
    } else {
        256
    }
}

#[derive(Debug, Clone)]
struct OptCase {
    d_pr: f64,
    sep: f64,
    n_extraction: usize,
    n_scrub: usize,
    conc_pr: f64,
    conc_nd: f64,
    organic: f64,
    scrub: f64,
    purity_pr: f64,
    purity_nd: f64,
    recovery_nd: Option<f64>,
    free_organic: bool,
    free_scrub: bool,
}

fn opt_case() -> impl Strategy<Value = OptCase> {
    (
        (0.3f64..1.5, 1.3f64..3.0, 4usize..=30, 4usize..=30),
        (0.01f64..0.3, 0.01f64..0.3, 0.5f64..5.0, 0.5f64..5.0),
        (
            0.5f64..0.995,
            0.5f64..0.995,
            proptest::option::of(0.3f64..0.99),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (d_pr, sep, ne, ns),
                (cp, cn, org, scrub),
                (pp, pn, rn, free_organic, free_scrub),
            )| OptCase {
                d_pr,
                sep,
                n_extraction: ne,
                n_scrub: ns,
                conc_pr: cp,
                conc_nd: cn,
                organic: org,
                scrub,
                purity_pr: pp,
                purity_nd: pn,
                recovery_nd: rn,
                free_organic,
                free_scrub,
            },
        )
}

impl OptCase {
    fn toml(&self) -> String {
        let mut s = format!(
            r#"schema = 1
name = "prop-opt"

[[feed]]
name = "liquor"
flow = "1 m3/h"
conc = {{ Pr = "{cp} mol/L", Nd = "{cn} mol/L", quality = "illustrative" }}
to = "PrNd.feed"

[[circuit]]
name = "PrNd"
sections = [{{ kind = "extraction", stages = {ne} }}, {{ kind = "scrub", stages = {ns} }}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "{org} m3/h" }}
scrub = {{ acid = "HCl", conc = "1 mol/L", flow = "{scrub} m3/h" }}
equilibrium = {{ model = "distribution", d = {{ Pr = {dpr}, Nd = {dnd} }}, quality = "illustrative" }}
capacity = [{{ max_flow = "20 m3/h" }}]

[[product]]
name = "Pr_raffinate"
from = "PrNd.raffinate"
purity = {{ element = "Pr", min = {pp} }}

[[product]]
name = "Nd_organic"
from = "PrNd.loaded_organic"
kind = "organic"
purity = {{ element = "Nd", min = {pn} }}
"#,
            cp = self.conc_pr,
            cn = self.conc_nd,
            ne = self.n_extraction,
            ns = self.n_scrub,
            org = self.organic,
            scrub = self.scrub,
            dpr = self.d_pr,
            dnd = self.d_pr * self.sep,
            pp = self.purity_pr,
            pn = self.purity_nd,
        );
        if let Some(r) = self.recovery_nd {
            s += &format!("recovery = {{ Nd = {r} }}\n");
        }
        s += "\n[optimize]\nobjective = \"max_throughput\"\nfree = [{ var = \"feed_rate\", of = \"liquor\", min = \"0.05 m3/h\", max = \"5 m3/h\" }";
        if self.free_organic {
            s +=
                ", { var = \"organic_flow\", of = \"PrNd\", min = \"0.5 m3/h\", max = \"8 m3/h\" }";
        }
        if self.free_scrub {
            s += ", { var = \"scrub_flow\", of = \"PrNd\", min = \"0.5 m3/h\", max = \"8 m3/h\" }";
        }
        s += "]\n";
        s
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// An optimal point, re-simulated on its own, meets every purity and recovery spec.
    #[test]
    fn optimal_point_meets_every_spec_when_resimulated(case in opt_case()) {
        let src = case.toml();
        let out = sxplan_model::check_str(&src);
        prop_assert!(out.error_count() == 0, "{:?}\n{}", out.diagnostics, src);
        let fs = out.flowsheet.expect("checked clean");
        let result = match optimize(&fs, &OptimizeOptions::default()) {
            Ok(r) => r,
            Err(e) => return Err(TestCaseError::fail(format!("optimize refused a clean flowsheet: {e}\n{src}"))),
        };
        prop_assert!(result.objective_value.is_finite(), "objective {}", result.objective_value);
        if result.status != OptStatus::Optimal {
            // Not optimal: it must say why (a conflict when infeasible).
            if result.status == OptStatus::Infeasible {
                prop_assert!(!result.conflicts.is_empty(), "infeasible without conflicts\n{}", src);
            }
            return Ok(());
        }
        let r = simulate(&result.flowsheet, &SimOptions::default())
            .map_err(|e| TestCaseError::fail(format!("re-simulation failed: {e}\n{src}")))?;
        prop_assert_eq!(r.status, SolveStatus::Converged, "re-simulation did not converge\n{}", src);
        for p in &result.flowsheet.products {
            let pr = r.products.iter().find(|x| x.id == p.name).expect("product simulated");
            if let Some(spec) = &pr.purity_spec {
                prop_assert!(
                    spec.met,
                    "product {} purity {} below {} at the optimal point {:?}\n{}",
                    p.name, pr.purity_mol, spec.min, result.operating_point, src
                );
            }
            for rec in &p.recovery {
                let got = pr.recovery.get(&rec.element).copied().unwrap_or(0.0);
                prop_assert!(
                    got >= rec.min - 1e-9,
                    "product {} recovery {} {} below {} at the optimal point\n{}",
                    p.name, rec.element, got, rec.min, src
                );
            }
        }
    }
}
