//! `bpf_perf_event_output` (25) and [`PerfEventOutput`], what a perf event stored in a
//! `perf_event_array` provides. Semantics: Linux 6.1 `kernel/trace/bpf_trace.c`
//! (`bpf_perf_event_output`, `__bpf_perf_event_output`).
//!
//! # Reaching the event
//! A `perf_event_array` stores `Arc<dyn maps::FdObject>`s made by the perf-event layer,
//! whose concrete type `bpf-subsys` does not know, so it cannot downcast them. The host
//! does: [`crate::BpfHost::perf_event_output_target`] turns a stored object into a
//! `&dyn PerfEventOutput` (typically `obj.as_any().downcast_ref::<MyEvent>()`).

use syscall_abi::bpf::{MapType, BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK};
use syscall_abi::{Errno, Result};

use super::env::ProgEnv;
use super::neg;
use crate::vm::ActiveRun;
use maps::FdArray;

/// The output side of a perf event, as `bpf_perf_event_output` uses it.
pub trait PerfEventOutput {
    /// Appends a `PERF_RECORD_SAMPLE` carrying `data` (`PERF_SAMPLE_RAW`) to the event's
    /// ring. `cpu` is the CPU the program runs on. Errors as Linux: an event that is not a
    /// `PERF_COUNT_SW_BPF_OUTPUT` software event → `EINVAL`; an event bound to another CPU
    /// → `EOPNOTSUPP`; no room → `ENOSPC`.
    fn bpf_output(&self, cpu: u32, data: &[u8]) -> Result<()>;
}

/// `long bpf_perf_event_output(ctx, map, flags, data, size)`: `flags` is an index into the
/// array or `BPF_F_CURRENT_CPU`; other bits → `-EINVAL`; an index outside the array →
/// `-E2BIG`; an empty slot → `-ENOENT`; not a perf event array → `-EINVAL`.
pub(super) fn output(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let r = (|| {
        let m = env.map_arg(a[1]).ok_or(Errno::EINVAL)?;
        let arr = m.map().as_any().downcast_ref::<FdArray>().ok_or(Errno::EINVAL)?;
        if m.map().def().map_type != MapType::PerfEventArray {
            return Err(Errno::EINVAL);
        }
        let flags = a[2];
        if flags & !BPF_F_INDEX_MASK != 0 {
            return Err(Errno::EINVAL);
        }
        let cpu = env.host.current_cpu();
        let index = if flags & BPF_F_INDEX_MASK == BPF_F_CURRENT_CPU { u64::from(cpu) } else { flags };
        let index = u32::try_from(index).map_err(|_| Errno::E2BIG)?;
        if index >= m.map().def().max_entries {
            return Err(Errno::E2BIG);
        }
        let obj = arr.get(index, env.guard).ok_or(Errno::ENOENT)?;
        let size = usize::try_from(a[4]).map_err(|_| Errno::EFAULT)?;
        let data = env.read_vec(run, a[3], size)?;
        let target = env.host.perf_event_output_target(&**obj).ok_or(Errno::EINVAL)?;
        target.bpf_output(cpu, &data).map_err(|e| e.errno)
    })();
    match r {
        Ok(()) => 0,
        Err(e) => neg(e),
    }
}
