//! A `std` implementation of [`BpfHost`] for host tests: a fake process with a Vec-backed user
//! memory at a fixed base address (anything outside it, or in a punched hole, is `EFAULT`), an
//! fd table, a bpffs path table, capability toggles and a recorded trace_printk buffer.
//!
//! Tests lay out attributes exactly as a Linux process would: they write the uapi structs
//! (syscall-abi mirrors) into the fake memory with [`TestHost::put`] and pass the address
//! and size to `sys_bpf`.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use maps::{FdObject, MemfdPages, SharedPages};
use syscall_abi::abi::Pod;
use syscall_abi::{err, Errno, Result};

use crate::host::{BpfHost, Capability};
use crate::object::{BpfFile, BpfObject, FdTarget, FileMode, Registry, UserRef};

/// Where the fake user memory starts.
pub const USER_BASE: u64 = 0x1000_0000;
/// Its size.
pub const USER_SIZE: usize = 1 << 22;
/// The bpffs mount point the test host has.
pub const BPFFS: &[u8] = b"/sys/fs/bpf";

/// What an fd of the fake process refers to.
#[derive(Clone)]
pub enum TestFd {
    /// A bpf object file (shared between dup'ed fds, like a `struct file`).
    Bpf(Arc<BpfFile>),
    /// A perf event.
    Perf(Arc<dyn FdObject>),
    /// Some other file.
    Other,
}

struct Pin {
    obj: UserRef,
    writable: bool,
}

#[derive(Default)]
struct Fs {
    /// Directories inside a bpffs.
    bpf_dirs: BTreeSet<Vec<u8>>,
    /// Directories elsewhere.
    other_dirs: BTreeSet<Vec<u8>>,
    /// Pinned objects.
    pins: BTreeMap<Vec<u8>, Pin>,
}

/// The fake process and kernel.
pub struct TestHost {
    mem: Mutex<Vec<u8>>,
    brk: Mutex<usize>,
    holes: Mutex<Vec<(u64, u64)>>,
    fds: Mutex<BTreeMap<u32, TestFd>>,
    max_fds: AtomicU32,
    fs: Mutex<Fs>,
    caps: AtomicU32,
    trace: Mutex<Vec<Vec<u8>>>,
    registry: Registry,
    cpus: u32,
    next_cpu: AtomicU32,
    clock: AtomicU64,
    seed: AtomicU32,
}

std::thread_local! {
    static CPU: Cell<Option<u32>> = const { Cell::new(None) };
}

fn cap_bit(cap: Capability) -> u32 {
    match cap {
        Capability::SysAdmin => 1,
        Capability::Bpf => 2,
        Capability::Perfmon => 4,
        Capability::NetAdmin => 8,
        Capability::Syslog => 16,
    }
}

impl TestHost {
    /// A process with every capability, fds 0–2 open as plain files, `/sys/fs/bpf` mounted
    /// and `/tmp` as a non-bpffs directory; `cpus` possible CPUs.
    pub fn new(cpus: u32) -> Arc<TestHost> {
        let mut fs = Fs::default();
        fs.bpf_dirs.insert(BPFFS.to_vec());
        fs.other_dirs.insert(b"/tmp".to_vec());
        fs.other_dirs.insert(b"/sys/fs".to_vec());
        let fds = (0..3).map(|fd| (fd, TestFd::Other)).collect();
        Arc::new(TestHost {
            mem: Mutex::new(vec![0; USER_SIZE]),
            brk: Mutex::new(0),
            holes: Mutex::new(Vec::new()),
            fds: Mutex::new(fds),
            max_fds: AtomicU32::new(1024),
            fs: Mutex::new(fs),
            caps: AtomicU32::new(u32::MAX),
            trace: Mutex::new(Vec::new()),
            registry: Registry::new(),
            cpus,
            next_cpu: AtomicU32::new(0),
            clock: AtomicU64::new(1_000_000),
            seed: AtomicU32::new(0x2545_f491),
        })
    }

    /// The host as the trait object `sys_bpf` takes.
    pub fn dyn_host(self: &Arc<Self>) -> Arc<dyn BpfHost> {
        self.clone()
    }

    // ---- user memory ----

    /// Allocates `len` zeroed bytes of user memory (8-byte aligned) and returns the address.
    pub fn alloc(&self, len: usize) -> u64 {
        let mut brk = self.brk.lock().unwrap();
        let start = (*brk + 7) & !7;
        let end = start + len.max(1);
        assert!(end <= USER_SIZE, "test user memory exhausted");
        *brk = end;
        self.mem.lock().unwrap()[start..end].fill(0);
        USER_BASE + start as u64
    }

    /// Allocates user memory holding `bytes` and returns its address.
    pub fn put_bytes(&self, bytes: &[u8]) -> u64 {
        let addr = self.alloc(bytes.len());
        self.write(addr, bytes);
        addr
    }

    /// Allocates user memory holding `value` and returns its address.
    pub fn put<T: Pod>(&self, value: &T) -> u64 {
        self.put_bytes(value.as_bytes())
    }

    /// Writes `bytes` at `addr` (test side: panics outside the memory).
    pub fn write(&self, addr: u64, bytes: &[u8]) {
        let off = (addr - USER_BASE) as usize;
        self.mem.lock().unwrap()[off..off + bytes.len()].copy_from_slice(bytes);
    }

    /// Reads `len` bytes at `addr` (test side).
    pub fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        let off = (addr - USER_BASE) as usize;
        self.mem.lock().unwrap()[off..off + len].to_vec()
    }

    /// Reads a `T` at `addr` (test side).
    pub fn get<T: Pod>(&self, addr: u64) -> T {
        T::from_prefix(&self.read(addr, core::mem::size_of::<T>()))
    }

    /// Makes `[addr, addr + len)` fault from now on.
    pub fn punch_hole(&self, addr: u64, len: u64) {
        self.holes.lock().unwrap().push((addr, addr + len));
    }

    /// Checks a user range the way an MMU would: inside the memory, outside every hole.
    fn check(&self, addr: u64, len: usize) -> Result<usize> {
        let len64 = u64::try_from(len).map_err(|_| Errno::EFAULT)?;
        let end = addr.checked_add(len64).ok_or(Errno::EFAULT)?;
        if addr < USER_BASE || end > USER_BASE + USER_SIZE as u64 {
            return err(Errno::EFAULT, "outside the test user memory");
        }
        if self.holes.lock().unwrap().iter().any(|&(s, e)| addr < e && s < end) {
            return err(Errno::EFAULT, "in a hole of the test user memory");
        }
        Ok((addr - USER_BASE) as usize)
    }

    // ---- fds ----

    /// Puts `fd` in the lowest free slot.
    fn add_fd(&self, entry: TestFd) -> Result<u32> {
        let mut fds = self.fds.lock().unwrap();
        let max = self.max_fds.load(Ordering::Relaxed);
        let fd = (0..max).find(|n| !fds.contains_key(n)).ok_or(Errno::EMFILE)?;
        fds.insert(fd, entry);
        Ok(fd)
    }

    /// `close(fd)`: returns whether it was open.
    pub fn close(&self, fd: u32) -> bool {
        let entry = self.fds.lock().unwrap().remove(&fd);
        entry.is_some()
    }

    /// `dup(fd)`.
    pub fn dup(&self, fd: u32) -> Result<u32> {
        let entry = self.fds.lock().unwrap().get(&fd).cloned().ok_or(Errno::EBADF)?;
        self.add_fd(entry)
    }

    /// Installs a perf event fd.
    pub fn install_perf(&self, event: Arc<dyn FdObject>) -> u32 {
        self.add_fd(TestFd::Perf(event)).unwrap()
    }

    /// Installs a bpf object directly (as if another command had made it).
    pub fn install_object(&self, obj: BpfObject, mode: FileMode) -> u32 {
        self.add_fd(TestFd::Bpf(Arc::new(BpfFile::new(obj, mode)))).unwrap()
    }

    /// The object behind a bpf fd (test side).
    pub fn object(&self, fd: u32) -> Option<BpfObject> {
        match self.fds.lock().unwrap().get(&fd) {
            Some(TestFd::Bpf(f)) => Some(f.object().clone()),
            _ => None,
        }
    }

    /// The mode of a bpf fd (test side).
    pub fn mode(&self, fd: u32) -> Option<FileMode> {
        match self.fds.lock().unwrap().get(&fd) {
            Some(TestFd::Bpf(f)) => Some(f.mode()),
            _ => None,
        }
    }

    /// Number of open fds (including 0–2).
    pub fn open_fds(&self) -> usize {
        self.fds.lock().unwrap().len()
    }

    /// Limits fd numbers to `< max` (`RLIMIT_NOFILE`).
    pub fn set_max_fds(&self, max: u32) {
        self.max_fds.store(max, Ordering::Relaxed);
    }

    /// Closes every fd from 3 on.
    pub fn close_all(&self) {
        let taken: Vec<TestFd> = {
            let mut fds = self.fds.lock().unwrap();
            let keys: Vec<u32> = fds.keys().copied().filter(|&fd| fd >= 3).collect();
            keys.iter().filter_map(|k| fds.remove(k)).collect()
        };
        drop(taken);
    }

    // ---- bpffs ----

    /// `mkdir(path)` inside bpffs.
    pub fn mkdir(&self, path: &[u8]) {
        self.fs.lock().unwrap().bpf_dirs.insert(path.to_vec());
    }

    /// `unlink(path)` of a pin: returns whether it existed.
    pub fn unlink(&self, path: &[u8]) -> bool {
        let pin = self.fs.lock().unwrap().pins.remove(path);
        pin.is_some()
    }

    /// `chmod a-w path`.
    pub fn make_readonly(&self, path: &[u8]) {
        if let Some(p) = self.fs.lock().unwrap().pins.get_mut(path) {
            p.writable = false;
        }
    }

    /// Removes every pin.
    pub fn unlink_all(&self) {
        let pins = std::mem::take(&mut self.fs.lock().unwrap().pins);
        drop(pins);
    }

    /// The pinned object at `path` (test side).
    pub fn pinned(&self, path: &[u8]) -> Option<BpfObject> {
        self.fs.lock().unwrap().pins.get(path).map(|p| p.obj.object().clone())
    }

    // ---- the rest ----

    /// Grants or revokes a capability.
    pub fn set_cap(&self, cap: Capability, on: bool) {
        if on {
            self.caps.fetch_or(cap_bit(cap), Ordering::Relaxed);
        } else {
            self.caps.fetch_and(!cap_bit(cap), Ordering::Relaxed);
        }
    }

    /// Revokes every capability (an unprivileged process).
    pub fn drop_all_caps(&self) {
        self.caps.store(0, Ordering::Relaxed);
    }

    /// The trace_printk lines so far.
    pub fn trace_lines(&self) -> Vec<Vec<u8>> {
        self.trace.lock().unwrap().clone()
    }
}

/// Splits `path` into its parent directory and last component.
fn parent_of(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(0) => b"/",
        Some(i) => &path[..i],
        None => b".",
    }
}

impl BpfHost for TestHost {
    fn copy_from_user(&self, dst: &mut [u8], src: u64) -> Result<()> {
        let off = self.check(src, dst.len())?;
        dst.copy_from_slice(&self.mem.lock().unwrap()[off..off + dst.len()]);
        Ok(())
    }

    fn copy_to_user(&self, dst: u64, src: &[u8]) -> Result<()> {
        let off = self.check(dst, src.len())?;
        self.mem.lock().unwrap()[off..off + src.len()].copy_from_slice(src);
        Ok(())
    }

    fn strncpy_from_user(&self, dst: &mut [u8], src: u64) -> Result<usize> {
        for (i, slot) in dst.iter_mut().enumerate() {
            let addr = src.checked_add(i as u64).ok_or(Errno::EFAULT)?;
            let off = self.check(addr, 1)?;
            let c = self.mem.lock().unwrap()[off];
            *slot = c;
            if c == 0 {
                return Ok(i);
            }
        }
        Ok(dst.len())
    }

    fn current_pid_tgid(&self) -> (u32, u32) {
        (1001, 1000)
    }

    fn current_uid_gid(&self) -> (u32, u32) {
        (0, 0)
    }

    fn current_comm(&self) -> [u8; 16] {
        *b"bpf-test\0\0\0\0\0\0\0\0"
    }

    fn capable(&self, cap: Capability) -> bool {
        self.caps.load(Ordering::Relaxed) & cap_bit(cap) != 0
    }

    fn ktime_ns(&self) -> u64 {
        self.clock.fetch_add(1000, Ordering::Relaxed)
    }

    fn jiffies(&self) -> u64 {
        self.clock.load(Ordering::Relaxed) / 4_000_000
    }

    fn current_cpu(&self) -> u32 {
        CPU.with(|c| match c.get() {
            Some(cpu) => cpu,
            None => {
                let cpu = self.next_cpu.fetch_add(1, Ordering::Relaxed) % self.cpus;
                c.set(Some(cpu));
                cpu
            }
        })
    }

    fn possible_cpus(&self) -> u32 {
        self.cpus
    }

    fn random_u32(&self) -> u32 {
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed.store(x, Ordering::Relaxed);
        x
    }

    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        MemfdPages::new(pages, repeat_tail, self.page_size()).map(|p| Box::new(p) as Box<dyn SharedPages>)
    }

    fn install_fd(&self, file: BpfFile, cloexec: bool) -> Result<u32> {
        assert!(cloexec, "bpf fds are always close-on-exec");
        self.add_fd(TestFd::Bpf(Arc::new(file)))
    }

    fn resolve_fd(&self, fd: u32) -> Result<FdTarget> {
        match self.fds.lock().unwrap().get(&fd) {
            None => err(Errno::EBADF, "fd not open"),
            Some(TestFd::Bpf(f)) => Ok(f.target()),
            Some(TestFd::Perf(e)) => Ok(FdTarget::PerfEvent(e.clone())),
            Some(TestFd::Other) => Ok(FdTarget::Other),
        }
    }

    fn pin(&self, path: &[u8], obj: UserRef) -> Result<()> {
        let mut fs = self.fs.lock().unwrap();
        let parent = parent_of(path);
        let parent_in_bpffs = fs.bpf_dirs.contains(parent);
        if !parent_in_bpffs && !fs.other_dirs.contains(parent) {
            return if fs.pins.contains_key(parent) {
                err(Errno::ENOTDIR, "parent is not a directory")
            } else {
                err(Errno::ENOENT, "parent directory does not exist")
            };
        }
        if fs.pins.contains_key(path) || fs.bpf_dirs.contains(path) || fs.other_dirs.contains(path) {
            return err(Errno::EEXIST, "path exists");
        }
        if !parent_in_bpffs {
            return err(Errno::EPERM, "not in a bpffs");
        }
        fs.pins.insert(path.to_vec(), Pin { obj, writable: true });
        Ok(())
    }

    fn get_pinned(&self, path: &[u8], mode: FileMode) -> Result<BpfObject> {
        let fs = self.fs.lock().unwrap();
        match fs.pins.get(path) {
            Some(p) if mode.can_write() && !p.writable => err(Errno::EACCES, "permission denied"),
            Some(p) => Ok(p.obj.object().clone()),
            None if fs.bpf_dirs.contains(path) || fs.other_dirs.contains(path) => {
                err(Errno::EACCES, "not a bpf object")
            }
            None => err(Errno::ENOENT, "no such file"),
        }
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn trace_printk(&self, msg: &[u8]) {
        self.trace.lock().unwrap().push(msg.to_vec());
    }
}
