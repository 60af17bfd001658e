//! `perf_event_open(2)` (Linux 6.1 `SYSCALL_DEFINE5(perf_event_open)`, `perf_copy_attr`,
//! `perf_event_alloc`, `perf_init_event` and the PMUs' `event_init`).
//!
//! Order of the checks, as Linux: flags; attr copy (`E2BIG` + size write-back, `EFAULT`);
//! attr checks (`EINVAL`); privileges (`EACCES`); frequency/period; `PID_CGROUP`; task
//! (`ESRCH`); inherit vs the group; CPU (`EINVAL`); the PMU by type (`ENOENT` when none,
//! then the PMU's own checks); group rules; output redirection. The group fd has already
//! been resolved by the kernel (`EBADF` for an fd that is not a perf event).
//!
//! Departures: cgroups do not exist (`PERF_FLAG_PID_CGROUP` → `EINVAL`, as a Linux
//! without `CONFIG_CGROUP_PERF`); side-band records (`mmap`, `comm`, `task`,
//! `context_switch`, ...) are accepted but never emitted; `write_backward` rings and AUX
//! output are refused (`EINVAL`); `PERF_SAMPLE_READ` with `PERF_FORMAT_GROUP` is refused
//! (`EINVAL`); `inherit` is accepted but child tasks do not inherit events; frequency mode
//! samples every hit on counting events (Linux adapts the period to reach the frequency),
//! while the clocks turn the frequency into a fixed period as Linux's hrtimer events do.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use bpf_subsys::host::perfmon_capable;
use spin::Mutex;
use syscall_abi::perf::*;
use syscall_abi::{err, Errno, Result};

use crate::event::{EventCore, Kind, PerfEvent};
use crate::perf::Perf;
use crate::source::{kprobe, tracepoint};

/// `PERF_FLAG_*` that exist.
const PERF_FLAG_ALL: u64 = PERF_FLAG_FD_NO_GROUP | PERF_FLAG_FD_OUTPUT | PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC;

const PERF_TYPE_SOFTWARE: u32 = PerfTypeId::Software as u32;
const PERF_TYPE_TRACEPOINT: u32 = PerfTypeId::Tracepoint as u32;
const PERF_COUNT_SW_CPU_CLOCK: u64 = PerfSwId::CpuClock as u64;
const PERF_COUNT_SW_TASK_CLOCK: u64 = PerfSwId::TaskClock as u64;
const PERF_COUNT_SW_BPF_OUTPUT: u64 = PerfSwId::BpfOutput as u64;

/// `sysctl_perf_event_sample_rate` default.
const MAX_SAMPLE_RATE: u64 = 100_000;

/// `sysctl_perf_event_max_stack` default.
const MAX_STACK: u16 = 127;

/// x86_64 `perf_reg_validate`: `DS`..`GS` (bits 12..15) and the reserved bits 24..31 are
/// refused, and the mask must not be empty; XMM registers (32..) need a PMU with extended
/// registers (none here: `EOPNOTSUPP` at PMU init).
fn reg_mask_ok(mask: u64) -> bool {
    mask != 0 && mask & (0xf << 12) == 0 && mask & (0xff << 24) == 0
}

/// Clock ids `use_clockid` accepts (Linux `perf_event_set_clock`).
fn clockid_ok(id: i32) -> bool {
    matches!(id, 0 | 1 | 4 | 7 | 11)
}

impl Perf {
    /// `perf_event_open(attr, pid, cpu, group_fd, flags)` after the kernel resolved
    /// `group_fd` (-1 → `None`; an fd that is not a perf event → `EBADF`, the kernel's
    /// answer). Copies the attributes from user memory at `uattr` (`E2BIG` after writing the
    /// kernel's size into `uattr->size`), validates them like Linux and creates the event.
    /// The kernel installs the result as an fd, `O_CLOEXEC` when [`PerfEvent::cloexec`].
    pub fn open(
        self: &Arc<Self>,
        uattr: u64,
        pid: i32,
        cpu: i32,
        group: Option<Arc<PerfEvent>>,
        flags: u64,
    ) -> Result<Arc<PerfEvent>> {
        let host = self.shared.host.clone();
        let bpf = host.bpf();
        if flags & !PERF_FLAG_ALL != 0 {
            return err(Errno::EINVAL, "unknown perf_event_open flags");
        }
        let mut attr = self.copy_attr(uattr)?;
        check_attr(&mut attr)?;
        check_kernel_only_attr(&attr)?;
        if attr.exclude_kernel() == 0 && !perfmon_capable(bpf) {
            return err(Errno::EACCES, "kernel profiling needs CAP_PERFMON");
        }
        if (attr.namespaces() != 0 || attr.cgroup() != 0) && !perfmon_capable(bpf) {
            return err(Errno::EACCES, "namespace/cgroup records need CAP_PERFMON");
        }
        if attr.freq() != 0 {
            if attr.sample_freq() > MAX_SAMPLE_RATE {
                return err(Errno::EINVAL, "sample_freq above the maximum sample rate");
            }
        } else if attr.sample_period & (1 << 63) != 0 {
            return err(Errno::EINVAL, "sample_period too large");
        }
        if attr.sample_type & PERF_SAMPLE_PHYS_ADDR != 0 && !perfmon_capable(bpf) {
            return err(Errno::EACCES, "physical addresses need CAP_PERFMON");
        }
        if flags & PERF_FLAG_PID_CGROUP != 0 {
            return err(Errno::EINVAL, "cgroup events are not supported");
        }
        let (mut leader, output) = match group {
            Some(g) if flags & PERF_FLAG_FD_NO_GROUP != 0 => (None, (flags & PERF_FLAG_FD_OUTPUT != 0).then_some(g)),
            Some(g) => (Some(g.clone()), (flags & PERF_FLAG_FD_OUTPUT != 0).then_some(g)),
            None => (None, None),
        };
        let task = match pid {
            -1 => -1,
            0 => bpf.current_pid_tgid().0 as i32,
            p if p > 0 && host.task_exists(p) => p,
            _ => return err(Errno::ESRCH, "no such task"),
        };
        if let Some(l) = &leader {
            if task >= 0 && l.core.attr.inherit() != attr.inherit() {
                return err(Errno::EINVAL, "inherit differs from the group leader's");
            }
        }
        // perf_event_alloc: a CPU must exist unless the event follows a task on any CPU.
        if cpu < -1 || (cpu >= 0 && cpu as u32 >= bpf.possible_cpus()) || (cpu == -1 && task < 0) {
            return err(Errno::EINVAL, "invalid cpu");
        }
        // The group must be one level deep, on one CPU and task; only leaders are
        // exclusive or pinned.
        if let Some(l) = &leader {
            if l.core.leader.is_some() {
                return err(Errno::EINVAL, "group_fd is not a group leader");
            }
            if l.core.cpu != cpu || l.core.task != task {
                return err(Errno::EINVAL, "group members must share the cpu and task");
            }
            if attr.exclusive() != 0 || attr.pinned() != 0 {
                return err(Errno::EINVAL, "only a group leader can be exclusive or pinned");
            }
        }
        let kind = self.init_pmu(&attr)?;
        let mut period = if attr.freq() != 0 {
            if attr.sample_freq() != 0 {
                1
            } else {
                0
            }
        } else {
            attr.sample_period
        };
        if matches!(kind, Kind::Clock) && attr.freq() != 0 && attr.sample_freq() != 0 {
            // perf_swevent_init_hrtimer: frequency → fixed period in ns.
            period = 1_000_000_000 / attr.sample_freq();
            attr.sample_period = period;
            attr.set_freq(0);
        }
        if matches!(kind, Kind::Clock) && period != 0 {
            period = period.max(10_000);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let leader_core = leader.as_ref().map(|l| l.core.clone());
        let core = Arc::new(EventCore::new(id, self.shared.clone(), attr, kind, cpu, task, leader_core, period));
        let source = match &core.kind {
            Kind::Tracepoint(tp) => Some(tracepoint::attach(&core, &tp.clone())?),
            _ => None,
        };
        let event = Arc::new(PerfEvent {
            core: core.clone(),
            set_bpf: Mutex::new(None),
            source: Mutex::new(source),
            cloexec: flags & PERF_FLAG_FD_CLOEXEC != 0,
        });
        if let Some(out) = output {
            crate::ioctl::set_output(&event, Some(&out))?;
        }
        if let Some(l) = leader.take() {
            let mut sibs = l.core.siblings.lock();
            sibs.retain(|s| s.strong_count() > 0);
            sibs.push(Arc::downgrade(&core));
        }
        if attr.enable_on_exec() != 0 && attr.disabled() != 0 {
            core.enable_on_exec.store(true, Ordering::Relaxed);
        }
        if attr.disabled() == 0 {
            core.set_enabled(true);
        }
        self.add_event(&core);
        Ok(event)
    }

    /// `perf_copy_attr`'s copy; writes the kernel's size back on `E2BIG`.
    fn copy_attr(&self, uattr: u64) -> Result<PerfEventAttr> {
        let bpf = self.shared.host.bpf();
        let mut src = |off: usize, dst: &mut [u8]| -> Result<()> {
            if dst.is_empty() {
                return Ok(());
            }
            let addr = uattr.checked_add(off as u64).ok_or(Errno::EFAULT)?;
            bpf.copy_from_user(dst, addr)
        };
        match copy_attr(&mut src, bpf.page_size()) {
            Err(e) if e.errno == Errno::E2BIG => {
                let _ = bpf.copy_to_user(uattr + PERF_ATTR_SIZE_OFFSET as u64, &size_writeback());
                Err(e)
            }
            r => r,
        }
    }

    /// `perf_init_event`: the PMU of `attr.type` and its `event_init`.
    fn init_pmu(&self, attr: &PerfEventAttr) -> Result<Kind> {
        let host = &*self.shared.host;
        let branch = attr.sample_type & PERF_SAMPLE_BRANCH_STACK != 0;
        let extended = (attr.sample_type & PERF_SAMPLE_REGS_INTR != 0 && attr.sample_regs_intr >> 32 != 0)
            || (attr.sample_type & PERF_SAMPLE_REGS_USER != 0 && attr.sample_regs_user >> 32 != 0);
        let kind = match attr.type_ {
            PERF_TYPE_SOFTWARE => {
                if branch {
                    return err(Errno::EOPNOTSUPP, "no branch sampling on software events");
                }
                match attr.config {
                    PERF_COUNT_SW_CPU_CLOCK | PERF_COUNT_SW_TASK_CLOCK => Kind::Clock,
                    PERF_COUNT_SW_BPF_OUTPUT => Kind::BpfOutput,
                    c if c < PERF_COUNT_SW_MAX => Kind::Software(c),
                    _ => return err(Errno::ENOENT, "unknown software event"),
                }
            }
            PERF_TYPE_TRACEPOINT => {
                if branch {
                    return err(Errno::EOPNOTSUPP, "no branch sampling on tracepoints");
                }
                let id = u32::try_from(attr.config).map_err(|_| Errno::EINVAL)?;
                match self.trace().by_id(id) {
                    Some(tp) => Kind::Tracepoint(tp),
                    None => return err(Errno::EINVAL, "no trace event with this id"),
                }
            }
            t if t == crate::KPROBE_PMU_TYPE => {
                if !perfmon_capable(host.bpf()) {
                    return err(Errno::EACCES, "kprobe events need CAP_PERFMON");
                }
                if branch {
                    return err(Errno::EOPNOTSUPP, "no branch sampling on probes");
                }
                Kind::Tracepoint(kprobe::create(host, self.trace(), attr.config, attr.config1, attr.config2)?)
            }
            _ => return err(Errno::ENOENT, "no PMU for this event type"),
        };
        if extended {
            return err(Errno::EOPNOTSUPP, "extended registers need a PMU that has them");
        }
        Ok(kind)
    }
}

/// The checks of `perf_copy_attr` / `perf_event_open` that `check_attr` leaves to the
/// kernel, and this kernel's refusals (module documentation).
fn check_kernel_only_attr(attr: &PerfEventAttr) -> Result<()> {
    let st = attr.sample_type;
    if st & PERF_SAMPLE_REGS_USER != 0 && !reg_mask_ok(attr.sample_regs_user) {
        return err(Errno::EINVAL, "invalid sample_regs_user");
    }
    if st & PERF_SAMPLE_REGS_INTR != 0 && !reg_mask_ok(attr.sample_regs_intr) {
        return err(Errno::EINVAL, "invalid sample_regs_intr");
    }
    if st & PERF_SAMPLE_CGROUP != 0 {
        return err(Errno::EINVAL, "PERF_SAMPLE_CGROUP without cgroup support");
    }
    if st & PERF_SAMPLE_CALLCHAIN != 0 && attr.sample_max_stack > MAX_STACK {
        return err(Errno::EINVAL, "sample_max_stack above the maximum");
    }
    if attr.use_clockid() != 0 && !clockid_ok(attr.clockid) {
        return err(Errno::EINVAL, "unsupported clockid");
    }
    if attr.inherit() != 0 && st & PERF_SAMPLE_READ != 0 {
        return err(Errno::EINVAL, "inherit with PERF_SAMPLE_READ");
    }
    if st & PERF_SAMPLE_READ != 0 && attr.read_format & PERF_FORMAT_GROUP != 0 {
        return err(Errno::EINVAL, "PERF_SAMPLE_READ of a group is not supported");
    }
    if attr.write_backward() != 0 {
        return err(Errno::EINVAL, "backward rings are not supported");
    }
    if attr.aux_output() != 0 || attr.aux_sample_size != 0 {
        return err(Errno::EINVAL, "no AUX area PMU");
    }
    Ok(())
}
