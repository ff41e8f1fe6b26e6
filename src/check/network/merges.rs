//! Merging values in a network's flow: `a + b` and `concat(a, b)`.
//!
//! Both take named values (or the flow, for `-> concat(b)`), check that
//! their shapes can be joined, and add one layer to the graph.

use super::{Graph, Scope};
use crate::bind::Cx;
use crate::bind::args::list_all;
use crate::bind::did_you_mean;
use crate::bind::sizes::{checked_add, fmt_shape};
use crate::check::layers;
use crate::check::model::*;
use crate::diag::{Diagnostic, codes};
use crate::syntax::{ExprKind, Stage};

impl Graph<'_> {
    /// `a + b + ...`: every term a named value of the same shape.
    pub(super) fn add(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        terms: &[Stage],
    ) -> Option<LayerId> {
        let mut ids = Vec::new();
        let mut ok = true;
        for t in terms {
            match scope.values.get_mut(&t.name.name) {
                Some(slot) if t.args.is_empty() => {
                    slot.used = true;
                    match slot.layer {
                        Some(l) => ids.push((l, t.span)),
                        None => ok = false,
                    }
                }
                _ => {
                    cx.err(self.not_a_value(scope, t, terms));
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        let span = terms[0].span.to(terms[terms.len() - 1].span);
        let (shape, origin) = (self.layers[ids[0].0].shape.clone(), self.origin(cx));
        for &(l, s) in &ids[1..] {
            if self.layers[l].shape != shape {
                cx.err(
                    Diagnostic::error(
                        codes::SHAPE_MISMATCH,
                        format!(
                            "cannot add {} and {}",
                            fmt_shape(&shape),
                            fmt_shape(&self.layers[l].shape)
                        ),
                        s,
                    )
                    .label(format!("this has shape {}", fmt_shape(&self.layers[l].shape)))
                    .secondary(ids[0].1, format!("this has shape {}", fmt_shape(&shape)))
                    .secondary(self.layers[l].span, format!("{} comes from here", fmt_shape(&self.layers[l].shape)))
                    .secondary(self.layers[ids[0].0].span, format!("{} comes from here", fmt_shape(&shape)))
                    .help("`+` adds values of the same shape; change a layer's size or use `concat(...)`"),
                );
                return None;
            }
        }
        let name = scope.fresh("add");
        Some(self.push(
            Layer {
                name,
                op: Op::Add(crate::layers::Add),
                inputs: ids.iter().map(|(l, _)| *l).collect(),
                shape,
                params: vec![],
                buffers: vec![],
                span,
                origin,
            },
            None,
        ))
    }

    /// A term of `a + b` that is not a named value: a layer, a block, or an unknown name.
    pub(super) fn not_a_value(&self, scope: &Scope, t: &Stage, terms: &[Stage]) -> Diagnostic {
        let name = &t.name.name;
        let is_layer = self.blocks.contains_key(name) || layers::is_builtin(name);
        let message = if is_layer {
            format!("`{name}` is a layer, and `+` adds named values")
        } else {
            format!("`+` adds named values, and `{name}` is not one")
        };
        let d = Diagnostic::error(codes::LAYER_AS_VALUE, message, t.span);
        let mut names: Vec<&str> = scope.values.keys().map(String::as_str).collect();
        names.sort_unstable();
        let others: Vec<&str> = terms
            .iter()
            .map(|o| o.name.name.as_str())
            .filter(|o| o != name)
            .collect();
        if is_layer {
            let joined = if others.is_empty() {
                "...".to_string()
            } else {
                others.join(" + ")
            };
            let layer = if t.args.is_empty() {
                name.clone()
            } else {
                format!("{name} ...")
            };
            return d.label("a layer, not a value").help(format!(
                "apply it to the sum with `->`: `{joined} -> {layer}`; or name its result first, e.g. `r = {layer}`, and add `r`"
            ));
        }
        let d = d.label("not a named value");
        match did_you_mean(name, names.iter().copied()) {
            Some(s) if t.args.is_empty() => d.help(format!("did you mean `{s}`?")),
            _ if names.is_empty() => {
                d.help("name a value first, e.g. `b = dense 8`, then write `a + b`")
            }
            _ => d.help(format!("the named values here are {}", list_all(&names))),
        }
    }

    /// `concat(a, b)` joins named values; after `->` (`flow` given) the flow comes first.
    pub(super) fn concat(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        stage: &Stage,
        flow: Option<LayerId>,
    ) -> Option<LayerId> {
        let mut ids = Vec::new();
        let mut ok = true;
        // After `->`, the flow is the first value joined.
        if let Some(l) = flow {
            ids.push((l, self.layers[l].span));
        }
        for a in &stage.args {
            let named = match (&a.name, &a.value.kind) {
                (None, ExprKind::Name(n)) => scope.values.get_mut(n.as_str()),
                _ => None,
            };
            match named {
                Some(slot) => {
                    slot.used = true;
                    match slot.layer {
                        Some(l) => ids.push((l, a.span)),
                        None => ok = false,
                    }
                }
                None => {
                    cx.err(
                        Diagnostic::error(codes::ARG_TYPE, "`concat` joins named values", a.span)
                            .label("not a named value")
                            .help(
                                "write `concat(a, b)` with names given earlier, e.g. `a = dense 8`",
                            ),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        if ids.len() < 2 {
            cx.err(
                Diagnostic::error(
                    codes::MISSING_ARGUMENT,
                    "`concat` needs at least two values",
                    stage.span,
                )
                .label("joins nothing")
                .help("write `concat(a, b)`"),
            );
            return None;
        }
        let first = self.layers[ids[0].0].shape.clone();
        let mut joined = 0usize;
        for &(l, s) in &ids {
            let shape = &self.layers[l].shape;
            if shape.len() != first.len() || shape[1..] != first[1..] {
                cx.err(
                    Diagnostic::error(
                        codes::SHAPE_MISMATCH,
                        format!("cannot concatenate {} and {}", fmt_shape(&first), fmt_shape(shape)),
                        s,
                    )
                    .label(format!("this has shape {}", fmt_shape(shape)))
                    .secondary(ids[0].1, format!("this has shape {}", fmt_shape(&first)))
                    .secondary(self.layers[l].span, format!("{} comes from here", fmt_shape(shape)))
                    .help("`concat` joins along the first axis (features or channels); the other sizes must agree"),
                );
                return None;
            }
            joined = checked_add(cx, joined, shape[0], s)?;
        }
        let mut shape = first;
        shape[0] = joined;
        let name = scope.fresh("concat");
        let origin = self.origin(cx);
        Some(self.push(
            Layer {
                name,
                op: Op::Concat(crate::layers::Concat),
                inputs: ids.iter().map(|(l, _)| *l).collect(),
                shape,
                params: vec![],
                buffers: vec![],
                span: stage.span,
                origin,
            },
            None,
        ))
    }
}
