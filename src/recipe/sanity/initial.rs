//! The first check: the loss of the fresh network against chance.
//!
//! A fresh network should know nothing, so its outputs should be small and
//! unrelated to the targets, and its loss what chance gives:
//!
//! - cross-entropy over C outputs: logits near 0 give every class 1/C, a
//!   loss of ln C. Logits of standard deviation σ (unrelated to the labels)
//!   raise it to about ln C + (1 - 1/C) σ²/2 (second-order expansion of the
//!   log-sum-exp around equal logits); binary cross-entropy is the case C = 2.
//! - mean squared error: outputs near 0 give the targets' mean square
//!   E[y²]; outputs unrelated to the targets add their own mean square E[f²].
//!
//! A classifier passes when its loss is within [`CHANCE_TOLERANCE`] of
//! chance, on either side: further above, the logits start large and the
//! first steps are spent undoing the draw; further below, large logits
//! happen to agree with the labels, by luck of the draw (logits of
//! deviation 0.1 can move the loss by a few percent at most). 15% above
//! ln C is logits of deviation sqrt(0.3 ln C / (1 - 1/C)): 0.65 for two
//! classes, 0.88 for ten.
//!
//! A regressor passes when its outputs' mean square is at most
//! [`CHANCE_TOLERANCE`] of the targets' (unrelated to the targets, they
//! would raise the loss that much). Its loss is not judged itself: even
//! small outputs of a smooth function of one input correlate strongly with
//! smooth targets (a sine), which moves the loss below chance by twice the
//! correlation times the ratio of the outputs' RMS to the targets', up to
//! 20% for outputs a tenth the targets' size.
//!
//! The default initialisation draws the output layers small
//! (`crate::check::OUTPUT_GAIN`) so that a network on standardised inputs
//! starts well inside these limits.

use super::Check;
use crate::autodiff::graphs::Entry;
use crate::check::{Loss, OUTPUT_GAIN, output_layers};
use crate::data::target_moments;
use crate::data::{Batcher, Dataset, Targets};
use crate::ir::{Init, StepScalars};
use crate::recipe::{Bench, RecipeError};
use crate::runtime::backend::Call;
use crate::runtime::init::wide_inits;

/// How far from chance the fresh loss may be, as a fraction of chance.
pub const CHANCE_TOLERANCE: f64 = 0.15;
/// Samples the initial loss is measured on (at least one batch).
const SAMPLES: usize = 256;

/// The fresh network's loss and what chance gives.
#[derive(Clone, Debug, PartialEq)]
pub struct InitialLoss {
    pub kind: Loss,
    /// The mean loss on the first training samples, in training mode.
    pub loss: f64,
    /// ln C for classification, the targets' mean square for `mse`.
    pub chance: f64,
    /// The mean square of the outputs (logits, or predicted values).
    pub output_power: f64,
}

impl InitialLoss {
    /// `(loss - chance) / chance`: positive above chance.
    pub fn deviation(&self) -> f64 {
        self.share_of_chance(self.loss - self.chance)
    }

    fn share_of_chance(&self, x: f64) -> f64 {
        x / self.chance.max(f64::MIN_POSITIVE)
    }

    /// What the check compares with [`CHANCE_TOLERANCE`] (see the module docs).
    pub fn distance_from_chance(&self) -> f64 {
        match self.kind {
            Loss::MeanSquaredError => self.share_of_chance(self.output_power),
            Loss::CrossEntropy | Loss::BinaryCrossEntropy => self.deviation().abs(),
        }
    }

    pub fn near_chance(&self) -> bool {
        self.loss.is_finite() && self.distance_from_chance() <= CHANCE_TOLERANCE
    }
}

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
            shard: crate::ir::Shard::WHOLE,
        };
        let loss = model.call_or_nan(Entry::Backward, &call, &mut output)?;
        sum += loss as f64 * n as f64;
        seen += n;
        outputs.extend_from_slice(&output[..n * width]);
    }
    Ok((sum / seen.max(1) as f64, outputs, sample))
}

/// The classes chance spreads over: 2 for a binary output, else one per output.
fn classes(bench: &Bench) -> usize {
    match bench.plan.loss {
        Loss::BinaryCrossEntropy => 2,
        _ => bench.model.output_width(),
    }
}

/// The fresh network's loss against chance, without judging it.
pub fn measure_initial_loss(bench: &Bench) -> Result<InitialLoss, RecipeError> {
    let (loss, outputs, sample) = fresh_loss(bench)?;
    let output_power =
        outputs.iter().map(|&f| f as f64 * f as f64).sum::<f64>() / outputs.len().max(1) as f64;
    Ok(InitialLoss {
        kind: bench.plan.loss,
        loss,
        chance: chance(bench, &sample),
        output_power,
    })
}

fn chance(bench: &Bench, sample: &Dataset) -> f64 {
    match (&sample.targets, bench.plan.loss) {
        (_, Loss::CrossEntropy | Loss::BinaryCrossEntropy) => (classes(bench) as f64).ln(),
        (Targets::Values { values, width }, Loss::MeanSquaredError) => {
            target_moments(values, *width).0
        }
        (Targets::Classes { .. }, Loss::MeanSquaredError) => 0.0,
    }
}

pub fn initial_loss(bench: &Bench) -> Result<Check, RecipeError> {
    let measured = measure_initial_loss(bench)?;
    let mut check = match bench.plan.loss {
        Loss::CrossEntropy | Loss::BinaryCrossEntropy => classification(bench, &measured),
        Loss::MeanSquaredError => regression(&measured),
    };
    if !check.passed {
        check.advice.push(verdict(bench, &measured));
        check.advice.extend(scale_causes(bench));
    }
    Ok(check)
}

/// `3.2% above`, `12.0% below`.
fn distance(m: &InitialLoss) -> String {
    let d = m.deviation();
    let side = if d >= 0.0 { "above" } else { "below" };
    format!("{:.1}% {side}", 100.0 * d.abs())
}

fn classification(bench: &Bench, m: &InitialLoss) -> Check {
    let c = classes(bench);
    let what = match bench.plan.loss {
        Loss::BinaryCrossEntropy => "a binary output".to_string(),
        _ => format!("{c} outputs"),
    };
    let summary = format!(
        "{:.4}, chance is ln {c} = {:.4} for {what}: {} (limit {:.0}%)",
        m.loss,
        m.chance,
        distance(m),
        100.0 * CHANCE_TOLERANCE
    );
    let mut notes = Vec::new();
    if let (Loss::CrossEntropy, Some(classes)) = (bench.plan.loss, bench.train.classes())
        && c > classes
    {
        notes.push(format!(
            "the network gives {c} outputs but the data has {classes} classes: \
             outputs {classes}..{c} never match a label; end the network with `dense {classes}`"
        ));
    }
    Check {
        name: "initial loss",
        passed: m.near_chance(),
        summary,
        advice: Vec::new(),
        notes,
    }
}

fn regression(m: &InitialLoss) -> Check {
    Check {
        name: "initial loss",
        passed: m.near_chance(),
        summary: format!(
            "{:.4}, chance is {:.4}, the targets' mean square (the loss of outputs equal to 0): {}; \
             the outputs' mean square is {:.4} = {:.1}% of it (limit {:.0}%)",
            m.loss,
            m.chance,
            distance(m),
            m.output_power,
            100.0 * m.distance_from_chance(),
            100.0 * CHANCE_TOLERANCE
        ),
        advice: Vec::new(),
        notes: Vec::new(),
    }
}

/// What a loss this far from chance means.
fn verdict(bench: &Bench, m: &InitialLoss) -> String {
    let chance = format!("so that its loss is near chance ({:.4})", m.chance);
    let large = "the outputs start too large, and the first steps will be spent undoing them";
    match bench.plan.loss {
        _ if !m.loss.is_finite() => format!(
            "a fresh network's outputs should be small, but its loss is {}: they overflow",
            m.loss
        ),
        Loss::MeanSquaredError => format!(
            "a fresh network's outputs should be near 0, {chance}; their mean square is {:.1}% \
             of the targets': {large}",
            100.0 * m.distance_from_chance()
        ),
        _ if m.deviation() > 0.0 => format!(
            "a fresh network should give every class about the same probability, {chance}; \
             it is {}: {large}",
            distance(m)
        ),
        _ => format!(
            "a fresh network should give every class about the same probability, {chance}; \
             it is {}: logits large enough to agree with the labels by luck of the draw",
            distance(m)
        ),
    }
}

/// Why the outputs may start too large: output layers whose `init:` or
/// position keeps them from starting small, explicit wide initialisations,
/// then large inputs.
fn scale_causes(bench: &Bench) -> Vec<String> {
    let net = &bench.model.model.network;
    let ends = output_layers(&net.layers, net.output);
    let mut causes = Vec::new();
    if !ends.contains(&true) {
        causes.push(format!(
            "the network's output is not made by a `dense` or `conv` layer (it ends in `{}`), \
             so nothing draws the first outputs small: end the network with a `dense` layer",
            net.layers[net.output].op.keyword()
        ));
    }
    let mut named = Vec::new();
    for (layer, _) in net.layers.iter().zip(&ends).filter(|(_, end)| **end) {
        let Some(init) = layer.op.rule().init_override() else {
            continue;
        };
        if matches!(init, Init::Const(_)) {
            continue;
        }
        named.push(format!("`{}`", layer.name));
        causes.push(format!(
            "`{}` makes the network's output, and its `init:` argument draws its weights from {}, \
             which sets the scale of the first outputs; remove the argument: by default an output \
             layer is drawn from normal(std: {} / sqrt(fan_in)) so that the outputs start near 0",
            layer.name,
            init.describe(),
            OUTPUT_GAIN
        ));
    }
    // An output layer named above is not named again as merely wide.
    causes.extend(
        wide_inits(net)
            .into_iter()
            .filter(|c| !named.iter().any(|n| c.contains(n.as_str()))),
    );
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
