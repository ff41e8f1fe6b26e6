//! From a checked data item to data sets in memory: load or generate, then
//! reshape, scale, split, and, with the training part's statistics only,
//! fill missing values (`impute`), standardise the features and the
//! regression targets (`standardize features, targets`).
//!
//! ```text
//! source --reshape, scale--> all --split--> train, validation
//!   train --fit--> fill values --fill--> train, validation   (impute)
//!   train --fit--> feature statistics --apply--> both        (standardize features)
//!   train --fit--> target statistics --apply--> both         (standardize targets)
//! ```
//!
//! Imputation comes before standardisation, so that the statistics are of
//! the filled data, as the network will see it.
//!
//! Files are opened under a [`FilePolicy`], which also limits the memory one
//! data set may take. Data that cannot train anything is refused here, before
//! training, naming the file or the setting: a file with no sample, a
//! validation fraction that leaves a part empty.

use crate::check::{DataSpec, Validation};
use crate::data::{self, DataError, Dataset, FilePolicy, Imputer, Preparation, Standardizer, Targets};
use std::path::Path;

/// The training set and, if the program asks for one, the validation set.
pub struct Loaded {
    pub train: Dataset,
    pub validation: Option<Dataset>,
    /// What a reader of the run should know about its numbers (that the
    /// losses are of standardised targets), one sentence each.
    pub notes: Vec<String>,
    /// Everything needed to prepare a new sample as these were, which a
    /// model saved after training on them keeps.
    pub preparation: Preparation,
    /// Data that is legal but probably not what was meant (a training set of
    /// a single class), one sentence each.
    pub warnings: Vec<String>,
}

pub fn load(spec: &DataSpec, policy: &FilePolicy) -> Result<Loaded, DataError> {
    let mut all = source(spec, policy)?;
    require_samples(&all, spec)?;
    prepare(&mut all, spec)?;
    let (mut train, mut validation) = match &spec.validation {
        Validation::None => (all, None),
        Validation::Split(f) => {
            require_both_parts(spec, *f, all.len())?;
            let (t, v) = data::split(&all, *f as f32, spec.seed)?;
            (t, Some(v))
        }
        Validation::Data(other) => {
            // Read as the training file was: its columns by name, its class
            // names, its preparation (the checker made `other`'s the same).
            let mut other = (**other).clone();
            let names = all.names();
            let class_names = (!names.classes.is_empty()).then_some(&names.classes[..]);
            other.source.rule_mut().read_like(&names.features, class_names);
            let mut v = source(&other, policy)?;
            require_samples(&v, &other)?;
            prepare(&mut v, &other)?;
            (all, Some(v))
        }
    };
    // Every statistic from the training part only: the validation set must
    // not leak into what the model sees.
    let imputer = match spec.impute {
        Some(method) => Some(Imputer::fit(method, &train).map_err(|e| match e {
            DataError::NothingToImpute {
                feature,
                method,
                samples,
                ..
            } => DataError::NothingToImpute {
                what: describe(spec),
                feature,
                method,
                samples,
            },
            other => other,
        })?),
        None => None,
    };
    if let Some(i) = &imputer {
        on_both(&mut train, &mut validation, |ds| i.apply(ds))?;
    }
    let standardizer = match spec.standardize {
        true => Some(Standardizer::fit(&train)?),
        false => None,
    };
    if let Some(s) = &standardizer {
        on_both(&mut train, &mut validation, |ds| s.apply(ds))?;
    }
    let target_standardizer = match (&train.targets, spec.standardize_targets) {
        (Targets::Values { values, width }, true) => Some(Standardizer::fit_rows(values, *width)?),
        _ => None,
    };
    if let Some(s) = &target_standardizer {
        on_both(&mut train, &mut validation, |ds| {
            standardize_targets(ds, s);
            Ok(())
        })?;
    }
    let warnings = single_class(&train, spec).into_iter().collect();
    let notes = target_standardizer
        .as_ref()
        .map(|_| STANDARDIZED_LOSS_NOTE.to_string())
        .into_iter()
        .collect();
    let mut preparation = preparation_of(spec, &train, standardizer);
    preparation.imputer = imputer;
    preparation.target_standardizer = target_standardizer;
    Ok(Loaded {
        train,
        validation,
        notes,
        preparation,
        warnings,
    })
}

/// What a run with `standardize targets` says about its losses.
pub const STANDARDIZED_LOSS_NOTE: &str = "with `standardize targets` the losses are those of the \
     standardized targets (mean 0, deviation 1 per target in the training part); \
     predictions and `dlc eval`'s MAE, RMSE and R² are in the targets' own units";

/// Standardises a data set's regression targets in place (classes have
/// none to standardise).
/// Applies a step fitted on the training part to both parts alike.
fn on_both(
    train: &mut Dataset,
    validation: &mut Option<Dataset>,
    mut step: impl FnMut(&mut Dataset) -> Result<(), DataError>,
) -> Result<(), DataError> {
    step(train)?;
    validation.as_mut().map_or(Ok(()), step)
}

fn standardize_targets(ds: &mut Dataset, s: &Standardizer) {
    if let Targets::Values { values, .. } = &mut ds.targets {
        s.apply_to_values(values);
    }
}

/// What preparing a new sample as `train`'s were takes: its names, `scale`
/// and the feature statistics (the caller adds the rest of what it fitted).
pub fn preparation_of(
    spec: &DataSpec,
    train: &Dataset,
    standardizer: Option<Standardizer>,
) -> Preparation {
    let mut preparation = Preparation::of_dataset(train);
    preparation.target_columns = spec
        .source
        .rule()
        .target_columns()
        .into_iter()
        .map(str::to_string)
        .collect();
    Preparation {
        scale: spec.scale.map(|s| s as f32),
        standardizer,
        ..preparation
    }
}

/// Another file of the same kind as the program's data (a test set, say),
/// read and prepared exactly as the training data was: its feature columns
/// by name, its class names, its scale, fill values and statistics from
/// `preparation`; its regression targets standardised as the training
/// targets were, so that its loss is in the units the training's was
/// ([`Preparation::outputs_to_original`] turns them back).
pub fn load_like(
    spec: &DataSpec,
    path: &Path,
    preparation: &Preparation,
    policy: &FilePolicy,
) -> Result<Dataset, DataError> {
    let mut other = spec.clone();
    let rule = other.source.rule_mut();
    if let Err(kind) = rule.read_instead(&path.display().to_string()) {
        return Err(DataError::NotLikeData {
            path: path.display().to_string(),
            data: spec.name.clone(),
            kind,
        });
    }
    let class_names = preparation
        .labels_are_names
        .then_some(&preparation.classes[..]);
    rule.read_like(&preparation.features, class_names);
    if preparation.imputer.is_some() {
        rule.keep_missing();
    }
    let mut ds = source(&other, policy)?;
    require_samples(&ds, &other)?;
    if let Some(shape) = &spec.reshape {
        data::reshape(&mut ds, shape)?;
    }
    let (mut features, shape, targets) = ds.into_parts();
    preparation.apply(&mut features);
    let mut ds = Dataset::new(features, shape, targets)?;
    if let Some(s) = &preparation.target_standardizer {
        if ds.targets.target_len() != s.mean.len() {
            return Err(DataError::Content {
                path: path.display().to_string(),
                found: format!("{} targets per row", ds.targets.target_len()),
                expected: format!("{}, as the model was trained on", s.mean.len()),
            });
        }
        standardize_targets(&mut ds, s);
    }
    Ok(ds)
}

/// `data d (o.csv)`: the data item, and its files.
fn describe(spec: &DataSpec) -> String {
    let files = spec.source.rule().files();
    if files.is_empty() {
        format!("data `{}`", spec.name)
    } else {
        format!("data `{}` ({})", spec.name, files.join(", "))
    }
}

/// A data set to train or validate on needs samples: a CSV file of only a
/// header, an NPY array of shape (0, 4), would otherwise "train" on nothing.
fn require_samples(ds: &Dataset, spec: &DataSpec) -> Result<(), DataError> {
    if !ds.is_empty() {
        return Ok(());
    }
    let detail = spec.source.rule().empty_detail();
    Err(DataError::NoSamples {
        what: describe(spec),
        detail: detail.to_string(),
    })
}

/// `validation F` must leave samples on both sides of the split. The
/// checker refuses this for the built-in sets, whose size it knows; a file's
/// size is known only now.
fn require_both_parts(spec: &DataSpec, fraction: f64, total: usize) -> Result<(), DataError> {
    // As `data::split` rounds it.
    let validation = (total as f64 * f64::from(fraction as f32)).round() as usize;
    let part = if validation >= total {
        "the training part"
    } else if validation == 0 {
        "the validation part"
    } else {
        return Ok(());
    };
    Err(DataError::EmptySplit {
        what: describe(spec),
        fraction,
        total,
        part: part.to_string(),
    })
}

/// A warning when every training sample has the same class: there is
/// nothing to tell apart, and the loss says nothing about the inputs.
fn single_class(train: &Dataset, spec: &DataSpec) -> Option<String> {
    let counts = train.class_counts();
    let mut present = counts.iter().enumerate().filter(|(_, n)| **n > 0);
    let (class, &count) = present.next()?;
    if present.next().is_some() {
        return None;
    }
    let part = match spec.validation {
        Validation::Split(_) => "the training part of ",
        _ => "",
    };
    Some(format!(
        "{part}{} holds a single class: all {count} training samples are of class {class}, \
         so there is nothing to tell apart and the training loss means little; \
         check the labels{}",
        describe(spec),
        match spec.validation {
            Validation::Split(_) => ", or use a smaller validation fraction",
            _ => "",
        }
    ))
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

/// The raw samples; with `impute`, a missing feature is NaN until filled.
fn source(spec: &DataSpec, policy: &FilePolicy) -> Result<Dataset, DataError> {
    if spec.impute.is_some() {
        let mut source = spec.source.clone();
        source.rule_mut().keep_missing();
        return source.rule().load(spec.seed, policy);
    }
    spec.source.rule().load(spec.seed, policy)
}

/// Why data with more classes than a network can tell apart (`outputs`: its outputs, or 2
/// for a single logit) cannot train it: the label that is out of range, with its file,
/// row and value when the classes were counted from a file's labels.
pub fn too_many_classes(ds: &Dataset, what: &str, network: &str, outputs: usize) -> String {
    let classes = ds.classes().unwrap_or(0);
    let range = format!(
        "network `{network}`, which tells {outputs} classes apart (labels 0..={})",
        outputs.saturating_sub(1)
    );
    let fix = format!(
        "correct the label, or, if there really are {classes} classes, end the network with `dense {classes}`"
    );
    if let Some(site) = &ds.classes_from {
        return format!(
            "{}: label {} in row {} is out of range for {range}\nnote: the {what} data's {classes} classes are counted from its largest label\nhelp: {fix}",
            site.origin, site.label, site.row
        );
    }
    let first = match &ds.targets {
        data::Targets::Classes { labels, .. } => labels
            .iter()
            .position(|&l| l as usize >= outputs)
            .map(|i| (i, labels[i])),
        data::Targets::Values { .. } => None,
    };
    match first {
        Some((row, label)) => format!(
            "the {what} data has {classes} classes: label {label} of sample {row} is out of range for {range}\nhelp: {fix}"
        ),
        None => format!(
            "the {what} data has {classes} classes, but {range}\nhelp: end the network with `dense {classes}`"
        ),
    }
}
