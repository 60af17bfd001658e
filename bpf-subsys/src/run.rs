//! Running a loaded program: [`run_prog`] (what attach points and `BPF_PROG_TEST_RUN` call),
//! the `BPF_ENABLE_STATS` switch for run counters ([`stats_enable`]), and
//! [`run_kprobe`], a run with a synthetic `pt_regs` context (Linux cannot test-run kprobe
//! programs; host tests and the perf-event layer can use this).
//!
//! A run happens with preemption disabled and inside a `maps::reclaim` read-side section
//! (Linux runs programs under `migrate_disable` + `rcu_read_lock`), on the interpreter with
//! the default instruction budget ([`crate::vm::DEFAULT_INSN_BUDGET`]): a program that loops
//! longer stops with [`VmErrorKind::BudgetExceeded`](crate::vm::VmErrorKind), the guard
//! against runaway loops (Linux's verifier proves termination instead).
//!
//! Not done: Linux's per-CPU recursion guard of tracing programs (`bpf_prog_active`,
//! counted in `recursion_misses`); the caller (the attach layer) must not run a tracing
//! program from inside another one on the same CPU.

use core::sync::atomic::{AtomicU64, Ordering};

use syscall_abi::abi::Pod;
use syscall_abi::ptregs::native::PtRegs;

use crate::helpers::{ProgEnv, RunCtx};
use crate::host::BpfHost;
use crate::object::ProgObj;
use crate::vm::{Limits, Program, Region, Vm, VmError};

/// Number of open `BPF_ENABLE_STATS` fds (Linux's `bpf_stats_enabled_key` count): run
/// counters are kept while it is non-zero.
static STATS_ENABLED: AtomicU64 = AtomicU64::new(0);

/// `BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)` made a stats fd: counters on (nesting).
pub fn stats_enable() {
    STATS_ENABLED.fetch_add(1, Ordering::Relaxed);
}

/// A stats fd was closed: counters off when it was the last one.
pub fn stats_disable() {
    let _ = STATS_ENABLED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}

/// Whether run counters are being kept.
pub fn stats_enabled() -> bool {
    STATS_ENABLED.load(Ordering::Relaxed) != 0
}

/// Preemption off for the lifetime of the value.
struct NoPreempt<'a>(&'a dyn BpfHost);

impl<'a> NoPreempt<'a> {
    fn enter(host: &'a dyn BpfHost) -> Self {
        host.preempt_disable();
        NoPreempt(host)
    }
}

impl Drop for NoPreempt<'_> {
    fn drop(&mut self) {
        self.0.preempt_enable();
    }
}

/// Runs `prog` once with `ctx` as its context (`R1`), and returns `R0` (Linux
/// `bpf_prog_run`). `run_ctx` carries what helpers need about this run (attach cookie,
/// function address); its `ctx`/`ctx_len` are filled in from `ctx`. With
/// [`stats_enabled`], the run is counted in the program's [`crate::object::RunStats`]
/// (time from [`BpfHost::ktime_ns`]).
pub fn run_prog(host: &dyn BpfHost, prog: &ProgObj, ctx: Region<'_>, run_ctx: RunCtx) -> Result<u64, VmError> {
    let _preempt = NoPreempt::enter(host);
    let guard = maps::reclaim::read_lock();
    let run_ctx = RunCtx { ctx: ctx.addr(), ctx_len: ctx.len(), ..run_ctx };
    let mut env = ProgEnv::new(host, prog, &guard, run_ctx);
    let vm = Vm::new(prog.insns()).context(ctx).limits(Limits::default());
    if !stats_enabled() {
        return vm.run(&mut env);
    }
    let start = host.ktime_ns();
    let result = vm.run(&mut env);
    prog.record_run(host.ktime_ns().saturating_sub(start));
    result
}

/// Runs a kprobe (or perf_event-less uprobe) program with `regs` as its `struct pt_regs`
/// context, as a kprobe hit would: the program may read the registers but not write them
/// (Linux's verifier rejects writes to a kprobe context). `func_ip` is what
/// `bpf_get_func_ip` returns, `cookie` what `bpf_get_attach_cookie` returns.
pub fn run_kprobe(
    host: &dyn BpfHost,
    prog: &ProgObj,
    regs: &PtRegs,
    func_ip: u64,
    cookie: u64,
) -> Result<u64, VmError> {
    let bytes = regs.as_bytes();
    let run_ctx = RunCtx { func_ip, cookie, ..RunCtx::default() };
    run_prog(host, prog, Region::new(bytes), run_ctx)
}
