//! The verifier: checks every node's stored shape against its op's rule
//! ([`super::rules`], the same rule the builders use) and the graph's other
//! invariants. It runs after lowering and after every pass,
//! so a pass that breaks the graph is caught where it broke it.

use super::graph::{Graph, Sink, sink_value};
use super::print::op_text;
use super::shape::Shape;

#[derive(Debug, thiserror::Error)]
#[error("IR verifier: node %{node}: {message}")]
pub struct VerifyError {
    pub node: usize,
    pub message: String,
}

pub fn verify(g: &Graph) -> Result<(), VerifyError> {
    for (i, node) in g.nodes.iter().enumerate() {
        let fail = |message: String| VerifyError { node: i, message };
        for o in node.op.operands() {
            if o.index() >= i {
                return Err(fail(format!("reads {o}, which is not defined before it")));
            }
        }
        check_node(g, i).map_err(fail)?;
    }
    for s in &g.sinks {
        let v = sink_value(s);
        let err = |message: String| VerifyError {
            node: v.index(),
            message,
        };
        if v.index() >= g.nodes.len() {
            return Err(err("a sink names a missing node".into()));
        }
        let shape = g.shape(v);
        match s {
            Sink::Loss(_) if shape.rank() != 0 => {
                return Err(err(format!("the loss must be a scalar, not {shape}")));
            }
            Sink::Grad(p, _) | Sink::Param(p, _) if *shape != Shape::fixed(&g.params[*p].shape) => {
                return Err(err(format!(
                    "parameter {} has shape {:?}, its sink {shape}",
                    g.params[*p].name, g.params[*p].shape
                )));
            }
            Sink::State(st, _) if *shape != Shape::fixed(&g.states[*st].shape) => {
                return Err(err(format!(
                    "state {} has shape {:?}, its sink {shape}",
                    g.states[*st].name, g.states[*st].shape
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The node's stored shape against its op's rule (the builders' rule too).
fn check_node(g: &Graph, i: usize) -> Result<(), String> {
    let node = &g.nodes[i];
    match g.rule_shape(&node.op, Some(&node.shape)) {
        Ok(want) if want == node.shape => Ok(()),
        Ok(want) => Err(format!(
            "`{}` should have shape {want}, has {}",
            op_text(&node.op),
            node.shape
        )),
        Err(e) => Err(format!("`{}`: {e}", op_text(&node.op))),
    }
}
