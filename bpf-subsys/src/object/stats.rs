//! [`StatsObj`]: what a `BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)` fd holds (Linux's `bpf-stats`
//! anonymous inode). Program run statistics are kept while at least one exists.

use alloc::sync::Arc;

/// A stats fd's object: switches run statistics on when made, off when the last one is
/// dropped ([`crate::run::stats_enable`] / [`crate::run::stats_disable`]).
pub struct StatsObj {
    _private: (),
}

impl StatsObj {
    /// Switches run statistics on for the lifetime of the returned object.
    pub fn new() -> Arc<StatsObj> {
        crate::run::stats_enable();
        Arc::new(StatsObj { _private: () })
    }
}

impl Drop for StatsObj {
    fn drop(&mut self) {
        crate::run::stats_disable();
    }
}
