//! The run directory and its files: written atomically (a temporary file in
//! the same directory, then a rename), so a reader never sees half a file and
//! an interrupted run leaves the previous report whole.

use crate::runtime::EpochMetrics;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create the run directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Plot(#[from] super::plot::PlotError),
}

/// `runs/<file stem>`: where a program's reports go unless told otherwise.
pub fn default_dir(program: &Path) -> PathBuf {
    let stem = program
        .file_stem()
        .map_or_else(|| "program".into(), |s| s.to_string_lossy().into_owned());
    Path::new("runs").join(stem)
}

/// Where `dlc run` writes unless told otherwise: [`default_dir`], named for
/// the seeds that differ from the program's (see [`seeded_path`]).
pub fn default_run_dir(program: &Path, seed: Option<u64>, data_seed: Option<u64>) -> PathBuf {
    seeded_path(&default_dir(program), seed, data_seed)
}

/// `path` with the seeds of a run that are not the program's in its name,
/// before the extension: `runs/wine-seed3`, `ck-seed3-data1.safetensors`.
/// Runs with other seeds so keep their own files; without either it is
/// `path` itself.
pub fn seeded_path(path: &Path, seed: Option<u64>, data_seed: Option<u64>) -> PathBuf {
    let mut name = path.file_stem().unwrap_or_default().to_os_string();
    if let Some(s) = seed {
        name.push(format!("-seed{s}"));
    }
    if let Some(d) = data_seed {
        name.push(format!("-data{d}"));
    }
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    path.with_file_name(name)
}

/// Creates `dir` and its parents as needed.
pub fn create_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.display().to_string(),
        source,
    })
}

/// Writes `bytes` to `dir/name` atomically; returns the path.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let path = dir.join(name);
    crate::outputs::write_atomically(&path, bytes).map_err(|source| ReportError::Write {
        path: path.display().to_string(),
        source,
    })?;
    Ok(path)
}

fn cell(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// One row per epoch: `epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds`;
/// a value that was not measured is an empty cell.
pub fn metrics_csv(epochs: &[EpochMetrics]) -> String {
    let mut s = String::from("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n");
    for m in epochs {
        s += &format!(
            "{},{},{},{},{},{},{}\n",
            m.epoch,
            m.train_loss,
            cell(m.train_acc),
            cell(m.val_loss),
            cell(m.val_acc),
            m.lr,
            m.seconds
        );
    }
    s
}

/// Escapes text for HTML (and SVG text).
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c => s.push(c),
        }
    }
    s
}
