//! The persistent worker pool that compiled code spreads its large kernels over.
//!
//! One pool serves the whole process: `threads() - 1` workers, started on first
//! use, plus the calling thread, which always takes part. [`run`] hands out the
//! indices of a task through one atomic counter, so a fast thread takes more of
//! them, and returns when every index is done. Between tasks the workers spin
//! for [`SPIN`] (the kernels of one step follow each other within microseconds,
//! and waking a parked thread costs tens of them), then park until the next.
//!
//! Every use splits its work at boundaries that do not depend on the thread
//! count, and each index writes only its own part of the output, so a result
//! is the same, bit for bit, on any number of threads.
//!
//! A task started from inside a task, or while another caller holds the pool
//! (grid points trained side by side), runs on the calling thread alone.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it parks.
const SPIN: Duration = Duration::from_micros(200);

/// The thread count set by [`set_threads`]; 0 until then.
static THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on workers, and on a caller while its task runs: a task started
    /// here runs inline.
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
    /// This thread's slot: 0 for any caller, `k` for worker `k`.
    static SLOT: Cell<usize> = const { Cell::new(0) };
}

/// Sets the threads compiled code may use (at least 1), for the rest of the
/// process. Without a call, `DLC_THREADS` from the environment, else every core.
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The threads compiled code uses (see [`set_threads`]).
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = std::env::var("DLC_THREADS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            THREADS.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// One call of [`run`]: the task and its counters. Workers hold it through an
/// `Arc`, so a worker that arrives late touches only these counters.
struct Job {
    /// Valid while `done < count` (the caller waits for that before returning).
    task: *const (dyn Fn(usize, usize) + Sync),
    count: usize,
    /// Threads that may take part: workers from an earlier, larger
    /// [`set_threads`] stay out, so slots stay below [`threads`].
    slots: usize,
    next: AtomicUsize,
    done: AtomicUsize,
}

// SAFETY: `task` is `Sync` and only called while its owner waits in `run`.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Job {
    /// Claims and runs indices until none are left.
    fn work(&self) {
        let slot = SLOT.with(|s| s.get());
        if slot >= self.slots {
            return;
        }
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.count {
                return;
            }
            // SAFETY: `i < count` was claimed, so `done < count` and the caller
            // is still waiting with the task alive.
            unsafe { (*self.task)(i, slot) };
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

struct Pool {
    /// Held by the caller whose task the workers serve.
    submit: Mutex<()>,
    current: Mutex<Option<Arc<Job>>>,
    wake: Condvar,
    /// Bumped for every job, so spinning workers see a new one without a lock.
    generation: AtomicU64,
    workers: Mutex<usize>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        submit: Mutex::new(()),
        current: Mutex::new(None),
        wake: Condvar::new(),
        generation: AtomicU64::new(0),
        workers: Mutex::new(0),
    })
}

impl Pool {
    /// Starts workers until there are `wanted`.
    fn grow(&'static self, wanted: usize) {
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        while *workers < wanted {
            let slot = *workers + 1;
            let spawned = std::thread::Builder::new()
                .name(format!("dlc-worker-{slot}"))
                .spawn(move || self.serve(slot));
            if spawned.is_err() {
                // Fewer workers only means less parallelism.
                return;
            }
            *workers += 1;
        }
    }

    fn serve(&self, slot: usize) {
        IN_TASK.with(|t| t.set(true));
        SLOT.with(|s| s.set(slot));
        let mut seen = self.generation.load(Ordering::Acquire);
        loop {
            let start = Instant::now();
            let mut spins = 0u32;
            while self.generation.load(Ordering::Acquire) == seen {
                std::hint::spin_loop();
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                    let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
                    while self.generation.load(Ordering::Acquire) == seen {
                        current = self.wake.wait(current).unwrap_or_else(|e| e.into_inner());
                    }
                    break;
                }
            }
            seen = self.generation.load(Ordering::Acquire);
            let job = self
                .current
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(job) = job {
                job.work();
            }
        }
    }
}

/// Runs `task(i, slot)` for every `i` in `0..count` on the pool and the
/// calling thread, and returns when all have finished. `slot` names the
/// thread running it, below `max_slots` and [`threads`]: tasks with the same
/// slot never run at once, so a slot can own scratch memory. Each index must
/// write only memory no other index touches.
pub fn run(count: usize, max_slots: usize, task: &(dyn Fn(usize, usize) + Sync)) {
    let threads = threads().min(max_slots);
    let inline = || {
        // A worker running a nested task keeps its slot; any other thread is 0.
        let slot = SLOT.with(|s| s.get()).min(max_slots.saturating_sub(1));
        (0..count).for_each(|i| task(i, slot))
    };
    if count <= 1 || threads <= 1 || IN_TASK.with(|t| t.get()) {
        return inline();
    }
    let pool = pool();
    let Ok(_submit) = pool.submit.try_lock() else {
        return inline();
    };
    pool.grow(threads - 1);
    // SAFETY: only the lifetime is erased; `run` does not return before every
    // claimed index has finished, and unclaimed ones are never started.
    let task: *const (dyn Fn(usize, usize) + Sync) = unsafe { std::mem::transmute(task) };
    let job = Arc::new(Job {
        task,
        count,
        slots: threads,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    });
    {
        let mut current = pool.current.lock().unwrap_or_else(|e| e.into_inner());
        *current = Some(job.clone());
        pool.generation.fetch_add(1, Ordering::Release);
        pool.wake.notify_all();
    }
    IN_TASK.with(|t| t.set(true));
    job.work();
    IN_TASK.with(|t| t.set(false));
    while job.done.load(Ordering::Acquire) < count {
        std::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn every_index_runs_once_whatever_the_thread_count() {
        set_threads(2);
        for count in [0, 1, 2, 3, 17, 1000] {
            let hits: Vec<AtomicU32> = (0..count).map(|_| AtomicU32::new(0)).collect();
            run(count, 2, &|i, slot| {
                assert!(slot < 2);
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1), "count {count}");
        }
    }

    #[test]
    fn a_task_inside_a_task_runs_inline() {
        set_threads(2);
        let total = AtomicU32::new(0);
        run(4, 2, &|_, _| {
            run(3, 2, &|_, _| {
                total.fetch_add(1, Ordering::Relaxed);
            })
        });
        assert_eq!(total.load(Ordering::Relaxed), 12);
    }
}
