//! `spirals(points: 1000, classes: 3, noise: 0.2)`: interleaved spiral arms,
//! `points` per class; samples `[2]`.

use super::*;
use crate::data;

#[derive(Clone, Debug, PartialEq)]
pub struct Spirals {
    pub points: usize,
    pub classes: usize,
    pub noise: f64,
}

impl Definition for Spirals {
    const KEYWORD: &'static str = "spirals";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Spirals> {
        let (points, classes, noise) = (points(cx, a, 1000), classes(cx, a, 3), noise(cx, a, 0.2));
        Some(Spirals {
            points: points?,
            classes: classes?,
            noise: noise?,
        })
    }
}

impl Rule for Spirals {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn sample_shape(&self) -> Option<Vec<usize>> {
        Some(vec![2])
    }

    fn classes(&self) -> Option<usize> {
        Some(self.classes)
    }

    fn generated_samples(&self) -> Option<u64> {
        Some((self.points as u64).saturating_mul(self.classes as u64))
    }

    fn load(&self, seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        data::spirals(self.points, self.classes, self.noise as f32, seed, policy.memory_limit())
    }

    fn describe(&self) -> String {
        format!("spirals, {} x {} points, noise {}", self.classes, self.points, self.noise)
    }
}
