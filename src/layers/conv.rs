//! `conv FILTERS, kernel: K, stride: S, pad: P | same`: a 2-D convolution
//! over `[channels, height, width]`, with PyTorch's weight layout
//! `[filters, channels, kh, kw]`.

use super::arguments::{init_arg, pad_arg, pair, written};
use super::lowering::per_channel;
use super::shapes::{Slide, bias, image, weight};
use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    pub filters: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub pad: [usize; 2],
    pub bias: bool,
    /// An explicit `init:`; otherwise it suits the activation that follows.
    pub init: Option<Init>,
    /// Where the kernel size was written: a kernel that does not fit is
    /// reported there.
    pub kernel_span: Option<Span>,
}

impl Stage for Conv {
    const KEYWORD: &'static str = "conv";
    const ALIASES: &'static [&'static str] = &["conv2d", "convolution"];
    const POSITIONAL: &'static [&'static str] = &["filters"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Conv> {
        let filters = a.size(cx, "filters", 1, None);
        let kernel = pair(cx, a, "kernel", Some(3), 1);
        let stride = pair(cx, a, "stride", Some(1), 1);
        let pad = pad_arg(cx, a, kernel);
        let bias = a.boolean(cx, "bias", true);
        let init = init_arg(cx, a);
        let (kernel, kernel_span) = kernel?;
        Some(Conv {
            filters: filters?.0,
            kernel,
            stride: stride?.0,
            pad: pad?,
            bias: bias?.0,
            init: init?,
            kernel_span: written(kernel_span),
        })
    }
}

impl Rule for Conv {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred> {
        let [c, h, w] = image(cx, "conv", input, span)?;
        let slide = Slide {
            what: "kernel",
            layer: "conv",
            input,
            span: self.kernel_span.unwrap_or(span),
        };
        let (k, s, p) = (self.kernel, self.stride, self.pad);
        let oh = slide.out(cx, h, k[0], s[0], p[0], "height")?;
        let ow = slide.out(cx, w, k[1], s[1], p[1], "width")?;
        let mut params = vec![weight(cx, vec![self.filters, c, k[0], k[1]], span)?];
        if self.bias {
            params.push(bias(self.filters));
        }
        Some(Inferred {
            shape: vec![self.filters, oh, ow],
            params,
            buffers: Vec::new(),
        })
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let g = &mut *lx.g;
        let y = g.conv2d(inputs[0], lx.params[0], self.stride, self.pad);
        match lx.params.get(1) {
            Some(&b) => {
                let b = per_channel(g, b, 4);
                g.add(y, b)
            }
            None => y,
        }
    }

    fn describe(&self, _layer: &Layer) -> String {
        let mut s = format!(
            "conv {}, {}x{}",
            self.filters, self.kernel[0], self.kernel[1]
        );
        if self.stride != [1, 1] {
            s += &format!(", stride {}", pair_text(self.stride));
        }
        if self.pad != [0, 0] {
            s += &format!(", pad {}", pair_text(self.pad));
        }
        if !self.bias {
            s += ", no bias";
        }
        s
    }

    fn parity(&self) -> Value {
        serde_json::json!({
            "type": "conv", "filters": self.filters, "kernel": self.kernel,
            "stride": self.stride, "pad": self.pad,
        })
    }

    fn init_override(&self) -> Option<Init> {
        self.init
    }

    fn weights_follow_activation(&self) -> bool {
        true
    }
}
