//! Memory in the data path: sizes that come from a program or a file are checked against the
//! limit before anything is allocated, and a file whose headers lie (a gzip bomb, sizes that
//! disagree) is refused before it is inflated.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dlc::data::{self, CsvOptions, DataError, FilePolicy, MemoryLimit};
use flate2::Compression;
use flate2::write::GzEncoder;

const GIB: u64 = 1 << 30;

fn write(name: &str, content: &[u8]) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("data_limits")
        .join(NEXT.fetch_add(1, Ordering::Relaxed).to_string())
        .join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

fn limited(bytes: u64) -> FilePolicy {
    FilePolicy {
        max_alloc_bytes: Some(bytes),
        ..FilePolicy::default()
    }
}

fn idx_header(type_code: u8, dims: &[u32]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A gzip file of `header` followed by `mebibytes` MiB of zeros: one gzip member for the
/// header, then the same member of 1 MiB of zeros again and again (a reader inflates
/// concatenated members as one stream), so that building it costs one compression.
fn gzip_of_zeros(header: &[u8], mebibytes: usize) -> Vec<u8> {
    let member = gzip(&vec![0u8; 1 << 20]);
    let mut bytes = gzip(header);
    for _ in 0..mebibytes {
        bytes.extend_from_slice(&member);
    }
    bytes
}

#[test]
fn built_in_sets_too_large_for_the_limit_are_refused_before_generation() {
    let limit = MemoryLimit::bytes(GIB);
    let message = data::random_images(60000, &[1, 1000, 1000], 10, 0, limit)
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "random_images(points: 60000, shape: [1, 1000, 1000], classes: 10) would take \
         240,000,720,000 bytes (223.5 GiB), more than the 1,073,741,824 bytes (1.0 GiB) the \
         memory limit leaves for data; use fewer or smaller samples, or raise the limit \
         (`dlc --max-memory`, `Limits::max_memory` in the library)"
    );
    let error = data::blobs(1000, 3, 1_000_000_000, 1.0, 0, limit).unwrap_err();
    assert!(
        error.to_string().starts_with(
            "blobs(points: 1000, classes: 3, features: 1000000000) would take 4,012,000,012,000"
        ),
        "{error}"
    );
    let error = data::spirals(1_000_000_000, 3, 0.2, 0, limit).unwrap_err();
    assert!(matches!(error, DataError::DataTooLarge { .. }), "{error}");
    let error = data::shapes(1_000_000, 1000, 0, limit).unwrap_err();
    assert!(matches!(error, DataError::DataTooLarge { .. }), "{error}");
    for error in [
        data::xor(usize::MAX / 2, 0.0, 0, limit).unwrap_err(),
        data::moons(usize::MAX / 2, 0.0, 0, limit).unwrap_err(),
        data::sine(usize::MAX / 2, 0.0, 0, limit).unwrap_err(),
    ] {
        assert!(matches!(error, DataError::DataTooLarge { .. }), "{error}");
    }
}

#[test]
fn without_a_limit_sizes_beyond_memory_are_errors_not_aborts() {
    // More bytes than a 64-bit size holds: no allocation is even attempted.
    let error = data::spirals(usize::MAX / 2, 3, 0.2, 0, MemoryLimit::NONE).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "spirals(points: {}, classes: 3): cannot allocate more than 2^64 bytes; the machine \
             does not have that much memory free",
            usize::MAX / 2
        )
    );
    let error = data::random_images(usize::MAX, &[usize::MAX], 2, 0, MemoryLimit::NONE);
    assert!(matches!(error, Err(DataError::OutOfMemory { .. })));
}

#[test]
fn a_set_exactly_at_the_limit_is_generated() {
    // 100 points: 2 f32 features, a u32 label and a u64 for the shuffle each.
    let exact = 100 * (8 + 4 + 8);
    let data = data::moons(100, 0.1, 0, MemoryLimit::bytes(exact)).unwrap();
    assert_eq!(data.len(), 100);
    assert!(data::moons(100, 0.1, 0, MemoryLimit::bytes(exact - 1)).is_err());
    // The same samples as without a limit.
    assert_eq!(data, data::moons(100, 0.1, 0, MemoryLimit::NONE).unwrap());
}

#[test]
fn a_csv_file_stops_being_read_at_the_limit() {
    let rows = "1.5,2.5,3.5,0\n".repeat(100_000);
    let path = write("big.csv", format!("a,b,c,y\n{rows}").as_bytes());
    let error = data::csv(&path, &CsvOptions::label("y"), &limited(100_000)).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("the samples of {} would take", path.display())),
        "{message}"
    );
    assert!(message.contains("more than the 100,000 bytes"), "{message}");
    // 100,000 rows of 3 features and a label: 1.6 MB decoded fits a 2 MB limit.
    let dataset = data::csv(&path, &CsvOptions::label("y"), &limited(2_000_000)).unwrap();
    assert_eq!(dataset.len(), 100_000);
}

#[test]
fn idx_headers_are_checked_against_each_other_before_inflating() {
    // The bomb of the report: a few megabytes of gzip announcing 4 GiB of labels, beside
    // images that announce 3. Inflating the labels first took 15 s and 4 GB.
    let labels = gzip_of_zeros(&idx_header(0x08, &[u32::MAX]), 4096);
    assert!(labels.len() < 8 << 20, "{} bytes", labels.len());
    let labels = write("labels.idx.gz", &labels);
    let images = write(
        "images.idx",
        &[idx_header(0x08, &[3, 1, 1]), vec![0; 3]].concat(),
    );
    let started = Instant::now();
    let error = data::idx(&images, &labels, None, &limited(GIB)).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            error,
            DataError::CountMismatch {
                features: 3,
                targets: 4294967295,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn idx_sizes_over_the_limit_are_refused_before_reading() {
    // Images and labels agree, and the gzip could hold them: the limit decides.
    let count = 4 << 20;
    let images = gzip_of_zeros(&idx_header(0x08, &[count, 1, 1]), 4);
    let labels = gzip_of_zeros(&idx_header(0x08, &[count]), 4);
    let (images, labels) = (write("i.idx.gz", &images), write("l.idx.gz", &labels));
    let error = data::idx(&images, &labels, Some(10), &limited(1 << 20)).unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "4194304 images of shape [1, 1, 1] ({} with its labels) would take 33,554,432 bytes",
            images.display()
        )),
        "{error}"
    );
    let loaded = data::idx(&images, &labels, Some(10), &limited(32 << 20)).unwrap();
    assert_eq!(loaded.len(), count as usize);
}

#[test]
fn a_gzip_stream_holding_more_than_announced_is_not_inflated_to_its_end() {
    // 3 labels announced, a gigabyte of zeros after them.
    let labels = gzip_of_zeros(&idx_header(0x08, &[3]), 1024);
    let labels = write("more.idx.gz", &labels);
    let images = write(
        "images.idx",
        &[idx_header(0x08, &[3, 1, 1]), vec![0; 3]].concat(),
    );
    let started = Instant::now();
    let message = data::idx(&images, &labels, None, &FilePolicy::default())
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        message,
        format!(
            "{}: byte 11: expected the end of the file after 3 items, found more than 4096 \
             further bytes",
            labels.display()
        )
    );
}

#[test]
fn a_corrupt_gzip_stream_says_so_with_the_offset() {
    let mut bytes = gzip(&[idx_header(0x08, &[3]), vec![0; 3]].concat());
    // Damage the deflate data after the 10-byte gzip header.
    for b in &mut bytes[10..14] {
        *b = 0xff;
    }
    let labels = write("bad.idx.gz", &bytes);
    let images = write(
        "images.idx",
        &[idx_header(0x08, &[3, 1, 1]), vec![0; 3]].concat(),
    );
    let message = data::idx(&images, &labels, None, &FilePolicy::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with(&format!("{}: not valid gzip data (", labels.display())),
        "{message}"
    );
    assert!(
        message.ends_with(
            "after 0 decompressed bytes; the file is corrupt, or it is not gzip-compressed"
        ),
        "{message}"
    );
}

#[test]
fn npy_headers_announcing_more_than_the_file_holds_are_refused_at_once() {
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{header:<117}\n");
    bytes.extend((padded.len() as u16).to_le_bytes());
    bytes.extend(padded.as_bytes());
    let x = write("x.npy", &bytes);
    let started = Instant::now();
    let message = data::npy(&x, &x, None, &FilePolicy::default())
        .unwrap_err()
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        message,
        format!(
            "{}: file is truncated: header says 1000000000 rows of 8000 bytes, file holds 0",
            x.display()
        )
    );
}
