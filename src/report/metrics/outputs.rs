//! From a network's outputs on a data set to its metrics, as the loss reads
//! the outputs: logits of a softmax, one logit of a sigmoid, or values.

use super::{ClassMetrics, RegressionMetrics, roc_auc};
use crate::check::Loss;
use crate::data::{Preparation, Targets};

/// A data set's metrics: by class, or by target column.
#[derive(Clone, Debug, PartialEq)]
pub enum Metrics {
    Classes(ClassMetrics),
    Values(RegressionMetrics),
}

impl Metrics {
    /// The metrics of `outputs` (`width` per sample) against `targets`.
    /// Two classes also get the ROC AUC of the positive class's score.
    pub fn of_outputs(loss: Loss, outputs: &[f32], width: usize, targets: &Targets) -> Metrics {
        let width = width.max(1);
        match targets {
            Targets::Classes { labels, classes } => {
                let (predicted, scores): (Vec<u32>, Vec<f32>) = outputs
                    .chunks(width)
                    .map(|row| match loss {
                        // One logit: class 1 above 0, and the logit orders the samples.
                        Loss::BinaryCrossEntropy => (u32::from(row[0] > 0.0), row[0]),
                        // With two logits, their difference orders them as p1 does.
                        _ => {
                            let class = crate::runtime::train::argmax(row) as u32;
                            let score = if row.len() == 2 { row[1] - row[0] } else { 0.0 };
                            (class, score)
                        }
                    })
                    .unzip();
                let metrics = ClassMetrics::new(labels, &predicted, *classes);
                let auc = (*classes == 2).then(|| roc_auc(labels, &scores)).flatten();
                Metrics::Classes(metrics.with_roc_auc(auc))
            }
            Targets::Values { values, width: w } => {
                Metrics::Values(RegressionMetrics::new(values, outputs, *w))
            }
        }
    }

    /// As [`Metrics::of_outputs`], for a data set prepared as `preparation`
    /// says: with `standardize targets`, both the outputs and the targets
    /// are standardized, and are measured after
    /// [`Preparation::outputs_to_original`] turns them back into the
    /// targets' own units, the units people read.
    pub fn of_outputs_in_original_units(
        loss: Loss,
        mut outputs: Vec<f32>,
        width: usize,
        targets: &Targets,
        preparation: &Preparation,
    ) -> Metrics {
        preparation.outputs_to_original(&mut outputs, width);
        let original;
        let targets = match targets {
            Targets::Values { values, width: w } if preparation.standardizes_targets() => {
                let mut values = values.clone();
                preparation.outputs_to_original(&mut values, *w);
                original = Targets::Values { values, width: *w };
                &original
            }
            other => other,
        };
        Metrics::of_outputs(loss, &outputs, width, targets)
    }

    /// As text, classes or targets named by `names`.
    pub fn text(&self, names: &[String]) -> String {
        match self {
            Metrics::Classes(m) => m.text(names),
            Metrics::Values(m) => m.text(names),
        }
    }

    pub fn to_json(&self, names: &[String]) -> serde_json::Value {
        match self {
            Metrics::Classes(m) => m.to_json(names),
            Metrics::Values(m) => m.to_json(names),
        }
    }
}
