//! The text form of the graph IR (`dlc check --emit ir` and `--emit grad`).
//!
//! ```text
//! %3 = matmul %0, %1^T : [N, 64]            # dense1  model.dl:9:5
//! ```

use super::graph::{Graph, Sink};
use super::ops::*;
use crate::diag::line_col;
use std::fmt::Write;

/// Prints the graph; with `source`, each node names the line it came from.
pub fn print_graph(g: &Graph, source: Option<&str>) -> String {
    let mut out = String::new();
    for (i, p) in g.params.iter().enumerate() {
        let _ = writeln!(
            out,
            "param {i} {} : {:?}{}",
            p.name,
            p.shape,
            if p.decay { " decay" } else { "" }
        );
    }
    for (i, s) in g.states.iter().enumerate() {
        let _ = writeln!(out, "state {i} {} : {:?} = {}", s.name, s.shape, s.init);
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let text = format!("%{i} = {} : {}", op_text(&n.op), n.shape);
        match &n.origin {
            Some(o) => {
                let place = source.map(|src| {
                    let (l, c) = line_col(src, o.span.start);
                    format!("  {l}:{c}")
                });
                let _ = writeln!(out, "{text:<48} # {}{}", o.layer, place.unwrap_or_default());
            }
            None => {
                let _ = writeln!(out, "{text}");
            }
        }
    }
    for s in &g.sinks {
        let line = match s {
            Sink::Loss(v) => format!("loss {v}"),
            Sink::Output(v) => format!("output {v}"),
            Sink::Grad(p, v) => format!("grad {} {v}", g.params[*p].name),
            Sink::Param(p, v) => format!("update {} {v}", g.params[*p].name),
            Sink::State(st, v) => format!("update {} {v}", g.states[*st].name),
        };
        let _ = writeln!(out, "{line}");
    }
    out
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
        Op::Input(k) => format!("input {}", format!("{k:?}").to_lowercase()),
        Op::Param(p) => format!("param {p}"),
        Op::State(s) => format!("state {s}"),
        Op::GradIn(p) => format!("grad_in {p}"),
        Op::Scalar(k) => format!("scalar {}", format!("{k:?}").to_lowercase()),
        Op::Fill(v) => format!("fill {v}"),
        Op::Unary(u, x) => format!("{} {x}", format!("{u:?}").to_lowercase()),
        Op::Binary(b, x, y) => format!("{} {x}, {y}", format!("{b:?}").to_lowercase()),
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
    }
}

fn kind_text(k: PoolKind) -> &'static str {
    match k {
        PoolKind::Max => "max",
        PoolKind::Avg => "avg",
    }
}
