//! Loading a data set from a CSV file with a header line: one column holds the class label
//! (or several hold regression targets), every other column is a feature.

use std::path::Path;

use super::csv_reader::{Field, Reader};
use super::error::closest_name;
use super::{DataError, Dataset, MAX_CLASSES, Targets};

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    /// Which columns are targets; all other columns are features, in header order.
    pub target: CsvTarget,
    /// The field separator, `,` by default.
    pub delimiter: char,
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
        }
    }

    /// Regression with the given target columns.
    pub fn values(columns: &[&str]) -> CsvOptions {
        CsvOptions {
            target: CsvTarget::Values {
                columns: columns.iter().map(|c| c.to_string()).collect(),
            },
            delimiter: ',',
        }
    }

    /// Fixes the number of classes (labels at or above it are an error); no effect for
    /// regression.
    pub fn with_classes(mut self, classes: usize) -> CsvOptions {
        if let CsvTarget::Label { classes: c, .. } = &mut self.target {
            *c = Some(classes);
        }
        self
    }

    /// Uses another field separator, e.g. `';'` or `'\t'`.
    pub fn with_delimiter(mut self, delimiter: char) -> CsvOptions {
        self.delimiter = delimiter;
        self
    }
}

/// The column names of the header line, trimmed; an empty file is an error.
fn header_columns(reader: &mut Reader, name: &str) -> Result<Vec<String>, DataError> {
    let Some(header) = reader.next_record()? else {
        return Err(DataError::Parse {
            path: name.to_string(),
            line: 1,
            column: 1,
            found: "an empty file".into(),
            expected: "a header line naming the columns".into(),
        });
    };
    Ok(header
        .fields
        .iter()
        .map(|f| f.text.trim().to_string())
        .collect())
}

/// Reads a CSV file into a data set with sample shape `[feature columns]`.
pub fn csv(path: &Path, options: &CsvOptions) -> Result<Dataset, DataError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let text = utf8_text(&name, &bytes)?;
    let mut reader = Reader::new(&name, text, options.delimiter);
    let columns = header_columns(&mut reader, &name)?;
    let target_names: Vec<&str> = match &options.target {
        CsvTarget::Label { column, .. } => vec![column.as_str()],
        CsvTarget::Values { columns } => columns.iter().map(String::as_str).collect(),
    };
    let target_columns = target_names
        .iter()
        .map(|name_wanted| find_column(&name, &columns, name_wanted))
        .collect::<Result<Vec<usize>, DataError>>()?;
    let feature_columns: Vec<usize> = (0..columns.len())
        .filter(|c| !target_columns.contains(c))
        .collect();
    if feature_columns.is_empty() {
        return Err(DataError::Content {
            path: name,
            found: format!("only the target columns ({})", columns.join(", ")),
            expected: "at least one feature column besides the targets".into(),
        });
    }

    let mut features = Vec::new();
    let mut targets = Vec::new();
    let mut labels = Vec::new();
    while let Some(record) = reader.next_record()? {
        if record.fields.len() != columns.len() {
            return Err(DataError::ColumnCount {
                path: name.clone(),
                line: record.line,
                expected: columns.len(),
                found: record.fields.len(),
            });
        }
        for &c in &feature_columns {
            features.push(number(&name, &record.fields[c])?);
        }
        match &options.target {
            CsvTarget::Label { classes, .. } => {
                let field = &record.fields[target_columns[0]];
                let label = class_index(&name, field)?;
                if let Some(classes) = *classes
                    && label as usize >= classes
                {
                    return Err(DataError::LabelOutOfRange {
                        origin: format!("{name}:{}:{}: ", field.line, field.column),
                        row: labels.len(),
                        label: label.into(),
                        classes,
                    });
                }
                labels.push(label);
            }
            CsvTarget::Values { .. } => {
                for &c in &target_columns {
                    targets.push(number(&name, &record.fields[c])?);
                }
            }
        }
    }

    let targets = match &options.target {
        CsvTarget::Label { classes, .. } => {
            let inferred = labels.iter().max().map_or(0, |&m| m as usize + 1);
            Targets::Classes {
                labels,
                classes: classes.unwrap_or(inferred),
            }
        }
        CsvTarget::Values { columns } => Targets::Values {
            values: targets,
            width: columns.len(),
        },
    };
    Dataset::new(features, vec![feature_columns.len()], targets)
}

/// Features without targets, for prediction: every column except those
/// named in `ignore` (a label column left in the file is skipped). Returns
/// the values row-major and the number of feature columns.
pub fn csv_features(path: &Path, ignore: &[&str]) -> Result<(Vec<f32>, usize), DataError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let text = utf8_text(&name, &bytes)?;
    let mut reader = Reader::new(&name, text, ',');
    let columns = header_columns(&mut reader, &name)?;
    let keep: Vec<usize> = (0..columns.len())
        .filter(|&c| !ignore.contains(&columns[c].as_str()))
        .collect();
    let mut features = Vec::new();
    while let Some(record) = reader.next_record()? {
        if record.fields.len() != columns.len() {
            return Err(DataError::ColumnCount {
                path: name.clone(),
                line: record.line,
                expected: columns.len(),
                found: record.fields.len(),
            });
        }
        for &c in &keep {
            features.push(number(&name, &record.fields[c])?);
        }
    }
    Ok((features, keep.len()))
}

/// The bytes as text, or an error at the line and column of the first invalid byte.
fn utf8_text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, DataError> {
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        DataError::Parse {
            path: name.to_string(),
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
            found: format!("the byte 0x{:02x}", bytes[error.valid_up_to()]),
            expected: "UTF-8 text".into(),
        }
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
        format!("{:?}", field.text.trim())
    }
}

fn number(path: &str, field: &Field) -> Result<f32, DataError> {
    match field.text.trim().parse::<f32>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(field_error(path, field, "a finite number")),
        Err(_) => Err(field_error(path, field, "a number")),
    }
}

/// A class index: a whole number from 0 (written as an integer or as e.g. `3.0`).
fn class_index(path: &str, field: &Field) -> Result<u32, DataError> {
    let text = field.text.trim();
    let whole = text.parse::<u32>().ok().or_else(|| {
        let value = text.parse::<f64>().ok()?;
        let in_range = value >= 0.0 && value <= f64::from(u32::MAX) && value.fract() == 0.0;
        in_range.then_some(value as u32)
    });
    match whole {
        Some(label) if label as usize >= MAX_CLASSES => Err(field_error(
            path,
            field,
            &format!("a class index below {MAX_CLASSES} (the most classes supported)"),
        )),
        Some(label) => Ok(label),
        None => Err(field_error(
            path,
            field,
            "a class index (a whole number from 0)",
        )),
    }
}

fn field_error(path: &str, field: &Field, expected: &str) -> DataError {
    DataError::Parse {
        path: path.to_string(),
        line: field.line,
        column: field.column,
        found: shown(field),
        expected: expected.to_string(),
    }
}
