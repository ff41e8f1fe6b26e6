//! Checkpoints in the safetensors format.
//!
//! Tensor names follow the program: parameters as `dense1.weight`, running
//! statistics as `batchnorm1.running_mean`, optimizer moments as
//! `optimizer.dense1.weight.momentum`. These main tensors hold the weights of
//! the epoch the metadata's `weights_epoch` names: the last epoch trained
//! (`epoch`), or, once early stopping has restored it at the end of a run,
//! the best one. With early stopping, the other epoch's buffers are kept
//! under a prefix so that the run can be resumed exactly: `best.NAME` while
//! the best epoch is an earlier one, `last.NAME` once the best is restored.
//!
//! The metadata (format `dlc-checkpoint-2`) records the format, the network,
//! a hash of the source, the optimizer, `epoch` (epochs trained),
//! `weights_epoch`, `step`, `seed`, `data_seed` (of the split and order),
//! `run_epochs` (the epochs the run trains towards), `first_loss`, early
//! stopping's memory (`early_stop.metric`, `.best`, `.best_epoch`,
//! `.waited`, `.stopped`), the loss's `class_weights` when it has them (so
//! that `balanced` weights need not be counted again), the program and the
//! data's preparation; a model
//! file says `contents: weights`. Keys come in a fixed order, so identical
//! runs write identical files.
//!
//! Nothing that is not finite is ever written, and a file holding such a
//! value is refused. Files are written to a temporary name beside the
//! checkpoint and renamed, so a crash never leaves a half-written checkpoint
//! behind; the temporary files of writers that died are removed by the next
//! write. Files of format `dlc-checkpoint-1` (no `weights_epoch`, no early
//! stopping) still load.

pub use super::run_state::ResumeError;
use super::model::CompiledModel;
use super::run_state::{EarlyStopState, Snapshot};
use super::tensor_file::{self, ReadError, StoredTensor, TensorFile};
use crate::check::Metric;
use crate::data::FilePolicy;
use crate::ir::StateKind;
use crate::optimizers::MOST_STATES_PER_PARAMETER;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "dlc-checkpoint-2";
/// The first format: its main tensors are what the model held when it was
/// written, and it keeps no early stopping state.
const FORMAT_1: &str = "dlc-checkpoint-1";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    OutOfMemory(#[from] crate::limits::AllocError),
    /// The program's `checkpoint` path cannot be a file.
    #[error("{0}\nhelp: change the program's `checkpoint` setting")]
    Destination(String),
    /// The file policy does not allow this path (see [`crate::Limits::files`]).
    #[error(transparent)]
    Refused(crate::data::DataError),
    #[error("cannot {action} checkpoint {}: {}", path.display(), crate::data::io_reason(source))]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid checkpoint: {reason}\nhelp: the file is damaged or was not written by dlc; use another checkpoint or train from scratch"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path} is not a valid checkpoint: it is {size} bytes, more than any checkpoint of network `{network}` can be ({limit} bytes at most)\nhelp: it is from another, larger network, or not a checkpoint"
    )]
    TooLarge {
        path: PathBuf,
        network: String,
        size: u64,
        limit: u64,
    },
    #[error(
        "checkpoint {path} holds {value} in tensor `{tensor}` at {index:?}\nhelp: dlc never writes a value that is not finite, so the file is damaged or not dlc's; use an earlier checkpoint or train from scratch"
    )]
    NotFinite {
        path: PathBuf,
        tensor: String,
        index: Vec<usize>,
        value: f32,
    },
    #[error(
        "refusing to write checkpoint {path}: tensor `{tensor}` holds {value} at {index:?}\nhelp: training produced values that are not numbers (lower the learning rate, or clip gradients with `clip 1.0`); the previous checkpoint is left as it was"
    )]
    NotFiniteToWrite {
        path: PathBuf,
        tensor: String,
        index: Vec<usize>,
        value: f32,
    },
    #[error(
        "checkpoint {path} does not fit network `{network}`: {reason}\nhelp: a checkpoint loads only into the network it was saved from"
    )]
    Mismatch {
        path: PathBuf,
        network: String,
        reason: String,
    },
    #[error(
        "cannot resume from {path}: it is a model file, which holds the weights but not the optimizer's state\nhelp: resume from the checkpoint a `checkpoint` setting writes; `dlc eval` and `dlc predict` read model files"
    )]
    WeightsOnly { path: PathBuf },
    #[error(
        "cannot resume from checkpoint {path}: the optimizer differs: {reason}\nhelp: resuming needs the state of the optimizer that wrote the checkpoint; `dlc eval` and `dlc predict` read only its weights and running statistics"
    )]
    OptimizerDiffers { path: PathBuf, reason: String },
}

/// What a checkpoint says about the run that wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointInfo {
    /// Epochs trained.
    pub epoch: usize,
    /// The epoch whose weights are the main tensors (what evaluation and
    /// prediction use): `epoch`, or the best epoch once restored.
    pub weights_epoch: usize,
    pub step: u64,
    pub seed: u64,
    /// The seed of the data's split and order (not in older files).
    pub data_seed: Option<u64>,
    /// The epochs the run was training towards (not in the first format).
    pub run_epochs: Option<usize>,
    /// Early stopping ended the run.
    pub stopped_early: bool,
    /// Whether the source text that wrote it is the one loading it.
    pub same_source: bool,
    /// 1 or 2.
    pub format: u32,
}

/// A stable hash of the program text (FNV-1a, 64 bits), as hex.
pub fn source_hash(text: &str) -> String {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// One tensor of the model: its checkpoint name and where its values live.
struct Slot {
    name: String,
    shape: Vec<usize>,
    kind: Option<StateKind>,
    start: usize,
    len: usize,
}

impl Slot {
    fn values<'a>(&self, params: &'a [f32], states: &'a [f32]) -> &'a [f32] {
        let buffer = if self.kind.is_none() { params } else { states };
        &buffer[self.start..self.start + self.len]
    }

    fn values_mut<'a>(&self, params: &'a mut [f32], states: &'a mut [f32]) -> &'a mut [f32] {
        let buffer = if self.kind.is_none() { params } else { states };
        &mut buffer[self.start..self.start + self.len]
    }

    fn is_optimizer(&self) -> bool {
        self.kind == Some(StateKind::Optimizer)
    }
}

/// Every tensor of the model under its checkpoint name, parameters first.
fn slots(m: &CompiledModel) -> Vec<Slot> {
    let g = m.graphs.layout_graph();
    let params = g.params.iter().zip(&m.layout.params).map(|(p, &o)| Slot {
        name: p.name.clone(),
        shape: p.shape.clone(),
        kind: None,
        start: o,
        len: p.len(),
    });
    let states = g.states.iter().zip(&m.layout.states).map(|(s, &o)| Slot {
        name: match s.kind {
            StateKind::Running => s.name.clone(),
            StateKind::Optimizer => format!("optimizer.{}", s.name),
        },
        shape: s.shape.clone(),
        kind: Some(s.kind),
        start: o,
        len: s.shape.iter().product(),
    });
    params.chain(states).collect()
}

/// The largest file a checkpoint of this network can be: every parameter
/// with the most optimizer state any optimizer keeps, the running
/// statistics, twice over (the main tensors, and `best.` or `last.`), and
/// the headers.
fn size_limit(slots: &[Slot]) -> u64 {
    let per_copy: u64 = slots
        .iter()
        .filter(|s| !s.is_optimizer())
        .map(|s| {
            let copies = if s.kind.is_none() {
                1 + MOST_STATES_PER_PARAMETER as u64
            } else {
                1
            };
            copies * (4 * s.len as u64 + 2 * s.name.len() as u64 + 256)
        })
        .sum();
    2 * per_copy + (64 << 10)
}

pub fn save(
    m: &CompiledModel,
    path: &Path,
    source: &str,
    seed: u64,
) -> Result<(), CheckpointError> {
    write(m, path, source, seed, false)
}

/// Writes the model file: the weights evaluation and prediction use (after
/// early stopping's restore), the program and the data preparation, and
/// none of the optimizer's state. It loads as a checkpoint's weights do.
pub fn save_model(m: &CompiledModel, path: &Path, seed: u64) -> Result<(), CheckpointError> {
    write(m, path, &m.source, seed, true)
}

fn write(
    m: &CompiledModel,
    path: &Path,
    source: &str,
    seed: u64,
    weights_only: bool,
) -> Result<(), CheckpointError> {
    let mut slots = slots(m);
    if weights_only {
        slots.retain(|s| !s.is_optimizer());
    }
    let stop = m.run.early_stop.as_ref();
    // Once restored, the model holds the best epoch's weights.
    let restored = stop.and_then(|s| s.last_buffers.as_ref());
    let weights_epoch = match (stop, restored) {
        (Some(s), Some(_)) => s.best_epoch,
        _ => m.epoch,
    };
    let best = stop
        .filter(|s| s.best_epoch != weights_epoch && !weights_only)
        .and_then(|s| s.best_buffers.as_ref());
    let mut sections: Vec<(&str, &[f32], &[f32])> =
        vec![("", &m.buffers.params, &m.buffers.states)];
    if let Some(b) = best {
        sections.push(("best.", &b.params, &b.states));
    }
    if let Some(l) = restored.filter(|_| !weights_only) {
        sections.push(("last.", &l.params, &l.states));
    }
    let mut tensors = Vec::new();
    for (prefix, params, states) in sections {
        for s in &slots {
            let values = s.values(params, states);
            let name = format!("{prefix}{}", s.name);
            if let Some((index, value)) = tensor_file::first_non_finite(values, &s.shape) {
                return Err(CheckpointError::NotFiniteToWrite {
                    path: path.into(),
                    tensor: name,
                    index,
                    value,
                });
            }
            tensors.push((name, s.shape.clone(), values));
        }
    }
    let mut meta = BTreeMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("network".to_string(), m.model.network.name.clone()),
        ("source_hash".to_string(), source_hash(source)),
        ("epoch".to_string(), m.epoch.to_string()),
        ("weights_epoch".to_string(), weights_epoch.to_string()),
        ("step".to_string(), m.step.to_string()),
        ("seed".to_string(), seed.to_string()),
    ]);
    if let Some(t) = &m.model.train {
        meta.insert("optimizer".into(), t.optimizer.kind.rule().keyword().into());
    }
    // What `predict` and `eval` need without the program's files: the
    // program, and how its samples were prepared.
    meta.insert("program".into(), source.to_string());
    if let Some(p) = &m.preparation {
        meta.insert("preparation".into(), p.to_json());
    }
    if let Some(d) = &m.model.data {
        meta.insert("data_seed".into(), d.seed.to_string());
    }
    if weights_only {
        meta.insert("contents".into(), "weights".into());
    }
    if let Some(e) = m.run.epochs {
        meta.insert("run_epochs".into(), e.to_string());
    }
    // `balanced` weights were counted on the training data: evaluating the
    // loss later must not need that data again.
    if !m.buffers.class_weights.is_empty() {
        meta.insert(
            "class_weights".into(),
            serde_json::json!(m.buffers.class_weights).to_string(),
        );
    }
    if let Some(f) = m.run.first_loss {
        meta.insert("first_loss".into(), format!("{f:?}"));
    }
    if let Some(s) = stop.filter(|_| !weights_only) {
        meta.insert("early_stop.metric".into(), s.metric.keyword().into());
        meta.insert("early_stop.best".into(), format!("{:?}", s.best));
        meta.insert("early_stop.best_epoch".into(), s.best_epoch.to_string());
        meta.insert("early_stop.waited".into(), s.waited.to_string());
        meta.insert("early_stop.stopped".into(), s.stopped.to_string());
    }
    let resolved = m
        .limits
        .files
        .check_path(path, true)
        .map_err(CheckpointError::Refused)?;
    write_atomically(&resolved, &tensor_file::encode(&meta, &tensors)?)
}

/// Writes `data` to a temporary file beside `path`, then renames it over
/// `path`; then removes what writers that died left behind.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<(), CheckpointError> {
    crate::outputs::write_atomically(path, data).map_err(|source| CheckpointError::Io {
        action: "write",
        path: path.into(),
        source,
    })
}

/// A checkpoint file read and checked against the model's tensors.
struct Opened {
    path: PathBuf,
    network: String,
    file: TensorFile,
    info: CheckpointInfo,
    stop: Option<EarlyStopState>,
    first_loss: Option<f32>,
    /// The loss's class weights the writer used, when it had any.
    class_weights: Option<Vec<f32>>,
}

impl Opened {
    fn read(
        m: &CompiledModel,
        slots: &[Slot],
        path: &Path,
        source: &str,
    ) -> Result<Opened, CheckpointError> {
        let network = m.model.network.name.clone();
        let opened = m
            .limits
            .files
            .open(path)
            .map_err(CheckpointError::Refused)?;
        let size = opened.len();
        let file = tensor_file::read_from(opened, size, size_limit(slots)).map_err(|e| {
            read_error(path, e, |size, limit| CheckpointError::TooLarge {
                path: path.into(),
                network: network.clone(),
                size,
                limit,
            })
        })?;
        let (info, stop, first_loss) =
            read_metadata(&file.metadata, source).map_err(|reason| CheckpointError::Corrupt {
                path: path.into(),
                reason,
            })?;
        let class_weights = read_class_weights(&file.metadata, m).map_err(|reason| {
            CheckpointError::Corrupt {
                path: path.into(),
                reason,
            }
        })?;
        Ok(Opened {
            path: path.into(),
            network,
            file,
            info,
            stop,
            first_loss,
            class_weights,
        })
    }

    fn mismatch(&self, reason: String) -> CheckpointError {
        CheckpointError::Mismatch {
            path: self.path.clone(),
            network: self.network.clone(),
            reason,
        }
    }

    fn corrupt(&self, reason: String) -> CheckpointError {
        CheckpointError::Corrupt {
            path: self.path.clone(),
            reason,
        }
    }

    /// The tensor `name` of `slot`, which must have its type and shape.
    fn tensor(&self, name: &str, slot: &Slot) -> Result<Option<&StoredTensor>, CheckpointError> {
        let Some(t) = self.file.tensors.get(name) else {
            return Ok(None);
        };
        if t.dtype != "F32" {
            return Err(self.mismatch(format!(
                "tensor `{name}` is {} in the checkpoint, F32 here",
                t.dtype
            )));
        }
        if t.shape != slot.shape {
            return Err(self.mismatch(format!(
                "tensor `{name}` has shape {:?} in the checkpoint, {:?} here",
                t.shape, slot.shape
            )));
        }
        Ok(Some(t))
    }

    /// The buffers stored under `prefix`, every one of `slots` present.
    fn section(
        &self,
        prefix: &str,
        slots: &[Slot],
        base: &Snapshot,
    ) -> Result<Snapshot, CheckpointError> {
        let mut out = base.clone();
        for s in slots {
            let name = format!("{prefix}{}", s.name);
            let t = self.tensor(&name, s)?.ok_or_else(|| {
                if !prefix.is_empty() {
                    self.corrupt(format!(
                        "its metadata puts an epoch's buffers under `{prefix}`, but `{name}` is missing"
                    ))
                } else if s.is_optimizer() {
                    self.optimizer_differs(format!(
                        "this program's optimizer keeps `{name}`, which the checkpoint lacks"
                    ))
                } else {
                    self.mismatch(format!(
                        "tensor `{name}` {:?} is missing from the checkpoint",
                        s.shape
                    ))
                }
            })?;
            s.values_mut(&mut out.params, &mut out.states)
                .copy_from_slice(&t.values);
        }
        Ok(out)
    }

    fn optimizer_differs(&self, detail: String) -> CheckpointError {
        let reason = match self.file.metadata.get("optimizer") {
            Some(saved) => format!("it was written by `{saved}`; {detail}"),
            None => detail,
        };
        CheckpointError::OptimizerDiffers {
            path: self.path.clone(),
            reason,
        }
    }

    /// Refuses tensors that are none of `slots` under `prefixes`;
    /// `optimizer.` tensors are allowed anywhere when `any_optimizer`.
    fn no_others(
        &self,
        slots: &[Slot],
        prefixes: &[&str],
        any_optimizer: bool,
    ) -> Result<(), CheckpointError> {
        for name in self.file.tensors.keys() {
            let known = prefixes.iter().any(|p| {
                name.strip_prefix(p).is_some_and(|rest| {
                    (any_optimizer && rest.starts_with("optimizer."))
                        || slots.iter().any(|s| s.name == rest)
                })
            });
            if known {
                continue;
            }
            if prefixes.iter().any(|p| {
                name.strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with("optimizer."))
            }) {
                return Err(self.optimizer_differs(format!(
                    "the checkpoint has `{name}`, which this program's optimizer does not keep"
                )));
            }
            return Err(self.mismatch(format!(
                "the checkpoint has tensor `{name}`, which this network does not"
            )));
        }
        Ok(())
    }
}

/// The class weights a file records, checked: one positive finite weight
/// per class the program's loss weighs. `None` when the file has none or
/// the program weighs no classes.
fn read_class_weights(
    meta: &BTreeMap<String, String>,
    m: &CompiledModel,
) -> Result<Option<Vec<f32>>, String> {
    let (Some(text), Some(plan)) = (meta.get("class_weights"), &m.model.train) else {
        return Ok(None);
    };
    let Some(classes) = plan
        .class_weights
        .as_ref()
        .and(super::class_weights::loss_classes(plan.loss, m.output_width()))
    else {
        return Ok(None);
    };
    let weights: Vec<f32> = serde_json::from_str(text)
        .map_err(|_| format!("metadata `class_weights` is not a list of numbers: {text:?}"))?;
    if weights.len() != classes || weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(format!(
            "metadata `class_weights` is not {classes} positive weights: {text:?}"
        ));
    }
    Ok(Some(weights))
}

/// The metadata's numbers, checked against each other.
fn read_metadata(
    meta: &BTreeMap<String, String>,
    source: &str,
) -> Result<(CheckpointInfo, Option<EarlyStopState>, Option<f32>), String> {
    let format = match meta.get("format").map(String::as_str) {
        Some(FORMAT) => 2,
        Some(FORMAT_1) => 1,
        _ => {
            return Err(format!(
                "it was not written by dlc (no `format: {FORMAT}` in its metadata)"
            ));
        }
    };
    fn parse<T: std::str::FromStr>(
        meta: &BTreeMap<String, String>,
        key: &str,
    ) -> Result<Option<T>, String> {
        meta.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("metadata `{key}` is not a number: {v:?}"))
            })
            .transpose()
    }
    let number = |key: &str| -> Result<u64, String> {
        parse(meta, key)?.ok_or_else(|| format!("metadata `{key}` is missing"))
    };
    let epoch = number("epoch")? as usize;
    let step = number("step")?;
    let seed = number("seed")?;
    let weights_epoch = match format {
        1 => epoch,
        _ => number("weights_epoch")? as usize,
    };
    let inconsistent = |what: String| {
        format!("its metadata says {what}: the checkpoint is corrupt or from another run")
    };
    if weights_epoch > epoch {
        return Err(inconsistent(format!(
            "it holds the weights of epoch {weights_epoch} after {epoch} epochs"
        )));
    }
    let stop = match meta.get("early_stop.metric") {
        None => None,
        Some(name) => {
            let metric = [Metric::ValLoss, Metric::ValAccuracy, Metric::TrainLoss]
                .into_iter()
                .find(|m| m.keyword() == name)
                .ok_or_else(|| format!("metadata `early_stop.metric` is unknown: {name:?}"))?;
            let best: f64 = parse(meta, "early_stop.best")?
                .ok_or_else(|| "metadata `early_stop.best` is missing".to_string())?;
            let best_epoch = number("early_stop.best_epoch")? as usize;
            let waited = number("early_stop.waited")? as usize;
            let stopped = match meta.get("early_stop.stopped").map(String::as_str) {
                Some("true") => true,
                Some("false") => false,
                _ => return Err("metadata `early_stop.stopped` is not true or false".into()),
            };
            if best.is_nan() || best_epoch > epoch || waited > epoch - best_epoch {
                return Err(inconsistent(format!(
                    "early stopping's best epoch is {best_epoch} (value {best}), {waited} epochs ago, after {epoch} epochs"
                )));
            }
            Some(EarlyStopState {
                metric,
                best,
                best_epoch,
                waited,
                stopped,
                best_buffers: None,
                last_buffers: None,
            })
        }
    };
    // A model file keeps no early stopping state: its weights may be those
    // of the best epoch, restored, without it.
    let weights_only = meta.get("contents").map(String::as_str) == Some("weights");
    if weights_epoch != epoch
        && !weights_only
        && stop.as_ref().is_none_or(|s| s.best_epoch != weights_epoch)
    {
        return Err(inconsistent(format!(
            "it holds the weights of epoch {weights_epoch} after {epoch} epochs, which is not the best epoch"
        )));
    }
    let first_loss = parse(meta, "first_loss")?;
    let info = CheckpointInfo {
        epoch,
        weights_epoch,
        step,
        seed,
        data_seed: parse(meta, "data_seed")?,
        run_epochs: parse::<u64>(meta, "run_epochs")?.map(|e| e as usize),
        stopped_early: stop.as_ref().is_some_and(|s| s.stopped),
        same_source: meta.get("source_hash") == Some(&source_hash(source)),
        format,
    };
    Ok((info, stop, first_loss))
}

/// Loads a checkpoint into `m` to resume training: every tensor, the
/// optimizer's moments included, must exist with the same shape, and the
/// model continues from the last epoch trained, with the run's seed and
/// early stopping's memory. Nothing in `m` changes unless the whole
/// checkpoint fits.
pub fn load(
    m: &mut CompiledModel,
    path: &Path,
    source: &str,
) -> Result<CheckpointInfo, CheckpointError> {
    let slots = slots(m);
    let opened = Opened::read(m, &slots, path, source)?;
    if opened.file.metadata.get("contents").map(String::as_str) == Some("weights") {
        return Err(CheckpointError::WeightsOnly { path: path.into() });
    }
    let info = opened.info.clone();
    let base = Snapshot::of(&m.buffers)?;
    let main = opened.section("", &slots, &base)?;
    let mut prefixes = vec![""];
    // The buffers of the last epoch trained.
    let current = if info.weights_epoch != info.epoch {
        prefixes.push("last.");
        opened.section("last.", &slots, &base)?
    } else {
        main.clone()
    };
    let mut stop = opened.stop.clone();
    if let Some(s) = &mut stop {
        s.best_buffers = if s.best_epoch == 0 {
            None
        } else if s.best_epoch == info.weights_epoch {
            Some(main)
        } else {
            prefixes.push("best.");
            Some(opened.section("best.", &slots, &base)?)
        };
    }
    opened.no_others(&slots, &prefixes, false)?;
    // Everything fits: copy in.
    m.buffers.params = current.params;
    m.buffers.states = current.states;
    m.epoch = info.epoch;
    m.step = info.step;
    m.run.seed = Some(info.seed);
    if let Some(d) = info.data_seed {
        m.set_data_seed(d);
    }
    m.run.epochs = info.run_epochs;
    m.run.first_loss = opened.first_loss;
    if let Some(w) = opened.class_weights {
        m.buffers.class_weights = w;
    }
    m.run.early_stop = stop;
    m.run.from_checkpoint = true;
    Ok(info)
}

/// Loads a checkpoint's weights into `m` for evaluation or prediction: the
/// parameters and running statistics of its `weights_epoch`. Optimizer
/// moments are not read, so a checkpoint of the same network trained with
/// another optimizer loads too. Nothing in `m` changes unless the weights
/// fit.
pub fn load_weights(
    m: &mut CompiledModel,
    path: &Path,
    source: &str,
) -> Result<CheckpointInfo, CheckpointError> {
    let slots: Vec<Slot> = slots(m).into_iter().filter(|s| !s.is_optimizer()).collect();
    let opened = Opened::read(m, &slots, path, source)?;
    let weights = opened.section("", &slots, &Snapshot::of(&m.buffers)?)?;
    opened.no_others(&slots, &["", "best.", "last."], true)?;
    m.buffers.params = weights.params;
    m.buffers.states = weights.states;
    if let Some(w) = opened.class_weights {
        m.buffers.class_weights = w;
    }
    // Evaluating on the program's data splits it as training did.
    if let Some(d) = opened.info.data_seed {
        m.set_data_seed(d);
    }
    Ok(opened.info)
}

/// Fails unless `path` can be written as a checkpoint file (checked before
/// training, so a bad path does not cost a run).
pub fn check_destination(path: &Path, policy: &FilePolicy) -> Result<(), CheckpointError> {
    let path = policy
        .check_path(path, true)
        .map_err(CheckpointError::Refused)?;
    crate::outputs::output_file(&path, "checkpoint").map_err(CheckpointError::Destination)
}

/// What a model file (or a checkpoint) says about itself before any
/// program is compiled: the program that wrote it, and how its samples
/// were prepared (files written before the model file existed hold neither).
pub struct Provenance {
    pub program: Option<String>,
    pub preparation: Option<crate::data::Preparation>,
}

/// Reads the provenance of the file at `path` under `policy`. The file's
/// size is bounded by the policy's memory limit, or 4 GiB.
pub fn provenance(path: &Path, policy: &FilePolicy) -> Result<Provenance, CheckpointError> {
    let opened = policy.open(path).map_err(CheckpointError::Refused)?;
    let size = opened.len();
    let limit = policy.max_alloc_bytes.unwrap_or(4 << 30);
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.into(),
        reason,
    };
    let file = tensor_file::read_from(opened, size, limit).map_err(|e| {
        read_error(path, e, |size, limit| {
            corrupt(format!(
                "it is {size} bytes, more than the {limit} bytes this model file may take"
            ))
        })
    })?;
    if !matches!(
        file.metadata.get("format").map(String::as_str),
        Some(FORMAT) | Some(FORMAT_1)
    ) {
        return Err(corrupt(format!(
            "it was not written by dlc (no `format: {FORMAT}` in its metadata)"
        )));
    }
    let preparation = file
        .metadata
        .get("preparation")
        .map(|p| {
            crate::data::Preparation::from_json(p)
                .map_err(|e| corrupt(format!("its metadata `preparation` is damaged: {e}")))
        })
        .transpose()?;
    Ok(Provenance {
        program: file.metadata.get("program").cloned(),
        preparation,
    })
}

/// A file that could not be read as tensors, as a checkpoint error;
/// `too_large` says why a file over its size limit is refused.
fn read_error(
    path: &Path,
    e: ReadError,
    too_large: impl FnOnce(u64, u64) -> CheckpointError,
) -> CheckpointError {
    match e {
        ReadError::Io(source) => CheckpointError::Io {
            action: "read",
            path: path.into(),
            source,
        },
        ReadError::TooLarge { size, limit } => too_large(size, limit),
        ReadError::Corrupt(reason) => CheckpointError::Corrupt {
            path: path.into(),
            reason,
        },
        ReadError::NotFinite {
            tensor,
            index,
            value,
        } => CheckpointError::NotFinite {
            path: path.into(),
            tensor,
            index,
            value,
        },
    }
}
