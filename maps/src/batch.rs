//! The generic batch operations (Linux `generic_map_lookup_batch`, `generic_map_update_batch`
//! and `generic_map_delete_batch` in `kernel/bpf/syscall.c`), built only on a map's
//! syscall-side `get_next_key` / `lookup` / `update` / `delete`. The array family uses them;
//! hash maps have their own bucket-based batches.
//!
//! What user space sees, as in Linux:
//! - `elem_flags` may only hold `BPF_F_LOCK`, and that only for values with a
//!   `bpf_spin_lock` (`EINVAL` otherwise, checked first);
//! - `count == 0` returns at once, successfully;
//! - a lookup batch walks `get_next_key` from `in_batch` (a key: the last one the previous
//!   batch returned), copies up to `count` pairs, and writes the last key it looked at to
//!   `out_batch` when it copied anything. Reaching the end is `ENOENT` with the pairs found
//!   before it counted;
//! - a key `get_next_key` returned but whose lookup then says `ENOENT` (deleted meanwhile,
//!   or an empty `array_of_maps` slot) is skipped. This is the Linux 6.1.y stable behaviour
//!   (backport of "bpf: skip non exist keys in generic_map_lookup_batch"); 6.1.0 retried
//!   three times and then failed with `EINTR`, which made sparse `array_of_maps` unreadable
//!   by batch;
//! - any other lookup error ends the batch with that error and a count of 0 (Linux leaves
//!   the `count` it zeroed at the start);
//! - update and delete batches stop at the first error; the count is the number of
//!   elements processed before it.
//!
//! A buffer too short for the element about to be copied is `EFAULT` (what a short user
//! buffer gives in Linux), with the same count Linux would report.

use alloc::vec::Vec;

use syscall_abi::bpf::BPF_F_LOCK;
use syscall_abi::{err, Errno, Result};

use crate::{BatchOutcome, BpfMap, LookupBatch};

/// `generic_map_lookup_batch`: see the module documentation.
pub(crate) fn generic_lookup_batch<M: BpfMap + ?Sized>(map: &M, batch: LookupBatch<'_>) -> BatchOutcome {
    if let Err(e) = check_elem_flags(map, batch.elem_flags) {
        return failed(0, e);
    }
    if batch.count == 0 {
        return BatchOutcome { count: 0, result: Ok(()) };
    }
    let key_size = map.def().key_size as usize;
    let value_size = map.syscall_value_size();
    let (mut prev, mut key, mut value) = match (zeroed(key_size), zeroed(key_size), zeroed(value_size)) {
        (Ok(p), Ok(k), Ok(v)) => (p, k, v),
        _ => return failed(0, Errno::ENOMEM.into()),
    };
    let mut have_prev = false;
    if let Some(in_batch) = batch.in_batch {
        if in_batch.len() != key_size {
            return failed(0, Errno::EFAULT.into());
        }
        prev.copy_from_slice(in_batch);
        have_prev = true;
    }

    let mut copied: u32 = 0;
    let mut result = Ok(());
    while copied < batch.count {
        if let Err(e) = map.get_next_key(have_prev.then_some(&prev[..]), &mut key) {
            result = Err(e);
            break;
        }
        match map.lookup(&key, &mut value, batch.elem_flags) {
            Ok(()) => {
                let slot = copied as usize;
                let Some(k) = chunk_mut(batch.keys, slot, key_size) else { return failed(0, Errno::EFAULT.into()) };
                k.copy_from_slice(&key);
                let Some(v) = chunk_mut(batch.values, slot, value_size) else {
                    return failed(0, Errno::EFAULT.into());
                };
                v.copy_from_slice(&value);
                copied += 1;
            }
            Err(e) if e.errno == Errno::ENOENT => {}
            Err(e) => return failed(0, e),
        }
        have_prev = true;
        core::mem::swap(&mut prev, &mut key);
    }

    if copied > 0 {
        let Some(out) = batch.out_batch.get_mut(..key_size) else { return failed(0, Errno::EFAULT.into()) };
        out.copy_from_slice(&prev);
    }
    BatchOutcome { count: copied, result }
}

/// `generic_map_update_batch`: `count` key/value pairs from `keys` / `values`
/// (`syscall_value_size()` bytes each), updated in order with `elem_flags` as the update
/// flags, stopping at the first error.
pub(crate) fn generic_update_batch<M: BpfMap + ?Sized>(
    map: &M,
    keys: &[u8],
    values: &[u8],
    count: u32,
    elem_flags: u64,
) -> BatchOutcome {
    if let Err(e) = check_elem_flags(map, elem_flags) {
        return failed(0, e);
    }
    let key_size = map.def().key_size as usize;
    let value_size = map.syscall_value_size();
    for done in 0..count {
        let slot = done as usize;
        let (Some(key), Some(value)) = (chunk(keys, slot, key_size), chunk(values, slot, value_size)) else {
            return failed(done, Errno::EFAULT.into());
        };
        if let Err(e) = map.update(key, value, elem_flags) {
            return failed(done, e);
        }
    }
    BatchOutcome { count, result: Ok(()) }
}

/// `generic_map_delete_batch`: `count` keys deleted in order, stopping at the first error.
/// No array type has a delete batch in Linux 6.1; the hash maps' `BATCH_OPS` use this one.
#[allow(dead_code)] // until hashtab calls it
pub(crate) fn generic_delete_batch<M: BpfMap + ?Sized>(
    map: &M,
    keys: &[u8],
    count: u32,
    elem_flags: u64,
) -> BatchOutcome {
    if let Err(e) = check_elem_flags(map, elem_flags) {
        return failed(0, e);
    }
    let key_size = map.def().key_size as usize;
    for done in 0..count {
        let Some(key) = chunk(keys, done as usize, key_size) else { return failed(done, Errno::EFAULT.into()) };
        if let Err(e) = map.delete(key) {
            return failed(done, e);
        }
    }
    BatchOutcome { count, result: Ok(()) }
}

/// The `elem_flags` rule shared by the three batches.
fn check_elem_flags<M: BpfMap + ?Sized>(map: &M, elem_flags: u64) -> Result<()> {
    if elem_flags & !BPF_F_LOCK != 0 {
        return err(Errno::EINVAL, "unknown batch elem_flags");
    }
    if elem_flags & BPF_F_LOCK != 0 && map.def().spin_lock_off.is_none() {
        return err(Errno::EINVAL, "BPF_F_LOCK on a value without bpf_spin_lock");
    }
    Ok(())
}

fn failed(count: u32, e: syscall_abi::Error) -> BatchOutcome {
    BatchOutcome { count, result: Err(e) }
}

/// Element `slot` of `size` bytes in `buf`, if the buffer holds it.
fn chunk(buf: &[u8], slot: usize, size: usize) -> Option<&[u8]> {
    let start = slot.checked_mul(size)?;
    buf.get(start..start.checked_add(size)?)
}

fn chunk_mut(buf: &mut [u8], slot: usize, size: usize) -> Option<&mut [u8]> {
    let start = slot.checked_mul(size)?;
    buf.get_mut(start..start.checked_add(size)?)
}

fn zeroed(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    if v.try_reserve_exact(len).is_err() {
        return err(Errno::ENOMEM, "no memory for a batch buffer");
    }
    v.resize(len, 0);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::vec;
    use std::vec::Vec;

    use syscall_abi::bpf::{MapType, BPF_ANY, BPF_F_LOCK, BPF_NOEXIST};
    use syscall_abi::Errno;

    use super::*;
    use crate::test_host::{attr, TestHost};
    use crate::{FdKind, MapAttr};

    fn errno(r: &BatchOutcome) -> Option<Errno> {
        r.result.err().map(|e| e.errno)
    }

    fn keys_of(buf: &[u8]) -> Vec<u32> {
        buf.chunks_exact(4).map(|c| u32::from_ne_bytes(c.try_into().unwrap())).collect()
    }

    /// An array of 10 u64 values, value i = 1000 + i.
    fn filled(h: &Arc<TestHost>) -> Arc<dyn BpfMap> {
        let m = crate::create(&attr(MapType::Array, 4, 8, 10, 0), &h.dyn_host()).unwrap();
        for i in 0..10u32 {
            m.update(&i.to_ne_bytes(), &(1000 + u64::from(i)).to_ne_bytes(), BPF_ANY).unwrap();
        }
        m
    }

    /// One lookup batch of `count` from `in_batch`: (outcome, keys, values, out_batch).
    fn lookup(
        m: &dyn BpfMap,
        in_batch: Option<u32>,
        count: u32,
        flags: u64,
    ) -> (BatchOutcome, Vec<u32>, Vec<u64>, u32) {
        let vs = m.syscall_value_size();
        let (mut ks, mut vals, mut ob) = (vec![0u8; 4 * count as usize], vec![0u8; vs * count as usize], [0xffu8; 4]);
        let ib = in_batch.map(u32::to_ne_bytes);
        let batch = LookupBatch {
            in_batch: ib.as_ref().map(|b| &b[..]),
            out_batch: &mut ob,
            keys: &mut ks,
            values: &mut vals,
            count,
            elem_flags: flags,
        };
        let r = generic_lookup_batch(m, batch);
        let n = r.count as usize;
        let values = vals[..n * vs].chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect();
        (r, keys_of(&ks[..4 * n]), values, u32::from_ne_bytes(ob))
    }

    #[test]
    fn lookup_batch_in_chunks_of_three_then_enoent() {
        let h = TestHost::new(1);
        let m = filled(&h);
        let mut in_batch = None;
        let mut counts = Vec::new();
        let mut all = Vec::new();
        loop {
            let (r, keys, values, out) = lookup(m.as_ref(), in_batch, 3, 0);
            counts.push(r.count);
            assert_eq!(values, keys.iter().map(|&k| 1000 + u64::from(k)).collect::<Vec<_>>());
            all.extend(keys.iter().copied());
            if r.count > 0 {
                assert_eq!(out, *keys.last().unwrap(), "out_batch is the last key returned");
            }
            match errno(&r) {
                None => in_batch = Some(out),
                Some(Errno::ENOENT) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(counts, [3, 3, 3, 1]);
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        // Starting after the last key: nothing, ENOENT, out_batch untouched.
        let (r, _, _, out) = lookup(m.as_ref(), Some(9), 3, 0);
        assert_eq!((r.count, errno(&r), out), (0, Some(Errno::ENOENT), u32::MAX));
        // Exactly the rest fits: no ENOENT yet.
        let (r, keys, _, _) = lookup(m.as_ref(), Some(6), 3, 0);
        assert_eq!((r.count, errno(&r), keys), (3, None, vec![7, 8, 9]));
    }

    #[test]
    fn lookup_batch_flag_and_count_rules() {
        let h = TestHost::new(1);
        let m = filled(&h);
        let (r, ..) = lookup(m.as_ref(), None, 0, 0);
        assert_eq!((r.count, errno(&r)), (0, None), "count 0 returns at once");
        for flags in [BPF_NOEXIST, 8, BPF_F_LOCK] {
            let (r, ..) = lookup(m.as_ref(), None, 3, flags);
            assert_eq!((r.count, errno(&r)), (0, Some(Errno::EINVAL)), "elem_flags {flags:#x}");
            let (r, ..) = lookup(m.as_ref(), None, 0, flags);
            assert_eq!(errno(&r), Some(Errno::EINVAL), "flags are checked before count 0");
        }
        // With a spin lock, BPF_F_LOCK is fine.
        let a = MapAttr { spin_lock_off: Some(0), ..attr(MapType::Array, 4, 8, 2, 0) };
        let locked = crate::create(&a, &h.dyn_host()).unwrap();
        let (r, ..) = lookup(locked.as_ref(), None, 5, BPF_F_LOCK);
        assert_eq!((r.count, errno(&r)), (2, Some(Errno::ENOENT)));
        // A values buffer too short for the second element: EFAULT, count 0 (as Linux).
        let (mut ob, mut ks, mut vs) = ([0u8; 4], [0u8; 8], [0u8; 12]);
        let batch =
            LookupBatch { in_batch: None, out_batch: &mut ob, keys: &mut ks, values: &mut vs, count: 2, elem_flags: 0 };
        let r = generic_lookup_batch(m.as_ref(), batch);
        assert_eq!((r.count, errno(&r)), (0, Some(Errno::EFAULT)));
    }

    #[test]
    fn percpu_lookup_batch_returns_every_cpu_copy() {
        let h = TestHost::new(3);
        let m = crate::create(&attr(MapType::PercpuArray, 4, 8, 4, 0), &h.dyn_host()).unwrap();
        let v: Vec<u8> = [7u64, 8, 9].iter().flat_map(|x| x.to_ne_bytes()).collect();
        m.update(&2u32.to_ne_bytes(), &v, BPF_ANY).unwrap();
        let (r, keys, values, _) = lookup(m.as_ref(), Some(1), 2, 0);
        assert_eq!((r.count, errno(&r), keys), (2, None, vec![2, 3]));
        assert_eq!(values, [7, 8, 9, 0, 0, 0]);
    }

    #[test]
    fn update_batch_stops_at_the_first_error() {
        let h = TestHost::new(1);
        let m = crate::create(&attr(MapType::Array, 4, 8, 10, 0), &h.dyn_host()).unwrap();
        let keys: Vec<u8> = [0u32, 1, 99, 3].iter().flat_map(|k| k.to_ne_bytes()).collect();
        let values: Vec<u8> = [5u64, 6, 7, 8].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let r = m.update_batch(&keys, &values, 4, 0);
        assert_eq!((r.count, errno(&r)), (2, Some(Errno::E2BIG)));
        let (_, _, got, _) = lookup(m.as_ref(), None, 4, 0);
        assert_eq!(got, [5, 6, 0, 0], "element 3 was not reached");
        let r = m.update_batch(&keys, &values, 0, 0);
        assert_eq!((r.count, errno(&r)), (0, None));
        let r = m.update_batch(&keys, &values, 2, BPF_NOEXIST);
        assert_eq!((r.count, errno(&r)), (0, Some(Errno::EINVAL)), "elem_flags is not an update flag");
        let r = m.update_batch(&keys, &values, 2, BPF_F_LOCK);
        assert_eq!((r.count, errno(&r)), (0, Some(Errno::EINVAL)), "no spin lock");
        let r = m.update_batch(&keys[..4], &values, 2, 0);
        assert_eq!((r.count, errno(&r)), (1, Some(Errno::EFAULT)), "keys buffer ends after one key");
    }

    #[test]
    fn delete_batch_stops_at_the_first_error() {
        let h = TestHost::new(1);
        let m = crate::create(&attr(MapType::ProgArray, 4, 4, 4, 0), &h.dyn_host()).unwrap();
        for i in 0..3u32 {
            let fd = h.install_fd(FdKind::Prog, crate::test_host::TestObj::plain(i + 1));
            m.update(&i.to_ne_bytes(), &fd.to_ne_bytes(), BPF_ANY).unwrap();
        }
        let keys: Vec<u8> = [2u32, 0, 3, 1].iter().flat_map(|k| k.to_ne_bytes()).collect();
        let r = generic_delete_batch(m.as_ref(), &keys, 4, 0);
        assert_eq!((r.count, errno(&r)), (2, Some(Errno::ENOENT)), "slot 3 is empty");
        let mut out = [0u8; 4];
        assert!(m.lookup(&1u32.to_ne_bytes(), &mut out, 0).is_ok(), "key 1 was not reached");
        assert_eq!(m.lookup(&2u32.to_ne_bytes(), &mut out, 0).err().map(|e| e.errno), Some(Errno::ENOENT));
        let r = generic_delete_batch(m.as_ref(), &keys, 1, 1);
        assert_eq!((r.count, errno(&r)), (0, Some(Errno::EINVAL)));
        let r = generic_delete_batch(m.as_ref(), &keys, 0, 0);
        assert_eq!((r.count, errno(&r)), (0, None));
        let arr = filled(&h);
        let r = generic_delete_batch(arr.as_ref(), &keys, 2, 0);
        assert_eq!((r.count, errno(&r)), (0, Some(Errno::EINVAL)), "array elements cannot be deleted");
    }
}
