//! Products with B stored transposed and only a few rows of A: a dense
//! layer applied to one sample or a handful. Each element of C is then the
//! dot product of two contiguous rows, so this kernel reads both operands in
//! place with f32x4 loads, four columns of C at a time (one load of A feeds
//! four FMAs), and never packs B: with one row of A, packing B would cost
//! more than the product itself.

use super::ir::{element_address, emit_for_dynamic, emit_while_ne, load};
use super::{CodegenError, FLOAT_BYTES, GemmSpec};
use cranelift_codegen::ir::types::{F32, F32X4, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

/// Columns of C per group: four accumulators, one load of A for four of B.
const GROUP: usize = 4;
const LANES: usize = 4;

/// `C (=|+=) A B^T` for `spec` (B transposed, A not), with the rows of C
/// given at run time by `rows` (at most `spec.m`) or fixed by the spec.
pub fn emit_row_dots(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    rows: Option<Value>,
    [a, b, c]: [Value; 3],
) -> Result<(), CodegenError> {
    if !spec.b_transposed || spec.a_transposed {
        return Err(CodegenError::InvalidShape(format!(
            "row dot products need B transposed and A not ({spec:?})"
        )));
    }
    spec.strides()?; // every operand addressable
    if spec.m == 0 || spec.n == 0 {
        return Ok(());
    }
    let rows = rows.unwrap_or_else(|| builder.ins().iconst(I64, spec.m as i64));
    let (n, k) = (spec.n, spec.k);
    emit_for_dynamic(builder, rows, 1, |builder, i| {
        let a_row = element_address(builder, a, i, k as i64);
        let c_row = element_address(builder, c, i, n as i64);
        let groups = n / GROUP;
        if groups > 0 {
            let end = builder.ins().iconst(I64, (groups * GROUP) as i64);
            emit_for_dynamic(builder, end, GROUP as i64, |builder, j0| {
                emit_group(builder, spec, GROUP, [a_row, b, c_row], j0)
            })?;
        }
        for j in groups * GROUP..n {
            let j0 = builder.ins().iconst(I64, j as i64);
            emit_group(builder, spec, 1, [a_row, b, c_row], j0)?;
        }
        Ok(())
    })
}

/// Columns `j0 .. j0 + cols` of one row of C.
fn emit_group(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    cols: usize,
    [a_row, b, c_row]: [Value; 3],
    j0: Value,
) -> Result<(), CodegenError> {
    let k = spec.k;
    let b_rows: Vec<Value> = (0..cols)
        .map(|col| {
            let j = builder.ins().iadd_imm_s(j0, col as i64);
            element_address(builder, b, j, k as i64)
        })
        .collect();
    let zero = builder.ins().f32const(0.0);
    let zeros = builder.ins().splat(F32X4, zero);
    let vector_end = (k / LANES * LANES) as i64;
    let mut sums: Vec<Value> = vec![zeros; cols];
    if vector_end > 0 {
        let mut params = vec![builder.ins().iconst(I64, 0)];
        params.extend(&sums);
        let end = builder.ins().iconst(I64, vector_end);
        let done = emit_while_ne(builder, &params, end, |builder, values| {
            let kk = values[0];
            let offset = builder.ins().imul_imm_s(kk, FLOAT_BYTES);
            let a_at = builder.ins().iadd(a_row, offset);
            let av = load(builder, F32X4, a_at, 0);
            let mut next = vec![builder.ins().iadd_imm_s(kk, LANES as i64)];
            for (col, acc) in values[1..].iter().enumerate() {
                let b_at = builder.ins().iadd(b_rows[col], offset);
                let bv = load(builder, F32X4, b_at, 0);
                next.push(builder.ins().fma(av, bv, *acc));
            }
            let marker = next[0];
            Ok((next, marker))
        })?;
        sums = done[1..].to_vec();
    }
    let flags = MemFlagsData::new().with_notrap();
    for (col, sum) in sums.into_iter().enumerate() {
        let mut total = builder.ins().extractlane(sum, 0);
        for lane in 1..LANES as u8 {
            let x = builder.ins().extractlane(sum, lane);
            total = builder.ins().fadd(total, x);
        }
        // The last k % 4 products, scalar.
        for t in vector_end as usize..k {
            let x = load(builder, F32, a_row, t as i64 * FLOAT_BYTES);
            let y = load(builder, F32, b_rows[col], t as i64 * FLOAT_BYTES);
            total = builder.ins().fma(x, y, total);
        }
        let j = builder.ins().iadd_imm_s(j0, col as i64);
        let at = element_address(builder, c_row, j, 1);
        if spec.accumulate {
            let old = builder.ins().load(F32, flags, at, 0);
            total = builder.ins().fadd(old, total);
        }
        builder.ins().store(flags, total, at, 0);
    }
    Ok(())
}
