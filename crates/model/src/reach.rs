//! Aqueous reach: which circuit stages some aqueous flow can reach, decided from the topology and
//! the written flows alone, so that `check` refuses a cascade with dry stages (error `E0507`)
//! before `simulate` would.
//!
//! Inside a circuit the aqueous runs from higher to lower stage numbers
//! ([`Circuit::aqueous_from_next`]); a stage is wet when an aqueous inlet with a positive flow
//! enters it or the stage above passes aqueous down to it. Across the flowsheet a stream carries
//! flow when its source does: a feed or solution with a flow above zero, a splitter outlet with a
//! fraction above zero of a carrying inlet, a mixer with any carrying inlet, a unit with a
//! carrying inlet, a circuit outlet whose stage is wet. Organic streams are taken to carry flow
//! (the simulator keeps an organic loop at its circulation rate). The answer is the least fixed
//! point (a loop that nothing feeds carries nothing), found with a work list, so it costs about
//! one pass over every stage per wetted circuit inlet.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Range;

use crate::diagnostic::codes;
use crate::flowsheet::*;
use crate::parse::RawDoc;
use crate::read::Cx;

/// A link as the lowering resolved it, with where its target is written.
pub(crate) struct LinkSpan<'a> {
    /// The link.
    pub link: &'a Link,
    /// Where its `to` end is written.
    pub to_span: Range<usize>,
}

/// An aqueous inlet of a circuit stage.
enum Source {
    /// A fresh solution of section `section`.
    Solution { section: usize },
    /// A linked inlet port (feed point, scrub/strip/section inlet) and its link's index.
    Link { port: PortKind, link: usize },
}

/// Reports every run of dry stages (`E0507`). Call only on a flowsheet without errors so far.
pub(crate) fn check_aqueous_reach(cx: &mut Cx<'_>, doc: &RawDoc, links: &[LinkSpan<'_>]) {
    let circuits: Vec<&Circuit> = doc.circuits.iter().map(|c| &c.circuit).collect();
    // Aqueous inlets of each circuit, per stage (0-based).
    let mut sources: Vec<Vec<Vec<Source>>> = circuits
        .iter()
        .map(|c| (0..c.n_stages()).map(|_| Vec::new()).collect())
        .collect();
    for (ci, c) in circuits.iter().enumerate() {
        for (si, s) in c.sections.iter().enumerate() {
            if let Some(sol) = &s.solution {
                if let Some(at) = sources[ci].get_mut(sol.stage.wrapping_sub(1)) {
                    at.push(Source::Solution { section: si });
                }
            }
        }
    }
    let mut into: BTreeMap<Port, usize> = BTreeMap::new();
    let mut from: BTreeMap<Port, Vec<usize>> = BTreeMap::new();
    for (k, l) in links.iter().enumerate() {
        into.insert(l.link.to, k);
        from.entry(l.link.from).or_default().push(k);
        if let NodeRef::Circuit(cid) = l.link.to.node {
            let aqueous = match l.link.to.kind {
                PortKind::FeedPoint(_) => l.link.phase == Phase::Aqueous,
                PortKind::ScrubInlet | PortKind::StripInlet | PortKind::SectionInlet(_) => true,
                _ => false,
            };
            let Some(c) = circuits.get(cid.0) else {
                continue;
            };
            if let Some(stage) = c.port_stage(l.link.to.kind).filter(|_| aqueous) {
                if let Some(at) = sources[cid.0].get_mut(stage.wrapping_sub(1)) {
                    at.push(Source::Link {
                        port: l.link.to.kind,
                        link: k,
                    });
                }
            }
        }
    }

    // Least fixed point: links known to carry flow, wet stages per circuit.
    let mut carrying = vec![false; links.len()];
    let mut wet: Vec<Vec<bool>> = circuits.iter().map(|c| vec![false; c.n_stages()]).collect();
    let mut queue: VecDeque<NodeRef> = VecDeque::new();
    let mut queued: BTreeSet<NodeRef> = BTreeSet::new();
    let all_nodes = doc
        .feeds
        .iter()
        .map(|f| NodeRef::Feed(f.feed.id))
        .chain(circuits.iter().map(|c| NodeRef::Circuit(c.id)))
        .chain(doc.units.iter().map(|u| NodeRef::Unit(u.node.id)))
        .chain(doc.splitters.iter().map(|s| NodeRef::Splitter(s.node.id)))
        .chain(doc.mixers.iter().map(|m| NodeRef::Mixer(m.node.id)));
    for n in all_nodes {
        queued.insert(n);
        queue.push_back(n);
    }
    let carried_into =
        |carrying: &[bool], port: Port| into.get(&port).is_some_and(|k| carrying[*k]);
    while let Some(node) = queue.pop_front() {
        queued.remove(&node);
        // Which outlet ports of `node` carry flow now.
        let outlets: Vec<Port> = match node {
            NodeRef::Feed(id) => {
                let positive = doc.feeds.get(id.0).is_some_and(|f| match &f.feed.kind {
                    FeedKind::Aqueous(s) | FeedKind::Organic(s) => s.flow_vol > 0.0,
                    FeedKind::Mud(m) => m.flow_mass > 0.0,
                });
                if positive {
                    vec![Port {
                        node,
                        kind: PortKind::Outlet(0),
                    }]
                } else {
                    Vec::new()
                }
            }
            NodeRef::Unit(_) => {
                if carried_into(
                    &carrying,
                    Port {
                        node,
                        kind: PortKind::Inlet(0),
                    },
                ) {
                    vec![
                        Port {
                            node,
                            kind: PortKind::Outlet(0),
                        },
                        Port {
                            node,
                            kind: PortKind::Residue,
                        },
                    ]
                } else {
                    Vec::new()
                }
            }
            NodeRef::Splitter(id) => {
                let inlet = carried_into(
                    &carrying,
                    Port {
                        node,
                        kind: PortKind::Inlet(0),
                    },
                );
                doc.splitters
                    .get(id.0)
                    .map(|s| {
                        s.node
                            .outlets
                            .iter()
                            .enumerate()
                            .filter(|(_, (_, f))| inlet && *f > 0.0)
                            .map(|(k, _)| Port {
                                node,
                                kind: PortKind::Outlet(k),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            }
            NodeRef::Mixer(id) => {
                let n_in = doc.mixers.get(id.0).map_or(0, |m| m.node.n_inlets);
                if (0..n_in).any(|k| {
                    carried_into(
                        &carrying,
                        Port {
                            node,
                            kind: PortKind::Inlet(k),
                        },
                    )
                }) {
                    vec![Port {
                        node,
                        kind: PortKind::Outlet(0),
                    }]
                } else {
                    Vec::new()
                }
            }
            NodeRef::Circuit(cid) => {
                let Some(c) = circuits.get(cid.0) else {
                    continue;
                };
                let w = wet_stages(c, &sources[cid.0], |s| match s {
                    Source::Solution { section } => c.sections[*section]
                        .solution
                        .as_ref()
                        .is_some_and(|sol| sol.flow_vol > 0.0),
                    Source::Link { link, .. } => carrying[*link],
                });
                let mut out = vec![
                    Port {
                        node,
                        kind: PortKind::LoadedOrganic,
                    },
                    Port {
                        node,
                        kind: PortKind::StrippedOrganic,
                    },
                ];
                for kind in [PortKind::Raffinate, PortKind::StripLiquor]
                    .into_iter()
                    .chain((0..c.sections.len()).map(PortKind::SectionOutlet))
                {
                    if c.port_stage(kind)
                        .is_some_and(|st| w.get(st.wrapping_sub(1)).copied().unwrap_or(false))
                    {
                        out.push(Port { node, kind });
                    }
                }
                wet[cid.0] = w;
                out
            }
            NodeRef::Purge(_) | NodeRef::Product(_) => Vec::new(),
        };
        for p in outlets {
            for &k in from.get(&p).map_or(&[][..], Vec::as_slice) {
                if !carrying[k] {
                    carrying[k] = true;
                    let next = links[k].link.to.node;
                    if queued.insert(next) {
                        queue.push_back(next);
                    }
                }
            }
        }
    }

    for (ci, c) in circuits.iter().enumerate() {
        report_dry(cx, doc, ci, c, &sources[ci], &wet[ci], links, &carrying);
    }
}

/// Wet stages of a circuit (0-based) given which of its sources carry flow.
fn wet_stages(
    c: &Circuit,
    sources: &[Vec<Source>],
    carries: impl Fn(&Source) -> bool,
) -> Vec<bool> {
    let n = sources.len();
    let mut wet = vec![false; n];
    for k in (0..n).rev() {
        wet[k] = sources[k].iter().any(&carries)
            || (c.aqueous_from_next(k + 1) && wet.get(k + 1).copied().unwrap_or(false));
    }
    wet
}

/// One `E0507` per run of dry stages, pointing at what would wet it.
#[allow(clippy::too_many_arguments)]
fn report_dry(
    cx: &mut Cx<'_>,
    doc: &RawDoc,
    ci: usize,
    c: &Circuit,
    sources: &[Vec<Source>],
    wet: &[bool],
    links: &[LinkSpan<'_>],
    carrying: &[bool],
) {
    let raw = &doc.circuits[ci];
    let n = wet.len();
    let mut top = n;
    while top > 0 {
        // `top` (1-based) is the highest stage of an aqueous chain; find the chain's bottom.
        let mut bottom = top;
        while bottom > 1 && c.aqueous_from_next(bottom - 1) {
            bottom -= 1;
        }
        if !wet[top - 1] {
            // The dry run is top down to the highest wet stage of the chain (exclusive).
            let mut low = top;
            while low > bottom && !wet[low - 2] {
                low -= 1;
            }
            let stages = if low == top {
                format!("stage {top}: no aqueous flow reaches this stage")
            } else {
                format!("stages {low}..={top}: no aqueous flow reaches these stages")
            };
            let section = c
                .section_of_stage(top)
                .map_or("?", |s| c.sections[s].name.as_str());
            let (span, why, help) = dry_cause(doc, ci, c, sources, links, carrying, low, top);
            let mut help = help;
            if help.is_empty() {
                let sec = c.section_of_stage(top).map(|s| &c.sections[s]);
                help = match sec {
                    Some(s) if s.kind == SectionKind::Extraction => format!(
                        "an extraction section takes aqueous from an aqueous feed point or a scrub section above it; link an aqueous feed to a feed point at stage {top} of \"{}\"",
                        c.name
                    ),
                    _ => format!(
                        "add `[circuit.{section}]` with a `flow`, or link an aqueous stream to its inlet"
                    ),
                };
            }
            cx.error(
                codes::DRY_STAGE,
                format!("circuit \"{}\" {stages} ({why})", c.name, why = why),
                span.unwrap_or_else(|| raw.spans.sections.clone()),
                Some(help),
            );
        }
        top = bottom - 1;
    }
}

/// Where to point and what to say for dry stages `low..=top` (1-based): a zero-flow inlet in
/// the run, an inlet placed below the run, or no inlet at all.
#[allow(clippy::too_many_arguments)]
fn dry_cause(
    doc: &RawDoc,
    ci: usize,
    c: &Circuit,
    sources: &[Vec<Source>],
    links: &[LinkSpan<'_>],
    carrying: &[bool],
    low: usize,
    top: usize,
) -> (Option<Range<usize>>, String, String) {
    let raw = &doc.circuits[ci];
    let section_of = |stage: usize| {
        c.section_of_stage(stage)
            .map_or(String::new(), |s| c.sections[s].name.clone())
    };
    // 1. An inlet in the dry run that brings nothing (highest first).
    for stage in (low..=top).rev() {
        if let Some(s) = sources[stage - 1].first() {
            return match s {
                Source::Solution { section } => (
                    raw.spans
                        .solutions
                        .get(*section)
                        .cloned()
                        .flatten()
                        .map(|sp| sp.flow),
                    format!("the {} solution has flow 0", c.sections[*section].name),
                    "give the solution a flow above zero".to_string(),
                ),
                Source::Link { port, link } => {
                    let l = links[*link].link;
                    let feed_zero = match l.from.node {
                        NodeRef::Feed(f) => doc.feeds.get(f.0).map(|f| f.flow_span.clone()),
                        _ => None,
                    };
                    let upstream = match (l.from.node, l.from.kind) {
                        (NodeRef::Splitter(sp), PortKind::Outlet(k)) => doc
                            .splitters
                            .get(sp.0)
                            .and_then(|s| s.node.outlets.get(k).map(|o| (s, o)))
                            .filter(|(_, (_, f))| *f <= 0.0)
                            .map(|(s, (o, _))| {
                                format!(
                                    "splitter \"{}\" sends fraction 0 to \"{o}\"; give it a fraction above zero or link another stream",
                                    s.node.name
                                )
                            }),
                        (NodeRef::Circuit(_), _) => Some(format!(
                            "circuit \"{}\" is dry where this stream leaves it; fix that circuit first",
                            node_name(doc, l.from.node)
                        )),
                        _ => None,
                    };
                    let what = format!(
                        "the stream from \"{}\" into {} carries no flow",
                        node_name(doc, l.from.node),
                        port_word(c, *port)
                    );
                    match feed_zero {
                        Some(span) => (
                            Some(span),
                            what,
                            "the feed has flow 0; give it a flow above zero".to_string(),
                        ),
                        None => (
                            Some(links[*link].to_span.clone()),
                            what,
                            upstream.unwrap_or_else(|| "nothing upstream of it carries flow (a feed of flow 0, a splitter fraction of 0 or a dry circuit); fix that first".to_string()),
                        ),
                    }
                }
            };
        }
    }
    // 2. An inlet below the run: aqueous never flows up.
    let chain_bottom = {
        let mut b = low;
        while b > 1 && c.aqueous_from_next(b - 1) {
            b -= 1;
        }
        b
    };
    for stage in (chain_bottom..low).rev() {
        let Some(s) = sources[stage - 1].iter().find(|s| match s {
            Source::Solution { section } => c.sections[*section]
                .solution
                .as_ref()
                .is_some_and(|sol| sol.flow_vol > 0.0),
            Source::Link { link, .. } => carrying[*link],
        }) else {
            continue;
        };
        let top_section = c.section_of_stage(top).map(|s| &c.sections[s]);
        let own = match top_section {
            Some(sec) if sec.kind != SectionKind::Extraction => format!(
                "give section \"{}\" its own solution (`[circuit.{}]` with a `flow`)",
                sec.name, sec.name
            ),
            _ => format!("link an aqueous stream to a feed point at stage {top}"),
        };
        let movable = matches!(
            s,
            Source::Solution { .. }
                | Source::Link {
                    port: PortKind::FeedPoint(_),
                    ..
                }
        );
        let move_to = if matches!(s, Source::Solution { .. }) {
            format!(
                "aqueous flows from higher to lower stage numbers; enter it at stage {top}, the top of section \"{}\" (the default when `stage` is left out)",
                section_of(top)
            )
        } else if movable {
            format!(
                "aqueous flows from higher to lower stage numbers; move it to stage {top} (the top of section \"{}\"), or {own}",
                section_of(top)
            )
        } else {
            format!("aqueous flows from higher to lower stage numbers; {own}")
        };
        return match s {
            Source::Solution { section } => (
                raw.spans
                    .solutions
                    .get(*section)
                    .cloned()
                    .flatten()
                    .and_then(|sp| sp.stage),
                format!(
                    "the {} solution enters at stage {stage}, below",
                    c.sections[*section].name
                ),
                move_to,
            ),
            Source::Link { port, link } => {
                let span = match port {
                    PortKind::FeedPoint(k) => raw.spans.feed_points.get(*k).cloned().flatten(),
                    _ => None,
                };
                (
                    span.or_else(|| Some(links[*link].to_span.clone())),
                    format!("{} enters at stage {stage}, below", port_word(c, *port)),
                    move_to,
                )
            }
        };
    }
    // 3. No aqueous inlet at all.
    (
        None,
        format!("section \"{}\" has no aqueous inlet", section_of(top)),
        String::new(),
    )
}

fn port_word(c: &Circuit, port: PortKind) -> String {
    match port {
        PortKind::FeedPoint(k) => c
            .feed_points
            .get(k)
            .map_or("a feed point".to_string(), |f| {
                format!("feed point \"{}\"", f.name)
            }),
        PortKind::ScrubInlet => "\"scrub_inlet\"".to_string(),
        PortKind::StripInlet => "\"strip_inlet\"".to_string(),
        PortKind::SectionInlet(k) => c
            .sections
            .get(k)
            .map_or("a section inlet".to_string(), |s| {
                format!("\"{}_inlet\"", s.name)
            }),
        _ => "an inlet".to_string(),
    }
}

fn node_name(doc: &RawDoc, node: NodeRef) -> String {
    let name = match node {
        NodeRef::Feed(i) => doc.feeds.get(i.0).map(|f| f.feed.name.clone()),
        NodeRef::Circuit(i) => doc.circuits.get(i.0).map(|c| c.circuit.name.clone()),
        NodeRef::Unit(i) => doc.units.get(i.0).map(|u| u.node.name.clone()),
        NodeRef::Splitter(i) => doc.splitters.get(i.0).map(|s| s.node.name.clone()),
        NodeRef::Mixer(i) => doc.mixers.get(i.0).map(|m| m.node.name.clone()),
        NodeRef::Purge(i) => doc.purges.get(i.0).map(|p| p.node.name.clone()),
        NodeRef::Product(i) => doc.products.get(i.0).map(|p| p.name.v.clone()),
    };
    name.unwrap_or_default()
}
