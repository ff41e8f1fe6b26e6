//! pest's parse failures, retold as diagnostics in the language's own words.
//!
//! pest reports the rules and literal tokens it could have accepted at the
//! farthest position it reached. Rule names mean nothing to a user, so each is
//! mapped to a phrase ("a layer", "a value"), and a few common slips (an
//! unclosed bracket, a missing comma, `=` where `:` belongs) get a help line.

use super::ast::Span;
use super::parser::Rule;
use crate::diag::{Diagnostic, codes};
use pest::error::{Error, ErrorVariant, InputLocation};
use std::collections::BTreeSet;

pub(super) fn syntax_error(text: &str, error: Error<Rule>) -> Diagnostic {
    let mut pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // The program rule may fail back at the start of an item; the farthest
    // attempt is where the reader's eye should go.
    if let Some(attempts) = error.parse_attempts() {
        pos = pos.max(attempts.max_position);
    }
    let found = found_at(text, pos);
    let mut expected: BTreeSet<String> = BTreeSet::new();
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for r in positives {
            if let Some(d) = describe(*r) {
                expected.insert(d.to_string());
            }
        }
    }
    if let Some(attempts) = error.parse_attempts() {
        for t in attempts.expected_tokens() {
            let t = t.to_string();
            if let Some(d) = describe_token(&t) {
                expected.insert(d);
            }
        }
    }
    let expected = simplify(expected);
    let message = if expected.is_empty() {
        format!("unexpected {}", found.description)
    } else {
        format!(
            "expected {}, found {}",
            one_of(&expected),
            found.description
        )
    };
    let mut d =
        Diagnostic::error(codes::SYNTAX, message, found.span).label(label_for(&expected, &found));
    if let Some((open, ch)) = unclosed_bracket(text, pos) {
        d = d.secondary(
            Span::new(open, open + 1),
            format!("this `{ch}` is not closed"),
        );
    }
    if let Some(h) = help_for(&expected, &found, text, pos) {
        d = d.help(h);
    }
    d
}

struct Found {
    description: String,
    span: Span,
    token: String,
}

/// What stands at `pos`: a word, a number, a symbol, a line end or the end of file.
fn found_at(text: &str, pos: usize) -> Found {
    let rest = &text[pos.min(text.len())..];
    let Some(first) = rest.chars().next() else {
        return Found {
            description: "the end of the file".into(),
            span: Span::new(text.len(), text.len()),
            token: String::new(),
        };
    };
    if first == '\n' || first == '\r' {
        return Found {
            description: "the end of the line".into(),
            span: Span::new(pos, pos),
            token: "\n".into(),
        };
    }
    let len = if first.is_alphanumeric() || first == '_' || first == '.' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..]
            .find(['"', '\n'])
            .map_or(rest.len(), |i| i + 2)
            .min(rest.len())
    } else {
        first.len_utf8()
    };
    let token = &rest[..len];
    let kind = if first.is_ascii_digit() {
        "number"
    } else if first.is_alphabetic() || first == '_' {
        if is_keyword(token) { "keyword" } else { "name" }
    } else if first == '"' {
        "string"
    } else {
        ""
    };
    let shown: String = token.chars().take(40).collect();
    let description = if kind.is_empty() {
        format!("`{shown}`")
    } else {
        format!("{kind} `{shown}`")
    };
    Found {
        description,
        span: Span::new(pos, pos + len),
        token: token.to_string(),
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "data" | "block" | "network" | "train" | "on" | "true" | "false"
    )
}

/// A rule as a user would name it; `None` for rules that only add noise.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::expr | Rule::term | Rule::unary | Rule::number => "a value",
        Rule::string => "a string",
        Rule::call => "a source such as `csv(...)`",
        Rule::stmt | Rule::chain | Rule::merge | Rule::stage => "a layer",
        Rule::setting => "a setting",
        Rule::arg | Rule::cmd_args | Rule::paren_args => "an argument",
        Rule::block_param | Rule::block_params => "a parameter",
        Rule::data_decl | Rule::block_decl | Rule::network_decl | Rule::train_decl => {
            "`data`, `block`, `network` or `train`"
        }
        Rule::kw_data | Rule::kw_block | Rule::kw_network | Rule::kw_train => {
            "`data`, `block`, `network` or `train`"
        }
        Rule::kw_on => "`on`",
        Rule::arrow => "`->`",
        Rule::plus | Rule::add_op => "an operator",
        Rule::mul_op => "an operator",
        Rule::body | Rule::settings => "`{`",
        Rule::EOI => "the end of the file",
        _ => return None,
    })
}

/// A literal token pest tried; operators inside expressions are summarised.
fn describe_token(token: &str) -> Option<String> {
    match token {
        "\r\n" | "\r" | ";" => None,
        "\n" => Some("a line break".into()),
        "+" | "-" | "*" | "/" | "//" => None,
        "#" | " " | "\t" => None,
        t if is_keyword(t) => Some(format!("`{t}`")),
        t if t.chars().all(|c| c.is_ascii_alphabetic()) => None, // parts of keywords
        t if t.contains("..") => None,                           // character ranges
        t => Some(format!("`{t}`")),
    }
}

/// Drops alternatives that are implied by a broader one, and operators, which
/// are almost never the fix a user is after.
fn simplify(mut expected: BTreeSet<String>) -> Vec<String> {
    let starts_value = ["`\"`", "`(`", "`[`", "`_`", "`true`", "`false`", "`-`"];
    if expected.contains("a value")
        || expected.contains("an argument")
        || expected.contains("a name")
    {
        for t in starts_value {
            expected.remove(t);
        }
    }
    if expected.contains("a value") {
        expected.remove("an argument");
        expected.remove("a name");
    }
    if expected.len() > 1 {
        expected.remove("an operator");
    }
    expected.into_iter().collect()
}

fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn label_for(expected: &[String], found: &Found) -> String {
    if expected.iter().any(|e| e == "the end of the file") && expected.len() == 1 {
        return "expected a new item here".into();
    }
    if found.token.is_empty() {
        return "the file ends here".into();
    }
    "unexpected here".into()
}

fn help_for(expected: &[String], found: &Found, text: &str, pos: usize) -> Option<String> {
    let expects = |s: &str| expected.iter().any(|e| e == s);
    let prev = text[..pos.min(text.len())]
        .trim_end_matches([' ', '\t'])
        .chars()
        .last();
    if found.token == "=" && expects("`:`") {
        return Some("named arguments are written `name: value`".into());
    }
    if found.token == ":" {
        return Some(
            "`name: value` arguments go after a layer or setting name, separated by `,`".into(),
        );
    }
    if (found.token.starts_with(|c: char| c.is_alphanumeric()) || found.token.starts_with('"'))
        && prev.is_some_and(|c| c.is_alphanumeric() || c == ')' || c == ']' || c == '"')
        && !expects("a value")
    {
        return Some("separate arguments with `,`, and put each layer on its own line".into());
    }
    if found.token.is_empty() && unclosed_bracket(text, pos).is_some() {
        return Some("close the bracket".into());
    }
    if expects("`data`, `block`, `network` or `train`")
        && found.token.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Some("a program is a list of `data`, `block`, `network` and `train` items".into());
    }
    if found.token.starts_with('.') {
        return Some("numbers are written with a digit before the point, e.g. `0.5`".into());
    }
    None
}

/// The innermost bracket opened before `pos` and not closed before it.
fn unclosed_bracket(text: &str, pos: usize) -> Option<(usize, char)> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut in_comment = false;
    for (i, c) in text[..pos.min(text.len())].char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            in_string = !(c == '"' || c == '\n');
            continue;
        }
        match c {
            '#' => in_comment = true,
            '"' => in_string = true,
            '(' | '[' | '{' => stack.push((i, c)),
            ')' | ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    // Only an error at the end of the file is blamed on an open bracket.
    if pos >= text.trim_end().len() {
        stack.pop()
    } else {
        None
    }
}
