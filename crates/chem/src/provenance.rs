//! Provenance of built-in data: where a number comes from and how much to trust it.

use serde::Serialize;

/// How a built-in number was obtained. Output states this next to every datum it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Read directly from a measurement table or official data sheet.
    Measured,
    /// A correlation fitted to measurements by the cited source.
    Fitted,
    /// Derived by us from sourced inputs with a written-down method.
    Estimated,
    /// A placeholder that shows how a feature works; never use it to size a plant.
    Illustrative,
}

impl Quality {
    /// Lowercase name used in TOML, JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Measured => "measured",
            Quality::Fitted => "fitted",
            Quality::Estimated => "estimated",
            Quality::Illustrative => "illustrative",
        }
    }
}

/// Citation and quality tag of one built-in datum or table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// Short citation: author(s), year, title or document, table or equation.
    pub source: &'static str,
    /// How the number was obtained.
    pub quality: Quality,
}
