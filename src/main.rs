//! The `dlc` command: a thin layer over the `dlc` library.
//!
//! Exit codes: 0 success, 1 the program has errors (diagnostics printed) or
//! a sanity check failed, 2 usage or I/O errors, 3 training diverged.

mod cli;

use clap::{Parser, Subcommand, ValueEnum};
use cli::check::check;
use cli::lr_find::{LrFindArgs, lr_find};
use cli::run::{Resume, RunArgs, run};
use cli::sanity::{SanityArgs, sanity};
use cli::tune::{TuneArgs, tune};
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
    /// Threads for compiling and for running large kernels (default: every core).
    #[arg(long, global = true, value_parser = positive)]
    threads: Option<usize>,
    /// The most memory a program may plan to use, e.g. `4G`, `512M`, or `none`
    /// (default: four fifths of this machine's memory).
    #[arg(long, global = true, value_name = "SIZE", value_parser = cli::parse_max_memory)]
    max_memory: Option<cli::MaxMemory>,
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
        /// Train this many epochs in all (overrides the program; at least 1).
        #[arg(long, value_parser = positive_epochs)]
        epochs: Option<usize>,
        /// Seed of initialisation and dropout (overrides the `train` item's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Seed of the validation split and of each epoch's order (overrides
        /// the `data` item's `seed`).
        #[arg(long)]
        data_seed: Option<u64>,
        /// The least time between two of the program's checkpoints, in
        /// seconds (default: 1, or 20 times a write's time if longer; 0
        /// writes one after every epoch). The last epoch is always written.
        #[arg(long, value_name = "SECONDS", value_parser = seconds)]
        checkpoint_every: Option<std::time::Duration>,
        /// Print nothing but errors and the final result.
        #[arg(long, short)]
        quiet: bool,
        /// Print one JSON object per epoch on stdout, then a last one with `"event": "done"`.
        #[arg(long)]
        json: bool,
        /// Continue the run from the program's `checkpoint` file (takes no
        /// value; see --resume-from). The run goes on as if never stopped: to
        /// the epochs it was started with, unless --epochs says otherwise.
        #[arg(long)]
        resume: bool,
        /// Continue the run from this checkpoint file instead.
        #[arg(long, value_name = "CHECKPOINT")]
        resume_from: Option<PathBuf>,
        /// Run on the reference interpreter instead of native code (slow; for checking).
        #[arg(long)]
        interpret: bool,
        /// Where to write everything: metrics, curves, report.html, the model
        /// file and the program's checkpoint (default: runs/<file stem>, the
        /// checkpoint where the program says).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a program before a long run: initial loss, gradients, and
    /// overfitting a few batches. Exit status 1 if a check fails.
    Sanity {
        file: PathBuf,
        /// The most optimizer steps for overfitting the small sample.
        #[arg(long, value_parser = positive)]
        max_steps: Option<usize>,
        /// Samples to learn by heart (default: two batches, 8 to 128).
        #[arg(long, value_parser = positive)]
        samples: Option<usize>,
        /// Run on the reference interpreter instead of native code.
        #[arg(long)]
        interpret: bool,
    },
    /// Find a learning rate: sweep it exponentially, plot loss against rate.
    LrFind {
        file: PathBuf,
        /// The first rate of the sweep.
        #[arg(long, default_value_t = 1e-6, value_parser = rate)]
        start: f64,
        /// The last rate of the sweep.
        #[arg(long, default_value_t = 10.0, value_parser = rate)]
        end: f64,
        /// Steps of the sweep.
        #[arg(long, default_value_t = 200, value_parser = sweep_steps)]
        steps: usize,
        /// Weight decay during the sweep (default: the program's, or a small one).
        #[arg(long, value_parser = decay, allow_negative_numbers = true)]
        decay: Option<f64>,
        /// Where to write lr_find.csv/.svg/.png (default: runs/<file stem>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run on the reference interpreter instead of native code.
        #[arg(long)]
        interpret: bool,
    },
    /// Tune the learning rate and weight decay: a coarse grid around the
    /// finder's suggestion, then a finer grid around the best points; the
    /// winner replaces the program's values only if it also does better at
    /// the program's own epochs, over a few seeds.
    Tune {
        file: PathBuf,
        /// Epochs of each coarse grid point.
        #[arg(long, default_value_t = 3, value_parser = positive)]
        epochs: usize,
        /// Epochs of each fine grid point (default: twice --epochs).
        #[arg(long, value_parser = positive)]
        fine_epochs: Option<usize>,
        /// Coarse points refined by the fine grid.
        #[arg(long, default_value_t = 2, value_parser = positive)]
        top: usize,
        /// Steps of the learning-rate sweep.
        #[arg(long, default_value_t = 200, value_parser = sweep_steps)]
        finder_steps: usize,
        /// Seeds the winner is confirmed with (default: 3 below 5000 training samples, else 1).
        #[arg(long, value_parser = positive)]
        confirm_seeds: Option<usize>,
        /// Print nothing but errors and the final result.
        #[arg(long, short)]
        quiet: bool,
        /// Write the chosen values into FILE (left as it is when its own are kept).
        #[arg(long, conflicts_with = "write_to")]
        write: bool,
        /// Write the program with the chosen values to a new file.
        #[arg(long, value_name = "NEW")]
        write_to: Option<PathBuf>,
        /// Where to write the report (default: runs/<file stem>/tune).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run on the reference interpreter instead of native code.
        #[arg(long)]
        interpret: bool,
    },
    /// Loss, accuracy and per-class metrics of a trained model in evaluation
    /// mode (running statistics, no dropout).
    Eval {
        /// The model file (`runs/NAME/model.safetensors`), or the program
        /// (its run's model file, unless `--model` names one).
        file: PathBuf,
        /// The model file or checkpoint, when FILE is the program (which
        /// must have the same network).
        #[arg(long, visible_alias = "checkpoint")]
        model: Option<PathBuf>,
        /// A CSV file like the training data, read by column name (default:
        /// the program's own data).
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Write a network, its initial state, a few batches and dlc's results
    /// for them, for the PyTorch comparison in `parity/`.
    #[command(hide = true)]
    ParityExport {
        file: PathBuf,
        /// The directory to write into.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 5, value_parser = positive)]
        steps: usize,
    },
    /// Predictions of a trained model for the samples of a CSV file, as CSV.
    Predict {
        /// The model file (`runs/NAME/model.safetensors`), or the program
        /// (its run's model file, unless `--model` names one).
        file: PathBuf,
        /// The model file or checkpoint, when FILE is the program (which
        /// must have the same network).
        #[arg(long, visible_alias = "checkpoint")]
        model: Option<PathBuf>,
        /// Samples, one per row, with a header line: the feature columns are
        /// found by name, and every other column is copied to the output.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the predictions (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Build a trained model as an object file and a C header (`NAME.o`,
    /// `NAME.h`, `README.txt`) to link into a C, C++ or Rust program.
    Build {
        /// The model file (`runs/NAME/model.safetensors`), or the program
        /// (its run's model file, unless `--model` names one).
        file: PathBuf,
        /// The model file or checkpoint, when FILE is the program.
        #[arg(long, visible_alias = "checkpoint")]
        model: Option<PathBuf>,
        /// The directory to write the files into.
        #[arg(long, short)]
        output: PathBuf,
        /// The prefix of the files and functions (default: the network's name).
        #[arg(long)]
        name: Option<String>,
        /// The processor to build for: `host` (this machine's, as the JIT
        /// uses), or an x86-64 level such as `x86-64-v3` (AVX2 and FMA) or
        /// `x86-64-v2`, to run on other machines.
        #[arg(long, default_value = "host")]
        cpu: String,
        /// Samples the built code computes at once (larger calls run in chunks).
        #[arg(long, default_value_t = 256, value_parser = positive)]
        chunk: usize,
    },
    /// A trained model's evaluation-mode network, with its data preparation,
    /// as a file for other runtimes.
    Export {
        /// The model file (`runs/NAME/model.safetensors`), or the program
        /// (its run's model file, unless `--model` names one).
        file: PathBuf,
        /// The model file or checkpoint, when FILE is the program (which
        /// must have the same network).
        #[arg(long, visible_alias = "checkpoint")]
        model: Option<PathBuf>,
        /// Where to write the ONNX model (opset 17): it takes the raw
        /// feature rows `dlc predict` reads and gives the probabilities (or
        /// predicted values) it prints.
        #[arg(long, value_name = "OUT.onnx")]
        onnx: PathBuf,
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
    /// The graph IR of the forward entry points.
    Ir,
    /// The backward (gradient) and update graphs.
    Grad,
    /// The kernel plan of each entry point.
    Kernels,
    /// The Cranelift IR of each entry point.
    Clif,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `--epochs` as the program's `epochs` setting takes it: a whole number, at
/// least 1.
fn positive_epochs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be positive, found 0 (as the program's `epochs`)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A time in seconds: finite and not negative.
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let s: f64 = text.parse().map_err(|e| format!("{e}"))?;
    std::time::Duration::try_from_secs_f64(s)
        .map_err(|_| format!("must be a number of seconds, at least 0, found {text}"))
}

/// A count of something (threads, samples, steps, points): at least 1.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1, found 0".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The steps of a sweep: at least 2 (a first and a last rate).
fn sweep_steps(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n < 2 => Err(format!(
            "must be at least 2 (a first and a last rate), found {n}"
        )),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A learning rate: a finite number above 0.
fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        Ok(r) => Err(format!("must be a finite number above 0, found {r}")),
        Err(e) => Err(e.to_string()),
    }
}

/// A weight decay: a finite number, 0 or more.
fn decay(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(d) if d.is_finite() && d >= 0.0 => Ok(d),
        Ok(d) => Err(format!("must be a finite number, 0 or more, found {d}")),
        Err(e) => Err(e.to_string()),
    }
}

/// The threads compiled code spreads its kernels over (else `DLC_THREADS`,
/// else every core).
fn set_threads(threads: Option<usize>) {
    if let Some(n) = threads {
        dlc::set_threads(n);
    }
}

fn main() -> ExitCode {
    // Output piped into `head` ends quietly, as other command-line tools do,
    // instead of failing on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // `dlc tune` trains grid points side by side, one thread per core (or
    // --threads): the kernels of each then run on one thread.
    // Ranks that share a machine share its cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_rank = dlc::distributed::local_ranks().map(|here| (cores / here).max(1));
    let grid_threads = cli.threads.or(per_rank).unwrap_or(0);
    if matches!(cli.command, Command::Tune { .. }) {
        set_threads(Some(1));
    } else {
        // Ranks that share a machine share its cores (else DLC_THREADS).
        set_threads(
            cli.threads
                .or(per_rank.filter(|_| std::env::var_os("DLC_THREADS").is_none())),
        );
    }
    // Only `dlc run` and `dlc tune` share their work across processes; N
    // copies of another command would each do it all and write the same files.
    if !matches!(cli.command, Command::Run { .. } | Command::Tune { .. })
        && let Some(n) = dlc::distributed::launcher_size().filter(|&n| n > 1)
    {
        eprintln!(
            "error: started as one of {n} MPI processes; only `dlc run` and `dlc tune` share their work across processes\nhelp: run this command alone"
        );
        return ExitCode::from(2);
    }
    if let Some(cli::MaxMemory(limit)) = cli.max_memory {
        cli::set_max_memory(limit);
    }
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
            data_seed,
            checkpoint_every,
            quiet,
            json,
            resume,
            resume_from,
            interpret,
            out,
        } => run(
            &file,
            RunArgs {
                epochs,
                seed,
                data_seed,
                checkpoint_every,
                quiet,
                json,
                resume: match resume_from {
                    Some(path) => Some(Resume::From(path)),
                    None => resume.then_some(Resume::ProgramCheckpoint),
                },
                interpret,
                out,
            },
        ),
        Command::Sanity {
            file,
            max_steps,
            samples,
            interpret,
        } => sanity(
            &file,
            SanityArgs {
                max_steps,
                samples,
                interpret,
            },
        ),
        Command::LrFind {
            file,
            start,
            end,
            steps,
            decay,
            out,
            interpret,
        } => lr_find(
            &file,
            LrFindArgs {
                start,
                end,
                steps,
                decay,
                out,
                interpret,
            },
        ),
        Command::Tune {
            file,
            epochs,
            fine_epochs,
            top,
            finder_steps,
            confirm_seeds,
            quiet,
            write,
            write_to,
            out,
            interpret,
        } => tune(
            &file,
            TuneArgs {
                epochs,
                fine_epochs,
                top,
                threads: grid_threads,
                finder_steps,
                confirm_seeds,
                write,
                write_to,
                out,
                quiet,
                interpret,
            },
        ),
        Command::ParityExport { file, out, steps } => {
            cli::parity::parity_export(&file, &out, steps)
        }
        Command::Eval {
            file,
            model,
            data,
            format,
        } => cli::eval::eval(&file, model.as_deref(), data.as_deref(), format),
        Command::Predict {
            file,
            model,
            input,
            output,
        } => cli::predict::predict(&file, model.as_deref(), &input, output.as_deref()),
        Command::Build {
            file,
            model,
            output,
            name,
            cpu,
            chunk,
        } => cli::build::build(
            &file,
            cli::build::BuildArgs {
                model,
                out: output,
                name,
                cpu,
                chunk,
            },
        ),
        Command::Export { file, model, onnx } => {
            cli::export::export_onnx(&file, model.as_deref(), &onnx)
        }
    };
    ExitCode::from(code)
}
