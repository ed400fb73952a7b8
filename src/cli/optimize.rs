//! `sxplan optimize FILE [--objective ...] [--format text|json] [--out DIR]`: successive-LP
//! optimization of a flowsheet's operating point, with the optimized flowsheet written as TOML.

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_model::{Flowsheet, Objective, OperatingVar};
use sxplan_opt::{Backend, OptStatus, OptimizeOptions, OptimizeResult};

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
    /// Directory to write the optimized flowsheet (`<name>.optimized.toml`) into.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// LP backend (`clarabel`, or `highs` when built with the feature).
    #[arg(long, default_value = "clarabel")]
    pub backend: String,
    /// Maximum successive-LP passes (overrides `[optimize] max_passes`).
    #[arg(long)]
    pub max_passes: Option<usize>,
}

fn clock() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// Runs `sxplan optimize`.
pub fn run(args: &OptimizeArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let file = args.file.display().to_string();
    let src = match std::fs::read_to_string(&args.file) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(stderr, "error: cannot read {file}: {e}");
            return Exit::Usage;
        }
    };
    let checked = sxplan_model::check_str(&src);
    if !checked.diagnostics.is_empty() {
        let _ = write!(
            stderr,
            "{}",
            sxplan_model::render_text(&file, &src, &checked.diagnostics)
        );
    }
    let Some(fs) = checked.flowsheet else {
        return Exit::Failure;
    };
    let Some(backend) = Backend::parse(&args.backend) else {
        let _ = writeln!(
            stderr,
            "error: unknown backend \"{}\" (clarabel, highs)",
            args.backend
        );
        return Exit::Usage;
    };
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
    let result = match sxplan_opt::optimize(&fs, &opts) {
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
    let out = match args.format {
        Format::Text => sxplan_report::optimize::render_text(&fs.name, &result),
        Format::Json => sxplan_report::optimize::render_json(&fs.name, &result),
    };
    let _ = write!(stdout, "{out}");
    if let Some(dir) = &args.out {
        if result.status == OptStatus::Optimal {
            match write_optimized(dir, &args.file, &src, &result) {
                Ok(path) => {
                    let _ = writeln!(stderr, "wrote {}", path.display());
                }
                Err(e) => {
                    let _ = writeln!(stderr, "error: {e}");
                    return Exit::Usage;
                }
            }
        } else {
            let _ = writeln!(
                stderr,
                "note: status {}: no optimized flowsheet written",
                result.status.as_str()
            );
        }
    }
    match result.status {
        OptStatus::Optimal => Exit::Ok,
        _ => Exit::Failure,
    }
}

/// Writes `<stem>.optimized.toml` into `dir` through a temporary file and a rename.
fn write_optimized(
    dir: &Path,
    input: &Path,
    src: &str,
    result: &OptimizeResult,
) -> Result<PathBuf, String> {
    let text = optimized_toml(src, &result.flowsheet, &result.point.values)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stem = input
        .file_stem()
        .map_or("flowsheet".into(), |s| s.to_string_lossy().into_owned());
    let path = dir.join(format!("{stem}.optimized.toml"));
    let tmp = dir.join(format!(".{stem}.optimized.toml.tmp"));
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot rename {} to {}: {e}", tmp.display(), path.display())
    })?;
    Ok(path)
}

/// The flowsheet source with every optimized operating variable rewritten, checked by re-reading it.
pub fn optimized_toml(
    src: &str,
    fs: &Flowsheet,
    values: &[(OperatingVar, f64)],
) -> Result<String, String> {
    let mut text = src.to_string();
    for &(var, x) in values {
        let (array, name, path): (&str, String, &[&str]) = match var {
            OperatingVar::FeedRate(f) => {
                let feed = fs.feeds.get(f.0).ok_or("unknown feed")?;
                ("feed", feed.name.clone(), &["flow"][..])
            }
            OperatingVar::OrganicFlow(c) => (
                "circuit",
                fs.circuits.get(c.0).ok_or("unknown circuit")?.name.clone(),
                &["organic", "flow"],
            ),
            OperatingVar::ScrubFlow(c) => (
                "circuit",
                fs.circuits.get(c.0).ok_or("unknown circuit")?.name.clone(),
                &["scrub", "flow"],
            ),
            OperatingVar::StripFlow(c) => (
                "circuit",
                fs.circuits.get(c.0).ok_or("unknown circuit")?.name.clone(),
                &["strip", "flow"],
            ),
            _ => return Err("this operating variable cannot be written back yet".into()),
        };
        let value = match var {
            OperatingVar::FeedRate(f)
                if matches!(
                    fs.feeds.get(f.0).map(|x| &x.kind),
                    Some(sxplan_model::FeedKind::Mud(_))
                ) =>
            {
                format!("\"{} t/h\"", fmt_num(x))
            }
            _ => format!("\"{} m3/h\"", fmt_num(x / 1000.0)),
        };
        text = patch(&text, array, &name, path, &value).ok_or_else(|| {
            format!(
                "cannot locate {} of {array} \"{name}\" in the source to write the optimized value",
                path.join(".")
            )
        })?;
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

/// Rewrites the string value at `path` inside the `[[array]]` element whose `name` is `name`.
/// Handles `key = "..."` lines and inline tables (`organic = { ..., flow = "..." }`) and
/// sub-table headers (`[circuit.organic]`).
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
        // Candidate regions: the element body, then sub-tables.
        if path.len() == 1 {
            return replace_key(src, starts[w], starts[w + 1], path[0], value);
        }
        let (table, key) = (path[0], path[1]);
        // Inline table in the element body.
        let body = &src[starts[w]..starts[w + 1]];
        if let Some(i) = find_key(body, table) {
            let abs = starts[w] + i;
            let open = src[abs..].find('{')? + abs;
            let close = src[open..].find('}')? + open;
            return replace_key(src, open, close + 1, key, value);
        }
        for k in w + 1..end {
            let h = header(&src[starts[k]..starts[k + 1]]);
            if h == format!("[{array}.{table}]") {
                return replace_key(src, starts[k], starts[k + 1], key, value);
            }
        }
        return None;
    }
    None
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

fn replace_key(src: &str, lo: usize, hi: usize, key: &str, value: &str) -> Option<String> {
    let region = &src[lo..hi];
    let k = find_key(region, key)? + lo;
    let eq = src[k..].find('=')? + k;
    let q1 = src[eq..].find('"')? + eq;
    let q2 = src[q1 + 1..].find('"')? + q1 + 1;
    if q2 >= hi {
        return None;
    }
    let mut out = String::with_capacity(src.len() + 16);
    out.push_str(&src[..q1]);
    out.push_str(value);
    out.push_str(&src[q2 + 1..]);
    Some(out)
}
