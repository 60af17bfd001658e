use super::*;
use crate::fs::stat::Statx;
use crate::syscall::fs_testutil::Env;
use crate::user::read_val;

fn newfstatat(e: &Env, dirfd: i32, path: &str, flags: u32) -> KResult<Stat> {
    let (p, b) = (e.s(path), e.buf(144));
    sys_newfstatat(&e.cx(), dirfd, p, b, flags)?;
    Ok(e.stat_of(b))
}

#[test]
fn stat_family() {
    let e = Env::new();
    e.put("/f", b"12345");
    e.vfs.root().inode.symlink(b"l", b"f").unwrap();
    let st = newfstatat(&e, AT_FDCWD, "/f", 0).unwrap();
    assert_eq!((st.st_mode, st.st_size, st.st_nlink, st.st_blksize), (0o100644, 5, 1, 4096));
    // Raw bytes at the x86_64 offsets.
    let (p, b) = (e.s("/f"), e.buf(144));
    sys_stat(&e.cx(), p, b).unwrap();
    let raw = e.bytes(b, 144);
    assert_eq!(u32::from_le_bytes(raw[24..28].try_into().unwrap()), 0o100644);
    assert_eq!(i64::from_le_bytes(raw[48..56].try_into().unwrap()), 5);
    assert_eq!(u64::from_le_bytes(raw[8..16].try_into().unwrap()), st.st_ino);
    let lst = newfstatat(&e, AT_FDCWD, "/l", AT_SYMLINK_NOFOLLOW).unwrap();
    assert_eq!((lst.st_mode, lst.st_size), (0o120777, 1));
    assert_eq!(newfstatat(&e, AT_FDCWD, "/l", 0).unwrap().st_ino, st.st_ino);
    let (p, b) = (e.s("/l"), e.buf(144));
    sys_lstat(&e.cx(), p, b).unwrap();
    assert_eq!(e.stat_of(b).st_mode, 0o120777);
    // fstat and AT_EMPTY_PATH.
    let fd = e.open("/f", 0).unwrap();
    let b = e.buf(144);
    sys_fstat(&e.mem, &e.files, fd, b).unwrap();
    assert_eq!(e.stat_of(b).st_ino, st.st_ino);
    assert_eq!(newfstatat(&e, fd, "", AT_EMPTY_PATH).unwrap().st_ino, st.st_ino);
    assert_eq!(newfstatat(&e, AT_FDCWD, "", AT_EMPTY_PATH).unwrap().st_mode, 0o040755);
    // Errors.
    assert_eq!(newfstatat(&e, fd, "", 0).err(), Some(Errno::ENOENT));
    assert_eq!(newfstatat(&e, AT_FDCWD, "/f", 0x1).err(), Some(Errno::EINVAL));
    assert_eq!(newfstatat(&e, AT_FDCWD, "/nope", 0).err(), Some(Errno::ENOENT));
    assert_eq!(newfstatat(&e, fd, "x", 0).err(), Some(Errno::ENOTDIR));
    assert_eq!(newfstatat(&e, 99, "", AT_EMPTY_PATH).err(), Some(Errno::EBADF));
    let p = e.s("/f");
    assert_eq!(sys_newfstatat(&e.cx(), AT_FDCWD, p, 0x8, 0), Err(Errno::EFAULT));
    assert_eq!(sys_fstat(&e.mem, &e.files, 99, b), Err(Errno::EBADF));
    // Device numbers through the /dev mount.
    let null = newfstatat(&e, AT_FDCWD, "/dev/null", 0).unwrap();
    assert_eq!((null.st_mode, null.st_rdev), (0o020666, 0x103));
    assert_ne!(null.st_dev, st.st_dev);
}

#[test]
fn statx_fields_and_flags() {
    let e = Env::new();
    e.put("/f", b"abc");
    let (p, b) = (e.s("/dev/console"), e.buf(256));
    sys_statx(&e.cx(), AT_FDCWD, p, 0, 0x7ff, b).unwrap();
    let x: Statx = read_val(&e.mem, b).unwrap();
    assert_eq!((x.stx_mode, x.stx_rdev_major, x.stx_rdev_minor, x.stx_mask & 0x7ff), (0o020600, 5, 1, 0x7ff));
    let dev_mnt = x.stx_mnt_id;
    let p = e.s("/f");
    sys_statx(&e.cx(), AT_FDCWD, p, 0x2000, 0, b).unwrap();
    let x: Statx = read_val(&e.mem, b).unwrap();
    assert_eq!((x.stx_size, x.stx_nlink, x.stx_mnt_id), (3, 1, crate::fs::vfs::ROOT_MOUNT_ID));
    assert_ne!(dev_mnt, x.stx_mnt_id);
    for (flags, mask) in [(0x6000, 0), (0x1, 0), (0, 0x8000_0000)] {
        assert_eq!(sys_statx(&e.cx(), AT_FDCWD, p, flags, mask, b), Err(Errno::EINVAL));
    }
    let fd = e.open("/f", 0).unwrap();
    let empty = e.s("");
    sys_statx(&e.cx(), fd, empty, AT_EMPTY_PATH, 0x7ff, b).unwrap();
    assert_eq!(read_val::<Statx>(&e.mem, b).unwrap().stx_size, 3);
    assert_eq!(sys_statx(&e.cx(), fd, empty, 0, 0x7ff, b), Err(Errno::ENOENT));
}

#[test]
fn readlink_cases() {
    let e = Env::new();
    e.put("/f", b"");
    e.vfs.root().inode.symlink(b"l", b"/some/target").unwrap();
    let rl = |path: &str, size: i32| {
        let (p, b) = (e.s(path), e.buf(64));
        sys_readlink(&e.cx(), p, b, size).map(|n| e.bytes(b, n as usize))
    };
    assert_eq!(rl("/l", 64).unwrap(), b"/some/target");
    assert_eq!(rl("/l", 5).unwrap(), b"/some");
    assert_eq!(rl("/l", 0), Err(Errno::EINVAL));
    assert_eq!(rl("/l", -1), Err(Errno::EINVAL));
    assert_eq!(rl("/f", 64), Err(Errno::EINVAL));
    assert_eq!(rl("/", 64), Err(Errno::EINVAL));
    assert_eq!(rl("", 64), Err(Errno::ENOENT));
    assert_eq!(rl("/nope", 64), Err(Errno::ENOENT));
    // An O_PATH|O_NOFOLLOW descriptor of the link, with an empty path.
    let fd = e.open("/l", 0o10000000 | 0o400000).unwrap();
    let (p, b) = (e.s(""), e.buf(64));
    assert_eq!(sys_readlinkat(&e.cx(), fd, p, b, 64), Ok(12));
    let p = e.s("/l");
    assert_eq!(sys_readlinkat(&e.cx(), AT_FDCWD, p, 0x8, 64), Err(Errno::EFAULT));
}

#[test]
fn access_checks() {
    let e = Env::new();
    e.put("/f", b"");
    e.openat(AT_FDCWD, "/x", 0o101, 0o744).unwrap();
    e.vfs.root().inode.symlink(b"dangling", b"nope").unwrap();
    let acc = |path: &str, mode: u32, flags: u32| {
        let p = e.s(path);
        sys_faccessat2(&e.cx(), AT_FDCWD, p, mode, flags)
    };
    assert_eq!(acc("/f", 0, 0), Ok(0));
    assert_eq!(acc("/f", 4 | 2, 0), Ok(0));
    assert_eq!(acc("/f", 1, 0), Err(Errno::EACCES));
    assert_eq!(acc("/x", 1, 0), Ok(0));
    assert_eq!(acc("/", 1, 0), Ok(0));
    assert_eq!(acc("/nope", 0, 0), Err(Errno::ENOENT));
    assert_eq!(acc("/f", 8, 0), Err(Errno::EINVAL));
    assert_eq!(acc("/f", 0, 0x4), Err(Errno::EINVAL));
    assert_eq!(acc("/dangling", 0, 0), Err(Errno::ENOENT));
    assert_eq!(acc("/dangling", 0, AT_SYMLINK_NOFOLLOW), Ok(0));
    let p = e.s("/f");
    assert_eq!(sys_access(&e.cx(), p, 1), Err(Errno::EACCES));
    assert_eq!(sys_faccessat(&e.cx(), AT_FDCWD, p, 4), Ok(0));
}
