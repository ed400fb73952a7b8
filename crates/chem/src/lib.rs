//! sxplan-chem: elements, oxides, extractant systems, equilibrium data with provenance, and unit parsing.
//!
//! Pure data and pure functions; no I/O.

mod element;
mod provenance;

pub mod extractant;
pub mod formula;
pub mod leach;
pub mod mud;
pub mod prices;
pub mod units;

pub use element::{
    element_provenance, Element, ElementData, Oxide, ELEMENT_TABLE, OXYGEN_MOLAR_MASS,
};
pub use provenance::{Provenance, Quality};
pub use units::{parse_quantity, Dimension, Quantity, UnitError};
