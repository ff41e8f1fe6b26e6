//! A small streaming CSV tokenizer that remembers where every field starts, so that the CSV
//! loader can point at the exact line and column of a bad value.
//!
//! Accepted: a configurable one-character delimiter, fields in double quotes (which may hold
//! delimiters, line breaks and `""` for a quote), `\n` and `\r\n` line ends, a leading UTF-8
//! byte-order mark. Blank lines are skipped.
//!
//! The input is read one record at a time, so a file is never held in memory whole; a
//! record longer than the reader's limit is an error rather than a line read forever (a
//! device that never ends, a file of one huge line).

use std::io::BufRead;
use std::ops::Range;

use super::DataError;
use super::error::excerpt;

/// Where a field's text is in the record, and the 1-based position of its first character.
#[derive(Clone, Debug)]
struct FieldPos {
    text: Range<usize>,
    line: usize,
    column: usize,
}

/// One field: its text (unquoted) and the 1-based position of its first character.
#[derive(Debug)]
pub(crate) struct Field<'a> {
    pub text: &'a str,
    pub line: usize,
    pub column: usize,
}

/// One line (or several, if a quoted field spans lines) of fields.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub line: usize,
    values: &'a str,
    fields: &'a [FieldPos],
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn field(&self, index: usize) -> Field<'a> {
        let pos = &self.fields[index];
        Field {
            text: &self.values[pos.text.clone()],
            line: pos.line,
            column: pos.column,
        }
    }

    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        (0..self.len()).map(|i| self.field(i))
    }
}

/// Splits text read from `input` into records; positions are counted in characters, from 1.
pub(crate) struct Reader<R> {
    input: R,
    path: String,
    delimiter: char,
    /// The number of the next line to be read from the input.
    next_line: usize,
    /// The text of the current record, its line ends included.
    text: String,
    /// The fields' texts, unquoted, one after another.
    values: String,
    fields: Vec<FieldPos>,
    /// The longest record read, in bytes.
    max_record_bytes: Option<u64>,
    line_bytes: Vec<u8>,
}

impl<R: BufRead> Reader<R> {
    pub fn new(path: &str, input: R, delimiter: char, max_record_bytes: Option<u64>) -> Reader<R> {
        Reader {
            input,
            path: path.to_string(),
            delimiter,
            next_line: 1,
            text: String::new(),
            values: String::new(),
            fields: Vec::new(),
            max_record_bytes,
            line_bytes: Vec::new(),
        }
    }

    /// The next non-blank record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, DataError> {
        self.text.clear();
        let line = loop {
            let line = self.next_line;
            if !self.read_line()? {
                return Ok(None);
            }
            if !self.text.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
                break line;
            }
            self.text.clear();
        };
        loop {
            match tokenize(
                &self.path,
                &self.text,
                line,
                self.delimiter,
                &mut self.values,
                &mut self.fields,
            )? {
                Tokens::Complete => break,
                Tokens::OpenQuote { line, column } => {
                    // A quoted field goes on past the line end: read the next line into it.
                    if !self.read_line()? {
                        return Err(DataError::Parse {
                            path: self.path.clone(),
                            line,
                            column,
                            found: "the end of the file".into(),
                            expected: "a closing quote for the field that starts here".into(),
                        });
                    }
                }
            }
        }
        Ok(Some(Record {
            line,
            values: &self.values,
            fields: &self.fields,
        }))
    }

    /// Appends the next line (with its line end) to the record's text; false at the end of
    /// the input.
    fn read_line(&mut self) -> Result<bool, DataError> {
        let line = self.next_line;
        self.line_bytes.clear();
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) => return Err(DataError::from_read(&self.path, e)),
            };
            if chunk.is_empty() {
                break;
            }
            let (taken, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            self.line_bytes.extend_from_slice(&chunk[..taken]);
            self.input.consume(taken);
            let length = (self.text.len() + self.line_bytes.len()) as u64;
            if let Some(max) = self.max_record_bytes
                && length > max
            {
                return Err(DataError::DataTooLarge {
                    what: format!("{}: the record at line {line}", self.path),
                    bytes: Some(length),
                    limit: max,
                    at_least: true,
                });
            }
            if done {
                break;
            }
        }
        if self.line_bytes.is_empty() {
            return Ok(false);
        }
        let mut bytes = &self.line_bytes[..];
        if line == 1 {
            bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        }
        let text = std::str::from_utf8(bytes).map_err(|error| {
            let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
            DataError::Parse {
                path: self.path.clone(),
                line,
                column: valid.chars().count() + 1,
                found: format!("the byte 0x{:02x}", bytes[error.valid_up_to()]),
                expected: "UTF-8 text".into(),
            }
        })?;
        self.text.push_str(text);
        self.next_line += 1;
        Ok(true)
    }
}

enum Tokens {
    Complete,
    /// The text ends inside the quoted field that starts here.
    OpenQuote {
        line: usize,
        column: usize,
    },
}

/// Splits one record's text into fields.
fn tokenize(
    path: &str,
    text: &str,
    line: usize,
    delimiter: char,
    values: &mut String,
    fields: &mut Vec<FieldPos>,
) -> Result<Tokens, DataError> {
    values.clear();
    fields.clear();
    let mut cursor = Cursor {
        text: text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(text),
        offset: 0,
        line,
        column: 1,
    };
    loop {
        let (line, column) = (cursor.line, cursor.column);
        let start = values.len();
        let rest = cursor.rest();
        let leading_blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if rest[leading_blanks..].starts_with('"') {
            for _ in 0..leading_blanks {
                cursor.bump();
            }
            if !cursor.quoted(values) {
                return Ok(Tokens::OpenQuote { line, column });
            }
            while matches!(cursor.peek(), Some(' ' | '\t')) {
                cursor.bump();
            }
            if let Some(c) = cursor.peek().filter(|&c| c != delimiter) {
                return Err(DataError::Parse {
                    path: path.to_string(),
                    line: cursor.line,
                    column: cursor.column,
                    found: format!("'{}'", excerpt(&c.to_string(), 1)),
                    expected: format!("{delimiter:?} or the end of the line after a closing quote"),
                });
            }
        } else {
            let from = cursor.offset;
            while cursor.peek().is_some_and(|c| c != delimiter) {
                cursor.bump();
            }
            values.push_str(&cursor.text[from..cursor.offset]);
        }
        fields.push(FieldPos {
            text: start..values.len(),
            line,
            column,
        });
        match cursor.bump() {
            Some(_) => {} // the delimiter
            None => return Ok(Tokens::Complete),
        }
    }
}

struct Cursor<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
    column: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.text[self.offset..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
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

    /// A quoted field, starting at its opening quote; `""` stands for one quote. False when
    /// the text ends before the closing quote.
    fn quoted(&mut self, out: &mut String) -> bool {
        self.bump();
        loop {
            match self.bump() {
                None => return false,
                Some('"') if self.peek() == Some('"') => {
                    self.bump();
                    out.push('"');
                }
                Some('"') => return true,
                Some(c) => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> Reader<&[u8]> {
        Reader::new("t.csv", text.as_bytes(), ',', None)
    }

    fn records(text: &str) -> Vec<Vec<(String, usize, usize)>> {
        let mut reader = reader(text);
        let mut out = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            out.push(
                record
                    .fields()
                    .map(|f| (f.text.to_string(), f.line, f.column))
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
        let mut reader = reader("a,b\n1,\"oops\n");
        reader.next_record().unwrap();
        let message = reader.next_record().unwrap_err().to_string();
        assert_eq!(
            message,
            "t.csv:2:3: expected a closing quote for the field that starts here, \
             found the end of the file"
        );
    }

    #[test]
    fn text_after_a_closing_quote_is_an_error_at_that_character() {
        let mut reader = reader("\"ab\"c,d\n");
        let message = reader.next_record().unwrap_err().to_string();
        assert!(
            message.starts_with("t.csv:1:5: expected ',' or the end of the line"),
            "{message}"
        );
        assert!(message.ends_with("found 'c'"), "{message}");
    }

    #[test]
    fn a_record_longer_than_the_limit_stops_the_reading() {
        let long = format!("a,b\n{}\n", "1".repeat(1000));
        let mut reader = Reader::new("t.csv", long.as_bytes(), ',', Some(100));
        reader.next_record().unwrap();
        let message = reader.next_record().unwrap_err().to_string();
        assert!(
            message.starts_with("t.csv: the record at line 2 would take"),
            "{message}"
        );
    }

    #[test]
    fn invalid_utf8_is_reported_at_its_line_and_column() {
        let mut reader = Reader::new("t.csv", &b"a,b\n1,\xff\n"[..], ',', None);
        reader.next_record().unwrap();
        let message = reader.next_record().unwrap_err().to_string();
        assert_eq!(
            message,
            "t.csv:2:3: expected UTF-8 text, found the byte 0xff"
        );
    }
}
