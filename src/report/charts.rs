//! The charts of the reports, built from what a run measured: loss and
//! accuracy curves, the finder's loss against rate, the tuner's heat maps.

use super::plot::{BLUE, Chart, GREY, HeatMap, Legend, ORANGE, Series};
use crate::recipe::{GridPoint, LrFind, Stage, TuneResult};
use crate::runtime::EpochMetrics;
use crate::syntax::format_number;

fn series(name: &str, color: plotters::style::RGBColor, points: Vec<(f64, f64)>) -> Option<Series> {
    (!points.is_empty()).then(|| Series {
        name: name.into(),
        points,
        color,
        width: 2,
    })
}

/// The epoch whose weights a run kept, to mark on its curves: `kept` is the
/// epoch early stopping restored (or the best), `last` the last trained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeptEpoch {
    pub kept: usize,
    pub last: usize,
}

impl KeptEpoch {
    fn marker(self) -> (f64, String) {
        let label = if self.kept == self.last {
            format!("final weights: epoch {}", self.kept)
        } else {
            format!("restored weights: epoch {}", self.kept)
        };
        (self.kept as f64, label)
    }
}

/// Whether losses this far apart need a logarithmic axis: when they are
/// all positive and span more than a decade, the late epochs would be a
/// flat line at the bottom of a linear one.
pub fn spans_decades(values: impl Iterator<Item = f64>) -> bool {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    lo > 0.0 && hi / lo > 10.0
}

/// Training and validation loss by epoch, the kept epoch marked.
pub fn loss_chart(title: &str, epochs: &[EpochMetrics], kept: Option<KeptEpoch>) -> Chart {
    let train: Vec<(f64, f64)> = epochs
        .iter()
        .map(|m| (m.epoch as f64, m.train_loss))
        .collect();
    let val: Vec<(f64, f64)> = epochs
        .iter()
        .filter_map(|m| m.val_loss.map(|l| (m.epoch as f64, l)))
        .collect();
    let log_y = spans_decades(train.iter().chain(&val).map(|p| p.1));
    Chart {
        title: format!("{title}: loss"),
        x_label: "epoch".into(),
        y_label: if log_y { "loss (log scale)" } else { "loss" }.into(),
        log_y,
        series: training_and_validation(train, val),
        markers: kept.map(KeptEpoch::marker).into_iter().collect(),
        ..Chart::default()
    }
}

/// The two curves of a run, blue and orange; an empty one is left out.
fn training_and_validation(train: Vec<(f64, f64)>, val: Vec<(f64, f64)>) -> Vec<Series> {
    [
        series("training", BLUE, train),
        series("validation", ORANGE, val),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Training and validation accuracy by epoch, in percent; `None` for regression.
pub fn accuracy_chart(
    title: &str,
    epochs: &[EpochMetrics],
    kept: Option<KeptEpoch>,
) -> Option<Chart> {
    let train: Vec<(f64, f64)> = epochs
        .iter()
        .filter_map(|m| m.train_acc.map(|a| (m.epoch as f64, a * 100.0)))
        .collect();
    if train.is_empty() {
        return None;
    }
    let val = epochs
        .iter()
        .filter_map(|m| m.val_acc.map(|a| (m.epoch as f64, a * 100.0)))
        .collect();
    Some(Chart {
        title: format!("{title}: accuracy"),
        x_label: "epoch".into(),
        y_label: "accuracy (%)".into(),
        series: training_and_validation(train, val),
        markers: kept.map(KeptEpoch::marker).into_iter().collect(),
        // Accuracy rises to the top right.
        legend: Legend::LowerRight,
        ..Chart::default()
    })
}

/// The finder's loss against the rate (log scale), the safe range shaded
/// and the suggestion marked.
pub fn lr_chart(title: &str, f: &LrFind) -> Chart {
    let raw = f.points.iter().map(|p| (p.lr, p.loss)).collect();
    let smooth = f.points.iter().map(|p| (p.lr, p.smoothed)).collect();
    let first = f.points.first().map_or(1.0, |p| p.smoothed);
    let lowest = f
        .points
        .iter()
        .map(|p| p.smoothed)
        .fold(f64::INFINITY, f64::min);
    Chart {
        title: format!("{title}: loss against learning rate"),
        x_label: "learning rate".into(),
        y_label: "loss".into(),
        log_x: true,
        series: [
            series("loss of each step", GREY, raw),
            series("smoothed", BLUE, smooth),
        ]
        .into_iter()
        .flatten()
        .collect(),
        markers: f
            .suggestion
            .map(|s| vec![(s, format!(" suggested {}", format_number(s)))])
            .unwrap_or_default(),
        band: f.safe,
        // The tail after the minimum explodes; show it up to twice the start.
        y_max: Some((2.0 * first).max(lowest * 1.5)),
        // The flat start leaves room at the upper left; the tail fills the right.
        legend: Legend::UpperLeft,
        ..Chart::default()
    }
}

/// One heat map per stage: the best validation loss of each (rate, decay),
/// the winner marked in its stage's map (the program's own point in the
/// fine map, when its setting is one of the fine grid's).
pub fn tune_heatmaps(title: &str, t: &TuneResult) -> Vec<HeatMap> {
    [Stage::Coarse, Stage::Fine]
        .into_iter()
        .filter_map(|stage| {
            let points: Vec<&GridPoint> = t.points.iter().filter(|p| p.stage == stage).collect();
            let epochs = points.first()?.epochs;
            let mut rates: Vec<f64> = points.iter().map(|p| p.setting.lr).collect();
            let mut decays: Vec<f64> = points.iter().map(|p| p.setting.decay).collect();
            for v in [&mut rates, &mut decays] {
                v.sort_by(f64::total_cmp);
                v.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * a.abs().max(b.abs()));
            }
            let index = |v: &[f64], x: f64| {
                v.iter()
                    .position(|&y| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()))
            };
            let winner = t.best();
            let winner_here =
                winner.stage == stage || (winner.stage == Stage::Program && stage == Stage::Fine);
            let mark = match (
                index(&rates, winner.setting.lr),
                index(&decays, winner.setting.decay),
            ) {
                (Some(c), Some(r)) if winner_here => Some((r, c)),
                _ => None,
            };
            let mut values = vec![vec![None; rates.len()]; decays.len()];
            for p in &points {
                if let (Some(c), Some(r)) =
                    (index(&rates, p.setting.lr), index(&decays, p.setting.decay))
                {
                    values[r][c] = Some(p.score());
                }
            }
            let measure = if points
                .iter()
                .any(|p| p.curve.iter().any(|m| m.val_loss.is_some()))
            {
                "best validation loss"
            } else {
                "best training loss"
            };
            Some(HeatMap {
                title: format!(
                    "{title}: {} grid, {measure} after {epochs} epochs",
                    stage.name()
                ),
                x_label: "learning rate".into(),
                y_label: t.decay_kind.keyword().into(),
                columns: rates.iter().map(|&r| format_number(r)).collect(),
                rows: decays.iter().map(|&d| format_number(d)).collect(),
                values,
                // Short enough for the room beside the grid.
                measure: measure.trim_start_matches("best ").into(),
                mark,
            })
        })
        .collect()
}
