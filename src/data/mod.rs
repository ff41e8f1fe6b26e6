//! Data sources: built-in synthetic sets, CSV, IDX and NPY files, splits and batches.
//!
//! This is where a training program's data comes from. A loader or generator produces a
//! [`Dataset`] (features plus class labels or regression targets); transforms scale,
//! standardise, reshape and split it; a [`Batcher`] then copies shuffled mini-batches into the
//! contiguous buffers that the JIT-compiled training step reads.

mod alloc;
mod array;
mod batch;
mod csv;
mod csv_reader;
mod error;
mod files;
mod idx;
mod labels;
mod missing;
mod npy;
mod npy_header;
mod preparation;
mod preparation_json;
mod shapes;
mod synthetic;
mod transform;

pub use alloc::MemoryLimit;
pub use batch::Batcher;
pub use csv::{CsvOptions, CsvTarget, csv};
pub use error::{DataError, io_reason};
pub use files::{FileAccess, FilePolicy, OpenedFile};
pub use idx::idx;
pub use missing::{ImputeMethod, Imputer, MISSING_MARKERS, MissingCell, MissingHelp, is_missing};
pub use npy::{npy, npy_with_missing};
pub use preparation::{Inputs, Preparation};
pub use shapes::{SHAPE_CLASSES, shapes};
pub use synthetic::{blobs, moons, random_images, sine, spirals, xor};
pub use transform::{Standardizer, one_hot, reshape, scale, split, target_moments};

use alloc::Budget;

/// The most classes a classification data set may have. Labels read from files imply the
/// number of classes, and per-class tables are allocated from it, so a corrupt label must not
/// be able to demand billions of them.
pub const MAX_CLASSES: usize = 1 << 20;

/// A data set held in memory: one row of features and one target per sample.
///
/// Two data sets are equal when their samples and targets are; where they came from
/// ([`Dataset::classes_from`]) does not count.
#[derive(Clone, Debug)]
pub struct Dataset {
    // Private to the crate so that the three always agree: `features` holds
    // `len() * sample_len()` values and `targets` one target per sample
    // ([`Dataset::new`] checks it).
    pub(crate) features: Vec<f32>,
    pub(crate) sample_shape: Vec<usize>,
    pub(crate) targets: Targets,
    pub(crate) classes_from: Option<LabelSite>,
    pub(crate) names: Names,
}

/// What the columns of a data set read from a file were called. Each list
/// is empty when the source names nothing (a generated set, an array file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// One per feature value, in the order of a sample's values.
    pub features: Vec<String>,
    /// The class names, in the order of the class indices: the labels of a
    /// CSV file written as names (`"setosa"`).
    pub classes: Vec<String>,
    /// The regression targets, in order.
    pub targets: Vec<String>,
}

impl PartialEq for Dataset {
    fn eq(&self, other: &Dataset) -> bool {
        self.features == other.features
            && self.sample_shape == other.sample_shape
            && self.targets == other.targets
    }
}

/// A class label in a file: the file as the program named it, with the line and column
/// where known (`labels.csv:5:3`), the sample's 0-based row, and the label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSite {
    pub origin: String,
    pub row: usize,
    pub label: u32,
}

impl std::fmt::Display for LabelSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: label {} in row {}",
            self.origin, self.label, self.row
        )
    }
}

/// The targets of a data set.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Classification: one class index per sample, each `< classes`.
    Classes { labels: Vec<u32>, classes: usize },
    /// Regression: `width` values per sample, row-major.
    Values { values: Vec<f32>, width: usize },
}

impl Targets {
    /// Number of samples the targets describe.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Values { values, width } => values.len().checked_div(*width).unwrap_or(0),
        }
    }

    /// True when there are no targets.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of `f32` values one sample's target takes in a batch buffer: 1 for a class
    /// index, `width` for regression values.
    pub fn target_len(&self) -> usize {
        match self {
            Targets::Classes { .. } => 1,
            Targets::Values { width, .. } => *width,
        }
    }

    /// The number of classes, or `None` for regression targets.
    pub fn classes(&self) -> Option<usize> {
        match self {
            Targets::Classes { classes, .. } => Some(*classes),
            Targets::Values { .. } => None,
        }
    }

    /// Writes sample `index`'s target into `out` (`target_len()` values): the class index as
    /// `f32`, or the regression values.
    ///
    /// # Panics
    /// If `index` is not below `len()` or `out` does not hold exactly `target_len()` values.
    pub fn write_target(&self, index: usize, out: &mut [f32]) {
        match self {
            Targets::Classes { labels, .. } => out[0] = labels[index] as f32,
            Targets::Values { values, width } => {
                out.copy_from_slice(&values[index * width..(index + 1) * width]);
            }
        }
    }

    /// The targets of the given samples, in the given order; an error when there is not the
    /// memory for the copy.
    ///
    /// # Panics
    /// If an index is not below `len()`.
    pub fn select(&self, indices: &[usize]) -> Result<Targets, DataError> {
        let what = || format!("the targets of {} samples", indices.len());
        let mut budget = Budget::new(MemoryLimit::NONE);
        Ok(match self {
            Targets::Classes { labels, classes } => {
                let mut selected = budget.vec(indices.len(), &what)?;
                selected.extend(indices.iter().map(|&i| labels[i]));
                Targets::Classes {
                    labels: selected,
                    classes: *classes,
                }
            }
            Targets::Values { values, width } => {
                let len = indices.len().saturating_mul(*width);
                let mut selected = budget.vec(len, &what)?;
                for &i in indices {
                    selected.extend_from_slice(&values[i * width..(i + 1) * width]);
                }
                Targets::Values {
                    values: selected,
                    width: *width,
                }
            }
        })
    }

    /// Classification targets as one-hot rows (`len() * classes` values); regression values
    /// are returned unchanged.
    pub fn to_one_hot(&self) -> Result<Targets, DataError> {
        match self {
            Targets::Classes { labels, classes } => Ok(Targets::Values {
                values: one_hot(labels, *classes)?,
                width: *classes,
            }),
            values @ Targets::Values { .. } => Ok(values.clone()),
        }
    }
}

impl Dataset {
    /// A data set after checking that its parts fit together (see [`Dataset::validate`]).
    pub fn new(
        features: Vec<f32>,
        sample_shape: Vec<usize>,
        targets: Targets,
    ) -> Result<Dataset, DataError> {
        let dataset = Dataset {
            features,
            sample_shape,
            targets,
            classes_from: None,
            names: Names::default(),
        };
        dataset.validate()?;
        Ok(dataset)
    }

    /// Row-major features, `len() * sample_len()` values.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// Shape of one sample without the batch dimension: `[2]`, `[64]`, `[1, 8, 8]`.
    pub fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    /// What the model should predict for each sample.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// When the number of classes was counted from a file's labels (the
    /// largest plus one): where that largest label is. A data set split from
    /// this one keeps it.
    pub fn classes_from(&self) -> Option<&LabelSite> {
        self.classes_from.as_ref()
    }

    /// What its columns were called in the file it was read from.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The same data set with its columns named (see [`Names`]): the names
    /// a model trained on it keeps, to read new samples by column name.
    pub fn with_names(mut self, names: Names) -> Dataset {
        self.names = names;
        self
    }

    /// The features, the sample shape and the targets, taken apart.
    pub fn into_parts(self) -> (Vec<f32>, Vec<usize>, Targets) {
        (self.features, self.sample_shape, self.targets)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when the data set has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of feature values in one sample (the product of `sample_shape`).
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// The features of sample `index`.
    ///
    /// # Panics
    /// If `index` is not below `len()`.
    pub fn sample(&self, index: usize) -> &[f32] {
        let n = self.sample_len();
        &self.features[index * n..(index + 1) * n]
    }

    /// The number of classes, or `None` for a regression data set.
    pub fn classes(&self) -> Option<usize> {
        self.targets.classes()
    }

    /// How many samples each class has (empty for regression).
    pub fn class_counts(&self) -> Vec<usize> {
        match &self.targets {
            Targets::Classes { labels, classes } => {
                // At most MAX_CLASSES counters once validated: a few megabytes.
                let mut counts = vec![0; (*classes).min(MAX_CLASSES)];
                for &label in labels {
                    if let Some(count) = counts.get_mut(label as usize) {
                        *count += 1;
                    }
                }
                counts
            }
            Targets::Values { .. } => Vec::new(),
        }
    }

    /// The given samples, in the given order, as a new data set; an error when there is not
    /// the memory for the copy.
    ///
    /// # Panics
    /// If an index is not below `len()`.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset, DataError> {
        let what = || {
            format!(
                "a copy of {} samples of shape {:?}",
                indices.len(),
                self.sample_shape
            )
        };
        let len = indices.len().checked_mul(self.sample_len());
        let mut features = Budget::new(MemoryLimit::NONE).vec(len.unwrap_or(usize::MAX), &what)?;
        for &i in indices {
            features.extend_from_slice(self.sample(i));
        }
        Ok(Dataset {
            features,
            sample_shape: self.sample_shape.clone(),
            targets: self.targets.select(indices)?,
            classes_from: self.classes_from.clone(),
            names: self.names.clone(),
        })
    }

    /// Puts the samples in the given order without copying the data set: sample `k` becomes
    /// the one that was at `order[k]`. `order` must be a permutation of `0..len()`.
    pub(crate) fn permute(&mut self, order: &mut [usize]) {
        debug_assert_eq!(order.len(), self.len());
        let sample_len = self.sample_len();
        match &mut self.targets {
            Targets::Classes { labels, .. } => permute_rows(labels, 1, order),
            Targets::Values { values, width } => permute_rows(values, *width, order),
        }
        permute_rows(&mut self.features, sample_len, order);
    }

    /// Checks that the features hold `len() * sample_len()` values, that regression values are
    /// whole rows of `width`, and that every label is below the number of classes.
    pub fn validate(&self) -> Result<(), DataError> {
        let expected = self.len().checked_mul(self.sample_len());
        if expected != Some(self.features.len()) {
            return Err(DataError::Inconsistent(format!(
                "the features hold {} values, but {} samples of shape {:?} need {}",
                self.features.len(),
                self.len(),
                self.sample_shape,
                expected.map_or("more than fit in memory".to_string(), |n| n.to_string()),
            )));
        }
        match &self.targets {
            Targets::Values { values, width } => {
                if *width == 0 || values.len() % width != 0 {
                    return Err(DataError::Inconsistent(format!(
                        "{} regression values do not form rows of width {width}",
                        values.len()
                    )));
                }
            }
            Targets::Classes { labels, classes } => {
                if *classes > MAX_CLASSES {
                    return Err(DataError::Inconsistent(format!(
                        "{classes} classes; at most {MAX_CLASSES} are supported"
                    )));
                }
                if let Some(row) = labels.iter().position(|&l| l as usize >= *classes) {
                    return Err(DataError::LabelOutOfRange {
                        origin: String::new(),
                        row,
                        label: i128::from(labels[row]),
                        classes: *classes,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Applies `order` to the rows of `values` in place, cycle by cycle: row `k` becomes the old
/// row `order[k]`. `order` is marked while the rows move and restored at the end.
fn permute_rows<T: Copy>(values: &mut [T], row_len: usize, order: &mut [usize]) {
    // Indices never reach the top bit (a slice holds fewer than isize::MAX elements).
    const MOVED: usize = 1 << (usize::BITS - 1);
    if row_len == 0 {
        return;
    }
    let mut scratch = Vec::with_capacity(row_len);
    for start in 0..order.len() {
        if order[start] & MOVED != 0 || order[start] == start {
            continue;
        }
        scratch.clear();
        scratch.extend_from_slice(&values[start * row_len..(start + 1) * row_len]);
        let mut k = start;
        loop {
            let from = order[k] & !MOVED;
            order[k] |= MOVED;
            if from == start {
                values[k * row_len..(k + 1) * row_len].copy_from_slice(&scratch);
                break;
            }
            values.copy_within(from * row_len..(from + 1) * row_len, k * row_len);
            k = from;
        }
    }
    for o in order.iter_mut() {
        *o &= !MOVED;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permuting_in_place_gives_what_selecting_gives() {
        let data = Dataset::new(
            (0..12).map(|v| v as f32).collect(),
            vec![2],
            Targets::Classes {
                labels: vec![0, 1, 2, 0, 1, 2],
                classes: 3,
            },
        )
        .unwrap();
        for order in [
            [0, 1, 2, 3, 4, 5],
            [5, 4, 3, 2, 1, 0],
            [1, 2, 0, 4, 5, 3],
            [3, 0, 5, 1, 2, 4],
        ] {
            let mut permuted = data.clone();
            let mut scratch_order = order;
            permuted.permute(&mut scratch_order);
            assert_eq!(permuted, data.select(&order).unwrap(), "{order:?}");
            assert_eq!(scratch_order, order, "the order is restored");
        }
    }
}
