//! The graph: an arena of nodes in topological order, the tensors it reads
//! and writes (parameters, state, inputs), and its results (sinks).
//!
//! Builder methods give each node the shape its op's rule derives
//! ([`super::rules`]). Misuse by the compiler itself (an operand that does not
//! fit) panics with the op and shapes named, since it is a bug in dlc, not in
//! the user's program; the verifier applies the same rules to every stored
//! shape between passes, so a pass that edits nodes directly is caught too.

use super::ops::*;
use super::print::op_text;
use super::rules::{ShapeError, Tables, result_shape};
use super::shape::{Dim, Shape};
use crate::ir::Init;
use crate::syntax::Span;

/// Where a node came from in the program, so later errors can name the layer.
/// Which graph lowering builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics, active dropout, running-statistics updates.
    Train,
    /// Running statistics, no dropout.
    Eval,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    pub layer: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    pub shape: Shape,
    pub origin: Option<Origin>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    /// `layer.tensor`, e.g. `dense1.weight`.
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
    /// Whether L1/L2 regularisation and weight decay apply.
    pub decay: bool,
}

impl ParamInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inputs and outputs per unit, as the initialisers count them (PyTorch's rule).
    pub fn fans(&self) -> (usize, usize) {
        match self.shape.as_slice() {
            [out, inp] => (*inp, *out),
            [out, inp, rest @ ..] => {
                let field: usize = rest.iter().product();
                (inp * field, out * field)
            }
            [n] => (*n, *n),
            _ => (1, 1),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKind {
    /// Batch norm's running mean or variance: part of the model.
    Running,
    /// Optimizer moments: part of the training run.
    Optimizer,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StateInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: f32,
    pub kind: StateKind,
}

/// A result of the graph and where the runtime finds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Sink {
    /// The mean loss of the batch (rank 0).
    Loss(ValueId),
    /// The network's output for the batch.
    Output(ValueId),
    /// The gradient of the loss with respect to a parameter.
    Grad(ParamId, ValueId),
    /// A parameter's new value after the update.
    Param(ParamId, ValueId),
    /// A state tensor's new value.
    State(StateId, ValueId),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub params: Vec<ParamInfo>,
    pub states: Vec<StateInfo>,
    pub sinks: Vec<Sink>,
    /// Origin given to the nodes being built (set per layer by lowering).
    pub origin: Option<Origin>,
}

impl Graph {
    pub fn node(&self, v: ValueId) -> &Node {
        &self.nodes[v.index()]
    }

    pub fn shape(&self, v: ValueId) -> &Shape {
        &self.nodes[v.index()].shape
    }

    /// Appends a node with a stated shape (the ops whose shape is an
    /// attribute need one, see [`result_shape`](super::result_shape)); the
    /// op's shape rule must agree with it.
    pub fn push(&mut self, op: Op, shape: Shape) -> ValueId {
        let ruled = self.ruled(&op, Some(&shape));
        assert!(
            ruled == shape,
            "{}: the shape rule gives {ruled}, the node was given {shape}",
            op_text(&op)
        );
        self.append(op, shape)
    }

    /// Appends a node with the shape its rule derives from its operands.
    fn build(&mut self, op: Op) -> ValueId {
        let shape = self.ruled(&op, None);
        self.append(op, shape)
    }

    /// The shape `op` has by its rule, as [`rules::result_shape`](super::rules::result_shape)
    /// gives it for this graph's values (which must exist).
    pub fn rule_shape(&self, op: &Op, declared: Option<&Shape>) -> Result<Shape, ShapeError> {
        let operands: Vec<&Shape> = op.operands().iter().map(|&v| self.shape(v)).collect();
        let tables = Tables {
            params: &self.params,
            states: &self.states,
        };
        result_shape(op, &operands, declared, tables)
    }

    /// The rule's shape, or a panic naming the op and its operands' shapes:
    /// a builder misused is a bug in dlc, not in the user's program.
    fn ruled(&self, op: &Op, declared: Option<&Shape>) -> Shape {
        self.rule_shape(op, declared).unwrap_or_else(|e| {
            let shapes: Vec<String> = op
                .operands()
                .iter()
                .map(|&v| format!("{v} {}", self.shape(v)))
                .collect();
            panic!("{} on [{}]: {e}", op_text(op), shapes.join(", "))
        })
    }

    fn append(&mut self, op: Op, shape: Shape) -> ValueId {
        let id = ValueId(u32::try_from(self.nodes.len()).expect("graph larger than 2^32 nodes"));
        self.nodes.push(Node {
            op,
            shape,
            origin: self.origin.clone(),
        });
        id
    }

    pub fn input(&mut self, kind: InputKind, shape: Shape) -> ValueId {
        self.push(Op::Input(kind), shape)
    }

    pub fn add_param(&mut self, info: ParamInfo) -> ValueId {
        self.params.push(info);
        self.build(Op::Param(ParamId(self.params.len() - 1)))
    }

    pub fn add_state(&mut self, info: StateInfo) -> (StateId, ValueId) {
        self.states.push(info);
        let id = StateId(self.states.len() - 1);
        (id, self.build(Op::State(id)))
    }

    /// The node reading a parameter, made once per parameter and reused.
    pub fn param_value(&mut self, p: ParamId) -> ValueId {
        match self.nodes.iter().position(|n| n.op == Op::Param(p)) {
            Some(i) => ValueId(i as u32),
            None => self.build(Op::Param(p)),
        }
    }

    pub fn scalar(&mut self, kind: ScalarKind) -> ValueId {
        self.build(Op::Scalar(kind))
    }

    pub fn constant(&mut self, value: f32) -> ValueId {
        self.push(Op::Fill(value), Shape::scalar())
    }

    pub fn unary(&mut self, op: UnaryOp, x: ValueId) -> ValueId {
        self.build(Op::Unary(op, x))
    }

    pub fn binary(&mut self, op: BinaryOp, a: ValueId, b: ValueId) -> ValueId {
        self.build(Op::Binary(op, a, b))
    }

    pub fn add(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinaryOp::Add, a, b)
    }

    pub fn sub(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinaryOp::Sub, a, b)
    }

    pub fn mul(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinaryOp::Mul, a, b)
    }

    pub fn div(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinaryOp::Div, a, b)
    }

    /// `x * c` for a constant `c`.
    pub fn scale(&mut self, x: ValueId, c: f32) -> ValueId {
        let k = self.constant(c);
        self.mul(x, k)
    }

    pub fn select(&mut self, cond: ValueId, a: ValueId, b: ValueId) -> ValueId {
        self.build(Op::Select(cond, a, b))
    }

    pub fn reshape(&mut self, x: ValueId, shape: Shape) -> ValueId {
        if *self.shape(x) == shape {
            return x;
        }
        self.push(Op::Reshape(x), shape)
    }

    pub fn expand(&mut self, x: ValueId, shape: Shape) -> ValueId {
        if *self.shape(x) == shape {
            return x;
        }
        self.push(Op::Expand(x), shape)
    }

    pub fn sum(&mut self, x: ValueId, axes: &[usize]) -> ValueId {
        if axes.is_empty() {
            return x;
        }
        self.build(Op::Sum(x, axes.to_vec()))
    }

    /// Sums `x` down to `shape` (the inverse of broadcasting), then drops
    /// the rank if `shape` is a scalar.
    pub fn sum_to(&mut self, x: ValueId, shape: &Shape) -> ValueId {
        if self.shape(x) == shape {
            return x;
        }
        let axes = shape.broadcast_axes(self.shape(x));
        let s = self.sum(x, &axes);
        self.reshape(s, shape.clone())
    }

    pub fn max(&mut self, x: ValueId, axes: &[usize]) -> ValueId {
        self.build(Op::Max(x, axes.to_vec()))
    }

    pub fn matmul(&mut self, a: ValueId, b: ValueId, ta: bool, tb: bool) -> ValueId {
        self.build(Op::MatMul { a, b, ta, tb })
    }

    pub fn conv2d(
        &mut self,
        x: ValueId,
        w: ValueId,
        stride: [usize; 2],
        pad: [usize; 2],
    ) -> ValueId {
        self.build(Op::Conv2d { x, w, stride, pad })
    }

    pub fn pool2d(
        &mut self,
        kind: PoolKind,
        x: ValueId,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
    ) -> ValueId {
        self.build(Op::Pool2d {
            kind,
            x,
            window,
            stride,
            pad,
        })
    }

    pub fn concat(&mut self, xs: &[ValueId], axis: usize) -> ValueId {
        self.build(Op::Concat(xs.to_vec(), axis))
    }

    pub fn slice(&mut self, x: ValueId, axis: usize, start: usize, len: usize) -> ValueId {
        let mut shape = self.shape(x).clone();
        if let Some(d) = shape.0.get_mut(axis) {
            *d = Dim::K(len);
        }
        self.push(Op::Slice { x, axis, start }, shape)
    }

    pub fn one_hot(&mut self, labels: ValueId, classes: usize) -> ValueId {
        let rows = self.shape(labels).0.first().copied().unwrap_or(Dim::N);
        self.push(Op::OneHot(labels), Shape(vec![rows, Dim::K(classes)]))
    }

    pub fn detach(&mut self, x: ValueId) -> ValueId {
        self.build(Op::Detach(x))
    }

    /// Mean over `axes`, keeping them as size 1; `count` is the number of
    /// elements averaged, which involves the batch size when `axes` has 0.
    /// The sum of `x` (unbatched) over the ranks training together.
    pub fn cross_sum(&mut self, x: ValueId) -> ValueId {
        self.build(Op::CrossSum(x))
    }

    /// The mean over `axes`. Over the batch, it is the whole batch's when
    /// the batch is split over ranks: their sums are summed (`CrossSum`)
    /// and divided by the whole batch's size.
    pub fn mean(&mut self, x: ValueId, axes: &[usize]) -> ValueId {
        let s = self.sum(x, axes);
        let shape = self.shape(x).clone();
        let fixed: usize = axes
            .iter()
            .map(|&a| if let Dim::K(k) = shape.0[a] { k } else { 1 })
            .product();
        let over_batch = axes.iter().any(|&a| shape.0[a] == Dim::N);
        let s = if over_batch && !self.shape(s).is_batched() {
            self.cross_sum(s)
        } else {
            s
        };
        let scaled = self.scale(s, 1.0 / fixed as f32);
        if over_batch {
            let n = self.scalar(ScalarKind::BatchSize);
            self.div(scaled, n)
        } else {
            scaled
        }
    }

    /// The number of nodes each value is read by (sinks count as readers).
    pub fn use_counts(&self) -> Vec<usize> {
        let mut uses = vec![0; self.nodes.len()];
        for n in &self.nodes {
            for o in n.op.operands() {
                uses[o.index()] += 1;
            }
        }
        for s in &self.sinks {
            uses[sink_value(s).index()] += 1;
        }
        uses
    }
}

pub fn sink_value(s: &Sink) -> ValueId {
    match s {
        Sink::Loss(v)
        | Sink::Output(v)
        | Sink::Grad(_, v)
        | Sink::Param(_, v)
        | Sink::State(_, v) => *v,
    }
}

// Parameters and states are indexed by their own id types.
impl std::ops::Index<ParamId> for Vec<ParamInfo> {
    type Output = ParamInfo;
    fn index(&self, p: ParamId) -> &ParamInfo {
        &self[p.0]
    }
}

impl std::ops::IndexMut<ParamId> for Vec<ParamInfo> {
    fn index_mut(&mut self, p: ParamId) -> &mut ParamInfo {
        &mut self[p.0]
    }
}

impl std::ops::Index<StateId> for Vec<StateInfo> {
    type Output = StateInfo;
    fn index(&self, s: StateId) -> &StateInfo {
        &self[s.0]
    }
}
