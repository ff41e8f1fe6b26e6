//! Optimizer definitions: one file per optimizer, listed once in the `definitions!` list below.
//!
//! ```text
//! setting `optimizer rmsprop(lr: 0.01, centered)`
//!   --Definition::bind-->  RmsProp { alpha: 0.99, centered: true, .. }  its arguments
//!   --Rule::step------->   state tensors and the update, in the graph IR
//!   --Rule::step_scalars-> the named per-step scalars (rate, corrections)
//!   --Rule::describe / parity / decoupled_decay--> summary, PyTorch, tuner
//! ```
//!
//! Weight decay comes in two kinds, and the definition says which it takes:
//! coupled (`l2` and `l1` in the training plan, added to the gradient before
//! the optimizer sees it; every optimizer), or decoupled (the optimizer's own
//! `weight_decay`, shrinking each decayed weight by `1 - lr * weight_decay`
//! before its step, as AdamW and Lion define it). Both apply only to the
//! parameters marked for decay (the weights of `dense` and `conv`). The
//! update graph applies the decoupled kind for every definition that has
//! one, so a definition writes only its own step.

mod registry;

pub use registry::{Entry, entry, find, keywords};

definitions! {
    /// The optimizer of a checked training plan: which, and its settings.
    enum OptimizerKind: dyn Rule, derive(Clone, Copy, Debug, PartialEq);
    /// Every optimizer, in the order of the documentation.
    table OPTIMIZERS: [Entry] = entry;
    sgd::Sgd,
    adam::Adam,
    adamw::AdamW,
    rmsprop::RmsProp,
    adagrad::Adagrad,
    lion::Lion,
}

use crate::bind::Cx;
use crate::bind::args::Args;
use crate::ir::{Graph, ParamId, Sink, StateId, StateInfo, StateKind, StepScalars, ValueId};
use serde_json::{Map, Value};

/// The most state tensors an optimizer keeps per parameter (RMSprop,
/// centered with momentum: three), which bounds a checkpoint's size.
pub const MOST_STATES_PER_PARAMETER: usize = 3;

/// An optimizer written as `name(lr: ..., ...)` in the training plan.
pub trait Definition: Sized + Into<OptimizerKind> {
    /// The name that writes it.
    const KEYWORD: &'static str;
    /// Parameters that a bare name sets to true (`sgd(lr: 0.1, nesterov)`).
    const FLAGS: &'static [&'static str] = &[];

    /// Reads its arguments other than `lr` (which every optimizer takes, and
    /// the plan's checker reads), each with its type, range and default;
    /// `None` after reporting a wrong one.
    fn bind(cx: &mut Cx, args: &mut Args) -> Option<Self>;
}

/// The decoupled weight decay of an optimizer that has one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecoupledDecay {
    /// The program's `weight_decay`.
    pub rate: f64,
    /// The rates the tuner tries, from none to strong, for this optimizer.
    pub tuner_grid: &'static [f64],
    /// A usual rate: the learning-rate finder's when the program sets none.
    pub typical: f64,
}

/// Everything the compiler asks of an optimizer once it is bound.
pub trait Rule {
    fn keyword(&self) -> &'static str;

    /// The new value of one parameter `w` from its (regularised) gradient
    /// `grad`; state tensors are made and written through `u`.
    fn step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId;

    /// The scalars of step `t` (from 1) at the schedule's rate `lr`.
    fn step_scalars(&self, lr: f64, t: u64) -> StepScalars {
        let _ = t;
        StepScalars::at_rate(lr)
    }

    /// `Some` for an optimizer with a decoupled `weight_decay`; the others
    /// take the training plan's coupled `l2`.
    fn decoupled_decay(&self) -> Option<DecoupledDecay> {
        None
    }

    /// The decoupled rate, to change (the tuner does), where there is one.
    fn decoupled_decay_mut(&mut self) -> Option<&mut f64> {
        None
    }

    /// A rate above which training likely diverges (warning W0109).
    fn large_rate(&self) -> f64;

    /// Its settings for the summary, after the rate: `momentum 0.9`.
    fn describe(&self) -> Vec<String>;

    /// Its settings for the PyTorch parity export, besides `kind` and `lr`.
    fn parity(&self) -> Map<String, Value>;
}

/// A parameter's update under construction: the graph, the parameter and
/// the step's learning rate.
pub struct Update<'g> {
    pub g: &'g mut Graph,
    pub param: ParamId,
    pub lr: ValueId,
}

impl Update<'_> {
    /// A state tensor of the parameter's shape named `<param>.<name>`,
    /// starting at `init`: its id and its value before this step.
    pub fn state(&mut self, name: &str, init: f32) -> (StateId, ValueId) {
        let info = StateInfo {
            name: format!("{}.{name}", self.g.params[self.param].name),
            shape: self.g.params[self.param].shape.clone(),
            init,
            kind: StateKind::Optimizer,
        };
        self.g.add_state(info)
    }

    /// Stores `value` as state `id`'s value after this step.
    pub fn write(&mut self, id: StateId, value: ValueId) {
        self.g.sinks.push(Sink::State(id, value));
    }

    /// `beta * average + (1 - beta) * x`: an exponential moving average.
    pub fn moving_average(&mut self, average: ValueId, x: ValueId, beta: f64) -> ValueId {
        let kept = self.g.scale(average, beta as f32);
        let added = self.g.scale(x, (1.0 - beta) as f32);
        self.g.add(kept, added)
    }

    /// `w - lr * direction`.
    pub fn descend(&mut self, w: ValueId, direction: ValueId) -> ValueId {
        let delta = self.g.mul(direction, self.lr);
        self.g.sub(w, delta)
    }
}

/// `{"name": value, ...}` for [`Rule::parity`].
fn fields<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
