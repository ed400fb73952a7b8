//! The facade: the few calls a plant-design tool (or the CLI, or the Python package) needs to
//! load, check, simulate, design and optimize a flowsheet, and to run plant scenarios.
//!
//! Every function returns plain data (serde-serializable results with a status) or an
//! [`Error`]; none prints, panics or reads the environment. Numeric outcomes (not converged,
//! infeasible, time limit) are statuses inside the results, never errors. Loading a flowsheet
//! from a path reads the file and its includes ([`load_path`]); everything else takes data.

use std::path::Path;

use serde::Serialize;
use sxplan_design::flows::ReagentBasis;
use sxplan_design::flowsheet::{CircuitCut, CircuitOverrides};
use sxplan_design::sensitivity::{DEFAULT_IMPURITY_FACTORS, DEFAULT_REFLUX_RATIOS};
pub use sxplan_design::synthesis::{
    SynthElement, SynthObjective, SynthProduct, Synthesis, SynthesisSpec, Train as SynthTrain,
};
use sxplan_design::{CutDesign, CutSpec, SearchOptions, SearchStatus};
use sxplan_model::{
    check_sources, render_sources, CapacityLimit, CheckOutput, FeedKind, Flowsheet, Objective,
    Severity, Source,
};
use sxplan_opt::{Backend, OptStatus, OptimizeOptions, OptimizeResult};
pub use sxplan_report::overview::Overview;
pub use sxplan_report::plant::{PlantOptions, PlantSummary};
use sxplan_sim::{Algorithm, Budget, Deadline, ProgressFn, SimOptions, SimResult};

mod files;
mod fit;
pub mod parallel;
mod schema;
pub mod sweep;
mod train;

pub(crate) use files::{io_reason, read_capped, shown_path, utf8_error};
pub use files::{LoadError, LoadOptions};
pub use fit::{fit_data, fit_json, FitRefused};
pub use schema::flowsheet_schema;
pub use train::{synthesize_plant, TrainCircuit, TrainPlant, TrainProduct};

/// Errors of the facade: the input cannot be used or a backend is broken. A run that did not
/// converge or found no feasible plan is not an error: its status says so.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A flowsheet file (or an included one) could not be read, is not UTF-8, or names an
    /// include it may not.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The flowsheet has errors (every one is in `diagnostics`, warnings too).
    #[error("`{name}`: {} error{}", count_errors(diagnostics), if count_errors(diagnostics) == 1 { "" } else { "s" })]
    Invalid {
        /// Name of the flowsheet (its path, or the name given to [`load_str`]).
        name: String,
        /// Every diagnostic of the flowsheet, in source order.
        diagnostics: Vec<Diagnostic>,
    },
    /// The simulator refused the flowsheet (invalid numbers, a graph that cannot be built).
    #[error(transparent)]
    Simulation(#[from] sxplan_sim::SimError),
    /// The optimizer refused the problem or its LP backend is unavailable or broken.
    #[error(transparent)]
    Optimization(#[from] sxplan_opt::OptError),
    /// The design input is invalid, or the simulator refused a cascade the design built.
    #[error(transparent)]
    Design(#[from] sxplan_design::DesignError),
    /// The flowsheet cannot be expanded into a stage graph.
    #[error(transparent)]
    Graph(#[from] sxplan_graph::GraphError),
    /// The request does not fit the flowsheet (a scenario of a flowsheet without a mud feed, a
    /// circuit whose feed could not be simulated); the message says why.
    #[error("{0}")]
    Request(String),
}

fn count_errors(d: &[Diagnostic]) -> usize {
    d.iter().filter(|d| d.severity == Severity::Error).count()
}

/// One problem found in a flowsheet, located: the data a terminal, an editor or a notebook
/// renders its own way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file the problem is in (the main file or an included one), as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// Stable code such as `E0203` (docs/flowsheet-reference.md lists them).
    pub code: String,
    /// Lowercase message naming the thing and the value.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// The located form of a model diagnostic of the flowsheet whose main file is `main`.
    pub(crate) fn of(d: &sxplan_model::Diagnostic, main: &str) -> Diagnostic {
        Diagnostic {
            file: d.file.clone().unwrap_or_else(|| main.to_string()),
            line: d.line,
            column: d.col,
            severity: d.severity,
            code: d.code.to_string(),
            message: d.message.clone(),
            help: d.help.clone(),
        }
    }
}

/// One source text of a flowsheet: the main file or a file it includes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// Name shown in diagnostics (the path as given).
    pub name: String,
    /// The TOML text.
    pub text: String,
}

/// A checked flowsheet: its sources and everything `check` found. [`Loaded::flowsheet`] is
/// the validated flowsheet when there is no error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Loaded {
    /// Name of the flowsheet (the main file's path, or the name given to [`load_str`]).
    pub name: String,
    /// The main file first, then the files it includes, in the order of its `include` list.
    pub sources: Vec<SourceFile>,
    /// The model's result: the lowered flowsheet (when there is no error) and the
    /// diagnostics with their byte spans.
    pub check: CheckOutput,
}

impl Loaded {
    /// The validated flowsheet, or [`Error::Invalid`] with every diagnostic.
    pub fn flowsheet(&self) -> Result<&Flowsheet, Error> {
        match &self.check.flowsheet {
            Some(fs) if self.check.error_count() == 0 => Ok(fs),
            _ => Err(Error::Invalid {
                name: self.name.clone(),
                diagnostics: self.diagnostics(),
            }),
        }
    }

    /// Every diagnostic (errors and warnings), located by file, line and column.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.check
            .diagnostics
            .iter()
            .map(|d| Diagnostic::of(d, &self.name))
            .collect()
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.check.error_count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.check.warning_count()
    }

    /// The text of the main file.
    pub fn main_text(&self) -> &str {
        self.sources.first().map_or("", |s| s.text.as_str())
    }

    /// The diagnostics rendered rustc style (file, line, column, the source line, a caret).
    pub fn render(&self) -> String {
        let sources: Vec<Source<'_>> = self
            .sources
            .iter()
            .map(|s| Source {
                name: &s.name,
                text: &s.text,
            })
            .collect();
        render_sources(&sources, &self.check.diagnostics)
    }

    /// The versioned `sxplan check --format json` document of this flowsheet.
    pub fn to_json(&self) -> String {
        sxplan_report::check::check_json(&[(self.name.as_str(), &self.check)])
    }
}

/// Checks a flowsheet given as text (`name` is what diagnostics call it). A flowsheet that
/// names `include` files needs them: use [`load_sources`] or [`load_path`].
pub fn load_str(name: &str, text: &str) -> Loaded {
    load_sources(vec![SourceFile {
        name: name.to_string(),
        text: text.to_string(),
    }])
}

/// Checks a flowsheet made of a main file (`sources[0]`) and the files it includes, in the
/// order of its `include` list.
pub fn load_sources(sources: Vec<SourceFile>) -> Loaded {
    let views: Vec<Source<'_>> = sources
        .iter()
        .map(|s| Source {
            name: &s.name,
            text: &s.text,
        })
        .collect();
    let check = check_sources(&views);
    Loaded {
        name: sources.first().map_or(String::new(), |s| s.name.clone()),
        sources,
        check,
    }
}

/// Reads the flowsheet at `path` with the files its `include` list names and checks them
/// together. Includes resolve relative to the main file's directory and must stay inside it
/// unless `options.allow_outside_includes`. `Err` when a file cannot be read, is not UTF-8 or
/// is an include the flowsheet may not name; errors in the flowsheet are in the [`Loaded`].
pub fn load_path(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let texts = files::read_with_includes(path.as_ref(), options)?;
    Ok(load_sources(
        texts
            .into_iter()
            .map(|(name, text)| SourceFile { name, text })
            .collect(),
    ))
}

/// The run budget of a solve: wall time and iterations. Unset fields come from the
/// flowsheet's `[solver]` table, then from [`Budget::default`] (60 s, 1,000,000 iterations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct RunLimits {
    /// Wall-time budget, s (needs a clock to be enforced).
    pub time_limit_s: Option<f64>,
    /// Iteration budget (chain iterations summed over the run).
    pub max_iterations: Option<usize>,
}

impl RunLimits {
    /// The budget of a run on `fs`: these limits, then `[solver]`, then the defaults.
    pub fn budget(&self, fs: Option<&Flowsheet>) -> Budget {
        let solver = fs.map(|f| f.solver).unwrap_or_default();
        let d = Budget::default();
        Budget {
            time_limit_s: self
                .time_limit_s
                .or(solver.time_limit_s)
                .unwrap_or(d.time_limit_s),
            max_iterations: self
                .max_iterations
                .or(solver.max_iterations)
                .unwrap_or(d.max_iterations),
        }
    }
}

/// How to simulate.
#[derive(Debug, Clone, Copy)]
pub struct SimulateSettings {
    /// Newton (default) or the independent cross-check, successive substitution.
    pub algorithm: Algorithm,
    /// Wall time and iterations.
    pub limits: RunLimits,
    /// Seconds since any fixed instant; without one the time limit is not enforced (the
    /// libraries never read a clock).
    pub clock: Option<fn() -> f64>,
    /// Called after each recycle iteration (progress displays).
    pub progress: Option<ProgressFn>,
}

impl Default for SimulateSettings {
    fn default() -> Self {
        SimulateSettings {
            algorithm: Algorithm::Newton,
            limits: RunLimits::default(),
            clock: None,
            progress: None,
        }
    }
}

/// Simulates `fs` at steady state. The result carries its status (converged, iteration
/// limit, time limit, diverged, infeasible), residuals and mass balance.
pub fn simulate(fs: &Flowsheet, settings: &SimulateSettings) -> Result<SimResult, Error> {
    let budget = settings.limits.budget(Some(fs));
    let options = SimOptions {
        algorithm: settings.algorithm,
        budget,
        deadline: budget.start(settings.clock),
        progress: settings.progress,
        ..SimOptions::default()
    };
    Ok(sxplan_sim::simulate(fs, &options)?)
}

/// The size of a flowsheet's stage graph, and the graph in Graphviz DOT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphSummary {
    /// Stage nodes.
    pub stages: usize,
    /// Streams between nodes.
    pub streams: usize,
    /// Recycles (tear streams).
    pub recycles: usize,
    /// The graph in Graphviz DOT.
    pub dot: String,
}

/// Expands `fs` into its stage graph and describes it.
pub fn graph(fs: &Flowsheet) -> Result<GraphSummary, Error> {
    let g = sxplan_graph::StageGraph::build(fs)?;
    Ok(GraphSummary {
        stages: g.n_stages(),
        streams: g.n_streams(),
        recycles: g.n_recycles(),
        dot: g.to_dot(),
    })
}

/// True for a plant flowsheet: one with a mud feed (leach in front of the circuits).
pub fn is_plant(fs: &Flowsheet) -> bool {
    fs.feeds.iter().any(|f| matches!(f.kind, FeedKind::Mud(_)))
}

/// How to optimize.
#[derive(Debug, Clone, Copy)]
pub struct OptimizeSettings {
    /// Objective (default: the flowsheet's `[optimize] objective`).
    pub objective: Option<Objective>,
    /// Successive-LP passes (default: `[optimize] max_passes`).
    pub max_passes: Option<usize>,
    /// LP backend.
    pub backend: Backend,
    /// Wall time of the whole run; iterations of each simulation.
    pub limits: RunLimits,
    /// Seconds since any fixed instant (time limit, per-pass timings); see [`SimulateSettings`].
    pub clock: Option<fn() -> f64>,
    /// Also simulate the flowsheet as written, before optimizing (the plant job reports it).
    pub simulate_written_point: bool,
    /// Also simulate the optimized point and, for a plant flowsheet, summarize the plant there.
    pub simulate_optimum: bool,
}

impl Default for OptimizeSettings {
    fn default() -> Self {
        OptimizeSettings {
            objective: None,
            max_passes: None,
            backend: Backend::Clarabel,
            limits: RunLimits::default(),
            clock: None,
            simulate_written_point: false,
            simulate_optimum: false,
        }
    }
}

/// What [`optimize`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimization {
    /// The flowsheet as written, simulated (when asked; the message when the simulator
    /// refused it).
    pub written_point: Option<Result<SimResult, String>>,
    /// How long that simulation took, s, read from the settings' clock (when there is one).
    pub written_point_s: Option<f64>,
    /// The optimizer's result: status, passes, the point, the flowsheet at the point.
    pub result: OptimizeResult,
    /// The optimized flowsheet as TOML text: the main source with the free variables
    /// rewritten (comments kept), when the status is optimal and a source was given; the
    /// message when it could not be written back.
    pub optimized_toml: Option<Result<String, String>>,
    /// The optimized point simulated by the product simulator (when asked).
    pub at_optimum: Option<Result<SimResult, String>>,
    /// The plant summary at the optimized point (plant flowsheets, when it was simulated).
    pub plant: Option<PlantSummary>,
    /// The top of the report at the optimized point (when it was simulated): specs, annual
    /// figures, binding limits, costs, equipment ([`overview`]).
    pub summary: Option<Overview>,
}

impl Optimization {
    /// The versioned `sxplan optimize --format json` document.
    pub fn to_json(&self) -> String {
        sxplan_report::optimize::render_json_with_summary(
            &self.result.flowsheet.name,
            &self.result,
            self.summary.as_ref(),
        )
    }
}

/// Optimizes the operating point of `fs` by successive LP. `source` is the main file's text
/// (`Loaded::main_text`), from which the optimized TOML is written back. The run's budget
/// starts with this call.
pub fn optimize(
    fs: &Flowsheet,
    source: Option<&str>,
    settings: &OptimizeSettings,
) -> Result<Optimization, Error> {
    let budget = settings.limits.budget(Some(fs));
    let deadline = budget.start(settings.clock);
    let t0 = settings.clock.map(|c| c());
    let written_point = settings
        .simulate_written_point
        .then(|| simulate_plain(fs, Deadline::NONE));
    let written_point_s = match (settings.clock, t0, &written_point) {
        (Some(c), Some(t0), Some(_)) => Some(c() - t0),
        _ => None,
    };
    let mut opts = OptimizeOptions {
        objective: settings.objective,
        max_passes: settings.max_passes,
        clock: settings.clock,
        deadline,
        max_sim_iterations: budget.max_iterations,
        ..OptimizeOptions::default()
    };
    opts.lp.backend = settings.backend;
    let result = sxplan_opt::optimize(fs, &opts)?;
    let optimal = result.status == OptStatus::Optimal;
    let optimized_toml = match source {
        Some(src) if optimal => Some(
            sxplan_model::operating::optimized_toml(src, &result.flowsheet, &result.point.values)
                .map_err(|e| e.to_string()),
        ),
        _ => None,
    };
    let at_optimum = settings
        .simulate_optimum
        .then(|| simulate_plain(&result.flowsheet, Deadline::NONE));
    let plant = match &at_optimum {
        Some(Ok(sim)) if is_plant(fs) => Some(sxplan_report::plant::plant_summary(
            &result.flowsheet,
            sim,
            Some(&result),
            &PlantOptions::default(),
        )),
        _ => None,
    };
    let summary = match &at_optimum {
        Some(Ok(sim)) => Some(overview(&result.flowsheet, sim, Some(&result))),
        _ => None,
    };
    Ok(Optimization {
        written_point,
        written_point_s,
        result,
        optimized_toml,
        at_optimum,
        plant,
        summary,
    })
}

/// A simulation with the default options, the simulator's refusal as its message.
fn simulate_plain(fs: &Flowsheet, deadline: Deadline) -> Result<SimResult, String> {
    let options = SimOptions {
        deadline,
        ..SimOptions::default()
    };
    sxplan_sim::simulate(fs, &options).map_err(|e| e.to_string())
}

/// What happens during [`circuit_cut`] and [`design`], for progress displays.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum DesignEvent {
    /// The circuit is fed from inside the flowsheet: the flowsheet is simulated for its feed.
    SimulatingFeed,
    /// That simulation ended.
    FeedSimulated,
    /// The rigorous stage search ended with this status.
    SearchDone(SearchStatus),
    /// A sensitivity point at this W/W_min starts.
    Reflux(f64),
    /// A sensitivity point at this impurity factor starts.
    Purity(f64),
    /// A sensitivity point ended.
    PointDone,
}

/// The cut of circuit `circuit` of `fs`, with `overrides` (keys, purities, reflux, acid
/// excess; a `feed` given there is used as is). A circuit fed from inside the flowsheet gets
/// its feed from a simulation of the flowsheet. `reagents` turns ratios into flows (its feed
/// rate defaults to the circuit's).
pub fn circuit_cut(
    fs: &Flowsheet,
    circuit: &str,
    mut overrides: CircuitOverrides,
    reagents: Option<ReagentBasis>,
    on_event: &mut dyn FnMut(DesignEvent),
) -> Result<CircuitCut, Error> {
    use sxplan_design::flowsheet::{cut_from_circuit, feed_from_simulation, feed_needs_simulation};
    if overrides.feed.is_none() && feed_needs_simulation(fs, circuit) {
        on_event(DesignEvent::SimulatingFeed);
        let r = sxplan_sim::simulate(fs, &SimOptions::default());
        on_event(DesignEvent::FeedSimulated);
        let r = r?;
        if !r.status.is_converged() {
            return Err(Error::Request(format!(
                "the simulation that gives the feed of circuit \"{circuit}\" ended {}; its feed would not be trustworthy",
                r.status.as_str()
            )));
        }
        overrides.feed = Some(feed_from_simulation(fs, circuit, &r).ok_or_else(|| {
            Error::Request(format!(
                "no simulated stream enters circuit \"{circuit}\" at its feed point"
            ))
        })?);
    }
    let mut cut = cut_from_circuit(fs, circuit, &overrides)?;
    if let Some(mut basis) = reagents {
        basis.feed_rate = basis.feed_rate.or(Some(cut.feed_rate));
        cut.spec.reagents = Some(basis);
    }
    Ok(cut)
}

/// The purity or recovery targets of a cut: two of the four, at least one a purity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct CutTargets {
    /// Purity of the organic (A) product, mole fraction.
    pub purity_a: Option<f64>,
    /// Purity of the aqueous (B) product.
    pub purity_b: Option<f64>,
    /// Recovery of A into its product.
    pub recovery_a: Option<f64>,
    /// Recovery of B into its product.
    pub recovery_b: Option<f64>,
}

/// `spec` with its purities set from `targets` (a recovery turned into the purity it
/// implies from the feed's group fractions).
pub fn with_targets(mut spec: CutSpec, targets: &CutTargets) -> Result<CutSpec, Error> {
    let x_a = sxplan_design::group_fraction_a(&spec)?;
    let (purity_a, purity_b) = sxplan_design::shortcut::purities_from_specs(
        x_a,
        targets.purity_a,
        targets.purity_b,
        targets.recovery_a,
        targets.recovery_b,
    )?;
    spec.purity_a = purity_a;
    spec.purity_b = purity_b;
    Ok(spec)
}

/// How to design.
#[derive(Debug, Clone, Copy)]
pub struct DesignSettings {
    /// Largest total number of stages the rigorous search tries.
    pub max_stages: usize,
    /// Wall time of the search; `max_iterations` counts simulated candidates.
    pub limits: RunLimits,
    /// Seconds since any fixed instant; see [`SimulateSettings`].
    pub clock: Option<fn() -> f64>,
    /// Also compute stages against purity and against W/W_min.
    pub sensitivity: bool,
}

impl Default for DesignSettings {
    fn default() -> Self {
        DesignSettings {
            max_stages: 1000,
            limits: RunLimits::default(),
            clock: None,
            sensitivity: false,
        }
    }
}

/// What [`design`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Shortcut and rigorous results.
    pub design: CutDesign,
    /// Stages against reflux and purity, when asked.
    pub sensitivity: Option<sxplan_design::Sensitivity>,
}

impl Design {
    /// The versioned `sxplan design --format json` document.
    pub fn to_json(&self) -> String {
        sxplan_report::design::to_json(&self.design, self.sensitivity.as_ref())
    }

    /// True when the search found stage numbers and the second solver (when it ran) agrees.
    pub fn is_confirmed(&self) -> bool {
        self.design.rigorous.status == SearchStatus::Found
            && self.design.rigorous.confirmation.is_none_or(|c| c.agrees)
    }

    /// The designed circuit as TOML, ready to simulate (for a cut read from `fs`).
    pub fn circuit_toml(&self, fs: &Flowsheet, cut: &CircuitCut) -> Option<String> {
        sxplan_design::flowsheet::designed_circuit_toml(fs, cut, &self.design)
    }

    /// The whole flowsheet `src` (the main file of `fs`) with the designed circuit in place of
    /// the old one, checked; feeds, links, products, specs and `[optimize]` kept
    /// ([`sxplan_design::flowsheet::designed_flowsheet_toml`]). The error says why it cannot
    /// be written.
    pub fn flowsheet_toml(
        &self,
        src: &str,
        fs: &Flowsheet,
        cut: &CircuitCut,
    ) -> Result<String, String> {
        sxplan_design::flowsheet::designed_flowsheet_toml(src, fs, cut, &self.design)
    }
}

/// Sizes the cut `spec` from cascade theory and finds the fewest stages that meet both
/// purities with the rigorous simulator; `fs` (the flowsheet of a circuit's cut) supplies its
/// `[solver]` budget.
pub fn design(
    spec: &CutSpec,
    fs: Option<&Flowsheet>,
    settings: &DesignSettings,
    on_event: &mut dyn FnMut(DesignEvent),
) -> Result<Design, Error> {
    use sxplan_design::sensitivity::{stages_vs_purity, stages_vs_reflux, Sensitivity};
    let budget = settings.limits.budget(fs);
    let options = SearchOptions {
        max_stages: settings.max_stages,
        deadline: budget.start(settings.clock),
        max_evaluations: budget.max_iterations,
    };
    let design = sxplan_design::design_cut(spec, &options)?;
    on_event(DesignEvent::SearchDone(design.rigorous.status));
    if !settings.sensitivity {
        return Ok(Design {
            design,
            sensitivity: None,
        });
    }
    let mut sens = Sensitivity {
        vs_reflux: Vec::new(),
        vs_purity: Vec::new(),
    };
    for r in DEFAULT_REFLUX_RATIOS {
        on_event(DesignEvent::Reflux(r));
        sens.vs_reflux
            .extend(stages_vs_reflux(spec, &[r], &options)?);
        on_event(DesignEvent::PointDone);
    }
    for k in DEFAULT_IMPURITY_FACTORS {
        on_event(DesignEvent::Purity(k));
        sens.vs_purity
            .extend(stages_vs_purity(spec, &[k], &options)?);
        on_event(DesignEvent::PointDone);
    }
    Ok(Design {
        design,
        sensitivity: Some(sens),
    })
}

/// Number of points [`design`] computes (search plus sensitivity), for progress bars.
pub fn design_points(sensitivity: bool) -> usize {
    1 + if sensitivity {
        DEFAULT_REFLUX_RATIOS.len() + DEFAULT_IMPURITY_FACTORS.len()
    } else {
        0
    }
}

/// Kremser's countercurrent extraction of a single solute with fresh organic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Kremser {
    /// Distribution ratio D.
    pub d_ratio: f64,
    /// Organic/aqueous flow ratio.
    pub ratio_oa: f64,
    /// Extraction factor E = D O/A.
    pub extraction_factor: f64,
    /// Fraction to extract.
    pub fraction_extracted: f64,
    /// Theoretical stages for it.
    pub n_stages: f64,
    /// Whole stages (at least 1).
    pub n_stages_whole: f64,
    /// Fraction the whole stages extract.
    pub fraction_extracted_whole: f64,
}

/// Kremser stages to extract `fraction` of a solute with distribution ratio `d_ratio` at
/// organic/aqueous ratio `ratio_oa`. `Err(Request)` when no finite number of stages does it.
pub fn kremser(d_ratio: f64, ratio_oa: f64, fraction: f64) -> Result<Kremser, Error> {
    use sxplan_design::shortcut::{kremser_fraction_unextracted, kremser_stages};
    let e = d_ratio * ratio_oa;
    let n = kremser_stages(e, 1.0, 1.0 - fraction, 0.0)?;
    if !n.is_finite() {
        return Err(Error::Request(format!(
            "no finite number of stages for extraction factor {}",
            sxplan_model::diagnostic::fmt_number(e)
        )));
    }
    let whole = n.ceil().max(1.0);
    let left = kremser_fraction_unextracted(e, whole)?;
    Ok(Kremser {
        d_ratio,
        ratio_oa,
        extraction_factor: e,
        fraction_extracted: fraction,
        n_stages: n,
        n_stages_whole: whole,
        fraction_extracted_whole: 1.0 - left,
    })
}

/// The mud feed of a plant flowsheet: rate (t/h) and grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MudFeed {
    /// Dry mud, t/h.
    pub t_per_h: f64,
    /// Grade name (`sxplan_chem::mud`).
    pub grade: String,
}

/// The (first) mud feed of `fs`, if it has one.
pub fn mud_feed(fs: &Flowsheet) -> Option<MudFeed> {
    fs.feeds.iter().find_map(|f| match &f.kind {
        FeedKind::Mud(m) => Some(MudFeed {
            t_per_h: m.flow_mass,
            grade: m.grade.clone(),
        }),
        _ => None,
    })
}

/// One plant scenario: mud rate, grade and price set.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Scenario {
    /// Dry mud, t/h.
    pub mud_t_per_h: f64,
    /// Mud grade.
    pub grade: String,
    /// Built-in price set (default: the flowsheet's).
    pub prices: Option<String>,
}

/// `Err(Request)` when `grade` is not a built-in mud grade.
pub fn check_grade(grade: &str) -> Result<(), Error> {
    match sxplan_chem::mud::grade(grade) {
        Some(_) => Ok(()),
        None => Err(Error::Request(format!("unknown mud grade \"{grade}\""))),
    }
}

/// `Err(Request)` when `set` is not a built-in price set.
pub fn check_price_set(set: &str) -> Result<(), Error> {
    match sxplan_chem::prices::price_set(set) {
        Some(_) => Ok(()),
        None => Err(Error::Request(format!("unknown price set \"{set}\""))),
    }
}

/// The plant `base` scaled linearly to the scenario's mud rate, with its grade and price set.
///
/// The mud feed, every other feed, every circuit's organic, scrub and strip flows, the
/// hydraulic capacities and the optimizer's flow bounds are multiplied by (new mud rate /
/// flowsheet mud rate). Ratios, stage numbers and equilibrium data stay as written, so a
/// scaled plant separates exactly as the original.
pub fn scale_plant(base: &Flowsheet, scenario: &Scenario) -> Flowsheet {
    let mut fs = base.clone();
    let k = mud_feed(base).map_or(1.0, |m| {
        if m.t_per_h > 0.0 {
            scenario.mud_t_per_h / m.t_per_h
        } else {
            1.0
        }
    });
    for f in &mut fs.feeds {
        match &mut f.kind {
            FeedKind::Mud(m) => {
                m.flow_mass *= k;
                m.grade = scenario.grade.clone();
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
    if let (Some(p), Some(id)) = (&mut fs.prices, &scenario.prices) {
        p.set = Some(id.clone());
    }
    fs
}

/// One scenario's outcome: its status and the plant summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioOutcome {
    /// `optimal` or the optimizer's status when optimized, else the simulation's status.
    pub status: String,
    /// The plant summary at the scenario's (optimized) point.
    pub summary: PlantSummary,
    /// Why the run did not end `converged` / `optimal`, with the simulator's own numbers
    /// (the acid/base diagnosis, the residuals and the budget, the optimizer's conflicts);
    /// `None` when it did.
    pub reason: Option<String>,
}

impl ScenarioOutcome {
    /// The plant summary as the JSON document `plant_summary.json` of a report, with the
    /// scenario's status added as `scenario_status`.
    pub fn to_json(&self) -> String {
        let mut v = sxplan_report::plant::to_json(&self.summary);
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("scenario_status".into(), self.status.clone().into());
        }
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }
}

/// Runs plant `fs` (already scaled by [`scale_plant`]): optimized first when `optimize`,
/// simulated, and summarized with `plant_options`.
pub fn run_scenario(
    fs: &Flowsheet,
    optimize: bool,
    plant_options: &PlantOptions,
) -> Result<ScenarioOutcome, Error> {
    let (fs_point, opt) = if optimize {
        let r = sxplan_opt::optimize(fs, &OptimizeOptions::default())?;
        (r.flowsheet.clone(), Some(r))
    } else {
        (fs.clone(), None)
    };
    let sim = sxplan_sim::simulate(&fs_point, &SimOptions::default())?;
    let summary = sxplan_report::plant::plant_summary(&fs_point, &sim, opt.as_ref(), plant_options);
    let status = match &opt {
        Some(o) if o.status == OptStatus::Optimal => "optimal".to_string(),
        Some(o) => o.status.as_str().to_string(),
        None => summary.sim_status.clone(),
    };
    let reason = (status != "converged" && status != "optimal").then(|| {
        let d = &sim.diagnostics;
        let mut why = Vec::new();
        if let Some(o) = &opt {
            if o.status != OptStatus::Optimal {
                why.push(match &o.reason {
                    Some(r) => format!("the optimizer ended {}: {r}", o.status.as_str()),
                    None => format!("the optimizer ended {}", o.status.as_str()),
                });
                why.extend(o.conflicts.iter().take(3).map(|c| {
                    format!(
                        "{} violated by {:.3e} (relative)",
                        c.constraint, c.relative_violation
                    )
                }));
            }
        }
        if sim.status != sxplan_sim::SolveStatus::Converged {
            why.push(format!("the simulation ended {}", summary.sim_status));
            if d.acid_base.is_empty() {
                why.push(format!(
                    "largest stage residual {:.3e}, recycle residual {:.3e} after {} iterations ({:.1} s)",
                    d.max_stage_residual,
                    d.recycle_residual,
                    d.budget.iterations,
                    d.budget.elapsed_s.unwrap_or(0.0)
                ));
            }
            why.extend(d.acid_base.iter().cloned());
        }
        why.join("; ")
    });
    Ok(ScenarioOutcome {
        status,
        summary,
        reason,
    })
}

/// The versioned simulate document of `result` without the report's `summary` (which needs
/// the flowsheet: [`simulation_json_with_summary`] is what the CLI prints).
pub fn simulation_json(result: &SimResult) -> String {
    sxplan_report::simulate::to_json(result)
}

/// The feed elements of circuit `circuit` of `fs` for [`synthesize`]: their separation factors
/// from the circuit's `separation_factor` model and their feed (mol/h), simulated when the
/// circuit is fed from inside the flowsheet.
pub fn synthesis_feed(fs: &Flowsheet, circuit: &str) -> Result<Vec<SynthElement>, Error> {
    let overrides = synthesis_keys(fs, circuit);
    let cut = circuit_cut(fs, circuit, overrides, None, &mut |_| {})?;
    let total: f64 = cut.spec.components.iter().map(|c| c.feed).sum();
    let scale = if total > 0.0 {
        cut.feed_rate / total
    } else {
        1.0
    };
    Ok(cut
        .spec
        .components
        .iter()
        .map(|c| SynthElement {
            name: c.name.clone(),
            sep_factor: c.sep_factor,
            feed: c.feed * scale,
        })
        .collect())
}

/// Keys and purities that let the feed of `circuit` be read as a cut: the cut's own keys and
/// purities do not matter there, only its feed and betas, so the least and the most
/// extractable element of the model stand in for the keys.
pub(crate) fn synthesis_keys(fs: &Flowsheet, circuit: &str) -> CircuitOverrides {
    let ends = fs
        .circuit_by_name(circuit)
        .and_then(|c| match &c.equilibrium {
            sxplan_model::Equilibrium::SeparationFactor(m) => {
                let lo = m
                    .beta
                    .iter()
                    .min_by(|a, b| a.1.total_cmp(b.1))
                    .map(|x| *x.0);
                let hi = m
                    .beta
                    .iter()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|x| *x.0);
                Some((lo, hi))
            }
            _ => None,
        });
    CircuitOverrides {
        key_b: ends.and_then(|e| e.0),
        key_a: ends.and_then(|e| e.1),
        purity_a: Some(0.9),
        purity_b: Some(0.9),
        ..CircuitOverrides::default()
    }
}

/// The best separation trains for `spec` ([`sxplan_design::synthesis`]): every candidate cut
/// sized by Xu's shortcut, the trains ranked by an interval dynamic program.
pub fn synthesize(spec: &SynthesisSpec) -> Result<Synthesis, Error> {
    Ok(sxplan_design::synthesis::synthesize(spec)?)
}

/// A train written in bracket notation, costed like [`synthesize`]'s (a plant's own sequence).
pub fn synthesis_train(spec: &SynthesisSpec, notation: &str) -> Result<SynthTrain, Error> {
    Ok(sxplan_design::synthesis::evaluate(spec, notation)?)
}

/// The top of every report: status, specs with pass/fail and margin, annual figures, binding
/// limits, costs with their price sources, mixer-settler sizing and organic inventory. Pass
/// the flowsheet at the simulated point (`OptimizeResult::flowsheet` after an optimization).
pub fn overview(fs: &Flowsheet, sim: &SimResult, opt: Option<&OptimizeResult>) -> Overview {
    sxplan_report::overview::overview(fs, sim, opt)
}

/// The top of a design's report: the designed circuit (`Design::circuit_toml`, a standalone
/// flowsheet with the flowsheet's own products and specs) simulated and summarized, so the
/// design is judged as a simulate report is (specs with margins, annual figures, costs,
/// equipment). `None` when the designed TOML does not check or does not simulate to a steady
/// state (the design's own confirmation says why).
pub fn design_overview(designed_toml: &str) -> Option<Overview> {
    let loaded = load_str("designed circuit", designed_toml);
    let fs = loaded.flowsheet().ok()?;
    let sim = simulate_plain(fs, Deadline::NONE).ok()?;
    sim.status.is_converged().then(|| overview(fs, &sim, None))
}

/// [`simulation_json`] with the overview of [`overview`] as its last field `summary`: the
/// JSON `sxplan simulate --format json` prints (docs/simulate-json.md).
pub fn simulation_json_with_summary(fs: &Flowsheet, result: &SimResult) -> String {
    let summary = overview(fs, result, None);
    sxplan_report::simulate::to_json_with_summary(result, Some(&summary))
}
