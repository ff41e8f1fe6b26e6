//! The primitive operations of the graph IR.
//!
//! Layers are built from these; each has one gradient rule (autodiff), one
//! reference implementation (interp) and one code generator (codegen). The set
//! is small on purpose, with three exceptions kept whole for speed: matrix
//! products, convolutions and pooling (with their gradients), which a
//! compiler should hand to tuned kernels rather than rediscover in loops.

pub use super::scalars::ScalarKind;
use std::fmt;

/// Index of a node (and of the value it produces) in a [`super::Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

impl ValueId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Index of a trainable parameter in [`super::Graph::params`] (and of its
/// gradient): a type of its own, so that it cannot be mixed up with a state
/// index, a node index or a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub usize);

/// Index of a state tensor (running statistics, optimizer moments) in
/// [`super::Graph::states`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub usize);

impl ParamId {
    pub fn index(self) -> usize {
        self.0
    }
}

impl StateId {
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for ParamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for StateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A batch of data fed by the runtime.
    Input(InputKind),
    /// A trainable parameter (read from the parameter buffer).
    Param(ParamId),
    /// Persistent state: running statistics, optimizer moments.
    State(StateId),
    /// A parameter's gradient, read from the gradient buffer (in a
    /// separately compiled update step).
    GradIn(ParamId),
    /// A per-call number set by the runtime (learning rate, batch size, ...).
    Scalar(ScalarKind),
    /// A tensor filled with one value (rank 0 for a plain constant).
    Fill(f32),
    Unary(UnaryOp, ValueId),
    Binary(BinaryOp, ValueId, ValueId),
    /// `cond != 0 ? a : b`, elementwise with broadcasting.
    Select(ValueId, ValueId, ValueId),
    /// The same elements in another shape (row-major order is kept).
    Reshape(ValueId),
    /// Broadcast to the node's shape along size-1 axes.
    Expand(ValueId),
    /// Sum over axes, keeping them as size 1.
    Sum(ValueId, Vec<usize>),
    /// Maximum over axes, keeping them as size 1.
    Max(ValueId, Vec<usize>),
    /// `op(a) x op(b)` on matrices, `op` transposing when its flag is set.
    MatMul {
        a: ValueId,
        b: ValueId,
        ta: bool,
        tb: bool,
    },
    /// NCHW convolution of `x` by weights `[F, C, kh, kw]` (no bias).
    Conv2d {
        x: ValueId,
        w: ValueId,
        stride: [usize; 2],
        pad: [usize; 2],
    },
    /// Gradient of [`Op::Conv2d`] with respect to its input (shape: the input's).
    Conv2dInputGrad {
        dy: ValueId,
        w: ValueId,
        stride: [usize; 2],
        pad: [usize; 2],
    },
    /// Gradient of [`Op::Conv2d`] with respect to its weights (shape: the weights').
    Conv2dWeightGrad {
        x: ValueId,
        dy: ValueId,
        stride: [usize; 2],
        pad: [usize; 2],
    },
    Pool2d {
        kind: PoolKind,
        x: ValueId,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
    },
    /// Gradient of [`Op::Pool2d`]: `dy` routed back to the input positions.
    Pool2dGrad {
        kind: PoolKind,
        x: ValueId,
        dy: ValueId,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
    },
    Concat(Vec<ValueId>, usize),
    /// A range `start..start + len` of one axis (len from the node's shape).
    Slice {
        x: ValueId,
        axis: usize,
        start: usize,
    },
    /// Class indices `[N]` (as f32) to rows of a `[N, C]` identity.
    OneHot(ValueId),
    /// Inverted dropout mask: `1 / (1 - rate)` with probability `1 - rate`,
    /// else 0, drawn from a counter-based generator keyed by the run's seed,
    /// the step and `salt` (one per dropout layer).
    DropoutMask {
        rate: f32,
        salt: u64,
    },
    /// Identity whose gradient is zero (e.g. the max subtracted in softmax).
    Detach(ValueId),
    /// The sum of an unbatched value over the ranks that train together
    /// (see `crate::distributed`); the value itself for one process. Batch
    /// means (batch norm's statistics) sum their per-rank sums with it, so
    /// that they are the whole batch's.
    CrossSum(ValueId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// Samples, `[N, ...sample shape]`.
    Features,
    /// Class indices as f32, `[N]`.
    Labels,
    /// Regression targets, `[N, T]`.
    Targets,
    /// The loss's weight of each class, `[C]`: the same for every batch
    /// of a run, fed by the runtime (counted from the training data for
    /// `class_weights balanced`, so it cannot be a constant of the graph).
    ClassWeights,
}

impl InputKind {
    /// Every kind (the parser finds printed names in this list).
    pub const ALL: [InputKind; 4] = [
        InputKind::Features,
        InputKind::Labels,
        InputKind::Targets,
        InputKind::ClassWeights,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Exp,
    /// Natural logarithm.
    Log,
    Tanh,
    Sigmoid,
    Relu,
    /// 1 where x > 0, else 0 (the derivative of relu).
    Step,
    Sqrt,
    /// 1 / sqrt(x)
    Rsqrt,
    /// 1 / x
    Recip,
    Abs,
    /// -1, 0 or 1.
    Sign,
    Square,
    /// The error function, `2/sqrt(pi) * integral of e^(-t^2) from 0 to x`.
    Erf,
}

impl UnaryOp {
    /// Every op (the parser finds printed names in this list).
    pub const ALL: [UnaryOp; 14] = [
        UnaryOp::Neg,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Tanh,
        UnaryOp::Sigmoid,
        UnaryOp::Relu,
        UnaryOp::Step,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Recip,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Square,
        UnaryOp::Erf,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    /// 1 where a > b, else 0.
    Gt,
    /// 1 where a == b, else 0.
    Eq,
}

impl BinaryOp {
    /// Every op (the parser finds printed names in this list).
    pub const ALL: [BinaryOp; 8] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Gt,
        BinaryOp::Eq,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolKind {
    Max,
    Avg,
}

impl Op {
    /// The values this op reads.
    pub fn operands(&self) -> Vec<ValueId> {
        match self {
            Op::Input(_)
            | Op::Param(_)
            | Op::State(_)
            | Op::GradIn(_)
            | Op::Scalar(_)
            | Op::Fill(_)
            | Op::DropoutMask { .. } => vec![],
            Op::Unary(_, x)
            | Op::Reshape(x)
            | Op::Expand(x)
            | Op::Sum(x, _)
            | Op::Max(x, _)
            | Op::Slice { x, .. }
            | Op::OneHot(x)
            | Op::Detach(x)
            | Op::CrossSum(x)
            | Op::Pool2d { x, .. } => vec![*x],
            Op::Binary(_, a, b) | Op::MatMul { a, b, .. } => vec![*a, *b],
            Op::Select(c, a, b) => vec![*c, *a, *b],
            Op::Conv2d { x, w, .. } => vec![*x, *w],
            Op::Conv2dInputGrad { dy, w, .. } => vec![*dy, *w],
            Op::Conv2dWeightGrad { x, dy, .. } | Op::Pool2dGrad { x, dy, .. } => vec![*x, *dy],
            Op::Concat(xs, _) => xs.clone(),
        }
    }

    /// Whether each output element depends only on the same element of its
    /// (broadcast) operands: such ops fuse into one loop.
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Unary(..)
                | Op::Binary(..)
                | Op::Select(..)
                | Op::Expand(_)
                | Op::Detach(_)
                | Op::Fill(_)
        )
    }
}
