//! The graph: an arena of nodes in topological order, the tensors it reads
//! and writes (parameters, state, inputs), and its results (sinks).
//!
//! Builder methods infer each node's shape. Misuse by the compiler itself (an
//! operand that does not fit) panics with the op and shapes named, since it is
//! a bug in dlc, not in the user's program; the verifier re-checks every node
//! independently between passes.

use super::ops::*;
use super::shape::{Dim, Shape};
use crate::check::Init;
use crate::syntax::Span;

/// Where a node came from in the program, so later errors can name the layer.
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

    pub fn push(&mut self, op: Op, shape: Shape) -> ValueId {
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
        let shape = Shape::fixed(&info.shape);
        self.params.push(info);
        self.push(Op::Param(self.params.len() - 1), shape)
    }

    pub fn add_state(&mut self, info: StateInfo) -> (StateId, ValueId) {
        let shape = Shape::fixed(&info.shape);
        self.states.push(info);
        let id = self.states.len() - 1;
        (id, self.push(Op::State(id), shape))
    }

    /// The node reading a parameter, made once per parameter and reused.
    pub fn param_value(&mut self, p: ParamId) -> ValueId {
        match self.nodes.iter().position(|n| n.op == Op::Param(p)) {
            Some(i) => ValueId(i as u32),
            None => self.push(Op::Param(p), Shape::fixed(&self.params[p].shape)),
        }
    }

    pub fn scalar(&mut self, kind: ScalarKind) -> ValueId {
        self.push(Op::Scalar(kind), Shape::scalar())
    }

    pub fn constant(&mut self, value: f32) -> ValueId {
        self.push(Op::Fill(value), Shape::scalar())
    }

    pub fn unary(&mut self, op: UnaryOp, x: ValueId) -> ValueId {
        let shape = self.shape(x).clone();
        self.push(Op::Unary(op, x), shape)
    }

    pub fn binary(&mut self, op: BinaryOp, a: ValueId, b: ValueId) -> ValueId {
        let shape = self.shape(a).broadcast(self.shape(b)).unwrap_or_else(|| {
            panic!(
                "{op:?}: shapes {} and {} do not broadcast",
                self.shape(a),
                self.shape(b)
            )
        });
        self.push(Op::Binary(op, a, b), shape)
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
        let ab = self
            .shape(a)
            .broadcast(self.shape(b))
            .expect("select: operands do not broadcast");
        let shape = self
            .shape(cond)
            .broadcast(&ab)
            .expect("select: condition does not broadcast");
        self.push(Op::Select(cond, a, b), shape)
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
        assert!(
            self.shape(x).broadcasts_to(&shape),
            "expand: {} does not broadcast to {shape}",
            self.shape(x)
        );
        self.push(Op::Expand(x), shape)
    }

    pub fn sum(&mut self, x: ValueId, axes: &[usize]) -> ValueId {
        if axes.is_empty() {
            return x;
        }
        let shape = self.shape(x).reduced(axes);
        self.push(Op::Sum(x, axes.to_vec()), shape)
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
        let shape = self.shape(x).reduced(axes);
        self.push(Op::Max(x, axes.to_vec()), shape)
    }

    pub fn matmul(&mut self, a: ValueId, b: ValueId, ta: bool, tb: bool) -> ValueId {
        let (sa, sb) = (self.shape(a).0.clone(), self.shape(b).0.clone());
        assert!(
            sa.len() == 2 && sb.len() == 2,
            "matmul: operands must be matrices, got {:?} and {:?}",
            sa,
            sb
        );
        let (m, k1) = if ta { (sa[1], sa[0]) } else { (sa[0], sa[1]) };
        let (k2, n) = if tb { (sb[1], sb[0]) } else { (sb[0], sb[1]) };
        assert_eq!(k1, k2, "matmul: inner sizes differ");
        self.push(Op::MatMul { a, b, ta, tb }, Shape(vec![m, n]))
    }

    pub fn conv2d(
        &mut self,
        x: ValueId,
        w: ValueId,
        stride: [usize; 2],
        pad: [usize; 2],
    ) -> ValueId {
        let (xs, ws) = (self.shape(x).0.clone(), self.shape(w).dims(0));
        let out = |size: Dim, k: usize, s: usize, p: usize| match size {
            Dim::K(h) => Dim::K((h + 2 * p - k) / s + 1),
            Dim::N => unreachable!("spatial sizes are fixed"),
        };
        let shape = Shape(vec![
            xs[0],
            Dim::K(ws[0]),
            out(xs[2], ws[2], stride[0], pad[0]),
            out(xs[3], ws[3], stride[1], pad[1]),
        ]);
        self.push(Op::Conv2d { x, w, stride, pad }, shape)
    }

    pub fn pool2d(
        &mut self,
        kind: PoolKind,
        x: ValueId,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
    ) -> ValueId {
        let xs = self.shape(x).0.clone();
        let out = |size: Dim, i: usize| match size {
            Dim::K(h) => Dim::K((h + 2 * pad[i] - window[i]) / stride[i] + 1),
            Dim::N => unreachable!("spatial sizes are fixed"),
        };
        let shape = Shape(vec![xs[0], xs[1], out(xs[2], 0), out(xs[3], 1)]);
        self.push(
            Op::Pool2d {
                kind,
                x,
                window,
                stride,
                pad,
            },
            shape,
        )
    }

    pub fn concat(&mut self, xs: &[ValueId], axis: usize) -> ValueId {
        let mut shape = self.shape(xs[0]).clone();
        let total: usize = xs
            .iter()
            .map(|&x| match self.shape(x).0[axis] {
                Dim::K(k) => k,
                Dim::N => panic!("concat: cannot join along the batch axis"),
            })
            .sum();
        shape.0[axis] = Dim::K(total);
        self.push(Op::Concat(xs.to_vec(), axis), shape)
    }

    pub fn slice(&mut self, x: ValueId, axis: usize, start: usize, len: usize) -> ValueId {
        let mut shape = self.shape(x).clone();
        shape.0[axis] = Dim::K(len);
        self.push(Op::Slice { x, axis, start }, shape)
    }

    pub fn one_hot(&mut self, labels: ValueId, classes: usize) -> ValueId {
        self.push(Op::OneHot(labels), Shape(vec![Dim::N, Dim::K(classes)]))
    }

    pub fn detach(&mut self, x: ValueId) -> ValueId {
        let shape = self.shape(x).clone();
        self.push(Op::Detach(x), shape)
    }

    /// Mean over `axes`, keeping them as size 1; `count` is the number of
    /// elements averaged, which involves the batch size when `axes` has 0.
    pub fn mean(&mut self, x: ValueId, axes: &[usize]) -> ValueId {
        let s = self.sum(x, axes);
        let shape = self.shape(x).clone();
        let fixed: usize = axes
            .iter()
            .map(|&a| if let Dim::K(k) = shape.0[a] { k } else { 1 })
            .product();
        let over_batch = axes.iter().any(|&a| shape.0[a] == Dim::N);
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
