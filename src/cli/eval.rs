//! `dlc eval`: loss and accuracy of a checkpoint, in evaluation mode.

use super::{compile_or_report, read};
use dlc::checkpoint;
use dlc::load::{load, load_like};
use std::path::{Path, PathBuf};

pub fn eval(file: &PathBuf, checkpoint_path: &Path, data: Option<&Path>) -> u8 {
    let Some(text) = read(file) else { return 2 };
    let mut model = match compile_or_report(file, &text) {
        Ok(m) => m,
        Err(code) => return code,
    };
    if let Err(e) = checkpoint::load_weights(&mut model, checkpoint_path, &text) {
        eprintln!("error: {e}");
        return 2;
    }
    let Some(spec) = model.model().data.clone() else {
        eprintln!("error: {} has no data item to evaluate on", file.display());
        return 2;
    };
    let policy = model.data_policy();
    let loaded = match load(&spec, &policy) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut sets = Vec::new();
    match data {
        Some(path) => match load_like(&spec, path, loaded.standardizer.as_ref(), &policy) {
            Ok(ds) => sets.push((path.display().to_string(), ds)),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        None => {
            if let Some(v) = loaded.validation {
                sets.push(("validation".to_string(), v));
            }
            sets.push(("training".to_string(), loaded.train));
        }
    }
    for (name, ds) in &sets {
        if let Err(e) = model.check_data(ds, name) {
            eprintln!("error: {e}");
            return 2;
        }
        match model.evaluate(ds) {
            Ok(ev) => {
                let acc = ev
                    .accuracy
                    .map(|a| format!(", accuracy {:.2}%", a * 100.0))
                    .unwrap_or_default();
                println!("{name}: {} samples, loss {:.4}{acc}", ev.samples, ev.loss);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    0
}
