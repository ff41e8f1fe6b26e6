//! The kink and tie cases of `gradcheck_kinks` on both back ends: the JIT's
//! losses, outputs, gradients and updates equal the interpreter's there too
//! (within the tolerance of `jit_support`), where a tie broken the other way
//! or a sign of 0 read as 1 would be off by a whole gradient. Also the
//! optimizer step's own kinks: `l1`'s sign at a weight of exactly 0, and
//! `clip` at exactly its limit.

mod jit_support;
mod kink_support;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::codegen::plan::Layout;
use dlc::ir::*;
use dlc::runtime::backend::{Backend, Buffers, Call, Interpreter};
use dlc::runtime::init::init_states;
use dlc::runtime::jit::JitBackend;
use jit_support::{Batch, Outcome, close, compare_entry};
use kink_support::*;

fn narrow(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Runs `entries` of `graphs` on both back ends from `buffers`.
fn compare(name: &str, graphs: &Graphs, buffers: &Buffers, batch: &Batch, out_len: usize) {
    let mut jit = JitBackend::new(graphs, batch.n.max(1)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut interp = Interpreter::new(graphs.clone());
    let mut ran = 0;
    for entry in Entry::ALL {
        if graphs.get(entry).is_none() {
            continue;
        }
        match compare_entry(
            graphs,
            &mut interp,
            &mut jit,
            entry,
            buffers,
            batch,
            out_len,
        ) {
            Ok(Outcome::Agree) => ran += 1,
            Ok(Outcome::IllConditioned(e)) | Err(e) => panic!("{name}, {}: {e}", entry.name()),
        }
    }
    assert!(ran >= 2, "{name}: {ran} entry points ran");
}

fn batch_of(case: &Case) -> Batch {
    Batch {
        n: case.batch,
        features: narrow(&case.features),
        labels: narrow(&case.labels),
        scalars: StepScalars::at_rate(0.1),
        seed: SEED,
        step: STEP,
    }
}

#[test]
fn programs_at_their_kinks_match_on_both_back_ends() {
    for case in program_cases() {
        let model = case.model.as_ref().unwrap();
        let graphs = Graphs::build(model).unwrap();
        let layout_graph = graphs.layout_graph();
        let layout = Layout::of(layout_graph);
        let mut params = vec![0.0f32; layout.params_len];
        for (p, info) in layout_graph.params.iter().enumerate() {
            let values = narrow(&case.params[case.param(&info.name)]);
            params[layout.params[p]..][..values.len()].copy_from_slice(&values);
        }
        let buffers = Buffers {
            params,
            grads: vec![0.0; layout.params_len],
            states: init_states(layout_graph).unwrap(),
            class_weights: Vec::new(),
        };
        let width: usize = model.network.output_shape().iter().product();
        compare(
            &case.name,
            &graphs,
            &buffers,
            &batch_of(&case),
            case.batch * width,
        );
    }
}

/// A primitive case's graph as the forward-and-gradient entry (and as
/// `predict`, which computes the same and defines the layout).
fn primitive_graphs(case: &Case) -> (Graphs, Buffers) {
    let graphs = Graphs {
        train_step: None,
        backward: Some(case.graph.clone()),
        update: None,
        eval: None,
        predict: case.graph.clone(),
    };
    let params: Vec<f32> = case.params.iter().flat_map(|p| narrow(p)).collect();
    let buffers = Buffers {
        grads: vec![0.0; params.len()],
        params,
        states: vec![],
        class_weights: Vec::new(),
    };
    (graphs, buffers)
}

#[test]
fn primitives_at_their_kinks_match_on_both_back_ends() {
    for case in primitive_cases() {
        let (graphs, buffers) = primitive_graphs(&case);
        let out_len = case.graph.shape(case.output).numel(1);
        compare(&case.name, &graphs, &buffers, &batch_of(&case), out_len);
    }
}

#[test]
fn dropout_keeps_a_value_drawn_exactly_at_the_rate() {
    // A rate equal to element 3's draw: kept (the draw is not below the
    // rate), on both back ends; one f32 step higher, dropped.
    let salt = 4;
    let draw = dlc::ir::dropout::uniform(dlc::ir::dropout::key(SEED, STEP, salt), 3);
    for (rate, kept) in [(draw, true), (draw.next_up(), false)] {
        let case = Case::primitive("dropout at its rate", &[(&[8], vec![1.0; 8])], |g, x| {
            let mask = g.push(Op::DropoutMask { rate, salt }, g.shape(x[0]).clone());
            g.mul(x[0], mask)
        });
        let want = if kept { 1.0 / (1.0 - rate) } else { 0.0 };
        let (graphs, buffers) = primitive_graphs(&case);
        let mut jit = JitBackend::new(&graphs, 1).unwrap();
        let mut interp = Interpreter::new(graphs.clone());
        for backend in [&mut jit as &mut dyn Backend, &mut interp] {
            let mut b = buffers.clone();
            let mut out = vec![0.0f32; 8];
            let call = Call {
                n: 1,
                features: &[],
                labels: &[],
                scalars: StepScalars::at_rate(1.0),
                seed: SEED,
                step: STEP,
                shard: dlc::ir::Shard::WHOLE,
            };
            backend
                .call(Entry::Backward, &mut b, &call, &mut out)
                .unwrap();
            assert_eq!(out[3], want, "rate {rate}: output {out:?}");
            // d/dx of sum(x * mask * w) is mask * w, w[3] = 1.75.
            assert_eq!(
                b.grads[3],
                want * 1.75,
                "rate {rate}: gradient {:?}",
                b.grads
            );
        }
    }
}

/// `dense 4 -> dense 1` with `l1 0.25` and `clip` at `limit`, SGD at lr 0.5.
fn clipped_program(limit: f32) -> Graphs {
    // `{}` of the f64 prints every digit the f32 needs to read back exactly.
    let source = format!(
        "data d = sine()\nnetwork net(x: [1]) -> 1 {{ dense 4; dense 1 }}\n\
         train net on d {{ loss mse; optimizer sgd(0.5); batch 4; epochs 1; l1 0.25; clip {} }}\n",
        limit as f64
    );
    let model = dlc::check::check_source(&source).model.unwrap();
    Graphs::build(&model).unwrap()
}

#[test]
fn l1_at_zero_weights_and_clip_at_its_limit() {
    // Gradients: dense1.bias [0.6, 0.8, 0, 0] times `scale`, all else 0.
    // Their norm in f32 as the update computes it, plus clip's 1e-6:
    let (g0, g1) = (0.6f32, 0.8f32);
    let norm = (g0 * g0 + g1 * g1).sqrt();
    let at_limit = norm + 1e-6;
    for scale in [1.0f32, 2.0] {
        let graphs = clipped_program(at_limit);
        let layout_graph = graphs.layout_graph();
        let layout = Layout::of(layout_graph);
        let names: Vec<&str> = layout_graph
            .params
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "dense1.weight",
                "dense1.bias",
                "dense2.weight",
                "dense2.bias"
            ]
        );
        // Weights at 0, -0 and +-0.5: l1 moves only the nonzero ones.
        let mut params = vec![0.0f32; layout.params_len];
        params[..4].copy_from_slice(&[0.0, -0.0, 0.5, -0.5]);
        let mut grads = vec![0.0f32; layout.params_len];
        grads[4] = g0 * scale;
        grads[5] = g1 * scale;
        let buffers = Buffers {
            params: params.clone(),
            grads: grads.clone(),
            states: init_states(layout_graph).unwrap(),
            class_weights: Vec::new(),
        };
        // By hand, in f64: at the limit the factor is 1 (either side of
        // the min), at twice the norm the limit over the norm.
        let norm64 = (scale as f64) * ((g0 as f64).powi(2) + (g1 as f64).powi(2)).sqrt();
        let factor = (at_limit as f64 / (norm64 + 1e-6)).min(1.0);
        let sign = |w: f32| {
            if w > 0.0 {
                1.0
            } else if w < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        let want: Vec<f32> = params
            .iter()
            .zip(&grads)
            .enumerate()
            .map(|(i, (&w, &g))| {
                let decay = i < 4 || (8..12).contains(&i);
                let l1 = if decay { 0.25 * sign(w) } else { 0.0 };
                (w as f64 - 0.5 * (g as f64 * factor + l1)) as f32
            })
            .collect();
        let batch = Batch {
            n: 4,
            features: vec![0.5; 4],
            labels: vec![0.25; 4],
            scalars: StepScalars::at_rate(0.5),
            seed: SEED,
            step: STEP,
        };
        compare(
            &format!("clip, scale {scale}"),
            &graphs,
            &buffers,
            &batch,
            4,
        );
        let mut interp = Interpreter::new(graphs.clone());
        let mut b = buffers.clone();
        let call = Call {
            n: 4,
            features: &batch.features,
            labels: &batch.labels,
            scalars: batch.scalars,
            seed: SEED,
            step: STEP,
            shard: dlc::ir::Shard::WHOLE,
        };
        interp.call(Entry::Update, &mut b, &call, &mut []).unwrap();
        close(&b.params, &want).unwrap_or_else(|e| panic!("scale {scale}: {e}"));
        // Weights at +-0 stay where they are.
        assert_eq!(b.params[..2], [0.0, 0.0]);
        if scale == 1.0 {
            assert_eq!(
                b.params[4..6],
                [-0.5 * g0, -0.5 * g1],
                "clipped at the limit"
            );
        }
    }
}
