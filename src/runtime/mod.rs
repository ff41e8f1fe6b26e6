//! The runtime: buffers, back ends and the training loop.

pub mod backend;
pub mod graphs;
pub mod init;
pub mod jit;
