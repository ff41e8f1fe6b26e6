//! `add`: the sum of its inputs, which share one shape (a residual join).
//! The network checker builds it from `x + f(x)` forms and owns its rule
//! for several inputs (`check::network::merges`).

use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Add;

impl Rule for Add {
    fn keyword(&self) -> &'static str {
        "add"
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        inputs[1..]
            .iter()
            .fold(inputs[0], |acc, &v| lx.g.add(acc, v))
    }
}
