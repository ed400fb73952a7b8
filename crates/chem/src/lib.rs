//! sxplan-chem: elements, oxides, extractant systems, equilibrium data with provenance, and unit parsing.
//!
//! ```
//! use sxplan_chem::units::{expect, Dimension};
//! use sxplan_chem::{extractant, Element};
//!
//! // One canonical element table: Z, IUPAC/CIAAW molar mass, ion charge, commercial oxide.
//! let nd = Element::Nd;
//! assert_eq!((nd.z(), nd.charge(), nd.oxide().formula), (60, 3, "Nd2O3"));
//! assert_eq!(nd.mol_per_tonne_oxide().round(), 5944.0);
//!
//! // Quantities as written in a flowsheet, converted to one internal unit per kind.
//! let flow_vol_aq = expect("1.2 m3/h", Dimension::VolumetricFlow).unwrap(); // L/h
//! assert_eq!(flow_vol_aq, 1200.0);
//! let err = expect("1.2 m3/h", Dimension::MolarConcentration).unwrap_err();
//! assert_eq!(err.span(), 4..8); // byte range of "m3/h", for a caret
//!
//! // Extractant systems by any alias; every number carries its source and quality tag.
//! let p507 = extractant::find("PC-88A").unwrap();
//! let set = &p507.separation_factors[0];
//! assert_eq!(set.sep_factor(Element::Pr, Element::Ce), Some(2.28));
//! println!("{} ({})", set.provenance.source, set.provenance.quality.as_str());
//! // A pair no source gives is absent, never invented: the flowsheet must supply it.
//! assert_eq!(set.sep_factor(Element::Dy, Element::Tb), None);
//! assert_eq!(extractant::did_you_mean("P057"), Some("P507"));
//! ```
//!
//! Pure data and pure functions; no I/O. Module map:
//! - [`Element`] and [`ELEMENT_TABLE`]: the tracked species (La..Lu without Pm, Y, Sc and the
//!   leach-liquor impurities Na, Mg, Al, Ca, Mn, Fe) with Z, molar mass, charge and oxide.
//! - [`units`]: `"1.2 m3/h"`-style quantities with byte-span errors ([`UnitError`]).
//! - [`extractant`]: extractant systems (P507, D2EHPA, Cyanex 272, naphthenic acid, TBP, ...)
//!   with sourced separation factors, extraction constants, empirical log D correlations and
//!   distribution ratios.
//! - [`formula`]: molar masses of reagent and extractant formulas.
//! - [`mud`], [`leach`], [`prices`]: Minamitorishima mud, leach and price data.
//!
//! The catalogue of every built-in datum, and of what is missing, is `docs/data/chemistry.md`.

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
pub use extractant::ExtractantSystem;
pub use provenance::{Provenance, Quality};
pub use units::{parse_quantity, Dimension, Quantity, UnitError};
