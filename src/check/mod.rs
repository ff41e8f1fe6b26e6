//! The checker: AST -> checked [`Model`] + diagnostics.
//!
//! ```text
//! ast::Program --items.rs--> one network, its data and its training plan
//!   network.rs: statements and blocks expanded into a graph of layers
//!   crate::layers: each layer kind's arguments, shape rule and parameters
//!   data.rs / train.rs: sources and settings, with defaults
//!   class_weights.rs: `class_weights`, and whether it fits the loss
//!   init.rs:    initialisation chosen from the activation that follows;
//!               the output layers drawn small
//!   lints.rs:   warnings for legal but suspicious programs
//! ```
//!
//! The checker never stops at the first error: a wrong layer yields an unknown
//! shape that later shape rules skip silently, so every independent mistake is
//! reported once and no mistake is reported twice.

mod class_weights;
mod data;
mod init;
mod items;
pub(crate) mod layers;
mod lints;
pub mod model;
mod network;
mod standardize;
mod train;

pub use crate::bind::{Cx, did_you_mean, distance};
pub use init::{OUTPUT_GAIN, output_layers};
pub use model::*;

use crate::diag::Diagnostic;
use crate::syntax::Program;

/// The result of checking: the model when there is no error, and every
/// diagnostic (errors and warnings) in source order.
#[derive(Debug)]
pub struct Checked {
    pub model: Option<Model>,
    pub diagnostics: Vec<Diagnostic>,
    /// The memory the program will use, when [`crate::check_with`] estimated it.
    pub memory: Option<MemoryEstimate>,
}

/// Bytes the runtime will allocate, by what they are for: made by the
/// planner (`crate::limits`), which also reads and prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Parameters and their gradients.
    pub parameters: u64,
    /// Running statistics and optimizer moments.
    pub state: u64,
    /// The best epoch's weights (early stopping), the last epoch's snapshot
    /// (restored after a divergence) and a checkpoint being serialised.
    pub copies: u64,
    /// Planned scratch memory of the compiled functions at the largest batch.
    pub scratch: u64,
    /// The part of `scratch` that does not grow with the batch (weight
    /// gradients on their way to the update, and the like).
    pub scratch_fixed: u64,
    /// Buffers of one batch: features, targets and outputs.
    pub batches: u64,
    /// Compiling the entry points (the code generator's working memory).
    pub code: u64,
    /// The data sets in memory while they are prepared, when their size is
    /// known before any file is read.
    pub data: Option<u64>,
    /// The largest batch the functions are compiled for.
    pub max_batch: usize,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks a parsed program.
pub fn check(program: &Program) -> Checked {
    let mut cx = Cx::default();
    let model = items::check_program(&mut cx, program);
    let mut diagnostics = cx.into_diagnostics();
    diagnostics.sort_by_key(|d| (d.primary.span.start, d.severity));
    let model = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        model
    };
    if let Some(m) = &model {
        let mut lint_cx = Cx::default();
        lints::lint(&mut lint_cx, m, program);
        diagnostics.extend(lint_cx.into_diagnostics());
        diagnostics.sort_by_key(|d| (d.primary.span.start, d.severity));
    }
    Checked {
        model,
        diagnostics,
        memory: None,
    }
}

/// Parses and checks source text.
pub fn check_source(text: &str) -> Checked {
    match crate::syntax::parse(text) {
        Ok(program) => check(&program),
        Err(diagnostics) => Checked {
            model: None,
            diagnostics,
            memory: None,
        },
    }
}
