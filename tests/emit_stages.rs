//! `dlc::emit`: the text forms of every stage, snapshotted for small
//! programs so that a change to lowering, autodiff or planning shows up as a
//! reviewed diff.

use dlc::{Stage, emit};

const XOR: &str = include_str!("../examples/xor.dl");

/// A small image network: conv, batch norm (running statistics), pooling, dropout.
const TINY_CNN: &str = "\
data images = random_images(points: 32, shape: [1, 6, 6], classes: 3)

network net(x: [1, 6, 6]) -> 3 {
    conv 2, kernel: 3, pad: 1, bias: false
    batchnorm
    relu
    maxpool 2
    flatten
    dropout 0.5
    dense 3
}

train net on images {
    loss cross_entropy
    optimizer adam(lr: 0.01)
    batch 8
    epochs 1
}
";

fn stage(source: &str, stage: Stage) -> String {
    emit(source, stage).unwrap_or_else(|e| panic!("{stage:?}: {}", e.render("t.dl", source, false)))
}

#[test]
fn xor_ir() {
    insta::assert_snapshot!(stage(XOR, Stage::Ir));
}

#[test]
fn xor_grad() {
    insta::assert_snapshot!(stage(XOR, Stage::Grad));
}

#[test]
fn xor_kernels() {
    insta::assert_snapshot!(stage(XOR, Stage::Kernels));
}

#[test]
fn cnn_ir() {
    insta::assert_snapshot!(stage(TINY_CNN, Stage::Ir));
}

#[test]
fn cnn_grad() {
    insta::assert_snapshot!(stage(TINY_CNN, Stage::Grad));
}

/// The Cranelift text changes with Cranelift's version, so it is checked
/// for structure, not snapshotted: one function per entry point, each
/// reading its context and returning.
#[test]
fn clif_has_one_function_per_entry_point() {
    let text = stage(TINY_CNN, Stage::Clif);
    let entries: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("; entry "))
        .collect();
    assert_eq!(
        entries,
        ["train_step", "backward", "update", "eval", "predict"]
    );
    let functions = text.lines().filter(|l| l.starts_with("function ")).count();
    assert_eq!(functions, entries.len());
    let returns = text.lines().filter(|l| l.trim() == "return").count();
    assert_eq!(returns, entries.len());
}

#[test]
fn ast_round_trips_names() {
    let text = stage(XOR, Stage::Ast);
    assert!(text.contains("dense"), "{text}");
}

#[test]
fn a_program_with_errors_gives_its_diagnostics() {
    let err = emit("network n(x: [2]) -> 2 { dens 2 }", Stage::Ir).unwrap_err();
    let shown = err.render("bad.dl", "network n(x: [2]) -> 2 { dens 2 }", false);
    assert!(
        shown.contains("dense"),
        "a did-you-mean names `dense`: {shown}"
    );
}
