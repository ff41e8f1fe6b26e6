//! Time spent in each kernel, for finding what to optimise.
//!
//! With [`CompileOptions::profile`](super::CompileOptions), every entry point
//! calls [`dlc_profile_mark`] before its first kernel and after each one;
//! the time between two marks is charged to the kernel just finished.
//! [`take`] returns the totals and clears them. Marks cost about 30 ns, so
//! profiles of tiny kernels overstate them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The symbol generated code calls.
pub const PROFILE_SYMBOL: &str = "dlc_profile_mark";

/// (entry id, kernel index) -> (calls, seconds).
type Totals = HashMap<(u64, u64), (u64, f64)>;

static TOTALS: Mutex<Option<Totals>> = Mutex::new(None);

thread_local! {
    static LAST: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// Called by generated code: `kernel` is the index of the kernel just
/// finished, or `u64::MAX` at the start of the entry point.
pub extern "C" fn dlc_profile_mark(entry: u64, kernel: u64) {
    let now = Instant::now();
    let last = LAST.with(|l| l.replace(Some(now)));
    if kernel == u64::MAX {
        return;
    }
    if let (Some(last), Ok(mut totals)) = (last, TOTALS.lock()) {
        let slot = totals
            .get_or_insert_with(HashMap::new)
            .entry((entry, kernel))
            .or_insert((0, 0.0));
        slot.0 += 1;
        slot.1 += (now - last).as_secs_f64();
    }
}

/// One kernel's share of the time.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelTime {
    pub entry: u64,
    pub kernel: u64,
    pub calls: u64,
    pub seconds: f64,
}

/// The totals since the last call, slowest first.
pub fn take() -> Vec<KernelTime> {
    let totals = TOTALS
        .lock()
        .ok()
        .and_then(|mut t| t.take())
        .unwrap_or_default();
    let mut out: Vec<KernelTime> = totals
        .into_iter()
        .map(|((entry, kernel), (calls, seconds))| KernelTime {
            entry,
            kernel,
            calls,
            seconds,
        })
        .collect();
    out.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    out
}

/// The kernels that took the most time since the last call, as `dlc run`
/// prints them with `DLC_PROFILE` set (their plans: `dlc check --emit
/// kernels`); the totals are cleared.
pub fn summary() -> String {
    use std::fmt::Write;
    let times = take();
    let total: f64 = times.iter().map(|t| t.seconds).sum();
    let mut out =
        format!("kernel profile ({total:.3} s in kernels; plans: dlc check --emit kernels)\n");
    for t in times.iter().take(30) {
        let entry = crate::autodiff::graphs::Entry::ALL
            .get(t.entry as usize)
            .map_or("?", |e| e.name());
        let _ = writeln!(
            out,
            "  {entry:<10} k{:<4} {:>9.1} us/call {:>7} calls {:>5.1}%",
            t.kernel,
            t.seconds / t.calls.max(1) as f64 * 1e6,
            t.calls,
            100.0 * t.seconds / total.max(1e-12)
        );
    }
    out
}
