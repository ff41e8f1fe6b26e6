//! Front end: `.dl` source text -> AST with spans.
//!
//! ```text
//! source --pest (grammar/dl.pest)--> pairs --parser.rs--> ast::Program
//!                                         \--errors.rs--> syntax diagnostics
//! ```

mod ast;
mod errors;
mod parser;
mod print;
mod slips;

pub use ast::*;
pub use parser::{MAX_EXPR_TERMS, MAX_NESTING, parse};
pub use print::{format_number, print_program};
