use super::*;
use crate::fs::tmpfs::TmpFs;

fn tree() -> Vfs {
    let vfs = Vfs::new(TmpFs::new_root());
    let r = vfs.root().inode;
    let a = r.create(b"a", FileType::Directory, 0o755).unwrap();
    let b = a.create(b"b", FileType::Directory, 0o755).unwrap();
    b.create(b"f", FileType::Regular, 0o644).unwrap();
    r.symlink(b"abs", b"/a/b").unwrap();
    a.symlink(b"rel", b"b/f").unwrap();
    r.symlink(b"dangling", b"nowhere").unwrap();
    r.symlink(b"loop1", b"loop2").unwrap();
    r.symlink(b"loop2", b"loop1").unwrap();
    r.symlink(b"empty", b"").unwrap();
    vfs
}

fn path(vfs: &Vfs, start: &Location, p: &str, follow: bool) -> Result<String, Errno> {
    vfs.resolve(start, p.as_bytes(), follow).map(|l| l.path_string())
}

#[test]
fn canonical_paths() {
    let vfs = tree();
    let root = vfs.root();
    for (p, want) in [
        ("/", "/"),
        ("//a///b/", "/a/b"),
        ("/a/./b/../b/f", "/a/b/f"),
        ("/..", "/"),
        ("/../../a", "/a"),
        ("/abs/f", "/a/b/f"),
        ("/abs/..", "/a"),
        ("/a/rel", "/a/b/f"),
        ("abs", "/a/b"),
        ("a/b/.", "/a/b"),
    ] {
        assert_eq!(path(&vfs, &root, p, true).as_deref(), Ok(want), "{p}");
    }
    let cwd = vfs.resolve(&root, b"/a/b", true).unwrap();
    assert_eq!(path(&vfs, &cwd, "..", true).as_deref(), Ok("/a"));
    assert_eq!(path(&vfs, &cwd, "../../..", true).as_deref(), Ok("/"));
    assert_eq!(path(&vfs, &cwd, "f", true).as_deref(), Ok("/a/b/f"));
    assert_eq!(path(&vfs, &cwd, "/a", true).as_deref(), Ok("/a"));
}

#[test]
fn errors() {
    let vfs = tree();
    let root = vfs.root();
    for (p, follow, e) in [
        ("", true, Errno::ENOENT),
        ("/nope", true, Errno::ENOENT),
        ("/a/b/f/x", true, Errno::ENOTDIR),
        ("/a/b/f/", true, Errno::ENOTDIR),
        ("/a/b/f/.", true, Errno::ENOTDIR),
        ("/a/b/f/..", true, Errno::ENOTDIR),
        ("/a/rel/", false, Errno::ENOTDIR),
        ("/dangling", true, Errno::ENOENT),
        ("/loop1", true, Errno::ELOOP),
        ("/loop1/x", false, Errno::ELOOP),
        ("/empty", true, Errno::ENOENT),
    ] {
        assert_eq!(path(&vfs, &root, p, follow), Err(e), "{p}");
    }
    let long = format!("/{}", "x".repeat(256));
    assert_eq!(path(&vfs, &root, &long, true), Err(Errno::ENAMETOOLONG));
    let ok_len = format!("/{}", "x".repeat(255));
    assert_eq!(path(&vfs, &root, &ok_len, true), Err(Errno::ENOENT));
    // Without follow the last symlink itself is the result.
    assert_eq!(path(&vfs, &root, "/dangling", false).as_deref(), Ok("/dangling"));
    assert_eq!(path(&vfs, &root, "/loop1", false).as_deref(), Ok("/loop1"));
    // A trailing slash follows the last symlink.
    assert_eq!(path(&vfs, &root, "/abs/", false).as_deref(), Ok("/a/b"));
}

#[test]
fn forty_links_ok_forty_one_eloop() {
    let vfs = Vfs::new(TmpFs::new_root());
    let r = vfs.root().inode;
    r.create(b"t", FileType::Regular, 0o644).unwrap();
    r.symlink(b"l0", b"t").unwrap();
    for i in 1..=41 {
        r.symlink(format!("l{i}").as_bytes(), format!("l{}", i - 1).as_bytes()).unwrap();
    }
    assert_eq!(path(&vfs, &vfs.root(), "/l39", true).as_deref(), Ok("/t"));
    assert_eq!(path(&vfs, &vfs.root(), "/l40", true), Err(Errno::ELOOP));
}

#[test]
fn mounts() {
    let vfs = tree();
    vfs.mkdir_all(b"/proc", 0o555).unwrap();
    vfs.mkdir_all(b"/sys/fs/bpf", 0o755).unwrap();
    let proc_root = TmpFs::new_root();
    proc_root.create(b"version", FileType::Regular, 0o444).unwrap();
    vfs.mount(b"/proc", proc_root.clone()).unwrap();
    assert_eq!(vfs.mount(b"/proc", TmpFs::new_root()), Err(Errno::EBUSY));
    assert_eq!(vfs.mount(b"/nope", TmpFs::new_root()), Err(Errno::ENOENT));
    assert_eq!(vfs.mount(b"/a/b/f", TmpFs::new_root()), Err(Errno::ENOTDIR));
    let root = vfs.root();
    let v = vfs.resolve(&root, b"/proc/version", true).unwrap();
    assert_eq!(v.path, b"/proc/version");
    let p = vfs.resolve(&root, b"/proc", true).unwrap();
    assert_eq!(p.inode.metadata().ino, proc_root.metadata().ino);
    assert_eq!(path(&vfs, &p, "..", true).as_deref(), Ok("/"));
    assert_eq!(path(&vfs, &p, "version/../../a", true), Err(Errno::ENOTDIR));
    assert_eq!(path(&vfs, &p, "./../a", true).as_deref(), Ok("/a"));
    // Nested mounts: sysfs, then bpffs inside it.
    let sys = TmpFs::new_root();
    vfs.mount(b"/sys", sys.clone()).unwrap();
    assert_eq!(vfs.mount(b"/sys/fs/bpf", TmpFs::new_root()), Err(Errno::ENOENT));
    sys.create(b"fs", FileType::Directory, 0o755).unwrap().create(b"bpf", FileType::Directory, 0o755).unwrap();
    vfs.mount(b"/sys/fs/bpf", TmpFs::new_root()).unwrap();
    assert_eq!(vfs.mount_id(b"/"), ROOT_MOUNT_ID);
    assert_eq!(vfs.mount_id(b"/a/b"), ROOT_MOUNT_ID);
    let (pid, sid, bid) = (vfs.mount_id(b"/proc/version"), vfs.mount_id(b"/sys/fs"), vfs.mount_id(b"/sys/fs/bpf/x"));
    assert!(pid != ROOT_MOUNT_ID && sid != pid && bid != sid && bid != ROOT_MOUNT_ID);
    assert!(vfs.is_mount_point(b"/sys/fs/bpf"));
    assert!(!vfs.is_mount_point(b"/sys/fs"));
    // `mkdir_all` through a mount, and refusing a file in the way.
    vfs.mkdir_all(b"/proc/sys/kernel", 0o555).unwrap();
    assert!(proc_root.lookup(b"sys").is_ok());
    assert_eq!(vfs.mkdir_all(b"/a/b/f/x", 0o755).err(), Some(Errno::ENOTDIR));
}

#[test]
fn parent_resolution() {
    let vfs = tree();
    let root = vfs.root();
    let p = vfs.resolve_parent(&root, b"/a/b/new/").unwrap();
    assert_eq!(
        (p.dir.path.as_slice(), p.last.clone(), p.trailing_slash),
        (&b"/a/b"[..], Last::Name(b"new".to_vec()), true)
    );
    let p = vfs.resolve_parent(&root, b"abs/x").unwrap();
    assert_eq!(p.dir.path, b"/a/b");
    assert_eq!(vfs.resolve_parent(&root, b"x").unwrap().dir.path, b"/");
    assert_eq!(vfs.resolve_parent(&root, b"///").unwrap().last, Last::Root);
    assert_eq!(vfs.resolve_parent(&root, b"/a/.").unwrap().last, Last::Dot);
    assert_eq!(vfs.resolve_parent(&root, b"/a/..").unwrap().last, Last::DotDot);
    assert_eq!(vfs.resolve_parent(&root, b"").err(), Some(Errno::ENOENT));
    assert_eq!(vfs.resolve_parent(&root, b"/nope/x").err(), Some(Errno::ENOENT));
    assert_eq!(vfs.resolve_parent(&root, b"/a/b/f/x").err(), Some(Errno::ENOTDIR));
    assert_eq!(vfs.resolve_parent(&root, b"/a/rel/x").err(), Some(Errno::ENOTDIR));
    let long = format!("/a/{}", "y".repeat(256));
    assert_eq!(vfs.resolve_parent(&root, long.as_bytes()).err(), Some(Errno::ENAMETOOLONG));
}
