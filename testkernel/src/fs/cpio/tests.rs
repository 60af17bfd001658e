use super::*;
use crate::fs::tmpfs::TmpFs;
use alloc::format;

/// Appends one newc entry.
fn entry(out: &mut Vec<u8>, name: &str, mode: u32, nlink: u32, ino: u32, data: &[u8], rdev: (u32, u32)) {
    let hdr = format!(
        "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
        ino,
        mode,
        1000,
        100,
        nlink,
        1_700_000_000u32,
        data.len(),
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() + 1,
        0
    );
    out.extend_from_slice(hdr.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

fn trailer(out: &mut Vec<u8>) {
    entry(out, "TRAILER!!!", 0, 1, 0, b"", (0, 0));
}

fn sample() -> Vec<u8> {
    let mut a = Vec::new();
    entry(&mut a, ".", 0o040755, 2, 1, b"", (0, 0));
    entry(&mut a, "bin", 0o040755, 2, 2, b"", (0, 0));
    entry(&mut a, "./bin/hello", 0o100755, 1, 3, b"#!hello world\n", (0, 0));
    entry(&mut a, "bin/sh", 0o120777, 1, 4, b"hello", (0, 0));
    entry(&mut a, "dev/console", 0o020600, 1, 5, b"", (5, 1));
    entry(&mut a, "h1", 0o100644, 2, 9, b"", (0, 0));
    entry(&mut a, "h2", 0o100644, 2, 9, b"shared", (0, 0));
    entry(&mut a, "/abs/deep/file", 0o100600, 1, 10, b"x", (0, 0));
    trailer(&mut a);
    a
}

fn read_all(f: &Arc<dyn Inode>) -> Vec<u8> {
    let mut buf = vec![0u8; 256];
    let n = f.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn unpacks_every_kind() {
    let root = TmpFs::new_root();
    let stats = unpack(&sample(), &root).unwrap();
    assert_eq!(stats, UnpackStats { entries: 7, bytes: 21 });
    let bin = root.lookup(b"bin").unwrap();
    let hello = bin.lookup(b"hello").unwrap();
    assert_eq!(read_all(&hello), b"#!hello world\n");
    let m = hello.metadata();
    assert_eq!((m.mode, m.uid, m.gid, m.mtime.sec), (0o100755, 1000, 100, 1_700_000_000));
    assert_eq!(bin.lookup(b"sh").unwrap().readlink().unwrap(), b"hello");
    let con = root.lookup(b"dev").unwrap().lookup(b"console").unwrap();
    assert_eq!((con.metadata().mode, con.metadata().rdev), (0o020600, crate::fs::stat::makedev(5, 1)));
    let (h1, h2) = (root.lookup(b"h1").unwrap(), root.lookup(b"h2").unwrap());
    assert_eq!(h1.metadata().ino, h2.metadata().ino);
    assert_eq!(h1.metadata().nlink, 2);
    assert_eq!(read_all(&h1), b"shared");
    let deep = root.lookup(b"abs").unwrap().lookup(b"deep").unwrap().lookup(b"file").unwrap();
    assert_eq!(read_all(&deep), b"x");
}

#[test]
fn concatenated_archives_and_padding_replace_entries() {
    let mut a = sample();
    a.extend_from_slice(&[0u8; 512]);
    let mut b = Vec::new();
    entry(&mut b, "bin/hello", 0o100644, 1, 3, b"v2", (0, 0));
    entry(&mut b, "bin", 0o040700, 2, 2, b"", (0, 0));
    trailer(&mut b);
    a.extend_from_slice(&b);
    let root = TmpFs::new_root();
    unpack(&a, &root).unwrap();
    let bin = root.lookup(b"bin").unwrap();
    assert_eq!(bin.metadata().mode, 0o040700);
    assert_eq!(read_all(&bin.lookup(b"hello").unwrap()), b"v2");
    assert_eq!(unpack(&[], &TmpFs::new_root()), Ok(UnpackStats::default()));
    assert_eq!(unpack(&[0u8; 64], &TmpFs::new_root()), Ok(UnpackStats::default()));
}

#[test]
fn malformed_archives_are_einval() {
    let good = sample();
    let mut bad_magic = good.clone();
    bad_magic[5] = b'9';
    let mut bad_hex = good.clone();
    bad_hex[20] = b'g';
    let mut no_nul = Vec::new();
    entry(&mut no_nul, "abc", 0o100644, 1, 1, b"", (0, 0));
    no_nul[110 + 3] = b'x';
    trailer(&mut no_nul);
    let mut dotdot = Vec::new();
    entry(&mut dotdot, "a/../../etc", 0o100644, 1, 1, b"", (0, 0));
    trailer(&mut dotdot);
    let mut zero_name = Vec::new();
    zero_name.extend_from_slice(b"070701");
    zero_name.extend_from_slice(&[b'0'; 104]);
    let mut huge = Vec::new();
    entry(&mut huge, "f", 0o100644, 1, 1, b"", (0, 0));
    huge[54..62].copy_from_slice(b"ffffffff");
    let mut no_trailer = Vec::new();
    entry(&mut no_trailer, "f", 0o100644, 1, 1, b"abc", (0, 0));
    for (name, a) in [
        ("magic", bad_magic),
        ("hex", bad_hex),
        ("nul", no_nul),
        ("dotdot", dotdot),
        ("zero namesize", zero_name),
        ("huge filesize", huge),
        ("no trailer", no_trailer),
        ("garbage", b"hello world, not an archive".to_vec()),
    ] {
        assert_eq!(unpack(&a, &TmpFs::new_root()), Err(Errno::EINVAL), "{name}");
    }
}

#[test]
fn every_truncation_fails_cleanly() {
    let good = sample();
    // Any cut before the end of the trailer (its name's padding included) is an error.
    for cut in 1..good.len() {
        assert_eq!(unpack(&good[..cut], &TmpFs::new_root()), Err(Errno::EINVAL), "cut at {cut}");
    }
    assert!(unpack(&good, &TmpFs::new_root()).is_ok());
}

#[test]
fn random_corruption_never_panics() {
    let good = sample();
    let mut seed = 0x1234_5678_9abc_def0u64;
    for _ in 0..3000 {
        let mut a = good.clone();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed % a.len() as u64) as usize;
            a[i] = (seed >> 32) as u8;
        }
        let _ = unpack(&a, &TmpFs::new_root());
    }
}

#[test]
fn static_unpack_borrows_until_the_first_write() {
    let archive: &'static [u8] = alloc::boxed::Box::leak(sample().into_boxed_slice());
    let root = TmpFs::new_root();
    assert_eq!(unpack_static(archive, &root).unwrap(), UnpackStats { entries: 7, bytes: 21 });
    let hello = root.lookup(b"bin").unwrap().lookup(b"hello").unwrap();
    assert_eq!(read_all(&hello), b"#!hello world\n");
    assert_eq!(hello.metadata().size, 14);
    // Writing copies the borrowed bytes first: the rest of the file stays, the archive too.
    assert_eq!(hello.write_at(2, b"HE").unwrap(), 2);
    assert_eq!(read_all(&hello), b"#!HEllo world\n");
    let at = archive.windows(14).position(|w| w == b"#!hello world\n");
    assert!(at.is_some(), "the archive still holds the original bytes");
    hello.truncate(3).unwrap();
    assert_eq!(read_all(&hello), b"#!H");
    // Hard links still share one (borrowed) body.
    assert_eq!(read_all(&root.lookup(b"h1").unwrap()), b"shared");
}
