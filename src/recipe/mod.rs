//! The built-in training recipe: what to do before and around training.
//!
//! ```text
//! source --bench.rs--> Bench: one compiled model, its data, the program's plan
//!   sanity/:    initial loss, whole-network gradient check, overfit a small sample
//!   lr_find.rs: sweep the rate exponentially, suggest one and a safe range
//!   tune.rs:    grid over rate and decay on forks of the one model, on every core
//!   choice.rs:  the grid's proposal; ties keep the program's values
//!   confirm.rs: the proposal against the program at the program's own budget
//!   edit.rs:    write the winning values back into the program text, by spans
//! ```
//!
//! Everything here runs on the same entry points as `dlc run`, through a
//! [`Bench`]: the weight decay that tuning varies is applied between the
//! compiled `backward` and `update` entries, so a single compilation serves
//! every setting (see `bench.rs`).

mod bench;
pub mod choice;
pub mod confirm;
pub mod edit;
pub mod lr_find;
pub mod sanity;
mod steps;
pub mod tune;
mod tune_split;

pub use crate::syntax::format_number;
pub use bench::{Bench, DecayKind, Setting};
pub use choice::{Axis, Proposal};
pub use confirm::{Confirmation, Keep, Outcome};
pub use edit::{EditError, write_setting};
pub use lr_find::{LrFind, LrFindOptions, lr_find};
pub use sanity::{Check, SanityOptions, SanityReport, sanity};
pub use steps::{RunCurve, Stepper, train_setting};
pub use tune::{GridPoint, Progress, Stage, TuneOptions, TuneResult, tune};

use crate::runtime::RunError;

/// What can stop a recipe.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    /// The program does not check or compile.
    #[error(transparent)]
    Program(#[from] crate::Error),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(
        "the program has no `train` item, so there is nothing to {0}\nhelp: add `train NETWORK on DATA {{ ... }}`"
    )]
    NoTrainPlan(&'static str),
    #[error("the training data is empty: there is nothing to {0}")]
    NoData(&'static str),
    #[error("{0}")]
    Options(String),
}
