//! Every primitive, every loss and the composites the lowering builds,
//! evaluated exactly at their kinks and ties (the random points of
//! `gradcheck_primitives` keep clear of them), in f64 through the
//! interpreter.
//!
//! Where the loss is differentiable at the point (binary cross-entropy at a
//! logit of 0, softmax with tied logits, a norm of a constant input thanks to
//! its eps, a maximum moved along its tie), autodiff must equal the central
//! difference, and the one-sided differences must agree (so that the point is
//! shown to be smooth, not assumed). Where it is not (relu and abs at 0, a
//! tied max), autodiff must give the documented convention, PyTorch's, and
//! that value must lie between the one-sided derivatives.
//!
//! Last, the network of the binary cross-entropy report trains from zero
//! initialisation exactly as the same model trained by hand, and `dlc sanity`
//! passes its gradient check on it.

mod kink_support;

use dlc::BackendKind;
use dlc::check::check_source;
use dlc::ir::*;
use dlc::lower::lower;
use dlc::recipe::{Bench, SanityOptions, sanity};
use kink_support::*;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The logits of a `dense 1` (no activation) program's case.
fn logits(case: &Case) -> Vec<f64> {
    case.values()[case.output.index()].clone()
}

/// Gradients of a `dense 1` layer from the per-sample derivative of the
/// loss with respect to the logit, `d[i]`, averaged over the batch.
fn dense1_grads(case: &Case, d: &[f64]) -> (Vec<f64>, f64) {
    let n = case.batch;
    let width = case.features.len() / n;
    let mut gw = vec![0.0; width];
    for (i, di) in d.iter().enumerate() {
        for (j, g) in gw.iter_mut().enumerate() {
            *g += di * case.features[i * width + j] / n as f64;
        }
    }
    (gw, d.iter().sum::<f64>() / n as f64)
}

#[test]
fn binary_cross_entropy_at_a_zero_logit_is_sigmoid_minus_label() {
    let case = bce_at_zero();
    assert!(logits(&case).iter().all(|&z| z == 0.0));
    // Smooth at 0: the central difference is the derivative.
    case.assert_smooth(&[]);
    // By hand: d/dz = sigmoid(0) - y = 0.5 - y.
    let d: Vec<f64> = case.labels.iter().map(|y| 0.5 - y).collect();
    let (gw, gb) = dense1_grads(&case, &d);
    case.assert_gradient("dense1.weight", &gw);
    case.assert_gradient("dense1.bias", &[gb]);
    assert_eq!(gb, -0.25, "the labels are chosen to make it nonzero");
}

#[test]
fn binary_cross_entropy_far_out_on_both_tails_is_finite_and_exact() {
    let case = bce_saturated();
    let z = logits(&case);
    assert_eq!(
        z,
        SATURATED.iter().flat_map(|&z| [z, z]).collect::<Vec<_>>()
    );
    // The stable reference: max(z, 0) - z y + log1p(e^-|z|), in f64.
    let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
    let per: Vec<f64> = z
        .iter()
        .zip(&case.labels)
        .map(|(&z, &y)| softplus(z) - z * y)
        .collect();
    let want = per.iter().sum::<f64>() / per.len() as f64;
    let got = case.loss_at(&case.params);
    assert!(
        (got - want).abs() <= 1e-12 * want,
        "loss {got}, by hand {want}"
    );
    let d: Vec<f64> = z
        .iter()
        .zip(&case.labels)
        .map(|(&z, &y)| sigmoid(z) - y)
        .collect();
    let (gw, gb) = dense1_grads(&case, &d);
    case.assert_gradient("dense1.weight", &gw);
    case.assert_gradient("dense1.bias", &[gb]);
    case.assert_smooth(&[]);
}

#[test]
fn cross_entropy_with_tied_logits_is_softmax_minus_one_hot() {
    let tied = ce_all_tied();
    tied.assert_smooth(&[]);
    // All three logits 0: softmax 1/3 each.
    let n = tied.batch as f64;
    let mut gb = vec![0.0; 3];
    for &label in &tied.labels {
        for (c, g) in gb.iter_mut().enumerate() {
            *g += (1.0 / 3.0 - if c == label as usize { 1.0 } else { 0.0 }) / n;
        }
    }
    tied.assert_gradient("dense1.bias", &gb);
    // Two tied maxima and a third logit below them.
    ce_two_tied().assert_smooth(&[]);
}

#[test]
fn softmax_of_tied_values_is_smooth() {
    softmax_tied().assert_smooth(&[]);
}

#[test]
fn mse_at_its_target_is_smooth() {
    let case = mse_on_target();
    case.assert_smooth(&[]);
    // d/db mean((b - t)^2) = mean(2 (b - t)): three terms vanish.
    let gb: f64 = case.labels.iter().map(|t| 2.0 * (0.5 - t)).sum::<f64>() / 4.0;
    case.assert_gradient("dense1.bias", &[gb]);
}

/// The first layer's gradients of `activation_at_zero`, by hand, when the
/// activation's derivative at 0 is taken to be `slope`: every hidden value
/// is 0, so the output is `dense2.bias` and each sample's `dL/dout` is
/// `2 (b2 - t) / N`.
fn first_layer_by_hand(case: &Case, slope: f64) -> (Vec<f64>, Vec<f64>) {
    first_layer_by_hand_at(case, 0.0, slope)
}

/// As [`first_layer_by_hand`], for an activation whose value at 0 is
/// `value`: the output is `dense2.bias + dense2.weight . value`.
fn first_layer_by_hand_at(case: &Case, value: f64, slope: f64) -> (Vec<f64>, Vec<f64>) {
    let w2 = &case.params[case.param("dense2.weight")];
    let b2 = case.params[case.param("dense2.bias")][0];
    let out = b2 + value * (w2[0] + w2[1]);
    let n = case.batch as f64;
    let (mut gw, mut gb) = (vec![0.0; 2], vec![0.0; 2]);
    for (i, t) in case.labels.iter().enumerate() {
        let dout = 2.0 * (out - t) / n;
        for j in 0..2 {
            gw[j] += dout * w2[j] * slope * case.features[i];
            gb[j] += dout * w2[j] * slope;
        }
    }
    (gw, gb)
}

#[test]
fn relu_leaky_relu_and_prelu_at_zero_take_the_negative_side() {
    // PyTorch's: relu'(0) = 0; leaky_relu and prelu use the slope at 0.
    // (The graph holds the leaky slope as an f32 constant.)
    let leaky = 0.2f32 as f64;
    for (activation, slope) in [("relu", 0.0), ("leaky_relu 0.2", leaky), ("prelu", 0.25)] {
        let case = activation_at_zero(activation);
        let (gw, gb) = first_layer_by_hand(&case, slope);
        case.assert_gradient("dense1.weight", &gw);
        case.assert_gradient("dense1.bias", &gb);
        // Moving a bias moves every sample to the same side of the kink:
        // the convention is the left derivative, and the right one differs.
        let b1 = case.param("dense1.bias");
        for (k, &g) in gb.iter().enumerate() {
            let s = case.slopes(b1, k);
            assert!(
                relative(g, s.left) < 1e-6 && relative(s.left, s.right) > 0.1,
                "{activation}: bias {k}: autodiff {g}, left {}, right {}",
                s.left,
                s.right
            );
        }
        // What does not move the kink is smooth.
        case.assert_smooth(&["dense2.weight", "dense2.bias"]);
        if activation == "prelu" {
            // d/d slope = sum of min(x, 0) * dy = 0 on either side of x = 0.
            case.assert_smooth(&["prelu1.weight"]);
        }
    }
}

#[test]
fn max_pooling_of_ties_sends_the_gradient_to_the_first_maximum() {
    let case = maxpool_tied();
    // By hand: the convolution gives 0.375 everywhere, so the logit is
    // 0.375 * sum(w) for every sample; window (a, b) of sample i sends
    // dL/dpool = (sigmoid(z) - y_i) / N * w[2a + b] to its top-left
    // position (2a, 2b), which read the feature x_i[2a, 2b].
    let w = &case.params[case.param("dense1.weight")];
    let z: f64 = 0.375 * w.iter().sum::<f64>();
    let (mut g_weight, mut g_bias) = (0.0, 0.0);
    for (i, y) in case.labels.iter().enumerate() {
        let dz = (sigmoid(z) - y) / case.batch as f64;
        for a in 0..2 {
            for b in 0..2 {
                let d = dz * w[2 * a + b];
                g_weight += d * case.features[i * 16 + 2 * a * 4 + 2 * b];
                g_bias += d;
            }
        }
    }
    case.assert_gradient("conv1.weight", &[g_weight]);
    case.assert_gradient("conv1.bias", &[g_bias]);
    // The bias moves every position together: smooth through the ties.
    case.assert_smooth(&["conv1.bias", "dense1.weight", "dense1.bias"]);
}

#[test]
fn norms_of_constant_inputs_are_smooth() {
    // Zero variance: eps keeps the normalisation differentiable.
    for case in [
        norm_of_constant("batchnorm"),
        norm_of_constant("layernorm"),
        instancenorm_of_constant(),
    ] {
        case.assert_smooth(&[]);
    }
}

#[test]
fn dropout_passes_the_gradient_through_its_mask() {
    let case = dropout_mask();
    let vals = case.values();
    let mask = case
        .graph
        .nodes
        .iter()
        .position(|n| matches!(n.op, Op::DropoutMask { .. }))
        .expect("a dropout mask");
    let m = &vals[mask];
    assert!(m.contains(&0.0) && m.contains(&2.0), "mask {m:?}");
    case.assert_smooth(&[]);
}

// ---- Primitives.

#[test]
fn smooth_unary_ops_at_zero_and_saturated() {
    use UnaryOp::*;
    for op in [Neg, Exp, Tanh, Sigmoid, Square] {
        unary_at_zero(op).assert_smooth(&[]);
    }
    for op in [Tanh, Sigmoid] {
        let case = unary_saturated(op);
        assert!(case.gradient(0).iter().all(|g| g.is_finite()));
        case.assert_smooth(&[]);
    }
}

#[test]
fn relu_and_abs_at_zero_follow_pytorch() {
    // x = [0, -0, 0.5, -0.75], w = [1, 1.25, 1.5, 1.75].
    let relu = unary_at_zero(UnaryOp::Relu);
    relu.assert_gradient("x0", &[0.0, 0.0, 1.5, 0.0]);
    relu.assert_between_sides("x0");
    let abs = unary_at_zero(UnaryOp::Abs);
    abs.assert_gradient("x0", &[0.0, 0.0, 1.5, -1.75]);
    abs.assert_between_sides("x0");
}

#[test]
fn step_sign_and_comparisons_carry_no_gradient() {
    for op in [UnaryOp::Step, UnaryOp::Sign] {
        assert_eq!(unary_at_zero(op).grads[0], None, "{op:?}");
    }
    for op in [BinaryOp::Gt, BinaryOp::Eq] {
        let case = binary_ties(op, &[2, 3]);
        assert_eq!(case.grads[..2], [None, None], "{op:?}");
    }
}

/// The convention for `max(a, b)` (or `min`) elementwise, computed from
/// its definition: the winner takes `w`, a tie gives each `w / 2`.
fn split_by_hand(case: &Case, op: BinaryOp) -> (Vec<f64>, Vec<f64>) {
    let (a, b, w) = (&case.params[0], &case.params[1], &case.params[2]);
    let mut da = vec![0.0; a.len()];
    let mut db = vec![0.0; b.len()];
    for i in 0..a.len() {
        let j = i % b.len();
        let a_better = if op == BinaryOp::Max {
            a[i] > b[j]
        } else {
            a[i] < b[j]
        };
        if a[i] == b[j] {
            da[i] += w[i] / 2.0;
            db[j] += w[i] / 2.0;
        } else if a_better {
            da[i] += w[i];
        } else {
            db[j] += w[i];
        }
    }
    (da, db)
}

#[test]
fn max_and_min_split_ties_evenly() {
    // As torch.maximum and torch.minimum.
    for op in [BinaryOp::Max, BinaryOp::Min] {
        for shape in [&[2usize, 3][..], &[1, 3]] {
            let case = binary_ties(op, shape);
            let (da, db) = split_by_hand(&case, op);
            case.assert_gradient("x0", &da);
            case.assert_gradient("x1", &db);
            // Both operands moved together: smooth, whatever the ties.
            let ones: Vec<Vec<f64>> = vec![
                vec![1.0; 6],
                vec![1.0; shape.iter().product()],
                vec![0.0; 6],
            ];
            case.assert_directional(&ones);
            if shape == [2, 3] {
                case.assert_between_sides("x0");
                case.assert_between_sides("x1");
            }
        }
    }
}

#[test]
fn max_reduction_shares_ties_evenly() {
    // As torch.amax. Rows [0.25, 1.5, 1.5, -1] and [0, -0, 0, -0].
    let rows = max_reduction_ties(&[1]);
    // w = [1, 1.25]: two-way tie in row 0, four-way in row 1.
    rows.assert_gradient("x0", &[0.0, 0.5, 0.5, 0.0, 0.3125, 0.3125, 0.3125, 0.3125]);
    rows.assert_between_sides("x0");
    rows.assert_directional(&[vec![1.0; 8], vec![0.0; 2]]);
    let all = max_reduction_ties(&[0, 1]);
    all.assert_gradient("x0", &[0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]);
    all.assert_directional(&[vec![1.0; 8], vec![0.0; 1]]);
    // A row the maximum skips entirely (all NaN) gets no gradient, not NaN.
    let nan = max_reduction_of_nan();
    nan.assert_gradient("x0", &[0.0, 0.0, 0.625, 0.625]);
}

/// The convention for max pooling, from its definition: each window's
/// weight goes to the first in-bounds position of the window, in row-major
/// order, holding the window's maximum.
fn first_max_by_hand(p: &Pooling, w: &[f64]) -> Vec<f64> {
    let (image, window, stride, pad) = (&p.image, p.window, p.stride, p.pad);
    let out = |axis: usize| (4 + 2 * pad[axis] - window[axis]) / stride[axis] + 1;
    let mut grad = vec![0.0; 16];
    for oy in 0..out(0) {
        for ox in 0..out(1) {
            let inside: Vec<usize> = (0..window[0])
                .flat_map(|i| (0..window[1]).map(move |j| (i, j)))
                .filter_map(|(i, j)| {
                    let y = (oy * stride[0] + i)
                        .checked_sub(pad[0])
                        .filter(|&y| y < 4)?;
                    let x = (ox * stride[1] + j)
                        .checked_sub(pad[1])
                        .filter(|&x| x < 4)?;
                    Some(y * 4 + x)
                })
                .collect();
            let best = inside.iter().map(|&k| image[k]).fold(f64::MIN, f64::max);
            let first = inside.into_iter().find(|&k| image[k] == best).unwrap();
            grad[first] += w[oy * out(1) + ox];
        }
    }
    grad
}

#[test]
fn max_pooling_sends_ties_to_the_first_maximum_of_the_window() {
    // As torch.nn.functional.max_pool2d.
    for p in poolings() {
        let case = maxpool_ties(&p);
        let w = case.params[1].clone();
        let want = first_max_by_hand(&p, &w);
        case.assert_gradient("x0", &want);
        // Every position moved together: smooth (padding never wins).
        case.assert_directional(&[vec![1.0; 16], vec![0.0; w.len()]]);
        if p.stride == p.window {
            // Windows of their own: each coordinate sits on one kink.
            case.assert_between_sides("x0");
        }
    }
}

#[test]
fn select_routes_by_the_condition_alone() {
    // Conditions [0, -0, NaN, 1]: NaN is not 0, so it picks `a`.
    let case = select_conditions();
    case.assert_gradient("x1", &[0.0, 0.0, 1.5, 1.75]);
    case.assert_gradient("x2", &[1.0, 1.25, 0.0, 0.0]);
    assert_eq!(case.grads[0], None, "the condition has no gradient");
    case.assert_smooth(&["x1", "x2"]);
}

#[test]
fn smooth_losses_read_no_kink_on_their_gradient_path() {
    // Each loss is smooth in the logits; so must be every op the gradient
    // flows through between them, or its value at a kink would depend on
    // conventions cancelling out.
    for (loss, data, out) in [
        ("cross_entropy", "blobs(classes: 3)", 3),
        ("binary_cross_entropy", "blobs(classes: 2)", 1),
        ("mse", "sine()", 1),
    ] {
        let header = format!("(x: [{}]) -> {out}", if loss == "mse" { 1 } else { 2 });
        let source = program_text(data, &header, &format!("dense {out}"), loss);
        let model = check_source(&source).model.unwrap();
        let lowered = lower(&model, Mode::Train, true);
        let (g, output, end) = (lowered.graph, lowered.output, lowered.loss.unwrap());
        let len = end.index() + 1;
        let mut from_output = vec![false; len];
        from_output[output.index()] = true;
        for i in output.index() + 1..len {
            from_output[i] = !matches!(g.nodes[i].op, Op::Detach(_) | Op::OneHot(_))
                && g.nodes[i]
                    .op
                    .operands()
                    .iter()
                    .any(|o| from_output[o.index()]);
        }
        let mut to_loss = vec![false; len];
        to_loss[end.index()] = true;
        for i in (0..len).rev() {
            if to_loss[i] && !matches!(g.nodes[i].op, Op::Detach(_)) {
                for o in g.nodes[i].op.operands() {
                    to_loss[o.index()] = true;
                }
            }
        }
        for i in 0..len {
            let op = &g.nodes[i].op;
            let kink = matches!(
                op,
                Op::Unary(
                    UnaryOp::Abs | UnaryOp::Relu | UnaryOp::Sign | UnaryOp::Step,
                    _
                ) | Op::Binary(BinaryOp::Max | BinaryOp::Min, ..)
                    | Op::Max(..)
                    | Op::Select(..)
            );
            assert!(
                !(from_output[i] && to_loss[i] && kink),
                "{loss}: the gradient flows through {} ({op:?})",
                ValueId(i as u32)
            );
        }
    }
}

// ---- The program of the report, end to end.

const ZERO_INIT_BCE: &str = "\
data d = random_images(points: 200, shape: [2], classes: 2) { seed 1 }
network net(x: [2]) -> 1 { dense 1, init: zeros }
train net on d { loss binary_cross_entropy; optimizer sgd(0.1); batch 200; epochs 20 }
";

/// The same model trained by hand in f64: full-batch gradient descent on
/// mean(softplus(z) - z y), whose gradient is sigmoid(z) - y. Returns each
/// epoch's loss (before its step) and the final weights and bias.
fn train_by_hand(features: &[f64], labels: &[f64], epochs: usize) -> (Vec<f64>, [f64; 3]) {
    let n = labels.len() as f64;
    let mut p = [0.0f64; 3];
    let mut losses = Vec::new();
    for _ in 0..epochs {
        let (mut loss, mut grad) = (0.0, [0.0f64; 3]);
        for (x, &y) in features.chunks(2).zip(labels) {
            let z = p[0] * x[0] + p[1] * x[1] + p[2];
            loss += (z.max(0.0) + (-z.abs()).exp().ln_1p() - z * y) / n;
            let d = (sigmoid(z) - y) / n;
            grad[0] += d * x[0];
            grad[1] += d * x[1];
            grad[2] += d;
        }
        losses.push(loss);
        for (w, g) in p.iter_mut().zip(grad) {
            *w -= 0.1 * g;
        }
    }
    (losses, p)
}

#[test]
fn zero_initialised_bce_trains_as_by_hand() {
    let mut model = dlc::compile(ZERO_INIT_BCE).unwrap();
    assert!(model.buffers().params.iter().all(|&p| p == 0.0));
    let spec = model.model().data.clone().unwrap();
    let data = dlc::runtime::load::load(&spec, &dlc::data::FilePolicy::default())
        .unwrap()
        .train;
    let features: Vec<f64> = data.features().iter().map(|&x| x as f64).collect();
    let dlc::data::Targets::Classes { labels, .. } = &data.targets() else {
        panic!("classes expected")
    };
    let labels: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    let (losses, want) = train_by_hand(&features, &labels, 20);

    let report = model
        .train(&dlc::TrainOptions::default(), &mut |_| {})
        .unwrap();
    let got = [
        model.parameter("dense1.weight").unwrap()[0] as f64,
        model.parameter("dense1.weight").unwrap()[1] as f64,
        model.parameter("dense1.bias").unwrap()[0] as f64,
    ];
    // f32 training against f64: roundings of 6e-8 through sums of 200
    // terms, and the JIT's exp and log (under 1 ulp), over 20 steps; 3.5e-7
    // at worst. The gradient of the report (1 - y at z = 0) moves the bias
    // by 0.05 too far on the first step.
    for (e, (m, l)) in report.epochs.iter().zip(&losses).enumerate() {
        assert!(
            (m.train_loss - l).abs() <= 1e-6 * l,
            "epoch {}: loss {}, by hand {l}",
            e + 1,
            m.train_loss
        );
    }
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-6 * w.abs().max(1e-3),
            "parameter {k}: trained {g}, by hand {w} (all {got:?} against {want:?})"
        );
    }
}

#[test]
fn zero_initialised_bce_passes_the_sanity_gradient_check() {
    let bench = Bench::new(ZERO_INIT_BCE, BackendKind::Jit, "check").unwrap();
    let report = sanity(&bench, &SanityOptions::default(), &mut |_| {}).unwrap();
    let gradients = report.check("gradients").unwrap();
    assert!(gradients.passed, "{}", gradients.text());
    assert!(!gradients.summary.contains("kinks"), "{}", gradients.text());
}

#[test]
fn grown_activations_match_finite_differences_at_smooth_points() {
    for activation in GROWN_ACTIVATIONS {
        activation_smooth(activation).assert_smooth(&[]);
    }
}

#[test]
fn grown_activations_at_zero_follow_pytorch() {
    // elu'(0) = alpha, from the left branch (PyTorch's); silu'(0) = 1/2;
    // softplus'(0) = sigmoid(0) = 1/2 for any beta; hardtanh'(0) = 1.
    // Each with its value at 0: softplus(0) = log(2) / beta.
    let ln2 = 2f64.ln();
    for (activation, value, slope) in [
        ("elu 0.5", 0.0, 0.5),
        ("silu", 0.0, 0.5),
        ("softplus", ln2, 0.5),
        ("softplus 2, threshold: 1", ln2 / 2.0, 0.5),
        ("hardtanh", 0.0, 1.0),
        ("gelu", 0.0, 0.5),
        ("gelu approximate: tanh", 0.0, 0.5),
    ] {
        let case = activation_at_zero(activation);
        let (gw, gb) = first_layer_by_hand_at(&case, value, slope);
        case.assert_gradient("dense1.weight", &gw);
        case.assert_gradient("dense1.bias", &gb);
        case.assert_smooth(&["dense2.weight", "dense2.bias"]);
    }
    // ELU's kink at 0 is real (slopes alpha and 1): autodiff takes the left.
    let elu = activation_at_zero("elu 0.5");
    let b1 = elu.param("dense1.bias");
    for k in 0..2 {
        let s = elu.slopes(b1, k);
        assert!(relative(s.left, s.right) > 0.1, "elu: no kink at 0: {s:?}");
    }
    // The smooth ones have none.
    for activation in ["silu", "softplus", "gelu", "gelu approximate: tanh"] {
        activation_at_zero(activation).assert_smooth(&[]);
    }
}

#[test]
fn hardtanh_at_its_ends_has_no_gradient() {
    // PyTorch: 0 at x = min and x = max, as beyond them.
    for (activation, ends) in [
        ("hardtanh", [1.0, -1.0]),
        ("hardtanh min: -0.5, max: 2", [2.0, -0.5]),
    ] {
        let case = activation_at(activation, ends);
        case.assert_gradient("dense1.weight", &[0.0, 0.0]);
        case.assert_gradient("dense1.bias", &[0.0, 0.0]);
        // The ends are kinks: from inside, the slope is 1.
        let b1 = case.param("dense1.bias");
        for k in 0..2 {
            let s = case.slopes(b1, k);
            assert!(
                relative(s.left, s.right) > 0.1,
                "{activation}: no kink at {ends:?}: {s:?}"
            );
        }
    }
}

#[test]
fn softplus_at_its_threshold_is_still_the_smooth_branch() {
    // beta * x = threshold exactly: PyTorch's test is strict (`>`), so the
    // smooth branch applies and the derivative is sigmoid(beta * x).
    let case = activation_at("softplus 2, threshold: 1", [0.5, 0.25]);
    let slopes = [sigmoid(1.0), sigmoid(0.5)];
    let w2 = &case.params[case.param("dense2.weight")];
    let b2 = case.params[case.param("dense2.bias")][0];
    let hidden = [
        (1.0 + 1f64.exp()).ln() / 2.0,
        (1.0 + 0.5f64.exp()).ln() / 2.0,
    ];
    let out = b2 + w2[0] * hidden[0] + w2[1] * hidden[1];
    let n = case.batch as f64;
    let mut gb = [0.0; 2];
    for t in &case.labels {
        let dout = 2.0 * (out - t) / n;
        for j in 0..2 {
            gb[j] += dout * w2[j] * slopes[j];
        }
    }
    let got = case.gradient(case.param("dense1.bias"));
    for j in 0..2 {
        assert!(
            relative(got[j], gb[j]) < 1e-6,
            "softplus at its threshold: bias {j}: autodiff {}, by hand {}",
            got[j],
            gb[j]
        );
    }
}
