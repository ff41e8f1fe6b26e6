//! Parameter initialisation chosen from the activation that follows a layer:
//! He (Kaiming) for the ReLU family, Xavier (Glorot) for tanh, sigmoid,
//! softmax and linear outputs. An `init:` argument overrides the choice.

use super::model::*;

pub fn assign(layers: &mut [Layer], overrides: &[Option<Init>]) {
    let mut consumers: Vec<Vec<LayerId>> = vec![Vec::new(); layers.len()];
    for (id, layer) in layers.iter().enumerate() {
        for &i in &layer.inputs {
            consumers[i].push(id);
        }
    }
    for id in 0..layers.len() {
        if !matches!(layers[id].op, Op::Dense { .. } | Op::Conv { .. }) {
            continue;
        }
        let init = overrides[id].unwrap_or_else(|| from_activation(layers, &consumers, id));
        for t in layers[id].params.iter_mut().filter(|t| t.name == "weight") {
            t.init = init;
        }
    }
}

/// Follows the flow past norms, dropout, pooling and flattening to the
/// activation that will see this layer's output.
fn from_activation(layers: &[Layer], consumers: &[Vec<LayerId>], id: LayerId) -> Init {
    let mut at = id;
    loop {
        let Some(&next) = consumers[at].first() else {
            return Init::Xavier;
        };
        match layers[next].op {
            Op::Activation(Activation::Relu) => return Init::He { slope: 0.0 },
            Op::Activation(Activation::LeakyRelu { slope }) => return Init::He { slope },
            Op::PRelu { .. } => return Init::He { slope: 0.25 },
            Op::Activation(_) | Op::Dense { .. } | Op::Conv { .. } => return Init::Xavier,
            _ => at = next,
        }
    }
}
