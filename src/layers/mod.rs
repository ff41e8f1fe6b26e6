//! Layer definitions: one file per layer kind, listed once in the `registry!` below.
//!
//! ```text
//! stage `dense 64, bias: false`
//!   --Stage::bind-->   Dense { units: 64, bias: false, .. }   its arguments
//!   --Rule::infer-->   output shape, parameters, buffers      its shape rule
//!   --Rule::lower-->   matmul + add in the graph IR           its lowering
//!   --Rule::describe / Rule::parity--> summary row, parity description
//! ```
//!
//! A definition owns everything about its kind: the checker, lowering, the
//! summary, the parity export and the recipe ask the definition through
//! [`Rule`] and never match on kinds themselves. Adding a layer is one file
//! here and one line in the `registry!` list; a kind without a rule does not compile.

#[macro_use]
pub mod registry;
mod arguments;
mod layer;
mod lowering;
mod pool;
mod shapes;

pub use layer::{Layer, LayerId, Tensor};
pub use pool::PoolWindow;
pub use registry::{StageEntry, stage};

// Every layer kind: its module and its type. The order of the stages is
// the order of the documentation and of "the layers are ..." in messages.
registry! {
    built by the network: input::Input, add::Add, concat::Concat;
    stages:
        dense::Dense,
        conv::Conv,
        maxpool::MaxPool,
        avgpool::AvgPool,
        flatten::Flatten,
        identity::Identity,
        sigmoid::Sigmoid,
        tanh::Tanh,
        relu::Relu,
        leaky_relu::LeakyRelu,
        prelu::PRelu,
        elu::Elu,
        silu::Silu,
        softplus::Softplus,
        hardtanh::Hardtanh,
        gelu::Gelu,
        softmax::Softmax,
        batchnorm::BatchNorm,
        layernorm::LayerNorm,
        instancenorm::InstanceNorm,
        dropout::Dropout,
}

use crate::bind::Cx;
use crate::bind::args::Args;
use crate::ir::Init;
use crate::ir::{Graph, Mode, ValueId};
use crate::syntax::Span;
use serde_json::Value;

/// A layer kind written as a stage of a network: `dense 64`, `relu`.
pub trait Stage: Sized + Into<Op> {
    /// The keyword that writes it.
    const KEYWORD: &'static str;
    /// Parameters that may be given by position, in order.
    const POSITIONAL: &'static [&'static str] = &[];
    /// Parameters that a bare name sets to true (`prelu per_channel`).
    const FLAGS: &'static [&'static str] = &[];
    /// What other frameworks call it, lowercase: `linear` for `dense`.
    const ALIASES: &'static [&'static str] = &[];

    /// Reads the stage's arguments, each with its type, range and default;
    /// `None` after reporting a wrong one.
    fn bind(cx: &mut Cx, args: &mut Args) -> Option<Self>;
}

/// The shape flowing into a layer, and where it was made.
pub struct Incoming<'a> {
    pub shape: &'a [usize],
    pub span: Span,
}

/// What a layer's shape rule yields.
pub struct Inferred {
    pub shape: Vec<usize>,
    pub params: Vec<Tensor>,
    /// State that gradients do not train: batch norm's running statistics.
    pub buffers: Vec<Tensor>,
}

impl Inferred {
    /// A layer without parameters that yields `shape`.
    pub fn plain(shape: Vec<usize>) -> Inferred {
        Inferred {
            shape,
            params: Vec::new(),
            buffers: Vec::new(),
        }
    }
}

/// What the output of an activation can be, for the checks that compare
/// the end of a network with its loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// Any real value (identity, leaky ReLU).
    Any,
    /// `[0, inf)`: ReLU.
    NonNegative,
    /// `(0, 1)` for each value on its own: sigmoid.
    UnitInterval,
    /// Non-negative values that sum to 1: softmax.
    Probabilities,
    /// A bounded interval other than the above: tanh.
    Bounded,
}

/// What an activation tells the rest of the compiler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationTraits {
    pub range: Range,
    /// Identity: the network still ends in a linear map.
    pub linear: bool,
    /// The initialisation that suits the weights feeding this activation.
    pub init: Init,
}

/// The lowering of one layer: the graph, the layer, its parameters as
/// graph values (in the order its shape rule made them) and the mode.
pub struct Lowering<'a> {
    pub g: &'a mut Graph,
    pub layer: &'a Layer,
    pub params: Vec<ValueId>,
    pub mode: Mode,
    /// The layer's position in the network: its dropout stream.
    pub index: u64,
}

/// Everything the compiler asks of a layer kind once it is built.
pub trait Rule {
    fn keyword(&self) -> &'static str;

    /// The output shape and the parameters for an input of `input`'s shape,
    /// or `None` after reporting why the input does not fit. `span` is the
    /// stage. Merges and the input are built by the network checker, which
    /// owns their multi-input rules; their `infer` is never called.
    fn infer(&self, cx: &mut Cx, input: &Incoming, span: Span) -> Option<Inferred>;

    /// The layer as primitive ops on `inputs`.
    fn lower(&self, lx: &mut Lowering, inputs: &[ValueId]) -> ValueId;

    /// How the layer is written, in short, for the summary: `dense 64`.
    fn describe(&self, layer: &Layer) -> String {
        let _ = layer;
        self.keyword().to_string()
    }

    /// Its arguments for the PyTorch parity export: `{"type": ..., ...}`.
    fn parity(&self) -> Value {
        serde_json::json!({ "type": self.keyword() })
    }

    /// An explicit `init:` for the layer's weights.
    fn init_override(&self) -> Option<Init> {
        None
    }

    /// Whether the layer's `weight` is initialised to suit the activation
    /// that follows it (dense and conv).
    fn weights_follow_activation(&self) -> bool {
        false
    }

    /// `Some` for an activation (and for PReLU, a learned one).
    fn activation(&self) -> Option<ActivationTraits> {
        None
    }

    /// The fraction of its inputs a dropout layer drops while training.
    fn dropout_rate(&self) -> Option<f64> {
        None
    }

    /// Whether the layer normalises with statistics of the batch, so that a
    /// batch of one sample cannot be trained through it.
    fn uses_batch_statistics(&self) -> bool {
        false
    }
}

/// `3` for `[3, 3]`, `[3, 1]` otherwise: a size pair as the summary writes it.
fn pair_text(p: [usize; 2]) -> String {
    if p[0] == p[1] {
        p[0].to_string()
    } else {
        format!("[{}, {}]", p[0], p[1])
    }
}
