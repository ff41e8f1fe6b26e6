//! Loading a data set from a CSV file with a header line: one column holds the class label
//! (or several hold regression targets), every other column is a feature.

use std::io::{BufRead, BufReader};
use std::path::Path;

use super::alloc::Budget;
use super::csv_reader::{Field, Reader};
use super::error::{closest_name, excerpt};
use super::files::{FilePolicy, OpenedFile};
use super::labels::LabelReader;
use super::{DataError, Dataset, MissingCell, MissingHelp, Names, Targets, is_missing};

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    /// Which columns are targets; all other columns are features, in header order.
    pub target: CsvTarget,
    /// The field separator, `,` by default.
    pub delimiter: char,
    /// The feature columns by name, in the order a sample holds them; other
    /// columns are ignored. `None`: every column that is not a target, in
    /// header order.
    pub features: Option<Vec<String>>,
    /// The class names the labels are written as, in class order (those of a
    /// trained model). `None`: class indices, or names counted from the file.
    pub class_names: Option<Vec<String>>,
    /// Whether a feature cell may be missing (see [`super::is_missing`]):
    /// it is read as NaN, for `impute` to fill. Otherwise, and always for a
    /// label or target, a missing cell is an error at its line and column.
    pub keep_missing: bool,
}

/// The target column(s) of a CSV file.
#[derive(Clone, Debug, PartialEq)]
pub enum CsvTarget {
    /// Classification: the column holds class indices `0, 1, ...`. Without `classes`, the
    /// number of classes is the largest label plus one.
    Label {
        column: String,
        classes: Option<usize>,
    },
    /// Regression: these columns, in this order, are the target values.
    Values { columns: Vec<String> },
}

impl CsvOptions {
    /// Classification with the label in `column`, classes inferred from the labels.
    pub fn label(column: &str) -> CsvOptions {
        CsvOptions {
            target: CsvTarget::Label {
                column: column.to_string(),
                classes: None,
            },
            delimiter: ',',
            features: None,
            class_names: None,
            keep_missing: false,
        }
    }

    /// Regression with the given target columns.
    pub fn values(columns: &[&str]) -> CsvOptions {
        CsvOptions {
            target: CsvTarget::Values {
                columns: columns.iter().map(|c| c.to_string()).collect(),
            },
            delimiter: ',',
            features: None,
            class_names: None,
            keep_missing: false,
        }
    }

    /// Reads exactly these feature columns, in this order, wherever they
    /// are in the file; other columns are ignored.
    pub fn with_features(mut self, names: &[String]) -> CsvOptions {
        self.features = Some(names.to_vec());
        self
    }

    /// Reads labels as these class names (class `i` is `names[i]`); a label
    /// that is not one of them is an error.
    pub fn with_class_names(mut self, names: &[String]) -> CsvOptions {
        self.class_names = Some(names.to_vec());
        self
    }

    /// Fixes the number of classes (labels at or above it are an error); no effect for
    /// regression.
    pub fn with_classes(mut self, classes: usize) -> CsvOptions {
        if let CsvTarget::Label { classes: c, .. } = &mut self.target {
            *c = Some(classes);
        }
        self
    }

    /// Reads a missing feature cell as NaN instead of refusing it.
    pub fn with_missing_kept(mut self) -> CsvOptions {
        self.keep_missing = true;
        self
    }

    /// Uses another field separator, e.g. `';'` or `'\t'`.
    pub fn with_delimiter(mut self, delimiter: char) -> CsvOptions {
        self.delimiter = delimiter;
        self
    }
}

/// The column names of the header line, trimmed; an empty file is an error.
fn header_columns<R: BufRead>(
    reader: &mut Reader<R>,
    name: &str,
    budget: &mut Budget,
) -> Result<Vec<String>, DataError> {
    let Some(header) = reader.next_record()? else {
        return Err(DataError::Parse {
            path: name.to_string(),
            line: 1,
            column: 1,
            found: "an empty file".into(),
            expected: "a header line naming the columns".into(),
        });
    };
    let what = || format!("the header of {name}");
    let mut columns = budget.vec(header.len(), &what)?;
    columns.extend(header.fields().map(|f| f.text.trim().to_string()));
    Ok(columns)
}

/// A CSV file opened under the policy, and a reader over its records.
fn open_csv(
    path: &Path,
    delimiter: char,
    policy: &FilePolicy,
) -> Result<(String, Reader<BufReader<OpenedFile>>), DataError> {
    let file = policy.open(path)?;
    let name = file.name().to_string();
    // No record may be longer than a whole data set may be.
    let reader = Reader::new(
        &name,
        BufReader::new(file),
        delimiter,
        policy.max_alloc_bytes,
    );
    Ok((name, reader))
}

/// Reads a CSV file into a data set with sample shape `[feature columns]`. The file is
/// opened under `policy`, and reading stops with an error as soon as the samples would take
/// more memory than its limit.
pub fn csv(path: &Path, options: &CsvOptions, policy: &FilePolicy) -> Result<Dataset, DataError> {
    let (name, mut reader) = open_csv(path, options.delimiter, policy)?;
    let mut budget = Budget::new(policy.memory_limit());
    let columns = header_columns(&mut reader, &name, &mut budget)?;
    let target_names: Vec<&str> = match &options.target {
        CsvTarget::Label { column, .. } => vec![column.as_str()],
        CsvTarget::Values { columns } => columns.iter().map(String::as_str).collect(),
    };
    let target_columns = target_names
        .iter()
        .map(|name_wanted| find_column(&name, &columns, name_wanted))
        .collect::<Result<Vec<usize>, DataError>>()?;
    let feature_columns: Vec<usize> = match &options.features {
        Some(wanted) => wanted
            .iter()
            .map(|w| find_column(&name, &columns, w))
            .collect::<Result<_, DataError>>()?,
        None => (0..columns.len())
            .filter(|c| !target_columns.contains(c))
            .collect(),
    };
    if feature_columns.is_empty() {
        return Err(DataError::Content {
            path: name,
            found: format!(
                "only the target columns ({})",
                excerpt(&columns.join(", "), 60)
            ),
            expected: "at least one feature column besides the targets".into(),
        });
    }

    let what = || format!("the samples of {name}");
    let mut features = Vec::new();
    let mut targets = Vec::new();
    let mut labels = LabelReader::default();
    while let Some(record) = reader.next_record()? {
        if record.len() != columns.len() {
            return Err(DataError::ColumnCount {
                path: name.clone(),
                line: record.line,
                expected: columns.len(),
                found: record.len(),
            });
        }
        budget.grow(&mut features, feature_columns.len(), &what)?;
        let feature_cell = Cell::feature(options.keep_missing, MissingHelp::Feature);
        for &c in &feature_columns {
            features.push(feature_cell.read(&name, &columns[c], &record.field(c))?);
        }
        match &options.target {
            CsvTarget::Label { .. } => {
                budget.grow(&mut labels.ids, 1, &what)?;
                let (c, field) = (target_columns[0], record.field(target_columns[0]));
                if is_missing(field.text) {
                    return Err(missing(&name, &columns[c], &field, MissingHelp::Target));
                }
                labels.read(&field);
            }
            CsvTarget::Values { .. } => {
                budget.grow(&mut targets, target_columns.len(), &what)?;
                for &c in &target_columns {
                    targets.push(Cell::TARGET.read(&name, &columns[c], &record.field(c))?);
                }
            }
        }
    }

    let mut names = Names {
        features: feature_columns
            .iter()
            .map(|&c| columns[c].clone())
            .collect(),
        ..Names::default()
    };
    let (targets, classes_from) = match &options.target {
        CsvTarget::Label { classes, .. } => {
            let read = labels.finish(&name, *classes, options.class_names.as_deref())?;
            names.classes = read.names;
            let targets = Targets::Classes {
                labels: read.labels,
                classes: read.classes,
            };
            (targets, read.largest)
        }
        CsvTarget::Values { columns } => {
            names.targets = columns.clone();
            let targets = Targets::Values {
                values: targets,
                width: columns.len(),
            };
            (targets, None)
        }
    };
    let mut dataset = Dataset::new(features, vec![feature_columns.len()], targets)?;
    dataset.classes_from = classes_from;
    dataset.names = names;
    Ok(dataset)
}

/// A CSV file read for prediction: features and the other columns' text.
pub(crate) struct Table {
    pub features: Vec<f32>,
    pub samples: usize,
    /// Feature values per sample.
    pub width: usize,
    pub passthrough: Vec<(String, Vec<String>)>,
}

/// Reads the columns called `features`, in that order (every column not in
/// `skip`, in file order, when `features` is empty), as numbers; every other
/// column is kept as text. With `keep_missing`, a missing feature cell is
/// read as NaN; otherwise it is an error.
pub(crate) fn csv_table(
    path: &Path,
    features: &[String],
    skip: &[String],
    keep_missing: bool,
    policy: &FilePolicy,
) -> Result<Table, DataError> {
    let (name, mut reader) = open_csv(path, ',', policy)?;
    let mut budget = Budget::new(policy.memory_limit());
    let columns = header_columns(&mut reader, &name, &mut budget)?;
    let feature_columns: Vec<usize> = if features.is_empty() {
        (0..columns.len())
            .filter(|&c| !skip.contains(&columns[c]))
            .collect()
    } else {
        features
            .iter()
            .map(|f| find_column(&name, &columns, f))
            .collect::<Result<_, DataError>>()?
    };
    let other: Vec<usize> = (0..columns.len())
        .filter(|c| !feature_columns.contains(c))
        .collect();
    let what = || format!("the samples of {name}");
    let mut values = Vec::new();
    let mut passthrough: Vec<(String, Vec<String>)> = other
        .iter()
        .map(|&c| (columns[c].clone(), Vec::new()))
        .collect();
    let mut samples = 0;
    while let Some(record) = reader.next_record()? {
        if record.len() != columns.len() {
            return Err(DataError::ColumnCount {
                path: name.clone(),
                line: record.line,
                expected: columns.len(),
                found: record.len(),
            });
        }
        budget.grow(&mut values, feature_columns.len(), &what)?;
        let cell = Cell::feature(keep_missing, MissingHelp::Model);
        for &c in &feature_columns {
            values.push(cell.read(&name, &columns[c], &record.field(c))?);
        }
        for (&c, (_, texts)) in other.iter().zip(&mut passthrough) {
            let text = record.field(c).text;
            budget.grow(texts, 1, &what)?;
            texts.push(text.to_string());
        }
        samples += 1;
    }
    Ok(Table {
        features: values,
        samples,
        width: feature_columns.len(),
        passthrough,
    })
}

/// The index of the header column called `wanted` (surrounding spaces ignored).
fn find_column(path: &str, columns: &[String], wanted: &str) -> Result<usize, DataError> {
    let wanted = wanted.trim();
    let mut matches = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_str() == wanted);
    match (matches.next(), matches.next()) {
        (Some((index, _)), None) => Ok(index),
        (Some((first, _)), Some((second, _))) => Err(DataError::DuplicateColumn {
            path: path.to_string(),
            column: wanted.to_string(),
            first: first + 1,
            second: second + 1,
        }),
        (None, _) => Err(DataError::MissingColumn {
            path: path.to_string(),
            column: wanted.to_string(),
            columns: columns.to_vec(),
            suggestion: closest_name(wanted, columns),
        }),
    }
}

/// How a field's text appears in a message: quoted, or "an empty field".
fn shown(field: &Field) -> String {
    if field.text.trim().is_empty() {
        "an empty field".to_string()
    } else {
        format!("\"{}\"", excerpt(field.text.trim(), 40))
    }
}

/// How a numeric cell is read: whether it may be missing, and if not, what
/// the error's help says.
#[derive(Clone, Copy)]
struct Cell {
    keep_missing: bool,
    help: MissingHelp,
}

impl Cell {
    const TARGET: Cell = Cell {
        keep_missing: false,
        help: MissingHelp::Target,
    };

    fn feature(keep_missing: bool, help: MissingHelp) -> Cell {
        Cell { keep_missing, help }
    }

    /// The cell's number; NaN for a missing cell that may be missing.
    fn read(self, path: &str, column_name: &str, field: &Field) -> Result<f32, DataError> {
        if is_missing(field.text) {
            return match self.keep_missing {
                true => Ok(f32::NAN),
                false => Err(missing(path, column_name, field, self.help)),
            };
        }
        match field.text.trim().parse::<f32>() {
            Ok(value) if value.is_finite() => Ok(value),
            Ok(_) => Err(field_error(path, field, "a finite number")),
            Err(_) => Err(field_error(path, field, "a number")),
        }
    }
}

fn missing(path: &str, column_name: &str, field: &Field, help: MissingHelp) -> DataError {
    DataError::MissingValue(Box::new(MissingCell {
        path: path.to_string(),
        line: field.line,
        column: field.column,
        column_name: column_name.to_string(),
        found: shown(field),
        help,
    }))
}

pub(super) fn field_error(path: &str, field: &Field, expected: &str) -> DataError {
    DataError::Parse {
        path: path.to_string(),
        line: field.line,
        column: field.column,
        found: shown(field),
        expected: expected.to_string(),
    }
}
