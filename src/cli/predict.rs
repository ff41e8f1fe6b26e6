//! `dlc predict`: a checkpoint's predictions for new samples, as CSV.
//!
//! Classification: the predicted class, then one probability per class.
//! Regression: the predicted values.

use super::{compile_or_report, read};
use dlc::checkpoint;
use dlc::load::{load, prepare_features};
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
    let csv = dlc::report::predictions_csv(model.loss_kind(), &outputs, model.output_width());
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
