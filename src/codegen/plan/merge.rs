//! Merging consecutive elementwise kernels over one shape into one loop with
//! several outputs.
//!
//! The planner gives every materialized value its own kernel, so an update
//! that writes two results (SGD's momentum and then the parameter it moves,
//! Adam's two moments and the parameter) is two or three passes over the
//! same rows, each reading again what the one before wrote. Merged, the
//! later part takes the earlier part's value from a register, and inputs the
//! two share are loaded once.
//!
//! A merge must not change what any element reads. In the merged loop every
//! element is read before any is written, one element at a time, so the
//! merge is made only when every buffer the merged kernel writes is read, if
//! at all, at exactly the place and shape it is written (an update in place),
//! and the two kernels' outputs do not overlap.
//!
//! One difference is deliberate: a later part reads the earlier part's value
//! as computed, before the non-finite guard of a store to parameters or
//! state (`codegen::guard`) keeps an old element in its place. Such a call
//! fails either way (the guard raises the call's flag); the merged kernel
//! then also refuses the dependent element when the non-finite value
//! reaches it, as arithmetic passes it on.

use super::*;

/// At most this many instructions in a merged body: beyond it the loop's
/// registers spill, and the passes saved are few against the body's work.
const MAX_INSTRS: usize = 96;

/// Merges each run of mergeable elementwise kernels, keeping the order.
pub(super) fn merge_elementwise(plan: &mut Plan) {
    let n = plan.max_batch;
    let kernels = std::mem::take(&mut plan.kernels);
    let values = std::mem::take(&mut plan.values);
    for (k, v) in kernels.into_iter().zip(values) {
        if let (Some(prev_k), Some(prev_v)) = (plan.kernels.last(), plan.values.last())
            && let Some(merged) = merge(prev_k, prev_v, &k, &v, n)
        {
            *plan.kernels.last_mut().expect("checked above") = merged.0;
            *plan.values.last_mut().expect("checked above") = merged.1;
            continue;
        }
        plan.kernels.push(k);
        plan.values.push(v);
    }
}

fn region(loc: Loc, shape: &Shape, n: usize) -> (Base, usize, usize) {
    (loc.base, loc.offset, loc.offset.saturating_add(shape.numel(n)))
}

fn overlaps(a: (Base, usize, usize), b: (Base, usize, usize)) -> bool {
    a.0 == b.0 && a.1 < b.2 && b.1 < a.2
}

/// `first` then `second` as one kernel, if that reads and writes the same.
fn merge(
    first: &Kernel,
    first_values: &KernelValues,
    second: &Kernel,
    second_values: &KernelValues,
    n: usize,
) -> Option<(Kernel, KernelValues)> {
    let (
        Kernel::Elementwise {
            body: a,
            outputs: a_out,
        },
        Kernel::Elementwise {
            body: b,
            outputs: b_out,
        },
    ) = (first, second)
    else {
        return None;
    };
    if a.shape != b.shape || a.instrs.len() + b.instrs.len() > MAX_INSTRS {
        return None;
    }
    let shape = &a.shape;
    // Which of the second kernel's inputs are the first kernel's outputs
    // (taken from a register); any other overlap with them rules it out.
    let mut from_first: Vec<Option<usize>> = Vec::with_capacity(b.inputs.len());
    for input in &b.inputs {
        let exact = a_out
            .iter()
            .find(|(_, loc)| *loc == input.loc && input.shape == *shape);
        let r = region(input.loc, &input.shape, n);
        match exact {
            Some(&(result, _)) => from_first.push(Some(result)),
            None if a_out
                .iter()
                .any(|(_, loc)| overlaps(r, region(*loc, shape, n))) =>
            {
                return None;
            }
            None => from_first.push(None),
        }
    }
    let shares_input = b.inputs.iter().zip(&second_values.reads).any(|(bi, bv)| {
        a.inputs
            .iter()
            .zip(&first_values.reads)
            .any(|(ai, av)| ai == bi && av == bv)
    });
    if from_first.iter().all(Option::is_none) && !shares_input {
        return None;
    }
    // Merged inputs: the first kernel's, then the second's not already there.
    let mut inputs = a.inputs.clone();
    let mut reads = first_values.reads.clone();
    let mut slot_of = Vec::with_capacity(b.inputs.len());
    for ((input, &value), taken) in b.inputs.iter().zip(&second_values.reads).zip(&from_first) {
        if taken.is_some() {
            slot_of.push(None);
            continue;
        }
        let at = inputs
            .iter()
            .zip(&reads)
            .position(|(i, &v)| i == input && v == value);
        slot_of.push(Some(at.unwrap_or_else(|| {
            inputs.push(input.clone());
            reads.push(value);
            inputs.len() - 1
        })));
    }
    // Every write of the merged kernel: outputs apart, reads exactly in place.
    let writes: Vec<Loc> = a_out.iter().chain(b_out).map(|(_, loc)| *loc).collect();
    for (i, &w) in writes.iter().enumerate() {
        let written = region(w, shape, n);
        if writes[i + 1..]
            .iter()
            .any(|&o| overlaps(written, region(o, shape, n)))
        {
            return None;
        }
        for input in &inputs {
            let read = region(input.loc, &input.shape, n);
            if overlaps(read, written) && !(input.loc == w && input.shape == *shape) {
                return None;
            }
        }
    }
    // The second body's instructions after the first's, loads of the first
    // kernel's outputs replaced by the values it computed.
    let mut instrs = a.instrs.clone();
    let mut at: Vec<usize> = Vec::with_capacity(b.instrs.len());
    for instr in &b.instrs {
        let index = match instr {
            Instr::Load(s) => match (from_first[*s], slot_of[*s]) {
                (Some(result), _) => result,
                (None, Some(slot)) => match instrs.iter().position(|i| *i == Instr::Load(slot)) {
                    Some(loaded) => loaded,
                    None => push(&mut instrs, Instr::Load(slot)),
                },
                (None, None) => unreachable!("every input is taken or given a slot"),
            },
            Instr::Unary(op, x) => push(&mut instrs, Instr::Unary(*op, at[*x])),
            Instr::Binary(op, x, y) => push(&mut instrs, Instr::Binary(*op, at[*x], at[*y])),
            Instr::Select(c, x, y) => push(&mut instrs, Instr::Select(at[*c], at[*x], at[*y])),
            other @ (Instr::Const(_) | Instr::Index(_) | Instr::Dropout { .. }) => {
                push(&mut instrs, other.clone())
            }
        };
        at.push(index);
    }
    let mut outputs = a_out.clone();
    outputs.extend(b_out.iter().map(|(r, loc)| (at[*r], *loc)));
    let mut writes = first_values.writes.clone();
    writes.extend(&second_values.writes);
    let body = Body {
        shape: shape.clone(),
        inputs,
        instrs,
    };
    Some((Kernel::Elementwise { body, outputs }, KernelValues { reads, writes }))
}

fn push(instrs: &mut Vec<Instr>, i: Instr) -> usize {
    instrs.push(i);
    instrs.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(dims: &[usize]) -> Shape {
        Shape(dims.iter().map(|&d| Dim::K(d)).collect())
    }

    fn buf(base: Base, offset: usize, dims: &[usize]) -> Buf {
        Buf {
            loc: Loc { base, offset },
            shape: shape(dims),
        }
    }

    /// `out = in0 * in1` over [2, 3], the inputs given as buffers.
    fn product(inputs: [Buf; 2], out: Loc, values: [usize; 3]) -> (Kernel, KernelValues) {
        let body = Body {
            shape: shape(&[2, 3]),
            inputs: inputs.to_vec(),
            instrs: vec![
                Instr::Load(0),
                Instr::Load(1),
                Instr::Binary(BinaryOp::Mul, 0, 1),
            ],
        };
        let kernel = Kernel::Elementwise {
            body,
            outputs: vec![(2, out)],
        };
        let rec = KernelValues {
            reads: values[..2].to_vec(),
            writes: vec![values[2]],
        };
        (kernel, rec)
    }

    fn try_merge(a: &(Kernel, KernelValues), b: &(Kernel, KernelValues)) -> Option<Kernel> {
        merge(&a.0, &a.1, &b.0, &b.1, 1).map(|m| m.0)
    }

    #[test]
    fn a_reader_of_the_first_output_takes_it_from_a_register() {
        let s = buf(Base::States, 0, &[2, 3]);
        let p = buf(Base::Params, 0, &[2, 3]);
        let g = buf(Base::Grads, 0, &[2, 3]);
        let a = product([s.clone(), g], s.loc, [1, 2, 3]);
        let b = product([p.clone(), s.clone()], p.loc, [4, 3, 5]);
        let Some(Kernel::Elementwise { body, outputs }) = try_merge(&a, &b) else {
            panic!("not merged");
        };
        // The new state is r2; the parameter multiplies its load by it.
        assert_eq!(outputs, vec![(2, s.loc), (4, p.loc)]);
        assert_eq!(body.inputs.len(), 3, "{:?}", body.inputs);
        assert_eq!(body.instrs[4], Instr::Binary(BinaryOp::Mul, 3, 2));
    }

    #[test]
    fn a_shared_input_is_loaded_once() {
        let x = buf(Base::Scratch, 0, &[2, 3]);
        let y = buf(Base::Scratch, 8, &[2, 3]);
        let z = buf(Base::Scratch, 16, &[2, 3]);
        let a = product([x.clone(), z], Loc::scratch(24), [1, 2, 3]);
        let b = product([x.clone(), y], Loc::scratch(32), [1, 4, 5]);
        let Some(Kernel::Elementwise { body, .. }) = try_merge(&a, &b) else {
            panic!("not merged");
        };
        assert_eq!(body.inputs.len(), 3);
        let loads = body.instrs.iter().filter(|i| matches!(i, Instr::Load(_)));
        assert_eq!(loads.count(), 3, "{:?}", body.instrs);
    }

    #[test]
    fn unrelated_kernels_stay_apart() {
        let a = product(
            [buf(Base::Scratch, 0, &[2, 3]), buf(Base::Scratch, 8, &[2, 3])],
            Loc::scratch(16),
            [1, 2, 3],
        );
        let b = product(
            [buf(Base::Scratch, 24, &[2, 3]), buf(Base::Scratch, 32, &[2, 3])],
            Loc::scratch(40),
            [4, 5, 6],
        );
        assert!(try_merge(&a, &b).is_none());
    }

    #[test]
    fn a_broadcast_read_of_a_written_buffer_stays_apart() {
        // The second kernel reads the first's output's first row for every
        // row: merged, row 1 would not yet hold what it reads.
        let x = buf(Base::Scratch, 0, &[2, 3]);
        let a = product([x.clone(), x.clone()], Loc::scratch(8), [1, 1, 2]);
        let b = product(
            [x.clone(), buf(Base::Scratch, 8, &[1, 3])],
            Loc::scratch(16),
            [1, 2, 3],
        );
        assert!(try_merge(&a, &b).is_none());
    }

    #[test]
    fn a_write_over_a_broadcast_input_stays_apart() {
        // The first kernel reads row 0 of `w` for both rows; the second
        // writes `w` (as [2, 3]): merged, row 0 would be overwritten before
        // row 1 of the first part reads it.
        let w = buf(Base::Params, 0, &[1, 3]);
        let x = buf(Base::Scratch, 0, &[2, 3]);
        let a = product([x.clone(), w], Loc::scratch(8), [1, 2, 3]);
        let b = product([x.clone(), x.clone()], Loc { base: Base::Params, offset: 0 }, [1, 1, 4]);
        assert!(try_merge(&a, &b).is_none());
    }

    #[test]
    fn overlapping_outputs_stay_apart() {
        let x = buf(Base::Scratch, 0, &[2, 3]);
        let a = product([x.clone(), x.clone()], Loc::scratch(8), [1, 1, 2]);
        let b = product([x.clone(), x.clone()], Loc::scratch(10), [1, 1, 3]);
        assert!(try_merge(&a, &b).is_none());
    }
}
