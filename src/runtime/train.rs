//! The training loop: epochs of shuffled batches, the schedule, validation,
//! early stopping with restore-best, and divergence detection.

use super::backend::{Buffers, Call};
use super::graphs::Entry;
use super::model::{CompiledModel, RunError};
use super::schedule::learning_rate;
use crate::check::{Batch, EarlyStop, Loss, Metric, Op, OptimizerKind};
use crate::data::{Batcher, Dataset, Targets};
use crate::rng::Rng;
use std::time::Instant;

/// What one epoch measured.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochMetrics {
    /// Counted from 1.
    pub epoch: usize,
    pub train_loss: f64,
    /// Fraction correct on the training batches as they were trained (with
    /// dropout active); `None` for regression.
    pub train_acc: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_acc: Option<f64>,
    /// The rate of the epoch's last step.
    pub lr: f64,
    pub seconds: f64,
}

/// Loss and accuracy of a model on a data set, in evaluation mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: Option<f64>,
    pub samples: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// All epochs ran.
    Completed,
    /// The watched metric did not improve for `patience` epochs.
    EarlyStop {
        metric: Metric,
        patience: usize,
        best_epoch: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainReport {
    pub epochs: Vec<EpochMetrics>,
    pub stop: StopReason,
    /// The epoch whose parameters the model holds at the end (with early
    /// stopping: the best one, restored).
    pub best_epoch: Option<usize>,
    pub seconds: f64,
}

/// Options a caller may override; the program's plan gives the rest.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Epochs of the whole run (a resumed model continues up to this).
    pub epochs: Option<usize>,
    pub seed: Option<u64>,
    /// Called after every optimizer step, for progress bars.
    pub on_step: Option<StepHook>,
}

/// Where training is within the run, after a step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepProgress {
    /// The epoch being trained, from 1.
    pub epoch: usize,
    /// Steps done in this epoch, from 1.
    pub step: usize,
    pub steps_per_epoch: usize,
    /// The run's last epoch.
    pub epochs: usize,
    /// This step's training loss.
    pub loss: f32,
}

/// A shared callback that sees every step's [`StepProgress`].
#[derive(Clone)]
pub struct StepHook(pub std::sync::Arc<dyn Fn(&StepProgress) + Send + Sync>);

impl std::fmt::Debug for StepHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepHook(..)")
    }
}

impl CompiledModel {
    /// Trains as the program says: on its data item, with its plan.
    pub fn train(
        &mut self,
        options: &TrainOptions,
        on_epoch: &mut dyn FnMut(&EpochMetrics),
    ) -> Result<TrainReport, RunError> {
        let spec = self.model.data.clone().ok_or(RunError::NoTrainPlan)?;
        let loaded = super::load::load(&spec, &crate::data::FilePolicy::default())?;
        self.train_on(&loaded.train, loaded.validation.as_ref(), options, on_epoch)
    }

    /// Trains on `train`, validating on `val` after each epoch; `on_epoch`
    /// sees every epoch's metrics as they come.
    pub fn train_on(
        &mut self,
        train: &Dataset,
        val: Option<&Dataset>,
        options: &TrainOptions,
        on_epoch: &mut dyn FnMut(&EpochMetrics),
    ) -> Result<TrainReport, RunError> {
        let plan = self.model.train.clone().ok_or(RunError::NoTrainPlan)?;
        self.check_data(train, "training")?;
        if let Some(v) = val {
            self.check_data(v, "validation")?;
        }
        if let Some(seed) = options.seed {
            self.reset(seed);
        }
        let seed = options.seed.unwrap_or(plan.seed);
        let epochs = options.epochs.unwrap_or(plan.epochs);
        let batch = match plan.batch {
            Batch::All => train.len(),
            Batch::Size(b) => b.min(train.len()),
        }
        .max(1);
        self.ensure_max_batch(batch)?;
        let data_seed = self.model.data.as_ref().map_or(0, |d| d.seed);
        let probe = Batcher::new(train, batch, false, Rng::new(0))?;
        let steps_per_epoch = probe.batches_per_epoch();
        // Batch statistics of a single sample are undefined: skip such a
        // last batch, as a 1-sample batch norm cannot train.
        let has_batch_norm = self
            .model
            .network
            .layers
            .iter()
            .any(|l| matches!(l.op, Op::BatchNorm { .. }));
        let width = self.output_width();
        let mut features = vec![0.0f32; probe.features_len()];
        let mut labels = vec![0.0f32; probe.targets_len()];
        let mut output = vec![0.0f32; batch * width];
        let mut tracker = plan.early_stop.map(Tracker::new);
        let start = Instant::now();
        let mut report = TrainReport {
            epochs: Vec::new(),
            stop: StopReason::Completed,
            best_epoch: None,
            seconds: 0.0,
        };
        let mut first_loss: Option<f32> = None;
        // `epochs` counts the whole run: a model resumed from a checkpoint
        // continues where it stopped.
        for e in self.epoch..epochs {
            let epoch_start = Instant::now();
            let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
            let mut step_in_epoch = 0;
            let mut lr = plan.optimizer.lr;
            // Each epoch's order comes from the data seed and the epoch number
            // alone, so a resumed run shuffles exactly as an unbroken one.
            let mut batcher =
                Batcher::new(train, batch, false, Rng::new(data_seed).fork(e as u64))?;
            while let Some(n) = batcher.next_batch(&mut features, &mut labels)? {
                if n == 1 && batch > 1 && has_batch_norm {
                    continue;
                }
                lr = learning_rate(
                    plan.optimizer.lr,
                    &plan.schedule,
                    epochs,
                    e,
                    self.step,
                    steps_per_epoch,
                );
                let scalars = step_scalars(&plan.optimizer.kind, n, lr, self.step + 1);
                let call = Call {
                    n,
                    features: &features[..n * self.input_len()],
                    labels: &labels[..n * train.targets.target_len()],
                    scalars,
                    seed,
                    step: self.step,
                };
                let loss = self.call(Entry::TrainStep, &call, &mut output)?;
                self.step += 1;
                let first = *first_loss.get_or_insert(loss);
                if diverged(first, loss) {
                    return Err(RunError::Diverged {
                        epoch: e + 1,
                        step: self.step,
                        first,
                        loss,
                    });
                }
                step_in_epoch += 1;
                if let Some(hook) = &options.on_step {
                    (hook.0)(&StepProgress {
                        epoch: e + 1,
                        step: step_in_epoch,
                        steps_per_epoch,
                        epochs,
                        loss,
                    });
                }
                loss_sum += loss as f64 * n as f64;
                correct += count_correct(
                    self.loss_kind(),
                    &output[..n * width],
                    &labels[..n * train.targets.target_len()],
                    width,
                );
                seen += n;
            }
            self.epoch = e + 1;
            let (val_loss, val_acc) = match val {
                Some(v) => {
                    let ev = self.evaluate(v)?;
                    (Some(ev.loss), ev.accuracy)
                }
                None => (None, None),
            };
            let is_classes = matches!(train.targets, Targets::Classes { .. });
            let m = EpochMetrics {
                epoch: e + 1,
                train_loss: loss_sum / seen.max(1) as f64,
                train_acc: is_classes.then(|| correct as f64 / seen.max(1) as f64),
                val_loss,
                val_acc,
                lr,
                seconds: epoch_start.elapsed().as_secs_f64(),
            };
            on_epoch(&m);
            report.epochs.push(m.clone());
            if let Some(path) = &plan.checkpoint {
                super::checkpoint::save(
                    self,
                    std::path::Path::new(path),
                    &self.source.clone(),
                    seed,
                )?;
            }
            if let Some(t) = &mut tracker
                && t.observe(&m, &self.buffers)
            {
                report.stop = StopReason::EarlyStop {
                    metric: t.rule.metric,
                    patience: t.rule.patience,
                    best_epoch: t.best_epoch,
                };
                break;
            }
        }
        if let Some(t) = tracker {
            // Restore the best epoch whether or not stopping fired.
            if let Some(best) = t.best_buffers {
                self.buffers.params = best.params;
                self.buffers.states = best.states;
                report.best_epoch = Some(t.best_epoch);
                if let Some(path) = &plan.checkpoint {
                    super::checkpoint::save(
                        self,
                        std::path::Path::new(path),
                        &self.source.clone(),
                        seed,
                    )?;
                }
            }
        } else {
            report.best_epoch = report.epochs.last().map(|m| m.epoch);
        }
        report.seconds = start.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Loss and accuracy on a data set, in evaluation mode (running
    /// statistics, no dropout).
    pub fn evaluate(&mut self, ds: &Dataset) -> Result<Evaluation, RunError> {
        let width = self.output_width();
        let chunk = self.max_batch();
        let mut batcher = Batcher::sequential(ds, chunk)?;
        let mut features = vec![0.0f32; batcher.features_len()];
        let mut labels = vec![0.0f32; batcher.targets_len()];
        let mut output = vec![0.0f32; chunk * width];
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        let tl = ds.targets.target_len();
        let entry = if self.graphs.eval.is_some() {
            Entry::Eval
        } else {
            Entry::Predict
        };
        while let Some(n) = batcher.next_batch(&mut features, &mut labels)? {
            let call = Call {
                n,
                features: &features[..n * self.input_len()],
                labels: &labels[..n * tl],
                scalars: [n as f32, 0.0, 1.0, 1.0],
                seed: 0,
                step: 0,
            };
            let loss = self.call(entry, &call, &mut output)?;
            loss_sum += loss as f64 * n as f64;
            correct += count_correct(
                self.loss_kind(),
                &output[..n * width],
                &labels[..n * tl],
                width,
            );
        }
        let samples = ds.len();
        let accuracy = matches!(ds.targets, Targets::Classes { .. })
            .then(|| correct as f64 / samples.max(1) as f64);
        Ok(Evaluation {
            loss: loss_sum / samples.max(1) as f64,
            accuracy,
            samples,
        })
    }

    /// The network's outputs (logits, or values for regression) for samples
    /// laid out one after another.
    pub fn predict(&mut self, features: &[f32]) -> Result<Vec<f32>, RunError> {
        let len = self.input_len();
        if len == 0 || !features.len().is_multiple_of(len) {
            return Err(RunError::Mismatch(format!(
                "{} input values do not make whole samples of {len} values",
                features.len()
            )));
        }
        let width = self.output_width();
        let total = features.len() / len;
        let mut out = vec![0.0f32; total * width];
        let chunk = self.max_batch();
        for start in (0..total).step_by(chunk.max(1)) {
            let n = chunk.min(total - start);
            let call = Call {
                n,
                features: &features[start * len..(start + n) * len],
                labels: &[],
                scalars: [n as f32, 0.0, 1.0, 1.0],
                seed: 0,
                step: 0,
            };
            self.call(
                Entry::Predict,
                &call,
                &mut out[start * width..(start + n) * width],
            )?;
        }
        Ok(out)
    }
}

/// A loss that is not a number, or that grew a million-fold over the first
/// step's (and is large in itself), means the optimizer is running away: no
/// working training run does that, and every step after it is wasted.
pub fn diverged(first: f32, loss: f32) -> bool {
    !loss.is_finite() || (loss > 1e6 * first.abs().max(1e-3) && loss > 1e3)
}

/// The per-call scalars of a training step `t` (from 1).
pub fn step_scalars(kind: &OptimizerKind, n: usize, lr: f64, t: u64) -> [f32; 4] {
    let (c1, c2) = match kind {
        OptimizerKind::Adam { beta1, beta2, .. } | OptimizerKind::AdamW { beta1, beta2, .. } => {
            let t = t.min(i32::MAX as u64) as i32;
            (
                1.0 / (1.0 - beta1.powi(t)),
                1.0 / (1.0 - beta2.powi(t)).sqrt(),
            )
        }
        OptimizerKind::Sgd { .. } => (1.0, 1.0),
    };
    [n as f32, lr as f32, c1 as f32, c2 as f32]
}

/// Correct predictions in a batch: the largest logit for cross-entropy, a
/// positive logit for class 1 with binary cross-entropy; none for regression.
pub fn count_correct(loss: Loss, output: &[f32], labels: &[f32], width: usize) -> usize {
    match loss {
        Loss::MeanSquaredError => 0,
        Loss::BinaryCrossEntropy => output
            .iter()
            .zip(labels)
            .filter(|(z, y)| (**z > 0.0) == (**y > 0.5))
            .count(),
        Loss::CrossEntropy => output
            .chunks(width)
            .zip(labels)
            .filter(|(row, y)| argmax(row) == **y as usize)
            .count(),
    }
}

pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Early stopping: the best value of the watched metric and a copy of the
/// buffers at that epoch.
struct Tracker {
    rule: EarlyStop,
    best: f64,
    best_epoch: usize,
    best_buffers: Option<Buffers>,
    waited: usize,
}

impl Tracker {
    fn new(rule: EarlyStop) -> Tracker {
        let best = if rule.metric.maximize() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        Tracker {
            rule,
            best,
            best_epoch: 0,
            best_buffers: None,
            waited: 0,
        }
    }

    /// Records an epoch; returns whether to stop.
    fn observe(&mut self, m: &EpochMetrics, buffers: &Buffers) -> bool {
        let value = match self.rule.metric {
            Metric::ValLoss => m.val_loss,
            Metric::ValAccuracy => m.val_acc,
            Metric::TrainLoss => Some(m.train_loss),
        };
        let Some(value) = value else { return false };
        let improved = if self.rule.metric.maximize() {
            value > self.best + self.rule.min_delta
        } else {
            value < self.best - self.rule.min_delta
        };
        if improved {
            self.best = value;
            self.best_epoch = m.epoch;
            self.best_buffers = Some(Buffers {
                params: buffers.params.clone(),
                grads: Vec::new(),
                states: buffers.states.clone(),
            });
            self.waited = 0;
            false
        } else {
            self.waited += 1;
            self.waited >= self.rule.patience
        }
    }
}
