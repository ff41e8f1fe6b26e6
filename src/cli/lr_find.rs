//! `dlc lr-find`: sweep the learning rate, suggest one, plot loss against rate.

use super::{backend, open_bench};
use dlc::recipe::{LrFind, LrFindOptions, format_number, lr_find as sweep};
use std::io::Write;
use std::path::PathBuf;

pub struct LrFindArgs {
    pub start: f64,
    pub end: f64,
    pub steps: usize,
    pub decay: Option<f64>,
    pub out: Option<PathBuf>,
    pub interpret: bool,
}

pub fn lr_find(file: &std::path::Path, args: LrFindArgs) -> u8 {
    if args.start >= args.end {
        eprintln!(
            "error: the sweep must rise: --start {} is not below --end {}",
            args.start, args.end
        );
        return 2;
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| dlc::report::default_dir(file));
    if let Err(code) = super::check_outputs(&[], &[(&dir, "the plot directory (--out)")]) {
        return code;
    }
    let (bench, _) = match open_bench(file, backend(args.interpret), "sweep") {
        Ok(b) => b,
        Err(code) => return code,
    };
    let options = LrFindOptions {
        start: args.start,
        end: args.end,
        steps: args.steps,
        decay: args.decay,
        ..LrFindOptions::default()
    };
    let found = match sweep(&bench, &options) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // The result goes to stdout; the plot's path follows it on stderr, as
    // `dlc tune` and `dlc run` give their report's path. Stdout is flushed
    // first so that the two streams read in order where they meet.
    print!("{}", describe(&found, bench.plan.optimizer.lr));
    let _ = std::io::stdout().flush();
    match dlc::report::write_lr_find(&dir, &file.display().to_string(), &found) {
        Ok(_) => {
            eprintln!("plot: {}", dir.join("lr_find.svg").display());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// What the sweep found, for people.
pub fn describe(f: &LrFind, program_lr: f64) -> String {
    let (first, last) = match (f.points.first(), f.points.last()) {
        (Some(a), Some(b)) => (a, b),
        _ => return "the sweep took no step\n".into(),
    };
    let mut s = format!(
        "swept {} steps from lr {} to {} ({} {} during the sweep)\n",
        f.points.len(),
        format_number(first.lr),
        format_number(last.lr),
        f.decay_kind.keyword(),
        format_number(f.decay)
    );
    if let Some(at) = f.exploded_at {
        s += &format!(
            "the loss exploded at lr {}: the sweep stopped there\n",
            format_number(at)
        );
    }
    s += &format!(
        "lowest smoothed loss at lr {}\n",
        format_number(f.min_loss_lr)
    );
    match (f.suggestion, f.safe) {
        (Some(lr), Some((lo, hi))) => {
            s += &format!(
                "suggested learning rate: {} (where the loss falls fastest)\n",
                format_number(lr)
            );
            s += &format!(
                "safe range: {} to {} (the loss falls at least half as fast)\n",
                format_number(lo),
                format_number(hi)
            );
            if program_lr < lo || program_lr > hi {
                s += &format!(
                    "note: the program's rate {} is outside the safe range\n",
                    format_number(program_lr)
                );
            }
        }
        _ => s += "the loss never fell: no rate to suggest; check the program with `dlc sanity`\n",
    }
    s
}
