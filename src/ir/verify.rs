//! The verifier: checks every node's stored shape against its op's rule
//! ([`super::rules`], the same rule the builders use) and the graph's other
//! invariants. It runs after lowering and after every pass, so a pass that
//! breaks the graph is caught where it broke it.
//!
//! It reports every broken invariant, not the first: a pass that goes wrong
//! usually breaks several nodes, and the pattern (every node of one layer, or
//! every reader of one value) says more about the bug than any one of them.
//! Each error keeps the node's origin, so that it can be shown as an internal
//! compiler error at the layer that was being compiled.

use super::graph::{Graph, Origin, Sink, sink_value};
use super::print::{op_text, sink_text};
use super::shape::Shape;
use crate::diag::{Diagnostic, codes};
use crate::syntax::Span;
use std::collections::HashSet;
use std::fmt;

/// One broken invariant, at a node (for a sink, the node it names).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("node %{node}{}: {message}", in_layer(origin))]
pub struct VerifyError {
    pub node: usize,
    pub message: String,
    pub origin: Option<Origin>,
}

fn in_layer(origin: &Option<Origin>) -> String {
    origin
        .as_ref()
        .map(|o| format!(" (layer `{}`)", o.layer))
        .unwrap_or_default()
}

/// Every invariant a graph breaks, in node order, then the sinks'.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct VerifyErrors(pub Vec<VerifyError>);

impl fmt::Display for VerifyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "IR verifier: {one}"),
            all => {
                write!(f, "IR verifier: {} errors", all.len())?;
                all.iter().try_for_each(|e| write!(f, "\n  {e}"))
            }
        }
    }
}

impl VerifyErrors {
    /// The errors as internal-compiler-error diagnostics, each at the span of
    /// the layer its node came from (a node a pass made without an origin
    /// points at the start of the program).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.0
            .iter()
            .map(|e| {
                let (span, label) = match &e.origin {
                    Some(o) => (o.span, format!("while compiling layer `{}`", o.layer)),
                    None => (Span::new(0, 0), "in code dlc added to the program".into()),
                };
                Diagnostic::error(
                    codes::INTERNAL,
                    format!(
                        "internal compiler error: IR node %{}: {}",
                        e.node, e.message
                    ),
                    span,
                )
                .label(label)
                .help(
                    "this is a bug in dlc, not in your program: please report it, \
                     with this program attached",
                )
            })
            .collect()
    }
}

pub fn verify(g: &Graph) -> Result<(), VerifyErrors> {
    let mut errors = Vec::new();
    for (i, node) in g.nodes.iter().enumerate() {
        let mut fail = |message: String| {
            errors.push(VerifyError {
                node: i,
                message,
                origin: node.origin.clone(),
            })
        };
        let early: Vec<_> = node
            .op
            .operands()
            .into_iter()
            .filter(|o| o.index() >= i)
            .collect();
        for o in &early {
            fail(format!("reads {o}, which is not defined before it"));
        }
        if !early.is_empty() {
            continue; // the operands' shapes are unknown
        }
        match g.rule_shape(&node.op, Some(&node.shape)) {
            Ok(want) if want == node.shape => {}
            Ok(want) => fail(format!(
                "`{}` should have shape {want}, has {}",
                op_text(&node.op),
                node.shape
            )),
            Err(e) => fail(format!("`{}`: {e}", op_text(&node.op))),
        }
    }
    check_sinks(g, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyErrors(errors))
    }
}

/// Each sink names a node of the right shape, and no two write one place.
fn check_sinks(g: &Graph, errors: &mut Vec<VerifyError>) {
    let mut written = HashSet::new();
    for s in &g.sinks {
        let v = sink_value(s).index();
        let text = sink_text(g, s);
        let mut fail = |message: String| {
            errors.push(VerifyError {
                node: v,
                message: format!("sink `{text}`: {message}"),
                origin: g.nodes.get(v).and_then(|n| n.origin.clone()),
            })
        };
        // Two results for one place: which one the runtime sees would depend
        // on the order of the copies.
        let place = match s {
            Sink::Loss(_) => (0, 0),
            Sink::Output(_) => (1, 0),
            Sink::Grad(p, _) => (2, p.index()),
            Sink::Param(p, _) => (3, p.index()),
            Sink::State(st, _) => (4, st.index()),
        };
        if !written.insert(place) {
            fail("a second sink writes the same result".into());
        }
        let Some(node) = g.nodes.get(v) else {
            fail("names a node that does not exist".into());
            continue;
        };
        let shape = &node.shape;
        if matches!(s, Sink::Loss(_)) && shape.rank() != 0 {
            fail(format!("the loss must be a scalar, not {shape}"));
        }
        let tensor = match s {
            Sink::Grad(p, _) | Sink::Param(p, _) => {
                Some(g.params.get(p.index()).map(|i| (&i.name, &i.shape)))
            }
            Sink::State(st, _) => Some(g.states.get(st.index()).map(|i| (&i.name, &i.shape))),
            Sink::Loss(_) | Sink::Output(_) => None,
        };
        match tensor {
            Some(None) => fail("names a tensor that does not exist".into()),
            Some(Some((name, want))) if *shape != Shape::fixed(want) => fail(format!(
                "`{name}` has shape {}, the value {shape}",
                Shape::fixed(want)
            )),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Source, render};
    use crate::ir::parse_graph;

    const PROGRAM: &str = "network n(x: [2]) -> 3 {\n    dense 3\n}\n";

    /// `dense 3` is at bytes 29..36 of [`PROGRAM`]; its matmul is shaped wrong.
    const BROKEN: &str = "\
param 0 dense1.weight : [3, 2] init xavier
%0 = input features : [N, 2]
%1 = param 0 : [3, 2]                 # dense1 @29..36
%2 = matmul %0, %1^T : [N, 2]         # dense1 @29..36
%3 = exp %4 : [N, 3]
output %2
";

    #[test]
    fn every_error_is_reported_with_its_origin() {
        let errors = verify(&parse_graph(BROKEN).unwrap()).unwrap_err().0;
        let nodes: Vec<usize> = errors.iter().map(|e| e.node).collect();
        assert_eq!(nodes, vec![2, 3]);
        assert_eq!(errors[0].origin.as_ref().unwrap().layer, "dense1");
        assert_eq!(errors[1].origin, None);
    }

    #[test]
    fn errors_become_internal_compiler_errors_at_their_layer() {
        let errors = verify(&parse_graph(BROKEN).unwrap()).unwrap_err();
        let diags = errors.diagnostics();
        assert_eq!(diags.len(), 2);
        assert!(
            diags
                .iter()
                .all(|d| d.code == codes::INTERNAL && d.is_error())
        );
        assert_eq!(diags[0].primary.span, Span::new(29, 36));
        assert!(diags[0].primary.message.contains("`dense1`"));
        assert!(diags[0].help.as_deref().unwrap().contains("report"));
        let source = Source {
            name: "n.dl",
            text: PROGRAM,
        };
        let shown = render(&source, &diags[..1], false);
        assert!(
            shown.contains("error[E0901]: internal compiler error"),
            "{shown}"
        );
        assert!(shown.contains("n.dl:2:5"), "{shown}");
        assert!(shown.contains("dense 3"), "{shown}");
    }

    #[test]
    fn one_error_displays_on_one_line_and_several_one_a_line() {
        let g = parse_graph(BROKEN).unwrap();
        let all = verify(&g).unwrap_err();
        assert_eq!(all.to_string().lines().count(), 3);
        let one = VerifyErrors(all.0[..1].to_vec());
        assert!(
            one.to_string()
                .starts_with("IR verifier: node %2 (layer `dense1`)")
        );
    }
}
