//! The last line of defence against numbers that are not results: before a command reports
//! success, its result (as the JSON it prints) is searched for values that are not finite.
//!
//! serde_json writes NaN and infinity as `null`, so a `null` in a field the JSON schema
//! documents as a number is a non-finite value; the fields that may be `null` by design
//! (`Option` fields of the result types, docs/simulate-json.md) are listed in `MAY_BE_NULL`.
//! A run with such a value is not converged: `check` refuses the absurd magnitudes that lead
//! there (docs/hardening.md), and this guard catches what arithmetic still overflows.

use serde_json::Value;

/// Fields of a simulate result that are `null` by design when absent (not a non-finite number).
pub const MAY_BE_NULL: &[&str] = &[
    "free_extractant",
    "loading_fraction",
    "t_per_t_reo",
    "purity_spec",
    "acid_budget",
    "h_strip_mol_per_h",
];

/// Fields of an optimize result that are `null` by design when absent: the purity and its
/// minimum of a product without a purity spec, the LP's time and iteration count where the
/// backend reports none, the confirmation of a point not re-simulated, the reason of a run
/// that ended `optimal`.
pub const OPTIMIZE_MAY_BE_NULL: &[&str] = &[
    "reason",
    "purity",
    "purity_min",
    "lp_time_s",
    "lp_iterations",
    "confirmation",
];

/// JSON paths (`circuits[0].stages[3].ph`) of numbers that are not finite in a simulate
/// result, at most 10.
pub fn non_finite_paths(v: &Value) -> Vec<String> {
    non_finite_paths_except(v, MAY_BE_NULL)
}

/// JSON paths of numbers that are not finite, at most 10, `null` in a field named in
/// `optional` excepted.
pub fn non_finite_paths_except(v: &Value, optional: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    walk(v, optional, &mut String::new(), &mut out);
    out
}

fn walk(v: &Value, optional: &[&str], path: &mut String, out: &mut Vec<String>) {
    if out.len() >= 10 {
        return;
    }
    match v {
        Value::Null => out.push(if path.is_empty() {
            "(the document)".into()
        } else {
            path.clone()
        }),
        Value::Number(n) => {
            if n.as_f64().is_some_and(|x| !x.is_finite()) {
                out.push(path.clone());
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(x, optional, path, out);
                path.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if x.is_null() && optional.contains(&k.as_str()) {
                    continue;
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(x, optional, path, out);
                path.truncate(len);
            }
        }
        Value::Bool(_) | Value::String(_) => {}
    }
}

/// True when `text` (a text summary) shows a non-finite number: a word `inf`, `-inf`, `NaN`.
pub fn text_shows_non_finite(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .any(|w| matches!(w.trim_start_matches('-'), "inf" | "NaN" | "nan"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nulls_outside_the_optional_fields_and_non_finite_words() {
        let v = serde_json::json!({
            "status": "converged",
            "a": [1.0, null],
            "stage": { "free_extractant": null, "ph": null }
        });
        assert_eq!(non_finite_paths(&v), ["a[1]", "stage.ph"]);
        assert!(text_shows_non_finite("HCl inf mol/h"));
        assert!(text_shows_non_finite("down to -inf mol/L"));
        assert!(!text_shows_non_finite("information, infeasible, finite"));
    }
}
