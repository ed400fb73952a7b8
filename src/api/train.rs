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
    let mut text = train_flowsheet_toml(fs, &root, synthesis, train).map_err(Error::Request)?;
    let mut circuits = Vec::new();
    for k in train.tree.cuts() {
        let sc = &synthesis.cuts[k];
        let name = train_circuit_name(sc);
        on_circuit(&name);
        let loaded = load_str("train", &text);
        let plant = loaded.flowsheet()?;
        let el = |s: &str| sxplan_chem::Element::from_symbol_ignore_case(s);
        let overrides = CircuitOverrides {
            key_a: el(&sc.key_a),
            key_b: el(&sc.key_b),
            purity_a: Some(sc.purity_a),
            purity_b: Some(sc.purity_b),
            ..CircuitOverrides::default()
        };
        let cut = circuit_cut(plant, &name, overrides, None, &mut |_| {})?;
        let d = design(&cut.spec, Some(plant), settings, &mut |_| {})?;
        let best = match (&d.design.rigorous.best, d.design.rigorous.status) {
            (Some(b), SearchStatus::Found) => b.clone(),
            (_, status) => {
                return Err(Error::Request(format!(
                    "cut {name} ({} | {}): the rigorous design ended {} for P_A >= {}, P_B >= {} on its simulated feed",
                    sc.light.join("+"),
                    sc.heavy.join("+"),
                    status.as_str(),
                    sc.purity_a,
                    sc.purity_b
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
            purity_a_spec: sc.purity_a,
            purity_b_spec: sc.purity_b,
            purity_a: best.purity_a,
            purity_b: best.purity_b,
        });
    }
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
