//! Loading an image/label pair in the IDX format (the format MNIST and Fashion-MNIST ship in),
//! plain or gzip-compressed.
//!
//! Layout: two zero bytes, an element-type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32,
//! 0x0D f32, 0x0E f64), a dimension-count byte, one big-endian `u32` per dimension, then the
//! elements, big-endian, in row-major order.
//!
//! Both headers are read and checked against each other, against the files' lengths and
//! against the memory limit before any element is: a small file that announces gigabytes is
//! refused at once, and no more is ever inflated than the headers announce.

use std::path::Path;

use super::alloc::{Budget, bytes_of};
use super::array::{Layout, Scalar, Source};
use super::files::FilePolicy;
use super::{DataError, Dataset, Targets};

/// Reads images and their labels. Images of dimensions `[n, h, w]` become samples of shape
/// `[1, h, w]` (one channel); `[n, c, h, w]` keeps `[c, h, w]`; `[n, k]` gives `[k]`. Pixel
/// values are kept as stored (e.g. 0..=255); scaling is a separate transform. Labels must be a
/// 1-D integer array with one label per image. With `classes`, every label must be below it;
/// without, the number of classes is the largest label plus one.
pub fn idx(
    images: &Path,
    labels: &Path,
    classes: Option<usize>,
    policy: &FilePolicy,
) -> Result<Dataset, DataError> {
    let (mut image_source, image_layout) = read_header(images, policy)?;
    let (mut label_source, label_layout) = read_header(labels, policy)?;
    let count = image_layout.shape[0];
    let sample_shape = match &image_layout.shape[1..] {
        [] => vec![1],
        [h, w] => vec![1, *h, *w],
        rest => rest.to_vec(),
    };
    if label_layout.shape.len() != 1 {
        return Err(DataError::Content {
            path: label_source.name.clone(),
            found: format!("an array of dimensions {:?}", label_layout.shape),
            expected: "a 1-D array with one label per image".into(),
        });
    }
    if label_layout.shape[0] != count {
        return Err(DataError::CountMismatch {
            features_path: image_source.name.clone(),
            features: count,
            targets_path: label_source.name.clone(),
            targets: label_layout.shape[0],
        });
    }
    image_layout.check_size(&image_source, "IDX")?;
    label_layout.check_size(&label_source, "IDX")?;
    let image_name = image_source.name.clone();
    let what =
        || format!("{count} images of shape {sample_shape:?} ({image_name} with its labels)");
    let mut budget = Budget::new(policy.memory_limit());
    // Decoded: an f32 per element and a u32 per label.
    let decoded = bytes_of::<f32>(count)
        .and_then(|labels| image_layout.elements().checked_mul(4)?.checked_add(labels));
    budget.check(decoded, &what)?;
    let features = image_layout.read_f32(&mut image_source, &mut budget, &what)?;
    let (labels, classes, classes_from) =
        label_layout.read_labels(&mut label_source, classes, &mut budget, &what)?;
    let mut dataset = Dataset::new(features, sample_shape, Targets::Classes { labels, classes })?;
    dataset.classes_from = classes_from;
    Ok(dataset)
}

/// Opens one IDX file (plain or gzip) and reads its header, up to the first element.
fn read_header(path: &Path, policy: &FilePolicy) -> Result<(Source, Layout), DataError> {
    let mut source = Source::open(path, policy)?;
    let name = source.name.clone();
    let mut magic = [0u8; 4];
    source.read_header(&mut magic, "a 4-byte IDX header")?;
    let format_error = |offset: u64, found: String, expected: &str| DataError::Format {
        path: name.clone(),
        offset,
        found,
        expected: expected.to_string(),
    };
    if magic[..2] != [0, 0] {
        return Err(format_error(
            0,
            format!("0x{:02x} 0x{:02x}", magic[0], magic[1]),
            "0x00 0x00, the start of an IDX file",
        ));
    }
    let scalar = match magic[2] {
        0x08 => Scalar::U8,
        0x09 => Scalar::I8,
        0x0B => Scalar::I16,
        0x0C => Scalar::I32,
        0x0D => Scalar::F32,
        0x0E => Scalar::F64,
        other => {
            return Err(DataError::UnsupportedDtype {
                path: name,
                dtype: format!("IDX type 0x{other:02x}"),
            });
        }
    };
    let rank = usize::from(magic[3]);
    if rank == 0 {
        return Err(format_error(
            3,
            "0 dimensions".into(),
            "at least 1 dimension",
        ));
    }
    let mut dim_bytes = vec![0u8; rank * 4];
    source.read_header(&mut dim_bytes, &format!("{rank} dimension sizes"))?;
    let shape: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let data_offset = 4 + 4 * rank as u64;
    let layout = Layout::new(
        &source,
        "IDX",
        4,
        shape,
        (scalar, true),
        data_offset,
        "items",
    )?;
    Ok((source, layout))
}
