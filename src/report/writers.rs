//! The files of a run directory, for `dlc run`, `dlc lr-find` and `dlc tune`.
//!
//! ```text
//! dlc run:     metrics.csv, metrics.json, loss.svg/.png, accuracy.svg/.png, report.html
//! dlc lr-find: lr_find.csv, lr_find.svg/.png
//! dlc tune:    tune.csv, tune.json, lr_find.*, grid_coarse.*, grid_fine.*, report.html
//! ```

use super::charts::{accuracy_chart, loss_chart, lr_chart, tune_heatmaps};
use super::files::{ReportError, create_dir, metrics_csv, write_atomic};
use super::html::{Block, Page, Section, render};
use super::verdict::Verdict;
use super::{done_json, epoch_json, summary_table};
use crate::check::Model;
use crate::recipe::{LrFind, TuneResult};
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
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    text.push('\n');
    text.into_bytes()
}

fn stem(name: &str) -> String {
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
        "epochs": r.epochs.iter().map(epoch_json).collect::<Vec<_>>(),
        "done": r.report.map(done_json),
        "error": r.error,
        "verdict": r.verdict.to_json(),
    });
    written.push(write_atomic(dir, "metrics.json", &pretty(&metrics))?);
    let mut charts = Vec::new();
    let loss = loss_chart(&title, r.epochs);
    let loss_svg = loss.svg()?;
    written.push(write_atomic(dir, "loss.svg", loss_svg.as_bytes())?);
    written.push(write_atomic(dir, "loss.png", &loss.png()?)?);
    charts.push(Block::Svg(loss_svg));
    if let Some(acc) = accuracy_chart(&title, r.epochs) {
        let acc_svg = acc.svg()?;
        written.push(write_atomic(dir, "accuracy.svg", acc_svg.as_bytes())?);
        written.push(write_atomic(dir, "accuracy.png", &acc.png()?)?);
        charts.push(Block::Svg(acc_svg));
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
        sections: vec![
            Section {
                heading: "Verdict".into(),
                blocks: outcome,
            },
            Section {
                heading: "Curves".into(),
                blocks: charts,
            },
            Section {
                heading: "Epochs".into(),
                blocks: vec![Block::Folded(
                    format!("every epoch's numbers ({} rows)", r.epochs.len()),
                    Box::new(epochs_table(r.epochs)),
                )],
            },
            Section {
                heading: "Model".into(),
                blocks: vec![Block::Pre(summary_table(&as_run(r)))],
            },
            Section {
                heading: "Program".into(),
                blocks: vec![Block::Pre(r.source.to_string())],
            },
        ],
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

/// The grid as table rows: stage, rate, decay, epochs, best epoch, val loss, val acc, train loss.
pub fn grid_rows(t: &TuneResult) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "stage",
        "learning rate",
        t.decay_kind.keyword(),
        "epochs",
        "best epoch",
        "best val loss",
        "val acc",
        "train loss",
    ]
    .map(String::from)
    .to_vec();
    let rows = t
        .points
        .iter()
        .map(|p| {
            let best = p.best();
            let status = |f: &dyn Fn(&EpochMetrics) -> Option<String>| match (p.diverged, best) {
                (Some(e), _) => format!("diverged (epoch {e})"),
                (None, Some(m)) => f(m).unwrap_or_else(|| "-".into()),
                (None, None) => "-".into(),
            };
            vec![
                p.stage.name().to_string(),
                format_number(p.setting.lr),
                format_number(p.setting.decay),
                p.epochs.to_string(),
                status(&|m| Some(m.epoch.to_string())),
                status(&|m| m.val_loss.map(|l| format!("{l:.4}"))),
                status(&|m| m.val_acc.map(pct)),
                status(&|m| Some(format!("{:.4}", m.train_loss))),
            ]
        })
        .collect();
    (header, rows)
}

/// Everything `dlc tune` found; `tuned` is the program with the winner written in.
pub fn write_tune(
    dir: &Path,
    name: &str,
    source: &str,
    tuned: &str,
    model: &Model,
    t: &TuneResult,
) -> Result<Vec<PathBuf>, ReportError> {
    let (mut written, finder_svg) = write_lr_find(dir, name, &t.finder)?;
    let (header, rows) = grid_rows(t);
    let mut csv = header
        .iter()
        .map(|h| h.replace(' ', "_"))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for row in &rows {
        csv += &(row.join(",") + "\n");
    }
    written.push(write_atomic(dir, "tune.csv", csv.as_bytes())?);
    let points: Vec<_> = t
        .points
        .iter()
        .map(|p| {
            json!({
                "stage": p.stage.name(),
                "lr": p.setting.lr,
                "decay": p.setting.decay,
                "epochs": p.epochs,
                "diverged": p.diverged,
                "score": p.score().is_finite().then(|| p.score()),
                "curve": p.curve.iter().map(epoch_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let best = t.best();
    let summary = json!({
        "program": name,
        "decay": t.decay_kind.keyword(),
        "finder": {
            "suggestion": t.finder.suggestion,
            "safe": t.finder.safe.map(|(a, b)| [a, b]),
            "min_loss_lr": t.finder.min_loss_lr,
        },
        "center": t.center,
        "threads": t.threads,
        "winner": {"lr": best.setting.lr, "decay": best.setting.decay, "epochs": best.epochs},
        "points": points,
    });
    written.push(write_atomic(dir, "tune.json", &pretty(&summary))?);
    let mut maps = Vec::new();
    for (map, file) in tune_heatmaps(&stem(name), t)
        .iter()
        .zip(["grid_coarse", "grid_fine"])
    {
        let svg = map.svg()?;
        written.push(write_atomic(dir, &format!("{file}.svg"), svg.as_bytes())?);
        written.push(write_atomic(dir, &format!("{file}.png"), &map.png()?)?);
        maps.push(Block::Svg(svg));
    }
    let winner_curves = loss_chart(&format!("{} (winner)", stem(name)), &best.curve).svg()?;
    let finder_text = match (t.finder.suggestion, t.finder.safe) {
        (Some(s), Some((lo, hi))) => format!(
            "The loss fell fastest at rate {}; it fell at least half as fast from {} to {}. The coarse grid is centred on {}.",
            format_number(s),
            format_number(lo),
            format_number(hi),
            format_number(t.center)
        ),
        _ => format!(
            "The loss never fell during the sweep; the grid is centred on the program's rate {}.",
            format_number(t.center)
        ),
    };
    let page = Page {
        title: format!("dlc tune {name}"),
        subtitle: format!(
            "{} grid points on {} thread{}; winner: learning rate {}, {} {}, {} epochs",
            t.points.len(),
            t.threads,
            if t.threads == 1 { "" } else { "s" },
            format_number(best.setting.lr),
            t.decay_kind.keyword(),
            format_number(best.setting.decay),
            best.epochs
        ),
        sections: vec![
            Section {
                heading: "Learning-rate finder".into(),
                blocks: vec![Block::Text(finder_text), Block::Svg(finder_svg)],
            },
            Section {
                heading: "Grid".into(),
                blocks: maps,
            },
            Section {
                heading: "Every point".into(),
                blocks: vec![Block::Table {
                    header,
                    rows,
                    highlight: Some(t.winner),
                }],
            },
            Section {
                heading: "Winner".into(),
                blocks: vec![Block::Svg(winner_curves)],
            },
            Section {
                heading: "Model".into(),
                blocks: vec![Block::Pre(summary_table(model))],
            },
            Section {
                heading: "Tuned program".into(),
                blocks: vec![Block::Pre(tuned.to_string())],
            },
            Section {
                heading: "Program as given".into(),
                blocks: vec![Block::Pre(source.to_string())],
            },
        ],
    };
    written.push(write_atomic(dir, "report.html", render(&page).as_bytes())?);
    Ok(written)
}
