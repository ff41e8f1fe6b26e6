//! The JIT back end: runs the natively compiled entry points of a model.
//!
//! It mirrors the interpreter back end's semantics (`backend.rs`): the same
//! buffers, the same sinks, the same errors for wrong inputs. Every length is
//! checked before native code runs, so the generated code never reads or
//! writes outside the slices it is given.

use super::backend::{Backend, BackendError, Buffers, Call};
use crate::autodiff::graphs::{Entry, Graphs};
use crate::codegen::plan::Layout;
use crate::codegen::{
    CallCtx, CodegenError, CompileOptions, Compiled, CompiledEntry, compile_entries,
};
use crate::interp::InterpError;
use crate::ir::{Graph, InputKind, Op, Shape, Sink};
use crate::limits::alloc;
use std::sync::OnceLock;

/// What one entry point reads and writes, to check a call against.
#[derive(Clone)]
struct Needs {
    /// Floats per sample of the features and labels inputs (if read).
    features: Option<usize>,
    labels: Option<usize>,
    /// Classes of a one-hot of the labels (labels must be class indices).
    classes: Option<usize>,
    /// Entries of the class-weights input, if read.
    class_weights: Option<usize>,
    /// The output's shape (if the entry has an output).
    output: Option<Shape>,
    params: usize,
    states: usize,
    reads_grads: bool,
    writes_grads: bool,
    /// Grown to the compiled function's scratch length at its first call.
    scratch: Vec<f32>,
}

impl Needs {
    fn of(g: &Graph) -> Needs {
        let per_sample = |v: &crate::ir::Node| v.shape.numel(1);
        let mut needs = Needs {
            features: None,
            labels: None,
            classes: None,
            class_weights: None,
            output: None,
            params: 0,
            states: 0,
            reads_grads: false,
            writes_grads: false,
            scratch: Vec::new(),
        };
        let own = Layout::of(g);
        needs.params = own.params_len;
        needs.states = own.states_len;
        for node in &g.nodes {
            match &node.op {
                Op::Input(InputKind::Features) => needs.features = Some(per_sample(node)),
                Op::Input(InputKind::ClassWeights) => {
                    needs.class_weights = Some(node.shape.numel(1));
                }
                Op::Input(_) => needs.labels = Some(per_sample(node)),
                Op::OneHot(_) => needs.classes = Some(node.shape.numel(1)),
                Op::GradIn(_) => needs.reads_grads = true,
                _ => {}
            }
        }
        for s in &g.sinks {
            match s {
                Sink::Output(v) => needs.output = Some(g.shape(*v).clone()),
                Sink::Grad(..) => needs.writes_grads = true,
                _ => {}
            }
        }
        needs
    }
}

/// The entry points compiled with the back end: what training calls (the
/// fused step, and evaluation for validation), or prediction for a model
/// without a training plan.
fn eager_entries(graphs: &Graphs) -> &'static [Entry] {
    if graphs.train_step.is_some() {
        &[Entry::TrainStep, Entry::Eval]
    } else {
        &[Entry::Predict]
    }
}

/// Groups of entry points compiled at the first call of one of them: the
/// separate gradient and update steps (only the recipe's tools use them),
/// and prediction. Leaving them out more than halves the time from source
/// to a model ready to train.
const ON_DEMAND: [&[Entry]; 2] = [&[Entry::Backward, Entry::Update], &[Entry::Predict]];

/// Compiled code shared between forks of a back end.
struct Shared {
    eager: Compiled,
    on_demand: [OnceLock<Result<Compiled, String>>; 2],
    graphs: Graphs,
    options: CompileOptions,
}

// SAFETY: `compile` returns only after the JIT module is finalized; from then
// on its code and data are never written, and each entry point touches only
// memory reached through the `CallCtx` it is given. Forks give every thread
// its own scratch memory and buffers, so sharing the code is sound. Each
// on-demand module is built once, behind its `OnceLock`.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    fn entry(&self, entry: Entry) -> Result<&CompiledEntry, BackendError> {
        if let Some(c) = self.eager.get(entry) {
            return Ok(c);
        }
        let group = ON_DEMAND.iter().position(|g| g.contains(&entry));
        let (Some(group), Some(_)) = (group, self.graphs.get(entry)) else {
            return Err(BackendError::Missing(entry.name()));
        };
        let lazy = self.on_demand[group].get_or_init(|| {
            compile_entries(&self.graphs, &self.options, ON_DEMAND[group])
                .map_err(|e| e.to_string())
        });
        match lazy {
            Ok(c) => c.get(entry).ok_or(BackendError::Missing(entry.name())),
            Err(message) => Err(BackendError::Compile {
                entry: entry.name(),
                message: message.clone(),
            }),
        }
    }
}

/// Native code for every entry point of a model, with its scratch memory.
pub struct JitBackend {
    compiled: std::sync::Arc<Shared>,
    needs: Vec<(Entry, Needs)>,
    /// Room for the output when the caller's slice is too short.
    spare_output: Vec<f32>,
}

impl JitBackend {
    /// Compiles `graphs` for batches of at most `max_batch` samples.
    pub fn new(graphs: &Graphs, max_batch: usize) -> Result<JitBackend, CodegenError> {
        Self::with_options(graphs, &CompileOptions::new(max_batch))
    }

    pub fn with_options(
        graphs: &Graphs,
        options: &CompileOptions,
    ) -> Result<JitBackend, CodegenError> {
        let eager = compile_entries(graphs, options, eager_entries(graphs))?;
        let needs = Entry::ALL
            .iter()
            .filter_map(|&e| Some((e, Needs::of(graphs.get(e)?))))
            .collect();
        Ok(JitBackend {
            compiled: std::sync::Arc::new(Shared {
                eager,
                on_demand: [OnceLock::new(), OnceLock::new()],
                graphs: graphs.clone(),
                options: *options,
            }),
            needs,
            spare_output: Vec::new(),
        })
    }

    /// The functions compiled up front (training and evaluation, or
    /// prediction without a training plan), with their plans and IR text.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled.eager
    }

    /// One entry point's compiled function, compiling it now if it is one
    /// of those compiled on first use.
    pub fn entry(&self, entry: Entry) -> Result<&CompiledEntry, BackendError> {
        self.compiled.entry(entry)
    }
}

fn size_error(what: &'static str, got: usize, want: usize) -> BackendError {
    BackendError::Interp(InterpError::InputSize { what, got, want })
}

/// Length of a batched input: exactly `n` samples.
fn check_exact(
    what: &'static str,
    got: usize,
    per_sample: usize,
    n: usize,
) -> Result<(), BackendError> {
    let want = per_sample.saturating_mul(n);
    if got == want {
        Ok(())
    } else {
        Err(size_error(what, got, want))
    }
}

/// A buffer must hold at least the floats the entry addresses.
fn check_at_least(what: &'static str, got: usize, want: usize) -> Result<(), BackendError> {
    if got >= want {
        Ok(())
    } else {
        Err(size_error(what, got, want))
    }
}

impl Backend for JitBackend {
    fn scratch_bytes(&self) -> usize {
        let floats: usize = self.needs.iter().map(|(_, n)| n.scratch.len()).sum();
        floats * std::mem::size_of::<f32>()
    }

    fn fork(&self) -> Box<dyn Backend> {
        Box::new(JitBackend {
            compiled: self.compiled.clone(),
            needs: self.needs.clone(),
            spare_output: Vec::new(),
        })
    }

    fn call(
        &mut self,
        entry: Entry,
        buffers: &mut Buffers,
        call: &Call,
        output: &mut [f32],
    ) -> Result<f32, BackendError> {
        let compiled = self.compiled.entry(entry)?;
        let needs = self
            .needs
            .iter_mut()
            .find(|(e, _)| *e == entry)
            .map(|(_, n)| n)
            .ok_or(BackendError::Missing(entry.name()))?;
        let n = call.n;
        let max = self.compiled.eager.max_batch;
        if n > max {
            return Err(BackendError::BatchTooLarge { n, max });
        }
        alloc::grow(
            &mut needs.scratch,
            compiled.scratch_len,
            0.0,
            "the compiled code's scratch memory",
        )?;
        if let Some(per) = needs.features {
            check_exact("features", call.features.len(), per, n)?;
        }
        if let Some(per) = needs.labels {
            check_exact("labels", call.labels.len(), per, n)?;
        }
        if let Some(classes) = needs.classes {
            for (index, &l) in call.labels.iter().enumerate() {
                if !(l >= 0.0 && (l as f64) < classes as f64 && l.fract() == 0.0) {
                    return Err(BackendError::Interp(InterpError::BadLabel {
                        value: l as f64,
                        index,
                        classes,
                    }));
                }
            }
        }
        if let Some(classes) = needs.class_weights
            && buffers.class_weights.len() != classes
        {
            return Err(size_error(
                "class weights",
                buffers.class_weights.len(),
                classes,
            ));
        }
        check_at_least("parameters", buffers.params.len(), needs.params)?;
        check_at_least("states", buffers.states.len(), needs.states)?;
        if needs.reads_grads || needs.writes_grads {
            check_at_least("gradients", buffers.grads.len(), needs.params)?;
        }
        let out_len = needs.output.as_ref().map_or(0, |s| s.numel(n));
        let direct = output.len() >= out_len;
        if !direct {
            alloc::grow(&mut self.spare_output, out_len, 0.0, "the outputs")?;
        }
        let scalars = call.scalars.buffer(call.shard.batch(n));
        let mut loss = 0.0f32;
        let mut flags = 0u32;
        let ctx = CallCtx {
            params: buffers.params.as_mut_ptr(),
            grads: buffers.grads.as_mut_ptr(),
            states: buffers.states.as_mut_ptr(),
            scratch: needs.scratch.as_mut_ptr(),
            features: call.features.as_ptr(),
            labels: call.labels.as_ptr(),
            class_weights: buffers.class_weights.as_ptr(),
            scalars: scalars.as_ptr(),
            loss: &mut loss,
            output: if direct {
                output.as_mut_ptr()
            } else {
                self.spare_output.as_mut_ptr()
            },
            n: n as u64,
            seed: call.seed,
            step: call.step,
            first: call.shard.first as u64,
            flags: &mut flags,
        };
        // SAFETY: every buffer was checked above to hold what the entry's
        // graph addresses at batch `n <= max_batch`; the scratch was sized by
        // the compiler for `max_batch`; the buffers are distinct allocations.
        unsafe { compiled.run(&ctx) };
        if !direct {
            output.copy_from_slice(&self.spare_output[..output.len()]);
        }
        if flags != 0 {
            return Err(BackendError::NonFinite {
                entry: entry.name(),
                loss,
            });
        }
        Ok(loss)
    }
}
