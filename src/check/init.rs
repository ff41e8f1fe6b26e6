//! Parameter initialisation chosen from the activation that follows a layer:
//! He (Kaiming) for the ReLU family, Xavier (Glorot) for tanh, sigmoid,
//! softmax and linear outputs. An `init:` argument overrides the choice.

use super::model::*;

pub fn assign(layers: &mut [Layer], overrides: &[Option<Init>]) {
    let mut first_consumer: Vec<Option<LayerId>> = vec![None; layers.len()];
    for (id, layer) in layers.iter().enumerate() {
        for &i in &layer.inputs {
            first_consumer[i].get_or_insert(id);
        }
    }
    let following = following_activation(layers, &first_consumer);
    for id in 0..layers.len() {
        if !layers[id].op.rule().weights_follow_activation() {
            continue;
        }
        let init = overrides[id].unwrap_or(following[id]);
        for t in layers[id].params.iter_mut().filter(|t| t.name == "weight") {
            t.init = init;
        }
    }
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
