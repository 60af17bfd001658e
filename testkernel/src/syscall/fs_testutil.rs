//! The fixture of the file-syscall tests: a process (memory, fd table, fs context) over a
//! tmpfs root with `/dev` mounted, and helpers that place arguments in user memory.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use super::fs_open::sys_openat;
use super::fs_path::{FsCall, AT_FDCWD};
use super::fs_rw::{sys_read, sys_write};
use crate::fs::context::FsContext;
use crate::fs::devfs::{new_devfs, Console, Tty, XorShiftRandom};
use crate::fs::fdtable::FdTable;
use crate::fs::stat::Stat;
use crate::fs::tmpfs::TmpFs;
use crate::fs::vfs::Vfs;
use crate::user::{read_val, TestMem, UserMem};
use crate::KResult;

pub const BASE: u64 = 0x10000;
const SIZE: usize = 4 << 20;

/// A console that records what is written.
#[derive(Default)]
pub struct RecConsole(pub Mutex<Vec<u8>>);

impl Console for RecConsole {
    fn write(&self, bytes: &[u8]) {
        self.0.lock().extend_from_slice(bytes);
    }
}

pub struct Env {
    pub mem: TestMem,
    pub files: Mutex<FdTable>,
    pub fs: Mutex<FsContext>,
    pub vfs: Vfs,
    pub console: Arc<RecConsole>,
    pub tty: Arc<Tty>,
    next: AtomicU64,
}

impl Env {
    pub fn new() -> Env {
        let vfs = Vfs::new(TmpFs::new_root());
        vfs.mkdir_all(b"/dev", 0o755).unwrap();
        let console = Arc::new(RecConsole::default());
        let (dev, tty) = new_devfs(console.clone(), Arc::new(XorShiftRandom::new(42))).unwrap();
        vfs.mount(b"/dev", dev).unwrap();
        let fs = Mutex::new(FsContext::new(&vfs));
        Env {
            mem: TestMem::new(BASE, SIZE),
            files: Mutex::new(FdTable::new()),
            fs,
            vfs,
            console,
            tty,
            next: AtomicU64::new(BASE),
        }
    }

    /// The path-syscall context of this process.
    pub fn cx(&self) -> FsCall<'_> {
        FsCall { mem: &self.mem, files: &self.files, fs: &self.fs, vfs: &self.vfs }
    }

    /// `len` zeroed bytes of user memory (8-aligned).
    pub fn buf(&self, len: usize) -> u64 {
        let at = self.next.fetch_add((len as u64).next_multiple_of(8).max(8), Ordering::Relaxed);
        self.mem.write(at, &alloc::vec![0u8; len]).unwrap();
        at
    }

    /// `bytes` in user memory.
    pub fn data(&self, bytes: &[u8]) -> u64 {
        let at = self.buf(bytes.len());
        self.mem.write(at, bytes).unwrap();
        at
    }

    /// A NUL-terminated string in user memory.
    pub fn s(&self, s: &str) -> u64 {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.data(&v)
    }

    pub fn bytes(&self, at: u64, len: usize) -> Vec<u8> {
        let mut v = alloc::vec![0u8; len];
        self.mem.read(at, &mut v).unwrap();
        v
    }

    pub fn openat(&self, dirfd: i32, path: &str, flags: u32, mode: u32) -> KResult<i32> {
        let p = self.s(path);
        sys_openat(&self.cx(), dirfd, p, flags, mode).map(|fd| fd as i32)
    }

    pub fn open(&self, path: &str, flags: u32) -> KResult<i32> {
        self.openat(AT_FDCWD, path, flags, 0o644)
    }

    pub fn write(&self, fd: i32, data: &[u8]) -> KResult<u64> {
        let at = self.data(data);
        sys_write(&self.mem, &self.files, fd, at, data.len() as u64)
    }

    pub fn read(&self, fd: i32, len: usize) -> KResult<Vec<u8>> {
        let at = self.buf(len);
        let n = sys_read(&self.mem, &self.files, fd, at, len as u64)?;
        Ok(self.bytes(at, n as usize))
    }

    /// Creates `path` with `content`.
    pub fn put(&self, path: &str, content: &[u8]) {
        let fd = self.open(path, 0o1101).unwrap();
        assert_eq!(self.write(fd, content).unwrap(), content.len() as u64);
        super::fs_open::sys_close(&self.files, fd).unwrap();
    }

    pub fn stat_of(&self, at: u64) -> Stat {
        read_val(&self.mem, at).unwrap()
    }

    pub fn cwd(&self) -> String {
        String::from_utf8_lossy(&self.fs.lock().cwd.path).into_owned()
    }
}
