//! The reference interpreter: evaluates a graph directly, in f64 or f32.
//!
//! It is the oracle of the tests: gradients are checked against finite
//! differences through it, and the JIT's results against it. It is written to
//! be obviously right, not fast: every op is a plain loop over indices.

mod kernels;
mod real;

pub use real::{Real, erf};

use crate::ir::*;

/// Everything an evaluation reads besides the graph.
pub struct Inputs<'a, T> {
    /// The batch size `N`.
    pub batch: usize,
    pub features: &'a [T],
    /// Class indices (as numbers) or, for regression, targets.
    pub labels: &'a [T],
    /// The loss's weight of each class (empty when the loss has none).
    pub class_weights: &'a [T],
    pub params: &'a [Vec<T>],
    pub states: &'a [Vec<T>],
    /// Gradients, for update graphs that read the gradient buffer.
    pub grads: &'a [Vec<T>],
    /// The per-call scalars besides the batch size (which is `batch`).
    pub scalars: StepScalars,
    /// Dropout's random stream: the run's seed and the step number.
    pub seed: u64,
    pub step: u64,
    /// The call's place in its step's batch (batch means divide by the
    /// whole batch; dropout masks are keyed by a sample's place in it).
    pub shard: Shard,
}

#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    #[error("input {what} holds {got} values, the graph needs {want}")]
    InputSize {
        what: &'static str,
        got: usize,
        want: usize,
    },
    #[error("label {value} at sample {index} is not a class in 0..{classes}")]
    BadLabel {
        value: f64,
        index: usize,
        classes: usize,
    },
}

/// The value of every node, in node order.
pub fn evaluate<T: Real>(g: &Graph, inp: &Inputs<T>) -> Result<Vec<Vec<T>>, InterpError> {
    evaluate_prefix(g, inp, g.nodes.len())
}

/// The values of the first `count` nodes only (e.g. the forward pass up to
/// the loss, for finite differences).
pub fn evaluate_prefix<T: Real>(
    g: &Graph,
    inp: &Inputs<T>,
    count: usize,
) -> Result<Vec<Vec<T>>, InterpError> {
    let n = inp.batch;
    let mut vals: Vec<Vec<T>> = Vec::with_capacity(count);
    for node in &g.nodes[..count.min(g.nodes.len())] {
        let shape = node.shape.dims(n);
        let len: usize = shape.iter().product();
        let v = |id: &ValueId| &vals[id.index()];
        let dims = |id: &ValueId| g.shape(*id).dims(n);
        let out: Vec<T> = match &node.op {
            Op::Input(kind) => {
                let (src, what) = match kind {
                    InputKind::Features => (inp.features, "features"),
                    InputKind::Labels | InputKind::Targets => (inp.labels, "labels"),
                    InputKind::ClassWeights => (inp.class_weights, "class weights"),
                };
                if src.len() != len {
                    return Err(InterpError::InputSize {
                        what,
                        got: src.len(),
                        want: len,
                    });
                }
                src.to_vec()
            }
            Op::Param(p) => inp.params[p.index()].clone(),
            Op::State(s) => inp.states[s.index()].clone(),
            Op::GradIn(p) => inp.grads[p.index()].clone(),
            Op::Scalar(k) => vec![T::from_f64(scalar(*k, inp))],
            Op::Fill(x) => vec![T::from_f64(*x as f64); len],
            Op::Unary(op, x) => v(x).iter().map(|&a| unary(*op, a)).collect(),
            Op::Binary(op, a, b) => {
                kernels::broadcast2(v(a), &dims(a), v(b), &dims(b), &shape, |x, y| {
                    binary(*op, x, y)
                })
            }
            Op::Select(c, a, b) => {
                let ab = kernels::broadcast2(v(a), &dims(a), v(b), &dims(b), &shape, |x, y| (x, y));
                let cond = kernels::expand(v(c), &dims(c), &shape);
                cond.iter()
                    .zip(ab)
                    .map(|(&c, (x, y))| if c != T::zero() { x } else { y })
                    .collect()
            }
            Op::Reshape(x) | Op::Detach(x) => v(x).clone(),
            // Alone, the value itself (in f64 too, for gradient checks);
            // split, summed as the compiled code sums: in f32.
            Op::CrossSum(x) if !crate::distributed::active::is_set() => v(x).clone(),
            Op::CrossSum(x) => {
                let mut sum: Vec<f32> = v(x).iter().map(|a| a.to_f64() as f32).collect();
                crate::distributed::active::cross_sum(&mut sum);
                sum.into_iter().map(|a| T::from_f64(a as f64)).collect()
            }
            Op::Expand(x) => kernels::expand(v(x), &dims(x), &shape),
            Op::Sum(x, axes) => kernels::reduce(v(x), &dims(x), axes, T::zero(), |a, b| a + b),
            Op::Max(x, axes) => kernels::reduce(
                v(x),
                &dims(x),
                axes,
                T::from_f64(f64::NEG_INFINITY),
                |a, b| if b > a { b } else { a },
            ),
            Op::MatMul { a, b, ta, tb } => {
                kernels::matmul(v(a), &dims(a), *ta, v(b), &dims(b), *tb)
            }
            Op::Conv2d { x, w, stride, pad } => {
                kernels::conv2d(v(x), &dims(x), v(w), &dims(w), *stride, *pad)
            }
            Op::Conv2dInputGrad { dy, w, stride, pad } => {
                kernels::conv2d_input_grad(v(dy), &dims(dy), v(w), &dims(w), &shape, *stride, *pad)
            }
            Op::Conv2dWeightGrad { x, dy, stride, pad } => {
                kernels::conv2d_weight_grad(v(x), &dims(x), v(dy), &dims(dy), &shape, *stride, *pad)
            }
            Op::Pool2d {
                kind,
                x,
                window,
                stride,
                pad,
            } => kernels::pool2d(*kind, v(x), &dims(x), &shape, *window, *stride, *pad),
            Op::Pool2dGrad {
                kind,
                x,
                dy,
                window,
                stride,
                pad,
            } => kernels::pool2d_grad(
                *kind,
                v(x),
                &dims(x),
                v(dy),
                &dims(dy),
                *window,
                *stride,
                *pad,
            ),
            Op::Concat(xs, axis) => {
                let parts: Vec<(&[T], Vec<usize>)> =
                    xs.iter().map(|x| (v(x).as_slice(), dims(x))).collect();
                kernels::concat(&parts, *axis, &shape)
            }
            Op::Slice { x, axis, start } => kernels::slice(v(x), &dims(x), *axis, *start, &shape),
            Op::OneHot(x) => {
                let classes = shape[1];
                let mut out = vec![T::zero(); len];
                for (i, &label) in v(x).iter().enumerate() {
                    let l = label.to_f64();
                    if !(l >= 0.0 && l < classes as f64 && l.fract() == 0.0) {
                        return Err(InterpError::BadLabel {
                            value: l,
                            index: i,
                            classes,
                        });
                    }
                    out[i * classes + l as usize] = T::one();
                }
                out
            }
            Op::DropoutMask { rate, salt } => {
                let key = dropout::key(inp.seed, inp.step, *salt);
                let before = (inp.shard.first * node.shape.per_sample()) as u64;
                (0..len)
                    .map(|i| {
                        let at = before + i as u64;
                        T::from_f64(dropout::mask_value(key, at, *rate) as f64)
                    })
                    .collect()
            }
        };
        debug_assert_eq!(out.len(), len, "{:?}", node.op);
        vals.push(out);
    }
    Ok(vals)
}

fn scalar<T>(k: ScalarKind, inp: &Inputs<T>) -> f64 {
    inp.scalars.value(k, inp.shard.batch(inp.batch))
}

pub fn unary<T: Real>(op: UnaryOp, a: T) -> T {
    let (zero, one) = (T::zero(), T::one());
    match op {
        UnaryOp::Neg => -a,
        UnaryOp::Exp => a.exp(),
        UnaryOp::Log => a.ln(),
        UnaryOp::Tanh => a.tanh(),
        UnaryOp::Erf => a.erf(),
        UnaryOp::Sigmoid => one / (one + (-a).exp()),
        UnaryOp::Relu => {
            if a > zero {
                a
            } else {
                zero
            }
        }
        UnaryOp::Step => {
            if a > zero {
                one
            } else {
                zero
            }
        }
        UnaryOp::Sqrt => a.sqrt(),
        UnaryOp::Rsqrt => one / a.sqrt(),
        UnaryOp::Recip => one / a,
        UnaryOp::Abs => {
            if a < zero {
                -a
            } else {
                a
            }
        }
        UnaryOp::Sign => {
            if a > zero {
                one
            } else if a < zero {
                -one
            } else {
                zero
            }
        }
        UnaryOp::Square => a * a,
    }
}

pub fn binary<T: Real>(op: BinaryOp, a: T, b: T) -> T {
    let flag = |c: bool| if c { T::one() } else { T::zero() };
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
        BinaryOp::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
        BinaryOp::Gt => flag(a > b),
        BinaryOp::Eq => flag(a == b),
    }
}
