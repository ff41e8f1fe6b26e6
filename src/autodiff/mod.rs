//! Reverse-mode automatic differentiation on the graph IR, and the optimizer
//! update appended as IR.
//!
//! ```text
//! Graph(forward + loss) --differentiate--> + backward nodes, one gradient per parameter
//!                       --update.rs------> + clipping, regularisation, optimizer step
//! Model --graphs.rs--> every entry point's graph (train step, backward, update, eval, predict)
//! ```
//!
//! Each primitive has one rule ([`rules::vjp`]), which maps the gradient of
//! its output to gradients of its operands. Gradients reaching a value from
//! several readers are summed.

pub mod graphs;
mod rules;
mod update;

pub use graphs::{Entry, Graphs};
pub use update::{append_update, update_graph};

use crate::ir::{Graph, Op, ParamId, Shape, ValueId};

/// Appends the backward pass of `loss` to `g`. Returns, per parameter, the
/// value holding d loss / d parameter (`None` if the loss does not depend on it).
pub fn differentiate(g: &mut Graph, loss: ValueId) -> Vec<Option<ValueId>> {
    let forward_len = loss.index() + 1;
    let needs = needs_grad(g, forward_len);
    let mut grads: Vec<Option<ValueId>> = vec![None; forward_len];
    let one = g.constant(1.0);
    grads[loss.index()] = Some(g.reshape(one, g.shape(loss).clone()));
    for i in (0..forward_len).rev() {
        let Some(dy) = grads[i] else { continue };
        let node = g.nodes[i].clone();
        g.origin = node.origin.clone();
        for (operand, grad) in rules::vjp(g, ValueId(i as u32), &node, dy) {
            if !needs[operand.index()] {
                continue;
            }
            // Broadcasting readers give gradients of the broadcast shape.
            let target: Shape = g.shape(operand).clone();
            let grad = g.sum_to(grad, &target);
            grads[operand.index()] = Some(match grads[operand.index()] {
                Some(prev) => g.add(prev, grad),
                None => grad,
            });
        }
    }
    g.origin = None;
    let mut per_param = vec![None; g.params.len()];
    for (i, n) in g.nodes[..forward_len].iter().enumerate() {
        if let Op::Param(p) = n.op {
            per_param[p.index()] = grads[i];
        }
    }
    per_param
}

/// Which of the first `len` nodes depend on a parameter (only those need gradients).
fn needs_grad(g: &Graph, len: usize) -> Vec<bool> {
    let mut needs = vec![false; len];
    for i in 0..len {
        let n = &g.nodes[i];
        needs[i] = match &n.op {
            Op::Param(_) => true,
            Op::Detach(_) | Op::OneHot(_) | Op::DropoutMask { .. } => false,
            op => op.operands().iter().any(|o| needs[o.index()]),
        };
    }
    needs
}

/// The parameters with a gradient, for callers that want them in order.
pub fn trained_params(grads: &[Option<ValueId>]) -> Vec<ParamId> {
    grads
        .iter()
        .enumerate()
        .filter_map(|(p, g)| g.map(|_| ParamId(p)))
        .collect()
}
