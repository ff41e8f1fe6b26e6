//! Data that cannot train anything: no sample, a split that empties one side, a single
//! class, a label beyond the network's outputs. Each is an error (a single class: a warning)
//! naming the file or the setting, before training; a verdict never reads meaning into
//! numbers that have none.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dlc::EpochMetrics;
use dlc::check::{DataSpec, check_source};
use dlc::data::{DataError, FilePolicy};
use dlc::report::{Fit, judge};
use dlc::runtime::load::{load, load_like};

fn write(name: &str, content: &[u8]) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("data_degenerate")
        .join(NEXT.fetch_add(1, Ordering::Relaxed).to_string())
        .join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// The checked data item of a program whose data is `source { settings }`, for a network
/// of `inputs` and `outputs`.
fn spec(source: &str, settings: &str, inputs: usize, outputs: usize) -> DataSpec {
    let text = format!(
        "data d = {source} {{ {settings} }}\n\
         network n(x: [{inputs}]) -> {outputs} {{ dense {outputs} }}\n\
         train n on d {{ loss cross_entropy; optimizer sgd(lr: 0.1) }}\n"
    );
    let checked = check_source(&text);
    assert!(!checked.has_errors(), "{text}: {:?}", checked.diagnostics);
    checked.model.unwrap().data.unwrap()
}

fn csv_spec(path: &Path, settings: &str) -> DataSpec {
    spec(
        &format!("csv({:?}, label: \"y\")", path.display().to_string()),
        settings,
        1,
        3,
    )
}

fn load_error(spec: &DataSpec) -> String {
    match load(spec, &FilePolicy::default()) {
        Ok(_) => panic!("{spec:?} loads"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_csv_file_of_only_a_header_is_no_data_set() {
    let path = write("header.csv", b"x,y\n");
    assert_eq!(
        load_error(&csv_spec(&path, "")),
        format!(
            "data `d` ({}) holds no samples (the file has a header line but no rows); a data \
             set needs at least one sample",
            path.display()
        )
    );
}

#[test]
fn npy_arrays_of_no_rows_are_no_data_set() {
    let npy = |dict: &str| {
        let padded = format!("{dict:<117}\n");
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((padded.len() as u16).to_le_bytes());
        bytes.extend(padded.as_bytes());
        bytes
    };
    let x = write(
        "x.npy",
        &npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"),
    );
    let y = write(
        "y.npy",
        &npy("{'descr': '|i1', 'fortran_order': False, 'shape': (0,), }"),
    );
    let text = format!(
        "data d = npy(x: {:?}, y: {:?})\nnetwork n(x: [4]) -> 2 {{ dense 2 }}\n\
         train n on d {{ loss cross_entropy; optimizer sgd(lr: 0.1) }}\n",
        x.display().to_string(),
        y.display().to_string()
    );
    let spec = check_source(&text).model.unwrap().data.unwrap();
    let error = load(&spec, &FilePolicy::default()).err().unwrap();
    assert!(matches!(error, DataError::NoSamples { .. }), "{error}");
    assert!(error.to_string().ends_with(
        "holds no samples (the arrays have 0 rows); a data set needs at least one sample"
    ));
}

#[test]
fn a_validation_fraction_must_leave_samples_on_both_sides() {
    let path = write("four.csv", b"x,y\n1,0\n2,1\n3,2\n4,0\n");
    assert_eq!(
        load_error(&csv_spec(&path, "validation 0.99")),
        format!(
            "data `d` ({}): `validation 0.99` of 4 samples leaves the training part no sample; \
             use a smaller fraction (below 0.875), or more samples",
            path.display()
        )
    );
    assert_eq!(
        load_error(&csv_spec(&path, "validation 0.1")),
        format!(
            "data `d` ({}): `validation 0.1` of 4 samples leaves the validation part no sample; \
             use a larger fraction (at least 0.125), or more samples",
            path.display()
        )
    );
    let loaded = load(&csv_spec(&path, "validation 0.25"), &FilePolicy::default()).unwrap();
    assert_eq!(
        (loaded.train.len(), loaded.validation.unwrap().len()),
        (3, 1)
    );
}

#[test]
fn a_training_set_of_one_class_is_loaded_with_a_warning() {
    let path = write("one.csv", b"x,y\n1,0\n2,0\n3,0\n");
    let loaded = load(&csv_spec(&path, ""), &FilePolicy::default()).unwrap();
    assert_eq!(
        loaded.warnings,
        [format!(
            "data `d` ({}) holds a single class: all 3 training samples are of class 0, so \
             there is nothing to tell apart and the training loss means little; check the labels",
            path.display()
        )]
    );
    let two = write("two.csv", b"x,y\n1,0\n2,1\n");
    assert!(
        load(&csv_spec(&two, ""), &FilePolicy::default())
            .unwrap()
            .warnings
            .is_empty()
    );
    // A library caller of `train` is told too.
    let source = format!(
        "data d = csv(\"{}\", label: \"y\", classes: 2)\n\
         network n(x: [1]) -> 2 {{ dense 2 }}\n\
         train n on d {{ loss cross_entropy; optimizer sgd(lr: 0.1); batch 2; epochs 1 }}\n",
        path.display()
    );
    let report = dlc::compile(&source)
        .unwrap()
        .train(&Default::default(), &mut |_| {})
        .unwrap();
    assert_eq!(report.warnings, loaded.warnings);
}

#[test]
fn another_file_cannot_be_read_like_built_in_data() {
    let other = write("o.csv", b"a,b,y\n1,2,0\n");
    let spirals = spec("spirals(points: 10)", "", 2, 3);
    let loaded = load(&spirals, &FilePolicy::default()).unwrap();
    let message = load_like(
        &spirals,
        &other,
        &loaded.preparation,
        &FilePolicy::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert_eq!(
        message,
        format!(
            "{}: cannot be read like data `d`, which is the built-in `spirals` set; only data \
             read with `csv(...)` names the columns that hold the targets, so only then can \
             another CSV file with the same columns be read like it",
            other.display()
        )
    );
}

#[test]
fn a_label_beyond_the_network_outputs_is_named_with_its_file_row_and_value() {
    let path = write("o.csv", b"a,y\n1,0\n2,1\n3,7\n4,2\n");
    let text = format!(
        "data d = csv({:?}, label: \"y\")\nnetwork n(x: [1]) -> 3 {{ dense 3 }}\n\
         train n on d {{ loss cross_entropy; optimizer sgd(lr: 0.1); epochs 1 }}\n",
        path.display().to_string()
    );
    let mut model = dlc::compile(&text).unwrap();
    let error = model
        .train(&dlc::TrainOptions::default(), &mut |_| {})
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}:4:3: label 7 in row 2 is out of range for network `n`, which tells 3 classes \
             apart (labels 0..=2)\nnote: the training data's 8 classes are counted from its \
             largest label\nhelp: correct the label, or, if there really are 8 classes, end the \
             network with `dense 8`",
            path.display()
        )
    );
}

fn epoch(epoch: usize, train: f64, val: Option<f64>) -> EpochMetrics {
    EpochMetrics {
        epoch,
        train_loss: train,
        train_acc: None,
        val_loss: val,
        val_acc: None,
        lr: 0.1,
        seconds: 0.0,
    }
}

#[test]
fn a_nan_validation_loss_is_never_within_the_limit() {
    let epochs = [epoch(1, 0.5, Some(0.6)), epoch(2, 0.3, Some(f64::NAN))];
    let verdict = judge(&epochs, None, None, 1.0);
    assert_eq!(verdict.fit, Fit::Unknown);
    let text = verdict.text();
    assert!(!text.contains("within the limit"), "{text}");
    assert!(
        text.contains("the validation loss is NaN at epoch 2"),
        "{text}"
    );
}

#[test]
fn without_a_baseline_there_is_no_verdict() {
    // One class: the best input-blind prediction has loss 0, and skill and gap would be
    // ratios to nothing (the report showed skill -4.5e11, gap 6.8e11, "good fit").
    let epochs = [epoch(1, 0.45, Some(0.68))];
    let verdict = judge(&epochs, None, None, 0.0);
    assert_eq!(verdict.fit, Fit::Unknown);
    assert!(verdict.evidence.gap.is_none());
    assert!(
        verdict.text().contains("the baseline loss is 0.0000"),
        "{}",
        verdict.text()
    );
}
