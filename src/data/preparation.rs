//! How the samples a model was trained on were prepared, kept with the model
//! so that a new sample is prepared the same way without the training data.
//!
//! ```text
//! a CSV row  --columns by name-->  raw values, in the training order (NaN where missing)
//!            --scale, impute, standardize (the training part's statistics)-->  the network's input
//! the network's output  --outputs_to_original (standardize targets)-->  the targets' own units
//! ```
//!
//! A model file stores it as JSON (see [`Preparation::to_json`]); reading it
//! back checks every part, since the file may come from anywhere.

use super::csv::{Table, csv_table};
use super::{DataError, FilePolicy, Imputer, Standardizer};
use std::path::Path;

/// Everything needed to turn a new sample into what the network was trained on.
#[derive(Clone, Debug, PartialEq)]
pub struct Preparation {
    /// The feature columns, in the order of a sample's values; empty when
    /// the training data named none (a generated set, an array file): then
    /// a file's columns are taken in order.
    pub features: Vec<String>,
    /// The column that held the class labels, or the regression targets'.
    pub target_columns: Vec<String>,
    /// One name per class, in class order (`"0"`, `"1"`, ... when the labels
    /// were indices); empty for regression.
    pub classes: Vec<String>,
    /// Whether the training file wrote its labels as the class names.
    pub labels_are_names: bool,
    /// Values per sample as read, and the shape the network takes.
    pub raw_len: usize,
    pub sample_shape: Vec<usize>,
    /// `scale`: every value multiplied by this, first.
    pub scale: Option<f32>,
    /// `impute`: the training part's fill values, applied after `scale`.
    pub imputer: Option<Imputer>,
    /// `standardize`: the training part's statistics, applied after `impute`.
    pub standardizer: Option<Standardizer>,
    /// `standardize targets`: the training part's statistics of each
    /// regression target, which the network learnt to predict standardised.
    pub target_standardizer: Option<Standardizer>,
}

/// New samples read from a file by column name, before preparation.
#[derive(Clone, Debug, PartialEq)]
pub struct Inputs {
    /// `samples * raw_len` values, row-major, in the training order.
    pub features: Vec<f32>,
    pub samples: usize,
    /// The file's other columns, in file order, as text: an `id` column
    /// comes out beside each prediction.
    pub passthrough: Vec<(String, Vec<String>)>,
}

impl Preparation {
    /// A data set's own preparation, when it was handed over ready: its
    /// names, and no scale or statistics.
    pub fn of_dataset(ds: &super::Dataset) -> Preparation {
        let names = ds.names();
        let classes = match ds.classes() {
            Some(_) if !names.classes.is_empty() => names.classes.clone(),
            Some(c) => (0..c).map(|i| i.to_string()).collect(),
            None => Vec::new(),
        };
        Preparation {
            features: names.features.clone(),
            target_columns: names.targets.clone(),
            labels_are_names: !names.classes.is_empty(),
            classes,
            raw_len: ds.sample_len(),
            sample_shape: ds.sample_shape().to_vec(),
            scale: None,
            imputer: None,
            standardizer: None,
            target_standardizer: None,
        }
    }

    /// The name of class `index`.
    pub fn class_name(&self, index: usize) -> String {
        self.classes
            .get(index)
            .cloned()
            .unwrap_or_else(|| index.to_string())
    }

    /// Prepares raw samples (laid out one after another) in place: scale,
    /// fill missing values (NaN), standardise.
    pub fn apply(&self, features: &mut [f32]) {
        if let Some(f) = self.scale {
            features.iter_mut().for_each(|x| *x *= f);
        }
        if let Some(i) = &self.imputer {
            i.apply_to_values(features);
        }
        if let Some(s) = &self.standardizer {
            s.apply_to_values(features);
        }
    }

    /// Turns a regression network's outputs (`width` per sample, row-major)
    /// into the targets' own units, in place: with `standardize targets` the
    /// network predicts standardised targets, and this undoes that with the
    /// training part's statistics. Without it, or when `width` is not the
    /// number of targets (the outputs of a classifier), the values are left
    /// as they are. Regression targets of a prepared data set are in the
    /// same units as the outputs, so this turns them back too.
    pub fn outputs_to_original(&self, outputs: &mut [f32], width: usize) {
        if let Some(s) = &self.target_standardizer
            && s.mean.len() == width
        {
            s.restore_values(outputs);
        }
    }

    /// Whether the network learnt standardised targets, so that its losses
    /// are in standardised units.
    pub fn standardizes_targets(&self) -> bool {
        self.target_standardizer.is_some()
    }

    /// Reads new samples from a CSV file: the feature columns by name, in any
    /// order (a missing one is an error naming it), every other column kept
    /// as text. Without feature names, every column that is not a target
    /// column is a feature, in file order, and there must be `raw_len` of them.
    /// A missing value in a feature is NaN, which [`Preparation::apply`]
    /// fills, when the model was trained with `impute`; otherwise an error.
    pub fn read_inputs(&self, path: &Path, policy: &FilePolicy) -> Result<Inputs, DataError> {
        let Table {
            features,
            samples,
            width,
            passthrough,
        } = csv_table(
            path,
            &self.features,
            &self.target_columns,
            self.imputer.is_some(),
            policy,
        )?;
        if width != self.raw_len {
            return Err(DataError::Content {
                path: path.display().to_string(),
                found: format!("{width} feature columns"),
                expected: format!(
                    "{} feature columns, as the model was trained on (the columns other than {})",
                    self.raw_len,
                    quoted_list(&self.target_columns)
                ),
            });
        }
        Ok(Inputs {
            features,
            samples,
            passthrough,
        })
    }
}

fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "the targets".into();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImputeMethod;

    fn example() -> Preparation {
        Preparation {
            features: vec!["a".into(), "b".into()],
            target_columns: vec!["y".into()],
            classes: vec!["cat".into(), "dog".into()],
            labels_are_names: true,
            raw_len: 2,
            sample_shape: vec![2],
            scale: Some(0.5),
            imputer: Some(Imputer {
                method: ImputeMethod::Median,
                fill: vec![3.0, -1.5],
            }),
            standardizer: Some(Standardizer {
                mean: vec![1.0, -2.0],
                std: vec![2.0, 0.25],
            }),
            target_standardizer: None,
        }
    }

    /// A regression model's: two targets, standardised.
    fn regression() -> Preparation {
        Preparation {
            target_columns: vec!["dx".into(), "dy".into()],
            classes: Vec::new(),
            labels_are_names: false,
            target_standardizer: Some(Standardizer {
                mean: vec![10.0, -1.0],
                std: vec![4.0, 0.5],
            }),
            ..example()
        }
    }

    #[test]
    fn json_reads_back_as_written() {
        let p = example();
        assert_eq!(Preparation::from_json(&p.to_json()), Ok(p.clone()));
        let r = regression();
        assert_eq!(Preparation::from_json(&r.to_json()), Ok(r));
        let plain = Preparation {
            scale: None,
            imputer: None,
            standardizer: None,
            features: Vec::new(),
            ..p
        };
        assert_eq!(Preparation::from_json(&plain.to_json()), Ok(plain.clone()));
        // A model file written before `impute` and `standardize targets`.
        let older = plain
            .to_json()
            .replace(",\"impute\":null", "")
            .replace(",\"standardize_targets\":null", "");
        assert!(
            !older.contains("impute") && !older.contains("targets\""),
            "{older}"
        );
        assert_eq!(Preparation::from_json(&older), Ok(plain));
    }

    #[test]
    fn apply_scales_then_imputes_then_standardises() {
        let mut x = [4.0, 1.0, f32::NAN, f32::NAN];
        example().apply(&mut x);
        // (4 * 0.5 - 1) / 2, (1 * 0.5 + 2) / 0.25; the fill values are
        // already scaled: (3 - 1) / 2, (-1.5 + 2) / 0.25.
        assert_eq!(x, [0.5, 10.0, 1.0, 2.0]);
    }

    #[test]
    fn outputs_return_to_the_targets_units() {
        let mut outputs = [0.0, 0.0, 1.0, -2.0];
        regression().outputs_to_original(&mut outputs, 2);
        assert_eq!(outputs, [10.0, -1.0, 14.0, -2.0]);
        // Not regression outputs of this model: left alone.
        let mut logits = [0.5, 1.5, 2.5];
        regression().outputs_to_original(&mut logits, 3);
        example().outputs_to_original(&mut logits, 3);
        assert_eq!(logits, [0.5, 1.5, 2.5]);
        assert!(regression().standardizes_targets() && !example().standardizes_targets());
    }

    #[test]
    fn damaged_json_is_refused_with_the_reason() {
        let good = example().to_json();
        for (from, to, reason) in [
            (
                "\"raw_len\":2",
                "\"raw_len\":3",
                "does not hold `raw_len` 3",
            ),
            ("\"std\":[2.0,0.25]", "\"std\":[2.0,0.0]", "not positive"),
            (
                "\"scale\":0.5",
                "\"scale\":\"x\"",
                "`scale` is not a finite number",
            ),
            (
                "\"features\":[\"a\",\"b\"]",
                "\"features\":[\"a\"]",
                "1 feature names",
            ),
            (
                "\"method\":\"median\"",
                "\"method\":\"mode\"",
                "`impute.method` is not",
            ),
            (
                "\"fill\":[3.0,-1.5]",
                "\"fill\":[3.0]",
                "`impute.fill` holds 1 values",
            ),
            (
                "\"fill\":[3.0,-1.5]",
                "\"fill\":[3.0,null]",
                "other than finite numbers",
            ),
            (
                "\"standardize_targets\":null",
                "\"standardize_targets\":{\"mean\":[0.0],\"std\":[1.0]}",
                "for classes",
            ),
        ] {
            assert!(good.contains(from), "{good}");
            let err = Preparation::from_json(&good.replace(from, to)).unwrap_err();
            assert!(err.contains(reason), "{err}");
        }
        let targets = regression().to_json();
        let one_of_two = targets.replace(
            "\"mean\":[10.0,-1.0],\"std\":[4.0,0.5]",
            "\"mean\":[10.0],\"std\":[4.0]",
        );
        assert_ne!(one_of_two, targets);
        let err = Preparation::from_json(&one_of_two).unwrap_err();
        assert!(
            err.contains("`standardize_targets` does not hold 2"),
            "{err}"
        );
        assert!(
            Preparation::from_json("{")
                .unwrap_err()
                .starts_with("not JSON")
        );
    }
}
