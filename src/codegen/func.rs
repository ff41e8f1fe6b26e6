//! The function being generated for one entry point: the builder, the values
//! loaded in the prologue (base pointers, batch size, dropout seed and step),
//! and the loops and address arithmetic every kernel emitter uses.

use super::abi::{
    BASES, FIRST_OFFSET, FLAGS_OFFSET, N_OFFSET, SEED_OFFSET, STEP_OFFSET, base_offset,
};
use super::jit::CodegenError;
use super::plan::{Base, Loc};
use crate::ir::{Dim, Shape};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4, I64};
use cranelift_codegen::ir::{BlockArg, FuncRef, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

pub type R<T = ()> = Result<T, CodegenError>;

pub const FLOAT: i64 = 4;

/// How matrix products are compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GemmPolicy {
    /// The inline kernel or the external GEMM, by size (see `gemm::use_external_gemm`).
    #[default]
    Measured,
    /// Always the inline kernel (where its layout allows; else the external GEMM).
    Inline,
    /// Always the external GEMM.
    External,
    /// Never the external GEMM (code for an object file, which carries no
    /// host routine): products the inline kernels cannot take are an error.
    SelfContained,
}

pub struct Fx<'a, 'f> {
    pub b: &'a mut FunctionBuilder<'f>,
    bases: Vec<(Base, Value)>,
    /// The batch size, I64.
    pub n: Value,
    pub seed: Value,
    pub step: Value,
    /// The call's first sample in its step's batch (I64).
    pub first: Value,
    /// Where the call raises its non-finite flag.
    pub flags: Value,
    /// The external GEMM, when declared.
    pub gemm: Option<FuncRef>,
    /// `host_tanh::dlc_tanh_in_place`, when the host runs it (AVX-512).
    pub host_tanh: Option<FuncRef>,
    /// `host_dropout::dlc_dropout_mask`, when the host runs it (AVX-512).
    pub host_dropout: Option<FuncRef>,
    /// `distributed::active::dlc_cross_sum` (JIT code only).
    pub host_cross_sum: Option<FuncRef>,
    /// `host_pool::dlc_pool2x2` and `dlc_pool2x2_grad`, when the host runs them (AVX-512).
    pub host_pool: Option<[FuncRef; 2]>,
    /// `host_im2col::dlc_im2col` and `dlc_col2im`, when the host runs them (AVX-512).
    pub host_im2col: Option<[FuncRef; 2]>,
    pub policy: GemmPolicy,
    pub max_batch: usize,
    /// Floats of planned scratch; the conv workspace starts after them.
    pub scratch_len: usize,
    /// In a slice (see `slice.rs`): the byte offsets of the band's rows in the
    /// locations that move with it.
    shifts: Vec<(Loc, Value)>,
    /// In a slice: the byte offset of the band's own conv workspace.
    workspace_shift: Option<Value>,
}

impl<'a, 'f> Fx<'a, 'f> {
    /// Loads the context's fields in the current block.
    pub fn prologue(
        b: &'a mut FunctionBuilder<'f>,
        ctx: Value,
        gemm: Option<FuncRef>,
        policy: GemmPolicy,
        max_batch: usize,
        scratch_len: usize,
    ) -> Self {
        let flags = MemFlagsData::trusted().with_readonly();
        let bases = BASES
            .iter()
            .map(|&base| (base, b.ins().load(I64, flags, ctx, base_offset(base))))
            .collect();
        let n = b.ins().load(I64, flags, ctx, N_OFFSET);
        let seed = b.ins().load(I64, flags, ctx, SEED_OFFSET);
        let step = b.ins().load(I64, flags, ctx, STEP_OFFSET);
        let first = b.ins().load(I64, flags, ctx, FIRST_OFFSET);
        let flag_word = b.ins().load(I64, flags, ctx, FLAGS_OFFSET);
        Fx {
            b,
            bases,
            n,
            seed,
            step,
            first,
            flags: flag_word,
            gemm,
            host_tanh: None,
            host_dropout: None,
            host_cross_sum: None,
            host_pool: None,
            host_im2col: None,
            policy,
            max_batch,
            scratch_len,
            shifts: Vec::new(),
            workspace_shift: None,
        }
    }

    /// Makes the function compute rows `[lo, hi)` (I64 values) of a sliced
    /// kernel: the batch is the band, the `rows` locations (floats per row)
    /// start at row `lo`, the `per_band` location (floats per band) at band
    /// number `band`, and the conv workspace is number `slot` of `workspace`
    /// floats each.
    pub fn enter_band(
        &mut self,
        [lo, hi, band, slot]: [Value; 4],
        rows: &[(Loc, usize)],
        per_band: Option<(Loc, usize)>,
        workspace: usize,
    ) -> R {
        self.n = self.b.ins().isub(hi, lo);
        for &(loc, per_row) in rows {
            let shift = self.b.ins().imul_imm_s(lo, bytes(per_row)?);
            self.shifts.push((loc, shift));
        }
        if let Some((loc, len)) = per_band {
            let shift = self.b.ins().imul_imm_s(band, bytes(len)?);
            self.shifts.push((loc, shift));
        }
        self.workspace_shift = Some(self.b.ins().imul_imm_s(slot, bytes(workspace)?));
        Ok(())
    }

    /// Whether the function computes a band of a sliced kernel.
    pub fn in_band(&self) -> bool {
        self.workspace_shift.is_some()
    }

    pub fn base(&self, base: Base) -> Value {
        // Every base is loaded by the prologue.
        self.bases
            .iter()
            .find(|(b, _)| *b == base)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| unreachable!())
    }

    pub fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(I64, v)
    }

    /// Address of a location (offset in floats).
    pub fn ptr(&mut self, loc: Loc) -> R<Value> {
        let base = self.base(loc.base);
        let bytes = bytes(loc.offset)?;
        let at = if bytes == 0 {
            base
        } else {
            self.b.ins().iadd_imm_s(base, bytes)
        };
        Ok(match self.shifts.iter().find(|(l, _)| *l == loc) {
            Some(&(_, shift)) => self.b.ins().iadd(at, shift),
            None => at,
        })
    }

    /// The conv workspace (after the planned scratch; a slice has its own).
    pub fn workspace(&mut self) -> R<Value> {
        let base = self.base(Base::Scratch);
        let at = self.b.ins().iadd_imm_s(base, bytes(self.scratch_len)?);
        Ok(match self.workspace_shift {
            Some(shift) => self.b.ins().iadd(at, shift),
            None => at,
        })
    }

    /// `ptr + index * scale` floats, for an I64 `index`.
    pub fn offset(&mut self, ptr: Value, index: Value, scale: i64) -> Value {
        let bytes = self.b.ins().imul_imm_s(index, scale * FLOAT);
        self.b.ins().iadd(ptr, bytes)
    }

    /// A size as a value: `n` for the batch axis.
    pub fn dim(&mut self, d: Dim) -> Value {
        match d {
            Dim::N => self.n,
            Dim::K(k) => self.iconst(k as i64),
        }
    }

    /// `n * k` when `batched`, else `k`.
    pub fn extent(&mut self, batched: bool, k: usize) -> Value {
        if batched {
            self.b.ins().imul_imm_s(self.n, k as i64)
        } else {
            self.iconst(k as i64)
        }
    }

    /// Elements of `shape` at the runtime batch.
    pub fn numel(&mut self, shape: &Shape) -> R<Value> {
        let fixed = fixed_numel(shape)?;
        Ok(self.extent(shape.is_batched(), fixed))
    }

    pub fn load(&mut self, ty: cranelift_codegen::ir::Type, addr: Value, offset: i32) -> Value {
        self.b.ins().load(ty, MemFlagsData::trusted(), addr, offset)
    }

    pub fn store(&mut self, v: Value, addr: Value, offset: i32) {
        self.b.ins().store(MemFlagsData::trusted(), v, addr, offset);
    }

    /// `for i in (start..end).step_by(step)`, guarded (no iteration if empty).
    pub fn for_range(
        &mut self,
        start: Value,
        end: Value,
        step: i64,
        body: impl FnOnce(&mut Self, Value) -> R,
    ) -> R {
        self.for_carry(start, end, step, &[], |fx, i, _| {
            body(fx, i)?;
            Ok(vec![])
        })?;
        Ok(())
    }

    /// A guarded loop carrying `init` through its iterations; returns the final values.
    pub fn for_carry(
        &mut self,
        start: Value,
        end: Value,
        step: i64,
        init: &[Value],
        body: impl FnOnce(&mut Self, Value, &[Value]) -> R<Vec<Value>>,
    ) -> R<Vec<Value>> {
        let header = self.b.create_block();
        let inside = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(header, I64);
        for v in init {
            let ty = self.b.func.dfg.value_type(*v);
            self.b.append_block_param(header, ty);
            self.b.append_block_param(exit, ty);
        }
        let mut args = vec![start];
        args.extend_from_slice(init);
        self.jump(header, &args);
        self.b.switch_to_block(header);
        let params = self.b.block_params(header).to_vec();
        let more = self.b.ins().icmp(IntCC::SignedLessThan, params[0], end);
        let carried: Vec<BlockArg> = params[1..].iter().map(|v| (*v).into()).collect();
        self.b.ins().brif(more, inside, &[], exit, &carried);
        self.b.switch_to_block(inside);
        let next = body(self, params[0], &params[1..])?;
        let i_next = self.b.ins().iadd_imm_s(params[0], step);
        let mut args = vec![i_next];
        args.extend(next);
        self.jump(header, &args);
        self.b.switch_to_block(exit);
        Ok(self.b.block_params(exit).to_vec())
    }

    pub fn jump(&mut self, block: cranelift_codegen::ir::Block, args: &[Value]) {
        let args: Vec<BlockArg> = args.iter().map(|v| (*v).into()).collect();
        self.b.ins().jump(block, &args);
    }

    /// Runs `body` only when `cond` (an I8 flag) is set.
    pub fn when(&mut self, cond: Value, body: impl FnOnce(&mut Self) -> R) -> R {
        let then = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(cond, then, &[], done, &[]);
        self.b.switch_to_block(then);
        body(self)?;
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        Ok(())
    }

    /// Stores `value` (f32) into `count` consecutive floats at `dst`.
    pub fn fill(&mut self, dst: Value, count: Value, value: f32) -> R {
        let scalar = self.b.ins().f32const(value);
        let vector = self.b.ins().splat(F32X4, scalar);
        let vec_end = self.b.ins().band_imm_s(count, !3i64);
        let zero = self.iconst(0);
        self.for_range(zero, vec_end, 4, |fx, i| {
            let at = fx.offset(dst, i, 1);
            fx.store(vector, at, 0);
            Ok(())
        })?;
        self.for_range(vec_end, count, 1, |fx, i| {
            let at = fx.offset(dst, i, 1);
            fx.store(scalar, at, 0);
            Ok(())
        })
    }

    /// Copies `count` floats from `src` to `dst` (the ranges must not overlap).
    pub fn copy(&mut self, dst: Value, src: Value, count: Value) -> R {
        let vec_end = self.b.ins().band_imm_s(count, !3i64);
        let zero = self.iconst(0);
        self.for_range(zero, vec_end, 4, |fx, i| {
            let from = fx.offset(src, i, 1);
            let v = fx.load(F32X4, from, 0);
            let to = fx.offset(dst, i, 1);
            fx.store(v, to, 0);
            Ok(())
        })?;
        self.for_range(vec_end, count, 1, |fx, i| {
            let from = fx.offset(src, i, 1);
            let v = fx.load(F32, from, 0);
            let to = fx.offset(dst, i, 1);
            fx.store(v, to, 0);
            Ok(())
        })
    }
}

/// `floats * 4` as a checked byte count.
pub fn bytes(floats: usize) -> R<i64> {
    (floats as u64)
        .checked_mul(FLOAT as u64)
        .and_then(|b| i64::try_from(b).ok())
        .ok_or_else(|| {
            CodegenError::InvalidShape(format!("offset of {floats} floats is too large"))
        })
}

/// The product of a shape's fixed sizes (the batch axis counts 1), checked.
pub fn fixed_numel(shape: &Shape) -> R<usize> {
    shape
        .0
        .iter()
        .try_fold(1usize, |acc, d| match d {
            Dim::N => Some(acc),
            Dim::K(k) => acc.checked_mul(*k),
        })
        .ok_or_else(|| CodegenError::InvalidShape(format!("{shape} has too many elements")))
}

/// A fixed size, or an error naming what needed it.
pub fn fixed(d: Dim, what: &str) -> R<usize> {
    match d {
        Dim::K(k) => Ok(k),
        Dim::N => Err(CodegenError::InvalidShape(format!(
            "{what} cannot be the batch size"
        ))),
    }
}
