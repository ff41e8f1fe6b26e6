//! The `train` item: loss, optimizer, schedule, regularisation and the plan.

use super::model::*;
use crate::bind::Cx;
use crate::bind::args::{Args, list, list_all};
use crate::bind::did_you_mean;
use crate::bind::sizes::fmt_shape;
use crate::bind::value::{Env, Value};
use crate::diag::{Diagnostic, codes};
use crate::optimizers::{self, Sgd};
use crate::syntax::{Setting, Span, TrainDecl};
use std::collections::HashMap;

pub const SETTINGS: &[&str] = &[
    "loss",
    "class_weights",
    "optimizer",
    "schedule",
    "batch",
    "epochs",
    "l1",
    "l2",
    "clip",
    "early_stop",
    "checkpoint",
    "seed",
];
const SCHEDULES: &[&str] = &["constant", "step", "exponential", "cosine"];
const METRICS: &[&str] = &["val_loss", "val_accuracy", "train_loss"];

pub fn check_train(cx: &mut Cx, decl: &TrainDecl, data: Option<&DataSpec>) -> Option<TrainSpec> {
    let env = Env::new();
    let mut seen: HashMap<&str, &Setting> = HashMap::new();
    let mut ok = true;
    let mut spec = TrainSpec {
        loss: Loss::CrossEntropy,
        class_weights: None,
        optimizer: Optimizer {
            kind: OptimizerKind::Sgd(Sgd {
                momentum: 0.0,
                nesterov: false,
            }),
            lr: 0.01,
            span: decl.span,
            lr_span: None,
        },
        schedule: Schedule {
            kind: ScheduleKind::Constant,
            warmup: 0.0,
        },
        batch: Batch::Size(32),
        batch_span: None,
        epochs: 10,
        l1: 0.0,
        l2: 0.0,
        clip_norm: None,
        early_stop: None,
        checkpoint: None,
        seed: 0,
        span: decl.span,
    };
    for s in &decl.settings {
        let name = s.name.name.as_str();
        if let Some(prev) = seen.insert(name, s) {
            cx.err(
                Diagnostic::error(
                    codes::DUPLICATE_SETTING,
                    format!("`{name}` is set twice"),
                    s.span,
                )
                .label("set again here")
                .secondary(prev.span, "first set here")
                .help("keep one of them"),
            );
            ok = false;
            continue;
        }
        if !SETTINGS.contains(&name) {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_SETTING,
                format!("unknown training setting `{name}`"),
                s.name.span,
            )
            .label("not a training setting");
            d = match (
                setting_alias(name),
                did_you_mean(name, SETTINGS.iter().copied()),
            ) {
                (Some(help), _) => d.help(help),
                (None, Some(m)) => d.help(format!("did you mean `{m}`?")),
                (None, None) => d.help(format!("the training settings are {}", list_all(SETTINGS))),
            };
            cx.err(d);
            ok = false;
            continue;
        }
        let positional: &[&'static str] = match name {
            "early_stop" => &["metric"],
            _ => &["value"],
        };
        let mut a = Args::bind(
            cx,
            &env,
            &format!("`{name}`"),
            s.span,
            &s.args,
            positional,
            &[],
        );
        let good = match name {
            "loss" => {
                let names = Loss::ALL.map(Loss::keyword);
                a.choice(cx, "value", &names, None).and_then(|(name, _)| {
                    // `choice` accepts only the names of `Loss::ALL`.
                    let loss = Loss::ALL.into_iter().find(|l| l.keyword() == name)?;
                    spec.loss = loss;
                    Some(())
                })
            }
            "class_weights" => super::class_weights::class_weights(cx, &mut a, s)
                .map(|w| spec.class_weights = Some(w)),
            "optimizer" => optimizer(cx, &mut a, s).map(|o| spec.optimizer = o),
            "schedule" => schedule(cx, &mut a, s).map(|o| spec.schedule = o),
            "batch" => match a.raw("value").inspect(|_| spec.batch_span = Some(s.span)) {
                Some((Value::Sym(w), _)) if w == "all" => {
                    let _: () = spec.batch = Batch::All;
                    Some(())
                }
                Some((v, sp)) => match v.as_int() {
                    Some(n) if n >= 1 => {
                        let _: () = spec.batch = Batch::Size(n as usize);
                        Some(())
                    }
                    Some(_) => {
                        a.range_error(
                            cx,
                            "batch",
                            "must be a positive size or `all`",
                            &v.to_string(),
                            sp,
                        );
                        None
                    }
                    None => {
                        a.invalid(
                            cx,
                            "batch",
                            "must be a positive size or `all`",
                            &v.describe(),
                            sp,
                            "expected a size or `all`",
                        );
                        None
                    }
                },
                None => a.size(cx, "value", 1, None).map(|_| ()),
            },
            "epochs" => a.size(cx, "value", 1, None).map(|(n, _)| spec.epochs = n),
            "l1" => a
                .real(cx, "value", None, |v| v >= 0.0, "must be at least 0")
                .map(|(v, _)| spec.l1 = v),
            "l2" => a
                .real(cx, "value", None, |v| v >= 0.0, "must be at least 0")
                .map(|(v, _)| spec.l2 = v),
            "clip" => a
                .real(cx, "value", None, |v| v > 0.0, "must be positive")
                .map(|(v, _)| spec.clip_norm = Some(v)),
            "seed" => a
                .int(cx, "value", 0, None)
                .map(|(v, _)| spec.seed = v as u64),
            "checkpoint" => a
                .string(cx, "value", true)
                .map(|(p, _)| spec.checkpoint = Some(p)),
            "early_stop" => early_stop(cx, &mut a, data, s).map(|e| spec.early_stop = Some(e)),
            _ => unreachable!("every setting in SETTINGS has a rule"),
        };
        ok &= a.finish(cx) && good.is_some();
    }
    for required in ["loss", "optimizer"] {
        if !seen.contains_key(required) {
            let example = if required == "loss" {
                "loss cross_entropy"
            } else {
                "optimizer sgd(lr: 0.1)"
            };
            cx.err(
                Diagnostic::error(
                    codes::MISSING_SETTING,
                    format!("the training plan has no `{required}`"),
                    decl.network.span.to(decl.data.span),
                )
                .label(format!("`{required}` is not set"))
                .help(format!("add a line such as `{example}`")),
            );
            ok = false;
        }
    }
    ok.then_some(spec)
}

/// Help for settings named as other frameworks name them.
fn setting_alias(name: &str) -> Option<&'static str> {
    Some(match name {
        "batch_size" | "minibatch" => "the batch size is set by `batch`, e.g. `batch 32`",
        "lr" | "learning_rate" => {
            "the learning rate is an argument of the optimizer, e.g. `optimizer sgd(lr: 0.1)`"
        }
        "weight_decay" => "weight decay is `l2`, or `optimizer adamw(weight_decay: ...)`",
        "early_stopping" | "patience" => {
            "early stopping is `early_stop`, e.g. `early_stop val_loss, patience: 5`"
        }
        "class_weight" | "weights" | "weight" | "loss_weights" => {
            "class weights are `class_weights`, e.g. `class_weights balanced`"
        }
        "clip_norm" | "grad_clip" => "gradient clipping is `clip`, e.g. `clip 1.0`",
        "lr_schedule" | "scheduler" => "the schedule is `schedule`, e.g. `schedule cosine`",
        _ => return None,
    })
}

/// `sgd(lr: 0.1, momentum: 0.9, nesterov)`, `adam(lr: 1e-3)`, ...: the rate,
/// which every optimizer takes, then the optimizer's own arguments.
fn optimizer(cx: &mut Cx, a: &mut Args, s: &Setting) -> Option<Optimizer> {
    let names = optimizers::keywords();
    let (name, args, span) = call_value(cx, a, s, &names, "sgd(lr: 0.1)")?;
    // `call_value` accepts only registered names.
    let entry = optimizers::find(&name)?;
    let what = format!("`{name}`");
    let mut o = Args::from_values(cx, &what, span, args, &["lr"], entry.flags);
    let lr = o.real(cx, "lr", None, |v| v > 0.0, "must be positive");
    let kind = (entry.bind)(cx, &mut o);
    let ok = o.finish(cx);
    let ((lr, lr_span), kind) = (lr?, kind?);
    ok.then_some(Optimizer {
        kind,
        lr,
        span,
        // A default rate comes with the call's span.
        lr_span: (lr_span != span).then_some(lr_span),
    })
}

/// `constant`, `step(every: 10, gamma: 0.5)`, `exponential(gamma: 0.95)`,
/// `cosine(min_lr: 0)`; each with an optional `warmup: epochs`.
fn schedule(cx: &mut Cx, a: &mut Args, s: &Setting) -> Option<Schedule> {
    let (name, args, span) = call_value(cx, a, s, SCHEDULES, "cosine(warmup: 2)")?;
    let what = format!("`{name}`");
    let mut o = Args::from_values(cx, &what, span, args, &[], &[]);
    let warmup = o.real(cx, "warmup", Some(0.0), |v| v >= 0.0, "must be at least 0");
    let kind = match name.as_str() {
        "constant" => Some(ScheduleKind::Constant),
        "step" => {
            let every = o.size(cx, "every", 1, None);
            let gamma = o.real(
                cx,
                "gamma",
                Some(0.1),
                |g| g > 0.0 && g <= 1.0,
                "must be in (0, 1]",
            );
            every.zip(gamma).map(|(e, g)| ScheduleKind::Step {
                every: e.0,
                gamma: g.0,
            })
        }
        "exponential" => o
            .real(
                cx,
                "gamma",
                None,
                |g| g > 0.0 && g <= 1.0,
                "must be in (0, 1]",
            )
            .map(|g| ScheduleKind::Exponential { gamma: g.0 }),
        _ => o
            .real(cx, "min_lr", Some(0.0), |m| m >= 0.0, "must be at least 0")
            .map(|m| ScheduleKind::Cosine { min_lr: m.0 }),
    };
    let ok = o.finish(cx);
    let s = Schedule {
        kind: kind?,
        warmup: warmup?.0,
    };
    ok.then_some(s)
}

type CallParts = (String, Vec<(Option<String>, Value, Span)>, Span);

/// The value of a setting that names a choice, with or without arguments:
/// `cosine` or `cosine(warmup: 2)`.
fn call_value(
    cx: &mut Cx,
    a: &mut Args,
    s: &Setting,
    choices: &[&str],
    example: &str,
) -> Option<CallParts> {
    let what = s.name.name.as_str();
    let Some((v, span)) = a.raw("value") else {
        if a.has("value") {
            return None; // written, but its value is an error already reported
        }
        cx.err(
            Diagnostic::error(
                codes::MISSING_ARGUMENT,
                format!("`{what}` needs a value"),
                s.span,
            )
            .label("missing")
            .help(format!("for example: `{what} {example}`")),
        );
        return None;
    };
    let (name, args) = match v {
        Value::Sym(n) => (n, vec![]),
        Value::Call(n, args) => (n, args),
        other => {
            cx.err(
                Diagnostic::error(
                    codes::ARG_TYPE,
                    format!(
                        "`{what}` must be one of {}, found {}",
                        list(choices),
                        other.describe()
                    ),
                    span,
                )
                .label(format!("expected e.g. `{example}`")),
            );
            return None;
        }
    };
    if !choices.contains(&name.as_str()) {
        // `adma(lr: 0.1)`: point at the name, not at its arguments.
        let name_span = Span::new(span.start, (span.start + name.len()).min(span.end));
        let mut d = Diagnostic::error(
            codes::ARG_RANGE,
            format!("unknown {what} `{name}`"),
            name_span,
        )
        .label(format!("expected one of {}", list(choices)));
        if let Some(m) = did_you_mean(&name, choices.iter().copied()) {
            d = d.help(format!("did you mean `{m}`?"));
        }
        cx.err(d);
        return None;
    }
    Some((name, args, span))
}

/// `early_stop val_loss, patience: 5, min_delta: 0.001`
fn early_stop(
    cx: &mut Cx,
    a: &mut Args,
    data: Option<&DataSpec>,
    s: &Setting,
) -> Option<EarlyStop> {
    let metric = a.choice(cx, "metric", METRICS, Some("val_loss"));
    let patience = a.size(cx, "patience", 1, Some(5));
    let min_delta = a.real(
        cx,
        "min_delta",
        Some(0.0),
        |d| d >= 0.0,
        "must be at least 0",
    );
    let metric = match metric?.0 {
        "val_loss" => Metric::ValLoss,
        "val_accuracy" => Metric::ValAccuracy,
        _ => Metric::TrainLoss,
    };
    if metric != Metric::TrainLoss
        && let Some(d) = data.filter(|d| d.validation == Validation::None)
    {
        cx.err(
            Diagnostic::error(
                codes::CONFLICTING_SETTINGS,
                format!(
                    "early stopping on `{}` needs a validation set",
                    metric.keyword()
                ),
                s.span,
            )
            .label("watches validation data")
            .secondary(d.span, format!("data `{}` has no validation split", d.name))
            .help("add `validation 0.2` to the data, or stop on `train_loss`"),
        );
        return None;
    }
    Some(EarlyStop {
        metric,
        patience: patience?.0,
        min_delta: min_delta?.0,
    })
}

/// Batch norm's statistics need two values per feature: with `batch 1` a
/// batch norm of vectors (or of 1x1 images) has one, its variance is 0/0 and
/// every step would fail (PyTorch refuses it too).
pub fn check_batch_norm_batch(cx: &mut Cx, t: &TrainSpec, net: &Network) {
    if t.batch != Batch::Size(1) {
        return;
    }
    let single = net.layers.iter().find(|l| {
        l.op.rule().uses_batch_statistics()
            && l.inputs
                .first()
                .is_some_and(|&i| net.layers[i].shape.iter().skip(1).product::<usize>() == 1)
    });
    if let Some(layer) = single {
        cx.err(
            Diagnostic::error(
                codes::CONFLICTING_SETTINGS,
                "`batch 1` leaves batch norm one value per feature to take statistics of",
                t.batch_span.unwrap_or(t.span),
            )
            .label("one sample per step")
            .secondary(layer.span, "normalises each feature over the batch")
            .help("use a batch of 2 or more, or `layernorm`, which normalises each sample alone"),
        );
    }
}

/// The loss must suit the network's output and the data's targets.
pub fn check_loss_fits(
    cx: &mut Cx,
    t: &TrainSpec,
    net: &Network,
    data: Option<&DataSpec>,
    span: Span,
) {
    let out = net.output_shape();
    let last = &net.layers[net.output];
    let regression = data.is_some_and(DataSpec::is_regression);
    let mismatch = |msg: String, label: String, help: String| {
        Diagnostic::error(codes::LOSS_MISMATCH, msg, span)
            .label(label)
            .secondary(
                last.span,
                format!("the network's output is {}", fmt_shape(out)),
            )
            .help(help)
    };
    match t.loss {
        Loss::CrossEntropy | Loss::BinaryCrossEntropy if regression => {
            let d = data.expect("regression implies data");
            cx.err(
                mismatch(
                    format!(
                        "`{}` is a classification loss, but data `{}` has real-valued targets",
                        t.loss.keyword(),
                        d.name
                    ),
                    "classification loss".into(),
                    "use `loss mse` for regression".into(),
                )
                .secondary(d.span, "real-valued targets"),
            );
        }
        Loss::CrossEntropy => {
            if out.len() != 1 || out[0] < 2 {
                cx.err(mismatch(
                    format!("`cross_entropy` needs one output per class, but the network gives {}", fmt_shape(out)),
                    "needs an output `[classes]`".into(),
                    "end the network with `dense C` for C classes (C >= 2); for two classes with one output use `binary_cross_entropy`".into(),
                ));
            } else if let Some(d) = data
                && let Some(c) = d.classes().filter(|&c| c != out[0])
            {
                cx.err(
                    mismatch(
                        format!(
                            "the network gives {} outputs but data `{}` has {c} classes",
                            out[0], d.name
                        ),
                        "outputs and classes differ".into(),
                        format!("end the network with `dense {c}`"),
                    )
                    .secondary(d.span, format!("{c} classes")),
                );
            }
        }
        Loss::BinaryCrossEntropy => {
            if out != [1] {
                cx.err(mismatch(
                    format!("`binary_cross_entropy` needs one output (a logit), but the network gives {}", fmt_shape(out)),
                    "needs an output `[1]`".into(),
                    "end the network with `dense 1`, or use `cross_entropy` for several classes".into(),
                ));
            } else if let Some(d) = data
                && let Some(c) = d.classes().filter(|&c| c != 2)
            {
                cx.err(
                    mismatch(
                        format!(
                            "`binary_cross_entropy` is for two classes, but data `{}` has {c}",
                            d.name
                        ),
                        "two-class loss".into(),
                        format!("use `cross_entropy` and end the network with `dense {c}`"),
                    )
                    .secondary(d.span, format!("{c} classes")),
                );
            }
        }
        Loss::MeanSquaredError => {
            if out.len() != 1 {
                cx.err(mismatch(
                    format!(
                        "`mse` compares vectors, but the network gives {}",
                        fmt_shape(out)
                    ),
                    "needs a vector output".into(),
                    "insert `flatten` and a `dense` layer".into(),
                ));
            } else if let Some(d) = data {
                if !d.is_regression() {
                    cx.err(
                        mismatch(
                            format!(
                                "`mse` is a regression loss, but data `{}` has class labels",
                                d.name
                            ),
                            "regression loss".into(),
                            "use `loss cross_entropy` for classes".into(),
                        )
                        .secondary(d.span, "class labels"),
                    );
                } else if let Some(w) = d.target_width().filter(|&w| w != out[0]) {
                    let targets = if w == 1 { "target" } else { "targets" };
                    cx.err(mismatch(
                        format!(
                            "the network gives {} values but data `{}` has {w} {targets}",
                            out[0], d.name
                        ),
                        "outputs and targets differ".into(),
                        format!("end the network with `dense {w}`"),
                    ));
                }
            }
        }
    }
}
