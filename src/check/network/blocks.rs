//! Block uses: a block's body expanded in place, with the flow as its
//! `input` and the use's arguments bound to its parameters.
//!
//! A block that uses itself (directly or through others) is refused, and
//! the expansion stops when the program passes the layer limit.

use super::{Graph, MAX_LAYERS, Scope};
use crate::bind::Cx;
use crate::bind::args::list_all;
use crate::bind::did_you_mean;
use crate::bind::value::{Env, eval};
use crate::check::model::*;
use crate::diag::{Diagnostic, codes};
use crate::syntax::{BlockDecl, Stage};

impl Graph<'_> {
    /// Expands one use of a block.
    pub(super) fn expand(
        &mut self,
        cx: &mut Cx,
        scope: &mut Scope,
        stage: &Stage,
        block: &BlockDecl,
        flow: Option<LayerId>,
    ) -> Option<LayerId> {
        let name = &block.name.name;
        if let Some(pos) = self.stack.iter().position(|(n, _)| n == name) {
            let mut d = Diagnostic::error(
                codes::RECURSIVE_BLOCK,
                format!("block `{name}` uses itself"),
                stage.span,
            )
            .label("this use expands forever")
            .secondary(block.name.span, format!("`{name}` is defined here"));
            // The chain of uses that led back here is shown by the origin
            // labels that `Cx::err` adds; name the blocks in between too.
            let through: Vec<&str> = self.stack[pos + 1..]
                .iter()
                .map(|(other, _)| other.as_str())
                .collect();
            if !through.is_empty() {
                let chain: Vec<String> = through.iter().map(|t| format!("`{t}`")).collect();
                d.message = format!(
                    "block `{name}` uses itself through {}",
                    chain.join(", then ")
                );
            }
            cx.err(d.help("a block cannot use itself, directly or through another block"));
            return None;
        }
        let mut env = Env::new();
        let mut ok = true;
        // Positional arguments fill the parameters in order: bind them by hand,
        // since block parameter names are not known statically.
        let positional: Vec<_> = stage.args.iter().filter(|a| a.name.is_none()).collect();
        let mut described = Vec::new();
        for (i, p) in block.params.iter().enumerate() {
            let from_named = stage
                .args
                .iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == p.name.name));
            let value = match (from_named, positional.get(i).copied()) {
                (Some(a), Some(_)) => {
                    cx.err(
                        Diagnostic::error(
                            codes::DUPLICATE_ARGUMENT,
                            format!("`{}` is given twice to block `{name}`", p.name),
                            a.span,
                        )
                        .label("given by name here")
                        .secondary(positional[i].span, "and by position here")
                        .help("give each argument once"),
                    );
                    ok = false;
                    continue;
                }
                (Some(a), None) | (None, Some(a)) => {
                    eval(cx, &scope.env, &a.value).map(|v| (v, a.value.span))
                }
                (None, None) => match &p.default {
                    Some(e) => eval(cx, &env, e).map(|v| (v, e.span)),
                    None => {
                        cx.err(
                            Diagnostic::error(
                                codes::MISSING_ARGUMENT,
                                format!("block `{name}` needs `{}`", p.name),
                                stage.span,
                            )
                            .label(format!("`{}` is missing", p.name))
                            .secondary(p.name.span, "declared here without a default")
                            .help(format!(
                                "give it by position or by name, e.g. `{name}({}: ...)`",
                                p.name
                            )),
                        );
                        ok = false;
                        continue;
                    }
                },
            };
            match value {
                Some((v, s)) => {
                    described.push(format!("{} = {v}", p.name));
                    env.insert(p.name.name.clone(), (v, s));
                }
                None => ok = false,
            }
        }
        for a in positional.iter().skip(block.params.len()) {
            cx.err(
                Diagnostic::error(
                    codes::TOO_MANY_ARGUMENTS,
                    format!("too many arguments for block `{name}`"),
                    a.span,
                )
                .label("not expected")
                .help("remove the extra argument, or add a parameter to the block")
                .secondary(
                    block.name.span,
                    match block.params.len() {
                        0 => format!("`{name}` takes no arguments"),
                        1 => format!("`{name}` takes 1 argument"),
                        n => format!("`{name}` takes {n} arguments"),
                    },
                ),
            );
            ok = false;
        }
        for a in stage.args.iter().filter(|a| a.name.is_some()) {
            let n = a.name.as_ref().map(|n| n.name.as_str()).unwrap_or_default();
            if !block.params.iter().any(|p| p.name.name == n) {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_ARGUMENT,
                    format!("block `{name}` has no parameter `{n}`"),
                    a.span,
                )
                .label("unknown parameter")
                .secondary(block.name.span, "the block is defined here");
                let params: Vec<&str> = block.params.iter().map(|p| p.name.name.as_str()).collect();
                d = match did_you_mean(n, params.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None if params.is_empty() => d.help(format!("`{name}` takes no arguments")),
                    None => d.help(format!(
                        "the parameters of `{name}` are {}",
                        list_all(&params)
                    )),
                };
                cx.err(d);
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let prefix = format!("{}.", scope.fresh(name));
        let mut inner = Scope::new(env, prefix);
        inner.bind_input("input", flow, stage.span);
        let what = if described.is_empty() {
            format!("in this use of `{name}`")
        } else {
            format!("in this use of `{name}` ({})", described.join(", "))
        };
        cx.enter_use(stage.span, what);
        self.stack.push((name.clone(), stage.span));
        let owner = format!("block `{name}`");
        let out = self.body(cx, &mut inner, &block.body, flow, block.name.span, &owner);
        self.stack.pop();
        cx.leave_use();
        if self.too_large && self.stack.is_empty() && !self.too_large_reported {
            self.too_large_reported = true;
            cx.err(
                Diagnostic::error(
                    codes::EXPANSION_TOO_LARGE,
                    format!("expanding the blocks gives more than {MAX_LAYERS} layers"),
                    stage.span,
                )
                .label("this use expands too far")
                .help("blocks that use other blocks many times multiply; use fewer repetitions"),
            );
        }
        out
    }
}
