//! `softmax`: `e^x / sum(e^x)` over the features of a vector, computed
//! shifted by the (detached) maximum so that no exponent overflows.

use super::shapes::vector;
use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Softmax;

impl Stage for Softmax {
    const KEYWORD: &'static str = "softmax";

    fn bind(_cx: &mut Cx, _a: &mut Args) -> Option<Softmax> {
        Some(Softmax)
    }
}

impl Rule for Softmax {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred> {
        let what = "softmax normalises over the features of a vector";
        let n = vector(cx, "softmax", what, input, span)?;
        Some(Inferred::plain(vec![n]))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let m = g.max(x, &[1]);
        let m = g.detach(m);
        let s = g.sub(x, m);
        let e = g.unary(UnaryOp::Exp, s);
        let total = g.sum(e, &[1]);
        g.div(e, total)
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Probabilities,
            linear: false,
            init: Init::Xavier,
        })
    }
}
