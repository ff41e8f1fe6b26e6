//! Per-kernel tests on hand-made graphs: each kernel kind compiled alone and
//! compared with the interpreter (exactly where the operation is exact in
//! f32, else within the tolerance of `jit_support`), on special values, every
//! broadcasting pattern and reduction axis set, awkward matrix sizes on both
//! GEMM paths, convolutions and pooling with stride and padding, with
//! kernels and windows small enough to unroll and too large to.

mod jit_support;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::check::Init;
use dlc::codegen::{CompileOptions, GemmPolicy};
use dlc::ir::*;
use dlc::runtime::backend::{Backend, Buffers, Call, Interpreter};
use dlc::runtime::jit::JitBackend;
use jit_support::{Lcg, close};

/// Special values every elementwise op is run on.
const SPECIAL: [f32; 19] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.5,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    1e-30,
    -1e-30,
    1e-40,
    f32::MIN_POSITIVE,
    100.0,
    -100.0,
    88.0,
    -88.0,
    f32::MAX,
    3.0,
];

fn param(g: &mut Graph, name: &str, shape: &[usize]) -> ValueId {
    g.add_param(ParamInfo {
        name: name.into(),
        shape: shape.to_vec(),
        init: Init::Const(0.0),
        decay: false,
    })
}

/// A test case: a graph whose `Output` sink is compared.
struct Case {
    g: Graph,
    features: Vec<f32>,
    labels: Vec<f32>,
    n: usize,
    max_batch: usize,
    policy: GemmPolicy,
    rng: Lcg,
}

impl Case {
    fn new(input: &[usize], n: usize) -> (Case, ValueId) {
        let mut g = Graph::default();
        let x = g.input(InputKind::Features, Shape::batched(input));
        let mut rng = Lcg(n as u64 * 31 + input.iter().sum::<usize>() as u64);
        let features = (0..n * input.iter().product::<usize>())
            .map(|_| rng.sym() * 2.0)
            .collect();
        let case = Case {
            g,
            features,
            labels: vec![],
            n,
            max_batch: n + 2,
            policy: GemmPolicy::Measured,
            rng,
        };
        (case, x)
    }

    /// (jit, interpreter) outputs for `out`.
    fn run(mut self, out: ValueId) -> (Vec<f32>, Vec<f32>) {
        self.g.sinks.push(Sink::Output(out));
        verify(&self.g).unwrap();
        let out_len = self.g.shape(out).numel(self.n);
        let params_len: usize = self.g.params.iter().map(|p| p.len()).sum();
        let params: Vec<f32> = (0..params_len).map(|_| self.rng.sym()).collect();
        let graphs = Graphs {
            train_step: None,
            backward: None,
            update: None,
            eval: None,
            predict: self.g,
        };
        let options = CompileOptions {
            gemm: self.policy,
            ..CompileOptions::new(self.max_batch)
        };
        let mut jit = JitBackend::with_options(&graphs, &options).unwrap();
        let mut interp = Interpreter::new(graphs);
        let call = Call {
            n: self.n,
            features: &self.features,
            labels: &self.labels,
            scalars: StepScalars::NO_STEP,
            seed: 3,
            step: 9,
            shard: dlc::ir::Shard::WHOLE,
        };
        let buffers = Buffers {
            params: params.clone(),
            grads: vec![0.0; params.len()],
            states: vec![],
            class_weights: Vec::new(),
        };
        let mut results = Vec::new();
        for backend in [&mut jit as &mut dyn Backend, &mut interp] {
            let mut b = buffers.clone();
            let mut o = vec![0.0; out_len];
            backend.call(Entry::Predict, &mut b, &call, &mut o).unwrap();
            results.push(o);
        }
        let interp = results.pop().unwrap();
        (results.pop().unwrap(), interp)
    }
}

fn same_bits(jit: &[f32], interp: &[f32], what: &str) {
    assert_eq!(jit.len(), interp.len());
    for (i, (a, b)) in jit.iter().zip(interp).enumerate() {
        assert!(
            a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan(),
            "{what}: element {i}: jit {a:e}, interpreter {b:e}"
        );
    }
}

#[test]
fn unary_ops_on_special_values() {
    use UnaryOp::*;
    for op in [
        Neg, Exp, Log, Tanh, Sigmoid, Relu, Step, Sqrt, Rsqrt, Recip, Abs, Sign, Square, Erf,
    ] {
        // n * 19 elements: whole vectors and a scalar tail.
        let (mut case, x) = Case::new(&[SPECIAL.len()], 3);
        case.features = SPECIAL
            .iter()
            .chain(&SPECIAL)
            .chain(&SPECIAL)
            .copied()
            .collect();
        let y = case.g.unary(op, x);
        let (jit, interp) = case.run(y);
        if matches!(op, Exp | Log | Tanh | Sigmoid | Erf) {
            close(&jit, &interp).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        } else {
            same_bits(&jit, &interp, &format!("{op:?}"));
        }
    }
}

#[test]
fn binary_ops_and_select_with_every_broadcast_pattern() {
    use BinaryOp::*;
    // b's shapes, each broadcast against a of shape [N, 5, 6].
    let patterns: [&[usize]; 5] = [&[1, 5, 1], &[1, 1, 6], &[1, 1, 1], &[], &[1, 5, 6]];
    for op in [Add, Sub, Mul, Div, Max, Min, Gt, Eq] {
        for shape in patterns {
            let (mut case, x) = Case::new(&[5, 6], 3);
            // Special values (ties with b's included) on both sides.
            for (i, f) in case.features.iter_mut().enumerate() {
                if i % 3 == 0 {
                    *f = SPECIAL[i % SPECIAL.len()];
                }
            }
            let b = param(&mut case.g, "b", shape);
            let y = case.g.binary(op, x, b);
            // ...and the batched operand on the right, broadcast along the batch.
            let s = case.g.sum(x, &[0]);
            let z = case.g.binary(op, s, x);
            let yz = case.g.add(y, z);
            let (jit, interp) = case.run(yz);
            same_bits(&jit, &interp, &format!("{op:?} with b {shape:?}"));
        }
    }
    let (mut case, x) = Case::new(&[7], 4);
    case.features[..SPECIAL.len()].copy_from_slice(&SPECIAL);
    let a = param(&mut case.g, "a", &[1, 7]);
    let c = case.g.unary(UnaryOp::Sign, x);
    let y = case.g.select(x, a, c);
    let (jit, interp) = case.run(y);
    same_bits(&jit, &interp, "select");
}

#[test]
fn reductions_over_every_axis_set() {
    for max in [false, true] {
        for mask in 1u32..16 {
            let axes: Vec<usize> = (0..4).filter(|a| mask & (1 << a) != 0).collect();
            let (mut case, x) = Case::new(&[3, 4, 9], 5);
            let sq = case.g.unary(UnaryOp::Square, x);
            let fused = case.g.sub(sq, x);
            let y = if max {
                case.g.max(fused, &axes)
            } else {
                case.g.sum(fused, &axes)
            };
            let (jit, interp) = case.run(y);
            if max {
                same_bits(&jit, &interp, &format!("max over {axes:?}"));
            } else {
                close(&jit, &interp).unwrap_or_else(|e| panic!("sum over {axes:?}: {e}"));
            }
        }
    }
}

#[test]
fn one_hot_rows_match_the_labels() {
    let mut g = Graph::default();
    let labels = g.input(InputKind::Labels, Shape(vec![Dim::N]));
    let y = g.one_hot(labels, 7);
    let mut case = Case {
        g,
        features: vec![],
        labels: vec![0.0, 6.0, 3.0, 3.0, 1.0],
        n: 5,
        max_batch: 5,
        policy: GemmPolicy::Measured,
        rng: Lcg(1),
    };
    case.g.sinks.clear();
    let (jit, interp) = case.run(y);
    same_bits(&jit, &interp, "one-hot");
    assert_eq!(jit.iter().sum::<f32>(), 5.0);
}

/// `out = op(a) op(b)` with a batched operand (runtime rows or inner size).
fn matmul_case(
    m_or_k_batched: bool,
    k: usize,
    cols: usize,
    tb: bool,
    policy: GemmPolicy,
    n: usize,
) {
    let (mut case, x) = Case::new(&[k], n);
    case.policy = policy;
    let y = if m_or_k_batched {
        // [N, k] x op(W): N rows at run time.
        let shape = if tb { [cols, k] } else { [k, cols] };
        let w = param(&mut case.g, "w", &shape);
        case.g.matmul(x, w, false, tb)
    } else {
        // x^T [k, N] x z [N, cols]: the batch is the inner size.
        let w = param(&mut case.g, "w", &[k, cols]);
        let z = case.g.matmul(x, w, false, false);
        let z = case.g.unary(UnaryOp::Tanh, z);
        case.g.matmul(x, z, true, false)
    };
    let (jit, interp) = case.run(y);
    close(&jit, &interp).unwrap_or_else(|e| {
        panic!("matmul k {k} cols {cols} tb {tb} batched-m {m_or_k_batched} {policy:?} n {n}: {e}")
    });
}

#[test]
fn matrix_products_on_awkward_sizes_on_both_paths() {
    for policy in [
        GemmPolicy::Inline,
        GemmPolicy::External,
        GemmPolicy::Measured,
    ] {
        for (k, cols) in [(1, 1), (3, 5), (17, 8), (33, 13), (300, 40), (9, 257)] {
            for n in [1, 4, 7, 10] {
                for tb in [false, true] {
                    matmul_case(true, k, cols, tb, policy, n);
                }
                matmul_case(false, k, cols, false, policy, n);
            }
        }
    }
}

#[test]
fn fixed_size_products_with_every_transpose() {
    for policy in [GemmPolicy::Inline, GemmPolicy::External] {
        for (m, k, n) in [(1, 1, 1), (5, 7, 3), (13, 300, 9), (40, 33, 17)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    let (mut case, _) = Case::new(&[1], 1);
                    case.policy = policy;
                    let sa = if ta { [k, m] } else { [m, k] };
                    let a = param(&mut case.g, "a", &sa);
                    let sb = if tb { [n, k] } else { [k, n] };
                    let b = param(&mut case.g, "b", &sb);
                    let y = case.g.matmul(a, b, ta, tb);
                    let (jit, interp) = case.run(y);
                    close(&jit, &interp)
                        .unwrap_or_else(|e| panic!("{m}x{k}x{n} ta {ta} tb {tb} {policy:?}: {e}"));
                }
            }
        }
    }
}

/// A convolution's sizes: (C, H, W, F, kh, kw, stride, pad).
type ConvSizes = (
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    [usize; 2],
    [usize; 2],
);

/// The convolution of `sizes`, its input gradient and its weight gradient
/// on the JIT (with `policy`) and the interpreter, compared.
fn check_conv(policy: GemmPolicy, (c, h, w, f, kh, kw, stride, pad): ConvSizes) {
    let (mut case, x) = Case::new(&[c, h, w], 3);
    case.policy = policy;
    let wt = param(&mut case.g, "w", &[f, c, kh, kw]);
    let y = case.g.conv2d(x, wt, stride, pad);
    let dy = case.g.unary(UnaryOp::Tanh, y);
    let dx = case.g.push(
        Op::Conv2dInputGrad {
            dy,
            w: wt,
            stride,
            pad,
        },
        case.g.shape(x).clone(),
    );
    let dw = case.g.push(
        Op::Conv2dWeightGrad { x, dy, stride, pad },
        case.g.shape(wt).clone(),
    );
    // One output holding all three: y, dx and dw, flattened per sample.
    let dw_sum = case.g.sum(dw, &[0, 1, 2, 3]);
    let dw_b = case.g.reshape(dw_sum, Shape::fixed(&[1, 1, 1, 1]));
    let dx_b = case.g.add(dx, dw_b);
    let flat_y = case.g.reshape(y, Shape::batched(&[y_len(&case.g, y)]));
    let flat_dx = case.g.reshape(dx_b, Shape::batched(&[c * h * w]));
    let both = case.g.concat(&[flat_y, flat_dx], 1);
    let (jit, interp) = case.run(both);
    close(&jit, &interp).unwrap_or_else(|e| {
        panic!("conv C{c} {h}x{w} F{f} k{kh}x{kw} s{stride:?} p{pad:?} {policy:?}: {e}")
    });
}

#[test]
fn convolutions_and_their_gradients_with_stride_and_padding() {
    let cases = [
        (1, 6, 6, 2, 3, 3, [1, 1], [1, 1]),
        (3, 7, 5, 4, 3, 2, [2, 1], [1, 0]),
        (2, 8, 8, 3, 1, 1, [1, 1], [0, 0]),
        (2, 9, 7, 5, 5, 3, [2, 3], [2, 1]),
        (4, 5, 5, 2, 2, 2, [2, 2], [0, 0]),
    ];
    for policy in [GemmPolicy::Inline, GemmPolicy::External] {
        for sizes in cases {
            check_conv(policy, sizes);
        }
    }
}

/// Kernels wider than the 16 columns im2col unrolls, so that its loop over
/// the kernel's columns runs (their ranges inside the image computed at run
/// time, some of them empty): forward, input and weight gradients, with
/// stride and padding, on both GEMM paths.
#[test]
fn convolutions_with_kernels_too_wide_to_unroll() {
    let cases = [
        (2, 5, 20, 3, 3, 17, [1, 1], [1, 2]),
        (1, 4, 21, 2, 2, 18, [2, 3], [0, 4]),
        (3, 3, 17, 2, 3, 17, [1, 1], [0, 0]),
        (1, 3, 2, 2, 1, 17, [1, 1], [1, 8]),
        (2, 6, 9, 2, 3, 20, [1, 2], [1, 7]),
    ];
    for policy in [GemmPolicy::Inline, GemmPolicy::External] {
        for sizes in cases {
            check_conv(policy, sizes);
        }
    }
}

fn y_len(g: &Graph, y: ValueId) -> usize {
    g.shape(y).numel(1)
}

/// A pooling's sizes: (H, W, window, stride, pad).
type PoolSizes = (usize, usize, [usize; 2], [usize; 2], [usize; 2]);

/// The pooling of `sizes` of three channels and its gradient for the
/// output gradient `grad(y)`, on (JIT, interpreter). With `ties`, the
/// features take few distinct values: many ties, negative windows next to
/// the padding.
fn run_pool(
    kind: PoolKind,
    (h, w, window, stride, pad): PoolSizes,
    ties: bool,
    grad: fn(&mut Graph, ValueId) -> ValueId,
) -> (Vec<f32>, Vec<f32>) {
    let (mut case, x) = Case::new(&[3, h, w], 2);
    if ties {
        for (i, f) in case.features.iter_mut().enumerate() {
            *f = ((i * 7 % 5) as f32 - 3.0) * 0.5;
        }
    }
    let y = case.g.pool2d(kind, x, window, stride, pad);
    let dy = grad(&mut case.g, y);
    let dx = case.g.push(
        Op::Pool2dGrad {
            kind,
            x,
            dy,
            window,
            stride,
            pad,
        },
        case.g.shape(x).clone(),
    );
    let fy = case.g.reshape(y, Shape::batched(&[y_len(&case.g, y)]));
    let fdx = case.g.reshape(dx, Shape::batched(&[3 * h * w]));
    let both = case.g.concat(&[fy, fdx], 1);
    case.run(both)
}

#[test]
fn pooling_and_gradients_with_ties_stride_and_padding() {
    let cases = [
        (6, 6, [2, 2], [2, 2], [0, 0]),
        // 2x2 at stride 2 on odd sizes (an uncovered last row and column)
        // and on rows of more than one 16-output vector.
        (7, 5, [2, 2], [2, 2], [0, 0]),
        (5, 66, [2, 2], [2, 2], [0, 0]),
        (7, 5, [3, 3], [2, 1], [1, 1]),
        (5, 8, [3, 2], [1, 2], [1, 0]),
        (4, 4, [4, 4], [1, 1], [2, 2]),
    ];
    for kind in [PoolKind::Max, PoolKind::Avg] {
        for sizes in cases {
            let (jit, interp) = run_pool(kind, sizes, true, |g, y| g.unary(UnaryOp::Sigmoid, y));
            close(&jit, &interp).unwrap_or_else(|e| panic!("{kind:?} {sizes:?}: {e}"));
        }
    }
}

/// Windows past the 16 positions the pooling kernels unroll, so that their
/// loops run: with stride, padding (windows partly and wholly inside it), a
/// global window and a tall thin one, on tied and on random values. Pooling
/// and its gradient compare, add and divide in window order, as the
/// interpreter does: the results are the interpreter's bit for bit (the
/// output gradient is `y * y`, exact on both).
#[test]
fn pooling_over_windows_too_large_to_unroll() {
    let cases = [
        (7, 9, [5, 4], [2, 3], [2, 1]),
        (6, 6, [3, 6], [1, 1], [1, 3]),
        (8, 8, [8, 8], [1, 1], [0, 0]),
        (5, 5, [5, 5], [2, 2], [5, 5]),
        (9, 7, [17, 1], [1, 1], [4, 0]),
    ];
    for kind in [PoolKind::Max, PoolKind::Avg] {
        for sizes in cases {
            for ties in [true, false] {
                let (jit, interp) = run_pool(kind, sizes, ties, |g, y| g.mul(y, y));
                same_bits(&jit, &interp, &format!("{kind:?} {sizes:?} ties {ties}"));
            }
        }
    }
}

#[test]
fn concat_and_slice_move_the_right_elements() {
    let (mut case, x) = Case::new(&[3, 5], 4);
    let a = case.g.slice(x, 1, 1, 2);
    let b = case.g.slice(x, 2, 2, 3);
    let c = case.g.concat(&[x, a], 1);
    let b2 = case.g.concat(&[b, b, x], 2);
    let fc = case.g.reshape(c, Shape::batched(&[25]));
    let fb = case.g.reshape(b2, Shape::batched(&[33]));
    let y = case.g.concat(&[fc, fb], 1);
    let (jit, interp) = case.run(y);
    same_bits(&jit, &interp, "concat/slice");
}
