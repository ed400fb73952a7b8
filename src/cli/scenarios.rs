//! `sxplan scenarios FILE [--mud LIST] [--grades LIST] [--prices LIST] [--optimize]`: runs a
//! plant flowsheet over a grid of mud throughputs, mud grades and price sets and prints one
//! comparison row per scenario (plant summary of each, `sxplan_report::plant`).
//!
//! A scenario scales the whole plant linearly to the requested mud rate: the mud feed, every
//! circuit's organic, scrub and strip flows, the hydraulic capacities and the optimizer's flow
//! bounds are multiplied by (new mud rate / flowsheet mud rate). Ratios, stage numbers and
//! equilibrium data stay as written, so a scaled plant separates exactly as the original.

use std::io::Write;
use std::path::PathBuf;

use sxplan_model::{CapacityLimit, FeedKind, Flowsheet};
use sxplan_opt::{OptStatus, OptimizeOptions};
use sxplan_report::plant::{plant_summary, render_text, PlantOptions, PlantSummary};
use sxplan_sim::{SimOptions, SimResult};

use super::progress::{verbose_line, GlobalOpts, Progress};
use super::Exit;
use sxplan_model::diagnostic::fmt_number;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain-text comparison table.
    Text,
    /// Markdown comparison table.
    Markdown,
}

/// Arguments of `sxplan scenarios`.
#[derive(Debug, clap::Args)]
pub struct ScenariosArgs {
    /// Plant flowsheet with one mud feed.
    pub file: PathBuf,
    /// Mud throughputs, t/day, comma-separated (default: the flowsheet's).
    #[arg(long, value_delimiter = ',')]
    pub mud: Vec<f64>,
    /// Mud grades (`rey_rich`, `highly_rey_rich`, `extremely_rey_rich`), comma-separated
    /// (default: the flowsheet's).
    #[arg(long, value_delimiter = ',')]
    pub grades: Vec<String>,
    /// Built-in price sets (`usgs_2024`, `outside_china_2025`, ...), comma-separated (default:
    /// the flowsheet's).
    #[arg(long, value_delimiter = ',')]
    pub prices: Vec<String>,
    /// Also optimize each scenario (`[optimize]` of the flowsheet, bounds scaled).
    #[arg(long)]
    pub optimize: bool,
    /// Print the full plant summary of every scenario after the table.
    #[arg(long)]
    pub summaries: bool,
    /// Operating hours per year for the annual figures.
    #[arg(long, default_value_t = sxplan_report::plant::DEFAULT_HOURS_PER_YEAR)]
    pub hours_per_year: f64,
    /// Output format of the table.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// `--quiet` / `--verbose` (also accepted before the subcommand).
    #[command(flatten)]
    pub global: GlobalOpts,
}

fn mud_rate(fs: &Flowsheet) -> Option<f64> {
    fs.feeds.iter().find_map(|f| match &f.kind {
        FeedKind::Mud(m) => Some(m.flow_mass),
        _ => None,
    })
}

/// The flowsheet scaled to `t_per_h` of mud, with `grade` and price set `prices`.
fn scenario(base: &Flowsheet, t_per_h: f64, grade: &str, prices: Option<&str>) -> Flowsheet {
    let mut fs = base.clone();
    let k = mud_rate(base).map_or(1.0, |m| if m > 0.0 { t_per_h / m } else { 1.0 });
    for f in &mut fs.feeds {
        match &mut f.kind {
            FeedKind::Mud(m) => {
                m.flow_mass *= k;
                m.grade = grade.to_string();
            }
            FeedKind::Aqueous(s) | FeedKind::Organic(s) => s.flow_vol *= k,
        }
    }
    for c in &mut fs.circuits {
        c.organic.flow_vol *= k;
        for s in &mut c.sections {
            if let Some(sol) = &mut s.solution {
                sol.flow_vol *= k;
            }
        }
    }
    for cap in &mut fs.capacities {
        match &mut cap.limit {
            CapacityLimit::MaxFlow { flow_vol } => *flow_vol *= k,
            CapacityLimit::MixerVolume { volume, .. } => *volume *= k,
        }
    }
    if let Some(o) = &mut fs.optimize {
        for v in &mut o.free {
            if v.var.is_volumetric_flow() {
                v.lower *= k;
                v.upper *= k;
            }
        }
    }
    if let (Some(p), Some(id)) = (&mut fs.prices, prices) {
        p.set = Some(id.to_string());
    }
    fs
}

struct Row {
    label: String,
    status: String,
    summary: PlantSummary,
}

fn run_one(fs: &Flowsheet, optimize: bool, opts: &PlantOptions) -> Result<Row, String> {
    let sim_opts = SimOptions::default();
    let (fs_point, opt) = if optimize {
        let r = sxplan_opt::optimize(fs, &OptimizeOptions::default()).map_err(|e| e.to_string())?;
        (r.flowsheet.clone(), Some(r))
    } else {
        (fs.clone(), None)
    };
    let sim: SimResult = sxplan_sim::simulate(&fs_point, &sim_opts).map_err(|e| e.to_string())?;
    let summary = plant_summary(&fs_point, &sim, opt.as_ref(), opts);
    let status = match &opt {
        Some(o) if o.status == OptStatus::Optimal => "optimal".to_string(),
        Some(o) => o.status.as_str().to_string(),
        None => summary.sim_status.clone(),
    };
    Ok(Row {
        label: String::new(),
        status,
        summary,
    })
}

fn product_t(s: &PlantSummary, name: &str) -> f64 {
    s.products
        .iter()
        .find(|p| p.name == name)
        .map_or(0.0, |p| p.oxide_t_per_year)
}

fn specs(s: &PlantSummary) -> String {
    let with: Vec<_> = s.products.iter().filter(|p| p.spec_met.is_some()).collect();
    let met = with.iter().filter(|p| p.spec_met == Some(true)).count();
    format!("{met}/{}", with.len())
}

/// Runs `sxplan scenarios`.
pub fn run(args: &ScenariosArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let name = args.file.display().to_string();
    let base =
        match super::check::load_flowsheet(&args.file, "run scenarios of", &args.global, stderr) {
            Ok(fs) => fs,
            Err(e) => return e,
        };
    let Some(base_rate) = mud_rate(&base) else {
        let _ = writeln!(
            stderr,
            "error: {name}: scenarios need a flowsheet with a mud feed"
        );
        return Exit::Usage;
    };
    let base_grade = base
        .feeds
        .iter()
        .find_map(|f| match &f.kind {
            FeedKind::Mud(m) => Some(m.grade.clone()),
            _ => None,
        })
        .unwrap_or_default();
    // the same plausible range `check` applies to a mud feed's flow (t/h)
    let range = &sxplan_model::plausible::FLOW_MASS;
    for m in &args.mud {
        let t_per_h = *m / 24.0;
        if !m.is_finite() || *m <= 0.0 || t_per_h < range.error_min || t_per_h > range.error_max {
            let _ = writeln!(
                stderr,
                "error: --mud {}: expected a positive mud rate in t/day, at most {} t/day ({})",
                fmt_number(*m),
                fmt_number(range.error_max * 24.0),
                range.basis
            );
            return Exit::Usage;
        }
    }
    for g in &args.grades {
        if sxplan_chem::mud::grade(g).is_none() {
            let _ = writeln!(stderr, "error: --grades: unknown mud grade \"{g}\"");
            return Exit::Usage;
        }
    }
    for p in &args.prices {
        if sxplan_chem::prices::price_set(p).is_none() {
            let _ = writeln!(stderr, "error: --prices: unknown price set \"{p}\"");
            return Exit::Usage;
        }
    }
    if !args.prices.is_empty() && base.prices.is_none() {
        let _ = writeln!(
            stderr,
            "error: {name}: --prices needs a [prices] table in the flowsheet"
        );
        return Exit::Usage;
    }
    let muds: Vec<f64> = if args.mud.is_empty() {
        vec![base_rate * 24.0]
    } else {
        args.mud.clone()
    };
    let grades: Vec<String> = if args.grades.is_empty() {
        vec![base_grade]
    } else {
        args.grades.clone()
    };
    let prices: Vec<Option<String>> = if args.prices.is_empty() {
        vec![None]
    } else {
        args.prices.iter().cloned().map(Some).collect()
    };
    let popts = PlantOptions {
        hours_per_year: args.hours_per_year,
        ..PlantOptions::default()
    };

    let mut rows = Vec::new();
    let mut failed = false;
    let total = (muds.len() * grades.len() * prices.len()) as u64;
    let bar = Progress::new(&args.global, Some(total), "scenarios");
    for m in &muds {
        for g in &grades {
            for p in &prices {
                let fs = scenario(&base, m / 24.0, g, p.as_deref());
                let label = format!(
                    "{m:.0} t/d, {g}, {}",
                    p.clone().unwrap_or_else(|| "flowsheet prices".to_string())
                );
                bar.message(label.clone());
                match run_one(&fs, args.optimize, &popts) {
                    Ok(mut r) => {
                        verbose_line(
                            &args.global,
                            stderr,
                            &format!("scenario {label}: {}", r.status),
                        );
                        r.label = label;
                        rows.push(r);
                    }
                    Err(e) => {
                        failed = true;
                        let _ = writeln!(stderr, "error: scenario {label}: {e}");
                    }
                }
                bar.inc();
            }
        }
    }

    let mut o = String::new();
    let md = args.format == Format::Markdown;
    let cols = [
        "scenario",
        "status",
        "mud t/d",
        "REO t/y",
        "Nd2O3 t/y",
        "Tb4O7 t/y",
        "Dy2O3 t/y",
        "specs",
        "revenue US$/y",
        "reagents US$/y",
        "margin US$/y",
        "US$/t mud",
    ];
    if md {
        o.push_str(&format!("| {} |\n", cols.join(" | ")));
        o.push_str(&format!("|{}\n", "---|".repeat(cols.len())));
    } else {
        o.push_str(&format!(
            "{:<44} {:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>6} {:>14} {:>14} {:>14} {:>9}\n",
            cols[0],
            cols[1],
            cols[2],
            cols[3],
            cols[4],
            cols[5],
            cols[6],
            cols[7],
            cols[8],
            cols[9],
            cols[10],
            cols[11]
        ));
    }
    for r in &rows {
        let s = &r.summary;
        let e = &s.economics;
        let cells = [
            r.label.clone(),
            r.status.clone(),
            format!("{:.1}", s.mud_t_per_day),
            format!("{:.2}", s.reo_t_per_year),
            format!("{:.3}", product_t(s, "Nd2O3")),
            format!("{:.3}", product_t(s, "Tb4O7")),
            format!("{:.3}", product_t(s, "Dy2O3")),
            specs(s),
            format!("{:.0}", e.revenue_usd_per_year),
            format!("{:.0}", e.reagent_cost_usd_per_year),
            format!("{:.0}", e.margin_usd_per_year),
            e.margin_usd_per_t_mud
                .map_or("-".to_string(), |x| format!("{x:.2}")),
        ];
        if md {
            o.push_str(&format!("| {} |\n", cells.join(" | ")));
        } else {
            o.push_str(&format!(
                "{:<44} {:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>6} {:>14} {:>14} {:>14} {:>9}\n",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                cells[5],
                cells[6],
                cells[7],
                cells[8],
                cells[9],
                cells[10],
                cells[11]
            ));
        }
    }
    if args.summaries {
        for r in &rows {
            o.push_str(&format!("\n== {}\n{}", r.label, render_text(&r.summary)));
        }
    }
    bar.finish();
    if let Err(e) = stdout.write_all(o.as_bytes()) {
        let _ = writeln!(stderr, "error: writing the table: {e}");
        return Exit::Usage;
    }
    if failed {
        Exit::Failure
    } else {
        Exit::Ok
    }
}
