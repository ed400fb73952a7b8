//! sxplan-design: cascade design of a solvent-extraction split, from Xu Guangxian's shortcut theory
//! to a rigorous minimum stage count confirmed by the simulator.
//!
//! ```
//! use sxplan_design::shortcut::{shortcut, Control, FeedPhase, Reflux};
//!
//! // Zhang, Zhao & Schreiner (2016): beta = 2, equimolar aqueous feed, P_A 99.9 %, P_B 99.99 %.
//! let sc = shortcut(0.5, 2.0, 2.0, 0.999, 0.9999, FeedPhase::Aqueous, Reflux::XuOptimum)?;
//! assert_eq!(sc.control, Control::Scrub);
//! assert!((sc.chosen.e_prime_m - 1.414).abs() < 1e-3);
//! assert!((sc.chosen.e_m - 0.773).abs() < 1e-3);
//! # Ok::<(), sxplan_design::DesignError>(())
//! ```
//!
//! No I/O: every function takes data and returns data.

mod error;

pub mod cut;
pub mod flows;
pub mod flowsheet;
pub mod search;
pub mod sensitivity;
pub mod shortcut;
pub mod synthesis;

pub use cut::{binary_spec, design_cut, group_fraction_a, Component, CutDesign, CutSpec, Group};
pub use error::DesignError;
pub use search::{SearchOptions, SearchStatus};
pub use sensitivity::{sensitivity, Sensitivity};
pub use synthesis::{synthesize, SynthObjective, Synthesis, SynthesisSpec};
