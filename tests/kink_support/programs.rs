//! Whole programs at their kinks: each loss, and the composites the
//! lowering builds (activations, pooling, norms, dropout). The gradient
//! tests assert what each must give; the JIT tests run them all.

use super::{Case, features};

/// A program's source with the given data, network body and loss.
pub fn program_text(data: &str, header: &str, body: &str, loss: &str) -> String {
    format!(
        "data d = {data}\nnetwork net{header} {{\n{body}\n}}\n\
         train net on d {{ loss {loss}; optimizer sgd(0.1); batch 4; epochs 1 }}\n"
    )
}

/// Binary cross-entropy of one logit at exactly 0 (zero weights and bias).
pub fn bce_at_zero() -> Case {
    Case::program(
        "bce at z = 0",
        &program_text(
            "blobs(classes: 2)",
            "(x: [2]) -> 1",
            "dense 1",
            "binary_cross_entropy",
        ),
        &[("dense1.weight", vec![0.0, 0.0])],
        features(4, 2),
        vec![0.0, 1.0, 1.0, 1.0],
    )
}

/// The logits of the saturated-BCE case, each with both labels.
pub const SATURATED: [f64; 4] = [100.0, -100.0, 1e4, -1e4];

/// Binary cross-entropy far out on both tails: the logit is the feature.
pub fn bce_saturated() -> Case {
    let features: Vec<f64> = SATURATED.iter().flat_map(|&z| [z, z]).collect();
    let labels: Vec<f64> = SATURATED.iter().flat_map(|_| [0.0, 1.0]).collect();
    // A step of 1e-3 moves a logit of 1e4 by 20 at most, and the loss is
    // linear to the last bit there: the large step keeps the central
    // difference clear of rounding.
    Case::program(
        "bce at |z| = 100 and 1e4",
        &program_text(
            "blobs(classes: 2, features: 1)",
            "(x: [1]) -> 1",
            "dense 1",
            "binary_cross_entropy",
        ),
        &[("dense1.weight", vec![1.0])],
        features,
        labels,
    )
    .with_step(1e-3)
}

/// Softmax cross-entropy with all three logits tied (zero weights and bias).
pub fn ce_all_tied() -> Case {
    Case::program(
        "cross-entropy, three tied logits",
        &program_text(
            "blobs(classes: 3)",
            "(x: [2]) -> 3",
            "dense 3",
            "cross_entropy",
        ),
        &[("dense1.weight", vec![0.0; 6])],
        features(4, 2),
        vec![0.0, 1.0, 2.0, 2.0],
    )
}

/// Softmax cross-entropy with the two largest logits tied, the third below.
pub fn ce_two_tied() -> Case {
    Case::program(
        "cross-entropy, two tied maxima",
        &program_text(
            "blobs(classes: 3)",
            "(x: [2]) -> 3",
            "dense 3",
            "cross_entropy",
        ),
        &[
            ("dense1.weight", vec![0.0; 6]),
            ("dense1.bias", vec![0.75, 0.75, -0.5]),
        ],
        features(4, 2),
        vec![2.0, 0.0, 1.0, 2.0],
    )
}

/// A softmax layer on three equal values (the stabiliser's maximum tied).
pub fn softmax_tied() -> Case {
    Case::program(
        "softmax of tied values",
        &program_text(
            "sine()",
            "(x: [1]) -> 1",
            "dense 3\nsoftmax\ndense 1",
            "mse",
        ),
        &[
            ("dense1.weight", vec![0.0; 3]),
            ("dense1.bias", vec![0.5; 3]),
            ("dense2.weight", vec![0.5, -0.25, 0.75]),
        ],
        features(4, 1),
        vec![0.25, -0.5, 0.125, 1.0],
    )
}

/// Squared error with some outputs exactly on their targets.
pub fn mse_on_target() -> Case {
    Case::program(
        "mse at the target",
        &program_text("sine()", "(x: [1]) -> 1", "dense 1", "mse"),
        &[("dense1.weight", vec![0.0]), ("dense1.bias", vec![0.5])],
        features(4, 1),
        vec![0.5, 0.5, -0.25, 0.5],
    )
}

/// `dense 2 -> ACTIVATION -> dense 1` with the first layer at 0: every
/// activation reads exactly 0.
pub fn activation_at_zero(activation: &str) -> Case {
    activation_at(activation, [0.0, 0.0])
}

/// `dense 2 -> ACTIVATION -> dense 1` with the first layer's weights at 0:
/// the two hidden units read exactly `hidden`, their biases.
pub fn activation_at(activation: &str, hidden: [f64; 2]) -> Case {
    let name = if hidden == [0.0, 0.0] {
        format!("{activation} at 0")
    } else {
        format!("{activation} at {hidden:?}")
    };
    Case::program(
        &name,
        &program_text(
            "sine()",
            "(x: [1]) -> 1",
            &format!("dense 2\n{activation}\ndense 1"),
            "mse",
        ),
        &[
            ("dense1.weight", vec![0.0; 2]),
            ("dense1.bias", hidden.to_vec()),
            ("dense2.weight", vec![0.5, -0.75]),
            ("dense2.bias", vec![0.25]),
        ],
        features(4, 1),
        vec![0.5, -0.25, 1.0, 0.125],
    )
}

/// `dense 2 -> ACTIVATION -> dense 1` at a point with no kink: weights and
/// biases that spread the hidden values over both signs.
pub fn activation_smooth(activation: &str) -> Case {
    Case::program(
        &format!("{activation} at a smooth point"),
        &program_text(
            "sine()",
            "(x: [1]) -> 1",
            &format!("dense 2\n{activation}\ndense 1"),
            "mse",
        ),
        &[
            ("dense1.weight", vec![1.375, -0.625]),
            ("dense1.bias", vec![0.3125, 0.1875]),
            ("dense2.weight", vec![0.5, -0.75]),
            ("dense2.bias", vec![0.25]),
        ],
        features(4, 1),
        vec![0.5, -0.25, 1.0, 0.125],
    )
}

/// The activations added to the language by their definition files alone.
pub const GROWN_ACTIVATIONS: [&str; 8] = [
    "elu 0.5",
    "silu",
    "softplus",
    "softplus 2, threshold: 1",
    "hardtanh",
    "hardtanh min: -0.5, max: 2",
    "gelu",
    "gelu approximate: tanh",
];

/// Max pooling of a constant image: every window is a four-way tie.
pub fn maxpool_tied() -> Case {
    Case::program(
        "max pooling of equal values",
        &program_text(
            "random_images(points: 8, shape: [1, 4, 4], classes: 2)",
            "(x: [1, 4, 4]) -> 1",
            "conv 1, kernel: 1\nmaxpool 2\nflatten\ndense 1",
            "binary_cross_entropy",
        ),
        &[
            ("conv1.weight", vec![0.0]),
            ("conv1.bias", vec![0.375]),
            // A logit away from 0 (where the loss has its own test).
            ("dense1.weight", vec![0.5, -0.25, 0.75, -0.5]),
        ],
        features(3, 16),
        vec![1.0, 0.0, 1.0],
    )
}

/// `dense 3 -> NORM -> dense 1` with the first layer's weights at 0: the
/// norm sees a constant, of variance 0, over what it normalises.
pub fn norm_of_constant(norm: &str) -> Case {
    Case::program(
        &format!("{norm} of a constant"),
        &program_text(
            "sine()",
            "(x: [1]) -> 1",
            &format!("dense 3\n{norm}\ndense 1"),
            "mse",
        ),
        &[
            ("dense1.weight", vec![0.0; 3]),
            // Equal for layer norm (constant per sample); batch norm
            // normalises each feature over the batch, constant anyway.
            ("dense1.bias", vec![0.25; 3]),
            ("dense2.weight", vec![0.5, -0.75, 1.0]),
        ],
        features(4, 1),
        vec![0.5, -0.25, 1.0, 0.125],
    )
}

/// Instance norm of channels that are constant over the image.
pub fn instancenorm_of_constant() -> Case {
    Case::program(
        "instancenorm of a constant",
        &program_text(
            "random_images(points: 8, shape: [1, 4, 4], classes: 2)",
            "(x: [1, 4, 4]) -> 1",
            "conv 2, kernel: 3, pad: 1\ninstancenorm affine\nflatten\ndense 1",
            "binary_cross_entropy",
        ),
        &[
            ("conv1.weight", vec![0.0; 18]),
            ("conv1.bias", vec![0.25, -0.5]),
            (
                "dense1.weight",
                (0..32).map(|i| (i % 7) as f64 / 8.0 - 0.375).collect(),
            ),
            // The normalised values are 0: a logit away from 0.
            ("dense1.bias", vec![0.25]),
        ],
        features(2, 16),
        vec![1.0, 0.0],
    )
}

/// Dropout between two dense layers (the mask fixed by the seed and step).
pub fn dropout_mask() -> Case {
    Case::program(
        "dropout",
        &program_text(
            "sine()",
            "(x: [1]) -> 1",
            "dense 4\ndropout 0.5\ndense 1",
            "mse",
        ),
        &[
            ("dense1.weight", vec![0.5, -0.25, 0.75, 1.0]),
            ("dense2.weight", vec![0.25, 0.5, -0.5, 0.75]),
        ],
        features(4, 1),
        vec![0.5, -0.25, 1.0, 0.125],
    )
}

/// Every program case (the JIT tests run them all).
pub fn program_cases() -> Vec<Case> {
    let smooth = GROWN_ACTIVATIONS.iter().map(|a| activation_smooth(a));
    smooth
        .chain([
            bce_at_zero(),
            bce_saturated(),
            ce_all_tied(),
            ce_two_tied(),
            softmax_tied(),
            mse_on_target(),
            activation_at_zero("relu"),
            activation_at_zero("leaky_relu 0.2"),
            activation_at_zero("prelu"),
            activation_at_zero("elu 0.5"),
            activation_at_zero("silu"),
            activation_at_zero("softplus"),
            activation_at_zero("hardtanh"),
            activation_at_zero("gelu"),
            activation_at_zero("gelu approximate: tanh"),
            activation_at("hardtanh", [1.0, -1.0]),
            activation_at("softplus 2, threshold: 1", [0.5, 0.25]),
            maxpool_tied(),
            norm_of_constant("batchnorm"),
            norm_of_constant("layernorm"),
            instancenorm_of_constant(),
            dropout_mask(),
        ])
        .collect()
}
