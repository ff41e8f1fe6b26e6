//! Timings, run on request (they assert only that the JIT agrees with itself
//! across repeated steps): compile time from source to ready functions, and
//! milliseconds per training step of the benchmark workloads W1-W4 at their
//! batch sizes, next to the interpreter's.
//!
//! `cargo test --release --test jit_measure -- --ignored --nocapture`

mod jit_support;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::check::Batch as BatchSize;
use dlc::ir::StepScalars;
use dlc::runtime::backend::{Backend, Call, Interpreter};
use dlc::runtime::jit::JitBackend;
use jit_support::{Lcg, random_buffers};
use std::time::Instant;

fn load(path: &str) -> (dlc::check::Model, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let model = dlc::check::check_source(&text).model.unwrap();
    let batch = match model.train.as_ref().unwrap().batch {
        BatchSize::Size(b) => b,
        BatchSize::All => 4,
    };
    (model, batch)
}

/// Source text -> checked -> graphs -> native functions, best of `runs`.
fn compile_ms(path: &str, runs: usize) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let model = dlc::check::check_source(&text).model.unwrap();
        let graphs = Graphs::build(&model).unwrap();
        let batch = match model.train.as_ref().unwrap().batch {
            BatchSize::Size(b) => b,
            BatchSize::All => 4,
        };
        let jit = JitBackend::new(&graphs, batch).unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        assert!(jit.compiled().get(Entry::TrainStep).is_some());
    }
    best
}

/// Median milliseconds per `predict` call on `n` samples.
fn predict_ms(
    backend: &mut dyn Backend,
    graphs: &Graphs,
    model: &dlc::check::Model,
    n: usize,
    calls: usize,
) -> f64 {
    let mut rng = Lcg(2);
    let mut buffers = random_buffers(graphs, &mut rng);
    let sample: usize = model.network.input_shape.iter().product();
    let classes: usize = model.network.output_shape().iter().product();
    let features: Vec<f32> = (0..n * sample).map(|_| rng.sym()).collect();
    let mut out = vec![0.0; n * classes];
    let call = Call {
        n,
        features: &features,
        labels: &[],
        scalars: StepScalars::NO_STEP,
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls + 2 {
        let t = Instant::now();
        backend
            .call(Entry::Predict, &mut buffers, &call, &mut out)
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.drain(..2);
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Median milliseconds per `train_step` over `steps` steps (after a warm-up).
fn step_ms(
    backend: &mut dyn Backend,
    graphs: &Graphs,
    model: &dlc::check::Model,
    n: usize,
    steps: usize,
) -> f64 {
    let mut rng = Lcg(1);
    let mut buffers = random_buffers(graphs, &mut rng);
    let sample: usize = model.network.input_shape.iter().product();
    let classes: usize = model.network.output_shape().iter().product();
    let features: Vec<f32> = (0..n * sample).map(|_| rng.sym()).collect();
    let labels: Vec<f32> = (0..n).map(|_| rng.below(classes) as f32).collect();
    let mut out = vec![0.0; n * classes];
    let mut times = Vec::with_capacity(steps);
    for step in 0..steps + 2 {
        let call = Call {
            n,
            features: &features,
            labels: &labels,
            scalars: StepScalars {
                learning_rate: 0.01,
                bias_correction1: 1.1,
                bias_correction2: 1.05,
            },
            seed: 0,
            step: step as u64,
            shard: dlc::ir::Shard::WHOLE,
        };
        let t = Instant::now();
        let loss = backend
            .call(Entry::TrainStep, &mut buffers, &call, &mut out)
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(loss.is_finite());
    }
    times.drain(..2);
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[test]
#[ignore = "timing; run on request"]
fn measure_compile_and_step_times() {
    for path in ["examples/bench/w1_tiny.dl", "examples/bench/w2_mlp.dl"] {
        println!("compile {path}: {:.1} ms (best of 5)", compile_ms(path, 5));
    }
    for (path, interp_steps) in [
        ("examples/bench/w1_tiny.dl", 20),
        ("examples/bench/w2_mlp.dl", 3),
        ("examples/bench/w3_mlp_bn_dropout.dl", 3),
        ("examples/bench/w4_cnn.dl", 2),
    ] {
        let (model, batch) = load(path);
        let graphs = Graphs::build(&model).unwrap();
        let mut jit = JitBackend::new(&graphs, batch).unwrap();
        let jit_ms = step_ms(&mut jit, &graphs, &model, batch, 50);
        let mut interp = Interpreter::new(graphs.clone());
        let interp_ms = step_ms(&mut interp, &graphs, &model, batch, interp_steps);
        println!(
            "{path} batch {batch}: jit {jit_ms:.3} ms/step, interpreter {interp_ms:.1} ms/step ({:.0}x)",
            interp_ms / jit_ms
        );
    }
    let (model, batch) = load("examples/bench/w5_inference.dl");
    let graphs = Graphs::build(&model).unwrap();
    let mut jit = JitBackend::new(&graphs, batch).unwrap();
    for n in [1, batch] {
        let ms = predict_ms(&mut jit, &graphs, &model, n, 50);
        println!("w5 predict batch {n}: jit {ms:.3} ms/call");
    }
}
