//! The tuner's promise at the program's own budget: what `dlc tune --write`
//! writes trains at least as well as the program did, as `dlc run` trains
//! it; ties on the grid keep the program's values; and the rule that
//! decides between the program and the grid's proposal.

use dlc::recipe::choice::{self, TIE, propose};
use dlc::recipe::confirm::judge;
use dlc::recipe::{Axis, Bench, GridPoint, Keep, Outcome, Setting, Stage, TuneOptions, tune};
use dlc::{BackendKind, EpochMetrics, TrainOptions};
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-confirm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The validation loss and accuracy of the weights a run of `text` keeps
/// (the best epoch's with early stopping, else the last's), from `seed`.
fn trained(text: &str, seed: u64) -> (f64, f64) {
    let mut model = dlc::compile(text).unwrap();
    let options = TrainOptions {
        seed: Some(seed),
        ..TrainOptions::default()
    };
    let report = model.train(&options, &mut |_| {}).unwrap();
    let kept = &report.epochs[report.best_epoch.unwrap() - 1];
    (kept.val_loss.unwrap(), kept.val_acc.unwrap())
}

/// Mean validation accuracy over `seeds`.
fn mean_accuracy(text: &str, seeds: &[u64]) -> f64 {
    seeds.iter().map(|&s| trained(text, s).1).sum::<f64>() / seeds.len() as f64
}

/// Runs `dlc tune --write` on `text` with a small grid; gives the program
/// as written back, and the command's output.
fn tune_and_write(text: &str, dir: &Path) -> (String, String) {
    let file = dir.join("program.dl");
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args(["tune", "--epochs", "2", "--fine-epochs", "4", "--top", "1"])
        .args(["--finder-steps", "60", "--write"])
        .arg(&file)
        .arg("--out")
        .arg(dir.join("report"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (std::fs::read_to_string(&file).unwrap(), stdout)
}

/// The plan's seed and the next four: the confirmation's three, and two it
/// never saw.
const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

fn assert_no_worse(original: &str, written: &str, stdout: &str) {
    let (before, after) = (
        mean_accuracy(original, &SEEDS),
        mean_accuracy(written, &SEEDS),
    );
    assert!(
        after >= before,
        "mean validation accuracy fell from {before} to {after}\n{stdout}\n{written}"
    );
}

/// Wine (13 measurements, 3 cultivars), its class names made indices.
fn wine_program(dir: &Path) -> String {
    let csv = std::fs::read_to_string("examples/data/wine.csv")
        .unwrap()
        .replace(",class_", ",");
    let data = dir.join("wine.csv");
    std::fs::write(&data, csv).unwrap();
    format!(
        r#"data wine = csv("{}", label: "cultivar", classes: 3) {{
    standardize
    validation 0.25
    seed       7
}}

network wine_net(x: [13]) -> 3 {{
    dense 32
    relu
    dense 3
}}

train wine_net on wine {{
    loss      cross_entropy
    optimizer adam(lr: 0.01)
    batch     16
    epochs    60
    l2        0.001
    seed      1
}}
"#,
        data.display().to_string().replace('\\', "/")
    )
}

/// On wine, the rate that learns fastest in 4 epochs does worse by epoch
/// 60: written unconfirmed, it would lower the accuracy.
#[test]
fn on_wine_the_written_program_is_no_worse_at_its_own_budget() {
    let dir = temp_dir("wine");
    let original = wine_program(&dir);
    let (written, stdout) = tune_and_write(&original, &dir);
    assert_no_worse(&original, &written, &stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// On iris with a rate far too low for its 50 epochs, the tuner's rate is
/// confirmed and written, and trains better.
#[test]
fn on_iris_a_confirmed_setting_is_written_and_no_worse() {
    let dir = temp_dir("iris");
    let original = std::fs::read_to_string("examples/iris.dl")
        .unwrap()
        .replace("adam(lr: 0.01)", "adam(lr: 0.001)")
        .replace("epochs    100", "epochs    50");
    assert!(original.contains("adam(lr: 0.001)") && original.contains("epochs    50"));
    let (written, stdout) = tune_and_write(&original, &dir);
    assert_ne!(written, original, "{stdout}");
    assert!(stdout.contains("\ntuned: learning rate "), "{stdout}");
    assert_no_worse(&original, &written, &stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The confirmation trains the program as `dlc run` does: the same loss,
/// seed by seed, as compiling and training it from the same seeds.
#[test]
fn the_confirmation_trains_as_dlc_run_does() {
    let text = std::fs::read_to_string("tests/programs/tune_small.dl")
        .unwrap()
        .replace("sgd(lr: 0.1,", "sgd(lr: 0.003,")
        .replace(
            "epochs    20",
            "epochs    20\n    early_stop val_loss, patience: 3",
        );
    let bench = Bench::new(&text, BackendKind::Jit, "tune").unwrap();
    assert!(bench.plan.early_stop.is_some(), "{text}");
    let mut options = TuneOptions {
        coarse_epochs: 1,
        fine_epochs: 1,
        rate_factors: vec![0.3, 1.0],
        decays: Some(vec![0.0]),
        top: 1,
        extensions: 0,
        ..TuneOptions::default()
    };
    options.finder.steps = 60;
    let t = tune(&bench, &options, &|_| {}).unwrap();
    let c = t.confirmation.as_ref().expect("a proposal to confirm");
    assert_eq!(c.seeds, [3, 4, 5], "the plan's seed and the next two");
    assert_eq!(c.epochs, 20);
    let proposed =
        dlc::recipe::write_setting(&text, c.proposal.lr, Some((t.decay_kind, c.proposal.decay)))
            .unwrap();
    for (k, &seed) in c.seeds.iter().enumerate() {
        for (program, outcome) in [(&text, &c.program[k]), (&proposed, &c.proposed[k])] {
            let (loss, accuracy) = trained(program, seed);
            assert!(
                (loss - outcome.loss).abs() <= 1e-6 * loss,
                "seed {seed}: {loss} as run, {} confirmed",
                outcome.loss
            );
            assert_eq!(Some(accuracy), outcome.accuracy);
        }
    }
    assert_eq!(t.chosen() == c.proposal, c.keep.is_none());
}

fn point(stage: Stage, lr: f64, decay: f64, score: f64) -> GridPoint {
    GridPoint {
        stage,
        setting: Setting { lr, decay },
        epochs: 1,
        curve: vec![EpochMetrics {
            epoch: 1,
            train_loss: score,
            train_acc: None,
            val_loss: Some(score),
            val_acc: None,
            lr,
            seconds: 0.0,
        }],
        diverged: None,
    }
}

/// A fine grid: at rate 0.05 the decays given with their scores, at rate
/// 0.02 every decay scoring 0.2; then the program's (0.01, l2 0.001).
fn grid(row: &[(f64, f64)], program_score: f64) -> Vec<GridPoint> {
    let mut points: Vec<GridPoint> = row
        .iter()
        .map(|&(d, s)| point(Stage::Fine, 0.05, d, s))
        .collect();
    points.extend(row.iter().map(|&(d, _)| point(Stage::Fine, 0.02, d, 0.2)));
    points.push(point(Stage::Program, 0.01, 0.001, program_score));
    points
}

const PROGRAM: Setting = Setting {
    lr: 0.01,
    decay: 0.001,
};

#[test]
fn decays_that_tie_keep_the_programs_decay() {
    // Flat to the fourth decimal: 0 scores lowest, by noise.
    let flat = grid(&[(0.0, 0.1000), (1e-4, 0.1003), (0.001, 0.1004)], 0.3);
    let p = propose(&flat, 0..flat.len(), PROGRAM);
    assert_eq!(
        p.setting,
        Setting {
            lr: 0.05,
            decay: 0.001
        }
    );
    assert_eq!(p.kept, [Axis::Decay]);
    assert_eq!(p.point, 0, "the best point");

    // Apart by more than the tolerance: the best decay is proposed.
    let apart = grid(&[(0.0, 0.1000), (1e-4, 0.1003), (0.001, 0.13)], 0.3);
    let p = propose(&apart, 0..apart.len(), PROGRAM);
    assert_eq!(
        p.setting,
        Setting {
            lr: 0.05,
            decay: 0.0
        }
    );
    assert!(p.kept.is_empty());
}

#[test]
fn a_program_that_ties_with_the_best_point_is_kept() {
    let close = grid(&[(0.0, 0.1), (1e-4, 0.12)], 0.1 * (1.0 + TIE / 2.0));
    let p = propose(&close, 0..close.len(), PROGRAM);
    assert!(p.is_program(&PROGRAM));
    assert_eq!(close[p.point].stage, Stage::Program);

    let beaten = grid(&[(0.0, 0.1), (1e-4, 0.12)], 0.1 * (1.0 + 2.0 * TIE));
    let p = propose(&beaten, 0..beaten.len(), PROGRAM);
    assert!(!p.is_program(&PROGRAM));
    assert!(choice::ties(0.1, 0.1 * (1.0 + TIE / 2.0)));
}

fn runs(losses: &[f64], accuracy: f64) -> Vec<Outcome> {
    losses
        .iter()
        .map(|&loss| Outcome {
            loss,
            accuracy: Some(accuracy),
            epochs: 10,
        })
        .collect()
}

#[test]
fn the_proposal_must_beat_the_program_by_more_than_the_noise() {
    let program = runs(&[0.30, 0.32, 0.31], 0.9);
    // Lower on every seed, by far more than the spread: written.
    assert_eq!(judge(&program, &runs(&[0.20, 0.21, 0.22], 0.9)), None);
    // Higher: kept.
    assert_eq!(
        judge(&program, &runs(&[0.33, 0.31, 0.32], 0.9)),
        Some(Keep::NotLower)
    );
    // Lower by less than the tie tolerance on every seed: kept.
    let nudged: Vec<f64> = [0.30, 0.32, 0.31]
        .iter()
        .map(|l| l * (1.0 - TIE / 2.0))
        .collect();
    assert_eq!(judge(&program, &runs(&nudged, 0.9)), Some(Keep::Tie));
    // Lower on average, but one seed much better and two worse: noise.
    assert!(matches!(
        judge(&program, &runs(&[0.05, 0.34, 0.33], 0.9)),
        Some(Keep::Noise { .. })
    ));
    // A lower loss with a lower accuracy: kept.
    assert_eq!(
        judge(&program, &runs(&[0.20, 0.21, 0.22], 0.85)),
        Some(Keep::LowerAccuracy)
    );
    // A diverged seed: kept.
    assert_eq!(
        judge(&program, &runs(&[0.20, f64::INFINITY, 0.22], 0.9)),
        Some(Keep::Diverged)
    );
}
