//! `dlc tune`: grid search over learning rate and decay; prints the grid and
//! the program with the winning values, writes the report, and with
//! `--write` / `--write-to` the tuned program.

use super::{backend, open_bench};
use dlc::recipe::{GridPoint, Stage, TuneOptions, format_number, tune as search, write_setting};
use std::path::{Path, PathBuf};

pub struct TuneArgs {
    pub epochs: usize,
    pub fine_epochs: Option<usize>,
    pub top: usize,
    pub threads: usize,
    pub finder_steps: usize,
    pub write: bool,
    pub write_to: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub interpret: bool,
}

pub fn tune(file: &std::path::Path, args: TuneArgs) -> u8 {
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
        ..TuneOptions::default()
    };
    options.finder.steps = args.finder_steps;
    let kind = bench.decay_kind().keyword();
    let show = |p: &GridPoint| {
        let score = if p.score().is_finite() {
            format!("{:.4}", p.score())
        } else {
            "diverged".into()
        };
        eprintln!(
            "{:<6} lr {:<9} {kind} {:<8} {} epochs: {score}",
            p.stage.name(),
            format_number(p.setting.lr),
            format_number(p.setting.decay),
            p.epochs
        );
    };
    let result = match search(&bench, &options, &show) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let (header, rows) = dlc::report::grid_rows(&result);
    println!("{}", table(&header, &rows, result.winner));
    let best = result.best();
    println!(
        "winner: learning rate {}, {kind} {} ({} epochs, score {:.4})",
        format_number(best.setting.lr),
        format_number(best.setting.decay),
        best.epochs,
        best.score()
    );
    let program = result.points.iter().find(|p| p.stage == Stage::Program);
    match program {
        Some(_) if best.stage == Stage::Program => {
            println!("the program's own setting did best: there is nothing to change");
        }
        Some(p) if p.score().is_finite() => println!(
            "the program's own setting (learning rate {}, {kind} {}) scored {:.4}",
            format_number(p.setting.lr),
            format_number(p.setting.decay),
            p.score()
        ),
        _ => {}
    }
    let tuned = match write_setting(
        &text,
        best.setting.lr,
        Some((result.decay_kind, best.setting.decay)),
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return 2;
        }
    };
    let mut code = 0;
    match dlc::report::write_tune(&dir, &name, &text, &tuned, bench.model.model(), &result) {
        Ok(_) => eprintln!("report: {}", dir.join("report.html").display()),
        Err(e) => {
            eprintln!("error: {e}");
            code = 2;
        }
    }
    let target = match (&args.write_to, args.write) {
        (Some(p), _) => Some(p.as_path()),
        (None, true) => Some(file),
        (None, false) => None,
    };
    match target {
        Some(path) => match dlc::outputs::write_atomically(path, tuned.as_bytes()) {
            Ok(()) => eprintln!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                code = 2;
            }
        },
        None => {
            println!(
                "\nthe program with the winning values (write it with --write or --write-to FILE):\n"
            );
            print!("{tuned}");
        }
    }
    code
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
