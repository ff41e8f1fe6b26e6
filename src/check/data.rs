//! `data` items: the source, its arguments, and the preparation settings.

use super::model::*;
use super::standardize::{standardize, targets_can_be_standardized};
use crate::bind::Cx;
use crate::bind::args::{Args, list_all};
use crate::bind::did_you_mean;
use crate::bind::sizes::{fmt_shape, shape_value};
use crate::bind::value::Env;
use crate::data::ImputeMethod;
use crate::diag::{Diagnostic, codes};
use crate::sources;
use crate::syntax::{DataDecl, Item, Setting};
use std::collections::HashMap;

pub const SETTINGS: &[&str] = &[
    "reshape",
    "scale",
    "impute",
    "standardize",
    "validation",
    "seed",
];

pub fn check_data(cx: &mut Cx, decl: &DataDecl, items: &HashMap<&str, &Item>) -> Option<DataSpec> {
    let env = Env::new();
    let src = &decl.source;
    let what = format!("`{}`", src.name);
    let Some(entry) = sources::find(&src.name.name) else {
        unknown_source(cx, decl);
        return None;
    };
    let mut a = Args::bind(cx, &env, &what, src.span, &src.args, entry.positional, &[]);
    let source = (entry.bind)(cx, &mut a, src.span);
    let args_ok = a.finish(cx);
    let source = source?;
    let base_shape = source.rule().sample_shape();

    let mut spec = DataSpec {
        name: decl.name.name.clone(),
        source,
        sample_shape: base_shape.clone(),
        reshape: None,
        scale: None,
        impute: None,
        standardize: false,
        standardize_targets: false,
        validation: Validation::None,
        seed: 0,
        span: decl.name.span,
    };
    let ok = settings(cx, &decl.settings, &mut spec, items);
    let ok = ok && split_leaves_both_parts(cx, decl, &spec);
    // Independent of the other settings' mistakes, so reported with them.
    let ok = targets_can_be_standardized(cx, decl, &spec) && ok;
    if let Some(shape) = spec.reshape.clone() {
        let new_len: usize = shape.iter().product();
        if let Some(base) = &base_shape {
            let old_len: usize = base.iter().product();
            if old_len != new_len {
                let s = decl
                    .settings
                    .iter()
                    .find(|s| s.name.name == "reshape")
                    .and_then(|s| s.args.first())
                    .map_or(decl.span, |a| a.value.span);
                cx.err(
                    Diagnostic::error(
                        codes::BAD_SHAPE,
                        format!(
                            "cannot reshape samples of shape {} to {}",
                            fmt_shape(base),
                            fmt_shape(&shape)
                        ),
                        s,
                    )
                    .label(format!("{new_len} values, but a sample has {old_len}"))
                    .secondary(
                        src.span,
                        format!("gives samples of shape {}", fmt_shape(base)),
                    )
                    .help(
                        "a reshape keeps every value: the product of the sizes must stay the same",
                    ),
                );
                return None;
            }
        }
        spec.sample_shape = Some(shape);
    }
    (ok && args_ok).then_some(spec)
}

/// `validation F` on a built-in set, whose size is known now, must leave samples on both
/// sides of the split (rounded as the split rounds). A file's size is known only when it is
/// read, and checked then.
fn split_leaves_both_parts(cx: &mut Cx, decl: &DataDecl, spec: &DataSpec) -> bool {
    let (Validation::Split(fraction), Some(total)) =
        (&spec.validation, spec.source.rule().generated_samples())
    else {
        return true;
    };
    let Ok(total) = usize::try_from(total) else {
        return true;
    };
    let validation = (total as f64 * f64::from(*fraction as f32)).round() as usize;
    if validation > 0 && validation < total {
        return true;
    }
    let span = decl
        .settings
        .iter()
        .find(|s| s.name.name == "validation")
        .map_or(decl.span, |s| {
            s.args.first().map_or(s.span, |a| a.value.span)
        });
    let (low, high) = (0.5 / total as f64, 1.0 - 0.5 / total as f64);
    let diagnostic = if total < 2 {
        Diagnostic::error(
            codes::ARG_RANGE,
            format!("`validation {fraction}` cannot split {total} sample"),
            span,
        )
        .label("one part of the split would be empty")
        .secondary(decl.source.span, "gives 1 sample")
        .help("generate more points, or validate on another data item")
    } else if validation >= total {
        Diagnostic::error(
            codes::ARG_RANGE,
            format!("`validation {fraction}` leaves no sample to train on"),
            span,
        )
        .label(format!(
            "all {total} samples would be set aside for validation"
        ))
        .secondary(decl.source.span, format!("gives {total} samples"))
        .help(format!("use a fraction below {high:.3}, or more points"))
    } else {
        Diagnostic::error(
            codes::ARG_RANGE,
            format!("`validation {fraction}` sets aside no sample to validate on"),
            span,
        )
        .label(format!("{fraction} of {total} samples rounds to 0"))
        .secondary(decl.source.span, format!("gives {total} samples"))
        .help(format!(
            "use a fraction of at least {low:.3}, or more points"
        ))
    };
    cx.err(diagnostic);
    false
}

fn unknown_source(cx: &mut Cx, decl: &DataDecl) {
    let name = decl.source.name.name.as_str();
    let names = sources::keywords();
    let mut d = Diagnostic::error(
        codes::UNKNOWN_SOURCE,
        format!("unknown data source `{name}`"),
        decl.source.name.span,
    )
    .label("not a data source");
    d = match did_you_mean(name, names.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("the sources are {}", list_all(&names))),
    };
    cx.err(d);
}

fn settings(
    cx: &mut Cx,
    settings: &[Setting],
    spec: &mut DataSpec,
    items: &HashMap<&str, &Item>,
) -> bool {
    let env = Env::new();
    let mut ok = true;
    let mut seen: HashMap<&str, &Setting> = HashMap::new();
    for s in settings {
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
        if name == "standardize" {
            ok &= standardize(cx, &env, s, spec);
            continue;
        }
        let what = format!("`{name}`");
        let mut a = Args::bind(cx, &env, &what, s.span, &s.args, &["value"], &[]);
        match name {
            "reshape" => match a.raw("value") {
                Some((v, sp)) => spec.reshape = shape_value(cx, &v, sp, "`reshape`"),
                None => {
                    a.int(cx, "value", 1, None);
                }
            },
            "scale" => {
                spec.scale = a
                    .real(cx, "value", None, |v| v != 0.0, "must not be zero")
                    .map(|v| v.0)
            }
            "impute" => {
                let methods = ImputeMethod::ALL.map(|(keyword, _)| keyword);
                spec.impute = a
                    .choice(cx, "value", &methods, None)
                    .and_then(|(keyword, _)| ImputeMethod::from_keyword(keyword));
            }
            "seed" => spec.seed = a.int(cx, "value", 0, None).map_or(0, |v| v.0 as u64),
            "validation" => match a.raw("value") {
                Some((crate::bind::value::Value::Sym(other), sp)) => {
                    match items.get(other.as_str()) {
                        Some(Item::Data(_)) if other != spec.name => {
                            spec.validation = Validation::Data(Box::new(stub(&other)));
                        }
                        _ => {
                            let data_names = items
                                .iter()
                                .filter(|(_, i)| matches!(i, Item::Data(_)))
                                .map(|(k, _)| *k);
                            let mut d = Diagnostic::error(codes::UNKNOWN_NAME, format!("no data set named `{other}` to validate on"), sp)
                            .label("expected a fraction such as `0.2`, or the name of another `data` item");
                            let mut others: Vec<&str> =
                                data_names.filter(|n| *n != spec.name).collect();
                            others.sort_unstable();
                            if let Some(m) = did_you_mean(&other, others.iter().copied()) {
                                d = d.help(format!("did you mean `{m}`?"));
                            } else if !others.is_empty() {
                                d = d.help(format!(
                                    "the other data items are {}",
                                    list_all(&others)
                                ));
                            }
                            cx.err(d);
                            ok = false;
                        }
                    }
                }
                Some((v, sp)) => match v.as_real() {
                    Some(f) if f > 0.0 && f < 1.0 => spec.validation = Validation::Split(f),
                    _ => {
                        a.range_error(
                            cx,
                            "validation",
                            "must be a fraction in (0, 1) or a data set",
                            &v.to_string(),
                            sp,
                        );
                    }
                },
                None => {
                    a.real(cx, "value", None, |_| true, "");
                }
            },
            _ => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_SETTING,
                    format!("unknown data setting `{name}`"),
                    s.name.span,
                )
                .label("not a data setting");
                d = match did_you_mean(name, SETTINGS.iter().copied()) {
                    Some(m) => d.help(format!("did you mean `{m}`?")),
                    None => d.help(format!("the data settings are {}", list_all(SETTINGS))),
                };
                cx.err(d);
                ok = false;
                continue;
            }
        }
        ok &= a.finish(cx);
    }
    ok
}

/// A placeholder naming another data item, filled in by [`resolve_validation_sets`].
fn stub(name: &str) -> DataSpec {
    DataSpec {
        name: name.to_string(),
        source: DataSource::Xor(crate::sources::Xor {
            points: 0,
            noise: 0.0,
        }),
        sample_shape: None,
        reshape: None,
        scale: None,
        impute: None,
        standardize: false,
        standardize_targets: false,
        validation: Validation::None,
        seed: 0,
        span: Default::default(),
    }
}

/// Replaces each `validation other` placeholder with the checked `other`,
/// prepared as the training data is: its `reshape`, `scale` and
/// `standardize` (with the training part's statistics) apply to `other`,
/// since the network sees both the same way. A preparation of its own that
/// differs is an error, not silently overridden.
pub fn resolve_validation_sets(cx: &mut Cx, datas: &mut HashMap<String, DataSpec>) {
    let mut names: Vec<(String, String)> = datas
        .iter()
        .filter_map(|(k, d)| match &d.validation {
            Validation::Data(v) => Some((k.clone(), v.name.clone())),
            _ => None,
        })
        .collect();
    names.sort();
    for (owner, other) in names {
        let Some(training) = datas.get(&owner).cloned() else {
            continue;
        };
        let Some(mut v) = datas.get(&other).cloned() else {
            continue;
        };
        v.validation = Validation::None;
        let own = [
            (
                "reshape",
                v.reshape.is_some() && v.reshape != training.reshape,
            ),
            ("scale", v.scale.is_some() && v.scale != training.scale),
            ("impute", v.impute.is_some() && v.impute != training.impute),
            ("standardize", v.standardize && !training.standardize),
            (
                "standardize",
                v.standardize_targets && !training.standardize_targets,
            ),
        ];
        for (setting, differs) in own {
            if differs {
                cx.err(
                    Diagnostic::error(
                        codes::CONFLICTING_SETTINGS,
                        format!(
                            "data `{other}` validates `{owner}` but sets its own `{setting}`"
                        ),
                        v.span,
                    )
                    .label(format!("`{setting}` differs from `{owner}`'s"))
                    .secondary(training.span, format!("`{owner}` is prepared here"))
                    .help(format!(
                        "validation data is prepared as the training data is: remove `{setting}` from `{other}`"
                    )),
                );
            }
        }
        v.reshape = training.reshape.clone();
        v.scale = training.scale;
        v.impute = training.impute;
        v.standardize = training.standardize;
        v.standardize_targets = training.standardize_targets;
        if let Some(shape) = &v.reshape {
            v.sample_shape = Some(shape.clone());
        }
        if let Some(d) = datas.get_mut(&owner) {
            d.validation = Validation::Data(Box::new(v));
        }
    }
}
