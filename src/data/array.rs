//! Shared by the binary loaders (IDX and NPY): opening a file that may be gzip-compressed,
//! reading a payload whose size a header announces without trusting that header for
//! allocation, and decoding typed elements of either byte order into features or labels.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::{DataError, MAX_CLASSES};

/// The element types the binary formats can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
}

impl Scalar {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Scalar::Bool | Scalar::U8 | Scalar::I8 => 1,
            Scalar::U16 | Scalar::I16 => 2,
            Scalar::U32 | Scalar::I32 | Scalar::F32 => 4,
            Scalar::U64 | Scalar::I64 | Scalar::F64 => 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Scalar::F32 | Scalar::F64)
    }
}

/// An array read from a file: its shape, element type and raw element bytes.
pub(crate) struct RawArray {
    pub path: String,
    pub shape: Vec<usize>,
    pub scalar: Scalar,
    pub big_endian: bool,
    pub bytes: Vec<u8>,
}

impl RawArray {
    /// The elements as `f32`; NaN or infinite values are an error.
    pub fn to_f32(&self) -> Result<Vec<f32>, DataError> {
        if self.scalar == Scalar::U8 {
            // The common case (8-bit images) gets a direct conversion the compiler vectorises.
            return Ok(self.bytes.iter().map(|&b| f32::from(b)).collect());
        }
        let values: Vec<f32> = self.elements().map(f32::from).collect();
        // Integers always fit (if rounded); floats may be NaN, infinite, or beyond f32's range.
        if self.scalar.is_float()
            && let Some(index) = values.iter().position(|v| !v.is_finite())
        {
            let original = self.elements().nth(index);
            return Err(DataError::NotFinite {
                path: self.path.clone(),
                index,
                value: original.map_or(f64::NAN, Wide::as_f64),
            });
        }
        Ok(values)
    }

    /// The elements as class labels (integer types only), with the number of classes they
    /// imply (largest label plus one).
    pub fn to_labels(&self) -> Result<(Vec<u32>, usize), DataError> {
        if self.scalar.is_float() {
            return Err(DataError::Content {
                path: self.path.clone(),
                found: format!("{:?} values", self.scalar).to_lowercase(),
                expected: "integer class labels".into(),
            });
        }
        let wide: Vec<i128> = self
            .elements()
            .map(|w| match w {
                Wide::Int(i) => i,
                Wide::Float(_) => -1, // unreachable: float types were rejected above
            })
            .collect();
        let largest = wide.iter().copied().max().unwrap_or(-1);
        if let Some(row) = wide
            .iter()
            .position(|&l| !(0..MAX_CLASSES as i128).contains(&l))
        {
            return Err(DataError::LabelOutOfRange {
                origin: format!("{}: ", self.path),
                row,
                label: wide[row],
                classes: usize::try_from(largest + 1).map_or(0, |n| n.min(MAX_CLASSES)),
            });
        }
        let labels = wide.into_iter().map(|l| l as u32).collect();
        Ok((labels, (largest + 1) as usize))
    }

    /// Every element, widened without loss.
    fn elements(&self) -> impl Iterator<Item = Wide> + '_ {
        let (scalar, big_endian) = (self.scalar, self.big_endian);
        self.bytes
            .chunks_exact(scalar.size())
            .map(move |chunk| wide_value(scalar, big_endian, chunk))
    }
}

/// One element, widened without loss: integers as `i128`, floats as `f64`.
#[derive(Clone, Copy)]
enum Wide {
    Int(i128),
    Float(f64),
}

impl Wide {
    fn as_f64(self) -> f64 {
        match self {
            Wide::Int(i) => i as f64,
            Wide::Float(f) => f,
        }
    }
}

impl From<Wide> for f32 {
    fn from(w: Wide) -> f32 {
        match w {
            Wide::Int(i) => i as f32,
            Wide::Float(f) => f as f32,
        }
    }
}

/// Decodes one element; `chunk` holds exactly `scalar.size()` bytes.
fn wide_value(scalar: Scalar, big_endian: bool, chunk: &[u8]) -> Wide {
    macro_rules! decode {
        ($t:ty) => {{
            let bytes = chunk.try_into().unwrap_or_default();
            if big_endian {
                <$t>::from_be_bytes(bytes)
            } else {
                <$t>::from_le_bytes(bytes)
            }
        }};
    }
    match scalar {
        Scalar::Bool => Wide::Int(i128::from(chunk[0] != 0)),
        Scalar::U8 => Wide::Int(i128::from(chunk[0])),
        Scalar::I8 => Wide::Int(i128::from(chunk[0] as i8)),
        Scalar::U16 => Wide::Int(i128::from(decode!(u16))),
        Scalar::I16 => Wide::Int(i128::from(decode!(i16))),
        Scalar::U32 => Wide::Int(i128::from(decode!(u32))),
        Scalar::I32 => Wide::Int(i128::from(decode!(i32))),
        Scalar::U64 => Wide::Int(i128::from(decode!(u64))),
        Scalar::I64 => Wide::Int(i128::from(decode!(i64))),
        Scalar::F32 => Wide::Float(f64::from(decode!(f32))),
        Scalar::F64 => Wide::Float(decode!(f64)),
    }
}

/// A reader over a file's contents, gunzipped when the file starts with the gzip magic bytes
/// `1f 8b`. Also returns a capacity hint for the content: the file's length when it is not
/// compressed, else 0.
pub(crate) fn open(path: &Path) -> Result<(Box<dyn Read>, u64), DataError> {
    let io_error = |e| DataError::io(path, e);
    let file = File::open(path).map_err(io_error)?;
    let length = file.metadata().map_err(io_error)?.len();
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 2];
    let peeked = read_up_to(&mut reader, &mut magic).map_err(io_error)?;
    let start = std::io::Cursor::new(magic[..peeked].to_vec()).chain(reader);
    if magic[..peeked] == [0x1f, 0x8b] {
        Ok((Box::new(MultiGzDecoder::new(start)), 0))
    } else {
        Ok((Box::new(start), length))
    }
}

/// Reads until `buffer` is full or the input ends; returns how many bytes were read.
pub(crate) fn read_up_to(
    reader: &mut (impl Read + ?Sized),
    buffer: &mut [u8],
) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Header bytes at `offset`: exactly `buffer.len()` of them, or a format error naming `what`.
pub(crate) fn read_header(
    reader: &mut impl Read,
    path: &Path,
    offset: u64,
    buffer: &mut [u8],
    what: &str,
) -> Result<(), DataError> {
    let got = read_up_to(reader, buffer).map_err(|e| DataError::io(path, e))?;
    if got < buffer.len() {
        return Err(DataError::Format {
            path: path.display().to_string(),
            offset: offset + got as u64,
            found: "the end of the file".into(),
            expected: what.to_string(),
        });
    }
    Ok(())
}

/// Reads the data that follows a header: `items` items of `item_size` bytes each, starting at
/// byte `offset` of the (decompressed) content. A short file is [`DataError::Truncated`],
/// extra bytes are a [`DataError::Format`] error. The buffer grows only with data actually
/// read, so a header that lies about its size cannot cause a huge allocation.
pub(crate) fn read_payload(
    reader: &mut dyn Read,
    path: &Path,
    offset: u64,
    items: u64,
    item_size: u64,
    unit: &str,
    capacity_hint: u64,
) -> Result<Vec<u8>, DataError> {
    let name = path.display().to_string();
    let too_big = || DataError::Format {
        path: name.clone(),
        offset,
        found: format!("a header announcing {items} {unit}"),
        expected: "a size that fits in memory".into(),
    };
    let expected = items.checked_mul(item_size).ok_or_else(too_big)?;
    usize::try_from(expected).map_err(|_| too_big())?;
    let mut bytes = Vec::with_capacity(expected.min(capacity_hint) as usize);
    reader
        .take(expected.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| DataError::io(path, e))?;
    let held = bytes.len() as u64;
    if held < expected {
        return Err(DataError::Truncated {
            path: name,
            declared: items,
            held: held.checked_div(item_size).unwrap_or(items),
            unit: unit.to_string(),
        });
    }
    if held > expected {
        const LOOKAHEAD: usize = 4096;
        let more = read_up_to(reader, &mut [0u8; LOOKAHEAD]).map_err(|e| DataError::io(path, e))?;
        let found = match 1 + more {
            n if n > LOOKAHEAD => format!("more than {LOOKAHEAD} further bytes"),
            n => format!("{n} further bytes"),
        };
        return Err(DataError::Format {
            path: name,
            offset: offset + expected,
            found,
            expected: format!("the end of the file after {items} {unit}"),
        });
    }
    Ok(bytes)
}
