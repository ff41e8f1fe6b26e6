//! `dlc predict`: a trained model's predictions for new samples, as CSV.
//!
//! The input's feature columns are found by name, in any order; its other
//! columns (an `id`, say) are copied to the output beside the predictions.

use std::path::Path;

pub fn predict(file: &Path, model_file: Option<&Path>, input: &Path, output: Option<&Path>) -> u8 {
    let outputs: Vec<(&Path, &str)> = output.iter().map(|p| (*p, "--output")).collect();
    if let Err(code) = super::check_outputs(&outputs, &[]) {
        return code;
    }
    let (mut model, preparation) = match super::open_prepared(file, model_file) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let mut inputs = match preparation.read_inputs(input, &model.data_policy()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    preparation.apply(&mut inputs.features);
    let mut outputs = match model.predict(&inputs.features) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // With `standardize targets`, the network predicts standardized values.
    preparation.outputs_to_original(&mut outputs, model.output_width());
    let csv = dlc::report::predictions_csv(
        model.loss_kind(),
        &outputs,
        model.output_width(),
        &preparation,
        &inputs.passthrough,
    );
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
