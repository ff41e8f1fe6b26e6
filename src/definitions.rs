//! The registry shape shared by the optimizer and data-source definitions:
//! one list of `module::Kind` makes the modules, the enum of kinds, its
//! dispatch to each kind's rule, the `From` impls and the table the checker
//! binds by name, so a kind cannot be half-added. (Layers have their own,
//! with kinds that only the network checker builds.)

/// `definitions! { enum E: dyn Rule; table T: [Entry] = entry; a::A, b::B }`
macro_rules! definitions {
    (
        $(#[$enum_doc:meta])* enum $enum:ident: dyn $rule:ident, derive($($derive:ident),*);
        $(#[$table_doc:meta])* table $table:ident: [$entry_ty:ident] = $entry:ident;
        $($module:ident :: $kind:ident),* $(,)?
    ) => {
        $(mod $module;
        pub use $module::$kind;)*

        $(#[$enum_doc])*
        #[derive($($derive),*)]
        pub enum $enum {
            $($kind($kind),)*
        }

        impl $enum {
            /// The kind's definition.
            pub fn rule(&self) -> &dyn $rule {
                match self {
                    $($enum::$kind(k) => k,)*
                }
            }

            /// The definition, to change an argument.
            pub fn rule_mut(&mut self) -> &mut dyn $rule {
                match self {
                    $($enum::$kind(k) => k,)*
                }
            }
        }

        $(impl From<$kind> for $enum {
            fn from(k: $kind) -> $enum {
                $enum::$kind(k)
            }
        })*

        $(#[$table_doc])*
        pub static $table: &[$entry_ty] = &[$($entry::<$kind>(),)*];
    };
}
