//! The one canonical element table: every species sxplan tracks in solution.
//!
//! Atomic numbers, molar masses, oxide formulas and ion charges live here and nowhere else
//! (one `const` table, [`ELEMENT_TABLE`]); every other module and crate asks [`Element`].
//!
//! | quantity | identifier | unit | source |
//! |---|---|---|---|
//! | atomic number Z | [`Element::z`] | - | definition |
//! | molar mass M | [`Element::molar_mass`] | g/mol | IUPAC/CIAAW standard atomic weights 2021 (Prohaska et al. 2022), with the CIAAW 2024 revisions of Gd and Lu |
//! | ion charge z | [`Element::charge`] | e | usual oxidation state in an HCl leach liquor (see [`Element::charge`]) |
//! | oxide | [`Element::oxide`] | - | commercial oxide form in which REE are traded and reported |
//! | oxide mass per mol metal | [`Element::oxide_mass_per_mol_metal`] | g/mol | derived: M(oxide)/metal atoms |

use serde::{Serialize, Serializer};

use crate::provenance::{Provenance, Quality};

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

    /// The row of [`ELEMENT_TABLE`] for this element.
    pub fn data(self) -> &'static ElementData {
        &ELEMENT_TABLE[self.index()]
    }

    /// Atomic number Z.
    pub fn z(self) -> u8 {
        self.data().z
    }

    /// Molar mass in g/mol: the IUPAC/CIAAW standard atomic weight (see [`element_provenance`]).
    ///
    /// ```
    /// use sxplan_chem::Element;
    /// assert_eq!(Element::Nd.molar_mass(), 144.242);
    /// ```
    pub fn molar_mass(self) -> f64 {
        self.data().molar_mass
    }

    /// Charge of the ion in a chloride (HCl) leach liquor, in elementary charges.
    ///
    /// All REE including Ce are 3+: Ce(IV) is not stable in chloride media (it oxidizes
    /// chloride), so a mud leach liquor carries Ce3+. Fe is taken as Fe3+ (oxidized liquor
    /// after aeration; a flowsheet with Fe2+ must override it), Al3+, Ca2+, Mg2+, Mn2+, Na+.
    /// The charge sets the protons released per ion extracted by an acidic extractant.
    pub fn charge(self) -> i8 {
        self.data().charge
    }

    /// Commercial oxide in which the element is traded and reported (La2O3, CeO2, Pr6O11, Tb4O7, ...).
    pub fn oxide(self) -> Oxide {
        self.data().oxide
    }

    /// Grams of commercial oxide per mol of metal: M(oxide) / metal atoms per formula unit.
    ///
    /// ```
    /// use sxplan_chem::Element;
    /// // Nd2O3: (2 x 144.242 + 3 x 15.999) / 2 = 168.2405 g per mol Nd
    /// assert!((Element::Nd.oxide_mass_per_mol_metal() - 168.2405).abs() < 1e-9);
    /// ```
    pub fn oxide_mass_per_mol_metal(self) -> f64 {
        let ox = self.oxide();
        (f64::from(ox.metal_atoms) * self.molar_mass()
            + f64::from(ox.oxygen_atoms) * OXYGEN_MOLAR_MASS)
            / f64::from(ox.metal_atoms)
    }

    /// Mol of metal in one tonne (10^6 g) of its commercial oxide (5,944 for Nd2O3).
    pub fn mol_per_tonne_oxide(self) -> f64 {
        1.0e6 / self.oxide_mass_per_mol_metal()
    }

    /// Mass of oxide per mass of metal (1.1664 for Nd2O3), the factor from element to oxide basis.
    pub fn oxide_per_metal_mass(self) -> f64 {
        self.oxide_mass_per_mol_metal() / self.molar_mass()
    }

    /// Amount in mol from a mass of the element in g (also mol/L from g/L, mol/h from g/h).
    pub fn mol_from_mass(self, mass_g: f64) -> f64 {
        mass_g / self.molar_mass()
    }

    /// Mass of the element in g from an amount in mol (also g/L from mol/L).
    pub fn mass_from_mol(self, amount_mol: f64) -> f64 {
        amount_mol * self.molar_mass()
    }

    /// Amount of metal in mol from a mass of its commercial oxide in g.
    pub fn mol_from_oxide_mass(self, oxide_g: f64) -> f64 {
        oxide_g / self.oxide_mass_per_mol_metal()
    }

    /// Mass of commercial oxide in g that holds `amount_mol` mol of the metal.
    pub fn oxide_mass_from_mol(self, amount_mol: f64) -> f64 {
        amount_mol * self.oxide_mass_per_mol_metal()
    }

    /// Finds an element by symbol ignoring ASCII case (`"nd"`, `"ND"` and `"Nd"` give Nd).
    pub fn from_symbol_ignore_case(s: &str) -> Option<Element> {
        Element::ALL
            .iter()
            .copied()
            .find(|e| e.symbol().eq_ignore_ascii_case(s))
    }

    /// True for the lanthanides La..Lu (without Pm, which sxplan does not track).
    pub fn is_lanthanide(self) -> bool {
        (57..=71).contains(&self.z())
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

/// A commercial oxide formula: `metal_atoms` metal and `oxygen_atoms` oxygen per formula unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Oxide {
    /// Formula as written in trade and in assays, e.g. `"Pr6O11"`.
    pub formula: &'static str,
    /// Metal atoms per formula unit (6 in Pr6O11).
    pub metal_atoms: u8,
    /// Oxygen atoms per formula unit (11 in Pr6O11).
    pub oxygen_atoms: u8,
}

impl Oxide {
    /// Molar mass of the oxide formula unit in g/mol.
    pub fn molar_mass(&self, metal: Element) -> f64 {
        f64::from(self.metal_atoms) * metal.molar_mass()
            + f64::from(self.oxygen_atoms) * OXYGEN_MOLAR_MASS
    }
}

/// One row of the canonical element table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ElementData {
    /// The element this row describes.
    pub element: Element,
    /// Atomic number Z.
    pub z: u8,
    /// Standard atomic weight in g/mol (IUPAC/CIAAW, see [`element_provenance`]).
    pub molar_mass: f64,
    /// Ion charge in a chloride leach liquor.
    pub charge: i8,
    /// Commercial oxide.
    pub oxide: Oxide,
}

/// Standard atomic weight of oxygen in g/mol: the CIAAW conventional value 15.999
/// for the interval [15.99903, 15.99977].
pub const OXYGEN_MOLAR_MASS: f64 = 15.999;

const fn row(
    element: Element,
    z: u8,
    molar_mass: f64,
    charge: i8,
    formula: &'static str,
    metal_atoms: u8,
    oxygen_atoms: u8,
) -> ElementData {
    ElementData {
        element,
        z,
        molar_mass,
        charge,
        oxide: Oxide {
            formula,
            metal_atoms,
            oxygen_atoms,
        },
    }
}

/// The canonical element table, in the order of [`Element::ALL`].
///
/// Molar masses: IUPAC/CIAAW standard atomic weights, "Standard atomic weights of the elements
/// 2021" (Prohaska et al., Pure Appl. Chem. 94 (2022) 573, Table 1), with the 2024 CIAAW revisions
/// Gd 157.249(2) and Lu 174.966 69(5); Mg uses the conventional value 24.305 of its interval
/// [24.304, 24.307]. Oxides: the commercial forms (CeO2, Pr6O11 and Tb4O7, the rest M2O3 or MO/M2O).
pub const ELEMENT_TABLE: [ElementData; 22] = [
    row(Element::Sc, 21, 44.955907, 3, "Sc2O3", 2, 3),
    row(Element::Y, 39, 88.905838, 3, "Y2O3", 2, 3),
    row(Element::La, 57, 138.90547, 3, "La2O3", 2, 3),
    row(Element::Ce, 58, 140.116, 3, "CeO2", 1, 2),
    row(Element::Pr, 59, 140.90766, 3, "Pr6O11", 6, 11),
    row(Element::Nd, 60, 144.242, 3, "Nd2O3", 2, 3),
    row(Element::Sm, 62, 150.36, 3, "Sm2O3", 2, 3),
    row(Element::Eu, 63, 151.964, 3, "Eu2O3", 2, 3),
    row(Element::Gd, 64, 157.249, 3, "Gd2O3", 2, 3),
    row(Element::Tb, 65, 158.925354, 3, "Tb4O7", 4, 7),
    row(Element::Dy, 66, 162.500, 3, "Dy2O3", 2, 3),
    row(Element::Ho, 67, 164.930329, 3, "Ho2O3", 2, 3),
    row(Element::Er, 68, 167.259, 3, "Er2O3", 2, 3),
    row(Element::Tm, 69, 168.934219, 3, "Tm2O3", 2, 3),
    row(Element::Yb, 70, 173.045, 3, "Yb2O3", 2, 3),
    row(Element::Lu, 71, 174.96669, 3, "Lu2O3", 2, 3),
    row(Element::Na, 11, 22.98976928, 1, "Na2O", 2, 1),
    row(Element::Mg, 12, 24.305, 2, "MgO", 1, 1),
    row(Element::Al, 13, 26.9815384, 3, "Al2O3", 2, 3),
    row(Element::Ca, 20, 40.078, 2, "CaO", 1, 1),
    row(Element::Mn, 25, 54.938043, 2, "MnO", 1, 1),
    row(Element::Fe, 26, 55.845, 3, "Fe2O3", 2, 3),
];

/// Provenance of the element table (molar masses, oxides, charges).
pub fn element_provenance() -> Provenance {
    Provenance {
        source: "IUPAC/CIAAW, Prohaska et al. 2022, Standard atomic weights of the elements 2021 \
                 (IUPAC Technical Report), Pure Appl. Chem. 94:573, Table 1; CIAAW 2024 revisions of \
                 Gd and Lu (ciaaw.org); O and Mg conventional values; oxides are the commercial forms; \
                 charges are the usual oxidation states in chloride solution (Ce3+, Fe3+)",
        quality: Quality::Measured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order_matches_enum() {
        for (i, e) in Element::ALL.iter().enumerate() {
            assert_eq!(ELEMENT_TABLE[i].element, *e);
            assert_eq!(e.index(), i);
            assert_eq!(Element::from_symbol(e.symbol()), Some(*e));
            assert_eq!(
                Element::from_symbol_ignore_case(&e.symbol().to_ascii_uppercase()),
                Some(*e)
            );
        }
    }

    #[test]
    fn atomic_numbers() {
        assert_eq!(Element::La.z(), 57);
        assert_eq!(Element::Nd.z(), 60);
        assert_eq!(Element::Sm.z(), 62); // Pm (61) is skipped
        assert_eq!(Element::Lu.z(), 71);
        assert_eq!(Element::Y.z(), 39);
        assert_eq!(Element::Fe.z(), 26);
        let lanthanides: Vec<u8> = Element::ALL
            .iter()
            .filter(|e| e.is_lanthanide())
            .map(|e| e.z())
            .collect();
        assert_eq!(lanthanides.len(), 14);
        assert!(lanthanides.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn reference_molar_masses() {
        // CIAAW 2021 values quoted in the report abstract and the 2017/2021 revision notices.
        assert_eq!(Element::Nd.molar_mass(), 144.242);
        assert_eq!(Element::Yb.molar_mass(), 173.045);
        assert_eq!(Element::Pr.molar_mass(), 140.90766);
        assert_eq!(Element::Ho.molar_mass(), 164.930329);
        assert_eq!(Element::Gd.molar_mass(), 157.249);
        assert_eq!(Element::Lu.molar_mass(), 174.96669);
        for e in Element::ALL {
            let m = e.molar_mass();
            assert!(m > 2.0 * f64::from(e.z()) * 0.9, "{e}: {m}");
        }
    }

    #[test]
    fn oxide_factors_match_reference_table() {
        // chemistry.md section 3, "mol RE/t" column (derived there from the same atomic weights).
        let expected = [
            (Element::La, 6139.0),
            (Element::Ce, 5810.0),
            (Element::Pr, 5874.0),
            (Element::Nd, 5944.0),
            (Element::Sm, 5735.0),
            (Element::Eu, 5683.0),
            (Element::Gd, 5517.0),
            (Element::Tb, 5350.0),
            (Element::Dy, 5362.0),
            (Element::Ho, 5293.0),
            (Element::Er, 5229.0),
            (Element::Tm, 5183.0),
            (Element::Yb, 5075.0),
            (Element::Lu, 5026.0),
            (Element::Y, 8857.0),
        ];
        for (e, mol) in expected {
            assert!(
                (e.mol_per_tonne_oxide() - mol).abs() <= 0.5,
                "{e}: {} vs {mol}",
                e.mol_per_tonne_oxide()
            );
        }
        assert!((Element::Nd.oxide_mass_per_mol_metal() - 168.2405).abs() < 1e-9);
        assert!((Element::Nd.oxide_per_metal_mass() - 1.166377).abs() < 1e-6);
        // CeO2 per mol Ce = 140.116 + 2 x 15.999
        assert!((Element::Ce.oxide_mass_per_mol_metal() - 172.114).abs() < 1e-9);
        assert!((Element::Ca.oxide_mass_per_mol_metal() - 56.077).abs() < 1e-9);
    }

    #[test]
    fn charges() {
        for e in Element::ALL.iter().filter(|e| e.is_rey()) {
            assert_eq!(e.charge(), 3, "{e}");
        }
        assert_eq!(Element::Sc.charge(), 3);
        assert_eq!(Element::Ca.charge(), 2);
        assert_eq!(Element::Mg.charge(), 2);
        assert_eq!(Element::Mn.charge(), 2);
        assert_eq!(Element::Fe.charge(), 3);
        assert_eq!(Element::Al.charge(), 3);
        assert_eq!(Element::Na.charge(), 1);
    }

    #[test]
    fn oxide_charge_balance() {
        // 2 x oxygen atoms = metal valence x metal atoms, except the mixed-valence
        // commercial oxides CeO2 (Ce4+), Pr6O11 and Tb4O7.
        for e in Element::ALL {
            let ox = e.oxide();
            let lhs = 2 * i32::from(ox.oxygen_atoms);
            let rhs = i32::from(e.charge()) * i32::from(ox.metal_atoms);
            match e {
                Element::Ce | Element::Pr | Element::Tb => assert!(lhs > rhs, "{e}"),
                _ => assert_eq!(lhs, rhs, "{e} {}", ox.formula),
            }
        }
    }

    #[test]
    fn mass_mol_round_trip() {
        for e in Element::ALL {
            let m = 12.345;
            assert!((e.mass_from_mol(e.mol_from_mass(m)) - m).abs() < 1e-12);
            assert!((e.oxide_mass_from_mol(e.mol_from_oxide_mass(m)) - m).abs() < 1e-12);
        }
    }
}
