//! Loop nests for fused elementwise kernels and reductions.
//!
//! The iteration shape is first *collapsed*: size-1 axes are dropped, and
//! neighbouring axes merge whenever every tensor (inputs, output) steps
//! through them as through one axis. The innermost remaining axis is then the
//! longest run along which each input is contiguous or broadcast; it is
//! computed four elements at a time (`f32x4`) with a scalar tail. Axes read
//! by `Index` instructions keep their own loop so their coordinate is at hand.
//! The batch axis has the runtime `n` as its size.

use super::func::{Fx, R, fixed_numel};
use super::guard;
use super::instr::{self, At, float, pick};
use super::jit::CodegenError;
use super::plan::{Body, Instr, Loc};
use crate::ir::{BinaryOp, Dim, Shape, UnaryOp};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::types::{F32, F32X4};
use cranelift_codegen::ir::{FuncRef, InstBuilder, Value};

/// One axis of the collapsed iteration space.
#[derive(Clone, Debug)]
struct Axis {
    /// Size `n * k` if batched, else `k`.
    batched: bool,
    k: usize,
    /// Element stride of each tensor along this axis (0: broadcast).
    strides: Vec<i64>,
    /// The original axis, if this one was not merged.
    orig: Option<usize>,
}

/// Strides of `t` broadcast to `body` (0 along its size-1 axes).
fn strides_in(t: &Shape, body: &Shape) -> R<Vec<i64>> {
    if t.rank() == 0 {
        return Ok(vec![0; body.rank()]);
    }
    if t.rank() != body.rank() || !t.broadcasts_to(body) {
        return Err(CodegenError::InvalidShape(format!(
            "{t} does not broadcast to the loop shape {body}"
        )));
    }
    let mut out = vec![0; t.rank()];
    let mut stride = 1i64;
    for a in (0..t.rank()).rev() {
        match t.0[a] {
            Dim::K(1) => {}
            Dim::K(k) => {
                out[a] = stride;
                stride = stride.checked_mul(k as i64).ok_or_else(|| {
                    CodegenError::InvalidShape(format!("{t} has too many elements"))
                })?;
            }
            Dim::N if a == 0 => out[a] = stride,
            Dim::N => {
                return Err(CodegenError::InvalidShape(format!(
                    "{t}: only the first axis can be the batch"
                )));
            }
        }
    }
    Ok(out)
}

/// The collapsed axes of `body` for tensors of `shapes` (outer first; never empty).
fn collapse(body: &Shape, shapes: &[Shape], pinned: &[usize]) -> R<Vec<Axis>> {
    let per_tensor: Vec<Vec<i64>> = shapes
        .iter()
        .map(|t| strides_in(t, body))
        .collect::<R<_>>()?;
    let mut inner_first: Vec<Axis> = Vec::new();
    for a in (0..body.rank()).rev() {
        let (batched, k) = match body.0[a] {
            Dim::K(1) => continue,
            Dim::K(k) => (false, k),
            Dim::N => (true, 1),
        };
        let ax = Axis {
            batched,
            k,
            strides: per_tensor.iter().map(|s| s[a]).collect(),
            orig: Some(a),
        };
        if let Some(last) = inner_first.last_mut() {
            let free = |o: Option<usize>| o.is_none_or(|o| !pinned.contains(&o));
            let fits = !last.batched
                && free(ax.orig)
                && free(last.orig)
                && ax
                    .strides
                    .iter()
                    .zip(&last.strides)
                    .all(|(&outer, &inner)| Some(outer) == inner.checked_mul(last.k as i64));
            if fits {
                last.k = last.k.checked_mul(ax.k).ok_or_else(|| {
                    CodegenError::InvalidShape(format!("{body} has too many elements"))
                })?;
                last.batched = ax.batched;
                last.orig = None;
                continue;
            }
        }
        inner_first.push(ax);
    }
    if inner_first.is_empty() {
        inner_first.push(Axis {
            batched: false,
            k: 1,
            strides: vec![0; shapes.len()],
            orig: None,
        });
    }
    inner_first.reverse();
    Ok(inner_first)
}

/// What the innermost loop body receives: per-tensor element offsets of
/// the run's first element, the coordinates of pinned outer axes, the run.
type Inner<'c> = dyn FnMut(&mut Fx, &Axis, &[Value], &[(usize, Value, bool)]) -> R + 'c;

fn nest(
    fx: &mut Fx,
    axes: &[Axis],
    offs: Vec<Value>,
    coords: &mut Vec<(usize, Value, bool)>,
    inner: &mut Inner,
) -> R {
    let (ax, rest) = axes
        .split_first()
        .ok_or_else(|| CodegenError::InvalidShape("empty loop nest".into()))?;
    if rest.is_empty() {
        return inner(fx, ax, &offs, coords);
    }
    let len = fx.extent(ax.batched, ax.k);
    let zero = fx.iconst(0);
    fx.for_range(zero, len, 1, |fx, c| {
        let next: Vec<Value> = offs
            .iter()
            .zip(&ax.strides)
            .map(|(&o, &s)| {
                if s == 0 {
                    o
                } else {
                    let d = fx.b.ins().imul_imm_s(c, s);
                    fx.b.ins().iadd(o, d)
                }
            })
            .collect();
        if let Some(a) = ax.orig {
            coords.push((a, c, false));
        }
        nest(fx, rest, next, coords, inner)?;
        if ax.orig.is_some() {
            coords.pop();
        }
        Ok(())
    })
}

fn pinned_axes(body: &Body) -> Vec<usize> {
    body.instrs
        .iter()
        .filter_map(|i| match i {
            Instr::Index(a) => Some(*a),
            _ => None,
        })
        .collect()
}

/// Evaluates `body` over the run `[i, i + lanes)` of the innermost axis.
struct Run<'b> {
    body: &'b Body,
    /// Input pointers (slot order).
    ptrs: Vec<Value>,
    keys: Vec<(u64, Value)>,
    /// Index of the first input among the loop's tensors.
    first_input: usize,
}

impl Run<'_> {
    fn eval(
        &self,
        fx: &mut Fx,
        ax: &Axis,
        offs: &[Value],
        coords: &[(usize, Value, bool)],
        i: Value,
        vector: bool,
    ) -> R<Vec<Value>> {
        let mut addrs = Vec::with_capacity(self.ptrs.len());
        let mut contiguous = Vec::with_capacity(self.ptrs.len());
        for (slot, &ptr) in self.ptrs.iter().enumerate() {
            let t = self.first_input + slot;
            let s = ax.strides[t];
            let at = if s == 0 {
                offs[t]
            } else {
                let d = fx.b.ins().imul_imm_s(i, s);
                fx.b.ins().iadd(offs[t], d)
            };
            addrs.push(fx.offset(ptr, at, 1));
            contiguous.push(s == 1);
        }
        let mut index = coords.to_vec();
        if let Some(a) = ax.orig {
            index.push((a, i, true));
        }
        let flat = element(fx, offs[0], i, ax.strides[0]);
        let at = At {
            addrs: &addrs,
            contiguous: &contiguous,
            index: &index,
            flat,
            keys: &self.keys,
        };
        instr::eval(fx, self.body, &at, vector)
    }
}

/// `off + i * stride`.
fn element(fx: &mut Fx, off: Value, i: Value, stride: i64) -> Value {
    match stride {
        0 => off,
        1 => fx.b.ins().iadd(off, i),
        s => {
            let d = fx.b.ins().imul_imm_s(i, s);
            fx.b.ins().iadd(off, d)
        }
    }
}

fn check_inner(ax: &Axis) -> R {
    if ax.strides.iter().any(|&s| s != 0 && s != 1) {
        return Err(CodegenError::InvalidShape(
            "the innermost axis is neither contiguous nor broadcast".into(),
        ));
    }
    Ok(())
}

fn input_ptrs(fx: &mut Fx, body: &Body) -> R<Vec<Value>> {
    body.inputs.iter().map(|b| fx.ptr(b.loc)).collect()
}

/// `outputs[j] = body[result_j]` over the body's shape.
pub fn emit_elementwise(fx: &mut Fx, body: &Body, outputs: &[(usize, Loc)]) -> R {
    let mut shapes = vec![body.shape.clone()];
    shapes.extend(body.inputs.iter().map(|b| b.shape.clone()));
    let axes = collapse(&body.shape, &shapes, &pinned_axes(body))?;
    let run = Run {
        body,
        ptrs: input_ptrs(fx, body)?,
        keys: instr::keys_for(fx, body),
        first_input: 1,
    };
    let outs: Vec<(usize, Value, bool)> = outputs
        .iter()
        .map(|(r, loc)| Ok((*r, fx.ptr(*loc)?, guard::guarded(*loc))))
        .collect::<R<_>>()?;
    let guarded = outs.iter().any(|o| o.2);
    let zero = fx.iconst(0);
    let offs = vec![zero; shapes.len()];
    let mut inner = |fx: &mut Fx, ax: &Axis, offs: &[Value], coords: &[(usize, Value, bool)]| {
        check_inner(ax)?;
        let len = fx.extent(ax.batched, ax.k);
        let vec_end = fx.b.ins().band_imm_s(len, !3i64);
        let start = fx.iconst(0);
        for (from, to, step, vector) in [(start, vec_end, 4, true), (vec_end, len, 1, false)] {
            // Writes to parameters and state carry the finite test through the loop.
            let init = if guarded {
                vec![guard::all_finite(fx, vector)]
            } else {
                vec![]
            };
            let acc = fx.for_carry(from, to, step, &init, |fx, i, acc| {
                let vals = run.eval(fx, ax, offs, coords, i, vector)?;
                let flat = element(fx, offs[0], i, ax.strides[0]);
                let mut acc = acc.to_vec();
                for &(r, ptr, guarded) in &outs {
                    let v = *vals.get(r).ok_or_else(|| {
                        CodegenError::InvalidShape(format!("output of missing r{r}"))
                    })?;
                    let at = fx.offset(ptr, flat, 1);
                    if guarded {
                        acc[0] = guard::store(fx, v, at, acc[0]);
                    } else {
                        fx.store(v, at, 0);
                    }
                }
                Ok(acc)
            })?;
            if let Some(&acc) = acc.first() {
                guard::raise_unless(fx, acc);
            }
        }
        Ok(())
    };
    nest(fx, &axes, offs, &mut Vec::new(), &mut inner)
}

/// Sums or maxima of the body's value over `axes` into `out` (shape: the
/// body's with those axes 1). Each output element combines the body's
/// elements in row-major order when the innermost axis is kept, as the
/// interpreter does; a reduced innermost axis goes four partial results at a
/// time, combined at the end of the run.
pub fn emit_reduce(fx: &mut Fx, body: &Body, max: bool, axes: &[usize], out: Loc) -> R {
    let out_shape = body.shape.reduced(axes);
    let mut shapes = vec![body.shape.clone(), out_shape.clone()];
    shapes.extend(body.inputs.iter().map(|b| b.shape.clone()));
    let loop_axes = collapse(&body.shape, &shapes, &pinned_axes(body))?;
    let run = Run {
        body,
        ptrs: input_ptrs(fx, body)?,
        keys: instr::keys_for(fx, body),
        first_input: 2,
    };
    let result = body
        .instrs
        .len()
        .checked_sub(1)
        .ok_or_else(|| CodegenError::InvalidShape("empty reduction body".into()))?;
    let out_ptr = fx.ptr(out)?;
    let init = if max { f32::NEG_INFINITY } else { 0.0 };
    let count = fx.extent(out_shape.is_batched(), fixed_numel(&out_shape)?);
    fx.fill(out_ptr, count, init)?;
    let combine = |fx: &mut Fx, acc: Value, v: Value| {
        if max {
            pick(fx, FloatCC::GreaterThan, v, acc, v, acc)
        } else {
            instr::binary(fx, BinaryOp::Add, acc, v)
        }
    };
    let zero = fx.iconst(0);
    let offs = vec![zero; shapes.len()];
    let mut inner = |fx: &mut Fx, ax: &Axis, offs: &[Value], coords: &[(usize, Value, bool)]| {
        check_inner(ax)?;
        let len = fx.extent(ax.batched, ax.k);
        let vec_end = fx.b.ins().band_imm_s(len, !3i64);
        let start = fx.iconst(0);
        if ax.strides[1] == 1 {
            // Kept innermost axis: read, combine and write the outputs in place.
            for (from, to, step, vector) in [(start, vec_end, 4, true), (vec_end, len, 1, false)] {
                fx.for_range(from, to, step, |fx, i| {
                    let vals = run.eval(fx, ax, offs, coords, i, vector)?;
                    let at = element(fx, offs[1], i, 1);
                    let at = fx.offset(out_ptr, at, 1);
                    let ty = if vector { F32X4 } else { F32 };
                    let old = fx.load(ty, at, 0);
                    let new = combine(fx, old, vals[result]);
                    fx.store(new, at, 0);
                    Ok(())
                })?;
            }
            return Ok(());
        }
        // Reduced innermost axis: accumulate the run, then fold it into out.
        let acc0 = float(fx, F32X4, init);
        let acc = fx.for_carry(start, vec_end, 4, &[acc0], |fx, i, acc| {
            let vals = run.eval(fx, ax, offs, coords, i, true)?;
            Ok(vec![combine(fx, acc[0], vals[result])])
        })?;
        let mut total = fx.b.ins().extractlane(acc[0], 0);
        for lane in 1..4u8 {
            let l = fx.b.ins().extractlane(acc[0], lane);
            total = combine(fx, total, l);
        }
        let total = fx.for_carry(vec_end, len, 1, &[total], |fx, i, acc| {
            let vals = run.eval(fx, ax, offs, coords, i, false)?;
            Ok(vec![combine(fx, acc[0], vals[result])])
        })?;
        let at = fx.offset(out_ptr, offs[1], 1);
        let old = fx.load(F32, at, 0);
        let new = combine(fx, old, total[0]);
        fx.store(new, at, 0);
        Ok(())
    };
    nest(fx, &loop_axes, offs, &mut Vec::new(), &mut inner)
}

/// Fewest elements (at the largest batch) for which a kernel's final tanh or
/// a stored dropout mask is left to a host routine: below it the call costs
/// more than it saves.
const HOST_MIN: usize = 64;

/// An elementwise kernel, with the parts host routines do better taken out:
/// stored dropout masks filled first ([`host_masks`]), a final tanh taken
/// after ([`host_tanh_split`]).
pub fn emit_elementwise_kernel(fx: &mut Fx, body: &Body, outputs: &[(usize, Loc)]) -> R {
    let (body, outputs) = host_masks(fx, body, outputs)?;
    if outputs.is_empty() {
        return Ok(());
    }
    match host_tanh_split(fx, &body, &outputs) {
        Some((tanh, rest, argument, at)) => emit_split_tanh(fx, tanh, &rest, argument, at),
        None => emit_elementwise(fx, &body, &outputs),
    }
}

/// Fills each dropout mask the kernel stores (unguarded, whole buffer) with
/// `host_dropout` before the loop, which then loads it: the body and outputs
/// left for the loop. Only outside bands, where an element's flat index in
/// the body is its index in the buffer.
fn host_masks(fx: &mut Fx, body: &Body, outputs: &[(usize, Loc)]) -> R<(Body, Vec<(usize, Loc)>)> {
    let mut body = body.clone();
    let mut rest = Vec::with_capacity(outputs.len());
    let usable = fx.host_dropout.is_some()
        && !fx.in_band()
        && body.shape.numel(fx.max_batch) >= HOST_MIN;
    for &(r, at) in outputs {
        let Instr::Dropout { rate, salt } = body.instrs[r] else {
            rest.push((r, at));
            continue;
        };
        let Some(fill) = fx.host_dropout.filter(|_| usable && !guard::guarded(at)) else {
            rest.push((r, at));
            continue;
        };
        let ptr = fx.ptr(at)?;
        let len = fx.numel(&body.shape)?;
        let key = instr::dropout_key(fx, salt, body.shape.per_sample());
        let rate_v = fx.b.ins().f32const(rate);
        fx.b.ins().call(fill, &[ptr, len, key, rate_v]);
        body.inputs.push(super::plan::Buf {
            loc: at,
            shape: body.shape.clone(),
        });
        body.instrs[r] = Instr::Load(body.inputs.len() - 1);
    }
    Ok((body, rest))
}

/// A kernel whose one output is the tanh of the rest of its body, into a
/// buffer whose stores are not guarded (scratch, the output): that rest, the
/// instruction holding the tanh's argument, and where both go, with the host
/// routine. The caller stores the argument there and runs the routine over it
/// in place.
fn host_tanh_split(
    fx: &Fx,
    body: &Body,
    outputs: &[(usize, Loc)],
) -> Option<(FuncRef, Body, usize, Loc)> {
    let tanh = fx.host_tanh?;
    let [(result, at)] = outputs else {
        return None;
    };
    if *result + 1 != body.instrs.len()
        || guard::guarded(*at)
        || body.shape.numel(fx.max_batch) < HOST_MIN
    {
        return None;
    }
    let Instr::Unary(UnaryOp::Tanh, argument) = body.instrs[*result] else {
        return None;
    };
    let rest = Body {
        shape: body.shape.clone(),
        inputs: body.inputs.clone(),
        instrs: body.instrs[..*result].to_vec(),
    };
    Some((tanh, rest, argument, *at))
}

/// Stores the argument of a kernel split by [`host_tanh_split`] (unless it is
/// already there: a tanh in place), then takes its tanh on the host.
fn emit_split_tanh(fx: &mut Fx, tanh: FuncRef, rest: &Body, argument: usize, at: Loc) -> R {
    let in_place = match rest.instrs[argument] {
        Instr::Load(slot) => rest.inputs[slot].loc == at && rest.inputs[slot].shape == rest.shape,
        _ => false,
    };
    if !in_place {
        emit_elementwise(fx, rest, &[(argument, at)])?;
    }
    let ptr = fx.ptr(at)?;
    let len = fx.numel(&rest.shape)?;
    fx.b.ins().call(tanh, &[ptr, len]);
    Ok(())
}
