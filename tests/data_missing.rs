//! `impute` and `standardize targets` as the loader applies them: fill
//! values and target statistics from the training part only, imputation
//! before standardisation, and what a model keeps to prepare new samples.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dlc::check::{DataSpec, check_source};
use dlc::data::{FilePolicy, ImputeMethod, Targets};
use dlc::runtime::load::{load, load_like};

fn write(name: &str, content: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("data_missing")
        .join(NEXT.fetch_add(1, Ordering::Relaxed).to_string())
        .join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// The checked data item `d` of a program whose data items are `data`.
fn spec(data: &str, inputs: usize, loss: &str, outputs: usize) -> DataSpec {
    let text = format!(
        "{data}\nnetwork n(x: [{inputs}]) -> {outputs} {{ dense {outputs} }}\n\
         train n on d {{ loss {loss}; optimizer sgd(lr: 0.1) }}\n"
    );
    let checked = check_source(&text);
    assert!(!checked.has_errors(), "{text}: {:?}", checked.diagnostics);
    checked.model.unwrap().data.unwrap()
}

fn path_of(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

const TRAIN: &str = "a,b,y\n1,10,0\nNA,20,1\n3,,0\n5,40,1\n";
const VALIDATE: &str = "a,b,y\n100,,0\n,1000,1\n";

#[test]
fn fill_values_come_from_the_training_data_only() {
    let (train, validate) = (write("train.csv", TRAIN), write("val.csv", VALIDATE));
    // Present values of the training file: a = 1, 3, 5; b = 10, 20, 40.
    // Had the validation file counted, `a`'s mean would be 27.25.
    for (method, fill_a, fill_b) in [
        ("mean", 3.0, 70.0 / 3.0),
        ("median", 3.0, 20.0),
        ("zero", 0.0, 0.0),
    ] {
        let spec = spec(
            &format!(
                "data d = csv({}, label: \"y\") {{ impute {method}; validation t }}\n\
                 data t = csv({}, label: \"y\")",
                path_of(&train),
                path_of(&validate)
            ),
            2,
            "cross_entropy",
            2,
        );
        let loaded = load(&spec, &FilePolicy::default()).unwrap();
        let imputer = loaded.preparation.imputer.clone().unwrap();
        assert_eq!(imputer.method.keyword(), method);
        assert_eq!(imputer.fill, [fill_a, fill_b], "{method}");
        assert_eq!(
            loaded.train.features(),
            [1.0, 10.0, fill_a, 20.0, 3.0, fill_b, 5.0, 40.0]
        );
        assert_eq!(
            loaded.validation.unwrap().features(),
            [100.0, fill_b, fill_a, 1000.0],
            "the validation data is filled with the training data's values"
        );
    }
}

#[test]
fn after_a_split_the_fill_value_is_the_training_parts() {
    // `id` tells the rows apart after the split; `a` is missing in four rows,
    // and its values differ so much that each part has its own mean.
    let mut text = String::from("id,a,y\n");
    let a = |i: usize| {
        if i.is_multiple_of(3) {
            None
        } else {
            Some((i * i * i) as f32)
        }
    };
    for i in 0..12 {
        let cell = a(i).map_or("NA".to_string(), |v| v.to_string());
        text += &format!("{i},{cell},{}\n", i % 2);
    }
    let file = write("split.csv", &text);
    let spec = spec(
        &format!(
            "data d = csv({}, label: \"y\") {{ impute mean; validation 0.5; seed 4 }}",
            path_of(&file)
        ),
        2,
        "cross_entropy",
        2,
    );
    let loaded = load(&spec, &FilePolicy::default()).unwrap();
    let ids: Vec<usize> = loaded
        .train
        .features()
        .chunks(2)
        .map(|s| s[0] as usize)
        .collect();
    let present: Vec<f32> = ids.iter().filter_map(|&i| a(i)).collect();
    let expected = present.iter().sum::<f32>() / present.len() as f32;
    let everywhere: Vec<f32> = (0..12).filter_map(a).collect();
    let overall = everywhere.iter().sum::<f32>() / everywhere.len() as f32;
    assert!(
        (expected - overall).abs() > 1.0,
        "the test tells them apart"
    );
    let fill = loaded.preparation.imputer.unwrap().fill;
    let id_mean = ids.iter().sum::<usize>() as f32 / ids.len() as f32;
    assert_eq!(
        fill[0], id_mean,
        "`id` has no missing value: the part's mean"
    );
    assert!((fill[1] - expected).abs() < 1e-4, "{fill:?} vs {expected}");
}

#[test]
fn imputation_comes_before_standardisation() {
    let file = write("train.csv", TRAIN);
    let spec = spec(
        &format!(
            "data d = csv({}, label: \"y\") {{ impute median; standardize }}",
            path_of(&file)
        ),
        2,
        "cross_entropy",
        2,
    );
    let loaded = load(&spec, &FilePolicy::default()).unwrap();
    let s = loaded.preparation.standardizer.unwrap();
    // `a` filled with its median 3: 1, 3, 3, 5, mean 3, deviation sqrt(2).
    assert_eq!(s.mean[0], 3.0);
    assert!((s.std[0] - 2f32.sqrt()).abs() < 1e-6, "{:?}", s.std);
    assert!(loaded.train.features().iter().all(|x| x.is_finite()));
}

#[test]
fn without_impute_a_missing_feature_is_an_error_and_a_missing_label_always_is() {
    let file = write("train.csv", TRAIN);
    let plain = spec(
        &format!("data d = csv({}, label: \"y\")", path_of(&file)),
        2,
        "cross_entropy",
        2,
    );
    let message = load(&plain, &FilePolicy::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.ends_with(
            "train.csv:3:1: missing value in column \"a\": found \"NA\"\n\
             help: fill the value in, or add `impute mean`, `impute median` or `impute zero` \
             to the data item to fill missing features from the training part"
        ),
        "{message}"
    );
    let no_label = write("label.csv", "a,b,y\n1,2,0\n3,4,\n");
    let imputing = spec(
        &format!(
            "data d = csv({}, label: \"y\") {{ impute zero }}",
            path_of(&no_label)
        ),
        2,
        "cross_entropy",
        2,
    );
    let message = load(&imputing, &FilePolicy::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("label.csv:3:5: missing value in column \"y\""),
        "{message}"
    );
}

/// Mean and population deviation.
fn moments(values: &[f32]) -> (f32, f32) {
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    (mean, var.sqrt())
}

#[test]
fn targets_are_standardised_with_the_training_targets_statistics() {
    let train = write("train.csv", "x,t,u\n1,2,10\n2,4,10\n3,9,40\n4,1,20\n");
    let other = write("other.csv", "x,t,u\n5,5,25\n");
    let spec = spec(
        &format!(
            "data d = csv({}, target: [\"t\", \"u\"]) {{ standardize targets; validation v }}\n\
             data v = csv({}, target: [\"t\", \"u\"])",
            path_of(&train),
            path_of(&other)
        ),
        1,
        "mse",
        2,
    );
    let loaded = load(&spec, &FilePolicy::default()).unwrap();
    let s = loaded.preparation.target_standardizer.clone().unwrap();
    let (t, u) = (
        moments(&[2.0, 4.0, 9.0, 1.0]),
        moments(&[10.0, 10.0, 40.0, 20.0]),
    );
    assert_eq!(s.mean, [t.0, u.0]);
    assert!((s.std[0] - t.1).abs() < 1e-6 && (s.std[1] - u.1).abs() < 1e-6);
    // The features are not standardised: only the targets were asked for.
    assert!(loaded.preparation.standardizer.is_none());
    assert_eq!(loaded.train.features(), [1.0, 2.0, 3.0, 4.0]);
    let Targets::Values { values, .. } = loaded.train.targets() else {
        panic!("regression targets")
    };
    assert!((moments(&values[..]).0).abs() < 1e-6);
    let Targets::Values { values: v, .. } = loaded.validation.as_ref().unwrap().targets() else {
        panic!("regression targets")
    };
    let expected = [(5.0 - t.0) / t.1, (25.0 - u.0) / u.1];
    assert!((v[0] - expected[0]).abs() < 1e-6 && (v[1] - expected[1]).abs() < 1e-6);
    // The one function that turns outputs back gives the targets' own units.
    let mut back = v.clone();
    loaded.preparation.outputs_to_original(&mut back, 2);
    assert!(
        (back[0] - 5.0).abs() < 1e-5 && (back[1] - 25.0).abs() < 1e-4,
        "{back:?}"
    );
    // Another file read like the training data is standardised the same way.
    let like = load_like(&spec, &other, &loaded.preparation, &FilePolicy::default()).unwrap();
    assert_eq!(like.targets(), loaded.validation.unwrap().targets());
    assert!(
        loaded.notes[0].contains("standardized targets"),
        "{:?}",
        loaded.notes
    );
}

#[test]
fn a_file_read_like_the_training_data_is_filled_with_its_values() {
    let train = write("train.csv", TRAIN);
    let spec = spec(
        &format!(
            "data d = csv({}, label: \"y\") {{ impute mean }}",
            path_of(&train)
        ),
        2,
        "cross_entropy",
        2,
    );
    let loaded = load(&spec, &FilePolicy::default()).unwrap();
    assert_eq!(
        loaded.preparation.imputer.as_ref().unwrap().method,
        ImputeMethod::Mean
    );
    let other = write("test.csv", "b,a,y\n,7,1\n8,NaN,0\n");
    let ds = load_like(&spec, &other, &loaded.preparation, &FilePolicy::default()).unwrap();
    assert_eq!(ds.features(), [7.0, 70.0 / 3.0, 3.0, 8.0]);
}

#[test]
fn the_summary_shows_the_settings_in_the_order_they_apply() {
    let line = |settings: &str| {
        let spec = spec(
            &format!("data d = csv(\"h.csv\", target: \"y\") {{ {settings} }}"),
            2,
            "mse",
            1,
        );
        dlc::report::describe_data(&spec)
    };
    assert_eq!(
        line("standardize targets, features; impute median; scale 2"),
        "d: csv \"h.csv\", target y, scale 2, impute median, \
         standardized features and targets, no validation, seed 0"
    );
    assert!(line("standardize targets").contains(", standardized targets,"));
    assert!(line("standardize features").contains(", standardized,"));
    assert!(line("impute zero").contains(", impute zero,"));
}
