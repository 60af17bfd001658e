//! The kernel side of eBPF: `bpf(2)` routed to the `bpf-subsys` crate.
//!
//! - [`host`]: [`KernelBpfHost`], this kernel's `bpf_subsys::BpfHost`, and how the kernel
//!   plugs its services into it.
//! - [`process`]: [`BpfProcess`], what the host needs from the current process.
//! - [`shared`]: [`KernelVmap`], user-mappable pages for mmapable arrays and ring buffers;
//!   [`vmalloc`]: [`vmalloc::VmallocArea`], a `KernelVmap` over a reserved kernel range.
//! - [`trace`]: [`TraceSink`], where `bpf_trace_printk` output goes.
//! - [`file`](mod@file): [`BpfFileOps`], a bpf object fd in the fd table (`mmap`, `poll`, fdinfo).
//! - [`mmap`], [`fdinfo`]: `mmap` of map fds and the `/proc/self/fdinfo` lines.
//! - [`pin`], [`path`], [`vfs`]: pinning in bpffs ([`crate::fs::bpffs`]); paths resolve
//!   through the process's VFS view, or under the bpffs mount point without one.
//! - [`syscall`]: `sys_bpf`, what the dispatcher calls for syscall 321.
//!
//! At boot the kernel registers its services on [`kernel_host`] (see [`host`]), mounts
//! `kernel_host().bpffs().root()` at [`path::BPFFS_MOUNT`], and routes syscall 321 to
//! [`syscall::sys_bpf`]`(kernel_host(), ...)`.

pub mod fdinfo;
pub mod file;
pub mod host;
pub mod mmap;
pub mod path;
pub mod pin;
pub mod process;
pub mod shared;
pub mod syscall;
pub mod trace;
pub mod vfs;
pub mod vmalloc;

#[cfg(test)]
pub(crate) mod tests;

use alloc::sync::Arc;

use spin::Once;

pub use file::{ring_wakeups, BpfFileOps};
pub use host::KernelBpfHost;
pub use process::{BpfProcess, PathParent};
pub use shared::{KernelVmap, SharedAlloc};
pub use trace::{TraceRecord, TraceSink};

static KERNEL_HOST: Once<Arc<KernelBpfHost>> = Once::new();

/// The kernel's bpf host (made on first use; needs the heap).
pub fn kernel_host() -> &'static Arc<KernelBpfHost> {
    KERNEL_HOST.call_once(KernelBpfHost::new)
}
