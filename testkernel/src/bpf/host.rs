//! [`KernelBpfHost`]: this kernel's `bpf_subsys::BpfHost`.
//!
//! It knows nothing about the task structures: everything about "the current process" comes
//! from the [`BpfProcess`] that the function registered with [`KernelBpfHost::set_current`]
//! returns. Other kernel services are registered the same way, once, at boot:
//!
//! | service | registration | default |
//! |---|---|---|
//! | current process | [`set_current`](KernelBpfHost::set_current) | none: user copies `EFAULT`, fds `EBADF`, no capabilities |
//! | user-mappable pages | [`set_vmap`](KernelBpfHost::set_vmap) (e.g. a [`VmallocArea`](super::vmalloc::VmallocArea)) | none: mmapable arrays and ring buffers `ENOMEM` |
//! | `bpf_trace_printk` output | [`set_trace_sink`](KernelBpfHost::set_trace_sink) | [`LogSink`] (kernel log) |
//! | random numbers | [`set_random`](KernelBpfHost::set_random) | a SplitMix64 generator seeded from the clocks |
//! | perf event fds | [`set_perf_event_lookup`](KernelBpfHost::set_perf_event_lookup) | none: no fd is a perf event |
//! | tracing (links) | [`set_tracing`](KernelBpfHost::set_tracing) | none (`LINK_CREATE` `EBADF`/`ENOENT`) |
//! | CPUs | [`set_possible_cpus`](KernelBpfHost::set_possible_cpus) | 1 |
//! | kernel memory reads (`bpf_probe_read_kernel`) | [`set_kernel_reader`](KernelBpfHost::set_kernel_reader) | none: `EFAULT` |
//!
//! Time comes from [`crate::time`]; kallsyms lookups go to `crate::kallsyms`. A perf event
//! in a `perf_event_array` is the perf-event crate's `PerfEvent`
//! ([`BpfHost::perf_event_output_target`] downcasts to it).

use alloc::boxed::Box;
use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use bpf_subsys::attach::TracingHost;
use bpf_subsys::helpers::PerfEventOutput;
use bpf_subsys::host::Capability;
use bpf_subsys::object::{BpfFile, BpfObject, FdTarget, FileMode, Registry, UserRef};
use bpf_subsys::BpfHost;
use maps::{FdObject, SharedPages};
use spin::Once;
use syscall_abi::{err, Errno, Error, Result};

use super::file::BpfFileOps;
use super::pin;
use super::process::BpfProcess;
use super::shared::{KernelShared, KernelVmap};
use super::trace::{LogSink, TraceRecord, TraceSink};
use crate::fs::bpffs::BpfFs;
use crate::fs::stat::alloc_anon_dev;
use crate::fs::{FileOps, OpenFile};

/// Returns the process on whose behalf the kernel runs right now (`None` in contexts
/// without one, e.g. early boot).
pub type CurrentFn = Box<dyn Fn() -> Option<Arc<dyn BpfProcess>> + Send + Sync>;
/// Recognises an open file as a perf event and returns the object a `perf_event_array`
/// stores for it.
pub type PerfEventLookup = Box<dyn Fn(&dyn FileOps) -> Option<Arc<dyn FdObject>> + Send + Sync>;

/// Reads kernel memory that may be unmapped (`copy_from_kernel_nofault`): `EFAULT` for an
/// address that is not mapped kernel memory, never a fault.
pub type KernelReader = fn(&mut [u8], u64) -> Result<()>;

/// `HZ` of [`BpfHost::jiffies`] (Linux x86_64 defconfig: 1000).
pub const JIFFIES_HZ: u64 = 1000;
/// Linux `INITIAL_JIFFIES` for 64-bit `jiffies_64`: 5 minutes before the 32-bit wrap.
const INITIAL_JIFFIES: u64 = (1 << 32) - 300 * JIFFIES_HZ;
/// The name Linux's idle task has (the "current task" when there is none).
const IDLE_COMM: [u8; 16] = *b"swapper/0\0\0\0\0\0\0\0";

/// The kernel's `BpfHost`. One instance ([`super::kernel_host`]) serves the kernel; tests
/// make their own.
pub struct KernelBpfHost {
    registry: Registry,
    bpffs: Arc<BpfFs>,
    current: Once<CurrentFn>,
    vmap: Once<Arc<dyn KernelVmap>>,
    trace: Once<Arc<dyn TraceSink>>,
    random: Once<fn() -> u32>,
    perf_events: Once<PerfEventLookup>,
    tracing: Once<Arc<dyn TracingHost>>,
    kernel_reader: Once<KernelReader>,
    possible_cpus: AtomicU32,
    rng: AtomicU64,
}

impl KernelBpfHost {
    /// A host with an empty registry and a fresh bpffs (mount [`KernelBpfHost::bpffs`] at
    /// `/sys/fs/bpf`).
    pub fn new() -> Arc<KernelBpfHost> {
        Arc::new(KernelBpfHost {
            registry: Registry::new(),
            bpffs: BpfFs::new(alloc_anon_dev()),
            current: Once::new(),
            vmap: Once::new(),
            trace: Once::new(),
            random: Once::new(),
            perf_events: Once::new(),
            tracing: Once::new(),
            kernel_reader: Once::new(),
            possible_cpus: AtomicU32::new(1),
            rng: AtomicU64::new(0),
        })
    }

    /// The bpffs instance pins go to.
    pub fn bpffs(&self) -> &Arc<BpfFs> {
        &self.bpffs
    }

    /// Registers how to find the current process (once; later calls are ignored).
    pub fn set_current(&self, f: CurrentFn) {
        self.current.call_once(|| f);
    }

    /// Registers the allocator of user-mappable pages (once).
    pub fn set_vmap(&self, vmap: Arc<dyn KernelVmap>) {
        self.vmap.call_once(|| vmap);
    }

    /// Registers where `bpf_trace_printk` output goes (once; tracefs does it).
    pub fn set_trace_sink(&self, sink: Arc<dyn TraceSink>) {
        self.trace.call_once(|| sink);
    }

    /// Registers the kernel's random number source (once).
    pub fn set_random(&self, f: fn() -> u32) {
        self.random.call_once(|| f);
    }

    /// Registers how perf event fds are recognised (once; the perf-event integration does it).
    pub fn set_perf_event_lookup(&self, f: PerfEventLookup) {
        self.perf_events.call_once(|| f);
    }

    /// Registers the tracing side that links attach through (once).
    pub fn set_tracing(&self, t: Arc<dyn TracingHost>) {
        self.tracing.call_once(|| t);
    }

    /// Registers how kernel memory is read for `bpf_probe_read_kernel` (once).
    pub fn set_kernel_reader(&self, f: KernelReader) {
        self.kernel_reader.call_once(|| f);
    }

    /// Sets the number of possible CPUs (≥ 1; before the first map is created).
    pub fn set_possible_cpus(&self, n: u32) {
        self.possible_cpus.store(n.max(1), Ordering::Relaxed);
    }

    fn proc(&self) -> Option<Arc<dyn BpfProcess>> {
        self.current.get().and_then(|f| f())
    }

    fn proc_or(&self, errno: Errno) -> Result<Arc<dyn BpfProcess>> {
        self.proc().ok_or(Error::new(errno, "no current process"))
    }

    /// SplitMix64 over a shared counter, seeded from the clocks on first use.
    fn fallback_random(&self) -> u32 {
        const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
        if self.rng.load(Ordering::Relaxed) == 0 {
            let seed = crate::time::realtime_ns() ^ crate::time::monotonic_ns().rotate_left(32) ^ GAMMA;
            let _ = self.rng.compare_exchange(0, seed | 1, Ordering::Relaxed, Ordering::Relaxed);
        }
        let mut z = self.rng.fetch_add(GAMMA, Ordering::Relaxed).wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        // The high half of the mixed value.
        u32::try_from((z ^ (z >> 31)) >> 32).unwrap_or(0)
    }
}

impl BpfHost for KernelBpfHost {
    fn copy_from_user(&self, dst: &mut [u8], src: u64) -> Result<()> {
        Ok(self.proc_or(Errno::EFAULT)?.mem().read(src, dst)?)
    }

    fn copy_to_user(&self, dst: u64, src: &[u8]) -> Result<()> {
        Ok(self.proc_or(Errno::EFAULT)?.mem().write(dst, src)?)
    }

    fn strncpy_from_user(&self, dst: &mut [u8], src: u64) -> Result<usize> {
        let proc = self.proc_or(Errno::EFAULT)?;
        strncpy(proc.mem(), dst, src)
    }

    fn current_pid_tgid(&self) -> (u32, u32) {
        self.proc().map_or((0, 0), |p| p.pid_tgid())
    }

    fn current_uid_gid(&self) -> (u32, u32) {
        self.proc().map_or((0, 0), |p| p.uid_gid())
    }

    fn current_comm(&self) -> [u8; 16] {
        self.proc().map_or(IDLE_COMM, |p| p.comm())
    }

    fn current_task(&self) -> u64 {
        self.proc().map_or(0, |p| p.task_addr())
    }

    fn capable(&self, cap: Capability) -> bool {
        self.proc().is_some_and(|p| p.capable(cap))
    }

    fn ktime_ns(&self) -> u64 {
        crate::probe::targets::ktime_get_mono_fast_ns()
    }

    fn kallsyms_lookup_name(&self, name: &[u8]) -> Option<u64> {
        crate::kallsyms::lookup_name(name)
    }

    fn kallsyms_lookup_addr(&self, addr: u64, name: &mut [u8]) -> Option<bpf_subsys::host::Ksym> {
        let (start, size, sym) = crate::kallsyms::lookup_addr(addr)?;
        let n = sym.len().min(name.len());
        name[..n].copy_from_slice(&sym.as_bytes()[..n]);
        Some(bpf_subsys::host::Ksym { start, size, name_len: n })
    }

    fn jiffies(&self) -> u64 {
        INITIAL_JIFFIES.wrapping_add(crate::time::monotonic_ns() / (1_000_000_000 / JIFFIES_HZ))
    }

    fn current_cpu(&self) -> u32 {
        0
    }

    fn possible_cpus(&self) -> u32 {
        self.possible_cpus.load(Ordering::Relaxed).max(1)
    }

    fn random_u32(&self) -> u32 {
        match self.random.get() {
            Some(f) => f(),
            None => self.fallback_random(),
        }
    }

    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        let Some(vmap) = self.vmap.get() else {
            return err(Errno::ENOMEM, "no KernelVmap registered: cannot allocate user-mappable pages");
        };
        Ok(Box::new(KernelShared::new(vmap.clone(), pages, repeat_tail)?))
    }

    fn install_fd(&self, file: BpfFile, cloexec: bool) -> Result<u32> {
        let proc = self.proc_or(Errno::EBADF)?;
        let path = format!("anon_inode:{}", file.object().anon_name());
        let flags = file.mode().o_accmode();
        let open = OpenFile::new(Arc::new(BpfFileOps::new(file)), flags, path);
        let fd = proc.files().lock().install(open, cloexec)?;
        u32::try_from(fd).map_err(|_| Error::new(Errno::EMFILE, "fd out of range"))
    }

    fn resolve_fd(&self, fd: u32) -> Result<FdTarget> {
        let proc = self.proc_or(Errno::EBADF)?;
        let fd = i32::try_from(fd).map_err(|_| Error::new(Errno::EBADF, "fd out of range"))?;
        let file = proc.files().lock().get(fd)?;
        if let Some(b) = file.ops.as_any().downcast_ref::<BpfFileOps>() {
            return Ok(b.bpf_file().target());
        }
        if let Some(event) = self.perf_events.get().and_then(|f| f(&*file.ops)) {
            return Ok(FdTarget::PerfEvent(event));
        }
        Ok(FdTarget::Other)
    }

    fn pin(&self, path: &[u8], obj: UserRef) -> Result<()> {
        let proc = self.proc_or(Errno::ENOENT)?;
        Ok(pin::pin(&*proc, &self.bpffs.root(), path, obj)?)
    }

    fn get_pinned(&self, path: &[u8], mode: FileMode) -> Result<BpfObject> {
        let proc = self.proc_or(Errno::ENOENT)?;
        Ok(pin::get_pinned(&*proc, &self.bpffs.root(), path, mode)?)
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn trace_printk(&self, msg: &[u8]) {
        let proc = self.proc();
        let (pid, tgid) = proc.as_ref().map_or((0, 0), |p| p.pid_tgid());
        let comm = proc.as_ref().map_or(IDLE_COMM, |p| p.comm());
        let rec = TraceRecord { msg, pid, tgid, comm, cpu: 0, ts_ns: crate::time::monotonic_ns() };
        match self.trace.get() {
            Some(sink) => sink.write(&rec),
            None => LogSink.write(&rec),
        }
    }

    fn tracing(&self) -> Option<&dyn TracingHost> {
        self.tracing.get().map(|t| &**t)
    }

    fn perf_event_output_target<'o>(&self, event: &'o dyn FdObject) -> Option<&'o dyn PerfEventOutput> {
        perf_event::Perf::as_event(event).map(|e| e as &dyn PerfEventOutput)
    }

    fn copy_from_kernel_nofault(&self, dst: &mut [u8], src: u64) -> Result<()> {
        match self.kernel_reader.get() {
            Some(read) => read(dst, src),
            None => err(Errno::EFAULT, "no kernel memory reader registered"),
        }
    }

    fn send_signal(&self, sig: u32, thread: bool) -> Result<()> {
        Ok(self.proc_or(Errno::EOPNOTSUPP)?.send_signal(sig, thread)?)
    }
}

/// Linux `strncpy_from_user` over [`crate::user::UserMem`]: reads page by page so a string
/// ending just before an unmapped page is fine.
fn strncpy(mem: &dyn crate::user::UserMem, dst: &mut [u8], src: u64) -> Result<usize> {
    let mut done = 0usize;
    while done < dst.len() {
        let at = src.checked_add(u64::try_from(done).unwrap_or(u64::MAX)).ok_or(Errno::EFAULT)?;
        let to_page_end = usize::try_from(4096 - at % 4096).unwrap_or(4096);
        let n = (dst.len() - done).min(to_page_end);
        let chunk = &mut dst[done..done + n];
        mem.read(at, chunk)?;
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            return Ok(done + nul);
        }
        done += n;
    }
    Ok(dst.len())
}
