//! Synthesis written as plants, on feeds we did not write (issue 16): generated chloride
//! liquors of 3 to 7 neighbouring lanthanides (dilute to concentrated, even to lopsided
//! compositions), one product per element or a group at the light end, purities from 90 % to
//! 99.99 %. Each feed is ranked, its best train written as a plant with every circuit designed
//! on its simulated feed, and the plant simulated. Reported: how many plants meet every spec,
//! how many miss one, how many could not be written (with the reason), how many have no train in
//! reach. Asserted: no panic, every number finite, and a plant that claims its specs are met
//! does so again in an independent simulation of the written TOML.

use sxplan::api::{self, SynthObjective, SynthProduct, SynthesisSpec};

/// The flagship's separation factors (illustrative, flowsheets/minamitorishima.toml).
const BETA: [(&str, f64); 8] = [
    ("La", 1.0),
    ("Ce", 3.0),
    ("Pr", 5.52),
    ("Nd", 8.28),
    ("Sm", 41.4),
    ("Eu", 82.8),
    ("Gd", 124.2),
    ("Tb", 372.6),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
    fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + ((hi - lo + 1) as f64 * self.next()) as usize % (hi - lo + 1)
    }
}

struct Case {
    text: String,
    products: Vec<SynthProduct>,
}

fn case(rng: &mut Rng) -> Case {
    let n = rng.int(3, 7);
    let first = rng.int(0, BETA.len() - n);
    let els = &BETA[first..first + n];
    // total REE 0.05 to 1.5 mol/L, split by random weights (some elements minor)
    let total = rng.range(0.05, 1.5);
    let w: Vec<f64> = els.iter().map(|_| rng.range(0.05, 1.0).powi(2)).collect();
    let sum: f64 = w.iter().sum();
    let conc: Vec<String> = els
        .iter()
        .zip(&w)
        .map(|((e, _), x)| format!("{e} = \"{} mol/L\"", total * x / sum))
        .collect();
    let beta: Vec<String> = els.iter().map(|(e, b)| format!("{e} = {b}")).collect();
    let text = format!(
        r#"schema = 1
name = "generated"

[[feed]]
name = "liquor"
flow = "{} m3/h"
acid = "HCl"
ph = 2.0
conc = {{ {}, quality = "illustrative" }}
to = "C.feed"

[[circuit]]
name = "C"
sections = [{{ kind = "extraction", stages = 10 }}, {{ kind = "scrub", stages = 10 }}, {{ kind = "strip", stages = 5 }}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", saponification = "36 %", agent = "NaOH", flow = "4 m3/h" }}
scrub = {{ acid = "HCl", conc = "4 mol/L", flow = "0.4 m3/h" }}
strip = {{ acid = "HCl", conc = "5 mol/L", flow = "0.5 m3/h" }}

[circuit.equilibrium]
model = "separation_factor"
beta = {{ {}, quality = "illustrative" }}
extraction_ratio = {{ extraction = 0.5, scrub = 1.5 }}
"#,
        rng.range(0.5, 3.0),
        conc.join(", "),
        beta.join(", ")
    );
    // products: singles, and sometimes the two lightest as a group
    let purity = |rng: &mut Rng| [0.9, 0.99, 0.995, 0.999, 0.9999][rng.int(0, 4)];
    let mut products = Vec::new();
    let mut k = 0;
    if n >= 4 && rng.next() < 0.3 {
        products.push(SynthProduct {
            name: format!("{}{}", els[0].0, els[1].0),
            elements: vec![els[0].0.to_string(), els[1].0.to_string()],
            purity: purity(rng),
        });
        k = 2;
    }
    for (e, _) in &els[k..] {
        products.push(SynthProduct {
            name: (*e).to_string(),
            elements: vec![(*e).to_string()],
            purity: purity(rng),
        });
    }
    Case { text, products }
}

#[test]
fn best_trains_of_generated_feeds_are_written_as_plants_that_meet_their_specs() {
    let cases: usize = std::env::var("SXPLAN_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let mut rng = Rng(0x005e_ed16_2026);
    let (mut met, mut missed, mut refused, mut out_of_reach) = (0, 0, 0, 0);
    let mut reasons: Vec<String> = Vec::new();
    for i in 0..cases {
        let c = case(&mut rng);
        let loaded = api::load_str("generated", &c.text);
        let fs = loaded
            .flowsheet()
            .unwrap_or_else(|e| panic!("case {i}: {e}\n{}", c.text));
        let elements = api::synthesis_feed(fs, "C").unwrap();
        let spec = SynthesisSpec {
            elements,
            products: c.products.clone(),
            objective: SynthObjective::Stages,
            keep: 1,
        };
        let Ok(s) = api::synthesize(&spec) else {
            out_of_reach += 1;
            continue;
        };
        let Some(best) = s.ranked.first() else {
            out_of_reach += 1;
            continue;
        };
        match api::synthesize_plant(fs, "C", &s, best, &Default::default(), &mut |_| {}) {
            Err(e) => {
                let why = e.to_string();
                assert!(!why.is_empty());
                refused += 1;
                reasons.push(format!("case {i} {}: {why}", best.notation));
            }
            Ok(plant) => {
                for p in &plant.products {
                    assert!(p.purity.is_finite() && (0.0..=1.0).contains(&p.purity));
                }
                if plant.meets_every_spec() {
                    met += 1;
                    // independently: the written TOML simulated afresh meets them again
                    let again = api::load_str("plant", &plant.toml);
                    let r = api::simulate(again.flowsheet().unwrap(), &Default::default()).unwrap();
                    assert!(r.status.is_converged(), "case {i}");
                    for p in &r.products {
                        if let Some(spec) = &p.purity_spec {
                            assert!(spec.met, "case {i}: {} {}", p.id, p.purity_mol);
                        }
                    }
                } else {
                    missed += 1;
                    let fails: Vec<String> = plant
                        .products
                        .iter()
                        .filter(|p| !p.met)
                        .map(|p| format!("{} {:.5} < {:.5}", p.name, p.purity, p.min))
                        .collect();
                    reasons.push(format!(
                        "case {i} {} ({}): {}",
                        best.notation,
                        plant.status,
                        fails.join(", ")
                    ));
                }
            }
        }
    }
    println!(
        "{cases} generated feeds: {met} plants meet every spec, {missed} miss one, {refused} could not be written, {out_of_reach} with no train in reach"
    );
    for r in &reasons {
        println!("  {r}");
    }
    // most generated plants must come out right; the rest are reported above with why
    assert!(
        met * 4 >= (cases - out_of_reach) * 3,
        "only {met} of {} plants meet their specs",
        cases - out_of_reach
    );
}
