//! Quantities with units as written in flowsheets ("1.2 m3/h", "0.5 M", "36 %"), parsed into one internal unit per kind.
//!
//! Internal units (convert only at the edges):
//!
//! | dimension | internal unit | accepted spellings |
//! |---|---|---|
//! | [`Dimension::VolumetricFlow`] | L/h | `m3/h`, `m3/d`, `L/h`, `L/min`, `L/s`, `mL/min`, ... |
//! | [`Dimension::MolarConcentration`] | mol/L | `mol/L`, `M`, `mmol/L`, `mM`, `mol/m3` |
//! | [`Dimension::MassConcentration`] | g/L | `g/L`, `mg/L`, `ug/L`, `kg/m3`, `g/m3` |
//! | [`Dimension::Fraction`] | fraction 0..1 | `%`, `ppm`, `ppb` (mass or mole fraction, by context) |
//! | [`Dimension::MassFlow`] | kg/h | `kg/h`, `t/h`, `t/d`, `kg/d`, `g/h`, `kg/min` |
//! | [`Dimension::MolarFlow`] | mol/h | `mol/h`, `kmol/h`, `mol/min`, `mol/s`, `mol/d` |
//! | [`Dimension::Volume`] | L | `L`, `mL`, `m3` |
//! | [`Dimension::Time`] | h | `s`, `min`, `h`, `d` |
//! | [`Dimension::Mass`] | kg | `g`, `kg`, `t` |
//! | [`Dimension::PricePerMass`] | US$/kg | `USD/kg`, `US$/kg`, `$/kg`, `USD/t`, `USD/g` |
//! | [`Dimension::Dimensionless`] | 1 | a bare number |
//!
//! `t` is the metric tonne (1,000 kg), `d` a day of 24 h. Annual rates (t/y) are not accepted
//! because plants differ in operating days per year: convert with your own availability.

use std::ops::Range;

use thiserror::Error;

/// Physical kind of a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Dimension {
    /// Volume per time; internal unit L/h.
    VolumetricFlow,
    /// Amount per volume; internal unit mol/L.
    MolarConcentration,
    /// Mass per volume; internal unit g/L.
    MassConcentration,
    /// A part of a whole; internal value 0..1 ("36 %" is 0.36).
    Fraction,
    /// Mass per time; internal unit kg/h.
    MassFlow,
    /// Amount per time; internal unit mol/h.
    MolarFlow,
    /// Volume; internal unit L.
    Volume,
    /// Time; internal unit h.
    Time,
    /// Mass; internal unit kg.
    Mass,
    /// Price per mass; internal unit US$/kg.
    PricePerMass,
    /// A bare number without unit.
    Dimensionless,
}

impl Dimension {
    /// Every dimension, in declaration order.
    pub const ALL: [Dimension; 11] = [
        Dimension::VolumetricFlow,
        Dimension::MolarConcentration,
        Dimension::MassConcentration,
        Dimension::Fraction,
        Dimension::MassFlow,
        Dimension::MolarFlow,
        Dimension::Volume,
        Dimension::Time,
        Dimension::Mass,
        Dimension::PricePerMass,
        Dimension::Dimensionless,
    ];

    /// Noun phrase with article for messages, internal unit, and a typical written value: one
    /// row per dimension, so the three stay together.
    const fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Dimension::VolumetricFlow => ("a volumetric flow", "L/h", "1.2 m3/h"),
            Dimension::MolarConcentration => ("a molar concentration", "mol/L", "0.5 mol/L"),
            Dimension::MassConcentration => ("a mass concentration", "g/L", "4 g/L"),
            Dimension::Fraction => ("a fraction", "fraction", "36 %"),
            Dimension::MassFlow => ("a mass flow", "kg/h", "15 t/h"),
            Dimension::MolarFlow => ("a molar flow", "mol/h", "10 mol/h"),
            Dimension::Volume => ("a volume", "L", "2 m3"),
            Dimension::Time => ("a time", "h", "3 min"),
            Dimension::Mass => ("a mass", "kg", "1 t"),
            Dimension::PricePerMass => ("a price per mass", "US$/kg", "56 USD/kg"),
            Dimension::Dimensionless => ("a plain number", "1", "0.5"),
        }
    }

    /// Noun phrase with article for messages: "a volumetric flow".
    pub fn describe(self) -> &'static str {
        self.info().0
    }

    /// The internal unit values of this dimension are expressed in ("L/h", "mol/L", ...).
    pub fn internal_unit(self) -> &'static str {
        self.info().1
    }

    /// A typical value as it would be written in a flowsheet, for help texts (`"1.2 m3/h"`).
    pub fn example(self) -> &'static str {
        self.info().2
    }

    /// The first unit of [`UNITS`] of this dimension with factor 1: the internal unit as the
    /// parser spells it (`None` for fractions and plain numbers, which have no such unit).
    fn unit_symbol(self) -> Option<&'static str> {
        UNITS
            .iter()
            .find(|u| u.dimension == self && u.factor == 1.0)
            .map(|u| u.symbol)
    }

    /// Help text listing the accepted units: `accepted units: m3/h, L/h, ...`.
    pub fn help(self) -> String {
        if self == Dimension::Dimensionless {
            return "write a plain number such as 0.5 or 1e-3".to_string();
        }
        let units: Vec<&str> = UNITS
            .iter()
            .filter(|u| u.dimension == self)
            .map(|u| u.symbol)
            .collect();
        let mut text = format!(
            "{} is written as a number and one of: {}",
            self.describe(),
            units.join(", ")
        );
        if self == Dimension::Fraction {
            text.push_str(" (or a plain number between 0 and 1)");
        }
        text
    }

    /// Whether a quantity of dimension `found` is acceptable where `self` is expected.
    ///
    /// Only a bare number is accepted in place of a fraction (0.36 for 36 %).
    pub fn accepts(self, found: Dimension) -> bool {
        self == found || (self == Dimension::Fraction && found == Dimension::Dimensionless)
    }
}

impl std::fmt::Display for Dimension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe().split_once(' ').map_or("", |(_, noun)| noun))
    }
}

/// A number with its dimension; `value` is in the dimension's internal unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    /// Value in the internal unit of `dimension` (see the module docs).
    pub value: f64,
    /// Physical kind.
    pub dimension: Dimension,
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_quantity(self.value, self.dimension))
    }
}

impl Quantity {
    /// Converts a mass concentration (g/L) of `element` into a molar concentration (mol/L), or a
    /// mass flow (kg/h) into a molar flow (mol/h); other dimensions and overflow give `None`.
    pub fn to_molar(self, element: crate::Element) -> Option<Quantity> {
        let q = match self.dimension {
            Dimension::MassConcentration => Some(Quantity {
                value: element.mol_from_mass(self.value),
                dimension: Dimension::MolarConcentration,
            }),
            Dimension::MassFlow => Some(Quantity {
                value: element.mol_from_mass(self.value * 1000.0),
                dimension: Dimension::MolarFlow,
            }),
            _ => None,
        };
        q.filter(|q| q.value.is_finite())
    }

    /// Converts a molar concentration (mol/L) of `element` into g/L, or a molar flow (mol/h) into
    /// kg/h; other dimensions and overflow give `None`.
    pub fn to_mass(self, element: crate::Element) -> Option<Quantity> {
        let q = match self.dimension {
            Dimension::MolarConcentration => Some(Quantity {
                value: element.mass_from_mol(self.value),
                dimension: Dimension::MassConcentration,
            }),
            Dimension::MolarFlow => Some(Quantity {
                value: element.mass_from_mol(self.value) / 1000.0,
                dimension: Dimension::MassFlow,
            }),
            _ => None,
        };
        q.filter(|q| q.value.is_finite())
    }
}

/// Why a quantity could not be read. Every variant carries the byte range of the offending part
/// of the text (for a caret under it) and a help line listing what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UnitError {
    /// The text is empty or only whitespace.
    #[error("empty quantity")]
    Empty {
        /// Byte range of the whole (blank) text.
        span: Range<usize>,
        /// What to write instead.
        help: String,
    },
    /// The text does not start with a number ("abc", "m3/h", "nan", "1,5 M").
    #[error("expected a number, found '{found}'")]
    InvalidNumber {
        /// The offending text.
        found: String,
        /// Byte range of the offending text.
        span: Range<usize>,
        /// What to write instead.
        help: String,
    },
    /// The number overflows to infinity ("1e999").
    #[error("number '{found}' is too large")]
    NotFinite {
        /// The number as written.
        found: String,
        /// Byte range of the number.
        span: Range<usize>,
        /// What to write instead.
        help: String,
    },
    /// The unit after the number is not known ("5 furlongs", "2 m/s").
    #[error("unknown unit '{unit}'")]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// Byte range of the unit.
        span: Range<usize>,
        /// Accepted units (of the expected dimension, if one is expected).
        help: String,
    },
    /// The unit is known but of another dimension than expected ("m3/h" where a concentration belongs).
    #[error("expected {}, found {} '{unit}'", .expected.describe(), .found.describe())]
    WrongDimension {
        /// What the caller expected.
        expected: Dimension,
        /// What the text is.
        found: Dimension,
        /// The unit as written (empty for a bare number).
        unit: String,
        /// Byte range of the unit (of the number, for a bare number).
        span: Range<usize>,
        /// Accepted units of the expected dimension.
        help: String,
    },
}

impl UnitError {
    /// Byte range within the parsed text of the part the error is about.
    pub fn span(&self) -> Range<usize> {
        match self {
            UnitError::Empty { span, .. }
            | UnitError::InvalidNumber { span, .. }
            | UnitError::NotFinite { span, .. }
            | UnitError::UnknownUnit { span, .. }
            | UnitError::WrongDimension { span, .. } => span.clone(),
        }
    }

    /// Help line: which units or forms are accepted.
    pub fn help(&self) -> &str {
        match self {
            UnitError::Empty { help, .. }
            | UnitError::InvalidNumber { help, .. }
            | UnitError::NotFinite { help, .. }
            | UnitError::UnknownUnit { help, .. }
            | UnitError::WrongDimension { help, .. } => help,
        }
    }
}

/// A unit spelling, its dimension and the factor to the internal unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitDef {
    /// Canonical spelling (what help texts show).
    pub symbol: &'static str,
    /// Physical kind.
    pub dimension: Dimension,
    /// Multiply a value in this unit by `factor` to get the internal unit.
    pub factor: f64,
}

const fn unit(symbol: &'static str, dimension: Dimension, factor: f64) -> UnitDef {
    UnitDef {
        symbol,
        dimension,
        factor,
    }
}

/// Every accepted unit. Conversion factors are exact definitions (1 m3 = 1,000 L, 1 t = 1,000 kg,
/// 1 d = 24 h). Spellings are matched after [`normalize_unit`].
pub const UNITS: &[UnitDef] = &[
    unit("m3/h", Dimension::VolumetricFlow, 1000.0),
    unit("m3/d", Dimension::VolumetricFlow, 1000.0 / 24.0),
    unit("m3/min", Dimension::VolumetricFlow, 60_000.0),
    unit("L/h", Dimension::VolumetricFlow, 1.0),
    unit("L/min", Dimension::VolumetricFlow, 60.0),
    unit("L/s", Dimension::VolumetricFlow, 3600.0),
    unit("L/d", Dimension::VolumetricFlow, 1.0 / 24.0),
    unit("mL/min", Dimension::VolumetricFlow, 0.06),
    unit("mL/h", Dimension::VolumetricFlow, 0.001),
    unit("mol/L", Dimension::MolarConcentration, 1.0),
    unit("M", Dimension::MolarConcentration, 1.0),
    unit("mmol/L", Dimension::MolarConcentration, 0.001),
    unit("mM", Dimension::MolarConcentration, 0.001),
    unit("mol/m3", Dimension::MolarConcentration, 0.001),
    unit("g/L", Dimension::MassConcentration, 1.0),
    unit("mg/L", Dimension::MassConcentration, 0.001),
    unit("ug/L", Dimension::MassConcentration, 1e-6),
    unit("kg/m3", Dimension::MassConcentration, 1.0),
    unit("g/m3", Dimension::MassConcentration, 0.001),
    unit("%", Dimension::Fraction, 0.01),
    unit("ppm", Dimension::Fraction, 1e-6),
    unit("ppb", Dimension::Fraction, 1e-9),
    unit("kg/h", Dimension::MassFlow, 1.0),
    unit("t/h", Dimension::MassFlow, 1000.0),
    unit("t/d", Dimension::MassFlow, 1000.0 / 24.0),
    unit("kg/d", Dimension::MassFlow, 1.0 / 24.0),
    unit("kg/min", Dimension::MassFlow, 60.0),
    unit("g/h", Dimension::MassFlow, 0.001),
    unit("mol/h", Dimension::MolarFlow, 1.0),
    unit("kmol/h", Dimension::MolarFlow, 1000.0),
    unit("mol/min", Dimension::MolarFlow, 60.0),
    unit("mol/s", Dimension::MolarFlow, 3600.0),
    unit("mol/d", Dimension::MolarFlow, 1.0 / 24.0),
    unit("L", Dimension::Volume, 1.0),
    unit("mL", Dimension::Volume, 0.001),
    unit("m3", Dimension::Volume, 1000.0),
    unit("s", Dimension::Time, 1.0 / 3600.0),
    unit("min", Dimension::Time, 1.0 / 60.0),
    unit("h", Dimension::Time, 1.0),
    unit("d", Dimension::Time, 24.0),
    unit("g", Dimension::Mass, 0.001),
    unit("kg", Dimension::Mass, 1.0),
    unit("t", Dimension::Mass, 1000.0),
    unit("USD/kg", Dimension::PricePerMass, 1.0),
    unit("USD/t", Dimension::PricePerMass, 0.001),
    unit("USD/g", Dimension::PricePerMass, 1000.0),
];

/// Alternative spellings, mapped to a canonical symbol of [`UNITS`].
const ALIASES: &[(&str, &str)] = &[
    ("m^3/h", "m3/h"),
    ("m³/h", "m3/h"),
    ("m3/hr", "m3/h"),
    ("m^3/d", "m3/d"),
    ("m³/d", "m3/d"),
    ("m3/day", "m3/d"),
    ("l/h", "L/h"),
    ("L/hr", "L/h"),
    ("l/min", "L/min"),
    ("l/s", "L/s"),
    ("l/d", "L/d"),
    ("ml/min", "mL/min"),
    ("ml/h", "mL/h"),
    ("mol/l", "mol/L"),
    ("mol/dm3", "mol/L"),
    ("mmol/l", "mmol/L"),
    ("mol/m^3", "mol/m3"),
    ("g/l", "g/L"),
    ("mg/l", "mg/L"),
    ("µg/L", "ug/L"),
    ("μg/L", "ug/L"),
    ("ug/l", "ug/L"),
    ("kg/m^3", "kg/m3"),
    ("g/m^3", "g/m3"),
    ("percent", "%"),
    ("kg/hr", "kg/h"),
    ("t/hr", "t/h"),
    ("t/day", "t/d"),
    ("tpd", "t/d"),
    ("tph", "t/h"),
    ("kg/day", "kg/d"),
    ("mol/hr", "mol/h"),
    ("mol/day", "mol/d"),
    ("l", "L"),
    ("ml", "mL"),
    ("m^3", "m3"),
    ("m³", "m3"),
    ("sec", "s"),
    ("hr", "h"),
    ("day", "d"),
    ("days", "d"),
    ("tonne", "t"),
    ("tonnes", "t"),
    ("US$/kg", "USD/kg"),
    ("$/kg", "USD/kg"),
    ("USD/tonne", "USD/t"),
    ("US$/t", "USD/t"),
    ("$/t", "USD/t"),
    ("US$/g", "USD/g"),
    ("$/g", "USD/g"),
];

/// Removes whitespace inside a unit ("m3 / h" -> "m3/h").
pub fn normalize_unit(unit: &str) -> String {
    unit.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Looks a unit spelling up (after [`normalize_unit`]); `None` if unknown.
pub fn lookup_unit(unit: &str) -> Option<&'static UnitDef> {
    let norm = normalize_unit(unit);
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| *alias == norm)
        .map_or(norm.as_str(), |(_, canon)| canon);
    UNITS.iter().find(|u| u.symbol == canonical)
}

fn all_units_help() -> String {
    let mut parts = Vec::new();
    for d in Dimension::ALL {
        let units: Vec<&str> = UNITS
            .iter()
            .filter(|u| u.dimension == d)
            .map(|u| u.symbol)
            .collect();
        if !units.is_empty() {
            parts.push(format!("{} ({})", d, units.join(", ")));
        }
    }
    format!("accepted units: {}", parts.join("; "))
}

/// Length in bytes of the longest prefix of `s` that is a decimal number
/// (`[+-]digits[.digits][(e|E)[+-]digits]`, also `.5` and `5.`); 0 if none.
fn number_prefix_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        digits += j - frac_start;
        if digits > 0 {
            i = j;
        }
    }
    if digits == 0 {
        return 0;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    i
}

/// Parses the number part and returns (value, span of number, unit text, span of unit).
fn split(
    text: &str,
    help: impl Fn() -> String,
) -> Result<(f64, Range<usize>, Range<usize>), UnitError> {
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len();
    if start >= end {
        return Err(UnitError::Empty {
            span: 0..text.len(),
            help: help(),
        });
    }
    let body = &text[start..end];
    let n = number_prefix_len(body);
    if n == 0 {
        let word_end = body
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(body.len(), |(i, _)| i);
        return Err(UnitError::InvalidNumber {
            found: body[..word_end].to_string(),
            span: start..start + word_end,
            help: help(),
        });
    }
    let num_text = &body[..n];
    let num_span = start..start + n;
    let value: f64 = match num_text.parse() {
        Ok(v) => v,
        Err(_) => {
            return Err(UnitError::InvalidNumber {
                found: num_text.to_string(),
                span: num_span,
                help: help(),
            })
        }
    };
    if !value.is_finite() {
        return Err(UnitError::NotFinite {
            found: num_text.to_string(),
            span: num_span,
            help: help(),
        });
    }
    let rest = &body[n..];
    let unit_lead = rest.len() - rest.trim_start().len();
    let unit_span = start + n + unit_lead..end;
    // A number glued to more digits or a separator ("1,5", "1.2.3") is not a number followed by a unit.
    if let Some(c) = rest.chars().next() {
        if unit_lead == 0 && (c.is_ascii_digit() || c == ',' || c == '.') {
            return Err(UnitError::InvalidNumber {
                found: body.split_whitespace().next().unwrap_or(body).to_string(),
                span: start..start + body.find(char::is_whitespace).unwrap_or(body.len()),
                help: "write the number with a decimal point and no thousands separators, e.g. 10000 or 1.5e4"
                    .to_string(),
            });
        }
    }
    Ok((value, num_span, unit_span))
}

/// Converts `value` (in unit `def`) to the internal unit; an overflow to infinity is an error at
/// the number's span.
fn convert(
    text: &str,
    value: f64,
    def: &UnitDef,
    num_span: Range<usize>,
) -> Result<f64, UnitError> {
    let converted = value * def.factor;
    if converted.is_finite() {
        Ok(converted)
    } else {
        Err(UnitError::NotFinite {
            found: text[num_span.clone()].to_string(),
            span: num_span,
            help: format!(
                "the value overflows when converted from {} to {}",
                def.symbol,
                def.dimension.internal_unit()
            ),
        })
    }
}

/// Parses a quantity such as `"1.2 m3/h"`, `"0.5 M"`, `"36 %"` or `"0.999"` into its internal unit.
///
/// Whitespace around and between number and unit is ignored; the number may use scientific
/// notation (`"1.5e-3 mol/L"`). NaN, infinities, thousands separators and unknown units are errors
/// carrying the byte range of the offending part.
///
/// ```
/// use sxplan_chem::units::{parse_quantity, Dimension};
/// let q = parse_quantity("1.2 m3/h").unwrap();
/// assert_eq!(q.dimension, Dimension::VolumetricFlow);
/// assert!((q.value - 1200.0).abs() < 1e-9); // L/h
/// let err = parse_quantity("5 furlongs").unwrap_err();
/// assert_eq!(err.span(), 2..10);
/// ```
pub fn parse_quantity(text: &str) -> Result<Quantity, UnitError> {
    parse(text, None)
}

/// Parses `text` and requires dimension `expected`; returns the value in the internal unit.
///
/// A bare number is accepted where a fraction is expected (`"0.36"` = `"36 %"`).
///
/// ```
/// use sxplan_chem::units::{expect, Dimension};
/// assert_eq!(expect("120 mg/L", Dimension::MassConcentration).unwrap(), 0.12);
/// let err = expect("1.2 m3/h", Dimension::MolarConcentration).unwrap_err();
/// assert_eq!(err.to_string(), "expected a molar concentration, found a volumetric flow 'm3/h'");
/// assert_eq!(err.span(), 4..8);
/// ```
pub fn expect(text: &str, expected: Dimension) -> Result<f64, UnitError> {
    parse(text, Some(expected)).map(|q| q.value)
}

/// [`parse_quantity`] (`expected` = `None`: any unit, help lists every unit) and [`expect`]
/// (a quantity of `expected`, help lists its units) in one.
fn parse(text: &str, expected: Option<Dimension>) -> Result<Quantity, UnitError> {
    let help = || expected.map_or_else(all_units_help, Dimension::help);
    let (value, num_span, unit_span) = split(text, help)?;
    let unit_text = &text[unit_span.clone()];
    if unit_text.is_empty() {
        return match expected {
            Some(d) if !d.accepts(Dimension::Dimensionless) => Err(UnitError::WrongDimension {
                expected: d,
                found: Dimension::Dimensionless,
                unit: String::new(),
                span: num_span,
                help: help(),
            }),
            _ => Ok(Quantity {
                value,
                dimension: Dimension::Dimensionless,
            }),
        };
    }
    match lookup_unit(unit_text) {
        Some(def) => match expected {
            Some(d) if !d.accepts(def.dimension) => Err(UnitError::WrongDimension {
                expected: d,
                found: def.dimension,
                unit: unit_text.to_string(),
                span: unit_span,
                help: help(),
            }),
            _ => Ok(Quantity {
                value: convert(text, value, def, num_span)?,
                dimension: def.dimension,
            }),
        },
        None => Err(UnitError::UnknownUnit {
            unit: unit_text.to_string(),
            span: unit_span,
            help: help(),
        }),
    }
}

/// Formats a value given in the internal unit of `dimension` as text that [`parse_quantity`]
/// reads back to the same value (shortest round-trip float formatting).
pub fn format_quantity(value: f64, dimension: Dimension) -> String {
    match (dimension, dimension.unit_symbol()) {
        (Dimension::Fraction, _) => format!("{:?} %", value * 100.0),
        (_, Some(unit)) => format!("{value:?} {unit}"),
        (_, None) => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Element;
    use proptest::prelude::*;

    fn q(text: &str) -> Quantity {
        match parse_quantity(text) {
            Ok(q) => q,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn accepted_examples() {
        let cases: &[(&str, f64, Dimension)] = &[
            ("1.2 m3/h", 1200.0, Dimension::VolumetricFlow),
            ("20 L/h", 20.0, Dimension::VolumetricFlow),
            ("0.35 mol/L", 0.35, Dimension::MolarConcentration),
            ("0.5 M", 0.5, Dimension::MolarConcentration),
            ("120 mg/L", 0.12, Dimension::MassConcentration),
            ("4 g/L", 4.0, Dimension::MassConcentration),
            ("36 %", 0.36, Dimension::Fraction),
            ("36%", 0.36, Dimension::Fraction),
            ("350 t/d", 350_000.0 / 24.0, Dimension::MassFlow),
            ("2 t/h", 2000.0, Dimension::MassFlow),
            ("15 kg/h", 15.0, Dimension::MassFlow),
            ("3 min", 0.05, Dimension::Time),
            ("5 m3", 5000.0, Dimension::Volume),
            ("60 USD/kg", 60.0, Dimension::PricePerMass),
            ("60 US$/kg", 60.0, Dimension::PricePerMass),
            ("810 USD/t", 0.81, Dimension::PricePerMass),
            ("0.999", 0.999, Dimension::Dimensionless),
            ("  1.5e-3   mol/L ", 1.5e-3, Dimension::MolarConcentration),
            ("2E2 L/h", 200.0, Dimension::VolumetricFlow),
            (".5 M", 0.5, Dimension::MolarConcentration),
            ("5. M", 5.0, Dimension::MolarConcentration),
            ("1.2 m3 / h", 1200.0, Dimension::VolumetricFlow),
            ("1.2 m³/h", 1200.0, Dimension::VolumetricFlow),
            ("964 ppm", 964e-6, Dimension::Fraction),
            ("-0.5 M", -0.5, Dimension::MolarConcentration),
            ("10 mM", 0.01, Dimension::MolarConcentration),
            ("3 mol/min", 180.0, Dimension::MolarFlow),
        ];
        for (text, value, dim) in cases {
            let got = q(text);
            assert_eq!(got.dimension, *dim, "{text}");
            assert!(close(got.value, *value), "{text}: {} vs {value}", got.value);
        }
    }

    #[test]
    fn rejects_garbage_with_spans() {
        let e = parse_quantity("").unwrap_err();
        assert!(matches!(e, UnitError::Empty { .. }));
        let e = parse_quantity("   ").unwrap_err();
        assert_eq!(e.span(), 0..3);
        let e = parse_quantity("NaN").unwrap_err();
        assert!(matches!(e, UnitError::InvalidNumber { .. }), "{e:?}");
        let e = parse_quantity("inf L/h").unwrap_err();
        assert_eq!(e.span(), 0..3);
        let e = parse_quantity("  1e999 M").unwrap_err();
        assert!(matches!(e, UnitError::NotFinite { .. }));
        assert_eq!(e.span(), 2..7);
        let e = parse_quantity("5 furlongs").unwrap_err();
        assert_eq!(e.to_string(), "unknown unit 'furlongs'");
        assert_eq!(e.span(), 2..10);
        assert!(e.help().contains("m3/h"));
        let e = parse_quantity("1,5 M").unwrap_err();
        assert!(matches!(e, UnitError::InvalidNumber { .. }));
        assert_eq!(e.span(), 0..3);
        let e = parse_quantity("m3/h").unwrap_err();
        assert_eq!(e.to_string(), "expected a number, found 'm3/h'");
        let e = parse_quantity("20e304m3/h").unwrap_err();
        assert!(matches!(e, UnitError::NotFinite { .. }), "{e:?}");
        assert_eq!(e.span(), 0..6);
        assert!(expect("1e308 t/h", Dimension::MassFlow).is_err());
        let e = parse_quantity("2 t/y").unwrap_err();
        assert!(matches!(e, UnitError::UnknownUnit { .. }));
        assert_eq!(e.span(), 2..5);
    }

    #[test]
    fn expect_reports_wrong_dimension() {
        let e = expect("1.2 m3/h", Dimension::MolarConcentration).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a molar concentration, found a volumetric flow 'm3/h'"
        );
        assert_eq!(e.span(), 4..8);
        assert!(e.help().contains("mol/L"));
        assert!(!e.help().contains("m3/h"));
        let e = expect("  7 ", Dimension::VolumetricFlow).unwrap_err();
        assert!(matches!(
            e,
            UnitError::WrongDimension {
                found: Dimension::Dimensionless,
                ..
            }
        ));
        assert_eq!(e.span(), 2..3);
        assert_eq!(expect("0.36", Dimension::Fraction), Ok(0.36));
        assert_eq!(expect("36 %", Dimension::Fraction), Ok(0.36));
        assert!(expect("36 %", Dimension::Dimensionless).is_err());
        let e = expect("4 bananas", Dimension::MassConcentration).unwrap_err();
        assert!(e.help().starts_with("a mass concentration is written as"));
    }

    #[test]
    fn molar_mass_conversion() {
        let g = q("144.242 g/L");
        let m = g.to_molar(Element::Nd).unwrap();
        assert_eq!(m.dimension, Dimension::MolarConcentration);
        assert!(close(m.value, 1.0));
        assert_eq!(m.to_string(), format!("{:?} mol/L", m.value));
        let back = m.to_mass(Element::Nd).unwrap();
        assert!(close(back.value, 144.242));
        let flow = q("1 t/h").to_molar(Element::Y).unwrap();
        assert!(close(flow.value, 1.0e6 / 88.905838));
        assert!(q("1 L/h").to_molar(Element::Y).is_none());
        assert!(q("1e305 t/h").to_molar(Element::Y).is_none());
    }

    #[test]
    fn formatted_quantities_use_the_internal_unit() {
        let cases = [
            (Dimension::VolumetricFlow, "2.0 L/h"),
            (Dimension::MolarConcentration, "2.0 mol/L"),
            (Dimension::MassConcentration, "2.0 g/L"),
            (Dimension::Fraction, "200.0 %"),
            (Dimension::MassFlow, "2.0 kg/h"),
            (Dimension::MolarFlow, "2.0 mol/h"),
            (Dimension::Volume, "2.0 L"),
            (Dimension::Time, "2.0 h"),
            (Dimension::Mass, "2.0 kg"),
            (Dimension::PricePerMass, "2.0 USD/kg"),
            (Dimension::Dimensionless, "2.0"),
        ];
        assert_eq!(cases.len(), Dimension::ALL.len());
        for (d, text) in cases {
            assert_eq!(format_quantity(2.0, d), text, "{d:?}");
            // the internal unit converts with factor 1
            if let Some(u) = lookup_unit(d.internal_unit()) {
                assert_eq!((u.dimension, u.factor), (d, 1.0), "{d:?}");
            }
        }
    }

    #[test]
    fn every_unit_and_alias_resolves() {
        for u in UNITS {
            assert_eq!(lookup_unit(u.symbol).map(|d| d.symbol), Some(u.symbol));
            assert!(u.factor > 0.0 && u.factor.is_finite());
        }
        for (alias, canon) in ALIASES {
            assert_eq!(
                lookup_unit(alias).map(|d| d.symbol),
                Some(*canon),
                "{alias}"
            );
        }
        for d in Dimension::ALL {
            let example = parse_quantity(d.example()).map(|q| q.dimension);
            assert!(example.is_ok_and(|found| d.accepts(found)), "{d:?}");
            assert!(!d.help().is_empty());
            assert!(d.describe().split(' ').count() >= 2);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics(s in "\\PC*") {
            let r = parse_quantity(&s);
            if let Err(e) = &r {
                let span = e.span();
                prop_assert!(span.start <= span.end && span.end <= s.len());
                prop_assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
            }
            if let Ok(q) = r {
                prop_assert!(q.value.is_finite());
            }
            for d in Dimension::ALL {
                if let Ok(v) = expect(&s, d) {
                    prop_assert!(v.is_finite());
                }
            }
        }

        #[test]
        fn never_panics_near_valid(num in "[-+]?[0-9]{0,4}\\.?[0-9]{0,3}([eE][-+]?[0-9]{1,4})?",
                                   sep in "[ \\t]{0,2}",
                                   unit in "(m3/h|L/h|M|mol/L|mg/L|%|t/d|kg|USD/kg|x|m3/|µg/L|)") {
            let s = format!("{num}{sep}{unit}");
            if let Ok(q) = parse_quantity(&s) {
                prop_assert!(q.value.is_finite());
            }
        }

        #[test]
        fn round_trip(value in -1e12f64..1e12, idx in 0usize..11) {
            let dim = Dimension::ALL[idx];
            let text = format_quantity(value, dim);
            let back = parse_quantity(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert!(dim.accepts(back.dimension) || back.dimension == dim);
            prop_assert!((back.value - value).abs() <= 1e-12 * value.abs().max(1e-300), "{} -> {} -> {}", value, text, back.value);
        }

        #[test]
        fn scaling_is_linear(value in 0.0f64..1e6, idx in 0usize..46) {
            let u = &UNITS[idx % UNITS.len()];
            let text = format!("{value:?} {}", u.symbol);
            let got = parse_quantity(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(got.dimension, u.dimension);
            prop_assert!((got.value - value * u.factor).abs() <= 1e-12 * (value * u.factor).abs().max(1e-300));
        }
    }
}
