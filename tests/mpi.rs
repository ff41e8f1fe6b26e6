//! `mpirun -np N dlc run` trains as one process does: the same losses and
//! accuracies each epoch, and a model file with the same parameters (to
//! float rounding), written by the first rank only. Built with the `mpi`
//! feature; needs OpenMPI's `mpirun` (`.ci/run` installs it).
#![cfg(feature = "mpi")]

mod distributed_support;

use distributed_support::relative_difference;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Wine with batch norm and dropout, batch 20 of 142: a last batch of 2,
/// which three ranks split as 1, 1 and 0. (No bias before the norm: its
/// gradient there is only rounding, which Adam's steps would amplify.)
const MLP: &str = r#"
data wine = csv("wine.csv", label: "cultivar") {
    standardize
    validation 0.2
    seed 3
}
network net(x: [13]) -> 3 {
    dense 24, bias: false
    batchnorm
    tanh
    dropout 0.3
    dense 16
    relu
    dense 3
}
train net on wine {
    loss      cross_entropy
    optimizer adam(lr: 0.01)
    batch     20
    epochs    4
    seed      7
}
"#;

/// The digits CNN of `examples/digits_cnn.dl` (batch and instance norm, max
/// and average pooling), for two epochs (90 steps; by the third, Adam has
/// grown the rounding of sums taken in another order to 2.5e-5 relative in
/// a batch norm's offsets).
const CNN: &str = r#"
data digits = csv("digits.csv", label: "digit", classes: 10) {
    reshape    [1, 8, 8]
    scale      1 / 16
    validation 0.2
    seed       7
}
network cnn(x: [1, 8, 8]) -> 10 {
    conv 16, kernel: 3, pad: 1, bias: false
    batchnorm
    relu
    conv 32, kernel: 3, pad: 1, bias: false
    instancenorm affine
    relu
    maxpool 2
    conv 32, kernel: 3, pad: 1, bias: false
    batchnorm
    relu
    avgpool 2
    flatten
    dense 64
    relu
    dense 10
}
train cnn on digits {
    loss      cross_entropy
    optimizer adam(lr: 2e-3)
    batch     32
    epochs    2
    seed      7
}
"#;

fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mpi-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for data in ["wine.csv", "digits.csv"] {
        std::fs::copy(Path::new("examples/data").join(data), dir.join(data)).unwrap();
    }
    dir
}

fn mpirun(dir: &Path, ranks: Option<usize>, args: &[impl AsRef<std::ffi::OsStr>]) -> Output {
    let dlc = env!("CARGO_BIN_EXE_dlc");
    let mut cmd = match ranks {
        None => Command::new(dlc),
        Some(n) => {
            let mut c = Command::new("mpirun");
            c.args(["-np", &n.to_string(), "--oversubscribe", dlc]);
            c
        }
    };
    cmd.args(args)
        .current_dir(dir)
        // CI runs as root, which OpenMPI refuses unless told.
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        // Containers often forbid the cross-process memory copy OpenMPI's
        // shared-memory transport tries first; plain copies always work.
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
        .output()
        .expect("mpirun runs (OpenMPI installed?)")
}

/// The epoch lines of a `--json` run: (train loss, train acc, val loss, val acc).
fn epochs(o: &Output) -> Vec<[f64; 4]> {
    let text = String::from_utf8_lossy(&o.stdout);
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("event").is_none())
        .map(|v| ["train_loss", "train_acc", "val_loss", "val_acc"].map(|k| v[k].as_f64().unwrap()))
        .collect()
}

fn params(dir: &Path, out: &str) -> Vec<(String, Vec<f32>)> {
    let model = dlc::open_model(dir.join(out).join("model.safetensors"), &Default::default())
        .expect("the model file opens");
    model
        .parameters()
        .into_iter()
        .map(|(name, _, v)| (name.to_string(), v.to_vec()))
        .collect()
}

/// `dlc run` with `extra` arguments alone, then on two and three ranks.
fn check(name: &str, program: &str, extra: &[&str]) {
    let dir = folder(name);
    std::fs::write(dir.join("p.dl"), program).unwrap();
    let args = |out: &str| -> Vec<String> {
        let fixed = ["run", "p.dl", "--json", "-q", "--out", out];
        fixed.iter().chain(extra).map(|a| a.to_string()).collect()
    };
    let alone = mpirun(&dir, None, &args("alone"));
    assert!(
        alone.status.success(),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    let expected = epochs(&alone);
    let expected_params = params(&dir, "alone");
    for ranks in [2, 3] {
        let out = format!("ranks{ranks}");
        let o = mpirun(&dir, Some(ranks), &args(&out));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{name}, {ranks} ranks: {err}");
        let got = epochs(&o);
        // One rank prints: as many epoch lines as alone.
        assert_eq!(got.len(), expected.len(), "{name}, {ranks} ranks: {err}");
        for (e, (a, b)) in expected.iter().zip(&got).enumerate() {
            for (x, y) in a.iter().zip(b) {
                let rel = (x - y).abs() / x.abs().max(1e-12);
                assert!(
                    rel <= 1e-5,
                    "{name}, {ranks} ranks, epoch {}: {a:?} vs {b:?}",
                    e + 1
                );
            }
        }
        let p = params(&dir, &out);
        assert_eq!(p.len(), expected_params.len());
        for ((tensor, a), (_, b)) in expected_params.iter().zip(&p) {
            let rel = relative_difference(a, b);
            assert!(
                rel <= 1e-5,
                "{name}, {ranks} ranks: {tensor} differs by {rel:e}"
            );
        }
    }
}

#[test]
fn an_mlp_with_batch_norm_and_dropout_trains_on_two_and_three_ranks_as_alone() {
    check("mlp", MLP, &[]);
}

#[test]
fn the_interpreter_trains_on_ranks_as_alone_too() {
    // Its batch norm sums across the ranks as the compiled code's does.
    check("interpreted", MLP, &["--interpret"]);
}

#[test]
fn the_digits_cnn_trains_on_two_and_three_ranks_as_alone() {
    check("cnn", CNN, &[]);
}

#[test]
fn a_rank_that_cannot_read_its_data_stops_the_job_with_one_message() {
    let dir = folder("missing");
    std::fs::write(dir.join("p.dl"), MLP.replace("wine.csv", "gone.csv")).unwrap();
    let o = mpirun(&dir, Some(2), &["run", "p.dl", "-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(
        err.matches("gone.csv: cannot read the file").count(),
        1,
        "{err}"
    );
}

#[test]
fn mpirun_tune_shares_the_grid_and_decides_as_alone() {
    let dir = folder("tune");
    std::fs::write(dir.join("p.dl"), MLP).unwrap();
    let args = |out: &'static str| {
        [
            "tune",
            "p.dl",
            "--epochs",
            "1",
            "--fine-epochs",
            "1",
            "--top",
            "1",
            "--finder-steps",
            "40",
            "--confirm-seeds",
            "1",
            "-q",
            "--out",
            out,
        ]
    };
    let alone = mpirun(&dir, None, &args("alone"));
    let shared = mpirun(&dir, Some(2), &args("shared"));
    for o in [&alone, &shared] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // One rank prints: the same decision, once.
    assert_eq!(
        String::from_utf8_lossy(&shared.stdout),
        String::from_utf8_lossy(&alone.stdout)
    );
    assert!(dir.join("shared/report.html").is_file());
}
