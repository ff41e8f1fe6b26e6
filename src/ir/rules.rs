//! The result-shape rule of every primitive, written once.
//!
//! The graph's builders call [`result_shape`] to give each new node its shape
//! (and panic when it fails: a compiler bug), and the verifier calls it again
//! to check every stored shape. Before, each rule was written twice, in the
//! builders and in the verifier, and the two copies had drifted (the
//! convolution builder checked no channels, the verifier no slice widths).
//!
//! Most ops' shapes follow from their operands. The others carry their shape
//! as an attribute held in the node's shape: the source ops (`input`, `fill`,
//! `dropout_mask`), `reshape` and `expand` (the target), `slice` (the width),
//! `one_hot` (the classes) and the convolution gradients (the input's or the
//! weights' size, which a strided convolution does not determine). For those
//! the rule checks the `declared` shape and returns it.
//!
//! The `match` below has no catch-all arm on purpose: a new primitive does not
//! compile until it has a rule.

use super::graph::{ParamInfo, StateInfo};
use super::ops::Op;
use super::shape::{Dim, Shape};

/// Why an op cannot have a shape: its operands do not fit it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, ShapeError> {
    Err(ShapeError(message.into()))
}

/// The tables the leaf ops read their shapes from.
#[derive(Clone, Copy)]
pub struct Tables<'a> {
    pub params: &'a [ParamInfo],
    pub states: &'a [StateInfo],
}

/// The shape `op` produces from operands of `operands` shapes (in the order
/// of [`Op::operands`]). `declared` is the node's own shape, required by the
/// ops whose shape is an attribute and ignored by the others.
pub fn result_shape(
    op: &Op,
    operands: &[&Shape],
    declared: Option<&Shape>,
    tables: Tables,
) -> Result<Shape, ShapeError> {
    let want = op.operands().len();
    if operands.len() != want {
        return fail(format!("has {} operands, needs {want}", operands.len()));
    }
    let s = |i: usize| operands[i];
    // The declared shape, for the ops that need one: N on axis 0 only.
    let given = || -> Result<&Shape, ShapeError> {
        let Some(d) = declared else {
            return fail("its shape is not implied by its operands and must be given");
        };
        if d.0.iter().skip(1).any(|x| *x == Dim::N) {
            return fail(format!("{d} has the batch on an axis other than the first"));
        }
        Ok(d)
    };
    match op {
        Op::Input(kind) => {
            use super::ops::InputKind;
            let d = given()?;
            let fits = match kind {
                InputKind::Labels => d.is_batched() && d.rank() == 1,
                // One weight per class, not per sample.
                InputKind::ClassWeights => !d.is_batched() && d.rank() == 1,
                InputKind::Features | InputKind::Targets => d.is_batched(),
            };
            if !fits {
                return fail(format!("input {kind:?} cannot have shape {d}"));
            }
            Ok(d.clone())
        }
        Op::Param(p) | Op::GradIn(p) => match tables.params.get(p.index()) {
            Some(info) => Ok(Shape::fixed(&info.shape)),
            None => fail(format!("there is no parameter {p}")),
        },
        Op::State(st) => match tables.states.get(st.index()) {
            Some(info) => Ok(Shape::fixed(&info.shape)),
            None => fail(format!("there is no state {st}")),
        },
        Op::Scalar(_) => Ok(Shape::scalar()),
        Op::Fill(_) | Op::DropoutMask { .. } => given().cloned(),
        Op::Unary(..) | Op::Detach(_) => Ok(s(0).clone()),
        Op::CrossSum(_) if s(0).is_batched() => fail(format!(
            "cross_sum of {}: a batched value differs in size between ranks",
            s(0)
        )),
        Op::CrossSum(_) => Ok(s(0).clone()),
        Op::Binary(..) => broadcast(s(0), s(1), "operands"),
        Op::Select(..) => {
            let ab = broadcast(s(1), s(2), "operands")?;
            broadcast(s(0), &ab, "condition and operands")
        }
        Op::Reshape(_) => {
            let (from, to) = (s(0), given()?);
            if from.is_batched() != to.is_batched() || from.numel(1) != to.numel(1) {
                return fail(format!("cannot reshape {from} to {to}"));
            }
            Ok(to.clone())
        }
        Op::Expand(_) => {
            let to = given()?;
            if !s(0).broadcasts_to(to) {
                return fail(format!("{} does not expand to {to}", s(0)));
            }
            Ok(to.clone())
        }
        Op::Sum(_, axes) | Op::Max(_, axes) => {
            if let Some(a) = axes.iter().find(|&&a| a >= s(0).rank()) {
                return fail(format!("axis {a} is out of range for {}", s(0)));
            }
            Ok(s(0).reduced(axes))
        }
        Op::MatMul { ta, tb, .. } => {
            let (sa, sb) = (&s(0).0, &s(1).0);
            if sa.len() != 2 || sb.len() != 2 {
                return fail(format!("operands {} and {} are not matrices", s(0), s(1)));
            }
            let (m, k1) = if *ta { (sa[1], sa[0]) } else { (sa[0], sa[1]) };
            let (k2, n) = if *tb { (sb[1], sb[0]) } else { (sb[0], sb[1]) };
            if k1 != k2 {
                return fail(format!("inner sizes {k1} and {k2} differ"));
            }
            Ok(Shape(vec![m, n]))
        }
        Op::Conv2d { stride, pad, .. } => conv_out(s(0), s(1), *stride, *pad),
        Op::Conv2dInputGrad { stride, pad, .. } => {
            // Shape: the convolution's input, which must map onto dy.
            let x = given()?;
            same(&conv_out(x, s(1), *stride, *pad)?, s(0), "dy")?;
            Ok(x.clone())
        }
        Op::Conv2dWeightGrad { stride, pad, .. } => {
            // Shape: the convolution's weights, which must map x onto dy.
            let w = given()?;
            same(&conv_out(s(0), w, *stride, *pad)?, s(1), "dy")?;
            Ok(w.clone())
        }
        Op::Pool2d {
            window,
            stride,
            pad,
            ..
        } => pool_out(s(0), *window, *stride, *pad),
        Op::Pool2dGrad {
            window,
            stride,
            pad,
            ..
        } => {
            same(&pool_out(s(0), *window, *stride, *pad)?, s(1), "dy")?;
            Ok(s(0).clone())
        }
        Op::Concat(_, axis) => concat(operands, *axis),
        Op::Slice { axis, start, .. } => slice(s(0), given()?, *axis, *start),
        Op::OneHot(_) => {
            let (labels, d) = (s(0), given()?);
            let fits = labels.rank() == 1
                && d.rank() == 2
                && d.0[0] == labels.0[0]
                && matches!(d.0[1], Dim::K(c) if c > 0);
            if !fits {
                return fail(format!("one-hot of {labels} cannot have shape {d}"));
            }
            Ok(d.clone())
        }
    }
}

fn broadcast(a: &Shape, b: &Shape, what: &str) -> Result<Shape, ShapeError> {
    a.broadcast(b)
        .ok_or_else(|| ShapeError(format!("{what} {a} and {b} do not broadcast")))
}

fn same(want: &Shape, got: &Shape, what: &str) -> Result<(), ShapeError> {
    if want == got {
        Ok(())
    } else {
        fail(format!("{what} should have shape {want}, has {got}"))
    }
}

/// The output size of a window `k` sliding by `s` over `d` padded by `p`.
fn window_out(d: Dim, k: usize, s: usize, p: usize) -> Result<Dim, ShapeError> {
    match d {
        Dim::K(h) if h + 2 * p >= k && s > 0 => Ok(Dim::K((h + 2 * p - k) / s + 1)),
        _ => fail(format!("a window of {k} by stride {s} does not fit {d}")),
    }
}

fn conv_out(
    x: &Shape,
    w: &Shape,
    stride: [usize; 2],
    pad: [usize; 2],
) -> Result<Shape, ShapeError> {
    let (xs, ws) = (&x.0, &w.0);
    let fixed: Option<Vec<usize>> = ws
        .iter()
        .map(|d| match d {
            Dim::K(k) => Some(*k),
            Dim::N => None,
        })
        .collect();
    let ws = match fixed {
        Some(ws) if xs.len() == 4 && ws.len() == 4 && xs[1] == Dim::K(ws[1]) => ws,
        _ => return fail(format!("cannot convolve {x} by weights {w}")),
    };
    Ok(Shape(vec![
        xs[0],
        Dim::K(ws[0]),
        window_out(xs[2], ws[2], stride[0], pad[0])?,
        window_out(xs[3], ws[3], stride[1], pad[1])?,
    ]))
}

fn pool_out(
    x: &Shape,
    window: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Result<Shape, ShapeError> {
    let xs = &x.0;
    if xs.len() != 4 {
        return fail(format!("cannot pool {x}: it is not NCHW"));
    }
    Ok(Shape(vec![
        xs[0],
        xs[1],
        window_out(xs[2], window[0], stride[0], pad[0])?,
        window_out(xs[3], window[1], stride[1], pad[1])?,
    ]))
}

fn concat(parts: &[&Shape], axis: usize) -> Result<Shape, ShapeError> {
    let Some(first) = parts.first() else {
        return fail("joins nothing");
    };
    if axis >= first.rank() {
        return fail(format!("axis {axis} is out of range for {first}"));
    }
    let mut total = 0;
    for sx in parts {
        let fits =
            sx.rank() == first.rank() && (0..sx.rank()).all(|a| a == axis || sx.0[a] == first.0[a]);
        if !fits {
            return fail(format!("cannot join {first} and {sx} along axis {axis}"));
        }
        total += match sx.0[axis] {
            Dim::K(k) => k,
            Dim::N => return fail("cannot join along the batch axis"),
        };
    }
    let mut out = (*first).clone();
    out.0[axis] = Dim::K(total);
    Ok(out)
}

fn slice(x: &Shape, to: &Shape, axis: usize, start: usize) -> Result<Shape, ShapeError> {
    let fits = axis < x.rank()
        && to.rank() == x.rank()
        && (0..x.rank()).all(|a| a == axis || x.0[a] == to.0[a]);
    if !fits {
        return fail(format!("{to} is not a slice of {x} along axis {axis}"));
    }
    match (x.0[axis], to.0[axis]) {
        (Dim::K(full), Dim::K(len)) if start + len <= full => Ok(to.clone()),
        (Dim::K(full), Dim::K(len)) => fail(format!(
            "{start}..{} is out of range for {full}",
            start + len
        )),
        _ => fail("cannot slice along the batch axis"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{PoolKind, UnaryOp, ValueId};

    const NONE: Tables = Tables {
        params: &[],
        states: &[],
    };
    const V: ValueId = ValueId(0);

    fn rule(op: Op, operands: &[Shape], declared: Option<Shape>) -> Result<Shape, ShapeError> {
        let refs: Vec<&Shape> = operands.iter().collect();
        result_shape(&op, &refs, declared.as_ref(), NONE)
    }

    #[test]
    fn a_strided_convolution_needs_its_input_size_declared() {
        // 5 and 6 both give 2 outputs for window 3, stride 2: dy cannot say which.
        let op = Op::Conv2dInputGrad {
            dy: V,
            w: V,
            stride: [2, 2],
            pad: [0, 0],
        };
        let (dy, w) = (Shape::batched(&[4, 2, 2]), Shape::fixed(&[4, 3, 3, 3]));
        for h in [5, 6] {
            let x = Shape::batched(&[3, h, h]);
            assert_eq!(
                rule(op.clone(), &[dy.clone(), w.clone()], Some(x.clone())),
                Ok(x)
            );
        }
        let x = Shape::batched(&[3, 7, 7]);
        assert!(rule(op.clone(), &[dy.clone(), w.clone()], Some(x)).is_err());
        assert!(rule(op, &[dy, w], None).is_err());
    }

    #[test]
    fn convolution_channels_must_match() {
        let op = Op::Conv2d {
            x: V,
            w: V,
            stride: [1, 1],
            pad: [0, 0],
        };
        let x = Shape::batched(&[3, 5, 5]);
        let ok = rule(op.clone(), &[x.clone(), Shape::fixed(&[4, 3, 3, 3])], None);
        assert_eq!(ok, Ok(Shape::batched(&[4, 3, 3])));
        assert!(rule(op, &[x, Shape::fixed(&[4, 2, 3, 3])], None).is_err());
    }

    #[test]
    fn a_pool_window_larger_than_its_input_is_refused() {
        let op = Op::Pool2d {
            kind: PoolKind::Max,
            x: V,
            window: [4, 4],
            stride: [1, 1],
            pad: [0, 0],
        };
        assert!(rule(op, &[Shape::batched(&[1, 3, 3])], None).is_err());
    }

    #[test]
    fn a_slice_keeps_the_other_axes_and_stays_in_range() {
        let op = Op::Slice {
            x: V,
            axis: 1,
            start: 2,
        };
        let x = [Shape::batched(&[5])];
        let ok = rule(op.clone(), &x, Some(Shape::batched(&[3])));
        assert_eq!(ok, Ok(Shape::batched(&[3])));
        assert!(rule(op.clone(), &x, Some(Shape::batched(&[4]))).is_err());
        assert!(rule(op, &x, Some(Shape::fixed(&[2, 3]))).is_err());
    }

    #[test]
    fn a_sum_across_ranks_is_of_an_unbatched_value() {
        let fixed = [Shape::fixed(&[1, 4])];
        assert_eq!(rule(Op::CrossSum(V), &fixed, None), Ok(Shape::fixed(&[1, 4])));
        let batched = rule(Op::CrossSum(V), &[Shape::batched(&[4])], None);
        assert!(batched.unwrap_err().0.contains("differs in size between ranks"));
    }

    #[test]
    fn the_operand_count_is_checked() {
        let r = rule(Op::Unary(UnaryOp::Exp, V), &[], None);
        assert!(r.unwrap_err().0.contains("operands"));
    }

    #[test]
    fn declared_shapes_keep_the_batch_first() {
        let bad = Shape(vec![Dim::K(2), Dim::N]);
        assert!(rule(Op::Fill(0.0), &[], Some(bad)).is_err());
        assert_eq!(
            rule(Op::Fill(0.0), &[], Some(Shape::scalar())),
            Ok(Shape::scalar())
        );
    }
}
