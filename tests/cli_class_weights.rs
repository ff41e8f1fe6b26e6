//! `class_weights` through the command line: `dlc eval` reports the
//! weighted loss training validated with, counting `balanced` weights on
//! the program's training part even when it evaluates a file of its own.

use std::path::PathBuf;
use std::process::{Command, Output};

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-cli-class-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dlc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args(args)
        .output()
        .expect("dlc runs")
}

fn last_json_line(o: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text.lines().last().expect("some output");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn eval_gives_the_weighted_validation_loss_of_the_run() {
    let dir = dir();
    let program = dir.join("cells.dl");
    std::fs::write(
        &program,
        format!(
            "data cells = csv({:?}, label: \"diagnosis\") {{ standardize; validation 0.2; seed 3 }}\n\
             network net(x: [30]) -> 1 {{ dense 8 -> relu; dense 1 }}\n\
             train net on cells {{ loss binary_cross_entropy; class_weights balanced; \
             optimizer adam(lr: 0.01); epochs 3 }}\n",
            std::fs::canonicalize("examples/data/breast_cancer.csv").unwrap()
        ),
    )
    .unwrap();
    let out = dir.join("run");
    let run = dlc(&[
        "run",
        program.to_str().unwrap(),
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let done = last_json_line(&run);
    let val_loss = done["final"]["val_loss"].as_f64().unwrap();
    let model = out.join("model.safetensors");

    let eval = dlc(&["eval", model.to_str().unwrap(), "--format", "json"]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let sets = last_json_line(&eval)["sets"].clone();
    assert_eq!(sets[0]["name"], "validation");
    let evaluated = sets[0]["loss"].as_f64().unwrap();
    assert!(
        (evaluated - val_loss).abs() < 1e-6,
        "eval {evaluated}, run {val_loss}"
    );

    // A file of its own: the weights still come from the training part, so
    // the whole data file evaluates to a finite weighted loss.
    let file = std::fs::canonicalize("examples/data/breast_cancer.csv").unwrap();
    let eval = dlc(&[
        "eval",
        model.to_str().unwrap(),
        "--data",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let sets = last_json_line(&eval)["sets"].clone();
    assert_eq!(sets[0]["samples"], 569);
    assert!(sets[0]["loss"].as_f64().is_some_and(f64::is_finite));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_model_file_keeps_balanced_weights_so_eval_needs_no_training_data() {
    // Not under `dir()`, which the other test removes when it ends.
    let dir = std::env::temp_dir().join(format!("dlc-class-weights-kept-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let train = dir.join("cells.csv");
    std::fs::copy("examples/data/breast_cancer.csv", &train).unwrap();
    let program = dir.join("cells.dl");
    std::fs::write(
        &program,
        format!(
            "data cells = csv({train:?}, label: \"diagnosis\") {{ standardize; validation 0.2; seed 3 }}\n\
             network net(x: [30]) -> 2 {{ dense 8 -> relu; dense 2 }}\n\
             train net on cells {{ loss cross_entropy; class_weights balanced; \
             optimizer adam(lr: 0.01); epochs 3 }}\n"
        ),
    )
    .unwrap();
    let out = dir.join("run");
    let run = dlc(&[
        "run",
        "-q",
        program.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let model = out.join("model.safetensors");
    let other = dir.join("other.csv");
    std::fs::copy("examples/data/breast_cancer.csv", &other).unwrap();
    let loss = || {
        let args = [
            "eval",
            model.to_str().unwrap(),
            "--data",
            other.to_str().unwrap(),
        ];
        let eval = dlc(&[&args[..], &["--format", "json"]].concat());
        assert!(
            eval.status.success(),
            "{}",
            String::from_utf8_lossy(&eval.stderr)
        );
        last_json_line(&eval)["sets"][0]["loss"].as_f64().unwrap()
    };
    let with_training_data = loss();
    std::fs::remove_file(&train).unwrap();
    assert_eq!(loss(), with_training_data);
    std::fs::remove_dir_all(dir).ok();
}
