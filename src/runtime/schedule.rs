//! The learning rate of every step: the schedule's rate for the epoch, times
//! the warm-up factor.

use crate::check::{Schedule, ScheduleKind};

/// The rate for a step. `epoch` counts from 0; `step` is the global step
/// (from 0) and `steps_per_epoch` converts the warm-up from epochs to steps.
pub fn learning_rate(
    base: f64,
    s: &Schedule,
    epochs: usize,
    epoch: usize,
    step: u64,
    steps_per_epoch: usize,
) -> f64 {
    let e = epoch as f64;
    let rate = match s.kind {
        ScheduleKind::Constant => base,
        ScheduleKind::Step { every, gamma } => base * gamma.powi((epoch / every) as i32),
        ScheduleKind::Exponential { gamma } => base * gamma.powi(epoch as i32),
        ScheduleKind::Cosine { min_lr } => {
            let span = epochs.saturating_sub(1).max(1) as f64;
            let t = (e / span).min(1.0);
            min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
        }
    };
    let warm_steps = s.warmup * steps_per_epoch.max(1) as f64;
    if warm_steps > 0.0 {
        // Rises linearly; the first step already moves (1 / warm_steps of the rate).
        rate * ((step + 1) as f64 / warm_steps).min(1.0)
    } else {
        rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(kind: ScheduleKind, warmup: f64) -> Schedule {
        Schedule { kind, warmup }
    }

    #[test]
    fn cosine_runs_from_base_to_min() {
        let s = sched(ScheduleKind::Cosine { min_lr: 0.01 }, 0.0);
        assert_eq!(learning_rate(0.1, &s, 11, 0, 0, 10), 0.1);
        assert!((learning_rate(0.1, &s, 11, 5, 50, 10) - 0.055).abs() < 1e-12);
        assert!((learning_rate(0.1, &s, 11, 10, 100, 10) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn step_and_exponential_decay_per_epoch() {
        let step = sched(
            ScheduleKind::Step {
                every: 3,
                gamma: 0.5,
            },
            0.0,
        );
        assert_eq!(learning_rate(1.0, &step, 10, 2, 0, 1), 1.0);
        assert_eq!(learning_rate(1.0, &step, 10, 3, 0, 1), 0.5);
        assert_eq!(learning_rate(1.0, &step, 10, 7, 0, 1), 0.25);
        let exp = sched(ScheduleKind::Exponential { gamma: 0.9 }, 0.0);
        assert!((learning_rate(1.0, &exp, 10, 2, 0, 1) - 0.81).abs() < 1e-12);
    }

    #[test]
    fn warmup_rises_linearly_over_steps() {
        let s = sched(ScheduleKind::Constant, 2.0);
        // 2 epochs of 5 steps: steps 0..9 rise, step 9 reaches the base rate.
        assert!((learning_rate(1.0, &s, 10, 0, 0, 5) - 0.1).abs() < 1e-12);
        assert!((learning_rate(1.0, &s, 10, 0, 4, 5) - 0.5).abs() < 1e-12);
        assert_eq!(learning_rate(1.0, &s, 10, 1, 9, 5), 1.0);
        assert_eq!(learning_rate(1.0, &s, 10, 5, 30, 5), 1.0);
    }
}
