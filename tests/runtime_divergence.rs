//! Divergence: a step whose values leave the finite numbers writes none of
//! them into the parameters, the state or a checkpoint; the run stops naming
//! the first layer that went wrong, with advice that follows the cause.

use dlc::RunError;
use dlc::runtime::diverge::{Divergence, Finding, Stage};
use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-diverge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The iris example with its optimizer, batch and data path replaced.
fn iris(optimizer: &str, batch: &str, csv: &str, checkpoint: Option<&PathBuf>) -> String {
    let mut text = std::fs::read_to_string("examples/iris.dl")
        .unwrap()
        .replace("adam(lr: 0.01)", optimizer)
        .replace("batch     16", batch)
        .replace("examples/data/iris.csv", csv)
        .replace("    standardize\n", "")
        .replace("    validation 0.2\n", "");
    if let Some(c) = checkpoint {
        text = text.replace(
            "    seed      1\n}",
            &format!("    seed      1\n    checkpoint \"{}\"\n}}", c.display()),
        );
    }
    text
}

fn diverged(source: &str) -> (Box<Divergence>, dlc::CompiledModel) {
    let mut model = dlc::compile(source).unwrap();
    match model.train(&Default::default(), &mut |_| {}) {
        Err(RunError::Diverged(d)) => (d, model),
        other => panic!("expected a divergence, got {other:?}"),
    }
}

fn all_finite(model: &dlc::CompiledModel) -> bool {
    let b = &model.buffers();
    b.params.iter().chain(&b.states).all(|x| x.is_finite())
}

/// A CSV like iris with its first column replaced by `value` in `rows` rows.
fn iris_with(value: &str, rows: usize) -> PathBuf {
    let text = std::fs::read_to_string("examples/data/iris.csv").unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        match line.split_once(',') {
            Some((_, rest)) if i > 0 && i <= rows => out += &format!("{value},{rest}\n"),
            _ => out += &format!("{line}\n"),
        }
    }
    let path = temp(&format!("iris_{value}_{rows}.csv"));
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn a_huge_rate_never_writes_a_non_finite_weight() {
    let ckpt = temp("huge_rate.ckpt");
    let source = iris(
        "sgd(lr: 1e38)",
        "batch all",
        "examples/data/iris.csv",
        Some(&ckpt),
    );
    let (d, model) = diverged(&source);
    assert!(matches!(d.finding, Finding::NotFinite(Some(_))), "{d}");
    assert!(all_finite(&model), "a non-finite value reached the buffers");
    // The checkpoint of the last good epoch reads back: every value finite.
    if ckpt.exists() {
        dlc::runtime::tensor_file::read(&ckpt, u64::MAX).expect("a finite checkpoint");
    }
    assert!(
        d.advice
            .contains("the learning rate 1e38 is likely too high"),
        "{d}"
    );
}

#[test]
fn the_model_keeps_the_weights_from_before_the_failing_step() {
    // One step per epoch: step 1 leaves huge but finite weights, step 2
    // overflows in the forward pass.
    let source = iris("sgd(lr: 1e38)", "batch all", "examples/data/iris.csv", None);
    let (d, model) = diverged(&source);
    assert_eq!((d.epoch, d.step), (2, 2), "{d}");
    let mut one_epoch = dlc::compile(&source).unwrap();
    let options = dlc::TrainOptions {
        epochs: Some(1),
        ..Default::default()
    };
    one_epoch.train(&options, &mut |_| {}).unwrap();
    assert_eq!(model.buffers().params, one_epoch.buffers().params);
    assert_eq!(model.buffers().states, one_epoch.buffers().states);
    assert_eq!(model.steps_taken(), 1);
    // Which layer overflows first depends on how far step 1 moved each
    // layer's weights, which their initial scales decide; that it is named
    // is checked below (`the_first_layer_to_overflow_is_named_with_its_line`).
    match d.stage() {
        Some(Stage::Forward(site)) => {
            assert!(["dense1", "dense2"].contains(&site.layer.as_str()), "{d}")
        }
        other => panic!("expected the forward pass, got {other:?}"),
    }
}

#[test]
fn huge_inputs_are_blamed_not_the_rate() {
    for rows in [150, 1] {
        let csv = iris_with("1e30", rows);
        let ckpt = temp(&format!("inputs_{rows}.ckpt"));
        let source = iris(
            "adam(lr: 0.01)",
            "batch 16",
            &csv.display().to_string(),
            Some(&ckpt),
        );
        let (d, model) = diverged(&source);
        assert!(all_finite(&model), "{d}");
        assert!(
            d.advice.contains("the inputs are large") && d.advice.contains("standardize"),
            "{rows} rows: {d}"
        );
        if ckpt.exists() {
            dlc::runtime::tensor_file::read(&ckpt, u64::MAX).expect("a finite checkpoint");
        }
    }
}

#[test]
fn the_first_layer_to_overflow_is_named_with_its_line() {
    let source = "data d = blobs(points: 64, features: 4, classes: 2)\n\
        network net(x: [4]) -> 2 {\n\
            dense 8, init: normal(std: 1e20)\n\
            dense 8, init: normal(std: 1e20)\n\
            dense 2\n\
        }\n\
        train net on d { loss cross_entropy; optimizer sgd(lr: 0.01); batch 16; epochs 2 }\n";
    let (d, model) = diverged(source);
    assert!(all_finite(&model));
    let text = d.render("net.dl");
    match d.stage() {
        Some(Stage::Forward(site)) => {
            assert_eq!((site.layer.as_str(), site.line), ("dense2", 4), "{text}");
        }
        other => panic!("expected the forward pass, got {other:?}: {text}"),
    }
    assert!(text.contains("--> net.dl:4:"), "{text}");
    // The first step already fails, and the weights were drawn wide.
    assert!(d.advice.contains("initialisation"), "{text}");
}

#[test]
fn a_finite_loss_that_explodes_is_still_divergence() {
    let source = std::fs::read_to_string("examples/spirals.dl")
        .unwrap()
        .replace("sgd(lr: 0.1)", "sgd(lr: 1e12)");
    let (d, model) = diverged(&source);
    assert!(all_finite(&model));
    assert!(
        matches!(d.finding, Finding::LossGrew | Finding::NotFinite(_)),
        "{d}"
    );
}
