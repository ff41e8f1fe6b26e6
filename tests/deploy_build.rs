//! `dlc build`: a C program compiled with the system's `cc` against the
//! built object predicts what `dlc predict` prints for the same samples, one
//! at a time and all at once, and returns the header's error codes.
//!
//! Each case trains a program briefly, builds it, and runs
//! `tests/deploy_support/predict.c` (which prints the object's outputs) on
//! the samples of a CSV file.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn work_dir(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-deploy-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(command: &mut Command) -> String {
    let out = command.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn dlc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
}

/// The object's outputs, block by block, as `predict.c` prints them.
struct COutput {
    batch: Vec<Vec<f64>>,
    single: Vec<Vec<f64>>,
    logits: Vec<Vec<f64>>,
    codes: Vec<i32>,
}

fn parse_c_output(text: &str) -> COutput {
    let mut blocks: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("# ") {
            Some(name) => blocks.push((name.to_string(), Vec::new())),
            None => blocks
                .last_mut()
                .expect("a block header first")
                .1
                .push(line),
        }
    }
    let rows = |name: &str| -> Vec<Vec<f64>> {
        let (_, lines) = blocks.iter().find(|(n, _)| n == name).expect(name);
        lines
            .iter()
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect()
    };
    let codes = blocks
        .iter()
        .find(|(n, _)| n == "codes")
        .expect("codes")
        .1
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    COutput {
        batch: rows("batch"),
        single: rows("single"),
        logits: rows("logits"),
        codes,
    }
}

/// The numeric columns `dlc predict` printed: the probabilities (`p_*`) or
/// the values (`predicted_*`).
fn dlc_predictions(csv: &str) -> Vec<Vec<f64>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("p_") || header[i].starts_with("predicted_"))
        .collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            columns.iter().map(|&i| cells[i].parse().unwrap()).collect()
        })
        .collect()
}

/// The largest difference between `a` and `b`, each relative to the larger
/// of 1 and the value: probabilities are compared absolutely, and a value in
/// the hundreds (a regression target in its own units) is one whose f32
/// neighbours are already 1.5e-5 apart.
fn max_difference(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    assert_eq!(a.len(), b.len(), "as many samples");
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len(), "as many outputs per sample");
            x.iter()
                .zip(y)
                .map(|(p, q)| (p - q).abs() / q.abs().max(1.0))
        })
        .fold(0.0, f64::max)
}

/// Trains `program` (network `net`) for a few epochs, builds it for `cpu`,
/// and checks the C program's predictions on `input` against `dlc predict`'s.
fn check_case(case: &str, program: &str, net: &str, input: &Path, epochs: u32, cpu: &str) {
    let dir = work_dir(case);
    let source = dir.join(format!("{case}.dl"));
    std::fs::write(&source, program).unwrap();
    let run_dir = dir.join("run");
    run(dlc()
        .args(["run", "-q", "--epochs", &epochs.to_string(), "--out"])
        .arg(&run_dir)
        .arg(&source));
    let model = run_dir.join("model.safetensors");
    let built = dir.join("built");
    let printed = run(dlc()
        .arg("build")
        .arg(&model)
        .args(["--cpu", cpu, "-o"])
        .arg(&built));
    // The link line, as printed and in the header.
    let link = printed
        .lines()
        .find_map(|l| l.strip_prefix("link: "))
        .expect("a link line")
        .to_string();
    let header = std::fs::read_to_string(built.join(format!("{net}.h"))).unwrap();
    assert!(header.contains(&link), "{case}: the header states {link}");
    for file in [format!("{net}.o"), format!("{net}.h"), "README.txt".into()] {
        assert!(built.join(&file).exists(), "{file} written");
    }
    let predicted = run(dlc().arg("predict").arg(&model).arg("--input").arg(input));
    let expected = dlc_predictions(&predicted);

    // The same raw values the predict command read, in the model's order.
    let opened = dlc::open_model(&model, &dlc::Options::default()).unwrap();
    let preparation = opened.preparation().unwrap().clone();
    let inputs = preparation
        .read_inputs(input, &opened.data_policy())
        .unwrap();
    let samples_file = dir.join("samples.txt");
    let text: String = inputs
        .features
        .chunks(preparation.raw_len)
        .map(|s| {
            s.iter()
                .map(|v| format!("{v:e}"))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(&samples_file, text).unwrap();

    let app = dir.join("app");
    run(Command::new("cc")
        .args(["-O2", "-std=c99", "-Wall", "-Werror", "-I"])
        .arg(&built)
        .arg(format!("-DNET={net}"))
        .arg(format!("-DNET_UP={}", net.to_ascii_uppercase()))
        .arg(format!("-DNET_HEADER=\"{net}.h\""))
        .arg(Path::new(ROOT).join("tests/deploy_support/predict.c"))
        .arg(built.join(format!("{net}.o")))
        .arg("-o")
        .arg(&app)
        .args(link.split_whitespace().filter(|a| a.starts_with("-l"))));
    let c = parse_c_output(&run(Command::new(&app).arg(&samples_file)));

    // `dlc predict` prints six decimals, so its values are 5e-7 from the exact ones.
    let batch = max_difference(&c.batch, &expected);
    let single = max_difference(&c.single, &expected);
    assert!(
        batch <= 1e-5,
        "{case}: batch differs from dlc predict by {batch}"
    );
    assert!(single <= 1e-5, "{case}: one at a time differs by {single}");

    // The raw outputs against the library's, on the prepared samples.
    let mut prepared = inputs.features.clone();
    preparation.apply(&mut prepared);
    let mut opened = opened;
    let logits = opened.predict(&prepared).unwrap();
    let width = opened.output_width();
    let library: Vec<Vec<f64>> = logits
        .chunks(width)
        .map(|r| r.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let raw = max_difference(&c.logits, &library);
    assert!(
        raw <= 1e-5,
        "{case}: logits differ from the library's by {raw}"
    );

    eprintln!(
        "{case}: largest difference to dlc predict {batch:.1e} (batch), {single:.1e} (one at a time); logits to the library {raw:.1e}"
    );
    let missing = if preparation.imputer.is_some() { 0 } else { -3 };
    assert_eq!(
        c.codes,
        [0, -2, -2, -2, -1, -5, missing],
        "{case}: return codes"
    );
}

fn data(file: &str) -> String {
    format!("{ROOT}/examples/data/{file}")
}

#[test]
fn an_mlp_with_batch_norm_dropout_and_impute_predicts_as_dlc_does() {
    let program = format!(
        r#"
data wine = csv("{}", label: "cultivar", classes: 3) {{
    impute      median
    standardize
    validation  0.2
    seed        3
}}

network wine_bn(x: [13]) -> 3 {{
    dense 32
    batchnorm
    relu
    dropout 0.3
    dense 16
    batchnorm
    relu
    dropout 0.2
    dense 3
}}

train wine_bn on wine {{
    loss      cross_entropy
    optimizer adam(lr: 0.01)
    batch     16
    epochs    20
    seed      3
}}
"#,
        data("wine.csv")
    );
    // New samples with missing values: the object fills them as training did.
    let dir = work_dir("wine-input");
    let wine = std::fs::read_to_string(data("wine.csv")).unwrap();
    let mut lines: Vec<String> = wine.lines().map(String::from).collect();
    for (row, column) in [(1, 0), (5, 3), (9, 12)] {
        let mut cells: Vec<&str> = lines[row].split(',').collect();
        cells[column] = "";
        lines[row] = cells.join(",");
    }
    let input = dir.join("wine_missing.csv");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    check_case("wine_bn", &program, "wine_bn", &input, 8, "host");
}

#[test]
fn the_digits_cnn_predicts_as_dlc_does() {
    let program = std::fs::read_to_string(format!("{ROOT}/examples/digits_cnn.dl"))
        .unwrap()
        .replace("examples/data/digits.csv", &data("digits.csv"));
    // 1,797 samples: chunks of the batch plan, and a partial last one.
    check_case(
        "digits_cnn",
        &program,
        "digits_cnn",
        Path::new(&data("digits.csv")),
        1,
        "host",
    );
}

#[test]
fn regression_with_standardized_targets_predicts_in_the_targets_units() {
    let program = format!(
        r#"
data patients = csv("{}", target: "progression") {{
    standardize features, targets
    validation 0.2
    seed       2
}}

network progression(x: [10]) -> 1 {{
    dense 16
    tanh
    dense 1
}}

train progression on patients {{
    loss      mse
    optimizer adam(lr: 0.01)
    batch     32
    epochs    10
    seed      2
}}
"#,
        data("diabetes.csv")
    );
    check_case(
        "progression",
        &program,
        "progression",
        Path::new(&data("diabetes.csv")),
        5,
        "x86-64-v3",
    );
}

#[test]
fn a_binary_classifier_gives_both_probabilities_on_an_older_processor_level() {
    let program = format!(
        r#"
data tumours = csv("{}", label: "diagnosis", classes: 2) {{
    standardize
    validation 0.2
    seed       4
}}

network tumour(x: [30]) -> 1 {{
    dense 8
    relu
    dense 1
}}

train tumour on tumours {{
    loss      binary_cross_entropy
    optimizer adam(lr: 0.01)
    batch     32
    epochs    10
    seed      4
}}
"#,
        data("breast_cancer.csv")
    );
    check_case(
        "tumour",
        &program,
        "tumour",
        Path::new(&data("breast_cancer.csv")),
        3,
        // Without FMA the code calls libm's `fmaf`: the link line says -lm.
        "x86-64-v2",
    );
}

#[test]
fn a_name_that_is_no_c_identifier_is_refused_before_anything_is_written() {
    let dir = work_dir("bad-name");
    let source = dir.join("xor.dl");
    std::fs::write(
        &source,
        "data corners = xor()\nnetwork gate(x: [2]) -> 2 {\n    dense 4\n    tanh\n    dense 2\n}\ntrain gate on corners {\n    loss cross_entropy\n    optimizer sgd(lr: 0.5)\n    batch all\n    epochs 2\n}\n",
    )
    .unwrap();
    let run_dir = dir.join("run");
    run(dlc()
        .args(["run", "-q", "--out"])
        .arg(&run_dir)
        .arg(&source));
    let built = dir.join("built");
    let out = dlc()
        .arg("build")
        .arg(run_dir.join("model.safetensors"))
        .args(["--name", "my-net", "-o"])
        .arg(&built)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`my-net` cannot name the built functions"),
        "{stderr}"
    );
    assert!(!built.exists(), "nothing written");
}

#[test]
fn a_rust_program_links_the_object_through_its_build_script() {
    let dir = work_dir("rust");
    let program = std::fs::read_to_string(format!("{ROOT}/examples/iris.dl"))
        .unwrap()
        .replace("examples/data/iris.csv", &data("iris.csv"));
    let source = dir.join("iris.dl");
    std::fs::write(&source, program).unwrap();
    let run_dir = dir.join("run");
    run(dlc()
        .args(["run", "-q", "--epochs", "5", "--out"])
        .arg(&run_dir)
        .arg(&source));
    let model = run_dir.join("model.safetensors");
    let built = dir.join("built");
    run(dlc()
        .arg("build")
        .arg(&model)
        .args(["--name", "model", "-o"])
        .arg(&built));
    let example = Path::new(ROOT).join("examples/deploy-rust");
    let target = dir.join("target");
    run(Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--offline",
            "--quiet",
            "--manifest-path",
        ])
        .arg(example.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env("DLC_BUILT", &built)
        .env_remove("RUSTFLAGS"));
    let iris = std::fs::read_to_string(data("iris.csv")).unwrap();
    let samples: String = iris
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    let mut child = Command::new(target.join("release/deploy-rust"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(samples.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let rust: Vec<Vec<f64>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let predicted = run(dlc()
        .arg("predict")
        .arg(&model)
        .arg("--input")
        .arg(data("iris.csv")));
    let difference = max_difference(&rust, &dlc_predictions(&predicted));
    assert!(
        difference <= 1e-5,
        "the Rust program differs by {difference}"
    );
}
