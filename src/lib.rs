//! sxplan: planner for rare-earth solvent-extraction separation plants (facade and CLI).
//!
//! The library re-exports the public API of the workspace crates so plant-design tools
//! depend on one crate; the [`cli`] module is the `sxplan` binary, callable in-process.

pub mod api;
pub mod cli;

pub use sxplan_chem as chem;
pub use sxplan_design as design;
pub use sxplan_graph as graph;
pub use sxplan_model as model;
pub use sxplan_opt as opt;
pub use sxplan_sim as sim;
