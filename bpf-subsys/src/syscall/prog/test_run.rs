//! `BPF_PROG_TEST_RUN` (Linux 6.1 `bpf_prog_test_run` and the per-type `test_run`
//! operations of `net/bpf/test_run.c`).
//!
//! Common checks: `ctx_size_in` without `ctx_in` or the reverse, same for the output
//! context → `EINVAL`; a bad `prog_fd` → `EBADF`/`EINVAL`; a program type without a test
//! run → `ENOTSUPP` (kprobe, tracepoint and perf_event, as in Linux 6.1: use
//! [`crate::run::run_kprobe`] for kprobes on the host).
//!
//! - raw_tracepoint (`bpf_prog_test_run_raw_tp`): `data_in`, `data_out`, `ctx_out`,
//!   `duration`, `repeat`, `batch_size` must be 0 (`EINVAL`); `ctx_size_in` at most 12
//!   `u64` arguments (`EINVAL`); `cpu` only with `BPF_F_TEST_RUN_ON_CPU` (`EINVAL`), and a CPU
//!   that does not exist → `ENXIO`. The program runs once on the calling CPU (Linux runs it
//!   on `cpu` by IPI; this host-neutral code has no cross-CPU call, so a different valid
//!   `cpu` also runs here); `retval` is written back.
//! - socket_filter (`bpf_prog_test_run_skb`): `flags`, `cpu`, `batch_size` must be 0;
//!   `data_size_in` between 14 (`ETH_HLEN`) and 3712 (a page minus Linux's head- and
//!   tailroom) → else `EINVAL`; the optional context is a `struct __sk_buff` (192 bytes;
//!   a longer one must have a zero tail, `E2BIG`), whose fields other than `mark`,
//!   `priority`, `ingress_ifindex`, `ifindex`, `cb`, `tstamp`, `wire_len`, `gso_segs`,
//!   `gso_size`, `hwtstamp` must be zero (`EINVAL`). Simplified context: the program sees a
//!   `__sk_buff` with `len` (packet minus the Ethernet header, as after `eth_type_trans`),
//!   `protocol` (the Ethernet type, network order), `ifindex` 1 (loopback) when not given,
//!   and the fields given; it runs `repeat` times (0 → 1); `retval`, `duration` (average ns
//!   per run), `data_out` (the packet, `ENOSPC` when `data_size_out` is smaller, after
//!   copying what fits) and `ctx_out` (the `__sk_buff` after the run) are written back.
//!   The verifier-lite does not restrict which context fields a program writes.
//!
//! A run that the engine stops (Linux's verifier rules these out at load time): an access
//! outside the context or other allowed memory → `EINVAL` (Linux: a context too small
//! for the program, `ctx_size_in < max_ctx_offset`), anything else → `EFAULT`.

use alloc::vec::Vec;

use syscall_abi::bpf::{ProgType, TestRunAttr, BPF_F_TEST_RUN_ON_CPU};
use syscall_abi::{err, Errno, Result};

use super::super::user::{offset, zeroed};
use super::super::Sys;
use crate::helpers::RunCtx;
use crate::object::{prog_from_fd, ProgObj};
use crate::run::run_prog;
use crate::vm::{Region, VmError, VmErrorKind};

/// Offsets of the output fields in `union bpf_attr`.
const RETVAL_OFF: usize = 4;
const DATA_SIZE_OUT_OFF: usize = 12;
const DURATION_OFF: usize = 36;
const CTX_SIZE_OUT_OFF: usize = 44;

/// `MAX_BPF_FUNC_ARGS * sizeof(u64)`.
const RAW_TP_CTX_MAX: u32 = 12 * 8;
/// `ETH_HLEN`.
const ETH_HLEN: usize = 14;
/// `PAGE_SIZE - (NET_SKB_PAD + NET_IP_ALIGN) - SKB_DATA_ALIGN(sizeof(struct skb_shared_info))`
/// on x86_64.
const SKB_DATA_MAX: usize = 4096 - 64 - 320;
/// `sizeof(struct __sk_buff)`.
pub(crate) const SK_BUFF_SIZE: usize = 192;

/// The errno of a run the engine stopped.
fn vm_errno(e: VmError) -> Errno {
    match e.kind {
        VmErrorKind::MemoryAccess { .. } => Errno::EINVAL,
        _ => Errno::EFAULT,
    }
}

/// `BPF_PROG_TEST_RUN`.
pub(crate) fn prog_test_run(sys: &Sys<'_>, a: &TestRunAttr) -> Result<u32> {
    if (a.ctx_size_in != 0) != (a.ctx_in != 0) {
        return err(Errno::EINVAL, "ctx_size_in and ctx_in must be given together");
    }
    if (a.ctx_size_out != 0) != (a.ctx_out != 0) {
        return err(Errno::EINVAL, "ctx_size_out and ctx_out must be given together");
    }
    let prog = prog_from_fd(sys.host(), a.prog_fd)?;
    match prog.prog_type() {
        ProgType::RawTracepoint => test_run_raw_tp(sys, &prog, a),
        ProgType::SocketFilter => test_run_skb(sys, &prog, a),
        _ => err(Errno::ENOTSUPP, "program type has no test run"),
    }
}

fn test_run_raw_tp(sys: &Sys<'_>, prog: &ProgObj, a: &TestRunAttr) -> Result<u32> {
    if a.data_in != 0 || a.data_out != 0 || a.ctx_out != 0 || a.duration != 0 || a.repeat != 0 || a.batch_size != 0 {
        return err(Errno::EINVAL, "raw_tp test run takes only a context");
    }
    if a.ctx_size_in > RAW_TP_CTX_MAX {
        return err(Errno::EINVAL, "more than 12 raw tracepoint arguments");
    }
    let on_cpu = a.flags & BPF_F_TEST_RUN_ON_CPU != 0;
    if !on_cpu && a.cpu != 0 {
        return err(Errno::EINVAL, "cpu without BPF_F_TEST_RUN_ON_CPU");
    }
    let ctx = sys.user().read_vec(a.ctx_in, a.ctx_size_in as usize)?;
    let host = sys.host();
    if on_cpu && a.cpu != host.current_cpu() && a.cpu >= host.possible_cpus() {
        return err(Errno::ENXIO, "no such CPU");
    }
    let r0 = run_prog(host, prog, Region::new(&ctx), RunCtx::default()).map_err(vm_errno)?;
    sys.put_attr_u32(RETVAL_OFF, r0 as u32)?;
    Ok(0)
}

/// `range_is_zero` over the `__sk_buff` fields `convert___skb_to_skb` does not accept.
fn check_sk_buff(ctx: &[u8]) -> Result<()> {
    // Accepted: mark 8..12, priority 32..36, ingress_ifindex 36..40, ifindex 40..44,
    // cb 48..68, tstamp 152..160, wire_len 160..164, gso_segs 164..168, gso_size 176..180,
    // hwtstamp 184..192.
    const ALLOWED: [(usize, usize); 6] = [(8, 12), (32, 44), (48, 68), (152, 168), (176, 180), (184, 192)];
    let bad = ctx.iter().enumerate().any(|(i, &b)| b != 0 && !ALLOWED.iter().any(|&(s, e)| (s..e).contains(&i)));
    if bad {
        return err(Errno::EINVAL, "__sk_buff field that a test run cannot set");
    }
    Ok(())
}

fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    if let Some(dst) = buf.get_mut(off..off + 4) {
        dst.copy_from_slice(&v.to_ne_bytes());
    }
}

fn get_u32(buf: &[u8], off: usize) -> u32 {
    buf.get(off..off + 4).map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Linux `bpf_ctx_init`: the user's context (up to `max` bytes, a longer one with a zero
/// tail), or `None` without `ctx_in`/`ctx_out`.
fn ctx_init(sys: &Sys<'_>, a: &TestRunAttr, max: usize) -> Result<Option<Vec<u8>>> {
    if a.ctx_in == 0 && a.ctx_out == 0 {
        return Ok(None);
    }
    let mut ctx = zeroed(max)?;
    if a.ctx_in != 0 {
        let size = a.ctx_size_in as usize;
        if size > max {
            let tail = sys.user().read_vec(offset(a.ctx_in, max)?, size - max)?;
            if tail.iter().any(|&b| b != 0) {
                return err(Errno::E2BIG, "context longer than the kernel's with a non-zero tail");
            }
        }
        sys.user().read(a.ctx_in, &mut ctx[..size.min(max)])?;
    }
    Ok(Some(ctx))
}

fn test_run_skb(sys: &Sys<'_>, prog: &ProgObj, a: &TestRunAttr) -> Result<u32> {
    if a.flags != 0 || a.cpu != 0 || a.batch_size != 0 {
        return err(Errno::EINVAL, "skb test run takes no flags, cpu or batch size");
    }
    let size = a.data_size_in as usize;
    if !(ETH_HLEN..=SKB_DATA_MAX).contains(&size) {
        return err(Errno::EINVAL, "packet size outside ETH_HLEN..page");
    }
    let data = sys.user().read_vec(a.data_in, size)?;
    let user_ctx = ctx_init(sys, a, SK_BUFF_SIZE)?;
    let mut skb = zeroed(SK_BUFF_SIZE)?;
    if let Some(c) = &user_ctx {
        check_sk_buff(c)?;
        skb.copy_from_slice(c);
    }
    let len = (size - ETH_HLEN) as u32;
    let wire_len = get_u32(&skb, 160);
    if wire_len != 0 && wire_len < len {
        return err(Errno::EINVAL, "wire_len shorter than the packet");
    }
    put_u32(&mut skb, 0, len);
    put_u32(&mut skb, 16, u32::from(u16::from_ne_bytes([data[12], data[13]])));
    if get_u32(&skb, 40) == 0 {
        put_u32(&mut skb, 40, 1);
    }
    let host = sys.host();
    let repeat = a.repeat.max(1);
    let start = host.ktime_ns();
    let mut r0 = 0;
    for _ in 0..repeat {
        r0 = run_prog(host, prog, Region::new_mut(&mut skb), RunCtx::default()).map_err(vm_errno)?;
    }
    let total = host.ktime_ns().saturating_sub(start);
    let duration = u32::try_from(total / u64::from(repeat)).unwrap_or(u32::MAX);

    // bpf_test_finish.
    let mut result = Ok(0);
    let user = sys.user();
    if a.data_out != 0 {
        let copy = if (a.data_size_out as usize) < size {
            result = err(Errno::ENOSPC, "data_out too small");
            a.data_size_out as usize
        } else {
            size
        };
        user.write(a.data_out, &data[..copy])?;
    }
    sys.put_attr_u32(DATA_SIZE_OUT_OFF, a.data_size_in)?;
    sys.put_attr_u32(RETVAL_OFF, r0 as u32)?;
    sys.put_attr_u32(DURATION_OFF, duration)?;
    result?;
    // bpf_ctx_finish.
    if user_ctx.is_some() && a.ctx_out != 0 {
        let mut out = zeroed(SK_BUFF_SIZE)?;
        for &(s, e) in &[(8, 12), (32, 44), (48, 68), (152, 168), (176, 180), (184, 192)] {
            out[s..e].copy_from_slice(&skb[s..e]);
        }
        let (copy, full) = if (a.ctx_size_out as usize) < SK_BUFF_SIZE {
            (a.ctx_size_out as usize, false)
        } else {
            (SK_BUFF_SIZE, true)
        };
        user.write(a.ctx_out, &out[..copy])?;
        sys.put_attr_u32(CTX_SIZE_OUT_OFF, SK_BUFF_SIZE as u32)?;
        if !full {
            return err(Errno::ENOSPC, "ctx_out too small");
        }
    }
    Ok(0)
}
