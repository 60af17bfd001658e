//! `sys_bpf` tests through raw attribute bytes: every test lays out `union bpf_attr` in the
//! fake process's memory exactly as a Linux process would and checks exact errnos.

mod batch;
mod btf;
mod dispatch;
mod hash;
mod id;
mod info;
mod lifetime;
mod link;
mod link_fake;
mod link_prog_owner;
mod link_raw_tp;
mod map_create;
mod map_elem;
mod obj;
mod stats;

use std::sync::Arc;
use std::vec::Vec;

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{BpfAttr, Cmd, MapCreateAttr, MapElemAttr, MapType};
use syscall_abi::Errno;

use crate::host::BpfHost;
use crate::sys_bpf;
use crate::test_host::TestHost;

/// Number of possible CPUs of the test hosts.
pub(super) const CPUS: u32 = 4;

/// `-errno`, as `sys_bpf` returns it.
pub(super) fn e(errno: Errno) -> isize {
    errno.to_syscall_ret()
}

/// A fake process.
pub(super) struct T {
    pub h: Arc<TestHost>,
    pub host: Arc<dyn BpfHost>,
}

impl T {
    pub fn new() -> T {
        let h = TestHost::new(CPUS);
        let host = h.dyn_host();
        T { h, host }
    }

    /// `bpf(cmd, addr, size)` with raw arguments.
    pub fn raw(&self, cmd: u32, addr: u64, size: u32) -> isize {
        sys_bpf(&self.host, cmd, addr, size)
    }

    /// `bpf(cmd, &attr, sizeof(union bpf_attr))` with `part` as the command's view of the
    /// union; returns the result and the attributes' address (to read results back).
    pub fn call_at<A: Pod>(&self, cmd: Cmd, part: &A) -> (isize, u64) {
        let attr = BpfAttr::from_part(part);
        let addr = self.h.put(&attr);
        (self.raw(cmd.into(), addr, BpfAttr::SIZE as u32), addr)
    }

    /// [`T::call_at`] without the address.
    pub fn call<A: Pod>(&self, cmd: Cmd, part: &A) -> isize {
        self.call_at(cmd, part).0
    }

    /// Creates a map; panics on failure. Returns the fd.
    pub fn map(&self, ty: MapType, key_size: u32, value_size: u32, max_entries: u32, flags: u32) -> u32 {
        let r = self.create(ty, key_size, value_size, max_entries, flags);
        assert!(r >= 0, "map create failed: {r}");
        r as u32
    }

    /// `BPF_MAP_CREATE` with the common fields.
    pub fn create(&self, ty: MapType, key_size: u32, value_size: u32, max_entries: u32, flags: u32) -> isize {
        let a = MapCreateAttr {
            map_type: ty.into(),
            key_size,
            value_size,
            max_entries,
            map_flags: flags,
            ..MapCreateAttr::ZERO
        };
        self.call(Cmd::MapCreate, &a)
    }

    /// `BPF_MAP_UPDATE_ELEM` with user copies of `key` and `value` (an empty key is NULL).
    pub fn update(&self, fd: u32, key: &[u8], value: &[u8], flags: u64) -> isize {
        let a =
            MapElemAttr { map_fd: fd, key: self.ptr(key), value: self.h.put_bytes(value), flags, ..MapElemAttr::ZERO };
        self.call(Cmd::MapUpdateElem, &a)
    }

    /// `BPF_MAP_LOOKUP_ELEM` into a `len`-byte user buffer: the bytes, or the error.
    pub fn lookup(&self, fd: u32, key: &[u8], len: usize) -> Result<Vec<u8>, isize> {
        let out = self.h.alloc(len);
        let a = MapElemAttr { map_fd: fd, key: self.ptr(key), value: out, ..MapElemAttr::ZERO };
        match self.call(Cmd::MapLookupElem, &a) {
            0 => Ok(self.h.read(out, len)),
            r => Err(r),
        }
    }

    /// `BPF_MAP_DELETE_ELEM`.
    pub fn delete(&self, fd: u32, key: &[u8]) -> isize {
        let a = MapElemAttr { map_fd: fd, key: self.ptr(key), ..MapElemAttr::ZERO };
        self.call(Cmd::MapDeleteElem, &a)
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM` into a `len`-byte user buffer.
    pub fn pop(&self, fd: u32, key: &[u8], len: usize, flags: u64) -> Result<Vec<u8>, isize> {
        let out = self.h.alloc(len);
        let a = MapElemAttr { map_fd: fd, key: self.ptr(key), value: out, flags, ..MapElemAttr::ZERO };
        match self.call(Cmd::MapLookupAndDeleteElem, &a) {
            0 => Ok(self.h.read(out, len)),
            r => Err(r),
        }
    }

    /// `BPF_MAP_GET_NEXT_KEY` (`key` `None`: NULL).
    pub fn next_key(&self, fd: u32, key: Option<&[u8]>, len: usize) -> Result<Vec<u8>, isize> {
        let out = self.h.alloc(len);
        let key = key.map_or(0, |k| self.h.put_bytes(k));
        let a = MapElemAttr { map_fd: fd, key, value: out, ..MapElemAttr::ZERO };
        match self.call(Cmd::MapGetNextKey, &a) {
            0 => Ok(self.h.read(out, len)),
            r => Err(r),
        }
    }

    /// A user copy of `bytes`, or NULL for no bytes.
    pub fn ptr(&self, bytes: &[u8]) -> u64 {
        if bytes.is_empty() {
            0
        } else {
            self.h.put_bytes(bytes)
        }
    }

    /// A NUL-terminated user string.
    pub fn cstr(&self, s: &str) -> u64 {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.h.put_bytes(&v)
    }

    /// Closes every fd and pin, and checks that no object is left (after the grace period
    /// of elements that fd maps retired).
    pub fn assert_all_freed(&self) {
        self.h.close_all();
        self.h.unlink_all();
        let reg = self.host.registry();
        collect_until(|| reg.is_empty());
        assert!(reg.is_empty(), "objects left in the registry");
    }
}

/// `u32` little helpers.
pub(super) fn u32b(v: u32) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

/// `u64` bytes.
pub(super) fn u64b(v: u64) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

/// Runs the maps' reclaimer until `done` (other tests may hold read guards meanwhile).
pub(super) fn collect_until(done: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !done() && start.elapsed() < std::time::Duration::from_secs(5) {
        maps::reclaim::collect();
        std::thread::yield_now();
    }
}
