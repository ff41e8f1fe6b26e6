//! The text form of the graph IR (`dlc check --emit ir` and `--emit grad`),
//! which [`super::parse`] reads back.
//!
//! ```text
//! param 0 dense1.weight : [64, 2] init he(0) decay
//! state 0 bn1.running_mean : [64] = 0 running
//! %3 = matmul %0, %1^T : [N, 64]                 # dense1  9:5 @130..138
//! loss %9
//! update param dense1.weight %20
//! ```
//!
//! Every line is one table entry, node or sink, in the graph's order, and holds
//! all of it: the text is a complete description of the graph, so that a
//! file test can state a pass's input and expected output as text. A node's
//! origin is a comment: its layer, the line and column (when the program
//! text is at hand, for people) and the byte span (for the parser).

use super::graph::{Graph, Sink, StateKind};
use super::ops::*;
use crate::diag::line_col;
use crate::ir::Init;
use std::fmt::Write;

/// Prints the graph; with `source`, each node names the line it came from.
pub fn print_graph(g: &Graph, source: Option<&str>) -> String {
    let mut out = String::new();
    for (i, p) in g.params.iter().enumerate() {
        let _ = writeln!(
            out,
            "param {i} {} : {:?} init {}{}",
            p.name,
            p.shape,
            init_text(&p.init),
            if p.decay { " decay" } else { "" }
        );
    }
    for (i, s) in g.states.iter().enumerate() {
        let kind = match s.kind {
            StateKind::Running => "running",
            StateKind::Optimizer => "optimizer",
        };
        let _ = writeln!(
            out,
            "state {i} {} : {:?} = {} {kind}",
            s.name, s.shape, s.init
        );
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let text = format!("%{i} = {} : {}", op_text(&n.op), n.shape);
        match &n.origin {
            Some(o) => {
                let place = source.map(|src| {
                    let (l, c) = line_col(src, o.span.start);
                    format!("  {l}:{c}")
                });
                let _ = writeln!(
                    out,
                    "{text:<48} # {}{} @{}..{}",
                    o.layer,
                    place.unwrap_or_default(),
                    o.span.start,
                    o.span.end
                );
            }
            None => {
                let _ = writeln!(out, "{text}");
            }
        }
    }
    for s in &g.sinks {
        let _ = writeln!(out, "{}", sink_text(g, s));
    }
    out
}

/// A sink as printed; a tensor missing from the graph's tables (in a graph
/// that fails verification) is shown by its index.
pub fn sink_text(g: &Graph, s: &Sink) -> String {
    let param = |p: &ParamId| {
        g.params
            .get(p.index())
            .map_or(format!("#{p}"), |i| i.name.clone())
    };
    match s {
        Sink::Loss(v) => format!("loss {v}"),
        Sink::Output(v) => format!("output {v}"),
        Sink::Grad(p, v) => format!("grad {} {v}", param(p)),
        Sink::Param(p, v) => format!("update param {} {v}", param(p)),
        Sink::State(st, v) => {
            let name = g
                .states
                .get(st.index())
                .map_or(format!("#{st}"), |i| i.name.clone());
            format!("update state {name} {v}")
        }
    }
}

/// An initialiser as printed: `he(0.01)`, `xavier`, `const(0)`.
pub fn init_text(init: &Init) -> String {
    match init {
        Init::He { slope } => format!("he({slope})"),
        Init::Xavier => "xavier".into(),
        Init::Lecun => "lecun".into(),
        Init::Normal { std } => format!("normal({std})"),
        Init::Uniform { limit } => format!("uniform({limit})"),
        Init::Const(c) => format!("const({c})"),
    }
}

fn pairs(a: [usize; 2]) -> String {
    format!("{}x{}", a[0], a[1])
}

pub fn op_text(op: &Op) -> String {
    let t = |flag: bool| if flag { "^T" } else { "" };
    let axes = |a: &[usize]| {
        a.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    match op {
        Op::Input(k) => format!("input {}", input_name(*k)),
        Op::Param(p) => format!("param {p}"),
        Op::State(s) => format!("state {s}"),
        Op::GradIn(p) => format!("grad_in {p}"),
        Op::Scalar(k) => format!("scalar {}", scalar_name(*k)),
        Op::Fill(v) => format!("fill {v}"),
        Op::Unary(u, x) => format!("{} {x}", unary_name(*u)),
        Op::Binary(b, x, y) => format!("{} {x}, {y}", binary_name(*b)),
        Op::Select(c, a, b) => format!("select {c}, {a}, {b}"),
        Op::Reshape(x) => format!("reshape {x}"),
        Op::Expand(x) => format!("expand {x}"),
        Op::Sum(x, a) => format!("sum {x} axes {}", axes(a)),
        Op::Max(x, a) => format!("max {x} axes {}", axes(a)),
        Op::MatMul { a, b, ta, tb } => format!("matmul {a}{}, {b}{}", t(*ta), t(*tb)),
        Op::Conv2d { x, w, stride, pad } => format!(
            "conv2d {x}, {w} stride {} pad {}",
            pairs(*stride),
            pairs(*pad)
        ),
        Op::Conv2dInputGrad { dy, w, stride, pad } => {
            format!(
                "conv2d_input_grad {dy}, {w} stride {} pad {}",
                pairs(*stride),
                pairs(*pad)
            )
        }
        Op::Conv2dWeightGrad { x, dy, stride, pad } => {
            format!(
                "conv2d_weight_grad {x}, {dy} stride {} pad {}",
                pairs(*stride),
                pairs(*pad)
            )
        }
        Op::Pool2d {
            kind,
            x,
            window,
            stride,
            pad,
        } => {
            format!(
                "{}pool {x} window {} stride {} pad {}",
                kind_text(*kind),
                pairs(*window),
                pairs(*stride),
                pairs(*pad)
            )
        }
        Op::Pool2dGrad {
            kind,
            x,
            dy,
            window,
            stride,
            pad,
        } => format!(
            "{}pool_grad {x}, {dy} window {} stride {} pad {}",
            kind_text(*kind),
            pairs(*window),
            pairs(*stride),
            pairs(*pad)
        ),
        Op::Concat(xs, a) => format!(
            "concat {} axis {a}",
            xs.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Op::Slice { x, axis, start } => format!("slice {x} axis {axis} from {start}"),
        Op::OneHot(x) => format!("one_hot {x}"),
        Op::DropoutMask { rate, salt } => format!("dropout_mask rate {rate} salt {salt}"),
        Op::Detach(x) => format!("detach {x}"),
        Op::CrossSum(x) => format!("cross_sum {x}"),
    }
}

pub(super) fn kind_text(k: PoolKind) -> &'static str {
    match k {
        PoolKind::Max => "max",
        PoolKind::Avg => "avg",
    }
}

pub(super) fn input_name(k: InputKind) -> &'static str {
    match k {
        InputKind::Features => "features",
        InputKind::Labels => "labels",
        InputKind::Targets => "targets",
        InputKind::ClassWeights => "class_weights",
    }
}

pub(super) fn scalar_name(k: ScalarKind) -> &'static str {
    match k {
        ScalarKind::BatchSize => "batchsize",
        ScalarKind::LearningRate => "learningrate",
        ScalarKind::BiasCorrection1 => "biascorrection1",
        ScalarKind::BiasCorrection2 => "biascorrection2",
    }
}

pub(super) fn unary_name(u: UnaryOp) -> &'static str {
    match u {
        UnaryOp::Neg => "neg",
        UnaryOp::Exp => "exp",
        UnaryOp::Log => "log",
        UnaryOp::Tanh => "tanh",
        UnaryOp::Sigmoid => "sigmoid",
        UnaryOp::Relu => "relu",
        UnaryOp::Step => "step",
        UnaryOp::Sqrt => "sqrt",
        UnaryOp::Rsqrt => "rsqrt",
        UnaryOp::Recip => "recip",
        UnaryOp::Abs => "abs",
        UnaryOp::Erf => "erf",
        UnaryOp::Sign => "sign",
        UnaryOp::Square => "square",
    }
}

pub(super) fn binary_name(b: BinaryOp) -> &'static str {
    match b {
        BinaryOp::Add => "add",
        BinaryOp::Sub => "sub",
        BinaryOp::Mul => "mul",
        BinaryOp::Div => "div",
        BinaryOp::Max => "max",
        BinaryOp::Min => "min",
        BinaryOp::Gt => "gt",
        BinaryOp::Eq => "eq",
    }
}
