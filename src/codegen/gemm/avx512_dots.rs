//! Dense layers on a few samples, or with few outputs, with AVX-512: `C (=|+=) A B^T`
//! where B is stored transposed (a weight matrix, one contiguous row per output). Each
//! element of C is a dot product of two contiguous rows, read in place sixteen floats at a
//! time, four rows of A by four outputs per pass (one load feeds four FMAs). Packing B, as
//! the tiled kernel does, only pays when many rows reuse it and it fills the 32-wide tile.
//!
//! This is the batch-1 inference path. A large layer is split into bands of outputs over
//! the worker pool, so each core streams its share of the weights (from its own cache, when
//! the layer is called repeatedly); each output's sum is the same whatever the split.

use super::super::workers;
use std::arch::x86_64::*;

/// Rows of A per pass.
const MAX_ROWS: usize = 4;
/// Below these many rows of A, or outputs, the dot products beat the packed kernel (its
/// 8x32 tile would be mostly padding; measured 57 against 10 GFLOP/s on 8x9x784, 55
/// against 23 on 64x10x784, even on 16x72x196).
const FEW_ROWS: usize = 8;
const FEW_OUTPUTS: usize = 32;

/// Whether `A B^T` with `m` rows and `n` outputs is better served here than by the packed
/// kernel.
pub fn suits(m: usize, n: usize) -> bool {
    m < FEW_ROWS || n < FEW_OUTPUTS
}
/// Outputs per pass.
const GROUP: usize = 4;
/// Multiply-adds below which the product stays on the calling thread.
const MIN_SPLIT_WORK: usize = 1 << 16;
/// Outputs per band handed to a thread (a multiple of [`GROUP`]).
const BAND: usize = 32;

/// `C = alpha * A B^T + beta * C` for `m` rows of A (row `i` at `a + i * lda`, `k`
/// floats) and `n` rows of B (row `j` at `b + j * ldb`), C's row `i` at `c + i * ldc`.
/// When `beta == 0`, C is only written.
///
/// # Safety
/// The rows must be valid for `k` floats (C's for `n`), C must not overlap A or B, and the
/// CPU must support AVX-512F.
#[allow(clippy::too_many_arguments)]
pub unsafe fn row_dots(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    (a, lda): (*const f32, usize),
    (b, ldb): (*const f32, usize),
    beta: f32,
    (c, ldc): (*mut f32, usize),
) {
    // Tasks are (group of rows, band of outputs) pairs, so both a single sample
    // through a wide layer and many samples through a classifier's few outputs split.
    let groups = m.div_ceil(MAX_ROWS);
    let bands = n.div_ceil(BAND);
    let (a, b, c) = (a as usize, b as usize, c as usize);
    let task = |index: usize, _slot: usize| {
        let (group, band) = (index / bands, index % bands);
        let i = group * MAX_ROWS;
        let rows = MAX_ROWS.min(m - i);
        let cols = band * BAND..(band * BAND + BAND).min(n);
        let a = (a as *const f32).wrapping_add(i * lda);
        let c = (c as *mut f32).wrapping_add(i * ldc);
        // SAFETY: rows i..i+rows and outputs `cols` lie inside the caller's matrices, and
        // tasks write disjoint parts of C.
        unsafe { dots(rows, cols, k, alpha, (a, lda), (b as *const f32, ldb), beta, (c, ldc)) };
    };
    let tasks = groups * bands;
    if m.saturating_mul(n).saturating_mul(k) < MIN_SPLIT_WORK || workers::threads() <= 1 {
        (0..tasks).for_each(|index| task(index, 0));
    } else {
        workers::run(tasks, usize::MAX, &task);
    }
}

/// Outputs `cols` of every row: groups of four, then one at a time.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn dots(
    rows: usize,
    cols: std::ops::Range<usize>,
    k: usize,
    alpha: f32,
    (a, lda): (*const f32, usize),
    (b, ldb): (*const f32, usize),
    beta: f32,
    (c, ldc): (*mut f32, usize),
) {
    let tail = ((1u32 << (k % 16)) - 1) as __mmask16;
    let mut j = cols.start;
    while j < cols.end {
        let width = GROUP.min(cols.end - j);
        let mut acc = [[_mm512_setzero_ps(); GROUP]; MAX_ROWS];
        // Past the last output, the group repeats it (computed, never stored).
        let mut b_rows = [b; GROUP];
        for (q, row) in b_rows.iter_mut().enumerate() {
            // SAFETY: output j + min(q, width - 1) is a row of B.
            *row = unsafe { b.add((j + q.min(width - 1)) * ldb) };
        }
        let mut p = 0;
        while p < k {
            let mask = if p + 16 <= k { 0xFFFF } else { tail };
            // SAFETY: the masked lanes p.. of every row read lie below k.
            unsafe {
                let mut bv = [_mm512_setzero_ps(); GROUP];
                for (v, row) in bv.iter_mut().zip(&b_rows) {
                    *v = _mm512_maskz_loadu_ps(mask, row.add(p));
                }
                for (i, sums) in acc.iter_mut().enumerate().take(rows) {
                    let av = _mm512_maskz_loadu_ps(mask, a.add(i * lda + p));
                    for (sum, &bq) in sums.iter_mut().zip(&bv) {
                        *sum = _mm512_fmadd_ps(av, bq, *sum);
                    }
                }
            }
            p += 16;
        }
        for (i, sums) in acc.iter().enumerate().take(rows) {
            for (q, sum) in sums.iter().enumerate().take(width) {
                let dot = alpha * _mm512_reduce_add_ps(*sum);
                // SAFETY: output j + q of row i is an element of C.
                unsafe {
                    let out = c.add(i * ldc + j + q);
                    *out = if beta == 0.0 { dot } else { (*out).mul_add(beta, dot) };
                }
            }
        }
        j += width;
    }
}

#[cfg(test)]
mod tests {
    use super::super::avx512::tests::values;
    use super::*;

    #[test]
    fn matches_a_double_precision_product_for_any_rows_and_outputs() {
        if !crate::codegen::gemm::avx512::available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        // k below, at and past a vector; n past a group; one size large enough to split.
        for (n, k) in [(1, 1), (5, 15), (7, 16), (33, 47), (300, 301)] {
            for rows in [1, 2, 3, 4, 5, 9] {
                for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (2.0, 0.5)] {
                    let (lda, ldb, ldc) = (k + 3, k + 1, n + 2);
                    let a = values(rows * lda, 1);
                    let b = values(n * ldb, 2);
                    let c0 = values(rows * ldc, 3);
                    let mut c = c0.clone();
                    // SAFETY: the buffers hold the rows at these strides; AVX-512F checked.
                    unsafe {
                        row_dots(
                            rows,
                            n,
                            k,
                            alpha,
                            (a.as_ptr(), lda),
                            (b.as_ptr(), ldb),
                            beta,
                            (c.as_mut_ptr(), ldc),
                        )
                    };
                    for i in 0..rows {
                        for j in 0..n {
                            let dot: f64 =
                                (0..k).map(|p| a[i * lda + p] as f64 * b[j * ldb + p] as f64).sum();
                            let old = if beta == 0.0 { 0.0 } else { beta as f64 * c0[i * ldc + j] as f64 };
                            let want = alpha as f64 * dot + old;
                            let got = c[i * ldc + j] as f64;
                            assert!(
                                (got - want).abs() <= 1e-5 * (k as f64).sqrt() * (1.0 + want.abs()),
                                "{rows}x{k}x{n} alpha {alpha} beta {beta}: C[{i}][{j}] = {got}, want {want}"
                            );
                        }
                        // Past the row's n outputs nothing is written.
                        assert_eq!(&c[i * ldc + n..(i + 1) * ldc], &c0[i * ldc + n..(i + 1) * ldc]);
                    }
                }
            }
        }
    }
}
