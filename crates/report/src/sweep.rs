//! Uncertainty sweeps (`sxplan sweep`, `sxplan merge`, docs/sweep.md): the sample records as
//! they are streamed to JSON lines, and their aggregates (P(spec met) per product with a
//! Wilson interval, percentiles, rank-correlation drivers) with the document, text and report
//! renderings.
//!
//! [`aggregate`] is a pure function of the header and the records sorted by index, so a run
//! merged from shards gives the same aggregates, byte for byte, as one process, whatever the
//! thread count.

use serde::{Deserialize, Serialize};

use crate::charts::{fmt_sig, histogram_svg, tornado_svg};
use crate::doc::{Block, Figure, Report};

/// `schema_version` of the aggregates document and of the sample files.
pub const SCHEMA_VERSION: u32 = 1;
/// `kind` of the aggregates document.
pub const KIND: &str = "sweep_aggregates";

/// A product of the swept flowsheet, as the header lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductInfo {
    /// Product name.
    pub name: String,
    /// Minimum purity (fraction of REO mass) when the product has a purity spec.
    pub purity_min: Option<f64>,
}

/// The first line of every sample file: what the samples are of. Two files merge only when
/// their headers agree (the shard fields aside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepHeader {
    /// [`SCHEMA_VERSION`].
    pub sxplan_sweep: u32,
    /// Hash of the manifest and flowsheet texts (16 hex digits).
    pub manifest_hash: String,
    /// The flowsheet as the manifest names it.
    pub flowsheet: String,
    /// Samples in the whole design.
    pub samples: usize,
    /// Seed of the design.
    pub seed: u64,
    /// `latin_hypercube` or `random`.
    pub sampling: String,
    /// `simulate` or `optimize`.
    pub mode: String,
    /// Input names, in manifest order.
    pub inputs: Vec<String>,
    /// The unit of each input's values (`m3/h`, `mol/L`, `US$/kg`, `-`), in manifest order.
    pub units: Vec<String>,
    /// Products, in flowsheet order.
    pub products: Vec<ProductInfo>,
    /// This file's shard `[I, N]` (`[0, 1]` for a single run).
    pub shard: [usize; 2],
}

impl SweepHeader {
    /// True when `other` describes the same sweep (shard fields aside).
    pub fn same_sweep(&self, other: &SweepHeader) -> bool {
        SweepHeader {
            shard: other.shard,
            ..self.clone()
        } == *other
    }
}

/// One product of one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductOutcome {
    /// Purity of the main element(s), fraction of REO mass.
    pub purity: f64,
    /// Recovery of the first main element, fraction of what the feeds bring.
    pub recovery: Option<f64>,
    /// Spec met (None without a spec).
    pub spec_met: Option<bool>,
}

/// One sample: its input values and what the plant did with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// Index in the design, 0-based.
    pub index: usize,
    /// Input values, in manifest order (the value applied, after any clamping).
    pub values: Vec<f64>,
    /// Inputs whose drawn value lay outside the datum's physical range and was clamped to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clamped: Vec<String>,
    /// `converged`, `optimal`, or the status that ended the run (`iteration_limit`,
    /// `infeasible`, ...), or `error`.
    pub status: String,
    /// Why the run did not end well, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Products in header order (empty for an `error`).
    pub products: Vec<ProductOutcome>,
    /// Margin, US$/year (None when not computed).
    pub margin_usd_per_year: Option<f64>,
    /// Reagents, t per t REO, summed.
    pub reagent_t_per_t_reo: Option<f64>,
    /// Reagent cost, US$ per t REO.
    pub reagent_cost_usd_per_t_reo: Option<f64>,
}

impl SampleRecord {
    /// True when the run ended with a steady state (`converged`, or `optimal` and simulated).
    pub fn is_good(&self) -> bool {
        self.status == "converged" || self.status == "optimal"
    }
}

/// P10, P50 and P90 of one output over the samples that ended well.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples with a value.
    pub n: usize,
    /// 10th percentile (linear interpolation between order statistics).
    pub p10: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
}

/// One input's Spearman rank correlation with an output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// Input name.
    pub input: String,
    /// Spearman rank correlation, -1..=1; None when the input or the output is constant.
    pub spearman: Option<f64>,
}

/// Which inputs drive one output, strongest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drivers {
    /// Output (`margin_usd_per_year`, `purity <product>`).
    pub output: String,
    /// Samples the correlation is computed on.
    pub n: usize,
    /// Inputs by decreasing |rho| (ties in manifest order).
    pub inputs: Vec<Driver>,
}

/// One product's odds and spreads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductStats {
    /// Product name.
    pub name: String,
    /// The purity spec, if any.
    pub purity_min: Option<f64>,
    /// Samples that ended well and met the spec.
    pub spec_met: usize,
    /// spec_met / all samples (a sample that did not end well counts as not met).
    pub p_spec_met: Option<f64>,
    /// Wilson score 95 % interval of `p_spec_met`.
    pub p_spec_met_ci95: Option<[f64; 2]>,
    /// Purity, fraction of REO mass.
    pub purity: Percentiles,
    /// Purity minus the spec (the spec margin), fraction of REO mass.
    pub purity_margin: Option<Percentiles>,
    /// Recovery of the first main element.
    pub recovery: Percentiles,
}

/// An input with how often it was clamped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputStats {
    /// Input name.
    pub name: String,
    /// Unit of its values.
    pub unit: String,
    /// Its applied values over all samples.
    pub values: Percentiles,
    /// Samples whose drawn value was clamped to the physical range.
    pub clamped: usize,
}

/// The aggregates document of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`KIND`].
    pub kind: String,
    /// Hash of the manifest and flowsheet texts.
    pub manifest_hash: String,
    /// The flowsheet.
    pub flowsheet: String,
    /// `latin_hypercube` or `random`.
    pub sampling: String,
    /// `simulate` or `optimize`.
    pub mode: String,
    /// Seed.
    pub seed: u64,
    /// Samples aggregated.
    pub samples: usize,
    /// Samples per status, by status name.
    pub statuses: Vec<(String, usize)>,
    /// The inputs.
    pub inputs: Vec<InputStats>,
    /// Per product, in flowsheet order.
    pub products: Vec<ProductStats>,
    /// Margin, US$/year.
    pub margin_usd_per_year: Percentiles,
    /// Reagents, t per t REO.
    pub reagent_t_per_t_reo: Percentiles,
    /// Reagent cost, US$ per t REO.
    pub reagent_cost_usd_per_t_reo: Percentiles,
    /// Rank correlations: the margin first, then the purity of each product with a spec.
    pub drivers: Vec<Drivers>,
}

/// Percentile `q` (0..=1) of sorted `v` by linear interpolation between order statistics.
fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let h = q * (v.len() - 1) as f64;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Percentiles of the finite values of `values`, in the order given (sorted here).
pub fn percentiles(values: impl Iterator<Item = f64>) -> Percentiles {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    let mean = (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    v.sort_by(f64::total_cmp);
    Percentiles {
        n: v.len(),
        p10: quantile(&v, 0.1),
        p50: quantile(&v, 0.5),
        p90: quantile(&v, 0.9),
        mean,
    }
}

/// Wilson score 95 % interval of `k` successes in `n` trials.
pub fn wilson95(k: usize, n: usize) -> Option<[f64; 2]> {
    if n == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    Some([(c - h).max(0.0), (c + h).min(1.0)])
}

/// Ranks of `v` (1-based, ties get their mean rank).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation of paired values; None when either side is constant or fewer
/// than 3 pairs.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 3 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    let d = (sxx * syy).sqrt();
    (d > 0.0).then(|| (sxy / d).clamp(-1.0, 1.0))
}

fn drivers(output: &str, inputs: &[String], pairs: &[(&SampleRecord, f64)]) -> Drivers {
    let y: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    // an output that moves by less than 1e-9 of its size (a purity fixed by the design, whose
    // last digits are the solver's round-off) has no drivers: ranking its noise would name
    // inputs that do nothing
    let (lo, hi) = y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    // (also when there are no values: the fold leaves hi - lo = -inf)
    let constant = (hi - lo).is_nan() || hi - lo <= 1e-9 * lo.abs().max(hi.abs());
    let mut list: Vec<(usize, Driver)> = inputs
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let x: Vec<f64> = pairs
                .iter()
                .map(|p| p.0.values.get(j).copied().unwrap_or(f64::NAN))
                .collect();
            (
                j,
                Driver {
                    input: name.clone(),
                    spearman: if constant { None } else { spearman(&x, &y) },
                },
            )
        })
        .collect();
    list.sort_by(|a, b| {
        let (ra, rb) = (
            a.1.spearman.map_or(-1.0, f64::abs),
            b.1.spearman.map_or(-1.0, f64::abs),
        );
        rb.total_cmp(&ra).then(a.0.cmp(&b.0))
    });
    Drivers {
        output: output.to_string(),
        n: pairs.len(),
        inputs: list.into_iter().map(|d| d.1).collect(),
    }
}

/// The aggregates of `records` (sorted by index, one per index 0..header.samples).
pub fn aggregate(header: &SweepHeader, records: &[SampleRecord]) -> Aggregates {
    let mut statuses: Vec<(String, usize)> = Vec::new();
    for r in records {
        match statuses.iter_mut().find(|s| s.0 == r.status) {
            Some(s) => s.1 += 1,
            None => statuses.push((r.status.clone(), 1)),
        }
    }
    statuses.sort();
    let good: Vec<&SampleRecord> = records.iter().filter(|r| r.is_good()).collect();
    let n_all = records.len();
    let products = header
        .products
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let outcome = |r: &&SampleRecord| r.products.get(k).cloned();
            let met = good
                .iter()
                .filter_map(outcome)
                .filter(|o| o.spec_met == Some(true))
                .count();
            let has_spec = p.purity_min.is_some();
            ProductStats {
                name: p.name.clone(),
                purity_min: p.purity_min,
                spec_met: met,
                p_spec_met: (has_spec && n_all > 0).then(|| met as f64 / n_all as f64),
                p_spec_met_ci95: if has_spec { wilson95(met, n_all) } else { None },
                purity: percentiles(good.iter().filter_map(outcome).map(|o| o.purity)),
                purity_margin: p.purity_min.map(|min| {
                    percentiles(good.iter().filter_map(outcome).map(|o| o.purity - min))
                }),
                recovery: percentiles(good.iter().filter_map(outcome).filter_map(|o| o.recovery)),
            }
        })
        .collect();
    let inputs = header
        .inputs
        .iter()
        .enumerate()
        .map(|(j, name)| InputStats {
            name: name.clone(),
            unit: header.units.get(j).cloned().unwrap_or_default(),
            values: percentiles(records.iter().filter_map(|r| r.values.get(j).copied())),
            clamped: records.iter().filter(|r| r.clamped.contains(name)).count(),
        })
        .collect();
    let margin_pairs: Vec<(&SampleRecord, f64)> = good
        .iter()
        .filter_map(|r| r.margin_usd_per_year.map(|m| (*r, m)))
        .collect();
    let mut drivers_list = vec![drivers(
        "margin_usd_per_year",
        &header.inputs,
        &margin_pairs,
    )];
    for (k, p) in header.products.iter().enumerate() {
        if p.purity_min.is_none() {
            continue;
        }
        let pairs: Vec<(&SampleRecord, f64)> = good
            .iter()
            .filter_map(|r| r.products.get(k).map(|o| (*r, o.purity)))
            .collect();
        drivers_list.push(drivers(
            &format!("purity {}", p.name),
            &header.inputs,
            &pairs,
        ));
    }
    Aggregates {
        schema_version: SCHEMA_VERSION,
        kind: KIND.to_string(),
        manifest_hash: header.manifest_hash.clone(),
        flowsheet: header.flowsheet.clone(),
        sampling: header.sampling.clone(),
        mode: header.mode.clone(),
        seed: header.seed,
        samples: n_all,
        statuses,
        inputs,
        products,
        margin_usd_per_year: percentiles(good.iter().filter_map(|r| r.margin_usd_per_year)),
        reagent_t_per_t_reo: percentiles(good.iter().filter_map(|r| r.reagent_t_per_t_reo)),
        reagent_cost_usd_per_t_reo: percentiles(
            good.iter().filter_map(|r| r.reagent_cost_usd_per_t_reo),
        ),
        drivers: drivers_list,
    }
}

/// The aggregates as pretty JSON with one trailing newline (`aggregates.json`).
pub fn to_json(a: &Aggregates) -> String {
    let mut s = serde_json::to_string_pretty(a).unwrap_or_default();
    s.push('\n');
    s
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |x| format!("{:.4} %", x * 100.0))
}

fn pp(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |x| format!("{:+.4} %", x * 100.0))
}

fn usd(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.0}"))
}

fn num(v: Option<f64>) -> String {
    v.map_or("-".to_string(), fmt_sig)
}

fn odds(p: &ProductStats) -> (String, String) {
    (
        p.p_spec_met.map_or("no spec".into(), |x| format!("{x:.3}")),
        p.p_spec_met_ci95
            .map_or("-".into(), |[l, h]| format!("{l:.3}-{h:.3}")),
    )
}

fn status_line(a: &Aggregates) -> String {
    a.statuses
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

type Fmt = fn(Option<f64>) -> String;

fn plant_rows(a: &Aggregates) -> [(&'static str, &Percentiles, Fmt); 3] {
    [
        ("margin, US$/year", &a.margin_usd_per_year, usd as Fmt),
        ("reagents, t per t REO", &a.reagent_t_per_t_reo, num as Fmt),
        (
            "reagent cost, US$ per t REO",
            &a.reagent_cost_usd_per_t_reo,
            usd as Fmt,
        ),
    ]
}

/// Plain-text summary (stdout of `sxplan sweep` and `sxplan merge`).
pub fn render_text(a: &Aggregates) -> String {
    let mut o = format!(
        "sweep of {}: {} samples ({}, seed {}, each {}d), manifest {}\nstatuses: {}\n\n",
        a.flowsheet,
        a.samples,
        a.sampling,
        a.seed,
        a.mode,
        a.manifest_hash,
        status_line(a)
    );
    o.push_str(&format!(
        "{:<14} {:>9} {:>13} {:>12} {:>12} {:>12} {:>11} {:>11}\n",
        "product", "P(spec)", "95 % CI", "purity P10", "P50", "P90", "margin P10", "recov. P50"
    ));
    for p in &a.products {
        let (po, ci) = odds(p);
        o.push_str(&format!(
            "{:<14} {:>9} {:>13} {:>12} {:>12} {:>12} {:>11} {:>11}\n",
            p.name,
            po,
            ci,
            pct(p.purity.p10),
            pct(p.purity.p50),
            pct(p.purity.p90),
            pp(p.purity_margin.as_ref().and_then(|m| m.p10)),
            pct(p.recovery.p50)
        ));
    }
    o.push('\n');
    for (label, q, f) in plant_rows(a) {
        o.push_str(&format!(
            "{label:<28} P10 {:>14}  P50 {:>14}  P90 {:>14}\n",
            f(q.p10),
            f(q.p50),
            f(q.p90)
        ));
    }
    for d in &a.drivers {
        let top: Vec<String> = d
            .inputs
            .iter()
            .take(3)
            .map(|i| {
                format!(
                    "{} {}",
                    i.input,
                    i.spearman.map_or("-".into(), |r| format!("{r:+.3}"))
                )
            })
            .collect();
        if d.inputs.iter().all(|i| i.spearman.is_none()) {
            o.push_str(&format!(
                "drivers of {}: none (it does not vary over the samples)\n",
                d.output
            ));
        } else {
            o.push_str(&format!("drivers of {}: {}\n", d.output, top.join(", ")));
        }
    }
    let clamped: Vec<String> = a
        .inputs
        .iter()
        .filter(|i| i.clamped > 0)
        .map(|i| format!("{} ({} samples)", i.name, i.clamped))
        .collect();
    if !clamped.is_empty() {
        o.push_str(&format!(
            "clamped to the physical range: {}\n",
            clamped.join(", ")
        ));
    }
    o
}

/// The report: the odds per product, the plant's spreads, the inputs, the drivers, with a
/// histogram of the margin and of each spec'd product's purity and a tornado chart per output.
pub fn sweep_report(a: &Aggregates, margin: &[f64], purities: &[Vec<f64>]) -> Report {
    let mut blocks = vec![Block::Heading(
        1,
        format!("sxplan report: uncertainty sweep of {}", a.flowsheet),
    )];
    let mut figures = Vec::new();
    blocks.push(Block::Para(format!(
        "{} samples ({} sampling, seed {}), each {}d; manifest hash {}. Statuses: {}. A sample that did not end with a steady state counts as not meeting its specs; the percentiles are over the samples that did.",
        a.samples, a.sampling, a.seed, a.mode, a.manifest_hash, status_line(a)
    )));
    blocks.push(Block::Heading(2, "Products".into()));
    blocks.push(Block::Table(
        [
            "product",
            "spec (purity >=)",
            "P(spec met)",
            "95 % interval (Wilson)",
            "purity P10",
            "P50",
            "P90",
            "spec margin P10",
            "P50",
            "recovery P50",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        a.products
            .iter()
            .map(|p| {
                let (po, ci) = odds(p);
                let m = p.purity_margin.as_ref();
                vec![
                    p.name.clone(),
                    pct(p.purity_min),
                    po,
                    ci,
                    pct(p.purity.p10),
                    pct(p.purity.p50),
                    pct(p.purity.p90),
                    pp(m.and_then(|m| m.p10)),
                    pp(m.and_then(|m| m.p50)),
                    pct(p.recovery.p50),
                ]
            })
            .collect(),
    ));
    blocks.push(Block::Heading(2, "The plant".into()));
    blocks.push(Block::Table(
        ["figure", "P10", "P50", "P90", "mean"]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        plant_rows(a)
            .iter()
            .map(|(l, q, f)| vec![l.to_string(), f(q.p10), f(q.p50), f(q.p90), f(q.mean)])
            .collect(),
    ));
    figures.push(Figure {
        file: "hist_margin.svg".into(),
        caption: "Margin over the samples that ended with a steady state".into(),
        svg: histogram_svg("margin", "US$/year", margin, None),
    });
    blocks.push(Block::Figure(figures.len() - 1));
    blocks.push(Block::Heading(2, "Inputs".into()));
    blocks.push(Block::Table(
        ["input", "unit", "P10", "P50", "P90", "clamped samples"]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        a.inputs
            .iter()
            .map(|i| {
                vec![
                    i.name.clone(),
                    i.unit.clone(),
                    num(i.values.p10),
                    num(i.values.p50),
                    num(i.values.p90),
                    i.clamped.to_string(),
                ]
            })
            .collect(),
    ));
    blocks.push(Block::Heading(2, "What drives each output".into()));
    blocks.push(Block::Para("Spearman rank correlation of each input with the output over the samples that ended well; the strongest first. A rank correlation measures a monotone influence; an input whose effect changes sign over its range can show a small one.".into()));
    let spec_products: Vec<(usize, &ProductStats)> = a
        .products
        .iter()
        .enumerate()
        .filter(|p| p.1.purity_min.is_some())
        .collect();
    for (k, d) in a.drivers.iter().enumerate() {
        blocks.push(Block::Heading(3, format!("{} ({} samples)", d.output, d.n)));
        if k > 0 {
            if let Some((pk, p)) = spec_products.get(k - 1) {
                figures.push(Figure {
                    file: format!("hist_purity_{}.svg", crate::doc::safe_name(&p.name)),
                    caption: format!("Purity of {} (REO mass) with its spec", p.name),
                    svg: histogram_svg(
                        &format!("purity of {}", p.name),
                        "fraction of REO mass",
                        purities.get(*pk).map_or(&[][..], |v| v.as_slice()),
                        p.purity_min.map(|m| (m, "spec")),
                    ),
                });
                blocks.push(Block::Figure(figures.len() - 1));
            }
        }
        let bars: Vec<(String, f64)> = d
            .inputs
            .iter()
            .filter_map(|i| i.spearman.map(|r| (i.input.clone(), r)))
            .collect();
        if bars.is_empty() {
            blocks.push(Block::Para(format!(
                "{} does not vary over the samples (by less than 1e-9 of its value): no input drives it.",
                d.output
            )));
            continue;
        }
        figures.push(Figure {
            file: format!("tornado_{k}.svg"),
            caption: format!("Drivers of {}", d.output),
            svg: tornado_svg(&format!("drivers of {}", d.output), &bars),
        });
        blocks.push(Block::Figure(figures.len() - 1));
    }
    Report {
        title: format!("uncertainty sweep of {}", a.flowsheet),
        blocks,
        figures,
        dot: None,
    }
}

/// The files of a sweep's output directory besides the samples: `aggregates.json`,
/// `report.md`, `report.html` and the figures.
pub fn report_files(
    header: &SweepHeader,
    records: &[SampleRecord],
) -> (Aggregates, Vec<(String, String)>) {
    let a = aggregate(header, records);
    let good: Vec<&SampleRecord> = records.iter().filter(|r| r.is_good()).collect();
    let margin: Vec<f64> = good.iter().filter_map(|r| r.margin_usd_per_year).collect();
    let purities: Vec<Vec<f64>> = (0..header.products.len())
        .map(|k| {
            good.iter()
                .filter_map(|r| r.products.get(k).map(|o| o.purity))
                .collect()
        })
        .collect();
    let report = sweep_report(&a, &margin, &purities);
    let mut files = vec![
        ("aggregates.json".to_string(), to_json(&a)),
        ("report.md".to_string(), crate::doc::to_markdown(&report)),
        ("report.html".to_string(), crate::doc::to_html(&report)),
    ];
    files.extend(
        report
            .figures
            .iter()
            .map(|f| (f.file.clone(), f.svg.clone())),
    );
    (a, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_order_statistics() {
        let p = percentiles([5.0, 1.0, 3.0, 2.0, 4.0, f64::NAN].into_iter());
        assert_eq!(
            (p.n, p.p10, p.p50, p.p90),
            (5, Some(1.4), Some(3.0), Some(4.6))
        );
        assert_eq!(percentiles(std::iter::empty()).p50, None);
    }

    #[test]
    fn spearman_of_monotone_and_constant_series() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(spearman(&x, &[10.0, 20.0, 25.0, 100.0]), Some(1.0));
        assert_eq!(spearman(&x, &[4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(spearman(&x, &[1.0, 1.0, 1.0, 1.0]), None);
        // ties get their mean rank
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((r - 0.948_683_298_050_513_8).abs() < 1e-12, "{r}");
    }

    #[test]
    fn wilson_interval_stays_inside_0_1() {
        let [lo, hi] = wilson95(0, 20).unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.1 && hi < 0.2, "{hi}");
        let [lo, hi] = wilson95(20, 20).unwrap();
        assert!(lo > 0.8 && hi == 1.0);
        assert_eq!(wilson95(0, 0), None);
    }
}
