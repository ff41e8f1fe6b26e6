//! `avgpool WINDOW, stride: S, pad: P`: the average of each window of
//! each channel; the window steps by its own size unless told otherwise.

use super::*;
use crate::ir::PoolKind;

#[derive(Clone, Debug, PartialEq)]
pub struct AvgPool(pub PoolWindow);

impl Stage for AvgPool {
    const KEYWORD: &'static str = "avgpool";
    const ALIASES: &'static [&'static str] =
        &["avgpool2d", "avg_pool", "avg_pool2d", "averagepool"];
    const POSITIONAL: &'static [&'static str] = &["window"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<AvgPool> {
        PoolWindow::bind(cx, a).map(AvgPool)
    }
}

impl Rule for AvgPool {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred> {
        self.0.infer(cx, Self::KEYWORD, input, span)
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let w = &self.0;
        lx.g.pool2d(PoolKind::Avg, inputs[0], w.window, w.stride, w.pad)
    }

    fn describe(&self, _layer: &Layer) -> String {
        self.0.describe(Self::KEYWORD)
    }

    fn parity(&self) -> Value {
        self.0.parity(Self::KEYWORD)
    }
}
