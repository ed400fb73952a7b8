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

    /// Gives the matrix `n` block rows of size `m`, keeping its storage; entries are left as
    /// they were (zero where the storage grows) but for the first lower and the last upper
    /// block, which no solve reads, so the caller writes every other block it uses.
    pub(crate) fn reshape(&mut self, n: usize, m: usize) {
        let len = n * m * m;
        self.n = n;
        self.m = m;
        for v in [&mut self.lower, &mut self.diag, &mut self.upper] {
            v.resize(len, 0.0);
        }
        // The blocks no solve reads: zero, as in a new matrix.
        let mm = m * m;
        self.lower[..mm.min(len)].fill(0.0);
        self.upper[len.saturating_sub(mm)..].fill(0.0);
    }

    /// Entries the storage holds without growing.
    pub(crate) fn capacity(&self) -> usize {
        self.lower.capacity() + self.diag.capacity() + self.upper.capacity()
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

    /// [`BlockTridiag::solve`] into `x`, the factors kept in `scratch` for further
    /// right-hand sides ([`BlockTridiag::resolve`]; kept between calls, the storage also saves
    /// a Newton iteration on a 1,000-stage chain with blocks of 16 allocating and faulting in
    /// 2 MB per solve). False when a block is singular or the solution is not finite.
    pub(crate) fn solve_with(
        &self,
        rhs: &[f64],
        scratch: &mut BlockScratch,
        x: &mut Vec<f64>,
    ) -> bool {
        self.factor_into(scratch) && self.resolve(rhs, scratch, x)
    }

    /// Block LU factors of the matrix into `scratch`. Long systems ([`parallel_pays`]) are
    /// eliminated from both ends at once (two threads when the rayon pool has them): rows
    /// `0..k` downwards as block Thomas does, rows `k+1..n` upwards (the same elimination with
    /// the roles of the lower and upper blocks swapped), then the middle row `k`. The
    /// arithmetic is the same whatever the number of threads, so results do not depend on
    /// it. False when a pivot block is singular (the scratch then holds no factors).
    pub(crate) fn factor_into(&self, f: &mut BlockScratch) -> bool {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        f.shape = (0, 0);
        f.g.resize(n * mm, 0.0);
        f.lus.resize(n * mm, 0.0);
        f.pivs.resize(n * m, 0);
        f.twisted = parallel_pays(n, m);
        let BlockScratch { g, lus, pivs, .. } = f;
        let ok = if f.twisted {
            let k = n / 2;
            let (g_top, g_rest) = g.split_at_mut(k * mm);
            let (lu_top, lu_rest) = lus.split_at_mut(k * mm);
            let (pv_top, pv_rest) = pivs.split_at_mut(k * m);
            let (lu_mid, lu_bot) = lu_rest.split_at_mut(mm);
            let (pv_mid, pv_bot) = pv_rest.split_at_mut(m);
            let g_bot = &mut g_rest[mm..];
            let (top, bot) = rayon::join(
                || self.factor_down(k, g_top, lu_top, pv_top),
                || self.factor_up(k + 1, g_bot, lu_bot, pv_bot),
            );
            // The middle row: M_k = D_k - L_k g[k-1] - U_k g[k+1].
            top && bot && {
                lu_mid.copy_from_slice(block(&self.diag, mm, k));
                sub_product(m, block(&self.lower, mm, k), &g_top[(k - 1) * mm..], lu_mid);
                sub_product(m, block(&self.upper, mm, k), &g_bot[..mm], lu_mid);
                lu_factor_in_place(m, lu_mid, pv_mid)
            }
        } else {
            self.factor_down(n, g, lus, pivs)
        };
        if ok {
            f.shape = (n, m);
        }
        ok
    }

    /// Forward elimination of rows `0..end` (block Thomas): `M_j = D_j - L_j g[j-1]` into
    /// `lus`, `pivs`, and `g[j] = M_j^{-1} U_j`.
    fn factor_down(&self, end: usize, g: &mut [f64], lus: &mut [f64], pivs: &mut [usize]) -> bool {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        for j in 0..end {
            let (done, cur) = g.split_at_mut(j * mm);
            let near = (j > 0).then(|| (block(&self.lower, mm, j), &done[(j - 1) * mm..]));
            let far = (j + 1 < n).then(|| block(&self.upper, mm, j));
            let (lu, piv) = (
                &mut lus[j * mm..(j + 1) * mm],
                &mut pivs[j * m..(j + 1) * m],
            );
            if !eliminate_row(
                m,
                block(&self.diag, mm, j),
                near,
                far,
                &mut cur[..mm],
                lu,
                piv,
            ) {
                return false;
            }
        }
        true
    }

    /// Upward elimination of rows `n-1` down to `start` (slices from row `start`):
    /// `M_j = D_j - U_j g[j+1]`, `g[j] = M_j^{-1} L_j`.
    fn factor_up(&self, start: usize, g: &mut [f64], lus: &mut [f64], pivs: &mut [usize]) -> bool {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        for j in (start..n).rev() {
            let t = j - start;
            let (upto, after) = g.split_at_mut((t + 1) * mm);
            let near = (j + 1 < n).then(|| (block(&self.upper, mm, j), &after[..]));
            let far = Some(block(&self.lower, mm, j));
            let (lu, piv) = (
                &mut lus[t * mm..(t + 1) * mm],
                &mut pivs[t * m..(t + 1) * m],
            );
            if !eliminate_row(
                m,
                block(&self.diag, mm, j),
                near,
                far,
                &mut upto[t * mm..],
                lu,
                piv,
            ) {
                return false;
            }
        }
        true
    }

    /// Solves for `rhs` with the factors of this matrix that `f` holds (from
    /// [`BlockTridiag::factor_into`] or [`BlockTridiag::solve_with`] on this matrix, unchanged
    /// since): the forward sweeps and back substitutions only, some `m^2` operations a block
    /// row against the `m^3` of a factorization. False when `f` holds no factors of this
    /// shape or the solution is not finite.
    pub(crate) fn resolve(&self, rhs: &[f64], f: &BlockScratch, x: &mut Vec<f64>) -> bool {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        if f.shape != (n, m) || rhs.len() != n * m {
            return false;
        }
        x.clear();
        x.resize(n * m, 0.0);
        if !f.twisted {
            self.forward_down(n, rhs, &f.lus, &f.pivs, x);
            return back_substitute(n, m, &f.g, x);
        }
        let k = n / 2;
        let (x_top, x_rest) = x.split_at_mut(k * m);
        let (x_mid, x_bot) = x_rest.split_at_mut(m);
        let (lu_mid, lu_bot) = f.lus[k * mm..].split_at(mm);
        let (pv_mid, pv_bot) = f.pivs[k * m..].split_at(m);
        rayon::join(
            || self.forward_down(k, rhs, &f.lus, &f.pivs, x_top),
            || self.forward_up(k + 1, rhs, lu_bot, pv_bot, x_bot),
        );
        // The middle row: x_k = M_k^{-1} (r_k - L_k h[k-1] - U_k h[k+1]).
        x_mid.copy_from_slice(&rhs[k * m..(k + 1) * m]);
        mat_vec_sub(m, block(&self.lower, mm, k), &x_top[(k - 1) * m..], x_mid);
        mat_vec_sub(m, block(&self.upper, mm, k), &x_bot[..m], x_mid);
        lu_solve_rows(m, lu_mid, pv_mid, 1, x_mid);
        // Rows k-1 up to 0: x_j = h_j - g_j x_(j+1); rows k+1 down: x_j = h_j - g_j x_(j-1).
        let (g_top, g_bot) = (&f.g[..k * mm], &f.g[(k + 1) * mm..]);
        let (head, tail) = x.split_at_mut((k + 1) * m);
        let mid = head[k * m..].to_vec();
        rayon::join(
            || back_substitute(k + 1, m, g_top, head),
            || {
                for t in 0..tail.len() / m {
                    let (done, cur) = tail.split_at_mut(t * m);
                    let xp = if t == 0 {
                        &mid[..]
                    } else {
                        &done[(t - 1) * m..]
                    };
                    mat_vec_sub(m, block(g_bot, mm, t), xp, &mut cur[..m]);
                }
            },
        );
        x.iter().all(|v| v.is_finite())
    }

    /// `h[j] = M_j^{-1} (r_j - L_j h[j-1])` for rows `0..end`.
    fn forward_down(&self, end: usize, rhs: &[f64], lus: &[f64], pivs: &[usize], h: &mut [f64]) {
        let m = self.m;
        let mm = m * m;
        for j in 0..end {
            let (done, cur) = h.split_at_mut(j * m);
            let t = &mut cur[..m];
            t.copy_from_slice(&rhs[j * m..(j + 1) * m]);
            if j > 0 {
                mat_vec_sub(m, block(&self.lower, mm, j), &done[(j - 1) * m..], t);
            }
            lu_solve_rows(m, block(lus, mm, j), &pivs[j * m..(j + 1) * m], 1, t);
        }
    }

    /// `h[j] = M_j^{-1} (r_j - U_j h[j+1])` for rows `n-1` down to `start` (slices from row
    /// `start`).
    fn forward_up(&self, start: usize, rhs: &[f64], lus: &[f64], pivs: &[usize], h: &mut [f64]) {
        let (n, m) = (self.n, self.m);
        let mm = m * m;
        for j in (start..n).rev() {
            let t = j - start;
            let (upto, after) = h.split_at_mut((t + 1) * m);
            let y = &mut upto[t * m..];
            y.copy_from_slice(&rhs[j * m..(j + 1) * m]);
            if j + 1 < n {
                mat_vec_sub(m, block(&self.upper, mm, j), &after[..m], y);
            }
            lu_solve_rows(m, block(lus, mm, t), &pivs[t * m..(t + 1) * m], 1, y);
        }
    }

    /// Block LU factorization, for many solves with one matrix; `None` when a block is
    /// singular.
    pub(crate) fn factor(self) -> Option<BlockLu> {
        let mut factors = BlockScratch::default();
        self.factor_into(&mut factors).then_some(BlockLu {
            matrix: self,
            factors,
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
        let dense = bt.to_dense();
        let y = dense_solve(n * m, &dense, &rhs).unwrap();
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() < 1e-12, "n = {n}, m = {m}: {p} vs {q}");
        }
        // A second right-hand side with the factors kept from the first solve.
        let mut scratch = BlockScratch::default();
        let mut x = Vec::new();
        assert!(bt.solve_with(&rhs, &mut scratch, &mut x));
        let rhs2: Vec<f64> = (0..n * m).map(|_| lcg(&mut s) - 0.5).collect();
        assert!(bt.resolve(&rhs2, &scratch, &mut x));
        let y = dense_solve(n * m, &dense, &rhs2).unwrap();
        for (p, q) in x.iter().zip(&y) {
            assert!(
                (p - q).abs() < 1e-12,
                "resolve, n = {n}, m = {m}: {p} vs {q}"
            );
        }
        // Factors of another shape are refused.
        let other = BlockTridiag::zeros(n + 1, m);
        assert!(!other.resolve(&rhs2, &scratch, &mut x));
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

/// Block LU factors of a [`BlockTridiag`] with the matrix they factor (from
/// [`BlockTridiag::factor`]), for many solves with one matrix (sensitivities: one solve per
/// direction).
#[derive(Debug, Clone)]
pub(crate) struct BlockLu {
    matrix: BlockTridiag,
    factors: BlockScratch,
}

impl BlockLu {
    /// Solves the factored system for `rhs` (length `n * m`); `None` when the solution is not
    /// finite.
    pub(crate) fn solve(&self, rhs: &[f64]) -> Option<Vec<f64>> {
        let mut x = Vec::new();
        self.matrix.resolve(rhs, &self.factors, &mut x).then_some(x)
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

/// Calls `$f(m, args..)` with `m` a constant for the block sizes of the mass-action chains
/// (one to sixteen elements and the proton invariant: 2 to 18), so the compiler unrolls and
/// drops the bounds checks of the one kernel for each size; any other size runs the same
/// kernel with `m` at run time.
macro_rules! by_size {
    ($m:expr, $f:ident($($arg:expr),*)) => {
        match $m {
            2 => $f(2, $($arg),*),
            3 => $f(3, $($arg),*),
            4 => $f(4, $($arg),*),
            5 => $f(5, $($arg),*),
            6 => $f(6, $($arg),*),
            7 => $f(7, $($arg),*),
            8 => $f(8, $($arg),*),
            9 => $f(9, $($arg),*),
            10 => $f(10, $($arg),*),
            11 => $f(11, $($arg),*),
            12 => $f(12, $($arg),*),
            13 => $f(13, $($arg),*),
            14 => $f(14, $($arg),*),
            15 => $f(15, $($arg),*),
            16 => $f(16, $($arg),*),
            17 => $f(17, $($arg),*),
            18 => $f(18, $($arg),*),
            m => $f(m, $($arg),*),
        }
    };
}

/// One block row of block Thomas, in either direction. `near` is the block coupling the row
/// to the row eliminated before it, with that row's `g`; `far` the block coupling it to the
/// row eliminated after it. `lu` gets the factors of `M = diag - near g_prev` and `g` gets
/// `M^{-1} far`. False when `M` is singular.
///
/// Compiled twice (`multiversion`): for AVX2, chosen at run time where the processor has it,
/// and for the baseline; the block kernels are inlined into each, so the AVX2 build does the
/// same operations in the same order, four lanes at a time (no fused multiply-add: the
/// results are the same to the bit). Measured 2026-12-08 on the concentrated benchmark at
/// 1,000 stages: 511 -> 445 M instructions, 47.9 -> 45.9 ms (medians of 42 interleaved runs;
/// an AVX-512 build measured the same as AVX2 and is not made).
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn eliminate_row(
    m: usize,
    diag: &[f64],
    near: Option<(&[f64], &[f64])>,
    far: Option<&[f64]>,
    g: &mut [f64],
    lu: &mut [f64],
    piv: &mut [usize],
) -> bool {
    let mm = m * m;
    lu.copy_from_slice(&diag[..mm]);
    if let Some((low, gp)) = near {
        sub_product(m, low, gp, lu);
    }
    if !lu_factor_in_place(m, lu, piv) {
        return false;
    }
    if let Some(up) = far {
        let gj = &mut g[..mm];
        gj.copy_from_slice(&up[..mm]);
        lu_solve_rows(m, lu, piv, m, gj);
    }
    true
}

/// `c -= a b` for row-major `m x m` blocks (row operations over whole rows of `b`).
#[inline(always)]
fn sub_product(m: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
    by_size!(m, sub_product_sized(a, b, c))
}

#[inline(always)]
fn sub_product_sized(m: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
    let w = lanes(m);
    for r in 0..m {
        let arow = &a[r * m..(r + 1) * m];
        let crow = &mut c[r * m..(r + 1) * m];
        let mut c0 = 0;
        while c0 + w <= m {
            let mut buf = [0.0f64; WIDE];
            let acc = &mut buf[..w];
            acc.copy_from_slice(&crow[c0..c0 + w]);
            for (k, &l) in arow.iter().enumerate() {
                let brow = &b[k * m + c0..k * m + c0 + w];
                for t in 0..w {
                    acc[t] -= l * brow[t];
                }
            }
            crow[c0..c0 + w].copy_from_slice(acc);
            c0 += w;
        }
        for cc in c0..m {
            let mut v = crow[cc];
            for (k, &l) in arow.iter().enumerate() {
                v -= l * b[k * m + cc];
            }
            crow[cc] = v;
        }
    }
}

/// Widest row a block kernel keeps whole in registers ([`lanes`]): blocks of up to 18
/// (sixteen elements, Y or Sc, and the proton invariant).
const WIDE: usize = 18;

/// Columns of a `c`-wide row a kernel updates at once: the whole row up to [`WIDE`], else
/// [`LANES`] at a time.
#[inline(always)]
fn lanes(c: usize) -> usize {
    if c <= WIDE {
        c
    } else {
        LANES
    }
}

/// Columns a row operation of the block kernels keeps in registers at once ([`sub_product`],
/// [`lu_solve_rows`]): the running values of a row stay in a local array through the whole
/// sum instead of going back to memory after every term, where each term waited for the
/// store of the one before (measured 2026-12-07, a 1,000-row factorization with blocks of 16
/// on two threads: 2.59 -> 2.04 ms).
const LANES: usize = 8;

/// Block `j` of a run of `mm`-sized blocks.
fn block(v: &[f64], mm: usize, j: usize) -> &[f64] {
    &v[j * mm..(j + 1) * mm]
}

/// `y -= A x` for a row-major `m x m` block `A`.
#[inline(always)]
fn mat_vec_sub(m: usize, a: &[f64], x: &[f64], y: &mut [f64]) {
    by_size!(m, mat_vec_sub_sized(a, x, y))
}

#[inline(always)]
fn mat_vec_sub_sized(m: usize, a: &[f64], x: &[f64], y: &mut [f64]) {
    for r in 0..m {
        y[r] -= dot(&a[r * m..(r + 1) * m], &x[..m]);
    }
}

/// `a . b` over the shorter of the two, in four interleaved partial sums: a single running sum
/// waits out every addition's latency (measured 2026-12-07: the substitution sweeps of a
/// 1,000-row system with blocks of 16 took 1.08 ms with one, 0.47 ms with four).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Block LU factors of a [`BlockTridiag`] ([`BlockTridiag::factor_into`]): the storage of
/// its elimination, reused between factorizations of one shape.
#[derive(Debug, Default, Clone)]
pub(crate) struct BlockScratch {
    /// `g[j]`: `M_j^{-1}` times the block coupling row `j` to the row eliminated after it.
    g: Vec<f64>,
    /// LU factors of every pivot block `M_j`, `n * m * m`, and their row interchanges.
    lus: Vec<f64>,
    pivs: Vec<usize>,
    /// `(n, m)` of the matrix factored, `(0, 0)` when none is.
    shape: (usize, usize),
    /// Eliminated from both ends ([`parallel_pays`]).
    twisted: bool,
}

impl BlockScratch {
    /// Bytes of storage held.
    pub(crate) fn bytes(&self) -> usize {
        8 * (self.g.capacity() + self.lus.capacity()) + 8 * self.pivs.capacity()
    }
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
#[inline(always)]
fn lu_factor_in_place(m: usize, a: &mut [f64], piv: &mut [usize]) -> bool {
    by_size!(m, lu_factor_sized(a, piv))
}

#[inline(always)]
fn lu_factor_sized(m: usize, a: &mut [f64], piv: &mut [usize]) -> bool {
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
        if m <= WIDE {
            // Whole rows at once against the pivot row with its first k + 1 entries zero: the
            // same arithmetic (x - f 0 = x) in one loop of constant length, without the
            // remainder of a shrinking one.
            let mut buf = [0.0f64; WIDE];
            let urow = &mut buf[..m];
            urow[k + 1..].copy_from_slice(&krow[k + 1..m]);
            for row in bottom.chunks_exact_mut(m) {
                let f = row[k] / d;
                // An infinite factor times a zeroed entry would write NaN over the factors
                // already stored left of column k.
                if !f.is_finite() {
                    return false;
                }
                if f != 0.0 {
                    for c in 0..m {
                        row[c] -= f * urow[c];
                    }
                }
                row[k] = f;
            }
        } else {
            for row in bottom.chunks_exact_mut(m) {
                let f = row[k] / d;
                row[k] = f;
                if f != 0.0 {
                    axpy(-f, &krow[k + 1..], &mut row[k + 1..]);
                }
            }
        }
    }
    true
}

/// Solves `A X = B` in place for a row-major `m x c` right-hand side `b`, `A` factored by
/// [`lu_factor_in_place`]; row operations over whole rows of `B` (contiguous, vectorized).
#[inline(always)]
fn lu_solve_rows(m: usize, lu: &[f64], piv: &[usize], c: usize, b: &mut [f64]) {
    if c == m {
        by_size!(m, lu_solve_rows_sized(lu, piv, m, b))
    } else {
        by_size!(m, lu_solve_rows_sized(lu, piv, c, b))
    }
}

#[inline(always)]
fn lu_solve_rows_sized(m: usize, lu: &[f64], piv: &[usize], c: usize, b: &mut [f64]) {
    for k in 0..m {
        let p = piv[k];
        if p != k {
            let (top, bottom) = b.split_at_mut(p * c);
            top[k * c..(k + 1) * c].swap_with_slice(&mut bottom[..c]);
        }
    }
    if c == 1 {
        // One right-hand side: dot products along the rows of the factors.
        for i in 1..m {
            b[i] -= dot(&lu[i * m..i * m + i], &b[..i]);
        }
        for i in (0..m).rev() {
            let s = dot(&lu[i * m + i + 1..(i + 1) * m], &b[i + 1..m]);
            b[i] = (b[i] - s) / lu[i * m + i];
        }
        return;
    }
    // Forward (unit lower) then backward (upper) substitution, `lanes(c)` columns at a time.
    let w = lanes(c);
    let mut c0 = 0;
    while c0 + w <= c {
        for i in 1..m {
            let (done, rest) = b.split_at_mut(i * c);
            let mut buf = [0.0f64; WIDE];
            let acc = &mut buf[..w];
            acc.copy_from_slice(&rest[c0..c0 + w]);
            for (k, &l) in lu[i * m..i * m + i].iter().enumerate() {
                let bk = &done[k * c + c0..k * c + c0 + w];
                for t in 0..w {
                    acc[t] -= l * bk[t];
                }
            }
            rest[c0..c0 + w].copy_from_slice(acc);
        }
        for i in (0..m).rev() {
            let (head, tail) = b.split_at_mut((i + 1) * c);
            let bi = &mut head[i * c..];
            let mut buf = [0.0f64; WIDE];
            let acc = &mut buf[..w];
            acc.copy_from_slice(&bi[c0..c0 + w]);
            let urow = &lu[i * m..(i + 1) * m];
            for (k, &u) in urow[i + 1..].iter().enumerate() {
                let bk = &tail[k * c + c0..k * c + c0 + w];
                for t in 0..w {
                    acc[t] -= u * bk[t];
                }
            }
            let d = urow[i];
            for t in 0..w {
                bi[c0 + t] = acc[t] / d;
            }
        }
        c0 += w;
    }
    if c0 < c {
        for i in 1..m {
            let (done, rest) = b.split_at_mut(i * c);
            let bi = &mut rest[c0..c];
            for (k, &l) in lu[i * m..i * m + i].iter().enumerate() {
                axpy(-l, &done[k * c + c0..(k + 1) * c], bi);
            }
        }
        for i in (0..m).rev() {
            let (head, tail) = b.split_at_mut((i + 1) * c);
            let bi = &mut head[i * c + c0..i * c + c];
            let urow = &lu[i * m..(i + 1) * m];
            for (k, &u) in urow[i + 1..].iter().enumerate() {
                axpy(-u, &tail[k * c + c0..(k + 1) * c], bi);
            }
            let d = urow[i];
            bi.iter_mut().for_each(|v| *v /= d);
        }
    }
}
