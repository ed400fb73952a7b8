//! Minamitorishima deep-sea REY-rich mud: grades, per-element REY contents and major components, with provenance.
//!
//! # What is sourced and what is estimated
//!
//! The per-element tables of the primary papers (Iijima et al. 2016 Table 1; Takaya et al. 2018
//! Supplementary Tables S1-S3; Fujinaga et al. 2016) could not be retrieved. What could be read:
//!
//! | datum | value | source | quality |
//! |---|---|---|---|
//! | grade classes | REY-rich > 400 ppm, highly 2,000-5,000 ppm, extremely > 5,000 ppm ΣREY | Fujinaga et al. 2016; Takaya et al. 2018; Iijima et al. 2016 | measured |
//! | area average | ΣREY 964 ppm, 0-10 m below seafloor, 2,500 km², 677 samples | Takaya et al. 2018 | measured |
//! | extremely REY-rich layer | ΣREY 6,596 ppm, core KR13-02 PC05 | Ohta et al., JpGU 2014 abstract SGC56-12 | measured |
//! | heavy REE | "~1000 ppm of heavy rare-earth elements" in layers > 5,000 ppm ΣREY | Tanaka et al. 2020, Ore Geol. Rev. 119:103392 | measured |
//! | Y + HREE | "especially enriched in Y and HREE, which accounted for 44" (text cut there; read as 44 % of ΣREY) | Takaya et al. 2018 | measured, unit unconfirmed |
//! | REY host | biogenic apatite (9,300-32,000 ppm ΣREY, negative Ce anomaly, HREE-enriched); phillipsite 60-170 ppm | Kon et al. 2014, Resource Geology | measured |
//!
//! From these the per-element contents are *estimated* ([`rey_pattern_ppm`]): the REY total splits into
//! Y (24 %), heavy REE Eu-Lu (20 %) and light REE La-Sm (56 %); within each group the split follows
//! the PAAS shale proportions (a flat PAAS-normalized pattern per group, Taylor & McLennan 1985),
//! except Ce, whose PAAS-normalized value is [`CE_ANOMALY`] times that of its neighbours. The value of
//! that anomaly is *illustrative*: the literature says "strong negative Ce anomaly" but no number was
//! found. CaO and P2O5 are estimated by an apatite mass balance ([`apatite_mass_fraction`]); the other
//! major oxides (SiO2, Al2O3, Fe2O3, MnO, MgO, Na2O, K2O) were not found and are absent: a flowsheet
//! must supply them. docs/data/feed-and-prices.md lists every number and its derivation.

use serde::Serialize;
use std::sync::LazyLock;

use crate::leach::{fluorapatite_cao_mass_fraction, fluorapatite_p2o5_mass_fraction};
use crate::{Element, Provenance, Quality};

/// Post-Archean Australian Shale (PAAS) REE contents in ppm, the usual normalizer for sediments.
///
/// Source: Taylor & McLennan 1985, The Continental Crust: its Composition and Evolution (as
/// tabulated identically in several open geochemistry codes). Y is not included.
pub const PAAS_PPM: [(Element, f64); 14] = [
    (Element::La, 38.2),
    (Element::Ce, 79.6),
    (Element::Pr, 8.83),
    (Element::Nd, 33.9),
    (Element::Sm, 5.55),
    (Element::Eu, 1.08),
    (Element::Gd, 4.66),
    (Element::Tb, 0.774),
    (Element::Dy, 4.68),
    (Element::Ho, 0.991),
    (Element::Er, 2.85),
    (Element::Tm, 0.405),
    (Element::Yb, 2.82),
    (Element::Lu, 0.433),
];

/// Provenance of [`PAAS_PPM`].
pub fn paas_provenance() -> Provenance {
    Provenance {
        source: "Taylor & McLennan 1985, The Continental Crust: its Composition and Evolution, \
                 PAAS (post-Archean Australian shale) REE abundances",
        quality: Quality::Measured,
    }
}

/// PAAS content of a lanthanide in ppm, `None` for Y, Sc and the impurities.
pub fn paas_ppm(element: Element) -> Option<f64> {
    PAAS_PPM
        .iter()
        .find(|(e, _)| *e == element)
        .map(|&(_, v)| v)
}

/// Mass fraction of ΣREY held by the heavy REE Eu-Lu: ~1,000 ppm HREE in layers of > 5,000 ppm ΣREY.
pub const HREE_FRACTION_OF_REY: f64 = 1_000.0 / 5_000.0;

/// Mass fraction of ΣREY held by Y plus the heavy REE Eu-Lu (44 %).
pub const Y_AND_HREE_FRACTION_OF_REY: f64 = 0.44;

/// Mass fraction of ΣREY held by Y: [`Y_AND_HREE_FRACTION_OF_REY`] - [`HREE_FRACTION_OF_REY`].
pub const Y_FRACTION_OF_REY: f64 = Y_AND_HREE_FRACTION_OF_REY - HREE_FRACTION_OF_REY;

/// Mass fraction of ΣREY held by the light REE La-Sm: 1 - [`Y_AND_HREE_FRACTION_OF_REY`].
pub const LREE_FRACTION_OF_REY: f64 = 1.0 - Y_AND_HREE_FRACTION_OF_REY;

/// Ce anomaly Ce/Ce* = Ce_N / sqrt(La_N Pr_N) (PAAS-normalized) used for the estimated pattern.
///
/// Illustrative: the papers report a strong negative Ce anomaly without a value that could be read.
pub const CE_ANOMALY: f64 = 0.15;

/// Provenance of [`HREE_FRACTION_OF_REY`].
pub fn hree_fraction_provenance() -> Provenance {
    Provenance {
        source: "Tanaka, Nakamura, Yasukawa, Mimura, Fujinaga, Iijima, Nozaki & Kato 2020, \
                 Chemostratigraphy of deep-sea sediments in the western North Pacific Ocean, \
                 Ore Geol. Rev. 119:103392, abstract: layers with >5000 ppm ΣREY carry ~1000 ppm \
                 heavy REE; HREE taken as Eu-Lu, the definition of the same group (Takaya et al. 2018); \
                 fraction 1000/5000",
        quality: Quality::Measured,
    }
}

/// Provenance of [`Y_AND_HREE_FRACTION_OF_REY`].
pub fn y_and_hree_fraction_provenance() -> Provenance {
    Provenance {
        source: "Takaya et al. 2018, The tremendous potential of deep-sea mud as a source of rare-earth \
                 elements, Sci. Rep. 8:5763, Results: 'the mud is especially enriched in Y and HREE, \
                 which accounted for 44' (retrieved copy cut after '44'; read as 44 % of ΣREY)",
        quality: Quality::Measured,
    }
}

/// Provenance of [`CE_ANOMALY`].
pub fn ce_anomaly_provenance() -> Provenance {
    Provenance {
        source: "illustrative value 0.15 for the 'strong negative Ce anomaly' reported by Kato et al. 2011, \
                 Kon et al. 2014 and Iijima et al. 2016 for this mud and its apatite; no numeric Ce/Ce* \
                 was found; replace with Iijima et al. 2016 Table 1 or Takaya et al. 2018 Table S1 data",
        quality: Quality::Illustrative,
    }
}

const fn paas(element: Element) -> f64 {
    let mut i = 0;
    while i < PAAS_PPM.len() {
        if PAAS_PPM[i].0 as usize == element as usize {
            return PAAS_PPM[i].1;
        }
        i += 1;
    }
    0.0
}

/// Sum of PAAS La, Pr, Nd, Sm plus the anomalous Ce weight: the light-REE normalization denominator.
const LREE_PAAS_WEIGHT: f64 = paas(Element::La)
    + CE_ANOMALY * paas(Element::Ce)
    + paas(Element::Pr)
    + paas(Element::Nd)
    + paas(Element::Sm);

/// Sum of PAAS Eu..Lu: the heavy-REE normalization denominator.
const HREE_PAAS_WEIGHT: f64 = paas(Element::Eu)
    + paas(Element::Gd)
    + paas(Element::Tb)
    + paas(Element::Dy)
    + paas(Element::Ho)
    + paas(Element::Er)
    + paas(Element::Tm)
    + paas(Element::Yb)
    + paas(Element::Lu);

/// The REY elements in canonical order (Y, La..Lu without Pm).
pub const REY: [Element; 15] = [
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
];

/// Estimated per-element REY contents (ppm) of mud with ΣREY = `total_ppm`.
///
/// Y = 0.24 ΣREY; heavy REE Eu-Lu = 0.20 ΣREY split in PAAS proportions; light REE La-Sm =
/// 0.56 ΣREY split in PAAS proportions with Ce scaled by [`CE_ANOMALY`]. The contents add up to
/// `total_ppm`. See the module docs for the sources and the limits of this estimate.
pub const fn rey_pattern_ppm(total_ppm: f64) -> [(Element, f64); 15] {
    let lree = LREE_FRACTION_OF_REY * total_ppm / LREE_PAAS_WEIGHT;
    let hree = HREE_FRACTION_OF_REY * total_ppm / HREE_PAAS_WEIGHT;
    [
        (Element::Y, Y_FRACTION_OF_REY * total_ppm),
        (Element::La, lree * paas(Element::La)),
        (Element::Ce, lree * CE_ANOMALY * paas(Element::Ce)),
        (Element::Pr, lree * paas(Element::Pr)),
        (Element::Nd, lree * paas(Element::Nd)),
        (Element::Sm, lree * paas(Element::Sm)),
        (Element::Eu, hree * paas(Element::Eu)),
        (Element::Gd, hree * paas(Element::Gd)),
        (Element::Tb, hree * paas(Element::Tb)),
        (Element::Dy, hree * paas(Element::Dy)),
        (Element::Ho, hree * paas(Element::Ho)),
        (Element::Er, hree * paas(Element::Er)),
        (Element::Tm, hree * paas(Element::Tm)),
        (Element::Yb, hree * paas(Element::Yb)),
        (Element::Lu, hree * paas(Element::Lu)),
    ]
}

/// Provenance of the estimated content of one REY element (Ce is illustrative, the rest estimated).
pub const fn rey_estimate_provenance(element: Element) -> Provenance {
    if element as usize == Element::Ce as usize {
        Provenance {
            source:
                "estimated: light-REE share 0.56 of ΣREY (1 - 0.44, Takaya et al. 2018) in PAAS \
                     proportions (Taylor & McLennan 1985) with Ce/Ce* = 0.15; the anomaly value is \
                     illustrative (no published number found), so Ce is illustrative",
            quality: Quality::Illustrative,
        }
    } else if element as usize == Element::Y as usize {
        Provenance {
            source: "estimated: Y = (0.44 - 0.20) of ΣREY; 0.44 = Y + HREE share (Takaya et al. 2018, \
                     Sci. Rep. 8:5763, text), 0.20 = HREE Eu-Lu share (~1000 of >5000 ppm, Tanaka et al. \
                     2020, Ore Geol. Rev. 119:103392); same pattern assumed for every grade",
            quality: Quality::Estimated,
        }
    } else if (element as usize) >= Element::Eu as usize
        && (element as usize) <= Element::Lu as usize
    {
        Provenance {
            source: "estimated: HREE Eu-Lu = 0.20 of ΣREY (~1000 of >5000 ppm, Tanaka et al. 2020, Ore \
                     Geol. Rev. 119:103392) split in PAAS proportions (Taylor & McLennan 1985, flat \
                     PAAS-normalized HREE); the real within-group shape was not found",
            quality: Quality::Estimated,
        }
    } else {
        Provenance {
            source: "estimated: LREE La-Sm = 0.56 of ΣREY (1 - Y + HREE share 0.44, Takaya et al. 2018, \
                     Sci. Rep. 8:5763) split in PAAS proportions (Taylor & McLennan 1985) with Ce/Ce* = \
                     0.15 (illustrative); the real within-group shape was not found",
            quality: Quality::Estimated,
        }
    }
}

const fn rey_provenances() -> [(Element, Provenance); 15] {
    let mut out = [(Element::Y, rey_estimate_provenance(Element::Y)); 15];
    let mut i = 0;
    while i < REY.len() {
        out[i] = (REY[i], rey_estimate_provenance(REY[i]));
        i += 1;
    }
    out
}

/// Estimated ΣREY of the biogenic calcium phosphate (apatite) that hosts the REY, in ppm.
///
/// Midpoint of the 9,300-32,000 ppm measured in apatite of this mud by LA-ICP-MS (Kon et al. 2014).
pub const APATITE_REY_PPM: f64 = (9_300.0 + 32_000.0) / 2.0;

/// Provenance of [`APATITE_REY_PPM`].
pub fn apatite_rey_provenance() -> Provenance {
    Provenance {
        source:
            "Kon, Hoshino, Sanematsu, Morita, Tsunematsu, Okamoto, Yano, Tanaka & Takagi 2014, \
                 Geochemical characteristics of apatite in heavy REE-rich deep-sea mud from \
                 Minami-Torishima area, Resource Geology 64:47, abstract: apatite 9,300-32,000 ppm \
                 ΣREY, phillipsite 60-170 ppm; midpoint 20,650 ppm taken",
        quality: Quality::Estimated,
    }
}

/// Estimated mass fraction of apatite in mud of ΣREY `total_rey_ppm`: ΣREY / [`APATITE_REY_PPM`].
///
/// Assumes all REY sit in apatite (Kon et al. 2014: apatite is the main host; phillipsite holds
/// only 60-170 ppm).
pub const fn apatite_mass_fraction(total_rey_ppm: f64) -> f64 {
    total_rey_ppm / APATITE_REY_PPM
}

/// Estimated apatite-bound CaO and P2O5 (wt %) of mud with ΣREY `total_rey_ppm`.
///
/// Apatite taken as fluorapatite Ca5(PO4)3F (the XRD phase of Kon et al. 2014). Ca and P in
/// phillipsite, clays and carbonate are not included, so the CaO figure is a lower bound.
pub fn apatite_majors_wt_pct(total_rey_ppm: f64) -> Option<[(&'static str, f64); 2]> {
    let f = apatite_mass_fraction(total_rey_ppm);
    Some([
        ("CaO", 100.0 * f * fluorapatite_cao_mass_fraction()?),
        ("P2O5", 100.0 * f * fluorapatite_p2o5_mass_fraction()?),
    ])
}

/// Provenance of the CaO and P2O5 of every grade.
pub const MAJORS_PROVENANCE: Provenance = Provenance {
    source: "estimated: apatite mass fraction = ΣREY(mud) / 20,650 ppm (midpoint of apatite ΣREY \
             9,300-32,000 ppm, Kon et al. 2014, Resource Geology 64:47), times the stoichiometric \
             CaO (55.6 %) and P2O5 (42.2 %) of fluorapatite Ca5(PO4)3F; apatite-bound only (Ca, P of \
             phillipsite and clay excluded); SiO2, Al2O3, Fe2O3, MnO, MgO, Na2O, K2O not found",
    quality: Quality::Estimated,
};

/// One grade class of the Minamitorishima mud with a representative composition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MudGrade {
    /// Stable id: `"rey_rich"`, `"highly_rey_rich"` or `"extremely_rey_rich"`.
    pub id: &'static str,
    /// Human-readable name with the class bounds.
    pub name: &'static str,
    /// Lower bound of the class, ΣREY in ppm (exclusive).
    pub class_min_ppm: f64,
    /// Upper bound of the class, ΣREY in ppm (inclusive), `None` for open classes.
    pub class_max_ppm: Option<f64>,
    /// Source of the class bounds.
    pub class_provenance: Provenance,
    /// Representative ΣREY of the grade in ppm (g per tonne of dry mud).
    pub rey_total_ppm: f64,
    /// Source of [`MudGrade::rey_total_ppm`].
    pub rey_total_provenance: Provenance,
    /// Per-element REY contents in ppm of dry mud (Y, La..Lu); they add up to `rey_total_ppm`.
    pub rey_ppm: &'static [(Element, f64)],
    /// Provenance of each entry of [`MudGrade::rey_ppm`].
    pub rey_provenance: &'static [(Element, Provenance)],
    /// Major components in wt % of dry mud (only those found or estimated; others absent).
    pub majors_wt_pct: &'static [(&'static str, f64)],
    /// Provenance of [`MudGrade::majors_wt_pct`].
    pub majors_provenance: Provenance,
    /// Summary provenance of the grade as a whole (its weakest datum's quality).
    pub provenance: Provenance,
}

impl MudGrade {
    /// Sum of the per-element REY contents, ppm.
    pub fn total_rey_ppm(&self) -> f64 {
        self.rey_ppm.iter().map(|&(_, v)| v).sum()
    }

    /// Content of one element in ppm, `None` if the grade has no entry for it.
    pub fn rey_ppm_of(&self, element: Element) -> Option<f64> {
        self.rey_ppm
            .iter()
            .find(|(e, _)| *e == element)
            .map(|&(_, v)| v)
    }

    /// Provenance of one element's content.
    pub fn rey_provenance_of(&self, element: Element) -> Option<Provenance> {
        self.rey_provenance
            .iter()
            .find(|(e, _)| *e == element)
            .map(|&(_, p)| p)
    }

    /// A major component in wt %, e.g. `major_wt_pct("CaO")`; `None` when not known.
    pub fn major_wt_pct(&self, name: &str) -> Option<f64> {
        self.majors_wt_pct
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }

    /// True when `total_ppm` lies inside this grade's class bounds.
    pub fn class_contains(&self, total_ppm: f64) -> bool {
        total_ppm > self.class_min_ppm && self.class_max_ppm.is_none_or(|max| total_ppm <= max)
    }

    /// Amount of an element in mol per tonne of dry mud (ppm = g/t).
    pub fn mol_per_t(&self, element: Element) -> Option<f64> {
        self.rey_ppm_of(element)
            .map(|ppm| element.mol_from_mass(ppm))
    }

    /// Commercial oxide of one element (La2O3, CeO2, Pr6O11, Tb4O7, ...) in kg per tonne of dry mud.
    pub fn reo_kg_per_t_of(&self, element: Element) -> Option<f64> {
        self.rey_ppm_of(element)
            .map(|ppm| ppm * element.oxide_per_metal_mass() / 1_000.0)
    }

    /// Total rare-earth oxide (commercial oxide forms) in kg per tonne of dry mud.
    pub fn reo_kg_per_t(&self) -> f64 {
        self.rey_ppm
            .iter()
            .map(|&(e, ppm)| ppm * e.oxide_per_metal_mass() / 1_000.0)
            .sum()
    }

    /// Ce anomaly Ce/Ce* = Ce_N / sqrt(La_N Pr_N), PAAS-normalized, computed from the contents.
    pub fn ce_anomaly(&self) -> Option<f64> {
        ce_anomaly(self.rey_ppm)
    }

    /// Estimated apatite mass fraction of the grade (see [`apatite_mass_fraction`]).
    pub fn apatite_mass_fraction(&self) -> f64 {
        apatite_mass_fraction(self.rey_total_ppm)
    }
}

/// Ce anomaly Ce/Ce* = Ce_N / sqrt(La_N Pr_N) of a REY composition in ppm (PAAS-normalized).
///
/// `None` when La, Ce or Pr is missing or not positive.
pub fn ce_anomaly(rey_ppm: &[(Element, f64)]) -> Option<f64> {
    let norm = |e: Element| -> Option<f64> {
        let v = rey_ppm.iter().find(|(x, _)| *x == e).map(|&(_, v)| v)?;
        let p = paas_ppm(e)?;
        (v > 0.0 && v.is_finite()).then_some(v / p)
    };
    let (la, ce, pr) = (norm(Element::La)?, norm(Element::Ce)?, norm(Element::Pr)?);
    Some(ce / (la * pr).sqrt())
}

/// ΣREY of the whole 2,500 km² study area, 0-10 m below seafloor (ppm).
const AREA_AVERAGE_REY_PPM: f64 = 964.0;
/// Midpoint of the highly REY-rich class (ppm).
const HIGHLY_REY_PPM: f64 = (2_000.0 + 5_000.0) / 2.0;
/// ΣREY of the extremely REY-rich layer of core KR13-02 PC05 (ppm).
const EXTREME_LAYER_REY_PPM: f64 = 6_596.0;

static REY_RICH_PPM: [(Element, f64); 15] = rey_pattern_ppm(AREA_AVERAGE_REY_PPM);
static HIGHLY_PPM: [(Element, f64); 15] = rey_pattern_ppm(HIGHLY_REY_PPM);
static EXTREMELY_PPM: [(Element, f64); 15] = rey_pattern_ppm(EXTREME_LAYER_REY_PPM);
static REY_PROVENANCE: [(Element, Provenance); 15] = rey_provenances();

/// Apatite-bound majors of the three grades (computed once from the formula molar masses).
static MAJORS: LazyLock<[Vec<(&'static str, f64)>; 3]> = LazyLock::new(|| {
    let majors = |total: f64| apatite_majors_wt_pct(total).map_or_else(Vec::new, |m| m.to_vec());
    [
        majors(AREA_AVERAGE_REY_PPM),
        majors(HIGHLY_REY_PPM),
        majors(EXTREME_LAYER_REY_PPM),
    ]
});

const CLASS_SOURCE: &str = "Kato et al. 2011, Nat. Geosci. 4:535 (REY-rich mud > 400 ppm); \
     Fujinaga et al. 2016, Geochem. J. 50:575; Iijima et al. 2016, Geochem. J. 50:557 and Takaya et al. \
     2018, Sci. Rep. 8:5763 (highly REY-rich 2,000-5,000 ppm, extremely REY-rich > 5,000 ppm ΣREY)";

const GRADE_SUMMARY: Provenance = Provenance {
    source: "ΣREY sourced per grade; per-element split estimated from published group shares \
             (Takaya et al. 2018; Tanaka et al. 2020) and PAAS proportions, Ce illustrative; CaO, P2O5 \
             estimated by apatite mass balance (Kon et al. 2014); see docs/data/feed-and-prices.md",
    quality: Quality::Estimated,
};

static GRADES: LazyLock<[MudGrade; 3]> = LazyLock::new(|| {
    [
    MudGrade {
        id: "rey_rich",
        name: "REY-rich mud (ΣREY > 400 ppm), study-area average",
        class_min_ppm: 400.0,
        class_max_ppm: None,
        class_provenance: Provenance {
            source: CLASS_SOURCE,
            quality: Quality::Measured,
        },
        rey_total_ppm: AREA_AVERAGE_REY_PPM,
        rey_total_provenance: Provenance {
            source: "Takaya et al. 2018, Sci. Rep. 8:5763: average ΣREY 964 ppm of the 2,500 km² study \
                     area (21°48'-22°15'N, 153°30'-154°07'E) from seafloor to 10 mbsf, 677 samples at 25 \
                     sites (GIS estimate, > 16 Mt REO)",
            quality: Quality::Measured,
        },
        rey_ppm: &REY_RICH_PPM,
        rey_provenance: &REY_PROVENANCE,
        majors_wt_pct: &MAJORS[0],
        majors_provenance: MAJORS_PROVENANCE,
        provenance: GRADE_SUMMARY,
    },
    MudGrade {
        id: "highly_rey_rich",
        name: "highly REY-rich mud (ΣREY 2,000-5,000 ppm), class midpoint",
        class_min_ppm: 2_000.0,
        class_max_ppm: Some(5_000.0),
        class_provenance: Provenance {
            source: CLASS_SOURCE,
            quality: Quality::Measured,
        },
        rey_total_ppm: HIGHLY_REY_PPM,
        rey_total_provenance: Provenance {
            source: "estimated: midpoint 3,500 ppm of the highly REY-rich class 2,000-5,000 ppm (Takaya et \
                     al. 2018; Iijima et al. 2016); no published layer average was found",
            quality: Quality::Estimated,
        },
        rey_ppm: &HIGHLY_PPM,
        rey_provenance: &REY_PROVENANCE,
        majors_wt_pct: &MAJORS[1],
        majors_provenance: MAJORS_PROVENANCE,
        provenance: GRADE_SUMMARY,
    },
    MudGrade {
        id: "extremely_rey_rich",
        name: "extremely REY-rich mud (ΣREY > 5,000 ppm), KR13-02 PC05 layer",
        class_min_ppm: 5_000.0,
        class_max_ppm: None,
        class_provenance: Provenance {
            source: CLASS_SOURCE,
            quality: Quality::Measured,
        },
        rey_total_ppm: EXTREME_LAYER_REY_PPM,
        rey_total_provenance: Provenance {
            source: "Ohta, Takaya, Fujinaga, Yasukawa, Nakamura, Machida, Haraguchi & Kato, JpGU 2014 \
                     abstract SGC56-12: core KR13-02 PC05 has an extremely REY-concentrated layer with \
                     6,596 ppm ΣREY (Kato et al. 2013; Suzuki et al. 2013); maximum found later ~7,000 ppm \
                     (Iijima et al. 2016) and almost 8,000 ppm (Takaya et al. 2018)",
            quality: Quality::Measured,
        },
        rey_ppm: &EXTREMELY_PPM,
        rey_provenance: &REY_PROVENANCE,
        majors_wt_pct: &MAJORS[2],
        majors_provenance: MAJORS_PROVENANCE,
        provenance: GRADE_SUMMARY,
    },
    ]
});

/// The three grades, from the area average to the extremely REY-rich layer.
pub fn grades() -> &'static [MudGrade] {
    &*GRADES
}

/// One grade by id (`"rey_rich"`, `"highly_rey_rich"`, `"extremely_rey_rich"`).
pub fn grade(id: &str) -> Option<&'static MudGrade> {
    GRADES.iter().find(|g| g.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_resolve_and_unknown_is_none() {
        for id in ["rey_rich", "highly_rey_rich", "extremely_rey_rich"] {
            assert_eq!(grade(id).map(|g| g.id), Some(id));
        }
        assert!(grade("shale").is_none());
    }

    #[test]
    fn grade_totals_are_inside_their_class_bounds() {
        for g in grades() {
            assert!(
                g.class_contains(g.rey_total_ppm),
                "{}: {}",
                g.id,
                g.rey_total_ppm
            );
            assert!(
                (g.total_rey_ppm() - g.rey_total_ppm).abs() < 1e-9 * g.rey_total_ppm,
                "{}: elements add to {} not {}",
                g.id,
                g.total_rey_ppm(),
                g.rey_total_ppm
            );
        }
        let extreme = grade("extremely_rey_rich").map(|g| g.rey_total_ppm);
        assert!(extreme.is_some_and(|v| v > 5_000.0));
        let highly = grade("highly_rey_rich").map(|g| g.rey_total_ppm);
        assert!(highly.is_some_and(|v| (2_000.0..=5_000.0).contains(&v)));
    }

    #[test]
    fn every_rey_element_present_once_with_provenance() {
        for g in grades() {
            assert_eq!(g.rey_ppm.len(), 15);
            for e in REY {
                assert_eq!(g.rey_ppm.iter().filter(|(x, _)| *x == e).count(), 1);
                let v = g.rey_ppm_of(e).unwrap_or(f64::NAN);
                assert!(v.is_finite() && v > 0.0, "{} {e}: {v}", g.id);
                let p = g.rey_provenance_of(e);
                assert!(p.is_some_and(|p| !p.source.is_empty()), "{} {e}", g.id);
            }
            assert!(!g.provenance.source.is_empty());
            assert!(!g.rey_total_provenance.source.is_empty());
            assert!(!g.class_provenance.source.is_empty());
        }
    }

    #[test]
    fn strong_negative_ce_anomaly_computed_from_the_data() {
        for g in grades() {
            let a = g.ce_anomaly().unwrap_or(f64::NAN);
            assert!(a < 0.5, "{}: Ce/Ce* = {a}", g.id);
            assert!((a - CE_ANOMALY).abs() < 1e-12);
        }
    }

    #[test]
    fn yttrium_is_the_largest_and_heavies_are_enriched() {
        for g in grades() {
            let y = g.rey_ppm_of(Element::Y).unwrap_or(0.0);
            for &(e, v) in g.rey_ppm {
                if e != Element::Y {
                    assert!(y > v, "{}: Y {y} <= {e} {v}", g.id);
                }
            }
            // HREE enrichment: PAAS-normalized Dy and Yb above La and Nd.
            let n =
                |e: Element| g.rey_ppm_of(e).unwrap_or(0.0) / paas_ppm(e).unwrap_or(f64::INFINITY);
            assert!(n(Element::Dy) > n(Element::La));
            assert!(n(Element::Yb) > n(Element::Nd));
            // Published constraint: HREE (Eu-Lu) ~ 1000 ppm at 5000 ppm ΣREY.
            let hree: f64 = g
                .rey_ppm
                .iter()
                .filter(|(e, _)| (Element::Eu..=Element::Lu).contains(e))
                .map(|&(_, v)| v)
                .sum();
            assert!((hree / g.rey_total_ppm - 0.20).abs() < 1e-12);
        }
    }

    #[test]
    fn reo_per_tonne_exceeds_rey_metal_and_uses_oxide_factors() {
        for g in grades() {
            let reo = g.reo_kg_per_t();
            let metal = g.total_rey_ppm() / 1_000.0;
            // Oxide factors lie between 1.13 (La2O3) and 1.27 (Y2O3).
            assert!(
                reo > 1.13 * metal && reo < 1.28 * metal,
                "{}: {reo} vs {metal}",
                g.id
            );
            let nd = g.reo_kg_per_t_of(Element::Nd).unwrap_or(0.0);
            let nd_metal = g.rey_ppm_of(Element::Nd).unwrap_or(0.0) / 1_000.0;
            assert!((nd / nd_metal - 168.2405 / 144.242).abs() < 1e-6);
        }
        // The extremely REY-rich layer: 6,596 ppm ΣREY is about 8 kg REO per tonne of mud.
        let reo = grade("extremely_rey_rich").map(MudGrade::reo_kg_per_t);
        assert!(reo.is_some_and(|r| (7.5..8.5).contains(&r)), "{reo:?}");
    }

    #[test]
    fn apatite_majors_scale_with_grade_and_stay_physical() {
        let mut last = 0.0;
        for g in grades() {
            let cao = g.major_wt_pct("CaO").unwrap_or(f64::NAN);
            let p2o5 = g.major_wt_pct("P2O5").unwrap_or(f64::NAN);
            assert!(cao > last && cao < 56.0, "{}: CaO {cao}", g.id);
            assert!(p2o5 > 0.0 && p2o5 < cao, "{}: P2O5 {p2o5}", g.id);
            // Ca/P molar ratio of fluorapatite is 5/3.
            let ca_mol = cao / (40.078 + 15.999);
            let p_mol = 2.0 * p2o5 / (2.0 * 30.973761998 + 5.0 * 15.999);
            assert!((ca_mol / p_mol - 5.0 / 3.0).abs() < 1e-9);
            last = cao;
        }
        assert!(grade("rey_rich").is_some_and(|g| g.major_wt_pct("SiO2").is_none()));
    }

    #[test]
    fn ce_anomaly_rejects_missing_or_zero_data() {
        assert!(ce_anomaly(&[(Element::La, 1.0), (Element::Ce, 1.0)]).is_none());
        assert!(
            ce_anomaly(&[(Element::La, 0.0), (Element::Ce, 1.0), (Element::Pr, 1.0)]).is_none()
        );
        // A shale-like (PAAS) composition has no anomaly.
        let a = ce_anomaly(&PAAS_PPM).unwrap_or(f64::NAN);
        assert!((a - 1.0).abs() < 1e-12);
    }
}
