//! Kernel planning: graph IR -> a list of kernels over planned memory.
//!
//! This is the "how" of a graph, kept apart from its "what" (Halide's
//! lesson): which values live in memory, where, and which ops fuse into one
//! loop. Code generation then only translates each [`Kernel`] to Cranelift.
//!
//! - Elementwise ops fuse into the loop of their single reader when it
//!   iterates over the same shape; everything else is *materialized*.
//! - Reductions fuse their elementwise input (`sum(exp(x - m))` is one loop).
//! - Reshape and detach are views of their operand's memory.
//! - A result that replaces a parameter or state (an optimizer update) is
//!   written in place when no later kernel reads the old value.
//! - Scratch memory is assigned by liveness, first fit, sized for the
//!   largest batch the function will be called with.

use crate::ir::*;
use std::collections::HashMap;
use std::fmt::Write;

/// The memory a location lives in; each is one pointer of the call context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    Params,
    Grads,
    States,
    Scratch,
    Features,
    Labels,
    Scalars,
    /// The loss (one float).
    Loss,
    /// The network's output for the batch.
    Output,
}

/// Where a tensor lives: a base and an offset in floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    pub base: Base,
    pub offset: usize,
}

/// A tensor read or written by a kernel: its location and shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Buf {
    pub loc: Loc,
    pub shape: Shape,
}

/// One instruction of a fused elementwise body; operands index earlier
/// instructions of the same body.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// Element of input `slot`, broadcast to the iteration shape.
    Load(usize),
    Const(f32),
    Unary(UnaryOp, usize),
    Binary(BinaryOp, usize, usize),
    Select(usize, usize, usize),
    /// The coordinate along `axis` of the element being computed.
    Index(usize),
    /// Inverted-dropout mask value for this element (see `ir::dropout`).
    Dropout {
        rate: f32,
        salt: u64,
    },
}

/// A fused elementwise computation over an iteration shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub shape: Shape,
    /// Inputs, each with a shape that broadcasts to `shape`.
    pub inputs: Vec<Buf>,
    pub instrs: Vec<Instr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// `outputs[i] = body[result_i]` for every element.
    Elementwise {
        body: Body,
        outputs: Vec<(usize, Loc)>,
    },
    /// Reduces the body's last instruction over `axes` (kept as size 1).
    Reduce {
        body: Body,
        max: bool,
        axes: Vec<usize>,
        out: Loc,
    },
    MatMul {
        a: Buf,
        b: Buf,
        ta: bool,
        tb: bool,
        out: Buf,
    },
    Conv2d {
        x: Buf,
        w: Buf,
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Conv2dInputGrad {
        dy: Buf,
        w: Buf,
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Conv2dWeightGrad {
        x: Buf,
        dy: Buf,
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Pool2d {
        kind: PoolKind,
        x: Buf,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    Pool2dGrad {
        kind: PoolKind,
        x: Buf,
        dy: Buf,
        window: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
        out: Buf,
    },
    /// Joins inputs along `axis` into `out`.
    Concat {
        inputs: Vec<Buf>,
        axis: usize,
        out: Buf,
    },
    Slice {
        x: Buf,
        axis: usize,
        start: usize,
        out: Buf,
    },
    /// Copies `len` floats per sample (or in all, if unbatched) from one place to another.
    Copy { from: Buf, to: Loc },
}

/// Offsets of the parameters (and equally of their gradients) and of the
/// state tensors in their flat buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub params: Vec<usize>,
    pub params_len: usize,
    pub states: Vec<usize>,
    pub states_len: usize,
}

impl Layout {
    pub fn of(g: &Graph) -> Layout {
        let (params, params_len) = offsets(g.params.iter().map(|p| p.len()));
        let (states, states_len) = offsets(g.states.iter().map(|s| s.shape.iter().product()));
        Layout {
            params,
            params_len,
            states,
            states_len,
        }
    }
}

fn offsets(sizes: impl Iterator<Item = usize>) -> (Vec<usize>, usize) {
    let mut at = 0;
    let offs = sizes
        .map(|s| {
            let o = at;
            at += s;
            o
        })
        .collect();
    (offs, at)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub kernels: Vec<Kernel>,
    /// Floats of scratch memory needed at the largest batch.
    pub scratch_len: usize,
    pub max_batch: usize,
    pub layout: Layout,
}

/// Plans `g` for batches of at most `max_batch` samples.
pub fn plan(g: &Graph, max_batch: usize) -> Plan {
    Planner::new(g, max_batch).run()
}

struct Planner<'g> {
    g: &'g Graph,
    max_batch: usize,
    layout: Layout,
    uses: Vec<Vec<usize>>,
    /// Whether a value gets memory of its own (else it is fused or a view).
    materialized: Vec<bool>,
    locs: Vec<Option<Loc>>,
}

impl<'g> Planner<'g> {
    fn new(g: &'g Graph, max_batch: usize) -> Self {
        let mut uses = vec![Vec::new(); g.nodes.len()];
        for (i, n) in g.nodes.iter().enumerate() {
            for o in n.op.operands() {
                uses[o.index()].push(i);
            }
        }
        Planner {
            g,
            max_batch,
            layout: Layout::of(g),
            uses,
            materialized: vec![false; g.nodes.len()],
            locs: vec![None; g.nodes.len()],
        }
    }

    fn run(mut self) -> Plan {
        self.decide_materialization();
        let sink_dest = self.sink_destinations();
        // Kernels in node order, one per materialized computed value.
        let mut kernels_of: Vec<(usize, Kernel)> = Vec::new();
        let order: Vec<usize> = (0..self.g.nodes.len())
            .filter(|&i| self.materialized[i] && !is_leaf(&self.g.nodes[i].op))
            .collect();
        // Assign locations: leaves, in-place sinks, views, then scratch by liveness.
        self.assign_fixed_locations(&sink_dest);
        let scratch_len = self.assign_scratch(&order);
        for &i in &order {
            kernels_of.push((i, self.kernel(i)));
        }
        let mut kernels: Vec<Kernel> = kernels_of.into_iter().map(|(_, k)| k).collect();
        // Sinks whose value could not be computed in place are copied at the end.
        for s in &self.g.sinks {
            let v = sink_value(s).index();
            let dest = self.sink_loc(s);
            let at = self.loc(v);
            if at != dest {
                kernels.push(Kernel::Copy {
                    from: Buf {
                        loc: at,
                        shape: self.g.nodes[v].shape.clone(),
                    },
                    to: dest,
                });
            }
        }
        Plan {
            kernels,
            scratch_len,
            max_batch: self.max_batch,
            layout: self.layout,
        }
    }

    fn decide_materialization(&mut self) {
        let g = self.g;
        let sinks: Vec<usize> = g.sinks.iter().map(|s| sink_value(s).index()).collect();
        for i in 0..g.nodes.len() {
            let node = &g.nodes[i];
            self.materialized[i] = match &node.op {
                op if is_leaf(op) => true,
                Op::Reshape(_) | Op::Detach(_) => false,
                op if is_elementwise(op) => {
                    let readers = &self.uses[i];
                    let single = readers.len() == 1 && !sinks.contains(&i);
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
        // A view's operand must be in memory.
        for i in (0..g.nodes.len()).rev() {
            if let Op::Reshape(x) | Op::Detach(x) = &g.nodes[i].op {
                self.materialized[x.index()] = true;
            }
        }
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
        match s {
            Sink::Loss(_) => Loc {
                base: Base::Loss,
                offset: 0,
            },
            Sink::Output(_) => Loc {
                base: Base::Output,
                offset: 0,
            },
            Sink::Grad(p, _) => Loc {
                base: Base::Grads,
                offset: self.layout.params[*p],
            },
            Sink::Param(p, _) => Loc {
                base: Base::Params,
                offset: self.layout.params[*p],
            },
            Sink::State(st, _) => Loc {
                base: Base::States,
                offset: self.layout.states[*st],
            },
        }
    }

    /// For each sink value that may be computed directly into its
    /// destination, that destination.
    fn sink_destinations(&self) -> HashMap<usize, Loc> {
        let mut out = HashMap::new();
        for s in &self.g.sinks {
            let v = sink_value(s).index();
            if !self.materialized[v] || is_leaf(&self.g.nodes[v].op) || out.contains_key(&v) {
                continue;
            }
            if matches!(self.g.nodes[v].op, Op::Reshape(_) | Op::Detach(_)) {
                continue;
            }
            let dest = self.sink_loc(s);
            let safe = match s {
                Sink::Param(p, _) => {
                    self.overwrite_is_safe(v, |op| matches!(op, Op::Param(q) if q == p))
                }
                Sink::State(st, _) => {
                    self.overwrite_is_safe(v, |op| matches!(op, Op::State(q) if q == st))
                }
                _ => true,
            };
            if safe {
                out.insert(v, dest);
            }
        }
        out
    }

    /// Whether kernel `v` may overwrite the buffer of the leaf matching
    /// `is_old`: every reader of the old value must run in `v`'s own
    /// elementwise loop (reading the same element it writes) or before it.
    fn overwrite_is_safe(&self, v: usize, is_old: impl Fn(&Op) -> bool) -> bool {
        let Some(old) = self.g.nodes.iter().position(|n| is_old(&n.op)) else {
            return true;
        };
        if !is_elementwise(&self.g.nodes[v].op) {
            return false;
        }
        let fused = self.fused_nodes(v);
        self.uses[old].iter().all(|&r| {
            let inside = fused.contains(&r);
            let before = r < v && !fused.contains(&r) && self.kernel_of(r) < v;
            (inside && self.g.nodes[r].shape == self.g.nodes[v].shape) || before
        })
    }

    /// The node whose kernel computes node `i`.
    fn kernel_of(&self, i: usize) -> usize {
        let mut at = i;
        while !self.materialized[at] {
            match self.uses[at].first() {
                Some(&r) => at = r,
                None => break,
            }
        }
        at
    }

    /// The nodes computed inside the loop of materialized node `root`.
    fn fused_nodes(&self, root: usize) -> Vec<usize> {
        let mut out = vec![root];
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            for o in self.g.nodes[i].op.operands() {
                let o = o.index();
                if !self.materialized[o]
                    && !matches!(self.g.nodes[o].op, Op::Reshape(_) | Op::Detach(_))
                    && !out.contains(&o)
                {
                    out.push(o);
                    stack.push(o);
                }
            }
        }
        out
    }

    fn assign_fixed_locations(&mut self, sink_dest: &HashMap<usize, Loc>) {
        for i in 0..self.g.nodes.len() {
            let loc = match &self.g.nodes[i].op {
                Op::Param(p) => Some(Loc {
                    base: Base::Params,
                    offset: self.layout.params[*p],
                }),
                Op::GradIn(p) => Some(Loc {
                    base: Base::Grads,
                    offset: self.layout.params[*p],
                }),
                Op::State(s) => Some(Loc {
                    base: Base::States,
                    offset: self.layout.states[*s],
                }),
                Op::Scalar(k) => Some(Loc {
                    base: Base::Scalars,
                    offset: k.slot(),
                }),
                Op::Input(InputKind::Features) => Some(Loc {
                    base: Base::Features,
                    offset: 0,
                }),
                Op::Input(_) => Some(Loc {
                    base: Base::Labels,
                    offset: 0,
                }),
                _ => sink_dest.get(&i).copied(),
            };
            self.locs[i] = loc;
        }
    }

    /// First-fit scratch allocation over the kernels' live ranges.
    fn assign_scratch(&mut self, order: &[usize]) -> usize {
        let n = self.max_batch;
        // The last kernel (by node index) that reads each value, through views.
        let mut last_use: Vec<usize> = (0..self.g.nodes.len()).collect();
        for i in 0..self.g.nodes.len() {
            let k = if self.materialized[i] {
                i
            } else {
                self.kernel_of(i)
            };
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
            if self.locs[i].is_some()
                || matches!(self.g.nodes[i].op, Op::Reshape(_) | Op::Detach(_))
            {
                continue;
            }
            live.retain(|&(_, _, until)| until >= i);
            let len = round_up(self.g.nodes[i].shape.numel(n).max(1), 16);
            live.sort();
            let mut at = 0;
            for &(off, l, _) in &live {
                if off >= at + len {
                    break;
                }
                at = at.max(off + l);
            }
            live.push((at, len, last_use[i]));
            top = top.max(at + len);
            self.locs[i] = Some(Loc {
                base: Base::Scratch,
                offset: at,
            });
        }
        top
    }

    /// Follows views back to the value that owns the memory.
    fn view_source(&self, mut i: usize) -> usize {
        while let Op::Reshape(x) | Op::Detach(x) = &self.g.nodes[i].op {
            i = x.index();
        }
        i
    }

    fn loc(&self, i: usize) -> Loc {
        let src = self.view_source(i);
        self.locs[src].unwrap_or_else(|| panic!("value %{src} has no memory"))
    }

    fn buf(&self, v: ValueId) -> Buf {
        Buf {
            loc: self.loc(v.index()),
            shape: self.g.shape(v).clone(),
        }
    }

    fn kernel(&self, i: usize) -> Kernel {
        let node = &self.g.nodes[i];
        let out = self.loc(i);
        let outb = Buf {
            loc: out,
            shape: node.shape.clone(),
        };
        match &node.op {
            Op::Sum(x, axes) | Op::Max(x, axes) => {
                let max = matches!(node.op, Op::Max(..));
                let body = self.body(self.g.shape(*x).clone(), &[x.index()]);
                Kernel::Reduce {
                    body,
                    max,
                    axes: axes.clone(),
                    out,
                }
            }
            Op::MatMul { a, b, ta, tb } => Kernel::MatMul {
                a: self.buf(*a),
                b: self.buf(*b),
                ta: *ta,
                tb: *tb,
                out: outb,
            },
            Op::Conv2d { x, w, stride, pad } => Kernel::Conv2d {
                x: self.buf(*x),
                w: self.buf(*w),
                stride: *stride,
                pad: *pad,
                out: outb,
            },
            Op::Conv2dInputGrad { dy, w, stride, pad } => Kernel::Conv2dInputGrad {
                dy: self.buf(*dy),
                w: self.buf(*w),
                stride: *stride,
                pad: *pad,
                out: outb,
            },
            Op::Conv2dWeightGrad { x, dy, stride, pad } => Kernel::Conv2dWeightGrad {
                x: self.buf(*x),
                dy: self.buf(*dy),
                stride: *stride,
                pad: *pad,
                out: outb,
            },
            Op::Pool2d {
                kind,
                x,
                window,
                stride,
                pad,
            } => Kernel::Pool2d {
                kind: *kind,
                x: self.buf(*x),
                window: *window,
                stride: *stride,
                pad: *pad,
                out: outb,
            },
            Op::Pool2dGrad {
                kind,
                x,
                dy,
                window,
                stride,
                pad,
            } => Kernel::Pool2dGrad {
                kind: *kind,
                x: self.buf(*x),
                dy: self.buf(*dy),
                window: *window,
                stride: *stride,
                pad: *pad,
                out: outb,
            },
            Op::Concat(xs, axis) => Kernel::Concat {
                inputs: xs.iter().map(|x| self.buf(*x)).collect(),
                axis: *axis,
                out: outb,
            },
            Op::Slice { x, axis, start } => Kernel::Slice {
                x: self.buf(*x),
                axis: *axis,
                start: *start,
                out: outb,
            },
            _ => {
                let body = self.body(node.shape.clone(), &[i]);
                let result = body.instrs.len() - 1;
                Kernel::Elementwise {
                    body,
                    outputs: vec![(result, out)],
                }
            }
        }
    }

    /// The fused elementwise body computing `roots` (its last instruction is
    /// the last root) over `shape`.
    fn body(&self, shape: Shape, roots: &[usize]) -> Body {
        let mut b = BodyBuilder {
            planner: self,
            inputs: Vec::new(),
            instrs: Vec::new(),
            done: HashMap::new(),
        };
        for &r in roots {
            b.emit(r, true);
        }
        Body {
            shape,
            inputs: b.inputs,
            instrs: b.instrs,
        }
    }
}

struct BodyBuilder<'p, 'g> {
    planner: &'p Planner<'g>,
    inputs: Vec<Buf>,
    instrs: Vec<Instr>,
    done: HashMap<usize, usize>,
}

impl BodyBuilder<'_, '_> {
    fn push(&mut self, i: Instr) -> usize {
        self.instrs.push(i);
        self.instrs.len() - 1
    }

    /// Emits node `i`; a materialized node other than the root is loaded.
    fn emit(&mut self, i: usize, root: bool) -> usize {
        if let Some(&r) = self.done.get(&i) {
            return r;
        }
        let p = self.planner;
        let node = &p.g.nodes[i];
        let load_it =
            !root && (p.materialized[i] || matches!(node.op, Op::Reshape(_) | Op::Detach(_)));
        let r = if load_it || !is_elementwise(&node.op) {
            // Materialized values, views and reduction inputs are loads.
            self.load(i)
        } else {
            match &node.op {
                Op::Fill(v) => self.push(Instr::Const(*v)),
                Op::Unary(op, x) => {
                    let a = self.emit(x.index(), false);
                    self.push(Instr::Unary(*op, a))
                }
                Op::Binary(op, x, y) => {
                    let a = self.emit(x.index(), false);
                    let b = self.emit(y.index(), false);
                    self.push(Instr::Binary(*op, a, b))
                }
                Op::Select(c, x, y) => {
                    let c = self.emit(c.index(), false);
                    let a = self.emit(x.index(), false);
                    let b = self.emit(y.index(), false);
                    self.push(Instr::Select(c, a, b))
                }
                Op::Expand(x) => self.emit(x.index(), false),
                Op::OneHot(labels) => {
                    // labels [N] read as [N, 1] and compared with the column index.
                    let slot = self.input(Buf {
                        loc: p.loc(labels.index()),
                        shape: Shape(vec![Dim::N, Dim::K(1)]),
                    });
                    let l = self.push(Instr::Load(slot));
                    let c = self.push(Instr::Index(1));
                    self.push(Instr::Binary(BinaryOp::Eq, l, c))
                }
                Op::DropoutMask { rate, salt } => self.push(Instr::Dropout {
                    rate: *rate,
                    salt: *salt,
                }),
                other => unreachable!("{other:?} is not elementwise"),
            }
        };
        self.done.insert(i, r);
        r
    }

    fn input(&mut self, buf: Buf) -> usize {
        match self.inputs.iter().position(|b| *b == buf) {
            Some(s) => s,
            None => {
                self.inputs.push(buf);
                self.inputs.len() - 1
            }
        }
    }

    fn load(&mut self, i: usize) -> usize {
        let p = self.planner;
        let buf = Buf {
            loc: p.loc(i),
            shape: p.g.nodes[i].shape.clone(),
        };
        let slot = self.input(buf);
        self.push(Instr::Load(slot))
    }
}

fn is_leaf(op: &Op) -> bool {
    matches!(
        op,
        Op::Input(_) | Op::Param(_) | Op::State(_) | Op::GradIn(_) | Op::Scalar(_)
    )
}

/// Ops computed inside fused loops (including the generators).
fn is_elementwise(op: &Op) -> bool {
    op.is_elementwise() || matches!(op, Op::OneHot(_) | Op::DropoutMask { .. })
}

fn round_up(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

/// The text form of a plan (`dlc check --emit kernels`).
pub fn print_plan(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scratch {} floats at batch {}",
        plan.scratch_len, plan.max_batch
    );
    let loc = |l: &Loc| format!("{:?}+{}", l.base, l.offset).to_lowercase();
    let buf = |b: &Buf| format!("{}{}", loc(&b.loc), b.shape);
    for (i, k) in plan.kernels.iter().enumerate() {
        let text = match k {
            Kernel::Elementwise { body, outputs } => {
                let outs: Vec<String> = outputs
                    .iter()
                    .map(|(r, l)| format!("r{r} -> {}", loc(l)))
                    .collect();
                format!(
                    "elementwise {} {}{}",
                    body.shape,
                    outs.join(", "),
                    body_text(body, &buf)
                )
            }
            Kernel::Reduce {
                body,
                max,
                axes,
                out,
            } => {
                format!(
                    "{} {} axes {axes:?} -> {}{}",
                    if *max { "max" } else { "sum" },
                    body.shape,
                    loc(out),
                    body_text(body, &buf)
                )
            }
            Kernel::MatMul { a, b, ta, tb, out } => format!(
                "matmul {}{} x {}{} -> {}",
                buf(a),
                if *ta { "^T" } else { "" },
                buf(b),
                if *tb { "^T" } else { "" },
                buf(out)
            ),
            Kernel::Conv2d { x, w, out, .. } => {
                format!("conv2d {} * {} -> {}", buf(x), buf(w), buf(out))
            }
            Kernel::Conv2dInputGrad { dy, w, out, .. } => {
                format!("conv2d_input_grad {} * {} -> {}", buf(dy), buf(w), buf(out))
            }
            Kernel::Conv2dWeightGrad { x, dy, out, .. } => format!(
                "conv2d_weight_grad {} * {} -> {}",
                buf(x),
                buf(dy),
                buf(out)
            ),
            Kernel::Pool2d { kind, x, out, .. } => {
                format!("{kind:?}pool {} -> {}", buf(x), buf(out)).to_lowercase()
            }
            Kernel::Pool2dGrad {
                kind, x, dy, out, ..
            } => format!("{kind:?}pool_grad {} {} -> {}", buf(x), buf(dy), buf(out)).to_lowercase(),
            Kernel::Concat { inputs, axis, out } => {
                format!(
                    "concat axis {axis} {} -> {}",
                    inputs.iter().map(&buf).collect::<Vec<_>>().join(", "),
                    buf(out)
                )
            }
            Kernel::Slice {
                x,
                axis,
                start,
                out,
            } => format!("slice axis {axis} from {start} {} -> {}", buf(x), buf(out)),
            Kernel::Copy { from, to } => format!("copy {} -> {}", buf(from), loc(to)),
        };
        let _ = writeln!(out, "k{i}: {text}");
    }
    out
}

fn body_text(body: &Body, buf: &dyn Fn(&Buf) -> String) -> String {
    let mut s = String::new();
    for (i, input) in body.inputs.iter().enumerate() {
        let _ = write!(s, "\n    in{i} = {}", buf(input));
    }
    for (i, instr) in body.instrs.iter().enumerate() {
        let t = match instr {
            Instr::Load(slot) => format!("load in{slot}"),
            Instr::Const(c) => format!("const {c}"),
            Instr::Unary(op, a) => format!("{op:?} r{a}").to_lowercase(),
            Instr::Binary(op, a, b) => format!("{op:?} r{a}, r{b}").to_lowercase(),
            Instr::Select(c, a, b) => format!("select r{c}, r{a}, r{b}"),
            Instr::Index(axis) => format!("index {axis}"),
            Instr::Dropout { rate, salt } => format!("dropout {rate} salt {salt}"),
        };
        let _ = write!(s, "\n    r{i} = {t}");
    }
    s
}
