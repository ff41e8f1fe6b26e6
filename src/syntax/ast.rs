//! The abstract syntax tree of a `.dl` program, as written (before any checking).
//!
//! Every node keeps the byte span of the text it came from, so that every later
//! stage can point at the exact place in the source.

use std::fmt;

pub use crate::diag::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A whole `.dl` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Data(DataDecl),
    Block(BlockDecl),
    Network(NetworkDecl),
    Train(TrainDecl),
}

impl Item {
    pub fn name(&self) -> &Ident {
        match self {
            Item::Data(d) => &d.name,
            Item::Block(b) => &b.name,
            Item::Network(n) => &n.name,
            Item::Train(t) => &t.network,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Item::Data(d) => d.span,
            Item::Block(b) => b.span,
            Item::Network(n) => n.span,
            Item::Train(t) => t.span,
        }
    }
}

/// `data NAME = SOURCE(args) { settings }`
#[derive(Clone, Debug, PartialEq)]
pub struct DataDecl {
    pub name: Ident,
    pub source: Call,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `block NAME(params) { statements }`: a reusable piece of network.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockDecl {
    pub name: Ident,
    pub params: Vec<BlockParam>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BlockParam {
    pub name: Ident,
    pub default: Option<Expr>,
}

/// `network NAME(input: SHAPE) -> OUTPUT { statements }`
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkDecl {
    pub name: Ident,
    pub input: Ident,
    pub input_shape: Expr,
    pub output: Option<Expr>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `train NETWORK on DATA { settings }`
#[derive(Clone, Debug, PartialEq)]
pub struct TrainDecl {
    pub network: Ident,
    pub data: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// One line of a `data` or `train` body: `name arg, key: value, ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}

/// One step of a network's flow: `[name =] head (-> stage)*`, where the head is
/// one stage or several joined by `+`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub bind: Option<Ident>,
    pub head: Vec<Stage>,
    pub rest: Vec<Stage>,
    pub span: Span,
}

/// A layer, a block use, or a named value: `conv 16, kernel: 3`, `res(16)`, `h`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}

/// `value` or `name: value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

/// `name(args)` in value position, e.g. `sgd(lr: 0.1)` or `csv("x.csv")`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number exactly as written; the checker decides integer or real and range.
    Number(String),
    Str(String),
    Bool(bool),
    Name(String),
    Call(Call),
    List(Vec<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// `/`: real division.
    Div,
    /// `//`: whole-number division, rounding down.
    FloorDiv,
    /// `**`: a power.
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Pow => "**",
        }
    }
}
