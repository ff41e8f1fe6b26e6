//! The library's front door: source text in, a compiled model out.

use crate::check::{Checked, check_source};
use crate::diag::{Diagnostic, Source, render};
use crate::limits::{self, Deadline, Limits, OverBudget};
use crate::runtime::{BackendKind, CompiledModel, RunError, checkpoint};
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
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
    /// A model file too old to hold the program that wrote it.
    #[error(
        "{path} does not hold the program that wrote it (it was written by an older dlc)\nhelp: give the program too: `dlc predict PROGRAM.dl --model {path} ...`"
    )]
    NoProgram { path: String },
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
    compile_with_options(
        source,
        &Options {
            backend,
            ..Options::default()
        },
    )
}

/// How to compile a program, and what it may use.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub backend: BackendKind,
    pub limits: Limits,
}

/// Checks a program as [`compile_with_options`] would, without compiling
/// it: the checker's diagnostics, then the memory estimate against the
/// limit (in [`Checked::memory`]).
pub fn check_with(source: &str, options: &Options) -> Checked {
    let mut checked = check_source(source);
    if let Some(model) = checked.model.as_ref().filter(|_| !checked.has_errors()) {
        match limits::plan(model, options.backend, &options.limits) {
            Ok(planned) => {
                checked.memory = Some(planned.memory);
                if !planned.diagnostics.is_empty() {
                    checked.diagnostics.extend(planned.diagnostics);
                    checked.model = None;
                }
            }
            // A graph that does not verify is a bug in dlc: `dlc check` says
            // so at the layers involved rather than passing the program.
            Err(errors) => {
                checked.diagnostics.extend(errors.diagnostics());
                checked.model = None;
            }
        }
    }
    checked
}

/// Checks and compiles a program with `options`: a program over the limits
/// is refused with a diagnostic before anything large is allocated.
///
/// ```
/// let source = r#"
///     data points = blobs(points: 100, features: 4096, classes: 2)
///     network net(x: [4096]) -> 2 { dense 4096; relu; dense 2 }
///     train net on points { loss cross_entropy; optimizer adam(lr: 0.001); batch 32; epochs 1 }
/// "#;
/// let options = dlc::Options {
///     limits: dlc::Limits { max_memory: Some(64 << 20), ..dlc::Limits::none() },
///     ..Default::default()
/// };
/// let err = dlc::compile_with_options(source, &options).unwrap_err();
/// let text = err.render("net.dl", source, false);
/// assert!(text.contains("error[E0701]: this program needs about"), "{text}");
/// assert!(text.contains("`dense1` has 16,781,312 parameters"), "{text}");
/// ```
pub fn compile_with_options(source: &str, options: &Options) -> Result<CompiledModel, Error> {
    let deadline = Deadline::start(options.limits.compile_time);
    let checked = check_source(source);
    let model = match checked.model {
        Some(model) if !checked.has_errors() => model,
        _ => {
            return Err(Error::Program {
                diagnostics: checked.diagnostics,
            });
        }
    };
    deadline.check("checking")?;
    // A graph that fails verification is a bug in dlc: shown as internal
    // compiler errors at the layers whose nodes broke an invariant.
    let planned =
        limits::plan(&model, options.backend, &options.limits).map_err(|e| Error::Program {
            diagnostics: e.diagnostics(),
        })?;
    if !planned.diagnostics.is_empty() {
        return Err(Error::Program {
            diagnostics: planned.diagnostics,
        });
    }
    deadline.check("planning")?;
    let mut compiled = CompiledModel::from_graphs(model, planned.graphs, source, options.backend)?;
    compiled.limits = options.limits.clone();
    compiled.planned_bytes = planned.memory.model_bytes();
    deadline.check("code generation")?;
    Ok(compiled)
}

/// Reads, checks and compiles a `.dl` file.
/// A trained model from its model file (what every `dlc run` saves as
/// `model.safetensors` in its run directory) or a checkpoint: the program
/// it holds is compiled with `options`, its weights loaded, and its data
/// preparation kept for [`CompiledModel::preparation`]. Nothing of the
/// program's own data files is read.
pub fn open_model(path: impl AsRef<Path>, options: &Options) -> Result<CompiledModel, Error> {
    let path = path.as_ref();
    let provenance = checkpoint::provenance(path, &options.limits.files).map_err(RunError::from)?;
    let Some(program) = provenance.program else {
        return Err(Error::NoProgram {
            path: path.display().to_string(),
        });
    };
    let mut model = compile_with_options(&program, options)?;
    checkpoint::load_weights(&mut model, path, &program).map_err(RunError::from)?;
    model.preparation = provenance.preparation;
    Ok(model)
}

pub fn compile_file(path: impl AsRef<Path>) -> Result<CompiledModel, Error> {
    let path = path.as_ref();
    let source = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    compile(&source)
}
