//! Extractant-system names, resolved through the built-in systems of `sxplan_chem`.

use sxplan_chem::extractant;

/// Canonical id of an extractant name or alias (`"PC88A"` -> `"p507"`).
pub fn resolve(name: &str) -> Option<String> {
    extractant::find(name).map(|s| s.id.to_string())
}

/// Display names of every built-in system, for help texts.
pub fn names() -> Vec<&'static str> {
    extractant::all().iter().map(|s| s.name).collect()
}

/// The closest known name to an unknown one.
pub fn suggest(name: &str) -> Option<&'static str> {
    extractant::did_you_mean(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn aliases_resolve() {
        assert_eq!(super::resolve("PC88A").as_deref(), Some("p507"));
        assert_eq!(super::resolve("hdehp").as_deref(), Some("d2ehpa"));
        assert_eq!(super::resolve("P999"), None);
        assert_eq!(super::suggest("P057"), Some("P507"));
    }
}
