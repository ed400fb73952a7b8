//! Analytic Kremser solution of a countercurrent chain with constant extraction factor.
//!
//! Single solute, `N` equilibrium stages, constant extraction factor `E = D * Q_org / Q_aq`,
//! aqueous feed concentration `x_in`, organic inlet concentration `y_in` (chemistry.md 2.4):
//! `(x_in - y_in/D) / (x_out - y_in/D) = (E^(N+1) - 1) / (E - 1)`, and `N + 1` when `E = 1`.

/// Fraction of the solute entering with the aqueous feed that leaves in the raffinate
/// (fresh organic, `y_in = 0`): `(E - 1) / (E^(N+1) - 1)`, or `1 / (N + 1)` when `E = 1`.
///
/// Evaluated in a form that neither overflows nor loses precision near `E = 1`.
pub fn raffinate_fraction(e: f64, n_stages: usize) -> f64 {
    let np1 = (n_stages + 1) as f64;
    if (e - 1.0).abs() < 1e-12 {
        return 1.0 / np1;
    }
    if e > 1.0 {
        // (E - 1) / (E^(N+1) - 1) = (1 - 1/E) E^-N / (1 - E^-(N+1))
        let inv = 1.0 / e;
        let num = (1.0 - inv) * inv.powf(n_stages as f64);
        let den = -(np1 * inv.ln()).exp_m1();
        num / den
    } else {
        let lnp = np1 * e.ln();
        (1.0 - e) / -lnp.exp_m1()
    }
}

/// Theoretical stages needed to reach `x_in / x_out = ratio` with fresh organic at extraction factor `e`:
/// `N = ln(ratio (1 - 1/E) + 1/E) / ln E` (`ratio - 1` when `E = 1`). Not rounded up.
pub fn stages_for_ratio(e: f64, ratio: f64) -> f64 {
    if (e - 1.0).abs() < 1e-12 {
        return ratio - 1.0;
    }
    (ratio * (1.0 - 1.0 / e) + 1.0 / e).ln() / e.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chemistry_example_c() {
        // D = 10, O/A = 1/3, 99.9 % extraction -> 5.44 stages (chemistry.md 2.6 Example C).
        let n = stages_for_ratio(10.0 / 3.0, 1000.0);
        assert!((n - 5.44).abs() < 0.005, "{n}");
        // A single stage extracts E/(1+E) = 77 %.
        assert!((1.0 - raffinate_fraction(10.0 / 3.0, 1) - 0.769).abs() < 1e-3);
    }

    #[test]
    fn limits_are_continuous() {
        let a = raffinate_fraction(1.0, 10);
        let b = raffinate_fraction(1.0 + 1e-9, 10);
        assert!((a - b).abs() < 1e-7);
        assert!(raffinate_fraction(1e8, 2000) >= 0.0);
        assert!((raffinate_fraction(1e-4, 2000) - (1.0 - 1e-4)).abs() < 1e-7);
    }
}
