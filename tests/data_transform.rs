//! Transforms: scaling, standardisation fitted on training data only, reshaping, seeded and
//! stratified splits, one-hot targets.

use dlc::data::{self, Dataset, MemoryLimit, Standardizer, Targets};

/// `labels.len()` samples of `width` features; feature j of sample i is `1000 i + j`, so
/// every sample can be recognised after shuffling.
fn numbered(labels: Vec<u32>, classes: usize, width: usize) -> Dataset {
    let features = (0..labels.len())
        .flat_map(|i| (0..width).map(move |j| (1000 * i + j) as f32))
        .collect();
    Dataset::new(features, vec![width], Targets::Classes { labels, classes }).unwrap()
}

/// The original index of each sample of a data set made by [`numbered`].
fn ids(dataset: &Dataset) -> Vec<usize> {
    (0..dataset.len())
        .map(|i| dataset.sample(i)[0] as usize / 1000)
        .collect()
}

fn two_columns(rows: &[[f32; 2]]) -> Dataset {
    let labels = vec![0; rows.len()];
    Dataset::new(
        rows.concat(),
        vec![2],
        Targets::Classes { labels, classes: 1 },
    )
    .unwrap()
}

#[test]
fn scale_multiplies_every_feature() {
    let mut dataset = two_columns(&[[2.0, 0.0], [-4.0, 6.0]]);
    data::scale(&mut dataset, 0.25);
    assert_eq!(dataset.features(), [0.5, 0.0, -1.0, 1.5]);
}

#[test]
fn standardisation_uses_training_statistics_for_both_parts() {
    // Column 0 of the training part: 1, 2, 3, 4 (mean 2.5, population variance 1.25).
    // Column 1 is constant.
    let mut train = two_columns(&[[1.0, 7.0], [2.0, 7.0], [3.0, 7.0], [4.0, 7.0]]);
    let mut validation = two_columns(&[[100.0, 8.0], [2.5, 7.0]]);
    let standardizer = Standardizer::fit(&train).unwrap();
    assert_eq!(standardizer.mean, [2.5, 7.0]);
    assert_eq!(standardizer.std, [1.25f32.sqrt(), 1.0]);

    standardizer.apply(&mut train).unwrap();
    standardizer.apply(&mut validation).unwrap();
    let sd = 1.25f32.sqrt();
    let expected_train = [-1.5 / sd, 0.0, -0.5 / sd, 0.0, 0.5 / sd, 0.0, 1.5 / sd, 0.0];
    assert_eq!(train.features(), expected_train);
    // The validation outlier does not shift the statistics: it is measured in training units.
    assert_eq!(validation.features(), [97.5 / sd, 1.0, 0.0, 0.0]);
    assert!(
        train
            .features()
            .iter()
            .chain(validation.features())
            .all(|v| v.is_finite())
    );
}

#[test]
fn standardised_training_features_have_zero_mean_and_unit_variance() {
    let dataset = data::blobs(500, 3, 4, 2.0, 1, MemoryLimit::NONE).unwrap();
    let (mut train, _) = data::split(&dataset, 0.2, 1).unwrap();
    Standardizer::fit(&train)
        .unwrap()
        .apply(&mut train)
        .unwrap();
    for column in 0..4 {
        let values: Vec<f64> = (0..train.len())
            .map(|i| f64::from(train.sample(i)[column]))
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
            "column {column}: {mean} {var}"
        );
    }
}

#[test]
fn a_standardizer_only_fits_data_of_the_same_width() {
    let standardizer = Standardizer::fit(&two_columns(&[[1.0, 2.0]])).unwrap();
    let mut wider = numbered(vec![0], 1, 3);
    let message = standardizer.apply(&mut wider).unwrap_err().to_string();
    assert_eq!(
        message,
        "invalid data set for standardisation: expected samples of 2 values, as in the data it \
         was fitted on, found samples of 3 values (shape [3])"
    );
}

#[test]
fn reshape_keeps_the_data_and_checks_the_element_count() {
    let mut dataset = numbered(vec![0, 1], 2, 64);
    let features = dataset.features().to_vec();
    data::reshape(&mut dataset, &[1, 8, 8]).unwrap();
    assert_eq!(
        (dataset.sample_shape(), dataset.features()),
        (&[1, 8, 8][..], &features[..])
    );
    let message = data::reshape(&mut dataset, &[65]).unwrap_err().to_string();
    assert_eq!(
        message,
        "cannot reshape samples of shape [1, 8, 8] (64 elements) to [65] (65 elements); \
         the element counts must be equal"
    );
}

#[test]
fn split_sizes_are_exact_and_every_sample_lands_in_one_part() {
    let labels = (0..150).map(|i| i % 3).collect();
    let dataset = numbered(labels, 3, 2);
    let (train, validation) = data::split(&dataset, 0.2, 42).unwrap();
    assert_eq!((train.len(), validation.len()), (120, 30));
    // The validation size is rounded to nearest: 10 * 0.29 = 2.9 gives 3.
    let (small_train, small_validation) =
        data::split(&numbered(vec![0; 10], 1, 1), 0.29, 1).unwrap();
    assert_eq!((small_train.len(), small_validation.len()), (7, 3));
    let mut all: Vec<usize> = ids(&train).into_iter().chain(ids(&validation)).collect();
    all.sort_unstable();
    assert_eq!(all, (0..150).collect::<Vec<_>>());
    // Samples keep their own labels.
    for part in [&train, &validation] {
        let Targets::Classes { labels, .. } = &part.targets() else {
            panic!()
        };
        for (id, label) in ids(part).into_iter().zip(labels) {
            assert_eq!(*label as usize, id % 3);
        }
    }
}

#[test]
fn split_is_stratified_by_class() {
    let labels: Vec<u32> = (0..100).map(|i| u32::from(i >= 90)).collect();
    let (train, validation) = data::split(&numbered(labels, 2, 1), 0.2, 7).unwrap();
    assert_eq!(validation.class_counts(), [18, 2]);
    assert_eq!(train.class_counts(), [72, 8]);
}

#[test]
fn split_depends_on_the_seed_only() {
    let dataset = numbered((0..60).map(|i| i % 2).collect(), 2, 1);
    let first = data::split(&dataset, 0.25, 3).unwrap();
    assert_eq!(first, data::split(&dataset, 0.25, 3).unwrap());
    let other = data::split(&dataset, 0.25, 4).unwrap();
    assert_ne!(ids(&first.1), ids(&other.1));
    // Both parts come out shuffled, not in their original order.
    assert_ne!(ids(&first.0), {
        let mut s = ids(&first.0);
        s.sort_unstable();
        s
    });
}

#[test]
fn regression_data_splits_by_plain_shuffle() {
    let dataset = data::sine(101, 0.0, 2, MemoryLimit::NONE).unwrap();
    let (train, validation) = data::split(&dataset, 0.3, 2).unwrap();
    assert_eq!((train.len(), validation.len()), (71, 30));
    for part in [&train, &validation] {
        let Targets::Values { values, .. } = &part.targets() else {
            panic!()
        };
        assert!(
            part.features()
                .iter()
                .zip(values)
                .all(|(x, y)| *y == x.sin())
        );
    }
    let (all, none) = data::split(&dataset, 0.0, 2).unwrap();
    assert_eq!((all.len(), none.len()), (101, 0));
    let message = data::split(&dataset, 1.5, 2).unwrap_err().to_string();
    assert_eq!(
        message,
        "invalid validation fraction: expected a number from 0 to 1, found 1.5"
    );
}

#[test]
fn one_hot_rows_mark_the_class() {
    assert_eq!(data::one_hot(&[2, 0], 3).unwrap(), [0., 0., 1., 1., 0., 0.]);
    let message = data::one_hot(&[1, 3], 3).unwrap_err().to_string();
    assert_eq!(
        message,
        "label 3 in row 1 is out of range for 3 classes (0..=2)"
    );
    let targets = Targets::Classes {
        labels: vec![1, 0],
        classes: 2,
    };
    assert_eq!(
        targets.to_one_hot().unwrap(),
        Targets::Values {
            values: vec![0., 1., 1., 0.],
            width: 2
        }
    );
}

#[test]
fn inconsistent_data_sets_are_caught() {
    let short = Dataset::new(
        vec![1.0; 5],
        vec![2],
        Targets::Classes {
            labels: vec![0; 3],
            classes: 1,
        },
    );
    assert_eq!(
        short.unwrap_err().to_string(),
        "inconsistent data set: the features hold 5 values, but 3 samples of shape [2] need 6"
    );
    let bad_label = Dataset::new(
        vec![1.0; 2],
        vec![1],
        Targets::Classes {
            labels: vec![0, 4],
            classes: 2,
        },
    );
    assert_eq!(
        bad_label.unwrap_err().to_string(),
        "label 4 in row 1 is out of range for 2 classes (0..=1)"
    );
}
