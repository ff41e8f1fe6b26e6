//! The files of `dlc tune`: the grid as CSV and JSON (`tune.csv`,
//! `tune.json`), the finder's sweep, a heat map per stage and the report
//! page, with the confirmation at the program's own budget and the decision
//! it led to.

use super::charts::{loss_chart, tune_heatmaps};
use super::confirmation::{confirmation_blocks, confirmation_json, decision};
use super::files::{ReportError, write_atomic};
use super::html::{Block, Page, Section, render};
use super::writers::{pretty, stem, write_lr_find};
use super::{epoch_json, summary_table};
use crate::check::Model;
use crate::recipe::TuneResult;
use crate::runtime::EpochMetrics;
use crate::syntax::format_number;
use serde_json::json;
use std::path::{Path, PathBuf};

fn pct(a: f64) -> String {
    format!("{:.1}%", a * 100.0)
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
        "confirmation": t.confirmation.as_ref().map(|c| confirmation_json(c, t)),
        "decision": decision(t).to_json(),
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
    let winner_curves = loss_chart(&format!("{} (winner)", stem(name)), &best.curve, None).svg()?;
    let decided = decision(t);
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
        ) + &format!("; kept: {}", decided.kept_setting(t)),
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
                heading: "Confirmation".into(),
                blocks: confirmation_blocks(t, &decided),
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
