//! tanh over a run of floats, computed on the host sixteen lanes at a time.
//!
//! Cranelift emits 128-bit vectors only, so the inline tanh of `vecmath`
//! (a polynomial, an exp and a division per element) does four elements per
//! instruction. A kernel whose result is a tanh over a whole buffer instead
//! stores its argument and calls [`dlc_tanh_in_place`] on the buffer, which
//! runs the same arithmetic with AVX-512 where the CPU has it: the same
//! operations in the same order, each rounded the same way (FMA where the
//! inline code fuses), so the results are the same bits.

use super::vecmath::{
    EXP_MAX_INPUT, EXP_MIN_INPUT, EXP_P, LN2_HI, LN2_LO, LOG2_E, ROUNDING_MAGIC, TANH_POLY_LIMIT,
    TANH_T,
};

/// The name under which [`dlc_tanh_in_place`] is registered with the JIT.
pub const HOST_TANH_SYMBOL: &str = "dlc_tanh_in_place";

/// Whether kernels call [`dlc_tanh_in_place`]: the CPU has AVX-512F (and
/// `DLC_GEMM=portable`, which turns dlc's AVX-512 code off, is not set).
pub fn available() -> bool {
    super::gemm::avx512_available()
}

/// Replaces each of the `len` floats at `ptr` by its tanh.
///
/// # Safety
/// `ptr` must point to `len` writable floats.
pub unsafe extern "C" fn dlc_tanh_in_place(ptr: *mut f32, len: u64) {
    let len = len as usize;
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: the CPU has AVX-512F; the caller gives `len` floats.
        unsafe { avx512::tanh_in_place(ptr, len) };
        return;
    }
    // SAFETY: the caller gives `len` writable floats.
    let values = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
    for v in values {
        *v = tanh_scalar(*v);
    }
}

/// One element, as the inline code computes it.
pub fn tanh_scalar(x: f32) -> f32 {
    let magnitude = x.abs();
    let z = magnitude * magnitude;
    let t = polynomial(z, &TANH_T);
    let near_zero = (magnitude * z).mul_add(t, magnitude);
    let e = exp_scalar(magnitude + magnitude);
    let far = 1.0 - 2.0 / (e + 1.0);
    let result = if magnitude < TANH_POLY_LIMIT {
        near_zero
    } else {
        far
    };
    f32::from_bits(result.to_bits() | (x.to_bits() & 0x8000_0000))
}

fn polynomial(t: f32, coefficients: &[f32]) -> f32 {
    let mut terms = coefficients.iter().rev();
    let mut acc = terms.next().copied().unwrap_or(0.0);
    for &c in terms {
        acc = acc.mul_add(t, c);
    }
    acc
}

fn exp_scalar(x: f32) -> f32 {
    let x = if x > EXP_MAX_INPUT { EXP_MAX_INPUT } else { x };
    let x = if x < EXP_MIN_INPUT { EXP_MIN_INPUT } else { x };
    let shifted = x.mul_add(LOG2_E, ROUNDING_MAGIC);
    let n = shifted - ROUNDING_MAGIC;
    let n_int = (shifted.to_bits() as i32).wrapping_sub(ROUNDING_MAGIC.to_bits() as i32);
    let r = n.mul_add(-LN2_HI, x);
    let r = n.mul_add(-LN2_LO, r);
    let p = polynomial(r, &EXP_P);
    let p = p.mul_add(r, 1.0);
    let p = p.mul_add(r, 1.0);
    let half = n_int >> 1;
    let rest = n_int.wrapping_sub(half);
    let pow2 = |k: i32| f32::from_bits((k.wrapping_add(127) << 23) as u32);
    p * pow2(half) * pow2(rest)
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU must have AVX-512F; `ptr` must point to `len` writable floats.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tanh_in_place(ptr: *mut f32, len: usize) {
        let mut at = 0;
        while at + 16 <= len {
            // SAFETY: lanes at..at+16 are inside the caller's floats.
            unsafe {
                let p = ptr.add(at);
                _mm512_storeu_ps(p, tanh16(_mm512_loadu_ps(p)));
            }
            at += 16;
        }
        if at < len {
            let mask: __mmask16 = (1u32 << (len - at)) as u16 - 1;
            // SAFETY: masked lanes beyond `len` are neither read nor written.
            unsafe {
                let p = ptr.add(at);
                let x = _mm512_maskz_loadu_ps(mask, p);
                _mm512_mask_storeu_ps(p, mask, tanh16(x));
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    fn splat(v: f32) -> __m512 {
        _mm512_set1_ps(v)
    }

    #[target_feature(enable = "avx512f")]
    fn polynomial16(t: __m512, coefficients: &[f32]) -> __m512 {
        let mut terms = coefficients.iter().rev();
        let mut acc = splat(terms.next().copied().unwrap_or(0.0));
        for &c in terms {
            acc = _mm512_fmadd_ps(acc, t, splat(c));
        }
        acc
    }

    #[target_feature(enable = "avx512f")]
    fn pow2(k: __m512i) -> __m512 {
        let biased = _mm512_add_epi32(k, _mm512_set1_epi32(127));
        _mm512_castsi512_ps(_mm512_slli_epi32::<23>(biased))
    }

    #[target_feature(enable = "avx512f")]
    fn exp16(x: __m512) -> __m512 {
        let hi = splat(EXP_MAX_INPUT);
        let lo = splat(EXP_MIN_INPUT);
        // Ordered compares, as the inline min and max: a NaN stays a NaN.
        let x = _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, hi), x, hi);
        let x = _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, lo), x, lo);
        let magic = splat(ROUNDING_MAGIC);
        let shifted = _mm512_fmadd_ps(x, splat(LOG2_E), magic);
        let n = _mm512_sub_ps(shifted, magic);
        let n_int = _mm512_sub_epi32(
            _mm512_castps_si512(shifted),
            _mm512_set1_epi32(ROUNDING_MAGIC.to_bits() as i32),
        );
        let r = _mm512_fmadd_ps(n, splat(-LN2_HI), x);
        let r = _mm512_fmadd_ps(n, splat(-LN2_LO), r);
        let one = splat(1.0);
        let p = polynomial16(r, &EXP_P);
        let p = _mm512_fmadd_ps(p, r, one);
        let p = _mm512_fmadd_ps(p, r, one);
        let half = _mm512_srai_epi32::<1>(n_int);
        let rest = _mm512_sub_epi32(n_int, half);
        _mm512_mul_ps(_mm512_mul_ps(p, pow2(half)), pow2(rest))
    }

    #[target_feature(enable = "avx512f")]
    fn tanh16(x: __m512) -> __m512 {
        let sign_mask = _mm512_set1_epi32(i32::MIN);
        let x_bits = _mm512_castps_si512(x);
        let magnitude = _mm512_castsi512_ps(_mm512_andnot_si512(sign_mask, x_bits));
        let z = _mm512_mul_ps(magnitude, magnitude);
        let t = polynomial16(z, &TANH_T);
        let cube = _mm512_mul_ps(magnitude, z);
        let near_zero = _mm512_fmadd_ps(cube, t, magnitude);
        let e = exp16(_mm512_add_ps(magnitude, magnitude));
        let one = splat(1.0);
        let fraction = _mm512_div_ps(splat(2.0), _mm512_add_ps(e, one));
        let far = _mm512_sub_ps(one, fraction);
        let small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(magnitude, splat(TANH_POLY_LIMIT));
        let result = _mm512_mask_blend_ps(small, far, near_zero);
        let sign = _mm512_and_si512(x_bits, sign_mask);
        _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(result), sign))
    }
}
