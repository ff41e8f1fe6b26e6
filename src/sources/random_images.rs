//! `random_images(points: 60000, shape: [1, 28, 28], classes: 10)`: images of
//! uniform noise with random labels: a stand-in for a real image set, to time
//! a network or check that it runs.

use super::*;
use crate::bind::sizes::{fmt_shape, shape_value};
use crate::data;

#[derive(Clone, Debug, PartialEq)]
pub struct RandomImages {
    pub points: usize,
    pub shape: Vec<usize>,
    pub classes: usize,
}

impl Definition for RandomImages {
    const KEYWORD: &'static str = "random_images";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<RandomImages> {
        let (points, classes) = (points(cx, a, 60000), classes(cx, a, 10));
        let shape = match a.raw("shape") {
            Some((v, s)) => shape_value(cx, &v, s, "`shape`"),
            None => Some(vec![1, 28, 28]),
        };
        Some(RandomImages {
            points: points?,
            shape: shape?,
            classes: classes?,
        })
    }
}

impl Rule for RandomImages {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn sample_shape(&self) -> Option<Vec<usize>> {
        Some(self.shape.clone())
    }

    fn classes(&self) -> Option<usize> {
        Some(self.classes)
    }

    fn generated_samples(&self) -> Option<u64> {
        Some(self.points as u64)
    }

    fn load(&self, seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        data::random_images(self.points, &self.shape, self.classes, seed, policy.memory_limit())
    }

    fn describe(&self) -> String {
        format!(
            "random images, {} of {}, {} classes",
            self.points,
            fmt_shape(&self.shape),
            self.classes
        )
    }
}
