//! The third check: learn a few mini-batches by heart.
//!
//! A network that can learn anything must be able to memorise a handful of
//! samples: with the program's optimizer, rate and decay (the base rate,
//! without the schedule), training on a small fixed sample must reach 100%
//! accuracy on it (for regression: a loss below [`REGRESSION_TARGET`] of the
//! targets' variance, R² ≥ 0.95) within a bounded number of steps. Accuracy
//! and loss are measured in evaluation mode every few steps.
//!
//! How it fails tells why: a loss that becomes Inf or NaN, or grows past
//! [`EXPLODED`] times where it started, means the rate is too high; a loss
//! that falls by less than [`STALLED`] of itself means the rate is too low
//! (or the initialisation is bad); a loss that falls but not far enough
//! points at the rate or at the network's ability to fit.

use super::{Check, SanityOptions};
use crate::check::{Init, Loss};
use crate::data::target_moments;
use crate::data::{Batcher, Dataset, Targets};
use crate::layers::Range;
use crate::recipe::{Bench, RecipeError, Stepper, format_number};
use crate::rng::Rng;

/// The regression loss to reach, as a fraction of the targets' variance.
pub const REGRESSION_TARGET: f64 = 0.05;
/// A loss this many times its start has exploded.
pub const EXPLODED: f64 = 10.0;
/// A loss that fell by less than this fraction has stalled.
pub const STALLED: f64 = 0.1;
/// Steps between two measurements.
const EVERY: usize = 10;

enum Outcome {
    Reached { steps: usize },
    Diverged { step: usize, loss: f64 },
    Ended { steps: usize },
}

pub fn overfit(
    bench: &Bench,
    options: &SanityOptions,
    init_ok: bool,
) -> Result<Check, RecipeError> {
    let size = options
        .overfit_samples
        .unwrap_or((2 * bench.batch).clamp(8, 128))
        .clamp(1, bench.train.len());
    let mut order: Vec<usize> = (0..bench.train.len()).collect();
    Rng::new(bench.data_seed).fork(0x5A17).shuffle(&mut order);
    let sample = bench.train.select(&order[..size])?;
    let batch = bench.batch.min(size);
    let setting = bench.program_setting();
    let lr = setting.lr;
    let mut stepper = Stepper::new(bench, bench.model.fork(), setting.decay, bench.plan.seed)?;
    let variance = match &sample.targets {
        Targets::Values { values, width } => target_moments(values, *width).1,
        Targets::Classes { .. } => 0.0,
    };
    let reached = |loss: f64, acc: Option<f64>| match acc {
        Some(a) => a >= 1.0,
        None => loss <= REGRESSION_TARGET * variance,
    };
    let start = stepper.model.evaluate(&sample)?;
    let (mut last, mut best) = (start, start.loss);
    let mut features = vec![0.0f32; batch * sample.sample_len()];
    let mut labels = vec![0.0f32; batch * sample.targets.target_len()];
    let tl = sample.targets.target_len();
    let mut steps = 0usize;
    let mut epoch = 0u64;
    let outcome = 'train: loop {
        if reached(last.loss, last.accuracy) {
            break Outcome::Reached { steps };
        }
        if steps >= options.max_steps {
            break Outcome::Ended { steps };
        }
        let mut batcher =
            Batcher::new(&sample, batch, false, Rng::new(bench.data_seed).fork(epoch))?;
        epoch += 1;
        while let Some(n) = batcher.next_batch(&mut features, &mut labels)? {
            if n == 1 && bench.skips_single {
                continue;
            }
            let out = stepper.step(
                &features[..n * sample.sample_len()],
                &labels[..n * tl],
                n,
                lr,
            )?;
            steps += 1;
            if !out.loss.is_finite() {
                break 'train Outcome::Diverged {
                    step: steps,
                    loss: out.loss as f64,
                };
            }
            if steps.is_multiple_of(EVERY) || steps >= options.max_steps {
                last = stepper.model.evaluate(&sample)?;
                best = best.min(last.loss);
                let limit = EXPLODED * start.loss.max(1e-12);
                if !last.loss.is_finite() || last.loss > limit {
                    break 'train Outcome::Diverged {
                        step: steps,
                        loss: last.loss,
                    };
                }
                if reached(last.loss, last.accuracy) || steps >= options.max_steps {
                    continue 'train;
                }
            }
        }
    };
    let what = match last.accuracy {
        Some(_) => "100% training accuracy".to_string(),
        None => format!("a loss below {REGRESSION_TARGET} x the targets' variance {variance:.4}"),
    };
    let acc = |a: Option<f64>| a.map_or(String::new(), |a| format!(", accuracy {:.1}%", a * 100.0));
    let rate = format_number(lr);
    let mut check = Check {
        name: "overfit",
        passed: false,
        summary: String::new(),
        advice: Vec::new(),
        notes: Vec::new(),
    };
    match outcome {
        Outcome::Reached { steps } => {
            check.passed = true;
            check.summary = format!(
                "{size} samples learned by heart in {steps} steps at lr {rate}: loss {:.4} -> {:.4}{}",
                start.loss,
                last.loss,
                acc(last.accuracy)
            );
        }
        Outcome::Diverged { step, loss } => {
            check.summary = format!(
                "on {size} samples at lr {rate}, the loss went from {:.4} to {loss:.4e} by step {step}",
                start.loss
            );
            check.advice.push(format!(
                "the learning rate {rate} is likely too high: lower it (try {}) or run `dlc lr-find`",
                format_number(lr / 10.0)
            ));
        }
        Outcome::Ended { steps } => {
            let fell = (start.loss - best) / start.loss.max(1e-12);
            check.summary = format!(
                "{size} samples not learned by heart in {steps} steps at lr {rate}: loss {:.4} -> {:.4}{} (goal: {what})",
                start.loss,
                last.loss,
                acc(last.accuracy)
            );
            if fell < STALLED {
                let mut why = format!(
                    "the loss did not fall (by {:.1}%, under {:.0}%): the learning rate {rate} is likely too low (try {} or run `dlc lr-find`)",
                    fell.max(0.0) * 100.0,
                    STALLED * 100.0,
                    format_number(lr * 10.0)
                );
                why += if init_ok {
                    ", or the initialisation is bad"
                } else {
                    ", or the initialisation is bad (see the initial loss above)"
                };
                check.advice.push(why);
            } else {
                check.advice.push(format!(
                    "the loss fell but not far enough: the rate {rate} may be too low, or the network too small to fit {size} samples"
                ));
            }
        }
    }
    if !check.passed {
        check
            .advice
            .extend(crate::runtime::init::wide_inits(&bench.model.model.network));
        check.advice.extend(structure_causes(bench, &sample));
    }
    Ok(check)
}

/// Parts of the network that keep it from fitting whatever the rate.
fn structure_causes(bench: &Bench, sample: &Dataset) -> Vec<String> {
    let net = &bench.model.model.network;
    let last = &net.layers[net.output];
    let mut causes = Vec::new();
    let act = last.op.rule().activation();
    let classification = matches!(
        bench.plan.loss,
        Loss::CrossEntropy | Loss::BinaryCrossEntropy
    );
    match act {
        Some(a) if bench.plan.loss == Loss::CrossEntropy && a.range == Range::Probabilities => {
            causes.push(format!(
                "the network ends in `{}` ({}), but cross_entropy applies its own: the logits are squeezed into [0, 1]; remove the layer",
                last.op.keyword(),
                last.name
            ))
        }
        Some(a) if classification && !a.linear => causes.push(format!(
            "the network ends in `{}` ({}): the last layer should be linear; remove it",
            last.op.keyword(),
            last.name
        )),
        _ => {}
    }
    for layer in &net.layers {
        if let Some(rate) = layer.op.rule().dropout_rate()
            && rate >= 0.5
        {
            causes.push(format!(
                "`{}` drops {:.0}% of its inputs while training",
                layer.name,
                rate * 100.0
            ));
        }
        for t in layer
            .params
            .iter()
            .filter(|t| t.name == "weight" && !t.shape.is_empty())
        {
            if matches!(t.init, Init::Const(_)) && layer.op.rule().weights_follow_activation() {
                causes.push(format!(
                    "`{}` starts with all weights equal: its units stay identical; use a random `init:`",
                    layer.name
                ));
            }
        }
    }
    if let (Loss::CrossEntropy, Some(classes)) = (bench.plan.loss, sample.classes())
        && bench.model.output_width() < classes
    {
        causes.push(format!(
            "the network has fewer outputs than the {classes} classes"
        ));
    }
    causes
}
