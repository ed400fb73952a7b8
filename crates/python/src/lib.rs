//! The native module `sxplan._sxplan`: the Rust facade (`sxplan::api`) for Python.
//!
//! Each function loads a flowsheet (from its text or a path), runs one facade call with the
//! GIL released, and returns the same versioned JSON document the CLI prints (`--format json`),
//! so Python sees exactly the CLI's numbers; the Python layer (`python/sxplan/__init__.py`)
//! wraps it in result objects. Stage profiles leave as packed f64 columns (`bytes`), which
//! numpy maps without converting element by element. Flowsheet errors raise `FlowsheetError`
//! with the located diagnostics.

use std::sync::OnceLock;
use std::time::Instant;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use sxplan::api::{self, Loaded};

create_exception!(
    _sxplan,
    SxplanError,
    PyException,
    "Base class of sxplan's errors."
);
create_exception!(
    _sxplan,
    FlowsheetError,
    SxplanError,
    "The flowsheet cannot be read or has errors; `diagnostics` lists them with file, line and column."
);
create_exception!(
    _sxplan,
    SolverError,
    SxplanError,
    "The simulator, optimizer or design refused the input, or a backend is unavailable."
);

/// Seconds since the first call: the clock of the time limits (the libraries never read one).
fn clock() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// One problem found in a flowsheet, located.
#[pyclass(frozen, get_all, module = "sxplan._sxplan")]
#[derive(Clone)]
struct Diagnostic {
    /// The file the problem is in.
    file: String,
    /// 1-based line.
    line: usize,
    /// 1-based column, in characters.
    column: usize,
    /// `"error"` or `"warning"`.
    severity: String,
    /// Stable code such as `E0203`.
    code: String,
    /// What is wrong, naming the thing and the value.
    message: String,
    /// How to fix it, or None.
    help: Option<String>,
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        format!(
            "Diagnostic({}:{}:{}: {}[{}]: {})",
            self.file, self.line, self.column, self.severity, self.code, self.message
        )
    }
}

impl From<&api::Diagnostic> for Diagnostic {
    fn from(d: &api::Diagnostic) -> Self {
        Diagnostic {
            file: d.file.clone(),
            line: d.line,
            column: d.column,
            severity: d.severity.as_str().to_string(),
            code: d.code.clone(),
            message: d.message.clone(),
            help: d.help.clone(),
        }
    }
}

/// A `FlowsheetError` carrying `diagnostics` (list of `Diagnostic`) and `rendered` (the
/// rustc-style text the CLI prints).
fn flowsheet_error(
    py: Python<'_>,
    message: String,
    diagnostics: &[api::Diagnostic],
    rendered: String,
) -> PyErr {
    let err = FlowsheetError::new_err(message);
    let value = err.value(py);
    let list: Vec<Diagnostic> = diagnostics.iter().map(Diagnostic::from).collect();
    if let Err(e) = value
        .setattr("diagnostics", list)
        .and_then(|()| value.setattr("rendered", rendered))
    {
        return e;
    }
    err
}

/// The Python exception of a facade error.
fn to_py(py: Python<'_>, e: api::Error) -> PyErr {
    match e {
        api::Error::Load(api::LoadError::Input {
            diagnostic,
            rendered,
        }) => flowsheet_error(
            py,
            format!("error: {}", diagnostic.message),
            std::slice::from_ref(&*diagnostic),
            rendered,
        ),
        api::Error::Load(e) => flowsheet_error(py, e.to_string(), &[], String::new()),
        api::Error::Invalid { name, diagnostics } => {
            let rendered = diagnostics
                .iter()
                .map(|d| {
                    format!(
                        "{}[{}]: {}\n --> {}:{}:{}\n",
                        d.severity.as_str(),
                        d.code,
                        d.message,
                        d.file,
                        d.line,
                        d.column
                    )
                })
                .collect::<String>();
            let first = diagnostics
                .iter()
                .find(|d| d.severity == sxplan::model::Severity::Error)
                .map(|d| {
                    format!(
                        " (first: {}:{}:{}: {})",
                        d.file, d.line, d.column, d.message
                    )
                })
                .unwrap_or_default();
            let n = diagnostics
                .iter()
                .filter(|d| d.severity == sxplan::model::Severity::Error)
                .count();
            flowsheet_error(
                py,
                format!(
                    "could not load `{name}`: {n} error{}{first}",
                    if n == 1 { "" } else { "s" }
                ),
                &diagnostics,
                rendered,
            )
        }
        e => SolverError::new_err(e.to_string()),
    }
}

/// Loads a flowsheet from its text (`is_path` false; `name` names it in diagnostics) or from
/// a path with its includes.
fn load(py: Python<'_>, source: &str, is_path: bool, name: &str) -> PyResult<Loaded> {
    let loaded = if is_path {
        let path = source.to_string();
        py.detach(move || api::load_path(&path, &api::LoadOptions::default()))
            .map_err(|e| to_py(py, e.into()))?
    } else {
        api::load_str(name, source)
    };
    if let Err(e) = loaded.flowsheet() {
        // the rustc-style text the CLI prints, with the source lines
        let err = to_py(py, e);
        err.value(py).setattr("rendered", loaded.render())?;
        return Err(err);
    }
    Ok(loaded)
}

/// `sxplan check --format json` of one flowsheet: the document, as text (never raises for
/// errors in the flowsheet: they are in the document).
#[pyfunction]
#[pyo3(signature = (source, is_path=false, name="<string>"))]
fn check(py: Python<'_>, source: &str, is_path: bool, name: &str) -> PyResult<String> {
    let loaded = if is_path {
        let path = source.to_string();
        py.detach(move || api::load_path(&path, &api::LoadOptions::default()))
            .map_err(|e| to_py(py, e.into()))?
    } else {
        api::load_str(name, source)
    };
    Ok(loaded.to_json())
}

/// A simulation result: its JSON document and its stage profiles as packed columns.
#[pyclass(frozen, module = "sxplan._sxplan")]
struct Simulation {
    result: sxplan::sim::SimResult,
    /// The flowsheet simulated, for the JSON's `summary` (specs, annual figures, costs).
    flowsheet: sxplan::model::Flowsheet,
    /// The JSON document, rendered on first use: a loop that reads only the status or a few
    /// profiles does not pay for rendering every stream and stage.
    json: OnceLock<String>,
}

#[pymethods]
impl Simulation {
    /// The `sxplan simulate --format json` document.
    #[getter]
    fn json(&self) -> &str {
        self.json
            .get_or_init(|| api::simulation_json_with_summary(&self.flowsheet, &self.result))
            .as_str()
    }

    /// The overall status (`converged`, `iteration_limit`, ...), without the JSON.
    #[getter]
    fn status(&self) -> &'static str {
        self.result.status.as_str()
    }

    /// Names of the circuits, in order.
    fn circuits(&self) -> Vec<String> {
        self.result
            .circuits
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    /// The stage profile of `circuit`: (column names, packed little-endian f64 column-major
    /// data, number of stages). Columns: stage, flow_vol_aq, flow_vol_org, acidity_mol_per_l,
    /// ph, loading_mol_per_l, then conc_aq_<El> and conc_org_<El> per element.
    fn profile<'py>(
        &self,
        py: Python<'py>,
        circuit: &str,
    ) -> PyResult<(Vec<String>, Bound<'py, PyBytes>, usize)> {
        let c = self
            .result
            .circuits
            .iter()
            .find(|c| c.name == circuit)
            .ok_or_else(|| {
                PyValueError::new_err(format!("no circuit \"{circuit}\" in the result"))
            })?;
        let elements = &self.result.elements;
        let mut names: Vec<String> = [
            "stage",
            "flow_vol_aq",
            "flow_vol_org",
            "acidity_mol_per_l",
            "ph",
            "loading_mol_per_l",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for e in elements {
            names.push(format!("conc_aq_{}", e.symbol()));
        }
        for e in elements {
            names.push(format!("conc_org_{}", e.symbol()));
        }
        let n = c.stages.len();
        let mut data: Vec<f64> = Vec::with_capacity(names.len() * n);
        data.extend(c.stages.iter().map(|s| s.stage as f64));
        data.extend(c.stages.iter().map(|s| s.flow_vol_aq));
        data.extend(c.stages.iter().map(|s| s.flow_vol_org));
        data.extend(c.stages.iter().map(|s| s.acidity_mol_per_l));
        data.extend(c.stages.iter().map(|s| s.ph));
        data.extend(c.stages.iter().map(|s| s.loading_mol_per_l));
        for e in elements {
            data.extend(
                c.stages
                    .iter()
                    .map(|s| s.conc_aq.get(e).copied().unwrap_or(0.0)),
            );
        }
        for e in elements {
            data.extend(
                c.stages
                    .iter()
                    .map(|s| s.conc_org.get(e).copied().unwrap_or(0.0)),
            );
        }
        let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
        Ok((names, PyBytes::new(py, &bytes), n))
    }
}

/// Simulates a flowsheet; the GIL is released during the solve.
#[pyfunction]
#[pyo3(signature = (source, is_path=false, name="<string>", substitution=false, time_limit=None, max_iterations=None))]
fn simulate(
    py: Python<'_>,
    source: &str,
    is_path: bool,
    name: &str,
    substitution: bool,
    time_limit: Option<f64>,
    max_iterations: Option<usize>,
) -> PyResult<Simulation> {
    let loaded = load(py, source, is_path, name)?;
    let settings = api::SimulateSettings {
        algorithm: if substitution {
            sxplan::sim::Algorithm::Substitution
        } else {
            sxplan::sim::Algorithm::Newton
        },
        limits: api::RunLimits {
            time_limit_s: time_limit,
            max_iterations,
        },
        clock: Some(clock),
        progress: None,
    };
    let result = py.detach(move || {
        let fs = loaded.flowsheet()?;
        api::simulate(fs, &settings).map(|r| (r, fs.clone()))
    });
    let (result, flowsheet) = result.map_err(|e| to_py(py, e))?;
    Ok(Simulation {
        result,
        flowsheet,
        json: OnceLock::new(),
    })
}

/// Optimizes a flowsheet's operating point: (the `sxplan optimize --format json` document,
/// the optimized flowsheet as TOML or None, why it is None or None). The GIL is released.
#[pyfunction]
#[pyo3(signature = (source, is_path=false, name="<string>", objective=None, max_passes=None, backend="clarabel", time_limit=None, max_iterations=None))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments, one per option
fn optimize(
    py: Python<'_>,
    source: &str,
    is_path: bool,
    name: &str,
    objective: Option<&str>,
    max_passes: Option<usize>,
    backend: &str,
    time_limit: Option<f64>,
    max_iterations: Option<usize>,
) -> PyResult<(String, Option<String>, Option<String>)> {
    let loaded = load(py, source, is_path, name)?;
    let objective = objective
        .map(|o| match o {
            "max_throughput" => Ok(sxplan::model::Objective::MaxThroughput),
            "min_reagent_cost" => Ok(sxplan::model::Objective::MinReagentCost),
            "max_margin" => Ok(sxplan::model::Objective::MaxMargin),
            _ => Err(PyValueError::new_err(format!(
                "unknown objective \"{o}\" (max_throughput, min_reagent_cost, max_margin)"
            ))),
        })
        .transpose()?;
    let backend = sxplan::opt::Backend::parse(backend).ok_or_else(|| {
        PyValueError::new_err(format!("unknown backend \"{backend}\" (clarabel, highs)"))
    })?;
    let settings = api::OptimizeSettings {
        objective,
        max_passes,
        backend,
        limits: api::RunLimits {
            time_limit_s: time_limit,
            max_iterations,
        },
        clock: Some(clock),
        // as the CLI: the optimum simulated, for the document's `summary`
        simulate_optimum: true,
        ..api::OptimizeSettings::default()
    };
    let run = py.detach(move || {
        let fs = loaded.flowsheet()?;
        let run = api::optimize(fs, Some(loaded.main_text()), &settings)?;
        Ok::<_, api::Error>((run.to_json(), run.optimized_toml))
    });
    let (json, toml) = run.map_err(|e| to_py(py, e))?;
    Ok(match toml {
        Some(Ok(t)) => (json, Some(t), None),
        Some(Err(e)) => (json, None, Some(e)),
        None => (json, None, None),
    })
}

/// Designs circuit `circuit` of a flowsheet: (the `sxplan design --format json` document, the
/// designed circuit as TOML or None). The GIL is released.
#[pyfunction]
#[pyo3(signature = (source, circuit, is_path=false, name="<string>", purity_a=None, purity_b=None, sensitivity=false, max_stages=1000))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments, one per option
fn design(
    py: Python<'_>,
    source: &str,
    circuit: &str,
    is_path: bool,
    name: &str,
    purity_a: Option<f64>,
    purity_b: Option<f64>,
    sensitivity: bool,
    max_stages: usize,
) -> PyResult<(String, Option<String>)> {
    let loaded = load(py, source, is_path, name)?;
    let circuit = circuit.to_string();
    let settings = api::DesignSettings {
        max_stages,
        clock: Some(clock),
        sensitivity,
        ..api::DesignSettings::default()
    };
    let run = py.detach(move || {
        let fs = loaded.flowsheet()?;
        let overrides = sxplan::design::flowsheet::CircuitOverrides {
            purity_a,
            purity_b,
            ..Default::default()
        };
        let cut = api::circuit_cut(fs, &circuit, overrides, None, &mut |_| {})?;
        let d = api::design(&cut.spec, Some(fs), &settings, &mut |_| {})?;
        Ok::<_, api::Error>((d.to_json(), d.circuit_toml(fs, &cut)))
    });
    run.map_err(|e| to_py(py, e))
}

/// Runs a plant flowsheet (one with a mud feed) over mud rates (t/day), grades and price sets:
/// the plant scaled to each (`sxplan scenarios`), optimized first when `optimize`; one plant
/// summary document per scenario, in grid order (mud, then grade, then prices). Empty lists
/// mean the flowsheet's own value. The GIL is released.
#[pyfunction]
#[pyo3(signature = (source, is_path=false, name="<string>", mud_t_per_day=Vec::new(), grades=Vec::new(), prices=Vec::new(), optimize=false))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments, one per option
fn scenarios(
    py: Python<'_>,
    source: &str,
    is_path: bool,
    name: &str,
    mud_t_per_day: Vec<f64>,
    grades: Vec<String>,
    prices: Vec<String>,
    optimize: bool,
) -> PyResult<Vec<String>> {
    let loaded = load(py, source, is_path, name)?;
    let run = py.detach(move || {
        let fs = loaded.flowsheet()?;
        let mud = api::mud_feed(fs).ok_or_else(|| {
            api::Error::Request("scenarios need a flowsheet with a mud feed".into())
        })?;
        let muds = if mud_t_per_day.is_empty() {
            vec![mud.t_per_h]
        } else {
            mud_t_per_day.iter().map(|m| m / 24.0).collect()
        };
        for g in &grades {
            api::check_grade(g)?;
        }
        for p in &prices {
            api::check_price_set(p)?;
        }
        let grades = if grades.is_empty() {
            vec![mud.grade.clone()]
        } else {
            grades
        };
        let prices: Vec<Option<String>> = if prices.is_empty() {
            vec![None]
        } else {
            prices.into_iter().map(Some).collect()
        };
        let plant = api::PlantOptions::default();
        let mut out = Vec::new();
        for m in &muds {
            for g in &grades {
                for p in &prices {
                    let scenario = api::Scenario {
                        mud_t_per_h: *m,
                        grade: g.clone(),
                        prices: p.clone(),
                    };
                    let scaled = api::scale_plant(fs, &scenario);
                    out.push(api::run_scenario(&scaled, optimize, &plant)?.to_json());
                }
            }
        }
        Ok::<_, api::Error>(out)
    });
    run.map_err(|e| to_py(py, e))
}

/// The native part of the `sxplan` package.
/// `sxplan fit`: the fit document (as `sxplan fit --format json`) and the
/// `[circuit.equilibrium]` fragment of shake-out data given as CSV text (`name` names it in
/// messages and in the fragment's `source`). Malformed or non-identifying data raise
/// `ValueError` with the located message the CLI prints. The GIL is released.
#[pyfunction]
#[pyo3(signature = (text, name="<string>", model="empirical", fit_a1=false, fix_c=None, n_extractant=3.0, fit_n=false, z_proton=None, fit_z=false, ref_ph=None, ref_extractant=None))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments, one per option
fn fit(
    py: Python<'_>,
    text: &str,
    name: &str,
    model: &str,
    fit_a1: bool,
    fix_c: Option<f64>,
    n_extractant: f64,
    fit_n: bool,
    z_proton: Option<f64>,
    fit_z: bool,
    ref_ph: Option<f64>,
    ref_extractant: Option<f64>,
) -> PyResult<(String, String, bool)> {
    use sxplan::fit::{FitOptions, FitStatus, ModelKind};
    let kind = match model {
        "empirical" => ModelKind::Empirical,
        "mass_action" | "mass-action" => ModelKind::MassAction,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown model \"{other}\" (expected \"empirical\" or \"mass_action\")"
            )))
        }
    };
    let options = FitOptions {
        fit_a1,
        fix_c,
        n_extractant,
        fit_n,
        z_proton,
        fit_z,
        ref_ph,
        ref_extractant,
        ..FitOptions::new(kind)
    };
    let (text, name) = (text.to_string(), name.to_string());
    let r = py
        .detach(move || {
            api::fit_data(&name, &text, &options).map(|r| {
                (
                    api::fit_json(&r, &name),
                    sxplan::fit::fragment_toml(&r, &name),
                    r.status == FitStatus::Converged,
                )
            })
        })
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    Ok(r)
}

/// Runs the sweep of the manifest at `path` (docs/sweep.md) on `jobs` threads: the aggregates
/// document (`aggregates.json`) and every sample record as JSON, in index order. `samples`
/// runs only the first that many indices (the aggregates are then of those).
#[pyfunction]
#[pyo3(signature = (path, jobs=0, samples=None))]
fn sweep(
    py: Python<'_>,
    path: &str,
    jobs: usize,
    samples: Option<usize>,
) -> PyResult<(String, Vec<String>)> {
    let path = std::path::PathBuf::from(path);
    py.detach(move || {
        let setup = api::sweep::load_sweep(&path, &api::LoadOptions::default())?;
        let header = setup.sweep.header().clone();
        let n = samples.map_or(header.samples, |k| k.min(header.samples));
        let indices: Vec<usize> = (0..n).collect();
        let records = api::sweep::run_samples(&setup.sweep, &indices, jobs)
            .map_err(api::sweep::SweepSetupError::Io)?;
        let agg = sxplan::report::sweep::aggregate(&header, &records);
        let lines = records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap_or_default())
            .collect();
        Ok::<_, api::sweep::SweepSetupError>((sxplan::report::sweep::to_json(&agg), lines))
    })
    .map_err(|e| match e {
        api::sweep::SweepSetupError::Io(m) => pyo3::exceptions::PyOSError::new_err(m),
        api::sweep::SweepSetupError::Invalid(m) => pyo3::exceptions::PyValueError::new_err(m),
    })
}

#[pymodule]
fn _sxplan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SxplanError", m.py().get_type::<SxplanError>())?;
    m.add("FlowsheetError", m.py().get_type::<FlowsheetError>())?;
    m.add("SolverError", m.py().get_type::<SolverError>())?;
    m.add_class::<Diagnostic>()?;
    m.add_class::<Simulation>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(optimize, m)?)?;
    m.add_function(wrap_pyfunction!(design, m)?)?;
    m.add_function(wrap_pyfunction!(scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
