//! Lower: resolve names across the flowsheet (ports, links, optimize targets), check the
//! stream topology and model-data coverage, and assemble the span-free [`Flowsheet`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use sxplan_chem::Element;

use crate::diagnostic::{codes, did_you_mean};
use crate::flowsheet::*;
use crate::operating::{OperatingVar, Parts, Target, TargetKind};
use crate::parse::{RawDoc, RawFree};
use crate::read::{truncate, Cx, Sp};

/// Whether a port is an inlet or an outlet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    In,
    Out,
}

/// A port with its direction and phase (`None`: takes the phase of what it is linked to).
#[derive(Clone, Debug)]
struct PortInfo {
    name: String,
    kind: PortKind,
    dir: Dir,
    phase: Option<Phase>,
}

struct Lowerer<'d> {
    doc: &'d RawDoc,
    names: BTreeMap<String, NodeRef>,
}

impl Lowerer<'_> {
    fn ports(&self, node: NodeRef) -> Vec<PortInfo> {
        let p = |name: &str, kind, dir, phase| PortInfo {
            name: name.to_string(),
            kind,
            dir,
            phase,
        };
        let aq = Some(Phase::Aqueous);
        let org = Some(Phase::Organic);
        match node {
            NodeRef::Feed(id) => {
                let phase = self.doc.feeds[id.0].feed.kind.phase();
                vec![p("outlet", PortKind::Outlet(0), Dir::Out, Some(phase))]
            }
            NodeRef::Circuit(id) => {
                let c = &self.doc.circuits[id.0].circuit;
                let mut v = Vec::new();
                if c.section(SectionKind::Extraction).is_some() {
                    v.push(p("raffinate", PortKind::Raffinate, Dir::Out, aq));
                }
                if c.section(SectionKind::Scrub).is_some() {
                    v.push(p("scrub_inlet", PortKind::ScrubInlet, Dir::In, aq));
                    v.push(p("scrub_liquor", PortKind::ScrubInlet, Dir::In, aq));
                }
                if c.has_strip() {
                    v.push(p("strip_inlet", PortKind::StripInlet, Dir::In, aq));
                    v.push(p("strip_liquor", PortKind::StripLiquor, Dir::Out, aq));
                    v.push(p(
                        "stripped_organic",
                        PortKind::StrippedOrganic,
                        Dir::Out,
                        org,
                    ));
                } else {
                    v.push(p("loaded_organic", PortKind::LoadedOrganic, Dir::Out, org));
                }
                v.push(p("organic_inlet", PortKind::OrganicInlet, Dir::In, org));
                v.push(p("organic_return", PortKind::OrganicInlet, Dir::In, org));
                for (i, f) in c.feed_points.iter().enumerate() {
                    v.push(p(&f.name, PortKind::FeedPoint(i), Dir::In, Some(f.phase)));
                }
                for (i, s) in c.sections.iter().enumerate() {
                    if matches!(s.kind, SectionKind::Wash | SectionKind::Other) {
                        v.push(p(
                            &format!("{}_inlet", s.name),
                            PortKind::SectionInlet(i),
                            Dir::In,
                            aq,
                        ));
                        v.push(p(
                            &format!("{}_outlet", s.name),
                            PortKind::SectionOutlet(i),
                            Dir::Out,
                            aq,
                        ));
                    }
                }
                v
            }
            NodeRef::Unit(id) => {
                let k = &self.doc.units[id.0].node.kind;
                vec![
                    p("inlet", PortKind::Inlet(0), Dir::In, Some(k.inlet_phase())),
                    p(
                        "outlet",
                        PortKind::Outlet(0),
                        Dir::Out,
                        Some(k.outlet_phase()),
                    ),
                    p(
                        "residue",
                        PortKind::Residue,
                        Dir::Out,
                        Some(k.residue_phase()),
                    ),
                ]
            }
            NodeRef::Splitter(id) => {
                let s = &self.doc.splitters[id.0].node;
                let mut v = vec![p("inlet", PortKind::Inlet(0), Dir::In, None)];
                for (i, (n, _)) in s.outlets.iter().enumerate() {
                    v.push(p(n, PortKind::Outlet(i), Dir::Out, None));
                }
                v
            }
            NodeRef::Mixer(id) => {
                let m = &self.doc.mixers[id.0].node;
                let mut v: Vec<PortInfo> = (0..m.n_inlets)
                    .map(|i| {
                        p(
                            &format!("inlet{}", i + 1),
                            PortKind::Inlet(i),
                            Dir::In,
                            None,
                        )
                    })
                    .collect();
                v.push(p("outlet", PortKind::Outlet(0), Dir::Out, None));
                v
            }
            NodeRef::Purge(_) => vec![p("inlet", PortKind::Inlet(0), Dir::In, None)],
            NodeRef::Product(id) => {
                let phase = match self.doc.products[id.0].kind {
                    ProductKind::Aqueous => Phase::Aqueous,
                    ProductKind::Organic => Phase::Organic,
                    ProductKind::Oxide => Phase::Solid,
                };
                vec![p("inlet", PortKind::Inlet(0), Dir::In, Some(phase))]
            }
        }
    }

    /// Resolves `"node.port"` (or a bare node name with one port in that direction).
    fn resolve(&self, cx: &mut Cx<'_>, s: &Sp<String>, dir: Dir) -> Option<(Port, Option<Phase>)> {
        let (node_name, port_name) = match s.v.split_once('.') {
            Some((n, p)) => (n, Some(p)),
            None => (s.v.as_str(), None),
        };
        let content = cx.string_content_span(&s.span, &s.v);
        let node_span = content.map_or(s.span.clone(), |c| c..c + node_name.len());
        let Some(&node) = self.names.get(node_name) else {
            if !self.doc.declared.iter().any(|d| d == node_name) {
                let names: Vec<&str> = self.names.keys().map(String::as_str).collect();
                let help = match did_you_mean(node_name, &names) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None if names.is_empty() => {
                        "declare it as a feed, circuit, unit, splitter, mixer, purge or product"
                            .to_string()
                    }
                    None => format!("known names: {}", names.join(", ")),
                };
                cx.error(
                    codes::UNKNOWN_NODE,
                    format!(
                        "port \"{}\" names nothing called \"{}\"",
                        truncate(&s.v),
                        truncate(node_name)
                    ),
                    clamp(node_span, &s.span),
                    Some(help),
                );
            }
            return None;
        };
        let ports = self.ports(node);
        let what = self.doc_node_name(node);
        match port_name {
            None => {
                let candidates: Vec<&PortInfo> = ports.iter().filter(|p| p.dir == dir).collect();
                let distinct: BTreeSet<PortKind> = candidates.iter().map(|p| p.kind).collect();
                if distinct.len() == 1 {
                    let p = candidates[0];
                    return Some((Port { node, kind: p.kind }, p.phase));
                }
                let names: Vec<&str> = candidates.iter().map(|p| p.name.as_str()).collect();
                cx.error(
                    codes::UNKNOWN_PORT,
                    format!(
                        "\"{}\": {what} has several {}s; name the port",
                        truncate(&s.v),
                        dir_word(dir)
                    ),
                    s.span.clone(),
                    Some(format!(
                        "write \"{node_name}.<port>\" with one of: {}",
                        names.join(", ")
                    )),
                );
                None
            }
            Some(pn) => {
                let port_span = content.map_or(s.span.clone(), |c| {
                    c + node_name.len() + 1..c + node_name.len() + 1 + pn.len()
                });
                match ports.iter().find(|p| p.name == pn) {
                    Some(p) if p.dir == dir => Some((Port { node, kind: p.kind }, p.phase)),
                    Some(p) => {
                        cx.error(
                            codes::PORT_DIRECTION,
                            format!(
                                "\"{}\" is an {} of {what}, used here as an {}",
                                truncate(&s.v),
                                dir_word(p.dir),
                                dir_word(dir)
                            ),
                            clamp(port_span, &s.span),
                            Some(match dir {
                                Dir::Out => {
                                    "a link goes `from` an outlet `to` an inlet".to_string()
                                }
                                Dir::In => "a link goes `from` an outlet `to` an inlet".to_string(),
                            }),
                        );
                        None
                    }
                    None => {
                        let names: Vec<&str> = ports
                            .iter()
                            .filter(|p| p.dir == dir)
                            .map(|p| p.name.as_str())
                            .collect();
                        let all: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                        let help = match did_you_mean(pn, &all) {
                            Some(m) => format!("did you mean `{node_name}.{m}`?"),
                            None => format!("{}s of {what}: {}", dir_word(dir), names.join(", ")),
                        };
                        let msg = match (node, pn) {
                            (
                                NodeRef::Circuit(_),
                                "strip_liquor" | "strip_inlet" | "stripped_organic",
                            ) => {
                                format!("{what} has no strip section, so it has no port \"{pn}\"")
                            }
                            (NodeRef::Circuit(_), "loaded_organic") => {
                                format!("{what} has a strip section; its organic leaves as \"stripped_organic\"")
                            }
                            (NodeRef::Circuit(_), "scrub_inlet" | "scrub_liquor") => {
                                format!("{what} has no scrub section, so it has no port \"{pn}\"")
                            }
                            _ => format!("{what} has no port \"{}\"", truncate(pn)),
                        };
                        cx.error(
                            codes::UNKNOWN_PORT,
                            msg,
                            clamp(port_span, &s.span),
                            Some(help),
                        );
                        None
                    }
                }
            }
        }
    }

    fn doc_node_name(&self, node: NodeRef) -> String {
        let d = self.doc;
        match node {
            NodeRef::Feed(i) => format!("feed \"{}\"", d.feeds[i.0].feed.name),
            NodeRef::Circuit(i) => format!("circuit \"{}\"", d.circuits[i.0].circuit.name),
            NodeRef::Unit(i) => format!("unit \"{}\"", d.units[i.0].node.name),
            NodeRef::Splitter(i) => format!("splitter \"{}\"", d.splitters[i.0].node.name),
            NodeRef::Mixer(i) => format!("mixer \"{}\"", d.mixers[i.0].node.name),
            NodeRef::Purge(i) => format!("purge \"{}\"", d.purges[i.0].node.name),
            NodeRef::Product(i) => format!("product \"{}\"", d.products[i.0].name.v),
        }
    }
}

fn dir_word(d: Dir) -> &'static str {
    match d {
        Dir::In => "inlet",
        Dir::Out => "outlet",
    }
}

/// Keeps a computed sub-span inside the literal's span (escaped strings shift offsets).
fn clamp(span: Range<usize>, outer: &Range<usize>) -> Range<usize> {
    if span.start >= outer.start && span.end <= outer.end && span.start < span.end {
        span
    } else {
        outer.clone()
    }
}

/// A link with where it was written.
struct LinkAt {
    link: Link,
    from_span: Range<usize>,
    to_span: Range<usize>,
}

pub(crate) fn lower(cx: &mut Cx<'_>, doc: &RawDoc) -> Option<Flowsheet> {
    // 1. Names.
    let mut names: BTreeMap<String, NodeRef> = BTreeMap::new();
    let mut named: Vec<(&str, Range<usize>, NodeRef)> = Vec::new();
    for f in &doc.feeds {
        named.push((&f.feed.name, f.name_span.clone(), NodeRef::Feed(f.feed.id)));
    }
    for c in &doc.circuits {
        named.push((
            &c.circuit.name,
            c.name_span.clone(),
            NodeRef::Circuit(c.circuit.id),
        ));
    }
    for u in &doc.units {
        named.push((&u.node.name, u.name_span.clone(), NodeRef::Unit(u.node.id)));
    }
    for s in &doc.splitters {
        named.push((
            &s.node.name,
            s.name_span.clone(),
            NodeRef::Splitter(s.node.id),
        ));
    }
    for m in &doc.mixers {
        named.push((&m.node.name, m.name_span.clone(), NodeRef::Mixer(m.node.id)));
    }
    for p in &doc.purges {
        named.push((&p.node.name, p.name_span.clone(), NodeRef::Purge(p.node.id)));
    }
    for (i, p) in doc.products.iter().enumerate() {
        named.push((
            &p.name.v,
            p.name.span.clone(),
            NodeRef::Product(ProductId(i)),
        ));
    }
    named.sort_by_key(|(_, s, _)| s.start);
    let mut dups: BTreeSet<NodeRef> = BTreeSet::new();
    for (n, span, node) in named {
        if names.contains_key(n) {
            dups.insert(node);
            cx.error(
                codes::DUPLICATE_NAME,
                format!("the name \"{n}\" is used twice"),
                span,
                Some("feeds, circuits, units, splitters, mixers, purges and products share one namespace; rename one".into()),
            );
        } else {
            names.insert(n.to_string(), node);
        }
    }
    let lw = Lowerer { doc, names };

    // 2. Links, explicit and from sugar keys.
    let mut pending: Vec<(Sp<String>, Sp<String>)> = doc
        .links
        .iter()
        .map(|l| (l.from.clone(), l.to.clone()))
        .collect();
    let self_ref = |name: &str, port: &str, span: &Range<usize>| Sp {
        v: format!("{name}.{port}"),
        span: span.clone(),
    };
    let mut sugar: Vec<(Sp<String>, Sp<String>, bool)> = Vec::new(); // (from, to, from_is_self)
    for f in &doc.feeds {
        if dups.contains(&NodeRef::Feed(f.feed.id)) {
            continue;
        }
        if let Some(to) = &f.to {
            sugar.push((self_ref(&f.feed.name, "outlet", &to.span), to.clone(), true));
        }
    }
    for u in &doc.units {
        if dups.contains(&NodeRef::Unit(u.node.id)) {
            continue;
        }
        if let Some(from) = &u.from {
            sugar.push((
                from.clone(),
                self_ref(&u.node.name, "inlet", &from.span),
                false,
            ));
        }
        if let Some(to) = &u.to {
            sugar.push((self_ref(&u.node.name, "outlet", &to.span), to.clone(), true));
        }
    }
    for s in &doc.splitters {
        if dups.contains(&NodeRef::Splitter(s.node.id)) {
            continue;
        }
        if let Some(from) = &s.from {
            sugar.push((
                from.clone(),
                self_ref(&s.node.name, "inlet", &from.span),
                false,
            ));
        }
    }
    for m in &doc.mixers {
        if dups.contains(&NodeRef::Mixer(m.node.id)) {
            continue;
        }
        if let Some(to) = &m.to {
            sugar.push((self_ref(&m.node.name, "outlet", &to.span), to.clone(), true));
        }
    }
    for p in &doc.purges {
        if dups.contains(&NodeRef::Purge(p.node.id)) {
            continue;
        }
        if let Some(from) = &p.from {
            sugar.push((
                from.clone(),
                self_ref(&p.node.name, "inlet", &from.span),
                false,
            ));
        }
    }
    for (i, p) in doc.products.iter().enumerate() {
        if dups.contains(&NodeRef::Product(ProductId(i))) {
            continue;
        }
        if let Some(from) = &p.from {
            sugar.push((
                from.clone(),
                self_ref(&p.name.v, "inlet", &from.span),
                false,
            ));
        }
    }
    for (f, t, _) in sugar {
        pending.push((f, t));
    }
    pending.sort_by_key(|(f, t)| f.span.start.min(t.span.start));

    let mut links: Vec<LinkAt> = Vec::new();
    let mut suppressed: BTreeSet<NodeRef> = BTreeSet::new();
    if !dups.is_empty() {
        // which of two same-named nodes a port means is unknowable: skip topology errors
        suppressed.extend(lw.names.values().copied());
        suppressed.extend(dups.iter().copied());
    }
    let mut phases: Vec<(Option<Phase>, Option<Phase>)> = Vec::new();
    let mut used_from: BTreeMap<Port, Range<usize>> = BTreeMap::new();
    let mut used_to: BTreeMap<Port, Range<usize>> = BTreeMap::new();
    for (from, to) in &pending {
        let a = lw.resolve(cx, from, Dir::Out);
        let b = lw.resolve(cx, to, Dir::In);
        let (Some((pa, fa)), Some((pb, fb))) = (a, b) else {
            // the nodes at either end would only report cascading "not connected" errors
            for end in [from, to] {
                let node = end.v.split('.').next().unwrap_or("");
                if let Some(n) = lw.names.get(node) {
                    suppressed.insert(*n);
                }
            }
            continue;
        };
        let mut ok = true;
        for (port, span, used, dir) in [
            (pa, &from.span, &mut used_from, "leaves"),
            (pb, &to.span, &mut used_to, "enters"),
        ] {
            if let Some(first) = used.get(&port) {
                suppressed.insert(pa.node);
                suppressed.insert(pb.node);
                let (l, c) = crate::diagnostic::line_col(cx.src, first.start);
                cx.error(
                    codes::PORT_TWICE,
                    format!(
                        "port \"{}\" is connected twice (a stream already {dir} it at line {l}, column {c})",
                        port_label(&lw, port)
                    ),
                    span.clone(),
                    Some("a port carries one stream; use a mixer to combine streams or a splitter to divide one".into()),
                );
                ok = false;
            } else {
                used.insert(port, span.clone());
            }
        }
        if ok {
            links.push(LinkAt {
                link: Link {
                    from: pa,
                    to: pb,
                    phase: fa.or(fb).unwrap_or(Phase::Aqueous),
                },
                from_span: from.span.clone(),
                to_span: to.span.clone(),
            });
            phases.push((fa, fb));
        }
    }

    if cx.diags.iter().any(|d| d.code == codes::UNKNOWN_NODE) {
        // a misspelled node name leaves its intended partner unconnected: do not repeat it
        suppressed.extend(lw.names.values().copied());
    }

    // 3. Phases: splitters and mixers take the phase of what flows into or out of them.
    let mut node_phase: BTreeMap<NodeRef, Phase> = BTreeMap::new();
    for _ in 0..4 {
        for (l, (fa, fb)) in links.iter().zip(&phases) {
            let pa = fa.or_else(|| node_phase.get(&l.link.from.node).copied());
            let pb = fb.or_else(|| node_phase.get(&l.link.to.node).copied());
            if fa.is_none() {
                if let Some(p) = pb {
                    node_phase.entry(l.link.from.node).or_insert(p);
                }
            }
            if fb.is_none() {
                if let Some(p) = pa {
                    node_phase.entry(l.link.to.node).or_insert(p);
                }
            }
        }
    }
    for (l, (fa, fb)) in links.iter_mut().zip(&phases) {
        let pa = fa.or_else(|| node_phase.get(&l.link.from.node).copied());
        let pb = fb.or_else(|| node_phase.get(&l.link.to.node).copied());
        if let (Some(a), Some(b)) = (pa, pb) {
            if a != b {
                cx.error(
                    codes::PHASE_MISMATCH,
                    format!(
                        "link joins {} ({}) to {} ({})",
                        port_label(&lw, l.link.from),
                        phase_word(a),
                        port_label(&lw, l.link.to),
                        phase_word(b)
                    ),
                    l.to_span.clone(),
                    Some(match (l.link.to.node, a, b) {
                        (NodeRef::Product(_), _, _) => "a product's `kind` sets its phase (aqueous, organic, or oxide: solid); change `kind` or draw the product from a port of that phase".into(),
                        (_, Phase::Solid, _) | (_, _, Phase::Solid) => "solids pass through leach, precipitation and calcination units; solutions through circuits and solid-liquid separation".into(),
                        _ => "aqueous streams feed aqueous inlets and organic streams organic inlets".into(),
                    }),
                );
            }
        }
        if let Some(p) = pa.or(pb) {
            l.link.phase = p;
        }
    }

    // 4. Ports that must be connected.
    let connected_in: BTreeSet<Port> = links.iter().map(|l| l.link.to).collect();
    let connected_out: BTreeSet<Port> = links.iter().map(|l| l.link.from).collect();
    let dangling = |cx: &mut Cx<'_>,
                    node: NodeRef,
                    kind: PortKind,
                    pname: &str,
                    span: Range<usize>,
                    help: String| {
        if doc.broken || suppressed.contains(&node) {
            return;
        }
        let port = Port { node, kind };
        let set = if matches!(kind, PortKind::Outlet(_)) {
            &connected_out
        } else {
            &connected_in
        };
        if !set.contains(&port) {
            cx.error(
                codes::DANGLING,
                format!(
                    "{} port \"{pname}\" is not connected",
                    lw.doc_node_name(node)
                ),
                span,
                Some(help),
            );
        }
    };
    for f in &doc.feeds {
        dangling(
            cx,
            NodeRef::Feed(f.feed.id),
            PortKind::Outlet(0),
            "outlet",
            f.name_span.clone(),
            format!(
                "add `to = \"<circuit>.feed\"` to the feed or a [[link]] from \"{}\"",
                f.feed.name
            ),
        );
    }
    for c in &doc.circuits {
        let node = NodeRef::Circuit(c.circuit.id);
        for (i, fp) in c.circuit.feed_points.iter().enumerate() {
            dangling(
                cx,
                node,
                PortKind::FeedPoint(i),
                &fp.name,
                c.name_span.clone(),
                format!(
                    "link a feed to \"{}.{}\" (or give the feed `to = \"{}.{}\"`)",
                    c.circuit.name, fp.name, c.circuit.name, fp.name
                ),
            );
        }
        for (i, s) in c.circuit.sections.iter().enumerate() {
            if s.kind == SectionKind::Extraction || s.solution.is_some() {
                continue;
            }
            let (kind, pname) = match s.kind {
                SectionKind::Scrub => (PortKind::ScrubInlet, "scrub_inlet".to_string()),
                SectionKind::Strip => (PortKind::StripInlet, "strip_inlet".to_string()),
                _ => (PortKind::SectionInlet(i), format!("{}_inlet", s.name)),
            };
            // The first scrub section's inlet is the scrub port; later scrubs take the aqueous
            // of the section above them.
            if s.kind == SectionKind::Scrub
                && c.circuit
                    .sections
                    .get(i + 1)
                    .is_some_and(|n| n.kind == SectionKind::Scrub && n.aqueous_to_previous)
            {
                continue;
            }
            if !doc.broken
                && !suppressed.contains(&node)
                && !connected_in.contains(&Port { node, kind })
            {
                cx.error(
                    codes::DANGLING,
                    format!("circuit \"{}\" section \"{}\" has no aqueous inlet", c.circuit.name, s.name),
                    c.name_span.clone(),
                    Some(format!("add `[circuit.{}]` with `acid`, `conc` and `flow`, or link a stream to \"{}.{pname}\"", s.name, c.circuit.name)),
                );
            }
        }
    }
    for u in &doc.units {
        let node = NodeRef::Unit(u.node.id);
        dangling(
            cx,
            node,
            PortKind::Inlet(0),
            "inlet",
            u.name_span.clone(),
            format!("add `from = \"...\"` to unit \"{}\"", u.node.name),
        );
        dangling(
            cx,
            node,
            PortKind::Outlet(0),
            "outlet",
            u.name_span.clone(),
            format!(
                "add `to = \"...\"` to unit \"{}\", or draw a product from \"{}.outlet\"",
                u.node.name, u.node.name
            ),
        );
    }
    for s in &doc.splitters {
        let node = NodeRef::Splitter(s.node.id);
        dangling(
            cx,
            node,
            PortKind::Inlet(0),
            "inlet",
            s.name_span.clone(),
            format!("add `from = \"...\"` to splitter \"{}\"", s.node.name),
        );
        for (i, (n, _)) in s.node.outlets.iter().enumerate() {
            dangling(
                cx,
                node,
                PortKind::Outlet(i),
                n,
                s.name_span.clone(),
                format!(
                    "link \"{}.{n}\" to an inlet, a purge or a product",
                    s.node.name
                ),
            );
        }
    }
    for m in &doc.mixers {
        let node = NodeRef::Mixer(m.node.id);
        for i in 0..m.node.n_inlets {
            dangling(
                cx,
                node,
                PortKind::Inlet(i),
                &format!("inlet{}", i + 1),
                m.name_span.clone(),
                "link a stream to every mixer inlet, or lower `inlets`".into(),
            );
        }
        dangling(
            cx,
            node,
            PortKind::Outlet(0),
            "outlet",
            m.name_span.clone(),
            format!("add `to = \"...\"` to mixer \"{}\"", m.node.name),
        );
    }
    for p in &doc.purges {
        dangling(
            cx,
            NodeRef::Purge(p.node.id),
            PortKind::Inlet(0),
            "inlet",
            p.name_span.clone(),
            format!("add `from = \"...\"` to purge \"{}\"", p.node.name),
        );
    }
    for (i, p) in doc.products.iter().enumerate() {
        dangling(
            cx,
            NodeRef::Product(ProductId(i)),
            PortKind::Inlet(0),
            "inlet",
            p.name.span.clone(),
            format!(
                "add `from = \"<circuit>.<port>\"` to product \"{}\"",
                p.name.v
            ),
        );
    }

    // 5. Stages no aqueous reaches (only on an otherwise clean topology: no cascades).
    if !doc.broken && !cx.diags.iter().any(|d| d.is_error()) {
        let spans: Vec<crate::reach::LinkSpan<'_>> = links
            .iter()
            .map(|l| crate::reach::LinkSpan {
                link: &l.link,
                to_span: l.to_span.clone(),
            })
            .collect();
        crate::reach::check_aqueous_reach(cx, doc, &spans);
    }

    // 6. Topology: recycle loops without an outlet, and species reaching each circuit.
    let link_list: Vec<Link> = links.iter().map(|l| l.link).collect();
    let reach = species_reaching(doc, &link_list);
    if !doc.broken {
        check_recycles(cx, &lw, &link_list, &links, &reach);
    }
    let mut circuits: Vec<Circuit> = doc.circuits.iter().map(|c| c.circuit.clone()).collect();
    let mut data_used = doc.data_used.clone();
    let mut units: Vec<Unit> = doc.units.iter().map(|u| u.node.clone()).collect();
    if !doc.broken {
        fill_and_check_model_data(cx, doc, &reach, &mut circuits, &mut data_used);
        fill_and_check_units(cx, doc, &reach, &mut units, &mut data_used);
    }

    // 7. Optimize targets.
    let optimize = doc.optimize.as_ref().and_then(|o| {
        let mut free = Vec::new();
        let mut ok = true;
        for f in &o.free {
            match resolve_free(cx, &lw, f) {
                Some(var) => free.push(FreeVar {
                    var,
                    lower: f.lower,
                    upper: f.upper,
                }),
                None => ok = false,
            }
        }
        ok.then_some(OptimizeSettings {
            objective: o.objective,
            free,
            max_passes: o.max_passes,
        })
    });

    if cx.diags.iter().any(|d| d.is_error()) {
        return None;
    }

    // 8. Assemble.
    let mut elements: BTreeSet<Element> = BTreeSet::new();
    for set in reach.values() {
        elements.extend(set.iter().copied());
    }
    for f in &doc.feeds {
        elements.extend(feed_species(&f.feed));
    }
    let products = doc
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let me = Port {
                node: NodeRef::Product(ProductId(i)),
                kind: PortKind::Inlet(0),
            };
            let from = link_list.iter().find(|l| l.to == me).map_or(me, |l| l.from);
            Product {
                id: ProductId(i),
                name: p.name.v.clone(),
                from,
                kind: p.kind,
                purity: p.purity.clone(),
                recovery: p.recovery.clone(),
            }
        })
        .collect();
    let fs = Flowsheet {
        name: doc.name.clone(),
        schema: doc.schema.unwrap_or(SCHEMA_VERSION),
        description: doc.description.clone(),
        elements: elements.into_iter().collect(),
        feeds: doc.feeds.iter().map(|f| f.feed.clone()).collect(),
        circuits,
        units,
        splitters: doc.splitters.iter().map(|s| s.node.clone()).collect(),
        mixers: doc.mixers.iter().map(|m| m.node.clone()).collect(),
        purges: doc.purges.iter().map(|p| p.node.clone()).collect(),
        products,
        links: link_list,
        capacities: doc.capacities.iter().map(|(_, c)| c.clone()).collect(),
        prices: doc.prices.clone(),
        optimize: if doc.optimize.is_some() {
            optimize
        } else {
            None
        },
        solver: doc.solver,
        plant: doc.plant,
        data_used,
        data_overrides: doc.overrides.clone(),
    };
    check_acid_budgets(cx, doc, &fs);
    Some(fs)
}

/// W0603: the acid/base budget of each circuit that can be computed statically
/// (`crate::acid_budget`), reported at the circuit's name.
fn check_acid_budgets(cx: &mut Cx<'_>, doc: &RawDoc, fs: &Flowsheet) {
    for (k, rc) in doc.circuits.iter().enumerate() {
        let Some(b) = crate::acid_budget::static_budget(fs, CircuitId(k)) else {
            continue;
        };
        for f in b.findings {
            cx.warn(
                codes::ACID_BUDGET,
                f.message,
                rc.name_span.clone(),
                Some(f.help),
            );
        }
    }
}

fn phase_word(p: Phase) -> &'static str {
    match p {
        Phase::Aqueous => "aqueous",
        Phase::Organic => "organic",
        Phase::Solid => "solid",
    }
}

fn port_label(lw: &Lowerer<'_>, port: Port) -> String {
    let node = match port.node {
        NodeRef::Feed(i) => lw.doc.feeds[i.0].feed.name.clone(),
        NodeRef::Circuit(i) => lw.doc.circuits[i.0].circuit.name.clone(),
        NodeRef::Unit(i) => lw.doc.units[i.0].node.name.clone(),
        NodeRef::Splitter(i) => lw.doc.splitters[i.0].node.name.clone(),
        NodeRef::Mixer(i) => lw.doc.mixers[i.0].node.name.clone(),
        NodeRef::Purge(i) => lw.doc.purges[i.0].node.name.clone(),
        NodeRef::Product(i) => lw.doc.products[i.0].name.v.clone(),
    };
    let pname = lw
        .ports(port.node)
        .into_iter()
        .find(|p| p.kind == port.kind)
        .map_or_else(|| "?".to_string(), |p| p.name);
    format!("{node}.{pname}")
}

/// Species a feed brings in.
fn feed_species(f: &Feed) -> BTreeSet<Element> {
    match &f.kind {
        FeedKind::Aqueous(s) | FeedKind::Organic(s) => s.conc_mol.keys().copied().collect(),
        FeedKind::Mud(m) if !m.content_mol_per_kg.is_empty() => {
            m.content_mol_per_kg.keys().copied().collect()
        }
        FeedKind::Mud(m) => match sxplan_chem::mud::grade(&m.grade) {
            Some(g) => {
                let mut set: BTreeSet<Element> = g.rey_ppm.iter().map(|(e, _)| *e).collect();
                for (name, _) in g.majors_wt_pct {
                    if let Some(e) = leading_element(name) {
                        set.insert(e);
                    }
                }
                set
            }
            None => Element::ALL
                .iter()
                .copied()
                .filter(|e| e.is_rey())
                .collect(),
        },
    }
}

/// The tracked element an oxide formula starts with (`"CaO"` -> Ca, `"P2O5"` -> none).
fn leading_element(formula: &str) -> Option<Element> {
    let mut chars = formula.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_ascii_uppercase() {
        return None;
    }
    let end = match chars.next() {
        Some((i, c)) if c.is_ascii_lowercase() => i + c.len_utf8(),
        Some((i, _)) => i,
        None => formula.len(),
    };
    Element::from_symbol(formula.get(..end)?)
}

/// Forward propagation of species from feeds along links. Circuits pass every species to
/// every outlet; units pass an element to the outlet if any fraction goes there.
fn species_reaching(doc: &RawDoc, links: &[Link]) -> BTreeMap<NodeRef, BTreeSet<Element>> {
    let mut at: BTreeMap<NodeRef, BTreeSet<Element>> = BTreeMap::new();
    let mut work: Vec<NodeRef> = Vec::new();
    for f in &doc.feeds {
        let node = NodeRef::Feed(f.feed.id);
        at.insert(node, feed_species(&f.feed));
        work.push(node);
    }
    let mut guard = 0usize;
    while let Some(node) = work.pop() {
        guard += 1;
        if guard > 100_000 {
            break;
        }
        let here = at.get(&node).cloned().unwrap_or_default();
        for l in links.iter().filter(|l| l.from.node == node) {
            let passed: BTreeSet<Element> = match (node, l.from.kind) {
                (NodeRef::Unit(u), PortKind::Outlet(_)) => {
                    let unit = &doc.units[u.0].node;
                    here.iter()
                        .copied()
                        .filter(|e| unit.fraction_to_outlet(*e) > 0.0)
                        .collect()
                }
                (NodeRef::Unit(u), PortKind::Residue) => {
                    let unit = &doc.units[u.0].node;
                    here.iter()
                        .copied()
                        .filter(|e| unit.fraction_to_outlet(*e) < 1.0)
                        .collect()
                }
                _ => here.clone(),
            };
            let target = at.entry(l.to.node).or_default();
            let before = target.len();
            target.extend(passed);
            if target.len() > before {
                work.push(l.to.node);
            }
        }
    }
    at
}

/// Leach units without a full recovery table take the built-in HCl leach recoveries of the mud
/// for the elements they do not list; elements still without a value are reported.
fn fill_and_check_units(
    cx: &mut Cx<'_>,
    doc: &RawDoc,
    reach: &BTreeMap<NodeRef, BTreeSet<Element>>,
    units: &mut [Unit],
    data_used: &mut Vec<DataUse>,
) {
    for (ru, u) in doc.units.iter().zip(units.iter_mut()) {
        let UnitKind::Leach { acid, .. } = u.kind else {
            continue;
        };
        if ru.default_given {
            continue;
        }
        let species = reach.get(&NodeRef::Unit(u.id)).cloned().unwrap_or_default();
        let mut used: Vec<(Element, sxplan_chem::Provenance)> = Vec::new();
        if acid == Acid::HCl {
            for e in &species {
                if u.to_outlet.contains_key(e) {
                    continue;
                }
                if let Some(r) = sxplan_chem::leach::hcl_leach_recovery(*e) {
                    u.to_outlet.insert(*e, r.fraction);
                    used.push((*e, r.provenance));
                }
            }
        }
        u.default_to_outlet = 0.0;
        let mut by_source: BTreeMap<(&str, sxplan_chem::Quality), Vec<&str>> = BTreeMap::new();
        for (e, p) in &used {
            by_source
                .entry((p.source, p.quality))
                .or_default()
                .push(e.symbol());
        }
        for ((source, quality), els) in by_source {
            data_used.push(DataUse {
                item: format!(
                    "unit \"{}\": leach recovery of {} (built-in)",
                    u.name,
                    els.join(", ")
                ),
                source: source.to_string(),
                quality: Some(quality),
                built_in: true,
            });
        }
        let missing: Vec<&str> = species
            .iter()
            .filter(|e| !u.to_outlet.contains_key(e))
            .map(|e| e.symbol())
            .collect();
        if !missing.is_empty() {
            cx.error(
                codes::NO_MODEL_DATA,
                format!(
                    "unit \"{}\": no leach recovery for {} reaching this unit",
                    u.name,
                    missing.join(", ")
                ),
                ru.name_span.clone(),
                Some(format!(
                    "sxplan has no sourced {} leach recovery for {}; give `recovery = {{ {} = 0.5, source = \"...\" }}` (or a `default`)",
                    match acid { Acid::HCl => "HCl", Acid::H2SO4 => "H2SO4", Acid::HNO3 => "HNO3" },
                    missing.join(", "),
                    missing[0]
                )),
            );
        }
    }
}

/// Fills model data the flowsheet leaves out from the extractant's built-in tables, then
/// reports elements that reach a circuit without data.
fn fill_and_check_model_data(
    cx: &mut Cx<'_>,
    doc: &RawDoc,
    reach: &BTreeMap<NodeRef, BTreeSet<Element>>,
    circuits: &mut [Circuit],
    data_used: &mut Vec<DataUse>,
) {
    for (rc, c) in doc.circuits.iter().zip(circuits.iter_mut()) {
        let Some(species) = reach.get(&NodeRef::Circuit(c.id)) else {
            continue;
        };
        let system = sxplan_chem::extractant::find(&c.organic.extractant);
        let wanted: Vec<Element> = species.iter().copied().collect();
        if let Some(sys) = system {
            fill_builtin(c, sys, &wanted, data_used);
        }
        let eq = &c.equilibrium;
        let have: BTreeSet<Element> = eq.elements().into_iter().collect();
        let missing: Vec<String> = species
            .iter()
            .filter(|e| !have.contains(e))
            .map(|e| e.symbol().to_string())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let (key, example) = match eq {
            Equilibrium::Distribution(_) => ("d", "1.0"),
            Equilibrium::SeparationFactor(_) => ("beta", "1.0"),
            Equilibrium::MassAction(_) => ("k_ex", "1e-3"),
            Equilibrium::Empirical(_) => ("a` and `b", "3.0"),
        };
        let builtin = system
            .map(|s| {
                let e: Vec<&str> = s.elements_with_data().iter().map(|e| e.symbol()).collect();
                if e.is_empty() {
                    format!("built-in data for {} covers no element", s.name)
                } else {
                    format!("built-in data for {} covers only {}", s.name, e.join(", "))
                }
            })
            .unwrap_or_default();
        cx.error(
            codes::NO_MODEL_DATA,
            format!(
                "circuit \"{}\": the {} model has no data for {} reaching this circuit",
                c.name,
                eq.name(),
                missing.join(", ")
            ),
            rc.eq_span.clone(),
            Some(format!(
                "{builtin}; give `{key}` for {} (e.g. `{} = {example}`) with its `source`, or remove the element upstream",
                missing.join(", "),
                missing.first().map_or("", String::as_str)
            )),
        );
    }
}

fn builtin_use(c: &Circuit, what: &str, p: &sxplan_chem::Provenance, conditions: &str) -> DataUse {
    DataUse {
        item: format!("circuit \"{}\": {what} (built-in, {})", c.name, conditions),
        source: p.source.to_string(),
        quality: Some(p.quality),
        built_in: true,
    }
}

/// Built-in values are used only where the flowsheet gives none: separation factors only
/// when `beta` is absent altogether (relative extractabilities from different sets do not
/// share a scale), absolute parameters (D, K_ex, empirical coefficients) per element.
fn fill_builtin(
    c: &mut Circuit,
    sys: &'static sxplan_chem::extractant::ExtractantSystem,
    wanted: &[Element],
    data_used: &mut Vec<DataUse>,
) {
    let snapshot = c.clone();
    match &mut c.equilibrium {
        Equilibrium::SeparationFactor(m) if m.beta.is_empty() => {
            if let Some(set) = sys.separation_factors.first() {
                m.beta = set.relative_extractabilities().into_iter().collect();
                data_used.push(builtin_use(
                    &snapshot,
                    "relative extractabilities beta",
                    &set.provenance,
                    set.conditions,
                ));
            }
        }
        Equilibrium::Distribution(m) => {
            if let Some(set) = sys.distribution.first() {
                let mut used = false;
                for e in wanted {
                    if !m.d_ratio.contains_key(e) {
                        if let Some(d) = set.d_ratio(*e) {
                            m.d_ratio.insert(*e, StageValues::Uniform(d));
                            used = true;
                        }
                    }
                }
                if used {
                    data_used.push(builtin_use(
                        &snapshot,
                        "distribution ratios d",
                        &set.provenance,
                        set.conditions,
                    ));
                }
            }
        }
        Equilibrium::MassAction(m) => {
            let set = sys
                .mass_action
                .iter()
                .find(|s| s.basis == sxplan_chem::extractant::ExtractantBasis::Dimer);
            if let Some(set) = set {
                let mut used = false;
                for e in wanted {
                    let terms: Vec<_> = set.terms.iter().filter(|t| t.element == *e).collect();
                    // a single term maps onto K [(HA)2]^n / [H+]^z
                    if let [t] = terms.as_slice() {
                        if !m.params.contains_key(e) {
                            m.params.insert(
                                *e,
                                MassActionParams {
                                    k_ex: 10f64.powf(t.log10_k),
                                    n_extractant: t.extractant_exponent,
                                    z_proton: t.h_exponent,
                                },
                            );
                            used = true;
                        }
                    }
                }
                if used {
                    data_used.push(builtin_use(
                        &snapshot,
                        "extraction constants k_ex",
                        &set.provenance,
                        set.conditions,
                    ));
                }
            }
        }
        Equilibrium::Empirical(m) => {
            let want_measure = match m.measure {
                ExtractantMeasure::MolPerL => sxplan_chem::extractant::ExtractantMeasure::MolPerL,
                ExtractantMeasure::VolumePercent => {
                    sxplan_chem::extractant::ExtractantMeasure::VolumePercent
                }
            };
            if let Some(set) = sys.empirical.iter().find(|s| s.measure == want_measure) {
                let mut used = false;
                for e in wanted {
                    if m.coef.contains_key(e) {
                        continue;
                    }
                    if let Some(k) = set.coefficients.iter().find(|k| k.element == *e) {
                        m.coef.insert(
                            *e,
                            EmpiricalCoef {
                                a: k.a0,
                                a1: k.a1,
                                b: k.b,
                                c: k.c,
                            },
                        );
                        used = true;
                    }
                }
                if used {
                    data_used.push(builtin_use(
                        &snapshot,
                        "log D correlation",
                        &set.provenance,
                        set.conditions,
                    ));
                }
            }
        }
        Equilibrium::SeparationFactor(_) => {}
    }
}

/// Warns about recycle loops (strongly connected groups of nodes) that some species can enter
/// but never leave: no link out of the loop and no unconnected outlet carries it. Units pass an
/// element to their outlet only if some fraction goes there, to their residue only if not all
/// of it goes to the outlet; every other outlet carries every species.
fn check_recycles(
    cx: &mut Cx<'_>,
    lw: &Lowerer<'_>,
    links: &[Link],
    at: &[LinkAt],
    reach: &BTreeMap<NodeRef, BTreeSet<Element>>,
) {
    let nodes: BTreeSet<NodeRef> = links
        .iter()
        .flat_map(|l| [l.from.node, l.to.node])
        .collect();
    let nodes: Vec<NodeRef> = nodes.into_iter().collect();
    let n = nodes.len();
    if n > 2_000 {
        return;
    }
    let idx = |node: NodeRef| nodes.binary_search(&node).ok();
    let mut adj = vec![Vec::new(); n];
    for l in links {
        if let (Some(a), Some(b)) = (idx(l.from.node), idx(l.to.node)) {
            adj[a].push(b);
        }
    }
    let reach_from = |s: usize| {
        let mut seen = vec![false; n];
        let mut stack = vec![s];
        while let Some(v) = stack.pop() {
            for &w in &adj[v] {
                if !seen[w] {
                    seen[w] = true;
                    stack.push(w);
                }
            }
        }
        seen
    };
    let closure: Vec<Vec<bool>> = (0..n).map(reach_from).collect();
    let linked_out: BTreeSet<Port> = links.iter().map(|l| l.from).collect();
    let carries = |port: Port, e: Element| match (port.node, port.kind) {
        (NodeRef::Unit(u), PortKind::Outlet(_)) => {
            lw.doc.units[u.0].node.fraction_to_outlet(e) > 0.0
        }
        (NodeRef::Unit(u), PortKind::Residue) => lw.doc.units[u.0].node.fraction_to_outlet(e) < 1.0,
        _ => true,
    };
    let mut done = vec![false; n];
    for s in 0..n {
        if done[s] || !closure[s][s] {
            continue;
        }
        let scc: Vec<usize> = (0..n).filter(|&v| closure[s][v] && closure[v][s]).collect();
        for &v in &scc {
            done[v] = true;
        }
        let in_scc = |v: usize| scc.contains(&v);
        // exits: links out of the group, and outlets of members that are not linked (those
        // streams leave the plant)
        let mut exits: Vec<Port> = links
            .iter()
            .filter(|l| {
                idx(l.from.node).is_some_and(in_scc) && idx(l.to.node).is_some_and(|t| !in_scc(t))
            })
            .map(|l| l.from)
            .collect();
        for &v in &scc {
            let node = nodes[v];
            for p in lw.ports(node) {
                let port = Port { node, kind: p.kind };
                if p.dir == Dir::Out && !linked_out.contains(&port) {
                    exits.push(port);
                }
            }
        }
        let species: BTreeSet<Element> = scc
            .iter()
            .filter_map(|&v| reach.get(&nodes[v]))
            .flatten()
            .copied()
            .collect();
        let trapped: Vec<&str> = species
            .iter()
            .filter(|e| !exits.iter().any(|p| carries(*p, **e)))
            .map(|e| e.symbol())
            .collect();
        let members: Vec<String> = scc.iter().map(|&v| lw.doc_node_name(nodes[v])).collect();
        let span = at
            .iter()
            .find(|l| {
                idx(l.link.from.node).is_some_and(in_scc) && idx(l.link.to.node).is_some_and(in_scc)
            })
            .map_or(0..0, |l| l.from_span.clone());
        if !exits.is_empty() && trapped.is_empty() {
            // every node of the loop has a way out; the flows inside a circuit may still not
            // reach it (the aqueous fed to an extraction section leaves only as raffinate)
            let member_nodes: Vec<NodeRef> = scc.iter().map(|&v| nodes[v]).collect();
            if let Some(message) = port_trap(lw, links, &member_nodes, reach) {
                cx.warn(
                    codes::RECYCLE_NO_OUTLET,
                    format!("recycle loop through {}: {message}", members.join(", ")),
                    span,
                    Some(
                        "add a splitter with a purge (bleed) or a product draw inside the loop"
                            .into(),
                    ),
                );
            }
            continue;
        }
        let message = if exits.is_empty() {
            format!(
                "recycle loop through {} has no outlet: every species entering it accumulates",
                members.join(", ")
            )
        } else {
            format!(
                "recycle loop through {} has no outlet for {}: {} accumulate{} in the loop",
                members.join(", "),
                trapped.join(", "),
                if trapped.len() == 1 { "it" } else { "they" },
                if trapped.len() == 1 { "s" } else { "" }
            )
        };
        cx.warn(
            codes::RECYCLE_NO_OUTLET,
            message,
            span,
            Some("add a splitter with a purge (bleed) or a product draw inside the loop".into()),
        );
    }
}

/// Where a flow entering `node` at its inlet `inlet` can leave the node: the volume of the
/// phase (`element` `None`), or element `element`. Inside a circuit the aqueous fed to a section
/// leaves by that section's aqueous outlet (the raffinate for extraction and scrub, the strip
/// liquor for strip) and the organic by the organic outlet; an element also reaches every
/// outlet when the circuit's model extracts it. Other nodes pass everything to every outlet
/// (units by their recoveries).
fn flows_to(
    lw: &Lowerer<'_>,
    node: NodeRef,
    inlet: PortKind,
    element: Option<Element>,
) -> Vec<PortKind> {
    let outs: Vec<PortKind> = lw
        .ports(node)
        .into_iter()
        .filter(|p| p.dir == Dir::Out)
        .map(|p| p.kind)
        .collect();
    let carries = |k: PortKind| match (node, k, element) {
        (NodeRef::Unit(u), PortKind::Outlet(_), Some(e)) => {
            lw.doc.units[u.0].node.fraction_to_outlet(e) > 0.0
        }
        (NodeRef::Unit(u), PortKind::Residue, Some(e)) => {
            lw.doc.units[u.0].node.fraction_to_outlet(e) < 1.0
        }
        _ => true,
    };
    let NodeRef::Circuit(id) = node else {
        return outs.into_iter().filter(|k| carries(*k)).collect();
    };
    let c = &lw.doc.circuits[id.0].circuit;
    let index_of = |kind: SectionKind| c.sections.iter().position(|s| s.kind == kind);
    let (phase, section) = match inlet {
        PortKind::FeedPoint(i) => match c.feed_points.get(i) {
            Some(f) => (f.phase, c.section_of_stage(f.stage)),
            None => return outs,
        },
        PortKind::ScrubInlet => (Phase::Aqueous, index_of(SectionKind::Scrub)),
        PortKind::StripInlet => (Phase::Aqueous, index_of(SectionKind::Strip)),
        PortKind::SectionInlet(i) => (Phase::Aqueous, Some(i)),
        PortKind::OrganicInlet => (Phase::Organic, None),
        _ => return outs,
    };
    let extractable = element.is_some_and(|e| match &c.equilibrium {
        Equilibrium::Distribution(d) => d.d_ratio.get(&e).is_some_and(|v| match v {
            StageValues::Uniform(x) => *x > 0.0,
            StageValues::PerSection(xs) | StageValues::PerStage(xs) => xs.iter().any(|x| *x > 0.0),
        }),
        Equilibrium::SeparationFactor(m) => m.beta.get(&e).is_some_and(|b| *b > 0.0),
        Equilibrium::MassAction(m) => m.params.get(&e).is_some_and(|p| p.k_ex > 0.0),
        Equilibrium::Empirical(m) => m.coef.contains_key(&e),
    });
    match phase {
        Phase::Organic if element.is_none() => outs
            .into_iter()
            .filter(|k| matches!(k, PortKind::LoadedOrganic | PortKind::StrippedOrganic))
            .collect(),
        Phase::Aqueous if !extractable => {
            let Some(mut s) = section else { return outs };
            while s > 0 && c.sections.get(s).is_some_and(|x| x.aqueous_to_previous) {
                s -= 1;
            }
            let out = match c.sections.get(s).map(|x| x.kind) {
                Some(SectionKind::Strip) => PortKind::StripLiquor,
                Some(SectionKind::Wash | SectionKind::Other) => PortKind::SectionOutlet(s),
                _ => PortKind::Raffinate,
            };
            if outs.contains(&out) {
                vec![out]
            } else {
                outs
            }
        }
        _ => outs,
    }
}

/// The first flow that enters the recycle loop `members` and can never leave it, as a
/// message: the volume of a phase entering from outside the loop (or with a circuit's scrub,
/// strip or wash solution) that only returns into the loop, or an element the loop's circuits
/// do not extract entering with it. `None` when every flow has a way out.
fn port_trap(
    lw: &Lowerer<'_>,
    links: &[Link],
    members: &[NodeRef],
    reach: &BTreeMap<NodeRef, BTreeSet<Element>>,
) -> Option<String> {
    let inside = |n: NodeRef| members.contains(&n);
    let dest: BTreeMap<Port, Port> = links.iter().map(|l| (l.from, l.to)).collect();
    let port_name = |node: NodeRef, kind: PortKind| -> String {
        let name = lw
            .ports(node)
            .into_iter()
            .find(|p| p.kind == kind)
            .map_or_else(String::new, |p| p.name);
        let full = lw.doc_node_name(node);
        // `mixer "fmix"` -> `"fmix.inlet1"`, the way a link names the port
        let bare = full.split('"').nth(1).unwrap_or(&full).to_string();
        format!("\"{bare}.{name}\"")
    };
    // does a flow entering `start` reach a way out of the loop?
    let escapes = |start: Port, element: Option<Element>| -> bool {
        let mut seen: BTreeSet<Port> = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(p) = stack.pop() {
            if !seen.insert(p) {
                continue;
            }
            for out in flows_to(lw, p.node, p.kind, element) {
                let from = Port {
                    node: p.node,
                    kind: out,
                };
                match dest.get(&from) {
                    Some(to) if inside(to.node) => stack.push(*to),
                    _ => return true,
                }
            }
        }
        false
    };
    // flows entering the loop: links from outside, and the solutions of its circuits
    let mut entries: Vec<(Port, String, Option<Phase>, BTreeSet<Element>)> = Vec::new();
    for l in links {
        if inside(l.to.node) && !inside(l.from.node) {
            let phase_of = |port: Port| {
                lw.ports(port.node)
                    .into_iter()
                    .find(|p| p.kind == port.kind)
                    .and_then(|p| p.phase)
            };
            let phase = phase_of(l.to).or_else(|| phase_of(l.from));
            let carried = reach.get(&l.from.node).cloned().unwrap_or_default();
            entries.push((l.to, port_name(l.to.node, l.to.kind), phase, carried));
        }
    }
    for &n in members {
        let NodeRef::Circuit(id) = n else { continue };
        let c = &lw.doc.circuits[id.0].circuit;
        for (i, s) in c.sections.iter().enumerate() {
            if s.solution.is_none() {
                continue;
            }
            let kind = match s.kind {
                SectionKind::Scrub => PortKind::ScrubInlet,
                SectionKind::Strip => PortKind::StripInlet,
                SectionKind::Wash | SectionKind::Other => PortKind::SectionInlet(i),
                SectionKind::Extraction => continue,
            };
            let port = Port { node: n, kind };
            if dest.values().any(|p| *p == port) {
                continue;
            }
            entries.push((
                port,
                format!(
                    "the {} solution of {}",
                    s.kind.as_str(),
                    lw.doc_node_name(n)
                ),
                Some(Phase::Aqueous),
                BTreeSet::new(),
            ));
        }
    }
    for (port, name, phase, carried) in &entries {
        if !escapes(*port, None) {
            let ph = match phase {
                Some(Phase::Organic) => "organic",
                Some(Phase::Aqueous) => "aqueous",
                Some(Phase::Solid) => "solids",
                None => "stream",
            };
            return Some(format!(
                "the {ph} entering at {name} never leaves the loop: its flow grows without bound and no steady state exists"
            ));
        }
        let trapped: Vec<&str> = carried
            .iter()
            .filter(|e| !escapes(*port, Some(**e)))
            .map(|e| e.symbol())
            .collect();
        if !trapped.is_empty() {
            return Some(format!(
                "{} entering at {name} never {} the loop (no circuit on the way extracts {}): {} accumulate{}",
                trapped.join(", "),
                if trapped.len() == 1 { "leaves" } else { "leave" },
                if trapped.len() == 1 { "it" } else { "them" },
                if trapped.len() == 1 { "it" } else { "they" },
                if trapped.len() == 1 { "s" } else { "" }
            ));
        }
    }
    None
}

/// The parsed document as the operating-variable accessors see it (for the existence check).
impl Parts for RawDoc {
    fn feed(&self, id: FeedId) -> Option<&Feed> {
        self.feeds.get(id.0).map(|f| &f.feed)
    }
    fn circuit(&self, id: CircuitId) -> Option<&Circuit> {
        self.circuits.get(id.0).map(|c| &c.circuit)
    }
    fn splitter(&self, id: SplitterId) -> Option<&Splitter> {
        self.splitters.get(id.0).map(|s| &s.node)
    }
}

/// Resolves one `[optimize] free` entry: its `of` to the target its kind names
/// ([`crate::operating::KindInfo::of`]), then checks that the flowsheet has the variable.
fn resolve_free(cx: &mut Cx<'_>, lw: &Lowerer<'_>, f: &RawFree) -> Option<OperatingVar> {
    let bad = |cx: &mut Cx<'_>, msg: String, help: String| {
        cx.error(codes::BAD_OPTIMIZE, msg, f.of.span.clone(), Some(help));
    };
    let kind = f.var.v;
    let info = kind.info();
    let var = kind.as_str();
    let (node_name, sub) = match f.of.v.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (f.of.v.as_str(), None),
    };
    let node = lw.names.get(node_name).copied();
    let target = match (info.of, node) {
        (TargetKind::Feed, Some(NodeRef::Feed(id))) => Target::Feed(id),
        (TargetKind::Circuit, Some(NodeRef::Circuit(id))) => Target::Circuit(id),
        (TargetKind::SplitterOutlet, Some(NodeRef::Splitter(id))) => {
            let s = &lw.doc.splitters[id.0].node;
            match sub.and_then(|o| s.outlets.iter().position(|(n, _)| n == o)) {
                Some(i) => Target::SplitterOutlet(id, i),
                None => {
                    let outs: Vec<&str> = s.outlets.iter().map(|(n, _)| n.as_str()).collect();
                    bad(cx, format!("`optimize.free` {var}: \"{}\" does not name an outlet of splitter \"{}\"", truncate(&f.of.v), s.name),
                        format!("write \"{}.<outlet>\" with one of: {}", s.name, outs.join(", ")));
                    return None;
                }
            }
        }
        (TargetKind::CircuitSection, Some(NodeRef::Circuit(id))) => {
            let c = &lw.doc.circuits[id.0].circuit;
            let names: Vec<&str> = c.sections.iter().map(|s| s.name.as_str()).collect();
            let Some(i) = sub.and_then(|o| names.iter().position(|n| *n == o)) else {
                bad(
                    cx,
                    format!(
                        "`optimize.free` {var}: \"{}\" does not name a section of circuit \"{}\"",
                        truncate(&f.of.v),
                        c.name
                    ),
                    format!(
                        "write \"{}.<section>\" with one of: {}",
                        c.name,
                        names.join(", ")
                    ),
                );
                return None;
            };
            Target::CircuitSection(id, i)
        }
        (of, _) => {
            let wants = of.wants();
            bad(
                cx,
                format!(
                    "`optimize.free` {var}: \"{}\" is not {wants}",
                    truncate(&f.of.v)
                ),
                format!("`of` must name {wants}"),
            );
            return None;
        }
    };
    let v = OperatingVar::new(kind, target)?;
    if crate::operating::value(lw.doc, v).is_some() {
        return Some(v);
    }
    // The target exists but lacks what the variable needs (a solution, a saponification...).
    let needs = info.needs;
    let (what, section) = match target {
        Target::Circuit(id) => (
            format!("circuit \"{}\"", lw.doc.circuits[id.0].circuit.name),
            "",
        ),
        Target::CircuitSection(id, i) => {
            let c = &lw.doc.circuits[id.0].circuit;
            let s = c.sections[i].name.as_str();
            (format!("section \"{s}\" of circuit \"{}\"", c.name), s)
        }
        _ => (format!("\"{}\"", truncate(&f.of.v)), ""),
    };
    bad(
        cx,
        format!("`optimize.free` {var}: {what} has no {needs} to vary"),
        info.needs_help.replace("{section}", section),
    );
    None
}
