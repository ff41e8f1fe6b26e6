//! Sanity checks before a long training run (`dlc sanity`): three quick
//! experiments that catch most broken set-ups in seconds.
//!
//! 1. `initial.rs`: the loss of the fresh network against what chance gives
//!    (ln C for C classes, ln 2 for a binary output, the targets' mean square
//!    for regression); more than 15% away from it, the outputs start too large.
//! 2. `gradient.rs`: every tensor's gradient on a small batch against central
//!    finite differences of the loss, in f64 on the reference interpreter,
//!    and the back end's own gradients against those.
//! 3. `overfit.rs`: a few mini-batches must be learned by heart (100%
//!    training accuracy) within a bounded number of steps, at the program's
//!    own rate; how it fails says whether the rate is too high or too low.
//!
//! Each check gives a pass/fail line with the numbers that decided it, and
//! for a failure the likely cause and what to do.

mod gradient;
mod initial;
mod overfit;

use super::{Bench, RecipeError};

pub use gradient::gradient_check;
pub use initial::{CHANCE_TOLERANCE, InitialLoss, initial_loss, measure_initial_loss};
pub use overfit::overfit;

/// How much work the checks may do.
#[derive(Clone, Debug)]
pub struct SanityOptions {
    /// Samples to learn by heart; `None`: two batches of the plan (at least
    /// 8, at most 128).
    pub overfit_samples: Option<usize>,
    /// The most optimizer steps the overfitting check may take.
    pub max_steps: usize,
    /// Samples in the gradient check's batch.
    pub grad_samples: usize,
    /// Coordinates checked per parameter tensor.
    pub grad_coords: usize,
}

impl Default for SanityOptions {
    fn default() -> Self {
        SanityOptions {
            overfit_samples: None,
            max_steps: 3000,
            grad_samples: 4,
            grad_coords: 6,
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// `initial loss`, `gradients`, `overfit`.
    pub name: &'static str,
    pub passed: bool,
    /// One line with the numbers that decided it.
    pub summary: String,
    /// What is likely wrong and what to do (for a failure).
    pub advice: Vec<String>,
    /// Remarks that do not fail the check.
    pub notes: Vec<String>,
}

impl Check {
    /// The check as printed: `PASS name: summary`, then `help:` and `note:` lines.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} {}: {}",
            if self.passed { "PASS" } else { "FAIL" },
            self.name,
            self.summary
        );
        for a in &self.advice {
            s += &format!("\n  help: {a}");
        }
        for n in &self.notes {
            s += &format!("\n  note: {n}");
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SanityReport {
    pub checks: Vec<Check>,
}

impl SanityReport {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Runs the three checks in order; `on_check` sees each as it finishes.
pub fn sanity(
    bench: &Bench,
    options: &SanityOptions,
    on_check: &mut dyn FnMut(&Check),
) -> Result<SanityReport, RecipeError> {
    let mut checks = Vec::new();
    let init = initial_loss(bench)?;
    on_check(&init);
    let init_ok = init.passed;
    checks.push(init);
    let grads = gradient_check(bench, options)?;
    on_check(&grads);
    checks.push(grads);
    let fit = overfit(bench, options, init_ok)?;
    on_check(&fit);
    checks.push(fit);
    Ok(SanityReport { checks })
}
