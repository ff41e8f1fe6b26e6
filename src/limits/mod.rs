//! Resources: how much memory and time a program may take, judged before
//! anything is allocated or compiled.
//!
//! ```text
//! check::Model --autodiff::graphs--> entry graphs --codegen::plan--> scratch per entry
//!   memory.rs: parameters + state + copies + scratch + batches + data = estimate
//!              estimate > limit  -> a diagnostic at the layer, `batch` or data item
//!              a matrix a kernel cannot address -> a diagnostic at its layer
//! ```
//!
//! The library's [`crate::Options`] carry the [`Limits`]; `dlc check` prints
//! the estimate in its summary and `dlc --max-memory` sets the limit.

pub mod alloc;
pub mod memory;
mod system;

pub use alloc::AllocError;
pub use memory::{MemoryEstimate, bytes};

use crate::autodiff::graphs::Graphs;
use crate::check::Model;
use crate::codegen::BackendKind;
use crate::data::{FileAccess, FilePolicy};
use crate::diag::{Diagnostic, codes};
use crate::ir::VerifyErrors;
use std::time::{Duration, Instant};

/// What a program may use: memory, compile time, and files.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Bytes the model and its training run may plan to use; `None` for no
    /// limit. Default: [`default_max_memory`]. Data read from files may take
    /// what the model leaves of it.
    pub max_memory: Option<u64>,
    /// Time from source text to native code, checked between the stages of
    /// the compiler (each stage's work is bounded by the program's size);
    /// `None` for no limit.
    pub compile_time: Option<Duration>,
    /// Which files the program's data and checkpoint paths may name, of what
    /// kind and size. Default: any file, as for a program of one's own.
    pub files: FilePolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory: default_max_memory(),
            compile_time: None,
            files: FilePolicy::default(),
        }
    }
}

impl Limits {
    /// No limit at all.
    pub fn none() -> Limits {
        Limits {
            max_memory: None,
            compile_time: None,
            files: FilePolicy::default(),
        }
    }

    /// For programs from elsewhere (a service compiling its users' files):
    /// data and checkpoints only inside `root` (after `..` and symbolic
    /// links), regular files of at most 1 GiB, the default memory limit, and
    /// ten seconds to compile.
    pub fn untrusted(root: impl Into<std::path::PathBuf>) -> Limits {
        Limits {
            max_memory: default_max_memory(),
            compile_time: Some(Duration::from_secs(10)),
            files: FilePolicy {
                access: FileAccess::Within(root.into()),
                regular_only: true,
                max_file_bytes: Some(1 << 30),
                max_alloc_bytes: None,
            },
        }
    }

    /// A memory size as a person writes it: `4G`, `512M`, `65536`.
    pub fn parse_memory(text: &str) -> Option<u64> {
        memory::parse_bytes(text)
    }

    /// The file policy for loading data when the model has planned to use
    /// `model_bytes`: the data may take what the memory limit leaves.
    pub fn data_policy(&self, model_bytes: u64) -> FilePolicy {
        let left = self.max_memory.map(|m| m.saturating_sub(model_bytes));
        let max_alloc_bytes = match (self.files.max_alloc_bytes, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        FilePolicy {
            max_alloc_bytes,
            ..self.files.clone()
        }
    }
}

/// Four fifths of the memory this process can count on (physical memory, or
/// the control group's limit if smaller); `None` where neither can be read.
pub fn default_max_memory() -> Option<u64> {
    system::usable_memory().map(|m| m / 5 * 4)
}

/// A model's entry graphs with what they will cost.
pub struct Planned {
    pub graphs: Graphs,
    pub memory: MemoryEstimate,
    /// Errors for a program over the limits (empty when it fits).
    pub diagnostics: Vec<Diagnostic>,
}

/// Builds the entry graphs of `model` and judges them against `limits`.
pub fn plan(model: &Model, backend: BackendKind, limits: &Limits) -> Result<Planned, VerifyErrors> {
    let graphs = Graphs::build(model)?;
    let max_batch = memory::compile_batch(model);
    let estimate = memory::estimate(model, &graphs, backend, max_batch);
    let culprits = memory::Culprits {
        batch: model.train.as_ref().map(|t| t.batch_span.unwrap_or(t.span)),
    };
    let mut diagnostics = refused_paths(model, &limits.files);
    diagnostics.extend(memory::unaddressable(&graphs, max_batch, &culprits));
    if let Some(limit) = limits.max_memory {
        diagnostics.extend(memory::over_limit(model, &estimate, limit, &culprits));
    }
    Ok(Planned {
        graphs,
        memory: estimate,
        diagnostics,
    })
}

/// The program's file paths that `policy` refuses, each a diagnostic at the
/// item that names it (data paths are read, the checkpoint written).
fn refused_paths(model: &Model, policy: &FilePolicy) -> Vec<Diagnostic> {
    if policy.access == FileAccess::Any {
        return Vec::new();
    }
    let mut named: Vec<(&str, bool, crate::syntax::Span, &str)> = Vec::new();
    let mut data = model.data.as_ref();
    while let Some(d) = data {
        named.extend(
            d.source
                .rule()
                .files()
                .into_iter()
                .map(|p| (p, false, d.span, "reads")),
        );
        data = match &d.validation {
            crate::check::Validation::Data(other) => Some(other),
            _ => None,
        };
    }
    if let Some(t) = &model.train
        && let Some(c) = &t.checkpoint
    {
        named.push((c, true, t.span, "writes its checkpoint to"));
    }
    named
        .into_iter()
        .filter_map(|(path, write, span, verb)| {
            let e = policy.check_path(std::path::Path::new(path), write).err()?;
            Some(
                Diagnostic::error(
                    codes::FILE_REFUSED,
                    format!(
                        "this program may not use `{}`",
                        crate::diag::excerpt(path, 80)
                    ),
                    span,
                )
                .label(format!("{verb} `{}`", crate::diag::excerpt(path, 80)))
                .note(e.to_string())
                .help("the embedder allows only the files its `Limits::files` policy names"),
            )
        })
        .collect()
}

/// A point in time by which compiling must be done.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    start: Instant,
    budget: Option<Duration>,
}

/// Compiling took longer than the budget allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "compiling took {:.2} s, more than the budget of {:.2} s (stopped after {stage})",
    elapsed.as_secs_f64(),
    budget.as_secs_f64()
)]
pub struct OverBudget {
    pub stage: &'static str,
    pub elapsed: Duration,
    pub budget: Duration,
}

impl Deadline {
    pub fn start(budget: Option<Duration>) -> Deadline {
        Deadline {
            start: Instant::now(),
            budget,
        }
    }

    /// Fails if the budget is spent, naming the stage just finished.
    pub fn check(&self, stage: &'static str) -> Result<(), OverBudget> {
        let elapsed = self.start.elapsed();
        match self.budget {
            Some(budget) if elapsed > budget => Err(OverBudget {
                stage,
                elapsed,
                budget,
            }),
            _ => Ok(()),
        }
    }
}
