//! Boot-time assembly of the filesystem tree: the initramfs unpacked into a tmpfs root,
//! the standard directories, and `/dev`; plus PID 1's standard descriptors.
//!
//! The kernel's boot code calls [`init_rootfs`], then mounts the filesystems other parts
//! supply (`vfs.mount(b"/proc", procfs_root)`, `/sys`, and inside sysfs `/sys/fs/bpf`,
//! `/sys/kernel/tracing`, `/sys/kernel/debug/tracing`, whose directories the sysfs must
//! contain), creates PID 1's [`FsContext`] with [`FsContext::new`] and its fds with
//! [`open_console_fds`].

use alloc::sync::Arc;

use spin::Mutex;

use super::context::FsContext;
use super::cpio::{unpack_static, UnpackStats};
use super::devfs::{new_devfs, Console, RandomSource, Tty};
use super::fdtable::FdTable;
use super::file::O_RDWR;
use super::tmpfs::TmpFs;
use super::vfs::Vfs;
use crate::syscall::fs_open::open_path;
use crate::syscall::fs_path::{FsCall, AT_FDCWD};
use crate::KResult;

/// Directories created in the root (if the initramfs lacks them) with their modes.
pub const STANDARD_DIRS: [(&[u8], u32); 5] =
    [(b"/dev", 0o755), (b"/proc", 0o555), (b"/sys", 0o555), (b"/tmp", 0o1777), (b"/root", 0o700)];

/// Unpacks `initrd` (cpio newc; empty is fine) into a new tmpfs root, creates
/// [`STANDARD_DIRS`] and mounts a new devfs at `/dev`. Returns the tree, the terminal (for
/// the serial driver's input) and what was unpacked. `EINVAL` for a malformed archive.
pub fn init_rootfs(
    initrd: &'static [u8],
    console: Arc<dyn Console>,
    random: Arc<dyn RandomSource>,
) -> KResult<(Vfs, Arc<Tty>, UnpackStats)> {
    let root = TmpFs::new_root();
    let stats = unpack_static(initrd, &root)?;
    let vfs = Vfs::new(root);
    for (dir, mode) in STANDARD_DIRS {
        vfs.mkdir_all(dir, mode)?;
    }
    let (dev, tty) = new_devfs(console, random)?;
    vfs.mount(b"/dev", dev)?;
    Ok((vfs, tty, stats))
}

/// Opens `/dev/console` read-write as fds 0, 1 and 2 (PID 1's stdin, stdout, stderr) in an
/// empty table.
pub fn open_console_fds(files: &Mutex<FdTable>, fs: &Mutex<FsContext>, vfs: &Vfs) -> KResult<()> {
    for _ in 0..3 {
        let file = open_path(&FsCall::kernel(files, fs, vfs), AT_FDCWD, b"/dev/console", O_RDWR, 0)?;
        files.lock().install(file, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::devfs::XorShiftRandom;
    use crate::fs::inode::FileType;
    use alloc::vec::Vec;
    use syscall_abi::Errno;

    struct Sink(Mutex<Vec<u8>>);
    impl Console for Sink {
        fn write(&self, bytes: &[u8]) {
            self.0.lock().extend_from_slice(bytes);
        }
    }

    fn archive() -> Vec<u8> {
        let mut a = Vec::new();
        for (name, mode, data) in [(&b"init"[..], 0o100755u32, &b"\x7fELF"[..]), (b"TRAILER!!!", 0, b"")] {
            let hdr = alloc::format!(
                "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                1,
                mode,
                0,
                0,
                1,
                0,
                data.len(),
                0,
                0,
                0,
                0,
                name.len() + 1,
                0
            );
            a.extend_from_slice(hdr.as_bytes());
            a.extend_from_slice(name);
            a.push(0);
            a.resize(a.len().next_multiple_of(4), 0);
            a.extend_from_slice(data);
            a.resize(a.len().next_multiple_of(4), 0);
        }
        a
    }

    #[test]
    fn boots_a_tree_with_console_fds() {
        let sink = Arc::new(Sink(Mutex::new(Vec::new())));
        let (vfs, _tty, stats) = init_rootfs(
            alloc::boxed::Box::leak(archive().into_boxed_slice()),
            sink.clone(),
            Arc::new(XorShiftRandom::new(3)),
        )
        .unwrap();
        assert_eq!(stats.entries, 1);
        let root = vfs.root();
        let init = vfs.resolve(&root, b"/init", true).unwrap();
        assert_eq!(init.inode.metadata().mode, 0o100755);
        assert_eq!(vfs.resolve(&root, b"/tmp", true).unwrap().inode.metadata().mode, 0o041777);
        assert_eq!(vfs.resolve(&root, b"/dev/null", true).unwrap().inode.file_type(), FileType::CharDevice);
        let fs = Mutex::new(FsContext::new(&vfs));
        let files = Mutex::new(FdTable::new());
        open_console_fds(&files, &fs, &vfs).unwrap();
        let out = files.lock().get(1).unwrap();
        assert_eq!(out.path, "/dev/console");
        out.ops.write(&out, b"hello").unwrap();
        assert_eq!(&*sink.0.lock(), b"hello");
        assert_eq!(files.lock().iter().count(), 3);
        let bad = init_rootfs(b"garbage", sink, Arc::new(XorShiftRandom::new(3)));
        assert!(matches!(bad, Err(Errno::EINVAL)));
    }
}
