//! `gelu`: `x * Phi(x)`, with Phi the standard normal distribution, as
//! PyTorch's `GELU`: exactly, `x/2 (1 + erf(x / sqrt 2))` (the default), or
//! with `approximate: tanh`, `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.

use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Debug, PartialEq)]
pub struct Gelu {
    /// PyTorch's `approximate='tanh'`.
    pub tanh: bool,
}

impl Stage for Gelu {
    const KEYWORD: &'static str = "gelu";

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Gelu> {
        let approximate = a.choice(cx, "approximate", &["none", "tanh"], Some("none"));
        Some(Gelu {
            tanh: approximate?.0 == "tanh",
        })
    }
}

impl Rule for Gelu {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let inner = if self.tanh {
            let x2 = g.unary(UnaryOp::Square, x);
            let x3 = g.mul(x2, x);
            let cubic = g.scale(x3, 0.044715);
            let sum = g.add(x, cubic);
            let scaled = g.scale(sum, (2.0 / std::f32::consts::PI).sqrt());
            g.unary(UnaryOp::Tanh, scaled)
        } else {
            let scaled = g.scale(x, std::f32::consts::FRAC_1_SQRT_2);
            g.unary(UnaryOp::Erf, scaled)
        };
        let one = g.constant(1.0);
        let phi2 = g.add(one, inner);
        let half_x = g.scale(x, 0.5);
        g.mul(half_x, phi2)
    }

    fn describe(&self, _layer: &Layer) -> String {
        if self.tanh {
            "gelu, tanh approximation".into()
        } else {
            "gelu".into()
        }
    }

    fn parity(&self) -> Value {
        let approximate = if self.tanh { "tanh" } else { "none" };
        serde_json::json!({"type": "gelu", "approximate": approximate})
    }

    fn activation(&self) -> Option<ActivationTraits> {
        Some(ActivationTraits {
            range: Range::Any,
            linear: false,
            init: Init::He { slope: 0.0 },
        })
    }
}
