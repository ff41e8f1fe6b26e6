//! The built-in synthetic data sets: their construction, sizes, determinism and bad arguments.

use dlc::data::{self, Dataset, MemoryLimit, Targets};

fn labels(dataset: &Dataset) -> &[u32] {
    match &dataset.targets() {
        Targets::Classes { labels, .. } => labels,
        Targets::Values { .. } => panic!("expected class labels"),
    }
}

fn point(dataset: &Dataset, i: usize) -> (f64, f64) {
    let p = dataset.sample(i);
    (f64::from(p[0]), f64::from(p[1]))
}

#[test]
fn four_noiseless_xor_points_are_exactly_the_truth_table() {
    let dataset = data::xor(4, 0.0, 123, MemoryLimit::NONE).unwrap();
    assert_eq!(dataset.sample_shape(), [2]);
    assert_eq!(dataset.features(), [0., 0., 0., 1., 1., 0., 1., 1.]);
    assert_eq!(
        *dataset.targets(),
        Targets::Classes {
            labels: vec![0, 1, 1, 0],
            classes: 2
        }
    );
}

#[test]
fn noisy_xor_points_are_balanced_and_labelled_by_their_corner() {
    let dataset = data::xor(400, 0.1, 5, MemoryLimit::NONE).unwrap();
    assert_eq!(dataset.len(), 400);
    let mut per_corner = [0usize; 4];
    for i in 0..dataset.len() {
        let (x, y) = point(&dataset, i);
        let (a, b) = (x > 0.5, y > 0.5);
        per_corner[usize::from(a) * 2 + usize::from(b)] += 1;
        assert_eq!(
            labels(&dataset)[i],
            u32::from(a ^ b),
            "sample {i} at ({x}, {y})"
        );
    }
    assert_eq!(per_corner, [100; 4]);
    assert_eq!(dataset, data::xor(400, 0.1, 5, MemoryLimit::NONE).unwrap());
    assert_ne!(dataset, data::xor(400, 0.1, 6, MemoryLimit::NONE).unwrap());
}

#[test]
fn spiral_radii_are_linspace_and_angles_follow_the_construction() {
    let (n, classes, noise) = (200, 3, 0.2f64);
    let dataset = data::spirals(n, classes, noise as f32, 9, MemoryLimit::NONE).unwrap();
    assert_eq!(
        (dataset.len(), dataset.sample_shape()),
        (n * classes, &[2][..])
    );
    assert_eq!(dataset.class_counts(), vec![n; classes]);
    let step = 1.0 / (n - 1) as f64;
    let mut deviations = Vec::new();
    for class in 0..classes {
        let mut radii: Vec<(f64, f64)> = (0..dataset.len())
            .filter(|&i| labels(&dataset)[i] == class as u32)
            .map(|i| {
                let (x, y) = point(&dataset, i);
                (x.hypot(y), x.atan2(y)) // x = r sin t, y = r cos t
            })
            .collect();
        radii.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (i, &(radius, angle)) in radii.iter().enumerate() {
            // The noise only moves the angle: the radius of point i is exactly i / (n - 1).
            assert!(
                (radius - i as f64 * step).abs() < 1e-6,
                "class {class} point {i}: {radius}"
            );
            if i > 0 {
                let expected = 4.0 * class as f64 + 4.0 * i as f64 * step;
                let turn = std::f64::consts::TAU;
                deviations.push((angle - expected + turn / 2.0).rem_euclid(turn) - turn / 2.0);
            }
        }
    }
    // The angle noise is gaussian with standard deviation `noise`.
    let m = deviations.len() as f64;
    let mean = deviations.iter().sum::<f64>() / m;
    let std = (deviations.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / m).sqrt();
    assert!(mean.abs() < 5.0 * noise / m.sqrt(), "mean deviation {mean}");
    assert!(
        (std - noise).abs() < 5.0 * noise / (2.0 * m).sqrt(),
        "std {std}"
    );
}

#[test]
fn noiseless_spirals_lie_on_the_curve() {
    let dataset = data::spirals(50, 2, 0.0, 1, MemoryLimit::NONE).unwrap();
    for i in 0..dataset.len() {
        let (x, y) = point(&dataset, i);
        let r = x.hypot(y);
        let k = (r * 49.0).round();
        let t = 4.0 * f64::from(labels(&dataset)[i]) + 4.0 * k / 49.0;
        assert!(
            (x - r * t.sin()).abs() < 1e-6 && (y - r * t.cos()).abs() < 1e-6,
            "sample {i}"
        );
    }
}

#[test]
fn moons_lie_on_two_offset_half_circles() {
    let dataset = data::moons(101, 0.0, 2, MemoryLimit::NONE).unwrap();
    assert_eq!(dataset.class_counts(), [50, 51]);
    for i in 0..dataset.len() {
        let (x, y) = point(&dataset, i);
        let (cx, cy, upper) = match labels(&dataset)[i] {
            0 => (0.0, 0.0, true),
            _ => (1.0, 0.5, false),
        };
        assert!(
            ((x - cx).hypot(y - cy) - 1.0).abs() < 1e-6,
            "sample {i} off its circle"
        );
        assert!(
            if upper { y >= -1e-6 } else { y <= 0.5 + 1e-6 },
            "sample {i} on the wrong half"
        );
    }
    let noisy = data::moons(100, 0.1, 2, MemoryLimit::NONE).unwrap();
    assert_ne!(
        noisy.features(),
        data::moons(100, 0.0, 2, MemoryLimit::NONE)
            .unwrap()
            .features()
    );
}

#[test]
fn blobs_cluster_tightly_around_one_centre_per_class() {
    let (classes, features, spread) = (4, 3, 0.5);
    let dataset = data::blobs(4000, classes, features, spread, 8, MemoryLimit::NONE).unwrap();
    assert_eq!(dataset.sample_shape(), [features]);
    assert_eq!(dataset.class_counts(), [1000; 4]);
    for class in 0..classes as u32 {
        let members: Vec<&[f32]> = (0..dataset.len())
            .filter(|&i| labels(&dataset)[i] == class)
            .map(|i| dataset.sample(i))
            .collect();
        for f in 0..features {
            let values: Vec<f64> = members.iter().map(|s| f64::from(s[f])).collect();
            let mean = values.iter().sum::<f64>() / 1000.0;
            let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 1000.0).sqrt();
            assert!(
                (-10.5..10.5).contains(&mean),
                "centre outside the box: {mean}"
            );
            assert!(
                (std - f64::from(spread)).abs() < 0.06,
                "class {class} feature {f}: {std}"
            );
        }
    }
}

#[test]
fn random_images_have_the_requested_shape_and_uniform_pixels() {
    let dataset = data::random_images(500, &[1, 4, 4], 10, 3, MemoryLimit::NONE).unwrap();
    assert_eq!((dataset.len(), dataset.sample_len()), (500, 16));
    assert_eq!(dataset.sample_shape(), [1, 4, 4]);
    assert!(dataset.features().iter().all(|&v| (0.0..1.0).contains(&v)));
    let mean = dataset
        .features()
        .iter()
        .map(|&v| f64::from(v))
        .sum::<f64>()
        / 8000.0;
    assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    assert!(
        dataset.class_counts().iter().all(|&c| c > 20),
        "{:?}",
        dataset.class_counts()
    );
}

/// Fraction of an image's bright pixels in its fullest row (or column).
fn concentration(image: &[f32], size: usize, by_row: bool) -> f64 {
    let mut lines = vec![0usize; size];
    for (i, &v) in image.iter().enumerate() {
        if v > 0.5 {
            lines[if by_row { i / size } else { i % size }] += 1;
        }
    }
    *lines.iter().max().unwrap() as f64 / lines.iter().sum::<usize>().max(1) as f64
}

#[test]
fn shape_images_are_balanced_and_bars_stand_out_through_the_noise() {
    let size = 10;
    let dataset = data::shapes(400, size, 4, MemoryLimit::NONE).unwrap();
    assert_eq!(dataset.sample_shape(), [1, size, size]);
    assert_eq!(dataset.class_counts(), [100; 4]);
    assert!(dataset.features().iter().all(|&v| (0.0..=1.0).contains(&v)));
    let mut recognised = 0;
    for i in 0..dataset.len() {
        let image = dataset.sample(i);
        let (row, col) = (
            concentration(image, size, true),
            concentration(image, size, false),
        );
        let guess = match (row > 0.8, col > 0.8) {
            (true, false) => 0,
            (false, true) => 1,
            _ => 2, // a square or a cross: neither concentrates in one line
        };
        recognised += usize::from(guess == labels(&dataset)[i].min(2));
    }
    assert!(recognised >= 390, "only {recognised} of 400 recognised");
    assert_eq!(
        dataset,
        data::shapes(400, size, 4, MemoryLimit::NONE).unwrap()
    );
    assert!(
        data::shapes(10, 3, 4, MemoryLimit::NONE)
            .unwrap_err()
            .to_string()
            .contains("at least 4")
    );
}

#[test]
fn sine_targets_are_sin_of_x_plus_noise() {
    let exact = data::sine(300, 0.0, 6, MemoryLimit::NONE).unwrap();
    let Targets::Values { values, width: 1 } = &exact.targets() else {
        panic!("width 1 values")
    };
    for (x, y) in exact.features().iter().zip(values) {
        assert!((-3.0..3.0).contains(x));
        assert_eq!(*y, x.sin());
    }
    let noisy = data::sine(5000, 0.1, 6, MemoryLimit::NONE).unwrap();
    let Targets::Values { values, .. } = &noisy.targets() else {
        panic!()
    };
    let residuals: Vec<f64> = noisy
        .features()
        .iter()
        .zip(values)
        .map(|(x, y)| f64::from(y - x.sin()))
        .collect();
    let std = (residuals.iter().map(|r| r * r).sum::<f64>() / 5000.0).sqrt();
    assert!((std - 0.1).abs() < 0.005, "residual std {std}");
}

#[test]
fn generators_reject_impossible_arguments_with_a_reason() {
    let message = |r: Result<Dataset, data::DataError>| r.unwrap_err().to_string();
    assert_eq!(
        message(data::xor(4, -1.0, 0, MemoryLimit::NONE)),
        "invalid noise: expected a finite number >= 0, found -1"
    );
    assert!(message(data::spirals(10, 0, 0.1, 0, MemoryLimit::NONE)).contains("number of classes"));
    assert!(
        message(data::blobs(10, 2, 0, 1.0, 0, MemoryLimit::NONE)).contains("number of features")
    );
    assert!(message(data::random_images(10, &[2], 0, 0, MemoryLimit::NONE)).contains("at least 1"));
    assert!(message(data::moons(10, f32::NAN, 0, MemoryLimit::NONE)).contains("invalid noise"));
}
