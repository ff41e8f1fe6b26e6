//! The graph IR: what a network computes, as primitive tensor ops.
//!
//! ```text
//! check::Model --crate::lower--> Graph (forward, train or eval mode)
//!   --autodiff--> Graph + gradients + optimizer update
//!   --verify.rs between passes; print.rs for `--emit ir|grad`, parse.rs back
//! ```
//!
//! Each primitive's result shape has one rule (`rules.rs`), used by the
//! builders to shape new nodes and by the verifier to check stored ones.
//!
//! Values are arena-indexed ([`ValueId`]) and in topological order; shapes are
//! static but for the batch dimension ([`Dim::N`]).

mod compose;
pub mod dropout;
mod graph;
mod init;
mod ops;
mod parse;
mod print;
mod rules;
mod scalars;
mod shape;
mod verify;

pub use compose::softplus;
pub use graph::*;
pub use init::Init;
pub use ops::*;
pub use parse::{ParseError, parse_graph};
pub use print::{init_text, op_text, print_graph, sink_text};
pub use rules::{ShapeError, Tables, result_shape};
pub use scalars::{ScalarKind, Shard, StepScalars};
pub use shape::{Dim, Shape};
pub use verify::{VerifyError, VerifyErrors, verify};
