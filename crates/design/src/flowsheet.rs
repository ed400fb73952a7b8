//! Design of a circuit of a flowsheet: read its feed, separation factors, products and organic
//! data into a [`CutSpec`], and write the designed circuit back as a flowsheet TOML that is ready
//! to simulate.
//!
//! What is read from the flowsheet (each can be overridden by the caller):
//! - feed: the solution feed linked to the circuit's feed point (composition × flow, mol/h);
//!   only elements with a β in the circuit's `separation_factor` model take part;
//! - β: the model's `beta`, and `beta_section` of the first scrub section if given;
//! - keys and purities: a product drawn directly from the circuit's raffinate gives key B and
//!   P_B, one drawn from its strip liquor or loaded organic gives key A and P_A (mole basis; for a
//!   group purity the least extractable member is key A, the most extractable member key B);
//!   a missing key is the neighbour in extractability of the other key;
//! - reagents: extractant concentration, saponification, scrub and strip acid strengths, feed
//!   concentration and rate.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sxplan_chem::Element;
use sxplan_model::{
    Equilibrium, FeedKind, Flowsheet, NodeRef, Phase, PortKind, PurityBasis, PuritySpec,
    SectionKind,
};

use crate::cut::{Component, CutDesign, CutSpec};
use crate::error::DesignError;
use crate::flows::ReagentBasis;
use crate::shortcut::{FeedPhase, Reflux};

/// A feed stream given directly (e.g. taken from a simulation of the whole flowsheet).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedStream {
    /// Molar flow per element, mol/h.
    pub flow_mol: BTreeMap<Element, f64>,
    /// Volumetric flow, L/h.
    pub flow_vol: f64,
    /// Phase the feed enters with.
    pub phase: Phase,
}

/// True when a feed point of `circuit` is fed by something other than a `[[feed]]` (another
/// circuit, a unit, a mixer...), so its composition has to come from a simulation.
pub fn feed_needs_simulation(fs: &Flowsheet, circuit: &str) -> bool {
    let Some(c) = fs.circuit_by_name(circuit) else {
        return false;
    };
    fs.links.iter().any(|l| {
        l.to.node == NodeRef::Circuit(c.id)
            && matches!(l.to.kind, PortKind::FeedPoint(_))
            && !matches!(l.from.node, NodeRef::Feed(_))
    })
}

/// The stream entering the feed point(s) of `circuit` in a simulation of the whole flowsheet.
///
/// Streams are matched by the simulator's stage names (`"<circuit>/<stage>"`): a stream entering
/// a feed stage from outside the circuit. `None` when there is none.
pub fn feed_from_simulation(
    fs: &Flowsheet,
    circuit: &str,
    result: &sxplan_sim::SimResult,
) -> Option<FeedStream> {
    let c = fs.circuit_by_name(circuit)?;
    let prefix = format!("{}/", c.name);
    let mut flow_mol: BTreeMap<Element, f64> = BTreeMap::new();
    let mut flow_vol = 0.0;
    let mut phase = None;
    for fp in &c.feed_points {
        let target = format!("{}/{}", c.name, fp.stage);
        for st in &result.streams {
            if st.to == target && !st.from.starts_with(&prefix) && st.phase == fp.phase {
                phase = Some(fp.phase);
                flow_vol += st.flow_vol_l_per_h;
                for (&e, &v) in &st.flow_mol_per_h {
                    *flow_mol.entry(e).or_insert(0.0) += v;
                }
            }
        }
    }
    Some(FeedStream {
        flow_mol,
        flow_vol,
        phase: phase?,
    })
}

/// Values the caller supplies instead of (or in the absence of) the flowsheet's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CircuitOverrides {
    /// The feed stream, instead of the `[[feed]]` linked to the circuit.
    pub feed: Option<FeedStream>,
    /// Heavy key (organic product).
    pub key_a: Option<Element>,
    /// Light key (aqueous product).
    pub key_b: Option<Element>,
    /// Required purity of the organic product.
    pub purity_a: Option<f64>,
    /// Required purity of the aqueous product.
    pub purity_b: Option<f64>,
    /// Reflux choice (default Xu's optimum).
    pub reflux: Option<Reflux>,
    /// Acid above stoichiometry for scrub and strip, fraction (default 0).
    pub acid_excess: Option<f64>,
}

/// A circuit of a flowsheet read as a cut.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitCut {
    /// Circuit name.
    pub circuit: String,
    /// The cut to design.
    pub spec: CutSpec,
    /// REE feed rate of the cut, mol/h.
    pub feed_rate: f64,
    /// Elements of the feed the cut ignores (no β in the circuit's model).
    pub ignored_elements: Vec<Element>,
    /// How each side's group purity was derived from the spec of the product drawn from it.
    pub derived_targets: Vec<String>,
    /// The feed stream when it was given (not read from a `[[feed]]`).
    pub feed_stream: Option<FeedStream>,
}

/// The group purity side A (the organic product) or B (the raffinate) must reach for the
/// product drawn from it to meet `spec`, and a line saying how it was derived.
///
/// The side's group holds the elements at least as extractable as key A (side A) or at most
/// as key B (side B). Of them, E (mol/h) are the spec's elements and H the others; H leaves
/// with the product whatever the cut does. The cut lets at most L mol/h of the other side's
/// elements in. Mole basis: E / (E + H + L) >= p, so L <= E/p - E - H. Oxide-mass basis: the
/// same in oxide masses (each element's oxide per mol of metal), and L counted at the heaviest
/// oxide of the other side, so any mix of impurities within L meets the spec. The group purity
/// is then (E + H) / (E + H + L).
fn group_target(
    components: &[Component],
    key_a: usize,
    key_b: usize,
    side_a: bool,
    product: &str,
    spec: &PuritySpec,
    circuit: &str,
) -> Result<(f64, String), DesignError> {
    let (sa, sb) = (components[key_a].sep_factor, components[key_b].sep_factor);
    let in_side = |c: &Component| {
        if side_a {
            c.sep_factor >= sa
        } else {
            c.sep_factor <= sb
        }
    };
    let element = |c: &Component| Element::from_symbol(&c.name);
    let oxide = spec.basis == PurityBasis::OxideMass;
    let weight = |c: &Component| -> f64 {
        if oxide {
            element(c).map_or(1.0, |e| e.oxide_mass_per_mol_metal())
        } else {
            1.0
        }
    };
    let (mut e_amt, mut h_amt, mut e_mol, mut h_mol) = (0.0, 0.0, 0.0, 0.0);
    let mut co: Vec<&str> = Vec::new();
    for c in components.iter().filter(|c| in_side(c)) {
        if element(c).is_some_and(|e| spec.elements.contains(&e)) {
            e_amt += c.feed * weight(c);
            e_mol += c.feed;
        } else {
            h_amt += c.feed * weight(c);
            h_mol += c.feed;
            co.push(&c.name);
        }
    }
    let p = spec.min;
    let basis = if oxide { "oxide-mass" } else { "mole" };
    let side = if side_a {
        "A (organic)"
    } else {
        "B (raffinate)"
    };
    if e_mol <= 0.0 {
        return Err(comp_err(format!(
            "circuit \"{circuit}\": product \"{product}\" is drawn from side {side}, which holds none of its elements"
        )));
    }
    let l_amt = e_amt / p - e_amt - h_amt;
    if l_amt <= 0.0 {
        return Err(comp_err(format!(
            "circuit \"{circuit}\": product \"{product}\" needs {} {basis} purity of {}, but side {side} also carries {} ({:.4} of its {basis} amount), which no cut at these keys removes: it can reach at most {:.6}; draw it from a further cut",
            if oxide { "an" } else { "a" },
            short(p),
            co.join(", "),
            h_amt / (e_amt + h_amt),
            e_amt / (e_amt + h_amt)
        )));
    }
    let heaviest_other = components
        .iter()
        .filter(|c| !in_side(c))
        .map(weight)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let l_mol = l_amt / heaviest_other;
    let group = (e_mol + h_mol) / (e_mol + h_mol + l_mol);
    let line = format!(
        "product \"{product}\" ({basis} purity >= {} of {}): side {side} group purity >= {group:.8}{}",
        short(p),
        spec.elements.iter().map(|e| e.symbol()).collect::<Vec<_>>().join("+"),
        if co.is_empty() {
            String::new()
        } else {
            format!(" (it also carries {}, {:.4} of its {basis} amount)", co.join(", "), h_amt / (e_amt + h_amt))
        }
    );
    Ok((group, line))
}

fn comp_err(msg: String) -> DesignError {
    DesignError::Components(msg)
}

/// Reads circuit `circuit` of `fs` as a cut.
pub fn cut_from_circuit(
    fs: &Flowsheet,
    circuit: &str,
    overrides: &CircuitOverrides,
) -> Result<CircuitCut, DesignError> {
    let c = fs.circuit_by_name(circuit).ok_or_else(|| {
        let names: Vec<&str> = fs.circuits.iter().map(|c| c.name.as_str()).collect();
        comp_err(format!(
            "circuit \"{circuit}\" is not in flowsheet \"{}\" (circuits: {})",
            fs.name,
            names.join(", ")
        ))
    })?;
    let Equilibrium::SeparationFactor(model) = &c.equilibrium else {
        return Err(comp_err(format!(
            "circuit \"{circuit}\" uses the {} model; cascade design needs the separation_factor model (relative extractabilities)",
            c.equilibrium.name()
        )));
    };
    if c.section(SectionKind::Extraction).is_none() || c.section(SectionKind::Scrub).is_none() {
        return Err(comp_err(format!(
            "circuit \"{circuit}\" needs an extraction and a scrub section to be designed as a cut"
        )));
    }
    let scrub_index = c.sections.iter().position(|s| s.kind == SectionKind::Scrub);
    let beta_scrub = scrub_index
        .and_then(|i| model.beta_section.get(i).cloned().flatten())
        .unwrap_or_else(|| model.beta.clone());

    // Feed: solution feeds linked to the circuit's feed points.
    let mut feed_mol: BTreeMap<Element, f64> = BTreeMap::new();
    let mut feed_vol = 0.0;
    let mut phase: Option<Phase> = None;
    if let Some(f) = &overrides.feed {
        phase = Some(f.phase);
        feed_vol = f.flow_vol;
        feed_mol = f.flow_mol.clone();
    }
    for (i, fp) in c.feed_points.iter().enumerate() {
        if overrides.feed.is_some() {
            break;
        }
        let Some(link) = fs
            .links
            .iter()
            .find(|l| l.to.node == NodeRef::Circuit(c.id) && l.to.kind == PortKind::FeedPoint(i))
        else {
            continue;
        };
        let NodeRef::Feed(fid) = link.from.node else {
            return Err(comp_err(format!(
                "circuit \"{circuit}\" feed point \"{}\" is fed by {}, not by a [[feed]]; design a circuit whose feed is a solution feed",
                fp.name,
                fs.node_name(link.from.node)
            )));
        };
        let Some(feed) = fs.feeds.iter().find(|f| f.id == fid) else {
            continue;
        };
        let sol = match &feed.kind {
            FeedKind::Aqueous(s) | FeedKind::Organic(s) => s,
            FeedKind::Mud(_) => {
                return Err(comp_err(format!(
                "circuit \"{circuit}\" is fed mud \"{}\" directly; design needs a solution feed",
                feed.name
            )))
            }
        };
        if phase.is_some_and(|p| p != fp.phase) {
            return Err(comp_err(format!(
                "circuit \"{circuit}\" has aqueous and organic feeds; design handles one feed phase"
            )));
        }
        phase = Some(fp.phase);
        feed_vol += sol.flow_vol;
        for (&e, &conc) in &sol.conc_mol {
            *feed_mol.entry(e).or_insert(0.0) += conc * sol.flow_vol;
        }
    }
    let Some(phase) = phase else {
        return Err(comp_err(format!(
            "circuit \"{circuit}\" has no solution feed linked to its feed point"
        )));
    };
    let feed_phase = match phase {
        Phase::Organic => FeedPhase::Organic,
        _ => FeedPhase::Aqueous,
    };
    let mut ignored = Vec::new();
    let mut components = Vec::new();
    for (&e, &mol) in &feed_mol {
        match model.beta.get(&e) {
            Some(&b) if mol > 0.0 => components.push(Component {
                name: e.symbol().to_string(),
                sep_factor: b,
                sep_factor_scrub: beta_scrub.get(&e).copied(),
                feed: mol,
            }),
            Some(_) => {}
            None => ignored.push(e),
        }
    }
    let feed_rate: f64 = components.iter().map(|c| c.feed).sum();
    if components.len() < 2 {
        return Err(comp_err(format!(
            "circuit \"{circuit}\": the feed has {} element(s) with a beta; a cut needs two",
            components.len()
        )));
    }

    // Products drawn directly from the circuit, with their purity specs on either basis.
    let mut spec_a: Option<(Vec<Element>, f64)> = None;
    let mut spec_b: Option<(Vec<Element>, f64)> = None;
    let mut product_a: Option<(&str, &PuritySpec)> = None;
    let mut product_b: Option<(&str, &PuritySpec)> = None;
    for p in &fs.products {
        // drawn from the circuit directly or through linear units (precipitation,
        // calcination, ...), which the spec's elements pass as the outlet carries them
        let Some(from) = source_port(fs, p.from) else {
            continue;
        };
        if from.node != NodeRef::Circuit(c.id) {
            continue;
        }
        let Some(purity) = &p.purity else { continue };
        match from.kind {
            PortKind::Raffinate => {
                spec_b = Some((purity.elements.clone(), purity.min));
                product_b = Some((p.name.as_str(), purity));
            }
            PortKind::StripLiquor | PortKind::LoadedOrganic => {
                spec_a = Some((purity.elements.clone(), purity.min));
                product_a = Some((p.name.as_str(), purity));
            }
            _ => {}
        }
    }
    let beta_of = |e: Element| model.beta.get(&e).copied().unwrap_or(0.0);
    let idx = |e: Element| components.iter().position(|c| c.name == e.symbol());
    let mut by_beta: Vec<usize> = (0..components.len()).collect();
    by_beta.sort_by(|&i, &j| {
        components[i]
            .sep_factor
            .total_cmp(&components[j].sep_factor)
    });

    let key_a_el = overrides.key_a.or_else(|| {
        spec_a.as_ref().and_then(|(els, _)| {
            els.iter()
                .copied()
                .filter(|e| idx(*e).is_some())
                .min_by(|a, b| beta_of(*a).total_cmp(&beta_of(*b)))
        })
    });
    let key_b_el = overrides.key_b.or_else(|| {
        spec_b.as_ref().and_then(|(els, _)| {
            els.iter()
                .copied()
                .filter(|e| idx(*e).is_some())
                .max_by(|a, b| beta_of(*a).total_cmp(&beta_of(*b)))
        })
    });
    let pos_in_order = |k: usize| by_beta.iter().position(|&i| i == k);
    let (key_a, key_b) = match (key_a_el.and_then(idx), key_b_el.and_then(idx)) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => {
            let p = pos_in_order(a).unwrap_or(0);
            if p == 0 {
                return Err(comp_err(format!(
                    "circuit \"{circuit}\": key A {} is the least extractable element; give key B",
                    components[a].name
                )));
            }
            (a, by_beta[p - 1])
        }
        (None, Some(b)) => {
            let p = pos_in_order(b).unwrap_or(0);
            if p + 1 >= by_beta.len() {
                return Err(comp_err(format!(
                    "circuit \"{circuit}\": key B {} is the most extractable element; give key A",
                    components[b].name
                )));
            }
            (by_beta[p + 1], b)
        }
        (None, None) => {
            return Err(comp_err(format!(
                "circuit \"{circuit}\": no product with a purity spec is drawn directly from its raffinate or strip liquor; give the keys and purities"
            )))
        }
    };
    // A product's spec is on its own elements, on its basis; the cut controls the group
    // purity of its side. The product carries the side's other elements too (they leave with
    // it whatever the cut does), so the group purity the spec asks for is higher than the spec.
    let mut derived = Vec::new();
    let mut target =
        |side_a: bool, product: Option<(&str, &PuritySpec)>| -> Result<Option<f64>, DesignError> {
            let Some((name, spec)) = product else {
                return Ok(None);
            };
            let t = group_target(&components, key_a, key_b, side_a, name, spec, circuit)?;
            derived.push(t.1);
            Ok(Some(t.0))
        };
    let derived_a = target(true, product_a)?;
    let derived_b = target(false, product_b)?;
    let purity_a = overrides.purity_a.or(derived_a).ok_or_else(|| {
        comp_err(format!(
            "circuit \"{circuit}\": no purity for the organic (A) product; give one"
        ))
    })?;
    let purity_b = overrides.purity_b.or(derived_b).ok_or_else(|| {
        comp_err(format!(
            "circuit \"{circuit}\": no purity for the aqueous (B) product; give one"
        ))
    })?;

    let reagents = match (
        &c.organic.saponification,
        c.scrub_solution().map(|s| s.conc_h()),
        c.strip_solution().map(|s| s.conc_h()),
    ) {
        (Some(sap), Some(scrub_h), Some(strip_h)) if scrub_h > 0.0 && strip_h > 0.0 => {
            Some(ReagentBasis {
                extractant_conc: c.organic.conc_mol,
                saponification: sap.fraction,
                loading_capacity: None,
                scrub_acid: scrub_h,
                strip_acid: strip_h,
                acid_excess: overrides.acid_excess.unwrap_or(0.0),
                feed_conc: (feed_phase == FeedPhase::Aqueous && feed_vol > 0.0)
                    .then(|| feed_rate / feed_vol),
                feed_rate: Some(feed_rate),
            })
        }
        _ => None,
    };
    Ok(CircuitCut {
        circuit: c.name.clone(),
        spec: CutSpec {
            components,
            key_a,
            key_b,
            feed_phase,
            purity_a,
            purity_b,
            reflux: overrides.reflux.unwrap_or(Reflux::XuOptimum),
            reagents,
        },
        feed_rate,
        ignored_elements: ignored,
        derived_targets: derived,
        feed_stream: overrides.feed.clone(),
    })
}

fn acid_name(a: sxplan_model::Acid) -> &'static str {
    match a {
        sxplan_model::Acid::HCl => "HCl",
        sxplan_model::Acid::H2SO4 => "H2SO4",
        sxplan_model::Acid::HNO3 => "HNO3",
    }
}

/// Writes the designed circuit as a standalone flowsheet (its feed, the circuit with the
/// rigorous (n, m), Xu's section ratios, flows from the design, and its two products), ready for
/// `sxplan check` and `sxplan simulate`.
///
/// Returns `None` when the design found no stage numbers. Sections other than extraction, scrub
/// and strip are dropped; the strip section keeps its stage count; flows come from the design's
/// reagent figures when available and otherwise keep the flowsheet's values.
pub fn designed_circuit_toml(
    fs: &Flowsheet,
    cut: &CircuitCut,
    design: &CutDesign,
) -> Option<String> {
    let best = design.rigorous.best.as_ref()?;
    let c = fs.circuit_by_name(&cut.circuit)?;
    let sc = &design.shortcut;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Circuit \"{}\" of flowsheet \"{}\" as designed by `sxplan design`.",
        c.name, fs.name
    );
    let _ = writeln!(
        o,
        "# Cut {} | {}: sep_factor {:.6}, P_A >= {:.6}, P_B >= {:.6}; {} control, W/W_min {:.4}.",
        design.key_a,
        design.key_b,
        sc.sep_factor,
        design.purity_a_spec,
        design.purity_b_spec,
        sc.control.as_str(),
        sc.w_over_w_min
    );
    let _ = writeln!(
        o,
        "# Rigorous minimum {} + {} stages gives P_A = {:.8}, P_B = {:.8} (simulated).",
        best.n, best.m, best.purity_a, best.purity_b
    );
    let _ = writeln!(o, "schema = 1");
    let _ = writeln!(o, "name = \"{}-{}-designed\"", fs.name, c.name);
    let _ = writeln!(
        o,
        "description = \"Circuit {} of {} with stage numbers and flows from sxplan design\"",
        c.name, fs.name
    );

    feed_tables(&mut o, fs, c, cut, &format!("{}.feed", c.name));

    circuit_block(&mut o, fs, c, cut, design);
    let strip = c.section(SectionKind::Strip);

    // Products of the two outlets.
    let org_port = if strip.is_some() {
        "strip_liquor"
    } else {
        "loaded_organic"
    };
    let org_kind = if strip.is_some() {
        "aqueous"
    } else {
        "organic"
    };
    let group_a: Vec<&str> = design
        .distribution
        .iter()
        .filter(|d| d.group == crate::cut::Group::A)
        .map(|d| d.name.as_str())
        .collect();
    let group_b: Vec<&str> = design
        .distribution
        .iter()
        .filter(|d| d.group == crate::cut::Group::B)
        .map(|d| d.name.as_str())
        .collect();
    // The flowsheet's own product on each side, with its own spec (name, elements, basis), so
    // the designed plant is judged by what the chemist asked for; the group purity the design
    // derived from it is a comment. Without one, the group spec the design reached.
    let own = |raffinate: bool| {
        fs.products.iter().find(|p| {
            let Some(from) = source_port(fs, p.from) else {
                return false;
            };
            from.node == NodeRef::Circuit(c.id)
                && p.purity.is_some()
                && if raffinate {
                    from.kind == PortKind::Raffinate
                } else {
                    matches!(from.kind, PortKind::StripLiquor | PortKind::LoadedOrganic)
                }
        })
    };
    let sides = [
        (
            false,
            format!("{}_product", design.key_a),
            format!("{}.{org_port}", c.name),
            org_kind,
            &group_a,
            design.purity_a_spec,
        ),
        (
            true,
            format!("{}_raffinate", design.key_b),
            format!("{}.raffinate", c.name),
            "aqueous",
            &group_b,
            design.purity_b_spec,
        ),
    ];
    for (raffinate, default_name, from, kind, group, group_purity) in sides {
        let _ = writeln!(o, "\n[[product]]");
        match own(raffinate).and_then(|p| p.purity.as_ref().map(|s| (p, s))) {
            Some((p, spec)) => {
                let els: Vec<&str> = spec.elements.iter().map(|e| e.symbol()).collect();
                let _ = writeln!(
                    o,
                    "# the design's group purity for this side: {} >= {:.6} % (mole), derived from this spec",
                    group.join("+"),
                    group_purity * 100.0
                );
                let _ = writeln!(o, "name = \"{}\"", toml_escape(&p.name));
                let _ = writeln!(o, "from = \"{from}\"");
                let _ = writeln!(o, "kind = \"{kind}\"");
                let basis = match spec.basis {
                    PurityBasis::Mole => "mole",
                    PurityBasis::OxideMass => "oxide_mass",
                };
                let _ = writeln!(
                    o,
                    "purity = {{ {}, min = \"{} %\", basis = \"{basis}\" }}",
                    purity_elements(&els),
                    fmt_num(spec.min * 100.0)
                );
            }
            None => {
                let _ = writeln!(o, "name = \"{default_name}\"");
                let _ = writeln!(o, "from = \"{from}\"");
                let _ = writeln!(o, "kind = \"{kind}\"");
                let _ = writeln!(
                    o,
                    "purity = {{ {}, min = \"{} %\", basis = \"mole\" }}",
                    purity_elements(group),
                    fmt_num(group_purity * 100.0)
                );
            }
        }
    }
    Some(o)
}

/// The whole flowsheet `src` (the main file whose checked form is `fs`) with the designed
/// circuit in place of the old one: the circuit's `[[circuit]]` element (header, keys and
/// sub-tables) is replaced by the one [`designed_circuit_toml`] writes, and everything else
/// (feeds, links, other circuits, units, products and their specs, prices, `[optimize]`, and
/// the comments) is kept byte for byte. Links and free variables that name the circuit still
/// apply: its name and ports stay, and its scrub solution is the one `scrub_flow` and
/// `scrub_acid` move ([`sxplan_model::Circuit::solution_section`]).
///
/// The result is checked as a whole flowsheet before it is returned; an error says what the
/// designed circuit no longer has that the flowsheet uses (a second feed point, a wash
/// section, a port), or that the circuit is not written in the main file.
pub fn designed_flowsheet_toml(
    src: &str,
    fs: &Flowsheet,
    cut: &CircuitCut,
    design: &CutDesign,
) -> Result<String, String> {
    let c = fs
        .circuit_by_name(&cut.circuit)
        .ok_or_else(|| format!("the flowsheet has no circuit \"{}\"", cut.circuit))?;
    let best = design.rigorous.best.as_ref().ok_or_else(|| {
        format!(
            "circuit \"{}\": the design found no stage numbers to write",
            c.name
        )
    })?;
    let mut block = String::new();
    let _ = writeln!(
        block,
        "# Circuit \"{}\" as designed by `sxplan design`: cut {} | {}, rigorous {} + {} stages give group purities P_A = {:.8}, P_B = {:.8} (simulated).",
        c.name, design.key_a, design.key_b, best.n, best.m, best.purity_a, best.purity_b
    );
    circuit_block(&mut block, fs, c, cut, design);
    let text = sxplan_model::operating::replace_element(src, "circuit", &c.name, &block)
        .ok_or_else(|| {
            format!(
                "circuit \"{}\" is not written as a `[[circuit]]` table of the main file (an included file?); design writes the whole flowsheet only for circuits of the main file",
                c.name
            )
        })?;
    // A free extraction ratio of the extraction section no longer has a ratio to move: the
    // designed section loads the organic to capacity, so its organic REE flow S moves with
    // the organic flow. The variable becomes the circuit's organic flow over the same range
    // of S (Q = Q_design E / E_M), or goes when the organic flow is already free.
    let mut text = text;
    let free = fs.optimize.as_ref().map_or(&[][..], |o| o.free.as_slice());
    let org_free = free
        .iter()
        .any(|f| f.var == sxplan_model::OperatingVar::OrganicFlow(c.id));
    for f in free {
        let sxplan_model::OperatingVar::ExtractionRatio(cid, k) = f.var else {
            continue;
        };
        let Some(sec) = c.sections.get(k).filter(|_| cid == c.id) else {
            continue;
        };
        if sec.kind == SectionKind::Scrub && scrub_at_capacity(design) {
            // The scrub stages load to capacity now; the ratio left to move is the last
            // stage's, f'_A/W = (f'_A/S) E'_M: the same range of W.
            let of = format!("{}.{}", c.name, sec.name);
            let sc = &design.shortcut;
            let per = sc.outlet.f_a / sc.chosen.s.max(f64::MIN_POSITIVE);
            let entry = format!(
                "{{ var = \"extraction_ratio\", of = \"{}.scrub_end\", min = {}, max = {} }}",
                toml_escape(&c.name),
                fmt_num(per * f.lower),
                fmt_num(per * f.upper)
            );
            if let Some(t) = sxplan_model::operating::replace_free_entry(
                &text,
                "extraction_ratio",
                &of,
                Some(&entry),
            ) {
                text = t;
            }
            continue;
        }
        if sec.kind != SectionKind::Extraction {
            continue;
        }
        let of = format!("{}.{}", c.name, sec.name);
        let q = designed_organic_flow(c, design);
        let e_m = design.shortcut.chosen.e_m;
        let entry = (!org_free && e_m > 0.0).then(|| {
            format!(
                "{{ var = \"organic_flow\", of = \"{}\", min = \"{} L/h\", max = \"{} L/h\" }}",
                toml_escape(&c.name),
                fmt_num(q * f.lower / e_m),
                fmt_num(q * f.upper / e_m)
            )
        });
        if let Some(t) = sxplan_model::operating::replace_free_entry(
            &text,
            "extraction_ratio",
            &of,
            entry.as_deref(),
        ) {
            text = t;
        }
    }
    let back = sxplan_model::check_str(&text);
    match back.flowsheet {
        Some(_) if back.error_count() == 0 => Ok(text),
        _ => {
            let first = back
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map_or_else(String::new, |d| format!(": {}", d.message));
            Err(format!(
                "the flowsheet with the designed circuit \"{}\" (extraction, scrub and strip sections, the default feed point) does not check{first}",
                c.name
            ))
        }
    }
}

/// The `[[feed]]` tables of the circuit `c`'s feed: the stream the cut was given (a simulated
/// stream entering the circuit) or the solution feeds linked to it, each sent `to` a port.
fn feed_tables(
    o: &mut String,
    fs: &Flowsheet,
    c: &sxplan_model::Circuit,
    cut: &CircuitCut,
    to: &str,
) {
    // The feed: the given stream, or the feeds linked to the circuit.
    if let Some(f) = &cut.feed_stream {
        let _ = writeln!(o, "\n[[feed]]");
        let _ = writeln!(o, "name = \"{}_feed\"", c.name);
        let phase = if f.phase == Phase::Organic {
            "organic"
        } else {
            "aqueous"
        };
        let _ = writeln!(o, "phase = \"{phase}\"");
        let _ = writeln!(o, "flow = \"{} L/h\"", fmt_num(f.flow_vol));
        let conc: Vec<String> = f
            .flow_mol
            .iter()
            .filter(|(_, v)| **v > 0.0 && f.flow_vol > 0.0)
            .map(|(e, v)| format!("{} = \"{} mol/L\"", e.symbol(), fmt_num(v / f.flow_vol)))
            .collect();
        let _ = writeln!(
            o,
            "conc = {{ {}, quality = \"estimated\", source = \"simulated stream entering circuit {} of {}\" }}",
            conc.join(", "),
            c.name,
            fs.name
        );
        let _ = writeln!(o, "to = \"{to}\"");
    }
    for (i, fp) in c.feed_points.iter().enumerate() {
        if cut.feed_stream.is_some() {
            break;
        }
        let Some(link) = fs
            .links
            .iter()
            .find(|l| l.to.node == NodeRef::Circuit(c.id) && l.to.kind == PortKind::FeedPoint(i))
        else {
            continue;
        };
        let NodeRef::Feed(fid) = link.from.node else {
            continue;
        };
        let Some(feed) = fs.feeds.iter().find(|f| f.id == fid) else {
            continue;
        };
        let (sol, phase) = match &feed.kind {
            FeedKind::Aqueous(s) => (s, "aqueous"),
            FeedKind::Organic(s) => (s, "organic"),
            FeedKind::Mud(_) => continue,
        };
        let _ = writeln!(o, "\n[[feed]]");
        let _ = writeln!(o, "name = \"{}\"", feed.name);
        let _ = writeln!(o, "phase = \"{phase}\"");
        let _ = writeln!(o, "flow = \"{} L/h\"", fmt_num(sol.flow_vol));
        if let Some(a) = sol.acid {
            let _ = writeln!(o, "acid = \"{}\"", acid_name(a));
        }
        let conc: Vec<String> = sol
            .conc_mol
            .iter()
            .map(|(e, v)| format!("{} = \"{} mol/L\"", e.symbol(), fmt_num(*v)))
            .collect();
        let prov = provenance(fs, &format!("feed \"{}\": composition", feed.name));
        let _ = writeln!(o, "conc = {{ {}{prov} }}", conc.join(", "));
        // The designed circuit has the default feed point only.
        let _ = fp;
        let _ = writeln!(o, "to = \"{to}\"");
    }
}

/// The designed `[[circuit]]` element (its header, sections, organic, solutions and
/// equilibrium tables) of `design` for the circuit `c` of `fs`: the part of
/// [`designed_circuit_toml`] that [`designed_flowsheet_toml`] puts in place of the old circuit.
fn circuit_block(
    o: &mut String,
    fs: &Flowsheet,
    c: &sxplan_model::Circuit,
    cut: &CircuitCut,
    design: &CutDesign,
) {
    let Some(best) = design.rigorous.best.as_ref() else {
        return;
    };
    let sc = &design.shortcut;
    // The circuit.
    let strip = c.section(SectionKind::Strip);
    let _ = writeln!(o, "\n[[circuit]]");
    let _ = writeln!(o, "name = \"{}\"", c.name);
    let _ = writeln!(o, "sections = [");
    let _ = writeln!(o, "    {{ kind = \"extraction\", stages = {} }},", best.n);
    // Xu's model fixes the organic REE flow leaving every extraction stage (S) and the aqueous
    // REE flow leaving every scrub stage (W); only the last scrub stage, where the organic leaves
    // as product (f'_A), has a different organic/aqueous ratio. It gets a section of its own.
    let scrub_last = if best.m >= 2 { "scrub_end" } else { "scrub" };
    if best.m >= 2 {
        let _ = writeln!(o, "    {{ kind = \"scrub\", stages = {} }},", best.m - 1);
        let _ = writeln!(
            o,
            "    {{ kind = \"scrub\", stages = 1, name = \"{scrub_last}\" }},"
        );
    } else {
        let _ = writeln!(o, "    {{ kind = \"scrub\", stages = 1 }},");
    }
    if let Some(s) = strip {
        let _ = writeln!(o, "    {{ kind = \"strip\", stages = {} }},", s.n_stages);
    }
    let _ = writeln!(o, "]");
    if sc.feed_phase == FeedPhase::Organic {
        let _ = writeln!(o, "feed_phase = \"organic\"");
    }
    let murphree = c.murphree.first().copied().unwrap_or(1.0);
    let _ = writeln!(o, "murphree = {}", fmt_num(murphree));
    // The circuit's stage capacities, by section name (the designed circuit keeps the names
    // of its extraction, scrub and strip sections; a limit on the scrub covers `scrub` only).
    let caps: Vec<String> = fs
        .capacities
        .iter()
        .filter(|k| k.circuit == c.id)
        .filter_map(|k| {
            let section = match k.section {
                None => String::new(),
                Some(i) => {
                    let s = c.sections.get(i)?;
                    matches!(
                        s.kind,
                        SectionKind::Extraction | SectionKind::Scrub | SectionKind::Strip
                    )
                    .then(|| format!("section = \"{}\", ", toml_escape(&s.name)))?
                }
            };
            Some(match k.limit {
                sxplan_model::CapacityLimit::MaxFlow { flow_vol } => {
                    format!("{{ {section}max_flow = \"{} L/h\" }}", fmt_num(flow_vol))
                }
                sxplan_model::CapacityLimit::MixerVolume {
                    volume,
                    residence_time,
                } => format!(
                    "{{ {section}mixer_volume = \"{} L\", residence_time = \"{} h\" }}",
                    fmt_num(volume),
                    fmt_num(residence_time)
                ),
            })
        })
        .collect();
    if !caps.is_empty() {
        let _ = writeln!(o, "capacity = [{}]", caps.join(", "));
    }

    let flows = design.flows.as_ref().and_then(|f| f.per_hour);
    let _ = writeln!(o, "\n[circuit.organic]");
    let _ = writeln!(o, "extractant = \"{}\"", c.organic.extractant);
    let _ = writeln!(o, "conc = \"{} mol/L\"", fmt_num(c.organic.conc_mol));
    if let Some(sap) = &c.organic.saponification {
        let _ = writeln!(
            o,
            "saponification = \"{} %\"",
            fmt_num(sap.fraction * 100.0)
        );
        let _ = writeln!(
            o,
            "agent = \"{}\"",
            match sap.agent {
                sxplan_model::Base::NaOH => "NaOH",
                sxplan_model::Base::NH3 => "NH3",
            }
        );
    }
    let org_flow = designed_organic_flow(c, design);
    let _ = writeln!(
        o,
        "flow = \"{} L/h\"{}",
        fmt_num(org_flow),
        if flows.is_some() {
            "   # carries S at the saponified capacity"
        } else {
            "   # kept from the flowsheet"
        }
    );
    for (kind, name, designed) in [
        (SectionKind::Scrub, "scrub", flows.map(|f| f.flow_vol_scrub)),
        (SectionKind::Strip, "strip", flows.map(|f| f.flow_vol_strip)),
    ] {
        let Some(sol) = c.solution(kind) else {
            continue;
        };
        let name = if kind == SectionKind::Scrub {
            scrub_last
        } else {
            name
        };
        let _ = writeln!(o, "\n[circuit.{}]", name);
        if let Some(a) = sol.acid {
            let _ = writeln!(o, "acid = \"{}\"", acid_name(a));
            let _ = writeln!(o, "conc = \"{} mol/L\"", fmt_num(sol.conc_mol));
        }
        let flow = designed.unwrap_or(sol.flow_vol);
        let _ = writeln!(
            o,
            "flow = \"{} L/h\"{}",
            fmt_num(flow),
            if designed.is_some() {
                "   # 3 H+ per mol REE (stoichiometric plus acid_excess)"
            } else {
                "   # kept from the flowsheet"
            }
        );
    }

    let _ = writeln!(o, "\n[circuit.equilibrium]");
    let _ = writeln!(o, "model = \"separation_factor\"");
    if let Equilibrium::SeparationFactor(m) = &c.equilibrium {
        let beta: Vec<String> = m
            .beta
            .iter()
            .map(|(e, v)| format!("{} = {}", e.symbol(), fmt_num(*v)))
            .collect();
        let prov = provenance(
            fs,
            &format!("circuit \"{}\": relative extractabilities beta", c.name),
        );
        let _ = writeln!(o, "beta = {{ {}{prov} }}", beta.join(", "));
        let scrub_beta = c
            .sections
            .iter()
            .position(|s| s.kind == SectionKind::Scrub)
            .and_then(|i| m.beta_section.get(i).cloned().flatten());
        if let Some(bs) = scrub_beta {
            let v: Vec<String> = bs
                .iter()
                .map(|(e, v)| format!("{} = {}", e.symbol(), fmt_num(*v)))
                .collect();
            let v = v.join(", ");
            if best.m >= 2 {
                let _ = writeln!(
                    o,
                    "beta_section = {{ scrub = {{ {v} }}, {scrub_last} = {{ {v} }} }}"
                );
            } else {
                let _ = writeln!(o, "beta_section = {{ scrub = {{ {v} }} }}");
            }
        }
    }
    // Extraction section: the organic leaves every stage carrying S, i.e. loaded to S F / Q_org.
    let loading = sc.chosen.s * cut.feed_rate / org_flow;
    let _ = writeln!(
        o,
        "loading_capacity = \"{} mol/L\"   # S x feed / organic flow: S leaves every extraction stage",
        fmt_num(loading)
    );
    let last_ratio = sc.outlet.f_a / sc.chosen.w;
    if best.m >= 2 && scrub_at_capacity(design) {
        // Aqueous feed: Xu's organic REE flow is S in the scrub stages too (S = W + f'_A), so
        // they load to the same capacity as the extraction stages. This is the formulation of
        // the design's own cascade (every stage's organic REE flow fixed); with E'_M instead
        // the flowsheet simulator's Newton did not converge a concentrated 15-element cut.
        let _ = writeln!(
            o,
            "extraction_ratio = {{ extraction = \"capacity\", scrub = \"capacity\", {scrub_last} = {} }}   # scrub: S, as extraction (E'_M = {})",
            fmt_num(last_ratio),
            fmt_num(sc.chosen.e_prime_m)
        );
    } else if best.m >= 2 {
        let _ = writeln!(
            o,
            "extraction_ratio = {{ extraction = \"capacity\", scrub = {}, {scrub_last} = {} }}",
            fmt_num(sc.chosen.e_prime_m),
            fmt_num(last_ratio)
        );
    } else {
        let _ = writeln!(
            o,
            "extraction_ratio = {{ extraction = \"capacity\", scrub = {} }}",
            fmt_num(last_ratio)
        );
    }
    let _ = writeln!(
        o,
        "source = \"sxplan design: Xu's constant mixed extraction ratios at W/W_min = {:.4} (E_M = {:.6}, E'_M = {:.6}; last scrub stage f'_A/W)\"",
        sc.w_over_w_min, sc.chosen.e_m, sc.chosen.e_prime_m
    );
}

/// True when the designed circuit loads its scrub stages (all but the last) to capacity, as its
/// extraction stages: an aqueous feed with two or more scrub stages.
fn scrub_at_capacity(design: &CutDesign) -> bool {
    design.shortcut.feed_phase == FeedPhase::Aqueous
        && design.rigorous.best.as_ref().is_some_and(|b| b.m >= 2)
}

/// The port a stream at `port` comes from once traced back through linear units (a unit's
/// inlet is fed by one link): the circuit outlet a product of a precipitation and calcination
/// line is drawn from. `None` when the trace meets a unit with no inlet link.
fn source_port(fs: &Flowsheet, port: sxplan_model::Port) -> Option<sxplan_model::Port> {
    let mut at = port;
    for _ in 0..=fs.units.len() {
        let NodeRef::Unit(u) = at.node else {
            return Some(at);
        };
        at = fs
            .links
            .iter()
            .find(|l| l.to.node == NodeRef::Unit(u))?
            .from;
    }
    None
}

/// The organic flow the designed circuit runs at, L/h: the design's, from its reagent figures,
/// or the flowsheet's when the design has none.
fn designed_organic_flow(c: &sxplan_model::Circuit, design: &CutDesign) -> f64 {
    design
        .flows
        .as_ref()
        .and_then(|f| f.per_hour)
        .map_or(c.organic.flow_vol, |f| f.flow_vol_org)
}

/// The circuit name of a cut of a synthesized train: its light and heavy key (`NdSm`).
pub fn train_circuit_name(cut: &crate::synthesis::SynthCut) -> String {
    format!("{}{}", cut.key_b, cut.key_a)
}

/// A synthesized train as a flowsheet, before its circuits are designed: the feed of circuit
/// `cut.circuit` of `fs` (the stream entering it), one separation-factor circuit per cut of
/// `train` named by its keys ([`train_circuit_name`]), with the source circuit's extractant,
/// saponification, scrub and strip acids and betas, Xu's stage numbers and extraction ratios
/// from the shortcut (E_M = S/(W + 1), E'_M = S/W per mol of the cut's feed), the links of
/// the tree (raffinate to the light side, strip liquor to the heavy side), and one product
/// per leaf with its mole purity. `sxplan synthesize --out` designs every circuit of it in
/// turn with `sxplan design`.
pub fn train_flowsheet_toml(
    fs: &Flowsheet,
    cut: &CircuitCut,
    synthesis: &crate::synthesis::Synthesis,
    train: &crate::synthesis::Train,
) -> Result<String, String> {
    use crate::synthesis::Tree;
    let c = fs
        .circuit_by_name(&cut.circuit)
        .ok_or_else(|| format!("the flowsheet has no circuit \"{}\"", cut.circuit))?;
    let Equilibrium::SeparationFactor(model) = &c.equilibrium else {
        return Err(format!(
            "circuit \"{}\" has no separation_factor model to take the betas from",
            c.name
        ));
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Separation train {} synthesized by `sxplan synthesize` ({} objective) for the feed of circuit \"{}\" of flowsheet \"{}\".",
        train.notation,
        synthesis.objective.as_str(),
        c.name,
        fs.name
    );
    let _ = writeln!(o, "schema = 1");
    let _ = writeln!(o, "name = \"{}-train\"", toml_escape(&fs.name));
    let _ = writeln!(
        o,
        "description = \"{} cuts for {} products: {}\"",
        train.tree.cuts().len(),
        synthesis.products.len(),
        toml_escape(&train.notation)
    );
    let root = match &train.tree {
        Tree::Cut { cut, .. } => train_circuit_name(&synthesis.cuts[*cut]),
        Tree::Product(_) => {
            return Err("the train has no cut: one product needs no separation".into())
        }
    };
    feed_tables(&mut o, fs, c, cut, &format!("{root}.feed"));
    let strip_stages = c.section(SectionKind::Strip).map_or(5, |s| s.n_stages);
    let beta: Vec<String> = model
        .beta
        .iter()
        .map(|(e, v)| format!("{} = {}", e.symbol(), fmt_num(*v)))
        .collect();
    let prov = provenance(
        fs,
        &format!("circuit \"{}\": relative extractabilities beta", c.name),
    );
    let total_feed = cut.feed_rate; // mol/h into the train
                                    // pre-order walk: each cut's circuit, then where its two outlets go
    let mut stack: Vec<(&Tree, String)> = vec![(&train.tree, String::new())];
    while let Some((t, from)) = stack.pop() {
        match t {
            Tree::Product(p) => {
                let prod = &synthesis.products[*p];
                let _ = writeln!(o, "\n[[product]]");
                let _ = writeln!(o, "name = \"{}\"", toml_escape(&prod.name));
                let _ = writeln!(o, "from = \"{from}\"");
                let _ = writeln!(o, "kind = \"aqueous\"");
                let els: Vec<&str> = prod.elements.iter().map(String::as_str).collect();
                let _ = writeln!(
                    o,
                    "purity = {{ {}, min = \"{} %\", basis = \"mole\" }}",
                    purity_elements(&els),
                    fmt_num(prod.purity * 100.0)
                );
            }
            Tree::Cut {
                cut: k,
                light,
                heavy,
            } => {
                let sc = &synthesis.cuts[*k];
                let name = train_circuit_name(sc);
                if !from.is_empty() {
                    let _ = writeln!(o, "\n[[link]]");
                    let _ = writeln!(o, "from = \"{from}\"");
                    let _ = writeln!(o, "to = \"{name}.feed\"");
                }
                let f = total_feed * sc.feed_fraction; // mol/h into this cut
                let sap = c.organic.saponification.as_ref();
                // organic flow that holds S at 50 % of what the saponified extractant can
                // load (without saponification, at 40 % of its stoichiometric loading)
                let hold = 0.5 * sap.map_or(0.5, |s| s.fraction) * c.organic.conc_mol / 3.0;
                let org = (sc.s * f / hold.max(1e-9)).max(1.0);
                let _ = writeln!(o, "\n[[circuit]]");
                let _ = writeln!(
                    o,
                    "# cut {} | {} (keys {}/{}, beta {:.4}), shortcut {} + {} stages",
                    sc.light.join("+"),
                    sc.heavy.join("+"),
                    sc.key_a,
                    sc.key_b,
                    sc.beta,
                    sc.n,
                    sc.m
                );
                let _ = writeln!(o, "name = \"{name}\"");
                let _ = writeln!(
                    o,
                    "sections = [{{ kind = \"extraction\", stages = {} }}, {{ kind = \"scrub\", stages = {} }}, {{ kind = \"strip\", stages = {strip_stages} }}]",
                    sc.n.max(1),
                    sc.m.max(1)
                );
                let sap_text = sap.map_or(String::new(), |s| {
                    format!(
                        ", saponification = \"{} %\", agent = \"{}\"",
                        fmt_num(s.fraction * 100.0),
                        match s.agent {
                            sxplan_model::Base::NaOH => "NaOH",
                            sxplan_model::Base::NH3 => "NH3",
                        }
                    )
                });
                let _ = writeln!(
                    o,
                    "organic = {{ extractant = \"{}\", conc = \"{} mol/L\"{sap_text}, flow = \"{} L/h\" }}",
                    c.organic.extractant,
                    fmt_num(c.organic.conc_mol),
                    fmt_num(org)
                );
                for (key, sol, amount) in [
                    ("scrub", c.scrub_solution(), 3.0 * sc.w * f),
                    ("strip", c.strip_solution(), 3.0 * 1.2 * sc.s * f),
                ] {
                    let Some(sol) = sol else { continue };
                    let acid = sol.acid.map_or("HCl", acid_name);
                    let conc = sol.conc_h().max(0.1);
                    let _ = writeln!(
                        o,
                        "{key} = {{ acid = \"{acid}\", conc = \"{} mol/L\", flow = \"{} L/h\" }}",
                        fmt_num(sol.conc_mol),
                        fmt_num((amount / conc).max(1.0))
                    );
                }
                let _ = writeln!(o, "\n[circuit.equilibrium]");
                let _ = writeln!(o, "model = \"separation_factor\"");
                let _ = writeln!(o, "beta = {{ {}{prov} }}", beta.join(", "));
                let e_m = sc.s / (sc.w + 1.0);
                let e_pm = sc.s / sc.w.max(f64::MIN_POSITIVE);
                let _ = writeln!(
                    o,
                    "extraction_ratio = {{ extraction = {}, scrub = {} }}   # Xu's optimum: S/(W + 1), S/W",
                    fmt_num(e_m),
                    fmt_num(e_pm)
                );
                // heavy pushed first so the light side is written first
                stack.push((heavy, format!("{name}.strip_liquor")));
                stack.push((light, format!("{name}.raffinate")));
            }
        }
    }
    Ok(o)
}

/// `, quality = "...", source = "..."` of a datum the flowsheet recorded, or empty.
fn provenance(fs: &Flowsheet, item: &str) -> String {
    let Some(d) = fs.data_used.iter().find(|d| d.item == item) else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(q) = d.quality {
        let _ = write!(out, ", quality = \"{}\"", q.as_str());
    }
    if let Some(src) = d.source.strip_prefix("flowsheet: ") {
        let _ = write!(out, ", source = \"{}\"", toml_escape(src));
    }
    out
}

fn toml_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect()
}

fn purity_elements(names: &[&str]) -> String {
    if names.len() == 1 {
        format!("element = \"{}\"", names[0])
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        format!("elements = [{}]", quoted.join(", "))
    }
}

/// Shortest round-trip decimal of a finite float, always with a decimal point or exponent.
/// A fraction for a message: at most 8 decimals, no round-off tail (0.999, not 0.9990000000000001).
fn short(v: f64) -> String {
    let s = format!("{v:.8}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}
