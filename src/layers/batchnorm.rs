//! `batchnorm`: normalises each feature (vectors) or channel (images) with
//! the batch's statistics while training and running statistics after, as
//! PyTorch's `BatchNorm1d`/`BatchNorm2d` (the running variance unbiased).

use super::arguments::{EPS_RANGE, eps_in_f32};
use super::lowering::{normalize, per_channel, scale_and_offset_per_channel};
use super::shapes::scale_and_offset;
use super::*;
use crate::ir::Init;
use crate::ir::{Graph, ScalarKind, Shape, Sink, StateInfo, StateKind, UnaryOp};

#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    pub momentum: f64,
    pub eps: f64,
}

impl Stage for BatchNorm {
    const KEYWORD: &'static str = "batchnorm";
    const ALIASES: &'static [&'static str] = &["batchnorm1d", "batchnorm2d", "batch_norm", "bn"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<BatchNorm> {
        let in_range = |m: f64| (0.0..=1.0).contains(&m);
        let momentum = a.real(cx, "momentum", Some(0.1), in_range, "must be in [0, 1]");
        let eps = a.real(cx, "eps", Some(1e-5), eps_in_f32, EPS_RANGE);
        Some(BatchNorm {
            momentum: momentum?.0,
            eps: eps?.0,
        })
    }
}

impl Rule for BatchNorm {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn infer(&self, _cx: &mut Cx, input: &Incoming, _span: Span) -> Option<Inferred> {
        let c = input.shape[0];
        let running = |name: &str, value: f64| Tensor {
            name: name.into(),
            shape: vec![c],
            init: Init::Const(value),
            decay: false,
        };
        Some(Inferred {
            shape: input.shape.to_vec(),
            params: scale_and_offset(&[c]).into(),
            buffers: vec![running("running_mean", 0.0), running("running_var", 1.0)],
        })
    }

    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId {
        let (g, x, layer) = (&mut *lx.g, inputs[0], lx.layer);
        let (momentum, eps) = (self.momentum as f32, self.eps as f32);
        let rank = g.shape(x).rank();
        let c = layer.shape[0];
        let state = |g: &mut Graph, name: &str, init: f32| {
            g.add_state(StateInfo {
                name: format!("{}.{name}", layer.name),
                shape: vec![c],
                init,
                kind: StateKind::Running,
            })
        };
        let (rm_id, rm) = state(g, "running_mean", 0.0);
        let (rv_id, rv) = state(g, "running_var", 1.0);
        let axes: Vec<usize> = if rank == 2 { vec![0] } else { vec![0, 2, 3] };
        let y = match lx.mode {
            Mode::Train => {
                let (y, mean, var) = normalize(g, x, &axes, eps);
                // Running statistics as PyTorch keeps them: the variance unbiased.
                let spatial: usize = layer.shape[1..].iter().product();
                let n = g.scalar(ScalarKind::BatchSize);
                let count = g.scale(n, spatial as f32);
                let one = g.constant(1.0);
                let count_less = g.sub(count, one);
                let unbias = g.div(count, count_less);
                let mean_c = g.reshape(mean, Shape::fixed(&[c]));
                let var_c = g.reshape(var, Shape::fixed(&[c]));
                let var_c = g.mul(var_c, unbias);
                let new_rm = blend(g, rm, mean_c, momentum);
                let new_rv = blend(g, rv, var_c, momentum);
                g.sinks.push(Sink::State(rm_id, new_rm));
                g.sinks.push(Sink::State(rv_id, new_rv));
                y
            }
            Mode::Eval => {
                let (rm_b, rv_b) = (per_channel(g, rm, rank), per_channel(g, rv, rank));
                let centered = g.sub(x, rm_b);
                let e = g.constant(eps);
                let var_eps = g.add(rv_b, e);
                let inv = g.unary(UnaryOp::Rsqrt, var_eps);
                g.mul(centered, inv)
            }
        };
        scale_and_offset_per_channel(g, y, lx.params[0], lx.params[1])
    }

    fn parity(&self) -> Value {
        serde_json::json!({"type": "batchnorm", "momentum": self.momentum, "eps": self.eps})
    }

    fn uses_batch_statistics(&self) -> bool {
        true
    }
}

/// `old * (1 - m) + new * m`
fn blend(g: &mut Graph, old: ValueId, new: ValueId, m: f32) -> ValueId {
    let a = g.scale(old, 1.0 - m);
    let b = g.scale(new, m);
    g.add(a, b)
}
