//! `blobs(points: 1000, classes: 3, features: 2, spread: 1)`: Gaussian
//! clusters, one per class, in `features` dimensions; samples `[features]`.

use super::*;
use crate::data;

#[derive(Clone, Debug, PartialEq)]
pub struct Blobs {
    pub points: usize,
    pub classes: usize,
    pub features: usize,
    pub spread: f64,
}

impl Definition for Blobs {
    const KEYWORD: &'static str = "blobs";

    fn bind(cx: &mut Cx, a: &mut Args, _span: Span) -> Option<Blobs> {
        let (points, classes) = (points(cx, a, 1000), classes(cx, a, 3));
        let features = a.size(cx, "features", 1, Some(2));
        let spread = a.real(cx, "spread", Some(1.0), |s| s > 0.0, "must be positive");
        Some(Blobs {
            points: points?,
            classes: classes?,
            features: features?.0,
            spread: spread?.0,
        })
    }
}

impl Rule for Blobs {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn sample_shape(&self) -> Option<Vec<usize>> {
        Some(vec![self.features])
    }

    fn classes(&self) -> Option<usize> {
        Some(self.classes)
    }

    fn generated_samples(&self) -> Option<u64> {
        Some(self.points as u64)
    }

    fn load(&self, seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError> {
        data::blobs(self.points, self.classes, self.features, self.spread as f32, seed, policy.memory_limit())
    }

    fn describe(&self) -> String {
        format!(
            "blobs, {} points, {} classes, {} features, spread {}",
            self.points, self.classes, self.features, self.spread
        )
    }
}
