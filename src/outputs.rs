//! Output destinations (checkpoints, run directories, predictions, tuned
//! programs), checked before any work starts: a directory where a file is
//! wanted, or the reverse, is an error now, not after an hour of training.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `path` can be written as a file: it is not a directory, and the nearest
/// part of it that exists is a directory.
pub fn output_file(path: &Path, what: &str) -> Result<(), String> {
    if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(format!(
            "{what} {} is a directory: name a file in it",
            path.display()
        ));
    }
    parent_is_directory(path, what)
}

/// `path` can be a directory: it is one already, or it does not exist and
/// the nearest part of it that exists is a directory.
pub fn output_dir(path: &Path, what: &str) -> Result<(), String> {
    if path.exists() && !path.is_dir() {
        return Err(format!(
            "{what} {} is a file, not a directory: name a directory",
            path.display()
        ));
    }
    parent_is_directory(path, what)
}

fn parent_is_directory(path: &Path, what: &str) -> Result<(), String> {
    let mut at: PathBuf = path.to_path_buf();
    while at.pop() {
        if at.as_os_str().is_empty() || at.is_dir() {
            return Ok(());
        }
        if at.exists() {
            return Err(format!(
                "{what} {} cannot be created: {} is a file, not a directory",
                path.display(),
                at.display()
            ));
        }
    }
    Ok(())
}

/// Writes `data` to a temporary file beside `path`, then renames it over
/// `path`, so a reader never sees half a file and a crash leaves the
/// previous one whole; creates the directory if needed, and removes the
/// temporary files of writers that died before their rename.
pub fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        // Held until the rename: another writer's clean-up sees that this
        // file is in use (a lock dies with its process, unlike a PID,
        // which is reused, and means nothing across PID namespaces).
        let _ = f.try_lock();
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    remove_stale_temporaries(path, &file_name);
    Ok(())
}

/// A temporary file is stale when its writer is gone: nobody holds its lock,
/// and it has not been touched for a while (a writer takes the lock right
/// after creating it). Only `.NAME.tmp<PID>` files beside `path` are looked
/// at; any failure leaves the file alone.
fn remove_stale_temporaries(path: &Path, file_name: &str) {
    const UNTOUCHED: std::time::Duration = std::time::Duration::from_secs(10);
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{file_name}.tmp");
    let own = std::process::id().to_string();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || pid == own {
            continue;
        }
        let stale = || -> Option<()> {
            let meta = std::fs::symlink_metadata(entry.path()).ok()?;
            let age = meta.modified().ok()?.elapsed().ok()?;
            if !meta.is_file() || age < UNTOUCHED {
                return None;
            }
            let f = std::fs::File::open(entry.path()).ok()?;
            f.try_lock().ok()?;
            std::fs::remove_file(entry.path()).ok()
        };
        stale();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_directories_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("dlc-paths-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.csv");
        std::fs::write(&file, "x").unwrap();
        assert!(
            output_file(&dir, "--output")
                .unwrap_err()
                .contains("is a directory")
        );
        assert!(output_file(&file, "--output").is_ok());
        assert!(output_file(&dir.join("new/deeper.csv"), "--output").is_ok());
        let under_file = file.join("x.csv");
        assert!(
            output_file(&under_file, "--output")
                .unwrap_err()
                .contains("is a file")
        );
        assert!(
            output_dir(&file, "--out")
                .unwrap_err()
                .contains("is a file")
        );
        assert!(output_dir(&dir, "--out").is_ok());
        assert!(output_dir(&dir.join("runs/new"), "--out").is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}
