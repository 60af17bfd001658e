//! `/dev`: the memory devices (`null`, `zero`, `full`, `random`, `urandom`) and the serial
//! terminal (`console`, `tty`, `ttyS0`), on a tmpfs directory (so `/dev/shm` and other
//! additions work).
//!
//! The kernel supplies two things:
//! - a [`Console`]: where terminal output goes (the serial port); bytes are passed through
//!   unchanged (the termios `OPOST|ONLCR` flags are reported but `\n` → `\r\n`, if wanted, is
//!   the `Console`'s business);
//! - a [`RandomSource`] for `random`/`urandom` ([`XorShiftRandom`] is a ready one: seed it
//!   from `RDRAND`/`RDTSC`; not cryptographic).
//!
//! Terminal input, in two halves so that the interrupt side never takes a lock:
//! - [`Tty::push_input`] (interrupt-safe: only atomics) stores received bytes in a 4 KiB
//!   single-producer ring, turning `\r` into `\n` when `ICRNL` is set; bytes beyond the ring
//!   are dropped;
//! - [`Tty::service`] (task context: it writes to the [`Console`] and wakes a [`WaitQueue`])
//!   echoes the new bytes when `ECHO` is set and wakes blocked readers. The kernel calls it
//!   after pushing, from a point where taking locks is safe (e.g. the timer tick's return to
//!   a task, or the idle loop); readers also call it themselves.
//!
//! [`Tty::input`] does both (for callers already in task context). Readers block (or
//! `EAGAIN` with `O_NONBLOCK`); with `ICANON` a read returns once a line is complete, at most
//! that line; otherwise whatever is there. There is no line editing, job control or signal
//! generation (`^C` is an ordinary byte).
//!
//! ioctls of the terminal: `TCGETS` (Linux's `tty_std_termios`), `TCSETS`/`TCSETSW`/`TCSETSF`
//! (stored), `TIOCGWINSZ` (80x24 unless set) / `TIOCSWINSZ`, `TIOCGPGRP`/`TIOCSPGRP` (stored,
//! initially 1), `TIOCSCTTY`/`TIOCNOTTY`/`TCSBRK`/`TCXONC`/`TCFLSH` (accepted), `FIONREAD`.
//! Device numbers are Linux's: null 1:3, zero 1:5, full 1:7, random 1:8, urandom 1:9, tty 5:0,
//! console 5:1, ttyS0 4:64.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};

use spin::Mutex;
use syscall_abi::Errno;

use super::file::{FileOps, MmapBacking, OpenFile, PollEvents};
use super::inode::{FileType, Inode, Metadata};
use super::stat::makedev;
use super::tmpfs::{as_tmp, now, TmpFs};
use crate::sync::WaitQueue;
use crate::user::{read_val, write_val, UserMem};
use crate::KResult;

/// Where terminal output goes (the kernel implements it over the serial port).
pub trait Console: Send + Sync {
    /// Writes `bytes` to the terminal (all of them, unchanged).
    fn write(&self, bytes: &[u8]);
}

/// Random bytes for `/dev/random` and `/dev/urandom`.
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// A xorshift64* generator (not cryptographic) as a [`RandomSource`].
pub struct XorShiftRandom {
    state: Mutex<u64>,
}

impl XorShiftRandom {
    /// A generator seeded with `seed` (0 is replaced by a fixed non-zero value).
    pub fn new(seed: u64) -> XorShiftRandom {
        XorShiftRandom { state: Mutex::new(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed }) }
    }
}

impl RandomSource for XorShiftRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut s = self.state.lock();
        for chunk in buf.chunks_mut(8) {
            let mut x = *s;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            *s = x;
            let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TCSBRK: u32 = 0x5409;
const TCXONC: u32 = 0x540a;
const TCFLSH: u32 = 0x540b;
const TIOCSCTTY: u32 = 0x540e;
const TIOCGPGRP: u32 = 0x540f;
const TIOCSPGRP: u32 = 0x5410;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541b;
const TIOCNOTTY: u32 = 0x5422;

const ICRNL: u32 = 0o400;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;

syscall_abi::uapi_struct! {
    #[c = "struct termios", whole]
    /// The kernel's `struct termios` (`<asm/termbits.h>`, 36 bytes), what `TCGETS` returns.
    pub struct Termios {
        /// Input modes.
        pub c_iflag: u32 => "c_iflag",
        /// Output modes.
        pub c_oflag: u32 => "c_oflag",
        /// Control modes.
        pub c_cflag: u32 => "c_cflag",
        /// Local modes.
        pub c_lflag: u32 => "c_lflag",
        /// Line discipline.
        pub c_line: u8 => "c_line",
        /// Control characters.
        pub c_cc: [u8; 19] => "c_cc",
    }
}

syscall_abi::uapi_struct! {
    #[c = "struct winsize", whole]
    /// `struct winsize` (`TIOCGWINSZ`).
    pub struct Winsize {
        /// Rows.
        pub ws_row: u16 => "ws_row",
        /// Columns.
        pub ws_col: u16 => "ws_col",
        /// Width in pixels.
        pub ws_xpixel: u16 => "ws_xpixel",
        /// Height in pixels.
        pub ws_ypixel: u16 => "ws_ypixel",
    }
}

impl Termios {
    /// Linux's `tty_std_termios`: `ICRNL|IXON`, `OPOST|ONLCR`, `B38400|CS8|CREAD|HUPCL`,
    /// `ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN`, `INIT_C_CC`.
    pub const STD: Termios = Termios {
        c_iflag: 0o2400,
        c_oflag: 0o5,
        c_cflag: 0o2277,
        c_lflag: 0o105073,
        c_line: 0,
        c_cc: [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0],
    };
}

const RING: usize = 4096;

/// The terminal: input ring, settings and the console it writes to.
pub struct Tty {
    console: Arc<dyn Console>,
    ring: [AtomicU8; RING],
    /// Next slot the producer writes (only [`Tty::input`] advances it).
    head: AtomicUsize,
    /// Next slot readers take (advanced under `read_lock`).
    tail: AtomicUsize,
    read_lock: Mutex<()>,
    /// Up to where the input was echoed and readers woken (advanced under `service_lock`).
    serviced: AtomicUsize,
    service_lock: Mutex<()>,
    /// Copies of `c_iflag`/`c_lflag` for the lock-free input side.
    iflag: AtomicU32,
    lflag: AtomicU32,
    termios: Mutex<Termios>,
    winsize: Mutex<Winsize>,
    pgrp: Mutex<i32>,
    queue: WaitQueue,
}

impl Tty {
    /// A terminal writing to `console`.
    pub fn new(console: Arc<dyn Console>) -> Arc<Tty> {
        Arc::new(Tty {
            console,
            ring: [const { AtomicU8::new(0) }; RING],
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            read_lock: Mutex::new(()),
            serviced: AtomicUsize::new(0),
            service_lock: Mutex::new(()),
            iflag: AtomicU32::new(Termios::STD.c_iflag),
            lflag: AtomicU32::new(Termios::STD.c_lflag),
            termios: Mutex::new(Termios::STD),
            winsize: Mutex::new(Winsize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 }),
            pgrp: Mutex::new(1),
            queue: WaitQueue::new(),
        })
    }

    /// Received bytes (from the serial port) and [`Tty::service`]: for task context.
    pub fn input(&self, bytes: &[u8]) {
        self.push_input(bytes);
        self.service();
    }

    /// Stores received bytes; interrupt-safe (atomics only, never blocks). Bytes beyond the
    /// 4 KiB buffer are dropped. One producer at a time. Call [`Tty::service`] afterwards
    /// from task context.
    pub fn push_input(&self, bytes: &[u8]) {
        let icrnl = self.iflag.load(Ordering::Relaxed) & ICRNL != 0;
        for &b in bytes {
            let b = if b == b'\r' && icrnl { b'\n' } else { b };
            let head = self.head.load(Ordering::Relaxed);
            if head.wrapping_sub(self.tail.load(Ordering::Acquire)) >= RING {
                break;
            }
            self.ring[head % RING].store(b, Ordering::Relaxed);
            self.head.store(head.wrapping_add(1), Ordering::Release);
        }
    }

    /// Echoes input pushed since the last call (when `ECHO` is set) and wakes blocked
    /// readers if there was any. Task context only (writes to the console, takes locks).
    pub fn service(&self) {
        let Some(_guard) = self.service_lock.try_lock() else { return };
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        let done = self.serviced.load(Ordering::Relaxed);
        // Bytes a reader already took (or a flush dropped) are not echoed any more.
        let from = if head.wrapping_sub(done) > head.wrapping_sub(tail) { tail } else { done };
        if from == head {
            return;
        }
        if self.lflag.load(Ordering::Relaxed) & ECHO != 0 {
            let mut out = Vec::new();
            let mut i = from;
            while i != head {
                out.push(self.ring[i % RING].load(Ordering::Relaxed));
                i = i.wrapping_add(1);
            }
            self.console.write(&out);
        }
        self.serviced.store(head, Ordering::Relaxed);
        self.queue.wake_all();
    }

    fn buffered(&self) -> usize {
        self.head.load(Ordering::Acquire).wrapping_sub(self.tail.load(Ordering::Acquire))
    }

    /// Whether a read would return data now.
    fn readable(&self) -> bool {
        let n = self.buffered();
        if n == 0 {
            return false;
        }
        if self.lflag.load(Ordering::Relaxed) & ICANON == 0 || n >= RING {
            return true;
        }
        let tail = self.tail.load(Ordering::Acquire);
        (0..n).any(|i| self.ring[tail.wrapping_add(i) % RING].load(Ordering::Relaxed) == b'\n')
    }

    fn read(&self, buf: &mut [u8], nonblocking: bool) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.service();
            if !self.readable() {
                if nonblocking {
                    return Err(Errno::EAGAIN);
                }
                self.queue.wait_until(None, || self.readable())?;
            }
            let canon = self.lflag.load(Ordering::Relaxed) & ICANON != 0;
            let _guard = self.read_lock.lock();
            let avail = self.buffered();
            let mut tail = self.tail.load(Ordering::Acquire);
            let mut n = 0;
            while n < avail && n < buf.len() {
                let b = self.ring[tail % RING].load(Ordering::Relaxed);
                buf[n] = b;
                n += 1;
                tail = tail.wrapping_add(1);
                if canon && b == b'\n' {
                    break;
                }
            }
            self.tail.store(tail, Ordering::Release);
            if n > 0 {
                return Ok(n);
            }
        }
    }

    fn ioctl(&self, cmd: u32, arg: u64, mem: &dyn UserMem) -> KResult<u64> {
        match cmd {
            TCGETS => write_val(mem, arg, &*self.termios.lock()).map(|_| 0),
            TCSETS | TCSETSW | TCSETSF => {
                let t: Termios = read_val(mem, arg)?;
                self.iflag.store(t.c_iflag, Ordering::Relaxed);
                self.lflag.store(t.c_lflag, Ordering::Relaxed);
                *self.termios.lock() = t;
                if cmd == TCSETSF {
                    self.flush_input();
                }
                Ok(0)
            }
            TIOCGWINSZ => write_val(mem, arg, &*self.winsize.lock()).map(|_| 0),
            TIOCSWINSZ => {
                let w: Winsize = read_val(mem, arg)?;
                *self.winsize.lock() = w;
                Ok(0)
            }
            TIOCGPGRP => write_val(mem, arg, &*self.pgrp.lock()).map(|_| 0),
            TIOCSPGRP => {
                let p: i32 = read_val(mem, arg)?;
                if p < 0 {
                    return Err(Errno::EINVAL);
                }
                *self.pgrp.lock() = p;
                Ok(0)
            }
            FIONREAD => {
                let n = i32::try_from(self.buffered()).unwrap_or(i32::MAX);
                write_val(mem, arg, &n).map(|_| 0)
            }
            TCFLSH => {
                if arg > 2 {
                    return Err(Errno::EINVAL);
                }
                if arg != 1 {
                    self.flush_input();
                }
                Ok(0)
            }
            TCSBRK | TCXONC | TIOCSCTTY | TIOCNOTTY => Ok(0),
            _ => Err(Errno::ENOTTY),
        }
    }

    fn flush_input(&self) {
        let _guard = self.read_lock.lock();
        self.tail.store(self.head.load(Ordering::Acquire), Ordering::Release);
    }
}

/// Which device a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    Zero,
    Full,
    Random,
    Tty,
}

/// A device inode of `/dev`.
struct DevNode {
    kind: Kind,
    meta: Mutex<Metadata>,
    tty: Arc<Tty>,
    random: Arc<dyn RandomSource>,
}

impl Inode for DevNode {
    fn metadata(&self) -> Metadata {
        *self.meta.lock()
    }
    fn file_type(&self) -> FileType {
        FileType::CharDevice
    }
    fn set_mode(&self, mode: u32) -> KResult<()> {
        let mut m = self.meta.lock();
        m.mode = FileType::CharDevice.mode_bits() | (mode & 0o7777);
        m.ctime = now();
        Ok(())
    }
    fn open(self: Arc<Self>, flags: u32) -> Option<KResult<Arc<OpenFile>>> {
        Some(Ok(OpenFile::new(Arc::new(DevFile { node: self }), flags, String::new())))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An open device.
struct DevFile {
    node: Arc<DevNode>,
}

impl DevFile {
    fn read_bytes(&self, buf: &mut [u8]) -> KResult<usize> {
        match self.node.kind {
            Kind::Null => Ok(0),
            Kind::Zero | Kind::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Kind::Random => {
                self.node.random.fill(buf);
                Ok(buf.len())
            }
            Kind::Tty => Err(Errno::ESPIPE),
        }
    }

    fn write_bytes(&self, buf: &[u8]) -> KResult<usize> {
        match self.node.kind {
            Kind::Full => Err(Errno::ENOSPC),
            Kind::Tty => {
                self.node.tty.console.write(buf);
                Ok(buf.len())
            }
            _ => Ok(buf.len()),
        }
    }
}

impl FileOps for DevFile {
    fn discards_writes(&self) -> bool {
        matches!(self.node.kind, Kind::Null | Kind::Zero)
    }
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        match self.node.kind {
            Kind::Tty => self.node.tty.read(buf, file.nonblocking()),
            _ => self.read_bytes(buf),
        }
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> KResult<usize> {
        self.write_bytes(buf)
    }
    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> KResult<usize> {
        self.read_bytes(buf)
    }
    fn write_at(&self, _offset: u64, buf: &[u8]) -> KResult<usize> {
        match self.node.kind {
            Kind::Tty => Err(Errno::ESPIPE),
            _ => self.write_bytes(buf),
        }
    }
    fn seek(&self, file: &OpenFile, _offset: i64, _whence: u32) -> KResult<u64> {
        // Linux's null/zero/full/random `lseek`s leave the position at 0 and return 0.
        match self.node.kind {
            Kind::Tty => Err(Errno::ESPIPE),
            _ => {
                *file.pos.lock() = 0;
                Ok(0)
            }
        }
    }
    fn stat(&self) -> KResult<Metadata> {
        Ok(self.node.metadata())
    }
    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64, mem: &dyn UserMem) -> KResult<u64> {
        match self.node.kind {
            Kind::Tty => self.node.tty.ioctl(cmd, arg, mem),
            _ => Err(Errno::ENOTTY),
        }
    }
    fn mmap(&self, _file: &OpenFile, _offset: u64, _len: u64, _prot: u32, _flags: u32) -> KResult<MmapBacking> {
        match self.node.kind {
            Kind::Zero => Ok(MmapBacking::PrivateCopy),
            _ => Err(Errno::ENODEV),
        }
    }
    fn poll(&self, _file: &OpenFile) -> PollEvents {
        let out = PollEvents::OUT | PollEvents::WRNORM;
        match self.node.kind {
            Kind::Tty if !self.node.tty.readable() => out,
            _ => out | PollEvents::IN | PollEvents::RDNORM,
        }
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        match self.node.kind {
            Kind::Tty => Some(&self.node.tty.queue),
            _ => None,
        }
    }
    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.node.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A new `/dev` directory (a tmpfs root, mode 0755) holding the devices, `pts/` and `shm/`
/// (mode 1777), and the links `fd` → `/proc/self/fd`, `stdin`/`stdout`/`stderr` →
/// `/proc/self/fd/0..2`. Returns the directory (mount it at `/dev`) and the terminal (feed
/// it input with [`Tty::input`]).
pub fn new_devfs(console: Arc<dyn Console>, random: Arc<dyn RandomSource>) -> KResult<(Arc<dyn Inode>, Arc<Tty>)> {
    let root = TmpFs::new_root();
    let tty = Tty::new(console);
    let dir = as_tmp(&*root).ok_or(Errno::EINVAL)?;
    let dev = root.metadata().dev;
    let t = now();
    let devices: [(&[u8], Kind, u32, u32, u32); 8] = [
        (b"null", Kind::Null, 1, 3, 0o666),
        (b"zero", Kind::Zero, 1, 5, 0o666),
        (b"full", Kind::Full, 1, 7, 0o666),
        (b"random", Kind::Random, 1, 8, 0o666),
        (b"urandom", Kind::Random, 1, 9, 0o666),
        (b"tty", Kind::Tty, 5, 0, 0o666),
        (b"console", Kind::Tty, 5, 1, 0o600),
        (b"ttyS0", Kind::Tty, 4, 64, 0o660),
    ];
    for (i, (name, kind, major, minor, perm)) in devices.into_iter().enumerate() {
        let meta = Metadata {
            dev,
            ino: 1000 + i as u64,
            mode: FileType::CharDevice.mode_bits() | perm,
            nlink: 1,
            rdev: makedev(major, minor),
            blksize: 4096,
            atime: t,
            mtime: t,
            ctime: t,
            ..Metadata::default()
        };
        let node = DevNode { kind, meta: Mutex::new(meta), tty: tty.clone(), random: random.clone() };
        dir.insert(name, Arc::new(node))?;
    }
    root.create(b"pts", FileType::Directory, 0o755)?;
    root.create(b"shm", FileType::Directory, 0o1777)?;
    root.symlink(b"fd", b"/proc/self/fd")?;
    for (i, name) in [&b"stdin"[..], b"stdout", b"stderr"].into_iter().enumerate() {
        let mut target: Vec<u8> = b"/proc/self/fd/".to_vec();
        target.push(b'0' + i as u8);
        root.symlink(name, &target)?;
    }
    Ok((root, tty))
}

#[cfg(test)]
#[path = "devfs/tests.rs"]
mod tests;
