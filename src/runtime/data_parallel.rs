//! A training step and an evaluation split over a [`Group`] of ranks (see
//! `crate::distributed`): every rank holds the same batch, computes the
//! gradients of its rows with means over the whole batch, the ranks sum
//! them, and every rank applies the same update.

use super::backend::{BackendError, Call};
use super::train::{count_correct, evaluation_of};
use super::{CompiledModel, Evaluation, RunError};
use crate::autodiff::graphs::Entry;
use crate::data::Dataset;
use crate::distributed::{CollectiveError, Group, active};
use crate::ir::Shard;

/// A failed collective as a run error.
impl From<CollectiveError> for RunError {
    fn from(e: CollectiveError) -> RunError {
        RunError::Collective(e)
    }
}

/// What a step gives the epoch's metrics: the whole batch's loss and the
/// samples it classified right (every rank gets the same).
pub struct StepResult {
    pub loss: f32,
    pub correct: usize,
}

impl CompiledModel {
    /// One step on this rank's rows of the batch `call` describes (all `n`
    /// of them), writing the rank's rows of the output into the start of
    /// `output`: backward, the sum of the gradients over the ranks, update.
    pub(crate) fn sharded_step(
        &mut self,
        group: &Group,
        call: &Call,
        targets_per_sample: usize,
        output: &mut [f32],
    ) -> Result<StepResult, RunError> {
        let (first, len) = group.shard(call.n);
        let (features, labels) = (self.input_len(), targets_per_sample);
        let part = Call {
            n: len,
            features: &call.features[first * features..(first + len) * features],
            labels: &call.labels[first * labels..(first + len) * labels],
            shard: Shard {
                first,
                total: Some(call.n),
            },
            ..*call
        };
        let width = self.output_width();
        // Batch norm's statistics and the loss's total class weight are
        // summed across the ranks inside the backward pass (`CrossSum`).
        let (local, failure) = active::with_group(group, || self.call(Entry::Backward, &part, output));
        if let Some(e) = failure {
            return Err(e.into());
        }
        // Every rank learns of a failure before anyone waits for a sum.
        let why = local.as_ref().err().map(ToString::to_string).unwrap_or_default();
        group.agree(local.is_ok(), &why)?;
        let loss = local?;
        let correct = count_correct(
            self.loss_kind(),
            &output[..len * width],
            part.labels,
            width,
        );
        group.sum_f32(&mut self.buffers.grads)?;
        let mut metrics = [loss as f64, correct as f64];
        group.sum_f64(&mut metrics)?;
        let loss = metrics[0] as f32;
        let update = self.call(Entry::Update, call, &mut []);
        match update {
            // The same refusal on every rank: the same gradients.
            Err(RunError::Backend(BackendError::NonFinite { entry, .. })) => {
                Err(RunError::Backend(BackendError::NonFinite { entry, loss }))
            }
            Err(e) => Err(e),
            Ok(_) => Ok(StepResult {
                loss,
                correct: metrics[1] as usize,
            }),
        }
    }

    /// [`CompiledModel::evaluate`] with the data's batches dealt out to the
    /// ranks in turn and the sums of loss and hits summed over them.
    pub(crate) fn evaluate_split(
        &mut self,
        group: &Group,
        ds: &Dataset,
    ) -> Result<Evaluation, RunError> {
        let (rank, size) = (group.rank(), group.size());
        let mine = self.evaluation_sums(ds, |batch| batch % size == rank);
        let why = mine.as_ref().err().map(ToString::to_string).unwrap_or_default();
        group.agree(mine.is_ok(), &why)?;
        let mut sums = mine?;
        group.sum_f64(&mut sums)?;
        Ok(evaluation_of(ds, sums))
    }
}
