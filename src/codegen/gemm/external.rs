//! The external GEMM: [`dlc_sgemm`] over the AVX-512 kernel where the CPU has it and
//! `matrixmultiply` elsewhere, its registration with the JIT, the calls generated code
//! makes to it, and the measured policy choosing it.

use super::super::workers;
use super::{CodegenError, FLOAT_BYTES, GemmSpec};
use cranelift_codegen::ir::types::{F32, I64};
use cranelift_codegen::ir::{AbiParam, FuncRef, InstBuilder, Signature, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;

/// The name under which [`dlc_sgemm`] must be registered with the JIT.
pub const EXTERNAL_GEMM_SYMBOL: &str = "dlc_sgemm";

/// Computes `C = alpha * A * B + beta * C` for row-major data with arbitrary strides.
///
/// `A` is `m x k`, `B` is `k x n`, `C` is `m x n`; element `(i, j)` of a matrix `X` lives at
/// `x + i * rsx + j * csx` (strides in elements). When `beta == 0`, C is only written.
///
/// # Safety
/// Every element addressed through the pointers, sizes and strides must be valid, `c`
/// writable, and C must not overlap A or B. Distinct `(i, j)` of C must address distinct
/// elements (no zero strides when the matching size exceeds one).
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dlc_sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    #[cfg(target_arch = "x86_64")]
    if super::avx512_dots::suits(m, n)
        && csa == 1
        && rsb == 1
        && csc == 1
        && super::avx512::available()
    {
        // A dense layer on a few samples, or with few outputs (a classifier, a
        // convolution's weight gradient): dot products in place.
        let (lda, ldb, ldc) = (rsa as usize, csb as usize, rsc as usize);
        // SAFETY: the caller's contract, in the row-major form this case has.
        unsafe {
            super::avx512_dots::row_dots(m, n, k, alpha, (a, lda), (b, ldb), beta, (c, ldc))
        };
        return;
    }
    let parts = split_parts(m, n, k);
    if parts <= 1 {
        // SAFETY: forwarded verbatim; the caller upholds the contract documented above.
        unsafe { one_thread(m, n, k, alpha, a, (rsa, csa), b, (rsb, csb), beta, c, (rsc, csc)) };
        return;
    }
    // Each part computes a band of C's columns (or rows, when there are more rows),
    // summing over k in the same order as a single call: the bits do not depend on
    // how many parts there are.
    let by_rows = m > n;
    let (len, align) = if by_rows { (m, ROW_ALIGN) } else { (n, COL_ALIGN) };
    let band = len.div_ceil(parts).next_multiple_of(align);
    let (a, b, c) = (a as usize, b as usize, c as usize);
    workers::run(len.div_ceil(band), usize::MAX, &|part, _| {
        let lo = part * band;
        let size = band.min(len - lo);
        let lo = lo as isize;
        let float = FLOAT_BYTES as isize;
        // SAFETY: the band lies inside the caller's matrices, and bands of C are disjoint.
        unsafe {
            let (sa, sb, sc) = ((rsa, csa), (rsb, csb), (rsc, csc));
            if by_rows {
                let a = (a as isize + lo * rsa * float) as *const f32;
                let c = (c as isize + lo * rsc * float) as *mut f32;
                one_thread(size, n, k, alpha, a, sa, b as *const f32, sb, beta, c, sc);
            } else {
                let b = (b as isize + lo * csb * float) as *const f32;
                let c = (c as isize + lo * csc * float) as *mut f32;
                one_thread(m, size, k, alpha, a as *const f32, sa, b, sb, beta, c, sc);
            }
        }
    });
}

/// [`dlc_sgemm`]'s contract on the calling thread: the AVX-512 kernel where the CPU has
/// it (measured 5-30% faster than `matrixmultiply`'s AVX2 kernel on the dense layers'
/// shapes), `matrixmultiply` elsewhere.
///
/// # Safety
/// As [`dlc_sgemm`].
#[allow(clippy::too_many_arguments)]
unsafe fn one_thread(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    (rsa, csa): (isize, isize),
    b: *const f32,
    (rsb, csb): (isize, isize),
    beta: f32,
    c: *mut f32,
    (rsc, csc): (isize, isize),
) {
    #[cfg(target_arch = "x86_64")]
    if super::avx512::available() {
        let (sa, sb, sc) = ((rsa, csa), (rsb, csb), (rsc, csc));
        // SAFETY: the caller's contract, and the CPU has AVX-512F.
        unsafe { super::avx512::sgemm(m, n, k, alpha, a, sa, b, sb, beta, c, sc) };
        return;
    }
    // SAFETY: the caller's contract is the one `matrixmultiply::sgemm` requires (note its
    // size order is m, k, n).
    unsafe { matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) };
}

/// Bands of rows and columns start at multiples of these (the matrix kernel's tile).
const ROW_ALIGN: usize = 8;
const COL_ALIGN: usize = 32;

/// Multiply-adds below which a product is not worth splitting: handing a band to
/// another thread costs a few microseconds.
const MIN_SPLIT_WORK: usize = 1 << 18;

/// How many bands a product of these sizes is split into: one per thread, as long
/// as each keeps enough work and the split dimension holds a tile per band.
fn split_parts(m: usize, n: usize, k: usize) -> usize {
    let threads = workers::threads();
    if threads <= 1 {
        return 1;
    }
    let work = m.saturating_mul(n).saturating_mul(k);
    let (len, align) = if m > n { (m, ROW_ALIGN) } else { (n, COL_ALIGN) };
    threads
        .min(work / MIN_SPLIT_WORK)
        .min(len / align)
        .max(1)
}

/// The host symbols the GEMM code calls, to pass to `Jit::new`.
pub fn gemm_symbols() -> Vec<(&'static str, *const u8)> {
    vec![(EXTERNAL_GEMM_SYMBOL, dlc_sgemm as *const u8)]
}

/// The Cranelift signature of [`dlc_sgemm`] for the given calling convention.
pub fn external_gemm_signature(call_conv: CallConv) -> Signature {
    let mut signature = Signature::new(call_conv);
    let types = [
        I64, I64, I64, F32, I64, I64, I64, I64, I64, I64, F32, I64, I64, I64,
    ];
    signature
        .params
        .extend(types.iter().map(|ty| AbiParam::new(*ty)));
    signature
}

/// Whether a product of these sizes (`op(A)` is `m x k`, `op(B)` is `k x n`) should go to
/// the external GEMM rather than the inline kernel.
///
/// Measured on the development machine, one thread, best of 200 short trials
/// (`measure_gflops` in the GEMM tests), GFLOP/s inline / external:
/// 1x64x64 9.9 / 4.7, 4x64x64 28.3 / 24.0, 4x256x256 28.1 / 20.9, 8x16x16 29.1 / 18.3,
/// 16x16x16 29.8 / 25.2, 8x32x32 29.8 / 38.0, 32x16x16 28.5 / 31.8, 32x64x64 30.4 / 64.8,
/// 128x256x128 29.7 / 76.9, 128x784x256 29.0 / 77.7 (m x k x n). The inline kernel runs
/// at about 30 GFLOP/s from tiny sizes on; the external one needs a few rows and columns to
/// amortise its packing and call, then reaches about 2.6 times that. With four rows or
/// fewer it never caught up.
pub fn use_external_gemm(m: usize, n: usize, k: usize) -> bool {
    let work = m.saturating_mul(n).saturating_mul(k);
    m >= 8 && n >= 16 && k >= 16 && work >= 8 * 32 * 32
}

/// Whether a dense layer (`A B^T`, B stored transposed) of `n` outputs and `k` inputs
/// should go to the external GEMM on any number of samples: where the AVX-512 dot
/// products serve few samples and few outputs, they beat the inline f32x4 ones from
/// about this size (1x64x64: 22.6 against 20.0 GFLOP/s; 1x32x32: 13.0 against 18.7),
/// and split large layers over the threads.
pub fn use_external_dots(n: usize, k: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    if super::avx512::available() {
        return k >= 16 && n.saturating_mul(k) >= 4096;
    }
    let _ = (n, k);
    false
}

/// Emits a call of the external GEMM (`gemm` must reference [`EXTERNAL_GEMM_SYMBOL`]
/// declared with [`external_gemm_signature`]) computing `spec` on pointers `a`, `b`, `c`.
pub fn emit_external_gemm_call(
    builder: &mut FunctionBuilder,
    gemm: FuncRef,
    spec: &GemmSpec,
    a: Value,
    b: Value,
    c: Value,
) -> Result<(), CodegenError> {
    let [rsa, csa, rsb, csb, rsc, csc] = spec.strides()?;
    let mut int = |value: i64| builder.ins().iconst(I64, value);
    let (m, n, k) = (int(spec.m as i64), int(spec.n as i64), int(spec.k as i64));
    let (rsa, csa, rsb, csb, rsc, csc) =
        (int(rsa), int(csa), int(rsb), int(csb), int(rsc), int(csc));
    let alpha = builder.ins().f32const(1.0);
    let beta = builder
        .ins()
        .f32const(if spec.accumulate { 1.0 } else { 0.0 });
    builder.ins().call(
        gemm,
        &[m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc],
    );
    Ok(())
}

/// Emits a call of the external GEMM on sizes given as I64 values (`[m, n, k]`), with
/// A, B and C stored row-major with rows of `row_lengths` floats (`A` as `k x m` when
/// transposed, `B` as `n x k` when transposed).
pub fn emit_external_gemm_call_sized(
    builder: &mut FunctionBuilder,
    gemm: FuncRef,
    [m, n, k]: [Value; 3],
    row_lengths: [usize; 3],
    (a_transposed, b_transposed, accumulate): (bool, bool, bool),
    [a, b, c]: [Value; 3],
) -> Result<(), CodegenError> {
    let row = |len: usize| -> Result<i64, CodegenError> {
        i64::try_from(len)
            .ok()
            .filter(|l| l.checked_mul(FLOAT_BYTES).is_some())
            .ok_or_else(|| CodegenError::InvalidShape(format!("rows of {len} floats")))
    };
    let [ra, rb, rc] = [
        row(row_lengths[0])?,
        row(row_lengths[1])?,
        row(row_lengths[2])?,
    ];
    let (rsa, csa) = if a_transposed { (1, ra) } else { (ra, 1) };
    let (rsb, csb) = if b_transposed { (1, rb) } else { (rb, 1) };
    let mut int = |value: i64| builder.ins().iconst(I64, value);
    let (rsa, csa, rsb, csb, rsc, csc) = (int(rsa), int(csa), int(rsb), int(csb), int(rc), int(1));
    let alpha = builder.ins().f32const(1.0);
    let beta = builder.ins().f32const(if accumulate { 1.0 } else { 0.0 });
    builder.ins().call(
        gemm,
        &[m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc],
    );
    Ok(())
}
