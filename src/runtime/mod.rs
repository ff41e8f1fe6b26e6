//! The runtime: a compiled model's buffers and back ends, the training loop,
//! data loading, the learning-rate schedule, initialisation and checkpoints.
//!
//! ```text
//! check::Model --graphs.rs--> entry points (train_step, backward, update, eval, predict)
//!   --backend.rs--> JIT (codegen) or reference interpreter
//!   model.rs: buffers + back end;  train.rs: epochs, validation, early stopping
//!   run_state.rs: what a run carries between epochs (and checkpoints keep)
//!   load.rs: data item -> data sets;  checkpoint.rs: safetensors files
//!   class_weights.rs: the loss's class weights, a list or counted on the training data
//! ```

pub mod backend;
pub mod checkpoint;
pub mod class_weights;
pub mod data_parallel;
pub mod diverge;
pub mod init;
pub mod jit;
pub mod load;
pub mod model;
pub mod parity;
pub mod run_state;
pub mod schedule;
pub mod tensor_file;
pub mod train;

pub use model::{BackendKind, CompiledModel, RunError};
pub use train::{
    CHECKPOINT_COST_FACTOR, CHECKPOINT_INTERVAL, EpochMetrics, Evaluation, StepHook, StepProgress,
    StopReason, TrainOptions, TrainReport,
};
