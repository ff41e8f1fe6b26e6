//! `dlc run`: compile and train a program as its `train` item says, then
//! judge the curves and write the run directory (metrics, curves, report).

use super::{read, stderr_color};
use dlc::checkpoint::{self, CheckpointInfo, ResumeError};
use dlc::report::{Fit, RunRecord, Verdict, baseline_loss, judge, write_run};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where to resume a run from.
pub enum Resume {
    /// The program's `checkpoint` file.
    ProgramCheckpoint,
    From(PathBuf),
}

pub struct RunArgs {
    pub epochs: Option<usize>,
    pub seed: Option<u64>,
    pub data_seed: Option<u64>,
    /// The least time between two checkpoints (`TrainOptions::checkpoint_interval`).
    pub checkpoint_every: Option<std::time::Duration>,
    pub quiet: bool,
    pub json: bool,
    pub resume: Option<Resume>,
    pub interpret: bool,
    /// The run directory (default: `runs/<file stem>`, with the seeds that
    /// differ from the program's).
    pub out: Option<PathBuf>,
}

pub fn run(file: &Path, mut args: RunArgs) -> u8 {
    super::as_rank(|group| {
        // Only the first rank prints and writes; the others train their part.
        if group.is_some_and(|g| !g.leads()) {
            args.quiet = true;
            args.json = false;
        }
        run_with(file, args, group)
    })
}

fn run_with(file: &Path, args: RunArgs, group: Option<&dlc::distributed::Group>) -> u8 {
    let leads = group.is_none_or(|g| g.leads());
    let Some(text) = read(file) else { return 2 };
    let name = file.display().to_string();
    let color = stderr_color();
    let options = super::options(super::backend(args.interpret));
    let compile_start = std::time::Instant::now();
    let mut model = match dlc::compile_with_options(&text, &options) {
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
    // Runs with seeds other than the program's keep their own files: the
    // run directory and the checkpoint are named for those seeds.
    let program_seeds = (model.seed(), model.data_seed());
    let differs = |run: u64, program: u64| (run != program).then_some(run);
    let asked = (
        args.seed.and_then(|s| differs(s, program_seeds.0)),
        args.data_seed.and_then(|d| differs(d, program_seeds.1)),
    );
    if let Some(d) = args.data_seed {
        model.set_data_seed(d);
    }
    let checkpoint = model
        .model()
        .train
        .as_ref()
        .and_then(|t| t.checkpoint.clone())
        .map(|p| {
            let seeded = dlc::report::seeded_path(p.as_ref(), asked.0, asked.1);
            // `--out` decides where everything goes: the checkpoint too.
            match (&args.out, seeded.file_name()) {
                (Some(out), Some(name)) => out.join(name),
                _ => seeded,
            }
        });
    if let Some(p) = &checkpoint {
        if let Err(e) = checkpoint::check_destination(p, &model.limits().files) {
            eprintln!("error: {e}");
            return 2;
        }
        model.set_checkpoint(Some(p.display().to_string()));
    }
    if model.model().train.is_none() {
        eprintln!(
            "error: {name} has no `train` item, so there is nothing to run\nhelp: add `train NETWORK on DATA {{ ... }}`"
        );
        return 2;
    }
    let mut total = args
        .epochs
        .unwrap_or(model.model().train.as_ref().map_or(0, |t| t.epochs));
    let mut resumed_from = None;
    if let Some(how) = &args.resume {
        match resume(&mut model, how, &args, &name, &text) {
            Ok((path, epochs)) => {
                resumed_from = Some(path);
                total = epochs;
            }
            Err(code) => return code,
        }
    }
    let seed = args
        .seed
        .filter(|_| resumed_from.is_none())
        .unwrap_or(model.seed());
    let dir = args.out.clone().unwrap_or_else(|| {
        dlc::report::default_run_dir(
            file,
            differs(seed, program_seeds.0),
            differs(model.data_seed(), program_seeds.1),
        )
    });
    if let Err(code) = super::check_outputs(&[], &[(&dir, "the run directory (--out)")]) {
        return code;
    }
    if !args.quiet && !args.json {
        eprintln!("compiled {name} in {:.1} ms", compile_seconds * 1e3);
    }
    let bar = progress_bar(args.quiet || args.json);
    let options = dlc::TrainOptions {
        epochs: Some(total),
        // A seed re-initialises the model: a resumed run keeps its own.
        seed: args.seed.filter(|_| resumed_from.is_none()),
        checkpoint_interval: args.checkpoint_every,
        group: group.cloned(),
        on_step: bar.clone().map(|bar| {
            dlc::StepHook(std::sync::Arc::new(move |p: &dlc::StepProgress| {
                let per = p.steps_per_epoch as u64;
                bar.set_length(p.epochs as u64 * per);
                bar.set_position((p.epoch as u64 - 1) * per + p.step as u64);
                if p.step == 1 || p.step.is_multiple_of(16) {
                    bar.set_message(format!(
                        "epoch {}/{}  loss {:.4}",
                        p.epoch, p.epochs, p.loss
                    ));
                }
            }))
        }),
    };
    let Some(spec) = model.model().data.clone() else {
        eprintln!("error: {name} has no `data` item to train on");
        return 2;
    };
    let loaded = dlc::load::load(&spec, &model.data_policy());
    if let Some(g) = group {
        // A rank that cannot read its data stops them all, with its reason.
        let why = loaded
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        if let Err(e) = g.agree(loaded.is_ok(), &why) {
            // One message, from the first rank: its own error, or the
            // failing rank's.
            match &loaded {
                Err(own) if leads => eprintln!("error: {own}"),
                Ok(_) if leads => eprintln!("error: {e}"),
                _ => {}
            }
            return 2;
        }
    }
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    for note in loaded.notes.iter().filter(|_| !args.quiet && !args.json) {
        eprintln!("note: {note}");
    }
    model.set_preparation(loaded.preparation.clone());
    let mut stdout = std::io::stdout().lock();
    let mut epochs = Vec::new();
    let mut on_epoch = |m: &dlc::EpochMetrics| {
        if args.json {
            let _ = writeln!(stdout, "{}", dlc::report::epoch_json(m));
        } else if !args.quiet {
            let line = dlc::report::epoch_line(m, total);
            match &bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
        epochs.push(m.clone());
    };
    let result = model.train_on(
        &loaded.train,
        loaded.validation.as_ref(),
        &options,
        &mut on_epoch,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if !leads {
        // The ranks fail together (see `data_parallel.rs`): the first reports.
        return if result.is_ok() { 0 } else { 2 };
    }
    if std::env::var_os("DLC_PROFILE").is_some() {
        eprint!("{}", dlc::kernel_profile());
    }
    match result {
        Ok(report) => {
            // The training loss as the validation loss is measured: in
            // evaluation mode, on the weights that were kept.
            let final_train = model.evaluate(&loaded.train);
            let baseline = baseline_loss(model.loss_kind(), &loaded.train);
            let verdict = judge(
                &report.epochs,
                report.best_epoch,
                final_train.as_ref().ok(),
                baseline,
            );
            // The numbers people read, of the weights that were kept.
            let measured = dlc::report::measure_final_model(
                &mut model,
                &loaded.train,
                loaded.validation.as_ref(),
            )
            .map_err(|e| eprintln!("warning: cannot measure the final model: {e}"))
            .ok();
            let written = write_report(
                &dir,
                &name,
                &text,
                model.model(),
                &epochs,
                Some(&report),
                &verdict,
                None,
                measured.as_ref(),
            );
            // The model `eval` and `predict` read, whatever the program's
            // `checkpoint` setting: its weights, program and preparation.
            let model_file = written.as_ref().map(|d| d.join("model.safetensors"));
            if let Some(path) = &model_file
                && let Err(e) = model.save_model(path)
            {
                eprintln!("error: cannot save the model: {e}");
                return 2;
            }
            if args.json {
                let mut done = dlc::report::done_json(&report);
                done["verdict"] = verdict.to_json();
                if let Some(m) = &measured {
                    done["final_metrics"] = m.to_json();
                }
                if let Some(d) = &written {
                    done["run_dir"] = serde_json::json!(d.display().to_string());
                }
                if let Some(g) = group {
                    done["ranks"] = serde_json::json!(g.size());
                    done["collective_seconds"] = serde_json::json!(g.seconds_in_collectives());
                }
                if let Some(m) = &model_file {
                    done["model"] = serde_json::json!(m.display().to_string());
                }
                let _ = writeln!(std::io::stdout(), "{done}");
            } else {
                println!("{}", dlc::report::done_text(&report));
                if let Some(m) = &measured {
                    println!("{}", m.summary_line());
                }
                println!("{}", verdict.text());
                if let (Some(g), false) = (group, args.quiet) {
                    eprintln!(
                        "ranks:  {}, the first spent {:.2} s of {:.2} s summing with the others",
                        g.size(),
                        g.seconds_in_collectives(),
                        report.seconds
                    );
                }
                if let (Some(d), false) = (&written, args.quiet) {
                    eprintln!("report: {}", d.join("report.html").display());
                }
                if let (Some(m), false) = (&model_file, args.quiet) {
                    eprintln!("model:  {}", m.display());
                }
            }
            if written.is_none() { 2 } else { 0 }
        }
        Err(e) => {
            match (&resumed_from, &e) {
                (Some(path), dlc::RunError::Resume(_)) => {
                    eprintln!("error: cannot resume from {}: {e}", path.display())
                }
                _ => eprintln!("error: {}", e.render(&name)),
            }
            let diverged = matches!(e, dlc::RunError::Diverged(_));
            if let dlc::RunError::Diverged(d) = &e {
                // The curves up to the divergence say how it came about.
                let verdict = Verdict {
                    fit: Fit::Unknown,
                    reasons: vec![format!(
                        "training diverged at epoch {}, step {}: {}",
                        d.epoch,
                        d.step,
                        d.what()
                    )],
                    advice: vec![d.advice.clone()],
                    evidence: Default::default(),
                };
                let written = write_report(
                    &dir,
                    &name,
                    &text,
                    model.model(),
                    &epochs,
                    None,
                    &verdict,
                    Some(e.render(&name)),
                    None,
                );
                if let (Some(d), false) = (written, args.quiet) {
                    eprintln!("report: {}", d.join("report.html").display());
                }
            }
            if diverged { 3 } else { 2 }
        }
    }
}

/// Loads the checkpoint to resume from into `model`; gives its path and the
/// epochs the resumed run trains to: `--epochs`, or those the run was
/// started with (if the program is the same), or the program's. Prints why
/// not and gives the exit code when there is nothing to resume.
fn resume(
    model: &mut dlc::CompiledModel,
    how: &Resume,
    args: &RunArgs,
    name: &str,
    text: &str,
) -> Result<(PathBuf, usize), u8> {
    let plan = model.model().train.clone().ok_or(2u8)?;
    let path = match how {
        Resume::From(path) => path.clone(),
        Resume::ProgramCheckpoint => match &plan.checkpoint {
            Some(p) => PathBuf::from(p),
            None => {
                eprintln!(
                    "error: --resume resumes from the program's checkpoint, and {name} has no `checkpoint` setting
help: name the file with --resume-from CHECKPOINT"
                );
                return Err(2);
            }
        },
    };
    let info = checkpoint::load(model, &path, text).map_err(|e| {
        eprintln!("error: {e}");
        2u8
    })?;
    let shown = path.display();
    if let Some(seed) = args.seed.filter(|&s| s != info.seed) {
        eprintln!(
            "error: {shown} was trained with seed {}; --seed {seed} would start another run
help: resume without --seed",
            info.seed
        );
        return Err(2);
    }
    if let (Some(asked), Some(ran)) = (args.data_seed, info.data_seed)
        && asked != ran
    {
        eprintln!(
            "error: {shown} was trained with data seed {ran}; --data-seed {asked} would split and order the data another way
help: resume without --data-seed"
        );
        return Err(2);
    }
    let total = args
        .epochs
        .or(info.run_epochs.filter(|_| info.same_source))
        .unwrap_or(plan.epochs);
    if let Some(problem) = nothing_to_resume(&info, total) {
        eprintln!("error: cannot resume from {shown}: {problem}");
        return Err(2);
    }
    if !args.quiet {
        if !info.same_source {
            eprintln!("warning: {shown} was written by a different version of {name}");
        }
        if info.format == 1 && plan.early_stop.is_some() {
            eprintln!(
                "warning: {shown} was written by an older dlc and keeps no early stopping state: early stopping starts afresh, so the run may differ from an unbroken one"
            );
        }
        if !args.json {
            eprintln!(
                "resuming from {shown} at epoch {} (step {}), training to epoch {total}",
                info.epoch, info.step
            );
        }
    }
    Ok((path, total))
}

/// Why a checkpoint leaves nothing to train towards `total` epochs.
fn nothing_to_resume(info: &CheckpointInfo, total: usize) -> Option<String> {
    if info.stopped_early {
        return Some(format!(
            "its run stopped early after {} epochs and holds the weights of epoch {}: there is nothing to resume
help: `dlc eval` evaluates it; train from scratch to run again",
            info.epoch, info.weights_epoch
        ));
    }
    if info.epoch > total {
        return Some(
            ResumeError::PastEpochs {
                trained: info.epoch,
                epochs: total,
            }
            .to_string(),
        );
    }
    (info.epoch == total).then(|| {
        format!(
            "it has trained all {total} epochs: there is nothing to resume
help: ask for more with --epochs N (N > {total})"
        )
    })
}

/// Writes the run directory; prints why not and returns `None` if it cannot.
#[allow(clippy::too_many_arguments)]
fn write_report(
    dir: &Path,
    name: &str,
    source: &str,
    model: &dlc::check::Model,
    epochs: &[dlc::EpochMetrics],
    report: Option<&dlc::TrainReport>,
    verdict: &Verdict,
    error: Option<String>,
    measured: Option<&dlc::report::FinalMeasurement>,
) -> Option<PathBuf> {
    let record = RunRecord {
        name,
        source,
        model,
        epochs,
        report,
        verdict,
        error,
        measured,
    };
    match write_run(dir, &record) {
        Ok(_) => Some(dir.to_path_buf()),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

/// A bar over the run's steps on stderr, or `None` when stderr is not a
/// terminal (or output is quiet or JSON), so logs and pipes stay clean.
fn progress_bar(silent: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if silent || !std::io::stderr().is_terminal() {
        return None;
    }
    let style = indicatif::ProgressStyle::with_template(
        "{bar:30.cyan/blue} {percent:>3}%  {msg}  [{elapsed_precise} < {eta}]",
    )
    .ok()?
    .progress_chars("=> ");
    Some(indicatif::ProgressBar::new(0).with_style(style))
}
