//! [`BpfHost`]: everything the subsystem needs from the kernel it runs in — the porting guide.
//!
//! # Adding eBPF to a kernel
//! 1. Implement [`BpfHost`] once (a `static` or an `Arc` of your kernel's type). The required
//!    methods are the list below; the provided ones have defaults that suit a kernel without
//!    the feature (documented on each).
//! 2. Route the `bpf(2)` system call to [`crate::sys_bpf`]`(host, cmd, uattr, size)` and return
//!    its value to user space unchanged (`-errno` on failure, as Linux).
//! 3. Store the [`BpfFile`]s that [`BpfHost::install_fd`] hands you in your fd table, drop them
//!    on `close()` (and on exit), and share them on `dup()`/`fork()`; answer
//!    [`BpfHost::resolve_fd`] from the same table. Dropping the last holder of an object frees
//!    it: the subsystem keeps no strong references of its own.
//! 4. Implement bpffs pinning: [`BpfHost::pin`] stores a [`UserRef`] under a path of your
//!    bpffs, `unlink()` drops it, [`BpfHost::get_pinned`] looks it up.
//! 5. For mmap of map fds (`BPF_F_MMAPABLE` arrays, ring buffers), map the pages of
//!    `maps::BpfMap::shared_pages`; hold a [`crate::object::WritableMapping`] for as long as a
//!    writable mapping exists (Linux's `writecnt`, which `BPF_MAP_FREEZE` checks).
//!
//! | group | methods |
//! |---|---|
//! | user memory | [`copy_from_user`](BpfHost::copy_from_user), [`copy_to_user`](BpfHost::copy_to_user), [`strncpy_from_user`](BpfHost::strncpy_from_user) |
//! | kernel memory | [`copy_from_kernel_nofault`](BpfHost::copy_from_kernel_nofault) |
//! | identity | [`current_pid_tgid`](BpfHost::current_pid_tgid), [`current_uid_gid`](BpfHost::current_uid_gid), [`current_comm`](BpfHost::current_comm), [`current_task`](BpfHost::current_task), [`capable`](BpfHost::capable) |
//! | time | [`ktime_ns`](BpfHost::ktime_ns), [`boot_ns`](BpfHost::boot_ns), [`coarse_ns`](BpfHost::coarse_ns), [`jiffies`](BpfHost::jiffies) |
//! | CPUs, memory | [`current_cpu`](BpfHost::current_cpu), [`possible_cpus`](BpfHost::possible_cpus), [`numa_nodes`](BpfHost::numa_nodes), [`current_numa_node`](BpfHost::current_numa_node), [`random_u32`](BpfHost::random_u32), [`page_size`](BpfHost::page_size), [`alloc_shared`](BpfHost::alloc_shared), [`preempt_disable`](BpfHost::preempt_disable) / [`preempt_enable`](BpfHost::preempt_enable) |
//! | files | [`install_fd`](BpfHost::install_fd), [`resolve_fd`](BpfHost::resolve_fd), [`pin`](BpfHost::pin), [`get_pinned`](BpfHost::get_pinned) |
//! | objects | [`registry`](BpfHost::registry) |
//! | output, symbols | [`trace_printk`](BpfHost::trace_printk), [`kallsyms_lookup_name`](BpfHost::kallsyms_lookup_name), [`kallsyms_lookup_addr`](BpfHost::kallsyms_lookup_addr), [`send_signal`](BpfHost::send_signal) |
//! | attaching | [`tracing`](BpfHost::tracing) (see [`crate::attach`]) |
//!
//! Not here yet: executable memory for the JIT (allocate RW, seal RX) arrives with the `jit`
//! crate; programs run on the interpreter until then.
//!
//! The maps reach the kernel through `maps::MapHost`; the subsystem implements it over
//! `BpfHost` ([`MapHostAdapter`]), so a kernel implements only this trait.

use alloc::boxed::Box;
use alloc::sync::Arc;

use maps::{FdKind, FdObject, MapHost, SharedPages};
use syscall_abi::{err, Errno, Result};

use crate::object::{BpfFile, BpfObject, FdTarget, FileMode, Registry, UserRef};

/// Capabilities the subsystem checks (Linux `capable()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// `CAP_SYS_ADMIN`: ids, fds by id, anything `CAP_BPF` allows.
    SysAdmin,
    /// `CAP_BPF` (Linux 5.8+): maps, programs, BTF.
    Bpf,
    /// `CAP_PERFMON`: tracing programs, pointer leaks in programs.
    Perfmon,
    /// `CAP_NET_ADMIN`: networking program types.
    NetAdmin,
    /// `CAP_SYSLOG`: seeing kernel addresses (`kallsyms_show_value`).
    Syslog,
}

/// A kernel symbol, as [`BpfHost::kallsyms_lookup_addr`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ksym {
    /// Address of the symbol's first byte.
    pub start: u64,
    /// Size of the symbol in bytes (0 if unknown).
    pub size: u64,
    /// Bytes of the name written to the caller's buffer (without a NUL).
    pub name_len: usize,
}

/// What the `bpf(2)` subsystem needs from a kernel. Every method may be called from several
/// CPUs at once; the "current task" is the one that made the system call or that a program
/// runs on behalf of.
///
/// Errors are Linux errnos: the subsystem passes them to user space unchanged.
pub trait BpfHost: Send + Sync {
    // ---- user memory (of the current task) ----

    /// Copies `dst.len()` bytes from user address `src` (`copy_from_user`). Any byte that
    /// cannot be read (unmapped, kernel address, address overflow) → `EFAULT`, and then the
    /// content of `dst` is unspecified. Never called with an empty `dst`.
    fn copy_from_user(&self, dst: &mut [u8], src: u64) -> Result<()>;

    /// Copies `src` to user address `dst` (`copy_to_user`); a fault → `EFAULT` (some bytes may
    /// have been written). Never called with an empty `src`.
    fn copy_to_user(&self, dst: u64, src: &[u8]) -> Result<()>;

    /// `strncpy_from_user`: copies bytes from `src` into `dst` up to and including the first
    /// NUL, and returns the string's length (without the NUL); if there is no NUL within
    /// `dst.len()` bytes, fills `dst` and returns `dst.len()`. A fault before the NUL or the
    /// end of `dst` → `EFAULT`.
    fn strncpy_from_user(&self, dst: &mut [u8], src: u64) -> Result<usize>;

    /// `copy_from_kernel_nofault` (`bpf_probe_read_kernel`): reads kernel memory that may be
    /// unmapped; a fault → `EFAULT`, never a crash. The default refuses every address.
    fn copy_from_kernel_nofault(&self, dst: &mut [u8], src: u64) -> Result<()> {
        let _ = (dst, src);
        err(Errno::EFAULT, "kernel memory reads not supported by this host")
    }

    // ---- identity ----

    /// `(pid, tgid)` of the current task: the thread id and the process id
    /// (`bpf_get_current_pid_tgid` returns `tgid << 32 | pid`).
    fn current_pid_tgid(&self) -> (u32, u32);

    /// `(uid, gid)` of the current task.
    fn current_uid_gid(&self) -> (u32, u32);

    /// The current task's name (`comm`), NUL-padded to 16 bytes.
    fn current_comm(&self) -> [u8; 16];

    /// Address of the current task's kernel structure (`bpf_get_current_task`); 0 by default.
    fn current_task(&self) -> u64 {
        0
    }

    /// Whether the current task has `cap` (Linux `capable()`, in the initial user namespace).
    fn capable(&self, cap: Capability) -> bool;

    // ---- time ----

    /// Monotonic clock in ns, not counting suspend (`ktime_get_ns`).
    fn ktime_ns(&self) -> u64;

    /// Monotonic clock in ns including suspend (`ktime_get_boot_ns`); default: `ktime_ns`.
    fn boot_ns(&self) -> u64 {
        self.ktime_ns()
    }

    /// A cheaper, tick-granular monotonic clock (`ktime_get_coarse_ns`); default: `ktime_ns`.
    fn coarse_ns(&self) -> u64 {
        self.ktime_ns()
    }

    /// The tick counter (`jiffies64`).
    fn jiffies(&self) -> u64;

    // ---- CPUs and memory ----

    /// The CPU the caller runs on, `< possible_cpus()`; stable while preemption is disabled.
    fn current_cpu(&self) -> u32;

    /// Number of possible CPUs (`num_possible_cpus()`), ≥ 1.
    fn possible_cpus(&self) -> u32;

    /// Number of NUMA nodes (`nr_node_ids`); a map's `numa_node` must be below it. Default 1.
    fn numa_nodes(&self) -> u32 {
        1
    }

    /// The NUMA node of the current CPU (`bpf_get_numa_node_id`). Default 0.
    fn current_numa_node(&self) -> u32 {
        0
    }

    /// A random number (`get_random_u32`): hash seeds, `bpf_get_prandom_u32`.
    fn random_u32(&self) -> u32;

    /// Size of the pages [`BpfHost::alloc_shared`] returns, and the limit of `bpf(2)`'s
    /// attribute size. Default 4096.
    fn page_size(&self) -> usize {
        4096
    }

    /// Zeroed pages user space may mmap: see `maps::MapHost::alloc_shared`.
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>>;

    /// Disables preemption on the current CPU (nesting). Map operations run between
    /// `preempt_disable` and `preempt_enable`: the maps' per-CPU locks assume the caller does
    /// not migrate or get preempted. A kernel without kernel preemption keeps the default
    /// (nothing).
    fn preempt_disable(&self) {}

    /// Re-enables preemption (see [`BpfHost::preempt_disable`]).
    fn preempt_enable(&self) {}

    // ---- files ----

    /// Installs `file` as the lowest free fd of the current task and returns it (Linux
    /// `anon_inode_getfd`). `cloexec`: the fd is close-on-exec (`O_CLOEXEC`; every bpf object
    /// fd is, as in Linux). Out of fds → `EMFILE`. `file.object().anon_name()` is the name
    /// Linux shows for it (`anon_inode:bpf-map`).
    fn install_fd(&self, file: BpfFile, cloexec: bool) -> Result<u32>;

    /// What the current task's `fd` refers to: a bpf object ([`BpfFile::target`] of the
    /// stored file), a perf event (the `maps::FdObject` the perf-event layer made for it), or
    /// another kind of file. An fd that is not open → `EBADF`.
    fn resolve_fd(&self, fd: u32) -> Result<FdTarget>;

    /// `BPF_OBJ_PIN`: creates the bpffs file `path` holding `obj` (Linux `bpf_obj_do_pin`).
    /// `path` is the user's string without its NUL, never empty, resolved like any path of the
    /// current task. Errors as Linux: a missing parent directory → `ENOENT`, `path` exists →
    /// `EEXIST`, the parent is not in a bpffs → `EPERM`, a parent that is not a directory →
    /// `ENOTDIR`. On error `obj` is simply dropped. `unlink(path)` later drops it.
    fn pin(&self, path: &[u8], obj: UserRef) -> Result<()>;

    /// `BPF_OBJ_GET`: the object pinned at `path` (Linux `bpf_obj_do_get`): no such file →
    /// `ENOENT`; the file's permissions refuse `mode` → `EACCES`; a file that is not a pinned
    /// bpf object → `EACCES`.
    fn get_pinned(&self, path: &[u8], mode: FileMode) -> Result<BpfObject>;

    // ---- objects ----

    /// The object registry of this kernel (ids of maps, programs, links and BTF). A kernel
    /// creates one [`Registry`] at boot and returns it here.
    fn registry(&self) -> &Registry;

    // ---- output and symbols ----

    /// One formatted `bpf_trace_printk` message: append it to the trace buffer
    /// (tracefs `trace_pipe`), with the kernel's usual line prefix.
    fn trace_printk(&self, msg: &[u8]);

    /// Address of the kernel symbol `name` (`kallsyms_lookup_name`); `None` if unknown.
    fn kallsyms_lookup_name(&self, name: &[u8]) -> Option<u64> {
        let _ = name;
        None
    }

    /// The kernel symbol containing `addr`: its name is written to `name` (truncated to fit).
    fn kallsyms_lookup_addr(&self, addr: u64, name: &mut [u8]) -> Option<Ksym> {
        let _ = (addr, name);
        None
    }

    /// The `bpf_perf_event_output` side of `event`, a perf event a `perf_event_array` holds
    /// (an object the perf-event layer made, which the host can downcast with
    /// `event.as_any()`). Default: `None` (the helper then returns `-EINVAL`).
    fn perf_event_output_target<'o>(&self, event: &'o dyn FdObject) -> Option<&'o dyn crate::helpers::PerfEventOutput> {
        let _ = event;
        None
    }

    /// The kernel's tracing side (perf events, raw tracepoints): what `BPF_LINK_CREATE` and
    /// `BPF_RAW_TRACEPOINT_OPEN` attach programs through. Default: `None`, a kernel without
    /// tracing (no fd is a usable perf event: `EBADF`; no raw tracepoint exists: `ENOENT`).
    fn tracing(&self) -> Option<&dyn crate::attach::TracingHost> {
        None
    }

    /// `bpf_send_signal(sig)`: queues `sig` to the current process (or only the current
    /// thread when `thread`). Default: `EOPNOTSUPP`.
    fn send_signal(&self, sig: u32, thread: bool) -> Result<()> {
        let _ = (sig, thread);
        err(Errno::EOPNOTSUPP, "signals not supported by this host")
    }
}

/// Linux `bpf_capable()`: `CAP_BPF` or `CAP_SYS_ADMIN`.
pub fn bpf_capable(host: &dyn BpfHost) -> bool {
    host.capable(Capability::Bpf) || host.capable(Capability::SysAdmin)
}

/// Linux `perfmon_capable()`: `CAP_PERFMON` or `CAP_SYS_ADMIN`.
pub fn perfmon_capable(host: &dyn BpfHost) -> bool {
    host.capable(Capability::Perfmon) || host.capable(Capability::SysAdmin)
}

/// `maps::MapHost` over a [`BpfHost`]: what `maps::create` is given, so a kernel implements
/// only `BpfHost`. Fd resolution follows Linux's per-map-type getters:
/// `bpf_map_fd_get_ptr` and `prog_fd_array_get_ptr` answer `EBADF` for a closed fd and
/// `EINVAL` for an fd of another kind; `perf_event_fd_array_get_ptr` (`perf_event_get`)
/// answers `EBADF` for both.
pub struct MapHostAdapter {
    host: Arc<dyn BpfHost>,
}

impl MapHostAdapter {
    /// The adapter, as the trait object `maps::create` takes.
    pub fn shared(host: Arc<dyn BpfHost>) -> Arc<dyn MapHost> {
        Arc::new(MapHostAdapter { host })
    }
}

impl MapHost for MapHostAdapter {
    fn possible_cpus(&self) -> u32 {
        self.host.possible_cpus()
    }

    fn current_cpu(&self) -> u32 {
        self.host.current_cpu()
    }

    fn random_u32(&self) -> u32 {
        self.host.random_u32()
    }

    fn page_size(&self) -> usize {
        self.host.page_size()
    }

    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        self.host.alloc_shared(pages, repeat_tail)
    }

    fn resolve_fd(&self, kind: FdKind, fd: u32) -> Result<Arc<dyn FdObject>> {
        let target = self.host.resolve_fd(fd)?;
        match (kind, target) {
            (FdKind::Map, FdTarget::Bpf(BpfObject::Map(m), _)) => Ok(m),
            (FdKind::Prog, FdTarget::Bpf(BpfObject::Prog(p), _)) => Ok(p),
            (FdKind::PerfEvent, FdTarget::PerfEvent(e)) => Ok(e),
            (FdKind::PerfEvent, _) => err(Errno::EBADF, "not a perf event fd"),
            (FdKind::Map, _) => err(Errno::EINVAL, "not a map fd"),
            (FdKind::Prog, _) => err(Errno::EINVAL, "not a program fd"),
        }
    }
}

/// Keeps preemption disabled (and a `maps::reclaim` read-side section open) while it lives:
/// the context every syscall-side map operation runs in (Linux `bpf_disable_instrumentation`
/// plus `rcu_read_lock`).
pub(crate) struct MapOpGuard<'a> {
    host: &'a dyn BpfHost,
    reclaim: Option<maps::reclaim::Guard>,
}

impl<'a> MapOpGuard<'a> {
    /// Enters the section.
    pub(crate) fn enter(host: &'a dyn BpfHost) -> Self {
        host.preempt_disable();
        MapOpGuard { host, reclaim: Some(maps::reclaim::read_lock()) }
    }
}

impl Drop for MapOpGuard<'_> {
    fn drop(&mut self) {
        // Leave the read-side section on the CPU that entered it, then allow preemption.
        drop(self.reclaim.take());
        self.host.preempt_enable();
    }
}
