//! Products with B stored transposed and only a few rows of A: a dense
//! layer applied to one sample or a handful. Each element of C is then the
//! dot product of two contiguous rows, so this kernel reads both operands in
//! place with f32x4 loads, four columns of C at a time (one load of A feeds
//! four FMAs), and never packs B: with one row of A, packing B would cost
//! more than the product itself.
//!
//! Where B cannot change while the function runs (the weights of a compiled
//! prediction, see [`Weights::Constant`]), its loads are marked read-only and
//! movable: Cranelift then schedules each load beside the multiply-add that
//! uses it instead of hoisting all of them to the top of the loop, which
//! frees the registers for two accumulators per column (two independent
//! multiply-add chains hide the instruction's latency), or for two rows of A
//! at once on a batch (each load of B then feeds two multiply-adds). Without
//! the marks, eight accumulators plus the hoisted loads overflow the sixteen
//! vector registers and the loop spills: measured 27 against 17.5 us per W5
//! sample, and 13.7 us with them.

use super::ir::{address, element_address, emit_for_dynamic, emit_while_ne, load};
use super::{CodegenError, FLOAT_BYTES, GemmSpec};
use cranelift_codegen::ir::types::{F32, F32X4, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

/// Columns of C per group: four accumulators, one load of A for four of B.
const GROUP: usize = 4;
const LANES: usize = 4;
/// Rows of A per block (see [`emit_rows`]).
const ROW_BLOCK: usize = 32;

/// Whether B may change while the function runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// B may be written elsewhere in the function (training, or an activation).
    Mutable,
    /// B is read-only for the whole call: parameters embedded in an object file.
    Constant,
}

/// How one pass of the kernel is laid out: rows of A (each load of B feeds
/// one multiply-add per row) and independent accumulators per element of C.
#[derive(Clone, Copy)]
struct Pass {
    rows: usize,
    chains: usize,
}

impl Weights {
    /// The passes for many rows: the registers hold eight accumulators
    /// either way (four columns by two rows, or by two chains for one row).
    fn passes(self) -> (Pass, Pass) {
        match self {
            Weights::Mutable => (Pass { rows: 1, chains: 1 }, Pass { rows: 1, chains: 1 }),
            Weights::Constant => (Pass { rows: 2, chains: 1 }, Pass { rows: 1, chains: 2 }),
        }
    }
}

/// `C (=|+=) A B^T` for `spec` (B transposed, A not), with the rows of C
/// given at run time by `rows` (at most `spec.m`) or fixed by the spec.
pub fn emit_row_dots(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    rows: Option<Value>,
    abc: [Value; 3],
    weights: Weights,
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
    let (wide, single) = weights.passes();
    let zero = builder.ins().iconst(I64, 0);
    if wide.rows == 1 {
        return emit_rows(builder, spec, abc, [zero, rows], single, weights);
    }
    // Whole passes of `wide.rows`, then the rows left one at a time.
    let count = builder.ins().udiv_imm_u(rows, wide.rows as i64);
    let whole = builder.ins().imul_imm_s(count, wide.rows as i64);
    emit_rows(builder, spec, abc, [zero, whole], wide, weights)?;
    emit_rows(builder, spec, abc, [whole, rows], single, weights)
}

/// Rows `start .. end` of C, `pass.rows` at a time (`end - start` a
/// multiple), in blocks of [`ROW_BLOCK`] rows: within a block every group of
/// columns runs over all the block's rows, so its rows of B (four of them,
/// 12 KiB for 784 inputs) stay in the first-level cache while the block's
/// rows of A come from the second.
fn emit_rows(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    [a, b, c]: [Value; 3],
    [start, end]: [Value; 2],
    pass: Pass,
    weights: Weights,
) -> Result<(), CodegenError> {
    let (n, k) = (spec.n, spec.k);
    let count = builder.ins().isub(end, start);
    emit_for_dynamic(builder, count, ROW_BLOCK as i64, |builder, block| {
        let left = builder.ins().isub(count, block);
        let block_len = builder.ins().iconst(I64, ROW_BLOCK as i64);
        let block_len = builder.ins().smin(left, block_len);
        let block_start = builder.ins().iadd(start, block);
        let columns = |builder: &mut FunctionBuilder, j0: Value, cols: usize| {
            emit_for_dynamic(builder, block_len, pass.rows as i64, |builder, i| {
                let first = builder.ins().iadd(block_start, i);
                let (mut a_rows, mut c_rows) = (Vec::new(), Vec::new());
                for r in 0..pass.rows {
                    let row = builder.ins().iadd_imm_s(first, r as i64);
                    a_rows.push(element_address(builder, a, row, k as i64));
                    c_rows.push(element_address(builder, c, row, n as i64));
                }
                let rows = Rows {
                    a: &a_rows,
                    c: &c_rows,
                    pass,
                    weights,
                };
                emit_group(builder, spec, cols, &rows, b, j0)
            })
        };
        let groups = n / GROUP;
        if groups > 0 {
            let end = builder.ins().iconst(I64, (groups * GROUP) as i64);
            emit_for_dynamic(builder, end, GROUP as i64, |builder, j0| {
                columns(builder, j0, GROUP)
            })?;
        }
        for j in groups * GROUP..n {
            let j0 = builder.ins().iconst(I64, j as i64);
            columns(builder, j0, 1)?;
        }
        Ok(())
    })
}

/// The rows of A and C one pass works on, and how.
struct Rows<'a> {
    a: &'a [Value],
    c: &'a [Value],
    pass: Pass,
    weights: Weights,
}

/// Columns `j0 .. j0 + cols` of the pass's rows of C.
fn emit_group(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    cols: usize,
    rows: &Rows,
    b: Value,
    j0: Value,
) -> Result<(), CodegenError> {
    let k = spec.k;
    let Pass { rows: height, chains } = rows.pass;
    let b_rows: Vec<Value> = (0..cols)
        .map(|col| {
            let j = builder.ins().iadd_imm_s(j0, col as i64);
            element_address(builder, b, j, k as i64)
        })
        .collect();
    let zero = builder.ins().f32const(0.0);
    let zeros = builder.ins().splat(F32X4, zero);
    let step = LANES * chains;
    let unrolled_end = k / step * step;
    let vector_end = k / LANES * LANES;
    // Accumulator of (row r, column col, chain): chain `c` takes the
    // vectors c, c + chains, ... of the row.
    let slot = |r: usize, col: usize, chain: usize| (r * cols + col) * chains + chain;
    let mut sums: Vec<Value> = vec![zeros; height * cols * chains];
    if unrolled_end > 0 {
        let mut params = vec![builder.ins().iconst(I64, 0)];
        params.extend(&sums);
        let end = builder.ins().iconst(I64, unrolled_end as i64);
        let done = emit_while_ne(builder, &params, end, |builder, values| {
            let kk = values[0];
            let offset = builder.ins().imul_imm_s(kk, FLOAT_BYTES);
            let mut av = Vec::new(); // av[r * chains + chain]
            for a_row in rows.a {
                let a_at = builder.ins().iadd(*a_row, offset);
                for chain in 0..chains {
                    av.push(load(builder, F32X4, a_at, lane_offset(chain)));
                }
            }
            let mut next = values.to_vec();
            next[0] = builder.ins().iadd_imm_s(kk, step as i64);
            for (col, b_row) in b_rows.iter().enumerate() {
                let b_at = builder.ins().iadd(*b_row, offset);
                for chain in 0..chains {
                    for r in 0..height {
                        let (a, acc) = (av[r * chains + chain], values[1 + slot(r, col, chain)]);
                        next[1 + slot(r, col, chain)] = match rows.weights {
                            Weights::Mutable => {
                                let bv = load(builder, F32X4, b_at, lane_offset(chain));
                                builder.ins().fma(a, bv, acc)
                            }
                            // The loaded B first: with one row it dies in the
                            // multiply-add, whose destination is its first
                            // operand, so A is not copied for each column.
                            // (Two loads of one address are one after GVN.)
                            Weights::Constant => {
                                let bv = constant_load(builder, b_at, lane_offset(chain));
                                builder.ins().fma(bv, a, acc)
                            }
                        };
                    }
                }
            }
            let marker = next[0];
            Ok((next, marker))
        })?;
        sums = done[1..].to_vec();
    }
    let flags = MemFlagsData::new().with_notrap();
    for (r, (a_row, c_row)) in rows.a.iter().zip(rows.c).enumerate() {
        for (col, b_row) in b_rows.iter().enumerate() {
            let mut sum = sums[slot(r, col, 0)];
            for chain in 1..chains {
                sum = builder.ins().fadd(sum, sums[slot(r, col, chain)]);
            }
            // Whole vectors the unrolled loop left (fewer than `chains`).
            for t in (unrolled_end..vector_end).step_by(LANES) {
                let x = load(builder, F32X4, *a_row, t as i64 * FLOAT_BYTES);
                let y = load(builder, F32X4, *b_row, t as i64 * FLOAT_BYTES);
                sum = builder.ins().fma(x, y, sum);
            }
            let mut total = builder.ins().extractlane(sum, 0);
            for lane in 1..LANES as u8 {
                let x = builder.ins().extractlane(sum, lane);
                total = builder.ins().fadd(total, x);
            }
            // The last k % 4 products, scalar.
            for t in vector_end..k {
                let x = load(builder, F32, *a_row, t as i64 * FLOAT_BYTES);
                let y = load(builder, F32, *b_row, t as i64 * FLOAT_BYTES);
                total = builder.ins().fma(x, y, total);
            }
            let j = builder.ins().iadd_imm_s(j0, col as i64);
            let at = element_address(builder, *c_row, j, 1);
            if spec.accumulate {
                let old = builder.ins().load(F32, flags, at, 0);
                total = builder.ins().fadd(old, total);
            }
            builder.ins().store(flags, total, at, 0);
        }
    }
    Ok(())
}

/// Bytes from a row's position to vector `chain` of an unrolled step.
fn lane_offset(chain: usize) -> i64 {
    (chain * LANES) as i64 * FLOAT_BYTES
}

/// A load of B that Cranelift may schedule freely: read-only for the call
/// (the caller's promise, [`Weights::Constant`]) and in bounds.
fn constant_load(builder: &mut FunctionBuilder, base: Value, offset: i64) -> Value {
    let (pointer, offset) = address(builder, base, offset);
    let flags = MemFlagsData::new()
        .with_notrap()
        .with_readonly()
        .with_can_move();
    builder.ins().load(F32X4, flags, pointer, offset)
}
