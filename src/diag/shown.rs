//! The source text as a diagnostic shows it.
//!
//! codespan-reporting prints every labelled line whole, so one line of 400 KB would be
//! echoed whole, and a NUL byte or an escape sequence in the file would be printed raw, with
//! no caret under it (it has no width). This gives the renderer another text instead: only
//! the lines it shows, each cut to windows around the labels on it when it is long, with
//! invisible characters written as escapes (`\0`). Offsets map between the two texts, so
//! the carets stand under the right characters and the `line:column` in the header is the
//! true one.

use super::Span;
use super::{LineIndex, escaped_char};
use codespan_reporting::files::{Error, Files};
use std::collections::BTreeSet;
use std::ops::Range;

/// Lines longer than this many characters are cut to windows around the labels on them.
const MAX_LINE_CHARS: usize = 160;
/// Characters kept on each side of a label's start and end in a cut line.
const CONTEXT_CHARS: usize = 40;
/// What stands for the characters cut out of a line.
const CUT: &str = "…";

pub(super) struct Shown<'a> {
    name: &'a str,
    original: &'a str,
    index: &'a LineIndex,
    text: String,
    /// The shown lines, in order.
    lines: Vec<ShownLine>,
}

struct ShownLine {
    /// The line's index in the original text.
    index: usize,
    /// Its range in the shown text, with the line end.
    range: Range<usize>,
    /// The end of its content in the original text (before the line end).
    original_end: usize,
    pieces: Vec<Piece>,
}

/// A run of the shown text and the original text it stands for: the same text when
/// `copied`; otherwise an escape for one invisible character, or [`CUT`] for a cut part.
struct Piece {
    shown: Range<usize>,
    original: Range<usize>,
    copied: bool,
}

impl<'a> Shown<'a> {
    /// The text to show for labels at `spans` of `original` (each within the text, on
    /// character boundaries).
    pub fn new(name: &'a str, original: &'a str, index: &'a LineIndex, spans: &[Span]) -> Self {
        let last_line = index.line_count() - 1;
        let mut points: Vec<usize> = Vec::new();
        let mut lines = BTreeSet::new();
        for span in spans {
            points.extend([span.start, span.end]);
            let (start, end) = (index.line_of(span.start), index.line_of(span.end));
            // The lines codespan prints for a label: its first lines and its last, each
            // with a neighbour, since a single line between two printed ones is printed too.
            let head = start.saturating_sub(1)..=(start + 3).min(end) + 1;
            let tail = end.saturating_sub(1).max(start)..=end + 1;
            lines.extend(head.chain(tail).filter(|&l| l <= last_line));
        }
        points.sort_unstable();
        let mut shown = Shown {
            name,
            original,
            index,
            text: String::new(),
            lines: Vec::new(),
        };
        for line in lines {
            shown.push_line(line, &points);
        }
        shown
    }

    /// Where `span` of the original text is in the shown text.
    pub fn span(&self, span: Span) -> Range<usize> {
        let start = self.to_shown(span.start);
        start..self.to_shown(span.end).max(start)
    }

    fn push_line(&mut self, line: usize, points: &[usize]) {
        let bounds = self.index.content(self.original, line);
        let text = &self.original[bounds.clone()];
        let start = self.text.len();
        let on_line = &points[points.partition_point(|&p| p < bounds.start)
            ..points.partition_point(|&p| p <= bounds.end)];
        let windows = windows(text, bounds.start, on_line);
        let mut pieces = Vec::new();
        let mut at = bounds.start;
        for window in windows {
            if window.start > at {
                self.push_piece(&mut pieces, CUT, at..window.start, false);
            }
            let mut run = window.start;
            for (i, c) in self.original[window.clone()].char_indices() {
                let offset = window.start + i;
                let replacement = match c {
                    '\t' => None,
                    '\u{feff}' if offset == 0 => Some(String::new()),
                    c => escaped_char(c),
                };
                if let Some(replacement) = replacement {
                    if offset > run {
                        self.push_copy(&mut pieces, run..offset);
                    }
                    let end = offset + c.len_utf8();
                    self.push_piece(&mut pieces, &replacement, offset..end, false);
                    run = end;
                }
            }
            if window.end > run {
                self.push_copy(&mut pieces, run..window.end);
            }
            at = window.end;
        }
        if bounds.end > at {
            self.push_piece(&mut pieces, CUT, at..bounds.end, false);
        }
        self.text.push('\n');
        self.lines.push(ShownLine {
            index: line,
            range: start..self.text.len(),
            original_end: bounds.end,
            pieces,
        });
    }

    fn push_copy(&mut self, pieces: &mut Vec<Piece>, original: Range<usize>) {
        let text = &self.original[original.clone()];
        self.push_piece(pieces, text, original, true);
    }

    fn push_piece(
        &mut self,
        pieces: &mut Vec<Piece>,
        text: &str,
        original: Range<usize>,
        copied: bool,
    ) {
        let start = self.text.len();
        self.text.push_str(text);
        pieces.push(Piece {
            shown: start..self.text.len(),
            original,
            copied,
        });
    }

    fn line(&self, index: usize) -> Option<&ShownLine> {
        let at = self.lines.partition_point(|l| l.index < index);
        self.lines.get(at).filter(|l| l.index == index)
    }

    /// The shown offset of an original offset on a shown line.
    fn to_shown(&self, offset: usize) -> usize {
        let Some(line) = self.line(self.index.line_of(offset)) else {
            return 0;
        };
        let at = line.pieces.partition_point(|p| p.original.end <= offset);
        match line.pieces.get(at) {
            Some(p) if p.copied && p.original.start <= offset => {
                p.shown.start + (offset - p.original.start)
            }
            Some(p) => p.shown.start,
            None => line.range.end - 1, // the end of the line
        }
    }

    /// The original offset of a shown offset.
    fn to_original(&self, offset: usize) -> usize {
        let at = self.lines.partition_point(|l| l.range.end <= offset);
        let Some(line) = self.lines.get(at).or(self.lines.last()) else {
            return 0;
        };
        let piece = line
            .pieces
            .iter()
            .find(|p| p.shown.start <= offset && offset < p.shown.end);
        match piece {
            Some(p) if p.copied => p.original.start + (offset - p.shown.start),
            Some(p) => p.original.start,
            None => line.original_end,
        }
    }
}

/// The parts of a line (of `text`, starting at `start` in the file) to show: all of it when
/// it is short; else windows around the given points (offsets in the file), or its start.
fn windows(text: &str, start: usize, points: &[usize]) -> Vec<Range<usize>> {
    let end = start + text.len();
    if text.chars().count() <= MAX_LINE_CHARS {
        let whole = start..end;
        return vec![whole];
    }
    let back = |p: usize| {
        let before = &text[..p - start];
        let cut = before.char_indices().rev().nth(CONTEXT_CHARS - 1);
        start + cut.map_or(0, |(i, _)| i)
    };
    let forward = |p: usize, n: usize| {
        let after = &text[p - start..];
        p + after.char_indices().nth(n).map_or(after.len(), |(i, _)| i)
    };
    if points.is_empty() {
        let head = start..forward(start, MAX_LINE_CHARS);
        return vec![head];
    }
    let mut windows: Vec<Range<usize>> = Vec::new();
    for &p in points {
        let window = back(p)..forward(p, CONTEXT_CHARS);
        match windows.last_mut() {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => windows.push(window),
        }
    }
    windows
}

impl<'a> Files<'a> for Shown<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(self.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, Error> {
        let at = self.lines.partition_point(|l| l.range.end <= byte_index);
        let line = self.lines.get(at).or(self.lines.last());
        Ok(line.map_or(0, |l| l.index))
    }

    fn line_range(&'a self, (): (), line_index: usize) -> Result<Range<usize>, Error> {
        if let Some(line) = self.line(line_index) {
            return Ok(line.range.clone());
        }
        let count = self.index.line_count();
        if line_index >= count {
            return Err(Error::LineTooLarge {
                given: line_index,
                max: count - 1,
            });
        }
        // A line that is never printed.
        Ok(0..0)
    }

    fn column_number(&'a self, (): (), _line: usize, byte_index: usize) -> Result<usize, Error> {
        let offset = self.to_original(byte_index);
        Ok(self.index.line_col(self.original, offset).1)
    }
}
