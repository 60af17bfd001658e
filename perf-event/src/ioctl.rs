//! ioctl and mmap of a perf event fd (Linux `_perf_ioctl`, `perf_event_set_output`,
//! `perf_mmap`, `perf_event_query_prog_array`).

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use bpf_subsys::host::perfmon_capable;
use bpf_subsys::object::{BpfObject, FdTarget};
use syscall_abi::abi::Pod;
use syscall_abi::perf::*;
use syscall_abi::{err, Errno, Result};

use crate::event::{EventCore, Kind, PerfEvent};
use crate::perf::Perf;
use crate::ring::{PerfRing, RingBuffer};

/// `BPF_TRACE_MAX_PROGS`.
const BPF_TRACE_MAX_PROGS: u32 = 64;

/// The `-1` of `PERF_EVENT_IOC_SET_OUTPUT` (as `unsigned long`, or an `int` not
/// sign-extended by the caller).
fn is_minus_one(arg: u64) -> bool {
    arg == u64::MAX || arg == u64::from(u32::MAX)
}

/// The events an `ENABLE`/`DISABLE`/`RESET` applies to: the event, or with
/// `PERF_IOC_FLAG_GROUP` its whole group.
fn targets(ev: &PerfEvent, arg: u64) -> alloc::vec::Vec<Arc<EventCore>> {
    if arg & u64::from(PERF_IOC_FLAG_GROUP) == 0 {
        return alloc::vec![ev.core.clone()];
    }
    let leader = ev.core.leader.clone().unwrap_or_else(|| ev.core.clone());
    let mut v = alloc::vec![leader.clone()];
    v.extend(leader.siblings.lock().iter().filter_map(|s| s.upgrade()));
    v
}

pub(crate) fn ioctl(ev: &PerfEvent, cmd: u32, arg: u64) -> Result<u64> {
    let core = &ev.core;
    match cmd {
        PERF_EVENT_IOC_ENABLE => targets(ev, arg).iter().for_each(|e| e.set_enabled(true)),
        PERF_EVENT_IOC_DISABLE => targets(ev, arg).iter().for_each(|e| e.set_enabled(false)),
        PERF_EVENT_IOC_RESET => targets(ev, arg).iter().for_each(|e| e.reset()),
        PERF_EVENT_IOC_REFRESH => {
            let n = i64::try_from(arg).map_err(|_| Errno::EINVAL)?;
            if core.attr.inherit() != 0 || core.period.load(Ordering::Relaxed) == 0 {
                return err(Errno::EINVAL, "REFRESH needs a non-inherited sampling event");
            }
            core.set_event_limit(n);
            core.set_enabled(true);
        }
        PERF_EVENT_IOC_PERIOD => {
            let mut raw = [0u8; 8];
            core.bpf().copy_from_user(&mut raw, arg)?;
            set_period(core, u64::from_ne_bytes(raw))?;
        }
        PERF_EVENT_IOC_ID => {
            core.bpf().copy_to_user(arg, &u64::from(core.id).to_ne_bytes())?;
        }
        PERF_EVENT_IOC_SET_OUTPUT => {
            if is_minus_one(arg) {
                set_output(ev, None)?;
            } else {
                let fd = u32::try_from(arg).map_err(|_| Errno::EBADF)?;
                let other = match core.bpf().resolve_fd(fd)? {
                    FdTarget::PerfEvent(o) => o,
                    _ => return err(Errno::EBADF, "not a perf event fd"),
                };
                let other = Perf::as_event(&*other).ok_or(Errno::EBADF)?;
                set_output(ev, Some(other))?;
            }
        }
        PERF_EVENT_IOC_SET_FILTER => return err(Errno::EINVAL, "event filters are not supported"),
        PERF_EVENT_IOC_SET_BPF => {
            let fd = u32::try_from(arg).map_err(|_| Errno::EBADF)?;
            let prog = match core.bpf().resolve_fd(fd)? {
                FdTarget::Bpf(BpfObject::Prog(p), _) => p,
                _ => return err(Errno::EINVAL, "not a bpf program fd"),
            };
            let att = crate::bpf::attach(core, prog, 0)?;
            *ev.set_bpf.lock() = Some(att);
        }
        PERF_EVENT_IOC_PAUSE_OUTPUT => match core.ring() {
            Some(rb) if rb.data_pages() != 0 => rb.set_paused(arg != 0),
            _ => return err(Errno::EINVAL, "no ring buffer"),
        },
        PERF_EVENT_IOC_QUERY_BPF => query_bpf(core, arg)?,
        PERF_EVENT_IOC_MODIFY_ATTRIBUTES => {
            let perf_attr_type = {
                let mut raw = [0u8; 4];
                core.bpf().copy_from_user(&mut raw, arg)?;
                u32::from_ne_bytes(raw)
            };
            if perf_attr_type != core.attr.type_ {
                return err(Errno::EINVAL, "MODIFY_ATTRIBUTES cannot change the type");
            }
            return err(Errno::EOPNOTSUPP, "only breakpoints can be modified");
        }
        _ => return err(Errno::ENOTTY, "unknown perf ioctl"),
    }
    Ok(0)
}

/// Linux `_perf_event_period`.
fn set_period(core: &EventCore, value: u64) -> Result<()> {
    if core.period.load(Ordering::Relaxed) == 0 || value == 0 {
        return err(Errno::EINVAL, "not a sampling event, or a zero period");
    }
    let freq = core.attr.freq() != 0;
    if freq && value > 100_000 {
        return err(Errno::EINVAL, "frequency above the maximum sample rate");
    }
    if !freq && value & (1 << 63) != 0 {
        return err(Errno::EINVAL, "period too large");
    }
    let mut period = if freq { 1 } else { value };
    if matches!(core.kind, Kind::Clock) {
        period = period.max(10_000);
    }
    core.period.store(period, Ordering::Relaxed);
    core.period_acc.store(0, Ordering::Relaxed);
    Ok(())
}

/// Linux `perf_event_set_output`: `ev` writes into `out`'s ring (`None`: into its own).
pub(crate) fn set_output(ev: &PerfEvent, out: Option<&PerfEvent>) -> Result<()> {
    let core = &ev.core;
    let rb = match out {
        Some(o) => {
            let oc = &o.core;
            if Arc::ptr_eq(oc, core) {
                return err(Errno::EINVAL, "an event cannot output to itself");
            }
            if oc.cpu != core.cpu || (oc.cpu == -1 && oc.task != core.task) {
                return err(Errno::EINVAL, "output event on another cpu or task");
            }
            Some(oc.ring().ok_or(Errno::EINVAL)?)
        }
        None => None,
    };
    if let Some(own) = core.ring() {
        if own.owner() == core.id && own.mapped() {
            return err(Errno::EINVAL, "the event has its own mapped ring");
        }
    }
    core.set_ring(rb);
    Ok(())
}

/// Linux `perf_event_query_prog_array`.
fn query_bpf(core: &EventCore, uarg: u64) -> Result<()> {
    if !perfmon_capable(core.bpf()) {
        return err(Errno::EPERM, "QUERY_BPF needs CAP_PERFMON");
    }
    let (Kind::Tracepoint(tp), 2) = (&core.kind, core.attr.type_) else {
        return err(Errno::EINVAL, "QUERY_BPF works on PERF_TYPE_TRACEPOINT events");
    };
    let mut q = PerfEventQueryBpf::ZERO;
    core.bpf().copy_from_user(q.as_bytes_mut(), uarg)?;
    if q.ids_len > BPF_TRACE_MAX_PROGS {
        return err(Errno::E2BIG, "ids_len above BPF_TRACE_MAX_PROGS");
    }
    let ids = tp.consumer_prog_ids();
    let cnt = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    let cnt_off = core::mem::offset_of!(PerfEventQueryBpf, prog_cnt) as u64;
    core.bpf().copy_to_user(uarg + cnt_off, &cnt.to_ne_bytes())?;
    let n = (q.ids_len as usize).min(ids.len());
    if n > 0 {
        let bytes: alloc::vec::Vec<u8> = ids[..n].iter().flat_map(|i| i.to_ne_bytes()).collect();
        core.bpf().copy_to_user(uarg + core::mem::size_of::<PerfEventQueryBpf>() as u64, &bytes)?;
    }
    if q.ids_len != 0 && ids.len() > q.ids_len as usize {
        return err(Errno::ENOSPC, "more programs than ids_len");
    }
    Ok(())
}

/// Linux `perf_mmap` (the data part; AUX areas do not exist here).
pub(crate) fn mmap(ev: &PerfEvent, pgoff: u64, npages: usize, writable: bool) -> Result<Arc<PerfRing>> {
    let core = &ev.core;
    if core.cpu == -1 && core.attr.inherit() != 0 {
        return err(Errno::EINVAL, "inherited per-task events cannot be mapped");
    }
    if pgoff != 0 {
        return err(Errno::EINVAL, "no AUX area");
    }
    let data_pages = npages.checked_sub(1).ok_or(Errno::EINVAL)?;
    if data_pages != 0 && !data_pages.is_power_of_two() {
        return err(Errno::EINVAL, "data pages must be a power of two");
    }
    let mut slot = core.ring.write();
    if let Some(rb) = slot.as_ref() {
        if rb.mapped() {
            if rb.data_pages() != data_pages {
                return err(Errno::EINVAL, "the ring is mapped with another size");
            }
            return Ok(Arc::new(PerfRing::new(rb.clone())));
        }
    }
    let mark = if core.attr.watermark() != 0 { core.attr.wakeup_watermark() } else { 0 };
    let wakeup_events = if core.attr.watermark() != 0 { 0 } else { core.attr.wakeup_events };
    let rb = RingBuffer::new(core.bpf(), data_pages, writable, mark, wakeup_events, core.id)?;
    let old = slot.replace(rb.clone());
    drop(slot);
    if let Some(old) = old {
        old.detach(core);
    }
    rb.attach(core);
    let ring = Arc::new(PerfRing::new(rb));
    core.update_user_page();
    Ok(ring)
}
