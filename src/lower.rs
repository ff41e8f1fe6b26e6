//! Lowering: a checked [`Model`] -> graph IR, in training or evaluation mode.
//!
//! Each layer becomes a few primitive ops, as its definition says
//! (`crate::layers`); every node keeps the layer's name and source span. Parameters and state are registered in layer order in
//! both modes, so the two graphs share one parameter and state layout.

use crate::check::{Layer, Loss, Model};
use crate::ir::*;
use crate::layers::Lowering;

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
            let l = loss(&mut g, t.loss, t.class_weights.is_some(), output);
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

/// One layer, by its definition (`crate::layers`).
fn lower_layer(
    g: &mut Graph,
    layer: &Layer,
    inputs: &[ValueId],
    mode: Mode,
    index: u64,
) -> ValueId {
    let params = params(g, layer);
    let mut lx = Lowering {
        g,
        layer,
        params,
        mode,
        index,
    };
    layer.op.rule().lower(&mut lx, inputs)
}

/// The mean loss of a batch, as a scalar; with `weighted`, the mean
/// weighted by each sample's class weight (see [`weighted_mean`]).
fn loss(g: &mut Graph, kind: Loss, weighted: bool, z: ValueId) -> ValueId {
    let shape = g.shape(z).clone();
    if weighted && kind.is_classification() {
        return weighted_mean(g, kind, z);
    }
    let total = match kind {
        Loss::CrossEntropy => {
            let labels = g.input(InputKind::Labels, Shape(vec![Dim::N]));
            let onehot = g.one_hot(labels, classes_of(g, z));
            let picked = picked_log_probability(g, z, onehot);
            let sum = g.sum(picked, &[0, 1]);
            g.unary(UnaryOp::Neg, sum)
        }
        Loss::BinaryCrossEntropy => {
            let labels = g.input(InputKind::Labels, Shape(vec![Dim::N]));
            let per = binary_cross_entropy(g, z, labels);
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

/// PyTorch's `CrossEntropyLoss(weight=w)` with mean reduction:
/// `sum_i w[y_i] l_i / sum_i w[y_i]` over the batch, where `w` is the
/// `class_weights` input (one weight per class) and `l_i` the unweighted
/// loss of sample `i`. Each sample's weight is picked by the one-hot of its
/// label (labels 0 and 1 for `binary_cross_entropy`), so the weights need
/// no op of their own; they are an input, not a parameter, and have no
/// gradient.
fn weighted_mean(g: &mut Graph, kind: Loss, z: ValueId) -> ValueId {
    let classes = match kind {
        Loss::CrossEntropy => classes_of(g, z),
        _ => 2,
    };
    let labels = g.input(InputKind::Labels, Shape(vec![Dim::N]));
    let weights = g.input(InputKind::ClassWeights, Shape(vec![Dim::K(classes)]));
    let weights = g.reshape(weights, Shape(vec![Dim::K(1), Dim::K(classes)]));
    let onehot = g.one_hot(labels, classes);
    // Row i holds w[y_i] at column y_i and 0 elsewhere.
    let weighted_onehot = g.mul(onehot, weights);
    let per_sample_weight = g.sum(weighted_onehot, &[1]);
    let per_sample_loss = match kind {
        Loss::CrossEntropy => {
            let picked = picked_log_probability(g, z, onehot);
            let sum = g.sum(picked, &[1]);
            g.unary(UnaryOp::Neg, sum)
        }
        _ => binary_cross_entropy(g, z, labels),
    };
    let weighted = g.mul(per_sample_loss, per_sample_weight);
    let total = g.sum(weighted, &[0, 1]);
    // The whole batch's weight, when the batch is split over ranks.
    let weight = g.sum(per_sample_weight, &[0, 1]);
    let weight = g.cross_sum(weight);
    let mean = g.div(total, weight);
    g.reshape(mean, Shape::scalar())
}

/// The classes of logits `[N, C]`.
fn classes_of(g: &Graph, z: ValueId) -> usize {
    match g.shape(z).0[1] {
        Dim::K(c) => c,
        Dim::N => unreachable!("classes are fixed"),
    }
}

/// `onehot * log_softmax(z)`, `[N, C]`: the log-probability of each
/// sample's class in its column, 0 elsewhere. The row maximum is
/// subtracted (and detached) so that exp never overflows.
fn picked_log_probability(g: &mut Graph, z: ValueId, onehot: ValueId) -> ValueId {
    let m = g.max(z, &[1]);
    let m = g.detach(m);
    let s = g.sub(z, m);
    let e = g.unary(UnaryOp::Exp, s);
    let se = g.sum(e, &[1]);
    let lse = g.unary(UnaryOp::Log, se);
    let logp = g.sub(s, lse);
    g.mul(onehot, logp)
}

/// Each sample's binary cross-entropy of one logit, `[N, 1]`:
/// `softplus(z) - z y`, with the stable softplus.
fn binary_cross_entropy(g: &mut Graph, z: ValueId, labels: ValueId) -> ValueId {
    let y = g.reshape(labels, Shape(vec![Dim::N, Dim::K(1)]));
    let softplus = softplus(g, z);
    let zy = g.mul(z, y);
    g.sub(softplus, zy)
}
