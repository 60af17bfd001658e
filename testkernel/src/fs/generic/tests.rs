use super::*;
use crate::fs::tmpfs::TmpFs;

fn file(inode: Arc<dyn Inode>, flags: u32) -> Arc<OpenFile> {
    let loc = Location { path: b"/x".to_vec(), inode };
    open_location(&loc, 1, flags).unwrap()
}

#[test]
fn dirent_records() {
    let mut out = Vec::new();
    assert!(put_dirent(&mut out, 24, 7, 3, 8, b"abcd"));
    assert_eq!(out.len(), 24);
    assert_eq!(&out[..8], &7u64.to_le_bytes());
    assert_eq!(&out[8..16], &3i64.to_le_bytes());
    assert_eq!(&out[16..18], &24u16.to_le_bytes());
    assert_eq!(out[18], 8);
    assert_eq!(&out[19..24], b"abcd\0");
    // 19 + 5 + 1 = 25 rounds up to 32; does not fit in 40 after the first.
    assert!(!put_dirent(&mut out, 40, 1, 4, 8, b"abcde"));
    assert_eq!(out.len(), 24);
    assert!(put_dirent(&mut out, 56, 1, 4, 8, b"abcde"));
    assert_eq!(out.len(), 56);
    assert!(dir_cookie(b"a") >= 3 && dir_cookie(b"a") <= i64::MAX as u64);
    assert_ne!(dir_cookie(b"a"), dir_cookie(b"b"));
}

#[test]
fn files_dirs_and_paths() {
    let root = TmpFs::new_root();
    let f = root.create(b"f", FileType::Regular, 0o644).unwrap();
    let of = file(f.clone(), 2);
    assert_eq!(of.path, "/x");
    assert_eq!(of.ops.write(&of, b"hello"), Ok(5));
    assert_eq!(*of.pos.lock(), 5);
    assert_eq!(of.ops.seek(&of, 0, SEEK_SET), Ok(0));
    let mut b = [0u8; 8];
    assert_eq!(of.ops.read(&of, &mut b), Ok(5));
    assert_eq!(of.ops.getdents(&of, &mut b), Err(Errno::ENOTDIR));
    assert!(matches!(of.ops.mmap(&of, 0, 4096, 1, 2), Ok(MmapBacking::PrivateCopy)));
    let d = file(root.clone(), 0);
    assert_eq!(d.ops.read(&d, &mut b), Err(Errno::EISDIR));
    assert_eq!(d.ops.seek(&d, 0, SEEK_END), Err(Errno::EINVAL));
    assert_eq!(d.ops.seek(&d, 12345, SEEK_SET), Ok(12345));
    assert!(matches!(d.ops.mmap(&d, 0, 4096, 1, 2), Err(Errno::ENODEV)));
    let p = file(f, O_PATH);
    assert!(is_path_file(&p));
    assert_eq!(p.ops.read(&p, &mut b), Err(Errno::EBADF));
    assert_eq!(p.ops.stat().unwrap().size, 5);
}
