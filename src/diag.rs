//! Diagnostics: what every stage reports about a program, and how it is shown.
//!
//! A [`Diagnostic`] carries an error code, a message, a primary label at the exact
//! span that is wrong, secondary labels at the places that explain it (the layer
//! that produced the other shape, the block use that expanded to this line), and a
//! help line saying what to do. They render like rustc's, through
//! codespan-reporting, or as JSON records for tools.

mod shown;
mod span;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::term;
use codespan_reporting::term::termcolor;
use serde::Serialize;
pub use span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A labelled span: the primary one says what is wrong here, secondary ones say why.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable code such as `E0401`; see [`codes`].
    pub code: &'static str,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    /// Sets the text under the primary span.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The source text a diagnostic refers to, with the name it is shown under.
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Renders diagnostics as rustc does; `color` adds ANSI colours.
///
/// Long lines are shown as windows around the labels on them, and invisible characters as
/// escapes (see [`shown`]); the line and column in each header are the true ones.
pub fn render(source: &Source, diagnostics: &[Diagnostic], color: bool) -> String {
    let config = term::Config::default();
    let index = LineIndex::new(source.text);
    let mut out = termcolor::Buffer::no_color();
    if color {
        out = termcolor::Buffer::ansi();
    }
    for d in diagnostics {
        let spans: Vec<Span> = std::iter::once(&d.primary)
            .chain(&d.secondary)
            .map(|l| clamp(source.text, l.span))
            .collect();
        let file = shown::Shown::new(source.name, source.text, &index, &spans);
        let cs_diag = to_codespan(d, &spans, &file);
        // Rendering into memory cannot fail for a span inside the file, and every span is
        // clamped to the file.
        let _ = term::emit_to_write_style(&mut out, &config, &file, &cs_diag);
    }
    String::from_utf8_lossy(out.as_slice()).into_owned()
}

/// `span` within `text` and on character boundaries.
fn clamp(text: &str, span: Span) -> Span {
    let floor = |mut at: usize| {
        at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let start = floor(span.start);
    Span::new(start, floor(span.end).max(start))
}

fn to_codespan(d: &Diagnostic, spans: &[Span], file: &shown::Shown) -> cs::Diagnostic<()> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let mut labels =
        vec![cs::Label::primary((), file.span(spans[0])).with_message(&d.primary.message)];
    for (l, &span) in d.secondary.iter().zip(&spans[1..]) {
        labels.push(cs::Label::secondary((), file.span(span)).with_message(&l.message));
    }
    let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code)
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// One diagnostic as a flat JSON record (`dlc check --format json`).
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub severity: Severity,
    pub code: &'a str,
    pub message: &'a str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
pub struct JsonLabel<'a> {
    pub message: &'a str,
    pub line: usize,
    pub column: usize,
}

impl Diagnostic {
    pub fn to_json<'a>(&'a self, source: &'a Source) -> JsonDiagnostic<'a> {
        self.to_json_indexed(source, &LineIndex::new(source.text))
    }

    /// As [`Diagnostic::to_json`], with the line index of `source` built once
    /// for many diagnostics.
    pub fn to_json_indexed<'a>(
        &'a self,
        source: &'a Source,
        index: &LineIndex,
    ) -> JsonDiagnostic<'a> {
        let line_col = |offset| index.line_col(source.text, offset);
        let (line, column) = line_col(self.primary.span.start);
        let (end_line, end_column) = line_col(self.primary.span.end);
        JsonDiagnostic {
            severity: self.severity,
            code: self.code,
            message: &self.message,
            file: source.name,
            line,
            column,
            end_line,
            end_column,
            label: &self.primary.message,
            help: self.help.as_deref(),
            related: self
                .secondary
                .iter()
                .map(|l| {
                    let (line, column) = line_col(l.span.start);
                    JsonLabel {
                        message: &l.message,
                        line,
                        column,
                    }
                })
                .collect(),
        }
    }
}

/// Where each line of a text starts, for turning many byte offsets into
/// lines and columns without rescanning the text for each.
pub struct LineIndex {
    starts: Vec<usize>,
    /// Whether each line is ASCII, so that a column is a byte difference.
    ascii: Vec<bool>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = starts
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let end = starts.get(i + 1).copied().unwrap_or(text.len());
                text.as_bytes()[s..end].is_ascii()
            })
            .collect();
        LineIndex { starts, ascii }
    }

    /// 1-based line and column (in characters) of a byte offset of `text`,
    /// the text this index was built from. A byte-order mark at the start of
    /// the text takes no column, as in an editor.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.starts[line];
        let column = if self.ascii[line] {
            offset - start
        } else {
            text[start..offset].chars().count() - usize::from(after_bom(text, line, offset))
        };
        (line + 1, column + 1)
    }

    /// The number of lines (a text ending in a line break has an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line that holds a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1) - 1
    }

    /// The byte range of a line's content in `text`, without its line end.
    pub fn content(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.starts[line];
        let mut end = self
            .starts
            .get(line + 1)
            .map_or(text.len(), |&next| next - 1);
        if text[start..end].ends_with('\r') {
            end -= 1;
        }
        start..end
    }
}

/// Whether `offset` on `line` is past a byte-order mark that starts the text.
fn after_bom(text: &str, line: usize, offset: usize) -> bool {
    line == 0 && offset >= 3 && text.starts_with('\u{feff}')
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let bom = usize::from(after_bom(text, line - 1, offset));
    (line, before[line_start..].chars().count() + 1 - bom)
}

/// How a character that would be invisible, or would disturb a terminal, is shown in a
/// message or a source line: control characters as `\0`, `\t`, `\u{1b}`; the characters
/// that reorder or hide text (bidirectional overrides, zero-width characters, a byte-order
/// mark) as `\u{202e}`. `None` for a character shown as itself.
pub fn escaped_char(c: char) -> Option<String> {
    let invisible = matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{061c}' | '\u{feff}'
    );
    match c {
        '\0' => Some("\\0".into()),
        '\t' => Some("\\t".into()),
        '\n' => Some("\\n".into()),
        '\r' => Some("\\r".into()),
        c if c.is_control() || invisible => Some(format!("\\u{{{:x}}}", c as u32)),
        _ => None,
    }
}

/// `text` as it may appear in a message: at most `max_chars` of its characters, each
/// shown as [`escaped_char`] says, and `…` where it was cut. Text that comes from a file
/// goes through this, so that a message never prints a file whole, nor raw control bytes.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (shown, c) in text.chars().enumerate() {
        if shown == max_chars {
            out.push('…');
            break;
        }
        match escaped_char(c) {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
    }
    out
}

/// The catalogue of diagnostic codes. Each code names one kind of mistake, so a
/// user can search for it and tests can assert which rule fired.
pub mod codes {
    // Syntax.
    pub const SYNTAX: &str = "E0101";
    pub const BAD_NUMBER: &str = "E0102";
    pub const BAD_STRING: &str = "E0103";
    // Names.
    pub const UNKNOWN_NAME: &str = "E0201";
    pub const DUPLICATE_NAME: &str = "E0202";
    pub const UNKNOWN_SETTING: &str = "E0203";
    pub const UNKNOWN_ARGUMENT: &str = "E0204";
    pub const DUPLICATE_ARGUMENT: &str = "E0205";
    pub const SHADOWED_NAME: &str = "E0206";
    pub const UNKNOWN_SOURCE: &str = "E0207";
    pub const DUPLICATE_SETTING: &str = "E0208";
    pub const MISSING_ITEM: &str = "E0209";
    pub const WRONG_KIND: &str = "E0210";
    // Arguments.
    pub const ARG_TYPE: &str = "E0301";
    pub const ARG_RANGE: &str = "E0302";
    pub const MISSING_ARGUMENT: &str = "E0303";
    pub const TOO_MANY_ARGUMENTS: &str = "E0304";
    pub const MISSING_SETTING: &str = "E0305";
    pub const CONFLICTING_SETTINGS: &str = "E0306";
    // Shapes.
    pub const SHAPE_MISMATCH: &str = "E0401";
    pub const NEEDS_VECTOR: &str = "E0402";
    pub const NEEDS_IMAGE: &str = "E0403";
    pub const WINDOW_TOO_LARGE: &str = "E0404";
    pub const OUTPUT_MISMATCH: &str = "E0405";
    pub const DATA_MISMATCH: &str = "E0406";
    pub const BAD_SHAPE: &str = "E0407";
    pub const LOSS_MISMATCH: &str = "E0408";
    // Blocks and flow.
    pub const RECURSIVE_BLOCK: &str = "E0501";
    pub const EMPTY_BODY: &str = "E0502";
    pub const LAYER_AS_VALUE: &str = "E0503";
    pub const VALUE_AS_LAYER: &str = "E0504";
    pub const EXPANSION_TOO_LARGE: &str = "E0505";
    // Sizes.
    pub const SIZE_OVERFLOW: &str = "E0601";
    pub const DIVISION_BY_ZERO: &str = "E0602";

    pub const TOO_MUCH_MEMORY: &str = "E0701";
    pub const TENSOR_TOO_LARGE: &str = "E0702";
    pub const FILE_REFUSED: &str = "E0703";
    // The compiler's own invariants (a bug in dlc, never in the program).
    pub const INTERNAL: &str = "E0901";
    // Warnings.
    pub const W_DOUBLE_SOFTMAX: &str = "W0101";
    pub const W_SIGMOID_MULTICLASS: &str = "W0102";
    pub const W_DROPOUT_LAST: &str = "W0103";
    pub const W_UNUSED: &str = "W0104";
    pub const W_ACTIVATION_LAST: &str = "W0105";
    pub const W_NO_VALIDATION: &str = "W0106";
    pub const W_NORM_AFTER_NORM: &str = "W0107";
    pub const W_BIAS_BEFORE_NORM: &str = "W0108";
    pub const W_LARGE_LR: &str = "W0109";
    pub const W_NO_EFFECT: &str = "W0110";
}
