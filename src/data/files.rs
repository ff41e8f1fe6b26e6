//! Which files a program may read, and how large they may be.
//!
//! A program names its data files itself (`csv("...")`), so a program from somewhere else
//! could name any file the process can read, block forever on a named pipe, or read a
//! device that never ends. Every file the data module opens goes through
//! [`FilePolicy::open`], which applies the embedder's rules: where files may be, what kind
//! of file, and how many bytes. The default policy is permissive (any path, no limit), as
//! the command line wants for the user's own programs.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::DataError;
use super::alloc::MemoryLimit;

/// Where files may be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FileAccess {
    /// Any path the process can open.
    #[default]
    Any,
    /// No file at all.
    Nothing,
    /// Only files inside this directory, after `..` and symbolic links are resolved. A
    /// relative path is taken from this directory.
    Within(PathBuf),
}

/// The rules for the files a program's data comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilePolicy {
    pub access: FileAccess,
    /// Refuse pipes, devices, sockets and directories. Checked on the opened file itself,
    /// so that a path swapped for something else after a check is caught too; with this set,
    /// opening a named pipe cannot block.
    pub regular_only: bool,
    /// The most bytes one file may hold; reading stops with an error past it.
    pub max_file_bytes: Option<u64>,
    /// The most bytes a loader may allocate for one data set (decoded samples and targets,
    /// and the scratch needed to decode them).
    pub max_alloc_bytes: Option<u64>,
}

/// A file opened under a policy: reads stop with [`DataError::FileTooLarge`] past the
/// policy's limit. Messages name the file as the program wrote it.
#[derive(Debug)]
pub struct OpenedFile {
    file: File,
    name: String,
    /// The length of a regular file when it was opened; `None` for pipes and devices.
    len: Option<u64>,
    read: u64,
    max_bytes: Option<u64>,
}

impl OpenedFile {
    /// The path as the program wrote it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's length when it was opened, for a regular file.
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    /// True for a regular file that was empty when opened.
    pub fn is_empty(&self) -> bool {
        self.len == Some(0)
    }
}

impl Read for OpenedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(max) = self.max_bytes else {
            return self.file.read(buf);
        };
        // One byte past the limit is allowed through, so that a file of exactly the limit
        // reads to its end and one byte more is seen as too much.
        let left = (max + 1).saturating_sub(self.read);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        self.read += n as u64;
        if self.read > max {
            return Err(std::io::Error::other(DataError::FileTooLarge {
                path: self.name.clone(),
                held: None,
                limit: max,
            }));
        }
        Ok(n)
    }
}

impl FilePolicy {
    /// The allocation limit as the loaders take it.
    pub fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit(self.max_alloc_bytes)
    }

    /// Opens `path` (as the program wrote it) for reading, if the policy allows it.
    pub fn open(&self, path: &Path) -> Result<OpenedFile, DataError> {
        let name = path.display().to_string();
        let resolved = self.check_path(path, false)?;
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut flags = 0;
            if self.regular_only {
                // Opening a FIFO for reading waits for a writer; without blocking it returns
                // at once, and the check below refuses it.
                flags |= libc::O_NONBLOCK;
            }
            if matches!(self.access, FileAccess::Within(_)) {
                // The path was resolved: a symbolic link in its place now is a swap.
                flags |= libc::O_NOFOLLOW;
            }
            options.custom_flags(flags);
        }
        let file = options
            .open(&resolved)
            .map_err(|e| DataError::io(path, e))?;
        let metadata = file.metadata().map_err(|e| DataError::io(path, e))?;
        let kind = metadata.file_type();
        if self.regular_only && !kind.is_file() {
            return Err(DataError::NotRegularFile {
                path: name,
                kind: describe_file_type(&kind).to_string(),
            });
        }
        if let FileAccess::Within(root) = &self.access {
            check_opened(&file, path, root)?;
        }
        #[cfg(unix)]
        if self.regular_only {
            clear_nonblocking(&file);
        }
        let len = kind.is_file().then_some(metadata.len());
        if let (Some(max), Some(len)) = (self.max_file_bytes, len)
            && len > max
        {
            return Err(DataError::FileTooLarge {
                path: name,
                held: Some(len),
                limit: max,
            });
        }
        Ok(OpenedFile {
            file,
            name,
            len,
            read: 0,
            max_bytes: self.max_file_bytes,
        })
    }

    /// The path to use for `path` (as the program wrote it), if the policy allows it: with
    /// [`FileAccess::Within`], the resolved path inside the root. For writing, the file may
    /// not exist yet; its directory must then resolve inside the root.
    pub fn check_path(&self, path: &Path, for_write: bool) -> Result<PathBuf, DataError> {
        let name = || path.display().to_string();
        let root = match &self.access {
            FileAccess::Any => return Ok(path.to_path_buf()),
            FileAccess::Nothing => return Err(DataError::AccessDisabled { path: name() }),
            FileAccess::Within(root) => root,
        };
        let canonical_root = root.canonicalize().map_err(|e| DataError::io(root, e))?;
        let outside = || DataError::OutsideRoot {
            path: name(),
            root: root.display().to_string(),
            for_write,
        };
        let joined = canonical_root.join(path);
        let resolved = match joined.canonicalize() {
            Ok(resolved) => resolved,
            Err(e) if for_write && e.kind() == std::io::ErrorKind::NotFound => {
                // A new file: its name must be a plain name, in a directory inside the root.
                let Some(Component::Normal(file_name)) = joined.components().next_back() else {
                    return Err(outside());
                };
                let parent = joined.parent().unwrap_or(&canonical_root);
                let parent = parent.canonicalize().map_err(|e| DataError::io(path, e))?;
                parent.join(file_name)
            }
            Err(e) => return Err(DataError::io(path, e)),
        };
        if !resolved.starts_with(&canonical_root) {
            return Err(outside());
        }
        Ok(resolved)
    }
}

/// Checks that the file actually opened is inside `root`: a directory on the way may have
/// been swapped for a link between resolving the path and opening it.
fn check_opened(file: &File, path: &Path, root: &Path) -> Result<(), DataError> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let link = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        if let (Ok(opened), Ok(canonical_root)) = (std::fs::read_link(link), root.canonicalize())
            && !opened.starts_with(&canonical_root)
        {
            return Err(DataError::OutsideRoot {
                path: path.display().to_string(),
                root: root.display().to_string(),
                for_write: false,
            });
        }
    }
    let _ = (file, path, root);
    Ok(())
}

/// Reads from a regular file never block; the flag only mattered for opening.
#[cfg(unix)]
fn clear_nonblocking(file: &File) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function's caller owns, with flags it read.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

fn describe_file_type(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}
