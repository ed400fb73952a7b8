//! `sxplan scenarios FILE [--mud LIST] [--grades LIST] [--prices LIST] [--optimize]`: runs a
//! plant flowsheet over a grid of mud throughputs, mud grades and price sets and prints one
//! comparison row per scenario (plant summary of each, `sxplan_report::plant`).
//!
//! A scenario scales the whole plant linearly to the requested mud rate (`api::scale_plant`:
//! flows, capacities and the optimizer's flow bounds; ratios, stage numbers and equilibrium
//! data stay as written) and is run by `api::run_scenario`; this module parses the grid and
//! prints the table.

use std::io::Write;
use std::path::PathBuf;

use sxplan_report::plant::{render_text, PlantOptions, PlantSummary};

use crate::api::{self, Scenario};

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
    /// Scenarios run at once, one per thread; 0 = one per core. The table is the same for any
    /// value: scenarios are independent and printed in grid order.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub jobs: usize,
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

struct Row {
    label: String,
    status: String,
    summary: PlantSummary,
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
    let loaded =
        match super::check::load_flowsheet(&args.file, "run scenarios of", &args.global, stderr) {
            Ok(l) => l,
            Err(e) => return e,
        };
    let Ok(base) = loaded.flowsheet() else {
        return Exit::Failure;
    };
    let Some(mud) = api::mud_feed(base) else {
        let _ = writeln!(
            stderr,
            "error: {name}: scenarios need a flowsheet with a mud feed"
        );
        return Exit::Usage;
    };
    let (base_rate, base_grade) = (mud.t_per_h, mud.grade);
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
        if let Err(e) = api::check_grade(g) {
            let _ = writeln!(stderr, "error: --grades: {e}");
            return Exit::Usage;
        }
    }
    for p in &args.prices {
        if let Err(e) = api::check_price_set(p) {
            let _ = writeln!(stderr, "error: --prices: {e}");
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

    let mut grid = Vec::new();
    for m in &muds {
        for g in &grades {
            for p in &prices {
                let label = format!(
                    "{m:.0} t/d, {g}, {}",
                    p.clone().unwrap_or_else(|| "flowsheet prices".to_string())
                );
                let scenario = Scenario {
                    mud_t_per_h: m / 24.0,
                    grade: g.clone(),
                    prices: p.clone(),
                };
                grid.push((label, scenario));
            }
        }
    }
    let threads = match crate::api::parallel::pool(args.jobs) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(stderr, "error: --jobs {}: {e}", args.jobs);
            return Exit::Usage;
        }
    };
    let mut rows = Vec::new();
    let mut failed = false;
    let bar = Progress::new(&args.global, Some(grid.len() as u64), "scenarios");
    let mut next = 0usize;
    let _ = crate::api::parallel::run_in_order(
        &grid,
        &threads,
        |(_, scenario)| api::run_scenario(&api::scale_plant(base, scenario), args.optimize, &popts),
        |result| {
            let label = grid[next].0.clone();
            next += 1;
            bar.message(label.clone());
            match result {
                Ok(r) => {
                    verbose_line(
                        &args.global,
                        stderr,
                        &format!("scenario {label}: {}", r.status),
                    );
                    rows.push(Row {
                        label,
                        status: r.status,
                        summary: r.summary,
                    });
                }
                Err(e) => {
                    failed = true;
                    let _ = writeln!(stderr, "error: scenario {label}: {e}");
                }
            }
            bar.inc();
            Ok::<(), ()>(())
        },
    );
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
