//! Loading an image/label pair in the IDX format (the format MNIST and Fashion-MNIST ship in),
//! plain or gzip-compressed.
//!
//! Layout: two zero bytes, an element-type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32,
//! 0x0D f32, 0x0E f64), a dimension-count byte, one big-endian `u32` per dimension, then the
//! elements, big-endian, in row-major order.

use std::path::Path;

use super::array::{RawArray, Scalar, open, read_header, read_payload};
use super::{DataError, Dataset, Targets};

/// Reads images and their labels. Images of dimensions `[n, h, w]` become samples of shape
/// `[1, h, w]` (one channel); `[n, c, h, w]` keeps `[c, h, w]`; `[n, k]` gives `[k]`. Pixel
/// values are kept as stored (e.g. 0..=255); scaling is a separate transform. Labels must be a
/// 1-D integer array with one label per image; the number of classes is the largest label
/// plus one.
pub fn idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let image_array = read_idx(images)?;
    let label_array = read_idx(labels)?;
    let count = image_array.shape[0];
    let sample_shape = match &image_array.shape[1..] {
        [] => vec![1],
        [h, w] => vec![1, *h, *w],
        rest => rest.to_vec(),
    };
    if label_array.shape.len() != 1 {
        return Err(DataError::Content {
            path: label_array.path.clone(),
            found: format!("an array of dimensions {:?}", label_array.shape),
            expected: "a 1-D array with one label per image".into(),
        });
    }
    if label_array.shape[0] != count {
        return Err(DataError::CountMismatch {
            features_path: image_array.path.clone(),
            features: count,
            targets_path: label_array.path.clone(),
            targets: label_array.shape[0],
        });
    }
    let (labels, classes) = label_array.to_labels()?;
    let features = image_array.to_f32()?;
    Dataset::new(features, sample_shape, Targets::Classes { labels, classes })
}

/// Reads one IDX file (plain or gzip) into its dimensions and raw big-endian elements.
pub(crate) fn read_idx(path: &Path) -> Result<RawArray, DataError> {
    let name = path.display().to_string();
    let (mut reader, capacity_hint) = open(path)?;
    let mut magic = [0u8; 4];
    read_header(&mut reader, path, 0, &mut magic, "a 4-byte IDX header")?;
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
    read_header(
        &mut reader,
        path,
        4,
        &mut dim_bytes,
        &format!("{rank} dimension sizes"),
    )?;
    let shape: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let element_size = scalar.size() as u64;
    let item_size = shape[1..]
        .iter()
        .try_fold(element_size, |size, &d| size.checked_mul(d as u64))
        .ok_or_else(|| {
            format_error(
                4,
                format!("dimensions {shape:?}"),
                "dimensions whose size fits in memory",
            )
        })?;
    let unit = if rank == 1 {
        "items".to_string()
    } else {
        format!("items of {item_size} bytes")
    };
    let offset = 4 + 4 * rank as u64;
    let bytes = read_payload(
        &mut reader,
        path,
        offset,
        shape[0] as u64,
        item_size,
        &unit,
        capacity_hint,
    )?;
    Ok(RawArray {
        path: name,
        shape,
        scalar,
        big_endian: true,
        bytes,
    })
}
