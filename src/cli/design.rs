//! `sxplan design`: size a split from cascade theory and confirm it with the rigorous simulator,
//! either as a calculator (`--beta ... --feed ...`) or for a circuit of a flowsheet
//! (`FILE --circuit ID`).

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_chem::Element;
use sxplan_design::flows::ReagentBasis;
use sxplan_design::flowsheet::{CircuitCut, CircuitOverrides};
use sxplan_design::shortcut::{FeedPhase, Reflux};
use sxplan_design::{Component, CutSpec};

use crate::api::{self, Design, DesignEvent, DesignSettings, Loaded};

use super::progress::{note_line, verbose_line, GlobalOpts, Progress};
use super::Exit;
use sxplan_model::diagnostic::fmt_number;

/// Output format of `sxplan design`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DesignFormat {
    /// Plain text report.
    Text,
    /// Versioned JSON document.
    Json,
    /// Markdown report.
    Markdown,
}

/// Arguments of `sxplan design` (boxed so the subcommand enum stays small).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    sxplan design --beta 2 --feed A=0.5,B=0.5 --purity-a 0.999 --purity-b 0.9999\n  \
    sxplan design --beta La=1,Ce=2,Pr=4,Nd=5.2 --feed La=25,Ce=45,Pr=5,Nd=25 --key-a Pr --key-b Ce \\\n      \
    --purity-a 0.999 --purity-b 0.9999\n  \
    sxplan design flowsheets/pr-nd.toml --circuit PrNd --out designed/")]
pub struct DesignArgs {
    /// The options.
    #[command(flatten)]
    pub options: Box<DesignOptions>,
}

impl std::ops::Deref for DesignArgs {
    type Target = DesignOptions;
    fn deref(&self) -> &DesignOptions {
        &self.options
    }
}

/// Options of `sxplan design`.
#[derive(Debug, clap::Args)]
pub struct DesignOptions {
    /// Flowsheet file whose circuit to design (with --circuit).
    pub file: Option<PathBuf>,
    /// Circuit of the flowsheet to design.
    #[arg(long, value_name = "ID")]
    pub circuit: Option<String>,
    /// Separation factor of a binary cut (e.g. `2`), or relative extractabilities of every
    /// component (`La=1,Ce=2.2,Pr=4`).
    #[arg(long, value_name = "BETA")]
    pub beta: Option<String>,
    /// Separation factor(s) in the scrub section, same form as --beta (default: as --beta).
    #[arg(long, value_name = "BETA")]
    pub beta_scrub: Option<String>,
    /// Feed composition, `NAME=amount,...` (element symbols, or A and B); normalised.
    #[arg(long, value_name = "LIST")]
    pub feed: Option<String>,
    /// Heavy key (goes to the organic product). Binary default: `A`, else the element of
    /// higher atomic number (extraction order of acidic organophosphorus extractants).
    #[arg(long, value_name = "NAME")]
    pub key_a: Option<String>,
    /// Light key (goes to the aqueous product).
    #[arg(long, value_name = "NAME")]
    pub key_b: Option<String>,
    /// Required purity of the organic (A) product, mole fraction in (0, 1).
    #[arg(long, value_name = "P")]
    pub purity_a: Option<f64>,
    /// Required purity of the aqueous (B) product, mole fraction in (0, 1).
    #[arg(long, value_name = "P")]
    pub purity_b: Option<f64>,
    /// Required recovery of A into the organic product (instead of one purity).
    #[arg(long, value_name = "Y")]
    pub recovery_a: Option<f64>,
    /// Required recovery of B into the aqueous product (instead of one purity).
    #[arg(long, value_name = "Y")]
    pub recovery_b: Option<f64>,
    /// The feed enters as loaded organic (stage n + 1) instead of aqueous (stage n).
    #[arg(long)]
    pub organic_feed: bool,
    /// Operate at W = RATIO x W_min instead of Xu's optimum.
    #[arg(long, value_name = "RATIO", conflicts_with = "scrub_amount")]
    pub reflux_ratio: Option<f64>,
    /// Operate at this scrub amount W (mol REE per mol feed) instead of Xu's optimum.
    #[arg(long, value_name = "W")]
    pub scrub_amount: Option<f64>,
    /// Largest total number of stages the rigorous search tries.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_stages: usize,
    /// `--time-limit` (the whole search) / `--max-iterations` (simulated candidates (n, m)).
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
    /// Kremser calculator instead of a cut: `D,O/A,FRACTION` (distribution ratio, organic/aqueous
    /// flow ratio, fraction of a single solute to extract with fresh organic), e.g. `10,0.3333,0.999`.
    #[arg(long, value_name = "D,OA,FRACTION", conflicts_with_all = ["file", "beta", "feed"])]
    pub kremser: Option<String>,
    /// Also compute stages against purity and against W/W_min.
    #[arg(long)]
    pub sensitivity: bool,
    /// Extractant and acid data that turn ratios into flows and reagents.
    #[command(flatten)]
    pub reagents: Box<ReagentArgs>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DesignFormat::Text)]
    pub format: DesignFormat,
    /// Write the report (and, for a flowsheet circuit, the designed circuit TOML) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Flow and reagent arguments of `sxplan design`.
#[derive(Debug, clap::Args)]
pub struct ReagentArgs {
    /// Extractant concentration in the organic, mol/L (monomer); enables flows and reagents.
    #[arg(long, value_name = "MOL_PER_L", requires_all = ["saponification", "scrub_acid", "strip_acid"])]
    pub extractant_conc: Option<f64>,
    /// Saponification degree, fraction of the extractant neutralised.
    #[arg(long, value_name = "FRACTION")]
    pub saponification: Option<f64>,
    /// Upper limit of the loaded organic's REE concentration, mol/L.
    #[arg(long, value_name = "MOL_PER_L")]
    pub loading_capacity: Option<f64>,
    /// Scrub acid strength, mol H+/L.
    #[arg(long, value_name = "MOL_PER_L")]
    pub scrub_acid: Option<f64>,
    /// Strip acid strength, mol H+/L.
    #[arg(long, value_name = "MOL_PER_L")]
    pub strip_acid: Option<f64>,
    /// Acid supplied above stoichiometry, fraction.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub acid_excess: f64,
    /// REE concentration of the aqueous feed, mol/L (gives volumes and O/A ratios).
    #[arg(long, value_name = "MOL_PER_L")]
    pub feed_conc: Option<f64>,
    /// Feed rate, mol REE/h (gives hourly flows).
    #[arg(long, value_name = "MOL_PER_H")]
    pub feed_rate: Option<f64>,
}

/// Runs `sxplan design`.
pub fn run(
    args: &DesignArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    match run_inner(args, global, stdout, stderr) {
        Ok(exit) => exit,
        Err((exit, msg)) => {
            let _ = writeln!(stderr, "error: {msg}");
            exit
        }
    }
}

type CliResult<T> = Result<T, (Exit, String)>;

/// Invalid design input is a usage error (2); a simulator rejecting a cascade the design built
/// is a failure (1).
fn design_error(e: api::Error) -> (Exit, String) {
    match e {
        api::Error::Design(sxplan_design::DesignError::Simulation { .. })
        | api::Error::Simulation(_) => (Exit::Failure, e.to_string()),
        _ => usage(e.to_string()),
    }
}

fn usage(msg: impl Into<String>) -> (Exit, String) {
    (Exit::Usage, msg.into())
}

fn run_inner(
    args: &DesignArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> CliResult<Exit> {
    if let Some(k) = &args.kremser {
        return kremser(k, args.format, stdout);
    }
    let (spec, from_file) = match (&args.file, &args.circuit) {
        (Some(file), Some(circuit)) => {
            match spec_from_flowsheet(file, circuit, args, global, stderr)? {
                Ok((fs, cut)) => (cut.spec.clone(), Some((fs, cut))),
                Err(exit) => return Ok(exit),
            }
        }
        (Some(_), None) => {
            return Err(usage(
                "a flowsheet needs --circuit ID to say which circuit to design",
            ))
        }
        (None, Some(_)) => return Err(usage("--circuit needs a flowsheet FILE")),
        (None, None) => (spec_from_args(args)?, None),
    };
    let settings = DesignSettings {
        max_stages: args.max_stages,
        limits: args.budget.limits(),
        clock: Some(super::budget::clock),
        sensitivity: args.sensitivity,
    };
    let fs = from_file.as_ref().and_then(|(l, _)| l.flowsheet().ok());
    let result = search(&spec, fs, &settings, global, stderr)?;
    let (design, sens) = (&result.design, result.sensitivity.as_ref());
    let (report, ext) = match args.format {
        DesignFormat::Text => (sxplan_report::design::to_text(design, sens), "txt"),
        DesignFormat::Json => (sxplan_report::design::to_json(design, sens), "json"),
        DesignFormat::Markdown => (sxplan_report::design::to_markdown(design, sens), "md"),
    };
    let designed_toml = match (fs, &from_file) {
        (Some(fs), Some((_, cut))) => result
            .circuit_toml(fs, cut)
            .map(|t| (cut.circuit.clone(), t)),
        _ => None,
    };
    let exit = exit_for(&result, stderr);
    let out_dir = match (&args.out, exit) {
        (Some(dir), Exit::Ok) => Some(dir),
        (Some(dir), _) => {
            // a failed design leaves no report that could be taken for a finished one
            let _ = writeln!(
                stderr,
                "note: no report written to {}: the design failed (result on stdout)",
                dir.display()
            );
            None
        }
        (None, _) => None,
    };
    match out_dir {
        None => {
            if args.format == DesignFormat::Text {
                // the top of the report, as simulate prints it: the designed circuit judged by
                // the flowsheet's own specs, per year, with costs and equipment
                if let Some(summary) = designed_toml
                    .as_ref()
                    .and_then(|(_, toml)| api::design_overview(toml))
                {
                    let _ = writeln!(stdout, "{}", sxplan_report::overview::render_text(&summary));
                }
            }
            let _ = stdout.write_all(report.as_bytes());
            if let Some((circuit, toml)) = &designed_toml {
                if args.format == DesignFormat::Text {
                    let _ = writeln!(
                        stdout,
                        "\n# designed circuit {circuit} (TOML, ready to simulate; --out DIR writes it to a file)"
                    );
                    let _ = stdout.write_all(toml.as_bytes());
                }
            }
        }
        Some(dir) => {
            let mut input = sxplan_report::ReportInput::from_design(design, sens)
                .map_err(|e| (Exit::Failure, e.to_string()))?;
            if let Some(fs) = fs {
                input = input.with_provenance(&fs.data_used);
            }
            if let Some(summary) = designed_toml
                .as_ref()
                .and_then(|(_, toml)| api::design_overview(toml))
            {
                input = input.with_summary(summary);
            }
            let mut files = sxplan_report::write_report_files(&input);
            let json = result.to_json();
            let mut named = Vec::new();
            if ext != "json" {
                named.push((format!("design.{ext}"), report));
            }
            named.push(("result.json".to_string(), json));
            if let Some((circuit, toml)) = designed_toml {
                named.push((
                    format!("{}.designed.toml", sxplan_report::doc::safe_name(&circuit)),
                    toml,
                ));
            }
            // The whole flowsheet with the circuit replaced, when it can be written.
            if let (Some(fs), Some((loaded, cut))) = (fs, &from_file) {
                match result.flowsheet_toml(loaded.main_text(), fs, cut) {
                    Ok(text) => named.push(("flowsheet.designed.toml".to_string(), text)),
                    Err(why) => {
                        let _ = writeln!(
                            stderr,
                            "warning: {}: no flowsheet.designed.toml: {why}",
                            loaded.name
                        );
                    }
                }
            }
            files.extend(named.iter().cloned());
            super::output::write_report_dir(dir, &files).map_err(|e| (Exit::Usage, e))?;
            for (name, _) in &named {
                let _ = writeln!(stdout, "wrote {}", dir.join(name).display());
            }
            let _ = writeln!(
                stdout,
                "wrote the report ({} files) to {}; open {}",
                files.len(),
                dir.display(),
                dir.join("report.html").display()
            );
        }
    }
    Ok(exit)
}

/// The rigorous design and, when asked, its sensitivity curves, point by point so the progress
/// display can follow.
fn search(
    spec: &CutSpec,
    fs: Option<&sxplan_model::Flowsheet>,
    settings: &DesignSettings,
    global: &GlobalOpts,
    stderr: &mut dyn Write,
) -> CliResult<Design> {
    let total = api::design_points(settings.sensitivity);
    let progress = Progress::new(global, Some(total as u64), "design");
    progress.message("rigorous stage search");
    let started = std::time::Instant::now();
    let mut on_event = |event: DesignEvent| match event {
        DesignEvent::SearchDone(status) => {
            progress.inc();
            progress.suspend(|| {
                verbose_line(
                    global,
                    stderr,
                    &format!(
                        "rigorous search: {} after {:.2} s",
                        status.as_str(),
                        started.elapsed().as_secs_f64()
                    ),
                )
            });
        }
        DesignEvent::Reflux(r) => progress.message(format!("sensitivity: W/W_min {r}")),
        DesignEvent::Purity(k) => progress.message(format!("sensitivity: impurity x {k}")),
        DesignEvent::PointDone => progress.inc(),
        _ => {}
    };
    let result = api::design(spec, fs, settings, &mut on_event).map_err(design_error);
    progress.finish();
    let result = result?;
    if let Some(sens) = &result.sensitivity {
        verbose_line(
            global,
            stderr,
            &format!(
                "sensitivity: {} + {} points after {:.2} s",
                sens.vs_reflux.len(),
                sens.vs_purity.len(),
                started.elapsed().as_secs_f64()
            ),
        );
    }
    Ok(result)
}

/// Reads and checks the flowsheet and builds the cut of `circuit`. The inner `Err` is the exit
/// status after the flowsheet's diagnostics were written to `stderr`.
fn spec_from_flowsheet(
    file: &Path,
    circuit: &str,
    args: &DesignArgs,
    global: &GlobalOpts,
    stderr: &mut dyn Write,
) -> CliResult<Result<(Loaded, CircuitCut), Exit>> {
    let loaded = match super::check::load_flowsheet(file, "design", global, stderr) {
        Ok(l) => l,
        Err(exit) => return Ok(Err(exit)),
    };
    let Ok(fs) = loaded.flowsheet() else {
        return Ok(Err(Exit::Failure));
    };
    let name = file.display().to_string();
    let element = |flag: &str, v: &Option<String>| -> CliResult<Option<Element>> {
        v.as_deref()
            .map(|s| {
                Element::from_symbol_ignore_case(s)
                    .ok_or_else(|| usage(format!("--{flag}: {s} is not an element symbol")))
            })
            .transpose()
    };
    let overrides = CircuitOverrides {
        feed: None,
        key_a: element("key-a", &args.key_a)?,
        key_b: element("key-b", &args.key_b)?,
        purity_a: args.purity_a,
        purity_b: args.purity_b,
        reflux: match (args.reflux_ratio, args.scrub_amount) {
            (None, None) => None,
            _ => Some(reflux_of(args)),
        },
        acid_excess: Some(args.reagents.acid_excess),
    };
    let progress = std::cell::RefCell::new(None);
    let mut on_event = |event: DesignEvent| match event {
        DesignEvent::SimulatingFeed => {
            note_line(
                global,
                stderr,
                &format!(
                    "note: circuit \"{circuit}\" is fed from inside the flowsheet; simulating {name} to get its feed"
                ),
            );
            let p = Progress::spinner(global, "simulate");
            p.message(format!("{}: the feed of circuit {circuit}", fs.name));
            *progress.borrow_mut() = Some(p);
        }
        DesignEvent::FeedSimulated => {
            if let Some(p) = progress.borrow_mut().take() {
                p.finish();
            }
        }
        _ => {}
    };
    let cut = api::circuit_cut(fs, circuit, overrides, reagents_of(args), &mut on_event)
        .map_err(|e| (Exit::Failure, format!("{name}: {e}")))?;
    if !cut.ignored_elements.is_empty() {
        let list: Vec<&str> = cut.ignored_elements.iter().map(|e| e.symbol()).collect();
        let _ = writeln!(
            stderr,
            "warning: {name}: circuit \"{circuit}\" has no beta for {}; they are left out of the design",
            list.join(", ")
        );
    }
    for line in &cut.derived_targets {
        super::progress::note_line(global, stderr, &format!("note: {name}: {line}"));
    }
    Ok(Ok((loaded, cut)))
}

/// `--kremser D,OA,FRACTION`: theoretical stages of a single-solute countercurrent extraction.
fn kremser(spec: &str, format: DesignFormat, stdout: &mut dyn Write) -> CliResult<Exit> {
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    // Each number may be written as a ratio, e.g. `1/3`.
    let num = |p: &str| -> Option<f64> {
        match p.split_once('/') {
            Some((a, b)) => Some(a.trim().parse::<f64>().ok()? / b.trim().parse::<f64>().ok()?),
            None => p.parse().ok(),
        }
    };
    let nums: Vec<f64> = parts.iter().filter_map(|p| num(p)).collect();
    let [d, oa, frac] = nums[..] else {
        return Err(usage(format!(
            "--kremser: `{spec}` is not D,OA,FRACTION (e.g. `--kremser 10,0.3333,0.999`)"
        )));
    };
    if nums.len() != parts.len()
        || !(frac > 0.0 && frac < 1.0)
        || !(d.is_finite() && d > 0.0)
        || !(oa.is_finite() && oa > 0.0)
    {
        return Err(usage(format!(
            "--kremser: `{spec}` needs D > 0, O/A > 0 and a fraction in (0, 1)"
        )));
    }
    // the plausible ranges `check` applies to a distribution ratio and to flows (their ratio)
    let dr = &sxplan_model::plausible::D_RATIO;
    if !(dr.error_min..=dr.error_max).contains(&d) {
        return Err(usage(format!(
            "--kremser: D = {} is outside the plausible range of a distribution ratio ({} to {})",
            fmt_number(d),
            fmt_number(dr.error_min),
            fmt_number(dr.error_max)
        )));
    }
    if !(1e-6..=1e6).contains(&oa) {
        return Err(usage(format!(
            "--kremser: O/A = {} is outside 1e-6 to 1e6",
            fmt_number(oa)
        )));
    }
    if 1.0 - frac < 1e-15 {
        return Err(usage(format!(
            "--kremser: fraction {} leaves less than 1e-15 unextracted; give a fraction below 1 - 1e-15",
            fmt_number(frac)
        )));
    }
    // the inputs are valid here: a target no number of stages reaches is infeasible (exit 1)
    let k = api::kremser(d, oa, frac).map_err(|e| match e {
        api::Error::Request(m) => (Exit::Failure, format!("--kremser: {m}")),
        e => (Exit::Failure, e.to_string()),
    })?;
    let (e, n, whole, extracted) = (
        k.extraction_factor,
        k.n_stages,
        k.n_stages_whole,
        k.fraction_extracted_whole,
    );
    match format {
        DesignFormat::Json => {
            let v = serde_json::json!({
                "schema_version": sxplan_report::design::DESIGN_SCHEMA_VERSION,
                "kind": "kremser",
                "d_ratio": d,
                "ratio_oa": oa,
                "extraction_factor": e,
                "fraction_extracted": frac,
                "n_stages": n,
                "n_stages_whole": whole,
                "fraction_extracted_whole": extracted,
            });
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
        }
        _ => {
            let _ = writeln!(
                stdout,
                "Kremser (single solute, fresh organic): D {d}, O/A {oa:.6}, extraction factor E = {e:.6}"
            );
            let _ = writeln!(
                stdout,
                "  {n:.2} theoretical stages extract {frac}; {whole} whole stages extract {extracted:.6}"
            );
        }
    }
    Ok(Exit::Ok)
}

fn exit_for(result: &Design, stderr: &mut dyn Write) -> Exit {
    let design = &result.design;
    match design.rigorous.status {
        sxplan_design::SearchStatus::Found
            if design.rigorous.confirmation.is_some_and(|c| !c.agrees) =>
        {
            let _ = writeln!(
                stderr,
                "design: the second solver does not confirm the chosen stage numbers"
            );
            Exit::Failure
        }
        sxplan_design::SearchStatus::Found => Exit::Ok,
        s => {
            let _ = writeln!(stderr, "design: {}", s.as_str());
            Exit::Failure
        }
    }
}

/// Parses `NAME=value,NAME=value` into ordered pairs.
pub(super) fn parse_list(flag: &str, s: &str) -> CliResult<Vec<(String, f64)>> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let Some((name, value)) = item.split_once('=') else {
            return Err(usage(format!(
                "--{flag}: `{item}` is not NAME=value (e.g. `--{flag} A=0.5,B=0.5`)"
            )));
        };
        let name = canonical_name(name.trim());
        let value: f64 = value.trim().parse().map_err(|_| {
            usage(format!(
                "--{flag}: `{}` for {name} is not a number",
                value.trim()
            ))
        })?;
        if !value.is_finite() || value < 0.0 {
            return Err(usage(format!(
                "--{flag}: {name} = {} must be a finite number >= 0",
                fmt_number(value)
            )));
        }
        // amounts and factors are relative: beyond 1e30 their sums and products leave f64
        let range = &sxplan_model::plausible::NUMBER;
        if value != 0.0 && !(range.error_min..=range.error_max).contains(&value) {
            return Err(usage(format!(
                "--{flag}: {name} = {} is outside {} to {} (values are relative: write e.g. `--{flag} A=0.5,B=0.5`)",
                fmt_number(value),
                fmt_number(range.error_min),
                fmt_number(range.error_max)
            )));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(usage(format!("--{flag}: {name} is listed twice")));
        }
        out.push((name, value));
    }
    if out.is_empty() {
        return Err(usage(format!("--{flag} is empty")));
    }
    Ok(out)
}

/// Element symbols in canonical case (`nd` -> `Nd`); other names unchanged.
fn canonical_name(name: &str) -> String {
    match Element::from_symbol_ignore_case(name) {
        Some(e) => e.symbol().to_string(),
        None => name.to_string(),
    }
}

/// Separation factors: a single number for a binary cut, or one value per component.
enum Betas {
    Binary(f64),
    PerComponent(Vec<(String, f64)>),
}

fn parse_betas(flag: &str, s: &str) -> CliResult<Betas> {
    if let Ok(v) = s.trim().parse::<f64>() {
        if !(v.is_finite() && v > 1.0) {
            return Err(usage(format!(
                "--{flag}: separation factor {} must be > 1",
                fmt_number(v)
            )));
        }
        let range = &sxplan_model::plausible::BETA;
        if v > range.error_max {
            return Err(usage(format!(
                "--{flag}: separation factor {} is above {}, outside the plausible range of a separation factor",
                fmt_number(v),
                fmt_number(range.error_max)
            )));
        }
        return Ok(Betas::Binary(v));
    }
    Ok(Betas::PerComponent(parse_list(flag, s)?))
}

fn find(names: &[String], flag: &str, key: &str) -> CliResult<usize> {
    let key = canonical_name(key);
    names.iter().position(|n| *n == key).ok_or_else(|| {
        usage(format!(
            "--{flag}: {key} is not in the feed ({})",
            names.join(", ")
        ))
    })
}

/// Builds the cut spec of the calculator form from the arguments.
fn spec_from_args(args: &DesignArgs) -> CliResult<CutSpec> {
    let feed = parse_list(
        "feed",
        args.feed
            .as_deref()
            .ok_or_else(|| usage("--feed is required (e.g. --feed A=0.5,B=0.5)"))?,
    )?;
    let beta = parse_betas(
        "beta",
        args.beta
            .as_deref()
            .ok_or_else(|| usage("--beta is required (e.g. --beta 2)"))?,
    )?;
    let beta_scrub = args
        .beta_scrub
        .as_deref()
        .map(|s| parse_betas("beta-scrub", s))
        .transpose()?;
    let names: Vec<String> = feed.iter().map(|(n, _)| n.clone()).collect();
    let given = [
        args.purity_a,
        args.purity_b,
        args.recovery_a,
        args.recovery_b,
    ]
    .iter()
    .filter(|v| v.is_some())
    .count();
    if given != 2 || (args.purity_a.is_none() && args.purity_b.is_none()) {
        return Err(usage(
            "give --purity-a and --purity-b, or one purity and one of --recovery-a/--recovery-b",
        ));
    }
    let mut components: Vec<Component> = feed
        .iter()
        .map(|(name, amount)| Component {
            name: name.clone(),
            sep_factor: 1.0,
            sep_factor_scrub: None,
            feed: *amount,
        })
        .collect();
    let (key_a, key_b) = match &beta {
        Betas::Binary(b) => {
            if components.len() != 2 {
                return Err(usage(format!(
                    "--beta {b} is a single separation factor, so --feed needs exactly two components, got {}; \
                     give --beta NAME=value,... for a multicomponent feed",
                    components.len()
                )));
            }
            let (ka, kb) = binary_keys(&names, args)?;
            components[ka].sep_factor = *b;
            components[kb].sep_factor = 1.0;
            (ka, kb)
        }
        Betas::PerComponent(list) => {
            for (name, v) in list {
                let i = find(&names, "beta", name)?;
                components[i].sep_factor = *v;
            }
            for n in &names {
                if !list.iter().any(|(b, _)| b == n) {
                    return Err(usage(format!("--beta: no value for feed component {n}")));
                }
            }
            if names.len() == 2 && args.key_a.is_none() && args.key_b.is_none() {
                let (i, j) = if components[0].sep_factor >= components[1].sep_factor {
                    (0, 1)
                } else {
                    (1, 0)
                };
                (i, j)
            } else {
                let ka = find(
                    &names,
                    "key-a",
                    args.key_a
                        .as_deref()
                        .ok_or_else(|| usage("a multicomponent feed needs --key-a and --key-b"))?,
                )?;
                let kb = find(
                    &names,
                    "key-b",
                    args.key_b
                        .as_deref()
                        .ok_or_else(|| usage("a multicomponent feed needs --key-a and --key-b"))?,
                )?;
                (ka, kb)
            }
        }
    };
    match beta_scrub {
        None => {}
        Some(Betas::Binary(b)) => {
            if components.len() != 2 {
                return Err(usage("--beta-scrub as a single number needs a binary feed"));
            }
            components[key_a].sep_factor_scrub = Some(b);
            components[key_b].sep_factor_scrub = Some(1.0);
        }
        Some(Betas::PerComponent(list)) => {
            for (name, v) in list {
                let i = find(&names, "beta-scrub", &name)?;
                components[i].sep_factor_scrub = Some(v);
            }
        }
    }
    let spec = CutSpec {
        components,
        key_a,
        key_b,
        feed_phase: if args.organic_feed {
            FeedPhase::Organic
        } else {
            FeedPhase::Aqueous
        },
        purity_a: 0.0,
        purity_b: 0.0,
        reflux: reflux_of(args),
        reagents: reagents_of(args),
    };
    let targets = api::CutTargets {
        purity_a: args.purity_a,
        purity_b: args.purity_b,
        recovery_a: args.recovery_a,
        recovery_b: args.recovery_b,
    };
    api::with_targets(spec, &targets).map_err(|e| usage(e.to_string()))
}

/// Keys of a binary feed given a single separation factor.
fn binary_keys(names: &[String], args: &DesignArgs) -> CliResult<(usize, usize)> {
    if let Some(k) = &args.key_a {
        let ka = find(names, "key-a", k)?;
        return Ok((ka, 1 - ka));
    }
    if let Some(k) = &args.key_b {
        let kb = find(names, "key-b", k)?;
        return Ok((1 - kb, kb));
    }
    if let Some(ka) = names.iter().position(|n| n == "A") {
        return Ok((ka, 1 - ka));
    }
    if let Some(kb) = names.iter().position(|n| n == "B") {
        return Ok((1 - kb, kb));
    }
    match (
        Element::from_symbol(&names[0]),
        Element::from_symbol(&names[1]),
    ) {
        (Some(e0), Some(e1)) if e0.z() != e1.z() => {
            Ok(if e0.z() > e1.z() { (0, 1) } else { (1, 0) })
        }
        _ => Ok((0, 1)),
    }
}

pub(super) fn reflux_of(args: &DesignArgs) -> Reflux {
    match (args.reflux_ratio, args.scrub_amount) {
        (Some(r), _) => Reflux::RatioToMinimum(r),
        (None, Some(w)) => Reflux::ScrubAmount(w),
        (None, None) => Reflux::XuOptimum,
    }
}

pub(super) fn reagents_of(args: &DesignArgs) -> Option<ReagentBasis> {
    Some(ReagentBasis {
        extractant_conc: args.reagents.extractant_conc?,
        saponification: args.reagents.saponification?,
        loading_capacity: args.reagents.loading_capacity,
        scrub_acid: args.reagents.scrub_acid?,
        strip_acid: args.reagents.strip_acid?,
        acid_excess: args.reagents.acid_excess,
        feed_conc: args.reagents.feed_conc,
        feed_rate: args.reagents.feed_rate,
    })
}
