//! Host tests of the bpf integration: `bpf(2)` through [`sys_bpf`] with attribute bytes in a
//! [`TestMem`] user memory, a real [`FdTable`], bpffs, and memfd-backed shared pages.

mod files;
mod maps_and_progs;
mod mmap;
mod pin;
mod vfs;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::vec::Vec;

use bpf_subsys::object::BpfObject;
use bpf_subsys::BpfHost;
use maps::{MemfdPages, SharedPages};
use spin::Mutex;
use syscall_abi::abi::Pod;
use syscall_abi::bpf::{Cmd, MapCreateAttr, MapElemAttr, MapType, ObjAttr};
use syscall_abi::Errno;

use super::shared::{KernelVmap, SharedAlloc};
use super::syscall::sys_bpf;
use super::{BpfFileOps, BpfProcess, KernelBpfHost};
use crate::fs::{FdTable, OpenFile};
use crate::user::{TestMem, UserMem};
use crate::KResult;

/// Where the fake user memory starts.
pub(crate) const BASE: u64 = 0x40_0000;
/// Its size.
const SIZE: usize = 1 << 20;

/// A fake process.
pub(crate) struct Proc {
    pub(crate) mem: TestMem,
    pub(crate) files: Mutex<FdTable>,
    pub(crate) uid: AtomicU32,
    pub(crate) umask: AtomicU32,
}

impl BpfProcess for Proc {
    fn mem(&self) -> &dyn UserMem {
        &self.mem
    }

    fn files(&self) -> &Mutex<FdTable> {
        &self.files
    }

    fn pid_tgid(&self) -> (u32, u32) {
        (43, 42)
    }

    fn uid_gid(&self) -> (u32, u32) {
        let uid = self.uid.load(Ordering::Relaxed);
        (uid, uid)
    }

    fn comm(&self) -> [u8; 16] {
        *b"bpftest\0\0\0\0\0\0\0\0\0"
    }

    fn umask(&self) -> u32 {
        self.umask.load(Ordering::Relaxed)
    }
}

/// Shared pages from memfds; the "physical address" of a page is its host address.
#[derive(Default)]
pub(crate) struct MemfdVmap {
    live: StdMutex<BTreeMap<usize, MemfdPages>>,
}

impl MemfdVmap {
    pub(crate) fn live(&self) -> usize {
        self.live.lock().map_or(usize::MAX, |l| l.len())
    }
}

impl KernelVmap for MemfdVmap {
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> KResult<SharedAlloc> {
        let m = MemfdPages::new(pages, repeat_tail, 4096).map_err(|e| e.errno)?;
        let vaddr = m.as_ptr().as_ptr().expose_provenance();
        let frames = (0..pages).map(|i| (vaddr + i * 4096) as u64).collect();
        self.live.lock().map_err(|_| Errno::ENOMEM)?.insert(vaddr, m);
        Ok(SharedAlloc { vaddr, frames })
    }

    fn free_shared(&self, alloc: SharedAlloc, _repeat_tail: usize) {
        if let Ok(mut l) = self.live.lock() {
            l.remove(&alloc.vaddr);
        }
    }
}

/// One test's kernel: a host, a current process and a bump allocator in its memory.
pub(crate) struct T {
    pub(crate) host: Arc<KernelBpfHost>,
    pub(crate) proc: Arc<Proc>,
    pub(crate) vmap: Arc<MemfdVmap>,
    next: AtomicU64,
}

impl T {
    pub(crate) fn new() -> T {
        T::with_current(|p| p)
    }

    /// A harness whose current process is `make(the fake process)`.
    pub(crate) fn with_current(make: impl FnOnce(Arc<Proc>) -> Arc<dyn BpfProcess>) -> T {
        let host = KernelBpfHost::new();
        let proc = Arc::new(Proc {
            mem: TestMem::new(BASE, SIZE),
            files: Mutex::new(FdTable::new()),
            uid: AtomicU32::new(0),
            umask: AtomicU32::new(0o022),
        });
        let current = make(proc.clone());
        host.set_current(Box::new(move || Some(current.clone())));
        let vmap = Arc::new(MemfdVmap::default());
        host.set_vmap(vmap.clone());
        T { host, proc, vmap, next: AtomicU64::new(BASE) }
    }

    /// Copies `bytes` into fresh user memory (8-byte aligned); returns the address.
    pub(crate) fn put_bytes(&self, bytes: &[u8]) -> u64 {
        let len = (bytes.len() as u64).max(1).div_ceil(8) * 8;
        let addr = self.next.fetch_add(len, Ordering::Relaxed);
        self.proc.mem.write(addr, bytes).expect("test memory exhausted");
        addr
    }

    pub(crate) fn put<A: Pod>(&self, v: &A) -> u64 {
        self.put_bytes(v.as_bytes())
    }

    pub(crate) fn cstr(&self, s: &str) -> u64 {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.put_bytes(&b)
    }

    pub(crate) fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.proc.mem.read(addr, &mut v).expect("read back");
        v
    }

    /// `bpf(cmd, &attr, sizeof attr)`.
    pub(crate) fn bpf<A: Pod>(&self, cmd: Cmd, attr: &A) -> KResult<u64> {
        let addr = self.put(attr);
        sys_bpf(&self.host, cmd.into(), addr, u32::try_from(size_of::<A>()).unwrap())
    }

    pub(crate) fn map_create(&self, ty: MapType, key: u32, value: u32, max: u32, flags: u32) -> KResult<i32> {
        let a = MapCreateAttr {
            map_type: ty.into(),
            key_size: key,
            value_size: value,
            max_entries: max,
            map_flags: flags,
            ..MapCreateAttr::ZERO
        };
        self.bpf(Cmd::MapCreate, &a).map(|fd| i32::try_from(fd).unwrap())
    }

    pub(crate) fn map(&self, ty: MapType, key: u32, value: u32, max: u32, flags: u32) -> i32 {
        self.map_create(ty, key, value, max, flags).expect("map create")
    }

    pub(crate) fn update(&self, fd: i32, key: &[u8], value: &[u8], flags: u64) -> KResult<u64> {
        let a = MapElemAttr {
            map_fd: fd as u32,
            key: self.put_bytes(key),
            value: self.put_bytes(value),
            flags,
            ..MapElemAttr::ZERO
        };
        self.bpf(Cmd::MapUpdateElem, &a)
    }

    pub(crate) fn lookup(&self, fd: i32, key: &[u8], value_len: usize) -> KResult<Vec<u8>> {
        let out = self.put_bytes(&vec![0xee; value_len]);
        let a = MapElemAttr { map_fd: fd as u32, key: self.put_bytes(key), value: out, ..MapElemAttr::ZERO };
        self.bpf(Cmd::MapLookupElem, &a)?;
        Ok(self.read(out, value_len))
    }

    pub(crate) fn pin(&self, fd: i32, path: &str) -> KResult<u64> {
        self.bpf(Cmd::ObjPin, &ObjAttr { pathname: self.cstr(path), bpf_fd: fd as u32, file_flags: 0 })
    }

    pub(crate) fn obj_get(&self, path: &str, flags: u32) -> KResult<i32> {
        let a = ObjAttr { pathname: self.cstr(path), bpf_fd: 0, file_flags: flags };
        self.bpf(Cmd::ObjGet, &a).map(|fd| i32::try_from(fd).unwrap())
    }

    pub(crate) fn file(&self, fd: i32) -> Arc<OpenFile> {
        self.proc.files.lock().get(fd).expect("open fd")
    }

    pub(crate) fn ops(&self, fd: i32) -> Arc<OpenFile> {
        let f = self.file(fd);
        assert!(f.ops.as_any().is::<BpfFileOps>(), "fd {fd} is not a bpf fd");
        f
    }

    pub(crate) fn object(&self, fd: i32) -> BpfObject {
        let f = self.ops(fd);
        let ops = f.ops.as_any().downcast_ref::<BpfFileOps>().unwrap();
        ops.bpf_file().object().clone()
    }

    /// `close(fd)`.
    pub(crate) fn close(&self, fd: i32) {
        let f = self.proc.files.lock().remove(fd).expect("close");
        drop(f);
    }

    /// Closes every fd and checks that no object and no shared page is left (bpffs pins
    /// must have been unlinked by the test).
    pub(crate) fn assert_all_freed(&self) {
        let files = self.proc.files.lock().clear();
        drop(files);
        let start = std::time::Instant::now();
        while !(self.host.registry().is_empty() && self.vmap.live() == 0)
            && start.elapsed() < std::time::Duration::from_secs(5)
        {
            maps::reclaim::collect();
            std::thread::yield_now();
        }
        assert!(self.host.registry().is_empty(), "objects left in the registry");
        assert_eq!(self.vmap.live(), 0, "shared pages not freed");
    }
}

/// `u32` as native-endian bytes.
pub(crate) fn u32b(v: u32) -> [u8; 4] {
    v.to_ne_bytes()
}

/// `u64` as native-endian bytes.
pub(crate) fn u64b(v: u64) -> [u8; 8] {
    v.to_ne_bytes()
}
