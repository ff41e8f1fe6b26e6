//! `flatten`: an image `[c, h, w]` as one vector `[c * h * w]`, in
//! row-major order as PyTorch's `Flatten`.

use super::shapes::from_here;
use super::*;
use crate::bind::sizes::checked_len;
use crate::diag::{Diagnostic, codes};
use crate::ir::Shape;

#[derive(Clone, Debug, PartialEq)]
pub struct Flatten;

impl Stage for Flatten {
    const KEYWORD: &'static str = "flatten";

    fn bind(_cx: &mut Cx, _a: &mut Args) -> Option<Flatten> {
        Some(Flatten)
    }
}

impl Rule for Flatten {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred> {
        if input.shape.len() == 1 {
            cx.err(
                Diagnostic::warning(
                    codes::W_NO_EFFECT,
                    "`flatten` of a vector does nothing",
                    span,
                )
                .label("the input is already flat")
                .secondary(input.span, from_here(input))
                .help("remove this layer"),
            );
        }
        Some(Inferred::plain(vec![checked_len(cx, input.shape, span)?]))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        lx.g.reshape(inputs[0], Shape::batched(&lx.layer.shape))
    }
}
