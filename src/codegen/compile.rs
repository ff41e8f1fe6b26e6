//! `codegen::compile`: the graphs of a model's entry points -> kernel plans
//! -> one Cranelift function per entry point -> native code in one JIT module.
//!
//! Each function takes a [`CallCtx`] and runs its plan's kernels in order,
//! all inline, calling out only to the external GEMM.

use super::abi::{CallCtx, EntryFn};
use super::conv::{self, Geometry};
use super::elementwise::{emit_elementwise, emit_reduce};
use super::func::{Fx, GemmPolicy, R};
use super::gemm::{EXTERNAL_GEMM_SYMBOL, external_gemm_signature, gemm_symbols};
use super::jit::{CodegenError, Jit};
use super::plan::{Kernel, Layout, Plan, plan_with_layout, print_plan};
use super::pool::{self, Window};
use super::profile::{PROFILE_SYMBOL, dlc_profile_mark};
use super::{copy, matmul};
use crate::autodiff::graphs::{Entry, Graphs};
use crate::ir::Graph;
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::types::I64;

/// How to compile.
#[derive(Clone, Copy, Debug)]
pub struct CompileOptions {
    /// The largest batch the functions will be called with (scratch is sized for it).
    pub max_batch: usize,
    pub gemm: GemmPolicy,
    /// Threads that compile the entry points side by side.
    pub threads: usize,
    /// Time every kernel (see [`super::profile`]); on when `DLC_PROFILE` is set.
    pub profile: bool,
    /// Keep each entry's Cranelift IR text (`--emit clif`); off by default,
    /// as printing it is a good part of the compile time.
    pub keep_clif: bool,
}

impl CompileOptions {
    pub fn new(max_batch: usize) -> Self {
        CompileOptions {
            max_batch,
            gemm: GemmPolicy::Measured,
            threads: default_threads(),
            profile: std::env::var_os("DLC_PROFILE").is_some(),
            keep_clif: false,
        }
    }
}

/// The thread count `dlc --threads` set for the matrix products (read from
/// `MATMUL_NUM_THREADS`), else every core.
pub fn default_threads() -> usize {
    std::env::var("MATMUL_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// One compiled entry point.
pub struct CompiledEntry {
    pub entry: Entry,
    pub plan: Plan,
    /// `print_plan` of the plan (`dlc check --emit kernels`).
    pub plan_text: String,
    /// The Cranelift IR as generated, before optimisation (`--emit clif`);
    /// empty unless [`CompileOptions::keep_clif`].
    pub clif_text: String,
    /// Floats of scratch the function needs: the plan's plus the conv workspace.
    pub scratch_len: usize,
    func: EntryFn,
}

impl CompiledEntry {
    /// Runs the function.
    ///
    /// # Safety
    /// Every pointer of `ctx` must be valid for all the floats the plan
    /// addresses at batch `ctx.n` (at most the plan's `max_batch`), the
    /// scratch for [`CompiledEntry::scratch_len`] floats, and the buffers
    /// written must not overlap the others.
    pub unsafe fn run(&self, ctx: &CallCtx) {
        // SAFETY: the caller upholds the contract above, which is all the
        // generated code relies on.
        unsafe { (self.func)(ctx) }
    }
}

/// A model's entry points as native code. The functions live as long as this value.
pub struct Compiled {
    pub entries: Vec<CompiledEntry>,
    pub layout: Layout,
    pub max_batch: usize,
    /// Keeps the machine code alive.
    _jit: Jit,
}

impl Compiled {
    pub fn get(&self, e: Entry) -> Option<&CompiledEntry> {
        self.entries.iter().find(|c| c.entry == e)
    }
}

/// Compiles every entry point of `graphs` for batches of at most `options.max_batch`.
pub fn compile(graphs: &Graphs, options: &CompileOptions) -> Result<Compiled, CodegenError> {
    compile_entries(graphs, options, &Entry::ALL)
}

/// Compiles the listed entry points of `graphs` (those it has) into one module.
pub fn compile_entries(
    graphs: &Graphs,
    options: &CompileOptions,
    wanted: &[Entry],
) -> Result<Compiled, CodegenError> {
    if options.max_batch == 0 {
        return Err(CodegenError::InvalidShape(
            "the largest batch must be at least 1".into(),
        ));
    }
    let layout = Layout::of(graphs.layout_graph());
    let mut symbols = gemm_symbols();
    symbols.push((PROFILE_SYMBOL, dlc_profile_mark as *const u8));
    let mut jit = Jit::new(&symbols)?;
    jit.keep_text(options.keep_clif);
    let gemm_sig = external_gemm_signature(jit.signature(&[], &[]).call_conv);
    let gemm_id = jit.declare_import(EXTERNAL_GEMM_SYMBOL, &gemm_sig)?;
    let profile_id = if options.profile {
        let sig = jit.signature(&[I64, I64], &[]);
        Some(jit.declare_import(PROFILE_SYMBOL, &sig)?)
    } else {
        None
    };
    let mut pending = Vec::new();
    let mut functions = Vec::new();
    for entry in Entry::ALL.into_iter().filter(|e| wanted.contains(e)) {
        let Some(g) = graphs.get(entry) else { continue };
        let plan = plan_with_layout(g, options.max_batch, layout.clone()).map_err(|source| {
            CodegenError::Plan {
                entry: entry.name().to_string(),
                source,
            }
        })?;
        let scratch_len = scratch_len(&plan)?;
        let ptr = jit.pointer_type();
        let signature = jit.signature(&[ptr], &[]);
        let built = jit.build_function(entry.name(), signature, |b, imports| {
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            let ctx = b.block_params(block)[0];
            let gemm = Some(imports.reference(gemm_id, b));
            let mut fx = Fx::prologue(
                b,
                ctx,
                gemm,
                options.gemm,
                options.max_batch,
                plan.scratch_len,
            );
            let profile = profile_id.map(|id| imports.reference(id, fx.b));
            let entry_id = Entry::ALL.iter().position(|e| *e == entry).unwrap_or(0) as i64;
            let mark = |fx: &mut Fx, kernel: i64| {
                if let Some(f) = profile {
                    let (e, k) = (fx.iconst(entry_id), fx.iconst(kernel));
                    fx.b.ins().call(f, &[e, k]);
                }
            };
            mark(&mut fx, -1);
            for (i, k) in plan.kernels.iter().enumerate() {
                emit_kernel(&mut fx, k)?;
                mark(&mut fx, i as i64);
            }
            fx.b.ins().return_(&[]);
            Ok(())
        })?;
        let clif_text = match (options.keep_clif, jit.clif().last()) {
            (true, Some(c)) => c.text.clone(),
            _ => String::new(),
        };
        pending.push((entry, plan, clif_text, scratch_len));
        functions.push(built);
    }
    let ids = jit.define_built(functions, options.threads)?;
    jit.finalize()?;
    let mut entries = Vec::with_capacity(pending.len());
    for ((entry, plan, clif_text, scratch_len), id) in pending.into_iter().zip(ids) {
        let pointer = jit.function_pointer(id)?;
        // SAFETY: defined above as `fn(*const CallCtx)` with the host's
        // default convention, which is `extern "C"` on this target.
        let func = unsafe { std::mem::transmute::<*const u8, EntryFn>(pointer) };
        entries.push(CompiledEntry {
            entry,
            plan_text: print_plan(&plan),
            plan,
            clif_text,
            scratch_len,
            func,
        });
    }
    Ok(Compiled {
        entries,
        layout,
        max_batch: options.max_batch,
        _jit: jit,
    })
}

/// Plans one graph alone (its own layout), for tools that show a single graph.
pub fn plan_graph(g: &Graph, max_batch: usize) -> Result<Plan, CodegenError> {
    super::plan::plan(g, max_batch).map_err(|source| CodegenError::Plan {
        entry: "graph".into(),
        source,
    })
}

/// Floats of scratch a function compiled from `plan` needs: the plan's own
/// plus the conv workspace after it.
pub fn scratch_len(plan: &Plan) -> R<usize> {
    plan.scratch_len
        .checked_add(workspace_len(plan)?)
        .ok_or_else(|| {
            CodegenError::InvalidShape("scratch memory overflows the address space".into())
        })
}

/// Floats of conv workspace the plan's kernels need (after its scratch).
fn workspace_len(plan: &Plan) -> R<usize> {
    let mut need = 0;
    for k in &plan.kernels {
        let g = match k {
            Kernel::Conv2d {
                x,
                w,
                stride,
                pad,
                out,
            } => Geometry::of(x, w, out, *stride, *pad)?,
            Kernel::Conv2dWeightGrad {
                x,
                dy,
                stride,
                pad,
                out,
            } => Geometry::of(x, out, dy, *stride, *pad)?,
            Kernel::Conv2dInputGrad {
                dy,
                w,
                stride,
                pad,
                out,
            } => Geometry::of(out, w, dy, *stride, *pad)?,
            _ => continue,
        };
        need = need.max(g.workspace());
    }
    Ok(need)
}

fn emit_kernel(fx: &mut Fx, k: &Kernel) -> R {
    match k {
        Kernel::Elementwise { body, outputs } => emit_elementwise(fx, body, outputs),
        Kernel::Reduce {
            body,
            max,
            axes,
            out,
        } => emit_reduce(fx, body, *max, axes, *out),
        Kernel::MatMul { a, b, ta, tb, out } => matmul::emit_matmul(fx, a, b, *ta, *tb, out),
        Kernel::Conv2d {
            x,
            w,
            stride,
            pad,
            out,
        } => {
            let g = Geometry::of(x, w, out, *stride, *pad)?;
            conv::emit_conv(fx, &g, x, w, out)
        }
        Kernel::Conv2dWeightGrad {
            x,
            dy,
            stride,
            pad,
            out,
        } => {
            let g = Geometry::of(x, out, dy, *stride, *pad)?;
            conv::emit_conv_weight_grad(fx, &g, x, dy, out)
        }
        Kernel::Conv2dInputGrad {
            dy,
            w,
            stride,
            pad,
            out,
        } => {
            let g = Geometry::of(out, w, dy, *stride, *pad)?;
            conv::emit_conv_input_grad(fx, &g, dy, w, out)
        }
        Kernel::Pool2d {
            kind,
            x,
            window,
            stride,
            pad,
            out,
        } => {
            let p = Window::of(x, out, *window, *stride, *pad)?;
            pool::emit_pool(fx, *kind, &p, x, out)
        }
        Kernel::Pool2dGrad {
            kind,
            x,
            dy,
            window,
            stride,
            pad,
            out,
        } => {
            let p = Window::of(x, dy, *window, *stride, *pad)?;
            pool::emit_pool_grad(fx, *kind, &p, x, dy, out)
        }
        Kernel::Concat { inputs, axis, out } => copy::emit_concat(fx, inputs, *axis, out),
        Kernel::Slice {
            x,
            axis,
            start,
            out,
        } => copy::emit_slice(fx, x, *axis, *start, out),
        Kernel::Copy { from, to } => copy::emit_copy(fx, from, *to),
    }
}
