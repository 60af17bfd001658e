use super::*;

fn root() -> Arc<dyn Inode> {
    TmpFs::new_root()
}

#[test]
fn files_read_write_truncate() {
    let r = root();
    let f = r.create(b"f", FileType::Regular, 0o644).unwrap();
    assert_eq!(f.write_at(3, b"abc").unwrap(), 3);
    let mut buf = [9u8; 8];
    assert_eq!(f.read_at(0, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"\0\0\0abc");
    assert_eq!(f.read_at(6, &mut buf).unwrap(), 0);
    assert_eq!(f.read_at(u64::MAX, &mut buf).unwrap(), 0);
    f.truncate(2).unwrap();
    assert_eq!(f.metadata().size, 2);
    assert_eq!(f.metadata().blocks, 8);
    assert_eq!(f.metadata().mode, 0o100644);
    assert_eq!(f.write_at(u64::MAX - 1, b"abc"), Err(Errno::EFBIG));
    assert_eq!(f.write_at(1 << 50, b"a"), Err(Errno::ENOSPC));
    assert_eq!(r.read_at(0, &mut buf), Err(Errno::EISDIR));
    assert_eq!(r.write_at(0, b"x"), Err(Errno::EISDIR));
}

#[test]
fn directories_count_links_and_refuse_bad_names() {
    let r = root();
    assert_eq!(r.metadata().nlink, 2);
    let d = r.create(b"d", FileType::Directory, 0o755).unwrap();
    assert_eq!(r.metadata().nlink, 3);
    assert_eq!(d.metadata().nlink, 2);
    assert_eq!(r.create(b"d", FileType::Regular, 0o644).err(), Some(Errno::EEXIST));
    assert_eq!(r.create(b"..", FileType::Regular, 0o644).err(), Some(Errno::EINVAL));
    assert_eq!(r.create(b"a/b", FileType::Regular, 0o644).err(), Some(Errno::EINVAL));
    assert_eq!(r.create(&[b'x'; 256], FileType::Regular, 0o644).err(), Some(Errno::ENAMETOOLONG));
    d.create(b"x", FileType::Regular, 0o644).unwrap();
    assert_eq!(r.rmdir(b"d"), Err(Errno::ENOTEMPTY));
    assert_eq!(r.unlink(b"d"), Err(Errno::EISDIR));
    assert_eq!(d.rmdir(b"x"), Err(Errno::ENOTDIR));
    d.unlink(b"x").unwrap();
    assert_eq!(d.unlink(b"x"), Err(Errno::ENOENT));
    r.rmdir(b"d").unwrap();
    assert_eq!(r.metadata().nlink, 2);
    assert_eq!(d.metadata().nlink, 0);
    assert_eq!(r.lookup(b"d").err(), Some(Errno::ENOENT));
    assert_eq!(r.metadata().size, 40);
}

#[test]
fn hard_links_and_symlinks() {
    let r = root();
    let f = r.create(b"f", FileType::Regular, 0o600).unwrap();
    r.link(b"g", &f).unwrap();
    assert_eq!(f.metadata().nlink, 2);
    assert_eq!(r.lookup(b"g").unwrap().metadata().ino, f.metadata().ino);
    r.unlink(b"f").unwrap();
    assert_eq!(f.metadata().nlink, 1);
    let d = r.create(b"d", FileType::Directory, 0o755).unwrap();
    assert_eq!(r.link(b"d2", &d), Err(Errno::EPERM));
    let other = TmpFs::new_root();
    let of = other.create(b"o", FileType::Regular, 0o644).unwrap();
    assert_eq!(r.link(b"o", &of), Err(Errno::EXDEV));
    let l = r.symlink(b"l", b"/target").unwrap();
    assert_eq!(l.readlink().unwrap(), b"/target");
    assert_eq!(l.metadata().mode, 0o120777);
    assert_eq!(l.metadata().size, 7);
    assert_eq!(f.readlink(), Err(Errno::EINVAL));
    let names: Vec<_> = r.readdir().unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
    assert_eq!(
        names,
        vec![
            (b"d".to_vec(), FileType::Directory),
            (b"g".to_vec(), FileType::Regular),
            (b"l".to_vec(), FileType::Symlink)
        ]
    );
}

#[test]
fn rename_cases() {
    let r = root();
    let a = r.create(b"a", FileType::Directory, 0o755).unwrap();
    let b = r.create(b"b", FileType::Directory, 0o755).unwrap();
    let f = a.create(b"f", FileType::Regular, 0o644).unwrap();
    f.write_at(0, b"data").unwrap();
    // File across directories, replacing an existing file.
    let old = b.create(b"g", FileType::Regular, 0o644).unwrap();
    a.rename(b"f", &b, b"g").unwrap();
    assert_eq!(old.metadata().nlink, 0);
    assert_eq!(a.lookup(b"f").err(), Some(Errno::ENOENT));
    assert_eq!(b.lookup(b"g").unwrap().metadata().ino, f.metadata().ino);
    // Directory moves adjust both parents' link counts.
    let sub = a.create(b"sub", FileType::Directory, 0o755).unwrap();
    assert_eq!(a.metadata().nlink, 3);
    a.rename(b"sub", &b, b"sub2").unwrap();
    assert_eq!((a.metadata().nlink, b.metadata().nlink), (2, 3));
    // Type mismatches and non-empty targets.
    assert_eq!(b.rename(b"sub2", &b, b"g"), Err(Errno::ENOTDIR));
    assert_eq!(b.rename(b"g", &b, b"sub2"), Err(Errno::EISDIR));
    sub.create(b"x", FileType::Regular, 0o644).unwrap();
    let empty = b.create(b"empty", FileType::Directory, 0o755).unwrap();
    assert_eq!(b.rename(b"empty", &b, b"sub2"), Err(Errno::ENOTEMPTY));
    b.rename(b"sub2", &b, b"empty").unwrap();
    assert_eq!(empty.metadata().nlink, 0);
    assert_eq!(b.metadata().nlink, 3);
    assert_eq!(b.rename(b"nope", &b, b"x"), Err(Errno::ENOENT));
    // Same inode: no-op.
    b.link(b"h", &f).unwrap();
    b.rename(b"g", &b, b"h").unwrap();
    assert!(b.lookup(b"g").is_ok());
    let other = TmpFs::new_root();
    assert_eq!(b.rename(b"g", &other, b"g"), Err(Errno::EXDEV));
    // Into itself, or over an ancestor: refused without deadlocking.
    let top = r.create(b"top", FileType::Directory, 0o755).unwrap();
    let inner = top.create(b"inner", FileType::Directory, 0o755).unwrap();
    assert_eq!(r.rename(b"top", &top, b"x"), Err(Errno::EINVAL));
    assert_eq!(inner.rename(b"nope", &r, b"top"), Err(Errno::ENOENT));
    let leaf = inner.create(b"leaf", FileType::Directory, 0o755).unwrap();
    let _ = leaf;
    assert_eq!(inner.rename(b"leaf", &top, b"inner"), Err(Errno::ENOTEMPTY));
    assert_eq!(top.rename(b"inner", &r, b"top"), Err(Errno::ENOTEMPTY));
    // Reverse lock order (target inode number lower than source).
    b.rename(b"g", &a, b"back").unwrap();
    assert!(a.lookup(b"back").is_ok());
}

#[test]
fn nodes_and_modes() {
    let r = root();
    let t = as_tmp(&*r).unwrap();
    let n = t.create_node(b"null", FileType::CharDevice, 0o666, crate::fs::stat::makedev(1, 3)).unwrap();
    assert_eq!(n.metadata().mode, 0o020666);
    assert_eq!(n.metadata().rdev, 0x103);
    n.set_mode(0o4755).unwrap();
    assert_eq!(n.metadata().mode, 0o024755);
    assert_eq!(r.create(b"s", FileType::Symlink, 0).err(), Some(Errno::EINVAL));
    assert_ne!(r.metadata().dev, TmpFs::new_root().metadata().dev);
}
