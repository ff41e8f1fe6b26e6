//! The confirmation: the grid scores settings on a few epochs, but the
//! program trains for its own. A rate that learns fastest in 6 epochs can
//! over-fit or wander by epoch 60, so the grid's proposal replaces the
//! program's setting only after both are trained as `dlc run` trains them:
//! compiled from the program's text (with the proposal written in), the
//! program's epochs, its early stopping (and restore-best) and schedule.
//!
//! Each is trained from several seeds (see [`seeds`]): a seed changes the
//! initialisation and the dropout masks, never the data, which is loaded
//! once, so every run is measured on the same validation samples. A run's
//! measure is the tuner's: the loss on the validation data (on the training
//! data without any) of the weights the run keeps, in evaluation mode.
//!
//! The rule ([`judge`]): with `d` the program's loss minus the proposal's,
//! seed by seed, the proposal is written only if no run of it diverged, the
//! mean of `d` is above [`TIE`] of the program's mean loss and above the
//! standard error of `d` (the noise between seeds), and, for
//! classification, its mean validation accuracy is not lower.

use super::bench::Context;
use super::choice::TIE;
use super::{RecipeError, Setting, write_setting};
use crate::runtime::{CompiledModel, RunError, TrainOptions};

/// Below this many training samples, one run says little: seeds vary it.
pub const SMALL_DATA: usize = 5000;

/// Seeds for a training set this small.
pub const SMALL_DATA_SEEDS: usize = 3;

/// The seeds of the confirmation: the plan's, then the next ones; three
/// where the training set is small, one otherwise (or `count`).
pub fn seeds(bench: &Context, count: Option<usize>) -> Vec<u64> {
    let n = count.unwrap_or(if bench.train.len() < SMALL_DATA {
        SMALL_DATA_SEEDS
    } else {
        1
    });
    (0..n.max(1) as u64)
        .map(|k| bench.plan.seed.wrapping_add(k))
        .collect()
}

/// What one full run ended with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// The measured loss; +inf for a run that diverged.
    pub loss: f64,
    pub accuracy: Option<f64>,
    /// Epochs trained (fewer than the plan's after early stopping).
    pub epochs: usize,
}

/// Why the program's setting is kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Keep {
    Diverged,
    NotLower,
    /// Lower by at most [`TIE`] of the program's loss.
    Tie,
    /// Lower by no more than `noise`, the standard error between seeds.
    Noise {
        noise: f64,
    },
    LowerAccuracy,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Confirmation {
    pub proposal: Setting,
    pub epochs: usize,
    pub seeds: Vec<u64>,
    /// Whether the runs were measured on validation data.
    pub validation: bool,
    /// One outcome per seed, for the program as written and with the proposal.
    pub program: Vec<Outcome>,
    pub proposed: Vec<Outcome>,
    /// `None`: the proposal is better and is written.
    pub keep: Option<Keep>,
}

impl Confirmation {
    /// The mean loss of the proposal below the program's.
    pub fn gain(&self) -> f64 {
        mean_loss(&self.program) - mean_loss(&self.proposed)
    }
}

pub fn mean_loss(runs: &[Outcome]) -> f64 {
    mean(runs.iter().map(|o| o.loss))
}

pub fn mean_accuracy(runs: &[Outcome]) -> Option<f64> {
    let all: Option<Vec<f64>> = runs.iter().map(|o| o.accuracy).collect();
    all.map(|a| mean(a.into_iter()))
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n.max(1) as f64
}

/// Trains the program as written and with `proposal` at the program's own
/// budget, from each seed, on `threads` threads, and judges them.
pub fn confirm(
    bench: &Context,
    proposal: Setting,
    seeds: &[u64],
    threads: usize,
) -> Result<Confirmation, RecipeError> {
    let written = write_setting(
        &bench.source,
        proposal.lr,
        Some((bench.decay_kind(), proposal.decay)),
    )
    .map_err(|e| RecipeError::Options(format!("cannot write the proposal in: {e}")))?;
    let variants = [compile(bench, &bench.source)?, compile(bench, &written)?];
    let jobs: Vec<(usize, u64)> = (0..2)
        .flat_map(|v| seeds.iter().map(move |&s| (v, s)))
        .collect();
    // The program's runs first, then the proposal's, each in seed order.
    let mut program = run_jobs(bench, &variants, &jobs, threads)?;
    let proposed = program.split_off(seeds.len());
    let keep = judge(&program, &proposed);
    Ok(Confirmation {
        proposal,
        epochs: bench.plan.epochs,
        seeds: seeds.to_vec(),
        validation: bench.validation.is_some(),
        program,
        proposed,
        keep,
    })
}

/// The rule of the module docs; `None` when the proposal is better.
pub fn judge(program: &[Outcome], proposed: &[Outcome]) -> Option<Keep> {
    if proposed.iter().any(|o| !o.loss.is_finite()) {
        return Some(Keep::Diverged);
    }
    if program.iter().any(|o| !o.loss.is_finite()) {
        return None;
    }
    let diffs: Vec<f64> = program
        .iter()
        .zip(proposed)
        .map(|(p, c)| p.loss - c.loss)
        .collect();
    let gain = mean(diffs.iter().copied());
    let noise = standard_error(&diffs);
    if gain <= 0.0 {
        Some(Keep::NotLower)
    } else if gain <= TIE * mean_loss(program) {
        Some(Keep::Tie)
    } else if gain <= noise {
        Some(Keep::Noise { noise })
    } else if let (Some(p), Some(c)) = (mean_accuracy(program), mean_accuracy(proposed))
        // Means of the same number of counts over the same samples: equal
        // counts may still differ in the last bit of their sums.
        && c < p - 1e-9
    {
        Some(Keep::LowerAccuracy)
    } else {
        None
    }
}

/// The standard error of the mean of `values` (0 for a single value).
fn standard_error(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let m = mean(values.iter().copied());
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    (var / n as f64).sqrt()
}

/// Compiles `text` as `dlc run` would, but without its checkpoint: trying
/// settings must not overwrite the program's checkpoint file.
fn compile(bench: &Context, text: &str) -> Result<CompiledModel, RecipeError> {
    let checked = crate::check_with(text, &bench.options);
    let mut model = match checked.model {
        Some(m) if !checked.has_errors() => m,
        _ => {
            return Err(RecipeError::Program(crate::Error::Program {
                diagnostics: checked.diagnostics,
            }));
        }
    };
    if let Some(plan) = model.train.as_mut() {
        plan.checkpoint = None;
    }
    Ok(CompiledModel::new(model, text, bench.options.backend)?)
}

/// Runs `jobs` (variant, seed) on forks of the variants: worker k takes
/// jobs k, k + workers, ... Outcomes come back in the order of `jobs`.
fn run_jobs(
    bench: &Context,
    variants: &[CompiledModel; 2],
    jobs: &[(usize, u64)],
    threads: usize,
) -> Result<Vec<Outcome>, RecipeError> {
    let workers = threads.clamp(1, jobs.len().max(1));
    let forks: Vec<[CompiledModel; 2]> = (0..workers)
        .map(|_| [variants[0].fork(), variants[1].fork()])
        .collect();
    let results: Vec<Result<Vec<(usize, Outcome)>, RunError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = forks
            .into_iter()
            .enumerate()
            .map(|(k, mut models)| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    for (i, &(v, seed)) in jobs.iter().enumerate().skip(k).step_by(workers) {
                        done.push((i, train_once(bench, &mut models[v], seed)?));
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut outcomes = vec![None; jobs.len()];
    for r in results {
        for (i, o) in r? {
            outcomes[i] = Some(o);
        }
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// One run of the plan from `seed` (re-initialised), measured on the
/// validation data (the training data without it).
fn train_once(bench: &Context, model: &mut CompiledModel, seed: u64) -> Result<Outcome, RunError> {
    let options = TrainOptions {
        seed: Some(seed),
        ..TrainOptions::default()
    };
    let measured = bench.validation.as_ref().unwrap_or(&bench.train);
    match model.train_on(
        &bench.train,
        bench.validation.as_ref(),
        &options,
        &mut |_| {},
    ) {
        Ok(report) => {
            let ev = model.evaluate(measured)?;
            let loss = if ev.loss.is_finite() {
                ev.loss
            } else {
                f64::INFINITY
            };
            Ok(Outcome {
                loss,
                accuracy: ev.accuracy,
                epochs: report.epochs.len(),
            })
        }
        Err(RunError::Diverged(d)) => Ok(Outcome {
            loss: f64::INFINITY,
            accuracy: None,
            epochs: d.epoch,
        }),
        Err(e) => Err(e),
    }
}
