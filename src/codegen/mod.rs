//! Code generation: kernel plans -> Cranelift IR -> native functions.
//!
//! ```text
//! autodiff::graphs (one graph per entry point)
//!   --plan-------> kernels over planned memory (plan/)
//!   --compile----> one function per entry point, `extern "C" fn(*const CallCtx)`:
//!                  elementwise.rs + instr.rs (fused loops), matmul.rs + gemm.rs,
//!                  conv.rs + im2col.rs, pool.rs + pool2x2.rs + pool_loop.rs, copy.rs,
//!                  with vecmath.rs for exp/log/tanh/sigmoid (host_tanh.rs and
//!                  host_dropout.rs: a tanh over a whole buffer and dropout
//!                  masks, with AVX-512); slice.rs gives the
//!                  large kernels a function per band of rows, run on workers.rs
//!   --jit.rs-----> machine code for the host
//!            \---> object.rs + object_wrapper.rs: the predict entry alone, inline
//!                  kernels only, with a C interface, as an object file (`dlc build`)
//! ```

pub mod abi;
mod compile;
mod conv;
mod copy;
mod elementwise;
mod func;
pub mod gemm;
mod guard;
pub mod host_dropout;
pub mod host_im2col;
pub mod host_pool;
pub mod host_tanh;
mod im2col;
mod instr;
pub mod jit;
mod matmul;
pub mod object;
mod object_wrapper;
pub mod plan;
mod pool;
mod pool2x2;
mod pool_loop;
pub mod slice;
pub mod profile;
mod target;
pub mod workers;
pub mod vecmath;

pub use abi::CallCtx;
pub use compile::{
    CompileOptions, Compiled, CompiledEntry, compile, compile_entries, default_threads, plan_graph,
    scratch_len,
};
pub use func::GemmPolicy;
pub use jit::{CodegenError, TargetCpu};
pub use target::{BackendKind, DEFAULT_MAX_BATCH};
