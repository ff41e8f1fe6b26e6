//! Checkpoints in the safetensors format.
//!
//! Tensor names follow the program: parameters as `dense1.weight`, running
//! statistics as `batchnorm1.running_mean`, optimizer moments as
//! `optimizer.dense1.weight.momentum`. Metadata records the format, a hash of
//! the source, the epoch and step reached, and the seed, so that a run can
//! resume exactly. Files are written to a temporary name and renamed, so a
//! crash never leaves a half-written checkpoint behind.

use super::model::CompiledModel;
use crate::ir::StateKind;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "dlc-checkpoint-1";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot {action} checkpoint {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid checkpoint: {reason}\nhelp: the file may be truncated or not a safetensors file; use another checkpoint or train from scratch"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "checkpoint {path} does not fit network `{network}`: {reason}\nhelp: a checkpoint loads only into the network it was saved from"
    )]
    Mismatch {
        path: PathBuf,
        network: String,
        reason: String,
    },
}

/// What a checkpoint says about the run that wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointInfo {
    pub epoch: usize,
    pub step: u64,
    pub seed: u64,
    /// Whether the source text that wrote it is the one loading it.
    pub same_source: bool,
}

/// A stable hash of the program text (FNV-1a, 64 bits), as hex.
pub fn source_hash(text: &str) -> String {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// Every tensor of the model under its checkpoint name: (name, shape, values).
fn named_tensors(m: &CompiledModel) -> Vec<(String, Vec<usize>, &[f32])> {
    let g = m.graphs.layout_graph();
    let mut out: Vec<(String, Vec<usize>, &[f32])> = m
        .parameters()
        .into_iter()
        .map(|(n, s, v)| (n.to_string(), s.to_vec(), v))
        .collect();
    for (s, &o) in g.states.iter().zip(&m.layout.states) {
        let len: usize = s.shape.iter().product();
        let name = match s.kind {
            StateKind::Running => s.name.clone(),
            StateKind::Optimizer => format!("optimizer.{}", s.name),
        };
        out.push((name, s.shape.clone(), &m.buffers.states[o..o + len]));
    }
    out
}

pub fn save(
    m: &CompiledModel,
    path: &Path,
    source: &str,
    seed: u64,
) -> Result<(), CheckpointError> {
    let tensors = named_tensors(m);
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), b)
                .expect("shape and byte length agree by construction");
            (name.clone(), view)
        })
        .collect();
    let meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("network".to_string(), m.model.network.name.clone()),
        ("source_hash".to_string(), source_hash(source)),
        ("epoch".to_string(), m.epoch.to_string()),
        ("step".to_string(), m.step.to_string()),
        ("seed".to_string(), seed.to_string()),
    ]);
    let data = safetensors::tensor::serialize(views, Some(meta)).map_err(|e| {
        CheckpointError::Corrupt {
            path: path.into(),
            reason: e.to_string(),
        }
    })?;
    write_atomically(path, &data)
}

/// Writes `data` to a temporary file beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io {
        action: "write",
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Loads a checkpoint into `m`: every tensor must exist with the same shape.
/// Nothing in `m` changes unless the whole checkpoint fits.
pub fn load(
    m: &mut CompiledModel,
    path: &Path,
    source: &str,
) -> Result<CheckpointInfo, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
        action: "read",
        path: path.into(),
        source,
    })?;
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.into(),
        reason,
    };
    let st = SafeTensors::deserialize(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(corrupt(format!(
            "it was not written by dlc (no `format: {FORMAT}` in its metadata)"
        )));
    }
    let mismatch = |reason: String| CheckpointError::Mismatch {
        path: path.into(),
        network: m.model.network.name.clone(),
        reason,
    };
    let wanted = named_tensors(m);
    let mut values: Vec<Vec<f32>> = Vec::with_capacity(wanted.len());
    for (name, shape, _) in &wanted {
        let t = st.tensor(name).map_err(|_| {
            mismatch(format!(
                "tensor `{name}` {shape:?} is missing from the checkpoint"
            ))
        })?;
        if t.dtype() != Dtype::F32 {
            return Err(mismatch(format!(
                "tensor `{name}` is {:?} in the checkpoint, F32 here",
                t.dtype()
            )));
        }
        if t.shape() != shape.as_slice() {
            return Err(mismatch(format!(
                "tensor `{name}` has shape {:?} in the checkpoint, {shape:?} here",
                t.shape()
            )));
        }
        values.push(
            t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        );
    }
    let known: Vec<&str> = wanted.iter().map(|(n, _, _)| n.as_str()).collect();
    if let Some(extra) = st.names().into_iter().find(|n| !known.contains(n)) {
        return Err(mismatch(format!(
            "the checkpoint has tensor `{extra}`, which this network does not"
        )));
    }
    let number = |key: &str| -> Result<u64, CheckpointError> {
        meta.get(key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt(format!("metadata `{key}` is missing or not a number")))
    };
    let info = CheckpointInfo {
        epoch: number("epoch")? as usize,
        step: number("step")?,
        seed: number("seed")?,
        same_source: meta.get("source_hash") == Some(&source_hash(source)),
    };
    // Everything fits: copy in.
    let g = m.graphs.layout_graph().clone();
    let np = g.params.len();
    for (i, v) in values.iter().enumerate() {
        if i < np {
            let o = m.layout.params[i];
            m.buffers.params[o..o + v.len()].copy_from_slice(v);
        } else {
            let o = m.layout.states[i - np];
            m.buffers.states[o..o + v.len()].copy_from_slice(v);
        }
    }
    m.epoch = info.epoch;
    m.step = info.step;
    Ok(info)
}
