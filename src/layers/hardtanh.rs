//! `hardtanh`: `x` clamped to `[min, max]`, as PyTorch's `Hardtanh`, whose
//! gradient is 1 strictly inside the interval and 0 at and beyond its ends.

use super::*;
use crate::diag::{Diagnostic, codes};
use crate::ir::BinaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Hardtanh {
    pub min: f64,
    pub max: f64,
}

impl Stage for Hardtanh {
    const KEYWORD: &'static str = "hardtanh";

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Hardtanh> {
        let finite = |v: f64| v.is_finite();
        let min = a.real(cx, "min", Some(-1.0), finite, "must be a finite number");
        let max = a.real(cx, "max", Some(1.0), finite, "must be a finite number");
        let ((min, _), (max, max_span)) = (min?, max?);
        if min >= max {
            cx.err(
                Diagnostic::error(
                    codes::ARG_RANGE,
                    format!("`hardtanh` needs `min` below `max`, but {min} >= {max}"),
                    max_span,
                )
                .label("not above `min`")
                .help("e.g. `hardtanh min: -1, max: 1`"),
            );
            a.ok = false;
            return None;
        }
        Some(Hardtanh { min, max })
    }
}

impl Rule for Hardtanh {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let (lo, hi) = (g.constant(self.min as f32), g.constant(self.max as f32));
        // Strict comparisons pick the constant at the ends, so the gradient
        // there is 0, as PyTorch's.
        let above_lo = g.binary(BinaryOp::Gt, x, lo);
        let below_hi = g.binary(BinaryOp::Gt, hi, x);
        let low_clamped = g.select(above_lo, x, lo);
        g.select(below_hi, low_clamped, hi)
    }

    fn describe(&self, _layer: &Layer) -> String {
        if (self.min, self.max) == (-1.0, 1.0) {
            "hardtanh".into()
        } else {
            format!("hardtanh [{}, {}]", self.min, self.max)
        }
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "hardtanh", "min": self.min, "max": self.max})
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Bounded,
            linear: false,
            init: Init::Xavier,
        })
    }
}
