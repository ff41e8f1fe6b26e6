//! The `class_weights` setting of a `train` item: `balanced`, or one weight
//! per class, `[1, 2.5, 1]`.
//!
//! Reading the value is `class_weights`; whether it fits the loss and the
//! number of classes is `check_class_weights_fit`, once the loss and the
//! network are known. A length that only the data can tell is checked when
//! the data loads (`crate::runtime::class_weights`).

use super::model::*;
use crate::bind::Cx;
use crate::bind::args::Args;
use crate::bind::did_you_mean;
use crate::bind::value::Value;
use crate::diag::{Diagnostic, codes};
use crate::syntax::{Setting, Span};

/// `class_weights balanced` or `class_weights [w0, w1, ...]`.
pub fn class_weights(cx: &mut Cx, a: &mut Args, s: &Setting) -> Option<ClassWeights> {
    let Some((value, span)) = a.raw("value") else {
        if a.has("value") {
            return None; // written, but its value is an error already reported
        }
        cx.err(
            Diagnostic::error(
                codes::MISSING_ARGUMENT,
                "`class_weights` needs a value",
                s.span,
            )
            .label("missing")
            .help("for example: `class_weights balanced` or `class_weights [1, 2.5, 1]`"),
        );
        return None;
    };
    let kind = match value {
        Value::Sym(word) if word == "balanced" => ClassWeightsKind::Balanced,
        Value::Sym(word) => {
            let mut d = Diagnostic::error(
                codes::ARG_RANGE,
                format!("unknown class weighting `{word}`"),
                span,
            )
            .label("expected `balanced` or a list of weights");
            d = match did_you_mean(&word, ["balanced"]) {
                Some(m) => d.help(format!("did you mean `{m}`?")),
                None => d.help("write `balanced`, or one weight per class: `[1, 2.5, 1]`"),
            };
            cx.err(d);
            return None;
        }
        Value::List(items) => ClassWeightsKind::List(weights(cx, &items, span)?),
        other => {
            cx.err(
                Diagnostic::error(
                    codes::ARG_TYPE,
                    format!(
                        "`class_weights` must be `balanced` or a list of weights, found {}",
                        other.describe()
                    ),
                    span,
                )
                .label("expected e.g. `[1, 2.5, 1]`")
                .help("one positive weight per class, in the order of the classes"),
            );
            return None;
        }
    };
    Some(ClassWeights { kind, span })
}

/// Each entry a finite number above 0; every bad entry is reported.
fn weights(cx: &mut Cx, items: &[(Value, Span)], list_span: Span) -> Option<Vec<f64>> {
    if items.is_empty() {
        cx.err(
            Diagnostic::error(
                codes::ARG_RANGE,
                "`class_weights` is an empty list",
                list_span,
            )
            .label("no weights")
            .help("give one positive weight per class, in the order of the classes"),
        );
        return None;
    }
    let mut ok = true;
    let mut out = Vec::with_capacity(items.len());
    for (i, (v, sp)) in items.iter().enumerate() {
        match v.as_real() {
            Some(w) if w.is_finite() && w > 0.0 => out.push(w),
            Some(w) => {
                // Weight 0 drops a class; a negative one rewards mistakes.
                let why = if w == 0.0 {
                    "a weight of 0 would leave the class out of the loss entirely"
                } else if w.is_finite() {
                    "a negative weight would reward the network for misclassifying the class"
                } else {
                    "the loss would not be a finite number"
                };
                cx.err(
                    Diagnostic::error(
                        codes::ARG_RANGE,
                        format!(
                            "the weight of class {i} must be a finite number above 0, found {v}"
                        ),
                        *sp,
                    )
                    .label("out of range")
                    .help(why),
                );
                ok = false;
            }
            None => {
                cx.err(
                    Diagnostic::error(
                        codes::ARG_TYPE,
                        format!(
                            "the weight of class {i} must be a number, found {}",
                            v.describe()
                        ),
                        *sp,
                    )
                    .label("expected a number"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// Class weights need a classification loss, and a list needs one weight
/// per class: the network's outputs for `cross_entropy` (which the checker
/// holds to the data's classes), 2 for `binary_cross_entropy`.
pub fn check_class_weights_fit(cx: &mut Cx, t: &TrainSpec, net: &Network, setting: Span) {
    let Some(w) = &t.class_weights else {
        return;
    };
    let classes = match t.loss {
        Loss::MeanSquaredError => {
            cx.err(
                Diagnostic::error(
                    codes::CONFLICTING_SETTINGS,
                    "`class_weights` needs a classification loss, but the loss is `mse`",
                    setting,
                )
                .label("weights classes")
                .help(
                    "`mse` fits real-valued targets, which have no classes to weight; \
                     remove `class_weights`",
                ),
            );
            return;
        }
        Loss::BinaryCrossEntropy => 2,
        Loss::CrossEntropy => match net.output_shape() {
            [c] if *c >= 2 => *c,
            _ => return, // the loss's own error says what is wrong
        },
    };
    let ClassWeightsKind::List(list) = &w.kind else {
        return;
    };
    if list.len() != classes {
        let last = &net.layers[net.output];
        let (why, secondary) = match t.loss {
            Loss::BinaryCrossEntropy => (
                "`binary_cross_entropy` has 2 classes, 0 and 1".to_string(),
                "one output: classes 0 and 1".to_string(),
            ),
            _ => (
                format!("the network gives {classes} outputs, one per class"),
                format!("{classes} outputs"),
            ),
        };
        let entries = if list.len() == 1 { "weight" } else { "weights" };
        cx.err(
            Diagnostic::error(
                codes::LOSS_MISMATCH,
                format!(
                    "`class_weights` gives {} {entries}, but there are {classes} classes",
                    list.len()
                ),
                w.span,
            )
            .label(format!("{} {entries}", list.len()))
            .secondary(last.span, secondary)
            .help(format!(
                "{why}: give {classes} weights, in the order of the classes"
            )),
        );
    }
}
