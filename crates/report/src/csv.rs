//! CSV tables of a report: stage profiles per circuit and the stream table (fixed float formats,
//! columns in canonical element order).

use std::fmt::Write as _;

use crate::input::{CircuitView, SimView};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One circuit's stage profile: the columns of `sxplan simulate --out` (`stage`, `section`,
/// flows in L/h, acidity mol/L, pH, free extractant and loading mol/L, then `x_<El>` aqueous and
/// `y_<El>` organic concentrations in mol/L).
pub fn stage_profile_csv(sim: &SimView, c: &CircuitView) -> String {
    let mut out = String::from("stage,section,flow_vol_aq_l_per_h,flow_vol_org_l_per_h,acidity_mol_per_l,ph,free_extractant_mol_per_l,loading_mol_per_l");
    for e in &sim.elements {
        let _ = write!(out, ",x_{e}");
    }
    for e in &sim.elements {
        let _ = write!(out, ",y_{e}");
    }
    out.push('\n');
    for s in &c.stages {
        let _ = write!(
            out,
            "{},{},{:.6e},{:.6e},{:.6e},{:.4},{},{:.6e}",
            s.stage,
            csv_field(&s.section),
            s.flow_vol_aq,
            s.flow_vol_org,
            s.acidity_mol_per_l,
            s.ph,
            s.free_extractant
                .map_or(String::new(), |f| format!("{f:.6e}")),
            s.loading_mol_per_l
        );
        for e in &sim.elements {
            let _ = write!(out, ",{:.6e}", s.conc_aq.get(e).copied().unwrap_or(0.0));
        }
        for e in &sim.elements {
            let _ = write!(out, ",{:.6e}", s.conc_org.get(e).copied().unwrap_or(0.0));
        }
        out.push('\n');
    }
    out
}

/// The stream table: id, name, phase, from, to, volumetric flow (L/h), solids (t/h), net
/// acidity (mol/h), tear flag, then `flow_<El>` molar flows (mol/h).
pub fn streams_csv(sim: &SimView) -> String {
    let mut out = String::from(
        "id,name,phase,from,to,flow_vol_l_per_h,flow_mass_t_per_h,acid_mol_per_h,tear",
    );
    for e in &sim.elements {
        let _ = write!(out, ",flow_{e}_mol_per_h");
    }
    out.push('\n');
    for s in &sim.streams {
        let _ = write!(
            out,
            "{},{},{},{},{},{:.6e},{:.6e},{:.6e},{}",
            s.id,
            csv_field(&s.name),
            s.phase,
            csv_field(&s.from),
            csv_field(&s.to),
            s.flow_vol_l_per_h,
            s.flow_mass_t_per_h,
            s.acid_mol_per_h,
            s.tear
        );
        for e in &sim.elements {
            let _ = write!(
                out,
                ",{:.6e}",
                s.flow_mol_per_h.get(e).copied().unwrap_or(0.0)
            );
        }
        out.push('\n');
    }
    out
}
