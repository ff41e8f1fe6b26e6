//! The batcher: every sample exactly once per epoch, fresh orders, buffer layout, drop_last,
//! full-batch and batch-1 use, and argument errors.

use dlc::data::{Batcher, Dataset, Targets};
use dlc::rng::Rng;

/// `n` images of shape [1, 2, 2] whose pixels are `10 i + 0..4`, labelled `i % 3`.
fn images(n: usize) -> Dataset {
    let features = (0..n)
        .flat_map(|i| (0..4).map(move |p| (10 * i + p) as f32))
        .collect();
    let labels = (0..n as u32).map(|i| i % 3).collect();
    Dataset::new(
        features,
        vec![1, 2, 2],
        Targets::Classes { labels, classes: 3 },
    )
    .unwrap()
}

/// Runs one epoch, checking each batch's buffers against the data set, and returns the
/// sample indices in visiting order and the batch sizes.
fn epoch(batcher: &mut Batcher, dataset: &Dataset) -> (Vec<usize>, Vec<usize>) {
    let mut features = vec![f32::NAN; batcher.features_len()];
    let mut targets = vec![f32::NAN; batcher.targets_len()];
    let (mut visited, mut sizes) = (Vec::new(), Vec::new());
    while let Some(count) = batcher.next_batch(&mut features, &mut targets).unwrap() {
        let indices = batcher.batch_indices().to_vec();
        assert_eq!(indices.len(), count);
        let width = dataset.sample_len();
        for (slot, &index) in indices.iter().enumerate() {
            assert_eq!(
                &features[slot * width..(slot + 1) * width],
                dataset.sample(index)
            );
            let mut target = vec![0.0; dataset.targets().target_len()];
            dataset.targets().write_target(index, &mut target);
            let t = target.len();
            assert_eq!(&targets[slot * t..(slot + 1) * t], target.as_slice());
        }
        visited.extend(indices);
        sizes.push(count);
    }
    (visited, sizes)
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

#[test]
fn every_sample_is_visited_exactly_once_per_epoch() {
    let dataset = images(23);
    for batch_size in [1, 5, 7, 23, 40] {
        let mut batcher = Batcher::new(&dataset, batch_size, false, Rng::new(1)).unwrap();
        for _ in 0..3 {
            let (visited, sizes) = epoch(&mut batcher, &dataset);
            assert_eq!(
                sorted(visited),
                (0..23).collect::<Vec<_>>(),
                "batch size {batch_size}"
            );
            assert_eq!(sizes.len(), batcher.batches_per_epoch());
            assert!(sizes[..sizes.len() - 1].iter().all(|&s| s == batch_size));
        }
        assert_eq!(batcher.epoch(), 3);
    }
}

#[test]
fn labels_are_class_indices_as_floats_in_sample_major_buffers() {
    let dataset = images(4);
    let mut batcher = Batcher::sequential(&dataset, 4).unwrap();
    let mut features = vec![0.0; 16];
    let mut targets = vec![0.0; 4];
    assert_eq!(
        batcher.next_batch(&mut features, &mut targets).unwrap(),
        Some(4)
    );
    let expected: Vec<f32> = [
        0., 1., 2., 3., 10., 11., 12., 13., 20., 21., 22., 23., 30., 31., 32., 33.,
    ]
    .to_vec();
    assert_eq!(features, expected);
    assert_eq!(targets, [0.0, 1.0, 2.0, 0.0]);
    assert_eq!(
        batcher.next_batch(&mut features, &mut targets).unwrap(),
        None
    );
}

#[test]
fn regression_targets_fill_width_values_per_sample() {
    let targets = Targets::Values {
        values: (0..12).map(|v| v as f32).collect(),
        width: 3,
    };
    let dataset = Dataset::new(vec![0.5, 1.5, 2.5, 3.5], vec![1], targets).unwrap();
    let mut batcher = Batcher::new(&dataset, 3, false, Rng::new(4)).unwrap();
    let (visited, sizes) = epoch(&mut batcher, &dataset);
    assert_eq!((sorted(visited), sizes), (vec![0, 1, 2, 3], vec![3, 1]));
}

#[test]
fn each_epoch_has_a_fresh_order_reproducible_from_the_seed() {
    let dataset = images(30);
    let orders = |seed| {
        let mut batcher = Batcher::new(&dataset, 4, false, Rng::new(seed)).unwrap();
        (0..3)
            .map(|_| epoch(&mut batcher, &dataset).0)
            .collect::<Vec<_>>()
    };
    let first = orders(5);
    assert_eq!(first, orders(5));
    assert_ne!(first, orders(6));
    assert_ne!(first[0], first[1]);
    assert_ne!(first[1], first[2]);
    assert_ne!(first[0], (0..30).collect::<Vec<_>>());
}

#[test]
fn drop_last_skips_the_incomplete_batch_but_not_always_the_same_samples() {
    let dataset = images(10);
    let mut batcher = Batcher::new(&dataset, 4, true, Rng::new(2)).unwrap();
    assert_eq!(batcher.batches_per_epoch(), 2);
    let mut seen = [false; 10];
    for _ in 0..20 {
        let (visited, sizes) = epoch(&mut batcher, &dataset);
        assert_eq!(sizes, [4, 4]);
        let distinct = sorted(visited.clone());
        assert!(distinct.windows(2).all(|w| w[0] != w[1]));
        for index in visited {
            seen[index] = true;
        }
    }
    assert!(
        seen.iter().all(|&s| s),
        "some sample was never drawn in 20 epochs"
    );
}

#[test]
fn sequential_batches_keep_the_stored_order() {
    let dataset = images(7);
    let mut batcher = Batcher::sequential(&dataset, 3).unwrap();
    let (visited, sizes) = epoch(&mut batcher, &dataset);
    assert_eq!((visited, sizes), ((0..7).collect(), vec![3, 3, 1]));
}

#[test]
fn an_empty_data_set_yields_no_batches() {
    let empty = images(0);
    let mut batcher = Batcher::new(&empty, 8, true, Rng::new(0)).unwrap();
    assert_eq!(batcher.batches_per_epoch(), 0);
    assert_eq!(epoch(&mut batcher, &empty).1, Vec::<usize>::new());
}

#[test]
fn bad_arguments_are_explained() {
    let dataset = images(5);
    let message = |r: Result<Batcher, dlc::data::DataError>| r.unwrap_err().to_string();
    assert_eq!(
        message(Batcher::new(&dataset, 0, false, Rng::new(0))),
        "invalid batch size: expected at least 1, found 0"
    );
    assert_eq!(
        message(Batcher::new(&dataset, 6, true, Rng::new(0))),
        "invalid batch size: expected at most the number of samples (5) when incomplete \
         batches are dropped, or else no batch would remain, found 6"
    );
    let mut batcher = Batcher::new(&dataset, 2, false, Rng::new(0)).unwrap();
    let error = batcher
        .next_batch(&mut [0.0; 7], &mut [0.0; 2])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid feature buffer: expected at least 8 values (2 samples of 4), found 7 values"
    );
    let error = batcher
        .next_batch(&mut [0.0; 8], &mut [0.0; 1])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid target buffer: expected at least 2 values (2 samples of 1), found 1 values"
    );
}
