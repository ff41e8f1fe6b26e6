//! The nodes each layer lowered to, found by their origin, and whether they
//! form one function of one value: the form a layer must have for its nodes
//! to be replaced by one ONNX operator.
//!
//! A region qualifies when the rest of the graph reads it through one node
//! only (its output) and it reads one value from outside only (its input);
//! everything else it reads (parameters, statistics, constants) is its own.
//! Anything else (a layer whose nodes are shared, or read from elsewhere) is
//! left out, and its nodes are translated one by one.

use crate::ir::{Graph, Op, ParamId, StateId, ValueId};
use std::collections::HashMap;

/// One layer's needed nodes, with one input and one output.
pub struct Region {
    /// Its nodes, in graph order.
    pub nodes: Vec<usize>,
    /// The one value from outside the region that it reads.
    pub input: ValueId,
    /// The one node whose value the rest of the graph reads.
    pub output: usize,
    /// The parameters and states its nodes read.
    pub params: Vec<ParamId>,
    pub states: Vec<StateId>,
}

/// The nodes of one layer while they are collected.
#[derive(Default)]
struct Parts {
    nodes: Vec<usize>,
    inputs: Vec<ValueId>,
}

/// The region of each layer (by name) whose needed nodes have one input and
/// one output; `output` is the graph's output node.
pub fn regions<'g>(g: &'g Graph, needed: &[bool], output: usize) -> HashMap<&'g str, Region> {
    let layer = |i: usize| g.nodes[i].origin.as_ref().map(|o| o.layer.as_str());
    let mut parts: HashMap<&str, Parts> = HashMap::new();
    let mut read_outside = vec![false; g.nodes.len()];
    read_outside[output] = true;
    for (i, node) in g.nodes.iter().enumerate() {
        if !needed[i] {
            continue;
        }
        let here = layer(i);
        let mut part = here.map(|name| parts.entry(name).or_default());
        for v in node.op.operands() {
            if layer(v.index()) == here {
                continue;
            }
            read_outside[v.index()] = true;
            if let Some(p) = part.as_mut().filter(|p| !p.inputs.contains(&v)) {
                p.inputs.push(v);
            }
        }
        if let Some(p) = part {
            p.nodes.push(i);
        }
    }
    parts
        .into_iter()
        .filter_map(|(name, p)| {
            let [input] = p.inputs[..] else { return None };
            let outputs: Vec<usize> = p
                .nodes
                .iter()
                .copied()
                .filter(|&i| read_outside[i])
                .collect();
            let [output] = outputs[..] else { return None };
            let params = (p.nodes.iter())
                .filter_map(|&i| match g.nodes[i].op {
                    Op::Param(id) => Some(id),
                    _ => None,
                })
                .collect();
            let states = (p.nodes.iter())
                .filter_map(|&i| match g.nodes[i].op {
                    Op::State(id) => Some(id),
                    _ => None,
                })
                .collect();
            let region = Region {
                nodes: p.nodes,
                input,
                output,
                params,
                states,
            };
            Some((name, region))
        })
        .collect()
}
