//! Record encoding (Linux `perf_prepare_sample` / `perf_output_sample`,
//! `perf_event_lost`-style `PERF_RECORD_LOST`, `__perf_event__output_id_sample`).
//!
//! `PERF_RECORD_SAMPLE` fields follow `sample_type` in Linux's order: IDENTIFIER, IP, TID,
//! TIME, ADDR, ID, STREAM_ID, CPU, PERIOD, READ, CALLCHAIN, RAW, (BRANCH_STACK is refused at
//! open), REGS_USER, STACK_USER, WEIGHT, DATA_SRC, TRANSACTION, REGS_INTR, PHYS_ADDR, CGROUP
//! (refused at open), DATA_PAGE_SIZE, CODE_PAGE_SIZE, AUX. What this kernel cannot know is
//! written as Linux writes it when the data is absent: no user registers (`abi` 0, no user
//! stack), an empty AUX sample, zero weights/sources/addresses/page sizes; a callchain is
//! the kernel context marker and the sampled ip. RAW is `u32 size` + data + zero padding to
//! 8 bytes (`size` counts data and padding).

use syscall_abi::perf::*;

use crate::event::EventCore;
use crate::ring::Cursor;

/// What one sample reports besides the event's identity.
#[derive(Clone, Copy, Default)]
pub(crate) struct SampleData<'a> {
    /// Instruction pointer at the event.
    pub ip: u64,
    /// `PERF_SAMPLE_ADDR`.
    pub addr: u64,
    /// `PERF_SAMPLE_PERIOD`.
    pub period: u64,
    /// `PERF_SAMPLE_RAW` payload (`None`: Linux's empty raw record, 4 zero bytes + size 4).
    pub raw: Option<&'a [u8]>,
    /// The event interrupted user mode (`PERF_RECORD_MISC_USER`, else `_KERNEL`).
    pub user: bool,
}

/// Who and where, taken once per record.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    pub pid: u32,
    pub tid: u32,
    pub time: u64,
    pub cpu: u32,
}

impl Origin {
    /// The current task and CPU, now.
    pub(crate) fn current(core: &EventCore) -> Origin {
        let host = core.bpf();
        let (tid, pid) = host.current_pid_tgid();
        Origin { pid, tid, time: core.clock_ns(), cpu: host.current_cpu() }
    }
}

const HEADER: usize = 8;
const PERF_RECORD_LOST: u32 = PerfRecordType::Lost as u32;
const PERF_RECORD_SAMPLE: u32 = PerfRecordType::Sample as u32;

/// Size of the `sample_id_all` trailer of non-sample records.
pub(crate) fn id_trailer_size(st: u64, sample_id_all: bool) -> usize {
    if !sample_id_all {
        return 0;
    }
    [PERF_SAMPLE_TID, PERF_SAMPLE_TIME, PERF_SAMPLE_ID, PERF_SAMPLE_STREAM_ID, PERF_SAMPLE_CPU, PERF_SAMPLE_IDENTIFIER]
        .iter()
        .filter(|&&b| st & b != 0)
        .count()
        * 8
}

fn write_id_trailer(cur: &mut Cursor, core: &EventCore, o: &Origin) {
    let st = core.attr.sample_type;
    if core.attr.sample_id_all() == 0 {
        return;
    }
    if st & PERF_SAMPLE_TID != 0 {
        cur.u32x2(o.pid, o.tid);
    }
    if st & PERF_SAMPLE_TIME != 0 {
        cur.u64(o.time);
    }
    if st & PERF_SAMPLE_ID != 0 {
        cur.u64(u64::from(core.id));
    }
    if st & PERF_SAMPLE_STREAM_ID != 0 {
        cur.u64(u64::from(core.id));
    }
    if st & PERF_SAMPLE_CPU != 0 {
        cur.u32x2(o.cpu, 0);
    }
    if st & PERF_SAMPLE_IDENTIFIER != 0 {
        cur.u64(u64::from(core.id));
    }
}

/// Size of a `PERF_RECORD_LOST` of `core`.
pub(crate) fn lost_size(core: &EventCore) -> usize {
    HEADER + 16 + id_trailer_size(core.attr.sample_type, core.attr.sample_id_all() != 0)
}

/// Writes `PERF_RECORD_LOST { header, id, lost }` + trailer.
pub(crate) fn write_lost(cur: &mut Cursor, core: &EventCore, o: &Origin, lost: u64) {
    cur.u32x2(PERF_RECORD_LOST, (lost_size(core) as u32) << 16);
    cur.u64(u64::from(core.id));
    cur.u64(lost);
    write_id_trailer(cur, core, o);
}

/// Bytes of the `PERF_SAMPLE_READ` part (non-group read format).
fn read_size(rf: u64) -> usize {
    8 * (1 + [PERF_FORMAT_TOTAL_TIME_ENABLED, PERF_FORMAT_TOTAL_TIME_RUNNING, PERF_FORMAT_ID, PERF_FORMAT_LOST]
        .iter()
        .filter(|&&b| rf & b != 0)
        .count())
}

/// Padded size of the RAW part (size word included).
fn raw_size(raw: Option<&[u8]>) -> usize {
    match raw {
        Some(d) => (d.len() + 4).div_ceil(8) * 8,
        None => 8,
    }
}

/// Size of a `PERF_RECORD_SAMPLE` of `core` carrying `d`, or `None` if it exceeds the
/// 16-bit record size (Linux drops such samples).
pub(crate) fn sample_size(core: &EventCore, d: &SampleData<'_>) -> Option<usize> {
    let st = core.attr.sample_type;
    let mut n = HEADER;
    let u64s = [
        PERF_SAMPLE_IDENTIFIER,
        PERF_SAMPLE_IP,
        PERF_SAMPLE_TID,
        PERF_SAMPLE_TIME,
        PERF_SAMPLE_ADDR,
        PERF_SAMPLE_ID,
        PERF_SAMPLE_STREAM_ID,
        PERF_SAMPLE_CPU,
        PERF_SAMPLE_PERIOD,
        PERF_SAMPLE_REGS_USER,
        PERF_SAMPLE_STACK_USER,
        PERF_SAMPLE_WEIGHT_TYPE,
        PERF_SAMPLE_DATA_SRC,
        PERF_SAMPLE_TRANSACTION,
        PERF_SAMPLE_REGS_INTR,
        PERF_SAMPLE_PHYS_ADDR,
        PERF_SAMPLE_DATA_PAGE_SIZE,
        PERF_SAMPLE_CODE_PAGE_SIZE,
        PERF_SAMPLE_AUX,
    ];
    n += 8 * u64s.iter().filter(|&&b| st & b != 0).count();
    if st & PERF_SAMPLE_READ != 0 {
        n += read_size(core.attr.read_format);
    }
    if st & PERF_SAMPLE_CALLCHAIN != 0 {
        n += 8 + if d.ip != 0 { 16 } else { 0 };
    }
    if st & PERF_SAMPLE_RAW != 0 {
        n += raw_size(d.raw);
    }
    (n <= usize::from(u16::MAX)).then_some(n)
}

/// Writes a `PERF_RECORD_SAMPLE` of `size` bytes (from [`sample_size`]).
pub(crate) fn write_sample(cur: &mut Cursor, core: &EventCore, o: &Origin, d: &SampleData<'_>, size: usize) {
    let st = core.attr.sample_type;
    let id = u64::from(core.id);
    let misc = if d.user { PERF_RECORD_MISC_USER } else { PERF_RECORD_MISC_KERNEL };
    cur.u32x2(PERF_RECORD_SAMPLE, u32::from(misc) | ((size as u32) << 16));
    if st & PERF_SAMPLE_IDENTIFIER != 0 {
        cur.u64(id);
    }
    if st & PERF_SAMPLE_IP != 0 {
        cur.u64(d.ip);
    }
    if st & PERF_SAMPLE_TID != 0 {
        cur.u32x2(o.pid, o.tid);
    }
    if st & PERF_SAMPLE_TIME != 0 {
        cur.u64(o.time);
    }
    if st & PERF_SAMPLE_ADDR != 0 {
        cur.u64(d.addr);
    }
    if st & PERF_SAMPLE_ID != 0 {
        cur.u64(id);
    }
    if st & PERF_SAMPLE_STREAM_ID != 0 {
        cur.u64(id);
    }
    if st & PERF_SAMPLE_CPU != 0 {
        cur.u32x2(o.cpu, 0);
    }
    if st & PERF_SAMPLE_PERIOD != 0 {
        cur.u64(d.period);
    }
    if st & PERF_SAMPLE_READ != 0 {
        let rf = core.attr.read_format;
        let (enabled, running) = core.times();
        cur.u64(core.count());
        if rf & PERF_FORMAT_TOTAL_TIME_ENABLED != 0 {
            cur.u64(enabled);
        }
        if rf & PERF_FORMAT_TOTAL_TIME_RUNNING != 0 {
            cur.u64(running);
        }
        if rf & PERF_FORMAT_ID != 0 {
            cur.u64(id);
        }
        if rf & PERF_FORMAT_LOST != 0 {
            cur.u64(core.lost());
        }
    }
    if st & PERF_SAMPLE_CALLCHAIN != 0 {
        if d.ip != 0 {
            cur.u64(2);
            cur.u64(PERF_CONTEXT_KERNEL);
            cur.u64(d.ip);
        } else {
            cur.u64(0);
        }
    }
    if st & PERF_SAMPLE_RAW != 0 {
        match d.raw {
            Some(data) => {
                let padded = raw_size(Some(data)) - 4;
                cur.put(&(padded as u32).to_ne_bytes());
                cur.put(data);
                cur.put(&[0u8; 8][..padded - data.len()]);
            }
            None => cur.u32x2(4, 0),
        }
    }
    // Parts this kernel has no data for: written as Linux does when the data is absent.
    for bit in [
        PERF_SAMPLE_REGS_USER,
        PERF_SAMPLE_STACK_USER,
        PERF_SAMPLE_WEIGHT_TYPE,
        PERF_SAMPLE_DATA_SRC,
        PERF_SAMPLE_TRANSACTION,
        PERF_SAMPLE_REGS_INTR,
        PERF_SAMPLE_PHYS_ADDR,
        PERF_SAMPLE_DATA_PAGE_SIZE,
        PERF_SAMPLE_CODE_PAGE_SIZE,
        PERF_SAMPLE_AUX,
    ] {
        if st & bit != 0 {
            cur.u64(0);
        }
    }
}
