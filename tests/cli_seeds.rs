//! The two seeds of a run (`--seed`: initialisation and dropout;
//! `--data-seed`: the validation split and each epoch's order): where runs
//! with other seeds go, and that every file of the run records the seeds it
//! used.

mod checkpoint_support;
use checkpoint_support::metadata;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PROGRAM: &str = "\
data iris = csv(\"iris.csv\", label: \"species\", classes: 3) {
    standardize
    validation 0.2
    seed 1
}
network net(x: [4]) -> 3 {
    dense 8 -> relu
    dense 3
}
train net on iris {
    loss cross_entropy
    optimizer adam(lr: 0.01)
    batch 16
    epochs 8
    seed 1
    checkpoint \"ck.safetensors\"
}
";

/// A directory holding the program and its data; runs write under it.
fn project(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-seeds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("examples/data/iris.csv", dir.join("iris.csv")).unwrap();
    std::fs::write(dir.join("iris.dl"), PROGRAM).unwrap();
    dir
}

fn dlc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("dlc runs")
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn runs_with_other_seeds_keep_their_own_directories_and_record_their_seeds() {
    let dir = project("dirs");
    ok(dlc(&dir, &["run", "-q", "iris.dl"]));
    ok(dlc(
        &dir,
        &["run", "-q", "iris.dl", "--seed", "3", "--data-seed", "7"],
    ));
    ok(dlc(&dir, &["run", "-q", "iris.dl", "--data-seed", "7"]));
    // The program's own seeds name no seed: the same run as without flags.
    ok(dlc(
        &dir,
        &["run", "-q", "iris.dl", "--seed", "1", "--data-seed", "1"],
    ));
    let mut runs: Vec<String> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    runs.sort();
    assert_eq!(runs, ["iris", "iris-data7", "iris-seed3-data7"]);
    for checkpoint in [
        "ck.safetensors",
        "ck-data7.safetensors",
        "ck-seed3-data7.safetensors",
    ] {
        assert!(dir.join(checkpoint).is_file(), "{checkpoint}");
    }
    for (run, seed, data_seed) in [
        ("iris", 1, 1),
        ("iris-seed3-data7", 3, 7),
        ("iris-data7", 1, 7),
    ] {
        let run_dir = dir.join("runs").join(run);
        let done = &json(&run_dir.join("metrics.json"))["done"];
        assert_eq!(
            (done["seed"].as_u64(), done["data_seed"].as_u64()),
            (Some(seed), Some(data_seed)),
            "{run}"
        );
        let meta = metadata(&run_dir.join("model.safetensors"));
        assert_eq!(
            (meta["seed"].as_str(), meta["data_seed"].as_str()),
            (seed.to_string().as_str(), data_seed.to_string().as_str()),
            "{run}"
        );
        // The report's summary: the data line, then the train line.
        let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
        let data_line = html.lines().find(|l| l.contains("iris: csv")).unwrap();
        let train_line = html
            .lines()
            .find(|l| l.contains("cross_entropy loss"))
            .unwrap();
        assert!(
            data_line.ends_with(&format!("seed {data_seed}")),
            "{run}: {data_line}"
        );
        assert!(
            train_line.contains(&format!("seed {seed}")),
            "{run}: {train_line}"
        );
    }
}

#[test]
fn eval_splits_the_data_as_the_run_did() {
    let dir = project("eval");
    let last_val_loss = |run: &str| {
        let m = json(&dir.join("runs").join(run).join("metrics.json"));
        m["done"]["final"]["val_loss"].as_f64().unwrap()
    };
    ok(dlc(&dir, &["run", "-q", "iris.dl", "--data-seed", "5"]));
    ok(dlc(&dir, &["run", "-q", "iris.dl"]));
    for run in ["iris-data5", "iris"] {
        let model = format!("runs/{run}/model.safetensors");
        let out = ok(dlc(&dir, &["eval", &model, "--format", "json"]));
        let eval: serde_json::Value = serde_json::from_str(&out).unwrap();
        let sets = eval["sets"].as_array().unwrap();
        let validation = sets.iter().find(|s| s["name"] == "validation").unwrap();
        let loss = validation["loss"].as_f64().unwrap();
        let trained = last_val_loss(run);
        assert!(
            (loss - trained).abs() <= 1e-6 * trained.max(1.0),
            "{run}: eval's validation loss {loss} is not the run's {trained}"
        );
    }
    assert_ne!(
        last_val_loss("iris-data5"),
        last_val_loss("iris"),
        "another split"
    );
}

#[test]
fn a_resumed_run_keeps_its_seeds() {
    let dir = project("resume");
    ok(dlc(
        &dir,
        &["run", "-q", "iris.dl", "--data-seed", "4", "--epochs", "3"],
    ));
    let o = dlc(
        &dir,
        &[
            "run",
            "-q",
            "iris.dl",
            "--resume-from",
            "ck-data4.safetensors",
            "--data-seed",
            "2",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("trained with data seed 4; --data-seed 2 would split"),
        "{e}"
    );
    // The seeds find the run's checkpoint, and the run goes on with them.
    ok(dlc(
        &dir,
        &[
            "run",
            "-q",
            "iris.dl",
            "--resume",
            "--data-seed",
            "4",
            "--epochs",
            "8",
        ],
    ));
    let done = &json(&dir.join("runs/iris-data4/metrics.json"))["done"];
    assert_eq!(done["data_seed"].as_u64(), Some(4));
    assert_eq!(done["final"]["epoch"].as_u64(), Some(8));
    // A checkpoint resumed by name keeps its seeds whatever the program says.
    ok(dlc(
        &dir,
        &[
            "run",
            "-q",
            "iris.dl",
            "--resume-from",
            "ck-data4.safetensors",
            "--epochs",
            "9",
        ],
    ));
    let done = &json(&dir.join("runs/iris-data4/metrics.json"))["done"];
    assert_eq!(
        (done["data_seed"].as_u64(), done["final"]["epoch"].as_u64()),
        (Some(4), Some(9))
    );
}
