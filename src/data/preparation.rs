//! How the samples a model was trained on were prepared, kept with the model
//! so that a new sample is prepared the same way without the training data.
//!
//! ```text
//! a CSV row  --columns by name-->  raw values, in the training order
//!            --scale, standardize (the training part's statistics)-->  the network's input
//! ```
//!
//! A model file stores it as JSON (see [`Preparation::to_json`]); reading it
//! back checks every part, since the file may come from anywhere.

use super::csv::{Table, csv_table};
use super::{DataError, FilePolicy, Standardizer};
use serde_json::{Value, json};
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
    /// `standardize`: the training part's statistics, applied after `scale`.
    pub standardizer: Option<Standardizer>,
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
            standardizer: None,
        }
    }

    /// The name of class `index`.
    pub fn class_name(&self, index: usize) -> String {
        self.classes
            .get(index)
            .cloned()
            .unwrap_or_else(|| index.to_string())
    }

    /// Prepares raw samples (laid out one after another) in place.
    pub fn apply(&self, features: &mut [f32]) {
        if let Some(f) = self.scale {
            features.iter_mut().for_each(|x| *x *= f);
        }
        if let Some(s) = &self.standardizer {
            s.apply_to_values(features);
        }
    }

    /// Reads new samples from a CSV file: the feature columns by name, in any
    /// order (a missing one is an error naming it), every other column kept
    /// as text. Without feature names, every column that is not a target
    /// column is a feature, in file order, and there must be `raw_len` of them.
    pub fn read_inputs(&self, path: &Path, policy: &FilePolicy) -> Result<Inputs, DataError> {
        let Table {
            features,
            samples,
            width,
            passthrough,
        } = csv_table(path, &self.features, &self.target_columns, policy)?;
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

    /// The JSON a model file keeps.
    pub fn to_json(&self) -> String {
        let standardize = self
            .standardizer
            .as_ref()
            .map(|s| json!({ "mean": s.mean, "std": s.std }));
        json!({
            "features": self.features,
            "target_columns": self.target_columns,
            "classes": self.classes,
            "labels_are_names": self.labels_are_names,
            "raw_len": self.raw_len,
            "sample_shape": self.sample_shape,
            "scale": self.scale,
            "standardize": standardize,
        })
        .to_string()
    }

    /// Reads what [`Preparation::to_json`] wrote; `Err` says what is wrong.
    pub fn from_json(text: &str) -> Result<Preparation, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let strings = |key: &str| -> Result<Vec<String>, String> {
            v.get(key)
                .and_then(Value::as_array)
                .ok_or(format!("`{key}` is missing"))?
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or(format!("`{key}` holds something other than names"))
        };
        let floats = |v: &Value, key: &str| -> Result<Vec<f32>, String> {
            v.get(key)
                .and_then(Value::as_array)
                .ok_or(format!("`standardize.{key}` is missing"))?
                .iter()
                .map(|x| x.as_f64().map(|x| x as f32).filter(|x| x.is_finite()))
                .collect::<Option<_>>()
                .ok_or(format!(
                    "`standardize.{key}` holds something other than finite numbers"
                ))
        };
        let raw_len = v
            .get("raw_len")
            .and_then(Value::as_u64)
            .ok_or("`raw_len` is missing")? as usize;
        let sample_shape: Vec<usize> = v
            .get("sample_shape")
            .and_then(Value::as_array)
            .ok_or("`sample_shape` is missing")?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()
            .ok_or("`sample_shape` holds something other than sizes")?;
        if sample_shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            != Some(raw_len)
        {
            return Err(format!(
                "`sample_shape` {sample_shape:?} does not hold `raw_len` {raw_len} values"
            ));
        }
        let features = strings("features")?;
        if !features.is_empty() && features.len() != raw_len {
            return Err(format!(
                "{} feature names for {raw_len} values per sample",
                features.len()
            ));
        }
        let scale = match v.get("scale") {
            None | Some(Value::Null) => None,
            Some(s) => Some(
                s.as_f64()
                    .map(|s| s as f32)
                    .filter(|s| s.is_finite())
                    .ok_or("`scale` is not a finite number")?,
            ),
        };
        let standardizer = match v.get("standardize") {
            None | Some(Value::Null) => None,
            Some(s) => {
                let (mean, std) = (floats(s, "mean")?, floats(s, "std")?);
                if mean.len() != raw_len || std.len() != raw_len {
                    return Err(format!("`standardize` does not hold {raw_len} statistics"));
                }
                if std.iter().any(|&d| d <= 0.0) {
                    return Err("`standardize.std` holds a deviation that is not positive".into());
                }
                Some(Standardizer { mean, std })
            }
        };
        Ok(Preparation {
            features,
            target_columns: strings("target_columns")?,
            classes: strings("classes")?,
            labels_are_names: v
                .get("labels_are_names")
                .and_then(Value::as_bool)
                .ok_or("`labels_are_names` is missing")?,
            raw_len,
            sample_shape,
            scale,
            standardizer,
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

    fn example() -> Preparation {
        Preparation {
            features: vec!["a".into(), "b".into()],
            target_columns: vec!["y".into()],
            classes: vec!["cat".into(), "dog".into()],
            labels_are_names: true,
            raw_len: 2,
            sample_shape: vec![2],
            scale: Some(0.5),
            standardizer: Some(Standardizer {
                mean: vec![1.0, -2.0],
                std: vec![2.0, 0.25],
            }),
        }
    }

    #[test]
    fn json_reads_back_as_written() {
        let p = example();
        assert_eq!(Preparation::from_json(&p.to_json()), Ok(p.clone()));
        let plain = Preparation {
            scale: None,
            standardizer: None,
            features: Vec::new(),
            ..p
        };
        assert_eq!(Preparation::from_json(&plain.to_json()), Ok(plain));
    }

    #[test]
    fn apply_scales_then_standardises() {
        let mut x = [4.0, 1.0, 2.0, 0.0];
        example().apply(&mut x);
        // (4 * 0.5 - 1) / 2, (1 * 0.5 + 2) / 0.25, (2 * 0.5 - 1) / 2, (0 + 2) / 0.25
        assert_eq!(x, [0.5, 10.0, 0.0, 8.0]);
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
        ] {
            assert!(good.contains(from), "{good}");
            let err = Preparation::from_json(&good.replace(from, to)).unwrap_err();
            assert!(err.contains(reason), "{err}");
        }
        assert!(
            Preparation::from_json("{")
                .unwrap_err()
                .starts_with("not JSON")
        );
    }
}
