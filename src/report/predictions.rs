//! Predictions as `dlc predict` writes them, one CSV row per sample: the
//! input's other columns first (as they were), then the prediction.
//!
//! Classification: `predicted` (the class by name), then `p_NAME`, the
//! probability of each class. Regression: `predicted_NAME` for each target.

use crate::check::Loss;
use crate::data::Preparation;
use std::fmt::Write;

/// The network's raw outputs (`width` per sample) as CSV with a header,
/// after the `passthrough` columns.
pub fn predictions_csv(
    loss: Loss,
    outputs: &[f32],
    width: usize,
    preparation: &Preparation,
    passthrough: &[(String, Vec<String>)],
) -> String {
    let rows = outputs.len().checked_div(width).unwrap_or(0);
    let mut header: Vec<String> = passthrough.iter().map(|(n, _)| field(n)).collect();
    match loss {
        Loss::CrossEntropy => {
            header.push("predicted".into());
            header.extend((0..width).map(|c| field(&format!("p_{}", preparation.class_name(c)))));
        }
        Loss::BinaryCrossEntropy => {
            header.push("predicted".into());
            header.extend((0..2).map(|c| field(&format!("p_{}", preparation.class_name(c)))));
        }
        Loss::MeanSquaredError => {
            header.extend((0..width).map(|c| {
                let name = preparation.target_columns.get(c).cloned();
                field(&format!(
                    "predicted_{}",
                    name.unwrap_or_else(|| c.to_string())
                ))
            }));
        }
    }
    let mut s = header.join(",") + "\n";
    for (r, row) in outputs.chunks(width.max(1)).take(rows).enumerate() {
        let mut cells: Vec<String> = passthrough
            .iter()
            .map(|(_, values)| field(values.get(r).map_or("", String::as_str)))
            .collect();
        match loss {
            Loss::CrossEntropy => {
                let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let e: Vec<f32> = row.iter().map(|z| (z - m).exp()).collect();
                let total: f32 = e.iter().sum();
                let class = crate::runtime::train::argmax(row);
                cells.push(field(&preparation.class_name(class)));
                cells.extend(e.iter().map(|v| format!("{:.6}", v / total)));
            }
            Loss::BinaryCrossEntropy => {
                let p = 1.0 / (1.0 + (-row[0]).exp());
                cells.push(field(&preparation.class_name(usize::from(row[0] > 0.0))));
                cells.push(format!("{:.6}", 1.0 - p));
                cells.push(format!("{p:.6}"));
            }
            Loss::MeanSquaredError => cells.extend(row.iter().map(|x| x.to_string())),
        }
        let _ = writeln!(s, "{}", cells.join(","));
    }
    s
}

/// A CSV field, quoted when it holds a separator, a quote or a line end.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
