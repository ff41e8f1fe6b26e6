//! Shared by the binary loaders (IDX and NPY): opening a file that may be gzip-compressed,
//! checking the sizes a header announces against the file and the memory limit before
//! anything is allocated, and decoding typed elements of either byte order, as they are
//! read, into features or labels.

use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::alloc::Budget;
use super::error::bytes_text;
use super::files::FilePolicy;
use super::{DataError, LabelSite, MAX_CLASSES};

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

/// What a header says about the array after it: shape, element type and byte order, where
/// the elements start, and how many bytes they take.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub shape: Vec<usize>,
    pub scalar: Scalar,
    pub big_endian: bool,
    /// Offset of the first element in the (decompressed) content.
    pub data_offset: u64,
    /// The items the first dimension counts (1 for a 0-dimensional array).
    pub items: u64,
    /// Bytes per item: the element size times the other dimensions.
    pub item_size: u64,
    /// "items", "items of 6 bytes", "rows of 8 bytes": how the messages count the data.
    pub unit: String,
}

impl Layout {
    /// The layout of `shape` for a file of `format` ("IDX", "NPY"), or an error at
    /// `dims_offset` (where the header's dimensions are) when its size does not fit in 64 bits.
    pub fn new(
        source: &Source,
        format: &str,
        dims_offset: u64,
        shape: Vec<usize>,
        (scalar, big_endian): (Scalar, bool),
        data_offset: u64,
        unit_word: &str,
    ) -> Result<Layout, DataError> {
        let (items, rest) = shape
            .split_first()
            .map_or((1, &[][..]), |(n, rest)| (*n as u64, rest));
        let item_size = rest
            .iter()
            .try_fold(scalar.size() as u64, |size, &d| size.checked_mul(d as u64))
            .filter(|size| size.checked_mul(items).is_some());
        let Some(item_size) = item_size else {
            return Err(DataError::ImplausibleHeader {
                path: source.name.clone(),
                offset: dims_offset,
                format: format.to_string(),
                problem: format!("dimensions {shape:?} would take more than 2^64 bytes"),
            });
        };
        let unit = if rest.is_empty() {
            "items".to_string()
        } else {
            format!("{unit_word} of {item_size} bytes")
        };
        Ok(Layout {
            shape,
            scalar,
            big_endian,
            data_offset,
            items,
            item_size,
            unit,
        })
    }

    /// Bytes of all the elements (known to fit in 64 bits).
    pub fn payload(&self) -> u64 {
        self.items * self.item_size
    }

    /// The number of elements.
    pub fn elements(&self) -> u64 {
        self.payload() / self.scalar.size() as u64
    }

    /// Checks, before anything is read, that the file can hold what the header announces:
    /// a plain file by its length, a gzip file by the most its compressed bytes can inflate
    /// to. A plain file that holds more than announced is an error too.
    pub fn check_size(&self, source: &Source, format: &str) -> Result<(), DataError> {
        let Some(file_len) = source.file_len else {
            return Ok(()); // not a regular file: checked while reading
        };
        if source.gzip {
            let most = file_len.saturating_mul(MAX_INFLATION);
            let end = self.data_offset.checked_add(self.payload());
            if end.is_none_or(|end| end > most) {
                return Err(DataError::ImplausibleHeader {
                    path: source.name.clone(),
                    offset: self.data_offset,
                    format: format.to_string(),
                    problem: format!(
                        "it announces {} {} ({}), but a gzip file of {} inflates to at most {}",
                        self.items,
                        self.unit,
                        bytes_text(self.payload()),
                        bytes_text(file_len),
                        bytes_text(most)
                    ),
                });
            }
            return Ok(());
        }
        let held = file_len.saturating_sub(self.data_offset);
        if held < self.payload() {
            return Err(self.truncated(source, held));
        }
        if held > self.payload() {
            return Err(self.extra(source, held - self.payload()));
        }
        Ok(())
    }

    fn truncated(&self, source: &Source, held_bytes: u64) -> DataError {
        DataError::Truncated {
            path: source.name.clone(),
            declared: self.items,
            held: held_bytes.checked_div(self.item_size).unwrap_or(self.items),
            unit: self.unit.clone(),
        }
    }

    /// `extra_bytes` past the data; for a stream, `LOOKAHEAD + 1` stands for "more".
    fn extra(&self, source: &Source, extra_bytes: u64) -> DataError {
        let found = if extra_bytes > LOOKAHEAD as u64 && source.file_len.is_none_or(|_| source.gzip)
        {
            format!("more than {LOOKAHEAD} further bytes")
        } else {
            format!("{extra_bytes} further bytes")
        };
        DataError::Format {
            path: source.name.clone(),
            offset: self.data_offset + self.payload(),
            found,
            expected: format!("the end of the file after {} {}", self.items, self.unit),
        }
    }

    /// Reads the elements as `f32`, checking that floats are finite and within `f32`'s
    /// range, and that the content ends right after them.
    pub fn read_f32(
        &self,
        source: &mut Source,
        budget: &mut Budget,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<f32>, DataError> {
        self.read_floats(source, budget, what, false)
            .map(|(values, _)| values)
    }

    /// As [`Layout::read_f32`], but a NaN (a missing value) is kept rather
    /// than refused; the index of the first one comes back too.
    pub fn read_f32_keeping_nan(
        &self,
        source: &mut Source,
        budget: &mut Budget,
        what: &dyn Fn() -> String,
    ) -> Result<(Vec<f32>, Option<usize>), DataError> {
        self.read_floats(source, budget, what, true)
    }

    fn read_floats(
        &self,
        source: &mut Source,
        budget: &mut Budget,
        what: &dyn Fn() -> String,
        keep_nan: bool,
    ) -> Result<(Vec<f32>, Option<usize>), DataError> {
        let count = usize::try_from(self.elements()).unwrap_or(usize::MAX);
        let mut values = budget.vec(count, what)?;
        let (scalar, big_endian) = (self.scalar, self.big_endian);
        let mut bad = None;
        let mut first_nan = None;
        self.for_each_chunk(source, |index, chunk| {
            if scalar == Scalar::U8 {
                // The common case (8-bit images): a direct conversion the compiler vectorises.
                values.extend(chunk.iter().map(|&b| f32::from(b)));
                return;
            }
            for (i, bytes) in chunk.chunks_exact(scalar.size()).enumerate() {
                let wide = wide_value(scalar, big_endian, bytes);
                let value = f32::from(wide);
                // Integers always fit (if rounded); floats may be NaN, infinite, or beyond
                // f32's range.
                if keep_nan && value.is_nan() {
                    first_nan = first_nan.or(Some(index + i));
                } else if bad.is_none() && !value.is_finite() {
                    bad = Some((index + i, wide.as_f64()));
                }
                values.push(value);
            }
        })?;
        if let Some((index, value)) = bad {
            return Err(DataError::NotFinite {
                path: source.name.clone(),
                index,
                value,
            });
        }
        Ok((values, first_nan))
    }

    /// Reads the elements as class labels (integer types only). With `classes`, every label
    /// must be below it; otherwise the number of classes is the largest label plus one, and
    /// where that label is comes back too.
    pub fn read_labels(
        &self,
        source: &mut Source,
        classes: Option<usize>,
        budget: &mut Budget,
        what: &dyn Fn() -> String,
    ) -> Result<(Vec<u32>, usize, Option<LabelSite>), DataError> {
        if self.scalar.is_float() {
            return Err(DataError::Content {
                path: source.name.clone(),
                found: format!("{:?} values", self.scalar).to_lowercase(),
                expected: "integer class labels".into(),
            });
        }
        let count = usize::try_from(self.elements()).unwrap_or(usize::MAX);
        let mut labels = budget.vec(count, what)?;
        let below = classes.unwrap_or(MAX_CLASSES).min(MAX_CLASSES) as i128;
        let (scalar, big_endian) = (self.scalar, self.big_endian);
        let mut largest: Option<(usize, i128)> = None;
        let mut first_bad: Option<(usize, i128)> = None;
        self.for_each_chunk(source, |index, chunk| {
            for (i, bytes) in chunk.chunks_exact(scalar.size()).enumerate() {
                let label = match wide_value(scalar, big_endian, bytes) {
                    Wide::Int(l) => l,
                    Wide::Float(_) => -1, // unreachable: float types were rejected above
                };
                if largest.is_none_or(|(_, l)| label > l) {
                    largest = Some((index + i, label));
                }
                if (0..below).contains(&label) {
                    labels.push(label as u32);
                } else if first_bad.is_none() {
                    first_bad = Some((index + i, label));
                }
            }
        })?;
        if let Some((row, label)) = first_bad {
            let inferred = largest.map_or(0, |(_, l)| l + 1);
            let inferred = usize::try_from(inferred).map_or(0, |n| n.min(MAX_CLASSES));
            return Err(DataError::LabelOutOfRange {
                origin: format!("{}: ", source.name),
                row,
                label,
                classes: classes.unwrap_or(inferred),
            });
        }
        let site = largest.map(|(row, label)| LabelSite {
            origin: source.name.clone(),
            row,
            label: label as u32,
        });
        Ok(match classes {
            Some(classes) => (labels, classes, None),
            None => {
                let inferred = site.as_ref().map_or(0, |s| s.label as usize + 1);
                (labels, inferred, site)
            }
        })
    }

    /// Feeds the elements to `consume` in chunks of whole elements, with the index of each
    /// chunk's first element; then checks that the content ends right after them. Never
    /// reads more than the announced data and a short look past it.
    fn for_each_chunk(
        &self,
        source: &mut Source,
        mut consume: impl FnMut(usize, &[u8]),
    ) -> Result<(), DataError> {
        const CHUNK: usize = 1 << 16;
        let element = self.scalar.size();
        let mut buffer = vec![0u8; CHUNK - CHUNK % element];
        let mut left = self.payload();
        let mut index = 0;
        while left > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            let got = source.read_up_to(&mut buffer[..want])?;
            // `want` is a multiple of the element size, so only a short read splits one.
            let whole = got - got % element;
            consume(index, &buffer[..whole]);
            index += whole / element;
            left -= got as u64;
            if got < want {
                return Err(self.truncated(source, self.payload() - left));
            }
        }
        let more = source.read_up_to(&mut buffer[..LOOKAHEAD + 1])?;
        if more > 0 {
            return Err(self.extra(source, more as u64));
        }
        Ok(())
    }
}

/// The most bytes one byte of deflate data can inflate to: a match of 258 bytes takes at
/// least two bits (a one-bit length code and a one-bit distance code).
const MAX_INFLATION: u64 = 1032;

/// How far past the announced data a stream is read to say how much more it holds.
const LOOKAHEAD: usize = 4096;

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

/// A file's content as a loader reads it: gunzipped when the file starts with the gzip
/// magic bytes `1f 8b`. Counts the bytes it delivers, so that an error can say where it
/// happened.
pub(crate) struct Source {
    reader: Box<dyn Read>,
    /// The file as the program named it.
    pub name: String,
    pub gzip: bool,
    /// The file's length (compressed, for gzip), when it is a regular file.
    pub file_len: Option<u64>,
    /// Bytes of content delivered so far.
    pub position: u64,
}

impl Source {
    pub fn open(path: &Path, policy: &FilePolicy) -> Result<Source, DataError> {
        let file = policy.open(path)?;
        let name = file.name().to_string();
        let file_len = file.len();
        let mut reader = BufReader::new(file);
        let mut magic = [0u8; 2];
        let peeked =
            read_up_to(&mut reader, &mut magic).map_err(|(_, e)| DataError::from_read(&name, e))?;
        let start = std::io::Cursor::new(magic[..peeked].to_vec()).chain(reader);
        let gzip = magic[..peeked] == [0x1f, 0x8b];
        let reader: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(start))
        } else {
            Box::new(start)
        };
        Ok(Source {
            reader,
            name,
            gzip,
            file_len,
            position: 0,
        })
    }

    /// Reads until `buffer` is full or the content ends; returns how many bytes were read.
    pub fn read_up_to(&mut self, buffer: &mut [u8]) -> Result<usize, DataError> {
        match read_up_to(&mut self.reader, buffer) {
            Ok(n) => {
                self.position += n as u64;
                Ok(n)
            }
            Err((n, e)) => {
                self.position += n as u64;
                Err(self.read_error(e))
            }
        }
    }

    /// Header bytes: exactly `buffer.len()` of them, or a format error naming `what`.
    pub fn read_header(&mut self, buffer: &mut [u8], what: &str) -> Result<(), DataError> {
        let offset = self.position;
        let got = self.read_up_to(buffer)?;
        if got < buffer.len() {
            return Err(DataError::Format {
                path: self.name.clone(),
                offset: offset + got as u64,
                found: "the end of the file".into(),
                expected: what.to_string(),
            });
        }
        Ok(())
    }

    fn read_error(&self, error: std::io::Error) -> DataError {
        use std::io::ErrorKind;
        let ours = error.get_ref().is_some_and(|e| e.is::<DataError>());
        let corrupt = matches!(
            error.kind(),
            ErrorKind::InvalidInput | ErrorKind::InvalidData | ErrorKind::UnexpectedEof
        );
        if self.gzip && corrupt && !ours {
            return DataError::BadGzip {
                path: self.name.clone(),
                offset: self.position,
                reason: error.to_string(),
            };
        }
        DataError::from_read(&self.name, error)
    }
}

/// Reads until `buffer` is full or the input ends; returns how many bytes were read, or the
/// error with how many were read before it.
fn read_up_to(
    reader: &mut (impl Read + ?Sized),
    buffer: &mut [u8],
) -> Result<usize, (usize, std::io::Error)> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err((filled, e)),
        }
    }
    Ok(filled)
}
