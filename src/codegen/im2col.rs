//! The im2col matrix of one image and its transpose operation (col2im),
//! row by row: for a kernel row `i` and column `j`, the output columns whose
//! input column falls inside the image form one range `[lo, hi)` known when
//! the code is generated, so each (channel, i, j, output row) is a zero fill,
//! a copy (a vector copy at stride 1) and a zero fill, with no per-element
//! bounds test.

use super::conv::Geometry;
use super::func::{Fx, R};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4};
use cranelift_codegen::ir::{InstBuilder, Value};

/// One output row of one im2col row.
struct Row {
    /// Element offset of `col[row, oy, 0]`.
    col: Value,
    /// Element offset in the image of the input under output column `lo`.
    image: Value,
    /// Whether the input row is inside the image (I8).
    valid: Value,
    lo: usize,
    hi: usize,
}

/// Output columns `[lo, hi)` whose input column `ox * s + j - p` is inside the image.
fn valid_cols(g: &Geometry, j: usize) -> (usize, usize) {
    let (s, p) = (g.stride[1], g.pad[1]);
    let lo = if p > j { (p - j).div_ceil(s) } else { 0 };
    let hi = if g.w + p > j {
        (g.w + p - j).div_ceil(s).min(g.ow)
    } else {
        0
    };
    (lo.min(hi), hi)
}

fn each_row(fx: &mut Fx, g: &Geometry, body: &mut dyn FnMut(&mut Fx, &Row) -> R) -> R {
    let zero = fx.iconst(0);
    let rows = fx.iconst((g.c * g.kh) as i64);
    fx.for_range(zero, rows, 1, |fx, ci| {
        let c = fx.b.ins().udiv_imm_s(ci, g.kh as i64);
        let i = fx.b.ins().urem_imm_s(ci, g.kh as i64);
        let plane = fx.b.ins().imul_imm_s(c, (g.h * g.w) as i64);
        let i_off = fx.b.ins().iadd_imm_s(i, -(g.pad[0] as i64));
        for j in 0..g.kw {
            let (lo, hi) = valid_cols(g, j);
            let row = fx.b.ins().imul_imm_s(ci, g.kw as i64);
            let row = fx.b.ins().iadd_imm_s(row, j as i64);
            let row_base = fx.b.ins().imul_imm_s(row, g.cols() as i64);
            // Input column of output column lo (inside the image when lo < hi).
            let first = (lo * g.stride[1] + j) as i64 - g.pad[1] as i64;
            let first = if lo < hi { first } else { 0 };
            let (zero, oh) = (fx.iconst(0), fx.iconst(g.oh as i64));
            fx.for_range(zero, oh, 1, |fx, oy| {
                let iy = fx.b.ins().imul_imm_s(oy, g.stride[0] as i64);
                let iy = fx.b.ins().iadd(iy, i_off);
                let valid =
                    fx.b.ins()
                        .icmp_imm_u(IntCC::UnsignedLessThan, iy, g.h as i64);
                let zero = fx.iconst(0);
                let iy = fx.b.ins().select(valid, iy, zero);
                let line = fx.b.ins().imul_imm_s(iy, g.w as i64);
                let line = fx.b.ins().iadd(line, plane);
                let image = fx.b.ins().iadd_imm_s(line, first);
                let col = fx.b.ins().imul_imm_s(oy, g.ow as i64);
                let col = fx.b.ins().iadd(col, row_base);
                body(
                    fx,
                    &Row {
                        col,
                        image,
                        valid,
                        lo,
                        hi,
                    },
                )
            })?;
        }
        Ok(())
    })
}

/// `col = im2col(image)` for one sample.
pub fn im2col(fx: &mut Fx, g: &Geometry, image: Value, col: Value) -> R {
    let stride = g.stride[1] as i64;
    each_row(fx, g, &mut |fx, row| {
        let dst = fx.offset(col, row.col, 1);
        let inside = fx.b.create_block();
        let outside = fx.b.create_block();
        let done = fx.b.create_block();
        fx.b.ins().brif(row.valid, inside, &[], outside, &[]);
        fx.b.switch_to_block(outside);
        let all = fx.iconst(g.ow as i64);
        fx.fill(dst, all, 0.0)?;
        fx.b.ins().jump(done, &[]);
        fx.b.switch_to_block(inside);
        let before = fx.iconst(row.lo as i64);
        fx.fill(dst, before, 0.0)?;
        let src = fx.offset(image, row.image, 1);
        let to = fx.b.ins().iadd_imm_s(dst, row.lo as i64 * 4);
        let count = fx.iconst((row.hi - row.lo) as i64);
        if stride == 1 {
            fx.copy(to, src, count)?;
        } else {
            let zero = fx.iconst(0);
            fx.for_range(zero, count, 1, |fx, t| {
                let from = fx.offset(src, t, stride);
                let v = fx.load(F32, from, 0);
                let at = fx.offset(to, t, 1);
                fx.store(v, at, 0);
                Ok(())
            })?;
        }
        let after = fx.b.ins().iadd_imm_s(dst, row.hi as i64 * 4);
        let rest = fx.iconst((g.ow - row.hi) as i64);
        fx.fill(after, rest, 0.0)?;
        fx.b.ins().jump(done, &[]);
        fx.b.switch_to_block(done);
        Ok(())
    })
}

/// `image += col2im(col)` for one sample.
pub fn col2im(fx: &mut Fx, g: &Geometry, col: Value, image: Value) -> R {
    let stride = g.stride[1] as i64;
    each_row(fx, g, &mut |fx, row| {
        fx.when(row.valid, |fx| {
            let from = fx.offset(col, row.col, 1);
            let from = fx.b.ins().iadd_imm_s(from, row.lo as i64 * 4);
            let to = fx.offset(image, row.image, 1);
            let count = (row.hi - row.lo) as i64;
            let zero = fx.iconst(0);
            let mut scalar_from = zero;
            if stride == 1 {
                let vec_end = fx.iconst(count & !3);
                fx.for_range(zero, vec_end, 4, |fx, t| {
                    let a = fx.offset(from, t, 1);
                    let v = fx.load(F32X4, a, 0);
                    let b = fx.offset(to, t, 1);
                    let old = fx.load(F32X4, b, 0);
                    let sum = fx.b.ins().fadd(old, v);
                    fx.store(sum, b, 0);
                    Ok(())
                })?;
                scalar_from = vec_end;
            }
            let end = fx.iconst(count);
            fx.for_range(scalar_from, end, 1, |fx, t| {
                let a = fx.offset(from, t, 1);
                let v = fx.load(F32, a, 0);
                let b = fx.offset(to, t, stride);
                let old = fx.load(F32, b, 0);
                let sum = fx.b.ins().fadd(old, v);
                fx.store(sum, b, 0);
                Ok(())
            })
        })
    })
}
