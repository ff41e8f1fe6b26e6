//! The per-call scalars: numbers a compiled function reads from a small
//! buffer at each call, so that a schedule or an optimizer's step count
//! needs no recompilation.
//!
//! [`ScalarKind`] names each slot of the buffer; [`StepScalars`] is what a
//! caller fills in, by name (the batch size comes from the call itself).

/// One slot of the scalars buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarKind {
    /// The batch size `N`, as a number.
    BatchSize,
    /// The learning rate of this step (after the schedule and any decay of
    /// the rate the optimizer itself makes).
    LearningRate,
    /// A first-moment bias correction, `1 / (1 - beta1^t)` for Adam.
    BiasCorrection1,
    /// A second-moment bias correction, `1 / sqrt(1 - beta2^t)` for Adam.
    BiasCorrection2,
}

impl ScalarKind {
    /// Every kind, in the order of the scalars buffer a compiled function reads.
    pub const ALL: [ScalarKind; 4] = [
        ScalarKind::BatchSize,
        ScalarKind::LearningRate,
        ScalarKind::BiasCorrection1,
        ScalarKind::BiasCorrection2,
    ];

    /// This kind's index in the scalars buffer.
    pub fn slot(self) -> usize {
        self as usize
    }
}

/// The scalars of one call besides the batch size, by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepScalars {
    pub learning_rate: f64,
    pub bias_correction1: f64,
    pub bias_correction2: f64,
}

impl StepScalars {
    /// For a call that takes no optimizer step (prediction, evaluation, a
    /// gradient alone): no rate, and corrections that change nothing.
    pub const NO_STEP: StepScalars = StepScalars::at_rate(0.0);

    /// A step at rate `learning_rate` with no bias correction.
    pub const fn at_rate(learning_rate: f64) -> StepScalars {
        StepScalars {
            learning_rate,
            bias_correction1: 1.0,
            bias_correction2: 1.0,
        }
    }

    /// The value of slot `kind` in a call on `batch` samples.
    pub fn value(&self, kind: ScalarKind, batch: usize) -> f64 {
        match kind {
            ScalarKind::BatchSize => batch as f64,
            ScalarKind::LearningRate => self.learning_rate,
            ScalarKind::BiasCorrection1 => self.bias_correction1,
            ScalarKind::BiasCorrection2 => self.bias_correction2,
        }
    }

    /// Each value as the compiled code reads it, rounded to f32.
    pub fn rounded_to_f32(&self) -> StepScalars {
        let round = |v: f64| v as f32 as f64;
        StepScalars {
            learning_rate: round(self.learning_rate),
            bias_correction1: round(self.bias_correction1),
            bias_correction2: round(self.bias_correction2),
        }
    }

    /// The scalars buffer of a call on `batch` samples, in [`ScalarKind::ALL`]'s order.
    pub fn buffer(&self, batch: usize) -> [f32; ScalarKind::ALL.len()] {
        ScalarKind::ALL.map(|k| self.value(k, batch) as f32)
    }
}

/// Where a call's samples sit in its step's batch, when the batch is split
/// over several processes (data parallelism): the call holds samples
/// `first .. first + n` of a batch of `total`. Batch means and the loss
/// divide by `total`, and dropout keys each sample's mask by its place in
/// the whole batch, so the split changes neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub first: usize,
    /// The whole batch; `None` when the call holds all of it.
    pub total: Option<usize>,
}

impl Shard {
    /// A call that holds its whole batch.
    pub const WHOLE: Shard = Shard {
        first: 0,
        total: None,
    };

    /// The batch size the call's means divide by, for a call on `n` samples.
    pub fn batch(&self, n: usize) -> usize {
        self.total.unwrap_or(n)
    }
}
