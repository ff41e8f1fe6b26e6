//! The checked program: what the checker hands to lowering and to the runtime.
//!
//! Blocks are expanded, every name is resolved, every tensor has its shape, and
//! every setting has its value and default. Nothing after this stage needs the
//! AST, except the spans kept here to point back at the source.

pub use crate::optimizers::OptimizerKind;
pub use crate::sources::{CsvTarget, DataSource};
use crate::syntax::Span;

pub use crate::ir::Init;
pub use crate::layers::{Layer, LayerId, Op, Tensor};

/// A checked program: one network, and the data and training plan if given.
#[derive(Clone, Debug)]
pub struct Model {
    pub network: Network,
    pub data: Option<DataSpec>,
    pub train: Option<TrainSpec>,
}

/// The network as a graph of layers in topological order; `layers[0]` is the input.
#[derive(Clone, Debug)]
pub struct Network {
    pub name: String,
    pub input_shape: Vec<usize>,
    pub layers: Vec<Layer>,
    pub output: LayerId,
    pub span: Span,
}

impl Network {
    pub fn output_shape(&self) -> &[usize] {
        &self.layers[self.output].shape
    }

    /// Trainable parameters, counted as PyTorch counts them.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Layer::parameter_count).sum()
    }
}

/// Where the samples come from and how they are prepared.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    pub name: String,
    pub source: DataSource,
    /// Shape of one sample as it enters the network (after `reshape`), when it
    /// is known without reading files (built-in sets, or a `reshape`).
    pub sample_shape: Option<Vec<usize>>,
    pub reshape: Option<Vec<usize>>,
    pub scale: Option<f64>,
    /// `impute METHOD`: how missing feature values are filled.
    pub impute: Option<crate::data::ImputeMethod>,
    /// `standardize` or `standardize features`.
    pub standardize: bool,
    /// `standardize targets`: regression targets, for training.
    pub standardize_targets: bool,
    pub validation: Validation,
    /// Seed of the split and of the shuffling of every epoch.
    pub seed: u64,
    pub span: Span,
}

impl DataSpec {
    /// Classes of a classification set, when known without reading files
    /// (built in, or declared): the source's definition says.
    pub fn classes(&self) -> Option<usize> {
        self.source.rule().classes()
    }

    /// Whether the targets are real values (regression) rather than classes.
    pub fn is_regression(&self) -> bool {
        self.target_width().is_some()
    }

    /// The number of real-valued targets per sample of a regression set.
    pub fn target_width(&self) -> Option<usize> {
        self.source.rule().target_width()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Validation {
    None,
    /// A fraction of the samples, split off after shuffling with the data seed.
    Split(f64),
    /// Another `data` item.
    Data(Box<DataSpec>),
}

/// How to train: loss, optimizer, schedule, regularisation and the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSpec {
    pub loss: Loss,
    /// `class_weights`: how much each class counts in a classification loss.
    pub class_weights: Option<ClassWeights>,
    pub optimizer: Optimizer,
    pub schedule: Schedule,
    pub batch: Batch,
    /// The `batch` setting, when the program has one.
    pub batch_span: Option<Span>,
    pub epochs: usize,
    pub l1: f64,
    pub l2: f64,
    /// Largest allowed global gradient norm.
    pub clip_norm: Option<f64>,
    pub early_stop: Option<EarlyStop>,
    pub checkpoint: Option<String>,
    pub seed: u64,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Softmax cross-entropy on logits, with class-index labels.
    CrossEntropy,
    /// Binary cross-entropy on one logit, with 0/1 labels.
    BinaryCrossEntropy,
    MeanSquaredError,
}

impl Loss {
    /// Every loss, in the order of the documentation.
    pub const ALL: [Loss; 3] = [
        Loss::CrossEntropy,
        Loss::BinaryCrossEntropy,
        Loss::MeanSquaredError,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Loss::CrossEntropy => "cross_entropy",
            Loss::BinaryCrossEntropy => "binary_cross_entropy",
            Loss::MeanSquaredError => "mse",
        }
    }

    pub fn is_classification(self) -> bool {
        self != Loss::MeanSquaredError
    }
}

/// The `class_weights` setting: each sample's loss counts with its class's
/// weight, and the batch's loss is the weighted mean (PyTorch's
/// `CrossEntropyLoss(weight=w)`).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassWeights {
    pub kind: ClassWeightsKind,
    /// The setting's value as written: the list, or the word `balanced`.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClassWeightsKind {
    /// `n_samples / (n_classes * count_c)`, counted on the training part
    /// once the data is loaded (scikit-learn's `balanced`).
    Balanced,
    /// One weight per class, in class order; each finite and above 0.
    List(Vec<f64>),
}

impl ClassWeights {
    /// As the summary shows it: `balanced` or `[1, 2.5, 1]`.
    pub fn describe(&self) -> String {
        match &self.kind {
            ClassWeightsKind::Balanced => "balanced".into(),
            ClassWeightsKind::List(w) => {
                let items: Vec<String> = w.iter().map(|v| v.to_string()).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

impl TrainSpec {
    /// The loss as summaries name it: `cross_entropy loss`, or with class
    /// weights `cross_entropy loss weighted by class (balanced)`.
    pub fn describe_loss(&self) -> String {
        match &self.class_weights {
            None => format!("{} loss", self.loss.keyword()),
            Some(w) => format!(
                "{} loss weighted by class ({})",
                self.loss.keyword(),
                w.describe()
            ),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub lr: f64,
    /// The optimizer as written (`adam(lr: 0.5)`); the train item's span
    /// for the default.
    pub span: Span,
    /// The `lr:` argument, when it is written.
    pub lr_span: Option<Span>,
}

impl Optimizer {
    /// Where a remark about the rate points: its argument, else the call.
    pub fn rate_span(&self) -> Span {
        self.lr_span.unwrap_or(self.span)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    pub kind: ScheduleKind,
    /// Epochs of linear warm-up from 0 to the base rate.
    pub warmup: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScheduleKind {
    Constant,
    /// Multiply by `gamma` every `every` epochs.
    Step {
        every: usize,
        gamma: f64,
    },
    /// Multiply by `gamma` every epoch.
    Exponential {
        gamma: f64,
    },
    /// Cosine from the base rate down to `min_lr` at the last epoch.
    Cosine {
        min_lr: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batch {
    /// Full-batch gradient descent.
    All,
    /// Mini-batches of this size (1: SGD on one sample).
    Size(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStop {
    pub metric: Metric,
    pub patience: usize,
    pub min_delta: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    ValLoss,
    ValAccuracy,
    TrainLoss,
}

impl Metric {
    pub fn keyword(self) -> &'static str {
        match self {
            Metric::ValLoss => "val_loss",
            Metric::ValAccuracy => "val_accuracy",
            Metric::TrainLoss => "train_loss",
        }
    }

    /// Whether a larger value is better.
    pub fn maximize(self) -> bool {
        self == Metric::ValAccuracy
    }
}
