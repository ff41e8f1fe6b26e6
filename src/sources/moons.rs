//! `moons(points: 1000, noise: 0.1)`: two interleaving half circles; two
//! classes, samples `[2]`.

use super::*;
use crate::data;

#[derive(Clone, Debug, PartialEq)]
pub struct Moons {
    pub points: usize,
    pub noise: f64,
}

impl Definition for Moons {
    const KEYWORD: &'static str = "moons";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Moons> {
        let (points, noise) = (points(cx, a, 1000), noise(cx, a, 0.1));
        Some(Moons {
            points: points?,
            noise: noise?,
        })
    }
}

impl Rule for Moons {
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
        data::moons(self.points, self.noise as f32, seed, policy.memory_limit())
    }

    fn describe(&self) -> String {
        format!("moons, {} points, noise {}", self.points, self.noise)
    }
}
