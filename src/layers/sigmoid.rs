//! `sigmoid`: `1 / (1 + e^-x)`, each value into (0, 1).

use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Sigmoid;

impl Stage for Sigmoid {
    const KEYWORD: &'static str = "sigmoid";
    const ALIASES: &'static [&'static str] = &["logistic"];

    fn bind(_cx: &mut Cx, _a: &mut Args) -> Option<Sigmoid> {
        Some(Sigmoid)
    }
}

impl Rule for Sigmoid {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        lx.g.unary(UnaryOp::Sigmoid, inputs[0])
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::UnitInterval,
            linear: false,
            init: Init::Xavier,
        })
    }
}
