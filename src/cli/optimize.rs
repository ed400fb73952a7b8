//! `sxplan optimize FILE [--objective ...] [--format text|json] [--out DIR]`: successive-LP
//! optimization of a flowsheet's operating point; for a plant flowsheet (one with a mud feed) the
//! main job: check, simulate, optimize, plant summary, full report written to a folder it names.

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_model::{Flowsheet, Objective, OperatingVar};
use sxplan_opt::{Backend, OptStatus, OptimizeOptions, OptimizeResult};
use sxplan_report::plant::{plant_summary, PlantOptions};

use super::progress::{note_line, verbose_line, GlobalOpts, Progress};
use super::Exit;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable report.
    Text,
    /// Versioned JSON document.
    Json,
}

/// Objective named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "snake_case")]
pub enum ObjectiveArg {
    /// Maximize the free feed rates.
    MaxThroughput,
    /// Minimize reagent cost per hour.
    MinReagentCost,
    /// Maximize product value minus reagent and operating cost.
    MaxMargin,
}

/// Arguments of `sxplan optimize`.
#[derive(Debug, clap::Args)]
pub struct OptimizeArgs {
    /// Flowsheet file.
    pub file: PathBuf,
    /// Objective (overrides `[optimize] objective`).
    #[arg(long, value_enum)]
    pub objective: Option<ObjectiveArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Directory to write the full report into (optimized flowsheet `<name>.optimized.toml`,
    /// result.json, HTML/Markdown report, figures, and the plant summary for a plant flowsheet);
    /// default for a plant flowsheet (one with a mud feed): `reports/<name>/`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// LP backend (`clarabel`, or `highs` when built with the feature).
    #[arg(long, default_value = "clarabel")]
    pub backend: String,
    /// Maximum successive-LP passes (overrides `[optimize] max_passes`).
    #[arg(long)]
    pub max_passes: Option<usize>,
    /// `--quiet` / `--verbose` (also accepted before the subcommand).
    #[command(flatten)]
    pub global: GlobalOpts,
}

fn clock() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

fn has_mud_feed(fs: &Flowsheet) -> bool {
    fs.feeds
        .iter()
        .any(|f| matches!(f.kind, sxplan_model::FeedKind::Mud(_)))
}

/// Default report folder of a plant flowsheet (one with a mud feed): `reports/<stem>`.
fn default_report_dir(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or("flowsheet".into(), |s| s.to_string_lossy().into_owned());
    Path::new("reports").join(stem)
}

/// Runs `sxplan optimize`.
///
/// A plant flowsheet (one with a mud feed) is the main job: check, simulate the written point,
/// optimize, print the pass table and the plant summary, and write the full report to `--out DIR`
/// (default `reports/<stem>/`). Any other flowsheet writes its report only with `--out`.
pub fn run(args: &OptimizeArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let global = &args.global;
    let t_start = clock();
    let file = args.file.display().to_string();
    let Some(backend) = Backend::parse(&args.backend) else {
        let _ = writeln!(
            stderr,
            "error: unknown backend \"{}\" (clarabel, highs)",
            args.backend
        );
        return Exit::Usage;
    };
    let fs = match super::check::load_flowsheet(&args.file, "optimize", global, stderr) {
        Ok(fs) => fs,
        Err(e) => return e,
    };
    let plant = has_mud_feed(&fs);
    let text = args.format == Format::Text;
    let stages: usize = fs.circuits.iter().map(|c| c.n_stages()).sum();
    if plant && text {
        let _ = writeln!(
            stdout,
            "check {file}: ok ({} circuits, {stages} stages, {} units, {} products)",
            fs.circuits.len(),
            fs.units.len(),
            fs.products.len()
        );
        // The written operating point, simulated by the product simulator.
        let t0 = clock();
        match sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()) {
            Ok(r) => {
                let _ = writeln!(
                    stdout,
                    "simulate (written point): {}, mass balance closure {:.1e}",
                    r.status.as_str(),
                    r.mass_balance.max_relative_error
                );
            }
            Err(e) => {
                let _ = writeln!(stdout, "simulate (written point): error: {e}");
            }
        }
        verbose_line(global, stderr, &format!("simulate: {:.2} s", clock() - t0));
    }
    let mut opts = OptimizeOptions {
        objective: args.objective.map(|o| match o {
            ObjectiveArg::MaxThroughput => Objective::MaxThroughput,
            ObjectiveArg::MinReagentCost => Objective::MinReagentCost,
            ObjectiveArg::MaxMargin => Objective::MaxMargin,
        }),
        max_passes: args.max_passes,
        clock: Some(clock),
        ..OptimizeOptions::default()
    };
    opts.lp.backend = backend;
    let spinner = Progress::spinner(global, "optimize");
    spinner.message("successive LP");
    let result = sxplan_opt::optimize(&fs, &opts);
    spinner.finish();
    let result = match result {
        Ok(r) => r,
        Err(e @ sxplan_opt::OptError::BackendUnavailable(_)) => {
            let _ = writeln!(stderr, "error: {e}");
            return Exit::Usage;
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: {file}: {e}");
            return Exit::Failure;
        }
    };
    for p in &result.passes {
        verbose_line(
            global,
            stderr,
            &format!(
                "pass {}: objective {:.6}, step {:.2e}, max violation {:.2e}, {}, lp {} x {} {} in {}",
                p.pass,
                p.objective,
                p.step,
                p.max_violation,
                if p.accepted { "accepted" } else { "rejected" },
                p.lp_cols,
                p.lp_rows,
                p.lp_status.as_str(),
                p.lp_time_s.map_or("-".to_string(), |t| format!("{t:.3} s"))
            ),
        );
    }
    let out = match args.format {
        Format::Text => sxplan_report::optimize::render_text(&fs.name, &result),
        Format::Json => sxplan_report::optimize::render_json(&fs.name, &result),
    };
    let _ = write!(stdout, "{out}");
    let optimal = result.status == OptStatus::Optimal;
    let dir = match (&args.out, plant) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => Some(default_report_dir(&args.file)),
        (None, false) => None,
    };
    // The plant summary at the optimized point, simulated by the product simulator.
    let mut summary = None;
    let mut sim_at_point = None;
    if plant || (dir.is_some() && optimal) {
        match sxplan_sim::simulate(&result.flowsheet, &sxplan_sim::SimOptions::default()) {
            Ok(r) => sim_at_point = Some(r),
            Err(e) => {
                let _ = writeln!(stderr, "error: simulating the optimized point: {e}");
            }
        }
    }
    if plant {
        if let Some(sim) = &sim_at_point {
            let s = plant_summary(
                &result.flowsheet,
                sim,
                Some(&result),
                &PlantOptions::default(),
            );
            if text {
                let _ = write!(stdout, "\n{}", sxplan_report::plant::render_text(&s));
            }
            summary = Some(s);
        }
    }
    if let Some(dir) = dir {
        if !optimal {
            note_line(
                global,
                stderr,
                &format!(
                    "note: status {}: no optimized flowsheet written",
                    result.status.as_str()
                ),
            );
        } else {
            let written = write_report(
                dir.as_path(),
                args,
                &fs,
                &result,
                sim_at_point.as_ref(),
                summary.as_ref(),
                stderr,
            );
            match written {
                Ok(n) => {
                    let line = format!(
                        "report: wrote {n} files to {}/ (open {})",
                        dir.display(),
                        dir.join("report.html").display()
                    );
                    if text {
                        let _ = writeln!(stdout, "\n{line}");
                    } else {
                        let _ = writeln!(stderr, "{line}");
                    }
                }
                Err(e) => {
                    let _ = writeln!(stderr, "error: {e}");
                    return Exit::Usage;
                }
            }
        }
    }
    verbose_line(
        global,
        stderr,
        &format!("optimize: {:.2} s in total", clock() - t_start),
    );
    if optimal {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

/// Writes the full report of an optimal point into `dir` (through a temporary directory and a
/// rename): the optimized flowsheet `<stem>.optimized.toml`, `result.json` (the optimize JSON),
/// the report files of `sxplan_report` (HTML, Markdown, SVG figures, stage CSVs) and, for a plant,
/// `plant_summary.{txt,md,json}`. Returns the number of files.
fn write_report(
    dir: &Path,
    args: &OptimizeArgs,
    fs: &Flowsheet,
    result: &OptimizeResult,
    sim: Option<&sxplan_sim::SimResult>,
    summary: Option<&sxplan_report::plant::PlantSummary>,
    stderr: &mut dyn Write,
) -> Result<usize, String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "cannot create {}: it exists and is not a directory",
            dir.display()
        ));
    }
    let stem = args
        .file
        .file_stem()
        .map_or("flowsheet".into(), |s| s.to_string_lossy().into_owned());
    let mut files: Vec<(String, String)> = Vec::new();
    let src = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    match optimized_toml(&src, &result.flowsheet, &result.point.values) {
        Ok(t) => files.push((format!("{stem}.optimized.toml"), t)),
        Err(e) => {
            let _ = writeln!(
                stderr,
                "warning: no {stem}.optimized.toml in the report: {e}"
            );
        }
    }
    files.push((
        "result.json".to_string(),
        sxplan_report::optimize::render_json(&fs.name, result),
    ));
    match sxplan_report::ReportInput::from_optimize(&fs.name, result, sim) {
        Ok(input) => {
            let input = input.with_provenance(&fs.data_used);
            files.extend(sxplan_report::write_report_files(&input));
        }
        Err(e) => {
            let _ = writeln!(stderr, "warning: report pages not written: {e}");
        }
    }
    if let Some(s) = summary {
        files.push((
            "plant_summary.txt".to_string(),
            sxplan_report::plant::render_text(s),
        ));
        files.push((
            "plant_summary.md".to_string(),
            sxplan_report::plant::render_markdown(s),
        ));
        files.push((
            "plant_summary.json".to_string(),
            serde_json::to_string_pretty(&sxplan_report::plant::to_json(s)).unwrap_or_default()
                + "\n",
        ));
    }
    super::report::write_report_dir(dir, &files)?;
    Ok(files.len())
}

/// The flowsheet source with every optimized operating variable rewritten, checked by re-reading it.
/// `fs` is the optimized flowsheet (the point applied): split fractions are written for every
/// outlet of the splitter, since moving one rescales the others.
pub fn optimized_toml(
    src: &str,
    fs: &Flowsheet,
    values: &[(OperatingVar, f64)],
) -> Result<String, String> {
    let mut text = src.to_string();
    let circuit = |c: sxplan_model::CircuitId| -> Result<&sxplan_model::Circuit, String> {
        fs.circuits
            .get(c.0)
            .ok_or_else(|| "unknown circuit".to_string())
    };
    for &(var, x) in values {
        // (array, element name, key path, value text) for every key to rewrite.
        let mut edits: Vec<(&str, String, Vec<String>, String)> = Vec::new();
        let flow = |x: f64| format!("\"{} m3/h\"", fmt_num(x / 1000.0));
        match var {
            OperatingVar::FeedRate(f) => {
                let feed = fs.feeds.get(f.0).ok_or("unknown feed")?;
                let value = if matches!(feed.kind, sxplan_model::FeedKind::Mud(_)) {
                    format!("\"{} t/h\"", fmt_num(x))
                } else {
                    flow(x)
                };
                edits.push(("feed", feed.name.clone(), vec!["flow".into()], value));
            }
            OperatingVar::OrganicFlow(c) => edits.push((
                "circuit",
                circuit(c)?.name.clone(),
                vec!["organic".into(), "flow".into()],
                flow(x),
            )),
            OperatingVar::ScrubFlow(c)
            | OperatingVar::StripFlow(c)
            | OperatingVar::ScrubAcid(c)
            | OperatingVar::StripAcid(c) => {
                let table = match var {
                    OperatingVar::ScrubFlow(_) | OperatingVar::ScrubAcid(_) => "scrub",
                    _ => "strip",
                };
                let (key, value) = match var {
                    OperatingVar::ScrubFlow(_) | OperatingVar::StripFlow(_) => ("flow", flow(x)),
                    _ => ("conc", format!("\"{} mol/L\"", fmt_num(x))),
                };
                edits.push((
                    "circuit",
                    circuit(c)?.name.clone(),
                    vec![table.into(), key.into()],
                    value,
                ));
            }
            OperatingVar::Saponification(c) => edits.push((
                "circuit",
                circuit(c)?.name.clone(),
                vec!["organic".into(), "saponification".into()],
                format!("\"{} %\"", fmt_num(100.0 * x)),
            )),
            OperatingVar::ExtractionRatio(c, k) => {
                let cc = circuit(c)?;
                let section = cc.sections.get(k).ok_or("unknown section")?;
                edits.push((
                    "circuit",
                    cc.name.clone(),
                    vec![
                        "equilibrium".into(),
                        "extraction_ratio".into(),
                        section.name.clone(),
                    ],
                    fmt_num(x),
                ));
            }
            OperatingVar::SplitFraction(sp, _) => {
                let s = fs.splitters.get(sp.0).ok_or("unknown splitter")?;
                for (outlet, frac) in &s.outlets {
                    edits.push((
                        "splitter",
                        s.name.clone(),
                        vec!["outlets".into(), outlet.clone()],
                        fmt_num(*frac),
                    ));
                }
            }
        }
        for (array, name, path, value) in edits {
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            text = patch(&text, array, &name, &keys, &value).ok_or_else(|| {
                format!(
                    "cannot locate {} of {array} \"{name}\" in the source to write the optimized value",
                    path.join(".")
                )
            })?;
        }
    }
    // Re-read: the written file must check clean and carry the optimized values.
    let back = sxplan_model::check_str(&text);
    let Some(fs2) = back.flowsheet else {
        return Err("the rewritten flowsheet does not check clean".into());
    };
    for &(var, x) in values {
        let got = sxplan_opt::plant::get_var(&fs2, var).map_err(|e| e.to_string())?;
        if (got - x).abs() > 1e-9 * x.abs().max(1.0) {
            return Err(format!(
                "the rewritten flowsheet holds {got} instead of {x} for {}",
                sxplan_opt::plant::var_name(&fs2, var)
            ));
        }
    }
    Ok(text)
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.12}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Rewrites the value at `path` inside the `[[array]]` element whose `name` is `name`.
/// Handles `key = ...` lines, inline tables (`organic = { ..., flow = "..." }`), sub-table
/// headers (`[circuit.organic]`), and for three-key paths an inline table inside a sub-table
/// (`[circuit.equilibrium]` `extraction_ratio = { scrub = 1.41 }`) or a sub-sub-table header.
fn patch(src: &str, array: &str, name: &str, path: &[&str], value: &str) -> Option<String> {
    // Split into blocks by table headers.
    let mut starts: Vec<usize> = Vec::new();
    let mut pos = 0;
    for line in src.split_inclusive('\n') {
        if line.trim_start().starts_with('[') {
            starts.push(pos);
        }
        pos += line.len();
    }
    starts.push(src.len());
    let header = |s: &str| -> String {
        let l = s.lines().next().unwrap_or("").trim();
        l.split('#').next().unwrap_or("").trim().to_string()
    };
    let name_re = format!("name = \"{name}\"");
    // Find the array element with that name, then the element's range (until the next [[array]]
    // or unrelated header).
    for w in 0..starts.len().saturating_sub(1) {
        let block = &src[starts[w]..starts[w + 1]];
        if header(block) != format!("[[{array}]]") || !block.contains(&name_re) {
            continue;
        }
        let mut end = w + 1;
        while end + 1 < starts.len() {
            let h = header(&src[starts[end]..starts[end + 1]]);
            if h.starts_with(&format!("[{array}.")) || h.starts_with(&format!("[[{array}.")) {
                end += 1;
            } else {
                break;
            }
        }
        // The byte range of table `name` ("organic", "equilibrium.extraction_ratio") inside
        // `lo..hi`: an inline table there, else a sub-table header of the element.
        let table = |lo: usize, hi: usize, key: &str, name: &str| -> Option<(usize, usize)> {
            inline_table(src, lo, hi, key).or_else(|| {
                (w + 1..end)
                    .find(|&k| {
                        header(&src[starts[k]..starts[k + 1]]) == format!("[{array}.{name}]")
                    })
                    .map(|k| (starts[k], starts[k + 1]))
            })
        };
        let (lo, hi) = match path {
            [_] => (starts[w], starts[w + 1]),
            [t, _] => table(starts[w], starts[w + 1], t, t)?,
            [t, inner, _] => {
                let (lo, hi) = table(starts[w], starts[w + 1], t, t)?;
                table(lo, hi, inner, &format!("{t}.{inner}"))?
            }
            _ => return None,
        };
        return replace_key(src, lo, hi, path[path.len() - 1], value);
    }
    None
}

/// The byte range `{ ... }` of the inline table `key = { ... }` inside `src[lo..hi]`.
fn inline_table(src: &str, lo: usize, hi: usize, key: &str) -> Option<(usize, usize)> {
    let i = find_key(&src[lo..hi], key)? + lo;
    let eq = src[i..hi].find('=')? + i;
    let rest = src[eq + 1..hi].trim_start();
    if !rest.starts_with('{') {
        return None;
    }
    let open = hi - rest.len();
    let close = src[open..hi].find('}')? + open;
    Some((open, close + 1))
}

/// Position of `key =` at a word boundary in `text` (not inside a string).
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(key) {
        let at = from + i;
        let before = text[..at].chars().last();
        let after = text[at + key.len()..].trim_start();
        let boundary = before.is_none_or(|c| c == '{' || c == ',' || c.is_whitespace());
        let quotes_before = text[..at].matches('"').count();
        if boundary && after.starts_with('=') && quotes_before % 2 == 0 {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// Replaces the value of `key = ...` inside `src[lo..hi]`: a quoted string, or a bare token
/// (a number) up to the next `,`, `}`, `#` or line end.
fn replace_key(src: &str, lo: usize, hi: usize, key: &str, value: &str) -> Option<String> {
    let region = &src[lo..hi];
    let k = find_key(region, key)? + lo;
    let eq = src[k..hi].find('=')? + k;
    let after = &src[eq + 1..hi];
    let start = eq + 1 + (after.len() - after.trim_start().len());
    let end = if src[start..].starts_with('"') {
        src[start + 1..hi].find('"')? + start + 2
    } else {
        let tail = &src[start..hi];
        start + tail.find([',', '}', '#', '\n']).unwrap_or(tail.len())
    };
    let end = start + src[start..end].trim_end().len();
    if end > hi || end == start {
        return None;
    }
    let mut out = String::with_capacity(src.len() + 16);
    out.push_str(&src[..start]);
    out.push_str(value);
    out.push_str(&src[end..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sxplan_opt::plant::{apply, OperatingPoint};

    fn root() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// Writes `values` into the source of `file` and returns the rewritten text (which
    /// `optimized_toml` has already re-read and compared value by value).
    fn rewrite(file: &str, values: Vec<(OperatingVar, f64)>) -> String {
        let src = std::fs::read_to_string(root().join(file)).unwrap();
        let fs = sxplan_model::check_str(&src).flowsheet.unwrap();
        let optimized = apply(
            &fs,
            &OperatingPoint {
                values: values.clone(),
            },
        )
        .unwrap();
        optimized_toml(&src, &optimized, &values).unwrap()
    }

    #[test]
    fn every_kind_of_operating_variable_is_written_back() {
        use sxplan_model::{CircuitId, SplitterId};
        let text = rewrite(
            "flowsheets/reflux.toml",
            vec![
                (OperatingVar::SplitFraction(SplitterId(0), 0), 0.45),
                (OperatingVar::Saponification(CircuitId(0)), 0.375),
                (OperatingVar::StripAcid(CircuitId(0)), 2.25),
                (OperatingVar::OrganicFlow(CircuitId(0)), 3500.0),
            ],
        );
        assert!(
            text.contains("outlets = { to_scrub = 0.45, forward = 0.55 }"),
            "{text}"
        );
        assert!(text.contains("saponification = \"37.5 %\""));
        assert!(text.contains("conc = \"2.25 mol/L\", flow = \"6 m3/h\""));
        assert!(text.contains("flow = \"3.5 m3/h\" }"));
        let text = rewrite(
            "flowsheets/pr-nd.toml",
            vec![
                (OperatingVar::ExtractionRatio(CircuitId(0), 0), 0.8),
                (OperatingVar::ExtractionRatio(CircuitId(0), 1), 1.35),
                (OperatingVar::ScrubAcid(CircuitId(0)), 3.5),
            ],
        );
        assert!(text.contains("extraction_ratio = { extraction = 0.8, scrub = 1.35 }"));
        assert!(text.contains("conc = \"3.5 mol/L\""));
        // Comments after a value survive.
        assert!(text.contains("conc = \"3.5 mol/L\"            # illustrative"));
    }
}
