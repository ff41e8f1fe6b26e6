//! The example programs train to their accuracy targets, run as a user runs
//! them: `dlc run FILE --json` (fixed seeds, native code).

use serde_json::Value;
use std::process::Command;

/// Runs `dlc run` and returns the per-epoch objects and the final one.
fn run(program: &str, extra: &[&str]) -> (Vec<Value>, Value) {
    // The run directory goes to the temporary directory, not the checkout.
    let stem = std::path::Path::new(program).file_stem().unwrap();
    let run_dir = std::env::temp_dir()
        .join(format!("dlc-train-examples-{}", std::process::id()))
        .join(stem);
    let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args(["run", program, "--json", "--threads", "1"])
        .arg("--out")
        .arg(&run_dir)
        .args(extra)
        .output()
        .expect("dlc runs");
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{program}: not JSON: {l}: {e}"))
        })
        .collect();
    let (done, epochs) = lines.split_last().expect("at least the final object");
    assert_eq!(
        done["event"], "done",
        "{program}: the last object ends the run"
    );
    (epochs.to_vec(), done.clone())
}

fn best(done: &Value, key: &str) -> f64 {
    done["best"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("no best {key} in {done}"))
}

#[test]
fn xor_reaches_full_accuracy() {
    let (_, done) = run("examples/xor.dl", &[]);
    assert_eq!(best(&done, "train_acc"), 1.0, "{done}");
}

#[test]
fn spirals_reach_97_percent_on_validation() {
    let (epochs, done) = run("examples/spirals.dl", &[]);
    assert_eq!(epochs.len(), 60);
    assert!(best(&done, "val_acc") >= 0.97, "{done}");
}

#[test]
fn spirals_with_one_sample_per_step_learn() {
    let (_, done) = run("examples/spirals_sgd1.dl", &[]);
    assert!(best(&done, "val_acc") >= 0.95, "{done}");
}

#[test]
fn iris_reaches_95_percent_on_validation() {
    let (_, done) = run("examples/iris.dl", &[]);
    assert!(best(&done, "val_acc") >= 0.95, "{done}");
}

#[test]
fn wine_reaches_95_percent_on_validation_with_every_data_seed_tried() {
    for data_seed in ["1", "2", "3"] {
        let (_, done) = run("examples/wine.dl", &["--data-seed", data_seed]);
        assert!(
            best(&done, "val_acc") >= 0.95,
            "data seed {data_seed}: {done}"
        );
    }
}

#[test]
fn digits_mlp_reaches_96_percent_stops_early_and_restores_the_best_epoch() {
    let (epochs, done) = run("examples/digits_mlp.dl", &[]);
    assert!(best(&done, "val_acc") >= 0.96, "{done}");
    assert_eq!(done["stopped"], "early_stop", "{done}");
    let best_epoch = done["best"]["epoch"].as_u64().unwrap() as usize;
    let last = epochs.len();
    assert!(last < 60, "stopped before the last epoch");
    assert_eq!(last - best_epoch, 8, "patience 8 after the best epoch");
    // The best epoch is the one with the lowest validation loss.
    let lowest = epochs
        .iter()
        .map(|e| e["val_loss"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(done["best"]["val_loss"].as_f64().unwrap(), lowest);
}

#[test]
fn digits_cnn_reaches_97_percent_on_validation() {
    let (_, done) = run("examples/digits_cnn.dl", &[]);
    assert!(best(&done, "val_acc") >= 0.97, "{done}");
}

#[test]
fn residual_network_learns_digits() {
    let (_, done) = run("examples/residual.dl", &[]);
    assert!(best(&done, "val_acc") >= 0.97, "{done}");
}

#[test]
fn regression_fits_the_sine() {
    let (_, done) = run("examples/regression.dl", &[]);
    // Noise of standard deviation 0.1 puts the floor of the MSE near 0.01.
    assert!(best(&done, "val_loss") < 0.02, "{done}");
}

#[test]
fn branches_separate_the_moons() {
    let (_, done) = run("examples/branches.dl", &[]);
    assert!(best(&done, "val_acc") >= 0.97, "{done}");
}

#[test]
fn json_objects_have_the_documented_keys() {
    let (epochs, done) = run("examples/iris.dl", &["--epochs", "3"]);
    assert_eq!(epochs.len(), 3);
    for (i, e) in epochs.iter().enumerate() {
        assert_eq!(e["epoch"], i + 1);
        for key in [
            "train_loss",
            "train_acc",
            "val_loss",
            "val_acc",
            "lr",
            "seconds",
        ] {
            assert!(e[key].is_number(), "{key} in {e}");
        }
    }
    assert_eq!(done["epochs"], 3);
    let (epochs, _) = run("examples/regression.dl", &["--epochs", "2"]);
    assert!(
        epochs[0].get("train_acc").is_none(),
        "no accuracy for regression: {}",
        epochs[0]
    );
}
