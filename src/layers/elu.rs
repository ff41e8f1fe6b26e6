//! `elu ALPHA`: `x` for positive `x`, `alpha * (e^x - 1)` otherwise, as
//! PyTorch's `ELU` (whose gradient at 0 is `alpha`, from the left branch).

use super::*;
use crate::ir::{BinaryOp, UnaryOp};

#[derive(Clone, Debug, PartialEq)]
pub struct Elu {
    pub alpha: f64,
}

impl Stage for Elu {
    const KEYWORD: &'static str = "elu";
    const POSITIONAL: &'static [&'static str] = &["alpha"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Elu> {
        let positive = |v: f64| v > 0.0 && v.is_finite();
        let alpha = a.real(cx, "alpha", Some(1.0), positive, "must be positive");
        Some(Elu { alpha: alpha?.0 })
    }
}

impl Rule for Elu {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let zero = g.constant(0.0);
        let positive = g.binary(BinaryOp::Gt, x, zero);
        // The exponential sees 0 where x is positive: e^x of a large x
        // would be infinite, and its (unselected) gradient 0 * inf = NaN.
        let negative_part = g.select(positive, zero, x);
        let e = g.unary(UnaryOp::Exp, negative_part);
        let one = g.constant(1.0);
        let em1 = g.sub(e, one);
        let left = g.scale(em1, self.alpha as f32);
        g.select(positive, x, left)
    }

    fn describe(&self, _layer: &Layer) -> String {
        format!("elu {}", self.alpha)
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "elu", "alpha": self.alpha})
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Any,
            linear: false,
            init: Init::He { slope: 0.0 },
        })
    }
}
