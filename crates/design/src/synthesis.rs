//! Synthesis of a separation train: in which order a mixed feed is split into its products, and
//! how big each cut is.
//!
//! The elements are ordered by extractability (relative separation factor, least extractable
//! first). A product is a contiguous run of that order (a single element or a group), so every
//! train of binary cuts is a binary tree over the ordered products: a cut of the products
//! `i..=j` at `k` sends `i..=k` to the raffinate (light, group B) and `k+1..=j` to the loaded
//! organic (heavy, group A). Its keys are the heaviest element of product `k` and the lightest
//! of product `k+1`, its separation factor their ratio, and its feed the elements of `i..=j` as
//! the plant feed holds them (sharp splits upstream). An impurity that passes a cut is not
//! removed by a later one, and it ends in the side's key product (heavy elements passed to
//! the raffinate leave every later cut with the most extractable product of the side, light
//! ones passed to the organic with the least extractable): each side's group purity is
//! `1 - (1 - p_key) F_key s / F_side`, which keeps the key product (purity `p_key`, feed
//! `F_key`) at its spec with its share `s` of the impurity budget: 1 for a product at an end of
//! the order (one neighbour cut), 1/2 for one in the middle (two).
//!
//! Every candidate cut is sized once with Xu's shortcut at Xu's optimum extraction ratios
//! ([`crate::shortcut::shortcut`]); a train's cost is the sum of its cuts' costs. The best
//! trains come from an interval dynamic program that keeps the `keep` best sub-trains of every
//! interval: P products have Catalan(P - 1) trains (2,674,440 for 15), never listed one by one,
//! while the program sizes P (P - 1) (P + 1) / 6 cuts. [`enumerate`] lists them all, for tests
//! and small feeds.

use serde::Serialize;

use crate::error::DesignError;
use crate::shortcut::{shortcut, FeedPhase, Reflux};

/// One element of the feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthElement {
    /// Element symbol (or any name).
    pub name: String,
    /// Relative extractability (> 0, any common scale).
    pub sep_factor: f64,
    /// Feed amount, mol/h (or any common unit).
    pub feed: f64,
}

/// One product wanted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthProduct {
    /// Product name.
    pub name: String,
    /// Its elements (a contiguous run of the extractability order).
    pub elements: Vec<String>,
    /// Required purity of the group, mole fraction in (0, 1).
    pub purity: f64,
}

/// What a train is ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SynthObjective {
    /// Total theoretical stages (extraction + scrub, Xu's shortcut, each rounded up).
    Stages,
    /// Acid and base for exchange, mol per mol of plant feed: 3 (S + W + f'_A) per mol of the
    /// cut's feed (saponification base for the S mol loaded, scrub acid for the W mol scrubbed,
    /// strip acid for the f'_A mol stripped, three protons per trivalent ion).
    Reagent,
}

impl SynthObjective {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            SynthObjective::Stages => "stages",
            SynthObjective::Reagent => "reagent",
        }
    }
}

/// Input of [`synthesize`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthesisSpec {
    /// Feed elements, any order.
    pub elements: Vec<SynthElement>,
    /// Products; together they hold every element exactly once.
    pub products: Vec<SynthProduct>,
    /// Ranking objective.
    pub objective: SynthObjective,
    /// How many of the best trains to return (>= 1).
    pub keep: usize,
}

/// One binary cut of a train, sized by the shortcut.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthCut {
    /// Products leaving in the raffinate (light, B).
    pub light: Vec<String>,
    /// Products leaving in the loaded organic (heavy, A).
    pub heavy: Vec<String>,
    /// Light key (heaviest element of the light side).
    pub key_b: String,
    /// Heavy key (lightest element of the heavy side).
    pub key_a: String,
    /// Separation factor of the keys.
    pub beta: f64,
    /// Feed of the cut as a fraction of the plant feed.
    pub feed_fraction: f64,
    /// Heavy-side fraction of the cut's feed.
    pub x_a: f64,
    /// Required purity of the heavy (organic) side.
    pub purity_a: f64,
    /// Required purity of the light (aqueous) side.
    pub purity_b: f64,
    /// Extraction stages (Xu's shortcut, rounded up).
    pub n: u32,
    /// Scrub stages (Xu's shortcut, rounded up).
    pub m: u32,
    /// Organic REE flow S of the extraction section, mol per mol of the cut's feed.
    pub s: f64,
    /// Scrub flow W, mol per mol of the cut's feed.
    pub w: f64,
    /// Acid and base, mol per mol of plant feed ([`SynthObjective::Reagent`]).
    pub reagent: f64,
    /// The cut's cost under the objective.
    pub cost: f64,
}

/// A train as a binary tree over the ordered products.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tree {
    /// A product (index into [`Synthesis::products`]).
    Product(usize),
    /// A cut (index into [`Synthesis::cuts`]) with its light and heavy sub-trains.
    Cut {
        /// The cut.
        cut: usize,
        /// Where the raffinate goes.
        light: Box<Tree>,
        /// Where the loaded organic's strip liquor goes.
        heavy: Box<Tree>,
    },
}

impl Tree {
    /// The cuts of the tree, in pre-order.
    pub fn cuts(&self) -> Vec<usize> {
        match self {
            Tree::Product(_) => Vec::new(),
            Tree::Cut { cut, light, heavy } => {
                let mut v = vec![*cut];
                v.extend(light.cuts());
                v.extend(heavy.cuts());
                v
            }
        }
    }

    /// The tree in brackets over product names: `((La|Ce)|(Pr|Nd))`.
    pub fn notation(&self, products: &[SynthProduct]) -> String {
        match self {
            Tree::Product(p) => products[*p].name.clone(),
            Tree::Cut { light, heavy, .. } => format!(
                "({}|{})",
                light.notation(products),
                heavy.notation(products)
            ),
        }
    }
}

/// A ranked train.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Train {
    /// Sum of its cuts' costs.
    pub cost: f64,
    /// Total stages.
    pub stages: u32,
    /// Acid and base, mol per mol of plant feed.
    pub reagent: f64,
    /// The tree in bracket notation.
    pub notation: String,
    /// The tree.
    pub tree: Tree,
}

/// Result of [`synthesize`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Synthesis {
    /// The objective.
    pub objective: SynthObjective,
    /// Elements in extractability order (least extractable first).
    pub order: Vec<String>,
    /// Products in that order.
    pub products: Vec<SynthProduct>,
    /// Every candidate cut that was sized (one per interval and split point).
    pub cuts: Vec<SynthCut>,
    /// Candidate cuts the shortcut cannot size (purity out of reach at any reflux), with why.
    pub infeasible_cuts: Vec<String>,
    /// Number of binary trains over the products: Catalan(P - 1).
    pub n_trains: f64,
    /// The best trains, best first.
    pub ranked: Vec<Train>,
}

/// The validated problem: products in extractability order, each as a range of elements.
struct Ordered {
    elements: Vec<SynthElement>,
    products: Vec<SynthProduct>,
    /// Element index range (inclusive) of each product.
    span: Vec<(usize, usize)>,
    feed_total: f64,
}

fn order(spec: &SynthesisSpec) -> Result<Ordered, DesignError> {
    let bad = |m: String| Err(DesignError::Components(m));
    if spec.products.is_empty() {
        return bad("no product given".into());
    }
    if spec.keep == 0 {
        return bad("keep must be at least 1".into());
    }
    for e in &spec.elements {
        if !(e.sep_factor.is_finite() && e.sep_factor > 0.0) {
            return bad(format!(
                "{}: separation factor {} must be a finite number > 0",
                e.name, e.sep_factor
            ));
        }
        if !(e.feed.is_finite() && e.feed >= 0.0) {
            return bad(format!(
                "{}: feed {} must be a finite number >= 0",
                e.name, e.feed
            ));
        }
    }
    // an element the feed does not carry and no product names plays no part (Ca after the
    // total-REY circuit)
    let named = |e: &SynthElement| spec.products.iter().any(|p| p.elements.contains(&e.name));
    let mut elements: Vec<SynthElement> = spec
        .elements
        .iter()
        .filter(|e| e.feed > 0.0 || named(e))
        .cloned()
        .collect();
    elements.sort_by(|a, b| a.sep_factor.total_cmp(&b.sep_factor));
    for w in elements.windows(2) {
        if w[0].sep_factor == w[1].sep_factor {
            return bad(format!(
                "{} and {} have the same separation factor: no cut separates them",
                w[0].name, w[1].name
            ));
        }
    }
    let pos = |n: &str| elements.iter().position(|e| e.name == n);
    let mut owner: Vec<Option<usize>> = vec![None; elements.len()];
    let mut spans = Vec::new();
    for (k, p) in spec.products.iter().enumerate() {
        if !(p.purity > 0.0 && p.purity < 1.0) {
            return bad(format!(
                "product {}: purity {} must be in (0, 1)",
                p.name, p.purity
            ));
        }
        let mut idx = Vec::new();
        for e in &p.elements {
            let Some(i) = pos(e) else {
                return bad(format!("product {}: {e} is not in the feed", p.name));
            };
            if let Some(o) = owner[i] {
                return bad(format!(
                    "{e} is in products {} and {}",
                    spec.products[o].name, p.name
                ));
            }
            owner[i] = Some(k);
            idx.push(i);
        }
        idx.sort_unstable();
        let (lo, hi) = (idx[0], idx[idx.len() - 1]);
        if hi - lo + 1 != idx.len() {
            let between: Vec<&str> = (lo..=hi)
                .filter(|i| !idx.contains(i))
                .map(|i| elements[i].name.as_str())
                .collect();
            return bad(format!(
                "product {}: its elements are not neighbours in extractability order ({} between them); such a product needs a three-outlet (fractional) cut, which synthesis does not build",
                p.name,
                between.join(", ")
            ));
        }
        spans.push((lo, hi, k));
    }
    if let Some(i) = owner.iter().position(Option::is_none) {
        return bad(format!(
            "{} is in no product: every feed element must go to one",
            elements[i].name
        ));
    }
    spans.sort_unstable();
    let products = spans.iter().map(|s| spec.products[s.2].clone()).collect();
    let feed_total: f64 = elements.iter().map(|e| e.feed).sum();
    if feed_total <= 0.0 {
        return bad("the feed is empty".into());
    }
    Ok(Ordered {
        elements,
        products,
        span: spans.iter().map(|s| (s.0, s.1)).collect(),
        feed_total,
    })
}

/// Sizes the cut of products `i..=j` at `k`: `Ok(cut)`, or `Err(why)` when the shortcut cannot.
fn size_cut(
    o: &Ordered,
    objective: SynthObjective,
    i: usize,
    k: usize,
    j: usize,
) -> Result<SynthCut, String> {
    let feed = |a: usize, b: usize| -> f64 {
        (o.span[a].0..=o.span[b].1)
            .map(|e| o.elements[e].feed)
            .sum()
    };
    let (f_b, f_a) = (feed(i, k), feed(k + 1, j));
    let key_b = &o.elements[o.span[k].1];
    let key_a = &o.elements[o.span[k + 1].0];
    let beta = key_a.sep_factor / key_b.sep_factor;
    // The impurity a side lets through ends in its key product (the heavy elements that pass
    // to the raffinate leave, in every later cut, with the most extractable product of the
    // side, and the light ones that pass to the organic with the least extractable): the
    // side's group purity is what keeps that product at its purity with its share of the
    // impurity budget (all of it for a product at an end of the order, which has one
    // neighbour cut, half for one in the middle, which has two).
    let last = o.products.len() - 1;
    let side_purity = |key: usize, side_feed: f64| {
        let share = if key == 0 || key == last { 1.0 } else { 0.5 };
        let budget = (1.0 - o.products[key].purity) * feed(key, key) * share;
        1.0 - budget / side_feed
    };
    let (purity_b, purity_a) = (side_purity(k, f_b), side_purity(k + 1, f_a));
    let names = |a: usize, b: usize| -> Vec<String> {
        (a..=b).map(|p| o.products[p].name.clone()).collect()
    };
    let label = format!("{}|{}", names(i, k).join("+"), names(k + 1, j).join("+"));
    if f_a <= 0.0 || f_b <= 0.0 {
        return Err(format!("{label}: one side has no feed"));
    }
    let x_a = f_a / (f_a + f_b);
    let sc = shortcut(
        x_a,
        beta,
        beta,
        purity_a,
        purity_b,
        FeedPhase::Aqueous,
        Reflux::XuOptimum,
    )
    .map_err(|e| format!("{label}: {e}"))?;
    let (Some(n), Some(m)) = (sc.n_shortcut, sc.m_shortcut) else {
        return Err(format!(
            "{label}: beta {beta:.4} cannot reach purities {purity_a} and {purity_b} at Xu's optimum"
        ));
    };
    if !(n.is_finite() && m.is_finite()) || n > 1e6 || m > 1e6 {
        return Err(format!("{label}: the shortcut gives no finite stage count"));
    }
    let (n, m) = (n.ceil().max(1.0) as u32, m.ceil().max(1.0) as u32);
    let feed_fraction = (f_a + f_b) / o.feed_total;
    let (s, w) = (sc.chosen.s, sc.chosen.w);
    let reagent = 3.0 * (s + w + sc.outlet.f_a) * feed_fraction;
    let cost = match objective {
        SynthObjective::Stages => f64::from(n + m),
        SynthObjective::Reagent => reagent,
    };
    Ok(SynthCut {
        light: names(i, k),
        heavy: names(k + 1, j),
        key_b: key_b.name.clone(),
        key_a: key_a.name.clone(),
        beta,
        feed_fraction,
        x_a,
        purity_a,
        purity_b,
        n,
        m,
        s,
        w,
        reagent,
        cost,
    })
}

/// All candidate cuts, indexed by (i, k, j).
struct Candidates {
    cuts: Vec<SynthCut>,
    infeasible: Vec<String>,
    at: std::collections::HashMap<(usize, usize, usize), usize>,
}

fn candidates(o: &Ordered, objective: SynthObjective) -> Candidates {
    let p = o.products.len();
    let mut c = Candidates {
        cuts: Vec::new(),
        infeasible: Vec::new(),
        at: std::collections::HashMap::new(),
    };
    for len in 2..=p {
        for i in 0..=p - len {
            let j = i + len - 1;
            for k in i..j {
                match size_cut(o, objective, i, k, j) {
                    Ok(cut) => {
                        c.at.insert((i, k, j), c.cuts.len());
                        c.cuts.push(cut);
                    }
                    Err(why) => c.infeasible.push(why),
                }
            }
        }
    }
    c
}

/// A partial train: cost, stages, reagent, tree.
type Partial = (f64, u32, f64, Tree);

fn combine(c: &Candidates, cut: usize, l: &Partial, r: &Partial) -> Partial {
    let x = &c.cuts[cut];
    (
        x.cost + l.0 + r.0,
        x.n + x.m + l.1 + r.1,
        x.reagent + l.2 + r.2,
        Tree::Cut {
            cut,
            light: Box::new(l.3.clone()),
            heavy: Box::new(r.3.clone()),
        },
    )
}

fn catalan(n: usize) -> f64 {
    // C(n) = prod_{k=2..n} (n + k) / k
    (2..=n).fold(1.0, |acc, k| acc * (n + k) as f64 / k as f64)
}

fn finish(o: Ordered, c: Candidates, objective: SynthObjective, trains: Vec<Partial>) -> Synthesis {
    let ranked = trains
        .into_iter()
        .map(|(cost, stages, reagent, tree)| Train {
            cost,
            stages,
            reagent,
            notation: tree.notation(&o.products),
            tree,
        })
        .collect();
    Synthesis {
        objective,
        order: o.elements.iter().map(|e| e.name.clone()).collect(),
        n_trains: catalan(o.products.len().saturating_sub(1)),
        products: o.products,
        cuts: c.cuts,
        infeasible_cuts: c.infeasible,
        ranked,
    }
}

fn by_cost(a: &Partial, b: &Partial) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0)
        .then_with(|| format!("{:?}", a.3).cmp(&format!("{:?}", b.3)))
}

/// The `keep` best trains by an interval dynamic program over the ordered products.
pub fn synthesize(spec: &SynthesisSpec) -> Result<Synthesis, DesignError> {
    let o = order(spec)?;
    let c = candidates(&o, spec.objective);
    let p = o.products.len();
    // best[i][j]: the `keep` best trains of products i..=j
    let mut best: Vec<Vec<Vec<Partial>>> = vec![vec![Vec::new(); p]; p];
    for (i, row) in best.iter_mut().enumerate() {
        row[i] = vec![(0.0, 0, 0.0, Tree::Product(i))];
    }
    for len in 2..=p {
        for i in 0..=p - len {
            let j = i + len - 1;
            let mut here: Vec<Partial> = Vec::new();
            for k in i..j {
                let Some(&cut) = c.at.get(&(i, k, j)) else {
                    continue;
                };
                for l in &best[i][k] {
                    for r in &best[k + 1][j] {
                        here.push(combine(&c, cut, l, r));
                    }
                }
            }
            here.sort_by(by_cost);
            here.truncate(spec.keep);
            best[i][j] = here;
        }
    }
    let top = std::mem::take(&mut best[0][p - 1]);
    if top.is_empty() {
        return Err(DesignError::Components(format!(
            "no train of binary cuts reaches every product's purity: {}",
            c.infeasible.join("; ")
        )));
    }
    Ok(finish(o, c, spec.objective, top))
}

/// Every train, best first: exhaustive enumeration of the binary trees (Catalan(P - 1) of
/// them), for tests and small feeds. Refused above 10 products (4,862 trains).
pub fn enumerate(spec: &SynthesisSpec) -> Result<Synthesis, DesignError> {
    let o = order(spec)?;
    if o.products.len() > 10 {
        return Err(DesignError::Components(format!(
            "{} products have {:.0} trains: enumerate lists at most 10 products (use synthesize)",
            o.products.len(),
            catalan(o.products.len() - 1)
        )));
    }
    let c = candidates(&o, spec.objective);
    fn all(c: &Candidates, i: usize, j: usize) -> Vec<Partial> {
        if i == j {
            return vec![(0.0, 0, 0.0, Tree::Product(i))];
        }
        let mut out = Vec::new();
        for k in i..j {
            let Some(&cut) = c.at.get(&(i, k, j)) else {
                continue;
            };
            for l in all(c, i, k) {
                for r in all(c, k + 1, j) {
                    out.push(combine(c, cut, &l, &r));
                }
            }
        }
        out
    }
    let mut trains = all(&c, 0, o.products.len() - 1);
    trains.sort_by(by_cost);
    Ok(finish(o, c, spec.objective, trains))
}

/// The train written in bracket notation over product names (`((La|Ce)|(Pr|Nd))`, as
/// [`Train::notation`] prints it), costed with the same candidate cuts: a plant's own sequence,
/// to compare with the ranking.
pub fn evaluate(spec: &SynthesisSpec, notation: &str) -> Result<Train, DesignError> {
    let o = order(spec)?;
    let c = candidates(&o, spec.objective);
    let bad = |m: String| DesignError::Components(format!("train `{notation}`: {m}"));
    // recursive descent: tree = name | "(" tree "|" tree ")"
    fn parse(
        t: &[u8],
        at: &mut usize,
        o: &Ordered,
        c: &Candidates,
    ) -> Result<(Partial, usize, usize), String> {
        while t.get(*at) == Some(&b' ') {
            *at += 1;
        }
        if t.get(*at) == Some(&b'(') {
            *at += 1;
            let (l, li, lj) = parse(t, at, o, c)?;
            if t.get(*at) != Some(&b'|') {
                return Err(format!("expected `|` at byte {}", *at));
            }
            *at += 1;
            let (r, ri, rj) = parse(t, at, o, c)?;
            if t.get(*at) != Some(&b')') {
                return Err(format!("expected `)` at byte {}", *at));
            }
            *at += 1;
            if ri != lj + 1 {
                return Err(format!(
                    "{} and {} are not neighbours in extractability order",
                    o.products[lj].name, o.products[ri].name
                ));
            }
            let Some(&cut) = c.at.get(&(li, lj, rj)) else {
                return Err(format!(
                    "the cut {}|{} is out of reach of the shortcut",
                    o.products[lj].name, o.products[ri].name
                ));
            };
            Ok((combine(c, cut, &l, &r), li, rj))
        } else {
            let start = *at;
            while *at < t.len() && !matches!(t[*at], b'(' | b')' | b'|' | b' ') {
                *at += 1;
            }
            let name = std::str::from_utf8(&t[start..*at]).unwrap_or("");
            let Some(p) = o.products.iter().position(|p| p.name == name) else {
                return Err(format!("`{name}` is not a product"));
            };
            Ok(((0.0, 0, 0.0, Tree::Product(p)), p, p))
        }
    }
    let mut at = 0;
    let (train, i, j) = parse(notation.as_bytes(), &mut at, &o, &c).map_err(bad)?;
    if at != notation.trim_end().len() {
        return Err(bad(format!("unexpected text at byte {at}")));
    }
    if (i, j) != (0, o.products.len() - 1) {
        return Err(bad("it does not hold every product".into()));
    }
    let (cost, stages, reagent, tree) = train;
    Ok(Train {
        cost,
        stages,
        reagent,
        notation: tree.notation(&o.products),
        tree,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(name: &str, sf: f64, feed: f64) -> SynthElement {
        SynthElement {
            name: name.into(),
            sep_factor: sf,
            feed,
        }
    }

    fn product(name: &str, els: &[&str], purity: f64) -> SynthProduct {
        SynthProduct {
            name: name.into(),
            elements: els.iter().map(|e| e.to_string()).collect(),
            purity,
        }
    }

    /// A light-REE toy: La, Ce, Pr, Nd with the flagship's relative extractabilities
    /// (illustrative) and a bastnaesite-like split.
    fn toy(objective: SynthObjective) -> SynthesisSpec {
        SynthesisSpec {
            elements: vec![
                el("Nd", 8.28, 19.0),
                el("La", 1.0, 30.0),
                el("Pr", 5.52, 6.0),
                el("Ce", 3.0, 45.0),
            ],
            products: vec![
                product("La", &["La"], 0.99),
                product("Ce", &["Ce"], 0.995),
                product("Pr", &["Pr"], 0.99),
                product("Nd", &["Nd"], 0.995),
            ],
            objective,
            keep: 10,
        }
    }

    #[test]
    fn the_dynamic_program_equals_exhaustive_enumeration_on_a_four_element_feed() {
        for objective in [SynthObjective::Stages, SynthObjective::Reagent] {
            let dp = synthesize(&toy(objective)).unwrap();
            let all = enumerate(&toy(objective)).unwrap();
            assert_eq!(all.n_trains, 5.0);
            assert_eq!(all.ranked.len(), 5, "every tree of 4 products is feasible");
            // keep = 10 >= 5: the program returns every train, in the same order and costs
            assert_eq!(dp.ranked.len(), 5);
            for (a, b) in dp.ranked.iter().zip(&all.ranked) {
                assert_eq!(a.notation, b.notation, "{objective:?}");
                assert!((a.cost - b.cost).abs() <= 1e-12 * b.cost.abs().max(1.0));
            }
            // and the optimum is no worse than any enumerated train
            assert!(all.ranked.iter().all(|t| dp.ranked[0].cost <= t.cost));
        }
    }

    #[test]
    fn a_written_train_costs_what_the_ranking_says_and_bad_ones_are_refused() {
        let spec = toy(SynthObjective::Stages);
        let all = enumerate(&spec).unwrap();
        for t in &all.ranked {
            let e = evaluate(&spec, &t.notation).unwrap();
            assert_eq!(e.notation, t.notation);
            assert_eq!(e.stages, t.stages);
            assert!((e.cost - t.cost).abs() < 1e-12);
        }
        for (bad, says) in [
            ("((La|Pr)|(Ce|Nd))", "not neighbours"),
            ("((La|Ce)|Pr)", "every product"),
            ("((La|Ce)|(Pr|Xx))", "`Xx` is not a product"),
            ("((La|Ce)|(Pr|Nd)", "expected `)`"),
        ] {
            let e = evaluate(&spec, bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn products_follow_extractability_and_the_cut_keys_are_the_neighbours() {
        let s = synthesize(&toy(SynthObjective::Stages)).unwrap();
        assert_eq!(s.order, ["La", "Ce", "Pr", "Nd"]);
        let names: Vec<&str> = s.products.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["La", "Ce", "Pr", "Nd"]);
        // 3 + 2 + 1 two-product and wider intervals: P (P - 1) (P + 1) / 6 = 10 cuts
        assert_eq!(s.cuts.len() + s.infeasible_cuts.len(), 10);
        let prnd = s
            .cuts
            .iter()
            .find(|c| c.light == ["Pr"] && c.heavy == ["Nd"])
            .unwrap();
        assert_eq!((prnd.key_b.as_str(), prnd.key_a.as_str()), ("Pr", "Nd"));
        assert!((prnd.beta - 1.5).abs() < 1e-12);
        assert!((prnd.x_a - 19.0 / 25.0).abs() < 1e-12);
        assert!((prnd.feed_fraction - 0.25).abs() < 1e-12);
    }

    #[test]
    fn a_product_that_is_not_a_run_of_neighbours_is_refused_naming_what_lies_between() {
        let mut spec = toy(SynthObjective::Stages);
        spec.products = vec![
            product("LaPr", &["La", "Pr"], 0.99),
            product("Ce", &["Ce"], 0.99),
            product("Nd", &["Nd"], 0.99),
        ];
        let e = synthesize(&spec).unwrap_err().to_string();
        assert!(
            e.contains("product LaPr") && e.contains("(Ce between them)"),
            "{e}"
        );
        spec.products = vec![
            product("La", &["La"], 0.99),
            product("Ce", &["Ce"], 0.99),
            product("Pr", &["Pr"], 0.99),
        ];
        let e = synthesize(&spec).unwrap_err().to_string();
        assert!(e.contains("Nd is in no product"), "{e}");
    }

    /// Generated feeds of 2 to 8 products (1 to 3 elements each, betas 1.05 to 4 between
    /// neighbours, feeds over three decades, purities 0.9 to 0.99999, both objectives, K 1 to
    /// 6): the program's K best trains are exactly the first K of exhaustive enumeration.
    #[test]
    fn on_generated_feeds_the_k_best_trains_equal_the_first_k_of_enumeration() {
        let mut state = 0x5eed_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut cases, mut trains, mut infeasible) = (0, 0, 0);
        for case in 0..300 {
            let n_products = 2 + (next() * 7.0) as usize;
            let (mut elements, mut products) = (Vec::new(), Vec::new());
            let mut sf = 1.0;
            for p in 0..n_products {
                let size = 1 + (next() * 3.0) as usize;
                let mut names = Vec::new();
                for k in 0..size {
                    let name = format!("E{p}_{k}");
                    sf *= 1.05 + 2.95 * next();
                    elements.push(el(&name, sf, 10f64.powf(3.0 * next() - 1.0)));
                    names.push(name);
                }
                let purity = 1.0 - 10f64.powf(-1.0 - 4.0 * next());
                products.push(SynthProduct {
                    name: format!("P{p}"),
                    elements: names,
                    purity,
                });
            }
            let spec = SynthesisSpec {
                elements,
                products,
                objective: if case % 2 == 0 {
                    SynthObjective::Stages
                } else {
                    SynthObjective::Reagent
                },
                keep: 1 + (next() * 6.0) as usize,
            };
            let (dp, all) = match (synthesize(&spec), enumerate(&spec)) {
                (Ok(dp), Ok(all)) => (dp, all),
                (Err(_), Ok(all)) => {
                    // no train when every tree has a cut out of reach
                    assert!(all.ranked.is_empty(), "case {case}");
                    infeasible += 1;
                    continue;
                }
                (a, b) => panic!("case {case}: {a:?} / {b:?}"),
            };
            cases += 1;
            trains += all.ranked.len();
            let k = spec.keep.min(all.ranked.len());
            assert_eq!(dp.ranked.len(), k, "case {case}");
            for (a, b) in dp.ranked.iter().zip(&all.ranked) {
                assert!(
                    (a.cost - b.cost).abs() <= 1e-9 * b.cost.abs().max(1.0),
                    "case {case}: {} {} vs {} {}",
                    a.notation,
                    a.cost,
                    b.notation,
                    b.cost
                );
            }
        }
        eprintln!(
            "{cases} generated feeds ranked ({trains} trains enumerated), {infeasible} with no train in reach"
        );
        assert!(cases >= 250, "only {cases} feeds had a train");
    }

    #[test]
    fn fifteen_products_take_a_few_hundred_cuts_not_millions_of_trees() {
        let names = [
            "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Y", "Er", "Tm", "Yb", "Lu",
        ];
        let spec = SynthesisSpec {
            elements: names
                .iter()
                .enumerate()
                .map(|(i, n)| el(n, 1.6f64.powi(i as i32), 1.0 + i as f64))
                .collect(),
            products: names.iter().map(|n| product(n, &[n], 0.99)).collect(),
            objective: SynthObjective::Stages,
            keep: 5,
        };
        let s = synthesize(&spec).unwrap();
        assert_eq!(s.n_trains, 2_674_440.0);
        assert_eq!(s.cuts.len() + s.infeasible_cuts.len(), 15 * 14 * 16 / 6);
        assert_eq!(s.ranked.len(), 5);
        assert!(s.ranked.windows(2).all(|w| w[0].cost <= w[1].cost));
        assert_eq!(s.ranked[0].tree.cuts().len(), 14);
    }
}
