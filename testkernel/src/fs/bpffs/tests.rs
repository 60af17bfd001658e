//! bpffs directory operations, with Linux's errnos.

use std::sync::Arc;

use bpf_subsys::object::UserRef;
use syscall_abi::bpf::MapType;
use syscall_abi::Errno;

use super::*;
use crate::bpf::tests::T;

fn dir(fs: &BpfFs, name: &[u8]) -> Arc<dyn Inode> {
    fs.root().lookup(name).unwrap()
}

fn names(d: &Arc<dyn Inode>) -> Vec<(Vec<u8>, FileType)> {
    d.readdir().unwrap().into_iter().map(|e| (e.name, e.kind)).collect()
}

/// A pin of a fresh array map, and the harness that owns it.
fn obj(t: &T) -> UserRef {
    let fd = t.map(MapType::Array, 4, 4, 1, 0);
    UserRef::new(t.object(fd))
}

#[test]
fn root_and_directories() {
    let fs = BpfFs::new(99);
    let root = fs.root();
    let m = root.metadata();
    assert_eq!((m.mode, m.nlink, m.dev, m.uid), (0o041777, 2, 99, 0));
    let d = root.create(b"d", FileType::Directory, 0o750).unwrap();
    assert_eq!(d.metadata().mode, 0o040750);
    assert_eq!(root.metadata().nlink, 3, "a subdirectory adds a link");
    assert_eq!(root.create(b"d", FileType::Directory, 0o755).err(), Some(Errno::EEXIST));
    assert_eq!(root.create(b"x.y", FileType::Directory, 0o755).err(), Some(Errno::EPERM));
    // open(O_CREAT) and mknod cannot make files in bpffs.
    assert_eq!(root.create(b"f", FileType::Regular, 0o644).err(), Some(Errno::EACCES));
    assert_eq!(root.create(b"p", FileType::Fifo, 0o644).err(), Some(Errno::EPERM));
    assert_eq!(root.create(b"d", FileType::Regular, 0o644).err(), Some(Errno::EEXIST));
    assert_eq!(root.lookup(b"nope").err(), Some(Errno::ENOENT));
    assert_eq!(root.lookup(b"no.pe").err(), Some(Errno::EPERM));
    d.create(b"e", FileType::Directory, 0o700).unwrap();
    assert_eq!(root.rmdir(b"d"), Err(Errno::ENOTEMPTY));
    assert_eq!(root.unlink(b"d"), Err(Errno::EISDIR));
    assert_eq!(root.rmdir(b"zz"), Err(Errno::ENOENT));
    d.rmdir(b"e").unwrap();
    root.rmdir(b"d").unwrap();
    assert!(names(&root).is_empty());
    assert_eq!(root.metadata().nlink, 2);
    // Directories open as plain directories (the generic directory file).
    assert!(d.clone().open(0).is_none());
}

#[test]
fn pins_symlinks_and_links() {
    let t = T::new();
    let fs = BpfFs::new(5);
    let root = fs.root();
    fs.root_dir().pin(b"m", 0o600, 7, 8, obj(&t)).unwrap();
    assert_eq!(fs.root_dir().pin(b"m", 0o600, 0, 0, obj(&t)), Err(Errno::EEXIST));
    assert_eq!(fs.root_dir().pin(b"a.b", 0o600, 0, 0, obj(&t)), Err(Errno::EPERM));
    let m = root.lookup(b"m").unwrap();
    let st = m.metadata();
    assert_eq!((st.mode, st.uid, st.gid, st.size, st.dev), (0o100600, 7, 8, 0, 5));
    assert!(m.as_any().downcast_ref::<BpfObjInode>().is_some());
    assert_eq!(m.clone().open(0).map(|r| r.err()), Some(Some(Errno::EIO)));
    assert_eq!(m.lookup(b"x").err(), Some(Errno::ENOTDIR));

    let s = root.symlink(b"s", b"m").unwrap();
    assert_eq!(s.metadata().mode, 0o120777);
    assert_eq!(s.readlink().unwrap(), b"m");
    root.link(b"h", &m).unwrap();
    assert_eq!(m.metadata().nlink, 2);
    assert_eq!(root.link(b"h2", &root.lookup(b"s").unwrap()), Ok(()));
    root.create(b"d", FileType::Directory, 0o755).unwrap();
    assert_eq!(root.link(b"dd", &dir(&fs, b"d")), Err(Errno::EPERM));
    // An inode of another bpffs instance (or filesystem): EXDEV.
    let other = BpfFs::new(6);
    other.root_dir().pin(b"o", 0o600, 0, 0, obj(&t)).unwrap();
    assert_eq!(root.link(b"x", &other.root().lookup(b"o").unwrap()), Err(Errno::EXDEV));
    assert_eq!(
        names(&root),
        vec![
            (b"d".to_vec(), FileType::Directory),
            (b"h".to_vec(), FileType::Regular),
            (b"h2".to_vec(), FileType::Symlink),
            (b"m".to_vec(), FileType::Regular),
            (b"s".to_vec(), FileType::Symlink),
        ]
    );
    root.unlink(b"m").unwrap();
    assert_eq!(m.metadata().nlink, 1);
    assert_eq!(root.unlink(b"m"), Err(Errno::ENOENT));
    drop((m, s, other));
    for n in [b"h".as_slice(), b"h2", b"s"] {
        root.unlink(n).unwrap();
    }
    root.rmdir(b"d").unwrap();
    t.assert_all_freed();
}

#[test]
fn rename_rules() {
    let t = T::new();
    let fs = BpfFs::new(1);
    let root = fs.root();
    let a = root.create(b"a", FileType::Directory, 0o755).unwrap();
    let b = a.create(b"b", FileType::Directory, 0o755).unwrap();
    root.create(b"full", FileType::Directory, 0o755).unwrap().create(b"x", FileType::Directory, 0o755).unwrap();
    fs.root_dir().pin(b"p", 0o600, 0, 0, obj(&t)).unwrap();
    fs.root_dir().pin(b"q", 0o600, 0, 0, obj(&t)).unwrap();
    assert_eq!(root.rename(b"a", &b, b"a2"), Err(Errno::EINVAL), "into its own subtree");
    assert_eq!(root.rename(b"a", &a, b"a2"), Err(Errno::EINVAL), "into itself");
    assert_eq!(root.rename(b"p", &root, b"a"), Err(Errno::EISDIR));
    assert_eq!(root.rename(b"a", &root, b"p"), Err(Errno::ENOTDIR));
    assert_eq!(root.rename(b"a", &root, b"full"), Err(Errno::ENOTEMPTY));
    assert_eq!(root.rename(b"nope", &root, b"z"), Err(Errno::ENOENT));
    assert_eq!(root.rename(b"p", &root, b"z.z"), Err(Errno::EPERM));
    let other = BpfFs::new(2);
    assert_eq!(root.rename(b"p", &other.root(), b"p"), Err(Errno::EXDEV));
    // Replacing a pin drops the replaced one.
    root.rename(b"p", &root, b"q").unwrap();
    assert_eq!(names(&root).len(), 3);
    // Moving a directory updates its parent (".." walks and subtree checks follow it).
    root.rename(b"full", &b, b"moved").unwrap();
    assert_eq!(names(&b), vec![(b"moved".to_vec(), FileType::Directory)]);
    assert_eq!(b.rename(b"moved", &root, b"back"), Ok(()));
    assert_eq!(root.rename(b"a", &root.lookup(b"back").unwrap(), b"a"), Ok(()));
    let back = root.lookup(b"back").unwrap();
    assert_eq!(root.rename(b"back", &back.lookup(b"a").unwrap(), b"x"), Err(Errno::EINVAL));
    // Same inode under both names: nothing happens.
    root.link(b"q2", &root.lookup(b"q").unwrap()).unwrap();
    assert_eq!(root.rename(b"q", &root, b"q2"), Ok(()));
    assert_eq!(root.lookup(b"q").map(drop), Ok(()));
    drop((a, b, back, other));
    assert_eq!(names(&root).len(), 3, "back, q and q2");
    drop(root);
    drop(fs);
    t.assert_all_freed();
}

#[test]
fn permission_bits() {
    let meta = |mode, uid, gid| Metadata { mode, uid, gid, ..Metadata::default() };
    assert!(permits(&meta(0o100000, 5, 5), 0, 0, true, true), "root");
    assert!(permits(&meta(0o100600, 5, 5), 5, 9, true, true));
    assert!(!permits(&meta(0o100400, 5, 5), 5, 9, true, true));
    assert!(permits(&meta(0o100040, 5, 6), 7, 6, true, false));
    assert!(!permits(&meta(0o100604, 5, 6), 7, 6, true, false), "group bits apply, not other");
    assert!(permits(&meta(0o100006, 5, 6), 7, 8, true, true));
}
