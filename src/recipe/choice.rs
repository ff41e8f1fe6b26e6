//! From the grid's last stage to one proposal: the lowest score wins, but a
//! tie keeps the program's value.
//!
//! Two scores tie when they differ by at most [`TIE`] of the smaller one.
//! One short run per point cannot tell such settings apart, and a program
//! changed on a difference nobody can measure is only harder to read:
//!
//! - when the program's own setting ties with the best point (or is the
//!   best), it is the proposal, and nothing changes;
//! - along each axis through the best point (its row of decays at its rate,
//!   its column of rates at its decay), the values that tie with the best
//!   are interchangeable: when they are the whole line, or span the
//!   program's value, the program's value is kept on that axis.

use super::Setting;
use super::tune::{GridPoint, Stage};
use std::ops::Range;

/// The relative difference within which two scores are equal.
pub const TIE: f64 = 0.01;

/// Whether two scores are equal within [`TIE`]; a diverged point (+inf)
/// ties with nothing.
pub fn ties(a: f64, b: f64) -> bool {
    a.is_finite() && b.is_finite() && (a - b).abs() <= TIE * a.abs().min(b.abs())
}

/// A coordinate of a [`Setting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    Rate,
    Decay,
}

impl Axis {
    fn of(self, s: &Setting) -> f64 {
        match self {
            Axis::Rate => s.lr,
            Axis::Decay => s.decay,
        }
    }

    fn set(self, s: &mut Setting, value: f64) {
        match self {
            Axis::Rate => s.lr = value,
            Axis::Decay => s.decay = value,
        }
    }

    fn other(self) -> Axis {
        match self {
            Axis::Rate => Axis::Decay,
            Axis::Decay => Axis::Rate,
        }
    }
}

/// What the grid proposes to put into the program.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub setting: Setting,
    /// The point of the grid it comes from (the program's own point when
    /// that tied with the best).
    pub point: usize,
    /// The axes on which tied scores kept the program's value.
    pub kept: Vec<Axis>,
}

impl Proposal {
    /// Whether it is the program's setting, so that there is nothing to confirm.
    pub fn is_program(&self, program: &Setting) -> bool {
        same(&self.setting, program)
    }
}

/// The proposal among `points[last]`, the last stage (the fine points and
/// the program's own, trained equally long); `program` is the program's setting.
pub fn propose(points: &[GridPoint], last: Range<usize>, program: Setting) -> Proposal {
    let score = |i: usize| points[i].score();
    let best = last
        .clone()
        .min_by(|&a, &b| score(a).total_cmp(&score(b)))
        .unwrap_or(last.start);
    let top = score(best);
    let own = last.clone().find(|&i| points[i].stage == Stage::Program);
    if let Some(i) = own.filter(|&i| i == best || ties(score(i), top)) {
        return Proposal {
            setting: program,
            point: i,
            kept: Vec::new(),
        };
    }
    let winner = points[best].setting;
    let mut setting = winner;
    let mut kept = Vec::new();
    for axis in [Axis::Decay, Axis::Rate] {
        let across = axis.other();
        let line: Vec<&GridPoint> = points[last.clone()]
            .iter()
            .filter(|p| p.stage == Stage::Fine && close(across.of(&p.setting), across.of(&winner)))
            .collect();
        let tied: Vec<f64> = line
            .iter()
            .filter(|p| ties(p.score(), top))
            .map(|p| axis.of(&p.setting))
            .collect();
        if tied.len() < 2 {
            continue;
        }
        let (low, high) = tied
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let value = axis.of(&program);
        if tied.len() == line.len() || (low <= value && value <= high) {
            axis.set(&mut setting, value);
            kept.push(axis);
        }
    }
    Proposal {
        setting,
        point: best,
        kept,
    }
}

/// Equal up to rounding: grid rates are products of factors.
pub fn close(x: f64, y: f64) -> bool {
    (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
}

pub fn same(a: &Setting, b: &Setting) -> bool {
    close(a.lr, b.lr) && close(a.decay, b.decay)
}
