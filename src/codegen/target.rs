//! What the entry points are compiled for: which back end runs them, and the
//! largest batch when the training plan does not say. The memory estimate
//! (`crate::limits`) plans for the same choice the runtime makes.

/// Which back end runs the entry points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// Native code from Cranelift (this module).
    #[default]
    Jit,
    /// The reference interpreter (`crate::interp`; slow, for checking).
    Interpreter,
}

/// The batch size entry points are compiled for when the plan does not say.
pub const DEFAULT_MAX_BATCH: usize = 256;
