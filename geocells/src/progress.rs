//! Progress reporting for the long stages: a leaf module, so that every stage can report
//! without importing the pipeline that composes it.

/// Progress reporting for long stages; implementations must be cheap and thread-safe.
pub trait Progress: Sync {
    /// A stage starts, with `total` units of work (0 if unknown).
    fn stage(&self, name: &str, total: u64);
    /// `n` more units of the current stage are done.
    fn inc(&self, _n: u64) {}
    /// The current stage finished.
    fn done(&self);
    /// Whether the caller asked to stop (Ctrl-C in the Python package): checked between stages
    /// and before each family's split, which then end with `Error::Cancelled`. No result is
    /// half-written: a cancelled run returns no `Run`.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &str, _: u64) {}
    fn done(&self) {}
}
