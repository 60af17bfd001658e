//! `BPF_MAP_LOOKUP_BATCH`, `BPF_MAP_LOOKUP_AND_DELETE_BATCH`, `BPF_MAP_UPDATE_BATCH` and
//! `BPF_MAP_DELETE_BATCH` (Linux 6.1 `bpf_map_do_batch` and the `generic_map_*_batch` /
//! `htab_map_*_batch` user-copy contract).
//!
//! The map types do the work on kernel buffers (`maps::BpfMap::lookup_batch` and friends);
//! this module does what Linux does with user memory around them:
//! - the fd needs read access for lookups, write access for updates and deletes (`EPERM`);
//!   writers count as a write in progress for `BPF_MAP_FREEZE`;
//! - a map type without the operation is `ENOTSUPP`, bad `elem_flags` are `EINVAL`, and
//!   `count == 0` returns 0 — all before user memory is touched (the map answers a call with
//!   `count` 0 exactly so);
//! - lookups first write 0 to `batch.count`, read `in_batch`, and after the map's batch write
//!   the keys and values, then `batch.count` and (if anything was found) `out_batch`. The end
//!   of the map is `ENOENT` *with* the count of what was found. A fault while copying results
//!   out is `EFAULT` and leaves `count` 0;
//! - updates and deletes take the keys (and values) element by element in order, so a fault at
//!   element `k` is `EFAULT` after `k` elements were processed, and the count of processed
//!   elements is written back even when the batch failed, as Linux. User buffers are copied in
//!   chunks of at most [`CHUNK_BYTES`], so `count` never sizes a kernel allocation.
//!
//! One difference remains: Linux's hash maps write `out_batch` even when a batch returned no
//! element (`htab_map_lookup_batch` ending with `ENOENT` or `ENOSPC` at `count` 0); here
//! `out_batch` is written only when elements were returned, because `maps::BatchOutcome` does
//! not say whether the map set it.

use alloc::vec::Vec;
use core::mem::offset_of;

use maps::{BatchOutcome, BpfMap, LookupBatch};
use syscall_abi::bpf::{MapBatchAttr, MapType};
use syscall_abi::{err, Errno, Result};

use super::user::{bytes_of, offset, zeroed};
use super::Sys;
use crate::host::MapOpGuard;
use crate::object::map_from_fd;

/// Bytes of keys and values copied in per call of the map's update/delete batch.
const CHUNK_BYTES: usize = 64 * 1024;

/// Hash maps have their own batch functions (`htab_map_lookup_batch`).
// TODO(maps): a `BpfMap` method for the batch token size (and `flags` in `LookupBatch`) would
// keep this map-type test out of the syscall layer.
fn is_hash(map: &dyn BpfMap) -> bool {
    matches!(
        map.def().map_type,
        MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash | MapType::HashOfMaps
    )
}

/// Bytes of the `in_batch`/`out_batch` position token: hash maps continue from a bucket index
/// (`u32`), the generic batch from the last key.
fn batch_token_size(map: &dyn BpfMap) -> usize {
    if is_hash(map) {
        4
    } else {
        map.def().key_size as usize
    }
}

/// Hash maps' lookup batches reject non-zero `batch.flags`
/// (`__htab_map_lookup_and_delete_batch`); the generic batch ignores them.
fn check_batch_flags(map: &dyn BpfMap, flags: u64) -> Result<()> {
    if flags != 0 && is_hash(map) {
        return err(Errno::EINVAL, "batch.flags must be 0");
    }
    Ok(())
}

/// `BPF_MAP_LOOKUP_BATCH` (`delete` false) and `BPF_MAP_LOOKUP_AND_DELETE_BATCH`.
pub(super) fn map_lookup_batch(sys: &Sys<'_>, a: &MapBatchAttr, delete: bool) -> Result<u32> {
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    let _writing = delete.then(|| obj.write_active());
    let (can_read, can_write) = obj.sys_perms(mode);
    if !can_read || (delete && !can_write) {
        return err(Errno::EPERM, "map fd lacks the access this batch needs");
    }
    let map = &**obj.map();
    // The map's own checks (operation supported, elem_flags) with nothing to do.
    let probe = LookupBatch {
        in_batch: None,
        out_batch: &mut [],
        keys: &mut [],
        values: &mut [],
        count: 0,
        elem_flags: a.elem_flags,
    };
    map.lookup_batch(probe, delete).result?;
    check_batch_flags(map, a.flags)?;
    if a.count == 0 {
        return Ok(0);
    }

    let user = sys.user();
    let count_at = offset(sys.uattr, offset_of!(MapBatchAttr, count))?;
    user.write_u32(count_at, 0)?;
    let token = batch_token_size(map);
    let in_batch = if a.in_batch != 0 { Some(user.read_vec(a.in_batch, token)?) } else { None };
    // At most max_entries elements exist, so the kernel buffers never exceed the map.
    let n = a.count.min(map.def().max_entries);
    let n_usize = usize::try_from(n).map_err(|_| Errno::ENOMEM)?;
    let key_size = map.def().key_size as usize;
    let value_size = map.syscall_value_size();
    let mut keys = zeroed(bytes_of(n_usize, key_size)?)?;
    let mut values = zeroed(bytes_of(n_usize, value_size)?)?;
    let mut out_batch = zeroed(token)?;
    let outcome = {
        let _op = MapOpGuard::enter(sys.host());
        let batch = LookupBatch {
            in_batch: in_batch.as_deref(),
            out_batch: &mut out_batch,
            keys: &mut keys,
            values: &mut values,
            count: n,
            elem_flags: a.elem_flags,
        };
        map.lookup_batch(batch, delete)
    };
    if let Err(e) = outcome.result {
        if e.errno != Errno::ENOENT && e.errno != Errno::ENOSPC {
            return Err(e);
        }
    }
    let found = usize::try_from(outcome.count).map_err(|_| Errno::EFAULT)?;
    let key_bytes = keys.get(..bytes_of(found, key_size)?).ok_or(Errno::EFAULT)?;
    let value_bytes = values.get(..bytes_of(found, value_size)?).ok_or(Errno::EFAULT)?;
    user.write(a.keys, key_bytes)?;
    user.write(a.values, value_bytes)?;
    user.write_u32(count_at, outcome.count)?;
    if outcome.count > 0 {
        user.write(a.out_batch, &out_batch)?;
    }
    outcome.result.map(|()| 0)
}

/// `BPF_MAP_UPDATE_BATCH`: `count` keys and values, `elem_flags` as update flags.
pub(super) fn map_update_batch(sys: &Sys<'_>, a: &MapBatchAttr) -> Result<u32> {
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    let _writing = obj.write_active();
    if !obj.sys_perms(mode).1 {
        return err(Errno::EPERM, "map fd is not writable, or the map is frozen");
    }
    let map = &**obj.map();
    map.update_batch(&[], &[], 0, a.elem_flags).result?;
    if a.count == 0 {
        return Ok(0);
    }
    let value_size = map.syscall_value_size();
    run_chunked(sys, a, map.def().key_size as usize, value_size, |keys, values, n| {
        let _op = MapOpGuard::enter(sys.host());
        map.update_batch(keys, values, n, a.elem_flags)
    })
}

/// `BPF_MAP_DELETE_BATCH`: `count` keys.
pub(super) fn map_delete_batch(sys: &Sys<'_>, a: &MapBatchAttr) -> Result<u32> {
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    let _writing = obj.write_active();
    if !obj.sys_perms(mode).1 {
        return err(Errno::EPERM, "map fd is not writable, or the map is frozen");
    }
    let map = &**obj.map();
    map.delete_batch(&[], 0, a.elem_flags).result?;
    if a.count == 0 {
        return Ok(0);
    }
    run_chunked(sys, a, map.def().key_size as usize, 0, |keys, _, n| {
        let _op = MapOpGuard::enter(sys.host());
        map.delete_batch(keys, n, a.elem_flags)
    })
}

/// Feeds `a.count` elements (`key_size` bytes from `a.keys`, `value_size` bytes from
/// `a.values`) to `apply` in chunks, in order, stopping at the first fault or error; writes
/// the number processed to `batch.count` in every case (a fault there is `EFAULT`).
fn run_chunked(
    sys: &Sys<'_>,
    a: &MapBatchAttr,
    key_size: usize,
    value_size: usize,
    mut apply: impl FnMut(&[u8], &[u8], u32) -> BatchOutcome,
) -> Result<u32> {
    let user = sys.user();
    let elem = key_size.saturating_add(value_size).max(1);
    let per_chunk = u32::try_from((CHUNK_BYTES / elem).max(1)).unwrap_or(u32::MAX);
    let mut done: u32 = 0;
    let mut result = Ok(());
    while done < a.count {
        let want = per_chunk.min(a.count - done);
        let mut keys: Vec<u8> = zeroed(bytes_of(want as usize, key_size)?)?;
        let mut values: Vec<u8> = zeroed(bytes_of(want as usize, value_size)?)?;
        let mut copied: u32 = 0;
        let mut fault = None;
        for i in 0..want as usize {
            let index = (done as usize) + i;
            let k = &mut keys[i * key_size..(i + 1) * key_size];
            let v = &mut values[i * value_size..(i + 1) * value_size];
            let read = offset(a.keys, bytes_of(index, key_size)?)
                .and_then(|at| user.read(at, k))
                .and_then(|()| offset(a.values, bytes_of(index, value_size)?))
                .and_then(|at| user.read(at, v));
            if let Err(e) = read {
                fault = Some(e);
                break;
            }
            copied += 1;
        }
        let outcome = apply(&keys, &values, copied);
        done += outcome.count.min(copied);
        if let Err(e) = outcome.result {
            result = Err(e);
            break;
        }
        if let Some(e) = fault {
            result = Err(e);
            break;
        }
    }
    let count_at = offset(sys.uattr, offset_of!(MapBatchAttr, count))?;
    sys.user().write_u32(count_at, done)?;
    result.map(|()| 0)
}
