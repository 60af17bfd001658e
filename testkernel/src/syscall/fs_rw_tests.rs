use super::*;
use crate::fs::generic::{SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_SET};
use crate::syscall::fs_open::sys_close;
use crate::syscall::fs_testutil::Env;
use alloc::vec::Vec;

const RDONLY: u32 = 0;
const WRONLY: u32 = 1;
const RDWR: u32 = 2;
const CREAT: u32 = 0o100;

fn iovecs(e: &Env, segs: &[(u64, u64)]) -> u64 {
    let mut v = Vec::new();
    for &(b, l) in segs {
        v.extend_from_slice(&b.to_le_bytes());
        v.extend_from_slice(&l.to_le_bytes());
    }
    e.data(&v)
}

#[test]
fn read_write_positions_and_pread() {
    let e = Env::new();
    let fd = e.open("/f", CREAT | RDWR).unwrap();
    e.write(fd, b"0123456789").unwrap();
    assert_eq!(sys_lseek(&e.files, fd, 2, SEEK_SET), Ok(2));
    assert_eq!(e.read(fd, 3).unwrap(), b"234");
    assert_eq!(sys_lseek(&e.files, fd, -1, SEEK_CUR), Ok(4));
    assert_eq!(sys_lseek(&e.files, fd, -2, SEEK_END), Ok(8));
    assert_eq!(e.read(fd, 10).unwrap(), b"89");
    assert_eq!(sys_lseek(&e.files, fd, 20, SEEK_SET), Ok(20));
    assert_eq!(e.read(fd, 10).unwrap(), b"");
    assert_eq!(sys_lseek(&e.files, fd, 3, SEEK_DATA), Ok(3));
    assert_eq!(sys_lseek(&e.files, fd, 3, SEEK_HOLE), Ok(10));
    assert_eq!(sys_lseek(&e.files, fd, 10, SEEK_DATA), Err(Errno::ENXIO));
    assert_eq!(sys_lseek(&e.files, fd, -1, SEEK_SET), Err(Errno::EINVAL));
    assert_eq!(sys_lseek(&e.files, fd, 0, 5), Err(Errno::EINVAL));
    assert_eq!(sys_lseek(&e.files, fd, i64::MAX, SEEK_END), Err(Errno::EINVAL));
    assert_eq!(sys_lseek(&e.files, 77, 0, SEEK_SET), Err(Errno::EBADF));
    // pread/pwrite leave the position alone.
    sys_lseek(&e.files, fd, 1, SEEK_SET).unwrap();
    let b = e.buf(4);
    assert_eq!(sys_pread64(&e.mem, &e.files, fd, b, 4, 6), Ok(4));
    assert_eq!(e.bytes(b, 4), b"6789");
    let w = e.data(b"AB");
    assert_eq!(sys_pwrite64(&e.mem, &e.files, fd, w, 2, 12), Ok(2));
    assert_eq!(sys_pread64(&e.mem, &e.files, fd, b, 4, 10), Ok(4));
    assert_eq!(e.bytes(b, 4), b"\0\0AB");
    assert_eq!(sys_pread64(&e.mem, &e.files, fd, b, 4, -1), Err(Errno::EINVAL));
    assert_eq!(e.read(fd, 2).unwrap(), b"12");
    // pwrite on an O_APPEND description appends (Linux's documented bug).
    let a = e.open("/f", WRONLY | crate::fs::file::O_APPEND).unwrap();
    assert_eq!(sys_pwrite64(&e.mem, &e.files, a, w, 2, 0), Ok(2));
    assert_eq!(sys_pread64(&e.mem, &e.files, fd, b, 4, 12), Ok(4));
    assert_eq!(e.bytes(b, 4), b"ABAB");
}

#[test]
fn access_mode_and_fault_errors() {
    let e = Env::new();
    e.put("/f", b"data");
    let r = e.open("/f", RDONLY).unwrap();
    let w = e.open("/f", WRONLY).unwrap();
    let b = e.buf(8);
    assert_eq!(sys_write(&e.mem, &e.files, r, b, 1), Err(Errno::EBADF));
    assert_eq!(sys_read(&e.mem, &e.files, w, b, 1), Err(Errno::EBADF));
    assert_eq!(sys_pwrite64(&e.mem, &e.files, r, b, 1, 0), Err(Errno::EBADF));
    assert_eq!(sys_pread64(&e.mem, &e.files, w, b, 1, 0), Err(Errno::EBADF));
    assert_eq!(sys_read(&e.mem, &e.files, 50, b, 1), Err(Errno::EBADF));
    assert_eq!(sys_read(&e.mem, &e.files, -1, b, 1), Err(Errno::EBADF));
    assert_eq!(sys_read(&e.mem, &e.files, r, 0x8, 4), Err(Errno::EFAULT));
    assert_eq!(sys_write(&e.mem, &e.files, w, 0x8, 4), Err(Errno::EFAULT));
    assert_eq!(sys_read(&e.mem, &e.files, r, b, 0), Ok(0));
    let d = e.open("/", RDONLY).unwrap();
    assert_eq!(sys_read(&e.mem, &e.files, d, b, 8), Err(Errno::EISDIR));
    assert_eq!(sys_pread64(&e.mem, &e.files, d, b, 8, 0), Err(Errno::EISDIR));
}

#[test]
fn large_transfers_span_chunks() {
    let e = Env::new();
    let fd = e.open("/big", CREAT | RDWR).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(e.write(fd, &data).unwrap(), 300_000);
    sys_lseek(&e.files, fd, 0, SEEK_SET).unwrap();
    assert_eq!(e.read(fd, 400_000).unwrap(), data);
    // A read whose buffer ends in unmapped memory: the bytes that fit, not EFAULT.
    sys_lseek(&e.files, fd, 0, SEEK_SET).unwrap();
    let end = crate::syscall::fs_testutil::BASE + (4 << 20);
    let at = end - 70_000;
    assert_eq!(sys_read(&e.mem, &e.files, fd, at, 200_000), Ok(70_000));
    assert_eq!(e.read(fd, 4).unwrap(), data[70_000..70_004], "position after the stored bytes");
    assert_eq!(sys_read(&e.mem, &e.files, fd, 0x8, 4), Err(Errno::EFAULT));
    assert_eq!(e.read(fd, 4).unwrap(), data[70_004..70_008], "a fault does not move the position");
    // A write whose buffer runs into unmapped memory writes the readable prefix.
    let w = e.open("/part", CREAT | RDWR).unwrap();
    assert_eq!(sys_write(&e.mem, &e.files, w, end - 100, 4096), Ok(100));
    // Kernel and non-canonical buffers are EFAULT even for a zero count (access_ok).
    assert_eq!(sys_read(&e.mem, &e.files, fd, 0xffff_8000_0000_0000, 0), Err(Errno::EFAULT));
    assert_eq!(sys_write(&e.mem, &e.files, w, 0xffff_ffff_8000_0000, 0), Err(Errno::EFAULT));
}

#[test]
fn vectored_io() {
    let e = Env::new();
    let fd = e.open("/v", CREAT | RDWR).unwrap();
    let (a, b) = (e.data(b"hello "), e.data(b"world"));
    let iov = iovecs(&e, &[(a, 6), (0, 0), (b, 5)]);
    assert_eq!(sys_writev(&e.mem, &e.files, fd, iov, 3), Ok(11));
    let (x, y) = (e.buf(4), e.buf(16));
    let iov = iovecs(&e, &[(x, 4), (y, 16)]);
    assert_eq!(sys_preadv(&e.mem, &e.files, fd, iov, 2, 0), Ok(11));
    assert_eq!(e.bytes(x, 4), b"hell");
    assert_eq!(e.bytes(y, 7), b"o world");
    sys_lseek(&e.files, fd, 6, SEEK_SET).unwrap();
    assert_eq!(sys_readv(&e.mem, &e.files, fd, iov, 2), Ok(5));
    assert_eq!(e.bytes(x, 4), b"worl");
    let iov2 = iovecs(&e, &[(a, 2)]);
    assert_eq!(sys_pwritev(&e.mem, &e.files, fd, iov2, 1, 0), Ok(2));
    assert_eq!(sys_readv(&e.mem, &e.files, fd, iov, 0), Ok(0));
    assert_eq!(sys_readv(&e.mem, &e.files, fd, iov, 1025), Err(Errno::EINVAL));
    let bad = iovecs(&e, &[(a, 1 << 63)]);
    assert_eq!(sys_writev(&e.mem, &e.files, fd, bad, 1), Err(Errno::EINVAL));
    assert_eq!(sys_writev(&e.mem, &e.files, fd, 0x8, 1), Err(Errno::EFAULT));
    let faulty = iovecs(&e, &[(0x8, 4)]);
    // At the end of the file nothing is copied, so a bad buffer is not noticed (as in Linux).
    assert_eq!(sys_readv(&e.mem, &e.files, fd, faulty, 1), Ok(0));
    sys_lseek(&e.files, fd, 0, SEEK_SET).unwrap();
    assert_eq!(sys_readv(&e.mem, &e.files, fd, faulty, 1), Err(Errno::EFAULT));
}

#[test]
fn devices() {
    let e = Env::new();
    let z = e.open("/dev/zero", RDWR).unwrap();
    let b = e.data(b"xxxx");
    assert_eq!(sys_read(&e.mem, &e.files, z, b, 4), Ok(4));
    assert_eq!(e.bytes(b, 4), [0; 4]);
    assert_eq!(sys_lseek(&e.files, z, 100, SEEK_SET), Ok(0));
    let f = e.open("/dev/full", RDWR).unwrap();
    assert_eq!(e.write(f, b"x"), Err(Errno::ENOSPC));
    assert_eq!(e.read(f, 3).unwrap(), [0; 3]);
    let r = e.open("/dev/urandom", RDONLY).unwrap();
    let (a, c) = (e.read(r, 64).unwrap(), e.read(r, 64).unwrap());
    assert_eq!(a.len(), 64);
    assert_ne!(a, c);
    assert_ne!(a, [0u8; 64]);
    let t = e.open("/dev/tty", RDWR).unwrap();
    assert_eq!(sys_lseek(&e.files, t, 0, SEEK_SET), Err(Errno::ESPIPE));
    assert_eq!(sys_pread64(&e.mem, &e.files, t, b, 1, 0), Err(Errno::ESPIPE));
    let iov = iovecs(&e, &[(e.data(b"a"), 1), (e.data(b"bc"), 2)]);
    assert_eq!(sys_writev(&e.mem, &e.files, t, iov, 2), Ok(3));
    assert_eq!(&*e.console.0.lock(), b"abc");
    e.tty.input(b"line\n");
    // A bad buffer does not consume terminal (or pipe) input.
    assert_eq!(sys_read(&e.mem, &e.files, t, 0x8, 64), Err(Errno::EFAULT));
    assert_eq!(e.read(t, 64).unwrap(), b"line\n");
    sys_close(&e.files, t).unwrap();
}

/// Errno order of the positional calls against Linux 6.1 (`ksys_pread64`/`ksys_pwrite64`,
/// `do_preadv`/`do_pwritev`, `vfs_read`/`vfs_write`, `vfs_readv` → `import_iovec` →
/// `do_iter_read`/`do_iter_write`, `rw_verify_area`): one row per combination.
#[test]
fn positional_errno_order() {
    let e = Env::new();
    e.put("/f", b"data");
    let r = e.open("/f", RDONLY).unwrap();
    let w = e.open("/f", WRONLY).unwrap();
    let p = e.open("/f", crate::fs::generic::O_PATH).unwrap();
    let d = e.open("/", RDONLY).unwrap();
    let t = e.open("/dev/tty", RDWR).unwrap();
    let fds = e.buf(8);
    crate::syscall::pipe::sys_pipe(&e.mem, &e.files, fds).unwrap();
    let pfd = e.bytes(fds, 8);
    let pr = i32::from_le_bytes([pfd[0], pfd[1], pfd[2], pfd[3]]);
    let pw = i32::from_le_bytes([pfd[4], pfd[5], pfd[6], pfd[7]]);
    let ev = i32::try_from(crate::syscall::eventfd::sys_eventfd(&e.files, 0).unwrap()).unwrap();
    let bad = 50;
    let b = e.buf(8);
    let kernel = 0xffff_8000_0000_0000u64;
    let near_max = i64::MAX - 2;
    let iov = iovecs(&e, &[(b, 8)]);
    let empty_iov = iovecs(&e, &[(b, 0)]);
    let kernel_iov = iovecs(&e, &[(kernel, 4)]);
    // A kernel buffer first, an over-long length second: lengths are checked before buffers.
    let kernel_then_long = iovecs(&e, &[(kernel, 4), (b, 1 << 63)]);
    let (m, f) = (&e.mem, &e.files);
    let pread = |fd, buf, count, pos| sys_pread64(m, f, fd, buf, count, pos);
    let pwrite = |fd, buf, count, pos| sys_pwrite64(m, f, fd, buf, count, pos);
    let preadv = |fd, iov, cnt, pos| sys_preadv(m, f, fd, iov, cnt, pos);
    let pwritev = |fd, iov, cnt, pos| sys_pwritev(m, f, fd, iov, cnt, pos);
    let rows: [(&str, KResult<u64>, KResult<u64>); 47] = [
        // pread64: EINVAL (pos) → EBADF (fd) → ESPIPE → EBADF (mode) → EFAULT → EINVAL (end).
        ("pread bad fd + negative pos", pread(bad, b, 1, -1), Err(Errno::EINVAL)),
        ("pread O_WRONLY + negative pos", pread(w, b, 1, -1), Err(Errno::EINVAL)),
        ("pread pipe + negative pos", pread(pr, b, 1, -1), Err(Errno::EINVAL)),
        ("pread bad fd", pread(bad, b, 1, 0), Err(Errno::EBADF)),
        ("pread -1 fd", pread(-1, b, 1, 0), Err(Errno::EBADF)),
        ("pread O_PATH", pread(p, b, 1, 0), Err(Errno::EBADF)),
        ("pread pipe write end", pread(pw, b, 1, 0), Err(Errno::ESPIPE)),
        ("pread pipe read end", pread(pr, b, 1, 0), Err(Errno::ESPIPE)),
        ("pread pipe + kernel buffer", pread(pr, kernel, 1, 0), Err(Errno::ESPIPE)),
        ("pread eventfd", pread(ev, b, 8, 0), Err(Errno::ESPIPE)),
        ("pread tty", pread(t, b, 1, 0), Err(Errno::ESPIPE)),
        ("pread O_WRONLY", pread(w, b, 1, 0), Err(Errno::EBADF)),
        ("pread O_WRONLY + kernel buffer", pread(w, kernel, 1, 0), Err(Errno::EBADF)),
        ("pread kernel buffer", pread(r, kernel, 1, 0), Err(Errno::EFAULT)),
        ("pread kernel buffer + end overflow", pread(r, kernel, 8, near_max), Err(Errno::EFAULT)),
        ("pread pos + count > i64::MAX", pread(r, b, 8, near_max), Err(Errno::EINVAL)),
        ("pread pos + count == i64::MAX", pread(r, b, 2, near_max), Ok(0)),
        ("pread directory", pread(d, b, 8, 0), Err(Errno::EISDIR)),
        ("pread ok", pread(r, b, 8, 1), Ok(3)),
        // pwrite64, the same order.
        ("pwrite bad fd + negative pos", pwrite(bad, b, 1, -1), Err(Errno::EINVAL)),
        ("pwrite bad fd", pwrite(bad, b, 1, 0), Err(Errno::EBADF)),
        ("pwrite pipe read end", pwrite(pr, b, 1, 0), Err(Errno::ESPIPE)),
        ("pwrite pipe write end", pwrite(pw, b, 1, 0), Err(Errno::ESPIPE)),
        ("pwrite tty", pwrite(t, b, 1, 0), Err(Errno::ESPIPE)),
        ("pwrite O_RDONLY", pwrite(r, b, 1, 0), Err(Errno::EBADF)),
        ("pwrite O_RDONLY + kernel buffer", pwrite(r, kernel, 1, 0), Err(Errno::EBADF)),
        ("pwrite kernel buffer", pwrite(w, kernel, 1, 0), Err(Errno::EFAULT)),
        ("pwrite pos + count > i64::MAX", pwrite(w, b, 8, near_max), Err(Errno::EINVAL)),
        // preadv: EINVAL (pos) → EBADF (fd) → ESPIPE → import_iovec → EBADF (mode) → 0 → EINVAL.
        ("preadv bad fd + negative pos", preadv(bad, iov, 1, -1), Err(Errno::EINVAL)),
        ("preadv bad fd + bad iovcnt", preadv(bad, iov, 1025, 0), Err(Errno::EBADF)),
        ("preadv pipe + bad iovcnt", preadv(pw, iov, 1025, 0), Err(Errno::ESPIPE)),
        ("preadv pipe + unreadable iovec", preadv(pr, 0x8, 1, 0), Err(Errno::ESPIPE)),
        ("preadv O_WRONLY + bad iovcnt", preadv(w, iov, 1025, 0), Err(Errno::EINVAL)),
        ("preadv O_WRONLY + unreadable iovec", preadv(w, 0x8, 1, 0), Err(Errno::EFAULT)),
        ("preadv O_WRONLY + kernel buffer", preadv(w, kernel_iov, 1, 0), Err(Errno::EFAULT)),
        ("preadv lengths before buffers", preadv(w, kernel_then_long, 2, 0), Err(Errno::EINVAL)),
        ("preadv O_WRONLY", preadv(w, iov, 1, 0), Err(Errno::EBADF)),
        ("preadv O_WRONLY + no segments", preadv(w, iov, 0, 0), Err(Errno::EBADF)),
        ("preadv empty transfer skips the end check", preadv(r, empty_iov, 1, i64::MAX), Ok(0)),
        ("preadv empty transfer on a directory", preadv(d, empty_iov, 1, 0), Ok(0)),
        ("preadv pos + total > i64::MAX", preadv(r, iov, 1, near_max), Err(Errno::EINVAL)),
        ("preadv ok", preadv(r, iov, 1, 2), Ok(2)),
        // pwritev, the same order.
        ("pwritev bad fd + negative pos", pwritev(bad, iov, 1, -1), Err(Errno::EINVAL)),
        ("pwritev pipe + bad iovcnt", pwritev(pr, iov, 1025, 0), Err(Errno::ESPIPE)),
        ("pwritev O_RDONLY + kernel buffer", pwritev(r, kernel_iov, 1, 0), Err(Errno::EFAULT)),
        ("pwritev O_RDONLY", pwritev(r, iov, 1, 0), Err(Errno::EBADF)),
        ("pwritev pos + total > i64::MAX", pwritev(w, iov, 1, near_max), Err(Errno::EINVAL)),
    ];
    for (name, got, want) in rows {
        assert_eq!(got, want, "{name}");
    }
    // Nothing above wrote: the file is unchanged. The failed calls left the access time alone.
    let atime = |e: &Env| e.vfs.resolve(&e.vfs.root(), b"/f", true).unwrap().inode.metadata().atime;
    let stamp = crate::fs::inode::Timespec { sec: 5, nsec: 0 };
    crate::fs::tmpfs::as_tmp(&*e.vfs.resolve(&e.vfs.root(), b"/f", true).unwrap().inode)
        .unwrap()
        .set_times(stamp, stamp);
    assert_eq!(pwrite(r, b, 1, 0), Err(Errno::EBADF));
    assert_eq!(pread(w, b, 1, 0), Err(Errno::EBADF));
    assert_eq!(pwritev(w, iov, 1, near_max), Err(Errno::EINVAL));
    assert_eq!(atime(&e), stamp);
    assert_eq!(e.read(r, 8).unwrap(), b"data");
}

/// `readv`/`writev` read the iovec array before checking the access mode (`vfs_readv`),
/// and an empty transfer is 0 without asking the file (a `read` of 0 bytes still does).
#[test]
fn vectored_errno_order() {
    let e = Env::new();
    e.put("/f", b"data");
    let r = e.open("/f", RDONLY).unwrap();
    let w = e.open("/f", WRONLY).unwrap();
    let d = e.open("/", RDONLY).unwrap();
    let b = e.buf(8);
    let iov = iovecs(&e, &[(b, 8)]);
    let kernel_iov = iovecs(&e, &[(0xffff_8000_0000_0000, 1)]);
    let (m, f) = (&e.mem, &e.files);
    assert_eq!(sys_readv(m, f, 50, iov, 1025), Err(Errno::EBADF));
    assert_eq!(sys_readv(m, f, w, iov, 1025), Err(Errno::EINVAL));
    assert_eq!(sys_readv(m, f, w, 0x8, 1), Err(Errno::EFAULT));
    assert_eq!(sys_readv(m, f, w, kernel_iov, 1), Err(Errno::EFAULT));
    assert_eq!(sys_readv(m, f, w, iov, 1), Err(Errno::EBADF));
    assert_eq!(sys_writev(m, f, r, iov, 1025), Err(Errno::EINVAL));
    assert_eq!(sys_writev(m, f, r, iov, 1), Err(Errno::EBADF));
    assert_eq!(sys_readv(m, f, d, iov, 0), Ok(0));
    assert_eq!(sys_read(m, f, d, b, 0), Err(Errno::EISDIR));
    assert_eq!(sys_read(m, f, w, 0xffff_8000_0000_0000, 1), Err(Errno::EBADF));
    assert_eq!(sys_read(m, f, r, b, 1 << 47), Err(Errno::EFAULT), "access_ok on the uncapped count");
}
