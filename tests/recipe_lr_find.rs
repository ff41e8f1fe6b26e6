//! The learning-rate finder: its analysis on a known curve, and its
//! suggestion training real programs well.

use dlc::BackendKind;
use dlc::recipe::lr_find::analyse;
use dlc::recipe::{Bench, DecayKind, LrFindOptions, lr_find, write_setting};

#[test]
fn suggestion_is_the_steepest_descent_of_a_known_curve() {
    // loss(lr) = 2 - tanh(2 (log10 lr + 2)), steepest at lr = 1e-2, then an
    // explosion past lr = 1.
    let steps = 200;
    let rates: Vec<f64> = (0..steps)
        .map(|i| 1e-6 * 10f64.powf(7.0 * i as f64 / (steps - 1) as f64))
        .collect();
    let losses: Vec<f64> = rates
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let x = r.log10();
            let wiggle = 0.01 * ((i * 7919) % 13) as f64 / 13.0;
            let blow_up = if x > 0.0 { 50.0 * x * x } else { 0.0 };
            2.0 - (2.0 * (x + 2.0)).tanh() + wiggle + blow_up
        })
        .collect();
    let f = analyse(&rates, &losses, None, 1e-4, DecayKind::L2);
    let s = f.suggestion.expect("the loss falls");
    assert!((s.log10() + 2.0).abs() < 0.15, "suggested {s}");
    let (lo, hi) = f.safe.unwrap();
    assert!(lo < s && s < hi, "{lo} < {s} < {hi}");
    // tanh(2u) falls at half its fastest rate where cosh²(2u) = 2: u = ±0.44.
    assert!(
        (lo.log10() + 2.44).abs() < 0.2 && (hi.log10() + 1.56).abs() < 0.2,
        "{lo} {hi}"
    );
    assert!(
        f.min_loss_lr > 0.1 && f.min_loss_lr < 2.0,
        "{}",
        f.min_loss_lr
    );
}

#[test]
fn a_flat_curve_suggests_nothing() {
    let rates: Vec<f64> = (0..50).map(|i| 1e-5 * 1.2f64.powi(i)).collect();
    let losses: Vec<f64> = rates.iter().map(|r| 1.0 + r).collect();
    let f = analyse(&rates, &losses, None, 0.0, DecayKind::L2);
    assert_eq!(f.suggestion, None);
    assert_eq!(f.safe, None);
}

/// Finds a rate for `path`, writes it into the program, trains, and returns
/// the rate and the final validation accuracy.
fn train_at_suggestion(path: &str, epochs: Option<usize>) -> (f64, f64) {
    let text = std::fs::read_to_string(path).unwrap();
    let bench = Bench::new(&text, BackendKind::Jit, "sweep").unwrap();
    let found = lr_find(&bench, &LrFindOptions::default()).unwrap();
    let lr = found.suggestion.expect("a suggestion");
    let (lo, hi) = found.safe.unwrap();
    assert!(lo <= lr && lr <= hi);
    assert!(
        found.exploded_at.is_some(),
        "the sweep up to 10 should explode"
    );
    let tuned = write_setting(&text, lr, None).unwrap();
    let mut model = dlc::compile(&tuned).unwrap();
    assert_eq!(
        model.model().train.as_ref().unwrap().optimizer.lr,
        dlc::recipe::format_number(lr).parse::<f64>().unwrap()
    );
    let options = dlc::TrainOptions {
        epochs,
        ..Default::default()
    };
    let report = model.train(&options, &mut |_| {}).unwrap();
    let best = report
        .best_epoch
        .and_then(|b| report.epochs.iter().find(|m| m.epoch == b))
        .unwrap();
    (lr, best.val_acc.unwrap())
}

#[test]
fn suggestion_trains_spirals() {
    let (lr, acc) = train_at_suggestion("examples/spirals.dl", None);
    eprintln!("spirals: lr {lr}, validation accuracy {acc}");
    assert!(acc >= 0.97, "lr {lr}: validation accuracy {acc}");
}

#[test]
fn suggestion_trains_digits_mlp() {
    // 20 of the program's 60 epochs (its cosine schedule follows).
    let (lr, acc) = train_at_suggestion("examples/digits_mlp.dl", Some(20));
    eprintln!("digits_mlp: lr {lr}, validation accuracy {acc}");
    assert!(acc >= 0.96, "lr {lr}: validation accuracy {acc}");
}

/// `dlc lr-find` on the XOR example, its plot written into `dir`.
fn lr_find_command(dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_dlc"));
    c.args(["lr-find", "examples/xor.dl", "--steps", "60", "--out"])
        .arg(dir);
    c
}

#[test]
fn the_command_prints_its_result_on_stdout_and_then_the_plot_path_on_stderr() {
    let dir = std::env::temp_dir().join(format!("dlc-lr-find-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Both streams into one file, as a terminal or `2>&1` joins them.
    let joined = dir.join("joined.txt");
    let file = std::fs::File::create(&joined).unwrap();
    let status = lr_find_command(&dir)
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&joined).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let last = *lines.last().unwrap();
    assert!(lines.len() > 2 && lines[0].starts_with("swept "), "{text}");
    assert!(
        last.starts_with("plot: ") && last.ends_with("lr_find.svg"),
        "{text}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("plot: ")).count(),
        1,
        "{text}"
    );

    // Apart, the result is all on stdout and the path alone on stderr.
    let out = lr_find_command(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().collect::<Vec<_>>(), lines[..lines.len() - 1]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), last);
}
