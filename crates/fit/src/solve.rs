//! The weighted least-squares fits: model functions and Jacobians, identifiability checks,
//! the solve (nalgebra SVD for the linear empirical model, levenberg-marquardt for mass
//! action), covariance, intervals and separation factors.

use std::collections::BTreeMap;
use std::f64::consts::LN_10;

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{DMatrix, DVector, Dyn, Owned};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use sxplan_chem::Element;

use crate::{
    CovarianceBasis, FitError, FitOptions, FitResult, FitStatus, FixedParam, Measurement,
    ModelKind, Param, Residual, SepFactor,
};

/// Singular values below this fraction of the largest (columns scaled to unit norm) mean a
/// parameter is not identified: the data leave a direction of the parameters unconstrained to
/// within rounding of a few digits of log D.
const RANK_TOL: f64 = 1e-9;

/// One parameter of the vector being fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    A(usize),
    B(usize),
    C(usize),
    A1(usize),
    LogK(usize),
    N,
    Z,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::A(_) => "a",
            Kind::B(_) => "b",
            Kind::C(_) => "c",
            Kind::A1(_) => "a1",
            Kind::LogK(_) => "log10_k",
            Kind::N => "n",
            Kind::Z => "z",
        }
    }
    fn element(self) -> Option<usize> {
        match self {
            Kind::A(e) | Kind::B(e) | Kind::C(e) | Kind::A1(e) | Kind::LogK(e) => Some(e),
            Kind::N | Kind::Z => None,
        }
    }
    fn words(self) -> &'static str {
        match self {
            Kind::A(_) => "slope a",
            Kind::B(_) => "intercept b",
            Kind::C(_) => "extractant slope c",
            Kind::A1(_) => "slope change a1",
            Kind::LogK(_) => "extraction constant K",
            Kind::N => "the free-dimer exponent n",
            Kind::Z => "the [H+] exponent z",
        }
    }
}

/// The model, the data in dense form and the layout of the parameter vector.
struct Problem<'a> {
    opts: &'a FitOptions,
    rows: &'a [Measurement],
    /// Element index of every row.
    elem: Vec<usize>,
    elements: Vec<Element>,
    kinds: Vec<Kind>,
    /// Index into the parameter vector per (element, parameter name) and of n, z.
    index: BTreeMap<(Option<usize>, &'static str), usize>,
    /// Organic loading (mol/L of element in the organic) of every row's test.
    loading: Vec<f64>,
    /// Weight 1/sigma per row.
    inv_sigma: Vec<f64>,
    /// Fixed z per element (the ion charge) when z is not fitted.
    z_fixed: Vec<f64>,
}

impl Problem<'_> {
    fn get(&self, theta: &[f64], e: Option<usize>, name: &'static str) -> Option<f64> {
        self.index.get(&(e, name)).map(|&k| theta[k])
    }

    /// log10 D predicted for row `r` and its gradient in the parameters; `None` when the free
    /// extractant is not positive.
    fn predict(&self, theta: &[f64], r: usize, grad: &mut [f64]) -> Option<f64> {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let m = &self.rows[r];
        let e = self.elem[r];
        let x = m.extractant;
        let lx = x.log10();
        let mut put = |name: &'static str, e: Option<usize>, v: f64| {
            if let Some(&k) = self.index.get(&(e, name)) {
                grad[k] = v;
            }
        };
        match self.opts.model {
            ModelKind::Empirical => {
                let a = self.get(theta, Some(e), "a")?;
                let b = self.get(theta, Some(e), "b")?;
                let c = self
                    .get(theta, Some(e), "c")
                    .or(self.opts.fix_c)
                    .unwrap_or(0.0);
                let a1 = self.get(theta, Some(e), "a1").unwrap_or(0.0);
                put("a", Some(e), m.ph);
                put("b", Some(e), 1.0);
                put("c", Some(e), lx);
                put("a1", Some(e), x * m.ph);
                Some((a + a1 * x) * m.ph + b + c * lx)
            }
            ModelKind::MassAction => {
                let lk = self.get(theta, Some(e), "log10_k")?;
                let n = self.get(theta, None, "n").unwrap_or(self.opts.n_extractant);
                let z = self.get(theta, None, "z").unwrap_or(self.z_fixed[e]);
                let free = 0.5 * x - n * self.loading[r];
                if !(free > 0.0 && free.is_finite()) {
                    return None;
                }
                let lf = free.log10();
                put("log10_k", Some(e), 1.0);
                put("n", None, lf - n * self.loading[r] / (free * LN_10));
                put("z", None, m.ph);
                Some(lk + n * lf + z * m.ph)
            }
        }
    }

    /// Weighted residuals (measured - model) / sigma and the Jacobian of the model part.
    fn evaluate(&self, theta: &[f64]) -> Option<(DVector<f64>, DMatrix<f64>)> {
        let (nr, np) = (self.rows.len(), self.kinds.len());
        let mut res = DVector::zeros(nr);
        let mut jac = DMatrix::zeros(nr, np);
        let mut g = vec![0.0; np];
        for r in 0..nr {
            let f = self.predict(theta, r, &mut g)?;
            let w = self.inv_sigma[r];
            res[r] = (self.rows[r].log_d - f) * w;
            for (k, gk) in g.iter().enumerate() {
                jac[(r, k)] = -gk * w;
            }
        }
        Some((res, jac))
    }
}

/// The levenberg-marquardt view of the problem.
struct Lm<'a, 'b> {
    p: &'b Problem<'a>,
    theta: DVector<f64>,
    cache: Option<(DVector<f64>, DMatrix<f64>)>,
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for Lm<'_, '_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, x: &DVector<f64>) {
        self.theta.copy_from(x);
        self.cache = self.p.evaluate(self.theta.as_slice());
    }
    fn params(&self) -> DVector<f64> {
        self.theta.clone()
    }
    fn residuals(&self) -> Option<DVector<f64>> {
        self.cache.as_ref().map(|c| c.0.clone())
    }
    fn jacobian(&self) -> Option<DMatrix<f64>> {
        self.cache.as_ref().map(|c| c.1.clone())
    }
}

fn distinct(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs().max(1.0));
    v
}

fn refuse(element: Option<Element>, kind: Kind, reason: String, help: &str) -> FitError {
    FitError::NotIdentified {
        element: element.map(|e| e.symbol().to_string()),
        parameter: kind.words().to_string(),
        reason,
        help: help.to_string(),
    }
}

/// Fits the model of `opts` to `rows` (docs/fit.md, "Statistics").
pub fn fit(rows: &[Measurement], opts: &FitOptions) -> Result<FitResult, FitError> {
    check_options(opts)?;
    let p = build(rows, opts)?;
    identifiable(&p)?;
    // Start: the linear solve (exact for the empirical model and for mass action with n fixed).
    let theta0 = start_point(&p);
    let start = p
        .evaluate(&theta0)
        .map(|(r0, j)| linear_step(&r0, &j, &theta0))
        .ok_or_else(|| free_extractant_error(&p))?;
    let (theta, status, method) = if !opts.fit_n || opts.model == ModelKind::Empirical {
        // Linear in the parameters: the SVD solve is the optimum.
        (
            start,
            FitStatus::Converged,
            "linear weighted least squares (nalgebra SVD)".to_string(),
        )
    } else {
        let lm = Lm {
            p: &p,
            theta: DVector::from_vec(start.clone()),
            cache: p.evaluate(&start),
        };
        if lm.cache.is_none() {
            return Err(free_extractant_error(&p));
        }
        let (lm, report) = LevenbergMarquardt::new().minimize(lm);
        let status = if report.termination.was_successful() {
            FitStatus::Converged
        } else {
            FitStatus::NotConverged
        };
        (
            lm.theta.as_slice().to_vec(),
            status,
            format!(
                "weighted nonlinear least squares (levenberg-marquardt crate, {} evaluations, {:?})",
                report.number_of_evaluations, report.termination
            ),
        )
    };
    let (res, jac) = p
        .evaluate(&theta)
        .ok_or_else(|| free_extractant_error(&p))?;
    finish(&p, &theta, &res, &jac, status, method)
}

fn check_options(o: &FitOptions) -> Result<(), FitError> {
    let finite = |v: Option<f64>, what: &str| match v {
        Some(x) if !x.is_finite() => Err(FitError::Options(format!(
            "{what} is {x}, not a finite number"
        ))),
        _ => Ok(()),
    };
    finite(o.fix_c, "the fixed c")?;
    finite(o.z_proton, "z")?;
    finite(o.ref_ph, "the reference pH")?;
    if let Some(x) = o.ref_extractant {
        if !(x.is_finite() && x > 0.0) {
            return Err(FitError::Options(format!(
                "the reference extractant concentration is {x}, it must be > 0"
            )));
        }
    }
    if !(o.n_extractant.is_finite() && o.n_extractant > 0.0) {
        return Err(FitError::Options(format!(
            "n is {}, it must be > 0",
            o.n_extractant
        )));
    }
    Ok(())
}

fn build<'a>(rows: &'a [Measurement], opts: &'a FitOptions) -> Result<Problem<'a>, FitError> {
    let mut elements: Vec<Element> = rows.iter().map(|r| r.element).collect();
    elements.sort_by_key(|e| e.z());
    elements.dedup();
    let elem: Vec<usize> = rows
        .iter()
        .map(|r| elements.iter().position(|e| *e == r.element).unwrap_or(0))
        .collect();
    let mut kinds = Vec::new();
    for e in 0..elements.len() {
        match opts.model {
            ModelKind::Empirical => {
                kinds.push(Kind::A(e));
                kinds.push(Kind::B(e));
                if opts.fix_c.is_none() {
                    kinds.push(Kind::C(e));
                }
                if opts.fit_a1 {
                    kinds.push(Kind::A1(e));
                }
            }
            ModelKind::MassAction => kinds.push(Kind::LogK(e)),
        }
    }
    if opts.model == ModelKind::MassAction {
        if opts.fit_n {
            kinds.push(Kind::N);
        }
        if opts.fit_z {
            kinds.push(Kind::Z);
        }
    }
    let index = kinds
        .iter()
        .enumerate()
        .map(|(k, kind)| ((kind.element(), kind.name()), k))
        .collect();
    // Loading of each row's test: the organic concentrations of the rows of one test add up
    // (a row without `test` is a test of its own); rows without `org` count as dilute.
    let mut by_test: BTreeMap<&str, f64> = BTreeMap::new();
    for r in rows {
        if let (Some(t), Some(o)) = (&r.test, r.org) {
            *by_test.entry(t.as_str()).or_insert(0.0) += o;
        }
    }
    let loading = rows
        .iter()
        .map(|r| match &r.test {
            Some(t) => by_test.get(t.as_str()).copied().unwrap_or(0.0),
            None => r.org.unwrap_or(0.0),
        })
        .collect();
    let inv_sigma = rows
        .iter()
        .map(|r| r.sigma_log_d.map_or(1.0, |s| 1.0 / s))
        .collect();
    let z_fixed = elements
        .iter()
        .map(|e| opts.z_proton.unwrap_or(f64::from(e.charge())))
        .collect();
    Ok(Problem {
        opts,
        rows,
        elem,
        elements,
        kinds,
        index,
        loading,
        inv_sigma,
        z_fixed,
    })
}

fn free_extractant_error(p: &Problem<'_>) -> FitError {
    let n = p.opts.n_extractant;
    for (r, m) in p.rows.iter().enumerate() {
        let free = 0.5 * m.extractant - n * p.loading[r];
        if free <= 0.0 {
            return FitError::BadRow {
                line: m.line,
                message: format!(
                    "the organic loading {:.4} mol/L binds {:.4} mol/L of dimer at n = {n}, more than the {:.4} mol/L of dimer the extractant holds",
                    p.loading[r], n * p.loading[r], 0.5 * m.extractant
                ),
                help: "check `org` and `extractant` (mol/L of monomer HA) of this row and of the other rows of its test".into(),
            };
        }
    }
    FitError::BadRow {
        line: p.rows.first().map_or(0, |m| m.line),
        message: "the model cannot be evaluated at the fitted parameters (free extractant <= 0)"
            .into(),
        help: "fix n instead of fitting it, or check the loadings".into(),
    }
}

/// Refuses data that cannot identify a parameter, naming it: first by the plain counts a
/// chemist recognises, then by the rank of the column-scaled Jacobian.
fn identifiable(p: &Problem<'_>) -> Result<(), FitError> {
    let np = p.kinds.len();
    for (e, el) in p.elements.iter().enumerate() {
        let rows: Vec<&Measurement> = p
            .rows
            .iter()
            .zip(&p.elem)
            .filter(|(_, &k)| k == e)
            .map(|(m, _)| m)
            .collect();
        let own: Vec<Kind> = p
            .kinds
            .iter()
            .copied()
            .filter(|k| k.element() == Some(e))
            .collect();
        let nph = distinct(rows.iter().map(|m| m.ph)).len();
        let nx = distinct(rows.iter().map(|m| m.extractant)).len();
        let names: Vec<&str> = own.iter().map(|k| k.name()).collect();
        if rows.len() < own.len() {
            return Err(refuse(
                Some(*el),
                own[own.len() - 1],
                format!(
                    "{} row(s) for {} parameters ({})",
                    rows.len(),
                    own.len(),
                    names.join(", ")
                ),
                "measure the element at more conditions (pH, extractant concentration)",
            ));
        }
        if own.contains(&Kind::A(e)) && nph < 2 {
            return Err(refuse(
                Some(*el),
                Kind::A(e),
                format!("all {} rows have the same pH ({})", rows.len(), rows[0].ph),
                "measure at >= 2 pH values",
            ));
        }
        if own.contains(&Kind::C(e)) && nx < 2 {
            return Err(refuse(
                Some(*el),
                Kind::C(e),
                format!("all {} rows have the same extractant concentration ({} mol/L)", rows.len(), rows[0].extractant),
                "measure at >= 2 extractant concentrations, or hold c fixed (--fix-c 0 states D at this concentration only; --fix-c 3 is the slope of three dimers)",
            ));
        }
        if own.contains(&Kind::A1(e)) && nx < 2 {
            return Err(refuse(
                Some(*el),
                Kind::A1(e),
                format!(
                    "all {} rows have the same extractant concentration ({} mol/L)",
                    rows.len(),
                    rows[0].extractant
                ),
                "measure the pH slope at >= 2 extractant concentrations, or leave out --fit-a1",
            ));
        }
    }
    if p.kinds.contains(&Kind::Z)
        && p.elements.iter().enumerate().all(|(e, _)| {
            distinct(
                p.rows
                    .iter()
                    .zip(&p.elem)
                    .filter(|(_, &k)| k == e)
                    .map(|(m, _)| m.ph),
            )
            .len()
                < 2
        })
    {
        return Err(refuse(
            None,
            Kind::Z,
            "no element was measured at >= 2 pH values".into(),
            "measure at least one element at >= 2 pH values, or hold z fixed",
        ));
    }
    if p.kinds.contains(&Kind::N)
        && p.elements.iter().enumerate().all(|(e, _)| {
            distinct(
                p.rows
                    .iter()
                    .zip(&p.elem)
                    .filter(|(_, &k)| k == e)
                    .map(|(m, _)| m.extractant),
            )
            .len()
                < 2
        })
    {
        return Err(refuse(
            None,
            Kind::N,
            "no element was measured at >= 2 extractant concentrations".into(),
            "measure at least one element at >= 2 extractant concentrations, or hold n fixed",
        ));
    }
    let no_sigma = p.rows.iter().all(|m| m.sigma_log_d.is_none());
    if no_sigma && p.rows.len() <= np {
        let last = p.kinds[np - 1];
        return Err(refuse(
            last.element().map(|e| p.elements[e]),
            last,
            format!(
                "{} rows for {np} parameters leave no degrees of freedom to estimate the scatter",
                p.rows.len()
            ),
            "add rows, or give `sigma_log_d` on every row",
        ));
    }
    // The generic test: rank of the column-scaled Jacobian at the start.
    let theta0 = start_point(p);
    let (_, jac) = p
        .evaluate(&theta0)
        .ok_or_else(|| free_extractant_error(p))?;
    let (svd, _) = scaled_svd(&jac);
    let s = &svd.singular_values;
    let smax = s.max();
    if let Some((k, &smin)) = s.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)) {
        if smin.partial_cmp(&(RANK_TOL * smax)) != Some(std::cmp::Ordering::Greater) {
            // the parameter moving most along the unconstrained direction
            let v = svd.v_t.as_ref().map(|vt| vt.row(k).transpose());
            let worst = v
                .and_then(|v| {
                    v.iter()
                        .enumerate()
                        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                        .map(|(i, _)| i)
                })
                .unwrap_or(np - 1);
            let kind = p.kinds[worst];
            return Err(refuse(
                kind.element().map(|e| p.elements[e]),
                kind,
                format!("the data leave a combination of parameters unconstrained (scaled design matrix of rank < {np}, condition number {:.1e})", smax / smin.max(f64::MIN_POSITIVE)),
                "vary pH and extractant concentration independently, with several rows per element",
            ));
        }
    }
    Ok(())
}

/// Where the solve starts: zero for the linear parameters, n and z at their defaults.
fn start_point(p: &Problem<'_>) -> Vec<f64> {
    p.kinds
        .iter()
        .map(|k| match k {
            Kind::N => p.opts.n_extractant,
            Kind::Z => p.z_fixed.first().copied().unwrap_or(3.0),
            _ => 0.0,
        })
        .collect()
}

/// SVD of the Jacobian with columns scaled to unit norm (so the condition number does not
/// depend on the units of the parameters); returns the scales too.
fn scaled_svd(jac: &DMatrix<f64>) -> (nalgebra::SVD<f64, Dyn, Dyn>, Vec<f64>) {
    let mut j = jac.clone();
    let mut scale = Vec::with_capacity(j.ncols());
    for mut col in j.column_iter_mut() {
        let n = col.norm();
        let s = if n > 0.0 { 1.0 / n } else { 1.0 };
        col *= s;
        scale.push(s);
    }
    (nalgebra::SVD::new(j, true, true), scale)
}

/// The Gauss-Newton step from `theta`: minimizes |res + J d| (SVD, columns scaled).
fn linear_step(res: &DVector<f64>, jac: &DMatrix<f64>, theta: &[f64]) -> Vec<f64> {
    let (svd, scale) = scaled_svd(jac);
    let d = svd
        .solve(&(-res), RANK_TOL)
        .unwrap_or_else(|_| DVector::zeros(theta.len()));
    theta
        .iter()
        .zip(d.iter().zip(&scale))
        .map(|(t, (d, s))| t + d * s)
        .collect()
}

fn finish(
    p: &Problem<'_>,
    theta: &[f64],
    res: &DVector<f64>,
    jac: &DMatrix<f64>,
    status: FitStatus,
    method: String,
) -> Result<FitResult, FitError> {
    let (nr, np) = (p.rows.len(), p.kinds.len());
    let dof = nr - np.min(nr);
    let given = p.rows.iter().all(|m| m.sigma_log_d.is_some());
    let chi2 = res.norm_squared();
    let reduced = if dof > 0 { chi2 / dof as f64 } else { f64::NAN };
    let (basis, scale, q) = if given {
        let q = Normal::new(0.0, 1.0)
            .map(|n| n.inverse_cdf(0.975))
            .unwrap_or(1.959_963_984_540_054);
        (CovarianceBasis::GivenSigmas, 1.0, q)
    } else {
        let q = StudentsT::new(0.0, 1.0, dof as f64)
            .map(|t| t.inverse_cdf(0.975))
            .map_err(|e| {
                FitError::Options(format!("t distribution with {dof} degrees of freedom: {e}"))
            })?;
        (CovarianceBasis::ReducedChiSquare, reduced, q)
    };
    let (svd, sc) = scaled_svd(jac);
    let s = &svd.singular_values;
    let (smax, smin) = (s.max(), s.min());
    let cond = smax / smin;
    let vt = svd
        .v_t
        .as_ref()
        .ok_or_else(|| FitError::Options("SVD without V".into()))?;
    // cov = D V S^-2 V^T D, D the column scales
    let mut cov = vec![vec![0.0; np]; np];
    for (i, row) in cov.iter_mut().enumerate() {
        for (j, c) in row.iter_mut().enumerate() {
            let mut acc = 0.0;
            for k in 0..np {
                acc += vt[(k, i)] * vt[(k, j)] / (s[k] * s[k]);
            }
            *c = acc * sc[i] * sc[j] * scale;
        }
    }
    if smin.partial_cmp(&(RANK_TOL * smax)) != Some(std::cmp::Ordering::Greater)
        || cov.iter().flatten().any(|c| !c.is_finite())
    {
        return Err(FitError::NotIdentified {
            element: None,
            parameter: "the parameter set".into(),
            reason: format!(
                "the Jacobian at the optimum is singular (condition number {cond:.1e})"
            ),
            help:
                "vary pH and extractant concentration independently, with several rows per element"
                    .into(),
        });
    }
    let params: Vec<Param> = p
        .kinds
        .iter()
        .enumerate()
        .map(|(k, kind)| {
            let se = cov[k][k].sqrt();
            Param {
                name: kind.name().to_string(),
                element: kind.element().map(|e| p.elements[e].symbol().to_string()),
                value: theta[k],
                std_error: se,
                ci_low: theta[k] - q * se,
                ci_high: theta[k] + q * se,
            }
        })
        .collect();
    let sigma_hat = if given { 1.0 } else { reduced.sqrt() };
    let mut g = vec![0.0; np];
    let mut residuals = Vec::with_capacity(nr);
    for (r, m) in p.rows.iter().enumerate() {
        let f = p.predict(theta, r, &mut g).unwrap_or(f64::NAN);
        residuals.push(Residual {
            line: m.line,
            element: m.element.symbol().to_string(),
            ph: m.ph,
            extractant: m.extractant,
            log_d_measured: m.log_d,
            log_d_fitted: f,
            residual: m.log_d - f,
            standardized: res[r] / sigma_hat,
        });
    }
    let w2: Vec<f64> = p.inv_sigma.iter().map(|w| w * w).collect();
    let wsum: f64 = w2.iter().sum();
    let mean = p
        .rows
        .iter()
        .zip(&w2)
        .map(|(m, w)| w * m.log_d)
        .sum::<f64>()
        / wsum;
    let sst: f64 = p
        .rows
        .iter()
        .zip(&w2)
        .map(|(m, w)| w * (m.log_d - mean).powi(2))
        .sum();
    let r_squared = if sst > 0.0 { 1.0 - chi2 / sst } else { 1.0 };
    let rms = (residuals.iter().map(|r| r.residual.powi(2)).sum::<f64>() / nr as f64).sqrt();
    let ref_ph = p
        .opts
        .ref_ph
        .unwrap_or_else(|| round2(median(p.rows.iter().map(|m| m.ph))));
    let ref_x = p
        .opts
        .ref_extractant
        .unwrap_or_else(|| median(p.rows.iter().map(|m| m.extractant)));
    let betas = separation_factors(p, theta, &cov, q, ref_ph, ref_x);
    let mut fixed = Vec::new();
    let mut notes = Vec::new();
    match p.opts.model {
        ModelKind::Empirical => {
            if let Some(c) = p.opts.fix_c {
                fixed.push(FixedParam {
                    name: "c".into(),
                    value: c,
                    reason: "held fixed (--fix-c)".into(),
                });
            }
            if !p.opts.fit_a1 {
                fixed.push(FixedParam {
                    name: "a1".into(),
                    value: 0.0,
                    reason: "not fitted (the flowsheet default)".into(),
                });
            }
            notes.push("x in the empirical model is the total extractant concentration in mol/L (the flowsheet's `measure = \"mol/L\"`)".into());
        }
        ModelKind::MassAction => {
            if !p.opts.fit_n {
                fixed.push(FixedParam {
                    name: "n".into(),
                    value: p.opts.n_extractant,
                    reason: "held fixed (the flowsheet default is 3)".into(),
                });
            }
            if !p.opts.fit_z {
                let z = p.z_fixed.first().copied().unwrap_or(3.0);
                let why = if p.opts.z_proton.is_some() {
                    "held fixed (--z)"
                } else {
                    "held at the ion charge (the flowsheet default)"
                };
                fixed.push(FixedParam {
                    name: "z".into(),
                    value: z,
                    reason: why.into(),
                });
            }
            notes.push("free dimer [(HA)2]_free = extractant / 2 - n x (organic loading of the row's test): total minus what the extracted metal binds; rows without `org` count as unloaded".into());
            notes.push("saponification does not enter the model: the equilibrium pH measured already carries its effect on the proton balance, as in the simulator".into());
        }
    }
    Ok(FitResult {
        model: p.opts.model,
        status,
        method,
        elements: p.elements.iter().map(|e| e.symbol().to_string()).collect(),
        params,
        fixed,
        covariance: cov,
        covariance_basis: basis,
        condition_number: cond,
        n_rows: nr,
        dof,
        chi_square: chi2,
        reduced_chi_square: if reduced.is_finite() { reduced } else { 0.0 },
        r_squared,
        rms,
        quantile_95: q,
        residuals,
        ref_ph,
        ref_extractant: ref_x,
        betas,
        notes,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn median(v: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = v.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// log10 D of element `e` at the reference (pH, extractant, unloaded organic) and its
/// gradient in the parameters.
fn log_d_at(p: &Problem<'_>, theta: &[f64], e: usize, ph: f64, x: f64, g: &mut [f64]) -> f64 {
    g.iter_mut().for_each(|v| *v = 0.0);
    let mut put = |name: &'static str, el: Option<usize>, v: f64| {
        if let Some(&k) = p.index.get(&(el, name)) {
            g[k] = v;
        }
    };
    match p.opts.model {
        ModelKind::Empirical => {
            let get = |n| p.get(theta, Some(e), n);
            let (a, b) = (get("a").unwrap_or(0.0), get("b").unwrap_or(0.0));
            let c = get("c").or(p.opts.fix_c).unwrap_or(0.0);
            let a1 = get("a1").unwrap_or(0.0);
            put("a", Some(e), ph);
            put("b", Some(e), 1.0);
            put("c", Some(e), x.log10());
            put("a1", Some(e), x * ph);
            (a + a1 * x) * ph + b + c * x.log10()
        }
        ModelKind::MassAction => {
            let lk = p.get(theta, Some(e), "log10_k").unwrap_or(0.0);
            let n = p.get(theta, None, "n").unwrap_or(p.opts.n_extractant);
            let z = p.get(theta, None, "z").unwrap_or(p.z_fixed[e]);
            let lf = (0.5 * x).log10();
            put("log10_k", Some(e), 1.0);
            put("n", None, lf);
            put("z", None, ph);
            lk + n * lf + z * ph
        }
    }
}

fn separation_factors(
    p: &Problem<'_>,
    theta: &[f64],
    cov: &[Vec<f64>],
    q: f64,
    ph: f64,
    x: f64,
) -> Vec<SepFactor> {
    let np = theta.len();
    let (mut gh, mut gl) = (vec![0.0; np], vec![0.0; np]);
    let mut out = Vec::new();
    for e in 1..p.elements.len() {
        let lh = log_d_at(p, theta, e, ph, x, &mut gh);
        let ll = log_d_at(p, theta, e - 1, ph, x, &mut gl);
        let g: Vec<f64> = gh.iter().zip(&gl).map(|(a, b)| a - b).collect();
        let var: f64 = (0..np)
            .map(|i| (0..np).map(|j| g[i] * cov[i][j] * g[j]).sum::<f64>())
            .sum();
        let se = var.max(0.0).sqrt();
        let lb = lh - ll;
        out.push(SepFactor {
            heavier: p.elements[e].symbol().to_string(),
            lighter: p.elements[e - 1].symbol().to_string(),
            beta: 10f64.powf(lb),
            log10_std_error: se,
            ci_low: 10f64.powf(lb - q * se),
            ci_high: 10f64.powf(lb + q * se),
        });
    }
    out
}
