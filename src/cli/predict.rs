//! `dlc predict`: a checkpoint's predictions for new samples, as CSV.
//!
//! Classification: the predicted class, then one probability per class.
//! Regression: the predicted values.

use super::{compile_or_report, read};
use dlc::check::Loss;
use dlc::runtime::checkpoint;
use dlc::runtime::load::{load, prepare_features};
use std::fmt::Write;
use std::path::{Path, PathBuf};

pub fn predict(file: &PathBuf, checkpoint_path: &Path, input: &Path, output: Option<&Path>) -> u8 {
    let outputs: Vec<(&Path, &str)> = output.iter().map(|p| (*p, "--output")).collect();
    if let Err(code) = super::check_outputs(&outputs, &[]) {
        return code;
    }
    let Some(text) = read(file) else { return 2 };
    let mut model = match compile_or_report(file, &text) {
        Ok(m) => m,
        Err(code) => return code,
    };
    if let Err(e) = checkpoint::load_weights(&mut model, checkpoint_path, &text) {
        eprintln!("error: {e}");
        return 2;
    }
    // A label or target column left in the input file is skipped.
    let ignore: Vec<&str> = model
        .model()
        .data
        .as_ref()
        .map_or(Vec::new(), |d| d.source.rule().target_columns());
    let policy = model.data_policy();
    let (mut features, width) = match dlc::data::csv_features(input, &ignore, &policy) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let want = model.input_len();
    if width != want {
        eprintln!(
            "error: {} has {width} feature columns, but network `{}` takes {want} values per sample",
            input.display(),
            model.model().network.name
        );
        return 2;
    }
    if let Some(spec) = model.model().data.clone() {
        // Standardisation needs the training data's statistics.
        let standardizer = if spec.standardize {
            match load(&spec, &policy) {
                Ok(l) => l.standardizer,
                Err(e) => {
                    eprintln!("error: cannot prepare the input as the training data was: {e}");
                    return 2;
                }
            }
        } else {
            None
        };
        prepare_features(&spec, standardizer.as_ref(), &mut features);
    }
    let outputs = match model.predict(&features) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let csv = to_csv(model.loss_kind(), &outputs, model.output_width());
    match output {
        Some(path) => match dlc::outputs::write_atomically(path, csv.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!(
                    "error: cannot write the predictions to {}: {e}",
                    path.display()
                );
                2
            }
        },
        None => {
            print!("{csv}");
            0
        }
    }
}

fn to_csv(loss: Loss, outputs: &[f32], width: usize) -> String {
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
                let _ = writeln!(s, "{},{}", dlc::runtime::train::argmax(row), p.join(","));
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
