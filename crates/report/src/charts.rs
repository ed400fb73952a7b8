//! SVG figures drawn with plotters' SVG backend (no system fonts needed: with the `ttf` and
//! `ab_glyph` features off, plotters estimates text extents itself and writes `<text>` elements
//! that the viewer renders with its own fonts; measured in docs/json-schema.md, "Figures").
//!
//! Every function is pure and returns a whole `<svg>` document. A drawing error (none is
//! expected with an in-memory backend) yields a small SVG that says what failed instead of a
//! panic. Series are named in legends, so a reader (and the tests) can find them by text.

use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::input::{CircuitView, PassView, SensitivityPointView};
use crate::mccabe::{equilibrium_y, McCabeThiele};

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), String>;
/// Name, axis description, colour and points of one line.
type Series<'a> = (&'a str, &'a str, RGBColor, Vec<(f64, f64)>);
/// Points, x-axis description and x value of one sensitivity panel.
type SensitivitySet<'a> = (
    &'a [SensitivityPointView],
    &'a str,
    fn(&SensitivityPointView) -> f64,
);

/// Colours for element and series lines (Tableau 10 followed by darker variants), chosen to be
/// distinguishable on white.
const PALETTE: [RGBColor; 18] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 63, 92),
    RGBColor(160, 60, 0),
    RGBColor(0, 100, 0),
    RGBColor(120, 0, 40),
    RGBColor(80, 40, 130),
    RGBColor(90, 60, 30),
    RGBColor(150, 0, 110),
    RGBColor(60, 60, 60),
];

/// The colour of series `i` (cycles through the palette).
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `#rrggbb` of a colour, as plotters writes it.
pub fn color_hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Colour of a stream phase.
pub fn phase_color(phase: &str) -> RGBColor {
    match phase {
        "aqueous" => RGBColor(31, 119, 180),
        "organic" => RGBColor(214, 120, 0),
        _ => RGBColor(110, 110, 110),
    }
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Runs `draw` on a white canvas of `w` x `h` pixels and returns the SVG text.
pub(crate) fn render(w: u32, h: u32, draw: impl FnOnce(&Area<'_>) -> Drawn) -> String {
    let mut buf = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        let r = root.fill(&WHITE).map_err(err).and_then(|()| draw(&root));
        let p = root.present().map_err(err);
        r.and(p)
    };
    match result {
        Ok(()) => buf,
        Err(e) => error_svg(w, h, &e),
    }
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

fn error_svg(w: u32, h: u32, msg: &str) -> String {
    format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\n<text x=\"10\" y=\"20\" font-family=\"sans-serif\" font-size=\"14\">figure could not be drawn: {}</text>\n</svg>\n",
        xml_escape(msg)
    )
}

/// Font sizes, in plotters' units (its SVG backend writes `size / 1.24` px): the figures are
/// 900 to 1200 px wide and shown scaled to the page (about 1060 px), where plotters' default of
/// 12 became 8 px text; these keep tick labels and legends near 12 px on the page.
const CAPTION: u32 = 22;
/// Axis descriptions.
const AXIS: u32 = 17;
/// Tick labels.
const TICK: u32 = 16;
/// Legend entries and value labels.
const LEGEND: u32 = 16;
/// Section names inside a profile.
const SECTION: u32 = 15;

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// Legend swatch of a series: a short line in the series' style.
fn swatch(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style)
}

/// Draws the series legend of `chart` at `position` (white box, grey border, legend font).
fn series_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Drawn
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.88))
        .border_style(BLACK.mix(0.4))
        .label_font(font(LEGEND))
        .draw()
        .map_err(err)
}

/// Log-axis range `[lo, hi]` covering the positive values, at most `decades` decades deep.
fn log_range(values: impl Iterator<Item = f64>, decades: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi <= 0.0 || !lo.is_finite() {
        return (1e-6, 1.0);
    }
    let hi = 10f64.powf(hi.log10().ceil());
    let floor = hi * 10f64.powf(-decades);
    let lo = 10f64.powf(lo.log10().floor()).max(floor);
    if lo >= hi {
        (hi / 10.0, hi)
    } else {
        (lo, hi)
    }
}

/// Linear range with a small margin; a flat series gets a unit-wide range.
fn lin_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-12 * hi.abs().max(1.0) {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// Tick label of an integer axis (stages, passes): the integer, or nothing between integers.
fn int_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{:.0}", v.round())
    } else {
        String::new()
    }
}

/// Tick label of a linear axis: at most four decimals, trailing zeros dropped, never `-0`.
fn lin_tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let t = format!("{v:.4}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    match t {
        "-0" | "" => "0".to_string(),
        t => t.to_string(),
    }
}

fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.0e}")
    }
}

/// Section boundaries of a circuit: `(first stage, last stage, section kind)`.
fn sections(c: &CircuitView) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for s in &c.stages {
        match out.last_mut() {
            Some(last) if last.2 == s.section && last.1 + 1 == s.stage => last.1 = s.stage,
            _ => out.push((s.stage, s.stage, s.section.clone())),
        }
    }
    out
}

fn stage_x_range(c: &CircuitView) -> (f64, f64) {
    let n = c.stages.iter().map(|s| s.stage).max().unwrap_or(1).max(1);
    (0.5, n as f64 + 0.5)
}

/// Draws the section boundaries and names across a chart.
fn draw_sections<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    c: &CircuitView,
    y_lo: f64,
    y_hi: f64,
) -> Drawn {
    let secs = sections(c);
    for (i, (first, last, kind)) in secs.iter().enumerate() {
        if i > 0 {
            let x = *first as f64 - 0.5;
            chart
                .draw_series(LineSeries::new(
                    vec![(x, y_lo), (x, y_hi)],
                    BLACK.mix(0.35).stroke_width(1),
                ))
                .map_err(err)?;
        }
        let mid = (*first as f64 + *last as f64) / 2.0;
        chart
            .draw_series(std::iter::once(Text::new(
                kind.clone(),
                (mid, y_hi),
                font(SECTION).pos(Pos::new(HPos::Center, VPos::Top)),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// A column legend drawn into `area`: coloured line and label per entry.
fn draw_legend(area: &Area<'_>, title: &str, entries: &[(String, RGBColor)]) -> Drawn {
    area.draw(&Text::new(title.to_string(), (6, 30), font(AXIS)))
        .map_err(err)?;
    for (i, (label, color)) in entries.iter().enumerate() {
        let y = 56 + 21 * i as i32;
        area.draw(&PathElement::new(
            vec![(6, y), (30, y)],
            color.stroke_width(3),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            label.clone(),
            (36, y),
            font(LEGEND).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Concentration profiles of one circuit: every element along the stages, aqueous panel on
/// top and organic panel below, log scale (mol/L), section boundaries marked. Values below
/// twelve decades under the largest are drawn at the floor of the axis.
pub fn concentration_profiles_svg(c: &CircuitView, elements: &[String]) -> String {
    let present: Vec<(usize, &String)> = elements
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            c.stages.iter().any(|s| {
                s.conc_aq.get(*e).copied().unwrap_or(0.0) > 0.0
                    || s.conc_org.get(*e).copied().unwrap_or(0.0) > 0.0
            })
        })
        .collect();
    render(1000, 760, |root| {
        let (plots, legend) = root.split_horizontally(860);
        let panels = plots.split_evenly((2, 1));
        let all = c.stages.iter().flat_map(|s| {
            s.conc_aq
                .values()
                .chain(s.conc_org.values())
                .copied()
                .collect::<Vec<_>>()
        });
        let (lo, hi) = log_range(all, 12.0);
        let (x0, x1) = stage_x_range(c);
        for (panel, (phase, pick_org)) in panels.iter().zip([("aqueous", false), ("organic", true)])
        {
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    format!("circuit {}: {phase} phase concentration", c.name),
                    font(CAPTION),
                )
                .margin(8)
                .x_label_area_size(46)
                .y_label_area_size(80)
                .build_cartesian_2d(x0..x1, (lo..hi).log_scale())
                .map_err(err)?;
            chart
                .configure_mesh()
                .label_style(font(TICK))
                .axis_desc_style(font(AXIS))
                .x_desc("stage")
                .y_desc(format!("{phase} conc, mol/L"))
                .y_label_formatter(&|v| sci(*v))
                .x_label_formatter(&|v| int_tick(*v))
                .draw()
                .map_err(err)?;
            for (i, e) in &present {
                let pts: Vec<(f64, f64)> = c
                    .stages
                    .iter()
                    .map(|s| {
                        let m = if pick_org { &s.conc_org } else { &s.conc_aq };
                        let v = m.get(*e).copied().unwrap_or(0.0);
                        (
                            s.stage as f64,
                            if v.is_finite() { v.clamp(lo, hi) } else { lo },
                        )
                    })
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts, series_color(*i).stroke_width(2)))
                    .map_err(err)?;
            }
            draw_sections(&mut chart, c, lo, hi)?;
        }
        let entries: Vec<(String, RGBColor)> = present
            .iter()
            .map(|(i, e)| ((*e).clone(), series_color(*i)))
            .collect();
        draw_legend(&legend, "element", &entries)
    })
}

/// pH of the aqueous and organic loading (mol/L REY) along the stages of one circuit.
pub fn ph_loading_svg(c: &CircuitView) -> String {
    render(1000, 620, |root| {
        let panels = root.split_evenly((2, 1));
        let (x0, x1) = stage_x_range(c);
        let series: [Series<'_>; 2] = [
            (
                "pH",
                "pH",
                RGBColor(31, 119, 180),
                c.stages.iter().map(|s| (s.stage as f64, s.ph)).collect(),
            ),
            (
                "loading",
                "organic loading, mol/L REY",
                RGBColor(214, 120, 0),
                c.stages
                    .iter()
                    .map(|s| (s.stage as f64, s.loading_mol_per_l))
                    .collect(),
            ),
        ];
        for (panel, (name, desc, color, pts)) in panels.iter().zip(series) {
            let pts: Vec<(f64, f64)> = pts.into_iter().filter(|p| p.1.is_finite()).collect();
            let (lo, hi) = lin_range(pts.iter().map(|p| p.1));
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("circuit {}: {name}", c.name), font(CAPTION))
                .margin(8)
                .x_label_area_size(46)
                .y_label_area_size(80)
                .build_cartesian_2d(x0..x1, lo..hi)
                .map_err(err)?;
            chart
                .configure_mesh()
                .label_style(font(TICK))
                .axis_desc_style(font(AXIS))
                .x_desc("stage")
                .y_desc(desc)
                .x_label_formatter(&|v| int_tick(*v))
                .y_label_formatter(&|v| lin_tick(*v))
                .draw()
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(swatch(color.stroke_width(2)));
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 2, color.filled())))
                .map_err(err)?;
            draw_sections(&mut chart, c, lo, hi)?;
            series_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    })
}

fn logit(v: f64) -> f64 {
    let v = v.clamp(1e-15, 1.0 - 1e-15);
    (v / (1.0 - v)).log10()
}

/// McCabe-Thiele-style diagram of a binary design: equilibrium curve(s), operating lines and the
/// stage steps, in mole fractions (left) and in log10 odds `log10(x / (1 - x))` (right), where
/// the high-purity ends are readable and the equilibrium curve is a straight line.
pub fn mccabe_thiele_svg(d: &McCabeThiele, key_a: &str) -> String {
    render(1200, 600, |root| {
        let panels = root.split_evenly((1, 2));
        for (k, panel) in panels.iter().enumerate() {
            let logs = k == 1;
            let tr = |p: (f64, f64)| if logs { (logit(p.0), logit(p.1)) } else { p };
            let steps: Vec<(f64, f64)> = d.steps().into_iter().map(tr).collect();
            let (lo, hi) = if logs {
                let (a, b) = lin_range(steps.iter().flat_map(|p| [p.0, p.1]));
                (a.min(b - 1.0), b)
            } else {
                (0.0, 1.0)
            };
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    if logs {
                        format!("McCabe-Thiele, log odds of {key_a}")
                    } else {
                        format!("McCabe-Thiele, mole fraction of {key_a}")
                    },
                    font(CAPTION),
                )
                .margin(10)
                .x_label_area_size(50)
                .y_label_area_size(72)
                .build_cartesian_2d(lo..hi, lo..hi)
                .map_err(err)?;
            let (xd, yd) = if logs {
                (
                    format!("log10(x/(1-x)), x = {key_a} in aqueous"),
                    format!("log10(y/(1-y)), y = {key_a} in organic"),
                )
            } else {
                (
                    format!("x, {key_a} in aqueous"),
                    format!("y, {key_a} in organic"),
                )
            };
            chart
                .configure_mesh()
                .label_style(font(TICK))
                .axis_desc_style(font(AXIS))
                .x_desc(xd)
                .y_desc(yd)
                .x_label_formatter(&|v| lin_tick(*v))
                .y_label_formatter(&|v| lin_tick(*v))
                .draw()
                .map_err(err)?;
            let gray = RGBColor(150, 150, 150);
            chart
                .draw_series(LineSeries::new(
                    vec![(lo, lo), (hi, hi)],
                    gray.stroke_width(1),
                ))
                .map_err(err)?
                .label("diagonal y = x")
                .legend(swatch(gray.stroke_width(1)));
            let curves: Vec<(f64, &str, RGBColor)> = if d.components > 2 {
                vec![(d.beta, "key-pair equilibrium", RGBColor(44, 160, 44))]
            } else if d.beta_scrub == d.beta {
                vec![(d.beta, "equilibrium", RGBColor(44, 160, 44))]
            } else {
                vec![
                    (d.beta, "equilibrium, extraction", RGBColor(44, 160, 44)),
                    (d.beta_scrub, "equilibrium, scrub", RGBColor(0, 100, 0)),
                ]
            };
            for (beta, name, color) in curves {
                let pts: Vec<(f64, f64)> = (0..=400)
                    .map(|i| {
                        if logs {
                            let xl = lo + (hi - lo) * i as f64 / 400.0;
                            (xl, xl + beta.log10())
                        } else {
                            let x = i as f64 / 400.0;
                            (x, equilibrium_y(beta, x))
                        }
                    })
                    .filter(|p| p.1 <= hi && p.1 >= lo)
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                    .map_err(err)?
                    .label(format!("{name} (beta {beta:.4})"))
                    .legend(swatch(color.stroke_width(2)));
            }
            for (pts, name, color) in [
                (
                    &d.operating_extraction,
                    "operating line, extraction",
                    RGBColor(31, 119, 180),
                ),
                (
                    &d.operating_scrub,
                    "operating line, scrub",
                    RGBColor(214, 39, 40),
                ),
            ] {
                let pts: Vec<(f64, f64)> = pts.iter().copied().map(tr).collect();
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                    .map_err(err)?
                    .label(name)
                    .legend(swatch(color.stroke_width(2)));
            }
            chart
                .draw_series(LineSeries::new(steps, BLACK.stroke_width(1)))
                .map_err(err)?
                .label(format!("stage steps ({} + {} stages)", d.n, d.m))
                .legend(swatch(BLACK.stroke_width(1)));
            let xf = tr((d.x_feed, d.x_feed)).0;
            let purple = RGBColor(148, 103, 189);
            chart
                .draw_series(LineSeries::new(
                    vec![(xf, lo), (xf, hi)],
                    purple.stroke_width(1),
                ))
                .map_err(err)?
                .label(format!("feed x = {:.4}", d.x_feed))
                .legend(swatch(purple.stroke_width(1)));
            series_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    })
}

/// Width in pixels of the label area of a horizontal bar chart with these bars.
fn bar_label_width(bars: &[(String, f64)]) -> u32 {
    bars.iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 48) as u32
        * 8
        + 20
}

/// The label of y segment `v` of a horizontal bar chart of `labels` whose first bar is on top
/// (segment 0 is at the bottom).
fn bar_label(labels: &[String], v: &SegmentValue<usize>) -> String {
    let n = labels.len().max(1);
    match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => n
            .checked_sub(i + 1)
            .and_then(|k| labels.get(k))
            .cloned()
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    }
}

/// The axes of a horizontal bar chart: value axis `x` (described by `x_desc`) and one labelled
/// segment per bar, the first bar on top.
fn bar_axes<'a, 'b>(
    root: &'a Area<'b>,
    title: &str,
    bars: &[(String, f64)],
    x: std::ops::Range<f64>,
    x_desc: &str,
) -> Result<
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordusize>>>,
    String,
> {
    let n = bars.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(CAPTION))
        .margin(10)
        .x_label_area_size(46)
        .y_label_area_size(bar_label_width(bars))
        .build_cartesian_2d(x, (0usize..n).into_segmented())
        .map_err(err)?;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .label_style(font(TICK))
        .axis_desc_style(font(AXIS))
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| bar_label(&labels, v))
        .x_label_formatter(&|v| lin_tick(*v))
        .x_desc(x_desc)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Horizontal bar chart: one bar per `(label, value)`, first bar on top, with the value written
/// at the bar end. Bars whose labels start with the same word before ` (` share a colour (the
/// reagent of `HCl (circuit X strip)`), so colour means something; other labels get their own.
pub fn bar_chart_svg(title: &str, unit: &str, bars: &[(String, f64)]) -> String {
    let n = bars.len().max(1);
    let h = (90 + 34 * n) as u32;
    render(900, h, |root| {
        let max = bars
            .iter()
            .map(|b| b.1)
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let xmax = if max > 0.0 { max * 1.25 } else { 1.0 };
        let mut chart = bar_axes(root, title, bars, 0f64..xmax, unit)?;
        let group = |l: &str| l.split(" (").next().unwrap_or(l).to_string();
        let mut groups: Vec<String> = Vec::new();
        for (l, _) in bars {
            if !groups.contains(&group(l)) {
                groups.push(group(l));
            }
        }
        for (k, (label, v)) in bars.iter().enumerate() {
            let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
            let color = series_color(groups.iter().position(|g| *g == group(label)).unwrap_or(k));
            let i = n - 1 - k;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (v, SegmentValue::Exact(i + 1)),
                    ],
                    color.mix(0.85).filled(),
                )))
                .map_err(err)?
                .label(label.clone());
            chart
                .draw_series(std::iter::once(Text::new(
                    fmt_sig(v),
                    (v, SegmentValue::CenterOf(i)),
                    font(LEGEND).pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// A number with about four significant digits, plain for moderate magnitudes.
pub fn fmt_sig(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.3e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

/// Stage numbers of a design against W / W_min (top) and against the purity of A, as its
/// number of nines `-log10(1 - P_A)` (bottom): rigorous n + m, Xu's shortcut n + m and the
/// Fenske minimum.
pub fn sensitivity_svg(
    vs_reflux: &[SensitivityPointView],
    vs_purity: &[SensitivityPointView],
) -> String {
    render(1000, 640, |root| {
        let panels = root.split_evenly((2, 1));
        let sets: [SensitivitySet<'_>; 2] = [
            (vs_reflux, "W / W_min", |p| p.w_over_w_min),
            (vs_purity, "nines of P_A, -log10(1 - P_A)", |p| {
                -(1.0 - p.purity_a).max(1e-300).log10()
            }),
        ];
        for (panel, (pts, xdesc, xf)) in panels.iter().zip(sets) {
            let rig: Vec<(f64, f64)> = pts
                .iter()
                .filter_map(|p| match (p.n, p.m) {
                    (Some(n), Some(m)) => Some((xf(p), (n + m) as f64)),
                    _ => None,
                })
                .collect();
            let xu: Vec<(f64, f64)> = pts
                .iter()
                .filter_map(|p| Some((xf(p), p.n_shortcut? + p.m_shortcut?)))
                .filter(|p| p.1.is_finite())
                .collect();
            let fen: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (xf(p), p.n_min_fenske))
                .filter(|p| p.1.is_finite())
                .collect();
            let (x0, x1) = lin_range(pts.iter().map(xf));
            let (_, y1) = lin_range(rig.iter().chain(&xu).chain(&fen).map(|p| p.1));
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("total stages against {xdesc}"), font(CAPTION))
                .margin(8)
                .x_label_area_size(46)
                .y_label_area_size(72)
                .build_cartesian_2d(x0..x1, 0f64..y1.max(1.0))
                .map_err(err)?;
            chart
                .configure_mesh()
                .label_style(font(TICK))
                .axis_desc_style(font(AXIS))
                .x_desc(xdesc)
                .y_desc("stages")
                .x_label_formatter(&|v| lin_tick(*v))
                .y_label_formatter(&|v| lin_tick(*v))
                .draw()
                .map_err(err)?;
            for (data, name, color) in [
                (rig, "rigorous n + m", RGBColor(214, 39, 40)),
                (xu, "Xu shortcut n + m", RGBColor(31, 119, 180)),
                (fen, "Fenske N_min", RGBColor(127, 127, 127)),
            ] {
                chart
                    .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(name)
                    .legend(swatch(color.stroke_width(2)));
                chart
                    .draw_series(data.iter().map(|p| Circle::new(*p, 3, color.filled())))
                    .map_err(err)?;
            }
            series_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    })
}

/// Successive-LP passes: objective per pass (top) and the largest spec violation in simulation
/// per pass (bottom, log scale; zero violations drawn at the floor). Accepted passes are filled
/// circles, rejected ones open circles.
pub fn passes_svg(passes: &[PassView], objective_label: &str) -> String {
    render(1000, 620, |root| {
        let panels = root.split_evenly((2, 1));
        let n = passes.iter().map(|p| p.pass).max().unwrap_or(1).max(1);
        let (x0, x1) = (0.5, n as f64 + 0.5);
        let obj: Vec<(f64, f64, bool)> = passes
            .iter()
            .filter_map(|p| {
                p.objective
                    .filter(|v| v.is_finite())
                    .map(|v| (p.pass as f64, v, p.accepted))
            })
            .collect();
        let viol_raw: Vec<(f64, f64, bool)> = passes
            .iter()
            .filter_map(|p| {
                p.max_violation
                    .filter(|v| v.is_finite())
                    .map(|v| (p.pass as f64, v, p.accepted))
            })
            .collect();
        let (vlo, vhi) = log_range(viol_raw.iter().map(|p| p.1), 14.0);
        let viol: Vec<(f64, f64, bool)> = viol_raw
            .iter()
            .map(|&(x, v, a)| (x, v.clamp(vlo, vhi), a))
            .collect();
        let blue = RGBColor(31, 119, 180);
        let red = RGBColor(214, 39, 40);
        // objective panel
        {
            let (lo, hi) = lin_range(obj.iter().map(|p| p.1));
            let mut chart = ChartBuilder::on(&panels[0])
                .caption("objective per pass", font(CAPTION))
                .margin(8)
                .x_label_area_size(46)
                .y_label_area_size(88)
                .build_cartesian_2d(x0..x1, lo..hi)
                .map_err(err)?;
            chart
                .configure_mesh()
                .label_style(font(TICK))
                .axis_desc_style(font(AXIS))
                .x_desc("pass")
                .y_desc(objective_label)
                .x_label_formatter(&|v| int_tick(*v))
                .y_label_formatter(&|v| lin_tick(*v))
                .draw()
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    obj.iter().map(|p| (p.0, p.1)),
                    blue.stroke_width(2),
                ))
                .map_err(err)?
                .label("objective")
                .legend(swatch(blue.stroke_width(2)));
            chart
                .draw_series(obj.iter().map(|p| {
                    let style = if p.2 {
                        blue.filled()
                    } else {
                        blue.stroke_width(1)
                    };
                    Circle::new((p.0, p.1), 4, style)
                }))
                .map_err(err)?;
            series_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        {
            let mut chart = ChartBuilder::on(&panels[1])
                .caption("largest spec violation per pass (simulated)", font(CAPTION))
                .margin(8)
                .x_label_area_size(46)
                .y_label_area_size(72)
                .build_cartesian_2d(x0..x1, (vlo..vhi).log_scale())
                .map_err(err)?;
            chart
                .configure_mesh()
                .label_style(font(TICK))
                .axis_desc_style(font(AXIS))
                .x_desc("pass")
                .y_desc("max violation")
                .y_label_formatter(&|v| sci(*v))
                .x_label_formatter(&|v| int_tick(*v))
                .draw()
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    viol.iter().map(|p| (p.0, p.1)),
                    red.stroke_width(2),
                ))
                .map_err(err)?
                .label("max violation")
                .legend(swatch(red.stroke_width(2)));
            chart
                .draw_series(viol.iter().map(|p| {
                    let style = if p.2 {
                        red.filled()
                    } else {
                        red.stroke_width(1)
                    };
                    Circle::new((p.0, p.1), 4, style)
                }))
                .map_err(err)?;
            series_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    })
}

/// One point of a fit's parity or residual plot: the element (series), x and y.
pub type FitPoint = (String, f64, f64);

/// Groups `points` by their series name, in order of first appearance.
fn by_series(points: &[FitPoint]) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut groups: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (name, x, y) in points.iter().filter(|p| p.1.is_finite() && p.2.is_finite()) {
        match groups.iter_mut().find(|g| g.0 == *name) {
            Some(g) => g.1.push((*x, *y)),
            None => groups.push((name.clone(), vec![(*x, *y)])),
        }
    }
    groups
}

/// Parity plot of a fit: measured against fitted log10 D, one colour per element, with the
/// line of equality.
pub fn fit_parity_svg(points: &[FitPoint]) -> String {
    render(800, 720, |root| {
        let (lo, hi) = lin_range(points.iter().flat_map(|p| [p.1, p.2]));
        let mut chart = ChartBuilder::on(root)
            .caption("Parity: measured against fitted log10 D", font(CAPTION))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .label_style(font(TICK))
            .axis_desc_style(font(AXIS))
            .x_desc("fitted log10 D")
            .y_desc("measured log10 D")
            .x_label_formatter(&|v| lin_tick(*v))
            .y_label_formatter(&|v| lin_tick(*v))
            .draw()
            .map_err(err)?;
        let grey = BLACK.mix(0.5).stroke_width(1);
        chart
            .draw_series(LineSeries::new([(lo, lo), (hi, hi)], grey))
            .map_err(err)?
            .label("measured = fitted")
            .legend(swatch(grey));
        for (k, (name, pts)) in by_series(points).into_iter().enumerate() {
            let color = series_color(k);
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        series_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// Residual plot of a fit: standardized residual (measured minus fitted log10 D over its
/// sigma) against the equilibrium pH, one colour per element, with the +/- 2 band.
pub fn fit_residual_svg(points: &[FitPoint]) -> String {
    render(900, 520, |root| {
        let (xlo, xhi) = lin_range(points.iter().map(|p| p.1));
        let ymax = points
            .iter()
            .map(|p| p.2.abs())
            .filter(|v| v.is_finite())
            .fold(2.5f64, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption("Standardized residuals against pH", font(CAPTION))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(xlo..xhi, -ymax..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .label_style(font(TICK))
            .axis_desc_style(font(AXIS))
            .x_desc("equilibrium pH")
            .y_desc("residual / sigma")
            .x_label_formatter(&|v| lin_tick(*v))
            .y_label_formatter(&|v| lin_tick(*v))
            .draw()
            .map_err(err)?;
        let grey = BLACK.mix(0.5).stroke_width(1);
        chart
            .draw_series(LineSeries::new([(xlo, 0.0), (xhi, 0.0)], grey))
            .map_err(err)?;
        let band = BLACK.mix(0.3).stroke_width(1);
        for y in [-2.0, 2.0] {
            chart
                .draw_series(LineSeries::new([(xlo, y), (xhi, y)], band))
                .map_err(err)?;
        }
        for (k, (name, pts)) in by_series(points).into_iter().enumerate() {
            let color = series_color(k);
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        series_legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// Histogram (20 equal bins) of `values` (non-finite values left out), titled `title`, with
/// `unit` on the x axis and an optional vertical line (a spec limit) at `mark`.
pub fn histogram_svg(title: &str, unit: &str, values: &[f64], mark: Option<(f64, &str)>) -> String {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    render(900, 420, |root| {
        let (mut lo, mut hi) = v
            .iter()
            .chain(mark.iter().map(|m| &m.0).filter(|m| m.is_finite()))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        } else if hi <= lo {
            let pad = 0.5 * lo.abs().max(1e-9);
            (lo, hi) = (lo - pad, hi + pad);
        }
        let bins = 20usize;
        let w = (hi - lo) / bins as f64;
        let mut counts = vec![0usize; bins];
        for x in &v {
            let k = (((x - lo) / w).floor().max(0.0) as usize).min(bins - 1);
            counts[k] += 1;
        }
        let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.15;
        let mut chart = ChartBuilder::on(root)
            .caption(format!("{title} ({} samples)", v.len()), font(CAPTION))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .label_style(font(TICK))
            .axis_desc_style(font(AXIS))
            .x_desc(unit)
            .y_desc("samples")
            .x_labels(6)
            .x_label_formatter(&|x| fmt_sig(*x))
            .y_label_formatter(&|y| int_tick(*y))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(k, c)| {
                let x0 = lo + w * k as f64;
                Rectangle::new(
                    [(x0, 0.0), (x0 + w, *c as f64)],
                    series_color(0).mix(0.8).filled(),
                )
            }))
            .map_err(err)?;
        if let Some((m, label)) = mark.filter(|m| m.0.is_finite()) {
            let red = RGBColor(200, 0, 0).stroke_width(2);
            chart
                .draw_series(LineSeries::new([(m, 0.0), (m, top)], red))
                .map_err(err)?
                .label(label.to_string())
                .legend(swatch(red));
            series_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    })
}

/// Tornado chart: one horizontal bar per input from 0 to its rank correlation with the
/// output, in the order given (strongest first, on top).
pub fn tornado_svg(title: &str, bars: &[(String, f64)]) -> String {
    let n = bars.len().max(1);
    let h = (100 + 36 * n) as u32;
    render(900, h, |root| {
        let mut chart = bar_axes(
            root,
            title,
            bars,
            -1f64..1f64,
            "Spearman rank correlation with the output",
        )?;
        for (k, (_, r)) in bars.iter().enumerate() {
            let r = if r.is_finite() {
                r.clamp(-1.0, 1.0)
            } else {
                0.0
            };
            let i = n - 1 - k;
            let color = series_color(if r >= 0.0 { 0 } else { 1 });
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (r, SegmentValue::Exact(i + 1)),
                    ],
                    color.mix(0.85).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{r:.3}"),
                    (r, SegmentValue::CenterOf(i)),
                    font(LEGEND).pos(Pos::new(
                        if r >= 0.0 { HPos::Left } else { HPos::Right },
                        VPos::Center,
                    )),
                )))
                .map_err(err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::input::StageView;

    fn parse(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").trim().to_string())
            .collect()
    }

    fn stage(k: usize, section: &str, x: f64, ph: f64) -> StageView {
        StageView {
            stage: k,
            section: section.into(),
            flow_vol_aq: 1.0,
            flow_vol_org: 1.0,
            conc_aq: BTreeMap::from([("Nd".to_string(), x)]),
            conc_org: BTreeMap::from([("Nd".to_string(), 0.0)]),
            acidity_mol_per_l: 0.01,
            ph,
            free_extractant: None,
            loading_mol_per_l: 0.0,
            loading_fraction: None,
        }
    }

    fn circuit(stages: Vec<StageView>) -> CircuitView {
        CircuitView {
            name: "C<&>".into(),
            model: "distribution".into(),
            status: "converged".into(),
            iterations: 1,
            max_residual: 0.0,
            stages,
        }
    }

    #[test]
    fn degenerate_data_still_gives_well_formed_svg() {
        let els = vec!["Nd".to_string(), "Pr".to_string()];
        for c in [
            circuit(vec![]),
            circuit(vec![stage(1, "extraction", 0.0, f64::NAN)]),
            circuit(vec![
                stage(1, "extraction", 1e-300, 2.0),
                stage(2, "scrub", f64::INFINITY, 2.0),
                stage(3, "strip", 0.5, -1.0),
            ]),
        ] {
            let texts = parse(&concentration_profiles_svg(&c, &els));
            assert!(texts.iter().any(|t| t.contains("C<&>")), "{texts:?}");
            parse(&ph_loading_svg(&c));
        }
        parse(&bar_chart_svg("t", "u", &[]));
        let texts = parse(&bar_chart_svg(
            "t",
            "u",
            &[("a<b".into(), f64::NAN), ("c".into(), 2.0)],
        ));
        assert!(texts.contains(&"a<b".to_string()), "{texts:?}");
        parse(&passes_svg(&[], "objective"));
        let p = PassView {
            pass: 1,
            objective: None,
            step: None,
            radius: None,
            max_violation: Some(0.0),
            accepted: false,
            lp_status: "optimal".into(),
        };
        parse(&passes_svg(&[p], "objective"));
    }

    #[test]
    fn bars_of_one_reagent_share_a_colour() {
        let svg = bar_chart_svg(
            "reagents",
            "t/t",
            &[
                ("HCl (circuit A strip)".into(), 1.0),
                ("NaOH (circuit A saponification)".into(), 2.0),
                ("HCl (unit leach)".into(), 3.0),
            ],
        );
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        // the bars: filled rectangles with the palette's colours at opacity 0.85
        let fills: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("opacity") == Some("0.85"))
            .filter_map(|n| n.attribute("fill").map(str::to_string))
            .collect();
        assert_eq!(fills.len(), 3, "{svg}");
        assert_eq!(fills[0], fills[2], "HCl bars");
        assert_ne!(fills[0], fills[1], "NaOH bar");
        assert_eq!(fills[0], color_hex(series_color(0)));
    }

    #[test]
    fn sections_group_consecutive_stages() {
        let c = circuit(vec![
            stage(1, "extraction", 1.0, 1.0),
            stage(2, "extraction", 1.0, 1.0),
            stage(3, "scrub", 1.0, 1.0),
        ]);
        assert_eq!(
            sections(&c),
            vec![
                (1, 2, "extraction".to_string()),
                (3, 3, "scrub".to_string())
            ]
        );
        assert_eq!(log_range([1e-3, 0.5].into_iter(), 12.0), (1e-3, 1.0));
        assert_eq!(log_range([0.0].into_iter(), 12.0), (1e-6, 1.0));
        assert_eq!(fmt_sig(1234.5), "1234.5");
        assert_eq!(lin_tick(-0.0), "0");
        assert_eq!(lin_tick(-1e-9), "0");
        assert_eq!(lin_tick(50.0), "50");
        assert_eq!(lin_tick(0.0025), "0.0025");
        assert_eq!(lin_tick(-0.7), "-0.7");
        assert_eq!(fmt_sig(0.000_12), "1.200e-4");
    }
}
