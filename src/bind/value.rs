//! Compile-time values: what an argument expression evaluates to.
//!
//! Arguments are evaluated before they are interpreted, in the environment of
//! the block parameters in scope. Whole-number arithmetic is checked: an
//! overflow is an error at the operator, never a wrap or a panic.

use super::Cx;
use crate::diag::{Diagnostic, codes};
use crate::syntax::{BinOp, Expr, ExprKind, Span};
use std::collections::HashMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Real(f64),
    Bool(bool),
    Str(String),
    /// A bare name that is not a block parameter: `nesterov`, `val_loss`, `he`.
    Sym(String),
    List(Vec<(Value, Span)>),
    Call(String, Vec<(Option<String>, Value, Span)>),
}

impl Value {
    /// "a whole number", "the string \"x\"" ...: how a value is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Int(i) => format!("the whole number {i}"),
            Value::Real(r) => format!("the number {}", fmt_real(*r)),
            Value::Bool(b) => format!("`{b}`"),
            Value::Str(s) => format!("the string {s:?}"),
            Value::Sym(s) => format!("the name `{s}`"),
            Value::List(_) => format!("the list {self}"),
            Value::Call(n, _) => format!("`{n}(...)`"),
        }
    }

    pub fn as_real(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// A whole number, also when written as an integral real such as `1e3`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e15 => Some(*r as i64),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Real(r) => f.write_str(&fmt_real(*r)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Sym(s) => f.write_str(s),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(|(v, _)| v.to_string()).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            Value::Call(n, args) => {
                let parts: Vec<String> = args
                    .iter()
                    .map(|(k, v, _)| match k {
                        Some(k) => format!("{k}: {v}"),
                        None => v.to_string(),
                    })
                    .collect();
                write!(f, "{n}({})", parts.join(", "))
            }
        }
    }
}

/// Shortest text that reads back as the same number.
pub fn fmt_real(r: f64) -> String {
    if r.fract() == 0.0 && r.abs() < 1e15 {
        format!("{r:.1}")
    } else if r != 0.0 && (r.abs() < 1e-3 || r.abs() >= 1e15) {
        format!("{r:e}")
    } else {
        format!("{r}")
    }
}

/// Names bound to values: the parameters of the block being expanded.
pub type Env = HashMap<String, (Value, Span)>;

/// Evaluates an expression; `None` after reporting why it has no value.
pub fn eval(cx: &mut Cx, env: &Env, e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Number(text) => number(cx, text, e.span),
        ExprKind::Str(s) => Some(Value::Str(s.clone())),
        ExprKind::Bool(b) => Some(Value::Bool(*b)),
        ExprKind::Name(n) => Some(match env.get(n) {
            Some((v, _)) => v.clone(),
            None => Value::Sym(n.clone()),
        }),
        ExprKind::List(items) => {
            let mut out = Vec::new();
            let mut ok = true;
            for item in items {
                match eval(cx, env, item) {
                    Some(v) => out.push((v, item.span)),
                    None => ok = false,
                }
            }
            ok.then_some(Value::List(out))
        }
        ExprKind::Call(c) => {
            let mut out = Vec::new();
            let mut ok = true;
            for a in &c.args {
                match eval(cx, env, &a.value) {
                    Some(v) => out.push((a.name.as_ref().map(|n| n.name.clone()), v, a.value.span)),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            match c.name.name.as_str() {
                "sqrt" => sqrt(cx, out, e.span),
                _ => Some(Value::Call(c.name.name.clone(), out)),
            }
        }
        ExprKind::Neg(inner) => match eval(cx, env, inner)? {
            Value::Int(i) => Some(Value::Int(i.checked_neg()?)),
            Value::Real(r) => Some(Value::Real(-r)),
            other => {
                cx.err(
                    Diagnostic::error(
                        codes::ARG_TYPE,
                        format!("cannot negate {}", other.describe()),
                        e.span,
                    )
                    .label("`-` needs a number"),
                );
                None
            }
        },
        ExprKind::Binary(op, l, r) => {
            let lv = eval(cx, env, l);
            let rv = eval(cx, env, r);
            binary(cx, *op, (lv?, l.span), (rv?, r.span), e.span)
        }
    }
}

fn number(cx: &mut Cx, text: &str, span: Span) -> Option<Value> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let is_real = clean.contains(['.', 'e', 'E']);
    if !is_real {
        if let Ok(i) = clean.parse::<i64>() {
            return Some(Value::Int(i));
        }
        cx.err(
            Diagnostic::error(codes::BAD_NUMBER, "number is too large", span)
                .label("larger than 9223372036854775807")
                .help("sizes and counts must fit in 64 bits"),
        );
        return None;
    }
    match clean.parse::<f64>() {
        Ok(r) if r.is_finite() => Some(Value::Real(r)),
        _ => {
            cx.err(
                Diagnostic::error(codes::BAD_NUMBER, "number is too large", span)
                    .label("this is infinite as a 64-bit real")
                    .help("write a finite number"),
            );
            None
        }
    }
}

/// Integer division rounding down, as `//` on reals (and in Python): `-3 // 2`
/// is -2 and `3 // -2` is -2. `None` on overflow (`i64::MIN // -1`).
fn floor_div(a: i64, b: i64) -> Option<i64> {
    let q = a.checked_div(b)?;
    let rounded_toward_zero = a % b != 0 && ((a < 0) != (b < 0));
    Some(if rounded_toward_zero { q - 1 } else { q })
}

fn binary(cx: &mut Cx, op: BinOp, l: (Value, Span), r: (Value, Span), span: Span) -> Option<Value> {
    let sym = op.symbol();
    if let (Value::Int(a), Value::Int(b)) = (&l.0, &r.0) {
        let (a, b) = (*a, *b);
        let result = match op {
            BinOp::Add => a.checked_add(b),
            BinOp::Sub => a.checked_sub(b),
            BinOp::Mul => a.checked_mul(b),
            BinOp::FloorDiv | BinOp::Div if b == 0 => return division_by_zero(cx, r.1),
            BinOp::FloorDiv => floor_div(a, b),
            BinOp::Div => return Some(Value::Real(a as f64 / b as f64)),
            BinOp::Pow if b < 0 => return real_binary(cx, op, a as f64, b as f64, r.1, span),
            BinOp::Pow => match u32::try_from(b) {
                Ok(b) => a.checked_pow(b),
                // Only 0, 1 and -1 have powers this high within 64 bits.
                Err(_) if a.abs() <= 1 => Some(if a == -1 && b % 2 == 0 { 1 } else { a }),
                Err(_) => None,
            },
        };
        return match result {
            Some(v) => Some(Value::Int(v)),
            None => {
                cx.err(
                    Diagnostic::error(
                        codes::SIZE_OVERFLOW,
                        format!("`{a} {sym} {b}` overflows"),
                        span,
                    )
                    .label("the result does not fit in 64 bits")
                    .help("whole-number arithmetic is checked; use smaller sizes"),
                );
                None
            }
        };
    }
    let (Some(a), Some(b)) = (l.0.as_real(), r.0.as_real()) else {
        let (bad, bad_span) = if l.0.as_real().is_none() {
            (&l.0, l.1)
        } else {
            (&r.0, r.1)
        };
        cx.err(
            Diagnostic::error(
                codes::ARG_TYPE,
                format!("`{sym}` needs numbers, found {}", bad.describe()),
                bad_span,
            )
            .label("not a number"),
        );
        return None;
    };
    real_binary(cx, op, a, b, r.1, span)
}

fn real_binary(cx: &mut Cx, op: BinOp, a: f64, b: f64, rhs: Span, span: Span) -> Option<Value> {
    let sym = op.symbol();
    let v = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div | BinOp::FloorDiv if b == 0.0 => return division_by_zero(cx, rhs),
        BinOp::Div => a / b,
        BinOp::FloorDiv => (a / b).floor(),
        BinOp::Pow if a == 0.0 && b < 0.0 => return division_by_zero(cx, span),
        BinOp::Pow => a.powf(b),
    };
    if v.is_nan() {
        cx.err(
            Diagnostic::error(
                codes::ARG_RANGE,
                format!("`{} ** {}` is not a real number", fmt_real(a), fmt_real(b)),
                span,
            )
            .label("a negative number to a fractional power")
            .help("only whole powers of negative numbers are real"),
        );
        return None;
    }
    if !v.is_finite() {
        cx.err(
            Diagnostic::error(
                codes::SIZE_OVERFLOW,
                format!("`{sym}` gives an infinite result"),
                span,
            )
            .label("out of the range of 64-bit reals"),
        );
        return None;
    }
    Some(Value::Real(v))
}

/// `sqrt(x)`: the square root of one number, at least 0.
fn sqrt(cx: &mut Cx, args: Vec<(Option<String>, Value, Span)>, span: Span) -> Option<Value> {
    let (value, at) = match args.as_slice() {
        [(None, v, s)] => (v, *s),
        _ => {
            cx.err(
                Diagnostic::error(
                    codes::ARG_TYPE,
                    "`sqrt` takes one number, e.g. `sqrt(13)`",
                    span,
                )
                .label(format!("given {} arguments", args.len())),
            );
            return None;
        }
    };
    match value.as_real() {
        Some(x) if x >= 0.0 => Some(Value::Real(x.sqrt())),
        Some(x) => {
            cx.err(
                Diagnostic::error(
                    codes::ARG_RANGE,
                    format!("`sqrt` of a negative number, {}", fmt_real(x)),
                    at,
                )
                .label("below 0")
                .help("`sqrt` takes a number of at least 0"),
            );
            None
        }
        None => {
            cx.err(
                Diagnostic::error(
                    codes::ARG_TYPE,
                    format!("`sqrt` needs a number, found {}", value.describe()),
                    at,
                )
                .label("not a number"),
            );
            None
        }
    }
}

fn division_by_zero(cx: &mut Cx, span: Span) -> Option<Value> {
    cx.err(
        Diagnostic::error(codes::DIVISION_BY_ZERO, "division by zero", span).label("this is zero"),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::floor_div;

    #[test]
    fn floor_division_rounds_down_for_every_sign() {
        // As `//` on reals: floor(a / b).
        for a in -7i64..=7 {
            for b in [-3i64, -2, -1, 1, 2, 3] {
                let want = (a as f64 / b as f64).floor() as i64;
                assert_eq!(floor_div(a, b), Some(want), "{a} // {b}");
            }
        }
        assert_eq!(floor_div(i64::MIN, -1), None);
    }
}
