//! The optimizer step as IR: gradient clipping, L1/L2 regularisation, and
//! SGD (momentum, Nesterov), Adam or AdamW, with PyTorch's conventions:
//!
//! - clipping scales all gradients by `min(1, max_norm / (norm + 1e-6))`,
//!   where `norm` is the global L2 norm, before anything else;
//! - `l2` adds `l2 * w` and `l1` adds `l1 * sign(w)` to the gradient of each
//!   weight marked for decay (not biases or norm parameters);
//! - SGD: `v = momentum * v + g`; the step is `g + momentum * v` with Nesterov,
//!   else `v` (plain `g` without momentum); `w -= lr * step`;
//! - Adam: moments `m`, `v`; `w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`;
//! - AdamW: first `w *= 1 - lr * weight_decay`, then the Adam step.
//!
//! The learning rate and Adam's bias corrections are per-call scalars, so a
//! schedule needs no recompilation.

use crate::check::{OptimizerKind, TrainSpec};
use crate::ir::*;

/// Appends the update of every parameter that has a gradient; adds the
/// parameter and optimizer-state sinks.
pub fn append_update(g: &mut Graph, grads: &[Option<ValueId>], train: &TrainSpec) {
    let mut grads: Vec<(ParamId, ValueId)> = grads
        .iter()
        .enumerate()
        .filter_map(|(p, v)| v.map(|v| (p, v)))
        .collect();
    if let Some(max_norm) = train.clip_norm {
        clip(g, &mut grads, max_norm as f32);
    }
    for (p, grad) in grads {
        let w = g.param_value(p);
        let decayed = regularize(g, p, w, grad, train);
        let new_w = step(g, p, w, decayed, train);
        g.sinks.push(Sink::Param(p, new_w));
    }
}

/// A graph that reads gradients from the gradient buffer and applies the
/// update: the `update` entry point, compiled apart from `backward`.
/// `template` gives the parameters and state (running statistics) layout.
pub fn update_graph(template: &Graph, train: &TrainSpec) -> Graph {
    let mut g = Graph {
        params: template.params.clone(),
        states: template.states.clone(),
        ..Graph::default()
    };
    let grads: Vec<Option<ValueId>> = (0..g.params.len())
        .map(|p| {
            let shape = Shape::fixed(&g.params[p].shape);
            Some(g.push(Op::GradIn(p), shape))
        })
        .collect();
    append_update(&mut g, &grads, train);
    g
}

fn clip(g: &mut Graph, grads: &mut [(ParamId, ValueId)], max_norm: f32) {
    let mut total: Option<ValueId> = None;
    for &(_, v) in grads.iter() {
        let sq = g.unary(UnaryOp::Square, v);
        let axes: Vec<usize> = (0..g.shape(sq).rank()).collect();
        let s = g.sum(sq, &axes);
        let s = g.reshape(s, Shape::scalar());
        total = Some(match total {
            Some(t) => g.add(t, s),
            None => s,
        });
    }
    let Some(total) = total else { return };
    let norm = g.unary(UnaryOp::Sqrt, total);
    let eps = g.constant(1e-6);
    let denom = g.add(norm, eps);
    let limit = g.constant(max_norm);
    let ratio = g.div(limit, denom);
    let one = g.constant(1.0);
    let factor = g.binary(BinaryOp::Min, ratio, one);
    for (_, v) in grads.iter_mut() {
        *v = g.mul(*v, factor);
    }
}

fn regularize(g: &mut Graph, p: ParamId, w: ValueId, grad: ValueId, train: &TrainSpec) -> ValueId {
    if !g.params[p].decay {
        return grad;
    }
    let mut out = grad;
    if train.l2 > 0.0 {
        let t = g.scale(w, train.l2 as f32);
        out = g.add(out, t);
    }
    if train.l1 > 0.0 {
        let s = g.unary(UnaryOp::Sign, w);
        let t = g.scale(s, train.l1 as f32);
        out = g.add(out, t);
    }
    out
}

fn slot(g: &mut Graph, p: ParamId, name: &str) -> (StateId, ValueId) {
    g.add_state(StateInfo {
        name: format!("{}.{name}", g.params[p].name),
        shape: g.params[p].shape.clone(),
        init: 0.0,
        kind: StateKind::Optimizer,
    })
}

fn step(g: &mut Graph, p: ParamId, w: ValueId, grad: ValueId, train: &TrainSpec) -> ValueId {
    let lr = g.scalar(ScalarKind::LearningRate);
    match train.optimizer.kind {
        OptimizerKind::Sgd { momentum, nesterov } => {
            let direction = if momentum > 0.0 {
                let (id, v) = slot(g, p, "momentum");
                let mv = g.scale(v, momentum as f32);
                let new_v = g.add(mv, grad);
                g.sinks.push(Sink::State(id, new_v));
                if nesterov {
                    let mv2 = g.scale(new_v, momentum as f32);
                    g.add(grad, mv2)
                } else {
                    new_v
                }
            } else {
                grad
            };
            let delta = g.mul(direction, lr);
            g.sub(w, delta)
        }
        OptimizerKind::Adam { beta1, beta2, eps } => adam(g, p, w, grad, lr, beta1, beta2, eps),
        OptimizerKind::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            let w = if g.params[p].decay && weight_decay > 0.0 {
                let lr_wd = g.scale(lr, weight_decay as f32);
                let one = g.constant(1.0);
                let keep = g.sub(one, lr_wd);
                g.mul(w, keep)
            } else {
                w
            };
            adam(g, p, w, grad, lr, beta1, beta2, eps)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn adam(
    g: &mut Graph,
    p: ParamId,
    w: ValueId,
    grad: ValueId,
    lr: ValueId,
    beta1: f64,
    beta2: f64,
    eps: f64,
) -> ValueId {
    let (m_id, m) = slot(g, p, "adam_m");
    let (v_id, v) = slot(g, p, "adam_v");
    let m1 = g.scale(m, beta1 as f32);
    let g1 = g.scale(grad, (1.0 - beta1) as f32);
    let new_m = g.add(m1, g1);
    let v1 = g.scale(v, beta2 as f32);
    let sq = g.unary(UnaryOp::Square, grad);
    let g2 = g.scale(sq, (1.0 - beta2) as f32);
    let new_v = g.add(v1, g2);
    g.sinks.push(Sink::State(m_id, new_m));
    g.sinks.push(Sink::State(v_id, new_v));
    let c1 = g.scalar(ScalarKind::AdamCorrection1);
    let c2 = g.scalar(ScalarKind::AdamCorrection2);
    let m_hat = g.mul(new_m, c1);
    let root = g.unary(UnaryOp::Sqrt, new_v);
    let v_hat = g.mul(root, c2);
    let e = g.constant(eps as f32);
    let denom = g.add(v_hat, e);
    let ratio = g.div(m_hat, denom);
    let delta = g.mul(ratio, lr);
    g.sub(w, delta)
}
