//! Reading arguments: what the checker and every definition (layers,
//! optimizers, data sources) share to bind what a program wrote.
//!
//! ```text
//! syntax::Arg --value.rs--> Value (constants folded, names resolved)
//!             --args.rs---> each parameter of a schema bound, with ranges and defaults
//!   sizes.rs:   shapes and element counts, bounded
//!   suggest.rs: "did you mean" for a misspelt name
//! ```
//!
//! Every mistake is reported into a [`Cx`], which the checker turns into
//! diagnostics; nothing here stops at the first one.

pub(crate) mod args;
pub(crate) mod sizes;
mod suggest;
pub(crate) mod value;

pub use suggest::{did_you_mean, distance};

use crate::diag::{Diagnostic, Label};
use crate::syntax::Span;
use std::collections::HashMap;

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

    /// Everything reported, in the order it was reported.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags
    }

    /// Every mistake reported until [`Cx::leave_use`] also names this
    /// block use, described by `what`.
    pub fn enter_use(&mut self, span: Span, what: String) {
        self.origin.push((span, what));
    }

    pub fn leave_use(&mut self) {
        self.origin.pop();
    }

    /// The block uses being expanded, innermost first.
    pub fn use_spans(&self) -> Vec<Span> {
        self.origin.iter().rev().map(|(s, _)| *s).collect()
    }

    pub fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }
}
