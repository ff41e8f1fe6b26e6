//! Kernel planning: graph IR -> a list of kernels over planned memory.
//!
//! This is the "how" of a graph, kept apart from its "what" (Halide's
//! lesson): which values live in memory, where, and which ops fuse into one
//! loop. Code generation then only translates each [`Kernel`] to Cranelift.
//!
//! - Elementwise ops fuse into the loop of their single reader when it
//!   iterates over the same shape; everything else is *materialized*.
//! - Reductions fuse their elementwise input (`sum(exp(x - m))` is one loop).
//! - Reshape and detach are views of their operand's memory.
//! - A result that replaces a parameter or state (an optimizer update) is
//!   written in place when no later kernel reads the old value.
//! - Scratch memory is assigned by liveness, first fit, sized for the
//!   largest batch the function will be called with.
//! - Consecutive elementwise kernels over one shape that read what the other
//!   wrote, or the same inputs, merge into one loop with several outputs
//!   (an optimizer's moments and the parameter they move).
//!
//! Submodules: `planner` (materialization, locations, kernels), `body` (fused
//! elementwise bodies), `merge` (several outputs per loop), `text` (the printed form), `access` (what each kernel
//! reads and writes) and `verify` (the checker of a plan's memory, run on
//! every plan in debug builds; its docs state the invariants).

mod access;
mod body;
mod kernel;
mod merge;
mod planner;
mod text;
mod verify;

pub use text::print_plan;
pub use verify::{PlanViolation, PlanViolations, verify_plan};

use crate::ir::*;

/// The memory a location lives in; each is one pointer of the call context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    Params,
    Grads,
    States,
    Scratch,
    Features,
    Labels,
    /// The loss's weight of each class (one per class, not per sample).
    ClassWeights,
    Scalars,
    /// The loss (one float).
    Loss,
    /// The network's output for the batch.
    Output,
}

/// Where a tensor lives: a base and an offset in floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    pub base: Base,
    pub offset: usize,
}

impl Loc {
    /// `offset` floats into the scratch memory.
    pub fn scratch(offset: usize) -> Loc {
        Loc {
            base: Base::Scratch,
            offset,
        }
    }
}

/// A tensor read or written by a kernel: its location and shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Buf {
    pub loc: Loc,
    pub shape: Shape,
}

/// One instruction of a fused elementwise body; operands index earlier
/// instructions of the same body.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// Element of input `slot`, broadcast to the iteration shape.
    Load(usize),
    Const(f32),
    Unary(UnaryOp, usize),
    Binary(BinaryOp, usize, usize),
    Select(usize, usize, usize),
    /// The coordinate along `axis` of the element being computed.
    Index(usize),
    /// Inverted-dropout mask value for this element (see `ir::dropout`).
    Dropout {
        rate: f32,
        salt: u64,
    },
}

/// A fused elementwise computation over an iteration shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub shape: Shape,
    /// Inputs, each with a shape that broadcasts to `shape`.
    pub inputs: Vec<Buf>,
    pub instrs: Vec<Instr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// `outputs[i] = body[result_i]` for every element.
    Elementwise {
        body: Body,
        outputs: Vec<(usize, Loc)>,
    },
    /// Reduces the body's last instruction over `axes` (kept as size 1).
    Reduce {
        body: Body,
        max: bool,
        axes: Vec<usize>,
        out: Loc,
    },
    MatMul {
        a: Buf,
        b: Buf,
        ta: bool,
        tb: bool,
        out: Buf,
    },
    Conv2d {
        x: Buf,
        w: Buf,
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Conv2dInputGrad {
        dy: Buf,
        w: Buf,
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Conv2dWeightGrad {
        x: Buf,
        dy: Buf,
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Pool2d {
        kind: PoolKind,
        x: Buf,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Pool2dGrad {
        kind: PoolKind,
        x: Buf,
        dy: Buf,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    /// Joins inputs along `axis` into `out`.
    Concat {
        inputs: Vec<Buf>,
        axis: usize,
        out: Buf,
    },
    Slice {
        x: Buf,
        axis: usize,
        start: usize,
        out: Buf,
    },
    /// Copies `len` floats per sample (or in all, if unbatched) from one place to another.
    Copy { from: Buf, to: Loc },
    /// `out = x` summed over the ranks training together (`Op::CrossSum`):
    /// a copy, then a call of the host (nothing more for one process).
    CrossSum { x: Buf, out: Buf },
}

/// Offsets of the parameters (and equally of their gradients) and of the
/// state tensors in their flat buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub params: Vec<usize>,
    pub params_len: usize,
    pub states: Vec<usize>,
    pub states_len: usize,
}

impl Layout {
    pub fn of(g: &Graph) -> Layout {
        let (params, params_len) = offsets(g.params.iter().map(|p| p.len()));
        let (states, states_len) = offsets(g.states.iter().map(|s| s.shape.iter().product()));
        Layout {
            params,
            params_len,
            states,
            states_len,
        }
    }
}

fn offsets(sizes: impl Iterator<Item = usize>) -> (Vec<usize>, usize) {
    let mut at = 0;
    let offs = sizes
        .map(|s| {
            let o = at;
            at += s;
            o
        })
        .collect();
    (offs, at)
}

impl Layout {
    /// Whether `g`'s parameters and states sit at this layout's offsets (a
    /// graph may hold a prefix of the states: the forward graphs have no
    /// optimizer moments).
    pub fn fits(&self, g: &Graph) -> bool {
        let own = Layout::of(g);
        own.params == self.params
            && own.params_len == self.params_len
            && self.states.starts_with(&own.states)
            && own.states_len <= self.states_len
    }
}

/// The graph values (node indices; a view's source for a view) that a
/// kernel's buffers hold, parallel to [`Kernel::reads`] and
/// [`Kernel::writes`]: what the plan verifier checks the memory against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelValues {
    pub reads: Vec<usize>,
    pub writes: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub kernels: Vec<Kernel>,
    /// Per kernel, the values it reads and writes.
    pub values: Vec<KernelValues>,
    /// Floats of scratch memory needed at the largest batch.
    pub scratch_len: usize,
    pub max_batch: usize,
    pub layout: Layout,
}

/// Why a graph could not be planned (a bug upstream: the graph is verified).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("value %{0} is read but was given no memory")]
    NoMemory(usize),
    #[error("the graph's parameters or states do not match the shared layout")]
    LayoutMismatch,
    #[error("scratch memory for batch {max_batch} overflows the address space")]
    TooLarge { max_batch: usize },
    #[error("the kernel plan is wrong: {0}")]
    Invalid(PlanViolations),
}

/// Plans `g` for batches of at most `max_batch` samples, with `g`'s own layout.
pub fn plan(g: &Graph, max_batch: usize) -> Result<Plan, PlanError> {
    plan_with_layout(g, max_batch, Layout::of(g))
}

/// Plans `g` with parameters and states at the offsets of `layout` (shared
/// by all entry points of a model).
pub fn plan_with_layout(g: &Graph, max_batch: usize, layout: Layout) -> Result<Plan, PlanError> {
    if !layout.fits(g) {
        return Err(PlanError::LayoutMismatch);
    }
    let plan = planner::Planner::new(g, max_batch, layout).run()?;
    // Checked between planning and code generation where it costs nothing
    // that matters; release builds trust the planner (its tests verify it).
    if cfg!(debug_assertions) {
        verify_plan(g, &plan).map_err(PlanError::Invalid)?;
    }
    Ok(plan)
}
