//! The summary of a checked model: one row per layer (name, kind, output
//! shape, parameters, how its parameters start), the totals, and one line
//! each for the data and the training plan. `dlc check` prints it; the run
//! report embeds it.

use crate::check::*;
use serde_json::{Value, json};
use std::fmt::Write;

fn shape(s: &[usize]) -> String {
    let parts: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// `12345` -> `12,345`
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How a layer is written, in short: `dense 64`, `conv 16, 3x3, pad 1`.
pub fn describe_layer(layer: &Layer) -> String {
    layer.op.rule().describe(layer)
}

/// How a layer's parameters start, in one cell: its weight's initialisation
/// (a bias always starts at zero), or for a layer without a weight its
/// first parameter's; empty for a layer without parameters.
pub fn describe_init(layer: &Layer) -> String {
    layer
        .params
        .iter()
        .find(|t| t.name == "weight")
        .or(layer.params.first())
        .map(|t| t.init.describe())
        .unwrap_or_default()
}

/// The column whose cells are right-aligned (numbers).
const PARAMS_COLUMN: usize = 3;

/// The summary as aligned text.
pub fn summary_table(model: &Model) -> String {
    let net = &model.network;
    let mut rows = vec![[
        "layer".to_string(),
        "kind".into(),
        "output".into(),
        "params".into(),
        "init".into(),
    ]];
    for l in &net.layers {
        rows.push([
            l.name.clone(),
            describe_layer(l),
            shape(&l.shape),
            thousands(l.parameter_count()),
            describe_init(l),
        ]);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "network {}: {} -> {}",
        net.name,
        shape(&net.input_shape),
        shape(net.output_shape())
    );
    for (i, r) in rows.iter().enumerate() {
        // Padded by hand: a generated layer name can be longer than the
        // widths `format!` accepts.
        let mut line = String::from("  ");
        for (c, cell) in r.iter().enumerate() {
            let pad = " ".repeat(widths[c] - cell.chars().count());
            if c == PARAMS_COLUMN {
                line += &pad;
                line += cell;
            } else {
                line += cell;
                line += &pad;
            }
            line += "  ";
        }
        let _ = writeln!(out, "{}", line.trim_end());
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (columns - 1);
            let _ = writeln!(out, "  {}", "-".repeat(total));
        }
    }
    let buffers: usize = net
        .layers
        .iter()
        .flat_map(|l| &l.buffers)
        .map(Tensor::len)
        .sum();
    let mut total = format!(
        "total: {} trainable parameters",
        thousands(net.parameter_count())
    );
    if buffers > 0 {
        total += &format!(
            ", {} buffer values (running statistics)",
            thousands(buffers)
        );
    }
    let _ = writeln!(out, "  {total}");
    if let Some(d) = &model.data {
        let _ = writeln!(out, "data:  {}", describe_data(d));
    }
    if let Some(t) = &model.train {
        let _ = writeln!(out, "train: {}", describe_train(t));
    }
    out
}

/// One line: the source and every preparation step.
pub fn describe_data(d: &DataSpec) -> String {
    let mut parts = vec![format!("{}: {}", d.name, d.source.rule().describe())];
    if let Some(r) = &d.reshape {
        parts.push(format!("reshape {}", shape(r)));
    }
    if let Some(s) = d.scale {
        parts.push(format!("scale {s}"));
    }
    if let Some(method) = d.impute {
        parts.push(format!("impute {}", method.keyword()));
    }
    match (d.standardize, d.standardize_targets) {
        (true, false) => parts.push("standardized".into()),
        (false, true) => parts.push("standardized targets".into()),
        (true, true) => parts.push("standardized features and targets".into()),
        (false, false) => {}
    }
    match &d.validation {
        Validation::None => parts.push("no validation".into()),
        Validation::Split(f) => {
            parts.push(format!("validation {}%", (f * 100.0 * 1e6).round() / 1e6))
        }
        Validation::Data(v) => parts.push(format!("validation on {}", v.name)),
    }
    parts.push(format!("seed {}", d.seed));
    parts.join(", ")
}

/// One line: optimizer, schedule, batch, epochs, regularisation, stopping.
pub fn describe_train(t: &TrainSpec) -> String {
    let rule = t.optimizer.kind.rule();
    let mut opt = format!("{} lr {}", rule.keyword(), t.optimizer.lr);
    for setting in rule.describe() {
        opt += &format!(", {setting}");
    }
    let mut parts = vec![t.describe_loss(), opt];
    let sched = match t.schedule.kind {
        ScheduleKind::Constant => None,
        ScheduleKind::Step { every, gamma } => {
            Some(format!("step schedule x{gamma} every {every} epochs"))
        }
        ScheduleKind::Exponential { gamma } => {
            Some(format!("exponential schedule x{gamma} per epoch"))
        }
        ScheduleKind::Cosine { min_lr } => Some(format!("cosine schedule to {min_lr}")),
    };
    parts.extend(sched);
    if t.schedule.warmup > 0.0 {
        parts.push(format!("warm-up {} epochs", t.schedule.warmup));
    }
    parts.push(match t.batch {
        Batch::All => "full batch".into(),
        Batch::Size(1) => "batch 1 (one sample per step)".into(),
        Batch::Size(n) => format!("batch {n}"),
    });
    parts.push(format!("{} epochs", t.epochs));
    if t.l1 > 0.0 {
        parts.push(format!("l1 {}", t.l1));
    }
    if t.l2 > 0.0 {
        parts.push(format!("l2 {}", t.l2));
    }
    if let Some(c) = t.clip_norm {
        parts.push(format!("clip norm {c}"));
    }
    if let Some(e) = &t.early_stop {
        parts.push(format!(
            "early stop on {} (patience {})",
            e.metric.keyword(),
            e.patience
        ));
    }
    if let Some(c) = &t.checkpoint {
        parts.push(format!("checkpoint {c:?}"));
    }
    parts.push(format!("seed {}", t.seed));
    parts.join(", ")
}

/// The summary as JSON (`dlc check --format json`).
pub fn summary_json(model: &Model) -> Value {
    let net = &model.network;
    let layers: Vec<Value> = net
        .layers
        .iter()
        .map(|l| {
            let init: serde_json::Map<String, Value> = l
                .params
                .iter()
                .map(|t| (t.name.clone(), t.init.describe().into()))
                .collect();
            json!({
                "name": l.name,
                "kind": describe_layer(l),
                "shape": l.shape,
                "params": l.parameter_count(),
                "init": init,
            })
        })
        .collect();
    let buffers: usize = net
        .layers
        .iter()
        .flat_map(|l| &l.buffers)
        .map(Tensor::len)
        .sum();
    json!({
        "network": {
            "name": net.name,
            "input": net.input_shape,
            "output": net.output_shape(),
            "layers": layers,
            "parameters": net.parameter_count(),
            "buffers": buffers,
        },
        "data": model.data.as_ref().map(describe_data),
        "train": model.train.as_ref().map(describe_train),
    })
}
