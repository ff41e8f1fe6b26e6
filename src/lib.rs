//! dlc: a compiler for a small language that describes neural networks and how to train them.

mod api;
pub mod autodiff;
pub mod check;
pub mod codegen;
pub mod data;
pub mod diag;
pub mod interp;
pub mod ir;
pub mod recipe;
pub mod report;
pub mod rng;
pub mod runtime;
pub mod syntax;

pub use api::{Error, compile, compile_file, compile_with};
pub use runtime::{
    BackendKind, CompiledModel, EpochMetrics, Evaluation, RunError, StopReason, TrainOptions,
    TrainReport,
};
