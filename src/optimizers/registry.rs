//! The registry: every optimizer, once. The `definitions!` list in the module
//! root declares each optimizer's module and makes from it the
//! [`OptimizerKind`] enum, its dispatch to each definition's [`Rule`], and
//! the table the plan's checker binds by name.

use super::*;

/// An optimizer's name and how to bind its arguments.
pub struct Entry {
    pub keyword: &'static str,
    pub flags: &'static [&'static str],
    pub bind: fn(&mut Cx, &mut Args) -> Option<OptimizerKind>,
}

/// The entry of an optimizer definition.
pub const fn entry<D: Definition>() -> Entry {
    Entry {
        keyword: D::KEYWORD,
        flags: D::FLAGS,
        bind: |cx, args| D::bind(cx, args).map(Into::into),
    }
}

/// The optimizer named `keyword`.
pub fn find(keyword: &str) -> Option<&'static Entry> {
    OPTIMIZERS.iter().find(|o| o.keyword == keyword)
}

/// Every optimizer's name.
pub fn keywords() -> Vec<&'static str> {
    OPTIMIZERS.iter().map(|o| o.keyword).collect()
}

impl Entry {
    /// Binds no arguments at all: the optimizer with every default, and the
    /// names its definition asked for.
    fn bind_nothing(&self) -> (Option<OptimizerKind>, Vec<&'static str>) {
        Args::bind_nothing(self.keyword, &[], self.flags, self.bind)
    }

    /// The names of the arguments it accepts besides `lr`, in the order its
    /// definition reads them: found by binding nothing, so the list cannot
    /// drift from the definition.
    pub fn argument_names(&self) -> Vec<&'static str> {
        self.bind_nothing().1
    }

    /// The optimizer with every argument at its default.
    pub fn with_defaults(&self) -> Option<OptimizerKind> {
        self.bind_nothing().0
    }
}
