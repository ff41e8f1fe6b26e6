//! Lowering: a checked [`Model`] -> graph IR, in training or evaluation mode.
//!
//! Each layer becomes a few primitive ops; every node keeps the layer's name
//! and source span. Parameters and state are registered in layer order in
//! both modes, so the two graphs share one parameter and state layout.

use super::graph::{Graph, Origin, ParamInfo, Sink, StateInfo, StateKind};
use super::ops::*;
use super::shape::{Dim, Shape};
use crate::check::{Activation, Layer, Loss, Model, Op as LayerOp, PoolKind as LayerPool};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics, active dropout, running-statistics updates.
    Train,
    /// Running statistics, no dropout.
    Eval,
}

/// A lowered network: its graph, the output value and (with a loss) the loss value.
pub struct Lowered {
    pub graph: Graph,
    pub output: ValueId,
    pub loss: Option<ValueId>,
}

/// Lowers the network; with `with_loss`, also the training plan's loss
/// against a labels (or targets) input.
pub fn lower(model: &Model, mode: Mode, with_loss: bool) -> Lowered {
    let net = &model.network;
    let mut g = Graph::default();
    let mut values: Vec<ValueId> = Vec::with_capacity(net.layers.len());
    for (index, layer) in net.layers.iter().enumerate() {
        g.origin = Some(Origin {
            layer: layer.name.clone(),
            span: layer.span,
        });
        let inputs: Vec<ValueId> = layer.inputs.iter().map(|&i| values[i]).collect();
        let v = lower_layer(&mut g, layer, &inputs, mode, index as u64);
        values.push(v);
    }
    let output = values[net.output];
    g.sinks.push(Sink::Output(output));
    let loss = match (&model.train, with_loss) {
        (Some(t), true) => {
            g.origin = None;
            let l = loss(&mut g, t.loss, output);
            g.sinks.push(Sink::Loss(l));
            Some(l)
        }
        _ => None,
    };
    g.origin = None;
    Lowered {
        graph: g,
        output,
        loss,
    }
}

fn params(g: &mut Graph, layer: &Layer) -> Vec<ValueId> {
    layer
        .params
        .iter()
        .map(|t| {
            g.add_param(ParamInfo {
                name: format!("{}.{}", layer.name, t.name),
                shape: t.shape.clone(),
                init: t.init,
                decay: t.decay,
            })
        })
        .collect()
}

/// `[C]` reshaped to broadcast along axis 1 of a tensor of `rank` axes.
fn per_channel(g: &mut Graph, v: ValueId, rank: usize) -> ValueId {
    let c = g.shape(v).0[0];
    let mut dims = vec![Dim::K(1); rank];
    dims[1] = c;
    g.reshape(v, Shape(dims))
}

/// A per-sample-shaped tensor `[...]` as `[1, ...]`.
fn per_sample(g: &mut Graph, v: ValueId) -> ValueId {
    let mut dims = vec![Dim::K(1)];
    dims.extend(g.shape(v).0.iter().copied());
    g.reshape(v, Shape(dims))
}

fn lower_layer(
    g: &mut Graph,
    layer: &Layer,
    inputs: &[ValueId],
    mode: Mode,
    index: u64,
) -> ValueId {
    let p = params(g, layer);
    let x = inputs.first().copied();
    let x = || x.expect("layer has an input");
    match &layer.op {
        LayerOp::Input => g.input(InputKind::Features, Shape::batched(&layer.shape)),
        LayerOp::Dense { .. } => {
            let y = g.matmul(x(), p[0], false, true);
            match p.get(1) {
                Some(&b) => {
                    let b = per_sample(g, b);
                    g.add(y, b)
                }
                None => y,
            }
        }
        LayerOp::Conv { stride, pad, .. } => {
            let y = g.conv2d(x(), p[0], *stride, *pad);
            match p.get(1) {
                Some(&b) => {
                    let b = per_channel(g, b, 4);
                    g.add(y, b)
                }
                None => y,
            }
        }
        LayerOp::Pool {
            kind,
            window,
            stride,
            pad,
        } => {
            let kind = match kind {
                LayerPool::Max => PoolKind::Max,
                LayerPool::Avg => PoolKind::Avg,
            };
            g.pool2d(kind, x(), *window, *stride, *pad)
        }
        LayerOp::Flatten => g.reshape(x(), Shape::batched(&layer.shape)),
        LayerOp::Activation(a) => activation(g, *a, x()),
        LayerOp::PRelu { per_channel: pc } => {
            let rank = g.shape(x()).rank();
            let slope = if *pc {
                per_channel(g, p[0], rank)
            } else {
                g.reshape(p[0], Shape(vec![Dim::K(1); rank]))
            };
            let zero = g.constant(0.0);
            let positive = g.binary(BinaryOp::Gt, x(), zero);
            let scaled = g.mul(x(), slope);
            g.select(positive, x(), scaled)
        }
        LayerOp::BatchNorm { momentum, eps } => {
            batch_norm(g, layer, x(), &p, mode, *momentum as f32, *eps as f32)
        }
        LayerOp::LayerNorm { eps } => {
            let rank = g.shape(x()).rank();
            let axes: Vec<usize> = (1..rank).collect();
            let y = normalize(g, x(), &axes, *eps as f32).0;
            let (w, b) = (per_sample(g, p[0]), per_sample(g, p[1]));
            let y = g.mul(y, w);
            g.add(y, b)
        }
        LayerOp::InstanceNorm { eps, affine } => {
            let y = normalize(g, x(), &[2, 3], *eps as f32).0;
            if *affine {
                let (w, b) = (per_channel(g, p[0], 4), per_channel(g, p[1], 4));
                let y = g.mul(y, w);
                g.add(y, b)
            } else {
                y
            }
        }
        LayerOp::Dropout { rate } => match mode {
            Mode::Eval => x(),
            Mode::Train => {
                let shape = g.shape(x()).clone();
                let mask = g.push(
                    Op::DropoutMask {
                        rate: *rate as f32,
                        salt: index,
                    },
                    shape,
                );
                g.mul(x(), mask)
            }
        },
        LayerOp::Add => inputs[1..].iter().fold(inputs[0], |acc, &v| g.add(acc, v)),
        LayerOp::Concat => g.concat(inputs, 1),
    }
}

fn activation(g: &mut Graph, a: Activation, x: ValueId) -> ValueId {
    match a {
        Activation::Identity => x,
        Activation::Sigmoid => g.unary(UnaryOp::Sigmoid, x),
        Activation::Tanh => g.unary(UnaryOp::Tanh, x),
        Activation::Relu => g.unary(UnaryOp::Relu, x),
        Activation::LeakyRelu { slope } => {
            // select, not max: the gradient at 0 is the slope, as in PyTorch.
            let zero = g.constant(0.0);
            let positive = g.binary(BinaryOp::Gt, x, zero);
            let scaled = g.scale(x, slope as f32);
            g.select(positive, x, scaled)
        }
        Activation::Softmax => {
            let m = g.max(x, &[1]);
            let m = g.detach(m);
            let s = g.sub(x, m);
            let e = g.unary(UnaryOp::Exp, s);
            let total = g.sum(e, &[1]);
            g.div(e, total)
        }
    }
}

/// `(x - mean) / sqrt(var + eps)` over `axes`, with the (biased) mean and variance.
fn normalize(g: &mut Graph, x: ValueId, axes: &[usize], eps: f32) -> (ValueId, ValueId, ValueId) {
    let mean = g.mean(x, axes);
    let centered = g.sub(x, mean);
    let sq = g.unary(UnaryOp::Square, centered);
    let var = g.mean(sq, axes);
    let e = g.constant(eps);
    let var_eps = g.add(var, e);
    let inv = g.unary(UnaryOp::Rsqrt, var_eps);
    (g.mul(centered, inv), mean, var)
}

fn batch_norm(
    g: &mut Graph,
    layer: &Layer,
    x: ValueId,
    p: &[ValueId],
    mode: Mode,
    momentum: f32,
    eps: f32,
) -> ValueId {
    let rank = g.shape(x).rank();
    let c = layer.shape[0];
    let (rm_id, rm) = g.add_state(StateInfo {
        name: format!("{}.running_mean", layer.name),
        shape: vec![c],
        init: 0.0,
        kind: StateKind::Running,
    });
    let (rv_id, rv) = g.add_state(StateInfo {
        name: format!("{}.running_var", layer.name),
        shape: vec![c],
        init: 1.0,
        kind: StateKind::Running,
    });
    let axes: Vec<usize> = if rank == 2 { vec![0] } else { vec![0, 2, 3] };
    let y = match mode {
        Mode::Train => {
            let (y, mean, var) = normalize(g, x, &axes, eps);
            // Running statistics as PyTorch keeps them: the variance unbiased.
            let spatial: usize = layer.shape[1..].iter().product();
            let n = g.scalar(ScalarKind::BatchSize);
            let count = g.scale(n, spatial as f32);
            let one = g.constant(1.0);
            let count_less = g.sub(count, one);
            let unbias = g.div(count, count_less);
            let mean_c = g.reshape(mean, Shape::fixed(&[c]));
            let var_c = g.reshape(var, Shape::fixed(&[c]));
            let var_c = g.mul(var_c, unbias);
            let new_rm = blend(g, rm, mean_c, momentum);
            let new_rv = blend(g, rv, var_c, momentum);
            g.sinks.push(Sink::State(rm_id, new_rm));
            g.sinks.push(Sink::State(rv_id, new_rv));
            y
        }
        Mode::Eval => {
            let (rm_b, rv_b) = (per_channel(g, rm, rank), per_channel(g, rv, rank));
            let centered = g.sub(x, rm_b);
            let e = g.constant(eps);
            let var_eps = g.add(rv_b, e);
            let inv = g.unary(UnaryOp::Rsqrt, var_eps);
            g.mul(centered, inv)
        }
    };
    let (w, b) = (per_channel(g, p[0], rank), per_channel(g, p[1], rank));
    let y = g.mul(y, w);
    g.add(y, b)
}

/// `old * (1 - m) + new * m`
fn blend(g: &mut Graph, old: ValueId, new: ValueId, m: f32) -> ValueId {
    let a = g.scale(old, 1.0 - m);
    let b = g.scale(new, m);
    g.add(a, b)
}

/// The mean loss of a batch, as a scalar.
fn loss(g: &mut Graph, kind: Loss, z: ValueId) -> ValueId {
    let shape = g.shape(z).clone();
    let total = match kind {
        Loss::CrossEntropy => {
            let classes = match shape.0[1] {
                Dim::K(c) => c,
                Dim::N => unreachable!("classes are fixed"),
            };
            let labels = g.input(InputKind::Labels, Shape(vec![Dim::N]));
            let onehot = g.one_hot(labels, classes);
            let m = g.max(z, &[1]);
            let m = g.detach(m);
            let s = g.sub(z, m);
            let e = g.unary(UnaryOp::Exp, s);
            let se = g.sum(e, &[1]);
            let lse = g.unary(UnaryOp::Log, se);
            let logp = g.sub(s, lse);
            let picked = g.mul(onehot, logp);
            let sum = g.sum(picked, &[0, 1]);
            g.unary(UnaryOp::Neg, sum)
        }
        Loss::BinaryCrossEntropy => {
            // softplus(z) - z y, with softplus(z) = log(e^z + e^0) computed
            // as softmax cross-entropy computes its log-sum-exp: shifted by
            // a detached m = max(z, 0), m + log(e^(z - m) + e^-m). Both
            // exponents are at most 0, so it is stable for any logit, and
            // the gradient is e^(z - m) / (e^(z - m) + e^-m) = sigmoid(z)
            // exactly, with no kink: the tie of max(z, 0) at z = 0 and the
            // kink of |z| never meet a gradient.
            let labels = g.input(InputKind::Labels, Shape(vec![Dim::N]));
            let y = g.reshape(labels, Shape(vec![Dim::N, Dim::K(1)]));
            let zero = g.constant(0.0);
            let m = g.binary(BinaryOp::Max, z, zero);
            let m = g.detach(m);
            let shifted = g.sub(z, m);
            let e_z = g.unary(UnaryOp::Exp, shifted);
            let neg_m = g.unary(UnaryOp::Neg, m);
            let e_0 = g.unary(UnaryOp::Exp, neg_m);
            let total = g.add(e_z, e_0);
            let lse = g.unary(UnaryOp::Log, total);
            let softplus = g.add(m, lse);
            let zy = g.mul(z, y);
            let per = g.sub(softplus, zy);
            g.sum(per, &[0, 1])
        }
        Loss::MeanSquaredError => {
            let targets = g.input(InputKind::Targets, shape.clone());
            let d = g.sub(z, targets);
            let sq = g.unary(UnaryOp::Square, d);
            let width = shape.numel(1);
            let s = g.sum(sq, &[0, 1]);
            g.scale(s, 1.0 / width as f32)
        }
    };
    let n = g.scalar(ScalarKind::BatchSize);
    let mean = g.div(total, n);
    g.reshape(mean, Shape::scalar())
}
