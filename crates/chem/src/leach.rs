//! Unit data around the SX train for Minamitorishima mud: HCl leach, acid demand, washing, impurity removal, oxalate precipitation, calcination.
//!
//! Every number carries a [`Provenance`]. Where no source gave a value the field is `None` and the
//! flowsheet must supply it; where a value is derived by us (stoichiometry, mass balance, the ideal
//! counter-current washing formula) the derivation is written next to it and tagged estimated.
//!
//! | step | what is sourced | what is estimated | what is absent |
//! |---|---|---|---|
//! | HCl leach | 95.1 % of ΣREY except Ce at 0.25-0.5 mol/L, 2-5 min, 25 °C (Takaya et al. 2015) | that value for each REY element | Ce recovery (illustrative placeholder), liquid/solid ratio |
//! | acid demand | - | 2 mol HCl per mol Ca and 3 per mol REY dissolved from apatite (charge balance) | acid taken by Fe, Mn, Al phases and clay |
//! | washing | - | ideal counter-current decantation soluble recovery (mass balance) | stage efficiency, plant wash ratio |
//! | impurities | Fe(OH)3 at pH 3-4 (Jha et al. 2016, secondary) | - | removal fractions, REY losses |
//! | oxalate | 1.5 mol H2C2O4 per mol REE; 95.0-98.9 % precipitation (Nawab et al. 2022, secondary) | oxalic acid mass per t oxide | - |
//! | calcination | - | oxide mass from oxalate decahydrate | temperature, time |

use crate::mud::MudGrade;
use crate::{formula, Element, Provenance, Quality};
use serde::Serialize;

/// Standard atomic weight of F, g/mol (IUPAC/CIAAW 2021, Prohaska et al. 2022, Pure Appl. Chem. 94:573).
///
/// The only atom needed here that [`crate::formula`] does not list; it belongs in that module's
/// light-atom table (move it there when convenient).
pub const ATOMIC_WEIGHT_F: f64 = 18.998403162;

/// Molar mass of HCl, g/mol (from [`crate::formula::molar_mass`]).
pub fn hcl_molar_mass() -> Option<f64> {
    formula::molar_mass("HCl")
}

/// Molar mass of oxalic acid dihydrate H2C2O4·2H2O, the commercial form, g/mol.
pub fn oxalic_acid_dihydrate_molar_mass() -> Option<f64> {
    formula::molar_mass("H2C2O4.2H2O")
}

/// Molar mass of fluorapatite Ca5(PO4)3F, g/mol.
pub fn fluorapatite_molar_mass() -> Option<f64> {
    Some(formula::molar_mass("Ca5(PO4)3")? + ATOMIC_WEIGHT_F)
}

/// Mass fraction of CaO in fluorapatite (5 CaO per formula unit), about 0.556.
pub fn fluorapatite_cao_mass_fraction() -> Option<f64> {
    Some(5.0 * formula::molar_mass("CaO")? / fluorapatite_molar_mass()?)
}

/// Mass fraction of P2O5 in fluorapatite (1.5 P2O5 per formula unit), about 0.422.
pub fn fluorapatite_p2o5_mass_fraction() -> Option<f64> {
    Some(1.5 * formula::molar_mass("P2O5")? / fluorapatite_molar_mass()?)
}

/// Conditions of the best published HCl leach of the mud.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LeachConditions {
    /// Leaching acid.
    pub acid: &'static str,
    /// Acid concentration range of the best results, mol/L.
    pub acid_conc_mol_per_l: (f64, f64),
    /// Leaching time range of the best results, min.
    pub time_min: (f64, f64),
    /// Temperature, °C.
    pub temperature_c: f64,
    /// Liquid-to-solid ratio, L/kg; `None`: not found, the flowsheet must supply it.
    pub liquid_to_solid_l_per_kg: Option<f64>,
    /// Extraction of ΣREY other than Ce at these conditions (fraction).
    pub rey_except_ce_extraction: f64,
    /// Where the numbers come from.
    pub provenance: Provenance,
}

const TAKAYA_2015: &str = "Takaya, Fujinaga, Yamagata, Araki, Maki, Nakamura, Iijima & Kato 2015, \
     Chemical leaching of rare earth elements from highly REY-rich mud, Geochem. J. 49:637-652, \
     abstract (KR13-02 mud > 5,000 ppm ΣREY)";

static HCL_CONDITIONS: LeachConditions = LeachConditions {
    acid: "HCl",
    acid_conc_mol_per_l: (0.25, 0.5),
    time_min: (2.0, 5.0),
    temperature_c: 25.0,
    liquid_to_solid_l_per_kg: None,
    rey_except_ce_extraction: 0.951,
    provenance: Provenance {
        source: TAKAYA_2015,
        quality: Quality::Measured,
    },
};

/// Best published HCl leach conditions (Takaya et al. 2015): 95.1 % of REY except Ce.
pub fn hcl_leach_conditions() -> &'static LeachConditions {
    &HCL_CONDITIONS
}

/// Best ΣREY (except Ce) extraction with H2SO4 in the same study, for comparison (fraction).
pub const H2SO4_REY_EXCEPT_CE_EXTRACTION: f64 = 0.813;

/// Provenance of [`H2SO4_REY_EXCEPT_CE_EXTRACTION`].
pub fn h2so4_extraction_provenance() -> Provenance {
    Provenance {
        source: TAKAYA_2015,
        quality: Quality::Measured,
    }
}

/// Fraction of one element leached from the mud into the liquor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LeachRecovery {
    /// Element.
    pub element: Element,
    /// Leached fraction 0..1.
    pub fraction: f64,
    /// Source and quality.
    pub provenance: Provenance,
}

const REY_RECOVERY_PROVENANCE: Provenance = Provenance {
    source:
        "estimated: the 95.1 % extraction of ΣREY other than Ce with 0.25-0.5 mol/L HCl, 2-5 min, \
             25 °C (Takaya et al. 2015, Geochem. J. 49:637, abstract) applied to each element; \
             per-element extractions of that paper were not retrieved",
    quality: Quality::Estimated,
};

const CE_RECOVERY_PROVENANCE: Provenance = Provenance {
    source: "illustrative placeholder 0.5: Takaya et al. 2015 report Ce separately and lower than the \
             other REY (Ce is partly held outside the apatite, e.g. in Mn oxides) but the value was not \
             retrieved; replace with the paper's Ce extraction",
    quality: Quality::Illustrative,
};

const fn rey_recovery(element: Element) -> LeachRecovery {
    if element as usize == Element::Ce as usize {
        LeachRecovery {
            element,
            fraction: 0.5,
            provenance: CE_RECOVERY_PROVENANCE,
        }
    } else {
        LeachRecovery {
            element,
            fraction: 0.951,
            provenance: REY_RECOVERY_PROVENANCE,
        }
    }
}

static HCL_RECOVERIES: [LeachRecovery; 15] = [
    rey_recovery(Element::Y),
    rey_recovery(Element::La),
    rey_recovery(Element::Ce),
    rey_recovery(Element::Pr),
    rey_recovery(Element::Nd),
    rey_recovery(Element::Sm),
    rey_recovery(Element::Eu),
    rey_recovery(Element::Gd),
    rey_recovery(Element::Tb),
    rey_recovery(Element::Dy),
    rey_recovery(Element::Ho),
    rey_recovery(Element::Er),
    rey_recovery(Element::Tm),
    rey_recovery(Element::Yb),
    rey_recovery(Element::Lu),
];

/// Per-element HCl leach recoveries for Y and La..Lu (Ce illustrative, the rest estimated).
///
/// Impurities (Ca, Fe, Al, Mn, Mg, Na) have no sourced leach recovery and are not listed.
pub fn hcl_leach_recoveries() -> &'static [LeachRecovery] {
    &HCL_RECOVERIES
}

/// HCl leach recovery of one element, `None` when no value (sourced or estimated) exists.
pub fn hcl_leach_recovery(element: Element) -> Option<&'static LeachRecovery> {
    HCL_RECOVERIES.iter().find(|r| r.element == element)
}

/// Stoichiometric acid taken by dissolving apatite-hosted cations, per tonne of dry mud.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AcidDemand {
    /// Ca dissolved from apatite, mol/t.
    pub ca_mol_per_t: f64,
    /// REY dissolved, mol/t (per-element leach recoveries applied).
    pub rey_mol_per_t: f64,
    /// Protons consumed, mol/t: 2 per Ca plus 3 per REY.
    pub h_plus_mol_per_t: f64,
    /// The same as 100 % HCl, kg/t.
    pub hcl_kg_per_t: f64,
    /// Derivation and quality.
    pub provenance: Provenance,
}

/// Provenance of [`stoichiometric_acid_demand`].
pub const ACID_DEMAND_PROVENANCE: Provenance = Provenance {
    source: "estimated by charge balance: apatite Ca5(PO4)3(F,OH) + 10 H+ -> 5 Ca2+ + 3 H3PO4 + HF (H2O); \
             at 0.25-0.5 mol/L HCl phosphate leaves as H3PO4 (pKa1 2.1) and fluoride as HF, so each \
             dissolved cation takes as many H+ as its charge (2 per Ca, 3 per REY substituting Ca); Ca \
             from the apatite-bound CaO of the grade (mass balance, Kon et al. 2014); acid taken by Fe, \
             Mn, Al phases, clays and the free acid left in the liquor is not included (lower bound)",
    quality: Quality::Estimated,
};

/// Stoichiometric acid demand of leaching a grade, per tonne of dry mud.
///
/// `apatite_dissolved_fraction` (0..1) is the share of apatite Ca that dissolves; taking it equal to
/// the REY extraction (0.951) assumes Ca and REY leave the apatite together. Returns `None` when the
/// fraction is outside 0..1 or not finite, or the grade has no CaO entry.
///
/// ```
/// use sxplan_chem::{leach, mud};
/// let g = mud::grade("extremely_rey_rich").unwrap();
/// let d = leach::stoichiometric_acid_demand(g, 0.951).unwrap();
/// assert!(d.hcl_kg_per_t > 200.0 && d.hcl_kg_per_t < 250.0);
/// ```
pub fn stoichiometric_acid_demand(
    grade: &MudGrade,
    apatite_dissolved_fraction: f64,
) -> Option<AcidDemand> {
    if !(0.0..=1.0).contains(&apatite_dissolved_fraction) {
        return None;
    }
    let cao_wt_pct = grade.major_wt_pct("CaO")?;
    // wt % -> g per tonne: x 10,000; CaO -> mol Ca.
    let ca_mol_per_t =
        cao_wt_pct * 10_000.0 / formula::molar_mass("CaO")? * apatite_dissolved_fraction;
    let mut rey_mol_per_t = 0.0;
    let mut rey_charge_mol_per_t = 0.0;
    for &(e, ppm) in grade.rey_ppm {
        let recovery = hcl_leach_recovery(e).map_or(0.0, |r| r.fraction);
        let mol = e.mol_from_mass(ppm) * recovery;
        rey_mol_per_t += mol;
        rey_charge_mol_per_t += mol * f64::from(e.charge());
    }
    let h_plus_mol_per_t = f64::from(Element::Ca.charge()) * ca_mol_per_t + rey_charge_mol_per_t;
    Some(AcidDemand {
        ca_mol_per_t,
        rey_mol_per_t,
        h_plus_mol_per_t,
        hcl_kg_per_t: h_plus_mol_per_t * hcl_molar_mass()? / 1_000.0,
        provenance: ACID_DEMAND_PROVENANCE,
    })
}

/// Free acid left in the leach liquor, mol per tonne of dry mud: L/S (L/kg) x 1,000 kg/t x c (mol/L).
///
/// The liquor leaves at the leach acidity, so this acid is spent unless recovered. `None` for
/// negative or non-finite inputs.
pub fn free_acid_mol_per_t(liquid_to_solid_l_per_kg: f64, free_acid_mol_per_l: f64) -> Option<f64> {
    let ok = |x: f64| x.is_finite() && x >= 0.0;
    (ok(liquid_to_solid_l_per_kg) && ok(free_acid_mol_per_l))
        .then_some(liquid_to_solid_l_per_kg * 1_000.0 * free_acid_mol_per_l)
}

/// Provenance of [`ccd_soluble_recovery`].
pub const CCD_PROVENANCE: Provenance = Provenance {
    source: "derived: ideal counter-current decantation (perfect mixing, equal underflow liquor U in every \
             thickener, wash water W to the last one, leach liquor F with the solids to the first); stage \
             balances give loss = 1 / (R^n + phi (R^n - 1)/(R - 1)), R = W/U, phi = F/U; phi = 1 gives the \
             textbook (R - 1)/(R^(n+1) - 1); no plant wash ratio or stage efficiency for this mud was found",
    quality: Quality::Estimated,
};

/// Fraction of dissolved REY recovered into the pregnant liquor by `n_stages` ideal CCD thickeners.
///
/// `wash_ratio` R = wash water / underflow liquor (volume), `feed_liquor_ratio` phi = leach liquor
/// entering with the solids / underflow liquor. See [`CCD_PROVENANCE`] for the derivation. Returns
/// `None` for zero stages or non-positive / non-finite ratios.
pub fn ccd_soluble_recovery(n_stages: u32, wash_ratio: f64, feed_liquor_ratio: f64) -> Option<f64> {
    let ok = |x: f64| x.is_finite() && x > 0.0;
    if n_stages == 0 || !ok(wash_ratio) || !ok(feed_liquor_ratio) {
        return None;
    }
    let n = f64::from(n_stages);
    let rn = wash_ratio.powf(n);
    // (R^n - 1)/(R - 1) tends to n as R -> 1.
    let geometric = if (wash_ratio - 1.0).abs() < 1e-9 {
        n
    } else {
        (rn - 1.0) / (wash_ratio - 1.0)
    };
    let denominator = rn + feed_liquor_ratio * geometric;
    if !denominator.is_finite() {
        return Some(1.0);
    }
    Some(1.0 - 1.0 / denominator)
}

/// One impurity-removal step between leach and SX, with only the numbers a source gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImpurityRemovalStep {
    /// Impurity (or element) removed.
    pub impurity: Element,
    /// Method as described by the source.
    pub method: &'static str,
    /// pH window of the step, when the source gives one.
    pub ph_range: Option<(f64, f64)>,
    /// Fraction of the impurity removed; `None`: not found, the flowsheet must supply it.
    pub removal_fraction: Option<f64>,
    /// Fraction of REY lost with the precipitate; `None`: not found.
    pub rey_loss_fraction: Option<f64>,
    /// Fraction of the other REY co-precipitated (for a Ce step), when sourced.
    pub coprecipitation_max: Option<f64>,
    /// Source and quality.
    pub provenance: Provenance,
}

static IMPURITY_STEPS: [ImpurityRemovalStep; 4] = [
    ImpurityRemovalStep {
        impurity: Element::Fe,
        method: "pH adjustment (neutralization) precipitating Fe(OH)3",
        ph_range: Some((3.0, 4.0)),
        removal_fraction: None,
        rey_loss_fraction: None,
        coprecipitation_max: None,
        provenance: Provenance {
            source: "Jha et al. 2016 (hydrometallurgical REE recovery review), as summarized in KitchinHUB \
                     ree-book ch. 2 'From Ore to Feed Solution': Fe3+ removal by pH adjustment to \
                     precipitate Fe(OH)3 at pH 3-4; no removal or REY-loss figure given",
            quality: Quality::Measured,
        },
    },
    ImpurityRemovalStep {
        impurity: Element::Al,
        method: "staged Na2CO3 precipitation taking Al out before the REE",
        ph_range: None,
        removal_fraction: None,
        rey_loss_fraction: None,
        coprecipitation_max: None,
        provenance: Provenance {
            source: "Vaziri Hassas et al. 2021 (acid mine drainage), via KitchinHUB ree-book ch. 10: NaOH \
                     alone at circumneutral pH recovers at most 70 % of REE, a two-step Na2CO3 treatment \
                     > 85 %, because staging removes Al separately; different feed, no Al removal figure",
            quality: Quality::Measured,
        },
    },
    ImpurityRemovalStep {
        impurity: Element::Ca,
        method: "precipitation or ion exchange (no specific route given)",
        ph_range: None,
        removal_fraction: None,
        rey_loss_fraction: None,
        coprecipitation_max: None,
        provenance: Provenance {
            source: "Jha et al. 2016 via KitchinHUB ree-book ch. 2: Ca2+ and Al3+ removed by precipitation \
                     or ion exchange before SX; no figures; nothing found for Ca in mud leach liquor",
            quality: Quality::Measured,
        },
    },
    ImpurityRemovalStep {
        impurity: Element::Ce,
        method: "oxidative precipitation of Ce(IV) hydroxide with KMnO4",
        ph_range: None,
        removal_fraction: Some(0.998),
        rey_loss_fraction: None,
        coprecipitation_max: Some(0.015),
        provenance: Provenance {
            source: "Salehi et al. 2025 (mixed REO from spent NiMH batteries), via KitchinHUB ree-book \
                     ch. 10: KMnO4 precipitated Ce(OH)4 at 99.8 % with < 1.5 % co-precipitation of the \
                     other REE; a different feed, optional Ce cut before SX",
            quality: Quality::Measured,
        },
    },
];

/// Impurity-removal steps with the data found; no Mn step was found.
pub fn impurity_removal_steps() -> &'static [ImpurityRemovalStep] {
    &IMPURITY_STEPS
}

/// Oxalic acid demand: 1.5 mol H2C2O4 per mol REE (2 RE3+ + 3 C2O4 2- -> RE2(C2O4)3·10H2O).
pub const OXALIC_ACID_MOL_PER_MOL_REE: f64 = 1.5;

/// Provenance of [`OXALIC_ACID_MOL_PER_MOL_REE`] and the calcination mass ratios.
pub const OXALATE_STOICHIOMETRY_PROVENANCE: Provenance = Provenance {
    source: "reaction stoichiometry 2 RE3+ + 3 C2O4 2- + 10 H2O -> RE2(C2O4)3·10H2O (KitchinHUB ree-book \
             ch. 10; chemistry.md section 3); calcination in air to the commercial oxides (RE2O3, CeO2, \
             Pr6O11, Tb4O7) of the element table",
    quality: Quality::Estimated,
};

/// One published oxalate-precipitation result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrecipitationDatum {
    /// Conditions of the measurement.
    pub condition: &'static str,
    /// Fraction of the REE precipitated (or recovered as oxide).
    pub recovery: f64,
    /// Source and quality.
    pub provenance: Provenance,
}

const NAWAB_2022: &str = "Nawab, Yang & Honaker 2022, parametric study of REE precipitation with oxalic \
     acid in a chloride pregnant leach solution (central composite design), as reported by KitchinHUB \
     ree-book ch. 10; primary not read";

static OXALATE_DATA: [PrecipitationDatum; 3] = [
    PrecipitationDatum {
        condition: "chloride PLS, pH raised to 2.5 (0.0 % at pH 0.5); pH 1.0-2.0 recommended for purity",
        recovery: 0.989,
        provenance: Provenance {
            source: NAWAB_2022,
            quality: Quality::Measured,
        },
    },
    PrecipitationDatum {
        condition: "chloride PLS, oxalic acid 80 g/L (4.2 % without oxalic acid)",
        recovery: 0.950,
        provenance: Provenance {
            source: NAWAB_2022,
            quality: Quality::Measured,
        },
    },
    PrecipitationDatum {
        condition: "1 mol/L H2SO4 leach liquor of apatite ore, REE recovered as oxide",
        recovery: 0.853,
        provenance: Provenance {
            source: "Haga (Akita University), KAKENHI 16K18330 final report 2019: oxalic acid \
                     precipitation recovered >= 85.3 % of the REE as rare-earth oxide from a sulfuric-acid \
                     leach of apatite ore (91 % REE leached)",
            quality: Quality::Measured,
        },
    },
];

/// Published oxalate-precipitation recoveries (none measured on mud liquor).
pub fn oxalate_precipitation_data() -> &'static [PrecipitationDatum] {
    &OXALATE_DATA
}

/// Oxalic acid dihydrate (t) needed per tonne of an element's commercial oxide, stoichiometric.
///
/// 1.124 t per t of Nd2O3 (chemistry.md section 3 table).
pub fn oxalic_acid_dihydrate_t_per_t_oxide(element: Element) -> Option<f64> {
    Some(
        element.mol_per_tonne_oxide()
            * OXALIC_ACID_MOL_PER_MOL_REE
            * oxalic_acid_dihydrate_molar_mass()?
            / 1.0e6,
    )
}

/// Mass of RE2(C2O4)3·10H2O per mol of rare-earth metal, g/mol.
pub fn oxalate_decahydrate_mass_per_mol(element: Element) -> Option<f64> {
    Some(
        element.molar_mass()
            + 1.5 * formula::molar_mass("C2O4")?
            + 5.0 * formula::molar_mass("H2O")?,
    )
}

/// Calcination yield: kg of commercial oxide per kg of oxalate decahydrate (stoichiometric).
///
/// The calcination temperature and time were not found in a source; the flowsheet must set them.
pub fn calcination_oxide_per_oxalate_mass(element: Element) -> Option<f64> {
    Some(element.oxide_mass_per_mol_metal() / oxalate_decahydrate_mass_per_mol(element)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mud;

    #[test]
    fn apatite_stoichiometry() {
        let near = |x: Option<f64>, v: f64, tol: f64| x.is_some_and(|x| (x - v).abs() < tol);
        assert!(near(fluorapatite_molar_mass(), 504.3, 0.05));
        assert!(near(fluorapatite_cao_mass_fraction(), 0.556, 0.001));
        assert!(near(fluorapatite_p2o5_mass_fraction(), 0.422, 0.001));
        assert!(near(hcl_molar_mass(), 36.458, 1e-9));
        assert!(near(oxalic_acid_dihydrate_molar_mass(), 126.064, 0.002));
    }

    #[test]
    fn recoveries_cover_rey_with_provenance() {
        assert_eq!(hcl_leach_recoveries().len(), 15);
        for e in mud::REY {
            let r = hcl_leach_recovery(e);
            assert!(
                r.is_some_and(|r| r.fraction > 0.0 && r.fraction <= 1.0),
                "{e}"
            );
            assert!(r.is_some_and(|r| !r.provenance.source.is_empty()));
        }
        let ce = hcl_leach_recovery(Element::Ce).map_or(1.0, |r| r.fraction);
        let nd = hcl_leach_recovery(Element::Nd).map_or(0.0, |r| r.fraction);
        assert!(ce < nd, "Ce leaches less than the other REY");
        assert!(hcl_leach_recovery(Element::Fe).is_none());
        let c = hcl_leach_conditions();
        assert!(c.acid_conc_mol_per_l.0 < c.acid_conc_mol_per_l.1);
        assert!((c.rey_except_ce_extraction - 0.951).abs() < 1e-12);
        assert!(H2SO4_REY_EXCEPT_CE_EXTRACTION < c.rey_except_ce_extraction);
    }

    #[test]
    fn acid_demand_is_dominated_by_calcium_and_matches_hand_calculation() {
        let g = mud::grade("extremely_rey_rich");
        let d = g.and_then(|g| stoichiometric_acid_demand(g, 1.0));
        let d = d.unwrap_or(AcidDemand {
            ca_mol_per_t: f64::NAN,
            rey_mol_per_t: f64::NAN,
            h_plus_mol_per_t: f64::NAN,
            hcl_kg_per_t: f64::NAN,
            provenance: ACID_DEMAND_PROVENANCE,
        });
        // Hand: apatite 6596/20650 = 0.31942; Ca = 5 x that x 1e6 / 504.30 g/mol = 3166.9 mol/t.
        let ca_hand =
            5.0 * (6_596.0 / 20_650.0) * 1.0e6 / fluorapatite_molar_mass().unwrap_or(f64::NAN);
        assert!(
            (d.ca_mol_per_t - ca_hand).abs() < 1e-6 * ca_hand,
            "{} vs {ca_hand}",
            d.ca_mol_per_t
        );
        assert!(d.h_plus_mol_per_t > 2.0 * d.ca_mol_per_t);
        assert!(3.0 * d.rey_mol_per_t < 0.1 * d.h_plus_mol_per_t);
        assert!((d.hcl_kg_per_t - d.h_plus_mol_per_t * 36.458 / 1000.0).abs() < 1e-9);
        // Richer mud takes more acid per tonne.
        let low = mud::grade("rey_rich").and_then(|g| stoichiometric_acid_demand(g, 1.0));
        assert!(low.is_some_and(|l| l.hcl_kg_per_t < d.hcl_kg_per_t));
        assert!(
            mud::grade("rey_rich").is_some_and(|g| stoichiometric_acid_demand(g, 1.5).is_none())
        );
        assert!(mud::grade("rey_rich")
            .is_some_and(|g| stoichiometric_acid_demand(g, f64::NAN).is_none()));
    }

    #[test]
    fn ccd_matches_single_stage_balance_and_textbook_form() {
        // One thickener: recovery = 1 - U/(F + W).
        let r = ccd_soluble_recovery(1, 2.0, 1.0).unwrap_or(f64::NAN);
        assert!((r - (1.0 - 1.0 / 3.0)).abs() < 1e-12);
        // phi = 1: loss = (R - 1)/(R^(n+1) - 1).
        let (n, rr) = (4_u32, 2.5_f64);
        let r = ccd_soluble_recovery(n, rr, 1.0).unwrap_or(f64::NAN);
        let loss = (rr - 1.0) / (rr.powi(5) - 1.0);
        assert!((r - (1.0 - loss)).abs() < 1e-12);
        // R = 1 limit: loss = 1/(1 + phi n).
        let r = ccd_soluble_recovery(5, 1.0, 2.0).unwrap_or(f64::NAN);
        assert!((r - (1.0 - 1.0 / 11.0)).abs() < 1e-12);
        // More stages never lose more.
        let a = ccd_soluble_recovery(3, 1.5, 1.0).unwrap_or(0.0);
        let b = ccd_soluble_recovery(6, 1.5, 1.0).unwrap_or(0.0);
        assert!(b > a && b < 1.0);
        assert!(ccd_soluble_recovery(0, 2.0, 1.0).is_none());
        assert!(ccd_soluble_recovery(3, -1.0, 1.0).is_none());
        assert!(ccd_soluble_recovery(3, 2.0, f64::INFINITY).is_none());
        assert_eq!(ccd_soluble_recovery(10_000, 50.0, 1.0), Some(1.0));
    }

    #[test]
    fn ccd_formula_agrees_with_a_stagewise_solve() {
        // Independent check: iterate the stage balances to steady state.
        let (n, r, phi) = (5_usize, 1.8_f64, 1.3_f64);
        let (u, w, f) = (1.0, r, phi);
        let mut c = vec![0.0_f64; n];
        let m = 1.0; // solute fed with the solids into stage 1
        for _ in 0..20_000 {
            let mut next = c.clone();
            for i in 0..n {
                let from_prev = if i == 0 { m } else { u * c[i - 1] };
                let from_next = if i + 1 < n { w * c[i + 1] } else { 0.0 };
                let liquor_in = if i == 0 { f + w } else { u + w };
                next[i] = (from_prev + from_next) / liquor_in;
            }
            c = next;
        }
        let loss = u * c[n - 1] / m;
        let r_formula = ccd_soluble_recovery(n as u32, r, phi).unwrap_or(f64::NAN);
        assert!(
            (1.0 - loss - r_formula).abs() < 1e-9,
            "{} vs {r_formula}",
            1.0 - loss
        );
    }

    #[test]
    fn oxalate_and_calcination_stoichiometry() {
        // chemistry.md section 3: 1.124 t H2C2O4·2H2O per t Nd2O3, 1.675 per t Y2O3.
        let nd = oxalic_acid_dihydrate_t_per_t_oxide(Element::Nd).unwrap_or(f64::NAN);
        assert!((nd - 1.124).abs() < 0.001, "{nd}");
        let y = oxalic_acid_dihydrate_t_per_t_oxide(Element::Y).unwrap_or(f64::NAN);
        assert!((y - 1.675).abs() < 0.001, "{y}");
        for e in mud::REY {
            let y = calcination_oxide_per_oxalate_mass(e).unwrap_or(f64::NAN);
            assert!(y > 0.3 && y < 0.6, "{e}: {y}");
        }
        // Nd2(C2O4)3·10H2O: (2 x 144.242 + 3 x 88.018 + 10 x 18.015) / 2 per mol Nd.
        let m = oxalate_decahydrate_mass_per_mol(Element::Nd).unwrap_or(f64::NAN);
        assert!(
            (m - (144.242 + 1.5 * 88.018 + 5.0 * 18.015)).abs() < 1e-9,
            "{m}"
        );
        for d in oxalate_precipitation_data() {
            assert!(d.recovery > 0.0 && d.recovery <= 1.0);
            assert!(!d.provenance.source.is_empty());
        }
    }

    #[test]
    fn impurity_steps_only_carry_sourced_numbers() {
        for s in impurity_removal_steps() {
            assert!(!s.provenance.source.is_empty());
            if let Some((lo, hi)) = s.ph_range {
                assert!(lo < hi);
            }
        }
        assert!(impurity_removal_steps()
            .iter()
            .all(|s| s.impurity != Element::Mn));
        assert_eq!(free_acid_mol_per_t(3.0, 0.25), Some(750.0));
        assert_eq!(free_acid_mol_per_t(-1.0, 0.25), None);
    }
}
