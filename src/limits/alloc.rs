//! Allocations whose size comes from a program or a file: they fail with an
//! error instead of aborting the process when memory runs out.

use super::memory::bytes;

/// Memory for `what` could not be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "cannot allocate {} for {what}: the system refused\nhelp: make the model, the batch or the data smaller, or run on a machine with more memory",
    bytes(*size)
)]
pub struct AllocError {
    pub what: String,
    pub size: u64,
}

/// A vector of `len` copies of `value`, or an error naming `what` it was for.
pub fn filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>, AllocError> {
    let mut v = with_capacity(len, what)?;
    v.resize(len, value);
    Ok(v)
}

/// An empty vector with room for `len` elements.
pub fn with_capacity<T>(len: usize, what: &str) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| AllocError {
        what: what.to_string(),
        size: (len as u64).saturating_mul(std::mem::size_of::<T>() as u64),
    })?;
    Ok(v)
}

/// A copy of `items`.
pub fn copy_of<T: Clone>(items: &[T], what: &str) -> Result<Vec<T>, AllocError> {
    let mut v = with_capacity(items.len(), what)?;
    v.extend_from_slice(items);
    Ok(v)
}

/// Grows `v` to `len` elements of `value` (never shrinks it).
pub fn grow<T: Clone>(v: &mut Vec<T>, len: usize, value: T, what: &str) -> Result<(), AllocError> {
    if len > v.len() {
        v.try_reserve_exact(len - v.len()).map_err(|_| AllocError {
            what: what.to_string(),
            size: (len as u64).saturating_mul(std::mem::size_of::<T>() as u64),
        })?;
        v.resize(len, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_allocation_is_an_error() {
        let e = filled(usize::MAX / 8, 0.0f32, "the test's buffer").unwrap_err();
        assert_eq!(e.what, "the test's buffer");
        assert!(e.to_string().contains("cannot allocate"), "{e}");
        let mut v = vec![1u8];
        assert!(grow(&mut v, usize::MAX, 0, "growth").is_err());
        assert_eq!(v, [1]);
        assert_eq!(filled(3, 7u8, "x").unwrap(), [7, 7, 7]);
    }
}
