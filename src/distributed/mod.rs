//! Data-parallel training over a group of processes: the collective
//! operations a training step needs, behind one trait.
//!
//! ```text
//!  every rank: the same batches (same data, same shuffle)
//!      |  rows first..first+n of each batch (its shard)
//!      v
//!  backward (means over the whole batch, batch norm's sums summed
//!      |     across ranks, dropout keyed by a sample's place)
//!      v
//!  sum of the gradients over the ranks   <- one collective per step
//!      v
//!  update (the same on every rank, so the weights stay equal)
//! ```
//!
//! [`Group`] is what training sees. [`local`] runs ranks as threads of one
//! process (for tests and for the library); the `mpi` feature adds ranks
//! that are MPI processes (`mpirun -np N dlc run`).

pub mod active;
pub mod local;
#[cfg(feature = "mpi")]
pub mod mpi;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Why a collective operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CollectiveError {
    /// Another rank stopped (with an error of its own, reported there).
    #[error("rank {rank} of {size} stopped: {why}")]
    RankFailed {
        rank: usize,
        size: usize,
        why: String,
    },
    /// The transport itself failed.
    #[error("the ranks could not communicate: {0}")]
    Transport(String),
}

/// The operations ranks perform together. Every rank calls them in the
/// same order with buffers of the same length; each call returns the same
/// values on every rank.
pub trait Collective: Send + Sync {
    /// This process's rank, in `0..size`.
    fn rank(&self) -> usize;
    /// How many ranks train together.
    fn size(&self) -> usize;
    /// Element-wise sum over the ranks, in place; every rank gets the same
    /// bits (a sum in one fixed order, not one per rank).
    fn sum_f32(&self, values: &mut [f32]) -> Result<(), CollectiveError>;
    /// [`Collective::sum_f32`] for f64 (metrics: loss sums, counts).
    fn sum_f64(&self, values: &mut [f64]) -> Result<(), CollectiveError>;
    /// Whether every rank is `ok`; on `false`, the first failing rank and
    /// its reason (each rank passes its own, empty when `ok`).
    fn agree(&self, ok: bool, why: &str) -> Result<(), CollectiveError>;
}

/// How many of the launcher's processes run on this machine, from the
/// variables `mpirun` and `srun` set; `None` when none did.
pub fn local_ranks() -> Option<usize> {
    [
        "OMPI_COMM_WORLD_LOCAL_SIZE",
        "MPI_LOCALNRANKS",
        "SLURM_NTASKS_PER_NODE",
    ]
    .iter()
    .find_map(|v| std::env::var(v).ok()?.parse().ok())
    .filter(|&n| n > 0)
}

/// The number of processes an MPI launcher (`mpirun`, `srun`) started this
/// one among, from the variables it sets; `None` when none did.
pub fn launcher_size() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
}

/// The ranks a run trains on (one, unless a caller or `mpirun` says more),
/// and the time this rank has spent in their collective operations.
#[derive(Clone)]
pub struct Group {
    ranks: Arc<dyn Collective>,
    waited_ns: Arc<AtomicU64>,
}

impl Group {
    pub fn new(ranks: Arc<dyn Collective>) -> Group {
        Group {
            ranks,
            waited_ns: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Seconds this rank has spent in collective operations (summing and
    /// waiting for the others) since the group was made.
    pub fn seconds_in_collectives(&self) -> f64 {
        self.waited_ns.load(Ordering::Relaxed) as f64 * 1e-9
    }

    fn timed<T>(&self, f: impl FnOnce(&dyn Collective) -> T) -> T {
        let start = Instant::now();
        let out = f(&*self.ranks);
        let ns = start.elapsed().as_nanos() as u64;
        self.waited_ns.fetch_add(ns, Ordering::Relaxed);
        out
    }

    /// [`Collective::sum_f32`], timed.
    pub fn sum_f32(&self, values: &mut [f32]) -> Result<(), CollectiveError> {
        self.timed(|c| c.sum_f32(values))
    }

    /// [`Collective::sum_f64`], timed.
    pub fn sum_f64(&self, values: &mut [f64]) -> Result<(), CollectiveError> {
        self.timed(|c| c.sum_f64(values))
    }

    /// [`Collective::agree`], timed.
    pub fn agree(&self, ok: bool, why: &str) -> Result<(), CollectiveError> {
        self.timed(|c| c.agree(ok, why))
    }

    pub fn rank(&self) -> usize {
        self.ranks.rank()
    }

    pub fn size(&self) -> usize {
        self.ranks.size()
    }

    /// Whether this rank prints and writes files (rank 0 only).
    pub fn leads(&self) -> bool {
        self.rank() == 0
    }

    /// Rows `first..first + len` of a batch of `n` this rank trains on: `n`
    /// split into `size` nearly equal contiguous parts, the larger first.
    pub fn shard(&self, n: usize) -> (usize, usize) {
        shard(n, self.rank(), self.size())
    }
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Group(rank {} of {})", self.rank(), self.size())
    }
}

/// Rows of rank `rank`'s part of `n` split `size` ways: `(first, len)`.
pub fn shard(n: usize, rank: usize, size: usize) -> (usize, usize) {
    let (base, extra) = (n / size, n % size);
    let first = rank * base + rank.min(extra);
    (first, base + usize::from(rank < extra))
}

#[cfg(test)]
mod tests {
    use super::shard;

    #[test]
    fn shards_cover_the_batch_once_in_order() {
        for n in 0..40 {
            for size in 1..7 {
                let mut next = 0;
                for rank in 0..size {
                    let (first, len) = shard(n, rank, size);
                    assert_eq!(first, next, "n {n} size {size} rank {rank}");
                    assert!(len == n / size || len == n / size + 1);
                    next += len;
                }
                assert_eq!(next, n);
            }
        }
    }
}
