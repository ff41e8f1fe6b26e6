//! The run directory of `dlc run`, `dlc lr-find` and `dlc tune`: every file
//! is there and parses; SVG is well-formed XML; PNG decodes at its size.

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dlc(args: &[&str], cwd: Option<&Path>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dlc"));
    c.args(args);
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "dlc {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn assert_svg(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc =
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(
        doc.descendants().filter(|n| n.has_tag_name("text")).count() > 5,
        "{}: no labels",
        path.display()
    );
}

fn assert_png(path: &Path, size: (u32, u32)) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), size, "{}", path.display());
    // Not blank: lines and text in several colours.
    let colours: std::collections::HashSet<&[u8]> =
        pixels[..info.buffer_size()].chunks(3).collect();
    assert!(
        colours.len() > 20,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn run_writes_metrics_curves_and_report() {
    let dir = temp("run");
    let out = dlc(
        &[
            "run",
            "tests/programs/goodfit.dl",
            "--epochs",
            "6",
            "-q",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("verdict: "), "{stdout}");

    let csv = rows(&std::fs::read_to_string(dir.join("metrics.csv")).unwrap());
    assert_eq!(
        csv[0],
        [
            "epoch",
            "train_loss",
            "train_acc",
            "val_loss",
            "val_acc",
            "lr",
            "seconds"
        ]
    );
    assert_eq!(csv.len(), 7);
    for (i, row) in csv[1..].iter().enumerate() {
        assert_eq!(row[0].parse::<usize>().unwrap(), i + 1);
        for cell in &row[1..] {
            cell.parse::<f64>()
                .unwrap_or_else(|_| panic!("{cell:?} in {row:?}"));
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(json["epochs"].as_array().unwrap().len(), 6);
    assert_eq!(
        json["epochs"][5]["val_loss"].as_f64().unwrap(),
        csv[6][3].parse::<f64>().unwrap()
    );
    assert!(
        ["good fit", "under-fitting", "over-fitting"]
            .contains(&json["verdict"]["fit"].as_str().unwrap())
    );
    assert_eq!(json["done"]["epochs"], 6);
    // The final model on the validation set: the confusion matrix counts
    // every validation sample, and its accuracy is the last epoch's (no
    // early stopping, so the last epoch's weights are kept).
    let fin = &json["final_metrics"];
    assert_eq!(fin["set"], "validation");
    let counted: u64 = fin["metrics"]["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|c| c.as_u64().unwrap()))
        .sum();
    assert_eq!(counted, fin["samples"].as_u64().unwrap());
    assert!(
        (fin["accuracy"].as_f64().unwrap() - json["epochs"][5]["val_acc"].as_f64().unwrap()).abs()
            < 1e-9
    );
    assert!(fin["metrics"]["macro_f1"].as_f64().is_some());

    for chart in ["loss", "accuracy"] {
        assert_svg(&dir.join(format!("{chart}.svg")));
        assert_png(&dir.join(format!("{chart}.png")), (800, 480));
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let program = std::fs::read_to_string("tests/programs/goodfit.dl").unwrap();
    assert!(html.contains("# A well-set run: enough data for the model, a sensible rate."));
    assert!(
        html.contains(
            &program
                .lines()
                .find(|l| l.contains("optimizer"))
                .unwrap()
                .to_string()
        )
    );
    assert!(
        html.contains("total: 1,218 trainable parameters"),
        "the summary table"
    );
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "loss, accuracy and the confusion matrix"
    );
    assert!(html.contains("Verdict: "));
    assert!(html.contains("<h2>Final model</h2>"));
    // Self-contained: nothing is fetched.
    for outside in ["src=", "href=", "@import", "url("] {
        assert!(
            !html.contains(outside),
            "report.html refers outside: {outside}"
        );
    }
    // Written atomically: no temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_directory_defaults_to_runs_and_the_file_stem() {
    let dir = temp("default");
    let program = std::fs::canonicalize("tests/programs/underfit.dl").unwrap();
    dlc(&["run", program.to_str().unwrap(), "-q"], Some(&dir));
    let run = dir.join("runs").join("underfit");
    for f in [
        "metrics.csv",
        "metrics.json",
        "loss.svg",
        "loss.png",
        "accuracy.svg",
        "accuracy.png",
        "report.html",
    ] {
        assert!(run.join(f).is_file(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn regression_runs_have_no_accuracy_chart() {
    let dir = temp("regression");
    dlc(
        &[
            "run",
            "examples/regression.dl",
            "--epochs",
            "2",
            "-q",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(dir.join("loss.svg").is_file());
    assert!(!dir.join("accuracy.svg").exists());
    let csv = rows(&std::fs::read_to_string(dir.join("metrics.csv")).unwrap());
    assert_eq!(csv[1][2], "", "no training accuracy for regression");
    // The final model's errors beside its loss, which is the last epoch's
    // validation loss (the weights of the last epoch are kept).
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let fin = &json["final_metrics"];
    assert_eq!(fin["set"], "validation");
    let loss = fin["loss"].as_f64().unwrap();
    let last = json["epochs"][1]["val_loss"].as_f64().unwrap();
    assert!(
        (loss - last).abs() <= 1e-6 * last.max(1.0),
        "{loss} against {last}"
    );
    // With one output, the mean squared error is the square of the RMSE.
    let rmse = fin["metrics"]["rmse"].as_f64().unwrap();
    assert!(
        (rmse * rmse - loss).abs() <= 1e-3 * loss,
        "{rmse} squared against {loss}"
    );
    assert!(fin["metrics"]["mae"].as_f64().unwrap() <= rmse);
    assert!(fin["metrics"]["r2"].as_f64().is_some());
    assert!(
        !json["final_metrics"]["metrics"]
            .as_object()
            .unwrap()
            .contains_key("confusion")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lr_find_writes_its_sweep_and_plot() {
    let dir = temp("lr");
    let out = dlc(
        &[
            "lr-find",
            "tests/programs/tune_small.dl",
            "--steps",
            "80",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("suggested learning rate: "), "{stdout}");
    let csv = rows(&std::fs::read_to_string(dir.join("lr_find.csv")).unwrap());
    assert_eq!(csv[0], ["lr", "loss", "smoothed"]);
    let rates: Vec<f64> = csv[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(rates.len() > 20 && rates.len() <= 80);
    assert!(rates.windows(2).all(|w| w[1] > w[0]), "rates rise");
    assert!((rates[0] - 1e-6).abs() < 1e-12);
    assert_svg(&dir.join("lr_find.svg"));
    assert_png(&dir.join("lr_find.png"), (800, 480));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tune_writes_grid_heat_maps_and_report() {
    let dir = temp("tune");
    dlc(
        &[
            "tune",
            "tests/programs/tune_small.dl",
            "--epochs",
            "1",
            "--fine-epochs",
            "1",
            "--top",
            "1",
            "--finder-steps",
            "60",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    let csv = rows(&std::fs::read_to_string(dir.join("tune.csv")).unwrap());
    assert_eq!(csv[0][..3], ["stage", "learning_rate", "l2"]);
    // 4 rates x 4 decays, and at most two more rates past an edge of the grid.
    let coarse = csv[1..].iter().filter(|r| r[0] == "coarse").count();
    assert!([16, 20, 24].contains(&coarse), "{coarse} coarse points");
    assert!(csv[1..].iter().any(|r| r[0] == "fine"));
    assert_eq!(csv[1..].iter().filter(|r| r[0] == "program").count(), 1);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tune.json")).unwrap()).unwrap();
    assert_eq!(json["points"].as_array().unwrap().len(), csv.len() - 1);
    assert!(json["winner"]["lr"].as_f64().unwrap() > 0.0);
    // The decision is always recorded; the confirmation when there was one,
    // with one loss per seed on each side.
    let kept = json["decision"]["kept"].as_str().unwrap();
    assert!(["proposal", "program"].contains(&kept), "{kept}");
    let confirmation = &json["confirmation"];
    if confirmation.is_null() {
        assert_eq!(json["decision"]["reason"], "program_best_on_grid");
    } else {
        let seeds = confirmation["seeds"].as_array().unwrap().len();
        assert!(seeds >= 1);
        for side in ["program", "proposal"] {
            assert_eq!(
                confirmation[side]["losses"].as_array().unwrap().len(),
                seeds
            );
        }
        assert_eq!(confirmation["kept"], kept);
    }
    for map in ["grid_coarse", "grid_fine", "lr_find"] {
        assert_svg(&dir.join(format!("{map}.svg")));
        assert_png(&dir.join(format!("{map}.png")), (800, 480));
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<table") && html.contains("class=\"best\""));
    assert!(html.contains("<h2>Confirmation</h2>") && html.contains("Kept: "));
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "finder, two heat maps, the winner's curves"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_diverged_run_still_leaves_a_report() {
    let dir = temp("diverged");
    let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args([
            "run",
            "tests/programs/diverge.dl",
            "-q",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("training diverged at epoch 1"),
        "the verdict says why"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"]["fit"], "not judged");
    assert!(json["error"].as_str().unwrap().contains("diverged"));
    assert_svg(&dir.join("loss.svg"));
    let _ = std::fs::remove_dir_all(&dir);
}
