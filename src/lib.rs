//! sxplan: planner for rare-earth solvent-extraction separation plants.
//!
//! Load a flowsheet, simulate it, read the result:
//!
//! ```
//! let loaded = sxplan::load_path("flowsheets/pr-nd.toml", &sxplan::LoadOptions::default())?;
//! let result = sxplan::simulate(loaded.flowsheet()?, &sxplan::SimulateSettings::default())?;
//! let nd = result.products.iter().find(|p| p.id == "Nd_chloride").expect("a product");
//! println!("{}: Nd purity {:.4} % ({})", nd.id, 100.0 * nd.purity_mol, result.status);
//! assert!(result.status.is_converged() && nd.purity_mol > 0.999);
//! # Ok::<(), sxplan::Error>(())
//! ```
//!
//! The facade ([`api`], re-exported here) is what a plant-design tool needs: [`load_path`] /
//! [`load_str`] (every problem of the flowsheet as a located [`Diagnostic`]), [`simulate`],
//! [`design`] (with [`circuit_cut`]), [`optimize`] (its [`Optimization`] carries the optimized
//! flowsheet as TOML text), plant [`scale_plant`] / [`run_scenario`]. Each returns plain data
//! with a status, or an [`Error`]; none prints or panics. The workspace crates stay public
//! below for those who need depth; the [`cli`] module is the `sxplan` binary, callable
//! in-process, and is written on the facade.

pub mod api;
pub mod cli;

pub use api::{
    check_grade, check_price_set, circuit_cut, design, flowsheet_schema, graph, is_plant, kremser,
    load_path, load_sources, load_str, mud_feed, optimize, overview, run_scenario, scale_plant,
    simulate, simulation_json, simulation_json_with_summary, with_targets, CutTargets, Design,
    DesignEvent, DesignSettings, Diagnostic, Error, GraphSummary, Kremser, LoadError, LoadOptions,
    Loaded, MudFeed, Optimization, OptimizeSettings, Overview, RunLimits, Scenario,
    ScenarioOutcome, SimulateSettings, SourceFile,
};

pub use sxplan_chem as chem;
pub use sxplan_design as design;
pub use sxplan_fit as fit;
pub use sxplan_graph as graph;
pub use sxplan_model as model;
pub use sxplan_opt as opt;
pub use sxplan_report as report;
pub use sxplan_sim as sim;

/// The Rust example of README.md, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
