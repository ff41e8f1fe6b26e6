//! `adam(lr, beta1: 0.9, beta2: 0.999, eps: 1e-8)`: Adam as PyTorch's: moving
//! averages `m` of the gradient and `v` of its square, corrected for their
//! start at 0, and `w -= lr * m_hat / (sqrt(v_hat) + eps)`. The corrections
//! depend on the step number, so they are per-step scalars.

use super::*;
use crate::ir::{ScalarKind, UnaryOp};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adam {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

impl Definition for Adam {
    const KEYWORD: &'static str = "adam";

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Adam> {
        let unit = |v: f64| (0.0..1.0).contains(&v);
        let beta1 = a.real(cx, "beta1", Some(0.9), unit, "must be in [0, 1)");
        let beta2 = a.real(cx, "beta2", Some(0.999), unit, "must be in [0, 1)");
        let eps = a.real(cx, "eps", Some(1e-8), |v| v > 0.0, "must be positive");
        Some(Adam {
            beta1: beta1?.0,
            beta2: beta2?.0,
            eps: eps?.0,
        })
    }
}

impl Adam {
    /// The bias corrections of step `t`: `1 / (1 - beta1^t)` and `1 / sqrt(1 - beta2^t)`.
    pub fn corrections(&self, lr: f64, t: u64) -> StepScalars {
        let t = t.min(i32::MAX as u64) as i32;
        StepScalars {
            learning_rate: lr,
            bias_correction1: 1.0 / (1.0 - self.beta1.powi(t)),
            bias_correction2: 1.0 / (1.0 - self.beta2.powi(t)).sqrt(),
        }
    }

    /// Adam's step, shared with AdamW.
    pub fn adam_step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId {
        let (m_id, m) = u.state("adam_m", 0.0);
        let (v_id, v) = u.state("adam_v", 0.0);
        let m = u.moving_average(m, grad, self.beta1);
        let square = u.g.unary(UnaryOp::Square, grad);
        let v = u.moving_average(v, square, self.beta2);
        u.write(m_id, m);
        u.write(v_id, v);
        let c1 = u.g.scalar(ScalarKind::BiasCorrection1);
        let c2 = u.g.scalar(ScalarKind::BiasCorrection2);
        let m_hat = u.g.mul(m, c1);
        let root = u.g.unary(UnaryOp::Sqrt, v);
        let root_v_hat = u.g.mul(root, c2);
        let eps = u.g.constant(self.eps as f32);
        let denominator = u.g.add(root_v_hat, eps);
        let direction = u.g.div(m_hat, denominator);
        u.descend(w, direction)
    }

    pub fn betas_text(&self) -> String {
        format!("betas {}/{}", self.beta1, self.beta2)
    }

    pub fn parity_fields(&self) -> Map<String, Value> {
        fields([
            ("beta1", self.beta1.into()),
            ("beta2", self.beta2.into()),
            ("eps", self.eps.into()),
        ])
    }
}

impl Rule for Adam {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId {
        self.adam_step(u, w, grad)
    }

    fn step_scalars(&self, lr: f64, t: u64) -> StepScalars {
        self.corrections(lr, t)
    }

    fn large_rate(&self) -> f64 {
        0.1
    }

    fn describe(&self) -> Vec<String> {
        vec![self.betas_text()]
    }

    fn parity(&self) -> Map<String, Value> {
        self.parity_fields()
    }
}
