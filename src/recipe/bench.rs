//! The bench every recipe works on: the program's model compiled once, its
//! data loaded once, and the program's own training plan.
//!
//! The weight decay (`l2`, or AdamW's `weight_decay`) and gradient clipping
//! are compiled into a model's fused `train_step` as constants. To try many
//! decays without compiling again, the bench compiles the model with both
//! taken out and a [`Stepper`](super::Stepper) applies them between the
//! compiled `backward` and `update` entries, in the order the compiled step
//! would: clip the gradients, add `l2 * w`, then (AdamW) shrink the weights
//! by `1 - lr * weight_decay` before the update.

use super::RecipeError;
use crate::check::{Batch, Model, TrainSpec};
use crate::data::Dataset;
use crate::optimizers::DecoupledDecay;
use crate::runtime::{BackendKind, CompiledModel, load::load};
use std::ops::Range;

/// The `l2` the learning-rate finder uses when the program has none.
pub const DEFAULT_L2: f64 = 1e-4;

/// The smallest batch the bench's model is compiled for.
pub const MIN_CAPACITY: usize = 16;

/// What "decay" means for the program's optimizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecayKind {
    /// `l2 λ`: `λ * w` is added to each weight's gradient (sgd, adam, ...).
    L2,
    /// The optimizer's decoupled `weight_decay` (adamw, lion).
    Decoupled,
}

impl DecayKind {
    /// The name the language gives it.
    pub fn keyword(self) -> &'static str {
        match self {
            DecayKind::L2 => "l2",
            DecayKind::Decoupled => "weight_decay",
        }
    }
}

/// One point of a search: a base learning rate and a decay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    pub lr: f64,
    pub decay: f64,
}

/// A compiled model with its data and plan, shared by every recipe.
pub struct Bench {
    /// Compiled without weight decay and clipping (see the module docs);
    /// never trained itself: every run trains a fork.
    pub model: CompiledModel,
    /// Everything else, which threads can share.
    pub context: Context,
}

/// The data and plan of a [`Bench`]: shared by the threads that train forks.
pub struct Context {
    /// The program's plan, as written.
    pub plan: TrainSpec,
    pub train: Dataset,
    pub validation: Option<Dataset>,
    /// Samples per step (the plan's batch, at most the training set).
    pub batch: usize,
    /// The seed of the data's shuffling.
    pub data_seed: u64,
    /// Where the weights that decay applies to lie in the parameter buffer.
    pub decayed: Vec<Range<usize>>,
    /// Whether a one-sample batch must be skipped (batch statistics of a
    /// single sample are undefined), as the training loop does.
    pub skips_single: bool,
    /// The program as written, and how it was compiled: the tuner confirms
    /// its winner on programs compiled from this text as `dlc run` would.
    pub source: String,
    pub options: crate::Options,
}

impl std::ops::Deref for Bench {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.context
    }
}

impl Bench {
    /// Checks and compiles `source` and loads its data. `what` names the
    /// recipe, for the error when the program has no training plan.
    pub fn new(
        source: &str,
        backend: BackendKind,
        what: &'static str,
    ) -> Result<Bench, RecipeError> {
        let options = crate::Options {
            backend,
            ..Default::default()
        };
        Self::with_options(source, &options, what)
    }

    /// [`Bench::new`] with the limits of `options`.
    pub fn with_options(
        source: &str,
        options: &crate::Options,
        what: &'static str,
    ) -> Result<Bench, RecipeError> {
        let checked = crate::check_with(source, options);
        let model = match checked.model {
            Some(m) if !checked.has_errors() => m,
            _ => {
                return Err(RecipeError::Program(crate::Error::Program {
                    diagnostics: checked.diagnostics,
                }));
            }
        };
        let spec = match (&model.data, &model.train) {
            (Some(d), Some(_)) => d.clone(),
            _ => return Err(RecipeError::NoTrainPlan(what)),
        };
        let planned = checked.memory.as_ref().map_or(0, |m| m.model_bytes());
        let loaded = load(&spec, &options.limits.data_policy(planned))?;
        Bench::from_parts(
            model,
            source,
            loaded.train,
            loaded.validation,
            options,
            what,
        )
    }

    /// A bench on data the caller provides.
    pub fn from_parts(
        model: Model,
        source: &str,
        train: Dataset,
        validation: Option<Dataset>,
        options: &crate::Options,
        what: &'static str,
    ) -> Result<Bench, RecipeError> {
        let plan = model.train.clone().ok_or(RecipeError::NoTrainPlan(what))?;
        if train.is_empty() {
            return Err(RecipeError::NoData(what));
        }
        let data_seed = model.data.as_ref().map_or(0, |d| d.seed);
        let mut stripped = model;
        if let Some(t) = stripped.train.as_mut() {
            t.l2 = 0.0;
            t.clip_norm = None;
            if let Some(rate) = t.optimizer.kind.rule_mut().decoupled_decay_mut() {
                *rate = 0.0;
            }
        }
        let mut compiled = CompiledModel::new(stripped, source, options.backend)?;
        compiled.check_data(&train, "training")?;
        // Forks inherit the weights, so every check judges the loss trained.
        compiled.weigh_classes_by(&train)?;
        if let Some(v) = &validation {
            compiled.check_data(v, "validation")?;
        }
        let batch = match plan.batch {
            Batch::All => train.len(),
            Batch::Size(b) => b.min(train.len()),
        }
        .max(1);
        // Room for the sanity checks' small batches too, whatever the plan's.
        compiled.ensure_max_batch(batch.max(MIN_CAPACITY))?;
        let graph = compiled.graphs.layout_graph();
        let decayed = graph
            .params
            .iter()
            .zip(&compiled.layout.params)
            .filter(|(p, _)| p.decay)
            .map(|(p, &offset)| offset..offset + p.len())
            .collect();
        let skips_single = batch > 1
            && compiled
                .model
                .network
                .layers
                .iter()
                .any(|l| l.op.rule().uses_batch_statistics());
        Ok(Bench {
            model: compiled,
            context: Context {
                plan,
                train,
                validation,
                batch,
                data_seed,
                decayed,
                skips_single,
                source: source.to_string(),
                options: options.clone(),
            },
        })
    }

    /// A fresh copy of the model, initialised from `seed`, sharing the
    /// compiled code.
    pub fn fresh(&self, seed: u64) -> Result<CompiledModel, crate::RunError> {
        let mut m = self.model.fork();
        m.reset(seed)?;
        Ok(m)
    }
}

impl Context {
    pub fn decay_kind(&self) -> DecayKind {
        match self.decoupled() {
            Some(_) => DecayKind::Decoupled,
            None => DecayKind::L2,
        }
    }

    fn decoupled(&self) -> Option<DecoupledDecay> {
        self.plan.optimizer.kind.rule().decoupled_decay()
    }

    /// The coarse decays the tuner tries: none, and three decades around
    /// the usual values of the program's kind of decay.
    pub fn default_decays(&self) -> Vec<f64> {
        match self.decoupled() {
            Some(d) => d.tuner_grid.to_vec(),
            None => vec![0.0, 1e-5, 1e-4, 1e-3],
        }
    }

    /// A usual decay of the program's kind, for the learning-rate finder.
    pub fn typical_decay(&self) -> f64 {
        match self.decoupled() {
            Some(d) => d.typical,
            None => DEFAULT_L2,
        }
    }

    /// The rate and decay the program asks for.
    pub fn program_setting(&self) -> Setting {
        let decay = match self.decoupled() {
            Some(d) => d.rate,
            None => self.plan.l2,
        };
        Setting {
            lr: self.plan.optimizer.lr,
            decay,
        }
    }
}
