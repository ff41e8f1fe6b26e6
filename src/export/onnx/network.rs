//! The network: the evaluation-mode (`predict`) graph as ONNX operators.
//!
//! The predict graph is what `dlc predict` runs: blocks and branches are
//! inlined, batch norm reads its running statistics, dropout is gone. A
//! layer that is one of ONNX's standard operators (batch, layer and
//! instance norm, softmax, ELU, leaky and parametric ReLU, softplus,
//! hardtanh as `Clip`, dense and convolutional layers with their biases as
//! `Gemm` and `Conv`) is written as that operator, from its settings and
//! tensors (`fused`), when its nodes form one function of one input. Every
//! other node is translated op by op, which keeps its arithmetic exactly as
//! dlc does it. Matrix products, convolutions and pooling are whole ops in
//! the IR and become `Gemm`, `Conv`, `MaxPool` and `AveragePool`; dlc pools
//! as PyTorch does (max ignores padding, average counts it as zeros,
//! windows that fit only), which are ONNX's semantics with
//! `count_include_pad = 1` and `ceil_mode = 0`.
//!
//! An op a prediction cannot contain (a gradient, a dropout mask, a one-hot
//! of labels) is an [`ExportError::Unsupported`] naming the layer it came
//! from, never a graph that computes something else.

use super::ExportError;
use super::builder::{Attr, Builder};
use super::fused::Plan;
use crate::ir::{BinaryOp, Graph, InputKind, Op, PoolKind, ScalarKind, Shape, Sink, UnaryOp};
use crate::layers::Layer;

/// The values of the graph's parameters and states, by index.
pub struct Tensors<'a> {
    pub params: Vec<&'a [f32]>,
    pub states: Vec<&'a [f32]>,
}

/// Writes the ops that the network's output depends on, reading the
/// prepared input from `features`; gives the output's name. The nodes of
/// each of `layers` that has an ONNX operator of its own are written as it
/// (no layers: every node op by op).
pub fn translate(
    b: &mut Builder,
    g: &Graph,
    layers: &[Layer],
    tensors: &Tensors,
    features: &str,
) -> Result<String, ExportError> {
    let output = g
        .sinks
        .iter()
        .find_map(|s| match s {
            Sink::Output(v) => Some(*v),
            _ => None,
        })
        .ok_or(ExportError::NoOutput)?;
    let needed = needed(g, output.index());
    let plan = Plan::new(g, layers, &needed, output.index());
    let mut names: Vec<String> = vec![String::new(); g.nodes.len()];
    for (i, node) in g.nodes.iter().enumerate() {
        if !needed[i] {
            continue;
        }
        if let Some(name) = plan.write(b, g, i, tensors, &names) {
            names[i] = name;
            continue;
        }
        if plan.is_inside(i) {
            continue;
        }
        let name = op(b, g, &node.op, &node.shape, &names, tensors, features).map_err(|what| {
            ExportError::Unsupported {
                layer: node
                    .origin
                    .as_ref()
                    .map_or_else(|| "the network".to_string(), |o| o.layer.clone()),
                what,
            }
        })?;
        names[i] = name;
    }
    Ok(names[output.index()].clone())
}

/// Which nodes `output` depends on (nodes are in topological order).
fn needed(g: &Graph, output: usize) -> Vec<bool> {
    let mut needed = vec![false; g.nodes.len()];
    needed[output] = true;
    for i in (0..=output).rev() {
        if needed[i] {
            for v in g.nodes[i].op.operands() {
                needed[v.index()] = true;
            }
        }
    }
    needed
}

/// One op as ONNX nodes; `Err` says what cannot be exported.
fn op(
    b: &mut Builder,
    g: &Graph,
    op: &Op,
    shape: &Shape,
    names: &[String],
    tensors: &Tensors,
    features: &str,
) -> Result<String, String> {
    let n = |v: &crate::ir::ValueId| names[v.index()].as_str();
    let batched = shape.is_batched();
    let rest = fixed_dims(shape)?;
    Ok(match op {
        Op::Input(InputKind::Features) => features.to_string(),
        Op::Param(p) => {
            let info = &g.params[p.index()];
            b.floats_named(&info.name, &info.shape, tensors.params[p.index()])
        }
        Op::State(s) => {
            let info = &g.states[s.index()];
            b.floats_named(&info.name, &info.shape, tensors.states[s.index()])
        }
        Op::Scalar(ScalarKind::BatchSize) => {
            let batch = b.batch();
            let scalar_shape = b.ints("shape", &[]);
            let count = b.node("Reshape", &[&batch, &scalar_shape], vec![]);
            b.node("Cast", &[&count], vec![("to", Attr::Int(1))])
        }
        Op::Fill(x) if batched => {
            let one = b.floats("fill", &[], &[*x]);
            let to = b.shape_tensor(true, &rest);
            b.node("Expand", &[&one, &to], vec![])
        }
        Op::Fill(x) => {
            let len = rest.iter().product();
            b.floats("fill", &rest, &vec![*x; len])
        }
        Op::Unary(u, x) => unary(b, *u, n(x)),
        Op::Binary(o, x, y) => binary(b, *o, n(x), n(y)),
        Op::Select(c, x, y) => {
            let zero = b.floats("zero", &[], &[0.0]);
            let is_zero = b.node("Equal", &[n(c), &zero], vec![]);
            b.node("Where", &[&is_zero, n(y), n(x)], vec![])
        }
        Op::Reshape(x) => {
            let to = b.shape_tensor(batched, &rest);
            b.node("Reshape", &[n(x), &to], vec![])
        }
        Op::Expand(x) => {
            let to = b.shape_tensor(batched, &rest);
            b.node("Expand", &[n(x), &to], vec![])
        }
        Op::Sum(x, axes) | Op::Max(x, axes) if axes.is_empty() => {
            b.node("Identity", &[n(x)], vec![])
        }
        Op::Sum(x, axes) => {
            let axes = b.ints("axes", &ints(axes));
            b.node(
                "ReduceSum",
                &[n(x), &axes],
                vec![("keepdims", Attr::Int(1))],
            )
        }
        // Opset 17's ReduceMax takes its axes as an attribute.
        Op::Max(x, axes) => b.node(
            "ReduceMax",
            &[n(x)],
            vec![("axes", Attr::Ints(ints(axes))), ("keepdims", Attr::Int(1))],
        ),
        Op::MatMul { a, b: w, ta, tb } => b.node(
            "Gemm",
            &[n(a), n(w)],
            vec![
                ("transA", Attr::Int(i64::from(*ta))),
                ("transB", Attr::Int(i64::from(*tb))),
            ],
        ),
        Op::Conv2d { x, w, stride, pad } => {
            let kernel = fixed_dims(g.shape(*w))?;
            b.node(
                "Conv",
                &[n(x), n(w)],
                vec![
                    ("kernel_shape", Attr::Ints(ints(&kernel[2..]))),
                    ("strides", Attr::Ints(ints(stride))),
                    ("pads", Attr::Ints(ints(&[pad[0], pad[1], pad[0], pad[1]]))),
                ],
            )
        }
        Op::Pool2d {
            kind,
            x,
            window,
            stride,
            pad,
        } => {
            let mut attrs = vec![
                ("kernel_shape", Attr::Ints(ints(window))),
                ("strides", Attr::Ints(ints(stride))),
                ("pads", Attr::Ints(ints(&[pad[0], pad[1], pad[0], pad[1]]))),
            ];
            let op = match kind {
                PoolKind::Max => "MaxPool",
                PoolKind::Avg => {
                    attrs.push(("count_include_pad", Attr::Int(1)));
                    "AveragePool"
                }
            };
            b.node(op, &[n(x)], attrs)
        }
        Op::Concat(xs, axis) => {
            let inputs: Vec<&str> = xs.iter().map(n).collect();
            b.node("Concat", &inputs, vec![("axis", Attr::Int(*axis as i64))])
        }
        Op::Slice { x, axis, start } => {
            let len = shape.dims(1)[*axis];
            let starts = b.ints("starts", &[*start as i64]);
            let ends = b.ints("ends", &[(start + len) as i64]);
            let axes = b.ints("axes", &[*axis as i64]);
            b.node("Slice", &[n(x), &starts, &ends, &axes], vec![])
        }
        // One process: the value itself.
        Op::Detach(x) | Op::CrossSum(x) => b.node("Identity", &[n(x)], vec![]),
        Op::Input(kind) => return Err(format!("it reads the {kind:?} of training")),
        Op::Scalar(kind) => return Err(format!("it reads the training scalar {kind:?}")),
        Op::GradIn(_)
        | Op::Conv2dInputGrad { .. }
        | Op::Conv2dWeightGrad { .. }
        | Op::Pool2dGrad { .. } => return Err("it computes a gradient".into()),
        Op::OneHot(_) => return Err("it one-hot encodes labels".into()),
        Op::DropoutMask { .. } => return Err("it draws a random dropout mask".into()),
    })
}

fn unary(b: &mut Builder, u: UnaryOp, x: &str) -> String {
    let plain = |op| (op, vec![]);
    let (op, attrs): (&str, Vec<(&str, Attr)>) = match u {
        UnaryOp::Neg => plain("Neg"),
        UnaryOp::Exp => plain("Exp"),
        UnaryOp::Log => plain("Log"),
        UnaryOp::Tanh => plain("Tanh"),
        UnaryOp::Sigmoid => plain("Sigmoid"),
        UnaryOp::Relu => plain("Relu"),
        UnaryOp::Sqrt => plain("Sqrt"),
        UnaryOp::Recip => plain("Reciprocal"),
        UnaryOp::Abs => plain("Abs"),
        UnaryOp::Sign => plain("Sign"),
        UnaryOp::Erf => plain("Erf"),
        UnaryOp::Square => return b.node("Mul", &[x, x], vec![]),
        UnaryOp::Rsqrt => {
            let root = b.node("Sqrt", &[x], vec![]);
            return b.node("Reciprocal", &[&root], vec![]);
        }
        UnaryOp::Step => {
            let zero = b.floats("zero", &[], &[0.0]);
            return indicator(b, "Greater", x, &zero);
        }
    };
    b.node(op, &[x], attrs)
}

fn binary(b: &mut Builder, o: BinaryOp, x: &str, y: &str) -> String {
    let op = match o {
        BinaryOp::Add => "Add",
        BinaryOp::Sub => "Sub",
        BinaryOp::Mul => "Mul",
        BinaryOp::Div => "Div",
        BinaryOp::Max => "Max",
        BinaryOp::Min => "Min",
        BinaryOp::Gt => return indicator(b, "Greater", x, y),
        BinaryOp::Eq => return indicator(b, "Equal", x, y),
    };
    b.node(op, &[x, y], vec![])
}

/// A comparison as 1.0 where it holds and 0.0 elsewhere, as dlc's are.
fn indicator(b: &mut Builder, op: &str, x: &str, y: &str) -> String {
    let holds = b.node(op, &[x, y], vec![]);
    b.node("Cast", &[&holds], vec![("to", Attr::Int(1))])
}

/// The sizes after the batch (all of them for an unbatched value).
fn fixed_dims(shape: &Shape) -> Result<Vec<usize>, String> {
    let skip = usize::from(shape.is_batched());
    shape.0[skip..]
        .iter()
        .map(|d| match d {
            crate::ir::Dim::K(k) => Ok(*k),
            crate::ir::Dim::N => Err(format!("a value of shape {shape} has the batch inside")),
        })
        .collect()
}

fn ints(values: &[usize]) -> Vec<i64> {
    values.iter().map(|&v| v as i64).collect()
}
