//! The tuner (`dlc tune`): a grid over learning rate and decay, and a
//! confirmation of its winner at the program's own budget.
//!
//! 1. The learning-rate finder gives a centre rate (its suggestion, or the
//!    program's rate if the loss never fell).
//! 2. A coarse grid: the centre times each of `rate_factors`, crossed with
//!    each decay of `decays`, each trained `coarse_epochs` epochs. While the
//!    best coarse rate is the largest or smallest tried (the best may lie
//!    beyond), the grid grows by a column of rates 3 times further out, at
//!    most `extensions` times.
//! 3. A fine grid around the `top` best coarse points: rates a factor √3
//!    apart and decays a factor √10 apart (decay 0 pairs with a tenth of the
//!    smallest decay tried), each trained `fine_epochs` epochs; beside them,
//!    the program's own setting, trained as long.
//! 4. The proposal (`choice.rs`): the lowest score of step 3, where a tie
//!    keeps the program's value.
//! 5. The confirmation (`confirm.rs`): the program as written and with the
//!    proposal, each trained as `dlc run` would, from a few seeds; the
//!    proposal is chosen only if it does better by more than the noise.
//!
//! No rate above the optimizer's W0109 limit ([`Rule::large_rate`]) is
//! tried: a larger one is tried at the limit instead, so the tuner never
//! writes a rate its own checker calls unusually large.
//!
//! A point's score is its best validation loss over its epochs (its best
//! training loss without validation data). Every point trains from the
//! same initialisation (the plan's seed) on a fork of one compiled model;
//! the points are shared out to one thread per core, and the results do
//! not depend on how.
//!
//! [`Rule::large_rate`]: crate::optimizers::Rule::large_rate

use super::choice::{Proposal, propose, same};
use super::confirm::{Confirmation, confirm, seeds};
use super::{
    Bench, DecayKind, LrFind, LrFindOptions, RecipeError, Setting, lr_find, train_setting,
};
use crate::runtime::{CompiledModel, EpochMetrics, RunError};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Debug)]
pub struct TuneOptions {
    pub finder: LrFindOptions,
    pub coarse_epochs: usize,
    pub fine_epochs: usize,
    /// Multiples of the centre rate in the coarse grid.
    pub rate_factors: Vec<f64>,
    /// Decays of the coarse grid; `None`: 0 and three decades (see [`Context::default_decays`](super::bench::Context::default_decays)).
    pub decays: Option<Vec<f64>>,
    /// Coarse points refined by the fine grid.
    pub top: usize,
    /// Columns the coarse grid may grow by when its best rate is at an edge.
    pub extensions: usize,
    /// Seeds of the confirmation; `None`: as [`seeds`] decides by the data's size.
    pub confirm_seeds: Option<usize>,
    /// Threads; 0: one per core.
    pub threads: usize,
    /// Ranks that share the grids (see `crate::distributed`): rank r trains
    /// points r, r + size, ... and every rank gets every point. Each point
    /// trains alone on one thread, so the results are a single process's.
    pub group: Option<crate::distributed::Group>,
}

impl Default for TuneOptions {
    fn default() -> Self {
        TuneOptions {
            finder: LrFindOptions::default(),
            coarse_epochs: 3,
            fine_epochs: 6,
            rate_factors: vec![0.1, 0.3, 1.0, 3.0],
            decays: None,
            top: 2,
            extensions: 2,
            confirm_seeds: None,
            threads: 0,
            group: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Coarse,
    Fine,
    /// The program's own setting, trained as long as the fine points.
    Program,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Coarse => "coarse",
            Stage::Fine => "fine",
            Stage::Program => "program",
        }
    }
}

/// What the tuner is doing, for a caller that shows progress.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// A stage of the grid begins: `points` settings, `epochs` epochs each.
    Stage {
        stage: Stage,
        points: usize,
        epochs: usize,
    },
    /// A point of the grid finished (from any thread, in any order).
    Point(&'a GridPoint),
    /// The confirmation begins: the program and `proposal`, each trained
    /// from every seed for the program's `epochs`.
    Confirming {
        proposal: Setting,
        epochs: usize,
        seeds: &'a [u64],
    },
}

/// One trained point of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct GridPoint {
    pub stage: Stage,
    pub setting: Setting,
    pub epochs: usize,
    pub curve: Vec<EpochMetrics>,
    /// The epoch (from 1) whose loss became Inf or NaN.
    pub diverged: Option<usize>,
}

impl GridPoint {
    /// The epoch with the lowest validation loss (training loss without validation).
    pub fn best(&self) -> Option<&EpochMetrics> {
        self.curve
            .iter()
            .min_by(|a, b| score_of(a).total_cmp(&score_of(b)))
    }

    /// Lower is better; a diverged point scores +inf.
    pub fn score(&self) -> f64 {
        match (self.diverged, self.best()) {
            (None, Some(m)) => score_of(m),
            _ => f64::INFINITY,
        }
    }
}

fn score_of(m: &EpochMetrics) -> f64 {
    let s = m.val_loss.unwrap_or(m.train_loss);
    if s.is_nan() { f64::INFINITY } else { s }
}

#[derive(Clone, Debug)]
pub struct TuneResult {
    pub finder: LrFind,
    /// The rate the coarse grid is centred on.
    pub center: f64,
    pub points: Vec<GridPoint>,
    /// Index in `points` of the grid's winner: the proposal's point.
    pub winner: usize,
    pub proposal: Proposal,
    /// `None` when the proposal is the program's own setting.
    pub confirmation: Option<Confirmation>,
    /// The program's rate and decay, as written.
    pub program: Setting,
    pub decay_kind: DecayKind,
    /// The largest rate tried: the optimizer's W0109 limit.
    pub rate_limit: f64,
    pub threads: usize,
}

impl TuneResult {
    /// The grid's winner.
    pub fn best(&self) -> &GridPoint {
        &self.points[self.winner]
    }

    /// Whether the confirmation found the proposal better than the program.
    pub fn confirmed(&self) -> bool {
        self.confirmation.as_ref().is_some_and(|c| c.keep.is_none())
    }

    /// The setting to write: the proposal once confirmed, else the program's.
    pub fn chosen(&self) -> Setting {
        if self.confirmed() {
            self.proposal.setting
        } else {
            self.program
        }
    }
}

pub fn tune(
    bench: &Bench,
    options: &TuneOptions,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<TuneResult, RecipeError> {
    if options.rate_factors.is_empty() || options.coarse_epochs == 0 || options.fine_epochs == 0 {
        return Err(RecipeError::Options(
            "the grid needs at least one rate factor and at least one epoch per stage".into(),
        ));
    }
    let finder = lr_find(bench, &options.finder)?;
    let center = finder.suggestion.unwrap_or(bench.plan.optimizer.lr);
    let kind = bench.decay_kind();
    let rate_limit = bench.plan.optimizer.kind.rule().large_rate();
    let capped = |lr: f64| lr.min(rate_limit);
    let decays = options
        .decays
        .clone()
        .unwrap_or_else(|| bench.default_decays());
    if decays.iter().any(|d| !(d.is_finite() && *d >= 0.0)) {
        return Err(RecipeError::Options(format!(
            "decays must be at least 0, got {decays:?}"
        )));
    }
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let grid = |settings: &[Setting], stage, epochs| {
        on_progress(&Progress::Stage {
            stage,
            points: settings.len(),
            epochs,
        });
        match options.group.as_ref().filter(|g| g.size() > 1) {
            None => run_grid(bench, settings, stage, epochs, threads, on_progress),
            Some(g) => super::tune_split::run_grid_split(g, settings, (stage, epochs), |mine| {
                run_grid(bench, mine, stage, epochs, threads, on_progress)
            }),
        }
    };
    let mut coarse: Vec<Setting> = Vec::new();
    for f in &options.rate_factors {
        for &decay in &decays {
            push_new(&mut coarse, capped(center * f), decay);
        }
    }
    let mut points = grid(&coarse, Stage::Coarse, options.coarse_epochs)?;
    for _ in 0..options.extensions {
        let Some(rate) = edge_rate(&points, rate_limit) else {
            break;
        };
        let column: Vec<Setting> = decays
            .iter()
            .map(|&decay| Setting { lr: rate, decay })
            .collect();
        points.extend(grid(&column, Stage::Coarse, options.coarse_epochs)?);
    }

    let mut ranked: Vec<&GridPoint> = points.iter().filter(|p| p.score().is_finite()).collect();
    ranked.sort_by(|a, b| a.score().total_cmp(&b.score()));
    let smallest = decays
        .iter()
        .copied()
        .filter(|&d| d > 0.0)
        .fold(f64::INFINITY, f64::min);
    let mut fine: Vec<Setting> = Vec::new();
    for p in ranked.iter().take(options.top.max(1)) {
        let (r, d) = (p.setting.lr, p.setting.decay);
        let step = 3f64.sqrt();
        let around_decay = if d > 0.0 {
            vec![d / 10f64.sqrt(), d, d * 10f64.sqrt()]
        } else if smallest.is_finite() {
            vec![0.0, smallest / 10.0]
        } else {
            vec![0.0]
        };
        for lr in [r / step, r, r * step] {
            for &decay in &around_decay {
                push_new(&mut fine, capped(lr), decay);
            }
        }
    }
    if fine.is_empty() {
        // Every coarse point diverged: retry below the smallest rate.
        let lr = center
            * options
                .rate_factors
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
            / 10.0;
        fine.push(Setting {
            lr: capped(lr),
            decay: 0.0,
        });
    }
    let fine_points = grid(&fine, Stage::Fine, options.fine_epochs)?;
    if fine_points.is_empty() {
        return Err(RecipeError::Options(
            "no point of the fine grid finished".into(),
        ));
    }
    let first_fine = points.len();
    points.extend(fine_points);
    let program = bench.program_setting();
    points.extend(grid(&[program], Stage::Program, options.fine_epochs)?);
    let proposal = propose(&points, first_fine..points.len(), program);
    let confirmation = if proposal.is_program(&program) {
        None
    } else {
        let seeds = seeds(bench, options.confirm_seeds);
        on_progress(&Progress::Confirming {
            proposal: proposal.setting,
            epochs: bench.plan.epochs,
            seeds: &seeds,
        });
        Some(confirm(bench, proposal.setting, &seeds, threads)?)
    };
    Ok(TuneResult {
        finder,
        center,
        points,
        winner: proposal.point,
        proposal,
        confirmation,
        program,
        decay_kind: kind,
        rate_limit,
        threads,
    })
}

/// Adds a setting unless the grid has it already (rates capped at the
/// limit can coincide).
fn push_new(settings: &mut Vec<Setting>, lr: f64, decay: f64) {
    let s = Setting { lr, decay };
    if !settings.iter().any(|f| same(f, &s)) {
        settings.push(s);
    }
}

/// A rate one step beyond the coarse grid, when its best point's rate is
/// the largest or the smallest of the grid (and not the only one); never
/// above `limit`.
fn edge_rate(points: &[GridPoint], limit: f64) -> Option<f64> {
    let best = points
        .iter()
        .filter(|p| p.score().is_finite())
        .min_by(|a, b| a.score().total_cmp(&b.score()))?;
    let rates = points.iter().map(|p| p.setting.lr);
    let (low, high) = rates.fold((f64::INFINITY, 0.0f64), |(l, h), r| (l.min(r), h.max(r)));
    let rate = best.setting.lr;
    if low == high {
        None
    } else if rate == high {
        (rate < limit).then(|| (rate * 3.0).min(limit))
    } else if rate == low {
        Some(rate / 3.0)
    } else {
        None
    }
}
/// Trains every setting, each on a fork, spread over `threads` threads:
/// thread k takes settings k, k + threads, ... (the points of a grid cost
/// about the same, and a fixed share keeps every thread busy).
fn run_grid(
    bench: &Bench,
    settings: &[Setting],
    stage: Stage,
    epochs: usize,
    threads: usize,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<Vec<GridPoint>, RecipeError> {
    let results: Mutex<Vec<Option<GridPoint>>> = Mutex::new(vec![None; settings.len()]);
    let failure: Mutex<Option<RunError>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let context = &bench.context;
    let workers = threads.clamp(1, settings.len().max(1));
    let forks: Vec<CompiledModel> = (0..workers).map(|_| bench.model.fork()).collect();
    std::thread::scope(|scope| {
        for (k, fork) in forks.into_iter().enumerate() {
            let (results, failure, stop) = (&results, &failure, &stop);
            scope.spawn(move || {
                let mut model = fork;
                for (i, &setting) in settings.iter().enumerate().skip(k).step_by(workers) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match train_setting(context, model, setting, epochs) {
                        Ok((curve, back)) => {
                            model = back;
                            let point = GridPoint {
                                stage,
                                setting,
                                epochs,
                                curve: curve.epochs,
                                diverged: curve.diverged,
                            };
                            on_progress(&Progress::Point(&point));
                            if let Ok(mut r) = results.lock() {
                                r[i] = Some(point);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e.into());
    }
    let results = results.into_inner().unwrap_or_default();
    Ok(results.into_iter().flatten().collect())
}
