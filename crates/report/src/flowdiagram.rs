//! Circuit-level flowsheet diagram (one box per circuit, feed, unit, splitter, mixer, product,
//! purge and fresh solution; one arrow per stream) as SVG and as Graphviz DOT.
//!
//! Built from the stream table of a simulation result, whose node names follow the stage
//! graph's naming: `CIRCUIT/k` is stage k of a circuit, other nodes are `feed X`, `unit X`,
//! `splitter X`, `mixer X`, `product X`, `purge X`, `CIRCUIT scrub solution`,
//! `CIRCUIT fresh organic`, `... (outlet)`. Stages collapse into their circuit; the stage
//! numbers go on the arrows. Tear streams (recycles) are dashed.
//!
//! The SVG layout is a simple layered one: each node's column is its longest path from a source
//! over non-recycle streams; arrows are drawn with plotters' path primitives (plotters has no
//! graph layout; Graphviz users can render `flowsheet.dot` instead).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::charts::phase_color;
use crate::input::SimView;

/// Kind of a diagram node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagramNodeKind {
    /// A circuit (bank of mixer-settlers).
    Circuit,
    /// A feed.
    Feed,
    /// Fresh scrub, strip or wash solution, or fresh organic.
    Solution,
    /// A linear unit.
    Unit,
    /// A splitter.
    Splitter,
    /// A mixer.
    Mixer,
    /// A product.
    Product,
    /// A purge.
    Purge,
    /// A stream leaving the plant through an unlinked outlet.
    Outlet,
}

impl DiagramNodeKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagramNodeKind::Circuit => "circuit",
            DiagramNodeKind::Feed => "feed",
            DiagramNodeKind::Solution => "solution",
            DiagramNodeKind::Unit => "unit",
            DiagramNodeKind::Splitter => "splitter",
            DiagramNodeKind::Mixer => "mixer",
            DiagramNodeKind::Product => "product",
            DiagramNodeKind::Purge => "purge",
            DiagramNodeKind::Outlet => "outlet",
        }
    }
}

/// A node of the circuit-level diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagramNode {
    /// Node label (circuit name, or the stage-graph node name).
    pub label: String,
    /// Kind.
    pub kind: DiagramNodeKind,
    /// Second line (stage count of a circuit).
    pub detail: String,
}

/// An arrow of the diagram (one stream).
#[derive(Debug, Clone, PartialEq)]
pub struct DiagramEdge {
    /// Index of the source node.
    pub from: usize,
    /// Index of the target node.
    pub to: usize,
    /// `aqueous`, `organic` or `solid`.
    pub phase: String,
    /// Stage ports (`24 -> `, `-> 1`), empty when neither end is a stage.
    pub label: String,
    /// Tear stream of a recycle.
    pub recycle: bool,
    /// Volumetric flow, L/h.
    pub flow_vol_l_per_h: f64,
}

/// The circuit-level diagram.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagram {
    /// Nodes, in order of first appearance in the stream table.
    pub nodes: Vec<DiagramNode>,
    /// Arrows, in stream order.
    pub edges: Vec<DiagramEdge>,
}

fn classify(
    name: &str,
    circuits: &BTreeMap<String, usize>,
) -> (String, DiagramNodeKind, Option<String>) {
    if let Some((c, k)) = name.rsplit_once('/') {
        if circuits.contains_key(c) && !k.is_empty() && k.chars().all(|ch| ch.is_ascii_digit()) {
            return (c.to_string(), DiagramNodeKind::Circuit, Some(k.to_string()));
        }
    }
    let kind = if name.ends_with("(outlet)") {
        DiagramNodeKind::Outlet
    } else if name.ends_with(" solution") || name.ends_with(" fresh organic") {
        DiagramNodeKind::Solution
    } else {
        match name.split_once(' ').map(|p| p.0) {
            Some("feed") => DiagramNodeKind::Feed,
            Some("unit") => DiagramNodeKind::Unit,
            Some("splitter") => DiagramNodeKind::Splitter,
            Some("mixer") => DiagramNodeKind::Mixer,
            Some("product") => DiagramNodeKind::Product,
            Some("purge") => DiagramNodeKind::Purge,
            _ => DiagramNodeKind::Unit,
        }
    };
    (name.to_string(), kind, None)
}

/// Builds the circuit-level diagram of a simulation result.
pub fn diagram(sim: &SimView) -> Diagram {
    let circuits: BTreeMap<String, usize> = sim
        .circuits
        .iter()
        .map(|c| (c.name.clone(), c.stages.len()))
        .collect();
    // stages per section, in order: "24 extraction + 21 scrub + 6 strip"
    let sections: BTreeMap<String, String> = sim
        .circuits
        .iter()
        .map(|c| {
            let mut runs: Vec<(String, usize)> = Vec::new();
            for st in &c.stages {
                match runs.last_mut() {
                    Some((k, m)) if *k == st.section => *m += 1,
                    _ => runs.push((st.section.clone(), 1)),
                }
            }
            let parts: Vec<String> = runs.iter().map(|(k, m)| format!("{m} {k}")).collect();
            (c.name.clone(), parts.join(" + "))
        })
        .collect();
    let mut d = Diagram::default();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut node_of = |d: &mut Diagram, name: &str| -> (usize, Option<String>) {
        let (label, kind, port) = classify(name, &circuits);
        let key = format!("{}:{label}", kind.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            let detail = match kind {
                DiagramNodeKind::Circuit => {
                    let n = circuits.get(&label).copied().unwrap_or(0);
                    match sections.get(&label) {
                        Some(p) if !p.is_empty() => format!("{n} stages: {p}"),
                        _ => format!("{n} stages"),
                    }
                }
                _ => String::new(),
            };
            d.nodes.push(DiagramNode {
                label: label.clone(),
                kind,
                detail,
            });
            d.nodes.len() - 1
        });
        (i, port)
    };
    for s in &sim.streams {
        let (from, p_from) = node_of(&mut d, &s.from);
        let (to, p_to) = node_of(&mut d, &s.to);
        let label = match (p_from, p_to) {
            (None, None) => String::new(),
            (Some(a), None) => format!("{a} ->"),
            (None, Some(b)) => format!("-> {b}"),
            (Some(a), Some(b)) => format!("{a} -> {b}"),
        };
        d.edges.push(DiagramEdge {
            from,
            to,
            phase: s.phase.clone(),
            label,
            recycle: s.tear,
            flow_vol_l_per_h: s.flow_vol_l_per_h,
        });
    }
    d
}

impl Diagram {
    /// Column of each node: longest path from a source over non-recycle, non-self edges
    /// (an unmarked cycle is cut where the relaxation would run past the node count).
    pub fn columns(&self) -> Vec<usize> {
        let n = self.nodes.len();
        let mut col = vec![0usize; n];
        for _ in 0..n {
            let mut changed = false;
            for e in &self.edges {
                if e.recycle || e.from == e.to {
                    continue;
                }
                let want = col[e.from] + 1;
                if want > col[e.to] && want < n.max(1) {
                    col[e.to] = want;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // sources (fresh solutions, feeds) sit just before the first node they feed, so a
        // circuit's scrub and strip solutions are drawn beside it and not in one far column
        let mut has_in = vec![false; n];
        for e in &self.edges {
            if !e.recycle && e.from != e.to {
                has_in[e.to] = true;
            }
        }
        for i in 0..n {
            if has_in[i] {
                continue;
            }
            let first = self
                .edges
                .iter()
                .filter(|e| e.from == i && !e.recycle && e.to != i)
                .map(|e| col[e.to])
                .min();
            if let Some(c) = first {
                col[i] = c.saturating_sub(1);
            }
        }
        col
    }

    /// Graphviz DOT text (left to right; aqueous blue, organic orange, solids grey; recycles
    /// dashed; arrows labelled with stage ports and flow).
    pub fn to_dot(&self, title: &str) -> String {
        let mut o = String::new();
        o.push_str(&format!("digraph \"{}\" {{\n", dot_escape(title)));
        o.push_str("  rankdir=LR;\n  node [fontname=\"sans-serif\", fontsize=11];\n  edge [fontname=\"sans-serif\", fontsize=9];\n");
        for (i, nd) in self.nodes.iter().enumerate() {
            let (shape, style) = match nd.kind {
                DiagramNodeKind::Circuit => ("box3d", "filled\", fillcolor=\"#e8eef7"),
                DiagramNodeKind::Feed => ("invhouse", "solid"),
                DiagramNodeKind::Solution => ("note", "solid"),
                DiagramNodeKind::Unit => ("box", "rounded"),
                DiagramNodeKind::Splitter | DiagramNodeKind::Mixer => ("diamond", "solid"),
                DiagramNodeKind::Product => ("house", "filled\", fillcolor=\"#e6f4e6"),
                DiagramNodeKind::Purge | DiagramNodeKind::Outlet => ("plaintext", "solid"),
            };
            let label = if nd.detail.is_empty() {
                dot_escape(&nd.label)
            } else {
                format!("{}\\n{}", dot_escape(&nd.label), dot_escape(&nd.detail))
            };
            o.push_str(&format!(
                "  n{i} [label=\"{label}\", shape={shape}, style=\"{style}\"];\n"
            ));
        }
        for e in &self.edges {
            let c = phase_color(&e.phase);
            let mut label = e.label.clone();
            if e.flow_vol_l_per_h > 0.0 {
                if !label.is_empty() {
                    label.push_str("\\n");
                }
                label.push_str(&format!("{:.4} m3/h", e.flow_vol_l_per_h / 1000.0));
            }
            o.push_str(&format!(
                "  n{} -> n{} [color=\"#{:02X}{:02X}{:02X}\", label=\"{}\"{}];\n",
                e.from,
                e.to,
                c.0,
                c.1,
                c.2,
                label,
                if e.recycle {
                    ", style=dashed, constraint=false"
                } else {
                    ""
                }
            ));
        }
        o.push_str("}\n");
        o
    }

    /// The diagram as SVG, laid out top to bottom (one layer per [`Diagram::columns`]) so a
    /// long train fits the page width: circuits as blocks with their stage counts per section,
    /// feeds, units, products; fresh solutions and unlinked outlets are left to the stream
    /// table (`streams.csv`) to keep the drawing readable. Every arrow carries its stream
    /// number, flow and main element, and a `<title>` with its full composition (shown on
    /// hover). `viewBox` and `max-width:100%` let it shrink to the page.
    pub fn to_svg(&self, title: &str) -> String {
        self.to_svg_with(title, &[])
    }

    /// [`Diagram::to_svg`] with the stream table of the simulation for the arrow labels and
    /// hover texts (`streams[i]` is edge `i`'s stream).
    pub fn to_svg_with(&self, title: &str, streams: &[crate::input::StreamView]) -> String {
        let shown =
            |k: DiagramNodeKind| !matches!(k, DiagramNodeKind::Solution | DiagramNodeKind::Outlet);
        let keep: Vec<bool> = self.nodes.iter().map(|n| shown(n.kind)).collect();
        let edges: Vec<(usize, &DiagramEdge)> = self
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| keep[e.from] && keep[e.to])
            .collect();
        let cols = self.columns();
        let n = self.nodes.len();
        // label of each kept edge: "S<id> <flow> m3/h <main element>"
        let label_of = |i: usize, e: &DiagramEdge| -> String {
            let id = streams.get(i).map_or(i, |s| s.id);
            let main = streams.get(i).and_then(main_element).unwrap_or_default();
            let solids = streams.get(i).map_or(0.0, |s| s.flow_mass_t_per_h);
            let flow = if e.flow_vol_l_per_h <= 0.0 && solids > 0.0 {
                format!("{} t/h", fmt_flow(solids))
            } else {
                format!("{} m3/h", fmt_flow(e.flow_vol_l_per_h / 1000.0))
            };
            format!("S{id} {flow} {main}").trim_end().to_string()
        };
        let labels: Vec<String> = edges.iter().map(|(i, e)| label_of(*i, e)).collect();
        const FONT: f64 = 11.0;
        let text_w = |t: &str, size: f64| (t.chars().count() as f64 * size * 0.62).ceil() as i32;
        // in-port slot width per target: the widest label arriving there
        let mut n_in = vec![0i32; n];
        let mut n_out = vec![0i32; n];
        let mut slot = vec![0i32; n];
        for ((_, e), l) in edges.iter().zip(&labels) {
            n_in[e.to] += 1;
            n_out[e.from] += 1;
            slot[e.to] = slot[e.to].max(text_w(l, FONT) + 10);
        }
        let box_w: Vec<i32> = (0..n)
            .map(|i| {
                let nd = &self.nodes[i];
                let t = text_w(&nd.label, 14.0).max(text_w(&nd.detail, 12.0)) + 16;
                t.max(12 + slot[i] * n_in[i])
                    .max(24 * (n_out[i] + 1))
                    .max(120)
            })
            .collect();
        const BOX_H: i32 = 44;
        const GAP_V: i32 = 78;
        const GAP_H: i32 = 24;
        let n_layers = (0..n)
            .filter(|i| keep[*i])
            .map(|i| cols[i])
            .max()
            .map_or(1, |m| m + 1);
        // order within a layer: by the mean x of the sources feeding a node (one barycentre pass)
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
        for i in (0..n).filter(|i| keep[*i]) {
            layers[cols[i]].push(i);
        }
        let mut x = vec![0i32; n];
        // a layer wider than the page wraps onto further rows, so the drawing stays within
        // about 1,400 px and shrinks little when it fits the page
        const MAX_ROW_W: i32 = 1360;
        let mut row_of = vec![0i32; n];
        let mut row = -1i32;
        let mut width = 0;
        for (l, layer) in layers.iter_mut().enumerate() {
            if l > 0 {
                let key = |i: usize| -> f64 {
                    let xs: Vec<f64> = edges
                        .iter()
                        .filter(|(_, e)| e.to == i && cols[e.from] < l)
                        .map(|(_, e)| (x[e.from] + box_w[e.from] / 2) as f64)
                        .collect();
                    if xs.is_empty() {
                        f64::MAX
                    } else {
                        xs.iter().sum::<f64>() / xs.len() as f64
                    }
                };
                let mut keyed: Vec<(f64, usize)> = layer.iter().map(|&i| (key(i), i)).collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                *layer = keyed.into_iter().map(|(_, i)| i).collect();
            }
            let mut cx = 20;
            row += 1;
            for &i in layer.iter() {
                if cx > 20 && cx + box_w[i] > MAX_ROW_W {
                    cx = 20;
                    row += 1;
                }
                x[i] = cx;
                row_of[i] = row;
                cx += box_w[i] + GAP_H;
            }
            width = width.max(cx);
        }
        let n_rows = (row + 1).max(1) as usize;
        let y = |i: usize| 70 + row_of[i] * (BOX_H + GAP_V);
        let n_back = edges
            .iter()
            .filter(|(_, e)| row_of[e.to] != row_of[e.from] + 1)
            .count() as i32;
        let w = width + 20 + 10 * n_back;
        let h = 70 + n_rows as i32 * (BOX_H + GAP_V) + 10;
        let mut o = String::new();
        let _ = write!(
            o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" style=\"max-width:100%;height:auto\" font-family=\"sans-serif\">\n<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\"/>\n"
        );
        let _ = writeln!(
            o,
            "<text x=\"20\" y=\"26\" font-size=\"18\">flowsheet {}</text>",
            esc(title)
        );
        let _ = writeln!(
            o,
            "<text x=\"20\" y=\"48\" font-size=\"12\">aqueous blue, organic orange, solids grey, dashed: recycle; labels: stream, flow, main element (hover for the composition; every stream in the table)</text>"
        );
        let mut k_in = vec![0i32; n];
        let mut k_out = vec![0i32; n];
        let mut back = 0i32;
        let mut gap_k = vec![0i32; n_rows + 1];
        for (((i, e), l), _) in edges.iter().zip(&labels).zip(0..) {
            k_out[e.from] += 1;
            let x0 = x[e.from] + box_w[e.from] * k_out[e.from] / (n_out[e.from] + 1);
            let y0 = y(e.from) + BOX_H;
            let x1 = x[e.to] + 6 + slot[e.to] * k_in[e.to] + 4;
            k_in[e.to] += 1;
            let y1 = y(e.to);
            let gl = (row_of[e.from] as usize + 1).min(n_rows);
            let ym = y0 + 8 + 3 * (gap_k[gl] % 8);
            gap_k[gl] += 1;
            let pts: Vec<(i32, i32)> = if row_of[e.to] > row_of[e.from] {
                let yt = y1 - 22;
                if row_of[e.to] == row_of[e.from] + 1 {
                    vec![(x0, y0), (x0, ym), (x1, ym), (x1, y1)]
                } else {
                    // skip layers along the right margin of the source's layer
                    let xr = width + 10 * back;
                    back += 1;
                    vec![(x0, y0), (x0, ym), (xr, ym), (xr, yt), (x1, yt), (x1, y1)]
                }
            } else {
                let xr = width + 10 * back;
                back += 1;
                let yt = y1 - 22;
                vec![(x0, y0), (x0, ym), (xr, ym), (xr, yt), (x1, yt), (x1, y1)]
            };
            let c = phase_color(&e.phase);
            let color = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
            let pts_s: Vec<String> = pts.iter().map(|(a, b)| format!("{a},{b}")).collect();
            let hover = streams.get(*i).map_or_else(|| l.clone(), stream_title);
            let _ = writeln!(
                o,
                "<g><title>{}</title><polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{} points=\"{}\"/><polygon fill=\"{color}\" points=\"{},{} {},{} {},{}\"/></g>",
                esc(&hover),
                if e.recycle { " stroke-dasharray=\"8,5\"" } else { "" },
                pts_s.join(" "),
                x1,
                y1,
                x1 - 4,
                y1 - 8,
                x1 + 4,
                y1 - 8
            );
            let _ = writeln!(
                o,
                "<text x=\"{}\" y=\"{}\" font-size=\"{FONT}\"><title>{}</title>{}</text>",
                x1 + 3,
                y1 - 10,
                esc(&hover),
                esc(l)
            );
        }
        for i in (0..n).filter(|i| keep[*i]) {
            let nd = &self.nodes[i];
            let fill = match nd.kind {
                DiagramNodeKind::Circuit => "#E8EEF7",
                DiagramNodeKind::Product => "#E6F4E6",
                DiagramNodeKind::Feed => "#FCF4E0",
                DiagramNodeKind::Purge => "#F5F5F5",
                _ => "#FFFFFF",
            };
            let border = if nd.kind == DiagramNodeKind::Circuit {
                2
            } else {
                1
            };
            let detail = if nd.detail.is_empty() {
                nd.kind.as_str().to_string()
            } else {
                nd.detail.clone()
            };
            let _ = writeln!(
                o,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BOX_H}\" fill=\"{fill}\" stroke=\"#000000\" stroke-width=\"{border}\"/>\n<text x=\"{}\" y=\"{}\" font-size=\"14\">{}</text>\n<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
                x[i],
                y(i),
                box_w[i],
                x[i] + 8,
                y(i) + 18,
                esc(&nd.label),
                x[i] + 8,
                y(i) + 36,
                esc(&detail)
            );
        }
        o.push_str("</svg>\n");
        o
    }
}

/// Flow in m3/h with the digits it needs.
fn fmt_flow(q: f64) -> String {
    if !q.is_finite() {
        "-".into()
    } else if q >= 100.0 {
        format!("{q:.0}")
    } else if q >= 1.0 {
        format!("{q:.2}")
    } else {
        format!("{q:.3}")
    }
}

/// The REY element with the largest molar flow of a stream, with its mole fraction of the
/// stream's elements (`Nd 99.9 %`); none for a stream without elements.
pub fn main_element(s: &crate::input::StreamView) -> Option<String> {
    let total: f64 = s.flow_mol_per_h.values().filter(|v| v.is_finite()).sum();
    if total <= 0.0 {
        return None;
    }
    s.flow_mol_per_h
        .iter()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(e, v)| format!("{e} {:.1} %", 100.0 * v / total))
}

/// The hover text of a stream: its number, ends, phase, flow, acidity and every element.
pub fn stream_title(s: &crate::input::StreamView) -> String {
    let total: f64 = s.flow_mol_per_h.values().filter(|v| v.is_finite()).sum();
    let mut t = format!(
        "S{} {} -> {}: {}, {} m3/h, acid {:.4} mol/h",
        s.id,
        s.from,
        s.to,
        s.phase,
        fmt_flow(s.flow_vol_l_per_h / 1000.0),
        s.acid_mol_per_h
    );
    for (e, v) in &s.flow_mol_per_h {
        if *v > 0.0 && total > 0.0 {
            let _ = write!(t, "; {e} {v:.4e} mol/h ({:.3} %)", 100.0 * v / total);
        }
    }
    t
}

use crate::doc::html_escape as esc;

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
