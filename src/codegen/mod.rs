//! Code generation: Cranelift IR for kernels, compiled to native code.
