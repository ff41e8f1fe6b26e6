//! Data movement kernels: concatenation, slicing and copies of results to
//! their destinations. Each moves contiguous chunks (`f32x4` at a time).

use super::func::{Fx, R, fixed, fixed_numel};
use super::jit::CodegenError;
use super::plan::{Buf, Loc};
use crate::ir::{Dim, Shape};
use cranelift_codegen::ir::{InstBuilder, Value};

/// `(outer, inner)`: the count of blocks before `axis` (the batch at run time
/// if it is among them) and the floats after it.
fn around(fx: &mut Fx, shape: &Shape, axis: usize) -> R<(Value, usize)> {
    if axis >= shape.rank() || axis == 0 && shape.0[0] == Dim::N {
        return Err(CodegenError::InvalidShape(format!(
            "axis {axis} of {shape} cannot be joined or sliced"
        )));
    }
    let before = Shape(shape.0[..axis].to_vec());
    let after = Shape(shape.0[axis + 1..].to_vec());
    let outer = fx.numel(&before)?;
    Ok((outer, fixed_numel(&after)?))
}

pub fn emit_concat(fx: &mut Fx, inputs: &[Buf], axis: usize, out: &Buf) -> R {
    let (outer, inner) = around(fx, &out.shape, axis)?;
    let out_chunk = fixed(out.shape.0[axis], "a joined axis")? * inner;
    let po = fx.ptr(out.loc)?;
    let mut parts = Vec::with_capacity(inputs.len());
    let mut at = 0;
    for x in inputs {
        let chunk = fixed(
            x.shape.0.get(axis).copied().unwrap_or(Dim::K(0)),
            "a joined axis",
        )? * inner;
        parts.push((fx.ptr(x.loc)?, chunk, at));
        at += chunk;
    }
    if at != out_chunk {
        return Err(CodegenError::InvalidShape(format!(
            "concat parts do not fill {}",
            out.shape
        )));
    }
    let zero = fx.iconst(0);
    fx.for_range(zero, outer, 1, |fx, o| {
        let dst_row = fx.offset(po, o, out_chunk as i64);
        for &(src, chunk, at) in &parts {
            let from = fx.offset(src, o, chunk as i64);
            let to = fx.b.ins().iadd_imm_s(dst_row, at as i64 * 4);
            let count = fx.iconst(chunk as i64);
            fx.copy(to, from, count)?;
        }
        Ok(())
    })
}

pub fn emit_slice(fx: &mut Fx, x: &Buf, axis: usize, start: usize, out: &Buf) -> R {
    let (outer, inner) = around(fx, &x.shape, axis)?;
    let full = fixed(x.shape.0[axis], "a sliced axis")?;
    let len = fixed(
        out.shape.0.get(axis).copied().unwrap_or(Dim::K(0)),
        "a sliced axis",
    )?;
    if start + len > full {
        return Err(CodegenError::InvalidShape(format!(
            "slice {start}..{} of {}",
            start + len,
            x.shape
        )));
    }
    let (px, po) = (fx.ptr(x.loc)?, fx.ptr(out.loc)?);
    let zero = fx.iconst(0);
    fx.for_range(zero, outer, 1, |fx, o| {
        let from = fx.offset(px, o, (full * inner) as i64);
        let from = fx.b.ins().iadd_imm_s(from, (start * inner) as i64 * 4);
        let to = fx.offset(po, o, (len * inner) as i64);
        let count = fx.iconst((len * inner) as i64);
        fx.copy(to, from, count)
    })
}

pub fn emit_copy(fx: &mut Fx, from: &Buf, to: Loc) -> R {
    let (src, dst) = (fx.ptr(from.loc)?, fx.ptr(to)?);
    let count = fx.numel(&from.shape)?;
    if super::guard::guarded(to) {
        super::guard::copy(fx, dst, src, count)
    } else {
        fx.copy(dst, src, count)
    }
}
