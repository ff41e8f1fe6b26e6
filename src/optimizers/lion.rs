//! `lion(lr, beta1: 0.9, beta2: 0.99, weight_decay: 0)`: Lion (Chen et al.,
//! "Symbolic Discovery of Optimization Algorithms", 2023): the step is the
//! sign of `beta1 * m + (1 - beta1) * g`, so every weight moves by exactly
//! `lr` (or not at all); then `m = beta2 * m + (1 - beta2) * g`. The weight
//! decay is decoupled, as in the paper. Its rates are smaller than Adam's
//! (the paper: 3-10x) and its decays larger, by the same factor.

use super::*;
use crate::ir::UnaryOp;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lion {
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
}

impl Definition for Lion {
    const KEYWORD: &'static str = "lion";

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Lion> {
        let unit = |v: f64| (0.0..1.0).contains(&v);
        let beta1 = a.real(cx, "beta1", Some(0.9), unit, "must be in [0, 1)");
        let beta2 = a.real(cx, "beta2", Some(0.99), unit, "must be in [0, 1)");
        let decay = a.real(cx, "weight_decay", Some(0.0), |v| v >= 0.0, "must be at least 0");
        Some(Lion {
            beta1: beta1?.0,
            beta2: beta2?.0,
            weight_decay: decay?.0,
        })
    }
}

impl Rule for Lion {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId {
        let (m_id, m) = u.state("lion_m", 0.0);
        let interpolated = u.moving_average(m, grad, self.beta1);
        let direction = u.g.unary(UnaryOp::Sign, interpolated);
        let m = u.moving_average(m, grad, self.beta2);
        u.write(m_id, m);
        u.descend(w, direction)
    }

    fn decoupled_decay(&self) -> Option<DecoupledDecay> {
        Some(DecoupledDecay {
            rate: self.weight_decay,
            tuner_grid: &[0.0, 1e-2, 1e-1, 1.0],
            typical: 1e-1,
        })
    }

    fn decoupled_decay_mut(&mut self) -> Option<&mut f64> {
        Some(&mut self.weight_decay)
    }

    fn large_rate(&self) -> f64 {
        0.01
    }

    fn describe(&self) -> Vec<String> {
        let mut out = vec![format!("betas {}/{}", self.beta1, self.beta2)];
        if self.weight_decay > 0.0 {
            out.push(format!("weight decay {}", self.weight_decay));
        }
        out
    }

    fn parity(&self) -> Map<String, Value> {
        fields([
            ("beta1", self.beta1.into()),
            ("beta2", self.beta2.into()),
            ("weight_decay", self.weight_decay.into()),
        ])
    }
}
