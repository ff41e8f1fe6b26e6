//! The registry: every layer kind, once. The `registry!` list in the
//! module root declares each kind's module and makes from it the [`Op`]
//! enum, its dispatch to each kind's [`Rule`], and the table of stages the
//! checker binds by keyword, so a kind cannot be half-added.

use super::*;

/// Declares every kind's module and makes [`Op`], its dispatch to each
/// kind's [`Rule`], and [`STAGES`], from one list.
macro_rules! registry {
    (
        built by the network: $($bmod:ident :: $built:ident),* ;
        stages: $($smod:ident :: $stage:ident),* $(,)?
    ) => {
        $(mod $bmod;
        pub use $bmod::$built;)*
        $(mod $smod;
        pub use $smod::$stage;)*

        /// A layer of a checked network: its kind and arguments.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Op {
            $($built($built),)*
            $($stage($stage),)*
        }

        impl Op {
            /// The kind's definition.
            pub fn rule(&self) -> &dyn Rule {
                match self {
                    $(Op::$built(l) => l,)*
                    $(Op::$stage(l) => l,)*
                }
            }
        }

        $(impl From<$built> for Op {
            fn from(l: $built) -> Op {
                Op::$built(l)
            }
        })*
        $(impl From<$stage> for Op {
            fn from(l: $stage) -> Op {
                Op::$stage(l)
            }
        })*

        /// Every kind that a network's stage can name, in the order the
        /// documentation lists them.
        pub static STAGES: &[StageEntry] = &[$(stage::<$stage>(),)*];
    };
}

/// A stage keyword and how to bind its arguments.
pub struct StageEntry {
    pub keyword: &'static str,
    pub positional: &'static [&'static str],
    pub flags: &'static [&'static str],
    pub aliases: &'static [&'static str],
    pub bind: fn(&mut Cx, &mut Args) -> Option<Op>,
}

/// The entry of a kind written as a stage.
pub const fn stage<S: Stage>() -> StageEntry {
    StageEntry {
        keyword: S::KEYWORD,
        positional: S::POSITIONAL,
        flags: S::FLAGS,
        aliases: S::ALIASES,
        bind: |cx, args| S::bind(cx, args).map(Into::into),
    }
}

impl Op {
    /// The keyword that writes this layer in the language.
    pub fn keyword(&self) -> &'static str {
        self.rule().keyword()
    }
}

/// The stage written with `keyword`.
pub fn find(keyword: &str) -> Option<&'static StageEntry> {
    STAGES.iter().find(|s| s.keyword == keyword)
}

impl StageEntry {
    /// Binds no arguments at all: the layer with every default (`None` when
    /// an argument is required), and the names the definition asked for.
    fn bind_nothing(&self) -> (Option<Op>, Vec<&'static str>) {
        Args::bind_nothing(self.keyword, self.positional, self.flags, self.bind)
    }

    /// The names of the arguments the stage accepts, in the order its
    /// definition reads them: found by binding nothing, so the list cannot
    /// drift from the definition.
    pub fn argument_names(&self) -> Vec<&'static str> {
        self.bind_nothing().1
    }

    /// The layer with every argument at its default, if none is required.
    pub fn with_defaults(&self) -> Option<Op> {
        self.bind_nothing().0
    }
}

/// The keywords of every stage.
pub fn keywords() -> impl Iterator<Item = &'static str> {
    STAGES.iter().map(|s| s.keyword)
}
