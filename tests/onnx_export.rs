//! `dlc export --onnx`: every example program that ends in a classifier or a
//! regressor, and the programs of `tests/onnx_support/` (impute, scale,
//! standardised targets, binary cross-entropy, padded windows, the smooth
//! activations, every layer that has an ONNX operator of its own), trained
//! briefly, exported, checked by `onnx`'s full checker and run in
//! onnxruntime on raw rows of their data; the outputs must equal dlc's own
//! predictions to 1e-5. The graphs are read back to check that the standard
//! layers are ONNX's operators rather than the primitives dlc lowers them to.
//!
//! onnx, onnxruntime and numpy come from PyPI into a virtual environment in
//! the target directory (`tests/onnx_support/requirements.txt`), made once
//! and reused; when it cannot be made the tests fail and say why.

use dlc::check::Loss;
use dlc::data::Preparation;
use dlc::export::onnx::proto::{GraphProto, ModelProto};
use prost::Message;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Samples compared per program.
const SAMPLES: usize = 40;
/// The largest difference allowed between onnxruntime's outputs and dlc's.
const TOLERANCE: f32 = 1e-5;

fn support(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/onnx_support")
        .join(file)
}

/// The virtual environment's python, made (or found) once per test binary.
fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(make_venv) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn make_venv() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("onnx-venv");
    let python = dir.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import onnx, onnxruntime, numpy"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready() {
        return Ok(python);
    }
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd
            .output()
            .map_err(|e| format!("cannot {what}: {e} (python3 is needed for these tests)"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "cannot {what}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
        "create the virtual environment",
    )?;
    run(
        Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet", "-r"])
            .arg(support("requirements.txt")),
        "install onnx, onnxruntime and numpy from PyPI",
    )?;
    if ready() {
        Ok(python)
    } else {
        Err("onnx and onnxruntime were installed but do not import".into())
    }
}

/// What onnxruntime made of an exported model.
struct OnnxRun {
    /// Each output's values, all rows at once.
    outputs: HashMap<String, Vec<f32>>,
    /// Each output's values for the first row alone.
    first: HashMap<String, Vec<f32>>,
    summary: Value,
}

fn run_onnx(name: &str, model: &[u8], inputs: &[f32], columns: usize) -> OnnxRun {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("onnx-export-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let model_path = dir.join("model.onnx");
    std::fs::write(&model_path, model).unwrap();
    let bytes: Vec<u8> = inputs.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("inputs.f32"), bytes).unwrap();
    let out = Command::new(python())
        .arg(support("run_onnx.py"))
        .arg(&model_path)
        .arg(dir.join("inputs.f32"))
        .arg((inputs.len() / columns).to_string())
        .arg(columns.to_string())
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: the exported model does not check or run:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let read = |file: String| -> Vec<f32> {
        std::fs::read(dir.join(file))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    let names: Vec<String> = summary["outputs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    OnnxRun {
        outputs: (names.iter())
            .map(|n| (n.clone(), read(format!("{n}.f32"))))
            .collect(),
        first: (names.iter())
            .map(|n| (n.clone(), read(format!("first_{n}.f32"))))
            .collect(),
        summary,
    }
}

/// A program trained for two epochs.
fn trained(program: &str) -> dlc::CompiledModel {
    let text = std::fs::read_to_string(program).unwrap();
    let mut model =
        dlc::compile(&text).unwrap_or_else(|e| panic!("{}", e.render(program, &text, false)));
    let options = dlc::TrainOptions {
        epochs: Some(2),
        ..Default::default()
    };
    model.train(&options, &mut |_| {}).unwrap();
    model
}

/// Raw rows (before preparation) to predict: a CSV file's first rows read
/// as `dlc predict` reads them, or the first samples of a generated set.
fn raw_rows(model: &dlc::CompiledModel, csv: Option<&Path>) -> Vec<f32> {
    let preparation = model.preparation().unwrap();
    let len = preparation.raw_len;
    let mut rows = match csv {
        Some(path) => {
            (preparation.read_inputs(path, &model.data_policy()))
                .unwrap()
                .features
        }
        None => {
            let spec = model.model().data.clone().unwrap();
            let loaded = dlc::load::load(&spec, &model.data_policy()).unwrap();
            loaded.train.features().to_vec()
        }
    };
    rows.truncate(SAMPLES * len);
    rows
}

/// A copy of the first rows of a CSV file with some feature cells missing.
fn with_missing(csv: &str, name: &str, cells: &[(usize, usize)]) -> PathBuf {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines: Vec<Vec<String>> = (text.lines().take(SAMPLES + 1))
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    for &(row, column) in cells {
        lines[row + 1][column] = "NA".into();
    }
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("onnx-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-missing.csv"));
    let body: Vec<String> = lines.iter().map(|l| l.join(",")).collect();
    std::fs::write(&path, body.join("\n") + "\n").unwrap();
    path
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "as many values");
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            if x.is_nan() || y.is_nan() {
                f32::INFINITY
            } else {
                (x - y).abs()
            }
        })
        .fold(0.0, f32::max)
}

/// The numbers of `dlc predict`'s CSV (the probability or predicted-value
/// columns, 6 decimals for probabilities) and their column names.
fn printed(loss: Loss, outputs: &[f32], width: usize, p: &Preparation) -> (Vec<String>, Vec<f32>) {
    let csv = dlc::report::predictions_csv(loss, outputs, width, p, &[]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let numeric: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] != "predicted")
        .collect();
    let values = lines
        .flat_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            numeric
                .iter()
                .map(move |&i| cells[i].parse::<f32>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    (
        numeric.iter().map(|&i| header[i].to_string()).collect(),
        values,
    )
}

/// How many nodes of each operator a graph has.
fn operators(graph: &GraphProto) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for node in &graph.node {
        *counts.entry(node.op_type.clone()).or_insert(0) += 1;
    }
    counts
}

/// The operators of `model`'s exported file, read back from its bytes.
fn exported_operators(model: &dlc::CompiledModel) -> HashMap<String, usize> {
    let preparation = model.preparation().unwrap();
    let onnx = dlc::export::onnx::export(model, preparation).unwrap();
    let decoded = ModelProto::decode(onnx.as_slice()).unwrap();
    operators(&decoded.graph.unwrap())
}

/// What batch, layer and instance norm and softmax lower to in dlc, and
/// nothing else in a prediction does: an exported graph, where those are
/// ONNX's own operators, has none of them.
const NORMALISING_PRIMITIVES: [&str; 4] = ["ReduceSum", "ReduceMax", "Sqrt", "Reciprocal"];

/// Asserts how many nodes of each of `expected` there are (0: none).
fn assert_counts(name: &str, ops: &HashMap<String, usize>, expected: &[(&str, usize)]) {
    for &(op, count) in expected {
        let found = ops.get(op).copied().unwrap_or(0);
        assert_eq!(found, count, "{name}: {op} nodes in {ops:?}");
    }
}

/// Exports `model`, runs it on `raw` and compares with dlc's predictions;
/// gives the largest difference of the printed outputs.
fn compare(name: &str, model: &mut dlc::CompiledModel, raw: &[f32]) -> f32 {
    let preparation = model.preparation().unwrap().clone();
    let onnx = dlc::export::onnx::export(model, &preparation).unwrap();
    let ops = operators(&ModelProto::decode(onnx.as_slice()).unwrap().graph.unwrap());
    let absent = NORMALISING_PRIMITIVES.map(|op| (op, 0));
    assert_counts(name, &ops, &absent);
    let run = run_onnx(name, &onnx, raw, preparation.raw_len);

    // dlc's side, as `dlc predict` computes it.
    let mut prepared = raw.to_vec();
    preparation.apply(&mut prepared);
    let network = model.predict(&prepared).unwrap();
    let width = model.output_width();
    let mut outputs = network.clone();
    preparation.outputs_to_original(&mut outputs, width);
    let loss = model.loss_kind();
    let (columns, values) = printed(loss, &outputs, width, &preparation);

    let s = &run.summary;
    assert_eq!(
        s["input_dims"],
        serde_json::json!(["N", preparation.raw_len]),
        "{name}"
    );
    assert_eq!(s["opset"], serde_json::json!([17]), "{name}");
    assert_eq!(s["producer"], "dlc", "{name}");
    let meta = &s["metadata"];
    let json_list = |key: &str| -> Vec<String> {
        serde_json::from_str(
            meta[key]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no {key}")),
        )
        .unwrap()
    };
    assert_eq!(json_list("dlc.classes"), preparation.classes, "{name}");
    assert_eq!(json_list("dlc.features"), preparation.features, "{name}");
    assert_eq!(meta["dlc.program"].as_str(), Some(model.source()), "{name}");

    let (main, raw_name) = match loss {
        Loss::MeanSquaredError => ("predictions", None),
        _ => ("probabilities", Some("logits")),
    };
    assert_eq!(json_list(&format!("dlc.columns.{main}")), columns, "{name}");
    let printed_diff = max_diff(&run.outputs[main], &values);
    let first_diff = max_diff(&run.first[main], &values[..columns.len()]);
    let mut report = format!("{name}: max |onnxruntime - dlc predict| {printed_diff:.2e}");
    if let Some(raw_name) = raw_name {
        let logits_diff = max_diff(&run.outputs[raw_name], &network);
        report += &format!(", logits {logits_diff:.2e}");
        assert!(logits_diff <= TOLERANCE, "{report}");
    }
    if let Some(standardized) = run.outputs.get("standardized_predictions") {
        // In the network's units the tolerance is the one used everywhere;
        // in the targets' units (disease progression, in the hundreds) one
        // float apart is 1.5e-5, so there the same precision is relative.
        let network_diff = max_diff(standardized, &network);
        let relative = max_relative_diff(&run.outputs[main], &values);
        report += &format!(", standardized {network_diff:.2e}, relative {relative:.2e}");
        eprintln!("{report}, first row alone {first_diff:.2e}");
        assert!(network_diff <= TOLERANCE, "{report}");
        assert!(relative <= TOLERANCE, "{report}");
        return network_diff;
    }
    eprintln!("{report}, first row alone {first_diff:.2e}");
    assert!(printed_diff <= TOLERANCE, "{report}");
    assert!(first_diff <= TOLERANCE, "{report}: one row alone");
    printed_diff
}

/// The largest `|a - b| / max(1, |b|)`.
fn max_relative_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "as many values");
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = (x - y).abs() / y.abs().max(1.0);
            if d.is_nan() { f32::INFINITY } else { d }
        })
        .fold(0.0, f32::max)
}

/// Trains, exports and compares a program; gives the trained model.
fn example(program: &str, csv: Option<&str>) -> dlc::CompiledModel {
    let mut model = trained(program);
    let raw = raw_rows(&model, csv.map(Path::new));
    let name = Path::new(program).file_stem().unwrap().to_str().unwrap();
    compare(name, &mut model, &raw);
    model
}

#[test]
fn iris() {
    example("examples/iris.dl", Some("examples/data/iris.csv"));
}

#[test]
fn wine() {
    example("examples/wine.dl", Some("examples/data/wine.csv"));
}

#[test]
fn digits_mlp() {
    example("examples/digits_mlp.dl", Some("examples/data/digits.csv"));
}

#[test]
fn digits_cnn() {
    example("examples/digits_cnn.dl", Some("examples/data/digits.csv"));
}

#[test]
fn residual() {
    example("examples/residual.dl", Some("examples/data/digits.csv"));
}

#[test]
fn generated_data() {
    for program in [
        "examples/branches.dl",
        "examples/regression.dl",
        "examples/spirals.dl",
        "examples/spirals_sgd1.dl",
        "examples/xor.dl",
    ] {
        example(program, None);
    }
}

#[test]
fn padded_windows() {
    let program = support("windows.dl");
    let model = example(program.to_str().unwrap(), Some("examples/data/digits.csv"));
    let ops = exported_operators(&model);
    let expected = [
        ("InstanceNormalization", 1),
        ("BatchNormalization", 1),
        // The softmax layer and the probabilities'.
        ("Softmax", 2),
        ("Gemm", 1),
        // The convolutions with their biases; the sums are gelu's.
        ("Conv", 2),
        ("Add", 2),
        ("Exp", 0),
        ("Div", 0),
    ];
    assert_counts("windows", &ops, &expected);
}

/// Each layer with an ONNX operator of its own is that operator, and
/// nothing of the primitives dlc computes it with is left: the graph is
/// the network's layers, the preparation's `scale` and the probabilities.
#[test]
fn standard_layers_are_onnx_operators() {
    let program = support("fused.dl");
    let model = example(program.to_str().unwrap(), Some("examples/data/digits.csv"));
    let ops = exported_operators(&model);
    let expected = [
        ("Conv", 2),
        ("BatchNormalization", 1),
        ("InstanceNormalization", 2),
        ("LayerNormalization", 2),
        ("PRelu", 3),
        ("LeakyRelu", 1),
        ("Elu", 1),
        ("Softplus", 1),
        ("Clip", 1),
        ("Gemm", 3),
        ("Softmax", 2),
        // `scale 1 / 16`.
        ("Mul", 1),
        ("Add", 0),
        ("Sub", 0),
        ("Div", 0),
        ("Exp", 0),
        ("Log", 0),
        ("Max", 0),
        ("Where", 0),
        ("Greater", 0),
        ("Equal", 0),
        ("Cast", 0),
        ("Expand", 0),
    ];
    assert_counts("fused", &ops, &expected);
}

#[test]
fn impute_and_standardized_targets() {
    let mut model = trained(support("patients.dl").to_str().unwrap());
    // Softplus with beta 2 is not ONNX's (beta 1): it stays dlc's ops.
    let expected = [
        ("BatchNormalization", 1),
        ("Elu", 1),
        ("Clip", 1),
        ("Softplus", 0),
        ("Log", 1),
        ("Gemm", 4),
    ];
    assert_counts("patients", &exported_operators(&model), &expected);
    let missing = with_missing(
        "examples/data/diabetes.csv",
        "patients",
        &[(0, 0), (3, 2), (3, 5), (7, 9)],
    );
    let raw = raw_rows(&model, Some(&missing));
    assert!(
        raw[0].is_nan() && raw[3 * 10 + 2].is_nan(),
        "the cells are missing"
    );
    compare("patients", &mut model, &raw);
}

#[test]
fn binary_cross_entropy_after_scale_and_impute() {
    let mut model = trained(support("cells.dl").to_str().unwrap());
    let expected = [
        ("LayerNormalization", 1),
        ("PRelu", 1),
        ("Gemm", 3),
        // The network's sigmoid layer and the probability's.
        ("Sigmoid", 2),
    ];
    assert_counts("cells", &exported_operators(&model), &expected);
    let missing = with_missing(
        "examples/data/breast_cancer.csv",
        "cells",
        &[(1, 0), (2, 29), (5, 12)],
    );
    let raw = raw_rows(&model, Some(&missing));
    compare("cells", &mut model, &raw);
}

/// Every layer's evaluation-mode computation exports; a graph that draws
/// dropout masks (the training-mode network) does not, and the error names
/// the layer.
#[test]
fn a_training_mode_graph_is_refused_naming_the_layer() {
    let text = std::fs::read_to_string("examples/wine.dl").unwrap();
    let model = dlc::compile(&text).unwrap();
    let layers = &model.model().network.layers;
    let eval = dlc::lower::lower(model.model(), dlc::ir::Mode::Eval, false).graph;
    assert!(dlc::export::onnx::translate_graph(&eval, layers).is_ok());
    assert!(dlc::export::onnx::translate_graph(&eval, &[]).is_ok());
    let train = dlc::lower::lower(model.model(), dlc::ir::Mode::Train, false).graph;
    let err = dlc::export::onnx::translate_graph(&train, layers).unwrap_err();
    assert!(
        matches!(&err, dlc::export::onnx::ExportError::Unsupported { layer, .. } if layer == "dropout1"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "layer `dropout1` cannot be exported to ONNX: it draws a random dropout mask"
    );
}

/// A layer whose nodes are read from elsewhere than its output is written
/// op by op, and so is the layer reading them: here prelu1's slopes are
/// replaced by batchnorm1's `rsqrt(var + eps)` (both `[1, 6, 1, 1]`). And
/// without the network's layers, every layer is written op by op.
#[test]
fn layers_whose_nodes_do_not_form_one_function_are_written_op_by_op() {
    use dlc::ir::{BinaryOp, Op, UnaryOp};
    let text = std::fs::read_to_string(support("fused.dl")).unwrap();
    let model = dlc::compile(&text).unwrap();
    let layers = &model.model().network.layers;
    let mut g = dlc::lower::lower(model.model(), dlc::ir::Mode::Eval, false).graph;
    let translate = |g: &dlc::ir::Graph, layers: &[dlc::layers::Layer]| {
        operators(&dlc::export::onnx::translate_graph(g, layers).unwrap())
    };
    let fused = translate(&g, layers);
    assert_counts("fused", &fused, &[("BatchNormalization", 1), ("PRelu", 3)]);
    assert_counts(
        "unfused",
        &translate(&g, &[]),
        &[("BatchNormalization", 0), ("PRelu", 0), ("Sqrt", 5)],
    );

    let of = |g: &dlc::ir::Graph, layer: &str, op: &dyn Fn(&Op) -> bool| {
        (g.nodes.iter())
            .position(|n| n.origin.as_ref().is_some_and(|o| o.layer == layer) && op(&n.op))
            .unwrap()
    };
    let rsqrt = of(&g, "batchnorm1", &|op| {
        matches!(op, Op::Unary(UnaryOp::Rsqrt, _))
    });
    let scaled = of(&g, "prelu1", &|op| {
        matches!(op, Op::Binary(BinaryOp::Mul, ..))
    });
    let Op::Binary(BinaryOp::Mul, x, slope) = g.nodes[scaled].op else {
        unreachable!()
    };
    assert_eq!(g.shape(slope), g.shape(dlc::ir::ValueId(rsqrt as u32)));
    g.nodes[scaled].op = Op::Binary(BinaryOp::Mul, x, dlc::ir::ValueId(rsqrt as u32));
    dlc::ir::verify(&g).unwrap();
    let ops = translate(&g, layers);
    let expected = [
        ("BatchNormalization", 0),
        ("Sqrt", 1),
        ("PRelu", 2),
        ("InstanceNormalization", 2),
    ];
    assert_counts("rewired", &ops, &expected);
}

/// The command: the model file of a run in, an ONNX file out, whose
/// probabilities are the ones `dlc predict` prints for the same rows.
#[test]
fn cli_exports_what_predict_prints() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("onnx-export-cli-{}", std::process::id()));
    let dlc = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dlc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let run_dir = dir.join("run");
    let model_file = run_dir.join("model.safetensors");
    let onnx = dir.join("iris.onnx");
    let (run_dir, model_file, onnx) = (
        run_dir.to_str().unwrap(),
        model_file.to_str().unwrap(),
        onnx.to_str().unwrap(),
    );
    dlc(&[
        "run",
        "examples/iris.dl",
        "--epochs",
        "2",
        "-q",
        "--threads",
        "1",
        "--out",
        run_dir,
    ]);
    let said = dlc(&["export", model_file, "--onnx", onnx]);
    assert!(said.starts_with(&format!("wrote {onnx}: ")), "{said}");
    assert!(
        said.contains("opset 17, input features, outputs probabilities, logits"),
        "{said}"
    );
    // The program with --checkpoint gives the same file.
    let again = dir.join("again.onnx");
    dlc(&[
        "export",
        "examples/iris.dl",
        "--checkpoint",
        model_file,
        "--onnx",
        again.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(onnx).unwrap(), std::fs::read(&again).unwrap());

    let predicted = dlc(&["predict", model_file, "--input", "examples/data/iris.csv"]);
    let mut lines = predicted.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("p_"))
        .collect();
    let printed: Vec<f32> = lines
        .flat_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            columns
                .iter()
                .map(move |&i| cells[i].parse::<f32>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    let model = dlc::open_model(model_file, &dlc::Options::default()).unwrap();
    let preparation = model.preparation().unwrap();
    let raw = preparation
        .read_inputs(Path::new("examples/data/iris.csv"), &model.data_policy())
        .unwrap()
        .features;
    let run = run_onnx(
        "cli",
        &std::fs::read(onnx).unwrap(),
        &raw,
        preparation.raw_len,
    );
    let diff = max_diff(&run.outputs["probabilities"], &printed);
    eprintln!("iris through the command: max |onnxruntime - dlc predict| {diff:.2e} over 150 rows");
    assert!(diff <= TOLERANCE, "{diff}");
}

#[test]
fn cli_errors_are_exit_code_2_with_a_message() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("onnx-export-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("x.onnx");
    let out_file = out_file.to_str().unwrap();
    // A destination that is a directory is refused before anything is read.
    let dir_name = dir.to_str().unwrap();
    // A program without `--model` is not a model file.
    let cases: [(&[&str], &str); 2] = [
        (
            &["export", "examples/iris.dl", "--onnx", out_file],
            "error: ",
        ),
        (
            &["export", "examples/iris.dl", "--onnx", dir_name],
            "is a directory",
        ),
    ];
    for (args, says) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(says),
            "{args:?}: {stderr}"
        );
        assert!(!Path::new(out_file).exists(), "nothing written");
    }
}
