//! Parsing the header of a `.npy` file: a Python dict literal with the keys `descr` (a type
//! string), `fortran_order` (a bool) and `shape` (a tuple of integers).
//!
//! Only the literal forms numpy writes are accepted: quoted strings, `True`/`False`, tuples of
//! non-negative integers; a list (a structured dtype) is recognised so that it can be reported
//! as an unsupported dtype.

/// The three fields of an NPY header.
#[derive(Debug, PartialEq)]
pub(crate) struct Header {
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

use super::error::excerpt;

/// A parse failure: byte offset within the header, what was found, what was expected.
pub(crate) type HeaderError = (usize, String, String);

#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    /// A list literal, kept as its source text (numpy's structured dtypes).
    List(String),
}

pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, HeaderError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        (
            at,
            format!("the byte 0x{:02x}", bytes[at]),
            "UTF-8 text".to_string(),
        )
    })?;
    let mut parser = Parser { text, at: 0 };
    let entries = parser.dict()?;
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    for (key, value, at) in entries {
        match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("descr", Value::List(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran_order = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            (key @ ("descr" | "fortran_order" | "shape"), value) => {
                let expected = match key {
                    "descr" => "a type string such as '<f4'",
                    "fortran_order" => "True or False",
                    _ => "a tuple of sizes such as (150, 4)",
                };
                let found = excerpt(&format!("{key}: {value:?}"), 60);
                return Err((at, found, expected.to_string()));
            }
            _ => {} // Unknown keys are ignored, as numpy may add some.
        }
    }
    match (descr, fortran_order, shape) {
        (Some(descr), Some(fortran_order), Some(shape)) => Ok(Header {
            descr,
            fortran_order,
            shape,
        }),
        _ => Err((
            0,
            format!("\"{}\"", excerpt(text.trim_end(), 60)),
            "a header with the keys 'descr', 'fortran_order' and 'shape'".to_string(),
        )),
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn error<T>(&self, expected: &str) -> Result<T, HeaderError> {
        let found = match self.rest().chars().next() {
            Some(c) => format!("'{}'", excerpt(&c.to_string(), 1)),
            None => "the end of the header".to_string(),
        };
        Err((self.at, found, expected.to_string()))
    }

    /// Consumes `token` (after optional spaces) if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        let found = self.rest().starts_with(token);
        if found {
            self.at += token.len();
        }
        found
    }

    fn expect(&mut self, token: &str) -> Result<(), HeaderError> {
        if self.eat(token) {
            Ok(())
        } else {
            self.error(&format!("{token:?}"))
        }
    }

    /// `{ key: value, ... }` with an optional trailing comma; entries keep their offsets.
    fn dict(&mut self) -> Result<Vec<(String, Value, usize)>, HeaderError> {
        self.expect("{")?;
        let mut entries = Vec::new();
        while !self.eat("}") {
            self.skip_space();
            let at = self.at;
            let key = self.string()?;
            self.expect(":")?;
            let value = self.value()?;
            entries.push((key, value, at));
            if !self.eat(",") {
                self.expect("}")?;
                break;
            }
        }
        self.skip_space();
        if !self.rest().is_empty() {
            return self.error("the end of the header after the dict");
        }
        Ok(entries)
    }

    fn value(&mut self) -> Result<Value, HeaderError> {
        self.skip_space();
        if self.eat("True") {
            Ok(Value::Bool(true))
        } else if self.eat("False") {
            Ok(Value::Bool(false))
        } else if self.rest().starts_with('(') {
            self.tuple().map(Value::Tuple)
        } else if self.rest().starts_with('[') {
            self.list().map(Value::List)
        } else {
            self.string().map(Value::Str)
        }
    }

    /// A string in single or double quotes (numpy writes no escapes in these headers).
    fn string(&mut self) -> Result<String, HeaderError> {
        self.skip_space();
        let Some(quote) = self
            .rest()
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
        else {
            return self.error("a quoted string");
        };
        let body = &self.rest()[1..];
        let Some(end) = body.find(quote) else {
            return self.error("a string with a closing quote");
        };
        let value = body[..end].to_string();
        self.at += end + 2;
        Ok(value)
    }

    /// `()`, `(n,)` or `(n, m, ...)` with an optional trailing comma.
    fn tuple(&mut self) -> Result<Vec<usize>, HeaderError> {
        self.expect("(")?;
        let mut sizes = Vec::new();
        while !self.eat(")") {
            self.skip_space();
            let digits = self.rest().len()
                - self
                    .rest()
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .len();
            let Ok(size) = self.rest()[..digits].parse::<usize>() else {
                return self.error("a dimension size (a whole number)");
            };
            self.at += digits;
            sizes.push(size);
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok(sizes)
    }

    /// A bracketed list, returned as its source text (brackets balanced, strings skipped).
    fn list(&mut self) -> Result<String, HeaderError> {
        let start = self.at;
        let mut depth = 0usize;
        let mut quote = None;
        for (i, c) in self.rest().char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']' | ')') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.at += i + 1;
                        return Ok(self.text[start..self.at].to_string());
                    }
                }
                _ => {}
            }
        }
        self.at = self.text.len();
        self.error("a closing ']'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Header, HeaderError> {
        parse_header(text.as_bytes())
    }

    #[test]
    fn parses_the_headers_numpy_writes() {
        let parsed = header("{'descr': '<f4', 'fortran_order': False, 'shape': (150, 4), }   \n");
        assert_eq!(
            parsed.unwrap(),
            Header {
                descr: "<f4".into(),
                fortran_order: false,
                shape: vec![150, 4]
            }
        );
        let one_d = header("{\"shape\": (3,), \"fortran_order\": True, \"descr\": \"|u1\"}\n");
        assert_eq!(one_d.unwrap().shape, [3]);
        assert_eq!(
            header("{'descr': '<i8', 'fortran_order': False, 'shape': ()}")
                .unwrap()
                .shape,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn structured_dtypes_are_kept_as_text_for_the_error_message() {
        let parsed = header(
            "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }",
        );
        assert_eq!(parsed.unwrap().descr, "[('a', '<f4'), ('b', '<i4')]");
    }

    #[test]
    fn malformed_headers_report_the_offending_offset() {
        let (at, found, expected) = header("{'descr': '<f4', 'shape': (3, x)}").unwrap_err();
        assert_eq!((at, found.as_str()), (30, "'x'"));
        assert_eq!(expected, "a dimension size (a whole number)");

        let (at, _, expected) = header("{'descr': '<f4', 'shape': (3,)}").unwrap_err();
        assert_eq!(at, 0);
        assert!(expected.contains("'fortran_order'"), "{expected}");

        let (at, found, _) = header("{'descr': '<f4', 'fortran_order': 1}").unwrap_err();
        assert_eq!((at, found.as_str()), (34, "'1'"));
    }
}
