//! NPY loading against files written by numpy itself (see the fixture folder's generator):
//! every supported dtype in both byte orders, format versions 1–3, and the error paths.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dlc::data::{self, DataError, FilePolicy, Targets};
use dlc::rng::Rng;

const FIXTURES: &str = "tests/fixtures/data/npy";

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// Writes `content` to a file called `name` in a folder of its own (tests run in parallel
/// and reuse names) and returns its path.
fn write(name: &str, content: &[u8]) -> PathBuf {
    static NEXT_FOLDER: AtomicUsize = AtomicUsize::new(0);
    let folder = NEXT_FOLDER.fetch_add(1, Ordering::Relaxed).to_string();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("data_npy")
        .join(folder)
        .join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

fn load(x: &str, y: &str) -> Result<data::Dataset, DataError> {
    data::npy(&fixture(x), &fixture(y), None, &FilePolicy::default())
}

fn error(x: &str, y: &str) -> String {
    load(x, y)
        .unwrap_err()
        .to_string()
        .replace(&format!("{FIXTURES}/"), "")
}

/// A version-1 NPY file with the given header dict and data bytes.
fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

#[test]
fn every_integer_dtype_in_either_byte_order_keeps_its_range_and_sign() {
    // Each file holds the type's minimum (0 when unsigned), 1..=8, and its maximum.
    let ranges: [(&str, f64, f64); 8] = [
        ("i1", i8::MIN.into(), i8::MAX.into()),
        ("u1", 0.0, u8::MAX.into()),
        ("i2", i16::MIN.into(), i16::MAX.into()),
        ("u2", 0.0, u16::MAX.into()),
        ("i4", i32::MIN.into(), i32::MAX.into()),
        ("u4", 0.0, u32::MAX.into()),
        ("i8", i64::MIN as f64, i64::MAX as f64),
        ("u8", 0.0, u64::MAX as f64),
    ];
    for (dtype, min, max) in ranges {
        let orders: &[&str] = if dtype.ends_with('1') {
            &["le"]
        } else {
            &["le", "be"]
        };
        for order in orders {
            let name = format!("x_{dtype}_{order}.npy");
            let dataset = load(&name, "y_i8.npy").unwrap();
            let mut expected: Vec<f32> = (0..10).map(|v| v as f32).collect();
            expected[0] = min as f32;
            expected[9] = max as f32;
            assert_eq!(dataset.features(), expected, "{name}");
            assert_eq!(dataset.sample_shape(), [2], "{name}");
        }
    }
}

#[test]
fn float_dtypes_and_format_versions_2_and_3_are_read() {
    let halves: Vec<f32> = (0..10).map(|v| v as f32 * 0.5 - 2.0).collect();
    for name in ["x_f4_le.npy", "x_f4_be.npy", "x_f8_le.npy", "x_f8_be.npy"] {
        assert_eq!(load(name, "y_i8.npy").unwrap().features(), halves, "{name}");
    }
    let counting: Vec<f32> = (0..10).map(|v| v as f32).collect();
    for name in ["x_f4_v2.npy", "x_f4_v3.npy"] {
        assert_eq!(
            load(name, "y_i8.npy").unwrap().features(),
            counting,
            "{name}"
        );
    }
}

#[test]
fn integer_and_bool_targets_are_classes_float_targets_are_values() {
    let classes = |y| load("x_f4_le.npy", y).unwrap().targets().clone();
    let expected = Targets::Classes {
        labels: vec![0, 1, 2, 1, 0],
        classes: 3,
    };
    assert_eq!(classes("y_i8.npy"), expected);
    assert_eq!(classes("y_u1.npy"), expected);
    assert_eq!(
        classes("y_bool.npy"),
        Targets::Classes {
            labels: vec![1, 0, 1, 1, 0],
            classes: 2
        }
    );
    assert_eq!(
        classes("y_f4.npy"),
        Targets::Values {
            values: vec![0.5, -1.0, 2.25, 3.0, -4.5],
            width: 1
        }
    );
    let quarters = (0..10).map(|v| v as f32 / 4.0).collect();
    assert_eq!(
        classes("y_f8_2d.npy"),
        Targets::Values {
            values: quarters,
            width: 2
        }
    );
}

#[test]
fn the_first_dimension_counts_samples_and_the_rest_is_their_shape() {
    let images = load("x_images.npy", "y_i8.npy").unwrap();
    assert_eq!(images.sample_shape(), [2, 3, 3]);
    assert_eq!(images.sample(1)[0], 18.0);
    let column = load("x_1d.npy", "y_i8.npy").unwrap();
    assert_eq!(column.sample_shape(), [1]);
    assert_eq!(column.features(), [1.5, 2.5, 3.5, 4.5, 5.5]);
}

#[test]
fn unsupported_layouts_and_types_are_named() {
    assert_eq!(
        error("x_c8.npy", "y_i8.npy"),
        "x_c8.npy: unsupported dtype '<c8' (expected a float or integer type)"
    );
    assert_eq!(
        error("x_fortran.npy", "y_i8.npy"),
        "x_fortran.npy: arrays in Fortran (column-major) order are not supported; \
         save a C-ordered copy, e.g. numpy.save(path, numpy.ascontiguousarray(x))"
    );
    assert_eq!(
        error("x_nan.npy", "y_i8.npy"),
        "x_nan.npy: sample 1 holds NaN (element 3), a missing value\n\
         help: fill the value in, or add `impute mean`, `impute median` or `impute zero` \
         to the data item to fill missing features from the training part"
    );
    let structured = npy_bytes(
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
        &[0; 4],
    );
    let message = data::npy(
        &write("structured.npy", &structured),
        &fixture("y_i8.npy"),
        None,
        &FilePolicy::default(),
    );
    assert!(
        message
            .unwrap_err()
            .to_string()
            .contains("unsupported dtype '[('a', '<f4')]'")
    );
}

#[test]
fn doubles_beyond_the_f32_range_are_reported_with_their_value() {
    let values = [1.0f64, 1e300, 2.0, 3.0, 4.0]
        .map(f64::to_le_bytes)
        .concat();
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }";
    let path = write("big.npy", &npy_bytes(header, &values));
    let message = data::npy(&path, &fixture("y_i8.npy"), None, &FilePolicy::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        format!(
            "{}: element 1 is 1e300; expected finite numbers within the range of f32",
            path.display()
        )
    );
}

#[test]
fn features_and_targets_must_describe_the_same_samples() {
    assert_eq!(
        error("x_f4_le.npy", "y_i8_short.npy"),
        "x_f4_le.npy holds 5 samples but y_i8_short.npy holds 4 targets; \
         both files must describe the same samples"
    );
    assert_eq!(
        error("x_f4_le.npy", "y_neg.npy"),
        "y_neg.npy: label -1 in row 2 is out of range for 2 classes (0..=1)"
    );
    assert_eq!(
        error("x_f4_le.npy", "x_images.npy"),
        "x_images.npy: expected class labels of shape [n], found an array of shape [5, 2, 3, 3]"
    );
    let scalar = write(
        "scalar.npy",
        &npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
            &[0; 4],
        ),
    );
    let message = data::npy(&scalar, &fixture("y_i8.npy"), None, &FilePolicy::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.ends_with(
            "expected an array whose first dimension counts the samples, \
        found a 0-dimensional array (a single number)"
        ),
        "{message}"
    );
}

#[test]
fn corrupt_files_name_the_byte_and_what_belongs_there() {
    let good_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 2), }";
    let good = npy_bytes(good_header, &[0; 40]);
    let mut version_4 = good.clone();
    version_4[6] = 4;
    let mut huge_header = good.clone();
    huge_header[6] = 2;
    huge_header.splice(8..10, [0xff, 0xff, 0xff, 0x7f]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"\x93NUM".to_vec(),
            "byte 4: expected the 8-byte NPY preamble, found the end of the file",
        ),
        (
            b"PK\x03\x04\x14\x00\x00\x00".to_vec(),
            "byte 0: expected the NPY magic bytes 93 4e 55 4d 50 59 (\\x93NUMPY), found 50 4b 03 04 14 00",
        ),
        (
            version_4,
            "byte 6: expected format version 1, 2 or 3, found format version 4.0",
        ),
        (
            huge_header,
            "byte 8: expected a header of at most 1048576 bytes, found a header length of 2147483647 bytes",
        ),
        (
            good[..40].to_vec(),
            "byte 40: expected the array header, found the end of the file",
        ),
        (
            good[..good.len() - 1].to_vec(),
            "file is truncated: header says 5 rows of 8 bytes, file holds 4",
        ),
        (
            [good.clone(), vec![9]].concat(),
            "byte 168: expected the end of the file after 5 rows of 8 bytes, found 1 further bytes",
        ),
        (
            npy_bytes("{'descr': '<f4', 'shape': (5, 2), }", &[0; 40]),
            "byte 10: expected a header with the keys 'descr', 'fortran_order' and 'shape', found \"{'descr': '<f4', 'shape': (5, 2), }\"",
        ),
        (
            npy_bytes(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (5, two), }",
                &[0; 40],
            ),
            "byte 64: expected a dimension size (a whole number), found 't'",
        ),
    ];
    for (bytes, expected) in cases {
        let path = write("bad.npy", &bytes);
        let message = data::npy(&path, &fixture("y_i8.npy"), None, &FilePolicy::default())
            .unwrap_err()
            .to_string();
        assert_eq!(message, format!("{}: {expected}", path.display()));
    }
}

#[test]
fn damaged_files_give_errors_never_panics() {
    let mut rng = Rng::new(31);
    let original = std::fs::read(fixture("x_f8_be.npy")).unwrap();
    for _ in 0..400 {
        let mut bytes = original.clone();
        match rng.below(3) {
            0 => bytes.truncate(rng.below(bytes.len())),
            1 => {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next_u64() as u8;
            }
            _ => bytes.extend((0..rng.below(8) + 1).map(|_| rng.next_u64() as u8)),
        }
        let path = write("fuzz.npy", &bytes);
        match data::npy(&path, &fixture("y_i8.npy"), None, &FilePolicy::default()) {
            Ok(dataset) => dataset.validate().unwrap(),
            Err(error) => assert!(error.to_string().contains("fuzz.npy"), "{error}"),
        }
    }
}

#[test]
fn a_nan_feature_is_kept_as_missing_when_asked_and_an_infinity_never_is() {
    let kept = data::npy_with_missing(
        &fixture("x_nan.npy"),
        &fixture("y_i8.npy"),
        None,
        true,
        &FilePolicy::default(),
    )
    .unwrap();
    let nan: Vec<usize> = (0..kept.features().len())
        .filter(|&i| kept.features()[i].is_nan())
        .collect();
    assert_eq!(nan, [3]);
    let infinite = npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
        &f32::INFINITY.to_le_bytes(),
    );
    let labels = npy_bytes(
        "{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }",
        &[0],
    );
    let message = data::npy_with_missing(
        &write("x_inf.npy", &infinite),
        &write("y_one.npy", &labels),
        None,
        true,
        &FilePolicy::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("element 0 is inf"), "{message}");
}
