//! A compiled model: the checked program, its entry points on a back end,
//! and its buffers (parameters, gradients, state). Training, evaluation and
//! prediction are methods of it (see `train.rs`).

use super::backend::{Backend, BackendError, Buffers, Call, Interpreter};
use super::init::{init_params, init_states};
use super::run_state::RunState;
use crate::autodiff::graphs::{Entry, Graphs};
use crate::check::{Loss, Model};
use crate::codegen::plan::Layout;
use crate::data::{Dataset, Targets};
use crate::ir::VerifyErrors;
use crate::limits::{AllocError, Limits, alloc};

pub use crate::codegen::{BackendKind, DEFAULT_MAX_BATCH};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// Training split over ranks could not agree or communicate.
    #[error(transparent)]
    Collective(crate::distributed::CollectiveError),

    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Codegen(#[from] crate::codegen::jit::CodegenError),
    #[error("internal compiler error: {0}")]
    Verify(#[from] VerifyErrors),
    #[error("{0}")]
    Mismatch(String),
    #[error("the program has no `train` item: it says nothing about how to train")]
    NoTrainPlan,
    #[error("{0}")]
    Diverged(Box<super::diverge::Divergence>),
    #[error("parameter `{0}` does not exist")]
    UnknownParameter(String),
    #[error("parameter `{name}` has {want} values, {got} were given")]
    ParameterSize {
        name: String,
        want: usize,
        got: usize,
    },
    #[error(transparent)]
    Checkpoint(#[from] super::checkpoint::CheckpointError),
    #[error(transparent)]
    OutOfMemory(#[from] AllocError),
    #[error(transparent)]
    Resume(#[from] super::run_state::ResumeError),
    #[error(transparent)]
    ClassWeights(#[from] super::class_weights::ClassWeightsError),
}

impl RunError {
    /// The error as `dlc` prints it, with places in the program named as
    /// `file:line:column`.
    pub fn render(&self, file: &str) -> String {
        match self {
            RunError::Diverged(d) => d.render(file),
            other => other.to_string(),
        }
    }
}

pub struct CompiledModel {
    pub(crate) model: Model,
    /// The program text, for checkpoints (which record its hash).
    pub(crate) source: String,
    pub(crate) graphs: Graphs,
    pub(crate) layout: Layout,
    pub(crate) buffers: Buffers,
    backend: Box<dyn Backend>,
    kind: BackendKind,
    /// The largest batch the compiled code accepts.
    max_batch: usize,
    /// Optimizer steps taken so far (Adam's `t`, the dropout stream position).
    pub(crate) step: u64,
    /// Epochs completed so far.
    pub(crate) epoch: usize,
    /// What the run carries between epochs (early stopping's memory, ...).
    pub(crate) run: RunState,
    /// What the program may use: the memory left for data read from files,
    /// and which files its data and checkpoint paths may name.
    pub(crate) limits: Limits,
    /// Bytes the model and its run planned to use, not counting the data
    /// (0 when not estimated).
    pub(crate) planned_bytes: u64,
    /// How the samples it trained on were prepared: set by training, or
    /// read from a model file; saved with the model.
    pub(crate) preparation: Option<crate::data::Preparation>,
}

/// What a caller may read of a compiled model; the fields stay private so
/// that the buffers, the layout and the step count cannot disagree.
impl CompiledModel {
    /// How the samples it was trained on were prepared (see
    /// [`crate::data::Preparation`]): set by training or by
    /// [`crate::open_model`], `None` before either.
    pub fn preparation(&self) -> Option<&crate::data::Preparation> {
        self.preparation.as_ref()
    }

    /// Records how the samples it trains on were prepared, for a caller
    /// that loads the program's data itself (`dlc::load::load`).
    pub fn set_preparation(&mut self, preparation: crate::data::Preparation) {
        self.preparation = Some(preparation);
    }

    /// Writes the model file: its weights (after early stopping's restore),
    /// its program and its data preparation, from which
    /// [`crate::open_model`] makes it again. Written to a temporary file
    /// and renamed, so a failure leaves no half-written file.
    pub fn save_model(&self, path: &std::path::Path) -> Result<(), RunError> {
        Ok(super::checkpoint::save_model(self, path, self.seed())?)
    }

    /// The seed of initialisation and dropout: the run's (given to
    /// [`Self::train`], or resumed), else the program's (0 without a plan).
    pub fn seed(&self) -> u64 {
        self.run
            .seed
            .or(self.model.train.as_ref().map(|t| t.seed))
            .unwrap_or(0)
    }

    /// The program text it was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The checked program it was compiled from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Sets the seed of the data's validation split and of each epoch's
    /// order (the program's `seed` data setting), before loading and
    /// training. A checkpoint or model file records it, and loading one
    /// sets it back, so that evaluation splits the data as training did.
    pub fn set_data_seed(&mut self, seed: u64) {
        if let Some(d) = &mut self.model.data {
            d.seed = seed;
        }
    }

    /// Sets the file the training plan's checkpoints go to, in place of
    /// the program's `checkpoint` setting; `None` writes none.
    pub fn set_checkpoint(&mut self, path: Option<String>) {
        if let Some(t) = &mut self.model.train {
            t.checkpoint = path;
        }
    }

    /// The seed of the data's split and order (0 without a `data` item).
    pub fn data_seed(&self) -> u64 {
        self.model.data.as_ref().map_or(0, |d| d.seed)
    }

    /// Where each parameter and state tensor lies in the buffers.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Parameters, gradients and state, each one flat buffer.
    pub fn buffers(&self) -> &Buffers {
        &self.buffers
    }

    /// The buffers, to write: a caller that changes them directly (a test
    /// that sets gradients) takes on keeping them consistent.
    pub fn buffers_mut(&mut self) -> &mut Buffers {
        &mut self.buffers
    }

    /// Optimizer steps taken so far.
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// Epochs trained so far.
    pub fn epochs_trained(&self) -> usize {
        self.epoch
    }

    /// What the program may use: memory and files.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

impl std::fmt::Debug for CompiledModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModel")
            .field("network", &self.model.network.name)
            .field("parameters", &self.layout.params_len)
            .field("backend", &self.kind)
            .field("max_batch", &self.max_batch)
            .field("epoch", &self.epoch)
            .field("step", &self.step)
            .finish()
    }
}

/// The batch a model's functions are first compiled for (see
/// [`crate::limits::memory::compile_batch`]); full-batch plans on files grow
/// it once the data is read.
pub fn max_batch_of(model: &Model) -> usize {
    crate::limits::memory::compile_batch(model)
}

impl CompiledModel {
    /// Builds the entry points and fresh buffers (parameters initialised
    /// from the training seed, or 0 without a plan).
    pub fn new(model: Model, source: &str, kind: BackendKind) -> Result<CompiledModel, RunError> {
        let graphs = Graphs::build(&model)?;
        Self::from_graphs(model, graphs, source, kind)
    }

    /// Compiles entry graphs already built from `model` (see [`Graphs::build`]).
    pub fn from_graphs(
        model: Model,
        graphs: Graphs,
        source: &str,
        kind: BackendKind,
    ) -> Result<CompiledModel, RunError> {
        let layout = Layout::of(graphs.layout_graph());
        let seed = model.train.as_ref().map_or(0, |t| t.seed);
        let max_batch = max_batch_of(&model);
        // Drawing a large network's initial weights takes a few
        // milliseconds: overlap it with compiling.
        let (params, backend) = std::thread::scope(|scope| {
            let params = scope.spawn(|| init_params(graphs.layout_graph(), seed));
            let backend = make_backend(&graphs, kind, max_batch);
            let params = params
                .join()
                .unwrap_or_else(|_| init_params(graphs.layout_graph(), seed));
            (params, backend)
        });
        let backend = backend?;
        let buffers = Buffers {
            params: params?,
            grads: alloc::filled(layout.params_len, 0.0, "the gradients")?,
            states: init_states(graphs.layout_graph())?,
            // A list is known now; `balanced` waits for the training data.
            class_weights: model
                .train
                .as_ref()
                .and_then(|t| t.class_weights.as_ref())
                .and_then(super::class_weights::written_weights)
                .unwrap_or_default(),
        };
        Ok(CompiledModel {
            model,
            source: source.to_string(),
            graphs,
            layout,
            buffers,
            backend,
            kind,
            max_batch,
            step: 0,
            epoch: 0,
            run: RunState::default(),
            limits: Limits::none(),
            planned_bytes: 0,
            preparation: None,
        })
    }

    /// An independent copy (own buffers and scratch) sharing the compiled
    /// code: for training several settings at once.
    pub fn fork(&self) -> CompiledModel {
        CompiledModel {
            model: self.model.clone(),
            source: self.source.clone(),
            graphs: self.graphs.clone(),
            layout: self.layout.clone(),
            buffers: self.buffers.clone(),
            backend: self.backend.fork(),
            kind: self.kind,
            max_batch: self.max_batch,
            step: self.step,
            epoch: self.epoch,
            run: self.run.clone(),
            limits: self.limits.clone(),
            planned_bytes: self.planned_bytes,
            preparation: self.preparation.clone(),
        }
    }

    /// The rules for reading this program's data: the file policy of its
    /// limits, with what the memory limit leaves after the model.
    pub fn data_policy(&self) -> crate::data::FilePolicy {
        self.limits.data_policy(self.planned_bytes)
    }

    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Recompiles for larger batches if needed (full-batch training).
    pub fn ensure_max_batch(&mut self, n: usize) -> Result<(), RunError> {
        if n > self.max_batch {
            self.backend = make_backend(&self.graphs, self.kind, n)?;
            self.max_batch = n;
        }
        Ok(())
    }

    /// Re-initialises parameters and state from `seed` and resets the counters.
    pub fn reset(&mut self, seed: u64) -> Result<(), RunError> {
        self.buffers.params = init_params(self.graphs.layout_graph(), seed)?;
        self.buffers.states = init_states(self.graphs.layout_graph())?;
        self.buffers.grads.iter_mut().for_each(|g| *g = 0.0);
        self.step = 0;
        self.epoch = 0;
        self.run = RunState::default();
        Ok(())
    }

    /// Bytes of scratch memory the compiled functions hold (each entry's,
    /// allocated at its first call).
    pub fn scratch_bytes(&self) -> usize {
        self.backend.scratch_bytes()
    }

    /// Runs `entry`. A value it would have written into the parameters or
    /// state that is not finite is refused (that element keeps its old value)
    /// and the call fails with [`BackendError::NonFinite`].
    pub fn call(&mut self, entry: Entry, call: &Call, output: &mut [f32]) -> Result<f32, RunError> {
        Ok(self.backend.call(entry, &mut self.buffers, call, output)?)
    }

    /// [`CompiledModel::call`] for tools that judge the loss: a refused
    /// value that is not finite gives a NaN loss instead of an error.
    pub fn call_or_nan(
        &mut self,
        entry: Entry,
        call: &Call,
        output: &mut [f32],
    ) -> Result<f32, RunError> {
        match self.call(entry, call, output) {
            Err(RunError::Backend(BackendError::NonFinite { loss, .. })) => {
                Ok(if loss.is_finite() { f32::NAN } else { loss })
            }
            other => other,
        }
    }

    /// Values per sample of the network's output.
    pub fn output_width(&self) -> usize {
        self.model.network.output_shape().iter().product()
    }

    pub fn input_len(&self) -> usize {
        self.model.network.input_shape.iter().product()
    }

    /// The loss the program trains with (cross-entropy without a plan).
    pub fn loss_kind(&self) -> Loss {
        self.model
            .train
            .as_ref()
            .map_or(Loss::CrossEntropy, |t| t.loss)
    }

    /// Named parameter tensors with their shapes, in layout order.
    pub fn parameters(&self) -> Vec<(&str, &[usize], &[f32])> {
        let g = self.graphs.layout_graph();
        g.params
            .iter()
            .zip(&self.layout.params)
            .map(|(p, &o)| {
                (
                    p.name.as_str(),
                    p.shape.as_slice(),
                    &self.buffers.params[o..o + p.len()],
                )
            })
            .collect()
    }

    pub fn parameter(&self, name: &str) -> Option<&[f32]> {
        self.parameters()
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, v)| v)
    }

    pub fn set_parameter(&mut self, name: &str, values: &[f32]) -> Result<(), RunError> {
        let g = self.graphs.layout_graph();
        let i = g
            .params
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| RunError::UnknownParameter(name.into()))?;
        let want = g.params[i].len();
        if values.len() != want {
            return Err(RunError::ParameterSize {
                name: name.into(),
                want,
                got: values.len(),
            });
        }
        let o = self.layout.params[i];
        self.buffers.params[o..o + want].copy_from_slice(values);
        Ok(())
    }

    /// Checks that a data set fits the network's input and output.
    pub fn check_data(&self, ds: &Dataset, what: &str) -> Result<(), RunError> {
        let net = &self.model.network;
        if ds.sample_shape != net.input_shape {
            let same_len = ds.sample_len() == self.input_len();
            let hint = if same_len {
                format!(
                    "\nhelp: the sizes agree: add `reshape {:?}` to the data item",
                    net.input_shape
                )
            } else {
                String::new()
            };
            return Err(RunError::Mismatch(format!(
                "the {what} data has samples of shape {:?}, but network `{}` takes {:?}{hint}",
                ds.sample_shape, net.name, net.input_shape
            )));
        }
        let width = self.output_width();
        match (&ds.targets, self.loss_kind()) {
            (Targets::Classes { classes, .. }, Loss::CrossEntropy) if *classes > width => Err(
                RunError::Mismatch(super::load::too_many_classes(ds, what, &net.name, width)),
            ),
            (Targets::Classes { classes, .. }, Loss::BinaryCrossEntropy) if *classes > 2 => {
                let why = super::load::too_many_classes(ds, what, &net.name, 2);
                Err(RunError::Mismatch(format!(
                    "{why}\nnote: `binary_cross_entropy` is for two classes; with {classes}, use `loss cross_entropy` and `dense {classes}`"
                )))
            }
            (Targets::Values { width: w, .. }, Loss::MeanSquaredError) if *w != width => {
                Err(RunError::Mismatch(format!(
                    "the {what} data has {w} target values per sample, but network `{}` gives {width}",
                    net.name
                )))
            }
            (Targets::Values { .. }, Loss::CrossEntropy | Loss::BinaryCrossEntropy) => {
                Err(RunError::Mismatch(format!(
                    "the {what} data has real-valued targets, but the loss is a classification loss\nhelp: use `loss mse`"
                )))
            }
            (Targets::Classes { .. }, Loss::MeanSquaredError) => Err(RunError::Mismatch(format!(
                "the {what} data has class labels, but the loss is `mse`\nhelp: use `loss cross_entropy`"
            ))),
            _ => Ok(()),
        }
    }
}

fn make_backend(
    graphs: &Graphs,
    kind: BackendKind,
    max_batch: usize,
) -> Result<Box<dyn Backend>, RunError> {
    Ok(match kind {
        BackendKind::Interpreter => Box::new(Interpreter::new(graphs.clone())),
        BackendKind::Jit => jit_backend(graphs, max_batch)?,
    })
}

fn jit_backend(graphs: &Graphs, max_batch: usize) -> Result<Box<dyn Backend>, RunError> {
    Ok(Box::new(super::jit::JitBackend::new(graphs, max_batch)?))
}
