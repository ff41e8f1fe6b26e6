//! `xor(points: 4, noise: 0)`: the corners of the unit square labelled with
//! the exclusive or of their coordinates; two classes, samples `[2]`.

use super::*;
use crate::data;

#[derive(Clone, Debug, PartialEq)]
pub struct Xor {
    pub points: usize,
    pub noise: f64,
}

impl Definition for Xor {
    const KEYWORD: &'static str = "xor";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Xor> {
        let (points, noise) = (points(cx, a, 4), noise(cx, a, 0.0));
        Some(Xor {
            points: points?,
            noise: noise?,
        })
    }
}

impl Rule for Xor {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn sample_shape(&self) -> Option<Vec<usize>> {
        Some(vec![2])
    }

    fn classes(&self) -> Option<usize> {
        Some(2)
    }

    fn generated_samples(&self) -> Option<u64> {
        Some(self.points as u64)
    }

    fn load(&self, seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        data::xor(self.points, self.noise as f32, seed, policy.memory_limit())
    }

    fn describe(&self) -> String {
        format!("xor, {} points, noise {}", self.points, self.noise)
    }
}
