//! A compact product for the few calls where the batch is too small for
//! the external GEMM (a last partial batch, a handful of samples): each row
//! of C is built as a sum of rows of B scaled by elements of A, with f32x4
//! loads along the rows of B and C. It is a tenth of the size of the tiled
//! kernel, whose four edge-tile variants per panel make up much of the code
//! (and the compile time) of a training step, and these sizes never need
//! its speed.

use super::ir::{element_address, emit_for_dynamic, load, store_lanes};
use super::{CodegenError, FLOAT_BYTES, GemmSpec, RuntimeSizes, inline_supports};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4, I64};
use cranelift_codegen::ir::{BlockArg, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

const LANES: usize = 4;
/// Vectors of C per block, kept in registers.
const BLOCK: usize = 4;

/// Whether [`emit_small_gemm`] takes this product: B stored as is (rows of
/// B are contiguous) and runtime sizes the layout allows.
pub fn small_supports(spec: &GemmSpec, runtime: RuntimeSizes) -> bool {
    !spec.b_transposed && inline_supports(spec, runtime)
}

/// `C (=|+=) op(A) B`, rows of C given at run time by `runtime.m` and the
/// inner size by `runtime.k` where set.
pub fn emit_small_gemm(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    runtime: RuntimeSizes,
    [a, b, c]: [Value; 3],
) -> Result<(), CodegenError> {
    if !small_supports(spec, runtime) {
        return Err(CodegenError::InvalidShape(format!(
            "the small-product kernel needs B as stored and fixed strides ({spec:?})"
        )));
    }
    spec.strides()?; // every operand addressable
    let n = spec.n;
    if spec.m == 0 || n == 0 {
        return Ok(());
    }
    let rows = runtime
        .m
        .unwrap_or_else(|| builder.ins().iconst(I64, spec.m as i64));
    let inner = runtime
        .k
        .unwrap_or_else(|| builder.ins().iconst(I64, spec.k as i64));
    // Each row of C in blocks of BLOCK vectors held in registers across the
    // whole inner sum: one broadcast of A and BLOCK loads of B per step.
    let block_cols = BLOCK * LANES;
    let blocks = n / block_cols;
    let vector_end = n / LANES * LANES;
    emit_for_dynamic(builder, rows, 1, |builder, i| {
        let c_row = element_address(builder, c, i, n as i64);
        let a_at = |builder: &mut FunctionBuilder, p: Value| {
            // A(i, p): A is m x k as stored, or k x m when transposed.
            let index = if spec.a_transposed {
                let row = builder.ins().imul_imm_s(p, spec.m as i64);
                builder.ins().iadd(row, i)
            } else {
                let row = builder.ins().imul_imm_s(i, spec.k as i64);
                builder.ins().iadd(row, p)
            };
            let at = element_address(builder, a, index, 1);
            builder
                .ins()
                .load(F32, MemFlagsData::new().with_notrap(), at, 0)
        };
        if blocks > 0 {
            let end = builder.ins().iconst(I64, (blocks * block_cols) as i64);
            emit_for_dynamic(builder, end, block_cols as i64, |builder, j0| {
                emit_columns(builder, spec, [b, c_row], j0, BLOCK, inner, &a_at)
            })?;
        }
        // The rest: one vector at a time, then single columns.
        for j in (blocks * block_cols..vector_end).step_by(LANES) {
            let j0 = builder.ins().iconst(I64, j as i64);
            emit_columns(builder, spec, [b, c_row], j0, 1, inner, &a_at)?;
        }
        for j in vector_end..n {
            let j0 = builder.ins().iconst(I64, j as i64);
            emit_columns(builder, spec, [b, c_row], j0, 0, inner, &a_at)?;
        }
        Ok(())
    })
}

/// Columns `j0 ..` of one row of C: `vectors` f32x4 columns, or one scalar
/// column when `vectors` is 0; summed over the inner size in registers.
fn emit_columns(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    [b, c_row]: [Value; 2],
    j0: Value,
    vectors: usize,
    inner: Value,
    a_at: &dyn Fn(&mut FunctionBuilder, Value) -> Value,
) -> Result<(), CodegenError> {
    let flags = MemFlagsData::new().with_notrap();
    let n = spec.n as i64;
    let (ty, count, width) = if vectors == 0 {
        (F32, 1, 1)
    } else {
        (F32X4, vectors, LANES as i64)
    };
    let c_at = element_address(builder, c_row, j0, 1);
    let start: Vec<Value> = (0..count)
        .map(|q| {
            if spec.accumulate {
                load(builder, ty, c_at, q as i64 * width * FLOAT_BYTES)
            } else {
                let zero = builder.ins().f32const(0.0);
                if ty == F32 {
                    zero
                } else {
                    builder.ins().splat(F32X4, zero)
                }
            }
        })
        .collect();
    // A do-while loop needs one step at least: an empty inner size keeps
    // the starting values.
    let header = builder.create_block();
    let body = builder.create_block();
    let exit = builder.create_block();
    builder.append_block_param(header, I64);
    for _ in 0..count {
        builder.append_block_param(header, ty);
        builder.append_block_param(exit, ty);
    }
    let zero = builder.ins().iconst(I64, 0);
    let mut args: Vec<BlockArg> = vec![zero.into()];
    args.extend(start.iter().map(|v| BlockArg::from(*v)));
    builder.ins().jump(header, &args);
    builder.switch_to_block(header);
    let params = builder.block_params(header).to_vec();
    let (p, accs) = (params[0], params[1..].to_vec());
    let more = builder.ins().icmp(IntCC::SignedLessThan, p, inner);
    let exit_args: Vec<BlockArg> = accs.iter().map(|v| BlockArg::from(*v)).collect();
    builder.ins().brif(more, body, &[], exit, &exit_args);
    builder.switch_to_block(body);
    let x = a_at(builder, p);
    let x = if ty == F32 {
        x
    } else {
        builder.ins().splat(F32X4, x)
    };
    let b_row = builder.ins().imul_imm_s(p, n);
    let b_row = builder.ins().iadd(b_row, j0);
    let b_at = element_address(builder, b, b_row, 1);
    let mut next: Vec<BlockArg> = vec![builder.ins().iadd_imm_s(p, 1).into()];
    for (q, acc) in accs.iter().enumerate() {
        let y = load(builder, ty, b_at, q as i64 * width * FLOAT_BYTES);
        next.push(builder.ins().fma(x, y, *acc).into());
    }
    builder.ins().jump(header, &next);
    builder.switch_to_block(exit);
    let done = builder.block_params(exit).to_vec();
    for (q, v) in done.into_iter().enumerate() {
        let offset = q as i64 * width * FLOAT_BYTES;
        if ty == F32 {
            builder.ins().store(flags, v, c_at, offset as i32);
        } else {
            store_lanes(builder, v, c_at, offset, LANES);
        }
    }
    Ok(())
}
