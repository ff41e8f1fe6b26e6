//! Sizes and shapes as the checker reads and bounds them.
//!
//! Shapes are per sample (the batch is implicit): vectors `[n]` and images
//! `[channels, height, width]`.

use super::Cx;
use super::value::Value;
use crate::diag::{Diagnostic, codes};
use crate::syntax::Span;

/// No tensor may hold more elements than this (16 GiB of f32): a larger one
/// is a typo in a size, and its byte count would be near overflowing anyway.
pub const MAX_ELEMENTS: usize = 1 << 32;

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
