//! What `maxpool` and `avgpool` share: their window arguments and their
//! shape rule. Each kind has its own file for its lowering.

use super::arguments::{pair, written};
use super::shapes::{Slide, image};
use super::*;

/// A pooling window: its size, its step and the padding of the input.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolWindow {
    pub window: [usize; 2],
    pub stride: [usize; 2],
    pub pad: [usize; 2],
    /// Where the window size was written: a window that does not fit is
    /// reported there.
    pub window_span: Option<Span>,
}

impl PoolWindow {
    pub fn bind(cx: &mut Cx, a: &mut Args) -> Option<PoolWindow> {
        let window = pair(cx, a, "window", None, 1);
        // The window steps by its own size unless told otherwise, as in PyTorch.
        let stride = if a.has("stride") {
            pair(cx, a, "stride", Some(1), 1)
        } else {
            window
        };
        let pad = pair(cx, a, "pad", Some(0), 0);
        let (window, stride, pad) = (window?, stride?, pad?);
        if pad.0[0] * 2 > window.0[0] || pad.0[1] * 2 > window.0[1] {
            let found = format!(
                "{} for a window of {}",
                pad.0[0].max(pad.0[1]),
                window.0[0].min(window.0[1])
            );
            a.invalid(
                cx,
                "pad",
                "must be at most half the window",
                &found,
                pad.1,
                "more than half the window",
            );
            return None;
        }
        Some(PoolWindow {
            window: window.0,
            stride: stride.0,
            pad: pad.0,
            window_span: written(window.1),
        })
    }

    /// `[channels, out height, out width]` of pooling `input`.
    pub fn infer(
        &self,
        cx: &mut Cx,
        keyword: &str,
        input: &Incoming,
        span: Span,
    ) -> Option<Inferred> {
        let [c, h, w] = image(cx, keyword, input, span)?;
        let slide = Slide {
            what: "window",
            layer: keyword,
            input,
            span: self.window_span.unwrap_or(span),
        };
        let (k, s, p) = (self.window, self.stride, self.pad);
        let oh = slide.out(cx, h, k[0], s[0], p[0], "height")?;
        let ow = slide.out(cx, w, k[1], s[1], p[1], "width")?;
        Some(Inferred::plain(vec![c, oh, ow]))
    }

    pub fn describe(&self, keyword: &str) -> String {
        let mut s = format!("{keyword} {}x{}", self.window[0], self.window[1]);
        if self.stride != self.window {
            s += &format!(", stride {}", pair_text(self.stride));
        }
        if self.pad != [0, 0] {
            s += &format!(", pad {}", pair_text(self.pad));
        }
        s
    }

    pub fn parity(&self, keyword: &str) -> Value {
        serde_json::json!({
            "type": keyword, "window": self.window, "stride": self.stride, "pad": self.pad,
        })
    }
}
