//! The dropout mask's random numbers, defined once for every back end.
//!
//! Counter-based: the decision for element `index` of dropout layer `salt` at
//! training step `step` of a run seeded `seed` is a pure function of those
//! four numbers. Runs are reproducible from the seed whatever the thread count
//! or the order of evaluation, and the JIT, the interpreter and any future
//! back end draw identical masks. The mixing function is SplitMix64's
//! finaliser (64-bit multiply, xor and shift only).

use crate::rng::{GOLDEN_GAMMA, mix64 as mix};

/// The per-layer, per-step key; elements are then drawn with [`uniform`].
pub fn key(seed: u64, step: u64, salt: u64) -> u64 {
    mix(mix(seed ^ salt.wrapping_mul(GOLDEN_GAMMA)) ^ step)
}

/// A uniform number in [0, 1) with 24 random bits, for element `index`.
pub fn uniform(key: u64, index: u64) -> f32 {
    (mix(key.wrapping_add(index)) >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// The mask value: `1 / (1 - rate)` if kept, else 0 (inverted dropout).
pub fn mask_value(key: u64, index: u64, rate: f32) -> f32 {
    if uniform(key, index) >= rate {
        1.0 / (1.0 - rate)
    } else {
        0.0
    }
}
