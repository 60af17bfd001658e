use super::*;
use crate::syscall::fs_testutil::Env;
use alloc::string::String;
use alloc::vec::Vec;

fn mkdir(e: &Env, path: &str, mode: u32) -> KResult<u64> {
    let p = e.s(path);
    sys_mkdir(&e.cx(), p, mode)
}
fn unlinkat(e: &Env, dirfd: i32, path: &str, flags: u32) -> KResult<u64> {
    let p = e.s(path);
    sys_unlinkat(&e.cx(), dirfd, p, flags)
}
fn rename(e: &Env, a: &str, b: &str, flags: u32) -> KResult<u64> {
    let (a, b) = (e.s(a), e.s(b));
    sys_renameat2(&e.cx(), AT_FDCWD, a, AT_FDCWD, b, flags)
}
fn exists(e: &Env, path: &str) -> bool {
    e.vfs.resolve(&e.vfs.root(), path.as_bytes(), false).is_ok()
}
fn mode_of(e: &Env, path: &str) -> u32 {
    e.vfs.resolve(&e.vfs.root(), path.as_bytes(), false).unwrap().inode.metadata().mode
}

/// Parses `linux_dirent64` records: (ino, off, type, name).
fn parse(buf: &[u8]) -> Vec<(u64, i64, u8, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let ino = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
        let off = i64::from_le_bytes(buf[at + 8..at + 16].try_into().unwrap());
        let reclen = u16::from_le_bytes(buf[at + 16..at + 18].try_into().unwrap()) as usize;
        assert_eq!(reclen % 8, 0);
        let name = &buf[at + 19..at + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap()];
        out.push((ino, off, buf[at + 18], String::from_utf8(name.to_vec()).unwrap()));
        at += reclen;
    }
    out
}

fn getdents(e: &Env, fd: i32, size: u32) -> KResult<Vec<(u64, i64, u8, String)>> {
    let b = e.buf(size as usize);
    let n = sys_getdents64(&e.mem, &e.files, fd, b, size)?;
    Ok(parse(&e.bytes(b, n as usize)))
}

#[test]
fn mkdir_rmdir_unlink() {
    let e = Env::new();
    assert_eq!(mkdir(&e, "/d", 0o7777), Ok(0));
    assert_eq!(mode_of(&e, "/d"), 0o041755);
    assert_eq!(mkdir(&e, "/d/sub/", 0o755), Ok(0));
    e.put("/d/f", b"");
    for (p, err) in [("/d", Errno::EEXIST), ("/d/f", Errno::EEXIST), ("/d/.", Errno::EEXIST), ("/", Errno::EEXIST)] {
        assert_eq!(mkdir(&e, p, 0o755), Err(err), "{p}");
    }
    assert_eq!(mkdir(&e, "/no/x", 0o755), Err(Errno::ENOENT));
    assert_eq!(mkdir(&e, "/d/f/x", 0o755), Err(Errno::ENOTDIR));
    for (p, flags, err) in [
        ("/d", AT_REMOVEDIR, Errno::ENOTEMPTY),
        ("/d/.", AT_REMOVEDIR, Errno::EINVAL),
        ("/d/sub/..", AT_REMOVEDIR, Errno::ENOTEMPTY),
        ("/", AT_REMOVEDIR, Errno::EBUSY),
        ("/dev", AT_REMOVEDIR, Errno::EBUSY),
        ("/d/f", AT_REMOVEDIR, Errno::ENOTDIR),
        ("/d", 0, Errno::EISDIR),
        ("/d/.", 0, Errno::EISDIR),
        ("/d/f/", 0, Errno::ENOTDIR),
        ("/d/nope", 0, Errno::ENOENT),
        ("/d/f", 0x100, Errno::EINVAL),
        ("", 0, Errno::ENOENT),
    ] {
        assert_eq!(unlinkat(&e, AT_FDCWD, p, flags), Err(err), "{p} {flags:x}");
    }
    let dfd = e.open("/d", 0).unwrap();
    assert_eq!(unlinkat(&e, dfd, "f", 0), Ok(0));
    assert_eq!(unlinkat(&e, dfd, "sub", AT_REMOVEDIR), Ok(0));
    let p = e.s("/d");
    assert_eq!(sys_rmdir(&e.cx(), p), Ok(0));
    assert!(!exists(&e, "/d"));
    e.put("/g", b"");
    let p = e.s("/g");
    assert_eq!(sys_unlink(&e.cx(), p), Ok(0));
    assert!(!exists(&e, "/g"));
}

#[test]
fn mknod_symlink_link() {
    let e = Env::new();
    let p = e.s("/fifo");
    assert_eq!(sys_mknod(&e.cx(), p, 0o010666, 0), Ok(0));
    assert_eq!(mode_of(&e, "/fifo"), 0o010644);
    let p = e.s("/mynull");
    assert_eq!(sys_mknodat(&e.cx(), AT_FDCWD, p, 0o020666, 0x103), Ok(0));
    assert_eq!(e.vfs.resolve(&e.vfs.root(), b"/mynull", true).unwrap().inode.metadata().rdev, 0x103);
    assert_eq!(sys_mknodat(&e.cx(), AT_FDCWD, p, 0o020666, 0), Err(Errno::EEXIST));
    let p = e.s("/x");
    assert_eq!(sys_mknod(&e.cx(), p, 0o040755, 0), Err(Errno::EPERM));
    assert_eq!(sys_mknod(&e.cx(), p, 0o070755, 0), Err(Errno::EINVAL));
    assert_eq!(sys_mknod(&e.cx(), p, 0o644, 0), Ok(0));
    assert_eq!(mode_of(&e, "/x"), 0o100644);

    let sym = |t: &str, l: &str| {
        let (t, l) = (e.s(t), e.s(l));
        sys_symlink(&e.cx(), t, l)
    };
    assert_eq!(sym("x", "/s"), Ok(0));
    assert_eq!(mode_of(&e, "/s"), 0o120777);
    assert_eq!(sym("x", "/s"), Err(Errno::EEXIST));
    assert_eq!(sym("", "/s2"), Err(Errno::ENOENT));
    assert_eq!(sym("x", "/s2/"), Err(Errno::ENOENT));
    assert_eq!(sym("x", "/."), Err(Errno::EEXIST));

    let link = |a: &str, b: &str, flags: u32| {
        let (a, b) = (e.s(a), e.s(b));
        sys_linkat(&e.cx(), AT_FDCWD, a, AT_FDCWD, b, flags)
    };
    assert_eq!(link("/x", "/x2", 0), Ok(0));
    assert_eq!(e.vfs.resolve(&e.vfs.root(), b"/x", true).unwrap().inode.metadata().nlink, 2);
    assert_eq!(link("/s", "/s_nofollow", 0), Ok(0));
    assert_eq!(mode_of(&e, "/s_nofollow"), 0o120777);
    assert_eq!(link("/s", "/s_follow", AT_SYMLINK_FOLLOW), Ok(0));
    assert_eq!(mode_of(&e, "/s_follow"), 0o100644);
    assert_eq!(link("/x", "/x2", 0), Err(Errno::EEXIST));
    assert_eq!(link("/dev", "/d2", 0), Err(Errno::EPERM));
    assert_eq!(link("/x", "/dev/x", 0), Err(Errno::EXDEV));
    assert_eq!(link("/nope", "/y", 0), Err(Errno::ENOENT));
    assert_eq!(link("/x", "/y", 0x1), Err(Errno::EINVAL));
    let fd = e.open("/x", 0).unwrap();
    let (a, b) = (e.s(""), e.s("/via_fd"));
    assert_eq!(sys_linkat(&e.cx(), fd, a, AT_FDCWD, b, AT_EMPTY_PATH), Ok(0));
    assert_eq!(sys_linkat(&e.cx(), fd, a, AT_FDCWD, b, 0), Err(Errno::ENOENT));
}

#[test]
fn rename_rules() {
    let e = Env::new();
    e.vfs.mkdir_all(b"/a/sub", 0o755).unwrap();
    e.vfs.mkdir_all(b"/b", 0o755).unwrap();
    e.vfs.mkdir_all(b"/empty", 0o755).unwrap();
    e.put("/a/f", b"F");
    e.put("/g", b"G");
    for (a, b, flags, err) in [
        ("/a", "/a/sub/x", 0, Errno::EINVAL),
        ("/a/.", "/q", 0, Errno::EBUSY),
        ("/g", "/a/..", 0, Errno::EBUSY),
        ("/empty", "/a", 0, Errno::ENOTEMPTY),
        ("/a/sub", "/a/f", 0, Errno::ENOTDIR),
        ("/g", "/b", 0, Errno::EISDIR),
        ("/g", "/a/f", RENAME_NOREPLACE, Errno::EEXIST),
        ("/g", "/h", 2, Errno::EINVAL),
        ("/g/", "/h", 0, Errno::ENOTDIR),
        ("/g", "/h/", 0, Errno::ENOTDIR),
        ("/g", "/dev/g", 0, Errno::EXDEV),
        ("/dev", "/dev2", 0, Errno::EBUSY),
        ("/nope", "/h", 0, Errno::ENOENT),
        ("/a/sub/x", "/a", 0, Errno::ENOENT),
    ] {
        assert_eq!(rename(&e, a, b, flags), Err(err), "{a} -> {b}");
    }
    assert_eq!(rename(&e, "/g", "/a/f", 0), Ok(0));
    assert!(!exists(&e, "/g"));
    let fd = e.open("/a/f", 0).unwrap();
    assert_eq!(e.read(fd, 4).unwrap(), b"G");
    assert_eq!(rename(&e, "/a", "/b/a2/", 0), Ok(0));
    assert!(exists(&e, "/b/a2/sub") && !exists(&e, "/a"));
    assert_eq!(rename(&e, "/empty", "/b/a2/sub", 0), Ok(0));
    assert_eq!(rename(&e, "/b/a2/f", "/b/a2/f", 0), Ok(0));
    let (a, b) = (e.s("/b"), e.s("/c"));
    assert_eq!(sys_rename(&e.cx(), a, b), Ok(0));
    let (a, b) = (e.s("a2"), e.s("a3"));
    let dfd = e.open("/c", 0).unwrap();
    assert_eq!(sys_renameat(&e.cx(), dfd, a, dfd, b), Ok(0));
    assert!(exists(&e, "/c/a3/sub"));
}

#[test]
fn cwd_chdir_fchdir_getcwd() {
    let e = Env::new();
    e.vfs.mkdir_all(b"/a/b", 0o755).unwrap();
    e.put("/a/f", b"");
    e.vfs.root().inode.symlink(b"lnk", b"a/b").unwrap();
    let cd = |p: &str| {
        let p = e.s(p);
        sys_chdir(&e.cx(), p)
    };
    assert_eq!(cd("/lnk"), Ok(0));
    assert_eq!(e.cwd(), "/a/b");
    assert_eq!(cd(".."), Ok(0));
    assert_eq!(e.cwd(), "/a");
    assert_eq!(cd("f"), Err(Errno::ENOTDIR));
    assert_eq!(cd("nope"), Err(Errno::ENOENT));
    assert_eq!(cd(""), Err(Errno::ENOENT));
    let b = e.buf(64);
    assert_eq!(sys_getcwd(&e.mem, &e.fs, b, 64), Ok(3));
    assert_eq!(e.bytes(b, 3), b"/a\0");
    assert_eq!(sys_getcwd(&e.mem, &e.fs, b, 2), Err(Errno::ERANGE));
    assert_eq!(sys_getcwd(&e.mem, &e.fs, b, 3), Ok(3));
    assert_eq!(sys_getcwd(&e.mem, &e.fs, 0x8, 64), Err(Errno::EFAULT));
    // A relative open follows the cwd.
    assert!(e.open("f", 0).is_ok());
    let fd = e.open("/dev", 0).unwrap();
    assert_eq!(sys_fchdir(&e.files, &e.fs, fd), Ok(0));
    assert_eq!(e.cwd(), "/dev");
    assert!(e.open("null", 0).is_ok());
    assert_eq!(cd(".."), Ok(0));
    assert_eq!(e.cwd(), "/");
    let f = e.open("/a/f", 0).unwrap();
    assert_eq!(sys_fchdir(&e.files, &e.fs, f), Err(Errno::ENOTDIR));
    assert_eq!(sys_fchdir(&e.files, &e.fs, 55), Err(Errno::EBADF));
}

#[test]
fn getdents_lists_dot_dotdot_and_survives_removal() {
    let e = Env::new();
    e.vfs.mkdir_all(b"/d/sub", 0o755).unwrap();
    for i in 0..40 {
        e.put(&format!("/d/file{i:02}"), b"");
    }
    let d_ino = e.vfs.resolve(&e.vfs.root(), b"/d", true).unwrap().inode.metadata().ino;
    let root_ino = e.vfs.root().inode.metadata().ino;
    let fd = e.open("/d", 0o200000).unwrap();
    let first = getdents(&e, fd, 256).unwrap();
    assert!(first.len() >= 3);
    assert_eq!((first[0].0, first[0].2, first[0].3.as_str()), (d_ino, 4, "."));
    assert_eq!((first[1].0, first[1].2, first[1].3.as_str()), (root_ino, 4, ".."));
    // Remove what was listed, then continue: nothing is skipped.
    let mut seen: Vec<String> = first.iter().map(|r| r.3.clone()).collect();
    for r in &first[2..] {
        let flags = if r.2 == 4 { AT_REMOVEDIR } else { 0 };
        unlinkat(&e, fd, &r.3, flags).unwrap();
    }
    loop {
        let more = getdents(&e, fd, 256).unwrap();
        if more.is_empty() {
            break;
        }
        for r in &more {
            let flags = if r.2 == 4 { AT_REMOVEDIR } else { 0 };
            unlinkat(&e, fd, &r.3, flags).unwrap();
            seen.push(r.3.clone());
        }
    }
    assert_eq!(seen.len(), 43);
    assert_eq!(e.vfs.resolve(&e.vfs.root(), b"/d", true).unwrap().inode.readdir().unwrap().len(), 0);
    // Rewind (lseek 0) lists again; d_off resumes after an entry.
    let (p, _) = (e.s("/"), ());
    let _ = p;
    let rfd = e.open("/dev", 0).unwrap();
    let all = getdents(&e, rfd, 4096).unwrap();
    assert!(all.iter().any(|r| r.3 == "null" && r.2 == 2));
    assert!(all.iter().any(|r| r.3 == "fd" && r.2 == 10));
    crate::syscall::fs_rw::sys_lseek(&e.files, rfd, all[3].1, 0).unwrap();
    let rest = getdents(&e, rfd, 4096).unwrap();
    assert_eq!(rest, all[4..].to_vec());
    assert_eq!(getdents(&e, rfd, 4096).unwrap(), vec![]);
    // Errors.
    assert_eq!(getdents(&e, rfd, 8), Ok(vec![]));
    crate::syscall::fs_rw::sys_lseek(&e.files, rfd, 0, 0).unwrap();
    assert_eq!(getdents(&e, rfd, 8), Err(Errno::EINVAL));
    let f = e.open("/dev/null", 0).unwrap();
    assert_eq!(getdents(&e, f, 256), Err(Errno::ENOTDIR));
    assert_eq!(getdents(&e, 77, 256), Err(Errno::EBADF));
    crate::syscall::fs_rw::sys_lseek(&e.files, rfd, 0, 0).unwrap();
    assert_eq!(sys_getdents64(&e.mem, &e.files, rfd, 0x8, 256), Err(Errno::EFAULT));
    assert_eq!(getdents(&e, rfd, 4096).unwrap(), all, "a fault does not move the position");
}
