//! The one canonical element table: every species sxplan tracks in solution.
//!
//! Molar masses, oxide formulas and charges live here and nowhere else.

use serde::{Serialize, Serializer};

/// A species tracked in the aqueous and organic phases.
///
/// The rare-earth elements (La..Lu without Pm, plus Y and Sc) come first in
/// order of atomic number, then the impurities a mud leach liquor carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Element {
    Sc,
    Y,
    La,
    Ce,
    Pr,
    Nd,
    Sm,
    Eu,
    Gd,
    Tb,
    Dy,
    Ho,
    Er,
    Tm,
    Yb,
    Lu,
    Na,
    Mg,
    Al,
    Ca,
    Mn,
    Fe,
}

impl Serialize for Element {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.symbol())
    }
}

impl std::fmt::Display for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Element {
    /// Every element, in canonical order (Sc, Y, La..Lu, then impurities).
    pub const ALL: [Element; 22] = [
        Element::Sc,
        Element::Y,
        Element::La,
        Element::Ce,
        Element::Pr,
        Element::Nd,
        Element::Sm,
        Element::Eu,
        Element::Gd,
        Element::Tb,
        Element::Dy,
        Element::Ho,
        Element::Er,
        Element::Tm,
        Element::Yb,
        Element::Lu,
        Element::Na,
        Element::Mg,
        Element::Al,
        Element::Ca,
        Element::Mn,
        Element::Fe,
    ];

    /// Chemical symbol, e.g. `"Nd"`.
    pub fn symbol(self) -> &'static str {
        match self {
            Element::Sc => "Sc",
            Element::Y => "Y",
            Element::La => "La",
            Element::Ce => "Ce",
            Element::Pr => "Pr",
            Element::Nd => "Nd",
            Element::Sm => "Sm",
            Element::Eu => "Eu",
            Element::Gd => "Gd",
            Element::Tb => "Tb",
            Element::Dy => "Dy",
            Element::Ho => "Ho",
            Element::Er => "Er",
            Element::Tm => "Tm",
            Element::Yb => "Yb",
            Element::Lu => "Lu",
            Element::Na => "Na",
            Element::Mg => "Mg",
            Element::Al => "Al",
            Element::Ca => "Ca",
            Element::Mn => "Mn",
            Element::Fe => "Fe",
        }
    }

    /// Parses an exact chemical symbol (`"Nd"`, not `"nd"`).
    pub fn from_symbol(s: &str) -> Option<Element> {
        Element::ALL.iter().copied().find(|e| e.symbol() == s)
    }

    /// Position in [`Element::ALL`]; dense index for per-element vectors.
    pub fn index(self) -> usize {
        self as usize
    }

    /// True for the rare-earth elements La..Lu and Y (the "REY" of the mud literature).
    pub fn is_rey(self) -> bool {
        !matches!(
            self,
            Element::Sc
                | Element::Na
                | Element::Mg
                | Element::Al
                | Element::Ca
                | Element::Mn
                | Element::Fe
        )
    }
}
