//! The registry: every data source, once. The `definitions!` list in the
//! module root declares each source's module and makes from it the
//! [`DataSource`] enum, its dispatch to each definition's [`Rule`], and the
//! table the data checker binds by name.

use super::*;

/// A source's name and how to bind its arguments.
pub struct Entry {
    pub keyword: &'static str,
    pub positional: &'static [&'static str],
    pub bind: fn(&mut Cx, &mut Args, Span) -> Option<DataSource>,
}

/// The entry of a source definition.
pub const fn entry<D: Definition>() -> Entry {
    Entry {
        keyword: D::KEYWORD,
        positional: D::POSITIONAL,
        bind: |cx, args, span| D::bind(cx, args, span).map(Into::into),
    }
}

/// The source named `keyword`.
pub fn find(keyword: &str) -> Option<&'static Entry> {
    SOURCES.iter().find(|s| s.keyword == keyword)
}

/// Every source's name.
pub fn keywords() -> Vec<&'static str> {
    SOURCES.iter().map(|s| s.keyword).collect()
}

impl Entry {
    /// The names of the arguments it accepts, in the order its definition
    /// reads them: found by binding nothing, so the list cannot drift from
    /// the definition.
    pub fn argument_names(&self) -> Vec<&'static str> {
        let bind = |cx: &mut Cx, args: &mut Args| (self.bind)(cx, args, Span::default());
        Args::bind_nothing(self.keyword, self.positional, &[], bind).1
    }
}
