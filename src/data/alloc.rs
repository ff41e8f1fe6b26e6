//! Allocation for data sets whose size comes from a program or a file: checked against a
//! limit before anything is allocated, and fallible, so that a program asking for a billion
//! points or a file announcing terabytes gets an error naming what was too large instead of
//! ending the process.

use super::DataError;

/// The most bytes the buffers of one data set may take (features, targets and the scratch
/// a loader needs on the way); `MemoryLimit::NONE` sets no limit beyond what the machine
/// can allocate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryLimit(pub Option<u64>);

impl MemoryLimit {
    /// No limit: only an allocation that fails is an error.
    pub const NONE: MemoryLimit = MemoryLimit(None);

    /// At most `bytes` bytes.
    pub fn bytes(bytes: u64) -> MemoryLimit {
        MemoryLimit(Some(bytes))
    }
}

/// The memory one data set has taken so far, against its limit. Every buffer of the data
/// set is allocated through it: buffers of a size known in advance are charged their whole
/// capacity, buffers that grow as a file is read ([`Budget::grow`]) the elements they hold.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: Option<u64>,
    used: u64,
}

impl Budget {
    pub fn new(limit: MemoryLimit) -> Budget {
        Budget {
            limit: limit.0,
            used: 0,
        }
    }

    /// Whether `bytes` more (`None`: more than fit in 64 bits) stay within the limit;
    /// `what` names the data for the error.
    pub fn check(&self, bytes: Option<u64>, what: &dyn Fn() -> String) -> Result<(), DataError> {
        let total = bytes.and_then(|b| b.checked_add(self.used));
        match (self.limit, total) {
            (Some(limit), total) if total.is_none_or(|t| t > limit) => {
                Err(DataError::DataTooLarge {
                    what: what(),
                    bytes: total,
                    limit,
                    at_least: false,
                })
            }
            (None, None) => Err(DataError::OutOfMemory {
                what: what(),
                bytes: None,
            }),
            _ => Ok(()),
        }
    }

    /// An empty vector with room for exactly `len` elements.
    pub fn vec<T>(&mut self, len: usize, what: &dyn Fn() -> String) -> Result<Vec<T>, DataError> {
        let mut v = Vec::new();
        self.reserve_exact(&mut v, len, what)?;
        Ok(v)
    }

    /// A vector of `len` copies of `value`.
    pub fn filled<T: Clone>(
        &mut self,
        len: usize,
        value: T,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<T>, DataError> {
        let mut v = self.vec(len, what)?;
        v.resize(len, value);
        Ok(v)
    }

    /// Room in `v` for exactly `additional` more elements.
    pub fn reserve_exact<T>(
        &mut self,
        v: &mut Vec<T>,
        additional: usize,
        what: &dyn Fn() -> String,
    ) -> Result<(), DataError> {
        let needed = v.len().checked_add(additional);
        let Some(needed) = needed.filter(|&n| n > v.capacity()) else {
            return match needed {
                Some(_) => Ok(()),
                None => self.check(None, what),
            };
        };
        let grow_bytes = bytes_of::<T>(needed - v.capacity());
        self.check(grow_bytes, what)?;
        let before = v.capacity();
        v.try_reserve_exact(needed - v.len())
            .map_err(|_| DataError::OutOfMemory {
                what: what(),
                bytes: bytes_of::<T>(needed),
            })?;
        self.charge::<T>(v.capacity() - before);
        Ok(())
    }

    /// Room in `v` for `additional` more elements, for a buffer that grows row by row as a
    /// file is read: the elements are charged as they are added, and the buffer grows
    /// geometrically, so that reading stays linear. Its spare capacity (up to as much again,
    /// reserved but never touched) is not charged.
    pub fn grow<T>(
        &mut self,
        v: &mut Vec<T>,
        additional: usize,
        what: &dyn Fn() -> String,
    ) -> Result<(), DataError> {
        let bytes = bytes_of::<T>(additional);
        self.check(bytes, what).map_err(|e| match e {
            DataError::DataTooLarge {
                what, bytes, limit, ..
            } => DataError::DataTooLarge {
                what,
                bytes,
                limit,
                at_least: true,
            },
            other => other,
        })?;
        v.try_reserve(additional)
            .map_err(|_| DataError::OutOfMemory {
                what: what(),
                bytes: v.len().checked_add(additional).and_then(bytes_of::<T>),
            })?;
        self.used = self.used.saturating_add(bytes.unwrap_or(u64::MAX));
        Ok(())
    }

    /// Returns the memory of a buffer that was dropped.
    pub fn release<T>(&mut self, capacity: usize) {
        self.used = self
            .used
            .saturating_sub(bytes_of::<T>(capacity).unwrap_or(u64::MAX));
    }

    fn charge<T>(&mut self, elements: usize) {
        self.used = self
            .used
            .saturating_add(bytes_of::<T>(elements).unwrap_or(u64::MAX));
    }
}

/// The bytes `count` values of `T` take, or `None` beyond 64 bits.
pub(crate) fn bytes_of<T>(count: usize) -> Option<u64> {
    (count as u64).checked_mul(std::mem::size_of::<T>() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what() -> String {
        "the test buffer".into()
    }

    #[test]
    fn the_budget_counts_capacity_and_refuses_what_would_pass_the_limit() {
        let mut budget = Budget::new(MemoryLimit::bytes(100));
        let v: Vec<f32> = budget.vec(20, &what).unwrap();
        assert_eq!(v.capacity(), 20);
        let err = budget.vec::<f32>(6, &what).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::DataTooLarge {
                    bytes: Some(104),
                    limit: 100,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(budget.vec::<f32>(5, &what).is_ok());
    }

    #[test]
    fn growing_buffers_are_charged_for_what_they_hold() {
        let mut budget = Budget::new(MemoryLimit::bytes(40));
        let mut v: Vec<u32> = Vec::new();
        for i in 0..10 {
            budget.grow(&mut v, 1, &what).unwrap();
            v.push(i);
        }
        assert!(budget.grow(&mut v, 1, &what).is_err());
    }

    #[test]
    fn sizes_beyond_64_bits_are_errors_not_overflows() {
        let mut budget = Budget::new(MemoryLimit::NONE);
        let err = budget.vec::<f64>(usize::MAX, &what).unwrap_err();
        assert!(matches!(err, DataError::OutOfMemory { .. }), "{err:?}");
        let limited = Budget::new(MemoryLimit::bytes(1));
        let err = limited.check(None, &what).unwrap_err();
        assert!(matches!(err, DataError::DataTooLarge { bytes: None, .. }));
    }
}
