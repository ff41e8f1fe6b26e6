//! Dropout masks over a whole buffer, drawn on the host eight at a time.
//!
//! Each mask value hashes its element's index with SplitMix64's finaliser
//! (`ir::dropout`): two 64-bit multiplies per element, which Cranelift's
//! 128-bit vectors cannot do, so the inline code draws the four lanes of a
//! vector one by one. A kernel that stores its mask calls
//! [`dlc_dropout_mask`] to fill that buffer first, with AVX-512's 64-bit
//! lanes where the CPU has them, and then reads the mask like any input. The
//! numbers are integers until the last step, so every back end draws the
//! same mask.

use crate::ir::dropout::mask_value;

/// The name under which [`dlc_dropout_mask`] is registered with the JIT.
pub const HOST_DROPOUT_SYMBOL: &str = "dlc_dropout_mask";

/// Whether kernels call [`dlc_dropout_mask`]: the CPU has AVX-512F and DQ
/// (the 64-bit multiply), and `DLC_GEMM=portable` is not set.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return super::gemm::avx512_available() && is_x86_feature_detected!("avx512dq");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Writes the dropout mask of elements `0..len` under `key` at `out`
/// (`ir::dropout::mask_value`).
///
/// # Safety
/// `out` must point to `len` writable floats.
pub unsafe extern "C" fn dlc_dropout_mask(out: *mut f32, len: u64, key: u64, rate: f32) {
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: the CPU has AVX-512F and DQ; the caller gives `len` floats.
        unsafe { avx512::fill(out, len as usize, key, rate) };
        return;
    }
    // SAFETY: the caller gives `len` writable floats.
    let values = unsafe { std::slice::from_raw_parts_mut(out, len as usize) };
    for (index, v) in values.iter_mut().enumerate() {
        *v = mask_value(key, index as u64, rate);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use crate::ir::dropout::mask_value;
    use crate::rng::{MIX_MUL_1, MIX_MUL_2};
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU must have AVX-512F and DQ; `out` must point to `len` writable floats.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub unsafe fn fill(out: *mut f32, len: usize, key: u64, rate: f32) {
        let keep = _mm256_set1_ps(1.0 / (1.0 - rate));
        let rate_v = _mm256_set1_ps(rate);
        let scale = _mm256_set1_ps(1.0 / 16_777_216.0);
        let mul1 = _mm512_set1_epi64(MIX_MUL_1 as i64);
        let mul2 = _mm512_set1_epi64(MIX_MUL_2 as i64);
        let steps = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
        let mut at = 0;
        while at + 8 <= len {
            let index = _mm512_add_epi64(_mm512_set1_epi64(at as i64), steps);
            let mut z = _mm512_add_epi64(_mm512_set1_epi64(key as i64), index);
            z = _mm512_xor_si512(z, _mm512_srli_epi64::<30>(z));
            z = _mm512_mullo_epi64(z, mul1);
            z = _mm512_xor_si512(z, _mm512_srli_epi64::<27>(z));
            z = _mm512_mullo_epi64(z, mul2);
            z = _mm512_xor_si512(z, _mm512_srli_epi64::<31>(z));
            // 24 bits: exact as a float, as is the scaling by 2^-24.
            let u = _mm256_mul_ps(_mm512_cvtepi64_ps(_mm512_srli_epi64::<40>(z)), scale);
            let kept = _mm256_cmp_ps::<_CMP_GE_OQ>(u, rate_v);
            let mask = _mm256_and_ps(kept, keep);
            // SAFETY: elements at..at+8 are inside the caller's floats.
            unsafe { _mm256_storeu_ps(out.add(at), mask) };
            at += 8;
        }
        for index in at..len {
            // SAFETY: as above.
            unsafe { *out.add(index) = mask_value(key, index as u64, rate) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_mask_is_the_reference_mask() {
        for (rate, key) in [(0.0f32, 0u64), (0.2, 0x1234_5678_9abc_def0), (0.5, u64::MAX), (0.9, 7)] {
            for len in (0..40).chain([1000, 4099]) {
                let mut out = vec![f32::NAN; len];
                // SAFETY: `out` holds `len` floats.
                unsafe { dlc_dropout_mask(out.as_mut_ptr(), len as u64, key, rate) };
                for (i, v) in out.iter().enumerate() {
                    let want = mask_value(key, i as u64, rate);
                    assert_eq!(v.to_bits(), want.to_bits(), "rate {rate} key {key} element {i} of {len}");
                }
            }
        }
    }
}
