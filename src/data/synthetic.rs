//! Built-in synthetic data sets: small, seeded and deterministic, for examples, tests and
//! benchmarks that must run without any file. Each generator shuffles its samples at the end
//! so that classes are interleaved.
//!
//! The sizes come from a program, so each generator checks the memory its data set will
//! take against the limit before it allocates anything.

use super::alloc::{Budget, MemoryLimit, bytes_of};
use super::{DataError, Dataset, MAX_CLASSES, Targets};
use crate::rng::Rng;

/// XOR: 2 inputs, 2 classes (label = a xor b).
///
/// With `points == 4` and `noise == 0` these are exactly the four corners
/// `(0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0` in that order. Otherwise `points` samples spread evenly
/// over the corners, each moved by gaussian noise of standard deviation `noise`, shuffled.
pub fn xor(points: usize, noise: f32, seed: u64, limit: MemoryLimit) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    const CORNERS: [([f32; 2], u32); 4] =
        [([0., 0.], 0), ([0., 1.], 1), ([1., 0.], 1), ([1., 1.], 0)];
    let what = || format!("xor(points: {points})");
    let (mut budget, mut features, mut labels) = class_buffers(Some(points), 2, limit, &what)?;
    let mut rng = Rng::new(seed);
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
    shuffled(dataset, &mut rng, &mut budget, &what)
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
    limit: MemoryLimit,
) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    check_classes(classes, points_per_class)?;
    let what = || format!("spirals(points: {points_per_class}, classes: {classes})");
    let points = points_per_class.checked_mul(classes);
    let (mut budget, mut features, mut labels) = class_buffers(points, 2, limit, &what)?;
    let mut rng = Rng::new(seed);
    let n = points_per_class;
    for class in 0..classes {
        let start = class as f64 * 4.0;
        for i in 0..n {
            let r = linspace_at(0.0, 1.0, n, i);
            let t = linspace_at(start, start + 4.0, n, i) + f64::from(noise) * rng.normal();
            features.push((r * t.sin()) as f32);
            features.push((r * t.cos()) as f32);
            labels.push(class as u32);
        }
    }
    let dataset = classes_dataset(features, vec![2], labels, classes)?;
    shuffled(dataset, &mut rng, &mut budget, &what)
}

/// Two interleaving half circles in 2-D (2 classes), like scikit-learn's `make_moons`:
/// `points / 2` samples on the upper arc `(cos a, sin a)` (class 0) and the rest on the lower
/// arc `(1 - cos a, 0.5 - sin a)` (class 1), `a = linspace(0, π, n)`, plus gaussian noise.
pub fn moons(
    points: usize,
    noise: f32,
    seed: u64,
    limit: MemoryLimit,
) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    let what = || format!("moons(points: {points})");
    let (mut budget, mut features, mut labels) = class_buffers(Some(points), 2, limit, &what)?;
    let mut rng = Rng::new(seed);
    let upper = points / 2;
    let lower = points - upper;
    let pi = std::f64::consts::PI;
    for i in 0..upper {
        let a = linspace_at(0.0, pi, upper, i);
        features.extend([a.cos(), a.sin()].map(|x| x as f32));
        labels.push(0);
    }
    for i in 0..lower {
        let a = linspace_at(0.0, pi, lower, i);
        features.extend([1.0 - a.cos(), 0.5 - a.sin()].map(|x| x as f32));
        labels.push(1);
    }
    for value in &mut features {
        *value += noise * rng.normal() as f32;
    }
    let dataset = classes_dataset(features, vec![2], labels, 2)?;
    shuffled(dataset, &mut rng, &mut budget, &what)
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
    limit: MemoryLimit,
) -> Result<Dataset, DataError> {
    check_noise(spread)?;
    check_classes(classes, points)?;
    if features == 0 {
        return Err(DataError::invalid("number of features", 0, "at least 1"));
    }
    let what = || format!("blobs(points: {points}, classes: {classes}, features: {features})");
    let centre_values = classes.checked_mul(features);
    // The centres are scratch beside the samples: count them in.
    let centre_bytes = centre_values.and_then(bytes_of::<f32>);
    let (mut budget, mut values, mut labels) =
        class_buffers_with(Some(points), features, centre_bytes, limit, &what)?;
    let mut centres = budget.vec(centre_values.unwrap_or(usize::MAX), &what)?;
    let mut rng = Rng::new(seed);
    centres.extend((0..classes * features).map(|_| rng.uniform(-10.0, 10.0)));
    for i in 0..points {
        let class = i % classes;
        for centre in &centres[class * features..(class + 1) * features] {
            values.push(centre + spread * rng.normal() as f32);
        }
        labels.push(class as u32);
    }
    budget.release::<f32>(centres.capacity());
    drop(centres);
    let dataset = classes_dataset(values, vec![features], labels, classes)?;
    shuffled(dataset, &mut rng, &mut budget, &what)
}

/// Random noise in the shape of an image data set, for benchmarks: features uniform in
/// `[0, 1)`, labels uniform in `0..classes`. Nothing here can be learnt.
pub fn random_images(
    points: usize,
    sample_shape: &[usize],
    classes: usize,
    seed: u64,
    limit: MemoryLimit,
) -> Result<Dataset, DataError> {
    check_classes(classes, points)?;
    let what =
        || format!("random_images(points: {points}, shape: {sample_shape:?}, classes: {classes})");
    let sample_len = sample_shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    let Some(sample_len) = sample_len else {
        return Err(Budget::new(limit).check(None, &what).unwrap_err());
    };
    let (_, mut features, mut labels) = class_buffers(Some(points), sample_len, limit, &what)?;
    let mut rng = Rng::new(seed);
    features.extend((0..points * sample_len).map(|_| rng.next_f32()));
    labels.extend((0..points).map(|_| rng.below(classes) as u32));
    classes_dataset(features, sample_shape.to_vec(), labels, classes)
}

/// 1-D regression: `x` uniform in `[-3, 3)`, target `sin(x)` plus gaussian noise of standard
/// deviation `noise`. Sample shape `[1]`, targets of width 1.
pub fn sine(
    points: usize,
    noise: f32,
    seed: u64,
    limit: MemoryLimit,
) -> Result<Dataset, DataError> {
    check_noise(noise)?;
    let what = || format!("sine(points: {points})");
    let mut budget = Budget::new(limit);
    budget.check(
        bytes_of::<f32>(points).and_then(|b| b.checked_mul(2)),
        &what,
    )?;
    let mut features = budget.vec(points, &what)?;
    let mut values = budget.vec(points, &what)?;
    let mut rng = Rng::new(seed);
    for _ in 0..points {
        let x = rng.uniform(-3.0, 3.0);
        features.push(x);
        values.push(x.sin() + noise * rng.normal() as f32);
    }
    Dataset::new(features, vec![1], Targets::Values { values, width: 1 })
}

/// The buffers of a classification set of `points` samples of `sample_len` features, after
/// checking that they and the shuffle after them fit in the limit. `None` points: more than
/// fit in a `usize`.
pub(crate) fn class_buffers(
    points: Option<usize>,
    sample_len: usize,
    limit: MemoryLimit,
    what: &dyn Fn() -> String,
) -> Result<(Budget, Vec<f32>, Vec<u32>), DataError> {
    class_buffers_with(points, sample_len, Some(0), limit, what)
}

/// As [`class_buffers`], with `scratch` more bytes needed on the way.
pub(crate) fn class_buffers_with(
    points: Option<usize>,
    sample_len: usize,
    scratch: Option<u64>,
    limit: MemoryLimit,
    what: &dyn Fn() -> String,
) -> Result<(Budget, Vec<f32>, Vec<u32>), DataError> {
    let mut budget = Budget::new(limit);
    let values = points.and_then(|p| p.checked_mul(sample_len));
    // Features, labels, and the order the samples are shuffled by.
    let per_point = 4 + 8;
    let total = values
        .and_then(bytes_of::<f32>)
        .zip(points.and_then(|p| (p as u64).checked_mul(per_point)))
        .and_then(|(f, rest)| f.checked_add(rest))
        .zip(scratch)
        .and_then(|(t, s)| t.checked_add(s));
    budget.check(total, what)?;
    let features = budget.vec(values.unwrap_or(usize::MAX), what)?;
    let labels = budget.vec(points.unwrap_or(usize::MAX), what)?;
    Ok((budget, features, labels))
}

/// `n` evenly spaced values from `start` to `stop` inclusive, computed like numpy's `linspace`:
/// `start + i * step` with `step = (stop - start) / (n - 1)`, and the last value exactly `stop`.
#[cfg(test)]
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| linspace_at(start, stop, n, i)).collect()
}

/// Value `i` of [`linspace`]`(start, stop, n)`, without the vector.
fn linspace_at(start: f64, stop: f64, n: usize, i: usize) -> f64 {
    if n == 1 {
        return start;
    }
    if i + 1 == n {
        return stop;
    }
    let step = (stop - start) / (n as f64 - 1.0);
    i as f64 * step + start
}

pub(crate) fn classes_dataset(
    features: Vec<f32>,
    sample_shape: Vec<usize>,
    labels: Vec<u32>,
    classes: usize,
) -> Result<Dataset, DataError> {
    Dataset::new(features, sample_shape, Targets::Classes { labels, classes })
}

/// The data set with its samples in a random order drawn from `rng`, shuffled in place.
pub(crate) fn shuffled(
    mut dataset: Dataset,
    rng: &mut Rng,
    budget: &mut Budget,
    what: &dyn Fn() -> String,
) -> Result<Dataset, DataError> {
    let mut order = budget.vec(dataset.len(), what)?;
    order.extend(0..dataset.len());
    rng.shuffle(&mut order);
    dataset.permute(&mut order);
    Ok(dataset)
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
    use super::{MemoryLimit, linspace, spirals};

    #[test]
    fn linspace_matches_numpy_values() {
        assert_eq!(linspace(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace(4.0, 8.0, 3), [4.0, 6.0, 8.0]);
        assert_eq!(linspace(0.0, 1.0, 1), [0.0]);
        assert!(linspace(0.0, 1.0, 0).is_empty());
        // numpy multiplies the index by the rounded step: 0.1 * 3 rather than 0.3.
        assert_eq!(linspace(0.0, 1.0, 11)[3], 0.30000000000000004);
    }

    #[test]
    fn a_set_over_the_limit_is_refused_before_it_is_generated() {
        let message = spirals(1_000_000_000, 3, 0.2, 0, MemoryLimit::bytes(1 << 30))
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "spirals(points: 1000000000, classes: 3) would take 60,000,000,000 bytes (55.9 GiB), \
             more than the 1,073,741,824 bytes (1.0 GiB) the memory limit leaves for data; use \
             fewer or smaller samples, or raise the limit (`dlc --max-memory`, \
             `Limits::max_memory` in the library)"
        );
    }
}
