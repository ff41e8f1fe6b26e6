//! The group a compiled call on this thread sums across (`Op::CrossSum`):
//! set around a split step's backward pass, so that the compiled code and
//! the interpreter reach the ranks without a pointer in every call. Alone
//! (no group set) a cross-rank sum is the value itself.

use super::{CollectiveError, Group};
use std::cell::RefCell;

thread_local! {
    static ACTIVE: RefCell<Option<(Group, Option<CollectiveError>)>> = const { RefCell::new(None) };
}

/// Runs `f` with `group` as this thread's group; gives its result and the
/// first collective failure a cross-rank sum met during it.
pub fn with_group<T>(group: &Group, f: impl FnOnce() -> T) -> (T, Option<CollectiveError>) {
    ACTIVE.with(|a| *a.borrow_mut() = Some((group.clone(), None)));
    let out = f();
    let failure = ACTIVE.with(|a| a.borrow_mut().take().and_then(|(_, e)| e));
    (out, failure)
}

/// Whether this thread has a group to sum across.
pub fn is_set() -> bool {
    ACTIVE.with(|a| a.borrow().is_some())
}

/// Sums `values` over this thread's group in place (nothing alone). A
/// failure is kept for [`with_group`] to report; the values stay as they were.
pub fn cross_sum(values: &mut [f32]) {
    ACTIVE.with(|a| {
        let mut active = a.borrow_mut();
        if let Some((group, failure)) = active.as_mut()
            && failure.is_none()
            && let Err(e) = group.sum_f32(values)
        {
            *failure = Some(e);
        }
    });
}

/// [`cross_sum`] for compiled code: `len` floats at `ptr`.
///
/// # Safety
/// `ptr` must be valid for reads and writes of `len` floats.
pub unsafe extern "C" fn dlc_cross_sum(ptr: *mut f32, len: u64) {
    if ptr.is_null() || len == 0 {
        return;
    }
    // SAFETY: the caller's promise.
    let values = unsafe { std::slice::from_raw_parts_mut(ptr, len as usize) };
    cross_sum(values);
}

/// The name under which [`dlc_cross_sum`] is registered with the JIT.
pub const CROSS_SUM_SYMBOL: &str = "dlc_cross_sum";
