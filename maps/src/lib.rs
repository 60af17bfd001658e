//! Every Linux BPF map type behind one trait, [`BpfMap`] (Linux `struct bpf_map_ops` is the
//! model), `no_std` + `alloc`.
//!
//! - [`create`] validates a [`MapAttr`] with the type's checks (Linux's `*_alloc_check`,
//!   strictly before allocating) and builds the map; one static `match` picks the type.
//! - Kernel services come through [`MapHost`]; fds held by fd maps are resolved through it
//!   into [`FdObject`] references, never stored as raw fds.
//! - Value addresses handed to programs stay valid while the program holds a
//!   [`reclaim::Guard`]; unlinked elements are freed after a grace period ([`reclaim`]).
//! - Every map is safe to use from several CPUs at once (spin locks, atomics). Operations
//!   must run with preemption disabled; re-entry from a probe on the same CPU gets `EBUSY`
//!   rather than a deadlock ([`lock`]).
#![cfg_attr(not(any(test, feature = "test-pages")), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod host;
pub mod lock;
pub mod map;
pub mod reclaim;

mod array;
mod batch;
mod bloom_filter;
mod fd_array;
mod hashtab;
mod lpm_trie;
mod lru_list;
mod map_in_map;
#[cfg(any(test, feature = "test-pages"))]
mod memfd_pages;
mod queue_stack;
mod ringbuf;

#[cfg(test)]
#[allow(dead_code)] // each map's tests use part of it
pub(crate) mod test_host;
#[cfg(test)]
mod tests;

use alloc::sync::Arc;

use syscall_abi::bpf::{MapType, BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::{err, Errno, Result};

pub use array::ArrayMap;
pub use bloom_filter::BloomFilter;
pub use fd_array::FdArray;
pub use hashtab::HashMap;
pub use host::{FdKind, FdObject, MapHost, SharedPages};
pub use lpm_trie::LpmTrie;
pub use map::{round_up_8, BatchOutcome, BpfMap, ForEachFn, LookupBatch, MapAttr, MapDef};
#[cfg(any(test, feature = "test-pages"))]
pub use memfd_pages::MemfdPages;
pub use queue_stack::QueueStack;
pub use ringbuf::RingBuf;

/// Creates a map: the checks common to all types (Linux `map_create`), then the type's own
/// checks, then allocation. An unknown or unsupported map type is `EINVAL`, as in Linux.
pub fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    let Some(ty) = attr.map_type else {
        return err(Errno::EINVAL, "unknown map type");
    };
    if attr.map_extra != 0 && ty != MapType::BloomFilter {
        return err(Errno::EINVAL, "map_extra is only valid for bloom filters");
    }
    // bpf_get_file_flag(): the syscall side cannot be both read-only and write-only.
    if attr.map_flags & BPF_F_RDONLY != 0 && attr.map_flags & BPF_F_WRONLY != 0 {
        return err(Errno::EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY together");
    }
    match ty {
        MapType::Array | MapType::PercpuArray => array::create(attr, host),
        MapType::ProgArray | MapType::PerfEventArray | MapType::ArrayOfMaps => fd_array::create(attr, host),
        MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash | MapType::HashOfMaps => {
            hashtab::create(attr, host)
        }
        MapType::Queue | MapType::Stack => queue_stack::create(attr, host),
        MapType::Ringbuf => ringbuf::create(attr, host),
        MapType::LpmTrie => lpm_trie::create(attr, host),
        MapType::BloomFilter => bloom_filter::create(attr, host),
        _ => err(Errno::EINVAL, "map type not supported"),
    }
}
