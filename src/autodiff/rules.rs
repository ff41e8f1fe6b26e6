//! The gradient rules: one per primitive, as a table.
//!
//! `vjp(y = op(x...), dy)` returns `(x, dx)` pairs: the vector-Jacobian
//! product for each differentiable operand. Results may have the broadcast
//! shape of `y`; the caller sums them down to each operand's shape.
//!
//! # At kinks and ties
//!
//! Where a primitive has no derivative, its rule gives PyTorch's choice, a
//! subgradient (a value between the one-sided derivatives):
//!
//! - `relu'(0) = 0` (`Step(0) = 0`), `abs'(0) = sign(0) = 0`;
//! - `max(a, b)` and `min(a, b)` with `a == b` give each operand half of the
//!   gradient (as `torch.maximum` and `torch.minimum`), so the two halves add
//!   up to the derivative along `a = b`, where the function is smooth;
//! - a maximum over axes shares the gradient evenly between the positions that
//!   attain it (as `torch.amax`), for the same reason;
//! - max pooling sends each window's gradient to the first maximum of the
//!   window in row-major order (as `torch.nn.functional.max_pool2d`);
//! - `select(c, a, b)` routes the gradient by the condition alone: `c == 0`
//!   (and `-0`) picks `b`, anything else (NaN included) picks `a`;
//! - comparisons, `Step` and `Sign` are flat almost everywhere: no gradient.
//!
//! Composites that are smooth must not rely on these choices cancelling out:
//! the lowering builds them from pieces that are smooth where they are read
//! (binary cross-entropy is a log-sum-exp with a detached maximum, as softmax
//! cross-entropy is).

use crate::ir::*;

pub fn vjp(g: &mut Graph, y: ValueId, node: &Node, dy: ValueId) -> Vec<(ValueId, ValueId)> {
    match &node.op {
        // Leaves and values with no gradient.
        Op::Input(_)
        | Op::Param(_)
        | Op::State(_)
        | Op::GradIn(_)
        | Op::Scalar(_)
        | Op::Fill(_)
        | Op::OneHot(_)
        | Op::DropoutMask { .. }
        | Op::Detach(_) => vec![],
        Op::Unary(op, x) => unary(g, *op, *x, y, dy)
            .map(|dx| vec![(*x, dx)])
            .unwrap_or_default(),
        Op::Binary(op, a, b) => binary(g, *op, *a, *b, y, dy),
        Op::Select(c, a, b) => {
            let zero = g.constant(0.0);
            let da = g.select(*c, dy, zero);
            let db = g.select(*c, zero, dy);
            vec![(*a, da), (*b, db)]
        }
        Op::Reshape(x) => {
            let s = g.shape(*x).clone();
            vec![(*x, g.reshape(dy, s))]
        }
        // Summing to the operand's shape is done by the caller.
        Op::Expand(x) => vec![(*x, dy)],
        // Every rank's loss reads the sum, so each rank's operand gets the
        // sum of the ranks' gradients.
        Op::CrossSum(x) => vec![(*x, g.cross_sum(dy))],
        Op::Sum(x, _) => {
            let s = g.shape(*x).clone();
            vec![(*x, g.expand(dy, s))]
        }
        Op::Max(x, axes) => {
            // Shared evenly between the positions that attain the maximum:
            // each of k tied positions gets dy / k. (A row with no such
            // position, all NaN, counts as 1 so that it gets no gradient.)
            let s = g.shape(*x).clone();
            let ye = g.expand(y, s.clone());
            let hit = g.binary(BinaryOp::Eq, *x, ye);
            let count = g.sum(hit, axes);
            let one = g.constant(1.0);
            let count = g.binary(BinaryOp::Max, count, one);
            let share = g.div(dy, count);
            let share = g.expand(share, s);
            vec![(*x, g.mul(share, hit))]
        }
        Op::MatMul { a, b, ta, tb } => {
            let da = if *ta {
                g.matmul(*b, dy, *tb, true)
            } else {
                g.matmul(dy, *b, false, !*tb)
            };
            let db = if *tb {
                g.matmul(dy, *a, true, *ta)
            } else {
                g.matmul(*a, dy, !*ta, false)
            };
            vec![(*a, da), (*b, db)]
        }
        Op::Conv2d { x, w, stride, pad } => {
            let dx = g.push(
                Op::Conv2dInputGrad {
                    dy,
                    w: *w,
                    stride: *stride,
                    pad: *pad,
                },
                g.shape(*x).clone(),
            );
            let dw = g.push(
                Op::Conv2dWeightGrad {
                    x: *x,
                    dy,
                    stride: *stride,
                    pad: *pad,
                },
                g.shape(*w).clone(),
            );
            vec![(*x, dx), (*w, dw)]
        }
        Op::Pool2d {
            kind,
            x,
            window,
            stride,
            pad,
        } => {
            let op = Op::Pool2dGrad {
                kind: *kind,
                x: *x,
                dy,
                window: *window,
                stride: *stride,
                pad: *pad,
            };
            vec![(*x, g.push(op, g.shape(*x).clone()))]
        }
        Op::Concat(xs, axis) => {
            let mut start = 0;
            let mut out = Vec::new();
            for &x in xs {
                let Dim::K(len) = g.shape(x).0[*axis] else {
                    unreachable!("concat along the batch")
                };
                out.push((x, g.slice(dy, *axis, start, len)));
                start += len;
            }
            out
        }
        Op::Slice { x, axis, start } => {
            // The gradient of the slice, with zeros around it.
            let full = g.shape(*x).clone();
            let (Dim::K(total), Dim::K(len)) = (full.0[*axis], g.shape(dy).0[*axis]) else {
                unreachable!("slice along the batch")
            };
            let zeros = |g: &mut Graph, n: usize| {
                let mut s = full.clone();
                s.0[*axis] = Dim::K(n);
                g.push(Op::Fill(0.0), s)
            };
            let mut pieces = Vec::new();
            if *start > 0 {
                pieces.push(zeros(g, *start));
            }
            pieces.push(dy);
            if total > start + len {
                pieces.push(zeros(g, total - start - len));
            }
            let dx = if pieces.len() == 1 {
                dy
            } else {
                g.concat(&pieces, *axis)
            };
            vec![(*x, dx)]
        }
        Op::Conv2dInputGrad { .. } | Op::Conv2dWeightGrad { .. } | Op::Pool2dGrad { .. } => {
            unreachable!("second derivatives are not needed by any loss dlc builds")
        }
    }
}

fn unary(g: &mut Graph, op: UnaryOp, x: ValueId, y: ValueId, dy: ValueId) -> Option<ValueId> {
    Some(match op {
        UnaryOp::Neg => g.unary(UnaryOp::Neg, dy),
        UnaryOp::Exp => g.mul(dy, y),
        UnaryOp::Log => g.div(dy, x),
        UnaryOp::Tanh => {
            // 1 - y^2
            let y2 = g.unary(UnaryOp::Square, y);
            let one = g.constant(1.0);
            let d = g.sub(one, y2);
            g.mul(dy, d)
        }
        UnaryOp::Sigmoid => {
            let one = g.constant(1.0);
            let c = g.sub(one, y);
            let d = g.mul(y, c);
            g.mul(dy, d)
        }
        UnaryOp::Erf => {
            // 2/sqrt(pi) e^(-x^2)
            let x2 = g.unary(UnaryOp::Square, x);
            let minus = g.unary(UnaryOp::Neg, x2);
            let e = g.unary(UnaryOp::Exp, minus);
            let d = g.scale(e, std::f32::consts::FRAC_2_SQRT_PI);
            g.mul(dy, d)
        }
        UnaryOp::Relu => {
            // step(relu(x)) = step(x) for every x (0, -0 and NaN give 0 both
            // ways); reading the output leaves the pre-activation dead after
            // the forward pass, so the bias add and the relu fuse into one
            // kernel with one output.
            let step = g.unary(UnaryOp::Step, y);
            g.mul(dy, step)
        }
        UnaryOp::Sqrt => {
            let h = g.scale(dy, 0.5);
            g.div(h, y)
        }
        UnaryOp::Rsqrt => {
            // -1/2 x^(-3/2) = -1/2 y^3
            let y2 = g.unary(UnaryOp::Square, y);
            let y3 = g.mul(y2, y);
            let d = g.scale(y3, -0.5);
            g.mul(dy, d)
        }
        UnaryOp::Recip => {
            let y2 = g.unary(UnaryOp::Square, y);
            let d = g.mul(dy, y2);
            g.unary(UnaryOp::Neg, d)
        }
        UnaryOp::Abs => {
            let s = g.unary(UnaryOp::Sign, x);
            g.mul(dy, s)
        }
        UnaryOp::Square => {
            let two_x = g.scale(x, 2.0);
            g.mul(dy, two_x)
        }
        UnaryOp::Step | UnaryOp::Sign => return None,
    })
}

fn binary(
    g: &mut Graph,
    op: BinaryOp,
    a: ValueId,
    b: ValueId,
    y: ValueId,
    dy: ValueId,
) -> Vec<(ValueId, ValueId)> {
    match op {
        BinaryOp::Add => vec![(a, dy), (b, dy)],
        BinaryOp::Sub => {
            let nb = g.unary(UnaryOp::Neg, dy);
            vec![(a, dy), (b, nb)]
        }
        BinaryOp::Mul => {
            let da = g.mul(dy, b);
            let db = g.mul(dy, a);
            vec![(a, da), (b, db)]
        }
        BinaryOp::Div => {
            // d(a/b)/db = -a/b^2 = -y/b
            let da = g.div(dy, b);
            let t = g.mul(da, y);
            let db = g.unary(UnaryOp::Neg, t);
            vec![(a, da), (b, db)]
        }
        BinaryOp::Max | BinaryOp::Min => {
            // The winner takes the gradient; a tie splits it evenly. As in
            // the forward op, `a` wins unless `b` is strictly better, so a
            // NaN on either side gives `a` the gradient.
            let b_wins = if op == BinaryOp::Max {
                g.binary(BinaryOp::Gt, b, a)
            } else {
                g.binary(BinaryOp::Gt, a, b)
            };
            let tie = g.binary(BinaryOp::Eq, a, b);
            let zero = g.constant(0.0);
            let half = g.scale(dy, 0.5);
            let a_share = g.select(tie, half, dy);
            let b_share = g.select(tie, half, zero);
            let da = g.select(b_wins, zero, a_share);
            let db = g.select(b_wins, dy, b_share);
            vec![(a, da), (b, db)]
        }
        BinaryOp::Gt | BinaryOp::Eq => vec![],
    }
}
