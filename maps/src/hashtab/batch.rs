//! The lookup batches of the hash maps (Linux `__htab_map_lookup_and_delete_batch`): the
//! batch token is a `u32` bucket index (the first 4 bytes of `in_batch` / `out_batch`),
//! whole buckets are returned at a time, and a bucket that does not fit the remaining room
//! stops the batch (`ENOSPC` if nothing was returned yet). Reaching the last bucket is
//! `ENOENT` with the elements found before it counted. Update and delete batches are the
//! generic ones ([`crate::batch`]), as in Linux's `BATCH_OPS`.

use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::Ordering::*;

use syscall_abi::bpf::BPF_F_LOCK;
use syscall_abi::{err, Errno, Error, Result};

use super::elem::ElemHead;
use super::HashMap;
use crate::{BatchOutcome, BpfMap, LookupBatch};

fn failed(e: Error) -> BatchOutcome {
    BatchOutcome { count: 0, result: Err(e) }
}

/// `elem_flags` may only hold `BPF_F_LOCK`, and only for values with a `bpf_spin_lock`.
fn check_elem_flags(m: &HashMap, elem_flags: u64) -> Result<()> {
    if elem_flags & !BPF_F_LOCK != 0 {
        return err(Errno::EINVAL, "invalid batch elem_flags");
    }
    m.check_lock_flag(elem_flags)
}

/// Whether `buf` holds `count` items of `size` bytes.
fn fits(buf: usize, count: u32, size: usize) -> bool {
    (count as usize).checked_mul(size).is_some_and(|n| n <= buf)
}

pub(super) fn lookup_batch(m: &HashMap, b: LookupBatch<'_>, delete: bool) -> BatchOutcome {
    if let Err(e) = check_elem_flags(m, b.elem_flags) {
        return failed(e);
    }
    if b.count == 0 {
        return BatchOutcome { count: 0, result: Ok(()) };
    }
    let mut bucket = match b.in_batch {
        None => 0,
        Some(t) => match t.get(..4).and_then(|t| <[u8; 4]>::try_from(t).ok()) {
            Some(t) => u32::from_ne_bytes(t),
            None => return failed(Error::new(Errno::EFAULT, "hash batch token is a u32")),
        },
    };
    let n_buckets = m.heads.len();
    if bucket as usize >= n_buckets {
        return failed(Error::new(Errno::ENOENT, "batch past the last bucket"));
    }
    let (ks, vs) = (m.shape.key_size, m.syscall_value_size());
    if b.out_batch.len() < 4 || !fits(b.keys.len(), b.count, ks) || !fits(b.values.len(), b.count, vs) {
        return failed(Error::new(Errno::EFAULT, "batch buffers too small"));
    }
    let locked = b.elem_flags & BPF_F_LOCK != 0;
    let cpu = m.host.current_cpu();
    let mut total = 0u32;
    let mut doomed: Vec<NonNull<ElemHead>> = Vec::new();
    let result = loop {
        let idx = bucket as usize;
        // Only buckets that look non-empty are locked (Linux checks without the lock first).
        if !m.heads[idx].load(Acquire).is_null() {
            let guard = match m.locks[idx].lock(cpu) {
                Ok(g) => g,
                Err(e) => break Err(e),
            };
            let mut cnt = 0u32;
            let mut p = m.heads[idx].load(Acquire);
            while let Some(e) = NonNull::new(p) {
                cnt += 1;
                // SAFETY: chain elements are live while the bucket lock is held.
                p = unsafe { e.as_ref() }.next.load(Acquire);
            }
            if cnt > b.count - total {
                break if total == 0 { err(Errno::ENOSPC, "a bucket holds more elements than count") } else { Ok(()) };
            }
            if delete && doomed.try_reserve(cnt as usize).is_err() {
                break err(Errno::ENOMEM, "no memory for the batch");
            }
            let mut p = m.heads[idx].load(Acquire);
            while let Some(e) = NonNull::new(p) {
                let (ko, vo) = (total as usize * ks, total as usize * vs);
                // SAFETY: chain elements are live while the bucket lock is held.
                b.keys[ko..ko + ks].copy_from_slice(unsafe { m.shape.key(e) });
                m.copy_value_out(e, &mut b.values[vo..vo + vs], locked);
                total += 1;
                if delete {
                    doomed.push(e);
                }
                // SAFETY: as above.
                p = unsafe { e.as_ref() }.next.load(Acquire);
            }
            for &e in &doomed {
                m.unlink_locked(idx, e);
                m.count.fetch_sub(1, Relaxed);
            }
            drop(guard);
            // LRU elements leave their list only after the bucket lock is released.
            for e in doomed.drain(..) {
                m.release(cpu, e);
            }
        }
        bucket += 1;
        if bucket as usize >= n_buckets {
            break err(Errno::ENOENT, "end of map");
        }
    };
    b.out_batch[..4].copy_from_slice(&bucket.to_ne_bytes());
    BatchOutcome { count: total, result }
}
