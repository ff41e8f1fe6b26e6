//! `concat`: its inputs joined along the first axis of the sample
//! (features, or channels of images). The network checker builds it and
//! owns its rule for several inputs (`check::network::merges`).

use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Concat;

impl Rule for Concat {
    fn keyword(&self) -> &'static str {
        "concat"
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        lx.g.concat(inputs, 1)
    }
}
