//! The report of `sxplan synthesize --out`: the ranked trains, the chosen train as a tree
//! figure, each cut's shortcut sizing, and (when the train was written as a plant) each
//! circuit's rigorous design and the products against their specs. Built as a [`Report`] so
//! Markdown and HTML say the same.

use std::fmt::Write as _;

use sxplan_design::synthesis::{Synthesis, Train, Tree};

use crate::doc::{html_escape, Block, Figure, Report};

/// One circuit of the plant as designed.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignedCircuit {
    /// Circuit name.
    pub circuit: String,
    /// Rigorous extraction and scrub stages.
    pub n: usize,
    /// See `n`.
    pub m: usize,
    /// Group purities reached (organic side, raffinate side).
    pub purity_a: f64,
    /// See `purity_a`.
    pub purity_b: f64,
}

/// One product of the plant against its spec.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductCheck {
    /// Product name.
    pub name: String,
    /// Mole purity reached.
    pub purity: f64,
    /// Spec (mole purity).
    pub min: f64,
    /// Whether it is met.
    pub met: bool,
}

fn pct(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{:.*} %", digits, v * 100.0)
    } else {
        "-".into()
    }
}

/// The synthesize report: `chosen` is the train written (with `circuits` and `products` of its
/// plant when it was designed and simulated), `given` a train the user named for comparison.
pub fn synthesis_report(
    s: &Synthesis,
    chosen: &Train,
    given: Option<&Train>,
    circuits: &[DesignedCircuit],
    products: &[ProductCheck],
) -> Report {
    let mut blocks = Vec::new();
    let mut figures = Vec::new();
    blocks.push(Block::Heading(
        1,
        format!("sxplan report: synthesis of {}", chosen.notation),
    ));
    blocks.push(Block::Para(format!(
        "{} products from {} elements in extractability order {}. {} candidate cuts sized by Xu's shortcut ({} out of reach); {:.0} binary trains ranked by {} by an interval dynamic program, without listing them.",
        s.products.len(),
        s.order.len(),
        s.order.join(" < "),
        s.cuts.len() + s.infeasible_cuts.len(),
        s.infeasible_cuts.len(),
        s.n_trains,
        s.objective.as_str()
    )));
    blocks.push(Block::Heading(2, "Ranking".into()));
    let mut rows: Vec<Vec<String>> = s
        .ranked
        .iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                (i + 1).to_string(),
                t.stages.to_string(),
                format!("{:.4}", t.reagent),
                t.notation.clone(),
            ]
        })
        .collect();
    if let Some(t) = given {
        rows.push(vec![
            "given".into(),
            t.stages.to_string(),
            format!("{:.4}", t.reagent),
            t.notation.clone(),
        ]);
    }
    blocks.push(Block::Table(
        vec![
            "rank".into(),
            "stages (shortcut)".into(),
            "reagent, mol per mol feed".into(),
            "train".into(),
        ],
        rows,
    ));
    blocks.push(Block::Heading(2, "The chosen train".into()));
    figures.push(Figure {
        file: "train_tree.svg".into(),
        caption: format!(
            "Train {}: each cut sends the light products to its raffinate (left) and the heavy ones to its strip liquor (right); stages n + m from the shortcut",
            chosen.notation
        ),
        svg: tree_svg(s, &chosen.tree),
    });
    blocks.push(Block::Figure(0));
    let cut_rows = chosen
        .tree
        .cuts()
        .into_iter()
        .map(|k| {
            let c = &s.cuts[k];
            vec![
                format!("{} | {}", c.light.join("+"), c.heavy.join("+")),
                format!("{}/{}", c.key_a, c.key_b),
                format!("{:.4}", c.beta),
                pct(c.purity_a, 4),
                pct(c.purity_b, 4),
                format!("{} + {}", c.n, c.m),
                format!("{:.4}", c.s / (c.w + 1.0)),
                format!("{:.4}", c.s / c.w),
                format!("{:.4}", c.reagent),
            ]
        })
        .collect();
    blocks.push(Block::Table(
        [
            "cut (light | heavy)",
            "keys",
            "beta",
            "P_A (group)",
            "P_B (group)",
            "n + m (shortcut)",
            "E_M",
            "E'_M",
            "reagent, mol per mol feed",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        cut_rows,
    ));
    blocks.push(Block::Heading(2, "Each cut, stage by stage".into()));
    blocks.push(Block::Para("McCabe-Thiele diagram of each cut of the chosen train at its shortcut sizing: the cut as the shortcut sees it, a pseudo-binary of its heavy side A and light side B at the key pair's separation factor (x, y = A's share of the REE in each phase), stage compositions from the rigorous constant-separation-factor cascade at the cut's n, m, S and W; left in mole fractions, right in log10 odds.".into()));
    for (k, ci) in chosen.tree.cuts().into_iter().enumerate() {
        let c = &s.cuts[ci];
        let view = crate::mccabe::from_cut(c.beta, c.x_a, c.n as usize, c.m as usize, c.s, c.w);
        match view {
            Some(d) => {
                figures.push(Figure {
                    file: format!("cut_{}_mccabe.svg", k + 1),
                    caption: format!(
                        "Cut {}: {} | {} (keys {}/{}, beta {:.4}, {} + {} stages)",
                        k + 1,
                        c.light.join("+"),
                        c.heavy.join("+"),
                        c.key_a,
                        c.key_b,
                        c.beta,
                        c.n,
                        c.m
                    ),
                    svg: crate::charts::mccabe_thiele_svg(&d, &c.key_a),
                });
                blocks.push(Block::Figure(figures.len() - 1));
            }
            None => blocks.push(Block::Para(format!(
                "Cut {}: {} | {}: no diagram (its cascade at the shortcut sizing could not be solved).",
                k + 1,
                c.light.join("+"),
                c.heavy.join("+")
            ))),
        }
    }
    if !circuits.is_empty() {
        blocks.push(Block::Heading(2, "The plant: each circuit designed".into()));
        blocks.push(Block::Para(
            "Each circuit designed in turn, top of the tree first, on its simulated feed (the rigorous minimum stages at the cut's group purities), then the whole plant simulated.".into(),
        ));
        blocks.push(Block::Table(
            ["circuit", "n", "m", "P_A reached", "P_B reached"]
                .iter()
                .map(|h| h.to_string())
                .collect(),
            circuits
                .iter()
                .map(|c| {
                    vec![
                        c.circuit.clone(),
                        c.n.to_string(),
                        c.m.to_string(),
                        pct(c.purity_a, 5),
                        pct(c.purity_b, 5),
                    ]
                })
                .collect(),
        ));
        let met = products.iter().filter(|p| p.met).count();
        blocks.push(Block::Para(format!(
            "Products: {met} of {} specs met (mole purity).",
            products.len()
        )));
        blocks.push(Block::Table(
            ["product", "purity", "spec", "met"]
                .iter()
                .map(|h| h.to_string())
                .collect(),
            products
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        pct(p.purity, 5),
                        format!(">= {}", pct(p.min, 5)),
                        if p.met { "yes" } else { "NO" }.into(),
                    ]
                })
                .collect(),
        ));
    }
    Report {
        title: format!("synthesis of {}", chosen.notation),
        blocks,
        figures,
        dot: None,
    }
}

/// The tree as an SVG: products on the bottom row in extractability order, each cut above its
/// two sub-trees at the mean of their positions, one level per depth.
pub fn tree_svg(s: &Synthesis, tree: &Tree) -> String {
    struct Node {
        x: f64,
        depth: usize,
        label: String,
        sub: String,
        children: Vec<usize>,
    }
    fn walk(s: &Synthesis, t: &Tree, depth: usize, nodes: &mut Vec<Node>) -> usize {
        match t {
            Tree::Product(p) => {
                nodes.push(Node {
                    x: *p as f64,
                    depth,
                    label: s.products[*p].name.clone(),
                    sub: format!("{} %", fmt_purity(s.products[*p].purity)),
                    children: Vec::new(),
                });
                nodes.len() - 1
            }
            Tree::Cut { cut, light, heavy } => {
                let l = walk(s, light, depth + 1, nodes);
                let h = walk(s, heavy, depth + 1, nodes);
                let c = &s.cuts[*cut];
                nodes.push(Node {
                    x: (nodes[l].x + nodes[h].x) / 2.0,
                    depth,
                    label: format!("{}|{}", c.key_b, c.key_a),
                    sub: format!("{} + {}", c.n, c.m),
                    children: vec![l, h],
                });
                nodes.len() - 1
            }
        }
    }
    let mut nodes = Vec::new();
    walk(s, tree, 0, &mut nodes);
    let max_depth = nodes.iter().map(|n| n.depth).max().unwrap_or(0);
    let (dx, dy, pad) = (78.0, 62.0, 44.0);
    let width = pad * 2.0 + dx * (s.products.len().max(1) - 1) as f64;
    let height = pad * 2.0 + dy * max_depth as f64;
    // products sit on the bottom row whatever their depth
    let pos = |n: &Node| -> (f64, f64) {
        let y = if n.children.is_empty() {
            max_depth as f64
        } else {
            n.depth as f64
        };
        (pad + dx * n.x, pad + dy * y)
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    for n in &nodes {
        let (x0, y0) = pos(n);
        for &c in &n.children {
            let (x1, y1) = pos(&nodes[c]);
            let _ = writeln!(
                o,
                "<line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x1:.1}\" y2=\"{y1:.1}\" stroke=\"#777\"/>"
            );
        }
    }
    for n in &nodes {
        let (x, y) = pos(n);
        let (fill, w) = if n.children.is_empty() {
            ("#e8f1fb", 64.0)
        } else {
            ("#fdf3e1", 56.0)
        };
        let _ = writeln!(
            o,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.0}\" height=\"30\" rx=\"4\" fill=\"{fill}\" stroke=\"#555\"/>",
            x - w / 2.0,
            y - 15.0
        );
        let _ = writeln!(
            o,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y - 2.0,
            html_escape(&n.label)
        );
        let _ = writeln!(
            o,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\" fill=\"#444\">{}</text>",
            y + 10.0,
            html_escape(&n.sub)
        );
    }
    o.push_str("</svg>\n");
    o
}

fn fmt_purity(p: f64) -> String {
    let s = format!("{:.4}", p * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
