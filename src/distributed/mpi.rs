//! Ranks that are MPI processes (`mpirun -np N dlc run`), through the `mpi`
//! crate over the system's MPI library.
//!
//! Sums are a reduction to rank 0 followed by a broadcast of its result, not
//! an all-reduce: MPI does not promise that an all-reduce of floats gives
//! every rank the same bits, and ranks whose weights drift apart by a
//! rounding would train different models. MPI's default error handler ends
//! the whole job on a transport failure, so those never return here.

use super::{Collective, CollectiveError, Group};
use mpi::Threading;
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::sync::{Arc, Mutex};

/// The MPI world of this process.
pub struct MpiWorld {
    // Finalizes MPI when dropped, after the communicator.
    world: Mutex<SimpleCommunicator>,
    _universe: Universe,
    rank: usize,
    size: usize,
}

// SAFETY: MPI is initialised with `Threading::Serialized` and every call goes
// through the mutex, so no two threads are ever inside MPI at once.
unsafe impl Send for MpiWorld {}
unsafe impl Sync for MpiWorld {}

/// Whether this process was started by an MPI launcher (`mpirun`, `srun`),
/// from the variables they set.
pub fn launched() -> bool {
    [
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_RANK",
        "MPI_LOCALNRANKS",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
}

/// The world's group, initialising MPI; `None` if it cannot be.
pub fn world() -> Option<Group> {
    let (universe, _) = mpi::initialize_with_threading(Threading::Serialized)?;
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    Some(Group::new(Arc::new(MpiWorld {
        world: Mutex::new(world),
        _universe: universe,
        rank,
        size,
    })))
}

impl MpiWorld {
    fn with<T>(&self, f: impl FnOnce(&SimpleCommunicator) -> T) -> T {
        let world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        f(&world)
    }

    /// Rank 0's sum of every rank's `values`, then broadcast from rank 0.
    fn sum<T: Copy + Default + mpi::datatype::Equivalence>(&self, values: &mut [T]) {
        self.with(|world| {
            let root = world.process_at_rank(0);
            if self.rank == 0 {
                let mut total = vec![T::default(); values.len()];
                root.reduce_into_root(&*values, &mut total[..], SystemOperation::sum());
                values.copy_from_slice(&total);
            } else {
                root.reduce_into(&*values, SystemOperation::sum());
            }
            root.broadcast_into(values);
        })
    }
}

impl Collective for MpiWorld {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn sum_f32(&self, values: &mut [f32]) -> Result<(), CollectiveError> {
        self.sum(values);
        Ok(())
    }

    fn sum_f64(&self, values: &mut [f64]) -> Result<(), CollectiveError> {
        self.sum(values);
        Ok(())
    }

    fn agree(&self, ok: bool, why: &str) -> Result<(), CollectiveError> {
        // The least failing rank (size when none fails) tells why.
        let mine = if ok {
            self.size as i32
        } else {
            self.rank as i32
        };
        let mut first = mine;
        self.with(|world| world.all_reduce_into(&mine, &mut first, SystemOperation::min()));
        if first as usize == self.size {
            return Ok(());
        }
        let mut bytes = if first as usize == self.rank {
            why.as_bytes().to_vec()
        } else {
            Vec::new()
        };
        let mut len = bytes.len() as u64;
        self.with(|world| {
            let teller = world.process_at_rank(first);
            teller.broadcast_into(&mut len);
            bytes.resize(len as usize, 0);
            teller.broadcast_into(&mut bytes[..]);
        });
        Err(CollectiveError::RankFailed {
            rank: first as usize,
            size: self.size,
            why: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}
