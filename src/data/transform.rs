//! Transforms applied to a loaded data set before training: scaling, standardisation (fitted
//! on the training part only), reshaping, a seeded train/validation split, one-hot targets.

use super::alloc::{Budget, MemoryLimit};
use super::{DataError, Dataset, Targets};
use crate::rng::Rng;

/// Multiplies every feature by `factor` (e.g. `1.0 / 255.0` for 8-bit pixels).
pub fn scale(dataset: &mut Dataset, factor: f32) {
    for value in &mut dataset.features {
        *value *= factor;
    }
}

/// Per-feature mean and standard deviation, learnt from one data set (the training part) and
/// applied to others, so that validation data never leaks into the statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Mean of each feature position over the samples.
    pub mean: Vec<f32>,
    /// Population standard deviation of each feature position; 1 for constant features, so
    /// that standardising them gives 0 instead of dividing by zero.
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Statistics of each of the `sample_len()` feature positions over all samples
    /// (accumulated in `f64`). An empty data set gives means 0 and deviations 1.
    pub fn fit(dataset: &Dataset) -> Result<Standardizer, DataError> {
        Standardizer::fit_rows(&dataset.features, dataset.sample_len())
    }

    /// The statistics of each of the `width` columns of row-major `values`
    /// (regression targets, say), as [`Standardizer::fit`] computes them.
    pub fn fit_rows(values: &[f32], width: usize) -> Result<Standardizer, DataError> {
        let count = values.len().checked_div(width).unwrap_or(0);
        let what = || format!("the statistics of {width} positions");
        let mut budget = Budget::new(MemoryLimit::NONE);
        let mut sum = budget.filled(width, 0.0f64, &what)?;
        for sample in values.chunks_exact(width.max(1)) {
            for (s, &x) in sum.iter_mut().zip(sample) {
                *s += f64::from(x);
            }
        }
        for s in &mut sum {
            *s /= count.max(1) as f64;
        }
        let mean = sum;
        let mut squares = budget.filled(width, 0.0f64, &what)?;
        for sample in values.chunks_exact(width.max(1)) {
            for ((q, &x), m) in squares.iter_mut().zip(sample).zip(&mean) {
                *q += (f64::from(x) - m).powi(2);
            }
        }
        let mut std = budget.vec(width, &what)?;
        std.extend(squares.iter().zip(&mean).map(|(q, m)| {
            let std = (q / count.max(1) as f64).sqrt();
            // Values that differ only by f32 rounding are constant: scaling that noise up
            // to unit variance would invent a signal.
            let noise_floor = 10.0 * f64::from(f32::EPSILON) * m.abs();
            if std == 0.0 || std <= noise_floor {
                1.0
            } else {
                std as f32
            }
        }));
        drop(squares);
        let mut mean32 = budget.vec(width, &what)?;
        mean32.extend(mean.iter().map(|&m| m as f32));
        Ok(Standardizer { mean: mean32, std })
    }

    /// Replaces each feature `x` by `(x - mean) / std`.
    pub fn apply(&self, dataset: &mut Dataset) -> Result<(), DataError> {
        let width = dataset.sample_len();
        if width != self.mean.len() {
            return Err(DataError::invalid(
                "data set for standardisation",
                format!(
                    "samples of {width} values (shape {:?})",
                    dataset.sample_shape
                ),
                &format!(
                    "samples of {} values, as in the data it was fitted on",
                    self.mean.len()
                ),
            ));
        }
        self.apply_to_values(&mut dataset.features);
        Ok(())
    }

    /// Standardises samples of `mean.len()` values each, laid out one
    /// after another.
    pub fn apply_to_values(&self, features: &mut [f32]) {
        for sample in features.chunks_exact_mut(self.mean.len().max(1)) {
            for ((x, m), s) in sample.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = (*x - m) / s;
            }
        }
    }

    /// Undoes [`Standardizer::apply_to_values`]: `x * std + mean`, for rows
    /// of `mean.len()` values.
    pub fn restore_values(&self, values: &mut [f32]) {
        for row in values.chunks_exact_mut(self.mean.len().max(1)) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = *x * s + m;
            }
        }
    }
}

/// Gives every sample the shape `new_shape`, which must have as many elements as the old one.
pub fn reshape(dataset: &mut Dataset, new_shape: &[usize]) -> Result<(), DataError> {
    let from_len = dataset.sample_len();
    let to_len = new_shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if to_len != Some(from_len) {
        return Err(DataError::Reshape {
            from: dataset.sample_shape.clone(),
            to: new_shape.to_vec(),
            from_len,
            to_len: to_len.unwrap_or(usize::MAX),
        });
    }
    dataset.sample_shape = new_shape.to_vec();
    Ok(())
}

/// Splits into `(train, validation)`, the validation part holding
/// `round(len * validation_fraction)` samples.
///
/// The split is drawn from `seed` alone. For classification it is stratified: each class
/// contributes to the validation part in proportion to its size (largest remainders decide
/// the rounding), so rare classes are not left out by chance. Both parts come out shuffled.
pub fn split(
    dataset: &Dataset,
    validation_fraction: f32,
    seed: u64,
) -> Result<(Dataset, Dataset), DataError> {
    if !(0.0..=1.0).contains(&validation_fraction) {
        return Err(DataError::invalid(
            "validation fraction",
            validation_fraction,
            "a number from 0 to 1",
        ));
    }
    dataset.validate()?;
    let mut rng = Rng::new(seed);
    let total = dataset.len();
    let validation_size = (total as f64 * f64::from(validation_fraction)).round() as usize;
    let what = || format!("the split of {total} samples");
    let mut budget = Budget::new(MemoryLimit::NONE);
    let groups: Vec<Vec<usize>> = match &dataset.targets {
        Targets::Classes { labels, .. } => {
            // One group per class (at most MAX_CLASSES, validated above), each sized exactly.
            let mut groups = Vec::new();
            for count in dataset.class_counts() {
                groups.push(budget.vec(count, &what)?);
            }
            for (index, &label) in labels.iter().enumerate() {
                groups[label as usize].push(index);
            }
            groups
        }
        Targets::Values { .. } => {
            let mut all = budget.vec(total, &what)?;
            all.extend(0..total);
            vec![all]
        }
    };
    let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
    let quotas = proportional_quotas(&sizes, validation_size);
    let mut validation = budget.vec(validation_size.min(total), &what)?;
    let mut train = budget.vec(total - validation_size.min(total), &what)?;
    for (mut group, quota) in groups.into_iter().zip(quotas) {
        rng.shuffle(&mut group);
        validation.extend_from_slice(&group[..quota]);
        train.extend_from_slice(&group[quota..]);
    }
    rng.shuffle(&mut train);
    rng.shuffle(&mut validation);
    Ok((dataset.select(&train)?, dataset.select(&validation)?))
}

/// Splits `wanted` among groups in proportion to their sizes (Hamilton's method): each group
/// gets the whole part of its share, and the remaining units go to the largest fractional
/// parts. The quotas add up to `wanted` when `wanted <= sum(sizes)`, and never exceed a size.
fn proportional_quotas(sizes: &[usize], wanted: usize) -> Vec<usize> {
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return vec![0; sizes.len()];
    }
    // Exact integer arithmetic: share_i = sizes_i * wanted / total.
    let shares: Vec<(u128, u128)> = sizes
        .iter()
        .map(|&n| {
            let product = n as u128 * wanted as u128;
            (product / total as u128, product % total as u128)
        })
        .collect();
    let mut quotas: Vec<usize> = shares.iter().map(|&(whole, _)| whole as usize).collect();
    let left = wanted.saturating_sub(quotas.iter().sum());
    let mut by_remainder: Vec<usize> = (0..sizes.len()).collect();
    by_remainder.sort_by(|&a, &b| shares[b].1.cmp(&shares[a].1).then(a.cmp(&b)));
    for &group in by_remainder.iter().take(left) {
        quotas[group] = (quotas[group] + 1).min(sizes[group]);
    }
    quotas
}

/// Class indices as one-hot rows: `labels.len() * classes` values, row-major.
pub fn one_hot(labels: &[u32], classes: usize) -> Result<Vec<f32>, DataError> {
    let what = || {
        format!(
            "one-hot rows of {} labels and {classes} classes",
            labels.len()
        )
    };
    let len = labels.len().saturating_mul(classes);
    let mut rows = Budget::new(MemoryLimit::NONE).filled(len, 0.0, &what)?;
    for (row, &label) in labels.iter().enumerate() {
        if label as usize >= classes {
            return Err(DataError::LabelOutOfRange {
                origin: String::new(),
                row,
                label: label.into(),
                classes,
            });
        }
        rows[row * classes + label as usize] = 1.0;
    }
    Ok(rows)
}

/// Mean square and variance of regression targets, averaged over columns.
pub fn target_moments(values: &[f32], width: usize) -> (f64, f64) {
    let rows = values.len() / width.max(1);
    if rows == 0 {
        return (0.0, 0.0);
    }
    let (mut ms, mut var) = (0.0, 0.0);
    for c in 0..width {
        let col = values.iter().skip(c).step_by(width).map(|&v| v as f64);
        let (s, s2) = col.fold((0.0, 0.0), |(s, s2), v| (s + v, s2 + v * v));
        let mean = s / rows as f64;
        ms += s2 / rows as f64;
        var += s2 / rows as f64 - mean * mean;
    }
    (ms / width as f64, (var / width as f64).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::proportional_quotas;

    #[test]
    fn quotas_are_proportional_and_add_up() {
        assert_eq!(proportional_quotas(&[50, 50, 50], 30), [10, 10, 10]);
        // 10 of 100: shares 5.0, 3.0, 2.0 exactly.
        assert_eq!(proportional_quotas(&[50, 30, 20], 10), [5, 3, 2]);
        // 2 of 9: shares 0.67, 0.67, 0.67 — ties go to the earlier groups.
        assert_eq!(proportional_quotas(&[3, 3, 3], 2), [1, 1, 0]);
        // shares 1.8 and 0.2: the larger remainder gets the extra unit.
        assert_eq!(proportional_quotas(&[9, 1], 2), [2, 0]);
        assert_eq!(proportional_quotas(&[0, 4], 4), [0, 4]);
        assert_eq!(proportional_quotas(&[], 0), Vec::<usize>::new());
    }
}
