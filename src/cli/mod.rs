//! The subcommands of `dlc`, each a thin layer over the library.

pub mod build;
pub mod check;
pub mod eval;
pub mod export;
pub mod lr_find;
pub mod parity;
pub mod predict;
pub mod run;
pub mod sanity;
pub mod tune;

use std::io::IsTerminal;
use std::sync::OnceLock;

/// `--max-memory`: a size, or `None` for no limit.
#[derive(Clone, Copy, Debug)]
pub struct MaxMemory(pub Option<u64>);

pub fn parse_max_memory(text: &str) -> Result<MaxMemory, String> {
    if matches!(text, "none" | "unlimited") {
        return Ok(MaxMemory(None));
    }
    dlc::Limits::parse_memory(text)
        .map(|b| MaxMemory(Some(b)))
        .ok_or_else(|| format!("`{text}` is not a size: write e.g. `4G`, `512M` or `none`"))
}

static MAX_MEMORY: OnceLock<Option<u64>> = OnceLock::new();

/// Sets the memory limit of every command (once, from the flags).
pub fn set_max_memory(limit: Option<u64>) {
    let _ = MAX_MEMORY.set(limit);
}

/// The library options of this invocation: the back end and the limits.
pub fn options(backend: dlc::BackendKind) -> dlc::Options {
    let mut limits = dlc::Limits::default();
    if let Some(&limit) = MAX_MEMORY.get() {
        limits.max_memory = limit;
    }
    dlc::Options { backend, limits }
}

/// Whether to colour what goes to stderr: only on a terminal, and never
/// when `NO_COLOR` is set.
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads a source file, or prints a one-line error and returns `None`.
pub fn read(path: &std::path::Path) -> Option<String> {
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
            eprintln!(
                "error: cannot read {}: {}",
                path.display(),
                dlc::data::io_reason(&e)
            );
            None
        }
    }
}

/// Compiles a program, printing its diagnostics on failure; the error is
/// the exit code (1 for program errors, 2 otherwise).
pub fn compile_or_report(file: &std::path::Path, text: &str) -> Result<dlc::CompiledModel, u8> {
    match dlc::compile_with_options(text, &options(dlc::BackendKind::Jit)) {
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

/// A trained model for `eval`, `predict`, `export` and `build`: the model
/// file alone, or the program with its model file or checkpoint (by
/// default its run's model file). Returns the model and its program's text.
pub fn open_trained(
    file: &std::path::Path,
    model_file: Option<&std::path::Path>,
) -> Result<(dlc::CompiledModel, String), u8> {
    let options = options(dlc::BackendKind::Jit);
    // A program without a model file means its run's: `runs/<stem>/model.safetensors`.
    let default_model;
    let model_file = match model_file {
        None if is_program(file) && file.exists() => {
            default_model =
                dlc::report::default_run_dir(file, None, None).join("model.safetensors");
            if !default_model.exists() {
                eprintln!(
                    "error: {} is a program and has no model file at {}: train it first (`dlc run {}`), or name one with --model",
                    file.display(),
                    default_model.display(),
                    file.display()
                );
                return Err(2);
            }
            Some(default_model.as_path())
        }
        other => other,
    };
    let Some(model_file) = model_file else {
        return match dlc::open_model(file, &options) {
            Ok(m) => {
                let text = m.source().to_string();
                Ok((m, text))
            }
            Err(e) => {
                eprintln!("error: {e}");
                Err(2)
            }
        };
    };
    let Some(text) = read(file) else {
        return Err(2);
    };
    let mut model = compile_or_report(file, &text)?;
    if let Err(e) = dlc::checkpoint::load_weights(&mut model, model_file, &text) {
        eprintln!("error: {e}");
        return Err(2);
    }
    match dlc::checkpoint::provenance(model_file, &model.data_policy()) {
        Ok(p) => {
            if let Some(p) = p.preparation {
                model.set_preparation(p);
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(2);
        }
    }
    Ok((model, text))
}

/// Whether `file` names a program rather than a model file.
fn is_program(file: &std::path::Path) -> bool {
    file.extension().is_some_and(|e| e == "dl")
}

/// [`open_trained`] with the model's preparation: what `predict`, `build`
/// and `export` start from.
pub fn open_prepared(
    file: &std::path::Path,
    model_file: Option<&std::path::Path>,
) -> Result<(dlc::CompiledModel, dlc::data::Preparation), u8> {
    let (model, _) = open_trained(file, model_file)?;
    let preparation = preparation_of(&model)?;
    Ok((model, preparation))
}

/// The preparation of a trained model; for a checkpoint written before
/// models kept it, recomputed from the program's training data.
pub fn preparation_of(model: &dlc::CompiledModel) -> Result<dlc::data::Preparation, u8> {
    if let Some(p) = model.preparation() {
        return Ok(p.clone());
    }
    let Some(spec) = model.model().data.clone() else {
        eprintln!(
            "error: the model does not say how its samples were prepared, and its program has no data item to tell"
        );
        return Err(2);
    };
    match dlc::load::load(&spec, &model.data_policy()) {
        Ok(l) => Ok(l.preparation),
        Err(e) => {
            eprintln!("error: cannot prepare the input as the training data was: {e}");
            Err(2)
        }
    }
}

pub fn backend(interpret: bool) -> dlc::BackendKind {
    if interpret {
        dlc::BackendKind::Interpreter
    } else {
        dlc::BackendKind::Jit
    }
}

/// Reads, checks and compiles a program and loads its data for a recipe.
/// On failure, prints why and gives the exit code: 1 when the program has
/// errors, 2 for I/O and data errors.
pub fn open_bench(
    path: &std::path::Path,
    kind: dlc::BackendKind,
    what: &'static str,
) -> Result<(dlc::recipe::Bench, String), u8> {
    let text = read(path).ok_or(2u8)?;
    let name = path.display().to_string();
    match dlc::recipe::Bench::with_options(&text, &options(kind), what) {
        Ok(b) => Ok((b, text)),
        Err(dlc::recipe::RecipeError::Program(e)) => {
            eprint!("{}", e.render(&name, &text, stderr_color()));
            Err(if matches!(e, dlc::Error::Program { .. }) {
                1
            } else {
                2
            })
        }
        Err(e) => {
            eprintln!("error: {name}: {e}");
            Err(2)
        }
    }
}

/// Checks output destinations before any work: prints the first problem
/// and gives the exit code 2.
pub fn check_outputs(
    files: &[(&std::path::Path, &str)],
    dirs: &[(&std::path::Path, &str)],
) -> Result<(), u8> {
    let problem = files
        .iter()
        .find_map(|(p, what)| dlc::outputs::output_file(p, what).err())
        .or_else(|| {
            dirs.iter()
                .find_map(|(p, what)| dlc::outputs::output_dir(p, what).err())
        });
    match problem {
        Some(message) => {
            eprintln!("error: {message}");
            Err(2)
        }
        None => Ok(()),
    }
}

/// Runs `command` as this process's part of the job an MPI launcher
/// started (with the group), or alone (without).
pub fn as_rank(command: impl FnOnce(Option<&dlc::distributed::Group>) -> u8) -> u8 {
    let group = match launch_group() {
        Ok(g) => g,
        Err(code) => return code,
    };
    let code = command(group.as_ref());
    if let Some(g) = &group {
        // The ranks agree on every failure as it happens (loading, each
        // step, each evaluation), so all get here; the first has written
        // its files by now, and nobody leaves before.
        let _ = g.agree(true, "");
    }
    code
}

/// The ranks an MPI launcher started this process among, when it started
/// several: training then splits every batch over them. Without the `mpi`
/// feature, several processes would each train alone into the same files:
/// an error.
pub fn launch_group() -> Result<Option<dlc::distributed::Group>, u8> {
    let Some(size) = dlc::distributed::launcher_size().filter(|&n| n > 1) else {
        return Ok(None);
    };
    #[cfg(feature = "mpi")]
    {
        let _ = size;
        match dlc::distributed::mpi::world() {
            Some(g) => Ok(Some(g).filter(|g| g.size() > 1)),
            None => {
                eprintln!("error: MPI could not be initialised");
                Err(2)
            }
        }
    }
    #[cfg(not(feature = "mpi"))]
    {
        eprintln!(
            "error: started as one of {size} MPI processes, but this dlc was built without MPI\nhelp: build it with `cargo build --release --features mpi` (needs libopenmpi-dev), or run it alone"
        );
        Err(2)
    }
}
