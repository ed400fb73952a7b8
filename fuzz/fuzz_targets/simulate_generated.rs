//! Fuzz target: structured flowsheets (elements, stage counts, D values, flows, recycles, series
//! circuits) generated from the fuzzer input as TOML, checked, and simulated; every result must be
//! finite and non-negative, and a converged one must close its mass balance; a flowsheet `check`
//! accepts must never be refused by `simulate` (check/simulate parity).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sxplan_fuzz::{check_result, GenFlowsheet};
use sxplan_sim::{simulate, SimOptions};

fuzz_target!(|g: GenFlowsheet| {
    let src = g.toml();
    let out = sxplan_model::check_str(&src);
    let Some(fs) = out.flowsheet else {
        // The generator stays inside the language; only topology warnings-turned-errors may refuse.
        for d in &out.diagnostics {
            assert!(
                d.code.starts_with("E06")
                    || d.code == "E0505"
                    || d.code == "E0507"
                    || d.code == "E0602",
                "generated flowsheet refused: {} {}\n{src}",
                d.code,
                d.message
            );
        }
        return;
    };
    match simulate(&fs, &SimOptions::default()) {
        Ok(r) => {
            if let Err(why) = check_result(&r, 1e-9) {
                panic!("{why} (status {})\n{src}", r.status);
            }
        }
        // check/simulate parity: what check accepts, simulate must not refuse as bad input
        // (numeric trouble is a status, not an error).
        Err(e) => panic!("check accepted, simulate refused: {e}\n{src}"),
    }
});
