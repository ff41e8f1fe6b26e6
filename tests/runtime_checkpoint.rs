//! Checkpoints: resuming reproduces an unbroken run bit for bit, early
//! stopping included; identical runs write identical files; a truncated,
//! corrupt, foreign or non-finite checkpoint is a clear error that changes
//! nothing.

mod checkpoint_support;
use checkpoint_support::{metadata, rewrite};
use dlc::runtime::checkpoint;
use dlc::{BackendKind, TrainOptions};
use std::path::{Path, PathBuf};

fn program(ckpt: &Path) -> String {
    format!(
        r#"
data d = spirals(points: 60, classes: 3, noise: 0.2) {{
    validation 0.25
    seed 4
}}
network n(x: [2]) -> 3 {{
    dense 16
    batchnorm
    relu
    dropout 0.1
    dense 3
}}
train n on d {{
    loss       cross_entropy
    optimizer  adam(lr: 0.01)
    batch      16
    epochs     5
    checkpoint "{}"
    seed       11
}}
"#,
        ckpt.display()
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn train(src: &str, kind: BackendKind, epochs: usize, resume: Option<&Path>) -> dlc::CompiledModel {
    let mut m = dlc::compile_with(src, kind).unwrap();
    if let Some(path) = resume {
        checkpoint::load(&mut m, path, src).unwrap();
    }
    m.train(
        &TrainOptions {
            epochs: Some(epochs),
            seed: None,
            ..Default::default()
        },
        &mut |_| {},
    )
    .unwrap();
    m
}

#[test]
fn three_epochs_then_two_more_equal_five_straight() {
    for kind in [BackendKind::Interpreter, BackendKind::Jit] {
        let dir = temp_dir("resume");
        let straight = train(&program(&dir.join("straight.safetensors")), kind, 5, None);
        let ckpt = dir.join("split.safetensors");
        let src = program(&ckpt);
        let first = train(&src, kind, 3, None);
        assert_eq!(first.epochs_trained(), 3);
        let resumed = train(&src, kind, 5, Some(&ckpt));
        assert_eq!(resumed.epochs_trained(), 5);
        assert_eq!(resumed.steps_taken(), straight.steps_taken());
        assert_eq!(
            resumed.buffers().params,
            straight.buffers().params,
            "{kind:?}: parameters differ"
        );
        assert_eq!(
            resumed.buffers().states,
            straight.buffers().states,
            "{kind:?}: state differs"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_truncated_or_corrupt_checkpoint_is_a_clear_error() {
    let dir = temp_dir("corrupt");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    train(&src, BackendKind::Interpreter, 1, None);
    let bytes = std::fs::read(&ckpt).unwrap();
    let mut m = dlc::compile_with(&src, BackendKind::Interpreter).unwrap();
    let before = m.buffers().clone();
    for (name, data) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("header-only", bytes[..16].to_vec()),
        ("garbage", b"this is not a checkpoint at all".to_vec()),
        ("empty", Vec::new()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        let err = checkpoint::load(&mut m, &path, &src)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is not a valid checkpoint") && err.contains(name),
            "{name}: {err}"
        );
        assert_eq!(
            m.buffers(),
            &before,
            "{name}: a failed load changed the model"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn loading_into_another_network_names_the_first_mismatched_tensor() {
    let dir = temp_dir("mismatch");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    train(&src, BackendKind::Interpreter, 1, None);
    let other = src.replace("dense 16", "dense 12");
    let mut m = dlc::compile_with(&other, BackendKind::Interpreter).unwrap();
    let err = checkpoint::load(&mut m, &ckpt, &other)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tensor `dense1.weight` has shape [16, 2] in the checkpoint, [12, 2] here"),
        "{err}"
    );
    let fewer = src.replace("    dropout 0.1\n    dense 3", "    dense 16\n    dense 3");
    let mut m = dlc::compile_with(&fewer, BackendKind::Interpreter).unwrap();
    let err = checkpoint::load(&mut m, &ckpt, &fewer)
        .unwrap_err()
        .to_string();
    assert!(err.contains("dense2.weight"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn checkpoint_names_follow_the_program() {
    let dir = temp_dir("names");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    train(&src, BackendKind::Interpreter, 1, None);
    let bytes = std::fs::read(&ckpt).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "batchnorm1.bias",
            "batchnorm1.running_mean",
            "batchnorm1.running_var",
            "batchnorm1.weight",
            "dense1.bias",
            "dense1.weight",
            "dense2.bias",
            "dense2.weight",
            "optimizer.batchnorm1.bias.adam_m",
            "optimizer.batchnorm1.bias.adam_v",
            "optimizer.batchnorm1.weight.adam_m",
            "optimizer.batchnorm1.weight.adam_v",
            "optimizer.dense1.bias.adam_m",
            "optimizer.dense1.bias.adam_v",
            "optimizer.dense1.weight.adam_m",
            "optimizer.dense1.weight.adam_v",
            "optimizer.dense2.bias.adam_m",
            "optimizer.dense2.bias.adam_v",
            "optimizer.dense2.weight.adam_m",
            "optimizer.dense2.weight.adam_v",
        ]
    );
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], checkpoint::FORMAT);
    assert_eq!(meta["epoch"], "1");
    assert_eq!(meta["source_hash"], checkpoint::source_hash(&src));
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

/// Stops early after 11 epochs (best: 9) with seed 5. 113 training samples
/// in batches of 16 leave a last batch of one, which batch norm skips.
fn stopping_program(ckpt: &Path, schedule: &str, early_stop: &str) -> String {
    format!(
        r#"
data d = spirals(points: 54, classes: 3, noise: 0.3) {{
    validation 0.3
    seed 4
}}
network n(x: [2]) -> 3 {{
    dense 16
    batchnorm
    relu
    dropout 0.1
    dense 3
}}
train n on d {{
    loss       cross_entropy
    optimizer  adam(lr: 0.05)
    schedule   {schedule}
    batch      16
    epochs     40
    early_stop {early_stop}
    checkpoint "{}"
    seed       11
}}
"#,
        ckpt.display()
    )
}

fn without_seconds(epochs: &[dlc::EpochMetrics]) -> Vec<dlc::EpochMetrics> {
    epochs
        .iter()
        .map(|m| dlc::EpochMetrics {
            seconds: 0.0,
            ..m.clone()
        })
        .collect()
}

#[test]
fn a_run_resumed_after_any_epoch_equals_the_unbroken_run_early_stopping_included() {
    let dir = temp_dir("resume-stop");
    let ckpt = dir.join("c.safetensors");
    let src = stopping_program(&ckpt, "cosine(warmup: 1)", "val_loss, patience: 2");
    // A seed given to the first run only: the resumed run keeps it.
    let options = TrainOptions {
        seed: Some(5),
        // A checkpoint after every epoch, to resume from each.
        checkpoint_interval: Some(std::time::Duration::ZERO),
        ..Default::default()
    };
    let mut straight = dlc::compile_with(&src, BackendKind::Jit).unwrap();
    let mut copies = Vec::new();
    let report = straight
        .train(&options, &mut |m| {
            // When epoch e's metrics arrive, the file holds epoch e - 1's
            // checkpoint: what a kill during epoch e leaves behind.
            if m.epoch > 1 {
                let copy = dir.join(format!("after{}.safetensors", m.epoch - 1));
                std::fs::copy(&ckpt, &copy).unwrap();
                copies.push((m.epoch - 1, copy));
            }
        })
        .unwrap();
    let dlc::StopReason::EarlyStop { best_epoch, .. } = report.stop else {
        panic!("early stopping should fire: {:?}", report.stop);
    };
    assert!(best_epoch + 2 == report.epochs.len() && best_epoch > 3);
    assert_eq!(report.best_epoch, Some(best_epoch));
    let final_bytes = std::fs::read(&ckpt).unwrap();
    for (k, copy) in &copies {
        let mut m = dlc::compile_with(&src, BackendKind::Jit).unwrap();
        checkpoint::load(&mut m, copy, &src).unwrap();
        let resumed = m.train(&TrainOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(
            m.buffers().params,
            straight.buffers().params,
            "after {k}: parameters"
        );
        assert_eq!(
            m.buffers().states,
            straight.buffers().states,
            "after {k}: state"
        );
        assert_eq!(
            (m.epochs_trained(), m.steps_taken()),
            (straight.epochs_trained(), straight.steps_taken())
        );
        assert_eq!(resumed.stop, report.stop, "after {k}");
        assert_eq!(resumed.best_epoch, report.best_epoch, "after {k}");
        assert_eq!(
            without_seconds(&resumed.epochs),
            without_seconds(&report.epochs[*k..]),
            "after {k}: the epochs' metrics"
        );
        assert!(
            std::fs::read(&ckpt).unwrap() == final_bytes,
            "after {k}: the last checkpoint differs from the unbroken run's"
        );
    }
    // The last checkpoint holds the best epoch's weights and says so; a run
    // resumed from it is over, and keeps them.
    let info = checkpoint::load(&mut straight.fork(), &ckpt, &src).unwrap();
    assert_eq!(
        (info.epoch, info.weights_epoch),
        (report.epochs.len(), best_epoch)
    );
    assert!(info.stopped_early);
    let mut m = dlc::compile_with(&src, BackendKind::Jit).unwrap();
    checkpoint::load(&mut m, &ckpt, &src).unwrap();
    let again = m.train(&TrainOptions::default(), &mut |_| {}).unwrap();
    assert!(again.epochs.is_empty());
    assert_eq!(
        (again.stop, again.best_epoch),
        (report.stop, report.best_epoch)
    );
    assert_eq!(m.buffers().params, straight.buffers().params);
    let mut weights = dlc::compile_with(&src, BackendKind::Jit).unwrap();
    checkpoint::load_weights(&mut weights, &ckpt, &src).unwrap();
    assert_eq!(weights.buffers().params, straight.buffers().params);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_finished_run_whose_best_epoch_was_restored_continues_from_its_last_epoch() {
    let dir = temp_dir("extend");
    let ckpt = dir.join("c.safetensors");
    // A schedule that does not depend on the run's length, and patience
    // that never runs out: 10 epochs equal k, then 10 - k more. Validation
    // accuracy is best at epoch 2, then from epoch 9 on.
    let src = stopping_program(
        &ckpt,
        "step(every: 3, gamma: 0.5)",
        "val_accuracy, patience: 100",
    );
    let epochs = |n| TrainOptions {
        epochs: Some(n),
        ..Default::default()
    };
    let mut straight = dlc::compile_with(&src, BackendKind::Jit).unwrap();
    straight.train(&epochs(10), &mut |_| {}).unwrap();
    let mut restored = 0;
    for k in 3..9 {
        let mut first = dlc::compile_with(&src, BackendKind::Jit).unwrap();
        let report = first.train(&epochs(k), &mut |_| {}).unwrap();
        let mut m = dlc::compile_with(&src, BackendKind::Jit).unwrap();
        let info = checkpoint::load(&mut m, &ckpt, &src).unwrap();
        assert_eq!(Some(info.weights_epoch), report.best_epoch);
        restored += usize::from(info.weights_epoch != k);
        m.train(&epochs(10), &mut |_| {}).unwrap();
        assert_eq!(
            m.buffers().params,
            straight.buffers().params,
            "{k} + more epochs"
        );
        assert_eq!(m.buffers().states, straight.buffers().states);
        // In memory too.
        first.train(&epochs(10), &mut |_| {}).unwrap();
        assert_eq!(
            first.buffers().params,
            straight.buffers().params,
            "in memory"
        );
    }
    assert!(restored > 0, "no first run ended on an earlier best epoch");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn identical_runs_write_identical_files() {
    let dir = temp_dir("identical");
    let ckpt = dir.join("c.safetensors");
    let src = stopping_program(&ckpt, "cosine(warmup: 1)", "val_loss, patience: 2");
    let files: Vec<Vec<u8>> = (0..3)
        .map(|_| {
            train(&src, BackendKind::Jit, 3, None);
            std::fs::read(&ckpt).unwrap()
        })
        .collect();
    assert!(files[0] == files[1] && files[1] == files[2]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn writing_removes_the_temporary_files_of_dead_writers_only() {
    let dir = temp_dir("stale");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let make = |name: &str, age: std::time::SystemTime| {
        let f = std::fs::File::create(dir.join(name)).unwrap();
        f.set_modified(age).unwrap();
        f
    };
    // A killed writer's (no process holds it), and a live writer's (locked).
    drop(make(".c.safetensors.tmp4000001", old));
    let live = make(".c.safetensors.tmp4000002", old);
    live.lock().unwrap();
    // Just created: its writer may be about to lock it.
    drop(make(
        ".c.safetensors.tmp4000003",
        std::time::SystemTime::now(),
    ));
    // Not this checkpoint's, or not the pattern.
    for other in [
        ".d.safetensors.tmp4000004",
        ".c.safetensors.tmp12x",
        "c.safetensors.tmp5",
    ] {
        drop(make(other, old));
    }
    train(&src, BackendKind::Interpreter, 1, None);
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".c.safetensors.tmp12x",
            ".c.safetensors.tmp4000002",
            ".c.safetensors.tmp4000003",
            ".d.safetensors.tmp4000004",
            "c.safetensors",
            "c.safetensors.tmp5",
        ]
    );
    drop(live);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_value_that_is_not_finite_is_never_written() {
    let dir = temp_dir("nan-save");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    let mut m = train(&src, BackendKind::Interpreter, 1, None);
    let before = std::fs::read(&ckpt).unwrap();
    let mut w = m.parameter("dense1.weight").unwrap().to_vec();
    w[5] = f32::NAN;
    m.set_parameter("dense1.weight", &w).unwrap();
    let err = checkpoint::save(&m, &ckpt, &src, 11)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refusing to write checkpoint")
            && err.contains("tensor `dense1.weight` holds NaN at [2, 1]"),
        "{err}"
    );
    assert!(
        std::fs::read(&ckpt).unwrap() == before,
        "the previous file is kept"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_checkpoint_holding_nan_or_infinity_is_refused_naming_the_tensor() {
    let dir = temp_dir("nan-load");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    train(&src, BackendKind::Interpreter, 1, None);
    rewrite(&ckpt, |f| {
        let t = f.tensors.get_mut("batchnorm1.running_var").unwrap();
        t.values[3] = f32::INFINITY;
    });
    let mut m = dlc::compile_with(&src, BackendKind::Interpreter).unwrap();
    let before = m.buffers().clone();
    for err in [
        checkpoint::load(&mut m, &ckpt, &src).unwrap_err(),
        checkpoint::load_weights(&mut m, &ckpt, &src).unwrap_err(),
    ] {
        let err = err.to_string();
        assert!(
            err.contains("holds inf in tensor `batchnorm1.running_var` at [3]"),
            "{err}"
        );
    }
    assert_eq!(m.buffers(), &before);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_damaged_header_names_the_tensor_and_its_bytes() {
    let dir = temp_dir("header");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    train(&src, BackendKind::Interpreter, 1, None);
    let bytes = std::fs::read(&ckpt).unwrap();
    // Only the JSON header is text: the 8 bytes before it (its length) and
    // the tensor data after it are kept as they are.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let text = std::str::from_utf8(&bytes[8..8 + header_len])
        .unwrap()
        .to_string();
    let entry = "\"dense2.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[";
    let at = text.find(entry).unwrap() + entry.len();
    let range: Vec<usize> = text[at..text[at..].find(']').unwrap() + at]
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let (begin, end) = (range[0], range[1]);
    // The same number of digits, so the header keeps its length.
    let shorter = format!("{begin},{}", end - 4);
    let bad = text.replacen(&format!("{begin},{end}"), &shorter, 1);
    assert_eq!(bad.len(), text.len());
    let path = dir.join("bad-range");
    let mut damaged = bytes[..8].to_vec();
    damaged.extend_from_slice(bad.as_bytes());
    damaged.extend_from_slice(&bytes[8 + header_len..]);
    std::fs::write(&path, damaged).unwrap();
    let mut m = dlc::compile_with(&src, BackendKind::Interpreter).unwrap();
    let err = checkpoint::load_weights(&mut m, &path, &src)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "tensor `dense2.bias`: F32 [3] needs 12 bytes, but its data_offsets [{begin}, {}] span 8 bytes",
            end - 4
        )),
        "{err}"
    );
    // A header length past the end of the file.
    let mut long = bytes.clone();
    long[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(&path, &long).unwrap();
    let err = checkpoint::load(&mut m, &path, &src)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("its header length 1099511627776 runs past the end of the file"),
        "{err}"
    );
    // Far more bytes than this network's tensors could need.
    let mut big = bytes.clone();
    big.resize(bytes.len() + (4 << 20), 0);
    std::fs::write(&path, &big).unwrap();
    let err = checkpoint::load(&mut m, &path, &src)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "it is {} bytes, more than any checkpoint of network `n` can be",
            big.len()
        )),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn another_optimizer_s_checkpoint_evaluates_but_does_not_resume() {
    let dir = temp_dir("optimizer");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    let adam = train(&src, BackendKind::Interpreter, 1, None);
    for (optimizer, says) in [
        (
            "sgd(lr: 0.1, momentum: 0.9)",
            "this program's optimizer keeps `optimizer.",
        ),
        (
            "sgd(lr: 0.1)",
            "which this program's optimizer does not keep",
        ),
    ] {
        let other = src.replace("adam(lr: 0.01)", optimizer);
        let mut m = dlc::compile_with(&other, BackendKind::Interpreter).unwrap();
        let before = m.buffers().clone();
        let err = checkpoint::load(&mut m, &ckpt, &other)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the optimizer differs: it was written by `adam`") && err.contains(says),
            "{optimizer}: {err}"
        );
        assert_eq!(m.buffers(), &before);
        checkpoint::load_weights(&mut m, &ckpt, &other).unwrap();
        assert_eq!(m.buffers().params, adam.buffers().params);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn metadata_that_no_run_could_write_is_refused() {
    let dir = temp_dir("metadata");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    train(&src, BackendKind::Interpreter, 2, None);
    let fresh = || dlc::compile_with(&src, BackendKind::Interpreter).unwrap();
    // A step count that 2 epochs of this data cannot take.
    let path = dir.join("step");
    std::fs::copy(&ckpt, &path).unwrap();
    rewrite(&path, |f| {
        f.metadata.insert("step".into(), u64::MAX.to_string());
    });
    let mut m = fresh();
    checkpoint::load(&mut m, &path, &src).unwrap();
    let err = m
        .train(&TrainOptions::default(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "the step count 18446744073709551615 is not what 2 epoch(s) of this data take (9 steps each, 18 in all)"
        ) && err.contains("corrupt or from another run"),
        "{err}"
    );
    // Weights of an epoch not yet trained.
    std::fs::copy(&ckpt, &path).unwrap();
    rewrite(&path, |f| {
        f.metadata.insert("weights_epoch".into(), "9".into());
    });
    let err = checkpoint::load_weights(&mut fresh(), &path, &src)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("it holds the weights of epoch 9 after 2 epochs"),
        "{err}"
    );
    // More epochs trained than asked for.
    let mut m = fresh();
    checkpoint::load(&mut m, &ckpt, &src).unwrap();
    let err = m
        .train(
            &TrainOptions {
                epochs: Some(1),
                ..Default::default()
            },
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 epochs are already trained, more than the 1 asked for"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_first_format_still_loads() {
    let dir = temp_dir("format1");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    let straight = train(&src, BackendKind::Interpreter, 3, None);
    let first = train(&src, BackendKind::Interpreter, 2, None);
    rewrite(&ckpt, |f| {
        f.metadata = [
            ("format", "dlc-checkpoint-1"),
            ("network", "n"),
            ("epoch", "2"),
            ("step", &first.steps_taken().to_string()),
            ("seed", "11"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    });
    let mut m = dlc::compile_with(&src, BackendKind::Interpreter).unwrap();
    let info = checkpoint::load_weights(&mut m, &ckpt, &src).unwrap();
    assert_eq!((info.format, info.weights_epoch), (1, 2));
    assert_eq!(m.buffers().params, first.buffers().params);
    let resumed = train(&src, BackendKind::Interpreter, 3, Some(&ckpt));
    assert_eq!(resumed.buffers().params, straight.buffers().params);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn early_stopping_on_another_metric_does_not_resume() {
    let dir = temp_dir("metric");
    let ckpt = dir.join("c.safetensors");
    let src = stopping_program(&ckpt, "cosine(warmup: 1)", "val_loss, patience: 2");
    train(&src, BackendKind::Jit, 3, None);
    let other = src.replace("val_loss, patience: 2", "val_accuracy, patience: 2");
    let mut m = dlc::compile_with(&other, BackendKind::Jit).unwrap();
    checkpoint::load(&mut m, &ckpt, &other).unwrap();
    let err = m
        .train(&TrainOptions::default(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("early stopping watched `val_loss` in the run that wrote the checkpoint, this program watches `val_accuracy`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn checkpoints_are_written_at_most_once_per_interval_and_always_at_the_end() {
    let dir = temp_dir("interval");
    let ckpt = dir.join("c.safetensors");
    let src = program(&ckpt);
    let epochs_seen_with_file = |interval: std::time::Duration| {
        let _ = std::fs::remove_file(&ckpt);
        let mut m = dlc::compile_with(&src, BackendKind::Jit).unwrap();
        let mut seen = Vec::new();
        let options = TrainOptions {
            checkpoint_interval: Some(interval),
            ..Default::default()
        };
        m.train(&options, &mut |e| {
            if ckpt.exists() {
                seen.push(e.epoch);
            }
        })
        .unwrap();
        assert_eq!(metadata(&ckpt)["epoch"], "5", "the last epoch is written");
        seen
    };
    // An interval longer than the run: only the end is written.
    assert!(epochs_seen_with_file(std::time::Duration::from_secs(3600)).is_empty());
    // No interval: each epoch's file is there when the next one ends.
    assert_eq!(
        epochs_seen_with_file(std::time::Duration::ZERO),
        [2, 3, 4, 5]
    );
}
