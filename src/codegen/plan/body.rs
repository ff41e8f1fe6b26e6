//! Building a fused elementwise [`Body`]: the instructions of a value and of
//! every non-materialized value it reads, with loads for the rest.

use super::planner::{Planner, is_elementwise, is_view};
use super::*;
use std::collections::HashMap;

pub(super) struct BodyBuilder<'p, 'g> {
    planner: &'p Planner<'g>,
    inputs: Vec<Buf>,
    /// The value each input holds (a view's source), for the plan verifier.
    values: Vec<usize>,
    instrs: Vec<Instr>,
    done: HashMap<usize, usize>,
}

impl<'p, 'g> BodyBuilder<'p, 'g> {
    pub(super) fn new(planner: &'p Planner<'g>) -> Self {
        BodyBuilder {
            planner,
            inputs: Vec::new(),
            values: Vec::new(),
            instrs: Vec::new(),
            done: HashMap::new(),
        }
    }

    /// The body, and the value each of its inputs holds.
    pub(super) fn finish(self, shape: Shape) -> (Body, Vec<usize>) {
        let body = Body {
            shape,
            inputs: self.inputs,
            instrs: self.instrs,
        };
        (body, self.values)
    }

    fn push(&mut self, i: Instr) -> usize {
        self.instrs.push(i);
        self.instrs.len() - 1
    }

    /// Emits node `i`; a materialized node other than the root is loaded.
    pub(super) fn emit(&mut self, i: usize, root: bool) -> Result<usize, PlanError> {
        if let Some(&r) = self.done.get(&i) {
            return Ok(r);
        }
        let p = self.planner;
        let node = &p.g.nodes[i];
        let load_it = !root && (p.materialized[i] || is_view(&node.op));
        let r = if load_it || !is_elementwise(&node.op) {
            // Materialized values, views and reduction inputs are loads.
            self.load(i)?
        } else {
            match &node.op {
                Op::Fill(v) => self.push(Instr::Const(*v)),
                Op::Unary(op, x) => {
                    let a = self.emit(x.index(), false)?;
                    self.push(Instr::Unary(*op, a))
                }
                Op::Binary(op, x, y) => {
                    let a = self.emit(x.index(), false)?;
                    let b = self.emit(y.index(), false)?;
                    self.push(Instr::Binary(*op, a, b))
                }
                Op::Select(c, x, y) => {
                    let c = self.emit(c.index(), false)?;
                    let a = self.emit(x.index(), false)?;
                    let b = self.emit(y.index(), false)?;
                    self.push(Instr::Select(c, a, b))
                }
                Op::Expand(x) => {
                    // The operand has another shape, so it is loaded with
                    // broadcasting (or is a constant).
                    self.emit(x.index(), false)?
                }
                Op::OneHot(labels) => {
                    // labels [N] read as [N, 1] and compared with the column index.
                    let buf = Buf {
                        loc: p.loc(labels.index())?,
                        shape: Shape(vec![Dim::N, Dim::K(1)]),
                    };
                    let slot = self.input(buf, p.view_source(labels.index()));
                    let l = self.push(Instr::Load(slot));
                    let c = self.push(Instr::Index(1));
                    self.push(Instr::Binary(BinaryOp::Eq, l, c))
                }
                Op::DropoutMask { rate, salt } => self.push(Instr::Dropout {
                    rate: *rate,
                    salt: *salt,
                }),
                // Leaves and the rest are loads (handled above).
                _ => self.load(i)?,
            }
        };
        self.done.insert(i, r);
        Ok(r)
    }

    /// The slot of `buf` holding `value`: one slot per buffer, unless two
    /// values claim one buffer, which the plan verifier then reports.
    fn input(&mut self, buf: Buf, value: usize) -> usize {
        let same = |(b, v): (&Buf, &usize)| *b == buf && *v == value;
        match self.inputs.iter().zip(&self.values).position(same) {
            Some(s) => s,
            None => {
                self.inputs.push(buf);
                self.values.push(value);
                self.inputs.len() - 1
            }
        }
    }

    fn load(&mut self, i: usize) -> Result<usize, PlanError> {
        let p = self.planner;
        let buf = Buf {
            loc: p.loc(i)?,
            shape: p.g.nodes[i].shape.clone(),
        };
        let slot = self.input(buf, p.view_source(i));
        Ok(self.push(Instr::Load(slot)))
    }
}
