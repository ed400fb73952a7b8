//! A synthesized separation train written as a plant ([`synthesize_plant`]): the best train
//! of `sxplan synthesize` becomes a flowsheet whose circuits are designed one by one, each on
//! the flowsheet the previous design wrote, and the whole plant is simulated and judged by its
//! product specs.

use serde::Serialize;
use sxplan_design::flowsheet::{train_circuit_name, train_flowsheet_toml, CircuitOverrides};
use sxplan_design::SearchStatus;
use sxplan_model::Flowsheet;

use super::{
    circuit_cut, design, load_str, simulate, DesignSettings, Error, SimulateSettings, SynthTrain,
    Synthesis,
};

/// One designed circuit of the train.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainCircuit {
    /// Circuit name (its light and heavy key).
    pub circuit: String,
    /// Extraction and scrub stages, rigorous.
    pub n: usize,
    /// Scrub stages, rigorous.
    pub m: usize,
    /// Shortcut (sharp-split) stages of the synthesis, for comparison.
    pub n_shortcut: u32,
    /// Shortcut scrub stages.
    pub m_shortcut: u32,
    /// Group purity the cut was designed to on its organic (heavy) side.
    pub purity_a_spec: f64,
    /// Group purity the cut was designed to on its raffinate (light) side.
    pub purity_b_spec: f64,
    /// Group purities the designed circuit reaches on its actual feed (simulated).
    pub purity_a: f64,
    /// See `purity_a`.
    pub purity_b: f64,
}

/// One product of the simulated plant against its spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainProduct {
    /// Product name.
    pub name: String,
    /// Mole purity of its elements.
    pub purity: f64,
    /// The spec (mole purity).
    pub min: f64,
    /// Whether the spec is met.
    pub met: bool,
}

/// What [`synthesize_plant`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainPlant {
    /// The plant flowsheet (TOML; `check`, `simulate` and `optimize` read it).
    pub toml: String,
    /// Its circuits as designed, in the order they were designed (the tree's pre-order).
    pub circuits: Vec<TrainCircuit>,
    /// Simulation status of the whole plant.
    pub status: String,
    /// Its products against their specs.
    pub products: Vec<TrainProduct>,
    /// Total stages of the plant (extraction + scrub, rigorous).
    pub stages: usize,
}

impl TrainPlant {
    /// True when the plant converged and every product meets its spec.
    pub fn meets_every_spec(&self) -> bool {
        self.status == "converged" && self.products.iter().all(|p| p.met)
    }
}

/// Writes `train` (of `synthesis`, for the feed of circuit `circuit` of `fs`) as a plant and
/// designs its circuits in turn (top of the tree first, each on its actual simulated feed,
/// with the keys and the group purities the synthesis gave the cut), then simulates it.
/// `on_circuit` is told each circuit before it is designed.
pub fn synthesize_plant(
    fs: &Flowsheet,
    circuit: &str,
    synthesis: &Synthesis,
    train: &SynthTrain,
    settings: &DesignSettings,
    on_circuit: &mut dyn FnMut(&str),
) -> Result<TrainPlant, Error> {
    let ends = super::synthesis_keys(fs, circuit);
    let root = circuit_cut(fs, circuit, ends, None, &mut |_| {})?;
    let start = train_flowsheet_toml(fs, &root, synthesis, train).map_err(Error::Request)?;
    let order = train.tree.cuts();
    // Group purities per cut (heavy side A, light side B): the synthesis's, tightened in a
    // further round for the cuts next to a product that missed its spec (the even split of a
    // product's impurity budget between its two cuts is an estimate).
    let mut targets: Vec<(f64, f64)> = order
        .iter()
        .map(|&k| (synthesis.cuts[k].purity_a, synthesis.cuts[k].purity_b))
        .collect();
    let mut round = 0;
    loop {
        let (text, circuits) =
            design_round(&start, synthesis, &order, &targets, settings, on_circuit)?;
        let products = judge(&text)?;
        let missed: Vec<&TrainProduct> = products.iter().filter(|p| !p.met).collect();
        round += 1;
        if missed.is_empty() || round >= MAX_ROUNDS {
            return finish(text, circuits);
        }
        for p in missed {
            // its impurity is (1 - purity) of its flow; it may take (1 - min)
            let factor = ((1.0 - p.min) / (1.0 - p.purity).max(1e-12)).clamp(0.05, 0.95);
            for (t, &k) in targets.iter_mut().zip(&order) {
                let c = &synthesis.cuts[k];
                if c.light.last() == Some(&p.name) {
                    t.1 = 1.0 - (1.0 - t.1) * factor;
                }
                if c.heavy.first() == Some(&p.name) {
                    t.0 = 1.0 - (1.0 - t.0) * factor;
                }
            }
        }
    }
}

/// Design rounds of [`synthesize_plant`]: the first at the synthesis's group purities, then
/// with the cuts next to a product that missed its spec tightened.
const MAX_ROUNDS: usize = 3;

/// Designs every circuit of the train in `order` (pre-order), each on the flowsheet the
/// previous design wrote, at the group purities `targets`.
fn design_round(
    start: &str,
    synthesis: &Synthesis,
    order: &[usize],
    targets: &[(f64, f64)],
    settings: &DesignSettings,
    on_circuit: &mut dyn FnMut(&str),
) -> Result<(String, Vec<TrainCircuit>), Error> {
    let mut text = start.to_string();
    let mut circuits = Vec::new();
    for (&k, &(purity_a, purity_b)) in order.iter().zip(targets) {
        let sc = &synthesis.cuts[k];
        let name = train_circuit_name(sc);
        on_circuit(&name);
        let loaded = load_str("train", &text);
        let plant = loaded.flowsheet()?;
        let el = |s: &str| sxplan_chem::Element::from_symbol_ignore_case(s);
        let overrides = CircuitOverrides {
            key_a: el(&sc.key_a),
            key_b: el(&sc.key_b),
            purity_a: Some(purity_a),
            purity_b: Some(purity_b),
            ..CircuitOverrides::default()
        };
        let mut cut = circuit_cut(plant, &name, overrides, None, &mut |_| {})?;
        // A side the cut's actual feed already holds purer than asked (upstream cuts left it
        // cleaner than the sharp-split estimate) still needs a cut: half of its impurity goes.
        let spec = &mut cut.spec;
        let total: f64 = spec.components.iter().map(|c| c.feed).sum();
        if total > 0.0 {
            let split = spec.components[spec.key_b].sep_factor;
            let x_b = spec
                .components
                .iter()
                .filter(|c| c.sep_factor <= split)
                .map(|c| c.feed)
                .sum::<f64>()
                / total;
            spec.purity_b = spec.purity_b.max(x_b + 0.5 * (1.0 - x_b));
            spec.purity_a = spec.purity_a.max((1.0 - x_b) + 0.5 * x_b);
        }
        let d = design(&cut.spec, Some(plant), settings, &mut |_| {})?;
        let best = match (&d.design.rigorous.best, d.design.rigorous.status) {
            (Some(b), SearchStatus::Found) => b.clone(),
            (_, status) => {
                return Err(Error::Request(format!(
                    "cut {name} ({} | {}): the rigorous design ended {} for P_A >= {}, P_B >= {} on its simulated feed",
                    sc.light.join("+"),
                    sc.heavy.join("+"),
                    status.as_str(),
                    cut.spec.purity_a,
                    cut.spec.purity_b
                )))
            }
        };
        text = d
            .flowsheet_toml(&text, plant, &cut)
            .map_err(Error::Request)?;
        circuits.push(TrainCircuit {
            circuit: name,
            n: best.n,
            m: best.m,
            n_shortcut: sc.n,
            m_shortcut: sc.m,
            purity_a_spec: cut.spec.purity_a,
            purity_b_spec: cut.spec.purity_b,
            purity_a: best.purity_a,
            purity_b: best.purity_b,
        });
    }
    Ok((text, circuits))
}

/// The products of the plant `text` against their specs (simulated).
fn judge(text: &str) -> Result<Vec<TrainProduct>, Error> {
    let loaded = load_str("train", text);
    let r = simulate(loaded.flowsheet()?, &SimulateSettings::default())?;
    if !r.status.is_converged() {
        return Ok(Vec::new());
    }
    Ok(r.products
        .iter()
        .filter_map(|p| {
            let spec = p.purity_spec.as_ref()?;
            Some(TrainProduct {
                name: p.id.clone(),
                purity: p.purity_mol,
                min: spec.min,
                met: spec.met,
            })
        })
        .collect())
}

/// Adds the `[optimize]` table to the designed plant and simulates it.
fn finish(mut text: String, circuits: Vec<TrainCircuit>) -> Result<TrainPlant, Error> {
    // What `optimize` may move: the feed rate (half to one and a half times) and each circuit's
    // organic flow (0.8 to 1.25 times the designed one), maximizing throughput under the specs.
    let loaded = load_str("train", &text);
    let plant = loaded.flowsheet()?;
    let mut free = Vec::new();
    for f in &plant.feeds {
        if let sxplan_model::FeedKind::Aqueous(sol) = &f.kind {
            free.push(format!(
                "    {{ var = \"feed_rate\", of = \"{}\", min = \"{} L/h\", max = \"{} L/h\" }},",
                f.name,
                short(0.5 * sol.flow_vol),
                short(1.5 * sol.flow_vol)
            ));
        }
    }
    for c in &plant.circuits {
        free.push(format!(
            "    {{ var = \"organic_flow\", of = \"{}\", min = \"{} L/h\", max = \"{} L/h\" }},",
            c.name,
            short(0.8 * c.organic.flow_vol),
            short(1.25 * c.organic.flow_vol)
        ));
    }
    text.push_str(&format!(
        "\n[optimize]\nobjective = \"max_throughput\"\n# written by sxplan synthesize: the feed rate and every organic flow around the designed point\nfree = [\n{}\n]\n",
        free.join("\n")
    ));
    let loaded = load_str("train", &text);
    let plant = loaded.flowsheet()?;
    let r = simulate(plant, &SimulateSettings::default())?;
    let products = r
        .products
        .iter()
        .filter_map(|p| {
            let spec = p.purity_spec.as_ref()?;
            Some(TrainProduct {
                name: p.id.clone(),
                purity: p.purity_mol,
                min: spec.min,
                met: spec.met,
            })
        })
        .collect();
    Ok(TrainPlant {
        toml: text,
        stages: circuits.iter().map(|c| c.n + c.m).sum(),
        circuits,
        status: r.status.as_str().to_string(),
        products,
    })
}

/// A flow with at most 6 significant decimals, for bounds in the written flowsheet.
fn short(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
