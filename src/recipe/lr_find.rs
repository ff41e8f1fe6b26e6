//! The learning-rate finder (`dlc lr-find`).
//!
//! From a fresh initialisation, each optimizer step takes a rate a constant
//! factor larger than the one before, from `start` to `end` over `steps`
//! steps, with a small weight decay on (the program's, or
//! a usual decay of its kind when it sets none). The loss of
//! every step is recorded; the sweep stops early once the running loss has
//! grown to `explode` times its lowest value, or becomes Inf or NaN.
//!
//! The recorded losses are then smoothed by a centred moving average (which,
//! unlike an exponential average, does not lag behind the rate), and the
//! slope of the smoothed loss against ln(rate) is taken across half a decade
//! of rates ([`SLOPE_WINDOW`]):
//!
//! - the *suggestion* is the rate where the loss falls fastest (the most
//!   negative slope, before the loss's minimum);
//! - the *safe range* is the band of rates around it where the loss still
//!   falls at least half as fast (the full width at half maximum of the
//!   descent rate).

use super::{Bench, DecayKind, RecipeError, Stepper};
use crate::data::Batcher;
use crate::rng::Rng;

/// The slope is measured across this many decades of rate.
pub const SLOPE_WINDOW: f64 = 0.5;

#[derive(Clone, Debug)]
pub struct LrFindOptions {
    pub start: f64,
    pub end: f64,
    pub steps: usize,
    /// The decay during the sweep; `None`: the program's, or the default.
    pub decay: Option<f64>,
    /// Stop once the running loss exceeds this multiple of its minimum.
    pub explode: f64,
}

impl Default for LrFindOptions {
    fn default() -> Self {
        LrFindOptions {
            start: 1e-6,
            end: 10.0,
            steps: 200,
            decay: None,
            explode: 4.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrPoint {
    pub lr: f64,
    /// The loss of the step's batch, before the step.
    pub loss: f64,
    /// The centred moving average of `loss`.
    pub smoothed: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LrFind {
    /// Every step up to where the sweep stopped.
    pub points: Vec<LrPoint>,
    /// The rate where the loss falls fastest; `None` if it never fell.
    pub suggestion: Option<f64>,
    /// Rates where the loss falls at least half as fast as at the suggestion.
    pub safe: Option<(f64, f64)>,
    /// The rate of the lowest smoothed loss.
    pub min_loss_lr: f64,
    /// The rate at which the loss exploded, if it did.
    pub exploded_at: Option<f64>,
    pub decay: f64,
    pub decay_kind: DecayKind,
}

pub fn lr_find(bench: &Bench, options: &LrFindOptions) -> Result<LrFind, RecipeError> {
    if !(options.start > 0.0 && options.end > options.start && options.steps >= 10) {
        return Err(RecipeError::Options(format!(
            "the sweep needs 0 < start < end and at least 10 steps; got start {}, end {}, {} steps",
            options.start, options.end, options.steps
        )));
    }
    let program = bench.program_setting().decay;
    let decay = options.decay.unwrap_or(if program > 0.0 {
        program
    } else {
        bench.typical_decay()
    });
    let mut stepper = Stepper::new(bench, bench.model.fork(), decay, bench.plan.seed)?;
    let train = &bench.train;
    let (batch, tl) = (bench.batch, train.targets.target_len());
    let mut features = vec![0.0f32; batch * train.sample_len()];
    let mut labels = vec![0.0f32; batch * tl];
    let ratio = (options.end / options.start).ln() / (options.steps - 1) as f64;
    let (mut raw, mut rates) = (Vec::new(), Vec::new());
    let (mut running, mut lowest) = (0.0f64, f64::INFINITY);
    let mut exploded_at = None;
    let mut epoch = 0u64;
    'sweep: while raw.len() < options.steps {
        let mut batcher = Batcher::new(train, batch, false, Rng::new(bench.data_seed).fork(epoch))?;
        epoch += 1;
        while let Some(n) = batcher.next_batch(&mut features, &mut labels)? {
            if n == 1 && bench.skips_single {
                continue;
            }
            let i = raw.len();
            if i >= options.steps {
                break 'sweep;
            }
            let lr = options.start * (ratio * i as f64).exp();
            let out = stepper.step(
                &features[..n * train.sample_len()],
                &labels[..n * tl],
                n,
                lr,
            )?;
            let loss = out.loss as f64;
            if !loss.is_finite() {
                exploded_at = Some(lr);
                break 'sweep;
            }
            raw.push(loss);
            rates.push(lr);
            // A bias-corrected exponential average, for stopping only.
            running = 0.9 * running + 0.1 * loss;
            let average = running / (1.0 - 0.9f64.powi(i as i32 + 1));
            lowest = lowest.min(average);
            if i >= 10 && average > options.explode * lowest {
                exploded_at = Some(lr);
                break 'sweep;
            }
        }
    }
    Ok(analyse(
        &rates,
        &raw,
        exploded_at,
        decay,
        bench.decay_kind(),
    ))
}

/// Smoothing, suggestion and safe range from a recorded sweep.
pub fn analyse(
    rates: &[f64],
    losses: &[f64],
    exploded_at: Option<f64>,
    decay: f64,
    decay_kind: DecayKind,
) -> LrFind {
    let len = losses.len().min(rates.len());
    let half = (len / 40).max(2);
    let smoothed: Vec<f64> = (0..len)
        .map(|i| {
            let window = &losses[i.saturating_sub(half)..(i + half + 1).min(len)];
            window.iter().sum::<f64>() / window.len() as f64
        })
        .collect();
    let points: Vec<LrPoint> = (0..len)
        .map(|i| LrPoint {
            lr: rates[i],
            loss: losses[i],
            smoothed: smoothed[i],
        })
        .collect();
    let lowest = (0..len).min_by(|&a, &b| smoothed[a].total_cmp(&smoothed[b]));
    let min_loss_lr = lowest.map_or(f64::NAN, |i| rates[i]);
    let mut result = LrFind {
        points,
        suggestion: None,
        safe: None,
        min_loss_lr,
        exploded_at,
        decay,
        decay_kind,
    };
    let Some(lowest) = lowest else { return result };
    // Slope of the smoothed loss against ln(rate), by central differences
    // over SLOPE_WINDOW decades, so that a wiggle of a few steps cannot pass
    // for the steepest descent.
    let logs: Vec<f64> = rates.iter().map(|r| r.ln()).collect();
    let reach = SLOPE_WINDOW * 10f64.ln() / 2.0;
    let slope = |i: usize| {
        let a = (0..=i).find(|&j| logs[j] >= logs[i] - reach).unwrap_or(i);
        let b = (i..len)
            .rev()
            .find(|&j| logs[j] <= logs[i] + reach)
            .unwrap_or(i);
        if b <= a || logs[b] <= logs[a] {
            return 0.0;
        }
        (smoothed[b] - smoothed[a]) / (logs[b] - logs[a])
    };
    let slopes: Vec<f64> = (0..len).map(slope).collect();
    let steepest = (0..=lowest).min_by(|&a, &b| slopes[a].total_cmp(&slopes[b]));
    let Some(steepest) = steepest.filter(|&i| slopes[i] < 0.0) else {
        return result;
    };
    let half_max = 0.5 * slopes[steepest];
    let mut lo = steepest;
    while lo > 0 && slopes[lo - 1] <= half_max {
        lo -= 1;
    }
    let mut hi = steepest;
    while hi < lowest && slopes[hi + 1] <= half_max {
        hi += 1;
    }
    result.suggestion = Some(rates[steepest]);
    result.safe = Some((rates[lo], rates[hi]));
    result
}
