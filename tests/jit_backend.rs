//! The JIT back end's contract: dropout masks bit-identical to `ir::dropout`,
//! typed errors for bad calls (before any native code runs), outputs that do
//! not fit, and the plans it compiles (in-place updates, scratch reuse).

mod jit_support;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::interp::InterpError;
use dlc::ir::*;
use dlc::runtime::backend::{Backend, BackendError, Buffers, Call};
use dlc::runtime::jit::JitBackend;

fn predict_only(g: Graph) -> Graphs {
    Graphs {
        train_step: None,
        backward: None,
        update: None,
        eval: None,
        predict: g,
    }
}

fn empty_buffers() -> Buffers {
    Buffers {
        params: vec![],
        grads: vec![],
        states: vec![],
        class_weights: Vec::new(),
    }
}

#[test]
fn dropout_masks_are_bit_identical_to_the_reference() {
    for (rate, salt, shape) in [
        (0.0f32, 0u64, vec![13usize]),
        (0.2, 3, vec![5, 7]),
        (0.5, 11, vec![2, 3, 4]),
        (0.9, 1 << 40, vec![37]),
    ] {
        let mut g = Graph::default();
        let x = g.input(InputKind::Features, Shape::batched(&shape));
        let mask = g.push(Op::DropoutMask { rate, salt }, g.shape(x).clone());
        g.sinks.push(Sink::Output(mask));
        let mut jit = JitBackend::new(&predict_only(g), 9).unwrap();
        for (seed, step, n) in [(0u64, 0u64, 9usize), (42, 7, 4), (u64::MAX, 1 << 33, 1)] {
            let per: usize = shape.iter().product();
            let features = vec![0.0; n * per];
            let call = Call {
                n,
                features: &features,
                labels: &[],
                scalars: StepScalars::NO_STEP,
                seed,
                step,
                shard: dlc::ir::Shard::WHOLE,
            };
            let mut out = vec![f32::NAN; n * per];
            jit.call(Entry::Predict, &mut empty_buffers(), &call, &mut out)
                .unwrap();
            let key = dropout::key(seed, step, salt);
            for (i, v) in out.iter().enumerate() {
                let want = dropout::mask_value(key, i as u64, rate);
                assert_eq!(
                    v.to_bits(),
                    want.to_bits(),
                    "rate {rate} salt {salt} seed {seed} step {step} element {i}"
                );
            }
            if rate == 0.5 && n == 9 {
                let kept = out.iter().filter(|v| **v != 0.0).count();
                assert!(kept > out.len() / 4 && kept < out.len() * 3 / 4, "{kept}");
            }
        }
    }
}

fn doubling_graph() -> Graphs {
    let mut g = Graph::default();
    let x = g.input(InputKind::Features, Shape::batched(&[3]));
    let y = g.scale(x, 2.0);
    g.sinks.push(Sink::Output(y));
    predict_only(g)
}

#[test]
fn bad_calls_are_typed_errors() {
    let mut jit = JitBackend::new(&doubling_graph(), 4).unwrap();
    let features = vec![1.0; 15];
    let call = |n, features: &'static [f32]| Call {
        n,
        features,
        labels: &[],
        scalars: StepScalars::NO_STEP,
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    let mut out = vec![0.0; 15];
    let big = Box::leak(features.into_boxed_slice());
    match jit.call(
        Entry::Predict,
        &mut empty_buffers(),
        &call(5, big),
        &mut out,
    ) {
        Err(BackendError::BatchTooLarge { n: 5, max: 4 }) => {}
        other => panic!("{other:?}"),
    }
    match jit.call(
        Entry::Predict,
        &mut empty_buffers(),
        &call(4, &big[..11]),
        &mut out,
    ) {
        Err(BackendError::Interp(InterpError::InputSize {
            got: 11, want: 12, ..
        })) => {}
        other => panic!("{other:?}"),
    }
    match jit.call(
        Entry::TrainStep,
        &mut empty_buffers(),
        &call(4, &big[..12]),
        &mut out,
    ) {
        Err(BackendError::Missing("train_step")) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn short_output_slices_get_a_prefix_and_long_ones_keep_their_tail() {
    let mut jit = JitBackend::new(&doubling_graph(), 4).unwrap();
    let features = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let call = Call {
        n: 2,
        features: &features,
        labels: &[],
        scalars: StepScalars::NO_STEP,
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    let mut short = vec![0.0; 4];
    jit.call(Entry::Predict, &mut empty_buffers(), &call, &mut short)
        .unwrap();
    assert_eq!(short, [2.0, 4.0, 6.0, 8.0]);
    let mut long = vec![-1.0; 8];
    jit.call(Entry::Predict, &mut empty_buffers(), &call, &mut long)
        .unwrap();
    assert_eq!(long, [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, -1.0, -1.0]);
}

#[test]
fn labels_outside_the_classes_are_rejected() {
    let text = std::fs::read_to_string("examples/iris.dl").unwrap();
    let model = dlc::check::check_source(&text).model.unwrap();
    let graphs = Graphs::build(&model).unwrap();
    let mut jit = JitBackend::new(&graphs, 4).unwrap();
    let mut rng = jit_support::Lcg(3);
    let mut buffers = jit_support::random_buffers(&graphs, &mut rng);
    let features = vec![0.5; 8];
    for bad in [3.0, -1.0, 1.5, f32::NAN] {
        let labels = [0.0, bad];
        let call = Call {
            n: 2,
            features: &features,
            labels: &labels,
            scalars: StepScalars::at_rate(0.1),
            seed: 0,
            step: 0,
            shard: dlc::ir::Shard::WHOLE,
        };
        match jit.call(Entry::Backward, &mut buffers, &call, &mut []) {
            Err(BackendError::Interp(InterpError::BadLabel {
                index: 1,
                classes: 3,
                ..
            })) => {}
            other => panic!("label {bad}: {other:?}"),
        }
    }
    // Too short a parameter buffer is refused, not read past.
    let mut short = buffers.clone();
    short.params.pop();
    let labels = [0.0, 2.0];
    let call = Call {
        n: 2,
        features: &features,
        labels: &labels,
        scalars: StepScalars::at_rate(0.1),
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    assert!(matches!(
        jit.call(Entry::TrainStep, &mut short, &call, &mut []),
        Err(BackendError::Interp(InterpError::InputSize {
            what: "parameters",
            ..
        }))
    ));
}

#[test]
fn optimizer_updates_are_written_in_place() {
    for path in [
        "examples/bench/w2_mlp.dl",
        "examples/bench/w3_mlp_bn_dropout.dl",
    ] {
        let text = std::fs::read_to_string(path).unwrap();
        let model = dlc::check::check_source(&text).model.unwrap();
        let graphs = Graphs::build(&model).unwrap();
        let jit = JitBackend::new(&graphs, 16).unwrap();
        let train = jit.compiled().get(Entry::TrainStep).unwrap();
        let text = &train.plan_text;
        // Every parameter and moment is updated by its own loop, no copy back.
        for line in text.lines().filter(|l| l.contains(": copy ")) {
            assert!(
                !line.contains("-> params") && !line.contains("-> states"),
                "{path}: {line}"
            );
        }
        let g = graphs.train_step.as_ref().unwrap();
        let in_place = text.lines().filter(|l| l.contains("-> params+")).count();
        assert_eq!(in_place, g.params.len(), "{path}: {text}");
        // Scratch is reused: far less than the sum of all intermediate values.
        let total: usize = g.nodes.iter().map(|n| n.shape.numel(16)).sum();
        assert!(
            train.plan.scratch_len < total / 2,
            "{path}: {} of {total}",
            train.plan.scratch_len
        );
        // The IR text is kept only when asked for.
        assert!(train.clif_text.is_empty());
    }
}

/// A parameter updated in place while a view of its old value is still read
/// after the update (by the second reader of the view): the planner must not
/// write in place, or that reader would see the new value.
#[test]
fn views_read_after_an_update_keep_the_old_value() {
    use dlc::check::Init;
    let mut g = Graph::default();
    let p = g.add_param(ParamInfo {
        name: "p".into(),
        shape: vec![6],
        init: Init::Const(0.0),
        decay: false,
    });
    let view = g.reshape(p, Shape::fixed(&[1, 6]));
    let view2 = g.reshape(view, Shape::fixed(&[2, 3]));
    let early = g.scale(view2, 3.0);
    let one = g.constant(1.0);
    let updated = g.sub(p, one);
    let late = g.scale(view, 2.0);
    let late = g.reshape(late, Shape::fixed(&[6]));
    g.sinks.push(Sink::Output(early));
    g.sinks.push(Sink::Param(ParamId(0), updated));
    g.sinks.push(Sink::Grad(ParamId(0), late));
    verify(&g).unwrap();
    let graphs = predict_only(g);
    let mut jit = JitBackend::new(&graphs, 1).unwrap();
    let params: Vec<f32> = (0..6).map(|i| i as f32).collect();
    let mut buffers = Buffers {
        params: params.clone(),
        grads: vec![0.0; 6],
        states: vec![],
        class_weights: Vec::new(),
    };
    let call = Call {
        n: 1,
        features: &[],
        labels: &[],
        scalars: StepScalars::NO_STEP,
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    let mut out = vec![0.0; 6];
    jit.call(Entry::Predict, &mut buffers, &call, &mut out)
        .unwrap();
    let times = |k: f32| params.iter().map(|p| p * k).collect::<Vec<f32>>();
    assert_eq!(out, times(3.0));
    assert_eq!(buffers.grads, times(2.0), "the late reader saw the update");
    assert_eq!(
        buffers.params,
        params.iter().map(|p| p - 1.0).collect::<Vec<_>>()
    );
}

#[test]
fn only_training_entries_compile_up_front() {
    let text = std::fs::read_to_string("examples/xor.dl").unwrap();
    let model = dlc::check::check_source(&text).model.unwrap();
    let graphs = Graphs::build(&model).unwrap();
    let jit = JitBackend::new(&graphs, 4).unwrap();
    // Up front: what training and validation call.
    for e in [Entry::TrainStep, Entry::Eval] {
        assert!(jit.compiled().get(e).is_some(), "{e:?}");
    }
    for e in [Entry::Backward, Entry::Update, Entry::Predict] {
        assert!(jit.compiled().get(e).is_none(), "{e:?} compiled too early");
        let compiled = jit.entry(e).unwrap();
        assert_eq!(compiled.entry, e);
        // Asking again returns the same code, compiled once.
        let again = jit.entry(e).unwrap() as *const _;
        assert_eq!(compiled as *const _, again);
    }
    // A model without a training plan compiles prediction up front, and
    // has no gradient step to compile.
    let predict = JitBackend::new(&predict_only(graphs.predict.clone()), 4).unwrap();
    assert!(predict.compiled().get(Entry::Predict).is_some());
    assert!(matches!(
        predict.entry(Entry::Backward),
        Err(BackendError::Missing("backward"))
    ));
}

#[test]
fn profiled_code_charges_time_to_each_kernel() {
    let text = std::fs::read_to_string("examples/xor.dl").unwrap();
    let model = dlc::check::check_source(&text).model.unwrap();
    let graphs = Graphs::build(&model).unwrap();
    let options = dlc::codegen::CompileOptions {
        profile: true,
        ..dlc::codegen::CompileOptions::new(4)
    };
    let mut jit = JitBackend::with_options(&graphs, &options).unwrap();
    let kernels = jit.entry(Entry::Predict).unwrap().plan.kernels.len();
    let mut buffers = Buffers {
        params: vec![0.1; 42],
        grads: vec![0.0; 42],
        states: vec![],
        class_weights: Vec::new(),
    };
    let features = [0.0f32, 1.0, 1.0, 0.0];
    let call = Call {
        n: 2,
        features: &features,
        labels: &[],
        scalars: StepScalars::NO_STEP,
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    let mut out = [0.0f32; 4];
    let _ = dlc::codegen::profile::take();
    for _ in 0..3 {
        jit.call(Entry::Predict, &mut buffers, &call, &mut out)
            .unwrap();
    }
    let times = dlc::codegen::profile::take();
    let predict_id = Entry::ALL
        .iter()
        .position(|e| *e == Entry::Predict)
        .unwrap() as u64;
    let mine: Vec<_> = times.iter().filter(|t| t.entry == predict_id).collect();
    assert_eq!(mine.len(), kernels, "one total per kernel: {times:?}");
    assert!(mine.iter().all(|t| t.calls == 3 && t.seconds >= 0.0));
}
