//! The model file every run saves: it carries the program and the data
//! preparation, so `predict` and `eval` need nothing else, and new samples
//! are read by column name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dlc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("dlc runs")
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-model-file-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The rows of a CSV file (no quoting in these files).
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// `rows` with its columns in the order `order` (indices into the header),
/// an `id` column first.
fn reordered(rows: &[Vec<String>], order: &[usize]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let id = if i == 0 {
            "id".to_string()
        } else {
            format!("row{i}")
        };
        let cells: Vec<&str> = order.iter().map(|&c| row[c].as_str()).collect();
        out += &format!("{id},{}\n", cells.join(","));
    }
    out
}

/// Column `name` of a CSV text.
fn column(text: &str, name: &str) -> Vec<String> {
    let rows = rows(text);
    let at = rows[0].iter().position(|c| c == name).unwrap();
    rows[1..].iter().map(|r| r[at].clone()).collect()
}

#[test]
fn predictions_need_only_the_model_file_and_read_columns_by_name() {
    let dir = folder("wine");
    let wine = std::fs::read_to_string("examples/data/wine.csv").unwrap();
    std::fs::write(dir.join("train.csv"), &wine).unwrap();
    std::fs::write(
        dir.join("wine.dl"),
        r#"data wine = csv("train.csv", label: "cultivar") {
    standardize
    scale      0.5
    validation 0.2
}
network net(x: [13]) -> 3 {
    dense 16
    relu
    dropout 0.1
    dense 3
}
train net on wine {
    loss      cross_entropy
    optimizer adam(lr: 0.01)
    batch     16
    epochs    15
}
"#,
    )
    .unwrap();
    ok(dlc(&dir, &["run", "wine.dl", "-q", "--out", "runs/wine"]));
    let model = "runs/wine/model.safetensors";
    assert!(dir.join(model).is_file());

    let table = rows(&wine);
    let width = table[0].len();
    let in_order: Vec<usize> = (0..width).collect();
    std::fs::write(dir.join("same.csv"), reordered(&table[..41], &in_order)).unwrap();
    let original = ok(dlc(&dir, &["predict", model, "--input", "same.csv"]));
    // The program stands for its run's model file; one never run says so.
    let via_program = ok(dlc(&dir, &["predict", "wine.dl", "--input", "same.csv"]));
    assert_eq!(via_program, original);
    std::fs::copy(dir.join("wine.dl"), dir.join("untrained.dl")).unwrap();
    let untrained = dlc(&dir, &["predict", "untrained.dl", "--input", "same.csv"]);
    let message = String::from_utf8_lossy(&untrained.stderr);
    assert_eq!(untrained.status.code(), Some(2), "{message}");
    assert!(
        message.contains("runs/untrained/model.safetensors")
            && message.contains("dlc run untrained.dl"),
        "{message}"
    );

    // The training file is gone, the columns come in another order, and the
    // label column (class names) is still there: the predictions do not change.
    std::fs::remove_file(dir.join("train.csv")).unwrap();
    let mut shuffled: Vec<usize> = (0..width).rev().collect();
    shuffled.swap(0, 5);
    std::fs::write(dir.join("moved.csv"), reordered(&table[..41], &shuffled)).unwrap();
    let moved = ok(dlc(&dir, &["predict", model, "--input", "moved.csv"]));
    let predicted = |text: &str| -> Vec<(String, String, String)> {
        let p = column(text, "predicted");
        let ids = column(text, "id");
        let p0 = column(text, "p_class_0");
        ids.into_iter()
            .zip(p)
            .zip(p0)
            .map(|((a, b), c)| (a, b, c))
            .collect()
    };
    assert_eq!(predicted(&original), predicted(&moved));
    // The classes are named as the file named them, and the model is right
    // on most of the rows it trained on.
    let truth = column(&original, "cultivar");
    let classes = column(&original, "predicted");
    let right = truth.iter().zip(&classes).filter(|(t, p)| t == p).count();
    assert!(right >= 36, "{right} of 40 right:\n{original}");
    assert!(
        classes.iter().all(|c| c.starts_with("class_")),
        "{original}"
    );

    // A column the model needs is missing: an error naming it.
    std::fs::write(
        dir.join("short.csv"),
        reordered(&table[..3], &in_order[1..]),
    )
    .unwrap();
    let o = dlc(&dir, &["predict", model, "--input", "short.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("column \"alcohol\" not found"), "{e}");

    // `eval` reads labels by name too, from the moved file.
    let report = ok(dlc(&dir, &["eval", model, "--data", "moved.csv"]));
    assert!(report.contains("moved.csv: 40 samples"), "{report}");
    assert!(
        report.contains("class_0") && report.contains("macro avg"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_regression_model_names_its_targets() {
    let dir = folder("diabetes");
    std::fs::copy("examples/data/diabetes.csv", dir.join("d.csv")).unwrap();
    std::fs::write(
        dir.join("d.dl"),
        r#"data d = csv("d.csv", target: "progression") { standardize; validation 0.2 }
network net(x: [10]) -> 1 { dense 16; relu; dense 1 }
train net on d { loss mse; optimizer adam(lr: 0.01); batch 32; epochs 5 }
"#,
    )
    .unwrap();
    ok(dlc(&dir, &["run", "d.dl", "-q", "--out", "runs/d"]));
    let report = ok(dlc(&dir, &["eval", "runs/d/model.safetensors"]));
    assert!(report.contains("R²") || report.contains("r2"), "{report}");
    let out = ok(dlc(
        &dir,
        &["predict", "runs/d/model.safetensors", "--input", "d.csv"],
    ));
    let header = out.lines().next().unwrap();
    assert!(header.ends_with(",predicted_progression"), "{header}");
    assert_eq!(out.lines().count(), 443);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_restored_an_earlier_epoch_saves_a_model_that_loads() {
    let dir = folder("restored");
    std::fs::create_dir_all(dir.join("examples/data")).unwrap();
    std::fs::copy("examples/data/wine.csv", dir.join("examples/data/wine.csv")).unwrap();
    let program = std::fs::read_to_string("examples/wine.dl")
        .unwrap()
        .replace(
            "epochs     60",
            "epochs     60\n    checkpoint \"ck.safetensors\"",
        );
    std::fs::write(dir.join("wine.dl"), program).unwrap();
    let done = ok(dlc(&dir, &["run", "-q", "--json", "wine.dl"]));
    let done: serde_json::Value = serde_json::from_str(done.lines().last().unwrap()).unwrap();
    let (best, last) = (&done["best"]["epoch"], &done["final"]["epoch"]);
    assert_ne!(
        best, last,
        "the run should restore an earlier epoch: {done}"
    );
    // The model file and the checkpoint hold the same (restored) weights.
    let from_model = ok(dlc(&dir, &["eval", "runs/wine/model.safetensors"]));
    let from_checkpoint = ok(dlc(
        &dir,
        &["eval", "wine.dl", "--checkpoint", "ck.safetensors"],
    ));
    assert_eq!(from_model, from_checkpoint);
    let args = ["--input", "examples/data/wine.csv"];
    let predicted = ok(dlc(
        &dir,
        &[&["predict", "runs/wine/model.safetensors"][..], &args].concat(),
    ));
    assert_eq!(column(&predicted, "predicted").len(), 178);
    let warned = |o: &Output| String::from_utf8_lossy(&o.stderr).contains("no longer prepares");
    assert!(!warned(&dlc(
        &dir,
        &["eval", "runs/wine/model.safetensors"]
    )));
    // The training file edited after the run: eval says its numbers are not
    // those of the model's own preparation.
    let csv = dir.join("examples/data/wine.csv");
    let edited = std::fs::read_to_string(&csv)
        .unwrap()
        .replace(",1065,", ",9065,");
    std::fs::write(&csv, edited).unwrap();
    assert!(warned(&dlc(&dir, &["eval", "runs/wine/model.safetensors"])));
}

/// The numbers of column `name` of a CSV text.
fn numbers(text: &str, name: &str) -> Vec<f64> {
    column(text, name)
        .iter()
        .map(|v| v.parse().unwrap())
        .collect()
}

#[test]
fn the_model_file_fills_missing_values_as_training_did() {
    let dir = folder("impute");
    // `a` is missing twice, `b` once; their medians over the present
    // values are 2.5 (1, 2, 3, 4) and 4 (1, 3, 4, 8, 9; the mean is 5).
    let train = "a,b,y\n1,1,0\nNA,3,1\n2,,0\n3,4,1\n,8,0\n4,9,1\n";
    std::fs::write(dir.join("train.csv"), train).unwrap();
    std::fs::write(
        dir.join("m.dl"),
        r#"data d = csv("train.csv", label: "y") { impute median; standardize }
network net(x: [2]) -> 2 { dense 4; tanh; dense 2 }
train net on d { loss cross_entropy; optimizer adam(lr: 0.05); batch 2; epochs 5 }
"#,
    )
    .unwrap();
    ok(dlc(&dir, &["run", "m.dl", "-q", "--out", "runs/m"]));
    std::fs::remove_file(dir.join("train.csv")).unwrap();
    let model = "runs/m/model.safetensors";
    // The missing cells and the medians written out predict the same.
    std::fs::write(dir.join("gaps.csv"), "id,b,a\nr1,,NA\nr2,7,\nr3,N/A,0\n").unwrap();
    std::fs::write(dir.join("full.csv"), "id,b,a\nr1,4,2.5\nr2,7,2.5\nr3,4,0\n").unwrap();
    let gaps = ok(dlc(&dir, &["predict", model, "--input", "gaps.csv"]));
    let full = ok(dlc(&dir, &["predict", model, "--input", "full.csv"]));
    assert_eq!(column(&gaps, "p_0"), column(&full, "p_0"), "{gaps}\n{full}");
    assert_eq!(column(&gaps, "id"), ["r1", "r2", "r3"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_model_trained_without_impute_refuses_a_missing_value() {
    let dir = folder("no-impute");
    std::fs::write(dir.join("train.csv"), "a,b,y\n1,1,0\n2,3,1\n3,4,0\n").unwrap();
    std::fs::write(
        dir.join("m.dl"),
        r#"data d = csv("train.csv", label: "y")
network net(x: [2]) -> 2 { dense 2 }
train net on d { loss cross_entropy; optimizer sgd(lr: 0.1); batch 3; epochs 1 }
"#,
    )
    .unwrap();
    ok(dlc(&dir, &["run", "m.dl", "-q", "--out", "runs/m"]));
    std::fs::write(dir.join("gaps.csv"), "a,b\n1,2\n3,null\n").unwrap();
    let o = dlc(
        &dir,
        &["predict", "runs/m/model.safetensors", "--input", "gaps.csv"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("gaps.csv:3:3: missing value in column \"b\": found \"null\"")
            && e.contains("the model was trained without `impute`"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn standardized_targets_come_back_in_their_own_units() {
    let dir = folder("diabetes-targets");
    std::fs::copy("examples/data/diabetes.csv", dir.join("d.csv")).unwrap();
    std::fs::write(
        dir.join("d.dl"),
        r#"data d = csv("d.csv", target: "progression") { standardize features, targets; validation 0.2; seed 3 }
network net(x: [10]) -> 1 { dense 16; relu; dense 1 }
train net on d { loss mse; optimizer adam(lr: 0.01); batch 32; epochs 20 }
"#,
    )
    .unwrap();
    let run = dlc(&dir, &["run", "d.dl", "--out", "runs/d"]);
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    assert!(
        said.contains(
            "note: with `standardize targets` the losses are those of the standardized targets"
        ),
        "{said}"
    );
    let model = "runs/d/model.safetensors";
    let out = ok(dlc(&dir, &["predict", model, "--input", "d.csv"]));
    let predicted = numbers(&out, "predicted_progression");
    let truth = numbers(&out, "progression");
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // The targets average about 152: predictions in standardized units
    // would average near 0.
    let (p, t) = (mean(&predicted), mean(&truth));
    assert!(
        (p - t).abs() < 0.1 * t,
        "predictions average {p}, targets {t}"
    );

    // R² of the predictions against the true targets, as `eval` reports it
    // on the same file.
    let ss_res: f64 = truth
        .iter()
        .zip(&predicted)
        .map(|(t, p)| (t - p).powi(2))
        .sum();
    let ss_tot: f64 = truth.iter().map(|v| (v - t).powi(2)).sum();
    let r2 = 1.0 - ss_res / ss_tot;
    let report = ok(dlc(
        &dir,
        &["eval", model, "--data", "d.csv", "--format", "json"],
    ));
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    let set = &json["sets"][0];
    assert_eq!(set["loss_of_standardized_targets"], true, "{report}");
    let reported = set["metrics"]["r2"].as_f64().unwrap();
    assert!(r2 > 0.3, "the model learnt something: R² {r2}");
    assert!(
        (reported - r2).abs() < 1e-4,
        "eval {reported}, predictions {r2}"
    );
    // MAE too: in the targets' units, tens, not the fraction of a deviation.
    let mae = mean(
        &truth
            .iter()
            .zip(&predicted)
            .map(|(t, p)| (t - p).abs())
            .collect::<Vec<_>>(),
    );
    let reported_mae = set["metrics"]["mae"].as_f64().unwrap();
    assert!(
        (reported_mae - mae).abs() < 1e-3 * mae,
        "eval {reported_mae}, predictions {mae}"
    );
    let human = ok(dlc(&dir, &["eval", model, "--data", "d.csv"]));
    assert!(human.contains("(of the standardized targets)"), "{human}");
    let _ = std::fs::remove_dir_all(&dir);
}
