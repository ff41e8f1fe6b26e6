//! IDX loading (MNIST's format): plain and gzip files, every element type, and clear errors —
//! never a panic or a huge allocation — for truncated, corrupt or lying files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dlc::data::{self, DataError, FilePolicy, Targets};
use dlc::rng::Rng;
use flate2::Compression;
use flate2::write::GzEncoder;

const FIXTURES: &str = "tests/fixtures/data/idx";

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// Writes `content` to a file called `name` in a folder of its own (tests run in parallel
/// and reuse names) and returns its path.
fn write(name: &str, content: &[u8]) -> PathBuf {
    static NEXT_FOLDER: AtomicUsize = AtomicUsize::new(0);
    let folder = NEXT_FOLDER.fetch_add(1, Ordering::Relaxed).to_string();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("data_idx")
        .join(folder)
        .join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// An IDX file: magic with `type_code`, big-endian dimensions, then `data` as given.
fn idx_bytes(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The message of loading `images` with `labels`, both written under the given names, with
/// the written paths shortened back to those names.
fn error_for(images: (&str, &[u8]), labels: (&str, &[u8])) -> String {
    let image_path = write(images.0, images.1);
    let label_path = write(labels.0, labels.1);
    let message = data::idx(&image_path, &label_path, None, &FilePolicy::default())
        .unwrap_err()
        .to_string();
    message
        .replace(&image_path.display().to_string(), images.0)
        .replace(&label_path.display().to_string(), labels.0)
}

fn good_labels() -> Vec<u8> {
    idx_bytes(0x08, &[3], &[7, 0, 9])
}

fn good_images() -> Vec<u8> {
    idx_bytes(0x08, &[3, 2, 3], &(0..18).collect::<Vec<u8>>())
}

/// The pixels of the fixture images: image i holds 10 i + 0..6.
fn fixture_pixels() -> Vec<f32> {
    (0..3)
        .flat_map(|i| (0..6).map(move |p| (10 * i + p) as f32))
        .collect()
}

#[test]
fn unsigned_byte_images_keep_raw_values_and_gain_a_channel_dimension() {
    let dataset = data::idx(
        &fixture("images.idx"),
        &fixture("labels.idx"),
        None,
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(dataset.sample_shape(), [1, 2, 3]);
    assert_eq!(dataset.features(), fixture_pixels());
    assert_eq!(
        *dataset.targets(),
        Targets::Classes {
            labels: vec![7, 0, 9],
            classes: 10
        }
    );
}

#[test]
fn gzip_files_are_detected_by_their_magic_bytes() {
    let plain = data::idx(
        &fixture("images.idx"),
        &fixture("labels.idx"),
        None,
        &FilePolicy::default(),
    )
    .unwrap();
    let gz = data::idx(
        &fixture("images.idx.gz"),
        &fixture("labels.idx.gz"),
        None,
        &FilePolicy::default(),
    )
    .unwrap();
    let mixed = data::idx(
        &fixture("images.idx.gz"),
        &fixture("labels.idx"),
        None,
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(gz, plain);
    assert_eq!(mixed, plain);
}

#[test]
fn float_and_signed_element_types_are_read_big_endian() {
    let floats = data::idx(
        &fixture("images_f32.idx"),
        &fixture("labels.idx"),
        None,
        &FilePolicy::default(),
    )
    .unwrap();
    let quarter: Vec<f32> = fixture_pixels().iter().map(|p| p / 4.0).collect();
    assert_eq!(floats.features(), quarter);

    let signed = data::idx(
        &fixture("images_i16.idx"),
        &fixture("labels_i32.idx"),
        None,
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(signed.sample_shape(), [6]);
    let shifted: Vec<f32> = fixture_pixels().iter().map(|p| p - 30.0).collect();
    assert_eq!(signed.features(), shifted);
    assert_eq!(
        *signed.targets(),
        Targets::Classes {
            labels: vec![1, 2, 3],
            classes: 4
        }
    );

    let images = idx_bytes(
        0x0E,
        &[1, 1, 1, 2],
        &[1.5f64, -2.0].map(f64::to_be_bytes).concat(),
    );
    let labels = idx_bytes(0x09, &[1], &[2]);
    let dataset = data::idx(
        &write("f64.idx", &images),
        &write("i8.idx", &labels),
        None,
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(
        (dataset.features(), dataset.sample_shape()),
        (&[1.5, -2.0][..], &[1, 1, 2][..])
    );
}

#[test]
fn a_truncated_file_says_how_much_it_holds() {
    let labels = idx_bytes(0x08, &[60000], &vec![1; 59998]);
    let images = idx_bytes(0x08, &[60000, 1, 1], &vec![0; 60000]);
    assert_eq!(
        error_for(("images.idx", &images), ("labels.idx", &labels)),
        "labels.idx: file is truncated: header says 60000 items, file holds 59998"
    );
    let short_images = &good_images()[..good_images().len() - 1];
    assert_eq!(
        error_for(("images.idx", short_images), ("labels.idx", &good_labels())),
        "images.idx: file is truncated: header says 3 items of 6 bytes, file holds 2"
    );
    assert_eq!(
        error_for(
            ("images.idx.gz", &gzip(short_images)),
            ("labels.idx", &good_labels())
        ),
        "images.idx.gz: file is truncated: header says 3 items of 6 bytes, file holds 2"
    );
}

#[test]
fn a_header_announcing_more_than_memory_is_rejected_before_allocating() {
    // 2^32-1 images of 2^16-1 bytes: the product fits in u64 but not in memory, and the file
    // holds a few bytes. A loader that trusted the header would abort allocating 281 TB.
    let lying = idx_bytes(0x08, &[u32::MAX, 255, 257], &[1, 2, 3]);
    let lying_labels = idx_bytes(0x08, &[u32::MAX], &[1, 2, 3]);
    let message = error_for(("lying.idx", &lying), ("labels.idx", &lying_labels));
    assert_eq!(
        message,
        "lying.idx: file is truncated: header says 4294967295 items of 65535 bytes, file holds 0"
    );
    // A gzip file cannot hold it either: deflate inflates at most 1032-fold.
    let lying_gz = gzip(&lying);
    let message = error_for(("lying.idx.gz", &lying_gz), ("labels.idx", &lying_labels));
    assert!(
        message.starts_with(
            "lying.idx.gz: byte 16: the IDX header is implausible: it announces 4294967295 \
             items of 65535 bytes (281,470,681,677,825 bytes (256.0 TiB)), but a gzip file of"
        ),
        "{message}"
    );
    // Dimensions whose product overflows 64 bits.
    let overflowing = idx_bytes(0x0D, &[u32::MAX; 4], &[]);
    assert_eq!(
        error_for(("huge.idx", &overflowing), ("labels.idx", &good_labels())),
        "huge.idx: byte 4: the IDX header is implausible: dimensions [4294967295, 4294967295, \
         4294967295, 4294967295] would take more than 2^64 bytes; the file is corrupt or not \
         an IDX file"
    );
}

#[test]
fn corrupt_headers_name_the_byte_and_what_belongs_there() {
    let labels = good_labels();
    let cases: [(&[u8], &str); 6] = [
        (
            b"",
            "byte 0: expected a 4-byte IDX header, found the end of the file",
        ),
        (
            b"PK\x03\x04",
            "byte 0: expected 0x00 0x00, the start of an IDX file, found 0x50 0x4b",
        ),
        (
            b"\0\0\x08\x03\0\0\0\x03\0\0",
            "byte 10: expected 3 dimension sizes, found the end of the file",
        ),
        (
            b"\0\0\x08\0",
            "byte 3: expected at least 1 dimension, found 0 dimensions",
        ),
        (
            b"\0\0\x0a\x01\0\0\0\x01\x05",
            "unsupported dtype 'IDX type 0x0a' (expected a float or integer type)",
        ),
        (
            &[0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3, 4, 5],
            "byte 11: expected the end of the file after 3 items, found 2 further bytes",
        ),
    ];
    for (bytes, expected) in cases {
        let message = error_for(("bad.idx", bytes), ("labels.idx", &labels));
        assert_eq!(message, format!("bad.idx: {expected}"));
    }
}

#[test]
fn images_and_labels_must_agree() {
    let two_labels = idx_bytes(0x08, &[2], &[1, 2]);
    assert_eq!(
        error_for(("images.idx", &good_images()), ("labels.idx", &two_labels)),
        "images.idx holds 3 samples but labels.idx holds 2 targets; \
         both files must describe the same samples"
    );
    let matrix = idx_bytes(0x08, &[3, 1], &[1, 2, 3]);
    assert_eq!(
        error_for(("images.idx", &good_images()), ("labels.idx", &matrix)),
        "labels.idx: expected a 1-D array with one label per image, \
         found an array of dimensions [3, 1]"
    );
    let float_labels = idx_bytes(
        0x0D,
        &[3],
        &[0.0f32, 1.0, 2.0].map(f32::to_be_bytes).concat(),
    );
    assert_eq!(
        error_for(
            ("images.idx", &good_images()),
            ("labels.idx", &float_labels)
        ),
        "labels.idx: expected integer class labels, found f32 values"
    );
    let negative = idx_bytes(0x09, &[3], &[1, 0xff, 0]);
    assert_eq!(
        error_for(("images.idx", &good_images()), ("labels.idx", &negative)),
        "labels.idx: label -1 in row 1 is out of range for 2 classes (0..=1)"
    );
}

#[test]
fn nan_pixels_are_rejected_with_their_index() {
    let mut pixels = [0.5f32; 6];
    pixels[4] = f32::NAN;
    let images = idx_bytes(0x0D, &[1, 2, 3], &pixels.map(f32::to_be_bytes).concat());
    let labels = idx_bytes(0x08, &[1], &[0]);
    assert_eq!(
        error_for(("nan.idx", &images), ("one.idx", &labels)),
        "nan.idx: element 4 is NaN; expected finite numbers within the range of f32"
    );
}

#[test]
fn a_missing_file_is_an_io_error_with_its_path() {
    let error = data::idx(
        Path::new("nowhere/images.idx"),
        &fixture("labels.idx"),
        None,
        &FilePolicy::default(),
    )
    .unwrap_err();
    assert!(matches!(error, DataError::Io { .. }));
    assert!(
        error
            .to_string()
            .starts_with("nowhere/images.idx: cannot read the file")
    );
}

#[test]
fn damaged_files_give_errors_never_panics() {
    let mut rng = Rng::new(21);
    let originals = [good_images(), gzip(&good_images())];
    let labels = write("fuzz_labels.idx", &good_labels());
    for round in 0..400 {
        let mut bytes = originals[round % 2].clone();
        match rng.below(3) {
            0 => bytes.truncate(rng.below(bytes.len())),
            1 => {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next_u64() as u8;
            }
            _ => bytes.extend((0..rng.below(8) + 1).map(|_| rng.next_u64() as u8)),
        }
        let path = write("fuzz.idx", &bytes);
        match data::idx(&path, &labels, None, &FilePolicy::default()) {
            Ok(dataset) => dataset.validate().unwrap(),
            Err(error) => assert!(error.to_string().contains("fuzz.idx"), "{error}"),
        }
    }
}
