//! `npy(x: PATH, y: PATH, classes)`: a pair of NumPy `.npy` arrays, samples
//! along the first axis of `x` and class labels in `y`; the classes are
//! counted from the labels unless declared.

use super::*;
use crate::data;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct Npy {
    pub x: String,
    pub y: String,
    pub classes: Option<usize>,
    /// Set only by the loader, for a data item with `impute`.
    pub keep_missing: bool,
}

impl Definition for Npy {
    const KEYWORD: &'static str = "npy";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Npy> {
        let x = a.string(cx, "x", true);
        let y = a.string(cx, "y", true);
        let classes = declared_classes(cx, a)?;
        Some(Npy {
            x: x?.0,
            y: y?.0,
            classes,
            keep_missing: false,
        })
    }
}

impl Rule for Npy {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn classes(&self) -> Option<usize> {
        self.classes
    }

    fn files(&self) -> Vec<&str> {
        vec![&self.x, &self.y]
    }

    fn read_instead(&mut self, _path: &str) -> Result<(), String> {
        Err("is read from a pair of NPY files".into())
    }

    fn keep_missing(&mut self) {
        self.keep_missing = true;
    }

    fn empty_detail(&self) -> &'static str {
        " (the arrays have 0 rows)"
    }

    fn load(&self, _seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        let (x, y) = (Path::new(&self.x), Path::new(&self.y));
        data::npy_with_missing(x, y, self.classes, self.keep_missing, policy)
    }

    fn describe(&self) -> String {
        let mut out = format!("npy {:?} and {:?}", self.x, self.y);
        if let Some(c) = self.classes {
            out += &format!(", {c} classes");
        }
        out
    }
}
