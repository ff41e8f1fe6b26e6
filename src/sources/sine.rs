//! `sine(points: 500, noise: 0.1)`: `y = sin(x)` with noise on `y`, for
//! regression; samples `[1]`, one real target.

use super::*;
use crate::data;

#[derive(Clone, Debug, PartialEq)]
pub struct Sine {
    pub points: usize,
    pub noise: f64,
}

impl Definition for Sine {
    const KEYWORD: &'static str = "sine";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Sine> {
        let (points, noise) = (points(cx, a, 500), noise(cx, a, 0.1));
        Some(Sine {
            points: points?,
            noise: noise?,
        })
    }
}

impl Rule for Sine {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn sample_shape(&self) -> Option<Vec<usize>> {
        Some(vec![1])
    }

    fn classes(&self) -> Option<usize> {
        None
    }

    fn target_width(&self) -> Option<usize> {
        Some(1)
    }

    fn generated_samples(&self) -> Option<u64> {
        Some(self.points as u64)
    }

    fn load(&self, seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        data::sine(self.points, self.noise as f32, seed, policy.memory_limit())
    }

    fn describe(&self) -> String {
        format!("sine, {} points, noise {}", self.points, self.noise)
    }
}
