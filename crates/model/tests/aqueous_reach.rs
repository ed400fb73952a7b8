//! The aqueous-reach check (`E0507`): stages no aqueous flow can reach are refused at check
//! time, and the layouts that do wet every stage (feed below a scrub, reflux loops, organic
//! feeds next to an aqueous one, wash sections) are not.

use sxplan_model::*;

/// A circuit with the given sections and extra circuit keys, fed with `feed_flow` at its
/// default feed point, plus `tail` (links, splitters, ...).
fn flowsheet(sections: &str, circuit_extra: &str, feed_flow: &str, tail: &str) -> String {
    format!(
        r#"schema = 1
name = "reach"

[[feed]]
name = "liquor"
flow = "{feed_flow}"
conc = {{ Pr = "0.25 mol/L", Nd = "0.25 mol/L", quality = "illustrative" }}
to = "C.feed"

[[circuit]]
name = "C"
sections = [{sections}]
organic = {{ extractant = "P507", conc = "1.5 mol/L", flow = "4 m3/h" }}
{circuit_extra}

[circuit.equilibrium]
model = "distribution"
quality = "illustrative"
d = {{ Pr = 0.8, Nd = 1.6 }}
{tail}"#
    )
}

const EXT_SCRUB_STRIP: &str = r#"{ kind = "extraction", stages = 6 }, { kind = "scrub", stages = 5 }, { kind = "strip", stages = 4 }"#;
const SOLUTIONS: &str = "scrub = { acid = \"HCl\", conc = \"4 mol/L\", flow = \"0.45 m3/h\" }\nstrip = { acid = \"HCl\", conc = \"2 mol/L\", flow = \"0.6 m3/h\" }";

fn dry(src: &str) -> Vec<Diagnostic> {
    let out = check_str(src);
    out.diagnostics
        .into_iter()
        .filter(|d| d.code == codes::DRY_STAGE)
        .collect()
}

fn assert_clean(what: &str, src: &str) {
    let out = check_str(src);
    assert!(
        out.diagnostics.iter().all(|d| !d.is_error()),
        "{what}:\n{}",
        render_text("t.toml", src, &out.diagnostics)
    );
}

#[test]
fn wet_layouts_are_accepted() {
    assert_clean(
        "default feed stage",
        &flowsheet(EXT_SCRUB_STRIP, SOLUTIONS, "1 m3/h", ""),
    );
    // A feed low in the extraction section is fine when a scrub passes its aqueous down.
    assert_clean(
        "feed at stage 2 under a scrub",
        &flowsheet(
            EXT_SCRUB_STRIP,
            &format!("feed_stage = 2\n{SOLUTIONS}"),
            "1 m3/h",
            "",
        ),
    );
    // A feed inside the scrub section.
    assert_clean(
        "feed in the scrub",
        &flowsheet(
            EXT_SCRUB_STRIP,
            &format!("feed_stage = 9\n{SOLUTIONS}"),
            "1 m3/h",
            "",
        ),
    );
    // A zero feed is harmless when the scrub wets the extraction section.
    assert_clean(
        "zero feed under a scrub",
        &flowsheet(EXT_SCRUB_STRIP, SOLUTIONS, "0 m3/h", ""),
    );
    // Strip-liquor reflux through a splitter is the scrub's only inlet.
    assert_clean(
        "reflux",
        &flowsheet(
            EXT_SCRUB_STRIP,
            "strip = { acid = \"HCl\", conc = \"2 mol/L\", flow = \"0.6 m3/h\" }",
            "1 m3/h",
            "[[splitter]]\nname = \"r\"\nfrom = \"C.strip_liquor\"\noutlets = { back = 0.2, out = 0.8 }\n\n[[link]]\nfrom = \"r.back\"\nto = \"C.scrub_inlet\"\n\n[[product]]\nname = \"p\"\nfrom = \"r.out\"\n",
        ),
    );
    // Two scrub sections, each with its solution.
    assert_clean(
        "two scrubs",
        &flowsheet(
            r#"{ kind = "extraction", stages = 4 }, { kind = "scrub", stages = 3 }, { kind = "scrub", stages = 3, name = "polish" }"#,
            "scrub = { acid = \"HCl\", conc = \"4 mol/L\", flow = \"0.45 m3/h\" }\npolish = { acid = \"HCl\", conc = \"4 mol/L\", flow = \"0.1 m3/h\" }",
            "1 m3/h",
            "",
        ),
    );
    // A wash section with its own water.
    assert_clean(
        "wash",
        &flowsheet(
            r#"{ kind = "extraction", stages = 4 }, { kind = "wash", stages = 2 }"#,
            "wash = { flow = \"0.2 m3/h\" }",
            "1 m3/h",
            "",
        ),
    );
}

#[test]
fn a_single_dry_stage_is_named_alone() {
    let src = flowsheet(
        r#"{ kind = "extraction", stages = 3 }"#,
        "feed_stage = 2",
        "1 m3/h",
        "",
    );
    let d = dry(&src);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].message,
        "circuit \"C\" stage 3: no aqueous flow reaches this stage (feed point \"feed\" enters at stage 2, below)"
    );
    // The caret is under the written feed stage.
    assert_eq!(&src[d[0].span.clone()], "2");
    assert!(d[0].help.as_deref().unwrap_or("").contains("stage 3"));
}

#[test]
fn each_dry_run_is_reported_once() {
    // Both the scrub (zero flow) and the strip (solution low) are dry: two diagnostics.
    let src = flowsheet(
        EXT_SCRUB_STRIP,
        "scrub = { acid = \"HCl\", conc = \"4 mol/L\", flow = \"0 m3/h\" }\nstrip = { acid = \"HCl\", conc = \"2 mol/L\", flow = \"0.6 m3/h\", stage = 13 }",
        "1 m3/h",
        "",
    );
    let d = dry(&src);
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("stages 7..=11")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("stages 14..=15")),
        "{msgs:?}"
    );
}

#[test]
fn a_dry_circuit_upstream_dries_the_next() {
    // Circuit A is extraction-only with nothing aqueous; its raffinate is B's only feed.
    let src = r#"schema = 1
name = "chain"

[[feed]]
name = "org"
phase = "organic"
flow = "1 m3/h"
conc = { Pr = "0.05 mol/L", quality = "illustrative" }
to = "A.feed"

[[circuit]]
name = "A"
sections = [{ kind = "extraction", stages = 2 }]
feed_phase = "organic"
organic = { extractant = "P507", conc = "1.5 mol/L", flow = "1 m3/h" }
equilibrium = { model = "distribution", d = { Pr = 0.8 }, quality = "illustrative" }

[[circuit]]
name = "B"
sections = [{ kind = "extraction", stages = 2 }]
organic = { extractant = "P507", conc = "1.5 mol/L", flow = "1 m3/h" }
equilibrium = { model = "distribution", d = { Pr = 0.8 }, quality = "illustrative" }

[[link]]
from = "A.raffinate"
to = "B.feed"
"#;
    let d = dry(src);
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0].message.starts_with("circuit \"A\" stages 1..=2"));
    assert!(
        d[1].message.contains("the stream from \"A\""),
        "{}",
        d[1].message
    );
    assert!(d[1]
        .help
        .as_deref()
        .unwrap_or("")
        .contains("circuit \"A\" is dry"));
}

#[test]
fn port_stages_and_aqueous_direction() {
    let out = check_str(&flowsheet(
        r#"{ kind = "extraction", stages = 6 }, { kind = "scrub", stages = 5 }, { kind = "strip", stages = 4 }, { kind = "wash", stages = 2 }"#,
        &format!("{SOLUTIONS}\nwash = {{ flow = \"0.1 m3/h\" }}"),
        "1 m3/h",
        "",
    ));
    let fs = out.flowsheet.expect("clean");
    let c = &fs.circuits[0];
    assert_eq!(c.port_stage(PortKind::Raffinate), Some(1));
    assert_eq!(c.port_stage(PortKind::ScrubInlet), Some(11));
    assert_eq!(c.port_stage(PortKind::StripInlet), Some(15));
    assert_eq!(c.port_stage(PortKind::StripLiquor), Some(12));
    assert_eq!(c.port_stage(PortKind::SectionInlet(3)), Some(17));
    assert_eq!(c.port_stage(PortKind::SectionOutlet(3)), Some(16));
    assert_eq!(c.port_stage(PortKind::OrganicInlet), Some(1));
    assert_eq!(c.port_stage(PortKind::StrippedOrganic), Some(17));
    assert_eq!(c.port_stage(PortKind::FeedPoint(0)), Some(6));
    assert_eq!(c.port_stage(PortKind::FeedPoint(1)), None);
    assert_eq!(c.port_stage(PortKind::Residue), None);
    // Aqueous passes down inside sections and from the scrub into the extraction section,
    // but not from the strip into the scrub, nor out of the last stage.
    let down: Vec<usize> = (1..=17).filter(|&s| c.aqueous_from_next(s)).collect();
    assert_eq!(down, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16]);
    assert!(!c.aqueous_from_next(0));
}
