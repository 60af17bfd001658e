//! sysfs: `/sys`, a tree of generated attribute files (see [`super::procfs::node`]).
//!
//! At creation: `devices/system/cpu/{possible, online, present}` (`0` for one CPU, `0-N`
//! otherwise, with a newline), `cpuN/` directories, and the (empty) directories `kernel/`,
//! `fs/`, `bus/event_source/devices/`, plus the mount points `fs/bpf`, `kernel/tracing`,
//! `kernel/debug/tracing` over which the kernel mounts bpffs and tracefs. Subsystems add
//! their files later ([`SysFs::add_file`], e.g. the perf-event work's
//! `bus/event_source/devices/kprobe/type`).
//!
//! Mounting (kcore, at boot): `vfs.mount(b"/sys", sysfs.root())`, then the other
//! filesystems on the mount points. Attributes are read-only (`EACCES` for writing) and
//! `stat` reports 4096 bytes like Linux's sysfs.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;

use super::inode::Inode;
use super::procfs::node::{Generator, StaticDir};
use crate::KResult;

/// sysfs's device number (`0:21`).
pub const SYSFS_DEV: u64 = 21;
/// `st_size` of a sysfs attribute.
pub const ATTR_SIZE: u64 = 4096;

/// Directories created empty (mount points and places for later files).
pub const MOUNT_POINTS: &[&str] = &["fs/bpf", "kernel/tracing", "kernel/debug/tracing", "bus/event_source/devices"];

/// A sysfs instance.
pub struct SysFs {
    root: Arc<StaticDir>,
}

/// Linux's CPU list text for CPUs `0..n` (`0`, `0-3`), with the newline.
pub fn cpu_list(n: usize) -> String {
    if n <= 1 {
        String::from("0\n")
    } else {
        format!("0-{}\n", n - 1)
    }
}

impl SysFs {
    /// sysfs for a machine with `cpus` CPUs, to mount at `/sys`.
    pub fn new(cpus: usize) -> SysFs {
        let root = StaticDir::new(SYSFS_DEV, "/sys", 0o555);
        let fs = SysFs { root };
        let list = cpu_list(cpus);
        for f in ["possible", "online", "present"] {
            // Fresh tree: these cannot exist yet.
            let _ = fs.add_text(&format!("devices/system/cpu/{f}"), &list);
        }
        for i in 0..cpus.max(1) {
            let _ = fs.add_dir(&format!("devices/system/cpu/cpu{i}"));
        }
        for d in MOUNT_POINTS {
            let _ = fs.add_dir(d);
        }
        fs
    }

    /// The root directory, to mount.
    pub fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    /// Adds a generated read-only attribute at `path` below `/sys` (e.g.
    /// `bus/event_source/devices/kprobe/type`), creating directories on the way (`EEXIST`
    /// if present, `ENOTDIR` if a component is a file).
    pub fn add_file(&self, path: &str, gen: Generator) -> KResult<()> {
        self.root.add_file(path, 0o444, ATTR_SIZE, gen)
    }

    /// Adds a fixed-content attribute.
    pub fn add_text(&self, path: &str, text: &str) -> KResult<()> {
        self.root.add_text(path, 0o444, ATTR_SIZE, text)
    }

    /// Creates the directory `path` (and its parents); an existing one is fine.
    pub fn add_dir(&self, path: &str) -> KResult<()> {
        self.root.dir_at(path).map(|_| ())
    }

    /// Adds any inode at `path` (a subsystem's own file type).
    pub fn add_inode(&self, path: &str, inode: Arc<dyn Inode>) -> KResult<()> {
        self.root.add_inode(path, inode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::inode::FileType;
    use alloc::vec::Vec;
    use syscall_abi::Errno;

    fn walk(fs: &SysFs, path: &str) -> KResult<Arc<dyn Inode>> {
        let mut cur = fs.root();
        for c in path.split('/').filter(|c| !c.is_empty()) {
            cur = cur.lookup(c.as_bytes())?;
        }
        Ok(cur)
    }

    fn read(fs: &SysFs, path: &str) -> KResult<String> {
        let f = walk(fs, path)?.open(0).expect("attributes open themselves")?;
        let mut b = [0u8; 64];
        let n = f.ops.read(&f, &mut b)?;
        Ok(String::from_utf8(b[..n].to_vec()).unwrap())
    }

    #[test]
    fn cpu_lists() {
        let one = SysFs::new(1);
        for f in ["possible", "online", "present"] {
            assert_eq!(read(&one, &format!("devices/system/cpu/{f}")).unwrap(), "0\n");
        }
        let four = SysFs::new(4);
        assert_eq!(read(&four, "devices/system/cpu/online").unwrap(), "0-3\n");
        assert_eq!(read(&four, "devices/system/cpu/possible").unwrap(), "0-3\n");
        assert!(walk(&four, "devices/system/cpu/cpu3").is_ok_and(|d| d.file_type() == FileType::Directory));
        assert_eq!(walk(&four, "devices/system/cpu/cpu4").err(), Some(Errno::ENOENT));
        let st = walk(&four, "devices/system/cpu/online").unwrap().metadata();
        assert_eq!((st.mode, st.size, st.dev), (0o100444, 4096, SYSFS_DEV));
    }

    #[test]
    fn mount_points_are_empty_dirs() {
        let fs = SysFs::new(1);
        for d in MOUNT_POINTS.iter().chain(&["kernel", "fs", "kernel/debug", "bus/event_source"]) {
            let i = walk(&fs, d).unwrap();
            assert_eq!(i.file_type(), FileType::Directory, "{d}");
        }
        for d in MOUNT_POINTS {
            assert_eq!(walk(&fs, d).unwrap().readdir(), Ok(Vec::new()), "{d}");
        }
        let names: Vec<_> = fs.root().readdir().unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, [b"bus".to_vec(), b"devices".to_vec(), b"fs".to_vec(), b"kernel".to_vec()]);
    }

    #[test]
    fn subsystems_add_files() {
        let fs = SysFs::new(1);
        fs.add_text("bus/event_source/devices/kprobe/type", "6\n").unwrap();
        assert_eq!(read(&fs, "bus/event_source/devices/kprobe/type").unwrap(), "6\n");
        assert_eq!(fs.add_text("bus/event_source/devices/kprobe/type", "7\n"), Err(Errno::EEXIST));
        assert_eq!(fs.add_text("devices/system/cpu/online/x", "7\n"), Err(Errno::ENOTDIR));
        fs.add_dir("kernel/tracing").unwrap();
        let counter = Arc::new(core::sync::atomic::AtomicU32::new(0));
        let c = counter.clone();
        fs.add_file(
            "kernel/gen",
            Arc::new(move || Ok(format!("{}\n", c.fetch_add(1, core::sync::atomic::Ordering::SeqCst)).into_bytes())),
        )
        .unwrap();
        assert_eq!(read(&fs, "kernel/gen").unwrap(), "0\n");
        assert_eq!(read(&fs, "kernel/gen").unwrap(), "1\n");
        let a = walk(&fs, "kernel/gen").unwrap();
        assert_eq!(a.clone().open(1).unwrap().err(), Some(Errno::EACCES));
        assert_eq!(a.open(0).unwrap().unwrap().path, "/sys/kernel/gen");
        assert_eq!(walk(&fs, "kernel").unwrap().create(b"x", FileType::Regular, 0o644).err(), Some(Errno::EACCES));
    }
}
