//! Dense and block-tridiagonal linear solvers used by the stage solvers.
//!
//! Matrices are row-major `f64` slices. The block-tridiagonal solver is the block Thomas
//! algorithm (block LU without pivoting across blocks, partial pivoting inside each block),
//! which is stable for the column-diagonally-dominant Jacobians of countercurrent stage balances.

// Index loops mirror the matrix algebra they implement.
#![allow(clippy::needless_range_loop)]

/// LU factors of a square matrix with partial pivoting (row-major, `n x n`).
#[derive(Debug, Clone)]
pub(crate) struct Lu {
    n: usize,
    lu: Vec<f64>,
    piv: Vec<usize>,
}

impl Lu {
    /// Factors `a` (row-major, `n x n`). Returns `None` when a pivot is zero or not finite.
    pub(crate) fn factor(n: usize, a: &[f64]) -> Option<Lu> {
        let mut lu = a.to_vec();
        let mut piv = vec![0usize; n];
        lu_factor_in_place(n, &mut lu, &mut piv).then_some(Lu { n, lu, piv })
    }

    /// Solves `A x = b` in place (`b` has length `n`).
    pub(crate) fn solve_in_place(&self, b: &mut [f64]) {
        lu_solve_rows(self.n, &self.lu, &self.piv, 1, b);
    }
}

/// Solves a dense system `A x = b` (row-major `n x n`); `None` when singular.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn dense_solve(n: usize, a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let lu = Lu::factor(n, a)?;
    let mut x = b.to_vec();
    lu.solve_in_place(&mut x);
    if x.iter().all(|v| v.is_finite()) {
        Some(x)
    } else {
        None
    }
}

/// Scalar tridiagonal solve (Thomas algorithm): `lower[j] x[j-1] + diag[j] x[j] + upper[j] x[j+1] = rhs[j]`.
///
/// `lower[0]` and `upper[n-1]` are ignored. Returns `None` when a pivot vanishes.
pub(crate) fn thomas(lower: &[f64], diag: &[f64], upper: &[f64], rhs: &[f64]) -> Option<Vec<f64>> {
    let n = diag.len();
    if n == 0 {
        return Some(Vec::new());
    }
    let mut c = vec![0.0; n];
    let mut d = vec![0.0; n];
    let mut den = diag[0];
    if den == 0.0 {
        return None;
    }
    c[0] = if n > 1 { upper[0] / den } else { 0.0 };
    d[0] = rhs[0] / den;
    for j in 1..n {
        den = diag[j] - lower[j] * c[j - 1];
        if den == 0.0 || !den.is_finite() {
            return None;
        }
        c[j] = if j + 1 < n { upper[j] / den } else { 0.0 };
        d[j] = (rhs[j] - lower[j] * d[j - 1]) / den;
    }
    for j in (0..n - 1).rev() {
        d[j] -= c[j] * d[j + 1];
    }
    Some(d)
}

/// Conservative solve of one element's countercurrent chain (GTH-style Thomas algorithm).
///
/// Stage `j` balance: `(1 + k[j]) x[j] - link[j] x[j+1] - k[j-1] x[j-1] = rhs[j]`, with
/// `x` the aqueous outflow, `k[j] >= 0` the stage's organic/aqueous flow ratio of the element,
/// `link[j]` true when stage `j` receives the aqueous outflow of stage `j + 1`, `rhs >= 0` the
/// external inflows. Every column of this M-matrix sums to the stage's exit rate (1 for an
/// aqueous outlet, `k` for the organic outlet of the last stage); elimination tracks those exit
/// rates of the Schur complements instead of forming pivots by subtraction (Grassmann, Taksar &
/// Heyman 1985, for Markov chains), so every operation adds non-negative numbers: each flow has
/// a relative error of a few ulps times `n`, and the chain's outlets balance its inflows to
/// that precision however large the internal circulation (an element extracted in one section
/// and scrubbed back in the next can circulate 1e50 times its feed).
///
/// Returns `None` when a flow is not finite (an element with no way out).
pub(crate) fn gth_chain_solve(k: &[f64], link: &[bool], rhs: &[f64], x: &mut [f64]) -> Option<()> {
    let n = k.len();
    if n == 0 {
        return Some(());
    }
    // p[j]: pivot; y: forward-eliminated rhs (stored in x).
    let mut p = vec![0.0; n];
    let up = |j: usize| j + 1 < n && link[j];
    // Exit rate of column j of the original matrix.
    let exit = |j: usize| {
        let aq_outlet = j == 0 || !up(j - 1);
        let org_outlet = j + 1 == n;
        (if aq_outlet { 1.0 } else { 0.0 }) + if org_outlet { k[j] } else { 0.0 }
    };
    let mut s = exit(0);
    for j in 0..n {
        let l = if j + 1 < n { k[j] } else { 0.0 };
        p[j] = l + s;
        let y_prev = if j > 0 { x[j - 1] } else { 0.0 };
        let l_prev = if j > 0 { k[j - 1] } else { 0.0 };
        x[j] = rhs[j]
            + if j > 0 && p[j - 1] > 0.0 {
                l_prev / p[j - 1] * y_prev
            } else {
                0.0
            };
        if j + 1 < n {
            let u = if up(j) { 1.0 } else { 0.0 };
            s = exit(j + 1) + if p[j] > 0.0 { u * s / p[j] } else { u };
        }
    }
    for j in (0..n).rev() {
        let carry = if up(j) { x[j + 1] } else { 0.0 };
        let num = x[j] + carry;
        x[j] = if num == 0.0 { 0.0 } else { num / p[j] };
        if !x[j].is_finite() {
            return None;
        }
    }
    Some(())
}

/// A block-tridiagonal matrix with `n` block rows of dense `m x m` blocks.
///
/// Block row `j` reads `lower[j] x[j-1] + diag[j] x[j] + upper[j] x[j+1] = rhs[j]`.
#[derive(Debug, Clone)]
pub(crate) struct BlockTridiag {
    /// Number of block rows.
    pub n: usize,
    /// Block size.
    pub m: usize,
    /// Sub-diagonal blocks, `n * m * m` (block 0 unused).
    pub lower: Vec<f64>,
    /// Diagonal blocks, `n * m * m`.
    pub diag: Vec<f64>,
    /// Super-diagonal blocks, `n * m * m` (block n-1 unused).
    pub upper: Vec<f64>,
}

impl BlockTridiag {
    /// A zero matrix of `n` block rows of size `m`.
    pub(crate) fn zeros(n: usize, m: usize) -> BlockTridiag {
        BlockTridiag {
            n,
            m,
            lower: vec![0.0; n * m * m],
            diag: vec![0.0; n * m * m],
            upper: vec![0.0; n * m * m],
        }
    }

    /// Sets every entry to zero, keeping the shape.
    pub(crate) fn clear(&mut self) {
        self.lower.iter_mut().for_each(|v| *v = 0.0);
        self.diag.iter_mut().for_each(|v| *v = 0.0);
        self.upper.iter_mut().for_each(|v| *v = 0.0);
    }

    /// Replaces the matrix by `diag(row) * A * diag(col)` (vectors of length `n * m`).
    pub(crate) fn scale(&mut self, row: &[f64], col: &[f64]) {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        for j in 0..n {
            for r in 0..m {
                let rs = row[j * m + r];
                for c in 0..m {
                    let e = j * mm + r * m + c;
                    self.diag[e] *= rs * col[j * m + c];
                    if j > 0 {
                        self.lower[e] *= rs * col[(j - 1) * m + c];
                    }
                    if j + 1 < n {
                        self.upper[e] *= rs * col[(j + 1) * m + c];
                    }
                }
            }
        }
    }

    /// Solves the system for `rhs` (length `n * m`) by block Thomas; `None` when a block is singular.
    pub(crate) fn solve(&self, rhs: &[f64]) -> Option<Vec<f64>> {
        let mut x = Vec::new();
        self.solve_with(rhs, &mut BlockScratch::default(), &mut x)
            .then_some(x)
    }

    /// [`BlockTridiag::solve`] into `x`, with the elimination's storage in `scratch` (kept
    /// between calls: a Newton iteration on a 1,000-stage chain with blocks of 16 otherwise
    /// allocates and faults in 2 MB per solve). False when a block is singular or the solution
    /// is not finite.
    pub(crate) fn solve_with(
        &self,
        rhs: &[f64],
        scratch: &mut BlockScratch,
        x: &mut Vec<f64>,
    ) -> bool {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        scratch.g.resize(n * mm, 0.0);
        scratch.lu.resize(mm, 0.0);
        scratch.piv.resize(m, 0);
        x.clear();
        x.resize(n * m, 0.0);
        if parallel_pays(n, m) {
            return self.solve_twisted(rhs, scratch, x);
        }
        let BlockScratch { g, lu, piv } = scratch;
        for j in 0..n {
            if !self.eliminate(j, g, lu, piv, Some((rhs, &mut x[..]))) {
                return false;
            }
        }
        back_substitute(n, m, g, x)
    }

    /// [`BlockTridiag::solve_with`] eliminating from both ends at once (two threads when the
    /// rayon pool has them): rows `0..k` downwards as block Thomas does, rows `k+1..n`
    /// upwards (the same elimination with the roles of the lower and upper blocks swapped),
    /// then the middle row `k`, then both back substitutions. The arithmetic is the same
    /// whatever the number of threads, so results do not depend on it.
    fn solve_twisted(&self, rhs: &[f64], scratch: &mut BlockScratch, x: &mut [f64]) -> bool {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        let k = n / 2;
        let BlockScratch { g, lu, piv } = scratch;
        let (g_top, g_rest) = g.split_at_mut(k * mm);
        let g_bot = &mut g_rest[mm..];
        let (x_top, x_rest) = x.split_at_mut(k * m);
        let (x_mid, x_bot) = x_rest.split_at_mut(m);
        let (top_ok, bot_ok) = rayon::join(
            || {
                let (mut lu, mut piv) = (vec![0.0; mm], vec![0usize; m]);
                for j in 0..k {
                    let (done, cur) = g_top.split_at_mut(j * mm);
                    let (h_done, h_cur) = x_top.split_at_mut(j * m);
                    let near = (j > 0).then(|| (block(&self.lower, mm, j), &done[(j - 1) * mm..]));
                    let rhs_j = RowRhs {
                        rhs: &rhs[j * m..(j + 1) * m],
                        h_prev: (j > 0).then(|| &h_done[(j - 1) * m..]),
                        h: &mut h_cur[..m],
                    };
                    let far = Some(block(&self.upper, mm, j));
                    if !eliminate_row(
                        m,
                        block(&self.diag, mm, j),
                        near,
                        far,
                        cur,
                        &mut lu,
                        &mut piv,
                        Some(rhs_j),
                    ) {
                        return false;
                    }
                }
                true
            },
            || {
                let (mut lu, mut piv) = (vec![0.0; mm], vec![0usize; m]);
                for j in (k + 1..n).rev() {
                    let t = j - k - 1;
                    let (upto, after) = g_bot.split_at_mut((t + 1) * mm);
                    let (h_upto, h_after) = x_bot.split_at_mut((t + 1) * m);
                    let near = (j + 1 < n).then(|| (block(&self.upper, mm, j), &after[..]));
                    let rhs_j = RowRhs {
                        rhs: &rhs[j * m..(j + 1) * m],
                        h_prev: (j + 1 < n).then(|| &h_after[..]),
                        h: &mut h_upto[t * m..],
                    };
                    let far = Some(block(&self.lower, mm, j));
                    if !eliminate_row(
                        m,
                        block(&self.diag, mm, j),
                        near,
                        far,
                        &mut upto[t * mm..],
                        &mut lu,
                        &mut piv,
                        Some(rhs_j),
                    ) {
                        return false;
                    }
                }
                true
            },
        );
        if !(top_ok && bot_ok) {
            return false;
        }
        // The middle row: (D - L g_top[k-1] - U g_bot[k+1]) x_k = r - L h[k-1] - U h[k+1].
        let (low, up) = (block(&self.lower, mm, k), block(&self.upper, mm, k));
        let (g_up, g_down) = (&g_top[(k - 1) * mm..], &g_bot[..mm]);
        lu.copy_from_slice(block(&self.diag, mm, k));
        x_mid.copy_from_slice(&rhs[k * m..(k + 1) * m]);
        for r in 0..m {
            let row = &mut lu[r * m..(r + 1) * m];
            for q in 0..m {
                let (l, u) = (low[r * m + q], up[r * m + q]);
                if l != 0.0 {
                    axpy(-l, &g_up[q * m..(q + 1) * m], row);
                }
                if u != 0.0 {
                    axpy(-u, &g_down[q * m..(q + 1) * m], row);
                }
            }
            let h_up = &x_top[(k - 1) * m..];
            let h_down = &x_bot[..m];
            let acc: f64 = (0..m)
                .map(|q| low[r * m + q] * h_up[q] + up[r * m + q] * h_down[q])
                .sum();
            x_mid[r] -= acc;
        }
        if !lu_factor_in_place(m, lu, piv) {
            return false;
        }
        lu_solve_rows(m, lu, piv, 1, x_mid);
        let x_mid = &*x_mid;
        rayon::join(
            || {
                // x_j = h_j - g_j x_(j+1), from row k-1 (next to the middle) up.
                for j in (0..k).rev() {
                    let (head, tail) = x_top.split_at_mut((j + 1) * m);
                    let xn = if j + 1 == k { x_mid } else { &tail[..m] };
                    mat_vec_sub(m, &g_top[j * mm..(j + 1) * mm], xn, &mut head[j * m..]);
                }
            },
            || {
                // x_j = h_j - g_j x_(j-1), from row k+1 down.
                for t in 0..x_bot.len() / m {
                    let (head, tail) = x_bot.split_at_mut(t * m);
                    let xp = if t == 0 { x_mid } else { &head[(t - 1) * m..] };
                    mat_vec_sub(m, &g_bot[t * mm..(t + 1) * mm], xp, &mut tail[..m]);
                }
            },
        );
        x.iter().all(|v| v.is_finite())
    }

    /// Block row `j` of the forward elimination (block Thomas): `lu` gets the factors of
    /// `M_j = diag_j - lower_j g[j-1]`, `g[j] = M_j^{-1} upper_j`, and with a right-hand side
    /// `h[j] = M_j^{-1} (rhs_j - lower_j h[j-1])` is written into `x[j]`. False when `M_j` is
    /// singular.
    fn eliminate(
        &self,
        j: usize,
        g: &mut [f64],
        lu: &mut [f64],
        piv: &mut [usize],
        rhs: Option<(&[f64], &mut [f64])>,
    ) -> bool {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        let (done, cur) = g.split_at_mut(j * mm);
        let near = (j > 0).then(|| (&self.lower[j * mm..(j + 1) * mm], &done[(j - 1) * mm..]));
        let far = (j + 1 < n).then(|| &self.upper[j * mm..(j + 1) * mm]);
        let row_rhs = rhs.map(|(rhs, x)| {
            let (prev, cur) = x.split_at_mut(j * m);
            RowRhs {
                rhs: &rhs[j * m..(j + 1) * m],
                h_prev: (j > 0).then(|| &prev[(j - 1) * m..]),
                h: &mut cur[..m],
            }
        });
        eliminate_row(
            m,
            &self.diag[j * mm..(j + 1) * mm],
            near,
            far,
            &mut cur[..mm],
            lu,
            piv,
            row_rhs,
        )
    }

    /// Block LU factorization (block Thomas without the right-hand side), for many solves with
    /// one matrix (sensitivities: one solve per direction); `None` when a block is singular.
    pub(crate) fn factor(self) -> Option<BlockLu> {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        let mut g = vec![0.0; n * mm];
        let mut lus = vec![0.0; n * mm];
        let mut pivs = vec![0usize; n * m];
        for j in 0..n {
            let (lu, piv) = (
                &mut lus[j * mm..(j + 1) * mm],
                &mut pivs[j * m..(j + 1) * m],
            );
            if !self.eliminate(j, &mut g, lu, piv, None) {
                return None;
            }
        }
        Some(BlockLu {
            n,
            m,
            lower: self.lower,
            g,
            lus,
            pivs,
        })
    }

    /// The same matrix as a dense row-major `(n m) x (n m)` array (tests and cross-checks).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn to_dense(&self) -> Vec<f64> {
        let (n, m) = (self.n, self.m);
        let size = n * m;
        let mm = m * m;
        let mut a = vec![0.0; size * size];
        for j in 0..n {
            for r in 0..m {
                for c in 0..m {
                    a[(j * m + r) * size + j * m + c] = self.diag[j * mm + r * m + c];
                    if j > 0 {
                        a[(j * m + r) * size + (j - 1) * m + c] = self.lower[j * mm + r * m + c];
                    }
                    if j + 1 < n {
                        a[(j * m + r) * size + (j + 1) * m + c] = self.upper[j * mm + r * m + c];
                    }
                }
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64) / ((1u64 << 53) as f64)
    }

    #[test]
    fn thomas_matches_dense() {
        let n = 30;
        let mut s = 7;
        let lower: Vec<f64> = (0..n).map(|_| lcg(&mut s)).collect();
        let upper: Vec<f64> = (0..n).map(|_| lcg(&mut s)).collect();
        let diag: Vec<f64> = (0..n).map(|_| 3.0 + lcg(&mut s)).collect();
        let rhs: Vec<f64> = (0..n).map(|_| lcg(&mut s) - 0.5).collect();
        let x = thomas(&lower, &diag, &upper, &rhs).unwrap();
        let mut a = vec![0.0; n * n];
        for j in 0..n {
            a[j * n + j] = diag[j];
            if j > 0 {
                a[j * n + j - 1] = lower[j];
            }
            if j + 1 < n {
                a[j * n + j + 1] = upper[j];
            }
        }
        let y = dense_solve(n, &a, &rhs).unwrap();
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() < 1e-13, "{p} vs {q}");
        }
    }

    /// Block Thomas of a random, diagonally dominant block tridiagonal system against a dense
    /// solve.
    fn block_solve_matches_dense(n: usize, m: usize, seed: u64) {
        let mut s = seed;
        let mut bt = BlockTridiag::zeros(n, m);
        for v in bt.lower.iter_mut().chain(bt.upper.iter_mut()) {
            *v = lcg(&mut s) - 0.5;
        }
        for j in 0..n {
            for r in 0..m {
                for c in 0..m {
                    bt.diag[j * m * m + r * m + c] =
                        if r == c { m as f64 + 2.0 } else { 0.0 } + lcg(&mut s) - 0.5;
                }
            }
        }
        let rhs: Vec<f64> = (0..n * m).map(|_| lcg(&mut s) - 0.5).collect();
        let x = bt.solve(&rhs).unwrap();
        let y = dense_solve(n * m, &bt.to_dense(), &rhs).unwrap();
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() < 1e-12, "n = {n}, m = {m}: {p} vs {q}");
        }
    }

    #[test]
    fn block_thomas_matches_dense() {
        assert!(!parallel_pays(12, 5));
        block_solve_matches_dense(12, 5, 11);
    }

    #[test]
    fn twisted_block_thomas_matches_dense() {
        // Long enough for the elimination from both ends, even and odd lengths.
        let m = 16;
        let rows = TWISTED_MIN_WORK / (m * m * m);
        for n in [rows, rows + 17] {
            assert!(parallel_pays(n, m));
            block_solve_matches_dense(n, m, 23 + n as u64);
        }
    }

    #[test]
    fn gth_chain_matches_thomas_and_conserves() {
        let n = 40;
        let mut s = 5;
        let k: Vec<f64> = (0..n)
            .map(|_| 10f64.powf(4.0 * lcg(&mut s) - 2.0))
            .collect();
        let link: Vec<bool> = (0..n).map(|j| j != 17).collect();
        let rhs: Vec<f64> = (0..n)
            .map(|j| if j % 9 == 3 { lcg(&mut s) } else { 0.0 })
            .collect();
        let mut x = vec![0.0; n];
        gth_chain_solve(&k, &link, &rhs, &mut x).unwrap();
        let lower: Vec<f64> = (0..n)
            .map(|j| if j > 0 { -k[j - 1] } else { 0.0 })
            .collect();
        let diag: Vec<f64> = k.iter().map(|v| 1.0 + v).collect();
        let upper: Vec<f64> = (0..n)
            .map(|j| if link[j] && j + 1 < n { -1.0 } else { 0.0 })
            .collect();
        let y = thomas(&lower, &diag, &upper, &rhs).unwrap();
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() <= 1e-12 * p.abs().max(1e-300), "{p} vs {q}");
        }
        // A trap: extracted in stages 0..20, scrubbed back in 20..40; outlets balance the feed.
        let k: Vec<f64> = (0..n).map(|j| if j < 20 { 1e6 } else { 1e-4 }).collect();
        let link = vec![true; n];
        let mut rhs = vec![0.0; n];
        rhs[19] = 1.0;
        gth_chain_solve(&k, &link, &rhs, &mut x).unwrap();
        let out = x[0] + k[n - 1] * x[n - 1];
        assert!((out - 1.0).abs() < 1e-13, "outlets {out}");
        assert!(x[19] > 1e40);
    }

    #[test]
    fn singular_is_none() {
        assert!(dense_solve(2, &[1.0, 2.0, 2.0, 4.0], &[1.0, 1.0]).is_none());
        assert!(thomas(&[0.0], &[0.0], &[0.0], &[1.0]).is_none());
    }
}

/// Block LU factors of a [`BlockTridiag`] (from [`BlockTridiag::factor`]).
#[derive(Debug, Clone)]
pub(crate) struct BlockLu {
    n: usize,
    m: usize,
    lower: Vec<f64>,
    g: Vec<f64>,
    /// LU factors of the pivot blocks `M_j`, `n * m * m`, and their row interchanges.
    lus: Vec<f64>,
    pivs: Vec<usize>,
}

impl BlockLu {
    /// Solves the factored system for `rhs` (length `n * m`); `None` when the solution is not
    /// finite.
    pub(crate) fn solve(&self, rhs: &[f64]) -> Option<Vec<f64>> {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        let mut x = rhs.to_vec();
        for j in 0..n {
            let (prev, cur) = x.split_at_mut(j * m);
            let t = &mut cur[..m];
            if j > 0 {
                mat_vec_sub(
                    m,
                    &self.lower[j * mm..(j + 1) * mm],
                    &prev[(j - 1) * m..],
                    t,
                );
            }
            lu_solve_rows(
                m,
                &self.lus[j * mm..(j + 1) * mm],
                &self.pivs[j * m..(j + 1) * m],
                1,
                t,
            );
        }
        back_substitute(n, m, &self.g, &mut x).then_some(x)
    }
}

/// Least work (block rows times the cube of the block size) for which
/// [`BlockTridiag::solve_with`] eliminates from both ends at once: 64 rows of blocks of 16
/// (measured 2026-12-07 on the 2-core VM: a 1,000-row solve with blocks of 16 takes 3.5 ms
/// from one end, 1.8 ms from both on two threads and 3.7 ms from both on one; a solve of less
/// than some 0.1 ms gains less than the second thread's start costs).
const TWISTED_MIN_WORK: usize = 64 * 16 * 16 * 16;

/// True when a block tridiagonal solve of `n` rows of blocks of `m` is long enough to
/// eliminate from both ends at once ([`TWISTED_MIN_WORK`]).
pub(crate) fn parallel_pays(n: usize, m: usize) -> bool {
    n >= 3 && n.saturating_mul(m * m * m) >= TWISTED_MIN_WORK
}

/// The right-hand side of one block row in an elimination: its own rows, the eliminated
/// right-hand side of the row eliminated before it, and where its own goes.
struct RowRhs<'a> {
    rhs: &'a [f64],
    h_prev: Option<&'a [f64]>,
    h: &'a mut [f64],
}

/// One block row of block Thomas, in either direction. `near` is the block coupling the row
/// to the row eliminated before it, with that row's `g`; `far` the block coupling it to the
/// row eliminated after it. `lu` gets the factors of `M = diag - near g_prev`, `g` gets
/// `M^{-1} far`, and with a right-hand side `h = M^{-1} (rhs - near h_prev)`. False when `M`
/// is singular.
#[allow(clippy::too_many_arguments)]
fn eliminate_row(
    m: usize,
    diag: &[f64],
    near: Option<(&[f64], &[f64])>,
    far: Option<&[f64]>,
    g: &mut [f64],
    lu: &mut [f64],
    piv: &mut [usize],
    rhs: Option<RowRhs<'_>>,
) -> bool {
    let mm = m * m;
    lu.copy_from_slice(&diag[..mm]);
    if let Some((low, gp)) = near {
        for r in 0..m {
            let mrow = &mut lu[r * m..(r + 1) * m];
            for (k, &l) in low[r * m..(r + 1) * m].iter().enumerate() {
                if l != 0.0 {
                    axpy(-l, &gp[k * m..(k + 1) * m], mrow);
                }
            }
        }
    }
    if !lu_factor_in_place(m, lu, piv) {
        return false;
    }
    if let Some(up) = far {
        let gj = &mut g[..mm];
        gj.copy_from_slice(&up[..mm]);
        lu_solve_rows(m, lu, piv, m, gj);
    }
    if let Some(RowRhs { rhs, h_prev, h }) = rhs {
        let t = &mut h[..m];
        t.copy_from_slice(&rhs[..m]);
        if let (Some((low, _)), Some(hp)) = (near, h_prev) {
            mat_vec_sub(m, low, hp, t);
        }
        lu_solve_rows(m, lu, piv, 1, t);
    }
    true
}

/// Block `j` of a run of `mm`-sized blocks.
fn block(v: &[f64], mm: usize, j: usize) -> &[f64] {
    &v[j * mm..(j + 1) * mm]
}

/// `y -= A x` for a row-major `m x m` block `A`.
fn mat_vec_sub(m: usize, a: &[f64], x: &[f64], y: &mut [f64]) {
    for r in 0..m {
        let acc: f64 = a[r * m..(r + 1) * m]
            .iter()
            .zip(x)
            .map(|(p, q)| p * q)
            .sum();
        y[r] -= acc;
    }
}

/// Storage of a block-Thomas elimination, reused between solves of one shape.
#[derive(Debug, Default)]
pub(crate) struct BlockScratch {
    g: Vec<f64>,
    lu: Vec<f64>,
    piv: Vec<usize>,
}

/// `y += alpha x`.
#[inline]
fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += alpha * xv;
    }
}

/// The back substitution of block Thomas, `x[j] = h[j] - g[j] x[j+1]`, in place (`x` holds
/// `h`); false when a value is not finite.
fn back_substitute(n: usize, m: usize, g: &[f64], x: &mut [f64]) -> bool {
    let mm = m * m;
    for j in (0..n.saturating_sub(1)).rev() {
        let (head, tail) = x.split_at_mut((j + 1) * m);
        mat_vec_sub(m, &g[j * mm..(j + 1) * mm], &tail[..m], &mut head[j * m..]);
    }
    x.iter().all(|v| v.is_finite())
}

/// LU factorization with partial pivoting of a row-major `m x m` block in place (LAPACK's
/// convention: at step `k` row `k` was interchanged with row `piv[k]`). False when a pivot is
/// zero or not finite.
fn lu_factor_in_place(m: usize, a: &mut [f64], piv: &mut [usize]) -> bool {
    for k in 0..m {
        let mut p = k;
        let mut best = a[k * m + k].abs();
        for i in (k + 1)..m {
            let v = a[i * m + k].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        if best == 0.0 || !best.is_finite() {
            return false;
        }
        piv[k] = p;
        if p != k {
            let (top, bottom) = a.split_at_mut(p * m);
            top[k * m..(k + 1) * m].swap_with_slice(&mut bottom[..m]);
        }
        let (top, bottom) = a.split_at_mut((k + 1) * m);
        let krow = &top[k * m..];
        let d = krow[k];
        for row in bottom.chunks_exact_mut(m) {
            let f = row[k] / d;
            row[k] = f;
            if f != 0.0 {
                axpy(-f, &krow[k + 1..], &mut row[k + 1..]);
            }
        }
    }
    true
}

/// Solves `A X = B` in place for a row-major `m x c` right-hand side `b`, `A` factored by
/// [`lu_factor_in_place`]; row operations over whole rows of `B` (contiguous, vectorized).
fn lu_solve_rows(m: usize, lu: &[f64], piv: &[usize], c: usize, b: &mut [f64]) {
    for k in 0..m {
        let p = piv[k];
        if p != k {
            let (top, bottom) = b.split_at_mut(p * c);
            top[k * c..(k + 1) * c].swap_with_slice(&mut bottom[..c]);
        }
    }
    for i in 1..m {
        let (done, rest) = b.split_at_mut(i * c);
        let bi = &mut rest[..c];
        for (k, &l) in lu[i * m..i * m + i].iter().enumerate() {
            if l != 0.0 {
                axpy(-l, &done[k * c..(k + 1) * c], bi);
            }
        }
    }
    for i in (0..m).rev() {
        let (head, tail) = b.split_at_mut((i + 1) * c);
        let bi = &mut head[i * c..];
        let urow = &lu[i * m..(i + 1) * m];
        for (k, &u) in urow[i + 1..].iter().enumerate() {
            if u != 0.0 {
                axpy(-u, &tail[k * c..(k + 1) * c], bi);
            }
        }
        let d = urow[i];
        bi.iter_mut().for_each(|v| *v /= d);
    }
}
