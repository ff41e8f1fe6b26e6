//! Compound operations built from primitives, shared by the layers and the
//! losses that need them.

use super::graph::Graph;
use super::ops::*;

/// `softplus(z) = log(e^z + e^0)`, computed as softmax cross-entropy
/// computes its log-sum-exp: shifted by a detached `m = max(z, 0)`, as
/// `m + log(e^(z - m) + e^-m)`. Both exponents are at most 0, so it is
/// stable for any `z`, and the gradient is `e^(z - m) / (e^(z - m) + e^-m)
/// = sigmoid(z)` exactly, with no kink: the tie of `max(z, 0)` at 0 never
/// meets a gradient.
pub fn softplus(g: &mut Graph, z: ValueId) -> ValueId {
    let zero = g.constant(0.0);
    let m = g.binary(BinaryOp::Max, z, zero);
    let m = g.detach(m);
    let shifted = g.sub(z, m);
    let e_z = g.unary(UnaryOp::Exp, shifted);
    let neg_m = g.unary(UnaryOp::Neg, m);
    let e_0 = g.unary(UnaryOp::Exp, neg_m);
    let total = g.add(e_z, e_0);
    let log = g.unary(UnaryOp::Log, total);
    g.add(m, log)
}
