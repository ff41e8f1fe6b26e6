//! Built-in synthetic data sets: small, seeded and deterministic, for examples, tests and
//! benchmarks that must run without any file. Each generator shuffles its samples at the end
//! so that classes are interleaved.

use super::{DataError, Dataset, MAX_CLASSES, Targets};
use crate::rng::Rng;

/// XOR: 2 inputs, 2 classes (label = a xor b).
///
/// With `points == 4` and `noise == 0` these are exactly the four corners
/// `(0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0` in that order. Otherwise `points` samples spread evenly
/// over the corners, each moved by gaussian noise of standard deviation `noise`, shuffled.
pub fn xor(points: usize, noise: f32, seed: u64) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    const CORNERS: [([f32; 2], u32); 4] =
        [([0., 0.], 0), ([0., 1.], 1), ([1., 0.], 1), ([1., 1.], 0)];
    let mut rng = Rng::new(seed);
    let mut features = Vec::with_capacity(points * 2);
    let mut labels = Vec::with_capacity(points);
    for i in 0..points {
        let (corner, label) = CORNERS[i % 4];
        for coordinate in corner {
            features.push(coordinate + noise * rng.normal() as f32);
        }
        labels.push(label);
    }
    let dataset = classes_dataset(features, vec![2], labels, 2)?;
    if points == 4 && noise == 0.0 {
        return Ok(dataset);
    }
    Ok(shuffled(dataset, &mut rng))
}

/// Interleaved spirals, `classes` arms of `points_per_class` points in 2-D.
///
/// For class `c`: `r = linspace(0, 1, n)`, `t = linspace(4c, 4(c+1), n) + noise * normal()`,
/// sample `i` is `(r_i sin t_i, r_i cos t_i)`. The noise is drawn class by class, point by
/// point; then all samples are shuffled.
pub fn spirals(
    points_per_class: usize,
    classes: usize,
    noise: f32,
    seed: u64,
) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    check_classes(classes, points_per_class)?;
    let mut rng = Rng::new(seed);
    let mut features = Vec::with_capacity(points_per_class * classes * 2);
    let mut labels = Vec::with_capacity(points_per_class * classes);
    for class in 0..classes {
        let radii = linspace(0.0, 1.0, points_per_class);
        let start = class as f64 * 4.0;
        let angles = linspace(start, start + 4.0, points_per_class);
        for (r, t) in radii.into_iter().zip(angles) {
            let t = t + f64::from(noise) * rng.normal();
            features.push((r * t.sin()) as f32);
            features.push((r * t.cos()) as f32);
            labels.push(class as u32);
        }
    }
    let dataset = classes_dataset(features, vec![2], labels, classes)?;
    Ok(shuffled(dataset, &mut rng))
}

/// Two interleaving half circles in 2-D (2 classes), like scikit-learn's `make_moons`:
/// `points / 2` samples on the upper arc `(cos a, sin a)` (class 0) and the rest on the lower
/// arc `(1 - cos a, 0.5 - sin a)` (class 1), `a = linspace(0, π, n)`, plus gaussian noise.
pub fn moons(points: usize, noise: f32, seed: u64) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    let mut rng = Rng::new(seed);
    let upper = points / 2;
    let lower = points - upper;
    let mut features = Vec::with_capacity(points * 2);
    let mut labels = Vec::with_capacity(points);
    for a in linspace(0.0, std::f64::consts::PI, upper) {
        features.extend([a.cos(), a.sin()].map(|x| x as f32));
        labels.push(0);
    }
    for a in linspace(0.0, std::f64::consts::PI, lower) {
        features.extend([1.0 - a.cos(), 0.5 - a.sin()].map(|x| x as f32));
        labels.push(1);
    }
    for value in &mut features {
        *value += noise * rng.normal() as f32;
    }
    let dataset = classes_dataset(features, vec![2], labels, 2)?;
    Ok(shuffled(dataset, &mut rng))
}

/// Gaussian clusters: `classes` centres drawn uniformly in `[-10, 10)^features`, samples
/// assigned to classes in turn (so class sizes differ by at most one), each at its centre
/// plus gaussian noise of standard deviation `spread` per feature.
pub fn blobs(
    points: usize,
    classes: usize,
    features: usize,
    spread: f32,
    seed: u64,
) -> Result<Dataset, DataError> {
    check_noise(spread)?;
    check_classes(classes, points)?;
    if features == 0 {
        return Err(DataError::invalid("number of features", 0, "at least 1"));
    }
    let mut rng = Rng::new(seed);
    let centres: Vec<f32> = (0..classes * features)
        .map(|_| rng.uniform(-10.0, 10.0))
        .collect();
    let mut values = Vec::with_capacity(points * features);
    let mut labels = Vec::with_capacity(points);
    for i in 0..points {
        let class = i % classes;
        for centre in &centres[class * features..(class + 1) * features] {
            values.push(centre + spread * rng.normal() as f32);
        }
        labels.push(class as u32);
    }
    let dataset = classes_dataset(values, vec![features], labels, classes)?;
    Ok(shuffled(dataset, &mut rng))
}

/// Random noise in the shape of an image data set, for benchmarks: features uniform in
/// `[0, 1)`, labels uniform in `0..classes`. Nothing here can be learnt.
pub fn random_images(
    points: usize,
    sample_shape: &[usize],
    classes: usize,
    seed: u64,
) -> Result<Dataset, DataError> {
    check_classes(classes, points)?;
    let sample_len: usize = sample_shape.iter().product();
    let total = points.checked_mul(sample_len).ok_or_else(|| {
        DataError::invalid(
            "image data set size",
            format!("{points} samples of shape {sample_shape:?}"),
            "a size that fits in memory",
        )
    })?;
    let mut rng = Rng::new(seed);
    let features = (0..total).map(|_| rng.next_f32()).collect();
    let labels = (0..points).map(|_| rng.below(classes) as u32).collect();
    classes_dataset(features, sample_shape.to_vec(), labels, classes)
}

/// 1-D regression: `x` uniform in `[-3, 3)`, target `sin(x)` plus gaussian noise of standard
/// deviation `noise`. Sample shape `[1]`, targets of width 1.
pub fn sine(points: usize, noise: f32, seed: u64) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    let mut rng = Rng::new(seed);
    let mut features = Vec::with_capacity(points);
    let mut values = Vec::with_capacity(points);
    for _ in 0..points {
        let x = rng.uniform(-3.0, 3.0);
        features.push(x);
        values.push(x.sin() + noise * rng.normal() as f32);
    }
    Dataset::new(features, vec![1], Targets::Values { values, width: 1 })
}

/// `n` evenly spaced values from `start` to `stop` inclusive, computed like numpy's `linspace`:
/// `start + i * step` with `step = (stop - start) / (n - 1)`, and the last value exactly `stop`.
pub(crate) fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n as f64 - 1.0);
    (0..n)
        .map(|i| {
            if i + 1 == n {
                stop
            } else {
                i as f64 * step + start
            }
        })
        .collect()
}

pub(crate) fn classes_dataset(
    features: Vec<f32>,
    sample_shape: Vec<usize>,
    labels: Vec<u32>,
    classes: usize,
) -> Result<Dataset, DataError> {
    Dataset::new(features, sample_shape, Targets::Classes { labels, classes })
}

/// The data set with its samples in a random order drawn from `rng`.
pub(crate) fn shuffled(dataset: Dataset, rng: &mut Rng) -> Dataset {
    let mut order: Vec<usize> = (0..dataset.len()).collect();
    rng.shuffle(&mut order);
    dataset.select(&order)
}

fn check_noise(noise: f32) -> Result<(), DataError> {
    if noise.is_finite() && noise >= 0.0 {
        Ok(())
    } else {
        Err(DataError::invalid("noise", noise, "a finite number >= 0"))
    }
}

fn check_classes(classes: usize, points: usize) -> Result<(), DataError> {
    if classes == 0 && points > 0 {
        return Err(DataError::invalid("number of classes", 0, "at least 1"));
    }
    if classes > MAX_CLASSES {
        let expected = format!("at most {MAX_CLASSES}");
        return Err(DataError::invalid("number of classes", classes, &expected));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::linspace;

    #[test]
    fn linspace_matches_numpy_values() {
        assert_eq!(linspace(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace(4.0, 8.0, 3), [4.0, 6.0, 8.0]);
        assert_eq!(linspace(0.0, 1.0, 1), [0.0]);
        assert!(linspace(0.0, 1.0, 0).is_empty());
        // numpy multiplies the index by the rounded step: 0.1 * 3 rather than 0.3.
        assert_eq!(linspace(0.0, 1.0, 11)[3], 0.30000000000000004);
    }
}
