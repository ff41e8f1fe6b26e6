//! The verdict on a finished run, read from its curves: under-fitting,
//! over-fitting or a good fit, always with the numbers that decided it.
//!
//! Every quantity is measured in units of the *baseline loss*: the loss of
//! the best prediction that ignores the inputs (the class frequencies for
//! cross-entropy, whose loss is their entropy; the targets' mean for mse,
//! whose loss is their variance). The thresholds then mean the same for
//! every loss and data set:
//!
//! - *skill* = 1 - loss / baseline: the share of the baseline's loss the
//!   model removes (R² for mse). A fit is *poor* when the training skill is
//!   below [`POOR_SKILL`]: the model does not even explain half of what
//!   the inputs could tell it on the data it trains on.
//! - *gap* = (validation loss - training loss) / baseline, both measured in
//!   evaluation mode on the kept weights. It is *large* above [`GAP_LIMIT`].
//! - *growth*: how much the per-epoch gap widened since the epoch of the
//!   best validation loss, and how far the validation loss rose from that
//!   best (both / baseline). The gap is *growing* when either exceeds
//!   [`GROWTH_LIMIT`]. An epoch's training
//!   loss is the running average over the epoch, so the loss at the epoch's
//!   end is estimated as the mean of its and the next epoch's averages.
//!
//! The verdict: a large and growing gap is over-fitting; otherwise a poor
//! training fit is under-fitting; otherwise a good fit. A negative skill
//! (training left the model worse than the baseline) is under-fitting too,
//! but the advice is a lower rate, not more training.

use crate::check::Loss;
use crate::data::{Dataset, Targets, target_moments};
use crate::runtime::{EpochMetrics, Evaluation};
use serde_json::{Value, json};

/// A training skill below this is a poor fit.
pub const POOR_SKILL: f64 = 0.5;
/// A baseline loss below this is no baseline: the targets are (nearly) all the same, and
/// every ratio to it is noise.
pub const MIN_BASELINE: f64 = 1e-6;
/// A final gap above this (in baseline units) is large.
pub const GAP_LIMIT: f64 = 0.10;
/// Widening of the gap, or rise of the validation loss, above this is growth.
pub const GROWTH_LIMIT: f64 = 0.05;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    UnderFitting,
    OverFitting,
    GoodFit,
    /// Not enough to judge (no epoch, or no validation data for over-fitting).
    Unknown,
}

impl Fit {
    pub fn name(self) -> &'static str {
        match self {
            Fit::UnderFitting => "under-fitting",
            Fit::OverFitting => "over-fitting",
            Fit::GoodFit => "good fit",
            Fit::Unknown => "not judged",
        }
    }
}

/// The numbers a verdict is read from.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Evidence {
    pub baseline: f64,
    /// Training loss of the kept weights (evaluation mode when measured).
    pub train_loss: f64,
    pub train_acc: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_acc: Option<f64>,
    /// The epoch whose weights were kept.
    pub kept_epoch: usize,
    pub skill: f64,
    pub gap: Option<f64>,
    pub gap_growth: Option<f64>,
    pub val_rise: Option<f64>,
    /// The epoch of the lowest validation loss.
    pub best_val_epoch: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub fit: Fit,
    /// Why, with the numbers.
    pub reasons: Vec<String>,
    /// What to do.
    pub advice: Vec<String>,
    pub evidence: Evidence,
}

/// The loss of the best input-blind prediction on `train` (see the module docs).
pub fn baseline_loss(loss: Loss, train: &Dataset) -> f64 {
    match (&train.targets, loss) {
        (Targets::Values { values, width }, _) => target_moments(values, *width).1,
        (Targets::Classes { .. }, _) => {
            let counts = train.class_counts();
            let total: usize = counts.iter().sum();
            counts
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| {
                    let p = c as f64 / total as f64;
                    -p * p.ln()
                })
                .sum()
        }
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Judges a run. `kept` is the epoch whose weights the model holds (the
/// best one with early stopping); `final_train` the training set evaluated
/// with those weights, when measured (else the epoch's running loss is used).
pub fn judge(
    epochs: &[EpochMetrics],
    kept: Option<usize>,
    final_train: Option<&Evaluation>,
    baseline: f64,
) -> Verdict {
    let mut v = Verdict {
        fit: Fit::Unknown,
        reasons: Vec::new(),
        advice: Vec::new(),
        evidence: Evidence {
            baseline,
            ..Evidence::default()
        },
    };
    let Some(last) = epochs.last() else {
        v.reasons.push("no epoch finished".into());
        return v;
    };
    if baseline.is_nan() || baseline < MIN_BASELINE {
        // Entropy 0 (one class) or variance 0 (one value): skill and gap would divide by
        // nothing and give numbers like -4.5e11.
        // The entropy of one class is computed as -0.0.
        let shown = if baseline == 0.0 { 0.0 } else { baseline };
        v.reasons.push(format!(
            "the baseline loss is {shown:.4}: the training targets are all the same (a \
             single class, or one constant value), so there is nothing to learn and fit cannot \
             be judged"
        ));
        v.advice
            .push("check the labels or targets of the training data".into());
        return v;
    }
    let unit = baseline;
    let kept_m = kept
        .and_then(|k| epochs.iter().find(|m| m.epoch == k))
        .unwrap_or(last);
    let e = &mut v.evidence;
    e.kept_epoch = kept_m.epoch;
    e.train_loss = final_train.map_or(kept_m.train_loss, |t| t.loss);
    e.train_acc = final_train.map_or(kept_m.train_acc, |t| t.accuracy);
    e.val_loss = kept_m.val_loss;
    e.val_acc = kept_m.val_acc;
    e.skill = 1.0 - e.train_loss / unit;
    let acc = |a: Option<f64>| a.map_or(String::new(), |a| format!(", accuracy {}", pct(a)));
    let train_text = format!(
        "training loss {:.4}{} (skill {:.2}: {} of the baseline loss {:.4} removed)",
        e.train_loss,
        acc(e.train_acc),
        e.skill,
        pct(e.skill.max(0.0)),
        baseline
    );
    if !e.train_loss.is_finite() {
        v.reasons.push(format!(
            "the training loss is {}: training diverged, so fit cannot be judged",
            e.train_loss
        ));
        v.advice.push(
            "lower the learning rate, or clip the gradients (`clip`); `dlc sanity` and \
             `dlc lr-find` help find a rate that trains"
                .into(),
        );
        return v;
    }
    let Some(val_loss) = e.val_loss else {
        v.reasons.push(train_text);
        if e.skill < POOR_SKILL {
            v.fit = Fit::UnderFitting;
            v.reasons
                .push(format!("the training skill is below {POOR_SKILL}"));
            v.advice.push(under_advice(e.skill));
        } else {
            v.reasons
                .push("there is no validation data, so over-fitting cannot be judged".into());
            v.advice
                .push("add `validation 0.2` to the data item".into());
        }
        return v;
    };
    if !val_loss.is_finite() {
        // A NaN gap compares false with every limit: never let it pass as "within".
        v.reasons.push(train_text);
        v.reasons.push(format!(
            "the validation loss is {val_loss} at epoch {}: the model's outputs on the \
             validation data are not finite numbers, so over-fitting cannot be judged",
            e.kept_epoch
        ));
        v.advice.push(
            "look for validation inputs far outside the training range, or for a diverging run \
             (`dlc sanity`)"
                .into(),
        );
        return v;
    }
    let gap = (val_loss - e.train_loss) / unit;
    e.gap = Some(gap);
    let gaps: Vec<(usize, f64)> = epochs
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let l = m.val_loss?;
            // An epoch's training loss is averaged over the epoch while the
            // weights change; the weights at its end lie between that and the
            // next epoch's average.
            let end = match epochs.get(i + 1) {
                Some(next) => (m.train_loss + next.train_loss) / 2.0,
                None if m.epoch == e.kept_epoch => e.train_loss,
                None => m.train_loss,
            };
            Some((m.epoch, (l - end) / unit))
        })
        .collect();
    let (best_epoch, best_val) = epochs
        .iter()
        .filter_map(|m| m.val_loss.map(|l| (m.epoch, l)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((last.epoch, val_loss));
    let gap_at = |epoch: usize| gaps.iter().find(|g| g.0 == epoch).map_or(gap, |g| g.1);
    let last_gap = gaps.last().map_or(gap, |g| g.1);
    let growth = last_gap - gap_at(best_epoch);
    e.gap_growth = Some(growth);
    let last_val = last.val_loss.unwrap_or(val_loss);
    let rise = (last_val - best_val) / unit;
    e.val_rise = Some(rise);
    e.best_val_epoch = Some(best_epoch);
    let large = gap > GAP_LIMIT;
    let growing = growth > GROWTH_LIMIT || rise > GROWTH_LIMIT;
    v.reasons.push(train_text);
    v.reasons.push(format!(
        "validation loss {val_loss:.4}{} at epoch {}: gap {gap:.3} of the baseline ({} {GAP_LIMIT})",
        acc(e.val_acc),
        e.kept_epoch,
        if large { "above the limit" } else { "within the limit" }
    ));
    // A change is said in its direction: "widened by -0.014" reads wrong.
    let gap_change = if growth < 0.0 {
        format!("narrowed by {:.3}", -growth)
    } else {
        format!("widened by {growth:.3}")
    };
    let val_change = if rise < 0.0 {
        format!("fell by {:.3}", -rise)
    } else {
        format!("rose by {rise:.3}")
    };
    v.reasons.push(format!(
        "since epoch {best_epoch} (the best validation loss, {best_val:.4}) the gap {gap_change} and the validation loss {val_change} (growth limit {GROWTH_LIMIT})"
    ));
    v.fit = if large && growing {
        v.advice.push(
            "regularise (`l2`, `dropout`), get more data, or stop early (`early_stop val_loss`)"
                .into(),
        );
        Fit::OverFitting
    } else if e.skill < POOR_SKILL {
        v.advice.push(under_advice(e.skill));
        Fit::UnderFitting
    } else {
        if large {
            v.reasons.push("the gap is large but steady".into());
        }
        Fit::GoodFit
    };
    v
}

/// How far from zero a skill must be to say the model is worse (or better)
/// than ignoring the inputs: a loss a hair above the baseline (0.6934 against
/// 0.6931) is rounding and noise, not a rate that diverges.
const NO_SKILL_MARGIN: f64 = 0.01;

/// A clearly negative skill means training made the model worse than
/// ignoring the inputs: not too little training, but steps too large to
/// settle. A skill near zero means nothing was learned yet.
fn under_advice(skill: f64) -> String {
    if skill.abs() < NO_SKILL_MARGIN {
        "the training loss is at the baseline: the model has learned nothing from the inputs yet; \
         check the learning rate (`dlc lr-find`) and that the labels belong to the inputs"
            .into()
    } else if skill < 0.0 {
        "the training loss is above the baseline: training made the model worse than ignoring the inputs; \
         the learning rate is likely too high (`dlc sanity`, `dlc lr-find`)"
            .into()
    } else {
        "train longer (more epochs, or a higher rate: `dlc lr-find`), or use a bigger model".into()
    }
}

impl Verdict {
    /// `verdict: over-fitting` and the reasons and advice, one per line.
    pub fn text(&self) -> String {
        let mut s = format!("verdict: {}", self.fit.name());
        for r in &self.reasons {
            s += &format!("\n  {r}");
        }
        for a in &self.advice {
            s += &format!("\n  help: {a}");
        }
        s
    }

    pub fn to_json(&self) -> Value {
        let e = &self.evidence;
        json!({
            "fit": self.fit.name(),
            "reasons": self.reasons,
            "advice": self.advice,
            "baseline_loss": e.baseline,
            "train_loss": e.train_loss,
            "train_acc": e.train_acc,
            "val_loss": e.val_loss,
            "val_acc": e.val_acc,
            "kept_epoch": e.kept_epoch,
            "skill": e.skill,
            "gap": e.gap,
            "gap_growth": e.gap_growth,
            "val_rise": e.val_rise,
            "best_val_epoch": e.best_val_epoch,
            "limits": {"poor_skill": POOR_SKILL, "gap": GAP_LIMIT, "growth": GROWTH_LIMIT},
        })
    }
}
