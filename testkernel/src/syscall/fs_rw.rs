//! `read`, `write`, `readv`, `writev`, `pread64`, `pwrite64`, `preadv`, `pwritev`, `lseek`
//! (Linux `fs/read_write.c`).
//!
//! Data moves through a kernel buffer of at most 64 KiB at a time. A regular file is read
//! or written chunk by chunk until the request is done or a chunk comes up short; other
//! files (pipes, terminals) are read with one call (so a read never blocks twice) and
//! written until done unless `O_NONBLOCK`. Counts are capped at `MAX_RW_COUNT`
//! (`0x7ffff000`). A fault in the user buffer is `EFAULT` if nothing was transferred, else
//! the count so far, and no data is lost: before a pipe or terminal read the
//! destination is checked (read and written back unchanged); a regular file's position is
//! put back when the copy-out faults. Checks run in Linux 6.1's order (see [`transfer`]):
//! a negative offset is `EINVAL` before a bad descriptor is `EBADF`, an unseekable file is
//! `ESPIPE` before a wrong access mode is `EBADF`, and the iovec array is read and checked
//! before the access mode.

use alloc::vec;
use alloc::vec::Vec;

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::{get_file, get_io_file};
use crate::fs::fdtable::FdTable;
use crate::fs::file::{OpenFile, O_APPEND};
use crate::fs::generic::SEEK_HOLE;
use crate::fs::inode::FileType;
use crate::user::{access_ok, read_prefix, read_val, write_prefix, UserMem};
use crate::KResult;

/// Linux's `MAX_RW_COUNT`: the most one read/write transfers.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;
/// `UIO_MAXIOV`.
pub const UIO_MAXIOV: u64 = 1024;
const CHUNK: usize = 64 * 1024;

/// User buffers of one transfer: `(address, length)` pairs.
type Segs = Vec<(u64, usize)>;

/// Which way data moves.
#[derive(Clone, Copy)]
enum Dir {
    /// From the file to user memory.
    Read,
    /// From user memory to the file.
    Write,
}

/// Whether `file` is open for `dir` (Linux's `FMODE_READ`/`FMODE_WRITE` test: `EBADF`).
fn open_for(file: &OpenFile, dir: Dir) -> KResult<()> {
    let ok = match dir {
        Dir::Read => file.readable(),
        Dir::Write => file.writable(),
    };
    if ok {
        Ok(())
    } else {
        Err(Errno::EBADF)
    }
}

/// Whether `file` takes positional I/O (Linux's `FMODE_PREAD`/`FMODE_PWRITE`, which pipes,
/// sockets, terminals and anonymous-inode files lack), whatever it is open for.
///
/// TODO(kerrno): asks `read_at` for nothing at offset `u64::MAX` (`ESPIPE` exactly for such
/// files, as the `FileOps::read_at` contract says; past any end, so tmpfs does not touch
/// the access time) until `FileOps` grows a `positional()` query. `write_at` is not asked:
/// it would touch files open read-only.
fn positional(file: &OpenFile) -> bool {
    file.ops.read_at(u64::MAX, &mut []) != Err(Errno::ESPIPE)
}

fn is_regular(file: &OpenFile) -> bool {
    file.ops.inode().is_some_and(|i| i.file_type() == FileType::Regular)
}

/// The user side of a transfer as the syscall names it.
#[derive(Clone, Copy)]
enum UserBufs {
    /// One buffer (`read`, `write`, `pread64`, `pwrite64`).
    One { buf: u64, count: u64 },
    /// An iovec array (`readv`, `writev`, `preadv`, `pwritev`).
    Iov { iov: u64, iovcnt: u64 },
}

/// Reads an iovec array like Linux's `import_iovec`: `EINVAL` for more than `UIO_MAXIOV`
/// entries, `EFAULT` if the array cannot be read, `EINVAL` for any length above `SSIZE_MAX`
/// (all lengths are checked before any buffer), then `EFAULT` for a buffer outside user space
/// (`access_ok` on the uncapped length); the total is then capped at `MAX_RW_COUNT`.
fn import_iovec(mem: &dyn UserMem, iov: u64, cnt: u64) -> KResult<Segs> {
    if cnt > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    let mut raw = Vec::new();
    for i in 0..cnt {
        let at = iov.checked_add(i * 16).ok_or(Errno::EFAULT)?;
        let base: u64 = read_val(mem, at)?;
        let len: u64 = read_val(mem, at.checked_add(8).ok_or(Errno::EFAULT)?)?;
        raw.push((base, len));
    }
    if raw.iter().any(|&(_, len)| len > i64::MAX as u64) {
        return Err(Errno::EINVAL);
    }
    let mut segs = Vec::with_capacity(raw.len());
    let mut total = 0usize;
    for (base, len) in raw {
        if !access_ok(base, len) {
            return Err(Errno::EFAULT);
        }
        let len = usize::try_from(len).unwrap_or(MAX_RW_COUNT).min(MAX_RW_COUNT - total);
        total += len;
        segs.push((base, len));
    }
    Ok(segs)
}

fn total(segs: &Segs) -> usize {
    segs.iter().map(|s| s.1).sum()
}

/// Copies `data` into the segments from logical offset `at`, stopping at the first byte that
/// cannot be written; returns how many bytes were stored (Linux's partial `copy_to_user`).
fn scatter(mem: &dyn UserMem, segs: &Segs, mut at: usize, mut data: &[u8]) -> usize {
    let mut stored = 0;
    for &(base, len) in segs {
        if data.is_empty() {
            break;
        }
        if at >= len {
            at -= len;
            continue;
        }
        let n = (len - at).min(data.len());
        let w = write_prefix(mem, base.wrapping_add(at as u64), &data[..n]);
        stored += w;
        if w < n {
            break;
        }
        data = &data[n..];
        at = 0;
    }
    stored
}

/// Fills `out` from the segments from logical offset `at`, stopping at the first byte that
/// cannot be read; returns how many bytes were read.
fn gather(mem: &dyn UserMem, segs: &Segs, mut at: usize, out: &mut [u8]) -> usize {
    let mut done = 0;
    for &(base, len) in segs {
        if done == out.len() {
            break;
        }
        if at >= len {
            at -= len;
            continue;
        }
        let n = (len - at).min(out.len() - done);
        let r = read_prefix(mem, base.wrapping_add(at as u64), &mut out[done..done + n]);
        done += r;
        if r < n {
            break;
        }
        at = 0;
    }
    done
}

/// How many of the segment bytes `at..at + want` can be written right now (faulting pages
/// in, writing nothing): a pipe or terminal read takes no more data than it can store.
fn writable(mem: &dyn UserMem, segs: &Segs, mut at: usize, want: usize) -> usize {
    let mut ok = 0;
    for &(base, len) in segs {
        if ok == want {
            break;
        }
        if at >= len {
            at -= len;
            continue;
        }
        let n = (len - at).min(want - ok);
        let w = mem.writable_prefix(base.wrapping_add(at as u64), n);
        ok += w;
        if w < n {
            break;
        }
        at = 0;
    }
    ok
}

fn partial(done: usize, e: Errno) -> KResult<usize> {
    if done > 0 {
        Ok(done)
    } else {
        Err(e)
    }
}

/// Reads into `segs` at the file position (`offset` None) or at `offset`.
fn do_read(mem: &dyn UserMem, file: &OpenFile, segs: &Segs, offset: Option<u64>) -> KResult<usize> {
    let total = total(segs);
    let regular = is_regular(file);
    let mut chunk = vec![0u8; total.min(CHUNK)];
    let mut done = 0;
    loop {
        let mut want = (total - done).min(CHUNK);
        // Take no more from a pipe or terminal than the destination can store: bytes that
        // cannot be copied out must stay there (as in Linux). Regular files are read first
        // and their position put back by what could not be stored (so a read at EOF never
        // faults).
        if !regular && want > 0 {
            want = writable(mem, segs, done, want);
            if want == 0 {
                return partial(done, Errno::EFAULT);
            }
        }
        let r = match offset {
            None => file.ops.read(file, &mut chunk[..want]),
            Some(o) => file.ops.read_at(o + done as u64, &mut chunk[..want]),
        };
        let n = match r {
            Ok(n) => n.min(want),
            Err(e) => return partial(done, e),
        };
        let stored = scatter(mem, segs, done, &chunk[..n]);
        if stored < n && offset.is_none() {
            let mut pos = file.pos.lock();
            *pos = pos.saturating_sub((n - stored) as u64);
        }
        done += stored;
        if stored < n {
            return partial(done, Errno::EFAULT);
        }
        if n < want || done == total || !regular {
            return Ok(done);
        }
    }
}

/// Writes from `segs` at the file position (`offset` None) or at `offset` (which, as in
/// Linux, `O_APPEND` overrides: `pwrite` on an append-only description appends). A buffer
/// that runs into an unreadable page writes its readable prefix.
fn do_write(mem: &dyn UserMem, file: &OpenFile, segs: &Segs, offset: Option<u64>) -> KResult<usize> {
    let total = total(segs);
    if file.ops.discards_writes() {
        return Ok(total);
    }
    let offset = match offset {
        Some(_) if file.flags() & O_APPEND != 0 && is_regular(file) => Some(file.ops.stat()?.size),
        o => o,
    };
    let keep_going = is_regular(file) || !file.nonblocking();
    let mut chunk = vec![0u8; total.min(CHUNK)];
    let mut done = 0;
    loop {
        let want = (total - done).min(CHUNK);
        let got = gather(mem, segs, done, &mut chunk[..want]);
        if got == 0 && want > 0 {
            return partial(done, Errno::EFAULT);
        }
        let r = match offset {
            None => file.ops.write(file, &chunk[..got]),
            Some(o) => file.ops.write_at(o + done as u64, &chunk[..got]),
        };
        let n = match r {
            Ok(n) => n.min(got),
            Err(e) => return partial(done, e),
        };
        done += n;
        if n < want || done == total || !keep_going {
            return Ok(done);
        }
    }
}

/// One read or write syscall, in Linux's check order (`ksys_pread64`, `do_preadv`,
/// `vfs_read`, `vfs_readv`, `do_iter_read` and their write twins): a negative `pos`
/// (`EINVAL`; `None` is the file position), the descriptor (`EBADF`), a file without
/// positional I/O when `pos` is given (`ESPIPE`), the iovec array (`import_iovec`), the
/// access mode (`EBADF`), a single buffer outside user space (`EFAULT`), an empty iovec
/// transfer (0), `pos + count` past `i64::MAX` (`EINVAL`, `rw_verify_area`), then the transfer.
fn transfer(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fd: i32,
    bufs: UserBufs,
    pos: Option<i64>,
    dir: Dir,
) -> KResult<u64> {
    let pos = pos.map(|p| u64::try_from(p).map_err(|_| Errno::EINVAL)).transpose()?;
    let file = get_io_file(files, fd)?;
    if pos.is_some() && !positional(&file) {
        return Err(Errno::ESPIPE);
    }
    let (segs, count) = match bufs {
        UserBufs::One { buf, count } => {
            open_for(&file, dir)?;
            if !access_ok(buf, count) {
                return Err(Errno::EFAULT);
            }
            (vec![(buf, usize::try_from(count).unwrap_or(MAX_RW_COUNT).min(MAX_RW_COUNT))], count)
        }
        UserBufs::Iov { iov, iovcnt } => {
            let segs = import_iovec(mem, iov, iovcnt)?;
            open_for(&file, dir)?;
            let total = total(&segs);
            if total == 0 {
                return Ok(0);
            }
            (segs, total as u64)
        }
    };
    if let Some(p) = pos {
        if p.checked_add(count).filter(|&end| end <= i64::MAX as u64).is_none() {
            return Err(Errno::EINVAL);
        }
    }
    let (addr, n, vectored) = match bufs {
        UserBufs::One { buf, count } => (buf, count, false),
        UserBufs::Iov { iov, iovcnt } => (iov, iovcnt, true),
    };
    let write = matches!(dir, Dir::Write);
    let done = crate::probe::targets::call_vfs_rw(&file, write, vectored, addr, n, pos, || match dir {
        Dir::Read => do_read(mem, &file, &segs, pos),
        Dir::Write => do_write(mem, &file, &segs, pos),
    })?;
    Ok(done as u64)
}

/// `read(fd, buf, count)`.
pub fn sys_read(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, buf: u64, count: u64) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::One { buf, count }, None, Dir::Read)
}

/// `write(fd, buf, count)`.
pub fn sys_write(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, buf: u64, count: u64) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::One { buf, count }, None, Dir::Write)
}

/// `readv(fd, iov, iovcnt)`.
pub fn sys_readv(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, iov: u64, iovcnt: u64) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::Iov { iov, iovcnt }, None, Dir::Read)
}

/// `writev(fd, iov, iovcnt)`.
pub fn sys_writev(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, iov: u64, iovcnt: u64) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::Iov { iov, iovcnt }, None, Dir::Write)
}

/// `pread64(fd, buf, count, pos)`: `EINVAL` for a negative `pos`, `ESPIPE` for pipes.
pub fn sys_pread64(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, buf: u64, count: u64, pos: i64) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::One { buf, count }, Some(pos), Dir::Read)
}

/// `pwrite64(fd, buf, count, pos)`.
pub fn sys_pwrite64(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fd: i32,
    buf: u64,
    count: u64,
    pos: i64,
) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::One { buf, count }, Some(pos), Dir::Write)
}

/// `preadv(fd, iov, iovcnt, pos)` (the x86_64 `pos_l` register holds the whole offset).
pub fn sys_preadv(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, iov: u64, iovcnt: u64, pos: i64) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::Iov { iov, iovcnt }, Some(pos), Dir::Read)
}

/// `pwritev(fd, iov, iovcnt, pos)`.
pub fn sys_pwritev(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fd: i32,
    iov: u64,
    iovcnt: u64,
    pos: i64,
) -> KResult<u64> {
    transfer(mem, files, fd, UserBufs::Iov { iov, iovcnt }, Some(pos), Dir::Write)
}

/// `lseek(fd, offset, whence)`: the new position; `EINVAL` for `whence > SEEK_HOLE` or a
/// negative result, `ESPIPE` for pipes.
pub fn sys_lseek(files: &Mutex<FdTable>, fd: i32, offset: i64, whence: u32) -> KResult<u64> {
    let file = get_file(files, fd)?;
    if whence > SEEK_HOLE {
        return Err(Errno::EINVAL);
    }
    file.ops.seek(&file, offset, whence)
}

#[cfg(test)]
#[path = "fs_rw_tests.rs"]
mod tests;
