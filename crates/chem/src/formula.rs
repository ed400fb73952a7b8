//! Molar masses of simple chemical formulas (reagents, extractants) from standard atomic weights.
//!
//! The tracked metals take their atomic weight from the canonical element table
//! ([`crate::Element::molar_mass`]); the light atoms that only occur in reagents and
//! extractants (H, C, N, O, P, S, Cl) are listed here once. Both come from the same source:
//! IUPAC/CIAAW standard atomic weights 2021 (Prohaska et al. 2022, Pure Appl. Chem. 94:573,
//! Table 1), using the CIAAW conventional values where the standard value is an interval
//! (H 1.008, C 12.011, N 14.007, O 15.999, S 32.06, Cl 35.45).

use crate::element::OXYGEN_MOLAR_MASS;
use crate::Element;

/// Atomic weights (g/mol) of light atoms that sxplan does not track as solutes.
const LIGHT_ATOMS: [(&str, f64); 7] = [
    ("H", 1.008),
    ("C", 12.011),
    ("N", 14.007),
    ("O", OXYGEN_MOLAR_MASS),
    ("P", 30.973761998),
    ("S", 32.06),
    ("Cl", 35.45),
];

fn atomic_weight(symbol: &str) -> Option<f64> {
    LIGHT_ATOMS
        .iter()
        .find(|(s, _)| *s == symbol)
        .map(|(_, m)| *m)
        .or_else(|| Element::from_symbol(symbol).map(Element::molar_mass))
}

/// Molar mass in g/mol of a formula such as `"C16H35O3P"`, `"Nd2O3"`, `"H2C2O4.2H2O"` or
/// `"(C4H9O)3PO"`.
///
/// Accepts element symbols (the light atoms above and every [`Element`]), counts, one level or
/// more of parentheses, and hydrate dots (`.` or `·`) followed by an optional multiplier.
/// Returns `None` for anything else (unknown symbols, unbalanced parentheses, empty input).
///
/// ```
/// use sxplan_chem::formula::molar_mass;
/// let m = molar_mass("Nd2O3").unwrap();
/// assert!((m - 336.481).abs() < 1e-9);
/// ```
pub fn molar_mass(formula: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut any = false;
    for part in formula.split(['.', '·']) {
        let part = part.trim();
        if part.is_empty() {
            return None;
        }
        let digits = part.bytes().take_while(u8::is_ascii_digit).count();
        let (mult, rest) = if digits > 0 {
            let m: u32 = part[..digits].parse().ok()?;
            (f64::from(m), &part[digits..])
        } else {
            (1.0, part)
        };
        let (mass, used) = group(rest.as_bytes(), 0, 0)?;
        if used != rest.len() {
            return None;
        }
        total += mult * mass;
        any = true;
    }
    (any && total > 0.0 && total.is_finite()).then_some(total)
}

/// Parses a sequence of atoms and parenthesised groups starting at `i`; stops at `)` or end.
/// Returns the mass and the index after the last consumed byte.
fn group(b: &[u8], mut i: usize, depth: usize) -> Option<(f64, usize)> {
    if depth > 8 {
        return None;
    }
    let mut mass = 0.0;
    let start = i;
    while i < b.len() && b[i] != b')' {
        let unit_mass;
        if b[i] == b'(' {
            let (m, j) = group(b, i + 1, depth + 1)?;
            if j >= b.len() || b[j] != b')' {
                return None;
            }
            unit_mass = m;
            i = j + 1;
        } else if b[i].is_ascii_uppercase() {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_lowercase() {
                j += 1;
            }
            let symbol = std::str::from_utf8(&b[i..j]).ok()?;
            unit_mass = atomic_weight(symbol)?;
            i = j;
        } else {
            return None;
        }
        let count_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let count = if i > count_start {
            std::str::from_utf8(&b[count_start..i])
                .ok()?
                .parse::<u32>()
                .ok()?
        } else {
            1
        };
        mass += unit_mass * f64::from(count);
    }
    (i > start).then_some((mass, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_formulas() {
        let cases = [
            ("Nd2O3", 2.0 * 144.242 + 3.0 * 15.999),
            ("HCl", 1.008 + 35.45),
            ("NaOH", 22.98976928 + 15.999 + 1.008),
            ("NH3", 14.007 + 3.0 * 1.008),
            // oxalic acid dihydrate
            (
                "H2C2O4.2H2O",
                2.0 * 1.008 + 2.0 * 12.011 + 4.0 * 15.999 + 2.0 * (2.0 * 1.008 + 15.999),
            ),
            // TBP two ways
            (
                "(C4H9O)3PO",
                12.0 * 12.011 + 27.0 * 1.008 + 4.0 * 15.999 + 30.973761998,
            ),
            (
                "C12H27O4P",
                12.0 * 12.011 + 27.0 * 1.008 + 4.0 * 15.999 + 30.973761998,
            ),
        ];
        for (f, m) in cases {
            let got = molar_mass(f).unwrap_or(f64::NAN);
            assert!((got - m).abs() < 1e-9, "{f}: {got} vs {m}");
        }
        // P507 (C16H35O3P): 306.42 g/mol
        let p507 = molar_mass("C16H35O3P").unwrap_or(f64::NAN);
        assert!((p507 - 306.426).abs() < 0.01, "{p507}");
    }

    #[test]
    fn rejects_bad_formulas() {
        for f in [
            "", "Xx2", "nd2O3", "(C4H9O", "C4H9O)", "2", ".", "H2O.", "C()", "Q",
        ] {
            assert_eq!(molar_mass(f), None, "{f}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            if let Some(m) = molar_mass(&s) {
                prop_assert!(m.is_finite() && m > 0.0);
            }
        }

        #[test]
        fn never_panics_on_formula_like(s in "[A-Za-z0-9().·]{0,30}") {
            if let Some(m) = molar_mass(&s) {
                prop_assert!(m.is_finite() && m > 0.0);
            }
        }
    }
}
