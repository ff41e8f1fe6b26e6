//! dlc: a compiler for a small language that describes neural networks and how to train them.

pub mod codegen;
pub mod data;
pub mod rng;
