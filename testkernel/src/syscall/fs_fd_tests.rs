use super::*;
use crate::fs::devfs::{Termios, Winsize};
use crate::fs::file::O_APPEND;
use crate::syscall::fs_testutil::Env;

#[test]
fn dup_family() {
    let e = Env::new();
    e.put("/f", b"abcdef");
    let fd = e.open("/f", 0).unwrap();
    assert_eq!(fd, 0);
    assert_eq!(sys_dup(&e.files, fd), Ok(1));
    assert_eq!(e.read(1, 2).unwrap(), b"ab");
    assert_eq!(e.read(0, 2).unwrap(), b"cd", "shared position");
    assert_eq!(sys_dup(&e.files, 9), Err(Errno::EBADF));
    assert_eq!(sys_dup2(&e.files, fd, 5), Ok(5));
    assert_eq!(sys_dup2(&e.files, 5, 5), Ok(5));
    assert_eq!(sys_dup2(&e.files, 7, 7), Err(Errno::EBADF));
    assert_eq!(sys_dup2(&e.files, 7, 8), Err(Errno::EBADF));
    assert_eq!(sys_dup2(&e.files, fd, -1), Err(Errno::EBADF));
    assert_eq!(sys_dup2(&e.files, fd, 1 << 20), Err(Errno::EBADF));
    assert_eq!(sys_dup3(&e.files, fd, 6, O_CLOEXEC), Ok(6));
    assert!(e.files.lock().cloexec(6).unwrap());
    assert_eq!(sys_dup3(&e.files, fd, fd, 0), Err(Errno::EINVAL));
    assert_eq!(sys_dup3(&e.files, fd, 7, 1), Err(Errno::EINVAL));
    // dup2 over an open fd replaces it (and clears close-on-exec).
    assert_eq!(sys_dup2(&e.files, 1, 6), Ok(6));
    assert!(!e.files.lock().cloexec(6).unwrap());
}

#[test]
fn fcntl_commands() {
    let e = Env::new();
    let fd = e.open("/f", O_CREAT | 2).unwrap();
    assert_eq!(sys_fcntl(&e.files, fd, F_DUPFD, 10), Ok(10));
    assert_eq!(sys_fcntl(&e.files, fd, F_DUPFD, 10), Ok(11));
    assert_eq!(sys_fcntl(&e.files, fd, F_DUPFD_CLOEXEC, 3), Ok(3));
    assert_eq!(sys_fcntl(&e.files, 3, F_GETFD, 0), Ok(FD_CLOEXEC));
    assert_eq!(sys_fcntl(&e.files, fd, F_DUPFD, 1024), Err(Errno::EINVAL));
    assert_eq!(sys_fcntl(&e.files, fd, F_DUPFD, u64::MAX), Err(Errno::EINVAL));
    assert_eq!(sys_fcntl(&e.files, fd, F_GETFD, 0), Ok(0));
    assert_eq!(sys_fcntl(&e.files, fd, F_SETFD, 1), Ok(0));
    assert_eq!(sys_fcntl(&e.files, fd, F_GETFD, 0), Ok(1));
    assert_eq!(sys_fcntl(&e.files, fd, F_GETFL, 0), Ok(u64::from(2 | O_LARGEFILE)));
    // F_SETFL changes only O_APPEND/O_NONBLOCK/...: not the access mode.
    assert_eq!(sys_fcntl(&e.files, fd, F_SETFL, u64::from(O_APPEND | O_NONBLOCK | 1)), Ok(0));
    assert_eq!(sys_fcntl(&e.files, fd, F_GETFL, 0), Ok(u64::from(2 | O_LARGEFILE | O_APPEND | O_NONBLOCK)));
    assert_eq!(sys_fcntl(&e.files, fd, 5, 0), Err(Errno::EINVAL));
    assert_eq!(sys_fcntl(&e.files, fd, 1033, 0), Err(Errno::EINVAL));
    assert_eq!(sys_fcntl(&e.files, 99, F_GETFD, 0), Err(Errno::EBADF));
    let (r, _w) = crate::fs::pipe::new_pipe(0);
    let pfd = e.files.lock().install(r, false).unwrap();
    assert_eq!(sys_fcntl(&e.files, pfd, F_GETPIPE_SZ, 0), Ok(65536));
    assert_eq!(sys_fcntl(&e.files, pfd, F_SETPIPE_SZ, 5000), Ok(8192));
    assert_eq!(sys_fcntl(&e.files, fd, F_GETPIPE_SZ, 0), Err(Errno::EBADF));
    let p = e.open("/f", 0o10000000).unwrap();
    assert_eq!(sys_fcntl(&e.files, p, F_SETFL, 0), Err(Errno::EBADF));
    assert!(sys_fcntl(&e.files, p, F_DUPFD, 0).is_ok());
}

#[test]
fn generic_ioctls_and_the_terminal() {
    let e = Env::new();
    e.put("/f", b"12345");
    let fd = e.open("/f", 0).unwrap();
    let arg = e.buf(64);
    assert_eq!(sys_ioctl(&e.mem, &e.files, fd, 0x5451, 0), Ok(0));
    assert!(e.files.lock().cloexec(fd).unwrap());
    assert_eq!(sys_ioctl(&e.mem, &e.files, fd, 0x5450, 0), Ok(0));
    assert!(!e.files.lock().cloexec(fd).unwrap());
    e.mem.write(arg, &1i32.to_le_bytes()).unwrap();
    assert_eq!(sys_ioctl(&e.mem, &e.files, fd, 0x5421, arg), Ok(0));
    assert!(e.files.lock().get(fd).unwrap().nonblocking());
    assert_eq!(sys_ioctl(&e.mem, &e.files, fd, 0x5421, 0x8), Err(Errno::EFAULT));
    e.read(fd, 2).unwrap();
    assert_eq!(sys_ioctl(&e.mem, &e.files, fd, 0x541b, arg), Ok(0));
    assert_eq!(e.bytes(arg, 4), 3i32.to_le_bytes());
    // A regular file is not a terminal: isatty() fails with ENOTTY.
    assert_eq!(sys_ioctl(&e.mem, &e.files, fd, 0x5401, arg), Err(Errno::ENOTTY));
    assert_eq!(sys_ioctl(&e.mem, &e.files, 42, 0x5401, arg), Err(Errno::EBADF));
    let tty = e.open("/dev/console", 2).unwrap();
    assert_eq!(sys_ioctl(&e.mem, &e.files, tty, 0x5401, arg), Ok(0));
    let t: Termios = crate::user::read_val(&e.mem, arg).unwrap();
    assert_eq!(t, Termios::STD);
    assert_eq!(sys_ioctl(&e.mem, &e.files, tty, 0x5413, arg), Ok(0));
    let w: Winsize = crate::user::read_val(&e.mem, arg).unwrap();
    assert_eq!((w.ws_row, w.ws_col), (24, 80));
    assert_eq!(sys_ioctl(&e.mem, &e.files, tty, 0x5401, 0x8), Err(Errno::EFAULT));
    assert_eq!(sys_ioctl(&e.mem, &e.files, tty, 0x1234, arg), Err(Errno::ENOTTY));
    let null = e.open("/dev/null", 2).unwrap();
    assert_eq!(sys_ioctl(&e.mem, &e.files, null, 0x5413, arg), Err(Errno::ENOTTY));
}

#[test]
fn umask_truncate_chmod() {
    let e = Env::new();
    assert_eq!(sys_umask(&e.fs, 0o7077), Ok(0o022));
    assert_eq!(sys_umask(&e.fs, 0o022), Ok(0o077));
    e.put("/f", b"abcdef");
    let p = e.s("/f");
    assert_eq!(sys_truncate(&e.cx(), p, 2), Ok(0));
    let size = |e: &Env| e.vfs.resolve(&e.vfs.root(), b"/f", true).unwrap().inode.metadata().size;
    assert_eq!(size(&e), 2);
    assert_eq!(sys_truncate(&e.cx(), p, -1), Err(Errno::EINVAL));
    let d = e.s("/dev");
    assert_eq!(sys_truncate(&e.cx(), d, 0), Err(Errno::EISDIR));
    let n = e.s("/dev/null");
    assert_eq!(sys_truncate(&e.cx(), n, 0), Err(Errno::EINVAL));
    let w = e.open("/f", 1).unwrap();
    let r = e.open("/f", 0).unwrap();
    assert_eq!(sys_ftruncate(&e.files, w, 100), Ok(0));
    assert_eq!(size(&e), 100);
    assert_eq!(sys_ftruncate(&e.files, r, 0), Err(Errno::EINVAL));
    assert_eq!(sys_ftruncate(&e.files, w, -5), Err(Errno::EINVAL));
    assert_eq!(sys_ftruncate(&e.files, 99, 0), Err(Errno::EBADF));
    assert_eq!(sys_chmod(&e.cx(), p, 0o100755), Ok(0));
    assert_eq!(e.vfs.resolve(&e.vfs.root(), b"/f", true).unwrap().inode.metadata().mode, 0o100755);
    assert_eq!(sys_fchmod(&e.files, r, 0o600), Ok(0));
    assert_eq!(e.vfs.resolve(&e.vfs.root(), b"/f", true).unwrap().inode.metadata().mode, 0o100600);
    let nope = e.s("/nope");
    assert_eq!(sys_chmod(&e.cx(), nope, 0o600), Err(Errno::ENOENT));
}
