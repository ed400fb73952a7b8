//! Renderers for `sxplan check` results: versioned JSON of the diagnostics and a per-file summary.

use serde::Serialize;
use sxplan_model::{CheckOutput, DataUse, Diagnostic, Flowsheet};

/// Version of the `check` JSON document.
pub const CHECK_JSON_VERSION: u32 = 1;

/// Counts that describe a checked flowsheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowsheetSummary {
    /// Flowsheet name.
    pub name: String,
    /// Feeds.
    pub feeds: usize,
    /// SX circuits.
    pub circuits: usize,
    /// Stages over all circuits.
    pub stages: usize,
    /// Linear units.
    pub units: usize,
    /// Links (streams between nodes).
    pub links: usize,
    /// Products.
    pub products: usize,
    /// Species tracked.
    pub elements: Vec<String>,
}

impl FlowsheetSummary {
    /// Summary of a lowered flowsheet.
    pub fn of(fs: &Flowsheet) -> FlowsheetSummary {
        FlowsheetSummary {
            name: fs.name.clone(),
            feeds: fs.feeds.len(),
            circuits: fs.circuits.len(),
            stages: fs.total_stages(),
            units: fs.units.len(),
            links: fs.links.len(),
            products: fs.products.len(),
            elements: fs.elements.iter().map(|e| e.symbol().to_string()).collect(),
        }
    }

    /// One line: `2 circuits, 120 stages, 3 feeds, 9 links, 4 products, 15 elements`.
    pub fn line(&self) -> String {
        format!(
            "{} circuit{}, {} stages, {} feed{}, {} unit{}, {} links, {} product{}, {} elements",
            self.circuits,
            plural(self.circuits),
            self.stages,
            self.feeds,
            plural(self.feeds),
            self.units,
            plural(self.units),
            self.links,
            self.products,
            plural(self.products),
            self.elements.len()
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[derive(Serialize)]
struct FileJson<'a> {
    file: &'a str,
    ok: bool,
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
    summary: Option<FlowsheetSummary>,
    data_used: &'a [DataUse],
}

#[derive(Serialize)]
struct DocJson<'a> {
    schema_version: u32,
    ok: bool,
    files: Vec<FileJson<'a>>,
}

/// The JSON document for a set of checked files: `{ schema_version, ok, files: [{ file, ok,
/// errors, warnings, diagnostics: [{ severity, code, message, span: {start, end}, line, col,
/// help }], summary, data_used: [{ item, source, quality, built_in }] }] }`.
pub fn check_json(files: &[(&str, &CheckOutput)]) -> String {
    let files: Vec<FileJson<'_>> = files
        .iter()
        .map(|(name, out)| FileJson {
            file: name,
            ok: out.error_count() == 0,
            errors: out.error_count(),
            warnings: out.warning_count(),
            diagnostics: &out.diagnostics,
            summary: out.flowsheet.as_ref().map(FlowsheetSummary::of),
            data_used: out
                .flowsheet
                .as_ref()
                .map_or(&[], |f| f.data_used.as_slice()),
        })
        .collect();
    let doc = DocJson {
        schema_version: CHECK_JSON_VERSION,
        ok: files.iter().all(|f| f.ok),
        files,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_carries_codes_and_positions() {
        let out = sxplan_model::check_str("schema = 1\nbogus = 1\n");
        let json = check_json(&[("x.toml", &out)]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["ok"], false);
        let d = &v["files"][0]["diagnostics"][0];
        assert_eq!(d["code"], "E0101");
        assert_eq!(d["line"], 2);
        assert_eq!(d["col"], 1);
        assert_eq!(d["span"]["start"], 11);
    }
}
