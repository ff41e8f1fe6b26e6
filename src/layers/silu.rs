//! `silu`: `x * sigmoid(x)` (also called swish), as PyTorch's `SiLU`.

use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Silu;

impl Stage for Silu {
    const KEYWORD: &'static str = "silu";
    const ALIASES: &'static [&'static str] = &["swish"];

    fn bind(_cx: &mut Cx, _a: &mut Args) -> Option<Silu> {
        Some(Silu)
    }
}

impl Rule for Silu {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let s = g.unary(UnaryOp::Sigmoid, x);
        g.mul(x, s)
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Any,
            linear: false,
            init: Init::He { slope: 0.0 },
        })
    }
}
