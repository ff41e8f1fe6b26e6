//! `softplus`: `log(1 + e^(beta x)) / beta`, a smooth ReLU, as PyTorch's
//! `Softplus`: linear (`x`) where `beta * x` exceeds `threshold`.

use super::*;
use crate::ir::BinaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Softplus {
    pub beta: f64,
    pub threshold: f64,
}

impl Stage for Softplus {
    const KEYWORD: &'static str = "softplus";
    const POSITIONAL: &'static [&'static str] = &["beta"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Softplus> {
        let positive = |v: f64| v > 0.0 && v.is_finite();
        let beta = a.real(cx, "beta", Some(1.0), positive, "must be positive");
        let finite = |v: f64| v.is_finite();
        let threshold = a.real(
            cx,
            "threshold",
            Some(20.0),
            finite,
            "must be a finite number",
        );
        Some(Softplus {
            beta: beta?.0,
            threshold: threshold?.0,
        })
    }
}

impl Rule for Softplus {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let beta = self.beta as f32;
        let z = g.scale(x, beta);
        // Stable for any z, with the gradient sigmoid(z) exactly.
        let softplus = crate::ir::softplus(g, z);
        let smooth = g.scale(softplus, 1.0 / beta);
        let threshold = g.constant(self.threshold as f32);
        let linear = g.binary(BinaryOp::Gt, z, threshold);
        g.select(linear, x, smooth)
    }

    fn describe(&self, _layer: &Layer) -> String {
        if self.beta == 1.0 {
            "softplus".into()
        } else {
            format!("softplus {}", self.beta)
        }
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "softplus", "beta": self.beta, "threshold": self.threshold})
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::NonNegative,
            linear: false,
            init: Init::He { slope: 0.0 },
        })
    }
}
