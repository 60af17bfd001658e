//! Ring buffer helpers: `bpf_ringbuf_output` (130), `bpf_ringbuf_reserve` (131),
//! `bpf_ringbuf_submit` (132), `bpf_ringbuf_discard` (133), `bpf_ringbuf_query` (134).
//! Semantics: Linux 6.1 `kernel/bpf/ringbuf.c`; the ring itself is `maps::RingBuf`.

use syscall_abi::Errno;

use super::env::{addr_of, ptr_of, ring_of, ProgEnv, Reservation};
use super::neg;
use crate::vm::ActiveRun;

/// `long bpf_ringbuf_output(map, data, size, flags)`: 0, or `-EINVAL` (bad flags, not a
/// ring buffer), `-EAGAIN` (no room), `-EFAULT` (unreadable data).
pub(super) fn output(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let Some(m) = env.map_arg(a[0]) else { return neg(Errno::EINVAL) };
    let Some(rb) = ring_of(&m) else { return neg(Errno::EINVAL) };
    let Ok(size) = usize::try_from(a[2]) else { return neg(Errno::E2BIG) };
    let data = match env.read_vec(run, a[1], size) {
        Ok(d) => d,
        Err(e) => return neg(e),
    };
    match rb.output(&data, a[3]) {
        Ok(()) => 0,
        Err(e) => neg(e.errno),
    }
}

/// `void *bpf_ringbuf_reserve(map, size, flags)`: a sample the program may write until it
/// submits or discards it, or NULL (no room, bad flags or size, not a ring buffer).
pub(super) fn reserve(env: &mut ProgEnv<'_>, a: [u64; 5]) -> u64 {
    let Some(m) = env.map_arg(a[0]) else { return 0 };
    let Some(rb) = ring_of(&m) else { return 0 };
    if env.reservations.try_reserve(1).is_err() {
        return 0;
    }
    let Some(p) = rb.reserve(a[1], a[2]) else { return 0 };
    let addr = addr_of(p);
    env.reservations.push(Reservation { addr, len: a[1], ring: m });
    addr
}

/// `void bpf_ringbuf_submit(void *data, u64 flags)` / `bpf_ringbuf_discard`: releases a
/// sample reserved in this run. A pointer that is not one is ignored (Linux's verifier
/// rejects such programs).
pub(super) fn release(env: &mut ProgEnv<'_>, a: [u64; 5], submit: bool) -> u64 {
    let Some(i) = env.reservations.iter().position(|r| r.addr == a[0]) else { return 0 };
    let r = env.reservations.swap_remove(i);
    if let (Some(rb), Some(p)) = (ring_of(&r.ring), ptr_of(r.addr)) {
        let _ = if submit { rb.submit(p, a[1]) } else { rb.discard(p, a[1]) };
    }
    0
}

/// `u64 bpf_ringbuf_query(map, flags)`; not a ring buffer → 0.
pub(super) fn query(env: &mut ProgEnv<'_>, a: [u64; 5]) -> u64 {
    env.map_arg(a[0]).and_then(|m| ring_of(&m).map(|rb| rb.query(a[1]))).unwrap_or(0)
}
