//! Reading the graph IR's text form ([`super::print`]) back into a [`Graph`].
//!
//! `parse_graph(&print_graph(g, _)) == g` for every graph the compiler makes,
//! origins included: a node's origin comment holds the layer name and the
//! byte span, which is all an [`Origin`] is (the line and column printed
//! beside them are derived from the program text and skipped). The builder's
//! current origin ([`Graph::origin`]) is not part of a graph's meaning and is
//! parsed as `None`, which is what every pass leaves it as.
//!
//! This lets tests state a pass's input and expected output as text (the
//! file tests in `tests/ir/`), and graphs that break the verifier can be
//! written by hand: the parser checks syntax and names only, never shapes or
//! the order of definitions, so that the verifier can be shown what it
//! rejects. Lines that start with `;` are comments.

use super::graph::{Graph, Node, Origin, ParamInfo, Sink, StateInfo, StateKind};
use super::ops::*;
use super::print::{binary_name, input_name, kind_text, scalar_name, unary_name};
use crate::syntax::Span;
use cursor::{Cursor, Res};

mod cursor;
#[cfg(test)]
mod tests;

/// Where the text is not the IR's text form, and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

pub fn parse_graph(text: &str) -> Result<Graph, ParseError> {
    let mut g = Graph::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        parse_line(&mut g, line).map_err(|message| ParseError {
            line: i + 1,
            message,
        })?;
    }
    Ok(g)
}

fn parse_line(g: &mut Graph, line: &str) -> Res<()> {
    if let Some(node) = line.strip_prefix('%') {
        let node = parse_node(node, g.nodes.len())?;
        g.nodes.push(node);
        return Ok(());
    }
    let mut c = Cursor::new(line);
    match c.word()? {
        "param" => {
            c.index(g.params.len(), "parameter")?;
            let name = c.word()?.to_string();
            c.expect(':')?;
            let shape = c.sizes()?;
            c.keyword("init")?;
            let init = c.init()?;
            let decay = c.eat_word("decay");
            c.end()?;
            g.params.push(ParamInfo {
                name,
                shape,
                init,
                decay,
            });
        }
        "state" => {
            c.index(g.states.len(), "state")?;
            let name = c.word()?.to_string();
            c.expect(':')?;
            let shape = c.sizes()?;
            c.expect('=')?;
            let init = c.number()?;
            let kind = match c.word()? {
                "running" => StateKind::Running,
                "optimizer" => StateKind::Optimizer,
                other => return Err(format!("unknown state kind `{other}`")),
            };
            c.end()?;
            g.states.push(StateInfo {
                name,
                shape,
                init,
                kind,
            });
        }
        sink => {
            let s = parse_sink(g, sink, &mut c)?;
            c.end()?;
            g.sinks.push(s);
        }
    }
    Ok(())
}

fn parse_sink(g: &Graph, first: &str, c: &mut Cursor) -> Res<Sink> {
    let param = |name: &str| {
        g.params
            .iter()
            .position(|p| p.name == name)
            .map(ParamId)
            .ok_or_else(|| format!("no parameter is named `{name}`"))
    };
    Ok(match first {
        "loss" => Sink::Loss(c.value()?),
        "output" => Sink::Output(c.value()?),
        "grad" => Sink::Grad(param(c.word()?)?, c.value()?),
        "update" => match c.word()? {
            "param" => Sink::Param(param(c.word()?)?, c.value()?),
            "state" => {
                let name = c.word()?;
                let st = g.states.iter().position(|s| s.name == name);
                let st = st.ok_or_else(|| format!("no state is named `{name}`"))?;
                Sink::State(StateId(st), c.value()?)
            }
            other => return Err(format!("`update {other}`: expected `param` or `state`")),
        },
        other => return Err(format!("`{other}` starts no line of the IR")),
    })
}

/// `3 = matmul %0, %1^T : [N, 4]  # dense1  2:5 @10..18` (after the `%`).
fn parse_node(text: &str, index: usize) -> Res<Node> {
    let (body, comment) = match text.split_once('#') {
        Some((b, c)) => (b, Some(c)),
        None => (text, None),
    };
    let (lhs, shape) = body
        .rsplit_once(':')
        .ok_or("a node needs `: SHAPE` after its op")?;
    let (id, op) = lhs
        .split_once('=')
        .ok_or("a node needs `=` after its name")?;
    if id.trim().parse::<usize>().ok() != Some(index) {
        return Err(format!("node `%{}` should be `%{index}`", id.trim()));
    }
    let mut c = Cursor::new(op);
    let op = parse_op(&mut c)?;
    c.end()?;
    let mut c = Cursor::new(shape);
    let shape = c.shape()?;
    c.end()?;
    let origin = comment.map(parse_origin).transpose()?;
    Ok(Node { op, shape, origin })
}

/// `dense1  2:5 @10..18`: the layer, then the span; the line is skipped.
fn parse_origin(comment: &str) -> Res<Origin> {
    let mut words = comment.split_whitespace();
    let layer = words.next().ok_or("an origin comment needs a layer name")?;
    let span = words
        .find_map(|w| w.strip_prefix('@'))
        .ok_or("an origin comment needs its span, `@START..END`")?;
    let (a, b) = span.split_once("..").ok_or("a span is `@START..END`")?;
    let at = |s: &str| s.parse::<usize>().map_err(|_| format!("bad span `{span}`"));
    Ok(Origin {
        layer: layer.to_string(),
        span: Span::new(at(a)?, at(b)?),
    })
}

fn parse_op(c: &mut Cursor) -> Res<Op> {
    let name = c.word()?;
    Ok(match name {
        "input" => Op::Input(named(&InputKind::ALL, input_name, c.word()?)?),
        "param" => Op::Param(ParamId(c.number()?)),
        "state" => Op::State(StateId(c.number()?)),
        "grad_in" => Op::GradIn(ParamId(c.number()?)),
        "scalar" => Op::Scalar(named(&ScalarKind::ALL, scalar_name, c.word()?)?),
        "fill" => Op::Fill(c.number()?),
        "select" => {
            let (x, a) = (c.value()?, c.then_value()?);
            Op::Select(x, a, c.then_value()?)
        }
        "reshape" => Op::Reshape(c.value()?),
        "expand" => Op::Expand(c.value()?),
        "one_hot" => Op::OneHot(c.value()?),
        "detach" => Op::Detach(c.value()?),
        "cross_sum" => Op::CrossSum(c.value()?),
        "sum" => Op::Sum(c.value()?, c.axes()?),
        // `max %a, %b` is binary, `max %x axes 1` a reduction.
        "max" => {
            let x = c.value()?;
            if c.eat(',') {
                Op::Binary(BinaryOp::Max, x, c.value()?)
            } else {
                Op::Max(x, c.axes()?)
            }
        }
        "matmul" => {
            let (a, ta) = (c.value()?, c.transposed()?);
            let b = c.then_value()?;
            Op::MatMul {
                a,
                b,
                ta,
                tb: c.transposed()?,
            }
        }
        "conv2d" | "conv2d_input_grad" | "conv2d_weight_grad" => {
            let (a, b) = (c.value()?, c.then_value()?);
            let stride = c.named_pair("stride")?;
            let pad = c.named_pair("pad")?;
            match name {
                "conv2d" => Op::Conv2d {
                    x: a,
                    w: b,
                    stride,
                    pad,
                },
                "conv2d_input_grad" => Op::Conv2dInputGrad {
                    dy: a,
                    w: b,
                    stride,
                    pad,
                },
                _ => Op::Conv2dWeightGrad {
                    x: a,
                    dy: b,
                    stride,
                    pad,
                },
            }
        }
        "concat" => {
            let mut xs = vec![c.value()?];
            while c.eat(',') {
                xs.push(c.value()?);
            }
            c.keyword("axis")?;
            Op::Concat(xs, c.number()?)
        }
        "slice" => {
            let x = c.value()?;
            c.keyword("axis")?;
            let axis = c.number()?;
            c.keyword("from")?;
            Op::Slice {
                x,
                axis,
                start: c.number()?,
            }
        }
        "dropout_mask" => {
            c.keyword("rate")?;
            let rate = c.number()?;
            c.keyword("salt")?;
            Op::DropoutMask {
                rate,
                salt: c.number()?,
            }
        }
        other => {
            if let Some(op) = pool(c, other)? {
                op
            } else if let Ok(u) = named(&UnaryOp::ALL, unary_name, other) {
                Op::Unary(u, c.value()?)
            } else if let Ok(b) = named(&BinaryOp::ALL, binary_name, other) {
                let x = c.value()?;
                Op::Binary(b, x, c.then_value()?)
            } else {
                return Err(format!("unknown op `{other}`"));
            }
        }
    })
}

/// `maxpool %x window ...` and `avgpool_grad %x, %dy window ...`.
fn pool(c: &mut Cursor, name: &str) -> Res<Option<Op>> {
    let Some(kind) = [PoolKind::Max, PoolKind::Avg].into_iter().find(|k| {
        name.strip_prefix(kind_text(*k))
            .is_some_and(|r| r.starts_with("pool"))
    }) else {
        return Ok(None);
    };
    let grad = match &name[kind_text(kind).len()..] {
        "pool" => false,
        "pool_grad" => true,
        _ => return Ok(None),
    };
    let x = c.value()?;
    let dy = if grad { Some(c.then_value()?) } else { None };
    let window = c.named_pair("window")?;
    let stride = c.named_pair("stride")?;
    let pad = c.named_pair("pad")?;
    Ok(Some(match dy {
        Some(dy) => Op::Pool2dGrad {
            kind,
            x,
            dy,
            window,
            stride,
            pad,
        },
        None => Op::Pool2d {
            kind,
            x,
            window,
            stride,
            pad,
        },
    }))
}

/// The member of `all` printed as `word`.
fn named<T: Copy>(all: &[T], name: fn(T) -> &'static str, word: &str) -> Res<T> {
    all.iter()
        .copied()
        .find(|&k| name(k) == word)
        .ok_or_else(|| format!("unknown name `{word}`"))
}
