//! `BPF_OBJ_PIN` / `BPF_OBJ_GET` through bpffs.

use std::sync::atomic::Ordering;

use syscall_abi::bpf::{MapType, BPF_ANY, BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::Errno;

use super::maps_and_progs::load_prog;
use super::{u32b, T};
use crate::fs::FileType;

#[test]
fn pin_get_and_free_after_unlink() {
    let t = T::new();
    let m = t.map(MapType::Array, 4, 4, 4, 0);
    assert_eq!(t.update(m, &u32b(2), &u32b(22), BPF_ANY), Ok(0));
    assert_eq!(t.pin(m, "/sys/fs/bpf/m"), Ok(0));
    assert_eq!(t.pin(m, "/sys/fs/bpf/m"), Err(Errno::EEXIST));
    t.close(m);
    // Only the pin holds the map now.
    let got = t.obj_get("/sys/fs/bpf/m", 0).unwrap();
    assert_eq!(t.lookup(got, &u32b(2), 4), Ok(u32b(22).to_vec()));
    let ro = t.obj_get("/sys/fs/bpf/m", BPF_F_RDONLY).unwrap();
    assert_eq!(t.update(ro, &u32b(2), &u32b(1), BPF_ANY), Err(Errno::EPERM));
    assert_eq!(t.ops(ro).flags() & 3, 0);
    let wo = t.obj_get("//sys/./fs/../fs/bpf//m", BPF_F_WRONLY).unwrap();
    assert_eq!(t.lookup(wo, &u32b(2), 4), Err(Errno::EPERM));

    // stat of the pin: S_IFREG | 0600 & ~umask, owned by the pinner.
    let root = t.host.bpffs().root();
    let pinned = root.lookup(b"m").unwrap();
    let st = pinned.metadata();
    assert_eq!((st.mode, st.nlink, st.size, st.uid), (0o100600, 1, 0, 0));
    // open(2) of a pinned object is EIO (bpffs_obj_open).
    assert_eq!(pinned.clone().open(0).map(|r| r.err()), Some(Some(Errno::EIO)));
    drop(pinned);

    t.close(got);
    t.close(ro);
    t.close(wo);
    assert!(!bpf_subsys::BpfHost::registry(&*t.host).is_empty(), "the pin keeps the map");
    root.unlink(b"m").unwrap();
    assert_eq!(t.obj_get("/sys/fs/bpf/m", 0), Err(Errno::ENOENT));
    t.assert_all_freed();
}

#[test]
fn pin_path_errnos() {
    let t = T::new();
    let m = t.map(MapType::Hash, 4, 4, 4, 0);
    let p = load_prog(&t);
    let root = t.host.bpffs().root();
    root.create(b"dir", FileType::Directory, 0o755).unwrap();
    assert_eq!(t.pin(p, "/sys/fs/bpf/dir/prog"), Ok(0));
    for (path, errno) in [
        ("/sys/fs/bpf/missing/x", Errno::ENOENT),
        ("/sys/fs/bpf/dir/prog/x", Errno::ENOTDIR),
        ("/sys/fs/bpf/dir/prog", Errno::EEXIST),
        ("/sys/fs/bpf/dir", Errno::EEXIST),
        ("/sys/fs/bpf/a.b", Errno::EPERM),
        ("/sys/fs/bpf/new/", Errno::ENOENT),
        ("/sys/fs/bpf/..", Errno::EEXIST),
        ("/sys/fs/bpf", Errno::EEXIST),
        ("/", Errno::EEXIST),
        ("/sys/other", Errno::EPERM),
        ("/tmp/x", Errno::ENOENT),
    ] {
        assert_eq!(t.pin(m, path), Err(errno), "pin at {path}");
    }
    let long = format!("/sys/fs/bpf/{}", "n".repeat(256));
    assert_eq!(t.pin(m, &long), Err(Errno::ENAMETOOLONG));
    // A fd that is not a map, program or link: EINVAL.
    assert_eq!(t.pin(77, "/sys/fs/bpf/x"), Err(Errno::EINVAL));

    for (path, errno) in [
        ("/sys/fs/bpf/nothing", Errno::ENOENT),
        ("/sys/fs/bpf/dir", Errno::EACCES),
        ("/sys/fs", Errno::EACCES),
        ("/sys/fs/bpf/dir/prog/", Errno::ENOTDIR),
        ("", Errno::ENOENT),
    ] {
        assert_eq!(t.obj_get(path, 0), Err(errno), "get at {path:?}");
    }
    let got = t.obj_get("/sys/fs/bpf/dir/prog", 0).unwrap();
    assert_eq!(t.ops(got).path, "anon_inode:bpf-prog");
    // Non-empty directories stay; emptied ones go.
    assert_eq!(root.rmdir(b"dir"), Err(Errno::ENOTEMPTY));
    root.lookup(b"dir").unwrap().unlink(b"prog").unwrap();
    root.rmdir(b"dir").unwrap();
    t.assert_all_freed();
}

#[test]
fn symlinks_hard_links_and_rename_keep_the_pin() {
    let t = T::new();
    let m = t.map(MapType::Array, 4, 4, 1, 0);
    assert_eq!(t.pin(m, "/sys/fs/bpf/m"), Ok(0));
    let root = t.host.bpffs().root();
    root.symlink(b"abs", b"/sys/fs/bpf/m").unwrap();
    root.symlink(b"rel", b"m").unwrap();
    root.symlink(b"loop", b"loop").unwrap();
    for path in ["/sys/fs/bpf/abs", "/sys/fs/bpf/rel"] {
        let fd = t.obj_get(path, 0).unwrap();
        t.close(fd);
    }
    assert_eq!(t.obj_get("/sys/fs/bpf/loop", 0), Err(Errno::ELOOP));
    let target = root.lookup(b"m").unwrap();
    root.link(b"hard", &target).unwrap();
    assert_eq!(target.metadata().nlink, 2);
    root.rename(b"m", &root, b"renamed").unwrap();
    assert_eq!(t.obj_get("/sys/fs/bpf/abs", 0), Err(Errno::ENOENT), "dangling symlink");
    root.unlink(b"renamed").unwrap();
    assert_eq!(target.metadata().nlink, 1);
    drop(target);
    t.close(m);
    // Still pinned through the hard link.
    let fd = t.obj_get("/sys/fs/bpf/hard", 0).unwrap();
    t.close(fd);
    root.unlink(b"hard").unwrap();
    t.assert_all_freed();
}

#[test]
fn permissions_of_pins_follow_umask_and_owner() {
    let t = T::new();
    let m = t.map(MapType::Array, 4, 4, 1, 0);
    t.proc.umask.store(0o277, Ordering::Relaxed);
    assert_eq!(t.pin(m, "/sys/fs/bpf/ro"), Ok(0));
    let st = t.host.bpffs().root().lookup(b"ro").unwrap().metadata();
    assert_eq!(st.mode, 0o100400);
    // Root ignores the mode bits (CAP_DAC_OVERRIDE).
    let fd = t.obj_get("/sys/fs/bpf/ro", 0).unwrap();
    t.close(fd);
    // Another user: no permission bits for "other" at all.
    t.proc.uid.store(1000, Ordering::Relaxed);
    assert_eq!(t.obj_get("/sys/fs/bpf/ro", BPF_F_RDONLY), Err(Errno::EACCES));
    t.proc.uid.store(0, Ordering::Relaxed);
    t.host.bpffs().root().set_mode(0o1777).unwrap();
    t.host.bpffs().root().lookup(b"ro").unwrap().set_mode(0o444).unwrap();
    t.proc.uid.store(1000, Ordering::Relaxed);
    let fd = t.obj_get("/sys/fs/bpf/ro", BPF_F_RDONLY).unwrap();
    t.close(fd);
    assert_eq!(t.obj_get("/sys/fs/bpf/ro", 0), Err(Errno::EACCES), "read-write needs the w bit");
    t.proc.uid.store(0, Ordering::Relaxed);
    t.host.bpffs().root().unlink(b"ro").unwrap();
    t.assert_all_freed();
}
