//! `dlc sanity`: the examples pass; broken variants fail with the right
//! diagnosis and exit status 1.

use dlc::BackendKind;
use dlc::recipe::{Bench, SanityOptions, SanityReport, sanity};
use std::process::Command;

fn checks(path: &str, options: &SanityOptions) -> SanityReport {
    let text = std::fs::read_to_string(path).unwrap();
    let bench = Bench::new(&text, BackendKind::Jit, "check").unwrap();
    sanity(&bench, options, &mut |_| {}).unwrap()
}

fn assert_passes(path: &str) {
    let report = checks(path, &SanityOptions::default());
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.text())
        .collect();
    assert!(failed.is_empty(), "{path}:\n{}", failed.join("\n"));
    assert_eq!(report.checks.len(), 3);
}

#[test]
fn examples_pass() {
    for path in [
        "examples/xor.dl",
        "examples/iris.dl",
        "examples/regression.dl",
        "examples/branches.dl",
        "examples/spirals_sgd1.dl",
        "examples/digits_mlp.dl",
    ] {
        assert_passes(path);
    }
}

#[test]
fn spirals_passes() {
    assert_passes("examples/spirals.dl");
}

fn quick() -> SanityOptions {
    SanityOptions {
        max_steps: 300,
        ..SanityOptions::default()
    }
}

#[test]
fn rate_too_high_is_diagnosed() {
    let report = checks("tests/programs/spirals_lr100.dl", &quick());
    let fit = report.check("overfit").unwrap();
    assert!(!fit.passed);
    assert!(
        fit.advice.iter().any(|a| a.contains("likely too high")),
        "{}",
        fit.text()
    );
    // The rate does not affect the fresh network or its gradients.
    assert!(report.check("initial loss").unwrap().passed);
    assert!(report.check("gradients").unwrap().passed);
}

#[test]
fn rate_too_low_is_diagnosed() {
    let report = checks("tests/programs/spirals_lr1e-9.dl", &quick());
    let fit = report.check("overfit").unwrap();
    assert!(!fit.passed);
    assert!(
        fit.advice
            .iter()
            .any(|a| a.contains("did not fall") && a.contains("likely too low")),
        "{}",
        fit.text()
    );
    assert!(
        !fit.advice.iter().any(|a| a.contains("too high")),
        "{}",
        fit.text()
    );
}

#[test]
fn wide_init_is_diagnosed() {
    let report = checks("tests/programs/spirals_bad_init.dl", &quick());
    let init = report.check("initial loss").unwrap();
    assert!(!init.passed, "{}", init.text());
    let named = |a: &String| {
        a.contains("initialisation scale is too large")
            && a.contains("`dense1`")
            && a.contains("normal(std: 100)")
    };
    assert!(init.advice.iter().any(named), "{}", init.text());
}

#[test]
fn wide_init_behind_tanh_is_named_by_the_overfit_check() {
    // tanh bounds what the wide layer passes on, so the loss starts near
    // chance; the overfitting check still fails and names the layer.
    let text = std::fs::read_to_string("tests/programs/spirals_bad_init.dl")
        .unwrap()
        .replace("relu", "tanh");
    let bench = Bench::new(&text, BackendKind::Jit, "check").unwrap();
    let report = sanity(&bench, &quick(), &mut |_| {}).unwrap();
    let fit = report.check("overfit").unwrap();
    assert!(!fit.passed, "{}", fit.text());
    assert!(
        fit.advice
            .iter()
            .any(|a| a.contains("`dense1`") && a.contains("normal(std: 100)")),
        "{}",
        fit.text()
    );
}

#[test]
fn command_prints_pass_and_fail_lines_and_exits_by_outcome() {
    let bin = env!("CARGO_BIN_EXE_dlc");
    let ok = Command::new(bin)
        .args(["sanity", "examples/xor.dl"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{out}");
    for name in [
        "PASS initial loss",
        "PASS gradients",
        "PASS overfit",
        "sanity: all 3 checks passed",
    ] {
        assert!(out.contains(name), "{out}");
    }
    let bad = Command::new(bin)
        .args([
            "sanity",
            "tests/programs/spirals_lr100.dl",
            "--max-steps",
            "100",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL overfit")
            && out.contains("help: the learning rate 100 is likely too high"),
        "{out}"
    );
    assert!(out.contains("sanity: 1 of 3 checks failed"), "{out}");
}
