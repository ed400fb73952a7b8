//! The shipped JSON Schema of the flowsheet language (docs/flowsheet.schema.json) is what the
//! generator makes from the parser's key table, and names every key the parser accepts.
//! `UPDATE_EXPECT=1 cargo test --test json_schema` rewrites the file. Validating flowsheets
//! against it with a maintained validator is in crates/python/tests/test_schema.py (jsonschema).

const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/flowsheet.schema.json");

#[test]
fn shipped_schema_is_generated_from_the_key_table() {
    let generated = sxplan::flowsheet_schema();
    if std::env::var("UPDATE_EXPECT").ok().as_deref() == Some("1") {
        std::fs::write(SHIPPED, &generated).unwrap();
    }
    let shipped = std::fs::read_to_string(SHIPPED).unwrap_or_default();
    assert!(
        shipped == generated,
        "docs/flowsheet.schema.json is stale: run UPDATE_EXPECT=1 cargo test --test json_schema"
    );
}

#[test]
fn schema_names_every_key_the_parser_accepts() {
    let v: serde_json::Value = serde_json::from_str(&sxplan::flowsheet_schema()).unwrap();
    let defs = v["definitions"].as_object().unwrap();
    let mut named = std::collections::BTreeSet::new();
    let mut collect = |obj: &serde_json::Value| {
        if let Some(p) = obj["properties"].as_object() {
            named.extend(p.keys().cloned());
        }
    };
    collect(&v);
    defs.values().for_each(&mut collect);
    let mut described = 0;
    for (table, keys) in sxplan::model::keys::ALL {
        for k in *keys {
            assert!(
                named.contains(*k),
                "{table}: key `{k}` is not in the schema"
            );
        }
    }
    for d in defs.values().chain(std::iter::once(&v)) {
        for p in d["properties"].as_object().unwrap().values() {
            let d = p["description"].as_str().unwrap_or_default();
            assert!(!d.is_empty(), "a key without a description");
            described += usize::from(!d.ends_with("; see docs/flowsheet-reference.md"));
        }
    }
    // every key has hover docs; most come from the reference page's tables
    assert!(described >= 90, "only {described} keys have a description");
}
