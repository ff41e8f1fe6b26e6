//! The non-finite guard on writes to parameters and state.
//!
//! A training step that produces Inf or NaN must not leave it in the
//! weights, the running statistics or the optimizer moments: everything
//! after it would be poisoned, checkpoints included. So every store to the
//! `Params` or `States` base keeps the old value of an element whose new
//! value is not finite, and raises the call's flag (`CallCtx::flags`). The
//! test is `v - v == v - v` (false for Inf and NaN), carried through each
//! loop as a lane mask and folded into the flag once per loop: a few
//! instructions per four elements, and no second pass over the buffers.

use super::func::Fx;
use super::plan::{Base, Loc};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::types::{F32, F32X4, I8, I32, I32X4};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};

/// Whether stores to `loc` are guarded.
pub fn guarded(loc: Loc) -> bool {
    matches!(loc.base, Base::Params | Base::States)
}

/// The accumulator a loop starts with: every lane finite so far.
pub fn all_finite(fx: &mut Fx, vector: bool) -> Value {
    if vector {
        let ones = fx.b.ins().iconst(I32, -1);
        fx.b.ins().splat(I32X4, ones)
    } else {
        fx.b.ins().iconst(I8, 1)
    }
}

/// Stores `v` at `at` where it is finite (the old value stays elsewhere) and
/// returns `acc` narrowed by this store's finite lanes.
pub fn store(fx: &mut Fx, v: Value, at: Value, acc: Value) -> Value {
    let vector = fx.b.func.dfg.value_type(v) == F32X4;
    let d = fx.b.ins().fsub(v, v);
    let finite = fx.b.ins().fcmp(FloatCC::Ordered, d, d);
    let old = fx.load(fx.b.func.dfg.value_type(v), at, 0);
    let kept = if vector {
        let mask = fx.b.ins().bitcast(F32X4, MemFlagsData::new(), finite);
        fx.b.ins().bitselect(mask, v, old)
    } else {
        fx.b.ins().select(finite, v, old)
    };
    fx.store(kept, at, 0);
    fx.b.ins().band(acc, finite)
}

/// Raises the call's flag unless every lane of `acc` stayed finite.
pub fn raise_unless(fx: &mut Fx, acc: Value) {
    let vector = fx.b.func.dfg.value_type(acc) == I32X4;
    let ok = if vector {
        fx.b.ins().vall_true(acc)
    } else {
        acc
    };
    let bad = fx.b.ins().bxor_imm_s(ok, 1);
    let bad = fx.b.ins().uextend(I32, bad);
    let old = fx.load(I32, fx.flags, 0);
    let raised = fx.b.ins().bor(old, bad);
    fx.store(raised, fx.flags, 0);
}

/// Copies `count` floats from `src` to `dst` through the guard.
pub fn copy(fx: &mut Fx, dst: Value, src: Value, count: Value) -> super::func::R {
    let vec_end = fx.b.ins().band_imm_s(count, !3i64);
    let zero = fx.iconst(0);
    for (from, to, step, ty) in [(zero, vec_end, 4, F32X4), (vec_end, count, 1, F32)] {
        let init = all_finite(fx, ty == F32X4);
        let acc = fx.for_carry(from, to, step, &[init], |fx, i, acc| {
            let at = fx.offset(src, i, 1);
            let v = fx.load(ty, at, 0);
            let at = fx.offset(dst, i, 1);
            Ok(vec![store(fx, v, at, acc[0])])
        })?;
        raise_unless(fx, acc[0]);
    }
    Ok(())
}
