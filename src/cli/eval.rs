//! `dlc eval`: loss, accuracy and the metrics people read (confusion
//! matrix, per-class precision, recall and F1, ROC AUC; MAE, RMSE, R²) of a
//! trained model, in evaluation mode.

use crate::Format;
use dlc::data::Dataset;
use dlc::report::Metrics;
use std::path::Path;

pub fn eval(file: &Path, model_file: Option<&Path>, data: Option<&Path>, format: Format) -> u8 {
    let (mut model, _) = match super::open_trained(file, model_file) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let Some(spec) = model.model().data.clone() else {
        eprintln!("error: the model's program has no data item to evaluate on");
        return 2;
    };
    let policy = model.data_policy();
    let mut sets: Vec<(String, Dataset)> = Vec::new();
    let preparation = match data {
        Some(path) => {
            let preparation = match super::preparation_of(&model) {
                Ok(p) => p,
                Err(code) => return code,
            };
            match dlc::load::load_like(&spec, path, &preparation, &policy) {
                Ok(ds) => sets.push((path.display().to_string(), ds)),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
            preparation
        }
        None => match dlc::load::load(&spec, &policy) {
            Ok(loaded) => {
                if let Some(v) = loaded.validation {
                    sets.push(("validation".to_string(), v));
                }
                sets.push(("training".to_string(), loaded.train));
                loaded.preparation
            }
            Err(e) => {
                eprintln!("error: {e}\nhelp: give a file to evaluate on with --data FILE");
                return 2;
            }
        },
    };
    let names = if preparation.classes.is_empty() {
        preparation.target_columns.clone()
    } else {
        preparation.classes.clone()
    };
    let mut json_sets = Vec::new();
    for (name, ds) in &sets {
        if let Err(e) = model.check_data(ds, name) {
            eprintln!("error: {e}");
            return 2;
        }
        let evaluation = model.evaluate(ds);
        let outputs = model.predict(ds.features());
        let (ev, outputs) = match (evaluation, outputs) {
            (Ok(ev), Ok(o)) => (ev, o),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        let metrics = Metrics::of_outputs_in_original_units(
            model.loss_kind(),
            outputs,
            model.output_width(),
            ds.targets(),
            &preparation,
        );
        let standardized = preparation.standardizes_targets();
        match format {
            Format::Human => {
                let acc = ev
                    .accuracy
                    .map(|a| format!(", accuracy {:.2}%", a * 100.0))
                    .unwrap_or_default();
                let units = if standardized {
                    " (of the standardized targets)"
                } else {
                    ""
                };
                println!(
                    "{name}: {} samples, loss {:.4}{units}{acc}",
                    ev.samples, ev.loss
                );
                println!("{}", indent(&metrics.text(&names)));
            }
            Format::Json => json_sets.push(serde_json::json!({
                "name": name,
                "samples": ev.samples,
                "loss": ev.loss,
                "loss_of_standardized_targets": standardized,
                "accuracy": ev.accuracy,
                "metrics": metrics.to_json(&names),
            })),
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::json!({ "sets": json_sets }));
    }
    0
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
