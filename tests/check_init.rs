//! The default initialisation of each layer's weight: He or Xavier from the
//! activation that follows, small LeCun normal for the output layers, and an
//! explicit `init:` kept as written.

use dlc::check::{Init, Network, check_source};

const OUTPUT_GAIN: f64 = 0.1;

fn network(body: &str, input: &str) -> Network {
    let text = format!("network net(x: {input}) {{\n{body}\n}}\n");
    let checked = check_source(&text);
    assert!(!checked.has_errors(), "{text}: {:?}", checked.diagnostics);
    checked.model.expect("a model").network
}

/// The init of each `weight`, by layer name.
fn weight_inits(net: &Network) -> Vec<(String, Init)> {
    net.layers
        .iter()
        .flat_map(|l| {
            l.params
                .iter()
                .filter(|t| t.name == "weight")
                .map(|t| (l.name.clone(), t.init))
        })
        .collect()
}

fn output_init(fan_in: usize) -> Init {
    Init::Normal {
        std: OUTPUT_GAIN / (fan_in as f64).sqrt(),
    }
}

#[test]
fn the_final_dense_is_drawn_small_and_hidden_layers_follow_their_activation() {
    let net = network("dense 16; relu; dense 8; tanh; dense 3", "[4]");
    assert_eq!(
        weight_inits(&net),
        vec![
            ("dense1".into(), Init::He { slope: 0.0 }),
            ("dense2".into(), Init::Xavier),
            ("dense3".into(), output_init(8)),
        ]
    );
    let bias = &net.layers[net.output].params[1];
    assert_eq!((bias.name.as_str(), bias.init), ("bias", Init::Const(0.0)));
}

#[test]
fn an_activation_or_dropout_after_the_last_dense_keeps_it_an_output_layer() {
    for end in [
        "sigmoid",
        "softmax",
        "dropout 0.5",
        "prelu",
        "tanh; dropout 0.1",
    ] {
        let net = network(&format!("dense 16; relu; dense 2; {end}"), "[4]");
        assert_eq!(
            weight_inits(&net)[1],
            ("dense2".into(), output_init(16)),
            "ending in `{end}`"
        );
    }
}

#[test]
fn a_convolution_reached_through_pooling_and_flatten_is_an_output_layer() {
    let net = network(
        "conv 4, kernel: 3, pad: 1; relu; conv 10, kernel: 3; avgpool 6; flatten",
        "[1, 8, 8]",
    );
    assert_eq!(
        weight_inits(&net),
        vec![
            ("conv1".into(), Init::He { slope: 0.0 }),
            ("conv2".into(), output_init(4 * 3 * 3)),
        ]
    );
}

#[test]
fn both_towers_joined_at_the_end_are_output_layers() {
    let net = network(
        "a = dense 8 -> relu -> dense 2\nb = x -> dense 6 -> tanh -> dense 3\nconcat(a, b)",
        "[4]",
    );
    let inits = weight_inits(&net);
    let of = |init: Init| inits.iter().filter(|(_, i)| *i == init).count();
    assert_eq!(of(output_init(8)), 1, "{inits:?}");
    assert_eq!(of(output_init(6)), 1, "{inits:?}");
    assert_eq!(of(Init::He { slope: 0.0 }), 1, "{inits:?}");
    assert_eq!(of(Init::Xavier), 1, "{inits:?}");
}

#[test]
fn a_norm_at_the_end_leaves_the_layer_before_it_alone() {
    // The norm rescales its input to deviation 1 whatever the weights, so
    // drawing them small would change nothing but the gradient scale.
    let net = network("dense 16; relu; dense 3; batchnorm", "[4]");
    assert_eq!(weight_inits(&net)[1], ("dense2".into(), Init::Xavier));
}

#[test]
fn an_explicit_init_on_the_output_layer_is_kept() {
    for (written, init) in [
        ("he", Init::He { slope: 0.0 }),
        ("xavier", Init::Xavier),
        ("lecun", Init::Lecun),
        ("zeros", Init::Const(0.0)),
        ("normal(std: 0.5)", Init::Normal { std: 0.5 }),
        ("uniform(limit: 0.25)", Init::Uniform { limit: 0.25 }),
    ] {
        let net = network(&format!("dense 16; relu; dense 3, init: {written}"), "[4]");
        assert_eq!(weight_inits(&net)[1], ("dense2".into(), init), "{written}");
    }
}
