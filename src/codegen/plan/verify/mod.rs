//! The plan verifier: checks that a kernel plan's memory does what its graph
//! says, between planning and code generation. It runs on every plan in
//! debug builds and in the tests; release builds trust the planner.
//!
//! A mistake in buffer assignment does not crash: the generated code reads a
//! neighbour's floats and the model trains a little worse. Checking the plan
//! against the memory rules finds such a mistake at the kernel that makes it.
//!
//! # What the planner guarantees
//!
//! Read from `planner.rs`; each is checked here.
//!
//! 1. Kernels run in the order listed: one per materialized value, in node
//!    order, then a copy for each result that could not be computed at its
//!    sink's destination.
//! 2. Leaves get no kernel: inputs, parameters, state, the gradients an
//!    update reads and the scalars are where the runtime put them (the
//!    [`Layout`]'s offsets, one slot per scalar) before the first kernel.
//! 3. Views (reshape, detach) own no memory: a kernel reads a view at its
//!    source's buffer, as the same number of floats.
//! 4. A value's buffer is its own from the kernel that writes it through the
//!    last kernel that reads it (scratch is first fit over these ranges,
//!    inclusive at both ends), so no two live values overlap, and no kernel
//!    writes over scratch it reads but as rule 5 allows.
//! 5. The only kernel that writes over a value it reads is an elementwise
//!    one (the update of a parameter or state, or any loop over a scratch
//!    value it reads for the last time), reading the old value at exactly
//!    the element it writes (the same place, and the loop's own shape, not
//!    broadcast), after every other reader of the old value. A matrix
//!    product, a convolution, pooling, a reduction, a concatenation, a slice
//!    or a copy never overlaps its operands: each reads elements it has
//!    already written over, or would.
//! 6. After the last kernel, each sink's destination holds its value.
//! 7. Every buffer lies inside its memory: scratch within `scratch_len`,
//!    parameters, gradients and state within the layout.
//!
//! The planner records which value each buffer holds ([`Plan::values`]); the
//! checks replay the kernels over an imagined memory ([`memory`]) that knows,
//! for each float, the value last written there: a read must find its value
//! everywhere in its buffer (not another value's floats, not nothing).
//!
//! Values are named by node index, and a view by its source; the nodes that
//! read one leaf (two `param 0` nodes) count as one value.

mod memory;
#[cfg(test)]
mod tests;

use super::planner::numel_checked;
use super::*;
use memory::{Found, Memory, Region, Writer};
use std::fmt;

/// One broken rule of a plan. Kernels are numbered as in the plan's text.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlanViolation {
    #[error("the plan has {kernels} kernels but records values for {values}")]
    Records { kernels: usize, values: usize },
    #[error("k{kernel}: {buffers} buffers {what}, but {recorded} values recorded")]
    Buffers {
        kernel: usize,
        what: &'static str,
        buffers: usize,
        recorded: usize,
    },
    #[error("k{kernel}: records %{value}, which is not a node of the graph")]
    UnknownValue { kernel: usize, value: usize },
    #[error("k{kernel}: reads %{value} ({want} floats) as {got} floats at {at}")]
    Size {
        kernel: usize,
        value: usize,
        want: usize,
        got: usize,
        at: String,
    },
    #[error("k{kernel}: {at} lies outside its memory ({len} floats)")]
    OutOfBounds {
        kernel: usize,
        at: String,
        len: usize,
    },
    #[error("k{kernel} ({kind}) writes %{written} over its operand %{read} at {at}")]
    InPlace {
        kernel: usize,
        kind: &'static str,
        read: usize,
        written: usize,
        at: String,
    },
    #[error("%{a} (live {a_live}) and %{b} (live {b_live}) share {at}")]
    Overlap {
        a: usize,
        b: usize,
        a_live: String,
        b_live: String,
        at: String,
    },
    #[error("k{kernel} reads %{value} at {at}, overwritten by %{by} ({writer})")]
    Clobbered {
        kernel: usize,
        value: usize,
        at: String,
        by: usize,
        writer: String,
    },
    #[error("k{kernel} reads %{value} at {at}, where nothing has been written")]
    Unwritten {
        kernel: usize,
        value: usize,
        at: String,
    },
    #[error("sink `{sink}`: {at} does not hold %{value} after the last kernel")]
    Sink {
        sink: String,
        value: usize,
        at: String,
    },
}

/// Every rule a plan breaks, in kernel order (overlaps last).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct PlanViolations(pub Vec<PlanViolation>);

impl fmt::Display for PlanViolations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(|v| v.to_string()).collect();
        f.write_str(&all.join("; "))
    }
}

/// A value's time in a buffer: written at `def`, last read at `last`.
/// Time 0 is before the first kernel, kernel `k` runs at `k + 1`.
struct Placement {
    value: usize,
    region: Region,
    def: usize,
    last: usize,
}

/// Checks `plan` against the graph it was planned from.
pub fn verify_plan(g: &Graph, plan: &Plan) -> Result<(), PlanViolations> {
    let mut v = Verifier::new(g, plan);
    if v.check_records() {
        v.replay();
    }
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(PlanViolations(v.errors))
    }
}

struct Verifier<'a> {
    g: &'a Graph,
    plan: &'a Plan,
    /// Per node, the value it stands for (views and repeated leaves merged).
    canon: Vec<usize>,
    memory: Memory,
    placements: Vec<Placement>,
    /// `(time, read value, written value)` of exact elementwise aliases.
    in_place: Vec<(usize, usize, usize)>,
    errors: Vec<PlanViolation>,
}

impl<'a> Verifier<'a> {
    fn new(g: &'a Graph, plan: &'a Plan) -> Self {
        let mut canon: Vec<usize> = (0..g.nodes.len()).collect();
        for i in 0..g.nodes.len() {
            let op = &g.nodes[i].op;
            canon[i] = match op {
                Op::Reshape(x) | Op::Detach(x) if x.index() < i => canon[x.index()],
                _ if leaf_loc(g, &plan.layout, op).is_some() => {
                    g.nodes.iter().position(|n| n.op == *op).unwrap_or(i)
                }
                _ => i,
            };
        }
        Verifier {
            g,
            plan,
            canon,
            memory: Memory::default(),
            placements: Vec::new(),
            in_place: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Whether the records fit the kernels (else nothing else can be checked).
    fn check_records(&mut self) -> bool {
        let (kernels, values) = (self.plan.kernels.len(), self.plan.values.len());
        if kernels != values {
            self.errors.push(PlanViolation::Records { kernels, values });
            return false;
        }
        for (kernel, (k, rec)) in self.plan.kernels.iter().zip(&self.plan.values).enumerate() {
            let counts = [
                ("read", k.reads().len(), rec.reads.len()),
                ("written", k.writes().len(), rec.writes.len()),
            ];
            for (what, buffers, recorded) in counts {
                if buffers != recorded {
                    self.errors.push(PlanViolation::Buffers {
                        kernel,
                        what,
                        buffers,
                        recorded,
                    });
                }
            }
            for &value in rec.reads.iter().chain(&rec.writes) {
                if value >= self.g.nodes.len() {
                    self.errors
                        .push(PlanViolation::UnknownValue { kernel, value });
                }
            }
        }
        self.errors.is_empty()
    }

    fn floats(&self, shape: &Shape) -> usize {
        numel_checked(shape, self.plan.max_batch).unwrap_or(usize::MAX)
    }

    fn replay(&mut self) {
        let (g, plan) = (self.g, self.plan);
        for (i, node) in g.nodes.iter().enumerate() {
            if let Some(loc) = leaf_loc(g, &plan.layout, &node.op).filter(|_| self.canon[i] == i) {
                let region = Region::new(loc, self.floats(&node.shape));
                self.memory.write(
                    region,
                    Writer {
                        value: i,
                        kernel: None,
                    },
                );
                self.placements.push(Placement {
                    value: i,
                    region,
                    def: 0,
                    last: 0,
                });
            }
        }
        for (k, (kernel, rec)) in plan.kernels.iter().zip(&plan.values).enumerate() {
            self.run(k, kernel, rec);
        }
        self.check_sinks();
        self.check_overlaps();
    }

    /// One kernel: its reads against memory, then its writes into it.
    fn run(&mut self, k: usize, kernel: &Kernel, rec: &KernelValues) {
        let time = k + 1;
        let reads: Vec<(Region, usize, &Buf)> = kernel
            .reads()
            .into_iter()
            .zip(&rec.reads)
            .map(|(b, &v)| (Region::new(b.loc, self.floats(&b.shape)), self.canon[v], b))
            .collect();
        for &(region, value, _) in &reads {
            let want = self.floats(&self.g.nodes[value].shape);
            if want != region.len {
                self.errors.push(PlanViolation::Size {
                    kernel: k,
                    value,
                    want,
                    got: region.len,
                    at: region.to_string(),
                });
            }
            self.bounds(k, region);
            self.read(k, region, value, time);
        }
        let writes: Vec<(Region, usize, Loc, Shape)> = kernel
            .writes()
            .into_iter()
            .zip(&rec.writes)
            .map(|((loc, shape), &v)| {
                (
                    Region::new(loc, self.floats(&shape)),
                    self.canon[v],
                    loc,
                    shape,
                )
            })
            .collect();
        for (region, value, loc, shape) in writes {
            for &(r, read, buf) in &reads {
                if !r.overlaps(&region) || read == value {
                    continue;
                }
                // Elementwise, each element read where it is written, not broadcast.
                let exact = matches!(kernel, Kernel::Elementwise { .. })
                    && buf.loc == loc
                    && buf.shape == shape;
                if exact {
                    self.in_place.push((time, read, value));
                } else {
                    self.errors.push(PlanViolation::InPlace {
                        kernel: k,
                        kind: kernel.kind(),
                        read,
                        written: value,
                        at: r.to_string(),
                    });
                }
            }
            self.bounds(k, region);
            self.memory.write(
                region,
                Writer {
                    value,
                    kernel: Some(k),
                },
            );
            self.placements.push(Placement {
                value,
                region,
                def: time,
                last: time,
            });
        }
    }

    /// A read must find its value in every float of its buffer.
    fn read(&mut self, k: usize, region: Region, value: usize, time: usize) {
        match self.memory.check(region, value) {
            Ok(()) => {}
            Err(Found::Other(w)) => self.errors.push(PlanViolation::Clobbered {
                kernel: k,
                value,
                at: region.to_string(),
                by: w.value,
                writer: w
                    .kernel
                    .map_or("before the first kernel".into(), |k| format!("k{k}")),
            }),
            Err(Found::Nothing) => self.errors.push(PlanViolation::Unwritten {
                kernel: k,
                value,
                at: region.to_string(),
            }),
        }
        self.touch(value, region, time);
    }

    /// Extends the life of the placement `value` was read from.
    fn touch(&mut self, value: usize, region: Region, time: usize) {
        let at = self.placements.iter_mut().rev().find(|p| {
            p.value == value
                && p.region.base == region.base
                && p.region.start == region.start
                && p.def <= time
        });
        if let Some(p) = at {
            p.last = p.last.max(time);
        }
    }

    fn bounds(&mut self, kernel: usize, region: Region) {
        let l = &self.plan.layout;
        let len = match region.base {
            Base::Scratch => self.plan.scratch_len,
            Base::Params | Base::Grads => l.params_len,
            Base::States => l.states_len,
            Base::Scalars => ScalarKind::ALL.len(),
            Base::Loss => 1,
            // Sized by the caller per batch.
            Base::Features | Base::Labels | Base::ClassWeights | Base::Output => return,
        };
        if region.end() > len {
            self.errors.push(PlanViolation::OutOfBounds {
                kernel,
                at: region.to_string(),
                len,
            });
        }
    }

    fn check_sinks(&mut self) {
        let end = self.plan.kernels.len() + 1;
        for s in &self.g.sinks {
            let v = sink_value(s).index();
            let Some(node) = self.g.nodes.get(v) else {
                continue; // the graph verifier's concern
            };
            let Some(loc) = sink_loc(&self.plan.layout, s) else {
                continue;
            };
            let (value, region) = (self.canon[v], Region::new(loc, self.floats(&node.shape)));
            if self.memory.check(region, value).is_err() {
                self.errors.push(PlanViolation::Sink {
                    sink: sink_text(self.g, s),
                    value,
                    at: region.to_string(),
                });
            }
            // The runtime reads the result after the last kernel.
            self.touch(value, region, end);
        }
    }

    /// No two values' buffers overlap while both are live, but for an
    /// in-place elementwise kernel, where one value's life ends as the
    /// other's begins.
    fn check_overlaps(&mut self) {
        let mut by_start: Vec<&Placement> = self.placements.iter().collect();
        by_start.sort_by_key(|p| (p.region.base as usize, p.region.start));
        let end = self.plan.kernels.len() + 1;
        let live = |p: &Placement| {
            let from = if p.def == 0 {
                "from the start".into()
            } else {
                format!("k{}", p.def - 1)
            };
            let to = if p.last == end {
                "the end".into()
            } else {
                format!("k{}", p.last - 1)
            };
            match (p.def, p.last) {
                (d, l) if d == l && d > 0 => format!("at {from}"),
                (0, 0) => "before the first kernel".into(),
                _ => format!("{from} to {to}"),
            }
        };
        for (i, a) in by_start.iter().enumerate() {
            for b in &by_start[i + 1..] {
                if b.region.base != a.region.base || b.region.start >= a.region.end() {
                    break;
                }
                if !a.region.overlaps(&b.region) || a.value == b.value {
                    continue;
                }
                let (first, second) = if a.def <= b.def { (a, b) } else { (b, a) };
                if second.def > first.last {
                    continue; // one's life ends before the other's begins
                }
                let handed_over = second.def == first.last
                    && self
                        .in_place
                        .contains(&(second.def, first.value, second.value));
                if !handed_over {
                    let at = Region {
                        start: a.region.start.max(b.region.start),
                        len: a.region.end().min(b.region.end())
                            - a.region.start.max(b.region.start),
                        ..a.region
                    };
                    self.errors.push(PlanViolation::Overlap {
                        a: first.value,
                        b: second.value,
                        a_live: live(first),
                        b_live: live(second),
                        at: at.to_string(),
                    });
                }
            }
        }
    }
}

/// Where the runtime puts a leaf, if `op` is one.
fn leaf_loc(g: &Graph, layout: &Layout, op: &Op) -> Option<Loc> {
    let at = |base, offset: Option<&usize>| offset.map(|&offset| Loc { base, offset });
    match op {
        Op::Param(p) => at(Base::Params, layout.params.get(p.index())),
        Op::GradIn(p) => at(Base::Grads, layout.params.get(p.index())),
        Op::State(s) if s.index() < g.states.len() => {
            at(Base::States, layout.states.get(s.index()))
        }
        Op::Scalar(k) => at(Base::Scalars, Some(&k.slot())),
        Op::Input(InputKind::Features) => at(Base::Features, Some(&0)),
        Op::Input(InputKind::ClassWeights) => at(Base::ClassWeights, Some(&0)),
        Op::Input(_) => at(Base::Labels, Some(&0)),
        _ => None,
    }
}

/// Where the runtime reads a sink's result.
fn sink_loc(layout: &Layout, s: &Sink) -> Option<Loc> {
    let at = |base, offset: Option<&usize>| offset.map(|&offset| Loc { base, offset });
    match s {
        Sink::Loss(_) => at(Base::Loss, Some(&0)),
        Sink::Output(_) => at(Base::Output, Some(&0)),
        Sink::Grad(p, _) => at(Base::Grads, layout.params.get(p.index())),
        Sink::Param(p, _) => at(Base::Params, layout.params.get(p.index())),
        Sink::State(st, _) => at(Base::States, layout.states.get(st.index())),
    }
}
