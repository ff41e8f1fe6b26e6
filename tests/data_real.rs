//! The real data sets shipped with the examples load with the right sizes and go through the
//! usual pipeline: reshape, split, standardise, batch.

use std::path::Path;

use dlc::data::{self, Batcher, CsvOptions, FilePolicy, Standardizer};
use dlc::rng::Rng;

#[test]
fn digits_has_1797_samples_of_64_pixels_in_10_classes() {
    let path = Path::new("examples/data/digits.csv");
    let dataset = data::csv(path, &CsvOptions::label("digit"), &FilePolicy::default()).unwrap();
    assert_eq!(dataset.len(), 1797);
    assert_eq!(dataset.sample_shape(), [64]);
    assert_eq!(dataset.classes(), Some(10));
    let counts = dataset.class_counts();
    assert!(
        counts.iter().all(|&c| (170..=190).contains(&c)),
        "{counts:?}"
    );
    // 4-bit grey levels.
    assert!(
        dataset
            .features()
            .iter()
            .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0)
    );
}

#[test]
fn iris_has_150_samples_of_4_features_in_3_classes_of_50() {
    let path = Path::new("examples/data/iris.csv");
    let dataset = data::csv(path, &CsvOptions::label("species"), &FilePolicy::default()).unwrap();
    assert_eq!((dataset.len(), dataset.sample_shape()), (150, &[4][..]));
    assert_eq!(dataset.class_counts(), [50, 50, 50]);
    assert_eq!(dataset.sample(0), [5.1, 3.5, 1.4, 0.2]);
}

#[test]
fn digits_go_through_the_whole_pipeline() {
    let path = Path::new("examples/data/digits.csv");
    let mut dataset = data::csv(path, &CsvOptions::label("digit"), &FilePolicy::default()).unwrap();
    data::reshape(&mut dataset, &[1, 8, 8]).unwrap();
    let (mut train, mut validation) = data::split(&dataset, 0.2, 1).unwrap();
    assert_eq!((train.len(), validation.len()), (1438, 359));
    let standardizer = Standardizer::fit(&train).unwrap();
    standardizer.apply(&mut train).unwrap();
    standardizer.apply(&mut validation).unwrap();
    // Border pixels are always 0 in this set: constant columns must stay finite.
    assert!(standardizer.std.contains(&1.0));
    assert!(
        train
            .features()
            .iter()
            .chain(validation.features())
            .all(|v| v.is_finite())
    );

    let mut batcher = Batcher::new(&train, 64, true, Rng::new(1)).unwrap();
    let mut features = vec![0.0; batcher.features_len()];
    let mut labels = vec![0.0; batcher.targets_len()];
    let mut batches = 0;
    while let Some(count) = batcher.next_batch(&mut features, &mut labels).unwrap() {
        assert_eq!(count, 64);
        assert!(
            labels
                .iter()
                .all(|&l| (0.0..10.0).contains(&l) && l.fract() == 0.0)
        );
        batches += 1;
    }
    assert_eq!(batches, 1438 / 64);
}
