//! Report figures and pages: every SVG is well-formed XML and holds the series it should, the
//! HTML page is self-contained, the McCabe-Thiele stages lie on the equilibrium curve, and (with
//! SXPLAN_CHROMIUM=1) headless Chromium renders the flagship and binary-design reports.

use std::path::PathBuf;

use sxplan_report::{html_report, write_report_files, ReportInput};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn simulate(name: &str) -> sxplan_sim::SimResult {
    let src = std::fs::read_to_string(root().join("flowsheets").join(name)).unwrap();
    let checked = sxplan_model::check_str(&src);
    let fs = checked.flowsheet.expect("shipped flowsheet checks clean");
    sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()).unwrap()
}

fn sim_input(name: &str) -> ReportInput {
    let src = std::fs::read_to_string(root().join("flowsheets").join(name)).unwrap();
    let fs = sxplan_model::check_str(&src).flowsheet.unwrap();
    let r = sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()).unwrap();
    ReportInput::from_sim(&r)
        .unwrap()
        .with_provenance(&fs.data_used)
        .with_summary(sxplan_report::overview::overview(&fs, &r, None))
}

/// The flagship's report input (708 stages), simulated once per test run.
fn flagship() -> &'static ReportInput {
    static CELL: std::sync::OnceLock<ReportInput> = std::sync::OnceLock::new();
    CELL.get_or_init(|| sim_input("minamitorishima.toml"))
}

fn env_is(name: &str) -> bool {
    std::env::var(name).ok().as_deref() == Some("1")
}

/// Shipped flowsheets to render.
fn shipped() -> Vec<(&'static str, ReportInput)> {
    vec![
        ("pr-nd.toml", sim_input("pr-nd.toml")),
        ("reflux.toml", sim_input("reflux.toml")),
        ("minamitorishima.toml", flagship().clone()),
    ]
}

/// The binary design example: beta 2, equimolar aqueous feed, 99.9 / 99.99 %.
fn binary_design_input() -> ReportInput {
    use sxplan_design::shortcut::{FeedPhase, Reflux};
    let spec = sxplan_design::binary_spec(
        2.0,
        0.5,
        0.999,
        0.9999,
        FeedPhase::Aqueous,
        Reflux::XuOptimum,
    );
    let d = sxplan_design::design_cut(&spec, &sxplan_design::SearchOptions::default()).unwrap();
    ReportInput::from_design(&d, None).unwrap()
}

/// Parses an SVG and returns its text contents and the stroke colours of its polylines.
fn svg_parts(name: &str, svg: &str) -> (Vec<String>, Vec<String>) {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("{name}: not well-formed XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    let strokes = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") || n.has_tag_name("path"))
        .filter_map(|n| n.attribute("stroke").map(str::to_string))
        .collect();
    (texts, strokes)
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| {
            panic!(
                "{name} not among {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

#[test]
fn simulate_figures_are_xml_and_hold_their_series() {
    for (fs, input) in shipped() {
        let sim = input.sim.clone().unwrap();
        let files = write_report_files(&input);
        for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".svg")) {
            svg_parts(&format!("{fs}/{name}"), text);
        }
        for c in &sim.circuits {
            let safe = sxplan_report::doc::safe_name(&c.name);
            let (texts, strokes) = svg_parts(
                &format!("profile_{safe}"),
                file(&files, &format!("profile_{safe}.svg")),
            );
            for (i, e) in sim.elements.iter().enumerate() {
                let present = c.stages.iter().any(|s| {
                    s.conc_aq.get(e).copied().unwrap_or(0.0) > 0.0
                        || s.conc_org.get(e).copied().unwrap_or(0.0) > 0.0
                });
                if !present {
                    continue;
                }
                assert!(texts.contains(e), "{fs} {}: no legend entry {e}", c.name);
                let color =
                    sxplan_report::charts::color_hex(sxplan_report::charts::series_color(i));
                let lines = strokes.iter().filter(|s| **s == color).count();
                // one line per phase panel, plus the legend swatch
                assert!(
                    lines >= 3,
                    "{fs} {}: {e} ({color}) drawn {lines} times",
                    c.name
                );
            }
            for caption in ["aqueous phase", "organic phase"] {
                assert!(
                    texts.iter().any(|t| t.contains(caption)),
                    "{fs} {}: {caption}",
                    c.name
                );
            }
            let (texts, _) = svg_parts(
                &format!("ph_loading_{safe}"),
                file(&files, &format!("ph_loading_{safe}.svg")),
            );
            assert!(texts.iter().any(|t| t == "pH"), "{fs}: {texts:?}");
            assert!(texts.iter().any(|t| t == "loading"), "{fs}: {texts:?}");
            let csv = file(&files, &format!("stages_{safe}.csv"));
            assert_eq!(csv.lines().count(), c.stages.len() + 1, "{fs} csv rows");
        }
        let (texts, _) = svg_parts("flowsheet", file(&files, "flowsheet.svg"));
        let dot = file(&files, "flowsheet.dot");
        assert!(dot.starts_with("digraph"));
        for c in &sim.circuits {
            assert!(
                texts.contains(&c.name),
                "{fs}: circuit {} not in the diagram",
                c.name
            );
            assert!(dot.contains(&format!("label=\"{}\\n", c.name)), "{fs} dot");
        }
        for p in &sim.products {
            let label = format!("product {}", p.id);
            assert!(texts.contains(&label), "{fs}: {label} not in the diagram");
            assert!(dot.contains(&label), "{fs}: {label} not in the DOT");
        }
        let n_tears = sim.streams.iter().filter(|s| s.tear).count();
        assert_eq!(
            dot.matches("style=dashed").count(),
            n_tears,
            "{fs}: recycles dashed"
        );
        assert_eq!(
            dot.matches(" -> n").count(),
            sim.streams.len(),
            "{fs}: one arrow per stream"
        );
        if !sim.products.is_empty() {
            let (texts, _) = svg_parts("products", file(&files, "products.svg"));
            for p in &sim.products {
                assert!(texts.contains(&p.id), "{fs}: bar {}", p.id);
            }
        }
        let streams = file(&files, "streams.csv");
        assert_eq!(streams.lines().count(), sim.streams.len() + 1);
    }
}

#[test]
fn html_is_self_contained_and_inlines_every_figure() {
    for input in [flagship().clone(), binary_design_input()] {
        let files = write_report_files(&input);
        let html = file(&files, "report.html");
        let n_svg = files.iter().filter(|(n, _)| n.ends_with(".svg")).count();
        assert!(n_svg > 0);
        assert_eq!(html.matches("<svg").count(), n_svg);
        for bad in ["<script", "<link", "src=", "url(", "@import", "href=\"http"] {
            assert!(!html.contains(bad), "external asset or script: {bad}");
        }
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html, html_report(&input));
        let md = file(&files, "report.md");
        for (name, _) in files.iter().filter(|(n, _)| n.ends_with(".svg")) {
            assert!(
                md.contains(&format!("]({name})")),
                "report.md does not link {name}"
            );
        }
    }
}

#[test]
fn mccabe_thiele_of_the_binary_example() {
    let input = binary_design_input();
    let d = input.design.clone().unwrap();
    let mt = sxplan_report::mccabe::from_design(&d).expect("binary design has a diagram");
    assert_eq!(mt.stages.len(), mt.n + mt.m);
    assert_eq!(mt.status, "converged");
    // physics oracle: each stage's phases are at equilibrium
    for (i, &(x, y)) in mt.stages.iter().enumerate() {
        let beta = if i < mt.n { mt.beta } else { mt.beta_scrub };
        let want = sxplan_report::mccabe::equilibrium_y(beta, x);
        assert!((y - want).abs() < 1e-9, "stage {}: y {y} vs {want}", i + 1);
    }
    // constant section flows make the extraction operating points collinear
    let op = &mt.operating_extraction;
    assert!(op.len() >= 3);
    let (a, b) = (op[0], op[op.len() - 1]);
    let slope = (b.1 - a.1) / (b.0 - a.0);
    for p in op {
        assert!(
            (p.1 - (a.1 + slope * (p.0 - a.0))).abs() < 1e-9,
            "operating point {p:?} off the line"
        );
    }
    // purities at the ends match the design's
    let x1 = mt.stages[0].0;
    let y_n = mt.stages[mt.stages.len() - 1].1;
    assert!(
        1.0 - x1 >= d.purity_b_spec - 1e-9,
        "raffinate purity {}",
        1.0 - x1
    );
    assert!(y_n >= d.purity_a_spec - 1e-9, "organic purity {y_n}");
    let files = write_report_files(&input);
    let (texts, _) = svg_parts("mccabe_thiele", file(&files, "mccabe_thiele.svg"));
    for series in [
        "diagonal y = x",
        "equilibrium (beta 2.0000)",
        "operating line, extraction",
        "operating line, scrub",
        "feed x = 0.5000",
    ] {
        assert_eq!(
            texts.iter().filter(|t| *t == series).count(),
            2,
            "{series} in both panels: {texts:?}"
        );
    }
    let steps = format!("stage steps ({} + {} stages)", mt.n, mt.m);
    assert!(texts.contains(&steps), "{steps}");
}

#[test]
fn optimization_figures_hold_passes_and_shadow_prices() {
    let src = std::fs::read_to_string(root().join("crates/opt/tests/data/prnd_distribution.toml"))
        .unwrap();
    let fs = sxplan_model::check_str(&src).flowsheet.unwrap();
    let r = sxplan_opt::optimize(&fs, &sxplan_opt::OptimizeOptions::default()).unwrap();
    let sim = sxplan_sim::simulate(&r.flowsheet, &sxplan_sim::SimOptions::default()).unwrap();
    let input = ReportInput::from_optimize(&fs.name, &r, Some(&sim)).unwrap();
    let files = write_report_files(&input);
    let (texts, _) = svg_parts("passes", file(&files, "passes.svg"));
    assert!(texts.iter().any(|t| t == "objective"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "max violation"), "{texts:?}");
    let md = file(&files, "report.md");
    assert!(md.contains("### Shadow prices (what limits the plant)"));
    for sp in &r.shadow_prices {
        assert!(
            md.contains(&sp.constraint),
            "shadow price {}",
            sp.constraint
        );
    }
    assert!(md.contains("at the optimized point"));
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".svg")) {
        svg_parts(name, text);
    }
}

#[test]
fn simulate_report_of_the_result_and_of_its_json_agree() {
    let r = simulate("reflux.toml");
    let a = ReportInput::from_sim(&r).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&sxplan_report::simulate::to_json(&r)).unwrap();
    let b = ReportInput::from_documents(&[json]).unwrap();
    assert_eq!(write_report_files(&a), write_report_files(&b));
}

/// Screenshots of report.html in headless Chromium (opt in with SXPLAN_CHROMIUM=1): runs
/// scripts/report-screenshots.sh, the same script a person or CI runs, with this build's binary.
/// The PNGs go to SXPLAN_SCREENSHOT_DIR or target/screenshots.
#[test]
fn chromium_screenshots() {
    if !env_is("SXPLAN_CHROMIUM") {
        return;
    }
    let out = std::env::var("SXPLAN_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/screenshots"));
    let status = std::process::Command::new("bash")
        .arg(root().join("scripts/report-screenshots.sh"))
        .arg(&out)
        .env("SXPLAN_BIN", env!("CARGO_BIN_EXE_sxplan"))
        .status()
        .expect("bash runs");
    assert!(status.success(), "report-screenshots.sh: {status}");
    for tag in ["minamitorishima", "binary-design"] {
        let png = out.join(format!("{tag}.png"));
        let bytes = std::fs::read(&png).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (SXPLAN_CHROMIUM=1 needs Debian's chromium; the script skips without it)",
                png.display()
            )
        });
        assert!(bytes.starts_with(b"\x89PNG"), "{tag}: not a PNG");
        assert!(
            bytes.len() > 20_000,
            "{tag}: screenshot of {} bytes looks blank",
            bytes.len()
        );
        assert!(out.join(tag).join("report.html").is_file());
    }
}

#[test]
fn design_sensitivity_figure_holds_its_three_curves() {
    let point = |w: f64, pa: f64, n: usize, m: usize| {
        serde_json::json!({"purity_a": pa, "purity_b": 0.9999, "w_over_w_min": w, "w": w,
            "n_min_fenske": 23.25, "n_shortcut": 21.0, "m_shortcut": 20.0, "status": "found",
            "n": n, "m": m})
    };
    let doc = serde_json::json!({
        "schema_version": 1, "kind": "design", "key_a": "Nd", "key_b": "Pr",
        "feed_phase": "aqueous", "sep_factor": 1.5, "sep_factor_scrub": 1.5, "x_a": 0.6,
        "purity_a_spec": 0.999, "purity_b_spec": 0.9999, "control": "scrub", "e_m": 0.8,
        "e_prime_m": 1.22, "s": 2.0, "w": 1.5, "w_min": 1.2, "w_over_w_min": 1.25,
        "n_min_fenske": 23.25, "status": "stage_limit", "n": null, "m": null,
        "distribution": [], "sensitivity": {
            "vs_reflux": [point(1.1, 0.999, 30, 28), point(1.5, 0.999, 25, 22)],
            "vs_purity": [point(1.2, 0.99, 20, 15), point(1.2, 0.9999, 35, 30)],
        }
    });
    let input = ReportInput::from_documents(&[doc]).unwrap();
    let files = write_report_files(&input);
    let (texts, _) = svg_parts("sensitivity", file(&files, "sensitivity.svg"));
    for series in ["rigorous n + m", "Xu shortcut n + m", "Fenske N_min"] {
        assert_eq!(texts.iter().filter(|t| *t == series).count(), 2, "{series}");
    }
    let md = file(&files, "report.md");
    assert!(
        md.contains("No McCabe-Thiele diagram"),
        "no rigorous stages, no diagram"
    );
    assert!(md.contains("### Stages against purity"));
}

#[test]
fn multicomponent_design_is_drawn_as_the_key_group_pseudo_binary() {
    use sxplan_design::shortcut::{FeedPhase, Reflux};
    use sxplan_design::{Component, CutSpec};
    let comp = |name: &str, beta: f64, feed: f64| Component {
        name: name.into(),
        sep_factor: beta,
        sep_factor_scrub: None,
        feed,
    };
    let spec = CutSpec {
        components: vec![
            comp("La", 1.0, 25.0),
            comp("Ce", 2.0, 45.0),
            comp("Pr", 4.0, 5.0),
            comp("Nd", 5.2, 25.0),
        ],
        key_a: 2,
        key_b: 1,
        feed_phase: FeedPhase::Aqueous,
        purity_a: 0.999,
        purity_b: 0.9999,
        reflux: Reflux::XuOptimum,
        reagents: None,
    };
    let d = sxplan_design::design_cut(&spec, &sxplan_design::SearchOptions::default()).unwrap();
    let input = ReportInput::from_design(&d, None).unwrap();
    let view = input.design.clone().unwrap();
    let mt = sxplan_report::mccabe::from_design(&view).expect("diagram");
    assert_eq!(mt.components, 4);
    // the group fractions at the ends are the design's purities
    let x1 = mt.stages[0].0;
    let y_n = mt.stages[mt.stages.len() - 1].1;
    let (pa, pb) = (view.purity_a.unwrap(), view.purity_b.unwrap());
    assert!((y_n - pa).abs() < 1e-6, "{y_n} vs {pa}");
    assert!(((1.0 - x1) - pb).abs() < 1e-6, "{} vs {pb}", 1.0 - x1);
    let files = write_report_files(&input);
    let (texts, _) = svg_parts("mccabe_thiele", file(&files, "mccabe_thiele.svg"));
    assert!(
        texts
            .iter()
            .any(|t| t == "key-pair equilibrium (beta 2.0000)"),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("Pr+Nd in aqueous")),
        "{texts:?}"
    );
}

/// The flowsheet diagram of every shipped flowsheet fits the page (viewBox, max-width), shows
/// every circuit and product, gives every drawn stream a hover title, and no text overlaps
/// another (boxes estimated from the font size: 0.62 em per character, ascent 0.8 em).
#[test]
fn flowsheet_diagram_fits_and_no_text_overlaps() {
    for (fs, input) in shipped() {
        let files = write_report_files(&input);
        let svg = file(&files, "flowsheet.svg");
        let doc = roxmltree::Document::parse(svg).unwrap();
        let root_el = doc.root_element();
        assert!(root_el.attribute("viewBox").is_some(), "{fs}: no viewBox");
        assert!(
            root_el
                .attribute("style")
                .unwrap_or("")
                .contains("max-width:100%"),
            "{fs}: does not shrink to the page"
        );
        let mut boxes: Vec<(f64, f64, f64, f64, String)> = Vec::new();
        for t in doc.descendants().filter(|n| n.has_tag_name("text")) {
            let text: String = t
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect();
            let num = |a: &str| t.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap();
            let (x, y, size) = (num("x"), num("y"), num("font-size"));
            let w = text.chars().count() as f64 * size * 0.62;
            boxes.push((x, y - 0.8 * size, x + w, y + 0.2 * size, text));
        }
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let overlap = a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
                assert!(!overlap, "{fs}: text {:?} overlaps {:?}", a.4, b.4);
            }
        }
        let texts: Vec<&str> = boxes.iter().map(|b| b.4.as_str()).collect();
        let sim = input.sim.as_ref().unwrap();
        for c in &sim.circuits {
            assert!(texts.contains(&c.name.as_str()), "{fs}: circuit {}", c.name);
        }
        for p in &sim.products {
            let label = format!("product {}", p.id);
            assert!(texts.contains(&label.as_str()), "{fs}: {label}");
        }
        let titled = doc
            .descendants()
            .filter(|n| n.has_tag_name("g"))
            .filter(|g| g.children().any(|c| c.has_tag_name("title")))
            .count();
        let labels = texts
            .iter()
            .filter(|t| {
                t.strip_prefix('S')
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count();
        assert!(
            titled > 0 && titled == labels,
            "{fs}: {titled} titled streams, {labels} labels"
        );
    }
}
