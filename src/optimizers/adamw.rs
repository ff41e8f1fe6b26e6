//! `adamw(lr, beta1, beta2, eps, weight_decay: 0.01)`: Adam with decoupled
//! weight decay, as PyTorch's `AdamW`: each decayed weight is first shrunk by
//! `1 - lr * weight_decay` (the update graph does that for every optimizer
//! with a decoupled decay), then takes Adam's step.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamW {
    pub adam: Adam,
    pub weight_decay: f64,
}

impl Definition for AdamW {
    const KEYWORD: &'static str = "adamw";

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<AdamW> {
        let adam = Adam::bind(cx, a);
        let decay = a.real(cx, "weight_decay", Some(0.01), |v| v >= 0.0, "must be at least 0");
        Some(AdamW {
            adam: adam?,
            weight_decay: decay?.0,
        })
    }
}

impl Rule for AdamW {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId {
        self.adam.adam_step(u, w, grad)
    }

    fn step_scalars(&self, lr: f64, t: u64) -> StepScalars {
        self.adam.corrections(lr, t)
    }

    fn decoupled_decay(&self) -> Option<DecoupledDecay> {
        Some(DecoupledDecay {
            rate: self.weight_decay,
            tuner_grid: &[0.0, 1e-3, 1e-2, 1e-1],
            typical: 1e-2,
        })
    }

    fn decoupled_decay_mut(&mut self) -> Option<&mut f64> {
        Some(&mut self.weight_decay)
    }

    fn large_rate(&self) -> f64 {
        0.1
    }

    fn describe(&self) -> Vec<String> {
        vec![
            self.adam.betas_text(),
            format!("weight decay {}", self.weight_decay),
        ]
    }

    fn parity(&self) -> Map<String, Value> {
        let mut out = self.adam.parity_fields();
        out.insert("weight_decay".into(), self.weight_decay.into());
        out
    }
}
