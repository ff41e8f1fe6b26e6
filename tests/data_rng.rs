//! The seeded generator: reproducibility, distribution statistics, unbiased integers,
//! shuffles, forks and the counter-based hash used for dropout.

use dlc::rng::{Rng, hash_u64, hash_uniform};

const SAMPLES: usize = 200_000;

#[test]
fn the_same_seed_gives_the_same_stream_and_other_seeds_differ() {
    let stream = |seed| {
        let mut rng = Rng::new(seed);
        (0..100).map(|_| rng.next_u64()).collect::<Vec<_>>()
    };
    assert_eq!(stream(7), stream(7));
    assert_ne!(stream(7), stream(8));
    assert_ne!(stream(0), stream(1));
    let mut a = Rng::new(3);
    let mut b = a.clone();
    assert_eq!(a.normal().to_bits(), b.normal().to_bits());
    assert_eq!(a.below(1000), b.below(1000));
}

/// Mean and variance of a sample, in f64.
fn moments(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let values: Vec<f64> = values.collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance)
}

// Bounds below are 5 standard errors of the statistic for SAMPLES draws, so a correct
// generator fails them with probability under 1e-6.

#[test]
fn uniform_floats_have_the_mean_and_variance_of_u_0_1() {
    let mut rng = Rng::new(11);
    let std_error_mean = (1.0 / 12.0 / SAMPLES as f64).sqrt();
    for sample in [
        moments((0..SAMPLES).map(|_| f64::from(rng.next_f32()))),
        moments((0..SAMPLES).map(|_| rng.next_f64())),
    ] {
        let (mean, variance) = sample;
        assert!((mean - 0.5).abs() < 5.0 * std_error_mean, "mean {mean}");
        // Var of the sample variance of U(0,1) is (1/80 - 1/144) / n.
        let std_error_var = ((1.0 / 80.0 - 1.0 / 144.0) / SAMPLES as f64).sqrt();
        assert!(
            (variance - 1.0 / 12.0).abs() < 5.0 * std_error_var,
            "variance {variance}"
        );
    }
    let mut rng = Rng::new(12);
    let draws: Vec<f32> = (0..SAMPLES).map(|_| rng.uniform(-2.0, 6.0)).collect();
    assert!(draws.iter().all(|&x| (-2.0..6.0).contains(&x)));
    let (mean, _) = moments(draws.iter().map(|&x| f64::from(x)));
    assert!(
        (mean - 2.0).abs() < 5.0 * 8.0 * std_error_mean,
        "mean {mean}"
    );
}

#[test]
fn normal_samples_have_mean_0_variance_1_and_gaussian_tails() {
    let mut rng = Rng::new(13);
    let draws: Vec<f64> = (0..SAMPLES).map(|_| rng.normal()).collect();
    let (mean, variance) = moments(draws.iter().copied());
    let n = SAMPLES as f64;
    assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
    assert!(
        (variance - 1.0).abs() < 5.0 * (2.0 / n).sqrt(),
        "variance {variance}"
    );
    // P(|z| < 1) = 0.682689; a uniform or a badly scaled generator misses this.
    let within_one = draws.iter().filter(|z| z.abs() < 1.0).count() as f64 / n;
    let p = 0.682_689_492;
    assert!(
        (within_one - p).abs() < 5.0 * (p * (1.0 - p) / n).sqrt(),
        "{within_one}"
    );
    // Fourth moment of a standard normal is 3.
    let kurtosis = draws.iter().map(|z| z.powi(4)).sum::<f64>() / n;
    assert!(
        (kurtosis - 3.0).abs() < 5.0 * (96.0 / n).sqrt(),
        "kurtosis {kurtosis}"
    );
}

/// Pearson's chi-square statistic of observed counts against equal expected counts.
fn chi_square(counts: &[usize]) -> f64 {
    let total: usize = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

#[test]
fn below_is_uniform_over_small_ranges() {
    let mut rng = Rng::new(14);
    let mut counts = [0usize; 7];
    for _ in 0..70_000 {
        counts[rng.below(7)] += 1;
    }
    // 6 degrees of freedom: P(chi2 > 27.86) = 1e-4.
    assert!(chi_square(&counts) < 27.86, "{counts:?}");
    assert_eq!(Rng::new(1).below(1), 0);
}

#[test]
fn below_has_no_bias_for_huge_ranges() {
    // With n = 3 * 2^62, `x % n` would put half of all draws in the lowest third, and a
    // multiply-shift without rejection (`x * n >> 64`, i.e. floor(3x / 4)) would give the
    // multiples of 3 two preimages each and other values one, so half the draws would be
    // multiples of 3.
    let n = 3usize << 62;
    let mut rng = Rng::new(15);
    let (mut thirds, mut residues) = ([0usize; 3], [0usize; 3]);
    for _ in 0..30_000 {
        let value = rng.below(n);
        assert!(value < n);
        thirds[value / (1usize << 62)] += 1;
        residues[value % 3] += 1;
    }
    // 2 degrees of freedom: P(chi2 > 18.42) = 1e-4.
    assert!(chi_square(&thirds) < 18.42, "{thirds:?}");
    assert!(chi_square(&residues) < 18.42, "{residues:?}");
}

#[test]
fn shuffle_is_a_uniform_permutation() {
    let mut rng = Rng::new(16);
    let mut items: Vec<u32> = (0..1000).collect();
    rng.shuffle(&mut items);
    assert_ne!(items, (0..1000).collect::<Vec<_>>());
    let mut sorted = items.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());

    // Where element 0 lands in a 5-element shuffle must be uniform.
    let mut positions = [0usize; 5];
    for _ in 0..50_000 {
        let mut small = [0, 1, 2, 3, 4];
        rng.shuffle(&mut small);
        positions[small.iter().position(|&x| x == 0).unwrap()] += 1;
    }
    assert!(chi_square(&positions) < 23.51, "{positions:?}"); // 4 dof, p = 1e-4
    rng.shuffle::<u8>(&mut []);
}

#[test]
fn forks_are_reproducible_independent_and_leave_the_parent_alone() {
    let parent = Rng::new(17);
    let before = parent.clone();
    let first = |mut rng: Rng| (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>();
    assert_eq!(first(parent.fork(3)), first(parent.fork(3)));
    assert_ne!(first(parent.fork(3)), first(parent.fork(4)));
    assert_ne!(first(parent.fork(0)), first(parent.clone()));
    assert_eq!(parent, before);
    // A fork depends on the parent's position in its stream.
    let mut advanced = parent.clone();
    advanced.next_u64();
    assert_ne!(first(advanced.fork(3)), first(parent.fork(3)));
}

#[test]
fn hash_uniform_matches_an_independent_evaluation_of_its_documented_algorithm() {
    // Computed with arbitrary-precision integers masked to 64 bits, following the steps in
    // the documentation of `hash_uniform` (the JIT relies on exactly these bits).
    // The value is the top 24 bits over 2^24.
    let cases = [
        (0u64, 0u64, 0x8359_fff6_2713_a185u64, 0x83_59ff),
        (0, 1, 0x8b44_f941_2388_0fba, 0x8b_44f9),
        (42, 7, 0xff65_847c_5118_2b8f, 0xff_6584),
        (u64::MAX, 123_456_789, 0xac12_ddf5_1b90_c450, 0xac_12dd),
    ];
    for (seed, counter, bits, top_bits) in cases {
        let value = top_bits as f32 / 16_777_216.0;
        assert_eq!(hash_u64(seed, counter), bits, "bits of ({seed}, {counter})");
        assert_eq!(
            hash_uniform(seed, counter),
            value,
            "value of ({seed}, {counter})"
        );
    }
}

#[test]
fn hash_uniform_is_uniform_and_seeds_give_unrelated_masks() {
    let values: Vec<f32> = (0..SAMPLES as u64).map(|c| hash_uniform(99, c)).collect();
    assert!(values.iter().all(|&v| (0.0..1.0).contains(&v)));
    let mut buckets = [0usize; 10];
    for v in &values {
        buckets[(v * 10.0) as usize] += 1;
    }
    assert!(chi_square(&buckets) < 33.72, "{buckets:?}"); // 9 dof, p = 1e-4
    // Dropout masks (keep if u < 0.5) for two consecutive seeds agree about half the time.
    let agree = (0..10_000u64)
        .filter(|&c| (hash_uniform(1, c) < 0.5) == (hash_uniform(2, c) < 0.5))
        .count();
    assert!((4_750..5_250).contains(&agree), "{agree}");
}
