//! The checker: AST -> checked [`Model`] + diagnostics.
//!
//! ```text
//! ast::Program --items.rs--> one network, its data and its training plan
//!   network.rs: statements and blocks expanded into a graph of layers
//!   crate::layers: each layer kind's arguments, shape rule and parameters
//!   data.rs / train.rs: sources and settings, with defaults
//!   init.rs:    initialisation chosen from the activation that follows
//!   lints.rs:   warnings for legal but suspicious programs
//! ```
//!
//! The checker never stops at the first error: a wrong layer yields an unknown
//! shape that later shape rules skip silently, so every independent mistake is
//! reported once and no mistake is reported twice.

pub(crate) mod args;
mod data;
mod init;
mod items;
pub(crate) mod layers;
mod lints;
pub mod model;
mod network;
mod suggest;
mod train;
pub(crate) mod value;

pub use model::*;
pub use suggest::{did_you_mean, distance};

use crate::diag::{Diagnostic, Label};
use crate::syntax::{Program, Span};
use std::collections::HashMap;

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
    let mut diagnostics = cx.diags;
    diagnostics.sort_by_key(|d| (d.primary.span.start, d.severity));
    let model = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        model
    };
    if let Some(m) = &model {
        let mut lint_cx = Cx::default();
        lints::lint(&mut lint_cx, m, program);
        diagnostics.extend(lint_cx.diags);
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

/// What every check function reports into.
#[derive(Default)]
pub struct Cx {
    diags: Vec<Diagnostic>,
    /// Index of each reported mistake by (code, span, message), so that a
    /// repeat is found without scanning every diagnostic (a file can hold
    /// very many mistakes).
    seen: HashMap<(&'static str, Span, String), usize>,
    /// Layers expanded so far in all networks: the bound on expansion holds
    /// for the whole program, not for each network.
    pub(crate) layers_expanded: usize,
    /// The block uses being expanded, outermost first, each with a description
    /// of its arguments: every error inside a block names the use that led there.
    origin: Vec<(Span, String)>,
}

impl Cx {
    pub fn err(&mut self, mut d: Diagnostic) {
        // A block used twice with the same mistake is one mistake: it is
        // reported once, with a label at every use that leads to it.
        let key = (d.code, d.primary.span, d.message.clone());
        if let Some(first) = self.seen.get(&key).map(|&i| &mut self.diags[i]) {
            for (span, what) in self.origin.iter().rev() {
                if !first.secondary.iter().any(|l| l.span == *span) {
                    first.secondary.push(Label {
                        span: *span,
                        message: format!("also {what}"),
                    });
                }
            }
            return;
        }
        for (span, what) in self.origin.iter().rev() {
            d = d.secondary(*span, what.clone());
        }
        self.seen.insert(key, self.diags.len());
        self.diags.push(d);
    }

    pub fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }
}
