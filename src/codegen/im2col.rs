//! The im2col matrix of one image and its transpose operation (col2im),
//! row by row: for a kernel row `i` and column `j`, the output columns whose
//! input column falls inside the image form one range `[lo, hi)`, so each
//! (channel, i, j, output row) is one copy (a vector copy at stride 1, in
//! straight-line code when short), with no per-element bounds test. The
//! positions in the padding are the same for every sample: they are zeroed
//! once per kernel call and never written again.
//!
//! Up to [`UNROLLED_KERNEL_COLS`] kernel columns are unrolled, each with its
//! range known when the code is generated; a wider kernel loops over its
//! columns and computes the range at run time, so the code has the same size
//! whatever the kernel.

use super::conv::Geometry;
use super::func::{Fx, R};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4};
use cranelift_codegen::ir::{InstBuilder, Value};

/// Kernel columns up to which each gets its own code (kernels of 3 to 11 are
/// the usual ones).
const UNROLLED_KERNEL_COLS: usize = 16;

/// The output columns `[lo, hi)` of one kernel column whose input column is
/// inside the image, and the input column under `lo` (0 if the range is empty).
#[derive(Clone, Copy)]
enum Inside {
    Fixed { lo: usize, hi: usize, first: i64 },
    Runtime { lo: Value, hi: Value, first: Value },
}

impl Inside {
    /// The range of kernel column `j`, known when generating.
    fn fixed(g: &Geometry, j: usize) -> Inside {
        let (s, p) = (g.stride[1], g.pad[1]);
        let lo = if p > j { (p - j).div_ceil(s) } else { 0 };
        let hi = if g.w + p > j {
            (g.w + p - j).div_ceil(s).min(g.ow)
        } else {
            0
        };
        let lo = lo.min(hi);
        let first = (lo * s + j) as i64 - p as i64;
        let first = if lo < hi { first } else { 0 };
        Inside::Fixed { lo, hi, first }
    }

    /// The range of kernel column `j` (an I64 value), computed as [`Inside::fixed`] does.
    fn runtime(fx: &mut Fx, g: &Geometry, j: Value) -> Inside {
        let (s, p) = (g.stride[1] as i64, g.pad[1] as i64);
        let zero = fx.iconst(0);
        // ceil(max(a - j, 0) / s)
        let steps_to = |fx: &mut Fx, a: i64| {
            let a = fx.iconst(a);
            let d = fx.b.ins().isub(a, j);
            let d = fx.b.ins().smax(d, zero);
            let d = fx.b.ins().iadd_imm_s(d, s - 1);
            fx.b.ins().udiv_imm_s(d, s)
        };
        let lo = steps_to(fx, p);
        let hi = steps_to(fx, (g.w + g.pad[1]) as i64);
        let ow = fx.iconst(g.ow as i64);
        let hi = fx.b.ins().smin(hi, ow);
        let lo = fx.b.ins().smin(lo, hi);
        let first = fx.b.ins().imul_imm_s(lo, s);
        let first = fx.b.ins().iadd(first, j);
        let first = fx.b.ins().iadd_imm_s(first, -p);
        let some = fx.b.ins().icmp(IntCC::SignedLessThan, lo, hi);
        let first = fx.b.ins().select(some, first, zero);
        Inside::Runtime { lo, hi, first }
    }


    /// `hi - lo`.
    fn count(&self, fx: &mut Fx) -> Value {
        match *self {
            Inside::Fixed { lo, hi, .. } => fx.iconst((hi - lo) as i64),
            Inside::Runtime { lo, hi, .. } => fx.b.ins().isub(hi, lo),
        }
    }

    /// `hi - lo` rounded down to whole vectors.
    fn vector_count(&self, fx: &mut Fx) -> Value {
        match *self {
            Inside::Fixed { lo, hi, .. } => fx.iconst((hi - lo) as i64 & !3),
            Inside::Runtime { .. } => {
                let count = self.count(fx);
                fx.b.ins().band_imm_s(count, !3)
            }
        }
    }


    /// `row + lo` floats, for a pointer `row` to output column 0.
    fn at_lo(&self, fx: &mut Fx, row: Value) -> Value {
        match *self {
            Inside::Fixed { lo, .. } => fx.b.ins().iadd_imm_s(row, lo as i64 * 4),
            Inside::Runtime { lo, .. } => fx.offset(row, lo, 1),
        }
    }


    /// `line + first`, for the element offset `line` of an input row.
    fn image(&self, fx: &mut Fx, line: Value) -> Value {
        match *self {
            Inside::Fixed { first, .. } => fx.b.ins().iadd_imm_s(line, first),
            Inside::Runtime { first, .. } => fx.b.ins().iadd(line, first),
        }
    }
}

/// One output row of one im2col row.
struct Row {
    /// Element offset of `col[row, oy, 0]`.
    col: Value,
    /// Element offset in the image of the input under output column `lo`.
    image: Value,
    /// Whether the input row is inside the image (I8).
    valid: Value,
    inside: Inside,
}

type RowBody<'b> = dyn FnMut(&mut Fx, &Row) -> R + 'b;

fn each_row(fx: &mut Fx, g: &Geometry, body: &mut RowBody) -> R {
    let zero = fx.iconst(0);
    let rows = fx.iconst((g.c * g.kh) as i64);
    fx.for_range(zero, rows, 1, |fx, ci| {
        let c = fx.b.ins().udiv_imm_s(ci, g.kh as i64);
        let i = fx.b.ins().urem_imm_s(ci, g.kh as i64);
        let plane = fx.b.ins().imul_imm_s(c, (g.h * g.w) as i64);
        let i_off = fx.b.ins().iadd_imm_s(i, -(g.pad[0] as i64));
        if g.kw > UNROLLED_KERNEL_COLS {
            let (zero, kw) = (fx.iconst(0), fx.iconst(g.kw as i64));
            return fx.for_range(zero, kw, 1, |fx, j| {
                let inside = Inside::runtime(fx, g, j);
                let row = fx.b.ins().imul_imm_s(ci, g.kw as i64);
                let row = fx.b.ins().iadd(row, j);
                output_rows(fx, g, [row, plane, i_off], inside, body)
            });
        }
        for j in 0..g.kw {
            let inside = Inside::fixed(g, j);
            let row = fx.b.ins().imul_imm_s(ci, g.kw as i64);
            let row = fx.b.ins().iadd_imm_s(row, j as i64);
            output_rows(fx, g, [row, plane, i_off], inside, body)?;
        }
        Ok(())
    })
}

/// The output rows of im2col row `row`: channel plane `plane` (element
/// offset), kernel row `i_off` (`i - pad`), one kernel column's range.
fn output_rows(
    fx: &mut Fx,
    g: &Geometry,
    [row, plane, i_off]: [Value; 3],
    inside: Inside,
    body: &mut RowBody,
) -> R {
    let row_base = fx.b.ins().imul_imm_s(row, g.cols() as i64);
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
        let image = inside.image(fx, line);
        let col = fx.b.ins().imul_imm_s(oy, g.ow as i64);
        let col = fx.b.ins().iadd(col, row_base);
        body(
            fx,
            &Row {
                col,
                image,
                valid,
                inside,
            },
        )
    })
}

/// Runs up to this many floats are copied by straight-line code when their
/// length is known while generating (a 3x3 kernel's rows are short, and the
/// loop around a copy of a dozen floats costs more than the copy).
const UNROLLED_RUN: usize = 64;

/// Zeroes the im2col matrix once per kernel call: the positions that fall in
/// the padding are the same for every sample, and [`im2col`] never writes them.
pub fn zero_padding(fx: &mut Fx, g: &Geometry, col: Value) -> R {
    let all = fx.iconst(g.workspace() as i64);
    fx.fill(col, all, 0.0)
}

/// Copies the run of `row` from `src` (input elements `stride` apart) to `to`.
fn copy_run(fx: &mut Fx, inside: &Inside, to: Value, src: Value, stride: i64) -> R {
    if let Inside::Fixed { lo, hi, .. } = *inside
        && stride == 1
        && hi - lo <= UNROLLED_RUN
    {
        let count = (hi - lo) as i32;
        for v in (0..count & !3).step_by(4) {
            let x = fx.load(F32X4, src, v * 4);
            fx.store(x, to, v * 4);
        }
        for t in count & !3..count {
            let x = fx.load(F32, src, t * 4);
            fx.store(x, to, t * 4);
        }
        return Ok(());
    }
    let count = inside.count(fx);
    if stride == 1 {
        return fx.copy(to, src, count);
    }
    let zero = fx.iconst(0);
    fx.for_range(zero, count, 1, |fx, t| {
        let from = fx.offset(src, t, stride);
        let v = fx.load(F32, from, 0);
        let at = fx.offset(to, t, 1);
        fx.store(v, at, 0);
        Ok(())
    })
}

/// `col = im2col(image)` for one sample, into a matrix whose padding
/// positions are zero already (see [`zero_padding`]).
pub fn im2col(fx: &mut Fx, g: &Geometry, image: Value, col: Value) -> R {
    let stride = g.stride[1] as i64;
    each_row(fx, g, &mut |fx, row| {
        fx.when(row.valid, |fx| {
            let dst = fx.offset(col, row.col, 1);
            let src = fx.offset(image, row.image, 1);
            let to = row.inside.at_lo(fx, dst);
            copy_run(fx, &row.inside, to, src, stride)
        })
    })
}

/// Adds the run at `from` to the image elements `stride` apart at `to`.
fn add_run(fx: &mut Fx, inside: &Inside, from: Value, to: Value, stride: i64) -> R {
    if let Inside::Fixed { lo, hi, .. } = *inside
        && stride == 1
        && hi - lo <= UNROLLED_RUN
    {
        let count = (hi - lo) as i32;
        for v in (0..count & !3).step_by(4) {
            let x = fx.load(F32X4, from, v * 4);
            let old = fx.load(F32X4, to, v * 4);
            let sum = fx.b.ins().fadd(old, x);
            fx.store(sum, to, v * 4);
        }
        for t in count & !3..count {
            let x = fx.load(F32, from, t * 4);
            let old = fx.load(F32, to, t * 4);
            let sum = fx.b.ins().fadd(old, x);
            fx.store(sum, to, t * 4);
        }
        return Ok(());
    }
    let zero = fx.iconst(0);
    let mut scalar_from = zero;
    if stride == 1 {
        let vec_end = inside.vector_count(fx);
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
    let end = inside.count(fx);
    fx.for_range(scalar_from, end, 1, |fx, t| {
        let a = fx.offset(from, t, 1);
        let v = fx.load(F32, a, 0);
        let b = fx.offset(to, t, stride);
        let old = fx.load(F32, b, 0);
        let sum = fx.b.ins().fadd(old, v);
        fx.store(sum, b, 0);
        Ok(())
    })
}

/// `image += col2im(col)` for one sample.
pub fn col2im(fx: &mut Fx, g: &Geometry, col: Value, image: Value) -> R {
    let stride = g.stride[1] as i64;
    each_row(fx, g, &mut |fx, row| {
        fx.when(row.valid, |fx| {
            let from = fx.offset(col, row.col, 1);
            let from = row.inside.at_lo(fx, from);
            let to = fx.offset(image, row.image, 1);
            add_run(fx, &row.inside, from, to, stride)
        })
    })
}
