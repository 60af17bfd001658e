//! What the maps need from the kernel they run in: CPUs, randomness, pages user space can
//! mmap, and fd resolution for the fd-holding maps.
//!
//! A kernel implements [`MapHost`] once; `bpf-subsys` passes it to [`crate::create`].

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;
use core::ptr::NonNull;

use syscall_abi::Result;

use crate::BpfMap;

/// Kernel services the map implementations call.
pub trait MapHost: Send + Sync {
    /// Number of possible CPUs (`num_possible_cpus()`): per-CPU maps keep this many values.
    fn possible_cpus(&self) -> u32;

    /// The CPU the caller runs on, `< possible_cpus()`. Stable for the duration of a map
    /// operation (programs run with preemption disabled).
    fn current_cpu(&self) -> u32;

    /// A random number (`get_random_u32()`): hash seeds, bloom filter seeds.
    fn random_u32(&self) -> u32;

    /// The page size of the pages [`MapHost::alloc_shared`] returns.
    fn page_size(&self) -> usize {
        4096
    }

    /// Allocates `pages` zeroed pages that user space may later mmap, mapped contiguously
    /// in the kernel, followed by a second kernel mapping of the last `repeat_tail` of them
    /// (the ring buffer maps its data area twice so a record never wraps). The kernel
    /// mapping is therefore `(pages + repeat_tail) * page_size()` bytes long.
    /// Out of memory → `ENOMEM`.
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>>;

    /// Resolves a user fd (of the calling process) to the object the fd-holding maps store:
    /// a program for `prog_array`, a perf event for `perf_event_array`, a map for the
    /// map-in-map types. Not an fd → `EBADF`; an fd of another kind → `EINVAL`, as Linux.
    fn resolve_fd(&self, kind: FdKind, fd: u32) -> Result<Arc<dyn FdObject>>;
}

/// Pages shared with user space (see [`MapHost::alloc_shared`]). The kernel that made them
/// knows how to map them into a process; it gets them back from
/// [`BpfMap::shared_pages`] and downcasts with `as_any`.
pub trait SharedPages: Send + Sync {
    /// Kernel address of the first byte of the mapping (page aligned).
    fn as_ptr(&self) -> NonNull<u8>;
    /// Number of distinct pages (without the repeated tail).
    fn pages(&self) -> usize;
    /// For the host's own downcast.
    fn as_any(&self) -> &dyn Any;
}

/// The kind of object an fd-holding map accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// A BPF program (`prog_array`).
    Prog,
    /// A perf event (`perf_event_array`).
    PerfEvent,
    /// A BPF map (`array_of_maps`, `hash_of_maps`).
    Map,
}

/// An object referenced from an fd-holding map. Implemented by `bpf-subsys` (programs,
/// maps) and `perf-event` (events); the maps crate only stores and compares them.
///
/// What a program gets from `bpf_map_lookup_elem` on a map-in-map (and what a tail call
/// takes from a `prog_array`) is the data pointer of the stored `Arc<dyn FdObject>`, i.e.
/// a pointer to the implementing type.
pub trait FdObject: Send + Sync + Any {
    /// The object's global id: what a syscall lookup of `prog_array` and the map-in-map
    /// types returns.
    fn id(&self) -> u32;

    /// The map behind this object, for the map-in-map compatibility check.
    fn as_map(&self) -> Option<&dyn BpfMap> {
        None
    }

    /// For downcasting to the implementing type.
    fn as_any(&self) -> &dyn Any;
}
