//! The planner proper: which values get memory, where, and the kernel list.

use super::body::BodyBuilder;
use super::*;
use std::collections::HashMap;

pub(super) struct Planner<'g> {
    pub(super) g: &'g Graph,
    max_batch: usize,
    layout: Layout,
    pub(super) uses: Vec<Vec<usize>>,
    /// Whether a value gets memory of its own (else it is fused, a view or
    /// an inline constant).
    pub(super) materialized: Vec<bool>,
    locs: Vec<Option<Loc>>,
    is_sink: Vec<bool>,
    /// Whether a value is needed by a sink (dead values get no kernel: the
    /// backward pass builds gradients for inputs that nothing reads).
    live: Vec<bool>,
}

impl<'g> Planner<'g> {
    pub(super) fn new(g: &'g Graph, max_batch: usize, layout: Layout) -> Self {
        let mut is_sink = vec![false; g.nodes.len()];
        for s in &g.sinks {
            is_sink[sink_value(s).index()] = true;
        }
        let mut live = is_sink.clone();
        for i in (0..g.nodes.len()).rev() {
            if live[i] {
                for o in g.nodes[i].op.operands() {
                    live[o.index()] = true;
                }
            }
        }
        // Readers are counted among live nodes only.
        let mut uses = vec![Vec::new(); g.nodes.len()];
        for (i, n) in g.nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
            for o in n.op.operands() {
                uses[o.index()].push(i);
            }
        }
        Planner {
            g,
            max_batch,
            layout,
            uses,
            materialized: vec![false; g.nodes.len()],
            locs: vec![None; g.nodes.len()],
            is_sink,
            live,
        }
    }

    pub(super) fn run(mut self) -> Result<Plan, PlanError> {
        self.decide_materialization();
        let sink_dest = self.sink_destinations();
        let order: Vec<usize> = (0..self.g.nodes.len())
            .filter(|&i| self.live[i] && self.materialized[i] && !is_leaf(&self.g.nodes[i].op))
            .collect();
        // Locations: leaves and in-place sinks first, then scratch by liveness.
        self.assign_fixed_locations(&sink_dest);
        let scratch_len = self.assign_scratch(&order)?;
        let mut kernels = Vec::with_capacity(order.len());
        let mut values = Vec::with_capacity(order.len());
        for &i in &order {
            let (k, v) = self.kernel(i)?;
            kernels.push(k);
            values.push(v);
        }
        // Sinks whose value could not be computed in place are copied at the end.
        for s in &self.g.sinks {
            let v = sink_value(s).index();
            let dest = self.sink_loc(s);
            let at = self.loc(v)?;
            if at != dest {
                kernels.push(Kernel::Copy {
                    from: Buf {
                        loc: at,
                        shape: self.g.nodes[v].shape.clone(),
                    },
                    to: dest,
                });
                let src = self.view_source(v);
                values.push(KernelValues {
                    reads: vec![src],
                    writes: vec![src],
                });
            }
        }
        let mut plan = Plan {
            kernels,
            values,
            scratch_len,
            max_batch: self.max_batch,
            layout: self.layout,
        };
        super::merge::merge_elementwise(&mut plan);
        Ok(plan)
    }

    fn decide_materialization(&mut self) {
        let g = self.g;
        for i in 0..g.nodes.len() {
            let node = &g.nodes[i];
            let readers = &self.uses[i];
            self.materialized[i] = match &node.op {
                op if is_leaf(op) => true,
                Op::Reshape(_) | Op::Detach(_) => false,
                // Constants are repeated inside every loop that reads them.
                Op::Fill(_) if self.is_inline_const(i) => false,
                op if is_elementwise(op) => {
                    let single = readers.len() == 1 && !self.is_sink[i];
                    let fusable = single && {
                        let r = &g.nodes[readers[0]];
                        (is_elementwise(&r.op) && r.shape == node.shape)
                            || matches!(r.op, Op::Sum(..) | Op::Max(..))
                                && self.same_shape_input(readers[0], i)
                    };
                    !fusable
                }
                _ => true,
            };
        }
        // A view's memory is its source's: the source must have memory.
        for i in (0..g.nodes.len()).filter(|&i| self.live[i]) {
            if let Op::Reshape(x) | Op::Detach(x) = &g.nodes[i].op {
                let src = self.view_source(x.index());
                self.materialized[src] = true;
            }
        }
    }

    /// A constant read only inside loops (no view, no other kernel, not a result).
    pub(super) fn is_inline_const(&self, i: usize) -> bool {
        matches!(self.g.nodes[i].op, Op::Fill(_))
            && !self.is_sink[i]
            && !self.uses[i].is_empty()
            && self.uses[i].iter().all(|&r| {
                let op = &self.g.nodes[r].op;
                is_elementwise(op)
                    || matches!(op, Op::Sum(..) | Op::Max(..)) && self.same_shape_input(r, i)
            })
            && !self.view_reads(i)
    }

    fn view_reads(&self, i: usize) -> bool {
        self.uses[i]
            .iter()
            .any(|&r| matches!(self.g.nodes[r].op, Op::Reshape(_) | Op::Detach(_)))
    }

    fn same_shape_input(&self, reader: usize, input: usize) -> bool {
        self.g.nodes[reader]
            .op
            .operands()
            .first()
            .map(|v| v.index())
            == Some(input)
    }

    fn sink_loc(&self, s: &Sink) -> Loc {
        let at = |base, offset| Loc { base, offset };
        match s {
            Sink::Loss(_) => at(Base::Loss, 0),
            Sink::Output(_) => at(Base::Output, 0),
            Sink::Grad(p, _) => at(Base::Grads, self.layout.params[p.index()]),
            Sink::Param(p, _) => at(Base::Params, self.layout.params[p.index()]),
            Sink::State(st, _) => at(Base::States, self.layout.states[st.index()]),
        }
    }

    /// For each value that may be computed directly into a sink's
    /// destination, that destination. A result reached through a view (a
    /// gradient summed then reshaped, the loss) lands there too: views keep
    /// the order of elements.
    fn sink_destinations(&self) -> HashMap<usize, Loc> {
        let mut out = HashMap::new();
        for s in &self.g.sinks {
            let v = sink_value(s).index();
            let src = self.view_source(v);
            if !self.materialized[src] || is_leaf(&self.g.nodes[src].op) || out.contains_key(&src) {
                continue;
            }
            let safe = match s {
                Sink::Param(p, _) => {
                    v == src && self.overwrite_is_safe(v, |op| matches!(op, Op::Param(q) if q == p))
                }
                Sink::State(st, _) => {
                    v == src
                        && self.overwrite_is_safe(v, |op| matches!(op, Op::State(q) if q == st))
                }
                _ => true,
            };
            if safe {
                out.insert(src, self.sink_loc(s));
            }
        }
        out
    }

    /// Whether kernel `v` may overwrite the buffer of the leaf matching
    /// `is_old`: every read of the old value (through views too) must happen
    /// in a kernel before `v`, or inside `v`'s own elementwise loop at the
    /// element it writes.
    fn overwrite_is_safe(&self, v: usize, is_old: impl Fn(&Op) -> bool) -> bool {
        let Some(old) = self.g.nodes.iter().position(|n| is_old(&n.op)) else {
            return true;
        };
        if !is_elementwise(&self.g.nodes[v].op) {
            return false;
        }
        // The old value must not be a result copied out after all kernels ran.
        if self
            .g
            .sinks
            .iter()
            .any(|s| self.view_source(sink_value(s).index()) == old)
        {
            return false;
        }
        let mut stack = vec![old];
        while let Some(x) = stack.pop() {
            for &r in &self.uses[x] {
                if matches!(self.g.nodes[r].op, Op::Reshape(_) | Op::Detach(_)) {
                    stack.push(r);
                    continue;
                }
                let k = self.kernel_of(r);
                let aligned = k == v && self.g.nodes[x].shape == self.g.nodes[v].shape;
                if !(k < v || aligned) {
                    return false;
                }
            }
        }
        true
    }

    /// The node whose kernel computes fused node `i` (itself if materialized).
    pub(super) fn kernel_of(&self, i: usize) -> usize {
        let mut at = i;
        while !self.materialized[at] {
            match self.uses[at].first() {
                Some(&r) => at = r,
                None => break,
            }
        }
        at
    }

    fn assign_fixed_locations(&mut self, sink_dest: &HashMap<usize, Loc>) {
        for i in 0..self.g.nodes.len() {
            let at = |base, offset| Some(Loc { base, offset });
            self.locs[i] = match &self.g.nodes[i].op {
                Op::Param(p) => at(Base::Params, self.layout.params[p.index()]),
                Op::GradIn(p) => at(Base::Grads, self.layout.params[p.index()]),
                Op::State(s) => at(Base::States, self.layout.states[s.index()]),
                Op::Scalar(k) => at(Base::Scalars, k.slot()),
                Op::Input(InputKind::Features) => at(Base::Features, 0),
                Op::Input(InputKind::ClassWeights) => at(Base::ClassWeights, 0),
                Op::Input(_) => at(Base::Labels, 0),
                _ => sink_dest.get(&i).copied(),
            };
        }
    }

    /// First-fit scratch allocation over the kernels' live ranges.
    fn assign_scratch(&mut self, order: &[usize]) -> Result<usize, PlanError> {
        let n = self.max_batch;
        let too_large = PlanError::TooLarge { max_batch: n };
        // The last kernel (by node index) that reads each value, through views.
        let mut last_use: Vec<usize> = (0..self.g.nodes.len()).collect();
        for i in (0..self.g.nodes.len()).filter(|&i| self.live[i]) {
            let k = self.kernel_of(i);
            for o in self.g.nodes[i].op.operands() {
                let src = self.view_source(o.index());
                last_use[src] = last_use[src].max(k);
            }
        }
        for s in &self.g.sinks {
            let v = self.view_source(sink_value(s).index());
            last_use[v] = usize::MAX; // copied out at the end
        }
        let mut live: Vec<(usize, usize, usize)> = Vec::new(); // (offset, len, until)
        let mut top = 0usize;
        for &i in order {
            if self.locs[i].is_some() || is_view(&self.g.nodes[i].op) {
                continue;
            }
            live.retain(|&(_, _, until)| until >= i);
            let numel = numel_checked(&self.g.nodes[i].shape, n).ok_or(too_large.clone())?;
            let len = numel
                .max(1)
                .div_ceil(16)
                .checked_mul(16)
                .ok_or(too_large.clone())?;
            // An elementwise kernel may write over an input it reads for the
            // last time at exactly the element it writes: the hole it would
            // leave is where the next buffer of the same size goes anyway.
            let reused = self.exact_loads(i).into_iter().find_map(|src| {
                let at = self.locs[src].filter(|l| l.base == Base::Scratch)?.offset;
                let slot = live
                    .iter()
                    .position(|&(off, l, until)| off == at && l == len && until == i)?;
                Some((slot, at))
            });
            if let Some((slot, at)) = reused {
                live[slot].2 = last_use[i];
                self.locs[i] = Some(Loc {
                    base: Base::Scratch,
                    offset: at,
                });
                continue;
            }
            live.sort();
            let mut at = 0;
            for &(off, l, _) in &live {
                if off >= at + len {
                    break;
                }
                at = at.max(off + l);
            }
            live.push((at, len, last_use[i]));
            top = top.max(at.checked_add(len).ok_or(too_large.clone())?);
            self.locs[i] = Some(Loc {
                base: Base::Scratch,
                offset: at,
            });
        }
        Ok(top)
    }

    /// The values elementwise node `i`'s kernel loads at exactly the element
    /// it computes (the loop's own shape, not broadcast), through the values
    /// fused into it; none for other kernels.
    fn exact_loads(&self, i: usize) -> Vec<usize> {
        let node = &self.g.nodes[i];
        if !is_elementwise(&node.op) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut stack: Vec<usize> = node.op.operands().iter().map(|v| v.index()).collect();
        while let Some(o) = stack.pop() {
            let src = self.view_source(o);
            let fused = !self.materialized[o] && !is_view(&self.g.nodes[o].op);
            if fused && is_elementwise(&self.g.nodes[o].op) {
                stack.extend(self.g.nodes[o].op.operands().iter().map(|v| v.index()));
            } else if self.g.nodes[src].shape == node.shape && self.g.nodes[o].shape == node.shape {
                out.push(src);
            }
        }
        out
    }

    /// Follows views back to the value that owns the memory.
    pub(super) fn view_source(&self, mut i: usize) -> usize {
        while let Op::Reshape(x) | Op::Detach(x) = &self.g.nodes[i].op {
            i = x.index();
        }
        i
    }

    pub(super) fn loc(&self, i: usize) -> Result<Loc, PlanError> {
        let src = self.view_source(i);
        self.locs[src].ok_or(PlanError::NoMemory(src))
    }

    pub(super) fn buf(&self, v: ValueId) -> Result<Buf, PlanError> {
        Ok(Buf {
            loc: self.loc(v.index())?,
            shape: self.g.shape(v).clone(),
        })
    }

    /// The fused elementwise body computing `root` over `shape` (its value
    /// is the last instruction), and the value each input holds; `as_root`
    /// computes `root` rather than loading it.
    pub(super) fn body(
        &self,
        shape: Shape,
        root: usize,
        as_root: bool,
    ) -> Result<(Body, Vec<usize>), PlanError> {
        let mut b = BodyBuilder::new(self);
        b.emit(root, as_root)?;
        Ok(b.finish(shape))
    }
}

pub(super) fn is_leaf(op: &Op) -> bool {
    matches!(
        op,
        Op::Input(_) | Op::Param(_) | Op::State(_) | Op::GradIn(_) | Op::Scalar(_)
    )
}

pub(super) fn is_view(op: &Op) -> bool {
    matches!(op, Op::Reshape(_) | Op::Detach(_))
}

/// Ops computed inside fused loops (including the generators).
pub(super) fn is_elementwise(op: &Op) -> bool {
    op.is_elementwise() || matches!(op, Op::OneHot(_) | Op::DropoutMask { .. })
}

/// Elements of `shape` at batch `n`, or `None` on overflow.
pub(super) fn numel_checked(shape: &Shape, n: usize) -> Option<usize> {
    shape.0.iter().try_fold(1usize, |acc, d| {
        acc.checked_mul(match d {
            Dim::N => n,
            Dim::K(k) => *k,
        })
    })
}
