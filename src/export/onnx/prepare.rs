//! The data's preparation in front of the network and the predictions
//! behind it, as ONNX operators, so that the exported model reads the raw
//! feature rows `dlc predict` reads and gives the numbers it prints.
//!
//! In front, in [`Preparation::apply`]'s order: `scale` (Mul), `impute`
//! (IsNaN and Where: a missing value is NaN), `standardize` (Sub then Div,
//! as dlc computes `(x - mean) / std`), then the reshape to the network's
//! sample shape. Behind: `standardize targets` undone (`x * std + mean`),
//! then the probabilities of `dlc predict` (`report::predictions_csv`):
//! softmax for cross-entropy, `[1 - p, p]` with `p = sigmoid(z)` for binary
//! cross-entropy, beside the raw logits; for regression with standardised
//! targets the network's own outputs beside the predictions.

use super::builder::{Attr, Builder};
use super::{ExportError, Output};
use crate::check::Loss;
use crate::data::Preparation;

/// Writes the preparation of the graph input; gives the prepared value.
pub fn inputs(
    b: &mut Builder,
    preparation: &Preparation,
    input_shape: &[usize],
) -> Result<String, ExportError> {
    let raw = preparation.raw_len;
    let sample: usize = input_shape.iter().product();
    if preparation.sample_shape != input_shape || raw != sample {
        return Err(ExportError::Preparation(format!(
            "samples of {raw} values shaped {:?}, but the network takes {input_shape:?}",
            preparation.sample_shape
        )));
    }
    let per_position = |what: &str, len: usize| {
        if len == raw {
            Ok(())
        } else {
            Err(ExportError::Preparation(format!(
                "{len} {what} for samples of {raw} values"
            )))
        }
    };
    let mut x = super::INPUT.to_string();
    if let Some(f) = preparation.scale {
        let factor = b.floats("scale", &[], &[f]);
        x = b.node("Mul", &[&x, &factor], vec![]);
    }
    if let Some(imputer) = &preparation.imputer {
        per_position("fill values", imputer.fill.len())?;
        let fill = b.floats("impute_fill", &[raw], &imputer.fill);
        let missing = b.node("IsNaN", &[&x], vec![]);
        x = b.node("Where", &[&missing, &fill, &x], vec![]);
    }
    if let Some(s) = &preparation.standardizer {
        per_position("means", s.mean.len())?;
        per_position("deviations", s.std.len())?;
        let mean = b.floats("standardize_mean", &[raw], &s.mean);
        let std = b.floats("standardize_std", &[raw], &s.std);
        let centred = b.node("Sub", &[&x, &mean], vec![]);
        x = b.node("Div", &[&centred, &std], vec![]);
    }
    if input_shape.len() != 1 {
        let to = b.shape_tensor(true, input_shape);
        x = b.node("Reshape", &[&x, &to], vec![]);
    }
    Ok(x)
}

/// Writes the graph's outputs from the network's output `raw`
/// (`[N, ...]`, `width` values per sample).
pub fn outputs(
    b: &mut Builder,
    preparation: &Preparation,
    loss: Loss,
    raw: &str,
    width: usize,
) -> Result<Vec<Output>, ExportError> {
    let to = b.shape_tensor(true, &[width]);
    let network = b.node("Reshape", &[raw, &to], vec![]);
    let mut rows = network.clone();
    // As `Preparation::outputs_to_original`: only when the widths agree.
    let standardized = preparation
        .target_standardizer
        .as_ref()
        .filter(|s| s.mean.len() == width && s.std.len() == width);
    if let Some(s) = standardized {
        let std = b.floats("target_std", &[width], &s.std);
        let mean = b.floats("target_mean", &[width], &s.mean);
        let scaled = b.node("Mul", &[&rows, &std], vec![]);
        rows = b.node("Add", &[&scaled, &mean], vec![]);
    }
    let class = |c: usize| preparation.class_name(c);
    let logit_columns = |n: usize| (0..n).map(|c| format!("logit_{}", class(c))).collect();
    Ok(match loss {
        Loss::CrossEntropy => {
            b.node_into(
                "Softmax",
                &[&rows],
                vec![("axis", Attr::Int(1))],
                "probabilities",
            );
            b.node_into("Identity", &[&rows], vec![], "logits");
            vec![
                probabilities((0..width).map(|c| format!("p_{}", class(c))).collect()),
                logits(logit_columns(width)),
            ]
        }
        Loss::BinaryCrossEntropy => {
            if width != 1 {
                return Err(ExportError::Preparation(format!(
                    "binary cross-entropy on {width} outputs per sample, not 1"
                )));
            }
            let p = b.node("Sigmoid", &[&rows], vec![]);
            let one = b.floats("one", &[], &[1.0]);
            let q = b.node("Sub", &[&one, &p], vec![]);
            b.node_into(
                "Concat",
                &[&q, &p],
                vec![("axis", Attr::Int(1))],
                "probabilities",
            );
            b.node_into("Identity", &[&rows], vec![], "logits");
            vec![
                probabilities((0..2).map(|c| format!("p_{}", class(c))).collect()),
                logits(vec![format!("logit_{}", class(1))]),
            ]
        }
        Loss::MeanSquaredError => {
            b.node_into("Identity", &[&rows], vec![], "predictions");
            let columns: Vec<String> = (0..width)
                .map(|c| {
                    let name = preparation.target_columns.get(c).cloned();
                    format!("predicted_{}", name.unwrap_or_else(|| c.to_string()))
                })
                .collect();
            let mut outputs = vec![Output {
                name: "predictions".into(),
                columns: columns.clone(),
                doc: "the predicted targets, in the targets' own units",
            }];
            // The network's own numbers, before `standardize targets` is
            // undone: what a caller compares at the network's precision.
            if standardized.is_some() {
                b.node_into("Identity", &[&network], vec![], "standardized_predictions");
                outputs.push(Output {
                    name: "standardized_predictions".into(),
                    columns,
                    doc: "the network's outputs: the predicted targets, standardized",
                });
            }
            outputs
        }
    })
}

fn probabilities(columns: Vec<String>) -> Output {
    Output {
        name: "probabilities".into(),
        columns,
        doc: "the probability of each class, as dlc predict prints them",
    }
}

fn logits(columns: Vec<String>) -> Output {
    Output {
        name: "logits".into(),
        columns,
        doc: "the network's raw outputs",
    }
}
