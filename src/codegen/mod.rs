//! Code generation: Cranelift IR for kernels, compiled to native code.

pub mod gemm;
pub mod jit;
pub mod plan;
pub mod vecmath;
