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

    fn empty_detail(&self) -> &'static str {
        " (the arrays have 0 rows)"
    }

    fn load(&self, _seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        data::npy(Path::new(&self.x), Path::new(&self.y), self.classes, policy)
    }

    fn describe(&self) -> String {
        let mut out = format!("npy {:?} and {:?}", self.x, self.y);
        if let Some(c) = self.classes {
            out += &format!(", {c} classes");
        }
        out
    }
}
