//! Max and average pooling and their gradients, with the interpreter's
//! semantics: padded positions are skipped (never a maximum; zeros in an
//! average, which divides by the whole window); the max gradient goes to the
//! first maximum of each window in window order. Windows of up to 16
//! positions are unrolled here; larger ones are loops (`pool_loop`).

use super::func::{Fx, R, fixed};
use super::jit::CodegenError;
use super::plan::Buf;
use super::{host_pool, pool_loop, pool2x2};
use crate::ir::PoolKind;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, I8};
use cranelift_codegen::ir::{InstBuilder, Value};

/// The sizes of one pooling.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub h: usize,
    pub w: usize,
    pub oh: usize,
    pub ow: usize,
    pub window: [usize; 2],
    pub stride: [usize; 2],
    pub pad: [usize; 2],
}

impl Window {
    pub fn of(
        x: &Buf,
        y: &Buf,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
    ) -> R<Self> {
        let (xs, ys) = (&x.shape.0, &y.shape.0);
        if xs.len() != 4 || ys.len() != 4 || xs[0] != ys[0] || xs[1] != ys[1] {
            return Err(CodegenError::InvalidShape(format!(
                "pooling of {} into {}",
                x.shape, y.shape
            )));
        }
        let p = Window {
            h: fixed(xs[2], "height")?,
            w: fixed(xs[3], "width")?,
            oh: fixed(ys[2], "output height")?,
            ow: fixed(ys[3], "output width")?,
            window,
            stride,
            pad,
        };
        let fits = |size: usize, k: usize, s: usize, pd: usize, out: usize| {
            s > 0 && size + 2 * pd >= k && (size + 2 * pd - k) / s + 1 == out
        };
        if !fits(p.h, window[0], stride[0], pad[0], p.oh)
            || !fits(p.w, window[1], stride[1], pad[1], p.ow)
        {
            return Err(CodegenError::InvalidShape(format!(
                "pooling window {window:?} does not map {} to {}",
                x.shape, y.shape
            )));
        }
        Ok(p)
    }
}

/// Visits every output position of every plane (`n * C` of them):
/// `visit(fx, plane_input_ptr, output_index, oy, ox)`.
fn each_output(
    fx: &mut Fx,
    p: &Window,
    planes: Value,
    x: Value,
    visit: &mut dyn FnMut(&mut Fx, Value, Value, Value, Value) -> R,
) -> R {
    let zero = fx.iconst(0);
    fx.for_range(zero, planes, 1, |fx, plane| {
        let input = fx.offset(x, plane, (p.h * p.w) as i64);
        let first = fx.b.ins().imul_imm_s(plane, (p.oh * p.ow) as i64);
        let (zero, oh) = (fx.iconst(0), fx.iconst(p.oh as i64));
        fx.for_range(zero, oh, 1, |fx, oy| {
            let (zero, ow) = (fx.iconst(0), fx.iconst(p.ow as i64));
            let row = fx.b.ins().imul_imm_s(oy, p.ow as i64);
            let row = fx.b.ins().iadd(row, first);
            fx.for_range(zero, ow, 1, |fx, ox| {
                let o = fx.b.ins().iadd(row, ox);
                visit(fx, input, o, oy, ox)
            })
        })
    })
}

/// For each window position in order: `(index in the plane, valid)`, the
/// index clamped to 0 in the padding. The window is unrolled.
fn window_positions(fx: &mut Fx, p: &Window, oy: Value, ox: Value) -> Vec<(Value, Value)> {
    let mut out = Vec::with_capacity(p.window[0] * p.window[1]);
    let y0 = fx.b.ins().imul_imm_s(oy, p.stride[0] as i64);
    let y0 = fx.b.ins().iadd_imm_s(y0, -(p.pad[0] as i64));
    let x0 = fx.b.ins().imul_imm_s(ox, p.stride[1] as i64);
    let x0 = fx.b.ins().iadd_imm_s(x0, -(p.pad[1] as i64));
    // Without padding every window lies inside the image (the output size
    // formula guarantees it): no test needed.
    let inside = p.pad == [0, 0];
    for i in 0..p.window[0] {
        let iy = fx.b.ins().iadd_imm_s(y0, i as i64);
        let line = fx.b.ins().imul_imm_s(iy, p.w as i64);
        for j in 0..p.window[1] {
            let ix = fx.b.ins().iadd_imm_s(x0, j as i64);
            if inside {
                let valid = fx.b.ins().iconst(I8, 1);
                out.push((fx.b.ins().iadd(line, ix), valid));
                continue;
            }
            let y_ok =
                fx.b.ins()
                    .icmp_imm_u(IntCC::UnsignedLessThan, iy, p.h as i64);
            let x_ok =
                fx.b.ins()
                    .icmp_imm_u(IntCC::UnsignedLessThan, ix, p.w as i64);
            let valid = fx.b.ins().band(y_ok, x_ok);
            let at = fx.b.ins().iadd(line, ix);
            let zero = fx.iconst(0);
            out.push((fx.b.ins().select(valid, at, zero), valid));
        }
    }
    out
}

/// Max pooling's gradient: adds `g` at the window's maximum `at` of
/// `grad_plane`, when the window held one (`have`).
pub(super) fn add_to_maximum(
    fx: &mut Fx,
    have: Value,
    grad_plane: Value,
    at: Value,
    g: Value,
) -> R {
    fx.when(have, |fx| {
        let to = fx.offset(grad_plane, at, 1);
        let old = fx.load(F32, to, 0);
        let new = fx.b.ins().fadd(old, g);
        fx.store(new, to, 0);
        Ok(())
    })
}

fn planes(fx: &mut Fx, x: &Buf) -> R<Value> {
    let c = fixed(x.shape.0[1], "channels")?;
    let first = x.shape.0[0];
    let n = fx.dim(first);
    Ok(fx.b.ins().imul_imm_s(n, c as i64))
}

/// The size arguments of the host routines (`host_pool.rs`).
fn host_args(fx: &mut Fx, kind: PoolKind, p: &Window, planes: Value) -> [Value; 4] {
    let (h, w) = (fx.iconst(p.h as i64), fx.iconst(p.w as i64));
    let kind = fx.iconst(host_pool::kind_code(kind));
    [planes, h, w, kind]
}

pub fn emit_pool(fx: &mut Fx, kind: PoolKind, p: &Window, x: &Buf, y: &Buf) -> R {
    let (px, py) = (fx.ptr(x.loc)?, fx.ptr(y.loc)?);
    let planes = planes(fx, x)?;
    if let Some([forward, _]) = fx.host_pool.filter(|_| pool2x2::applies(p)) {
        let args = host_args(fx, kind, p, planes);
        fx.b.ins().call(forward, &[&[px, py][..], &args].concat());
        return Ok(());
    }
    let mut one = |fx: &mut Fx, input: Value, o: Value, oy: Value, ox: Value| {
        pool_output(fx, kind, p, [input, py], o, oy, ox)
    };
    if pool2x2::applies(p) {
        return pool2x2::emit_forward(fx, kind, p, planes, [px, py], &mut one);
    }
    each_output(fx, p, planes, px, &mut one)
}

/// One output of the pooling: `y[o]` from the window at (oy, ox) of `input`.
fn pool_output(
    fx: &mut Fx,
    kind: PoolKind,
    p: &Window,
    [input, py]: [Value; 2],
    o: Value,
    oy: Value,
    ox: Value,
) -> R {
    if !pool_loop::unrolled(p) {
        return pool_loop::pool_output(fx, kind, p, [input, py], o, [oy, ox]);
    }
    let area = (p.window[0] * p.window[1]) as f32;
    let mut best = fx.b.ins().f32const(f32::NEG_INFINITY);
    let mut sum = fx.b.ins().f32const(0.0);
    let zero = fx.b.ins().f32const(0.0);
    for (at, valid) in window_positions(fx, p, oy, ox) {
        let from = fx.offset(input, at, 1);
        let v = fx.load(F32, from, 0);
        match kind {
            PoolKind::Max => {
                let better = fx.b.ins().fcmp(FloatCC::GreaterThan, v, best);
                let take = fx.b.ins().band(better, valid);
                best = fx.b.ins().select(take, v, best);
            }
            PoolKind::Avg => {
                let v = fx.b.ins().select(valid, v, zero);
                sum = fx.b.ins().fadd(sum, v);
            }
        }
    }
    let result = match kind {
        PoolKind::Max => best,
        PoolKind::Avg => {
            let a = fx.b.ins().f32const(area);
            fx.b.ins().fdiv(sum, a)
        }
    };
    let to = fx.offset(py, o, 1);
    fx.store(result, to, 0);
    Ok(())
}

pub fn emit_pool_grad(fx: &mut Fx, kind: PoolKind, p: &Window, x: &Buf, dy: &Buf, dx: &Buf) -> R {
    let (px, pdy, pdx) = (fx.ptr(x.loc)?, fx.ptr(dy.loc)?, fx.ptr(dx.loc)?);
    let planes = planes(fx, x)?;
    if let Some([_, backward]) = fx.host_pool.filter(|_| pool2x2::applies(p)) {
        // The host routine writes every input's gradient, 0 outside the windows.
        let args = host_args(fx, kind, p, planes);
        fx.b.ins().call(backward, &[&[px, pdy, pdx][..], &args].concat());
        return Ok(());
    }
    let count = fx.numel(&x.shape)?;
    fx.fill(pdx, count, 0.0)?;
    let mut one = |fx: &mut Fx, input: Value, o: Value, oy: Value, ox: Value| {
        pool_grad_output(fx, kind, p, [px, pdy, pdx], input, o, [oy, ox])
    };
    if pool2x2::applies(p) {
        return pool2x2::emit_backward(fx, kind, p, planes, [px, pdy, pdx], &mut one);
    }
    each_output(fx, p, planes, px, &mut one)
}

/// The gradient of output `o` (window at (oy, ox) of the plane `input`)
/// added to the inputs it came from.
fn pool_grad_output(
    fx: &mut Fx,
    kind: PoolKind,
    p: &Window,
    [px, pdy, pdx]: [Value; 3],
    input: Value,
    o: Value,
    [oy, ox]: [Value; 2],
) -> R {
    let area = (p.window[0] * p.window[1]) as f32;
    let from = fx.offset(pdy, o, 1);
    let g = fx.load(F32, from, 0);
    // The gradient plane matches the input plane: same offset from its start.
    let plane_bytes = fx.b.ins().isub(input, px);
    let grad_plane = fx.b.ins().iadd(pdx, plane_bytes);
    if !pool_loop::unrolled(p) {
        return pool_loop::pool_grad_output(fx, kind, p, [input, grad_plane, g], [oy, ox]);
    }
    let positions = window_positions(fx, p, oy, ox);
    match kind {
        PoolKind::Avg => {
            let a = fx.b.ins().f32const(area);
            let share = fx.b.ins().fdiv(g, a);
            for (at, valid) in positions {
                fx.when(valid, |fx| {
                    let to = fx.offset(grad_plane, at, 1);
                    let old = fx.load(F32, to, 0);
                    let new = fx.b.ins().fadd(old, share);
                    fx.store(new, to, 0);
                    Ok(())
                })?;
            }
        }
        PoolKind::Max => {
            let mut have = fx.b.ins().iconst(I8, 0);
            let mut best = fx.b.ins().f32const(0.0);
            let mut best_at = fx.iconst(0);
            for (at, valid) in positions {
                let from = fx.offset(input, at, 1);
                let v = fx.load(F32, from, 0);
                let better = fx.b.ins().fcmp(FloatCC::GreaterThan, v, best);
                let first = fx.b.ins().icmp_imm_s(IntCC::Equal, have, 0);
                let wins = fx.b.ins().bor(first, better);
                let take = fx.b.ins().band(wins, valid);
                best = fx.b.ins().select(take, v, best);
                best_at = fx.b.ins().select(take, at, best_at);
                have = fx.b.ins().bor(have, valid);
            }
            add_to_maximum(fx, have, grad_plane, best_at, g)?;
        }
    }
    Ok(())
}
