//! The flowsheet example in README.md checks clean, so the front page cannot drift from the
//! language.

#[test]
fn readme_flowsheet_example_checks_clean() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.starts_with("schema = 1"))
        .collect();
    assert!(!blocks.is_empty(), "README.md has no flowsheet example");
    for b in blocks {
        let out = sxplan_model::check_str(b);
        assert!(
            out.flowsheet.is_some() && out.diagnostics.is_empty(),
            "README example does not check clean: {:?}",
            out.diagnostics
        );
    }
}
