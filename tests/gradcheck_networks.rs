//! Whole-network gradients against central finite differences, in f64,
//! through the reference interpreter, for every example program.

use dlc::autodiff::differentiate;
use dlc::interp::{Inputs, evaluate_prefix};
use dlc::ir::{Mode, StepScalars};
use dlc::lower::lower;

/// A tiny deterministic generator for test data (independent of dlc's own).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn check_example(path: &str, batch: usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let checked = dlc::check::check_source(&text);
    let model = checked
        .model
        .unwrap_or_else(|| panic!("{path} does not check"));
    let lowered = lower(&model, Mode::Train, true);
    let mut g = lowered.graph;
    let loss = lowered.loss.unwrap();
    let grads = differentiate(&mut g, loss);
    dlc::ir::verify(&g).unwrap();
    let mut rng = Lcg(42);
    let params: Vec<Vec<f64>> = g
        .params
        .iter()
        .map(|p| (0..p.len()).map(|_| rng.next() * 0.5).collect())
        .collect();
    let states: Vec<Vec<f64>> = g
        .states
        .iter()
        .map(|s| vec![s.init as f64; s.shape.iter().product()])
        .collect();
    let sample: usize = model.network.input_shape.iter().product();
    let features: Vec<f64> = (0..batch * sample).map(|_| rng.next()).collect();
    let out_width = model.network.output_shape()[0];
    let labels: Vec<f64> = match model.train.as_ref().unwrap().loss {
        dlc::check::Loss::CrossEntropy => (0..batch).map(|i| (i % out_width) as f64).collect(),
        dlc::check::Loss::BinaryCrossEntropy => (0..batch).map(|i| (i % 2) as f64).collect(),
        dlc::check::Loss::MeanSquaredError => (0..batch * out_width).map(|_| rng.next()).collect(),
    };
    let run = |params: &[Vec<f64>], count: usize| {
        let inputs = Inputs {
            batch,
            class_weights: &[],
            features: &features,
            labels: &labels,
            params,
            states: &states,
            grads: &[],
            scalars: StepScalars {
                learning_rate: 0.1,
                bias_correction1: 10.0,
                bias_correction2: 31.6,
            },
            seed: 7,
            step: 3,
            shard: dlc::ir::Shard::WHOLE,
        };
        evaluate_prefix(&g, &inputs, count).unwrap()
    };
    let vals = run(&params, g.nodes.len());
    let forward = loss.index() + 1;
    let mut worst = 0.0f64;
    for (p, grad) in grads.iter().enumerate() {
        let Some(grad) = grad else { continue };
        let analytic = &vals[grad.index()];
        let len = params[p].len();
        for k in (0..len).step_by((len / 12).max(1)) {
            let h = 1e-6;
            let mut plus = params.clone();
            plus[p][k] += h;
            let mut minus = params.clone();
            minus[p][k] -= h;
            let lp = run(&plus, forward)[loss.index()][0];
            let lm = run(&minus, forward)[loss.index()][0];
            let numeric = (lp - lm) / (2.0 * h);
            let a = analytic[k];
            let err = (a - numeric).abs() / a.abs().max(numeric.abs()).max(1e-4);
            worst = worst.max(err);
            assert!(
                err < 1e-4,
                "{path}: {} [{k}]: analytic {a}, numeric {numeric}",
                g.params[p].name
            );
        }
    }
    eprintln!("{path}: worst relative error {worst:.2e}");
}

#[test]
fn xor() {
    check_example("examples/xor.dl", 4);
}

#[test]
fn spirals() {
    check_example("examples/spirals.dl", 5);
}

#[test]
fn digits_mlp() {
    check_example("examples/digits_mlp.dl", 6);
}

#[test]
fn digits_cnn() {
    check_example("examples/digits_cnn.dl", 3);
}

#[test]
fn residual() {
    check_example("examples/residual.dl", 3);
}

#[test]
fn regression() {
    check_example("examples/regression.dl", 5);
}

#[test]
fn branches() {
    check_example("examples/branches.dl", 5);
}

#[test]
fn iris() {
    check_example("examples/iris.dl", 5);
}

#[test]
fn wine() {
    check_example("examples/wine.dl", 5);
}

#[test]
fn spirals_sgd1() {
    check_example("examples/spirals_sgd1.dl", 1);
}

#[test]
fn bench_w1() {
    check_example("examples/bench/w1_tiny.dl", 4);
}

#[test]
fn bench_w2() {
    check_example("examples/bench/w2_mlp.dl", 2);
}

#[test]
fn bench_w3() {
    check_example("examples/bench/w3_mlp_bn_dropout.dl", 3);
}

#[test]
fn bench_w4() {
    check_example("examples/bench/w4_cnn.dl", 2);
}

#[test]
fn bench_w5() {
    check_example("examples/bench/w5_inference.dl", 2);
}

/// Every example has its gradient check above.
#[test]
fn every_example_is_checked() {
    let source = include_str!("gradcheck_networks.rs");
    for dir in ["examples", "examples/bench"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "dl") {
                continue;
            }
            let quoted = format!("\"{}\"", path.display());
            assert!(source.contains(&quoted), "{quoted} has no gradient check");
        }
    }
}
