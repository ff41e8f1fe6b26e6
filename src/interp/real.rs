//! The number types the interpreter runs in: f64 for gradient checks, f32
//! to compare with the JIT.

use std::ops::{Add, Div, Mul, Neg, Sub};

pub trait Real:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn tanh(self) -> Self;
    fn sqrt(self) -> Self;
    /// The error function, through f64 (accurate to a few units in the
    /// last place there), rounded once to `Self`.
    fn erf(self) -> Self {
        Self::from_f64(erf(self.to_f64()))
    }
    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    fn one() -> Self {
        Self::from_f64(1.0)
    }
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
        }
    };
}

real!(f32);
real!(f64);

/// The error function in f64. For |x| < 3 the series
/// `erf(x) = 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (1 3 5 ... (2n+1))`,
/// whose terms are all positive (no cancellation); beyond, `1 - erfc(x)` with
/// erfc from its continued fraction, which converges fast there. Past 6,
/// erfc is below 1e-17 and erf rounds to 1.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let value = if a < 3.0 {
        let mut term = a;
        let mut sum = a;
        let mut n = 0.0;
        while term > sum * 1e-17 {
            n += 1.0;
            term *= 2.0 * a * a / (2.0 * n + 1.0);
            sum += term;
        }
        2.0 / std::f64::consts::PI.sqrt() * (-a * a).exp() * sum
    } else if a < 6.0 {
        // erfc(a) = e^(-a^2)/sqrt(pi) / (a + 1/2 / (a + 1 / (a + 3/2 / (a + ...)))),
        // evaluated from the tail.
        let mut tail = a;
        for k in (1..60).rev() {
            tail = a + (k as f64 / 2.0) / tail;
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / tail
    } else {
        1.0
    };
    value.copysign(x)
}
