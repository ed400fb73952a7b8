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

use plotters::prelude::*;

use crate::charts::{phase_color, render};
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
    let mut d = Diagram::default();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut node_of = |d: &mut Diagram, name: &str| -> (usize, Option<String>) {
        let (label, kind, port) = classify(name, &circuits);
        let key = format!("{}:{label}", kind.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            let detail = match kind {
                DiagramNodeKind::Circuit => {
                    format!("{} stages", circuits.get(&label).copied().unwrap_or(0))
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

    /// The diagram as SVG.
    pub fn to_svg(&self, title: &str) -> String {
        // wide enough for the longest label (about 8.5 px per character at plotters size 15,
        // which its SVG backend writes as 12 px)
        let longest = self
            .nodes
            .iter()
            .map(|n| n.label.chars().count())
            .max()
            .unwrap_or(0);
        let box_w_px = (17 * longest as i32 / 2 + 14).clamp(150, 250);
        let max_chars = ((box_w_px - 14) * 2 / 17) as usize;
        let col_w = box_w_px + 55;
        let cols = self.columns();
        // boxes tall enough for their ports (one arrow every 14 px on a side)
        let mut ports = vec![(0i32, 0i32); self.nodes.len()];
        for ed in &self.edges {
            ports[ed.from].1 += 1;
            ports[ed.to].0 += 1;
        }
        let hgt: Vec<i32> = ports
            .iter()
            .map(|p| (14 * (p.0.max(p.1) + 1)).max(46))
            .collect();
        let n_cols = cols.iter().copied().max().map_or(1, |m| m + 1);
        let mut next_y = vec![70i32; n_cols];
        let mut pos = vec![(0i32, 0i32); self.nodes.len()];
        for (i, c) in cols.iter().enumerate() {
            pos[i] = (40 + col_w * *c as i32, next_y[*c]);
            next_y[*c] += hgt[i] + 28;
        }
        let bottom = next_y.iter().copied().max().unwrap_or(70);
        let n_back = self
            .edges
            .iter()
            .filter(|e| cols[e.to] <= cols[e.from])
            .count();
        let w = (80 + col_w * n_cols as i32).max(600) as u32;
        let h = (bottom + 26 * n_back as i32 + 60) as u32;
        render(w, h, |root| {
            let e = |x: plotters::drawing::DrawingAreaErrorKind<_>| x.to_string();
            let f = |s: u32| -> TextStyle<'static> { ("sans-serif", s).into_font().into() };
            root.draw(&Text::new(format!("flowsheet {title}"), (20, 16), f(22)))
                .map_err(e)?;
            root.draw(&Text::new(
                "aqueous: blue, organic: orange, solids: grey; dashed: recycle (tear) stream; arrow labels: stage ports",
                (20, 42),
                f(15),
            ))
            .map_err(e)?;
            let mut back = 0i32;
            // spread the forward arrows over the right side (out) and left side (in) of a box
            let forward = |ed: &DiagramEdge| cols[ed.to] > cols[ed.from];
            let mut n_out = vec![0i32; self.nodes.len()];
            let mut n_in = vec![0i32; self.nodes.len()];
            for ed in self.edges.iter().filter(|ed| forward(ed)) {
                n_out[ed.from] += 1;
                n_in[ed.to] += 1;
            }
            let mut k_out = vec![0i32; self.nodes.len()];
            let mut k_in = vec![0i32; self.nodes.len()];
            let mut n_back_at = vec![0i32; self.nodes.len()];
            for ed in &self.edges {
                let color = phase_color(&ed.phase);
                let (fx, fy) = pos[ed.from];
                let (tx, ty) = pos[ed.to];
                let pts: Vec<(i32, i32)> = if forward(ed) {
                    k_out[ed.from] += 1;
                    k_in[ed.to] += 1;
                    let y0 = fy + hgt[ed.from] * k_out[ed.from] / (n_out[ed.from] + 1);
                    let y1 = ty + hgt[ed.to] * k_in[ed.to] / (n_in[ed.to] + 1);
                    let (x0, x1) = (fx + box_w_px, tx);
                    // vertical run placed by the target's slot so parallel runs do not overlap
                    let xm = x1 - 24 - 10 * (k_in[ed.to] - 1).min(8);
                    vec![(x0, y0), (xm, y0), (xm, y1), (x1, y1)]
                } else {
                    // recycle or self loop: out of the right side, down to a lane below every
                    // box, back along it, up the channel left of the target, into its left side
                    back += 1;
                    n_back_at[ed.from] += 1;
                    n_back_at[ed.to] += 1;
                    let yb = bottom + 26 * back;
                    let y0 = fy + hgt[ed.from] - 6 * n_back_at[ed.from];
                    let y1 = ty + hgt[ed.to] - 6 * n_back_at[ed.to];
                    let xr = fx + box_w_px + 10 + 6 * back;
                    let xl = tx - 10 - 6 * back;
                    vec![
                        (fx + box_w_px, y0),
                        (xr, y0),
                        (xr, yb),
                        (xl, yb),
                        (xl, y1),
                        (tx, y1),
                    ]
                };
                let style = color.stroke_width(2);
                if ed.recycle {
                    for seg in pts.windows(2) {
                        for piece in dashes(seg[0], seg[1], 8, 5) {
                            root.draw(&PathElement::new(piece, style)).map_err(e)?;
                        }
                    }
                } else {
                    root.draw(&PathElement::new(pts.clone(), style))
                        .map_err(e)?;
                }
                if let [.., a, b] = pts.as_slice() {
                    root.draw(&Polygon::new(arrow_head(*a, *b), color.filled()))
                        .map_err(e)?;
                }
                if !ed.label.is_empty() {
                    let (lx, ly) = if !forward(ed) {
                        (pts[3].0 + 4, pts[3].1 - 12)
                    } else if ed.label.starts_with("->") {
                        (pts[3].0 - 20, pts[3].1 - 11)
                    } else {
                        (pts[0].0 + 4, pts[0].1 - 11)
                    };
                    root.draw(&Text::new(ed.label.clone(), (lx, ly), f(12)))
                        .map_err(e)?;
                }
            }
            for (i, nd) in self.nodes.iter().enumerate() {
                let (x, y) = pos[i];
                let fill = match nd.kind {
                    DiagramNodeKind::Circuit => RGBColor(232, 238, 247),
                    DiagramNodeKind::Product => RGBColor(230, 244, 230),
                    DiagramNodeKind::Feed => RGBColor(252, 244, 224),
                    DiagramNodeKind::Outlet | DiagramNodeKind::Purge => RGBColor(245, 245, 245),
                    _ => RGBColor(255, 255, 255),
                };
                root.draw(&Rectangle::new(
                    [(x, y), (x + box_w_px, y + hgt[i])],
                    fill.filled(),
                ))
                .map_err(e)?;
                let border = if nd.kind == DiagramNodeKind::Circuit {
                    2
                } else {
                    1
                };
                root.draw(&Rectangle::new(
                    [(x, y), (x + box_w_px, y + hgt[i])],
                    BLACK.stroke_width(border),
                ))
                .map_err(e)?;
                let label: String = if nd.label.chars().count() > max_chars {
                    let mut t: String =
                        nd.label.chars().take(max_chars.saturating_sub(1)).collect();
                    t.push('\u{2026}');
                    t
                } else {
                    nd.label.clone()
                };
                root.draw(&Text::new(label, (x + 6, y + 6), f(15)))
                    .map_err(e)?;
                let detail = if nd.detail.is_empty() {
                    nd.kind.as_str().to_string()
                } else {
                    nd.detail.clone()
                };
                root.draw(&Text::new(detail, (x + 6, y + 27), f(13)))
                    .map_err(e)?;
            }
            Ok(())
        })
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Pieces of a dashed straight segment.
fn dashes(a: (i32, i32), b: (i32, i32), on: i32, off: i32) -> Vec<Vec<(i32, i32)>> {
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1.0 {
        return vec![];
    }
    let mut out = Vec::new();
    let mut t = 0.0;
    while t < len {
        let t1 = (t + on as f64).min(len);
        let p = |s: f64| {
            (
                a.0 + (dx * s / len).round() as i32,
                a.1 + (dy * s / len).round() as i32,
            )
        };
        out.push(vec![p(t), p(t1)]);
        t = t1 + off as f64;
    }
    out
}

/// Triangle of an arrow head at `b`, pointing from `a` to `b`.
fn arrow_head(a: (i32, i32), b: (i32, i32)) -> Vec<(i32, i32)> {
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (b.0 as f64 - 9.0 * ux, b.1 as f64 - 9.0 * uy);
    vec![
        b,
        (
            (bx - 4.5 * uy).round() as i32,
            (by + 4.5 * ux).round() as i32,
        ),
        (
            (bx + 4.5 * uy).round() as i32,
            (by - 4.5 * ux).round() as i32,
        ),
    ]
}
