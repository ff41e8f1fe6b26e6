//! The subcommands of `dlc`, each a thin layer over the library.

pub mod check;
pub mod eval;
pub mod parity;
pub mod predict;
pub mod run;

use std::io::IsTerminal;
use std::path::PathBuf;

/// Whether to colour what goes to stderr: only on a terminal, and never
/// when `NO_COLOR` is set.
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads a source file, or prints a one-line error and returns `None`.
pub fn read(path: &PathBuf) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                eprintln!(
                    "error: {} is not UTF-8 text (invalid byte at offset {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                );
                None
            }
        },
        Err(e) => {
            eprintln!("error: cannot read {}: {}", path.display(), io_reason(&e));
            None
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

/// Compiles a program, printing its diagnostics on failure; the error is
/// the exit code (1 for program errors, 2 otherwise).
pub fn compile_or_report(file: &std::path::Path, text: &str) -> Result<dlc::CompiledModel, u8> {
    match dlc::compile(text) {
        Ok(m) => Ok(m),
        Err(e) => {
            eprint!(
                "{}",
                e.render(&file.display().to_string(), text, stderr_color())
            );
            Err(if matches!(e, dlc::Error::Program { .. }) {
                1
            } else {
                2
            })
        }
    }
}
