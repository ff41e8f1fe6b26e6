//! `relu`: `max(x, 0)`; its gradient at 0 is 0, as in PyTorch.

use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Relu;

impl Stage for Relu {
    const KEYWORD: &'static str = "relu";

    fn bind(_cx: &mut Cx, _a: &mut Args) -> Option<Relu> {
        Some(Relu)
    }
}

impl Rule for Relu {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        lx.g.unary(UnaryOp::Relu, inputs[0])
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::NonNegative,
            linear: false,
            init: Init::He { slope: 0.0 },
        })
    }
}
