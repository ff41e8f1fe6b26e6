//! Back ends run a model's entry points on its buffers: the JIT (native code)
//! and the reference interpreter (slow, obviously right).

use crate::autodiff::graphs::{Entry, Graphs};
use crate::codegen::plan::Layout;
use crate::interp::{Inputs, evaluate};
use crate::ir::{Graph, Shard, Sink, StepScalars};

/// The model's memory: parameters, their gradients, state, and the
/// loss's class weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffers {
    pub params: Vec<f32>,
    pub grads: Vec<f32>,
    pub states: Vec<f32>,
    /// One weight per class for a loss with `class_weights` (empty
    /// otherwise, and until `balanced` weights are counted on the training
    /// data): fixed for a run, never trained, not saved with the weights.
    pub class_weights: Vec<f32>,
}

/// What one call reads besides the buffers.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// Samples in this batch.
    pub n: usize,
    pub features: &'a [f32],
    /// Class indices or regression targets (empty for `predict`).
    pub labels: &'a [f32],
    /// The scalars besides the batch size (`shard.batch(n)`).
    pub scalars: StepScalars,
    pub seed: u64,
    pub step: u64,
    /// Where the `n` samples sit in the step's batch (data parallelism).
    pub shard: Shard,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("this model has no `{0}` function (it has no training plan)")]
    Missing(&'static str),
    #[error("batch of {n} samples is larger than the compiled maximum {max}")]
    BatchTooLarge { n: usize, max: usize },
    #[error(transparent)]
    Interp(#[from] crate::interp::InterpError),
    #[error(transparent)]
    OutOfMemory(#[from] crate::limits::AllocError),
    /// A value the call would have written into the parameters or state was
    /// Inf or NaN. Those elements kept their old values; the others were
    /// written. `loss` is the call's loss (often itself not finite).
    #[error(
        "`{entry}` produced a value that is not finite; it was not written into the parameters or state"
    )]
    NonFinite { entry: &'static str, loss: f32 },
    /// An entry point compiled on first use could not be compiled.
    #[error("cannot compile `{entry}`: {message}")]
    Compile {
        entry: &'static str,
        message: String,
    },
}

/// A back end is `Send` so that a model can train on another thread, and
/// forks (sharing compiled code, not scratch memory) so that several
/// models train at once without compiling again.
pub trait Backend: Send {
    /// Another instance over the same compiled code, with its own scratch.
    fn fork(&self) -> Box<dyn Backend>;

    /// Runs `entry`: reads and updates `buffers`, writes the network's output
    /// for the batch into `output` (if it has room) and returns the loss (0
    /// for entries without one).
    fn call(
        &mut self,
        entry: Entry,
        buffers: &mut Buffers,
        call: &Call,
        output: &mut [f32],
    ) -> Result<f32, BackendError>;

    /// Bytes of scratch memory the back end holds between calls.
    fn scratch_bytes(&self) -> usize {
        0
    }
}

/// The reference interpreter as a back end (in f32, like the JIT).
#[derive(Clone)]
pub struct Interpreter {
    graphs: std::sync::Arc<Graphs>,
    layout: Layout,
}

impl Interpreter {
    pub fn new(graphs: Graphs) -> Interpreter {
        let layout = Layout::of(graphs.layout_graph());
        Interpreter {
            graphs: std::sync::Arc::new(graphs),
            layout,
        }
    }
}

fn split(flat: &[f32], offsets: &[usize], lens: impl Iterator<Item = usize>) -> Vec<Vec<f32>> {
    offsets
        .iter()
        .zip(lens)
        .map(|(&o, l)| flat[o..o + l].to_vec())
        .collect()
}

/// The value of every node of `g` (one of a model's entry graphs, laid out
/// as `lay`) for a call on `buffers`, by the reference interpreter in f32.
pub fn evaluate_graph(
    g: &Graph,
    lay: &Layout,
    buffers: &Buffers,
    call: &Call,
) -> Result<Vec<Vec<f32>>, BackendError> {
    let params = split(
        &buffers.params,
        &lay.params,
        g.params.iter().map(|p| p.len()),
    );
    let grads = split(
        &buffers.grads,
        &lay.params,
        g.params.iter().map(|p| p.len()),
    );
    let states = split(
        &buffers.states,
        &lay.states,
        g.states.iter().map(|s| s.shape.iter().product()),
    );
    // As the compiled code reads them: in f32.
    let scalars = call.scalars.rounded_to_f32();
    let inputs = Inputs {
        batch: call.n,
        features: call.features,
        labels: call.labels,
        class_weights: &buffers.class_weights,
        params: &params,
        states: &states,
        grads: &grads,
        scalars,
        seed: call.seed,
        step: call.step,
        shard: call.shard,
    };
    Ok(evaluate::<f32>(g, &inputs)?)
}

impl Backend for Interpreter {
    fn fork(&self) -> Box<dyn Backend> {
        Box::new(self.clone())
    }

    fn call(
        &mut self,
        entry: Entry,
        buffers: &mut Buffers,
        call: &Call,
        output: &mut [f32],
    ) -> Result<f32, BackendError> {
        let g = self
            .graphs
            .get(entry)
            .ok_or(BackendError::Missing(entry.name()))?;
        let lay = &self.layout;
        let vals = evaluate_graph(g, lay, buffers, call)?;
        let mut loss = 0.0;
        let mut refused = false;
        // As the compiled code does: an element that would not be finite keeps its old value.
        let mut guarded = |to: &mut [f32], from: &[f32]| {
            for (t, &f) in to.iter_mut().zip(from) {
                if f.is_finite() {
                    *t = f;
                } else {
                    refused = true;
                }
            }
        };
        for s in &g.sinks {
            match s {
                Sink::Loss(v) => loss = vals[v.index()][0],
                Sink::Output(v) => {
                    let out = &vals[v.index()];
                    let n = out.len().min(output.len());
                    output[..n].copy_from_slice(&out[..n]);
                }
                Sink::Grad(p, v) => buffers.grads[lay.params[p.index()]..][..g.params[*p].len()]
                    .copy_from_slice(&vals[v.index()]),
                Sink::Param(p, v) => guarded(
                    &mut buffers.params[lay.params[p.index()]..][..g.params[*p].len()],
                    &vals[v.index()],
                ),
                Sink::State(st, v) => {
                    let len: usize = g.states[*st].shape.iter().product();
                    guarded(
                        &mut buffers.states[lay.states[st.index()]..][..len],
                        &vals[v.index()],
                    );
                }
            }
        }
        if refused {
            return Err(BackendError::NonFinite {
                entry: entry.name(),
                loss,
            });
        }
        Ok(loss)
    }
}
