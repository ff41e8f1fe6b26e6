//! What each kernel reads and writes, as located regions: the view of a
//! kernel the plan verifier needs, kept beside the kernels so that a new
//! kernel kind must say what it touches (the matches are exhaustive).

use super::*;

impl Kernel {
    /// The buffers the kernel reads, in a fixed order: a body's inputs, else
    /// the operands in the order of the op they came from.
    pub fn reads(&self) -> Vec<&Buf> {
        match self {
            Kernel::Elementwise { body, .. } | Kernel::Reduce { body, .. } => {
                body.inputs.iter().collect()
            }
            Kernel::MatMul { a, b, .. } => vec![a, b],
            Kernel::Conv2d { x, w, .. } => vec![x, w],
            Kernel::Conv2dInputGrad { dy, w, .. } => vec![dy, w],
            Kernel::Conv2dWeightGrad { x, dy, .. } | Kernel::Pool2dGrad { x, dy, .. } => {
                vec![x, dy]
            }
            Kernel::Pool2d { x, .. } | Kernel::Slice { x, .. } | Kernel::CrossSum { x, .. } => {
                vec![x]
            }
            Kernel::Concat { inputs, .. } => inputs.iter().collect(),
            Kernel::Copy { from, .. } => vec![from],
        }
    }

    /// The places the kernel writes, with the shape written at each.
    pub fn writes(&self) -> Vec<(Loc, Shape)> {
        match self {
            Kernel::Elementwise { body, outputs } => outputs
                .iter()
                .map(|(_, loc)| (*loc, body.shape.clone()))
                .collect(),
            Kernel::Reduce {
                body, axes, out, ..
            } => vec![(*out, body.shape.reduced(axes))],
            Kernel::MatMul { out, .. }
            | Kernel::Conv2d { out, .. }
            | Kernel::Conv2dInputGrad { out, .. }
            | Kernel::Conv2dWeightGrad { out, .. }
            | Kernel::Pool2d { out, .. }
            | Kernel::Pool2dGrad { out, .. }
            | Kernel::Concat { out, .. }
            | Kernel::Slice { out, .. }
            | Kernel::CrossSum { out, .. } => vec![(out.loc, out.shape.clone())],
            Kernel::Copy { from, to } => vec![(*to, from.shape.clone())],
        }
    }

    /// The kernel's kind, as its printed form starts.
    pub fn kind(&self) -> &'static str {
        match self {
            Kernel::Elementwise { .. } => "elementwise",
            Kernel::Reduce { max: true, .. } => "max",
            Kernel::Reduce { max: false, .. } => "sum",
            Kernel::MatMul { .. } => "matmul",
            Kernel::Conv2d { .. } => "conv2d",
            Kernel::Conv2dInputGrad { .. } => "conv2d_input_grad",
            Kernel::Conv2dWeightGrad { .. } => "conv2d_weight_grad",
            Kernel::Pool2d { .. } => "pool",
            Kernel::Pool2dGrad { .. } => "pool_grad",
            Kernel::Concat { .. } => "concat",
            Kernel::Slice { .. } => "slice",
            Kernel::Copy { .. } => "copy",
            Kernel::CrossSum { .. } => "cross_sum",
        }
    }
}
