//! A network's body -> a graph of layers.
//!
//! Each body has a *flow*: the value the next layer applies to, at first the
//! input. A statement applies its stages to the flow (or starts from named
//! values, `h + input -> relu`), optionally names the result, and its result
//! becomes the new flow. A block use expands the block's body with the flow as
//! its `input` and its arguments as its parameters; the body's last flow is the
//! block's result.

use super::init;
use super::items::item_kind;
use super::layers;
use super::model::*;
use crate::bind::Cx;
use crate::bind::args::Args;
use crate::bind::args::list_all;
use crate::bind::did_you_mean;
use crate::bind::sizes::{checked_len, fmt_shape, shape_value};
use crate::bind::value::{Env, eval};
use crate::diag::{Diagnostic, codes};
use crate::layers::{Incoming, Inferred, registry};
use crate::syntax::{BlockDecl, Item, NetworkDecl, Span, Stage, Stmt};
use std::collections::HashMap;

mod blocks;
mod merges;

/// More layers than this after expanding blocks is refused: it means blocks
/// that use each other many times over, not a network anyone meant to train.
pub const MAX_LAYERS: usize = 100_000;

pub fn check_network(
    cx: &mut Cx,
    decl: &NetworkDecl,
    blocks: &HashMap<String, &BlockDecl>,
    items: &HashMap<&str, &Item>,
) -> Option<Network> {
    if cx.layers_expanded > MAX_LAYERS {
        // The networks before this one passed the limit, and said so once.
        return None;
    }
    let errors_before = cx.error_count();
    let env = Env::new();
    let input_shape = input_shape(cx, &env, decl);
    let mut g = Graph {
        blocks,
        items,
        layers: Vec::new(),
        inits: Vec::new(),
        stack: Vec::new(),
        budget: MAX_LAYERS.saturating_sub(cx.layers_expanded),
        visits: 0,
        too_large: false,
        too_large_reported: false,
    };
    let input = input_shape.map(|shape| {
        g.push(
            Layer {
                name: decl.input.name.clone(),
                op: Op::Input(crate::layers::Input),
                inputs: vec![],
                shape,
                params: vec![],
                buffers: vec![],
                span: decl.input.span,
                origin: vec![],
            },
            None,
        )
    });
    let mut scope = Scope::new(env, String::new());
    scope.bind_input(&decl.input.name, input, decl.input.span);
    let out = g.body(
        cx,
        &mut scope,
        &decl.body,
        input,
        decl.name.span,
        &format!("network `{}`", decl.name),
    );
    cx.layers_expanded += g.visits;
    if g.too_large && !g.too_large_reported {
        cx.err(
            Diagnostic::error(
                codes::EXPANSION_TOO_LARGE,
                format!("the networks have more than {MAX_LAYERS} layers in all"),
                decl.name.span,
            )
            .label("this network passes the limit")
            .help("no network meant for training is this large; check the repetitions"),
        );
    }
    let out = out?;
    if let Some(expected) = &decl.output {
        check_output(cx, &g, out, expected, decl);
    }
    if cx.error_count() > errors_before {
        return None;
    }
    let mut layers = g.layers;
    make_names_unique(&mut layers);
    init::assign(&mut layers, out, &g.inits);
    Some(Network {
        name: decl.name.name.clone(),
        input_shape: layers[0].shape.clone(),
        layers,
        output: out,
        span: decl.span,
    })
}

/// A value named `dense1` by the program and an unnamed first `dense` would
/// share a name; parameters need unique ones, so later duplicates get `_2`, `_3`.
fn make_names_unique(layers: &mut [Layer]) {
    let mut seen = std::collections::HashSet::new();
    for layer in layers.iter_mut() {
        let mut name = layer.name.clone();
        let mut n = 1;
        while !seen.insert(name.clone()) {
            n += 1;
            name = format!("{}_{n}", layer.name);
        }
        layer.name = name;
    }
}

fn input_shape(cx: &mut Cx, env: &Env, decl: &NetworkDecl) -> Option<Vec<usize>> {
    let v = eval(cx, env, &decl.input_shape)?;
    let shape = shape_value(cx, &v, decl.input_shape.span, "the input shape")?;
    if shape.len() != 1 && shape.len() != 3 {
        cx.err(
            Diagnostic::error(
                codes::BAD_SHAPE,
                format!(
                    "the input shape {} has {} dimensions",
                    fmt_shape(&shape),
                    shape.len()
                ),
                decl.input_shape.span,
            )
            .label("expected a vector `[n]` or an image `[channels, height, width]`")
            .help("the batch dimension is implicit: do not write it"),
        );
        return None;
    }
    Some(shape)
}

fn check_output(
    cx: &mut Cx,
    g: &Graph,
    out: LayerId,
    expected: &crate::syntax::Expr,
    decl: &NetworkDecl,
) {
    let Some(v) = eval(cx, &Env::new(), expected) else {
        return;
    };
    let Some(want) = shape_value(cx, &v, expected.span, "the output shape") else {
        return;
    };
    let got = &g.layers[out].shape;
    if got != &want {
        let last = &g.layers[out];
        cx.err(
            Diagnostic::error(
                codes::OUTPUT_MISMATCH,
                format!(
                    "network `{}` should give {} but gives {}",
                    decl.name,
                    fmt_shape(&want),
                    fmt_shape(got)
                ),
                expected.span,
            )
            .label(format!("declared output {}", fmt_shape(&want)))
            .secondary(
                last.span,
                format!("the last layer gives {}", fmt_shape(got)),
            )
            .help(match (got.len(), want.len()) {
                (3, 1) => "add `flatten` and a `dense` layer with the output size".to_string(),
                _ => format!(
                    "end the network with a layer of output size {}",
                    fmt_shape(&want)
                ),
            }),
        );
    }
}

/// The layers built so far, shared by every block expansion of one network.
struct Graph<'a> {
    blocks: &'a HashMap<String, &'a BlockDecl>,
    items: &'a HashMap<&'a str, &'a Item>,
    layers: Vec<Layer>,
    /// The `init:` override of each layer, if written.
    inits: Vec<Option<Init>>,
    /// Block uses being expanded (name, span of the use), for recursion errors.
    stack: Vec<(String, Span)>,
    /// How many stages this network may still visit: the layers it may have.
    budget: usize,
    /// Stages visited so far, each at least one layer when all goes well.
    /// Counted even when a stage fails, so that a block full of mistakes
    /// cannot be expanded a million times either.
    visits: usize,
    too_large: bool,
    too_large_reported: bool,
}

/// Names visible in one body: block parameters and named values.
struct Scope {
    env: Env,
    values: HashMap<String, Slot>,
    prefix: String,
    counters: HashMap<String, usize>,
}

struct Slot {
    layer: Option<LayerId>,
    span: Span,
    used: bool,
    is_input: bool,
}

impl Scope {
    fn new(env: Env, prefix: String) -> Scope {
        Scope {
            env,
            values: HashMap::new(),
            prefix,
            counters: HashMap::new(),
        }
    }

    fn bind_input(&mut self, name: &str, layer: Option<LayerId>, span: Span) {
        self.values.insert(
            name.to_string(),
            Slot {
                layer,
                span,
                used: true,
                is_input: true,
            },
        );
    }

    /// A fresh layer name: `dense1`, `dense2`, ... within this scope.
    fn fresh(&mut self, kind: &str) -> String {
        let n = self.counters.entry(kind.to_string()).or_insert(0);
        *n += 1;
        format!("{}{kind}{n}", self.prefix)
    }
}

impl Graph<'_> {
    fn push(&mut self, layer: Layer, init: Option<Init>) -> LayerId {
        self.layers.push(layer);
        self.inits.push(init);
        if self.layers.len() > self.budget {
            self.too_large = true;
        }
        self.layers.len() - 1
    }

    /// Expands a body; returns the final flow (`None` if unknown after an error).
    fn body(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        stmts: &[Stmt],
        input: Option<LayerId>,
        owner_span: Span,
        owner: &str,
    ) -> Option<LayerId> {
        if stmts.is_empty() {
            cx.err(
                Diagnostic::error(
                    codes::EMPTY_BODY,
                    format!("{owner} has no layers"),
                    owner_span,
                )
                .label("empty body")
                .help("write one layer per line inside `{ }`"),
            );
            return None;
        }
        let mut flow = input;
        let mut ok = true;
        for stmt in stmts {
            if self.too_large {
                return None;
            }
            let before = self.layers.len();
            let result = self.stmt(cx, scope, stmt, flow);
            ok &= result.is_some();
            flow = result;
            if let Some(name) = &stmt.bind {
                // `h = dense 64` names that one layer `h` (its parameters `h.weight`).
                let single_layer = stmt.head.len() == 1
                    && stmt.rest.is_empty()
                    && layers::is_builtin(&stmt.head[0].name.name);
                if let (true, Some(l)) = (single_layer, flow.filter(|&l| l >= before)) {
                    self.layers[l].name = format!("{}{}", scope.prefix, name.name);
                }
                self.bind(cx, scope, name, flow);
            }
        }
        for (name, slot) in &scope.values {
            let is_result = slot.layer.is_some() && slot.layer == flow;
            if !slot.used && !slot.is_input && !is_result && ok {
                cx.err(
                    Diagnostic::warning(
                        codes::W_UNUSED,
                        format!("`{name}` is never used"),
                        slot.span,
                    )
                    .label("named here, used nowhere")
                    .help("use it, e.g. `name + ...`, or remove the name"),
                );
            }
        }
        if ok { flow } else { None }
    }

    fn bind(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        name: &crate::syntax::Ident,
        flow: Option<LayerId>,
    ) {
        let is_merge = name.name == "concat";
        if layers::is_builtin(&name.name) || is_merge || self.blocks.contains_key(&name.name) {
            let mut d = Diagnostic::error(
                codes::SHADOWED_NAME,
                format!("`{name}` is a layer, and cannot name a value"),
                name.span,
            )
            .label("choose another name")
            .help(format!("e.g. `{name}_out = ...`"));
            if is_merge {
                d.message = "`concat` is the built-in merge, and cannot name a value".into();
            } else if let Some(block) = self.blocks.get(&name.name) {
                d.message = format!("`{name}` is a block, and cannot name a value");
                d = d.secondary(block.name.span, format!("block `{name}` is defined here"));
            }
            cx.err(d);
            return;
        }
        if let Some(prev) = scope.values.get(&name.name) {
            cx.err(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!("`{name}` is already defined"),
                    name.span,
                )
                .label("defined again here")
                .secondary(prev.span, "first defined here")
                .help("each name in a body names one value; choose a new name"),
            );
            return;
        }
        scope.values.insert(
            name.name.clone(),
            Slot {
                layer: flow,
                span: name.span,
                used: false,
                is_input: false,
            },
        );
    }

    fn stmt(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        stmt: &Stmt,
        flow: Option<LayerId>,
    ) -> Option<LayerId> {
        self.visits += stmt.head.len() + stmt.rest.len();
        if self.visits > self.budget {
            self.too_large = true;
            return None;
        }
        let (first, rest) = if stmt.head.len() > 1 {
            (self.add(cx, scope, &stmt.head), &stmt.rest[..])
        } else {
            let head = &stmt.head[0];
            let started = match self.value_ref(cx, scope, head) {
                Some(v) => v,
                None if head.name.name == "concat" => self.concat(cx, scope, head, None),
                None => self.apply(cx, scope, head, flow),
            };
            (started, &stmt.rest[..])
        };
        let mut flow = first;
        let mut ok = first.is_some();
        for stage in rest {
            if let Some(slot) = scope.values.get(&stage.name.name) {
                cx.err(
                    Diagnostic::error(
                        codes::VALUE_AS_LAYER,
                        format!("`{}` is a named value, not a layer", stage.name),
                        stage.name.span,
                    )
                    .label("a value can only start a line")
                    .secondary(slot.span, format!("`{}` is named here", stage.name))
                    .help(format!(
                        "start a new line with `{} -> ...`, or join it with `+`",
                        stage.name
                    )),
                );
                ok = false;
                continue;
            }
            flow = self.apply(cx, scope, stage, flow);
            ok &= flow.is_some();
        }
        if ok { flow } else { None }
    }

    /// `h` alone at the start of a line: the named value (`Some(..)`), or
    /// `None` when the stage is not a value and should be applied as a layer.
    fn value_ref(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        stage: &Stage,
    ) -> Option<Option<LayerId>> {
        let slot = scope.values.get_mut(&stage.name.name)?;
        slot.used = true;
        if !stage.args.is_empty() {
            cx.err(
                Diagnostic::error(
                    codes::VALUE_AS_LAYER,
                    format!("`{}` is a named value and takes no arguments", stage.name),
                    stage.span,
                )
                .label("a value, not a layer")
                .secondary(slot.span, "named here")
                .help(format!(
                    "a value is used alone: write `{} -> ...` to apply layers to it",
                    stage.name
                )),
            );
            return Some(None);
        }
        Some(slot.layer)
    }

    fn origin(&self, cx: &Cx) -> Vec<Span> {
        cx.use_spans()
    }

    /// Applies a layer, a block, or `concat(...)` to the flow.
    fn apply(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        stage: &Stage,
        flow: Option<LayerId>,
    ) -> Option<LayerId> {
        let name = stage.name.name.as_str();
        if name == "concat" {
            return self.concat(cx, scope, stage, flow);
        }
        if let Some(block) = self.blocks.get(name).copied() {
            return self.expand(cx, scope, stage, block, flow);
        }
        let Some(entry) = registry::find(name) else {
            self.unknown_layer(cx, scope, stage);
            return None;
        };
        let input = flow.map(|l| Incoming {
            shape: &self.layers[l].shape,
            span: self.layers[l].span,
        });
        let mut args = Args::bind(
            cx,
            &scope.env,
            &format!("`{name}`"),
            stage.span,
            &stage.args,
            entry.positional,
            entry.flags,
        );
        // The arguments are checked even when the input is unknown (after
        // an earlier error), so that every mistake is reported.
        let op = (entry.bind)(cx, &mut args);
        let inferred = match (&op, input) {
            (Some(op), Some(input)) => op.rule().infer(cx, &input, stage.span),
            _ => None,
        };
        let args_ok = args.finish(cx);
        let (
            op,
            Inferred {
                shape,
                params,
                buffers,
            },
        ) = (op?, inferred?);
        checked_len(cx, &shape, stage.span)?;
        if !args_ok {
            return None;
        }
        let init = op.rule().init_override();
        let layer_name = scope.fresh(op.keyword());
        let origin = self.origin(cx);
        Some(self.push(
            Layer {
                name: layer_name,
                op,
                inputs: flow.into_iter().collect(),
                shape,
                params,
                buffers,
                span: stage.span,
                origin,
            },
            init,
        ))
    }

    fn unknown_layer(&self, cx: &mut Cx, scope: &Scope, stage: &Stage) {
        let name = &stage.name.name;
        if let Some(item) = self.items.get(name.as_str()) {
            cx.err(
                Diagnostic::error(
                    codes::WRONG_KIND,
                    format!("`{name}` is {}, not a layer", item_kind(item)),
                    stage.name.span,
                )
                .label("expected a layer or a block")
                .secondary(item.name().span, format!("`{name}` is defined here"))
                .help(match item {
                    Item::Data(_) => "a data set feeds a network through `train NETWORK on DATA`",
                    _ => "a network cannot be used inside another; make it a `block`",
                }),
            );
            return;
        }
        let candidates = registry::keywords()
            .map(|k| k as &str)
            .chain(self.blocks.keys().map(String::as_str))
            .chain(scope.values.keys().map(String::as_str))
            .chain(std::iter::once("concat"));
        let mut d = Diagnostic::error(
            codes::UNKNOWN_NAME,
            format!("unknown layer `{name}`"),
            stage.name.span,
        )
        .label("not a layer, block or named value");
        d = match did_you_mean(name, candidates) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => match layers::alias(name) {
                Some(hint) => d.help(hint),
                None => d.help(format!(
                    "the layers are {}",
                    list_all(&registry::keywords().collect::<Vec<_>>())
                )),
            },
        };
        cx.err(d);
    }
}
