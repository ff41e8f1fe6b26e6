//! Memory as the verifier imagines it: for each float of each base, which
//! value was last written there and by which kernel. Kept as runs of floats
//! (one per write) rather than per float: a batch of 256 images is millions
//! of floats, a plan a few hundred writes.

use super::super::{Base, Loc};
use std::collections::HashMap;
use std::fmt;

/// `len` floats from `start` of one base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Region {
    pub base: Base,
    pub start: usize,
    pub len: usize,
}

impl Region {
    pub fn new(loc: Loc, len: usize) -> Region {
        Region {
            base: loc.base,
            start: loc.offset,
            len,
        }
    }

    pub fn end(&self) -> usize {
        self.start.saturating_add(self.len)
    }

    pub fn overlaps(&self, other: &Region) -> bool {
        self.base == other.base && self.start < other.end() && other.start < self.end()
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = format!("{:?}", self.base).to_lowercase();
        write!(f, "{base}+{}..{}", self.start, self.end())
    }
}

/// Who wrote a run of floats: a value, by a kernel (`None`: before the
/// first kernel, where the runtime puts inputs, parameters and state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Writer {
    pub value: usize,
    pub kernel: Option<usize>,
}

/// What a read found in its region, if not the value it expected.
#[derive(Debug, PartialEq)]
pub(super) enum Found {
    Other(Writer),
    Nothing,
}

#[derive(Default)]
pub(super) struct Memory {
    /// Per base, disjoint runs `(start, end, writer)` sorted by start.
    runs: HashMap<Base, Vec<(usize, usize, Writer)>>,
}

impl Memory {
    pub fn write(&mut self, r: Region, w: Writer) {
        let runs = self.runs.entry(r.base).or_default();
        let (start, end) = (r.start, r.end());
        let mut kept = Vec::with_capacity(runs.len() + 2);
        for &(a, b, old) in runs.iter() {
            if b <= start || a >= end {
                kept.push((a, b, old));
                continue;
            }
            // Keep the parts of an old run outside the new one.
            if a < start {
                kept.push((a, start, old));
            }
            if b > end {
                kept.push((end, b, old));
            }
        }
        if end > start {
            kept.push((start, end, w));
        }
        kept.sort_by_key(|run| run.0);
        *runs = kept;
    }

    /// Whether every float of `r` holds `value`; else what is there instead
    /// (a float another value wrote before one nothing wrote).
    pub fn check(&self, r: Region, value: usize) -> Result<(), Found> {
        let (start, end) = (r.start, r.end());
        let mut covered = start;
        let mut gap = false;
        for &(a, b, w) in self.runs.get(&r.base).into_iter().flatten() {
            if b <= start || a >= end {
                continue;
            }
            if w.value != value {
                return Err(Found::Other(w));
            }
            gap |= a > covered;
            covered = covered.max(b);
        }
        if gap || covered < end {
            return Err(Found::Nothing);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: usize, len: usize) -> Region {
        Region {
            base: Base::Scratch,
            start,
            len,
        }
    }

    const A: Writer = Writer {
        value: 1,
        kernel: Some(0),
    };
    const B: Writer = Writer {
        value: 2,
        kernel: Some(1),
    };

    #[test]
    fn a_write_over_part_of_another_leaves_the_rest() {
        let mut m = Memory::default();
        m.write(at(0, 8), A);
        m.write(at(2, 2), B);
        assert_eq!(m.check(at(0, 2), 1), Ok(()));
        assert_eq!(m.check(at(4, 4), 1), Ok(()));
        assert_eq!(m.check(at(0, 8), 1), Err(Found::Other(B)));
        assert_eq!(m.check(at(2, 2), 2), Ok(()));
    }

    #[test]
    fn floats_nothing_wrote_are_found() {
        let mut m = Memory::default();
        m.write(at(0, 4), A);
        m.write(at(6, 2), A);
        assert_eq!(m.check(at(0, 8), 1), Err(Found::Nothing));
        assert_eq!(m.check(at(0, 4), 1), Ok(()));
        let other = Region {
            base: Base::Params,
            ..at(0, 4)
        };
        assert_eq!(m.check(other, 1), Err(Found::Nothing));
    }
}
