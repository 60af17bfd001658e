//! Linux-named probe targets of the file and time paths: `vfs_read`, `vfs_write`,
//! `vfs_readv`, `vfs_writev`, `vfs_open`, `do_sys_openat2`, `do_filp_open`,
//! `ktime_get_mono_fast_ns`.
//!
//! Each is an `extern "C"`, `#[no_mangle]`, never-inlined function whose first arguments
//! are Linux's (same order, so the same registers: rdi, rsi, rdx, rcx), followed by the
//! work to run (a [`Work`], behind a thin pointer in the next register). They return what
//! Linux returns in rax (a count, 0, a pointer, or `-errno`), so a kretprobe reads the same
//! values. The callers use the `call_*` helpers, which convert to and from [`KResult`].
//! Where Linux passes a structure (`struct open_how`, `struct filename`, `struct
//! open_flags`), the wrapper passes a `#[repr(C)]` mirror of its leading fields.
//!
//! `black_box` around every result keeps the work a real call (no tail jump), so each
//! function has a prologue, a body and a `ret` for entry and return probes; the distinct
//! constant each one passes to `black_box` keeps LLVM from merging identical bodies into
//! one address (several names on one function would make their probes fire together).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hint::black_box;

use syscall_abi::Errno;

use crate::fs::file::OpenFile;
use crate::fs::vfs::Location;
use crate::KResult;

/// Largest errno value a function returns as `-errno` (Linux `MAX_ERRNO`).
pub const MAX_ERRNO: i64 = 4095;

/// A result as Linux returns it in rax: the value, or `-errno`.
pub fn to_ret(r: KResult<u64>) -> i64 {
    match r {
        Ok(v) => v as i64,
        Err(e) => -i64::from(e.0),
    }
}

/// The inverse of [`to_ret`]: values in `-MAX_ERRNO..0` are errors (Linux `IS_ERR_VALUE`).
pub fn from_ret(r: i64) -> KResult<u64> {
    if (-MAX_ERRNO..0).contains(&r) {
        Err(Errno(-r as i32))
    } else {
        Ok(r as u64)
    }
}

/// The work a probe target runs: a closure behind a thin pointer (the last argument of
/// every wrapper), so the C signature carries Linux's arguments plus one register.
pub struct Work<'a>(&'a mut dyn FnMut() -> KResult<u64>);

impl Work<'_> {
    fn run(&mut self) -> i64 {
        to_ret((self.0)())
    }
}

/// Linux `struct open_how` (`do_sys_openat2`'s third argument).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenHow {
    /// `O_*` flags.
    pub flags: u64,
    /// Creation mode.
    pub mode: u64,
    /// `RESOLVE_*` flags (0: `openat` has none).
    pub resolve: u64,
}

/// Linux `struct filename`'s leading fields (`do_filp_open`'s second argument): `name`
/// points to the kernel copy of the path, NUL-terminated.
#[repr(C)]
#[derive(Debug)]
pub struct Filename {
    /// The kernel copy of the path (NUL-terminated).
    pub name: *const u8,
    /// The user pointer it was copied from (0 for kernel-internal opens).
    pub uptr: u64,
    /// Linux's reference count (1).
    pub refcnt: i32,
    /// Linux's audit name (always null).
    pub aname: u64,
}

/// Linux `struct open_flags` (`do_filp_open`'s third argument).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenFlags {
    /// The `O_*` flags.
    pub open_flag: i32,
    /// The creation mode (`umode_t`).
    pub mode: u16,
    /// `MAY_READ`/`MAY_WRITE` derived from the access mode.
    pub acc_mode: i32,
    /// Linux's lookup intent (0).
    pub intent: i32,
    /// Linux's `LOOKUP_*` flags (`LOOKUP_FOLLOW` unless `O_NOFOLLOW`).
    pub lookup_flags: i32,
}

const O_ACCMODE: u32 = 3;
const O_NOFOLLOW: u32 = 0o400000;
const MAY_WRITE: i32 = 2;
const MAY_READ: i32 = 4;
const LOOKUP_FOLLOW: i32 = 1;

impl OpenFlags {
    /// What Linux's `build_open_flags` makes of `flags` and `mode`.
    pub fn new(flags: u32, mode: u32) -> OpenFlags {
        let acc_mode = match flags & O_ACCMODE {
            0 => MAY_READ,
            1 => MAY_WRITE,
            _ => MAY_READ | MAY_WRITE,
        };
        let lookup_flags = if flags & O_NOFOLLOW != 0 { 0 } else { LOOKUP_FOLLOW };
        OpenFlags { open_flag: flags as i32, mode: mode as u16, acc_mode, intent: 0, lookup_flags }
    }
}

/// `ssize_t vfs_read(struct file *file, char __user *buf, size_t count, loff_t *pos)`:
/// `read`/`pread64` of one buffer. `pos` is null for the file position.
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn vfs_read(file: *const OpenFile, buf: u64, count: u64, pos: *mut i64, work: &mut Work<'_>) -> i64 {
    black_box((1u8, file, buf, count, pos));
    black_box(work.run())
}

/// `ssize_t vfs_write(struct file *file, const char __user *buf, size_t count, loff_t *pos)`.
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn vfs_write(file: *const OpenFile, buf: u64, count: u64, pos: *mut i64, work: &mut Work<'_>) -> i64 {
    black_box((2u8, file, buf, count, pos));
    black_box(work.run())
}

/// `vfs_readv(struct file *file, const struct iovec __user *vec, unsigned long vlen,
/// loff_t *pos)`: `readv`/`preadv`.
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn vfs_readv(file: *const OpenFile, vec: u64, vlen: u64, pos: *mut i64, work: &mut Work<'_>) -> i64 {
    black_box((3u8, file, vec, vlen, pos));
    black_box(work.run())
}

/// `vfs_writev(struct file *file, const struct iovec __user *vec, unsigned long vlen,
/// loff_t *pos)`: `writev`/`pwritev`.
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn vfs_writev(file: *const OpenFile, vec: u64, vlen: u64, pos: *mut i64, work: &mut Work<'_>) -> i64 {
    black_box((4u8, file, vec, vlen, pos));
    black_box(work.run())
}

/// One read or write of `file` through `vfs_read`/`vfs_write` (one buffer `addr`, `n`
/// bytes) or `vfs_readv`/`vfs_writev` (iovec array `addr`, `n` entries); `pos` is the
/// explicit offset (`pread64`...), `None` for the file position. `op` does the transfer.
pub fn call_vfs_rw(
    file: &OpenFile,
    write: bool,
    vectored: bool,
    addr: u64,
    n: u64,
    pos: Option<u64>,
    mut op: impl FnMut() -> KResult<usize>,
) -> KResult<usize> {
    let mut p = pos.map_or(0, |p| p as i64);
    let pp: *mut i64 = if pos.is_some() { &mut p } else { core::ptr::null_mut() };
    let mut f = || op().map(|n| n as u64);
    let mut w = Work(&mut f);
    let fp: *const OpenFile = file;
    let r = match (write, vectored) {
        (false, false) => vfs_read(fp, addr, n, pp, &mut w),
        (true, false) => vfs_write(fp, addr, n, pp, &mut w),
        (false, true) => vfs_readv(fp, addr, n, pp, &mut w),
        (true, true) => vfs_writev(fp, addr, n, pp, &mut w),
    };
    from_ret(r).map(|v| v as usize)
}

/// `long do_sys_openat2(int dfd, const char __user *filename, struct open_how *how)`: the
/// whole of `open`/`openat`/`creat` (path copy-in, lookup, fd install); returns the fd.
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn do_sys_openat2(dfd: i32, filename: u64, how: *const OpenHow, work: &mut Work<'_>) -> i64 {
    black_box((5u8, dfd, filename, how));
    black_box(work.run())
}

/// Runs `op` (the open, returning the new fd) through `do_sys_openat2`.
pub fn call_do_sys_openat2(
    dfd: i32,
    filename: u64,
    flags: u32,
    mode: u32,
    mut op: impl FnMut() -> KResult<u64>,
) -> KResult<u64> {
    let how = OpenHow { flags: u64::from(flags), mode: u64::from(mode), resolve: 0 };
    let mut w = Work(&mut op);
    from_ret(do_sys_openat2(dfd, filename, &how, &mut w))
}

/// `struct file *do_filp_open(int dfd, struct filename *pathname, const struct open_flags
/// *op)`: lookup and open of a kernel path; returns the open file's address or `-errno`
/// (Linux's `ERR_PTR`).
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn do_filp_open(dfd: i32, pathname: *const Filename, op: *const OpenFlags, work: &mut Work<'_>) -> i64 {
    black_box((6u8, dfd, pathname, op));
    black_box(work.run())
}

/// Runs `op` (opening `path`, kernel bytes) through `do_filp_open`.
pub fn call_do_filp_open(
    dfd: i32,
    path: &[u8],
    flags: u32,
    mode: u32,
    mut op: impl FnMut() -> KResult<Arc<OpenFile>>,
) -> KResult<Arc<OpenFile>> {
    let mut name = Vec::with_capacity(path.len() + 1);
    name.extend_from_slice(path);
    name.push(0);
    let filename = Filename { name: name.as_ptr(), uptr: 0, refcnt: 1, aname: 0 };
    let flags = OpenFlags::new(flags, mode);
    let mut out = None;
    let mut f = || {
        let file = op()?;
        let addr = Arc::as_ptr(&file) as u64;
        out = Some(file);
        Ok(addr)
    };
    let mut w = Work(&mut f);
    from_ret(do_filp_open(dfd, &filename, &flags, &mut w))?;
    out.ok_or(Errno::EIO)
}

/// `int vfs_open(const struct path *path, struct file *file)`: makes the open file of a
/// resolved location. Here `path` is the [`Location`] and the second argument the file
/// status flags (the file does not exist before); returns 0 or `-errno`.
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn vfs_open(path: *const Location, flags: u64, work: &mut Work<'_>) -> i64 {
    black_box((7u8, path, flags));
    match work.run() {
        r if r < 0 => black_box(r),
        _ => black_box(0),
    }
}

/// Runs `op` (making the open file of `loc`) through `vfs_open`.
pub fn call_vfs_open(
    loc: &Location,
    flags: u32,
    mut op: impl FnMut() -> KResult<Arc<OpenFile>>,
) -> KResult<Arc<OpenFile>> {
    let mut out = None;
    let mut f = || {
        out = Some(op()?);
        Ok(0)
    };
    let mut w = Work(&mut f);
    from_ret(vfs_open(loc, u64::from(flags), &mut w))?;
    out.ok_or(Errno::EIO)
}

/// `u64 ktime_get_mono_fast_ns(void)`: `CLOCK_MONOTONIC` in nanoseconds (what
/// `bpf_ktime_get_ns` reads).
#[cfg_attr(target_os = "none", no_mangle)]
#[inline(never)]
pub extern "C" fn ktime_get_mono_fast_ns() -> u64 {
    black_box(crate::time::monotonic_ns())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_returns_round_trip() {
        assert_eq!(to_ret(Ok(5)), 5);
        assert_eq!(to_ret(Err(Errno::EBADF)), -9);
        assert_eq!(from_ret(-9), Err(Errno::EBADF));
        assert_eq!(from_ret(-4095), Err(Errno(4095)));
        // Below -MAX_ERRNO it is a value (a kernel address, as Linux's IS_ERR_VALUE).
        assert_eq!(from_ret(-4096), Ok((-4096i64) as u64));
        assert_eq!(from_ret(0xffff_ffff_8000_0000u64 as i64), Ok(0xffff_ffff_8000_0000));
        assert_eq!(from_ret(0), Ok(0));
    }

    #[test]
    fn open_flags_follow_linux_build_open_flags() {
        let f = OpenFlags::new(0, 0);
        assert_eq!((f.acc_mode, f.lookup_flags), (MAY_READ, LOOKUP_FOLLOW));
        let f = OpenFlags::new(1 | O_NOFOLLOW, 0o644);
        assert_eq!((f.acc_mode, f.lookup_flags, f.mode), (MAY_WRITE, 0, 0o644));
        assert_eq!(OpenFlags::new(2, 0).acc_mode, MAY_READ | MAY_WRITE);
    }

    #[test]
    fn layouts_match_linux() {
        assert_eq!(core::mem::size_of::<OpenHow>(), 24);
        assert_eq!(core::mem::offset_of!(OpenFlags, mode), 4);
        assert_eq!(core::mem::offset_of!(OpenFlags, acc_mode), 8);
        assert_eq!(core::mem::offset_of!(OpenFlags, lookup_flags), 16);
        assert_eq!(core::mem::offset_of!(Filename, uptr), 8);
    }

    #[test]
    fn rw_passes_results_and_errors_through() {
        // The wrappers only run the work: their value and errno come back unchanged.
        let mut w = Work(&mut || Ok(7));
        assert_eq!(vfs_read(core::ptr::null(), 0x1000, 7, core::ptr::null_mut(), &mut w), 7);
        let mut w = Work(&mut || Err(Errno::EAGAIN));
        assert_eq!(vfs_writev(core::ptr::null(), 0, 1, core::ptr::null_mut(), &mut w), -11);
        let mut w = Work(&mut || Ok(3));
        assert_eq!(do_sys_openat2(-100, 0, core::ptr::null(), &mut w), 3);
    }
}
