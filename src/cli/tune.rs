//! `dlc tune`: grid search over learning rate and decay, confirmed at the
//! program's own budget; prints the grid, the confirmation and the decision,
//! writes the report, and with `--write` / `--write-to` the chosen program.

use super::{backend, open_bench};
use dlc::recipe::{
    Axis, Confirmation, Keep, Progress, Setting, Stage, TuneOptions, TuneResult, choice,
    confirm::{mean_accuracy, mean_loss},
    format_number, tune as search, write_setting,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct TuneArgs {
    pub epochs: usize,
    pub fine_epochs: Option<usize>,
    pub top: usize,
    pub threads: usize,
    pub finder_steps: usize,
    pub confirm_seeds: Option<usize>,
    pub write: bool,
    pub write_to: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub interpret: bool,
}

pub fn tune(file: &std::path::Path, mut args: TuneArgs) -> u8 {
    super::as_rank(|group| {
        // The ranks share the grids' points; the first prints and writes.
        if group.is_some_and(|g| !g.leads()) {
            args.quiet = true;
        }
        tune_with(file, args, group)
    })
}

fn tune_with(file: &Path, args: TuneArgs, group: Option<&dlc::distributed::Group>) -> u8 {
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| dlc::report::default_dir(file).join("tune"));
    let written: Vec<(&Path, &str)> = args
        .write_to
        .iter()
        .map(|p| (p.as_path(), "--write-to"))
        .collect();
    if let Err(code) = super::check_outputs(&written, &[(&dir, "the report directory (--out)")]) {
        return code;
    }
    let (bench, text) = match open_bench(file, backend(args.interpret), "tune") {
        Ok(b) => b,
        Err(code) => return code,
    };
    let name = file.display().to_string();
    let mut options = TuneOptions {
        coarse_epochs: args.epochs,
        fine_epochs: args.fine_epochs.unwrap_or(2 * args.epochs),
        top: args.top,
        threads: args.threads,
        confirm_seeds: args.confirm_seeds,
        group: group.cloned(),
        ..TuneOptions::default()
    };
    options.finder.steps = args.finder_steps;
    let words = Words {
        decay: bench.decay_kind().keyword(),
        early_stop: bench.plan.early_stop.is_some(),
    };
    let grew = AtomicBool::new(false);
    let show = |p: &Progress| {
        if !args.quiet {
            words.progress(p, &grew);
        }
    };
    let result = match search(&bench, &options, &show) {
        Ok(r) => r,
        Err(e) => {
            // The ranks fail together: the first reports.
            if group.is_none_or(|g| g.leads()) {
                eprintln!("error: {e}");
            }
            return 2;
        }
    };
    if group.is_some_and(|g| !g.leads()) {
        return 0;
    }
    if !args.quiet {
        let (header, rows) = dlc::report::grid_rows(&result);
        println!("{}", table(&header, &rows, result.winner));
        words.grid(&result);
        if let Some(c) = &result.confirmation {
            words.confirmation(c, &result.program);
        }
    }
    println!("{}", words.decision(&result));
    let chosen = result.chosen();
    let tuned = match write_setting(&text, chosen.lr, Some((result.decay_kind, chosen.decay))) {
        Ok(t) if result.confirmed() => t,
        Ok(_) => text.clone(),
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return 2;
        }
    };
    let mut code = 0;
    match dlc::report::write_tune(&dir, &name, &text, &tuned, bench.model.model(), &result) {
        Ok(_) if !args.quiet => eprintln!("report: {}", dir.join("report.html").display()),
        Ok(_) => {}
        Err(e) => {
            eprintln!("error: {e}");
            code = 2;
        }
    }
    let target = match (&args.write_to, args.write && result.confirmed()) {
        (Some(p), _) => Some(p.as_path()),
        (None, true) => Some(file),
        (None, false) => None,
    };
    match target {
        Some(path) => match dlc::outputs::write_atomically(path, tuned.as_bytes()) {
            Ok(()) if !args.quiet => {
                let unchanged = if result.confirmed() {
                    ""
                } else {
                    " (unchanged)"
                };
                eprintln!("wrote {}{unchanged}", path.display())
            }
            Ok(()) => {}
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                code = 2;
            }
        },
        None if args.quiet => {}
        None if !result.confirmed() => {
            if args.write {
                println!("{name} is left as it is");
            }
        }
        None => {
            println!(
                "\nthe program with the chosen values (write it with --write or --write-to FILE):\n"
            );
            print!("{tuned}");
        }
    }
    code
}

/// How the tuner's findings read.
struct Words {
    decay: &'static str,
    early_stop: bool,
}

impl Words {
    fn setting(&self, s: &Setting) -> String {
        format!(
            "learning rate {}, {} {}",
            format_number(s.lr),
            self.decay,
            format_number(s.decay)
        )
    }

    /// One line as each stage begins; points are shown once, in the table.
    fn progress(&self, p: &Progress, grew: &AtomicBool) {
        match *p {
            Progress::Stage {
                stage,
                points,
                epochs,
            } => {
                let more = plural(points, "more point");
                let (points, epochs) = (plural(points, "point"), plural(epochs, "epoch"));
                match stage {
                    Stage::Coarse if grew.swap(true, Ordering::Relaxed) => {
                        eprintln!("coarse grid, past its edge: {more}, {epochs} each")
                    }
                    Stage::Coarse => eprintln!("coarse grid: {points}, {epochs} each"),
                    Stage::Fine => eprintln!("fine grid: {points}, {epochs} each"),
                    Stage::Program => eprintln!("the program's own setting: {epochs}"),
                }
            }
            Progress::Point(_) => {}
            Progress::Confirming {
                proposal,
                epochs,
                seeds,
            } => eprintln!(
                "confirming {} against the program's: {} from {}",
                self.setting(&proposal),
                plural(epochs, "epoch"),
                plural(seeds.len(), "seed"),
            ),
        }
    }

    fn grid(&self, t: &TuneResult) {
        let best = t.best();
        let score = |s: f64| {
            if s.is_finite() {
                format!("{s:.4}")
            } else {
                "diverged".into()
            }
        };
        println!(
            "grid winner: {} ({}, score {})",
            self.setting(&best.setting),
            plural(best.epochs, "epoch"),
            score(best.score())
        );
        if let Some(p) = t.points.iter().find(|p| p.stage == Stage::Program)
            && best.stage != Stage::Program
        {
            println!(
                "the program's own setting ({}) scored {}",
                self.setting(&p.setting),
                score(p.score())
            );
        }
        for axis in &t.proposal.kept {
            let (what, value) = match axis {
                Axis::Rate => ("learning rate", t.program.lr),
                Axis::Decay => (self.decay, t.program.decay),
            };
            println!(
                "the scores along the {what} tie within {}%: the program's {what} {} is kept",
                choice::TIE * 100.0,
                format_number(value)
            );
        }
    }

    fn confirmation(&self, c: &Confirmation, program: &Setting) {
        let measure = if c.validation {
            "validation"
        } else {
            "training"
        };
        let seeds: Vec<String> = c.seeds.iter().map(u64::to_string).collect();
        println!(
            "at the program's budget ({}{}), seeds {}: mean {measure} loss (accuracy), then each seed's",
            plural(c.epochs, "epoch"),
            if self.early_stop {
                ", with its early stopping"
            } else {
                ""
            },
            seeds.join(", ")
        );
        for (label, setting, runs) in [
            ("program ", program, &c.program),
            ("proposal", &c.proposal, &c.proposed),
        ] {
            let each: Vec<String> = runs.iter().map(|o| format!("{:.4}", o.loss)).collect();
            let accuracy = mean_accuracy(runs).map_or(String::new(), |a| format!(" ({})", pct(a)));
            println!(
                "  {label}  {}: {:.4}{accuracy}  [{}]",
                self.setting(setting),
                mean_loss(runs),
                each.join(" ")
            );
        }
    }

    /// The final result: what is written, or why the program's settings stay.
    fn decision(&self, t: &TuneResult) -> String {
        let kept = "the program's settings are kept";
        let Some(c) = &t.confirmation else {
            return format!(
                "{kept}: its own setting ({}) did best on the grid, or tied with the best within {}%",
                self.setting(&t.program),
                choice::TIE * 100.0
            );
        };
        let measure = if c.validation {
            "validation"
        } else {
            "training"
        };
        let runs = format!(
            "{}, {}",
            plural(c.epochs, "epoch"),
            plural(c.seeds.len(), "seed")
        );
        let (program, proposed) = (mean_loss(&c.program), mean_loss(&c.proposed));
        let against = format!(
            "{} reached a mean {measure} loss of {proposed:.4} against the program's {program:.4} ({runs})",
            self.setting(&c.proposal)
        );
        match c.keep {
            None => format!(
                "tuned: {against}: lower by {:.4}, more than the noise between seeds and more than {}%",
                c.gain(),
                choice::TIE * 100.0
            ),
            Some(Keep::Diverged) => format!(
                "{kept}: with {}, training diverged at the program's budget ({runs})",
                self.setting(&c.proposal)
            ),
            Some(Keep::NotLower) => format!("{kept}: {against}, which is not lower"),
            Some(Keep::Tie) => format!(
                "{kept}: {against}, lower by less than {}%: a tie",
                choice::TIE * 100.0
            ),
            Some(Keep::Noise { noise }) => format!(
                "{kept}: {against}, lower by {:.4}, within the noise between seeds (standard error {noise:.4})",
                c.gain()
            ),
            Some(Keep::LowerAccuracy) => format!(
                "{kept}: {against}, but its mean {measure} accuracy is lower, {} against {}",
                mean_accuracy(&c.proposed).map_or("-".into(), pct),
                mean_accuracy(&c.program).map_or("-".into(), pct)
            ),
        }
    }
}

/// `1 epoch`, `2 epochs`.
fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Aligned columns, the winner marked with `*`.
fn table(header: &[String], rows: &[Vec<String>], winner: usize) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String], mark: &str| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        format!("{mark} {}", parts.join("  "))
    };
    let mut s = line(header, " ");
    for (i, r) in rows.iter().enumerate() {
        s += "\n";
        s += &line(r, if i == winner { "*" } else { " " });
    }
    s
}
