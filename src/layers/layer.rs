//! A layer of a checked network: its kind with its settings, where its
//! inputs come from, its shape, and the tensors it owns.

use super::Op;
use crate::ir::Init;
use crate::syntax::Span;

/// A layer's index in its network's topological order.
pub type LayerId = usize;

#[derive(Clone, Debug)]
pub struct Layer {
    /// Unique and stable: `dense1`, `residual2.conv1`; parameter names extend it.
    pub name: String,
    pub op: Op,
    pub inputs: Vec<LayerId>,
    /// Output shape of one sample (the batch dimension is implicit).
    pub shape: Vec<usize>,
    pub params: Vec<Tensor>,
    /// State that is not trained by gradients: batch norm's running statistics.
    pub buffers: Vec<Tensor>,
    /// The stage in the source that made this layer.
    pub span: Span,
    /// The block uses this layer was expanded through, innermost first.
    pub origin: Vec<Span>,
}

impl Layer {
    pub fn parameter_count(&self) -> usize {
        self.params.iter().map(Tensor::len).sum()
    }
}

/// A named parameter or buffer tensor of a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The part after the layer name: `weight`, `bias`, `running_mean`.
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
    /// Whether L1/L2 regularisation and weight decay apply (weights: yes;
    /// biases and norm parameters: no).
    pub decay: bool,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
