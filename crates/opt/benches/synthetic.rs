//! Synthetic benchmark flowsheets: one two-section cascade with 15 REY elements and constant
//! distribution ratios. The numbers are illustrative (chosen to give a clean cut between Gd and Tb),
//! not plant data.

/// The 15 REY in the order used for the distribution ratios (lightest first, Y last).
pub const ELEMENTS: [&str; 15] = [
    "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y",
];

/// TOML of an `n_stages`-stage cascade (half extraction, half scrub) cutting La..Gd (raffinate)
/// from Tb..Lu + Y (loaded organic), with `n_elements` elements (<= 15), the feed rate free for
/// max throughput, a stage capacity, purity specs on both products and a reagent price for the
/// money objectives.
pub fn cascade_toml(n_stages: usize, n_elements: usize, purity: f64) -> String {
    let n_el = n_elements.clamp(2, 15);
    let els = &ELEMENTS[..n_el];
    // Adjacent separation factor 2 around a key pair straddling the middle of the list.
    let key = (n_el / 2) as f64 - 0.5;
    let d: Vec<String> = els
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{e} = {:.6}", 2f64.powf(i as f64 - key)))
        .collect();
    let conc: Vec<String> = els
        .iter()
        .map(|e| format!("{e} = \"0.01 mol/L\""))
        .collect();
    let light: Vec<String> = els[..n_el / 2].iter().map(|e| format!("\"{e}\"")).collect();
    let heavy: Vec<String> = els[n_el / 2..].iter().map(|e| format!("\"{e}\"")).collect();
    let n_ext = n_stages / 2;
    let n_scr = n_stages - n_ext;
    format!(
        r#"schema = 1
name = "synthetic-{n_stages}"
description = "synthetic benchmark cascade, illustrative distribution ratios"

[[feed]]
name = "liquor"
flow = "1 m3/h"
conc = {{ {conc} }}
to = "cut.feed"

[[circuit]]
name = "cut"
sections = [{{ kind = "extraction", stages = {n_ext} }}, {{ kind = "scrub", stages = {n_scr} }}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "3.5 m3/h", saponification = "36 %", agent = "NaOH" }}
scrub = {{ acid = "HCl", conc = "1 mol/L", flow = "3 m3/h" }}
equilibrium = {{ model = "distribution", d = {{ {d} }}, quality = "illustrative" }}
capacity = [{{ max_flow = "8.5 m3/h" }}]

[[product]]
name = "light"
from = "cut.raffinate"
purity = {{ elements = [{light}], min = {purity} }}

[[product]]
name = "heavy"
from = "cut.loaded_organic"
kind = "organic"
purity = {{ elements = [{heavy}], min = {purity} }}

[prices]
reagent = {{ HCl = {{ price = "0.2 USD/kg", source = "illustrative", quality = "illustrative" }}, NaOH = {{ price = "0.5 USD/kg", source = "illustrative", quality = "illustrative" }} }}

[optimize]
objective = "max_throughput"
free = [{{ var = "feed_rate", of = "liquor", min = "0.2 m3/h", max = "4 m3/h" }}]
"#,
        conc = conc.join(", "),
        d = d.join(", "),
        light = light.join(", "),
        heavy = heavy.join(", "),
    )
}

/// The 15 REY's separation factors, 1.15 between neighbours (La = 1), as TOML entries.
fn sf_betas() -> Vec<String> {
    ELEMENTS
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{e} = {:.6}", 1.15f64.powi(i as i32)))
        .collect()
}

/// The separation-factor benchmarks' feed: 0.01 mol/L of each of the 15 REY, as TOML entries.
fn sf_feed() -> Vec<String> {
    ELEMENTS
        .iter()
        .map(|e| format!("{e} = \"0.01 mol/L\""))
        .collect()
}

/// TOML of an `n_stages`-stage separation-factor cascade (half extraction, half scrub, ratio
/// loading) of the 15 REY cutting La..Gd from Tb..Lu + Y, with three free variables: the feed
/// rate (limited by a stage capacity) and the two extraction ratios; purity specs of `purity`
/// on both products. Separation factors 1.15 between neighbours (as in the simulation benchmarks): illustrative, not plant data.
pub fn sf_cascade_toml(n_stages: usize, purity: f64) -> String {
    let (beta, conc) = (sf_betas(), sf_feed());
    let light: Vec<String> = ELEMENTS[..7].iter().map(|e| format!("\"{e}\"")).collect();
    let heavy: Vec<String> = ELEMENTS[7..].iter().map(|e| format!("\"{e}\"")).collect();
    let n_ext = n_stages / 2;
    let n_scr = n_stages - n_ext;
    format!(
        r#"schema = 1
name = "synthetic-sf-{n_stages}"
description = "synthetic separation-factor benchmark cascade, illustrative separation factors"

[[feed]]
name = "liquor"
flow = "1 m3/h"
conc = {{ {conc} }}
to = "cut.feed"

[[circuit]]
name = "cut"
sections = [{{ kind = "extraction", stages = {n_ext} }}, {{ kind = "scrub", stages = {n_scr} }}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "3.5 m3/h" }}
scrub = {{ acid = "HCl", conc = "3 mol/L", flow = "0.5 m3/h" }}
equilibrium = {{ model = "separation_factor", beta = {{ {beta} }}, extraction_ratio = {{ extraction = 0.88, scrub = 1.185 }}, quality = "illustrative" }}
capacity = [{{ max_flow = "6 m3/h" }}]

[[product]]
name = "light"
from = "cut.raffinate"
purity = {{ elements = [{light}], min = {purity} }}

[[product]]
name = "heavy"
from = "cut.loaded_organic"
kind = "organic"
purity = {{ elements = [{heavy}], min = {purity} }}

[optimize]
objective = "max_throughput"
free = [
    {{ var = "feed_rate", of = "liquor", min = "0.2 m3/h", max = "4 m3/h" }},
    {{ var = "extraction_ratio", of = "cut.extraction", min = 0.6, max = 0.95 }},
    {{ var = "extraction_ratio", of = "cut.scrub", min = 1.05, max = 1.6 }},
]
"#,
        conc = conc.join(", "),
        beta = beta.join(", "),
        light = light.join(", "),
        heavy = heavy.join(", "),
    )
}

/// The saponified P507 mass-action cut of `tests/data/mass_action_saponified.toml` (La+Ce |
/// Pr+Nd, NaOH saponification, saponification, organic flow and scrub acid free) with its
/// 15 + 15 + 5 stages scaled to `n_stages` in the same proportions (43 % extraction, 43 %
/// scrub, the rest strip), for the mass-action optimizer timings.
// included by the bench, the examples and the tests; not every includer calls it
#[allow(dead_code)]
pub fn ma_cascade_toml(n_stages: usize) -> String {
    let base = include_str!("../tests/data/mass_action_saponified.toml");
    let (e, s) = (n_stages * 43 / 100, n_stages * 43 / 100);
    let t = n_stages - e - s;
    base.replace(
        "{ kind = \"extraction\", stages = 15 }",
        &format!("{{ kind = \"extraction\", stages = {e} }}"),
    )
    .replace(
        "{ kind = \"scrub\", stages = 15 }",
        &format!("{{ kind = \"scrub\", stages = {s} }}"),
    )
    .replace(
        "{ kind = \"strip\", stages = 5 }",
        &format!("{{ kind = \"strip\", stages = {t} }}"),
    )
    .replace(
        "name = \"ma-lcpn\"",
        &format!("name = \"ma-lcpn-{n_stages}\""),
    )
}

/// Two saponified P507 mass-action cuts in series, `n_stages` in all (half each, in the
/// proportions of [`ma_cascade_toml`]): the cut of [`ma_cascade_toml`] (La+Ce | Pr+Nd), whose
/// raffinate feeds a second cut with the same chemistry (La | Ce+Pr+Nd). 12 free variables: the
/// feed rate, the first cut's saponification, organic flow, scrub acid strength, scrub flow,
/// strip acid strength and strip flow, and the second cut's saponification, organic flow, scrub
/// acid strength, scrub flow and strip flow; max throughput under a Pr+Nd, a La and a
/// Ce+Pr+Nd purity and a stage capacity of 4 m3/h in each cut. Its optimum is not a vertex of
/// the bounds: two purities and the second cut's capacity bind. Illustrative numbers.
// included by the bench, the examples and the tests; not every includer calls it
#[allow(dead_code)]
pub fn ma_train_toml(n_stages: usize) -> String {
    let one = ma_cascade_toml(n_stages / 2);
    let cut = |name: &str| -> String {
        let i = one.find("[[circuit]]").expect("a circuit");
        let j = one.find("[[product]]").expect("a product");
        one[i..j]
            .replace("name = \"cut\"", &format!("name = \"{name}\""))
            .replacen("\n]\n", "\n]\ncapacity = [{ max_flow = \"4 m3/h\" }]\n", 1)
    };
    let feed =
        &one[one.find("[[feed]]").expect("a feed")..one.find("[[circuit]]").expect("a circuit")];
    let prices =
        &one[one.find("[prices]").expect("prices")..one.find("[optimize]").expect("optimize")];
    format!(
        r#"schema = 1
name = "ma-train-{n_stages}"
description = "two P507 mass-action cuts in series (La+Ce | Pr+Nd, then La | Ce+Pr+Nd) with NaOH saponification; extraction constants, flows and prices illustrative (benchmark, not plant data)"

{feed}{cut0}[[link]]
from = "cut.raffinate"
to = "cut2.feed"

{cut2}[[product]]
name = "heavy"
from = "cut.strip_liquor"
purity = {{ elements = ["Pr", "Nd"], min = "80 %" }}

[[product]]
name = "la"
from = "cut2.raffinate"
purity = {{ element = "La", min = "60 %" }}

[[product]]
name = "ce"
from = "cut2.strip_liquor"
purity = {{ elements = ["Ce", "Pr", "Nd"], min = "60 %" }}

{prices}[optimize]
objective = "max_throughput"
free = [
    {{ var = "feed_rate", of = "liquor", min = "0.05 m3/h", max = "3 m3/h" }},
    {{ var = "saponification", of = "cut", min = 0.0, max = 0.15 }},
    {{ var = "organic_flow", of = "cut", min = "0.08 m3/h", max = "0.3 m3/h" }},
    {{ var = "scrub_acid", of = "cut", min = "0.2 mol/L", max = "0.6 mol/L" }},
    {{ var = "scrub_flow", of = "cut", min = "0.01 m3/h", max = "0.05 m3/h" }},
    {{ var = "strip_acid", of = "cut", min = "4 mol/L", max = "8 mol/L" }},
    {{ var = "strip_flow", of = "cut", min = "0.005 m3/h", max = "0.03 m3/h" }},
    {{ var = "saponification", of = "cut2", min = 0.0, max = 0.15 }},
    {{ var = "organic_flow", of = "cut2", min = "0.05 m3/h", max = "3 m3/h" }},
    {{ var = "scrub_acid", of = "cut2", min = "0.2 mol/L", max = "0.6 mol/L" }},
    {{ var = "scrub_flow", of = "cut2", min = "0.01 m3/h", max = "0.05 m3/h" }},
    {{ var = "strip_flow", of = "cut2", min = "0.005 m3/h", max = "0.03 m3/h" }},
]
"#,
        cut0 = cut("cut"),
        cut2 = cut("cut2"),
    )
}

/// A train of four separation-factor cuts in series, `n_stages` each (half extraction, half
/// scrub), splitting the 15 REY of [`sf_cascade_toml`] (adjacent beta 1.15) into Tb..Y, Sm..Gd,
/// Pr+Nd, Ce and La: each circuit's raffinate feeds the next, each loaded organic is a product
/// with a group purity of `purity`, and the last raffinate (La) too. 12 free variables: the feed
/// rate, both extraction ratios of every cut, and the organic flow of the last three cuts
/// (bounded by the organic loading limit and the stage capacity).
///
/// The starting ratios come from each cut's mass balance: with `theta` the share of the
/// circuit's REE feed that is loaded and a scrub ratio `E_s`, the reflux is `W = theta / (E_s -
/// 1)` and the extraction ratio `(theta + W) / (1 + W)`. `E_s` is 1.185 for the first cut (that
/// of [`sf_cascade_toml`]) and `sqrt(1.15) = 1.072` for the others, whose keys are the only
/// elements on either side near the cut (so the window is `1 < E_s < beta`); the organic flow
/// carries the scrub section's REE at 0.15 mol/L. Illustrative numbers.
// included by the bench, the examples and the tests; not every includer calls it
#[allow(dead_code)]
pub fn sf_train_toml(n_stages: usize, purity: f64) -> String {
    let (beta, conc) = (sf_betas(), sf_feed());
    let group = |r: std::ops::Range<usize>| -> String {
        ELEMENTS[r]
            .iter()
            .map(|e| format!("\"{e}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // (elements fed, first loaded element, scrub ratio) of each cut
    let cuts = [
        (15usize, 7usize, 1.185),
        (7, 4, 1.15f64.sqrt()),
        (4, 2, 1.15f64.sqrt()),
        (2, 1, 1.15f64.sqrt()),
    ];
    // extraction ratio and organic flow (m3/h) from the cut's mass balance
    let start = |fed: usize, first: usize, e_s: f64| {
        let theta = (fed - first) as f64 / fed as f64;
        let w = theta / (e_s - 1.0);
        let ree_mol_h = 10.0 * fed as f64; // 0.01 mol/L of each element at 1 m3/h
        ((theta + w) / (1.0 + w), (theta + w) * ree_mol_h / 150.0)
    };
    let n_ext = n_stages / 2;
    let n_scr = n_stages - n_ext;
    let mut s = format!(
        r#"schema = 1
name = "synthetic-sf-train-{n_stages}"
description = "synthetic train of four separation-factor cuts in series, illustrative separation factors"

[[feed]]
name = "liquor"
flow = "1 m3/h"
conc = {{ {conc} }}
to = "C0.feed"
"#,
        conc = conc.join(", "),
    );
    let mut free = String::from(
        "    { var = \"feed_rate\", of = \"liquor\", min = \"0.2 m3/h\", max = \"4 m3/h\" },\n",
    );
    for (k, &(fed, first, e_s)) in cuts.iter().enumerate() {
        let (e_ext, org) = start(fed, first, e_s);
        s += &format!(
            r#"
[[circuit]]
name = "C{k}"
sections = [{{ kind = "extraction", stages = {n_ext} }}, {{ kind = "scrub", stages = {n_scr} }}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "{org:.4} m3/h" }}
scrub = {{ acid = "HCl", conc = "3 mol/L", flow = "0.5 m3/h" }}
equilibrium = {{ model = "separation_factor", beta = {{ {beta} }}, extraction_ratio = {{ extraction = {e_ext:.6}, scrub = {e_s:.6} }}, quality = "illustrative" }}
capacity = [{{ max_flow = "6 m3/h" }}]

[[product]]
name = "loaded{k}"
from = "C{k}.loaded_organic"
kind = "organic"
purity = {{ elements = [{heavy}], min = {purity} }}
"#,
            beta = beta.join(", "),
            heavy = group(first..fed),
        );
        if k + 1 < cuts.len() {
            s += &format!(
                "\n[[link]]\nfrom = \"C{k}.raffinate\"\nto = \"C{}.feed\"\n",
                k + 1
            );
        } else {
            s += &format!(
                "\n[[product]]\nname = \"raffinate\"\nfrom = \"C{k}.raffinate\"\npurity = {{ elements = [{}], min = {purity} }}\n",
                group(0..first)
            );
        }
        free += &format!(
            "    {{ var = \"extraction_ratio\", of = \"C{k}.extraction\", min = {:.4}, max = {:.4} }},\n    {{ var = \"extraction_ratio\", of = \"C{k}.scrub\", min = {:.4}, max = {:.4} }},\n",
            0.7 * e_ext,
            1.0 - 0.4 * (1.0 - e_ext),
            1.0 + 0.5 * (e_s - 1.0),
            1.0 + 3.0 * (e_s - 1.0),
        );
        if k > 0 {
            free += &format!(
                "    {{ var = \"organic_flow\", of = \"C{k}\", min = \"{:.4} m3/h\", max = \"{:.4} m3/h\" }},\n",
                0.5 * org,
                2.0 * org
            );
        }
    }
    s += &format!("\n[optimize]\nobjective = \"max_throughput\"\nfree = [\n{free}]\n");
    s
}
