//! The safetensors container: an 8-byte little-endian header length, a JSON
//! header (metadata under `__metadata__`, and per tensor its data type,
//! shape and `data_offsets` into the data), then the data.
//!
//! Read and written here rather than by the `safetensors` crate: writing, so
//! that the header's keys come in a fixed order and identical runs give
//! byte-identical files; reading, so that a damaged file's error names the
//! tensor and the byte range at fault, and a file larger than the caller can
//! use is refused before it is read whole. The files are ordinary
//! safetensors files: other readers read them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// A tensor as the file has it: F32 tensors with their values, others with
/// their data type only (they fit no dlc buffer).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTensor {
    pub dtype: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorFile {
    pub metadata: BTreeMap<String, String>,
    pub tensors: BTreeMap<String, StoredTensor>,
}

#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// The file is larger than `limit` bytes.
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// Not a well-formed safetensors file; says where.
    Corrupt(String),
    /// A value that is not finite, at `index` of `tensor`.
    NotFinite {
        tensor: String,
        index: Vec<usize>,
        value: f32,
    },
}

const LEN_BYTES: usize = 8;

/// The bytes of a safetensors file holding `tensors` (F32) and `metadata`,
/// tensors in name order.
pub fn encode(
    metadata: &BTreeMap<String, String>,
    tensors: &[(String, Vec<usize>, &[f32])],
) -> Result<Vec<u8>, crate::limits::AllocError> {
    let json = |s: &str| serde_json::Value::from(s).to_string();
    let mut order: Vec<&(String, Vec<usize>, &[f32])> = tensors.iter().collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let meta: Vec<String> = metadata
        .iter()
        .map(|(k, v)| format!("{}:{}", json(k), json(v)))
        .collect();
    let mut header = format!("{{\"__metadata__\":{{{}}}", meta.join(","));
    let mut offset = 0usize;
    for (name, shape, values) in &order {
        let end = offset + values.len() * 4;
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            json(name),
            dims.join(",")
        ));
        offset = end;
    }
    header.push('}');
    // Like the reference writer: the data starts 8-byte aligned.
    while !header.len().is_multiple_of(LEN_BYTES) {
        header.push(' ');
    }
    let mut out = crate::limits::alloc::with_capacity(
        LEN_BYTES + header.len() + offset,
        "the checkpoint being written",
    )?;
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header.as_bytes());
    for (_, _, values) in &order {
        out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    Ok(out)
}

/// Reads and decodes a file, refusing one larger than `limit` bytes before
/// reading it.
pub fn read(path: &Path, limit: u64) -> Result<TensorFile, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let size = file.metadata().map_err(ReadError::Io)?.len();
    read_from(file, Some(size), limit)
}

/// Reads and decodes a file already opened, of `size` bytes if known,
/// refusing one larger than `limit` bytes.
pub fn read_from(file: impl Read, size: Option<u64>, limit: u64) -> Result<TensorFile, ReadError> {
    let size = size.unwrap_or(0);
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(size as usize)
        .map_err(|_| ReadError::Io(std::io::ErrorKind::OutOfMemory.into()))?;
    // The file may grow between the size check and the read.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    decode(&bytes)
}

#[derive(serde::Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

pub fn decode(bytes: &[u8]) -> Result<TensorFile, ReadError> {
    let corrupt = |s: String| ReadError::Corrupt(s);
    let Some(len_bytes) = bytes.first_chunk::<LEN_BYTES>() else {
        return Err(corrupt(format!(
            "it is {} bytes long, too short for the 8-byte header length",
            bytes.len()
        )));
    };
    let header_len = u64::from_le_bytes(*len_bytes);
    let rest = (bytes.len() - LEN_BYTES) as u64;
    if header_len > rest {
        return Err(corrupt(format!(
            "its header length {header_len} runs past the end of the file ({rest} bytes follow it)"
        )));
    }
    let data_start = LEN_BYTES + header_len as usize;
    let header = std::str::from_utf8(&bytes[LEN_BYTES..data_start])
        .map_err(|e| corrupt(format!("its header is not UTF-8 text ({e})")))?;
    let mut entries: BTreeMap<String, serde_json::Value> = serde_json::from_str(header)
        .map_err(|e| corrupt(format!("its header is not a JSON object ({e})")))?;
    let metadata: BTreeMap<String, String> = match entries.remove("__metadata__") {
        None => BTreeMap::new(),
        Some(v) => serde_json::from_value(v)
            .map_err(|e| corrupt(format!("its `__metadata__` is not a map of strings ({e})")))?,
    };
    let data = &bytes[data_start..];
    let mut placed = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let entry: Entry = serde_json::from_value(value).map_err(|e| {
            corrupt(format!(
                "tensor `{name}`: its header entry is malformed ({e})"
            ))
        })?;
        let [begin, end] = entry.data_offsets;
        let range = format!("data_offsets [{begin}, {end}]");
        let size = dtype_size(&entry.dtype).ok_or_else(|| {
            corrupt(format!(
                "tensor `{name}`: unknown data type `{}`",
                entry.dtype
            ))
        })?;
        let need = entry
            .shape
            .iter()
            .try_fold(size, |n, &d| n.checked_mul(d))
            .ok_or_else(|| {
                corrupt(format!(
                    "tensor `{name}`: shape {:?} is too large",
                    entry.shape
                ))
            })?;
        if end < begin || end - begin != need {
            return Err(corrupt(format!(
                "tensor `{name}`: {} {:?} needs {need} bytes, but its {range} span {}",
                entry.dtype,
                entry.shape,
                if end < begin {
                    "a negative length".to_string()
                } else {
                    format!("{} bytes", end - begin)
                }
            )));
        }
        if end > data.len() {
            return Err(corrupt(format!(
                "tensor `{name}`: its {range} run past the end of the data ({} bytes)",
                data.len()
            )));
        }
        placed.push((begin, end, name, entry));
    }
    placed.sort_by_key(|p| (p.0, p.1));
    let mut expected = 0;
    let mut previous: Option<&str> = None;
    for (begin, end, name, _) in &placed {
        if *begin != expected {
            let after = previous.map_or("at the start of the data".to_string(), |p| {
                format!("where `{p}` ends")
            });
            return Err(corrupt(format!(
                "tensor `{name}`: its data_offsets [{begin}, {end}] should start at byte {expected}, {after} ({})",
                if *begin < expected {
                    "the tensors overlap"
                } else {
                    "there is a gap"
                }
            )));
        }
        expected = *end;
        previous = Some(name);
    }
    if expected != data.len() {
        return Err(corrupt(format!(
            "{} bytes of data follow the last tensor{}",
            data.len() - expected,
            previous.map_or(String::new(), |p| format!(
                " (`{p}`, which ends at byte {expected})"
            ))
        )));
    }
    let mut tensors = BTreeMap::new();
    for (begin, end, name, entry) in placed {
        let values = if entry.dtype == "F32" {
            let values: Vec<f32> = data[begin..end]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(ReadError::NotFinite {
                    index: unravel(i, &entry.shape),
                    value: values[i],
                    tensor: name,
                });
            }
            values
        } else {
            Vec::new()
        };
        let tensor = StoredTensor {
            dtype: entry.dtype,
            shape: entry.shape,
            values,
        };
        tensors.insert(name, tensor);
    }
    Ok(TensorFile { metadata, tensors })
}

/// The first value that is not finite: its index in `shape` and the value.
pub fn first_non_finite(values: &[f32], shape: &[usize]) -> Option<(Vec<usize>, f32)> {
    let i = values.iter().position(|v| !v.is_finite())?;
    Some((unravel(i, shape), values[i]))
}

/// The multi-dimensional index of the `flat`-th element (row-major).
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            index[i] = flat % d;
            flat /= d;
        }
    }
    index
}

/// Bytes per element of the safetensors data types.
fn dtype_size(dtype: &str) -> Option<usize> {
    Some(match dtype {
        "F64" | "I64" | "U64" | "C64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 1,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let meta = BTreeMap::from([("b".to_string(), "2".to_string()), ("a".into(), "1".into())]);
        let w = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [0.5f32];
        encode(
            &meta,
            &[
                ("w".to_string(), vec![2, 3], &w[..]),
                ("b".to_string(), vec![1], &b[..]),
            ],
        )
        .unwrap()
    }

    #[test]
    fn what_is_written_reads_back_and_the_reference_reader_agrees() {
        let bytes = sample();
        let file = decode(&bytes).unwrap();
        assert_eq!(file.metadata["a"], "1");
        assert_eq!(file.tensors["w"].shape, [2, 3]);
        assert_eq!(file.tensors["w"].values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("b").unwrap().data(), 0.5f32.to_le_bytes());
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(header.metadata().as_ref().unwrap()["b"], "2");
    }

    #[test]
    fn a_bad_byte_range_names_the_tensor() {
        let mut bytes = sample();
        let (good, bad) = (b"\"data_offsets\":[4,28]", b"\"data_offsets\":[4,24]");
        let at = bytes.windows(good.len()).position(|w| w == good).unwrap();
        bytes[at..at + bad.len()].copy_from_slice(bad);
        let err = match decode(&bytes) {
            Err(ReadError::Corrupt(s)) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err,
            "tensor `w`: F32 [2, 3] needs 24 bytes, but its data_offsets [4, 24] span 20 bytes"
        );
    }

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(5, &[2, 3]), [1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
    }
}
