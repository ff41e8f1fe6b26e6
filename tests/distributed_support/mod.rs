//! What the tests of training split over ranks share.

/// `|a - b| / |a|` over a whole tensor (Euclidean norms): a weight whose
/// gradient is near zero moves by Adam's normalised step whatever its
/// size, so element by element its rounding is not relative to anything.
pub fn relative_difference(a: &[f32], b: &[f32]) -> f64 {
    let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let diff = norm(&mut a.iter().zip(b).map(|(x, y)| *x as f64 - *y as f64));
    diff / norm(&mut a.iter().map(|x| *x as f64)).max(1e-30)
}
