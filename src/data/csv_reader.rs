//! A small CSV tokenizer that remembers where every field starts, so that the CSV loader can
//! point at the exact line and column of a bad value.
//!
//! Accepted: a configurable one-character delimiter, fields in double quotes (which may hold
//! delimiters, line breaks and `""` for a quote), `\n` and `\r\n` line ends, a leading UTF-8
//! byte-order mark. Blank lines are skipped.

use std::borrow::Cow;

use super::DataError;

/// One field and the 1-based position of its first character.
#[derive(Debug)]
pub(crate) struct Field<'a> {
    pub text: Cow<'a, str>,
    pub line: usize,
    pub column: usize,
}

/// One line (or several, if a quoted field spans lines) of fields.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub line: usize,
    pub fields: Vec<Field<'a>>,
}

/// Splits text into records; positions are counted in characters, from 1.
pub(crate) struct Reader<'a> {
    path: &'a str,
    text: &'a str,
    delimiter: char,
    offset: usize,
    line: usize,
    column: usize,
}

impl<'a> Reader<'a> {
    pub fn new(path: &'a str, text: &'a str, delimiter: char) -> Reader<'a> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Reader {
            path,
            text,
            delimiter,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// The next non-blank record, or `None` at the end of the text.
    pub fn next_record(&mut self) -> Result<Option<Record<'a>>, DataError> {
        self.skip_blank_lines();
        if self.offset >= self.text.len() {
            return Ok(None);
        }
        let line = self.line;
        let mut fields = Vec::new();
        loop {
            fields.push(self.field()?);
            match self.peek() {
                Some(c) if c == self.delimiter => {
                    self.bump();
                }
                _ => {
                    self.end_of_line();
                    return Ok(Some(Record { line, fields }));
                }
            }
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.offset..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    /// At a line end (`\n` or `\r\n`), or at the end of the text.
    fn at_line_end(&self) -> bool {
        let rest = &self.text[self.offset..];
        rest.is_empty() || rest.starts_with('\n') || rest.starts_with("\r\n")
    }

    fn end_of_line(&mut self) {
        if self.text[self.offset..].starts_with('\r') {
            self.bump();
        }
        self.bump();
    }

    /// Skips lines holding nothing but spaces and tabs.
    fn skip_blank_lines(&mut self) {
        loop {
            let rest = &self.text[self.offset..];
            let blank_len = rest.find(|c| c != ' ' && c != '\t').unwrap_or(rest.len());
            let after = &rest[blank_len..];
            if !(after.is_empty() || after.starts_with('\n') || after.starts_with("\r\n")) {
                return;
            }
            if after.is_empty() {
                self.offset = self.text.len();
                return;
            }
            for _ in 0..blank_len {
                self.bump();
            }
            self.end_of_line();
        }
    }

    fn field(&mut self) -> Result<Field<'a>, DataError> {
        let (line, column) = (self.line, self.column);
        let start = self.offset;
        let rest = &self.text[start..];
        let leading_blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if rest[leading_blanks..].starts_with('"') {
            for _ in 0..leading_blanks {
                self.bump();
            }
            let text = self.quoted(line, column)?;
            return Ok(Field { text, line, column });
        }
        while !self.at_line_end() && self.peek() != Some(self.delimiter) {
            self.bump();
        }
        let text = Cow::Borrowed(&self.text[start..self.offset]);
        Ok(Field { text, line, column })
    }

    /// A quoted field, starting at its opening quote; `""` stands for one quote.
    fn quoted(&mut self, line: usize, column: usize) -> Result<Cow<'a, str>, DataError> {
        self.bump();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(DataError::Parse {
                        path: self.path.to_string(),
                        line,
                        column,
                        found: "the end of the file".into(),
                        expected: "a closing quote for the field that starts here".into(),
                    });
                }
                Some('"') if self.peek() == Some('"') => {
                    self.bump();
                    text.push('"');
                }
                Some('"') => break,
                Some(c) => text.push(c),
            }
        }
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
        if !self.at_line_end() && self.peek() != Some(self.delimiter) {
            let found = self.peek().map_or(String::new(), |c| format!("{c:?}"));
            return Err(DataError::Parse {
                path: self.path.to_string(),
                line: self.line,
                column: self.column,
                found,
                expected: format!(
                    "{:?} or the end of the line after a closing quote",
                    self.delimiter
                ),
            });
        }
        Ok(Cow::Owned(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<Vec<(String, usize, usize)>> {
        let mut reader = Reader::new("t.csv", text, ',');
        let mut out = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            out.push(
                record
                    .fields
                    .into_iter()
                    .map(|f| (f.text.into_owned(), f.line, f.column))
                    .collect(),
            );
        }
        out
    }

    fn texts(text: &str) -> Vec<Vec<String>> {
        records(text)
            .into_iter()
            .map(|r| r.into_iter().map(|f| f.0).collect())
            .collect()
    }

    #[test]
    fn splits_fields_and_records_with_either_line_end() {
        let expected = vec![vec!["a", "b"], vec!["1", "2"], vec!["3", ""]];
        assert_eq!(texts("a,b\n1,2\n3,\n"), expected);
        assert_eq!(texts("a,b\r\n1,2\r\n3,"), expected);
    }

    #[test]
    fn quoted_fields_keep_delimiters_line_breaks_and_doubled_quotes() {
        let rows = records("name,x\n\"a,\"\"b\"\"\nc\",1\nd,2\n");
        assert_eq!(rows[1][0], ("a,\"b\"\nc".to_string(), 2, 1));
        assert_eq!(rows[1][1], ("1".to_string(), 3, 4));
        assert_eq!(rows[2][0], ("d".to_string(), 4, 1));
    }

    #[test]
    fn blank_lines_are_skipped_and_positions_stay_true() {
        let rows = records("\u{feff}h\n\n  \r\n5, 6\n\n\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], vec![("5".into(), 4, 1), (" 6".into(), 4, 3)]);
    }

    #[test]
    fn unterminated_quote_points_at_the_opening_quote() {
        let mut reader = Reader::new("q.csv", "a,b\n1,\"oops\n", ',');
        reader.next_record().unwrap();
        let message = reader.next_record().unwrap_err().to_string();
        assert_eq!(
            message,
            "q.csv:2:3: expected a closing quote for the field that starts here, \
             found the end of the file"
        );
    }

    #[test]
    fn text_after_a_closing_quote_is_an_error_at_that_character() {
        let mut reader = Reader::new("q.csv", "\"ab\"c,d\n", ',');
        let message = reader.next_record().unwrap_err().to_string();
        assert!(
            message.starts_with("q.csv:1:5: expected ',' or the end of the line"),
            "{message}"
        );
        assert!(message.ends_with("found 'c'"), "{message}");
    }
}
