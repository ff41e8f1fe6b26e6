//! `csv(PATH, label: COLUMN, classes)` for classification, or
//! `csv(PATH, target: COLUMNS)` for regression: a CSV file with a header
//! line; every other column is a feature.

use super::*;
use crate::bind::value::Value;
use crate::data::{self, CsvOptions};
use crate::diag::{Diagnostic, codes};
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct Csv {
    pub path: String,
    pub target: CsvTarget,
    /// Declared classes of a label column; counted from the labels otherwise.
    pub classes: Option<usize>,
    /// Set only to read a file like a trained model's data (see
    /// [`Rule::read_like`]); a program cannot write them.
    pub features: Option<Vec<String>>,
    pub class_names: Option<Vec<String>>,
    /// Set only by the loader, for a data item with `impute`.
    pub keep_missing: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CsvTarget {
    /// A class-index column.
    Label { column: String },
    /// Real-valued target columns, for regression.
    Values { columns: Vec<String> },
}

impl Definition for Csv {
    const KEYWORD: &'static str = "csv";
    const POSITIONAL: &'static [&'static str] = &["path"];

    fn bind(cx: &mut Cx, a: &mut Args, span: Span) -> Option<Csv> {
        let path = a.string(cx, "path", true);
        let label = a.string(cx, "label", false);
        let target = a.raw("target");
        let classes = declared_classes(cx, a);
        let (path, classes) = (path?.0, classes?);
        let target = match (label, target) {
            (Some((l, _)), None) => CsvTarget::Label { column: l },
            (None, Some((v, s))) => CsvTarget::Values {
                columns: columns(cx, &v, s)?,
            },
            (Some((_, s1)), Some((_, s2))) => {
                cx.err(
                    Diagnostic::error(codes::CONFLICTING_SETTINGS, "`csv` takes `label` or `target`, not both", s2)
                        .label("`target` here")
                        .secondary(s1, "`label` here")
                        .help("`label` names a class column (classification); `target` names value columns (regression)"),
                );
                return None;
            }
            (None, None) => {
                cx.err(
                    Diagnostic::error(codes::MISSING_ARGUMENT, "`csv` needs a `label` or a `target` column", span)
                        .label("which column is to be predicted?")
                        .help("write `label: \"species\"` for classes, or `target: \"price\"` for values"),
                );
                return None;
            }
        };
        Some(Csv {
            path,
            target,
            classes,
            features: None,
            class_names: None,
            keep_missing: false,
        })
    }
}

/// `target: "price"` or `target: ["x", "y"]`.
fn columns(cx: &mut Cx, v: &Value, span: Span) -> Option<Vec<String>> {
    let items = match v {
        Value::Str(s) => return Some(vec![s.clone()]),
        Value::List(items) if !items.is_empty() => items,
        _ => {
            cx.err(
                Diagnostic::error(
                    codes::ARG_TYPE,
                    format!(
                        "`target` must be a column name or a list of them, found {}",
                        v.describe()
                    ),
                    span,
                )
                .label("expected e.g. `\"price\"` or `[\"x\", \"y\"]`"),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for (item, s) in items {
        match item {
            Value::Str(c) => out.push(c.clone()),
            other => {
                cx.err(
                    Diagnostic::error(
                        codes::ARG_TYPE,
                        format!("column names are strings, found {}", other.describe()),
                        *s,
                    )
                    .label("expected a string"),
                );
                return None;
            }
        }
    }
    Some(out)
}

impl Rule for Csv {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn classes(&self) -> Option<usize> {
        self.classes
    }

    fn target_width(&self) -> Option<usize> {
        match &self.target {
            CsvTarget::Label { .. } => None,
            CsvTarget::Values { columns } => Some(columns.len()),
        }
    }

    fn files(&self) -> Vec<&str> {
        vec![&self.path]
    }

    fn target_columns(&self) -> Vec<&str> {
        match &self.target {
            CsvTarget::Label { column } => vec![column],
            CsvTarget::Values { columns } => columns.iter().map(String::as_str).collect(),
        }
    }

    fn read_instead(&mut self, path: &str) -> Result<(), String> {
        self.path = path.to_string();
        Ok(())
    }

    fn read_like(&mut self, features: &[String], class_names: Option<&[String]>) {
        self.features = (!features.is_empty()).then(|| features.to_vec());
        self.class_names = class_names.map(<[String]>::to_vec);
    }

    fn keep_missing(&mut self) {
        self.keep_missing = true;
    }

    fn empty_detail(&self) -> &'static str {
        " (the file has a header line but no rows)"
    }

    fn load(&self, _seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        let mut options = match &self.target {
            CsvTarget::Label { column } => CsvOptions::label(column),
            CsvTarget::Values { columns } => {
                let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                CsvOptions::values(&columns)
            }
        };
        if let Some(c) = self.classes {
            options = options.with_classes(c);
        }
        if let Some(f) = &self.features {
            options = options.with_features(f);
        }
        if let Some(names) = &self.class_names {
            options = options.with_class_names(names);
        }
        if self.keep_missing {
            options = options.with_missing_kept();
        }
        data::csv(Path::new(&self.path), &options, policy)
    }

    fn describe(&self) -> String {
        let mut out = match &self.target {
            CsvTarget::Label { column } => format!("csv {:?}, label {column:?}", self.path),
            CsvTarget::Values { columns } => {
                format!("csv {:?}, target {}", self.path, columns.join(", "))
            }
        };
        if let Some(c) = self.classes {
            out += &format!(", {c} classes");
        }
        out
    }
}
