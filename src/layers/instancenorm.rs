//! `instancenorm`: normalises each channel of each image over its pixels,
//! with (`affine`) or without a learned scale and offset per channel, as
//! PyTorch's `InstanceNorm2d`.

use super::arguments::{EPS_RANGE, eps_in_f32};
use super::lowering::{normalize, scale_and_offset_per_channel};
use super::shapes::{image, scale_and_offset};
use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct InstanceNorm {
    pub eps: f64,
    pub affine: bool,
}

impl Stage for InstanceNorm {
    const KEYWORD: &'static str = "instancenorm";
    const ALIASES: &'static [&'static str] = &["instancenorm2d", "instance_norm"];
    const FLAGS: &'static [&'static str] = &["affine"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<InstanceNorm> {
        let eps = a.real(cx, "eps", Some(1e-5), eps_in_f32, EPS_RANGE);
        let affine = a.boolean(cx, "affine", false);
        Some(InstanceNorm {
            eps: eps?.0,
            affine: affine?.0,
        })
    }
}

impl Rule for InstanceNorm {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred> {
        let [c, _, _] = image(cx, "instancenorm", input, span)?;
        let params = if self.affine {
            scale_and_offset(&[c]).into()
        } else {
            Vec::new()
        };
        Some(Inferred {
            shape: input.shape.to_vec(),
            params,
            buffers: Vec::new(),
        })
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let g = &mut *lx.g;
        let y = normalize(g, inputs[0], &[2, 3], self.eps as f32).0;
        if self.affine {
            scale_and_offset_per_channel(g, y, lx.params[0], lx.params[1])
        } else {
            y
        }
    }

    fn describe(&self, _layer: &Layer) -> String {
        if self.affine {
            "instancenorm, affine".into()
        } else {
            "instancenorm".into()
        }
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "instancenorm", "eps": self.eps, "affine": self.affine})
    }
}
