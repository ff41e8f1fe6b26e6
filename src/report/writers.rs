//! The files of a run directory, for `dlc run`, `dlc lr-find` and `dlc tune`.
//!
//! ```text
//! dlc run:     metrics.csv, metrics.json, loss.svg/.png, accuracy.svg/.png, report.html
//! dlc lr-find: lr_find.csv, lr_find.svg/.png
//! dlc tune:    tune.csv, tune.json, lr_find.*, grid_coarse.*, grid_fine.*, report.html
//! ```
//!
//! The tuner's files are written by [`super::tune_report`].

use super::charts::{KeptEpoch, accuracy_chart, loss_chart, lr_chart};
use super::files::{ReportError, create_dir, metrics_csv, write_atomic};
use super::final_section::final_section;
use super::html::{Block, Page, Section, render};
use super::measure::FinalMeasurement;
use super::verdict::Verdict;
use super::{done_json, epoch_json, summary_table};
use crate::check::Model;
use crate::recipe::LrFind;
use crate::runtime::{EpochMetrics, TrainReport};
use crate::syntax::format_number;
use serde_json::json;
use std::path::{Path, PathBuf};

/// What `dlc run` reports on.
pub struct RunRecord<'a> {
    /// The program's file, as given.
    pub name: &'a str,
    pub source: &'a str,
    pub model: &'a Model,
    pub epochs: &'a [EpochMetrics],
    /// `None` when training stopped with an error.
    pub report: Option<&'a TrainReport>,
    pub verdict: &'a Verdict,
    pub error: Option<String>,
    /// The final model measured on the validation (or training) set; `None`
    /// when training stopped with an error or the measurement failed.
    pub measured: Option<&'a FinalMeasurement>,
}

pub(super) fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    text.push('\n');
    text.into_bytes()
}

pub(super) fn stem(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned())
}

pub fn write_run(dir: &Path, r: &RunRecord) -> Result<Vec<PathBuf>, ReportError> {
    create_dir(dir)?;
    let title = stem(r.name);
    let mut written = vec![write_atomic(
        dir,
        "metrics.csv",
        metrics_csv(r.epochs).as_bytes(),
    )?];
    let metrics = json!({
        "program": r.name,
        // The criterion the losses below are of (weighted by class, say).
        "loss": r.model.train.as_ref().map(|t| t.describe_loss()),
        "epochs": r.epochs.iter().map(epoch_json).collect::<Vec<_>>(),
        "done": r.report.map(done_json),
        "error": r.error,
        "verdict": r.verdict.to_json(),
        "final_metrics": r.measured.map(FinalMeasurement::to_json),
    });
    written.push(write_atomic(dir, "metrics.json", &pretty(&metrics))?);
    let mut charts = Vec::new();
    let kept = kept_epoch(r);
    let loss = loss_chart(&title, r.epochs, kept);
    let loss_svg = loss.svg()?;
    written.push(write_atomic(dir, "loss.svg", loss_svg.as_bytes())?);
    written.push(write_atomic(dir, "loss.png", &loss.png()?)?);
    charts.push(Block::Svg(loss_svg));
    if let Some(acc) = accuracy_chart(&title, r.epochs, kept) {
        let acc_svg = acc.svg()?;
        written.push(write_atomic(dir, "accuracy.svg", acc_svg.as_bytes())?);
        written.push(write_atomic(dir, "accuracy.png", &acc.png()?)?);
        charts.push(Block::Svg(acc_svg));
    }
    if let Some(note) = modes_note(r.model) {
        charts.push(Block::Text(note));
    }
    let mut outcome = vec![Block::Verdict(r.verdict.clone())];
    if let Some(e) = &r.error {
        outcome.insert(
            0,
            Block::Text(format!("Training stopped with an error: {e}")),
        );
    }
    let page = Page {
        title: format!("dlc run {}", r.name),
        subtitle: match r.report {
            // How the run ended: early stop and the restored epoch included.
            Some(rep) => super::done_text(rep).lines().collect::<Vec<_>>().join("; "),
            None => format!("{} epochs before the error", r.epochs.len()),
        },
        sections: [
            Some(Section {
                heading: "Verdict".into(),
                blocks: outcome,
            }),
            r.measured
                .zip(kept)
                .map(|(m, k)| final_section(m, Some(k.kept), k.last)),
            Some(Section {
                heading: "Curves".into(),
                blocks: charts,
            }),
            Some(Section {
                heading: "Epochs".into(),
                blocks: vec![Block::Folded(
                    format!("every epoch's numbers ({} rows)", r.epochs.len()),
                    Box::new(epochs_table(r.epochs)),
                )],
            }),
            Some(Section {
                heading: "Model".into(),
                blocks: vec![Block::Pre(summary_table(&as_run(r)))],
            }),
            Some(Section {
                heading: "Program".into(),
                blocks: vec![Block::Pre(r.source.to_string())],
            }),
        ]
        .into_iter()
        .flatten()
        .collect(),
    };
    written.push(write_atomic(dir, "report.html", render(&page).as_bytes())?);
    Ok(written)
}

/// The program as it ran: with the seeds the run used, which `--seed`
/// may have overridden.
fn as_run(r: &RunRecord) -> Model {
    let mut model = r.model.clone();
    if let (Some(rep), Some(t)) = (r.report, &mut model.train) {
        t.seed = rep.seed;
    }
    if let (Some(rep), Some(d)) = (r.report, &mut model.data) {
        d.seed = rep.data_seed;
    }
    model
}

/// The epoch whose weights the run kept (the restored one, or the last),
/// and the last trained; `None` before any epoch or after an error.
fn kept_epoch(r: &RunRecord) -> Option<KeptEpoch> {
    let last = r.epochs.last()?.epoch;
    let report = r.report?;
    Some(KeptEpoch {
        kept: report.best_epoch.unwrap_or(last),
        last,
    })
}

/// Why the training curve may sit above the validation curve: it is
/// measured as the batches were trained. Said when the network has a layer
/// that behaves differently in training (dropout, batch statistics).
fn modes_note(model: &Model) -> Option<String> {
    let layers = &model.network.layers;
    let dropout = layers.iter().any(|l| l.op.rule().dropout_rate().is_some());
    let batch = layers.iter().any(|l| l.op.rule().uses_batch_statistics());
    let (training, evaluation) = match (dropout, batch) {
        (false, false) => return None,
        (true, false) => ("dropout on", "dropout off"),
        (false, true) => (
            "normalised with each batch's statistics",
            "the running statistics",
        ),
        (true, true) => (
            "dropout on, normalised with each batch's statistics",
            "dropout off, the running statistics",
        ),
    };
    Some(format!(
        "The training curves are measured in training mode, on the batches as they were \
         trained ({training}); the validation curves in evaluation mode ({evaluation}). The \
         two are not measured alike, so a gap between them is not by itself over-fitting."
    ))
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".into(), f)
}

fn pct(a: f64) -> String {
    format!("{:.1}%", a * 100.0)
}

fn epochs_table(epochs: &[EpochMetrics]) -> Block {
    Block::Table {
        header: [
            "epoch",
            "train loss",
            "train acc",
            "val loss",
            "val acc",
            "lr",
            "seconds",
        ]
        .map(String::from)
        .to_vec(),
        rows: epochs
            .iter()
            .map(|m| {
                vec![
                    m.epoch.to_string(),
                    format!("{:.4}", m.train_loss),
                    opt(m.train_acc, pct),
                    opt(m.val_loss, |l| format!("{l:.4}")),
                    opt(m.val_acc, pct),
                    format_number(m.lr),
                    format!("{:.2}", m.seconds),
                ]
            })
            .collect(),
        highlight: None,
    }
}

/// `lr_find.csv` (`lr,loss,smoothed`) and the chart; returns the paths and the SVG.
pub fn write_lr_find(
    dir: &Path,
    name: &str,
    f: &LrFind,
) -> Result<(Vec<PathBuf>, String), ReportError> {
    create_dir(dir)?;
    let mut csv = String::from("lr,loss,smoothed\n");
    for p in &f.points {
        csv += &format!("{},{},{}\n", p.lr, p.loss, p.smoothed);
    }
    let chart = lr_chart(&stem(name), f);
    let svg = chart.svg()?;
    let written = vec![
        write_atomic(dir, "lr_find.csv", csv.as_bytes())?,
        write_atomic(dir, "lr_find.svg", svg.as_bytes())?,
        write_atomic(dir, "lr_find.png", &chart.png()?)?,
    ];
    Ok((written, svg))
}
