//! Map helpers: `bpf_map_lookup_elem` (1), `bpf_map_update_elem` (2), `bpf_map_delete_elem`
//! (3), `bpf_map_push_elem` (87), `bpf_map_pop_elem` (88), `bpf_map_peek_elem` (89),
//! `bpf_for_each_map_elem` (164). Semantics: Linux 6.1 `kernel/bpf/helpers.c`
//! (`bpf_map_*_elem`), `kernel/bpf/bpf_iter.c` (`bpf_for_each_map_elem`).

use core::ops::ControlFlow;
use core::ptr::NonNull;

use syscall_abi::bpf::{MapType, BPF_F_RDONLY_PROG};
use syscall_abi::{Errno, Result};

use super::env::{addr_of, Approval, MapHandle, ProgEnv};
use super::neg;
use crate::object::MapObj;
use crate::vm::{ActiveRun, VmError};

/// `R0` for a helper result.
fn ret(r: Result<()>) -> u64 {
    match r {
        Ok(()) => 0,
        Err(e) => neg(e.errno),
    }
}

/// The map argument, or the errno for a pointer that is not one of the program's maps.
fn map_of<'a>(env: &ProgEnv<'a>, ptr: u64) -> core::result::Result<MapHandle<'a>, Errno> {
    env.map_arg(ptr).ok_or(Errno::EINVAL)
}

/// Programs may not modify a `BPF_F_RDONLY_PROG` map (Linux: rejected by the verifier).
fn writable(map: &MapObj) -> core::result::Result<(), Errno> {
    if map.map().def().map_flags & BPF_F_RDONLY_PROG != 0 {
        Err(Errno::EACCES)
    } else {
        Ok(())
    }
}

fn key_size(map: &MapObj) -> usize {
    map.map().def().key_size as usize
}

fn value_size(map: &MapObj) -> usize {
    map.map().def().value_size as usize
}

/// `void *bpf_map_lookup_elem(map, key)`: the value's address or NULL. A bad map pointer or
/// an unreadable key gives NULL too (the helper has no error return).
pub(super) fn lookup(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let Some(m) = env.map_arg(a[0]) else { return 0 };
    let Ok(key) = env.read_vec(run, a[1], key_size(&m)) else { return 0 };
    let Some(p) = m.map().prog_lookup(&key, env.guard) else { return 0 };
    match m.map().def().map_type {
        MapType::ArrayOfMaps | MapType::HashOfMaps => {
            // The value is an inner map: usable as a map argument, not as memory.
            let addr = addr_of(p);
            if !env.inner.contains(&addr) {
                if env.inner.try_reserve(1).is_err() {
                    return 0;
                }
                env.inner.push(addr);
            }
            addr
        }
        _ => {
            env.approve_value(&m, p);
            addr_of(p)
        }
    }
}

/// `long bpf_map_update_elem(map, key, value, flags)`.
pub(super) fn update(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let r = (|| {
        let m = map_of(env, a[0])?;
        writable(&m)?;
        let key = env.read_vec(run, a[1], key_size(&m))?;
        let value = env.read_vec(run, a[2], value_size(&m))?;
        Ok(m.map().prog_update(&key, &value, a[3]))
    })();
    r.map_or_else(neg, ret)
}

/// `long bpf_map_delete_elem(map, key)`.
pub(super) fn delete(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let r = (|| {
        let m = map_of(env, a[0])?;
        writable(&m)?;
        let key = env.read_vec(run, a[1], key_size(&m))?;
        Ok(m.map().prog_delete(&key))
    })();
    r.map_or_else(neg, ret)
}

/// `long bpf_map_push_elem(map, value, flags)` (queue, stack, bloom filter).
pub(super) fn push(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let r = (|| {
        let m = map_of(env, a[0])?;
        writable(&m)?;
        let value = env.read_vec(run, a[1], value_size(&m))?;
        Ok(m.map().push(&value, a[2]))
    })();
    r.map_or_else(neg, ret)
}

/// `long bpf_map_pop_elem(map, value)` / `bpf_map_peek_elem(map, value)`: the value is
/// written to program memory (stack or a map value).
pub(super) fn pop_peek(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5], pop: bool) -> u64 {
    let r = (|| {
        let m = map_of(env, a[0])?;
        if pop {
            writable(&m)?;
        }
        // A bloom filter's "peek" is a membership test: the value is an input (Linux
        // `bloom_map_peek_elem`; the verifier's ARG_PTR_TO_MAP_VALUE), nothing is written.
        if !pop && m.map().def().map_type == MapType::BloomFilter {
            let mut value = env.read_vec(run, a[1], value_size(&m))?;
            return Ok(m.map().peek(&mut value));
        }
        // Check the destination first: a popped element must not be lost.
        if !env.can_write(run, a[1], value_size(&m)) {
            return Err(Errno::EFAULT);
        }
        let mut value = alloc::vec::Vec::new();
        value.try_reserve_exact(value_size(&m)).map_err(|_| Errno::ENOMEM)?;
        value.resize(value_size(&m), 0);
        let r = if pop { m.map().pop(&mut value) } else { m.map().peek(&mut value) };
        if r.is_ok() && !env.write_mem(run, a[1], &value) {
            return Err(Errno::EFAULT);
        }
        Ok(r)
    })();
    r.map_or_else(neg, ret)
}

/// `long bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags)`: calls
/// `callback(map, &key, &value, ctx)` for each element until it returns 1; returns the
/// number of elements visited. `callback_fn` is the callback's instruction index (the
/// loader's `BPF_PSEUDO_FUNC` relocation). Flags other than 0 → `-EINVAL`.
pub(super) fn for_each(
    env: &mut ProgEnv<'_>,
    run: &mut dyn ActiveRun,
    a: [u64; 5],
) -> core::result::Result<u64, VmError> {
    if a[3] != 0 {
        return Ok(neg(Errno::EINVAL));
    }
    let Some(m) = env.map_arg(a[0]) else { return Ok(neg(Errno::EINVAL)) };
    let Ok(insn) = usize::try_from(a[1]) else { return Ok(neg(Errno::EINVAL)) };
    let guard = env.guard;
    let value_len = u64::from(m.map().def().value_size);
    let mut failure: Option<VmError> = None;
    let mut visit = |key: &[u8], value: NonNull<u8>| -> ControlFlow<()> {
        let key_addr = key.as_ptr().expose_provenance() as u64;
        let Ok(key_len) = u64::try_from(key.len()) else { return ControlFlow::Break(()) };
        let value_addr = addr_of(value);
        let mark = env.temp.len();
        if env.temp.try_reserve(2).is_err() {
            return ControlFlow::Break(());
        }
        env.temp.push((key_addr, Approval { len: key_len, read: true, write: false }));
        env.temp.push((value_addr, Approval::for_map(&m, value_len)));
        let r = run.call_subprog(env, insn, [a[0], key_addr, value_addr, a[2], 0]);
        env.temp.truncate(mark);
        match r {
            Ok(0) => ControlFlow::Continue(()),
            Ok(_) => ControlFlow::Break(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    };
    let r = m.map().for_each(guard, &mut visit);
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(match r {
        Ok(n) => u64::from(n),
        Err(e) => neg(e.errno),
    })
}
