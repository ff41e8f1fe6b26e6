//! The intermediate forms of a program as text, for `dlc check --emit`:
//!
//! ```text
//! ast      the parsed syntax tree
//! ir       the graph IR of each forward entry point (training and evaluation mode)
//! grad     the backward graph (forward + loss + gradients) and the update graph
//! kernels  the kernel plan of each entry point
//! clif     the Cranelift IR of each entry point, as generated
//! ```
//!
//! Each entry point's text starts with a `; entry NAME` line.

use crate::api::Error;
use crate::autodiff::graphs::{Entry, Graphs};
use crate::check::check_source;
use crate::codegen::{CompileOptions, compile};
use crate::ir::{Mode, print_graph, verify};
use crate::lower::lower;
use crate::runtime::RunError;
use crate::runtime::model::max_batch_of;
use std::fmt::Write;

/// Which intermediate form to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Ast,
    Ir,
    Grad,
    Kernels,
    Clif,
}

/// The program's `stage` as text; a program with errors gives its diagnostics.
///
/// ```
/// let source = "network net(x: [2]) -> 1 { dense 1; sigmoid }";
/// let ir = dlc::emit(source, dlc::Stage::Ir).unwrap();
/// assert!(ir.starts_with("; entry predict"));
/// assert!(ir.contains("matmul"));
/// ```
pub fn emit(source: &str, stage: Stage) -> Result<String, Error> {
    if stage == Stage::Ast {
        let program =
            crate::syntax::parse(source).map_err(|diagnostics| Error::Program { diagnostics })?;
        return Ok(crate::syntax::print_program(&program, source));
    }
    let checked = check_source(source);
    let model = match checked.model {
        Some(model) if !checked.has_errors() => model,
        _ => {
            return Err(Error::Program {
                diagnostics: checked.diagnostics,
            });
        }
    };
    let mut out = String::new();
    let mut section = |name: &str, body: &str| {
        let _ = writeln!(out, "; entry {name}");
        out.push_str(body);
        out.push('\n');
    };
    match stage {
        Stage::Ast => unreachable!("handled above"),
        Stage::Ir => {
            let predict = lower(&model, Mode::Eval, false).graph;
            verify(&predict).map_err(RunError::from)?;
            section("predict", &print_graph(&predict, Some(source)));
            if model.train.is_some() {
                let train = lower(&model, Mode::Train, true).graph;
                verify(&train).map_err(RunError::from)?;
                section("train_forward", &print_graph(&train, Some(source)));
            }
        }
        Stage::Grad => {
            let graphs = Graphs::build(&model).map_err(RunError::from)?;
            for entry in [Entry::Backward, Entry::Update] {
                if let Some(g) = graphs.get(entry) {
                    section(entry.name(), &print_graph(g, Some(source)));
                }
            }
            if graphs.backward.is_none() {
                out.push_str("; the program has no training plan, so nothing to differentiate\n");
            }
        }
        Stage::Kernels | Stage::Clif => {
            let graphs = Graphs::build(&model).map_err(RunError::from)?;
            let options = CompileOptions {
                keep_clif: stage == Stage::Clif,
                ..CompileOptions::new(max_batch_of(&model))
            };
            let compiled = compile(&graphs, &options).map_err(RunError::from)?;
            for c in &compiled.entries {
                let body = if stage == Stage::Kernels {
                    &c.plan_text
                } else {
                    &c.clif_text
                };
                section(c.entry.name(), body);
            }
        }
    }
    Ok(out)
}
