//! The file policy: which files a program's data may come from, what kind, and how large.
//! Every loader opens its files through it, and every refusal names the path as the program
//! wrote it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dlc::data::{self, CsvOptions, DataError, FileAccess, FilePolicy};

/// A fresh directory of its own (tests run in parallel), canonical.
fn folder() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("data_files")
        .join(NEXT.fetch_add(1, Ordering::Relaxed).to_string());
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path.canonicalize().unwrap()
}

fn within(root: &Path) -> FilePolicy {
    FilePolicy {
        access: FileAccess::Within(root.to_path_buf()),
        ..FilePolicy::default()
    }
}

fn regular_only() -> FilePolicy {
    FilePolicy {
        regular_only: true,
        ..FilePolicy::default()
    }
}

const SMALL_CSV: &str = "x,y\n1,0\n2,1\n";

fn csv(path: &Path, policy: &FilePolicy) -> Result<data::Dataset, DataError> {
    data::csv(path, &CsvOptions::label("y"), policy)
}

#[test]
fn inside_the_root_relative_paths_are_taken_from_it() {
    let root = folder();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/d.csv"), SMALL_CSV).unwrap();
    let policy = within(&root);
    assert_eq!(csv(Path::new("sub/d.csv"), &policy).unwrap().len(), 2);
    assert_eq!(csv(&root.join("sub/d.csv"), &policy).unwrap().len(), 2);
    // `..` that comes back inside is inside.
    assert_eq!(
        csv(Path::new("sub/../sub/d.csv"), &policy).unwrap().len(),
        2
    );
}

#[test]
fn paths_that_lead_outside_the_root_are_refused_by_name() {
    let parent = folder();
    let root = parent.join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(parent.join("secret.csv"), SMALL_CSV).unwrap();
    std::os::unix::fs::symlink(parent.join("secret.csv"), root.join("link.csv")).unwrap();
    let policy = within(&root);
    for path in ["../secret.csv", "/etc/passwd", "link.csv"] {
        let error = csv(Path::new(path), &policy).unwrap_err();
        assert!(
            matches!(&error, DataError::OutsideRoot { path: p, .. } if p == path),
            "{path}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "{path}: the path leads outside {}",
                root.display()
            )),
            "{message}"
        );
        assert!(message.contains("use a path inside it"), "{message}");
    }
}

#[test]
fn no_access_refuses_every_loader() {
    let policy = FilePolicy {
        access: FileAccess::Nothing,
        ..FilePolicy::default()
    };
    let name = Path::new("d.csv");
    let disabled =
        |e: DataError| matches!(e, DataError::AccessDisabled { path } if path == "d.csv");
    assert!(disabled(csv(name, &policy).unwrap_err()));
    let preparation = data::Preparation {
        features: vec!["a".into()],
        target_columns: Vec::new(),
        classes: Vec::new(),
        labels_are_names: false,
        raw_len: 1,
        sample_shape: vec![1],
        scale: None,
        imputer: None,
        standardizer: None,
        target_standardizer: None,
    };
    assert!(disabled(
        preparation.read_inputs(name, &policy).unwrap_err()
    ));
    assert!(disabled(data::idx(name, name, None, &policy).unwrap_err()));
    assert!(disabled(data::npy(name, name, None, &policy).unwrap_err()));
    assert!(disabled(policy.check_path(name, true).unwrap_err()));
}

#[test]
fn only_regular_files_pipes_and_devices_refused_without_blocking() {
    let dir = folder();
    let fifo = dir.join("pipe.csv");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // No writer ever opens the pipe: a blocking open would never return.
    let started = Instant::now();
    let error = csv(&fifo, &regular_only()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        error.to_string(),
        format!(
            "{}: a named pipe (FIFO), not a regular file; data can only be read from a regular file",
            fifo.display()
        )
    );
    for (path, kind) in [
        ("/dev/zero", "a character device"),
        (dir.to_str().unwrap(), "a directory"),
    ] {
        let error = csv(Path::new(path), &regular_only()).unwrap_err();
        assert!(
            matches!(&error, DataError::NotRegularFile { kind: k, .. } if k == kind),
            "{path}: {error:?}"
        );
    }
}

#[test]
fn a_file_longer_than_the_limit_is_refused_before_reading() {
    let dir = folder();
    let path = dir.join("big.csv");
    std::fs::write(&path, format!("x,y\n{}", "1,0\n".repeat(1000))).unwrap();
    let policy = FilePolicy {
        max_file_bytes: Some(1000),
        ..FilePolicy::default()
    };
    let message = csv(&path, &policy).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "{}: the file holds 4,004 bytes (3.9 KiB), more than the limit of 1,000 bytes for \
             one file; use a smaller file, or raise the limit",
            path.display()
        )
    );
}

#[test]
fn a_device_that_never_ends_is_read_only_up_to_the_limits() {
    // /dev/zero has no length to check: reading stops at the file limit...
    let policy = FilePolicy {
        max_file_bytes: Some(1 << 20),
        ..FilePolicy::default()
    };
    let error = csv(Path::new("/dev/zero"), &policy).unwrap_err();
    assert!(
        matches!(error, DataError::FileTooLarge { held: None, limit, .. } if limit == 1 << 20),
        "{error:?}"
    );
    // ... or at the memory limit: its one endless line is never held whole.
    let policy = FilePolicy {
        max_alloc_bytes: Some(1 << 20),
        ..FilePolicy::default()
    };
    let message = csv(Path::new("/dev/zero"), &policy)
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("/dev/zero: the record at line 1 would take at least "),
        "{message}"
    );
    assert!(
        message.contains("more than the 1,048,576 bytes (1.0 MiB) the memory limit leaves"),
        "{message}"
    );
}

/// `open` resolves the path again itself: a path checked once and then swapped for a link
/// out of the root is refused when it is opened.
#[test]
fn a_file_swapped_for_a_link_after_a_check_is_refused_when_opened() {
    let parent = folder();
    let root = parent.join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(parent.join("secret.csv"), SMALL_CSV).unwrap();
    std::fs::write(root.join("d.csv"), SMALL_CSV).unwrap();
    let policy = within(&root);
    let resolved = policy.check_path(Path::new("d.csv"), false).unwrap();
    assert_eq!(resolved, root.join("d.csv"));
    // The file the check saw is replaced by a link out of the root before it is opened.
    std::fs::remove_file(root.join("d.csv")).unwrap();
    std::os::unix::fs::symlink(parent.join("secret.csv"), root.join("d.csv")).unwrap();
    let error = policy.open(&resolved).unwrap_err();
    assert!(matches!(&error, DataError::OutsideRoot { .. }), "{error:?}");
}

#[test]
fn paths_for_writing_may_name_new_files_in_directories_inside_the_root() {
    let parent = folder();
    let root = parent.join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(root.join("runs")).unwrap();
    std::os::unix::fs::symlink(&parent, root.join("escape")).unwrap();
    let policy = within(&root);
    assert_eq!(
        policy
            .check_path(Path::new("runs/model.ckpt"), true)
            .unwrap(),
        root.join("runs/model.ckpt")
    );
    for outside in ["../model.ckpt", "escape/model.ckpt", "runs/../.."] {
        let error = policy.check_path(Path::new(outside), true).unwrap_err();
        assert!(
            matches!(
                &error,
                DataError::OutsideRoot {
                    for_write: true,
                    ..
                }
            ),
            "{outside}: {error:?}"
        );
        assert!(
            error.to_string().contains("files may be written to"),
            "{error}"
        );
    }
    // A directory that does not exist: the error names the path as written.
    let error = policy
        .check_path(Path::new("nowhere/model.ckpt"), true)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("nowhere/model.ckpt: cannot read"),
        "{error}"
    );
    // Reading needs the file itself.
    assert!(matches!(
        policy.check_path(Path::new("runs/model.ckpt"), false),
        Err(DataError::Io { .. })
    ));
}

#[test]
fn a_file_that_is_not_csv_is_quoted_only_in_a_short_escaped_excerpt() {
    let dir = folder();
    // Like /etc/passwd, or any binary file: one huge "column" full of control bytes.
    let mut header = "\u{1b}[2Jroot:x:0:0:root:/root:/bin/bash\u{7}".repeat(2000);
    header.push('\n');
    let path = dir.join("passwd");
    std::fs::write(&path, &header).unwrap();
    let message = csv(&path, &FilePolicy::default()).unwrap_err().to_string();
    let shown = message.replace(&path.display().to_string(), "passwd");
    assert_eq!(
        shown,
        "passwd: column \"y\" not found in the header; columns are: \
         \\u{1b}[2Jroot:x:0:0:root:/roo…"
    );
    assert!(!message.contains('\u{1b}'));
    // Many columns: the first and last few, each short.
    let wide: Vec<String> = (0..100_000)
        .map(|i| format!("column_{i}_{}", "z".repeat(50)))
        .collect();
    std::fs::write(&path, format!("{}\n", wide.join(","))).unwrap();
    let message = csv(&path, &FilePolicy::default()).unwrap_err().to_string();
    assert!(message.len() < 200, "{} bytes: {message}", message.len());
}
