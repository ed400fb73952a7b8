//! Dated price sets for separated rare-earth oxides and process reagents, each price with its source.
//!
//! Oxide prices are US$ per kg of the commercial oxide (La2O3, CeO2, Pr6O11, Nd2O3, Tb4O7, ...) at the
//! purity the source names. Reagent prices are US$ per kg (or per litre) of the product as traded,
//! with the active mass fraction when the source gives the grade. Chinese quotes in CNY/t are
//! converted at a stated exchange rate, and tagged estimated because of that conversion.
//! A price that no source gave is absent: a flowsheet that needs it must supply it.

use crate::mud::MudGrade;
use crate::{Element, Provenance, Quality};
use serde::{Serialize, Serializer};

/// Price of one separated oxide.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OxidePrice {
    /// Element whose commercial oxide is priced.
    pub element: Element,
    /// Minimum purity (fraction, 0.995 for 99.5 %); `None` when the source does not state it.
    pub purity: Option<f64>,
    /// US$ per kg of oxide.
    pub usd_per_kg: f64,
    /// Source, date and quality.
    pub provenance: Provenance,
}

/// Price of a mixed oxide product (e.g. NdPr oxide) that is traded as one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MixedOxidePrice {
    /// Product name as quoted.
    pub product: &'static str,
    /// Elements it contains.
    pub elements: &'static [Element],
    /// Minimum purity (fraction) when stated.
    pub purity: Option<f64>,
    /// US$ per kg of product.
    pub usd_per_kg: f64,
    /// Source, date and quality.
    pub provenance: Provenance,
}

/// A process reagent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Reagent {
    /// Hydrochloric acid (leach, scrub, strip).
    HydrochloricAcid,
    /// Sodium hydroxide (saponification, neutralization).
    SodiumHydroxide,
    /// Ammonia (saponification).
    Ammonia,
    /// Oxalic acid (precipitation).
    OxalicAcid,
    /// Di(2-ethylhexyl)phosphoric acid extractant (D2EHPA, P204).
    D2ehpa,
    /// Kerosene diluent.
    Kerosene,
}

impl Reagent {
    /// Lowercase name used in TOML and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reagent::HydrochloricAcid => "hcl",
            Reagent::SodiumHydroxide => "naoh",
            Reagent::Ammonia => "nh3",
            Reagent::OxalicAcid => "oxalic_acid",
            Reagent::D2ehpa => "d2ehpa",
            Reagent::Kerosene => "kerosene",
        }
    }
}

impl Serialize for Reagent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Unit in which a reagent price is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceUnit {
    /// US$ per kg of product as traded.
    UsdPerKg,
    /// US$ per litre of product as traded.
    UsdPerLitre,
}

/// Price of one reagent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReagentPrice {
    /// Reagent.
    pub reagent: Reagent,
    /// Product and delivery basis as quoted (grade, incoterm, location).
    pub product: &'static str,
    /// Mass fraction of the active chemical in the traded product, when the grade is stated.
    pub active_mass_fraction: Option<f64>,
    /// Price in [`ReagentPrice::unit`].
    pub price: f64,
    /// Unit of [`ReagentPrice::price`].
    pub unit: PriceUnit,
    /// Source, date and quality.
    pub provenance: Provenance,
}

impl ReagentPrice {
    /// US$ per kg of the active chemical (100 % basis), when the price is per kg and the grade known.
    pub fn usd_per_kg_active(&self) -> Option<f64> {
        match (self.unit, self.active_mass_fraction) {
            (PriceUnit::UsdPerKg, Some(f)) if f > 0.0 => Some(self.price / f),
            _ => None,
        }
    }
}

/// A dated set of oxide and reagent prices for valuing a plant's output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PriceSet {
    /// Stable id, e.g. `"usgs_2024"`.
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// Date or period the prices refer to.
    pub date: &'static str,
    /// Separated oxide prices.
    pub oxides: &'static [OxidePrice],
    /// Mixed oxide products priced as one (e.g. NdPr oxide).
    pub mixed_oxides: &'static [MixedOxidePrice],
    /// Reagent prices (each dated in its provenance).
    pub reagents: &'static [ReagentPrice],
    /// What the set does not cover and how to read it.
    pub notes: &'static str,
}

impl PriceSet {
    /// Price of an element's oxide in this set.
    pub fn oxide(&self, element: Element) -> Option<&'static OxidePrice> {
        self.oxides.iter().find(|p| p.element == element)
    }

    /// Price of a reagent in this set.
    pub fn reagent(&self, reagent: Reagent) -> Option<&'static ReagentPrice> {
        self.reagents.iter().find(|p| p.reagent == reagent)
    }
}

/// CNY per US$ used to convert the March 2025 Chinese quotes: CFETS central parity of 19 March 2025.
pub const CNY_PER_USD_2025_03: f64 = 7.1697;

/// Provenance of [`CNY_PER_USD_2025_03`].
pub fn cny_per_usd_provenance() -> Provenance {
    Provenance {
        source: "China Foreign Exchange Trade System central parity 7.1697 CNY/USD on 19 Mar 2025 (Xinhua); \
                 one week after the SMM quotes of 12-13 Mar 2025, whose own day rate was not retrieved",
        quality: Quality::Measured,
    }
}

/// US$ per kg from a CNY per tonne quote at [`CNY_PER_USD_2025_03`].
const fn cny_t(cny_per_t: f64) -> f64 {
    cny_per_t / 1_000.0 / CNY_PER_USD_2025_03
}

/// kg per US short ton.
const KG_PER_SHORT_TON: f64 = 907.18474;
/// Litres per US gallon.
const L_PER_US_GALLON: f64 = 3.785411784;

const fn oxide(
    element: Element,
    purity: Option<f64>,
    usd_per_kg: f64,
    p: Provenance,
) -> OxidePrice {
    OxidePrice {
        element,
        purity,
        usd_per_kg,
        provenance: p,
    }
}

// ---------------------------------------------------------------------------------------------
// USGS Mineral Commodity Summaries 2025, Rare Earths: U.S. average prices (Argus Non-Ferrous Markets)
// ---------------------------------------------------------------------------------------------

const fn usgs(year_note: &'static str) -> Provenance {
    Provenance {
        source: year_note,
        quality: Quality::Measured,
    }
}

const MCS2025_2024: &str =
    "USGS Mineral Commodity Summaries 2025, Rare Earths, salient statistics: \
     price, average, 2024 estimate, US$/kg (source Argus Media, Argus Non-Ferrous Markets)";
const MCS2025_2023: &str =
    "USGS Mineral Commodity Summaries 2025, Rare Earths, salient statistics: \
     price, average, 2023, US$/kg (Argus Non-Ferrous Markets)";
const MCS2025_2022: &str =
    "USGS Mineral Commodity Summaries 2025, Rare Earths, salient statistics: \
     price, average, 2022, US$/kg (Argus Non-Ferrous Markets)";
const MCS2025_2021: &str =
    "USGS Mineral Commodity Summaries 2025, Rare Earths, salient statistics: \
     price, average, 2021, US$/kg (Argus Non-Ferrous Markets)";
const MCS2025_2020: &str =
    "USGS Mineral Commodity Summaries 2025, Rare Earths, salient statistics: \
     price, average, 2020, US$/kg (Argus Non-Ferrous Markets)";

/// The six oxides MCS 2025 prices, with their stated minimum purities, for one year.
const fn mcs2025(
    source: &'static str,
    ce: f64,
    dy: f64,
    eu: f64,
    la: f64,
    nd: f64,
    tb: f64,
) -> [OxidePrice; 6] {
    [
        oxide(Element::Ce, Some(0.995), ce, usgs(source)),
        oxide(Element::Dy, Some(0.995), dy, usgs(source)),
        oxide(Element::Eu, Some(0.9999), eu, usgs(source)),
        oxide(Element::La, Some(0.995), la, usgs(source)),
        oxide(Element::Nd, Some(0.995), nd, usgs(source)),
        oxide(Element::Tb, Some(0.9999), tb, usgs(source)),
    ]
}

static USGS_2024: [OxidePrice; 6] = mcs2025(MCS2025_2024, 1.0, 260.0, 27.0, 1.0, 56.0, 810.0);
static USGS_2023: [OxidePrice; 6] = mcs2025(MCS2025_2023, 1.0, 330.0, 27.0, 1.0, 78.0, 1_298.0);
static USGS_2022: [OxidePrice; 6] = mcs2025(MCS2025_2022, 1.0, 382.0, 30.0, 1.0, 134.0, 2_051.0);
static USGS_2021: [OxidePrice; 6] = mcs2025(MCS2025_2021, 2.0, 410.0, 31.0, 2.0, 98.0, 1_346.0);
static USGS_2020: [OxidePrice; 6] = mcs2025(MCS2025_2020, 2.0, 261.0, 31.0, 2.0, 49.0, 670.0);

// ---------------------------------------------------------------------------------------------
// USGS Mineral Commodity Summaries 2016, Rare Earths: year-end prices 2011-2015 (ranges, midpoints)
// ---------------------------------------------------------------------------------------------

const MCS2016: &str =
    "USGS Mineral Commodity Summaries 2016, Rare Earths, salient statistics: price, \
     US$/kg, year-end, given as ranges (docslib copy of the chapter); midpoint of each range taken";

const fn yearend(ce: f64, dy: f64, eu: f64, la: f64, nd: f64, tb: f64) -> [OxidePrice; 6] {
    let p = Provenance {
        source: MCS2016,
        quality: Quality::Estimated,
    };
    [
        oxide(Element::Ce, Some(0.995), ce, p),
        oxide(Element::Dy, Some(0.995), dy, p),
        oxide(Element::Eu, Some(0.999), eu, p),
        oxide(Element::La, Some(0.995), la, p),
        oxide(Element::Nd, Some(0.995), nd, p),
        oxide(Element::Tb, Some(0.9999), tb, p),
    ]
}

// Ranges: Ce 40-45, 10-12, 5-6, 4-5, 2; Dy 1,400-1,420, 600-630, 440-490, 320-360, 215-240;
// Eu 3,780-3,800, 1,500-1,600, 950-1,000, 680-730, 130-175; La 50-52, 9-11, 6, 5, 2;
// Nd 190-200, 75-80, 65-70, 56-60, 37-42; Tb 2,800-2,820, 1,200-1,300, 800-850, 590-640, 410-490.
static YEAREND_2011: [OxidePrice; 6] = yearend(42.5, 1_410.0, 3_790.0, 51.0, 195.0, 2_810.0);
static YEAREND_2012: [OxidePrice; 6] = yearend(11.0, 615.0, 1_550.0, 10.0, 77.5, 1_250.0);
static YEAREND_2013: [OxidePrice; 6] = yearend(5.5, 465.0, 975.0, 6.0, 67.5, 825.0);
static YEAREND_2014: [OxidePrice; 6] = yearend(4.5, 340.0, 705.0, 5.0, 58.0, 615.0);
static YEAREND_2015: [OxidePrice; 6] = yearend(2.0, 227.5, 152.5, 2.0, 39.5, 450.0);

// ---------------------------------------------------------------------------------------------
// 2025 prices
// ---------------------------------------------------------------------------------------------

const MCS2026_2025: &str = "USGS Mineral Commodity Summaries 2026, 2025 average U.S. prices, as quoted by \
     KitchinHUB ree-book ch. 24 'The Industrial Landscape' (data as of 3 Sep 2026); primary not read";

static USGS_2025: [OxidePrice; 4] = [
    oxide(Element::Ce, None, 1.71, usgs(MCS2026_2025)),
    oxide(Element::Eu, None, 27.0, usgs(MCS2026_2025)),
    oxide(Element::Gd, None, 30.0, usgs(MCS2026_2025)),
    oxide(Element::La, None, 1.00, usgs(MCS2026_2025)),
];

static USGS_2025_MIXED: [MixedOxidePrice; 1] = [MixedOxidePrice {
    product: "NdPr oxide",
    elements: &[Element::Nd, Element::Pr],
    purity: Some(0.99),
    usd_per_kg: 69.0,
    provenance: Provenance {
        source: MCS2026_2025,
        quality: Quality::Measured,
    },
}];

const fn smm(source: &'static str) -> Provenance {
    Provenance {
        source,
        quality: Quality::Estimated,
    }
}

static CHINA_2025_03: [OxidePrice; 8] = [
    oxide(
        Element::Dy,
        None,
        cny_t(1_705_000.0),
        smm("SMM (Shanghai Metals Market) China spot, 12 Mar 2025: Dy2O3 1.70-1.71 million CNY/t; \
             midpoint at 7.1697 CNY/USD (CFETS 19 Mar 2025); domestic price, VAT treatment not stated"),
    ),
    oxide(
        Element::Tb,
        None,
        cny_t(6_575_000.0),
        smm("SMM China spot, 12 Mar 2025: Tb4O7 6.55-6.60 million CNY/t; midpoint at 7.1697 CNY/USD"),
    ),
    oxide(
        Element::Gd,
        None,
        cny_t(166_000.0),
        smm("SMM China spot, 12 Mar 2025: Gd2O3 165,000-167,000 CNY/t; midpoint at 7.1697 CNY/USD"),
    ),
    oxide(
        Element::Ho,
        None,
        cny_t(467_000.0),
        smm("SMM China spot, 6 Mar 2025: Ho2O3 464,000-470,000 CNY/t; midpoint at 7.1697 CNY/USD"),
    ),
    oxide(
        Element::Er,
        None,
        cny_t(297_000.0),
        smm("SMM China spot, 12 Mar 2025: Er2O3 295,000-299,000 CNY/t; midpoint at 7.1697 CNY/USD"),
    ),
    oxide(
        Element::La,
        None,
        cny_t(4_400.0),
        smm("SMM weekly, 13 Mar 2025: La2O3 4,200-4,600 CNY/t; midpoint at 7.1697 CNY/USD"),
    ),
    oxide(
        Element::Ce,
        None,
        cny_t(12_500.0),
        smm("SMM weekly, 13 Mar 2025: CeO2 12,000-13,000 CNY/t; midpoint at 7.1697 CNY/USD"),
    ),
    oxide(
        Element::Y,
        None,
        cny_t(56_000.0),
        smm("SMM weekly, 13 Mar 2025: Y2O3 55,000-57,000 CNY/t (China domestic, before the April 2025 \
             export controls); midpoint at 7.1697 CNY/USD"),
    ),
];

static CHINA_2025_03_MIXED: [MixedOxidePrice; 1] = [MixedOxidePrice {
    product: "PrNd oxide",
    elements: &[Element::Nd, Element::Pr],
    purity: None,
    usd_per_kg: cny_t(444_500.0),
    provenance: smm(
        "SMM China spot, 12 Mar 2025: PrNd oxide 443,000-446,000 CNY/t; midpoint at 7.1697 CNY/USD",
    ),
}];

const ARGUS_EUROPE: &str = "Argus monthly assessment, Europe, 6 May 2025, as reported by gmteight.com \
     (9 May 2025): after China's 4 Apr 2025 export controls Dy2O3 99.5 % rose from US$250-310/kg to \
     US$700-1,000/kg and Tb4O7 99.99 % from US$930-1,000/kg to US$2,000-4,000/kg; midpoint taken; \
     few actual transactions (panic quoting)";

static OUTSIDE_CHINA_2025: [OxidePrice; 7] = [
    oxide(
        Element::Dy,
        Some(0.995),
        850.0,
        Provenance {
            source: ARGUS_EUROPE,
            quality: Quality::Estimated,
        },
    ),
    oxide(
        Element::Tb,
        Some(0.9999),
        3_000.0,
        Provenance {
            source: ARGUS_EUROPE,
            quality: Quality::Estimated,
        },
    ),
    oxide(
        Element::Y,
        None,
        126.0,
        Provenance {
            source: "Asian Metal via Bloomberg (Business Times / miningmx, 2025): yttrium oxide outside \
                     China reached a record US$126/kg after a ~1,500 % rally in 2025, from < US$8/kg at \
                     the end of 2024, following China's April 2025 export controls",
            quality: Quality::Measured,
        },
    ),
    oxide(Element::Ce, None, 1.71, usgs(MCS2026_2025)),
    oxide(Element::Eu, None, 27.0, usgs(MCS2026_2025)),
    oxide(Element::Gd, None, 30.0, usgs(MCS2026_2025)),
    oxide(Element::La, None, 1.00, usgs(MCS2026_2025)),
];

const ADAMAS_2025: &str = "Adamas Intelligence, 'The fallacy of European rare earth prices' (2026), \
     volume-weighted 2025 prices: Y2O3 ~75 % of global consumption at an average US$6.50/kg (~25 % at \
     US$10.50, < 1 % at >= US$150 while the Rotterdam ask topped US$350 in Dec 2025); Dy2O3 ~96 % at \
     US$224/kg (~4 % at US$233, < 1 % at >= US$800, ask > US$1,100)";

static VOLUME_WEIGHTED_2025: [OxidePrice; 2] = [
    oxide(
        Element::Y,
        None,
        6.50,
        Provenance {
            source: ADAMAS_2025,
            quality: Quality::Measured,
        },
    ),
    oxide(
        Element::Dy,
        None,
        224.0,
        Provenance {
            source: ADAMAS_2025,
            quality: Quality::Measured,
        },
    ),
];

// ---------------------------------------------------------------------------------------------
// Reagents
// ---------------------------------------------------------------------------------------------

const OXALIC_ACID: ReagentPrice = ReagentPrice {
    reagent: Reagent::OxalicAcid,
    product: "oxalic acid (form not stated; the commercial form is usually the dihydrate)",
    active_mass_fraction: None,
    price: 1.00,
    unit: PriceUnit::UsdPerKg,
    provenance: Provenance {
        source: "University of Kentucky REE plant report (2019 US$), via PrOMMiS costing_dictionaries.py: \
                 oxalic acid 1.00 US$/kg (price year 2019)",
        quality: Quality::Measured,
    },
};

const D2EHPA: ReagentPrice = ReagentPrice {
    reagent: Reagent::D2ehpa,
    product: "D2EHPA industrial grade 95 %",
    active_mass_fraction: Some(0.95),
    price: 15.00,
    unit: PriceUnit::UsdPerKg,
    provenance: Provenance {
        source: "kemcore.com D2EHPA-95 list price accessed 16 Jan 2025 (2023 US$), via PrOMMiS \
                 costing_dictionaries.py; no price found for P507/PC88A",
        quality: Quality::Measured,
    },
};

const KEROSENE: ReagentPrice = ReagentPrice {
    reagent: Reagent::Kerosene,
    product: "kerosene-type jet fuel, U.S. Gulf Coast spot FOB, 2023 annual average (2.699 US$/gal)",
    active_mass_fraction: None,
    price: 2.699 / L_PER_US_GALLON,
    unit: PriceUnit::UsdPerLitre,
    provenance: Provenance {
        source: "U.S. EIA series EER_EPJK_PF4_RGC_DPG, 2023 annual average 2.699 US$/gal, via PrOMMiS \
                 costing_dictionaries.py; converted at 3.785411784 L/gal; SX-grade diluents cost more",
        quality: Quality::Measured,
    },
};

const fn hcl(product: &'static str, usd_per_t: f64, source: &'static str) -> ReagentPrice {
    ReagentPrice {
        reagent: Reagent::HydrochloricAcid,
        product,
        active_mass_fraction: Some(0.36),
        price: usd_per_t / 1_000.0,
        unit: PriceUnit::UsdPerKg,
        provenance: Provenance {
            source,
            quality: Quality::Measured,
        },
    }
}

const fn naoh(usd_per_t: f64, source: &'static str) -> ReagentPrice {
    ReagentPrice {
        reagent: Reagent::SodiumHydroxide,
        product: "caustic soda lye 48-50 %, FOB Houston; price read as per tonne NaOH (100 %), the usual \
                  U.S. dry-basis convention, which the source does not state",
        active_mass_fraction: Some(1.0),
        price: usd_per_t / 1_000.0,
        unit: PriceUnit::UsdPerKg,
        provenance: Provenance {
            source,
            quality: Quality::Estimated,
        },
    }
}

const fn nh3(usd_per_short_ton: f64, source: &'static str) -> ReagentPrice {
    ReagentPrice {
        reagent: Reagent::Ammonia,
        product: "anhydrous ammonia, fertilizer market, Eastern Corn Belt (US$/short ton)",
        active_mass_fraction: Some(1.0),
        price: usd_per_short_ton / KG_PER_SHORT_TON,
        unit: PriceUnit::UsdPerKg,
        provenance: Provenance {
            source,
            quality: Quality::Measured,
        },
    }
}

static REAGENTS_2024: [ReagentPrice; 6] = [
    hcl(
        "HCl 35-37 %, ex-works U.S. Gulf Coast (active fraction 0.36 = midpoint)",
        168.0,
        "ChemAnalyst Hydrochloric Acid pricing data, quarter ending June 2024: HCl 35-37 % ex-works USGC \
         US$168/MT at the end of Q2 2024",
    ),
    naoh(
        485.0,
        "PriceWatch caustic soda price trend: Q4 2024 U.S. lye (48-50 %) FOB Houston US$485/MT",
    ),
    nh3(
        600.0,
        "Country Folks 'Crop Comments' fertilizer cost update (J. Cassim, from fertilizer industry \
         periodicals): ammonia, Eastern Corn Belt, US$600/short ton on 13 Feb 2024",
    ),
    OXALIC_ACID,
    D2EHPA,
    KEROSENE,
];

static REAGENTS_2025: [ReagentPrice; 6] = [
    hcl(
        "HCl, Japan, quarterly average (grade as assessed by the source; active fraction 0.36 assumed)",
        137.0,
        "ChemAnalyst Hydrochloric Acid pricing data, quarter ending September 2025, APAC: Japan average \
         about US$137.00/MT (U.S. average US$337.67/MT the same quarter)",
    ),
    naoh(
        495.0,
        "PriceWatch caustic soda price trend: Q1 2025 U.S. lye (48-50 %) FOB Houston US$495/MT",
    ),
    nh3(
        608.0,
        "Country Folks 'Crop Comments' fertilizer cost update: ammonia, Eastern Corn Belt, US$608/short \
         ton on 13 Feb 2025",
    ),
    OXALIC_ACID,
    D2EHPA,
    KEROSENE,
];

static REAGENTS_2023: [ReagentPrice; 1] = [hcl(
    "HCl 35-37 %, ex-works U.S. Gulf Coast (active fraction 0.36 = midpoint)",
    146.0,
    "ChemAnalyst Hydrochloric Acid pricing data, quarter ending March 2023: ex-works USGC about US$146/MT",
)];

const USGS_NOTE: &str =
    "U.S. average prices of six oxides only: Pr, Sm, Gd, Tb..Lu other than Dy, and Y \
     are absent (MCS 2020 gave Y2O3 99.999 % at US$3/kg for 2019e); the flowsheet must supply them";

static PRICE_SETS: [PriceSet; 14] = [
    PriceSet {
        id: "usgs_2024",
        name: "USGS MCS 2025, 2024 estimated U.S. averages",
        date: "2024 (annual average, estimated)",
        oxides: &USGS_2024,
        mixed_oxides: &[],
        reagents: &REAGENTS_2024,
        notes: USGS_NOTE,
    },
    PriceSet {
        id: "usgs_2023",
        name: "USGS MCS 2025, 2023 U.S. averages",
        date: "2023 (annual average)",
        oxides: &USGS_2023,
        mixed_oxides: &[],
        reagents: &REAGENTS_2023,
        notes: USGS_NOTE,
    },
    PriceSet {
        id: "usgs_2022",
        name: "USGS MCS 2025, 2022 U.S. averages",
        date: "2022 (annual average)",
        oxides: &USGS_2022,
        mixed_oxides: &[],
        reagents: &[],
        notes: USGS_NOTE,
    },
    PriceSet {
        id: "usgs_2021",
        name: "USGS MCS 2025, 2021 U.S. averages",
        date: "2021 (annual average)",
        oxides: &USGS_2021,
        mixed_oxides: &[],
        reagents: &[],
        notes: USGS_NOTE,
    },
    PriceSet {
        id: "usgs_2020",
        name: "USGS MCS 2025, 2020 U.S. averages",
        date: "2020 (annual average)",
        oxides: &USGS_2020,
        mixed_oxides: &[],
        reagents: &[],
        notes: USGS_NOTE,
    },
    PriceSet {
        id: "usgs_yearend_2011",
        name: "USGS MCS 2016, 2011 year-end (range midpoints)",
        date: "2011-12 (year-end)",
        oxides: &YEAREND_2011,
        mixed_oxides: &[],
        reagents: &[],
        notes: "2011 is the peak of the 2010-2011 price spike; six oxides only, Eu at 99.9 %; no reagent prices: the flowsheet must supply them",
    },
    PriceSet {
        id: "usgs_yearend_2012",
        name: "USGS MCS 2016, 2012 year-end (range midpoints)",
        date: "2012-12 (year-end)",
        oxides: &YEAREND_2012,
        mixed_oxides: &[],
        reagents: &[],
        notes: "six oxides only, Eu at 99.9 %; no reagent prices: the flowsheet must supply them",
    },
    PriceSet {
        id: "usgs_yearend_2013",
        name: "USGS MCS 2016, 2013 year-end (range midpoints)",
        date: "2013-12 (year-end)",
        oxides: &YEAREND_2013,
        mixed_oxides: &[],
        reagents: &[],
        notes: "six oxides only, Eu at 99.9 %; no reagent prices: the flowsheet must supply them",
    },
    PriceSet {
        id: "usgs_yearend_2014",
        name: "USGS MCS 2016, 2014 year-end (range midpoints)",
        date: "2014-12 (year-end)",
        oxides: &YEAREND_2014,
        mixed_oxides: &[],
        reagents: &[],
        notes: "six oxides only, Eu at 99.9 %; no reagent prices: the flowsheet must supply them",
    },
    PriceSet {
        id: "usgs_yearend_2015",
        name: "USGS MCS 2016, 2015 year-end (range midpoints)",
        date: "2015-12 (year-end)",
        oxides: &YEAREND_2015,
        mixed_oxides: &[],
        reagents: &[],
        notes: "six oxides only, Eu at 99.9 %; no reagent prices: the flowsheet must supply them",
    },
    PriceSet {
        id: "usgs_2025",
        name: "USGS MCS 2026, 2025 U.S. averages (secondary quote)",
        date: "2025 (annual average)",
        oxides: &USGS_2025,
        mixed_oxides: &USGS_2025_MIXED,
        reagents: &REAGENTS_2025,
        notes: "quoted from a secondary source; Dy, Tb, Y, Ho, Er, Tm, Yb, Lu, Sm absent; Nd and Pr only as \
                NdPr oxide",
    },
    PriceSet {
        id: "china_spot_2025_03",
        name: "SMM China domestic spot, March 2025",
        date: "2025-03-12/13 (Ho 2025-03-06)",
        oxides: &CHINA_2025_03,
        mixed_oxides: &CHINA_2025_03_MIXED,
        reagents: &REAGENTS_2025,
        notes: "China domestic prices before the April 2025 export controls, converted at 7.1697 CNY/USD; \
                Nd and Pr only as PrNd oxide; Sm, Eu, Tm, Yb, Lu absent; purities not stated",
    },
    PriceSet {
        id: "outside_china_2025",
        name: "outside China 2025 (Argus Europe Dy/Tb May 2025, Asian Metal Y, USGS 2025 U.S. averages)",
        date: "2025 (Dy, Tb 2025-05-06; Y record of 2025; others annual averages)",
        oxides: &OUTSIDE_CHINA_2025,
        mixed_oxides: &USGS_2025_MIXED,
        reagents: &REAGENTS_2025,
        notes: "post-export-control quotes outside China with few trades behind them (Adamas Intelligence \
                calls such levels outliers: see volume_weighted_2025); Sm, Ho, Er, Tm, Yb, Lu absent",
    },
    PriceSet {
        id: "volume_weighted_2025",
        name: "volume-weighted global 2025 (Adamas Intelligence), Y and Dy only",
        date: "2025 (annual, volume-weighted)",
        oxides: &VOLUME_WEIGHTED_2025,
        mixed_oxides: &[],
        reagents: &REAGENTS_2025,
        notes: "only Y2O3 and Dy2O3 were given; combine with another set for the other oxides",
    },
];

/// All built-in price sets, oldest USGS year last within the USGS group.
pub fn price_sets() -> &'static [PriceSet] {
    &PRICE_SETS
}

/// One price set by id (`"usgs_2024"`, `"usgs_2023"`, ..., `"usgs_2020"`, `"usgs_yearend_2011"`, ...,
/// `"usgs_yearend_2015"`, `"usgs_2025"`, `"china_spot_2025_03"`, `"outside_china_2025"`,
/// `"volume_weighted_2025"`).
pub fn price_set(id: &str) -> Option<&'static PriceSet> {
    PRICE_SETS.iter().find(|s| s.id == id)
}

/// Value of one element's oxide contained in a tonne of mud.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementValue {
    /// Element.
    pub element: Element,
    /// Commercial oxide contained, kg per tonne of dry mud.
    pub oxide_kg_per_t: f64,
    /// Price used, US$/kg of oxide; `None` when no set prices it.
    pub usd_per_kg: Option<f64>,
    /// Contained value, US$ per tonne of dry mud; `None` when unpriced.
    pub usd_per_t: Option<f64>,
    /// Id of the price set that gave the price.
    pub price_set: Option<&'static str>,
    /// True when the price is that of a mixed product (NdPr oxide) applied to this oxide.
    pub from_mixed_product: bool,
}

/// Contained (in-situ) oxide value of a mud grade at a list of price sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainedValue {
    /// One entry per REY element of the grade, in the grade's order.
    pub items: Vec<ElementValue>,
    /// Sum of the priced entries, US$ per tonne of dry mud.
    pub total_usd_per_t: f64,
    /// Elements no set prices (their value is not in the total).
    pub unpriced: Vec<Element>,
}

/// Contained oxide value of `grade` per tonne of dry mud, before any recovery.
///
/// Each element takes the first price found in `sets`, in order: an oxide price, or else a mixed
/// product that contains the element (NdPr oxide, its price applied to Nd2O3 and Pr6O11 alike).
/// Elements that no set prices are listed in [`ContainedValue::unpriced`] and add nothing.
pub fn contained_value(grade: &MudGrade, sets: &[&'static PriceSet]) -> ContainedValue {
    let mut items = Vec::with_capacity(grade.rey_ppm.len());
    let mut total = 0.0;
    let mut unpriced = Vec::new();
    for &(element, _) in grade.rey_ppm {
        let oxide_kg_per_t = grade.reo_kg_per_t_of(element).unwrap_or(0.0);
        let single = sets
            .iter()
            .find_map(|s| s.oxide(element).map(|p| (p.usd_per_kg, s.id, false)));
        let price = single.or_else(|| {
            sets.iter().find_map(|s| {
                s.mixed_oxides
                    .iter()
                    .find(|m| m.elements.contains(&element))
                    .map(|m| (m.usd_per_kg, s.id, true))
            })
        });
        let (usd_per_kg, price_set, from_mixed_product) = match price {
            Some((p, id, mixed)) => (Some(p), Some(id), mixed),
            None => (None, None, false),
        };
        let usd_per_t = usd_per_kg.map(|p| p * oxide_kg_per_t);
        match usd_per_t {
            Some(v) => total += v,
            None => unpriced.push(element),
        }
        items.push(ElementValue {
            element,
            oxide_kg_per_t,
            usd_per_kg,
            usd_per_t,
            price_set,
            from_mixed_product,
        });
    }
    ContainedValue {
        items,
        total_usd_per_t: total,
        unpriced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_resolve() {
        for (i, s) in price_sets().iter().enumerate() {
            assert_eq!(price_set(s.id).map(|x| x.id), Some(s.id));
            assert!(
                price_sets()[i + 1..].iter().all(|o| o.id != s.id),
                "duplicate {}",
                s.id
            );
        }
        assert!(price_set("nope").is_none());
    }

    #[test]
    fn every_price_is_positive_finite_and_sourced() {
        for s in price_sets() {
            assert!(
                !s.oxides.is_empty() || !s.mixed_oxides.is_empty(),
                "{}",
                s.id
            );
            for p in s.oxides {
                assert!(
                    p.usd_per_kg.is_finite() && p.usd_per_kg > 0.0,
                    "{} {}",
                    s.id,
                    p.element
                );
                assert!(!p.provenance.source.is_empty());
                assert!(p.element.is_rey());
                if let Some(purity) = p.purity {
                    assert!(purity > 0.9 && purity < 1.0);
                }
                assert_eq!(
                    s.oxides.iter().filter(|o| o.element == p.element).count(),
                    1
                );
            }
            for m in s.mixed_oxides {
                assert!(m.usd_per_kg > 0.0 && !m.elements.is_empty());
                assert!(!m.provenance.source.is_empty());
            }
            for r in s.reagents {
                assert!(
                    r.price.is_finite() && r.price > 0.0,
                    "{} {:?}",
                    s.id,
                    r.reagent
                );
                assert!(!r.provenance.source.is_empty());
            }
        }
    }

    #[test]
    fn usgs_2024_matches_mcs2025_table() {
        let s = price_set("usgs_2024");
        let get = |e: Element| s.and_then(|s| s.oxide(e)).map(|p| (p.usd_per_kg, p.purity));
        assert_eq!(get(Element::Dy), Some((260.0, Some(0.995))));
        assert_eq!(get(Element::Nd), Some((56.0, Some(0.995))));
        assert_eq!(get(Element::Tb), Some((810.0, Some(0.9999))));
        assert_eq!(get(Element::Eu), Some((27.0, Some(0.9999))));
        assert_eq!(get(Element::La), Some((1.0, Some(0.995))));
        assert_eq!(get(Element::Ce), Some((1.0, Some(0.995))));
        assert!(get(Element::Y).is_none(), "Y is absent, not invented");
        // Heavy REE are worth more than light ones in every set that prices both.
        for s in price_sets() {
            if let (Some(tb), Some(la)) = (s.oxide(Element::Tb), s.oxide(Element::La)) {
                assert!(tb.usd_per_kg > 20.0 * la.usd_per_kg, "{}", s.id);
            }
        }
    }

    #[test]
    fn china_conversion_uses_stated_rate() {
        let dy = price_set("china_spot_2025_03").and_then(|s| s.oxide(Element::Dy));
        let expected = 1_705_000.0 / 1_000.0 / 7.1697;
        assert!(dy.is_some_and(|p| (p.usd_per_kg - expected).abs() < 1e-9));
        assert!(dy.is_some_and(|p| p.provenance.quality == Quality::Estimated));
        // Outside China in 2025 yttrium was far above the China domestic price.
        let y_out = price_set("outside_china_2025").and_then(|s| s.oxide(Element::Y));
        let y_cn = price_set("china_spot_2025_03").and_then(|s| s.oxide(Element::Y));
        assert!(matches!((y_out, y_cn), (Some(a), Some(b)) if a.usd_per_kg > 10.0 * b.usd_per_kg));
    }

    #[test]
    fn reagent_active_basis() {
        let s = price_set("usgs_2024");
        let hcl = s.and_then(|s| s.reagent(Reagent::HydrochloricAcid));
        let active = hcl.and_then(ReagentPrice::usd_per_kg_active);
        assert!(active.is_some_and(|a| (a - 0.168 / 0.36).abs() < 1e-12));
        let ker = s.and_then(|s| s.reagent(Reagent::Kerosene));
        assert!(ker.is_some_and(|k| k.usd_per_kg_active().is_none()));
        let nh3 = s.and_then(|s| s.reagent(Reagent::Ammonia));
        assert!(nh3.is_some_and(|n| (n.price - 600.0 / 907.18474).abs() < 1e-12));
        assert_eq!(Reagent::OxalicAcid.as_str(), "oxalic_acid");
    }
    #[test]
    fn contained_value_matches_hand_sum_and_lists_gaps() {
        let g = crate::mud::grade("extremely_rey_rich");
        let s = price_set("usgs_2024");
        let (Some(g), Some(s)) = (g, s) else {
            panic!("built-in grade and set exist");
        };
        let v = contained_value(g, &[s]);
        let hand: f64 = [
            Element::Ce,
            Element::Dy,
            Element::Eu,
            Element::La,
            Element::Nd,
            Element::Tb,
        ]
        .iter()
        .map(|&e| g.reo_kg_per_t_of(e).unwrap_or(0.0) * s.oxide(e).map_or(0.0, |p| p.usd_per_kg))
        .sum();
        assert!(
            (v.total_usd_per_t - hand).abs() < 1e-9 * hand,
            "{} vs {hand}",
            v.total_usd_per_t
        );
        assert!(v.unpriced.contains(&Element::Y) && v.unpriced.contains(&Element::Pr));
        assert_eq!(v.items.len(), 15);
        // Falling back to a second set fills gaps; a mixed NdPr price covers Pr.
        let fallback = price_set("china_spot_2025_03");
        let Some(fallback) = fallback else {
            panic!("built-in set exists");
        };
        let w = contained_value(g, &[s, fallback]);
        assert!(w.total_usd_per_t > v.total_usd_per_t);
        assert!(!w.unpriced.contains(&Element::Y) && !w.unpriced.contains(&Element::Pr));
        let pr = w.items.iter().find(|i| i.element == Element::Pr);
        assert!(
            pr.is_some_and(|i| i.from_mixed_product && i.price_set == Some("china_spot_2025_03"))
        );
    }
    #[test]
    fn yearend_2011_spike_is_midpoint_of_mcs2016_ranges() {
        let s = price_set("usgs_yearend_2011");
        let dy = s.and_then(|s| s.oxide(Element::Dy)).map(|p| p.usd_per_kg);
        assert_eq!(dy, Some(1_410.0));
        let eu = s.and_then(|s| s.oxide(Element::Eu));
        assert!(eu.is_some_and(|p| p.usd_per_kg == 3_790.0 && p.purity == Some(0.999)));
        // The spike: 2011 Dy is more than five times the 2024 average.
        let dy24 = price_set("usgs_2024")
            .and_then(|s| s.oxide(Element::Dy))
            .map(|p| p.usd_per_kg);
        assert!(matches!((dy, dy24), (Some(a), Some(b)) if a > 5.0 * b));
    }
}
