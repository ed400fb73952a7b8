//! Shared pieces of the sxplan fuzz targets: a structured flowsheet generator (from `arbitrary`
//! input to TOML text) and the invariants every simulation result must satisfy.

use arbitrary::Arbitrary;
use sxplan_chem::Element;
use sxplan_sim::{SimResult, SolveStatus};

/// Rare earths the generator draws from (Sc, Y, La..Lu without Pm).
pub const REE: [Element; 16] = [
    Element::Sc,
    Element::Y,
    Element::La,
    Element::Ce,
    Element::Pr,
    Element::Nd,
    Element::Sm,
    Element::Eu,
    Element::Gd,
    Element::Tb,
    Element::Dy,
    Element::Ho,
    Element::Er,
    Element::Tm,
    Element::Yb,
    Element::Lu,
];

/// A number the fuzzer chooses: log-uniform between two decades, or an edge value.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    /// 10^(lo + (hi - lo) * t/65535).
    Log(u16),
    /// Exactly zero.
    Zero,
    /// The lower end of the range.
    Min,
    /// The upper end of the range.
    Max,
}

impl Num {
    /// The value in 10^lo ..= 10^hi (or 0 when `Zero` and `zero_ok`).
    pub fn value(self, lo: f64, hi: f64, zero_ok: bool) -> f64 {
        match self {
            Num::Log(t) => 10f64.powf(lo + (hi - lo) * f64::from(t) / 65535.0),
            Num::Zero if zero_ok => 0.0,
            Num::Zero | Num::Min => 10f64.powf(lo),
            Num::Max => 10f64.powf(hi),
        }
    }
}

/// Equilibrium model of a generated circuit.
#[derive(Arbitrary, Debug, Clone)]
pub enum GenModel {
    /// Distribution ratios per element and section (D 1e-4..1e6, zero allowed).
    Distribution(Vec<(Num, Num, Num)>),
    /// Separation factors per element and the two extraction ratios (0.05..20).
    SeparationFactor {
        /// Relative extractabilities (1e-2..1e3).
        beta: Vec<Num>,
        /// Extraction-section ratio.
        e_extraction: Num,
        /// Scrub-section ratio.
        e_scrub: Num,
    },
    /// Mass action with extraction constants per element (1e-6..1e2) and a loading capacity.
    MassAction {
        /// Extraction constants.
        k_ex: Vec<Num>,
        /// Loading capacity 0.01..1 mol/L, or none.
        capacity: Option<Num>,
    },
}

/// One generated circuit.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenCircuit {
    /// Extraction stages (1..=150).
    pub n_extraction: u8,
    /// Scrub stages (0..=150).
    pub n_scrub: u8,
    /// Strip stages (0..=40).
    pub n_strip: u8,
    /// Feed stage pick within the extraction section.
    pub feed_stage: u8,
    /// Organic flow 1e-3..1e3 m3/h.
    pub organic: Num,
    /// Scrub flow 1e-3..1e2 m3/h.
    pub scrub: Num,
    /// Strip flow 1e-3..1e2 m3/h.
    pub strip: Num,
    /// Scrub acid 0..6 mol/L.
    pub scrub_acid: u8,
    /// Saponification 0..90 %.
    pub saponification: u8,
    /// The model.
    pub model: GenModel,
    /// Reflux: part of the strip liquor (1..99 %) back into the scrub (needs scrub + strip).
    pub reflux: Option<u8>,
    /// Organic recirculation: stripped organic back to the organic inlet, with a bleed (0..50 %).
    pub organic_loop: Option<u8>,
    /// Murphree efficiency 1..100 %.
    pub murphree: Option<u8>,
}

/// A generated flowsheet: one feed, up to four circuits in series (raffinate of one feeding
/// the next, or a split of it), recycles inside circuits.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenFlowsheet {
    /// Bit mask over [`REE`]; at least one element is always present.
    pub elements: u16,
    /// Feed flow 1e-4..1e3 m3/h.
    pub feed_flow: Num,
    /// Feed concentrations 1e-8..1 mol/L (zero allowed).
    pub conc: Vec<Num>,
    /// Feed pH 0..5.
    pub ph: u8,
    /// Circuits (the first four are used).
    pub circuits: Vec<GenCircuit>,
    /// Split the raffinate between the next circuit and a product (fraction to the next 1..99 %).
    pub split_forward: Option<u8>,
}

fn pick<T: Copy>(v: &[T], i: usize, default: T) -> T {
    if v.is_empty() {
        default
    } else {
        v[i % v.len()]
    }
}

impl GenFlowsheet {
    /// The elements present.
    pub fn element_list(&self) -> Vec<Element> {
        let mut els: Vec<Element> = REE
            .iter()
            .enumerate()
            .filter(|(i, _)| self.elements & (1 << i) != 0)
            .map(|(_, e)| *e)
            .collect();
        if els.is_empty() {
            els.push(Element::Nd);
        }
        els
    }

    /// The flowsheet as TOML text (always within the language; it may still fail `check` for
    /// reasons such as a recycle loop without an outlet, which the target accepts).
    pub fn toml(&self) -> String {
        let els = self.element_list();
        let mut s = String::from("schema = 1\nname = \"fuzz\"\n\n[[feed]]\nname = \"liquor\"\n");
        s += &format!(
            "flow = \"{:e} m3/h\"\nacid = \"HCl\"\nph = {:.2}\nconc = {{ ",
            self.feed_flow.value(-4.0, 3.0, false),
            f64::from(self.ph % 51) / 10.0
        );
        let mut any_conc = false;
        for (i, e) in els.iter().enumerate() {
            let mut c = pick(&self.conc, i, Num::Log(30000)).value(-8.0, 0.0, true);
            if i + 1 == els.len() && !any_conc && c == 0.0 {
                c = 0.1;
            }
            any_conc |= c > 0.0;
            s += &format!("{} = \"{:e} mol/L\", ", e.symbol(), c);
        }
        s += "quality = \"illustrative\" }\nto = \"C0.feed\"\n";
        let circuits: Vec<&GenCircuit> = self.circuits.iter().take(4).collect();
        let default = GenCircuit {
            n_extraction: 10,
            n_scrub: 10,
            n_strip: 0,
            feed_stage: 255,
            organic: Num::Log(40000),
            scrub: Num::Log(30000),
            strip: Num::Log(30000),
            scrub_acid: 10,
            saponification: 0,
            model: GenModel::Distribution(Vec::new()),
            reflux: None,
            organic_loop: None,
            murphree: None,
        };
        let circuits = if circuits.is_empty() {
            vec![&default]
        } else {
            circuits
        };
        for (k, c) in circuits.iter().enumerate() {
            let name = format!("C{k}");
            let ne = 1 + usize::from(c.n_extraction) % 150;
            let ns = usize::from(c.n_scrub) % 151;
            let nt = usize::from(c.n_strip) % 41;
            let reflux = c.reflux.filter(|_| ns > 0 && nt > 0);
            s += &format!("\n[[circuit]]\nname = \"{name}\"\nsections = [{{ kind = \"extraction\", stages = {ne} }}");
            if ns > 0 {
                s += &format!(", {{ kind = \"scrub\", stages = {ns} }}");
            }
            if nt > 0 {
                s += &format!(", {{ kind = \"strip\", stages = {nt} }}");
            }
            s += "]\n";
            // Without a scrub the aqueous enters only at the feed, so stages above it would be
            // dry (E0507): feed at the top then, anywhere in the extraction section otherwise.
            let feed_stage = if ns == 0 {
                ne
            } else {
                1 + usize::from(c.feed_stage) % ne
            };
            s += &format!("feed_stage = {feed_stage}\n");
            let sap = u32::from(c.saponification % 91);
            s += &format!(
                "organic = {{ extractant = \"P507\", conc = \"1.5 mol/L\", flow = \"{:e} m3/h\"{} }}\n",
                c.organic.value(-3.0, 3.0, false),
                if sap > 0 {
                    format!(", saponification = \"{sap} %\", agent = \"NH3\"")
                } else {
                    String::new()
                }
            );
            if ns > 0 && reflux.is_none() {
                s += &format!(
                    "scrub = {{ acid = \"HCl\", conc = \"{:.1} mol/L\", flow = \"{:e} m3/h\" }}\n",
                    f64::from(c.scrub_acid % 61) / 10.0,
                    c.scrub.value(-3.0, 2.0, false)
                );
            }
            if nt > 0 {
                s += &format!(
                    "strip = {{ acid = \"HCl\", conc = \"2 mol/L\", flow = \"{:e} m3/h\" }}\n",
                    c.strip.value(-3.0, 2.0, false)
                );
            }
            if let Some(m) = c.murphree {
                s += &format!("murphree = {:.2}\n", f64::from(1 + m % 100) / 100.0);
            }
            s += "\n[circuit.equilibrium]\nquality = \"illustrative\"\n";
            match &c.model {
                GenModel::Distribution(d) => {
                    s += "model = \"distribution\"\nd = { ";
                    for (i, e) in els.iter().enumerate() {
                        let (a, b, t) = pick(d, i, (Num::Log(30000), Num::Log(30000), Num::Zero));
                        s += &format!(
                            "{} = {{ extraction = {:e}",
                            e.symbol(),
                            a.value(-4.0, 6.0, true)
                        );
                        if ns > 0 {
                            s += &format!(", scrub = {:e}", b.value(-4.0, 6.0, true));
                        }
                        if nt > 0 {
                            s += &format!(", strip = {:e}", t.value(-4.0, 6.0, true));
                        }
                        s += " }, ";
                    }
                    s.truncate(s.len() - 2);
                    s += " }\n";
                }
                GenModel::SeparationFactor {
                    beta,
                    e_extraction,
                    e_scrub,
                } => {
                    s += "model = \"separation_factor\"\nbeta = { ";
                    let parts: Vec<String> = els
                        .iter()
                        .enumerate()
                        .map(|(i, e)| {
                            format!(
                                "{} = {:e}",
                                e.symbol(),
                                pick(beta, i, Num::Log(30000)).value(-2.0, 3.0, false)
                            )
                        })
                        .collect();
                    s += &parts.join(", ");
                    s += &format!(
                        " }}\nextraction_ratio = {{ extraction = {:e}",
                        e_extraction.value(-1.3, 1.3, false)
                    );
                    if ns > 0 {
                        s += &format!(", scrub = {:e}", e_scrub.value(-1.3, 1.3, false));
                    }
                    s += " }\n";
                }
                GenModel::MassAction { k_ex, capacity } => {
                    s += "model = \"mass_action\"\nk_ex = { ";
                    let parts: Vec<String> = els
                        .iter()
                        .enumerate()
                        .map(|(i, e)| {
                            format!(
                                "{} = {:e}",
                                e.symbol(),
                                pick(k_ex, i, Num::Log(30000)).value(-6.0, 2.0, false)
                            )
                        })
                        .collect();
                    s += &parts.join(", ");
                    s += " }\n";
                    if let Some(cap) = capacity {
                        s += &format!(
                            "loading_capacity = \"{:e} mol/L\"\n",
                            cap.value(-2.0, 0.0, false)
                        );
                    }
                }
            }
            if let Some(r) = reflux {
                let f = f64::from(1 + r % 99) / 100.0;
                s += &format!(
                    "\n[[splitter]]\nname = \"{name}_reflux\"\nfrom = \"{name}.strip_liquor\"\noutlets = {{ back = {f}, out = {:.2} }}\n\n[[link]]\nfrom = \"{name}_reflux.back\"\nto = \"{name}.scrub_inlet\"\n\n[[product]]\nname = \"{name}_liquor\"\nfrom = \"{name}_reflux.out\"\n",
                    1.0 - f
                );
            } else if nt > 0 {
                s += &format!(
                    "\n[[product]]\nname = \"{name}_liquor\"\nfrom = \"{name}.strip_liquor\"\n"
                );
            }
            if let Some(b) = c.organic_loop.filter(|_| nt > 0) {
                let bleed = f64::from(1 + b % 50) / 100.0;
                s += &format!(
                    "\n[[splitter]]\nname = \"{name}_org\"\nfrom = \"{name}.stripped_organic\"\noutlets = {{ back = {:.2}, bleed = {bleed} }}\n\n[[link]]\nfrom = \"{name}_org.back\"\nto = \"{name}.organic_inlet\"\n\n[[purge]]\nname = \"{name}_bleed\"\nfrom = \"{name}_org.bleed\"\n",
                    1.0 - bleed
                );
            }
            if nt == 0 {
                s += &format!("\n[[product]]\nname = \"{name}_org\"\nkind = \"organic\"\nfrom = \"{name}.loaded_organic\"\n");
            }
            // The raffinate feeds the next circuit (possibly split) or leaves as a product.
            if k + 1 < circuits.len() {
                let next = format!("C{}", k + 1);
                if let Some(f) = self.split_forward {
                    let f = f64::from(1 + f % 99) / 100.0;
                    s += &format!(
                        "\n[[splitter]]\nname = \"{name}_raff\"\nfrom = \"{name}.raffinate\"\noutlets = {{ fwd = {f}, out = {:.2} }}\n\n[[link]]\nfrom = \"{name}_raff.fwd\"\nto = \"{next}.feed\"\n\n[[product]]\nname = \"{name}_raff\"\nfrom = \"{name}_raff.out\"\n",
                        1.0 - f
                    );
                } else {
                    s +=
                        &format!("\n[[link]]\nfrom = \"{name}.raffinate\"\nto = \"{next}.feed\"\n");
                }
            } else {
                s += &format!(
                    "\n[[product]]\nname = \"{name}_raff\"\nfrom = \"{name}.raffinate\"\n"
                );
            }
        }
        s
    }
}

/// Checks what every simulation result must satisfy; returns the first violation.
///
/// Every number finite; flows and concentrations non-negative; recoveries in [0, 1];
/// a converged result closes every element balance to `closure`.
pub fn check_result(r: &SimResult, closure: f64) -> Result<(), String> {
    let fin = |what: &str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err(format!("{what} is {v}"))
        }
    };
    let nonneg = |what: &str, v: f64| {
        fin(what, v)?;
        if v >= 0.0 {
            Ok(())
        } else {
            Err(format!("{what} is negative: {v}"))
        }
    };
    fin("max_relative_error", r.mass_balance.max_relative_error)?;
    fin("max_stage_residual", r.diagnostics.max_stage_residual)?;
    fin("recycle_residual", r.diagnostics.recycle_residual)?;
    for (e, b) in &r.mass_balance.per_element {
        nonneg(&format!("{e} in"), b.in_mol_per_h)?;
        nonneg(&format!("{e} out"), b.out_mol_per_h)?;
        fin(&format!("{e} relative_error"), b.relative_error)?;
    }
    for s in &r.streams {
        nonneg(&format!("stream {} volume", s.name), s.flow_vol_l_per_h)?;
        nonneg(&format!("stream {} mass", s.name), s.flow_mass_t_per_h)?;
        fin(&format!("stream {} acid", s.name), s.acid_mol_per_h)?;
        for (e, v) in s.conc_mol_per_l.iter().chain(&s.flow_mol_per_h) {
            nonneg(&format!("stream {} {e}", s.name), *v)?;
        }
    }
    for c in &r.circuits {
        fin(&format!("circuit {} residual", c.name), c.max_residual)?;
        for st in &c.stages {
            let at = format!("circuit {} stage {}", c.name, st.stage);
            nonneg(&format!("{at} flow_vol_aq"), st.flow_vol_aq)?;
            nonneg(&format!("{at} flow_vol_org"), st.flow_vol_org)?;
            fin(&format!("{at} acidity"), st.acidity_mol_per_l)?;
            fin(&format!("{at} ph"), st.ph)?;
            nonneg(&format!("{at} loading"), st.loading_mol_per_l)?;
            if let Some(x) = st.free_extractant {
                nonneg(&format!("{at} free extractant"), x)?;
            }
            if let Some(x) = st.loading_fraction {
                fin(&format!("{at} loading fraction"), x)?;
            }
            for (e, v) in st.conc_aq.iter().chain(&st.conc_org) {
                nonneg(&format!("{at} conc {e}"), *v)?;
            }
        }
    }
    for p in &r.products {
        fin(&format!("product {} purity_mol", p.id), p.purity_mol)?;
        fin(
            &format!("product {} purity_reo_mass", p.id),
            p.purity_reo_mass,
        )?;
        nonneg(&format!("product {} reo", p.id), p.reo_kg_per_h)?;
        for (e, v) in &p.recovery {
            if !(v.is_finite() && *v >= 0.0 && *v <= 1.0 + 1e-9) {
                return Err(format!("product {} recovery {e} = {v}", p.id));
            }
        }
    }
    for item in &r.reagents.items {
        fin(&format!("reagent {}", item.reagent), item.mol_per_h)?;
        fin(&format!("reagent {} kg", item.reagent), item.kg_per_h)?;
    }
    if r.status == SolveStatus::Converged && r.mass_balance.max_relative_error > closure {
        return Err(format!(
            "converged but the mass balance is off by {:e}",
            r.mass_balance.max_relative_error
        ));
    }
    Ok(())
}
