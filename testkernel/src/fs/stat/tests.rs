use super::*;
use crate::fs::devfs::{Termios, Winsize};
use alloc::string::String;
use alloc::vec::Vec;
use syscall_abi::abi::StructLayout;

const LAYOUTS: [StructLayout; 5] =
    [Stat::LAYOUT, StatxTimestamp::LAYOUT, Statx::LAYOUT, Termios::LAYOUT, Winsize::LAYOUT];

/// Compiles a C program printing `sizeof`/`_Alignof` and every field's `offsetof`/`sizeof`
/// from the Linux uapi headers, and compares them with the Rust mirrors.
#[test]
fn layouts_match_the_c_headers() {
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <asm/stat.h>\n#include <linux/stat.h>\n\
         #include <asm/termbits.h>\n#include <asm/termios.h>\nint main(void) {\n",
    );
    let mut want = Vec::new();
    for l in LAYOUTS {
        c += &format!("printf(\"{0} %zu %zu\\n\", sizeof({0}), _Alignof({0}));\n", l.c);
        want.push(format!("{} {} {}", l.c, l.size, l.align));
        for f in l.fields {
            assert!(!f.c.is_empty(), "{}.{} has a C name", l.rust, f.rust);
            c += &format!("printf(\"{0}.{1} %zu %zu\\n\", offsetof({0}, {1}), sizeof((({0} *)0)->{1}));\n", l.c, f.c);
            want.push(format!("{}.{} {} {}", l.c, f.c, f.offset, f.size));
        }
    }
    c += "return 0;\n}\n";
    let dir = std::env::temp_dir().join(format!("kfs-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c).unwrap();
    let out = std::process::Command::new("gcc").arg("-o").arg(&exe).arg(&src).output().expect("run gcc");
    assert!(out.status.success(), "gcc failed: {}", String::from_utf8_lossy(&out.stderr));
    let run = std::process::Command::new(&exe).output().expect("run layout program");
    let got: Vec<String> = String::from_utf8_lossy(&run.stdout).lines().map(String::from).collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(got, want);
    assert_eq!((Stat::LAYOUT.size, Statx::LAYOUT.size, Termios::LAYOUT.size), (144, 256, 36));
}

#[test]
fn device_numbers() {
    for (ma, mi) in
        [(0, 0), (1, 3), (5, 1), (4, 64), (259, 0), (0xfff, 0xff), (0x1000, 0x100), (0xffff_ffff, 0xffff_ffff)]
    {
        let d = makedev(ma, mi);
        assert_eq!((major(d), minor(d)), (ma, mi), "{ma}:{mi}");
    }
    assert_eq!(makedev(1, 3), 0x103);
    assert_eq!(makedev(259, 1), 0x10301);
    assert_eq!(makedev(1, 256), 0x100100);
    assert_ne!(alloc_anon_dev(), alloc_anon_dev());
    assert_eq!(major(alloc_anon_dev()), 0);
}

#[test]
fn built_from_metadata() {
    let m = Metadata {
        dev: makedev(0, 20),
        ino: 7,
        mode: 0o100644,
        nlink: 2,
        uid: 1,
        gid: 2,
        rdev: makedev(5, 1),
        size: 1234,
        blksize: 4096,
        blocks: 8,
        atime: Timespec { sec: 10, nsec: 11 },
        mtime: Timespec { sec: 20, nsec: 21 },
        ctime: Timespec { sec: 30, nsec: 31 },
    };
    let s = Stat::from_metadata(&m);
    assert_eq!(
        (s.st_ino, s.st_nlink, s.st_mode, s.st_size, s.st_mtime, s.st_mtime_nsec),
        (7, 2, 0o100644, 1234, 20, 21)
    );
    let x = Statx::from_metadata(&m, 3);
    assert_eq!(x.stx_mask, 0x17ff);
    assert_eq!(
        (x.stx_mode, x.stx_rdev_major, x.stx_rdev_minor, x.stx_dev_minor, x.stx_mnt_id),
        (0o100644, 5, 1, 20, 3)
    );
    assert_eq!((x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec, x.stx_btime.tv_sec), (30, 31, 0));
}
