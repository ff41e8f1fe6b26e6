//! The network's input: one sample of the declared shape, batched.

use super::*;
use crate::ir::{InputKind, Shape};

#[derive(Clone, Debug, PartialEq)]
pub struct Input;

impl Rule for Input {
    fn keyword(&self) -> &'static str {
        "input"
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, _inputs: &[ValueId]) -> ValueId {
        let shape = Shape::batched(&lx.layer.shape);
        lx.g.input(InputKind::Features, shape)
    }
}
