//! The text form of the AST (`dlc check --emit ast`): one node per line,
//! indented by depth, each with the line and column it came from.

use super::ast::*;
use crate::diag::LineIndex;
use std::fmt::Write;

pub fn print_program(program: &Program, text: &str) -> String {
    let mut p = Printer {
        text,
        lines: LineIndex::new(text),
        out: String::new(),
    };
    p.line(0, "program", None);
    for item in &program.items {
        p.item(item);
    }
    p.out
}

struct Printer<'a> {
    text: &'a str,
    lines: LineIndex,
    out: String,
}

impl Printer<'_> {
    fn line(&mut self, depth: usize, what: &str, span: Option<Span>) {
        self.out.push_str(&" ".repeat(depth * 2));
        let _ = write!(self.out, "{what}");
        if let Some(s) = span {
            let (l, c) = self.lines.line_col(self.text, s.start);
            let _ = write!(self.out, "  @{l}:{c}");
        }
        self.out.push('\n');
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Data(d) => {
                let head = format!("data {} = {}", d.name, call(&d.source));
                self.line(1, &head, Some(d.span));
                self.settings(&d.settings);
            }
            Item::Block(b) => {
                let params: Vec<String> = b
                    .params
                    .iter()
                    .map(|p| match &p.default {
                        Some(e) => format!("{} = {}", p.name, expr(e)),
                        None => p.name.name.clone(),
                    })
                    .collect();
                self.line(
                    1,
                    &format!("block {}({})", b.name, params.join(", ")),
                    Some(b.span),
                );
                self.stmts(&b.body);
            }
            Item::Network(n) => {
                let mut head = format!("network {}({}: {})", n.name, n.input, expr(&n.input_shape));
                if let Some(o) = &n.output {
                    head += &format!(" -> {}", expr(o));
                }
                self.line(1, &head, Some(n.span));
                self.stmts(&n.body);
            }
            Item::Train(t) => {
                self.line(
                    1,
                    &format!("train {} on {}", t.network, t.data),
                    Some(t.span),
                );
                self.settings(&t.settings);
            }
        }
    }

    fn settings(&mut self, settings: &[Setting]) {
        for s in settings {
            let text = format!("setting {} {}", s.name, args(&s.args));
            self.line(2, text.trim_end(), Some(s.span));
        }
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            let what = match &s.bind {
                Some(b) => format!("let {b}"),
                None => "step".to_string(),
            };
            self.line(2, &what, Some(s.span));
            if s.head.len() > 1 {
                self.line(3, "add", None);
                for st in &s.head {
                    self.stage(4, st);
                }
            } else {
                for st in &s.head {
                    self.stage(3, st);
                }
            }
            for st in &s.rest {
                self.stage(3, st);
            }
        }
    }

    fn stage(&mut self, depth: usize, st: &Stage) {
        let text = format!("{} {}", st.name, args(&st.args));
        self.line(depth, text.trim_end(), Some(st.span));
    }
}

fn args(args: &[Arg]) -> String {
    args.iter()
        .map(|a| match &a.name {
            Some(n) => format!("{n}: {}", expr(&a.value)),
            None => expr(&a.value),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn call(c: &Call) -> String {
    format!("{}({})", c.name, args(&c.args))
}

/// An expression in source form, fully parenthesised where operators nest.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Number(n) => n.clone(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Call(c) => call(c),
        ExprKind::List(items) => format!(
            "[{}]",
            items.iter().map(expr).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Neg(inner) => format!("-{}", expr(inner)),
        ExprKind::Binary(op, l, r) => format!("({} {} {})", expr(l), op.symbol(), expr(r)),
    }
}

/// A number in few characters, to 3 significant digits: `0.0316`, `3.16e-5`.
pub fn format_number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() {
            "0".into()
        } else {
            x.to_string()
        };
    }
    let exp = x.abs().log10().floor() as i32;
    if (-3..4).contains(&exp) {
        let decimals = (2 - exp).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{x:.2e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{e}")
            }
            None => s,
        }
    }
}
