//! How training progress is shown: one line per epoch for people, one JSON
//! object per epoch for tools.

use crate::runtime::{EpochMetrics, StopReason, TrainReport};
use serde_json::{Map, Value, json};

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// `epoch  3/60  loss 0.4521  acc 85.2%  val_loss 0.4012  val_acc 87.1%  lr 0.1  0.02s`
pub fn epoch_line(m: &EpochMetrics, total: usize) -> String {
    let width = total.to_string().len();
    let mut s = format!(
        "epoch {:>width$}/{total}  loss {:.4}",
        m.epoch, m.train_loss
    );
    if let Some(a) = m.train_acc {
        s += &format!("  acc {:>6}", pct(a));
    }
    if let Some(l) = m.val_loss {
        s += &format!("  val_loss {l:.4}");
    }
    if let Some(a) = m.val_acc {
        s += &format!("  val_acc {:>6}", pct(a));
    }
    s += &format!("  lr {:.3e}  {:.2}s", m.lr, m.seconds);
    s
}

/// The `--json` object of one epoch; keys without a value are left out.
pub fn epoch_json(m: &EpochMetrics) -> Value {
    let mut o = Map::new();
    o.insert("epoch".into(), json!(m.epoch));
    o.insert("train_loss".into(), json!(m.train_loss));
    if let Some(a) = m.train_acc {
        o.insert("train_acc".into(), json!(a));
    }
    if let Some(l) = m.val_loss {
        o.insert("val_loss".into(), json!(l));
    }
    if let Some(a) = m.val_acc {
        o.insert("val_acc".into(), json!(a));
    }
    o.insert("lr".into(), json!(m.lr));
    o.insert("seconds".into(), json!(m.seconds));
    Value::Object(o)
}

/// The last `--json` object: how the run ended, with final and best metrics.
pub fn done_json(r: &TrainReport) -> Value {
    let mut o = Map::new();
    o.insert("event".into(), json!("done"));
    o.insert("epochs".into(), json!(r.epochs.len()));
    o.insert("seconds".into(), json!(r.seconds));
    o.insert("seed".into(), json!(r.seed));
    o.insert("data_seed".into(), json!(r.data_seed));
    match &r.stop {
        StopReason::Completed => o.insert("stopped".into(), json!("completed")),
        StopReason::EarlyStop {
            metric, patience, ..
        } => {
            o.insert("patience".into(), json!(patience));
            o.insert("metric".into(), json!(metric.keyword()));
            o.insert("stopped".into(), json!("early_stop"))
        }
    };
    if let Some(last) = r.epochs.last() {
        o.insert("final".into(), epoch_json(last));
    }
    if let Some(best) = r
        .best_epoch
        .and_then(|b| r.epochs.iter().find(|m| m.epoch == b))
    {
        o.insert("best".into(), epoch_json(best));
    }
    Value::Object(o)
}

/// The closing lines for people.
pub fn done_text(r: &TrainReport) -> String {
    // Small runs take milliseconds: `0.00s` would say nothing.
    let took = if r.seconds < 1.0 {
        format!("{:.1} ms", r.seconds * 1e3)
    } else {
        format!("{:.2}s", r.seconds)
    };
    let mut s = format!("trained {} epochs in {took}", r.epochs.len());
    if let StopReason::EarlyStop {
        metric,
        patience,
        best_epoch,
    } = &r.stop
    {
        s += &format!(
            "\nstopped early: {} did not improve for {patience} epochs after epoch {best_epoch}",
            metric.keyword()
        );
    }
    if let Some(best) = r
        .best_epoch
        .and_then(|b| r.epochs.iter().find(|m| m.epoch == b))
    {
        let last = r.epochs.last().map_or(0, |m| m.epoch);
        if best.epoch != last {
            s += &format!("\nrestored the weights of epoch {} (the best)", best.epoch);
        }
        let mut line = format!("\nepoch {}: loss {:.4}", best.epoch, best.train_loss);
        if let Some(a) = best.train_acc {
            line += &format!(", acc {}", pct(a));
        }
        if let Some(l) = best.val_loss {
            line += &format!(", val_loss {l:.4}");
        }
        if let Some(a) = best.val_acc {
            line += &format!(", val_acc {}", pct(a));
        }
        s += &line;
    }
    s
}
