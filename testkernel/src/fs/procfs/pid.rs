//! `/proc/<pid>/`: a process's directory, generated from [`ProcSource`] at lookup time.
//!
//! Entries: `exe`, `cwd`, `root` (symlinks), `fd/` (magic symlinks named by fd number whose
//! target is the open file's path), `fdinfo/` (`pos`, `flags` in octal with `O_CLOEXEC`
//! added for close-on-exec fds, `mnt_id`, `ino`, then the file's own lines), `task/` (one
//! directory per thread, showing the process's files), `maps`, `cmdline`, `environ`,
//! `comm`, `status`, `stat`, `statm`, `mounts`. A file generated for a process that has
//! exited fails with `ESRCH`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use alloc::{format, vec};
use core::any::Any;

use syscall_abi::Errno;

use super::node::{join, meta, path_ino, GenFile, GenLink, Generator};
use super::source::ProcSource;
use super::text;
use crate::fs::file::O_ACCMODE;
use crate::fs::inode::{DirEntry, FileType, Inode, Metadata};
use crate::KResult;

/// `O_CLOEXEC`, shown in `fdinfo` flags for close-on-exec fds.
const O_CLOEXEC: u32 = 0o2000000;

/// Parses a canonical decimal number (no sign, no leading zero; Linux `name_to_int`).
pub fn parse_num(name: &[u8]) -> Option<u32> {
    if name.is_empty() || (name[0] == b'0' && name.len() > 1) || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(name).ok()?.parse().ok()
}

/// Shared context of every inode below `/proc/<pid>`.
#[derive(Clone)]
pub struct PidCtx {
    /// The kernel.
    pub src: Arc<dyn ProcSource>,
    /// The process.
    pub pid: u32,
    /// procfs device number.
    pub dev: u64,
    /// The directory's absolute path (`/proc/<pid>` or `/proc/<pid>/task/<tid>`).
    pub base: String,
}

impl PidCtx {
    fn owner(&self) -> (u32, u32) {
        self.src.process(self.pid).map_or((0, 0), |p| (p.uid, p.gid))
    }

    fn path(&self, name: &str) -> String {
        join(&self.base, name)
    }

    fn file(
        &self,
        name: &str,
        perm: u32,
        make: impl Fn(&PidCtx) -> KResult<Vec<u8>> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        let ctx = self.clone();
        let gen: Generator = Arc::new(move || make(&ctx));
        GenFile::new(self.dev, &self.path(name), perm, 0, self.owner(), gen)
    }

    fn link(&self, name: &str, target: impl Fn(&PidCtx) -> KResult<Vec<u8>> + Send + Sync + 'static) -> Arc<dyn Inode> {
        let ctx = self.clone();
        GenLink::new(self.dev, &self.path(name), 0o777, self.owner(), Arc::new(move || target(&ctx)))
    }
}

fn info(ctx: &PidCtx) -> KResult<super::source::ProcessInfo> {
    ctx.src.process(ctx.pid).ok_or(Errno::ESRCH)
}

/// The names in a pid directory with their types.
const ENTRIES: &[(&str, FileType)] = &[
    ("cmdline", FileType::Regular),
    ("comm", FileType::Regular),
    ("cwd", FileType::Symlink),
    ("environ", FileType::Regular),
    ("exe", FileType::Symlink),
    ("fd", FileType::Directory),
    ("fdinfo", FileType::Directory),
    ("maps", FileType::Regular),
    ("mounts", FileType::Regular),
    ("root", FileType::Symlink),
    ("stat", FileType::Regular),
    ("statm", FileType::Regular),
    ("status", FileType::Regular),
    ("task", FileType::Directory),
];

/// `/proc/<pid>` (and `/proc/<pid>/task/<tid>`).
pub struct PidDir {
    ctx: PidCtx,
    with_task: bool,
}

impl PidDir {
    /// The directory of process `ctx.pid`; `with_task`: it has a `task/` subdirectory.
    pub fn new(ctx: PidCtx, with_task: bool) -> Arc<PidDir> {
        Arc::new(PidDir { ctx, with_task })
    }
}

impl Inode for PidDir {
    fn metadata(&self) -> Metadata {
        meta(self.ctx.dev, &self.ctx.base, FileType::Directory, 0o555, self.ctx.owner(), 0)
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let c = &self.ctx;
        info(c).map_err(|_| Errno::ENOENT)?;
        Ok(match name {
            b"cmdline" => c.file("cmdline", 0o444, |c| Ok(text::nul_joined(&info(c)?.argv))),
            b"environ" => c.file("environ", 0o400, |c| Ok(text::nul_joined(&info(c)?.envp))),
            b"comm" => c.file("comm", 0o644, |c| Ok(format!("{}\n", text::comm(&info(c)?)).into_bytes())),
            b"status" => c.file("status", 0o444, |c| {
                let p = info(c)?;
                let fd_size = c.src.files(c.pid).map_or(0, |f| f.lock().iter().last().map_or(0, |(fd, _)| fd + 1));
                let fd_size = usize::try_from(fd_size).unwrap_or(0).max(64).next_power_of_two();
                Ok(text::status(&p, fd_size, c.src.cpus().len()).into_bytes())
            }),
            b"stat" => c.file("stat", 0o444, |c| Ok(text::stat(&info(c)?).into_bytes())),
            b"statm" => c.file("statm", 0o444, |c| Ok(text::statm(&info(c)?).into_bytes())),
            b"maps" => c.file("maps", 0o444, |c| c.src.maps(c.pid).map(String::into_bytes).ok_or(Errno::ESRCH)),
            b"mounts" => c.file("mounts", 0o444, |c| Ok(text::mounts(&c.src.mounts()).into_bytes())),
            b"exe" => c.link("exe", |c| info(c)?.exe.ok_or(Errno::ENOENT)),
            b"cwd" => c.link("cwd", |c| Ok(info(c)?.cwd)),
            b"root" => c.link("root", |c| {
                let r = info(c)?.root;
                Ok(if r.is_empty() { b"/".to_vec() } else { r })
            }),
            b"fd" => Arc::new(FdDir { ctx: PidCtx { base: c.path("fd"), ..c.clone() }, info: false }),
            b"fdinfo" => Arc::new(FdDir { ctx: PidCtx { base: c.path("fdinfo"), ..c.clone() }, info: true }),
            b"task" if self.with_task => Arc::new(TaskDir { ctx: PidCtx { base: c.path("task"), ..c.clone() } }),
            _ => return Err(Errno::ENOENT),
        })
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(ENTRIES
            .iter()
            .filter(|(n, _)| self.with_task || *n != "task")
            .map(|(n, k)| DirEntry { ino: path_ino(&self.ctx.path(n)), kind: *k, name: n.as_bytes().to_vec() })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `fd/` (magic links) or `fdinfo/` (generated files).
struct FdDir {
    ctx: PidCtx,
    info: bool,
}

impl FdDir {
    fn fds(&self) -> KResult<Vec<i32>> {
        let files = self.ctx.src.files(self.ctx.pid).ok_or(Errno::ENOENT)?;
        let fds = files.lock().iter().map(|(fd, _)| fd).collect();
        Ok(fds)
    }
}

/// The permission bits of an fd link: `r`/`w` for the access mode, plus `x` (Linux
/// `proc_fd_link` inode mode).
fn link_perm(flags: u32) -> u32 {
    match flags & O_ACCMODE {
        0 => 0o500,
        1 => 0o300,
        _ => 0o700,
    }
}

impl Inode for FdDir {
    fn metadata(&self) -> Metadata {
        meta(
            self.ctx.dev,
            &self.ctx.base,
            FileType::Directory,
            if self.info { 0o555 } else { 0o500 },
            self.ctx.owner(),
            0,
        )
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let fd = parse_num(name).and_then(|n| i32::try_from(n).ok()).ok_or(Errno::ENOENT)?;
        let files = self.ctx.src.files(self.ctx.pid).ok_or(Errno::ENOENT)?;
        let (file, cloexec) = {
            let t = files.lock();
            (t.get(fd).map_err(|_| Errno::ENOENT)?, t.cloexec(fd).unwrap_or(false))
        };
        let path = self.ctx.path(&format!("{fd}"));
        let owner = self.ctx.owner();
        if !self.info {
            return Ok(GenLink::magic(self.ctx.dev, &path, link_perm(file.flags()), owner, file));
        }
        let src = self.ctx.src.clone();
        let gen: Generator = Arc::new(move || {
            let flags = file.flags() | if cloexec { O_CLOEXEC } else { 0 };
            let ino = file.ops.stat().map_or(0, |m| m.ino);
            let pos = *file.pos.lock();
            Ok(text::fdinfo(pos, flags, src.mount_id(&file.path), ino, &file.ops.fdinfo()).into_bytes())
        });
        Ok(GenFile::new(self.ctx.dev, &path, 0o444, 0, owner, gen))
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        let kind = if self.info { FileType::Regular } else { FileType::Symlink };
        Ok(self
            .fds()?
            .into_iter()
            .map(|fd| {
                let name = format!("{fd}");
                DirEntry { ino: path_ino(&self.ctx.path(&name)), kind, name: name.into_bytes() }
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `task/`: one directory per thread.
struct TaskDir {
    ctx: PidCtx,
}

impl TaskDir {
    fn tids(&self) -> KResult<Vec<u32>> {
        let p = info(&self.ctx).map_err(|_| Errno::ENOENT)?;
        Ok(if p.tids.is_empty() { vec![p.pid] } else { p.tids })
    }
}

impl Inode for TaskDir {
    fn metadata(&self) -> Metadata {
        meta(self.ctx.dev, &self.ctx.base, FileType::Directory, 0o555, self.ctx.owner(), 0)
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let tid = parse_num(name).ok_or(Errno::ENOENT)?;
        if !self.tids()?.contains(&tid) {
            return Err(Errno::ENOENT);
        }
        Ok(PidDir::new(PidCtx { base: self.ctx.path(&format!("{tid}")), ..self.ctx.clone() }, false))
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(self
            .tids()?
            .into_iter()
            .map(|t| {
                let name = format!("{t}");
                DirEntry { ino: path_ino(&self.ctx.path(&name)), kind: FileType::Directory, name: name.into_bytes() }
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
