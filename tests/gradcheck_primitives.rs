//! Every primitive's gradient rule against central finite differences, in
//! f64, on random inputs: relative error under 1e-6.
//!
//! Each case builds `loss = sum(op(inputs) * w)` with fixed random weights
//! `w` (so every output element matters differently), differentiates it,
//! and compares every input element's gradient with
//! `(loss(x + h) - loss(x - h)) / 2h`. Inputs keep clear of kinks (0 for
//! relu/abs, ties for max) by more than `h`, where a derivative is not
//! defined; `gradcheck_kinks` evaluates every rule exactly at them.

use dlc::autodiff::differentiate;
use dlc::check::Init;
use dlc::interp::{Inputs, evaluate};
use dlc::ir::*;

struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// An input of the case: its shape and the range its values are drawn from.
struct In {
    shape: Vec<usize>,
    lo: f64,
    hi: f64,
}

fn input(shape: &[usize], lo: f64, hi: f64) -> In {
    In {
        shape: shape.to_vec(),
        lo,
        hi,
    }
}

/// Builds the case with `build(graph, inputs) -> output` and checks it.
fn check(name: &str, inputs: &[In], build: impl Fn(&mut Graph, &[ValueId]) -> ValueId) {
    let mut g = Graph::default();
    let xs: Vec<ValueId> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            g.add_param(ParamInfo {
                name: format!("x{i}"),
                shape: s.shape.clone(),
                init: Init::Const(0.0),
                decay: false,
            })
        })
        .collect();
    let y = build(&mut g, &xs);
    let out_shape = g.shape(y).dims(1);
    let w = g.add_param(ParamInfo {
        name: "w".into(),
        shape: out_shape.clone(),
        init: Init::Const(0.0),
        decay: false,
    });
    let w = g.reshape(w, g.shape(y).clone());
    let prod = g.mul(y, w);
    let axes: Vec<usize> = (0..out_shape.len()).collect();
    let s = g.sum(prod, &axes);
    let loss = g.reshape(s, Shape::scalar());
    let grads = differentiate(&mut g, loss);
    verify(&g).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut rng = Lcg(name.bytes().fold(7, |h, b| h * 31 + b as u64));
    let mut values: Vec<Vec<f64>> = inputs
        .iter()
        .map(|s| {
            (0..s.shape.iter().product())
                .map(|_| rng.uniform(s.lo, s.hi))
                .collect()
        })
        .collect();
    values.push(
        (0..out_shape.iter().product())
            .map(|_| rng.uniform(-1.0, 1.0))
            .collect(),
    );
    let run = |params: &[Vec<f64>]| {
        let inp = Inputs {
            batch: 1,
            class_weights: &[],
            features: &[],
            labels: &[],
            params,
            states: &[],
            grads: &[],
            scalars: StepScalars::NO_STEP,
            seed: 0,
            step: 0,
            shard: dlc::ir::Shard::WHOLE,
        };
        evaluate(&g, &inp).unwrap()
    };
    let vals = run(&values);
    let h = 1e-5;
    let mut worst = 0.0f64;
    for (p, spec) in inputs.iter().enumerate() {
        let grad = grads[p].unwrap_or_else(|| panic!("{name}: no gradient for input {p}"));
        let analytic = &vals[grad.index()];
        for k in 0..spec.shape.iter().product() {
            let mut plus = values.clone();
            plus[p][k] += h;
            let mut minus = values.clone();
            minus[p][k] -= h;
            let numeric = (run(&plus)[loss.index()][0] - run(&minus)[loss.index()][0]) / (2.0 * h);
            let a = analytic[k];
            let err = (a - numeric).abs() / a.abs().max(numeric.abs()).max(1e-2);
            worst = worst.max(err);
            assert!(
                err < 1e-6,
                "{name}: input {p}[{k}]: analytic {a:.10}, numeric {numeric:.10}, relative error {err:.2e}"
            );
        }
    }
    eprintln!("{name}: worst relative error {worst:.1e}");
}

#[test]
fn unary_ops() {
    let cases: [(UnaryOp, f64, f64); 12] = [
        (UnaryOp::Neg, -2.0, 2.0),
        (UnaryOp::Exp, -2.0, 2.0),
        (UnaryOp::Log, 0.2, 3.0),
        (UnaryOp::Tanh, -2.0, 2.0),
        (UnaryOp::Sigmoid, -3.0, 3.0),
        (UnaryOp::Relu, 0.1, 2.0),
        (UnaryOp::Sqrt, 0.3, 3.0),
        (UnaryOp::Rsqrt, 0.3, 3.0),
        (UnaryOp::Recip, 0.3, 3.0),
        (UnaryOp::Abs, 0.1, 2.0),
        (UnaryOp::Square, -2.0, 2.0),
        (UnaryOp::Erf, -3.0, 3.0),
    ];
    for (op, lo, hi) in cases {
        check(&format!("{op:?}"), &[input(&[3, 4], lo, hi)], |g, x| {
            g.unary(op, x[0])
        });
        if matches!(op, UnaryOp::Relu | UnaryOp::Abs) {
            // The other side of the kink.
            check(
                &format!("{op:?} negative"),
                &[input(&[3, 4], -2.0, -0.1)],
                |g, x| g.unary(op, x[0]),
            );
        }
    }
}

#[test]
fn binary_ops_with_broadcasting() {
    let ops = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div];
    for op in ops {
        for (a, b) in [
            ([3, 4], [3, 4]),
            ([3, 4], [1, 4]),
            ([3, 4], [3, 1]),
            ([1, 4], [3, 1]),
        ] {
            check(
                &format!("{op:?} {a:?} {b:?}"),
                &[input(&a, -2.0, 2.0), input(&b, 0.5, 2.0)],
                |g, x| g.binary(op, x[0], x[1]),
            );
        }
    }
    // max/min: the two operands drawn from ranges that never tie.
    for op in [BinaryOp::Max, BinaryOp::Min] {
        check(
            &format!("{op:?} a wins"),
            &[input(&[2, 3], 1.0, 2.0), input(&[2, 3], -2.0, 0.0)],
            |g, x| g.binary(op, x[0], x[1]),
        );
        check(
            &format!("{op:?} b wins"),
            &[input(&[2, 3], -2.0, 0.0), input(&[1, 3], 1.0, 2.0)],
            |g, x| g.binary(op, x[0], x[1]),
        );
    }
}

#[test]
fn select_routes_gradients_by_condition() {
    check(
        "select",
        &[input(&[3, 4], -1.0, 1.0), input(&[3, 4], -1.0, 1.0)],
        |g, x| {
            // `x0 > 0` picks a mixed pattern; comparisons have no gradient.
            let zero = g.constant(0.0);
            let mask = g.binary(BinaryOp::Gt, x[0], zero);
            g.select(mask, x[0], x[1])
        },
    );
}

#[test]
fn structural_ops() {
    check("reshape", &[input(&[2, 6], -1.0, 1.0)], |g, x| {
        g.reshape(x[0], Shape::fixed(&[3, 4]))
    });
    check("expand", &[input(&[1, 4], -1.0, 1.0)], |g, x| {
        g.expand(x[0], Shape::fixed(&[3, 4]))
    });
    for axes in [vec![0], vec![1], vec![0, 1], vec![0, 2]] {
        check(
            &format!("sum {axes:?}"),
            &[input(&[2, 3, 4], -1.0, 1.0)],
            |g, x| g.sum(x[0], &axes),
        );
    }
    check(
        "concat",
        &[input(&[2, 3], -1.0, 1.0), input(&[2, 2], -1.0, 1.0)],
        |g, x| g.concat(&[x[0], x[1]], 1),
    );
    check("slice", &[input(&[2, 6], -1.0, 1.0)], |g, x| {
        g.slice(x[0], 1, 2, 3)
    });
}

#[test]
fn max_reduction_sends_gradient_to_the_maximum() {
    // Distinct values spaced far apart: no ties within h.
    check("max axis 1", &[input(&[3, 5], -1.0, 1.0)], |g, x| {
        g.max(x[0], &[1])
    });
}

#[test]
fn detach_stops_gradients() {
    let mut g = Graph::default();
    let x = g.add_param(ParamInfo {
        name: "x".into(),
        shape: vec![3],
        init: Init::Const(0.0),
        decay: false,
    });
    let d = g.detach(x);
    let y = g.mul(d, x);
    let s = g.sum(y, &[0]);
    let loss = g.reshape(s, Shape::scalar());
    let grads = differentiate(&mut g, loss);
    let inp = Inputs {
        batch: 1,
        class_weights: &[],
        features: &[],
        labels: &[],
        params: &[vec![1.0f64, 2.0, -3.0]],
        states: &[],
        grads: &[],
        scalars: StepScalars::NO_STEP,
        seed: 0,
        step: 0,
        shard: dlc::ir::Shard::WHOLE,
    };
    let vals = evaluate(&g, &inp).unwrap();
    // d/dx (stop(x) * x) = stop(x): the detached factor contributes nothing.
    assert_eq!(vals[grads[0].unwrap().index()], vec![1.0, 2.0, -3.0]);
}

#[test]
fn matmul_with_every_transpose() {
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        let a = if ta { [4, 3] } else { [3, 4] };
        let b = if tb { [5, 4] } else { [4, 5] };
        check(
            &format!("matmul ta={ta} tb={tb}"),
            &[input(&a, -1.0, 1.0), input(&b, -1.0, 1.0)],
            |g, x| g.matmul(x[0], x[1], ta, tb),
        );
    }
}

#[test]
fn conv2d_input_and_weights() {
    for (stride, pad) in [
        ([1, 1], [0, 0]),
        ([1, 1], [1, 1]),
        ([2, 2], [1, 1]),
        ([2, 1], [0, 1]),
    ] {
        check(
            &format!("conv2d stride {stride:?} pad {pad:?}"),
            &[
                input(&[2, 2, 5, 5], -1.0, 1.0),
                input(&[3, 2, 3, 3], -1.0, 1.0),
            ],
            |g, x| g.conv2d(x[0], x[1], stride, pad),
        );
    }
}

#[test]
fn pooling() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        for (window, stride, pad) in [
            ([2, 2], [2, 2], [0, 0]),
            ([3, 3], [2, 2], [1, 1]),
            ([2, 2], [1, 1], [0, 0]),
        ] {
            check(
                &format!("{kind:?}pool {window:?} {stride:?} {pad:?}"),
                &[input(&[2, 2, 5, 5], -1.0, 1.0)],
                |g, x| g.pool2d(kind, x[0], window, stride, pad),
            );
        }
    }
}
