//! Prints the flowsheet TOML a `simulate_generated` fuzz input (crash, slow unit) stands for:
//! `cargo run --example gen_toml -- fuzz/artifacts/simulate_generated/slow-unit-...`.

use arbitrary::{Arbitrary, Unstructured};
use sxplan_fuzz::GenFlowsheet;

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        // libFuzzer's `fuzz_target!(|g: GenFlowsheet|)` takes the whole input this way
        match GenFlowsheet::arbitrary_take_rest(Unstructured::new(&bytes)) {
            Ok(g) => println!("# {path}\n{}", g.toml()),
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
}
