//! The weighted losses (`class_weights`) on both back ends: every entry
//! point of programs with a list of weights and with `balanced`, for
//! `cross_entropy` and `binary_cross_entropy`, gives the same loss,
//! outputs, gradients and updates on the JIT as on the interpreter, with
//! random positive class weights.

mod jit_support;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::codegen::CompileOptions;
use dlc::ir::StepScalars;
use dlc::runtime::backend::Interpreter;
use dlc::runtime::jit::JitBackend;
use jit_support::{Batch, Lcg, Outcome, class_weights_len, compare_entry, random_buffers};

fn check_program(text: &str, classes: usize, labels_below: usize) {
    let model = dlc::check::check_source(text)
        .model
        .unwrap_or_else(|| panic!("does not check:\n{text}"));
    let graphs = Graphs::build(&model).unwrap();
    assert_eq!(
        class_weights_len(&graphs),
        classes,
        "the loss reads one weight per class"
    );
    let max_batch = 9;
    let mut jit = JitBackend::with_options(&graphs, &CompileOptions::new(max_batch)).unwrap();
    let mut interp = Interpreter::new(graphs.clone());
    let mut rng = Lcg(classes as u64 * 131 + labels_below as u64);
    let sample: usize = model.network.input_shape.iter().product();
    let width: usize = model.network.output_shape().iter().product();
    let mut compared = 0;
    for n in [max_batch, 3] {
        let buffers = random_buffers(&graphs, &mut rng);
        assert_eq!(buffers.class_weights.len(), classes);
        let batch = Batch {
            n,
            features: (0..n * sample).map(|_| rng.sym()).collect(),
            labels: (0..n).map(|_| rng.below(labels_below) as f32).collect(),
            scalars: StepScalars {
                learning_rate: 0.05,
                bias_correction1: 1.5,
                bias_correction2: 1.25,
            },
            seed: 5,
            step: n as u64,
        };
        for entry in Entry::ALL {
            if graphs.get(entry).is_none() {
                continue;
            }
            match compare_entry(
                &graphs,
                &mut interp,
                &mut jit,
                entry,
                &buffers,
                &batch,
                n * width,
            ) {
                Ok(Outcome::Agree) => compared += 1,
                Ok(Outcome::IllConditioned(e)) | Err(e) => {
                    panic!("{} (n = {n}): {e}\n{text}", entry.name())
                }
            }
        }
    }
    assert!(compared >= 6, "only {compared} entry points compared");
}

#[test]
fn weighted_cross_entropy_matches_the_interpreter() {
    check_program(
        "data d = blobs(points: 40, classes: 4, features: 3)\n\
         network net(x: [3]) -> 4 { dense 8 -> tanh; dense 4 }\n\
         train net on d { loss cross_entropy; class_weights [1, 2.5, 0.5, 4]; optimizer adam(lr: 0.01) }\n",
        4,
        4,
    );
}

#[test]
fn balanced_cross_entropy_matches_the_interpreter() {
    check_program(
        "data d = spirals(points: 30)\n\
         network net(x: [2]) -> 3 { dense 8 -> relu; dense 3 }\n\
         train net on d { loss cross_entropy; class_weights balanced; optimizer sgd(lr: 0.1, momentum: 0.9) }\n",
        3,
        3,
    );
}

#[test]
fn weighted_binary_cross_entropy_matches_the_interpreter() {
    check_program(
        "data d = xor()\n\
         network net(x: [2]) -> 1 { dense 4 -> tanh; dense 1 }\n\
         train net on d { loss binary_cross_entropy; class_weights [0.3, 3]; optimizer adam(lr: 0.01) }\n",
        2,
        2,
    );
}

/// Compiled code never reads class weights it was not given: a call
/// without them is refused with the size it needed.
#[test]
fn a_call_without_the_class_weights_is_refused() {
    use dlc::runtime::backend::{Backend, Call};
    let text = "data d = spirals(points: 30)\n\
                network net(x: [2]) -> 3 { dense 3 }\n\
                train net on d { loss cross_entropy; class_weights balanced; optimizer sgd(lr: 0.1) }\n";
    let model = dlc::check::check_source(text).model.unwrap();
    let graphs = Graphs::build(&model).unwrap();
    let mut jit = JitBackend::new(&graphs, 4).unwrap();
    let mut buffers = random_buffers(&graphs, &mut Lcg(1));
    buffers.class_weights.clear();
    let call = Call {
        n: 2,
        features: &[0.1, 0.2, 0.3, 0.4],
        labels: &[0.0, 2.0],
        scalars: StepScalars::at_rate(0.1),
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    let err = jit
        .call(Entry::TrainStep, &mut buffers, &call, &mut [0.0; 6])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "input class weights holds 0 values, the graph needs 3"
    );
}
