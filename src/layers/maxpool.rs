//! `maxpool WINDOW, stride: S, pad: P`: the maximum of each window of
//! each channel; the window steps by its own size unless told otherwise.

use super::*;
use crate::ir::PoolKind;

#[derive(Clone, Debug, PartialEq)]
pub struct MaxPool(pub PoolWindow);

impl Stage for MaxPool {
    const KEYWORD: &'static str = "maxpool";
    const ALIASES: &'static [&'static str] = &["maxpool2d", "max_pool", "max_pool2d"];
    const POSITIONAL: &'static [&'static str] = &["window"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<MaxPool> {
        PoolWindow::bind(cx, a).map(MaxPool)
    }
}

impl Rule for MaxPool {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred> {
        self.0.infer(cx, Self::KEYWORD, input, span)
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let w = &self.0;
        lx.g.pool2d(PoolKind::Max, inputs[0], w.window, w.stride, w.pad)
    }

    fn describe(&self, _layer: &Layer) -> String {
        self.0.describe(Self::KEYWORD)
    }

    fn parity(&self) -> Value {
        self.0.parity(Self::KEYWORD)
    }
}
