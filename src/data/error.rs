//! Errors of the data module: each says which file (as the user named it) and where in it —
//! line and column, byte offset or sample index — what was found, and what was expected.

use std::path::Path;

pub(crate) use crate::diag::excerpt;

/// Everything that can go wrong while loading, transforming or batching a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read the file: {}", io_reason(source))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A text file holds something unexpected at a line and column (both 1-based).
    #[error("{path}:{line}:{column}: expected {expected}, found {found}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        found: String,
        expected: String,
    },

    /// A CSV record has a different number of fields than the header.
    #[error(
        "{path}:{line}: expected {expected} columns (as in the header), found {found}; \
         every row needs one value per header column"
    )]
    ColumnCount {
        path: String,
        line: usize,
        expected: usize,
        found: usize,
    },

    /// A column named in the options is not in the CSV header.
    #[error("{path}: column \"{}\" not found in the header; columns are: {}{}",
        excerpt(column, 40), abbreviate(columns), did_you_mean(suggestion.as_deref()))]
    MissingColumn {
        path: String,
        column: String,
        columns: Vec<String>,
        suggestion: Option<String>,
    },

    /// A label names a class the model does not know.
    #[error(
        "{origin}: label \"{}\" is not one of the classes: {}{}\nhelp: the classes are those of the data the model was trained on",
        excerpt(label, 40), abbreviate(classes), did_you_mean(suggestion.as_deref())
    )]
    UnknownClass {
        origin: String,
        label: String,
        classes: Box<[String]>,
        suggestion: Option<String>,
    },

    /// Labels written as names do not name as many classes as declared.
    #[error(
        "{path}: the labels name {found} classes ({}), but the data item declares {declared}\nhelp: correct `classes`, or leave it out to count the names",
        abbreviate(names)
    )]
    ClassNameCount {
        path: String,
        names: Vec<String>,
        found: usize,
        declared: usize,
    },

    /// A column named in the options occurs more than once in the CSV header.
    #[error(
        "{path}: column \"{column}\" appears twice in the header (columns {first} and {second}); \
         rename one of them"
    )]
    DuplicateColumn {
        path: String,
        column: String,
        first: usize,
        second: usize,
    },

    /// A binary file ends before the data its header announces.
    #[error("{path}: file is truncated: header says {declared} {unit}, file holds {held}")]
    Truncated {
        path: String,
        declared: u64,
        held: u64,
        unit: String,
    },

    /// A binary file's bytes do not follow its format at the given byte offset.
    #[error("{path}: byte {offset}: expected {expected}, found {found}")]
    Format {
        path: String,
        offset: u64,
        found: String,
        expected: String,
    },

    /// An NPY or IDX element type that dlc cannot read.
    #[error("{path}: unsupported dtype '{dtype}' (expected a float or integer type)")]
    UnsupportedDtype { path: String, dtype: String },

    /// A multi-dimensional NPY array stored column-major.
    #[error(
        "{path}: arrays in Fortran (column-major) order are not supported; \
         save a C-ordered copy, e.g. numpy.save(path, numpy.ascontiguousarray(x))"
    )]
    FortranOrder { path: String },

    /// A file is well-formed but holds something the loader cannot use (an array of the wrong
    /// shape, float labels, ...).
    #[error("{path}: expected {expected}, found {found}")]
    Content {
        path: String,
        found: String,
        expected: String,
    },

    /// A CSV cell that holds no value (see [`super::MISSING_MARKERS`]) where
    /// one is needed.
    /// (Boxed: the cell says much, and every `Result` of data would carry it.)
    #[error("{0}")]
    MissingValue(Box<super::MissingCell>),

    /// A NaN, a missing value, in an array file's features. `sample` counts
    /// the samples from 0, `index` the elements in storage order.
    #[error("{path}: sample {sample} holds NaN (element {index}), a missing value\nhelp: {help}")]
    MissingElement {
        path: String,
        sample: usize,
        index: usize,
        help: super::MissingHelp,
    },

    /// `impute mean` or `impute median` for a feature that has no value in
    /// any training sample.
    #[error(
        "{what}: `impute {method}` cannot fill {feature}: it has no value in any of the \
         {samples} training samples\nhelp: remove the column, or use `impute zero`"
    )]
    NothingToImpute {
        /// The data set, as the program names it.
        what: String,
        feature: String,
        method: String,
        samples: usize,
    },

    /// A float element is NaN, infinite, or too large for `f32`. `index` counts elements
    /// in storage order from 0.
    #[error(
        "{path}: element {index} is {value:e}; expected finite numbers within the range of f32"
    )]
    NotFinite {
        path: String,
        index: usize,
        value: f64,
    },

    /// The feature and target files describe different numbers of samples.
    #[error(
        "{features_path} holds {features} samples but {targets_path} holds {targets} targets; \
         both files must describe the same samples"
    )]
    CountMismatch {
        features_path: String,
        features: usize,
        targets_path: String,
        targets: usize,
    },

    /// A class label is not below the number of classes. `row` is the 0-based sample index.
    #[error("{origin}label {label} in row {row} is out of range for {classes} classes{}",
        class_range(*classes))]
    LabelOutOfRange {
        origin: String,
        row: usize,
        label: i128,
        classes: usize,
    },

    /// Reshaping would change the number of elements per sample.
    #[error(
        "cannot reshape samples of shape {from:?} ({from_len} elements) to {to:?} \
         ({to_len} elements); the element counts must be equal"
    )]
    Reshape {
        from: Vec<usize>,
        to: Vec<usize>,
        from_len: usize,
        to_len: usize,
    },

    /// An argument given by the program or the user is outside what the function accepts.
    #[error("invalid {name}: expected {expected}, found {found}")]
    InvalidArgument {
        name: String,
        found: String,
        expected: String,
    },

    /// The parts of a data set do not fit together (e.g. features vs. sample count).
    #[error("inconsistent data set: {0}")]
    Inconsistent(String),

    /// A binary file's header announces sizes that no real file of its kind has: sizes whose
    /// product overflows, or more data than the file could hold.
    #[error(
        "{path}: byte {offset}: the {format} header is implausible: {problem}; \
         the file is corrupt or not an {format} file"
    )]
    ImplausibleHeader {
        path: String,
        offset: u64,
        format: String,
        problem: String,
    },

    /// A file that starts like gzip holds data that does not inflate.
    #[error(
        "{path}: not valid gzip data ({reason}) after {offset} decompressed bytes; \
         the file is corrupt, or it is not gzip-compressed"
    )]
    BadGzip {
        path: String,
        offset: u64,
        reason: String,
    },

    /// The file policy allows no file to be read (or written).
    #[error("{path}: reading or writing files is disabled here; pass the data in memory instead")]
    AccessDisabled { path: String },

    /// A path that leads, after `..` and symbolic links are resolved, outside the only
    /// directory files may be used from.
    #[error(
        "{path}: the path leads outside {root}, the directory files may be {} from; \
         use a path inside it (relative paths are taken from there)",
        if *for_write { "written to" } else { "read" }
    )]
    OutsideRoot {
        path: String,
        root: String,
        for_write: bool,
    },

    /// Only regular files may be read, and this is a pipe, a device, a socket or a directory.
    #[error("{path}: {kind}, not a regular file; data can only be read from a regular file")]
    NotRegularFile { path: String, kind: String },

    /// A file longer than the file policy allows.
    #[error(
        "{path}: the file holds {}, more than the limit of {} for one file; \
         use a smaller file, or raise the limit",
        held.map_or(format!("more than {}", bytes_text(*limit)), bytes_text), bytes_text(*limit)
    )]
    FileTooLarge {
        path: String,
        /// `None` when the file's length is unknown (a pipe or a device) and the reading
        /// stopped at the limit.
        held: Option<u64>,
        limit: u64,
    },

    /// A data set whose buffers would take more memory than the limit for one data set.
    #[error(
        "{what} would take {}{}, more than the {} the memory limit leaves for data; \
         use fewer or smaller samples, or raise the limit (`dlc --max-memory`, \
         `Limits::max_memory` in the library)",
        if *at_least { "at least " } else { "" },
        bytes.map_or("more than 2^64 bytes".to_string(), bytes_text), bytes_text(*limit)
    )]
    DataTooLarge {
        what: String,
        /// `None` when the size does not even fit in 64 bits.
        bytes: Option<u64>,
        limit: u64,
        /// True when reading stopped at the limit, so that the whole would take more.
        at_least: bool,
    },

    /// The memory for a data set's buffers could not be allocated.
    #[error(
        "{what}: cannot allocate {}; the machine does not have that much memory free",
        bytes.map_or("more than 2^64 bytes".to_string(), bytes_text)
    )]
    OutOfMemory { what: String, bytes: Option<u64> },

    /// Another file cannot be read "like the program's data" when that data is not read
    /// from one CSV file: nothing says which of its columns hold the targets.
    #[error(
        "{path}: cannot be read like data `{data}`, which {kind}; only data read with \
         `csv(...)` names the columns that hold the targets, so only then can another CSV \
         file with the same columns be read like it"
    )]
    NotLikeData {
        path: String,
        data: String,
        /// "is the built-in `spirals` set", "is read from a pair of IDX files".
        kind: String,
    },

    /// A data set that a program trains or validates on has no sample.
    #[error("{what} holds no samples{detail}; a data set needs at least one sample")]
    NoSamples { what: String, detail: String },

    /// A validation fraction that leaves the training or the validation part empty.
    #[error(
        "{what}: `validation {fraction}` of {total} samples leaves {} no sample; \
         {}",
        part, split_help(*fraction, *total, part)
    )]
    EmptySplit {
        what: String,
        fraction: f64,
        total: usize,
        /// "the training part" or "the validation part".
        part: String,
    },
}

/// An I/O error as people say it: `no such file`, `it is a directory`.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

impl DataError {
    /// An [`DataError::Io`] for `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> DataError {
        DataError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// An error from reading the file `path` (as the program named it): the file policy's
    /// own error when the reading stopped at one of its limits, else [`DataError::Io`].
    pub(crate) fn from_read(path: &str, error: std::io::Error) -> DataError {
        let io = |source| DataError::Io {
            path: path.to_string(),
            source,
        };
        if !error.get_ref().is_some_and(|e| e.is::<DataError>()) {
            return io(error);
        }
        match error
            .into_inner()
            .map(|inner| inner.downcast::<DataError>())
        {
            Some(Ok(data_error)) => *data_error,
            Some(Err(other)) => io(std::io::Error::other(other)),
            None => io(std::io::Error::other("read failed")),
        }
    }

    /// An [`DataError::InvalidArgument`].
    pub(crate) fn invalid(name: &str, found: impl ToString, expected: &str) -> DataError {
        DataError::InvalidArgument {
            name: name.to_string(),
            found: found.to_string(),
            expected: expected.to_string(),
        }
    }
}

/// `1,234 bytes` below a kibibyte, else also in the largest binary unit: `240,000,000,000
/// bytes (223.5 GiB)`.
pub(crate) fn bytes_text(bytes: u64) -> String {
    let digits = bytes.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = None;
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = Some(u);
    }
    match unit {
        Some(u) => format!("{grouped} bytes ({value:.1} {u})"),
        None => format!("{grouped} bytes"),
    }
}

/// What to do about a validation fraction that empties one part of the split.
fn split_help(fraction: f64, total: usize, part: &str) -> String {
    if total < 2 {
        return "a split needs at least two samples: validate on another data item instead"
            .to_string();
    }
    // round(total * f) must lie in 1..total: f in [0.5/total, 1 - 0.5/total).
    let (low, high) = (0.5 / total as f64, 1.0 - 0.5 / total as f64);
    if part.contains("training") || fraction > high {
        format!("use a smaller fraction (below {high:.3}), or more samples")
    } else {
        format!("use a larger fraction (at least {low:.3}), or more samples")
    }
}

/// `" (0..=9)"` for 10 classes; nothing for zero classes, where no label is valid.
fn class_range(classes: usize) -> String {
    match classes {
        0 => String::new(),
        n => format!(" (0..={})", n - 1),
    }
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or(String::new(), |s| {
        format!("; did you mean \"{}\"?", excerpt(s, 40))
    })
}

/// All names when there are few; otherwise the first and last few around an ellipsis. Each
/// name, and the whole, is a short escaped excerpt: a header is the file's content, which
/// need not be a header at all.
fn abbreviate(names: &[String]) -> String {
    const HEAD: usize = 3;
    const TAIL: usize = 2;
    let short = |names: &[String]| {
        names
            .iter()
            .map(|n| excerpt(n, 24))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list = if names.len() <= HEAD + TAIL + 1 {
        short(names)
    } else {
        let head = short(&names[..HEAD]);
        let tail = short(&names[names.len() - TAIL..]);
        format!("{head}, ..., {tail}")
    };
    excerpt(&list, 60)
}

/// The name in `candidates` closest to `wanted`, if it is close enough to be a likely typo:
/// equal ignoring case, or within an edit distance of about a third of the name's length.
pub(crate) fn closest_name(wanted: &str, candidates: &[String]) -> Option<String> {
    let wanted_lower = wanted.to_lowercase();
    let length = wanted.chars().count();
    let allowed = (length / 3).max(1);
    // Names whose lengths differ by more than the allowed distance cannot be close; skipping
    // them first keeps a huge "column" (a file that is not CSV) from costing its length
    // squared.
    let close_in_length = |name: &&String| {
        name.len() <= 4 * (length + allowed) && name.chars().count().abs_diff(length) <= allowed
    };
    candidates
        .iter()
        .filter(close_in_length)
        .map(|name| (edit_distance(&wanted_lower, &name.to_lowercase()), name))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.clone())
}

/// Levenshtein distance between two strings, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("digit", "digit"), 0);
        assert_eq!(edit_distance("digit", "digits"), 1);
        assert_eq!(edit_distance("digit", "dgit"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn closest_name_suggests_only_plausible_typos() {
        let columns = names(&["sepal_length", "species", "digit"]);
        assert_eq!(closest_name("specis", &columns).as_deref(), Some("species"));
        assert_eq!(closest_name("DIGIT", &columns).as_deref(), Some("digit"));
        assert_eq!(closest_name("label", &columns), None);
    }

    #[test]
    fn long_column_lists_are_abbreviated_but_keep_both_ends() {
        let mut columns: Vec<String> = (0..64).map(|i| format!("p{i}")).collect();
        columns.push("digit".into());
        assert_eq!(abbreviate(&columns), "p0, p1, p2, ..., p63, digit");
        assert_eq!(abbreviate(&names(&["a", "b"])), "a, b");
    }
}
