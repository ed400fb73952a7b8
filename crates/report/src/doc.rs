//! The report as a small document model (headings, paragraphs, tables, figures) built once from
//! a [`ReportInput`] and rendered to Markdown and to self-contained HTML, so both say the same.

use std::fmt::Write as _;

use crate::charts::{self, fmt_sig};
use crate::flowdiagram;
use crate::input::{value_text, ReportInput};
use crate::mccabe;

/// One figure of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name when written out (`profile_PrNd.svg`).
    pub file: String,
    /// Caption.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// A block of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Heading of a level (1 = title).
    Heading(u8, String),
    /// A paragraph of plain text.
    Para(String),
    /// A table: header and rows of cells (plain text).
    Table(Vec<String>, Vec<Vec<String>>),
    /// A figure (index into [`Report::figures`]).
    Figure(usize),
}

/// A report ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Title.
    pub title: String,
    /// Blocks in order.
    pub blocks: Vec<Block>,
    /// Figures referenced by the blocks.
    pub figures: Vec<Figure>,
    /// Graphviz DOT of the flowsheet, when a simulation is present.
    pub dot: Option<String>,
}

/// File-name-safe version of a name (`[A-Za-z0-9_-]`, other characters become `_`).
pub fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn f6(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6}")
    } else {
        "-".into()
    }
}

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

/// A residual or error as a reader needs it: the bound it is under when tiny (stable across
/// machines), the value otherwise.
pub fn small(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v.abs() <= 1e-12 {
        "<= 1e-12".into()
    } else {
        format!("{v:.2e}")
    }
}

struct Builder {
    blocks: Vec<Block>,
    figures: Vec<Figure>,
}

impl Builder {
    fn h(&mut self, level: u8, t: impl Into<String>) {
        self.blocks.push(Block::Heading(level, t.into()));
    }
    fn p(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Para(t.into()));
    }
    fn table(&mut self, head: &[&str], rows: Vec<Vec<String>>) {
        self.blocks.push(Block::Table(
            head.iter().map(|s| s.to_string()).collect(),
            rows,
        ));
    }
    fn fig(&mut self, file: String, caption: String, svg: String) {
        self.figures.push(Figure { file, caption, svg });
        self.blocks.push(Block::Figure(self.figures.len() - 1));
    }
}

/// Builds the report of everything in `input`.
pub fn build(input: &ReportInput) -> Report {
    let mut b = Builder {
        blocks: Vec::new(),
        figures: Vec::new(),
    };
    b.h(1, format!("sxplan report: {}", input.title));
    let mut parts = Vec::new();
    if input.sim.is_some() {
        parts.push("simulation");
    }
    if input.design.is_some() {
        parts.push("design");
    }
    if input.opt.is_some() {
        parts.push("optimization");
    }
    b.p(format!(
        "Contents: {}. Units: flows L/h (m3/h where stated), concentrations mol/L, molar flows mol/h, oxide flows kg/h, fractions 0..1.",
        if parts.is_empty() { "nothing".to_string() } else { parts.join(", ") }
    ));
    let mut dot = None;
    if let Some(ov) = &input.summary {
        summary_section(&mut b, ov);
    }
    if let Some(o) = &input.opt {
        optimize_section(&mut b, o);
    }
    if let Some(s) = &input.sim {
        dot = Some(simulate_section(&mut b, s, input.opt.is_some()));
    }
    if let Some(d) = &input.design {
        design_section(&mut b, d);
    }
    b.h(2, "Data provenance");
    if input.provenance.is_empty() {
        b.p("No provenance list was given with this result; the flowsheet file names the source and quality of each number it uses (`sxplan check` lists them).");
    } else {
        b.table(
            &["datum", "source", "quality", "built in"],
            input
                .provenance
                .iter()
                .map(|d| {
                    vec![
                        d.item.clone(),
                        d.source.clone(),
                        d.quality.clone().unwrap_or_else(|| "untagged".into()),
                        if d.built_in { "yes" } else { "no" }.into(),
                    ]
                })
                .collect(),
        );
    }
    Report {
        title: input.title.clone(),
        blocks: b.blocks,
        figures: b.figures,
        dot,
    }
}

/// The top of the report: status, specs, annual figures, what limits the plant, costs,
/// equipment and organic inventory ([`crate::overview`]).
fn summary_section(b: &mut Builder, ov: &crate::overview::Overview) {
    use crate::overview::{fmt_basis, spec_value, usd, usd_or};
    b.h(2, "Summary");
    let h = &ov.operating_hours;
    let passed = ov.specs.iter().filter(|s| s.pass).count();
    b.p(format!(
        "Basis: {}; simulation **{}**. Specs: **{passed} of {} met**. Annual figures at {:.0} h/year ({}: {}).",
        ov.basis,
        ov.status,
        ov.specs.len(),
        h.value,
        h.quality,
        h.source
    ));
    for w in &ov.warnings {
        b.p(format!("**Warning:** {w}"));
    }
    if !ov.operating_point.is_empty() {
        b.h(3, "Operating point");
        b.table(
            &["operating variable ([optimize] free)", "value", "unit"],
            ov.operating_point
                .iter()
                .map(|v| vec![v.name.clone(), fmt_sig(v.value), v.unit.clone()])
                .collect(),
        );
    }
    if !ov.specs.is_empty() {
        b.h(3, "Specs");
        b.table(
            &["spec", "result", "value", "limit", "margin"],
            ov.specs
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        if s.pass { "pass" } else { "FAIL" }.into(),
                        spec_value(s.value, &s.unit),
                        spec_value(s.limit, &s.unit),
                        spec_value(s.margin, &s.unit),
                    ]
                })
                .collect(),
        );
    }
    if !ov.products.is_empty() || !ov.reagents.is_empty() {
        b.h(3, "The plant per year");
        b.p(format!(
            "{:.3} t REO/year in all products.",
            ov.reo_t_per_year
        ));
        b.table(
            &[
                "product",
                "main",
                "t REO/year",
                "purity (REO mass) %",
                "US$/kg",
                "US$/year",
            ],
            ov.products
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.main.clone(),
                        format!("{:.3}", p.reo_t_per_year),
                        format!("{:.4}", p.purity_reo_mass * 100.0),
                        p.usd_per_kg.map_or("-".into(), |x| format!("{x:.2}")),
                        usd_or(p.value_usd_per_year),
                    ]
                })
                .collect(),
        );
        b.table(
            &["reagent", "t/year", "t per t REO", "US$/kg", "US$/year"],
            ov.reagents
                .iter()
                .map(|r| {
                    vec![
                        r.reagent.clone(),
                        format!("{:.3}", r.t_per_year),
                        format!("{:.3}", r.t_per_t_reo),
                        r.usd_per_kg.map_or("-".into(), |x| format!("{x:.4}")),
                        usd_or(r.cost_usd_per_year),
                    ]
                })
                .collect(),
        );
    }
    b.h(3, "What limits it");
    if ov.binding.is_empty() {
        b.p(if ov.basis == "simulated" {
            "Not optimized: `sxplan optimize` ranks the binding limits by their shadow prices."
        } else {
            "No limit binds at the optimum."
        });
    } else {
        b.table(
            &["rank", "binding limit", "shadow price", "unit"],
            ov.binding
                .iter()
                .map(|x| {
                    vec![
                        x.rank.to_string(),
                        x.constraint.clone(),
                        fmt_sig(x.value),
                        x.unit.clone(),
                    ]
                })
                .collect(),
        );
    }
    let c = &ov.costs;
    if !ov.products.is_empty() || !ov.reagents.is_empty() {
        b.h(3, "Costs and margin");
        let mut rows = vec![
            vec![
                "product value".to_string(),
                usd(c.product_value_usd_per_year),
            ],
            vec![
                "reagent cost".to_string(),
                usd(-c.reagent_cost_usd_per_year),
            ],
        ];
        if c.operating_cost_usd_per_year != 0.0 {
            rows.push(vec![
                "other operating cost".into(),
                usd(-c.operating_cost_usd_per_year),
            ]);
        }
        rows.push(vec!["margin".into(), usd(c.margin_usd_per_year)]);
        for a in &c.by_area {
            let un = if a.unpriced.is_empty() {
                String::new()
            } else {
                format!(" (not valued: {})", a.unpriced.join(", "))
            };
            rows.push(vec![
                format!("reagents of {}{un}", a.area),
                usd(-a.cost_usd_per_year),
            ]);
        }
        b.p(format!(
            "At {}, US$/year; no capital, labour, energy or tailings cost.{}",
            c.price_set.as_deref().unwrap_or("the flowsheet's prices"),
            if c.not_valued.is_empty() {
                ""
            } else {
                " The totals leave out everything not valued (listed below): the margin is incomplete."
            }
        ));
        b.table(&["item", "US$/year"], rows);
        if !c.not_valued.is_empty() {
            b.table(
                &["not valued", "why"],
                c.not_valued
                    .iter()
                    .map(|n| vec![n.item.clone(), n.reason.clone()])
                    .collect(),
            );
        }
        if !c.price_sources.is_empty() {
            b.table(
                &["price source"],
                c.price_sources.iter().map(|s| vec![s.clone()]).collect(),
            );
        }
    }
    let e = &ov.equipment;
    if !e.circuits.is_empty() {
        b.h(3, "Equipment and organic inventory");
        b.p(format!(
            "Plant: mixers {:.3} m3, settlers {:.3} m2, organic inventory **{:.3} m3**, priced extractant in it {} US$. Each stage is sized on the phase flows leaving it: mixer volume = (Q_aq + Q_org) x residence time, settler area = (Q_aq + Q_org) / specific settling rate, organic = settler area x organic depth + the organic share of the mixer, plus the pipework allowance.",
            e.mixer_m3, e.settler_m2, e.organic_m3, usd(e.extractant_value_usd)
        ));
        b.table(
            &["basis", "value", "unit", "quality", "source"],
            e.basis
                .iter()
                .map(|d| {
                    vec![
                        d.name.clone(),
                        fmt_basis(d.value),
                        d.unit.clone(),
                        d.quality.clone(),
                        d.source.clone(),
                    ]
                })
                .collect(),
        );
        b.table(
            &[
                "circuit",
                "stages",
                "largest stage m3/h",
                "its mixer m3",
                "its settler m2",
                "mixers m3",
                "settlers m2",
                "organic m3 (settlers + mixers + pipework)",
                "extractant",
                "extractant value US$",
            ],
            e.circuits
                .iter()
                .map(|x| {
                    vec![
                        x.circuit.clone(),
                        x.stages.to_string(),
                        format!("{:.3}", x.max_stage_flow_m3_per_h),
                        format!("{:.3}", x.max_mixer_m3),
                        format!("{:.3}", x.max_settler_m2),
                        format!("{:.3}", x.mixer_m3),
                        format!("{:.3}", x.settler_m2),
                        format!(
                            "{:.3} ({:.3} + {:.3} + {:.3})",
                            x.organic_m3,
                            x.organic_settlers_m3,
                            x.organic_mixers_m3,
                            x.organic_pipework_m3
                        ),
                        format!("{} {:.3} mol/L", x.extractant, x.extractant_mol_per_l),
                        usd_or(x.extractant_value_usd),
                    ]
                })
                .collect(),
        );
    }
}

fn simulate_section(b: &mut Builder, s: &crate::input::SimView, after_opt: bool) -> String {
    b.h(
        2,
        if after_opt {
            format!("Simulation of {} at the optimized point", s.flowsheet)
        } else {
            format!("Simulation of {}", s.flowsheet)
        },
    );
    let d = &s.diagnostics;
    b.p(format!(
        "Status: **{}** after {} recycle iteration(s) and {} chain iteration(s) ({}). {} stages, {} streams, {} tear stream(s). Largest stage residual {}, recycle residual {}; mass balance largest relative error {} (overall {}).",
        s.status,
        s.iterations,
        d.chain_iterations,
        d.algorithm,
        d.n_stages,
        d.n_streams,
        d.n_tears,
        small(d.max_stage_residual),
        small(d.recycle_residual),
        small(s.mass_balance.max_relative_error),
        small(s.mass_balance.overall_relative_error),
    ));
    let dia = flowdiagram::diagram(s);
    b.fig(
        "flowsheet.svg".into(),
        "Flowsheet: circuits with their stages per section, feeds, units and products; each arrow is a stream with its number, flow and main element (hover for the full composition; fresh solutions, fresh organic and unlinked outlets are in the stream table below and in streams.csv; also as flowsheet.dot).".into(),
        dia.to_svg_with(&s.flowsheet, &s.streams),
    );
    b.h(3, "Streams");
    b.p("Every stream between nodes, numbered as in the diagram (stage-to-stage streams inside a circuit are in the stage profiles): phase, flow, net acidity and each element; the same table with full precision is streams.csv.");
    let mut head: Vec<String> = [
        "stream",
        "from -> to",
        "phase",
        "m3/h",
        "t/h solids",
        "acid mol/h",
        "main",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    head.extend(s.elements.iter().map(|e| format!("{e} mol/h")));
    head.push("recycle".into());
    let head_ref: Vec<&str> = head.iter().map(String::as_str).collect();
    b.table(
        &head_ref,
        s.streams
            .iter()
            .map(|st| {
                let mut row = vec![
                    format!("S{}", st.id),
                    st.name.clone(),
                    st.phase.clone(),
                    format!("{:.4}", st.flow_vol_l_per_h / 1000.0),
                    format!("{:.4}", st.flow_mass_t_per_h),
                    format!("{:.4}", st.acid_mol_per_h),
                    flowdiagram::main_element(st).unwrap_or_else(|| "-".into()),
                ];
                for e in &s.elements {
                    row.push(charts::fmt_sig(
                        st.flow_mol_per_h.get(e).copied().unwrap_or(0.0),
                    ));
                }
                row.push(if st.tear { "tear" } else { "" }.into());
                row
            })
            .collect(),
    );
    b.h(3, "Products");
    if s.products.is_empty() {
        b.p("The flowsheet defines no products.");
    } else {
        b.table(
            &[
                "product",
                "purity of",
                "purity (mole)",
                "purity (REO mass)",
                "spec",
                "REO kg/h",
                "recoveries",
            ],
            s.products
                .iter()
                .map(|p| {
                    let spec = p.purity_spec.as_ref().map_or("-".to_string(), |sp| {
                        format!(
                            ">= {} {}: {}",
                            f6(sp.min),
                            sp.basis,
                            if sp.met { "met" } else { "NOT met" }
                        )
                    });
                    let rec: Vec<String> = s
                        .elements
                        .iter()
                        .filter_map(|e| {
                            p.recovery
                                .get(e)
                                .filter(|r| **r >= 1e-4)
                                .map(|r| format!("{e} {r:.4}"))
                        })
                        .collect();
                    vec![
                        p.id.clone(),
                        p.purity_elements.join("+"),
                        f6(p.purity_mol),
                        f6(p.purity_reo_mass),
                        spec,
                        format!("{:.4}", p.reo_kg_per_h),
                        if rec.is_empty() {
                            "-".into()
                        } else {
                            rec.join(", ")
                        },
                    ]
                })
                .collect(),
        );
        let bars: Vec<(String, f64)> = s
            .products
            .iter()
            .map(|p| (p.id.clone(), p.reo_kg_per_h))
            .collect();
        b.fig(
            "products.svg".into(),
            "Product output, kg/h rare-earth oxide equivalent.".into(),
            charts::bar_chart_svg("product output", "kg/h REO", &bars),
        );
    }
    b.h(3, "Reagents");
    if s.reagents.items.is_empty() {
        b.p("No reagent use was computed.");
    } else {
        b.p(format!(
            "Basis: {:.4} kg/h REO in all products.",
            s.reagents.reo_product_kg_per_h
        ));
        b.table(
            &["reagent", "use", "mol/h", "kg/h", "t per t REO"],
            s.reagents
                .items
                .iter()
                .map(|r| {
                    vec![
                        r.reagent.clone(),
                        r.use_.clone(),
                        format!("{:.4}", r.mol_per_h),
                        format!("{:.4}", r.kg_per_h),
                        opt(r.t_per_t_reo, |v| format!("{v:.4}")),
                    ]
                })
                .collect(),
        );
        let per_t: Vec<(String, f64)> = s
            .reagents
            .items
            .iter()
            .filter_map(|r| {
                r.t_per_t_reo
                    .map(|t| (format!("{} ({})", r.reagent, r.use_), t))
            })
            .collect();
        if !per_t.is_empty() {
            b.fig(
                "reagents.svg".into(),
                "Reagent use per tonne of REO product (100 % reagent basis).".into(),
                charts::bar_chart_svg("reagent use per tonne REO", "t reagent / t REO", &per_t),
            );
        }
    }
    b.h(3, "Circuits");
    b.table(
        &[
            "circuit",
            "stages",
            "model",
            "status",
            "iterations",
            "residual",
            "pH range",
            "max loading mol/L",
        ],
        s.circuits
            .iter()
            .map(|c| {
                let ph = c.stages.iter().map(|x| x.ph).filter(|v| v.is_finite());
                let (lo, hi) = ph.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), v| {
                    (a.min(v), z.max(v))
                });
                let load = c
                    .stages
                    .iter()
                    .map(|x| x.loading_mol_per_l)
                    .fold(0.0f64, f64::max);
                vec![
                    c.name.clone(),
                    c.stages.len().to_string(),
                    c.model.clone(),
                    c.status.clone(),
                    c.iterations.to_string(),
                    small(c.max_residual),
                    if lo.is_finite() {
                        format!("{lo:.2} .. {hi:.2}")
                    } else {
                        "-".into()
                    },
                    format!("{load:.4}"),
                ]
            })
            .collect(),
    );
    for c in &s.circuits {
        let safe = safe_name(&c.name);
        b.fig(
            format!("profile_{safe}.svg"),
            format!(
                "Circuit {}: concentration of every element along the stages, aqueous (top) and organic (bottom), log scale; values more than 12 decades below the largest are drawn at the axis floor. Data: stages_{safe}.csv.",
                c.name
            ),
            charts::concentration_profiles_svg(c, &s.elements),
        );
        b.fig(
            format!("ph_loading_{safe}.svg"),
            format!(
                "Circuit {}: aqueous pH and organic loading along the stages.",
                c.name
            ),
            charts::ph_loading_svg(c),
        );
    }
    b.h(3, "Mass balance per element");
    b.table(
        &["element", "in mol/h", "out mol/h", "relative error"],
        s.elements
            .iter()
            .filter_map(|e| s.mass_balance.per_element.get(e).map(|m| (e, m)))
            .map(|(e, m)| {
                vec![
                    e.clone(),
                    format!("{:.6e}", m.in_mol_per_h),
                    format!("{:.6e}", m.out_mol_per_h),
                    small(m.relative_error),
                ]
            })
            .collect(),
    );
    if !d.warnings.is_empty() {
        b.h(3, "Warnings");
        b.table(
            &["warning"],
            d.warnings.iter().map(|w| vec![w.clone()]).collect(),
        );
    }
    dia.to_dot(&s.flowsheet)
}

fn design_section(b: &mut Builder, d: &crate::input::DesignView) {
    b.h(2, format!("Design of the cut {} | {}", d.key_a, d.key_b));
    b.p(format!(
        "{} feed, separation factor {:.4} (scrub {:.4}), A-group feed fraction {}; required purities P_A = {} (organic product), P_B = {} (aqueous product). Controlling section: {}.",
        d.feed_phase, d.sep_factor, d.sep_factor_scrub, f6(d.x_a), f6(d.purity_a_spec), f6(d.purity_b_spec), d.control
    ));
    let total = match (d.n, d.m) {
        (Some(n), Some(m)) => (n + m).to_string(),
        _ => "-".into(),
    };
    b.table(
        &["quantity", "value"],
        vec![
            vec!["E_M (extraction)".into(), f6(d.e_m)],
            vec!["E'_M (scrub)".into(), f6(d.e_prime_m)],
            vec!["S, mol REE per mol feed".into(), f6(d.s)],
            vec!["W, mol REE per mol feed".into(), f6(d.w)],
            vec!["W_min".into(), f6(d.w_min)],
            vec!["W / W_min".into(), format!("{:.4}", d.w_over_w_min)],
            vec!["Fenske N_min".into(), format!("{:.2}", d.n_min_fenske)],
            vec![
                "Xu shortcut n, m".into(),
                format!(
                    "{}, {}",
                    opt(d.n_shortcut, |v| format!("{v:.2}")),
                    opt(d.m_shortcut, |v| format!("{v:.2}"))
                ),
            ],
            vec!["search status".into(), d.status.clone()],
            vec![
                "rigorous n, m (total)".into(),
                format!(
                    "{}, {} ({total})",
                    d.n.map_or("-".into(), |v| v.to_string()),
                    d.m.map_or("-".into(), |v| v.to_string())
                ),
            ],
            vec![
                "purity A, B achieved".into(),
                format!(
                    "{}, {}",
                    opt(d.purity_a, |v| format!("{v:.8}")),
                    opt(d.purity_b, |v| format!("{v:.8}"))
                ),
            ],
        ],
    );
    if !d.distribution.is_empty() {
        b.table(
            &[
                "component",
                "group",
                "beta",
                "x feed",
                "to organic",
                "to aqueous",
            ],
            d.distribution
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.group.clone(),
                        format!("{:.4}", c.sep_factor),
                        f6(c.x_feed),
                        format!("{:.6e}", c.to_organic),
                        format!("{:.6e}", c.to_aqueous),
                    ]
                })
                .collect(),
        );
    }
    if let Some(sens) = &d.sensitivity {
        b.fig(
            "sensitivity.svg".into(),
            "Total stages against W / W_min and against the purity of A: rigorous minimum, Xu's shortcut and the Fenske minimum.".into(),
            charts::sensitivity_svg(&sens.vs_reflux, &sens.vs_purity),
        );
        for (title, pts) in [
            ("Stages against W / W_min", &sens.vs_reflux),
            ("Stages against purity", &sens.vs_purity),
        ] {
            b.h(3, title);
            b.table(
                &[
                    "P_A", "P_B", "W/W_min", "Fenske", "n (Xu)", "m (Xu)", "n", "m", "status",
                ],
                pts.iter()
                    .map(|p| {
                        vec![
                            f6(p.purity_a),
                            f6(p.purity_b),
                            format!("{:.3}", p.w_over_w_min),
                            format!("{:.2}", p.n_min_fenske),
                            opt(p.n_shortcut, |v| format!("{v:.2}")),
                            opt(p.m_shortcut, |v| format!("{v:.2}")),
                            p.n.map_or("-".into(), |v| v.to_string()),
                            p.m.map_or("-".into(), |v| v.to_string()),
                            p.status.clone(),
                        ]
                    })
                    .collect(),
            );
        }
    }
    match mccabe::from_design(d) {
        Some(mt) => b.fig(
            "mccabe_thiele.svg".into(),
            format!(
                "McCabe-Thiele diagram of the rigorous design ({} extraction + {} scrub stages, cascade {}): stage compositions from the constant-separation-factor cascade at S and W of the design; left in mole fractions, right in log10 odds where both high-purity ends are visible.{}",
                mt.n,
                mt.m,
                mt.status,
                if mt.components > 2 {
                    format!(
                        " {} components drawn as the pseudo-binary of the key groups (x, y: fraction of the A group), so the stage points lie near, not on, the key pair's equilibrium curve.",
                        mt.components
                    )
                } else {
                    String::new()
                }
            ),
            charts::mccabe_thiele_svg(
                &mt,
                &if mt.components > 2 {
                    let a: Vec<&str> = d
                        .distribution
                        .iter()
                        .filter(|c| c.group.eq_ignore_ascii_case("a"))
                        .map(|c| c.name.as_str())
                        .collect();
                    a.join("+")
                } else {
                    d.key_a.clone()
                },
            ),
        ),
        None => b.p("No McCabe-Thiele diagram: it needs rigorous stage numbers (and, for a multicomponent cut, one separation factor for both sections)."),
    }
}

fn optimize_section(b: &mut Builder, o: &crate::input::OptView) {
    b.h(2, format!("Optimization of {}", o.flowsheet));
    b.p(format!(
        "Status: **{}**. Objective {}: {} {} (start {} {}), LP backend {}, {} pass(es).",
        o.status,
        o.objective.kind,
        opt(o.objective.value, fmt_sig),
        o.objective.unit,
        opt(o.objective.start, fmt_sig),
        o.objective.unit,
        o.backend,
        o.passes.len()
    ));
    if !o.passes.is_empty() {
        b.fig(
            "passes.svg".into(),
            "Successive-LP passes: objective and largest spec violation in simulation per pass (filled: step accepted).".into(),
            charts::passes_svg(&o.passes, &format!("{} ({})", o.objective.kind, o.objective.unit)),
        );
        b.table(
            &[
                "pass",
                "objective",
                "step",
                "radius",
                "max violation",
                "accepted",
                "LP status",
            ],
            o.passes
                .iter()
                .map(|p| {
                    vec![
                        p.pass.to_string(),
                        opt(p.objective, fmt_sig),
                        opt(p.step, |v| format!("{v:.3e}")),
                        opt(p.radius, |v| format!("{v:.3e}")),
                        opt(p.max_violation, |v| format!("{v:.3e}")),
                        if p.accepted { "yes" } else { "no" }.into(),
                        p.lp_status.clone(),
                    ]
                })
                .collect(),
        );
    }
    b.h(3, "Operating point");
    b.table(
        &[
            "variable",
            "value",
            "start",
            "unit",
            "bounds",
            "at bound",
            "reduced cost",
        ],
        o.operating_point
            .iter()
            .map(|v| {
                vec![
                    v.name.clone(),
                    opt(v.value, fmt_sig),
                    opt(v.start, fmt_sig),
                    v.unit.clone(),
                    format!("{} .. {}", opt(v.min, fmt_sig), opt(v.max, fmt_sig)),
                    v.at_bound.clone(),
                    opt(v.reduced_cost, |x| format!("{:.4e}", x + 0.0)),
                ]
            })
            .collect(),
    );
    b.h(3, "Shadow prices (what limits the plant)");
    if o.shadow_prices.is_empty() {
        b.p("No binding constraint with a non-zero shadow price at the final point.");
    } else {
        b.table(
            &["rank", "constraint", "kind", "value", "unit"],
            o.shadow_prices
                .iter()
                .map(|s| {
                    vec![
                        s.rank.to_string(),
                        s.constraint.clone(),
                        value_text(&s.kind),
                        opt(s.value, |x| format!("{:.4e}", x + 0.0)),
                        s.unit.clone(),
                    ]
                })
                .collect(),
        );
    }
    if !o.products.is_empty() {
        b.h(3, "Products at the optimum (re-simulated)");
        b.table(
            &["product", "oxide kg/h", "purity", "min purity"],
            o.products
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        opt(p.oxide_kg_per_h, |v| format!("{v:.4}")),
                        opt(p.purity, |v| format!("{v:.6}")),
                        opt(p.purity_min, |v| format!("{v:.6}")),
                    ]
                })
                .collect(),
        );
        let bars: Vec<(String, f64)> = o
            .products
            .iter()
            .map(|p| (p.name.clone(), p.oxide_kg_per_h.unwrap_or(0.0)))
            .collect();
        b.fig(
            "opt_products.svg".into(),
            "Product output at the optimum, kg/h oxide.".into(),
            charts::bar_chart_svg("product output at the optimum", "kg/h oxide", &bars),
        );
    }
    if !o.checks.is_empty() {
        b.h(3, "Specs and limits in simulation");
        b.table(
            &["spec", "value", "limit", "violation"],
            o.checks
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        opt(c.value, |v| format!("{v:.6}")),
                        opt(c.limit, |v| format!("{v:.6}")),
                        match c.violation {
                            Some(v) if v > 0.0 => format!("VIOLATED by {v:.3e}"),
                            Some(_) => "ok".into(),
                            None => "-".into(),
                        },
                    ]
                })
                .collect(),
        );
    }
    if !o.conflicts.is_empty() {
        b.h(3, "Conflicting specs (relax these together)");
        b.table(
            &["constraint", "relative violation"],
            o.conflicts
                .iter()
                .map(|c| {
                    vec![
                        c.constraint.clone(),
                        opt(c.relative_violation, |v| format!("{v:.4e}")),
                    ]
                })
                .collect(),
        );
    }
    if !o.price_sources.is_empty() {
        b.h(3, "Prices used");
        b.table(
            &["source"],
            o.price_sources.iter().map(|p| vec![p.clone()]).collect(),
        );
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the report as Markdown; figures are linked by file name (written beside it).
pub fn to_markdown(r: &Report) -> String {
    let mut o = String::new();
    for blk in &r.blocks {
        match blk {
            Block::Heading(l, t) => {
                let _ = writeln!(o, "{} {t}\n", "#".repeat(usize::from(*l).clamp(1, 6)));
            }
            Block::Para(t) => {
                let _ = writeln!(o, "{t}\n");
            }
            Block::Table(head, rows) => {
                let _ = writeln!(
                    o,
                    "| {} |",
                    head.iter()
                        .map(|h| md_cell(h))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
                let _ = writeln!(o, "|{}", "---|".repeat(head.len()));
                for row in rows {
                    let _ = writeln!(
                        o,
                        "| {} |",
                        row.iter()
                            .map(|c| md_cell(c))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                }
                o.push('\n');
            }
            Block::Figure(i) => {
                if let Some(f) = r.figures.get(*i) {
                    let _ = writeln!(
                        o,
                        "![{}]({})\n\n*{}*\n",
                        md_cell(&f.file),
                        f.file,
                        f.caption
                    );
                }
            }
        }
    }
    o
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

/// `**bold**` spans of the Markdown paragraphs become `<strong>` in HTML.
fn html_inline(s: &str) -> String {
    let esc = html_escape(s);
    let mut out = String::new();
    let mut open = false;
    let mut rest = esc.as_str();
    while let Some(i) = rest.find("**") {
        out.push_str(&rest[..i]);
        out.push_str(if open { "</strong>" } else { "<strong>" });
        open = !open;
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    if open {
        out.push_str("</strong>");
    }
    out.replace('`', "")
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1120px;margin:0 auto;padding:24px 32px 64px;background:#fff;box-shadow:0 0 12px rgba(0,0,0,.06)}
h1{font-size:1.7em;border-bottom:3px solid #1f77b4;padding-bottom:.3em}
h2{font-size:1.35em;margin-top:2em;border-bottom:1px solid #ccd;padding-bottom:.2em}
h3{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.86em;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #d5d9e0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef2f8}
tr:nth-child(even) td{background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0 1.6em}
figure svg{max-width:100%;height:auto;border:1px solid #e3e6ea}
figure.wide{overflow-x:auto;width:calc(100vw - 48px);margin-left:calc(50% - 50vw + 24px)}
figure.wide figcaption{max-width:1056px;margin-left:auto;margin-right:auto}
figure.wide svg{max-width:none}
figcaption{font-size:.85em;color:#4a5161;margin-top:.3em}
nav{font-size:.9em;margin:.5em 0 1em}
nav a{margin-right:1em}
footer{font-size:.8em;color:#666;margin-top:3em}";

fn is_numeric(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// Renders the report as one self-contained HTML page (inline CSS and SVG, no external assets).
pub fn to_html(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<main>",
        html_escape(&format!("sxplan report: {}", r.title))
    );
    let mut nav = Vec::new();
    for (k, blk) in r.blocks.iter().enumerate() {
        if let Block::Heading(2, t) = blk {
            nav.push(format!("<a href=\"#s{k}\">{}</a>", html_escape(t)));
        }
    }
    let mut nav_done = false;
    for (k, blk) in r.blocks.iter().enumerate() {
        match blk {
            Block::Heading(l, t) => {
                let l = (*l).clamp(1, 6);
                let _ = writeln!(o, "<h{l} id=\"s{k}\">{}</h{l}>", html_escape(t));
            }
            Block::Para(t) => {
                let _ = writeln!(o, "<p>{}</p>", html_inline(t));
                if !nav_done && !nav.is_empty() {
                    let _ = writeln!(o, "<nav>{}</nav>", nav.join(""));
                    nav_done = true;
                }
            }
            Block::Table(head, rows) => {
                o.push_str("<table>\n<thead><tr>");
                for h in head {
                    let _ = write!(o, "<th>{}</th>", html_escape(h));
                }
                o.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    o.push_str("<tr>");
                    for c in row {
                        if is_numeric(c) {
                            let _ = write!(o, "<td class=\"num\">{}</td>", html_escape(c));
                        } else {
                            let _ = write!(o, "<td>{}</td>", html_escape(c));
                        }
                    }
                    o.push_str("</tr>\n");
                }
                o.push_str("</tbody>\n</table>\n");
            }
            Block::Figure(i) => {
                if let Some(f) = r.figures.get(*i) {
                    // very wide figures (long flowsheets) scroll instead of shrinking to unreadable
                    let wide = svg_width(&f.svg) > 1600;
                    let _ = writeln!(
                        o,
                        "<figure id=\"fig-{}\"{}>\n{}\n<figcaption>{}{}</figcaption>\n</figure>",
                        html_escape(f.file.trim_end_matches(".svg")),
                        if wide { " class=\"wide\"" } else { "" },
                        strip_xml_decl(&f.svg),
                        html_escape(&f.caption),
                        if wide { " (scroll sideways)" } else { "" }
                    );
                }
            }
        }
    }
    let _ = writeln!(
        o,
        "<footer>Generated by sxplan {}. Figures drawn with plotters (SVG backend).</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    o
}

/// The `width` attribute of the root `<svg>` element, 0 when absent.
fn svg_width(svg: &str) -> u32 {
    svg.find("<svg")
        .and_then(|i| svg[i..].find("width=\"").map(|j| i + j + 7))
        .and_then(|k| {
            let rest = &svg[k..];
            rest.find('"').and_then(|e| rest[..e].parse().ok())
        })
        .unwrap_or(0)
}

fn strip_xml_decl(svg: &str) -> &str {
    let t = svg.trim_start();
    if t.starts_with("<?xml") {
        t.find("?>").map_or(t, |i| &t[i + 2..])
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(svg_width("<svg width=\"1800\" height=\"2\">"), 1800);
        assert_eq!(svg_width("<p>"), 0);
        assert_eq!(html_inline("a **b** <c>"), "a <strong>b</strong> &lt;c&gt;");
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
        assert_eq!(small(3e-13), "<= 1e-12");
        assert_eq!(small(2.5e-9), "2.50e-9");
        assert_eq!(safe_name("La/Ce PrNd"), "La_Ce_PrNd");
    }

    #[test]
    fn empty_input_renders_both_formats() {
        let r = build(&ReportInput::default());
        let md = to_markdown(&r);
        assert!(md.contains("Contents: nothing."));
        let html = to_html(&r);
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
        assert!(r.dot.is_none() && r.figures.is_empty());
    }
}
