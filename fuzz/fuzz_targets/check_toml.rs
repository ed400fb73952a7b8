//! Fuzz target: `sxplan_model::check_str` (TOML parse, validate, lower) and the diagnostic
//! renderer on arbitrary bytes; a flowsheet that checks clean must also survive `includes_of`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let out = sxplan_model::check_str(src);
    // A flowsheet is present exactly when there is no error.
    assert_eq!(out.flowsheet.is_some(), out.error_count() == 0);
    for d in &out.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end <= src.len());
        assert!(!d.message.is_empty());
    }
    let _ = sxplan_model::render_text("fuzz.toml", src, &out.diagnostics);
    let _ = sxplan_model::includes_of(src);
});
