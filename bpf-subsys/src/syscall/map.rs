//! The element commands: `BPF_MAP_LOOKUP_ELEM`, `BPF_MAP_UPDATE_ELEM`, `BPF_MAP_DELETE_ELEM`,
//! `BPF_MAP_GET_NEXT_KEY`, `BPF_MAP_LOOKUP_AND_DELETE_ELEM`, and `BPF_MAP_FREEZE` (Linux 6.1
//! `map_lookup_elem` ... `map_freeze` in kernel/bpf/syscall.c).
//!
//! Each one resolves the map fd (`EBADF`, or `EINVAL` for a non-map fd), checks the fd's access
//! (`map_get_sys_perms`: a read-only fd cannot update, a write-only fd cannot look up, a frozen
//! map cannot be written: `EPERM`), checks `BPF_F_LOCK` against the map's `bpf_spin_lock`
//! (`EINVAL`), copies the key in (`__bpf_copy_key`: maps without keys take a NULL key, else
//! `EINVAL`), runs the map operation with preemption disabled inside a `maps::reclaim` read
//! section, and copies the value out. Values have the map's syscall size (per-CPU maps:
//! `round_up(value_size, 8) * possible_cpus`). What each map type does with the key and value
//! (queue/stack push, pop and peek; bloom filter add and test) is the `maps` crate's.

use alloc::vec::Vec;

use maps::BpfMap;
use syscall_abi::bpf::{MapElemAttr, MapType, BPF_F_LOCK};
use syscall_abi::{err, Errno, Result};

use super::user::{zeroed, User};
use super::Sys;
use crate::host::{bpf_capable, MapOpGuard};
use crate::object::{map_from_fd, prog_from_fd, FileMode, MapObj};

/// Linux `__bpf_copy_key`: `key_size` bytes from `ukey`; a map without keys needs `ukey` NULL
/// (`EINVAL` otherwise) and gets an empty key.
pub(super) fn copy_key(user: &User<'_>, ukey: u64, key_size: u32) -> Result<Vec<u8>> {
    if key_size != 0 {
        let len = usize::try_from(key_size).map_err(|_| Errno::ENOMEM)?;
        return user.read_vec(ukey, len);
    }
    if ukey != 0 {
        return err(Errno::EINVAL, "this map type takes no key");
    }
    Ok(Vec::new())
}

/// `BPF_F_LOCK` needs a value with a `bpf_spin_lock` (`map_value_has_spin_lock`).
pub(super) fn check_lock_flag(map: &dyn BpfMap, flags: u64) -> Result<()> {
    if flags & BPF_F_LOCK != 0 && map.def().spin_lock_off.is_none() {
        return err(Errno::EINVAL, "BPF_F_LOCK on a map without bpf_spin_lock");
    }
    Ok(())
}

fn check_read(map: &MapObj, mode: FileMode) -> Result<()> {
    if !map.sys_perms(mode).0 {
        return err(Errno::EPERM, "map fd is not readable");
    }
    Ok(())
}

fn check_write(map: &MapObj, mode: FileMode) -> Result<()> {
    if !map.sys_perms(mode).1 {
        return err(Errno::EPERM, "map fd is not writable, or the map is frozen");
    }
    Ok(())
}

/// `BPF_MAP_LOOKUP_ELEM`. A bloom filter's value is copied *in* (the value to test) and
/// nothing is copied out, as Linux.
pub(super) fn map_lookup_elem(sys: &Sys<'_>, a: &MapElemAttr) -> Result<u32> {
    if a.flags & !BPF_F_LOCK != 0 {
        return err(Errno::EINVAL, "lookup flags other than BPF_F_LOCK");
    }
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    check_read(&obj, mode)?;
    let map = obj.map();
    check_lock_flag(&**map, a.flags)?;
    let user = sys.user();
    let key = copy_key(&user, a.key, map.def().key_size)?;
    let mut value = zeroed(map.syscall_value_size())?;
    if map.def().map_type == MapType::BloomFilter {
        user.read(a.value, &mut value)?;
        let _op = MapOpGuard::enter(sys.host());
        map.lookup(&key, &mut value, a.flags)?;
        return Ok(0);
    }
    {
        let _op = MapOpGuard::enter(sys.host());
        map.lookup(&key, &mut value, a.flags)?;
    }
    user.write(a.value, &value)?;
    Ok(0)
}

/// `BPF_MAP_UPDATE_ELEM` (queue/stack/bloom filter: push).
pub(super) fn map_update_elem(sys: &Sys<'_>, a: &MapElemAttr) -> Result<u32> {
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    let _writing = obj.write_active();
    check_write(&obj, mode)?;
    let map = obj.map();
    check_lock_flag(&**map, a.flags)?;
    let user = sys.user();
    let key = copy_key(&user, a.key, map.def().key_size)?;
    let value = user.read_vec(a.value, map.syscall_value_size())?;
    if map.def().map_type == MapType::ProgArray {
        check_prog_owner(sys, &obj, &key, &value, a.flags)?;
    }
    let _op = MapOpGuard::enter(sys.host());
    map.update(&key, &value, a.flags)?;
    Ok(0)
}

/// Linux `prog_fd_array_get_ptr`'s `bpf_prog_map_compatible`: the program stored in a
/// `prog_array` must have the array's owner type (or becomes its owner): `EINVAL`. Only once
/// the array's own checks would pass (flags `BPF_ANY`, index in range, a program fd) — their
/// errors come first and are the `maps` crate's.
fn check_prog_owner(sys: &Sys<'_>, obj: &MapObj, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
    let (Ok(index), Ok(fd)) = (<[u8; 4]>::try_from(key), <[u8; 4]>::try_from(value)) else {
        return Ok(());
    };
    if flags != 0 || u32::from_ne_bytes(index) >= obj.map().def().max_entries {
        return Ok(());
    }
    let Ok(prog) = prog_from_fd(sys.host(), u32::from_ne_bytes(fd)) else {
        return Ok(());
    };
    if !obj.prog_compatible(prog.prog_type()) {
        return err(Errno::EINVAL, "program type differs from the prog_array's owner");
    }
    Ok(())
}

/// `BPF_MAP_DELETE_ELEM`.
pub(super) fn map_delete_elem(sys: &Sys<'_>, a: &MapElemAttr) -> Result<u32> {
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    let _writing = obj.write_active();
    check_write(&obj, mode)?;
    let map = obj.map();
    let key = copy_key(&sys.user(), a.key, map.def().key_size)?;
    let _op = MapOpGuard::enter(sys.host());
    map.delete(&key)?;
    Ok(0)
}

/// `BPF_MAP_GET_NEXT_KEY`: a NULL `key` asks for the first key.
pub(super) fn map_get_next_key(sys: &Sys<'_>, a: &MapElemAttr) -> Result<u32> {
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    check_read(&obj, mode)?;
    let map = obj.map();
    let user = sys.user();
    let key_size = map.def().key_size;
    let key = if a.key != 0 { Some(copy_key(&user, a.key, key_size)?) } else { None };
    let mut next = zeroed(usize::try_from(key_size).map_err(|_| Errno::ENOMEM)?)?;
    {
        let _op = MapOpGuard::enter(sys.host());
        map.get_next_key(key.as_deref(), &mut next)?;
    }
    user.write(a.next_key(), &next)?;
    Ok(0)
}

/// `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (queue/stack: pop, without key). Needs an fd that can read
/// and write.
pub(super) fn map_lookup_and_delete_elem(sys: &Sys<'_>, a: &MapElemAttr) -> Result<u32> {
    if a.flags & !BPF_F_LOCK != 0 {
        return err(Errno::EINVAL, "lookup_and_delete flags other than BPF_F_LOCK");
    }
    let (obj, mode) = map_from_fd(sys.host(), a.map_fd)?;
    let _writing = obj.write_active();
    check_read(&obj, mode)?;
    check_write(&obj, mode)?;
    let map = obj.map();
    let key_size = map.def().key_size;
    if a.flags != 0 && matches!(map.def().map_type, MapType::Queue | MapType::Stack) {
        return err(Errno::EINVAL, "queue/stack pop takes no flags");
    }
    check_lock_flag(&**map, a.flags)?;
    let user = sys.user();
    let key = copy_key(&user, a.key, key_size)?;
    let mut value = zeroed(map.syscall_value_size())?;
    {
        let _op = MapOpGuard::enter(sys.host());
        let key = if key_size == 0 { None } else { Some(&key[..]) };
        map.lookup_and_delete(key, &mut value, a.flags)?;
    }
    user.write(a.value, &value)?;
    Ok(0)
}

/// `BPF_MAP_FREEZE`: the syscall side may no longer write the map (programs still may, unless
/// the map has `BPF_F_RDONLY_PROG`). See [`MapObj::freeze`] for the errnos.
pub(super) fn map_freeze(sys: &Sys<'_>, a: &MapElemAttr) -> Result<u32> {
    let (obj, _) = map_from_fd(sys.host(), a.map_fd)?;
    obj.freeze(bpf_capable(sys.host()))?;
    Ok(0)
}
