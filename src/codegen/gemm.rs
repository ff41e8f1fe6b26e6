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

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4, I8, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, FuncRef, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;

use super::jit::CodegenError;

/// The name under which [`dlc_sgemm`] must be registered with the JIT.
pub const EXTERNAL_GEMM_SYMBOL: &str = "dlc_sgemm";

/// Rows of C per register tile (6 measured slower, see the module docs).
const TILE_ROWS: usize = 4;
/// Columns of C per register tile (two f32x4 vectors).
const TILE_COLS: usize = 8;
/// Rows of B per block, so a packed panel (256 x 8 floats, 8 KiB) stays in L1.
const K_BLOCK: usize = 256;
const FLOAT_BYTES: i64 = 4;

/// Computes `C = alpha * A * B + beta * C` for row-major data with arbitrary strides.
///
/// `A` is `m x k`, `B` is `k x n`, `C` is `m x n`; element `(i, j)` of a matrix `X` lives at
/// `x + i * rsx + j * csx` (strides in elements). When `beta == 0`, C is only written.
///
/// # Safety
/// Every element addressed through the pointers, sizes and strides must be valid, `c`
/// writable, and C must not overlap A or B. Distinct `(i, j)` of C must address distinct
/// elements (no zero strides when the matching size exceeds one).
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dlc_sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    // SAFETY: forwarded verbatim; the caller upholds the contract documented above, which
    // is the one `matrixmultiply::sgemm` requires (note its size order is m, k, n).
    unsafe {
        matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
    }
}

/// The host symbols the GEMM code calls, to pass to `Jit::new`.
pub fn gemm_symbols() -> Vec<(&'static str, *const u8)> {
    vec![(EXTERNAL_GEMM_SYMBOL, dlc_sgemm as *const u8)]
}

/// The Cranelift signature of [`dlc_sgemm`] for the given calling convention.
pub fn external_gemm_signature(call_conv: CallConv) -> Signature {
    let mut signature = Signature::new(call_conv);
    let types = [
        I64, I64, I64, F32, I64, I64, I64, I64, I64, I64, F32, I64, I64, I64,
    ];
    signature
        .params
        .extend(types.iter().map(|ty| AbiParam::new(*ty)));
    signature
}

/// Whether a product of these sizes (`op(A)` is `m x k`, `op(B)` is `k x n`) should go to
/// the external GEMM rather than the inline kernel.
///
/// Measured on the development machine, one thread, best of 200 short trials
/// (`measure_gflops` in the GEMM tests), GFLOP/s inline / external:
/// 1x64x64 9.9 / 4.7, 4x64x64 28.3 / 24.0, 4x256x256 28.1 / 20.9, 8x16x16 29.1 / 18.3,
/// 16x16x16 29.8 / 25.2, 8x32x32 29.8 / 38.0, 32x16x16 28.5 / 31.8, 32x64x64 30.4 / 64.8,
/// 128x256x128 29.7 / 76.9, 128x784x256 29.0 / 77.7 (m x k x n). The inline kernel runs
/// at about 30 GFLOP/s from tiny sizes on; the external one needs a few rows and columns to
/// amortise its packing and call, then reaches about 2.6 times that. With four rows or
/// fewer it never caught up.
pub fn use_external_gemm(m: usize, n: usize, k: usize) -> bool {
    let work = m.saturating_mul(n).saturating_mul(k);
    m >= 8 && n >= 16 && k >= 16 && work >= 8 * 32 * 32
}

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

/// Emits a call of the external GEMM (`gemm` must reference [`EXTERNAL_GEMM_SYMBOL`]
/// declared with [`external_gemm_signature`]) computing `spec` on pointers `a`, `b`, `c`.
pub fn emit_external_gemm_call(
    builder: &mut FunctionBuilder,
    gemm: FuncRef,
    spec: &GemmSpec,
    a: Value,
    b: Value,
    c: Value,
) -> Result<(), CodegenError> {
    let [rsa, csa, rsb, csb, rsc, csc] = spec.strides()?;
    let mut int = |value: i64| builder.ins().iconst(I64, value);
    let (m, n, k) = (int(spec.m as i64), int(spec.n as i64), int(spec.k as i64));
    let (rsa, csa, rsb, csb, rsc, csc) =
        (int(rsa), int(csa), int(rsb), int(csb), int(rsc), int(csc));
    let alpha = builder.ins().f32const(1.0);
    let beta = builder
        .ins()
        .f32const(if spec.accumulate { 1.0 } else { 0.0 });
    builder.ins().call(
        gemm,
        &[m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc],
    );
    Ok(())
}

/// Emits a call of the external GEMM on sizes given as I64 values (`[m, n, k]`), with
/// A, B and C stored row-major with rows of `row_lengths` floats (`A` as `k x m` when
/// transposed, `B` as `n x k` when transposed).
pub fn emit_external_gemm_call_sized(
    builder: &mut FunctionBuilder,
    gemm: FuncRef,
    [m, n, k]: [Value; 3],
    row_lengths: [usize; 3],
    (a_transposed, b_transposed, accumulate): (bool, bool, bool),
    [a, b, c]: [Value; 3],
) -> Result<(), CodegenError> {
    let row = |len: usize| -> Result<i64, CodegenError> {
        i64::try_from(len)
            .ok()
            .filter(|l| l.checked_mul(FLOAT_BYTES).is_some())
            .ok_or_else(|| CodegenError::InvalidShape(format!("rows of {len} floats")))
    };
    let [ra, rb, rc] = [
        row(row_lengths[0])?,
        row(row_lengths[1])?,
        row(row_lengths[2])?,
    ];
    let (rsa, csa) = if a_transposed { (1, ra) } else { (ra, 1) };
    let (rsb, csb) = if b_transposed { (1, rb) } else { (rb, 1) };
    let mut int = |value: i64| builder.ins().iconst(I64, value);
    let (rsa, csa, rsb, csb, rsc, csc) = (int(rsa), int(csa), int(rsb), int(csb), int(rc), int(1));
    let alpha = builder.ins().f32const(1.0);
    let beta = builder.ins().f32const(if accumulate { 1.0 } else { 0.0 });
    builder.ins().call(
        gemm,
        &[m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc],
    );
    Ok(())
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
            })?;
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
        })?;
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

fn jump(builder: &mut FunctionBuilder, target: Block, args: &[Value]) {
    let args: Vec<_> = args.iter().map(|value| (*value).into()).collect();
    builder.ins().jump(target, &args);
}

/// `base + index * stride * 4` for an I64 `index`.
fn element_address(builder: &mut FunctionBuilder, base: Value, index: Value, stride: i64) -> Value {
    let offset = builder.ins().imul_imm_s(index, stride * FLOAT_BYTES);
    builder.ins().iadd(base, offset)
}

/// Address `base + offset` as (pointer, immediate), folding the offset when it fits.
fn address(builder: &mut FunctionBuilder, base: Value, offset: i64) -> (Value, i32) {
    match i32::try_from(offset) {
        Ok(small) => (base, small),
        Err(_) => (builder.ins().iadd_imm_s(base, offset), 0),
    }
}

fn load(
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
fn load_lanes(builder: &mut FunctionBuilder, base: Value, offset: i64, lanes: usize) -> Value {
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
fn store_lanes(
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
fn emit_for<F>(
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
fn emit_for_dynamic<F>(
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
fn emit_while_ne<F>(
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
