//! `dropout RATE`: while training, zeroes each value with probability
//! `rate` and scales the rest by `1 / (1 - rate)`; evaluation passes the
//! input through. The mask comes from the layer's own stream (`ir::dropout`).

use super::*;
use crate::ir::Op as Primitive;

#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    pub rate: f64,
}

impl Stage for Dropout {
    const KEYWORD: &'static str = "dropout";
    const POSITIONAL: &'static [&'static str] = &["rate"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Dropout> {
        let in_range = |r: f64| (0.0..1.0).contains(&r);
        let rate = a.real(cx, "rate", None, in_range, "must be in [0, 1)");
        Some(Dropout { rate: rate?.0 })
    }
}

impl Rule for Dropout {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred::plain(input.shape.to_vec()))
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        match lx.mode {
            Mode::Eval => x,
            Mode::Train => {
                let shape = g.shape(x).clone();
                let mask = Primitive::DropoutMask {
                    rate: self.rate as f32,
                    salt: lx.index,
                };
                let mask = g.push(mask, shape);
                g.mul(x, mask)
            }
        }
    }

    fn describe(&self, _layer: &Layer) -> String {
        format!("dropout {}", self.rate)
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "dropout", "rate": self.rate})
    }

    fn dropout_rate(&self) -> Option<f64> {
        Some(self.rate)
    }
}
