//! The JSON Schema of the flowsheet language, generated from the one key table
//! (`sxplan_model::keys`), with each key's meaning taken from the reference page
//! (docs/flowsheet-reference.md), so an editor (taplo / Even Better TOML) completes keys, shows
//! their docs on hover and flags unknown ones. Shipped as docs/flowsheet.schema.json;
//! `tests/json_schema.rs` keeps the file equal to what this generates.
//!
//! The schema checks keys (which tables accept which keys) and the shape of tables and arrays
//! of tables; values are left to `sxplan check` (quantities with units, names, ranges).

use serde_json::{json, Map, Value};
use sxplan_model::keys;

/// The reference page the descriptions come from.
const REFERENCE: &str = include_str!("../../docs/flowsheet-reference.md");

/// The end of the description of a key whose meaning is not in a table of the reference page.
pub(crate) const FALLBACK: &str = "; see docs/flowsheet-reference.md";

/// The schema document, pretty-printed with a trailing newline.
pub fn flowsheet_schema() -> String {
    let mut s = serde_json::to_string_pretty(&schema_value()).unwrap_or_default();
    s.push('\n');
    s
}

/// The meaning column of `key`'s row in the section under the heading starting with `heading`
/// (a `## ` heading spans its subsections; a `### ` one ends at the next heading); none for
/// an empty heading.
fn meaning(heading: &str, key: &str) -> Option<String> {
    if heading.is_empty() {
        return None;
    }
    let mut lines = REFERENCE.lines();
    lines.by_ref().find(|l| l.starts_with(heading))?;
    let top = heading.starts_with("## ");
    let tick = format!("`{key}`");
    for l in lines {
        if (top && l.starts_with("## ")) || (!top && l.starts_with('#')) {
            break;
        }
        let cells: Vec<&str> = l.split(" | ").collect();
        if l.starts_with("| ") && cells.len() >= 3 && cells[0].contains(&tick) {
            let m = cells[cells.len() - 1].trim_end_matches('|').trim();
            return Some(m.to_string());
        }
    }
    None
}

/// An object accepting exactly `keys`, each described from the section under `heading`, with
/// the sub-schemas in `sub` for keys whose values are tables.
fn table(title: &str, heading: &str, keys: &[&str], sub: &[(&str, Value)]) -> Value {
    let mut props = Map::new();
    for k in keys {
        let mut p = sub
            .iter()
            .find(|(s, _)| s == k)
            .map_or_else(|| json!({}), |(_, v)| v.clone());
        // keys the reference page describes in prose rather than in a table get a pointer
        let m = meaning(heading, k).unwrap_or_else(|| format!("{title} key `{k}`{FALLBACK}"));
        if let Some(obj) = p.as_object_mut() {
            obj.entry("description").or_insert(Value::String(m));
        }
        props.insert((*k).to_string(), p);
    }
    json!({
        "type": "object",
        "description": format!("{title} (docs/flowsheet-reference.md)"),
        "properties": props,
        "additionalProperties": false,
    })
}

/// A table, or an array of them (the parser's `tables`). An if/then/else rather than an
/// `anyOf`, so that a validator reports the unknown key inside instead of "not valid under
/// any of the schemas".
fn one_or_many(r: &str) -> Value {
    json!({
        "type": ["object", "array"],
        "if": { "type": "array" },
        "then": { "items": { "$ref": format!("#/definitions/{r}") } },
        "else": { "$ref": format!("#/definitions/{r}") },
    })
}

fn reference(r: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{r}") })
}

/// A table name -> price: a number, a quantity string, or `{ price, date, source, quality }`.
fn price_map() -> Value {
    json!({
        "type": "object",
        "additionalProperties": { "anyOf": [
            { "type": ["number", "string"] },
            reference("price"),
        ]},
    })
}

/// The keys of `a` and `b` together, in order, without repeats.
fn union<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|k| !a.contains(k)));
    out
}

/// The keys `when` if `key` has the value `value`, else the keys `otherwise`.
fn only_when(key: &str, value: &str, when: &[&str], otherwise: &[&str]) -> Value {
    json!({
        "if": { "properties": { key: { "const": value } }, "required": [key] },
        "then": { "propertyNames": { "enum": when } },
        "else": { "propertyNames": { "enum": otherwise } },
    })
}

fn schema_value() -> Value {
    let feed_keys = union(keys::FEED_SOLUTION, keys::FEED_MUD);
    let mut feed = table("[[feed]]", "## 3.", &feed_keys, &[]);
    merge(
        &mut feed,
        only_when("phase", "mud", keys::FEED_MUD, keys::FEED_SOLUTION),
    );

    let mut circuit = table(
        "[[circuit]]",
        "## 4.",
        keys::CIRCUIT,
        &[
            ("sections", one_or_many("section")),
            ("feed_point", one_or_many("feed_point")),
            ("organic", reference("organic")),
            ("equilibrium", reference("equilibrium")),
            ("capacity", one_or_many("capacity")),
        ],
    );
    // one solution table per non-extraction section, named after the section
    circuit["additionalProperties"] = reference("solution");

    let models: [(&str, &[&str]); 4] = [
        ("distribution", keys::EQUILIBRIUM_DISTRIBUTION),
        ("separation_factor", keys::EQUILIBRIUM_SEPARATION_FACTOR),
        ("mass_action", keys::EQUILIBRIUM_MASS_ACTION),
        ("empirical", keys::EQUILIBRIUM_EMPIRICAL),
    ];
    let eq_keys = models
        .iter()
        .fold(Vec::new(), |acc: Vec<&str>, (_, k)| union(&acc, k));
    let mut equilibrium = table("[circuit.equilibrium]", "### Equilibrium", &eq_keys, &[]);
    let all_of: Vec<Value> = models
        .iter()
        .map(|(m, k)| {
            json!({
                "if": { "properties": { "model": { "const": m } }, "required": ["model"] },
                "then": { "propertyNames": { "enum": k } },
            })
        })
        .collect();
    equilibrium["allOf"] = Value::Array(all_of);

    let unit_keys = union(keys::UNIT, keys::LEACH);
    let mut unit = table(
        "[[unit]]",
        "## 5.",
        &unit_keys,
        &[("reagents", one_or_many("reagent"))],
    );
    // the leach keys only on a leach unit
    merge(
        &mut unit,
        only_when("kind", "leach", &unit_keys, keys::UNIT),
    );

    let definitions = json!({
        "feed": feed,
        "circuit": circuit,
        "section": table("[[circuit]] sections", "### Sections", keys::SECTION, &[]),
        "feed_point": table("[[circuit]] feed_point", "", keys::FEED_POINT, &[]),
        "solution": table("[circuit.<section>] solution", "### Scrub, strip", keys::SOLUTION, &[]),
        "organic": table("[circuit.organic]", "### Organic", keys::ORGANIC, &[]),
        "capacity": table("[circuit] capacity", "### Capacity", keys::CAPACITY, &[]),
        "equilibrium": equilibrium,
        "unit": unit,
        "reagent": table("[[unit]] reagents", "## 5.", keys::REAGENT, &[]),
        "splitter": table("[[splitter]]", "## 6.", keys::SPLITTER, &[]),
        "mixer": table("[[mixer]]", "## 6.", keys::MIXER, &[]),
        "purge": table("[[purge]]", "## 6.", keys::PURGE, &[]),
        "link": table("[[link]]", "## 7.", keys::LINK, &[]),
        "product": table("[[product]]", "## 8.", keys::PRODUCT, &[("purity", reference("purity"))]),
        "purity": table("[[product]] purity", "## 8.", keys::PURITY, &[]),
        "prices": table("[prices]", "## 9.", keys::PRICES, &[
            ("oxide", price_map()),
            ("reagent", price_map()),
        ]),
        "price": table("[prices] price", "## 9.", keys::PRICE, &[]),
        "optimize": table("[optimize]", "## 10.", keys::OPTIMIZE, &[("free", one_or_many("free"))]),
        "free": table("[optimize] free", "## 10.", keys::FREE, &[]),
        "solver": table("[solver]", "### `[solver]`", keys::SOLVER, &[]),
        "plant": table("[plant]", "### `[plant]`", keys::PLANT, &[]),
        "data": table("[data]", "## 11.", keys::DATA, &[("override", one_or_many("override"))]),
        "override": table("[[data.override]]", "## 11.", keys::OVERRIDE, &[]),
    });
    let mut top = table(
        "sxplan flowsheet, schema 1",
        "## 2.",
        keys::TOP,
        &[
            ("schema", json!({ "type": "integer", "enum": [1] })),
            ("feed", one_or_many("feed")),
            ("circuit", one_or_many("circuit")),
            ("unit", one_or_many("unit")),
            ("splitter", one_or_many("splitter")),
            ("mixer", one_or_many("mixer")),
            ("purge", one_or_many("purge")),
            ("link", one_or_many("link")),
            ("product", one_or_many("product")),
            ("prices", reference("prices")),
            ("optimize", reference("optimize")),
            ("solver", reference("solver")),
            ("plant", reference("plant")),
            ("data", reference("data")),
        ],
    );
    let obj = top.as_object_mut().map(std::mem::take).unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-07/schema#"),
    );
    out.insert(
        "$id".into(),
        json!("https://sxplan.invalid/flowsheet.schema.json"),
    );
    out.insert("title".into(), json!("sxplan flowsheet"));
    out.extend(obj);
    out.insert("definitions".into(), definitions);
    Value::Object(out)
}

/// Adds the fields of `extra` (an object) to `target` (an object).
fn merge(target: &mut Value, extra: Value) {
    if let (Some(t), Value::Object(e)) = (target.as_object_mut(), extra) {
        t.extend(e);
    }
}
