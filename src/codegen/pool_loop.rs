//! Pooling over windows too large to unroll: the window is a loop nest over
//! its rows and columns, so the code has the same size whatever the window
//! (a 1000x1000 window unrolled is millions of instructions, more than the
//! register allocator can take).
//!
//! The loops visit only the part of the window inside the image, in window
//! order, as the interpreter does. That is what the unrolled kernels of
//! `pool` compute too, bit for bit: a padded position is never a maximum,
//! and the zero they add for it to an average leaves the sum as it is (a sum
//! that starts at +0 is never -0).

use super::func::{Fx, R};
use super::pool::Window;
use crate::ir::PoolKind;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, I8};
use cranelift_codegen::ir::{InstBuilder, Value};

/// Window positions up to which the kernels of `pool` unroll the window (a
/// 4x4 window; 2x2 and 3x3 are the usual ones); past it, this module's loops.
const UNROLLED_POSITIONS: usize = 16;

/// Whether the window is small enough to unroll.
pub fn unrolled(p: &Window) -> bool {
    p.window[0].saturating_mul(p.window[1]) <= UNROLLED_POSITIONS
}

/// What the visit of one window position receives: its index in the plane
/// and the values carried from the previous position; it returns theirs.
type Visit<'v> = dyn FnMut(&mut Fx, Value, &[Value]) -> R<Vec<Value>> + 'v;

/// Visits the positions of the window at (oy, ox) that are inside the image,
/// row by row, carrying `init` through them; returns the final values.
fn each_position(
    fx: &mut Fx,
    p: &Window,
    [oy, ox]: [Value; 2],
    init: &[Value],
    visit: &mut Visit,
) -> R<Vec<Value>> {
    let [(y_lo, y_hi), (x_lo, x_hi)] = [(0, oy, p.h), (1, ox, p.w)].map(|(axis, o, size)| {
        let first = fx.b.ins().imul_imm_s(o, p.stride[axis] as i64);
        let first = fx.b.ins().iadd_imm_s(first, -(p.pad[axis] as i64));
        let end = fx.b.ins().iadd_imm_s(first, p.window[axis] as i64);
        let zero = fx.iconst(0);
        let size = fx.iconst(size as i64);
        (fx.b.ins().smax(first, zero), fx.b.ins().smin(end, size))
    });
    fx.for_carry(y_lo, y_hi, 1, init, |fx, iy, carried| {
        let line = fx.b.ins().imul_imm_s(iy, p.w as i64);
        fx.for_carry(x_lo, x_hi, 1, carried, |fx, ix, carried| {
            let at = fx.b.ins().iadd(line, ix);
            visit(fx, at, carried)
        })
    })
}

/// One output of the pooling: `y[o]` from the window at (oy, ox) of `input`.
pub fn pool_output(
    fx: &mut Fx,
    kind: PoolKind,
    p: &Window,
    [input, py]: [Value; 2],
    o: Value,
    at: [Value; 2],
) -> R {
    let start = match kind {
        PoolKind::Max => f32::NEG_INFINITY,
        PoolKind::Avg => 0.0,
    };
    let start = fx.b.ins().f32const(start);
    let done = each_position(fx, p, at, &[start], &mut |fx, at, carried| {
        let from = fx.offset(input, at, 1);
        let v = fx.load(F32, from, 0);
        let acc = carried[0];
        Ok(vec![match kind {
            PoolKind::Max => {
                let better = fx.b.ins().fcmp(FloatCC::GreaterThan, v, acc);
                fx.b.ins().select(better, v, acc)
            }
            PoolKind::Avg => fx.b.ins().fadd(acc, v),
        }])
    })?;
    let result = match kind {
        PoolKind::Max => done[0],
        PoolKind::Avg => {
            let area = fx.b.ins().f32const((p.window[0] * p.window[1]) as f32);
            fx.b.ins().fdiv(done[0], area)
        }
    };
    let to = fx.offset(py, o, 1);
    fx.store(result, to, 0);
    Ok(())
}

/// The gradient `g` of the output whose window is at (oy, ox), added to the
/// inputs it came from: `input` is the input plane, `grad_plane` the same
/// plane of the gradient.
pub fn pool_grad_output(
    fx: &mut Fx,
    kind: PoolKind,
    p: &Window,
    [input, grad_plane, g]: [Value; 3],
    at: [Value; 2],
) -> R {
    match kind {
        PoolKind::Avg => {
            let area = fx.b.ins().f32const((p.window[0] * p.window[1]) as f32);
            let share = fx.b.ins().fdiv(g, area);
            each_position(fx, p, at, &[], &mut |fx, at, _| {
                let to = fx.offset(grad_plane, at, 1);
                let old = fx.load(F32, to, 0);
                let new = fx.b.ins().fadd(old, share);
                fx.store(new, to, 0);
                Ok(vec![])
            })?;
        }
        PoolKind::Max => {
            // (seen a position, best value, its index): the first position
            // wins whatever its value, a later one only when greater.
            let init = [
                fx.b.ins().iconst(I8, 0),
                fx.b.ins().f32const(0.0),
                fx.iconst(0),
            ];
            let done = each_position(fx, p, at, &init, &mut |fx, at, carried| {
                let [have, best, best_at] = [carried[0], carried[1], carried[2]];
                let from = fx.offset(input, at, 1);
                let v = fx.load(F32, from, 0);
                let better = fx.b.ins().fcmp(FloatCC::GreaterThan, v, best);
                let first = fx.b.ins().icmp_imm_s(IntCC::Equal, have, 0);
                let take = fx.b.ins().bor(first, better);
                let best = fx.b.ins().select(take, v, best);
                let best_at = fx.b.ins().select(take, at, best_at);
                let have = fx.b.ins().iconst(I8, 1);
                Ok(vec![have, best, best_at])
            })?;
            let [have, best_at] = [done[0], done[2]];
            super::pool::add_to_maximum(fx, have, grad_plane, best_at, g)?;
        }
    }
    Ok(())
}
