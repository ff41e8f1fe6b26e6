//! `codegen::compile`: the graphs of a model's entry points -> kernel plans
//! -> one Cranelift function per entry point -> native code in one JIT module.
//!
//! Each function takes a [`CallCtx`] and runs its plan's kernels in order,
//! inline, calling out to the external GEMM and, for the kernels `slice.rs`
//! splits into bands of rows, to the worker pool (`workers.rs`), which runs
//! the kernel's own function on each band.

use super::abi::{CallCtx, EntryFn};
use super::conv::{self, Geometry};
use super::elementwise::{emit_elementwise_kernel, emit_reduce};
use super::func::{Fx, GemmPolicy, R};
use super::gemm::{EXTERNAL_GEMM_SYMBOL, external_gemm_signature, gemm_symbols};
use super::host_dropout::{self, HOST_DROPOUT_SYMBOL, dlc_dropout_mask};
use super::host_im2col::{self, HOST_COL2IM_SYMBOL, HOST_IM2COL_SYMBOL, dlc_col2im, dlc_im2col};
use super::host_pool::{
    self, HOST_POOL_GRAD_SYMBOL, HOST_POOL_SYMBOL, dlc_pool2x2, dlc_pool2x2_grad,
};
use super::host_tanh::{self, HOST_TANH_SYMBOL, dlc_tanh_in_place};
use crate::distributed::active::{CROSS_SUM_SYMBOL, dlc_cross_sum};
use super::jit::{CodegenError, Jit};
use super::plan::{Kernel, Layout, Plan, plan_with_layout, print_plan};
use super::pool::{self, Window};
use super::profile::{PROFILE_SYMBOL, dlc_profile_mark};
use super::plan::Loc;
use super::slice::{
    PARALLEL_SYMBOL, REDUCE_BANDS_SYMBOL, Sliced, dlc_parallel_rows, dlc_reduce_bands, slice,
};
use super::{copy, matmul};
use crate::autodiff::graphs::{Entry, Graphs};
use crate::ir::Graph;
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::types::{F32, I64};
use cranelift_module::FuncId;

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

/// The threads compiled code may use (see [`super::workers::set_threads`]).
pub fn default_threads() -> usize {
    super::workers::threads()
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
    symbols.push((PARALLEL_SYMBOL, dlc_parallel_rows as *const u8));
    symbols.push((REDUCE_BANDS_SYMBOL, dlc_reduce_bands as *const u8));
    symbols.push((HOST_TANH_SYMBOL, dlc_tanh_in_place as *const u8));
    symbols.push((HOST_DROPOUT_SYMBOL, dlc_dropout_mask as *const u8));
    symbols.push((CROSS_SUM_SYMBOL, dlc_cross_sum as *const u8));
    symbols.push((HOST_POOL_SYMBOL, dlc_pool2x2 as *const u8));
    symbols.push((HOST_POOL_GRAD_SYMBOL, dlc_pool2x2_grad as *const u8));
    symbols.push((HOST_IM2COL_SYMBOL, dlc_im2col as *const u8));
    symbols.push((HOST_COL2IM_SYMBOL, dlc_col2im as *const u8));
    let mut jit = Jit::new(&symbols)?;
    jit.keep_text(options.keep_clif);
    let ptr = jit.pointer_type();
    let gemm_sig = external_gemm_signature(jit.signature(&[], &[]).call_conv);
    let gemm_id = jit.declare_import(EXTERNAL_GEMM_SYMBOL, &gemm_sig)?;
    let parallel_sig = jit.signature(&[ptr, ptr, I64, I64, I64], &[]);
    let parallel_id = jit.declare_import(PARALLEL_SYMBOL, &parallel_sig)?;
    let reduce_sig = jit.signature(&[ptr, ptr, I64, I64, ptr, ptr, I64, I64, I64], &[]);
    let reduce_id = jit.declare_import(REDUCE_BANDS_SYMBOL, &reduce_sig)?;
    let tanh_id = if host_tanh::available() {
        let sig = jit.signature(&[ptr, I64], &[]);
        Some(jit.declare_import(HOST_TANH_SYMBOL, &sig)?)
    } else {
        None
    };
    let cross_sum_id = jit.declare_import(CROSS_SUM_SYMBOL, &jit.signature(&[ptr, I64], &[]))?;
    let dropout_id = if host_dropout::available() {
        let sig = jit.signature(&[ptr, I64, I64, F32], &[]);
        Some(jit.declare_import(HOST_DROPOUT_SYMBOL, &sig)?)
    } else {
        None
    };
    let pool_ids = if host_pool::available() {
        let forward = jit.signature(&[ptr, ptr, I64, I64, I64, I64], &[]);
        let backward = jit.signature(&[ptr, ptr, ptr, I64, I64, I64, I64], &[]);
        Some([
            jit.declare_import(HOST_POOL_SYMBOL, &forward)?,
            jit.declare_import(HOST_POOL_GRAD_SYMBOL, &backward)?,
        ])
    } else {
        None
    };
    let im2col_ids = if host_im2col::available() {
        let sig = jit.signature(&[ptr, ptr, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64], &[]);
        Some([
            jit.declare_import(HOST_IM2COL_SYMBOL, &sig)?,
            jit.declare_import(HOST_COL2IM_SYMBOL, &sig)?,
        ])
    } else {
        None
    };
    let profile_id = if options.profile {
        let sig = jit.signature(&[I64, I64], &[]);
        Some(jit.declare_import(PROFILE_SYMBOL, &sig)?)
    } else {
        None
    };
    let bands = workspace_bands();
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
        let workspace = workspace_len(&plan)?;
        let partials = partials_at(&plan)?;
        // Kernels worth spreading over threads get a function of their own,
        // called on bands of rows (see `slice.rs`); reductions over the batch
        // are split whatever the thread count, so their sums do not depend on it.
        let mut slices: Vec<Option<(FuncId, Sliced)>> = Vec::new();
        for (i, k) in plan.kernels.iter().enumerate() {
            let sliced = slice(k, partials).filter(|s| {
                s.split.is_some() || (bands > 1 && s.worth_it(options.max_batch))
            });
            let Some(sliced) = sliced else {
                slices.push(None);
                continue;
            };
            let signature = jit.signature(&[ptr, I64, I64, I64, I64], &[]);
            let name = format!("{}.k{i}", entry.name());
            let built = jit.build_function(&name, signature, |b, imports| {
                let block = b.create_block();
                b.append_block_params_for_function_params(block);
                b.switch_to_block(block);
                let params = b.block_params(block).to_vec();
                let gemm = Some(imports.reference(gemm_id, b));
                let mut fx = Fx::prologue(
                    b,
                    params[0],
                    gemm,
                    options.gemm,
                    options.max_batch,
                    plan.scratch_len,
                );
                fx.host_tanh = tanh_id.map(|id| imports.reference(id, fx.b));
                fx.host_pool = pool_ids.map(|ids| ids.map(|id| imports.reference(id, fx.b)));
                fx.host_im2col = im2col_ids.map(|ids| ids.map(|id| imports.reference(id, fx.b)));
                let per_band = sliced.split.map(|s| (s.partials, s.out_len));
                let band = [params[1], params[2], params[3], params[4]];
                fx.enter_band(band, &sliced.rows, per_band, workspace)?;
                emit_kernel(&mut fx, &sliced.kernel)?;
                fx.b.ins().return_(&[]);
                Ok(())
            })?;
            slices.push(Some((built.id(), sliced)));
            functions.push(built);
        }
        let signature = jit.signature(&[ptr], &[]);
        let built = jit.build_function(entry.name(), signature, |b, imports| {
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            let ctx = b.block_params(block)[0];
            let gemm = Some(imports.reference(gemm_id, b));
            let parallel = imports.reference(parallel_id, b);
            let reduce_bands = imports.reference(reduce_id, b);
            let mut fx = Fx::prologue(
                b,
                ctx,
                gemm,
                options.gemm,
                options.max_batch,
                plan.scratch_len,
            );
            fx.host_tanh = tanh_id.map(|id| imports.reference(id, fx.b));
            fx.host_dropout = dropout_id.map(|id| imports.reference(id, fx.b));
            fx.host_cross_sum = Some(imports.reference(cross_sum_id, fx.b));
            fx.host_pool = pool_ids.map(|ids| ids.map(|id| imports.reference(id, fx.b)));
            fx.host_im2col = im2col_ids.map(|ids| ids.map(|id| imports.reference(id, fx.b)));
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
                match &slices[i] {
                    Some((id, sliced)) => {
                        let f = imports.reference(*id, fx.b);
                        let addr = fx.b.ins().func_addr(ptr, f);
                        let rows = fx.dim(sliced.extent);
                        let slots = fx.iconst(bands as i64);
                        if let Some(split) = sliced.split {
                            let band_rows = fx.iconst(split.band_rows as i64);
                            let at = fx.ptr(split.partials)?;
                            let out = fx.ptr(split.out)?;
                            let len = fx.iconst(split.out_len as i64);
                            let max = fx.iconst(split.max as i64);
                            let args = [addr, ctx, rows, band_rows, at, out, len, max, slots];
                            fx.b.ins().call(reduce_bands, &args);
                        } else {
                            let min_rows = fx.iconst(sliced.min_band_rows() as i64);
                            let args = [addr, ctx, rows, min_rows, slots];
                            fx.b.ins().call(parallel, &args);
                        }
                    }
                    None => emit_kernel(&mut fx, k)?,
                }
                mark(&mut fx, i as i64);
            }
            fx.b.ins().return_(&[]);
            Ok(())
        })?;
        let clif_text = match (options.keep_clif, jit.clif().last()) {
            (true, Some(c)) => c.text.clone(),
            _ => String::new(),
        };
        pending.push((entry, plan, clif_text, scratch_len, built.id()));
        functions.push(built);
    }
    jit.define_built(functions, options.threads)?;
    jit.finalize()?;
    let mut entries = Vec::with_capacity(pending.len());
    for (entry, plan, clif_text, scratch_len, id) in pending {
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

/// Floats of scratch a function compiled from `plan` needs: the plan's own,
/// then a conv workspace per thread, then the partial results of split
/// reductions.
pub fn scratch_len(plan: &Plan) -> R<usize> {
    let partials = partials_at(plan)?.offset;
    let most = plan
        .kernels
        .iter()
        .filter_map(|k| {
            let sliced = slice(k, Loc::scratch(partials))?;
            Some(sliced.split?.partials_len(sliced.max_rows(plan.max_batch)))
        })
        .max()
        .unwrap_or(0);
    partials
        .checked_add(most)
        .ok_or_else(|| {
            CodegenError::InvalidShape("scratch memory overflows the address space".into())
        })
}

/// Where the partial results of split reductions start: after the planned
/// scratch and the conv workspaces.
fn partials_at(plan: &Plan) -> R<Loc> {
    workspace_len(plan)?
        .checked_mul(workspace_bands())
        .and_then(|w| w.checked_add(plan.scratch_len))
        .map(Loc::scratch)
        .ok_or_else(|| {
            CodegenError::InvalidShape("scratch memory overflows the address space".into())
        })
}

/// Conv workspaces a function has, one per band its sliced kernels may run
/// in at once (see `slice.rs`).
fn workspace_bands() -> usize {
    super::workers::threads()
}

/// Floats of conv workspace one band of the plan's kernels needs (after its scratch).
pub(super) fn workspace_len(plan: &Plan) -> R<usize> {
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

pub(super) fn emit_kernel(fx: &mut Fx, k: &Kernel) -> R {
    match k {
        Kernel::Elementwise { body, outputs } => emit_elementwise_kernel(fx, body, outputs),
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
        Kernel::CrossSum { x, out } => {
            let host = fx.host_cross_sum.ok_or_else(|| {
                CodegenError::InvalidShape(
                    "a sum across ranks needs the host, which self-contained code has not".into(),
                )
            })?;
            if x.loc != out.loc {
                copy::emit_copy(fx, x, out.loc)?;
            }
            let ptr = fx.ptr(out.loc)?;
            let len = fx.numel(&out.shape)?;
            fx.b.ins().call(host, &[ptr, len]);
            Ok(())
        }
    }
}
