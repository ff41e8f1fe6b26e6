//! 2x2 pooling at stride 2 (the common one) and its gradient, computed on the
//! host sixteen outputs at a time.
//!
//! The inline code (`pool2x2.rs`) works four outputs at a time with 128-bit
//! shuffles and leaves each row's last `ow % 4` outputs to the scalar kernel:
//! on a 28-wide image that is two outputs of fourteen, on a 14-wide one three
//! of seven. Here two masked 512-bit loads take a whole row pair of a small
//! image, the even and odd columns are split with one two-source permute
//! each, and masked stores end the row, so there are no scalar tails. The
//! comparisons are those of the inline kernels in the same window order
//! (ordered `>`, the first maximum wins), so the results are the same bits:
//! the forward pass starts each window from -inf, the gradient from the
//! window's first position, as `pool.rs` does.

use crate::ir::PoolKind;

/// The name under which [`dlc_pool2x2`] is registered with the JIT.
pub const HOST_POOL_SYMBOL: &str = "dlc_pool2x2";
/// The name under which [`dlc_pool2x2_grad`] is registered with the JIT.
pub const HOST_POOL_GRAD_SYMBOL: &str = "dlc_pool2x2_grad";

/// Whether kernels call the host routines: the CPU has AVX-512F (and
/// `DLC_GEMM=portable`, which turns dlc's AVX-512 code off, is not set).
pub fn available() -> bool {
    super::gemm::avx512_available()
}

/// The `kind` argument of the routines.
pub fn kind_code(kind: PoolKind) -> i64 {
    match kind {
        PoolKind::Max => 0,
        PoolKind::Avg => 1,
    }
}

/// Pools `planes` planes of `h x w` floats at `x` into `planes` planes of
/// `h/2 x w/2` at `y` (`avg` non-zero: the window's mean, else its maximum).
///
/// # Safety
/// `x` must hold `planes * h * w` floats and `y` `planes * (h/2) * (w/2)`
/// writable ones, apart from `x`.
pub unsafe extern "C" fn dlc_pool2x2(
    x: *const f32,
    y: *mut f32,
    planes: u64,
    h: u64,
    w: u64,
    avg: u64,
) {
    let shape = Planes::new(planes, h, w);
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: the CPU has AVX-512F; the caller gives the buffers.
        unsafe { avx512::forward(&shape, x, y, avg != 0) };
        return;
    }
    // SAFETY: as above.
    unsafe { scalar::forward(&shape, x, y, avg != 0) }
}

/// The gradient of [`dlc_pool2x2`]: `dx` (the shape of `x`) from `dy` (the
/// shape of `y`); inputs in no window get 0.
///
/// # Safety
/// As [`dlc_pool2x2`], with `dy` read where `y` was written and `dx`
/// writable for the floats of `x`, apart from `x` and `dy`.
pub unsafe extern "C" fn dlc_pool2x2_grad(
    x: *const f32,
    dy: *const f32,
    dx: *mut f32,
    planes: u64,
    h: u64,
    w: u64,
    avg: u64,
) {
    let shape = Planes::new(planes, h, w);
    #[cfg(target_arch = "x86_64")]
    let vector = available();
    #[cfg(not(target_arch = "x86_64"))]
    let vector = false;
    if vector {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F; the caller gives the buffers.
        unsafe {
            avx512::backward(&shape, x, dy, dx, avg != 0)
        };
    } else {
        // SAFETY: the caller gives the buffers.
        unsafe { scalar::backward(&shape, x, dy, dx, avg != 0) };
    }
    // SAFETY: dx holds the planes; the uncovered row and column are inside them.
    unsafe { zero_uncovered(&shape, dx) };
}

/// Sizes of the planes.
struct Planes {
    planes: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

impl Planes {
    fn new(planes: u64, h: u64, w: u64) -> Planes {
        let (h, w) = (h as usize, w as usize);
        Planes {
            planes: planes as usize,
            h,
            w,
            oh: h / 2,
            ow: w / 2,
        }
    }
}

/// An odd last row or column belongs to no window: its gradient is 0.
unsafe fn zero_uncovered(s: &Planes, dx: *mut f32) {
    for plane in 0..s.planes {
        // SAFETY: every index is inside plane `plane` of `dx`.
        unsafe {
            let base = dx.add(plane * s.h * s.w);
            if s.w % 2 == 1 {
                for row in 0..2 * s.oh {
                    *base.add(row * s.w + s.w - 1) = 0.0;
                }
            }
            if s.h % 2 == 1 {
                std::ptr::write_bytes(base.add((s.h - 1) * s.w), 0, s.w);
            }
        }
    }
}

/// One element at a time, in the inline kernels' order: the reference the
/// vector code is tested against, and the code on CPUs without AVX-512.
mod scalar {
    use super::Planes;

    /// # Safety
    /// As `dlc_pool2x2`.
    pub unsafe fn forward(s: &Planes, x: *const f32, y: *mut f32, avg: bool) {
        for plane in 0..s.planes {
            for oy in 0..s.oh {
                for ox in 0..s.ow {
                    // SAFETY: the window and the output lie inside the planes.
                    unsafe {
                        let v = window(s, x, plane, oy, ox);
                        *y.add((plane * s.oh + oy) * s.ow + ox) = if avg {
                            (((0.0 + v[0]) + v[1]) + v[2] + v[3]) / 4.0
                        } else {
                            let mut best = f32::NEG_INFINITY;
                            for value in v {
                                if value > best {
                                    best = value;
                                }
                            }
                            best
                        };
                    }
                }
            }
        }
    }

    /// # Safety
    /// As `dlc_pool2x2_grad`.
    pub unsafe fn backward(s: &Planes, x: *const f32, dy: *const f32, dx: *mut f32, avg: bool) {
        for plane in 0..s.planes {
            for oy in 0..s.oh {
                for ox in 0..s.ow {
                    // SAFETY: the window, the output and its gradient lie inside the planes.
                    unsafe {
                        let g = *dy.add((plane * s.oh + oy) * s.ow + ox);
                        let shares = if avg {
                            [g / 4.0; 4]
                        } else {
                            let v = window(s, x, plane, oy, ox);
                            let mut winner = 0;
                            for (i, &value) in v.iter().enumerate().skip(1) {
                                if value > v[winner] {
                                    winner = i;
                                }
                            }
                            let mut shares = [0.0; 4];
                            shares[winner] = g;
                            shares
                        };
                        let at = dx.add(plane * s.h * s.w + 2 * oy * s.w + 2 * ox);
                        *at = shares[0];
                        *at.add(1) = shares[1];
                        *at.add(s.w) = shares[2];
                        *at.add(s.w + 1) = shares[3];
                    }
                }
            }
        }
    }

    /// The window of output (oy, ox) in window order.
    unsafe fn window(s: &Planes, x: *const f32, plane: usize, oy: usize, ox: usize) -> [f32; 4] {
        // SAFETY: the caller keeps (oy, ox) inside the output plane.
        unsafe {
            let at = x.add(plane * s.h * s.w + 2 * oy * s.w + 2 * ox);
            [*at, *at.add(1), *at.add(s.w), *at.add(s.w + 1)]
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Planes;
    use std::arch::x86_64::*;

    /// Lanes `0..count` (count may exceed 16).
    fn lanes(count: usize) -> __mmask16 {
        if count >= 16 {
            0xFFFF
        } else {
            ((1u32 << count) - 1) as __mmask16
        }
    }

    /// The four window positions of sixteen outputs, from 32 floats of each
    /// input row (masked to `inputs` of them).
    #[target_feature(enable = "avx512f")]
    unsafe fn positions(row0: *const f32, row1: *const f32, inputs: usize) -> [__m512; 4] {
        let (low, high) = (lanes(inputs), lanes(inputs.saturating_sub(16)));
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        // SAFETY: the masked lanes are the row's inputs; a masked-off load
        // touches nothing, so the second half's address may pass the row.
        unsafe {
            let a0 = _mm512_maskz_loadu_ps(low, row0);
            let a1 = _mm512_maskz_loadu_ps(high, row0.wrapping_add(16));
            let b0 = _mm512_maskz_loadu_ps(low, row1);
            let b1 = _mm512_maskz_loadu_ps(high, row1.wrapping_add(16));
            [
                _mm512_permutex2var_ps(a0, even, a1),
                _mm512_permutex2var_ps(a0, odd, a1),
                _mm512_permutex2var_ps(b0, even, b1),
                _mm512_permutex2var_ps(b0, odd, b1),
            ]
        }
    }

    /// # Safety
    /// The CPU must have AVX-512F; as `dlc_pool2x2`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn forward(s: &Planes, x: *const f32, y: *mut f32, avg: bool) {
        for plane in 0..s.planes {
            for oy in 0..s.oh {
                // SAFETY: rows 2*oy and 2*oy+1 and output row oy are inside the planes.
                let (row0, out) = unsafe {
                    (
                        x.add(plane * s.h * s.w + 2 * oy * s.w),
                        y.add((plane * s.oh + oy) * s.ow),
                    )
                };
                for ox in (0..s.ow).step_by(16) {
                    let outputs = 16.min(s.ow - ox);
                    // SAFETY: outputs ox.. and their 2*outputs inputs are in the rows.
                    unsafe {
                        let at = row0.add(2 * ox);
                        let v = positions(at, at.add(s.w), 2 * outputs);
                        let result = if avg {
                            let mut sum = _mm512_setzero_ps();
                            for p in v {
                                sum = _mm512_add_ps(sum, p);
                            }
                            _mm512_div_ps(sum, _mm512_set1_ps(4.0))
                        } else {
                            let mut best = _mm512_set1_ps(f32::NEG_INFINITY);
                            for p in v {
                                let better = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(p, best);
                                best = _mm512_mask_mov_ps(best, better, p);
                            }
                            best
                        };
                        _mm512_mask_storeu_ps(out.add(ox), lanes(outputs), result);
                    }
                }
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX-512F; as `dlc_pool2x2_grad`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn backward(s: &Planes, x: *const f32, dy: *const f32, dx: *mut f32, avg: bool) {
        let low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        let high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for plane in 0..s.planes {
            for oy in 0..s.oh {
                let first = plane * s.h * s.w + 2 * oy * s.w;
                // SAFETY: rows 2*oy, 2*oy+1 of x and dx and row oy of dy are inside the planes.
                let (row0, grad0, g_row) =
                    unsafe { (x.add(first), dx.add(first), dy.add((plane * s.oh + oy) * s.ow)) };
                for ox in (0..s.ow).step_by(16) {
                    let outputs = 16.min(s.ow - ox);
                    let inputs = 2 * outputs;
                    // SAFETY: as in `forward`, for x, dy and dx.
                    unsafe {
                        let g = _mm512_maskz_loadu_ps(lanes(outputs), g_row.add(ox));
                        let shares = if avg {
                            [_mm512_div_ps(g, _mm512_set1_ps(4.0)); 4]
                        } else {
                            let at = row0.add(2 * ox);
                            let [v0, v1, v2, v3] = positions(at, at.add(s.w), inputs);
                            let t1 = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v1, v0);
                            let best = _mm512_mask_mov_ps(v0, t1, v1);
                            let t2 = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v2, best);
                            let best = _mm512_mask_mov_ps(best, t2, v2);
                            let t3 = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v3, best);
                            // Position i keeps the gradient if it took over and no later one did.
                            let s3 = _mm512_maskz_mov_ps(t3, g);
                            let s2 = _mm512_maskz_mov_ps(t2 & !t3, g);
                            let s1 = _mm512_maskz_mov_ps(t1 & !(t2 | t3), g);
                            let s0 = _mm512_maskz_mov_ps(!(t1 | t2 | t3), g);
                            [s0, s1, s2, s3]
                        };
                        let (m_low, m_high) = (lanes(inputs), lanes(inputs.saturating_sub(16)));
                        let top = grad0.add(2 * ox);
                        let bottom = top.add(s.w);
                        for (row, (even, odd)) in
                            [(top, (shares[0], shares[1])), (bottom, (shares[2], shares[3]))]
                        {
                            let first_half = _mm512_permutex2var_ps(even, low, odd);
                            let second_half = _mm512_permutex2var_ps(even, high, odd);
                            _mm512_mask_storeu_ps(row, m_low, first_half);
                            _mm512_mask_storeu_ps(row.wrapping_add(16), m_high, second_half);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values with ties, NaNs, infinities and signed zeros among ordinary ones.
    fn values(len: usize, seed: u64) -> Vec<f32> {
        let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, 1.0, 1.0];
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match state % 16 {
                    0..=6 => specials[(state % 7) as usize],
                    _ => ((state >> 20) % 2001) as f32 / 100.0 - 10.0,
                }
            })
            .collect()
    }

    #[test]
    fn the_vector_routines_give_the_scalar_bits_on_every_size() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        for (h, w) in [(2, 2), (3, 5), (4, 31), (7, 32), (28, 28), (14, 14), (5, 34), (2, 65)] {
            let planes = 3;
            let (oh, ow) = (h / 2, w / 2);
            let x = values(planes * h * w, (h * 100 + w) as u64);
            let dy = values(planes * oh * ow, (h * 7 + w) as u64);
            for avg in [0u64, 1] {
                let shape = Planes::new(planes as u64, h as u64, w as u64);
                let unwritten = f32::from_bits(0x7FC0_1234);
                let mut want = vec![unwritten; planes * oh * ow];
                let mut got = want.clone();
                // SAFETY: the buffers have the sizes the routines address.
                unsafe {
                    scalar::forward(&shape, x.as_ptr(), want.as_mut_ptr(), avg != 0);
                    dlc_pool2x2(x.as_ptr(), got.as_mut_ptr(), planes as u64, h as u64, w as u64, avg);
                }
                // The same bits, except that a NaN's sign and payload are
                // whatever the adds' operand order gives (the compiler may
                // commute the scalar ones).
                let bits = |v: &[f32]| {
                    v.iter()
                        .map(|f| if f.is_nan() { u32::MAX } else { f.to_bits() })
                        .collect::<Vec<_>>()
                };
                assert_eq!(bits(&got), bits(&want), "forward {h}x{w} avg {avg}");
                let mut want = vec![unwritten; planes * h * w];
                let mut got = want.clone();
                // SAFETY: as above.
                unsafe {
                    scalar::backward(&shape, x.as_ptr(), dy.as_ptr(), want.as_mut_ptr(), avg != 0);
                    zero_uncovered(&shape, want.as_mut_ptr());
                    dlc_pool2x2_grad(
                        x.as_ptr(),
                        dy.as_ptr(),
                        got.as_mut_ptr(),
                        planes as u64,
                        h as u64,
                        w as u64,
                        avg,
                    );
                }
                assert_eq!(bits(&got), bits(&want), "gradient {h}x{w} avg {avg}");
                let untouched = got.iter().filter(|v| v.to_bits() == unwritten.to_bits()).count();
                assert_eq!(untouched, 0, "every input's gradient is written");
            }
        }
    }
}
