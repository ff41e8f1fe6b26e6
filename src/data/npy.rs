//! Loading features and targets from NumPy `.npy` files (format versions 1, 2 and 3).
//!
//! Layout: the magic string `\x93NUMPY`, a major and minor version byte, the header length
//! (`u16` little-endian in version 1, `u32` in versions 2 and 3), then the header — a Python
//! dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (150, 4), }` —
//! and the raw elements.

use std::path::Path;

use super::alloc::Budget;
use super::array::{Layout, Scalar, Source};
use super::error::excerpt;
use super::files::FilePolicy;
use super::npy_header::{Header, parse_header};
use super::{DataError, Dataset, MissingHelp, Targets};

/// Headers longer than this are treated as corrupt rather than read (numpy itself refuses
/// headers over 10 000 bytes by default).
const MAX_HEADER_LEN: usize = 1 << 20;

/// Reads features from `x` and targets from `y`.
///
/// `x`'s first dimension counts the samples; the rest is the sample shape (`[1]` if `x` is
/// 1-D). `y` holds one target per sample: a 1-D integer (or bool) array gives class labels
/// (with `classes`, each must be below it; without, there are as many classes as the
/// largest label plus one); a 1-D float array gives regression values of width 1, a 2-D
/// float array `[n, k]` values of width `k`. Both headers are checked against each other,
/// the files' lengths and the memory limit before any element is read.
pub fn npy(
    x: &Path,
    y: &Path,
    classes: Option<usize>,
    policy: &FilePolicy,
) -> Result<Dataset, DataError> {
    npy_with_missing(x, y, classes, false, policy)
}

/// As [`npy`]; with `keep_missing`, a NaN in `x` is a missing value kept as
/// NaN for `impute` to fill, and without, an error naming its sample. A NaN
/// in `y` is always an error.
pub fn npy_with_missing(
    x: &Path,
    y: &Path,
    classes: Option<usize>,
    keep_missing: bool,
    policy: &FilePolicy,
) -> Result<Dataset, DataError> {
    let (mut x_source, x_layout) = read_header(x, policy)?;
    let (mut y_source, y_layout) = read_header(y, policy)?;
    let Some(&count) = x_layout.shape.first() else {
        return Err(DataError::Content {
            path: x_source.name.clone(),
            found: "a 0-dimensional array (a single number)".into(),
            expected: "an array whose first dimension counts the samples".into(),
        });
    };
    let sample_shape = match &x_layout.shape[1..] {
        [] => vec![1],
        rest => rest.to_vec(),
    };
    let target_count = y_layout.shape.first().copied().unwrap_or(1);
    if target_count != count {
        return Err(DataError::CountMismatch {
            features_path: x_source.name.clone(),
            features: count,
            targets_path: y_source.name.clone(),
            targets: target_count,
        });
    }
    let labels = match (y_layout.scalar.is_float(), y_layout.shape.as_slice()) {
        (false, [_] | [_, 1]) => true,
        (true, [_]) => false,
        (true, [_, width]) if *width > 0 => false,
        (is_float, shape) => {
            let expected = if is_float {
                "regression targets of shape [n] or [n, k] with k >= 1"
            } else {
                "class labels of shape [n]"
            };
            return Err(DataError::Content {
                path: y_source.name.clone(),
                found: format!("an array of shape {shape:?}"),
                expected: expected.into(),
            });
        }
    };
    x_layout.check_size(&x_source, "NPY")?;
    y_layout.check_size(&y_source, "NPY")?;
    let names = format!("{} with {}", x_source.name, y_source.name);
    let what = || format!("{count} samples of shape {sample_shape:?} ({names})");
    let mut budget = Budget::new(policy.memory_limit());
    // Decoded: an f32 per feature, and an f32 or u32 per target.
    let decoded = x_layout
        .elements()
        .checked_add(y_layout.elements())
        .and_then(|n| n.checked_mul(4));
    budget.check(decoded, &what)?;
    let (features, first_nan) = x_layout.read_f32_keeping_nan(&mut x_source, &mut budget, &what)?;
    if let Some(index) = first_nan.filter(|_| !keep_missing) {
        return Err(DataError::MissingElement {
            path: x_source.name.clone(),
            sample: index / sample_shape.iter().product::<usize>().max(1),
            index,
            help: MissingHelp::Feature,
        });
    }
    let (targets, classes_from) = if labels {
        let (labels, classes, site) =
            y_layout.read_labels(&mut y_source, classes, &mut budget, &what)?;
        (Targets::Classes { labels, classes }, site)
    } else {
        let values = y_layout.read_f32(&mut y_source, &mut budget, &what)?;
        let width = y_layout.shape.get(1).copied().unwrap_or(1);
        (Targets::Values { values, width }, None)
    };
    let mut dataset = Dataset::new(features, sample_shape, targets)?;
    dataset.classes_from = classes_from;
    Ok(dataset)
}

/// Opens one `.npy` file (plain or gzip) and reads its header, up to the first element.
fn read_header(path: &Path, policy: &FilePolicy) -> Result<(Source, Layout), DataError> {
    let mut source = Source::open(path, policy)?;
    let name = source.name.clone();
    let format_error = |offset: u64, found: String, expected: &str| DataError::Format {
        path: name.clone(),
        offset,
        found,
        expected: expected.to_string(),
    };
    let mut preamble = [0u8; 8];
    source.read_header(&mut preamble, "the 8-byte NPY preamble")?;
    if &preamble[..6] != b"\x93NUMPY" {
        return Err(format_error(
            0,
            preamble[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
            "the NPY magic bytes 93 4e 55 4d 50 59 (\\x93NUMPY)",
        ));
    }
    let length_bytes = match preamble[6] {
        1 => 2,
        2 | 3 => 4,
        major => {
            let found = format!("format version {major}.{}", preamble[7]);
            return Err(format_error(6, found, "format version 1, 2 or 3"));
        }
    };
    let mut length = [0u8; 4];
    source.read_header(&mut length[..length_bytes], "the header length")?;
    let header_len = u32::from_le_bytes(length) as usize;
    if header_len > MAX_HEADER_LEN {
        return Err(format_error(
            8,
            format!("a header length of {header_len} bytes"),
            &format!("a header of at most {MAX_HEADER_LEN} bytes"),
        ));
    }
    let header_offset = 8 + length_bytes as u64;
    if source
        .file_len
        .is_some_and(|len| !source.gzip && header_offset + header_len as u64 > len)
    {
        // A plain file shorter than its header: no need to allocate the header to know.
        let held = source.file_len.unwrap_or(0);
        return Err(format_error(
            held,
            "the end of the file".into(),
            "the array header",
        ));
    }
    let mut header_bytes = vec![0u8; header_len];
    source.read_header(&mut header_bytes, "the array header")?;
    let Header {
        descr,
        fortran_order,
        shape,
    } = parse_header(&header_bytes).map_err(|(at, found, expected)| {
        format_error(header_offset + at as u64, found, &expected)
    })?;
    let element = parse_descr(&descr).ok_or_else(|| DataError::UnsupportedDtype {
        path: name.clone(),
        dtype: excerpt(&descr, 60),
    })?;
    if fortran_order && shape.len() > 1 {
        return Err(DataError::FortranOrder { path: name });
    }
    let data_offset = header_offset + header_len as u64;
    let layout = Layout::new(
        &source,
        "NPY",
        header_offset,
        shape,
        element,
        data_offset,
        "rows",
    )?;
    Ok((source, layout))
}

/// The element type and byte order of a numpy type string such as `<f4`, `>i8` or `|u1`.
fn parse_descr(descr: &str) -> Option<(Scalar, bool)> {
    let mut chars = descr.chars();
    let order = chars.next()?;
    let kind = chars.next()?;
    let size: usize = chars.as_str().parse().ok()?;
    let scalar = match (kind, size) {
        ('b', 1) => Scalar::Bool,
        ('u', 1) => Scalar::U8,
        ('i', 1) => Scalar::I8,
        ('u', 2) => Scalar::U16,
        ('i', 2) => Scalar::I16,
        ('u', 4) => Scalar::U32,
        ('i', 4) => Scalar::I32,
        ('u', 8) => Scalar::U64,
        ('i', 8) => Scalar::I64,
        ('f', 4) => Scalar::F32,
        ('f', 8) => Scalar::F64,
        _ => return None,
    };
    // numpy writes '<' or '>' for multi-byte types and '|' (order irrelevant) for single
    // bytes; '=' (the writer's native order) cannot be interpreted reliably.
    match (order, size) {
        ('<', _) => Some((scalar, false)),
        ('>', _) => Some((scalar, true)),
        ('|' | '=', 1) => Some((scalar, false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descr_strings_map_to_element_types_and_byte_orders() {
        assert_eq!(parse_descr("<f4"), Some((Scalar::F32, false)));
        assert_eq!(parse_descr(">f8"), Some((Scalar::F64, true)));
        assert_eq!(parse_descr("|u1"), Some((Scalar::U8, false)));
        assert_eq!(parse_descr("|b1"), Some((Scalar::Bool, false)));
        assert_eq!(parse_descr(">i2"), Some((Scalar::I16, true)));
        assert_eq!(parse_descr("<u8"), Some((Scalar::U64, false)));
        for unsupported in ["<c8", "<f2", "|S5", "<U3", "|f4", "=i4", "f4", "", "<i"] {
            assert_eq!(parse_descr(unsupported), None, "{unsupported}");
        }
    }
}
