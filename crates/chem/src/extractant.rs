//! Extractant systems as data: names and aliases, kind, and sourced equilibrium parameters per element.
//!
//! Each [`ExtractantSystem`] carries, for every equilibrium model of DESIGN.md section 4, the
//! tables a source gives for it, each with its measurement conditions and [`Provenance`]:
//!
//! | model | table type | equation |
//! |---|---|---|
//! | `distribution` | [`DistributionSet`] | y_i = D_i x_i with D_i constant |
//! | `separation_factor` | [`SeparationFactorSet`] | beta_A/B = D_A / D_B (Xu's constant mixed extraction ratio) |
//! | `mass_action` | [`MassActionSet`] | `D_i = sum_j K_ij [E]^n_ij / [H+]^m_ij` |
//! | empirical | [`EmpiricalSet`] | log10 D_i = (a0_i + a1_i x) pH + b_i + c_i log10 x |
//!
//! An element a source does not give is absent from the table (never interpolated or invented);
//! the flowsheet must then supply it. What was looked for and not found is listed in
//! `docs/data/chemistry.md`. Numbers seen only in a secondary text say so in their source
//! string ("via ...").

use serde::Serialize;

use crate::element::Element;
use crate::provenance::{Provenance, Quality};

/// Chemical family of an extractant, which fixes the extraction mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExtractantKind {
    /// Dialkyl phosphoric acid, e.g. D2EHPA (P204); cation exchanger.
    AcidicPhosphoric,
    /// Phosphonic acid monoester, e.g. P507 (PC88A); cation exchanger.
    AcidicPhosphonic,
    /// Dialkyl phosphinic acid, e.g. Cyanex 272; cation exchanger.
    AcidicPhosphinic,
    /// Carboxylic acid, e.g. naphthenic acid; cation exchanger.
    Carboxylic,
    /// Neutral solvating extractant, e.g. TBP; extracts neutral salts, releases no protons.
    Solvating,
    /// A mixture of extractants (synergistic systems).
    Mixture,
}

impl ExtractantKind {
    /// Lowercase name for messages and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractantKind::AcidicPhosphoric => "acidic organophosphorus (phosphoric acid)",
            ExtractantKind::AcidicPhosphonic => "acidic organophosphorus (phosphonic acid)",
            ExtractantKind::AcidicPhosphinic => "acidic organophosphorus (phosphinic acid)",
            ExtractantKind::Carboxylic => "carboxylic acid",
            ExtractantKind::Solvating => "neutral solvating",
            ExtractantKind::Mixture => "mixture",
        }
    }

    /// True when extraction exchanges protons (or saponification counter-ions) for metal ions,
    /// so that the mass-action model with [H+] applies.
    pub fn is_cation_exchanger(self) -> bool {
        matches!(
            self,
            ExtractantKind::AcidicPhosphoric
                | ExtractantKind::AcidicPhosphonic
                | ExtractantKind::AcidicPhosphinic
                | ExtractantKind::Carboxylic
        )
    }
}

/// A single sourced number with its unit, conditions and provenance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fact {
    /// What the number is, e.g. `"loaded organic REE concentration, upper end"`.
    pub quantity: &'static str,
    /// The value, in `unit`.
    pub value: f64,
    /// Unit of `value` as text (`"mol/L"`, `"g/mol"`, `"-"`).
    pub unit: &'static str,
    /// Conditions under which the source reports it.
    pub conditions: &'static str,
    /// Where it comes from.
    pub provenance: Provenance,
}

/// Stoichiometry of the extraction reaction for a trivalent ion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stoichiometry {
    /// Extractant molecules (monomer units) bound per trivalent metal ion at saturation,
    /// e.g. 6 for RE(HA2)3 with a dimeric acidic extractant, 3 for RE(NO3)3·3TBP.
    pub extractant_per_ion: f64,
    /// Protons released per unit of metal charge (1 for cation exchangers, 0 for solvating).
    pub protons_per_charge: f64,
    /// Reaction as written by the source.
    pub reaction: &'static str,
    /// Where it comes from.
    pub provenance: Provenance,
}

impl Stoichiometry {
    /// Maximum organic loading in mol metal per L for a given extractant concentration (mol/L of
    /// monomer), from stoichiometry alone: `conc / extractant_per_ion`. Plants run well below it.
    pub fn stoichiometric_capacity(&self, conc_extractant: f64) -> f64 {
        if conc_extractant.is_finite() && conc_extractant > 0.0 && self.extractant_per_ion > 0.0 {
            conc_extractant / self.extractant_per_ion
        } else {
            0.0
        }
    }
}

/// Relative extractability of one pair: `beta = D_more / D_less` (> 0; > 1 when `more` is the more
/// extracted element).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SepFactor {
    /// Element in the numerator.
    pub more: Element,
    /// Element in the denominator.
    pub less: Element,
    /// beta = D_more / D_less.
    pub beta: f64,
}

/// Separation factors measured together under one set of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SeparationFactorSet {
    /// Conditions (extractant concentration, diluent, saponification, medium, acidity, T).
    pub conditions: &'static str,
    /// Where the numbers come from.
    pub provenance: Provenance,
    /// The pairs as reported.
    pub pairs: &'static [SepFactor],
}

impl SeparationFactorSet {
    /// beta(a/b) = D_a/D_b from this set, chaining reported pairs when `a` and `b` are not
    /// reported together directly (e.g. Nd/La = Nd/Pr * Pr/Ce * Ce/La). `None` when the set does not
    /// connect the two elements. beta(a/a) = 1 when `a` occurs in the set.
    pub fn sep_factor(&self, a: Element, b: Element) -> Option<f64> {
        let rel = self.relative_extractabilities();
        let find = |e: Element| rel.iter().find(|(x, _)| *x == e).map(|(_, v)| *v);
        let (ka, kb) = (find(a)?, find(b)?);
        let value = ka / kb;
        value.is_finite().then_some(value)
    }

    /// Relative extractabilities (beta_i of the separation-factor model) of every element the set
    /// connects to its first-listed element, scaled so the least extracted element has 1, in the
    /// order of [`Element::ALL`]. Elements reached by no pair chain from the first one are left out.
    pub fn relative_extractabilities(&self) -> Vec<(Element, f64)> {
        let Some(first) = self.pairs.first() else {
            return Vec::new();
        };
        let mut known: Vec<(Element, f64)> = vec![(first.less, 1.0)];
        // Breadth-first propagation over the pair graph; at most one pass per pair.
        for _ in 0..=self.pairs.len() {
            let mut changed = false;
            for p in self.pairs {
                if !(p.beta.is_finite() && p.beta > 0.0) {
                    continue;
                }
                let more = known.iter().find(|(e, _)| *e == p.more).map(|(_, v)| *v);
                let less = known.iter().find(|(e, _)| *e == p.less).map(|(_, v)| *v);
                match (more, less) {
                    (None, Some(l)) => {
                        known.push((p.more, l * p.beta));
                        changed = true;
                    }
                    (Some(m), None) => {
                        known.push((p.less, m / p.beta));
                        changed = true;
                    }
                    _ => {}
                }
            }
            if !changed {
                break;
            }
        }
        let min = known.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
        let mut out: Vec<(Element, f64)> = known.into_iter().map(|(e, v)| (e, v / min)).collect();
        out.sort_by_key(|(e, _)| e.index());
        out
    }
}

/// One term of a mass-action expression: `K [E]^extractant_exponent / [H+]^h_exponent`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MassActionTerm {
    /// Element the term belongs to.
    pub element: Element,
    /// log10 of the (conditional, concentration-scale) extraction constant K_ex.
    pub log10_k: f64,
    /// Exponent of the free extractant concentration (in the species of `extractant_basis`).
    pub extractant_exponent: f64,
    /// Exponent of [H+] (3 for a trivalent ion exchanging protons).
    pub h_exponent: f64,
}

/// Which species the extractant concentration of a mass-action law refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractantBasis {
    /// Dimer (HA)2 concentration, mol/L of dimer.
    Dimer,
    /// Monomer HA concentration, mol/L.
    Monomer,
}

/// Extraction constants measured together: D_i = sum over the element's terms of
/// `K [E]^n / [H+]^m`, with `[E]` the free extractant (see `basis`) and `[H+]` in mol/L.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MassActionSet {
    /// Conditions (diluent, medium, ionic strength, temperature).
    pub conditions: &'static str,
    /// Where the numbers come from.
    pub provenance: Provenance,
    /// Species the extractant concentration refers to.
    pub basis: ExtractantBasis,
    /// Terms; an element may have several (parallel extracted species).
    pub terms: &'static [MassActionTerm],
}

impl MassActionSet {
    /// Distribution ratio of `element` at free extractant `conc_extractant` (mol/L, in `basis`)
    /// and `conc_h` (mol/L H+). `None` when the set has no term for the element or an input is not
    /// a positive finite number.
    pub fn d_ratio(&self, element: Element, conc_h: f64, conc_extractant: f64) -> Option<f64> {
        if !(conc_h.is_finite()
            && conc_h > 0.0
            && conc_extractant.is_finite()
            && conc_extractant > 0.0)
        {
            return None;
        }
        let mut d = 0.0;
        let mut any = false;
        for t in self.terms.iter().filter(|t| t.element == element) {
            any = true;
            d += 10f64.powf(
                t.log10_k + t.extractant_exponent * conc_extractant.log10()
                    - t.h_exponent * conc_h.log10(),
            );
        }
        (any && d.is_finite()).then_some(d)
    }
}

/// What the extractant variable `x` of an empirical correlation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractantMeasure {
    /// Volume percent of extractant in the organic phase (PrOMMiS "dosage").
    VolumePercent,
    /// Free extractant concentration in mol/L.
    MolPerL,
}

/// Coefficients of log10 D = (a0 + a1 x) pH + b + c log10 x for one element.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmpiricalCoefficients {
    /// Element.
    pub element: Element,
    /// pH slope at x = 0.
    pub a0: f64,
    /// Change of the pH slope per unit x.
    pub a1: f64,
    /// Intercept.
    pub b: f64,
    /// Coefficient of log10 x.
    pub c: f64,
}

/// An empirical log10 D correlation fitted by a source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmpiricalSet {
    /// Conditions of the underlying data and validity range.
    pub conditions: &'static str,
    /// Where the coefficients come from.
    pub provenance: Provenance,
    /// What x is.
    pub measure: ExtractantMeasure,
    /// Coefficients per element.
    pub coefficients: &'static [EmpiricalCoefficients],
}

impl EmpiricalSet {
    /// log10 D of `element` at `ph` and extractant amount `x` (in `measure`); `None` when the set
    /// has no coefficients for the element, `x <= 0` (when the log term is used) or an input is
    /// not finite.
    pub fn log10_d(&self, element: Element, ph: f64, x: f64) -> Option<f64> {
        let k = self.coefficients.iter().find(|k| k.element == element)?;
        if !(ph.is_finite() && x.is_finite()) {
            return None;
        }
        let log_term = if k.c == 0.0 {
            0.0
        } else if x > 0.0 {
            k.c * x.log10()
        } else {
            return None;
        };
        let v = (k.a0 + k.a1 * x) * ph + k.b + log_term;
        v.is_finite().then_some(v)
    }

    /// Distribution ratio D = 10^log10_d, `None` as for [`EmpiricalSet::log10_d`] or on overflow.
    pub fn d_ratio(&self, element: Element, ph: f64, x: f64) -> Option<f64> {
        let d = 10f64.powf(self.log10_d(element, ph, x)?);
        d.is_finite().then_some(d)
    }
}

/// Constant distribution ratios under one set of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DistributionSet {
    /// Conditions.
    pub conditions: &'static str,
    /// Where the numbers come from.
    pub provenance: Provenance,
    /// D per element.
    pub values: &'static [(Element, f64)],
}

impl DistributionSet {
    /// D of `element`, if the set gives it.
    pub fn d_ratio(&self, element: Element) -> Option<f64> {
        self.values
            .iter()
            .find(|(e, _)| *e == element)
            .map(|(_, d)| *d)
    }
}

/// An extractant system: one extractant (or a defined mixture) with all data sxplan ships for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExtractantSystem {
    /// Stable identifier used in TOML and reports (`"p507"`).
    pub id: &'static str,
    /// Display name (`"P507"`).
    pub name: &'static str,
    /// Other names, matched case-insensitively ignoring spaces, hyphens and brackets.
    pub aliases: &'static [&'static str],
    /// Chemical family.
    pub kind: ExtractantKind,
    /// Chemical name or composition.
    pub description: &'static str,
    /// Molecular formula of the active ingredient, when it is a single compound.
    pub formula: Option<&'static str>,
    /// Reaction stoichiometry, when sourced.
    pub stoichiometry: Option<Stoichiometry>,
    /// Constant distribution ratios (`distribution` model).
    pub distribution: &'static [DistributionSet],
    /// Separation factors (`separation_factor` model).
    pub separation_factors: &'static [SeparationFactorSet],
    /// Extraction constants (`mass_action` model).
    pub mass_action: &'static [MassActionSet],
    /// Empirical log10 D correlations.
    pub empirical: &'static [EmpiricalSet],
    /// Other sourced numbers: operating concentrations, loadings, strip acidity.
    pub facts: &'static [Fact],
    /// Sourced statements without a usable number (extraction order, caveats).
    pub notes: &'static [&'static str],
}

impl ExtractantSystem {
    /// Molar mass of the active ingredient in g/mol, computed from [`ExtractantSystem::formula`]
    /// with the standard atomic weights; `None` for mixtures and undefined compositions.
    pub fn molar_mass(&self) -> Option<f64> {
        crate::formula::molar_mass(self.formula?)
    }

    /// True when `name` is this system's id, name or one of its aliases (see [`normalize_name`]).
    pub fn matches(&self, name: &str) -> bool {
        let n = normalize_name(name);
        !n.is_empty() && self.all_names().any(|a| normalize_name(a) == n)
    }

    /// Name, aliases and id (in that order).
    pub fn all_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name)
            .chain(self.aliases.iter().copied())
            .chain(std::iter::once(self.id))
    }

    /// The first separation-factor set that connects every element of `elements` (so that all
    /// their relative extractabilities follow from it); `None` if no single set does.
    pub fn sep_factor_set_for(&self, elements: &[Element]) -> Option<&SeparationFactorSet> {
        first_covering(self.separation_factors, elements)
    }

    /// The first mass-action set with a term for every element of `elements`.
    pub fn mass_action_set_for(&self, elements: &[Element]) -> Option<&MassActionSet> {
        first_covering(self.mass_action, elements)
    }

    /// The first empirical set with coefficients for every element of `elements`.
    pub fn empirical_set_for(&self, elements: &[Element]) -> Option<&EmpiricalSet> {
        first_covering(self.empirical, elements)
    }

    /// The first distribution set with a D for every element of `elements`.
    pub fn distribution_set_for(&self, elements: &[Element]) -> Option<&DistributionSet> {
        first_covering(self.distribution, elements)
    }

    /// Elements for which any table of this system has a value.
    pub fn elements_with_data(&self) -> Vec<Element> {
        fn any<T: ElementTable>(sets: &[T], e: Element) -> bool {
            sets.iter().any(|s| s.mentions(e))
        }
        Element::ALL
            .iter()
            .copied()
            .filter(|e| {
                any(self.distribution, *e)
                    || any(self.separation_factors, *e)
                    || any(self.mass_action, *e)
                    || any(self.empirical, *e)
            })
            .collect()
    }
}

/// A table of per-element data: which elements it gives a value for.
trait ElementTable {
    /// True when the table mentions `e` at all.
    fn mentions(&self, e: Element) -> bool;

    /// True when every element of `elements` gets a value from this table alone.
    fn covers(&self, elements: &[Element]) -> bool {
        elements.iter().all(|e| self.mentions(*e))
    }
}

impl ElementTable for DistributionSet {
    fn mentions(&self, e: Element) -> bool {
        self.d_ratio(e).is_some()
    }
}

impl ElementTable for MassActionSet {
    fn mentions(&self, e: Element) -> bool {
        self.terms.iter().any(|t| t.element == e)
    }
}

impl ElementTable for EmpiricalSet {
    fn mentions(&self, e: Element) -> bool {
        self.coefficients.iter().any(|k| k.element == e)
    }
}

impl ElementTable for SeparationFactorSet {
    fn mentions(&self, e: Element) -> bool {
        self.pairs.iter().any(|p| p.more == e || p.less == e)
    }

    /// A separation-factor set covers elements its pair chain connects (mentioned in some pair
    /// is not enough: their ratios must follow from the set).
    fn covers(&self, elements: &[Element]) -> bool {
        let rel = self.relative_extractabilities();
        elements.iter().all(|e| rel.iter().any(|(x, _)| x == e))
    }
}

/// The first of `sets` that covers every element of `elements`.
fn first_covering<'a, T: ElementTable>(sets: &'a [T], elements: &[Element]) -> Option<&'a T> {
    sets.iter().find(|set| set.covers(elements))
}

/// Lowercases ASCII and keeps only letters and digits: `"HEH(EHP)"` -> `"hehehp"`,
/// `"Cyanex-272"` -> `"cyanex272"`.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Finds a built-in system by id, name or alias, ignoring case, spaces, hyphens and brackets.
///
/// ```
/// use sxplan_chem::extractant;
/// assert_eq!(extractant::find("PC-88A").map(|s| s.id), Some("p507"));
/// assert_eq!(extractant::find("hdehp").map(|s| s.id), Some("d2ehpa"));
/// assert!(extractant::find("kerosene").is_none());
/// ```
pub fn find(name: &str) -> Option<&'static ExtractantSystem> {
    SYSTEMS.iter().find(|s| s.matches(name))
}

/// Every built-in system.
pub fn all() -> &'static [ExtractantSystem] {
    SYSTEMS
}

/// The closest known extractant name to an unknown `name`, for "did you mean" help; `None` when
/// nothing is close (edit distance above a third of the length, at least 2).
///
/// ```
/// use sxplan_chem::extractant::did_you_mean;
/// assert_eq!(did_you_mean("P057"), Some("P507"));
/// assert_eq!(did_you_mean("cyanex 227"), Some("Cyanex 272"));
/// ```
pub fn did_you_mean(name: &str) -> Option<&'static str> {
    let n = normalize_name(name);
    if n.is_empty() || n.len() > 64 {
        return None;
    }
    let limit = (n.len() / 3).max(2);
    let mut best: Option<(usize, &'static str)> = None;
    for s in SYSTEMS {
        for cand in s.all_names() {
            let d = edit_distance(&n, &normalize_name(cand));
            if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, cand));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance (Levenshtein with adjacent transpositions) on bytes.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

const fn sf(more: Element, less: Element, beta: f64) -> SepFactor {
    SepFactor { more, less, beta }
}

const fn emp(element: Element, a0: f64, a1: f64, b: f64, c: f64) -> EmpiricalCoefficients {
    EmpiricalCoefficients {
        element,
        a0,
        a1,
        b,
        c,
    }
}

const fn term(element: Element, log10_k: f64, extractant_exponent: f64) -> MassActionTerm {
    MassActionTerm {
        element,
        log10_k,
        extractant_exponent,
        h_exponent: 3.0,
    }
}

const ACIDIC_DIMER_STOICHIOMETRY: Stoichiometry = Stoichiometry {
    extractant_per_ion: 6.0,
    protons_per_charge: 1.0,
    reaction: "RE3+ + 3 (HA)2(org) = RE(HA2)3(org) + 3 H+",
    provenance: prov(
        "cation exchange with the dimeric extractant; inverse third-power [H+] dependence \
                 reported for HDEHP (Peppard, Mason & Giffin 1965, J. Inorg. Nucl. Chem. 27:1683, \
                 introduction); stoichiometry as written in Xie, Zhang, Dreisinger & Doyle 2014, \
                 Miner. Eng. 56:10 (via KitchinHUB ree-book ch. 3)",
        Quality::Measured,
    ),
};

use Element::*;

/// A provenance of the tables below (keeps each entry to one line).
const fn prov(source: &'static str, quality: Quality) -> Provenance {
    Provenance { source, quality }
}

// Sources cited by more than one entry.
const LI_2020: &str = "Li Hongyang et al. 2020, Chinese Society of Rare Earths conference \
                             (cpfd.cnki.com.cn abstract)";
const SCIENCEPAPER_2012: &str = "Sciencepaper Online 2012(12):907-912, abstract";
const YB_LU_2022: &str = "Separation of ytterbium and lutetium with solutions of \
                             (2-ethylhexyl)phosphonic acid mono-2-ethylhexyl ester in hydrocarbons \
                             from nitric acid solutions and its simulation, Radiochemistry 64(3) 2022, \
                             doi 10.1134/S1066362222030067, abstract (authors not captured)";
const YB_LU_2022_SHORT: &str = "Radiochemistry 64(3) 2022, doi 10.1134/S1066362222030067, abstract";
const NIU_WANG_2014: &str = "Niu & Wang 2014, CIESC Journal 65(1):258-263, abstract";
const INNER_MONGOLIA_1979: &str =
    "Journal of Inner Mongolia University (Natural Science) 1979(1):65-69, abstract";
const QI_2018: &str = "Qi 2018, Eq. 2.88, via jkitchin/differentiable-flowsheets issue #267";

static SYSTEMS: &[ExtractantSystem] = &[
    ExtractantSystem {
        id: "p507",
        name: "P507",
        aliases: &[
            "PC88A",
            "PC-88A",
            "HEH(EHP)",
            "HEHEHP",
            "EHEHPA",
            "Ionquest 801",
            "2-ethylhexyl phosphonic acid mono-2-ethylhexyl ester",
        ],
        kind: ExtractantKind::AcidicPhosphonic,
        description: "2-ethylhexyl phosphonic acid mono-2-ethylhexyl ester",
        formula: Some("C16H35O3P"),
        stoichiometry: Some(ACIDIC_DIMER_STOICHIOMETRY),
        distribution: &[],
        separation_factors: &[SeparationFactorSet {
            conditions: "0.05 mol/L P507 in kerosene with n-octanol modifier, 40 % saponified, \
                         HCl medium, pH 3-4, feed 0.5 g/L REE; batch",
            provenance: prov("Sciencepaper Online (Zhongguo Keji Lunwen) 2012(12):907-912, abstract", Quality::Measured),
            pairs: &[sf(Pr, Ce, 2.28)],
        },
        SeparationFactorSet {
            conditions: "1 mol/L P507 (review table; medium and acidity not captured)",
            provenance: prov("review of acidic phosphorus extractants on SciEngine (table with 1 mol/L \
                         P507), via QuantumDrizzy/QuBLAR docs/adr/ADR-013-ree-separation-qubo.md; \
                         primary not read, authors and table number not captured", Quality::Measured),
            pairs: &[sf(Pr, Ce, 1.84), sf(Nd, Pr, 1.50)],
        }],
        mass_action: &[MassActionSet {
            conditions: "chloride-acetate aqueous medium, P507 alone; extracted species PrL3·3HL \
                         (HL = P507 monomer); constant for Pr3+ + 3 (HL)2 = PrL3·3HL + 3 H+",
            provenance: prov("Wu, Zhang & Bao 2007, Synergistic effects in extraction and separation of \
                         praseodymium(III) and neodymium(III) with 8-hydroxyquinoline in the presence \
                         of P507, Ind. Eng. Chem. Res. 46:6320, abstract (log K1 = -1.98)", Quality::Fitted),
            basis: ExtractantBasis::Dimer,
            terms: &[term(Pr, -1.98, 3.0)],
        }],
        empirical: &[],
        facts: &[
            Fact {
                quantity: "extractant concentration used in high-REE-concentration studies",
                value: 1.50,
                unit: "mol/L",
                conditions: "HEH(EHP) in kerosene, HCl and HNO3 media",
                provenance: prov("Chinese journal abstract, H+(HNO3, HCl)-H2O-1.50F HEH(EHP)-kerosene \
                             system (soulun.net mirror), via shared/reference/chemistry.md section 3", Quality::Measured),
            },
            Fact {
                quantity: "loaded organic REE concentration, lower end of achievable range",
                value: 0.16,
                unit: "mol/L",
                conditions: "P507-kerosene saponified with RE(OH)3; loading rises with lower O/A, \
                             higher aqueous REE and more stages; extractant concentration not stated",
                provenance: prov(LI_2020, Quality::Measured),
            },
            Fact {
                quantity: "loaded organic REE concentration, upper end of achievable range",
                value: 0.24,
                unit: "mol/L",
                conditions: "P507-kerosene saponified with RE(OH)3; extractant concentration not stated",
                provenance: prov(LI_2020, Quality::Measured),
            },
            Fact {
                quantity: "maximum saponification degree to avoid emulsification",
                value: 0.50,
                unit: "fraction",
                conditions: "0.05 mol/L P507, laboratory",
                provenance: prov(SCIENCEPAPER_2012, Quality::Measured),
            },
            Fact {
                quantity: "HCl concentration giving complete stripping of Ce and Pr",
                value: 2.0,
                unit: "mol/L",
                conditions: "0.05 mol/L P507 loaded with Ce/Pr, laboratory",
                provenance: prov(SCIENCEPAPER_2012, Quality::Measured),
            },
            Fact {
                quantity: "separation factor Lu/Yb, lower end of reported range",
                value: 1.4,
                unit: "-",
                conditions: "EHEHPA in Isopar-M or m-nitrobenzotrifluoride, and Cyanex 272 in \
                             Isopar-M, nitric acid (cation exchange, Ln[HA2]3, up to 3 mol/L HNO3); \
                             the abstract gives 1.4-1.6 over the systems studied",
                provenance: prov(YB_LU_2022, Quality::Measured),
            },
            Fact {
                quantity: "separation factor Lu/Yb, upper end of reported range",
                value: 1.6,
                unit: "-",
                conditions: "as for the lower end",
                provenance: prov(YB_LU_2022_SHORT, Quality::Measured),
            },
            Fact {
                quantity: "separation factor Er/Ca, lower bound",
                value: 10.0,
                unit: "-",
                conditions: "P507 and saponified P507, nitric acid medium; the source reports \
                             beta(Er/Ca) 'generally above 10'",
                provenance: prov("Niu & Wang 2014, Solvent extraction of erbium(III) with P507 in nitric \
                             acid solution and its separation from calcium(II) and ferrum(III), CIESC \
                             Journal 65(1):258-263, abstract", Quality::Measured),
            },
            Fact {
                quantity: "separation factor Er/Fe(III), lower bound at initial pH about 3.0",
                value: 10.0,
                unit: "-",
                conditions: "P507, nitric acid medium, initial aqueous pH about 3.0 only; lower \
                             elsewhere (no number given)",
                provenance: prov(NIU_WANG_2014, Quality::Measured),
            },
            Fact {
                quantity: "initial aqueous pH of maximum Er extraction (> 95 %)",
                value: 2.0,
                unit: "pH",
                conditions: "P507, nitric acid medium; extraction falls at higher pH from Er hydrolysis",
                provenance: prov(NIU_WANG_2014, Quality::Measured),
            },
            Fact {
                quantity: "acid concentration needed to strip Er, Tm, Yb, Lu",
                value: 5.0,
                unit: "mol/L",
                conditions: "HEH(EHP)",
                provenance: prov("J. Nucl. Radiochem. paper on H(DEHP)-Er kinetics, abstract, via \
                             shared/reference/chemistry.md section 1.2", Quality::Measured),
            },
        ],
        notes: &[
            "D increases from La to Lu (acidic organophosphorus extractant); the heavier element \
             of an adjacent lanthanide pair is the more extracted one (KitchinHUB ree-book ch. 3, \
             citing Nash 1993)",
            "separation factors quoted in the literature for EHEHPA disagree more the larger the \
             difference in atomic number; organic-phase non-ideality matters (Tanaka et al. 2021, \
             via KitchinHUB ree-book ch. 3)",
            "no complete sourced adjacent-pair table La..Lu + Y was found (Sato 1989, Hydrometallurgy \
             22:121 and Xie et al. 2014, Miner. Eng. 56:10 hold them): supply sep_factor in the flowsheet",
        ],
    },
    ExtractantSystem {
        id: "d2ehpa",
        name: "D2EHPA",
        aliases: &[
            "P204",
            "HDEHP",
            "DEHPA",
            "di(2-ethylhexyl) phosphoric acid",
            "bis(2-ethylhexyl) phosphoric acid",
        ],
        kind: ExtractantKind::AcidicPhosphoric,
        description: "di(2-ethylhexyl) phosphoric acid",
        formula: Some("C16H35O4P"),
        stoichiometry: Some(ACIDIC_DIMER_STOICHIOMETRY),
        distribution: &[DistributionSet {
            conditions: "impurities in the UKy coal-byproduct leachate with D2EHPA + TBP modifier; \
                         assumed independent of pH and dosage",
            provenance: prov("PrOMMiS (prommis/prommis) solvent_extraction_reaction_package.py, \
                         constants 'calculated from REESim file and assumed constant'", Quality::Estimated),
            values: &[(Sc, 632.4976), (Al, 0.0531), (Ca, 0.0658), (Fe, 0.1496)],
        }],
        separation_factors: &[SeparationFactorSet {
            conditions: "LaCl3/CeCl3 with D2EHPA in kerosene, 25 °C, mixed La-Ce system; reported \
                         as beta(Ce/La) = 3.0625 [H2A2]^-0.16 (value here at [H2A2] = 1 mol/L)",
            provenance: prov("National Taipei University of Technology, Institute of Chemical \
                         Engineering master's thesis (academic year 102), equilibrium of La(III)/Ce(III) \
                         separation with D2EHPA, abstract (NDLTD record ndltd-TW-102TIT05063081)", Quality::Fitted),
            pairs: &[sf(Ce, La, 3.0625)],
        }],
        mass_action: &[MassActionSet {
            conditions: "single-metal LaCl3 or CeCl3 with D2EHPA in kerosene, 25 °C; two extracted \
                         species MA3(HA)2 (K32, (kmol/m3)^0.5) and MA3(HA)3 (K33)",
            provenance: prov("National Taipei University of Technology master's thesis (academic year 102), \
                         abstract (NDLTD ndltd-TW-102TIT05063081): K_La32 = 0.0013, K_La33 = 0.029, \
                         K_Ce32 = 0.0202, K_Ce33 = 0.075", Quality::Fitted),
            basis: ExtractantBasis::Dimer,
            terms: &[
                // log10(0.0013), log10(0.029), log10(0.0202), log10(0.075)
                term(La, -2.886_056_647_693_163, 2.5),
                term(La, -1.537_602_002_101_044_7, 3.0),
                term(Ce, -1.694_648_630_553_376, 2.5),
                term(Ce, -1.124_938_736_608_299_6, 3.0),
            ],
        }],
        empirical: &[EmpiricalSet {
            conditions: "D2EHPA with TBP phase modifier, kerosene, acidic leachate of coal \
                         byproducts (UKy); x = D2EHPA dosage in vol %; log10 D = (m0 + m1 x) pH + B0 + \
                         B1 log10 x; slopes far below 3 (loaded, mixed-impurity liquor)",
            provenance: prov("PrOMMiS (prommis/prommis) solvent_extraction_reaction_package.py, fitted to \
                         'Production of salable rare earths products from coal and coal byproducts \
                         using advanced separation processes, Phase 1' (UKy report)", Quality::Fitted),
            measure: ExtractantMeasure::VolumePercent,
            coefficients: &[
                emp(La, 0.54, 0.0, -1.93, 0.0),
                emp(Ce, 0.30916, 0.04816, -1.66021, -0.38599),
                emp(Pr, 0.29, 0.0, -1.48, 0.0),
                emp(Nd, 0.31183, 0.03763, -1.62372, -0.38096),
                emp(Sm, 0.81233, -0.02247, -2.12172, 0.17414),
                emp(Gd, 1.0225, 0.0195, -2.24143, 0.03065),
                emp(Dy, 1.70783, 0.06443, -2.42226, -0.02538),
                emp(Y, 1.63166, 0.15166, -2.12601, 0.26612),
            ],
        }],
        facts: &[Fact {
            quantity: "HCl concentration used to strip the loaded organic (pilot)",
            value: 3.0,
            unit: "mol/L",
            conditions: "10 vol % D2EHPA in kerosene, apatite-derived liquor, pH 1.5-3.2, hollow-fibre pilot",
            provenance: prov("Alemrajabi et al. 2022, via KitchinHUB ree-book ch. 3", Quality::Measured),
        }],
        notes: &[
            "D increases from La to Lu; Fe3+ binds D2EHPA more strongly than any REE and must be \
             removed upstream (KitchinHUB ree-book ch. 3)",
            "no complete sourced adjacent-pair table was found (Sato 1989; Qi 2018 Table 2.6; \
             Peppard et al. 1957 J. Inorg. Nucl. Chem. 4:334 hold them): supply sep_factor in the flowsheet",
        ],
    },
    ExtractantSystem {
        id: "d2ehpa_lactic",
        name: "D2EHPA + lactic acid",
        aliases: &["P204 + lactic acid", "D2EHPA-HLac"],
        kind: ExtractantKind::AcidicPhosphoric,
        description: "D2EHPA with lactic acid as aqueous complexing agent (chloride medium)",
        formula: Some("C16H35O4P"),
        stoichiometry: None,
        distribution: &[],
        separation_factors: &[SeparationFactorSet {
            conditions: "D2EHPA (H2A2), chloride medium with lactic acid complexant; the abstract \
                         writes the pairs as La/Ce, Ce/Pr, Pr/Nd",
            provenance: prov("Yin, Li, Xie, Zhang & Peng 2015, RSC Adv. 5 (c5ra09928e), abstract", Quality::Measured),
            pairs: &[sf(Ce, La, 3.24), sf(Pr, Ce, 2.04), sf(Nd, Pr, 1.58)],
        }],
        mass_action: &[],
        empirical: &[],
        facts: &[],
        notes: &[],
    },
    ExtractantSystem {
        id: "cyanex272",
        name: "Cyanex 272",
        aliases: &[
            "P227",
            "C272",
            "bis(2,4,4-trimethylpentyl) phosphinic acid",
        ],
        kind: ExtractantKind::AcidicPhosphinic,
        description: "bis(2,4,4-trimethylpentyl) phosphinic acid (alias P227 as given in issue 2)",
        formula: Some("C16H35O2P"),
        stoichiometry: Some(ACIDIC_DIMER_STOICHIOMETRY),
        distribution: &[],
        separation_factors: &[],
        mass_action: &[],
        empirical: &[],
        facts: &[
            Fact {
                quantity: "separation factor Lu/Yb, lower end of reported range",
                value: 1.4,
                unit: "-",
                conditions: "EHEHPA in Isopar-M or m-nitrobenzotrifluoride, and Cyanex 272 in \
                             Isopar-M, nitric acid (cation exchange, Ln[HA2]3, up to 3 mol/L HNO3); \
                             the abstract gives 1.4-1.6 over the systems studied",
                provenance: prov(YB_LU_2022, Quality::Measured),
            },
            Fact {
                quantity: "separation factor Lu/Yb, upper end of reported range",
                value: 1.6,
                unit: "-",
                conditions: "as for the lower end",
                provenance: prov(YB_LU_2022_SHORT, Quality::Measured),
            },
        ],
        notes: &[
            "cation-exchange mechanism for all 14 lanthanides from perchlorate confirmed by log D vs \
             pH and log D vs log[Cyanex 272] slopes (Sep. Purif. Technol. 83 (2011) 82, abstract); \
             no numbers in the abstract",
            "Tb(III)/Dy(III) from weak HCl, initial pH 1.5-5: separation factor low (Korean J. Met. \
             Mater. 2019, abstract); no number in the abstract",
            "no sourced separation-factor table or extraction constants were found (only the Lu/Yb \
             range in facts): supply them in the flowsheet",
        ],
    },
    ExtractantSystem {
        id: "p229",
        name: "P229",
        aliases: &["di(2-ethylhexyl) phosphinic acid"],
        kind: ExtractantKind::AcidicPhosphinic,
        description: "di(2-ethylhexyl) phosphinic acid",
        formula: Some("C16H35O2P"),
        stoichiometry: None,
        distribution: &[],
        separation_factors: &[],
        mass_action: &[],
        empirical: &[],
        facts: &[],
        notes: &["extraction order from HCl into n-octane: Sc >> Fe(III) > Lu > Yb > Er > Y > Ho, \
                  so Y lies between Ho and Er (Xue & Li 1992, Chinese J. Appl. Chem. 9(4):21-25, \
                  abstract); the constants it reports were not retrievable"],
    },
    ExtractantSystem {
        id: "cyanex572_tbp",
        name: "Cyanex 572 + TBP",
        aliases: &["Cyanex 572 + TBP", "Cyanex572-TBP"],
        kind: ExtractantKind::Mixture,
        description: "75 % Cyanex 572 (phosphinic/phosphonic blend) + 25 % TBP",
        formula: None,
        stoichiometry: None,
        distribution: &[],
        separation_factors: &[SeparationFactorSet {
            conditions: "25 % TBP + 75 % Cyanex 572, chloride medium, initial pH 1.5; Er and Tb \
                         extracted as MCl2R(HR)3TBP; non-adjacent pairs only",
            provenance: prov("Cyanex 572 + TBP synergistic extraction of Nd, Pr, Sm, Eu, Tb, Er from \
                         chloride, abstract (discovery.researcher.life); authors and year not captured", Quality::Measured),
            pairs: &[
                sf(Er, Pr, 30.08),
                sf(Er, Nd, 29.95),
                sf(Tb, Pr, 12.22),
                sf(Tb, Nd, 12.16),
                sf(Er, Sm, 9.96),
            ],
        }],
        mass_action: &[],
        empirical: &[],
        facts: &[],
        notes: &["Cyanex 572 alone: suitable for the heavy REE Er and Tb; TBP alone unsuitable in \
                  chloride (same abstract)"],
    },
    ExtractantSystem {
        id: "cyanex572",
        name: "Cyanex 572",
        aliases: &["C572"],
        kind: ExtractantKind::Mixture,
        description: "Cyanex 572, a proprietary blend of phosphinic and phosphonic acids",
        formula: None,
        stoichiometry: None,
        distribution: &[],
        separation_factors: &[],
        mass_action: &[],
        empirical: &[],
        facts: &[],
        notes: &["no sourced data for Cyanex 572 alone; see the system cyanex572_tbp"],
    },
    ExtractantSystem {
        id: "naphthenic_acid",
        name: "naphthenic acid",
        aliases: &["naphthenic", "naphthenic acids"],
        kind: ExtractantKind::Carboxylic,
        description: "naphthenic acids (a mixture of cycloalkane carboxylic acids), in kerosene with alcohol modifier",
        formula: None,
        stoichiometry: Some(Stoichiometry {
            extractant_per_ion: 3.0,
            protons_per_charge: 1.0,
            reaction: "RE3+ + 3 HA(org) = REA3(org) + 3 H+; free extractant (HA)o = [HA]0 - 3 (REA3)",
            provenance: prov("Qi 2018, Hydrometallurgy of Rare Earths (Elsevier), Eqs. 2.87-2.89, via \
                         jkitchin/differentiable-flowsheets issue #267", Quality::Measured),
        }),
        distribution: &[],
        separation_factors: &[SeparationFactorSet {
            conditions: "1.8 mol/L naphthenic acid in kerosene, 48 % ammoniated, mixed La-Ce-Pr-Nd \
                         chloride 0.51 mol/L; single-stage equilibrium; values given as approximate (~)",
            provenance: prov(INNER_MONGOLIA_1979, Quality::Measured),
            pairs: &[sf(Ce, La, 2.5), sf(Pr, Ce, 1.2), sf(Nd, Pr, 1.3)],
        }],
        mass_action: &[],
        empirical: &[],
        facts: &[
            Fact {
                quantity: "naphthenic acid concentration of a La/PrNd cascade",
                value: 1.6,
                unit: "mol/L",
                conditions: "kerosene, 45 % ammoniated, RECl3 0.62 mol/L (La, Pr, Nd), pH 3.4-3.7; \
                             20 countercurrent stages gave La2O3 > 99.96 % at > 90 % recovery",
                provenance: prov(INNER_MONGOLIA_1979, Quality::Measured),
            },
            Fact {
                quantity: "validity of log D = log K + 3 log (HA)o + 3 pH, lower pH",
                value: 3.8,
                unit: "pH",
                conditions: "0.1-0.8 mol/L Y in 20 % naphthenic acid / 15 % alcohol / 65 % kerosene",
                provenance: prov(QI_2018, Quality::Measured),
            },
            Fact {
                quantity: "validity of log D = log K + 3 log (HA)o + 3 pH, upper pH",
                value: 5.0,
                unit: "pH",
                conditions: "0.1-0.8 mol/L Y in 20 % naphthenic acid / 15 % alcohol / 65 % kerosene",
                provenance: prov(QI_2018, Quality::Measured),
            },
        ],
        notes: &[
            "beta(Ce/La) 2.2-2.4 is the largest among adjacent light REE (Journal of Inner Mongolia \
             University 1979(1):65, abstract)",
            "Y has the lowest D of all 15 REY, so Y stays in the raffinate (Zhang, Zhao & Schreiner \
             2016, section 4.7, via jkitchin/differentiable-flowsheets issue #269)",
            "a full 15-element distribution table exists in Zhang, Zhao & Schreiner 2016, Table 4.36; \
             its numbers were not retrievable here",
        ],
    },
    ExtractantSystem {
        id: "tbp",
        name: "TBP",
        aliases: &["tributyl phosphate", "tri-n-butyl phosphate"],
        kind: ExtractantKind::Solvating,
        description: "tri-n-butyl phosphate, a neutral solvating extractant (nitrate media)",
        formula: Some("C12H27O4P"),
        stoichiometry: Some(Stoichiometry {
            extractant_per_ion: 3.0,
            protons_per_charge: 0.0,
            reaction: "RE3+ + 3 NO3- + 3 TBP(org) = RE(NO3)3·3TBP(org)",
            provenance: prov("solvating stoichiometry as used for Kraikaew et al. 2005 data in \
                         jkitchin/differentiable-flowsheets extractants.yaml (TBP record); TBP order \
                         2.81 measured for Sm (Ganesh & Pandey 2019, J. Rad. Nucl. Appl. 4(2):109, Fig. 1)", Quality::Estimated),
        }),
        distribution: &[DistributionSet {
            conditions: "3.0 mol/L nitrate from a neutral salt, free acid <= 0.5 mol/L, 1.0 mol/L TBP \
                         in kerosene, 25 °C; loading-suppressed process values, not trace D; Tb not \
                         measured (absent)",
            provenance: prov("Kraikaew, Srinuttrakul & Chayavadhanakur 2005, J. Met. Mater. Miner. 15(2):89, \
                         Table 1 (35 °C, 0.2 N free acid), corrected to 3.0 M NO3- and 25 °C by \
                         jkitchin/differentiable-flowsheets (TBP record), via shared/reference/chemistry.md 1.4c", Quality::Estimated),
            values: &[
                (La, 0.023),
                (Ce, 0.032),
                (Pr, 0.060),
                (Nd, 0.072),
                (Sm, 0.120),
                (Eu, 0.138),
                (Gd, 0.174),
                (Dy, 0.240),
                (Y, 0.214),
            ],
        }],
        separation_factors: &[],
        mass_action: &[],
        empirical: &[EmpiricalSet {
            conditions: "Sm(III), 1.1 mol/L TBP in n-dodecane, 3.8-3.89 mol/L HNO3; x = free TBP \
                         in mol/L; log10 D = 2.8055 log10 x - 2.8503 (R^2 = 0.992)",
            provenance: prov("Ganesh & Pandey 2019, Thermodynamics of extraction of samarium(III) by \
                         tri-n-butyl phosphate, J. Rad. Nucl. Appl. 4(2):109, Fig. 1, via \
                         jkitchin/differentiable-flowsheets extractants.yaml (TBP record)", Quality::Fitted),
            measure: ExtractantMeasure::MolPerL,
            coefficients: &[emp(Sm, 0.0, 0.0, -2.8503, 2.8055)],
        }],
        facts: &[Fact {
            quantity: "extraction enthalpy of Sm(III)",
            value: -43.3,
            unit: "kJ/mol",
            conditions: "1.1 mol/L TBP in n-dodecane, 3.8-3.89 mol/L HNO3, 283-326 K (the paper's \
                         table may have two columns transposed; -61.2 kJ/mol is the alternative)",
            provenance: prov("Ganesh & Pandey 2019, J. Rad. Nucl. Appl. 4(2):109, Table 1, via \
                         jkitchin/differentiable-flowsheets extractants.yaml (TBP record)", Quality::Measured),
        }],
        notes: &[
            "Y's place in the TBP-nitrate series moves with acidity: Ho-like at high acidity, La-like \
             at very low acidity (Poos & Wilhelm 1954, ISC-695, via jkitchin/differentiable-flowsheets)",
            "TBP alone is not a suitable extractant for REE from chloride media (Cyanex 572 + TBP \
             abstract, discovery.researcher.life)",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve() {
        for (name, id) in [
            ("P507", "p507"),
            ("pc88a", "p507"),
            ("PC-88A", "p507"),
            ("HEH(EHP)", "p507"),
            ("EHEHPA", "p507"),
            ("D2EHPA", "d2ehpa"),
            ("p204", "d2ehpa"),
            ("HDEHP", "d2ehpa"),
            ("Cyanex 272", "cyanex272"),
            ("P227", "cyanex272"),
            ("naphthenic acid", "naphthenic_acid"),
            ("Naphthenic-Acid", "naphthenic_acid"),
            ("TBP", "tbp"),
            ("Tributyl Phosphate", "tbp"),
            ("cyanex 572", "cyanex572"),
        ] {
            assert_eq!(find(name).map(|s| s.id), Some(id), "{name}");
        }
        assert!(find("").is_none());
        assert!(find("   ").is_none());
        assert!(find("P350").is_none());
    }

    #[test]
    fn names_are_unambiguous() {
        let mut seen: Vec<(String, &str)> = Vec::new();
        for s in all() {
            for n in s.all_names() {
                let norm = normalize_name(n);
                assert!(!norm.is_empty(), "{n}");
                if let Some((_, other)) = seen.iter().find(|(x, _)| *x == norm) {
                    assert_eq!(*other, s.id, "{n} names both {other} and {}", s.id);
                }
                seen.push((norm, s.id));
            }
            assert_eq!(find(s.id).map(|x| x.id), Some(s.id));
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("P057"), Some("P507"));
        assert_eq!(did_you_mean("D2EPHA"), Some("D2EHPA"));
        assert_eq!(did_you_mean("Cyanex 273"), Some("Cyanex 272"));
        assert_eq!(did_you_mean("kerosene"), None);
        assert_eq!(did_you_mean(""), None);
        assert_eq!(did_you_mean(&"x".repeat(10_000)), None);
    }

    #[test]
    fn molar_masses_from_formulas() {
        let m = |id: &str| {
            find(id)
                .and_then(ExtractantSystem::molar_mass)
                .unwrap_or(f64::NAN)
        };
        // 306.42 (P507), 322.42 (D2EHPA), 290.42 (Cyanex 272), 266.32 (TBP) g/mol
        assert!((m("p507") - 306.43).abs() < 0.01);
        assert!((m("d2ehpa") - 322.43).abs() < 0.01);
        assert!((m("cyanex272") - 290.43).abs() < 0.01);
        assert!((m("tbp") - 266.32).abs() < 0.01);
        assert!(find("naphthenic acid")
            .and_then(ExtractantSystem::molar_mass)
            .is_none());
    }

    #[test]
    fn separation_factor_chains() {
        let na = find("naphthenic acid").expect("built in");
        let set = &na.separation_factors[0];
        assert_eq!(set.sep_factor(Ce, La), Some(2.5));
        let nd_la = set.sep_factor(Nd, La).unwrap_or(f64::NAN);
        assert!((nd_la - 2.5 * 1.2 * 1.3).abs() < 1e-12);
        let inv = set.sep_factor(La, Nd).unwrap_or(f64::NAN);
        assert!((inv * nd_la - 1.0).abs() < 1e-12);
        assert_eq!(set.sep_factor(Dy, La), None);
        let rel = set.relative_extractabilities();
        assert_eq!(
            rel.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
            vec![La, Ce, Pr, Nd]
        );
        assert_eq!(rel[0].1, 1.0);
        // Cyanex 572 + TBP pairs close a consistent cycle (Nd/Pr from two routes agrees to 1 %).
        let c = find("cyanex572_tbp").expect("built in");
        let s = &c.separation_factors[0];
        let via_er = s.sep_factor(Nd, Pr).unwrap_or(f64::NAN);
        assert!((via_er - 30.08 / 29.95).abs() < 1e-9);
        assert!((12.22 / 12.16 - via_er).abs() < 0.01);
    }

    #[test]
    fn prommis_correlation_reproduces_the_formula() {
        let d = find("d2ehpa").expect("built in");
        let set = &d.empirical[0];
        // Ce at 5 vol %, pH 2: (0.30916 + 5*0.04816)*2 + (-1.66021 - 0.38599*log10 5)
        let expected = (0.30916 + 5.0 * 0.04816) * 2.0 + (-1.66021 - 0.38599 * 5f64.log10());
        let got = set.log10_d(Ce, 2.0, 5.0).unwrap_or(f64::NAN);
        assert!((got - expected).abs() < 1e-12);
        assert_eq!(set.log10_d(Ce, 2.0, 0.0), None);
        assert_eq!(set.log10_d(Ce, f64::NAN, 5.0), None);
        // La has no log term, so x = 0 is allowed
        assert!(set.log10_d(La, 2.0, 0.0).is_some());
        assert_eq!(
            set.log10_d(Tb, 2.0, 5.0),
            None,
            "Tb is absent, not invented"
        );
        assert_eq!(d.distribution[0].d_ratio(Sc), Some(632.4976));
    }

    #[test]
    fn mass_action_d_ratio() {
        let p = find("p507").expect("built in");
        let set = &p.mass_action[0];
        // D = 10^-1.98 * 0.5^3 / 0.01^3
        let expected = 10f64.powf(-1.98) * 0.125 / 1e-6;
        let got = set.d_ratio(Pr, 0.01, 0.5).unwrap_or(f64::NAN);
        assert!((got / expected - 1.0).abs() < 1e-12);
        // slope -3 in log [H+]
        let d1 = set.d_ratio(Pr, 0.01, 0.5).unwrap_or(f64::NAN);
        let d2 = set.d_ratio(Pr, 0.1, 0.5).unwrap_or(f64::NAN);
        assert!((d1 / d2 - 1000.0).abs() < 1e-6);
        assert_eq!(set.d_ratio(Nd, 0.01, 0.5), None);
        assert_eq!(set.d_ratio(Pr, 0.0, 0.5), None);
        assert_eq!(set.d_ratio(Pr, 0.01, -1.0), None);
        // two parallel species add
        let d = find("d2ehpa").expect("built in");
        let la = d.mass_action[0].d_ratio(La, 1.0, 1.0).unwrap_or(f64::NAN);
        assert!((la - (0.0013 + 0.029)).abs() < 1e-12);
    }

    #[test]
    fn every_table_is_well_formed() {
        for s in all() {
            for set in s.separation_factors {
                assert!(!set.provenance.source.is_empty());
                for p in set.pairs {
                    assert!(p.beta.is_finite() && p.beta > 0.0);
                    assert_ne!(p.more, p.less);
                }
            }
            for set in s.distribution {
                for (_, d) in set.values {
                    assert!(d.is_finite() && *d > 0.0);
                }
            }
            for set in s.mass_action {
                assert!(!set.terms.is_empty());
            }
            for f in s.facts {
                assert!(f.value.is_finite());
            }
            // Quality::Illustrative must never be shipped as extractant data.
            let qualities = s
                .separation_factors
                .iter()
                .map(|x| x.provenance.quality)
                .chain(s.distribution.iter().map(|x| x.provenance.quality))
                .chain(s.mass_action.iter().map(|x| x.provenance.quality))
                .chain(s.empirical.iter().map(|x| x.provenance.quality));
            for q in qualities {
                assert_ne!(q, Quality::Illustrative, "{}", s.id);
            }
        }
        let tbp = find("tbp").expect("built in");
        assert_eq!(
            tbp.distribution[0].d_ratio(Tb),
            None,
            "interpolated Tb must stay absent"
        );
        assert!(tbp.elements_with_data().contains(&Dy));
        assert!(find("cyanex272")
            .expect("built in")
            .elements_with_data()
            .is_empty());
    }

    #[test]
    fn sets_covering_elements() {
        let p = find("p507").expect("built in");
        let set = p.sep_factor_set_for(&[Ce, Pr, Nd]).map(|s| s.pairs.len());
        assert_eq!(set, Some(2), "the review set connects Ce, Pr and Nd");
        assert!(p.sep_factor_set_for(&[Nd, Sm]).is_none());
        let d = find("d2ehpa").expect("built in");
        assert!(d.empirical_set_for(&[La, Ce, Y]).is_some());
        assert!(d.empirical_set_for(&[La, Tb]).is_none());
        assert!(d.mass_action_set_for(&[La, Ce]).is_some());
        assert!(d.distribution_set_for(&[Sc, Fe]).is_some());
        assert!(d.distribution_set_for(&[Mn]).is_none());
    }

    #[test]
    fn serializes_for_reports() {
        let json = serde_json::to_string(all()).unwrap_or_default();
        assert!(json.contains("\"id\":\"p507\""));
        assert!(json.contains("\"kind\":\"acidic_phosphonic\""));
        assert!(json.contains("\"quality\":\"fitted\""));
        assert!(json.contains("[\"Sc\",632.4976]"));
    }

    #[test]
    fn catalogue_lists_every_system() {
        let doc = include_str!("../../../docs/data/chemistry.md");
        for s in all() {
            assert!(
                doc.contains(&format!("`{}`", s.id)),
                "docs/data/chemistry.md misses {}",
                s.id
            );
        }
    }

    #[test]
    fn stoichiometric_capacity() {
        let p = find("p507")
            .and_then(|s| s.stoichiometry)
            .expect("built in");
        assert!((p.stoichiometric_capacity(1.5) - 0.25).abs() < 1e-12);
        assert_eq!(p.stoichiometric_capacity(f64::NAN), 0.0);
        assert_eq!(p.stoichiometric_capacity(-1.0), 0.0);
    }
}
