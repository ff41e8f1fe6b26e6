//! `standardize` in a data item: what it standardises (`features`,
//! `targets`, or both), and that only regression targets can be.

use super::model::DataSpec;
use crate::bind::Cx;
use crate::bind::did_you_mean;
use crate::bind::value::{Env, Value, eval};
use crate::diag::{Diagnostic, codes};
use crate::syntax::{DataDecl, ExprKind, Setting, Span};

/// What `standardize` may standardise: `standardize features, targets`.
const STANDARDIZED: &[&str] = &["features", "targets"];

/// `standardize` (the features), or what to standardise:
/// `standardize features`, `standardize targets`, `standardize features, targets`.
pub(super) fn standardize(cx: &mut Cx, env: &Env, s: &Setting, spec: &mut DataSpec) -> bool {
    if s.args.is_empty() {
        spec.standardize = true;
        return true;
    }
    let forms = "`standardize features`, `standardize targets` or `standardize features, targets`";
    let mut ok = true;
    let mut given: Vec<(String, Span)> = Vec::new();
    for arg in &s.args {
        if let Some(n) = &arg.name {
            cx.err(
                Diagnostic::error(
                    codes::UNKNOWN_ARGUMENT,
                    format!("`standardize` has no argument `{}`", n.name),
                    n.span,
                )
                .label("unknown argument")
                .help(format!("say what to standardize: {forms}")),
            );
            ok = false;
            continue;
        }
        let part = match eval(cx, env, &arg.value) {
            None => {
                ok = false;
                continue;
            }
            Some(Value::Sym(word)) if STANDARDIZED.contains(&word.as_str()) => word,
            Some(other) => {
                let mut d = Diagnostic::error(
                    codes::ARG_RANGE,
                    format!(
                        "`standardize` standardizes `features` or `targets`, found {}",
                        other.describe()
                    ),
                    arg.value.span,
                )
                .label("expected `features` or `targets`");
                let word = match &other {
                    Value::Sym(w) | Value::Str(w) => Some(w.as_str()),
                    _ => None,
                };
                d = match word.and_then(|w| did_you_mean(w, STANDARDIZED.iter().copied())) {
                    Some(m) => d.help(format!("did you mean `{m}`?")),
                    None => d.help(format!("write {forms}")),
                };
                cx.err(d);
                ok = false;
                continue;
            }
        };
        if let Some((_, first)) = given.iter().find(|(g, _)| *g == part) {
            cx.err(
                Diagnostic::error(
                    codes::DUPLICATE_ARGUMENT,
                    format!("`{part}` is given twice to `standardize`"),
                    arg.span,
                )
                .label("given again here")
                .secondary(*first, "first given here")
                .help("give each once"),
            );
            ok = false;
            continue;
        }
        given.push((part, arg.span));
    }
    for (part, _) in &given {
        match part.as_str() {
            "features" => spec.standardize = true,
            _ => spec.standardize_targets = true,
        }
    }
    ok
}

/// `standardize targets` needs real-valued targets: classes are indices.
pub(super) fn targets_can_be_standardized(cx: &mut Cx, decl: &DataDecl, spec: &DataSpec) -> bool {
    if !spec.standardize_targets || spec.is_regression() {
        return true;
    }
    let span = decl
        .settings
        .iter()
        .filter(|s| s.name.name == "standardize")
        .flat_map(|s| &s.args)
        .find(|a| matches!(&a.value.kind, ExprKind::Name(n) if n == "targets"))
        .map_or(decl.span, |a| a.span);
    cx.err(
        Diagnostic::error(
            codes::CONFLICTING_SETTINGS,
            format!(
                "`standardize targets` needs real-valued targets, but data `{}` has classes",
                spec.name
            ),
            span,
        )
        .label("only regression targets can be standardized")
        .secondary(decl.source.span, "gives class labels")
        .help(
            "class labels are indices, not measurements: remove `targets` \
             (`standardize` alone standardizes the features)",
        ),
    );
    false
}
