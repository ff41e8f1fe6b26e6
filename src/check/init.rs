//! Parameter initialisation chosen from the activation that follows a layer:
//! He (Kaiming) for the ReLU family, Xavier (Glorot) for tanh, sigmoid,
//! softmax and linear maps. The output layers are the exception: they are
//! drawn small (see [`OUTPUT_GAIN`]). An `init:` argument overrides both.

use super::model::*;

/// The output layers' weights are LeCun normal scaled by this gain:
/// deviation `OUTPUT_GAIN / sqrt(fan_in)`.
///
/// A fresh network should know nothing, so its first loss should be what
/// chance gives (ln C for C classes). He and Xavier keep the second moment
/// of the activations near 1 from layer to layer, which is right inside the
/// network but makes logits of deviation about 1 at its end: the loss then
/// starts well above ln C, differently for every seed, and the first steps
/// undo the draw. With the hidden features' second moment near 1, logits of
/// deviation 0.1 raise the cross-entropy by about `(1 - 1/C) 0.1² / 2`,
/// under 1% of ln C, while still breaking the symmetry between the output
/// units (zeros would also start at chance, but would give every earlier
/// layer a zero gradient on the first step). PyTorch's default for
/// `nn.Linear`, `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, is a gain of
/// `1/sqrt(3)`, still 10-15% above chance on average for small classifiers.
pub const OUTPUT_GAIN: f64 = 0.1;

pub fn assign(layers: &mut [Layer], output: LayerId, overrides: &[Option<Init>]) {
    let mut first_consumer: Vec<Option<LayerId>> = vec![None; layers.len()];
    for (id, layer) in layers.iter().enumerate() {
        for &i in &layer.inputs {
            first_consumer[i].get_or_insert(id);
        }
    }
    let following = following_activation(layers, &first_consumer);
    let ends = output_layers(layers, output);
    for id in 0..layers.len() {
        if !layers[id].op.rule().weights_follow_activation() {
            continue;
        }
        for t in layers[id].params.iter_mut().filter(|t| t.name == "weight") {
            t.init = overrides[id].unwrap_or(if ends[id] {
                output_init(t)
            } else {
                following[id]
            });
        }
    }
}

/// LeCun normal at [`OUTPUT_GAIN`], written as the normal it draws from.
fn output_init(weight: &Tensor) -> Init {
    let fan_in: usize = weight.shape.iter().skip(1).product::<usize>().max(1);
    Init::Normal {
        std: OUTPUT_GAIN / (fan_in as f64).sqrt(),
    }
}

/// The layers with weights (dense, conv) whose output reaches the network's
/// output without passing another layer with parameters: the flow is
/// followed back from the output through activations, dropout, pooling,
/// flattening, `+` and `concat`. A normalisation on the way rescales what
/// it receives, so the layers before it keep their usual initialisation.
pub fn output_layers(layers: &[Layer], output: LayerId) -> Vec<bool> {
    let mut ends = vec![false; layers.len()];
    let mut seen = vec![false; layers.len()];
    let mut stack = vec![output];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id], true) {
            continue;
        }
        let layer = &layers[id];
        let rule = layer.op.rule();
        if rule.weights_follow_activation() {
            ends[id] = true;
        } else if layer.params.is_empty() || rule.activation().is_some() {
            stack.extend(&layer.inputs);
        }
    }
    ends
}

/// For each layer, the initialisation that suits the activation seen by its
/// output: the flow is followed (through its first consumer) past norms,
/// dropout, pooling and flattening. Layers come in topological order, so
/// one pass from the last layer back computes every answer from the next.
fn following_activation(layers: &[Layer], first_consumer: &[Option<LayerId>]) -> Vec<Init> {
    let mut init = vec![Init::Xavier; layers.len()];
    for id in (0..layers.len()).rev() {
        let Some(next) = first_consumer[id] else {
            continue;
        };
        let rule = layers[next].op.rule();
        init[id] = match rule.activation() {
            Some(activation) => activation.init,
            // A linear map next: the output is seen as it is.
            None if rule.weights_follow_activation() => Init::Xavier,
            None => init[next],
        };
    }
    init
}
