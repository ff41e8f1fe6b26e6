//! `adagrad(lr, lr_decay: 0, eps: 1e-10, initial_accumulator: 0)`: Adagrad as
//! PyTorch's: a running sum `s` of squared gradients (starting at
//! `initial_accumulator`), and `w -= lr_t * g / (sqrt(s) + eps)` with the
//! rate decayed by step, `lr_t = lr / (1 + (t - 1) * lr_decay)`: a per-step
//! scalar, so the decay needs no recompilation.

use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adagrad {
    pub lr_decay: f64,
    pub eps: f64,
    pub initial_accumulator: f64,
}

impl Definition for Adagrad {
    const KEYWORD: &'static str = "adagrad";

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Adagrad> {
        let at_least_0 = |v: f64| v >= 0.0 && v.is_finite();
        let lr_decay = a.real(cx, "lr_decay", Some(0.0), at_least_0, "must be at least 0");
        let eps = a.real(cx, "eps", Some(1e-10), |v| v > 0.0, "must be positive");
        let initial = a.real(
            cx,
            "initial_accumulator",
            Some(0.0),
            at_least_0,
            "must be at least 0",
        );
        Some(Adagrad {
            lr_decay: lr_decay?.0,
            eps: eps?.0,
            initial_accumulator: initial?.0,
        })
    }
}

impl Rule for Adagrad {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId {
        let (s_id, sum) = u.state("sum", self.initial_accumulator as f32);
        let square = u.g.unary(UnaryOp::Square, grad);
        let sum = u.g.add(sum, square);
        u.write(s_id, sum);
        let root = u.g.unary(UnaryOp::Sqrt, sum);
        let eps = u.g.constant(self.eps as f32);
        let denominator = u.g.add(root, eps);
        let direction = u.g.div(grad, denominator);
        u.descend(w, direction)
    }

    fn step_scalars(&self, lr: f64, t: u64) -> StepScalars {
        let steps_before = t.saturating_sub(1) as f64;
        StepScalars::at_rate(lr / (1.0 + steps_before * self.lr_decay))
    }

    fn large_rate(&self) -> f64 {
        1.0
    }

    fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.lr_decay > 0.0 {
            out.push(format!("rate decay {}", self.lr_decay));
        }
        if self.initial_accumulator > 0.0 {
            out.push(format!("initial accumulator {}", self.initial_accumulator));
        }
        out
    }

    fn parity(&self) -> Map<String, Value> {
        fields([
            ("lr_decay", self.lr_decay.into()),
            ("eps", self.eps.into()),
            ("initial_accumulator", self.initial_accumulator.into()),
        ])
    }
}
