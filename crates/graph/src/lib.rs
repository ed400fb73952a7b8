//! sxplan-graph: expansion of a validated [`Flowsheet`] into the stage graph, and its topology.
//!
//! Every SX circuit becomes a chain of stage nodes (mixer-settlers) joined by internal organic
//! streams (stage `j -> j+1`) and aqueous streams (stage `j+1 -> j` inside a section, and from a
//! scrub section into the extraction section below). Feeds, units, splitters, mixers, purges and
//! products become auxiliary nodes; fresh scrub/strip/wash solutions and fresh organic become
//! source nodes, and circuit or unit outlets that no link takes become outlet (sink) nodes, so
//! every element that enters the plant has a way out and mass balances close over the graph.
//!
//! Topology is computed on the *block* graph, in which a circuit is one block and every other
//! node is its own block: strongly connected components reveal recycles, a depth-first search
//! picks tear streams (the streams closing each cycle), and the blocks are put in an order in
//! which each block's inlets are computed before it once the tear streams are given.
//!
//! petgraph is private to this crate: every public signature uses the typed ids below.
//!
//! ```
//! use sxplan_graph::StageGraph;
//! # fn demo(flowsheet: &sxplan_model::Flowsheet) -> Result<(), sxplan_graph::GraphError> {
//! let graph = StageGraph::build(flowsheet)?;
//! println!("{} stages, {} streams, {} recycles", graph.n_stages(), graph.n_streams(), graph.n_recycles());
//! let dot = graph.to_dot();
//! # let _ = dot; Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use petgraph::graph::{DiGraph, NodeIndex};
use sxplan_model::{
    CircuitId, FeedId, FeedKind, Flowsheet, MixerId, NodeRef, Phase, Port, PortKind, ProductId,
    PurgeId, SectionKind, SplitterId, UnitId,
};

/// Index of a node of the stage graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub usize);

/// Index of a stage node in [`StageGraph::stages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageId(pub usize);

/// Index of a stream (edge) in [`StageGraph::streams`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub usize);

/// Index of a block (a circuit, or one auxiliary node) in [`StageGraph::blocks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockId(pub usize);

/// What a node of the stage graph is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A mixer-settler stage.
    Stage {
        /// The stage's id.
        stage: StageId,
    },
    /// A flowsheet feed (source).
    Feed {
        /// The feed.
        feed: FeedId,
    },
    /// A linear unit (leach, solid-liquid separation, impurity removal, precipitation, calcination).
    Unit {
        /// The unit.
        unit: UnitId,
    },
    /// A splitter.
    Splitter {
        /// The splitter.
        splitter: SplitterId,
    },
    /// A mixer.
    Mixer {
        /// The mixer.
        mixer: MixerId,
    },
    /// A purge (sink).
    Purge {
        /// The purge.
        purge: PurgeId,
    },
    /// A product (sink).
    Product {
        /// The product.
        product: ProductId,
    },
    /// Fresh aqueous solution (scrub, strip, wash) entering a section of a circuit (source).
    Solution {
        /// The circuit.
        circuit: CircuitId,
        /// Section index in the circuit.
        section: usize,
    },
    /// Fresh organic entering stage 1 of a circuit whose organic inlet is not linked (source).
    FreshOrganic {
        /// The circuit.
        circuit: CircuitId,
    },
    /// An outlet port that no link takes: the stream leaves the plant here (sink).
    Outlet {
        /// The port.
        port: Port,
    },
}

impl NodeKind {
    /// True for nodes that only emit streams.
    pub fn is_source(&self) -> bool {
        matches!(
            self,
            NodeKind::Feed { .. } | NodeKind::Solution { .. } | NodeKind::FreshOrganic { .. }
        )
    }

    /// True for nodes that only receive streams.
    pub fn is_sink(&self) -> bool {
        matches!(
            self,
            NodeKind::Purge { .. } | NodeKind::Product { .. } | NodeKind::Outlet { .. }
        )
    }
}

/// A node of the stage graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's id.
    pub id: NodeId,
    /// What it is.
    pub kind: NodeKind,
    /// Human-readable name (`PrNd/12`, `feed leach`, `PrNd.raffinate (outlet)`).
    pub name: String,
    /// The block the node belongs to.
    pub block: BlockId,
}

/// A stage of a circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The stage's id.
    pub id: StageId,
    /// Its node.
    pub node: NodeId,
    /// The circuit.
    pub circuit: CircuitId,
    /// Circuit-wide stage number, 1-based.
    pub number: usize,
    /// Index of its section in the circuit.
    pub section: usize,
    /// True when it receives the aqueous outlet of the next stage (number + 1).
    pub aqueous_from_next: bool,
}

/// A stream between two nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The stream's id.
    pub id: StreamId,
    /// Phase carried.
    pub phase: Phase,
    /// Node the stream leaves.
    pub from: NodeId,
    /// Node the stream enters.
    pub to: NodeId,
    /// Flowsheet port it leaves, when it leaves through a named port.
    pub from_port: Option<Port>,
    /// Flowsheet port it enters, when it enters through a named port.
    pub to_port: Option<Port>,
    /// True for streams between two stages of the same circuit.
    pub internal: bool,
    /// Readable name (`PrNd.raffinate -> product.La`).
    pub name: String,
}

/// A block of the topology: one circuit, or one auxiliary node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// An SX circuit with its stages (in stage order).
    Circuit {
        /// The circuit.
        circuit: CircuitId,
        /// Its stages, stage 1 first.
        stages: Vec<StageId>,
    },
    /// Any other node.
    Node {
        /// The node.
        node: NodeId,
    },
}

/// Errors building the stage graph from a flowsheet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A link or product refers to a node id that is not in the flowsheet (the model's
    /// validation should have caught it).
    #[error("{what}: refers to {node} which is not in the flowsheet")]
    DanglingReference {
        /// Where the reference occurs.
        what: String,
        /// The missing node.
        node: String,
    },
    /// A port cannot be mapped to a stage (for example a raffinate port on a circuit without
    /// an extraction section, or a feed-point stage outside the circuit).
    #[error("{port}: {message}")]
    BadPort {
        /// The port, readable.
        port: String,
        /// What is wrong.
        message: String,
    },
}

/// The expanded stage graph with its topology.
#[derive(Debug, Clone)]
pub struct StageGraph {
    nodes: Vec<Node>,
    stages: Vec<Stage>,
    streams: Vec<Stream>,
    blocks: Vec<Block>,
    circuit_stages: Vec<Vec<StageId>>,
    tears: Vec<StreamId>,
    order: Vec<BlockId>,
    recycle_groups: Vec<Vec<BlockId>>,
    graph: DiGraph<NodeId, StreamId>,
}

struct Builder<'a> {
    fs: &'a Flowsheet,
    nodes: Vec<Node>,
    stages: Vec<Stage>,
    streams: Vec<Stream>,
    blocks: Vec<Block>,
    circuit_stages: Vec<Vec<StageId>>,
    node_of: BTreeMap<NodeRef, NodeId>,
    /// Ports some stream already leaves (kept with `streams` so lookups are not scans).
    from_ports: std::collections::BTreeSet<Port>,
    /// (node, aqueous?) of external streams leaving a circuit stage through a named port.
    circuit_outflows: std::collections::BTreeSet<(NodeId, bool)>,
    /// Phase of the first stream entering each node.
    first_inflow: BTreeMap<NodeId, Phase>,
}

impl Builder<'_> {
    fn add_node(&mut self, kind: NodeKind, name: String, block: Option<BlockId>) -> NodeId {
        let id = NodeId(self.nodes.len());
        let block = block.unwrap_or_else(|| {
            let b = BlockId(self.blocks.len());
            self.blocks.push(Block::Node { node: id });
            b
        });
        self.nodes.push(Node {
            id,
            kind,
            name,
            block,
        });
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn add_stream(
        &mut self,
        phase: Phase,
        from: NodeId,
        to: NodeId,
        from_port: Option<Port>,
        to_port: Option<Port>,
        internal: bool,
    ) -> StreamId {
        let id = StreamId(self.streams.len());
        let name = format!("{} -> {}", self.nodes[from.0].name, self.nodes[to.0].name);
        if let Some(p) = from_port {
            self.from_ports.insert(p);
            if !internal && matches!(p.node, NodeRef::Circuit(_)) {
                self.circuit_outflows
                    .insert((from, phase == Phase::Aqueous));
            }
        }
        self.first_inflow.entry(to).or_insert(phase);
        self.streams.push(Stream {
            id,
            phase,
            from,
            to,
            from_port,
            to_port,
            internal,
            name,
        });
        id
    }

    fn port_name(&self, port: Port) -> String {
        let node = self.fs.node_name(port.node);
        format!("{node} port {:?}", port.kind)
    }

    /// Node (stage node for circuits) at which `port` attaches.
    fn port_node(&self, port: Port) -> Result<NodeId, GraphError> {
        match port.node {
            NodeRef::Circuit(cid) => {
                let c =
                    self.fs
                        .circuits
                        .get(cid.0)
                        .ok_or_else(|| GraphError::DanglingReference {
                            what: self.port_name(port),
                            node: format!("circuit #{}", cid.0),
                        })?;
                let stages = &self.circuit_stages[cid.0];
                let n = stages.len();
                let bad = |msg: &str| GraphError::BadPort {
                    port: self.port_name(port),
                    message: msg.to_string(),
                };
                let stage_no = c.port_stage(port.kind).ok_or_else(|| {
                    bad(match port.kind {
                        PortKind::Raffinate => "the circuit has no extraction section",
                        PortKind::ScrubInlet => "the circuit has no scrub section",
                        PortKind::StripInlet | PortKind::StripLiquor => {
                            "the circuit has no strip section"
                        }
                        PortKind::FeedPoint(_) => "no such feed point",
                        PortKind::SectionInlet(_) | PortKind::SectionOutlet(_) => "no such section",
                        _ => "not a circuit port",
                    })
                })?;
                if stage_no == 0 || stage_no > n {
                    return Err(bad(&format!("stage {stage_no} is outside 1..={n}")));
                }
                Ok(self.stages[stages[stage_no - 1].0].node)
            }
            other => {
                self.node_of
                    .get(&other)
                    .copied()
                    .ok_or_else(|| GraphError::DanglingReference {
                        what: self.port_name(port),
                        node: self.fs.node_name(other),
                    })
            }
        }
    }

    fn phase_of_circuit_port(&self, port: Port) -> Phase {
        match port.kind {
            PortKind::OrganicInlet | PortKind::LoadedOrganic | PortKind::StrippedOrganic => {
                Phase::Organic
            }
            PortKind::FeedPoint(k) => match port.node {
                NodeRef::Circuit(c) => self.fs.circuits[c.0]
                    .feed_points
                    .get(k)
                    .map_or(Phase::Aqueous, |f| f.phase),
                _ => Phase::Aqueous,
            },
            _ => Phase::Aqueous,
        }
    }
}

impl StageGraph {
    /// Expands `flowsheet` into the stage graph and computes its topology.
    pub fn build(flowsheet: &Flowsheet) -> Result<StageGraph, GraphError> {
        let fs = flowsheet;
        let mut b = Builder {
            fs,
            nodes: Vec::new(),
            stages: Vec::new(),
            streams: Vec::new(),
            blocks: Vec::new(),
            circuit_stages: Vec::new(),
            node_of: BTreeMap::new(),
            from_ports: std::collections::BTreeSet::new(),
            circuit_outflows: std::collections::BTreeSet::new(),
            first_inflow: BTreeMap::new(),
        };
        // Circuits: stage nodes and internal streams.
        for (ci, c) in fs.circuits.iter().enumerate() {
            let cid = CircuitId(ci);
            let block = BlockId(b.blocks.len());
            b.blocks.push(Block::Circuit {
                circuit: cid,
                stages: Vec::new(),
            });
            let mut ids = Vec::new();
            for (si, s) in c.sections.iter().enumerate() {
                for k in 0..s.n_stages {
                    let number = s.first_stage + k;
                    let sid = StageId(b.stages.len());
                    let node = b.add_node(
                        NodeKind::Stage { stage: sid },
                        format!("{}/{}", c.name, number),
                        Some(block),
                    );
                    b.stages.push(Stage {
                        id: sid,
                        node,
                        circuit: cid,
                        number,
                        section: si,
                        aqueous_from_next: false,
                    });
                    ids.push(sid);
                }
            }
            // Stage numbers must be 1..=N in order for the chain.
            for (k, sid) in ids.iter().enumerate() {
                if b.stages[sid.0].number != k + 1 {
                    return Err(GraphError::BadPort {
                        port: format!("circuit {}", c.name),
                        message: format!(
                            "stage numbering is not contiguous: stage {} found at position {}",
                            b.stages[sid.0].number,
                            k + 1
                        ),
                    });
                }
            }
            let n = ids.len();
            for sid in &ids {
                let number = b.stages[sid.0].number;
                b.stages[sid.0].aqueous_from_next = c.aqueous_from_next(number);
            }
            for k in 0..n {
                let node = b.stages[ids[k].0].node;
                if k + 1 < n {
                    let next = b.stages[ids[k + 1].0].node;
                    b.add_stream(Phase::Organic, node, next, None, None, true);
                    if b.stages[ids[k].0].aqueous_from_next {
                        b.add_stream(Phase::Aqueous, next, node, None, None, true);
                    }
                }
            }
            if let Block::Circuit { stages, .. } = &mut b.blocks[block.0] {
                stages.clone_from(&ids);
            }
            b.circuit_stages.push(ids);
        }
        // Auxiliary nodes.
        for f in &fs.feeds {
            let id = b.add_node(
                NodeKind::Feed { feed: f.id },
                format!("feed {}", f.name),
                None,
            );
            b.node_of.insert(NodeRef::Feed(f.id), id);
        }
        for u in &fs.units {
            let id = b.add_node(
                NodeKind::Unit { unit: u.id },
                format!("unit {}", u.name),
                None,
            );
            b.node_of.insert(NodeRef::Unit(u.id), id);
        }
        for s in &fs.splitters {
            let id = b.add_node(
                NodeKind::Splitter { splitter: s.id },
                format!("splitter {}", s.name),
                None,
            );
            b.node_of.insert(NodeRef::Splitter(s.id), id);
        }
        for m in &fs.mixers {
            let id = b.add_node(
                NodeKind::Mixer { mixer: m.id },
                format!("mixer {}", m.name),
                None,
            );
            b.node_of.insert(NodeRef::Mixer(m.id), id);
        }
        for p in &fs.purges {
            let id = b.add_node(
                NodeKind::Purge { purge: p.id },
                format!("purge {}", p.name),
                None,
            );
            b.node_of.insert(NodeRef::Purge(p.id), id);
        }
        for p in &fs.products {
            let id = b.add_node(
                NodeKind::Product { product: p.id },
                format!("product {}", p.name),
                None,
            );
            b.node_of.insert(NodeRef::Product(p.id), id);
        }
        // Links.
        for l in &fs.links {
            let from = b.port_node(l.from)?;
            let to = b.port_node(l.to)?;
            b.add_stream(l.phase, from, to, Some(l.from), Some(l.to), false);
        }
        // Products draw from a port: when no link already ends at the product, connect it.
        for p in &fs.products {
            let pnode = b.node_of[&NodeRef::Product(p.id)];
            let linked = b.first_inflow.contains_key(&pnode);
            let from_used = fs.link_from(p.from).is_some();
            if !linked && !from_used {
                let from = b.port_node(p.from)?;
                let phase = match p.from.node {
                    NodeRef::Circuit(_) => b.phase_of_circuit_port(p.from),
                    _ => match p.kind {
                        sxplan_model::ProductKind::Organic => Phase::Organic,
                        sxplan_model::ProductKind::Oxide => Phase::Solid,
                        sxplan_model::ProductKind::Aqueous => Phase::Aqueous,
                    },
                };
                let to_port = Port {
                    node: NodeRef::Product(p.id),
                    kind: PortKind::Inlet(0),
                };
                b.add_stream(phase, from, pnode, Some(p.from), Some(to_port), false);
            }
        }
        // Sources for fresh solutions and fresh organic; sinks for unlinked outlets.
        for (ci, c) in fs.circuits.iter().enumerate() {
            let cid = CircuitId(ci);
            for (si, s) in c.sections.iter().enumerate() {
                if let Some(sol) = &s.solution {
                    let ids = &b.circuit_stages[ci];
                    if sol.stage == 0 || sol.stage > ids.len() {
                        return Err(GraphError::BadPort {
                            port: format!("circuit {} section {}", c.name, s.name),
                            message: format!(
                                "solution stage {} is outside 1..={}",
                                sol.stage,
                                ids.len()
                            ),
                        });
                    }
                    let stage_node = b.stages[ids[sol.stage - 1].0].node;
                    let src = b.add_node(
                        NodeKind::Solution {
                            circuit: cid,
                            section: si,
                        },
                        format!("{} {} solution", c.name, s.name),
                        None,
                    );
                    b.add_stream(Phase::Aqueous, src, stage_node, None, None, false);
                }
            }
            let inlet = Port {
                node: NodeRef::Circuit(cid),
                kind: PortKind::OrganicInlet,
            };
            if fs.link_to(inlet).is_none() && !b.circuit_stages[ci].is_empty() {
                let stage_node = b.stages[b.circuit_stages[ci][0].0].node;
                let src = b.add_node(
                    NodeKind::FreshOrganic { circuit: cid },
                    format!("{} fresh organic", c.name),
                    None,
                );
                b.add_stream(Phase::Organic, src, stage_node, None, Some(inlet), false);
            }
            // Outlets: raffinate/section outlets (aqueous leaving a section's first stage that
            // does not pass down), and the organic leaving stage N.
            let mut outlets: Vec<PortKind> = Vec::new();
            for (si, s) in c.sections.iter().enumerate() {
                if s.aqueous_to_previous && si > 0 {
                    continue;
                }
                outlets.push(match s.kind {
                    SectionKind::Extraction => PortKind::Raffinate,
                    SectionKind::Strip => PortKind::StripLiquor,
                    SectionKind::Scrub => PortKind::SectionOutlet(si),
                    SectionKind::Wash | SectionKind::Other => PortKind::SectionOutlet(si),
                });
            }
            outlets.push(if c.has_strip() {
                PortKind::StrippedOrganic
            } else {
                PortKind::LoadedOrganic
            });
            for kind in outlets {
                let port = Port {
                    node: NodeRef::Circuit(cid),
                    kind,
                };
                // A port may also be named through an equivalent section-outlet index.
                let taken = b.from_ports.contains(&port) || aqueous_outlet_taken(&b, cid, kind);
                if !taken {
                    let from = b.port_node(port)?;
                    let phase = b.phase_of_circuit_port(port);
                    let sink = b.add_node(
                        NodeKind::Outlet { port },
                        format!("{} {} (outlet)", c.name, port_label(kind)),
                        None,
                    );
                    b.add_stream(phase, from, sink, Some(port), None, false);
                }
            }
        }
        // Unlinked outlets of units, splitters and mixers.
        let mut extra: Vec<(Port, NodeId, Phase)> = Vec::new();
        for u in &fs.units {
            let node = b.node_of[&NodeRef::Unit(u.id)];
            for (kind, phase) in [
                (PortKind::Outlet(0), u.kind.outlet_phase()),
                (PortKind::Residue, u.kind.residue_phase()),
            ] {
                extra.push((
                    Port {
                        node: NodeRef::Unit(u.id),
                        kind,
                    },
                    node,
                    phase,
                ));
            }
        }
        for s in &fs.splitters {
            let node = b.node_of[&NodeRef::Splitter(s.id)];
            let phase = inlet_phase(&b, node);
            for k in 0..s.outlets.len() {
                extra.push((
                    Port {
                        node: NodeRef::Splitter(s.id),
                        kind: PortKind::Outlet(k),
                    },
                    node,
                    phase,
                ));
            }
        }
        for m in &fs.mixers {
            let node = b.node_of[&NodeRef::Mixer(m.id)];
            let phase = inlet_phase(&b, node);
            extra.push((
                Port {
                    node: NodeRef::Mixer(m.id),
                    kind: PortKind::Outlet(0),
                },
                node,
                phase,
            ));
        }
        for f in &fs.feeds {
            let node = b.node_of[&NodeRef::Feed(f.id)];
            let phase = match &f.kind {
                FeedKind::Aqueous(_) => Phase::Aqueous,
                FeedKind::Organic(_) => Phase::Organic,
                FeedKind::Mud(_) => Phase::Solid,
            };
            extra.push((
                Port {
                    node: NodeRef::Feed(f.id),
                    kind: PortKind::Outlet(0),
                },
                node,
                phase,
            ));
        }
        for (port, node, phase) in extra {
            if !b.from_ports.contains(&port) {
                let sink = b.add_node(
                    NodeKind::Outlet { port },
                    format!(
                        "{} {} (outlet)",
                        fs.node_name(port.node),
                        port_label(port.kind)
                    ),
                    None,
                );
                b.add_stream(phase, node, sink, Some(port), None, false);
            }
        }
        let mut graph = DiGraph::new();
        for n in &b.nodes {
            graph.add_node(n.id);
        }
        for s in &b.streams {
            graph.add_edge(NodeIndex::new(s.from.0), NodeIndex::new(s.to.0), s.id);
        }
        let mut sg = StageGraph {
            nodes: b.nodes,
            stages: b.stages,
            streams: b.streams,
            blocks: b.blocks,
            circuit_stages: b.circuit_stages,
            tears: Vec::new(),
            order: Vec::new(),
            recycle_groups: Vec::new(),
            graph,
        };
        sg.compute_topology();
        Ok(sg)
    }

    /// Recycles (SCCs of the block graph), tear streams and a computation order.
    fn compute_topology(&mut self) {
        let nb = self.blocks.len();
        let mut bg: DiGraph<BlockId, StreamId> = DiGraph::new();
        for k in 0..nb {
            bg.add_node(BlockId(k));
        }
        for s in &self.streams {
            if s.internal {
                continue;
            }
            let fb = self.nodes[s.from.0].block;
            let tb = self.nodes[s.to.0].block;
            bg.add_edge(NodeIndex::new(fb.0), NodeIndex::new(tb.0), s.id);
        }
        // Tarjan gives SCCs in reverse topological order.
        let mut sccs = petgraph::algo::tarjan_scc(&bg);
        sccs.reverse();
        let mut tears = Vec::new();
        let mut order = Vec::new();
        let mut groups = Vec::new();
        for scc in sccs {
            let members: Vec<BlockId> = scc.iter().map(|ix| BlockId(ix.index())).collect();
            let self_loop =
                members.len() == 1 && bg.edges_connecting(scc[0], scc[0]).next().is_some();
            if members.len() == 1 && !self_loop {
                order.push(members[0]);
                continue;
            }
            // Depth-first search inside the SCC from its lowest block id; back edges are tears.
            let inside: std::collections::BTreeSet<usize> = members.iter().map(|b| b.0).collect();
            let mut state = vec![0u8; nb]; // 0 new, 1 on stack, 2 done
            let mut post = Vec::new();
            let mut sorted: Vec<usize> = inside.iter().copied().collect();
            sorted.sort_unstable();
            for &start in &sorted {
                if state[start] != 0 {
                    continue;
                }
                // Iterative DFS with explicit edge cursors.
                let mut stack: Vec<DfsFrame> = Vec::new();
                let succ = |v: usize| -> Vec<(usize, StreamId)> {
                    let mut e: Vec<(usize, StreamId)> = bg
                        .edges(NodeIndex::new(v))
                        .filter(|e| inside.contains(&petgraph::visit::EdgeRef::target(e).index()))
                        .map(|e| {
                            (
                                petgraph::visit::EdgeRef::target(&e).index(),
                                *petgraph::visit::EdgeRef::weight(&e),
                            )
                        })
                        .collect();
                    e.sort_unstable();
                    e
                };
                state[start] = 1;
                stack.push((start, succ(start), 0));
                while let Some((v, edges, cursor)) = stack.last_mut() {
                    if *cursor < edges.len() {
                        let (w, sid) = edges[*cursor];
                        *cursor += 1;
                        match state[w] {
                            0 => {
                                state[w] = 1;
                                let e = succ(w);
                                stack.push((w, e, 0));
                            }
                            1 => tears.push(sid),
                            _ => {}
                        }
                    } else {
                        state[*v] = 2;
                        post.push(*v);
                        stack.pop();
                    }
                }
            }
            post.reverse();
            order.extend(post.iter().map(|&v| BlockId(v)));
            let mut g = members.clone();
            g.sort_unstable();
            groups.push(g);
        }
        tears.sort_unstable();
        tears.dedup();
        self.tears = tears;
        self.order = order;
        self.recycle_groups = groups;
    }

    /// All nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// All stages.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// All streams.
    pub fn streams(&self) -> &[Stream] {
        &self.streams
    }

    /// All blocks.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// The stage with this id.
    pub fn stage(&self, id: StageId) -> &Stage {
        &self.stages[id.0]
    }

    /// The stream with this id.
    pub fn stream(&self, id: StreamId) -> &Stream {
        &self.streams[id.0]
    }

    /// Stages of a circuit, stage 1 first (empty for an unknown circuit).
    pub fn circuit_stages(&self, circuit: CircuitId) -> &[StageId] {
        self.circuit_stages
            .get(circuit.0)
            .map_or(&[], Vec::as_slice)
    }

    /// Streams entering a node.
    pub fn inlets(&self, node: NodeId) -> Vec<StreamId> {
        let mut v: Vec<StreamId> = self
            .graph
            .edges_directed(NodeIndex::new(node.0), petgraph::Direction::Incoming)
            .map(|e| *petgraph::visit::EdgeRef::weight(&e))
            .collect();
        v.sort_unstable();
        v
    }

    /// Streams leaving a node.
    pub fn outlets(&self, node: NodeId) -> Vec<StreamId> {
        let mut v: Vec<StreamId> = self
            .graph
            .edges_directed(NodeIndex::new(node.0), petgraph::Direction::Outgoing)
            .map(|e| *petgraph::visit::EdgeRef::weight(&e))
            .collect();
        v.sort_unstable();
        v
    }

    /// Tear streams: fixing these makes the block graph acyclic.
    pub fn tears(&self) -> &[StreamId] {
        &self.tears
    }

    /// Blocks in computation order (each block after the blocks feeding it, tears aside).
    pub fn order(&self) -> &[BlockId] {
        &self.order
    }

    /// Groups of blocks that form recycle loops (strongly connected components).
    pub fn recycle_groups(&self) -> &[Vec<BlockId>] {
        &self.recycle_groups
    }

    /// Number of stages.
    pub fn n_stages(&self) -> usize {
        self.stages.len()
    }

    /// Number of streams (internal and external).
    pub fn n_streams(&self) -> usize {
        self.streams.len()
    }

    /// Number of recycles: the tear streams needed to break every loop.
    pub fn n_recycles(&self) -> usize {
        self.tears.len()
    }

    /// Graphviz DOT of the graph: one cluster per circuit, organic edges blue, aqueous black,
    /// tear streams dashed red.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph stage_graph {{");
        let _ = writeln!(out, "  rankdir=LR;");
        let _ = writeln!(out, "  node [shape=box, fontsize=10];");
        for (ci, ids) in self.circuit_stages.iter().enumerate() {
            let _ = writeln!(out, "  subgraph cluster_c{ci} {{");
            let label = ids
                .first()
                .map(|s| {
                    let name = &self.nodes[self.stages[s.0].node.0].name;
                    name.rsplit_once('/')
                        .map_or(name.as_str(), |(c, _)| c)
                        .to_string()
                })
                .unwrap_or_default();
            let _ = writeln!(out, "    label=\"{}\";", escape(&label));
            for s in ids {
                let node = self.stages[s.0].node;
                let _ = writeln!(
                    out,
                    "    n{} [label=\"{}\"];",
                    node.0,
                    escape(&self.nodes[node.0].name)
                );
            }
            let _ = writeln!(out, "  }}");
        }
        for n in &self.nodes {
            if matches!(n.kind, NodeKind::Stage { .. }) {
                continue;
            }
            let shape = if n.kind.is_source() {
                "invhouse"
            } else if n.kind.is_sink() {
                "house"
            } else {
                "ellipse"
            };
            let _ = writeln!(
                out,
                "  n{} [label=\"{}\", shape={shape}];",
                n.id.0,
                escape(&n.name)
            );
        }
        for s in &self.streams {
            let color = match s.phase {
                Phase::Organic => "blue",
                Phase::Aqueous => "black",
                Phase::Solid => "brown",
            };
            let style = if self.tears.contains(&s.id) {
                ", style=dashed, color=red"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  n{} -> n{} [color={color}{style}, tooltip=\"s{}\"];",
                s.from.0, s.to.0, s.id.0
            );
        }
        let _ = writeln!(out, "}}");
        out
    }
}

/// A DFS frame: block, its successors inside the SCC (with the stream), next successor.
type DfsFrame = (usize, Vec<(usize, StreamId)>, usize);

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn port_label(kind: PortKind) -> String {
    match kind {
        PortKind::Raffinate => "raffinate".into(),
        PortKind::ScrubInlet => "scrub_inlet".into(),
        PortKind::StripInlet => "strip_inlet".into(),
        PortKind::StripLiquor => "strip_liquor".into(),
        PortKind::OrganicInlet => "organic_inlet".into(),
        PortKind::LoadedOrganic => "loaded_organic".into(),
        PortKind::StrippedOrganic => "stripped_organic".into(),
        PortKind::FeedPoint(k) => format!("feed_point{k}"),
        PortKind::SectionInlet(k) => format!("section{k}_inlet"),
        PortKind::SectionOutlet(k) => format!("section{k}_outlet"),
        PortKind::Inlet(k) => format!("inlet{k}"),
        PortKind::Outlet(k) => format!("outlet{k}"),
        PortKind::Residue => "residue".into(),
    }
}

/// True when a stream already leaves the same stage's aqueous outlet through another name
/// of the port (e.g. `SectionOutlet(i)` of a strip section vs `StripLiquor`).
fn aqueous_outlet_taken(b: &Builder<'_>, cid: CircuitId, kind: PortKind) -> bool {
    let Ok(node) = b.port_node(Port {
        node: NodeRef::Circuit(cid),
        kind,
    }) else {
        return false;
    };
    let is_aq = !matches!(kind, PortKind::LoadedOrganic | PortKind::StrippedOrganic);
    b.circuit_outflows.contains(&(node, is_aq))
}

/// Phase of the first stream entering `node` (aqueous when none does).
fn inlet_phase(b: &Builder<'_>, node: NodeId) -> Phase {
    b.first_inflow.get(&node).copied().unwrap_or(Phase::Aqueous)
}

#[cfg(test)]
mod tests;
