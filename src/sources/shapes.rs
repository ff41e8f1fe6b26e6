//! `shapes(points: 2000, size: 16)`: small images of four kinds of shape
//! (four classes), samples `[1, size, size]`.

use super::*;
use crate::data;

#[derive(Clone, Debug, PartialEq)]
pub struct Shapes {
    pub points: usize,
    pub size: usize,
}

impl Definition for Shapes {
    const KEYWORD: &'static str = "shapes";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Shapes> {
        let points = points(cx, a, 2000);
        let size = a.size(cx, "size", 8, Some(16));
        Some(Shapes {
            points: points?,
            size: size?.0,
        })
    }
}

impl Rule for Shapes {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn sample_shape(&self) -> Option<Vec<usize>> {
        Some(vec![1, self.size, self.size])
    }

    fn classes(&self) -> Option<usize> {
        Some(4)
    }

    fn generated_samples(&self) -> Option<u64> {
        Some(self.points as u64)
    }

    fn load(&self, seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        data::shapes(self.points, self.size, seed, policy.memory_limit())
    }

    fn describe(&self) -> String {
        format!("shapes, {} images of {}x{}, 4 classes", self.points, self.size, self.size)
    }
}
