//! Missing values: which cells count as missing, and `impute`, which fills
//! missing features with a statistic of the training part.
//!
//! ```text
//! a cell "", "NA", "N/A", "NaN", "null" or "?"  (any case, spaces around ignored)
//!   without `impute`:  an error at the file, line and column
//!   with `impute`:     NaN while loading, then, after the split and `scale`,
//!                      the training part's mean, median or 0 of its feature position
//! ```
//!
//! A missing label or regression target is always an error: there is no
//! honest value to fill it with. The fill values are kept with a trained
//! model ([`super::Preparation`]) so that new samples are filled the same
//! way without the training data.

use super::alloc::{Budget, MemoryLimit};
use super::{DataError, Dataset};

/// The texts of a cell that holds no value, compared ignoring case after
/// trimming spaces; the empty cell is missing too. These are what
/// spreadsheets, R, pandas and the UCI repository write for a missing value.
pub const MISSING_MARKERS: &[&str] = &["NA", "N/A", "NaN", "null", "?"];

/// Whether a cell's text stands for a missing value (see [`MISSING_MARKERS`]).
pub fn is_missing(text: &str) -> bool {
    let text = text.trim();
    text.is_empty() || MISSING_MARKERS.iter().any(|m| m.eq_ignore_ascii_case(text))
}

/// What a missing value is filled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImputeMethod {
    /// The mean of the position's present values in the training part.
    Mean,
    /// Their median (the mean of the two middle values of an even count).
    Median,
    /// Zero, whatever the data.
    Zero,
}

impl ImputeMethod {
    /// Every method, by the name a program writes it.
    pub const ALL: [(&'static str, ImputeMethod); 3] = [
        ("mean", ImputeMethod::Mean),
        ("median", ImputeMethod::Median),
        ("zero", ImputeMethod::Zero),
    ];

    /// The name a program writes it by: `mean`, `median`, `zero`.
    pub fn keyword(self) -> &'static str {
        match self {
            ImputeMethod::Mean => "mean",
            ImputeMethod::Median => "median",
            ImputeMethod::Zero => "zero",
        }
    }

    /// The method named `keyword`.
    pub fn from_keyword(keyword: &str) -> Option<ImputeMethod> {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == keyword)
            .map(|(_, m)| *m)
    }
}

/// Why a missing value cannot be filled, for the help line of its error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingHelp {
    /// A feature of a data item without `impute`.
    Feature,
    /// A label or regression target: never filled.
    Target,
    /// A feature of a new sample for a model trained without `impute`.
    Model,
}

impl std::fmt::Display for MissingHelp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MissingHelp::Feature => {
                "fill the value in, or add `impute mean`, `impute median` or `impute zero` \
                 to the data item to fill missing features from the training part"
            }
            MissingHelp::Target => {
                "a missing label or target cannot be imputed: fill it in, or remove the row"
            }
            MissingHelp::Model => {
                "the model was trained without `impute`, so it has nothing to fill a missing \
                 feature with: fill the value in, or train with `impute` in the data item"
            }
        })
    }
}

/// Where a missing value is that cannot be, for [`DataError::MissingValue`].
#[derive(Clone, Debug, PartialEq)]
pub struct MissingCell {
    /// The file as the program named it.
    pub path: String,
    /// 1-based, as an editor counts.
    pub line: usize,
    pub column: usize,
    /// The header's name of its column.
    pub column_name: String,
    /// "an empty field", or the marker as written (`"NA"`).
    pub found: String,
    pub help: MissingHelp,
}

impl std::fmt::Display for MissingCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: missing value in column \"{}\": found {}\nhelp: {}",
            self.path,
            self.line,
            self.column,
            super::error::excerpt(&self.column_name, 40),
            self.found,
            self.help
        )
    }
}

/// One fill value per feature position, learnt from the training part.
#[derive(Clone, Debug, PartialEq)]
pub struct Imputer {
    pub method: ImputeMethod,
    /// The value that replaces a missing value, per position of a sample.
    pub fill: Vec<f32>,
}

impl Imputer {
    /// The fill values of each position from the present (not NaN) values
    /// of `dataset` (accumulated in `f64`). A position with no present value
    /// cannot be filled by `mean` or `median`: an error naming its column.
    pub fn fit(method: ImputeMethod, dataset: &Dataset) -> Result<Imputer, DataError> {
        let width = dataset.sample_len();
        let what = || format!("the fill values of {width} feature positions");
        let mut budget = Budget::new(MemoryLimit::NONE);
        let mut fill = budget.filled(width, 0.0f32, &what)?;
        if method == ImputeMethod::Zero {
            return Ok(Imputer { method, fill });
        }
        let mut present = budget.vec(dataset.len(), &|| {
            format!("the values of one feature of {} samples", dataset.len())
        })?;
        for (position, value) in fill.iter_mut().enumerate() {
            present.clear();
            let column = dataset.features.iter().skip(position).step_by(width.max(1));
            present.extend(column.copied().filter(|x| !x.is_nan()));
            *value = match method {
                ImputeMethod::Mean => mean(&present),
                ImputeMethod::Median => median(&mut present),
                ImputeMethod::Zero => Some(0.0),
            }
            .ok_or_else(|| DataError::NothingToImpute {
                what: "the data set".into(),
                feature: feature_name(dataset, position),
                method: method.keyword().to_string(),
                samples: dataset.len(),
            })?;
        }
        Ok(Imputer { method, fill })
    }

    /// Fills the missing (NaN) features of a data set.
    pub fn apply(&self, dataset: &mut Dataset) -> Result<(), DataError> {
        let width = dataset.sample_len();
        if width != self.fill.len() {
            return Err(DataError::invalid(
                "data set to impute",
                format!("samples of {width} values"),
                &format!(
                    "samples of {} values, as in the data it was fitted on",
                    self.fill.len()
                ),
            ));
        }
        self.apply_to_values(&mut dataset.features);
        Ok(())
    }

    /// Fills the NaN values of samples of `fill.len()` values each, laid out
    /// one after another.
    pub fn apply_to_values(&self, features: &mut [f32]) {
        for sample in features.chunks_exact_mut(self.fill.len().max(1)) {
            for (x, &fill) in sample.iter_mut().zip(&self.fill) {
                if x.is_nan() {
                    *x = fill;
                }
            }
        }
    }
}

/// How an error names feature `position`: its column, or its position.
fn feature_name(dataset: &Dataset, position: usize) -> String {
    match dataset.names.features.get(position) {
        Some(name) => format!("column \"{}\"", super::error::excerpt(name, 40)),
        None => format!("feature position {position}"),
    }
}

fn mean(values: &[f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let sum: f64 = values.iter().map(|&x| f64::from(x)).sum();
    Some((sum / values.len() as f64) as f32)
}

/// The median; `values` comes back sorted.
fn median(values: &mut [f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    // No NaN is left, so the order is total.
    values.sort_unstable_by(f32::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        ((f64::from(values[middle - 1]) + f64::from(values[middle])) / 2.0) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Targets;

    fn data(features: Vec<f32>) -> Dataset {
        let n = features.len() / 2;
        Dataset::new(
            features,
            vec![2],
            Targets::Values {
                values: vec![0.0; n],
                width: 1,
            },
        )
        .unwrap()
    }

    #[test]
    fn the_markers_are_recognised_in_any_case_and_nothing_else_is() {
        for text in ["", "  ", "NA", "na", " n/a ", "NaN", "nan", "NULL", "?"] {
            assert!(is_missing(text), "{text:?}");
        }
        for text in ["0", "none", "-", "nana", "inf", "1e3"] {
            assert!(!is_missing(text), "{text:?}");
        }
    }

    #[test]
    fn fill_values_are_statistics_of_the_present_values() {
        let nan = f32::NAN;
        let ds = data(vec![1.0, nan, 2.0, 10.0, nan, 20.0, 9.0, 40.0]);
        let fill = |m| Imputer::fit(m, &ds).unwrap().fill;
        assert_eq!(fill(ImputeMethod::Mean), [4.0, 70.0 / 3.0]);
        assert_eq!(fill(ImputeMethod::Median), [2.0, 20.0]);
        assert_eq!(fill(ImputeMethod::Zero), [0.0, 0.0]);
        let even = data(vec![1.0, 0.0, 4.0, 0.0, nan, 0.0, 2.0, 0.0, 8.0, 0.0]);
        assert_eq!(
            Imputer::fit(ImputeMethod::Median, &even).unwrap().fill[0],
            3.0
        );
    }

    #[test]
    fn only_missing_values_are_filled() {
        let mut ds = data(vec![1.0, f32::NAN, f32::NAN, 3.0]);
        let imputer = Imputer {
            method: ImputeMethod::Mean,
            fill: vec![7.0, 8.0],
        };
        imputer.apply(&mut ds).unwrap();
        assert_eq!(ds.features(), [1.0, 8.0, 7.0, 3.0]);
    }

    #[test]
    fn a_position_with_no_value_cannot_be_filled_from_statistics() {
        let ds = data(vec![1.0, f32::NAN, 2.0, f32::NAN]);
        let err = Imputer::fit(ImputeMethod::Median, &ds).unwrap_err();
        assert!(err.to_string().contains("feature position 1"), "{err}");
        assert!(Imputer::fit(ImputeMethod::Zero, &ds).is_ok());
    }
}
