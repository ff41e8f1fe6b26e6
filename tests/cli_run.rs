//! `dlc run`, `dlc eval` and `dlc predict` as a user meets them: exit codes
//! and the messages for bad input.

mod checkpoint_support;
use checkpoint_support::{metadata, rewrite};
use std::path::PathBuf;
use std::process::{Command, Output};

/// Where `dlc run` writes in these tests (the temporary directory, not the
/// checkout): run directories, and so the programs' checkpoints.
fn out_dir() -> PathBuf {
    std::env::temp_dir()
        .join(format!("dlc-cli-run-{}", std::process::id()))
        .join("runs")
}

fn dlc(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dlc"));
    command.args(args);
    if args.first() == Some(&"run") {
        command.arg("--out").arg(out_dir());
    }
    command.output().expect("dlc runs")
}

fn temp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-cli-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_diverging_run_exits_3_and_says_why() {
    let src = std::fs::read_to_string("examples/spirals.dl")
        .unwrap()
        .replace("sgd(lr: 0.1)", "sgd(lr: 1e12)");
    let p = temp("diverge.dl", &src);
    let o = dlc(&["run", p.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("training diverged at epoch 1"), "{e}");
    assert!(
        e.contains("the learning rate 1e12 is likely too high"),
        "{e}"
    );
}

#[test]
fn a_bad_data_file_names_file_line_and_column() {
    let csv = temp("bad.csv", "a,b,label\n1,2,0\n3,x4,1\n");
    let src = format!(
        "data d = csv(\"{}\", label: \"label\", classes: 2)\nnetwork n(x: [2]) -> 2 {{ dense 2 }}\ntrain n on d {{ loss cross_entropy; optimizer sgd(lr: 0.1) }}\n",
        csv.display()
    );
    let p = temp("badcsv.dl", &src);
    let o = dlc(&["run", p.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.csv:3:3: expected a number, found \"x4\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn data_of_the_wrong_shape_is_refused_before_training() {
    let csv = temp("three.csv", "a,b,c,label\n1,2,3,0\n3,4,5,1\n");
    let src = format!(
        "data d = csv(\"{}\", label: \"label\", classes: 2)\nnetwork n(x: [2]) -> 2 {{ dense 2 }}\ntrain n on d {{ loss cross_entropy; optimizer sgd(lr: 0.1) }}\n",
        csv.display()
    );
    let p = temp("shape.dl", &src);
    let o = dlc(&["run", p.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("samples of shape [3], but network `n` takes [2]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn program_errors_exit_1_with_diagnostics() {
    let p = temp("wrong.dl", "network n(x: [2]) -> 3 { dense 4 }\n");
    let o = dlc(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[E0405]"), "{}", stderr(&o));
}

#[test]
fn missing_files_and_missing_plans_exit_2() {
    let o = dlc(&["run", "no/such/file.dl"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let p = temp("noplan.dl", "network n(x: [2]) -> 2 { dense 2 }\n");
    let o = dlc(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no `train` item"), "{}", stderr(&o));
}

#[test]
fn eval_and_predict_use_a_checkpoint() {
    // `--out` puts the checkpoint into the run directory, under its name.
    let ckpt = out_dir().join("iris-ckpt.safetensors");
    let src = std::fs::read_to_string("examples/iris.dl")
        .unwrap()
        .replace(
            "    seed      1\n}",
            &format!("    checkpoint \"{}\"\n    seed      1\n}}", ckpt.display()),
        );
    let p = temp("iris.dl", &src);
    let o = dlc(&["run", p.to_str().unwrap(), "--quiet", "--epochs", "20"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dlc(&[
        "eval",
        p.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("validation: 30 samples") && out.contains("training: 120 samples"),
        "{out}"
    );
    let input = temp(
        "in.csv",
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n",
    );
    let o = dlc(&[
        "predict",
        p.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows[0], "predicted,p_0,p_1,p_2");
    assert!(
        rows[1].starts_with("0,") && rows[2].starts_with("2,"),
        "setosa then virginica: {out}"
    );
    for row in &rows[1..] {
        let p: f64 = row
            .split(',')
            .skip(1)
            .map(|v| v.parse::<f64>().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-4, "probabilities sum to 1: {row}");
    }
    // A truncated checkpoint is refused with a clear message.
    let bytes = std::fs::read(&ckpt).unwrap();
    let cut = temp("cut.safetensors", "");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let o = dlc(&[
        "eval",
        p.to_str().unwrap(),
        "--checkpoint",
        cut.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a valid checkpoint"),
        "{}",
        stderr(&o)
    );
}

/// examples/iris.dl with a checkpoint in a directory of its own.
fn iris_with_checkpoint(name: &str, optimizer: &str) -> (PathBuf, PathBuf) {
    // `--out` puts the checkpoint into the run directory, under its name.
    let ckpt = out_dir().join(format!("iris-{name}.safetensors"));
    let _ = std::fs::remove_file(&ckpt);
    let src = std::fs::read_to_string("examples/iris.dl")
        .unwrap()
        .replace("adam(lr: 0.01)", optimizer)
        .replace(
            "    seed      1\n}",
            &format!("    checkpoint \"{}\"\n    seed      1\n}}", ckpt.display()),
        );
    (temp(&format!("{name}.dl"), &src), ckpt)
}

#[test]
fn resume_takes_no_value_and_goes_before_or_after_the_file() {
    let (p, ckpt) = iris_with_checkpoint("resume", "adam(lr: 0.01)");
    let p = p.to_str().unwrap();
    let c = ckpt.to_str().unwrap();
    let o = dlc(&["run", p, "--quiet", "--epochs", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (args, from) in [
        (vec!["run", "--resume", p, "--epochs", "5"], 3),
        (vec!["run", p, "--resume", "--epochs", "7"], 5),
        (vec!["run", p, "--resume-from", c, "--epochs", "8"], 7),
    ] {
        let o = dlc(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("resuming from {c} at epoch {from}")),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(metadata(&ckpt)["epoch"], "8");
    // The run was last asked for 8 epochs, and has trained them.
    let o = dlc(&["run", p, "--resume"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("it has trained all 8 epochs: there is nothing to resume"),
        "{}",
        stderr(&o)
    );
    let o = dlc(&["run", p, "--resume", "--epochs", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!(
            "cannot resume from {c}: 8 epochs are already trained, more than the 3 asked for"
        )),
        "{}",
        stderr(&o)
    );
    let o = dlc(&["run", p, "--resume-from", c, "--epochs", "9", "--seed", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("was trained with seed 1; --seed 2 would start another run"),
        "{}",
        stderr(&o)
    );
    // `--resume` with another seed looks for that seed's own checkpoint.
    let o = dlc(&["run", p, "--resume", "--epochs", "9", "--seed", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&c.replace(".safetensors", "-seed2.safetensors")),
        "{}",
        stderr(&o)
    );
    let o = dlc(&["run", p, "--epochs", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value '0' for '--epochs <EPOCHS>': must be positive"),
        "{}",
        stderr(&o)
    );
    let help = dlc(&["run", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--resume-from <CHECKPOINT>"), "{help}");
    let _ = std::fs::remove_file(&ckpt);
}

#[test]
fn eval_predict_and_resume_refuse_a_checkpoint_holding_nan() {
    let (p, ckpt) = iris_with_checkpoint("nan", "adam(lr: 0.01)");
    let p = p.to_str().unwrap();
    let o = dlc(&["run", p, "--quiet", "--epochs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    rewrite(&ckpt, |f| {
        f.tensors.get_mut("dense2.weight").unwrap().values[4] = f32::NAN;
    });
    let input = temp(
        "nan-in.csv",
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n",
    );
    let c = ckpt.to_str().unwrap();
    for args in [
        vec!["eval", p, "--checkpoint", c],
        vec![
            "predict",
            p,
            "--checkpoint",
            c,
            "--input",
            input.to_str().unwrap(),
        ],
        vec!["run", p, "--resume", "--epochs", "3"],
    ] {
        let o = dlc(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains("holds NaN in tensor `dense2.weight` at [0, 4]"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let _ = std::fs::remove_file(&ckpt);
}

#[test]
fn a_step_count_no_run_could_reach_is_not_blamed_on_the_learning_rate() {
    let (p, ckpt) = iris_with_checkpoint("step", "adam(lr: 0.01)");
    let p = p.to_str().unwrap();
    let o = dlc(&["run", p, "--quiet", "--epochs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    rewrite(&ckpt, |f| {
        f.metadata.insert("step".into(), u64::MAX.to_string());
    });
    let o = dlc(&["run", p, "--resume", "--epochs", "4"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("cannot resume from")
            && e.contains("the step count 18446744073709551615 is not what 2 epoch(s) of this data take (8 steps each, 16 in all)")
            && !e.contains("learning rate"),
        "{e}"
    );
    let _ = std::fs::remove_file(&ckpt);
}

#[test]
fn an_adam_checkpoint_evaluates_in_an_sgd_program_but_does_not_resume() {
    let (adam, ckpt) = iris_with_checkpoint("adam", "adam(lr: 0.01)");
    let o = dlc(&["run", adam.to_str().unwrap(), "--quiet", "--epochs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (sgd, _) = iris_with_checkpoint("sgd", "sgd(lr: 0.1, momentum: 0.9)");
    let (sgd, c) = (sgd.to_str().unwrap(), ckpt.to_str().unwrap());
    let o = dlc(&["eval", sgd, "--checkpoint", c]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dlc(&["run", sgd, "--resume-from", c, "--epochs", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the optimizer differs: it was written by `adam`"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_file(&ckpt);
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::process::Stdio;
    let o = dlc(&["run", "-q", "examples/iris.dl", "--epochs", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let model = out_dir().join("model.safetensors");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .arg("eval")
        .arg(&model)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away at once, as `| head -0` would.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    assert!(!e.contains("panicked"), "{e}");
}
