//! `dlc eval`: loss, accuracy and the metrics people read (confusion
//! matrix, per-class precision, recall and F1, ROC AUC; MAE, RMSE, R²) of a
//! trained model, in evaluation mode.

use crate::Format;
use dlc::data::Dataset;
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
            if let Err(code) = weigh_classes_by_program_data(&mut model, &spec, &policy) {
                return code;
            }
            preparation
        }
        None => match dlc::load::load(&spec, &policy) {
            Ok(loaded) => {
                // The loss weighs classes as training did: with the weights
                // the model file kept, or (older files) by the training part.
                if model.class_weights().is_empty()
                    && let Err(e) = model.weigh_classes_by(&loaded.train)
                {
                    eprintln!("error: {e}");
                    return 2;
                }
                if let Some(v) = loaded.validation {
                    sets.push(("validation".to_string(), v));
                }
                sets.push(("training".to_string(), loaded.train));
                if model
                    .preparation()
                    .is_some_and(|kept| kept != &loaded.preparation)
                {
                    eprintln!(
                        "warning: the program's data no longer prepares as it did in training (its file changed?): these numbers use statistics refitted on it as it is now
help: `--data FILE` evaluates a file with the model's own preparation"
                    );
                }
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
        let measured = match dlc::report::measure(&mut model, ds) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        let metrics = &measured.metrics;
        match format {
            Format::Human => {
                let acc = measured
                    .accuracy
                    .map(|a| format!(", accuracy {:.2}%", a * 100.0))
                    .unwrap_or_default();
                let units = if measured.loss_of_standardized_targets {
                    " (of the standardized targets)"
                } else {
                    ""
                };
                println!(
                    "{name}: {} samples, loss {:.4}{units}{acc}",
                    measured.samples, measured.loss
                );
                println!("{}", indent(&metrics.text(&names)));
            }
            Format::Json => json_sets.push(serde_json::json!({
                "name": name,
                "samples": measured.samples,
                "loss": measured.loss,
                "loss_of_standardized_targets": measured.loss_of_standardized_targets,
                "accuracy": measured.accuracy,
                "metrics": metrics.to_json(&names),
            })),
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::json!({ "sets": json_sets }));
    }
    0
}

/// `class_weights balanced` counts the classes of the program's own
/// training part, whatever file is evaluated: the loss is the one trained.
/// A model file records them; only older files need the training data.
fn weigh_classes_by_program_data(
    model: &mut dlc::CompiledModel,
    spec: &dlc::check::DataSpec,
    policy: &dlc::data::FilePolicy,
) -> Result<(), u8> {
    let balanced = model.model().train.as_ref().is_some_and(|t| {
        matches!(
            t.class_weights.as_ref().map(|w| &w.kind),
            Some(dlc::check::ClassWeightsKind::Balanced)
        )
    });
    // A model file records the weights it was trained with.
    if !balanced || !model.class_weights().is_empty() {
        return Ok(());
    }
    let weighed = dlc::load::load(spec, policy)
        .map_err(dlc::RunError::from)
        .and_then(|loaded| model.weigh_classes_by(&loaded.train));
    weighed.map_err(|e| {
        eprintln!(
            "error: {e}\nnote: `class_weights balanced` are counted on the program's training data"
        );
        2
    })
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
