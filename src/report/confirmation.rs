//! What the tuner decided after its confirmation at the program's own
//! budget: which setting is kept and why, as JSON for `tune.json` and as
//! text and a table for the report.

use super::html::Block;
use crate::recipe::confirm::{mean_accuracy, mean_loss};
use crate::recipe::{Confirmation, DecayKind, Keep, Outcome, Setting, TuneResult, choice};
use crate::syntax::format_number;
use serde_json::{Value, json};

fn pct(a: f64) -> String {
    format!("{:.1}%", a * 100.0)
}

/// `learning rate 0.01, weight_decay 0.001`.
fn setting_text(kind: DecayKind, s: &Setting) -> String {
    format!(
        "learning rate {}, {} {}",
        format_number(s.lr),
        kind.keyword(),
        format_number(s.decay)
    )
}

/// Which setting the tuner keeps, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Whether the proposal replaces the program's setting.
    pub proposal_kept: bool,
    /// A word for programs: `confirmed`, `program_best_on_grid`,
    /// `diverged`, `not_lower`, `tie`, `noise`, `lower_accuracy`.
    pub reason: &'static str,
    /// The reason, as a clause that follows "kept: ...:".
    pub text: String,
}

impl Decision {
    pub(super) fn kept_setting(&self, t: &TuneResult) -> String {
        let whose = if self.proposal_kept {
            "the proposal"
        } else {
            "the program's own"
        };
        format!("{whose} ({})", setting_text(t.decay_kind, &t.chosen()))
    }

    pub fn to_json(&self) -> Value {
        json!({
            "kept": if self.proposal_kept { "proposal" } else { "program" },
            "reason": self.reason,
            "text": self.text,
        })
    }
}

/// The tuner's decision: the proposal once the confirmation found it
/// better, the program's setting otherwise.
pub fn decision(t: &TuneResult) -> Decision {
    let Some(c) = &t.confirmation else {
        return Decision {
            proposal_kept: false,
            reason: "program_best_on_grid",
            text: format!(
                "the program's own setting did best on the grid, or tied with the best within \
                 {}%: there was nothing to confirm.",
                choice::TIE * 100.0
            ),
        };
    };
    let measure = if c.validation {
        "validation"
    } else {
        "training"
    };
    let (program, proposed) = (mean_loss(&c.program), mean_loss(&c.proposed));
    let against = format!(
        "the proposal's mean {measure} loss is {proposed:.4} against the program's {program:.4}"
    );
    let (reason, text) = match c.keep {
        None => (
            "confirmed",
            format!(
                "{against}, lower by {:.4}, more than the noise between seeds and more than {}%.",
                c.gain(),
                choice::TIE * 100.0
            ),
        ),
        Some(Keep::Diverged) => (
            "diverged",
            "with the proposal, training diverged at the program's budget.".to_string(),
        ),
        Some(Keep::NotLower) => ("not_lower", format!("{against}, which is not lower.")),
        Some(Keep::Tie) => (
            "tie",
            format!(
                "{against}, lower by less than {}%: a tie.",
                choice::TIE * 100.0
            ),
        ),
        Some(Keep::Noise { noise }) => (
            "noise",
            format!(
                "{against}, lower by {:.4}, within the noise between seeds (standard error \
                 {noise:.4}).",
                c.gain()
            ),
        ),
        Some(Keep::LowerAccuracy) => (
            "lower_accuracy",
            format!(
                "{against}, but its mean {measure} accuracy is lower, {} against {}.",
                mean_accuracy(&c.proposed).map_or("-".into(), pct),
                mean_accuracy(&c.program).map_or("-".into(), pct)
            ),
        ),
    };
    Decision {
        proposal_kept: c.keep.is_none(),
        reason,
        text,
    }
}

/// A loss for JSON: null for a run that diverged.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// One side of the confirmation: its setting, each seed's loss and
/// accuracy, and their means.
fn runs_json(setting: &Setting, runs: &[Outcome]) -> Value {
    json!({
        "lr": setting.lr,
        "decay": setting.decay,
        "losses": runs.iter().map(|o| finite(o.loss)).collect::<Vec<_>>(),
        "accuracies": runs.iter().map(|o| o.accuracy).collect::<Vec<_>>(),
        "epochs_trained": runs.iter().map(|o| o.epochs).collect::<Vec<_>>(),
        "mean_loss": finite(mean_loss(runs)),
        "mean_accuracy": mean_accuracy(runs),
    })
}

/// The confirmation: the seeds, the budget, both sides' runs.
pub(super) fn confirmation_json(c: &Confirmation, t: &TuneResult) -> Value {
    json!({
        "seeds": c.seeds,
        "epochs": c.epochs,
        "measured_on": if c.validation { "validation" } else { "training" },
        "program": runs_json(&t.program, &c.program),
        "proposal": runs_json(&c.proposal, &c.proposed),
        "kept": if c.keep.is_none() { "proposal" } else { "program" },
    })
}

/// The decision, and with a confirmation the table of its runs: a row per
/// seed, the means last.
pub(super) fn confirmation_blocks(t: &TuneResult, decided: &Decision) -> Vec<Block> {
    let mut blocks = vec![Block::Text(format!(
        "Kept: {}: {}",
        decided.kept_setting(t),
        decided.text
    ))];
    let Some(c) = &t.confirmation else {
        return blocks;
    };
    let measure = if c.validation {
        "validation"
    } else {
        "training"
    };
    blocks.insert(
        0,
        Block::Text(format!(
            "The grid's proposal ({}) and the program's setting ({}) were each trained as the \
             program trains, for its {} epochs with its schedule and early stopping, from {} \
             seed{}; each run is scored by its {measure} loss in evaluation mode.",
            setting_text(t.decay_kind, &c.proposal),
            setting_text(t.decay_kind, &t.program),
            c.epochs,
            c.seeds.len(),
            if c.seeds.len() == 1 { "" } else { "s" },
        )),
    );
    let classes = c
        .program
        .iter()
        .chain(&c.proposed)
        .any(|o| o.accuracy.is_some());
    let loss = |o: &Outcome| {
        if o.loss.is_finite() {
            format!("{:.4}", o.loss)
        } else {
            "diverged".into()
        }
    };
    let accuracy = |o: Option<f64>| o.map_or("-".into(), pct);
    let mut header = vec![
        "seed".to_string(),
        "program loss".into(),
        "proposal loss".into(),
    ];
    if classes {
        header.extend(["program accuracy".into(), "proposal accuracy".into()]);
    }
    let mut rows: Vec<Vec<String>> = c
        .seeds
        .iter()
        .zip(c.program.iter().zip(&c.proposed))
        .map(|(seed, (p, q))| {
            let mut row = vec![seed.to_string(), loss(p), loss(q)];
            if classes {
                row.extend([accuracy(p.accuracy), accuracy(q.accuracy)]);
            }
            row
        })
        .collect();
    let mean = |runs: &[Outcome]| {
        let m = mean_loss(runs);
        if m.is_finite() {
            format!("{m:.4}")
        } else {
            "diverged".into()
        }
    };
    let mut means = vec!["mean".to_string(), mean(&c.program), mean(&c.proposed)];
    if classes {
        means.extend([
            accuracy(mean_accuracy(&c.program)),
            accuracy(mean_accuracy(&c.proposed)),
        ]);
    }
    rows.push(means);
    let last = rows.len() - 1;
    blocks.push(Block::Table {
        header,
        rows,
        highlight: Some(last),
    });
    blocks
}
