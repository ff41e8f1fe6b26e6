//! Source text -> AST, with pest (grammar/dl.pest).
//!
//! pest does the recognising; this module turns its pairs into the typed AST of
//! [`super::ast`] and turns its failures into diagnostics that say, in the
//! language's own words, what was expected where.

use super::ast::*;
use super::errors::syntax_error;
use crate::diag::{Diagnostic, codes};
use pest::Parser;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/dl.pest"]
pub(super) struct DlParser;

/// Deeper bracket nesting than this is refused before parsing: no sensible
/// program comes near it, and a recursive-descent parser must not be driven
/// into a stack overflow by a hostile file.
pub const MAX_NESTING: usize = 64;
/// Most operators in the arguments of one layer, setting, source or shape.
/// With [`MAX_NESTING`] it bounds the depth of every expression tree, so
/// that evaluating (and dropping) one cannot exhaust the stack.
pub const MAX_EXPR_TERMS: usize = 256;

/// Parses a whole program. On failure, returns the syntax error(s).
pub fn parse(text: &str) -> Result<Program, Vec<Diagnostic>> {
    check_nesting(text)?;
    pest::set_error_detail(true);
    let mut pairs =
        DlParser::parse(Rule::program, text).map_err(|e| vec![syntax_error(text, e)])?;
    let program = pairs
        .next()
        .expect("pest returns the program rule on success");
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for pair in program.into_inner() {
        let built = match pair.as_rule() {
            Rule::data_decl => data_decl(pair).map(Item::Data),
            Rule::block_decl => block_decl(pair).map(Item::Block),
            Rule::network_decl => network_decl(pair).map(Item::Network),
            Rule::train_decl => train_decl(pair).map(Item::Train),
            _ => continue, // EOI
        };
        match built {
            Ok(item) => items.push(item),
            Err(d) => errors.push(*d),
        }
    }
    if errors.is_empty() {
        Ok(Program { items })
    } else {
        Err(errors)
    }
}

// Boxed: a diagnostic is large, and the happy path should stay small.
type Built<T> = Result<T, Box<Diagnostic>>;

fn span_of(pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

fn ident(pair: Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

fn data_decl(pair: Pair<Rule>) -> Built<DataDecl> {
    let span = span_of(&pair);
    let mut it = pair.into_inner();
    let _kw = it.next();
    let name = ident(it.next().expect("grammar: data name"));
    let source = call(it.next().expect("grammar: data source"), &mut budget())?;
    let settings = match it.next() {
        Some(p) => settings(p)?,
        None => Vec::new(),
    };
    Ok(DataDecl {
        name,
        source,
        settings,
        span,
    })
}

fn block_decl(pair: Pair<Rule>) -> Built<BlockDecl> {
    let span = span_of(&pair);
    let mut it = pair.into_inner();
    let _kw = it.next();
    let name = ident(it.next().expect("grammar: block name"));
    let mut params = Vec::new();
    let mut body = Vec::new();
    for p in it {
        match p.as_rule() {
            Rule::block_params => {
                for bp in p.into_inner() {
                    let mut parts = bp.into_inner();
                    let name = ident(parts.next().expect("grammar: parameter name"));
                    let default = parts.next().map(|e| expr(e, &mut budget())).transpose()?;
                    params.push(BlockParam { name, default });
                }
            }
            Rule::body => body = stmts(p)?,
            _ => {}
        }
    }
    Ok(BlockDecl {
        name,
        params,
        body,
        span,
    })
}

fn network_decl(pair: Pair<Rule>) -> Built<NetworkDecl> {
    let span = span_of(&pair);
    let mut it = pair.into_inner();
    let _kw = it.next();
    let name = ident(it.next().expect("grammar: network name"));
    let input = ident(it.next().expect("grammar: input name"));
    let input_shape = expr(it.next().expect("grammar: input shape"), &mut budget())?;
    let mut output = None;
    let mut body = Vec::new();
    for p in it {
        match p.as_rule() {
            Rule::expr => output = Some(expr(p, &mut budget())?),
            Rule::body => body = stmts(p)?,
            _ => {}
        }
    }
    Ok(NetworkDecl {
        name,
        input,
        input_shape,
        output,
        body,
        span,
    })
}

fn train_decl(pair: Pair<Rule>) -> Built<TrainDecl> {
    let span = span_of(&pair);
    let mut it = pair.into_inner();
    let _kw = it.next();
    let network = ident(it.next().expect("grammar: network name"));
    let _on = it.next();
    let data = ident(it.next().expect("grammar: data name"));
    let settings = settings(it.next().expect("grammar: train settings"))?;
    Ok(TrainDecl {
        network,
        data,
        settings,
        span,
    })
}

fn settings(pair: Pair<Rule>) -> Built<Vec<Setting>> {
    pair.into_inner()
        .map(|p| {
            let span = span_of(&p);
            let mut it = p.into_inner();
            let name = ident(it.next().expect("grammar: setting name"));
            let args = match it.next() {
                Some(a) => args(a, &mut budget())?,
                None => Vec::new(),
            };
            Ok(Setting { name, args, span })
        })
        .collect()
}

fn stmts(pair: Pair<Rule>) -> Built<Vec<Stmt>> {
    pair.into_inner().map(stmt).collect()
}

fn stmt(pair: Pair<Rule>) -> Built<Stmt> {
    let span = span_of(&pair);
    let mut bind = None;
    let mut head = Vec::new();
    let mut rest = Vec::new();
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => bind = Some(ident(p)),
            Rule::chain => {
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::merge => {
                            for s in c.into_inner().filter(|s| s.as_rule() == Rule::stage) {
                                head.push(stage(s)?);
                            }
                        }
                        Rule::stage => rest.push(stage(c)?),
                        _ => {} // arrows
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Stmt {
        bind,
        head,
        rest,
        span,
    })
}

fn stage(pair: Pair<Rule>) -> Built<Stage> {
    let span = span_of(&pair);
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("grammar: stage name"));
    let args = match it.next() {
        Some(a) => args(a, &mut budget())?,
        None => Vec::new(),
    };
    Ok(Stage { name, args, span })
}

/// The operators allowed in one layer's, setting's or source's arguments.
fn budget() -> usize {
    MAX_EXPR_TERMS
}

/// Arguments in parentheses or after a name; both rules hold `arg`s.
/// `ops` is the number of operators the arguments may still use.
fn args(pair: Pair<Rule>, ops: &mut usize) -> Built<Vec<Arg>> {
    pair.into_inner()
        .map(|p| {
            let span = span_of(&p);
            let mut name = None;
            let mut value = None;
            for part in p.into_inner() {
                match part.as_rule() {
                    Rule::ident => name = Some(ident(part)),
                    _ => value = Some(expr(part, ops)?),
                }
            }
            Ok(Arg {
                name,
                value: value.expect("grammar: argument value"),
                span,
            })
        })
        .collect()
}

fn call(pair: Pair<Rule>, ops: &mut usize) -> Built<Call> {
    let span = span_of(&pair);
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("grammar: call name"));
    let args = args(it.next().expect("grammar: call arguments"), ops)?;
    Ok(Call { name, args, span })
}

/// Builds `expr`/`term` chains left-associatively, and everything below
/// them; each operator uses one of `ops`.
fn expr(pair: Pair<Rule>, ops: &mut usize) -> Built<Expr> {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::expr | Rule::term => {
            let mut it = pair.into_inner();
            let mut lhs = expr(it.next().expect("grammar: operand"), ops)?;
            while let Some(op) = it.next() {
                if *ops == 0 {
                    return Err(too_long(span_of(&op)));
                }
                *ops -= 1;
                let op = match op.as_str().trim() {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "//" => BinOp::FloorDiv,
                    _ => BinOp::Div,
                };
                let rhs = expr(it.next().expect("grammar: operand after operator"), ops)?;
                let s = lhs.span.to(rhs.span);
                lhs = Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span: s,
                };
            }
            Ok(lhs)
        }
        Rule::unary => {
            let mut negs = 0usize;
            let mut atom = None;
            for p in pair.into_inner() {
                if p.as_rule() == Rule::neg {
                    negs += 1;
                } else {
                    atom = Some(expr(p, ops)?);
                }
            }
            let atom = atom.expect("grammar: operand");
            // `--x` is `x`: fold the signs so that a long run of them cannot nest deeply.
            Ok(if negs % 2 == 1 {
                Expr {
                    kind: ExprKind::Neg(Box::new(atom)),
                    span,
                }
            } else {
                atom
            })
        }
        Rule::power => {
            let mut it = pair.into_inner();
            let base = expr(it.next().expect("grammar: base"), ops)?;
            // Operands after each `**`, with their minus signs.
            let mut exponents = Vec::new();
            for p in it {
                if p.as_rule() == Rule::pow_op {
                    if *ops == 0 {
                        return Err(too_long(span_of(&p)));
                    }
                    *ops -= 1;
                    continue;
                }
                let mut negs = 0usize;
                let mut atom = None;
                for q in p.into_inner() {
                    if q.as_rule() == Rule::neg {
                        negs += 1;
                    } else {
                        atom = Some(expr(q, ops)?);
                    }
                }
                exponents.push((negs % 2 == 1, atom.expect("grammar: exponent")));
            }
            // From the right: `a ** -b ** c` is `a ** (-(b ** c))`.
            let mut acc: Option<Expr> = None;
            for (negated, atom) in exponents.into_iter().rev() {
                let mut e = match acc {
                    None => atom,
                    Some(rest) => pow(atom, rest),
                };
                if negated {
                    let span = e.span;
                    e = Expr {
                        kind: ExprKind::Neg(Box::new(e)),
                        span,
                    };
                }
                acc = Some(e);
            }
            Ok(match acc {
                None => base,
                Some(exponent) => pow(base, exponent),
            })
        }
        Rule::number => Ok(Expr {
            kind: ExprKind::Number(pair.as_str().to_string()),
            span,
        }),
        Rule::string => {
            let inner = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
            Ok(Expr {
                kind: ExprKind::Str(unescape(inner, span)?),
                span,
            })
        }
        Rule::boolean => Ok(Expr {
            kind: ExprKind::Bool(pair.as_str() == "true"),
            span,
        }),
        Rule::ident => Ok(Expr {
            kind: ExprKind::Name(pair.as_str().to_string()),
            span,
        }),
        Rule::call => Ok(Expr {
            kind: ExprKind::Call(call(pair, ops)?),
            span,
        }),
        Rule::list => Ok(Expr {
            kind: ExprKind::List(
                pair.into_inner()
                    .map(|p| expr(p, ops))
                    .collect::<Built<_>>()?,
            ),
            span,
        }),
        other => unreachable!("grammar: unexpected rule {other:?} in an expression"),
    }
}

fn unescape(s: &str, span: Span) -> Built<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            other => {
                let shown = other.map(|c| c.to_string()).unwrap_or_default();
                return Err(Box::new(
                    Diagnostic::error(
                        codes::BAD_STRING,
                        format!("unknown escape `\\{shown}` in a string"),
                        span,
                    )
                    .label("in this string")
                    .help("the escapes are \\n, \\t, \\\\ and \\\""),
                ));
            }
        }
    }
    Ok(out)
}

/// The error for an expression with more than [`MAX_EXPR_TERMS`] operators,
/// at the operator where the limit is passed: the whole expression may be
/// thousands of characters long.
fn too_long(at: Span) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(codes::SYNTAX, "expression is too long", at)
            .label(format!("more than {MAX_EXPR_TERMS} operators"))
            .help("write the value itself, or compute it with fewer operators"),
    )
}

/// `base ** exponent`.
fn pow(base: Expr, exponent: Expr) -> Expr {
    let span = base.span.to(exponent.span);
    Expr {
        kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)),
        span,
    }
}

/// Refuses input nested deeper than [`MAX_NESTING`] brackets.
fn check_nesting(text: &str) -> Result<(), Vec<Diagnostic>> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '#' => in_comment = true,
            '"' => in_string = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    let span = Span::new(i, i + 1);
                    return Err(vec![
                        Diagnostic::error(codes::SYNTAX, "brackets are nested too deeply", span)
                            .label(format!("this bracket is {depth} levels deep"))
                            .help(format!(
                                "dlc accepts at most {MAX_NESTING} levels of nesting"
                            )),
                    ]);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
