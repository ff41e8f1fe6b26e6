//! The tokens of one line of IR text: words (names, numbers, `1x1`) and
//! single symbols, with the small grammars every line kind shares (values,
//! shapes, pairs, lists, initialisers).

use crate::ir::Init;
use crate::ir::{Dim, Shape, ValueId};
use std::str::FromStr;

/// A parse result; the message is placed on its line by the caller.
pub(super) type Res<T> = Result<T, String>;

/// Tokens of one line: words (names, numbers, `1x1`) and single symbols.
pub(super) struct Cursor<'a> {
    rest: &'a str,
}

const SYMBOLS: &str = ",:[]()=%^#@";

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Cursor { rest: text }
    }

    pub(super) fn peek(&mut self) -> Option<char> {
        self.rest = self.rest.trim_start();
        self.rest.chars().next()
    }

    pub(super) fn eat(&mut self, sym: char) -> bool {
        let found = self.peek() == Some(sym);
        if found {
            self.rest = &self.rest[sym.len_utf8()..];
        }
        found
    }

    pub(super) fn expect(&mut self, sym: char) -> Res<()> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(format!("expected `{sym}` at `{}`", self.rest))
        }
    }

    pub(super) fn word(&mut self) -> Res<&'a str> {
        self.peek();
        let end = self
            .rest
            .find(|c: char| c.is_whitespace() || SYMBOLS.contains(c))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(format!("expected a word at `{}`", self.rest));
        }
        let (w, rest) = self.rest.split_at(end);
        self.rest = rest;
        Ok(w)
    }

    pub(super) fn eat_word(&mut self, word: &str) -> bool {
        let save = self.rest;
        if self.word() == Ok(word) {
            return true;
        }
        self.rest = save;
        false
    }

    pub(super) fn keyword(&mut self, word: &str) -> Res<()> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(format!("expected `{word}` at `{}`", self.rest))
        }
    }

    pub(super) fn number<T: FromStr>(&mut self) -> Res<T> {
        let w = self.word()?;
        w.parse().map_err(|_| format!("`{w}` is not a number here"))
    }

    /// `N` at the table's next index, as `param 3` must be the fourth.
    pub(super) fn index(&mut self, next: usize, what: &str) -> Res<()> {
        let i: usize = self.number()?;
        if i != next {
            return Err(format!("{what} {i} should be {what} {next}"));
        }
        Ok(())
    }

    pub(super) fn value(&mut self) -> Res<ValueId> {
        self.expect('%')?;
        Ok(ValueId(self.number()?))
    }

    pub(super) fn then_value(&mut self) -> Res<ValueId> {
        self.expect(',')?;
        self.value()
    }

    pub(super) fn transposed(&mut self) -> Res<bool> {
        if self.eat('^') {
            self.keyword("T")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `axes 0,2,3` (possibly empty).
    pub(super) fn axes(&mut self) -> Res<Vec<usize>> {
        self.keyword("axes")?;
        let mut axes = Vec::new();
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            axes.push(self.number()?);
            while self.eat(',') {
                axes.push(self.number()?);
            }
        }
        Ok(axes)
    }

    /// `stride 2x2`.
    pub(super) fn named_pair(&mut self, name: &str) -> Res<[usize; 2]> {
        self.keyword(name)?;
        let w = self.word()?;
        let bad = || format!("`{w}` is not a pair like `2x2`");
        let (a, b) = w.split_once('x').ok_or_else(bad)?;
        Ok([a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?])
    }

    pub(super) fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Res<T>) -> Res<Vec<T>> {
        self.expect('[')?;
        let mut out = Vec::new();
        if self.eat(']') {
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.eat(']') {
                return Ok(out);
            }
            self.expect(',')?;
        }
    }

    /// `[N, 3, 8, 8]`
    pub(super) fn shape(&mut self) -> Res<Shape> {
        let dims = self.list(|c| {
            if c.eat_word("N") {
                Ok(Dim::N)
            } else {
                c.number().map(Dim::K)
            }
        })?;
        Ok(Shape(dims))
    }

    /// `[64, 2]` (a table's sizes, never batched).
    pub(super) fn sizes(&mut self) -> Res<Vec<usize>> {
        self.list(|c| c.number())
    }

    /// `he(0)`, `xavier`, `const(0.5)`.
    pub(super) fn init(&mut self) -> Res<Init> {
        let name = self.word()?;
        let mut arg = || -> Res<f64> {
            self.expect('(')?;
            let v = self.number()?;
            self.expect(')')?;
            Ok(v)
        };
        Ok(match name {
            "he" => Init::He { slope: arg()? },
            "xavier" => Init::Xavier,
            "lecun" => Init::Lecun,
            "normal" => Init::Normal { std: arg()? },
            "uniform" => Init::Uniform { limit: arg()? },
            "const" => Init::Const(arg()?),
            other => return Err(format!("unknown initialiser `{other}`")),
        })
    }

    pub(super) fn end(&mut self) -> Res<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(format!("unexpected `{}`", self.rest)),
        }
    }
}
