//! The calling convention of compiled entry points: one [`CallCtx`] per call.
//!
//! Every entry point is an `extern "C" fn(*const CallCtx)`. The context holds
//! one pointer per memory [`Base`] of the plan, the batch size, dropout's
//! random key material and the flag word a call raises when it refuses a
//! non-finite value; generated code loads them once in its prologue.

use super::plan::Base;
use std::mem::offset_of;

/// What a compiled entry point reads: buffers, the batch size and the seed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CallCtx {
    pub params: *mut f32,
    pub grads: *mut f32,
    pub states: *mut f32,
    pub scratch: *mut f32,
    pub features: *const f32,
    pub labels: *const f32,
    pub class_weights: *const f32,
    pub scalars: *const f32,
    pub loss: *mut f32,
    pub output: *mut f32,
    /// Samples in this batch (at most the compiled maximum).
    pub n: u64,
    pub seed: u64,
    pub step: u64,
    /// The index of the call's first sample in its step's batch (see
    /// `ir::Shard`): dropout keys a sample's mask by its place in the batch.
    pub first: u64,
    /// Set to non-zero by the call when a value it would have written into
    /// the parameters or state was not finite (see `guard.rs`); the caller
    /// clears it before the call.
    pub flags: *mut u32,
}

/// A compiled entry point.
pub type EntryFn = unsafe extern "C" fn(*const CallCtx);

/// Byte offset of the pointer for `base` inside [`CallCtx`].
pub fn base_offset(base: Base) -> i32 {
    let at = match base {
        Base::Params => offset_of!(CallCtx, params),
        Base::Grads => offset_of!(CallCtx, grads),
        Base::States => offset_of!(CallCtx, states),
        Base::Scratch => offset_of!(CallCtx, scratch),
        Base::Features => offset_of!(CallCtx, features),
        Base::Labels => offset_of!(CallCtx, labels),
        Base::ClassWeights => offset_of!(CallCtx, class_weights),
        Base::Scalars => offset_of!(CallCtx, scalars),
        Base::Loss => offset_of!(CallCtx, loss),
        Base::Output => offset_of!(CallCtx, output),
    };
    at as i32
}

pub const N_OFFSET: i32 = offset_of!(CallCtx, n) as i32;
pub const SEED_OFFSET: i32 = offset_of!(CallCtx, seed) as i32;
pub const STEP_OFFSET: i32 = offset_of!(CallCtx, step) as i32;
pub const FIRST_OFFSET: i32 = offset_of!(CallCtx, first) as i32;
pub const FLAGS_OFFSET: i32 = offset_of!(CallCtx, flags) as i32;

/// Every base, in the order the prologue loads them.
pub const BASES: [Base; 10] = [
    Base::Params,
    Base::Grads,
    Base::States,
    Base::Scratch,
    Base::Features,
    Base::Labels,
    Base::ClassWeights,
    Base::Scalars,
    Base::Loss,
    Base::Output,
];
