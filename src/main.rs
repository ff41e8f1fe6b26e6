//! The `dlc` command: a thin layer over the `dlc` library.
//!
//! Exit codes: 0 success, 1 the program has errors (diagnostics printed),
//! 2 usage or I/O errors, 3 training diverged.

use clap::{Parser, Subcommand, ValueEnum};
use dlc::check::Checked;
use dlc::diag::{Source, render};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "dlc",
    version,
    about = "A compiler for a small language that describes neural networks and how to train them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check programs: names, arguments and every tensor's shape; print a summary.
    Check {
        /// The `.dl` files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How to print the result.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Print an intermediate form instead of the summary.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// When to colour diagnostics.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Compile and train a program as its `train` item says.
    Run { file: PathBuf },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// The parsed syntax tree.
    Ast,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check {
            files,
            format,
            emit,
            color,
        } => check(&files, format, emit, color),
        Command::Run { file } => run(&file),
    };
    ExitCode::from(code)
}

/// Reads a source file, or prints a one-line error and returns `None`.
fn read(path: &PathBuf) -> Option<String> {
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

fn check(files: &[PathBuf], format: Format, emit: Option<Emit>, color: Color) -> u8 {
    let color = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut worst = 0u8;
    let mut stdout = std::io::stdout().lock();
    for path in files {
        let Some(text) = read(path) else {
            worst = 2;
            continue;
        };
        let name = path.display().to_string();
        let source = Source {
            name: &name,
            text: &text,
        };
        if emit == Some(Emit::Ast) {
            match dlc::syntax::parse(&text) {
                Ok(program) => {
                    let _ = write!(stdout, "{}", dlc::syntax::print_program(&program, &text));
                }
                Err(diags) => {
                    eprint!("{}", render(&source, &diags, color));
                    worst = worst.max(1);
                }
            }
            continue;
        }
        let checked = dlc::check::check_source(&text);
        let failed = checked.has_errors();
        match format {
            Format::Human => print_human(&mut stdout, &source, &checked, color),
            Format::Json => print_json(&mut stdout, &source, &checked),
        }
        if failed {
            worst = worst.max(1);
        }
    }
    worst
}

fn print_human(out: &mut impl Write, source: &Source, checked: &Checked, color: bool) {
    if !checked.diagnostics.is_empty() {
        eprint!("{}", render(source, &checked.diagnostics, color));
    }
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = checked.diagnostics.len() - errors;
    match &checked.model {
        Some(model) => {
            let _ = writeln!(out, "{}: ok", source.name);
            let _ = write!(out, "{}", dlc::report::summary_table(model));
        }
        None => {
            let plural = |n: usize, w: &str| {
                if n == 1 {
                    format!("1 {w}")
                } else {
                    format!("{n} {w}s")
                }
            };
            let mut line = format!("{}: {}", source.name, plural(errors, "error"));
            if warnings > 0 {
                line += &format!(", {}", plural(warnings, "warning"));
            }
            eprintln!("{line}");
        }
    }
}

fn print_json(out: &mut impl Write, source: &Source, checked: &Checked) {
    let index = dlc::diag::LineIndex::new(source.text);
    let diagnostics: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| d.to_json_indexed(source, &index))
        .collect();
    let mut obj = serde_json::json!({
        "file": source.name,
        "ok": checked.model.is_some(),
        "diagnostics": diagnostics,
    });
    if let Some(m) = &checked.model {
        obj["summary"] = dlc::report::summary_json(m);
    }
    let _ = writeln!(out, "{obj}");
}

fn run(file: &PathBuf) -> u8 {
    let Some(text) = read(file) else { return 2 };
    let name = file.display().to_string();
    let checked = dlc::check::check_source(&text);
    if checked.has_errors() {
        let color = std::io::stderr().is_terminal();
        eprint!(
            "{}",
            render(
                &Source {
                    name: &name,
                    text: &text
                },
                &checked.diagnostics,
                color
            )
        );
        return 1;
    }
    eprintln!(
        "error: `dlc run` cannot train yet: the compiler back end (tensor IR, autodiff, JIT) is not built.\n\
         `dlc check {name}` checks the program and prints its summary."
    );
    2
}
