//! `tanh`: the hyperbolic tangent, each value into (-1, 1).

use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Tanh;

impl Stage for Tanh {
    const KEYWORD: &'static str = "tanh";

    fn bind(_cx: &mut Cx, _a: &mut Args) -> Option<Tanh> {
        Some(Tanh)
    }
}

impl Rule for Tanh {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        lx.g.unary(UnaryOp::Tanh, inputs[0])
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Bounded,
            linear: false,
            init: Init::Xavier,
        })
    }
}
