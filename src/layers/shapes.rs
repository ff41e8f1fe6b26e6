//! Shape rules shared by several layer kinds: weights and biases, image
//! inputs, and sliding windows (conv kernels, pooling windows).
//!
//! A rule that fails says what the layer needs, what it got, and where the
//! input was made (a secondary label at the producing layer).

use super::Incoming;
use super::Tensor;
use crate::bind::Cx;
use crate::bind::sizes::{checked_len, fmt_shape};
use crate::diag::{Diagnostic, codes};
use crate::ir::Init;
use crate::syntax::Span;

pub fn weight(cx: &mut Cx, shape: Vec<usize>, span: Span) -> Option<Tensor> {
    checked_len(cx, &shape, span)?;
    // The real initialiser is chosen once the following activation is known.
    Some(Tensor {
        name: "weight".into(),
        shape,
        init: Init::Xavier,
        decay: true,
    })
}

/// A norm's learned scale (ones) and offset (zeros), each of `shape`.
pub fn scale_and_offset(shape: &[usize]) -> [Tensor; 2] {
    let tensor = |name: &str, value: f64| Tensor {
        name: name.into(),
        shape: shape.to_vec(),
        init: Init::Const(value),
        decay: false,
    };
    [tensor("weight", 1.0), tensor("bias", 0.0)]
}

/// The length of a vector input, or an error naming the layer: `what` says
/// what the layer does with the vector.
pub fn vector(
    cx: &mut Cx,
    keyword: &str,
    what: &str,
    input: &Incoming,
    span: Span,
) -> Option<usize> {
    if let [n] = input.shape {
        return Some(*n);
    }
    cx.err(
        Diagnostic::error(
            codes::NEEDS_VECTOR,
            format!(
                "`{keyword}` needs a vector, but its input has shape {}",
                fmt_shape(input.shape)
            ),
            span,
        )
        .label(what.to_string())
        .secondary(input.span, from_here(input))
        .help("insert `flatten` before this layer"),
    );
    None
}

/// The secondary label at the layer that made an input.
pub fn from_here(input: &Incoming) -> String {
    format!(
        "the input comes from here, with shape {}",
        fmt_shape(input.shape)
    )
}

pub fn bias(n: usize) -> Tensor {
    Tensor {
        name: "bias".into(),
        shape: vec![n],
        init: Init::Const(0.0),
        decay: false,
    }
}

/// The `[c, h, w]` of an image input, or an error naming the layer.
pub fn image(cx: &mut Cx, what: &str, input: &Incoming, span: Span) -> Option<[usize; 3]> {
    match input.shape {
        [c, h, w] => Some([*c, *h, *w]),
        other => {
            let help = if other.len() == 1 {
                "image layers come before `flatten`; if the data are images, declare the input as `[channels, height, width]` and `reshape` the data"
            } else {
                "image layers need `[channels, height, width]`"
            };
            cx.err(
                Diagnostic::error(
                    codes::NEEDS_IMAGE,
                    format!("`{what}` needs an image [channels, height, width], but its input has shape {}", fmt_shape(other)),
                    span,
                )
                .label("expects an image")
                .secondary(input.span, format!("the input comes from here, with shape {}", fmt_shape(other)))
                .help(help),
            );
            None
        }
    }
}

/// A sliding window (a conv kernel or a pooling window) over an image input.
pub struct Slide<'a> {
    /// "kernel" or "window".
    pub what: &'static str,
    /// The layer's keyword, for messages.
    pub layer: &'a str,
    pub input: &'a Incoming<'a>,
    /// Where the window's size was written (or the layer, for a default).
    pub span: Span,
}

impl Slide<'_> {
    /// Output size along one axis: (size + 2 pad - k) / stride + 1, or an
    /// error when the window does not fit in the padded input.
    pub fn out(
        &self,
        cx: &mut Cx,
        size: usize,
        k: usize,
        stride: usize,
        pad: usize,
        axis: &str,
    ) -> Option<usize> {
        let what = self.what;
        let Some(padded) = pad.checked_mul(2).and_then(|p| p.checked_add(size)) else {
            cx.err(
                Diagnostic::error(
                    codes::SIZE_OVERFLOW,
                    format!("padding {pad} on each side of the input {axis} {size} overflows"),
                    self.span,
                )
                .label(format!("the padded {axis} does not fit in 64 bits"))
                .help("pad by at most half the kernel, e.g. `pad: 1` for a 3x3 kernel"),
            );
            return None;
        };
        if k <= padded {
            return Some((padded - k) / stride.max(1) + 1);
        }
        let message = if pad > 0 {
            format!("{what} {k} is larger than the input {axis} {size}, padded to {padded}")
        } else {
            format!("{what} {k} is larger than the input {axis} {size}")
        };
        let help = if self.layer.ends_with("pool") && padded <= 1 {
            format!(
                "the input is already 1 wide in {axis}: remove this `{}`",
                self.layer
            )
        } else if pad == 0 && what == "kernel" {
            format!(
                "use a kernel of at most {padded}, or pad the input, e.g. `pad: {}`",
                (k - size).div_ceil(2)
            )
        } else if what == "kernel" {
            format!("use a kernel of at most {padded}, or more padding")
        } else {
            format!("use a window of at most {padded}, or pool less before this layer")
        };
        cx.err(
            Diagnostic::error(codes::WINDOW_TOO_LARGE, message, self.span)
                .label(format!("does not fit in {padded}"))
                .secondary(
                    self.input.span,
                    format!(
                        "the input comes from here, with shape {}",
                        fmt_shape(self.input.shape)
                    ),
                )
                .help(help),
        );
        None
    }
}
