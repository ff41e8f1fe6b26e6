//! A small, seeded, reproducible random number generator.
//!
//! Everything random in dlc — weight initialisation, shuffling, synthetic data sets, dropout —
//! draws from here, so that a program run with the same seed gives the same numbers on every
//! machine. [`Rng`] is xoshiro256** seeded through SplitMix64; it uses only integer arithmetic,
//! IEEE-exact float operations (`+ - * /`, `sqrt`) and a logarithm written here, so no platform
//! maths library can change a result.
//!
//! [`hash_uniform`] is a stateless, counter-based generator: the JIT-compiled training step
//! recomputes it bit-exactly for dropout masks, so its algorithm is part of the contract and is
//! spelled out in its documentation.

/// Additive constant of SplitMix64 (2^64 divided by the golden ratio, made odd).
pub const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// First multiplier of the SplitMix64 finaliser [`mix64`].
pub const MIX_MUL_1: u64 = 0xBF58_476D_1CE4_E5B9;
/// Second multiplier of the SplitMix64 finaliser [`mix64`].
pub const MIX_MUL_2: u64 = 0x94D0_49BB_1331_11EB;
/// Key xor-ed into the seed of [`hash_uniform`] so that seed 0 does not hit `mix64(0) == 0`.
pub const HASH_SEED_KEY: u64 = 0x6A09_E667_F3BC_C909;
/// Key xor-ed into the stream number of [`Rng::fork`].
const FORK_KEY: u64 = 0xBB67_AE85_84CA_A73B;

/// The SplitMix64 finaliser: a bijection on `u64` that spreads every input bit over the output.
///
/// `z ^= z >> 30; z *= MIX_MUL_1; z ^= z >> 27; z *= MIX_MUL_2; z ^= z >> 31` (wrapping).
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(MIX_MUL_1);
    z = (z ^ (z >> 27)).wrapping_mul(MIX_MUL_2);
    z ^ (z >> 31)
}

/// The 64 random bits behind [`hash_uniform`]:
/// `mix64(mix64(seed ^ HASH_SEED_KEY) ^ counter.wrapping_mul(GOLDEN_GAMMA))`.
///
/// The inner `mix64` depends only on the seed, so generated code can compute it once per step.
pub fn hash_u64(seed: u64, counter: u64) -> u64 {
    let key = mix64(seed ^ HASH_SEED_KEY);
    mix64(key ^ counter.wrapping_mul(GOLDEN_GAMMA))
}

/// A uniform number in `[0, 1)` that depends only on `(seed, counter)`.
///
/// Exact algorithm (all operations on `u64`, wrapping):
/// 1. `key = mix64(seed ^ HASH_SEED_KEY)`
/// 2. `bits = mix64(key ^ counter * GOLDEN_GAMMA)`
/// 3. result = `(bits >> 40)` converted to `f32` (exact, it is below 2^24), times `2^-24`.
///
/// where `mix64(z)` is `z ^= z >> 30; z *= MIX_MUL_1; z ^= z >> 27; z *= MIX_MUL_2; z ^= z >> 31`.
/// For a fixed seed, distinct counters give distinct `bits` (every step is a bijection).
pub fn hash_uniform(seed: u64, counter: u64) -> f32 {
    (hash_u64(seed, counter) >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
}

/// One step of SplitMix64: advances `state` and returns the next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN_GAMMA);
    mix64(*state)
}

/// A seeded xoshiro256** generator. Cloning it copies the stream position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        // Four consecutive SplitMix64 outputs are never all zero (it is a bijection of its
        // counter), so the xoshiro state is always valid.
        let state = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { state }
    }

    /// The next 64 random bits (xoshiro256**).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform `f32` in `[0, 1)` with 24 random bits (every value is a multiple of 2^-24).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// A uniform `f64` in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform `f32` in `[lo, hi)`; returns `lo` when the range is empty (`hi <= lo`).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        if hi <= lo {
            return lo;
        }
        let value = lo + (hi - lo) * self.next_f32();
        // `lo + (hi - lo) * u` can round up to `hi` itself; keep the interval half-open.
        value.min(hi.next_down())
    }

    /// A standard normal sample (mean 0, variance 1), by Marsaglia's polar method.
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.next_f64() - 1.0;
            let v = 2.0 * self.next_f64() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * portable_ln(s) / s).sqrt();
            }
        }
    }

    /// `n` normal samples with standard deviation `std`, as `f32`. Each
    /// accepted pair of the polar method gives two samples (where
    /// [`Rng::normal`] keeps one): half the logarithms, for initialising
    /// large weight matrices quickly.
    pub fn normals(&mut self, n: usize, std: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + Self::NORMALS_SLACK);
        self.normals_into(&mut out, n, std);
        out
    }

    /// Room beyond `n` that [`Rng::normals_into`] may use before it trims.
    pub const NORMALS_SLACK: usize = 16;

    /// Appends `n` normals to `out`, as [`Rng::normals`] draws them; with
    /// [`Rng::NORMALS_SLACK`] spare capacity it never reallocates.
    pub fn normals_into(&mut self, out: &mut Vec<f32>, n: usize, std: f64) {
        // Candidates are drawn in groups, so that the logarithms of a group
        // are independent and the processor overlaps them.
        const GROUP: usize = 8;
        let end = out.len() + n;
        while out.len() < end {
            let mut u = [0.0f64; GROUP];
            let mut v = [0.0f64; GROUP];
            let mut s = [0.0f64; GROUP];
            for i in 0..GROUP {
                u[i] = 2.0 * self.next_f64() - 1.0;
                v[i] = 2.0 * self.next_f64() - 1.0;
                s[i] = u[i] * u[i] + v[i] * v[i];
            }
            let accepted = s.map(|s| s > 0.0 && s < 1.0);
            let mut f = [0.0f64; GROUP];
            for i in 0..GROUP {
                let si = if accepted[i] { s[i] } else { 0.5 };
                f[i] = (-2.0 * portable_ln(si) / si).sqrt() * std;
            }
            for i in (0..GROUP).filter(|&i| accepted[i]) {
                out.push((u[i] * f[i]) as f32);
                out.push((v[i] * f[i]) as f32);
            }
        }
        out.truncate(end);
    }

    /// A uniform integer in `0..n`, without modulo bias (Lemire's multiply-and-reject method).
    ///
    /// # Panics
    /// If `n == 0`: the range is empty, which is a bug in the caller.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0): cannot draw from an empty range");
        let n = n as u64;
        let mut product = u128::from(self.next_u64()) * u128::from(n);
        if (product as u64) < n {
            // Low words below 2^64 mod n would over-represent some results; redraw them.
            let threshold = n.wrapping_neg() % n;
            while (product as u64) < threshold {
                product = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (product >> 64) as usize
    }

    /// Shuffles `items` uniformly in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// An independent generator derived from this one's state and `stream`, without advancing
    /// this one. Forking the same state with the same stream always gives the same generator,
    /// so e.g. each layer can initialise its weights from `fork(layer_index)` in any order.
    pub fn fork(&self, stream: u64) -> Rng {
        let mut hash = mix64(stream ^ FORK_KEY);
        for word in self.state {
            hash = mix64(hash ^ word).wrapping_add(GOLDEN_GAMMA);
        }
        Rng::new(hash)
    }

    /// A generator with the given raw state, for checking against published test vectors.
    #[cfg(test)]
    fn from_state(state: [u64; 4]) -> Rng {
        Rng { state }
    }
}

/// Natural logarithm of a positive, finite `x`, from IEEE-exact operations only.
///
/// Platform maths libraries may differ in the last bit of `ln`; this one gives the same bits
/// everywhere, which keeps [`Rng::normal`] reproducible across machines.
fn portable_ln(x: f64) -> f64 {
    const MANTISSA_BITS: u64 = (1 << 52) - 1;
    let (mut x, mut exponent_bias) = (x, 0i64);
    if x.to_bits() >> 52 == 0 {
        // Subnormal: scale into the normal range first (2^54 is exact).
        x *= (1u64 << 54) as f64;
        exponent_bias = -54;
    }
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023 + exponent_bias;
    let mut mantissa = f64::from_bits((bits & MANTISSA_BITS) | (1023 << 52));
    if mantissa > std::f64::consts::SQRT_2 {
        mantissa /= 2.0;
        exponent += 1;
    }
    // ln(m) = 2 atanh(s) with s = (m-1)/(m+1), |s| < 0.172: the odd series converges fast.
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    // 1 / (2k + 1) for k = 12 down to 0, written out so no division is left.
    const COEFFICIENTS: [f64; 13] = [
        1.0 / 25.0,
        1.0 / 23.0,
        1.0 / 21.0,
        1.0 / 19.0,
        1.0 / 17.0,
        1.0 / 15.0,
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
        1.0,
    ];
    let mut series = 0.0;
    for c in COEFFICIENTS {
        series = series * s2 + c;
    }
    2.0 * s * series + exponent as f64 * std::f64::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_published_sequence_for_seed_1234567() {
        let mut state = 1_234_567;
        let outputs: Vec<u64> = (0..5).map(|_| splitmix64(&mut state)).collect();
        assert_eq!(
            outputs,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
    }

    #[test]
    fn xoshiro256starstar_matches_reference_from_state_1_2_3_4() {
        let mut rng = Rng::from_state([1, 2, 3, 4]);
        let outputs: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(
            outputs,
            [11_520, 0, 1_509_978_240, 1_215_971_899_390_074_240]
        );
    }

    #[test]
    fn portable_ln_agrees_with_the_platform_logarithm() {
        let mut rng = Rng::new(5);
        let mut samples: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        samples.extend([
            1.0,
            0.5,
            2.0,
            1e-300,
            5e-324,
            1e300,
            std::f64::consts::SQRT_2,
        ]);
        for x in samples.into_iter().filter(|&x| x > 0.0) {
            let (ours, platform) = (portable_ln(x), x.ln());
            let tolerance = 4.0 * f64::EPSILON * platform.abs().max(1.0);
            assert!(
                (ours - platform).abs() <= tolerance,
                "ln({x}): {ours} vs {platform}"
            );
        }
    }

    #[test]
    fn normals_have_mean_zero_and_the_given_spread() {
        let xs = Rng::new(9).normals(200_001, 0.5);
        assert_eq!(xs.len(), 200_001);
        let n = xs.len() as f64;
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        // Standard errors: 0.5 / sqrt(n) = 0.0011 for the mean, about 0.0008 for the variance.
        assert!(mean.abs() < 0.005, "mean {mean}");
        assert!((var - 0.25).abs() < 0.004, "variance {var}");
        // Within one standard deviation: 68.3%.
        let inside = xs.iter().filter(|x| x.abs() < 0.5).count() as f64 / n;
        assert!((inside - 0.6827).abs() < 0.005, "{inside}");
    }

    #[test]
    fn uniform_stays_below_hi_even_when_rounding_would_reach_it() {
        let mut rng = Rng::new(3);
        // A range this narrow makes `lo + (hi - lo) * u` round to `hi` for most draws.
        let (lo, hi) = (1.0f32, 1.0f32.next_up());
        for _ in 0..1000 {
            let value = rng.uniform(lo, hi);
            assert!(value >= lo && value < hi);
        }
        assert_eq!(rng.uniform(2.0, 2.0), 2.0);
    }
}
