//! `dlc run`: compile and train a program as its `train` item says.

use super::{read, stderr_color};
use std::io::Write;
use std::path::PathBuf;

pub struct RunArgs {
    pub epochs: Option<usize>,
    pub seed: Option<u64>,
    pub quiet: bool,
    pub json: bool,
    pub resume: Option<PathBuf>,
    pub interpret: bool,
}

pub fn run(file: &PathBuf, args: RunArgs) -> u8 {
    let Some(text) = read(file) else { return 2 };
    let name = file.display().to_string();
    let color = stderr_color();
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
