//! The verifier: re-derives every node's shape from its op and operands and
//! checks the graph's invariants. It runs after lowering and after every pass,
//! so a pass that breaks the graph is caught where it broke it.

use super::graph::{Graph, Sink, sink_value};
use super::ops::*;
use super::shape::{Dim, Shape};

#[derive(Debug, thiserror::Error)]
#[error("IR verifier: node %{node}: {message}")]
pub struct VerifyError {
    pub node: usize,
    pub message: String,
}

pub fn verify(g: &Graph) -> Result<(), VerifyError> {
    for (i, node) in g.nodes.iter().enumerate() {
        let fail = |message: String| VerifyError { node: i, message };
        for o in node.op.operands() {
            if o.index() >= i {
                return Err(fail(format!("reads {o}, which is not defined before it")));
            }
        }
        check_node(g, i).map_err(fail)?;
    }
    for s in &g.sinks {
        let v = sink_value(s);
        let err = |message: String| VerifyError {
            node: v.index(),
            message,
        };
        if v.index() >= g.nodes.len() {
            return Err(err("a sink names a missing node".into()));
        }
        let shape = g.shape(v);
        match s {
            Sink::Loss(_) if shape.rank() != 0 => {
                return Err(err(format!("the loss must be a scalar, not {shape}")));
            }
            Sink::Grad(p, _) | Sink::Param(p, _) if *shape != Shape::fixed(&g.params[*p].shape) => {
                return Err(err(format!(
                    "parameter {} has shape {:?}, its sink {shape}",
                    g.params[*p].name, g.params[*p].shape
                )));
            }
            Sink::State(st, _) if *shape != Shape::fixed(&g.states[*st].shape) => {
                return Err(err(format!(
                    "state {} has shape {:?}, its sink {shape}",
                    g.states[*st].name, g.states[*st].shape
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_node(g: &Graph, i: usize) -> Result<(), String> {
    let node = &g.nodes[i];
    let shape = &node.shape;
    let s = |v: &ValueId| g.shape(*v);
    let expect = |want: Shape| {
        if want == *shape {
            Ok(())
        } else {
            Err(format!(
                "{:?} should have shape {want}, has {shape}",
                node.op
            ))
        }
    };
    match &node.op {
        Op::Input(kind) => {
            let ok = shape.is_batched() && !shape.0[1..].contains(&Dim::N);
            let ok = ok && (*kind != InputKind::Labels || shape.rank() == 1);
            ok.then_some(())
                .ok_or_else(|| format!("input {kind:?} has shape {shape}"))
        }
        Op::Param(p) | Op::GradIn(p) => expect(Shape::fixed(
            &g.params.get(*p).ok_or("unknown parameter")?.shape,
        )),
        Op::State(st) => expect(Shape::fixed(
            &g.states.get(*st).ok_or("unknown state")?.shape,
        )),
        Op::Scalar(_) => expect(Shape::scalar()),
        Op::Fill(_) | Op::DropoutMask { .. } => Ok(()),
        Op::Unary(_, x) | Op::Detach(x) => expect(s(x).clone()),
        Op::Binary(_, a, b) => expect(s(a).broadcast(s(b)).ok_or("operands do not broadcast")?),
        Op::Select(c, a, b) => {
            let ab = s(a).broadcast(s(b)).ok_or("operands do not broadcast")?;
            expect(s(c).broadcast(&ab).ok_or("condition does not broadcast")?)
        }
        Op::Reshape(x) => {
            let (from, to) = (s(x), shape);
            let batched = |sh: &Shape| sh.0.iter().filter(|d| **d == Dim::N).count();
            if batched(from) != batched(to) || from.numel(1) != to.numel(1) {
                return Err(format!("cannot reshape {from} to {to}"));
            }
            Ok(())
        }
        Op::Expand(x) => s(x)
            .broadcasts_to(shape)
            .then_some(())
            .ok_or_else(|| format!("{} does not expand to {shape}", s(x))),
        Op::Sum(x, axes) | Op::Max(x, axes) => {
            if axes.iter().any(|&a| a >= s(x).rank()) {
                return Err("reduction axis out of range".into());
            }
            expect(s(x).reduced(axes))
        }
        Op::MatMul { a, b, ta, tb } => {
            let (sa, sb) = (&s(a).0, &s(b).0);
            if sa.len() != 2 || sb.len() != 2 {
                return Err("matmul of non-matrices".into());
            }
            let (m, k1) = if *ta { (sa[1], sa[0]) } else { (sa[0], sa[1]) };
            let (k2, n) = if *tb { (sb[1], sb[0]) } else { (sb[0], sb[1]) };
            if k1 != k2 {
                return Err(format!("matmul inner sizes {k1} and {k2} differ"));
            }
            expect(Shape(vec![m, n]))
        }
        Op::Conv2d { x, w, stride, pad } => {
            let want = conv_out(s(x), s(w), *stride, *pad)?;
            expect(want)
        }
        Op::Conv2dInputGrad { dy, w, stride, pad } => {
            // The input's shape is the node's: check it maps onto dy.
            let want = conv_out(shape, s(w), *stride, *pad)?;
            (want == *s(dy))
                .then_some(())
                .ok_or_else(|| format!("input grad {shape} does not match dy {}", s(dy)))
        }
        Op::Conv2dWeightGrad { x, dy, stride, pad } => {
            let want = conv_out(s(x), shape, *stride, *pad)?;
            (want == *s(dy))
                .then_some(())
                .ok_or_else(|| format!("weight grad {shape} does not match dy {}", s(dy)))
        }
        Op::Pool2d {
            x,
            window,
            stride,
            pad,
            ..
        } => expect(pool_out(s(x), *window, *stride, *pad)?),
        Op::Pool2dGrad {
            x,
            dy,
            window,
            stride,
            pad,
            ..
        } => {
            if pool_out(s(x), *window, *stride, *pad)? != *s(dy) {
                return Err("pool grad: dy does not match".into());
            }
            expect(s(x).clone())
        }
        Op::Concat(xs, axis) => {
            let mut want = s(&xs[0]).clone();
            let mut total = 0;
            for x in xs {
                let sx = s(x);
                if sx.rank() != want.rank()
                    || (0..sx.rank()).any(|a| a != *axis && sx.0[a] != want.0[a])
                {
                    return Err(format!("concat of {} and {sx}", want));
                }
                total += match sx.0[*axis] {
                    Dim::K(k) => k,
                    Dim::N => return Err("concat along the batch".into()),
                };
            }
            want.0[*axis] = Dim::K(total);
            expect(want)
        }
        Op::Slice { x, axis, start } => {
            let sx = s(x);
            let (Dim::K(full), Dim::K(len)) = (sx.0[*axis], shape.0[*axis]) else {
                return Err("slice along the batch".into());
            };
            (start + len <= full)
                .then_some(())
                .ok_or_else(|| "slice out of range".to_string())
        }
        Op::OneHot(x) => (s(x).rank() == 1 && shape.rank() == 2)
            .then_some(())
            .ok_or_else(|| "one-hot of non-vector".into()),
    }
}

fn conv_out(x: &Shape, w: &Shape, stride: [usize; 2], pad: [usize; 2]) -> Result<Shape, String> {
    let (xs, ws) = (&x.0, w.dims(0));
    if xs.len() != 4 || ws.len() != 4 || xs[1] != Dim::K(ws[1]) {
        return Err(format!("conv of {x} by {w}"));
    }
    let out = |d: Dim, k: usize, s: usize, p: usize| match d {
        Dim::K(h) if h + 2 * p >= k && s > 0 => Ok(Dim::K((h + 2 * p - k) / s + 1)),
        _ => Err(format!("conv window {k} does not fit {d}")),
    };
    Ok(Shape(vec![
        xs[0],
        Dim::K(ws[0]),
        out(xs[2], ws[2], stride[0], pad[0])?,
        out(xs[3], ws[3], stride[1], pad[1])?,
    ]))
}

fn pool_out(
    x: &Shape,
    window: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Result<Shape, String> {
    let xs = &x.0;
    if xs.len() != 4 {
        return Err(format!("pooling of {x}"));
    }
    let out = |d: Dim, i: usize| match d {
        Dim::K(h) if h + 2 * pad[i] >= window[i] && stride[i] > 0 => {
            Ok(Dim::K((h + 2 * pad[i] - window[i]) / stride[i] + 1))
        }
        _ => Err(format!("pool window does not fit {d}")),
    };
    Ok(Shape(vec![xs[0], xs[1], out(xs[2], 0)?, out(xs[3], 1)?]))
}
