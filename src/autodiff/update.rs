//! The optimizer step as IR, with PyTorch's conventions:
//!
//! - clipping scales all gradients by `min(1, max_norm / (norm + 1e-6))`,
//!   where `norm` is the global L2 norm, before anything else;
//! - `l2` adds `l2 * w` and `l1` adds `l1 * sign(w)` to the gradient of each
//!   weight marked for decay (not biases or norm parameters);
//! - an optimizer with a decoupled `weight_decay` shrinks each such weight by
//!   `1 - lr * weight_decay`;
//! - then the optimizer's own step, from its definition in [`crate::optimizers`].
//!
//! The learning rate and the optimizer's per-step numbers (Adam's bias
//! corrections) are per-call scalars, so a schedule needs no recompilation.

use crate::check::TrainSpec;
use crate::ir::*;
use crate::optimizers::Update;

/// Appends the update of every parameter that has a gradient; adds the
/// parameter and optimizer-state sinks.
pub fn append_update(g: &mut Graph, grads: &[Option<ValueId>], train: &TrainSpec) {
    let mut grads: Vec<(ParamId, ValueId)> = grads
        .iter()
        .enumerate()
        .filter_map(|(p, v)| v.map(|v| (ParamId(p), v)))
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
            let p = ParamId(p);
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

/// The optimizer's step for parameter `p`, after the decoupled weight decay
/// of an optimizer that has one: `w *= 1 - lr * weight_decay`.
fn step(g: &mut Graph, p: ParamId, w: ValueId, grad: ValueId, train: &TrainSpec) -> ValueId {
    let rule = train.optimizer.kind.rule();
    let lr = g.scalar(ScalarKind::LearningRate);
    let w = match rule.decoupled_decay() {
        Some(d) if g.params[p].decay && d.rate > 0.0 => {
            let lr_decay = g.scale(lr, d.rate as f32);
            let one = g.constant(1.0);
            let keep = g.sub(one, lr_decay);
            g.mul(w, keep)
        }
        _ => w,
    };
    rule.step(&mut Update { g, param: p, lr }, w, grad)
}
