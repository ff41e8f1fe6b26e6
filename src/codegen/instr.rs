//! One fused body evaluated at one position: every [`Instr`] on `f32` (one
//! element) or `f32x4` (four consecutive elements of the innermost axis).
//!
//! Each op mirrors the interpreter's definition exactly, comparisons and NaN
//! handling included (`max` is `b > a ? b : a`, `relu` is `a > 0 ? a : 0`,
//! ...); only exp, log, tanh and sigmoid differ, by the few ulps documented
//! in [`super::vecmath`].

use super::func::{Fx, R};
use super::plan::{Body, Instr};
use super::vecmath;
use crate::ir::{BinaryOp, UnaryOp};
use crate::rng::{GOLDEN_GAMMA, MIX_MUL_1, MIX_MUL_2};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::types::{F32, F32X4};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value};

/// Where the element (or the four elements) being computed is.
pub struct At<'a> {
    /// Per body input: the address of lane 0's element.
    pub addrs: &'a [Value],
    /// Per body input: whether the lanes read consecutive floats (else one, splat).
    pub contiguous: &'a [bool],
    /// Coordinates of lane 0 along the original axes an `Index` reads
    /// (axes not listed are 0), and whether lanes step along that axis.
    pub index: &'a [(usize, Value, bool)],
    /// Row-major index of lane 0 in the body's shape (dropout's counter).
    pub flat: Value,
    /// Dropout keys by salt.
    pub keys: &'a [(u64, Value)],
}

pub fn float(fx: &mut Fx, ty: Type, v: f32) -> Value {
    let s = fx.b.ins().f32const(v);
    if ty == F32X4 {
        fx.b.ins().splat(F32X4, s)
    } else {
        s
    }
}

/// `x cc y ? a : b`, per lane.
pub fn pick(fx: &mut Fx, cc: FloatCC, x: Value, y: Value, a: Value, b: Value) -> Value {
    let cond = fx.b.ins().fcmp(cc, x, y);
    let ty = fx.b.func.dfg.value_type(a);
    if ty == F32X4 {
        let mask = fx.b.ins().bitcast(F32X4, MemFlagsData::new(), cond);
        fx.b.ins().bitselect(mask, a, b)
    } else {
        fx.b.ins().select(cond, a, b)
    }
}

/// SplitMix64's finaliser on an I64 value (`rng::mix64`).
fn mix(fx: &mut Fx, z: Value) -> Value {
    let s = fx.b.ins().ushr_imm_s(z, 30);
    let z = fx.b.ins().bxor(z, s);
    let z = fx.b.ins().imul_imm_s(z, MIX_MUL_1 as i64);
    let s = fx.b.ins().ushr_imm_s(z, 27);
    let z = fx.b.ins().bxor(z, s);
    let z = fx.b.ins().imul_imm_s(z, MIX_MUL_2 as i64);
    let s = fx.b.ins().ushr_imm_s(z, 31);
    fx.b.ins().bxor(z, s)
}

/// `ir::dropout::key(seed, step, salt)` from the context's seed and step.
///
/// The key is offset by the elements of the samples before the call's first
/// (`per_sample` per sample): `uniform` hashes `key + index`, so this is the
/// mask of the sample's place in the whole batch, however it is split.
pub fn dropout_key(fx: &mut Fx, salt: u64, per_sample: usize) -> Value {
    let salted =
        fx.b.ins()
            .bxor_imm_s(fx.seed, salt.wrapping_mul(GOLDEN_GAMMA) as i64);
    let inner = mix(fx, salted);
    let stepped = fx.b.ins().bxor(inner, fx.step);
    let key = mix(fx, stepped);
    let before = fx.b.ins().imul_imm_s(fx.first, per_sample as i64);
    fx.b.ins().iadd(key, before)
}

/// `ir::dropout::uniform(key, index)` as an f32.
fn uniform(fx: &mut Fx, key: Value, index: Value) -> Value {
    let z = fx.b.ins().iadd(key, index);
    let h = mix(fx, z);
    let bits = fx.b.ins().ushr_imm_s(h, 40);
    let u = fx.b.ins().fcvt_from_sint(F32, bits);
    let scale = fx.b.ins().f32const(1.0 / 16_777_216.0);
    fx.b.ins().fmul(u, scale)
}

fn dropout(fx: &mut Fx, at: &At, ty: Type, rate: f32, salt: u64) -> R<Value> {
    let key = at
        .keys
        .iter()
        .find(|(s, _)| *s == salt)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            super::jit::CodegenError::InvalidShape(format!("no dropout key for salt {salt}"))
        })?;
    let u = if ty == F32X4 {
        let zero = fx.b.ins().f32const(0.0);
        let mut v = fx.b.ins().splat(F32X4, zero);
        for lane in 0..4u8 {
            let index = fx.b.ins().iadd_imm_s(at.flat, i64::from(lane));
            let u = uniform(fx, key, index);
            v = fx.b.ins().insertlane(v, u, lane);
        }
        v
    } else {
        uniform(fx, key, at.flat)
    };
    let rate_v = float(fx, ty, rate);
    let keep = float(fx, ty, 1.0 / (1.0 - rate));
    let drop = float(fx, ty, 0.0);
    Ok(pick(fx, FloatCC::GreaterThanOrEqual, u, rate_v, keep, drop))
}

fn index(fx: &mut Fx, at: &At, ty: Type, axis: usize) -> Value {
    let Some(&(_, coord, steps)) = at.index.iter().find(|(a, _, _)| *a == axis) else {
        return float(fx, ty, 0.0);
    };
    let c = fx.b.ins().fcvt_from_sint(F32, coord);
    if ty != F32X4 {
        return c;
    }
    let v = fx.b.ins().splat(F32X4, c);
    if !steps {
        return v;
    }
    let zero = fx.b.ins().f32const(0.0);
    let mut lanes = fx.b.ins().splat(F32X4, zero);
    for lane in 1..4u8 {
        let l = fx.b.ins().f32const(f32::from(lane));
        lanes = fx.b.ins().insertlane(lanes, l, lane);
    }
    fx.b.ins().fadd(v, lanes)
}

fn unary(fx: &mut Fx, op: UnaryOp, a: Value, ty: Type) -> R<Value> {
    let zero = float(fx, ty, 0.0);
    let one = float(fx, ty, 1.0);
    Ok(match op {
        UnaryOp::Neg => fx.b.ins().fneg(a),
        UnaryOp::Exp => vecmath::exp(fx.b, a)?,
        UnaryOp::Log => vecmath::log(fx.b, a)?,
        UnaryOp::Tanh => vecmath::tanh(fx.b, a)?,
        UnaryOp::Erf => vecmath::erf(fx.b, a)?,
        UnaryOp::Sigmoid => vecmath::sigmoid(fx.b, a)?,
        UnaryOp::Relu => pick(fx, FloatCC::GreaterThan, a, zero, a, zero),
        UnaryOp::Step => pick(fx, FloatCC::GreaterThan, a, zero, one, zero),
        UnaryOp::Sqrt => fx.b.ins().sqrt(a),
        UnaryOp::Rsqrt => {
            let r = fx.b.ins().sqrt(a);
            fx.b.ins().fdiv(one, r)
        }
        UnaryOp::Recip => fx.b.ins().fdiv(one, a),
        UnaryOp::Abs => {
            let neg = fx.b.ins().fneg(a);
            pick(fx, FloatCC::LessThan, a, zero, neg, a)
        }
        UnaryOp::Sign => {
            let minus = float(fx, ty, -1.0);
            let below = pick(fx, FloatCC::LessThan, a, zero, minus, zero);
            pick(fx, FloatCC::GreaterThan, a, zero, one, below)
        }
        UnaryOp::Square => fx.b.ins().fmul(a, a),
    })
}

/// The interpreter's `binary`, lane by lane.
pub fn binary(fx: &mut Fx, op: BinaryOp, a: Value, b: Value) -> Value {
    let ty = fx.b.func.dfg.value_type(a);
    match op {
        BinaryOp::Add => fx.b.ins().fadd(a, b),
        BinaryOp::Sub => fx.b.ins().fsub(a, b),
        BinaryOp::Mul => fx.b.ins().fmul(a, b),
        BinaryOp::Div => fx.b.ins().fdiv(a, b),
        BinaryOp::Max => pick(fx, FloatCC::GreaterThan, b, a, b, a),
        BinaryOp::Min => pick(fx, FloatCC::LessThan, b, a, b, a),
        BinaryOp::Gt | BinaryOp::Eq => {
            let cc = if op == BinaryOp::Gt {
                FloatCC::GreaterThan
            } else {
                FloatCC::Equal
            };
            let one = float(fx, ty, 1.0);
            let zero = float(fx, ty, 0.0);
            pick(fx, cc, a, b, one, zero)
        }
    }
}

/// The values of every instruction of `body` at `at`, as `f32x4` when `vector`.
pub fn eval(fx: &mut Fx, body: &Body, at: &At, vector: bool) -> R<Vec<Value>> {
    let ty = if vector { F32X4 } else { F32 };
    let mut vals: Vec<Value> = Vec::with_capacity(body.instrs.len());
    let get = |vals: &[Value], i: usize| -> R<Value> {
        vals.get(i).copied().ok_or_else(|| {
            super::jit::CodegenError::InvalidShape(format!(
                "instruction reads r{i} before it is computed"
            ))
        })
    };
    for instr in &body.instrs {
        let v = match *instr {
            Instr::Load(slot) => {
                let (Some(&addr), Some(&contig)) = (at.addrs.get(slot), at.contiguous.get(slot))
                else {
                    return Err(super::jit::CodegenError::InvalidShape(format!(
                        "load of missing input {slot}"
                    )));
                };
                if vector && contig {
                    fx.load(F32X4, addr, 0)
                } else {
                    let s = fx.load(F32, addr, 0);
                    if vector {
                        fx.b.ins().splat(F32X4, s)
                    } else {
                        s
                    }
                }
            }
            Instr::Const(c) => float(fx, ty, c),
            Instr::Unary(op, a) => {
                let a = get(&vals, a)?;
                unary(fx, op, a, ty)?
            }
            Instr::Binary(op, a, b) => {
                let (a, b) = (get(&vals, a)?, get(&vals, b)?);
                binary(fx, op, a, b)
            }
            Instr::Select(c, a, b) => {
                let (c, a, b) = (get(&vals, c)?, get(&vals, a)?, get(&vals, b)?);
                let zero = float(fx, ty, 0.0);
                // NotEqual is true for NaN, like the interpreter's `c != 0`.
                pick(fx, FloatCC::NotEqual, c, zero, a, b)
            }
            Instr::Index(axis) => index(fx, at, ty, axis),
            Instr::Dropout { rate, salt } => dropout(fx, at, ty, rate, salt)?,
        };
        vals.push(v);
    }
    Ok(vals)
}

/// The dropout keys a body needs, computed once before its loops.
pub fn keys_for(fx: &mut Fx, body: &Body) -> Vec<(u64, Value)> {
    let mut keys: Vec<(u64, Value)> = Vec::new();
    for instr in &body.instrs {
        if let Instr::Dropout { salt, .. } = *instr
            && !keys.iter().any(|(s, _)| *s == salt)
        {
            let k = dropout_key(fx, salt, body.shape.per_sample());
            keys.push((salt, k));
        }
    }
    keys
}
