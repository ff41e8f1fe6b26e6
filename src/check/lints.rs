//! Warnings: programs that are legal but probably not what was meant.

use super::model::*;
use crate::bind::Cx;
use crate::diag::{Diagnostic, codes};
use crate::layers::Range;
use crate::syntax::Program;

pub fn lint(cx: &mut Cx, model: &Model, _program: &Program) {
    let net = &model.network;
    let last = &net.layers[net.output];
    if let Some(t) = &model.train {
        output_activation(cx, t.loss, last, net.output_shape());
        learning_rate(cx, t);
    }
    if last.op.rule().dropout_rate().is_some() {
        cx.err(
            Diagnostic::warning(codes::W_DROPOUT_LAST, "dropout after the last layer", last.span)
                .label("drops outputs of the network itself")
                .help("dropout belongs between hidden layers; remove this one or move it before the last `dense`"),
        );
    }
}

fn output_activation(cx: &mut Cx, loss: Loss, last: &Layer, out: &[usize]) {
    let Some(act) = last.op.rule().activation() else {
        return;
    };
    let keyword = last.op.keyword();
    let d = match (loss, act.range) {
        (Loss::CrossEntropy, Range::Probabilities) => Diagnostic::warning(
            codes::W_DOUBLE_SOFTMAX,
            format!("`{keyword}` before `cross_entropy` applies softmax twice"),
            last.span,
        )
        .label("the loss already applies softmax to the logits")
        .help("remove this layer; `dlc predict` still reports probabilities"),
        (Loss::CrossEntropy, Range::UnitInterval) => Diagnostic::warning(
            codes::W_SIGMOID_MULTICLASS,
            format!(
                "`{keyword}` before a {}-class `cross_entropy`",
                out.first().copied().unwrap_or(0)
            ),
            last.span,
        )
        .label("squashes every logit into (0, 1)")
        .help("remove this layer: cross_entropy takes unbounded logits"),
        (Loss::BinaryCrossEntropy, Range::UnitInterval) => Diagnostic::warning(
            codes::W_DOUBLE_SOFTMAX,
            format!("`{keyword}` before `binary_cross_entropy` applies the sigmoid twice"),
            last.span,
        )
        .label("the loss already applies the sigmoid to the logit")
        .help("remove this layer"),
        (Loss::CrossEntropy | Loss::BinaryCrossEntropy, Range::NonNegative) => Diagnostic::warning(
            codes::W_ACTIVATION_LAST,
            format!("`{keyword}` on the logits"),
            last.span,
        )
        .label("negative logits become 0, so the loss cannot push classes apart")
        .help("remove this layer: the last layer should be linear"),
        _ => return,
    };
    cx.err(d);
}

fn learning_rate(cx: &mut Cx, t: &TrainSpec) {
    let rule = t.optimizer.kind.rule();
    let (limit, name) = (rule.large_rate(), rule.keyword());
    if t.optimizer.lr > limit {
        cx.err(
            Diagnostic::warning(
                codes::W_LARGE_LR,
                format!(
                    "learning rate {} is unusually large for `{name}`",
                    t.optimizer.lr
                ),
                t.optimizer.rate_span(),
            )
            .label("training will likely diverge")
            .help("`dlc tune` finds a working rate"),
        );
    }
}
