//! `prelu`: a leaky ReLU whose slope is learned, one shared or (with
//! `per_channel`) one per channel, as PyTorch's `PReLU`.

use super::lowering::per_channel;
use super::*;
use crate::ir::{BinaryOp, Dim, Shape};

#[derive(Clone, Debug, PartialEq)]
pub struct PRelu {
    pub per_channel: bool,
    /// The initial slope.
    pub init: f64,
}

impl Stage for PRelu {
    const KEYWORD: &'static str = "prelu";
    const FLAGS: &'static [&'static str] = &["per_channel"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<PRelu> {
        let per_channel = a.boolean(cx, "per_channel", false);
        let in_range = |s: f64| (0.0..1.0).contains(&s);
        let init = a.real(cx, "init", Some(0.25), in_range, "must be in [0, 1)");
        Some(PRelu {
            per_channel: per_channel?.0,
            init: init?.0,
        })
    }
}

impl Rule for PRelu {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        let n = if self.per_channel { input.shape[0] } else { 1 };
        Some(Inferred {
            shape: input.shape.to_vec(),
            params: vec![Tensor {
                name: "weight".into(),
                shape: vec![n],
                init: Init::Const(self.init),
                decay: false,
            }],
            buffers: Vec::new(),
        })
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let rank = g.shape(x).rank();
        let slope = if self.per_channel {
            per_channel(g, lx.params[0], rank)
        } else {
            g.reshape(lx.params[0], Shape(vec![Dim::K(1); rank]))
        };
        let zero = g.constant(0.0);
        let positive = g.binary(BinaryOp::Gt, x, zero);
        let scaled = g.mul(x, slope);
        g.select(positive, x, scaled)
    }

    fn describe(&self, _layer: &Layer) -> String {
        if self.per_channel {
            "prelu, per channel".into()
        } else {
            "prelu".into()
        }
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "prelu", "per_channel": self.per_channel})
    }

    fn activation(&self) -> Option<ActivationTraits> {
        // He with PyTorch's initial slope: the learned slope starts there.
        Some(ActivationTraits {
            range: Range::Any,
            linear: false,
            init: Init::He { slope: 0.25 },
        })
    }
}
