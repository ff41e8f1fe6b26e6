//! Training steps with the decay applied at run time, and short training
//! runs of one [`Setting`]: the engine of the finder, the tuner and the
//! overfitting check.

use super::bench::{Context, DecayKind, Setting};
use crate::autodiff::graphs::Entry;
use crate::data::{Batcher, Dataset, Targets};
use crate::rng::Rng;
use crate::runtime::schedule::learning_rate;
use crate::runtime::train::count_correct;
use crate::runtime::{CompiledModel, EpochMetrics, RunError, backend::Call};
use std::time::Instant;

/// A fork of the bench's model that takes optimizer steps.
pub struct Stepper<'a> {
    pub model: CompiledModel,
    bench: &'a Context,
    decay: f64,
    seed: u64,
    output: Vec<f32>,
}

/// The loss of one step's batch (before the step) and how many of its
/// samples the network got right.
#[derive(Clone, Copy, Debug)]
pub struct StepOutcome {
    pub loss: f32,
    pub correct: usize,
}

impl<'a> Stepper<'a> {
    /// Steps `model` (a fork of the bench's), re-initialised from `seed`,
    /// with `decay`.
    pub fn new(
        bench: &'a Context,
        mut model: CompiledModel,
        decay: f64,
        seed: u64,
    ) -> Result<Stepper<'a>, RunError> {
        model.reset(seed)?;
        let width = model.output_width();
        Ok(Stepper {
            output: vec![0.0; model.max_batch() * width],
            model,
            bench,
            decay,
            seed,
        })
    }

    /// The model, to step again from another start.
    pub fn into_model(self) -> CompiledModel {
        self.model
    }

    /// One optimizer step at rate `lr` on `n` samples. A non-finite loss is
    /// returned without updating the parameters.
    pub fn step(
        &mut self,
        features: &[f32],
        labels: &[f32],
        n: usize,
        lr: f64,
    ) -> Result<StepOutcome, RunError> {
        let call = Call {
            n,
            features,
            labels,
            scalars: self
                .bench
                .plan
                .optimizer
                .kind
                .rule()
                .step_scalars(lr, self.model.step + 1),
            seed: self.seed,
            step: self.model.step,
            shard: crate::ir::Shard::WHOLE,
        };
        let loss = self
            .model
            .call_or_nan(Entry::Backward, &call, &mut self.output)?;
        let width = self.model.output_width();
        let correct = count_correct(
            self.model.loss_kind(),
            &self.output[..(n * width).min(self.output.len())],
            labels,
            width,
        );
        if !loss.is_finite() {
            return Ok(StepOutcome { loss, correct });
        }
        self.regularise(lr);
        let update = self.model.call_or_nan(Entry::Update, &call, &mut [])?;
        self.model.step += 1;
        // An update that would not be finite diverged as surely as the loss.
        let loss = if update.is_nan() { update } else { loss };
        Ok(StepOutcome { loss, correct })
    }

    /// Clipping and decay, in the compiled step's order (see `bench.rs`).
    fn regularise(&mut self, lr: f64) {
        let buffers = &mut self.model.buffers;
        if let Some(max_norm) = self.bench.plan.clip_norm {
            let norm = buffers
                .grads
                .iter()
                .map(|&g| g as f64 * g as f64)
                .sum::<f64>()
                .sqrt();
            let factor = (max_norm / (norm + 1e-6)).min(1.0) as f32;
            buffers.grads.iter_mut().for_each(|g| *g *= factor);
        }
        if self.decay <= 0.0 {
            return;
        }
        for range in &self.bench.decayed {
            let (w, g) = (
                &mut buffers.params[range.clone()],
                &mut buffers.grads[range.clone()],
            );
            match self.bench.decay_kind() {
                DecayKind::L2 => {
                    let l2 = self.decay as f32;
                    g.iter_mut().zip(w.iter()).for_each(|(g, w)| *g += l2 * w);
                }
                DecayKind::Decoupled => {
                    let keep = (1.0 - lr * self.decay) as f32;
                    w.iter_mut().for_each(|w| *w *= keep);
                }
            }
        }
    }
}

/// The epochs of a short run, and where it diverged if it did.
#[derive(Clone, Debug, Default)]
pub struct RunCurve {
    pub epochs: Vec<EpochMetrics>,
    /// The epoch (from 1) whose loss became Inf or NaN.
    pub diverged: Option<usize>,
}

/// Trains `model` (a fork of the bench's) from a fresh start (the plan's
/// seed) for `epochs` epochs as the plan says, but with the setting's base
/// rate and decay; validates after each epoch when there is validation data.
/// Gives the model back, to train the next setting.
pub fn train_setting(
    bench: &Context,
    model: CompiledModel,
    setting: Setting,
    epochs: usize,
) -> Result<(RunCurve, CompiledModel), RunError> {
    let mut stepper = Stepper::new(bench, model, setting.decay, bench.plan.seed)?;
    let curve = run_epochs(bench, &mut stepper, setting, epochs)?;
    Ok((curve, stepper.into_model()))
}

fn run_epochs(
    bench: &Context,
    stepper: &mut Stepper,
    setting: Setting,
    epochs: usize,
) -> Result<RunCurve, RunError> {
    let train = &bench.train;
    let batch = bench.batch;
    let steps_per_epoch = train.len().div_ceil(batch);
    let skip_single = bench.skips_single;
    let mut features = vec![0.0f32; batch * train.sample_len()];
    let mut labels = vec![0.0f32; batch * train.targets.target_len()];
    let mut curve = RunCurve::default();
    for e in 0..epochs {
        let start = Instant::now();
        let mut batcher = Batcher::new(
            train,
            batch,
            false,
            Rng::new(bench.data_seed).fork(e as u64),
        )?;
        let (mut loss_sum, mut correct, mut seen, mut lr) = (0.0f64, 0usize, 0usize, setting.lr);
        while let Some(n) = batcher.next_batch(&mut features, &mut labels)? {
            if n == 1 && skip_single {
                continue;
            }
            lr = learning_rate(
                setting.lr,
                &bench.plan.schedule,
                epochs,
                e,
                stepper.model.step,
                steps_per_epoch,
            );
            let tl = train.targets.target_len();
            let out = stepper.step(
                &features[..n * train.sample_len()],
                &labels[..n * tl],
                n,
                lr,
            )?;
            if !out.loss.is_finite() {
                curve.diverged = Some(e + 1);
                return Ok(curve);
            }
            loss_sum += out.loss as f64 * n as f64;
            correct += out.correct;
            seen += n;
        }
        let (val_loss, val_acc) = match &bench.validation {
            Some(v) => {
                let ev = stepper.model.evaluate(v)?;
                (Some(ev.loss), ev.accuracy)
            }
            None => (None, None),
        };
        if val_loss.is_some_and(|l| !l.is_finite()) {
            curve.diverged = Some(e + 1);
            return Ok(curve);
        }
        curve.epochs.push(EpochMetrics {
            epoch: e + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_acc: is_classes(train).then(|| correct as f64 / seen.max(1) as f64),
            val_loss,
            val_acc,
            lr,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    Ok(curve)
}

fn is_classes(ds: &Dataset) -> bool {
    matches!(ds.targets, Targets::Classes { .. })
}
