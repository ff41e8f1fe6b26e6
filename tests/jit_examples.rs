//! Every example program, every entry point: the JIT's results equal the
//! interpreter's (in f32) on random parameters, states and batches, within the
//! tolerance stated in `jit_support` — loss, outputs, gradients, updated
//! parameters and states — at the compiled maximum batch and a smaller one,
//! with both GEMM paths.

mod example_programs;
mod jit_support;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::check::Loss;
use dlc::codegen::{CompileOptions, GemmPolicy};
use dlc::ir::StepScalars;
use dlc::runtime::backend::Interpreter;
use dlc::runtime::jit::JitBackend;
use example_programs::programs;
use jit_support::{Batch, Lcg, Outcome, compare_entry, random_buffers};

fn batch(model: &dlc::check::Model, n: usize, rng: &mut Lcg, step: u64) -> Batch {
    let sample: usize = model.network.input_shape.iter().product();
    let width: usize = model.network.output_shape().iter().product();
    let loss = model.train.as_ref().map(|t| t.loss);
    let labels = match loss {
        Some(Loss::CrossEntropy) => (0..n).map(|_| rng.below(width) as f32).collect(),
        Some(Loss::BinaryCrossEntropy) => (0..n).map(|_| rng.below(2) as f32).collect(),
        Some(Loss::MeanSquaredError) => (0..n * width).map(|_| rng.sym()).collect(),
        None => vec![],
    };
    Batch {
        n,
        features: (0..n * sample).map(|_| rng.sym()).collect(),
        labels,
        scalars: StepScalars {
            learning_rate: 0.05,
            bias_correction1: 1.5,
            bias_correction2: 1.25,
        },
        seed: 11,
        step,
    }
}

fn check_program(path: &str, max_batch: usize, policy: GemmPolicy) {
    let text = std::fs::read_to_string(path).unwrap();
    let model = dlc::check::check_source(&text)
        .model
        .unwrap_or_else(|| panic!("{path} does not check"));
    let graphs = Graphs::build(&model).unwrap();
    let options = CompileOptions {
        gemm: policy,
        ..CompileOptions::new(max_batch)
    };
    let mut jit =
        JitBackend::with_options(&graphs, &options).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut interp = Interpreter::new(graphs.clone());
    let mut rng = Lcg(path.len() as u64 * 7919 + max_batch as u64);
    let width: usize = model.network.output_shape().iter().product();
    let mut ran = 0;
    for n in [max_batch, 3] {
        let buffers = random_buffers(&graphs, &mut rng);
        let b = batch(&model, n, &mut rng, n as u64);
        for entry in Entry::ALL {
            if graphs.get(entry).is_none() {
                continue;
            }
            let outcome = compare_entry(
                &graphs,
                &mut interp,
                &mut jit,
                entry,
                &buffers,
                &b,
                n * width,
            );
            match outcome {
                Ok(Outcome::Agree) => {}
                Ok(Outcome::IllConditioned(e)) | Err(e) => {
                    panic!("{path} (max batch {max_batch}, {policy:?}, n = {n}): {e}")
                }
            }
            ran += 1;
        }
    }
    assert!(ran >= 2, "{path}: no entry point ran");
}

#[test]
fn examples_match_the_interpreter_with_measured_gemm_choice() {
    for p in programs() {
        check_program(&p, 8, GemmPolicy::Measured);
    }
}

#[test]
fn examples_match_the_interpreter_with_the_inline_gemm() {
    for p in programs() {
        check_program(&p, 6, GemmPolicy::Inline);
    }
}

#[test]
fn examples_match_the_interpreter_with_the_external_gemm() {
    for p in programs() {
        check_program(&p, 5, GemmPolicy::External);
    }
}
