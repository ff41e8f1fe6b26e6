//! Predictions as `dlc predict` writes them, one CSV row per sample.
//!
//! Classification: the predicted class, then one probability per class.
//! Regression: the predicted values.

use crate::check::Loss;
use std::fmt::Write;

/// The network's raw outputs (`width` per sample) as CSV with a header.
pub fn predictions_csv(loss: Loss, outputs: &[f32], width: usize) -> String {
    let mut s = String::new();
    match loss {
        Loss::CrossEntropy => {
            let probs: Vec<String> = (0..width).map(|c| format!("p{c}")).collect();
            let _ = writeln!(s, "class,{}", probs.join(","));
            for row in outputs.chunks(width) {
                let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let e: Vec<f32> = row.iter().map(|z| (z - m).exp()).collect();
                let total: f32 = e.iter().sum();
                let p: Vec<String> = e.iter().map(|v| format!("{:.6}", v / total)).collect();
                let _ = writeln!(s, "{},{}", crate::runtime::train::argmax(row), p.join(","));
            }
        }
        Loss::BinaryCrossEntropy => {
            let _ = writeln!(s, "class,p1");
            for z in outputs {
                let p = 1.0 / (1.0 + (-z).exp());
                let _ = writeln!(s, "{},{p:.6}", u8::from(*z > 0.0));
            }
        }
        Loss::MeanSquaredError => {
            let names: Vec<String> = (0..width).map(|c| format!("y{c}")).collect();
            let _ = writeln!(s, "{}", names.join(","));
            for row in outputs.chunks(width) {
                let v: Vec<String> = row.iter().map(|x| x.to_string()).collect();
                let _ = writeln!(s, "{}", v.join(","));
            }
        }
    }
    s
}
