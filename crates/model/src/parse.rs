//! Parse: the TOML tree into syntax-level records that keep spans. Everything local to one
//! table (units, ranges, element symbols, section names of a circuit) is checked here;
//! names that point across the flowsheet (ports, links, optimize targets) stay strings with
//! spans for [`crate::lower`].

use std::collections::BTreeMap;
use std::ops::Range;

use sxplan_chem::units::Dimension;
use sxplan_chem::{Element, Quality};
use toml::de::DeValue;

use crate::diagnostic::codes;
use crate::flowsheet::*;
use crate::keys;
use crate::limits::{plausible, Plausible};
use crate::operating::OperatingVarKind;
use crate::read::*;

/// Largest value a section's `stages` may be written with; the real bound is
/// [`crate::Limits::max_stages_per_circuit`], reported with its own message.
const MAX_STAGES_LITERAL: u64 = u32::MAX as u64;

/// Number of entries of an array-of-tables key (1 for a single table, 0 otherwise).
fn entry_count(v: &Val<'_>) -> usize {
    match v.get_ref() {
        DeValue::Array(a) => a.len(),
        DeValue::Table(_) => 1,
        _ => 0,
    }
}

/// Refuses flowsheets with more circuits or other entries than [`crate::Limits`] allow,
/// before any of them is read. Returns false when the flowsheet is over a limit.
fn check_counts(cx: &mut Cx<'_>, root: &Tbl<'_, '_>) -> bool {
    let limits = cx.limits;
    let mut ok = true;
    if let Some(v) = root.get("circuit") {
        let n = entry_count(v);
        if n > limits.max_circuits {
            cx.error(
                codes::TOO_LARGE,
                format!(
                    "the flowsheet has {n} circuits; at most {} are supported (limit max_circuits)",
                    limits.max_circuits
                ),
                v.span(),
                Some("split the plant into several flowsheets, or raise `Limits::max_circuits` when calling the library".into()),
            );
            ok = false;
        }
    }
    let mut nodes = 0usize;
    let mut first_span = None;
    for key in [
        "feed", "unit", "splitter", "mixer", "purge", "product", "link",
    ] {
        if let Some(v) = root.get(key) {
            nodes = nodes.saturating_add(entry_count(v));
            if nodes > limits.max_nodes && first_span.is_none() {
                first_span = Some(v.span());
            }
        }
    }
    if let Some(span) = first_span {
        cx.error(
            codes::TOO_LARGE,
            format!(
                "the flowsheet has {nodes} feeds, units, splitters, mixers, purges, products and links; at most {} are supported (limit max_nodes)",
                limits.max_nodes
            ),
            span,
            Some("split the plant into several flowsheets, or raise `Limits::max_nodes` when calling the library".into()),
        );
        ok = false;
    }
    ok
}

pub(crate) struct RawDoc {
    pub schema: Option<u32>,
    pub name: String,
    pub description: Option<String>,
    pub feeds: Vec<RawFeed>,
    pub circuits: Vec<RawCircuit>,
    pub units: Vec<RawNode<Unit>>,
    pub splitters: Vec<RawNode<Splitter>>,
    pub mixers: Vec<RawNode<Mixer>>,
    pub purges: Vec<RawNode<Purge>>,
    pub products: Vec<RawProduct>,
    pub links: Vec<RawLink>,
    pub capacities: Vec<(usize, Capacity)>,
    pub prices: Option<Prices>,
    pub optimize: Option<RawOptimize>,
    pub solver: SolverSettings,
    pub plant: crate::flowsheet::PlantSettings,
    pub overrides: Vec<DataOverride>,
    pub data_used: Vec<DataUse>,
    /// Every node name declared, even by entries that failed to parse (to avoid cascades).
    pub declared: Vec<String>,
    /// True when some node had errors and was left out: topology checks would only cascade.
    pub broken: bool,
}

pub(crate) struct RawFeed {
    pub feed: Feed,
    pub name_span: Range<usize>,
    pub to: Option<Sp<String>>,
    /// Where `flow` is written.
    pub flow_span: Range<usize>,
}

pub(crate) struct RawNode<T> {
    pub node: T,
    pub name_span: Range<usize>,
    pub from: Option<Sp<String>>,
    pub to: Option<Sp<String>>,
    /// Units: whether the flowsheet gave a `default` split fraction.
    pub default_given: bool,
}

pub(crate) struct RawCircuit {
    pub circuit: Circuit,
    pub name_span: Range<usize>,
    pub eq_span: Range<usize>,
    /// Where the circuit's aqueous inlets are written (for the aqueous-reach check).
    pub spans: CircuitSpans,
}

/// Source positions of a circuit's parts that decide where its aqueous enters.
pub(crate) struct CircuitSpans {
    /// The `sections` array.
    pub sections: Range<usize>,
    /// Per feed point: its written stage (`feed_stage` or `feed_point.stage`), `None` when
    /// defaulted.
    pub feed_points: Vec<Option<Range<usize>>>,
    /// Per section: where its solution is written, if it has one.
    pub solutions: Vec<Option<SolutionSpans>>,
}

/// Where a section's solution gives its `stage` (if written) and its `flow`.
#[derive(Clone)]
pub(crate) struct SolutionSpans {
    /// The `stage` value, `None` when defaulted.
    pub stage: Option<Range<usize>>,
    /// The `flow` value.
    pub flow: Range<usize>,
}

pub(crate) struct RawProduct {
    pub name: Sp<String>,
    pub from: Option<Sp<String>>,
    pub kind: ProductKind,
    pub purity: Option<PuritySpec>,
    pub recovery: Vec<RecoverySpec>,
}

pub(crate) struct RawLink {
    pub from: Sp<String>,
    pub to: Sp<String>,
}

pub(crate) struct RawOptimize {
    pub objective: Objective,
    pub free: Vec<RawFree>,
    pub max_passes: Option<usize>,
}

pub(crate) struct RawFree {
    pub var: Sp<OperatingVarKind>,
    pub of: Sp<String>,
    pub lower: f64,
    pub upper: f64,
}

/// Most files one flowsheet may include.
pub(crate) const MAX_INCLUDES: usize = 64;

const ACIDS: &[(&str, Acid)] = &[
    ("HCl", Acid::HCl),
    ("H2SO4", Acid::H2SO4),
    ("HNO3", Acid::HNO3),
];
const BASES: &[(&str, Base)] = &[("NaOH", Base::NaOH), ("NH3", Base::NH3)];

/// Reads the root table. Returns `None` when the schema is unusable or the flowsheet is
/// over a [`crate::Limits`] count.
pub(crate) fn parse_doc(cx: &mut Cx<'_>, root: &Tbl<'_, '_>) -> Option<RawDoc> {
    // Schema first: a file for another version is not read further.
    let schema = match root.get("schema") {
        None => {
            cx.error(
                codes::SCHEMA_MISSING,
                "the flowsheet does not say which schema version it is written for",
                0..0,
                Some(format!("add `schema = {SCHEMA_VERSION}` as the first line")),
            );
            None
        }
        Some(v) => match v.get_ref() {
            DeValue::Integer(i) if i.as_str() == SCHEMA_VERSION.to_string() && i.radix() == 10 => {
                Some(SCHEMA_VERSION)
            }
            DeValue::Integer(i) => {
                cx.error(
                    codes::SCHEMA_UNKNOWN,
                    format!(
                        "schema version {} is not known to this build",
                        truncate(i.as_str())
                    ),
                    v.span(),
                    Some(format!(
                        "this build of sxplan reads schema {SCHEMA_VERSION}; upgrade sxplan or rewrite the file"
                    )),
                );
                return None;
            }
            _ => {
                wrong_type(cx, "`schema`", "an integer", v);
                return None;
            }
        },
    };
    root.check_keys(cx, keys::TOP);
    let name = match opt_string(cx, root, "name") {
        Some(s) if s.v.chars().count() > 200 => {
            cx.error(
                codes::OUT_OF_RANGE,
                format!(
                    "the flowsheet name is {} characters long; at most 200 are allowed",
                    s.v.chars().count()
                ),
                s.span,
                Some("put longer text in `description`".into()),
            );
            String::new()
        }
        Some(s) if s.v.chars().any(char::is_control) => {
            cx.error(
                codes::OUT_OF_RANGE,
                format!(
                    "the flowsheet name \"{}\" holds a control character (a newline, a tab)",
                    truncate(&s.v)
                ),
                s.span,
                Some("write the name on one line; put longer text in `description`".into()),
            );
            String::new()
        }
        Some(s) => s.v,
        None => String::new(),
    };
    let description = opt_string(cx, root, "description").map(|s| s.v);
    if let Some(v) = root.get("include") {
        match v.get_ref() {
            DeValue::Array(a) if !a.is_empty() && !cx.includes_given => cx.error(
                codes::BAD_INCLUDE,
                "this flowsheet includes other files, which were not read",
                v.span(),
                Some(
                    "check it with `sxplan check`, or pass the included files to `check_sources`"
                        .into(),
                ),
            ),
            DeValue::Array(a) if a.len() <= MAX_INCLUDES => {
                for x in a.iter() {
                    if let Some(s) = string(cx, x, "`include`") {
                        if s.v.trim().is_empty() {
                            cx.error(
                                codes::UNKNOWN_VALUE,
                                "`include`: empty file name",
                                s.span,
                                None,
                            );
                        }
                    }
                }
            }
            DeValue::Array(_) => cx.error(
                codes::OUT_OF_RANGE,
                format!("`include`: more than {MAX_INCLUDES} files"),
                v.span(),
                None,
            ),
            _ => wrong_type(cx, "`include`", "an array of file names", v),
        }
    }
    let mut doc = RawDoc {
        schema,
        name,
        description,
        feeds: Vec::new(),
        circuits: Vec::new(),
        units: Vec::new(),
        splitters: Vec::new(),
        mixers: Vec::new(),
        purges: Vec::new(),
        products: Vec::new(),
        links: Vec::new(),
        capacities: Vec::new(),
        prices: None,
        optimize: None,
        solver: SolverSettings::default(),
        plant: Default::default(),
        overrides: Vec::new(),
        data_used: Vec::new(),
        declared: Vec::new(),
        broken: false,
    };
    if !check_counts(cx, root) {
        // Nothing more is read: the other problems of a plant this size would only bury this one.
        return None;
    }
    if let Some(v) = root.get("feed") {
        for t in tables(cx, v, "`feed`") {
            let before = cx.error_count();
            match parse_feed(cx, &t, &mut doc) {
                Some(f) if cx.error_count() == before => doc.feeds.push(f),
                _ => doc.broken = true,
            }
        }
    }
    if let Some(v) = root.get("circuit") {
        for t in tables(cx, v, "`circuit`") {
            let before = cx.error_count();
            match parse_circuit(cx, &t, &mut doc) {
                Some(c) if cx.error_count() == before => doc.circuits.push(c),
                _ => doc.broken = true,
            }
        }
    }
    let total: usize = doc.circuits.iter().map(|c| c.circuit.n_stages()).sum();
    let max_total = cx.limits.max_total_stages;
    if total > max_total {
        let span = root.get("circuit").map_or(0..0, |v| v.span());
        cx.error(
            codes::TOO_LARGE,
            format!("the flowsheet has {total} stages; at most {max_total} are supported (limit max_total_stages)"),
            span,
            Some("split the plant into several flowsheets, or raise `Limits::max_total_stages` when calling the library".into()),
        );
        doc.broken = true;
    }
    if let Some(v) = root.get("unit") {
        for t in tables(cx, v, "`unit`") {
            let before = cx.error_count();
            match parse_unit(cx, &t, &mut doc) {
                Some(u) if cx.error_count() == before => doc.units.push(u),
                _ => doc.broken = true,
            }
        }
    }
    if let Some(v) = root.get("splitter") {
        for t in tables(cx, v, "`splitter`") {
            let before = cx.error_count();
            match parse_splitter(cx, &t, &mut doc) {
                Some(s) if cx.error_count() == before => doc.splitters.push(s),
                _ => doc.broken = true,
            }
        }
    }
    if let Some(v) = root.get("mixer") {
        for t in tables(cx, v, "`mixer`") {
            let before = cx.error_count();
            match parse_mixer(cx, &t, &mut doc) {
                Some(m) if cx.error_count() == before => doc.mixers.push(m),
                _ => doc.broken = true,
            }
        }
    }
    if let Some(v) = root.get("purge") {
        for t in tables(cx, v, "`purge`") {
            let before = cx.error_count();
            let name = node_name(cx, &t, "purge", &mut doc);
            t.check_keys(cx, keys::PURGE);
            let from = opt_string(cx, &t, "from");
            if cx.error_count() != before {
                doc.broken = true;
            } else if let Some(name) = name {
                let id = PurgeId(doc.purges.len());
                doc.purges.push(RawNode {
                    node: Purge { id, name: name.v },
                    name_span: name.span,
                    from,
                    to: None,
                    default_given: false,
                });
            }
        }
    }
    if let Some(v) = root.get("product") {
        for t in tables(cx, v, "`product`") {
            let before = cx.error_count();
            match parse_product(cx, &t, &mut doc) {
                Some(p) if cx.error_count() == before => doc.products.push(p),
                _ => doc.broken = true,
            }
        }
    }
    if let Some(v) = root.get("link") {
        for t in tables(cx, v, "`link`") {
            t.check_keys(cx, keys::LINK);
            let from = req_string(cx, &t, "from");
            let to = req_string(cx, &t, "to");
            if let (Some(from), Some(to)) = (from, to) {
                doc.links.push(RawLink { from, to });
            }
        }
    }
    if let Some(v) = root.get("prices") {
        if let Some(t) = as_table(cx, v, "`prices`") {
            doc.prices = parse_prices(cx, &t);
        }
    }
    if let Some(v) = root.get("optimize") {
        if let Some(t) = as_table(cx, v, "`optimize`") {
            doc.optimize = parse_optimize(cx, &t);
        }
    }
    if let Some(v) = root.get("solver") {
        if let Some(t) = as_table(cx, v, "`solver`") {
            doc.solver = parse_solver(cx, &t);
        }
    }
    if let Some(v) = root.get("plant") {
        if let Some(t) = as_table(cx, v, "`plant`") {
            doc.plant = parse_plant(cx, &t);
        }
    }
    if let Some(v) = root.get("data") {
        if let Some(t) = as_table(cx, v, "`data`") {
            t.check_keys(cx, keys::DATA);
            if let Some(ov) = t.get("override") {
                for o in tables(cx, ov, "`data.override`") {
                    parse_override(cx, &o, &mut doc);
                }
            }
        }
    }
    Some(doc)
}

/// Reads `name`, required, a valid identifier; records it as declared.
fn node_name(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, kind: &str, doc: &mut RawDoc) -> Option<Sp<String>> {
    let name = req_string(cx, t, "name")?;
    doc.declared.push(name.v.clone());
    valid_name(cx, &name, kind).then_some(name)
}

/// Checks a name that other entries refer to (a node, a section, a feed point): 1 to 64 ASCII
/// letters, digits, `_` or `-`, so it can stand in a port name and print as it is.
fn valid_name(cx: &mut Cx<'_>, name: &Sp<String>, kind: &str) -> bool {
    let ok = !name.v.is_empty()
        && name.v.len() <= 64
        && name
            .v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        cx.error(
            codes::UNKNOWN_VALUE,
            format!("{kind} name \"{}\" is not a valid name", truncate(&name.v)),
            name.span.clone(),
            Some("names are 1 to 64 ASCII letters, digits, `_` or `-` (they appear in port names such as \"PrNd.raffinate\")".into()),
        );
    }
    ok
}

fn user_source(source: Option<&str>) -> String {
    source.map_or_else(
        || "flowsheet (no source given)".to_string(),
        |s| format!("flowsheet: {s}"),
    )
}

fn record(doc: &mut RawDoc, item: String, source: Option<&str>, quality: Option<Quality>) {
    doc.data_used.push(DataUse {
        item,
        source: user_source(source),
        quality,
        built_in: false,
    });
}

// ---------------------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------------------

fn parse_feed(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, doc: &mut RawDoc) -> Option<RawFeed> {
    let name = node_name(cx, t, "feed", doc);
    let what = match &name {
        Some(n) => format!("feed \"{}\"", n.v),
        None => "feed".to_string(),
    };
    let t = Tbl::new(t.t, t.span.clone(), what.clone());
    let phase = opt_keyword(
        cx,
        &t,
        "phase",
        &[
            ("aqueous", Phase::Aqueous),
            ("organic", Phase::Organic),
            ("mud", Phase::Solid),
        ],
    )
    .or(if t.has("phase") {
        None
    } else {
        Some(Phase::Aqueous)
    });
    let to = opt_string(cx, &t, "to");
    let kind = match phase? {
        Phase::Solid => {
            t.check_keys(cx, keys::FEED_MUD);
            let flow = req_quantity(cx, &t, "flow", Dimension::MassFlow, Range01::NonNeg);
            let grade = req_string(cx, &t, "grade");
            let mut content = BTreeMap::new();
            if let Some(v) = t.get("content") {
                if let Some(et) =
                    element_table(cx, v, &format!("{what} `content`"), false, |cx, v, w| {
                        quantity(cx, v, w, Dimension::Fraction, Range01::Fraction)
                    })
                {
                    for (e, frac) in &et.values {
                        // mass fraction -> mol per kg of dry mud
                        content.insert(*e, frac * 1000.0 / e.molar_mass());
                    }
                    record(
                        doc,
                        format!("{what}: mud content"),
                        et.source.as_deref(),
                        et.quality,
                    );
                }
            }
            let flow = flow?;
            let grade = grade?;
            match sxplan_chem::mud::grade(&grade.v) {
                Some(g) => doc.data_used.push(DataUse {
                    item: format!("{what}: mud grade {}", g.id),
                    source: g.provenance.source.to_string(),
                    quality: Some(g.provenance.quality),
                    built_in: true,
                }),
                None => {
                    let ids: Vec<&str> = sxplan_chem::mud::grades().iter().map(|g| g.id).collect();
                    let help = match did_you_mean_owned(&grade.v, &ids) {
                        Some(m) => {
                            format!("did you mean \"{m}\"? known grades: {}", ids.join(", "))
                        }
                        None => format!("known grades: {}", ids.join(", ")),
                    };
                    cx.error(
                        codes::UNKNOWN_VALUE,
                        format!("{what}: unknown mud grade \"{}\"", truncate(&grade.v)),
                        grade.span,
                        Some(help),
                    );
                    return None;
                }
            }
            FeedKind::Mud(MudFeed {
                flow_mass: flow / 1000.0,
                grade: grade.v,
                content_mol_per_kg: content,
            })
        }
        phase => {
            t.check_keys(cx, keys::FEED_SOLUTION);
            let flow = req_quantity(cx, &t, "flow", Dimension::VolumetricFlow, Range01::NonNeg);
            let acid = opt_keyword(cx, &t, "acid", ACIDS);
            t.exclusive(cx, "acidity", "ph");
            let mut conc_h = opt_quantity_as(
                cx,
                &t,
                "acidity",
                Dimension::MolarConcentration,
                Range01::NonNeg,
                &plausible::CONC_ACID,
            );
            if let Some(v) = t.get("ph") {
                if let Some(ph) = number(cx, v, &format!("{what} `ph`")) {
                    if (-2.0..=14.0).contains(&ph) {
                        conc_h = Some(10f64.powf(-ph));
                    } else {
                        cx.error(
                            codes::OUT_OF_RANGE,
                            format!("{what} `ph`: {ph} is outside -2..=14"),
                            v.span(),
                            None,
                        );
                    }
                }
            }
            let conc = feed_composition(cx, &t, &what, doc);
            let kind = SolutionFeed {
                flow_vol: flow?,
                conc_mol: conc?,
                acid,
                conc_h: conc_h.unwrap_or(0.0),
            };
            if phase == Phase::Organic {
                FeedKind::Organic(kind)
            } else {
                FeedKind::Aqueous(kind)
            }
        }
    };
    let name = name?;
    let id = FeedId(doc.feeds.len());
    Some(RawFeed {
        feed: Feed {
            id,
            name: name.v,
            kind,
        },
        name_span: name.span,
        to,
        flow_span: t.get("flow").map_or(t.span.clone(), |v| v.span()),
    })
}

/// `conc = { Nd = "0.5 mol/L", Pr = "40 g/L" }` or `reo = "50 g/L"` with
/// `oxide_fraction = { Nd = "75 %", Pr = "25 %" }`.
fn feed_composition(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    what: &str,
    doc: &mut RawDoc,
) -> Option<BTreeMap<Element, f64>> {
    if t.exclusive(cx, "conc", "oxide_fraction") {
        return None;
    }
    let source = opt_string(cx, t, "source").map(|s| s.v);
    let quality = opt_keyword(cx, t, "quality", QUALITIES);
    if let Some(v) = t.get("conc") {
        let et = element_table(cx, v, &format!("{what} `conc`"), false, |cx, v, w| {
            conc_molar(cx, v, w)
        })?;
        record(
            doc,
            format!("{what}: composition"),
            et.source.as_deref().or(source.as_deref()),
            et.quality.or(quality),
        );
        // conc_molar returns (value, is_mass); convert mass concentrations per element
        let mut out = BTreeMap::new();
        for (e, (x, is_mass)) in et.values {
            out.insert(e, if is_mass { e.mol_from_mass(x) } else { x });
        }
        return ree_total_plausible(cx, &out, et.span.clone(), what).then_some(out);
    }
    if let Some(v) = t.get("oxide_fraction") {
        let total = req_quantity(cx, t, "reo", Dimension::MassConcentration, Range01::NonNeg);
        let et = element_table(
            cx,
            v,
            &format!("{what} `oxide_fraction`"),
            false,
            |cx, v, w| quantity(cx, v, w, Dimension::Fraction, Range01::Fraction),
        )?;
        let sum: f64 = et.values.values().sum();
        if (sum - 1.0).abs() > 1e-3 {
            cx.error(
                codes::SUM_NOT_ONE,
                format!("{what} `oxide_fraction`: fractions sum to {sum:.4}, not 1"),
                et.span.clone(),
                Some("the oxide distribution gives each oxide's share of the total REO".into()),
            );
            return None;
        }
        record(
            doc,
            format!("{what}: oxide distribution"),
            et.source.as_deref().or(source.as_deref()),
            et.quality.or(quality),
        );
        let total = total?;
        let mut out = BTreeMap::new();
        for (e, frac) in et.values {
            out.insert(e, e.mol_from_oxide_mass(total * frac));
        }
        let span = t.get("reo").map_or(et.span.clone(), |v| v.span());
        return ree_total_plausible(cx, &out, span, what).then_some(out);
    }
    if t.has("reo") {
        t.missing(
            cx,
            "oxide_fraction",
            Some("`reo` needs `oxide_fraction = { Nd = \"75 %\", ... }`".into()),
        );
        return None;
    }
    t.missing(
        cx,
        "conc",
        Some("give `conc = { Nd = \"0.5 mol/L\", ... }` or `reo` with `oxide_fraction`".into()),
    );
    None
}

/// Checks a feed's total rare-earth concentration (mol/L): each element is held to
/// [`plausible::CONC_REE`] (an error beyond the salts' solubility); the total above the
/// solubility is a warning only, since test and design flowsheets load many elements at
/// round concentrations that the simulator handles, while a single absurd value is an error.
/// Returns false after an error.
fn ree_total_plausible(
    cx: &mut Cx<'_>,
    conc: &BTreeMap<Element, f64>,
    span: std::ops::Range<usize>,
    what: &str,
) -> bool {
    let p = &plausible::CONC_REE;
    let total: f64 = conc
        .iter()
        .filter(|(e, _)| e.is_rey())
        .map(|(_, x)| x)
        .sum();
    if total > p.error_max {
        cx.warn(
            codes::UNUSUAL,
            format!(
                "{what}: the rare earths total {} mol/L, more than the {} mol/L a chloride or nitrate solution can hold",
                fmt_num(total),
                fmt_num(p.error_max)
            ),
            span,
            Some(p.basis.to_string()),
        );
        return true;
    }
    check_plausible(cx, total, p, &format!("{what}: total rare earths"), span)
}

/// A molar or mass concentration; returns (value in mol/L or g/L, is_mass).
fn conc_molar(cx: &mut Cx<'_>, v: &Val<'_>, what: &str) -> Option<(f64, bool)> {
    if let DeValue::String(s) = v.get_ref() {
        if let Ok(q) = sxplan_chem::parse_quantity(s) {
            if q.dimension == Dimension::MassConcentration {
                return quantity(cx, v, what, Dimension::MassConcentration, Range01::NonNeg)
                    .map(|x| (x, true));
            }
        }
    }
    quantity_as(
        cx,
        v,
        what,
        Dimension::MolarConcentration,
        Range01::NonNeg,
        &plausible::CONC_REE,
    )
    .map(|x| (x, false))
}

// ---------------------------------------------------------------------------------------
// Circuits
// ---------------------------------------------------------------------------------------

const SECTION_KINDS: &[(&str, SectionKind)] = &[
    ("extraction", SectionKind::Extraction),
    ("scrub", SectionKind::Scrub),
    ("strip", SectionKind::Strip),
    ("wash", SectionKind::Wash),
    ("other", SectionKind::Other),
];

const PHASES: &[(&str, Phase)] = &[("aqueous", Phase::Aqueous), ("organic", Phase::Organic)];

fn parse_circuit(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, doc: &mut RawDoc) -> Option<RawCircuit> {
    let name = node_name(cx, t, "circuit", doc);
    let what = match &name {
        Some(n) => format!("circuit \"{}\"", n.v),
        None => "circuit".to_string(),
    };
    let t = Tbl::new(t.t, t.span.clone(), what.clone());
    let id = CircuitId(doc.circuits.len());

    // Sections.
    let mut sections: Vec<Section> = Vec::new();
    let mut sections_ok = true;
    match t.get("sections") {
        None => {
            t.missing(
                cx,
                "sections",
                Some("add `sections = [{ kind = \"extraction\", stages = 10 }, { kind = \"scrub\", stages = 8 }]`".into()),
            );
            sections_ok = false;
        }
        Some(v) => match v.get_ref() {
            DeValue::Array(a) => {
                if a.is_empty() {
                    cx.error(
                        codes::BAD_SECTIONS,
                        format!("{what} has no sections"),
                        v.span(),
                        Some("a circuit needs at least one section".into()),
                    );
                    sections_ok = false;
                }
                let mut first = 1usize;
                for sv in a.iter() {
                    let Some(st) = as_table(cx, sv, &format!("{what} section")) else {
                        sections_ok = false;
                        continue;
                    };
                    st.check_keys(cx, keys::SECTION);
                    let kind = match st.get("kind") {
                        Some(k) => keyword(cx, k, &format!("{what} section `kind`"), SECTION_KINDS),
                        None => {
                            st.missing(cx, "kind", None);
                            None
                        }
                    };
                    let n = match st.get("stages") {
                        Some(s) => int(
                            cx,
                            s,
                            &format!("{what} section `stages`"),
                            1,
                            MAX_STAGES_LITERAL,
                        ),
                        None => {
                            st.missing(cx, "stages", None);
                            None
                        }
                    };
                    let sname = opt_string(cx, &st, "name")
                        .filter(|n| valid_name(cx, n, &format!("{what} section")));
                    match (kind, n) {
                        (Some(kind), Some(n)) => {
                            let sname = sname.map_or_else(|| kind.as_str().to_string(), |s| s.v);
                            if sections.iter().any(|s| s.name == sname) {
                                sections_ok = false;
                                cx.error(
                                    codes::DUPLICATE_NAME,
                                    format!("{what}: two sections are named \"{sname}\""),
                                    sv.span(),
                                    Some("give repeated section kinds distinct `name`s".into()),
                                );
                            }
                            let to_prev = kind == SectionKind::Scrub
                                && sections.last().is_some_and(|p| {
                                    matches!(p.kind, SectionKind::Extraction | SectionKind::Scrub)
                                });
                            sections.push(Section {
                                kind,
                                name: sname,
                                n_stages: n,
                                first_stage: first,
                                aqueous_to_previous: to_prev,
                                solution: None,
                            });
                            first = first.saturating_add(n);
                        }
                        _ => sections_ok = false,
                    }
                }
                if sections_ok {
                    check_section_order(cx, &what, &sections, v.span());
                }
            }
            _ => {
                wrong_type(cx, &format!("{what} `sections`"), "an array of sections", v);
                sections_ok = false;
            }
        },
    }
    let n_total: usize = sections.iter().map(|s| s.n_stages).sum();
    let max_circuit = cx.limits.max_stages_per_circuit;
    if n_total > max_circuit {
        let span = t.get("sections").map_or(t.span.clone(), |v| v.span());
        cx.error(
            codes::TOO_LARGE,
            format!("{what} has {n_total} stages; a circuit has at most {max_circuit} (limit max_stages_per_circuit)"),
            span,
            Some("split the cascade into several circuits, or raise `Limits::max_stages_per_circuit` when calling the library".into()),
        );
        sections_ok = false;
    }
    cx.quiet_sections = !sections_ok;
    let section_names: Vec<String> = sections.iter().map(|s| s.name.clone()).collect();
    let solution_keys: Vec<&str> = sections
        .iter()
        .filter(|s| s.kind != SectionKind::Extraction)
        .map(|s| s.name.as_str())
        .collect();
    let mut known: Vec<&str> = keys::CIRCUIT.to_vec();
    known.extend(solution_keys.iter().copied());
    if sections_ok {
        t.check_keys(cx, &known);
    }

    // Feed points.
    let mut feed_points = Vec::new();
    let mut feed_point_spans: Vec<Option<Range<usize>>> = Vec::new();
    if t.exclusive(cx, "feed_stage", "feed_point") {
        sections_ok = false;
    }
    if let Some(fp) = t.get("feed_point") {
        for ft in tables(cx, fp, &format!("{what} `feed_point`")) {
            ft.check_keys(cx, keys::FEED_POINT);
            let fname = req_string(cx, &ft, "name")
                .filter(|n| valid_name(cx, n, &format!("{what} feed point")));
            let stage = stage_number(cx, &ft, "stage", &what, n_total, sections_ok, true);
            let stage_span = ft.get("stage").map(|v| v.span());
            let phase = opt_keyword(cx, &ft, "phase", PHASES).unwrap_or(Phase::Aqueous);
            if let (Some(fname), Some(stage)) = (fname, stage) {
                if feed_points.iter().any(|f: &FeedPoint| f.name == fname.v) {
                    cx.error(
                        codes::DUPLICATE_NAME,
                        format!("{what}: two feed points are named \"{}\"", fname.v),
                        fname.span,
                        None,
                    );
                    continue;
                }
                feed_points.push(FeedPoint {
                    name: fname.v,
                    stage,
                    phase,
                });
                feed_point_spans.push(stage_span);
            }
        }
    } else {
        let phase = opt_keyword(cx, &t, "feed_phase", PHASES).unwrap_or(Phase::Aqueous);
        let stage = if t.has("feed_stage") {
            stage_number(cx, &t, "feed_stage", &what, n_total, sections_ok, false)
        } else {
            // Default: aqueous feed at the last extraction stage, organic feed one above.
            sections
                .iter()
                .find(|s| s.kind == SectionKind::Extraction)
                .map(|s| match phase {
                    Phase::Organic => (s.last_stage() + 1).min(n_total),
                    _ => s.last_stage(),
                })
        };
        if let Some(stage) = stage {
            feed_points.push(FeedPoint {
                name: "feed".into(),
                stage,
                phase,
            });
            feed_point_spans.push(t.get("feed_stage").map(|v| v.span()));
        }
    }

    // Solutions of non-extraction sections.
    let mut solution_spans: Vec<Option<SolutionSpans>> = vec![None; sections.len()];
    for (i, s) in sections.clone().iter().enumerate() {
        if s.kind == SectionKind::Extraction {
            continue;
        }
        let Some(v) = t.get(&s.name) else {
            continue;
        };
        let sw = format!("{what} `{}` solution", s.name);
        let Some(st) = as_table(cx, v, &sw) else {
            continue;
        };
        let st = Tbl::new(st.t, st.span, sw.clone());
        st.check_keys(cx, keys::SOLUTION);
        let acid = opt_keyword(cx, &st, "acid", ACIDS);
        let conc = opt_quantity_as(
            cx,
            &st,
            "conc",
            Dimension::MolarConcentration,
            Range01::NonNeg,
            &plausible::CONC_ACID,
        );
        if st.has("acid") && !st.has("conc") {
            st.missing(cx, "conc", Some("add `conc = \"4 mol/L\"`".into()));
        }
        if st.has("conc") && !st.has("acid") {
            st.missing(
                cx,
                "acid",
                Some("add `acid = \"HCl\"` (omit both for water)".into()),
            );
        }
        let flow = req_quantity(cx, &st, "flow", Dimension::VolumetricFlow, Range01::NonNeg);
        let stage = if st.has("stage") {
            let stv = st.get("stage");
            let n = stv.and_then(|v| int(cx, v, &format!("{sw} `stage`"), 1, u32::MAX as u64));
            match (n, stv) {
                (Some(n), Some(v)) if n < s.first_stage || n > s.last_stage() => {
                    cx.error(
                        codes::STAGE_OUTSIDE,
                        format!(
                            "{sw}: stage {n} is outside the {} section {}..={}",
                            s.name,
                            s.first_stage,
                            s.last_stage()
                        ),
                        v.span(),
                        None,
                    );
                    None
                }
                (n, _) => n,
            }
        } else {
            Some(s.last_stage())
        };
        if let (Some(flow), Some(stage)) = (flow, stage) {
            sections[i].solution = Some(AqueousSolution {
                acid,
                conc_mol: conc.unwrap_or(0.0),
                flow_vol: flow,
                stage,
            });
            solution_spans[i] = Some(SolutionSpans {
                stage: st.get("stage").map(|v| v.span()),
                flow: st.get("flow").map_or(st.span.clone(), |v| v.span()),
            });
        }
    }

    // Organic.
    let organic = match t.get("organic") {
        None => {
            t.missing(
                cx,
                "organic",
                Some(
                    "add an `[circuit.organic]` table with `extractant`, `conc` and `flow`".into(),
                ),
            );
            None
        }
        Some(v) => {
            as_table(cx, v, &format!("{what} `organic`")).and_then(|ot| parse_organic(cx, &ot))
        }
    };

    // Murphree efficiency.
    let mut murphree = vec![1.0; sections.len()];
    if let Some(v) = t.get("murphree") {
        let mw = format!("{what} `murphree`");
        match v.get_ref() {
            DeValue::Table(_) => {
                if let Some(mt) = as_table(cx, v, &mw) {
                    for (k, x) in mt.entries() {
                        match section_names.iter().position(|n| n == k.v) {
                            Some(i) => {
                                if let Some(e) = quantity(
                                    cx,
                                    x,
                                    &format!("{mw} `{}`", k.v),
                                    Dimension::Fraction,
                                    Range01::PosFraction,
                                ) {
                                    murphree[i] = e;
                                }
                            }
                            None => unknown_section(cx, &what, k.v, k.span.clone(), &section_names),
                        }
                    }
                }
            }
            _ => {
                if let Some(e) = quantity(cx, v, &mw, Dimension::Fraction, Range01::PosFraction) {
                    murphree = vec![e; sections.len()];
                }
            }
        }
    }

    // Capacity.
    if let Some(v) = t.get("capacity") {
        for ct in tables(cx, v, &format!("{what} `capacity`")) {
            ct.check_keys(cx, keys::CAPACITY);
            let section = match opt_string(cx, &ct, "section") {
                Some(s) => match section_names.iter().position(|n| *n == s.v) {
                    Some(i) => Some(Some(i)),
                    None => {
                        unknown_section(cx, &what, &s.v, s.span, &section_names);
                        None
                    }
                },
                None => Some(None),
            };
            let limit = if ct.exclusive(cx, "max_flow", "mixer_volume") {
                None
            } else if ct.has("max_flow") {
                opt_quantity(cx, &ct, "max_flow", Dimension::VolumetricFlow, Range01::Pos)
                    .map(|f| CapacityLimit::MaxFlow { flow_vol: f })
            } else if ct.has("mixer_volume") {
                let vol = opt_quantity(cx, &ct, "mixer_volume", Dimension::Volume, Range01::Pos);
                let rt = req_quantity(cx, &ct, "residence_time", Dimension::Time, Range01::Pos);
                match (vol, rt) {
                    (Some(volume), Some(residence_time)) => Some(CapacityLimit::MixerVolume {
                        volume,
                        residence_time,
                    }),
                    _ => None,
                }
            } else {
                ct.missing(
                    cx,
                    "max_flow",
                    Some(
                        "give `max_flow = \"5 m3/h\"` or `mixer_volume` with `residence_time`"
                            .into(),
                    ),
                );
                None
            };
            if let (Some(section), Some(limit)) = (section, limit) {
                doc.capacities.push((
                    id.0,
                    Capacity {
                        circuit: id,
                        section,
                        limit,
                    },
                ));
            }
        }
    }

    // Equilibrium.
    let eq_span = t.get("equilibrium").map_or(t.span.clone(), |v| v.span());
    let equilibrium = match t.get("equilibrium") {
        None => {
            t.missing(cx, "equilibrium", Some("add `[circuit.equilibrium]` with `model = \"separation_factor\"` (or distribution, mass_action, empirical)".into()));
            None
        }
        Some(v) => as_table(cx, v, &format!("{what} `equilibrium`"))
            .and_then(|et| parse_equilibrium(cx, &et, &what, &sections, sections_ok, doc)),
    };

    cx.quiet_sections = false;
    let name = name?;
    if !sections_ok {
        return None;
    }
    Some(RawCircuit {
        circuit: Circuit {
            id,
            name: name.v,
            sections,
            feed_points,
            organic: organic?,
            equilibrium: equilibrium?,
            murphree,
        },
        name_span: name.span,
        eq_span,
        spans: CircuitSpans {
            sections: t.get("sections").map_or(t.span.clone(), |v| v.span()),
            feed_points: feed_point_spans,
            solutions: solution_spans,
        },
    })
}

fn unknown_section(cx: &mut Cx<'_>, what: &str, s: &str, span: Range<usize>, names: &[String]) {
    if cx.quiet_sections {
        return;
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let help = match did_you_mean_owned(s, &names) {
        Some(m) => format!("did you mean `{m}`?"),
        None => format!("sections of this circuit: {}", names.join(", ")),
    };
    cx.error(
        codes::UNKNOWN_KEY,
        format!("{what} has no section named \"{}\"", truncate(s)),
        span,
        Some(help),
    );
}

fn did_you_mean_owned<'a>(s: &str, names: &[&'a str]) -> Option<&'a str> {
    crate::diagnostic::did_you_mean(s, names)
}

fn check_section_order(cx: &mut Cx<'_>, what: &str, sections: &[Section], span: Range<usize>) {
    if let Some(first_scrub) = sections.iter().position(|s| s.kind == SectionKind::Scrub) {
        if !sections[..first_scrub]
            .iter()
            .any(|s| s.kind == SectionKind::Extraction)
        {
            cx.error(
                codes::BAD_SECTIONS,
                format!("{what}: scrub section comes before any extraction section"),
                span.clone(),
                Some("the organic flows through the sections in the order written: extraction, scrub, strip".into()),
            );
        }
    }
    let strips = sections
        .iter()
        .filter(|s| s.kind == SectionKind::Strip)
        .count();
    if strips > 1 {
        cx.error(
            codes::BAD_SECTIONS,
            format!("{what}: {strips} strip sections; a circuit has at most one"),
            span.clone(),
            Some("use a `wash` or `other` section, or a second circuit".into()),
        );
    }
    if let Some(si) = sections.iter().position(|s| s.kind == SectionKind::Strip) {
        if sections[si + 1..]
            .iter()
            .any(|s| matches!(s.kind, SectionKind::Extraction | SectionKind::Scrub))
        {
            cx.error(
                codes::BAD_SECTIONS,
                format!("{what}: extraction or scrub section after the strip section"),
                span,
                Some("the stripped organic leaves the circuit; put extraction and scrub before strip".into()),
            );
        }
    }
}

/// A circuit-wide stage number in 1..=n.
fn stage_number(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    key: &str,
    what: &str,
    n: usize,
    n_known: bool,
    required: bool,
) -> Option<usize> {
    let Some(v) = t.get(key) else {
        if required {
            t.missing(cx, key, None);
        }
        return None;
    };
    let s = int(cx, v, &format!("{what} `{key}`"), 0, u32::MAX as u64)?;
    if n_known && (s == 0 || s > n) {
        cx.error(
            codes::STAGE_OUTSIDE,
            format!("{what} stage {s}: feed stage is outside 1..={n}"),
            v.span(),
            Some(format!(
                "stages are numbered 1..={n} over all sections in the order written"
            )),
        );
        return None;
    }
    Some(s)
}

fn parse_organic(cx: &mut Cx<'_>, t: &Tbl<'_, '_>) -> Option<Organic> {
    t.check_keys(cx, keys::ORGANIC);
    let extractant = req_string(cx, t, "extractant").and_then(|s| {
        crate::extractants::resolve(&s.v).or_else(|| {
            let names = crate::extractants::names();
            let help = match crate::extractants::suggest(&s.v) {
                Some(m) => format!("did you mean \"{m}\"? known systems: {}", names.join(", ")),
                None => format!("known systems: {}", names.join(", ")),
            };
            cx.error(
                codes::UNKNOWN_EXTRACTANT,
                format!("{}: unknown extractant \"{}\"", t.what, truncate(&s.v)),
                s.span,
                Some(help),
            );
            None
        })
    });
    let conc = req_quantity_as(
        cx,
        t,
        "conc",
        Dimension::MolarConcentration,
        Range01::Pos,
        &plausible::CONC_EXTRACTANT,
    );
    let flow = req_quantity(cx, t, "flow", Dimension::VolumetricFlow, Range01::NonNeg);
    let sap = opt_quantity(
        cx,
        t,
        "saponification",
        Dimension::Fraction,
        Range01::Fraction,
    );
    let agent = opt_keyword(cx, t, "agent", BASES);
    let saponification = match (t.has("saponification"), sap, agent) {
        (true, Some(f), Some(agent)) => Some(Saponification { fraction: f, agent }),
        (true, Some(f), None) if !t.has("agent") => {
            if f > 0.0 {
                t.missing(
                    cx,
                    "agent",
                    Some("add `agent = \"NaOH\"` or `agent = \"NH3\"`".into()),
                );
                return None;
            }
            None
        }
        (true, _, _) => return None,
        (false, _, _) => None,
    };
    Some(Organic {
        extractant: extractant?,
        conc_mol: conc?,
        saponification,
        flow_vol: flow?,
    })
}

// ---------------------------------------------------------------------------------------
// Equilibrium models
// ---------------------------------------------------------------------------------------

const MODELS: &[(&str, u8)] = &[
    ("distribution", 0),
    ("separation_factor", 1),
    ("mass_action", 2),
    ("empirical", 3),
];

#[allow(clippy::too_many_arguments)]
fn parse_equilibrium(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    what: &str,
    sections: &[Section],
    sections_ok: bool,
    doc: &mut RawDoc,
) -> Option<Equilibrium> {
    let model = match t.get("model") {
        None => {
            t.missing(cx, "model", Some("model = \"distribution\" | \"separation_factor\" | \"mass_action\" | \"empirical\"".into()));
            return None;
        }
        Some(v) => keyword(cx, v, &format!("{} `model`", t.what), MODELS)?,
    };
    let source = opt_string(cx, t, "source").map(|s| s.v);
    let quality = opt_keyword(cx, t, "quality", QUALITIES);
    let names: Vec<String> = sections.iter().map(|s| s.name.clone()).collect();
    let n_total: usize = sections.iter().map(|s| s.n_stages).sum();
    let rec =
        |doc: &mut RawDoc, item: &str, et_source: Option<&str>, et_quality: Option<Quality>| {
            record(
                doc,
                format!("{what}: {item}"),
                et_source.or(source.as_deref()),
                et_quality.or(quality),
            );
        };
    match model {
        0 => {
            t.check_keys(cx, keys::EQUILIBRIUM_DISTRIBUTION);
            let v = match t.get("d") {
                Some(v) => v,
                None => {
                    t.missing(
                        cx,
                        "d",
                        Some("add `d = { Nd = 2.0, Pr = 1.3 }` (distribution ratios)".into()),
                    );
                    return None;
                }
            };
            let et = element_table(cx, v, &format!("{what} `d`"), false, |cx, v, w| {
                stage_values(cx, v, w, &names, n_total, sections_ok)
            })?;
            rec(
                doc,
                "distribution ratios d",
                et.source.as_deref(),
                et.quality,
            );
            Some(Equilibrium::Distribution(DistributionModel {
                d_ratio: et.values,
            }))
        }
        1 => {
            t.check_keys(cx, keys::EQUILIBRIUM_SEPARATION_FACTOR);
            let mut beta = BTreeMap::new();
            if let Some(v) = t.get("beta") {
                let et = element_table(cx, v, &format!("{what} `beta`"), false, |cx, v, w| {
                    quantity_as(
                        cx,
                        v,
                        w,
                        Dimension::Dimensionless,
                        Range01::Pos,
                        &plausible::BETA,
                    )
                })?;
                rec(
                    doc,
                    "relative extractabilities beta",
                    et.source.as_deref(),
                    et.quality,
                );
                beta = et.values;
            }
            let mut beta_section = vec![None; sections.len()];
            if let Some(v) = t.get("beta_section") {
                let bw = format!("{what} `beta_section`");
                if let Some(bt) = as_table(cx, v, &bw) {
                    for (k, x) in bt.entries() {
                        match names.iter().position(|n| n == k.v) {
                            Some(i) => {
                                if let Some(et) = element_table(
                                    cx,
                                    x,
                                    &format!("{bw} `{}`", k.v),
                                    false,
                                    |cx, v, w| {
                                        quantity_as(
                                            cx,
                                            v,
                                            w,
                                            Dimension::Dimensionless,
                                            Range01::Pos,
                                            &plausible::BETA,
                                        )
                                    },
                                ) {
                                    rec(
                                        doc,
                                        &format!("beta of section {}", k.v),
                                        et.source.as_deref(),
                                        et.quality,
                                    );
                                    beta_section[i] = Some(et.values);
                                }
                            }
                            None => unknown_section(cx, what, k.v, k.span.clone(), &names),
                        }
                    }
                }
            }
            let capacity = opt_quantity_as(
                cx,
                t,
                "loading_capacity",
                Dimension::MolarConcentration,
                Range01::Pos,
                &plausible::CONC_EXTRACTANT,
            );
            let mut loading: Vec<Option<SectionLoading>> = vec![None; sections.len()];
            let mut written = vec![false; sections.len()];
            if let Some(v) = t.get("extraction_ratio") {
                let ew = format!("{what} `extraction_ratio`");
                if let Some(et) = as_table(cx, v, &ew) {
                    for (k, x) in et.entries() {
                        let Some(i) = names.iter().position(|n| n == k.v) else {
                            unknown_section(cx, what, k.v, k.span.clone(), &names);
                            continue;
                        };
                        written[i] = true;
                        if x.get_ref().as_str() == Some("capacity") {
                            match capacity {
                                Some(c) => loading[i] = Some(SectionLoading::Capacity(c)),
                                None => {
                                    if !t.has("loading_capacity") {
                                        t.missing(cx, "loading_capacity", Some("`\"capacity\"` loads the organic to `loading_capacity = \"0.18 mol/L\"`".into()));
                                    }
                                }
                            }
                        } else if let Some(e) = quantity_as(
                            cx,
                            x,
                            &format!("{ew} `{}`", k.v),
                            Dimension::Dimensionless,
                            Range01::Pos,
                            &plausible::EXTRACTION_RATIO,
                        ) {
                            loading[i] = Some(SectionLoading::ExtractionRatio(e));
                        }
                    }
                }
            }
            if sections_ok {
                for (i, s) in sections.iter().enumerate() {
                    if matches!(s.kind, SectionKind::Extraction | SectionKind::Scrub)
                        && loading[i].is_none()
                        && !t.has("extraction_ratio")
                    {
                        t.missing(cx, "extraction_ratio", Some(format!("the separation-factor model needs the mixed extraction ratio of each extraction and scrub section, e.g. `extraction_ratio = {{ {} = 0.77 }}`", s.name)));
                        break;
                    }
                    if matches!(s.kind, SectionKind::Extraction | SectionKind::Scrub)
                        && !written[i]
                        && t.has("extraction_ratio")
                    {
                        let span = t
                            .get("extraction_ratio")
                            .map_or(t.span.clone(), |v| v.span());
                        cx.error(
                            codes::MISSING_KEY,
                            format!(
                                "{what} `extraction_ratio`: no value for section \"{}\"",
                                s.name
                            ),
                            span,
                            Some(format!(
                                "add `{} = 1.2` (a ratio) or `{} = \"capacity\"`",
                                s.name, s.name
                            )),
                        );
                    }
                }
            }
            Some(Equilibrium::SeparationFactor(SeparationFactorModel {
                beta,
                beta_section,
                loading,
            }))
        }
        2 => {
            t.check_keys(cx, keys::EQUILIBRIUM_MASS_ACTION);
            let mut k = BTreeMap::new();
            if let Some(v) = t.get("k_ex") {
                let et = element_table(cx, v, &format!("{what} `k_ex`"), false, |cx, v, w| {
                    quantity_as(
                        cx,
                        v,
                        w,
                        Dimension::Dimensionless,
                        Range01::Pos,
                        &plausible::K_EX,
                    )
                })?;
                rec(
                    doc,
                    "extraction constants k_ex",
                    et.source.as_deref(),
                    et.quality,
                );
                k = et.values;
            }
            let n = per_element_or_number(cx, t, "n_extractant", what, &plausible::DIMERS_PER_ION)?;
            let z = per_element_or_number(cx, t, "z_proton", what, &plausible::PROTONS_PER_ION)?;
            let capacity = opt_quantity_as(
                cx,
                t,
                "loading_capacity",
                Dimension::MolarConcentration,
                Range01::Pos,
                &plausible::CONC_EXTRACTANT,
            );
            let params = k
                .into_iter()
                .map(|(e, k_ex)| {
                    (
                        e,
                        MassActionParams {
                            k_ex,
                            n_extractant: n.0.get(&e).copied().or(n.1).unwrap_or(3.0),
                            z_proton: z
                                .0
                                .get(&e)
                                .copied()
                                .or(z.1)
                                .unwrap_or(f64::from(e.charge())),
                        },
                    )
                })
                .collect();
            Some(Equilibrium::MassAction(MassActionModel {
                params,
                loading_capacity: capacity,
            }))
        }
        _ => {
            t.check_keys(cx, keys::EQUILIBRIUM_EMPIRICAL);
            let measure = opt_keyword(
                cx,
                t,
                "measure",
                &[
                    ("mol/L", ExtractantMeasure::MolPerL),
                    ("vol%", ExtractantMeasure::VolumePercent),
                ],
            )
            .unwrap_or(ExtractantMeasure::MolPerL);
            let volume_percent = opt_quantity(
                cx,
                t,
                "volume_percent",
                Dimension::Dimensionless,
                Range01::Pos,
            );
            if measure == ExtractantMeasure::VolumePercent && !t.has("volume_percent") {
                t.missing(cx, "volume_percent", Some("`measure = \"vol%\"` needs the circuit's extractant volume percent, e.g. `volume_percent = 10`".into()));
            }
            let mut tables_: Vec<Option<BTreeMap<Element, f64>>> = Vec::new();
            for key in ["a", "a1", "b", "c"] {
                match t.get(key) {
                    Some(v) => {
                        let et =
                            element_table(cx, v, &format!("{what} `{key}`"), false, |cx, v, w| {
                                quantity_as(
                                    cx,
                                    v,
                                    w,
                                    Dimension::Dimensionless,
                                    Range01::Any,
                                    &plausible::LOG_D_COEFFICIENT,
                                )
                            });
                        if let Some(et) = &et {
                            rec(
                                doc,
                                &format!("log D coefficient {key}"),
                                et.source.as_deref(),
                                et.quality,
                            );
                        }
                        tables_.push(et.map(|e| e.values));
                    }
                    None => tables_.push(Some(BTreeMap::new())),
                }
            }
            let c = tables_.pop().flatten()?;
            let b = tables_.pop().flatten()?;
            let a1 = tables_.pop().flatten()?;
            let a = tables_.pop().flatten()?;
            let mut coef = BTreeMap::new();
            for (e, av) in &a {
                match b.get(e) {
                    Some(bv) => {
                        coef.insert(
                            *e,
                            EmpiricalCoef {
                                a: *av,
                                a1: a1.get(e).copied().unwrap_or(0.0),
                                b: *bv,
                                c: c.get(e).copied().unwrap_or(0.0),
                            },
                        );
                    }
                    None => {
                        let span = t.get("b").map_or(t.span.clone(), |v| v.span());
                        cx.error(
                            codes::MISSING_KEY,
                            format!("{what} `b`: no value for element {e}"),
                            span,
                            Some(format!("`a` gives {e}; give its intercept `b` too")),
                        );
                    }
                }
            }
            for e in b.keys() {
                if !a.contains_key(e) {
                    let span = t.get("a").map_or(t.span.clone(), |v| v.span());
                    cx.error(
                        codes::MISSING_KEY,
                        format!("{what} `a`: no value for element {e}"),
                        span,
                        Some(format!("`b` gives {e}; give its pH slope `a` too")),
                    );
                }
            }
            Some(Equilibrium::Empirical(EmpiricalModel {
                coef,
                measure,
                volume_percent,
            }))
        }
    }
}

type PerElement = (BTreeMap<Element, f64>, Option<f64>);

fn per_element_or_number(
    cx: &mut Cx<'_>,
    t: &Tbl<'_, '_>,
    key: &str,
    what: &str,
    p: &Plausible,
) -> Option<PerElement> {
    match t.get(key) {
        None => Some((BTreeMap::new(), None)),
        Some(v) if matches!(v.get_ref(), DeValue::Table(_)) => {
            let et = element_table(cx, v, &format!("{what} `{key}`"), true, |cx, v, w| {
                quantity_as(cx, v, w, Dimension::Dimensionless, Range01::Pos, p)
            })?;
            Some((et.values, et.default))
        }
        Some(v) => quantity_as(
            cx,
            v,
            &format!("{what} `{key}`"),
            Dimension::Dimensionless,
            Range01::Pos,
            p,
        )
        .map(|x| (BTreeMap::new(), Some(x))),
    }
}

/// A D value: number, `{ section = number }`, or `[per stage]`.
fn stage_values(
    cx: &mut Cx<'_>,
    v: &Val<'_>,
    what: &str,
    names: &[String],
    n_total: usize,
    sections_ok: bool,
) -> Option<StageValues> {
    match v.get_ref() {
        DeValue::Table(_) => {
            let t = as_table(cx, v, what)?;
            let mut vals: Vec<Option<f64>> = vec![None; names.len()];
            let mut ok = true;
            for (k, x) in t.entries() {
                match names.iter().position(|n| n == k.v) {
                    Some(i) => {
                        vals[i] = quantity_as(
                            cx,
                            x,
                            &format!("{what} `{}`", k.v),
                            Dimension::Dimensionless,
                            Range01::NonNeg,
                            &plausible::D_RATIO,
                        );
                        ok &= vals[i].is_some();
                    }
                    None => {
                        unknown_section(cx, what, k.v, k.span.clone(), names);
                        ok = false;
                    }
                }
            }
            if !ok {
                return None;
            }
            let missing: Vec<&str> = names
                .iter()
                .zip(&vals)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| n.as_str())
                .collect();
            if !missing.is_empty() && sections_ok {
                cx.error(
                    codes::MISSING_KEY,
                    format!("{what}: no value for section(s) {}", missing.join(", ")),
                    v.span(),
                    Some("per-section values need every section of the circuit".into()),
                );
                return None;
            }
            Some(StageValues::PerSection(
                vals.into_iter().map(|x| x.unwrap_or(0.0)).collect(),
            ))
        }
        DeValue::Array(a) => {
            let mut out = Vec::with_capacity(a.len().min(cx.limits.max_stages_per_circuit));
            let mut ok = true;
            for x in a.iter() {
                match quantity_as(
                    cx,
                    x,
                    what,
                    Dimension::Dimensionless,
                    Range01::NonNeg,
                    &plausible::D_RATIO,
                ) {
                    Some(d) => out.push(d),
                    None => ok = false,
                }
            }
            if sections_ok && out.len() != n_total && ok {
                cx.error(
                    codes::STAGE_OUTSIDE,
                    format!(
                        "{what}: {} per-stage values for a circuit of {n_total} stages",
                        out.len()
                    ),
                    v.span(),
                    Some("give one value per stage, stage 1 first".into()),
                );
                return None;
            }
            ok.then_some(StageValues::PerStage(out))
        }
        _ => quantity_as(
            cx,
            v,
            what,
            Dimension::Dimensionless,
            Range01::NonNeg,
            &plausible::D_RATIO,
        )
        .map(StageValues::Uniform),
    }
}

// ---------------------------------------------------------------------------------------
// Units, splitters, mixers, products
// ---------------------------------------------------------------------------------------

const UNIT_KINDS: &[(&str, u8)] = &[
    ("leach", 0),
    ("solid_liquid", 1),
    ("impurity_removal", 2),
    ("precipitation", 3),
    ("calcination", 4),
];

const REAGENTS: &[(&str, Reagent)] = &[
    ("HCl", Reagent::HCl),
    ("H2SO4", Reagent::H2SO4),
    ("HNO3", Reagent::HNO3),
    ("NaOH", Reagent::NaOH),
    ("NH3", Reagent::NH3),
    ("oxalic_acid", Reagent::OxalicAcid),
    ("extractant", Reagent::Extractant),
];

fn parse_unit(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, doc: &mut RawDoc) -> Option<RawNode<Unit>> {
    let name = node_name(cx, t, "unit", doc);
    let what = match &name {
        Some(n) => format!("unit \"{}\"", n.v),
        None => "unit".to_string(),
    };
    let t = Tbl::new(t.t, t.span.clone(), what.clone());
    let kind = match t.get("kind") {
        Some(v) => keyword(cx, v, &format!("{what} `kind`"), UNIT_KINDS),
        None => {
            t.missing(cx, "kind", Some("kind = \"leach\" | \"solid_liquid\" | \"impurity_removal\" | \"precipitation\" | \"calcination\"".into()));
            None
        }
    };
    let mut known = keys::UNIT.to_vec();
    if kind == Some(0) {
        known.extend(keys::LEACH);
    }
    t.check_keys(cx, &known);
    let from = opt_string(cx, &t, "from");
    let to = opt_string(cx, &t, "to");
    let source = opt_string(cx, &t, "source").map(|s| s.v);
    let quality = opt_keyword(cx, &t, "quality", QUALITIES);
    let kind = match kind? {
        0 => {
            let acid = match t.get("acid") {
                Some(v) => keyword(cx, v, &format!("{what} `acid`"), ACIDS),
                None => {
                    t.missing(cx, "acid", None);
                    None
                }
            };
            let conc = req_quantity(
                cx,
                &t,
                "conc",
                Dimension::MolarConcentration,
                Range01::NonNeg,
            );
            let ls = match t.get("liquid_to_solid") {
                Some(v) => quantity(
                    cx,
                    v,
                    &format!("{what} `liquid_to_solid`"),
                    Dimension::Dimensionless,
                    Range01::Pos,
                ),
                None => {
                    t.missing(cx, "liquid_to_solid", Some("liters of leach solution per kg of dry mud, e.g. `liquid_to_solid = 10`".into()));
                    None
                }
            };
            UnitKind::Leach {
                acid: acid?,
                conc_mol: conc?,
                liquid_to_solid: ls?,
            }
        }
        1 => UnitKind::SolidLiquid,
        2 => UnitKind::ImpurityRemoval,
        3 => UnitKind::Precipitation,
        _ => UnitKind::Calcination,
    };
    t.exclusive(cx, "recovery", "removal");
    let mut to_outlet = BTreeMap::new();
    let mut default_to_outlet = 1.0;
    let mut default_given = false;
    for (key, invert) in [("recovery", false), ("removal", true)] {
        if let Some(v) = t.get(key) {
            if let Some(et) = element_table(cx, v, &format!("{what} `{key}`"), true, |cx, v, w| {
                quantity(cx, v, w, Dimension::Fraction, Range01::Fraction)
            }) {
                let f = |x: f64| if invert { 1.0 - x } else { x };
                default_given = et.default.is_some();
                to_outlet = et.values.iter().map(|(e, x)| (*e, f(*x))).collect();
                default_to_outlet = et.default.map_or(if invert { 1.0 } else { 0.0 }, f);
                if et.default.is_none() && !invert {
                    // Recovery lists what goes to the outlet; unlisted elements stay behind.
                    default_to_outlet = 0.0;
                }
                record(
                    doc,
                    format!("{what}: {key} fractions"),
                    et.source.as_deref().or(source.as_deref()),
                    et.quality.or(quality),
                );
            }
        }
    }
    let mut reagents = Vec::new();
    if let Some(v) = t.get("reagents") {
        for rt in tables(cx, v, &format!("{what} `reagents`")) {
            rt.check_keys(cx, keys::REAGENT);
            let r = match rt.get("reagent") {
                Some(v) => keyword(cx, v, &format!("{what} reagent"), REAGENTS),
                None => {
                    rt.missing(cx, "reagent", None);
                    None
                }
            };
            let amount = match rt.get("mol_per_mol") {
                Some(v) => quantity(
                    cx,
                    v,
                    &format!("{what} reagent `mol_per_mol`"),
                    Dimension::Dimensionless,
                    Range01::NonNeg,
                ),
                None => {
                    rt.missing(cx, "mol_per_mol", None);
                    None
                }
            };
            let basis = match opt_string(cx, &rt, "per") {
                None => Some(ReagentBasis::ReyIn),
                Some(s) if s.v == "rey" => Some(ReagentBasis::ReyIn),
                Some(s) => element(cx, &s.v, s.span, &format!("{what} reagent `per`"))
                    .map(ReagentBasis::Element),
            };
            if let (Some(reagent), Some(mol_per_mol), Some(basis)) = (r, amount, basis) {
                reagents.push(ReagentUse {
                    reagent,
                    mol_per_mol,
                    basis,
                });
            }
        }
    }
    let name = name?;
    Some(RawNode {
        node: Unit {
            id: UnitId(doc.units.len()),
            name: name.v,
            kind,
            to_outlet,
            default_to_outlet,
            reagents,
            source,
            quality,
        },
        name_span: name.span,
        from,
        to,
        default_given,
    })
}

fn parse_splitter(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, doc: &mut RawDoc) -> Option<RawNode<Splitter>> {
    let name = node_name(cx, t, "splitter", doc);
    let what = match &name {
        Some(n) => format!("splitter \"{}\"", n.v),
        None => "splitter".to_string(),
    };
    let t = Tbl::new(t.t, t.span.clone(), what.clone());
    t.check_keys(cx, keys::SPLITTER);
    let from = opt_string(cx, &t, "from");
    let outlets = match t.get("outlets") {
        None => {
            t.missing(
                cx,
                "outlets",
                Some("add `outlets = { reflux = 0.3, product = 0.7 }`".into()),
            );
            None
        }
        Some(v) => as_table(cx, v, &format!("{what} `outlets`")).and_then(|ot| {
            let mut out = Vec::new();
            let mut ok = true;
            for (k, x) in ot.entries() {
                if matches!(k.v, "inlet") {
                    cx.error(
                        codes::UNKNOWN_VALUE,
                        format!("{what}: an outlet cannot be named \"inlet\""),
                        k.span.clone(),
                        None,
                    );
                    ok = false;
                    continue;
                }
                match quantity(
                    cx,
                    x,
                    &format!("{what} outlet `{}`", k.v),
                    Dimension::Fraction,
                    Range01::Fraction,
                ) {
                    Some(f) => out.push((k.v.to_string(), f)),
                    None => ok = false,
                }
            }
            if out.is_empty() && ok {
                cx.error(
                    codes::MISSING_KEY,
                    format!("{what} has no outlets"),
                    v.span(),
                    None,
                );
                return None;
            }
            let sum: f64 = out.iter().map(|(_, f)| f).sum();
            if ok && (sum - 1.0).abs() > 1e-6 {
                cx.error(
                    codes::SUM_NOT_ONE,
                    format!("{what}: outlet fractions sum to {}, not 1", fmt_num(sum)),
                    v.span(),
                    Some("the fractions split the inlet stream; make them add up to 1".into()),
                );
                return None;
            }
            ok.then_some(out)
        }),
    };
    let name = name?;
    Some(RawNode {
        node: Splitter {
            id: SplitterId(doc.splitters.len()),
            name: name.v,
            outlets: outlets?,
        },
        name_span: name.span,
        from,
        to: None,
        default_given: false,
    })
}

fn parse_mixer(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, doc: &mut RawDoc) -> Option<RawNode<Mixer>> {
    let name = node_name(cx, t, "mixer", doc);
    t.check_keys(cx, keys::MIXER);
    let what = name
        .as_ref()
        .map_or("mixer".to_string(), |n| format!("mixer \"{}\"", n.v));
    let n = match t.get("inlets") {
        Some(v) => int(cx, v, &format!("{what} `inlets`"), 1, 64),
        None => {
            t.missing(cx, "inlets", Some("add `inlets = 2`".into()));
            None
        }
    };
    let to = opt_string(cx, t, "to");
    let name = name?;
    Some(RawNode {
        node: Mixer {
            id: MixerId(doc.mixers.len()),
            name: name.v,
            n_inlets: n?,
        },
        name_span: name.span,
        from: None,
        to,
        default_given: false,
    })
}

fn parse_product(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, doc: &mut RawDoc) -> Option<RawProduct> {
    let name = node_name(cx, t, "product", doc);
    let what = name
        .as_ref()
        .map_or("product".to_string(), |n| format!("product \"{}\"", n.v));
    let t = Tbl::new(t.t, t.span.clone(), what.clone());
    t.check_keys(cx, keys::PRODUCT);
    let from = opt_string(cx, &t, "from");
    let kind = opt_keyword(
        cx,
        &t,
        "kind",
        &[
            ("aqueous", ProductKind::Aqueous),
            ("organic", ProductKind::Organic),
            ("oxide", ProductKind::Oxide),
        ],
    );
    if t.has("kind") && kind.is_none() {
        return None;
    }
    let mut purity = None;
    if let Some(v) = t.get("purity") {
        let pw = format!("{what} `purity`");
        if let Some(pt) = as_table(cx, v, &pw) {
            pt.check_keys(cx, keys::PURITY);
            pt.exclusive(cx, "element", "elements");
            let mut elements = Vec::new();
            if let Some(s) = opt_string(cx, &pt, "element") {
                elements.extend(element(cx, &s.v, s.span, &pw));
            } else if let Some(ev) = pt.get("elements") {
                match ev.get_ref() {
                    DeValue::Array(a) => {
                        for x in a.iter() {
                            if let Some(s) = string(cx, x, &pw) {
                                elements.extend(element(cx, &s.v, s.span, &pw));
                            }
                        }
                    }
                    _ => wrong_type(cx, &pw, "an array of element symbols", ev),
                }
            } else {
                pt.missing(cx, "element", None);
            }
            let min = req_quantity(cx, &pt, "min", Dimension::Fraction, Range01::Fraction);
            let basis = opt_keyword(
                cx,
                &pt,
                "basis",
                &[
                    ("mole", PurityBasis::Mole),
                    ("oxide_mass", PurityBasis::OxideMass),
                ],
            );
            let source = opt_string(cx, &pt, "source").map(|s| s.v);
            if let Some(min) = min {
                if !elements.is_empty() {
                    purity = Some(PuritySpec {
                        elements,
                        min,
                        basis: basis.unwrap_or(PurityBasis::Mole),
                        source,
                    });
                }
            }
        }
    }
    let mut recovery = Vec::new();
    if let Some(v) = t.get("recovery") {
        if let Some(et) = element_table(cx, v, &format!("{what} `recovery`"), false, |cx, v, w| {
            quantity(cx, v, w, Dimension::Fraction, Range01::Fraction)
        }) {
            recovery = et
                .values
                .into_iter()
                .map(|(element, min)| RecoverySpec { element, min })
                .collect();
        }
    }
    let name = name?;
    Some(RawProduct {
        name,
        from,
        kind: kind.unwrap_or(ProductKind::Aqueous),
        purity,
        recovery,
    })
}

// ---------------------------------------------------------------------------------------
// Prices, optimize, data overrides
// ---------------------------------------------------------------------------------------

fn parse_prices(cx: &mut Cx<'_>, t: &Tbl<'_, '_>) -> Option<Prices> {
    t.check_keys(cx, keys::PRICES);
    let set = match opt_string(cx, t, "set") {
        Some(s) if sxplan_chem::prices::price_set(&s.v).is_some() => Some(s.v),
        Some(s) => {
            let ids: Vec<&str> = sxplan_chem::prices::price_sets()
                .iter()
                .map(|p| p.id)
                .collect();
            let help = match did_you_mean_owned(&s.v, &ids) {
                Some(m) => format!("did you mean \"{m}\"?"),
                None => format!("built-in price sets: {}", ids.join(", ")),
            };
            cx.error(
                codes::UNKNOWN_VALUE,
                format!("`prices.set`: unknown price set \"{}\"", truncate(&s.v)),
                s.span,
                Some(help),
            );
            None
        }
        None => None,
    };
    let date = opt_string(cx, t, "date").map(|s| s.v);
    let source = opt_string(cx, t, "source").map(|s| s.v);
    let quality = opt_keyword(cx, t, "quality", QUALITIES);
    let read_price = |cx: &mut Cx<'_>, v: &Val<'_>, w: &str| -> Option<Price> {
        match v.get_ref() {
            DeValue::Table(_) => {
                let pt = as_table(cx, v, w)?;
                pt.check_keys(cx, keys::PRICE);
                let p = req_quantity(cx, &pt, "price", Dimension::PricePerMass, Range01::NonNeg);
                let d = opt_string(cx, &pt, "date").map(|s| s.v);
                let s = opt_string(cx, &pt, "source").map(|s| s.v);
                let q = opt_keyword(cx, &pt, "quality", QUALITIES);
                Some(Price {
                    usd_per_kg: p?,
                    date: d.or_else(|| date.clone()),
                    source: s.or_else(|| source.clone()),
                    quality: q.or(quality),
                })
            }
            _ => quantity(cx, v, w, Dimension::PricePerMass, Range01::NonNeg).map(|p| Price {
                usd_per_kg: p,
                date: date.clone(),
                source: source.clone(),
                quality,
            }),
        }
    };
    let mut oxide = BTreeMap::new();
    if let Some(v) = t.get("oxide") {
        if let Some(et) = element_table(cx, v, "`prices.oxide`", false, |cx, v, w| {
            read_price(cx, v, w)
        }) {
            oxide = et.values;
        }
    }
    let mut reagent = BTreeMap::new();
    if let Some(v) = t.get("reagent") {
        if let Some(rt) = as_table(cx, v, "`prices.reagent`") {
            for (k, x) in rt.entries() {
                let names: Vec<&str> = REAGENTS.iter().map(|(n, _)| *n).collect();
                match REAGENTS.iter().find(|(n, _)| *n == k.v) {
                    Some((_, r)) => {
                        if let Some(p) = read_price(cx, x, &format!("`prices.reagent` `{}`", k.v)) {
                            reagent.insert(*r, p);
                        }
                    }
                    None => {
                        let help = did_you_mean_owned(k.v, &names).map_or_else(
                            || format!("known reagents: {}", names.join(", ")),
                            |m| format!("did you mean `{m}`?"),
                        );
                        cx.error(
                            codes::UNKNOWN_VALUE,
                            format!("`prices.reagent`: unknown reagent `{}`", truncate(k.v)),
                            k.span.clone(),
                            Some(help),
                        );
                    }
                }
            }
        }
    }
    let operating_cost_per_h = match t.get("operating_cost") {
        Some(v) => Some(quantity(
            cx,
            v,
            "`prices.operating_cost` (US$/h)",
            Dimension::Dimensionless,
            Range01::NonNeg,
        )?),
        None => None,
    };
    Some(Prices {
        set,
        oxide,
        reagent,
        operating_cost_per_h,
    })
}

/// `[solver]`: the run budget. `time_limit` is a time (`"30 s"`, `"2 min"`) within the
/// plausible range of a run ([`crate::limits::plausible::RUN_TIME`]), kept in s;
/// `max_iterations` an integer in 1..=1e12.
fn parse_solver(cx: &mut Cx<'_>, t: &Tbl<'_, '_>) -> SolverSettings {
    t.check_keys(cx, keys::SOLVER);
    let time_limit_s = t.get("time_limit").and_then(|v| {
        quantity_as(
            cx,
            v,
            "`solver.time_limit`",
            Dimension::Time,
            Range01::Pos,
            &crate::limits::plausible::RUN_TIME,
        )
        .map(|h| h * 3600.0)
    });
    let max_iterations = t
        .get("max_iterations")
        .and_then(|v| int(cx, v, "`solver.max_iterations`", 1, 1_000_000_000_000));
    SolverSettings {
        time_limit_s,
        max_iterations,
    }
}

/// `[plant]`: operating hours per year (a time, at most a leap year's 8,784 h) and the
/// equipment-sizing basis (residence time, settling rate in m3/(m2 h), organic depth in m,
/// pipework allowance as a fraction).
fn parse_plant(cx: &mut Cx<'_>, t: &Tbl<'_, '_>) -> crate::flowsheet::PlantSettings {
    t.check_keys(cx, keys::PLANT);
    let operating_hours = t.get("operating_hours").and_then(|v| {
        let h = quantity(
            cx,
            v,
            "`plant.operating_hours`",
            Dimension::Time,
            Range01::Pos,
        )?;
        if h > 8784.0 {
            cx.error(
                codes::OUT_OF_RANGE,
                format!("`plant.operating_hours`: {h} h is more than a year (8,784 h)"),
                v.span(),
                Some("operating hours are per year: write e.g. \"8000 h\"".into()),
            );
            return None;
        }
        Some(h)
    });
    let mixer_residence_time =
        opt_quantity(cx, t, "mixer_residence_time", Dimension::Time, Range01::Pos);
    let settling_rate = t.get("settling_rate").and_then(|v| {
        quantity(
            cx,
            v,
            "`plant.settling_rate` (m3/(m2 h))",
            Dimension::Dimensionless,
            Range01::Pos,
        )
    });
    let settler_organic_depth = t.get("settler_organic_depth").and_then(|v| {
        quantity(
            cx,
            v,
            "`plant.settler_organic_depth` (m)",
            Dimension::Dimensionless,
            Range01::Pos,
        )
    });
    let pipework_allowance = opt_quantity(
        cx,
        t,
        "pipework_allowance",
        Dimension::Fraction,
        Range01::Fraction,
    );
    crate::flowsheet::PlantSettings {
        operating_hours,
        mixer_residence_time,
        settling_rate,
        settler_organic_depth,
        pipework_allowance,
    }
}

fn parse_optimize(cx: &mut Cx<'_>, t: &Tbl<'_, '_>) -> Option<RawOptimize> {
    t.check_keys(cx, keys::OPTIMIZE);
    let objective = match t.get("objective") {
        Some(v) => keyword(
            cx,
            v,
            "`optimize.objective`",
            &[
                ("max_throughput", Objective::MaxThroughput),
                ("min_reagent_cost", Objective::MinReagentCost),
                ("max_margin", Objective::MaxMargin),
            ],
        ),
        None => {
            t.missing(
                cx,
                "objective",
                Some(
                    "objective = \"max_throughput\" | \"min_reagent_cost\" | \"max_margin\"".into(),
                ),
            );
            None
        }
    };
    let max_passes = t
        .get("max_passes")
        .and_then(|v| int(cx, v, "`optimize.max_passes`", 1, 10_000));
    let mut free = Vec::new();
    if let Some(v) = t.get("free") {
        for ft in tables(cx, v, "`optimize.free`") {
            ft.check_keys(cx, keys::FREE);
            let kinds: Vec<(&str, OperatingVarKind)> = OperatingVarKind::ALL
                .iter()
                .map(|k| (k.as_str(), *k))
                .collect();
            let var = ft.get("var").and_then(|v| {
                keyword(cx, v, "`optimize.free` `var`", &kinds).map(|k| sp(k, v.span()))
            });
            if !ft.has("var") {
                let names: Vec<&str> = kinds.iter().map(|(n, _)| *n).collect();
                ft.missing(cx, "var", Some(format!("one of: {}", names.join(", "))));
            }
            let of = req_string(cx, &ft, "of");
            let Some(kind) = var.as_ref().map(|v| v.v) else {
                continue;
            };
            // `None`: a flow, volumetric or (for a mud feed) mass
            let dim = kind.info().measure.bound_dimension();
            let bound = |cx: &mut Cx<'_>, key: &str| -> Option<f64> {
                let Some(v) = ft.get(key) else {
                    ft.missing(cx, key, None);
                    return None;
                };
                let w = format!("`optimize.free` `{key}`");
                match dim {
                    Some(d) => quantity(cx, v, &w, d, Range01::NonNeg),
                    // flows: volumetric, or mass flow for mud feeds (converted to t/h)
                    None => match v.get_ref() {
                        DeValue::String(s)
                            if sxplan_chem::parse_quantity(s)
                                .is_ok_and(|q| q.dimension == Dimension::MassFlow) =>
                        {
                            quantity(cx, v, &w, Dimension::MassFlow, Range01::NonNeg)
                                .map(|x| x / 1000.0)
                        }
                        _ => quantity(cx, v, &w, Dimension::VolumetricFlow, Range01::NonNeg),
                    },
                }
            };
            let lower = bound(cx, "min");
            let upper = bound(cx, "max");
            if let (Some(var), Some(of), Some(lower), Some(upper)) = (var, of, lower, upper) {
                if lower > upper {
                    cx.error(
                        codes::BAD_OPTIMIZE,
                        format!(
                            "`optimize.free` {} of \"{}\": min {} is above max {}",
                            var.v,
                            of.v,
                            source_text(cx, &ft, "min"),
                            source_text(cx, &ft, "max")
                        ),
                        ft.span.clone(),
                        None,
                    );
                    continue;
                }
                free.push(RawFree {
                    var,
                    of,
                    lower,
                    upper,
                });
            }
        }
    }
    Some(RawOptimize {
        objective: objective?,
        free,
        max_passes,
    })
}

/// The source text of a key's value (for messages that quote what the user wrote).
/// The TOML literal of `key` as written (quotes included), cut after 40 characters, on one
/// line.
fn source_text(cx: &Cx<'_>, t: &Tbl<'_, '_>, key: &str) -> String {
    let raw = t.get(key).and_then(|v| cx.src.get(v.span())).unwrap_or("");
    let mut out: String = raw
        .chars()
        .take(40)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if raw.chars().count() > 40 {
        out.push_str("...");
    }
    out
}

fn parse_override(cx: &mut Cx<'_>, t: &Tbl<'_, '_>, doc: &mut RawDoc) {
    t.check_keys(cx, keys::OVERRIDE);
    let key = req_string(cx, t, "key");
    let value = match t.get("value") {
        Some(v) => match v.get_ref() {
            DeValue::String(s) => match sxplan_chem::parse_quantity(s) {
                Ok(q) => quantity(cx, v, "`data.override` `value`", q.dimension, Range01::Any),
                Err(_) => quantity(
                    cx,
                    v,
                    "`data.override` `value`",
                    Dimension::Dimensionless,
                    Range01::Any,
                ),
            },
            _ => quantity(
                cx,
                v,
                "`data.override` `value`",
                Dimension::Dimensionless,
                Range01::Any,
            ),
        },
        None => {
            t.missing(cx, "value", None);
            None
        }
    };
    let source = opt_string(cx, t, "source").map(|s| s.v);
    let quality = opt_keyword(cx, t, "quality", QUALITIES);
    if let (Some(key), Some(value)) = (key, value) {
        record(
            doc,
            format!("override {}", key.v),
            source.as_deref(),
            quality,
        );
        doc.overrides.push(DataOverride {
            key: key.v,
            value,
            source,
            quality,
        });
    }
}
