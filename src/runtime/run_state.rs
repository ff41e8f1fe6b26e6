//! What a training run carries from one epoch to the next besides the
//! buffers and the step and epoch counters: the dropout seed, the first
//! loss (divergence's yardstick) and early stopping's memory. A model keeps
//! it between calls and a checkpoint stores it, so that a run continued
//! later, in memory or from a checkpoint, trains exactly as an unbroken one.

use super::backend::Buffers;
use super::model::CompiledModel;
use super::train::EpochMetrics;
use crate::check::{EarlyStop, Metric};
use crate::limits::{AllocError, alloc};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunState {
    /// The seed of the dropout stream, fixed when the run began.
    pub seed: Option<u64>,
    /// The epochs the run trains towards (a cosine schedule depends on it).
    pub epochs: Option<usize>,
    /// The first step's loss.
    pub first_loss: Option<f32>,
    /// Early stopping's memory, when the plan stops early.
    pub early_stop: Option<EarlyStopState>,
    /// Set by loading a checkpoint to resume from: the next training run
    /// first checks that the checkpoint's step count fits its data.
    pub from_checkpoint: bool,
}

/// Parameters and state (running statistics, optimizer moments) at the end
/// of an epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub params: Vec<f32>,
    pub states: Vec<f32>,
}

impl Snapshot {
    pub fn of(buffers: &Buffers) -> Result<Snapshot, AllocError> {
        Ok(Snapshot {
            params: alloc::copy_of(&buffers.params, "a copy of the parameters")?,
            states: alloc::copy_of(&buffers.states, "a copy of the state")?,
        })
    }

    /// Puts this snapshot into `buffers` and returns what they held.
    fn swap_into(self, buffers: &mut Buffers) -> Snapshot {
        Snapshot {
            params: std::mem::replace(&mut buffers.params, self.params),
            states: std::mem::replace(&mut buffers.states, self.states),
        }
    }
}

/// Early stopping's memory: the best value of the watched metric, the epoch
/// it came from with the buffers of that epoch, and the epochs waited since.
///
/// While training, the model holds the last epoch's buffers and
/// `best_buffers` the best epoch's. Once the run ends and the best epoch is
/// restored, the model holds the best epoch's buffers and `last_buffers`
/// the last epoch's (so that the run can still be continued exactly).
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopState {
    pub metric: Metric,
    /// The best value so far (infinitely bad before the first epoch).
    pub best: f64,
    /// The epoch of `best`, from 1 (0 before any epoch improved).
    pub best_epoch: usize,
    /// Epochs in a row without improvement.
    pub waited: usize,
    /// Patience ran out: the run is over.
    pub stopped: bool,
    pub best_buffers: Option<Snapshot>,
    pub last_buffers: Option<Snapshot>,
}

impl EarlyStopState {
    pub fn new(metric: Metric) -> EarlyStopState {
        let best = if metric.maximize() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        EarlyStopState {
            metric,
            best,
            best_epoch: 0,
            waited: 0,
            stopped: false,
            best_buffers: None,
            last_buffers: None,
        }
    }

    /// Records an epoch whose buffers are `buffers`; returns whether to stop.
    pub fn observe(
        &mut self,
        rule: &EarlyStop,
        m: &EpochMetrics,
        buffers: &Buffers,
    ) -> Result<bool, AllocError> {
        let value = match rule.metric {
            Metric::ValLoss => m.val_loss,
            Metric::ValAccuracy => m.val_acc,
            Metric::TrainLoss => Some(m.train_loss),
        };
        let Some(value) = value else {
            return Ok(false);
        };
        let improved = if rule.metric.maximize() {
            value > self.best + rule.min_delta
        } else {
            value < self.best - rule.min_delta
        };
        if improved {
            self.best = value;
            self.best_epoch = m.epoch;
            self.best_buffers = Some(Snapshot::of(buffers)?);
            self.waited = 0;
        } else {
            self.waited += 1;
            self.stopped = self.waited >= rule.patience;
        }
        Ok(self.stopped)
    }
}

/// Why a model cannot continue training from where it is.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error(
        "{trained} epochs are already trained, more than the {epochs} asked for\nhelp: ask for more than {trained} epochs (`--epochs N`), or train from scratch"
    )]
    PastEpochs { trained: usize, epochs: usize },
    #[error(
        "the step count {step} is not what {epoch} epoch(s) of this data take ({per_epoch} steps each, {expected} in all): the checkpoint is corrupt or from another run\nhelp: a run resumes only with the data and batch size it was trained with; resume from this run's own checkpoint, or train from scratch"
    )]
    Steps {
        step: u64,
        epoch: usize,
        per_epoch: usize,
        expected: u128,
    },
    #[error(
        "early stopping watched `{saved}` in the run that wrote the checkpoint, this program watches `{now}`\nhelp: its best value cannot be compared with the new metric: train from scratch"
    )]
    EarlyStopMetric {
        saved: &'static str,
        now: &'static str,
    },
}

impl CompiledModel {
    /// Checks that the model can train on to `epochs` epochs of `per_epoch`
    /// steps each. A model that comes from a checkpoint must have exactly
    /// the steps its epochs took on this data: anything else would shift the
    /// warm-up, Adam's bias correction and the dropout stream.
    pub(super) fn check_resume(&self, epochs: usize, per_epoch: usize) -> Result<(), ResumeError> {
        if self.epoch > epochs {
            return Err(ResumeError::PastEpochs {
                trained: self.epoch,
                epochs,
            });
        }
        let expected = self.epoch as u128 * per_epoch as u128;
        if self.run.from_checkpoint && self.step as u128 != expected {
            return Err(ResumeError::Steps {
                step: self.step,
                epoch: self.epoch,
                per_epoch,
                expected,
            });
        }
        Ok(())
    }

    /// Readies early stopping's memory for training on: fresh, or carried
    /// over with the last epoch's buffers back in the model (a run whose best
    /// epoch was restored continues from its last one).
    pub(super) fn begin_early_stop(&mut self, rule: Option<&EarlyStop>) -> Result<(), ResumeError> {
        let saved = self.run.early_stop.take();
        let Some(rule) = rule else {
            if let Some(last) = saved.and_then(|s| s.last_buffers) {
                last.swap_into(&mut self.buffers);
            }
            return Ok(());
        };
        let mut state = match saved {
            None => EarlyStopState::new(rule.metric),
            Some(s) if s.metric != rule.metric => {
                return Err(ResumeError::EarlyStopMetric {
                    saved: s.metric.keyword(),
                    now: rule.metric.keyword(),
                });
            }
            Some(s) => s,
        };
        if let Some(last) = state.last_buffers.take() {
            state.best_buffers = Some(last.swap_into(&mut self.buffers));
        }
        self.run.early_stop = Some(state);
        Ok(())
    }

    /// Puts the best epoch's buffers into the model, keeping the last
    /// epoch's; returns the best epoch (`None` without early stopping, or if
    /// no epoch improved).
    pub(super) fn restore_best(&mut self) -> Option<usize> {
        let state = self.run.early_stop.as_mut()?;
        state.best_buffers.as_ref()?;
        if state.best_epoch != self.epoch
            && let Some(best) = state.best_buffers.take()
        {
            state.last_buffers = Some(best.swap_into(&mut self.buffers));
        }
        Some(state.best_epoch)
    }
}
