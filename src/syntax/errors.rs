//! pest's parse failures, retold as diagnostics in the language's own words.
//!
//! pest reports the rules and literal tokens it could have accepted at the
//! farthest position it reached. Rule names mean nothing to a user, so each is
//! mapped to a phrase ("a layer", "a value") and the noise (the inside of
//! numbers, optional line breaks inside brackets) is dropped. Common slips
//! (a malformed number, a keyword used as a name, a bracket closed by the
//! wrong one, an operator that continues a line) are recognised first by
//! [`super::slips`] and get a message of their own.

use super::ast::Span;
use super::parser::Rule;
use super::slips::{self, Found, Scan};
use crate::diag::{Diagnostic, codes};
use pest::error::{Error, ErrorVariant, InputLocation};
use std::collections::BTreeSet;

const ITEM_START: &str = "`data`, `block`, `network` or `train`";

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
    let pos = slips::skip_blanks(text, pos.min(text.len()));
    if let Some(d) = slips::bad_number(text, pos) {
        return d;
    }
    if let Some(d) = slips::non_ascii_in_name(text, pos) {
        return d;
    }
    if let Some(d) = slips::item_inside_body(text, pos) {
        return d;
    }
    if let Some(d) = slips::keyword_as_name(text, pos) {
        return d;
    }
    let scan = Scan::new(text, pos);
    if let Some(d) = slips::wrong_closer(text, pos, &scan) {
        return d;
    }
    if let Some(d) = slips::unterminated_string(text, pos) {
        return d;
    }

    let found = slips::found_at(text, pos);
    let expected = simplify(expected_phrases(&error), &scan);
    let message = format!("unexpected {}", found.description);
    let label = if expected.is_empty() {
        "not valid here".to_string()
    } else {
        format!("expected {}", one_of(&expected))
    };
    let mut d = Diagnostic::error(codes::SYNTAX, message, found.span).label(label);
    let mut help = help_for(&expected, &found, text, pos);
    if let Some((open, ch)) = scan.unclosed_before(text, &found, &expected) {
        d = d.secondary(
            Span::new(open, open + 1),
            format!("this `{ch}` is not closed"),
        );
        help = help.or(Some(format!("close it with `{}`", slips::closer(ch))));
    }
    if let Some((span, op)) = slips::continued_line(text, pos) {
        d = d.secondary(span, format!("the line continues after this `{op}`"));
        help = Some(format!(
            "remove the trailing `{op}`, or finish the expression on its own line"
        ));
    }
    if let Some(s) = slips::string_ended_early(text, pos, &found) {
        d = d.secondary(s, "this string ends at the `\"` just before");
        help = Some("is a `\"` missing inside this string, or a `,` after it?".into());
    }
    match help {
        Some(h) => d.help(h),
        None => d,
    }
}

/// Everything pest could have accepted, as phrases a user understands.
fn expected_phrases(error: &Error<Rule>) -> BTreeSet<String> {
    let mut expected = BTreeSet::new();
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for r in positives {
            if let Some(d) = describe(*r) {
                expected.insert(d.to_string());
            }
        }
    }
    if let Some(attempts) = error.parse_attempts() {
        for t in attempts.expected_tokens() {
            if let Some(d) = describe_token(&t.to_string()) {
                expected.insert(d);
            }
        }
    }
    expected
}

/// A rule as a user would name it; `None` for rules that only add noise.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::expr | Rule::term | Rule::unary | Rule::power | Rule::exponent | Rule::number => {
            "a value"
        }
        Rule::string => "a string",
        Rule::call => "a source such as `csv(...)`",
        Rule::stmt | Rule::chain | Rule::merge | Rule::stage => "a layer",
        Rule::setting => "a setting",
        Rule::arg | Rule::cmd_args | Rule::paren_args => "an argument",
        Rule::block_param | Rule::block_params => "a parameter",
        Rule::data_decl | Rule::block_decl | Rule::network_decl | Rule::train_decl => ITEM_START,
        Rule::kw_data | Rule::kw_block | Rule::kw_network | Rule::kw_train => ITEM_START,
        Rule::kw_on => "`on`",
        Rule::arrow => "`->`",
        Rule::plus | Rule::add_op | Rule::mul_op | Rule::pow_op => "an operator",
        Rule::body | Rule::settings => "`{`",
        Rule::EOI => "the end of the file",
        _ => return None,
    })
}

/// A literal token pest tried. Operators, blanks, the inside of numbers and
/// the letters of keywords are never what a user is missing.
fn describe_token(token: &str) -> Option<String> {
    match token {
        "\r\n" | "\r" | ";" | "#" | " " | "\t" | "\u{feff}" => None,
        "\n" => Some("a line break".into()),
        "+" | "-" | "*" | "**" | "/" | "//" | "_" | "." => None,
        t if slips::is_keyword(t) => Some(format!("`{t}`")),
        t if t.chars().all(|c| c.is_ascii_alphabetic()) => None,
        t if t.contains("..") => None, // character ranges
        t => Some(format!("`{t}`")),
    }
}

/// Drops alternatives that a broader one implies, and those that are true
/// but never the fix (a line break inside brackets, `=` after a layer name).
fn simplify(mut expected: BTreeSet<String>, scan: &Scan) -> Vec<String> {
    let starts_value = ["`\"`", "`(`", "`[`", "`true`", "`false`", "`-`"];
    let broad = ["a value", "an argument", "a name", "a layer", "a setting"];
    if broad.iter().any(|b| expected.contains(*b)) {
        for t in starts_value {
            expected.remove(t);
        }
    }
    if expected.contains("a value") {
        expected.remove("an argument");
        expected.remove("a name");
    }
    if expected.contains(ITEM_START) {
        for k in ["`data`", "`block`", "`network`", "`train`", "a line break"] {
            expected.remove(k);
        }
        expected.remove("the end of the file");
    }
    if expected.contains("an argument") || expected.contains("`->`") {
        // `name = layer` is always possible at the start of a line.
        expected.remove("`=`");
    }
    if scan.inside_parens() {
        expected.remove("a line break");
    }
    if expected.len() > 1 {
        expected.remove("an operator");
    }
    let mut out: Vec<String> = expected.into_iter().collect();
    // Symbols first, then words, so that `)` leads `a line break`.
    out.sort_by_key(|e| (!e.starts_with('`'), e.clone()));
    out
}

/// The token's only character, if it has one.
fn single_char(token: &str) -> Option<char> {
    let mut chars = token.chars();
    chars.next().filter(|_| chars.next().is_none())
}

fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn help_for(expected: &[String], found: &Found, text: &str, pos: usize) -> Option<String> {
    let expects = |s: &str| expected.iter().any(|e| e == s);
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..pos].trim();
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    if found.token == "=" && expects("`:`") {
        return Some("named arguments are written `name: value`".into());
    }
    if found.token == ":" && word(before) {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let after = text[pos + 1..line_end].trim();
        let after = if after.is_empty() { "value" } else { after };
        return Some(format!(
            "a setting's value follows its name without `:`, e.g. `{before} {after}`"
        ));
    }
    if found.token == ":" {
        return Some(
            "`name: value` arguments go after a layer or setting name, separated by `,`".into(),
        );
    }
    if expects("`on`") {
        return Some("write `train NETWORK on DATA`".into());
    }
    if expects("`->`") && expects("`{`") && found.token.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!(
            "write the output shape after `->`: `-> {}`",
            found.token
        ));
    }
    if expects(ITEM_START) && word(&found.token) {
        return Some("a program is a list of `data`, `block`, `network` and `train` items".into());
    }
    if let Some(c) = single_char(&found.token)
        && let Some(escaped) = crate::diag::escaped_char(c)
    {
        return Some(format!(
            "`{escaped}` is an invisible character (U+{:04X}); remove it",
            c as u32
        ));
    }
    if found.token.chars().count() == 1
        && !found
            .token
            .starts_with(|c: char| c.is_alphanumeric() || "()[]{}:,;=+-*/#\"_.\n".contains(c))
    {
        return Some(format!("`{}` is not used in the language", found.token));
    }
    let prev = before.chars().last();
    if expects("`,`")
        && (word(&found.token) || found.token.starts_with('"'))
        && prev.is_some_and(|c| c.is_alphanumeric() || c == ')' || c == ']' || c == '"')
    {
        return Some("separate arguments with `,`, and put each layer on its own line".into());
    }
    None
}
