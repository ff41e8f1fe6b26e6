//! Data sources: built-in synthetic sets, CSV, IDX and NPY files, splits and batches.
//!
//! This is where a training program's data comes from. A loader or generator produces a
//! [`Dataset`] (features plus class labels or regression targets); transforms scale,
//! standardise, reshape and split it; a [`Batcher`] then copies shuffled mini-batches into the
//! contiguous buffers that the JIT-compiled training step reads.

mod array;
mod batch;
mod csv;
mod csv_reader;
mod error;
mod idx;
mod npy;
mod npy_header;
mod shapes;
mod synthetic;
mod transform;

pub use batch::Batcher;
pub use csv::{CsvOptions, CsvTarget, csv, csv_features};
pub use error::DataError;
pub use idx::idx;
pub use npy::npy;
pub use shapes::{SHAPE_CLASSES, shapes};
pub use synthetic::{blobs, moons, random_images, sine, spirals, xor};
pub use transform::{Standardizer, one_hot, reshape, scale, split};

/// The most classes a classification data set may have. Labels read from files imply the
/// number of classes, and per-class tables are allocated from it, so a corrupt label must not
/// be able to demand billions of them.
pub const MAX_CLASSES: usize = 1 << 20;

/// A data set held in memory: one row of features and one target per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Row-major features, `len() * sample_len()` values.
    pub features: Vec<f32>,
    /// Shape of one sample without the batch dimension: `[2]`, `[64]`, `[1, 8, 8]`.
    pub sample_shape: Vec<usize>,
    /// What the model should predict for each sample.
    pub targets: Targets,
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

    /// The targets of the given samples, in the given order.
    pub fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Classes { labels, classes } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                classes: *classes,
            },
            Targets::Values { values, width } => Targets::Values {
                values: indices
                    .iter()
                    .flat_map(|&i| &values[i * width..(i + 1) * width])
                    .copied()
                    .collect(),
                width: *width,
            },
        }
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
        };
        dataset.validate()?;
        Ok(dataset)
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
                let mut counts = vec![0; *classes];
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

    /// The given samples, in the given order, as a new data set.
    ///
    /// # Panics
    /// If an index is not below `len()`.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let features = indices
            .iter()
            .flat_map(|&i| self.sample(i))
            .copied()
            .collect();
        Dataset {
            features,
            sample_shape: self.sample_shape.clone(),
            targets: self.targets.select(indices),
        }
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
