//! Arguments shared by several layer kinds: sizes and `[height, width]`
//! pairs, padding, a norm's `eps`, and `init:`.

use crate::bind::Cx;
use crate::bind::args::{self, Args};
use crate::bind::value::Value;
use crate::diag::{Diagnostic, codes};
use crate::ir::Init;
use crate::syntax::Span;

/// The span of an argument that was written; defaults have an empty span.
pub fn written(span: Span) -> Option<Span> {
    (span != Span::default()).then_some(span)
}

/// A size or a `[height, width]` pair, each at least `min`.
pub fn pair(
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
pub fn eps_in_f32(e: f64) -> bool {
    e > 0.0 && e.is_finite() && (e as f32) >= f32::MIN_POSITIVE
}

pub const EPS_RANGE: &str =
    "must be positive, and at least 1.2e-38 so that it stays positive in f32";

/// `pad: 1`, `pad: [1, 2]` or `pad: same` (keeps the size at stride 1, odd kernels).
pub fn pad_arg(
    cx: &mut Cx,
    a: &mut Args,
    kernel: Option<([usize; 2], Span)>,
) -> Option<[usize; 2]> {
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
pub fn init_arg(cx: &mut Cx, a: &mut Args) -> Option<Option<Init>> {
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
            &format!("must be one of {}", args::list(&choices)),
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
            .label(format!("expected one of {}", args::list(&choices)));
            d = match crate::bind::did_you_mean(
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
