//! From a checked data item to data sets in memory: load or generate, then
//! reshape, scale, split, and standardise with the training part's statistics.
//!
//! Files are opened under a [`FilePolicy`], which also limits the memory one
//! data set may take.

use crate::check::{CsvTarget, DataSource, DataSpec, Synthetic, Validation};
use crate::data::{self, CsvOptions, DataError, Dataset, FilePolicy, Standardizer};
use std::path::Path;

/// The training set and, if the program asks for one, the validation set.
pub struct Loaded {
    pub train: Dataset,
    pub validation: Option<Dataset>,
    /// With `standardize`: the training part's statistics, for preparing
    /// new samples the same way.
    pub standardizer: Option<Standardizer>,
}

pub fn load(spec: &DataSpec, policy: &FilePolicy) -> Result<Loaded, DataError> {
    let mut all = source(spec, policy)?;
    prepare(&mut all, spec)?;
    let (mut train, mut validation) = match &spec.validation {
        Validation::None => (all, None),
        Validation::Split(f) => {
            let (t, v) = data::split(&all, *f as f32, spec.seed)?;
            (t, Some(v))
        }
        Validation::Data(other) => {
            let mut v = source(other, policy)?;
            prepare(&mut v, other)?;
            (all, Some(v))
        }
    };
    let standardizer = match spec.standardize {
        true => Some(Standardizer::fit(&train)?),
        false => None,
    };
    if let Some(s) = &standardizer {
        // Statistics from the training part only: the validation set must
        // not leak into what the model sees.
        s.apply(&mut train)?;
        if let Some(v) = &mut validation {
            s.apply(v)?;
        }
    }
    Ok(Loaded {
        train,
        validation,
        standardizer,
    })
}

/// Another file of the same kind as the program's data (a test set, say),
/// prepared exactly as the training data was.
pub fn load_like(
    spec: &DataSpec,
    path: &Path,
    standardizer: Option<&Standardizer>,
    policy: &FilePolicy,
) -> Result<Dataset, DataError> {
    let mut other = spec.clone();
    match &mut other.source {
        DataSource::Csv { path: p, .. } => *p = path.display().to_string(),
        source => {
            return Err(DataError::NotLikeData {
                path: path.display().to_string(),
                data: spec.name.clone(),
                kind: match source {
                    DataSource::Synthetic(s) => {
                        format!("is the built-in `{}` set", synthetic_name(s))
                    }
                    DataSource::Idx { .. } => "is read from a pair of IDX files".into(),
                    _ => "is read from a pair of NPY files".into(),
                },
            });
        }
    }
    let mut ds = source(&other, policy)?;
    prepare(&mut ds, &other)?;
    if let Some(s) = standardizer {
        s.apply(&mut ds)?;
    }
    Ok(ds)
}

/// Scales and standardises raw samples (laid out one after another) as the
/// training data was, for prediction.
pub fn prepare_features(
    spec: &DataSpec,
    standardizer: Option<&Standardizer>,
    features: &mut [f32],
) {
    if let Some(f) = spec.scale {
        features.iter_mut().for_each(|x| *x *= f as f32);
    }
    if let Some(s) = standardizer {
        let width = s.mean.len().max(1);
        for sample in features.chunks_exact_mut(width) {
            for ((x, m), d) in sample.iter_mut().zip(&s.mean).zip(&s.std) {
                *x = (*x - m) / d;
            }
        }
    }
}

fn synthetic_name(s: &Synthetic) -> &'static str {
    match s {
        Synthetic::Xor { .. } => "xor",
        Synthetic::Spirals { .. } => "spirals",
        Synthetic::Moons { .. } => "moons",
        Synthetic::Blobs { .. } => "blobs",
        Synthetic::RandomImages { .. } => "random_images",
        Synthetic::Shapes { .. } => "shapes",
        Synthetic::Sine { .. } => "sine",
    }
}

fn prepare(ds: &mut Dataset, spec: &DataSpec) -> Result<(), DataError> {
    if let Some(shape) = &spec.reshape {
        data::reshape(ds, shape)?;
    }
    if let Some(s) = spec.scale {
        data::scale(ds, s as f32);
    }
    Ok(())
}

fn source(spec: &DataSpec, policy: &FilePolicy) -> Result<Dataset, DataError> {
    let seed = spec.seed;
    let limit = policy.memory_limit();
    match &spec.source {
        DataSource::Synthetic(s) => match s {
            Synthetic::Xor { points, noise } => data::xor(*points, *noise as f32, seed, limit),
            Synthetic::Spirals {
                points,
                classes,
                noise,
            } => data::spirals(*points, *classes, *noise as f32, seed, limit),
            Synthetic::Moons { points, noise } => data::moons(*points, *noise as f32, seed, limit),
            Synthetic::Blobs {
                points,
                classes,
                features,
                spread,
            } => data::blobs(*points, *classes, *features, *spread as f32, seed, limit),
            Synthetic::RandomImages {
                points,
                shape,
                classes,
            } => data::random_images(*points, shape, *classes, seed, limit),
            Synthetic::Shapes { points, size } => data::shapes(*points, *size, seed, limit),
            Synthetic::Sine { points, noise } => data::sine(*points, *noise as f32, seed, limit),
        },
        DataSource::Csv { path, target } => {
            let mut options = match target {
                CsvTarget::Label { column } => CsvOptions::label(column),
                CsvTarget::Values { columns } => {
                    let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
                    CsvOptions::values(&cols)
                }
            };
            if let Some(c) = spec.classes {
                options = options.with_classes(c);
            }
            data::csv(Path::new(path), &options, policy)
        }
        DataSource::Idx { images, labels } => {
            data::idx(Path::new(images), Path::new(labels), spec.classes, policy)
        }
        DataSource::Npy { x, y } => data::npy(Path::new(x), Path::new(y), spec.classes, policy),
    }
}

