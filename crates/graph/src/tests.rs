//! Tests of the stage-graph expansion and topology on small hand-built flowsheets.

use std::collections::BTreeMap;

use sxplan_chem::Element;
use sxplan_model::*;

use super::*;

fn section(
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

fn acid(flow: f64, stage: usize) -> Option<AqueousSolution> {
    Some(AqueousSolution {
        acid: Some(Acid::HCl),
        conc_mol: 1.0,
        flow_vol: flow,
        stage,
    })
}

fn circuit(id: usize, name: &str, n_ext: usize, n_scrub: usize, n_strip: usize) -> Circuit {
    let mut sections = vec![section(SectionKind::Extraction, n_ext, 1, false, None)];
    sections.push(section(
        SectionKind::Scrub,
        n_scrub,
        n_ext + 1,
        true,
        acid(10.0, n_ext + n_scrub),
    ));
    if n_strip > 0 {
        sections.push(section(
            SectionKind::Strip,
            n_strip,
            n_ext + n_scrub + 1,
            false,
            acid(5.0, n_ext + n_scrub + n_strip),
        ));
    }
    let d: BTreeMap<Element, StageValues> = [
        (Element::Pr, StageValues::Uniform(0.8)),
        (Element::Nd, StageValues::Uniform(1.6)),
    ]
    .into();
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
            flow_vol: 20.0,
        },
        equilibrium: Equilibrium::Distribution(DistributionModel { d_ratio: d }),
    }
}

fn empty(name: &str) -> Flowsheet {
    Flowsheet {
        name: name.into(),
        schema: SCHEMA_VERSION,
        description: None,
        elements: vec![Element::Pr, Element::Nd],
        feeds: vec![Feed {
            id: FeedId(0),
            name: "liquor".into(),
            kind: FeedKind::Aqueous(SolutionFeed {
                flow_vol: 10.0,
                conc_mol: [(Element::Pr, 0.1), (Element::Nd, 0.3)].into(),
                acid: Some(Acid::HCl),
                conc_h: 0.01,
            }),
        }],
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
        data_used: Vec::new(),
        data_overrides: Vec::new(),
    }
}

fn port(node: NodeRef, kind: PortKind) -> Port {
    Port { node, kind }
}

fn link(from: Port, to: Port, phase: Phase) -> Link {
    Link { from, to, phase }
}

/// One circuit (4 extraction + 3 scrub), feed linked, outlets unlinked.
pub(crate) fn one_circuit() -> Flowsheet {
    let mut fs = empty("one");
    fs.circuits.push(circuit(0, "PrNd", 4, 3, 0));
    fs.links.push(link(
        port(NodeRef::Feed(FeedId(0)), PortKind::Outlet(0)),
        port(NodeRef::Circuit(CircuitId(0)), PortKind::FeedPoint(0)),
        Phase::Aqueous,
    ));
    fs
}

/// Two circuits: the first with a strip whose liquor is split, part refluxed to its own scrub;
/// stripped organic recirculated through a splitter (purge) and a mixer (make-up) to stage 1;
/// the raffinate feeds the second circuit.
pub(crate) fn two_circuits() -> Flowsheet {
    let mut fs = empty("two");
    fs.circuits.push(circuit(0, "A", 3, 2, 2));
    fs.circuits.push(circuit(1, "B", 2, 2, 0));
    fs.feeds.push(Feed {
        id: FeedId(1),
        name: "makeup".into(),
        kind: FeedKind::Organic(SolutionFeed {
            flow_vol: 1.0,
            conc_mol: BTreeMap::new(),
            acid: None,
            conc_h: 0.0,
        }),
    });
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
    fs.products.push(Product {
        id: ProductId(0),
        name: "Nd".into(),
        from: port(NodeRef::Splitter(SplitterId(0)), PortKind::Outlet(1)),
        kind: ProductKind::Aqueous,
        purity: None,
        recovery: Vec::new(),
    });
    let c0 = NodeRef::Circuit(CircuitId(0));
    let c1 = NodeRef::Circuit(CircuitId(1));
    let sp0 = NodeRef::Splitter(SplitterId(0));
    let sp1 = NodeRef::Splitter(SplitterId(1));
    let mx = NodeRef::Mixer(MixerId(0));
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

#[test]
fn one_circuit_counts() {
    let g = StageGraph::build(&one_circuit()).unwrap();
    assert_eq!(g.n_stages(), 7);
    // 6 organic + 6 aqueous internal (scrub passes into extraction), feed link, scrub solution,
    // fresh organic, raffinate outlet, loaded organic outlet.
    let internal = g.streams().iter().filter(|s| s.internal).count();
    assert_eq!(internal, 12);
    assert_eq!(g.n_streams(), 17);
    assert_eq!(g.n_recycles(), 0);
    assert!(g.stages().iter().take(6).all(|s| s.aqueous_from_next));
    // The order puts the feed and the sources before the circuit.
    let pos = |pred: &dyn Fn(&Block) -> bool| {
        g.order()
            .iter()
            .position(|b| pred(&g.blocks()[b.0]))
            .unwrap()
    };
    let circuit_pos = pos(&|b| matches!(b, Block::Circuit { .. }));
    for (k, b) in g.order().iter().enumerate() {
        if let Block::Node { node } = &g.blocks()[b.0] {
            if g.node(*node).kind.is_source() {
                assert!(k < circuit_pos);
            }
            if g.node(*node).kind.is_sink() {
                assert!(k > circuit_pos);
            }
        }
    }
}

#[test]
fn two_circuits_recycles_and_sections() {
    let g = StageGraph::build(&two_circuits()).unwrap();
    assert_eq!(g.n_stages(), 11);
    // Two loops: strip liquor -> splitter -> scrub, stripped organic -> bleed -> mixer -> stage 1.
    assert_eq!(g.n_recycles(), 2);
    assert_eq!(g.recycle_groups().len(), 1);
    // Strip section does not pass aqueous into the scrub: stage 5 (last scrub) has no aqueous from 6.
    let a = g.circuit_stages(CircuitId(0));
    assert!(!g.stage(a[4]).aqueous_from_next);
    assert!(g.stage(a[5]).aqueous_from_next);
    assert!(!g.stage(a[6]).aqueous_from_next);
    // Every block appears once in the order.
    let mut seen: Vec<usize> = g.order().iter().map(|b| b.0).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..g.blocks().len()).collect::<Vec<_>>());
    // Without the tears, every block comes after the blocks that feed it.
    let pos: BTreeMap<usize, usize> = g
        .order()
        .iter()
        .enumerate()
        .map(|(k, b)| (b.0, k))
        .collect();
    for s in g.streams() {
        if s.internal || g.tears().contains(&s.id) {
            continue;
        }
        let fb = g.node(s.from).block.0;
        let tb = g.node(s.to).block.0;
        assert!(pos[&fb] < pos[&tb], "{}", s.name);
    }
    let dot = g.to_dot();
    assert!(dot.starts_with("digraph stage_graph {"));
    assert_eq!(dot.matches("style=dashed").count(), 2);
}

#[test]
fn bad_feed_stage_is_an_error() {
    let mut fs = one_circuit();
    fs.circuits[0].feed_points[0].stage = 40;
    let err = StageGraph::build(&fs).unwrap_err().to_string();
    assert!(err.contains("stage 40 is outside 1..=7"), "{err}");
}
