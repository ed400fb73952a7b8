//! Hand-built flowsheets for the simulation tests (the TOML front end is tested elsewhere).

#![allow(dead_code)]

use std::collections::BTreeMap;

use sxplan_chem::Element;
use sxplan_model::*;

pub fn section(
    kind: SectionKind,
    n: usize,
    first: usize,
    to_prev: bool,
    sol: Option<AqueousSolution>,
) -> Section {
    Section {
        kind,
        name: kind.as_str().to_string(),
        n_stages: n,
        first_stage: first,
        aqueous_to_previous: to_prev,
        solution: sol,
    }
}

pub fn acid(conc: f64, flow: f64, stage: usize) -> Option<AqueousSolution> {
    Some(AqueousSolution {
        acid: Some(Acid::HCl),
        conc_mol: conc,
        flow_vol: flow,
        stage,
    })
}

pub fn port(node: NodeRef, kind: PortKind) -> Port {
    Port { node, kind }
}

pub fn link(from: Port, to: Port, phase: Phase) -> Link {
    Link { from, to, phase }
}

pub fn empty(name: &str, elements: Vec<Element>) -> Flowsheet {
    Flowsheet {
        name: name.into(),
        schema: SCHEMA_VERSION,
        description: None,
        elements,
        feeds: Vec::new(),
        circuits: Vec::new(),
        units: Vec::new(),
        splitters: Vec::new(),
        mixers: Vec::new(),
        purges: Vec::new(),
        products: Vec::new(),
        links: Vec::new(),
        capacities: Vec::new(),
        prices: None,
        optimize: None,
        solver: Default::default(),
        plant: Default::default(),
        data_used: Vec::new(),
        data_overrides: Vec::new(),
    }
}

pub fn aq_feed(id: usize, name: &str, flow: f64, conc: &[(Element, f64)], conc_h: f64) -> Feed {
    Feed {
        id: FeedId(id),
        name: name.into(),
        kind: FeedKind::Aqueous(SolutionFeed {
            flow_vol: flow,
            conc_mol: conc.iter().copied().collect(),
            acid: Some(Acid::HCl),
            conc_h,
        }),
    }
}

/// A circuit with extraction (feed at its last stage), scrub, optional strip.
#[allow(clippy::too_many_arguments)]
pub fn circuit(
    id: usize,
    name: &str,
    n_ext: usize,
    n_scrub: usize,
    n_strip: usize,
    scrub: (f64, f64),
    strip: (f64, f64),
    organic_flow: f64,
    equilibrium: Equilibrium,
) -> Circuit {
    let mut sections = vec![section(SectionKind::Extraction, n_ext, 1, false, None)];
    if n_scrub > 0 {
        sections.push(section(
            SectionKind::Scrub,
            n_scrub,
            n_ext + 1,
            true,
            acid(scrub.0, scrub.1, n_ext + n_scrub),
        ));
    }
    if n_strip > 0 {
        sections.push(section(
            SectionKind::Strip,
            n_strip,
            n_ext + n_scrub + 1,
            false,
            acid(strip.0, strip.1, n_ext + n_scrub + n_strip),
        ));
    }
    Circuit {
        id: CircuitId(id),
        name: name.into(),
        murphree: vec![1.0; sections.len()],
        sections,
        feed_points: vec![FeedPoint {
            name: "feed".into(),
            stage: n_ext,
            phase: Phase::Aqueous,
        }],
        organic: Organic {
            extractant: "P507".into(),
            conc_mol: 1.5,
            saponification: None,
            flow_vol: organic_flow,
        },
        equilibrium,
    }
}

pub fn distribution(d: &[(Element, StageValues)]) -> Equilibrium {
    Equilibrium::Distribution(DistributionModel {
        d_ratio: d.iter().cloned().collect::<BTreeMap<_, _>>(),
    })
}

pub fn feed_to_circuit(fs: &mut Flowsheet, feed: usize, circuit: usize) {
    fs.links.push(link(
        port(NodeRef::Feed(FeedId(feed)), PortKind::Outlet(0)),
        port(NodeRef::Circuit(CircuitId(circuit)), PortKind::FeedPoint(0)),
        Phase::Aqueous,
    ));
}

pub fn product(
    fs: &mut Flowsheet,
    name: &str,
    from: Port,
    kind: ProductKind,
    purity: Option<PuritySpec>,
) {
    let id = ProductId(fs.products.len());
    fs.products.push(Product {
        id,
        name: name.into(),
        from,
        kind,
        purity,
        recovery: Vec::new(),
    });
}

/// Pr/Nd split with a constant-D circuit: 8 extraction + 8 scrub + 4 strip.
pub fn prnd_distribution() -> Flowsheet {
    let mut fs = empty("prnd-distribution", vec![Element::Pr, Element::Nd]);
    fs.feeds.push(aq_feed(
        0,
        "liquor",
        100.0,
        &[(Element::Pr, 0.1), (Element::Nd, 0.3)],
        0.01,
    ));
    let d = |sx: f64, strip: f64| StageValues::PerSection(vec![sx, sx, strip]);
    fs.circuits.push(circuit(
        0,
        "PrNd",
        8,
        8,
        4,
        (0.5, 40.0),
        (3.0, 30.0),
        150.0,
        distribution(&[(Element::Pr, d(0.55, 0.01)), (Element::Nd, d(1.1, 0.02))]),
    ));
    feed_to_circuit(&mut fs, 0, 0);
    let c0 = NodeRef::Circuit(CircuitId(0));
    product(
        &mut fs,
        "Pr",
        port(c0, PortKind::Raffinate),
        ProductKind::Aqueous,
        None,
    );
    product(
        &mut fs,
        "Nd",
        port(c0, PortKind::StripLiquor),
        ProductKind::Aqueous,
        None,
    );
    fs
}

/// Two circuits: A (extraction, scrub, strip) with part of its strip liquor refluxed to its own
/// scrub and its stripped organic recirculated (bleed + make-up); A's raffinate feeds B.
pub fn two_circuits(
    equilibrium_a: Equilibrium,
    equilibrium_b: Equilibrium,
    elements: Vec<Element>,
    feed: &[(Element, f64)],
) -> Flowsheet {
    let mut fs = empty("two-circuits", elements);
    fs.feeds.push(aq_feed(0, "liquor", 100.0, feed, 0.01));
    fs.feeds.push(Feed {
        id: FeedId(1),
        name: "makeup".into(),
        kind: FeedKind::Organic(SolutionFeed {
            flow_vol: 7.5,
            conc_mol: BTreeMap::new(),
            acid: None,
            conc_h: 0.0,
        }),
    });
    fs.circuits.push(circuit(
        0,
        "A",
        6,
        6,
        3,
        (0.5, 30.0),
        (3.0, 20.0),
        150.0,
        equilibrium_a,
    ));
    fs.circuits.push(circuit(
        1,
        "B",
        5,
        5,
        3,
        (0.5, 30.0),
        (3.0, 20.0),
        150.0,
        equilibrium_b,
    ));
    fs.splitters.push(Splitter {
        id: SplitterId(0),
        name: "reflux".into(),
        outlets: vec![("back".into(), 0.3), ("product".into(), 0.7)],
    });
    fs.splitters.push(Splitter {
        id: SplitterId(1),
        name: "bleed".into(),
        outlets: vec![("keep".into(), 0.95), ("purge".into(), 0.05)],
    });
    fs.mixers.push(Mixer {
        id: MixerId(0),
        name: "orgmix".into(),
        n_inlets: 2,
    });
    fs.purges.push(Purge {
        id: PurgeId(0),
        name: "orgbleed".into(),
    });
    let c0 = NodeRef::Circuit(CircuitId(0));
    let c1 = NodeRef::Circuit(CircuitId(1));
    let sp0 = NodeRef::Splitter(SplitterId(0));
    let sp1 = NodeRef::Splitter(SplitterId(1));
    let mx = NodeRef::Mixer(MixerId(0));
    product(
        &mut fs,
        "A-heavy",
        port(sp0, PortKind::Outlet(1)),
        ProductKind::Aqueous,
        None,
    );
    product(
        &mut fs,
        "B-light",
        port(c1, PortKind::Raffinate),
        ProductKind::Aqueous,
        None,
    );
    product(
        &mut fs,
        "B-heavy",
        port(c1, PortKind::StripLiquor),
        ProductKind::Aqueous,
        None,
    );
    fs.links = vec![
        link(
            port(NodeRef::Feed(FeedId(0)), PortKind::Outlet(0)),
            port(c0, PortKind::FeedPoint(0)),
            Phase::Aqueous,
        ),
        link(
            port(c0, PortKind::StripLiquor),
            port(sp0, PortKind::Inlet(0)),
            Phase::Aqueous,
        ),
        link(
            port(sp0, PortKind::Outlet(0)),
            port(c0, PortKind::ScrubInlet),
            Phase::Aqueous,
        ),
        link(
            port(sp0, PortKind::Outlet(1)),
            port(NodeRef::Product(ProductId(0)), PortKind::Inlet(0)),
            Phase::Aqueous,
        ),
        link(
            port(c0, PortKind::StrippedOrganic),
            port(sp1, PortKind::Inlet(0)),
            Phase::Organic,
        ),
        link(
            port(sp1, PortKind::Outlet(0)),
            port(mx, PortKind::Inlet(0)),
            Phase::Organic,
        ),
        link(
            port(sp1, PortKind::Outlet(1)),
            port(NodeRef::Purge(PurgeId(0)), PortKind::Inlet(0)),
            Phase::Organic,
        ),
        link(
            port(NodeRef::Feed(FeedId(1)), PortKind::Outlet(0)),
            port(mx, PortKind::Inlet(1)),
            Phase::Organic,
        ),
        link(
            port(mx, PortKind::Outlet(0)),
            port(c0, PortKind::OrganicInlet),
            Phase::Organic,
        ),
        link(
            port(c0, PortKind::Raffinate),
            port(c1, PortKind::FeedPoint(0)),
            Phase::Aqueous,
        ),
    ];
    fs
}

/// Mass-action parameters for a list of elements (illustrative K values for tests only).
pub fn mass_action(params: &[(Element, f64)], capacity: Option<f64>) -> Equilibrium {
    Equilibrium::MassAction(MassActionModel {
        params: params
            .iter()
            .map(|(e, k)| {
                (
                    *e,
                    MassActionParams {
                        k_ex: *k,
                        n_extractant: 3.0,
                        z_proton: 3.0,
                    },
                )
            })
            .collect(),
        loading_capacity: capacity,
    })
}

/// Mass action with extraction constants rising geometrically along `elements`:
/// `K_i = k0 * ratio^i` (illustrative test constants: heavier elements more extractable).
pub fn mass_action_ladder(elements: &[Element], k0: f64, ratio: f64) -> Equilibrium {
    mass_action(
        &elements
            .iter()
            .enumerate()
            .map(|(i, e)| (*e, k0 * ratio.powi(i as i32)))
            .collect::<Vec<_>>(),
        None,
    )
}

/// Largest relative difference of any stream's element flow between two results of the same
/// flowsheet (floor: 1e-12 of what the feeds bring of the element).
pub fn stream_flow_difference(a: &sxplan_sim::SimResult, b: &sxplan_sim::SimResult) -> f64 {
    let mut worst: f64 = 0.0;
    for (s, t) in a.streams.iter().zip(&b.streams) {
        for (e, v) in &s.flow_mol_per_h {
            let w = t.flow_mol_per_h[e];
            let floor = 1e-12 * a.mass_balance.per_element[e].in_mol_per_h;
            let d = (v - w).abs() / v.abs().max(w.abs()).max(floor).max(f64::MIN_POSITIVE);
            worst = worst.max(d);
        }
    }
    worst
}
