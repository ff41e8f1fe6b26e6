//! `identity`: the input unchanged: a named linear output.

use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Identity;

impl Stage for Identity {
    const KEYWORD: &'static str = "identity";

    fn bind(_cx: &mut Cx, _a: &mut Args) -> Option<Identity> {
        Some(Identity)
    }
}

impl Rule for Identity {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let _ = lx;
        inputs[0]
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Any,
            linear: true,
            init: Init::Xavier,
        })
    }
}
