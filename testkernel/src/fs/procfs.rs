//! procfs: `/proc`, generated from the kernel's process table through [`ProcSource`].
//!
//! Mounting (kcore, at boot):
//! ```ignore
//! let proc = Arc::new(ProcFs::new(Arc::new(KernelProcSource)));
//! vfs.mount(b"/proc", proc.root())?;
//! proc.add_file("kallsyms", Arc::new(|| Ok(symbols_text())))?; // later additions
//! ```
//! Every file is generated when opened (the open file reads that snapshot, with offsets
//! and `lseek`) — or, through `Inode::read_at`, at each read. Files are read-only: opening
//! one for writing is `EACCES`.
//!
//! Contents: `self` (symlink to the caller's pid), `<pid>/` (see [`pid`]), `cpuinfo`,
//! `meminfo`, `uptime`, `version`, `mounts`, `filesystems`, `loadavg`, `stat`, and
//! `sys/kernel/{osrelease, ostype, hostname, version, pid_max, perf_event_paranoid,
//! unprivileged_bpf_disabled, kptr_restrict, randomize_va_space, bpf_stats_enabled}`,
//! `sys/net/core/{bpf_jit_enable, bpf_jit_harden, bpf_jit_kallsyms, bpf_jit_limit}`,
//! `sys/fs/pipe-max-size`.
//!
//! Chosen values: `perf_event_paranoid` is 2 (Linux's default; processes here run as root,
//! which it does not restrict), `unprivileged_bpf_disabled` 2 (Linux's default since 5.16 with
//! `BPF_UNPRIV_DEFAULT_OFF`), `kptr_restrict` 0, `bpf_jit_enable` 0 (programs are
//! interpreted; the other JIT knobs 0 and Linux's x86_64 default limit), `randomize_va_space`
//! 0 (no ASLR), `pid_max` 32768 (Linux's default below 32 CPUs).
//!
//! `/proc/<pid>/fd/N` are "magic" links: their text is the open file's path (`pipe:[5]`,
//! `anon_inode:[eventfd]`), which may resolve nowhere; the VFS opens
//! [`magic_link_target`] instead of following such a link, as Linux does.

pub mod kallsyms;
pub mod node;
pub mod pid;
pub mod source;
pub mod text;
pub mod version;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use syscall_abi::Errno;

use self::node::{meta, GenLink, Generator, StaticDir};
use self::pid::{parse_num, PidCtx, PidDir};
pub use self::source::{CpuInfo, MemInfo, MountEntry, ProcSource, ProcessInfo};
pub use self::version::KERNEL_RELEASE;
use super::file::OpenFile;
use super::inode::{DirEntry, FileType, Inode, Metadata};
use crate::KResult;

/// procfs's device number (`0:20`, an unnamed device).
pub const PROCFS_DEV: u64 = 20;
/// `/proc/sys/kernel/perf_event_paranoid`.
pub const PERF_EVENT_PARANOID: i32 = 2;
/// `/proc/sys/kernel/pid_max`.
pub const PID_MAX: u32 = 32768;

/// A procfs instance.
pub struct ProcFs {
    root: Arc<ProcRoot>,
}

struct ProcRoot {
    src: Arc<dyn ProcSource>,
    statics: Arc<StaticDir>,
}

impl ProcFs {
    /// procfs for mounting at `/proc`.
    pub fn new(src: Arc<dyn ProcSource>) -> ProcFs {
        Self::with_mount_point(src, "/proc")
    }

    /// procfs for mounting at `at` (the paths open files report are below it).
    pub fn with_mount_point(src: Arc<dyn ProcSource>, at: &str) -> ProcFs {
        let statics = StaticDir::new(PROCFS_DEV, at, 0o555);
        let root = Arc::new(ProcRoot { src, statics });
        let fs = ProcFs { root };
        fs.populate();
        fs
    }

    /// The root directory, to mount.
    pub fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    /// Adds a generated read-only file at `path` below the root (`kallsyms`,
    /// `sys/kernel/foo`), creating directories on the way (`EEXIST` if present).
    pub fn add_file(&self, path: &str, gen: Generator) -> KResult<()> {
        self.root.statics.add_file(path, 0o444, 0, gen)
    }

    /// Adds any inode at `path` below the root.
    pub fn add_inode(&self, path: &str, inode: Arc<dyn Inode>) -> KResult<()> {
        self.root.statics.add_inode(path, inode)
    }

    fn gen(&self, path: &str, f: impl Fn(&dyn ProcSource) -> String + Send + Sync + 'static) {
        let src = self.root.src.clone();
        // Each path is added once to a fresh tree: EEXIST cannot happen.
        let _ = self.add_file(path, Arc::new(move || Ok(f(&*src).into_bytes())));
    }

    fn fixed(&self, path: &str, text: &str) {
        let _ = self.root.statics.add_text(path, 0o444, 0, text);
    }

    fn populate(&self) {
        use self::version::{proc_version, KERNEL_VERSION, OS_TYPE};
        self.gen("cpuinfo", |s| text::cpuinfo(&s.cpus()));
        self.gen("meminfo", |s| text::meminfo(&s.meminfo()));
        self.gen("uptime", |s| text::uptime(crate::time::monotonic_ns(), s.idle_ns()));
        self.gen("version", |_| proc_version());
        self.gen("mounts", |s| text::mounts(&s.mounts()));
        self.gen("filesystems", |s| text::filesystems(&s.filesystems()));
        self.gen("loadavg", |s| {
            let pids = s.pids();
            text::loadavg(pids.len(), pids.last().copied().unwrap_or(0))
        });
        self.gen("stat", |s| {
            let up = crate::time::monotonic_ns();
            let boot = crate::time::realtime_ns().saturating_sub(up) / 1_000_000_000;
            text::global_stat(s.cpus().len(), up, boot, s.pids().len())
        });
        self.gen("sys/kernel/hostname", |s| format!("{}\n", s.hostname()));
        self.fixed("sys/kernel/osrelease", &format!("{KERNEL_RELEASE}\n"));
        self.fixed("sys/kernel/ostype", &format!("{OS_TYPE}\n"));
        self.fixed("sys/kernel/version", &format!("{KERNEL_VERSION}\n"));
        self.fixed("sys/kernel/pid_max", &format!("{PID_MAX}\n"));
        self.fixed("sys/kernel/perf_event_paranoid", &format!("{PERF_EVENT_PARANOID}\n"));
        self.fixed("sys/kernel/unprivileged_bpf_disabled", "2\n");
        self.fixed("sys/kernel/kptr_restrict", "0\n");
        self.fixed("sys/kernel/randomize_va_space", "0\n");
        self.fixed("sys/kernel/bpf_stats_enabled", "0\n");
        self.fixed("sys/net/core/bpf_jit_enable", "0\n");
        self.fixed("sys/net/core/bpf_jit_harden", "0\n");
        self.fixed("sys/net/core/bpf_jit_kallsyms", "0\n");
        self.fixed("sys/net/core/bpf_jit_limit", "264241152\n");
        self.fixed("sys/fs/pipe-max-size", &format!("{}\n", super::pipe::PIPE_MAX_SIZE));
    }
}

/// The open file a procfs magic link (`/proc/<pid>/fd/N`) stands for: opening the link
/// opens this very description (Linux `proc_fd_link`), rather than resolving its text.
pub fn magic_link_target(inode: &dyn Inode) -> Option<Arc<OpenFile>> {
    inode.as_any().downcast_ref::<GenLink>()?.magic_file().cloned()
}

impl ProcRoot {
    fn pid_dir(&self, pid: u32) -> Arc<PidDir> {
        let base = node::join(self.statics.path(), &format!("{pid}"));
        PidDir::new(PidCtx { src: self.src.clone(), pid, dev: PROCFS_DEV, base }, true)
    }
}

impl Inode for ProcRoot {
    fn metadata(&self) -> Metadata {
        let mut m = meta(PROCFS_DEV, self.statics.path(), FileType::Directory, 0o555, (0, 0), 0);
        m.ino = 1;
        m
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if name == b"self" {
            let src = self.src.clone();
            let path = node::join(self.statics.path(), "self");
            return Ok(GenLink::new(
                PROCFS_DEV,
                &path,
                0o777,
                (0, 0),
                Arc::new(move || Ok(format!("{}", src.current_pid()).into_bytes())),
            ));
        }
        if let Some(pid) = parse_num(name) {
            return match self.src.process(pid) {
                Some(_) => Ok(self.pid_dir(pid)),
                None => Err(Errno::ENOENT),
            };
        }
        self.statics.lookup(name)
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        let mut out = self.statics.entries();
        out.push(DirEntry {
            ino: node::path_ino(&node::join(self.statics.path(), "self")),
            kind: FileType::Symlink,
            name: b"self".to_vec(),
        });
        for pid in self.src.pids() {
            let d = self.pid_dir(pid);
            out.push(DirEntry {
                ino: d.metadata().ino,
                kind: FileType::Directory,
                name: format!("{pid}").into_bytes(),
            });
        }
        Ok(out)
    }

    fn create(&self, _name: &[u8], _kind: FileType, _mode: u32) -> KResult<Arc<dyn Inode>> {
        Err(Errno::EACCES)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
#[path = "procfs/tests.rs"]
mod tests;
