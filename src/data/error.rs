//! Errors of the data module: each says which file (as the user named it) and where in it —
//! line and column, byte offset or sample index — what was found, and what was expected.

use std::path::Path;

/// Everything that can go wrong while loading, transforming or batching a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read the file: {source}")]
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
    #[error("{path}: column \"{column}\" not found in the header; columns are: {}{}",
        abbreviate(columns), did_you_mean(suggestion.as_deref()))]
    MissingColumn {
        path: String,
        column: String,
        columns: Vec<String>,
        suggestion: Option<String>,
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
}

impl DataError {
    /// An [`DataError::Io`] for `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> DataError {
        DataError::Io {
            path: path.display().to_string(),
            source,
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

/// `" (0..=9)"` for 10 classes; nothing for zero classes, where no label is valid.
fn class_range(classes: usize) -> String {
    match classes {
        0 => String::new(),
        n => format!(" (0..={})", n - 1),
    }
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or(String::new(), |s| format!("; did you mean \"{s}\"?"))
}

/// All names when there are few; otherwise the first and last few around an ellipsis.
fn abbreviate(names: &[String]) -> String {
    const HEAD: usize = 3;
    const TAIL: usize = 2;
    if names.len() <= HEAD + TAIL + 1 {
        return names.join(", ");
    }
    let head = names[..HEAD].join(", ");
    let tail = names[names.len() - TAIL..].join(", ");
    format!("{head}, ..., {tail}")
}

/// The name in `candidates` closest to `wanted`, if it is close enough to be a likely typo:
/// equal ignoring case, or within an edit distance of about a third of the name's length.
pub(crate) fn closest_name(wanted: &str, candidates: &[String]) -> Option<String> {
    let wanted_lower = wanted.to_lowercase();
    let allowed = (wanted.chars().count() / 3).max(1);
    candidates
        .iter()
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
