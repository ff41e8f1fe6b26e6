//! The graph IR: what a network computes, as primitive tensor ops.
//!
//! ```text
//! check::Model --lower.rs--> Graph (forward, train or eval mode)
//!   --autodiff--> Graph + gradients + optimizer update
//!   --verify.rs between passes; print.rs for `--emit ir|grad`
//! ```
//!
//! Values are arena-indexed ([`ValueId`]) and in topological order; shapes are
//! static but for the batch dimension ([`Dim::N`]).

pub mod dropout;
mod graph;
mod lower;
mod ops;
mod print;
mod shape;
mod verify;

pub use graph::*;
pub use lower::{Lowered, Mode, lower};
pub use ops::*;
pub use print::{op_text, print_graph};
pub use shape::{Dim, Shape};
pub use verify::{VerifyError, verify};
