//! A small synthetic image set that a convolutional network can learn in seconds: grey
//! `size`×`size` images of four shapes drawn at random positions and sizes, with noise.

use super::alloc::{MemoryLimit, bytes_of};
use super::synthetic::{class_buffers_with, classes_dataset, shuffled};
use super::{DataError, Dataset};
use crate::rng::Rng;

/// The classes of [`shapes`], in label order.
pub const SHAPE_CLASSES: [&str; 4] = ["horizontal bar", "vertical bar", "square outline", "cross"];

/// Standard deviation of the gaussian noise added to every pixel before clamping to `[0, 1]`.
const PIXEL_NOISE: f64 = 0.15;

/// Smallest extent of a drawn shape, in pixels: below 3 a square and a cross look alike.
const MIN_EXTENT: usize = 3;

/// `points` images of shape `[1, size, size]`, 4 balanced classes (see [`SHAPE_CLASSES`]):
/// a one-pixel horizontal or vertical bar at least half the image long, the outline of a
/// square, or a diagonal cross (both diagonals of a square), each placed at random. Shape
/// pixels are 1 and background 0 before gaussian noise is added and values are clamped to
/// `[0, 1]`. Needs `size >= 4`.
pub fn shapes(
    points: usize,
    size: usize,
    seed: u64,
    limit: MemoryLimit,
) -> Result<Dataset, DataError> {
    if size < 4 {
        return Err(DataError::invalid("image size", size, "at least 4 pixels"));
    }
    let what = || format!("shapes(points: {points}, size: {size})");
    let pixels = size.checked_mul(size);
    let canvas_bytes = pixels.and_then(bytes_of::<f32>);
    let (mut budget, mut features, mut labels) = class_buffers_with(
        Some(points),
        pixels.unwrap_or(usize::MAX),
        canvas_bytes,
        limit,
        &what,
    )?;
    let pixels = pixels.unwrap_or(usize::MAX);
    let mut canvas = budget.filled(pixels, 0.0f32, &what)?;
    let mut rng = Rng::new(seed);
    for i in 0..points {
        let class = i % SHAPE_CLASSES.len();
        canvas.fill(0.0);
        draw_shape(class, size, &mut canvas, &mut rng);
        for pixel in &mut canvas {
            *pixel = (f64::from(*pixel) + PIXEL_NOISE * rng.normal()).clamp(0.0, 1.0) as f32;
        }
        features.extend_from_slice(&canvas);
        labels.push(class as u32);
    }
    budget.release::<f32>(canvas.capacity());
    drop(canvas);
    let dataset = classes_dataset(features, vec![1, size, size], labels, SHAPE_CLASSES.len())?;
    shuffled(dataset, &mut rng, &mut budget, &what)
}

/// Draws one shape of the given class with value 1 onto a zeroed `size`×`size` canvas.
fn draw_shape(class: usize, size: usize, canvas: &mut [f32], rng: &mut Rng) {
    let mut set = |row: usize, col: usize| canvas[row * size + col] = 1.0;
    match class {
        0 | 1 => {
            let length = random_in(rng, size.div_ceil(2).max(MIN_EXTENT), size);
            let across = rng.below(size);
            let along = rng.below(size - length + 1);
            for k in along..along + length {
                if class == 0 {
                    set(across, k)
                } else {
                    set(k, across)
                }
            }
        }
        _ => {
            let side = random_in(rng, MIN_EXTENT, size);
            let top = rng.below(size - side + 1);
            let left = rng.below(size - side + 1);
            let last = side - 1;
            for k in 0..side {
                if class == 2 {
                    set(top, left + k);
                    set(top + last, left + k);
                    set(top + k, left);
                    set(top + k, left + last);
                } else {
                    set(top + k, left + k);
                    set(top + k, left + last - k);
                }
            }
        }
    }
}

/// A uniform integer in `lo..=hi` (`lo <= hi`).
fn random_in(rng: &mut Rng, lo: usize, hi: usize) -> usize {
    lo + rng.below(hi - lo + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (row, col) of every set pixel.
    fn lit(canvas: &[f32], size: usize) -> Vec<(usize, usize)> {
        (0..size * size)
            .filter(|&i| canvas[i] == 1.0)
            .map(|i| (i / size, i % size))
            .collect()
    }

    fn drawn(class: usize, size: usize, seed: u64) -> Vec<(usize, usize)> {
        let mut canvas = vec![0.0; size * size];
        draw_shape(class, size, &mut canvas, &mut Rng::new(seed));
        lit(&canvas, size)
    }

    #[test]
    fn bars_lie_on_one_row_or_column_and_span_at_least_half_the_image() {
        for seed in 0..50 {
            for size in [4, 7, 12] {
                let horizontal = drawn(0, size, seed);
                assert!(horizontal.iter().all(|p| p.0 == horizontal[0].0));
                assert!(horizontal.len() >= size.div_ceil(2).max(3));
                let vertical = drawn(1, size, seed);
                assert!(vertical.iter().all(|p| p.1 == vertical[0].1));
                assert!(vertical.len() >= size.div_ceil(2).max(3));
            }
        }
    }

    #[test]
    fn squares_are_hollow_outlines_and_crosses_are_two_diagonals() {
        for seed in 0..50 {
            let size = 9;
            let square = drawn(2, size, seed);
            let (top, left) = *square.iter().min().unwrap();
            let side = square.iter().map(|p| p.0).max().unwrap() - top + 1;
            assert!(side >= 3);
            assert_eq!(square.len(), 4 * (side - 1), "outline of side {side}");
            assert!(square.iter().all(|&(r, c)| {
                r == top || r == top + side - 1 || c == left || c == left + side - 1
            }));

            let cross = drawn(3, size, seed);
            let top = cross.iter().map(|p| p.0).min().unwrap();
            let left = cross.iter().map(|p| p.1).min().unwrap();
            let side = cross.iter().map(|p| p.0).max().unwrap() - top + 1;
            assert!(side >= 3);
            assert!(
                cross
                    .iter()
                    .all(|&(r, c)| { r - top == c - left || r - top == side - 1 - (c - left) })
            );
            assert_eq!(
                cross.len(),
                2 * side - side % 2,
                "both diagonals of side {side}"
            );
        }
    }
}
