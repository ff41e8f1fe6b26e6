//! Class labels of a CSV file: indices (`0, 1, 2`) or names (`setosa`).
//!
//! A file's labels are indices when every one of them is a number, and
//! names when none is; a number that is not a whole number from 0 is an
//! error rather than a class called `2.5`, and so is a file that mixes
//! the two. Names are
//! numbered in sorted order, so the same names give the same classes in
//! every file, whatever order their rows come in. A file read for a trained
//! model is read with that model's names instead, and a label it does not
//! know is an error at its row.

use super::csv::field_error;
use super::csv_reader::Field;
use super::error::closest_name;
use super::{DataError, LabelSite, MAX_CLASSES};
use std::collections::HashMap;

/// Where a label text first occurs.
struct FirstSite {
    text: String,
    line: usize,
    column: usize,
    row: usize,
    /// Empty, or not a number at all: only a name can be written so.
    numeric: bool,
}

/// Labels as they are read, one distinct text at a time: memory grows with
/// the classes, not with the rows.
#[derive(Default)]
pub(super) struct LabelReader {
    /// For each row, the index of its text in `distinct`.
    pub ids: Vec<u32>,
    distinct: Vec<FirstSite>,
    index: HashMap<String, u32>,
}

/// The labels of a file, as classes.
pub(super) struct ReadLabels {
    pub labels: Vec<u32>,
    pub classes: usize,
    /// Empty for class indices.
    pub names: Vec<String>,
    /// Where the largest index is, when the classes were counted from it.
    pub largest: Option<LabelSite>,
}

impl LabelReader {
    pub fn read(&mut self, field: &Field) {
        let text = field.text.trim();
        let id = match self.index.get(text) {
            Some(&id) => id,
            None => {
                let id = self.distinct.len() as u32;
                self.index.insert(text.to_string(), id);
                self.distinct.push(FirstSite {
                    text: text.to_string(),
                    line: field.line,
                    column: field.column,
                    row: self.ids.len(),
                    numeric: !text.is_empty() && text.parse::<f64>().is_ok(),
                });
                id
            }
        };
        self.ids.push(id);
    }

    /// The classes: with `names`, those; otherwise indices if every label
    /// is a number, else the sorted distinct names. `declared`: the data
    /// item's `classes`.
    pub fn finish(
        self,
        path: &str,
        declared: Option<usize>,
        names: Option<&[String]>,
    ) -> Result<ReadLabels, DataError> {
        if let Some(site) = self.distinct.iter().find(|d| d.text.is_empty()) {
            return Err(self.error(path, site, "a class label"));
        }
        if let Some(names) = names {
            return self.into_named_classes(path, names);
        }
        if self.distinct.iter().all(|d| d.numeric) {
            return self.into_class_indices(path, declared);
        }
        // Indices and names mixed is a typo in one or the other; read as
        // names, a stray `l` for `1` would silently become a class.
        if self.distinct.iter().any(|d| d.numeric) {
            let first_name = self
                .distinct
                .iter()
                .filter(|d| !d.numeric)
                .min_by_key(|d| d.row);
            if let Some(site) = first_name {
                return Err(self.error(
                    path,
                    site,
                    "a class index (a whole number from 0) like the other labels",
                ));
            }
        }
        let mut sorted: Vec<&str> = self.distinct.iter().map(|d| d.text.as_str()).collect();
        sorted.sort_unstable();
        let names: Vec<String> = sorted.iter().map(|s| s.to_string()).collect();
        if let Some(declared) = declared
            && declared != names.len()
        {
            return Err(DataError::ClassNameCount {
                path: path.to_string(),
                found: names.len(),
                names,
                declared,
            });
        }
        self.into_named_classes(path, &names)
    }

    fn into_named_classes(self, path: &str, names: &[String]) -> Result<ReadLabels, DataError> {
        let class_of: HashMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u32))
            .collect();
        let mut remap = Vec::with_capacity(self.distinct.len());
        for site in &self.distinct {
            match class_of.get(site.text.as_str()) {
                Some(&class) => remap.push(class),
                None => {
                    return Err(DataError::UnknownClass {
                        origin: format!("{path}:{}:{}", site.line, site.column),
                        label: site.text.clone(),
                        classes: names.into(),
                        suggestion: closest_name(&site.text, names),
                    });
                }
            }
        }
        Ok(ReadLabels {
            labels: self.ids.iter().map(|&id| remap[id as usize]).collect(),
            classes: names.len(),
            names: names.to_vec(),
            largest: None,
        })
    }

    fn into_class_indices(
        self,
        path: &str,
        declared: Option<usize>,
    ) -> Result<ReadLabels, DataError> {
        // `remap[id]` is the class of `distinct[id]`.
        let mut remap = Vec::with_capacity(self.distinct.len());
        for site in &self.distinct {
            match class_index(&site.text) {
                Some(label) if label as usize >= MAX_CLASSES => {
                    return Err(self.error(
                        path,
                        site,
                        &format!("a class index below {MAX_CLASSES} (the most classes supported)"),
                    ));
                }
                Some(label) => remap.push(label),
                None => {
                    return Err(self.error(path, site, "a class index (a whole number from 0)"));
                }
            }
        }
        let sites = || self.distinct.iter().zip(remap.iter().copied());
        let site_of = |(s, label): (&FirstSite, u32)| LabelSite {
            origin: format!("{path}:{}:{}", s.line, s.column),
            row: s.row,
            label,
        };
        // The first row of the largest label (`1` and `1.0` are one label).
        let largest = sites()
            .min_by_key(|&(s, label)| (std::cmp::Reverse(label), s.row))
            .map(site_of);
        if let Some(classes) = declared {
            // The first row whose label is out of range.
            let first = sites()
                .filter(|&(_, label)| label as usize >= classes)
                .min_by_key(|&(s, _)| s.row)
                .map(site_of);
            if let Some(first) = first {
                return Err(DataError::LabelOutOfRange {
                    origin: format!("{}: ", first.origin),
                    row: first.row,
                    label: first.label.into(),
                    classes,
                });
            }
        }
        Ok(ReadLabels {
            labels: self.ids.iter().map(|&id| remap[id as usize]).collect(),
            classes: declared.unwrap_or(largest.as_ref().map_or(0, |l| l.label as usize + 1)),
            names: Vec::new(),
            largest: largest.filter(|_| declared.is_none()),
        })
    }

    fn error(&self, path: &str, site: &FirstSite, expected: &str) -> DataError {
        let field = Field {
            text: &site.text,
            line: site.line,
            column: site.column,
        };
        field_error(path, &field, expected)
    }
}

/// A class index: a whole number from 0 (written as an integer or as e.g. `3.0`).
fn class_index(text: &str) -> Option<u32> {
    text.parse::<u32>().ok().or_else(|| {
        let value = text.parse::<f64>().ok()?;
        let in_range = value >= 0.0 && value <= f64::from(u32::MAX) && value.fract() == 0.0;
        in_range.then_some(value as u32)
    })
}
