//! Shape rules: each layer's output shape and parameter tensors from its input.
//!
//! A rule that fails says what the layer needs, what it got, and where the
//! input was made (a secondary label at the producing layer).

use super::Cx;
use super::layers::{Built, Extras, Input, checked_len, fmt_shape};
use super::model::*;
use crate::diag::{Diagnostic, codes};
use crate::syntax::Span;

pub fn infer(cx: &mut Cx, op: Op, extras: Extras, input: &Input, span: Span) -> Option<Built> {
    let shape = input.shape;
    let from = |d: Diagnostic| {
        d.secondary(
            input.span,
            format!("the input comes from here, with shape {}", fmt_shape(shape)),
        )
    };
    let mut params = Vec::new();
    let mut buffers = Vec::new();
    let out: Vec<usize> = match &op {
        Op::Input => unreachable!("the input is not built from a stage"),
        Op::Dense { units } => {
            if shape.len() != 1 {
                cx.err(from(
                    Diagnostic::error(
                        codes::NEEDS_VECTOR,
                        format!(
                            "`dense` needs a vector, but its input has shape {}",
                            fmt_shape(shape)
                        ),
                        span,
                    )
                    .label("expects a vector `[n]`")
                    .help("insert `flatten` before this layer"),
                ));
                return None;
            }
            params.push(weight(cx, vec![*units, shape[0]], span)?);
            if extras.bias {
                params.push(bias(*units));
            }
            vec![*units]
        }
        Op::Conv {
            filters,
            kernel,
            stride,
            pad,
        } => {
            let [c, h, w] = image(cx, "conv", input, span)?;
            let at = extras.window_span.unwrap_or(span);
            let win = Window {
                what: "kernel",
                layer: "conv",
                input,
                span: at,
            };
            let oh = win.out(cx, h, kernel[0], stride[0], pad[0], "height")?;
            let ow = win.out(cx, w, kernel[1], stride[1], pad[1], "width")?;
            params.push(weight(cx, vec![*filters, c, kernel[0], kernel[1]], span)?);
            if extras.bias {
                params.push(bias(*filters));
            }
            vec![*filters, oh, ow]
        }
        Op::Pool {
            kind,
            window,
            stride,
            pad,
        } => {
            let what = if *kind == PoolKind::Max {
                "maxpool"
            } else {
                "avgpool"
            };
            let [c, h, w] = image(cx, what, input, span)?;
            let win = Window {
                what: "window",
                layer: what,
                input,
                span: extras.window_span.unwrap_or(span),
            };
            let oh = win.out(cx, h, window[0], stride[0], pad[0], "height")?;
            let ow = win.out(cx, w, window[1], stride[1], pad[1], "width")?;
            vec![c, oh, ow]
        }
        Op::Flatten => {
            if shape.len() == 1 {
                cx.err(from(
                    Diagnostic::warning(
                        codes::W_NO_EFFECT,
                        "`flatten` of a vector does nothing",
                        span,
                    )
                    .label("the input is already flat")
                    .help("remove this layer"),
                ));
            }
            vec![checked_len(cx, shape, span)?]
        }
        Op::Activation(Activation::Softmax) => {
            if shape.len() != 1 {
                cx.err(from(
                    Diagnostic::error(
                        codes::NEEDS_VECTOR,
                        format!(
                            "`softmax` needs a vector, but its input has shape {}",
                            fmt_shape(shape)
                        ),
                        span,
                    )
                    .label("softmax normalises over the features of a vector")
                    .help("insert `flatten` before this layer"),
                ));
                return None;
            }
            shape.to_vec()
        }
        Op::Activation(_) | Op::Dropout { .. } => shape.to_vec(),
        Op::PRelu { per_channel } => {
            let n = if *per_channel { shape[0] } else { 1 };
            let init = extras.init.unwrap_or(Init::Const(0.25));
            params.push(Tensor {
                name: "weight".into(),
                shape: vec![n],
                init,
                decay: false,
            });
            shape.to_vec()
        }
        Op::BatchNorm { .. } => {
            // Per feature for vectors, per channel for images (as BatchNorm1d/2d).
            let c = shape[0];
            params.push(Tensor {
                name: "weight".into(),
                shape: vec![c],
                init: Init::Const(1.0),
                decay: false,
            });
            params.push(Tensor {
                name: "bias".into(),
                shape: vec![c],
                init: Init::Const(0.0),
                decay: false,
            });
            buffers.push(Tensor {
                name: "running_mean".into(),
                shape: vec![c],
                init: Init::Const(0.0),
                decay: false,
            });
            buffers.push(Tensor {
                name: "running_var".into(),
                shape: vec![c],
                init: Init::Const(1.0),
                decay: false,
            });
            shape.to_vec()
        }
        Op::LayerNorm { .. } => {
            // Normalises each sample over all its values, with a scale and
            // offset per value (PyTorch's LayerNorm over the sample shape).
            params.push(Tensor {
                name: "weight".into(),
                shape: shape.to_vec(),
                init: Init::Const(1.0),
                decay: false,
            });
            params.push(Tensor {
                name: "bias".into(),
                shape: shape.to_vec(),
                init: Init::Const(0.0),
                decay: false,
            });
            shape.to_vec()
        }
        Op::InstanceNorm { affine, .. } => {
            let [c, _, _] = image(cx, "instancenorm", input, span)?;
            if *affine {
                params.push(Tensor {
                    name: "weight".into(),
                    shape: vec![c],
                    init: Init::Const(1.0),
                    decay: false,
                });
                params.push(Tensor {
                    name: "bias".into(),
                    shape: vec![c],
                    init: Init::Const(0.0),
                    decay: false,
                });
            }
            shape.to_vec()
        }
        Op::Add | Op::Concat => unreachable!("merges are built by the network"),
    };
    checked_len(cx, &out, span)?;
    Some(Built {
        op,
        shape: out,
        params,
        buffers,
        init: extras.init,
    })
}

fn weight(cx: &mut Cx, shape: Vec<usize>, span: Span) -> Option<Tensor> {
    checked_len(cx, &shape, span)?;
    // The real initialiser is chosen once the following activation is known.
    Some(Tensor {
        name: "weight".into(),
        shape,
        init: Init::Xavier,
        decay: true,
    })
}

fn bias(n: usize) -> Tensor {
    Tensor {
        name: "bias".into(),
        shape: vec![n],
        init: Init::Const(0.0),
        decay: false,
    }
}

/// The `[c, h, w]` of an image input, or an error naming the layer.
fn image(cx: &mut Cx, what: &str, input: &Input, span: Span) -> Option<[usize; 3]> {
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
struct Window<'a> {
    /// "kernel" or "window".
    what: &'static str,
    /// The layer's keyword, for messages.
    layer: &'a str,
    input: &'a Input<'a>,
    /// Where the window's size was written (or the layer, for a default).
    span: Span,
}

impl Window<'_> {
    /// Output size along one axis: (size + 2 pad - k) / stride + 1, or an
    /// error when the window does not fit in the padded input.
    fn out(
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
