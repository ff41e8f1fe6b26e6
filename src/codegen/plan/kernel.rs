//! One kernel per materialized value: the op's operands as located buffers,
//! with the values those buffers hold (for the plan verifier).

use super::planner::Planner;
use super::*;

impl Planner<'_> {
    pub(super) fn kernel(&self, i: usize) -> Result<(Kernel, KernelValues), PlanError> {
        let node = &self.g.nodes[i];
        // Buffers other than bodies' are the op's operands, in order.
        let mut reads: Vec<usize> = node
            .op
            .operands()
            .iter()
            .map(|v| self.view_source(v.index()))
            .collect();
        let out = self.loc(i)?;
        let outb = Buf {
            loc: out,
            shape: node.shape.clone(),
        };
        let (stride, pad) = match &node.op {
            Op::Conv2d { stride, pad, .. }
            | Op::Conv2dInputGrad { stride, pad, .. }
            | Op::Conv2dWeightGrad { stride, pad, .. }
            | Op::Pool2d { stride, pad, .. }
            | Op::Pool2dGrad { stride, pad, .. } => (*stride, *pad),
            _ => ([1, 1], [0, 0]),
        };
        let kernel = match &node.op {
            Op::Sum(x, axes) | Op::Max(x, axes) => {
                // A materialized input is loaded, not recomputed.
                let as_root = !self.materialized[x.index()];
                let (body, values) = self.body(self.g.shape(*x).clone(), x.index(), as_root)?;
                reads = values;
                Kernel::Reduce {
                    body,
                    max: matches!(node.op, Op::Max(..)),
                    axes: axes.clone(),
                    out,
                }
            }
            Op::MatMul { a, b, ta, tb } => Kernel::MatMul {
                a: self.buf(*a)?,
                b: self.buf(*b)?,
                ta: *ta,
                tb: *tb,
                out: outb,
            },
            Op::Conv2d { x, w, .. } => Kernel::Conv2d {
                x: self.buf(*x)?,
                w: self.buf(*w)?,
                stride,
                pad,
                out: outb,
            },
            Op::Conv2dInputGrad { dy, w, .. } => Kernel::Conv2dInputGrad {
                dy: self.buf(*dy)?,
                w: self.buf(*w)?,
                stride,
                pad,
                out: outb,
            },
            Op::Conv2dWeightGrad { x, dy, .. } => Kernel::Conv2dWeightGrad {
                x: self.buf(*x)?,
                dy: self.buf(*dy)?,
                stride,
                pad,
                out: outb,
            },
            Op::Pool2d {
                kind, x, window, ..
            } => Kernel::Pool2d {
                kind: *kind,
                x: self.buf(*x)?,
                window: *window,
                stride,
                pad,
                out: outb,
            },
            Op::Pool2dGrad {
                kind,
                x,
                dy,
                window,
                ..
            } => Kernel::Pool2dGrad {
                kind: *kind,
                x: self.buf(*x)?,
                dy: self.buf(*dy)?,
                window: *window,
                stride,
                pad,
                out: outb,
            },
            Op::Concat(xs, axis) => Kernel::Concat {
                inputs: xs.iter().map(|x| self.buf(*x)).collect::<Result<_, _>>()?,
                axis: *axis,
                out: outb,
            },
            Op::CrossSum(x) => Kernel::CrossSum {
                x: self.buf(*x)?,
                out: outb,
            },
            Op::Slice { x, axis, start } => Kernel::Slice {
                x: self.buf(*x)?,
                axis: *axis,
                start: *start,
                out: outb,
            },
            _ => {
                let (body, values) = self.body(node.shape.clone(), i, true)?;
                reads = values;
                let result = body.instrs.len() - 1;
                Kernel::Elementwise {
                    body,
                    outputs: vec![(result, out)],
                }
            }
        };
        let values = KernelValues {
            reads,
            writes: vec![i],
        };
        Ok((kernel, values))
    }
}
