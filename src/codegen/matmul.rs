//! Matrix products: the inline kernel or the external GEMM, chosen by the
//! measured policy of `gemm::use_external_gemm`. The batch size may be the
//! rows of the product (a dense layer's forward pass) or its inner size (a
//! weight gradient); both kernels take it at run time, and when the policy's
//! answer depends on it, both are generated behind a test of the batch size
//! (one sample goes inline, a large batch to the external GEMM).

use super::func::{Fx, GemmPolicy, R, fixed};
use super::gemm::{
    self, GemmSpec, RuntimeSizes, Weights, emit_external_gemm_call_sized, inline_supports,
    use_external_gemm,
};
use super::jit::CodegenError;
use super::plan::{Base, Buf};
use crate::ir::Dim;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};

/// Rows of A up to which a product with B transposed runs as dot products
/// (the tiled kernel packs B, which only pays when many rows reuse it).
const DOT_ROWS: usize = 8;

/// One product as the emitters see it: sizes (`Dim::N` for the batch),
/// transposes and operand pointers.
pub struct Product {
    pub m: Dim,
    pub n: Dim,
    pub k: Dim,
    pub ta: bool,
    pub tb: bool,
    pub accumulate: bool,
    /// B is a parameter (a dense layer's weights), which self-contained
    /// code never writes.
    pub b_is_param: bool,
}

/// `(rows, cols)` of a matrix-shaped buffer.
fn matrix(b: &Buf) -> R<(Dim, Dim)> {
    match b.shape.0.as_slice() {
        [r, c] => Ok((*r, *c)),
        _ => Err(CodegenError::InvalidShape(format!(
            "matmul operand of shape {} is not a matrix",
            b.shape
        ))),
    }
}

/// The kernel `out = op(a) op(b)`.
pub fn emit_matmul(fx: &mut Fx, a: &Buf, b: &Buf, ta: bool, tb: bool, out: &Buf) -> R {
    let (ar, ac) = matrix(a)?;
    let (br, bc) = matrix(b)?;
    let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
    let (k2, n) = if tb { (bc, br) } else { (br, bc) };
    if k != k2 || matrix(out)? != (m, n) {
        return Err(CodegenError::InvalidShape(format!(
            "matmul of {} and {} into {}",
            a.shape, b.shape, out.shape
        )));
    }
    let (pa, pb, pc) = (fx.ptr(a.loc)?, fx.ptr(b.loc)?, fx.ptr(out.loc)?);
    let p = Product {
        m,
        n,
        k,
        ta,
        tb,
        accumulate: false,
        b_is_param: b.loc.base == Base::Params,
    };
    emit_product(fx, &p, pa, pb, pc)
}

/// `C (=|+=) op(A) op(B)` on row-major, contiguous operands.
pub fn emit_product(fx: &mut Fx, p: &Product, a: Value, b: Value, c: Value) -> R {
    let size = |d: Dim, fx: &Fx| match d {
        Dim::N => fx.max_batch,
        Dim::K(k) => k,
    };
    let spec = GemmSpec {
        m: size(p.m, fx),
        n: size(p.n, fx),
        k: size(p.k, fx),
        a_transposed: p.ta,
        b_transposed: p.tb,
        accumulate: p.accumulate,
    };
    let runtime = RuntimeSizes {
        m: (p.m == Dim::N).then_some(fx.n),
        k: (p.k == Dim::N).then_some(fx.n),
    };
    let inline_ok = p.n != Dim::N && inline_supports(&spec, runtime);
    match fx.policy {
        GemmPolicy::SelfContained => emit_self_contained(fx, p, &spec, runtime, inline_ok, [a, b, c]),
        GemmPolicy::External => emit_external(fx, p, &spec, [a, b, c]),
        GemmPolicy::Inline if inline_ok => gemm::emit_gemm_sized(fx.b, &spec, runtime, a, b, c),
        GemmPolicy::Inline => emit_external(fx, p, &spec, [a, b, c]),
        GemmPolicy::Measured if !inline_ok => emit_external(fx, p, &spec, [a, b, c]),
        GemmPolicy::Measured => {
            // With the batch among the sizes, the choice is made per call:
            // the policy is monotone in each size, so one threshold decides.
            let at = |batch: usize| {
                let size = |d: Dim, k: usize| if d == Dim::N { batch } else { k };
                let (m, n, k) = (size(p.m, spec.m), size(p.n, spec.n), size(p.k, spec.k));
                use_external_gemm(m, n, k) || (p.tb && !p.ta && gemm::use_external_dots(n, k))
            };
            let batched = p.m == Dim::N || p.k == Dim::N;
            let threshold = if batched {
                least_batch(fx.max_batch, at)
            } else {
                at(0).then_some(0)
            };
            match threshold {
                // Few fixed rows of A against a transposed B (a conv's
                // weight gradient over one sample): dot products in place.
                None if p.tb && !p.ta && p.m != Dim::N && spec.m <= DOT_ROWS => {
                    gemm::emit_row_dots(fx.b, &spec, None, [a, b, c], Weights::Mutable)
                }
                // A dense layer with a side too small for the external GEMM
                // (a classifier's few outputs): the tiled kernel's variants
                // for every runtime row count cost more compile time than
                // these thin products can win back.
                None if p.m == Dim::N && p.tb && !p.ta => {
                    gemm::emit_row_dots(fx.b, &spec, runtime.m, [a, b, c], Weights::Mutable)
                }
                None if p.m == Dim::N && gemm::small_supports(&spec, runtime) => {
                    gemm::emit_small_gemm(fx.b, &spec, runtime, [a, b, c])
                }
                None => gemm::emit_gemm_sized(fx.b, &spec, runtime, a, b, c),
                Some(t) if t <= 1 => emit_external(fx, p, &spec, [a, b, c]),
                Some(t) => by_batch(
                    fx,
                    t,
                    |fx| emit_external(fx, p, &spec, [a, b, c]),
                    |fx| {
                        if p.tb && !p.ta && p.m == Dim::N {
                            // Fewer rows than the threshold: for a dense layer
                            // on a few samples, dot products read B in place.
                            gemm::emit_row_dots(fx.b, &spec, runtime.m, [a, b, c], Weights::Mutable)
                        } else if gemm::small_supports(&spec, runtime) {
                            // A batch below the threshold is rare in training
                            // (a last partial batch): compact code will do.
                            gemm::emit_small_gemm(fx.b, &spec, runtime, [a, b, c])
                        } else {
                            gemm::emit_gemm_sized(fx.b, &spec, runtime, a, b, c)
                        }
                    },
                ),
            }
        }
    }
}

/// A product without the external GEMM (code for an object file, which
/// carries no host routine): dot products where B is transposed and is a
/// layer's weights, or A has few rows (one sample of a dense layer reads
/// the weights once, in place); the tiled kernel for the rest.
fn emit_self_contained(
    fx: &mut Fx,
    p: &Product,
    spec: &GemmSpec,
    runtime: RuntimeSizes,
    inline_ok: bool,
    [a, b, c]: [Value; 3],
) -> R {
    if !inline_ok {
        return Err(CodegenError::InvalidShape(format!(
            "this matrix product's layout needs the external GEMM, which self-contained code cannot call ({spec:?})"
        )));
    }
    let dots = p.tb && !p.ta;
    // Self-contained code is a prediction: nothing in it writes parameters.
    let weights = if p.b_is_param {
        Weights::Constant
    } else {
        Weights::Mutable
    };
    if dots && p.m != Dim::N && spec.m <= DOT_ROWS {
        return gemm::emit_row_dots(fx.b, spec, None, [a, b, c], weights);
    }
    if !(dots && p.m == Dim::N) {
        return gemm::emit_gemm_sized(fx.b, spec, runtime, a, b, c);
    }
    // A dense layer's weights: dot products on any batch, in blocks of
    // rows (W5 at batch 1024: 82-91k samples/s against 65-72k through the
    // tiled kernel, whose packing of B does not pay at 128-bit vectors).
    if weights == Weights::Constant {
        return gemm::emit_row_dots(fx.b, spec, runtime.m, [a, b, c], weights);
    }
    by_batch(
        fx,
        DOT_ROWS,
        |fx| gemm::emit_gemm_sized(fx.b, spec, runtime, a, b, c),
        |fx| gemm::emit_row_dots(fx.b, spec, runtime.m, [a, b, c], weights),
    )
}

/// `large` for a batch of at least `threshold` samples, else `small`,
/// chosen at run time.
fn by_batch(
    fx: &mut Fx,
    threshold: usize,
    large: impl FnOnce(&mut Fx) -> R,
    small: impl FnOnce(&mut Fx) -> R,
) -> R {
    let at_least =
        fx.b.ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, fx.n, threshold as i64);
    let (large_block, small_block, done) = (
        fx.b.create_block(),
        fx.b.create_block(),
        fx.b.create_block(),
    );
    fx.b.ins().brif(at_least, large_block, &[], small_block, &[]);
    fx.b.switch_to_block(large_block);
    large(fx)?;
    fx.b.ins().jump(done, &[]);
    fx.b.switch_to_block(small_block);
    small(fx)?;
    fx.b.ins().jump(done, &[]);
    fx.b.switch_to_block(done);
    Ok(())
}

/// The least batch in `1..=max` at which `at` holds, if any. `at` is
/// monotone in the batch, so a binary search finds it: the largest batch is
/// the program's number and may be in the millions.
fn least_batch(max: usize, at: impl Fn(usize) -> bool) -> Option<usize> {
    // at(b) is false below lo and true from hi on (max + 1 stands for
    // "never"; the last test below covers a max with no successor).
    let (mut lo, mut hi) = (1, max.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    (lo <= max && at(lo)).then_some(lo)
}

/// The call of the external GEMM for `p`.
fn emit_external(fx: &mut Fx, p: &Product, spec: &GemmSpec, [a, b, c]: [Value; 3]) -> R {
    let gemm_ref = fx
        .gemm
        .ok_or_else(|| CodegenError::InvalidShape("the external GEMM was not declared".into()))?;
    let m = fx.dim(p.m);
    let n = fx.dim(p.n);
    let k = fx.dim(p.k);
    // Strides come from the stored rows, whose length is never the batch.
    let (a_cols, b_cols) = (
        if p.ta { spec.m } else { spec.k },
        if p.tb { spec.k } else { spec.n },
    );
    let _ = fixed(if p.ta { p.m } else { p.k }, "the row length of A")?;
    let _ = fixed(if p.tb { p.k } else { p.n }, "the row length of B")?;
    let _ = fixed(p.n, "the row length of C")?;
    emit_external_gemm_call_sized(
        fx.b,
        gemm_ref,
        [m, n, k],
        [a_cols, b_cols, spec.n],
        (p.ta, p.tb, p.accumulate),
        [a, b, c],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_search_finds_the_least_batch_a_linear_search_finds() {
        for max in [1, 2, 3, 7, 8, 9, 100, 257] {
            for (m, n, k) in [
                (0, 10, 10),
                (0, 16, 16),
                (4, 0, 64),
                (64, 64, 0),
                (8, 16, 0),
            ] {
                // The batch stands for whichever size is 0 in the triple.
                let at = |b: usize| {
                    let size = |s: usize| if s == 0 { b } else { s };
                    use_external_gemm(size(m), size(n), size(k))
                };
                let linear = (1..=max).find(|&b| at(b));
                assert_eq!(least_batch(max, at), linear, "max {max}, {m}x{n}x{k}");
            }
            for t in 0..=max + 1 {
                let linear = (1..=max).find(|&b| b >= t);
                assert_eq!(
                    least_batch(max, |b| b >= t),
                    linear,
                    "max {max}, threshold {t}"
                );
            }
        }
        assert_eq!(least_batch(usize::MAX, |b| b >= 1 << 40), Some(1 << 40));
        assert_eq!(least_batch(usize::MAX, |_| false), None);
    }
}
