//! Ranks as threads of one process, meeting in shared memory: the same
//! arithmetic as ranks on several machines, for tests and for callers of the
//! library that want it. A rank that is dropped before the others (its
//! thread failed) releases them with [`CollectiveError::RankFailed`]
//! instead of leaving them waiting.

use super::{Collective, CollectiveError, Group};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// What the ranks share: one slot per rank, and a barrier that counts
/// arrivals by generation.
struct Shared {
    size: usize,
    state: Mutex<State>,
    turn: Condvar,
}

struct State {
    slots: Vec<Vec<f64>>,
    reasons: Vec<String>,
    arrived: usize,
    generation: u64,
    /// A rank left: (rank, why).
    departed: Option<(usize, String)>,
}

/// One rank of a local group.
pub struct LocalRank {
    rank: usize,
    shared: Arc<Shared>,
}

/// `size` ranks that train together in this process, one per thread.
pub fn group(size: usize) -> Vec<Group> {
    let size = size.max(1);
    let shared = Arc::new(Shared {
        size,
        state: Mutex::new(State {
            slots: vec![Vec::new(); size],
            reasons: vec![String::new(); size],
            arrived: 0,
            generation: 0,
            departed: None,
        }),
        turn: Condvar::new(),
    });
    (0..size)
        .map(|rank| {
            Group::new(Arc::new(LocalRank {
                rank,
                shared: shared.clone(),
            }))
        })
        .collect()
}

impl LocalRank {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A rank that panicked holding the lock leaves the data as it was.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until every rank has arrived (or one has left).
    fn meet<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
    ) -> Result<MutexGuard<'a, State>, CollectiveError> {
        let generation = state.generation;
        state.arrived += 1;
        if state.arrived == self.shared.size {
            state.arrived = 0;
            state.generation += 1;
            self.shared.turn.notify_all();
        }
        while state.generation == generation {
            if let Some((rank, why)) = &state.departed {
                return Err(CollectiveError::RankFailed {
                    rank: *rank,
                    size: self.shared.size,
                    why: why.clone(),
                });
            }
            state = self
                .shared
                .turn
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        Ok(state)
    }

    /// Every rank's `values` summed in rank order, into `values`.
    fn sum(&self, values: &mut [f64]) -> Result<(), CollectiveError> {
        let mut state = self.lock();
        state.slots[self.rank] = values.to_vec();
        let state = self.meet(state)?;
        if state.slots.iter().any(|s| s.len() != values.len()) {
            return Err(CollectiveError::Transport(
                "the ranks summed buffers of different lengths".into(),
            ));
        }
        for (i, v) in values.iter_mut().enumerate() {
            *v = state.slots.iter().map(|s| s[i]).sum();
        }
        // Nobody writes a slot again until everyone has read them all.
        self.meet(state).map(drop)
    }
}

impl Collective for LocalRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.shared.size
    }

    fn sum_f32(&self, values: &mut [f32]) -> Result<(), CollectiveError> {
        let mut wide: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        self.sum(&mut wide)?;
        // A sum of f32 in f64 rounded once: the same on every rank.
        for (v, w) in values.iter_mut().zip(wide) {
            *v = w as f32;
        }
        Ok(())
    }

    fn sum_f64(&self, values: &mut [f64]) -> Result<(), CollectiveError> {
        self.sum(values)
    }

    fn agree(&self, ok: bool, why: &str) -> Result<(), CollectiveError> {
        let mut state = self.lock();
        // A failure without a reason still fails.
        state.reasons[self.rank] = match (ok, why) {
            (true, _) => String::new(),
            (false, "") => "failed".into(),
            (false, why) => why.to_string(),
        };
        let state = self.meet(state)?;
        let failed = (state.reasons.iter().enumerate()).find(|(_, r)| !r.is_empty());
        let verdict = failed.map(|(rank, why)| CollectiveError::RankFailed {
            rank,
            size: self.shared.size,
            why: why.clone(),
        });
        drop(self.meet(state)?);
        verdict.map_or(Ok(()), Err)
    }
}

impl Drop for LocalRank {
    fn drop(&mut self) {
        let mut state = self.lock();
        if state.departed.is_none() {
            let why = if std::thread::panicking() {
                "its thread panicked"
            } else {
                "it finished before the others"
            };
            state.departed = Some((self.rank, why.to_string()));
        }
        self.shared.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn every_rank_gets_the_same_sum() {
        let ranks = group(3);
        let sums: Vec<Vec<f32>> = std::thread::scope(|s| {
            let handles: Vec<_> = ranks
                .into_iter()
                .map(|g| {
                    s.spawn(move || {
                        let mut v = vec![g.rank() as f32 + 0.5, 1.0];
                        g.sum_f32(&mut v).unwrap();
                        g.sum_f32(&mut v).unwrap();
                        v
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for s in &sums {
            assert_eq!(s, &vec![3.0 * 4.5, 9.0]);
        }
    }

    #[test]
    fn a_failing_rank_stops_the_others_with_its_reason() {
        let ranks = group(2);
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = ranks
                .into_iter()
                .map(|g| {
                    s.spawn(move || {
                        let ok = g.rank() == 0;
                        g.agree(ok, "cannot read data.csv")
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in results {
            assert_eq!(
                r,
                Err("rank 1 of 2 stopped: cannot read data.csv".to_string())
            );
        }
    }

    #[test]
    fn a_failure_without_a_reason_still_fails() {
        let ranks = group(2);
        let results: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (ranks.into_iter())
                .map(|g| s.spawn(move || g.agree(g.rank() == 0, "").is_err()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results, vec![true, true]);
    }

    #[test]
    fn a_rank_that_leaves_releases_the_waiting_ones() {
        let mut ranks = group(2);
        let leaver = ranks.pop().unwrap();
        drop(leaver);
        let mut v = vec![1.0f32];
        let err = ranks[0].sum_f32(&mut v).unwrap_err().to_string();
        assert!(err.starts_with("rank 1 of 2 stopped"), "{err}");
    }
}
