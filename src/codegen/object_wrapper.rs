//! The C interface of an object file (see `object.rs`), as Cranelift IR.
//!
//! ```text
//! <p>_predict(x, n, out)          malloc a workspace, <p>_predict_ws, free it
//! <p>_predict_ws(x, n, out, ws)   check the arguments, pick the plan (1 sample or more),
//!                                 then per chunk of at most B samples:
//!                                   prepare (scale, fill, standardise) into the workspace
//!                                   call the forward pass
//!                                   write probabilities (softmax / sigmoid) or values
//! <p>_logits, <p>_logits_ws       the same, writing the network's raw outputs
//! <p>_workspace_size(n)           bytes the _ws functions need for n samples
//! ```
//!
//! Return codes: 0, or `-1` a batch too large to address, `-2` a null
//! pointer, `-3` a missing value (NaN) in a model trained without `impute`,
//! `-4` no memory for the workspace, `-5` a workspace not aligned to 16
//! bytes (the kernels' vectors in it are aligned ones). The preparation does the arithmetic of
//! `data::Preparation::apply` in its order (multiply, fill, subtract,
//! divide), so a prepared sample has the same bits.

use super::abi::{self, CallCtx};
use super::jit::{BuiltFunction, CodegenError, Jit};
use super::object::{InputSpec, OutputSpec};
use super::plan::Base;
use super::vecmath;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F32X4, I32, I64};
use cranelift_codegen::ir::{
    Block, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Type, Value,
};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{DataId, FuncId, Linkage};

type R<T = ()> = Result<T, CodegenError>;

/// The C library functions the interface calls.
pub const IMPORTS: [&str; 2] = ["malloc", "free"];

const OK: i64 = 0;
const E_BATCH: i64 = -1;
const E_NULL: i64 = -2;
const E_MISSING: i64 = -3;
const E_MEMORY: i64 = -4;
const E_ALIGN: i64 = -5;

/// One plan's forward pass and where its buffers lie in the workspace
/// (offsets in floats).
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    pub max_batch: usize,
    features_at: usize,
    logits_at: usize,
    scratch_at: usize,
    /// Workspace bytes.
    pub bytes: usize,
    forward: FuncId,
}

impl Variant {
    pub fn new(
        max_batch: usize,
        raw_len: usize,
        logits: usize,
        scratch_len: usize,
        forward: FuncId,
    ) -> R<Variant> {
        // Each buffer starts on a 64-byte line.
        let line = |floats: usize| floats.checked_next_multiple_of(16);
        let sizes = (|| {
            let logits_at = line(max_batch.checked_mul(raw_len)?)?;
            let scratch_at = line(logits_at.checked_add(max_batch.checked_mul(logits)?)?)?;
            let bytes = scratch_at.checked_add(scratch_len)?.checked_mul(4)?;
            (bytes <= isize::MAX as usize).then_some((logits_at, scratch_at, bytes))
        })();
        let (logits_at, scratch_at, bytes) = sizes.ok_or_else(|| {
            CodegenError::InvalidShape(format!(
                "the workspace for batches of {max_batch} overflows the address space"
            ))
        })?;
        Ok(Variant {
            max_batch,
            features_at: 0,
            logits_at,
            scratch_at,
            bytes,
            forward,
        })
    }
}

/// Everything the interface's functions need.
pub struct Interface {
    pub prefix: String,
    pub input: InputSpec,
    pub output: OutputSpec,
    pub logits: usize,
    pub outputs: usize,
    /// The params, states and preparation data objects.
    pub data: [DataId; 3],
    /// The batch-1 plan, then the batch plan (if any).
    pub variants: Vec<Variant>,
}

/// Where each part of the preparation table starts (floats).
#[derive(Clone, Copy, Debug, Default)]
struct PrepAt {
    fill: Option<usize>,
    mean: Option<usize>,
    std: Option<usize>,
    target_mean: Option<usize>,
    target_std: Option<usize>,
}

fn prep_parts<'a>(input: &'a InputSpec, output: &'a OutputSpec) -> [Option<&'a [f32]>; 5] {
    let restore = match output {
        OutputSpec::Values { restore } => restore.as_ref(),
        _ => None,
    };
    [
        input.fill.as_deref(),
        input.standardize.as_ref().map(|(m, _)| m.as_slice()),
        input.standardize.as_ref().map(|(_, s)| s.as_slice()),
        restore.map(|(m, _)| m.as_slice()),
        restore.map(|(_, s)| s.as_slice()),
    ]
}

fn prep_at(input: &InputSpec, output: &OutputSpec) -> PrepAt {
    let mut at = 0;
    let mut next = |part: Option<&[f32]>| {
        part.map(|p| {
            let here = at;
            at += p.len();
            here
        })
    };
    let [fill, mean, std, target_mean, target_std] = prep_parts(input, output);
    PrepAt {
        fill: next(fill),
        mean: next(mean),
        std: next(std),
        target_mean: next(target_mean),
        target_std: next(target_std),
    }
}

/// The preparation's constants, as one table of floats.
pub fn prep_table(input: &InputSpec, output: &OutputSpec) -> Vec<f32> {
    prep_parts(input, output)
        .into_iter()
        .flatten()
        .flat_map(|p| p.iter().copied())
        .collect()
}

/// Builds every function of the interface.
pub fn build(jit: &mut Jit, api: &Interface) -> R<Vec<BuiltFunction>> {
    let ptr = jit.pointer_type();
    let p = &api.prefix;
    let mut built = Vec::new();
    let mut runs = Vec::new();
    for v in &api.variants {
        let f = build_run(jit, api, v, &format!("{p}.run{}", v.max_batch))?;
        runs.push((v.max_batch, f.id()));
        built.push(f);
    }
    let checked = build_checked(jit, api, &runs, &format!("{p}.checked"))?;
    let checked_id = checked.id();
    built.push(checked);
    let sizes = [api.variants[0].bytes, api.variants.last().map_or(0, |v| v.bytes)];
    let malloc_sig = jit.signature(&[I64], &[ptr]);
    let free_sig = jit.signature(&[ptr], &[]);
    let malloc = jit.declare_import("malloc", &malloc_sig)?;
    let free = jit.declare_import("free", &free_sig)?;
    for (name, mode) in [("predict", 0), ("logits", 1)] {
        let sig = jit.signature(&[ptr, I64, ptr, ptr], &[I32]);
        built.push(jit.build_linked_function(
            &format!("{p}_{name}_ws"),
            Linkage::Export,
            sig,
            |b, imports| {
                let [x, n, out, ws] = entry_params::<4>(b);
                let checked = imports.reference(checked_id, b);
                let mode = b.ins().iconst(I32, mode);
                let call = b.ins().call(checked, &[x, n, out, ws, mode]);
                let r = b.inst_results(call)[0];
                b.ins().return_(&[r]);
                Ok(())
            },
        )?);
        let sig = jit.signature(&[ptr, I64, ptr], &[I32]);
        built.push(jit.build_linked_function(
            &format!("{p}_{name}"),
            Linkage::Export,
            sig,
            |b, imports| {
                let [x, n, out] = entry_params::<3>(b);
                let (checked, malloc, free) = (
                    imports.reference(checked_id, b),
                    imports.reference(malloc, b),
                    imports.reference(free, b),
                );
                // Nothing to do needs no memory (and a bad call none either).
                let empty = b.ins().icmp_imm_s(IntCC::Equal, n, 0);
                return_if(b, empty, OK);
                let size = workspace_bytes(b, n, sizes);
                let call = b.ins().call(malloc, &[size]);
                let ws = b.inst_results(call)[0];
                let none = b.ins().icmp_imm_s(IntCC::Equal, ws, 0);
                return_if(b, none, E_MEMORY);
                let mode = b.ins().iconst(I32, mode);
                let call = b.ins().call(checked, &[x, n, out, ws, mode]);
                let r = b.inst_results(call)[0];
                b.ins().call(free, &[ws]);
                b.ins().return_(&[r]);
                Ok(())
            },
        )?);
    }
    let sig = jit.signature(&[I64], &[I64]);
    built.push(jit.build_linked_function(
        &format!("{p}_workspace_size"),
        Linkage::Export,
        sig,
        |b, _| {
            let [n] = entry_params::<1>(b);
            let size = workspace_bytes(b, n, sizes);
            b.ins().return_(&[size]);
            Ok(())
        },
    )?);
    Ok(built)
}

/// A new function's entry block, switched to, and its parameters.
fn entry_params<const N: usize>(b: &mut FunctionBuilder) -> [Value; N] {
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    let params = b.block_params(block);
    std::array::from_fn(|i| params[i])
}

/// Returns `code` (an I32) when `cond` holds, else goes on in a new block.
fn return_if(b: &mut FunctionBuilder, cond: Value, code: i64) {
    let (exit, next) = (b.create_block(), b.create_block());
    b.ins().brif(cond, exit, &[], next, &[]);
    b.switch_to_block(exit);
    let code = b.ins().iconst(I32, code);
    b.ins().return_(&[code]);
    b.switch_to_block(next);
}

/// The workspace for `n` samples: the batch-1 plan's for at most one.
fn workspace_bytes(b: &mut FunctionBuilder, n: Value, [one, many]: [usize; 2]) -> Value {
    let small = b.ins().icmp_imm_s(IntCC::UnsignedLessThanOrEqual, n, 1);
    let one = b.ins().iconst(I64, one as i64);
    let many = b.ins().iconst(I64, many as i64);
    b.ins().select(small, one, many)
}

/// `checked(x, n, out, ws, mode)`: the arguments checked, then the run of
/// the plan that fits `n`.
fn build_checked(
    jit: &mut Jit,
    api: &Interface,
    runs: &[(usize, FuncId)],
    name: &str,
) -> R<BuiltFunction> {
    let ptr = jit.pointer_type();
    let sig = jit.signature(&[ptr, I64, ptr, ptr, I32], &[I32]);
    // The most samples whose values and outputs (floats) stay addressable.
    let widest = api.input.raw_len.max(api.outputs).max(api.logits).max(1);
    let most = (isize::MAX as usize / 4 / widest) as i64;
    jit.build_linked_function(name, Linkage::Local, sig, |b, imports| {
        let [x, n, out, ws, mode] = entry_params::<5>(b);
        let empty = b.ins().icmp_imm_s(IntCC::Equal, n, 0);
        return_if(b, empty, OK);
        for pointer in [x, out, ws] {
            let null = b.ins().icmp_imm_s(IntCC::Equal, pointer, 0);
            return_if(b, null, E_NULL);
        }
        let large = b.ins().icmp_imm_s(IntCC::UnsignedGreaterThan, n, most);
        return_if(b, large, E_BATCH);
        let misaligned = b.ins().band_imm_u(ws, 15);
        return_if(b, misaligned, E_ALIGN);
        let args = [x, n, out, ws, mode];
        let (&(_, first), rest) = runs.split_first().unwrap_or_else(|| unreachable!());
        match rest.last() {
            Some(&(_, batch)) => {
                let single = b.ins().icmp_imm_s(IntCC::Equal, n, 1);
                let (one, many) = (b.create_block(), b.create_block());
                b.ins().brif(single, one, &[], many, &[]);
                for (block, id) in [(one, first), (many, batch)] {
                    b.switch_to_block(block);
                    let f = imports.reference(id, b);
                    let call = b.ins().call(f, &args);
                    let r = b.inst_results(call)[0];
                    b.ins().return_(&[r]);
                }
            }
            None => {
                let f = imports.reference(first, b);
                let call = b.ins().call(f, &args);
                let r = b.inst_results(call)[0];
                b.ins().return_(&[r]);
            }
        }
        Ok(())
    })
}

/// `run(x, n, out, ws, mode)` for one plan: chunks of at most its batch.
fn build_run(jit: &mut Jit, api: &Interface, v: &Variant, name: &str) -> R<BuiltFunction> {
    let ptr = jit.pointer_type();
    let sig = jit.signature(&[ptr, I64, ptr, ptr, I32], &[I32]);
    let at = prep_at(&api.input, &api.output);
    jit.build_linked_function(name, Linkage::Local, sig, |b, imports| {
        let [x, n, out, ws, mode] = entry_params::<5>(b);
        let forward = imports.reference(v.forward, b);
        let [params, states, prep] = api.data.map(|d| {
            let gv = imports.data(d, b);
            b.ins().symbol_value(ptr, gv)
        });
        let ctx = call_ctx(b, ws, v, params, states);
        let features = offset(b, ws, v.features_at);
        let logits = offset(b, ws, v.logits_at);
        let chunk = b.create_block();
        b.append_block_param(chunk, I64);
        let zero = b.ins().iconst(I64, 0);
        b.ins().jump(chunk, &[zero.into()]);

        b.switch_to_block(chunk);
        let start = b.block_params(chunk)[0];
        let done = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, start, n);
        return_if(b, done, OK);
        let left = b.ins().isub(n, start);
        let most = b.ins().iconst(I64, v.max_batch as i64);
        let count = b.ins().umin(left, most);
        let raw = api.input.raw_len as i64;
        let first = b.ins().imul_imm_s(start, raw * 4);
        let src = b.ins().iadd(x, first);
        prepare(b, &api.input, at, prep, [src, features], count)?;
        b.ins()
            .store(MemFlagsData::trusted(), count, ctx, abi::N_OFFSET);
        b.ins().call(forward, &[ctx]);
        post(b, api, at, prep, [logits, out], [start, count], mode)?;
        let next = b.ins().iadd(start, count);
        b.ins().jump(chunk, &[next.into()]);
        Ok(())
    })
}

fn offset(b: &mut FunctionBuilder, base: Value, floats: usize) -> Value {
    b.ins().iadd_imm_s(base, (floats * 4) as i64)
}

/// A `CallCtx` on the stack: the weights, the workspace's buffers, null for
/// what prediction never reads (labels, gradients, the loss).
fn call_ctx(b: &mut FunctionBuilder, ws: Value, v: &Variant, params: Value, states: Value) -> Value {
    let size = std::mem::size_of::<CallCtx>() as u32;
    let slot = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
    let flag = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 4, 2));
    let ctx = b.ins().stack_addr(I64, slot, 0);
    let flag_at = b.ins().stack_addr(I64, flag, 0);
    let zero = b.ins().iconst(I64, 0);
    let zero32 = b.ins().iconst(I32, 0);
    b.ins().store(MemFlagsData::trusted(), zero32, flag_at, 0);
    let scratch = offset(b, ws, v.scratch_at);
    let features = offset(b, ws, v.features_at);
    let output = offset(b, ws, v.logits_at);
    for base in abi::BASES {
        let value = match base {
            Base::Params => params,
            Base::States => states,
            Base::Scratch => scratch,
            Base::Features => features,
            Base::Output => output,
            _ => zero,
        };
        b.ins()
            .store(MemFlagsData::trusted(), value, ctx, abi::base_offset(base));
    }
    for at in [
        abi::N_OFFSET,
        abi::SEED_OFFSET,
        abi::STEP_OFFSET,
        abi::FIRST_OFFSET,
    ] {
        b.ins().store(MemFlagsData::trusted(), zero, ctx, at);
    }
    b.ins()
        .store(MemFlagsData::trusted(), flag_at, ctx, abi::FLAGS_OFFSET);
    ctx
}

/// `for i in 0..end` (I64), the body given `i`; leaves the builder after the loop.
fn for_range(b: &mut FunctionBuilder, end: Value, mut body: impl FnMut(&mut FunctionBuilder, Value) -> R) -> R {
    let (head, inside, exit) = (b.create_block(), b.create_block(), b.create_block());
    b.append_block_param(head, I64);
    let zero = b.ins().iconst(I64, 0);
    b.ins().jump(head, &[zero.into()]);
    b.switch_to_block(head);
    let i = b.block_params(head)[0];
    let more = b.ins().icmp(IntCC::UnsignedLessThan, i, end);
    b.ins().brif(more, inside, &[], exit, &[]);
    b.switch_to_block(inside);
    body(b, i)?;
    let next = b.ins().iadd_imm_s(i, 1);
    b.ins().jump(head, &[next.into()]);
    b.switch_to_block(exit);
    Ok(())
}

fn load_f32(b: &mut FunctionBuilder, base: Value, index: Value) -> Value {
    let at = b.ins().imul_imm_s(index, 4);
    let addr = b.ins().iadd(base, at);
    b.ins().load(F32, unaligned(), addr, 0)
}

fn store_f32(b: &mut FunctionBuilder, value: Value, base: Value, index: Value) {
    let at = b.ins().imul_imm_s(index, 4);
    let addr = b.ins().iadd(base, at);
    b.ins().store(unaligned(), value, addr, 0);
}

/// Copies `count` samples from `src` to `dst`, prepared as in training:
/// four values at a time, then the last `raw_len % 4` one by one.
fn prepare(
    b: &mut FunctionBuilder,
    input: &InputSpec,
    at: PrepAt,
    prep: Value,
    [src, dst]: [Value; 2],
    count: Value,
) -> R {
    let raw = input.raw_len as i64;
    let vectors = b.ins().iconst(I64, raw / 4);
    for_range(b, count, |b, s| {
        let sample = b.ins().imul_imm_s(s, raw * 4);
        let (src, dst) = (b.ins().iadd(src, sample), b.ins().iadd(dst, sample));
        for_range(b, vectors, |b, q| {
            let j = b.ins().imul_imm_s(q, 4);
            prepare_at(b, input, at, prep, [src, dst], j, F32X4)
        })?;
        for j in raw / 4 * 4..raw {
            let j = b.ins().iconst(I64, j);
            prepare_at(b, input, at, prep, [src, dst], j, F32)?;
        }
        Ok(())
    })
}

/// The value at position `j` of a sample (`ty` F32), or the four from `j`
/// (F32X4): the statistics are those of the same positions.
fn prepare_at(
    b: &mut FunctionBuilder,
    input: &InputSpec,
    at: PrepAt,
    prep: Value,
    [src, dst]: [Value; 2],
    j: Value,
    ty: Type,
) -> R {
    let load = |b: &mut FunctionBuilder, base: Value| {
        let offset = b.ins().imul_imm_s(j, 4);
        let addr = b.ins().iadd(base, offset);
        b.ins().load(ty, unaligned(), addr, 0)
    };
    let constant = |b: &mut FunctionBuilder, v: f32| {
        let c = b.ins().f32const(v);
        if ty == F32X4 { b.ins().splat(F32X4, c) } else { c }
    };
    let mut v = load(b, src);
    if let Some(scale) = input.scale {
        let s = constant(b, scale);
        v = b.ins().fmul(v, s);
    }
    let missing = b.ins().fcmp(FloatCC::Unordered, v, v);
    match at.fill {
        Some(fill_at) => {
            let table = offset(b, prep, fill_at);
            let fill = load(b, table);
            v = if ty == F32X4 {
                let mask = b.ins().bitcast(F32X4, MemFlagsData::new(), missing);
                b.ins().bitselect(mask, fill, v)
            } else {
                b.ins().select(missing, fill, v)
            };
        }
        None => {
            let any = if ty == F32X4 {
                b.ins().vany_true(missing)
            } else {
                missing
            };
            return_if(b, any, E_MISSING);
        }
    }
    if let (Some(mean_at), Some(std_at)) = (at.mean, at.std) {
        let (means, stds) = (offset(b, prep, mean_at), offset(b, prep, std_at));
        let (m, s) = (load(b, means), load(b, stds));
        let centred = b.ins().fsub(v, m);
        v = b.ins().fdiv(centred, s);
    }
    let offset = b.ins().imul_imm_s(j, 4);
    let addr = b.ins().iadd(dst, offset);
    b.ins().store(unaligned(), v, addr, 0);
    Ok(())
}

/// The caller's arrays and the preparation table are aligned only to their
/// floats: a vector there must not be taken for an aligned one (SSE would
/// fold it into an instruction that faults on an unaligned address).
fn unaligned() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Writes the outputs of samples `start..start + count` from their logits:
/// raw with `mode` 1, else as `dlc predict` reports them.
fn post(
    b: &mut FunctionBuilder,
    api: &Interface,
    at: PrepAt,
    prep: Value,
    [logits, out]: [Value; 2],
    [start, count]: [Value; 2],
    mode: Value,
) -> R {
    let width = api.logits as i64;
    let (raw, shaped, done) = (b.create_block(), b.create_block(), b.create_block());
    let is_raw = b.ins().icmp_imm_s(IntCC::Equal, mode, 1);
    b.ins().brif(is_raw, raw, &[], shaped, &[]);

    b.switch_to_block(raw);
    let first = b.ins().imul_imm_s(start, width * 4);
    let dst = b.ins().iadd(out, first);
    let values = b.ins().imul_imm_s(count, width);
    for_range(b, values, |b, i| {
        let v = load_f32(b, logits, i);
        store_f32(b, v, dst, i);
        Ok(())
    })?;
    b.ins().jump(done, &[]);

    b.switch_to_block(shaped);
    let outputs = api.outputs as i64;
    let first = b.ins().imul_imm_s(start, outputs * 4);
    let dst = b.ins().iadd(out, first);
    for_range(b, count, |b, s| {
        let row_at = b.ins().imul_imm_s(s, width * 4);
        let row = b.ins().iadd(logits, row_at);
        let out_at = b.ins().imul_imm_s(s, outputs * 4);
        let o = b.ins().iadd(dst, out_at);
        emit_row(b, &api.output, at, prep, [row, o], api.logits)
    })?;
    b.ins().jump(done, &[]);
    b.switch_to_block(done);
    Ok(())
}

/// One sample's outputs from its row of logits.
fn emit_row(
    b: &mut FunctionBuilder,
    output: &OutputSpec,
    at: PrepAt,
    prep: Value,
    [row, o]: [Value; 2],
    width: usize,
) -> R {
    let w = b.ins().iconst(I64, width as i64);
    match output {
        OutputSpec::Softmax => {
            // As the report does: the largest logit (NaN-skipping), e^(z - max), their sum.
            let m = fold(b, row, w, f32::NEG_INFINITY, |b, acc, z| {
                let above = b.ins().fcmp(FloatCC::GreaterThan, z, acc);
                let acc_nan = b.ins().fcmp(FloatCC::Unordered, acc, acc);
                let take = b.ins().bor(above, acc_nan);
                Ok(b.ins().select(take, z, acc))
            })?;
            let total = fold(b, row, w, 0.0, |b, acc, z| {
                let shifted = b.ins().fsub(z, m);
                let e = vecmath::exp(b, shifted)?;
                Ok(b.ins().fadd(acc, e))
            })?;
            for_range(b, w, |b, j| {
                let z = load_f32(b, row, j);
                let shifted = b.ins().fsub(z, m);
                let e = vecmath::exp(b, shifted)?;
                let p = b.ins().fdiv(e, total);
                store_f32(b, p, o, j);
                Ok(())
            })
        }
        OutputSpec::Sigmoid => {
            let zero = b.ins().iconst(I64, 0);
            let z = load_f32(b, row, zero);
            let minus = b.ins().fneg(z);
            let e = vecmath::exp(b, minus)?;
            let one = b.ins().f32const(1.0);
            let denominator = b.ins().fadd(one, e);
            let p = b.ins().fdiv(one, denominator);
            let q = b.ins().fsub(one, p);
            let one_i = b.ins().iconst(I64, 1);
            store_f32(b, q, o, zero);
            store_f32(b, p, o, one_i);
            Ok(())
        }
        OutputSpec::Values { .. } => for_range(b, w, |b, j| {
            let mut z = load_f32(b, row, j);
            if let (Some(mean_at), Some(std_at)) = (at.target_mean, at.target_std) {
                let (means, stds) = (offset(b, prep, mean_at), offset(b, prep, std_at));
                let (m, s) = (load_f32(b, means, j), load_f32(b, stds, j));
                let scaled = b.ins().fmul(z, s);
                z = b.ins().fadd(scaled, m);
            }
            store_f32(b, z, o, j);
            Ok(())
        }),
    }
}

/// `acc = step(acc, row[j])` for `j` in `0..w`, from `init`.
fn fold(
    b: &mut FunctionBuilder,
    row: Value,
    w: Value,
    init: f32,
    mut step: impl FnMut(&mut FunctionBuilder, Value, Value) -> R<Value>,
) -> R<Value> {
    let (head, inside, exit): (Block, Block, Block) =
        (b.create_block(), b.create_block(), b.create_block());
    b.append_block_param(head, I64);
    b.append_block_param(head, F32);
    b.append_block_param(exit, F32);
    let zero = b.ins().iconst(I64, 0);
    let init = b.ins().f32const(init);
    b.ins().jump(head, &[zero.into(), init.into()]);
    b.switch_to_block(head);
    let (j, acc) = (b.block_params(head)[0], b.block_params(head)[1]);
    let more = b.ins().icmp(IntCC::UnsignedLessThan, j, w);
    b.ins().brif(more, inside, &[], exit, &[acc.into()]);
    b.switch_to_block(inside);
    let z = load_f32(b, row, j);
    let acc = step(b, acc, z)?;
    let next = b.ins().iadd_imm_s(j, 1);
    b.ins().jump(head, &[next.into(), acc.into()]);
    b.switch_to_block(exit);
    Ok(b.block_params(exit)[0])
}
