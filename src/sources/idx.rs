//! `idx(images: PATH, labels: PATH, classes: 10)`: a pair of IDX files, as
//! MNIST is distributed: images (each sample's shape from the file) and
//! class labels.

use super::*;
use crate::data;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct Idx {
    pub images: String,
    pub labels: String,
    pub classes: usize,
}

impl Definition for Idx {
    const KEYWORD: &'static str = "idx";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Idx> {
        let images = a.string(cx, "images", true);
        let labels = a.string(cx, "labels", true);
        let classes = classes(cx, a, 10);
        Some(Idx {
            images: images?.0,
            labels: labels?.0,
            classes: classes?,
        })
    }
}

impl Rule for Idx {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn classes(&self) -> Option<usize> {
        Some(self.classes)
    }

    fn files(&self) -> Vec<&str> {
        vec![&self.images, &self.labels]
    }

    fn read_instead(&mut self, _path: &str) -> Result<(), String> {
        Err("is read from a pair of IDX files".into())
    }

    fn empty_detail(&self) -> &'static str {
        " (the arrays have 0 rows)"
    }

    fn load(&self, _seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        let (images, labels) = (Path::new(&self.images), Path::new(&self.labels));
        data::idx(images, labels, Some(self.classes), policy)
    }

    fn describe(&self) -> String {
        format!(
            "idx {:?} and {:?}, {} classes",
            self.images, self.labels, self.classes
        )
    }
}
