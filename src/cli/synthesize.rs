//! `sxplan synthesize`: the order of cuts for a mixed feed, ranked (sxplan_design::synthesis).

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use crate::api::{self, SynthElement, SynthObjective, SynthProduct, Synthesis, SynthesisSpec};

use super::progress::GlobalOpts;
use super::Exit;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Ranked table and the cuts of the best train.
    Text,
    /// The whole result as JSON.
    Json,
}

/// Objective named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectiveArg {
    /// Total theoretical stages.
    Stages,
    /// Acid and base for exchange per mol of plant feed.
    Reagent,
}

/// Arguments of `sxplan synthesize`.
#[derive(Debug, clap::Args)]
pub struct SynthesizeArgs {
    /// The products wanted, in any order: `NAME=E1+E2:PURITY` or `E:PURITY` items separated by
    /// commas, purity as a fraction or a percentage (`LaCe=La+Ce:99%,Pr:0.99,Nd:99.5%`). Each
    /// product is a run of neighbours in extractability order; together they hold every feed
    /// element once.
    #[arg(long)]
    pub products: String,
    /// Feed amounts (mol/h or any common unit): `La=0.3,Ce=0.45,...`.
    #[arg(long)]
    pub feed: Option<String>,
    /// Relative extractabilities (separation factors against any common reference):
    /// `La=1,Ce=3,Pr=5.52,...`.
    #[arg(long)]
    pub beta: Option<String>,
    /// Take the feed and the separation factors from this flowsheet's circuit (`--circuit`);
    /// `--feed` and `--beta` override them.
    #[arg(long, requires = "circuit")]
    pub flowsheet: Option<PathBuf>,
    /// The circuit of `--flowsheet` whose feed is the train's feed.
    #[arg(long, requires = "flowsheet")]
    pub circuit: Option<String>,
    /// What the trains are ranked by.
    #[arg(long, value_enum, default_value = "stages")]
    pub objective: ObjectiveArg,
    /// A train to cost beside the ranking, in the bracket notation the table prints
    /// (`((LaCe|(Pr|Nd))|...)`): a plant's own sequence, for comparison.
    #[arg(long)]
    pub train: Option<String>,
    /// How many of the best trains to list.
    #[arg(long, default_value_t = 5)]
    pub keep: usize,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the chosen train as a plant into this directory (`train.toml`, `train.json`):
    /// every circuit designed in turn on its actual simulated feed, the whole plant simulated
    /// and judged by its product specs. Needs `--flowsheet` (the extractant, acids and feed
    /// of its circuit).
    #[arg(long, requires = "flowsheet")]
    pub out: Option<PathBuf>,
    /// Which ranked train `--out` writes (1 = the best).
    #[arg(long, default_value_t = 1)]
    pub rank: usize,
}

fn usage(stderr: &mut dyn Write, msg: &str) -> Exit {
    let _ = writeln!(stderr, "error: {msg}");
    Exit::Usage
}

/// Parses `--products`.
fn parse_products(s: &str) -> Result<Vec<SynthProduct>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let Some((lhs, purity)) = item.rsplit_once(':') else {
            return Err(format!(
                "--products: `{item}` has no purity (write e.g. `Nd:99.5%` or `LaCe=La+Ce:0.99`)"
            ));
        };
        let (name, elements) = match lhs.split_once('=') {
            Some((n, e)) => (n.trim().to_string(), e),
            None => (lhs.trim().to_string(), lhs),
        };
        let elements: Vec<String> = elements
            .split('+')
            .map(|e| canonical(e.trim()))
            .filter(|e| !e.is_empty())
            .collect();
        let p = purity.trim();
        let value = match p.strip_suffix('%') {
            Some(v) => v.trim().parse::<f64>().map(|x| x / 100.0),
            None => p.parse::<f64>(),
        }
        .map_err(|_| format!("--products: purity `{p}` of {name} is not a number"))?;
        if !(value > 0.0 && value < 1.0) {
            return Err(format!(
                "--products: purity {p} of {name} must lie strictly between 0 and 100 %"
            ));
        }
        if name.is_empty() || elements.is_empty() {
            return Err(format!("--products: `{item}` names no element"));
        }
        out.push(SynthProduct {
            name,
            elements,
            purity: value,
        });
    }
    if out.is_empty() {
        return Err("--products is empty".into());
    }
    Ok(out)
}

fn canonical(name: &str) -> String {
    match sxplan_chem::Element::from_symbol_ignore_case(name) {
        Some(e) => e.symbol().to_string(),
        None => name.to_string(),
    }
}

/// Runs `sxplan synthesize`.
pub fn run(
    args: &SynthesizeArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    let products = match parse_products(&args.products) {
        Ok(p) => p,
        Err(e) => return usage(stderr, &e),
    };
    if args.keep == 0 || args.keep > 1000 {
        return usage(stderr, "--keep must be between 1 and 1000");
    }
    if args.rank == 0 || args.rank > args.keep {
        return usage(stderr, "--rank must be between 1 and --keep");
    }
    let mut elements: Vec<SynthElement> = Vec::new();
    let mut source = None;
    if let (Some(file), Some(circuit)) = (&args.flowsheet, &args.circuit) {
        let loaded = match super::check::load_flowsheet(file, "synthesize from", global, stderr) {
            Ok(l) => l,
            Err(exit) => return exit,
        };
        if loaded.flowsheet().is_err() {
            return Exit::Failure;
        }
        let fs = source.insert(loaded).flowsheet().ok();
        let Some(fs) = fs else {
            return Exit::Failure;
        };
        match api::synthesis_feed(fs, circuit) {
            Ok(e) => elements = e,
            Err(e) => {
                let _ = writeln!(stderr, "error: {}: {e}", file.display());
                return Exit::Failure;
            }
        }
    }
    let feed = match args
        .feed
        .as_deref()
        .map(|s| super::design::parse_list("feed", s))
    {
        Some(Ok(f)) => Some(f),
        Some(Err((exit, msg))) => {
            let _ = writeln!(stderr, "error: {msg}");
            return exit;
        }
        None => None,
    };
    let beta = match args
        .beta
        .as_deref()
        .map(|s| super::design::parse_list("beta", s))
    {
        Some(Ok(b)) => Some(b),
        Some(Err((exit, msg))) => {
            let _ = writeln!(stderr, "error: {msg}");
            return exit;
        }
        None => None,
    };
    if elements.is_empty() {
        let (Some(feed), Some(beta)) = (&feed, &beta) else {
            return usage(
                stderr,
                "give --feed and --beta, or --flowsheet FILE --circuit ID to read them from a circuit",
            );
        };
        for (name, amount) in feed {
            let Some((_, b)) = beta.iter().find(|(n, _)| n == name) else {
                return usage(stderr, &format!("--beta has no value for {name}"));
            };
            elements.push(SynthElement {
                name: name.clone(),
                sep_factor: *b,
                feed: *amount,
            });
        }
        if let Some((n, _)) = beta.iter().find(|(n, _)| !feed.iter().any(|(f, _)| f == n)) {
            return usage(stderr, &format!("--beta names {n}, which --feed does not"));
        }
    } else {
        for e in &mut elements {
            if let Some((_, v)) = feed.iter().flatten().find(|(n, _)| *n == e.name) {
                e.feed = *v;
            }
            if let Some((_, v)) = beta.iter().flatten().find(|(n, _)| *n == e.name) {
                e.sep_factor = *v;
            }
        }
        // a circuit's feed may carry elements without a product (Ca): they must be named
    }
    let spec = SynthesisSpec {
        elements,
        products,
        objective: match args.objective {
            ObjectiveArg::Stages => SynthObjective::Stages,
            ObjectiveArg::Reagent => SynthObjective::Reagent,
        },
        keep: args.keep,
    };
    let result = match api::synthesize(&spec) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(stderr, "error: synthesize: {e}");
            return Exit::Failure;
        }
    };
    let given = match args
        .train
        .as_deref()
        .map(|t| api::synthesis_train(&spec, t))
    {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            let _ = writeln!(stderr, "error: --train: {e}");
            return Exit::Usage;
        }
        None => None,
    };
    let out = match args.format {
        Format::Text => render_text(&result, given.as_ref()),
        Format::Json => {
            let doc = serde_json::json!({
                "schema_version": 1,
                "kind": "synthesize",
                "synthesis": result,
                "train": given,
            });
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    let _ = write!(stdout, "{out}");
    match (&args.out, &source, &args.circuit) {
        (Some(dir), Some(loaded), Some(circuit)) => write_plant(
            args,
            global,
            dir,
            loaded,
            circuit,
            &result,
            given.as_ref(),
            stdout,
            stderr,
        ),
        _ => Exit::Ok,
    }
}

/// `--out DIR`: the chosen train as a designed, simulated plant.
#[allow(clippy::too_many_arguments)]
fn write_plant(
    args: &SynthesizeArgs,
    global: &GlobalOpts,
    dir: &std::path::Path,
    loaded: &api::Loaded,
    circuit: &str,
    result: &Synthesis,
    given: Option<&api::SynthTrain>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    let Ok(fs) = loaded.flowsheet() else {
        return Exit::Failure;
    };
    let Some(train) = result.ranked.get(args.rank - 1) else {
        let _ = writeln!(
            stderr,
            "error: --rank {}: only {} trains were ranked",
            args.rank,
            result.ranked.len()
        );
        return Exit::Usage;
    };
    let settings = api::DesignSettings::default();
    let mut on_circuit = |name: &str| {
        super::progress::note_line(
            global,
            stderr,
            &format!("note: designing circuit {name} of train {}", train.notation),
        );
    };
    let plant = match api::synthesize_plant(fs, circuit, result, train, &settings, &mut on_circuit)
    {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(
                stderr,
                "error: {}: the train {} could not be written as a plant: {e}",
                loaded.name, train.notation
            );
            return Exit::Failure;
        }
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "
plant of train {} (rank {}): {} circuits designed on their simulated feeds, {} stages (shortcut {}); simulation {}",
        train.notation,
        args.rank,
        plant.circuits.len(),
        plant.stages,
        train.stages,
        plant.status
    );
    let _ = writeln!(
        s,
        "  {:<10} {:>4} {:>4} {:>9} {:>13} {:>13}",
        "circuit", "n", "m", "shortcut", "P_A (spec)", "P_B (spec)"
    );
    for c in &plant.circuits {
        let _ = writeln!(
            s,
            "  {:<10} {:>4} {:>4} {:>4}+{:<4} {:>6.4}%({:.2}) {:>6.4}%({:.2})",
            c.circuit,
            c.n,
            c.m,
            c.n_shortcut,
            c.m_shortcut,
            c.purity_a * 100.0,
            c.purity_a_spec * 100.0,
            c.purity_b * 100.0,
            c.purity_b_spec * 100.0
        );
    }
    let met = plant.products.iter().filter(|p| p.met).count();
    let _ = writeln!(s, "  specs: {met} of {} met", plant.products.len());
    for p in &plant.products {
        let _ = writeln!(
            s,
            "  {} {:<16} mole purity {:>9.5} %  spec >= {:.5} %",
            if p.met { "pass" } else { "FAIL" },
            p.name,
            p.purity * 100.0,
            p.min * 100.0
        );
    }
    let json = serde_json::json!({
        "schema_version": 1,
        "kind": "synthesize_plant",
        "train": train,
        "plant": {
            "circuits": plant.circuits,
            "status": plant.status,
            "stages": plant.stages,
            "products": plant.products,
        },
    });
    let mut json = serde_json::to_string_pretty(&json).unwrap_or_default();
    json.push('\n');
    let report = sxplan_report::synthesis::synthesis_report(
        result,
        train,
        given,
        &plant
            .circuits
            .iter()
            .map(|c| sxplan_report::synthesis::DesignedCircuit {
                circuit: c.circuit.clone(),
                n: c.n,
                m: c.m,
                purity_a: c.purity_a,
                purity_b: c.purity_b,
            })
            .collect::<Vec<_>>(),
        &plant
            .products
            .iter()
            .map(|p| sxplan_report::synthesis::ProductCheck {
                name: p.name.clone(),
                purity: p.purity,
                min: p.min,
                met: p.met,
            })
            .collect::<Vec<_>>(),
    );
    let mut files = vec![
        ("train.toml".to_string(), plant.toml.clone()),
        ("train.json".to_string(), json),
        (
            "report.md".to_string(),
            sxplan_report::doc::to_markdown(&report),
        ),
        (
            "report.html".to_string(),
            sxplan_report::doc::to_html(&report),
        ),
    ];
    files.extend(
        report
            .figures
            .iter()
            .map(|f| (f.file.clone(), f.svg.clone())),
    );
    if let Err(e) = super::output::write_report_dir(dir, &files) {
        let _ = writeln!(stderr, "error: {e}");
        return Exit::Usage;
    }
    let _ = write!(stdout, "{s}");
    let _ = writeln!(
        stdout,
        "wrote {}, {} and the report ({}; open {})",
        dir.join("train.toml").display(),
        dir.join("train.json").display(),
        files.len() - 2,
        dir.join("report.html").display()
    );
    if plant.meets_every_spec() {
        Exit::Ok
    } else {
        let failing: Vec<&str> = plant
            .products
            .iter()
            .filter(|p| !p.met)
            .map(|p| p.name.as_str())
            .collect();
        let _ = writeln!(
            stderr,
            "error: the plant of train {} {}: {} (raise the purity of the cut above each failing product with --products, or design its circuit again with `sxplan design`)",
            train.notation,
            if plant.status == "converged" { "misses specs" } else { "did not converge" },
            failing.join(", ")
        );
        Exit::Failure
    }
}

/// The ranked table and the cuts of the best train.
fn render_text(r: &Synthesis, given: Option<&api::SynthTrain>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "synthesize: {} products from {} elements in extractability order {}",
        r.products.len(),
        r.order.len(),
        r.order.join(" < ")
    );
    let _ = writeln!(
        s,
        "{} candidate cuts sized by Xu's shortcut ({} out of reach), {:.0} binary trains ranked by {} without listing them",
        r.cuts.len() + r.infeasible_cuts.len(),
        r.infeasible_cuts.len(),
        r.n_trains,
        r.objective.as_str()
    );
    let _ = writeln!(s, "\nrank  stages  reagent mol/mol feed  train");
    for (i, t) in r.ranked.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:>4}  {:>6}  {:>20.4}  {}",
            i + 1,
            t.stages,
            t.reagent,
            t.notation
        );
    }
    if let Some(t) = given {
        let rank = r.ranked.iter().position(|x| x.notation == t.notation);
        let _ = writeln!(
            s,
            "{:>4}  {:>6}  {:>20.4}  {} (the train given, {})",
            "-",
            t.stages,
            t.reagent,
            t.notation,
            match rank {
                Some(k) => format!("rank {}", k + 1),
                None => format!("below the {} listed", r.ranked.len()),
            }
        );
    }
    if let Some(best) = r.ranked.first() {
        let _ = writeln!(s, "\ncuts of the best train (light | heavy):");
        let _ = writeln!(
            s,
            "  {:<28} {:>5} {:>8} {:>7} {:>9} {:>9} {:>4} {:>4} {:>8} {:>8}",
            "cut", "keys", "beta", "x_A", "P_A", "P_B", "n", "m", "S", "W"
        );
        for k in best.tree.cuts() {
            let c = &r.cuts[k];
            let _ = writeln!(
                s,
                "  {:<28} {:>5} {:>8.4} {:>7.4} {:>9.6} {:>9.6} {:>4} {:>4} {:>8.4} {:>8.4}",
                format!("{} | {}", c.light.join("+"), c.heavy.join("+")),
                format!("{}/{}", c.key_a, c.key_b),
                c.beta,
                c.x_a,
                c.purity_a,
                c.purity_b,
                c.n,
                c.m,
                c.s,
                c.w
            );
        }
        let _ = writeln!(
            s,
            "\nshortcut stages at Xu's optimum ratios, each side at the group purity that keeps its key product at spec with its share of the impurity budget; --out DIR designs every circuit rigorously and writes the plant"
        );
    }
    s
}
