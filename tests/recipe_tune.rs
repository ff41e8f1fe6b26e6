//! The tuner: run-time decay equals the compiled one, the grid is complete
//! and deterministic, both threads work, the winner is the best point (or
//! the program's own on a tie), and no rate above W0109's limit is tried.

use dlc::BackendKind;
use dlc::recipe::{
    Bench, GridPoint, Progress, Setting, Stage, TuneOptions, choice, train_setting, tune,
};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn bench(path: &str) -> (Bench, String) {
    let text = std::fs::read_to_string(path).unwrap();
    (Bench::new(&text, BackendKind::Jit, "tune").unwrap(), text)
}

/// The parameters after training as the program says (decay and clipping
/// compiled in) and as the tuner trains (applied between the entries).
fn compiled_and_tuned(text: &str, epochs: usize) -> (Vec<f32>, Vec<f32>, f64, f64) {
    let mut compiled = dlc::compile(text).unwrap();
    let options = dlc::TrainOptions {
        epochs: Some(epochs),
        seed: None,
        ..Default::default()
    };
    let report = compiled.train(&options, &mut |_| {}).unwrap();
    let bench = Bench::new(text, BackendKind::Jit, "tune").unwrap();
    let (curve, tuned) =
        train_setting(&bench, bench.model.fork(), bench.program_setting(), epochs).unwrap();
    let last = |e: &[dlc::EpochMetrics]| e.last().unwrap().train_loss;
    (
        compiled.buffers().params.clone(),
        tuned.buffers().params.clone(),
        last(&report.epochs),
        last(&curve.epochs),
    )
}

fn assert_same(text: &str) {
    let (a, b, la, lb) = compiled_and_tuned(text, 2);
    let scale = a.iter().fold(0f32, |m, x| m.max(x.abs()));
    let worst = a
        .iter()
        .zip(&b)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        worst <= 1e-4 * scale,
        "parameters differ by {worst} (scale {scale})"
    );
    assert!(
        (la - lb).abs() <= 1e-5 * la.abs().max(1.0),
        "losses {la} and {lb}"
    );
}

#[test]
fn runtime_l2_matches_the_compiled_l2() {
    let text = std::fs::read_to_string("tests/programs/tune_small.dl")
        .unwrap()
        .replace(
            "    batch     32\n",
            "    batch     32\n    l2        0.01\n    clip      0.5\n",
        );
    assert!(text.contains("l2        0.01"));
    assert_same(&text);
}

#[test]
fn runtime_adamw_decay_matches_the_compiled_decay() {
    assert_same(&std::fs::read_to_string("tests/programs/adamw_clip.dl").unwrap());
}

#[test]
fn decay_changes_training() {
    let (b, _) = bench("tests/programs/tune_small.dl");
    let run = |decay| {
        let (_, m) = train_setting(&b, b.model.fork(), Setting { lr: 0.1, decay }, 1).unwrap();
        let norm: f64 = b
            .decayed
            .iter()
            .flat_map(|r| &m.buffers().params[r.clone()])
            .map(|&w| (w as f64).powi(2))
            .sum();
        norm
    };
    let (free, decayed) = (run(0.0), run(0.05));
    assert!(
        decayed < 0.95 * free,
        "weights' squared norm {decayed} with decay, {free} without"
    );
}

fn options(threads: usize) -> TuneOptions {
    let mut o = TuneOptions {
        coarse_epochs: 1,
        fine_epochs: 2,
        rate_factors: vec![0.3, 1.0, 3.0],
        decays: Some(vec![0.0, 1e-3]),
        top: 1,
        extensions: 0,
        threads,
        ..TuneOptions::default()
    };
    o.finder.steps = 60;
    o
}

#[test]
fn grid_is_complete_deterministic_and_uses_every_thread() {
    let (b, _) = bench("tests/programs/tune_small.dl");
    let threads = Mutex::new(HashSet::new());
    let note = |p: &Progress| {
        if let Progress::Point(p) = p
            && p.stage == Stage::Coarse
        {
            threads.lock().unwrap().insert(std::thread::current().id());
        }
    };
    let two = tune(&b, &options(2), &note).unwrap();
    assert_eq!(two.threads, 2);
    assert_eq!(
        threads.lock().unwrap().len(),
        2,
        "both threads trained coarse points"
    );
    let one = tune(&b, &options(1), &|_| {}).unwrap();
    let untimed = |points: &[GridPoint]| -> Vec<GridPoint> {
        let mut points = points.to_vec();
        points
            .iter_mut()
            .flat_map(|p| p.curve.iter_mut())
            .for_each(|m| m.seconds = 0.0);
        points
    };
    assert_eq!(
        untimed(&one.points),
        untimed(&two.points),
        "results must not depend on the threads"
    );

    let coarse: Vec<&GridPoint> = two
        .points
        .iter()
        .filter(|p| p.stage == Stage::Coarse)
        .collect();
    assert_eq!(coarse.len(), 6);
    let centre = two.center;
    assert_eq!(Some(centre), two.finder.suggestion);
    for f in [0.3, 1.0, 3.0] {
        for d in [0.0, 1e-3] {
            assert!(
                coarse
                    .iter()
                    .any(|p| (p.setting.lr - centre * f).abs() < 1e-12
                        && p.setting.decay == d
                        && p.curve.len() == 1),
                "missing coarse point {f} x {centre}, decay {d}"
            );
        }
    }
    // The fine grid surrounds the best coarse point, trained longer.
    let best_coarse = coarse
        .iter()
        .min_by(|a, b| a.score().total_cmp(&b.score()))
        .unwrap();
    let fine: Vec<&GridPoint> = two
        .points
        .iter()
        .filter(|p| p.stage == Stage::Fine)
        .collect();
    assert!(fine.len() >= 4, "{} fine points", fine.len());
    assert!(
        fine.iter()
            .all(|p| p.curve.len() == 2 || p.diverged.is_some())
    );
    assert!(fine.iter().any(|p| p.setting == best_coarse.setting));
    for p in &fine {
        let ratio = p.setting.lr / best_coarse.setting.lr;
        assert!(
            (1.0 / 1.8..1.8).contains(&ratio),
            "fine rate {} far from {}",
            p.setting.lr,
            best_coarse.setting.lr
        );
    }
    // The winner is the fine point with the lowest validation loss, or the
    // program's own setting when it ties with that (or is it).
    let winner = two.best();
    assert_ne!(winner.stage, Stage::Coarse);
    let program: Vec<&GridPoint> = two
        .points
        .iter()
        .filter(|p| p.stage == Stage::Program)
        .collect();
    assert_eq!(program.len(), 1);
    assert_eq!(program[0].setting, b.program_setting());
    let lowest = fine
        .iter()
        .chain(&program)
        .map(|p| p.score())
        .fold(f64::INFINITY, f64::min);
    let program_ties = choice::ties(program[0].score(), lowest) || program[0].score() == lowest;
    assert_eq!(winner.stage == Stage::Program, program_ties);
    if !program_ties {
        assert_eq!(winner.score(), lowest);
    }
    let val = winner
        .curve
        .iter()
        .filter_map(|m| m.val_loss)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(winner.score(), val);
}

/// `dlc tune` on `program` with a small grid and the given extra arguments.
fn run_tune(program: &Path, report: &Path, extra: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args([
            "tune",
            "--epochs",
            "1",
            "--fine-epochs",
            "1",
            "--top",
            "1",
            "--finder-steps",
            "60",
        ])
        .args(extra)
        .arg(program)
        .arg("--out")
        .arg(report)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-tune-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn command_writes_the_confirmed_setting_where_told() {
    let dir = temp_dir("write");
    // A rate far too low for 20 epochs: the tuner's setting is confirmed.
    let original = std::fs::read_to_string("tests/programs/tune_small.dl")
        .unwrap()
        .replace("sgd(lr: 0.1,", "sgd(lr: 0.003,");
    assert!(original.contains("sgd(lr: 0.003,"));
    let copy = dir.join("small.dl");
    std::fs::write(&copy, &original).unwrap();
    let new = dir.join("small_tuned.dl");
    let out = run_tune(
        &copy,
        &dir.join("report"),
        &["--write-to", new.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        original,
        "--write-to leaves the program alone"
    );
    let tuned = std::fs::read_to_string(&new).unwrap();
    let decision = stdout
        .lines()
        .find(|l| l.starts_with("tuned: learning rate "))
        .unwrap_or_else(|| panic!("no confirmed setting:\n{stdout}"));
    let rate = decision["tuned: learning rate ".len()..]
        .split(',')
        .next()
        .unwrap();
    assert!(
        tuned.contains(&format!("optimizer sgd(lr: {rate}, momentum: 0.9)")),
        "{decision}\n{tuned}"
    );
    // Outside the optimizer line (and an added l2 line), nothing changed.
    let kept: Vec<&str> = tuned
        .lines()
        .filter(|l| !l.contains("optimizer") && !l.trim_start().starts_with("l2 "))
        .collect();
    let before: Vec<&str> = original
        .lines()
        .filter(|l| !l.contains("optimizer"))
        .collect();
    assert_eq!(kept, before);
    assert!(dir.join("report/report.html").exists() && dir.join("report/tune.csv").exists());

    // --write edits the file itself; -q prints the decision alone.
    let out = run_tune(&copy, &dir.join("report"), &["--write", "-q"]);
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), tuned);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{decision}\n")
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn command_keeps_the_program_when_its_own_setting_wins() {
    let dir = temp_dir("keep");
    let original = std::fs::read_to_string("tests/programs/tune_small.dl").unwrap();
    let copy = dir.join("small.dl");
    std::fs::write(&copy, &original).unwrap();
    let out = run_tune(&copy, &dir.join("report"), &["--write", "--threads", "1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("the program's settings are kept: "),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), original);
    // Each point is listed once, in the table; progress names stages only.
    assert!(!stderr.contains(" lr "), "{stderr}");
    let html = std::fs::read_to_string(dir.join("report/report.html")).unwrap();
    assert!(html.contains("on 1 thread;"), "the report's subtitle");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn coarse_grid_grows_past_an_edge_and_never_loses_to_the_program() {
    let (b, _) = bench("tests/programs/tune_small.dl");
    // Rates far below the finder's suggestion: the best is the largest one.
    let o = TuneOptions {
        rate_factors: vec![0.001, 0.003],
        extensions: 2,
        ..options(2)
    };
    let t = tune(&b, &o, &|_| {}).unwrap();
    let coarse_rates: Vec<f64> = t
        .points
        .iter()
        .filter(|p| p.stage == Stage::Coarse)
        .map(|p| p.setting.lr / t.center)
        .collect();
    for factor in [0.009, 0.027] {
        assert!(
            coarse_rates.iter().any(|r| (r / factor - 1.0).abs() < 1e-9),
            "no column at {factor} x centre: {coarse_rates:?}"
        );
    }
    assert!(
        coarse_rates.iter().all(|r| *r < 0.03),
        "at most two columns were added: {coarse_rates:?}"
    );
    let program = t
        .points
        .iter()
        .find(|p| p.stage == Stage::Program)
        .expect("the program's own setting is trained");
    assert_eq!(program.epochs, o.fine_epochs);
    assert!(t.best().score() <= program.score());
}

#[test]
fn no_rate_above_the_large_rate_warning_is_tried_or_proposed() {
    let (b, text) = bench("tests/programs/tune_small.dl");
    // Factors far above the finder's suggestion: most would exceed sgd's limit.
    let o = TuneOptions {
        rate_factors: vec![1.0, 100.0, 1000.0],
        extensions: 1,
        ..options(2)
    };
    let t = tune(&b, &o, &|_| {}).unwrap();
    let limit = b.plan.optimizer.kind.rule().large_rate();
    assert_eq!(t.rate_limit, limit);
    assert!(
        t.points
            .iter()
            .filter(|p| p.stage != Stage::Program)
            .all(|p| p.setting.lr <= limit),
        "a rate above {limit}"
    );
    assert!(
        t.points.iter().any(|p| p.setting.lr == limit),
        "the rates beyond the limit are tried at the limit"
    );
    assert!(t.proposal.setting.lr <= limit);
    let written = dlc::recipe::write_setting(&text, t.proposal.setting.lr, None).unwrap();
    let checked = dlc::check_with(&written, &dlc::Options::default());
    assert!(
        checked.diagnostics.iter().all(|d| d.code != "W0109"),
        "{written}"
    );
}
