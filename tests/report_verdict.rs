//! The verdict: the rules on made-up curves, and real runs of programs built
//! to over-fit, under-fit and fit well.

use dlc::EpochMetrics;
use dlc::report::{Fit, judge};
use std::process::Command;

fn epoch(epoch: usize, train: f64, val: Option<f64>) -> EpochMetrics {
    EpochMetrics {
        epoch,
        train_loss: train,
        train_acc: None,
        val_loss: val,
        val_acc: None,
        lr: 0.1,
        seconds: 0.0,
    }
}

/// Curves from functions of the epoch (1..=n).
fn curves(n: usize, train: impl Fn(f64) -> f64, val: impl Fn(f64) -> f64) -> Vec<EpochMetrics> {
    (1..=n)
        .map(|e| epoch(e, train(e as f64), Some(val(e as f64))))
        .collect()
}

#[test]
fn rising_validation_loss_with_a_wide_gap_is_over_fitting() {
    // Training loss falls to ~0; validation falls until epoch 10, then rises.
    let e = curves(
        40,
        |t| 0.7 * (-t / 5.0).exp(),
        |t| 0.3 + 0.01 * (t - 10.0).powi(2) / 10.0,
    );
    let v = judge(&e, None, None, 0.7);
    assert_eq!(v.fit, Fit::OverFitting, "{}", v.text());
    assert_eq!(v.evidence.best_val_epoch, Some(10));
    assert!(v.evidence.gap.unwrap() > 0.1 && v.evidence.val_rise.unwrap() > 0.05);
}

#[test]
fn both_poor_and_close_is_under_fitting() {
    let e = curves(5, |t| 1.05 - 0.01 * t, |t| 1.06 - 0.01 * t);
    let v = judge(&e, None, None, 1.0986);
    assert_eq!(v.fit, Fit::UnderFitting, "{}", v.text());
    assert!(v.evidence.skill < 0.5);
}

#[test]
fn worse_than_the_baseline_blames_the_rate() {
    let e = curves(10, |_| 500.0, |_| 500.0);
    let v = judge(&e, None, None, 1.0986);
    assert_eq!(v.fit, Fit::UnderFitting, "{}", v.text());
    assert!(
        v.advice.iter().any(|a| a.contains("likely too high")),
        "{}",
        v.text()
    );
    let mild = judge(&curves(5, |_| 0.9, |_| 0.9), None, None, 1.0986);
    assert!(
        mild.advice.iter().all(|a| !a.contains("too high")),
        "{}",
        mild.text()
    );
}

#[test]
fn both_good_and_close_is_a_good_fit() {
    let e = curves(30, |t| 0.05 + 1.0 / t, |t| 0.07 + 1.0 / t);
    let v = judge(&e, None, None, 1.0986);
    assert_eq!(v.fit, Fit::GoodFit, "{}", v.text());
}

#[test]
fn a_wide_but_steady_gap_is_not_over_fitting() {
    let e = curves(30, |t| 0.05 + 0.5 / t, |t| 0.35 + 0.5 / t);
    let v = judge(&e, None, None, 1.0);
    assert_eq!(v.fit, Fit::GoodFit, "{}", v.text());
    assert!(v.reasons.iter().any(|r| r.contains("steady")));
}

#[test]
fn without_validation_only_under_fitting_is_judged() {
    let poor: Vec<EpochMetrics> = (1..=5).map(|e| epoch(e, 0.9, None)).collect();
    assert_eq!(judge(&poor, None, None, 1.0).fit, Fit::UnderFitting);
    let fine: Vec<EpochMetrics> = (1..=5).map(|e| epoch(e, 0.1, None)).collect();
    assert_eq!(judge(&fine, None, None, 1.0).fit, Fit::Unknown);
    assert_eq!(judge(&[], None, None, 1.0).fit, Fit::Unknown);
}

/// `dlc run --json` on a program; the last line's verdict.
fn run_verdict(path: &str) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!(
        "dlc-verdict-{}-{}",
        std::process::id(),
        path.replace('/', "_")
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args(["run", "--json", path, "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let done: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(done["event"], "done");
    let _ = std::fs::remove_dir_all(&dir);
    done["verdict"].clone()
}

#[test]
fn tiny_data_and_a_big_model_over_fit() {
    let v = run_verdict("tests/programs/overfit.dl");
    assert_eq!(v["fit"], "over-fitting", "{v:#}");
    assert!(v["gap"].as_f64().unwrap() > 0.1);
}

#[test]
fn a_tiny_model_trained_briefly_under_fits() {
    let v = run_verdict("tests/programs/underfit.dl");
    assert_eq!(v["fit"], "under-fitting", "{v:#}");
    assert!(v["skill"].as_f64().unwrap() < 0.5);
}

#[test]
fn a_sensible_run_fits_well() {
    let v = run_verdict("tests/programs/goodfit.dl");
    assert_eq!(v["fit"], "good fit", "{v:#}");
}

#[test]
fn a_gap_that_narrows_is_said_to_narrow() {
    // Best validation earlier, then the gap narrows while validation rises a little.
    let e = curves(
        10,
        |t| if t < 5.0 { 0.3 } else { 0.45 },
        |t| if t < 5.0 { 0.6 } else { 0.61 },
    );
    let v = judge(&e, None, None, 1.0986);
    assert!(v.evidence.gap_growth.unwrap() < 0.0, "{}", v.text());
    assert!(v.text().contains("the gap narrowed by"), "{}", v.text());
    assert!(!v.text().contains("widened by -"), "{}", v.text());
}

#[test]
fn a_loss_a_hair_above_the_baseline_is_not_called_worse() {
    let ln2 = std::f64::consts::LN_2;
    let v = judge(&curves(5, |_| ln2 + 3e-4, |_| ln2 + 3e-4), None, None, ln2);
    assert_eq!(v.fit, Fit::UnderFitting, "{}", v.text());
    assert!(!v.text().contains("worse than ignoring"), "{}", v.text());
    assert!(
        v.text().contains("learned nothing from the inputs"),
        "{}",
        v.text()
    );
}
