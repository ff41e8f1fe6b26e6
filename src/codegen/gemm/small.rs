//! A compact product for the few calls where the batch is too small for
//! the external GEMM (a last partial batch, a handful of samples): each row
//! of C is built as a sum of rows of B scaled by elements of A, with f32x4
//! loads along the rows of B and C. It is a tenth of the size of the tiled
//! kernel, whose four edge-tile variants per panel make up much of the code
//! (and the compile time) of a training step, and these sizes never need
//! its speed.

use super::ir::{element_address, emit_for_dynamic, load, store_lanes};
use super::{CodegenError, FLOAT_BYTES, GemmSpec, RuntimeSizes, inline_supports};
use cranelift_codegen::ir::types::{F32, F32X4, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

const LANES: usize = 4;

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
    let flags = MemFlagsData::new().with_notrap();
    let vector_end = n / LANES * LANES;
    emit_for_dynamic(builder, rows, 1, |builder, i| {
        let c_row = element_address(builder, c, i, n as i64);
        if !spec.accumulate {
            let zero = builder.ins().f32const(0.0);
            let zeros = builder.ins().splat(F32X4, zero);
            let columns = builder.ins().iconst(I64, vector_end as i64);
            emit_for_dynamic(builder, columns, LANES as i64, |builder, j| {
                let at = element_address(builder, c_row, j, 1);
                store_lanes(builder, zeros, at, 0, LANES);
                Ok(())
            })?;
            for j in vector_end..n {
                let at = builder.ins().iadd_imm_s(c_row, j as i64 * FLOAT_BYTES);
                builder.ins().store(flags, zero, at, 0);
            }
        }
        emit_for_dynamic(builder, inner, 1, |builder, p| {
            // A(i, p): A is m x k as stored, or k x m when transposed.
            let a_index = if spec.a_transposed {
                let row = builder.ins().imul_imm_s(p, spec.m as i64);
                builder.ins().iadd(row, i)
            } else {
                let row = builder.ins().imul_imm_s(i, spec.k as i64);
                builder.ins().iadd(row, p)
            };
            let a_at = element_address(builder, a, a_index, 1);
            let x = builder.ins().load(F32, flags, a_at, 0);
            let xv = builder.ins().splat(F32X4, x);
            let b_row = element_address(builder, b, p, n as i64);
            let columns = builder.ins().iconst(I64, vector_end as i64);
            emit_for_dynamic(builder, columns, LANES as i64, |builder, j| {
                let offset = builder.ins().imul_imm_s(j, FLOAT_BYTES);
                let (b_at, c_at) = (
                    builder.ins().iadd(b_row, offset),
                    builder.ins().iadd(c_row, offset),
                );
                let y = load(builder, F32X4, b_at, 0);
                let old = load(builder, F32X4, c_at, 0);
                let new = builder.ins().fma(xv, y, old);
                store_lanes(builder, new, c_at, 0, LANES);
                Ok(())
            })?;
            for j in vector_end..n {
                let offset = j as i64 * FLOAT_BYTES;
                let y = load(builder, F32, b_row, offset);
                let old = load(builder, F32, c_row, offset);
                let new = builder.ins().fma(x, y, old);
                let at = builder.ins().iadd_imm_s(c_row, offset);
                builder.ins().store(flags, new, at, 0);
            }
            Ok(())
        })
    })
}
