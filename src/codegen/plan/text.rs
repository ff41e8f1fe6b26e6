//! The text form of a plan (`dlc check --emit kernels`): one line per kernel,
//! fused bodies listed instruction by instruction under their kernel.

use super::*;
use std::fmt::Write;

/// The text form of a plan (`dlc check --emit kernels`).
pub fn print_plan(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scratch {} floats at batch {}",
        plan.scratch_len, plan.max_batch
    );
    let loc = |l: &Loc| format!("{:?}+{}", l.base, l.offset).to_lowercase();
    let buf = |b: &Buf| format!("{}{}", loc(&b.loc), b.shape);
    for (i, k) in plan.kernels.iter().enumerate() {
        let text = match k {
            Kernel::Elementwise { body, outputs } => {
                let outs: Vec<String> = outputs
                    .iter()
                    .map(|(r, l)| format!("r{r} -> {}", loc(l)))
                    .collect();
                format!(
                    "elementwise {} {}{}",
                    body.shape,
                    outs.join(", "),
                    body_text(body, &buf)
                )
            }
            Kernel::Reduce {
                body,
                max,
                axes,
                out,
            } => {
                format!(
                    "{} {} axes {axes:?} -> {}{}",
                    if *max { "max" } else { "sum" },
                    body.shape,
                    loc(out),
                    body_text(body, &buf)
                )
            }
            Kernel::MatMul { a, b, ta, tb, out } => format!(
                "matmul {}{} x {}{} -> {}",
                buf(a),
                if *ta { "^T" } else { "" },
                buf(b),
                if *tb { "^T" } else { "" },
                buf(out)
            ),
            Kernel::Conv2d { x, w, out, .. } => {
                format!("conv2d {} * {} -> {}", buf(x), buf(w), buf(out))
            }
            Kernel::Conv2dInputGrad { dy, w, out, .. } => {
                format!("conv2d_input_grad {} * {} -> {}", buf(dy), buf(w), buf(out))
            }
            Kernel::Conv2dWeightGrad { x, dy, out, .. } => format!(
                "conv2d_weight_grad {} * {} -> {}",
                buf(x),
                buf(dy),
                buf(out)
            ),
            Kernel::Pool2d { kind, x, out, .. } => {
                format!("{kind:?}pool {} -> {}", buf(x), buf(out)).to_lowercase()
            }
            Kernel::Pool2dGrad {
                kind, x, dy, out, ..
            } => format!("{kind:?}pool_grad {} {} -> {}", buf(x), buf(dy), buf(out)).to_lowercase(),
            Kernel::Concat { inputs, axis, out } => {
                format!(
                    "concat axis {axis} {} -> {}",
                    inputs.iter().map(&buf).collect::<Vec<_>>().join(", "),
                    buf(out)
                )
            }
            Kernel::Slice {
                x,
                axis,
                start,
                out,
            } => format!("slice axis {axis} from {start} {} -> {}", buf(x), buf(out)),
            Kernel::Copy { from, to } => format!("copy {} -> {}", buf(from), loc(to)),
            Kernel::CrossSum { x, out } => format!("cross_sum {} -> {}", buf(x), buf(out)),
        };
        let _ = writeln!(out, "k{i}: {text}");
    }
    out
}

fn body_text(body: &Body, buf: &dyn Fn(&Buf) -> String) -> String {
    let mut s = String::new();
    for (i, input) in body.inputs.iter().enumerate() {
        let _ = write!(s, "\n    in{i} = {}", buf(input));
    }
    for (i, instr) in body.instrs.iter().enumerate() {
        let t = match instr {
            Instr::Load(slot) => format!("load in{slot}"),
            Instr::Const(c) => format!("const {c}"),
            Instr::Unary(op, a) => format!("{op:?} r{a}").to_lowercase(),
            Instr::Binary(op, a, b) => format!("{op:?} r{a}, r{b}").to_lowercase(),
            Instr::Select(c, a, b) => format!("select r{c}, r{a}, r{b}"),
            Instr::Index(axis) => format!("index {axis}"),
            Instr::Dropout { rate, salt } => format!("dropout {rate} salt {salt}"),
        };
        let _ = write!(s, "\n    r{i} = {t}");
    }
    s
}
