//! The kernel side of the perf-event crate: [`KernelPerfHost`], boot wiring ([`init`]) and
//! the hooks the rest of the kernel calls (see the module documentation of [`crate::trace`]).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use maps::FdObject;
use perf_event::trace::{NodeKind, SyscallTracepoints};
use perf_event::{Perf, PerfHost, WakeKey};
use spin::Once;

use super::events::{self, comm16, DEFAULT_PRIO};
use super::perf_file::{self, PerfFileOps};
use super::syscall_table::SYSCALLS;
use crate::arch::trap::TrapFrame;
use crate::bpf::{TraceRecord, TraceSink};
use crate::fs::stat::alloc_anon_dev;
use crate::fs::sysfs::SysFs;
use crate::fs::tracefs::{TraceBackend, TraceFs, TraceNodeKind};
use crate::fs::vfs::Vfs;
use crate::task::sched;
use crate::KResult;

static PERF: Once<Arc<Perf>> = Once::new();
static TRACEFS: Once<TraceFs> = Once::new();
/// The syscall tracepoints once [`init`] registered them (null before).
static SYSCALL_TPS: AtomicPtr<SyscallTracepoints> = AtomicPtr::new(ptr::null_mut());
/// Stands for the syscall tracepoints' "anything enabled" counter until [`init`].
static NO_SYSCALL_EVENTS: AtomicUsize = AtomicUsize::new(0);
/// The syscall tracepoints' counter (`SyscallTracepoints::active_counter`): what the hot
/// path tests, one load of this pointer, one of the counter and one branch.
static SYSCALL_ACTIVE: AtomicPtr<AtomicUsize> = AtomicPtr::new(ptr::from_ref(&NO_SYSCALL_EVENTS).cast_mut());

/// Where tracefs is mounted.
pub const TRACEFS_MOUNTS: [&[u8]; 2] = [b"/sys/kernel/tracing", b"/sys/kernel/debug/tracing"];

/// The perf-event subsystem (after [`init`]).
pub fn perf() -> Option<&'static Arc<Perf>> {
    PERF.get()
}

/// This kernel's `PerfHost`.
pub struct KernelPerfHost;

impl PerfHost for KernelPerfHost {
    fn bpf(&self) -> &dyn bpf_subsys::BpfHost {
        &**crate::bpf::kernel_host()
    }

    fn kprobes(&self) -> Option<&kprobe_arch::Registry> {
        crate::probe::host::registry()
    }

    fn queue_irq_work(&self) {
        crate::sync::irq_work::queue();
    }

    fn task_exists(&self, pid: i32) -> bool {
        u32::try_from(pid).ok().and_then(sched::task_by_tid).is_some()
    }

    fn wake(&self, key: WakeKey) {
        match key {
            WakeKey::Event(id) => perf_file::wake_event(id),
            WakeKey::TracePipe => {
                if let Some(t) = TRACEFS.get() {
                    t.wake_pipe();
                }
            }
        }
    }
}

/// Runs the perf irq_work if some was queued. Call only where no kernel lock is held and
/// waking is allowed: end of a system call, the timer interrupt, the idle loop.
#[inline]
pub fn irq_work_run() {
    if crate::sync::irq_work::pending() {
        irq_work_run_slow();
    }
}

#[cold]
#[inline(never)]
fn irq_work_run_slow() {
    if !crate::sync::irq_work::take() {
        return;
    }
    if let Some(p) = PERF.get() {
        p.irq_work_run();
    }
    crate::bpf::ring_wakeups();
}

/// The timer interrupt (`f`: the interrupted registers): CPU clock sampling, then the
/// pending irq_work (interrupts are taken only in user mode and in the idle `hlt`, so no
/// kernel lock is held here).
pub fn timer_tick(f: &TrapFrame) {
    if let Some(p) = PERF.get() {
        p.timer_tick(f);
    }
    irq_work_run();
}

/// Whether any syscall event (or raw `sys_enter`/`sys_exit` consumer) is enabled.
#[inline(always)]
fn syscall_events_active() -> bool {
    // SAFETY: the pointer is `NO_SYSCALL_EVENTS` or the registry's counter, which lives as
    // long as the `Perf` instance, i.e. forever.
    unsafe { (*SYSCALL_ACTIVE.load(Ordering::Relaxed)).load(Ordering::Relaxed) != 0 }
}

/// The registered syscall tracepoints (slow paths only).
fn syscall_tps() -> Option<&'static SyscallTracepoints> {
    // SAFETY: set once by `init` to the registry's tracepoints, which live forever (the
    // `Perf` instance is never dropped).
    unsafe { SYSCALL_TPS.load(Ordering::Acquire).as_ref() }
}

/// Before system call `f.orig_rax` runs (arguments in the frame): `sys_enter` tracepoints.
/// One branch while no syscall event is enabled.
#[inline(always)]
pub fn syscall_enter(f: &mut TrapFrame) {
    if syscall_events_active() {
        syscall_enter_slow(f);
    }
}

#[cold]
#[inline(never)]
fn syscall_enter_slow(f: &mut TrapFrame) {
    if let Some(tps) = syscall_tps() {
        let args = [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9];
        tps.syscall_enter(f.orig_rax, &args, Some(f));
    }
}

/// After system call `nr` returned `ret` (`nr` = -1: no event, the frame was replaced by
/// `rt_sigreturn`): `sys_exit` tracepoints, then the pending irq_work (the end of a system
/// call is a safe point). One branch while no syscall event is enabled and no work is
/// pending.
#[inline(always)]
pub fn syscall_exit(f: &mut TrapFrame, nr: u64, ret: u64) {
    // Both flags in one test (no short circuit).
    if syscall_events_active() | crate::sync::irq_work::pending() {
        syscall_exit_slow(f, nr, ret);
    }
}

#[cold]
#[inline(never)]
fn syscall_exit_slow(f: &mut TrapFrame, nr: u64, ret: u64) {
    if syscall_events_active() {
        if let Some(tps) = syscall_tps() {
            tps.syscall_exit(nr, ret as i64, Some(f));
        }
    }
    irq_work_run();
}

/// The name of a task for records: `swapper/0` for the idle task (tid 0).
fn task_comm(t: &crate::task::Task) -> [u8; 16] {
    if t.tid == 0 {
        comm16("swapper/0")
    } else {
        comm16(&t.process.comm.lock())
    }
}

/// `sched_switch` from `prev` (leaving in `prev_state`) to `next`. Call with no scheduler
/// lock held (consumers' programs may ask for the current task).
pub fn sched_switch(prev: &crate::task::Task, prev_state: i64, next: &crate::task::Task) {
    if events::SCHED_SWITCH.enabled() {
        events::trace_sched_switch(
            task_comm(prev),
            prev.tid as i32,
            DEFAULT_PRIO,
            prev_state,
            task_comm(next),
            next.tid as i32,
            DEFAULT_PRIO,
        );
    }
}

/// `sched_process_exec` after a successful `execve` of `filename` by thread `tid`; also
/// enables the thread's `enable_on_exec` perf events.
pub fn process_exec(filename: &[u8], tid: u32) {
    let pid = tid as i32;
    if events::SCHED_PROCESS_EXEC.enabled() {
        events::trace_sched_process_exec(filename, pid, pid);
    }
    if let Some(p) = PERF.get() {
        p.on_exec(pid);
    }
}

/// `sched_process_exit` as thread `t` exits; its task-bound perf events stop (`EPOLLHUP`).
pub fn process_exit(t: &crate::task::Task) {
    if events::SCHED_PROCESS_EXIT.enabled() {
        events::trace_sched_process_exit(task_comm(t), t.tid as i32, DEFAULT_PRIO);
    }
    if let Some(p) = PERF.get() {
        p.on_exit(t.tid as i32);
    }
}

/// `bpf_trace_printk` output into tracefs (`trace`, `trace_pipe`).
struct TracefsSink;

impl TraceSink for TracefsSink {
    fn write(&self, rec: &TraceRecord<'_>) {
        if let Some(p) = PERF.get() {
            p.tracefs().trace_printk(&rec.comm, rec.pid, rec.cpu, rec.ts_ns, rec.msg);
        }
    }
}

/// tracefs's model: the perf-event crate's `TraceFs`.
struct Backend;

fn model() -> KResult<&'static perf_event::trace::TraceFs> {
    PERF.get().map(|p| p.tracefs()).ok_or(syscall_abi::Errno::ENODEV)
}

impl TraceBackend for Backend {
    fn list(&self, dir: &str) -> KResult<Vec<(String, bool)>> {
        model()?.list(dir).map_err(|e| e.errno)
    }

    fn stat(&self, path: &str) -> KResult<TraceNodeKind> {
        Ok(match model()?.stat(path).map_err(|e| e.errno)? {
            NodeKind::Dir => TraceNodeKind::Dir,
            NodeKind::File { writable } => TraceNodeKind::File { writable },
            NodeKind::TracePipe => TraceNodeKind::Pipe,
        })
    }

    fn read_file(&self, path: &str) -> KResult<Vec<u8>> {
        model()?.read_file(path).map_err(|e| e.errno)
    }

    fn write_file(&self, path: &str, data: &[u8], append: bool) -> KResult<usize> {
        model()?.write_file(path, data, append).map_err(|e| e.errno)
    }

    fn truncate(&self, path: &str) -> KResult<()> {
        model()?.truncate(path).map_err(|e| e.errno)
    }

    fn pipe_read(&self, buf: &mut [u8]) -> KResult<usize> {
        model()?.trace_pipe_read(buf).map_err(|e| e.errno)
    }

    fn pipe_ready(&self) -> bool {
        model().is_ok_and(|m| m.trace_pipe_ready())
    }
}

/// Boot wiring: creates the `Perf` instance, registers the syscall and sched tracepoints,
/// plugs tracing into the bpf host, mounts tracefs and adds the kprobe PMU's sysfs files.
/// Call after `probe::host::init` (the `Perf` instance looks for the kprobe engine when it
/// is created: without it `kprobe_events` and the kprobe PMU answer `ENODEV`/`ENOENT`).
pub fn init(vfs: &Vfs, sysfs: &SysFs) {
    let perf = PERF.call_once(|| Perf::new(Arc::new(KernelPerfHost)));
    let reg = perf.trace();
    for d in SYSCALLS {
        if let Err(e) = reg.syscalls().register(u64::from(d.nr), d.name, d.args) {
            log::warn!("trace: syscall tracepoint {} ({}): {e:?}", d.name, d.nr);
        }
    }
    for tp in events::all() {
        reg.register_static(tp);
    }
    SYSCALL_TPS.store(ptr::from_ref(reg.syscalls()).cast_mut(), Ordering::Release);
    SYSCALL_ACTIVE.store(ptr::from_ref(reg.syscalls().active_counter()).cast_mut(), Ordering::Release);

    let host = crate::bpf::kernel_host();
    host.set_tracing(perf.tracing_host());
    host.set_perf_event_lookup(Box::new(|ops| {
        let p = ops.as_any().downcast_ref::<PerfFileOps>()?;
        Some(p.event().clone() as Arc<dyn FdObject>)
    }));
    host.set_trace_sink(Arc::new(TracefsSink));
    host.set_kernel_reader(|dst, src| {
        crate::mm::paging::read_kernel_nofault(dst, src)?;
        // In the `kprobe_ud` breakpoint mode, armed probe sites read as `int3`, as on Linux.
        crate::probe::host::fixup_read(src, dst);
        Ok(())
    });

    let tfs = TRACEFS.call_once(|| TraceFs::new(Arc::new(Backend), alloc_anon_dev()));
    for at in TRACEFS_MOUNTS {
        if let Err(e) = vfs.mount(at, tfs.root()) {
            log::error!("mount tracefs at {}: {e:?}", String::from_utf8_lossy(at));
        }
    }
    let files = [
        ("bus/event_source/devices/kprobe/type", format!("{}\n", perf.kprobe_pmu_type())),
        ("bus/event_source/devices/kprobe/format/retprobe", String::from(perf_event::KPROBE_FORMAT_RETPROBE)),
        ("bus/event_source/devices/tracepoint/type", String::from("2\n")),
        ("bus/event_source/devices/software/type", String::from("1\n")),
    ];
    for (path, text) in files {
        if let Err(e) = sysfs.add_text(path, &text) {
            log::error!("sysfs {path}: {e:?}");
        }
    }
    log::info!("trace: {} syscall tracepoints, tracefs at /sys/kernel/tracing", SYSCALLS.len());
}
