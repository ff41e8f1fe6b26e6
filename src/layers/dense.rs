//! `dense UNITS`: a fully connected layer, `y = x W^T + b`, with PyTorch's
//! layout (`weight` is `[units, in]`) so that checkpoints compare one to one.

use super::arguments::init_arg;
use super::shapes::{bias, vector, weight};
use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub units: usize,
    pub bias: bool,
    /// An explicit `init:`; otherwise it suits the activation that follows.
    pub init: Option<Init>,
}

impl Stage for Dense {
    const KEYWORD: &'static str = "dense";
    const ALIASES: &'static [&'static str] = &["linear", "fc", "fully_connected"];
    const POSITIONAL: &'static [&'static str] = &["units"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Dense> {
        let units = a.size(cx, "units", 1, None);
        let bias = a.boolean(cx, "bias", true);
        let init = init_arg(cx, a);
        Some(Dense {
            units: units?.0,
            bias: bias?.0,
            init: init?,
        })
    }
}

impl Rule for Dense {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred> {
        let n = vector(cx, "dense", "expects a vector `[n]`", input, span)?;
        let mut params = vec![weight(cx, vec![self.units, n], span)?];
        if self.bias {
            params.push(bias(self.units));
        }
        Some(Inferred {
            shape: vec![self.units],
            params,
            buffers: Vec::new(),
        })
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let g = &mut *lx.g;
        let y = g.matmul(inputs[0], lx.params[0], false, true);
        match lx.params.get(1) {
            Some(&b) => {
                let b = super::lowering::per_sample(g, b);
                g.add(y, b)
            }
            None => y,
        }
    }

    fn describe(&self, _layer: &Layer) -> String {
        let no_bias = if self.bias { "" } else { ", no bias" };
        format!("dense {}{no_bias}", self.units)
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "dense", "units": self.units})
    }

    fn init_override(&self) -> Option<Init> {
        self.init
    }

    fn weights_follow_activation(&self) -> bool {
        true
    }
}
