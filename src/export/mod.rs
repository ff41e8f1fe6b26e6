//! Exporting a trained model for other runtimes.
//!
//! `onnx`: the evaluation-mode network, with the data's preparation in front
//! of it and the probabilities (or target units) behind it, as an ONNX model
//! that onnxruntime and other ONNX tools run on the raw feature rows that
//! `dlc predict` reads.

pub mod onnx;
