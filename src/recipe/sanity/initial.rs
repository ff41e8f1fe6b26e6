//! The first check: the loss of the fresh network against chance.
//!
//! A fresh network should know nothing, so its outputs should be small and
//! unrelated to the targets:
//!
//! - cross-entropy over C outputs: logits near 0 give every class 1/C, a
//!   loss of ln C. Logits of standard deviation σ (unrelated to the labels)
//!   raise it to about ln C + (1 - 1/C) σ²/2 (second-order expansion of the
//!   log-sum-exp around equal logits); binary cross-entropy is the case C = 2.
//! - mean squared error: outputs f near 0 give the targets' mean square
//!   E[y²]; outputs unrelated to the targets add their own mean square E[f²].
//!
//! The check passes when the outputs are at most [`MAX_LOGIT_STD`] (logits)
//! or [`MAX_OUTPUT_RATIO`] times the targets' deviation (regression) in
//! scale, measured from the loss itself (logits) or the outputs (regression).
//! Three standard deviations is where a softmax saturates (two logits one
//! deviation apart already give odds of e³ ≈ 20): beyond it the network
//! starts confidently wrong, and the first steps are spent undoing
//! the initialisation, or stall in the saturated softmax.

use super::Check;
use crate::autodiff::graphs::Entry;
use crate::check::Loss;
use crate::data::target_moments;
use crate::data::{Batcher, Dataset, Targets};
use crate::ir::StepScalars;
use crate::recipe::{Bench, RecipeError};
use crate::runtime::backend::Call;
use crate::runtime::init::wide_inits;

/// The largest logit standard deviation a fresh classifier passes with.
pub const MAX_LOGIT_STD: f64 = 3.0;
/// The largest ratio of output RMS to target deviation a fresh regressor passes with.
pub const MAX_OUTPUT_RATIO: f64 = 3.0;
/// Samples the initial loss is measured on (at least one batch).
const SAMPLES: usize = 256;

/// The loss of the fresh network on the first training batches, in training
/// mode (as the first step sees it), and the outputs it gave.
pub(super) fn fresh_loss(bench: &Bench) -> Result<(f64, Vec<f32>, Dataset), RecipeError> {
    let mut model = bench.fresh(bench.plan.seed)?;
    let take = bench.train.len().min(SAMPLES.max(bench.batch));
    let indices: Vec<usize> = (0..take).collect();
    let sample = bench.train.select(&indices)?;
    let mut batcher = Batcher::sequential(&sample, bench.batch)?;
    let width = model.output_width();
    let mut features = vec![0.0f32; batcher.features_len()];
    let mut labels = vec![0.0f32; batcher.targets_len()];
    let mut output = vec![0.0f32; bench.batch * width];
    let mut outputs = Vec::with_capacity(take * width);
    let (mut sum, mut seen) = (0.0f64, 0usize);
    let tl = sample.targets.target_len();
    while let Some(n) = batcher.next_batch(&mut features, &mut labels)? {
        let call = Call {
            n,
            features: &features[..n * sample.sample_len()],
            labels: &labels[..n * tl],
            scalars: StepScalars::NO_STEP,
            seed: bench.plan.seed,
            step: 0,
        };
        let loss = model.call_or_nan(Entry::Backward, &call, &mut output)?;
        sum += loss as f64 * n as f64;
        seen += n;
        outputs.extend_from_slice(&output[..n * width]);
    }
    Ok((sum / seen.max(1) as f64, outputs, sample))
}

pub fn initial_loss(bench: &Bench) -> Result<Check, RecipeError> {
    let (loss, outputs, sample) = fresh_loss(bench)?;
    let width = bench.model.output_width();
    let mut check = match bench.plan.loss {
        Loss::CrossEntropy | Loss::BinaryCrossEntropy => classification(bench, loss, width),
        Loss::MeanSquaredError => regression(loss, &outputs, &sample),
    };
    if !check.passed {
        check.advice.extend(scale_causes(bench));
    }
    Ok(check)
}

fn classification(bench: &Bench, loss: f64, width: usize) -> Check {
    let (c, what) = match bench.plan.loss {
        Loss::BinaryCrossEntropy => (2usize, "a binary output".to_string()),
        _ => (width, format!("{width} outputs")),
    };
    let expected = (c as f64).ln();
    let excess = loss - expected;
    let sigma = (2.0 * excess.max(0.0) / (1.0 - 1.0 / c as f64)).sqrt();
    let limit = expected + (1.0 - 1.0 / c as f64) * MAX_LOGIT_STD * MAX_LOGIT_STD / 2.0;
    let passed = loss.is_finite() && loss <= limit;
    let summary = format!(
        "{loss:.4}, expected ln {c} = {expected:.4} for {what} (logits of std {sigma:.2}; limit {limit:.4}, std {MAX_LOGIT_STD})"
    );
    let mut notes = Vec::new();
    if let (Loss::CrossEntropy, Some(classes)) = (bench.plan.loss, bench.train.classes())
        && width > classes
    {
        notes.push(format!(
            "the network gives {width} outputs but the data has {classes} classes: \
             outputs {classes}..{width} never match a label; end the network with `dense {classes}`"
        ));
    }
    Check {
        name: "initial loss",
        passed,
        summary,
        advice: Vec::new(),
        notes,
    }
}

fn regression(loss: f64, outputs: &[f32], sample: &Dataset) -> Check {
    let (mean_square, variance) = match &sample.targets {
        Targets::Values { values, width } => target_moments(values, *width),
        Targets::Classes { .. } => (0.0, 0.0),
    };
    let output_power =
        outputs.iter().map(|&f| f as f64 * f as f64).sum::<f64>() / outputs.len().max(1) as f64;
    let ratio = output_power.sqrt() / variance.sqrt().max(1e-12);
    let passed = loss.is_finite() && ratio <= MAX_OUTPUT_RATIO;
    Check {
        name: "initial loss",
        passed,
        summary: format!(
            "{loss:.4}, expected about {mean_square:.4} (the targets' mean square; their variance is {variance:.4}); \
             outputs of RMS {:.3} = {ratio:.2} x the targets' deviation (limit {MAX_OUTPUT_RATIO})",
            output_power.sqrt()
        ),
        advice: Vec::new(),
        notes: Vec::new(),
    }
}

/// Why the outputs may start too large: explicit wide initialisations, then
/// large inputs.
fn scale_causes(bench: &Bench) -> Vec<String> {
    let mut causes = wide_inits(&bench.model.model.network);
    let f = &bench.train.features;
    let rms = (f.iter().map(|&x| x as f64 * x as f64).sum::<f64>() / f.len().max(1) as f64).sqrt();
    if rms > 10.0 {
        causes.push(format!(
            "the inputs are large (RMS {rms:.1}): add `scale` or `standardize` to the data item"
        ));
    }
    if causes.is_empty() {
        causes.push(
            "the initialisation scale is too large for this network: check the `init:` arguments \
             and that the inputs are scaled"
                .into(),
        );
    }
    causes
}
