//! The library's front door: source text in, a compiled model out.

use crate::check::check_source;
use crate::diag::{Diagnostic, Source, render};
use crate::runtime::{BackendKind, CompiledModel, RunError};
use std::path::Path;

/// Everything that can go wrong between source text and a trained model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The program does not check; `diagnostics` says where and why.
    #[error("{}", summary(diagnostics))]
    Program { diagnostics: Vec<Diagnostic> },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] RunError),
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    match errors.first() {
        Some(first) if errors.len() == 1 => format!("error[{}]: {}", first.code, first.message),
        Some(first) => format!(
            "error[{}]: {} (and {} more errors)",
            first.code,
            first.message,
            errors.len() - 1
        ),
        None => "the program has no errors".into(),
    }
}

impl Error {
    /// The error as a person reads it; diagnostics are rendered against the
    /// source, as `dlc check` prints them.
    pub fn render(&self, name: &str, source: &str, color: bool) -> String {
        match self {
            Error::Program { diagnostics } => {
                render(&Source { name, text: source }, diagnostics, color)
            }
            other => format!("error: {other}\n"),
        }
    }
}

/// Checks and compiles a program to native code.
///
/// ```
/// let source = r#"
///     data points = xor()
///     network net(x: [2]) -> 2 { dense 8; tanh; dense 2 }
///     train net on points { loss cross_entropy; optimizer sgd(lr: 0.5); batch all; epochs 3 }
/// "#;
/// let mut model = dlc::compile(source).unwrap();
/// let report = model.train(&Default::default(), &mut |_| {}).unwrap();
/// assert_eq!(report.epochs.len(), 3);
/// let logits = model.predict(&[0.0, 1.0]).unwrap();
/// assert_eq!(logits.len(), 2);
/// ```
pub fn compile(source: &str) -> Result<CompiledModel, Error> {
    compile_with(source, BackendKind::Jit)
}

/// Checks and compiles a program for the given back end.
pub fn compile_with(source: &str, backend: BackendKind) -> Result<CompiledModel, Error> {
    let checked = check_source(source);
    match checked.model {
        Some(model) if !checked.has_errors() => Ok(CompiledModel::new(model, source, backend)?),
        _ => Err(Error::Program {
            diagnostics: checked.diagnostics,
        }),
    }
}

/// Reads, checks and compiles a `.dl` file.
pub fn compile_file(path: impl AsRef<Path>) -> Result<CompiledModel, Error> {
    let path = path.as_ref();
    let source = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    compile(&source)
}
