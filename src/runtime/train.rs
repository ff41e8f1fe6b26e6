//! The training loop: epochs of shuffled batches, the schedule, validation,
//! early stopping with restore-best, and divergence detection. What carries
//! over from epoch to epoch (and into checkpoints) is in `run_state.rs`.

use super::data_parallel::StepResult;
use super::backend::{BackendError, Buffers, Call};
use super::diverge::{self, Divergence, Finding, Stage};
use super::model::{CompiledModel, RunError};
use super::schedule::learning_rate;
use crate::autodiff::graphs::Entry;
use crate::check::{Batch, Loss, Metric, TrainSpec};
use crate::data::{Batcher, Dataset, Targets};
use crate::ir::StepScalars;
use crate::limits::alloc;
use crate::rng::Rng;
use std::time::{Duration, Instant};

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
    /// What the data's preparation found suspicious (a single class, say).
    pub warnings: Vec<String>,
    /// The seed of initialisation and dropout the run used (the program's,
    /// `TrainOptions::seed`, or a resumed run's own).
    pub seed: u64,
    /// The seed of the data's split and order the run used.
    pub data_seed: u64,
}

/// Options a caller may override; the program's plan gives the rest.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Epochs of the whole run (a resumed model continues up to this).
    pub epochs: Option<usize>,
    /// Seed of initialisation and dropout: the model is re-initialised
    /// from it, so a model resumed from a checkpoint starts over. Without
    /// it, a model continues with the seed its run began with.
    pub seed: Option<u64>,
    /// Called after every optimizer step, for progress bars.
    pub on_step: Option<StepHook>,
    /// The least time between two of the run's checkpoints, when the plan
    /// names a `checkpoint` file. By default [`CHECKPOINT_INTERVAL`], or
    /// [`CHECKPOINT_COST_FACTOR`] times the time a write takes when that is
    /// longer, so that writing never dominates a run of short epochs;
    /// `Duration::ZERO` writes after every epoch. The run's last epoch is
    /// always written, whatever the interval.
    pub checkpoint_interval: Option<Duration>,
    /// The ranks to train on together (data parallelism, see
    /// `crate::distributed`): each takes its part of every batch. Only the
    /// leading rank writes checkpoints. `None` trains alone.
    pub group: Option<crate::distributed::Group>,
}

/// The default least time between two checkpoints of a run: a run killed
/// loses at most this much training, plus the epoch under way.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// By default a checkpoint is written at most once per this many times the
/// last write took: writes then cost at most about 1/20 of the run.
pub const CHECKPOINT_COST_FACTOR: u32 = 20;

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
        let loaded = super::load::load(&spec, &self.data_policy())?;
        self.preparation = Some(loaded.preparation.clone());
        let mut report =
            self.train_on(&loaded.train, loaded.validation.as_ref(), options, on_epoch)?;
        report.warnings = loaded.warnings;
        Ok(report)
    }

    /// One optimizer step on a batch of `n` samples at rate `lr` (a caller
    /// that steps by hand owns the schedule): the fused forward, backward and
    /// update, with dropout keyed by `seed` and the step count, which then
    /// advances. Returns the batch's loss before the update.
    pub fn step_on_batch(
        &mut self,
        features: &[f32],
        labels: &[f32],
        n: usize,
        lr: f64,
        seed: u64,
        output: &mut [f32],
    ) -> Result<f32, RunError> {
        let plan = self.model.train.as_ref().ok_or(RunError::NoTrainPlan)?;
        let call = Call {
            n,
            features,
            labels,
            scalars: plan.optimizer.kind.rule().step_scalars(lr, self.step + 1),
            seed,
            step: self.step,
            shard: crate::ir::Shard::WHOLE,
        };
        let loss = self.call(Entry::TrainStep, &call, output)?;
        self.step += 1;
        Ok(loss)
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
        // Split over ranks only when there are several; only the first writes.
        let group = options.group.clone().filter(|g| g.size() > 1);
        let leads = group.as_ref().is_none_or(|g| g.leads());
        if let Some(path) = &plan.checkpoint {
            super::checkpoint::check_destination(std::path::Path::new(path), &self.limits.files)?;
        }
        self.check_data(train, "training")?;
        self.weigh_classes_by(train)?;
        // Data handed over ready keeps its own names; data the program
        // loaded keeps the preparation `train` recorded.
        if self
            .preparation
            .as_ref()
            .is_none_or(|p| p.sample_shape != train.sample_shape())
        {
            self.preparation = Some(crate::data::Preparation::of_dataset(train));
        }
        if let Some(v) = val {
            self.check_data(v, "validation")?;
        }
        if let Some(seed) = options.seed {
            self.reset(seed)?;
        }
        let seed = options.seed.or(self.run.seed).unwrap_or(plan.seed);
        let epochs = options.epochs.unwrap_or(plan.epochs);
        self.run.seed = Some(seed);
        self.run.epochs = Some(epochs);
        let batch = match plan.batch {
            Batch::All => train.len(),
            Batch::Size(b) => b.min(train.len()),
        }
        .max(1);
        self.ensure_max_batch(batch)?;
        let probe = Batcher::new(train, batch, false, Rng::new(0))?;
        let run = RunPlan {
            seed,
            epochs,
            batch,
            steps_per_epoch: probe.batches_per_epoch(),
            data_seed: self.data_seed(),
            // Batch statistics of a single sample are undefined: skip such a
            // last batch, as a 1-sample batch norm cannot train.
            skip_single: batch > 1
                && self
                    .model
                    .network
                    .layers
                    .iter()
                    .any(|l| l.op.rule().uses_batch_statistics()),
            plan,
        };
        let skips_last = run.skip_single && train.len() % batch == 1;
        self.check_resume(epochs, run.steps_per_epoch - usize::from(skips_last))?;
        self.run.from_checkpoint = false;
        self.begin_early_stop(run.plan.early_stop.as_ref())?;
        let stopped = self.run.early_stop.as_ref().is_some_and(|s| s.stopped);
        let width = self.output_width();
        let mut bufs = StepBuffers {
            features: alloc::filled(probe.features_len(), 0.0f32, "a batch of features")?,
            labels: alloc::filled(probe.targets_len(), 0.0f32, "a batch of targets")?,
            output: alloc::filled(batch * width, 0.0f32, "a batch of outputs")?,
        };
        // The weights at the start of the epoch, to go back to when a step
        // fails (see `diverge.rs`).
        let mut snapshot = Buffers {
            params: alloc::copy_of(
                &self.buffers.params,
                "the epoch's snapshot of the parameters",
            )?,
            grads: Vec::new(),
            states: alloc::copy_of(&self.buffers.states, "the epoch's snapshot of the state")?,
            class_weights: Vec::new(),
        };
        let start = Instant::now();
        let mut writes = CheckpointWrites::new();
        let mut report = TrainReport {
            epochs: Vec::new(),
            stop: StopReason::Completed,
            best_epoch: None,
            seconds: 0.0,
            warnings: Vec::new(),
            seed,
            data_seed: run.data_seed,
        };
        // `epochs` counts the whole run: a model resumed from a checkpoint
        // continues where it stopped (and a run that stopped early is over).
        for e in if stopped { epochs } else { self.epoch }..epochs {
            let epoch_start = Instant::now();
            snapshot.params.copy_from_slice(&self.buffers.params);
            snapshot.states.copy_from_slice(&self.buffers.states);
            let snapshot_step = self.step;
            let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
            let mut loss_weight = 0.0f64;
            let mut step_in_epoch = 0;
            let mut lr = run.plan.optimizer.lr;
            let mut batcher = run.batcher(train, e)?;
            while let Some(n) = batcher.next_batch(&mut bufs.features, &mut bufs.labels)? {
                if n == 1 && run.skip_single {
                    continue;
                }
                let (result, step_lr) = self.counted_step(group.as_ref(), &run, e, n, train, &mut bufs);
                lr = step_lr;
                let (loss, hits) = match result {
                    Ok(r) => (r.loss, r.correct),
                    Err(RunError::Backend(BackendError::NonFinite { loss, .. })) => {
                        let first = self.run.first_loss.unwrap_or(loss);
                        let failed = Failed {
                            epoch: e,
                            n,
                            lr,
                            first,
                            loss,
                        };
                        return Err(self.diverged(
                            &run,
                            train,
                            &snapshot,
                            snapshot_step,
                            &bufs,
                            failed,
                        ));
                    }
                    Err(other) => return Err(other),
                };
                self.step += 1;
                let first = *self.run.first_loss.get_or_insert(loss);
                if diverged(first, loss) {
                    let advice = diverge::advice(&self.model, train, None, None, self.step, lr);
                    return Err(RunError::Diverged(Box::new(Divergence {
                        epoch: e + 1,
                        step: self.step,
                        first,
                        loss,
                        finding: Finding::LossGrew,
                        advice,
                    })));
                }
                step_in_epoch += 1;
                if let Some(hook) = &options.on_step {
                    (hook.0)(&StepProgress {
                        epoch: e + 1,
                        step: step_in_epoch,
                        steps_per_epoch: run.steps_per_epoch,
                        epochs,
                        loss,
                    });
                }
                let weight = self.loss_weight(&bufs.labels, n);
                loss_sum += loss as f64 * weight;
                loss_weight += weight;
                correct += hits;
                seen += n;
            }
            self.epoch = e + 1;
            let (val_loss, val_acc) = match val {
                Some(v) => {
                    let ev = match &group {
                        Some(g) => self.evaluate_split(g, v)?,
                        None => self.evaluate(v)?,
                    };
                    (Some(ev.loss), ev.accuracy)
                }
                None => (None, None),
            };
            if let (Some(loss), Some(v)) = (val_loss.filter(|l| !l.is_finite()), val) {
                // Finite weights that evaluate to Inf or NaN are no model to keep.
                let stage = Some(Stage::Validation(diverge::first_in_evaluation(self, v)));
                self.buffers.params.copy_from_slice(&snapshot.params);
                self.buffers.states.copy_from_slice(&snapshot.states);
                let steps = self.step;
                self.step = snapshot_step;
                self.epoch = e;
                let advice = diverge::advice(&self.model, train, val, stage.as_ref(), steps, lr);
                return Err(RunError::Diverged(Box::new(Divergence {
                    epoch: e + 1,
                    step: steps,
                    first: self.run.first_loss.unwrap_or(f32::NAN),
                    loss: loss as f32,
                    finding: Finding::NotFinite(stage),
                    advice,
                })));
            }
            let is_classes = matches!(train.targets, Targets::Classes { .. });
            let m = EpochMetrics {
                epoch: e + 1,
                train_loss: loss_sum / loss_weight.max(f64::MIN_POSITIVE),
                train_acc: is_classes.then(|| correct as f64 / seen.max(1) as f64),
                val_loss,
                val_acc,
                lr,
                seconds: epoch_start.elapsed().as_secs_f64(),
            };
            on_epoch(&m);
            report.epochs.push(m.clone());
            let mut stop = match (&run.plan.early_stop, &mut self.run.early_stop) {
                (Some(rule), Some(state)) => state.observe(rule, &m, &self.buffers)?,
                _ => false,
            };
            if let Some(g) = &group {
                // Every rank saw the same metrics; rank 0's decision binds all.
                let mut decision = [if leads && stop { 1.0 } else { 0.0 }];
                g.sum_f64(&mut decision)?;
                stop = decision[0] > 0.0;
            }
            if stop {
                break;
            }
            // The last epoch's checkpoint is written below, after restore-best.
            if leads && e + 1 < epochs && writes.due(options.checkpoint_interval) {
                writes.time(|| self.save_checkpoint(&run.plan, seed))?;
            }
        }
        if let (Some(rule), Some(state)) = (&run.plan.early_stop, &self.run.early_stop)
            && state.stopped
        {
            report.stop = StopReason::EarlyStop {
                metric: rule.metric,
                patience: rule.patience,
                best_epoch: state.best_epoch,
            };
        }
        // Restore the best epoch whether or not stopping fired.
        report.best_epoch = match run.plan.early_stop {
            Some(_) => self.restore_best(),
            None => (self.epoch > 0).then_some(self.epoch),
        };
        if leads && !report.epochs.is_empty() {
            self.save_checkpoint(&run.plan, seed)?;
        }
        report.seconds = start.elapsed().as_secs_f64();
        Ok(report)
    }

    /// The call of one optimizer step of epoch `e` on the `n` samples of
    /// `features` and `labels`, and the rate it uses.
    fn step_call<'b>(
        &self,
        run: &RunPlan,
        e: usize,
        n: usize,
        train: &Dataset,
        [features, labels]: [&'b [f32]; 2],
    ) -> (Call<'b>, f64) {
        let plan = &run.plan;
        let lr = learning_rate(
            plan.optimizer.lr,
            &plan.schedule,
            run.epochs,
            e,
            self.step,
            run.steps_per_epoch,
        );
        let call = Call {
            n,
            features: &features[..n * self.input_len()],
            labels: &labels[..n * train.targets.target_len()],
            scalars: plan.optimizer.kind.rule().step_scalars(lr, self.step + 1),
            seed: run.seed,
            step: self.step,
            shard: crate::ir::Shard::WHOLE,
        };
        (call, lr)
    }

    /// [`Self::train_step`] with the hits counted, alone or split over
    /// `group` (this rank's rows, the gradients summed over the ranks, see
    /// `data_parallel.rs`).
    fn counted_step(
        &mut self,
        group: Option<&crate::distributed::Group>,
        run: &RunPlan,
        e: usize,
        n: usize,
        train: &Dataset,
        bufs: &mut StepBuffers,
    ) -> (Result<StepResult, RunError>, f64) {
        let tl = train.targets.target_len();
        if let Some(g) = group {
            let (call, lr) = self.step_call(run, e, n, train, [&bufs.features, &bufs.labels]);
            return (self.sharded_step(g, &call, tl, &mut bufs.output), lr);
        }
        let (result, lr) = self.train_step(run, e, n, train, bufs);
        let width = self.output_width();
        let counted = result.map(|loss| StepResult {
            loss,
            correct: count_correct(
                self.loss_kind(),
                &bufs.output[..n * width],
                &bufs.labels[..n * tl],
                width,
            ),
        });
        (counted, lr)
    }

    /// One optimizer step of epoch `e` on the `n` samples in `bufs` (the
    /// step counter is the caller's to advance); gives the rate it used.
    fn train_step(
        &mut self,
        run: &RunPlan,
        e: usize,
        n: usize,
        train: &Dataset,
        bufs: &mut StepBuffers,
    ) -> (Result<f32, RunError>, f64) {
        let (call, lr) = self.step_call(run, e, n, train, [&bufs.features, &bufs.labels]);
        (self.call(Entry::TrainStep, &call, &mut bufs.output), lr)
    }

    /// A step of epoch `failed.epoch` refused a value that is not finite:
    /// goes back to the epoch's `snapshot`, replays the steps before the
    /// failing one (the same batches and dropout keys, so the same weights),
    /// and re-runs the failing step on the interpreter to find where the
    /// values left the finite numbers. The model keeps the weights from
    /// before the failing step.
    fn diverged(
        &mut self,
        run: &RunPlan,
        train: &Dataset,
        snapshot: &Buffers,
        snapshot_step: u64,
        failing: &StepBuffers,
        failed: Failed,
    ) -> RunError {
        let (e, n) = (failed.epoch, failed.n);
        let failing_step = self.step;
        let features = failing.features[..n * self.input_len()].to_vec();
        let labels = failing.labels[..n * train.targets.target_len()].to_vec();
        self.buffers.params.copy_from_slice(&snapshot.params);
        self.buffers.states.copy_from_slice(&snapshot.states);
        self.step = snapshot_step;
        let replayed = self.replay(run, train, e, failing_step);
        let stage = match replayed {
            Ok(()) => {
                let call = Call {
                    n,
                    features: &features,
                    labels: &labels,
                    scalars: run
                        .plan
                        .optimizer
                        .kind
                        .rule()
                        .step_scalars(failed.lr, self.step + 1),
                    seed: run.seed,
                    step: self.step,
                    shard: crate::ir::Shard::WHOLE,
                };
                diverge::first_non_finite(self, &call)
            }
            // The replay failed where the run did not: say nothing more than the flag did.
            Err(_) => None,
        };
        let advice = diverge::advice(
            &self.model,
            train,
            None,
            stage.as_ref(),
            failing_step + 1,
            failed.lr,
        );
        RunError::Diverged(Box::new(Divergence {
            epoch: e + 1,
            step: failing_step + 1,
            first: failed.first,
            loss: failed.loss,
            finding: Finding::NotFinite(stage),
            advice,
        }))
    }

    /// Trains epoch `e` from the current weights until the step counter
    /// reaches `until`.
    fn replay(
        &mut self,
        run: &RunPlan,
        train: &Dataset,
        e: usize,
        until: u64,
    ) -> Result<(), RunError> {
        let probe = Batcher::new(train, run.batch, false, Rng::new(0))?;
        let mut bufs = StepBuffers {
            features: alloc::filled(probe.features_len(), 0.0f32, "a batch of features")?,
            labels: alloc::filled(probe.targets_len(), 0.0f32, "a batch of targets")?,
            output: alloc::filled(
                run.batch * self.output_width(),
                0.0f32,
                "a batch of outputs",
            )?,
        };
        let mut batcher = run.batcher(train, e)?;
        while self.step < until {
            let Some(n) = batcher.next_batch(&mut bufs.features, &mut bufs.labels)? else {
                break;
            };
            if n == 1 && run.skip_single {
                continue;
            }
            self.train_step(run, e, n, train, &mut bufs).0?;
            self.step += 1;
        }
        Ok(())
    }

    /// Writes the plan's checkpoint, if it names one.
    fn save_checkpoint(&self, plan: &TrainSpec, seed: u64) -> Result<(), RunError> {
        if let Some(path) = &plan.checkpoint {
            super::checkpoint::save(self, std::path::Path::new(path), &self.source, seed)?;
        }
        Ok(())
    }

    /// Loss and accuracy on a data set, in evaluation mode (running
    /// statistics, no dropout).
    pub fn evaluate(&mut self, ds: &Dataset) -> Result<Evaluation, RunError> {
        let sums = self.evaluation_sums(ds, |_| true)?;
        Ok(evaluation_of(ds, sums))
    }

    /// The sums an evaluation divides, over the batches of `ds` whose
    /// number `take` accepts: loss times weight, weight, hits.
    pub(crate) fn evaluation_sums(
        &mut self,
        ds: &Dataset,
        take: impl Fn(usize) -> bool,
    ) -> Result<[f64; 3], RunError> {
        self.require_class_weights()?;
        let width = self.output_width();
        let chunk = self.max_batch();
        let mut batcher = Batcher::sequential(ds, chunk)?;
        let mut features = alloc::filled(batcher.features_len(), 0.0f32, "a batch of features")?;
        let mut labels = alloc::filled(batcher.targets_len(), 0.0f32, "a batch of targets")?;
        let mut output = alloc::filled(chunk * width, 0.0f32, "a batch of outputs")?;
        let mut sums = [0.0f64; 3];
        let tl = ds.targets.target_len();
        let entry = if self.graphs.eval.is_some() {
            Entry::Eval
        } else {
            Entry::Predict
        };
        let mut index = 0;
        while let Some(n) = batcher.next_batch(&mut features, &mut labels)? {
            index += 1;
            if !take(index - 1) {
                continue;
            }
            let call = Call {
                n,
                features: &features[..n * self.input_len()],
                labels: &labels[..n * tl],
                scalars: StepScalars::NO_STEP,
                seed: 0,
                step: 0,
                shard: crate::ir::Shard::WHOLE,
            };
            let loss = self.call(entry, &call, &mut output)?;
            let weight = self.loss_weight(&labels, n);
            sums[0] += loss as f64 * weight;
            sums[1] += weight;
            sums[2] += count_correct(
                self.loss_kind(),
                &output[..n * width],
                &labels[..n * tl],
                width,
            ) as f64;
        }
        Ok(sums)
    }

    /// The network's outputs (logits, or values for regression) for samples
    /// laid out one after another. With `standardize targets` the values are
    /// standardised; [`crate::data::Preparation::outputs_to_original`] (of
    /// [`CompiledModel::preparation`]) turns them into the targets' units.
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
        let mut out = alloc::filled(total.saturating_mul(width), 0.0f32, "the predictions")?;
        let chunk = self.max_batch();
        for start in (0..total).step_by(chunk.max(1)) {
            let n = chunk.min(total - start);
            let call = Call {
                n,
                features: &features[start * len..(start + n) * len],
                labels: &[],
                scalars: StepScalars::NO_STEP,
                seed: 0,
                step: 0,
                shard: crate::ir::Shard::WHOLE,
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
/// An evaluation of `ds` from its sums (see [`CompiledModel::evaluation_sums`]).
pub(crate) fn evaluation_of(ds: &Dataset, [loss, weight, hits]: [f64; 3]) -> Evaluation {
    let samples = ds.len();
    let accuracy =
        matches!(ds.targets, Targets::Classes { .. }).then(|| hits / samples.max(1) as f64);
    Evaluation {
        loss: loss / weight.max(f64::MIN_POSITIVE),
        accuracy,
        samples,
    }
}

pub fn diverged(first: f32, loss: f32) -> bool {
    !loss.is_finite() || (loss > 1e6 * first.abs().max(1e-3) && loss > 1e3)
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

/// What stays fixed through a run.
struct RunPlan {
    plan: crate::check::TrainSpec,
    seed: u64,
    epochs: usize,
    batch: usize,
    steps_per_epoch: usize,
    data_seed: u64,
    skip_single: bool,
}

impl RunPlan {
    /// Each epoch's order comes from the data seed and the epoch number
    /// alone, so a resumed or replayed run shuffles exactly as an unbroken one.
    fn batcher<'d>(&self, train: &'d Dataset, e: usize) -> Result<Batcher<'d>, RunError> {
        Ok(Batcher::new(
            train,
            self.batch,
            false,
            Rng::new(self.data_seed).fork(e as u64),
        )?)
    }
}

/// The buffers one step reads (features, labels) and writes (outputs).
struct StepBuffers {
    features: Vec<f32>,
    labels: Vec<f32>,
    output: Vec<f32>,
}

/// The step that refused a value that is not finite.
struct Failed {
    epoch: usize,
    n: usize,
    lr: f64,
    first: f32,
    loss: f32,
}

/// When a run's next checkpoint is due: after the interval since the last
/// write (or the run's start).
struct CheckpointWrites {
    last: Instant,
    cost: Duration,
}

impl CheckpointWrites {
    fn new() -> Self {
        CheckpointWrites {
            last: Instant::now(),
            cost: Duration::ZERO,
        }
    }

    fn due(&self, interval: Option<Duration>) -> bool {
        let least =
            interval.unwrap_or_else(|| CHECKPOINT_INTERVAL.max(self.cost * CHECKPOINT_COST_FACTOR));
        self.last.elapsed() >= least
    }

    fn time<T>(&mut self, write: impl FnOnce() -> T) -> T {
        let began = Instant::now();
        let out = write();
        self.last = Instant::now();
        self.cost = self.last - began;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(elapsed: Duration, cost: Duration) -> CheckpointWrites {
        CheckpointWrites {
            last: Instant::now() - elapsed,
            cost,
        }
    }

    #[test]
    fn a_checkpoint_is_due_after_the_interval_or_twenty_writes_worth() {
        let ms = Duration::from_millis;
        assert!(!after(ms(500), ms(1)).due(None));
        assert!(after(ms(1100), ms(1)).due(None));
        // A write of 100 ms waits 2 s, so writing stays near 1/20 of the run.
        assert!(!after(ms(1500), ms(100)).due(None));
        assert!(after(ms(2100), ms(100)).due(None));
        // An interval given is the interval.
        assert!(after(ms(0), ms(100)).due(Some(Duration::ZERO)));
        assert!(!after(ms(1500), ms(1)).due(Some(ms(2000))));
    }
}
