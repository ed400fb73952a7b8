//! The flowsheet fragment of a fit (`fit.toml`): the keys of a `[circuit.equilibrium]` table
//! with the fitted tables, tagged `quality = "fitted"` and the data file as `source`.
//!
//! Written as text (this crate does not depend on a TOML library; sxplan-model is the one
//! reader, and the test `tests/fit_cli.rs` reads the fragment back through `sxplan check`).
//! Numbers use Rust's shortest round-trip form (`{:?}`), which is valid TOML for finite values.

use std::fmt::Write as _;

use crate::{FitResult, ModelKind};

fn table(r: &FitResult, name: &str) -> Option<String> {
    let items: Vec<String> = r
        .elements
        .iter()
        .filter_map(|e| r.param(Some(e), name).map(|p| (e, p.value)))
        .map(|(e, v)| format!("{e} = {v:?}"))
        .collect();
    (!items.is_empty()).then(|| format!("{{ {} }}", items.join(", ")))
}

/// The fragment: paste it under a circuit's `[circuit.equilibrium]` header, in place of that
/// table's keys (docs/fit.md, "Using the fit in a flowsheet"). `data_name` is the data file as
/// given on the command line.
pub fn fragment_toml(r: &FitResult, data_name: &str) -> String {
    let mut o = String::new();
    let source = format!("sxplan fit of {data_name}").replace(['"', '\\', '\n', '\r'], "_");
    let _ = writeln!(
        o,
        "# sxplan fit: {} model from {} measurements ({}).",
        r.model.as_str(),
        r.n_rows,
        source
    );
    let _ = writeln!(
        o,
        "# The keys of a [circuit.equilibrium] table: paste them below that header of the"
    );
    let _ = writeln!(
        o,
        "# circuit, replacing its own keys (docs/fit.md, \"Using the fit in a flowsheet\")."
    );
    let _ = writeln!(o, "# Standard errors and the covariance are in fit.json.");
    let _ = writeln!(o, "model = \"{}\"", r.model.as_str());
    let _ = writeln!(o, "quality = \"fitted\"");
    let _ = writeln!(o, "source = \"{source}\"");
    match r.model {
        ModelKind::Empirical => {
            let _ = writeln!(o, "measure = \"mol/L\"");
            for name in ["a", "b"] {
                if let Some(t) = table(r, name) {
                    let _ = writeln!(o, "{name} = {t}");
                }
            }
            match table(r, "c") {
                Some(t) => {
                    let _ = writeln!(o, "c = {t}");
                }
                None => {
                    if let Some(c) = r.fixed.iter().find(|f| f.name == "c") {
                        let items: Vec<String> = r
                            .elements
                            .iter()
                            .map(|e| format!("{e} = {:?}", c.value))
                            .collect();
                        let _ = writeln!(o, "c = {{ {} }}  # held fixed", items.join(", "));
                    }
                }
            }
            if let Some(t) = table(r, "a1") {
                let _ = writeln!(o, "a1 = {t}");
            }
        }
        ModelKind::MassAction => {
            let items: Vec<String> = r
                .elements
                .iter()
                .filter_map(|e| {
                    r.param(Some(e), "log10_k")
                        .map(|p| format!("{e} = {:?}", 10f64.powf(p.value)))
                })
                .collect();
            let _ = writeln!(o, "k_ex = {{ {} }}", items.join(", "));
            let n = r
                .param(None, "n")
                .map(|p| p.value)
                .or_else(|| r.fixed.iter().find(|f| f.name == "n").map(|f| f.value));
            if let Some(n) = n {
                let _ = writeln!(o, "n_extractant = {n:?}");
            }
            if let Some(z) = r.param(None, "z") {
                let _ = writeln!(o, "z_proton = {:?}", z.value);
            } else if let Some(z) = r
                .fixed
                .iter()
                .find(|f| f.name == "z" && f.reason.contains("--z"))
            {
                let _ = writeln!(o, "z_proton = {:?}", z.value);
            }
        }
    }
    o
}
