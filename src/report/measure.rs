//! The final model's numbers: loss, accuracy and the metrics people read,
//! measured in evaluation mode on one data set.
//!
//! [`measure`] is the one path from a trained model and a data set to its
//! [`Metrics`]: `dlc eval` and the run report both go through it, so a
//! change in how outputs are read (targets standardised for training and
//! reported in their own units, say) is made once, here.

use super::Metrics;
use crate::data::Dataset;
use crate::runtime::{CompiledModel, RunError};
use serde_json::{Value, json};

/// A model measured on one data set, in evaluation mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub samples: usize,
    pub loss: f64,
    /// `None` for regression.
    pub accuracy: Option<f64>,
    /// Whether `loss` is of standardised targets (`standardize targets`):
    /// the loss the network minimised, unlike the metrics, which are in the
    /// targets' own units.
    pub loss_of_standardized_targets: bool,
    pub metrics: Metrics,
    /// The classes' names (classification) or the target columns'
    /// (regression), from the data's preparation; empty when unknown.
    pub names: Vec<String>,
}

/// The model's loss and metrics on `ds`: its outputs in evaluation mode,
/// read as its loss reads them.
pub fn measure(model: &mut CompiledModel, ds: &Dataset) -> Result<Measurement, RunError> {
    let evaluation = model.evaluate(ds)?;
    let outputs = model.predict(ds.features())?;
    // The metrics people read are in the targets' own units, whatever the
    // network was trained on.
    let metrics = match model.preparation() {
        Some(p) => Metrics::of_outputs_in_original_units(
            model.loss_kind(),
            outputs,
            model.output_width(),
            ds.targets(),
            p,
        ),
        None => Metrics::of_outputs(
            model.loss_kind(),
            &outputs,
            model.output_width(),
            ds.targets(),
        ),
    };
    let loss_of_standardized_targets = model
        .preparation()
        .is_some_and(|p| p.standardizes_targets());
    let names = model.preparation().map_or_else(Vec::new, |p| {
        if p.classes.is_empty() {
            p.target_columns.clone()
        } else {
            p.classes.clone()
        }
    });
    Ok(Measurement {
        samples: evaluation.samples,
        loss: evaluation.loss,
        accuracy: evaluation.accuracy,
        loss_of_standardized_targets,
        metrics,
        names,
    })
}

/// Which data set the final metrics were measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasuredOn {
    Validation,
    /// The training set, because the program holds out no validation data.
    Training,
}

impl MeasuredOn {
    pub fn name(self) -> &'static str {
        match self {
            MeasuredOn::Validation => "validation",
            MeasuredOn::Training => "training",
        }
    }

    /// The set as a heading or a line of the terminal says it.
    pub fn described(self) -> &'static str {
        match self {
            MeasuredOn::Validation => "validation set",
            MeasuredOn::Training => "training set (there is no validation data)",
        }
    }
}

/// The final model measured for the run report.
#[derive(Clone, Debug, PartialEq)]
pub struct FinalMeasurement {
    pub on: MeasuredOn,
    pub measurement: Measurement,
}

/// The model as training left it (after early stopping's restore)
/// measured on the validation set, or on the training set without one.
pub fn measure_final_model(
    model: &mut CompiledModel,
    train: &Dataset,
    validation: Option<&Dataset>,
) -> Result<FinalMeasurement, RunError> {
    let (on, ds) = match validation {
        Some(v) => (MeasuredOn::Validation, v),
        None => (MeasuredOn::Training, train),
    };
    Ok(FinalMeasurement {
        on,
        measurement: measure(model, ds)?,
    })
}

fn score(x: f64) -> String {
    format!("{x:.3}")
}

/// A regression error: four significant digits, whatever the units.
pub(crate) fn error(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let digits = if x == 0.0 {
        4
    } else {
        (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    format!("{x:.digits$}")
}

impl FinalMeasurement {
    /// One line for the terminal: `validation: accuracy 97.2%, macro F1
    /// 0.970, weighted F1 0.972`, or `validation: MAE 43.10, RMSE 54.20,
    /// R² 0.470`.
    pub fn summary_line(&self) -> String {
        let m = &self.measurement;
        let numbers = match &m.metrics {
            Metrics::Classes(c) => {
                let mut s = format!(
                    "accuracy {:.1}%, macro F1 {}, weighted F1 {}",
                    c.accuracy * 100.0,
                    score(c.macro_avg.f1),
                    score(c.weighted_avg.f1)
                );
                if let Some(auc) = c.roc_auc {
                    s += &format!(", ROC AUC {}", score(auc));
                }
                s
            }
            Metrics::Values(r) => format!(
                "MAE {}, RMSE {}, R² {}",
                error(r.mae),
                error(r.rmse),
                if r.r2.is_finite() {
                    format!("{:.3}", r.r2)
                } else {
                    "-".into()
                }
            ),
        };
        let set = match self.on {
            MeasuredOn::Validation => "validation",
            MeasuredOn::Training => "training (no validation data)",
        };
        format!("{set}: {numbers}")
    }

    /// `set`, `samples`, `loss`, `accuracy` and the metrics' own keys
    /// ([`Metrics::to_json`]) under `metrics`.
    pub fn to_json(&self) -> Value {
        let m = &self.measurement;
        json!({
            "set": self.on.name(),
            "samples": m.samples,
            "loss": m.loss.is_finite().then_some(m.loss),
            "accuracy": m.accuracy,
            "metrics": m.metrics.to_json(&m.names),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ClassMetrics, RegressionMetrics};

    fn measured(on: MeasuredOn, metrics: Metrics) -> FinalMeasurement {
        FinalMeasurement {
            on,
            measurement: Measurement {
                samples: 4,
                loss: 0.5,
                accuracy: None,
                loss_of_standardized_targets: false,
                metrics,
                names: vec!["no".into(), "yes".into()],
            },
        }
    }

    #[test]
    fn the_summary_line_names_the_set_and_the_scores_of_its_kind() {
        // Labels 0 0 1 1 predicted 0 1 1 1: accuracy 3/4; class 0 F1 2/3,
        // class 1 F1 4/5; macro and weighted (equal support) 11/15 = 0.733.
        let c = ClassMetrics::new(&[0, 0, 1, 1], &[0, 1, 1, 1], 2).with_roc_auc(Some(0.875));
        let line = measured(MeasuredOn::Validation, Metrics::Classes(c)).summary_line();
        assert_eq!(
            line,
            "validation: accuracy 75.0%, macro F1 0.733, weighted F1 0.733, ROC AUC 0.875"
        );
        // Errors 0, 1, -1, 0: MAE 0.5, RMSE sqrt(0.5), R² 0.6.
        let r = RegressionMetrics::new(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0], 1);
        let line = measured(MeasuredOn::Training, Metrics::Values(r)).summary_line();
        assert_eq!(
            line,
            "training (no validation data): MAE 0.5000, RMSE 0.7071, R² 0.600"
        );
    }

    #[test]
    fn json_says_which_set_and_keeps_the_metrics_keys() {
        let c = ClassMetrics::new(&[0, 1], &[0, 1], 2);
        let v = measured(MeasuredOn::Training, Metrics::Classes(c)).to_json();
        assert_eq!(v["set"], "training");
        assert_eq!(v["samples"], 4);
        assert_eq!(v["metrics"]["classes"][1]["name"], "yes");
        assert_eq!(v["metrics"]["confusion"], json!([[1, 0], [0, 1]]));
    }

    #[test]
    fn errors_keep_four_significant_digits() {
        assert_eq!(error(43.1234), "43.12");
        assert_eq!(error(0.0123456), "0.01235");
        assert_eq!(error(2873.4), "2873");
        assert_eq!(error(0.0), "0.0000");
        assert_eq!(error(f64::NAN), "-");
    }
}
