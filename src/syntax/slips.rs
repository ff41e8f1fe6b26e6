//! Common slips recognised at the place a parse failed, each explained in
//! its own words instead of pest's list of expected tokens: a malformed
//! number, a keyword used as a name, a bracket closed by the wrong one, an
//! unterminated string, a line that continues after a trailing operator.

use super::ast::Span;
use super::parser::{DlParser, Rule};
use crate::diag::{Diagnostic, codes, excerpt};
use pest::Parser;

const KEYWORDS: [&str; 7] = ["data", "block", "network", "train", "on", "true", "false"];

pub(super) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `pos` moved past spaces and tabs: pest often stops just before them.
pub(super) fn skip_blanks(text: &str, pos: usize) -> usize {
    pos + text[pos..].len() - text[pos..].trim_start_matches([' ', '\t']).len()
}

pub(super) fn closer(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn opener(close: char) -> char {
    match close {
        ')' => '(',
        ']' => '[',
        _ => '{',
    }
}

/// What stands at the error position.
pub(super) struct Found {
    /// "name `x`", "`)`", "the end of the line", ...
    pub description: String,
    pub span: Span,
    /// The text found; empty at the end of the file.
    pub token: String,
}

/// A word, a number, a string, a symbol, a line end or the end of the file.
pub(super) fn found_at(text: &str, pos: usize) -> Found {
    let rest = &text[pos..];
    let Some(first) = rest.chars().next() else {
        return Found {
            description: "end of file".into(),
            span: Span::new(text.len(), text.len()),
            token: String::new(),
        };
    };
    if first == '\n' || first == '\r' {
        return Found {
            description: "end of line".into(),
            span: Span::new(pos, pos),
            token: "\n".into(),
        };
    }
    let len = if is_word_char(first) || first == '.' {
        rest.find(|c: char| !(is_word_char(c) || c == '.'))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..].find(['"', '\n']).map_or(rest.len(), |i| i + 2)
    } else {
        first.len_utf8()
    };
    let token = &rest[..len];
    let kind = if first.is_ascii_digit() {
        "number "
    } else if first.is_ascii_alphabetic() || first == '_' {
        if is_keyword(token) {
            "keyword "
        } else {
            "name "
        }
    } else if first == '"' {
        "string "
    } else {
        ""
    };
    Found {
        description: format!("{kind}`{}`", excerpt(token, 40)),
        span: Span::new(pos, pos + len),
        token: token.to_string(),
    }
}

/// Whether `s` is a number as the grammar writes them: `12`, `60_000`,
/// `0.5`, `1e-3`.
fn is_number(s: &str) -> bool {
    let digits = |s: &str| {
        !s.is_empty()
            && s.split('_')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    digits(whole)
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
        && exponent_ok
}

/// `1.`, `.5`, `1e`, `64k`: a number-like token that is not a number.
pub(super) fn bad_number(text: &str, pos: usize) -> Option<Diagnostic> {
    let part = |c: char| is_word_char(c) || c == '.';
    let mut start = pos;
    while let Some(c) = text[..start].chars().next_back() {
        let sign_of_exponent = (c == '+' || c == '-')
            && text[..start - 1].ends_with(['e', 'E'])
            && text[..start - 1]
                .trim_end_matches(['e', 'E'])
                .ends_with(|d: char| d.is_ascii_digit());
        if part(c) || sign_of_exponent {
            start -= c.len_utf8();
        } else {
            break;
        }
    }
    let end = pos
        + text[pos..]
            .find(|c: char| !part(c))
            .unwrap_or(text.len() - pos);
    let token = &text[start..end];
    let mut chars = token.chars();
    let numeric = match (chars.next(), chars.next()) {
        (Some(c), _) if c.is_ascii_digit() => true,
        (Some('.'), Some(d)) => d.is_ascii_digit(),
        _ => false,
    };
    if !numeric || is_number(token) {
        return None;
    }
    let help = if token.starts_with('.') {
        format!("write a digit before the point: `0{token}`")
    } else if token.ends_with('.') {
        format!("write a digit after the point: `{token}0`")
    } else if token.ends_with(['e', 'E', '+', '-']) {
        "an exponent needs digits, e.g. `1e-3`".to_string()
    } else if token.contains(|c: char| c.is_ascii_alphabetic()) {
        "a number is written in digits only, and a name cannot start with a digit".to_string()
    } else {
        "numbers are written like `3`, `0.5`, `1e-3` or `60_000`".to_string()
    };
    let shown: String = token.chars().take(40).collect();
    Some(
        Diagnostic::error(
            codes::BAD_NUMBER,
            format!("`{shown}` is not a number"),
            Span::new(start, end),
        )
        .label("malformed number")
        .help(help),
    )
}

/// `nét`, `größe`: a letter or digit outside ASCII where the parse stopped. Names are
/// ASCII, so the name ended just before it and the parser's complaint ("expected `(`")
/// would point at the wrong thing.
pub(super) fn non_ascii_in_name(text: &str, pos: usize) -> Option<Diagnostic> {
    let c = text[pos..].chars().next()?;
    if c.is_ascii() || !c.is_alphanumeric() {
        return None;
    }
    let in_word = |c: char| c.is_alphanumeric() || c == '_';
    let start = text[..pos].trim_end_matches(in_word).len();
    let end = pos
        + text[pos..]
            .find(|c| !in_word(c))
            .unwrap_or(text.len() - pos);
    let word = excerpt(&text[start..end], 40);
    Some(
        Diagnostic::error(
            codes::SYNTAX,
            format!("`{c}` cannot be part of a name: names are ASCII"),
            Span::new(pos, pos + c.len_utf8()),
        )
        .label(format!("not an ASCII letter or digit, in `{word}`"))
        .help("a name is made of the ASCII letters a-z and A-Z, the digits 0-9 and `_`; non-ASCII text belongs in strings and comments"),
    )
}

/// The word at `pos`, or the one that ends just before it.
fn word_near(text: &str, pos: usize) -> Option<Span> {
    let back = text[..pos].trim_end_matches([' ', '\t']).len();
    let at = if text[pos..].starts_with(is_word_char) {
        pos
    } else {
        back
    };
    let start = text[..at].trim_end_matches(is_word_char).len();
    let end = at
        + text[at..]
            .find(|c: char| !is_word_char(c))
            .unwrap_or(text.len() - at);
    (start < end).then_some(Span::new(start, end))
}

/// `network data(...)`, `on = dense 3`: a keyword where a name belongs. It
/// is recognised by writing a plain name in its place and parsing again: if
/// the parse then gets further, the keyword was the problem.
pub(super) fn keyword_as_name(text: &str, pos: usize) -> Option<Diagnostic> {
    let span = word_near(text, pos)?;
    let word = &text[span.range()];
    if !is_keyword(word) {
        return None;
    }
    let mut renamed = text.to_string();
    renamed.replace_range(span.range(), &"_".repeat(word.len()));
    let further = match DlParser::parse(Rule::program, &renamed) {
        Ok(_) => true,
        Err(e) => {
            let at = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            e.parse_attempts().map_or(at, |a| a.max_position.max(at)) > pos
        }
    };
    further.then(|| {
        Diagnostic::error(
            codes::SYNTAX,
            format!("`{word}` is a keyword, and cannot be a name"),
            span,
        )
        .label("a keyword")
        .help(format!("choose another name, e.g. `{word}_1`"))
    })
}

/// `network ... {` without its `}`, followed by the next item: the item's
/// keyword is where the parse fails, and the open `{` is the reason.
pub(super) fn item_inside_body(text: &str, pos: usize) -> Option<Diagnostic> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[line_start..].len() - text[line_start..].trim_start().len();
    let start = line_start + indent;
    let word_len = text[start..]
        .find(|c: char| !is_word_char(c))
        .unwrap_or(text.len() - start);
    let word = &text[start..start + word_len];
    if !["data", "block", "network", "train"].contains(&word) {
        return None;
    }
    let &(open, ch) = Scan::new(text, line_start).stack.last()?;
    (ch == '{').then(|| {
        Diagnostic::error(
            codes::SYNTAX,
            format!("missing `}}` before `{word}`"),
            Span::new(start, start + word_len),
        )
        .label("a new item starts here")
        .secondary(Span::new(open, open + 1), "this `{` is not closed")
        .help("close the body with `}` before the next item")
    })
}

/// The brackets open at a position, outside strings and comments.
pub(super) struct Scan {
    stack: Vec<(usize, char)>,
}

impl Scan {
    pub(super) fn new(text: &str, pos: usize) -> Scan {
        let mut stack = Vec::new();
        let mut in_string = false;
        let mut in_comment = false;
        let mut escaped = false;
        for (i, c) in text[..pos].char_indices() {
            if in_comment {
                in_comment = c != '\n';
            } else if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' | '\n' => in_string = false,
                    _ => {}
                }
            } else {
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
        }
        Scan { stack }
    }

    /// Inside `(...)` or `[...]`, where line breaks are only spacing.
    pub(super) fn inside_parens(&self) -> bool {
        matches!(self.stack.last(), Some((_, '(' | '[')))
    }

    /// The innermost open bracket, when the error is best explained by its
    /// missing closer: at the end of the file, on a later line for `(` and
    /// `[`, or at the next item for `{`.
    pub(super) fn unclosed_before(
        &self,
        text: &str,
        found: &Found,
        expected: &[String],
    ) -> Option<(usize, char)> {
        let &(open, ch) = self.stack.last()?;
        if found.token.is_empty() {
            return Some((open, ch));
        }
        if !expected.contains(&format!("`{}`", closer(ch))) {
            return None;
        }
        let later_line = text[open..found.span.start].contains('\n');
        let next_item = ["data", "block", "network", "train"].contains(&found.token.as_str());
        match ch {
            '{' => (later_line && next_item).then_some((open, ch)),
            _ => later_line.then_some((open, ch)),
        }
    }
}

/// A closing bracket that closes nothing, or not the bracket opened last.
pub(super) fn wrong_closer(text: &str, pos: usize, scan: &Scan) -> Option<Diagnostic> {
    let c = text[pos..].chars().next().filter(|c| ")]}".contains(*c))?;
    let want = opener(c);
    let span = Span::new(pos, pos + 1);
    match scan.stack.last() {
        Some(&(_, ch)) if ch == want => None,
        Some(&(open, ch)) if scan.stack.iter().any(|(_, o)| *o == want) => Some(
            Diagnostic::error(codes::SYNTAX, format!("unexpected `{c}`"), span)
                .label(format!("expected `{}` first", closer(ch)))
                .secondary(
                    Span::new(open, open + 1),
                    format!("this `{ch}` is not closed"),
                )
                .help(format!(
                    "close `{ch}` with `{}` before this `{c}`",
                    closer(ch)
                )),
        ),
        _ => Some(
            Diagnostic::error(codes::SYNTAX, format!("unexpected `{c}`"), span)
                .label(format!("no `{want}` is open here"))
                .help(format!(
                    "remove this `{c}`, or open it with `{want}` earlier"
                )),
        ),
    }
}

/// A string still open at the end of its line.
pub(super) fn unterminated_string(text: &str, pos: usize) -> Option<Diagnostic> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[pos..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| pos + i);
    let mut open = None;
    let mut escaped = false;
    for (i, c) in text[line_start..line_end].char_indices() {
        let at = line_start + i;
        match (open, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(_), '"') => open = None,
            (None, '"') => open = Some(at),
            (None, '#') => break,
            _ => {}
        }
    }
    let start = open.filter(|&s| s <= pos)?;
    Some(
        Diagnostic::error(
            codes::BAD_STRING,
            "unterminated string",
            Span::new(start, line_end),
        )
        .label("this string is not closed")
        .help("close it with `\"` on the same line: a string cannot span lines"),
    )
}

/// An error on a line that follows a trailing operator or comma: the
/// grammar read the line as the continuation of the one before.
pub(super) fn continued_line(text: &str, pos: usize) -> Option<(Span, String)> {
    let mut end = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    loop {
        let prev_start = text[..end.checked_sub(1)?].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[prev_start..end - 1];
        let code = if line.contains('"') {
            line
        } else {
            line.split('#').next().unwrap_or("")
        };
        let code = code.trim_end();
        if code.trim().is_empty() {
            end = prev_start;
            if end == 0 {
                return None;
            }
            continue;
        }
        let op = ["->", "//", "+", "-", "*", "/", ",", "="]
            .into_iter()
            .find(|op| code.ends_with(op))?;
        let at = prev_start + code.len() - op.len();
        return Some((Span::new(at, at + op.len()), op.to_string()));
    }
}

/// `csv("a.csv, label: "x")`: a word right after a string that looks as if
/// it ended too early. Returns the span of that string.
pub(super) fn string_ended_early(text: &str, pos: usize, found: &Found) -> Option<Span> {
    if !found.token.starts_with(is_word_char) || !text[..pos].ends_with('"') {
        return None;
    }
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let closing = pos - 1;
    let quotes: Vec<usize> = text[line_start..closing]
        .match_indices('"')
        .map(|(i, _)| line_start + i)
        .collect();
    // The quote before `pos` closes a string when an odd number precede it.
    (quotes.len() % 2 == 1).then(|| Span::new(quotes[quotes.len() - 1], pos))
}
