//! Correct plans pass; each way of corrupting one is reported.

use super::super::{Base, Kernel, Loc, Plan, plan};
use super::{PlanViolation, verify_plan};
use crate::ir::Init;
use crate::ir::*;

const BATCH: usize = 4;

fn param(g: &mut Graph, name: &str, shape: &[usize]) -> ValueId {
    g.add_param(ParamInfo {
        name: name.into(),
        shape: shape.to_vec(),
        init: Init::Xavier,
        decay: false,
    })
}

/// `x -> matmul -> relu -> matmul -> relu -> matmul`: each relu is written
/// over the product it reads, and the second product goes beside them.
fn chain() -> Graph {
    let mut g = Graph::default();
    let x = g.input(InputKind::Features, Shape::batched(&[4]));
    let mut h = x;
    for (i, last) in [(1, false), (2, false), (3, true)] {
        let w = param(&mut g, &format!("w{i}"), &[4, 4]);
        h = g.matmul(h, w, false, true);
        if !last {
            h = g.unary(UnaryOp::Relu, h);
        }
    }
    g.sinks.push(Sink::Output(h));
    g
}

/// Two matmuls of one input, multiplied: both results live at once.
fn fork() -> Graph {
    let mut g = Graph::default();
    let x = g.input(InputKind::Features, Shape::batched(&[4]));
    let (w1, w2) = (param(&mut g, "w1", &[4, 4]), param(&mut g, "w2", &[4, 4]));
    let a = g.matmul(x, w1, false, true);
    let b = g.matmul(x, w2, false, true);
    let c = g.mul(a, b);
    g.sinks.push(Sink::Output(c));
    g
}

/// A forward matmul, then an update of its weights written over them.
fn update_in_place() -> Graph {
    let mut g = Graph::default();
    let x = g.input(InputKind::Features, Shape::batched(&[4]));
    let w = param(&mut g, "w", &[4, 4]);
    let y = g.matmul(x, w, false, true);
    g.sinks.push(Sink::Output(y));
    let grad = g.push(Op::GradIn(ParamId(0)), Shape::fixed(&[4, 4]));
    let lr = g.scalar(ScalarKind::LearningRate);
    let step = g.mul(grad, lr);
    let new = g.sub(w, step);
    g.sinks.push(Sink::Param(ParamId(0), new));
    g
}

fn planned(g: &Graph) -> Plan {
    let p = plan(g, BATCH).expect("the test graphs plan");
    assert_eq!(verify_plan(g, &p), Ok(()), "the uncorrupted plan verifies");
    p
}

fn violations(g: &Graph, p: &Plan) -> Vec<PlanViolation> {
    verify_plan(g, p).expect_err("the corruption is found").0
}

fn out(k: &mut Kernel) -> &mut Loc {
    match k {
        Kernel::Elementwise { outputs, .. } => &mut outputs[0].1,
        Kernel::Reduce { out, .. } => out,
        Kernel::MatMul { out, .. } => &mut out.loc,
        other => panic!("no output in {other:?}"),
    }
}

/// The buffer kernel `k` reads as its `i`th input.
fn input(k: &mut Kernel, i: usize) -> &mut Loc {
    match k {
        Kernel::Elementwise { body, .. } => &mut body.inputs[i].loc,
        Kernel::MatMul { a, b, .. } => &mut [a, b][i].loc,
        other => panic!("no inputs in {other:?}"),
    }
}

fn scratch(offset: usize) -> Loc {
    Loc {
        base: Base::Scratch,
        offset,
    }
}

#[test]
fn the_test_plans_share_scratch_and_update_in_place() {
    // Otherwise the corruptions below would not test what they say.
    let p = planned(&chain());
    assert_eq!(*out(&mut p.kernels[0].clone()), scratch(0));
    assert_eq!(*out(&mut p.kernels[1].clone()), scratch(0));
    assert_eq!(*out(&mut p.kernels[2].clone()), scratch(16));
    assert_eq!(*out(&mut p.kernels[3].clone()), scratch(16));
    let p = planned(&update_in_place());
    assert_eq!(out(&mut p.kernels[1].clone()).base, Base::Params);
}

#[test]
fn an_elementwise_kernel_may_write_exactly_over_its_input() {
    let g = chain();
    let mut p = planned(&g);
    // The planner writes the second relu (k3) over the matmul it reads; put
    // beside it instead (free scratch), and read there, it is correct too.
    let beside = scratch(32);
    *out(&mut p.kernels[3]) = beside;
    *input(&mut p.kernels[4], 0) = beside;
    p.scratch_len = 48;
    assert_eq!(verify_plan(&g, &p), Ok(()));
}

#[test]
fn a_matmul_writing_over_its_operand_is_reported() {
    let g = chain();
    let mut p = planned(&g);
    let b = *input(&mut p.kernels[2], 0);
    *out(&mut p.kernels[2]) = b;
    *input(&mut p.kernels[3], 0) = b;
    let found = violations(&g, &p);
    let in_place = found.iter().any(|v| {
        matches!(
            v,
            PlanViolation::InPlace {
                kernel: 2,
                kind: "matmul",
                ..
            }
        )
    });
    assert!(in_place, "{found:?}");
}

#[test]
fn an_elementwise_kernel_writing_beside_its_input_is_reported() {
    let g = chain();
    let mut p = planned(&g);
    // One float along: element i is written where element i + 1 is still unread.
    let shifted = scratch(out(&mut p.kernels[2]).offset + 1);
    *out(&mut p.kernels[3]) = shifted;
    *input(&mut p.kernels[4], 0) = shifted;
    let found = violations(&g, &p);
    let in_place = found.iter().any(|v| {
        matches!(
            v,
            PlanViolation::InPlace {
                kernel: 3,
                kind: "elementwise",
                ..
            }
        )
    });
    assert!(in_place, "{found:?}");
}

#[test]
fn two_live_values_in_one_buffer_are_reported() {
    let g = fork();
    let mut p = planned(&g);
    // The second matmul's result put over the first's, which is still to be read.
    let a = *out(&mut p.kernels[0]);
    *out(&mut p.kernels[1]) = a;
    *input(&mut p.kernels[2], 1) = a;
    let found = violations(&g, &p);
    assert!(
        found
            .iter()
            .any(|v| matches!(v, PlanViolation::Overlap { .. })),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|v| matches!(v, PlanViolation::Clobbered { kernel: 2, .. })),
        "{found:?}"
    );
}

#[test]
fn a_read_after_its_buffer_was_overwritten_is_reported() {
    let g = update_in_place();
    let mut p = planned(&g);
    // The update first: the forward matmul then reads the new weights.
    p.kernels.swap(0, 1);
    p.values.swap(0, 1);
    let found = violations(&g, &p);
    let clobbered = found.iter().any(|v| {
        matches!(
            v,
            PlanViolation::Clobbered {
                kernel: 1,
                by,
                ..
            } if *by == g.nodes.len() - 1
        )
    });
    assert!(clobbered, "{found:?}");
}

#[test]
fn a_read_of_memory_nothing_wrote_is_reported() {
    let g = chain();
    let mut p = planned(&g);
    // Without the first matmul and relu, the second matmul reads scratch
    // nothing wrote.
    p.kernels.drain(..2);
    p.values.drain(..2);
    let found = violations(&g, &p);
    assert!(
        found
            .iter()
            .any(|v| matches!(v, PlanViolation::Unwritten { kernel: 0, .. })),
        "{found:?}"
    );
}

#[test]
fn a_result_missing_at_its_sink_is_reported() {
    let g = chain();
    let mut p = planned(&g);
    p.kernels.pop();
    p.values.pop();
    let found = violations(&g, &p);
    assert!(
        matches!(found.as_slice(), [PlanViolation::Sink { sink, .. }] if sink.starts_with("output")),
        "{found:?}"
    );
}

#[test]
fn a_buffer_of_the_wrong_size_or_outside_its_memory_is_reported() {
    let g = chain();
    let mut p = planned(&g);
    if let Kernel::MatMul { a, .. } = &mut p.kernels[2] {
        a.shape = Shape::batched(&[2]);
    }
    p.scratch_len = 16;
    let found = violations(&g, &p);
    assert!(
        found
            .iter()
            .any(|v| matches!(v, PlanViolation::Size { kernel: 2, .. })),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|v| matches!(v, PlanViolation::OutOfBounds { kernel: 2, .. })),
        "{found:?}"
    );
}

#[test]
fn records_that_do_not_fit_the_kernels_are_reported() {
    let g = fork();
    let mut p = planned(&g);
    p.values[1].reads.pop();
    let found = violations(&g, &p);
    assert!(
        matches!(
            found.as_slice(),
            [PlanViolation::Buffers {
                kernel: 1,
                what: "read",
                ..
            }]
        ),
        "{found:?}"
    );
    p.values.pop();
    let found = violations(&g, &p);
    assert!(
        matches!(found.as_slice(), [PlanViolation::Records { .. }]),
        "{found:?}"
    );
}
