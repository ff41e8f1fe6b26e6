//! The top level: item names, which network is trained on which data, and
//! the checks that need more than one item (the data's shape against the
//! network's input, the loss against the network's output).

use super::model::*;
use super::{class_weights, data, layers, network, train};
use crate::bind::Cx;
use crate::bind::did_you_mean;
use crate::bind::sizes::fmt_shape;
use crate::diag::{Diagnostic, codes};
use crate::syntax::{BlockDecl, Item, Program, Span, TrainDecl};
use std::collections::HashMap;

pub fn check_program(cx: &mut Cx, program: &Program) -> Option<Model> {
    let mut names: HashMap<&str, &Item> = HashMap::new();
    let mut blocks: HashMap<String, &BlockDecl> = HashMap::new();
    let mut trains = Vec::new();
    for item in &program.items {
        if let Item::Train(t) = item {
            trains.push(t);
            continue;
        }
        let name = item.name();
        if let Some(prev) = names.get(name.name.as_str()) {
            cx.err(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!("`{name}` is defined twice"),
                    name.span,
                )
                .label("defined again here")
                .secondary(prev.name().span, format!("`{name}` is first defined here"))
                .help("give each data set, block and network its own name"),
            );
            continue;
        }
        if let Item::Block(b) = item {
            check_block_params(cx, b);
            if name.name == "concat" {
                cx.err(
                    Diagnostic::error(
                        codes::SHADOWED_NAME,
                        "block `concat` has the name of the built-in merge",
                        name.span,
                    )
                    .label("choose another name")
                    .help("`concat(a, b)` joins named values; a block cannot replace it"),
                );
                continue;
            }
            if layers::is_builtin(&name.name) {
                cx.err(
                    Diagnostic::error(
                        codes::SHADOWED_NAME,
                        format!("block `{name}` has the name of a built-in layer"),
                        name.span,
                    )
                    .label("choose another name")
                    .help(format!(
                        "`{name}` is already a layer; a block cannot replace it"
                    )),
                );
                continue;
            }
            blocks.insert(name.name.clone(), b);
        }
        names.insert(&name.name, item);
    }
    // The `train` keyword stands for the whole item: the item spans many lines.
    let keyword = |t: &TrainDecl| Span::new(t.span.start, t.span.start + "train".len());
    for extra in trains.iter().skip(1) {
        cx.err(
            Diagnostic::error(
                codes::DUPLICATE_NAME,
                "a program has one `train`",
                keyword(extra),
            )
            .label("a second `train`")
            .secondary(keyword(trains[0]), "the first `train` is here")
            .help("put other training plans in files of their own"),
        );
    }

    let networks: Vec<_> = program
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Network(n) => Some(n),
            _ => None,
        })
        .collect();
    if networks.is_empty() {
        cx.err(
            Diagnostic::error(
                codes::MISSING_ITEM,
                "the program defines no network",
                Span::new(0, 0),
            )
            .label("expected a `network` item")
            .help("add one, e.g. `network net(x: [2]) -> 2 { dense 8; relu; dense 2 }`"),
        );
    }

    // Which network and data the plan names, if they exist and are what it says.
    let train_decl = trains.first().copied();
    let mut chosen_net = networks.first().map(|n| n.name.name.as_str());
    let mut chosen_data = None;
    if let Some(t) = train_decl {
        let swapped = matches!(names.get(t.network.name.as_str()), Some(Item::Data(_)))
            && matches!(names.get(t.data.name.as_str()), Some(Item::Network(_)));
        if swapped {
            cx.err(
                Diagnostic::error(
                    codes::WRONG_KIND,
                    "`train` names the data first and the network second",
                    t.network.span.to(t.data.span),
                )
                .label("the wrong way round")
                .help(format!("write `train {} on {}`", t.data, t.network)),
            );
            chosen_net = None;
        } else {
            chosen_net = resolve(cx, &names, &t.network.name, t.network.span, "network");
            chosen_data = resolve(cx, &names, &t.data.name, t.data.span, "data");
        }
    }

    let mut datas: HashMap<String, DataSpec> = HashMap::new();
    for item in &program.items {
        if let Item::Data(d) = item
            && let Some(spec) = data::check_data(cx, d, &names)
        {
            datas.insert(d.name.name.clone(), spec);
        }
    }
    data::resolve_validation_sets(cx, &mut datas);

    let mut model_net = None;
    for n in &networks {
        if names
            .get(n.name.name.as_str())
            .is_some_and(|i| i.span() != n.span)
        {
            continue; // a duplicate, already reported
        }
        let built = network::check_network(cx, n, &blocks, &names);
        if Some(n.name.name.as_str()) == chosen_net {
            model_net = built;
        }
    }

    let data_spec = chosen_data.and_then(|d| datas.get(d).cloned());
    let train_spec = train_decl.and_then(|t| train::check_train(cx, t, data_spec.as_ref()));
    let network = model_net?;
    if let (Some(t), Some(d)) = (train_decl, &data_spec) {
        check_data_fits(cx, &network, d, t.data.span, false);
        if let Validation::Data(v) = &d.validation {
            check_data_fits(cx, &network, v, t.data.span, true);
            check_validation_targets(cx, d, v, t.data.span);
        }
    }
    if let (Some(ts), Some(t)) = (&train_spec, train_decl) {
        // Loss mismatches point at the loss's name, the thing to change.
        let loss_span = t
            .settings
            .iter()
            .find(|s| s.name.name == "loss")
            .and_then(|s| s.args.first())
            .map_or(t.span, |a| a.value.span);
        train::check_loss_fits(cx, ts, &network, data_spec.as_ref(), loss_span);
        train::check_batch_norm_batch(cx, ts, &network);
        if let Some(s) = t.settings.iter().find(|s| s.name.name == "class_weights") {
            class_weights::check_class_weights_fit(cx, ts, &network, s.span);
        }
    }
    Some(Model {
        network,
        data: data_spec,
        train: train_spec,
    })
}

/// Looks up an item named by `train`, expecting `kind` ("network" or "data").
fn resolve<'a>(
    cx: &mut Cx,
    names: &HashMap<&'a str, &Item>,
    name: &str,
    span: Span,
    kind: &str,
) -> Option<&'a str> {
    let found = names.get_key_value(name);
    let is_kind = |i: &Item| {
        matches!(
            (i, kind),
            (Item::Network(_), "network") | (Item::Data(_), "data")
        )
    };
    let kind_name = if kind == "data" { "data set" } else { kind };
    match found {
        Some((k, item)) if is_kind(item) => Some(*k),
        Some((_, item)) => {
            cx.err(
                Diagnostic::error(
                    codes::WRONG_KIND,
                    format!("`{name}` is not a {kind_name}"),
                    span,
                )
                .label(format!("expected a {kind_name} here"))
                .secondary(
                    item.name().span,
                    format!("`{name}` is defined here as {}", item_kind(item)),
                )
                .help({
                    let mut all: Vec<&str> = names
                        .iter()
                        .filter(|(_, i)| is_kind(i))
                        .map(|(k, _)| *k)
                        .collect();
                    all.sort_unstable();
                    match all.as_slice() {
                        [] => format!("define a {kind_name} for it to name"),
                        _ => format!("the {kind_name}s are {}", crate::bind::args::list_all(&all)),
                    }
                }),
            );
            None
        }
        None => {
            let candidates = names.iter().filter(|(_, i)| is_kind(i)).map(|(k, _)| *k);
            let mut d = Diagnostic::error(
                codes::UNKNOWN_NAME,
                format!("no {kind_name} named `{name}`"),
                span,
            )
            .label(format!("unknown {kind_name}"));
            let mut all: Vec<&str> = candidates.collect();
            all.sort_unstable();
            d = match did_you_mean(name, all.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None if all.is_empty() => d.help(format!("define it with `{kind} {name} ...`")),
                None => d.help(format!(
                    "the {kind} items are {}",
                    crate::bind::args::list_all(&all)
                )),
            };
            cx.err(d);
            None
        }
    }
}

pub fn item_kind(item: &Item) -> &'static str {
    match item {
        Item::Data(_) => "a data set",
        Item::Block(_) => "a block",
        Item::Network(_) => "a network",
        Item::Train(_) => "a training plan",
    }
}

/// The data's sample shape, when known now, must be the network's input shape.
/// `validation`: the data is the training data's validation set.
fn check_data_fits(cx: &mut Cx, net: &Network, data: &DataSpec, use_span: Span, validation: bool) {
    let Some(shape) = &data.sample_shape else {
        return;
    };
    let role = if validation {
        format!("validated on data `{}`", data.name)
    } else {
        "trained on this data".to_string()
    };
    if shape.iter().product::<usize>() == net.input_shape.iter().product::<usize>()
        && shape != &net.input_shape
    {
        cx.err(
            Diagnostic::error(
                codes::DATA_MISMATCH,
                format!(
                    "data `{}` gives samples of shape {}, but network `{}` takes {}",
                    data.name,
                    fmt_shape(shape),
                    net.name,
                    fmt_shape(&net.input_shape)
                ),
                use_span,
            )
            .label(role.clone())
            .secondary(
                net.layers[0].span,
                format!("the network takes {}", fmt_shape(&net.input_shape)),
            )
            .secondary(data.span, format!("the data gives {}", fmt_shape(shape)))
            .help(format!(
                "the sizes agree: add `reshape {}` to the data",
                fmt_shape(&net.input_shape)
            )),
        );
    } else if shape != &net.input_shape {
        cx.err(
            Diagnostic::error(
                codes::DATA_MISMATCH,
                format!(
                    "data `{}` gives samples of shape {}, but network `{}` takes {}",
                    data.name,
                    fmt_shape(shape),
                    net.name,
                    fmt_shape(&net.input_shape)
                ),
                use_span,
            )
            .label(role.clone())
            .secondary(
                net.layers[0].span,
                format!("the network takes {}", fmt_shape(&net.input_shape)),
            )
            .secondary(data.span, format!("the data gives {}", fmt_shape(shape)))
            .help(if validation {
                format!("validate on data of shape {}", fmt_shape(&net.input_shape))
            } else {
                format!(
                    "declare the input as `{}`, or train on data of shape {}",
                    fmt_shape(shape),
                    fmt_shape(&net.input_shape)
                )
            }),
        );
    }
}

/// Validation data named by another item must have the training data's kind
/// of targets: as many classes, or real values for a regression.
fn check_validation_targets(cx: &mut Cx, train: &DataSpec, val: &DataSpec, use_span: Span) {
    let describe = |d: &DataSpec| match (d.is_regression(), d.classes()) {
        (true, _) => Some("real-valued targets".to_string()),
        (false, Some(c)) => Some(format!("{c} classes")),
        (false, None) => None,
    };
    let (Some(t), Some(v)) = (describe(train), describe(val)) else {
        return;
    };
    if t == v {
        return;
    }
    cx.err(
        Diagnostic::error(
            codes::DATA_MISMATCH,
            format!(
                "data `{}` has {t}, but its validation data `{}` has {v}",
                train.name, val.name
            ),
            use_span,
        )
        .label(format!("validated on data `{}`", val.name))
        .secondary(train.span, t)
        .secondary(val.span, v)
        .help("validate on data with the same targets as the training data"),
    );
}

/// Each parameter of a block has its own name.
fn check_block_params(cx: &mut Cx, block: &BlockDecl) {
    for (i, p) in block.params.iter().enumerate() {
        if let Some(first) = block.params[..i]
            .iter()
            .find(|q| q.name.name == p.name.name)
        {
            cx.err(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!(
                        "block `{}` has two parameters named `{}`",
                        block.name.name, p.name.name
                    ),
                    p.name.span,
                )
                .label("declared again here")
                .secondary(first.name.span, "first declared here")
                .help("give each parameter its own name"),
            );
        }
    }
}
