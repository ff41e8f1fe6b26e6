//! The `dlc` command: a thin layer over the `dlc` library.
//!
//! Exit codes: 0 success, 1 the program has errors (diagnostics printed),
//! 2 usage or I/O errors, 3 training diverged.

mod cli;

use clap::{Parser, Subcommand, ValueEnum};
use cli::check::check;
use cli::run::{RunArgs, run};
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
    /// Threads for large matrix products (default: every core).
    #[arg(long, global = true)]
    threads: Option<usize>,
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
    /// Loss and accuracy of a checkpoint in evaluation mode (running statistics, no dropout).
    Eval {
        file: PathBuf,
        /// The checkpoint to evaluate.
        #[arg(long)]
        checkpoint: PathBuf,
        /// A CSV file like the program's data (default: the program's own data).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Write a network, its initial state, a few batches and dlc's results
    /// for them, for the PyTorch comparison in `parity/`.
    #[command(hide = true)]
    ParityExport {
        file: PathBuf,
        /// The directory to write into.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 5)]
        steps: usize,
    },
    /// Predictions of a checkpoint for the samples of a CSV file, as CSV.
    Predict {
        file: PathBuf,
        #[arg(long)]
        checkpoint: PathBuf,
        /// Samples, one per row, with a header line (a label column is skipped).
        #[arg(long)]
        input: PathBuf,
        /// Where to write the predictions (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The parsed syntax tree.
    Ast,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The matrix-product library reads its thread count once, from the
/// environment, at its first product: set it before anything runs.
fn set_threads(threads: Option<usize>) {
    let from_env = std::env::var_os("MATMUL_NUM_THREADS").is_some();
    let n = match threads {
        Some(n) => n.max(1),
        None if from_env => return,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // SAFETY: called first thing in `main`, before any other thread exists.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", n.to_string()) };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    set_threads(cli.threads);
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
        Command::ParityExport { file, out, steps } => {
            cli::parity::parity_export(&file, &out, steps)
        }
        Command::Eval {
            file,
            checkpoint,
            data,
        } => cli::eval::eval(&file, &checkpoint, data.as_deref()),
        Command::Predict {
            file,
            checkpoint,
            input,
            output,
        } => cli::predict::predict(&file, &checkpoint, &input, output.as_deref()),
    };
    ExitCode::from(code)
}
