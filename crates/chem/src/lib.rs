//! sxplan-chem: elements, oxides, extractant systems, equilibrium data with provenance, and unit parsing.
//!
//! Pure data and pure functions; no I/O.

mod element;
mod provenance;

pub mod leach;
pub mod mud;
pub mod prices;

pub use element::Element;
pub use provenance::{Provenance, Quality};
