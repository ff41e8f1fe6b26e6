//! Primitives at their kinks and ties: `loss = sum(op(x...) * w)` with the
//! inputs exactly on the kink. The gradient tests assert what each must
//! give; the JIT tests run them all.

use super::Case;
use dlc::ir::*;

/// Values at and around 0, both zeros included.
pub const AT_ZERO: [f64; 4] = [0.0, -0.0, 0.5, -0.75];

pub fn unary_at_zero(op: UnaryOp) -> Case {
    Case::primitive(
        &format!("{op:?} at 0"),
        &[(&[4], AT_ZERO.to_vec())],
        |g, x| g.unary(op, x[0]),
    )
}

/// Saturated tails of the activations: gradients 0, never NaN.
pub fn unary_saturated(op: UnaryOp) -> Case {
    Case::primitive(
        &format!("{op:?} saturated"),
        &[(&[4], vec![100.0, -100.0, 1e4, -1e4])],
        |g, x| g.unary(op, x[0]),
    )
}

/// `op(a, b)`, `a` of shape `[2, 3]` and `b` of `[2, 3]` or `[1, 3]`
/// (broadcast), equal in most positions (-0 against 0 among them).
pub fn binary_ties(op: BinaryOp, b_shape: &'static [usize]) -> Case {
    let a = vec![0.5, -0.0, 1.0, 0.5, 0.0, -2.0];
    let b = if b_shape == [2, 3] {
        vec![0.5, 0.0, 1.0, 0.5, 1.5, -2.5]
    } else {
        vec![0.5, 0.0, 1.0]
    };
    Case::primitive(
        &format!("{op:?} ties, b {b_shape:?}"),
        &[(&[2, 3], a), (b_shape, b)],
        |g, x| g.binary(op, x[0], x[1]),
    )
}

/// `max(x, axes)` of `[2, 4]` rows with two-way and four-way ties (and -0
/// against 0).
pub fn max_reduction_ties(axes: &'static [usize]) -> Case {
    Case::primitive(
        &format!("max over {axes:?} with ties"),
        &[(&[2, 4], vec![0.25, 1.5, 1.5, -1.0, 0.0, -0.0, 0.0, -0.0])],
        |g, x| g.max(x[0], axes),
    )
}

/// One max pooling of a `[1, 1, 4, 4]` image.
#[derive(Clone, Debug)]
pub struct Pooling {
    pub window: [usize; 2],
    pub stride: [usize; 2],
    pub pad: [usize; 2],
    pub image: Vec<f64>,
}

/// Max pooling with ties: constant images (every window tied), overlapping
/// windows, padding around negative values, ties off the first position.
pub fn poolings() -> Vec<Pooling> {
    let pooling = |window, stride, pad, image| Pooling {
        window,
        stride,
        pad,
        image,
    };
    vec![
        pooling([2, 2], [2, 2], [0, 0], vec![0.5; 16]),
        pooling([2, 2], [1, 1], [0, 0], vec![0.5; 16]),
        pooling([3, 3], [2, 2], [1, 1], vec![-0.5; 16]),
        pooling([2, 2], [2, 2], [0, 0], checkerboard()),
    ]
}

pub fn maxpool_ties(p: &Pooling) -> Case {
    let Pooling {
        window,
        stride,
        pad,
        ..
    } = *p;
    Case::primitive(
        &format!("max pool {window:?} stride {stride:?} pad {pad:?} with ties"),
        &[(&[1, 1, 4, 4], p.image.clone())],
        |g, x| g.pool2d(PoolKind::Max, x[0], window, stride, pad),
    )
}

/// `select(c, a, b)` with conditions 0, -0, NaN and 1.
pub fn select_conditions() -> Case {
    Case::primitive(
        "select on 0, -0, NaN and 1",
        &[
            (&[4], vec![0.0, -0.0, f64::NAN, 1.0]),
            (&[4], vec![0.5, 0.25, -0.5, 0.75]),
            (&[4], vec![-1.0, 2.0, 1.5, -0.25]),
        ],
        |g, x| g.select(x[0], x[1], x[2]),
    )
}

/// A maximum over a row of NaN (which the reduction skips, leaving -inf).
pub fn max_reduction_of_nan() -> Case {
    Case::primitive(
        "max over a row of NaN",
        &[(&[2, 2], vec![f64::NAN, f64::NAN, 0.5, 0.5])],
        |g, x| g.max(x[0], &[1]),
    )
}

/// A checkerboard of 0.25 and 0.75: each 2x2 window ties its two 0.75s,
/// neither of them first in the window.
pub fn checkerboard() -> Vec<f64> {
    (0..16)
        .map(|i| if (i / 4 + i % 4) % 2 == 1 { 0.75 } else { 0.25 })
        .collect()
}

/// Every primitive case (the JIT tests run them all).
pub fn primitive_cases() -> Vec<Case> {
    use UnaryOp::*;
    let mut cases: Vec<Case> = [Neg, Exp, Tanh, Sigmoid, Relu, Abs, Square, Step, Sign]
        .into_iter()
        .map(unary_at_zero)
        .collect();
    cases.extend([Tanh, Sigmoid].into_iter().map(unary_saturated));
    for op in [BinaryOp::Max, BinaryOp::Min, BinaryOp::Gt, BinaryOp::Eq] {
        for shape in [&[2usize, 3][..], &[1, 3]] {
            cases.push(binary_ties(op, shape));
        }
    }
    for axes in [&[1usize][..], &[0, 1]] {
        cases.push(max_reduction_ties(axes));
    }
    cases.push(max_reduction_of_nan());
    cases.extend(poolings().iter().map(maxpool_ties));
    cases.push(select_conditions());
    cases
}
