//! Writes a learning rate and a decay into a program's text.
//!
//! The text is edited by the spans of the parsed program: only the numbers
//! change, and comments, spacing and layout stay as written. A decay the
//! program does not set yet is added: `l2` as a new line under `optimizer`
//! (aligned like it), AdamW's `weight_decay:` as a new argument.

use super::DecayKind;
use crate::syntax::format_number;
use crate::syntax::{Arg, ExprKind, Item, Setting, Span, TrainDecl, parse};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EditError {
    #[error("the program does not parse, so it cannot be edited")]
    Parse,
    #[error("the program has no `train` item to write the settings into")]
    NoTrain,
    #[error("the `train` item has no `optimizer` setting to write the rate into")]
    NoOptimizer,
    #[error("the optimizer at byte {0} is not written as a call with an `lr` argument")]
    NoRate(usize),
}

/// The program with `lr` as its rate and, if given, `decay` as its decay.
pub fn write_setting(
    source: &str,
    lr: f64,
    decay: Option<(DecayKind, f64)>,
) -> Result<String, EditError> {
    let program = parse(source).map_err(|_| EditError::Parse)?;
    let train = program
        .items
        .iter()
        .find_map(|i| match i {
            Item::Train(t) => Some(t),
            _ => None,
        })
        .ok_or(EditError::NoTrain)?;
    let optimizer = setting(train, "optimizer").ok_or(EditError::NoOptimizer)?;
    let call = match optimizer.args.first().map(|a| &a.value.kind) {
        Some(ExprKind::Call(c)) => c,
        _ => return Err(EditError::NoRate(optimizer.span.start)),
    };
    let rate = named_or_first(&call.args, "lr").ok_or(EditError::NoRate(optimizer.span.start))?;
    // Edits as (span to replace, new text), applied from the end.
    let mut edits: Vec<(Span, String)> = vec![(rate.value.span, format_number(lr))];
    match decay {
        Some((DecayKind::Decoupled, wd)) => {
            match call.args.iter().find(|a| named(a, "weight_decay")) {
                Some(a) => edits.push((a.value.span, format_number(wd))),
                None => {
                    let end = call.args.last().map_or(rate.span.end, |a| a.span.end);
                    edits.push((
                        Span::new(end, end),
                        format!(", weight_decay: {}", format_number(wd)),
                    ));
                }
            }
        }
        Some((DecayKind::L2, l2)) => match setting(train, "l2") {
            Some(s) => match s.args.first() {
                Some(a) => edits.push((a.value.span, format_number(l2))),
                None => edits.push((
                    Span::new(s.name.span.end, s.name.span.end),
                    format!(" {}", format_number(l2)),
                )),
            },
            None if l2 > 0.0 => edits.push(new_setting_after(source, optimizer, "l2", l2)),
            None => {}
        },
        None => {}
    }
    edits.sort_by_key(|(s, _)| std::cmp::Reverse(s.start));
    let mut out = source.to_string();
    for (span, text) in edits {
        out.replace_range(span.range(), &text);
    }
    Ok(out)
}

fn setting<'a>(train: &'a TrainDecl, name: &str) -> Option<&'a Setting> {
    train.settings.iter().find(|s| s.name.name == name)
}

fn named(a: &Arg, name: &str) -> bool {
    a.name.as_ref().is_some_and(|n| n.name == name)
}

fn named_or_first<'a>(args: &'a [Arg], name: &str) -> Option<&'a Arg> {
    args.iter()
        .find(|a| named(a, name))
        .or_else(|| args.first().filter(|a| a.name.is_none()))
}

/// A new `NAME VALUE` setting after `after`: on a line of its own with the
/// same indentation and value column, or `; NAME VALUE` when more follows on
/// the same line.
fn new_setting_after(source: &str, after: &Setting, name: &str, value: f64) -> (Span, String) {
    let end = after.span.end;
    let line_end = source[end..]
        .find(['\n', '\r'])
        .map_or(source.len(), |i| end + i);
    let rest = source[end..line_end].trim_start();
    let value = format_number(value);
    if !(rest.is_empty() || rest.starts_with('#')) {
        return (Span::new(end, end), format!("; {name} {value}"));
    }
    let line_start = source[..after.span.start]
        .rfind(['\n', '\r'])
        .map_or(0, |i| i + 1);
    let indent = &source[line_start..after.span.start];
    let indent = if indent.trim().is_empty() {
        indent
    } else {
        "    "
    };
    // Align the value with the optimizer's own value column.
    let column = after
        .args
        .first()
        .map_or(0, |a| a.span.start.saturating_sub(after.span.start));
    let gap = column.saturating_sub(name.len()).max(1);
    let newline = if source[line_end..].starts_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    (
        Span::new(line_end, line_end),
        format!("{newline}{indent}{name}{}{value}", " ".repeat(gap)),
    )
}
