//! `leaky_relu SLOPE`: `x` for positive `x`, `slope * x` otherwise.

use super::*;
use crate::ir::BinaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct LeakyRelu {
    pub slope: f64,
}

impl Stage for LeakyRelu {
    const KEYWORD: &'static str = "leaky_relu";
    const ALIASES: &'static [&'static str] = &["leakyrelu", "lrelu"];
    const POSITIONAL: &'static [&'static str] = &["slope"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<LeakyRelu> {
        let in_range = |s: f64| (0.0..1.0).contains(&s);
        let slope = a.real(cx, "slope", Some(0.01), in_range, "must be in [0, 1)");
        Some(LeakyRelu { slope: slope?.0 })
    }
}

impl Rule for LeakyRelu {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        // select, not max: the gradient at 0 is the slope, as in PyTorch.
        let (g, x) = (&mut *lx.g, inputs[0]);
        let zero = g.constant(0.0);
        let positive = g.binary(BinaryOp::Gt, x, zero);
        let scaled = g.scale(x, self.slope as f32);
        g.select(positive, x, scaled)
    }

    fn describe(&self, _layer: &Layer) -> String {
        format!("leaky_relu {}", self.slope)
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "leaky_relu", "slope": self.slope})
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Any,
            linear: false,
            init: Init::He { slope: self.slope },
        })
    }
}
