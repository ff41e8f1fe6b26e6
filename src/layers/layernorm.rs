//! `layernorm`: normalises each sample over all its values, with a scale
//! and an offset per value (PyTorch's `LayerNorm` over the sample shape).

use super::arguments::{EPS_RANGE, eps_in_f32};
use super::lowering::{normalize, per_sample};
use super::shapes::scale_and_offset;
use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    pub eps: f64,
}

impl Stage for LayerNorm {
    const KEYWORD: &'static str = "layernorm";
    const ALIASES: &'static [&'static str] = &["layer_norm", "ln"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<LayerNorm> {
        let eps = a.real(cx, "eps", Some(1e-5), eps_in_f32, EPS_RANGE);
        Some(LayerNorm { eps: eps?.0 })
    }
}

impl Rule for LayerNorm {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        Some(Inferred {
            shape: input.shape.to_vec(),
            params: scale_and_offset(input.shape).into(),
            buffers: Vec::new(),
        })
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x) = (&mut *lx.g, inputs[0]);
        let rank = g.shape(x).rank();
        let axes: Vec<usize> = (1..rank).collect();
        let y = normalize(g, x, &axes, self.eps as f32).0;
        let (w, b) = (per_sample(g, lx.params[0]), per_sample(g, lx.params[1]));
        let y = g.mul(y, w);
        g.add(y, b)
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "layernorm", "eps": self.eps})
    }
}
