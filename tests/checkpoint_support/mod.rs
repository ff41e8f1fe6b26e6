//! Shared by the checkpoint tests: reading a checkpoint's metadata, and
//! editing a checkpoint the way a damaged or foreign file would differ.
#![allow(dead_code)]

use dlc::runtime::tensor_file::{self, TensorFile};
use std::collections::BTreeMap;
use std::path::Path;

/// The metadata of a checkpoint.
pub fn metadata(ckpt: &Path) -> BTreeMap<String, String> {
    tensor_file::read(ckpt, u64::MAX).unwrap().metadata
}

/// Decodes a checkpoint, lets `edit` change it, and writes it back.
pub fn rewrite(path: &Path, edit: impl FnOnce(&mut TensorFile)) {
    let mut file = tensor_file::read(path, u64::MAX).unwrap();
    edit(&mut file);
    let tensors: Vec<(String, Vec<usize>, &[f32])> = file
        .tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.shape.clone(), &t.values[..]))
        .collect();
    std::fs::write(path, tensor_file::encode(&file.metadata, &tensors).unwrap()).unwrap();
}
