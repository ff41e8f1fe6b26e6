//! Checkpoints: resuming reproduces an unbroken run bit for bit; a
//! truncated, corrupt or foreign checkpoint is a clear error that changes
//! nothing.

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
        assert_eq!(first.epoch, 3);
        let resumed = train(&src, kind, 5, Some(&ckpt));
        assert_eq!(resumed.epoch, 5);
        assert_eq!(resumed.step, straight.step);
        assert_eq!(
            resumed.buffers.params, straight.buffers.params,
            "{kind:?}: parameters differ"
        );
        assert_eq!(
            resumed.buffers.states, straight.buffers.states,
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
    let before = m.buffers.clone();
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
        assert_eq!(m.buffers, before, "{name}: a failed load changed the model");
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
