//! Mini-batches for the training loop: each epoch visits every sample once in a fresh random
//! order, and each batch is copied into caller-owned contiguous buffers — features
//! sample-major (NCHW for images), targets as class indices in `f32` or regression values —
//! which is the layout the JIT-compiled training step reads.

use super::alloc::{Budget, MemoryLimit};
use super::{DataError, Dataset};
use crate::rng::Rng;

/// Cuts a data set into batches, epoch after epoch.
///
/// [`Batcher::next_batch`] fills the buffers and returns the batch's sample count, then
/// `None` once at the end of each epoch; the call after that starts the next epoch with a new
/// order.
#[derive(Clone, Debug)]
pub struct Batcher<'a> {
    data: &'a Dataset,
    batch_size: usize,
    drop_last: bool,
    /// `None` visits the samples in their stored order.
    rng: Option<Rng>,
    order: Vec<usize>,
    position: usize,
    last_batch: std::ops::Range<usize>,
    epochs_started: usize,
    in_epoch: bool,
}

impl<'a> Batcher<'a> {
    /// Batches of `batch_size` samples in a new random order each epoch, drawn from `rng`.
    /// With `drop_last`, a final batch smaller than `batch_size` is skipped, so every batch
    /// has the same size; otherwise it is returned. A `batch_size` of at least `data.len()`
    /// gives full-batch training.
    pub fn new(
        data: &'a Dataset,
        batch_size: usize,
        drop_last: bool,
        rng: Rng,
    ) -> Result<Batcher<'a>, DataError> {
        data.validate()?;
        if batch_size == 0 {
            return Err(DataError::invalid("batch size", 0, "at least 1"));
        }
        if drop_last && !data.is_empty() && data.len() < batch_size {
            return Err(DataError::invalid(
                "batch size",
                batch_size,
                &format!(
                    "at most the number of samples ({}) when incomplete batches are dropped, \
                     or else no batch would remain",
                    data.len()
                ),
            ));
        }
        let what = || format!("the visiting order of {} samples", data.len());
        let mut order = Budget::new(MemoryLimit::NONE).vec(data.len(), &what)?;
        order.extend(0..data.len());
        Ok(Batcher {
            data,
            batch_size,
            drop_last,
            rng: Some(rng),
            order,
            position: 0,
            last_batch: 0..0,
            epochs_started: 0,
            in_epoch: false,
        })
    }

    /// Batches in the stored order, the last one possibly smaller — for evaluation.
    pub fn sequential(data: &'a Dataset, batch_size: usize) -> Result<Batcher<'a>, DataError> {
        let mut batcher = Batcher::new(data, batch_size, false, Rng::new(0))?;
        batcher.rng = None;
        Ok(batcher)
    }

    /// The largest number of samples in a batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// How many batches each epoch yields.
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.data.len() / self.batch_size
        } else {
            self.data.len().div_ceil(self.batch_size)
        }
    }

    /// Size of a feature buffer that holds any batch: `batch_size * sample_len`.
    pub fn features_len(&self) -> usize {
        self.batch_size * self.data.sample_len()
    }

    /// Size of a target buffer that holds any batch: `batch_size * target_len`.
    pub fn targets_len(&self) -> usize {
        self.batch_size * self.data.targets.target_len()
    }

    /// How many epochs have started (1 during the first).
    pub fn epoch(&self) -> usize {
        self.epochs_started
    }

    /// The data set indices of the samples in the most recent batch, in buffer order.
    pub fn batch_indices(&self) -> &[usize] {
        &self.order[self.last_batch.clone()]
    }

    /// Copies the next batch into the front of `features` and `targets` and returns its
    /// sample count, or returns `None` at the end of the epoch. The buffers must hold at
    /// least this batch ([`Batcher::features_len`] and [`Batcher::targets_len`] always do);
    /// values past the batch are left as they were.
    pub fn next_batch(
        &mut self,
        features: &mut [f32],
        targets: &mut [f32],
    ) -> Result<Option<usize>, DataError> {
        if !self.in_epoch {
            self.start_epoch();
        }
        let count = (self.order.len() - self.position).min(self.batch_size);
        if count == 0 || (self.drop_last && count < self.batch_size) {
            self.in_epoch = false;
            self.last_batch = 0..0;
            return Ok(None);
        }
        let sample_len = self.data.sample_len();
        let target_len = self.data.targets.target_len();
        check_buffer("feature buffer", features.len(), count, sample_len)?;
        check_buffer("target buffer", targets.len(), count, target_len)?;
        let batch = self.position..self.position + count;
        for (slot, &index) in self.order[batch.clone()].iter().enumerate() {
            features[slot * sample_len..(slot + 1) * sample_len]
                .copy_from_slice(self.data.sample(index));
            let target = &mut targets[slot * target_len..(slot + 1) * target_len];
            self.data.targets.write_target(index, target);
        }
        self.position = batch.end;
        self.last_batch = batch;
        Ok(Some(count))
    }

    fn start_epoch(&mut self) {
        // Restart from the identity so each epoch's order depends only on the generator.
        for (slot, index) in self.order.iter_mut().enumerate() {
            *index = slot;
        }
        if let Some(rng) = &mut self.rng {
            rng.shuffle(&mut self.order);
        }
        self.position = 0;
        self.epochs_started += 1;
        self.in_epoch = true;
    }
}

fn check_buffer(name: &str, len: usize, count: usize, per_sample: usize) -> Result<(), DataError> {
    let needed = count * per_sample;
    if len < needed {
        return Err(DataError::invalid(
            name,
            format!("{len} values"),
            &format!("at least {needed} values ({count} samples of {per_sample})"),
        ));
    }
    Ok(())
}
