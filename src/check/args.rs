//! Binding and checking arguments: `dense 64, bias: false`, `sgd(lr: 0.1, nesterov)`.
//!
//! Every layer, setting and source reads its arguments through [`Args`]: it
//! names its positional parameters, then takes each parameter with the type
//! and range it needs. Whatever is left over at [`Args::finish`] is an unknown
//! or surplus argument, reported with a "did you mean".

use super::Cx;
use super::suggest::did_you_mean;
use super::value::{Env, Value, eval, fmt_real};
use crate::diag::{Diagnostic, codes};
use crate::syntax::{Arg, Span};

/// The evaluated arguments of one use of a layer, setting or source.
pub struct Args {
    /// What is being given arguments, for messages: "`dense`", "`optimizer`".
    what: String,
    /// The whole use, for "missing argument" errors.
    span: Span,
    named: Vec<Entry>,
    positional: Vec<(Value, Span)>,
    /// Every parameter name asked for, for suggestions.
    known: Vec<&'static str>,
    pub(super) ok: bool,
}

/// One evaluated argument before binding.
struct Part {
    name: Option<(String, Span)>,
    value: Value,
    span: Span,
    value_span: Span,
}

struct Entry {
    name: String,
    name_span: Span,
    value: Value,
    span: Span,
    used: bool,
}

/// A value that was taken, with the span of the text it came from.
pub type Got<T> = Option<(T, Span)>;

impl Args {
    /// Evaluates `args`; positional ones become the parameters named in
    /// `positional`, in order. A bare name among the positional arguments
    /// that is one of `flags` sets that flag (`sgd(lr: 0.1, nesterov)`).
    pub fn bind(
        cx: &mut Cx,
        env: &Env,
        what: &str,
        span: Span,
        args: &[Arg],
        positional: &[&'static str],
        flags: &[&'static str],
    ) -> Args {
        let mut parts = Vec::new();
        let mut ok = true;
        for a in args {
            match eval(cx, env, &a.value) {
                Some(v) => parts.push(Part {
                    name: a.name.as_ref().map(|n| (n.name.clone(), n.span)),
                    value: v,
                    span: a.span,
                    value_span: a.value.span,
                }),
                None => ok = false,
            }
        }
        let mut out = Args::from_parts(cx, what, span, parts, positional, flags);
        out.ok &= ok;
        out
    }

    /// Arguments already evaluated, such as those of `sgd(lr: 0.1)` inside a setting.
    pub fn from_values(
        cx: &mut Cx,
        what: &str,
        span: Span,
        args: Vec<(Option<String>, Value, Span)>,
        positional: &[&'static str],
        flags: &[&'static str],
    ) -> Args {
        let parts = args
            .into_iter()
            .map(|(name, value, s)| Part {
                name: name.map(|n| (n, s)),
                value,
                span: s,
                value_span: s,
            })
            .collect();
        Args::from_parts(cx, what, span, parts, positional, flags)
    }

    fn from_parts(
        cx: &mut Cx,
        what: &str,
        span: Span,
        parts: Vec<Part>,
        positional: &[&'static str],
        flags: &[&'static str],
    ) -> Args {
        let mut out = Args {
            what: what.to_string(),
            span,
            named: Vec::new(),
            positional: Vec::new(),
            known: positional.iter().chain(flags).copied().collect(),
            ok: true,
        };
        let mut next_positional = positional.iter();
        for p in parts {
            let (name, name_span) = match (p.name, &p.value) {
                (Some(n), _) => n,
                (None, Value::Sym(s)) if flags.contains(&s.as_str()) => {
                    out.named.push(Entry {
                        name: s.clone(),
                        name_span: p.span,
                        value: Value::Bool(true),
                        span: p.span,
                        used: false,
                    });
                    continue;
                }
                (None, _) => match next_positional.next() {
                    Some(name) => (name.to_string(), p.span),
                    None => {
                        out.positional.push((p.value, p.span));
                        continue;
                    }
                },
            };
            if let Some(prev) = out.named.iter().find(|e| e.name == name) {
                cx.err(
                    Diagnostic::error(
                        codes::DUPLICATE_ARGUMENT,
                        format!("`{name}` is given twice to {what}"),
                        p.span,
                    )
                    .label("given again here")
                    .secondary(prev.span, "first given here"),
                );
                out.ok = false;
                continue;
            }
            out.named.push(Entry {
                name,
                name_span,
                value: p.value,
                span: p.value_span,
                used: false,
            });
        }
        out
    }

    fn take(&mut self, name: &'static str) -> Option<(Value, Span)> {
        if !self.known.contains(&name) {
            self.known.push(name);
        }
        let e = self.named.iter_mut().find(|e| e.name == name && !e.used)?;
        e.used = true;
        Some((e.value.clone(), e.span))
    }

    /// Whether an argument with this name was written.
    pub fn has(&self, name: &str) -> bool {
        self.named.iter().any(|e| e.name == name)
    }

    fn type_error(
        &mut self,
        cx: &mut Cx,
        name: &str,
        expected: &str,
        found: &Value,
        span: Span,
        env_help: bool,
    ) {
        let mut d = Diagnostic::error(
            codes::ARG_TYPE,
            format!(
                "`{name}` of {} must be {expected}, found {}",
                self.what,
                found.describe()
            ),
            span,
        )
        .label(format!("expected {expected}"));
        if let (true, Value::Sym(s)) = (env_help, found) {
            d = d.help(format!("`{s}` is not a block parameter here"));
        }
        cx.err(d);
        self.ok = false;
    }

    fn missing(&mut self, cx: &mut Cx, name: &str, expected: &str, example: &str) {
        cx.err(
            Diagnostic::error(
                codes::MISSING_ARGUMENT,
                format!("{} needs `{name}` ({expected})", self.what),
                self.span,
            )
            .label(format!("`{name}` is missing"))
            .help(format!("for example: {example}")),
        );
        self.ok = false;
    }

    /// A whole number `>= min`; `default` when absent (`None`: required).
    pub fn int(
        &mut self,
        cx: &mut Cx,
        name: &'static str,
        min: i64,
        default: Option<i64>,
    ) -> Got<i64> {
        let Some((v, span)) = self.take(name) else {
            if default.is_none() {
                self.missing(
                    cx,
                    name,
                    "a whole number",
                    &format!("`{name}: {}`", min.max(1)),
                );
            }
            return default.map(|d| (d, self.span));
        };
        let Some(i) = v.as_int() else {
            self.type_error(cx, name, "a whole number", &v, span, true);
            return None;
        };
        if i < min {
            let range = if min == 1 {
                "positive".to_string()
            } else {
                format!("at least {min}")
            };
            self.range_error(cx, name, &format!("must be {range}"), &i.to_string(), span);
            return None;
        }
        Some((i, span))
    }

    /// A size: a whole number `>= min`, as `usize`.
    pub fn size(
        &mut self,
        cx: &mut Cx,
        name: &'static str,
        min: i64,
        default: Option<i64>,
    ) -> Got<usize> {
        let (i, s) = self.int(cx, name, min, default)?;
        match usize::try_from(i) {
            Ok(u) => Some((u, s)),
            Err(_) => None,
        }
    }

    /// A real number inside `range` (checked by `ok`), described by `range_text`.
    pub fn real(
        &mut self,
        cx: &mut Cx,
        name: &'static str,
        default: Option<f64>,
        ok: impl Fn(f64) -> bool,
        range_text: &str,
    ) -> Got<f64> {
        let Some((v, span)) = self.take(name) else {
            if default.is_none() {
                self.missing(cx, name, "a number", &format!("`{name}: 0.1`"));
            }
            return default.map(|d| (d, self.span));
        };
        let Some(r) = v.as_real() else {
            self.type_error(cx, name, "a number", &v, span, true);
            return None;
        };
        if !ok(r) {
            self.range_error(cx, name, range_text, &fmt_real(r), span);
            return None;
        }
        Some((r, span))
    }

    pub fn boolean(&mut self, cx: &mut Cx, name: &'static str, default: bool) -> Got<bool> {
        let Some((v, span)) = self.take(name) else {
            return Some((default, self.span));
        };
        match v {
            Value::Bool(b) => Some((b, span)),
            other => {
                self.type_error(cx, name, "`true` or `false`", &other, span, false);
                None
            }
        }
    }

    pub fn string(&mut self, cx: &mut Cx, name: &'static str, required: bool) -> Got<String> {
        let Some((v, span)) = self.take(name) else {
            if required {
                self.missing(cx, name, "a string", &format!("`{name}: \"...\"`"));
            }
            return None;
        };
        match v {
            Value::Str(s) => Some((s, span)),
            other => {
                self.type_error(cx, name, "a string in double quotes", &other, span, false);
                None
            }
        }
    }

    /// One of a fixed set of names, e.g. `val_loss` or `val_accuracy`.
    pub fn choice(
        &mut self,
        cx: &mut Cx,
        name: &'static str,
        choices: &[&'static str],
        default: Option<&'static str>,
    ) -> Got<&'static str> {
        let Some((v, span)) = self.take(name) else {
            if default.is_none() {
                self.missing(
                    cx,
                    name,
                    &format!("one of {}", list(choices)),
                    &format!("`{}`", choices[0]),
                );
            }
            return default.map(|d| (d, self.span));
        };
        let found = match &v {
            Value::Sym(s) | Value::Str(s) => s.clone(),
            other => {
                self.type_error(
                    cx,
                    name,
                    &format!("one of {}", list(choices)),
                    other,
                    span,
                    false,
                );
                return None;
            }
        };
        if let Some(c) = choices.iter().find(|c| **c == found) {
            return Some((c, span));
        }
        let mut d = Diagnostic::error(
            codes::ARG_RANGE,
            format!("`{found}` is not a valid `{name}` for {}", self.what),
            span,
        )
        .label(format!("expected one of {}", list(choices)));
        if let Some(s) = did_you_mean(&found, choices.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        cx.err(d);
        self.ok = false;
        None
    }

    /// Any value, for callers that interpret it themselves (lists, calls).
    pub fn raw(&mut self, name: &'static str) -> Option<(Value, Span)> {
        self.take(name)
    }

    pub fn range_error(&mut self, cx: &mut Cx, name: &str, rule: &str, found: &str, span: Span) {
        cx.err(
            Diagnostic::error(
                codes::ARG_RANGE,
                format!("`{name}` of {} {rule}, found {found}", self.what),
                span,
            )
            .label(format!("`{name}` {rule}")),
        );
        self.ok = false;
    }

    /// Reports every argument nobody took. Returns whether all arguments were good.
    pub fn finish(mut self, cx: &mut Cx) -> bool {
        for e in self.named.iter().filter(|e| !e.used) {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_ARGUMENT,
                format!("{} has no argument `{}`", self.what, e.name),
                e.name_span,
            )
            .label("unknown argument");
            d = match did_you_mean(&e.name, self.known.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None if self.known.is_empty() => {
                    d.help(format!("{} takes no arguments", self.what))
                }
                None => d.help(format!(
                    "the arguments of {} are {}",
                    self.what,
                    list(&self.known)
                )),
            };
            cx.err(d);
            self.ok = false;
        }
        if let Some((_, first)) = self.positional.first() {
            let last = self.positional.last().map_or(*first, |(_, s)| *s);
            let n = self.known.len();
            let d = Diagnostic::error(
                codes::TOO_MANY_ARGUMENTS,
                format!("too many arguments for {}", self.what),
                first.to(last),
            )
            .label("not expected");
            cx.err(if n == 0 {
                d.help(format!("{} takes no arguments", self.what))
            } else {
                d.help(format!(
                    "name the argument, e.g. `{}: ...`; {} takes {}",
                    self.known[0],
                    self.what,
                    list(&self.known)
                ))
            });
            self.ok = false;
        }
        self.ok
    }
}

/// "`a`, `b` or `c`"
pub fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => "nothing".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
