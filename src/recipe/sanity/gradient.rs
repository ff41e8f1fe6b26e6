//! The second check: whole-network gradients against finite differences.
//!
//! On a small batch of real training samples and the fresh parameters, the
//! reference interpreter evaluates the training-mode loss in f64. For a few
//! coordinates of every parameter tensor, the gradient from reverse-mode
//! differentiation is compared with the central difference
//! `(L(w + h) - L(w - h)) / 2h`; then the back end's own gradients (the
//! `backward` entry, in f32) are compared with the f64 ones.
//!
//! A coordinate where the one-sided differences disagree sits on a kink
//! (a ReLU at exactly 0, a tie in a max pool): there the central difference
//! is no derivative, so it is skipped and counted. So are the coordinates
//! of a tensor the loss does not depend on (it has no gradient to compare).
//! The summary says how many were skipped and why.

use super::{Check, SanityOptions};
use crate::autodiff::differentiate;
use crate::autodiff::graphs::Entry;
use crate::interp::{Inputs, evaluate};
use crate::ir::{Mode, StepScalars, verify};
use crate::lower::lower;
use crate::recipe::{Bench, RecipeError};
use crate::runtime::backend::Call;

/// Largest relative error of an f64 gradient against central differences.
pub const F64_TOLERANCE: f64 = 1e-5;
/// Largest error of the back end's f32 gradients, relative to the tensor's
/// largest gradient (at least 1% of the network's largest).
pub const BACKEND_TOLERANCE: f64 = 1e-3;
const STEP: f64 = 1e-6;

fn interp(e: crate::interp::InterpError) -> crate::runtime::RunError {
    crate::runtime::RunError::Backend(crate::runtime::backend::BackendError::Interp(e))
}

pub fn gradient_check(bench: &Bench, options: &SanityOptions) -> Result<Check, RecipeError> {
    let model = &bench.model.model;
    let forward = lower(model, Mode::Train, true);
    let Some(loss) = forward.loss else {
        return Err(RecipeError::NoTrainPlan("check gradients of"));
    };
    let fwd = forward.graph;
    let mut g = fwd.clone();
    let grads = differentiate(&mut g, loss);
    verify(&g).map_err(crate::runtime::RunError::from)?;

    let fresh = bench.fresh(bench.plan.seed)?;
    let named = fresh.parameters();
    let mut params: Vec<Vec<f64>> = Vec::with_capacity(g.params.len());
    for p in &g.params {
        let values = named
            .iter()
            .find(|(n, _, _)| *n == p.name)
            .map(|(_, _, v)| v.iter().map(|&x| x as f64).collect())
            .ok_or_else(|| {
                crate::runtime::RunError::Mismatch(format!(
                    "internal compiler error: parameter `{}` is missing from the model's layout",
                    p.name
                ))
            })?;
        params.push(values);
    }
    let states: Vec<Vec<f64>> = g
        .states
        .iter()
        .map(|s| vec![s.init as f64; s.shape.iter().product()])
        .collect();
    let n = options.grad_samples.clamp(1, bench.train.len());
    let sample = bench.train.select(&(0..n).collect::<Vec<_>>())?;
    let features32 = sample.features.clone();
    let mut labels32 = vec![0.0f32; n * sample.targets.target_len()];
    let tl = sample.targets.target_len();
    for i in 0..n {
        sample
            .targets
            .write_target(i, &mut labels32[i * tl..(i + 1) * tl]);
    }
    let features: Vec<f64> = features32.iter().map(|&x| x as f64).collect();
    let labels: Vec<f64> = labels32.iter().map(|&x| x as f64).collect();
    let class_weights: Vec<f64> = fresh.class_weights().iter().map(|&w| w as f64).collect();
    let seed = bench.plan.seed;
    let run = |graph: &crate::ir::Graph, params: &[Vec<f64>]| {
        let inputs = Inputs {
            batch: n,
            features: &features,
            labels: &labels,
            class_weights: &class_weights,
            params,
            states: &states,
            grads: &[],
            scalars: StepScalars::NO_STEP,
            seed,
            step: 0,
            shard: crate::ir::Shard::WHOLE,
        };
        evaluate(graph, &inputs)
    };
    let vals = run(&g, &params).map_err(interp)?;
    let base = vals[loss.index()][0];

    // Gradients that cancel to 0 (a bias before a norm) leave only rounding
    // noise: errors are measured against the tensor's own scale, but never
    // a scale below a small share of the largest gradient in the network.
    let global = grads
        .iter()
        .flatten()
        .flat_map(|v| vals[v.index()].iter())
        .fold(0.0f64, |m, a| m.max(a.abs()));
    let (mut worst, mut worst_at, mut checked) = (0.0f64, String::new(), 0usize);
    let mut skipped = Skipped::default();
    let mut perturbed = params.clone();
    for (p, grad) in grads.iter().enumerate() {
        let len = params[p].len();
        let coords = options.grad_coords.max(1);
        let Some(grad) = grad else {
            skipped.unused += len.min(coords);
            continue;
        };
        let analytic = &vals[grad.index()];
        let scale = analytic.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        let stride = (len / coords).max(1);
        for k in (0..len).step_by(stride).take(coords) {
            let w = params[p][k];
            perturbed[p][k] = w + STEP;
            let plus = run(&fwd, &perturbed).map_err(interp)?[loss.index()][0];
            perturbed[p][k] = w - STEP;
            let minus = run(&fwd, &perturbed).map_err(interp)?[loss.index()][0];
            perturbed[p][k] = w;
            let (forward_d, backward_d) = ((plus - base) / STEP, (base - minus) / STEP);
            let numeric = (plus - minus) / (2.0 * STEP);
            // Gradients are compared on the scale of the tensor and of the
            // network, and never below what the central difference can
            // resolve: its rounding noise is about eps * |L| / h.
            let noise = 1e-15 * (1.0 + base.abs()) / STEP;
            let floor = (1e-3 * scale).max(1e-3 * global).max(noise / F64_TOLERANCE);
            if (forward_d - backward_d).abs()
                > 1e-3 * forward_d.abs().max(backward_d.abs()).max(floor)
            {
                skipped.kinks += 1;
                continue;
            }
            let a = analytic[k];
            let err = (a - numeric).abs() / a.abs().max(numeric.abs()).max(floor);
            checked += 1;
            if err > worst {
                worst = err;
                worst_at = format!(
                    "{}[{k}]: autodiff {a:.6e}, finite difference {numeric:.6e}",
                    g.params[p].name
                );
            }
        }
    }

    // The back end's own gradients on the same batch.
    let mut compiled = fresh;
    let call = Call {
        n,
        features: &features32,
        labels: &labels32,
        scalars: StepScalars::NO_STEP,
        seed,
        step: 0,
        shard: crate::ir::Shard::WHOLE,
    };
    let mut out = vec![0.0f32; n * compiled.output_width()];
    compiled.call_or_nan(Entry::Backward, &call, &mut out)?;
    let (mut backend_worst, mut backend_at) = (0.0f64, String::new());
    let layout = compiled.layout.params.clone();
    for (p, grad) in grads.iter().enumerate() {
        let (Some(grad), Some(&offset)) = (grad, layout.get(p)) else {
            continue;
        };
        let reference = &vals[grad.index()];
        let Some(ours) = compiled.buffers.grads.get(offset..offset + reference.len()) else {
            continue;
        };
        let scale = reference
            .iter()
            .fold(0.0f64, |m, a| m.max(a.abs()))
            .max(1e-2 * global)
            .max(1e-12);
        for (k, (&a, &b)) in reference.iter().zip(ours).enumerate() {
            let err = (a - b as f64).abs() / scale;
            if err > backend_worst {
                backend_worst = err;
                backend_at = format!("{}[{k}]: back end {b:.6e}, f64 {a:.6e}", g.params[p].name);
            }
        }
    }

    let passed = checked > 0 && worst <= F64_TOLERANCE && backend_worst <= BACKEND_TOLERANCE;
    let mut summary = format!(
        "{checked} coordinates on {n} samples: worst relative error {worst:.1e} (limit {F64_TOLERANCE:.0e}); \
         back end vs f64 {backend_worst:.1e} (limit {BACKEND_TOLERANCE:.0e})"
    );
    summary += &skipped.text();
    let mut advice = Vec::new();
    if checked == 0 {
        advice.push(
            "every coordinate was skipped (on a kink, or in a tensor the loss does not depend on): \
             nothing was compared"
                .into(),
        );
    }
    if worst > F64_TOLERANCE {
        advice.push(format!(
            "the compiler's gradient disagrees with the loss at {worst_at}: this is a compiler bug, please report it with the program"
        ));
    }
    if backend_worst > BACKEND_TOLERANCE {
        advice.push(format!(
            "the back end's gradient disagrees with the reference interpreter at {backend_at}: \
             a code generation bug; `dlc run --interpret` trains on the interpreter meanwhile"
        ));
    }
    Ok(Check {
        name: "gradients",
        passed,
        summary,
        advice,
        notes: Vec::new(),
    })
}

/// Coordinates the finite-difference comparison passed over, by why.
#[derive(Default)]
struct Skipped {
    /// On a kink: the one-sided differences disagree.
    kinks: usize,
    /// In a tensor the loss does not depend on (it has no gradient).
    unused: usize,
}

impl Skipped {
    /// `; 3 coordinates skipped: 3 on kinks (...)`, or nothing.
    fn text(&self) -> String {
        let mut why = Vec::new();
        if self.kinks > 0 {
            why.push(format!(
                "{} on kinks (the one-sided differences disagree)",
                self.kinks
            ));
        }
        if self.unused > 0 {
            why.push(format!(
                "{} in tensors the loss does not depend on",
                self.unused
            ));
        }
        match self.kinks + self.unused {
            0 => String::new(),
            1 => format!("; 1 coordinate skipped: {}", why.join(", ")),
            n => format!("; {n} coordinates skipped: {}", why.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Skipped;

    #[test]
    fn skipped_coordinates_are_counted_by_why_and_only_when_there_are_some() {
        assert_eq!(Skipped::default().text(), "");
        let one = Skipped {
            kinks: 1,
            unused: 0,
        }
        .text();
        assert!(
            one.starts_with("; 1 coordinate skipped: 1 on kinks"),
            "{one}"
        );
        let both = Skipped {
            kinks: 2,
            unused: 6,
        }
        .text();
        assert!(
            both.starts_with("; 8 coordinates skipped: 2 on kinks")
                && both.ends_with(", 6 in tensors the loss does not depend on"),
            "{both}"
        );
    }
}
