//! Lowering helpers shared by several layer kinds.

use crate::ir::{Dim, Graph, Shape, UnaryOp, ValueId};

/// `[C]` reshaped to broadcast along axis 1 of a tensor of `rank` axes.
pub fn per_channel(g: &mut Graph, v: ValueId, rank: usize) -> ValueId {
    let c = g.shape(v).0[0];
    let mut dims = vec![Dim::K(1); rank];
    dims[1] = c;
    g.reshape(v, Shape(dims))
}

/// A per-sample-shaped tensor `[...]` as `[1, ...]`.
pub fn per_sample(g: &mut Graph, v: ValueId) -> ValueId {
    let mut dims = vec![Dim::K(1)];
    dims.extend(g.shape(v).0.iter().copied());
    g.reshape(v, Shape(dims))
}

/// `(x - mean) / sqrt(var + eps)` over `axes`, with the (biased) mean and
/// variance: `(normalized, mean, var)`.
pub fn normalize(
    g: &mut Graph,
    x: ValueId,
    axes: &[usize],
    eps: f32,
) -> (ValueId, ValueId, ValueId) {
    let mean = g.mean(x, axes);
    let centered = g.sub(x, mean);
    let sq = g.unary(UnaryOp::Square, centered);
    let var = g.mean(sq, axes);
    let e = g.constant(eps);
    let var_eps = g.add(var, e);
    let inv = g.unary(UnaryOp::Rsqrt, var_eps);
    (g.mul(centered, inv), mean, var)
}

/// `y * weight + bias`, each `[C]`, broadcast along the channels (axis 1).
pub fn scale_and_offset_per_channel(g: &mut Graph, y: ValueId, w: ValueId, b: ValueId) -> ValueId {
    let rank = g.shape(y).rank();
    let (w, b) = (per_channel(g, w, rank), per_channel(g, b, rank));
    let y = g.mul(y, w);
    g.add(y, b)
}
