//! Matrix products for generated kernels: an inline Cranelift loop nest for small products
//! and a call into an optimised host GEMM for large ones.
//!
//! Dense layers and their gradients are matrix products, `C = op(A) op(B)` or
//! `C += op(A) op(B)`, where `op` optionally transposes. All matrices are row-major and
//! contiguous, with sizes fixed when the kernel is generated (see [`GemmSpec`]).
//! [`emit_gemm`] writes the product directly into the function being built;
//! [`emit_external_gemm_call`] calls [`dlc_sgemm`] instead, which the JIT must register under
//! [`EXTERNAL_GEMM_SYMBOL`] (see [`gemm_symbols`]). [`use_external_gemm`] picks between them.
//!
//! The inline kernel keeps a 4x8 tile of C in eight f32x4 registers and updates it with one
//! broadcast of A per row and two vector loads of B per step of k (FMA throughout). Larger
//! tiles measured slower: x86 FMA overwrites a multiplicand, so every broadcast needs a copy,
//! and with twelve accumulators Cranelift's register allocator spills inside the loop.
//! B is read in panels of 8 columns and blocks of 256 rows. A panel block is copied into a
//! zero-padded 8 KiB stack buffer when several row tiles reuse it (in place, rows a power of
//! two apart evict each other from L1), when B is transposed (its columns are not
//! contiguous) or when the panel is narrower than 8; so the tile loop always reads
//! contiguous rows. A is read one element at a time, so its layout never matters.
//!
//! Submodules: `external` (the host GEMM and the policy), `avx512` (its kernel where the
//! CPU has AVX-512), `avx512_dots` (its dot products for few rows or few outputs), `dots`
//! (few rows of A times a transposed B, as dot products in place), `small` (a compact
//! kernel for the rare small batch), `ir` (loops and addresses).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4, I8, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value};
use cranelift_frontend::FunctionBuilder;

use super::jit::CodegenError;

#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod avx512_dots;
mod dots;
mod external;
mod ir;
mod small;

pub use dots::{Weights, emit_row_dots};
pub use external::*;

/// Whether dlc's AVX-512 host code runs: the CPU has AVX-512F and
/// `DLC_GEMM=portable` does not turn it off.
pub fn avx512_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return avx512::available();
    #[cfg(not(target_arch = "x86_64"))]
    false
}
use ir::*;
pub use small::{emit_small_gemm, small_supports};

/// Rows of C per register tile (6 measured slower, see the module docs).
const TILE_ROWS: usize = 4;
/// Columns of C per register tile (two f32x4 vectors).
const TILE_COLS: usize = 8;
/// Rows of B per block, so a packed panel (256 x 8 floats, 8 KiB) stays in L1.
const K_BLOCK: usize = 256;
const FLOAT_BYTES: i64 = 4;

/// One product `C (=|+=) op(A) op(B)` with `op(A)` of size `m x k`, `op(B)` of `k x n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GemmSpec {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// A is stored as its transpose, a row-major `k x m` matrix.
    pub a_transposed: bool,
    /// B is stored as its transpose, a row-major `n x k` matrix.
    pub b_transposed: bool,
    /// Add the product to C instead of overwriting C.
    pub accumulate: bool,
}

/// Element strides `(row, column)` of the three operands and checked sizes.
struct Layout {
    spec: GemmSpec,
    a: (i64, i64),
    b: (i64, i64),
    n: i64,
}

impl GemmSpec {
    /// Strides of op(A), op(B) and C; fails if any operand cannot be addressed.
    fn layout(&self) -> Result<Layout, CodegenError> {
        let size = |rows: usize, cols: usize, name: &str| -> Result<(), CodegenError> {
            rows.checked_mul(cols)
                .and_then(|count| count.checked_mul(FLOAT_BYTES as usize))
                .filter(|bytes| *bytes <= i32::MAX as usize)
                .map(|_| ())
                .ok_or_else(|| {
                    CodegenError::InvalidShape(format!(
                        "matrix {name} of {rows} x {cols} floats exceeds the 2 GiB a kernel can address; split the product"
                    ))
                })
        };
        size(self.m, self.k, "A")?;
        size(self.k, self.n, "B")?;
        size(self.m, self.n, "C")?;
        // Every size fits in an i32 now, so the conversions below are lossless.
        let (m, n, k) = (self.m as i64, self.n as i64, self.k as i64);
        Ok(Layout {
            spec: *self,
            a: if self.a_transposed { (1, m) } else { (k, 1) },
            b: if self.b_transposed { (1, k) } else { (n, 1) },
            n,
        })
    }

    /// `(rsa, csa, rsb, csb, rsc, csc)` in elements, as [`dlc_sgemm`] expects them.
    pub fn strides(&self) -> Result<[i64; 6], CodegenError> {
        let layout = self.layout()?;
        Ok([layout.a.0, layout.a.1, layout.b.0, layout.b.1, layout.n, 1])
    }
}

/// Sizes known only when the generated code runs (the batch size), each at
/// most the matching size of the [`GemmSpec`], which fixes the layout.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuntimeSizes {
    /// Rows of C (an I64 value); needs A stored untransposed.
    pub m: Option<Value>,
    /// The inner size (an I64 value); needs A stored transposed and B not.
    pub k: Option<Value>,
}

/// Emits the inline product `spec` on pointers `a`, `b`, `c` (values of type I64). The
/// builder must be in an open block; on return it is in an open block after the loop nest.
pub fn emit_gemm(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    a: Value,
    b: Value,
    c: Value,
) -> Result<(), CodegenError> {
    emit_gemm_sized(builder, spec, RuntimeSizes::default(), a, b, c)
}

/// Whether the inline kernel can take these runtime sizes: the strides it
/// reads must not depend on them.
pub fn inline_supports(spec: &GemmSpec, runtime: RuntimeSizes) -> bool {
    (runtime.m.is_none() || !spec.a_transposed)
        && (runtime.k.is_none() || (spec.a_transposed && !spec.b_transposed))
}

/// [`emit_gemm`] with some sizes given at run time (see [`RuntimeSizes`]).
pub fn emit_gemm_sized(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    runtime: RuntimeSizes,
    a: Value,
    b: Value,
    c: Value,
) -> Result<(), CodegenError> {
    let layout = spec.layout()?;
    if !inline_supports(spec, runtime) {
        return Err(CodegenError::InvalidShape(format!(
            "the inline GEMM cannot take a runtime size for this layout ({spec:?})"
        )));
    }
    if spec.m == 0 || spec.n == 0 {
        return Ok(());
    }
    if spec.k == 0 {
        if !spec.accumulate {
            emit_zero_c(builder, spec, runtime, c)?;
        }
        return Ok(());
    }
    if let (Some(k), false) = (runtime.k, spec.accumulate) {
        // An empty runtime inner size still defines C: all zeros.
        let empty = builder.ins().icmp_imm_s(IntCC::Equal, k, 0);
        let zero_block = builder.create_block();
        let done = builder.create_block();
        builder.ins().brif(empty, zero_block, &[], done, &[]);
        builder.switch_to_block(zero_block);
        emit_zero_c(builder, spec, runtime, c)?;
        builder.ins().jump(done, &[]);
        builder.switch_to_block(done);
    }
    let full_panels = spec.n / TILE_COLS;
    let edge_cols = spec.n % TILE_COLS;
    // Packing makes each panel block contiguous: read in place, rows of B that are a power
    // of two apart fall into few cache sets and evict each other between row tiles.
    let reused = spec.m > TILE_ROWS;
    let pack_full = spec.b_transposed || reused;
    let needs_pack = pack_full || edge_cols != 0;
    let pack = needs_pack.then(|| {
        let bytes = (K_BLOCK * TILE_COLS) as u32 * FLOAT_BYTES as u32;
        builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 6))
    });
    let pack_address = pack.map(|slot| builder.ins().stack_addr(I64, slot, 0));
    let panel_width = TILE_COLS as i64;
    emit_for(
        builder,
        0,
        full_panels as i64 * panel_width,
        panel_width,
        |builder, j0| {
            let buffer = if spec.b_transposed {
                pack_address
            } else {
                None
            };
            emit_panel(builder, &layout, runtime, [a, b, c], j0, TILE_COLS, buffer)
        },
    )?;
    if let (true, Some(buffer)) = (edge_cols != 0, pack_address) {
        let j0 = builder.ins().iconst(I64, (full_panels * TILE_COLS) as i64);
        emit_panel(
            builder,
            &layout,
            runtime,
            [a, b, c],
            j0,
            edge_cols,
            Some(buffer),
        )?;
    }
    Ok(())
}

/// Sets every element of C (its rows given at run time where `runtime.m` says) to zero.
fn emit_zero_c(
    builder: &mut FunctionBuilder,
    spec: &GemmSpec,
    runtime: RuntimeSizes,
    c: Value,
) -> Result<(), CodegenError> {
    let zero = builder.ins().f32const(0.0);
    let count = match runtime.m {
        Some(m) => builder.ins().imul_imm_s(m, spec.n as i64),
        None => builder.ins().iconst(I64, (spec.m * spec.n) as i64),
    };
    emit_for_dynamic(builder, count, 1, |builder, index| {
        let address = element_address(builder, c, index, 1);
        builder
            .ins()
            .store(MemFlagsData::trusted(), zero, address, 0);
        Ok(())
    })
}

/// Columns `j0 .. j0 + cols` of C, over all of k and m. With `buffer`, each block of the B
/// panel is copied there first (zero-padded to 8 columns); without, B is read in place.
fn emit_panel(
    builder: &mut FunctionBuilder,
    layout: &Layout,
    runtime: RuntimeSizes,
    [a, b, c]: [Value; 3],
    j0: Value,
    cols: usize,
    buffer: Option<Value>,
) -> Result<(), CodegenError> {
    let spec = layout.spec;
    let k_total = match runtime.k {
        Some(k) => k,
        None => builder.ins().iconst(I64, spec.k as i64),
    };
    let k_blocks = |builder: &mut FunctionBuilder,
                    body: &mut dyn FnMut(
        &mut FunctionBuilder,
        Value,
    ) -> Result<(), CodegenError>| match runtime.k {
        Some(k) => emit_for_dynamic(builder, k, K_BLOCK as i64, body),
        None => emit_for(builder, 0, spec.k as i64, K_BLOCK as i64, body),
    };
    k_blocks(builder, &mut |builder, kb| {
        // kc = min(K_BLOCK, k - kb)
        let left = builder.ins().isub(k_total, kb);
        let block = builder.ins().iconst(I64, K_BLOCK as i64);
        let kc = builder.ins().smin(left, block);
        let b_row = builder.ins().imul_imm_s(kb, layout.b.0 * FLOAT_BYTES);
        let b_col = builder.ins().imul_imm_s(j0, layout.b.1 * FLOAT_BYTES);
        let b_block = builder.ins().iadd(b, b_row);
        let b_block = builder.ins().iadd(b_block, b_col);
        let (y, y_row_bytes) = match buffer {
            Some(buffer) => {
                emit_pack(builder, layout, b_block, kc, cols, buffer)?;
                (buffer, TILE_COLS as i64 * FLOAT_BYTES)
            }
            None => (b_block, layout.b.0 * FLOAT_BYTES),
        };
        // Only the first block of a plain product overwrites C.
        let load_c = if spec.accumulate {
            builder.ins().iconst(I8, 1)
        } else {
            builder.ins().icmp_imm_s(IntCC::NotEqual, kb, 0)
        };
        let a_col = builder.ins().imul_imm_s(kb, layout.a.1 * FLOAT_BYTES);
        let a_block = builder.ins().iadd(a, a_col);
        let c_panel = element_address(builder, c, j0, 1);
        let tile = |builder: &mut FunctionBuilder, i0: Value, rows: usize| {
            let a_tile = builder.ins().imul_imm_s(i0, layout.a.0 * FLOAT_BYTES);
            let a_tile = builder.ins().iadd(a_block, a_tile);
            let c_tile = element_address(builder, c_panel, i0, layout.n);
            let operands = TileOperands {
                a_tile,
                y,
                y_row_bytes,
                kc,
                c_tile,
                load_c,
            };
            emit_tile(builder, layout, &operands, rows, cols)
        };
        let Some(m) = runtime.m else {
            let full_rows = (spec.m / TILE_ROWS * TILE_ROWS) as i64;
            emit_for(builder, 0, full_rows, TILE_ROWS as i64, |builder, i0| {
                tile(builder, i0, TILE_ROWS)
            })?;
            if !spec.m.is_multiple_of(TILE_ROWS) {
                let i0 = builder.ins().iconst(I64, full_rows);
                tile(builder, i0, spec.m % TILE_ROWS)?;
            }
            return Ok(());
        };
        // Runtime rows: whole tiles in a loop, then one of the three edge tiles.
        let full_rows = builder.ins().band_imm_s(m, -(TILE_ROWS as i64));
        emit_for_dynamic(builder, full_rows, TILE_ROWS as i64, |builder, i0| {
            tile(builder, i0, TILE_ROWS)
        })?;
        let rest = builder.ins().band_imm_s(m, TILE_ROWS as i64 - 1);
        for rows in 1..TILE_ROWS {
            let is = builder.ins().icmp_imm_s(IntCC::Equal, rest, rows as i64);
            let edge = builder.create_block();
            let next = builder.create_block();
            builder.ins().brif(is, edge, &[], next, &[]);
            builder.switch_to_block(edge);
            tile(builder, full_rows, rows)?;
            builder.ins().jump(next, &[]);
            builder.switch_to_block(next);
        }
        Ok(())
    })
}

/// Copies `kc` rows of `cols` B columns (starting at `source`) into 8-float rows of
/// `buffer`, filling the unused columns with zeros.
fn emit_pack(
    builder: &mut FunctionBuilder,
    layout: &Layout,
    source: Value,
    kc: Value,
    cols: usize,
    buffer: Value,
) -> Result<(), CodegenError> {
    let zero = builder.ins().f32const(0.0);
    let end = builder.ins().imul_imm_s(kc, layout.b.0 * FLOAT_BYTES);
    let end = builder.ins().iadd(source, end);
    let row_step = layout.b.0 * FLOAT_BYTES;
    let params = [source, buffer];
    emit_while_ne(builder, &params, end, |builder, values| {
        let (from, to) = (values[0], values[1]);
        for col in 0..TILE_COLS {
            let value = if col < cols {
                let offset = col as i64 * layout.b.1 * FLOAT_BYTES;
                load(builder, F32, from, offset)
            } else {
                zero
            };
            let offset = col as i32 * FLOAT_BYTES as i32;
            builder
                .ins()
                .store(MemFlagsData::trusted(), value, to, offset);
        }
        let next_from = builder.ins().iadd_imm_s(from, row_step);
        let next_to = builder.ins().iadd_imm_s(to, TILE_COLS as i64 * FLOAT_BYTES);
        Ok((vec![next_from, next_to], next_from))
    })?;
    Ok(())
}

/// Pointers and counts one register tile works on.
struct TileOperands {
    /// A at (i0, kb).
    a_tile: Value,
    /// Row kb of the B panel (in place or packed), column j0.
    y: Value,
    y_row_bytes: i64,
    /// Number of k steps (at least 1).
    kc: Value,
    /// C at (i0, j0).
    c_tile: Value,
    /// Nonzero if C already holds partial sums to add to.
    load_c: Value,
}

/// A `rows x cols` block of C (rows <= 6, cols <= 8) over one k block.
fn emit_tile(
    builder: &mut FunctionBuilder,
    layout: &Layout,
    ops: &TileOperands,
    rows: usize,
    cols: usize,
) -> Result<(), CodegenError> {
    let vectors = cols.div_ceil(4);
    let row_bytes = layout.n * FLOAT_BYTES;
    let lanes = |v: usize| (cols - 4 * v).min(4);

    // Start from the current C (partial sums) or from zero.
    let start = builder.create_block();
    let from_c = builder.create_block();
    let from_zero = builder.create_block();
    for _ in 0..rows * vectors {
        builder.append_block_param(start, F32X4);
    }
    builder.ins().brif(ops.load_c, from_c, &[], from_zero, &[]);
    builder.switch_to_block(from_c);
    let mut initial = Vec::with_capacity(rows * vectors);
    for r in 0..rows {
        for v in 0..vectors {
            let offset = r as i64 * row_bytes + v as i64 * 16;
            initial.push(load_lanes(builder, ops.c_tile, offset, lanes(v)));
        }
    }
    jump(builder, start, &initial);
    builder.switch_to_block(from_zero);
    let zero = builder.ins().f32const(0.0);
    let zero = builder.ins().splat(F32X4, zero);
    jump(builder, start, &vec![zero; rows * vectors]);
    builder.switch_to_block(start);
    let mut accumulators = builder.block_params(start).to_vec();

    // The k loop: acc[r][v] += A[r][kk] * Y[kk][4v..4v+4].
    let a_step = layout.a.1 * FLOAT_BYTES;
    let a_end = builder.ins().imul_imm_s(ops.kc, a_step);
    let a_end = builder.ins().iadd(ops.a_tile, a_end);
    let mut params = vec![ops.a_tile, ops.y];
    params.extend_from_slice(&accumulators);
    let results = emit_while_ne(builder, &params, a_end, |builder, values| {
        let (a_ptr, y_ptr) = (values[0], values[1]);
        let y: Vec<Value> = (0..vectors)
            .map(|v| load(builder, F32X4, y_ptr, v as i64 * 16))
            .collect();
        let mut next = Vec::with_capacity(values.len());
        let next_a = builder.ins().iadd_imm_s(a_ptr, a_step);
        next.push(next_a);
        next.push(builder.ins().iadd_imm_s(y_ptr, ops.y_row_bytes));
        for r in 0..rows {
            let scalar = load(builder, F32, a_ptr, r as i64 * layout.a.0 * FLOAT_BYTES);
            let broadcast = builder.ins().splat(F32X4, scalar);
            for (v, y_vector) in y.iter().enumerate() {
                let acc = values[2 + r * vectors + v];
                next.push(builder.ins().fma(broadcast, *y_vector, acc));
            }
        }
        Ok((next, next_a))
    })?;
    accumulators.copy_from_slice(&results[2..]);

    for r in 0..rows {
        for v in 0..vectors {
            let offset = r as i64 * row_bytes + v as i64 * 16;
            let value = accumulators[r * vectors + v];
            store_lanes(builder, value, ops.c_tile, offset, lanes(v));
        }
    }
    Ok(())
}
