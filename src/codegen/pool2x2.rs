//! The common pooling, a 2x2 window at stride 2 without padding, four
//! outputs at a time: two rows of eight inputs are loaded as four vectors
//! and split into the window's four positions (even and odd lanes of each
//! row), which are then combined lane by lane in window order, so the
//! results are bit for bit those of the general kernels in `pool`
//! (comparisons and selects, not `fmax`, whose NaN and signed-zero rules
//! differ). Outputs past the last group of four go through `tail`, the
//! general kernel's code for one output.

use super::func::{Fx, R};
use super::pool::Window;
use crate::ir::PoolKind;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::types::{F32X4, I8X16};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Value};

/// Whether the window is the one this module handles.
pub fn applies(p: &Window) -> bool {
    p.window == [2, 2] && p.stride == [2, 2] && p.pad == [0, 0]
}

/// Output columns handled four at a time.
fn vector_cols(p: &Window) -> usize {
    p.ow / 4 * 4
}

/// Bytes of the lanes `lanes` of the pair (a, b) (lanes 4.. are b's).
fn shuffle_lanes(fx: &mut Fx, a: Value, b: Value, lanes: [u8; 4]) -> Value {
    let flags = MemFlagsData::new().with_endianness(Endianness::Little);
    let (a, b) = (
        fx.b.ins().bitcast(I8X16, flags, a),
        fx.b.ins().bitcast(I8X16, flags, b),
    );
    let bytes: Vec<u8> = lanes
        .iter()
        .flat_map(|&l| (0..4).map(move |i| l * 4 + i))
        .collect();
    let mask = fx.b.func.dfg.immediates.push(ConstantData::from(bytes));
    let v = fx.b.ins().shuffle(a, b, mask);
    fx.b.ins().bitcast(F32X4, flags, v)
}

/// The window positions of four consecutive outputs, in window order:
/// (row 0, col 0), (0, 1), (1, 0), (1, 1).
fn positions(fx: &mut Fx, row0: Value, row1: Value) -> [Value; 4] {
    let [a0, a1, b0, b1] = [(row0, 0), (row0, 16), (row1, 0), (row1, 16)]
        .map(|(row, offset)| fx.load(F32X4, row, offset));
    [
        shuffle_lanes(fx, a0, a1, [0, 2, 4, 6]),
        shuffle_lanes(fx, a0, a1, [1, 3, 5, 7]),
        shuffle_lanes(fx, b0, b1, [0, 2, 4, 6]),
        shuffle_lanes(fx, b0, b1, [1, 3, 5, 7]),
    ]
}

/// Interleaves (even, odd) lanes back into eight consecutive floats.
fn interleave(fx: &mut Fx, even: Value, odd: Value) -> [Value; 2] {
    [
        shuffle_lanes(fx, even, odd, [0, 4, 1, 5]),
        shuffle_lanes(fx, even, odd, [2, 6, 3, 7]),
    ]
}

fn mask_of(fx: &mut Fx, cond: Value) -> Value {
    fx.b.ins().bitcast(F32X4, MemFlagsData::new(), cond)
}

/// Forward pooling of the vector groups of every row; `tail(fx,
/// input_plane, output_index, oy, ox)` computes one remaining output as the
/// general kernel does.
pub fn emit_forward(
    fx: &mut Fx,
    kind: PoolKind,
    p: &Window,
    planes: Value,
    [x, y]: [Value; 2],
    tail: &mut dyn FnMut(&mut Fx, Value, Value, Value, Value) -> R,
) -> R {
    let cols = vector_cols(p);
    let zero = fx.iconst(0);
    fx.for_range(zero, planes, 1, |fx, plane| {
        let input = fx.offset(x, plane, (p.h * p.w) as i64);
        let output = fx.offset(y, plane, (p.oh * p.ow) as i64);
        let (zero, oh) = (fx.iconst(0), fx.iconst(p.oh as i64));
        fx.for_range(zero, oh, 1, |fx, oy| {
            let [row0, row1] = input_rows(fx, p, input, oy);
            let out_row = fx.offset(output, oy, p.ow as i64);
            let (zero, end) = (fx.iconst(0), fx.iconst(cols as i64));
            fx.for_range(zero, end, 4, |fx, ox| {
                let r0 = fx.offset(row0, ox, 2);
                let r1 = fx.offset(row1, ox, 2);
                let values = positions(fx, r0, r1);
                let result = match kind {
                    PoolKind::Max => {
                        let minus_inf = fx.b.ins().f32const(f32::NEG_INFINITY);
                        let mut best = fx.b.ins().splat(F32X4, minus_inf);
                        for v in values {
                            let better = fx.b.ins().fcmp(FloatCC::GreaterThan, v, best);
                            let better = mask_of(fx, better);
                            best = fx.b.ins().bitselect(better, v, best);
                        }
                        best
                    }
                    PoolKind::Avg => {
                        let zero = fx.b.ins().f32const(0.0);
                        let mut sum = fx.b.ins().splat(F32X4, zero);
                        for v in values {
                            sum = fx.b.ins().fadd(sum, v);
                        }
                        let four = fx.b.ins().f32const(4.0);
                        let four = fx.b.ins().splat(F32X4, four);
                        fx.b.ins().fdiv(sum, four)
                    }
                };
                let to = fx.offset(out_row, ox, 1);
                fx.store(result, to, 0);
                Ok(())
            })?;
            tail_outputs(fx, p, [plane, input, oy], tail)
        })
    })
}

/// The outputs of row `oy` past the last group of four, one by one.
fn tail_outputs(
    fx: &mut Fx,
    p: &Window,
    [plane, input, oy]: [Value; 3],
    tail: &mut dyn FnMut(&mut Fx, Value, Value, Value, Value) -> R,
) -> R {
    let first = output_index(fx, p, plane, oy);
    for ox in vector_cols(p)..p.ow {
        let o = fx.b.ins().iadd_imm_s(first, ox as i64);
        let ox = fx.iconst(ox as i64);
        tail(fx, input, o, oy, ox)?;
    }
    Ok(())
}

/// The two rows of the plane `input` under output row `oy`.
fn input_rows(fx: &mut Fx, p: &Window, input: Value, oy: Value) -> [Value; 2] {
    let row0 = fx.offset(input, oy, 2 * p.w as i64);
    let row1 = fx.b.ins().iadd_imm_s(row0, (p.w * 4) as i64);
    [row0, row1]
}

/// Index of output `(plane, oy, 0)` among all outputs.
fn output_index(fx: &mut Fx, p: &Window, plane: Value, oy: Value) -> Value {
    let plane_first = fx.b.ins().imul_imm_s(plane, (p.oh * p.ow) as i64);
    let row_first = fx.b.ins().imul_imm_s(oy, p.ow as i64);
    fx.b.ins().iadd(plane_first, row_first)
}

/// Gradient of the vector groups: each input of a window gets its share,
/// stored (the windows do not overlap; `dx` was zeroed for the rest);
/// `tail(fx, input_plane, output_index, oy, ox)` handles one remaining
/// output as the general kernel does.
pub fn emit_backward(
    fx: &mut Fx,
    kind: PoolKind,
    p: &Window,
    planes: Value,
    [x, dy, dx]: [Value; 3],
    tail: &mut dyn FnMut(&mut Fx, Value, Value, Value, Value) -> R,
) -> R {
    let cols = vector_cols(p);
    let zero = fx.iconst(0);
    fx.for_range(zero, planes, 1, |fx, plane| {
        let input = fx.offset(x, plane, (p.h * p.w) as i64);
        let grad_in = fx.offset(dx, plane, (p.h * p.w) as i64);
        let grad_out = fx.offset(dy, plane, (p.oh * p.ow) as i64);
        let (zero, oh) = (fx.iconst(0), fx.iconst(p.oh as i64));
        fx.for_range(zero, oh, 1, |fx, oy| {
            let [row0, row1] = input_rows(fx, p, input, oy);
            let [g_row0, g_row1] = input_rows(fx, p, grad_in, oy);
            let dy_row = fx.offset(grad_out, oy, p.ow as i64);
            let (zero, end) = (fx.iconst(0), fx.iconst(cols as i64));
            fx.for_range(zero, end, 4, |fx, ox| {
                let from = fx.offset(dy_row, ox, 1);
                let g = fx.load(F32X4, from, 0);
                let shares = match kind {
                    PoolKind::Max => {
                        let r0 = fx.offset(row0, ox, 2);
                        let r1 = fx.offset(row1, ox, 2);
                        let [v0, v1, v2, v3] = positions(fx, r0, r1);
                        // The first maximum in window order wins: a later
                        // position takes over only when strictly greater.
                        let mut best = v0;
                        let mut takes = Vec::with_capacity(3);
                        for v in [v1, v2, v3] {
                            let t = fx.b.ins().fcmp(FloatCC::GreaterThan, v, best);
                            let t = mask_of(fx, t);
                            best = fx.b.ins().bitselect(t, v, best);
                            takes.push(t);
                        }
                        let zero = fx.b.ins().f32const(0.0);
                        let zero = fx.b.ins().splat(F32X4, zero);
                        // Position i keeps the gradient if it took over and no later one did.
                        let mut later = takes[2];
                        let s3 = fx.b.ins().bitselect(takes[2], g, zero);
                        let s2 = {
                            let own = fx.b.ins().band_not(takes[1], later);
                            fx.b.ins().bitselect(own, g, zero)
                        };
                        later = fx.b.ins().bor(later, takes[1]);
                        let s1 = {
                            let own = fx.b.ins().band_not(takes[0], later);
                            fx.b.ins().bitselect(own, g, zero)
                        };
                        later = fx.b.ins().bor(later, takes[0]);
                        let s0 = fx.b.ins().bitselect(later, zero, g);
                        [s0, s1, s2, s3]
                    }
                    PoolKind::Avg => {
                        let four = fx.b.ins().f32const(4.0);
                        let four = fx.b.ins().splat(F32X4, four);
                        let share = fx.b.ins().fdiv(g, four);
                        [share; 4]
                    }
                };
                let top = interleave(fx, shares[0], shares[1]);
                let bottom = interleave(fx, shares[2], shares[3]);
                let (t, b) = (fx.offset(g_row0, ox, 2), fx.offset(g_row1, ox, 2));
                for (i, v) in top.into_iter().enumerate() {
                    fx.store(v, t, 16 * i as i32);
                }
                for (i, v) in bottom.into_iter().enumerate() {
                    fx.store(v, b, 16 * i as i32);
                }
                Ok(())
            })?;
            tail_outputs(fx, p, [plane, input, oy], tail)
        })
    })
}
