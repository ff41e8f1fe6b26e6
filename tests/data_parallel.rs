//! Training split over ranks computes what one process computes: the same
//! losses and, after the run, the same parameters (to float rounding: the
//! ranks' partial sums add up in another order), whatever the number of
//! ranks, with dropout and an uneven last batch. Ranks are threads of this
//! process here (`distributed::local`); `tests/mpi.rs` runs them as MPI
//! processes.

mod distributed_support;

use distributed_support::relative_difference;
use dlc::distributed::{Group, local};
use dlc::{EpochMetrics, TrainOptions};

/// Wine (13 features, 3 classes), dropout, batch 20 of 142 training
/// samples: seven batches of 20 and a last one of 2.
const MLP: &str = r#"
data wine = csv("examples/data/wine.csv", label: "cultivar") {
    standardize
    validation 0.2
    seed 3
}
network net(x: [13]) -> 3 {
    dense 24
    tanh
    dropout 0.3
    dense 16
    relu
    dense 3
}
train net on wine {
    loss      cross_entropy
    optimizer adam(lr: 0.01)
    batch     20
    epochs    4
    seed      7
}
"#;

struct Run {
    epochs: Vec<EpochMetrics>,
    /// Each parameter tensor by name.
    params: Vec<(String, Vec<f32>)>,
}

fn train(source: &str, group: Option<Group>) -> Run {
    let mut model = dlc::compile(source).expect("the program compiles");
    let options = TrainOptions {
        group,
        ..Default::default()
    };
    let mut epochs = Vec::new();
    model
        .train(&options, &mut |m| epochs.push(m.clone()))
        .expect("training runs");
    let params = model
        .parameters()
        .into_iter()
        .map(|(name, _, v)| (name.to_string(), v.to_vec()))
        .collect();
    Run { epochs, params }
}

/// Every rank's run, trained on `size` threads together.
fn train_split(source: &str, size: usize) -> Vec<Run> {
    std::thread::scope(|s| {
        let handles: Vec<_> = local::group(size)
            .into_iter()
            .map(|g| s.spawn(move || train(source, Some(g))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-30)
}

fn assert_same(alone: &Run, split: &Run, what: &str) {
    assert_eq!(alone.epochs.len(), split.epochs.len(), "{what}: epochs");
    for (a, b) in alone.epochs.iter().zip(&split.epochs) {
        let pairs = [
            ("train loss", Some(a.train_loss), Some(b.train_loss)),
            ("validation loss", a.val_loss, b.val_loss),
            ("train accuracy", a.train_acc, b.train_acc),
            ("validation accuracy", a.val_acc, b.val_acc),
        ];
        for (name, x, y) in pairs {
            let (x, y) = (x.unwrap(), y.unwrap());
            assert!(
                relative(x, y) <= 1e-5,
                "{what}: epoch {} {name} {x} alone, {y} split",
                a.epoch
            );
        }
    }
    assert_eq!(alone.params.len(), split.params.len());
    for ((tensor, a), (_, b)) in alone.params.iter().zip(&split.params) {
        let rel = relative_difference(a, b);
        assert!(rel <= 1e-5, "{what}: {tensor} differs by {rel:e}");
    }
}

#[test]
fn two_and_three_ranks_train_as_one_process_does() {
    let alone = train(MLP, None);
    for size in [2, 3] {
        let runs = train_split(MLP, size);
        for (rank, run) in runs.iter().enumerate() {
            assert_same(&alone, run, &format!("{size} ranks, rank {rank}"));
        }
        // Every rank holds bit for bit the same weights.
        for run in &runs[1..] {
            assert_eq!(run.params, runs[0].params, "{size} ranks disagree");
        }
    }
}

#[test]
fn more_ranks_than_samples_in_the_last_batch_still_agree() {
    // 142 samples in batches of 20 leave 2 for the last: with 3 ranks one
    // trains on none of them.
    let alone = train(MLP, None);
    let runs = train_split(MLP, 3);
    assert_same(&alone, &runs[2], "3 ranks, the one with an empty share");
}

/// Trains `source` alone and on two and three ranks; all must agree.
fn check_split(source: &str) {
    let alone = train(source, None);
    for size in [2, 3] {
        let runs = train_split(source, size);
        assert_same(&alone, &runs[0], &format!("{size} ranks"));
        for run in &runs[1..] {
            assert_eq!(run.params, runs[0].params, "{size} ranks disagree");
        }
    }
}

#[test]
fn batch_norm_trains_split_as_alone() {
    // The statistics are the whole batch's: the ranks sum their parts inside
    // the backward pass. No bias before the norm: it cancels there, so its
    // gradient is only rounding, which Adam's normalised steps would turn
    // into moves that differ from run to run.
    check_split(&MLP.replace(
        "    dense 24\n    tanh\n",
        "    dense 24, bias: false\n    batchnorm\n    tanh\n",
    ));
}

#[test]
fn class_weights_train_split_as_alone() {
    // The weighted mean divides by the whole batch's weight.
    check_split(&MLP.replace(
        "    batch     20",
        "    batch     20\n    class_weights balanced",
    ));
}

#[test]
fn a_tune_shared_over_ranks_finds_what_one_process_finds() {
    use dlc::recipe::{Bench, TuneOptions, tune};
    let options = |group| {
        let mut o = TuneOptions {
            coarse_epochs: 1,
            fine_epochs: 1,
            rate_factors: vec![0.3, 1.0, 3.0],
            decays: Some(vec![0.0, 1e-3]),
            top: 1,
            extensions: 0,
            confirm_seeds: Some(1),
            threads: 1,
            group,
            ..TuneOptions::default()
        };
        o.finder.steps = 40;
        o
    };
    let run = |group: Option<Group>| {
        let bench = Bench::new(MLP, dlc::BackendKind::Jit, "tune").unwrap();
        let result = tune(&bench, &options(group), &|_| {}).unwrap();
        // Everything but the seconds each epoch took.
        let points: Vec<_> = result
            .points
            .iter()
            .map(|p| {
                let curve: Vec<_> = (p.curve.iter())
                    .map(|m| {
                        (
                            m.epoch,
                            m.train_loss,
                            m.train_acc,
                            m.val_loss,
                            m.val_acc,
                            m.lr,
                        )
                    })
                    .collect();
                (p.stage, p.setting, p.epochs, p.diverged, curve)
            })
            .collect();
        (points, result.chosen())
    };
    let alone = run(None);
    let shared: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (local::group(2).into_iter())
            .map(|g| s.spawn(move || run(Some(g))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (rank, r) in shared.iter().enumerate() {
        assert_eq!(r, &alone, "rank {rank}");
    }
}

#[test]
fn early_stopping_stops_every_rank_at_the_epoch_one_process_stops() {
    let source = MLP.replace(
        "    epochs    4",
        "    epochs    40\n    early_stop val_loss, patience: 2",
    );
    let alone = train(&source, None);
    assert!(alone.epochs.len() < 40, "the run should stop early");
    check_split(&source);
}
