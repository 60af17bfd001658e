//! Raw tracepoints (`BPF_RAW_TRACEPOINT_OPEN`): a tracepoint's arguments as `u64`s, no
//! record.
//!
//! Every static tracepoint is also a raw tracepoint of the same name (its fields in order,
//! integers widened, char arrays and strings as the address of their bytes);
//! [`super::SyscallTracepoints`] adds Linux's `sys_enter` (regs pointer, syscall number)
//! and `sys_exit` (regs pointer, return value).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use syscall_abi::{err, Errno, Result};

use super::event::{ConsumerHandle, ConsumerList, Detach};

/// Receives the arguments of a raw tracepoint. Called in event context: must not block.
pub trait RawConsumer: Send + Sync {
    /// One hit with the tracepoint's arguments.
    fn hit(&self, args: &[u64]);
    /// The id of the BPF program this consumer runs (a program attaches at most once).
    fn prog_id(&self) -> Option<u32> {
        None
    }
}

/// One raw tracepoint.
pub struct RawTracepoint {
    name: String,
    nr_args: usize,
    consumers: ConsumerList<dyn RawConsumer>,
    on_change: Box<dyn Fn(bool) + Send + Sync>,
}

impl RawTracepoint {
    /// `on_change(true)` runs when the first consumer attaches, `on_change(false)` when the
    /// last one leaves.
    pub(crate) fn new(name: String, nr_args: usize, on_change: Box<dyn Fn(bool) + Send + Sync>) -> RawTracepoint {
        RawTracepoint { name, nr_args, consumers: ConsumerList::new(), on_change }
    }

    /// The tracepoint name (what `BPF_RAW_TRACEPOINT_OPEN` looks up).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of `u64` arguments (a program may read `nr_args * 8` bytes of context).
    pub fn nr_args(&self) -> usize {
        self.nr_args
    }

    /// Adds a consumer until the handle drops. `EEXIST` when a consumer with the same
    /// program id is attached already (Linux `tracepoint_probe_register`).
    pub fn attach(self: &Arc<Self>, c: Arc<dyn RawConsumer>) -> Result<ConsumerHandle> {
        if let Some(id) = c.prog_id() {
            if self.consumers.snapshot().iter().any(|o| o.prog_id() == Some(id)) {
                return err(Errno::EEXIST, "program already attached to this raw tracepoint");
            }
        }
        let key = self.consumers.add(c, || {
            (self.on_change)(true);
            Ok(())
        })?;
        Ok(ConsumerHandle::new(self.clone(), key))
    }

    /// Ids of the attached programs.
    pub fn consumer_prog_ids(&self) -> Vec<u32> {
        self.consumers.snapshot().iter().filter_map(|c| c.prog_id()).collect()
    }

    /// Whether a consumer is attached.
    pub fn enabled(&self) -> bool {
        !self.consumers.is_empty()
    }

    /// Hands `args` to every consumer (event context).
    pub(crate) fn fire(&self, args: &[u64]) {
        self.consumers.for_each(|c| c.hit(args));
    }
}

impl Detach for RawTracepoint {
    fn detach(&self, key: u64) {
        self.consumers.remove(key, || (self.on_change)(false));
    }
}

impl core::fmt::Debug for RawTracepoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RawTracepoint").field("name", &self.name).field("nr_args", &self.nr_args).finish()
    }
}
