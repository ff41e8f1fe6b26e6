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
    Run {
        file: PathBuf,
        /// Train this many epochs in all (overrides the program).
        #[arg(long)]
        epochs: Option<usize>,
        /// Seed of initialisation and dropout (overrides the program).
        #[arg(long)]
        seed: Option<u64>,
        /// Print nothing but errors and the final result.
        #[arg(long, short)]
        quiet: bool,
        /// Print one JSON object per epoch on stdout, then a last one with `"event": "done"`.
        #[arg(long)]
        json: bool,
        /// Continue from a checkpoint (default: the program's `checkpoint` path).
        #[arg(long, num_args = 0..=1, default_missing_value = "")]
        resume: Option<PathBuf>,
        /// Run on the reference interpreter instead of native code (slow; for checking).
        #[arg(long)]
        interpret: bool,
    },
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
        Command::Run {
            file,
            epochs,
            seed,
            quiet,
            json,
            resume,
            interpret,
        } => run(
            &file,
            RunArgs {
                epochs,
                seed,
                quiet,
                json,
                resume,
                interpret,
            },
        ),
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
    let diagnostics: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| d.to_json(source))
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

struct RunArgs {
    epochs: Option<usize>,
    seed: Option<u64>,
    quiet: bool,
    json: bool,
    resume: Option<PathBuf>,
    interpret: bool,
}

fn run(file: &PathBuf, args: RunArgs) -> u8 {
    let Some(text) = read(file) else { return 2 };
    let name = file.display().to_string();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let backend = if args.interpret {
        dlc::BackendKind::Interpreter
    } else {
        dlc::BackendKind::Jit
    };
    let compile_start = std::time::Instant::now();
    let mut model = match dlc::compile_with(&text, backend) {
        Ok(m) => m,
        Err(e @ dlc::Error::Program { .. }) => {
            eprint!("{}", e.render(&name, &text, color));
            return 1;
        }
        Err(e) => {
            eprint!("{}", e.render(&name, &text, color));
            return 2;
        }
    };
    let compile_seconds = compile_start.elapsed().as_secs_f64();
    if model.model.train.is_none() {
        eprintln!(
            "error: {name} has no `train` item, so there is nothing to run\nhelp: add `train NETWORK on DATA {{ ... }}`"
        );
        return 2;
    }
    if let Some(path) = &args.resume {
        let path = if path.as_os_str().is_empty() {
            match model
                .model
                .train
                .as_ref()
                .and_then(|t| t.checkpoint.clone())
            {
                Some(p) => PathBuf::from(p),
                None => {
                    eprintln!(
                        "error: --resume names no checkpoint and {name} has no `checkpoint` setting"
                    );
                    return 2;
                }
            }
        } else {
            path.clone()
        };
        match dlc::runtime::checkpoint::load(&mut model, &path, &text) {
            Ok(info) => {
                if !args.quiet && !args.json {
                    eprintln!(
                        "resuming from {} at epoch {} (step {})",
                        path.display(),
                        info.epoch,
                        info.step
                    );
                }
                if !info.same_source && !args.quiet {
                    eprintln!(
                        "warning: {} was written by a different version of {name}",
                        path.display()
                    );
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let total = args
        .epochs
        .unwrap_or(model.model.train.as_ref().map_or(0, |t| t.epochs));
    if !args.quiet && !args.json {
        eprintln!("compiled {name} in {:.1} ms", compile_seconds * 1e3);
    }
    let options = dlc::TrainOptions {
        epochs: args.epochs,
        seed: args.seed,
    };
    let mut stdout = std::io::stdout().lock();
    let mut on_epoch = |m: &dlc::EpochMetrics| {
        if args.json {
            let _ = writeln!(stdout, "{}", dlc::report::epoch_json(m));
        } else if !args.quiet {
            eprintln!("{}", dlc::report::epoch_line(m, total));
        }
    };
    let result = model.train(&options, &mut on_epoch);
    match result {
        Ok(report) => {
            if args.json {
                let _ = writeln!(std::io::stdout(), "{}", dlc::report::done_json(&report));
            } else {
                println!("{}", dlc::report::done_text(&report));
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, dlc::RunError::Diverged { .. }) {
                3
            } else {
                2
            }
        }
    }
}
