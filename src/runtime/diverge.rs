//! Divergence: a run whose values leave the finite numbers stops before they
//! reach the weights, and says where they left and why.
//!
//! ```text
//! the compiled step raises its flag (codegen/guard.rs): nothing non-finite was written
//!   --train.rs--> restore the epoch's snapshot and replay up to the failing step
//!                 (same batches, same dropout keys): the weights from before it
//!   --here------> the interpreter re-runs that step and finds the first value that
//!                 is not finite: inputs, forward pass, loss, backward pass or update
//!   --advice----> from the data (large inputs or targets), the initialisation or the rate
//! ```

use super::backend::{Buffers, Call, evaluate_graph};
use super::model::CompiledModel;
use crate::check::{DataSpec, Loss, Model};
use crate::data::{Dataset, Targets};
use crate::ir::{Graph, Op, Sink, StepScalars};
use crate::limits::memory::interpreter_bytes;

/// Where the run stopped and what to do about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// Counted from 1.
    pub epoch: usize,
    /// The optimizer step that failed, counted from 1.
    pub step: u64,
    /// The loss of the run's first step, and of the failing one.
    pub first: f32,
    pub loss: f32,
    pub finding: Finding,
    pub advice: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// The loss grew a million-fold over the first step's (every value finite).
    LossGrew,
    /// A value was not finite; where it appeared first (`None` where the
    /// step could not be re-run to find out).
    NotFinite(Option<Stage>),
}

/// Where the first value that is not finite appeared.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    /// The batch's features.
    Inputs,
    /// The output of a layer in the forward pass.
    Forward(Site),
    /// The loss of finite outputs.
    Loss,
    /// A gradient, in the backward pass through a layer.
    Backward(Site),
    /// The optimizer's update of a tensor whose gradient was finite.
    Update { tensor: String, site: Option<Site> },
    /// The validation loss, after an epoch whose steps stayed finite; where
    /// the evaluation's forward pass left the finite numbers, if found.
    Validation(Option<Site>),
}

/// A layer of the program.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub layer: String,
    /// 1-based, in the program text.
    pub line: usize,
    pub column: usize,
}

impl Stage {
    pub fn site(&self) -> Option<&Site> {
        match self {
            Stage::Forward(s) | Stage::Backward(s) => Some(s),
            Stage::Update { site, .. } | Stage::Validation(site) => site.as_ref(),
            Stage::Inputs | Stage::Loss => None,
        }
    }
}

impl Divergence {
    /// The stage that failed first, if it was found.
    pub fn stage(&self) -> Option<&Stage> {
        match &self.finding {
            Finding::NotFinite(stage) => stage.as_ref(),
            Finding::LossGrew => None,
        }
    }

    /// What happened, in one line.
    pub fn what(&self) -> String {
        let at = |s: &Site| format!("`{}` (line {})", s.layer, s.line);
        match &self.finding {
            Finding::LossGrew => format!(
                "the loss went from {} at the first step to {}",
                self.first, self.loss
            ),
            Finding::NotFinite(None) => "a value became Inf or NaN".into(),
            Finding::NotFinite(Some(stage)) => match stage {
                Stage::Inputs => "the batch's inputs hold Inf or NaN".into(),
                Stage::Forward(s) => format!("the forward pass became Inf or NaN in {}", at(s)),
                Stage::Loss => format!(
                    "the loss became {} although the network's outputs were finite",
                    self.loss
                ),
                Stage::Backward(s) => format!("a gradient became Inf or NaN in {}", at(s)),
                Stage::Update { tensor, .. } => format!(
                    "the optimizer's update of `{tensor}` overflowed although its gradient was finite"
                ),
                Stage::Validation(site) => format!(
                    "the validation loss is {}{}",
                    self.loss,
                    site.as_ref().map_or(String::new(), |s| format!(
                        ": the trained weights make the forward pass Inf or NaN in {}",
                        at(s)
                    ))
                ),
            },
        }
    }
}

impl Divergence {
    /// The message with the layer's place in `file`, as `dlc run` prints it.
    pub fn render(&self, file: &str) -> String {
        let mut text = match self.stage() {
            Some(Stage::Validation(_)) => format!(
                "training diverged after epoch {} (step {}): {}",
                self.epoch,
                self.step,
                self.what()
            ),
            _ => format!(
                "training diverged at epoch {}, step {}: {}",
                self.epoch,
                self.step,
                self.what()
            ),
        };
        if let Some(s) = self.stage().and_then(Stage::site) {
            text += &format!("\n  --> {file}:{}:{}", s.line, s.column);
        }
        text += &format!("\nhelp: {}", self.advice);
        match self.stage() {
            Some(Stage::Validation(_)) => {
                text += "\nnote: the model holds the weights from the start of this epoch"
            }
            _ if matches!(self.finding, Finding::NotFinite(_)) => {
                text += "\nnote: no value that is not finite was written; the model holds the \
                         weights from before this step"
            }
            _ => {}
        }
        text
    }
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render("line"))
    }
}

/// The most memory re-running a step on the interpreter may take.
const DIAGNOSIS_BYTES: u64 = 1 << 30;

/// Re-runs the failing step (`call`, on the weights from before it) on the
/// interpreter and finds the first value that is not finite.
pub(super) fn first_non_finite(m: &CompiledModel, call: &Call) -> Option<Stage> {
    if call.features.iter().any(|x| !x.is_finite()) {
        return Some(Stage::Inputs);
    }
    let backward = m.graphs.backward.as_ref()?;
    if interpreter_bytes(backward, call.n) > DIAGNOSIS_BYTES {
        return None;
    }
    let vals = evaluate_graph(backward, &m.layout, &m.buffers, call).ok()?;
    let loss = backward.sinks.iter().find_map(|s| match s {
        Sink::Loss(v) => Some(v.index()),
        _ => None,
    })?;
    let bad = |i: usize| vals[i].iter().any(|x| !x.is_finite());
    let computed = |i: usize| !matches!(backward.nodes[i].op, Op::Input(_) | Op::Param(_));
    if let Some(i) = (0..=loss).find(|&i| computed(i) && bad(i)) {
        return Some(match site_of(m, backward, i) {
            Some(site) => Stage::Forward(site),
            None => Stage::Loss,
        });
    }
    let backward_site = (loss + 1..vals.len())
        .filter(|&i| bad(i))
        .find_map(|i| site_of(m, backward, i));
    if let Some(site) = backward_site {
        return Some(Stage::Backward(site));
    }
    update_overflow(m, backward, &vals, call)
}

/// The first layer whose output is not finite in evaluation mode, on the
/// first samples of `data`.
pub(super) fn first_in_evaluation(m: &CompiledModel, data: &Dataset) -> Option<Site> {
    let g = m.graphs.eval.as_ref()?;
    let n = data.len().min(m.max_batch()).min(256);
    if n == 0 || interpreter_bytes(g, n) > DIAGNOSIS_BYTES {
        return None;
    }
    let len = data.sample_len();
    let mut labels = vec![0.0f32; n * data.targets.target_len()];
    for (i, out) in labels.chunks_mut(data.targets.target_len()).enumerate() {
        data.targets.write_target(i, out);
    }
    let call = Call {
        n,
        features: &data.features[..n * len],
        labels: &labels,
        scalars: StepScalars::NO_STEP,
        seed: 0,
        step: 0,
        shard: crate::ir::Shard::WHOLE,
    };
    let vals = evaluate_graph(g, &m.layout, &m.buffers, &call).ok()?;
    (0..vals.len())
        .filter(|&i| !matches!(g.nodes[i].op, Op::Input(_) | Op::Param(_)))
        .filter(|&i| vals[i].iter().any(|x| !x.is_finite()))
        .find_map(|i| site_of(m, g, i))
}

/// The first tensor whose update is not finite, from the backward pass's gradients.
fn update_overflow(
    m: &CompiledModel,
    backward: &Graph,
    vals: &[Vec<f32>],
    call: &Call,
) -> Option<Stage> {
    let update = m.graphs.update.as_ref()?;
    let copy = |v: &[f32]| crate::limits::alloc::copy_of(v, "the diagnosis's buffers").ok();
    let mut buffers = Buffers {
        params: copy(&m.buffers.params)?,
        grads: crate::limits::alloc::filled(m.buffers.params.len(), 0.0, "gradients").ok()?,
        states: copy(&m.buffers.states)?,
        class_weights: m.buffers.class_weights.clone(),
    };
    for s in &backward.sinks {
        if let Sink::Grad(p, v) = s {
            let at = m.layout.params[p.index()];
            buffers.grads[at..at + vals[v.index()].len()].copy_from_slice(&vals[v.index()]);
        }
    }
    let new = evaluate_graph(update, &m.layout, &buffers, call).ok()?;
    update.sinks.iter().find_map(|s| {
        let (name, v) = match s {
            Sink::Param(p, v) => (update.params[*p].name.clone(), v),
            Sink::State(st, v) => (update.states[*st].name.clone(), v),
            _ => return None,
        };
        new[v.index()].iter().any(|x| !x.is_finite()).then(|| {
            let layer = name.split('.').next().unwrap_or_default();
            Stage::Update {
                site: site_named(m, layer),
                tensor: name,
            }
        })
    })
}

fn site_of(m: &CompiledModel, g: &Graph, node: usize) -> Option<Site> {
    let origin = g.nodes[node].origin.as_ref()?;
    let (line, column) = crate::diag::line_col(&m.source, origin.span.start);
    Some(Site {
        layer: origin.layer.clone(),
        line,
        column,
    })
}

fn site_named(m: &CompiledModel, layer: &str) -> Option<Site> {
    let l = m.model.network.layers.iter().find(|l| l.name == layer)?;
    let (line, column) = crate::diag::line_col(&m.source, l.span.start);
    Some(Site {
        layer: l.name.clone(),
        line,
        column,
    })
}

/// What to do, from the most likely cause: values in the data that are not
/// finite or large, then a first step that already fails (the
/// initialisation), then the rate.
pub(super) fn advice(
    model: &Model,
    train: &Dataset,
    val: Option<&Dataset>,
    stage: Option<&Stage>,
    step: u64,
    lr: f64,
) -> String {
    let name = model
        .data
        .as_ref()
        .map_or("the data".to_string(), |d: &DataSpec| {
            format!("`{}`", d.name)
        });
    if let (Some(Stage::Validation(_)), Some(v)) = (stage, val) {
        let (max, _, finite) = magnitude(&v.features);
        if !finite || max > 1e6 {
            return format!(
                "the validation data holds {}: check it, and prepare it as the training data",
                if finite {
                    "very large values"
                } else {
                    "Inf or NaN values"
                }
            );
        }
    }
    let (max, rms, finite) = magnitude(&train.features);
    if !finite {
        return format!(
            "the training data {name} holds Inf or NaN values: check the file it reads"
        );
    }
    if rms > 10.0 || max > 1e6 {
        return format!(
            "the inputs are large (largest |x| = {max:.3e}, RMS {rms:.3e}): add `scale` or \
             `standardize` to the data item {name}"
        );
    }
    if let Targets::Values { values, .. } = &train.targets {
        let (max, rms, _) = magnitude(values);
        if rms > 1e3 || max > 1e6 {
            return format!(
                "the targets are large (largest |y| = {max:.3e}, RMS {rms:.3e}): the mse loss on \
                 unbounded outputs grows with them; divide them by a constant, and the \
                 predictions by the same"
            );
        }
    }
    let wide = crate::runtime::init::wide_inits(&model.network);
    if step == 1
        && matches!(stage, Some(Stage::Forward(_)))
        && let Some(w) = wide.into_iter().next()
    {
        return w;
    }
    let unbounded = model
        .train
        .as_ref()
        .is_some_and(|t| t.loss == Loss::MeanSquaredError);
    let lr = if (1e-4..1e6).contains(&lr.abs()) {
        format!("{lr}")
    } else {
        format!("{lr:e}")
    };
    let mut text = format!(
        "the learning rate {lr} is likely too high: lower it (e.g. by 10x; `dlc lr-find` \
         suggests one), or clip gradients with `clip 1.0`"
    );
    if unbounded {
        text += "; the mse loss is unbounded, so a step that overshoots makes the next one larger";
    }
    text
}

/// Largest |x| and the root mean square of `xs`, and whether all are finite.
fn magnitude(xs: &[f32]) -> (f64, f64, bool) {
    let mut max = 0.0f64;
    let mut sum = 0.0f64;
    for &x in xs {
        if !x.is_finite() {
            return (f64::INFINITY, f64::INFINITY, false);
        }
        let a = (x as f64).abs();
        max = max.max(a);
        sum += a * a;
    }
    (max, (sum / xs.len().max(1) as f64).sqrt(), true)
}
