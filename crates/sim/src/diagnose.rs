//! The acid/base budget of a simulated circuit (`sxplan_model::acid_budget`, the one
//! implementation `check` also uses) filled from the section flows of a solved or last state,
//! and the diagnosis a result carries when a circuit has no physical steady state.

use sxplan_model::acid_budget::{self, AcidBudget, BudgetInput, Loaded, HYDROXIDE_PH};
use sxplan_model::{Circuit, SectionKind};

use crate::chain::{Chain, ChainSolution};

/// The budget of circuit `c` from the inflows of `chain`, with the organic of `sol` entering
/// the strip section when `sol` is a converged state (the last iterate of a failed solve is
/// no state of the plant: the strip is then judged by the bound on what must load). Elements
/// the circuit's model has no data for are not counted (`extractable` per element of the
/// chain, in the chain's element order).
pub(crate) fn circuit_budget(
    c: &Circuit,
    chain: &Chain,
    sol: &ChainSolution,
    extractable: &[bool],
) -> AcidBudget {
    let use_state = sol.status.is_converged();
    let (n, m) = (chain.n_stages, chain.n_elements);
    let group = acid_budget::raffinate_sections(c);
    let stages_of = |ks: &[usize]| -> Vec<usize> {
        ks.iter()
            .filter_map(|&k| c.sections.get(k))
            .flat_map(|s| s.first_stage..=s.last_stage())
            .filter(|&st| st >= 1 && st <= n)
            .map(|st| st - 1)
            .collect()
    };
    let ext = stages_of(&group);
    let acid_group: f64 = ext.iter().map(|&j| chain.acid_ext[j]).sum();
    let h_scrub: f64 = group
        .iter()
        .filter_map(|&k| c.sections.get(k).and_then(|s| s.solution.as_ref()))
        .map(|s| s.conc_h() * s.flow_vol)
        .sum();
    let (mut ree_feed, mut z_min, mut z_max) = (0.0, f64::INFINITY, 0.0f64);
    for &j in &ext {
        for i in (0..m).filter(|&i| extractable.get(i) == Some(&true)) {
            let a = chain.aq_ext.get(j * m + i).copied().unwrap_or(0.0);
            if a > 0.0 {
                ree_feed += a;
                z_min = z_min.min(chain.z_exchange[i]);
                z_max = z_max.max(chain.z_exchange[i]);
            }
        }
    }
    if !z_min.is_finite() {
        // nothing extractable fed: the exchange of any extractable element bounds it
        for i in (0..m).filter(|&i| extractable.get(i) == Some(&true)) {
            z_min = z_min.min(chain.z_exchange[i]);
            z_max = z_max.max(chain.z_exchange[i]);
        }
        if !z_min.is_finite() {
            z_min = 0.0;
        }
    }
    let q_org = ext
        .iter()
        .map(|&j| chain.flow_vol_org[j])
        .fold(0.0, f64::max);
    let strip = c.sections.iter().position(|s| s.kind == SectionKind::Strip);
    let (h_strip, loaded) = match strip {
        Some(k) => {
            let st = stages_of(&[k]);
            let h: f64 = st.iter().map(|&j| chain.acid_ext[j]).sum();
            let first = c.sections[k].first_stage.saturating_sub(1);
            let (mut ions, mut protons) = (0.0, 0.0);
            for i in (0..m).filter(|&i| extractable.get(i) == Some(&true)) {
                let mut o = if first >= 1 {
                    sol.o.get((first - 1) * m + i).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
                o += st
                    .iter()
                    .map(|&j| chain.org_ext.get(j * m + i).copied().unwrap_or(0.0))
                    .sum::<f64>();
                if o.is_finite() && o > 0.0 {
                    ions += o;
                    protons += chain.z_exchange[i] * o;
                }
            }
            (Some(h), use_state.then_some(Loaded { ions, protons }))
        }
        None => (None, None),
    };
    let mut knobs = acid_budget::knobs(c);
    knobs.organic_flow = chain.flow_vol_org.first().copied().unwrap_or(0.0);
    acid_budget::budget(&BudgetInput {
        circuit: c.name.clone(),
        h_feed: acid_group - h_scrub,
        ree_feed,
        h_scrub,
        base: chain.base_ext.iter().sum(),
        capacity: q_org * acid_budget::loading_limit(c),
        z_min,
        z_max,
        h_strip,
        loaded,
        knobs,
    })
}

/// The stage (1-based) with the highest aqueous pH above [`HYDROXIDE_PH`], with that pH.
pub(crate) fn above_hydroxide(ph: &[f64]) -> Option<(usize, f64)> {
    ph.iter()
        .enumerate()
        .filter(|(_, p)| p.is_finite() && **p > HYDROXIDE_PH)
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(j, p)| (j + 1, *p))
}
