//! The acid/base (proton) budget of a circuit: whether an acidic steady state can exist at all,
//! and, when it cannot, which key to change and to what (docs/ph.md, DESIGN.md section 10).
//!
//! One implementation for two callers: `check` computes it from the flowsheet alone
//! ([`static_budget`], warning W0701), the simulator from the section flows of a solved (or last)
//! state ([`budget`] over a [`BudgetInput`] it fills itself).
//!
//! # The budget, in mol/h
//!
//! | symbol | identifier | meaning |
//! |---|---|---|
//! | H_feed | `h_feed` | net acidity entering the extraction and scrub aqueous with the feeds |
//! | H_scrub | `h_scrub` | acid of the scrub solution(s): protons per mol x conc x flow |
//! | B | `base` | saponification base: extractant conc x fraction x organic flow |
//! | R | `ree_feed` | extractable ions entering the extraction and scrub aqueous |
//! | L_max | `capacity` | ions the organic can hold: flow x min(C_HA / (2 n), loading capacity) |
//! | z | `z_min`, `z_max` | protons released per ion loaded (and consumed per ion stripped) |
//! | H_strip | `h_strip` | acid of the strip solution |
//!
//! The raffinate leaves with the net acidity `H_feed + H_scrub + z L - B`, L the ions loaded
//! (net) in the extraction and scrub sections; L <= min(R, L_max) whatever the equilibrium.
//!
//! (a) **Base beyond the acid**: `B > H_feed + H_scrub + z_max min(R, L_max)`. No loading can
//! release enough protons: the raffinate turns alkaline, and rare-earth hydroxides precipitate
//! from about pH [`HYDROXIDE_PH`], a state the SX model does not describe.
//!
//! (b) **Strip acid short**: for the raffinate to stay acidic at least
//! `L_min = (B - H_feed - H_scrub) / z_max` ions must load; stripping them needs `z_min L_min`
//! protons. After a solve the ions actually entering the strip section are used instead.
//! With `H_strip` below that, the strip liquor is driven to neutral and what is not stripped
//! leaves on the stripped organic (returned to stage 1 it accumulates until the extraction
//! stops). The bound is not `min(B / z, L_max, R)` (the soap loading its own equivalent of
//! ions): the base also neutralizes the free acid of the feed and scrub solution, so a plant
//! whose acid meets the base loads less, and that bound would warn on acidic plants that
//! exist (tests/data/ok/mass_action_model.toml among them).

use serde::Serialize;
use sxplan_chem::{Element, Provenance, Quality};

use crate::flowsheet::{
    Circuit, CircuitId, Equilibrium, FeedKind, Flowsheet, NodeRef, PortKind, SectionKind,
};

/// pH from which lanthanide hydroxides precipitate at process concentrations (the lower,
/// heavy-lanthanide end of the range). The simulator diagnoses a mass-action or empirical stage
/// whose aqueous is above it.
pub const HYDROXIDE_PH: f64 = 6.0;

/// Where [`HYDROXIDE_PH`] comes from.
pub const HYDROXIDE_PH_SOURCE: Provenance = Provenance {
    source: "Orhanovic, Pokric, Furedi & Branica, Croat. Chem. Acta 38 (1966) 269 (precipitation pH of La, Pr, Nd, Sm, Gd, Dy, Er, Yb, Lu and Y hydroxides by tyndallometric and pH measurement; basicity falls from La to Lu, so the heavy lanthanides precipitate first); DESIGN.md section 10 (roughly pH 6-8 for the lanthanides); the value is the lower end of that range",
    quality: Quality::Estimated,
};

/// Relative margin below which a budget is not called violated (design rounding).
const MARGIN: f64 = 1e-9;
/// Relative excess of acid over base below which a solved state's raffinate is neutral (see
/// [`budget`], finding (c)).
const NEUTRAL: f64 = 1e-6;

/// One aqueous solution whose strength or flow a hint may name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SolutionKnob {
    /// Protons per mol of the acid (0 for water).
    pub protons_per_mol: f64,
    /// Acid concentration, mol/L.
    pub conc_mol: f64,
    /// Flow, L/h.
    pub flow_vol: f64,
}

/// The operating values the hints are written in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Knobs {
    /// Extractant concentration (monomer), mol/L.
    pub extractant_conc: f64,
    /// Organic flow, L/h.
    pub organic_flow: f64,
    /// The scrub solution, if the circuit has one.
    pub scrub: Option<SolutionKnob>,
    /// The strip solution, if the circuit has one.
    pub strip: Option<SolutionKnob>,
}

/// Ions entering the strip section on the organic, from a state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Loaded {
    /// Extractable ions, mol/h.
    pub ions: f64,
    /// Protons stripping them consumes (sum of z_i times the ions of element i), mol/h.
    pub protons: f64,
}

/// Plain-data input of [`budget`] (flows L/h, concentrations mol/L, amounts mol/h).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetInput {
    /// Circuit name.
    pub circuit: String,
    /// Net acidity entering the extraction and scrub aqueous other than the scrub solution.
    pub h_feed: f64,
    /// Extractable ions entering the extraction and scrub aqueous.
    pub ree_feed: f64,
    /// Acid of the scrub solution(s).
    pub h_scrub: f64,
    /// Saponification base.
    pub base: f64,
    /// Ions the organic can hold.
    pub capacity: f64,
    /// Fewest protons per ion over the extractable elements.
    pub z_min: f64,
    /// Most protons per ion over the extractable elements.
    pub z_max: f64,
    /// Acid of the strip solution; `None` without a strip section (or when unknown).
    pub h_strip: Option<f64>,
    /// Ions entering the strip section in a state; `None` before solving (the bound is used).
    pub loaded: Option<Loaded>,
    /// Operating values for the hints.
    pub knobs: Knobs,
}

/// Which budget a finding says is violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// (a): the base exceeds what the acid fed and the ions the organic can load absorb.
    BaseExceedsAcid,
    /// (b): the strip acid cannot strip what is (or must be) loaded.
    StripAcidShort,
    /// (c): in a solved state too few ions stay loaded into the strip for the protons their
    /// loading releases, with the acid fed, to absorb the base (the scrub strips back what
    /// the soap loaded): that state's raffinate is alkaline.
    LoadingShort,
}

/// One violated budget, with its numbers and the change that would meet it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetFinding {
    /// What is violated.
    pub kind: FindingKind,
    /// Lowercase message naming the circuit and the numbers.
    pub message: String,
    /// Which key to change and to what.
    pub help: String,
}

/// The budget of one circuit: the figures and the findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AcidBudget {
    /// Circuit name.
    pub circuit: String,
    /// Net acidity fed with the feeds into extraction and scrub, mol/h.
    pub h_feed_mol_per_h: f64,
    /// Acid of the scrub solution, mol/h.
    pub h_scrub_mol_per_h: f64,
    /// Saponification base, mol/h.
    pub base_mol_per_h: f64,
    /// Extractable ions fed into extraction and scrub, mol/h.
    pub ree_feed_mol_per_h: f64,
    /// Ions the organic can hold, mol/h.
    pub capacity_mol_per_h: f64,
    /// Most protons loading can release: z_max min(R, L_max), mol/h.
    pub released_max_mol_per_h: f64,
    /// Ions that must load for an acidic raffinate (bound), or that enter the strip (state).
    pub loaded_mol_per_h: f64,
    /// `bound` (before solving) or `state` (the ions entering the strip in a solved state).
    pub loaded_basis: &'static str,
    /// Acid of the strip solution, mol/h, if the circuit has one.
    pub h_strip_mol_per_h: Option<f64>,
    /// Protons stripping `loaded_mol_per_h` needs, mol/h.
    pub strip_need_mol_per_h: f64,
    /// Violated budgets; empty when an acidic steady state is not excluded.
    pub findings: Vec<BudgetFinding>,
}

/// The budget of one circuit from plain data.
pub fn budget(input: &BudgetInput) -> AcidBudget {
    let b = input;
    let name = &b.circuit;
    let acid = b.h_feed + b.h_scrub;
    let loadable = b.ree_feed.min(b.capacity).max(0.0);
    let released = b.z_max * loadable;
    let absorb = acid + released;
    let mut findings = Vec::new();
    let alkaline = b.base > absorb + MARGIN * (b.base + absorb.abs());
    if alkaline {
        let deficit = b.base - absorb;
        let mut fixes: Vec<String> = saponification_fix(&b.knobs, absorb).into_iter().collect();
        fixes.extend(acid_fixes("scrub", b.knobs.scrub, b.h_scrub + deficit));
        findings.push(BudgetFinding {
            kind: FindingKind::BaseExceedsAcid,
            message: format!(
                "circuit \"{name}\": saponification supplies {} mol/h of base, but the feed and scrub acid ({} mol/h H+) and the protons released by loading at most {} mol/h of extractable ions ({} mol/h) absorb only {} mol/h: the raffinate turns alkaline and rare-earth hydroxides precipitate (from about pH {HYDROXIDE_PH})",
                fmt(b.base),
                fmt(acid),
                fmt(loadable),
                fmt(released),
                fmt(absorb)
            ),
            help: join_fixes(&fixes),
        });
    }
    let (loaded, need, basis) = match b.loaded {
        Some(l) => (l.ions, l.protons, "state"),
        None => {
            let ions = if b.z_max > 0.0 {
                ((b.base - acid) / b.z_max).clamp(0.0, loadable)
            } else {
                0.0
            };
            (ions, b.z_min * ions, "bound")
        }
    };
    if let (Some(l), false) = (b.loaded, alkaline) {
        // The raffinate leaves with `acid + z L - B`; at pH 6 it carries about 1e-6 mol/L,
        // some 1e-6 of the base for organic/aqueous ratios near 1: within that it is neutral.
        let absorb_state = acid + l.protons;
        if b.base >= absorb_state - NEUTRAL * (b.base + absorb_state.abs()) {
            let mut fixes: Vec<String> = saponification_fix(&b.knobs, acid)
                .map(|f| format!("{f} (the feed and scrub acid alone then absorb the base)"))
                .into_iter()
                .collect();
            fixes.push(
                "lower the scrub acid (scrub.conc or scrub.flow) so that less of what the soap loads is scrubbed back"
                    .to_string(),
            );
            let share = if b.ree_feed > 0.0 {
                format!(
                    " ({} % of the {} mol/h fed)",
                    fmt(100.0 * l.ions / b.ree_feed),
                    fmt(b.ree_feed)
                )
            } else {
                String::new()
            };
            findings.push(BudgetFinding {
                kind: FindingKind::LoadingShort,
                message: format!(
                    "circuit \"{name}\": in the solved state only {} mol/h of extractable ions{share} stay loaded into the strip (the scrub acid returns the rest): the protons their loading releases ({} mol/h) with the feed and scrub acid ({} mol/h H+) do not exceed the {} mol/h of saponification base, so the raffinate is neutral or alkaline and rare-earth hydroxides precipitate (from about pH {HYDROXIDE_PH})",
                    fmt(l.ions),
                    fmt(l.protons),
                    fmt(acid),
                    fmt(b.base)
                ),
                help: join_fixes(&fixes),
            });
        }
    }
    if let Some(h_strip) = b.h_strip {
        // Statically the bound only matters when (a) leaves an acidic state possible.
        let relevant = b.loaded.is_some() || !alkaline;
        if relevant && need > h_strip + MARGIN * (need + h_strip.abs()) && need > 0.0 {
            let mut fixes = acid_fixes("strip", b.knobs.strip, need);
            let why = if b.loaded.is_some() {
                format!("stripping the {} mol/h of ions loaded", fmt(loaded))
            } else {
                if b.z_min > 0.0 {
                    let base_max = acid + h_strip.max(0.0) * b.z_max / b.z_min;
                    fixes.extend(saponification_fix(&b.knobs, base_max));
                }
                format!(
                    "the raffinate stays acidic only if at least {} mol/h of ions load (the {} mol/h of base less the {} mol/h of feed and scrub acid, over {} H+ per ion), and stripping them",
                    fmt(loaded),
                    fmt(b.base),
                    fmt(acid),
                    fmt(b.z_max)
                )
            };
            findings.push(BudgetFinding {
                kind: FindingKind::StripAcidShort,
                message: format!(
                    "circuit \"{name}\": strip acid supplies {} mol/h H+, {why} needs {} mol/h: the strip liquor turns neutral and what is not stripped leaves on the organic",
                    fmt(h_strip),
                    fmt(need)
                ),
                help: join_fixes(&fixes),
            });
        }
    }
    AcidBudget {
        circuit: name.clone(),
        h_feed_mol_per_h: b.h_feed,
        h_scrub_mol_per_h: b.h_scrub,
        base_mol_per_h: b.base,
        ree_feed_mol_per_h: b.ree_feed,
        capacity_mol_per_h: b.capacity,
        released_max_mol_per_h: released,
        loaded_mol_per_h: loaded,
        loaded_basis: basis,
        h_strip_mol_per_h: b.h_strip,
        strip_need_mol_per_h: need,
        findings,
    }
}

/// `lower organic.saponification to <= X %`, the saponification whose base is `base_max` mol/h
/// (none without an extractant amount to scale by).
fn saponification_fix(k: &Knobs, base_max: f64) -> Option<String> {
    let c_q = k.extractant_conc * k.organic_flow;
    (c_q > 0.0).then(|| {
        format!(
            "lower organic.saponification to <= {} %",
            down(100.0 * base_max.max(0.0) / c_q)
        )
    })
}

/// `raise <key>.conc to >= X mol/L`, `<key>.flow to >= Y m3/h` for a solution that must bring
/// `protons` mol/h.
fn acid_fixes(key: &str, knob: Option<SolutionKnob>, protons: f64) -> Vec<String> {
    let Some(k) = knob else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let p = if k.protons_per_mol > 0.0 {
        k.protons_per_mol
    } else {
        1.0
    };
    if k.flow_vol > 0.0 {
        out.push(format!(
            "raise {key}.conc to >= {} mol/L",
            up(protons / (p * k.flow_vol))
        ));
    }
    if k.conc_mol > 0.0 && k.protons_per_mol > 0.0 {
        out.push(format!(
            "{key}.flow to >= {} m3/h",
            up(protons / (p * k.conc_mol) / 1000.0)
        ));
    }
    out
}

fn join_fixes(fixes: &[String]) -> String {
    if fixes.is_empty() {
        return "change the acid or base fed to the circuit".into();
    }
    fixes.join(" or ")
}

/// Three significant digits, rounded in the direction `f` (`ceil` or `floor`).
fn sig3(x: f64, f: fn(f64) -> f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let e = x.abs().log10().floor() as i32;
    if !(-290..=290).contains(&e) {
        // 10^(2 - e) leaves f64 (1e-320 would print NaN): three digits in scientific notation
        let r: f64 = format!("{x:.2e}").parse().unwrap_or(x);
        // rounding f64::MAX up to 1.80e308 would leave f64
        return crate::diagnostic::fmt_number(if r.is_finite() { r } else { x });
    }
    let scale = 10f64.powi(2 - e);
    let v = f(x * scale) / scale;
    let decimals = usize::try_from((2 - e).max(0)).unwrap_or(0);
    format!("{v:.decimals$}")
}

/// A lower bound a value must reach, rounded up (round-off below 1e-6 of the last digit is
/// not rounded up: 1.18 is 1.18, not 1.19).
fn up(x: f64) -> String {
    sig3(x, |v| (v - 1e-6).ceil())
}

/// An upper bound a value must stay under, rounded down.
fn down(x: f64) -> String {
    sig3(x, |v| (v + 1e-6).floor())
}

/// An amount for a message: three significant digits, no exponent for plant-size numbers.
pub fn amount(x: f64) -> String {
    fmt(x)
}

fn fmt(x: f64) -> String {
    if !x.is_finite() || x.abs() >= 1e7 || (x != 0.0 && x.abs() < 1e-6) {
        // not a 20-digit decimal: 4.26e19
        let t = sig3(x, f64::round);
        return match t.parse::<f64>() {
            Ok(v) if v.is_finite() => crate::diagnostic::fmt_number(v),
            _ => t,
        };
    }
    if x.abs() >= 100.0 || (x.fract() == 0.0 && x.abs() < 1e15) {
        format!("{x:.0}")
    } else {
        sig3(x, f64::round)
    }
}

/// Protons an ion of `e` exchanges in circuit `c`, or `None` when the circuit's model has no
/// data for it (it is not extracted): the mass-action `z_proton`, else the ion's charge.
pub fn exchange(c: &Circuit, e: Element) -> Option<f64> {
    if !c.equilibrium.elements().contains(&e) {
        return None;
    }
    Some(match &c.equilibrium {
        Equilibrium::MassAction(ma) => ma.params.get(&e).map_or(3.0, |p| p.z_proton),
        _ => f64::from(e.charge().unsigned_abs()),
    })
}

/// Ions per litre of organic the extractant can hold: `min(C_HA / (2 n), loading capacity)`
/// with n the dimers bound per ion (mass action `n_extractant`, else the ion's charge), over
/// the elements the model extracts (the largest such loading, so the bound is never low).
pub fn loading_limit(c: &Circuit) -> f64 {
    let dimer = 0.5 * c.organic.conc_mol;
    match &c.equilibrium {
        Equilibrium::MassAction(ma) => {
            let n_min = ma
                .params
                .values()
                .map(|p| p.n_extractant)
                .fold(f64::INFINITY, f64::min);
            let n_max = ma
                .params
                .values()
                .map(|p| p.n_extractant)
                .fold(0.0, f64::max);
            if !(n_min > 0.0 && n_min.is_finite()) {
                return 0.0;
            }
            // As the simulator: total dimer min(C/2, n_max L), at most that over n_min ions.
            let cd = ma.loading_capacity.map_or(dimer, |l| dimer.min(n_max * l));
            cd / n_min
        }
        other => {
            let n_min = other
                .elements()
                .iter()
                .map(|e| f64::from(e.charge().unsigned_abs()))
                .filter(|n| *n > 0.0)
                .fold(f64::INFINITY, f64::min);
            if n_min.is_finite() {
                dimer / n_min
            } else {
                0.0
            }
        }
    }
}

/// The knobs of circuit `c` (its written operating values).
pub fn knobs(c: &Circuit) -> Knobs {
    let knob = |kind: SectionKind| {
        c.section(kind)
            .and_then(|s| s.solution.as_ref())
            .map(|s| SolutionKnob {
                protons_per_mol: s.acid.map_or(0.0, |a| a.protons()),
                conc_mol: s.conc_mol,
                flow_vol: s.flow_vol,
            })
    };
    Knobs {
        extractant_conc: c.organic.conc_mol,
        organic_flow: c.organic.flow_vol,
        scrub: knob(SectionKind::Scrub),
        strip: knob(SectionKind::Strip),
    }
}

/// Saponification base of circuit `c`, mol/h, at organic flow `flow_vol` (L/h).
pub fn base(c: &Circuit, flow_vol: f64) -> f64 {
    c.organic
        .saponification
        .as_ref()
        .map_or(0.0, |s| s.fraction * c.organic.conc_mol * flow_vol)
}

/// Indices of the sections whose aqueous leaves as raffinate: the extraction section and the
/// sections above it that pass their aqueous down into it. Empty without an extraction section.
pub fn raffinate_sections(c: &Circuit) -> Vec<usize> {
    let Some(first) = c
        .sections
        .iter()
        .position(|s| s.kind == SectionKind::Extraction)
    else {
        return Vec::new();
    };
    let mut out = vec![first];
    let mut k = first + 1;
    while c.sections.get(k).is_some_and(|s| s.aqueous_to_previous) {
        out.push(k);
        k += 1;
    }
    out
}

/// The budget `check` can compute from the flowsheet alone: every aqueous stream entering the
/// extraction and scrub sections comes straight from a feed or the circuit's own solutions.
/// `None` otherwise (a feed from another circuit or a unit, a reflux into the scrub), or
/// without an extraction section. A strip fed through a link is left out (`h_strip` unknown).
pub fn static_input(fs: &Flowsheet, id: CircuitId) -> Option<BudgetInput> {
    let c = fs.circuits.get(id.0)?;
    let group = raffinate_sections(c);
    if group.is_empty() {
        return None;
    }
    let me = NodeRef::Circuit(id);
    let in_group = |stage: usize| {
        c.section_of_stage(stage)
            .is_some_and(|s| group.contains(&s))
    };
    let mut h_feed = 0.0;
    let mut ree_feed = 0.0;
    let (mut z_min, mut z_max) = (f64::INFINITY, 0.0f64);
    for link in fs.links.iter().filter(|l| l.to.node == me) {
        match link.to.kind {
            PortKind::FeedPoint(k) => {
                let fp = c.feed_points.get(k)?;
                if !in_group(fp.stage) {
                    continue;
                }
                let NodeRef::Feed(f) = link.from.node else {
                    return None;
                };
                match &fs.feeds.get(f.0)?.kind {
                    FeedKind::Aqueous(sf) => {
                        h_feed += sf.conc_h * sf.flow_vol;
                        for (e, x) in &sf.conc_mol {
                            if let Some(z) = exchange(c, *e) {
                                ree_feed += x * sf.flow_vol;
                                z_min = z_min.min(z);
                                z_max = z_max.max(z);
                            }
                        }
                    }
                    // Organic feeds cannot raise the net loading above the aqueous bound.
                    FeedKind::Organic(_) => {}
                    FeedKind::Mud(_) => return None,
                }
            }
            PortKind::ScrubInlet => return None,
            PortKind::SectionInlet(k) if group.contains(&k) => return None,
            _ => {}
        }
    }
    if z_max <= 0.0 {
        return None;
    }
    let h_scrub: f64 = group
        .iter()
        .filter_map(|&k| c.sections[k].solution.as_ref())
        .map(|s| s.conc_h() * s.flow_vol)
        .sum();
    let strip_linked = fs
        .links
        .iter()
        .any(|l| l.to.node == me && l.to.kind == PortKind::StripInlet);
    let h_strip = if strip_linked {
        None
    } else {
        c.strip_solution().map(|s| s.conc_h() * s.flow_vol)
    };
    Some(BudgetInput {
        circuit: c.name.clone(),
        h_feed,
        ree_feed,
        h_scrub,
        base: base(c, c.organic.flow_vol),
        capacity: c.organic.flow_vol * loading_limit(c),
        z_min,
        z_max,
        h_strip,
        loaded: None,
        knobs: knobs(c),
    })
}

/// [`budget`] of [`static_input`].
pub fn static_budget(fs: &Flowsheet, id: CircuitId) -> Option<AcidBudget> {
    static_input(fs, id).map(|i| budget(&i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by tests/fuzz_edges.rs: 1e-320 mol/h of loaded ions printed "NaN mol/h" (the
    /// rounding scale 10^322 left f64), and 4.26e19 printed as a 20-digit decimal.
    #[test]
    fn amounts_at_the_edges_of_f64_print_as_numbers() {
        assert_eq!(amount(1e-320), "1e-320");
        assert_eq!(amount(4.9e-324), "5e-324");
        assert_eq!(amount(2.5e-7), "2.5e-7");
        assert_eq!(amount(4.2641e19), "4.26e19");
        assert_eq!(amount(1e308), "1e308");
        assert_eq!(amount(f64::MAX), "1.797693135e308");
        assert_eq!(amount(2400.0), "2400");
        assert_eq!(amount(0.1526), "0.153");
        assert_eq!(up(1e-320), "1e-320");
        for x in [1e-320, 1e-300, 1e-30, 1e30, 1e300, f64::MAX] {
            assert!(
                !amount(x).contains("NaN") && !amount(x).contains("inf"),
                "{x}"
            );
            assert!(!up(x).contains("NaN") && !up(x).contains("inf"), "{x}");
        }
    }

    fn input() -> BudgetInput {
        // tests/data/ok/mass_action_model.toml by hand: feed 1 m3/h at pH 2 with 0.5 mol/L
        // REE, scrub 4 mol/L x 0.45 m3/h, strip 2 mol/L x 0.6 m3/h, P507 1.5 mol/L at 40 %
        // on 4 m3/h, loading capacity 0.2 mol/L (below 1.5 / 6 = 0.25).
        BudgetInput {
            circuit: "PrNd".into(),
            h_feed: 10.0,
            ree_feed: 500.0,
            h_scrub: 1800.0,
            base: 2400.0,
            capacity: 800.0,
            z_min: 3.0,
            z_max: 3.0,
            h_strip: Some(1200.0),
            loaded: None,
            knobs: Knobs {
                extractant_conc: 1.5,
                organic_flow: 4000.0,
                scrub: Some(SolutionKnob {
                    protons_per_mol: 1.0,
                    conc_mol: 4.0,
                    flow_vol: 450.0,
                }),
                strip: Some(SolutionKnob {
                    protons_per_mol: 1.0,
                    conc_mol: 2.0,
                    flow_vol: 600.0,
                }),
            },
        }
    }

    #[test]
    fn the_worked_example_meets_both_budgets() {
        let b = budget(&input());
        assert!(b.findings.is_empty(), "{:?}", b.findings);
        assert_eq!(b.released_max_mol_per_h, 1500.0);
        // (2400 - 1810) / 3 = 196.67 ions must load; stripping them needs 590 of 1200 H+.
        assert!((b.loaded_mol_per_h - 590.0 / 3.0).abs() < 1e-9);
        assert!((b.strip_need_mol_per_h - 590.0).abs() < 1e-9);
        assert_eq!(b.loaded_basis, "bound");
    }

    #[test]
    fn base_beyond_the_acid_says_what_to_change() {
        let mut i = input();
        i.base = 3600.0; // 60 % saponification
        i.knobs.scrub = i.knobs.scrub.map(|s| SolutionKnob { conc_mol: 1.0, ..s });
        i.h_scrub = 450.0;
        let b = budget(&i);
        assert_eq!(b.findings.len(), 1, "{:?}", b.findings);
        let f = &b.findings[0];
        assert_eq!(f.kind, FindingKind::BaseExceedsAcid);
        // absorbs 10 + 450 + 1500 = 1960 of 3600: saponification <= 1960 / 6000 = 32.6 %,
        // scrub acid 450 + 1640 = 2090 mol/h -> 4.65 mol/L at 0.45 m3/h or 2.09 m3/h at 1 mol/L
        assert!(
            f.message.contains("absorb only 1960 mol/h"),
            "{}",
            f.message
        );
        assert!(f.message.contains("pH 6"), "{}", f.message);
        assert_eq!(
            f.help,
            "lower organic.saponification to <= 32.6 % or raise scrub.conc to >= 4.65 mol/L or scrub.flow to >= 2.09 m3/h"
        );
    }

    #[test]
    fn strip_short_of_the_ions_the_soap_must_load() {
        let mut i = input();
        i.h_strip = Some(300.0);
        i.knobs.strip = Some(SolutionKnob {
            protons_per_mol: 1.0,
            conc_mol: 0.5,
            flow_vol: 600.0,
        });
        let b = budget(&i);
        assert_eq!(b.findings.len(), 1, "{:?}", b.findings);
        let f = &b.findings[0];
        assert_eq!(f.kind, FindingKind::StripAcidShort);
        assert!(
            f.message
                .starts_with("circuit \"PrNd\": strip acid supplies 300 mol/h H+"),
            "{}",
            f.message
        );
        assert!(f.message.contains("needs 590 mol/h"), "{}", f.message);
        // 590 / 600 = 0.984 mol/L; 590 / 0.5 = 1.18 m3/h; base <= 1810 + 300 = 2110 -> 35.1 %
        assert_eq!(
            f.help,
            "raise strip.conc to >= 0.984 mol/L or strip.flow to >= 1.18 m3/h or lower organic.saponification to <= 35.1 %"
        );
    }

    #[test]
    fn a_solved_state_uses_the_ions_entering_the_strip() {
        let mut i = input();
        i.loaded = Some(Loaded {
            ions: 450.0,
            protons: 1350.0,
        });
        let b = budget(&i);
        assert_eq!(b.loaded_basis, "state");
        assert_eq!(b.findings.len(), 1);
        assert!(b.findings[0]
            .message
            .contains("stripping the 450 mol/h of ions loaded needs 1350 mol/h"));
        assert_eq!(
            b.findings[0].help,
            "raise strip.conc to >= 2.25 mol/L or strip.flow to >= 0.675 m3/h"
        );
    }

    #[test]
    fn rounding_goes_the_safe_way() {
        assert_eq!(up(12.6001), "12.7");
        assert_eq!(down(32.69), "32.6");
        assert_eq!(up(0.15011), "0.151");
        assert_eq!(fmt(196.67), "197");
        assert_eq!(fmt(2.5), "2.50");
        assert_eq!(fmt(3.0), "3");
        assert_eq!(up(1.180000001), "1.18");
    }
}
