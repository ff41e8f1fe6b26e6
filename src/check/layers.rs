//! The built-in layers: their arguments, shape rules and parameters.
//!
//! Shapes are per sample (the batch is implicit): vectors `[n]` and images
//! `[channels, height, width]`. Parameter layouts follow PyTorch (a dense
//! weight is `[out, in]`, a conv weight `[out, in, kh, kw]`), so that counts
//! and checkpoints compare one to one.

use super::Cx;
use super::args::Args;
use super::model::*;
use super::value::Value;
use crate::diag::{Diagnostic, codes};
use crate::syntax::Span;

pub const BUILTINS: &[&str] = &[
    "dense",
    "conv",
    "maxpool",
    "avgpool",
    "flatten",
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "prelu",
    "softmax",
    "batchnorm",
    "layernorm",
    "instancenorm",
    "dropout",
];

/// No tensor may hold more elements than this (16 GiB of f32): a larger one
/// is a typo in a size, and its byte count would be near overflowing anyway.
pub const MAX_ELEMENTS: usize = 1 << 32;

pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// Names from other frameworks, with the dlc spelling.
pub fn alias(name: &str) -> Option<String> {
    let ours = match name.to_lowercase().as_str() {
        "linear" | "fc" | "fully_connected" => "dense",
        "conv2d" | "convolution" => "conv",
        "maxpool2d" | "max_pool" | "max_pool2d" => "maxpool",
        "avgpool2d" | "avg_pool" | "avg_pool2d" | "averagepool" => "avgpool",
        "batchnorm1d" | "batchnorm2d" | "batch_norm" | "bn" => "batchnorm",
        "layer_norm" | "ln" => "layernorm",
        "instancenorm2d" | "instance_norm" => "instancenorm",
        "leakyrelu" | "lrelu" => "leaky_relu",
        "logistic" => "sigmoid",
        "reshape" | "view" => return Some("only `flatten` reshapes inside a network; reshape the data with `reshape [c, h, w]` in its `data` item".into()),
        _ => return None,
    };
    Some(format!("`{name}` is written `{ours}` in dlc"))
}

pub fn positional(name: &str) -> &'static [&'static str] {
    match name {
        "dense" => &["units"],
        "conv" => &["filters"],
        "maxpool" | "avgpool" => &["window"],
        "leaky_relu" => &["slope"],
        "dropout" => &["rate"],
        _ => &[],
    }
}

pub fn flags(name: &str) -> &'static [&'static str] {
    match name {
        "prelu" => &["per_channel"],
        "instancenorm" => &["affine"],
        _ => &[],
    }
}

/// The shape flowing into a layer, and where it was made.
pub struct Input<'a> {
    pub shape: &'a [usize],
    pub span: Span,
}

pub struct Built {
    pub op: Op,
    pub shape: Vec<usize>,
    pub params: Vec<Tensor>,
    pub buffers: Vec<Tensor>,
    /// An explicit `init:`; otherwise it is chosen from the activation.
    pub init: Option<Init>,
}

/// What a layer's arguments say beyond its [`Op`].
#[derive(Clone, Copy, Default)]
pub struct Extras {
    pub bias: bool,
    /// An explicit `init:` (for PReLU: the initial slope).
    pub init: Option<Init>,
    /// Where the kernel or window size was written, if it was: a window
    /// that does not fit is reported there.
    pub window_span: Option<Span>,
}

/// Reads a layer's arguments and applies its shape rule. With an unknown
/// input (after an earlier error) the arguments are still checked.
pub fn build(
    cx: &mut Cx,
    name: &str,
    a: &mut Args,
    input: Option<Input>,
    span: Span,
) -> Option<Built> {
    let plain = |op: Op| (op, Extras::default());
    let (op, extras) = match name {
        "dense" => {
            let units = a.size(cx, "units", 1, None);
            let bias = a.boolean(cx, "bias", true);
            let init = init_arg(cx, a);
            (
                Op::Dense { units: units?.0 },
                Extras {
                    bias: bias?.0,
                    init: init?,
                    window_span: None,
                },
            )
        }
        "conv" => {
            let filters = a.size(cx, "filters", 1, None);
            let kernel = pair(cx, a, "kernel", Some(3), 1);
            let stride = pair(cx, a, "stride", Some(1), 1);
            let pad = pad_arg(cx, a, kernel);
            let bias = a.boolean(cx, "bias", true);
            let init = init_arg(cx, a);
            let (kernel, kernel_span) = kernel?;
            let op = Op::Conv {
                filters: filters?.0,
                kernel,
                stride: stride?.0,
                pad: pad?,
            };
            (
                op,
                Extras {
                    bias: bias?.0,
                    init: init?,
                    window_span: written(kernel_span),
                },
            )
        }
        "maxpool" | "avgpool" => {
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
            let kind = if name == "maxpool" {
                PoolKind::Max
            } else {
                PoolKind::Avg
            };
            let op = Op::Pool {
                kind,
                window: window.0,
                stride: stride.0,
                pad: pad.0,
            };
            let extras = Extras {
                window_span: written(window.1),
                ..Extras::default()
            };
            (op, extras)
        }
        "flatten" => plain(Op::Flatten),
        "identity" => plain(Op::Activation(Activation::Identity)),
        "sigmoid" => plain(Op::Activation(Activation::Sigmoid)),
        "tanh" => plain(Op::Activation(Activation::Tanh)),
        "relu" => plain(Op::Activation(Activation::Relu)),
        "softmax" => plain(Op::Activation(Activation::Softmax)),
        "leaky_relu" => {
            let slope = a.real(
                cx,
                "slope",
                Some(0.01),
                |s| (0.0..1.0).contains(&s),
                "must be in [0, 1)",
            );
            plain(Op::Activation(Activation::LeakyRelu { slope: slope?.0 }))
        }
        "prelu" => {
            let per_channel = a.boolean(cx, "per_channel", false);
            let init = a.real(
                cx,
                "init",
                Some(0.25),
                |s| (0.0..1.0).contains(&s),
                "must be in [0, 1)",
            );
            let extras = Extras {
                init: Some(Init::Const(init?.0)),
                ..Extras::default()
            };
            (
                Op::PRelu {
                    per_channel: per_channel?.0,
                },
                extras,
            )
        }
        "batchnorm" => {
            let momentum = a.real(
                cx,
                "momentum",
                Some(0.1),
                |m| (0.0..=1.0).contains(&m),
                "must be in [0, 1]",
            );
            let eps = a.real(cx, "eps", Some(1e-5), eps_in_f32, EPS_RANGE);
            plain(Op::BatchNorm {
                momentum: momentum?.0,
                eps: eps?.0,
            })
        }
        "layernorm" => {
            let eps = a.real(cx, "eps", Some(1e-5), eps_in_f32, EPS_RANGE);
            plain(Op::LayerNorm { eps: eps?.0 })
        }
        "instancenorm" => {
            let eps = a.real(cx, "eps", Some(1e-5), eps_in_f32, EPS_RANGE);
            let affine = a.boolean(cx, "affine", false);
            plain(Op::InstanceNorm {
                eps: eps?.0,
                affine: affine?.0,
            })
        }
        "dropout" => {
            let rate = a.real(
                cx,
                "rate",
                None,
                |r| (0.0..1.0).contains(&r),
                "must be in [0, 1)",
            );
            plain(Op::Dropout { rate: rate?.0 })
        }
        other => unreachable!("layer `{other}` is listed as built-in but has no rule"),
    };
    let input = input?;
    super::shapes::infer(cx, op, extras, &input, span)
}

/// The span of an argument that was written; defaults have an empty span.
fn written(span: Span) -> Option<Span> {
    (span != Span::default()).then_some(span)
}

/// A size or a `[height, width]` pair, each at least `min`.
fn pair(
    cx: &mut Cx,
    a: &mut Args,
    name: &'static str,
    default: Option<i64>,
    min: i64,
) -> Option<([usize; 2], Span)> {
    match a.raw(name) {
        Some((v, span)) => size_pair(cx, a, name, v, span, min),
        None => {
            let Some(d) = default else {
                a.int(cx, name, min, None); // reports the missing argument
                return None;
            };
            let d = usize::try_from(d).ok()?;
            Some(([d, d], Span::default()))
        }
    }
}

fn size_pair(
    cx: &mut Cx,
    a: &mut Args,
    name: &str,
    v: Value,
    span: Span,
    min: i64,
) -> Option<([usize; 2], Span)> {
    let rule = if min == 1 {
        "must be positive".to_string()
    } else {
        format!("must be at least {min}")
    };
    let items = match v {
        Value::List(items) if items.len() == 2 => items,
        Value::List(items) => {
            a.invalid(
                cx,
                name,
                "must be one size or `[height, width]`",
                &format!("{} sizes", items.len()),
                span,
                "expected one size or two",
            );
            return None;
        }
        other => vec![(other, span); 2],
    };
    let mut out = [0usize; 2];
    for (i, (v, s)) in items.iter().enumerate() {
        match v.as_int() {
            Some(n) if n >= min => out[i] = usize::try_from(n).ok()?,
            Some(n) => {
                a.range_error(cx, name, &rule, &n.to_string(), *s);
                return None;
            }
            None => {
                let help = if matches!(v, Value::Real(_)) {
                    " (use `//` for whole-number division)"
                } else {
                    ""
                };
                a.invalid(
                    cx,
                    name,
                    &format!("must be a whole number or `[height, width]`{help}"),
                    &v.describe(),
                    *s,
                    "expected a whole number",
                );
                return None;
            }
        }
    }
    Some((out, span))
}

/// A norm's `eps` is added in f32: it must still be positive (and normal) there.
fn eps_in_f32(e: f64) -> bool {
    e > 0.0 && e.is_finite() && (e as f32) >= f32::MIN_POSITIVE
}

const EPS_RANGE: &str = "must be positive, and at least 1.2e-38 so that it stays positive in f32";

/// `pad: 1`, `pad: [1, 2]` or `pad: same` (keeps the size at stride 1, odd kernels).
fn pad_arg(cx: &mut Cx, a: &mut Args, kernel: Option<([usize; 2], Span)>) -> Option<[usize; 2]> {
    match a.raw("pad") {
        Some((Value::Sym(s), span)) => {
            if s != "same" {
                a.invalid(
                    cx,
                    "pad",
                    "must be a size, `[height, width]` or `same`",
                    &format!("`{s}`"),
                    span,
                    "expected a size or `same`",
                );
                return None;
            }
            let (k, kernel_span) = kernel?;
            if k[0] % 2 == 0 || k[1] % 2 == 0 {
                let mut d = Diagnostic::error(
                    codes::ARG_RANGE,
                    format!(
                        "`pad: same` needs an odd kernel, but the kernel is {}x{}",
                        k[0], k[1]
                    ),
                    span,
                )
                .label("cannot keep the size with an even kernel")
                .help("use an odd kernel such as 3 or 5, or give the padding as a number");
                if let Some(ks) = written(kernel_span) {
                    d = d.secondary(ks, "the kernel size is set here");
                }
                cx.err(d);
                a.ok = false;
                return None;
            }
            Some([k[0] / 2, k[1] / 2])
        }
        Some((v, span)) => size_pair(cx, a, "pad", v, span, 0).map(|p| p.0),
        None => Some([0, 0]),
    }
}

/// `init: he | xavier | lecun | zeros | normal(std: s) | uniform(limit: a)`.
fn init_arg(cx: &mut Cx, a: &mut Args) -> Option<Option<Init>> {
    let Some((v, span)) = a.raw("init") else {
        return Some(None);
    };
    type Named = (String, Vec<(Option<String>, Value, Span)>);
    let named = |v: &Value| -> Option<Named> {
        match v {
            Value::Sym(s) => Some((s.clone(), vec![])),
            Value::Call(n, args) => Some((n.clone(), args.clone())),
            _ => None,
        }
    };
    let choices = [
        "he",
        "xavier",
        "lecun",
        "zeros",
        "normal(std: ...)",
        "uniform(limit: ...)",
    ];
    let Some((kind, args)) = named(&v) else {
        a.invalid(
            cx,
            "init",
            &format!("must be one of {}", super::args::list(&choices)),
            &v.describe(),
            span,
            "not an initialisation",
        );
        return None;
    };
    let number = |key: &str| -> Option<f64> {
        args.iter()
            .find(|(k, _, _)| k.as_deref() == Some(key) || k.is_none())
            .and_then(|(_, v, _)| v.as_real())
    };
    let only = match kind.as_str() {
        "normal" => Some("std"),
        "uniform" => Some("limit"),
        _ => None,
    };
    if let Some(key) = only {
        let stray = args
            .iter()
            .skip(1)
            .chain(
                args.iter()
                    .take(1)
                    .filter(|(k, _, _)| k.as_deref().is_some_and(|k| k != key)),
            )
            .next();
        if let Some((_, _, at)) = stray {
            a.invalid(
                cx,
                "init",
                &format!("`{kind}` takes one argument, `{key}`"),
                &v.to_string(),
                *at,
                &format!("expected e.g. `{kind}({key}: 0.01)`"),
            );
            return None;
        }
    }
    let init = match (kind.as_str(), args.is_empty()) {
        ("he", true) => Init::He { slope: 0.0 },
        ("xavier", true) => Init::Xavier,
        ("lecun", true) => Init::Lecun,
        ("zeros", true) => Init::Const(0.0),
        ("normal", false) => match number("std") {
            Some(s) if s > 0.0 && s.is_finite() => Init::Normal { std: s },
            _ => {
                a.invalid(
                    cx,
                    "init",
                    "`normal` needs a positive `std`",
                    &v.to_string(),
                    span,
                    "expected e.g. `normal(std: 0.01)`",
                );
                return None;
            }
        },
        ("uniform", false) => match number("limit") {
            Some(l) if l > 0.0 && l.is_finite() => Init::Uniform { limit: l },
            _ => {
                a.invalid(
                    cx,
                    "init",
                    "`uniform` needs a positive `limit`",
                    &v.to_string(),
                    span,
                    "expected e.g. `uniform(limit: 0.01)`",
                );
                return None;
            }
        },
        _ => {
            let mut d = Diagnostic::error(
                codes::ARG_RANGE,
                format!("unknown initialisation `{v}`"),
                span,
            )
            .label(format!("expected one of {}", super::args::list(&choices)));
            d = match super::suggest::did_you_mean(
                &kind,
                ["he", "xavier", "lecun", "zeros", "normal", "uniform"],
            ) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(
                    "e.g. `init: he`, or `init: normal(std: 0.01)` for a normal distribution",
                ),
            };
            cx.err(d);
            return None;
        }
    };
    Some(Some(init))
}

/// `[1, 8, 8]` or `10` (a vector) as a shape of positive sizes.
pub fn shape_value(cx: &mut Cx, v: &Value, span: Span, what: &str) -> Option<Vec<usize>> {
    let items: Vec<(Value, Span)> = match v {
        Value::List(items) => items.clone(),
        Value::Int(_) => vec![(v.clone(), span)],
        other => {
            cx.err(
                Diagnostic::error(
                    codes::BAD_SHAPE,
                    format!(
                        "{what} must be a size or a list of sizes, found {}",
                        other.describe()
                    ),
                    span,
                )
                .label("expected e.g. `[2]`, `10` or `[1, 28, 28]`"),
            );
            return None;
        }
    };
    if items.is_empty() {
        cx.err(
            Diagnostic::error(codes::BAD_SHAPE, format!("{what} is empty"), span)
                .label("expected at least one size"),
        );
        return None;
    }
    let mut shape = Vec::new();
    for (item, s) in items {
        match item.as_int() {
            Some(n) if n >= 1 => shape.push(usize::try_from(n).ok()?),
            _ => {
                cx.err(
                    Diagnostic::error(
                        codes::BAD_SHAPE,
                        format!(
                            "sizes in {what} must be positive whole numbers, found {}",
                            item.describe()
                        ),
                        s,
                    )
                    .label("not a positive size")
                    .help("every size is a whole number of at least 1"),
                );
                return None;
            }
        }
    }
    checked_len(cx, &shape, span)?;
    Some(shape)
}

pub fn fmt_shape(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// The number of elements of a shape, or an error if it is absurdly large.
pub fn checked_len(cx: &mut Cx, shape: &[usize], span: Span) -> Option<usize> {
    let len = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match len {
        Some(n) if n <= MAX_ELEMENTS => Some(n),
        _ => {
            let product: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            cx.err(
                Diagnostic::error(
                    codes::SIZE_OVERFLOW,
                    format!("a tensor of shape {} is too large", fmt_shape(shape)),
                    span,
                )
                .label(format!(
                    "{} = {} values, more than 2^32",
                    product.join(" x "),
                    big_product(shape)
                ))
                .help("check the sizes of this layer and of those before it"),
            );
            None
        }
    }
}

/// The product of sizes, exactly, for a message about a shape too large to hold.
fn big_product(shape: &[usize]) -> String {
    let mut digits = vec![1u32]; // little-endian decimal digits
    for &d in shape {
        let mut carry = 0u128;
        for x in digits.iter_mut() {
            let v = u128::from(*x) * d as u128 + carry;
            *x = (v % 10) as u32;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u32);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    let n = digits.len();
    let mut out = String::new();
    for (i, d) in digits.iter().rev().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(char::from(b'0' + *d as u8));
    }
    out
}

pub fn checked_add(cx: &mut Cx, a: usize, b: usize, span: Span) -> Option<usize> {
    match a.checked_add(b) {
        Some(s) if s <= MAX_ELEMENTS => Some(s),
        _ => {
            cx.err(
                Diagnostic::error(
                    codes::SIZE_OVERFLOW,
                    format!("size {a} + {b} is too large"),
                    span,
                )
                .label("this size overflows"),
            );
            None
        }
    }
}
