//! Operating flows and reagent consumption of a designed cut: organic, scrub, strip, saponification
//! base and acid, per mol of REE feed and for a given feed rate.
//!
//! # Equations (per mol REE feed)
//!
//! | symbol | identifier | unit | meaning |
//! |---|---|---|---|
//! | c_HA | `extractant_conc` | mol/L | formal (monomer) concentration of the acidic extractant in the organic |
//! | φ | `saponification` | - | fraction of the extractant neutralised (Na+/NH4+ form) before extraction |
//! | c_cap | `loading_capacity` | mol REE/L | optional limit on the loaded organic's REE concentration |
//! | c_load | `conc_org_loaded` | mol REE/L | REE concentration of the loaded fresh organic |
//! | Q_org | `flow_vol_org` | L/mol feed | fresh organic flow |
//! | [H+]_scrub, [H+]_strip | `scrub_acid`, `strip_acid` | mol/L | acid strength of scrub and strip liquors |
//! | ε | `acid_excess` | - | acid supplied above stoichiometry, fraction |
//!
//! - Saponified cation exchange RE³⁺ + 3 NaA(o) = REA₃(o) + 3 Na⁺ (Zhang, Zhao & Schreiner 2016,
//!   Eqs 4.95-4.96, via chemistry.md 1.1 [S2]): the saponified capacity is φ c_HA / 3 mol REE/L, so
//!   c_load = min(φ c_HA / 3, c_cap).
//! - The fresh organic must carry S mol REE out of the extraction section: Q_org = S / c_load.
//! - Saponification base = φ c_HA Q_org mol (= 3 S, 3 mol base per mol REE loaded, when the
//!   saponified capacity is what limits the loading).
//! - Scrub: the scrub liquor enters REE-free and leaves the scrub section carrying W mol REE, which
//!   it takes from the organic by exchange of 3 H⁺ per REE: acid = 3 W (1 + ε) mol,
//!   volume = acid / [H+]_scrub.
//! - Strip: the organic product carries f'_A mol REE; 3 H⁺ per REE stripped:
//!   acid = 3 f'_A (1 + ε) mol, volume = acid / [H+]_strip.
//! - Optional aqueous feed concentration c_F (mol REE/L) gives the feed volume 1/c_F and the phase
//!   ratios O/A = Q_org / (1/c_F + Q_scrub) in the extraction section and Q_org / Q_scrub in the
//!   scrub section (aqueous feed). For an organic feed the loaded feed organic (assumed at c_load)
//!   adds 1/c_load to the scrub section's organic.
//!
//! Stoichiometric floors (chemistry.md section 3 [D]); real circuits run excess acid (ε) and lose
//! extractant, which are not modelled here. No default values are built in: every concentration is
//! the user's.

use serde::Serialize;

use crate::error::{positive, DesignError};
use crate::shortcut::{FeedPhase, SectionRatios};

/// Extractant and acid data that turn REE flow ratios into volumes and reagents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReagentBasis {
    /// Formal (monomer) extractant concentration in the organic, mol/L.
    pub extractant_conc: f64,
    /// Saponification degree, fraction of the extractant neutralised, in (0, 1].
    pub saponification: f64,
    /// Optional upper limit of the loaded organic's REE concentration, mol/L.
    pub loading_capacity: Option<f64>,
    /// Acid strength of the scrub liquor, mol H+/L.
    pub scrub_acid: f64,
    /// Acid strength of the strip liquor, mol H+/L.
    pub strip_acid: f64,
    /// Acid supplied above stoichiometry, fraction >= 0.
    pub acid_excess: f64,
    /// Optional REE concentration of an aqueous feed, mol/L.
    pub feed_conc: Option<f64>,
    /// Optional feed rate, mol REE/h.
    pub feed_rate: Option<f64>,
}

/// Flows and reagents of a cut, per mol REE feed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitFlows {
    /// REE concentration of the loaded fresh organic, mol/L.
    pub conc_org_loaded: f64,
    /// Fresh organic, L.
    pub flow_vol_org: f64,
    /// Scrub liquor, L.
    pub flow_vol_scrub: f64,
    /// Strip liquor, L.
    pub flow_vol_strip: f64,
    /// Aqueous feed, L (when the feed concentration is given and the feed is aqueous).
    pub flow_vol_feed: Option<f64>,
    /// Saponification base, mol (NaOH or NH3 equivalents).
    pub base: f64,
    /// Scrub acid, mol H+.
    pub acid_scrub: f64,
    /// Strip acid, mol H+.
    pub acid_strip: f64,
    /// Organic/aqueous volume ratio in the extraction section (when the feed volume is known).
    pub ratio_oa_extraction: Option<f64>,
    /// Organic/aqueous volume ratio in the scrub section.
    pub ratio_oa_scrub: f64,
}

/// Flows per mol feed and, when a feed rate is given, per hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flows {
    /// The data used.
    pub basis: ReagentBasis,
    /// Per mol REE feed.
    pub per_mol_feed: UnitFlows,
    /// Per hour at `basis.feed_rate` (L/h, mol/h); ratios unchanged.
    pub per_hour: Option<UnitFlows>,
}

/// Computes the flows of a cut at the section ratios `ratios` with organic-product fraction `f_a`.
pub fn flows(
    basis: &ReagentBasis,
    ratios: &SectionRatios,
    f_a: f64,
    feed_phase: FeedPhase,
) -> Result<Flows, DesignError> {
    let c_ha = positive("extractant_conc", basis.extractant_conc)?;
    let phi = basis.saponification;
    if !(phi.is_finite() && phi > 0.0 && phi <= 1.0) {
        return Err(DesignError::InvalidValue {
            name: "saponification".to_string(),
            value: phi,
            expected: "a fraction in (0, 1]",
        });
    }
    let scrub_acid = positive("scrub_acid", basis.scrub_acid)?;
    let strip_acid = positive("strip_acid", basis.strip_acid)?;
    let excess = basis.acid_excess;
    if !(excess.is_finite() && excess >= 0.0) {
        return Err(DesignError::InvalidValue {
            name: "acid_excess".to_string(),
            value: excess,
            expected: "a finite fraction >= 0",
        });
    }
    let mut c_load = phi * c_ha / 3.0;
    if let Some(cap) = basis.loading_capacity {
        c_load = c_load.min(positive("loading_capacity", cap)?);
    }
    let feed_vol = match (basis.feed_conc, feed_phase) {
        (Some(c), FeedPhase::Aqueous) => Some(1.0 / positive("feed_conc", c)?),
        (Some(c), FeedPhase::Organic) => {
            positive("feed_conc", c)?;
            None
        }
        (None, _) => None,
    };
    if let Some(r) = basis.feed_rate {
        positive("feed_rate", r)?;
    }
    let flow_vol_org = ratios.s / c_load;
    let acid_scrub = 3.0 * ratios.w * (1.0 + excess);
    let acid_strip = 3.0 * f_a * (1.0 + excess);
    let flow_vol_scrub = acid_scrub / scrub_acid;
    let org_scrub = match feed_phase {
        FeedPhase::Aqueous => flow_vol_org,
        FeedPhase::Organic => flow_vol_org + 1.0 / c_load,
    };
    let unit = UnitFlows {
        conc_org_loaded: c_load,
        flow_vol_org,
        flow_vol_scrub,
        flow_vol_strip: acid_strip / strip_acid,
        flow_vol_feed: feed_vol,
        base: phi * c_ha * flow_vol_org,
        acid_scrub,
        acid_strip,
        ratio_oa_extraction: match feed_phase {
            FeedPhase::Aqueous => feed_vol.map(|v| flow_vol_org / (v + flow_vol_scrub)),
            FeedPhase::Organic => Some(flow_vol_org / flow_vol_scrub),
        },
        ratio_oa_scrub: org_scrub / flow_vol_scrub,
    };
    let per_hour = basis.feed_rate.map(|r| UnitFlows {
        conc_org_loaded: unit.conc_org_loaded,
        flow_vol_org: unit.flow_vol_org * r,
        flow_vol_scrub: unit.flow_vol_scrub * r,
        flow_vol_strip: unit.flow_vol_strip * r,
        flow_vol_feed: unit.flow_vol_feed.map(|v| v * r),
        base: unit.base * r,
        acid_scrub: unit.acid_scrub * r,
        acid_strip: unit.acid_strip * r,
        ratio_oa_extraction: unit.ratio_oa_extraction,
        ratio_oa_scrub: unit.ratio_oa_scrub,
    });
    Ok(Flows {
        basis: *basis,
        per_mol_feed: unit,
        per_hour,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis() -> ReagentBasis {
        // Illustrative inputs for the test only (not built-in data).
        ReagentBasis {
            extractant_conc: 1.5,
            saponification: 0.36,
            loading_capacity: None,
            scrub_acid: 3.0,
            strip_acid: 4.0,
            acid_excess: 0.0,
            feed_conc: Some(1.0),
            feed_rate: Some(10.0),
        }
    }

    #[test]
    fn stoichiometry_three_per_ree() {
        let r = SectionRatios {
            s: 1.708645,
            w: 1.208194,
            e_m: 0.773775,
            e_prime_m: 2f64.sqrt(),
        };
        let f = flows(&basis(), &r, 0.50045, FeedPhase::Aqueous).unwrap();
        let u = f.per_mol_feed;
        // base = 3 S when saponification limits loading
        assert!((u.base - 3.0 * r.s).abs() < 1e-12);
        assert!((u.acid_scrub - 3.0 * r.w).abs() < 1e-12);
        assert!((u.acid_strip - 3.0 * 0.50045).abs() < 1e-12);
        // organic carries S at c_load
        assert!((u.flow_vol_org * u.conc_org_loaded - r.s).abs() < 1e-12);
        let h = f.per_hour.unwrap();
        assert!((h.base - 10.0 * u.base).abs() < 1e-9);
        assert!(u.ratio_oa_extraction.unwrap() > 0.0);
    }

    #[test]
    fn loading_capacity_limits_and_raises_base() {
        let mut b = basis();
        b.loading_capacity = Some(0.1);
        let r = SectionRatios {
            s: 1.0,
            w: 0.5,
            e_m: 0.6,
            e_prime_m: 2.0,
        };
        let f = flows(&b, &r, 0.5, FeedPhase::Aqueous).unwrap();
        assert!((f.per_mol_feed.conc_org_loaded - 0.1).abs() < 1e-15);
        assert!(f.per_mol_feed.base > 3.0 * r.s);
    }

    #[test]
    fn bad_saponification_is_error() {
        let mut b = basis();
        b.saponification = 1.5;
        let r = SectionRatios {
            s: 1.0,
            w: 0.5,
            e_m: 0.6,
            e_prime_m: 2.0,
        };
        assert!(matches!(
            flows(&b, &r, 0.5, FeedPhase::Aqueous),
            Err(DesignError::InvalidValue { .. })
        ));
    }
}
