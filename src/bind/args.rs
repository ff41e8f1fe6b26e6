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
    /// The parameters that may be given by position, in order.
    positional_names: Vec<&'static str>,
    /// Arguments of a call such as `sgd(lr: 0.1)`, rather than of a layer or
    /// setting line: examples in messages are written in call form.
    call_style: bool,
    pub(crate) ok: bool,
}

/// One evaluated argument before binding.
struct Part {
    name: Option<(String, Span)>,
    /// `None` when the expression failed to evaluate (already reported).
    value: Option<Value>,
    span: Span,
    value_span: Span,
}

struct Entry {
    name: String,
    name_span: Span,
    /// `None` when the expression failed to evaluate: the argument was
    /// written, so it is neither missing nor replaced by its default.
    value: Option<Value>,
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
            let value = eval(cx, env, &a.value);
            ok &= value.is_some();
            parts.push(Part {
                name: a.name.as_ref().map(|n| (n.name.clone(), n.span)),
                value,
                span: a.span,
                value_span: a.value.span,
            });
        }
        let mut out = Args::from_parts(cx, what, span, parts, positional, flags);
        out.ok &= ok;
        out
    }

    /// Runs a definition's `bind` on no arguments at all: what it makes
    /// (the kind with every default, if none is required) and the parameter
    /// names it asked for, in order. The registries read a kind's argument
    /// list this way, so that it cannot drift from the definition.
    pub fn bind_nothing<R>(
        what: &str,
        positional: &[&'static str],
        flags: &[&'static str],
        bind: impl FnOnce(&mut Cx, &mut Args) -> R,
    ) -> (R, Vec<&'static str>) {
        let mut cx = Cx::default();
        let mut args = Args::from_values(
            &mut cx,
            what,
            Span::default(),
            Vec::new(),
            positional,
            flags,
        );
        let made = bind(&mut cx, &mut args);
        (made, args.known)
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
                value: Some(value),
                span: s,
                value_span: s,
            })
            .collect();
        let mut out = Args::from_parts(cx, what, span, parts, positional, flags);
        out.call_style = true;
        out
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
            positional_names: positional.to_vec(),
            call_style: false,
            ok: true,
        };
        let mut next_positional = positional.iter();
        for p in parts {
            let (name, name_span) = match (p.name, &p.value) {
                (Some(n), _) => n,
                (None, Some(Value::Sym(s))) if flags.contains(&s.as_str()) => {
                    out.named.push(Entry {
                        name: s.clone(),
                        name_span: p.span,
                        value: Some(Value::Bool(true)),
                        span: p.span,
                        used: false,
                    });
                    continue;
                }
                (None, _) => match next_positional.next() {
                    Some(name) => (name.to_string(), p.span),
                    None => {
                        // A surplus argument that failed to evaluate was
                        // already reported; a surplus one is still surplus.
                        if let Some(v) = p.value {
                            out.positional.push((v, p.span));
                        }
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
                    .secondary(prev.span, "first given here")
                    .help("give each argument once"),
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
        Some((e.value.clone()?, e.span))
    }

    /// Whether `name` was written but its value could not be computed (the
    /// reason is already reported, so it must not be called missing too).
    fn failed(&self, name: &str) -> bool {
        self.named
            .iter()
            .any(|e| e.name == name && e.value.is_none())
    }

    /// How messages name argument `name`: "`rate` of `dropout`", or just
    /// "`batch`" for the value of the setting `batch`.
    fn subject(&self, name: &str) -> String {
        if name == "value" || self.what == format!("`{name}`") {
            self.what.clone()
        } else {
            format!("`{name}` of {}", self.what)
        }
    }

    /// Whether an argument with this name was written (even if its value
    /// could not be computed). The name counts as one the use accepts.
    pub fn has(&mut self, name: &'static str) -> bool {
        if !self.known.contains(&name) {
            self.known.push(name);
        }
        self.named.iter().any(|e| e.name == name)
    }

    /// Every parameter name asked for so far, in the order asked.
    pub fn known(&self) -> &[&'static str] {
        &self.known
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
                "{} must be {expected}, found {}",
                self.subject(name),
                found.describe()
            ),
            span,
        )
        .label(format!("expected {expected}"));
        let numeric = expected.starts_with("a whole number") || expected == "a number";
        match found {
            Value::Sym(s) if env_help => {
                d = d.help(format!("`{s}` is not a block parameter here"));
            }
            Value::Str(s) if numeric && s.trim().parse::<f64>().is_ok() => {
                d = d.help(format!("write the number without quotes: `{}`", s.trim()));
            }
            Value::Real(r) if expected.starts_with("a whole number") => {
                d = d.help(format!("use a whole number, e.g. `{}`", r.round()));
            }
            _ if expected == "`true` or `false`" => {
                d = d.help(format!("write `{name}: true` or `{name}: false`"));
            }
            _ => {}
        }
        cx.err(d);
        self.ok = false;
    }

    fn missing(&mut self, cx: &mut Cx, name: &str, expected: &str) {
        self.ok = false;
        if self.failed(name) {
            return;
        }
        let what = self.what.trim_matches('`');
        let value = example_value(if name == "value" { what } else { name });
        let example = if self.call_style {
            format!("`{what}({name}: {value})`")
        } else if self.positional_names.first() == Some(&name) {
            format!("`{what} {value}`")
        } else {
            format!("`{name}: {value}`")
        };
        let message = if name == "value" {
            format!("{} needs a value ({expected})", self.what)
        } else {
            format!("{} needs `{name}` ({expected})", self.what)
        };
        cx.err(
            Diagnostic::error(codes::MISSING_ARGUMENT, message, self.span)
                .label(format!("`{name}` is missing"))
                .help(format!("for example: {example}")),
        );
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
                self.missing(cx, name, "a whole number");
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
                self.missing(cx, name, "a number");
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
                self.missing(cx, name, "a string");
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
                self.missing(cx, name, &format!("one of {}", list(choices)));
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
            format!("`{found}` is not a valid {}", self.subject(name)),
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

    /// A value of the right type outside the allowed range.
    pub fn range_error(&mut self, cx: &mut Cx, name: &str, rule: &str, found: &str, span: Span) {
        self.invalid(cx, name, rule, found, span, "out of range");
    }

    /// A value that breaks `rule`; `label` says briefly what is wrong with it.
    pub fn invalid(
        &mut self,
        cx: &mut Cx,
        name: &str,
        rule: &str,
        found: &str,
        span: Span,
        label: &str,
    ) {
        let mut d = Diagnostic::error(
            codes::ARG_RANGE,
            format!("{} {rule}, found {found}", self.subject(name)),
            span,
        )
        .label(label);
        let key = if name == "value" {
            self.what.trim_matches('`')
        } else {
            name
        };
        if let Some(h) = range_help(key, found) {
            d = d.help(h);
        }
        cx.err(d);
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
                    list_all(&self.known)
                )),
            };
            cx.err(d);
            self.ok = false;
        }
        if let Some((_, first)) = self.positional.first() {
            let last = self.positional.last().map_or(*first, |(_, s)| *s);
            let by_position = &self.positional_names;
            let named: Vec<&str> = self
                .known
                .iter()
                .copied()
                .filter(|k| !by_position.contains(k))
                .collect();
            let d = Diagnostic::error(
                codes::TOO_MANY_ARGUMENTS,
                format!("too many arguments for {}", self.what),
                first.to(last),
            )
            .label("not expected");
            let help = match (by_position.len(), named.first()) {
                (0, None) => format!("{} takes no arguments", self.what),
                (0, Some(n)) => format!(
                    "{} takes only named arguments ({}), e.g. `{n}: ...`",
                    self.what,
                    list_all(&named)
                ),
                (k, None) => format!(
                    "{} takes {k} argument{} ({})",
                    self.what,
                    if k == 1 { "" } else { "s" },
                    list(by_position)
                ),
                (k, Some(n)) => format!(
                    "{} takes {k} argument{} by position ({}); the others are named, e.g. `{n}: ...`",
                    self.what,
                    if k == 1 { "" } else { "s" },
                    list(by_position)
                ),
            };
            cx.err(d.help(help));
            self.ok = false;
        }
        self.ok
    }
}

/// A plausible value for argument `name`, for examples in messages.
fn example_value(name: &str) -> &'static str {
    match name {
        "units" => "64",
        "filters" => "16",
        "window" | "kernel" => "3",
        "rate" => "0.2",
        "lr" => "0.01",
        "every" => "10",
        "gamma" => "0.5",
        "path" => "\"data.csv\"",
        "images" => "\"images.idx\"",
        "labels" => "\"labels.idx\"",
        "x" => "\"x.npy\"",
        "y" => "\"y.npy\"",
        "loss" => "cross_entropy",
        "batch" => "32",
        "epochs" => "10",
        "seed" => "0",
        "impute" => "mean",
        _ => "1",
    }
}

/// What to do about an out-of-range argument, when there is a usual fix.
fn range_help(name: &str, found: &str) -> Option<String> {
    Some(match name {
        "rate" => "the rate is the fraction of values dropped, e.g. `dropout 0.2`".into(),
        "lr" => "typical rates are `0.1` to `0.001` for `sgd`, `0.001` for `adam`".into(),
        "momentum" => "typical momentum is `0.9`".into(),
        "beta1" | "beta2" => "the usual values are `beta1: 0.9`, `beta2: 0.999`".into(),
        "slope" => "a typical slope is `0.01`".into(),
        "nesterov" => "add a momentum, e.g. `momentum: 0.9, nesterov`".into(),
        "pad" if found.starts_with('-') => {
            "padding adds zeros on each side, so it is 0 or more, e.g. `pad: 1`".into()
        }
        "pad" => {
            "pooling pads at most half the window, e.g. `pad: 1` for a window of 2 or 3".into()
        }
        "kernel" | "window" | "stride" => {
            format!("write one size, e.g. `{name}: 3`, or two, e.g. `{name}: [3, 5]`")
        }
        "units" | "filters" => "a layer needs at least one output".into(),
        "points" => "a data set needs at least one point".into(),
        "classes" => "a classification needs at least two classes".into(),
        "batch" => "write a number of samples, e.g. `batch 32`, or `batch all`".into(),
        "validation" => match found.parse::<f64>() {
            Ok(p) if p > 1.0 && p < 100.0 => {
                format!("a fraction, not a percentage: `validation {}`", p / 100.0)
            }
            _ => "e.g. `validation 0.2` keeps 20% of the samples aside".into(),
        },
        _ => return None,
    })
}

/// "`a`, `b` and `c`": every item of a list.
pub fn list_all(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => "none".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "`a`, `b` or `c`": a choice among the items.
pub fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => "nothing".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
