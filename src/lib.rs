//! dlc: a compiler for a small language that describes neural networks and how to train them.

pub mod autodiff;
pub mod check;
pub mod codegen;
pub mod data;
pub mod diag;
pub mod interp;
pub mod ir;
pub mod report;
pub mod rng;
pub mod runtime;
pub mod syntax;
