//! `rmsprop(lr, alpha: 0.99, eps: 1e-8, momentum: 0, centered)`: RMSprop as
//! PyTorch's: a moving average `v` of the squared gradient (and, centered,
//! `a` of the gradient itself, whose square is taken off `v`), and the step
//! `g / (sqrt(v) + eps)`, through a momentum buffer when `momentum` is above 0.

use super::*;
use crate::ir::{BinaryOp, UnaryOp};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsProp {
    pub alpha: f64,
    pub eps: f64,
    pub momentum: f64,
    pub centered: bool,
}

impl Definition for RmsProp {
    const KEYWORD: &'static str = "rmsprop";
    const FLAGS: &'static [&'static str] = &["centered"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<RmsProp> {
        let unit = |v: f64| (0.0..1.0).contains(&v);
        let alpha = a.real(cx, "alpha", Some(0.99), unit, "must be in [0, 1)");
        let eps = a.real(cx, "eps", Some(1e-8), |v| v > 0.0, "must be positive");
        let momentum = a.real(cx, "momentum", Some(0.0), unit, "must be in [0, 1)");
        let centered = a.boolean(cx, "centered", false);
        Some(RmsProp {
            alpha: alpha?.0,
            eps: eps?.0,
            momentum: momentum?.0,
            centered: centered?.0,
        })
    }
}

impl Rule for RmsProp {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId {
        let (v_id, v) = u.state("square_avg", 0.0);
        let square = u.g.unary(UnaryOp::Square, grad);
        let v = u.moving_average(v, square, self.alpha);
        u.write(v_id, v);
        let variance = if self.centered {
            let (a_id, a) = u.state("grad_avg", 0.0);
            let a = u.moving_average(a, grad, self.alpha);
            u.write(a_id, a);
            let mean_square = u.g.unary(UnaryOp::Square, a);
            let centered = u.g.sub(v, mean_square);
            // In exact arithmetic `v >= a^2`; rounding must not make it a NaN.
            let zero = u.g.constant(0.0);
            u.g.binary(BinaryOp::Max, centered, zero)
        } else {
            v
        };
        let root = u.g.unary(UnaryOp::Sqrt, variance);
        let eps = u.g.constant(self.eps as f32);
        let denominator = u.g.add(root, eps);
        let scaled = u.g.div(grad, denominator);
        let direction = if self.momentum > 0.0 {
            let (b_id, b) = u.state("momentum", 0.0);
            let kept = u.g.scale(b, self.momentum as f32);
            let b = u.g.add(kept, scaled);
            u.write(b_id, b);
            b
        } else {
            scaled
        };
        u.descend(w, direction)
    }

    fn large_rate(&self) -> f64 {
        0.1
    }

    fn describe(&self) -> Vec<String> {
        let mut out = vec![format!("alpha {}", self.alpha)];
        if self.momentum > 0.0 {
            out.push(format!("momentum {}", self.momentum));
        }
        if self.centered {
            out.push("centered".into());
        }
        out
    }

    fn parity(&self) -> Map<String, Value> {
        fields([
            ("alpha", self.alpha.into()),
            ("eps", self.eps.into()),
            ("momentum", self.momentum.into()),
            ("centered", self.centered.into()),
        ])
    }
}
