use super::*;
use crate::fs::file::O_APPEND;
use crate::syscall::fs_rw::sys_read;
use crate::syscall::fs_testutil::Env;
use alloc::string::String;

const O_RDONLY: u32 = 0;

#[test]
fn create_write_reopen_read() {
    let e = Env::new();
    let fd = e.open("/f", O_CREAT | O_RDWR).unwrap();
    assert_eq!(fd, 0);
    assert_eq!(e.write(fd, b"hello").unwrap(), 5);
    let fd2 = e.open("f", O_RDONLY).unwrap();
    assert_eq!(fd2, 1);
    assert_eq!(e.read(fd2, 100).unwrap(), b"hello");
    assert_eq!(e.read(fd2, 100).unwrap(), b"");
    // umask 022 applied to 0666.
    e.openat(AT_FDCWD, "/g", O_CREAT | O_WRONLY, 0o4777).unwrap();
    let m = e.vfs.resolve(&e.vfs.root(), b"/g", true).unwrap().inode.metadata();
    assert_eq!(m.mode, 0o104755);
    // The description's path and status flags.
    let f = e.files.lock().get(fd).unwrap();
    assert_eq!(f.path, "/f");
    assert_eq!(f.flags(), O_RDWR | O_LARGEFILE);
}

#[test]
fn open_errors() {
    let e = Env::new();
    e.put("/file", b"x");
    e.vfs.mkdir_all(b"/dir", 0o755).unwrap();
    e.vfs.root().inode.symlink(b"link", b"file").unwrap();
    e.vfs.root().inode.symlink(b"dlink", b"dir").unwrap();
    let long = String::from("/") + &"a".repeat(4095);
    for (path, flags, want) in [
        ("/nope", O_RDONLY, Errno::ENOENT),
        ("", O_RDONLY, Errno::ENOENT),
        ("/file", O_CREAT | O_EXCL | O_WRONLY, Errno::EEXIST),
        ("/link", O_CREAT | O_EXCL | O_WRONLY, Errno::EEXIST),
        ("/dir", O_CREAT | O_RDONLY, Errno::EISDIR),
        ("/dlink", O_CREAT | O_RDONLY, Errno::EISDIR),
        ("/new/", O_CREAT | O_WRONLY, Errno::EISDIR),
        ("/file/", O_CREAT | O_WRONLY, Errno::EISDIR),
        ("/.", O_CREAT | O_WRONLY, Errno::EISDIR),
        ("/", O_CREAT | O_WRONLY, Errno::EISDIR),
        ("/dir", O_WRONLY, Errno::EISDIR),
        ("/dir", O_RDWR, Errno::EISDIR),
        ("/dir", O_RDONLY | O_TRUNC, Errno::EISDIR),
        ("/file", O_DIRECTORY, Errno::ENOTDIR),
        ("/file/", O_RDONLY, Errno::ENOTDIR),
        ("/file/x", O_CREAT | O_WRONLY, Errno::ENOTDIR),
        ("/link", O_NOFOLLOW, Errno::ELOOP),
        ("/link", O_CREAT | O_NOFOLLOW | O_WRONLY, Errno::ELOOP),
        ("/x", O_CREAT | O_DIRECTORY, Errno::EINVAL),
        ("/x", O_TMPFILE_BIT | O_DIRECTORY | O_RDWR, Errno::EOPNOTSUPP),
        ("/nodir/x", O_CREAT | O_WRONLY, Errno::ENOENT),
        (&long, O_RDONLY, Errno::ENAMETOOLONG),
    ] {
        assert_eq!(e.open(path, flags), Err(want), "{path:?} {flags:o}");
    }
    assert!(e.files.lock().iter().next().is_none(), "no fd leaked");
    // Path faults.
    assert_eq!(sys_openat(&e.cx(), AT_FDCWD, 8, 0, 0), Err(Errno::EFAULT));
    // 4095 bytes + NUL is within PATH_MAX: the error is about the name, not the path.
    let ok_len = String::from("/") + &"a".repeat(4094);
    assert_eq!(e.open(&ok_len, O_RDONLY), Err(Errno::ENAMETOOLONG));
    let ok_len = "/a/".repeat(1365);
    assert_eq!(e.open(&ok_len, O_RDONLY), Err(Errno::ENOENT));
}

#[test]
fn creat_follows_symlinks_and_truncates() {
    let e = Env::new();
    e.put("/file", b"abcdef");
    e.vfs.root().inode.symlink(b"link", b"/file").unwrap();
    let fd = e.open("/link", O_CREAT | O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(e.vfs.resolve(&e.vfs.root(), b"/file", true).unwrap().inode.metadata().size, 0);
    e.write(fd, b"12").unwrap();
    // O_TRUNC even with O_RDONLY (Linux truncates whenever O_TRUNC is given).
    let fd = e.open("/file", O_RDONLY | O_TRUNC).unwrap();
    assert_eq!(e.read(fd, 10).unwrap(), b"");
    // Through a dangling symlink (relative, then absolute): the target is created.
    e.vfs.mkdir_all(b"/d", 0o755).unwrap();
    e.vfs.resolve(&e.vfs.root(), b"/d", true).unwrap().inode.symlink(b"dl", b"../made").unwrap();
    e.vfs.root().inode.symlink(b"dl2", b"/d/dl").unwrap();
    e.open("/dl2", O_CREAT | O_WRONLY).unwrap();
    assert!(e.vfs.resolve(&e.vfs.root(), b"/made", false).is_ok());
    e.vfs.root().inode.symlink(b"self", b"self").unwrap();
    assert_eq!(e.open("/self", O_CREAT | O_WRONLY), Err(Errno::ELOOP));
    assert_eq!(e.open("/d/dl", O_CREAT | O_EXCL | O_WRONLY), Err(Errno::EEXIST));
    let p = e.s("/c");
    let fd = sys_creat(&e.cx(), p, 0o600).unwrap() as i32;
    assert_eq!(e.files.lock().get(fd).unwrap().flags() & O_ACCMODE, O_WRONLY);
}

#[test]
fn dirfd_relative_and_o_path() {
    let e = Env::new();
    e.vfs.mkdir_all(b"/a/b", 0o755).unwrap();
    e.put("/a/b/f", b"in b");
    e.put("/top", b"top");
    let dfd = e.open("/a", O_RDONLY | O_DIRECTORY).unwrap();
    let fd = e.openat(dfd, "b/f", O_RDONLY, 0).unwrap();
    assert_eq!(e.read(fd, 10).unwrap(), b"in b");
    assert_eq!(e.files.lock().get(fd).unwrap().path, "/a/b/f");
    let fd = e.openat(dfd, "../top", O_RDONLY, 0).unwrap();
    assert_eq!(e.read(fd, 10).unwrap(), b"top");
    // Absolute paths ignore dirfd, even a bad one.
    assert!(e.openat(999, "/top", O_RDONLY, 0).is_ok());
    assert_eq!(e.openat(999, "top", O_RDONLY, 0), Err(Errno::EBADF));
    assert_eq!(e.openat(-5, "top", O_RDONLY, 0), Err(Errno::EBADF));
    let ffd = e.open("/top", O_RDONLY).unwrap();
    assert_eq!(e.openat(ffd, "x", O_RDONLY, 0), Err(Errno::ENOTDIR));
    // O_PATH: a handle for *at calls, no I/O.
    let pfd = e.open("/a", O_PATH | O_RDWR).unwrap();
    assert_eq!(e.files.lock().get(pfd).unwrap().flags(), O_PATH);
    let fd = e.openat(pfd, "b/f", O_RDONLY, 0).unwrap();
    assert_eq!(e.read(fd, 2).unwrap(), b"in");
    let pf = e.open("/top", O_PATH).unwrap();
    let buf = e.buf(8);
    assert_eq!(sys_read(&e.mem, &e.files, pf, buf, 8), Err(Errno::EBADF));
    e.vfs.root().inode.symlink(b"sl", b"top").unwrap();
    assert!(e.open("/sl", O_PATH | O_NOFOLLOW).is_ok());
}

#[test]
fn cloexec_append_close() {
    let e = Env::new();
    let fd = e.open("/f", O_CREAT | O_WRONLY | O_CLOEXEC | O_APPEND).unwrap();
    assert!(e.files.lock().cloexec(fd).unwrap());
    e.write(fd, b"ab").unwrap();
    let fd2 = e.open("/f", O_WRONLY).unwrap();
    assert!(!e.files.lock().cloexec(fd2).unwrap());
    e.write(fd2, b"X").unwrap();
    e.write(fd, b"cd").unwrap();
    let r = e.open("/f", O_RDONLY).unwrap();
    assert_eq!(e.read(r, 10).unwrap(), b"Xbcd");
    assert_eq!(sys_close(&e.files, fd), Ok(0));
    assert_eq!(sys_close(&e.files, fd), Err(Errno::EBADF));
    assert_eq!(sys_close(&e.files, -1), Err(Errno::EBADF));
}

#[test]
fn dev_nodes_open_through_the_mount() {
    let e = Env::new();
    let fd = e.open("/dev/null", O_RDWR).unwrap();
    assert_eq!(e.files.lock().get(fd).unwrap().path, "/dev/null");
    assert_eq!(e.write(fd, b"gone").unwrap(), 4);
    assert_eq!(e.read(fd, 10).unwrap(), b"");
    let c = e.open("/dev/console", O_WRONLY).unwrap();
    e.write(c, b"hi\n").unwrap();
    assert_eq!(&*e.console.0.lock(), b"hi\n");
}
