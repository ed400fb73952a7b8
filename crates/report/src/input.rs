//! What a report is made from: read-only views of the JSON result documents of `simulate`,
//! `design` and `optimize`, bundled with the data provenance into a [`ReportInput`].
//!
//! The views are deserialized from the same JSON the commands emit, so a report rendered in
//! process (`--out DIR`) and one re-rendered later from a saved result (`sxplan report`) go
//! through one code path and cannot disagree. Fields the report does not need are not mirrored;
//! optional fields default when absent, so an older or newer document of the same
//! `schema_version` still renders.
//!
//! Why views and not the result types themselves: `sxplan_sim::SimResult`,
//! `sxplan_design::CutDesign` and `sxplan_opt::OptimizeResult` are `Serialize` only (typed
//! element keys, status enums, borrowed specs), and `sxplan report RESULT.json` must read saved
//! documents back. The views are the read side of the documented JSON (docs/json-schema.md),
//! which `tests/report_schema.rs` and `simulate_report_of_the_result_and_of_its_json_agree`
//! hold to what the result types write.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Largest result document `sxplan report` reads, in bytes. The JSON of a simulated
/// 5,000-stage, 16-element plant is about 20 MB; a `serde_json::Value` takes roughly ten
/// times its text in memory, so this keeps a report run under about 1 GB.
pub const MAX_RESULT_BYTES: u64 = 64 * 1024 * 1024;

/// Largest magnitude of a number in a result document. Every quantity sxplan writes is
/// bounded far below it: flows by 1e8 m3/h at 24 mol/L (about 2.4e12 mol/h), costs, counts
/// and times likewise (`sxplan_model::plausible`, the NUMBER kind, has the same bound).
pub const MAX_DOCUMENT_NUMBER: f64 = 1e30;

/// Physical ranges of named fields, beyond the magnitude bound: (field, low, high, why).
/// The pH bounds are those of the simulator's bounded state (docs/ph.md, section 1); no
/// organic holds more than 4 mol/L of extractant (`CONC_EXTRACTANT`), so neither its free
/// part nor its loading can exceed that.
const FIELD_RANGES: &[(&str, f64, f64, &str)] = &[
    (
        "ph",
        -3.0,
        16.0,
        "is outside -3..16, the pH range of any aqueous state",
    ),
    (
        "loading_mol_per_l",
        0.0,
        4.0,
        "is outside 0..4 mol/L (no organic holds more than 4 mol/L of extractant)",
    ),
    (
        "free_extractant",
        0.0,
        4.0,
        "is outside 0..4 mol/L (no organic holds more than 4 mol/L of extractant)",
    ),
];

/// The first number of `v` out of range: its JSON path, text and the range it leaves.
fn out_of_range(v: &Value) -> Option<(String, String, String)> {
    fn walk(v: &Value, key: &str, path: &mut String) -> Option<(String, String, String)> {
        match v {
            Value::Number(n) => {
                let x = n.as_f64()?;
                let why = if !x.is_finite() || x.abs() > MAX_DOCUMENT_NUMBER {
                    Some(format!(
                        "is beyond any number an sxplan result holds (|x| <= {MAX_DOCUMENT_NUMBER:e})"
                    ))
                } else {
                    FIELD_RANGES
                        .iter()
                        .find(|(f, lo, hi, _)| *f == key && !(*lo..=*hi).contains(&x))
                        .map(|(_, _, _, why)| (*why).to_string())
                };
                why.map(|w| (path.clone(), n.to_string(), w))
            }
            Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let r = walk(x, key, path);
                path.truncate(len);
                r
            }),
            Value::Object(m) => m.iter().find_map(|(k, x)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&truncated(k));
                let r = walk(x, k, path);
                path.truncate(len);
                r
            }),
            _ => None,
        }
    }
    walk(v, "", &mut String::new())
}

/// At most 40 characters of `s`, for messages.
fn truncated(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The JSON type of `v`, for messages.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Errors of the report crate: a document is not a result sxplan can render.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The document is not one of the result kinds (`simulate`, `design`, `optimize`).
    #[error("document {index}: not an sxplan result (expected a simulate, design or optimize JSON document)")]
    UnknownDocument {
        /// Position of the document in the input list, 1-based.
        index: usize,
    },
    /// The document has a `schema_version` this build cannot read: another number, a string,
    /// or none at all.
    #[error(
        "document {index}: {kind} result has {found}, this build reads schema_version {supported}"
    )]
    UnsupportedVersion {
        /// Position of the document in the input list, 1-based.
        index: usize,
        /// Result kind.
        kind: &'static str,
        /// What the document holds: `schema_version 99`, `no schema_version`,
        /// `schema_version "1" (a string, not a number)`.
        found: String,
        /// Version this build reads.
        supported: u32,
    },
    /// The document is of a known kind but a field is missing or has the wrong type.
    #[error("document {index}: {kind} result: {message}")]
    Malformed {
        /// Position of the document in the input list, 1-based.
        index: usize,
        /// Result kind.
        kind: &'static str,
        /// What serde found wrong (names the field).
        message: String,
    },
    /// A number in the document is beyond what any sxplan result holds (a magnitude above
    /// [`MAX_DOCUMENT_NUMBER`], or a pH or loading outside its physical range): the document
    /// was edited or corrupted, and rendering it would draw axes over f64's whole range.
    #[error("document {index}: {kind} result: {path} = {value} {why}")]
    OutOfRange {
        /// Position of the document in the input list, 1-based.
        index: usize,
        /// Result kind.
        kind: &'static str,
        /// JSON path of the number (`circuits[0].stages[3].loading_mol_per_l`).
        path: String,
        /// The number as the document writes it.
        value: String,
        /// The range it leaves.
        why: String,
    },
    /// Two documents of the same kind were given.
    #[error("document {index}: a second {kind} result (give at most one of each kind)")]
    Duplicate {
        /// Position of the document in the input list, 1-based.
        index: usize,
        /// Result kind.
        kind: &'static str,
    },
}

/// Everything one report shows; any part may be absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportInput {
    /// Flowsheet or design name used in titles.
    pub title: String,
    /// A simulation result.
    pub sim: Option<SimView>,
    /// A design result.
    pub design: Option<DesignView>,
    /// An optimization result.
    pub opt: Option<OptView>,
    /// The data the flowsheet relies on and where each datum comes from.
    pub provenance: Vec<DataSource>,
    /// The top of the report (status, specs, annual figures, costs, equipment): the
    /// `summary` of the optimize document, else of the simulate document, else set by
    /// [`ReportInput::with_summary`].
    pub summary: Option<crate::overview::Overview>,
}

/// Provenance of one datum used.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DataSource {
    /// What the datum is.
    pub item: String,
    /// Citation or `user: ...`.
    pub source: String,
    /// Quality tag (`measured`, `fitted`, `estimated`, `illustrative`), when tagged.
    #[serde(default)]
    pub quality: Option<String>,
    /// True for data built into sxplan.
    #[serde(default)]
    pub built_in: bool,
}

/// Kind of a result document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// `sxplan simulate --format json`.
    Simulate,
    /// `sxplan design --format json`.
    Design,
    /// `sxplan optimize --format json`.
    Optimize,
}

impl ResultKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Simulate => "simulate",
            ResultKind::Design => "design",
            ResultKind::Optimize => "optimize",
        }
    }

    /// The schema version this build reads for the kind.
    pub fn supported_version(self) -> u32 {
        match self {
            ResultKind::Simulate => sxplan_sim::results::RESULT_SCHEMA_VERSION,
            ResultKind::Design => crate::design::DESIGN_SCHEMA_VERSION,
            ResultKind::Optimize => crate::optimize::OPTIMIZE_SCHEMA_VERSION,
        }
    }

    /// Recognises a result document by its shape: `kind = "design"`; `passes` and `objective`
    /// (optimize); `circuits` and `mass_balance` (simulate).
    pub fn detect(doc: &Value) -> Option<ResultKind> {
        let obj = doc.as_object()?;
        if obj.get("kind").and_then(Value::as_str) == Some("design") {
            Some(ResultKind::Design)
        } else if obj.contains_key("passes") && obj.contains_key("objective") {
            Some(ResultKind::Optimize)
        } else if obj.contains_key("circuits") && obj.contains_key("mass_balance") {
            Some(ResultKind::Simulate)
        } else {
            None
        }
    }
}

impl ReportInput {
    /// Bundles result documents (any order, at most one of each kind).
    pub fn from_documents(docs: &[Value]) -> Result<ReportInput, ReportError> {
        let mut input = ReportInput::default();
        for (i, doc) in docs.iter().enumerate() {
            let index = i + 1;
            let kind = ResultKind::detect(doc).ok_or(ReportError::UnknownDocument { index })?;
            let supported = kind.supported_version();
            let found = match doc.get("schema_version") {
                Some(v) if v.as_u64() == Some(u64::from(supported)) => None,
                None => Some("no schema_version".to_string()),
                Some(Value::Number(n)) => Some(format!("schema_version {n}")),
                Some(Value::String(s)) => Some(format!(
                    "schema_version {} (a string, not a number)",
                    Value::String(truncated(s)),
                )),
                Some(other) => Some(format!(
                    "a schema_version that is {}, not a number",
                    json_type(other)
                )),
            };
            if let Some(found) = found {
                return Err(ReportError::UnsupportedVersion {
                    index,
                    kind: kind.as_str(),
                    found,
                    supported,
                });
            }
            if let Some((path, value, why)) = out_of_range(doc) {
                return Err(ReportError::OutOfRange {
                    index,
                    kind: kind.as_str(),
                    path,
                    value,
                    why,
                });
            }
            let malformed = |e: serde_json::Error| ReportError::Malformed {
                index,
                kind: kind.as_str(),
                message: e.to_string(),
            };
            let dup = ReportError::Duplicate {
                index,
                kind: kind.as_str(),
            };
            let summary = match doc.get("summary") {
                Some(v) if kind != ResultKind::Design => {
                    Some(crate::overview::Overview::deserialize(v).map_err(|e| {
                        ReportError::Malformed {
                            index,
                            kind: kind.as_str(),
                            message: format!("summary: {e}"),
                        }
                    })?)
                }
                _ => None,
            };
            if summary.is_some() && (kind == ResultKind::Optimize || input.summary.is_none()) {
                input.summary = summary;
            }
            match kind {
                ResultKind::Simulate => {
                    if input.sim.is_some() {
                        return Err(dup);
                    }
                    input.sim = Some(SimView::deserialize(doc).map_err(malformed)?);
                }
                ResultKind::Design => {
                    if input.design.is_some() {
                        return Err(dup);
                    }
                    input.design = Some(DesignView::deserialize(doc).map_err(malformed)?);
                }
                ResultKind::Optimize => {
                    if input.opt.is_some() {
                        return Err(dup);
                    }
                    input.opt = Some(OptView::deserialize(doc).map_err(malformed)?);
                }
            }
        }
        input.title = input.default_title();
        Ok(input)
    }

    /// A report of a simulation result.
    pub fn from_sim(result: &sxplan_sim::SimResult) -> Result<ReportInput, ReportError> {
        ReportInput::from_documents(&[sim_document(result, 1)?])
    }

    /// A report of a design (with its sensitivity curves, when computed).
    pub fn from_design(
        design: &sxplan_design::CutDesign,
        sensitivity: Option<&sxplan_design::Sensitivity>,
    ) -> Result<ReportInput, ReportError> {
        ReportInput::from_documents(&[crate::design::to_json_value(design, sensitivity)])
    }

    /// A report of an optimization of the flowsheet `name`; pass the simulation of the
    /// optimized flowsheet as `sim` to get its profiles too.
    pub fn from_optimize(
        name: &str,
        result: &sxplan_opt::OptimizeResult,
        sim: Option<&sxplan_sim::SimResult>,
    ) -> Result<ReportInput, ReportError> {
        let mut docs = vec![crate::optimize::to_json(name, result)];
        if let Some(s) = sim {
            docs.push(sim_document(s, 2)?);
        }
        ReportInput::from_documents(&docs)
    }

    /// Sets the top of the report (from [`crate::overview::overview`]).
    pub fn with_summary(mut self, summary: crate::overview::Overview) -> ReportInput {
        self.summary = Some(summary);
        self
    }

    /// Adds the provenance of the data a flowsheet uses.
    pub fn with_provenance(mut self, data: &[sxplan_model::DataUse]) -> ReportInput {
        self.provenance = data
            .iter()
            .map(|d| DataSource {
                item: d.item.clone(),
                source: d.source.clone(),
                quality: d.quality.map(|q| q.as_str().to_string()),
                built_in: d.built_in,
            })
            .collect();
        self
    }

    fn default_title(&self) -> String {
        if let Some(s) = &self.sim {
            return s.flowsheet.clone();
        }
        if let Some(o) = &self.opt {
            return o.flowsheet.clone();
        }
        if let Some(d) = &self.design {
            return format!("cut {} | {}", d.key_a, d.key_b);
        }
        String::from("sxplan")
    }
}

/// The JSON document of a simulation result, as `sxplan simulate --format json` writes it
/// (document `index` of a report, for the error message).
fn sim_document(result: &sxplan_sim::SimResult, index: usize) -> Result<Value, ReportError> {
    serde_json::to_value(result).map_err(|e| ReportError::Malformed {
        index,
        kind: "simulate",
        message: e.to_string(),
    })
}

/// View of a simulation result (`sxplan simulate --format json`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SimView {
    /// Flowsheet name.
    pub flowsheet: String,
    /// `converged`, `iteration_limit` or `diverged`.
    pub status: String,
    /// Recycle iterations.
    pub iterations: usize,
    /// Elements, canonical order.
    pub elements: Vec<String>,
    /// Mass balance.
    pub mass_balance: MassBalanceView,
    /// Streams between nodes.
    pub streams: Vec<StreamView>,
    /// Products.
    pub products: Vec<ProductView>,
    /// Circuits with stage profiles.
    pub circuits: Vec<CircuitView>,
    /// Reagent use.
    pub reagents: ReagentsView,
    /// Solver diagnostics.
    pub diagnostics: DiagnosticsView,
}

/// Mass balance closure.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MassBalanceView {
    /// Largest relative error over elements.
    pub max_relative_error: f64,
    /// Relative error of the total.
    pub overall_relative_error: f64,
    /// Per element.
    pub per_element: BTreeMap<String, ElementBalanceView>,
}

/// One element's balance.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ElementBalanceView {
    /// mol/h in.
    pub in_mol_per_h: f64,
    /// mol/h out.
    pub out_mol_per_h: f64,
    /// Relative error.
    pub relative_error: f64,
}

/// One stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StreamView {
    /// Stream id.
    pub id: usize,
    /// `from -> to`.
    pub name: String,
    /// `aqueous`, `organic` or `solid`.
    pub phase: String,
    /// Source node name (`feed X`, `CIRCUIT/7`, `unit X`, ...).
    pub from: String,
    /// Target node name.
    pub to: String,
    /// L/h.
    pub flow_vol_l_per_h: f64,
    /// t/h of solids.
    #[serde(default)]
    pub flow_mass_t_per_h: f64,
    /// mol/h net acidity.
    #[serde(default)]
    pub acid_mol_per_h: f64,
    /// mol/L per element.
    #[serde(default)]
    pub conc_mol_per_l: BTreeMap<String, f64>,
    /// mol/h per element.
    pub flow_mol_per_h: BTreeMap<String, f64>,
    /// Tear stream of a recycle.
    #[serde(default)]
    pub tear: bool,
}

/// One product of a simulation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProductView {
    /// Product name.
    pub id: String,
    /// Elements of the purity.
    pub purity_elements: Vec<String>,
    /// Mole purity.
    pub purity_mol: f64,
    /// REO-mass purity.
    pub purity_reo_mass: f64,
    /// Purity spec.
    #[serde(default)]
    pub purity_spec: Option<PuritySpecView>,
    /// Recovery per element.
    pub recovery: BTreeMap<String, f64>,
    /// kg/h REO.
    pub reo_kg_per_h: f64,
    /// mol/h per element.
    pub flow_mol_per_h: BTreeMap<String, f64>,
}

/// A purity spec and whether it is met.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PuritySpecView {
    /// Minimum purity.
    pub min: f64,
    /// `mole` or `oxide_mass`.
    pub basis: String,
    /// Met or not.
    pub met: bool,
}

/// A circuit with its stages.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CircuitView {
    /// Circuit name.
    pub name: String,
    /// Equilibrium model.
    pub model: String,
    /// Solve status.
    pub status: String,
    /// Iterations.
    pub iterations: usize,
    /// Largest residual.
    pub max_residual: f64,
    /// Stages, stage 1 first.
    pub stages: Vec<StageView>,
}

/// One stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StageView {
    /// 1-based stage number.
    pub stage: usize,
    /// Section kind.
    pub section: String,
    /// L/h aqueous out.
    pub flow_vol_aq: f64,
    /// L/h organic out.
    pub flow_vol_org: f64,
    /// mol/L aqueous per element.
    pub conc_aq: BTreeMap<String, f64>,
    /// mol/L organic per element.
    pub conc_org: BTreeMap<String, f64>,
    /// mol/L net acidity.
    pub acidity_mol_per_l: f64,
    /// pH.
    pub ph: f64,
    /// mol/L free extractant.
    #[serde(default)]
    pub free_extractant: Option<f64>,
    /// mol/L REY in the organic.
    pub loading_mol_per_l: f64,
    /// Fraction of capacity.
    #[serde(default)]
    pub loading_fraction: Option<f64>,
}

/// Reagent use.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReagentsView {
    /// Items.
    pub items: Vec<ReagentView>,
    /// kg/h REO of all products.
    pub reo_product_kg_per_h: f64,
}

/// One reagent use.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReagentView {
    /// Reagent.
    pub reagent: String,
    /// Use.
    #[serde(rename = "use")]
    pub use_: String,
    /// mol/h.
    pub mol_per_h: f64,
    /// kg/h.
    pub kg_per_h: f64,
    /// t per t REO.
    #[serde(default)]
    pub t_per_t_reo: Option<f64>,
}

/// Solver diagnostics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DiagnosticsView {
    /// Algorithm.
    pub algorithm: String,
    /// Stage count.
    pub n_stages: usize,
    /// Stream count.
    pub n_streams: usize,
    /// Tear count.
    pub n_tears: usize,
    /// Largest stage residual.
    pub max_stage_residual: f64,
    /// Recycle residual.
    pub recycle_residual: f64,
    /// Chain iterations.
    pub chain_iterations: usize,
    /// Warnings.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// View of a design result (`sxplan design --format json`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DesignView {
    /// Heavy key (organic product).
    pub key_a: String,
    /// Light key (aqueous product).
    pub key_b: String,
    /// `aqueous` or `organic`.
    pub feed_phase: String,
    /// Separation factor of the keys (extraction section).
    pub sep_factor: f64,
    /// Separation factor in the scrub section.
    pub sep_factor_scrub: f64,
    /// A-group feed fraction.
    pub x_a: f64,
    /// Required purity of the A product.
    pub purity_a_spec: f64,
    /// Required purity of the B product.
    pub purity_b_spec: f64,
    /// Controlling section.
    pub control: String,
    /// Extraction-section mixed extraction ratio.
    pub e_m: f64,
    /// Scrub-section mixed extraction ratio.
    pub e_prime_m: f64,
    /// Organic REE amount per mol feed.
    pub s: f64,
    /// Scrub REE amount per mol feed.
    pub w: f64,
    /// Minimum scrub amount.
    pub w_min: f64,
    /// W / W_min.
    pub w_over_w_min: f64,
    /// Fenske minimum stages.
    pub n_min_fenske: f64,
    /// Xu shortcut extraction stages.
    #[serde(default)]
    pub n_shortcut: Option<f64>,
    /// Xu shortcut scrub stages.
    #[serde(default)]
    pub m_shortcut: Option<f64>,
    /// Search status.
    pub status: String,
    /// Rigorous extraction stages.
    #[serde(default)]
    pub n: Option<usize>,
    /// Rigorous scrub stages.
    #[serde(default)]
    pub m: Option<usize>,
    /// Achieved purity of A.
    #[serde(default)]
    pub purity_a: Option<f64>,
    /// Achieved purity of B.
    #[serde(default)]
    pub purity_b: Option<f64>,
    /// Component distribution.
    #[serde(default)]
    pub distribution: Vec<ComponentView>,
    /// Stage numbers against reflux and purity, when computed.
    #[serde(default)]
    pub sensitivity: Option<SensitivityView>,
}

/// Sensitivity curves of a design.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SensitivityView {
    /// Points at several W / W_min.
    pub vs_reflux: Vec<SensitivityPointView>,
    /// Points at several purities.
    pub vs_purity: Vec<SensitivityPointView>,
}

/// One sensitivity point.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SensitivityPointView {
    /// P_A.
    pub purity_a: f64,
    /// P_B.
    pub purity_b: f64,
    /// W / W_min.
    pub w_over_w_min: f64,
    /// Fenske minimum stages.
    pub n_min_fenske: f64,
    /// Xu shortcut n.
    #[serde(default)]
    pub n_shortcut: Option<f64>,
    /// Xu shortcut m.
    #[serde(default)]
    pub m_shortcut: Option<f64>,
    /// Search status.
    pub status: String,
    /// Rigorous n.
    #[serde(default)]
    pub n: Option<usize>,
    /// Rigorous m.
    #[serde(default)]
    pub m: Option<usize>,
}

/// One component of a design.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ComponentView {
    /// Name.
    pub name: String,
    /// `A` or `B`.
    pub group: String,
    /// Relative extractability.
    pub sep_factor: f64,
    /// Feed mole fraction.
    pub x_feed: f64,
    /// Fraction to the organic product.
    pub to_organic: f64,
    /// Fraction to the aqueous product.
    pub to_aqueous: f64,
}

/// View of an optimization result (`sxplan optimize --format json`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OptView {
    /// Flowsheet name.
    pub flowsheet: String,
    /// Outcome.
    pub status: String,
    /// Objective.
    pub objective: ObjectiveView,
    /// LP backend.
    pub backend: String,
    /// Successive-LP passes.
    pub passes: Vec<PassView>,
    /// Operating variables.
    pub operating_point: Vec<OperatingView>,
    /// Shadow prices, ranked.
    pub shadow_prices: Vec<ShadowPriceView>,
    /// Products of the re-simulated optimum.
    pub products: Vec<OptProductView>,
    /// Specs and limits checked in simulation.
    pub checks: Vec<CheckView>,
    /// Conflicting specs when infeasible.
    pub conflicts: Vec<ConflictView>,
    /// Price sources.
    #[serde(default)]
    pub price_sources: Vec<String>,
}

/// The objective.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ObjectiveView {
    /// Kind.
    pub kind: String,
    /// Final value.
    pub value: Option<f64>,
    /// Value at the start point.
    pub start: Option<f64>,
    /// Unit.
    pub unit: String,
}

/// One successive-LP pass.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PassView {
    /// Pass number.
    pub pass: usize,
    /// Objective after the pass.
    pub objective: Option<f64>,
    /// Step length.
    pub step: Option<f64>,
    /// Trust radius.
    pub radius: Option<f64>,
    /// Largest spec violation in simulation.
    pub max_violation: Option<f64>,
    /// Step accepted.
    pub accepted: bool,
    /// LP status.
    pub lp_status: String,
}

/// One operating variable.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OperatingView {
    /// Name.
    pub name: String,
    /// Optimized value.
    pub value: Option<f64>,
    /// Start value.
    pub start: Option<f64>,
    /// Unit.
    pub unit: String,
    /// Lower bound.
    pub min: Option<f64>,
    /// Upper bound.
    pub max: Option<f64>,
    /// `lower`, `upper` or `between`.
    pub at_bound: String,
    /// Reduced cost.
    pub reduced_cost: Option<f64>,
}

/// One shadow price.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShadowPriceView {
    /// Rank.
    pub rank: usize,
    /// Constraint name.
    pub constraint: String,
    /// Constraint kind (as serialized by the optimizer).
    pub kind: Value,
    /// Value.
    pub value: Option<f64>,
    /// Unit.
    pub unit: String,
}

/// One product of an optimization.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OptProductView {
    /// Name.
    pub name: String,
    /// kg/h oxide.
    pub oxide_kg_per_h: Option<f64>,
    /// Purity.
    #[serde(default)]
    pub purity: Option<f64>,
    /// Minimum purity.
    #[serde(default)]
    pub purity_min: Option<f64>,
}

/// One spec check.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CheckView {
    /// Name.
    pub name: String,
    /// Value.
    pub value: Option<f64>,
    /// Limit.
    pub limit: Option<f64>,
    /// Violation (0 when met).
    pub violation: Option<f64>,
}

/// One conflicting spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConflictView {
    /// Constraint.
    pub constraint: String,
    /// Relative violation.
    pub relative_violation: Option<f64>,
}

/// Text of a JSON value that may be a string or something else (constraint kinds).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
