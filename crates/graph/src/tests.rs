//! Tests of the stage-graph expansion and topology on small hand-built flowsheets.

use std::collections::BTreeMap;

use sxplan_model::*;

use super::*;

/// A flowsheet written in the language and checked: the fixtures are built the way users build
/// them, so they stay valid as the model grows (no hand-assembled `Flowsheet` structs).
fn checked(src: &str) -> Flowsheet {
    let out = check_str(src);
    assert!(
        out.diagnostics.iter().all(|d| !d.is_error()),
        "{}",
        render_text("fixture.toml", src, &out.diagnostics)
    );
    out.flowsheet.unwrap_or_else(|| panic!("fixture rejected"))
}

const FEED: &str = r#"schema = 1
name = "fixture"

[[feed]]
name = "liquor"
flow = "10 L/h"
acid = "HCl"
acidity = "0.01 mol/L"
conc = { Pr = "0.1 mol/L", Nd = "0.3 mol/L", quality = "illustrative" }
to = "A.feed"
"#;

/// `[[circuit]]` named `name` with extraction, scrub (fresh acid at its top) and, when
/// `n_strip > 0`, strip sections; Pr/Nd distribution model.
fn circuit(name: &str, n_ext: usize, n_scrub: usize, n_strip: usize) -> String {
    let strip = if n_strip > 0 {
        format!(", {{ kind = \"strip\", stages = {n_strip} }}")
    } else {
        String::new()
    };
    let strip_solution = if n_strip > 0 {
        "strip = { acid = \"HCl\", conc = \"1 mol/L\", flow = \"5 L/h\" }\n"
    } else {
        ""
    };
    format!(
        r#"
[[circuit]]
name = "{name}"
sections = [{{ kind = "extraction", stages = {n_ext} }}, {{ kind = "scrub", stages = {n_scrub} }}{strip}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "20 L/h" }}
scrub = {{ acid = "HCl", conc = "1 mol/L", flow = "10 L/h" }}
{strip_solution}equilibrium = {{ model = "distribution", d = {{ Pr = 0.8, Nd = 1.6 }}, quality = "illustrative" }}
"#
    )
}

/// One circuit (4 extraction + 3 scrub), feed linked, outlets unlinked.
pub(crate) fn one_circuit() -> Flowsheet {
    checked(&format!("{FEED}{}", circuit("A", 4, 3, 0)))
}

/// Two circuits: the first with a strip whose liquor is split, part refluxed to its own scrub;
/// stripped organic recirculated through a splitter (purge) and a mixer (make-up) to stage 1;
/// the raffinate feeds the second circuit.
pub(crate) fn two_circuits() -> Flowsheet {
    let plant = r#"
[[feed]]
name = "makeup"
phase = "organic"
flow = "1 L/h"
conc = {}
to = "orgmix.inlet2"

[[splitter]]
name = "reflux"
from = "A.strip_liquor"
outlets = { back = 0.3, product = 0.7 }

[[link]]
from = "reflux.back"
to = "A.scrub_inlet"

[[product]]
name = "Nd"
from = "reflux.product"

[[splitter]]
name = "bleed"
from = "A.stripped_organic"
outlets = { keep = 0.95, purge = 0.05 }

[[purge]]
name = "orgbleed"
from = "bleed.purge"

[[mixer]]
name = "orgmix"
inlets = 2
to = "A.organic_inlet"

[[link]]
from = "bleed.keep"
to = "orgmix.inlet1"

[[link]]
from = "A.raffinate"
to = "B.feed"
"#;
    checked(&format!(
        "{FEED}{}{}{plant}",
        circuit("A", 3, 2, 2),
        circuit("B", 2, 2, 0)
    ))
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

#[test]
fn every_unlinked_section_outlet_gets_one_sink_and_a_linked_one_none() {
    // Extraction + three wash sections, each with water; the second wash's outlet is linked to a
    // purge, the others leave the plant through outlet sinks.
    let src = format!(
        r#"{FEED}
[[circuit]]
name = "A"
sections = [{{ kind = "extraction", stages = 2 }}, {{ kind = "wash", stages = 1, name = "w1" }}, {{ kind = "wash", stages = 2, name = "w2" }}, {{ kind = "wash", stages = 1, name = "w3" }}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "20 L/h" }}
w1 = {{ flow = "1 L/h" }}
w2 = {{ flow = "1 L/h" }}
w3 = {{ flow = "1 L/h" }}
equilibrium = {{ model = "distribution", d = {{ Pr = 0.8, Nd = 1.6 }}, quality = "illustrative" }}

[[purge]]
name = "bleed"
from = "A.w2_outlet"
"#
    );
    let g = StageGraph::build(&checked(&src)).unwrap();
    let sinks: Vec<&str> = g
        .nodes()
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Outlet { .. }))
        .map(|n| n.name.as_str())
        .collect();
    // raffinate, w1 and w3 outlets, loaded organic; w2 goes to the purge
    assert_eq!(sinks.len(), 4, "{sinks:?}");
    assert!(!sinks.iter().any(|s| s.contains("section2")), "{sinks:?}");
    assert_eq!(
        g.nodes()
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Purge { .. }))
            .count(),
        1
    );
    // Aqueous passes down only inside w2 (stages 4 -> 3) and inside the extraction section.
    let down: Vec<usize> = g
        .stages()
        .iter()
        .filter(|s| s.aqueous_from_next)
        .map(|s| s.number)
        .collect();
    assert_eq!(down, [1, 4]);
}
