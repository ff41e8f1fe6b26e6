//! Small IR-building pieces the inline GEMM uses: loops, addresses, partial-vector
//! loads and stores.

use super::{CodegenError, FLOAT_BYTES};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4, I64};
use cranelift_codegen::ir::{Block, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

pub(super) fn jump(builder: &mut FunctionBuilder, target: Block, args: &[Value]) {
    let args: Vec<_> = args.iter().map(|value| (*value).into()).collect();
    builder.ins().jump(target, &args);
}

/// `base + index * stride * 4` for an I64 `index`.
pub(super) fn element_address(
    builder: &mut FunctionBuilder,
    base: Value,
    index: Value,
    stride: i64,
) -> Value {
    let offset = builder.ins().imul_imm_s(index, stride * FLOAT_BYTES);
    builder.ins().iadd(base, offset)
}

/// Address `base + offset` as (pointer, immediate), folding the offset when it fits.
pub(super) fn address(builder: &mut FunctionBuilder, base: Value, offset: i64) -> (Value, i32) {
    match i32::try_from(offset) {
        Ok(small) => (base, small),
        Err(_) => (builder.ins().iadd_imm_s(base, offset), 0),
    }
}

pub(super) fn load(
    builder: &mut FunctionBuilder,
    ty: cranelift_codegen::ir::Type,
    base: Value,
    offset: i64,
) -> Value {
    let (pointer, offset) = address(builder, base, offset);
    let flags = MemFlagsData::new().with_notrap();
    builder.ins().load(ty, flags, pointer, offset)
}

/// Loads `lanes` consecutive floats into the low lanes of a vector (the rest are zero).
pub(super) fn load_lanes(
    builder: &mut FunctionBuilder,
    base: Value,
    offset: i64,
    lanes: usize,
) -> Value {
    if lanes == 4 {
        return load(builder, F32X4, base, offset);
    }
    let zero = builder.ins().f32const(0.0);
    let mut vector = builder.ins().splat(F32X4, zero);
    for lane in 0..lanes {
        let scalar = load(builder, F32, base, offset + lane as i64 * FLOAT_BYTES);
        vector = builder.ins().insertlane(vector, scalar, lane as u8);
    }
    vector
}

/// Stores the low `lanes` lanes of `value` to consecutive floats.
pub(super) fn store_lanes(
    builder: &mut FunctionBuilder,
    value: Value,
    base: Value,
    offset: i64,
    lanes: usize,
) {
    let flags = MemFlagsData::new().with_notrap();
    if lanes == 4 {
        let (pointer, offset) = address(builder, base, offset);
        builder.ins().store(flags, value, pointer, offset);
        return;
    }
    for lane in 0..lanes {
        let scalar = builder.ins().extractlane(value, lane as u8);
        let (pointer, offset) = address(builder, base, offset + lane as i64 * FLOAT_BYTES);
        builder.ins().store(flags, scalar, pointer, offset);
    }
}

/// Emits `for i in (start..end).step_by(step)` with an I64 counter; no code if empty and
/// no loop if there is a single iteration.
pub(super) fn emit_for<F>(
    builder: &mut FunctionBuilder,
    start: i64,
    end: i64,
    step: i64,
    mut body: F,
) -> Result<(), CodegenError>
where
    F: FnMut(&mut FunctionBuilder, Value) -> Result<(), CodegenError>,
{
    if start >= end {
        return Ok(());
    }
    let first = builder.ins().iconst(I64, start);
    if start + step >= end {
        return body(builder, first);
    }
    let limit = builder.ins().iconst(I64, end);
    emit_while_ne(builder, &[first], limit, |builder, values| {
        body(builder, values[0])?;
        let next = builder.ins().iadd_imm_s(values[0], step);
        // `end - start` need not be a multiple of `step`: stop once past the end.
        let done = builder
            .ins()
            .icmp(IntCC::SignedGreaterThanOrEqual, next, limit);
        let exit_marker = builder.ins().select(done, limit, next);
        Ok((vec![next], exit_marker))
    })?;
    Ok(())
}

/// `for i in (0..end).step_by(step)` with a runtime `end` (no iteration if `end <= 0`).
pub(super) fn emit_for_dynamic<F>(
    builder: &mut FunctionBuilder,
    end: Value,
    step: i64,
    mut body: F,
) -> Result<(), CodegenError>
where
    F: FnMut(&mut FunctionBuilder, Value) -> Result<(), CodegenError>,
{
    let header = builder.create_block();
    let inside = builder.create_block();
    let exit = builder.create_block();
    builder.append_block_param(header, I64);
    let start = builder.ins().iconst(I64, 0);
    jump(builder, header, &[start]);
    builder.switch_to_block(header);
    let i = builder.block_params(header)[0];
    let more = builder.ins().icmp(IntCC::SignedLessThan, i, end);
    builder.ins().brif(more, inside, &[], exit, &[]);
    builder.switch_to_block(inside);
    body(builder, i)?;
    let next = builder.ins().iadd_imm_s(i, step);
    jump(builder, header, &[next]);
    builder.switch_to_block(exit);
    Ok(())
}

/// A do-while loop over `params`: the body returns the next values and a value compared
/// with `end`; the loop exits when they are equal. Returns the final values.
pub(super) fn emit_while_ne<F>(
    builder: &mut FunctionBuilder,
    params: &[Value],
    end: Value,
    body: F,
) -> Result<Vec<Value>, CodegenError>
where
    F: FnOnce(&mut FunctionBuilder, &[Value]) -> Result<(Vec<Value>, Value), CodegenError>,
{
    let header = builder.create_block();
    let exit = builder.create_block();
    for value in params {
        let ty = builder.func.dfg.value_type(*value);
        builder.append_block_param(header, ty);
        builder.append_block_param(exit, ty);
    }
    jump(builder, header, params);
    builder.switch_to_block(header);
    let current = builder.block_params(header).to_vec();
    let (next, marker) = body(builder, &current)?;
    let again = builder.ins().icmp(IntCC::NotEqual, marker, end);
    let next_args: Vec<_> = next.iter().map(|value| (*value).into()).collect();
    builder
        .ins()
        .brif(again, header, &next_args, exit, &next_args);
    builder.switch_to_block(exit);
    Ok(builder.block_params(exit).to_vec())
}
